//! Log-sigmoid. Same as `torch.nn.LogSigmoid()`.
//!
//! f(x)  = ln σ(x) = −softplus(−x) = min(x, 0) − ln(1 + e^(−|x|))
//! f′(x) = 1 − σ(x) = σ(−x)
//!
//! The stable form has no `ln(0)` (composed `ln(σ(x))` is −∞ below x ≈ −104). Smooth: no kink.
use super::prelude::*;

/// Log-sigmoid: `ln σ(x)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogSigmoid;

impl Pointwise for LogSigmoid {
    fn name(&self) -> &'static str {
        "logsigmoid"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        log_sigmoid(x)
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        sigmoid(-x)
    }
}

impl PointwiseLayer for LogSigmoid {
    const LAYER_NAME: &'static str = "LogSigmoid";
}

/// Registry entry `logsigmoid`.
pub const ENTRY: Entry = Entry::new("logsigmoid", Category::Saturating, |_| {
    Ok(Box::new(LogSigmoid))
})
.about("ln σ(x) = −softplus(−x): the log-probability of a logistic output")
.formula("ln σ(x) = −ln(1 + e^(−x))", "σ(−x)")
.range("(−∞, 0)")
.pytorch("torch.nn.LogSigmoid()");
