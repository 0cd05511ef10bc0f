//! [`Tanh`]. With u = expm1(−2|x|) ∈ (−1, 0]: |tanh(x)| = −u/(u + 2) and 1 − |tanh(x)| =
//! 2(u + 1)/(u + 2), so f′ = (1 − |t|)(1 + |t|) keeps its digits where tanh rounds to ±1.
//! Saturating; smooth.
use super::prelude::*;

fused_rule! {
    /// The hyperbolic tangent.
    Tanh = "tanh", layer "Tanh", Saturating,
    about "zero-centred squashing to (−1, 1); saturates on both sides",
    f(x) = "(eˣ − e^(−x))/(eˣ + e^(−x))" { tanh(x) }
    df(x) = "1 − tanh²(x)" {
        let u = expm1(-2.0 * x.abs());
        let r = 1.0 / (u + 2.0);
        (2.0 * (u + 1.0) * r) * (1.0 - u * r)
    }
    range "(−1, 1)",
    pytorch "torch.nn.Tanh()",
}
