//! ELU, the exponential linear unit (Clevert, Unterthiner & Hochreiter 2015,
//! arXiv:1511.07289).
//!
//! ∂f/∂α = 0 if x > 0, else eˣ − 1
//!
//! `eˣ − 1` is computed by `expm1`, accurate near 0. Kink at 0 when α ≠ 1: f′(0) = α,
//! PyTorch's convention (its backward takes the `x ≤ 0` branch at 0). Beyond PyTorch: α can
//! learn (`elu:alpha=learnable`).
//!
//! f, f′ and the PyTorch equivalent: [`Elu`].
use super::prelude::*;

documented! {
    /// ELU: `x` for `x > 0`, `α·(eˣ − 1)` otherwise.
    #[doc(alias = "ELU")]
    #[derive(Clone, Debug)]
    pub struct Elu {
        p: RuleParams<1>,
    }

    f "x if x > 0, else α·(eˣ − 1)",
    df "1 if x > 0, else α·eˣ  (f′(0) = α)",
    pytorch "torch.nn.ELU(alpha=1.0)",
    entry Entry::new("elu", Category::NonSaturating, |a| {
        Ok(Box::new(Elu::new(a.param("alpha"))))
    })
    .args(&[Arg::param("alpha", "1.0")])
    .kinks(&[0.0])
    .about("identity for x > 0, smooth exponential saturation to −α below: mean activations near 0")
    .range("(−α, ∞)"),
}

impl Elu {
    /// With `alpha` (an `f32`, or [`learnable`]`(init)`).
    pub fn new(alpha: impl Into<Param>) -> Elu {
        Elu {
            p: RuleParams::new([alpha.into().var()]),
        }
    }
}

impl Default for Elu {
    /// PyTorch's default, `alpha = 1`.
    fn default() -> Elu {
        Elu::new(1.0)
    }
}

impl Pointwise for Elu {
    fn name(&self) -> &'static str {
        "elu"
    }
    #[inline(always)]
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        // min(x, 0): the unused branch never overflows (written as a select so that NaN stays
        // NaN, as in PyTorch; `f32::min` would turn it into 0).
        let neg = p[0] * expm1(if x > 0.0 { 0.0 } else { x });
        if x > 0.0 {
            x
        } else {
            neg
        }
    }
    #[inline(always)]
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        let neg = p[0] * exp(if x > 0.0 { 0.0 } else { x });
        if x > 0.0 {
            1.0
        } else {
            neg
        }
    }
    #[inline(always)]
    fn dparams(&self, x: f32, _: &[f32], dp: &mut [f32]) {
        dp[0] = if x > 0.0 { 0.0 } else { expm1(x) };
    }
    fn params(&self) -> &[Var] {
        &self.p
    }
}

impl PointwiseLayer for Elu {
    const LAYER_NAME: &'static str = "ELU";
    const PARAM_NAMES: &'static [&'static str] = &["alpha"];
}
