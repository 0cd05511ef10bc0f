//! GeGLU (Shazeer 2020, "GLU variants improve Transformer", arXiv:2002.05202). Not in PyTorch
//! (write `a, b = x.chunk(2, dim=-1); F.gelu(a) * b`).
//!
//! Split x along `dim` (default: the last axis) into halves a (first) and b (second):
//! f(x)  = GELU(a) ⊙ b
//! ∂L/∂a = g ⊙ b ⊙ GELU′(a),   ∂L/∂b = g ⊙ GELU(a)
//!
//! As in the paper's `FFN_GEGLU(x) = (GELU(xW) ⊙ xV)·W₂`, the *first* half goes through the
//! activation (PyTorch's GLU puts σ on the second). GELU is exact by default, or the tanh
//! approximation with `geglu:tanh`. Composed from `narrow`, the fused GELU rule and a product;
//! the size along `dim` must be even and the output has half of it.
use super::gelu::{Gelu, GeluTanh};
use super::glu::halves;
use super::prelude::*;

/// GeGLU: `gelu(a) ⊙ b` for the halves `a`, `b` of the input along `dim`.
#[doc(alias = "GEGLU")]
#[derive(Clone, Copy, Debug)]
pub struct GeGlu {
    /// The axis that is halved.
    pub dim: isize,
    /// Use GELU's tanh approximation instead of the exact form.
    pub tanh: bool,
}

impl GeGlu {
    /// Halving `dim`, exact GELU.
    pub fn new(dim: isize) -> GeGlu {
        GeGlu { dim, tanh: false }
    }

    /// Halving `dim`, GELU's tanh approximation.
    pub fn tanh(dim: isize) -> GeGlu {
        GeGlu { dim, tanh: true }
    }
}

impl Default for GeGlu {
    /// Halving the last axis, exact GELU.
    fn default() -> GeGlu {
        GeGlu::new(-1)
    }
}

impl Module for GeGlu {
    /// # Panics
    /// If `dim` is out of range or the size along it is odd.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        let (a, b) = halves("geglu", x, self.dim);
        let gated = if self.tanh {
            a.pointwise(&GeluTanh)
        } else {
            a.pointwise(&Gelu)
        };
        &gated * &b
    }
    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}
    /// An activation. `derivative` stays `None`: each output depends on two inputs, so there
    /// is no elementwise f′ (and no saturated fraction).
    fn is_activation(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        let approximate = if self.tanh { "tanh" } else { "none" };
        format!("GeGLU(approximate='{approximate}', dim={})", self.dim)
    }
}

/// Registry entry `geglu[:approximate,dim]`.
pub const ENTRY: Entry = Entry::new("geglu", Category::Gated, |a| {
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
.formula(
    "gelu(a) ⊙ b,  [a, b] = halves of x along dim",
    "∂/∂a = b·gelu′(a),  ∂/∂b = gelu(a)",
)
.range("(−∞, ∞); half the size along dim")
.pytorch("none: a, b = x.chunk(2, dim=-1); F.gelu(a) * b");
