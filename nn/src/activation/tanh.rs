//! The hyperbolic tangent. Same as `torch.nn.Tanh()`.
//!
//! f(x)  = tanh(x) = (eˣ − e^(−x))/(eˣ + e^(−x))
//! f′(x) = 1 − tanh²(x)
//!
//! With u = expm1(−2|x|) ∈ (−1, 0]: |tanh(x)| = −u/(u + 2) and 1 − |tanh(x)| = 2(u + 1)/(u + 2),
//! so f′ = (1 − |t|)(1 + |t|) keeps its digits where tanh rounds to ±1. Saturating; smooth.
use super::prelude::*;

/// Tanh: `(eˣ − e^(−x))/(eˣ + e^(−x))`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tanh;

impl Pointwise for Tanh {
    fn name(&self) -> &'static str {
        "tanh"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        tanh(x)
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        let u = expm1(-2.0 * x.abs());
        let r = 1.0 / (u + 2.0);
        (2.0 * (u + 1.0) * r) * (1.0 - u * r)
    }
}

impl PointwiseLayer for Tanh {
    const LAYER_NAME: &'static str = "Tanh";
}

/// Registry entry `tanh`.
pub const ENTRY: Entry = Entry::new("tanh", Category::Saturating, |_| Ok(Box::new(Tanh)))
    .about("zero-centred squashing to (−1, 1); saturates on both sides")
    .formula("(eˣ − e^(−x))/(eˣ + e^(−x))", "1 − tanh²(x)")
    .range("(−1, 1)")
    .pytorch("torch.nn.Tanh()");
