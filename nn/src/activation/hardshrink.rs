//! Hard shrinkage (hard thresholding). Same as `torch.nn.Hardshrink(lambd=0.5)`.
//!
//! f(x)  = x if |x| > λ, else 0
//! f′(x) = 1 if |x| > λ, else 0
//!
//! f jumps at ±λ, so ∂f/∂λ is 0 almost everywhere (a Dirac spike at the jumps): λ is a fixed
//! number and cannot learn. Kinks (jumps) at ±λ: f′(±λ) = 0, PyTorch's convention.
use super::prelude::*;

/// Hard shrinkage: `x` outside `[−λ, λ]`, 0 inside.
#[derive(Clone, Copy, Debug)]
pub struct Hardshrink {
    /// λ ≥ 0.
    pub lambd: f32,
}

impl Hardshrink {
    /// With `lambd ≥ 0`.
    pub fn new(lambd: f32) -> Hardshrink {
        Hardshrink { lambd }
    }
}

impl Default for Hardshrink {
    /// PyTorch's default, `lambd = 0.5`.
    fn default() -> Hardshrink {
        Hardshrink::new(0.5)
    }
}

impl Pointwise for Hardshrink {
    const CHEAP_DF: bool = true; // a comparison and a select
    fn name(&self) -> &'static str {
        "hardshrink"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        if x >= -self.lambd && x <= self.lambd {
            0.0
        } else {
            x
        }
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        if x >= -self.lambd && x <= self.lambd {
            0.0
        } else {
            1.0
        }
    }
}

impl PointwiseLayer for Hardshrink {
    const LAYER_NAME: &'static str = "Hardshrink";
    /// PyTorch prints the bare value: `Hardshrink(0.5)`.
    fn extra_repr(&self) -> String {
        format_float(self.lambd)
    }
}

/// Registry entry `hardshrink[:lambd]`.
pub const ENTRY: Entry = Entry::new("hardshrink", Category::NonSaturating, |a| {
    let lambd = a.number("lambd");
    if lambd < 0.0 {
        return Err(a.invalid("lambd", "a number ≥ 0"));
    }
    Ok(Box::new(Hardshrink::new(lambd)))
})
.args(&[Arg::number("lambd", "0.5")])
.kinks(&[-0.5, 0.5])
.about("hard thresholding: x outside [−λ, λ], 0 inside")
.formula("x if |x| > λ, else 0", "1 if |x| > λ, else 0  (0 at ±λ)")
.range("(−∞, −λ) ∪ {0} ∪ (λ, ∞)")
.pytorch("torch.nn.Hardshrink(lambd=0.5)");
