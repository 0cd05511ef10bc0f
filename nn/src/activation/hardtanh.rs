//! HardTanh (Collobert 2004, "Large scale machine learning").
//!
//! ∂f/∂min_val = 1 if x ≤ min_val, else 0;   ∂f/∂max_val = 1 if x ≥ max_val, else 0
//!
//! Kinks at min_val and max_val: f′ = 0 there, PyTorch's convention (its backward passes the
//! gradient only strictly inside); at those points the bound gets the gradient instead.
//! Beyond PyTorch: either bound can learn.
//!
//! f, f′ and the PyTorch equivalent: [`Hardtanh`].
use super::prelude::*;

documented! {
    /// HardTanh: `x` clamped to `[min_val, max_val]`.
    #[doc(alias = "HardTanh")]
    #[derive(Clone, Debug)]
    pub struct Hardtanh {
        p: RuleParams<2>,
    }

    f "min_val if x < min_val, max_val if x > max_val, else x",
    df "1 if min_val < x < max_val, else 0  (0 at both bounds)",
    pytorch "torch.nn.Hardtanh(min_val=-1.0, max_val=1.0)",
    entry Entry::new("hardtanh", Category::Saturating, |a| {
        let (lo, hi) = (a.param("min_val"), a.param("max_val"));
        if lo.value >= hi.value {
            return Err(a.invalid("min_val", &format!("a number < max_val ({})", hi.value)));
        }
        Ok(Box::new(Hardtanh::new(lo, hi)))
    })
    .args(&[Arg::param("min_val", "-1.0"), Arg::param("max_val", "1.0")])
    .kinks(&[-1.0, 1.0])
    .about("x clamped to [min_val, max_val]: a piecewise-linear tanh")
    .range("[min_val, max_val]"),
}

impl Hardtanh {
    /// Clamping to `[min_val, max_val]`, `min_val < max_val` (each an `f32`, or
    /// [`learnable`]`(init)`).
    pub fn new(min_val: impl Into<Param>, max_val: impl Into<Param>) -> Hardtanh {
        Hardtanh {
            p: RuleParams::new([min_val.into().var(), max_val.into().var()]),
        }
    }
}

impl Default for Hardtanh {
    /// PyTorch's defaults, `[-1, 1]`.
    fn default() -> Hardtanh {
        Hardtanh::new(-1.0, 1.0)
    }
}

impl Pointwise for Hardtanh {
    const CHEAP_DF: bool = true; // a comparison and a select
    fn name(&self) -> &'static str {
        "hardtanh"
    }
    #[inline(always)]
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        // selects rather than `max`/`min`, so that NaN stays NaN (as in PyTorch); not
        // `f32::clamp`, which panics when learnt bounds cross
        if x < p[0] {
            p[0]
        } else if x > p[1] {
            p[1]
        } else {
            x
        }
    }
    #[inline(always)]
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        if x > p[0] && x < p[1] {
            1.0
        } else {
            0.0
        }
    }
    #[inline(always)]
    fn dparams(&self, x: f32, p: &[f32], dp: &mut [f32]) {
        dp[0] = if x <= p[0] { 1.0 } else { 0.0 };
        dp[1] = if x >= p[1] { 1.0 } else { 0.0 };
    }
    fn params(&self) -> &[Var] {
        &self.p
    }
}

impl PointwiseLayer for Hardtanh {
    const LAYER_NAME: &'static str = "Hardtanh";
    const PARAM_NAMES: &'static [&'static str] = &["min_val", "max_val"];
}
