//! Softmin along an axis: softmax of −x. Same as `torch.nn.Softmin(dim=-1)`.
//!
//! f(x)ᵢ = e^(−xᵢ) / Σⱼ e^(−xⱼ)    (along `dim`)
//! ∂L/∂xᵢ = −yᵢ·(gᵢ − Σⱼ gⱼ·yⱼ)
//!
//! Composed: `softmax(−x)`. Default `dim = -1` (PyTorch's implicit dim is deprecated).
use super::normalize::{AlongAxis, Normalization};
use super::prelude::*;

/// Softmin along `dim` (negative counts from the end).
pub type Softmin = AlongAxis<SoftminOp>;

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

/// Registry entry `softmin[:dim]`.
pub const ENTRY: Entry = Entry::new("softmin", Category::Normalizing, |a| {
    Ok(Box::new(Softmin::new(a.int("dim") as isize)))
})
.args(&[Arg::int("dim", "-1")])
.about("softmax of −x: weights favouring the smallest entries")
.formula("e^(−xᵢ)/Σⱼ e^(−xⱼ)", "∂yᵢ/∂xⱼ = −yᵢ·(δᵢⱼ − yⱼ)")
.range("(0, 1), summing to 1 along dim")
.pytorch("torch.nn.Softmin(dim=-1)");
