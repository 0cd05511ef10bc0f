//! Activations: every one defined once, in its own file, and listed once, in the list of
//! `for_each_activation` below, from which [`REGISTRY`], the function forms and the methods
//! come.
//!
//! Each file `activation/<name>.rs` holds the struct (its parameters), the scalar rule
//! (`f(x)`, `f′(x)`, `∂f/∂p` — an [`autograd::Pointwise`]) or, for the few that need more
//! than one element at a time, a [`Module`](crate::Module) composing `Var` ops, docs with both
//! formulas, the PyTorch equivalent and the paper, and a `pub const ENTRY` for the registry.
//! Every activation is then usable three ways:
//!
//! | as | example |
//! | --- | --- |
//! | a layer | `Sequential::new().push(Mish)`, `.push(LeakyRelu::new(0.1))` |
//! | a function | `nn::functional::mish(&x)`, `x.mish()` (with [`ActivationExt`](crate::ActivationExt)) |
//! | a name | `ActivationSpec::parse("leaky_relu:0.1")?.build()` |
//!
//! # One fused kernel for every scalar rule
//! A [`Pointwise`](autograd::Pointwise) rule becomes a layer through [`PointwiseLayer`] (its
//! PyTorch class name and parameter names) and the blanket `impl<T: PointwiseLayer> Module for
//! T`, whose `forward` is [`autograd::pointwise`]: one pass computing `f` forward, one pass
//! computing `g·f′(x)` backward (plus one for the parameter sums when a parameter learns), no
//! chain of temporaries.
//!
//! # Parameters: fixed or learnable by one switch
//! Every real hyperparameter of a formula (`negative_slope`, `alpha`, `beta`, `lambd`, …) is a
//! one-element [`Var`](autograd::Var) returned by `params()`: a constant when fixed, a
//! parameter when learnable ([`Param`], [`learnable`]). The rule's `dparams` gives `∂f/∂p` for
//! all of them, and the fused op computes the sums only for those that learn. A learnable one shows up in
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
//! **1. Compose `Var` ops** in a closure or a [`Module`](crate::Module): every op has its
//! backward, so yours comes free. Best for a quick idea, or for what is not elementwise.
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
//! **2. Give f and f′** (and `∂f/∂p` for a learnable parameter) as a
//! [`Pointwise`](autograd::Pointwise) rule plus [`PointwiseLayer`]: the fused op makes one forward and one backward pass of it, compiled for
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
//! # Your own activation, by name: [`register`]
//! To reach everything that takes an activation name (`--activation`, `--compare`, the reports,
//! the phenomenon examples, formulas) from your own crate, without editing this crate, give
//! your activation an [`Entry`], made with the same builders as the built-in ones, and
//! [`register`] it at the start of `main`. From then on it is found by name with its
//! arguments (`my_act:s=2`, `my_act:learnable`), listed by [`all`] and [`names`] (so in
//! `--help`, and suggested for a typo) and callable in formulas (`x * my_act(x)`):
//!
//! ```
//! use nn::activation::prelude::*;
//! use nn::activation::{register, ActivationSpec, Softsign};
//!
//! use nn::LeakyRelu;
//!
//! // the built-in LeakyRelu stands in for your layer (a `PointwiseLayer` or any `Module`)
//! const STEEP_LEAKY: Entry = Entry::new("steep_leaky", Category::NonSaturating, |a| {
//!     Ok(Box::new(LeakyRelu::new(a.param("slope"))))
//! })
//! .args(&[Arg::param("slope", "0.3")])
//! .about("leaky ReLU with a steep negative side")
//! .formula("max(0, x) + slope·min(0, x)", "1 if x > 0 else slope");
//!
//! register(STEEP_LEAKY)?;
//! let act = ActivationSpec::parse("steep_leaky:slope=learnable")?;
//! assert_eq!(act.build().named_parameters()[0].1.item(), 0.3);
//! assert!(ActivationSpec::parse("x * steep_leaky(x, 0.5)").is_ok());
//! let typo = ActivationSpec::parse("steep_laeky").unwrap_err().to_string();
//! assert!(typo.contains("did you mean \"steep_leaky\""), "{typo}");
//! # Ok::<(), nn::activation::ParseError>(())
//! ```
//!
//! A name already taken (built in, or registered before), one that is not lower-case letters,
//! digits and `_`, a function or constant of the formulas (`exp`, `pi`), or defaults that do
//! not build are refused with a [`ParseError::Register`] saying which and why. Registration is
//! for the whole process, from any thread; `minidl::lab::main()` then runs the lab's command
//! line (the `mnist` example's) with your activation in it, and `examples/own-crate` is a
//! complete crate that does so with a fused rule.
//!
//! # Adding an activation
//! One file and one line:
//! 1. `activation/<name>.rs`. For a scalar rule without parameters, copy `serf.rs` (18 lines):
//!    `fused_rule!` takes f and f′ once, as the text that the docs and `--describe` show and as
//!    the code; it makes the struct, the rule, the layer and `ENTRY`. With parameters, copy
//!    `squareplus.rs`; along an axis, `softmax.rs` ([`normalize`]); gated, `glu.rs` ([`gated`]).
//! 2. One line in the list of `for_each_activation` below, e.g. `serf [Serf] fn serf() = Serf;`:
//!    it declares the module, re-exports the type (here and at `nn`'s root), registers `ENTRY`
//!    (its place in the list is its place in `--help`), and makes `nn::functional::serf(&x)`
//!    and `x.serf()`.
//!
//! The registry-wide tests (`nn/tests/activations.rs`) then gradcheck its input and parameter
//! gradients in both modes, and check finiteness and kinks, with no new test code. The PyTorch
//! comparison (`nn/tests/activation_fixtures.rs`) wants a case for every entry PyTorch has: one
//! line in `nn/tests/fixtures/make_activation_fixtures.py` (PyTorch's function, or the formula
//! in torch ops), then rerun the script. An entry without a PyTorch counterpart says
//! `no_pytorch "what to write instead"` ([`Entry::no_pytorch`]): then its `f(x)` must be a
//! formula in `x` ([`formula`]), and the test compares the layer with that formula evaluated in
//! `f64` ([`Formula::reference`]) instead.

// The order of the parts, each using only those before it: `suggest`, `scalar`, `error`, `arg`,
// `layer` -> `entry`, `rule` -> `prelude` -> `normalize`, `gated` -> the activations ->
// `registry` -> `formula` (`real` -> `tree` -> `parse`, `eval`, `reference`) -> `spec`.
mod arg;
mod entry;
mod error;
pub mod formula;
pub mod gated;
mod layer;
pub mod normalize;
pub mod prelude;
pub mod registry;
mod rule;
pub mod scalar;
mod spec;
mod suggest;

pub use arg::{Arg, ArgKind};
pub use entry::{Args, BuildFn, Category, Entry};
pub use error::{FormulaError, ParseError};
pub use formula::{Formula, FormulaLayer};
pub use layer::{learnable, resolve_dim, Param, PointwiseLayer};
pub use registry::{all, find, names, register, REGISTRY};
pub use spec::ActivationSpec;

/// The list of every activation, once, in the order `--help` lists them (PyTorch's, then the
/// others); it hands the list to the macro `$then`, which makes one thing from it: the modules
/// and `pub use`s here, [`REGISTRY`] (in `registry.rs`), and the function forms and
/// [`ActivationExt`](crate::ActivationExt) methods (in `functional.rs`).
///
/// A line is `file [Types] forms;`: the file `activation/<file>.rs` (which defines
/// `pub const ENTRY`), the types it exports, then its function forms, each `fn name(args) =
/// layer` (`nn::functional::name(&x, args)` and `x.name(args)`), `function …` (the function
/// only) or `method …` (the method only), where `layer` is the layer applied once. PReLU and
/// RReLU's functions take a weight and a generator, so `functional.rs` writes them by hand.
macro_rules! for_each_activation {
    ($then:ident) => {
        $then! {
            relu [Relu] fn relu() = Relu;
            relu6 [Relu6] fn relu6() = Relu6;
            leaky_relu [LeakyRelu] fn leaky_relu(negative_slope: f32) = LeakyRelu::new(negative_slope);
            prelu [PRelu];
            rrelu [RRelu];
            elu [Elu] fn elu(alpha: f32) = Elu::new(alpha);
            selu [Selu] fn selu() = Selu;
            celu [Celu] fn celu(alpha: f32) = Celu::new(alpha);
            gelu [Gelu, GeluTanh] fn gelu() = Gelu, fn gelu_tanh() = GeluTanh;
            swish [Swish] fn swish(beta: f32) = Swish::new(beta), fn silu() = Swish::silu();
            mish [Mish] fn mish() = Mish;
            sigmoid [Sigmoid] fn sigmoid() = Sigmoid;
            tanh [Tanh] fn tanh() = Tanh;
            softplus [Softplus]
                function softplus(beta: f32, threshold: f32) = Softplus::new(beta, threshold),
                method softplus() = Softplus::default();
            softsign [Softsign] fn softsign() = Softsign;
            hardtanh [Hardtanh] fn hardtanh(min_val: f32, max_val: f32) = Hardtanh::new(min_val, max_val);
            hardsigmoid [Hardsigmoid] fn hardsigmoid() = Hardsigmoid;
            hardswish [Hardswish] fn hardswish() = Hardswish;
            logsigmoid [LogSigmoid] fn logsigmoid() = LogSigmoid;
            tanhshrink [Tanhshrink] fn tanhshrink() = Tanhshrink;
            softshrink [Softshrink] fn softshrink(lambd: f32) = Softshrink::new(lambd);
            hardshrink [Hardshrink] fn hardshrink(lambd: f32) = Hardshrink::new(lambd);
            threshold [Threshold] function threshold(threshold: f32, value: f32) = Threshold::new(threshold, value);
            softmax [Softmax] function softmax(dim: isize) = Softmax::new(dim);
            log_softmax [LogSoftmax] function log_softmax(dim: isize) = LogSoftmax::new(dim);
            softmin [Softmin] function softmin(dim: isize) = Softmin::new(dim);
            glu [Glu] fn glu(dim: isize) = Glu::new(dim);
            squared_relu [SquaredRelu] fn squared_relu() = SquaredRelu;
            squareplus [Squareplus] fn squareplus(b: f32) = Squareplus::new(b);
            snake [Snake] fn snake(alpha: f32) = Snake::new(alpha);
            swiglu [SwiGlu] fn swiglu(dim: isize) = SwiGlu::new(dim);
            geglu [GeGlu] fn geglu(dim: isize) = GeGlu::new(dim);
            serf [Serf] fn serf() = Serf;
        }
    };
}
pub(crate) use for_each_activation;

/// The modules and `pub use`s of [`for_each_activation`]'s list, and [`layers`].
macro_rules! declare {
    ($($file:ident [$($ty:ident),*] $($kind:ident $f:ident ($($a:ident: $t:ty),*) = $rule:expr),*;)*) => {
        $(
            pub mod $file;
            pub use $file::{$($ty),*};
        )*

        /// Every activation's type, for a glob import (`nn`'s root re-exports them:
        /// `nn::Mish`, `nn::LeakyRelu`, …).
        pub mod layers {
            $(pub use super::$file::{$($ty),*};)*
        }
    };
}
for_each_activation!(declare);
