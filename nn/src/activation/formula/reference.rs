//! A formula evaluated in `f64`, from the same tree the layer evaluates in `f32`: the reference
//! for an activation that has no PyTorch counterpart ([`Entry::no_pytorch`]), whose `f(x)` is a
//! formula in `x`.
//!
//! [`Entry::no_pytorch`]: crate::activation::Entry::no_pytorch

use crate::activation::entry::Args;

use super::tree::{Expr, Formula};

impl Formula {
    /// `f(x)` in `f64`, or `None` if the formula calls an activation that has no `f64` form
    /// here: every built-in function (`exp`, `ln`, `sqrt`, `abs`, `sin`, `cos`, `erf`, `asinh`,
    /// `atan`, `max`, `min`) has one, and so do `relu`, `sigmoid`, `tanh` and `softplus` at
    /// their default arguments. Numbers are the formula's `f32` constants.
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
        Expr::Bin(op, a, b) => op.apply(eval(a, x)?, eval(b, x)?),
        Expr::Call(f, a) => f.scalar(eval(a, x)?),
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

#[cfg(test)]
mod tests {
    use super::*;

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
