//! GELU, the Gaussian error linear unit (Hendrycks & Gimpel 2016, arXiv:1606.08415). Same as
//! `torch.nn.GELU(approximate='none')` ([`Gelu`]) and `torch.nn.GELU(approximate='tanh')`
//! ([`GeluTanh`]).
//!
//! Φ(x) = ½·erfc(−x/√2) is the standard normal CDF and φ(x) = e^(−x²/2)/√(2π) its density.
//! The tanh approximation, with u = √(2/π)·(x + 0.044715·x³), is ½·x·(1 + tanh(u)) = x·σ(2u),
//! with f′(x) = σ(2u) + x·σ(2u)·σ(−2u)·2u′, u′ = √(2/π)·(1 + 3·0.044715·x²).
//!
//! Φ is computed through `erfc` (not `½(1 + erf)`, which cancels to 0 for x ≪ 0), and
//! `½(1 + tanh(u))` as `σ(2u)` for the same reason; the derivative is the derivative of the
//! same form (burn once paired an exact forward with the tanh form's derivative). Smooth: no kink.
//!
//! f, f′ and the PyTorch equivalent: [`Gelu`].
use super::prelude::*;

/// √(2/π).
const SQRT_2_OVER_PI: f32 = 0.797_884_6;
/// The cubic coefficient of the tanh approximation.
const KAPPA: f32 = 0.044_715;

documented! {
    /// GELU, exact: `x·Φ(x)`.
    #[doc(alias = "GELU")]
    #[derive(Clone, Copy, Debug, Default)]
    pub struct Gelu;

    f "x·Φ(x)   (tanh: ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))))",
    df "Φ(x) + x·φ(x)",
    pytorch "torch.nn.GELU(approximate='none')",
    entry Entry::new("gelu", Category::SelfGated, |a| {
        Ok(match a.choice("approximate") {
            "tanh" => Box::new(GeluTanh),
            _ => Box::new(Gelu),
        })
    })
    .args(&[Arg::choice("approximate", &["none", "tanh"])])
    .about("x weighted by the Gaussian CDF Φ(x): smooth ReLU of transformers (BERT, GPT)")
    .range("[≈ −0.1700, ∞)"),
}

impl Pointwise for Gelu {
    fn name(&self) -> &'static str {
        "gelu"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        x * normal_cdf(x)
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        let (cdf, pdf) = normal_cdf_pdf(x);
        cdf + x * pdf
    }
}

impl PointwiseLayer for Gelu {
    const LAYER_NAME: &'static str = "GELU";
    fn extra_repr(&self) -> String {
        "approximate='none'".into()
    }
}

/// GELU, tanh approximation: `½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
#[doc(alias = "GELU")]
#[derive(Clone, Copy, Debug, Default)]
pub struct GeluTanh;

/// `2u` and `2u′` of the tanh approximation. For |x| ≥ 100, σ(2u) is exactly 0 or 1 in `f32`,
/// so clamping x there changes nothing and keeps x³ from overflowing.
#[inline(always)]
fn two_u(x: f32) -> (f32, f32) {
    let x = x.clamp(-100.0, 100.0);
    let x2 = x * x;
    (
        2.0 * SQRT_2_OVER_PI * x * (1.0 + KAPPA * x2),
        2.0 * SQRT_2_OVER_PI * (1.0 + 3.0 * KAPPA * x2),
    )
}

impl Pointwise for GeluTanh {
    fn name(&self) -> &'static str {
        "gelu_tanh"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        x * sigmoid(two_u(x).0)
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        let (v, dv) = two_u(x);
        let (s, c) = sigmoid_pair(v);
        s + x * s * c * dv
    }
}

impl PointwiseLayer for GeluTanh {
    const LAYER_NAME: &'static str = "GELU";
    fn extra_repr(&self) -> String {
        "approximate='tanh'".into()
    }
}
