//! GLU, the gated linear unit (Dauphin, Fan, Auli & Grangier 2016, arXiv:1612.08083).
//!
//! Split x along `dim` into halves a (first) and b (second); the backward:
//! ∂L/∂a = g ⊙ σ(b),   ∂L/∂b = g ⊙ a ⊙ σ(b)·(1 − σ(b))
//!
//! As in PyTorch, the *second* half goes through σ and gates the first. Composed from `narrow`,
//! the fused sigmoid rule and a product. The size along `dim` must be even; the output has half
//! of it.
//!
//! f, f′ and the PyTorch equivalent: [`Glu`].
use super::gated::{Gate, GatedUnit};
use super::prelude::*;
use super::sigmoid::Sigmoid;

documented! {
    /// GLU: `a ⊙ σ(b)` for the halves `a`, `b` of the input along `dim`.
    pub type Glu = GatedUnit<GluGate>;

    f "a ⊙ σ(b),  [a, b] = halves of x along dim",
    df "∂/∂a = σ(b),  ∂/∂b = a·σ(b)·(1 − σ(b))",
    pytorch "torch.nn.GLU(dim=-1)",
    entry Entry::new("glu", Category::Gated, |a| {
        Ok(Box::new(Glu::new(a.int("dim") as isize)))
    })
    .args(&[Arg::int("dim", "-1")])
    .about("halves the input along dim: the first half gated by σ of the second")
    .range("(−∞, ∞); half the size along dim"),
}

/// GLU's gate: σ of the second half.
#[derive(Clone, Copy, Debug, Default)]
pub struct GluGate;

impl Gate for GluGate {
    const NAME: &'static str = "glu";
    fn combine(&self, a: &Var, b: &Var) -> Var {
        a * &b.pointwise(&Sigmoid)
    }
    fn describe(&self, dim: isize) -> String {
        format!("GLU(dim={dim})")
    }
}
