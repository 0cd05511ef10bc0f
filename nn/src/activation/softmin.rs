//! Softmin along an axis: softmax of −x.
//!
//! ∂L/∂xᵢ = −yᵢ·(gᵢ − Σⱼ gⱼ·yⱼ)
//!
//! Composed: `softmax(−x)`. Default `dim = -1` (PyTorch's implicit dim is deprecated).
//!
//! f, f′ and the PyTorch equivalent: [`Softmin`].
use super::normalize::{AlongAxis, Normalization};
use super::prelude::*;

documented! {
    /// Softmin along `dim` (negative counts from the end).
    pub type Softmin = AlongAxis<SoftminOp>;

    f "e^(−xᵢ)/Σⱼ e^(−xⱼ)",
    df "∂yᵢ/∂xⱼ = −yᵢ·(δᵢⱼ − yⱼ)",
    pytorch "torch.nn.Softmin(dim=-1)",
    entry Entry::new("softmin", Category::Normalizing, |a| {
        Ok(Box::new(Softmin::new(a.int("dim") as isize)))
    })
    .args(&[Arg::int("dim", "-1")])
    .about("softmax of −x: weights favouring the smallest entries")
    .range("(0, 1), summing to 1 along dim"),
}

/// The operation of [`Softmin`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SoftminOp;

impl Normalization for SoftminOp {
    const NAME: &'static str = "softmin";
    const LAYER_NAME: &'static str = "Softmin";
    fn apply(x: &Var, axis: usize) -> Var {
        x.neg().softmax(axis)
    }
}
