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
//! | `matmul.rs` | `matmul`, `matmul_t` (transposes as strides, no copy), [`sgemm`] over the `gemm` crate (AVX-512 or AVX2 chosen at run time) and kernels of our own for a dense layer's products (one that skips a ReLU gradient's zeros), split over threads |
//! | `conv.rs` | `im2col`/`col2im`, `conv2d` and its gradients (NCHW) |
//! | `pool.rs` | `max_pool2d` (with the argmax indices), `avg_pool2d` and their gradients (NCHW) |
//! | `shape_ops.rs` | `transpose`, `permute`, `squeeze`, `concat`, `stack`, `narrow`, `index_select` / `index_add`, `gather` / `scatter_add`, `one_hot` |
//! | `random.rs` | [`Rng`], [`rng`]`(seed)`, `rand`, `randn`, `uniform`, `normal`, `bernoulli` |
//! | `parallel.rs` | [`set_num_threads`], [`num_threads`], [`parallel_pieces`], [`parallel_pieces_zip`]; the thread pool the kernels share |
//! | `error.rs` | [`shape_panic`] and [`TensorError`] |
//! | `gather.rs` | the gather kernel of the sparse backward passes (a sum of scaled rows picked by a list of the gradient's nonzero entries) |
//! | `isa.rs` | the one run-time choice of instruction set (baseline, AVX2 + FMA, AVX-512) for the kernels' compiled copies |
//! | `atomic.rs` | [`atomic::write`]: replacing a file atomically, shared by every crate that writes one |

pub mod atomic;
mod conv;
mod display;
mod elementwise;
mod error;
mod gather;
mod isa;
mod matmul;
mod parallel;
mod pool;
mod random;
mod reduce;
mod scratch;
mod shape;
mod shape_ops;
mod tensor;

pub use conv::{
    col2im, conv2d, conv2d_backward, conv2d_grad_input, conv2d_grad_weight, im2col, Conv2dParams,
};
pub use elementwise::{broadcast_strides, zip_with};
pub use error::{shape_panic, TensorError};
pub use matmul::sgemm;
pub use parallel::{num_threads, parallel_pieces, parallel_pieces_zip, set_num_threads};
pub use pool::{avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward, Pool2dParams};
pub use random::{rng, Rng};
pub use shape::Shape;
pub use tensor::Tensor;
