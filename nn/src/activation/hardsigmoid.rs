//! Hard sigmoid, as in MobileNetV3 (Howard et al. 2019, arXiv:1905.02244). Same as
//! `torch.nn.Hardsigmoid()`.
//!
//! f(x)  = min(max(x + 3, 0), 6)/6
//! f′(x) = 1/6 if −3 < x < 3, else 0
//!
//! Kinks at ±3: f′(±3) = 0, PyTorch's convention.
use super::prelude::*;

/// Hard sigmoid: `relu6(x + 3)/6`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hardsigmoid;

impl Pointwise for Hardsigmoid {
    const CHEAP_DF: bool = true; // a comparison and a select
    fn name(&self) -> &'static str {
        "hardsigmoid"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        (x + 3.0).clamp(0.0, 6.0) / 6.0
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        if x > -3.0 && x < 3.0 {
            1.0 / 6.0
        } else {
            0.0
        }
    }
}

impl PointwiseLayer for Hardsigmoid {
    const LAYER_NAME: &'static str = "Hardsigmoid";
}

/// Registry entry `hardsigmoid`.
pub const ENTRY: Entry = Entry::new("hardsigmoid", Category::Saturating, |_| {
    Ok(Box::new(Hardsigmoid))
})
.kinks(&[-3.0, 3.0])
.about("piecewise-linear sigmoid, cheap on mobile hardware")
.formula(
    "min(max(x + 3, 0), 6)/6",
    "1/6 if −3 < x < 3, else 0  (0 at ±3)",
)
.range("[0, 1]")
.pytorch("torch.nn.Hardsigmoid()");
