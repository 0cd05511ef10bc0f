//! Activations: every one defined once, in its own file, and listed once, in [`REGISTRY`].
//!
//! Each file `activation/<name>.rs` holds the struct (its parameters), the scalar rule
//! (`f(x)`, `f′(x)`, `∂f/∂p` — an [`autograd::Pointwise`]) or, for the few that need more
//! than one element at a time, a [`Module`] composing `Var` ops, a `//!` doc with both formulas,
//! the PyTorch equivalent and the paper, and a `pub const ENTRY` for the registry. Every
//! activation is then usable three ways:
//!
//! | as | example |
//! | --- | --- |
//! | a layer | `Sequential::new().push(Mish)`, `.push(LeakyRelu::new(0.1))` |
//! | a function | `nn::functional::mish(&x)`, `x.mish()` (with [`ActivationExt`](crate::ActivationExt)) |
//! | a name | `ActivationSpec::parse("leaky_relu:0.1")?.build()` |
//!
//! # One fused kernel for every scalar rule
//! A [`Pointwise`] rule becomes a layer through [`PointwiseLayer`] (its
//! PyTorch class name and parameter names) and the blanket `impl<T: PointwiseLayer> Module for
//! T`, whose `forward` is [`autograd::pointwise`]: one pass computing `f` forward, one pass
//! computing `g·f′(x)` backward (plus one for the parameter sums when a parameter learns), no
//! chain of temporaries.
//!
//! # Parameters: fixed or learnable by one switch
//! Every real hyperparameter of a formula (`negative_slope`, `alpha`, `beta`, `lambd`, …) is a
//! one-element [`Var`] returned by `params()`: a constant when fixed, a parameter when
//! learnable ([`Param`], [`learnable`]). The rule's `dparams` gives `∂f/∂p` for all of them,
//! and the fused op computes the sums only for those that learn. A learnable one shows up in
//! `named_parameters()` under its name (`alpha`), so an optimizer trains it and the diagnostics
//! report its value. From a spec: `elu:alpha=learnable`, `swish:learnable`.
//!
//! # Numerics
//! [`scalar`] holds the stable forms (σ, softplus, log σ, tanh, erf) used by every rule, so no
//! activation gives NaN or ∞, in value or gradient, for any finite input. At points where `f`
//! is not differentiable ([`Entry::kinks`]) each file states the convention, which is PyTorch's
//! (ReLU′(0) = 0).
//!
//! # Your own activation, three ways
//! (`examples/custom_activation.rs` shows and trains all three.)
//!
//! **1. Compose `Var` ops** in a closure or a [`Module`]: every op has its backward, so yours
//! comes free. Best for a quick idea, or for what is not elementwise.
//! ```
//! use nn::{Module, Sigmoid};
//! use autograd::Var;
//!
//! /// x·σ(x)²
//! struct SigmoidSquared;
//! impl Module for SigmoidSquared {
//!     fn forward(&self, x: &Var) -> Var {
//!         let s = x.pointwise(&Sigmoid);
//!         x * &(&s * &s)
//!     }
//!     fn visit_params(&self, _: &str, _: &mut dyn FnMut(&str, &Var)) {}
//!     fn describe(&self) -> String { "SigmoidSquared()".into() }
//! }
//! # let t = tensor::Tensor::from_vec(vec![-1.0, 0.5, 2.0], [3]);
//! autograd::gradcheck(|v: &[Var]| SigmoidSquared.forward(&v[0]), &[t], 1e-2, 1e-2).unwrap();
//! ```
//!
//! **2. Give f and f′** (and `∂f/∂p` for a learnable parameter) as a [`Pointwise`] rule plus
//! [`PointwiseLayer`]: the fused op makes one forward and one backward pass of it, compiled for
//! the CPU's vector instructions (mark `f` and `df` `#[inline(always)]`), with no
//! intermediate tensors. [`autograd::gradcheck_pointwise`] checks f′ and ∂f/∂p against
//! differences of f. Best for speed, and for an activation you will keep (then give it a file
//! and an [`Entry`], see below). The example on [`PointwiseLayer`] is a complete one.
//!
//! **3. A formula string**, parsed at run time into `Var` ops ([`formula`]): anything that
//! takes an activation name takes it, so an idea can be tried from the command line.
//! ```
//! use nn::activation::ActivationSpec;
//! use nn::Module;
//!
//! let act = ActivationSpec::parse("x * sigmoid(1.702 * x)")?; // or "formula:x * …"
//! let layer = act.build();
//! assert_eq!(layer.describe(), "Formula(x * sigmoid(1.702 * x))");
//! let err = ActivationSpec::parse("x * sigmod(x)").unwrap_err().to_string();
//! assert!(err.contains("unknown function \"sigmod\" (did you mean \"sigmoid\"?)"));
//! # Ok::<(), nn::activation::ParseError>(())
//! ```
//!
//! # Adding an activation
//! One file (copy `mish.rs`, or `squareplus.rs` for one with a parameter), then two lines here:
//! `pub mod <name>;` and `<name>::ENTRY,` in [`REGISTRY`] (a `pub use` for the type is a
//! convenience). The registry-wide tests (`nn/tests/activations.rs`) then gradcheck its input
//! and parameter gradients in both modes, and check finiteness and kinks, with no new test
//! code. The PyTorch comparison (`nn/tests/activation_fixtures.rs`) insists on a case for every
//! registered name: one line in `nn/tests/fixtures/make_activation_fixtures.py` (PyTorch's
//! function, or the formula in torch ops), then rerun the script.

use autograd::{Pointwise, Var};
use tensor::{shape_panic, Shape, Tensor};

use crate::module::{format_float, join_name, Module};

pub mod formula;
pub mod prelude;
pub mod registry;
pub mod scalar;

pub mod celu;
pub mod elu;
pub mod geglu;
pub mod gelu;
pub mod glu;
pub mod hardshrink;
pub mod hardsigmoid;
pub mod hardswish;
pub mod hardtanh;
pub mod leaky_relu;
pub mod log_softmax;
pub mod logsigmoid;
pub mod mish;
pub mod prelu;
pub mod relu;
pub mod relu6;
pub mod rrelu;
pub mod selu;
pub mod sigmoid;
pub mod snake;
pub mod softmax;
pub mod softmin;
pub mod softplus;
pub mod softshrink;
pub mod softsign;
pub mod squared_relu;
pub mod squareplus;
pub mod swiglu;
pub mod swish;
pub mod tanh;
pub mod tanhshrink;
pub mod threshold;

pub use celu::Celu;
pub use elu::Elu;
pub use formula::{Formula, FormulaError, FormulaLayer};
pub use geglu::GeGlu;
pub use gelu::{Gelu, GeluTanh};
pub use glu::Glu;
pub use hardshrink::Hardshrink;
pub use hardsigmoid::Hardsigmoid;
pub use hardswish::Hardswish;
pub use hardtanh::Hardtanh;
pub use leaky_relu::LeakyRelu;
pub use log_softmax::LogSoftmax;
pub use logsigmoid::LogSigmoid;
pub use mish::Mish;
pub use prelu::PRelu;
pub use registry::{
    all, find, names, ActivationSpec, Arg, ArgKind, Args, Category, Entry, ParseError,
};
pub use relu::Relu;
pub use relu6::Relu6;
pub use rrelu::RRelu;
pub use selu::Selu;
pub use sigmoid::Sigmoid;
pub use snake::Snake;
pub use softmax::Softmax;
pub use softmin::Softmin;
pub use softplus::Softplus;
pub use softshrink::Softshrink;
pub use softsign::Softsign;
pub use squared_relu::SquaredRelu;
pub use squareplus::Squareplus;
pub use swiglu::SwiGlu;
pub use swish::Swish;
pub use tanh::Tanh;
pub use tanhshrink::Tanhshrink;
pub use threshold::Threshold;

/// Every activation, in the order `--help` lists them: PyTorch's, then the others.
pub const REGISTRY: &[Entry] = &[
    relu::ENTRY,
    relu6::ENTRY,
    leaky_relu::ENTRY,
    prelu::ENTRY,
    rrelu::ENTRY,
    elu::ENTRY,
    selu::ENTRY,
    celu::ENTRY,
    gelu::ENTRY,
    swish::ENTRY,
    mish::ENTRY,
    sigmoid::ENTRY,
    tanh::ENTRY,
    softplus::ENTRY,
    softsign::ENTRY,
    hardtanh::ENTRY,
    hardsigmoid::ENTRY,
    hardswish::ENTRY,
    logsigmoid::ENTRY,
    tanhshrink::ENTRY,
    softshrink::ENTRY,
    hardshrink::ENTRY,
    threshold::ENTRY,
    softmax::ENTRY,
    log_softmax::ENTRY,
    softmin::ENTRY,
    glu::ENTRY,
    squared_relu::ENTRY,
    squareplus::ENTRY,
    snake::ENTRY,
    swiglu::ENTRY,
    geglu::ENTRY,
];

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

    #[test]
    fn pointwise_layers_list_only_learnable_params() {
        let fixed = LeakyRelu::new(0.1);
        assert!(fixed.named_parameters().is_empty());
        assert_eq!(fixed.describe(), "LeakyReLU(negative_slope=0.1)");
        let learns = Elu::new(learnable(0.5));
        let named = learns.named_parameters();
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].0, "alpha");
        assert_eq!(learns.describe(), "ELU(alpha=0.5 (learnable))");
    }

    #[test]
    fn pointwise_layers_are_activations_with_their_df() {
        let x = Tensor::from_vec(vec![-2.0, 0.5], [1, 2]);
        let leaky = LeakyRelu::new(0.1);
        assert!(leaky.is_activation());
        assert_eq!(leaky.derivative(&x).unwrap().to_vec(), vec![0.1, 1.0]);
        let d = Sigmoid.derivative(&x).unwrap();
        assert_eq!(d.dims(), [1, 2]);
        let s = 1.0 / (1.0 + 2f32.exp());
        assert!((d.data()[0] - s * (1.0 - s)).abs() < 1e-7);
    }

    #[test]
    fn a_learnable_parameter_trains() {
        // ∂/∂α Σ elu(x) at x = [-1, -2, 3] is Σ_{x≤0} (eˣ − 1).
        let elu = Elu::new(learnable(1.0));
        let x = Var::constant(Tensor::from_vec(vec![-1.0, -2.0, 3.0], [3]));
        elu.forward(&x).sum_all().backward();
        let g = elu.parameters()[0].grad().unwrap().item();
        let want = ((-1f32).exp() - 1.0) + ((-2f32).exp() - 1.0);
        assert!((g - want).abs() < 1e-6, "{g} vs {want}");
    }
}
