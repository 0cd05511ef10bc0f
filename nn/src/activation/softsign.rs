//! Softsign (Turian, Bergstra & Bengio 2009, "Quadratic features and deep architectures for
//! chunking"; Glorot & Bengio 2010). Same as `torch.nn.Softsign()`.
//!
//! f(x)  = x/(1 + |x|)
//! f′(x) = 1/(1 + |x|)²
//!
//! Like tanh but with polynomial, not exponential, tails: saturates more slowly. f′ is
//! continuous (f′(0) = 1), so there is no kink.
use super::prelude::*;

/// Softsign: `x/(1 + |x|)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Softsign;

impl Pointwise for Softsign {
    fn name(&self) -> &'static str {
        "softsign"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        x / (1.0 + x.abs())
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        let r = 1.0 / (1.0 + x.abs());
        r * r
    }
}

impl PointwiseLayer for Softsign {
    const LAYER_NAME: &'static str = "Softsign";
}

/// Registry entry `softsign`.
pub const ENTRY: Entry = Entry::new("softsign", Category::Saturating, |_| Ok(Box::new(Softsign)))
    .about("x/(1 + |x|): tanh-like squashing with slower, polynomial saturation")
    .formula("x/(1 + |x|)", "1/(1 + |x|)²")
    .range("(−1, 1)")
    .pytorch("torch.nn.Softsign()");
