//! Function forms: `nn::functional::mish(&x)`, `nn::functional::leaky_relu(&x, 0.1)`, …, like
//! `torch.nn.functional`, and the same as methods on `Var` through [`ActivationExt`]
//! (`x.mish()`, `x.leaky_relu(0.1)`).
//!
//! Each is the activation's layer applied once, with fixed (non-learnable) arguments: the
//! scalar ones go through the one fused [`Pointwise`] op. For a learnable parameter, keep the
//! layer (`Elu::new(learnable(1.0))`), which owns it. They are made from the registry's list
//! (`for_each_activation` in `activation/mod.rs`), so a registered activation has them without
//! a line here; PReLU's (a caller's weight) and RReLU's (a caller's generator) are written out.

use autograd::{Pointwise, Var};
use tensor::Rng;

use crate::activation::for_each_activation;
use crate::activation::layers::*;
use crate::Module;

/// The function forms and [`ActivationExt`] from the registry's list.
macro_rules! functional_forms {
    ($($file:ident [$($ty:ident),*] $($kind:ident $f:ident ($($a:ident: $t:ty),*) = $rule:expr),*;)*) => {
        $($(functional_forms!(@function $kind $file $f($($a: $t),*) = $rule);)*)*

        /// The activations as methods on [`Var`]: `x.relu()`, `x.mish()`, `x.leaky_relu(0.1)`,
        /// … (each the same as the function of this module with that name; `x.softplus()`
        /// takes PyTorch's defaults `beta = 1`, `threshold = 20`).
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
            $($(functional_forms!(@declare $kind $file $f($($a: $t),*) = $rule);)*)*
        }

        impl ActivationExt for Var {
            $($(functional_forms!(@method $kind $file $f($($a: $t),*) = $rule);)*)*
        }
    };
    (@function method $($rest:tt)*) => {};
    (@function $kind:ident $file:ident $f:ident($($a:ident: $t:ty),*) = $rule:expr) => {
        #[doc = concat!("`", stringify!($rule), "` applied to `x` once; f and f′ are in [`",
            stringify!($file), "`](crate::activation::", stringify!($file), ").")]
        ///
        /// # Panics
        /// Where the layer's `forward` does: for the activations along an axis, if `dim` is out
        /// of range (or, for the gated ones, the size along it is odd).
        #[track_caller]
        pub fn $f(x: &Var, $($a: $t),*) -> Var {
            Module::forward(&$rule, x)
        }
    };
    (@declare function $($rest:tt)*) => {};
    (@declare method $file:ident $f:ident($($a:ident: $t:ty),*) = $rule:expr) => {
        #[doc = concat!("`", stringify!($rule), "` applied once (f and f′ in [`", stringify!($file),
            "`](crate::activation::", stringify!($file), ")).")]
        fn $f(&self, $($a: $t),*) -> Var;
    };
    (@declare $kind:ident $file:ident $f:ident($($a:ident: $t:ty),*) = $rule:expr) => {
        #[doc = concat!("`", stringify!($rule), "` applied once, as [`", stringify!($f),
            "`](crate::functional::", stringify!($f), ") (f and f′ in [`", stringify!($file),
            "`](crate::activation::", stringify!($file), ")).")]
        fn $f(&self, $($a: $t),*) -> Var;
    };
    (@method function $($rest:tt)*) => {};
    (@method $kind:ident $file:ident $f:ident($($a:ident: $t:ty),*) = $rule:expr) => {
        fn $f(&self, $($a: $t),*) -> Var {
            Module::forward(&$rule, self)
        }
    };
}
for_each_activation!(functional_forms);

/// Applies any [`Pointwise`] rule elementwise through the fused op (your own included).
pub fn pointwise<P: Pointwise>(x: &Var, rule: &P) -> Var {
    autograd::pointwise(x, rule)
}

/// `x` for `x > 0`, `w·x` otherwise, with `weight` of one element or one per channel (axis 1),
/// like `torch.nn.functional.prelu(x, weight)`; the gradient reaches `weight` if it learns.
///
/// # Panics
/// If `weight` has several elements and `x` does not have that many channels on axis 1.
#[track_caller]
pub fn prelu(x: &Var, weight: &Var) -> Var {
    if weight.shape().numel() == 1 {
        return x.pointwise(&PRelu::with_weight(weight.reshape([1])));
    }
    PRelu::with_weight(weight.clone()).per_channel(x, "weight has")
}

/// Randomized leaky ReLU, like `torch.nn.functional.rrelu(x, lower, upper, training)`: with
/// `training`, a slope per element drawn from `rng` in `[lower, upper)`; otherwise the slope
/// `(lower + upper)/2`. See [`RRelu`] for the layer, which owns its
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
