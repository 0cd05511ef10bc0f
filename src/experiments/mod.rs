//! The phenomenon experiments as a library: each trains a set of activations on the same
//! model, measures one phenomenon, prints a table and a conclusion, and can write a report.
//! The programs in `examples/` are thin `main`s over these modules, so a crate of one's own
//! (with activations it registers at run time) can run the same experiments: call
//! [`dead_relu::main`] from its `main`, or parse an [`Args`](dead_relu::Args) and call
//! [`dead_relu::run`].
//!
//! - [`dead_relu`]: dead ReLU units before and after training at a high learning rate.
//! - [`vanishing_gradients`]: per-layer gradient norms of a deep narrow MLP.
//! - [`convergence`]: training loss after N steps and test accuracy over seeds.
//! - [`regularisation`]: the train/test accuracy gap of relu, leaky_relu and rrelu.
//! - [`common`]: what they share (flags, data, tables, report).
//!
//! Every `--activations` item is an activation spec as the `mnist` example takes it: a
//! registry name with arguments (`leaky_relu:0.1`) or a formula in `x`.

pub mod common;
pub mod convergence;
pub mod dead_relu;
pub mod regularisation;
pub mod vanishing_gradients;
