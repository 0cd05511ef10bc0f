//! Softplus (Dugas et al. 2001, "Incorporating second-order functional knowledge for better
//! option pricing").
//!
//! ∂f/∂β = (x·σ(βx) − f(x))/β, and 0 where βx > threshold
//!
//! `ln(1 + e^z)` is computed as `max(z, 0) + ln(1 + e^(−|z|))`: finite for every z. The
//! threshold is PyTorch's switch to the identity, where the two agree to `f32` precision, so
//! it is a fixed number, not a learnable parameter. Beyond PyTorch: β can learn.
//!
//! f, f′ and the PyTorch equivalent: [`Softplus`].
use super::prelude::*;

documented! {
    /// Softplus: `ln(1 + e^(βx))/β`, linear above the threshold.
    #[derive(Clone, Debug)]
    pub struct Softplus {
        p: RuleParams<1>,
        threshold: f32,
    }

    f "ln(1 + e^(βx))/β  (x where βx > threshold)",
    df "σ(βx)  (1 where βx > threshold)",
    pytorch "torch.nn.Softplus(beta=1.0, threshold=20.0)",
    entry Entry::new("softplus", Category::NonSaturating, |a| {
        let beta = a.param("beta");
        if beta.value == 0.0 {
            return Err(a.invalid("beta", "a non-zero number"));
        }
        Ok(Box::new(Softplus::new(beta, a.number("threshold"))))
    })
    .args(&[Arg::param("beta", "1.0"), Arg::number("threshold", "20.0")])
    .about("smooth ReLU, ln(1 + e^(βx))/β; its derivative is σ(βx)")
    .range("(0, ∞)"),
}

impl Softplus {
    /// With `beta ≠ 0` (an `f32`, or [`learnable`]`(init)`) and `threshold` (PyTorch's 20).
    pub fn new(beta: impl Into<Param>, threshold: f32) -> Softplus {
        Softplus {
            p: RuleParams::new([beta.into().var()]),
            threshold,
        }
    }
}

impl Default for Softplus {
    /// PyTorch's defaults, `beta = 1`, `threshold = 20`.
    fn default() -> Softplus {
        Softplus::new(1.0, 20.0)
    }
}

impl Pointwise for Softplus {
    fn name(&self) -> &'static str {
        "softplus"
    }
    #[inline(always)]
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        softplus_beta(x, p[0], self.threshold)
    }
    #[inline(always)]
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        let z = p[0] * x;
        if z > self.threshold {
            1.0
        } else {
            sigmoid(z)
        }
    }
    #[inline(always)]
    fn dparams(&self, x: f32, p: &[f32], dp: &mut [f32]) {
        let (b, z) = (p[0], p[0] * x);
        dp[0] = if z > self.threshold {
            0.0
        } else {
            (x * sigmoid(z) - softplus(z) / b) / b
        };
    }
    fn params(&self) -> &[Var] {
        &self.p
    }
}

impl PointwiseLayer for Softplus {
    const LAYER_NAME: &'static str = "Softplus";
    const PARAM_NAMES: &'static [&'static str] = &["beta"];
    fn extra_repr(&self) -> String {
        let learns = if self.p[0].requires_grad() {
            " (learnable)"
        } else {
            ""
        };
        format!(
            "beta={}{learns}, threshold={}",
            format_float(self.p[0].item()),
            format_float(self.threshold)
        )
    }
}
