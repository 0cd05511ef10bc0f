//! SELU, the scaled ELU of self-normalising networks (Klambauer, Unterthiner, Mayr &
//! Hochreiter 2017, arXiv:1706.02515). Same as `torch.nn.SELU()`.
//!
//! f(x)  = λ·x if x > 0, else λ·α·(eˣ − 1)
//! f′(x) = λ if x > 0, else λ·α·eˣ
//!
//! with the paper's constants α ≈ 1.6733, λ ≈ 1.0507 (chosen so that activations keep zero
//! mean and unit variance through layers initialised with variance 1/fan_in). Kink at 0:
//! f′(0) = λ·α ≈ 1.7581, PyTorch's convention.
use super::prelude::*;

/// SELU's α.
pub const ALPHA: f32 = 1.673_263_2;
/// SELU's λ (PyTorch calls it `scale`).
pub const SCALE: f32 = 1.050_701;

/// SELU: `λ·x` for `x > 0`, `λ·α·(eˣ − 1)` otherwise.
#[doc(alias = "SELU")]
#[derive(Clone, Copy, Debug, Default)]
pub struct Selu;

impl Pointwise for Selu {
    fn name(&self) -> &'static str {
        "selu"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        // min(x, 0) as a select: NaN stays NaN, as in PyTorch
        let neg = ALPHA * expm1(if x > 0.0 { 0.0 } else { x });
        SCALE * if x > 0.0 { x } else { neg }
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        let neg = ALPHA * exp(if x > 0.0 { 0.0 } else { x });
        SCALE * if x > 0.0 { 1.0 } else { neg }
    }
}

impl PointwiseLayer for Selu {
    const LAYER_NAME: &'static str = "SELU";
}

/// Registry entry `selu`.
pub const ENTRY: Entry = Entry::new("selu", Category::NonSaturating, |_| Ok(Box::new(Selu)))
    .kinks(&[0.0])
    .about("ELU scaled to keep activations at mean 0, variance 1 (self-normalising)")
    .formula(
        "λ·x if x > 0, else λ·α·(eˣ − 1);  α ≈ 1.6733, λ ≈ 1.0507",
        "λ if x > 0, else λ·α·eˣ  (f′(0) = λ·α)",
    )
    .range("(−λ·α ≈ −1.7581, ∞)")
    .pytorch("torch.nn.SELU()");
