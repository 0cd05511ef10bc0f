//! [`SquaredRelu`]. f′ is continuous (f′(0) = 0 from both sides), so there is no kink.
use super::prelude::*;

fused_rule! {
    /// Squared ReLU, from Primer (So, Mańke, Liu, Dai, Shazeer & Le 2021, arXiv:2109.08668).
    SquaredRelu = "squared_relu", layer "SquaredReLU", NonSaturating,
    about "max(x, 0)²: Primer's transformer feed-forward activation",
    // a select rather than `f32::max`, so that NaN stays NaN
    f(x) = "max(x, 0)²" {
        let r = if x <= 0.0 { 0.0 } else { x };
        r * r
    }
    df(x) = "2·max(x, 0)" { 2.0 * if x <= 0.0 { 0.0 } else { x } }
    range "[0, ∞)",
    pytorch "none: torch.relu(x) ** 2",
    cheap_df = true,
}
