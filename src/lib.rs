//! `minidl` — a from-scratch deep-learning framework whose first-class citizens are activation
//! functions. This facade re-exports the member crates: [`tensor`], [`autograd`], [`nn`],
//! [`optim`] and [`datasets`].

pub use autograd;
pub use datasets;
pub use nn;
pub use optim;
pub use tensor;
