//! A minimal MLP (784 → hidden → 10, ReLU, softmax cross-entropy, plain SGD) written straight on
//! `matrixmultiply`, for the measurements in this crate's examples: a lower bound on what one
//! training epoch of a real framework costs, and a check that synthetic digits are learnable.

use datasets::DataLoader;
use rand::Rng;

/// `C = α·op(A)·op(B) + β·C`, row-major; `ta`/`tb` read A/B transposed (through strides).
#[allow(clippy::too_many_arguments)]
fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    ta: bool,
    b: &[f32],
    tb: bool,
    beta: f32,
    c: &mut [f32],
) {
    let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
    let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    // SAFETY: the slices hold at least m·k, k·n and m·n elements, addressed by these strides.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    }
}

/// Weights and the scratch buffers of one batch.
pub struct Mlp {
    inputs: usize,
    hidden: usize,
    classes: usize,
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
}

impl Mlp {
    /// PyTorch-style uniform(±1/√fan_in) initialisation.
    pub fn new(inputs: usize, hidden: usize, classes: usize, seed: u64) -> Mlp {
        let mut rng = tensor::rng(seed);
        let mut init = |n: usize, fan_in: usize| -> Vec<f32> {
            let a = 1.0 / (fan_in as f32).sqrt();
            (0..n).map(|_| rng.random_range(-a..a)).collect()
        };
        Mlp {
            inputs,
            hidden,
            classes,
            w1: init(inputs * hidden, inputs),
            b1: init(hidden, inputs),
            w2: init(hidden * classes, hidden),
            b2: init(classes, hidden),
        }
    }

    /// Hidden activations and class probabilities for a batch of `b` rows.
    fn forward(&self, x: &[f32], b: usize) -> (Vec<f32>, Vec<f32>) {
        let (h, c) = (self.hidden, self.classes);
        let mut hid = self.b1.repeat(b);
        gemm(b, self.inputs, h, x, false, &self.w1, false, 1.0, &mut hid);
        hid.iter_mut().for_each(|v| *v = v.max(0.0));
        let mut z = self.b2.repeat(b);
        gemm(b, h, c, &hid, false, &self.w2, false, 1.0, &mut z);
        for row in z.chunks_exact_mut(c) {
            let m = row.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v));
            let s: f32 = row
                .iter_mut()
                .map(|v| {
                    *v = (*v - m).exp();
                    *v
                })
                .sum();
            row.iter_mut().for_each(|v| *v /= s);
        }
        (hid, z)
    }

    /// One SGD step on a batch; returns the mean cross-entropy.
    pub fn step(&mut self, x: &[f32], y: &[f32], lr: f32) -> f32 {
        let b = y.len();
        let (h, c) = (self.hidden, self.classes);
        let (hid, mut p) = self.forward(x, b);
        let mut loss = 0.0;
        for (row, &label) in p.chunks_exact_mut(c).zip(y) {
            let l = label as usize;
            loss -= row[l].max(1e-12).ln();
            row[l] -= 1.0;
            row.iter_mut().for_each(|v| *v /= b as f32);
        }
        // dW2 = Aᵀ·dZ, db2 = Σ dZ, dA = dZ·W2ᵀ masked by ReLU, dW1 = Xᵀ·dH, db1 = Σ dH
        let mut dw2 = vec![0.0; h * c];
        gemm(h, b, c, &hid, true, &p, false, 0.0, &mut dw2);
        let mut dh = vec![0.0; b * h];
        gemm(b, c, h, &p, false, &self.w2, true, 0.0, &mut dh);
        dh.iter_mut().zip(&hid).for_each(|(d, &a)| {
            if a <= 0.0 {
                *d = 0.0
            }
        });
        let mut dw1 = vec![0.0; self.inputs * h];
        gemm(self.inputs, b, h, x, true, &dh, false, 0.0, &mut dw1);
        for row in p.chunks_exact(c) {
            self.b2.iter_mut().zip(row).for_each(|(w, g)| *w -= lr * g);
        }
        for row in dh.chunks_exact(h) {
            self.b1.iter_mut().zip(row).for_each(|(w, g)| *w -= lr * g);
        }
        self.w2.iter_mut().zip(&dw2).for_each(|(w, g)| *w -= lr * g);
        self.w1.iter_mut().zip(&dw1).for_each(|(w, g)| *w -= lr * g);
        loss / b as f32
    }

    /// Fraction of the loader's images classified correctly.
    pub fn accuracy(&self, loader: &DataLoader) -> f32 {
        let (mut right, mut total) = (0, 0);
        for (x, y) in loader.epoch(0) {
            let (_, p) = self.forward(x.data(), y.numel());
            for (row, &label) in p.chunks_exact(self.classes).zip(y.data()) {
                let best = (0..self.classes)
                    .max_by(|&i, &j| row[i].total_cmp(&row[j]))
                    .unwrap_or(0);
                right += usize::from(best == label as usize);
                total += 1;
            }
        }
        right as f32 / total.max(1) as f32
    }
}
