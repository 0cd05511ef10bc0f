//! Soft shrinkage, the proximal operator of λ·|x| (soft thresholding in sparse coding,
//! Donoho 1995).
//!
//! ∂f/∂λ = −1 if x > λ, 1 if x < −λ, else 0
//!
//! Kinks at ±λ: f′(±λ) = 0, PyTorch's convention. Beyond PyTorch: λ can learn.
//!
//! f, f′ and the PyTorch equivalent: [`Softshrink`].
use super::prelude::*;

documented! {
    /// Soft shrinkage: moves `x` towards 0 by `λ`, and to 0 inside `[−λ, λ]`.
    #[derive(Clone, Debug)]
    pub struct Softshrink {
        p: RuleParams<1>,
    }

    f "x − λ if x > λ, x + λ if x < −λ, else 0",
    df "1 if |x| > λ, else 0  (0 at ±λ)",
    pytorch "torch.nn.Softshrink(lambd=0.5)",
    entry Entry::new("softshrink", Category::NonSaturating, |a| {
        let lambd = a.param("lambd");
        if lambd.value < 0.0 {
            return Err(a.invalid("lambd", "a number ≥ 0"));
        }
        Ok(Box::new(Softshrink::new(lambd)))
    })
    .args(&[Arg::param("lambd", "0.5")])
    .kinks(&[-0.5, 0.5])
    .about("soft thresholding: shrinks x towards 0 by λ, zero inside [−λ, λ]")
    .range("(−∞, ∞)"),
}

impl Softshrink {
    /// With `lambd ≥ 0` (an `f32`, or [`learnable`]`(init)`).
    pub fn new(lambd: impl Into<Param>) -> Softshrink {
        Softshrink {
            p: RuleParams::new([lambd.into().var()]),
        }
    }
}

impl Default for Softshrink {
    /// PyTorch's default, `lambd = 0.5`.
    fn default() -> Softshrink {
        Softshrink::new(0.5)
    }
}

impl Pointwise for Softshrink {
    const CHEAP_DF: bool = true; // a comparison and a select
    fn name(&self) -> &'static str {
        "softshrink"
    }
    #[inline(always)]
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        if x > p[0] {
            x - p[0]
        } else if x < -p[0] {
            x + p[0]
        } else {
            0.0 * x // 0, and NaN for NaN (as in PyTorch)
        }
    }
    #[inline(always)]
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        if x > p[0] || x < -p[0] {
            1.0
        } else {
            0.0
        }
    }
    #[inline(always)]
    fn dparams(&self, x: f32, p: &[f32], dp: &mut [f32]) {
        dp[0] = if x > p[0] {
            -1.0
        } else if x < -p[0] {
            1.0
        } else {
            0.0
        };
    }
    fn params(&self) -> &[Var] {
        &self.p
    }
}

impl PointwiseLayer for Softshrink {
    const LAYER_NAME: &'static str = "Softshrink";
    const PARAM_NAMES: &'static [&'static str] = &["lambd"];
    /// PyTorch prints the bare value: `Softshrink(0.5)`.
    fn extra_repr(&self) -> String {
        let learns = if self.p[0].requires_grad() {
            " (learnable)"
        } else {
            ""
        };
        format!("{}{learns}", format_float(self.p[0].item()))
    }
}
