//! Threshold.
//!
//! ∂f/∂value = 0 if x > threshold, else 1
//!
//! f jumps at the threshold (unless value = threshold), so the threshold is a fixed number (its
//! gradient would be a Dirac spike); `value` can learn. Kink (jump) at the threshold:
//! f′ = 0 there, PyTorch's convention (`x ≤ threshold` gets `value`).
//!
//! f, f′ and the PyTorch equivalent: [`Threshold`].
use super::prelude::*;

documented! {
    /// Threshold: `x` above `threshold`, `value` at or below it.
    #[derive(Clone, Debug)]
    pub struct Threshold {
        threshold: f32,
        p: RuleParams<1>,
    }

    f "x if x > threshold, else value",
    df "1 if x > threshold, else 0",
    pytorch "torch.nn.Threshold(threshold, value)",
    entry Entry::new("threshold", Category::NonSaturating, |a| {
        Ok(Box::new(Threshold::new(
            a.number("threshold"),
            a.param("value"),
        )))
    })
    .args(&[
        Arg::number("threshold", "0.1").required(),
        Arg::param("value", "20").required(),
    ])
    .kinks(&[0.1])
    .about("x above a threshold, a constant value at or below it")
    .range("{value} ∪ (threshold, ∞)"),
}

impl Threshold {
    /// Replaces `x ≤ threshold` by `value` (an `f32`, or [`learnable`]`(init)`).
    pub fn new(threshold: f32, value: impl Into<Param>) -> Threshold {
        Threshold {
            threshold,
            p: RuleParams::new([value.into().var()]),
        }
    }
}

impl Pointwise for Threshold {
    const CHEAP_DF: bool = true; // a comparison and a select
    fn name(&self) -> &'static str {
        "threshold"
    }
    #[inline(always)]
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        // `x <= threshold` rather than `x > threshold` so that NaN passes through, as in PyTorch
        if x <= self.threshold {
            p[0]
        } else {
            x
        }
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        if x > self.threshold {
            1.0
        } else {
            0.0
        }
    }
    #[inline(always)]
    fn dparams(&self, x: f32, _: &[f32], dp: &mut [f32]) {
        dp[0] = if x > self.threshold { 0.0 } else { 1.0 };
    }
    fn params(&self) -> &[Var] {
        &self.p
    }
}

impl PointwiseLayer for Threshold {
    const LAYER_NAME: &'static str = "Threshold";
    const PARAM_NAMES: &'static [&'static str] = &["value"];
    fn extra_repr(&self) -> String {
        let learns = if self.p[0].requires_grad() {
            " (learnable)"
        } else {
            ""
        };
        format!(
            "threshold={}, value={}{learns}",
            format_float(self.threshold),
            format_float(self.p[0].item())
        )
    }
}
