//! Mish (Misra 2019, arXiv:1908.08681). Same as `torch.nn.Mish()`.
//!
//! f(x)  = x·tanh(softplus(x))
//! f′(x) = tanh(sp) + x·σ(x)·(1 − tanh²(sp)),   sp = softplus(x)
//!
//! Computed from one exponential n = eˣ (x capped at 20, where tanh(sp) = 1 in `f32`):
//! tanh(ln(1 + n)) = d/(d + 2) with d = n·(n + 2), 1 − tanh(sp) = 2/(d + 2), σ(x) = n/(1 + n).
//! No overflow (composed `ln(1 + eˣ)` is ∞ from x ≈ 89 and its gradient NaN) and no
//! cancellation for x ≪ 0. Smooth: no kink.
use super::prelude::*;

/// Mish: `x·tanh(softplus(x))`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mish;

/// `(tanh(softplus(x)), 1 − tanh(softplus(x)), σ(x))`.
#[inline(always)]
fn parts(x: f32) -> (f32, f32, f32) {
    let n = exp(if x > 20.0 { 20.0 } else { x }); // a select: NaN stays NaN
    let d = n * (n + 2.0);
    let r = 1.0 / (d + 2.0);
    (d * r, 2.0 * r, n / (1.0 + n))
}

impl Pointwise for Mish {
    fn name(&self) -> &'static str {
        "mish"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        x * parts(x).0
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        let (t, one_minus_t, s) = parts(x);
        // x capped as in `parts`: beyond 20 the second term is below 1e-15 (≈ 4x·e⁻²ˣ), but
        // x times the capped 1 − tanh would not be (at x = 3e38 it was 5e21)
        let xc = if x > 20.0 { 20.0 } else { x };
        t + xc * s * one_minus_t * (1.0 + t)
    }
}

impl PointwiseLayer for Mish {
    const LAYER_NAME: &'static str = "Mish";
}

/// Registry entry `mish`.
pub const ENTRY: Entry = Entry::new("mish", Category::SelfGated, |_| Ok(Box::new(Mish)))
    .about("x·tanh(softplus(x)): smooth, non-monotonic, unbounded above, bounded below")
    .formula(
        "x·tanh(softplus(x))",
        "tanh(sp) + x·σ(x)·(1 − tanh²(sp)),  sp = softplus(x)",
    )
    .range("[≈ −0.3088, ∞)")
    .pytorch("torch.nn.Mish()");
