//! `optim` — optimizers for minidl: they update leaf parameters ([`autograd::Var`]s) from their
//! gradients, in place and under `no_grad`, with PyTorch's update rules and defaults; plus
//! learning-rate schedules and gradient clipping. It knows nothing of layers.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `optimizer.rs` | the [`Optimizer`] trait (step, zero_grad, lr, state dicts) and [`StateError`] |
//! | `sgd.rs` | [`Sgd`]: momentum, dampening, Nesterov, weight decay |
//! | `adam.rs` | [`Adam`] (L2 decay, AMSGrad) and [`AdamW`] (decoupled decay) |
//! | `rmsprop.rs` | [`RmsProp`]: centred, momentum, weight decay |
//! | `schedule.rs` | [`StepLr`], [`CosineAnnealingLr`], [`LinearWarmup`], [`OneCycleLr`] |
//! | `clip.rs` | [`clip_grad_norm`], [`clip_grad_value`] |
//!
//! ```ignore
//! let mut opt = optim::Adam::new(model.parameters(), 1e-3);
//! for (x, y) in batches {
//!     let loss = nn::loss::cross_entropy(&model.forward(&Var::constant(x)), &y);
//!     opt.zero_grad();
//!     loss.backward();
//!     opt.step();
//! }
//! ```

mod adam;
mod clip;
mod optimizer;
mod rmsprop;
pub mod schedule;
mod sgd;

pub use adam::{Adam, AdamW};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use optimizer::{Optimizer, StateError};
pub use rmsprop::RmsProp;
pub use schedule::{Anneal, CosineAnnealingLr, LinearWarmup, LrSchedule, OneCycleLr, StepLr};
pub use sgd::Sgd;
