//! Leaky ReLU (Maas, Hannun & Ng 2013, "Rectifier nonlinearities improve neural network
//! acoustic models").
//!
//! a = negative_slope; ∂f/∂a = 0 if x > 0, else x
//!
//! Kink at 0: f′(0) = a, PyTorch's convention. Beyond PyTorch: `a` can learn
//! (`leaky_relu:learnable`), which makes it a one-parameter PReLU.
//!
//! f, f′ and the PyTorch equivalent: [`LeakyRelu`].
use super::prelude::*;

documented! {
    /// Leaky ReLU: `x` for `x > 0`, `negative_slope·x` otherwise.
    #[doc(alias = "LeakyReLU")]
    #[derive(Clone, Debug)]
    pub struct LeakyRelu {
        p: RuleParams<1>,
    }

    f "x if x > 0, else a·x",
    df "1 if x > 0, else a  (f′(0) = a)",
    pytorch "torch.nn.LeakyReLU(negative_slope=0.01)",
    entry Entry::new("leaky_relu", Category::NonSaturating, |a| {
        Ok(Box::new(LeakyRelu::new(a.param("negative_slope"))))
    })
    .args(&[Arg::param("negative_slope", "0.01")])
    .kinks(&[0.0])
    .about("ReLU with a small slope a for x ≤ 0, so that no unit dies")
    .range("(−∞, ∞)"),
}

impl LeakyRelu {
    /// With slope `negative_slope` for `x ≤ 0` (an `f32`, or [`learnable`]`(init)`).
    pub fn new(negative_slope: impl Into<Param>) -> LeakyRelu {
        LeakyRelu {
            p: RuleParams::new([negative_slope.into().var()]),
        }
    }
}

impl Default for LeakyRelu {
    /// PyTorch's default, `negative_slope = 0.01`.
    fn default() -> LeakyRelu {
        LeakyRelu::new(0.01)
    }
}

impl Pointwise for LeakyRelu {
    const CHEAP_DF: bool = true; // a comparison and a select
    fn name(&self) -> &'static str {
        "leaky_relu"
    }
    #[inline(always)]
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        leaky(x, p[0])
    }
    #[inline(always)]
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        leaky_df(x, p[0])
    }
    #[inline(always)]
    fn dparams(&self, x: f32, _: &[f32], dp: &mut [f32]) {
        dp[0] = leaky_da(x);
    }
    fn params(&self) -> &[Var] {
        &self.p
    }
}

/// f(x) with slope `a` for x ≤ 0: the rule of this file, which PReLU shares.
#[inline(always)]
pub(crate) fn leaky(x: f32, a: f32) -> f32 {
    if x > 0.0 {
        x
    } else {
        a * x
    }
}

/// f′(x) with slope `a` (f′(0) = a).
#[inline(always)]
pub(crate) fn leaky_df(x: f32, a: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else {
        a
    }
}

/// ∂f/∂a.
#[inline(always)]
pub(crate) fn leaky_da(x: f32) -> f32 {
    if x > 0.0 {
        0.0
    } else {
        x
    }
}

impl PointwiseLayer for LeakyRelu {
    const LAYER_NAME: &'static str = "LeakyReLU";
    const PARAM_NAMES: &'static [&'static str] = &["negative_slope"];
}
