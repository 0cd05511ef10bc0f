//! GeGLU (Shazeer 2020, "GLU variants improve Transformer", arXiv:2002.05202). Not in PyTorch
//! (write `a, b = x.chunk(2, dim=-1); F.gelu(a) * b`).
//!
//! Split x along `dim` (default: the last axis) into halves a (first) and b (second); the backward:
//! ∂L/∂a = g ⊙ b ⊙ GELU′(a),   ∂L/∂b = g ⊙ GELU(a)
//!
//! As in the paper's `FFN_GEGLU(x) = (GELU(xW) ⊙ xV)·W₂`, the *first* half goes through the
//! activation (PyTorch's GLU puts σ on the second). GELU is exact by default, or the tanh
//! approximation with `geglu:tanh`. Composed from `narrow`, the fused GELU rule and a product;
//! the size along `dim` must be even and the output has half of it.
//!
//! f, f′ and the PyTorch equivalent: [`GeGlu`].
use super::gated::{Gate, GatedUnit};
use super::gelu::{Gelu, GeluTanh};
use super::prelude::*;

documented! {
    /// GeGLU: `gelu(a) ⊙ b` for the halves `a`, `b` of the input along `dim`.
    #[doc(alias = "GEGLU")]
    pub type GeGlu = GatedUnit<GeGluGate>;

    f "gelu(a) ⊙ b,  [a, b] = halves of x along dim",
    df "∂/∂a = b·gelu′(a),  ∂/∂b = gelu(a)",
    pytorch "none: a, b = x.chunk(2, dim=-1); F.gelu(a) * b",
    entry Entry::new("geglu", Category::Gated, |a| {
        let dim = a.int("dim") as isize;
        Ok(Box::new(match a.choice("approximate") {
            "tanh" => GeGlu::tanh(dim),
            _ => GeGlu::new(dim),
        }))
    })
    .args(&[
        Arg::choice("approximate", &["none", "tanh"]),
        Arg::int("dim", "-1"),
    ])
    .about("halves the input: GELU of the first half times the second (T5 v1.1's feed-forward)")
    .range("(−∞, ∞); half the size along dim"),
}

impl GeGlu {
    /// Halving `dim`, GELU's tanh approximation (`GeGlu::new(dim)`: exact GELU).
    pub fn tanh(dim: isize) -> GeGlu {
        GatedUnit {
            dim,
            gate: GeGluGate { tanh: true },
        }
    }
}

/// GeGLU's gate: GELU of the first half, exact by default.
#[derive(Clone, Copy, Debug, Default)]
pub struct GeGluGate {
    /// Use GELU's tanh approximation instead of the exact form.
    pub tanh: bool,
}

impl Gate for GeGluGate {
    const NAME: &'static str = "geglu";
    fn combine(&self, a: &Var, b: &Var) -> Var {
        let gated = if self.tanh {
            a.pointwise(&GeluTanh)
        } else {
            a.pointwise(&Gelu)
        };
        &gated * b
    }
    fn describe(&self, dim: isize) -> String {
        let approximate = if self.tanh { "tanh" } else { "none" };
        format!("GeGLU(approximate='{approximate}', dim={dim})")
    }
}
