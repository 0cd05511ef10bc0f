//! `tensor` — the values of minidl: `f32` storage in one contiguous row-major buffer, shapes,
//! and the kernels (elementwise, reductions, matmul, convolution) as plain functions.
//! It knows nothing of gradients: that is the `autograd` crate's job.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `shape.rs` | [`Shape`] and the broadcasting rule |
//! | `tensor.rs` | [`Tensor`]: constructors, accessors, copy-on-write |
//! | `elementwise.rs` | `add`, `mul`, `exp`, ..., comparisons, `where_`, in-place updates, operators |
//! | `reduce.rs` | `sum`, `mean`, `max`, `argmax`, `var`, ..., `sum_to` (adjoint of `broadcast_to`), `softmax`, `log_softmax` |
//! | `error.rs` | [`shape_panic`] and [`TensorError`] |

mod display;
mod elementwise;
mod error;
mod reduce;
mod shape;
mod tensor;

pub use elementwise::{broadcast_strides, zip_with};
pub use error::{shape_panic, TensorError};
pub use shape::Shape;
pub use tensor::Tensor;
