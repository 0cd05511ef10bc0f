//! `optim` — optimizers for minidl: they update leaf parameters ([`autograd::Var`]s) from their
//! gradients, in place and under `no_grad`, with PyTorch's update rules and defaults; plus
//! learning-rate schedules and gradient clipping. It knows nothing of layers.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `optimizer.rs` | the [`Optimizer`] trait (step, zero_grad, lr, state dicts), [`StateError`], and what every optimizer shares: its parameters, lr, step count and named buffers with the one state-dict reader and writer |
//! | `sgd.rs` | [`Sgd`]: momentum, dampening, Nesterov, weight decay |
//! | `adam.rs` | [`Adam`] (L2 decay, AMSGrad) and [`AdamW`] (decoupled decay) |
//! | `rmsprop.rs` | [`RmsProp`]: centred, momentum, weight decay |
//! | `schedule.rs` | [`StepLr`], [`CosineAnnealingLr`], [`LinearWarmup`], [`OneCycleLr`] |
//! | `clip.rs` | [`clip_grad_norm`], [`clip_grad_value`] |
//!
//! ```
//! use autograd::Var;
//! use optim::{Adam, Optimizer};
//! use tensor::Tensor;
//!
//! // fit y = 2x + 1 with a weight and a bias
//! let x = Var::constant(Tensor::from_vec(vec![0.0, 1.0, 2.0, 3.0], [4, 1]));
//! let y = Var::constant(Tensor::from_vec(vec![1.0, 3.0, 5.0, 7.0], [4, 1]));
//! let (w, b) = (Var::parameter(Tensor::zeros([1, 1])), Var::parameter(Tensor::zeros([1])));
//! let mut opt = Adam::new(vec![w.clone(), b.clone()], 0.1);
//! for _ in 0..500 {
//!     let d = &(&x.matmul(&w) + &b) - &y;
//!     let loss = (&d * &d).mean_all();
//!     opt.zero_grad();
//!     loss.backward();
//!     opt.step();
//! }
//! assert!((w.value().item() - 2.0).abs() < 1e-2 && (b.value().item() - 1.0).abs() < 1e-2);
//! ```

mod adam;
mod clip;
mod optimizer;
mod rmsprop;
pub mod schedule;
mod sgd;

pub use adam::{Adam, AdamW};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use optimizer::{Optimizer, StateError, MAX_STEP};
pub use rmsprop::RmsProp;
pub use schedule::{
    Anneal, CosineAnnealingLr, ExponentialLr, LinearWarmup, LrSchedule, OneCycleLr, StepLr,
};
pub use sgd::Sgd;
