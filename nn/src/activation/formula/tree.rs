//! The parsed form of a formula: the tree ([`Expr`]) of operators ([`BinOp`], with `max` and
//! `min` of two sub-expressions), built-in functions ([`Builtin`], with the scalar rules
//! [`Sin`], [`Cos`], [`Erf`], [`Asinh`], [`Atan`]) and registered activation calls, inside a
//! [`Formula`].

use std::fmt;

use autograd::{Pointwise, Var};

use crate::activation::entry::Args;
use crate::activation::scalar;

use super::real::Real;

/// The built-in functions of one argument (beside the registered activations).
pub(super) const BUILTINS: [&str; 10] = [
    "exp", "ln", "log", "sqrt", "abs", "sin", "cos", "erf", "asinh", "atan",
];

/// The built-in functions of two arguments, `max(a, b)` and `min(a, b)`.
pub(super) const BUILTINS2: [&str; 2] = ["max", "min"];

/// `sin(x)`, a scalar rule: f′(x) = cos(x).
#[derive(Clone, Copy, Debug, Default)]
pub struct Sin;

impl Pointwise for Sin {
    fn name(&self) -> &'static str {
        "sin"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        x.sin()
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        x.cos()
    }
}

/// `cos(x)`, a scalar rule: f′(x) = −sin(x).
#[derive(Clone, Copy, Debug, Default)]
pub struct Cos;

impl Pointwise for Cos {
    fn name(&self) -> &'static str {
        "cos"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        x.cos()
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        -x.sin()
    }
}

/// The error function `erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt` ([`scalar::erf`]), a scalar rule:
/// f′(x) = (2/√π)·e^(−x²).
#[derive(Clone, Copy, Debug, Default)]
pub struct Erf;

impl Pointwise for Erf {
    fn name(&self) -> &'static str {
        "erf"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        scalar::erf(x)
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        std::f32::consts::FRAC_2_SQRT_PI * scalar::exp_neg_square(x)
    }
}

/// `asinh(x) = sinh⁻¹(x) = ln(x + √(x² + 1))`, a scalar rule (PyTorch's `torch.asinh`):
/// f′(x) = 1/√(1 + x²).
///
/// Odd and unbounded but only logarithmically growing: identity-like near 0
/// (asinh(x) ≈ x − x³/6), ≈ sign(x)·ln(2|x|) for large |x|.
#[derive(Clone, Copy, Debug, Default)]
pub struct Asinh;

impl Pointwise for Asinh {
    fn name(&self) -> &'static str {
        "asinh"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        asinh(x)
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        // hypot, not sqrt(1 + x²): x² overflows f32 beyond |x| ≈ 1.8e19
        1.0 / 1f32.hypot(x)
    }
}

/// `asinh(x)` in `f32` without overflow: `std`'s form adds |x| to about |x| and overflows to
/// infinity for |x| above half of `f32::MAX`; beyond |x| = 2¹² the `1/(4x²)` term of
/// `ln(2|x|) + 1/(4x²) − …` is below `f32`'s resolution, so `ln|x| + ln 2` is exact there.
pub(super) fn asinh(x: f32) -> f32 {
    let ax = x.abs();
    if ax > 4096.0 {
        (ax.ln() + std::f32::consts::LN_2).copysign(x)
    } else {
        x.asinh()
    }
}

/// `atan(x) = tan⁻¹(x)`, a scalar rule (PyTorch's `torch.atan`): f′(x) = 1/(1 + x²).
///
/// Odd and bounded in (−π/2, π/2), identity-like near 0 (atan(x) ≈ x − x³/3).
#[derive(Clone, Copy, Debug, Default)]
pub struct Atan;

impl Pointwise for Atan {
    fn name(&self) -> &'static str {
        "atan"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        x.atan()
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        // x² = inf beyond |x| ≈ 1.8e19 gives 0, the limit
        1.0 / (1.0 + x * x)
    }
}

/// A binary operator, or a function of two arguments (`max`, `min`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    /// `max(a, b)`, PyTorch's `torch.maximum`: at a tie each side gets half the gradient.
    Max,
    /// `min(a, b)`, PyTorch's `torch.minimum`: at a tie each side gets half the gradient.
    Min,
}

impl BinOp {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
            BinOp::Max => "max",
            BinOp::Min => "min",
        }
    }

    /// The function of two arguments called `name` (lowercase), if it is one.
    pub(super) fn function(name: &str) -> Option<BinOp> {
        match name {
            "max" => Some(BinOp::Max),
            "min" => Some(BinOp::Min),
            _ => None,
        }
    }

    pub(super) fn apply<T: Real>(self, a: T, b: T) -> T {
        match self {
            BinOp::Add => a + b,
            BinOp::Sub => a - b,
            BinOp::Mul => a * b,
            BinOp::Div => a / b,
            BinOp::Pow => a.powf(b),
            BinOp::Max => a.maximum(b),
            BinOp::Min => a.minimum(b),
        }
    }
}

/// A built-in function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Builtin {
    Exp,
    Ln,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Erf,
    Asinh,
    Atan,
}

impl Builtin {
    pub(super) fn from_name(name: &str) -> Option<Builtin> {
        Some(match name {
            "exp" => Builtin::Exp,
            "ln" | "log" => Builtin::Ln,
            "sqrt" => Builtin::Sqrt,
            "abs" => Builtin::Abs,
            "sin" => Builtin::Sin,
            "cos" => Builtin::Cos,
            "erf" => Builtin::Erf,
            "asinh" => Builtin::Asinh,
            "atan" => Builtin::Atan,
            _ => return None,
        })
    }

    pub(super) fn scalar<T: Real>(self, a: T) -> T {
        match self {
            Builtin::Exp => a.exp(),
            Builtin::Ln => a.ln(),
            Builtin::Sqrt => a.sqrt(),
            Builtin::Abs => a.abs(),
            Builtin::Sin => a.sin(),
            Builtin::Cos => a.cos(),
            Builtin::Erf => a.erf(),
            Builtin::Asinh => a.asinh(),
            Builtin::Atan => a.atan(),
        }
    }

    /// f′ of the function, for [`FormulaLayer::derivative`].
    pub(super) fn derivative(self, a: f32) -> f32 {
        match self {
            Builtin::Exp => a.exp(),
            Builtin::Ln => 1.0 / a,
            Builtin::Sqrt => 0.5 / a.sqrt(),
            Builtin::Abs => {
                if a > 0.0 {
                    1.0
                } else if a < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            Builtin::Sin => a.cos(),
            Builtin::Cos => -a.sin(),
            Builtin::Erf => Erf.df(a, &[]),
            Builtin::Asinh => Asinh.df(a, &[]),
            Builtin::Atan => Atan.df(a, &[]),
        }
    }

    pub(super) fn var(self, v: &Var) -> Var {
        match self {
            Builtin::Exp => v.exp(),
            Builtin::Ln => v.ln(),
            Builtin::Sqrt => v.sqrt(),
            Builtin::Abs => v.abs(),
            Builtin::Sin => v.pointwise(&Sin),
            Builtin::Cos => v.pointwise(&Cos),
            Builtin::Erf => v.pointwise(&Erf),
            Builtin::Asinh => v.pointwise(&Asinh),
            Builtin::Atan => v.pointwise(&Atan),
        }
    }
}

/// The parsed expression.
#[derive(Clone, Debug)]
pub(super) enum Expr {
    X,
    Num(f32),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Call(Builtin, Box<Expr>),
    /// A registered activation: its checked arguments, and its index among the formula's
    /// activation calls (the layer that a [`FormulaLayer`] holds for it).
    Act(Box<Args>, usize, Box<Expr>),
}

/// A parsed formula: immutable, cheap to share; [`build`](Formula::build) makes layers.
///
/// ```
/// use nn::activation::formula::Formula;
/// use nn::Module;
/// use autograd::Var;
/// use tensor::Tensor;
///
/// let f = Formula::parse("x * sigmoid(1.702 * x)")?;
/// let layer = f.build();
/// let y = layer.forward(&Var::constant(Tensor::from_vec(vec![0.0, 1.0], [2])));
/// assert_eq!(y.value().get(&[0]), 0.0);
/// assert!((y.value().get(&[1]) - 1.0 / (1.0 + (-1.702f32).exp())).abs() < 1e-6);
/// assert_eq!(layer.describe(), "Formula(x * sigmoid(1.702 * x))");
///
/// let err = Formula::parse("x * tanh(softplus(x)").unwrap_err();
/// assert_eq!(err.column, 21);
/// # Ok::<(), nn::activation::formula::FormulaError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Formula {
    pub(super) text: String,
    pub(super) expr: Expr,
    /// One label per activation call, for parameter names: the activation's name, with
    /// `_k` appended when the formula calls the same one several times.
    pub(super) labels: Vec<String>,
}

impl Formula {
    /// The formula as given (trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
