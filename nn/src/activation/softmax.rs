//! Softmax along an axis. Same as `torch.nn.Softmax(dim=-1)`.
//!
//! f(x)ᵢ = e^(xᵢ) / Σⱼ e^(xⱼ)      (along `dim`)
//! ∂L/∂xᵢ = yᵢ·(gᵢ − Σⱼ gⱼ·yⱼ)      (g = ∂L/∂y)
//!
//! Computed stably (the maximum is subtracted first) by the autograd `softmax` op. PyTorch's
//! `nn.Softmax()` without `dim` picks an axis from the rank, which is deprecated; we default to
//! the last axis, `dim = -1`.
use super::prelude::*;

/// Softmax along `dim` (negative counts from the end).
#[derive(Clone, Copy, Debug)]
pub struct Softmax {
    /// The axis the probabilities sum to 1 along.
    pub dim: isize,
}

impl Softmax {
    /// Along `dim`.
    pub fn new(dim: isize) -> Softmax {
        Softmax { dim }
    }
}

impl Default for Softmax {
    /// Along the last axis.
    fn default() -> Softmax {
        Softmax::new(-1)
    }
}

impl Module for Softmax {
    /// # Panics
    /// If `dim` is out of range for `x`.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        x.softmax(resolve_dim("softmax", self.dim, &x.shape()))
    }
    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}
    /// An activation. `derivative` stays `None`: each output depends on its whole row, so there
    /// is no elementwise f′ (and no saturated fraction).
    fn is_activation(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        format!("Softmax(dim={})", self.dim)
    }
}

/// Registry entry `softmax[:dim]`.
pub const ENTRY: Entry = Entry::new("softmax", Category::Normalizing, |a| {
    Ok(Box::new(Softmax::new(a.int("dim") as isize)))
})
.args(&[Arg::int("dim", "-1")])
.about("exponentiates and normalises along an axis: a probability distribution")
.formula("e^(xᵢ)/Σⱼ e^(xⱼ)", "∂yᵢ/∂xⱼ = yᵢ·(δᵢⱼ − yⱼ)")
.range("(0, 1), summing to 1 along dim")
.pytorch("torch.nn.Softmax(dim=-1)");
