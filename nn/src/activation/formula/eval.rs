//! A [`Formula`] as a layer, [`FormulaLayer`]: evaluated with `Var` ops (so autograd gives the
//! backward), and differentiated elementwise in forward mode for the diagnostics.

use std::sync::Arc;

use autograd::Var;
use tensor::{zip_with, Tensor};

use crate::module::{join_name, Module};

use super::tree::{BinOp, Expr, Formula};

impl Formula {
    /// A fresh layer: a new layer for every registered activation the formula calls (new
    /// learnable parameters, the first seed of a randomized one).
    pub fn build(&self) -> FormulaLayer {
        self.build_instance(0)
    }

    /// A fresh layer whose randomized inner activations use seed offset `instance` (see
    /// [`Args::instance`]).
    pub(crate) fn build_instance(&self, instance: u64) -> FormulaLayer {
        let mut modules = Vec::new();
        collect_modules(&self.expr, instance, &mut modules);
        FormulaLayer {
            formula: Arc::new(self.clone()),
            modules,
        }
    }
}

/// Builds the layers of the activation calls, in index order.
fn collect_modules(expr: &Expr, instance: u64, out: &mut Vec<Box<dyn Module>>) {
    match expr {
        Expr::X | Expr::Num(_) => {}
        Expr::Neg(a) | Expr::Call(_, a) => collect_modules(a, instance, out),
        Expr::Bin(_, a, b) => {
            collect_modules(a, instance, out);
            collect_modules(b, instance, out);
        }
        Expr::Act(args, index, a) => {
            // Arguments first: their calls have smaller indices (they were parsed first).
            collect_modules(a, instance, out);
            debug_assert_eq!(*index, out.len());
            let args = args.with_instance(instance);
            out.push((args.entry().build)(&args).expect("checked when parsed"));
        }
    }
}

/// The layer of a [`Formula`]: evaluates it with `Var` ops (so autograd gives the backward),
/// and owns a layer for each registered activation the formula calls.
pub struct FormulaLayer {
    formula: Arc<Formula>,
    modules: Vec<Box<dyn Module>>,
}

impl FormulaLayer {
    /// The formula.
    pub fn formula(&self) -> &Formula {
        &self.formula
    }
}

/// A value during evaluation: a constant not yet broadcast, or a tensor.
enum Val {
    Const(f32),
    Var(Var),
}

impl FormulaLayer {
    fn eval(&self, e: &Expr, x: &Var) -> Val {
        match e {
            Expr::X => Val::Var(x.clone()),
            Expr::Num(c) => Val::Const(*c),
            Expr::Neg(a) => match self.eval(a, x) {
                Val::Const(c) => Val::Const(-c),
                Val::Var(v) => Val::Var(v.neg()),
            },
            Expr::Call(f, a) => match self.eval(a, x) {
                Val::Const(c) => Val::Const(f.scalar(c)),
                Val::Var(v) => Val::Var(f.var(&v)),
            },
            Expr::Act(_, index, a) => {
                let v = match self.eval(a, x) {
                    Val::Const(c) => Var::constant(Tensor::full(x.shape(), c)),
                    Val::Var(v) => v,
                };
                Val::Var(self.modules[*index].forward(&v))
            }
            Expr::Bin(op, a, b) => binary(*op, self.eval(a, x), self.eval(b, x)),
        }
    }

    /// The value and the elementwise derivative in `x` (forward mode), or `None` when an
    /// activation called has no elementwise derivative.
    fn dual(&self, e: &Expr, x: &Tensor) -> Option<Dual> {
        Some(match e {
            Expr::X => Dual::T(x.clone(), x.ones_like()),
            Expr::Num(c) => Dual::C(*c),
            Expr::Neg(a) => match self.dual(a, x)? {
                Dual::C(c) => Dual::C(-c),
                Dual::T(v, d) => Dual::T(v.neg(), d.neg()),
            },
            Expr::Call(f, a) => match self.dual(a, x)? {
                Dual::C(c) => Dual::C(f.scalar(c)),
                Dual::T(v, d) => {
                    Dual::T(v.map(|u| f.scalar(u)), v.map(|u| f.derivative(u)).mul(&d))
                }
            },
            Expr::Act(_, index, a) => {
                let (v, d) = match self.dual(a, x)? {
                    Dual::C(c) => (x.full_like(c), x.zeros_like()),
                    Dual::T(v, d) => (v, d),
                };
                let m = &self.modules[*index];
                let y = m.forward(&Var::constant(v.clone())).value();
                let dy = m.derivative(&v)?;
                if dy.dims() != d.dims() {
                    return None;
                }
                Dual::T(y, dy.mul(&d))
            }
            Expr::Bin(op, a, b) => dual_binary(*op, self.dual(a, x)?, self.dual(b, x)?),
        })
    }
}

/// `a op b` on evaluated values, with the scalar forms of the ops where one side is a constant.
fn binary(op: BinOp, a: Val, b: Val) -> Val {
    let var = match (a, b) {
        (Val::Const(a), Val::Const(b)) => return Val::Const(op.apply(a, b)),
        (Val::Var(a), Val::Const(c)) => match op {
            BinOp::Add => a.add_scalar(c),
            BinOp::Sub => a.add_scalar(-c),
            BinOp::Mul => a.mul_scalar(c),
            BinOp::Div => a.div(&Var::constant(Tensor::scalar(c))),
            BinOp::Pow => a.pow_scalar(c),
            BinOp::Max | BinOp::Min => bin_var(op, &a, &Var::constant(Tensor::scalar(c))),
        },
        (Val::Const(c), Val::Var(b)) => match op {
            BinOp::Add => b.add_scalar(c),
            BinOp::Sub => b.neg().add_scalar(c),
            BinOp::Mul => b.mul_scalar(c),
            // cᵇ = e^(b·ln c) for c > 0: the derivative ln(c)·cᵇ without a pow op
            BinOp::Pow if c > 0.0 => b.mul_scalar(c.ln()).exp(),
            BinOp::Div | BinOp::Pow | BinOp::Max | BinOp::Min => {
                bin_var(op, &Var::constant(Tensor::scalar(c)), &b)
            }
        },
        (Val::Var(a), Val::Var(b)) => bin_var(op, &a, &b),
    };
    Val::Var(var)
}

fn bin_var(op: BinOp, a: &Var, b: &Var) -> Var {
    match op {
        BinOp::Add => a.add(b),
        BinOp::Sub => a.sub(b),
        BinOp::Mul => a.mul(b),
        BinOp::Div => a.div(b),
        BinOp::Pow => a.pow(b),
        BinOp::Max => a.maximum(b),
        BinOp::Min => a.minimum(b),
    }
}

/// A value with its derivative in `x`, for [`FormulaLayer::derivative`].
enum Dual {
    C(f32),
    T(Tensor, Tensor),
}

fn dual_binary(op: BinOp, a: Dual, b: Dual) -> Dual {
    let (av, ad, bv, bd) = match (a, b) {
        (Dual::C(a), Dual::C(b)) => return Dual::C(op.apply(a, b)),
        (Dual::T(v, d), Dual::C(c)) => {
            let (cv, cd) = (v.full_like(c), v.zeros_like());
            (v, d, cv, cd)
        }
        (Dual::C(c), Dual::T(v, d)) => (v.full_like(c), v.zeros_like(), v, d),
        (Dual::T(av, ad), Dual::T(bv, bd)) => (av, ad, bv, bd),
    };
    match op {
        BinOp::Add => Dual::T(av.add(&bv), ad.add(&bd)),
        BinOp::Sub => Dual::T(av.sub(&bv), ad.sub(&bd)),
        BinOp::Mul => Dual::T(av.mul(&bv), ad.mul(&bv).add(&av.mul(&bd))),
        BinOp::Div => {
            let y = av.div(&bv);
            let d = ad.sub(&y.mul(&bd)).div(&bv);
            Dual::T(y, d)
        }
        BinOp::Pow => {
            // (aᵇ)′ = b·a^(b−1)·a′ + ln(a)·aᵇ·b′, the second term only where b varies
            let y = av.pow(&bv);
            let mut d = bv.mul(&av.pow(&bv.sub_scalar(1.0))).mul(&ad);
            if bd.data().iter().any(|&v| v != 0.0) {
                d = d.add(&av.ln().mul(&y).mul(&bd));
            }
            Dual::T(y, d)
        }
        BinOp::Max | BinOp::Min => {
            // the winner's derivative; the mean of both at a tie (autograd's convention)
            let max = op == BinOp::Max;
            let share_a = zip_with(&av, &bv, op.symbol(), |a, b| {
                if a == b {
                    0.5
                } else if (a > b) == max {
                    1.0
                } else {
                    0.0
                }
            });
            let y = if max {
                av.maximum(&bv)
            } else {
                av.minimum(&bv)
            };
            let d = ad.mul(&share_a).add(&bd.mul(&share_a.map(|s| 1.0 - s)));
            Dual::T(y, d)
        }
    }
}

impl Module for FormulaLayer {
    /// The formula evaluated with `Var` ops.
    fn forward(&self, x: &Var) -> Var {
        match self.eval(&self.formula.expr, x) {
            Val::Var(v) => v,
            // Unreachable for a parsed formula (it uses x); kept total for safety.
            Val::Const(c) => Var::constant(Tensor::full(x.shape(), c)),
        }
    }

    /// The parameters of the activations called, named `<label>.<name>` (`snake.alpha`;
    /// `snake_0.alpha`, `snake_1.alpha` when the formula calls `snake` twice).
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
        for (label, m) in self.formula.labels.iter().zip(&self.modules) {
            m.visit_params(&join_name(prefix, label), f);
        }
    }

    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
        for (label, m) in self.formula.labels.iter().zip(&self.modules) {
            m.visit_buffers(&join_name(prefix, label), f);
        }
    }

    /// `Formula(x * tanh(softplus(x)))`.
    fn describe(&self) -> String {
        format!("Formula({})", self.formula.text)
    }

    /// Reaches the activations called (RReLU's random slope in training only).
    fn set_training(&self, training: bool) {
        for m in &self.modules {
            m.set_training(training);
        }
    }

    fn is_training(&self) -> bool {
        self.modules.iter().all(|m| m.is_training())
    }

    /// Always `true`: a formula is an activation.
    fn is_activation(&self) -> bool {
        true
    }

    /// `f′(x)` elementwise by forward-mode differentiation of the formula (the chain rule
    /// through each op, with the called activations' own `derivative`); `None` if one of them
    /// has none (softmax, the gated family).
    fn derivative(&self, x: &Tensor) -> Option<Tensor> {
        match self.dual(&self.formula.expr, x)? {
            Dual::C(_) => Some(x.zeros_like()),
            Dual::T(_, d) => Some(d),
        }
    }
}
