//! Hard swish, as in MobileNetV3 (Howard et al. 2019, arXiv:1905.02244). Same as
//! `torch.nn.Hardswish()`.
//!
//! f(x)  = x·min(max(x + 3, 0), 6)/6
//! f′(x) = 0 if x ≤ −3, x/3 + ½ if −3 < x < 3, 1 if x ≥ 3
//!
//! Kinks at ±3: f′(−3) = 0 and f′(3) = 1, PyTorch's convention (the outer pieces own the
//! boundary points; checked against PyTorch in the fixture test).
use super::prelude::*;

/// Hard swish: `x·relu6(x + 3)/6`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hardswish;

impl Pointwise for Hardswish {
    const CHEAP_DF: bool = true; // a comparison and a select
    fn name(&self) -> &'static str {
        "hardswish"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        x * ((x + 3.0).clamp(0.0, 6.0) / 6.0) // the gate first: x·6 overflows for x > 5.7e37
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        if x <= -3.0 {
            0.0
        } else if x < 3.0 {
            x / 3.0 + 0.5
        } else {
            1.0
        }
    }
}

impl PointwiseLayer for Hardswish {
    const LAYER_NAME: &'static str = "Hardswish";
}

/// Registry entry `hardswish`.
pub const ENTRY: Entry = Entry::new("hardswish", Category::SelfGated, |_| {
    Ok(Box::new(Hardswish))
})
.kinks(&[-3.0, 3.0])
.about("piecewise-polynomial Swish, cheap on mobile hardware")
.formula(
    "x·min(max(x + 3, 0), 6)/6",
    "0 if x ≤ −3, x/3 + ½ if −3 < x < 3, 1 if x ≥ 3  (f′(−3) = 0, f′(3) = 1)",
)
.range("[−0.375, ∞)")
.pytorch("torch.nn.Hardswish()");
