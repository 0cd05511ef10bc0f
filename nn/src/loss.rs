//! Loss functions, with PyTorch's definitions and `reduction` argument.
//!
//! | loss | per element / row | backward |
//! | --- | --- | --- |
//! | [`cross_entropy`] | ℓᵢ = logΣⱼ e^{xᵢⱼ} − Σⱼ qᵢⱼ·xᵢⱼ, q = (1−ε)·onehot(tᵢ) + ε/C | ∂ℓᵢ/∂xᵢⱼ = softmax(xᵢ)ⱼ − qᵢⱼ (one fused op) |
//! | [`nll_loss`] | ℓᵢ = −xᵢ,ₜᵢ (x are log-probabilities) | composed from `gather` |
//! | [`mse_loss`] | ℓᵢ = (xᵢ − yᵢ)² | composed |
//! | [`binary_cross_entropy_with_logits`] | ℓᵢ = max(xᵢ, 0) − xᵢ·yᵢ + ln(1 + e^{−\|xᵢ\|}) | ∂ℓ/∂x = σ(x) − y (one fused op) |
//!
//! Class targets are a [`Tensor`] of whole-number `f32` class indices, shape `[N]`.

#[cfg(target_arch = "x86_64")]
use autograd::Isa;
use autograd::{Function, Var};

use crate::activation::scalar;
use tensor::{shape_panic, Tensor};

/// How per-sample losses are combined (PyTorch's `reduction=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// The mean over all elements (PyTorch's default). The mean of nothing is NaN, as in PyTorch.
    #[default]
    Mean,
    /// The sum over all elements.
    Sum,
    /// No reduction: one loss per sample (per element for elementwise losses).
    None,
}

impl Reduction {
    /// Applies the reduction to a `Var` of per-element losses.
    fn apply(self, losses: &Var) -> Var {
        match self {
            Reduction::Mean => losses.mean_all(),
            Reduction::Sum => losses.sum_all(),
            Reduction::None => losses.clone(),
        }
    }

    /// The reduced value of per-element losses `l`, and the weight each element's loss has in it.
    fn reduce_values(self, l: Vec<f32>, shape: &[usize]) -> (Tensor, f32) {
        let n = l.len();
        match self {
            Reduction::Mean => {
                let s: f32 = l.iter().sum();
                (Tensor::scalar(s / n as f32), 1.0 / n as f32)
            }
            Reduction::Sum => (Tensor::scalar(l.iter().sum()), 1.0),
            Reduction::None => (Tensor::from_vec(l, shape), 1.0),
        }
    }

    /// The upstream gradient of element `i`: `g · weight` for a reduced loss (g is a scalar),
    /// `gᵢ` for an unreduced one.
    fn upstream(self, grad: &Tensor, weight: f32, i: usize) -> f32 {
        match self {
            Reduction::None => grad.data()[i],
            _ => grad.data()[0] * weight,
        }
    }
}

/// Checks that `targets` holds `n` whole-number class indices below `classes` and returns them.
#[track_caller]
fn class_indices(op: &str, targets: &Tensor, n: usize, classes: usize) -> Vec<usize> {
    if targets.dims() != [n] {
        shape_panic(
            op,
            format_args!(
                "targets must have shape [{n}] (one class index per row of the input), got {:?}",
                targets.dims()
            ),
        );
    }
    targets
        .data()
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            if t < 0.0 || t.fract() != 0.0 || t as usize >= classes {
                shape_panic(
                    op,
                    format_args!("target {t} at row {i} is not a class index in 0..{classes}"),
                );
            }
            t as usize
        })
        .collect()
}

/// Cross-entropy of `logits` `[N, C]` against class indices `targets` `[N]`, averaged over
/// the batch: ℓ = (1/N)·Σᵢ (logΣⱼ e^{xᵢⱼ} − xᵢ,ₜᵢ). Same as `torch.nn.functional.cross_entropy`.
///
/// ```
/// use autograd::Var;
/// use nn::loss::cross_entropy;
/// use tensor::Tensor;
///
/// // two samples, three classes; the first is sure of class 2, the second unsure
/// let logits = Var::parameter(Tensor::from_vec(vec![0.0, 0.0, 10.0, 1.0, 1.0, 1.0], [2, 3]));
/// let targets = Tensor::from_vec(vec![2.0, 0.0], [2]);
/// let loss = cross_entropy(&logits, &targets);
/// assert!((loss.item() - (3f32.ln() + 9.1e-5) / 2.0).abs() < 1e-5);
/// loss.backward(); // ∂ℓ/∂x = (softmax − onehot)/N
/// assert!((logits.grad().unwrap().get(&[1, 0]) - (1.0 / 3.0 - 1.0) / 2.0).abs() < 1e-6);
/// ```
///
/// # Panics
/// If `logits` is not `[N, C]`, `targets` not `[N]`, or a target is not a class index.
#[track_caller]
pub fn cross_entropy(logits: &Var, targets: &Tensor) -> Var {
    cross_entropy_with(logits, targets, Reduction::Mean, 0.0)
}

/// Cross-entropy with a [`Reduction`] and label smoothing ε ∈ [0, 1]: the target distribution
/// is q = (1−ε)·onehot(t) + ε/C, so ℓᵢ = logΣⱼ e^{xᵢⱼ} − (1−ε)·xᵢ,ₜᵢ − (ε/C)·Σⱼ xᵢⱼ
/// (PyTorch's `label_smoothing=`).
///
/// Log-softmax and NLL are one fused op: the forward subtracts each row's max before
/// exponentiating (stable for any logits), the backward is `softmax − q` in one pass.
///
/// # Panics
/// As [`cross_entropy`], and if ε is outside [0, 1].
#[track_caller]
pub fn cross_entropy_with(
    logits: &Var,
    targets: &Tensor,
    reduction: Reduction,
    label_smoothing: f32,
) -> Var {
    let dims = logits.dims();
    if dims.len() != 2 {
        shape_panic(
            "cross_entropy",
            format_args!("logits must be [batch, classes], got {dims:?}"),
        );
    }
    if !(0.0..=1.0).contains(&label_smoothing) {
        shape_panic(
            "cross_entropy",
            format_args!("label_smoothing must be in [0, 1], got {label_smoothing}"),
        );
    }
    let targets = class_indices("cross_entropy", targets, dims[0], dims[1]);
    Var::apply(
        CrossEntropy {
            targets,
            reduction,
            smoothing: label_smoothing,
            probs: Tensor::zeros([0]),
            weight: 1.0,
        },
        &[logits],
    )
}

/// The fused log-softmax + NLL op behind [`cross_entropy_with`].
struct CrossEntropy {
    targets: Vec<usize>,
    reduction: Reduction,
    smoothing: f32,
    /// softmax of the logits, saved by forward for backward.
    probs: Tensor,
    /// Weight of each row's loss in the reduced value (1/N for the mean).
    weight: f32,
}

impl Function for CrossEntropy {
    fn name(&self) -> &'static str {
        "cross_entropy"
    }

    fn forward(&mut self, inputs: &[&Tensor]) -> Tensor {
        let x = inputs[0];
        let (n, c) = (x.dim(0), x.dim(1));
        let rows = || x.data().chunks_exact(c.max(1)).take(n);
        // xᵢⱼ − maxⱼ xᵢⱼ for all rows, then one pass of `exp` over the whole batch (a
        // vectorised loop; row by row it would be `c` calls at a time).
        let mut probs = Vec::with_capacity(n * c);
        let mut maxima = Vec::with_capacity(n);
        for row in rows() {
            let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            probs.extend(row.iter().map(|&v| v - max));
            maxima.push(max);
        }
        exp_in_place(&mut probs);
        let mut losses = Vec::with_capacity(n);
        let eps = self.smoothing;
        for (i, (row, p)) in rows().zip(probs.chunks_exact_mut(c.max(1))).enumerate() {
            let sum: f32 = p.iter().sum();
            for pj in p.iter_mut() {
                *pj /= sum;
            }
            let lse = maxima[i] + sum.ln();
            let t = self.targets[i];
            let mut l = lse - (1.0 - eps) * row[t];
            if eps > 0.0 {
                l -= eps / c as f32 * row.iter().sum::<f32>();
            }
            losses.push(l);
        }
        self.probs = Tensor::from_vec(probs, [n, c]);
        let (value, weight) = self.reduction.reduce_values(losses, &[n]);
        self.weight = weight;
        value
    }

    fn backward(&self, grad: &Tensor, _needs: &[bool]) -> Vec<Option<Tensor>> {
        let (n, c) = (self.probs.dim(0), self.probs.dim(1));
        let mut g = self.probs.clone();
        let off = self.smoothing / c as f32;
        let on = 1.0 - self.smoothing + off;
        for (i, row) in g.data_mut().chunks_exact_mut(c.max(1)).enumerate().take(n) {
            let up = self.reduction.upstream(grad, self.weight, i);
            let t = self.targets[i];
            for (j, v) in row.iter_mut().enumerate() {
                let q = if j == t { on } else { off };
                *v = (*v - q) * up;
            }
        }
        vec![Some(g)]
    }
}

/// `vᵢ ← e^vᵢ` with the activations' [`scalar::exp`] (a few ulp from `f32::exp`, and no
/// library call, so the loop is vectorised), compiled for the [`autograd::pointwise_isa`] of
/// this CPU like the activation kernels. Every copy gives the same bits: `mul_add` rounds
/// once with or without the FMA instruction.
fn exp_in_place(v: &mut [f32]) {
    #[inline(always)]
    fn body(v: &mut [f32]) {
        for x in v {
            *x = scalar::exp(*x);
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx2,fma")]
        unsafe fn avx512(v: &mut [f32]) {
            body(v)
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2(v: &mut [f32]) {
            body(v)
        }
        match autograd::pointwise_isa() {
            // SAFETY: `pointwise_isa` never exceeds what the CPU has.
            Isa::Avx512 => return unsafe { avx512(v) },
            // SAFETY: as above.
            Isa::Avx2 => return unsafe { avx2(v) },
            Isa::Baseline => {}
        }
    }
    body(v)
}

/// Negative log-likelihood of log-probabilities `log_probs` `[N, C]` (e.g. from
/// `log_softmax(1)`) for class indices `targets` `[N]`: ℓᵢ = −xᵢ,ₜᵢ.
/// Same as `torch.nn.functional.nll_loss`.
///
/// # Panics
/// If `log_probs` is not `[N, C]`, `targets` not `[N]`, or a target is not a class index.
#[track_caller]
pub fn nll_loss(log_probs: &Var, targets: &Tensor, reduction: Reduction) -> Var {
    let dims = log_probs.dims();
    if dims.len() != 2 {
        shape_panic(
            "nll_loss",
            format_args!("log_probs must be [batch, classes], got {dims:?}"),
        );
    }
    class_indices("nll_loss", targets, dims[0], dims[1]);
    let index = targets.reshape([dims[0], 1]);
    let picked = log_probs.gather(1, &index).reshape([dims[0]]);
    reduction.apply(&-&picked)
}

/// Mean squared error: ℓᵢ = (xᵢ − yᵢ)². Same as `torch.nn.functional.mse_loss`.
///
/// # Panics
/// If `input` and `target` differ in shape (PyTorch only warns, then broadcasts — usually a bug).
#[track_caller]
pub fn mse_loss(input: &Var, target: &Var, reduction: Reduction) -> Var {
    if input.shape() != target.shape() {
        shape_panic(
            "mse_loss",
            format_args!(
                "input and target shapes differ: {:?} vs {:?}",
                input.dims(),
                target.dims()
            ),
        );
    }
    let d = input - target;
    reduction.apply(&(&d * &d))
}

/// Binary cross-entropy on logits: ℓᵢ = −[yᵢ·ln σ(xᵢ) + (1 − yᵢ)·ln(1 − σ(xᵢ))], computed
/// stably as max(xᵢ, 0) − xᵢ·yᵢ + ln(1 + e^{−|xᵢ|}). Targets yᵢ ∈ [0, 1] (soft labels allowed).
/// Same as `torch.nn.functional.binary_cross_entropy_with_logits`.
///
/// Backward (one fused op): ∂ℓ/∂x = σ(x) − y, ∂ℓ/∂y = −x.
///
/// # Panics
/// If `logits` and `targets` differ in shape.
#[track_caller]
pub fn binary_cross_entropy_with_logits(logits: &Var, targets: &Var, reduction: Reduction) -> Var {
    if logits.shape() != targets.shape() {
        shape_panic(
            "binary_cross_entropy_with_logits",
            format_args!(
                "logits and targets shapes differ: {:?} vs {:?}",
                logits.dims(),
                targets.dims()
            ),
        );
    }
    Var::apply(
        BceWithLogits {
            reduction,
            x: Tensor::zeros([0]),
            y: Tensor::zeros([0]),
            weight: 1.0,
        },
        &[logits, targets],
    )
}

/// σ(x) without overflow for large |x|.
fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The fused op behind [`binary_cross_entropy_with_logits`].
struct BceWithLogits {
    reduction: Reduction,
    x: Tensor,
    y: Tensor,
    weight: f32,
}

impl Function for BceWithLogits {
    fn name(&self) -> &'static str {
        "binary_cross_entropy_with_logits"
    }

    fn forward(&mut self, inputs: &[&Tensor]) -> Tensor {
        let (x, y) = (inputs[0], inputs[1]);
        let losses: Vec<f32> = x
            .data()
            .iter()
            .zip(y.data())
            .map(|(&x, &y)| x.max(0.0) - x * y + (-x.abs()).exp().ln_1p())
            .collect();
        self.x = x.clone();
        self.y = y.clone();
        let (value, weight) = self.reduction.reduce_values(losses, x.dims());
        self.weight = weight;
        value
    }

    fn backward(&self, grad: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let (x, y) = (self.x.data(), self.y.data());
        let up = |i: usize| self.reduction.upstream(grad, self.weight, i);
        let gx = needs[0].then(|| {
            let v = (0..x.len())
                .map(|i| (sigmoid(x[i]) - y[i]) * up(i))
                .collect();
            Tensor::from_vec(v, self.x.shape())
        });
        let gy = needs[1].then(|| {
            let v = (0..x.len()).map(|i| -x[i] * up(i)).collect();
            Tensor::from_vec(v, self.x.shape())
        });
        vec![gx, gy]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::gradcheck;

    fn logits() -> Tensor {
        Tensor::from_vec(vec![1.0, 2.0, 3.0, 1.0, -1.0, 0.5], [2, 3])
    }

    #[test]
    fn cross_entropy_matches_pytorch() {
        // F.cross_entropy(torch.tensor([[1.,2,3],[1,-1,.5]]), torch.tensor([2,0]))
        //   = 0.4812815
        let x = Var::constant(logits());
        let t = Tensor::from_vec(vec![2.0, 0.0], [2]);
        assert!((cross_entropy(&x, &t).item() - 0.481_281_5).abs() < 1e-6);
        // reduction="sum" = 0.9625629; "none" = [0.4076059, 0.5549570]
        let s = cross_entropy_with(&x, &t, Reduction::Sum, 0.0).item();
        assert!((s - 0.962_562_9).abs() < 1e-6);
        let none = cross_entropy_with(&x, &t, Reduction::None, 0.0).value();
        assert!(none.allclose(
            &Tensor::from_vec(vec![0.407_605_9, 0.554_957], [2]),
            1e-6,
            1e-6
        ));
        // label_smoothing=0.1: 0.5729481
        let ls = cross_entropy_with(&x, &t, Reduction::Mean, 0.1).item();
        assert!((ls - 0.572_948_1).abs() < 1e-6, "{ls}");
    }

    #[test]
    fn exp_in_place_gives_the_same_bits_on_every_instruction_set() {
        use autograd::{set_pointwise_isa, Isa};
        // x − max ≤ 0 in the loss, but every range is checked: overflow, flushing, NaN.
        let mut xs: Vec<f32> = (0..1003)
            .map(|i| (i as f32 * 0.618).sin() * 100.0)
            .collect();
        xs.extend([0.0, -0.0, 88.8, -90.0, f32::NEG_INFINITY, f32::NAN]);
        let run = |isa: Isa| {
            set_pointwise_isa(Some(isa));
            let mut v = xs.clone();
            exp_in_place(&mut v);
            v
        };
        let base = run(Isa::Baseline);
        for isa in [Isa::Avx2, Isa::Avx512] {
            let v = run(isa);
            let same = v.iter().zip(&base).all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{isa:?} differs from the baseline");
        }
        set_pointwise_isa(None);
        for (&x, &e) in xs.iter().zip(&base) {
            assert_eq!(e.to_bits(), scalar::exp(x).to_bits(), "exp({x})");
        }
        assert_eq!(&base[1003..1007], &[1.0, 1.0, f32::INFINITY, 0.0]);
        assert_eq!(base[1007], 0.0);
        assert!(base[1008].is_nan());
    }

    #[test]
    fn cross_entropy_is_stable_for_huge_logits() {
        let x = Var::constant(Tensor::from_vec(vec![1000.0, 0.0, -1000.0], [1, 3]));
        let t = Tensor::from_vec(vec![1.0], [1]);
        let l = cross_entropy(&x, &t).item();
        assert!((l - 1000.0).abs() < 1e-3, "{l}");
    }

    #[test]
    fn cross_entropy_gradient_is_softmax_minus_onehot() {
        let x = Var::parameter(logits());
        let t = Tensor::from_vec(vec![2.0, 0.0], [2]);
        cross_entropy(&x, &t).backward();
        let p = logits().softmax(1);
        let mut expect = p.to_vec();
        expect[2] -= 1.0;
        expect[3] -= 1.0;
        let expect = Tensor::from_vec(expect.iter().map(|v| v / 2.0).collect(), [2, 3]);
        assert!(x.grad().unwrap().allclose(&expect, 1e-6, 1e-7));
    }

    #[test]
    fn cross_entropy_gradchecks_in_every_reduction() {
        let t = Tensor::from_vec(vec![2.0, 0.0], [2]);
        for (red, eps) in [
            (Reduction::Mean, 0.0),
            (Reduction::Sum, 0.2),
            (Reduction::None, 0.1),
        ] {
            gradcheck(
                |v| cross_entropy_with(&v[0], &t, red, eps),
                &[logits()],
                1e-2,
                1e-2,
            )
            .unwrap();
        }
    }

    #[test]
    #[should_panic(expected = "cross_entropy: target 3 at row 1 is not a class index in 0..3")]
    fn cross_entropy_rejects_bad_target() {
        let x = Var::constant(logits());
        cross_entropy(&x, &Tensor::from_vec(vec![0.0, 3.0], [2]));
    }

    #[test]
    #[should_panic(expected = "cross_entropy: targets must have shape [2]")]
    fn cross_entropy_rejects_wrong_target_count() {
        let x = Var::constant(logits());
        cross_entropy(&x, &Tensor::from_vec(vec![0.0], [1]));
    }

    #[test]
    fn nll_of_log_softmax_equals_cross_entropy() {
        let t = Tensor::from_vec(vec![2.0, 0.0], [2]);
        let x = Var::parameter(logits());
        let a = nll_loss(&x.log_softmax(1), &t, Reduction::Mean);
        assert!((a.item() - 0.481_281_5).abs() < 1e-6);
        let none = nll_loss(&x.log_softmax(1), &t, Reduction::None).value();
        assert_eq!(none.dims(), [2]);
        gradcheck(
            |v| nll_loss(&v[0], &t, Reduction::Sum),
            &[logits()],
            1e-2,
            1e-2,
        )
        .unwrap();
    }

    #[test]
    fn mse_values_and_gradient() {
        let a = Var::parameter(Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]));
        let b = Var::constant(Tensor::from_vec(vec![1.0, 0.0, 0.0], [3]));
        assert_eq!(mse_loss(&a, &b, Reduction::Mean).item(), 13.0 / 3.0);
        assert_eq!(mse_loss(&a, &b, Reduction::Sum).item(), 13.0);
        assert_eq!(
            mse_loss(&a, &b, Reduction::None).value().to_vec(),
            vec![0.0, 4.0, 9.0]
        );
        mse_loss(&a, &b, Reduction::Mean).backward();
        // ∂/∂a = 2(a − b)/3
        let g = a.grad().unwrap().to_vec();
        assert!((g[1] - 4.0 / 3.0).abs() < 1e-6 && (g[2] - 2.0).abs() < 1e-6);
        gradcheck(
            |v| mse_loss(&v[0], &v[1], Reduction::Mean),
            &[a.value(), b.value()],
            1e-2,
            1e-2,
        )
        .unwrap();
    }

    #[test]
    #[should_panic(expected = "mse_loss: input and target shapes differ: [3] vs [1, 3]")]
    fn mse_rejects_shape_mismatch() {
        let a = Var::constant(Tensor::zeros([3]));
        let b = Var::constant(Tensor::zeros([1, 3]));
        mse_loss(&a, &b, Reduction::Mean);
    }

    #[test]
    fn bce_with_logits_matches_pytorch_and_is_stable() {
        // F.binary_cross_entropy_with_logits(torch.tensor([-2., 0, 3, 100, -100]),
        //     torch.tensor([0., 1, 1, 0, 1]), reduction="none")
        //   = [0.126928, 0.693147, 0.048587, 100., 100.]
        let x = Var::parameter(Tensor::from_vec(vec![-2.0, 0.0, 3.0, 100.0, -100.0], [5]));
        let y = Var::constant(Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0, 1.0], [5]));
        let l = binary_cross_entropy_with_logits(&x, &y, Reduction::None).value();
        let expect = Tensor::from_vec(
            vec![0.126_928, std::f32::consts::LN_2, 0.048_587_4, 100.0, 100.0],
            [5],
        );
        assert!(l.allclose(&expect, 1e-5, 1e-6), "{l:?}");
        binary_cross_entropy_with_logits(&x, &y, Reduction::Mean).backward();
        let g = x.grad().unwrap().to_vec();
        // (σ(x) − y)/5
        assert!((g[1] - (0.5 - 1.0) / 5.0).abs() < 1e-7);
        assert!((g[3] - 0.2).abs() < 1e-7 && (g[4] + 0.2).abs() < 1e-7);
        assert!(g.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn bce_with_logits_gradchecks_both_inputs() {
        let x = Tensor::from_vec(vec![-1.5, 0.3, 2.0, 0.7], [2, 2]);
        let y = Tensor::from_vec(vec![0.2, 1.0, 0.0, 0.6], [2, 2]);
        for red in [Reduction::Mean, Reduction::Sum, Reduction::None] {
            gradcheck(
                |v| binary_cross_entropy_with_logits(&v[0], &v[1], red),
                &[x.clone(), y.clone()],
                1e-2,
                1e-2,
            )
            .unwrap();
        }
    }

    #[test]
    fn empty_batch_mean_is_nan_sum_is_zero() {
        let x = Var::constant(Tensor::zeros([0, 3]));
        let t = Tensor::zeros([0]);
        assert!(cross_entropy(&x, &t).item().is_nan());
        assert_eq!(cross_entropy_with(&x, &t, Reduction::Sum, 0.0).item(), 0.0);
    }
}
