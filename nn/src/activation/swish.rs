//! Swish (Ramachandran, Zoph & Le 2017, arXiv:1710.05941), with β = 1 the SiLU (Elfwing,
//! Uchibe & Doya 2017, arXiv:1702.03118; Hendrycks & Gimpel 2016). `silu` is `torch.nn.SiLU()`;
//! PyTorch has no Swish with β ≠ 1 (write `x * torch.sigmoid(beta * x)`).
//!
//! ∂f/∂β = x²·σ(βx)·(1 − σ(βx))
//!
//! `1 − σ(βx)` is computed as `σ(−βx)` (from the same exponential), never by subtraction.
//! Smooth: no kink. β fixed (`swish:beta=1.5`) or learnable (`swish:learnable`, the paper's
//! trainable β).
//!
//! f, f′ and the PyTorch equivalent: [`Swish`].
use super::prelude::*;

documented! {
    /// Swish: `x·σ(βx)`; β = 1 is SiLU.
    #[doc(alias = "SiLU")]
    #[doc(alias = "silu")]
    #[derive(Clone, Debug)]
    pub struct Swish {
        p: RuleParams<1>,
    }

    f "x·σ(βx)",
    df "σ(βx) + βx·σ(βx)·(1 − σ(βx))",
    pytorch "torch.nn.SiLU() (β = 1); x * torch.sigmoid(beta * x) otherwise",
    entry Entry::new("swish", Category::SelfGated, |a| {
        Ok(Box::new(Swish::new(a.param("beta"))))
    })
    .aliases(&["silu"])
    .args(&[Arg::param("beta", "1.0")])
    .about("x gated by σ(βx): smooth, non-monotonic; β = 1 is SiLU, β → ∞ approaches ReLU")
    .range("[≈ −0.2785/β, ∞)"),
}

impl Swish {
    /// With `beta` (an `f32`, or [`learnable`]`(init)`).
    pub fn new(beta: impl Into<Param>) -> Swish {
        Swish {
            p: RuleParams::new([beta.into().var()]),
        }
    }

    /// SiLU: Swish with a fixed β = 1.
    pub fn silu() -> Swish {
        Swish::new(1.0)
    }
}

impl Default for Swish {
    /// β = 1 (SiLU).
    fn default() -> Swish {
        Swish::silu()
    }
}

impl Pointwise for Swish {
    fn name(&self) -> &'static str {
        "swish"
    }
    #[inline(always)]
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        // the same clamped βx as `df` (the clamp changes nothing here), so a pass computing
        // both evaluates σ once
        x * sigmoid((p[0] * x).clamp(-f32::MAX, f32::MAX))
    }
    #[inline(always)]
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        // βx beyond f32's range would make bx·c = ∞·0; at ±f32::MAX the product is already 0
        let bx = (p[0] * x).clamp(-f32::MAX, f32::MAX);
        let (s, c) = sigmoid_pair(bx);
        s * (1.0 + bx * c)
    }
    #[inline(always)]
    fn dparams(&self, x: f32, p: &[f32], dp: &mut [f32]) {
        let (s, c) = sigmoid_pair(p[0] * x);
        dp[0] = (x * s) * (x * c); // not x²·s·c: x² overflows where s·c is 0
    }
    fn params(&self) -> &[Var] {
        &self.p
    }
}

impl PointwiseLayer for Swish {
    const LAYER_NAME: &'static str = "Swish";
    const PARAM_NAMES: &'static [&'static str] = &["beta"];
}
