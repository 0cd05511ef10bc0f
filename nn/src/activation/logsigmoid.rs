//! [`LogSigmoid`], as `min(x, 0) − ln(1 + e^(−|x|))`, which has no `ln(0)` (composed
//! `ln(σ(x))` is −∞ below x ≈ −104); f′ = 1 − σ(x) = σ(−x). Smooth: no kink.
use super::prelude::*;

fused_rule! {
    /// Log-sigmoid, `ln σ(x) = −softplus(−x)`.
    LogSigmoid = "logsigmoid", layer "LogSigmoid", Saturating,
    about "ln σ(x) = −softplus(−x): the log-probability of a logistic output",
    f(x) = "ln σ(x) = −ln(1 + e^(−x))" { log_sigmoid(x) }
    df(x) = "σ(−x)" { sigmoid(-x) }
    range "(−∞, 0)",
    pytorch "torch.nn.LogSigmoid()",
}
