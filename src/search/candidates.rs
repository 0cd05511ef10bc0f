//! The candidates: every "core unit" b(u₁(x), u₂(x)) of the grammar of Ramachandran, Zoph & Le
//! (2017), written as a formula [`ActivationSpec::parse`] takes, deduplicated by their values
//! on a grid.

use std::collections::HashSet;

use autograd::{no_grad, Var};
use nn::activation::ActivationSpec;
use tensor::Tensor;

/// The unary functions u(x) of the paper's grammar, as formulas in `x`, simplest first:
/// x, −x, |x|, x², x³, √|x|, exp(x), sin, cos, tanh, sinh⁻¹, tan⁻¹, σ, softplus, erf,
/// max(x, 0), min(x, 0), exp(−x²), and the constants 0 and 1. (x² and x³ are products, not
/// `x^2`: a power's derivative with respect to its exponent is not defined at x < 0.)
pub const UNARY: [&str; 20] = [
    "x",
    "-x",
    "abs(x)",
    "x * x",
    "x * x * x",
    "sqrt(abs(x))",
    "exp(x)",
    "sin(x)",
    "cos(x)",
    "tanh(x)",
    "asinh(x)",
    "atan(x)",
    "sigmoid(x)",
    "softplus(x)",
    "erf(x)",
    "max(x, 0)",
    "min(x, 0)",
    "exp(-(x * x))",
    "0",
    "1",
];

/// The binary functions b(a, b) of the paper's grammar: a + b, a − b, a·b, a / b, max(a, b),
/// min(a, b) and σ(a)·b.
pub const BINARY: [Binary; 7] = [
    Binary::Add,
    Binary::Sub,
    Binary::Mul,
    Binary::Div,
    Binary::Max,
    Binary::Min,
    Binary::SigmoidMul,
];

/// A binary function of the grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    /// a + b.
    Add,
    /// a − b.
    Sub,
    /// a · b.
    Mul,
    /// a / b.
    Div,
    /// max(a, b).
    Max,
    /// min(a, b).
    Min,
    /// σ(a) · b.
    SigmoidMul,
}

impl Binary {
    /// The formula of b(a, b) for the formulas `a` and `b`.
    pub fn render(self, a: &str, b: &str) -> String {
        match self {
            Binary::Add => format!("{} + {}", operand(a), operand(b)),
            Binary::Sub => format!("{} - {}", operand(a), operand(b)),
            Binary::Mul => format!("{} * {}", operand(a), operand(b)),
            Binary::Div => format!("{} / {}", operand(a), operand(b)),
            Binary::Max => format!("max({a}, {b})"),
            Binary::Min => format!("min({a}, {b})"),
            Binary::SigmoidMul => format!("sigmoid({a}) * {}", operand(b)),
        }
    }
}

/// `f` as an operand of `+ - * /`: in parentheses unless it is a name, a number or a call.
fn operand(f: &str) -> String {
    let atomic = f
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        || (f.ends_with(')')
            && f.find('(').is_some_and(|open| {
                f[..open]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && matching_close(f, open) == Some(f.len() - 1)
            }));
    if atomic {
        f.to_string()
    } else {
        format!("({f})")
    }
}

/// The index of the `)` that closes the `(` at `open`.
fn matching_close(f: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in f.char_indices().skip_while(|&(i, _)| i < open) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The grid the candidates are compared on: `GRID_POINTS` points evenly from −6 to 6.
pub const GRID_POINTS: usize = 201;

/// The grid's points: −6, −5.94, …, 6.
pub fn grid() -> Vec<f32> {
    (0..GRID_POINTS)
        .map(|i| -6.0 + 12.0 * i as f32 / (GRID_POINTS - 1) as f32)
        .collect()
}

/// How the enumeration went: how many formulas were made and why each dropped one went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Enumeration {
    /// The candidates kept, in order: shortest formula first, then alphabetical.
    pub candidates: Vec<String>,
    /// Formulas made: |U|² · |B|.
    pub generated: usize,
    /// Not a formula (a constant: no `x`) or not accepted by the parser.
    pub unparsable: usize,
    /// NaN or ±inf somewhere on the grid.
    pub non_finite: usize,
    /// Constant or linear on the grid (a·x + b): the network would be linear.
    pub linear: usize,
    /// The same values on the grid as a shorter candidate.
    pub duplicates: usize,
}

/// Every core unit b(u₁(x), u₂(x)) of [`UNARY`] × [`UNARY`] × [`BINARY`], as formulas, sorted
/// (shortest first, then alphabetically) and deduplicated by their values on the [`grid`]
/// (rounded to 5 significant digits): of several formulas with the same values, the first is
/// kept. Dropped: formulas the parser refuses (constants: a formula must use `x`), those that
/// are NaN or ±inf somewhere on the grid, and those that are constant or linear there (the
/// network would collapse into one linear map, whatever the rest of the search does).
/// Deterministic: the list depends only on this code and the formula language.
pub fn enumerate() -> Enumeration {
    let mut formulas = Vec::with_capacity(UNARY.len() * UNARY.len() * BINARY.len());
    for b in BINARY {
        for u1 in UNARY {
            for u2 in UNARY {
                formulas.push(b.render(u1, u2));
            }
        }
    }
    let mut e = Enumeration {
        generated: formulas.len(),
        ..Enumeration::default()
    };
    formulas.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    formulas.dedup();
    e.duplicates = e.generated - formulas.len();
    let xs = grid();
    let mut seen = HashSet::new();
    for f in formulas {
        let Ok(spec) = ActivationSpec::parse(&f) else {
            e.unparsable += 1;
            continue;
        };
        let ys = values(&spec, &xs);
        if ys.iter().any(|v| !v.is_finite()) {
            e.non_finite += 1;
        } else if is_linear(&xs, &ys) {
            e.linear += 1;
        } else if seen.insert(key(&ys)) {
            e.candidates.push(f);
        } else {
            e.duplicates += 1;
        }
    }
    e
}

/// `f(x)` at `xs`, in evaluation mode, without a graph.
pub fn values(spec: &ActivationSpec, xs: &[f32]) -> Vec<f32> {
    let layer = spec.build();
    layer.eval();
    no_grad(|| {
        layer
            .forward(&Var::constant(Tensor::from_vec(xs.to_vec(), [xs.len()])))
            .value()
            .to_vec()
    })
}

/// `(f(x), f′(x))` at `xs`, in evaluation mode; f′ by autograd.
pub fn values_and_slopes(spec: &ActivationSpec, xs: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let layer = spec.build();
    layer.eval();
    let n = xs.len();
    let x = Var::parameter(Tensor::from_vec(xs.to_vec(), [n]));
    let y = layer.forward(&x);
    let ys = y.value().to_vec();
    y.backward_with(Tensor::ones([n]));
    let slopes = x.grad().map_or(vec![0.0; n], |g| g.to_vec());
    (ys, slopes)
}

/// The values rounded to 5 significant digits, as a key that equal functions share.
fn key(ys: &[f32]) -> Vec<String> {
    ys.iter()
        .map(|&v| {
            let v = if v == 0.0 { 0.0 } else { v }; // −0 and 0 alike
            format!("{v:.4e}")
        })
        .collect()
}

/// Whether `ys` is a·x + b on `xs` up to rounding: the least-squares line leaves a residual
/// below 10⁻⁴ of the values' spread (or the values are constant).
fn is_linear(xs: &[f32], ys: &[f32]) -> bool {
    let n = xs.len() as f64;
    let mx = xs.iter().map(|&v| v as f64).sum::<f64>() / n;
    let my = ys.iter().map(|&v| v as f64).sum::<f64>() / n;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (&x, &y) in xs.iter().zip(ys) {
        let (dx, dy) = (x as f64 - mx, y as f64 - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    let residual = (syy - sxy * sxy / sxx).max(0.0);
    syy <= 1e-12 * n || residual <= 1e-8 * syy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands_get_parentheses_only_when_needed() {
        assert_eq!(operand("x"), "x");
        assert_eq!(operand("1"), "1");
        assert_eq!(operand("sigmoid(x)"), "sigmoid(x)");
        assert_eq!(operand("sqrt(abs(x))"), "sqrt(abs(x))");
        assert_eq!(operand("-x"), "(-x)");
        assert_eq!(operand("x * x"), "(x * x)");
        assert_eq!(operand("exp(x) * exp(x)"), "(exp(x) * exp(x))");
        assert_eq!(
            Binary::SigmoidMul.render("x * x", "-x"),
            "sigmoid(x * x) * (-x)"
        );
    }

    #[test]
    fn linear_and_curved_functions_are_told_apart() {
        let xs = grid();
        let line: Vec<f32> = xs.iter().map(|&x| 2.0 * x - 1.0).collect();
        let constant = vec![3.0; xs.len()];
        let relu: Vec<f32> = xs.iter().map(|&x| x.max(0.0)).collect();
        assert!(is_linear(&xs, &line));
        assert!(is_linear(&xs, &constant));
        assert!(!is_linear(&xs, &relu));
    }
}
