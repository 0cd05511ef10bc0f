//! What every activation layer shares: [`Param`] (a hyperparameter, fixed or learnable),
//! [`PointwiseLayer`] (a scalar rule as a layer, through the fused op) and [`resolve_dim`].

use autograd::{Pointwise, Var};
use tensor::{shape_panic, Shape, Tensor};

use crate::module::{format_float, join_name, Module};

/// The initial value of a scalar hyperparameter, and whether it learns. An `f32` converts to a
/// fixed one: `LeakyRelu::new(0.1)`, `LeakyRelu::new(learnable(0.1))`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Param {
    /// The (initial) value.
    pub value: f32,
    /// Whether it is a learnable parameter (else a constant).
    pub learnable: bool,
}

impl Param {
    /// A constant.
    pub const fn fixed(value: f32) -> Param {
        Param {
            value,
            learnable: false,
        }
    }

    /// A learnable parameter starting at `value`.
    pub const fn learnable(value: f32) -> Param {
        Param {
            value,
            learnable: true,
        }
    }

    /// The one-element `Var` (shape `[1]`, like PyTorch's `PReLU.weight`): a
    /// [`Var::parameter`] if learnable, else a [`Var::constant`].
    pub fn var(self) -> Var {
        let t = Tensor::from_vec(vec![self.value], [1]);
        if self.learnable {
            Var::parameter(t)
        } else {
            Var::constant(t)
        }
    }
}

impl From<f32> for Param {
    fn from(value: f32) -> Param {
        Param::fixed(value)
    }
}

/// A learnable parameter starting at `value`: `Elu::new(learnable(1.0))`.
pub fn learnable(value: f32) -> Param {
    Param::learnable(value)
}

/// A [`Pointwise`] rule that is also a layer: its PyTorch class name and the names of its
/// `params()`. Every such rule is a [`Module`] by the blanket impl below, whose `forward` is the
/// fused [`autograd::pointwise`] op.
///
/// ```
/// use nn::activation::prelude::*;
///
/// /// f(x) = x·σ(x)², a made-up activation.
/// #[derive(Clone)]
/// struct Sig2;
///
/// impl Pointwise for Sig2 {
///     fn name(&self) -> &'static str { "sig2" }
///     fn f(&self, x: f32, _: &[f32]) -> f32 { x * sigmoid(x) * sigmoid(x) }
///     fn df(&self, x: f32, _: &[f32]) -> f32 {
///         let (s, c) = sigmoid_pair(x);
///         s * s + 2.0 * x * s * s * c
///     }
/// }
///
/// impl PointwiseLayer for Sig2 {
///     const LAYER_NAME: &'static str = "Sig2";
/// }
///
/// let layer: Box<dyn Module> = Box::new(Sig2);
/// let y = layer.forward(&Var::constant(Tensor::from_vec(vec![0.0, 2.0], [2])));
/// assert_eq!(y.value().get(&[0]), 0.0);
/// assert_eq!(layer.describe(), "Sig2()");
/// ```
pub trait PointwiseLayer: Pointwise {
    /// The class name PyTorch prints (`"LeakyReLU"`).
    const LAYER_NAME: &'static str;

    /// The names of `params()`, in order (`["negative_slope"]`): the names learnable ones get
    /// in `named_parameters()`, and the keys of [`extra_repr`](PointwiseLayer::extra_repr).
    const PARAM_NAMES: &'static [&'static str] = &[];

    /// What goes inside the parentheses when printed, like PyTorch's `extra_repr`. Default:
    /// `name=value` for each parameter (`negative_slope=0.01`), `(learnable)` after one that
    /// learns.
    fn extra_repr(&self) -> String {
        let parts: Vec<String> = Self::PARAM_NAMES
            .iter()
            .zip(self.params())
            .map(|(name, p)| {
                let learns = if p.requires_grad() {
                    " (learnable)"
                } else {
                    ""
                };
                format!("{name}={}{learns}", format_float(p.item()))
            })
            .collect();
        parts.join(", ")
    }
}

impl<T: PointwiseLayer> Module for T {
    /// `f` elementwise, through the one fused op.
    fn forward(&self, x: &Var) -> Var {
        x.pointwise(self)
    }

    /// The learnable ones among `params()`, named by `PARAM_NAMES`.
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
        debug_assert_eq!(
            T::PARAM_NAMES.len(),
            self.params().len(),
            "{}",
            T::LAYER_NAME
        );
        for (name, p) in T::PARAM_NAMES.iter().zip(self.params()) {
            if p.requires_grad() {
                f(&join_name(prefix, name), p);
            }
        }
    }

    /// `LAYER_NAME(extra_repr)`: `"LeakyReLU(negative_slope=0.01)"`.
    fn describe(&self) -> String {
        format!("{}({})", T::LAYER_NAME, self.extra_repr())
    }

    /// Always `true`: a scalar rule is an activation.
    fn is_activation(&self) -> bool {
        true
    }

    /// The rule's `df` at every element of `x`, at the parameters' current values.
    fn derivative(&self, x: &Tensor) -> Option<Tensor> {
        let p = self.param_values();
        Some(x.map(|v| self.df(v, &p)))
    }
}

/// A PyTorch-style `dim` (negative counts from the end) as an axis of `shape`.
///
/// # Panics
/// If `dim` is outside `-rank..rank`, naming `op` and the shape.
#[track_caller]
pub fn resolve_dim(op: &str, dim: isize, shape: &Shape) -> usize {
    let rank = shape.rank() as isize;
    let axis = if dim < 0 { dim + rank } else { dim };
    if axis < 0 || axis >= rank {
        shape_panic(
            op,
            format_args!("dim {dim} is out of range for shape {shape:?} (rank {rank})"),
        );
    }
    axis as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_makes_constant_or_parameter() {
        let fixed = Param::from(0.5).var();
        assert!(!fixed.requires_grad());
        assert_eq!(fixed.value().to_vec(), vec![0.5]);
        let learns = learnable(2.0).var();
        assert!(learns.requires_grad());
        assert_eq!(learns.dims(), vec![1]);
    }

    #[test]
    fn resolve_dim_counts_from_the_end() {
        let s = Shape::from([2, 3, 4]);
        assert_eq!(resolve_dim("softmax", -1, &s), 2);
        assert_eq!(resolve_dim("softmax", 0, &s), 0);
        assert_eq!(resolve_dim("softmax", -3, &s), 0);
    }

    #[test]
    #[should_panic(expected = "softmax: dim -4 is out of range for shape [2, 3, 4] (rank 3)")]
    fn resolve_dim_rejects_out_of_range() {
        resolve_dim("softmax", -4, &Shape::from([2, 3, 4]));
    }
}
