//! SwiGLU (Shazeer 2020, "GLU variants improve Transformer", arXiv:2002.05202). Not in PyTorch
//! (write `a, b = x.chunk(2, dim=-1); F.silu(a) * b`).
//!
//! Split x along `dim` (default: the last axis) into halves a (first) and b (second); the backward:
//! ∂L/∂a = g ⊙ b ⊙ SiLU′(a),   ∂L/∂b = g ⊙ SiLU(a)
//!
//! As in the paper's `FFN_SwiGLU(x) = (Swish(xW) ⊙ xV)·W₂`, the *first* half (xW) goes through
//! the activation and the second (xV) is the linear path — the other way round from PyTorch's
//! GLU, which puts σ on the second half. Composed from `narrow`, the fused SiLU rule and a
//! product; the size along `dim` must be even and the output has half of it.
//!
//! f, f′ and the PyTorch equivalent: [`SwiGlu`].
use super::gated::{Gate, GatedUnit};
use super::prelude::*;
use super::swish::Swish;

documented! {
    /// SwiGLU: `silu(a) ⊙ b` for the halves `a`, `b` of the input along `dim`.
    #[doc(alias = "SwiGLU")]
    pub type SwiGlu = GatedUnit<SwiGluGate>;

    f "silu(a) ⊙ b,  [a, b] = halves of x along dim",
    df "∂/∂a = b·silu′(a),  ∂/∂b = silu(a)",
    pytorch "none: a, b = x.chunk(2, dim=-1); F.silu(a) * b",
    entry Entry::new("swiglu", Category::Gated, |a| {
        Ok(Box::new(SwiGlu::new(a.int("dim") as isize)))
    })
    .args(&[Arg::int("dim", "-1")])
    .about("halves the input: SiLU of the first half times the second (LLaMA's feed-forward)")
    .range("(−∞, ∞); half the size along dim"),
}

/// SwiGLU's gate: SiLU of the first half.
#[derive(Clone, Copy, Debug, Default)]
pub struct SwiGluGate;

impl Gate for SwiGluGate {
    const NAME: &'static str = "swiglu";
    fn combine(&self, a: &Var, b: &Var) -> Var {
        &a.pointwise(&Swish::silu()) * b
    }
    fn describe(&self, dim: isize) -> String {
        format!("SwiGLU(dim={dim})")
    }
}
