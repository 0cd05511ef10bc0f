//! Reductions and the softmax family: `sum`, `mean`, `max` over an axis or over everything,
//! `softmax`, `log_softmax`.
//!
//! The backward of a reduction sends each output's gradient back to the inputs it was made
//! from: a sum copies it to every element of the reduced axis (a broadcast), a mean also
//! divides by the axis length, a max routes it to the element that won.

use tensor::{Shape, Tensor};

use super::saved;
use crate::function::Function;
use crate::var::Var;

/// The input shape with `axis` set to size 1: the shape of a `keepdim` reduction.
fn kept(shape: &Shape, axis: usize) -> Shape {
    let mut dims = shape.dims().to_vec();
    dims[axis] = 1;
    Shape::from(dims)
}

/// `Σ` along `axis` (or over everything when `axis` is `None`): ∂/∂x = g, broadcast back
/// over the summed axis. With `mean`, also divided by the number of summed elements.
struct SumOp {
    axis: Option<usize>,
    keepdim: bool,
    mean: bool,
    x: Shape,
}

impl Function for SumOp {
    fn name(&self) -> &'static str {
        match (self.mean, self.axis) {
            (false, Some(_)) => "sum",
            (false, None) => "sum_all",
            (true, Some(_)) => "mean",
            (true, None) => "mean_all",
        }
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        self.x = x[0].shape().clone();
        match (self.mean, self.axis) {
            (false, Some(axis)) => x[0].sum(axis, self.keepdim),
            (false, None) => Tensor::scalar(x[0].sum_all()),
            (true, Some(axis)) => x[0].mean(axis, self.keepdim),
            (true, None) => Tensor::scalar(x[0].mean_all()),
        }
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let (g, count) = match self.axis {
            Some(axis) => (g.reshape(kept(&self.x, axis)), self.x.dim(axis)),
            None => (g.reshape(vec![1; self.x.rank()]), self.x.numel()),
        };
        let mut dx = g.broadcast_to(&self.x);
        if self.mean {
            dx.mul_scalar_(1.0 / count as f32);
        }
        vec![Some(dx)]
    }
}

/// `max` (or `min`) along `axis`: the gradient goes to the element that won (the first one on
/// ties, the one `argmax` picks, as PyTorch's `max(dim)` does); the others get 0.
struct MaxOp {
    axis: usize,
    keepdim: bool,
    max: bool,
    winners: Option<Tensor>,
    x: Shape,
}

impl Function for MaxOp {
    fn name(&self) -> &'static str {
        if self.max {
            "max"
        } else {
            "min"
        }
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        let (axis, keepdim) = (self.axis, self.keepdim);
        self.x = x[0].shape().clone();
        if self.max {
            self.winners = Some(x[0].argmax(axis, true));
            x[0].max(axis, keepdim)
        } else {
            self.winners = Some(x[0].argmin(axis, true));
            x[0].min(axis, keepdim)
        }
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let g = g.reshape(kept(&self.x, self.axis));
        let winners = saved(&self.winners);
        vec![Some(
            Tensor::zeros(&self.x).scatter_add(self.axis, winners, &g),
        )]
    }
}

/// `y = softmax(x)` along `axis`: ∂/∂xᵢ = yᵢ·(gᵢ − Σⱼ gⱼ·yⱼ).
struct SoftmaxOp {
    axis: usize,
    y: Option<Tensor>,
}

impl Function for SoftmaxOp {
    fn name(&self) -> &'static str {
        "softmax"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        let y = x[0].softmax(self.axis);
        self.y = Some(y.clone());
        y
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let y = saved(&self.y);
        let gy = g.mul(y);
        let dot = gy.sum(self.axis, true);
        vec![Some(gy.sub(&y.mul(&dot)))]
    }
}

/// `y = log_softmax(x)` along `axis`: ∂/∂xᵢ = gᵢ − e^yᵢ·Σⱼ gⱼ (e^y is the softmax).
struct LogSoftmaxOp {
    axis: usize,
    y: Option<Tensor>,
}

impl Function for LogSoftmaxOp {
    fn name(&self) -> &'static str {
        "log_softmax"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        let y = x[0].log_softmax(self.axis);
        self.y = Some(y.clone());
        y
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let total = g.sum(self.axis, true);
        vec![Some(g.sub(&saved(&self.y).exp().mul(&total)))]
    }
}

impl Var {
    /// Sum along `axis`; with `keepdim` the axis stays with size 1.
    ///
    /// # Panics
    /// If `axis` is not below the rank.
    #[track_caller]
    pub fn sum(&self, axis: usize, keepdim: bool) -> Var {
        self.reduce(Some(axis), keepdim, false)
    }

    /// Sum of every element, as a rank-0 `Var` (a loss, ready for `backward()`).
    pub fn sum_all(&self) -> Var {
        self.reduce(None, false, false)
    }

    /// Mean along `axis`; with `keepdim` the axis stays with size 1.
    ///
    /// # Panics
    /// If `axis` is not below the rank or has size 0.
    #[track_caller]
    pub fn mean(&self, axis: usize, keepdim: bool) -> Var {
        self.reduce(Some(axis), keepdim, true)
    }

    /// Mean of every element, as a rank-0 `Var`.
    ///
    /// # Panics
    /// If the value is empty.
    #[track_caller]
    pub fn mean_all(&self) -> Var {
        self.reduce(None, false, true)
    }

    #[track_caller]
    fn reduce(&self, axis: Option<usize>, keepdim: bool, mean: bool) -> Var {
        let op = SumOp {
            axis,
            keepdim,
            mean,
            x: Shape::default(),
        };
        Var::apply(op, &[self])
    }

    /// Maximum along `axis`; with `keepdim` the axis stays with size 1. The gradient goes to
    /// the (first) largest element of each slice.
    ///
    /// # Panics
    /// If `axis` is not below the rank or has size 0.
    #[track_caller]
    pub fn max(&self, axis: usize, keepdim: bool) -> Var {
        let op = MaxOp {
            axis,
            keepdim,
            max: true,
            winners: None,
            x: Shape::default(),
        };
        Var::apply(op, &[self])
    }

    /// Minimum along `axis`; with `keepdim` the axis stays with size 1. The gradient goes to
    /// the (first) smallest element of each slice.
    ///
    /// # Panics
    /// If `axis` is not below the rank or has size 0.
    #[track_caller]
    pub fn min(&self, axis: usize, keepdim: bool) -> Var {
        let op = MaxOp {
            axis,
            keepdim,
            max: false,
            winners: None,
            x: Shape::default(),
        };
        Var::apply(op, &[self])
    }

    /// Softmax along `axis` (stable: the maximum is subtracted first).
    ///
    /// # Panics
    /// If `axis` is not below the rank.
    #[track_caller]
    pub fn softmax(&self, axis: usize) -> Var {
        Var::apply(SoftmaxOp { axis, y: None }, &[self])
    }

    /// Log-softmax along `axis` (stable; finite where `softmax(x).ln()` would give −∞).
    ///
    /// # Panics
    /// If `axis` is not below the rank.
    #[track_caller]
    pub fn log_softmax(&self, axis: usize) -> Var {
        Var::apply(LogSoftmaxOp { axis, y: None }, &[self])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{gradcheck, test_tensor};

    fn check(f: impl Fn(&Var) -> Var, shape: &[usize]) {
        if let Err(e) = gradcheck(|v: &[Var]| f(&v[0]), &[test_tensor(shape, 7)], 1e-2, 1e-2) {
            panic!("{shape:?}: {e}");
        }
    }

    #[test]
    fn gradcheck_sum_and_mean() {
        for keepdim in [false, true] {
            for axis in 0..3 {
                check(|x| x.sum(axis, keepdim), &[2, 3, 4]);
                check(|x| x.mean(axis, keepdim), &[2, 3, 4]);
            }
        }
        check(|x| x.sum_all(), &[2, 3]);
        check(|x| x.mean_all(), &[2, 3]);
        check(|x| x.sum_all(), &[]);
        check(|x| x.mean(0, false), &[1]);
    }

    #[test]
    fn gradcheck_max_and_min() {
        // distinct values 0.1 apart, shuffled (7 is coprime to 24): no slice has a near-tie
        // that a step of h = 1e-2 could flip
        let data: Vec<f32> = (0..24).map(|k| ((k * 7) % 24) as f32 * 0.1 - 1.2).collect();
        let x = Tensor::from_vec(data, [2, 3, 4]);
        for keepdim in [false, true] {
            for axis in 0..3 {
                for max in [true, false] {
                    let f = |v: &[Var]| {
                        if max {
                            v[0].max(axis, keepdim)
                        } else {
                            v[0].min(axis, keepdim)
                        }
                    };
                    if let Err(e) = gradcheck(f, std::slice::from_ref(&x), 1e-2, 1e-2) {
                        panic!("axis {axis}, keepdim {keepdim}, max {max}: {e}");
                    }
                }
            }
        }
    }

    #[test]
    fn max_sends_the_gradient_to_the_first_winner() {
        let x = Var::parameter(Tensor::from_vec(
            vec![1.0, 5.0, 5.0, 2.0, 0.0, -1.0],
            [2, 3],
        ));
        let m = x.max(1, false);
        assert_eq!(m.value().to_vec(), vec![5.0, 2.0]);
        m.backward_with(Tensor::from_vec(vec![10.0, 20.0], [2]));
        assert_eq!(
            x.grad().unwrap().to_vec(),
            vec![0.0, 10.0, 0.0, 20.0, 0.0, 0.0]
        );
        x.zero_grad();
        x.min(0, true).sum_all().backward();
        assert_eq!(
            x.grad().unwrap().to_vec(),
            vec![1.0, 0.0, 0.0, 0.0, 1.0, 1.0]
        );
    }

    #[test]
    fn gradcheck_softmax_and_log_softmax() {
        for axis in 0..3 {
            check(|x| x.softmax(axis), &[2, 3, 4]);
            check(|x| x.log_softmax(axis), &[2, 3, 4]);
        }
        check(|x| x.softmax(0), &[1]);
        // broadcasting around it: a bias added to the logits before the softmax
        let f = |v: &[Var]| (&v[0] + &v[1]).log_softmax(1);
        gradcheck(
            f,
            &[test_tensor(&[3, 4], 1), test_tensor(&[4], 2)],
            1e-2,
            1e-2,
        )
        .unwrap();
    }

    #[test]
    fn exact_values() {
        let x = Var::parameter(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]));
        let s = x.sum(1, false);
        assert_eq!(s.value().to_vec(), vec![6.0, 15.0]);
        s.backward_with(Tensor::from_vec(vec![1.0, 10.0], [2]));
        assert_eq!(
            x.grad().unwrap().to_vec(),
            vec![1.0, 1.0, 1.0, 10.0, 10.0, 10.0]
        );
        x.zero_grad();
        x.mean_all().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![1.0 / 6.0; 6]);
        assert_eq!(x.mean_all().dims(), Vec::<usize>::new());
    }

    #[test]
    fn softmax_gradient_of_a_uniform_seed_is_zero() {
        // Σ softmax = 1 whatever x is, so its gradient vanishes
        let x = Var::parameter(Tensor::from_vec(vec![0.3, -1.0, 2.0], [1, 3]));
        x.softmax(1).sum_all().backward();
        assert!(x.grad().unwrap().data().iter().all(|g| g.abs() < 1e-7));
    }

    #[test]
    fn log_softmax_stays_finite_for_huge_logits() {
        let x = Var::parameter(Tensor::from_vec(vec![1000.0, -1000.0], [1, 2]));
        let y = x.log_softmax(1);
        // pick the second class: ∂(−log p₁)/∂x = softmax − onehot = [1, −1]
        y.backward_with(Tensor::from_vec(vec![0.0, -1.0], [1, 2]));
        assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, -1.0]);
    }

    #[test]
    fn empty_sum() {
        let x = Var::parameter(Tensor::zeros([0, 2]));
        x.sum(0, false).sum_all().backward();
        assert_eq!(x.grad().unwrap().dims(), &[0, 2]);
    }
}
