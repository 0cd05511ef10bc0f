//! ReLU6 (Krizhevsky 2010, "Convolutional deep belief networks on CIFAR-10"; used in
//! MobileNet). Same as `torch.nn.ReLU6()`.
//!
//! f(x)  = min(max(x, 0), 6)
//! f′(x) = 1 if 0 < x < 6, else 0
//!
//! Kinks at 0 and 6: f′(0) = f′(6) = 0, PyTorch's convention (ReLU6 is `hardtanh(x, 0, 6)`,
//! whose backward passes the gradient only strictly inside the interval).
use super::prelude::*;

/// ReLU6: `min(max(x, 0), 6)`.
#[doc(alias = "ReLU6")]
#[derive(Clone, Copy, Debug, Default)]
pub struct Relu6;

impl Pointwise for Relu6 {
    const CHEAP_DF: bool = true; // a comparison and a select
    fn name(&self) -> &'static str {
        "relu6"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        x.clamp(0.0, 6.0)
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        if x > 0.0 && x < 6.0 {
            1.0
        } else {
            0.0
        }
    }
}

impl PointwiseLayer for Relu6 {
    const LAYER_NAME: &'static str = "ReLU6";
}

/// Registry entry `relu6`.
pub const ENTRY: Entry = Entry::new("relu6", Category::Saturating, |_| Ok(Box::new(Relu6)))
    .kinks(&[0.0, 6.0])
    .about("ReLU capped at 6: bounded, robust in low precision")
    .formula(
        "min(max(x, 0), 6)",
        "1 if 0 < x < 6, else 0  (f′(0) = f′(6) = 0)",
    )
    .range("[0, 6]")
    .pytorch("torch.nn.ReLU6()");
