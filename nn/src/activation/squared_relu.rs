//! Squared ReLU, from Primer (So, Mańke, Liu, Dai, Shazeer & Le 2021, arXiv:2109.08668).
//! Not in PyTorch (write `torch.relu(x) ** 2`).
//!
//! f(x)  = max(x, 0)²
//! f′(x) = 2·max(x, 0)
//!
//! f′ is continuous (f′(0) = 0 from both sides), so there is no kink.
use super::prelude::*;

/// Squared ReLU: `max(x, 0)²`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SquaredRelu;

impl Pointwise for SquaredRelu {
    const CHEAP_DF: bool = true; // a comparison and a select and a multiplication
    fn name(&self) -> &'static str {
        "squared_relu"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        // a select rather than `f32::max`, so that NaN stays NaN
        let r = if x <= 0.0 { 0.0 } else { x };
        r * r
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        2.0 * if x <= 0.0 { 0.0 } else { x }
    }
}

impl PointwiseLayer for SquaredRelu {
    const LAYER_NAME: &'static str = "SquaredReLU";
}

/// Registry entry `squared_relu`.
pub const ENTRY: Entry = Entry::new("squared_relu", Category::NonSaturating, |_| {
    Ok(Box::new(SquaredRelu))
})
.about("max(x, 0)²: Primer's transformer feed-forward activation")
.formula("max(x, 0)²", "2·max(x, 0)")
.range("[0, ∞)")
.pytorch("none: torch.relu(x) ** 2");
