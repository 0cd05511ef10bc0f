//! 2-D convolution on NCHW tensors, lowered to a matrix product through `im2col` by the
//! `tensor` kernels: the backward pass is two more products, `∂L/∂input = col2im(Wᵀ·G)` and
//! `∂L/∂W = Σₙ G·colsᵀ`, and `∂L/∂bias` sums `G` over the batch and the output positions.
//! (When `G` is mostly zeros, as behind ReLU and max pooling, the two products visit only
//! its nonzero entries, and `tensor::conv2d_backward` counts them once for both; see
//! `tensor::conv2d_grad_weight`.)

use tensor::{conv2d, conv2d_backward, Conv2dParams, Tensor};

use super::saved;
use crate::function::Function;
use crate::var::Var;

/// `y = conv2d(x, W) + b`, `x: [N, C, H, W]`, `W: [O, C, kh, kw]`, `b: [O]`, `y: [N, O, OH, OW]`.
struct Conv2dOp {
    params: Conv2dParams,
    x: Option<Tensor>,
    w: Option<Tensor>,
}

impl Function for Conv2dOp {
    fn name(&self) -> &'static str {
        "conv2d"
    }
    fn forward(&mut self, inputs: &[&Tensor]) -> Tensor {
        let (x, w) = (inputs[0], inputs[1]);
        let y = conv2d(x, w, inputs.get(2).copied(), &self.params);
        (self.x, self.w) = (Some(x.clone()), Some(w.clone()));
        y
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let (x, w) = (saved(&self.x), saved(&self.w));
        // (One call, so that the output gradient's density is counted once for both
        // products; the bias, when there is one, is the third input.)
        let want = [needs[0], needs[1], needs.get(2).copied().unwrap_or(false)];
        let grads = conv2d_backward(g, x, w, &self.params, want);
        grads.into_iter().take(needs.len()).collect()
    }
}

impl Var {
    /// 2-D convolution (cross-correlation, as in PyTorch) of `self: [N, C, H, W]` with
    /// `weight: [O, C, kh, kw]`, plus `bias: [O]` if given; the result is `[N, O, OH, OW]` with
    /// `OH = ⌊(H + 2·pad − dil·(kh − 1) − 1) / stride⌋ + 1` (and the same for the width).
    ///
    /// # Panics
    /// If the shapes do not fit (ranks, channels, a kernel larger than the padded input, a bias
    /// that is not `[O]`); the message names `conv2d` and the shapes.
    #[track_caller]
    pub fn conv2d(&self, weight: &Var, bias: Option<&Var>, params: &Conv2dParams) -> Var {
        let op = Conv2dOp {
            params: *params,
            x: None,
            w: None,
        };
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

    fn check(x: &[usize], w: &[usize], bias: bool, params: Conv2dParams) {
        let mut inputs = vec![test_tensor(x, 1), test_tensor(w, 2)];
        if bias {
            inputs.push(test_tensor(&[w[0]], 3));
        }
        let f = |v: &[Var]| v[0].conv2d(&v[1], v.get(2), &params);
        if let Err(e) = gradcheck(f, &inputs, 1e-2, 1e-2) {
            panic!("x {x:?}, w {w:?}, {params:?}: {e}");
        }
    }

    #[test]
    fn gradcheck_conv2d() {
        check(&[2, 2, 5, 5], &[3, 2, 3, 3], true, Conv2dParams::default());
        check(&[1, 1, 4, 4], &[2, 1, 2, 2], false, Conv2dParams::default());
        let strided = Conv2dParams {
            stride: (2, 1),
            padding: (1, 2),
            dilation: (1, 1),
        };
        check(&[2, 2, 5, 4], &[2, 2, 3, 3], true, strided);
        let dilated = Conv2dParams {
            stride: (1, 1),
            padding: (1, 1),
            dilation: (2, 2),
        };
        check(&[1, 2, 5, 5], &[2, 2, 2, 2], true, dilated);
        check(&[1, 1, 1, 1], &[1, 1, 1, 1], true, Conv2dParams::default());
    }

    #[test]
    fn exact_values_of_a_1x1_kernel() {
        // a 1x1 convolution is a per-pixel linear map over the channels
        let x = Var::parameter(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [1, 2, 1, 2]));
        let w = Var::parameter(Tensor::from_vec(vec![10.0, 100.0], [1, 2, 1, 1]));
        let b = Var::parameter(Tensor::from_vec(vec![0.5], [1]));
        let y = x.conv2d(&w, Some(&b), &Conv2dParams::default());
        assert_eq!(y.value().to_vec(), vec![310.5, 420.5]);
        y.sum_all().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![10.0, 10.0, 100.0, 100.0]);
        assert_eq!(w.grad().unwrap().to_vec(), vec![3.0, 7.0]);
        assert_eq!(b.grad().unwrap().to_vec(), vec![2.0]);
    }

    #[test]
    #[should_panic(expected = "conv2d")]
    fn channel_mismatch_panics_naming_conv2d() {
        let x = Var::constant(Tensor::zeros([1, 3, 4, 4]));
        x.conv2d(
            &Var::constant(Tensor::zeros([2, 2, 3, 3])),
            None,
            &Conv2dParams::default(),
        );
    }
}
