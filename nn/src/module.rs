//! The [`Module`] trait every layer, activation and container implements, and the
//! PyTorch-style printing of a module tree (`print(model)`).
//!
//! A module is used through `&self`: the training flag, random generators and running
//! statistics live in `Cell`/`RefCell`s, so a model can be shared by reference while it trains.

use std::collections::HashSet;
use std::fmt;

use autograd::Var;
use tensor::Tensor;

/// A piece of a network: maps an input [`Var`] to an output [`Var`] and owns parameters.
///
/// Only [`forward`](Module::forward), [`visit_params`](Module::visit_params) and
/// [`describe`](Module::describe) are required; containers also give
/// [`children`](Module::children), and modules that behave differently when training keep a
/// `Cell<bool>` behind [`set_training`](Module::set_training) / [`is_training`](Module::is_training).
///
/// ```
/// use nn::{Linear, Module, Relu, Sequential};
///
/// let mut rng = tensor::rng(0);
/// let model = Sequential::new()
///     .push(Linear::new(784, 128, true, &mut rng))
///     .push(Relu)
///     .push(Linear::new(128, 10, true, &mut rng));
/// let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// assert_eq!(model.num_parameters(), 784 * 128 + 128 + 128 * 10 + 10);
/// model.eval(); // reaches every layer
/// ```
pub trait Module {
    /// The module's output for input `x`.
    fn forward(&self, x: &Var) -> Var;

    /// Calls `f(name, param)` for every parameter, names dotted under `prefix`
    /// (`"layers.0.weight"`). Containers call each child with [`join_name`]`(prefix, child)`.
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var));

    /// Calls `f(name, buffer)` for the non-learned state saved in state dicts (BatchNorm's
    /// `running_mean` / `running_var`). Default: none.
    fn visit_buffers(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}

    /// The one-line description PyTorch prints: `"Linear(in_features=784, out_features=128,
    /// bias=True)"`, `"ReLU()"`. A container returns its bare type name (`"Sequential"`); the
    /// printer adds its children in parentheses.
    fn describe(&self) -> String;

    /// Direct sub-modules with their names, for printing, train/eval and hooks. Default: none.
    fn children(&self) -> Vec<(String, &dyn Module)> {
        Vec::new()
    }

    /// Sets the training flag of this module only (not its children): modules that care keep a
    /// `Cell<bool>`. [`train`](Module::train) and [`eval`](Module::eval) call it on the whole tree.
    fn set_training(&self, _training: bool) {}

    /// Whether this module is in training mode. Default: `true` (a module without a mode).
    fn is_training(&self) -> bool {
        true
    }

    /// Whether this module is an activation function (every registry activation, composites
    /// included). [`Diagnostics`](crate::Diagnostics) measures dead and saturated units on the
    /// outputs of exactly these. Default: `false`.
    fn is_activation(&self) -> bool {
        false
    }

    /// The local derivative `f′(x)` elementwise, for an activation that acts on each element on
    /// its own, with the output's shape; `None` when there is no such derivative (softmax, the
    /// gated GLU family, a randomized slope while training) or the module is not an activation.
    /// [`Diagnostics`](crate::Diagnostics) counts an output as saturated where |f′(x)| is
    /// below a threshold. Every [`PointwiseLayer`](crate::PointwiseLayer) gives it from its
    /// rule's `df`. Default: `None`.
    fn derivative(&self, _x: &Tensor) -> Option<Tensor> {
        None
    }

    /// Puts this module and every sub-module in training mode (Dropout drops, BatchNorm uses
    /// batch statistics and updates its running ones).
    fn train(&self) {
        self.set_training(true);
        for (_, child) in self.children() {
            child.train();
        }
    }

    /// Puts this module and every sub-module in evaluation mode (Dropout is the identity,
    /// BatchNorm uses its running statistics).
    fn eval(&self) {
        self.set_training(false);
        for (_, child) in self.children() {
            child.eval();
        }
    }

    /// Every parameter with its dotted name, in definition order. A parameter shared by two
    /// sub-modules (tied weights) is listed once, under its first name.
    fn named_parameters(&self) -> Vec<(String, Var)> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        self.visit_params("", &mut |name, p| {
            if seen.insert(p.id()) {
                out.push((name.to_string(), p.clone()));
            }
        });
        out
    }

    /// Every parameter (handles sharing the module's values), in definition order, each once.
    fn parameters(&self) -> Vec<Var> {
        self.named_parameters()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// Every buffer (non-learned state such as running statistics) with its dotted name.
    fn named_buffers(&self) -> Vec<(String, Var)> {
        let mut out = Vec::new();
        self.visit_buffers("", &mut |name, b| out.push((name.to_string(), b.clone())));
        out
    }

    /// Total number of scalar parameters (what PyTorch's
    /// `sum(p.numel() for p in model.parameters())` gives).
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(|p| p.shape().numel()).sum()
    }
}

/// The dotted name of `name` under `prefix`: `join_name("layers", "0") == "layers.0"`,
/// `join_name("", "weight") == "weight"`.
pub fn join_name(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// `x` the way Python prints a float, so descriptions read like PyTorch's:
/// `0.5` → `"0.5"`, `0.0` → `"0.0"`, `1e-5` → `"1e-05"`, `1e16` → `"1e+16"`.
/// (Shortest digits that read back as the same `f32`; scientific notation outside 1e-4 ≤ |x| < 1e16.)
pub fn format_float(x: f32) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci
        .split_once('e')
        .expect("LowerExp always writes an exponent");
    let exp: i32 = exp.parse().expect("LowerExp writes an integer exponent");
    if x == 0.0 || (-4..16).contains(&exp) {
        let fixed = format!("{x}");
        if fixed.contains('.') {
            fixed
        } else {
            format!("{fixed}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// Every module of the tree rooted at `root`, depth first, with its dotted name (`""` for the
/// root itself), like PyTorch's `named_modules()`.
pub fn named_modules(root: &dyn Module) -> Vec<(String, &dyn Module)> {
    fn walk<'a>(prefix: String, m: &'a dyn Module, out: &mut Vec<(String, &'a dyn Module)>) {
        let children = m.children();
        out.push((prefix.clone(), m));
        for (name, child) in children {
            walk(join_name(&prefix, &name), child, out);
        }
    }
    let mut out = Vec::new();
    walk(String::new(), root, &mut out);
    out
}

/// Writes `m` the way PyTorch's `print(model)` does: a leaf on one line, a container as
/// `Name(` then one `(name): child` line per child indented by two spaces, then `)`.
pub fn write_module(f: &mut dyn fmt::Write, m: &dyn Module) -> fmt::Result {
    let children = m.children();
    if children.is_empty() {
        let d = m.describe();
        // A container with no children prints as `Sequential()`, like PyTorch.
        if d.ends_with(')') {
            return f.write_str(&d);
        }
        return write!(f, "{d}()");
    }
    writeln!(f, "{}(", m.describe())?;
    for (name, child) in children {
        let mut s = String::new();
        write_module(&mut s, child)?;
        // Indent the child's continuation lines by two more spaces (PyTorch's `_addindent`).
        let s = s.replace('\n', "\n  ");
        writeln!(f, "  ({name}): {s}")?;
    }
    f.write_str(")")
}

impl fmt::Display for dyn Module + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_module(f, self)
    }
}

impl fmt::Debug for dyn Module + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_module(f, self)
    }
}

/// Implements `Display` for concrete module types by printing them as the module tree.
macro_rules! impl_display_via_module {
    ($($t:ty),* $(,)?) => {$(
        impl ::std::fmt::Display for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                $crate::module::write_module(f, self)
            }
        }
    )*};
}
pub(crate) use impl_display_via_module;

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use tensor::Tensor;

    /// A leaf with one parameter and a training flag.
    struct Leaf {
        w: Var,
        training: Cell<bool>,
    }

    impl Leaf {
        fn new(n: usize) -> Leaf {
            Leaf {
                w: Var::parameter(Tensor::ones([n])),
                training: Cell::new(true),
            }
        }
    }

    impl Module for Leaf {
        fn forward(&self, x: &Var) -> Var {
            x * &self.w
        }
        fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
            f(&join_name(prefix, "w"), &self.w);
        }
        fn describe(&self) -> String {
            format!("Leaf(n={})", self.w.shape().numel())
        }
        fn set_training(&self, training: bool) {
            self.training.set(training);
        }
        fn is_training(&self) -> bool {
            self.training.get()
        }
    }

    /// A container holding two leaves, one nested under a name.
    struct Pair {
        a: Leaf,
        b: Leaf,
    }

    impl Module for Pair {
        fn forward(&self, x: &Var) -> Var {
            self.b.forward(&self.a.forward(x))
        }
        fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
            self.a.visit_params(&join_name(prefix, "a"), f);
            self.b.visit_params(&join_name(prefix, "b"), f);
        }
        fn describe(&self) -> String {
            "Pair".to_string()
        }
        fn children(&self) -> Vec<(String, &dyn Module)> {
            vec![("a".into(), &self.a), ("b".into(), &self.b)]
        }
    }

    #[test]
    fn format_float_matches_python_repr() {
        let cases = [
            (0.5, "0.5"),
            (0.0, "0.0"),
            (1.0, "1.0"),
            (20.0, "20.0"),
            (0.1, "0.1"),
            (0.01, "0.01"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (-2.5e-5, "-2.5e-05"),
            (1e16, "1e+16"),
            (f32::INFINITY, "inf"),
        ];
        for (x, s) in cases {
            assert_eq!(format_float(x), s, "{x}");
        }
    }

    #[test]
    fn join_name_handles_empty_prefix() {
        assert_eq!(join_name("", "weight"), "weight");
        assert_eq!(join_name("layers.0", "weight"), "layers.0.weight");
    }

    #[test]
    fn named_parameters_are_dotted_and_counted() {
        let m = Pair {
            a: Leaf::new(3),
            b: Leaf::new(2),
        };
        let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["a.w", "b.w"]);
        assert_eq!(m.num_parameters(), 5);
        assert_eq!(m.parameters().len(), 2);
        assert!(m.named_buffers().is_empty());
    }

    #[test]
    fn shared_parameter_is_listed_once() {
        let a = Leaf::new(3);
        let b = Leaf {
            w: a.w.clone(),
            training: Cell::new(true),
        };
        let m = Pair { a, b };
        assert_eq!(m.parameters().len(), 1);
        assert_eq!(m.num_parameters(), 3);
    }

    #[test]
    fn train_and_eval_reach_every_child() {
        let m = Pair {
            a: Leaf::new(1),
            b: Leaf::new(1),
        };
        m.eval();
        assert!(!m.a.is_training() && !m.b.is_training());
        m.train();
        assert!(m.a.is_training() && m.b.is_training());
    }

    #[test]
    fn display_nests_like_pytorch() {
        let m = Pair {
            a: Leaf::new(1),
            b: Leaf::new(2),
        };
        let s = (&m as &dyn Module).to_string();
        assert_eq!(s, "Pair(\n  (a): Leaf(n=1)\n  (b): Leaf(n=2)\n)");
        let names: Vec<String> = named_modules(&m).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["", "a", "b"]);
    }
}
