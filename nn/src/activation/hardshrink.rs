//! Hard shrinkage (hard thresholding).
//!
//! f jumps at ±λ, so ∂f/∂λ is 0 almost everywhere (a Dirac spike at the jumps): λ is a fixed
//! number and cannot learn. Kinks (jumps) at ±λ: f′(±λ) = 0, PyTorch's convention.
//!
//! f, f′ and the PyTorch equivalent: [`Hardshrink`].
use super::prelude::*;

documented! {
    /// Hard shrinkage: `x` outside `[−λ, λ]`, 0 inside.
    #[derive(Clone, Copy, Debug)]
    pub struct Hardshrink {
        /// λ ≥ 0.
        pub lambd: f32,
    }

    f "x if |x| > λ, else 0",
    df "1 if |x| > λ, else 0  (0 at ±λ)",
    pytorch "torch.nn.Hardshrink(lambd=0.5)",
    entry Entry::new("hardshrink", Category::NonSaturating, |a| {
        let lambd = a.number("lambd");
        if lambd < 0.0 {
            return Err(a.invalid("lambd", "a number ≥ 0"));
        }
        Ok(Box::new(Hardshrink::new(lambd)))
    })
    .args(&[Arg::number("lambd", "0.5")])
    .kinks(&[-0.5, 0.5])
    .about("hard thresholding: x outside [−λ, λ], 0 inside")
    .range("(−∞, −λ) ∪ {0} ∪ (λ, ∞)"),
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
