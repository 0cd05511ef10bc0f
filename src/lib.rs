//! `minidl` — a from-scratch deep-learning framework whose first-class citizens are activation
//! functions. This facade re-exports the member crates: [`tensor`], [`autograd`], [`nn`],
//! [`optim`] and [`datasets`], and owns what the examples share: [`cli`] (command-line
//! arguments), [`lab`] (the training loop, checkpoints), [`metrics`] (per-epoch records, JSON
//! Lines), [`report`] (progress bar, tables, SVG charts, HTML) and [`fs`] (atomic writes).

pub use autograd;
pub use datasets;
pub use nn;
pub use optim;
pub use tensor;

pub mod cli;
pub mod fs;
pub mod lab;
pub mod metrics;
pub mod report;
