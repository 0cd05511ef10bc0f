//! Function forms: `nn::functional::mish(&x)`, `nn::functional::leaky_relu(&x, 0.1)`, …, like
//! `torch.nn.functional`, and the same as methods on `Var` through [`ActivationExt`]
//! (`x.mish()`, `x.leaky_relu(0.1)`).
//!
//! Each is the activation's layer applied once, with fixed (non-learnable) arguments: the
//! scalar ones go through the one fused [`Pointwise`] op. For a learnable parameter, keep the
//! layer (`Elu::new(learnable(1.0))`), which owns it.

use autograd::{Pointwise, RuleParams, Var};
use tensor::Rng;

use crate::activation::{
    Celu, Elu, GeGlu, Gelu, GeluTanh, Glu, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LeakyRelu,
    LogSigmoid, LogSoftmax, Mish, Relu, Relu6, Selu, Sigmoid, Snake, Softmax, Softmin, Softplus,
    Softshrink, Softsign, SquaredRelu, Squareplus, SwiGlu, Swish, Tanh, Tanhshrink, Threshold,
};
use crate::Module;

/// Applies any [`Pointwise`] rule elementwise through the fused op (your own included).
pub fn pointwise<P: Pointwise>(x: &Var, rule: &P) -> Var {
    autograd::pointwise(x, rule)
}

/// `max(x, 0)` — [`Relu`].
pub fn relu(x: &Var) -> Var {
    x.pointwise(&Relu)
}

/// `min(max(x, 0), 6)` — [`Relu6`].
pub fn relu6(x: &Var) -> Var {
    x.pointwise(&Relu6)
}

/// `x` for `x > 0`, `negative_slope·x` otherwise — [`LeakyRelu`].
pub fn leaky_relu(x: &Var, negative_slope: f32) -> Var {
    x.pointwise(&LeakyRelu::new(negative_slope))
}

/// `x` for `x > 0`, `w·x` otherwise, with `weight` of one element or one per channel (axis 1),
/// like `torch.nn.functional.prelu(x, weight)`; the gradient reaches `weight` if it learns.
///
/// # Panics
/// If `weight` has several elements and `x` does not have that many channels on axis 1.
#[track_caller]
pub fn prelu(x: &Var, weight: &Var) -> Var {
    let channels = weight.shape().numel();
    if channels == 1 {
        let w = weight.reshape([1]);
        return autograd::pointwise(x, &PReluRule(RuleParams::new([w])));
    }
    let shape = x.shape();
    if shape.rank() < 2 || shape.dim(1) != channels {
        tensor::shape_panic(
            "prelu",
            format_args!(
                "input {shape:?} must have {channels} channels on axis 1 (weight has {channels})"
            ),
        );
    }
    let positive = x.value().gt_mask(&tensor::Tensor::scalar(0.0));
    let negative = positive.map(|m| 1.0 - m);
    let mut w_shape = vec![1; shape.rank()];
    w_shape[1] = channels;
    &x.mul_mask(&positive) + &(&x.mul_mask(&negative) * &weight.reshape(w_shape))
}

/// The one-slope PReLU rule around a caller's `weight`.
#[derive(Clone)]
struct PReluRule(RuleParams<1>);

impl Pointwise for PReluRule {
    const CHEAP_DF: bool = true;
    fn name(&self) -> &'static str {
        "prelu"
    }
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        if x > 0.0 {
            x
        } else {
            p[0] * x
        }
    }
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        if x > 0.0 {
            1.0
        } else {
            p[0]
        }
    }
    fn dparams(&self, x: f32, _: &[f32], dp: &mut [f32]) {
        dp[0] = if x > 0.0 { 0.0 } else { x };
    }
    fn params(&self) -> &[Var] {
        &self.0
    }
}

/// Randomized leaky ReLU, like `torch.nn.functional.rrelu(x, lower, upper, training)`: with
/// `training`, a slope per element drawn from `rng` in `[lower, upper)`; otherwise the slope
/// `(lower + upper)/2`. See [`RRelu`](crate::activation::RRelu) for the layer, which owns its
/// generator.
///
/// # Panics
/// If the bounds are not finite or `lower > upper`.
pub fn rrelu(x: &Var, lower: f32, upper: f32, training: bool, rng: &mut Rng) -> Var {
    if !(lower.is_finite() && upper.is_finite() && lower <= upper) {
        tensor::shape_panic(
            "rrelu",
            format_args!("needs finite lower <= upper, got lower {lower}, upper {upper}"),
        );
    }
    if !training {
        return leaky_relu(x, 0.5 * (lower + upper));
    }
    let drawn = tensor::Tensor::uniform(x.shape(), lower, upper, rng);
    let slopes = tensor::zip_with(
        &x.value(),
        &drawn,
        "rrelu",
        |x, a| {
            if x > 0.0 {
                1.0
            } else {
                a
            }
        },
    );
    x.mul_mask(&slopes)
}

/// `x` for `x > 0`, `α·(eˣ − 1)` otherwise — [`Elu`].
pub fn elu(x: &Var, alpha: f32) -> Var {
    x.pointwise(&Elu::new(alpha))
}

/// Scaled ELU with the self-normalising constants — [`Selu`].
pub fn selu(x: &Var) -> Var {
    x.pointwise(&Selu)
}

/// `x` for `x > 0`, `α·(e^(x/α) − 1)` otherwise — [`Celu`].
pub fn celu(x: &Var, alpha: f32) -> Var {
    x.pointwise(&Celu::new(alpha))
}

/// Exact GELU `x·Φ(x)` — [`Gelu`].
pub fn gelu(x: &Var) -> Var {
    x.pointwise(&Gelu)
}

/// GELU's tanh approximation — [`GeluTanh`] (`approximate='tanh'` in PyTorch).
pub fn gelu_tanh(x: &Var) -> Var {
    x.pointwise(&GeluTanh)
}

/// SiLU `x·σ(x)` — [`Swish`] with β = 1.
pub fn silu(x: &Var) -> Var {
    x.pointwise(&Swish::silu())
}

/// Swish `x·σ(βx)` — [`Swish`].
pub fn swish(x: &Var, beta: f32) -> Var {
    x.pointwise(&Swish::new(beta))
}

/// `x·tanh(softplus(x))` — [`Mish`].
pub fn mish(x: &Var) -> Var {
    x.pointwise(&Mish)
}

/// `1/(1 + e^(−x))` — [`Sigmoid`].
pub fn sigmoid(x: &Var) -> Var {
    x.pointwise(&Sigmoid)
}

/// `tanh(x)` — [`Tanh`].
pub fn tanh(x: &Var) -> Var {
    x.pointwise(&Tanh)
}

/// `ln(1 + e^(βx))/β`, `x` where `βx > threshold` — [`Softplus`] (PyTorch: `beta=1,
/// threshold=20`).
pub fn softplus(x: &Var, beta: f32, threshold: f32) -> Var {
    x.pointwise(&Softplus::new(beta, threshold))
}

/// `x/(1 + |x|)` — [`Softsign`].
pub fn softsign(x: &Var) -> Var {
    x.pointwise(&Softsign)
}

/// `x` clamped to `[min_val, max_val]` — [`Hardtanh`].
pub fn hardtanh(x: &Var, min_val: f32, max_val: f32) -> Var {
    x.pointwise(&Hardtanh::new(min_val, max_val))
}

/// `relu6(x + 3)/6` — [`Hardsigmoid`].
pub fn hardsigmoid(x: &Var) -> Var {
    x.pointwise(&Hardsigmoid)
}

/// `x·relu6(x + 3)/6` — [`Hardswish`].
pub fn hardswish(x: &Var) -> Var {
    x.pointwise(&Hardswish)
}

/// `ln σ(x)` — [`LogSigmoid`].
pub fn logsigmoid(x: &Var) -> Var {
    x.pointwise(&LogSigmoid)
}

/// `x − tanh(x)` — [`Tanhshrink`].
pub fn tanhshrink(x: &Var) -> Var {
    x.pointwise(&Tanhshrink)
}

/// Soft thresholding by `lambd` — [`Softshrink`].
pub fn softshrink(x: &Var, lambd: f32) -> Var {
    x.pointwise(&Softshrink::new(lambd))
}

/// Hard thresholding by `lambd` — [`Hardshrink`].
pub fn hardshrink(x: &Var, lambd: f32) -> Var {
    x.pointwise(&Hardshrink::new(lambd))
}

/// `x` above `threshold`, `value` at or below — [`Threshold`].
pub fn threshold(x: &Var, threshold: f32, value: f32) -> Var {
    x.pointwise(&Threshold::new(threshold, value))
}

/// `max(x, 0)²` — [`SquaredRelu`].
pub fn squared_relu(x: &Var) -> Var {
    x.pointwise(&SquaredRelu)
}

/// `(x + √(x² + b))/2` — [`Squareplus`].
pub fn squareplus(x: &Var, b: f32) -> Var {
    x.pointwise(&Squareplus::new(b))
}

/// `x + sin²(αx)/α` with a fixed `alpha` — [`Snake`].
pub fn snake(x: &Var, alpha: f32) -> Var {
    x.pointwise(&Snake::new(alpha))
}

/// Softmax along `dim` (negative counts from the end) — [`Softmax`].
///
/// # Panics
/// If `dim` is out of range for `x`.
#[track_caller]
pub fn softmax(x: &Var, dim: isize) -> Var {
    Softmax::new(dim).forward(x)
}

/// Log-softmax along `dim` — [`LogSoftmax`].
///
/// # Panics
/// If `dim` is out of range for `x`.
#[track_caller]
pub fn log_softmax(x: &Var, dim: isize) -> Var {
    LogSoftmax::new(dim).forward(x)
}

/// Softmin (softmax of −x) along `dim` — [`Softmin`].
///
/// # Panics
/// If `dim` is out of range for `x`.
#[track_caller]
pub fn softmin(x: &Var, dim: isize) -> Var {
    Softmin::new(dim).forward(x)
}

/// `a ⊙ σ(b)` for the halves of `x` along `dim` — [`Glu`].
///
/// # Panics
/// If `dim` is out of range or the size along it is odd.
#[track_caller]
pub fn glu(x: &Var, dim: isize) -> Var {
    Glu::new(dim).forward(x)
}

/// `silu(a) ⊙ b` for the halves of `x` along `dim` — [`SwiGlu`].
///
/// # Panics
/// If `dim` is out of range or the size along it is odd.
#[track_caller]
pub fn swiglu(x: &Var, dim: isize) -> Var {
    SwiGlu::new(dim).forward(x)
}

/// `gelu(a) ⊙ b` (exact GELU) for the halves of `x` along `dim` — [`GeGlu`].
///
/// # Panics
/// If `dim` is out of range or the size along it is odd.
#[track_caller]
pub fn geglu(x: &Var, dim: isize) -> Var {
    GeGlu::new(dim).forward(x)
}

/// The elementwise activations as methods on [`Var`]: `x.relu()`, `x.mish()`,
/// `x.leaky_relu(0.1)`, … (each the same as the function of this module with that name).
///
/// ```
/// use autograd::Var;
/// use nn::ActivationExt;
/// use tensor::Tensor;
///
/// let x = Var::parameter(Tensor::from_vec(vec![-1.0, 0.0, 2.0], [3]));
/// let y = x.relu();
/// assert_eq!(y.value().to_vec(), vec![0.0, 0.0, 2.0]);
/// y.sum_all().backward();
/// assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.0, 1.0]); // ReLU′(0) = 0
/// ```
pub trait ActivationExt {
    /// [`relu`].
    fn relu(&self) -> Var;
    /// [`relu6`].
    fn relu6(&self) -> Var;
    /// [`leaky_relu`].
    fn leaky_relu(&self, negative_slope: f32) -> Var;
    /// [`elu`].
    fn elu(&self, alpha: f32) -> Var;
    /// [`selu`].
    fn selu(&self) -> Var;
    /// [`celu`].
    fn celu(&self, alpha: f32) -> Var;
    /// [`gelu`] (exact).
    fn gelu(&self) -> Var;
    /// [`gelu_tanh`].
    fn gelu_tanh(&self) -> Var;
    /// [`silu`].
    fn silu(&self) -> Var;
    /// [`swish`].
    fn swish(&self, beta: f32) -> Var;
    /// [`mish`].
    fn mish(&self) -> Var;
    /// [`sigmoid`].
    fn sigmoid(&self) -> Var;
    /// [`tanh`].
    fn tanh(&self) -> Var;
    /// [`softplus`] with PyTorch's defaults `beta = 1`, `threshold = 20`.
    fn softplus(&self) -> Var;
    /// [`softsign`].
    fn softsign(&self) -> Var;
    /// [`hardtanh`].
    fn hardtanh(&self, min_val: f32, max_val: f32) -> Var;
    /// [`hardsigmoid`].
    fn hardsigmoid(&self) -> Var;
    /// [`hardswish`].
    fn hardswish(&self) -> Var;
    /// [`logsigmoid`].
    fn logsigmoid(&self) -> Var;
    /// [`tanhshrink`].
    fn tanhshrink(&self) -> Var;
    /// [`softshrink`].
    fn softshrink(&self, lambd: f32) -> Var;
    /// [`hardshrink`].
    fn hardshrink(&self, lambd: f32) -> Var;
    /// [`squared_relu`].
    fn squared_relu(&self) -> Var;
    /// [`squareplus`].
    fn squareplus(&self, b: f32) -> Var;
    /// [`snake`].
    fn snake(&self, alpha: f32) -> Var;
    /// [`glu`].
    fn glu(&self, dim: isize) -> Var;
    /// [`swiglu`].
    fn swiglu(&self, dim: isize) -> Var;
    /// [`geglu`].
    fn geglu(&self, dim: isize) -> Var;
}

impl ActivationExt for Var {
    fn relu(&self) -> Var {
        relu(self)
    }
    fn relu6(&self) -> Var {
        relu6(self)
    }
    fn leaky_relu(&self, negative_slope: f32) -> Var {
        leaky_relu(self, negative_slope)
    }
    fn elu(&self, alpha: f32) -> Var {
        elu(self, alpha)
    }
    fn selu(&self) -> Var {
        selu(self)
    }
    fn celu(&self, alpha: f32) -> Var {
        celu(self, alpha)
    }
    fn gelu(&self) -> Var {
        gelu(self)
    }
    fn gelu_tanh(&self) -> Var {
        gelu_tanh(self)
    }
    fn silu(&self) -> Var {
        silu(self)
    }
    fn swish(&self, beta: f32) -> Var {
        swish(self, beta)
    }
    fn mish(&self) -> Var {
        mish(self)
    }
    fn sigmoid(&self) -> Var {
        sigmoid(self)
    }
    fn tanh(&self) -> Var {
        tanh(self)
    }
    fn softplus(&self) -> Var {
        softplus(self, 1.0, 20.0)
    }
    fn softsign(&self) -> Var {
        softsign(self)
    }
    fn hardtanh(&self, min_val: f32, max_val: f32) -> Var {
        hardtanh(self, min_val, max_val)
    }
    fn hardsigmoid(&self) -> Var {
        hardsigmoid(self)
    }
    fn hardswish(&self) -> Var {
        hardswish(self)
    }
    fn logsigmoid(&self) -> Var {
        logsigmoid(self)
    }
    fn tanhshrink(&self) -> Var {
        tanhshrink(self)
    }
    fn softshrink(&self, lambd: f32) -> Var {
        softshrink(self, lambd)
    }
    fn hardshrink(&self, lambd: f32) -> Var {
        hardshrink(self, lambd)
    }
    fn squared_relu(&self) -> Var {
        squared_relu(self)
    }
    fn squareplus(&self, b: f32) -> Var {
        squareplus(self, b)
    }
    fn snake(&self, alpha: f32) -> Var {
        snake(self, alpha)
    }
    fn glu(&self, dim: isize) -> Var {
        glu(self, dim)
    }
    fn swiglu(&self, dim: isize) -> Var {
        swiglu(self, dim)
    }
    fn geglu(&self, dim: isize) -> Var {
        geglu(self, dim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tensor::Tensor;

    fn var(v: &[f32]) -> Var {
        Var::parameter(Tensor::from_vec(v.to_vec(), [v.len()]))
    }

    #[test]
    fn methods_and_functions_agree_with_the_layers() {
        let x = var(&[-2.0, -0.5, 0.0, 0.5, 3.0]);
        let pairs: [(Var, Var); 6] = [
            (x.mish(), Mish.forward(&x)),
            (x.leaky_relu(0.2), LeakyRelu::new(0.2).forward(&x)),
            (x.elu(0.7), Elu::new(0.7).forward(&x)),
            (x.softplus(), Softplus::default().forward(&x)),
            (x.gelu_tanh(), GeluTanh.forward(&x)),
            (x.swish(1.5), Swish::new(1.5).forward(&x)),
        ];
        for (a, b) in pairs {
            assert_eq!(a.value(), b.value());
        }
    }

    #[test]
    fn relu_values_and_gradient() {
        let x = var(&[-1.0, 0.0, 2.0]);
        let y = relu(&x);
        assert_eq!(y.value().to_vec(), vec![0.0, 0.0, 2.0]);
        y.sum_all().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.0, 1.0]);
    }

    #[test]
    fn prelu_with_a_caller_weight_gets_its_gradient() {
        let x = var(&[-2.0, 3.0]);
        let w = Var::parameter(Tensor::from_vec(vec![0.25], [1]));
        let y = prelu(&x, &w);
        assert_eq!(y.value().to_vec(), vec![-0.5, 3.0]);
        y.sum_all().backward();
        assert_eq!(w.grad().unwrap().to_vec(), vec![-2.0]);
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.25, 1.0]);
        // per channel
        let x = Var::constant(Tensor::from_vec(vec![-1.0, -1.0, 1.0, -2.0], [2, 2]));
        let w = Var::parameter(Tensor::from_vec(vec![0.5, 0.1], [2]));
        let y = prelu(&x, &w);
        assert_eq!(y.value().to_vec(), vec![-0.5, -0.1, 1.0, -0.2]);
    }

    #[test]
    fn rrelu_eval_is_leaky_with_the_mean_slope() {
        let mut rng = tensor::rng(0);
        let x = var(&[-2.0, 4.0]);
        let y = rrelu(&x, 0.1, 0.3, false, &mut rng);
        let v = y.value().to_vec();
        assert!((v[0] + 0.4).abs() < 1e-6 && v[1] == 4.0, "{v:?}");
        let y = rrelu(&x, 0.1, 0.3, true, &mut rng).value().to_vec();
        assert!((-0.6..-0.2).contains(&y[0]) && y[1] == 4.0, "{y:?}");
    }

    #[test]
    fn axis_functions() {
        let x = Var::constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]));
        let s = softmax(&x, -1).value().to_vec();
        let e = 1.0 / (1.0 + (1f32).exp());
        assert!((s[0] - e).abs() < 1e-6 && (s[0] + s[1] - 1.0).abs() < 1e-6);
        let sm = softmin(&x, 0).value().to_vec();
        assert!((sm[0] + sm[2] - 1.0).abs() < 1e-6 && sm[0] > sm[2]);
        let ls = log_softmax(&x, 1).value().to_vec();
        assert!((ls[0] - e.ln()).abs() < 1e-6);
        // glu: a ⊙ σ(b) with a = [1, 3], b = [2, 4]
        let g = glu(&x, -1).value().to_vec();
        let sig = |v: f32| 1.0 / (1.0 + (-v).exp());
        assert!((g[0] - sig(2.0)).abs() < 1e-6 && (g[1] - 3.0 * sig(4.0)).abs() < 1e-6);
        let sw = swiglu(&x, -1).value().to_vec();
        assert!((sw[0] - sig(1.0) * 2.0).abs() < 1e-6);
        assert_eq!(geglu(&x, 1).dims(), vec![2, 1]);
    }
}
