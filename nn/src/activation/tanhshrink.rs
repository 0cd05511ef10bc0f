//! [`Tanhshrink`]. Near 0, `x − tanh(x)` subtracts two nearly equal numbers; for |x| < 0.25 we
//! use its Taylor series x³/3 − 2x⁵/15 + 17x⁷/315 − 62x⁹/2835 instead (truncation error < 1e-9
//! relative). Smooth: no kink.
use super::prelude::*;

fused_rule! {
    /// Tanhshrink, `x − tanh(x)`.
    Tanhshrink = "tanhshrink", layer "Tanhshrink", NonSaturating,
    about "x − tanh(x): flat near 0, slope → 1 for large |x|",
    f(x) = "x − tanh(x)" {
        let x2 = x * x;
        let series =
            x * x2 * (1.0 / 3.0 - x2 * (2.0 / 15.0 - x2 * (17.0 / 315.0 - x2 * (62.0 / 2835.0))));
        if x.abs() < 0.25 { series } else { x - tanh(x) }
    }
    df(x) = "tanh²(x)" {
        let t = tanh(x);
        t * t
    }
    range "(−∞, ∞)",
    pytorch "torch.nn.Tanhshrink()",
}
