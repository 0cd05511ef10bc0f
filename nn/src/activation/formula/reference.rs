//! A formula evaluated in `f64`, from the same tree the layer evaluates in `f32`: the reference
//! for an activation that has no PyTorch counterpart ([`Entry::no_pytorch`]), whose `f(x)` is a
//! formula in `x`.
//!
//! [`Entry::no_pytorch`]: crate::activation::Entry::no_pytorch

use crate::activation::entry::Args;

use super::tree::{BinOp, Builtin, Expr, Formula};

impl Formula {
    /// `f(x)` in `f64`, or `None` if the formula calls an activation that has no `f64` form
    /// here: every built-in function (`exp`, `ln`, `sqrt`, `abs`, `sin`, `cos`, `erf`) has one,
    /// and so do `relu`, `sigmoid`, `tanh` and `softplus` at their default arguments. Numbers
    /// are the formula's `f32` constants.
    ///
    /// ```
    /// use nn::activation::Formula;
    ///
    /// let f = Formula::parse("x·erf(softplus(x))")?;
    /// let want = 2.0 * 0.997_369_666_633_895_6; // 2·erf(ln(1 + e²)), by Python's math.erf
    /// assert!((f.reference(2.0).unwrap() - want).abs() < 1e-14);
    /// # Ok::<(), nn::activation::FormulaError>(())
    /// ```
    pub fn reference(&self, x: f64) -> Option<f64> {
        eval(&self.expr, x)
    }
}

fn eval(e: &Expr, x: f64) -> Option<f64> {
    Some(match e {
        Expr::X => x,
        Expr::Num(c) => f64::from(*c),
        Expr::Neg(a) => -eval(a, x)?,
        Expr::Bin(op, a, b) => {
            let (a, b) = (eval(a, x)?, eval(b, x)?);
            match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                BinOp::Pow => a.powf(b),
            }
        }
        Expr::Call(f, a) => {
            let a = eval(a, x)?;
            match f {
                Builtin::Exp => a.exp(),
                Builtin::Ln => a.ln(),
                Builtin::Sqrt => a.sqrt(),
                Builtin::Abs => a.abs(),
                Builtin::Sin => a.sin(),
                Builtin::Cos => a.cos(),
                Builtin::Erf => erf(a),
            }
        }
        Expr::Act(args, _, a) => activation(args, eval(a, x)?)?,
    })
}

/// The activations with an `f64` form, at their default arguments.
fn activation(args: &Args, a: f64) -> Option<f64> {
    if *args != Args::defaults(args.entry()) {
        return None;
    }
    Some(match args.entry().name {
        "relu" => a.max(0.0),
        "sigmoid" => 1.0 / (1.0 + (-a).exp()),
        "tanh" => a.tanh(),
        "softplus" => a.max(0.0) + (-a.abs()).exp().ln_1p(),
        _ => return None,
    })
}

/// `erf(a)` to about 1e-15 relative: `(2/√π)·e^(−a²)·Σₙ 2ⁿ·a^(2n+1)/(1·3·…·(2n+1))`, a series of
/// positive terms (no cancellation); beyond |a| = 6, erf is ±1 to within 2e-17.
fn erf(a: f64) -> f64 {
    if a.abs() > 6.0 {
        return a.signum();
    }
    let (mut term, mut sum, mut n) = (a, a, 0.0);
    while term.abs() > 1e-17 * sum.abs() {
        n += 1.0;
        term *= 2.0 * a * a / (2.0 * n + 1.0);
        sum += term;
    }
    std::f64::consts::FRAC_2_SQRT_PI * (-a * a).exp() * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_high_precision_values() {
        // Python's math.erf
        for (a, want) in [
            (0.0, 0.0),
            (0.1, 0.112_462_916_018_284_9),
            (-1.0, -0.842_700_792_949_714_9),
            (2.5, 0.999_593_047_982_555),
            (5.0, 0.999_999_999_998_462_6),
        ] {
            let got = erf(a);
            assert!(
                (got - want).abs() <= 1e-15 * (1.0 + want.abs()),
                "erf({a}) = {got}"
            );
        }
    }

    #[test]
    fn reference_evaluates_the_tree_in_f64() {
        let f = Formula::parse("x * tanh(softplus(x)) + sigmoid(x) - relu(-x) / 2").unwrap();
        let x = -1.5f64;
        let sp = (1.0 + x.exp()).ln();
        let want = x * sp.tanh() + 1.0 / (1.0 + (-x).exp()) - 1.5 / 2.0;
        assert!((f.reference(x).unwrap() - want).abs() < 1e-15);
        // an activation without an f64 form, or not at its defaults
        assert_eq!(Formula::parse("mish(x)").unwrap().reference(1.0), None);
        assert_eq!(
            Formula::parse("softplus(x, 2)").unwrap().reference(1.0),
            None
        );
    }
}
