//! [`Serf`]. σ(x) = ∂sp/∂x and e^(−sp²) come from the stable helpers, and `x·(σ·g)` is
//! multiplied in that order so that x ≈ f32::MAX times a vanishing e^(−sp²) is 0, not ∞·0.
//! Smooth: no kink.
use super::prelude::*;

fused_rule! {
    /// SERF, log-softplus error activation (Nag & Bhattacharyya 2021, arXiv:2108.09598).
    Serf = "serf", layer "Serf", SelfGated,
    about "x·erf(ln(1 + eˣ)): smooth, non-monotonic, like Mish with erf in place of tanh",
    f(x) = "x·erf(softplus(x))" { x * erf(softplus(x)) }
    df(x) = "erf(sp) + x·σ(x)·(2/√π)·e^(−sp²),  sp = softplus(x)" {
        let sp = softplus(x);
        let gauss = std::f32::consts::FRAC_2_SQRT_PI * exp_neg_square(sp);
        erf(sp) + x * (sigmoid(x) * gauss)
    }
    range "[≈ −0.3484, ∞)",
    no_pytorch "none: x * torch.erf(F.softplus(x))",
}
