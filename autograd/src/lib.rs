//! `autograd` — reverse-mode automatic differentiation for minidl. It owns [`Var`] (a node of
//! the graph), the [`Function`] trait (one op: forward and backward), the backward walk,
//! [`no_grad()`], gradient hooks, [`gradcheck()`], the Graphviz picture, the built-in ops, and the
//! [`Pointwise`] trait with its one fused op. It knows nothing of layers or optimizers.
//!
//! # How it works, in one page
//!
//! **The graph is built as the program runs** ("define-by-run", as in PyTorch). Every op on
//! [`Var`]s computes its value at once and returns a new `Var` that remembers the [`Function`]
//! that made it and the `Var`s it was applied to. Those links *are* the graph: there is no
//! graph object, and an `if` or a loop in your code simply builds a different graph.
//!
//! ```
//! use autograd::Var;
//! use tensor::Tensor;
//!
//! let w = Var::parameter(Tensor::from_vec(vec![0.5, -1.0], [2])); // a leaf that learns
//! let x = Var::constant(Tensor::from_vec(vec![2.0, 3.0], [2]));   // a leaf that does not
//! let loss = (&w * &x).sum_all();                                  // two recorded ops
//! loss.backward();
//! assert_eq!(w.grad().unwrap().to_vec(), vec![2.0, 3.0]);          // ∂loss/∂w = x
//! ```
//!
//! **A `Var`** (`var.rs`) is a cheap handle (`Rc`) on a node holding the value, the gradient
//! (for leaves that require one), and how it was made. Leaves come from [`Var::parameter`]
//! and [`Var::constant`]; a result requires grad when one of its inputs does.
//!
//! **A [`Function`]** (`function.rs`) is one differentiable operation. `forward` computes the
//! output from the input tensors and keeps what `backward` will need (inputs, the output,
//! masks); `backward` gets `g = ∂loss/∂output` and returns `∂loss/∂input` for each input —
//! the chain rule, one op at a time. For `y = a·b` it returns `g·b` and `g·a`. Every built-in
//! op (`ops/arith.rs`, `ops/reduce.rs`, `ops/shape.rs`, `ops/matmul.rs`, `ops/conv.rs`,
//! `ops/pool.rs`) is a `Function` whose `forward` and `backward` sit side by side, and your own
//! op is written the same way and recorded with [`Var::apply`]. Adding an op means writing
//! one `Function` in one place.
//!
//! **The walk** ([`Var::backward`], `backward.rs`) is micrograd's algorithm for tensors:
//! 1. sort the graph topologically, so that every node comes after the inputs it was made
//!    from — a depth-first search with an explicit stack, so a 100,000-op chain does not
//!    overflow the call stack;
//! 2. seed the loss with gradient 1 (`∂loss/∂loss`), then go through the order backwards:
//!    when a node is reached, every use of it has already sent its share, so its gradient is
//!    complete; its `Function::backward` turns it into its inputs' gradients, and after each
//!    node the walk checks that each gradient has its input's shape (the panic names the op)
//!    and shows the op's gradients to an observer, if one is watching (anomaly mode is one);
//! 3. free the graph as it goes (each node drops its `Function`, with its saved tensors, and
//!    its input links), unless asked to keep it ([`Var::backward_retain`]). A second
//!    `backward()` through a freed graph panics and says so.
//!
//! **Accumulation.** Gradients arriving at a node are *added*, never overwritten: in
//! `y = x·x + x`, `x` receives `x` and `x` from the product and `1` from the sum, so
//! `∂y/∂x = 2x + 1`. Leaves that require grad keep the sum in [`Var::grad`], and keep adding
//! over several `backward()` calls until [`Var::zero_grad`] (what an optimizer's `zero_grad`
//! does). Intermediate results pass their gradient on and keep none, as in PyTorch, unless
//! asked with [`Var::retain_grad`]; [`Var::register_hook`] (`hooks.rs`) lets you watch (or
//! replace) the gradient flowing through any `Var` — that is how per-layer gradient norms are
//! measured.
//!
//! **Broadcasting.** When `b` of shape `[3]` is added to `a` of shape `[2, 3]`, each element
//! of `b` is used twice, so its gradient is the sum of two upstream gradients:
//! [`Tensor::sum_to`](tensor::Tensor::sum_to) sums over the broadcast axes.
//!
//! **[`no_grad()`]** (`no_grad.rs`) switches recording off: inside it ops return constants and
//! keep nothing, which is what evaluation and optimizer updates want.
//!
//! **Checking.** [`gradcheck()`] (`gradcheck.rs`) compares `backward()`'s gradient with
//! central finite differences for every input element; run it on every `Function` you write.
//! [`Var::to_dot`] (`dot.rs`) draws the graph with Graphviz, with every gradient kept.
//!
//! **Elementwise rules.** A [`Pointwise`] rule (`pointwise.rs`) gives `f(x)`, `f′(x)` and the
//! derivatives in its learnable parameters; [`PointwiseOp`] turns any rule into one fused
//! forward pass and one fused backward pass, split over threads in fixed pieces. Activations
//! are built this way. A rule is shared by those threads, so it keeps its parameter `Var`s in a
//! [`RuleParams`], which only the thread that made them can open.
//!
//! # Files
//! | file | what it holds |
//! | --- | --- |
//! | `var.rs` | [`Var`], its node (value, gradient, origin, hooks), leaves, iterative drop of long graphs |
//! | `function.rs` | the [`Function`] trait |
//! | `apply.rs` | [`Var::apply`]: run a `Function` forward and record it |
//! | `backward.rs` | the topological sort and the reverse walk; [`Var::retain_grad`] |
//! | `no_grad.rs` | [`no_grad()`], [`NoGradGuard`], [`is_grad_enabled`] |
//! | `hooks.rs` | [`Var::register_hook`], [`HookHandle`]; the walk's observer hook point |
//! | `gradcheck.rs` | [`gradcheck()`], [`gradcheck_with`], [`gradcheck_params`], [`gradcheck_pointwise`] |
//! | `dot.rs` | [`Var::to_dot`] |
//! | `anomaly.rs` | [`detect_anomaly`], [`take_anomaly`], [`module_scope`]: the first NaN/∞ and where it arose (the walk's observer) |
//! | `pointwise.rs` | [`Pointwise`], [`PointwiseOp`], [`pointwise()`], [`RuleParams`], the kernels per instruction set ([`Isa`]), split over threads in pieces of [`PIECE`] |
//! | `ops/*.rs` | the built-in ops, one `Function` each, as methods on `Var` and operators |
//!
//! The modules depend one way, each on some of those before it: `function`, `no_grad` →
//! `var` → `hooks` → `anomaly` → `apply` → `backward`, `dot`, `ops`, `pointwise` → `gradcheck`.

mod anomaly;
mod apply;
mod backward;
mod dot;
mod function;
mod gradcheck;
mod hooks;
mod no_grad;
mod ops;
mod pointwise;
mod var;

pub use anomaly::{
    detect_anomaly, is_anomaly_enabled, module_path, module_scope, take_anomaly, Anomaly,
    AnomalyGuard, ModuleScope, Phase,
};
pub use function::Function;
pub use gradcheck::{
    gradcheck, gradcheck_params, gradcheck_pointwise, gradcheck_with, GradcheckError,
    GradcheckOptions,
};
pub use hooks::HookHandle;
pub use no_grad::{is_grad_enabled, no_grad, NoGradGuard};
pub use pointwise::{
    pointwise, pointwise_isa, set_pointwise_isa, Isa, Pointwise, PointwiseOp, RuleParams, PIECE,
};
pub use var::Var;
