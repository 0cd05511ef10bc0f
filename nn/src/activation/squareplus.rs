//! Squareplus (Barron 2021, arXiv:2112.11687): a softplus-like smooth ReLU made of a square
//! root instead of exp and log. Not in PyTorch.
//!
//! ∂f/∂b = 1/(4·√(x² + b))
//!
//! For x < 0 both are rewritten without cancellation (x + √(x² + b) = b/(√(x² + b) − x)).
//! b > 0; smooth, no kink. b can learn (`squareplus:learnable`).
//!
//! f, f′ and the PyTorch equivalent: [`Squareplus`].
use super::prelude::*;

documented! {
    /// Squareplus: `(x + √(x² + b))/2`.
    #[derive(Clone, Debug)]
    pub struct Squareplus {
        p: RuleParams<1>,
    }

    f "(x + √(x² + b))/2",
    df "(1 + x/√(x² + b))/2",
    pytorch "none: (x + torch.sqrt(x * x + b)) / 2",
    entry Entry::new("squareplus", Category::NonSaturating, |a| {
        let b = a.param("b");
        if b.value <= 0.0 {
            return Err(a.invalid("b", "a number > 0"));
        }
        Ok(Box::new(Squareplus::new(b)))
    })
    .args(&[Arg::param("b", "4.0")])
    .about("(x + √(x² + b))/2: a softplus-like smooth ReLU using only a square root")
    .range("(0, ∞)"),
}

impl Squareplus {
    /// With `b > 0` (an `f32`, or [`learnable`]`(init)`).
    pub fn new(b: impl Into<Param>) -> Squareplus {
        Squareplus {
            p: RuleParams::new([b.into().var()]),
        }
    }
}

impl Default for Squareplus {
    /// The paper's `b = 4`.
    fn default() -> Squareplus {
        Squareplus::new(4.0)
    }
}

/// √(x² + b), without overflow: for |x| > 1e18 (x² > 1e36, beyond any sensible b) it is |x|
/// in f32, while x² itself is ∞ from |x| ≈ 1.8e19.
#[inline(always)]
fn root(x: f32, b: f32) -> f32 {
    let ax = x.abs();
    if ax > 1e18 {
        ax
    } else {
        (x * x + b).sqrt()
    }
}

impl Pointwise for Squareplus {
    fn name(&self) -> &'static str {
        "squareplus"
    }
    #[inline(always)]
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        let r = root(x, p[0]);
        if x >= 0.0 {
            0.5 * x + 0.5 * r // not ½(x + r): x + r overflows for x > 1.7e38
        } else {
            0.5 * p[0] / (r - x)
        }
    }
    #[inline(always)]
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        let r = root(x, p[0]);
        if x >= 0.0 {
            0.5 + 0.5 * x / r
        } else {
            0.5 * p[0] / (r * (r - x))
        }
    }
    #[inline(always)]
    fn dparams(&self, x: f32, p: &[f32], dp: &mut [f32]) {
        dp[0] = 0.25 / (x * x + p[0]).sqrt();
    }
    fn params(&self) -> &[Var] {
        &self.p
    }
}

impl PointwiseLayer for Squareplus {
    const LAYER_NAME: &'static str = "Squareplus";
    const PARAM_NAMES: &'static [&'static str] = &["b"];
}
