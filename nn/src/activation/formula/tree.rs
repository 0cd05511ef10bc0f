//! The parsed form of a formula: the tree ([`Expr`]) of operators ([`BinOp`]), built-in
//! functions ([`Builtin`], with the scalar rules [`Sin`], [`Cos`], [`Erf`]) and registered
//! activation calls, inside a [`Formula`].

use std::fmt;

use autograd::{Pointwise, Var};

use crate::activation::entry::Args;
use crate::activation::scalar;

use super::real::Real;

/// The built-in functions of one argument (beside the registered activations).
pub(super) const BUILTINS: [&str; 8] = ["exp", "ln", "log", "sqrt", "abs", "sin", "cos", "erf"];

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

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl BinOp {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
        }
    }

    pub(super) fn apply<T: Real>(self, a: T, b: T) -> T {
        match self {
            BinOp::Add => a + b,
            BinOp::Sub => a - b,
            BinOp::Mul => a * b,
            BinOp::Div => a / b,
            BinOp::Pow => a.powf(b),
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
