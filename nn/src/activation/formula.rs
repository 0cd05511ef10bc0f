//! Formula activations: an expression in `x` such as `x * tanh(softplus(x))` or
//! `x * sigmoid(1.702 * x)`, parsed once and evaluated as `Var` ops, so its backward comes
//! from autograd and a new activation can be tried from the command line without
//! recompiling: `--activation 'x * tanh(softplus(x))'`, or with the explicit prefix
//! `--activation 'formula:x * tanh(softplus(x))'`.
//!
//! # Syntax
//! | element | meaning |
//! | --- | --- |
//! | `x` | the input |
//! | `1.702`, `.5`, `1e-3`, `pi`, `e` | numbers and constants |
//! | `a + b`, `a - b`, `a * b`, `a / b` | arithmetic (`·` and `×` also multiply, `−` subtracts) |
//! | `a ^ b` (or `a ** b`) | power, right-associative: `2^3^2` = 2⁹ = 512 |
//! | `-a`, `+a` | sign; binds looser than `^`, as in Python: `-x^2` = −(x²), `2^-1` = 0.5 |
//! | `( … )` | grouping |
//! | `exp`, `ln` (or `log`), `sqrt`, `abs`, `sin`, `cos`, `erf` | functions of one argument |
//! | `relu(…)`, `softplus(…)`, `tanh(…)`, `sigmoid(…)`, … | every registered activation |
//! | `leaky_relu(x, 0.2)`, `elu(x, alpha=0.5)`, `gelu(x, tanh)` | arguments after the first are the registry's ([`Entry::usage`](super::Entry::usage)) |
//!
//! Precedence, loosest first: `+ -`, then `* /`, then unary `-`/`+`, then `^`. Numbers are
//! folded while parsing (`2 * pi` is one constant). A formula must use `x`.
//!
//! # Errors point at the column
//! ```text
//! formula: expected ")" to close the "(" at column 9, found the end (column 21)
//!     x * tanh(softplus(x)
//!                         ^
//! ```
//!
//! # How a formula becomes layers
//! [`Formula::parse`] checks the text and resolves every function name (a registered
//! activation's arguments are checked then too); the result is immutable and shared.
//! [`Formula::build`] makes a [`FormulaLayer`] holding a fresh layer for each registered
//! activation the formula calls, so `snake(x)` or `prelu(x)` inside a formula bring their own
//! learnable parameters, and `rrelu(x)` its train/eval behaviour. Through the registry,
//! `ActivationSpec::parse("x * tanh(softplus(x))")` gives an [`ActivationSpec`](super::ActivationSpec)
//! whose `build()` does this, so everything that takes an activation name takes a formula.
//!
//! `sin`, `cos` and `erf` are the scalar rules [`Sin`], [`Cos`] and [`Erf`] (erf through the
//! same `scalar::erf` as exact GELU).

use std::fmt;
use std::sync::Arc;

use autograd::{Pointwise, Var};
use tensor::Tensor;

use super::registry::{self, closest, Args, ParseError};
use super::scalar;
use crate::module::{join_name, Module};

/// How deeply a formula may nest: each parenthesis, function call, sign (`-x`) and power
/// (`x^…`) adds one level, and each level is a few frames of the parser's recursion, so the
/// limit keeps a deep formula an error, not a stack overflow. 64 levels need a few hundred
/// stack frames, far below a 2 MB thread's.
const MAX_DEPTH: usize = 64;

/// How many binary operations a formula may hold. A chain `x + x + … + x` nests without
/// parentheses, and evaluating a tree that deep recursed past an 8 MB stack at about 15,000
/// operations (found by fuzzing); 1000 keeps a wide margin on a 2 MB thread too.
const MAX_OPERATIONS: usize = 1000;

/// The built-in functions of one argument (beside the registered activations).
const BUILTINS: [&str; 8] = ["exp", "ln", "log", "sqrt", "abs", "sin", "cos", "erf"];

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

/// A formula that could not be parsed: what is wrong, and where (1-based column, in
/// characters). Its `Display` shows the formula with a caret under the column.
#[derive(Clone, Debug, PartialEq)]
pub struct FormulaError {
    /// The formula as given.
    pub formula: String,
    /// The column of the problem, counting characters from 1 (one past the end for "found
    /// the end").
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Tabs would misalign the caret: show them as spaces.
        let shown: String = self
            .formula
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        write!(
            f,
            "formula: {} (column {})\n    {shown}\n    {}^",
            self.message,
            self.column,
            " ".repeat(self.column.saturating_sub(1))
        )
    }
}

impl std::error::Error for FormulaError {}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq)]
enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
        }
    }

    fn apply(self, a: f32, b: f32) -> f32 {
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
enum Builtin {
    Exp,
    Ln,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Erf,
}

impl Builtin {
    fn from_name(name: &str) -> Option<Builtin> {
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

    fn scalar(self, a: f32) -> f32 {
        match self {
            Builtin::Exp => a.exp(),
            Builtin::Ln => a.ln(),
            Builtin::Sqrt => a.sqrt(),
            Builtin::Abs => a.abs(),
            Builtin::Sin => a.sin(),
            Builtin::Cos => a.cos(),
            Builtin::Erf => scalar::erf(a),
        }
    }

    /// f′ of the function, for [`FormulaLayer::derivative`].
    fn derivative(self, a: f32) -> f32 {
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

    fn var(self, v: &Var) -> Var {
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
enum Expr {
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
    text: String,
    expr: Expr,
    /// One label per activation call, for parameter names: the activation's name, with
    /// `_k` appended when the formula calls the same one several times.
    labels: Vec<String>,
}

impl Formula {
    /// Parses `text` (see the [module docs](self) for the syntax).
    ///
    /// # Errors
    /// A [`FormulaError`] naming the column of the first problem: an unexpected character or
    /// token, an unclosed parenthesis, an unknown name (suggesting the closest function), a
    /// registered activation's bad argument, a formula that does not use `x`, a number out of
    /// range, nesting deeper than 64 levels (parentheses, calls, signs and powers), or more
    /// than 1000 operations.
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        let mut parser = Parser {
            text,
            chars: text.chars().collect(),
            pos: 0,
            depth: 0,
            acts: Vec::new(),
            uses_x: false,
            operations: 0,
        };
        parser.skip_space();
        if parser.pos == parser.chars.len() {
            return Err(parser.error(1, "empty formula: write an expression in x"));
        }
        let expr = parser.expr()?;
        parser.skip_space();
        if let Some(c) = parser.peek() {
            let col = parser.pos + 1;
            let what = if c == ')' {
                "unmatched \")\"".to_string()
            } else {
                format!("expected an operator (+ - * / ^) or the end, found {c:?}")
            };
            return Err(parser.error(col, &what));
        }
        if !parser.uses_x {
            return Err(parser.error(1, "the formula does not use x"));
        }
        let names: Vec<&str> = parser.acts.iter().map(|a| a.entry().name).collect();
        let mut seen = std::collections::HashMap::<&str, usize>::new();
        let labels = names
            .iter()
            .map(|&n| {
                let k = seen.entry(n).or_insert(0);
                *k += 1;
                if names.iter().filter(|&&m| m == n).count() > 1 {
                    format!("{n}_{}", *k - 1)
                } else {
                    n.to_string()
                }
            })
            .collect();
        Ok(Formula {
            text: text.trim().to_string(),
            expr,
            labels,
        })
    }

    /// The formula as given (trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }

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

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
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
        },
        (Val::Const(c), Val::Var(b)) => match op {
            BinOp::Add => b.add_scalar(c),
            BinOp::Sub => b.neg().add_scalar(c),
            BinOp::Mul => b.mul_scalar(c),
            // cᵇ = e^(b·ln c) for c > 0: the derivative ln(c)·cᵇ without a pow op
            BinOp::Pow if c > 0.0 => b.mul_scalar(c.ln()).exp(),
            BinOp::Div | BinOp::Pow => bin_var(op, &Var::constant(Tensor::scalar(c)), &b),
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

/// Registry entry of formulas. It is not in [`REGISTRY`](super::REGISTRY) (no name selects
/// it): [`ActivationSpec::parse`](super::ActivationSpec::parse) uses it for a spec that is a
/// formula, and its `build` reads the parsed formula from [`Args::formula`].
pub const ENTRY: registry::Entry =
    registry::Entry::new("formula", registry::Category::Custom, |args| {
        match args.formula() {
            Some(f) => Ok(Box::new(f.build_instance(args.instance()))),
            None => Err(ParseError::MissingArgument {
                activation: "formula",
                argument: "expression",
                usage: "formula:<expression in x>".into(),
            }),
        }
    })
    .about("an expression in x, parsed into Var ops: autograd gives its derivative")
    .formula(
        "as written, e.g. x * tanh(softplus(x))",
        "by autograd through the ops of the formula",
    )
    .range("depends on the formula")
    .pytorch("a Python function of x, e.g. lambda x: x * torch.tanh(F.softplus(x))");

/// A recursive-descent parser over the characters of the formula.
struct Parser<'a> {
    text: &'a str,
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    acts: Vec<Args>,
    uses_x: bool,
    operations: usize,
}

impl Parser<'_> {
    fn error(&self, column: usize, message: &str) -> FormulaError {
        FormulaError {
            formula: self.text.to_string(),
            column,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// The next non-space character, normalised (`·`, `×` → `*`; `−` → `-`; `**` → `^`),
    /// without consuming it; with the number of characters it spans.
    fn peek_op(&mut self) -> Option<(char, usize)> {
        self.skip_space();
        let c = self.peek()?;
        Some(match c {
            '*' if self.chars.get(self.pos + 1) == Some(&'*') => ('^', 2),
            '·' | '×' => ('*', 1),
            '−' => ('-', 1),
            c => (c, 1),
        })
    }

    /// Describes what is at the current position, for "found …" in messages.
    fn found(&mut self) -> String {
        self.skip_space();
        match self.peek() {
            None => "the end".into(),
            Some(c) => format!("{c:?}"),
        }
    }

    fn enter(&mut self) -> Result<(), FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(
                self.pos + 1,
                &format!(
                    "nested more than {MAX_DEPTH} levels deep (each parenthesis, function \
                     call, sign and power adds one): write a flatter formula"
                ),
            ));
        }
        Ok(())
    }

    /// expr := term (('+' | '-') term)*
    fn expr(&mut self) -> Result<Expr, FormulaError> {
        let mut lhs = self.term()?;
        while let Some((c, n)) = self.peek_op() {
            let op = match c {
                '+' => BinOp::Add,
                '-' => BinOp::Sub,
                _ => break,
            };
            self.pos += n;
            let col = self.pos + 1 - n;
            let rhs = self.term()?;
            lhs = self.fold(op, lhs, rhs, col)?;
        }
        Ok(lhs)
    }

    /// term := unary (('*' | '/') unary)*
    fn term(&mut self) -> Result<Expr, FormulaError> {
        let mut lhs = self.unary()?;
        while let Some((c, n)) = self.peek_op() {
            let op = match c {
                '*' => BinOp::Mul,
                '/' => BinOp::Div,
                _ => break,
            };
            self.pos += n;
            let col = self.pos + 1 - n;
            let rhs = self.unary()?;
            lhs = self.fold(op, lhs, rhs, col)?;
        }
        Ok(lhs)
    }

    /// unary := ('-' | '+') unary | power
    ///
    /// Every cycle of the recursion passes a sign, a `^`, a parenthesis or a call, and each
    /// of those is a level ([`MAX_DEPTH`]), so the recursion is bounded.
    fn unary(&mut self) -> Result<Expr, FormulaError> {
        match self.peek_op() {
            Some(('-', n)) => {
                self.pos += n;
                self.enter()?;
                let out = match self.unary()? {
                    Expr::Num(v) => Expr::Num(-v),
                    e => Expr::Neg(Box::new(e)),
                };
                self.depth -= 1;
                Ok(out)
            }
            Some(('+', n)) => {
                self.pos += n;
                self.enter()?;
                let out = self.unary()?;
                self.depth -= 1;
                Ok(out)
            }
            _ => self.power(),
        }
    }

    /// power := primary ('^' unary)?   — right-associative, and the exponent may carry a
    /// sign: `2^3^2` = 2^(3^2), `2^-1` = 0.5, while `-x^2` = −(x²) (see `unary`).
    fn power(&mut self) -> Result<Expr, FormulaError> {
        let base = self.primary()?;
        if let Some(('^', n)) = self.peek_op() {
            let col = self.pos + 1;
            self.pos += n;
            self.enter()?;
            let exponent = self.unary()?;
            self.depth -= 1;
            return self.fold(BinOp::Pow, base, exponent, col);
        }
        Ok(base)
    }

    /// primary := number | name | name '(' args ')' | '(' expr ')'
    fn primary(&mut self) -> Result<Expr, FormulaError> {
        self.skip_space();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.error(
                start + 1,
                "expected a number, x, a function or \"(\", found the end",
            ));
        };
        if c.is_ascii_digit() || c == '.' {
            return self.number();
        }
        if c == '(' {
            self.pos += 1;
            self.enter()?;
            let inner = self.expr()?;
            self.expect_close(start)?;
            self.depth -= 1;
            return Ok(inner);
        }
        if c.is_alphabetic() || c == '_' {
            return self.name();
        }
        let found = self.found();
        Err(self.error(
            start + 1,
            &format!("expected a number, x, a function or \"(\", found {found}"),
        ))
    }

    fn expect_close(&mut self, open: usize) -> Result<(), FormulaError> {
        if let Some((')', _)) = self.peek_op() {
            self.pos += 1;
            return Ok(());
        }
        let found = self.found();
        Err(self.error(
            self.pos + 1,
            &format!(
                "expected \")\" to close the \"(\" at column {}, found {found}",
                open + 1
            ),
        ))
    }

    /// digits [. digits] [e [+-] digits], or . digits …
    fn number(&mut self) -> Result<Expr, FormulaError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos - s
        };
        let mut count = digits(self);
        if self.peek() == Some('.') {
            self.pos += 1;
            count += digits(self);
        }
        if count == 0 {
            return Err(self.error(start + 1, "expected digits around \".\""));
        }
        // An exponent only if digits follow (`2e` is 2 followed by the constant e).
        if matches!(self.peek(), Some('e' | 'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                self.pos = save;
            }
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        match text.parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(Expr::Num(v)),
            _ => Err(self.error(
                start + 1,
                &format!("number {text} is out of the range of f32"),
            )),
        }
    }

    /// `x`, a constant, or a function call.
    fn name(&mut self) -> Result<Expr, FormulaError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        let raw: String = self.chars[start..self.pos].iter().collect();
        let name = raw.to_lowercase();
        let is_call = matches!(self.peek_op(), Some(('(', _)));
        if !is_call {
            return match name.as_str() {
                "x" => {
                    self.uses_x = true;
                    Ok(Expr::X)
                }
                "pi" => Ok(Expr::Num(std::f32::consts::PI)),
                "e" => Ok(Expr::Num(std::f32::consts::E)),
                _ if Builtin::from_name(&name).is_some() || registry::find(&name).is_some() => {
                    let found = self.found();
                    Err(self.error(
                        self.pos + 1,
                        &format!("expected \"(\" after the function {raw}, found {found}"),
                    ))
                }
                _ => Err(self.error(
                    start + 1,
                    &format!("unknown name {raw:?}: the variable is x, the constants pi and e"),
                )),
            };
        }
        let builtin = Builtin::from_name(&name);
        let entry = registry::find(&name);
        if builtin.is_none() && entry.is_none() {
            let candidates = BUILTINS.iter().copied().chain(registry::names());
            let mut msg = format!("unknown function {raw:?}");
            if let Some(s) = closest(&name, candidates) {
                msg.push_str(&format!(" (did you mean {s:?}?)"));
            }
            msg.push_str(&format!(
                "; functions: {}, and the activations: {}",
                BUILTINS.join(", "),
                registry::names().join(", ")
            ));
            return Err(self.error(start + 1, &msg));
        }
        let open = self.pos;
        self.pos += 1; // '('
        self.enter()?;
        let arg = self.expr()?;
        let mut extra: Option<(usize, usize, String)> = None;
        if let Some((',', _)) = self.peek_op() {
            let comma = self.pos;
            self.pos += 1;
            self.skip_space();
            let from = self.pos;
            // The registry's own arguments, as raw text up to the closing parenthesis.
            while self.peek().is_some_and(|c| c != ')' && c != '(') {
                self.pos += 1;
            }
            let text: String = self.chars[from..self.pos].iter().collect();
            extra = Some((comma, from, text));
        }
        self.expect_close(open)?;
        self.depth -= 1;
        if let Some(f) = builtin {
            if let Some((comma, _, _)) = extra {
                return Err(self.error(
                    comma + 1,
                    &format!("{raw} takes one argument (after the first: unexpected \",\")"),
                ));
            }
            return Ok(match arg {
                Expr::Num(v) => self.constant(start, f.scalar(v), &raw)?,
                arg => Expr::Call(f, Box::new(arg)),
            });
        }
        let entry = entry.expect("checked above");
        let (column, spec) = match &extra {
            Some((_, from, text)) => (from + 1, format!("{}:{}", entry.name, text)),
            None => (start + 1, entry.name.to_string()),
        };
        let act = registry::ActivationSpec::parse(&spec)
            .map_err(|e| self.error(column, &e.to_string()))?;
        self.acts.push(act.args().clone());
        let index = self.acts.len() - 1;
        Ok(Expr::Act(
            Box::new(act.args().clone()),
            index,
            Box::new(arg),
        ))
    }

    /// `a op b`, folded to a number when both are numbers (which must give a finite one;
    /// `column` is the operator's, for the error).
    fn fold(&mut self, op: BinOp, a: Expr, b: Expr, column: usize) -> Result<Expr, FormulaError> {
        if let (Some(ha), Some(hb)) = (halvings(&a), halvings(&b)) {
            if ha != hb {
                // found by fuzzing: `glu(x) * x` multiplied a [N, C/2] by a [N, C] and panicked
                return Err(self.error(
                    column,
                    &format!(
                        "the two sides of {:?} have different shapes: a gated activation \
                         (glu, swiglu, geglu) halves an axis of its input, so its result can \
                         only be combined with values that went through the same halving",
                        op.symbol()
                    ),
                ));
            }
        }
        self.operations += 1;
        if self.operations > MAX_OPERATIONS {
            return Err(self.error(
                column,
                &format!(
                    "more than {MAX_OPERATIONS} operations (+, -, *, /, ^): write a shorter \
                     formula"
                ),
            ));
        }
        match (&a, &b) {
            (Expr::Num(x), Expr::Num(y)) => {
                let v = op.apply(*x, *y);
                if v.is_finite() {
                    Ok(Expr::Num(v))
                } else {
                    Err(self.error(
                        column,
                        &format!("{x} {} {y} is {v}, not a finite number", op.symbol()),
                    ))
                }
            }
            _ => Ok(Expr::Bin(op, Box::new(a), Box::new(b))),
        }
    }

    /// A folded constant, which must be finite.
    fn constant(&self, start: usize, v: f32, what: &str) -> Result<Expr, FormulaError> {
        if v.is_finite() {
            Ok(Expr::Num(v))
        } else {
            Err(self.error(
                start + 1,
                &format!("{what}(…) of a constant is {v}, not a finite number"),
            ))
        }
    }
}

/// The axes (the `dim` of each gated activation, in order of size) that the gated activations
/// on the way from x to `e` halve; `None` for a constant, which broadcasts against anything.
/// Two sides of an operation must agree, or their shapes differ.
fn halvings(e: &Expr) -> Option<Vec<i64>> {
    match e {
        Expr::X => Some(Vec::new()),
        Expr::Num(_) => None,
        Expr::Neg(a) | Expr::Call(_, a) => halvings(a),
        // both sides agreed when the operation was built
        Expr::Bin(_, a, b) => halvings(a).or_else(|| halvings(b)),
        Expr::Act(args, _, a) => {
            let mut h = halvings(a)?;
            if args.entry().category == registry::Category::Gated {
                h.push(args.int("dim"));
                h.sort_unstable();
            }
            Some(h)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{ActivationSpec, Mish, Swish};
    use autograd::{gradcheck, gradcheck_params, gradcheck_pointwise, GradcheckOptions};

    const POINTS: [f32; 13] = [
        -100.0, -20.0, -5.0, -2.0, -1.0, -0.3, 0.0, 0.3, 1.0, 2.0, 5.0, 20.0, 100.0,
    ];

    /// Values and input gradients of `layer` at `xs` (the gradient of Σ y).
    fn value_and_grad(layer: &dyn Module, xs: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let x = Var::parameter(Tensor::from_vec(xs.to_vec(), [xs.len()]));
        let y = layer.forward(&x);
        let values = y.value().to_vec();
        y.sum_all().backward();
        (values, x.grad().unwrap().to_vec())
    }

    /// `f` at one point, through a built layer.
    fn at(text: &str, x: f32) -> f32 {
        let layer = Formula::parse(text)
            .unwrap_or_else(|e| panic!("{e}"))
            .build();
        layer
            .forward(&Var::constant(Tensor::from_vec(vec![x], [1])))
            .value()
            .to_vec()[0]
    }

    fn close(a: f32, b: f32, tol: f32) -> bool {
        (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn mish_written_as_a_formula_agrees_with_mish() {
        let formula = Formula::parse("x * tanh(softplus(x))").unwrap().build();
        let (fv, fg) = value_and_grad(&formula, &POINTS);
        let (mv, mg) = value_and_grad(&Mish, &POINTS);
        for i in 0..POINTS.len() {
            assert!(
                close(fv[i], mv[i], 1e-6),
                "f({}) {} vs {}",
                POINTS[i],
                fv[i],
                mv[i]
            );
            assert!(
                close(fg[i], mg[i], 1e-5),
                "f′({}) {} vs {}",
                POINTS[i],
                fg[i],
                mg[i]
            );
        }
        // the forward-mode derivative (for diagnostics) agrees too
        let d = formula
            .derivative(&Tensor::from_vec(POINTS.to_vec(), [13]))
            .unwrap();
        for (i, &v) in d.data().iter().enumerate() {
            assert!(
                close(v, mg[i], 1e-5),
                "derivative at {}: {v} vs {}",
                POINTS[i],
                mg[i]
            );
        }
    }

    #[test]
    fn gelu_sigmoid_approximation_agrees_with_swish_of_beta_1_702() {
        let formula = Formula::parse("x * sigmoid(1.702 * x)").unwrap().build();
        let swish = Swish::new(1.702);
        let (fv, fg) = value_and_grad(&formula, &POINTS);
        let (sv, sg) = value_and_grad(&swish, &POINTS);
        for i in 0..POINTS.len() {
            assert!(
                close(fv[i], sv[i], 1e-6) && close(fg[i], sg[i], 1e-5),
                "at {}",
                POINTS[i]
            );
        }
    }

    #[test]
    fn precedence_and_associativity_follow_python() {
        assert_eq!(at("2^3^2 * x", 1.0), 512.0); // 2^(3^2), right-associative
        assert_eq!(at("x ** 3 ** 2", 1.0), 1.0);
        assert_eq!(at("-x^2", 3.0), -9.0); // −(x²)
        assert_eq!(at("(-x)^2", 3.0), 9.0);
        assert_eq!(at("-2^2 + x", 0.0), -4.0);
        assert_eq!(at("2^-1 * x", 1.0), 0.5); // a signed exponent
        assert_eq!(at("1 - 2 - x", 3.0), -4.0); // left-associative
        assert_eq!(at("8 / 4 / x", 2.0), 1.0);
        assert_eq!(at("2 + 3 * x", 2.0), 8.0);
        assert_eq!(at("(2 + 3) * x", 2.0), 10.0);
        assert_eq!(at("x·x − 1", 3.0), 8.0); // Unicode operators
        assert_eq!(at("- - x", 3.0), 3.0);
        assert_eq!(at("+x", 3.0), 3.0);
        assert_eq!(at("2*x^2", 3.0), 18.0);
        assert_eq!(at("x / 2 * 4", 3.0), 6.0);
        assert_eq!(at("1e-3 * x + .5", 1000.0), 1.5);
        assert!(close(
            at("pi * x + e", 1.0),
            std::f32::consts::PI + std::f32::consts::E,
            1e-7
        ));
        assert_eq!(at("2x".replace('2', "2*").as_str(), 4.0), 8.0);
    }

    #[test]
    fn functions_and_constants_fold() {
        assert!(close(at("exp(1) * x", 1.0), std::f32::consts::E, 1e-7));
        assert!(close(at("x * sqrt(4)", 2.0), 4.0, 0.0));
        assert!(close(at("erf(x)", 0.5), 0.520_499_9, 1e-6));
        assert!(close(
            at("sin(x) + cos(x)", 1.0),
            1f32.sin() + 1f32.cos(),
            1e-7
        ));
        assert!(close(at("ln(x) + log(x)", std::f32::consts::E), 2.0, 1e-6));
        assert!(close(at("abs(x) - 1", -3.0), 2.0, 0.0));
        assert!(close(at("2^x", 3.0), 8.0, 1e-6)); // c^x through e^(x·ln c)
        assert!(close(at("x^x", 2.0), 4.0, 1e-6));
        assert!(close(at("1 / x", 4.0), 0.25, 0.0));
        assert!(close(at("relu(2) + x", 1.0), 3.0, 0.0));
    }

    #[test]
    fn registered_activations_take_their_arguments() {
        assert!(close(at("leaky_relu(x, 0.2)", -1.0), -0.2, 1e-7));
        assert!(close(at("leaky_relu(x)", -1.0), -0.01, 1e-7));
        assert!(close(
            at("elu(x, alpha=0.5)", -1.0),
            0.5 * ((-1f32).exp() - 1.0),
            1e-7
        ));
        let tanh_gelu = at("gelu(x, tanh)", 1.0);
        assert!(close(tanh_gelu, 0.841_192, 1e-6), "{tanh_gelu}");
        assert!(close(at("SiLU(x)", 1.0), 1.0 / (1.0 + (-1f32).exp()), 1e-7));
        assert!(close(at("softplus(2 * x) / 2", 0.0), 2f32.ln() / 2.0, 1e-6));
    }

    #[test]
    fn errors_point_at_the_column() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "x * tanh(softplus(x)",
                21,
                "expected \")\" to close the \"(\" at column 9, found the end",
            ),
            (
                "x +",
                4,
                "expected a number, x, a function or \"(\", found the end",
            ),
            ("x + * 2", 5, "found '*'"),
            (
                "2x",
                2,
                "expected an operator (+ - * / ^) or the end, found 'x'",
            ),
            ("x)", 2, "unmatched \")\""),
            (
                "x * tahn(x)",
                5,
                "unknown function \"tahn\" (did you mean \"tanh\"?)",
            ),
            ("y * x", 1, "unknown name \"y\": the variable is x"),
            ("tanh x", 6, "expected \"(\" after the function tanh"),
            ("exp(x, 2)", 6, "exp takes one argument"),
            (
                "leaky_relu(x, abc)",
                15,
                "leaky_relu: negative_slope: expected a number, got \"abc\"",
            ),
            ("threshold(x)", 1, "threshold: missing required argument"),
            ("2 + 3", 1, "the formula does not use x"),
            ("   ", 1, "empty formula"),
            ("x $ 2", 3, "found '$'"),
            ("x * 1e99", 5, "number 1e99 is out of the range of f32"),
            ("x + 1/0", 6, "1 / 0 is inf, not a finite number"),
            ("x + exp(100)", 5, "exp(…) of a constant is inf"),
            ("x + .", 5, "expected digits around \".\""),
        ];
        for &(text, column, fragment) in cases {
            let e = Formula::parse(text).expect_err(text);
            assert_eq!(e.column, column, "{text}: {e}");
            assert!(e.message.contains(fragment), "{text}: {e}");
        }
        let e = Formula::parse("x * tanh(softplus(x)").unwrap_err();
        assert_eq!(
            e.to_string(),
            "formula: expected \")\" to close the \"(\" at column 9, found the end (column 21)\n    \
             x * tanh(softplus(x)\n                        ^"
        );
        // the limit is the one the message gives: 64 levels parse, 65 do not
        let nest =
            |open: &str, n: usize, close: &str| format!("{}x{}", open.repeat(n), close.repeat(n));
        // (what opens a level, what closes it, levels it adds)
        for (open, close, levels) in [
            ("(", ")", 1),
            ("relu(", ")", 1),
            ("-(", ")", 2),
            ("sin(-", ")", 2),
            ("2^(", ")", 2),
        ] {
            let fits = 64 / levels;
            let ok = nest(open, fits, close);
            assert!(Formula::parse(&ok).is_ok(), "{open} × {fits}");
            let e = Formula::parse(&nest(open, fits + 1, close)).unwrap_err();
            assert!(e.message.contains("nested more than 64 levels"), "{e}");
        }
        let signs = format!("{}x", "-".repeat(64));
        assert_eq!(Formula::parse(&signs).unwrap().text(), signs);
        assert!(Formula::parse(&format!("-{signs}")).is_err());
        // 32 nested parentheses, the case that was refused with "more than 64 levels"
        assert!(Formula::parse(&nest("(", 32, ")")).is_ok());
        // a 64-level formula is also evaluated and differentiated without trouble
        let layer = Formula::parse(&nest("sin(", 64, ")")).unwrap().build();
        let x = Var::parameter(Tensor::from_vec(vec![0.5, -1.0], [2]));
        layer.forward(&x).backward_with(Tensor::ones([2]));
        assert!(x.grad().unwrap().all_finite());
    }

    #[test]
    fn gradcheck_of_formulas() {
        let layer = Formula::parse("sin(x) * erf(x) + x^3 / (1 + abs(x)) + cos(2*x) - exp(-x^2)")
            .unwrap()
            .build();
        let x = Tensor::from_vec(vec![-2.1, -1.3, -0.4, 0.35, 0.9, 1.7, 2.6, 3.1], [2, 4]);
        gradcheck(
            |v: &[Var]| layer.forward(&v[0]),
            std::slice::from_ref(&x),
            1e-2,
            1e-2,
        )
        .unwrap();
        let d = layer.derivative(&x).unwrap();
        let (_, g) = value_and_grad(&layer, x.data());
        for (a, b) in d.data().iter().zip(&g) {
            assert!(close(*a, *b, 1e-4), "{a} vs {b}");
        }
        // a learnable parameter inside the formula: snake's alpha
        let snaky = Formula::parse("x * sigmoid(x) + snake(x)").unwrap().build();
        let params = snaky.parameters();
        assert_eq!(snaky.named_parameters()[0].0, "snake.alpha");
        let opts = GradcheckOptions::default();
        gradcheck_params(|v: &[Var]| snaky.forward(&v[0]), &[x], &params, &opts).unwrap();
    }

    #[test]
    fn sin_cos_erf_rules_pass_gradcheck() {
        let xs = [-4.0, -1.5, -0.2, 0.0, 0.2, 1.5, 4.0];
        gradcheck_pointwise(&Sin, &xs, &[]).unwrap();
        gradcheck_pointwise(&Cos, &xs, &[]).unwrap();
        gradcheck_pointwise(&Erf, &xs, &[]).unwrap();
        assert_eq!(Erf.f(0.0, &[]), 0.0);
        assert!(close(
            Erf.df(0.0, &[]),
            std::f32::consts::FRAC_2_SQRT_PI,
            1e-7
        ));
    }

    #[test]
    fn layers_are_fresh_and_named() {
        let f = Formula::parse("snake(x) + snake(2 * x)").unwrap();
        let (a, b) = (f.build(), f.build());
        let names: Vec<String> = a.named_parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["snake_0.alpha", "snake_1.alpha"]);
        assert!(!a.parameters()[0].ptr_eq(&b.parameters()[0]));
        assert_eq!(a.describe(), "Formula(snake(x) + snake(2 * x))");
        assert!(a.is_activation());
        // train/eval reaches the activations called: RReLU's slope is fixed in eval
        let r = Formula::parse("rrelu(x)").unwrap().build();
        Module::eval(&r);
        assert!(!r.is_training());
        let y = r.forward(&Var::constant(Tensor::from_vec(vec![-1.0], [1])));
        let mid = (1.0 / 8.0 + 1.0 / 3.0) / 2.0;
        assert!(close(y.value().to_vec()[0], -mid, 1e-7));
        // softmax has no elementwise derivative, so neither has the formula
        let s = Formula::parse("x * softmax(x)").unwrap().build();
        assert!(s.derivative(&Tensor::ones([2, 3])).is_none());
    }

    #[test]
    fn the_registry_accepts_formulas_anywhere_a_name_goes() {
        for spec in [
            "x * tanh(softplus(x))",
            "formula:x * tanh(softplus(x))",
            " Formula: x * tanh(softplus(x)) ",
        ] {
            let act = ActivationSpec::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(act.name(), "formula");
            assert_eq!(act.to_string(), "x * tanh(softplus(x))");
            assert_eq!(act.entry().category, registry::Category::Custom);
            let layer = act.build();
            assert_eq!(layer.describe(), "Formula(x * tanh(softplus(x)))");
            // Display parses back to the same activation
            assert_eq!(
                ActivationSpec::parse(&act.to_string()).unwrap().args(),
                act.args()
            );
        }
        assert_eq!(ActivationSpec::parse("x").unwrap().to_string(), "x");
        assert_eq!(ActivationSpec::parse("x^2").unwrap().name(), "formula");
        // names still win, and a misspelt name is still an unknown name
        assert_eq!(ActivationSpec::parse("mish").unwrap().name(), "mish");
        let e = ActivationSpec::parse("mihs").unwrap_err();
        assert!(e.to_string().contains("did you mean \"mish\"?"), "{e}");
        assert!(e
            .to_string()
            .ends_with("or a formula in x such as \"x * tanh(softplus(x))\""));
        // a formula's mistake is reported at its column
        let e = ActivationSpec::parse("x * tahn(x)").unwrap_err();
        assert!(matches!(&e, ParseError::Formula(f) if f.column == 5), "{e}");
        let e = ActivationSpec::parse("formula:2 + 3").unwrap_err();
        assert!(e.to_string().contains("does not use x"), "{e}");
    }

    /// A deterministic generator for the fuzz test (SplitMix64).
    struct Mix(u64);

    impl Mix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    #[test]
    fn random_strings_never_panic() {
        let mut rng = Mix(7);
        // characters, including ones outside the grammar and multi-byte ones
        let chars: Vec<char> = "x()+-*/^., e0123456789abcdefghijklmnopqrstuvwyz_=$·−×é\t\n"
            .chars()
            .collect();
        for _ in 0..20_000 {
            let len = (rng.next() % 24) as usize;
            let s: String = (0..len)
                .map(|_| chars[(rng.next() % chars.len() as u64) as usize])
                .collect();
            let _ = Formula::parse(&s);
            let _ = ActivationSpec::parse(&s);
        }
        // token soup: near-valid formulas, evaluated when they parse
        let tokens = [
            "x",
            "x",
            "2",
            "0.5",
            "-",
            "+",
            "*",
            "/",
            "^",
            "**",
            "(",
            ")",
            "(",
            ")",
            "exp(",
            "ln(",
            "sqrt(",
            "abs(",
            "sin(",
            "cos(",
            "erf(",
            "tanh(",
            "softplus(",
            "relu(",
            "mish(",
            "leaky_relu(",
            ", 0.2",
            ", alpha=2",
            ", learnable",
            "snake(",
            "rrelu(",
            "pi",
            "e",
            " ",
        ];
        let x = Var::parameter(Tensor::from_vec(
            vec![-3.0, -0.5, 0.0, 0.7, 2.0, 40.0],
            [1, 6],
        ));
        let mut evaluated = 0;
        for _ in 0..20_000 {
            let len = 1 + (rng.next() % 12) as usize;
            let s: String = (0..len).map(|_| rng.pick(&tokens)).collect();
            if let Ok(f) = Formula::parse(&s) {
                assert_eq!(f.build().forward(&x).dims(), [1, 6], "{s}");
                evaluated += 1;
            }
        }
        // random valid formulas: they parse, evaluate, and go through backward
        fn gen(rng: &mut Mix, depth: u32) -> String {
            if depth == 0 || rng.next().is_multiple_of(4) {
                return rng.pick(&["x", "x", "1.5", "2", "pi"]).to_string();
            }
            match rng.next() % 4 {
                0 => format!("{}{}", rng.pick(&["-", "+"]), gen(rng, depth - 1)),
                1 => {
                    let f = rng.pick(&[
                        "exp",
                        "sin",
                        "cos",
                        "erf",
                        "abs",
                        "tanh",
                        "softplus",
                        "mish",
                        "snake",
                        "leaky_relu",
                    ]);
                    format!("{f}({})", gen(rng, depth - 1))
                }
                2 => format!("({})", gen(rng, depth - 1)),
                _ => {
                    let op = rng.pick(&[" + ", " - ", " * ", " / ", "^"]);
                    format!("{}{op}{}", gen(rng, depth - 1), gen(rng, depth - 1))
                }
            }
        }
        for _ in 0..2_000 {
            let s = format!("x + {}", gen(&mut rng, 5));
            let f = match Formula::parse(&s) {
                Ok(f) => f,
                // constants folded while parsing can overflow (exp(exp(pi^1.5)))
                Err(e) if e.message.contains("not a finite number") => continue,
                Err(e) => panic!("{s}: {e}"),
            };
            let y = f.build().forward(&x);
            assert_eq!(y.dims(), [1, 6], "{s}");
            y.sum_all().backward();
            evaluated += 1;
        }
        assert!(evaluated > 2_000, "only {evaluated} formulas evaluated");
    }
}
