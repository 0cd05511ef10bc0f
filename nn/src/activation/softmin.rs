//! Softmin along an axis: softmax of −x. Same as `torch.nn.Softmin(dim=-1)`.
//!
//! f(x)ᵢ = e^(−xᵢ) / Σⱼ e^(−xⱼ)    (along `dim`)
//! ∂L/∂xᵢ = −yᵢ·(gᵢ − Σⱼ gⱼ·yⱼ)
//!
//! Composed: `softmax(−x)`. Default `dim = -1` (PyTorch's implicit dim is deprecated).
use super::prelude::*;

/// Softmin along `dim` (negative counts from the end).
#[derive(Clone, Copy, Debug)]
pub struct Softmin {
    /// The axis the weights sum to 1 along.
    pub dim: isize,
}

impl Softmin {
    /// Along `dim`.
    pub fn new(dim: isize) -> Softmin {
        Softmin { dim }
    }
}

impl Default for Softmin {
    /// Along the last axis.
    fn default() -> Softmin {
        Softmin::new(-1)
    }
}

impl Module for Softmin {
    /// # Panics
    /// If `dim` is out of range for `x`.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        x.neg()
            .softmax(resolve_dim("softmin", self.dim, &x.shape()))
    }
    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}
    /// An activation. `derivative` stays `None`: each output depends on its whole row, so there
    /// is no elementwise f′ (and no saturated fraction).
    fn is_activation(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        format!("Softmin(dim={})", self.dim)
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
