//! Snake (Liu Ziyin, Hartwig & Ueda 2020, "Neural networks fail to learn periodic functions
//! and how to fix it", arXiv:2006.08195). Not in PyTorch.
//!
//! ∂f/∂α = x·sin(2αx)/α − sin²(αx)/α²
//!
//! A monotone trend plus a periodic ripple of frequency α, which lets a network extrapolate
//! periodic signals. α ≠ 0; it learns by default, as in the paper (`snake:fixed` to keep it).
//! Smooth: no kink.
//!
//! f, f′ and the PyTorch equivalent: [`Snake`].
use super::prelude::*;

documented! {
    /// Snake: `x + sin²(αx)/α`.
    #[derive(Clone, Debug)]
    pub struct Snake {
        p: RuleParams<1>,
    }

    f "x + sin²(αx)/α",
    df "1 + sin(2αx)",
    pytorch "none: x + torch.sin(alpha * x) ** 2 / alpha",
    entry Entry::new("snake", Category::Learnable, |a| {
        let alpha = a.param("alpha");
        if alpha.value == 0.0 {
            return Err(a.invalid("alpha", "a non-zero number"));
        }
        Ok(Box::new(Snake::new(alpha)))
    })
    .args(&[Arg::learnable("alpha", "1.0")])
    .about("x + sin²(αx)/α: a periodic ripple on a linear trend, for periodic data; α learns")
    .range("(−∞, ∞)"),
}

impl Snake {
    /// With frequency `alpha ≠ 0` (an `f32` for a fixed one, or [`learnable`]`(init)`).
    pub fn new(alpha: impl Into<Param>) -> Snake {
        Snake {
            p: RuleParams::new([alpha.into().var()]),
        }
    }
}

impl Default for Snake {
    /// A learnable `alpha` starting at 1.
    fn default() -> Snake {
        Snake::new(learnable(1.0))
    }
}

impl Pointwise for Snake {
    fn name(&self) -> &'static str {
        "snake"
    }
    #[inline(always)]
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        let s = (p[0] * x).sin();
        x + s * s / p[0]
    }
    #[inline(always)]
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        // sin(2αx) as 2·sin(αx)·cos(αx): 2αx overflows to ∞ (and sin(∞) is NaN) for |αx| > 1.7e38
        let (s, c) = (p[0] * x).sin_cos();
        1.0 + 2.0 * s * c
    }
    #[inline(always)]
    fn dparams(&self, x: f32, p: &[f32], dp: &mut [f32]) {
        let a = p[0];
        let (s, c) = (a * x).sin_cos();
        dp[0] = x * (2.0 * s * c) / a - s * s / (a * a);
    }
    fn params(&self) -> &[Var] {
        &self.p
    }
}

impl PointwiseLayer for Snake {
    const LAYER_NAME: &'static str = "Snake";
    const PARAM_NAMES: &'static [&'static str] = &["alpha"];
}
