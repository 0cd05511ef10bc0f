//! The logistic sigmoid. Same as `torch.nn.Sigmoid()`.
//!
//! f(x)  = σ(x) = 1/(1 + e^(−x))
//! f′(x) = σ(x)·(1 − σ(x)) = σ(x)·σ(−x)
//!
//! Both are computed from e^(−|x|) ≤ 1 (no overflow on either side) and `1 − σ(x)` as
//! `σ(−x)` (exact where σ(x) rounds to 1). Saturates: f′ < 1e-4 for |x| > 9.2. Smooth: no kink.
use super::prelude::*;

/// Sigmoid: `1/(1 + e^(−x))`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sigmoid;

impl Pointwise for Sigmoid {
    fn name(&self) -> &'static str {
        "sigmoid"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        sigmoid(x)
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        let (s, c) = sigmoid_pair(x);
        s * c
    }
}

impl PointwiseLayer for Sigmoid {
    const LAYER_NAME: &'static str = "Sigmoid";
}

/// Registry entry `sigmoid`.
pub const ENTRY: Entry = Entry::new("sigmoid", Category::Saturating, |_| Ok(Box::new(Sigmoid)))
    .about("the logistic function: squashes to (0, 1), saturates on both sides")
    .formula("1/(1 + e^(−x))", "σ(x)·(1 − σ(x))")
    .range("(0, 1)")
    .pytorch("torch.nn.Sigmoid()");
