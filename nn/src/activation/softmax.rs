//! Softmax along an axis.
//!
//! ∂L/∂xᵢ = yᵢ·(gᵢ − Σⱼ gⱼ·yⱼ)      (g = ∂L/∂y)
//!
//! Computed stably (the maximum is subtracted first) by the autograd `softmax` op. PyTorch's
//! `nn.Softmax()` without `dim` picks an axis from the rank, which is deprecated; we default to
//! the last axis, `dim = -1`.
//!
//! f, f′ and the PyTorch equivalent: [`Softmax`].
use super::normalize::{AlongAxis, Normalization};
use super::prelude::*;

documented! {
    /// Softmax along `dim` (negative counts from the end).
    pub type Softmax = AlongAxis<SoftmaxOp>;

    f "e^(xᵢ)/Σⱼ e^(xⱼ)",
    df "∂yᵢ/∂xⱼ = yᵢ·(δᵢⱼ − yⱼ)",
    pytorch "torch.nn.Softmax(dim=-1)",
    entry Entry::new("softmax", Category::Normalizing, |a| {
        Ok(Box::new(Softmax::new(a.int("dim") as isize)))
    })
    .args(&[Arg::int("dim", "-1")])
    .about("exponentiates and normalises along an axis: a probability distribution")
    .range("(0, 1), summing to 1 along dim"),
}

/// The operation of [`Softmax`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SoftmaxOp;

impl Normalization for SoftmaxOp {
    const NAME: &'static str = "softmax";
    const LAYER_NAME: &'static str = "Softmax";
    fn apply(x: &Var, axis: usize) -> Var {
        x.softmax(axis)
    }
}
