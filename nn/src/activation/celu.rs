//! CELU, the continuously differentiable ELU (Barron 2017, arXiv:1704.07483).
//!
//! ∂f/∂α = 0 if x > 0, else (e^(x/α) − 1) − (x/α)·e^(x/α)
//!
//! Unlike ELU, f′ is continuous at 0 for every α (f′(0) = 1 from both sides, and PyTorch's
//! value), so there is no kink. α must not be 0. Beyond PyTorch: α can learn.
//!
//! f, f′ and the PyTorch equivalent: [`Celu`].
use super::prelude::*;

documented! {
    /// CELU: `x` for `x > 0`, `α·(e^(x/α) − 1)` otherwise.
    #[doc(alias = "CELU")]
    #[derive(Clone, Debug)]
    pub struct Celu {
        p: RuleParams<1>,
    }

    f "x if x > 0, else α·(e^(x/α) − 1)",
    df "1 if x > 0, else e^(x/α)",
    pytorch "torch.nn.CELU(alpha=1.0)",
    entry Entry::new("celu", Category::NonSaturating, |a| {
        let alpha = a.param("alpha");
        if alpha.value == 0.0 {
            return Err(a.invalid("alpha", "a non-zero number"));
        }
        Ok(Box::new(Celu::new(alpha)))
    })
    .args(&[Arg::param("alpha", "1.0")])
    .about("ELU with the exponent scaled by 1/α, so f′ is continuous for every α")
    .range("(−α, ∞)"),
}

impl Celu {
    /// With `alpha ≠ 0` (an `f32`, or [`learnable`]`(init)`).
    pub fn new(alpha: impl Into<Param>) -> Celu {
        Celu {
            p: RuleParams::new([alpha.into().var()]),
        }
    }
}

impl Default for Celu {
    /// PyTorch's default, `alpha = 1`.
    fn default() -> Celu {
        Celu::new(1.0)
    }
}

impl Pointwise for Celu {
    fn name(&self) -> &'static str {
        "celu"
    }
    #[inline(always)]
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        // min(x/α, 0) as a select: NaN stays NaN, as in PyTorch
        let z = x / p[0];
        let neg = p[0] * expm1(if z > 0.0 { 0.0 } else { z });
        if x > 0.0 {
            x
        } else {
            neg
        }
    }
    #[inline(always)]
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        let z = x / p[0];
        let neg = exp(if z > 0.0 { 0.0 } else { z });
        if x > 0.0 {
            1.0
        } else {
            neg
        }
    }
    #[inline(always)]
    fn dparams(&self, x: f32, p: &[f32], dp: &mut [f32]) {
        let z = (x / p[0]).min(0.0);
        dp[0] = if x > 0.0 { 0.0 } else { expm1(z) - z * exp(z) };
    }
    fn params(&self) -> &[Var] {
        &self.p
    }
}

impl PointwiseLayer for Celu {
    const LAYER_NAME: &'static str = "CELU";
    const PARAM_NAMES: &'static [&'static str] = &["alpha"];
}
