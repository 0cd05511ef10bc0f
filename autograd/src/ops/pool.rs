//! 2-D pooling on NCHW tensors. Max pooling remembers which input element won each window
//! and sends the gradient there; average pooling spreads it evenly over the window
//! (counting padding, as PyTorch's default `count_include_pad = true` does).

use tensor::{
    avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward, Pool2dParams, Shape, Tensor,
};

use crate::function::Function;
use crate::var::Var;

/// Maximum over each window: ∂/∂x = g routed to each window's winner (added up where windows
/// overlap and share a winner).
struct MaxPool2dOp {
    params: Pool2dParams,
    winners: Vec<usize>,
    x: Shape,
}

impl Function for MaxPool2dOp {
    fn name(&self) -> &'static str {
        "max_pool2d"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        let (y, winners) = max_pool2d(x[0], &self.params);
        (self.winners, self.x) = (winners, x[0].shape().clone());
        y
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(max_pool2d_backward(g, &self.winners, &self.x))]
    }
}

/// Mean over each window: ∂/∂x = g / (kh·kw) added to every element of the window.
struct AvgPool2dOp {
    params: Pool2dParams,
    x: Shape,
}

impl Function for AvgPool2dOp {
    fn name(&self) -> &'static str {
        "avg_pool2d"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        self.x = x[0].shape().clone();
        avg_pool2d(x[0], &self.params)
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(avg_pool2d_backward(g, &self.x, &self.params))]
    }
}

impl Var {
    /// Max pooling of `self: [N, C, H, W]` over `params.kernel` windows; the gradient goes to
    /// the largest element of each window (the first one on ties).
    ///
    /// # Panics
    /// If `self` is not rank 4 or the window does not fit; the message names `max_pool2d`.
    #[track_caller]
    pub fn max_pool2d(&self, params: &Pool2dParams) -> Var {
        let op = MaxPool2dOp {
            params: *params,
            winners: Vec::new(),
            x: Shape::default(),
        };
        Var::apply(op, &[self])
    }

    /// Average pooling of `self: [N, C, H, W]` (padding counts as zeros in the average).
    ///
    /// # Panics
    /// If `self` is not rank 4 or the window does not fit; the message names `avg_pool2d`.
    #[track_caller]
    pub fn avg_pool2d(&self, params: &Pool2dParams) -> Var {
        Var::apply(
            AvgPool2dOp {
                params: *params,
                x: Shape::default(),
            },
            &[self],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::gradcheck;

    /// Distinct values 0.1 apart, shuffled: no window has a near-tie a step could flip.
    fn distinct(shape: [usize; 4]) -> Tensor {
        let n: usize = shape.iter().product();
        let data = (0..n)
            .map(|k| ((k * 37) % n) as f32 * 0.1 - n as f32 * 0.05)
            .collect();
        Tensor::from_vec(data, shape)
    }

    fn check(pool: impl Fn(&Var) -> Var, shape: [usize; 4]) {
        if let Err(e) = gradcheck(|v: &[Var]| pool(&v[0]), &[distinct(shape)], 1e-3, 1e-2) {
            panic!("{shape:?}: {e}");
        }
    }

    #[test]
    fn gradcheck_max_pool2d() {
        check(|x| x.max_pool2d(&Pool2dParams::new((2, 2))), [2, 2, 4, 4]);
        let overlapping = Pool2dParams {
            kernel: (3, 3),
            stride: (1, 2),
            padding: (1, 1),
        };
        check(|x| x.max_pool2d(&overlapping), [1, 2, 5, 5]);
        check(|x| x.max_pool2d(&Pool2dParams::new((1, 1))), [1, 1, 1, 1]);
    }

    #[test]
    fn gradcheck_avg_pool2d() {
        check(|x| x.avg_pool2d(&Pool2dParams::new((2, 2))), [2, 2, 4, 4]);
        let overlapping = Pool2dParams {
            kernel: (3, 3),
            stride: (1, 2),
            padding: (1, 1),
        };
        check(|x| x.avg_pool2d(&overlapping), [1, 2, 5, 5]);
    }

    #[test]
    fn exact_gradients() {
        let x = Var::parameter(Tensor::from_vec(vec![1.0, 4.0, 3.0, 2.0], [1, 1, 2, 2]));
        let m = x.max_pool2d(&Pool2dParams::new((2, 2)));
        assert_eq!(m.value().to_vec(), vec![4.0]);
        m.sum_all().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 1.0, 0.0, 0.0]);
        x.zero_grad();
        let a = x.avg_pool2d(&Pool2dParams::new((2, 2)));
        assert_eq!(a.value().to_vec(), vec![2.5]);
        a.sum_all().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.25; 4]);
    }

    #[test]
    #[should_panic(expected = "max_pool2d")]
    fn rank_mismatch_names_the_op() {
        Var::constant(Tensor::zeros([2, 2])).max_pool2d(&Pool2dParams::new((2, 2)));
    }
}
