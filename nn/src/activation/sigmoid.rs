//! [`Sigmoid`]. f and f′ are computed from e^(−|x|) ≤ 1 (no overflow on either side) and
//! `1 − σ(x)` as `σ(−x)` (exact where σ(x) rounds to 1). Saturates: f′ < 1e-4 for |x| > 9.2.
//! Smooth: no kink.
use super::prelude::*;

fused_rule! {
    /// The logistic sigmoid σ.
    Sigmoid = "sigmoid", layer "Sigmoid", Saturating,
    about "the logistic function: squashes to (0, 1), saturates on both sides",
    f(x) = "1/(1 + e^(−x))" { sigmoid(x) }
    df(x) = "σ(x)·(1 − σ(x))" {
        let (s, c) = sigmoid_pair(x);
        s * c
    }
    range "(0, 1)",
    pytorch "torch.nn.Sigmoid()",
}
