//! [`Mish`], from one exponential n = eˣ (x capped at 20, where tanh(sp) = 1 in `f32`):
//! tanh(sp) = d/(d + 2) with d = n·(n + 2), 1 − tanh(sp) = 2/(d + 2), σ(x) = n/(1 + n). No
//! overflow (composed `ln(1 + eˣ)` is ∞ from x ≈ 89) and no cancellation for x ≪ 0. No kink.
use super::prelude::*;

fused_rule! {
    /// Mish (Misra 2019, arXiv:1908.08681).
    Mish = "mish", layer "Mish", SelfGated,
    about "x·tanh(softplus(x)): smooth, non-monotonic, unbounded above, bounded below",
    f(x) = "x·tanh(softplus(x))" { x * parts(x).0 }
    df(x) = "tanh(sp) + x·σ(x)·(1 − tanh²(sp)),  sp = softplus(x)" {
        let ((t, one_minus_t, s), xc) = (parts(x), if x > 20.0 { 20.0 } else { x });
        // x capped as in `parts`: beyond 20 the second term is below 1e-15, but x times the
        // capped 1 − tanh would not be (5e21 at x = 3e38)
        t + xc * s * one_minus_t * (1.0 + t)
    }
    range "[≈ −0.3088, ∞)",
    pytorch "torch.nn.Mish()",
}

/// `(tanh(softplus(x)), 1 − tanh(softplus(x)), σ(x))`.
#[inline(always)]
fn parts(x: f32) -> (f32, f32, f32) {
    let n = exp(if x > 20.0 { 20.0 } else { x }); // a select: NaN stays NaN
    let d = n * (n + 2.0);
    let r = 1.0 / (d + 2.0);
    (d * r, 2.0 * r, n / (1.0 + n))
}
