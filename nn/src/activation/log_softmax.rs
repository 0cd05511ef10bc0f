//! Log-softmax along an axis.
//!
//! ∂L/∂xᵢ = gᵢ − e^(f(x)ᵢ)·Σⱼ gⱼ     (g = ∂L/∂y)
//!
//! Computed stably (max subtracted, log-sum-exp) by the autograd `log_softmax` op: never
//! `ln(softmax(x))`, which is −∞ where softmax underflows. Default `dim = -1` (PyTorch's
//! implicit dim is deprecated).
//!
//! f, f′ and the PyTorch equivalent: [`LogSoftmax`].
use super::normalize::{AlongAxis, Normalization};
use super::prelude::*;

documented! {
    /// LogSoftmax along `dim` (negative counts from the end).
    pub type LogSoftmax = AlongAxis<LogSoftmaxOp>;

    f "xᵢ − ln Σⱼ e^(xⱼ)",
    df "∂yᵢ/∂xⱼ = δᵢⱼ − softmax(x)ⱼ",
    pytorch "torch.nn.LogSoftmax(dim=-1)",
    entry Entry::new("log_softmax", Category::Normalizing, |a| {
        Ok(Box::new(LogSoftmax::new(a.int("dim") as isize)))
    })
    .args(&[Arg::int("dim", "-1")])
    .about("log of softmax, computed stably: log-probabilities")
    .range("(−∞, 0), log-sum-exp 0 along dim"),
}

/// The operation of [`LogSoftmax`].
#[derive(Clone, Copy, Debug, Default)]
pub struct LogSoftmaxOp;

impl Normalization for LogSoftmaxOp {
    const NAME: &'static str = "log_softmax";
    const LAYER_NAME: &'static str = "LogSoftmax";
    fn apply(x: &Var, axis: usize) -> Var {
        x.log_softmax(axis)
    }
}
