//! SwiGLU (Shazeer 2020, "GLU variants improve Transformer", arXiv:2002.05202). Not in PyTorch
//! (write `a, b = x.chunk(2, dim=-1); F.silu(a) * b`).
//!
//! Split x along `dim` (default: the last axis) into halves a (first) and b (second):
//! f(x)  = SiLU(a) ⊙ b = a·σ(a) ⊙ b
//! ∂L/∂a = g ⊙ b ⊙ SiLU′(a),   ∂L/∂b = g ⊙ SiLU(a)
//!
//! As in the paper's `FFN_SwiGLU(x) = (Swish(xW) ⊙ xV)·W₂`, the *first* half (xW) goes through
//! the activation and the second (xV) is the linear path — the other way round from PyTorch's
//! GLU, which puts σ on the second half. Composed from `narrow`, the fused SiLU rule and a
//! product; the size along `dim` must be even and the output has half of it.
use super::glu::halves;
use super::prelude::*;
use super::swish::Swish;

/// SwiGLU: `silu(a) ⊙ b` for the halves `a`, `b` of the input along `dim`.
#[doc(alias = "SwiGLU")]
#[derive(Clone, Copy, Debug)]
pub struct SwiGlu {
    /// The axis that is halved.
    pub dim: isize,
}

impl SwiGlu {
    /// Halving `dim`.
    pub fn new(dim: isize) -> SwiGlu {
        SwiGlu { dim }
    }
}

impl Default for SwiGlu {
    /// Halving the last axis.
    fn default() -> SwiGlu {
        SwiGlu::new(-1)
    }
}

impl Module for SwiGlu {
    /// # Panics
    /// If `dim` is out of range or the size along it is odd.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        let (a, b) = halves("swiglu", x, self.dim);
        &a.pointwise(&Swish::silu()) * &b
    }
    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}
    /// An activation. `derivative` stays `None`: each output depends on two inputs, so there
    /// is no elementwise f′ (and no saturated fraction).
    fn is_activation(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        format!("SwiGLU(dim={})", self.dim)
    }
}

/// Registry entry `swiglu[:dim]`.
pub const ENTRY: Entry = Entry::new("swiglu", Category::Gated, |a| {
    Ok(Box::new(SwiGlu::new(a.int("dim") as isize)))
})
.args(&[Arg::int("dim", "-1")])
.about("halves the input: SiLU of the first half times the second (LLaMA's feed-forward)")
.formula(
    "silu(a) ⊙ b,  [a, b] = halves of x along dim",
    "∂/∂a = b·silu′(a),  ∂/∂b = silu(a)",
)
.range("(−∞, ∞); half the size along dim")
.pytorch("none: a, b = x.chunk(2, dim=-1); F.silu(a) * b");
