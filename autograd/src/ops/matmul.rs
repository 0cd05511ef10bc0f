//! Matrix products: `matmul` (2-D, batched, and batched by a shared right side), `matmul_t`
//! (either side transposed, without a copy), and `linear`, the fused `x·Wᵀ + b` of a dense
//! layer.
//!
//! For `Y = A·B` with upstream gradient `G`: `∂L/∂A = G·Bᵀ` and `∂L/∂B = Aᵀ·G`. The
//! transposes are free: [`Tensor::matmul_t`] hands them to the GEMM as swapped strides.

use tensor::{Shape, Tensor};

use super::saved;
use crate::function::Function;
use crate::var::Var;

/// `Y = op(A)·op(B)`, where `op` transposes the last two axes when its flag is set.
/// - `∂L/∂A`: `G·op(B)ᵀ`, transposed back if A was (`op(B)·Gᵀ`);
/// - `∂L/∂B`: `op(A)ᵀ·G`, transposed back if B was (`Gᵀ·op(A)`);
/// - a right side shared by every batch entry (`[B, M, K] x [K, N]`) gets the sum over the batch.
struct MatMulOp {
    trans: (bool, bool),
    a: Option<Tensor>,
    b: Option<Tensor>,
}

impl Function for MatMulOp {
    fn name(&self) -> &'static str {
        if self.trans == (false, false) {
            "matmul"
        } else {
            "matmul_t"
        }
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        (self.a, self.b) = (Some(x[0].clone()), Some(x[1].clone()));
        match self.trans {
            (false, false) => x[0].matmul(x[1]), // (so that shape errors say `matmul`)
            (ta, tb) => x[0].matmul_t(x[1], ta, tb),
        }
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let (a, b) = (saved(&self.a), saved(&self.b));
        let (ta, tb) = self.trans;
        let shared_b = a.rank() == 3 && b.rank() == 2;
        let ga = || match (ta, shared_b) {
            (false, _) => g.matmul_t(b, false, !tb),  // G·op(B)ᵀ
            (true, false) => b.matmul_t(g, tb, true), // op(B)·Gᵀ
            // [K, N] x [B, N, M] is not a GEMM form: take (G·op(B)ᵀ)ᵀ per batch entry
            (true, true) => g.matmul_t(b, false, !tb).transpose(1, 2),
        };
        let gb = || match (tb, shared_b) {
            (false, false) => a.matmul_t(g, !ta, false), // op(A)ᵀ·G
            (true, false) => g.matmul_t(a, true, ta),    // Gᵀ·op(A)
            // Σ over the batch of A_bᵀ·G_b is one GEMM of the stacked rows [B·M, K]ᵀ x [B·M, N]
            (false, true) if !ta => {
                let rows = a.dim(0) * a.dim(1);
                let a2 = a.reshape([rows, a.dim(2)]);
                a2.matmul_t(&g.reshape([rows, g.dim(2)]), true, false)
            }
            (false, true) => a.matmul_t(g, false, false).sum(0, false),
            (true, true) => g.matmul_t(a, true, ta).sum(0, false),
        };
        vec![needs[0].then(ga), needs[1].then(gb)]
    }
}

/// `y = x·Wᵀ + b` for `x: [N, in]` (or `[B, N, in]`), `W: [out, in]` (PyTorch's layout),
/// `b: [out]`: one GEMM that adds the bias as it writes each block ([`Tensor::linear`]).
/// `∂L/∂x = G·W`, `∂L/∂W = Gᵀ·x` (over all rows), `∂L/∂b = Σ_rows G`.
struct LinearOp {
    x: Option<Tensor>,
    w: Option<Tensor>,
}

impl Function for LinearOp {
    fn name(&self) -> &'static str {
        "linear"
    }
    fn forward(&mut self, inputs: &[&Tensor]) -> Tensor {
        let (x, w) = (inputs[0], inputs[1]);
        let y = x.linear(w, inputs.get(2).copied());
        (self.x, self.w) = (Some(x.clone()), Some(w.clone()));
        y
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let (x, w) = (saved(&self.x), saved(&self.w));
        let (out, rows) = (w.dim(0), x.dims()[..x.rank() - 1].iter().product::<usize>());
        let mut grads = vec![
            needs[0].then(|| g.matmul(w)),
            needs[1].then(|| {
                let g2 = g.reshape([rows, out]);
                g2.matmul_t(&x.reshape([rows, w.dim(1)]), true, false)
            }),
        ];
        if needs.len() == 3 {
            grads.push(needs[2].then(|| g.sum_to(&Shape::from([out]))));
        }
        grads
    }
}

impl Var {
    /// Matrix product: `[M, K] x [K, N]`, batched `[B, M, K] x [B, K, N]`, or
    /// `[B, M, K] x [K, N]` (the right side shared by every batch entry).
    ///
    /// # Panics
    /// If the ranks are not one of these forms or the inner or batch sizes differ, e.g.
    /// `matmul: inner sizes differ: [64, 784] x [128, 10] (lhs cols 784 != rhs rows 128)`.
    #[track_caller]
    pub fn matmul(&self, other: &Var) -> Var {
        self.matmul_t(other, false, false)
    }

    /// `op(self)·op(other)`, where `op` transposes the last two axes when its flag is set;
    /// no operand is copied. The shapes accepted are those of [`Var::matmul`] after the
    /// transposes.
    ///
    /// # Panics
    /// As [`Var::matmul`].
    #[track_caller]
    pub fn matmul_t(&self, other: &Var, trans_a: bool, trans_b: bool) -> Var {
        let op = MatMulOp {
            trans: (trans_a, trans_b),
            a: None,
            b: None,
        };
        Var::apply(op, &[self, other])
    }

    /// The dense layer `self·weightᵀ + bias`, fused into one op: `self` is `[N, in]` (or
    /// `[B, N, in]`), `weight` is `[out, in]` (PyTorch's layout), `bias` is `[out]`.
    ///
    /// # Panics
    /// If the inner sizes differ or the bias is not `[out]`.
    #[track_caller]
    pub fn linear(&self, weight: &Var, bias: Option<&Var>) -> Var {
        let op = LinearOp { x: None, w: None };
        match bias {
            Some(b) => Var::apply(op, &[self, weight, b]),
            None => Var::apply(op, &[self, weight]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{gradcheck, test_tensor};

    fn check(f: impl Fn(&[Var]) -> Var, shapes: &[&[usize]]) {
        let inputs: Vec<Tensor> = shapes
            .iter()
            .enumerate()
            .map(|(i, s)| test_tensor(s, 20 + i as u64))
            .collect();
        if let Err(e) = gradcheck(f, &inputs, 1e-2, 1e-2) {
            panic!("{shapes:?}: {e}");
        }
    }

    #[test]
    fn gradcheck_matmul_forms() {
        let mm = |v: &[Var]| v[0].matmul(&v[1]);
        check(mm, &[&[2, 3], &[3, 4]]);
        check(mm, &[&[2, 2, 3], &[2, 3, 4]]);
        check(mm, &[&[2, 2, 3], &[3, 4]]);
        check(mm, &[&[1, 1], &[1, 1]]);
        // broadcasting after the product
        check(
            |v: &[Var]| &v[0].matmul(&v[1]) + &v[2],
            &[&[2, 3], &[3, 4], &[4]],
        );
    }

    #[test]
    fn gradcheck_matmul_t_every_transpose_and_rank() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let f = move |v: &[Var]| v[0].matmul_t(&v[1], ta, tb);
            let a2: &[usize] = if ta { &[3, 2] } else { &[2, 3] };
            let b2: &[usize] = if tb { &[4, 3] } else { &[3, 4] };
            let a3: &[usize] = if ta { &[2, 3, 2] } else { &[2, 2, 3] };
            let b3: &[usize] = if tb { &[2, 4, 3] } else { &[2, 3, 4] };
            check(f, &[a2, b2]);
            check(f, &[a3, b3]);
            check(f, &[a3, b2]);
        }
    }

    #[test]
    fn gradcheck_linear() {
        check(
            |v: &[Var]| v[0].linear(&v[1], Some(&v[2])),
            &[&[4, 3], &[2, 3], &[2]],
        );
        check(|v: &[Var]| v[0].linear(&v[1], None), &[&[4, 3], &[2, 3]]);
        check(
            |v: &[Var]| v[0].linear(&v[1], Some(&v[2])),
            &[&[2, 4, 3], &[5, 3], &[5]],
        );
    }

    #[test]
    fn gradcheck_linear_behind_a_relu_like_mask() {
        // A ReLU's mask (here a fixed one, 40% ones, so that no finite difference crosses a
        // kink) makes the gradient reaching the layer mostly zeros: with 64 inputs, both of
        // its products (`Gᵀ·X` and `G·W`) take the tensor crate's sparse kernel.
        let mask: Vec<f32> = (0..8 * 16)
            .map(|i| f32::from(u8::from((i * 37) % 5 < 2)))
            .collect();
        let zeros = mask.iter().filter(|&&v| v == 0.0).count();
        assert!(zeros as f64 >= 0.4 * mask.len() as f64, "{zeros}");
        let mask = Tensor::from_vec(mask, [8, 16]);
        check(
            move |v: &[Var]| v[0].linear(&v[1], Some(&v[2])).mul_mask(&mask),
            &[&[8, 64], &[16, 64], &[16]],
        );
    }

    #[test]
    fn linear_equals_matmul_plus_bias() {
        let x = Var::parameter(test_tensor(&[4, 3], 1));
        let w = Var::parameter(test_tensor(&[2, 3], 2));
        let b = Var::parameter(test_tensor(&[2], 3));
        let fused = x.linear(&w, Some(&b));
        let composed = &x.matmul_t(&w, false, true) + &b;
        assert!(fused.value().allclose(&composed.value(), 1e-6, 1e-6));
        fused.sum_all().backward();
        let (gx, gw, gb) = (x.grad().unwrap(), w.grad().unwrap(), b.grad().unwrap());
        for v in [&x, &w, &b] {
            v.zero_grad();
        }
        composed.sum_all().backward();
        assert!(gx.allclose(&x.grad().unwrap(), 1e-6, 1e-6));
        assert!(gw.allclose(&w.grad().unwrap(), 1e-6, 1e-6));
        assert_eq!(gb.to_vec(), vec![4.0, 4.0]);
    }

    #[test]
    fn exact_2x2() {
        let a = Var::parameter(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]));
        let b = Var::parameter(Tensor::from_vec(vec![5.0, 6.0, 7.0, 8.0], [2, 2]));
        let y = a.matmul(&b);
        assert_eq!(y.value().to_vec(), vec![19.0, 22.0, 43.0, 50.0]);
        y.sum_all().backward();
        // G = ones: ∂A = G·Bᵀ (row sums of B), ∂B = Aᵀ·G (column sums of A, repeated)
        assert_eq!(a.grad().unwrap().to_vec(), vec![11.0, 15.0, 11.0, 15.0]);
        assert_eq!(b.grad().unwrap().to_vec(), vec![4.0, 4.0, 6.0, 6.0]);
    }

    #[test]
    fn empty_batch() {
        let x = Var::parameter(Tensor::zeros([0, 3]));
        let w = Var::parameter(Tensor::ones([2, 3]));
        let b = Var::parameter(Tensor::ones([2]));
        let y = x.linear(&w, Some(&b));
        assert_eq!(y.dims(), vec![0, 2]);
        y.sum_all().backward();
        assert_eq!(w.grad().unwrap().to_vec(), vec![0.0; 6]);
        assert_eq!(b.grad().unwrap().to_vec(), vec![0.0; 2]);
    }

    #[test]
    #[should_panic(expected = "matmul: inner sizes differ: [2, 3] x [4, 5]")]
    fn mismatched_inner_sizes() {
        Var::constant(Tensor::zeros([2, 3])).matmul(&Var::constant(Tensor::zeros([4, 5])));
    }

    #[test]
    #[should_panic(expected = "linear: bias must be [2]")]
    fn bad_bias() {
        let x = Var::constant(Tensor::zeros([1, 3]));
        x.linear(
            &Var::constant(Tensor::zeros([2, 3])),
            Some(&Var::constant(Tensor::zeros([3]))),
        );
    }
}
