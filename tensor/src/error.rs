//! Errors. Shape mistakes are programming errors and panic (like an index out of bounds), with a
//! message that names the operation and the shapes; data from outside comes back as a `Result`.

use std::fmt;

/// Panics with `"{op}: {msg}"`, reported at the caller's line.
///
/// Every shape check in the crate goes through here so that messages look alike:
/// `matmul: inner sizes differ: [64, 784] x [128, 10]`.
#[track_caller]
#[cold]
pub fn shape_panic(op: &str, msg: impl fmt::Display) -> ! {
    panic!("{op}: {msg}")
}

/// Panics unless `bias`, if any, is `[out]`: the bias of a layer whose `weight` has `out`
/// outputs (a dense layer's `[out, in]`, a convolution's `[out, C, kh, kw]`).
#[track_caller]
pub(crate) fn check_bias(
    op: &str,
    bias: Option<&crate::Tensor>,
    out: usize,
    weight: &crate::Shape,
) {
    if let Some(b) = bias {
        if b.dims() != [out] {
            shape_panic(
                op,
                format_args!(
                    "bias must be [{out}] for weight {weight:?}, got {:?}",
                    b.shape()
                ),
            );
        }
    }
}

/// An error building a tensor from data that came from outside the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TensorError {
    /// The data's length is not the number of elements the shape holds.
    LengthMismatch {
        /// Length of the data given.
        len: usize,
        /// The shape asked for.
        dims: Vec<usize>,
        /// Number of elements that shape holds.
        expected: usize,
    },
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TensorError::LengthMismatch {
                len,
                dims,
                expected,
            } => write!(
                f,
                "data has {len} elements but shape {dims:?} holds {expected}; \
                 pass a shape whose sizes multiply to {len}"
            ),
        }
    }
}

impl std::error::Error for TensorError {}
