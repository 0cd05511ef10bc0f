//! [`Selu`], with the paper's constants α ≈ 1.6733, λ ≈ 1.0507 (chosen so that activations keep
//! zero mean and unit variance through layers initialised with variance 1/fan_in). Kink at 0:
//! f′(0) = λ·α ≈ 1.7581, PyTorch's convention.
use super::prelude::*;

/// SELU's α.
pub const ALPHA: f32 = 1.673_263_2;
/// SELU's λ (PyTorch calls it `scale`).
pub const SCALE: f32 = 1.050_701;

fused_rule! {
    /// SELU, the scaled ELU of self-normalising networks (Klambauer, Unterthiner, Mayr &
    /// Hochreiter 2017, arXiv:1706.02515).
    #[doc(alias = "SELU")]
    Selu = "selu", layer "SELU", NonSaturating,
    about "ELU scaled to keep activations at mean 0, variance 1 (self-normalising)",
    f(x) = "λ·x if x > 0, else λ·α·(eˣ − 1);  α ≈ 1.6733, λ ≈ 1.0507" {
        // min(x, 0) as a select: NaN stays NaN, as in PyTorch
        let neg = ALPHA * expm1(if x > 0.0 { 0.0 } else { x });
        SCALE * if x > 0.0 { x } else { neg }
    }
    df(x) = "λ if x > 0, else λ·α·eˣ  (f′(0) = λ·α)" {
        let neg = ALPHA * exp(if x > 0.0 { 0.0 } else { x });
        SCALE * if x > 0.0 { 1.0 } else { neg }
    }
    range "(−λ·α ≈ −1.7581, ∞)",
    pytorch "torch.nn.SELU()",
    entry { .kinks(&[0.0]) },
}
