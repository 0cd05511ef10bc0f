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
//! | `exp`, `ln` (or `log`), `sqrt`, `abs`, `sin`, `cos`, `erf`, `asinh`, `atan` | functions of one argument |
//! | `max(a, b)`, `min(a, b)` | the larger / smaller of two expressions, elementwise (`torch.maximum` / `torch.minimum`: at a tie each side gets half the gradient) |
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
//! The parts: [`tree`](self) holds the parsed form, `parse` reads the text, `eval` makes the
//! layer and `reference` evaluates a formula in `f64` (the reference for activations that have
//! no PyTorch counterpart).
//!
//! `sin`, `cos`, `erf`, `asinh` and `atan` are the scalar rules [`Sin`], [`Cos`], [`Erf`],
//! [`Asinh`] and [`Atan`] (erf through the same `scalar::erf` as exact GELU); `max` and `min`
//! are autograd's `Var::maximum` and `Var::minimum`.

mod eval;
mod parse;
mod real;
mod reference;
mod tree;

pub use super::error::FormulaError;
pub use eval::FormulaLayer;
pub use tree::{Asinh, Atan, Cos, Erf, Formula, Sin};

use super::entry::{Category, Entry};
use super::error::ParseError;

/// Registry entry of formulas. It is not in [`REGISTRY`](super::REGISTRY) (no name selects
/// it): [`ActivationSpec::parse`](super::ActivationSpec::parse) uses it for a spec that is a
/// formula, and whose `build` makes the formula's layer ([`Formula::build`]): the entry's own
/// `build` only says that the expression is missing.
pub const ENTRY: Entry = Entry::new("formula", Category::Custom, |_| {
    Err(ParseError::MissingArgument {
        activation: "formula",
        argument: "expression",
        usage: "formula:<expression in x>".into(),
    })
})
.about("an expression in x, parsed into Var ops: autograd gives its derivative")
.formula(
    "as written, e.g. x * tanh(softplus(x))",
    "by autograd through the ops of the formula",
)
.range("depends on the formula")
.pytorch("a Python function of x, e.g. lambda x: x * torch.tanh(F.softplus(x))");

#[cfg(test)]
mod tests;
