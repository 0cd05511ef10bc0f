//! ReLU, the rectified linear unit (Nair & Hinton 2010, "Rectified linear units improve
//! restricted Boltzmann machines"; Glorot, Bordes & Bengio 2011). Same as `torch.nn.ReLU()`.
//!
//! f(x)  = max(x, 0)
//! f′(x) = 1 if x > 0, else 0
//!
//! Kink at 0: f′(0) = 0, PyTorch's convention (its backward passes the gradient only where
//! x > 0). A unit whose input stays ≤ 0 gets no gradient at all: it is "dead".
use super::prelude::*;

/// ReLU: `max(x, 0)`.
#[doc(alias = "ReLU")]
#[derive(Clone, Copy, Debug, Default)]
pub struct Relu;

impl Pointwise for Relu {
    const CHEAP_DF: bool = true; // a comparison and a select
    fn name(&self) -> &'static str {
        "relu"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        // `x <= 0` rather than `x > 0` so that NaN passes through, as in PyTorch.
        if x <= 0.0 {
            0.0
        } else {
            x
        }
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        if x > 0.0 {
            1.0
        } else {
            0.0
        }
    }
}

impl PointwiseLayer for Relu {
    const LAYER_NAME: &'static str = "ReLU";
}

/// Registry entry `relu`.
pub const ENTRY: Entry = Entry::new("relu", Category::NonSaturating, |_| Ok(Box::new(Relu)))
    .kinks(&[0.0])
    .about("max(x, 0): cheap, non-saturating for x > 0; units can die")
    .formula("max(x, 0)", "1 if x > 0, else 0  (f′(0) = 0)")
    .range("[0, ∞)")
    .pytorch("torch.nn.ReLU()");
