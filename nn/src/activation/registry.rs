//! The registry's types: [`Entry`] (one activation's name, arguments and documentation data),
//! [`Arg`] (one argument), [`Args`] (parsed argument values), [`Category`], [`ParseError`], and
//! [`ActivationSpec`] — a parsed spec such as `"leaky_relu:0.1"` that builds fresh layers.
//! The table itself is [`REGISTRY`] in `activation/mod.rs`.
//!
//! # Spec syntax
//! `name[:arg,arg,…]`, each `arg` either a value (positional, in PyTorch's order) or
//! `key=value`:
//!
//! | spec | meaning |
//! | --- | --- |
//! | `relu` | defaults |
//! | `leaky_relu:0.1` | `negative_slope = 0.1` |
//! | `elu:alpha=0.5` | by name |
//! | `gelu:tanh` | a choice |
//! | `rrelu:0.125,0.333` | two positional values |
//! | `swish:learnable` | every learnable-capable parameter learns (initialised at its value) |
//! | `elu:alpha=learnable` | this parameter learns |
//! | `elu:alpha=0.5,learnable` | initialised at 0.5, learns |
//! | `snake:fixed` | the opposite switch (Snake's `alpha` learns by default) |
//!
//! Names are case-insensitive and `-` may stand for `_` (`Leaky-ReLU:0.1`).
//!
//! # Formulas
//! A spec may also be a formula in `x` ([`formula`]):
//! `x * tanh(softplus(x))`, or with the explicit prefix `formula:x * tanh(softplus(x))`.
//! Without the prefix, a spec whose name is not registered is read as a formula when it
//! contains `(` or uses `x` (`x * sigmoid(1.702 * x)`, `x^2`); a mistake in it is reported
//! at its column.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use crate::Module;

use super::formula::{self, Formula, FormulaError};
use super::{Param, REGISTRY};

/// Every registered activation, in table order.
pub fn all() -> &'static [Entry] {
    REGISTRY
}

/// The entry registered under `name` or one of its aliases (exact, lower-case match).
pub fn find(name: &str) -> Option<&'static Entry> {
    REGISTRY
        .iter()
        .find(|e| e.name == name || e.aliases.contains(&name))
}

/// Every registered name, then every alias, in table order.
pub fn names() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = REGISTRY.iter().map(|e| e.name).collect();
    out.extend(REGISTRY.iter().flat_map(|e| e.aliases.iter().copied()));
    out
}

/// The family an activation belongs to, for `--help` listings and the comparison example.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// Bounded on both sides (or flat on one side at a finite level): σ, tanh, hardtanh, …
    /// Gradients vanish where it saturates.
    Saturating,
    /// Unbounded above, with a constant or growing slope for large inputs: ReLU and kin.
    NonSaturating,
    /// Smooth, `x` gated by a function of itself: GELU, Swish/SiLU, Mish, Hardswish.
    SelfGated,
    /// The shape itself has learned parameters by default: PReLU, Snake.
    Learnable,
    /// Random in training mode: RReLU.
    Randomized,
    /// Splits its input in two halves along an axis, one gating the other: GLU, SwiGLU, GeGLU.
    Gated,
    /// Normalises along an axis: softmax, log-softmax, softmin.
    Normalizing,
    /// A formula given by the user (`x * tanh(softplus(x))`); no registered activation is.
    Custom,
}

impl Category {
    /// Every category, in display order.
    pub const ALL: [Category; 8] = [
        Category::Saturating,
        Category::NonSaturating,
        Category::SelfGated,
        Category::Learnable,
        Category::Randomized,
        Category::Gated,
        Category::Normalizing,
        Category::Custom,
    ];

    /// The short label: `"saturating"`, `"non-saturating"`, `"self-gated/smooth"`, `"learnable"`,
    /// `"randomized"`, `"gated"`, `"normalizing"`, `"custom"`.
    pub fn label(self) -> &'static str {
        match self {
            Category::Saturating => "saturating",
            Category::NonSaturating => "non-saturating",
            Category::SelfGated => "self-gated/smooth",
            Category::Learnable => "learnable",
            Category::Randomized => "randomized",
            Category::Gated => "gated",
            Category::Normalizing => "normalizing",
            Category::Custom => "custom",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What values an [`Arg`] accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ArgKind {
    /// A real scalar that is a parameter of the formula: fixed, or learnable with the
    /// `learnable` switch. `learnable` is the default state.
    Param {
        /// Whether it learns unless told `fixed`.
        learnable: bool,
    },
    /// A real number that is never learned (a threshold whose gradient is 0 almost everywhere).
    Number,
    /// An integer (`dim`, `num_parameters`, `seed`).
    Int,
    /// `true` or `false`.
    Bool,
    /// One of a fixed list of words (`approximate`: `none` or `tanh`).
    Choice(&'static [&'static str]),
}

/// One argument of an activation: its name (PyTorch's), its default, what it accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arg {
    /// The name, as in PyTorch's constructor (`negative_slope`, `alpha`, `lambd`).
    pub name: &'static str,
    /// The default value as written in a spec; for a required argument, an example value
    /// (used by the registry-wide tests and `--help`).
    pub default: &'static str,
    /// Whether a spec must give it (PyTorch's `Threshold(threshold, value)`).
    pub required: bool,
    /// What it accepts.
    pub kind: ArgKind,
}

impl Arg {
    /// A parameter of the formula, fixed unless switched to `learnable`.
    pub const fn param(name: &'static str, default: &'static str) -> Arg {
        Arg {
            name,
            default,
            required: false,
            kind: ArgKind::Param { learnable: false },
        }
    }

    /// A parameter of the formula that learns unless switched to `fixed` (Snake's `alpha`).
    pub const fn learnable(name: &'static str, default: &'static str) -> Arg {
        Arg {
            name,
            default,
            required: false,
            kind: ArgKind::Param { learnable: true },
        }
    }

    /// A real number that is never learned.
    pub const fn number(name: &'static str, default: &'static str) -> Arg {
        Arg {
            name,
            default,
            required: false,
            kind: ArgKind::Number,
        }
    }

    /// An integer.
    pub const fn int(name: &'static str, default: &'static str) -> Arg {
        Arg {
            name,
            default,
            required: false,
            kind: ArgKind::Int,
        }
    }

    /// `true` or `false`.
    pub const fn flag(name: &'static str, default: &'static str) -> Arg {
        Arg {
            name,
            default,
            required: false,
            kind: ArgKind::Bool,
        }
    }

    /// One of `options`; the default is the first.
    pub const fn choice(name: &'static str, options: &'static [&'static str]) -> Arg {
        Arg {
            name,
            default: options[0],
            required: false,
            kind: ArgKind::Choice(options),
        }
    }

    /// The same argument, but a spec must give it; `default` becomes an example value.
    pub const fn required(self) -> Arg {
        Arg {
            required: true,
            ..self
        }
    }

    /// Whether the `learnable` switch applies to it.
    pub fn can_learn(&self) -> bool {
        matches!(self.kind, ArgKind::Param { .. })
    }

    /// `negative_slope=0.01`, `threshold` (required), `alpha=1|learnable`, `approximate=none|tanh`.
    pub fn usage(&self) -> String {
        match (self.required, self.kind) {
            (true, _) => self.name.to_string(),
            (false, ArgKind::Param { learnable: false }) => {
                format!("{}={}|learnable", self.name, self.default)
            }
            (false, ArgKind::Param { learnable: true }) => {
                format!("{}={}|fixed", self.name, self.default)
            }
            (false, ArgKind::Choice(options)) => format!("{}={}", self.name, options.join("|")),
            (false, _) => format!("{}={}", self.name, self.default),
        }
    }
}

/// The signature of an entry's constructor.
pub type BuildFn = fn(&Args) -> Result<Box<dyn Module>, ParseError>;

/// One registered activation: how to build it from a spec, and the data that documents it
/// (`--help`, `--describe`, the comparison example). Made with the `const fn` builders:
///
/// ```
/// use nn::activation::prelude::*;
/// use nn::activation::{Args, Mish};
///
/// const MY_MISH: Entry = Entry::new("my_mish", Category::SelfGated, |_| Ok(Box::new(Mish)))
///     .about("x·tanh(softplus(x)): smooth, non-monotonic, self-regularising")
///     .formula("x·tanh(softplus(x))", "tanh(sp) + x·σ(x)·(1 − tanh²(sp)),  sp = softplus(x)")
///     .range("[≈ −0.3088, ∞)")
///     .pytorch("torch.nn.Mish()");
///
/// let layer = (MY_MISH.build)(&Args::defaults(&MY_MISH)).unwrap();
/// assert_eq!(layer.describe(), "Mish()");
/// assert_eq!(MY_MISH.usage(), "my_mish");
/// ```
#[derive(Clone, Copy)]
pub struct Entry {
    /// The registry name, PyTorch's functional name in snake_case (`leaky_relu`).
    pub name: &'static str,
    /// Other names for the same entry (`silu` for `swish`).
    pub aliases: &'static [&'static str],
    /// The arguments, in PyTorch's positional order.
    pub args: &'static [Arg],
    /// Points where `f` is not differentiable, at the default arguments (ReLU: `0`).
    pub kinks: &'static [f32],
    /// The family.
    pub category: Category,
    /// One line saying what it is and why one would use it.
    pub about: &'static str,
    /// `f(x)` in Unicode.
    pub formula: &'static str,
    /// `f′(x)` in Unicode, with the convention at kinks.
    pub derivative: &'static str,
    /// The set of output values, e.g. `(0, 1)`.
    pub range: &'static str,
    /// The PyTorch equivalent (`torch.nn.Mish()`), or what to write in PyTorch if none.
    pub pytorch: &'static str,
    /// Builds a fresh layer from parsed arguments.
    pub build: BuildFn,
}

impl Entry {
    /// An entry named `name` in `category`, built by `build`; fill the rest with the builders.
    pub const fn new(name: &'static str, category: Category, build: BuildFn) -> Entry {
        Entry {
            name,
            aliases: &[],
            args: &[],
            kinks: &[],
            category,
            about: "",
            formula: "",
            derivative: "",
            range: "",
            pytorch: "",
            build,
        }
    }

    /// Other names.
    pub const fn aliases(self, aliases: &'static [&'static str]) -> Entry {
        Entry { aliases, ..self }
    }

    /// The arguments, in positional order.
    pub const fn args(self, args: &'static [Arg]) -> Entry {
        Entry { args, ..self }
    }

    /// The non-differentiable points at the default arguments.
    pub const fn kinks(self, kinks: &'static [f32]) -> Entry {
        Entry { kinks, ..self }
    }

    /// The one-line description.
    pub const fn about(self, about: &'static str) -> Entry {
        Entry { about, ..self }
    }

    /// `f(x)` and `f′(x)`.
    pub const fn formula(self, formula: &'static str, derivative: &'static str) -> Entry {
        Entry {
            formula,
            derivative,
            ..self
        }
    }

    /// The range of `f`.
    pub const fn range(self, range: &'static str) -> Entry {
        Entry { range, ..self }
    }

    /// The PyTorch equivalent.
    pub const fn pytorch(self, pytorch: &'static str) -> Entry {
        Entry { pytorch, ..self }
    }

    /// How to write a spec for it: `leaky_relu[:negative_slope=0.01|learnable]`,
    /// `threshold:threshold,value`.
    pub fn usage(&self) -> String {
        if self.args.is_empty() {
            return self.name.to_string();
        }
        let args: Vec<String> = self.args.iter().map(Arg::usage).collect();
        if self.args.iter().any(|a| a.required) {
            format!("{}:{}", self.name, args.join(","))
        } else {
            format!("{}[:{}]", self.name, args.join(","))
        }
    }

    /// A spec that builds it: its name, plus the example values of required arguments
    /// (`threshold:0.1,20`). The registry-wide tests build every entry this way.
    pub fn example(&self) -> String {
        let required: Vec<&str> = self
            .args
            .iter()
            .filter(|a| a.required)
            .map(|a| a.default)
            .collect();
        if required.is_empty() {
            self.name.to_string()
        } else {
            format!("{}:{}", self.name, required.join(","))
        }
    }

    /// The arguments that the `learnable` switch applies to.
    pub fn learnable_args(&self) -> impl Iterator<Item = &'static Arg> {
        self.args.iter().filter(|a| a.can_learn())
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("aliases", &self.aliases)
            .field("args", &self.args)
            .field("category", &self.category)
            .finish_non_exhaustive()
    }
}

/// A parsed argument value.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Number(f32),
    Int(i64),
    Bool(bool),
    Choice(&'static str),
}

/// The argument values of one spec, every argument present (defaults filled in), checked
/// against the [`Entry`]'s [`Arg`] kinds. An entry's `build` reads them by name.
#[derive(Clone, Debug)]
pub struct Args {
    entry: &'static Entry,
    values: Vec<Value>,
    learnable: Vec<bool>,
    instance: u64,
    formula: Option<Arc<Formula>>,
}

impl Args {
    /// The defaults of `entry` (required arguments get their example values).
    pub fn defaults(entry: &'static Entry) -> Args {
        let spec = entry.example();
        let rest = spec.split_once(':').map(|(_, r)| r);
        Args::parse(entry, rest).expect("an entry's example spec parses")
    }

    /// Parses the part after the colon of a spec (`None`: no colon).
    fn parse(entry: &'static Entry, rest: Option<&str>) -> Result<Args, ParseError> {
        let n = entry.args.len();
        let mut given: Vec<Option<String>> = vec![None; n];
        let mut learn: Vec<Option<bool>> = vec![None; n];
        let mut switch_all: Option<bool> = None;
        let mut positional = 0;
        let tokens = rest
            .into_iter()
            .flat_map(|r| r.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        for token in tokens {
            if let Some(on) = learn_switch(token) {
                if entry.learnable_args().next().is_none() {
                    return Err(ParseError::NotLearnable {
                        activation: entry.name,
                        argument: None,
                        learnable: Vec::new(),
                    });
                }
                switch_all = Some(on);
                continue;
            }
            let (index, value) = match token.split_once('=') {
                Some((key, value)) => {
                    let key = normalize(key);
                    let Some(i) = entry.args.iter().position(|a| a.name == key) else {
                        return Err(ParseError::UnknownArgument {
                            activation: entry.name,
                            argument: key.clone(),
                            suggestion: closest(&key, entry.args.iter().map(|a| a.name)),
                            usage: entry.usage(),
                        });
                    };
                    (i, value.trim())
                }
                None => {
                    positional += 1;
                    if positional > n {
                        return Err(ParseError::TooManyArguments {
                            activation: entry.name,
                            given: positional,
                            max: n,
                            usage: entry.usage(),
                        });
                    }
                    (positional - 1, token)
                }
            };
            let arg = &entry.args[index];
            if let Some(on) = learn_switch(value) {
                if !arg.can_learn() {
                    return Err(ParseError::NotLearnable {
                        activation: entry.name,
                        argument: Some(arg.name),
                        learnable: entry.learnable_args().map(|a| a.name).collect(),
                    });
                }
                learn[index] = Some(on);
            } else if given[index].replace(value.to_string()).is_some() {
                return Err(ParseError::DuplicateArgument {
                    activation: entry.name,
                    argument: arg.name,
                });
            }
        }
        let mut values = Vec::with_capacity(n);
        let mut learnable = Vec::with_capacity(n);
        for (i, arg) in entry.args.iter().enumerate() {
            let raw = match &given[i] {
                Some(v) => v.as_str(),
                None if arg.required => {
                    return Err(ParseError::MissingArgument {
                        activation: entry.name,
                        argument: arg.name,
                        usage: entry.usage(),
                    })
                }
                None => arg.default,
            };
            values.push(parse_value(entry, arg, raw)?);
            learnable.push(match arg.kind {
                ArgKind::Param { learnable } => learn[i].or(switch_all).unwrap_or(learnable),
                _ => false,
            });
        }
        Ok(Args {
            entry,
            values,
            learnable,
            instance: 0,
            formula: None,
        })
    }

    fn index(&self, name: &str) -> usize {
        self.entry
            .args
            .iter()
            .position(|a| a.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "{}: the entry has no argument named {name:?} (its arguments: {})",
                    self.entry.name,
                    self.entry.usage()
                )
            })
    }

    fn value(&self, name: &str) -> &Value {
        &self.values[self.index(name)]
    }

    /// The entry these arguments are for.
    pub fn entry(&self) -> &'static Entry {
        self.entry
    }

    /// A formula parameter: its value and whether it learns.
    ///
    /// # Panics
    /// If the entry has no argument `name` of kind `Param` (a bug in the entry, caught by the
    /// registry-wide tests).
    pub fn param(&self, name: &str) -> Param {
        let i = self.index(name);
        match self.values[i] {
            Value::Number(value) if self.entry.args[i].can_learn() => Param {
                value,
                learnable: self.learnable[i],
            },
            _ => panic!("{}: argument {name:?} is not a Param", self.entry.name),
        }
    }

    /// A real number (of kind `Number` or `Param`; for a `Param`, its value only).
    ///
    /// # Panics
    /// If the entry has no real-valued argument `name`.
    pub fn number(&self, name: &str) -> f32 {
        match *self.value(name) {
            Value::Number(v) => v,
            _ => panic!("{}: argument {name:?} is not a number", self.entry.name),
        }
    }

    /// An integer argument.
    ///
    /// # Panics
    /// If the entry has no integer argument `name`.
    pub fn int(&self, name: &str) -> i64 {
        match *self.value(name) {
            Value::Int(v) => v,
            _ => panic!("{}: argument {name:?} is not an integer", self.entry.name),
        }
    }

    /// A `true`/`false` argument.
    ///
    /// # Panics
    /// If the entry has no flag argument `name`.
    pub fn flag(&self, name: &str) -> bool {
        match *self.value(name) {
            Value::Bool(v) => v,
            _ => panic!("{}: argument {name:?} is not a flag", self.entry.name),
        }
    }

    /// A choice argument: one of its option words.
    ///
    /// # Panics
    /// If the entry has no choice argument `name`.
    pub fn choice(&self, name: &str) -> &'static str {
        match *self.value(name) {
            Value::Choice(v) => v,
            _ => panic!("{}: argument {name:?} is not a choice", self.entry.name),
        }
    }

    /// How many layers the same [`ActivationSpec`] built before this one (0 for the first). A
    /// randomized activation adds it to its seed, so that the layers of one model built from
    /// one spec draw different (but reproducible) random numbers.
    pub fn instance(&self) -> u64 {
        self.instance
    }

    /// The parsed formula, for the formula entry ([`formula::ENTRY`]); `None` for every
    /// registered activation.
    pub fn formula(&self) -> Option<&Formula> {
        self.formula.as_deref()
    }

    /// The same arguments as the `instance`-th build (see [`Args::instance`]).
    pub(crate) fn with_instance(&self, instance: u64) -> Args {
        Args {
            instance,
            ..self.clone()
        }
    }

    /// An error for a value that has the right type but is out of range, for an entry's
    /// `build` to return: `celu: alpha: expected a non-zero number, got "0"`.
    pub fn invalid(&self, name: &str, expected: &str) -> ParseError {
        let i = self.index(name);
        ParseError::InvalidValue {
            activation: self.entry.name,
            argument: self.entry.args[i].name,
            value: self.format_value(i),
            expected: expected.to_string(),
        }
    }

    fn format_value(&self, i: usize) -> String {
        match &self.values[i] {
            Value::Number(v) => format!("{v}"),
            Value::Int(v) => format!("{v}"),
            Value::Bool(v) => format!("{v}"),
            Value::Choice(v) => (*v).to_string(),
        }
    }

    /// The canonical spec: `leaky_relu:negative_slope=0.1`, `elu:alpha=1,alpha=learnable`,
    /// `relu`. Every argument is written, by name; it parses back to equal `Args`. A formula
    /// is its text.
    pub fn spec(&self) -> String {
        if let Some(f) = &self.formula {
            return f.text().to_string();
        }
        let mut parts = Vec::new();
        for (i, arg) in self.entry.args.iter().enumerate() {
            parts.push(format!("{}={}", arg.name, self.format_value(i)));
            if let ArgKind::Param { learnable } = arg.kind {
                if self.learnable[i] != learnable {
                    let switch = if self.learnable[i] {
                        "learnable"
                    } else {
                        "fixed"
                    };
                    parts.push(format!("{}={switch}", arg.name));
                }
            }
        }
        if parts.is_empty() {
            self.entry.name.to_string()
        } else {
            format!("{}:{}", self.entry.name, parts.join(","))
        }
    }
}

impl PartialEq for Args {
    /// Same entry (by name), same values, same learnable switches (same text for formulas).
    fn eq(&self, other: &Args) -> bool {
        self.entry.name == other.entry.name
            && self.values == other.values
            && self.learnable == other.learnable
            && self.formula.as_ref().map(|f| f.text()) == other.formula.as_ref().map(|f| f.text())
    }
}

/// `Some(true)` for `learnable`, `Some(false)` for `fixed`.
fn learn_switch(token: &str) -> Option<bool> {
    match normalize(token).as_str() {
        "learnable" => Some(true),
        "fixed" => Some(false),
        _ => None,
    }
}

fn normalize(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('-', "_")
}

fn parse_value(entry: &'static Entry, arg: &Arg, raw: &str) -> Result<Value, ParseError> {
    let bad = |expected: &str| ParseError::InvalidValue {
        activation: entry.name,
        argument: arg.name,
        value: raw.to_string(),
        expected: expected.to_string(),
    };
    match arg.kind {
        ArgKind::Param { .. } | ArgKind::Number => match raw.parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(Value::Number(v)),
            _ => Err(bad("a number")),
        },
        ArgKind::Int => raw
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| bad("an integer")),
        ArgKind::Bool => match normalize(raw).as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(bad("true or false")),
        },
        ArgKind::Choice(options) => {
            let word = normalize(raw);
            options
                .iter()
                .find(|&&o| o == word)
                .map(|&o| Value::Choice(o))
                .ok_or_else(|| bad(&format!("one of {}", options.join(", "))))
        }
    }
}

/// A parsed spec that builds fresh layers: `ActivationSpec::parse("leaky_relu:0.1")?.build()`.
///
/// Each [`build`](ActivationSpec::build) makes a new layer with its own parameters, so one spec can
/// be used for every activation layer of a model (`nn::mlp` takes `|| act.build()`).
#[derive(Clone, Debug)]
pub struct ActivationSpec {
    args: Args,
    built: Cell<u64>,
}

impl ActivationSpec {
    /// Parses `spec` (see the [module docs](self) for the syntax) and checks that it builds.
    /// A formula (`x * tanh(softplus(x))`, `formula:x * tanh(softplus(x))`) is accepted too.
    ///
    /// # Errors
    /// A [`ParseError`] for an unknown name (listing every valid name and suggesting the
    /// closest), an unknown argument (suggesting the closest), too many or missing arguments,
    /// a value of the wrong type (`negative_slope: expected a number, got "abc"`) or out of
    /// range, or `learnable` on an argument that cannot learn; [`ParseError::Formula`] for a
    /// formula that does not parse (pointing at the column).
    pub fn parse(spec: &str) -> Result<ActivationSpec, ParseError> {
        let trimmed = spec.trim();
        if let Some(text) = strip_formula_prefix(trimmed) {
            return ActivationSpec::formula(text);
        }
        let (name, rest) = match spec.split_once(':') {
            Some((name, rest)) => (name, Some(rest)),
            None => (spec, None),
        };
        let name = normalize(name);
        let Some(entry) = find(&name) else {
            if looks_like_formula(trimmed) {
                return ActivationSpec::formula(trimmed);
            }
            return Err(ParseError::UnknownActivation {
                suggestion: closest(&name, names().into_iter()),
                name: name.clone(),
            });
        };
        let args = Args::parse(entry, rest)?;
        // Building checks the values' ranges (lower ≤ upper, alpha ≠ 0, …).
        (entry.build)(&args)?;
        Ok(ActivationSpec {
            args,
            built: Cell::new(0),
        })
    }

    /// The activation of a formula in `x` (see [`formula`]), without the `formula:` prefix.
    /// Its [`name`](ActivationSpec::name) is `"formula"`, its `Display` the formula.
    fn formula(text: &str) -> Result<ActivationSpec, ParseError> {
        let parsed = Formula::parse(text).map_err(ParseError::Formula)?;
        let mut args = Args::defaults(&formula::ENTRY);
        args.formula = Some(Arc::new(parsed));
        Ok(ActivationSpec {
            args,
            built: Cell::new(0),
        })
    }

    /// The activation of `entry` with its default arguments (example values for required ones).
    pub fn with_defaults(entry: &'static Entry) -> ActivationSpec {
        ActivationSpec {
            args: Args::defaults(entry),
            built: Cell::new(0),
        }
    }

    /// A fresh layer (new parameters; randomized layers get the next seed).
    pub fn build(&self) -> Box<dyn Module> {
        let mut args = self.args.clone();
        args.instance = self.built.get();
        self.built.set(args.instance + 1);
        (args.entry.build)(&args).expect("the arguments were checked by parse")
    }

    /// The registry entry.
    pub fn entry(&self) -> &'static Entry {
        self.args.entry
    }

    /// The parsed arguments.
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// The registry name (`"swish"` also for a spec that said `"silu"`; `"formula"` for a
    /// formula).
    pub fn name(&self) -> &'static str {
        self.args.entry.name
    }
}

impl fmt::Display for ActivationSpec {
    /// The canonical spec (see [`Args::spec`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.args.spec())
    }
}

impl std::str::FromStr for ActivationSpec {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<ActivationSpec, ParseError> {
        ActivationSpec::parse(s)
    }
}

/// Why a spec could not be parsed or built. Each message names the activation, the argument
/// and the value, and says what is accepted.
#[derive(Clone, Debug, PartialEq)]
pub enum ParseError {
    /// No entry has this name or alias.
    UnknownActivation {
        /// The name given (lower-cased).
        name: String,
        /// The closest valid name, if one is close.
        suggestion: Option<&'static str>,
    },
    /// The entry has no argument of this name.
    UnknownArgument {
        /// The entry.
        activation: &'static str,
        /// The name given.
        argument: String,
        /// The closest argument name, if one is close.
        suggestion: Option<&'static str>,
        /// [`Entry::usage`].
        usage: String,
    },
    /// More positional values than the entry has arguments.
    TooManyArguments {
        /// The entry.
        activation: &'static str,
        /// How many positional values were given.
        given: usize,
        /// How many arguments the entry has.
        max: usize,
        /// [`Entry::usage`].
        usage: String,
    },
    /// A required argument was not given.
    MissingArgument {
        /// The entry.
        activation: &'static str,
        /// The argument.
        argument: &'static str,
        /// [`Entry::usage`].
        usage: String,
    },
    /// The same argument given twice.
    DuplicateArgument {
        /// The entry.
        activation: &'static str,
        /// The argument.
        argument: &'static str,
    },
    /// A value of the wrong type or out of range.
    InvalidValue {
        /// The entry.
        activation: &'static str,
        /// The argument.
        argument: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// `learnable` on an argument that cannot learn, or on an entry with no such argument.
    NotLearnable {
        /// The entry.
        activation: &'static str,
        /// The argument, when one was named.
        argument: Option<&'static str>,
        /// The arguments that can learn.
        learnable: Vec<&'static str>,
    },
    /// A formula that does not parse; the error shows the column.
    Formula(FormulaError),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::UnknownActivation { name, suggestion } => {
                write!(f, "unknown activation {name:?}")?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean {s:?}?)")?;
                }
                write!(
                    f,
                    "; valid names: {}; or a formula in x such as \"x * tanh(softplus(x))\"",
                    names().join(", ")
                )
            }
            ParseError::UnknownArgument {
                activation,
                argument,
                suggestion,
                usage,
            } => {
                write!(f, "{activation}: unknown argument {argument:?}")?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean {s:?}?)")?;
                }
                write!(f, "; usage: {usage}")
            }
            ParseError::TooManyArguments {
                activation,
                given,
                max: 0,
                ..
            } => write!(f, "{activation}: takes no arguments, got {given}"),
            ParseError::TooManyArguments {
                activation,
                given,
                max,
                usage,
            } => write!(
                f,
                "{activation}: takes at most {max} argument{}, got {given}; usage: {usage}",
                if *max == 1 { "" } else { "s" }
            ),
            ParseError::MissingArgument {
                activation,
                argument,
                usage,
            } => write!(
                f,
                "{activation}: missing required argument {argument:?}; usage: {usage}"
            ),
            ParseError::DuplicateArgument {
                activation,
                argument,
            } => write!(f, "{activation}: argument {argument:?} given twice"),
            ParseError::InvalidValue {
                activation,
                argument,
                value,
                expected,
            } => write!(
                f,
                "{activation}: {argument}: expected {expected}, got {value:?}"
            ),
            ParseError::NotLearnable {
                activation,
                argument: None,
                ..
            } => write!(f, "{activation}: has no parameter that can be learnable"),
            ParseError::NotLearnable {
                activation,
                argument: Some(argument),
                learnable,
            } => {
                write!(f, "{activation}: {argument} cannot be learnable")?;
                if learnable.is_empty() {
                    write!(f, " (no argument of {activation} can)")
                } else {
                    write!(f, " (these can: {})", learnable.join(", "))
                }
            }
            ParseError::Formula(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ParseError {}

/// The formula after a `formula:` prefix (any case), if there is one.
fn strip_formula_prefix(spec: &str) -> Option<&str> {
    let (head, rest) = spec.split_once(':')?;
    head.trim().eq_ignore_ascii_case("formula").then_some(rest)
}

/// Whether a spec that names no registered activation is meant as a formula: it has a
/// parenthesis, or the name `x` stands in it on its own (`x^2`, `2*x`, `x`).
fn looks_like_formula(spec: &str) -> bool {
    if spec.contains('(') {
        return true;
    }
    spec.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| word == "x" || word == "X")
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo
/// (distance ≤ 1 + len/3), or if `word` is a prefix of exactly one candidate.
pub(crate) fn closest(
    word: &str,
    candidates: impl Iterator<Item = &'static str>,
) -> Option<&'static str> {
    let candidates: Vec<&'static str> = candidates.collect();
    let best = candidates
        .iter()
        .map(|&c| (edit_distance(word, c), c))
        .min_by_key(|&(d, _)| d);
    if let Some((d, c)) = best {
        if d <= 1 + word.chars().count() / 3 {
            return Some(c);
        }
    }
    let prefixed: Vec<&&str> = candidates.iter().filter(|c| c.starts_with(word)).collect();
    match (word.is_empty(), prefixed.as_slice()) {
        (false, [only]) => Some(only),
        _ => None,
    }
}

/// Levenshtein distance (insertions, deletions, substitutions), one row at a time.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> Result<ActivationSpec, ParseError> {
        ActivationSpec::parse(spec)
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("mish", "mish"), 0);
        assert_eq!(edit_distance("mihs", "mish"), 2);
        assert_eq!(edit_distance("relu", "relu6"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn parses_positional_keyword_and_switches() {
        let a = parse("leaky_relu:0.1").unwrap();
        assert_eq!(a.args().param("negative_slope"), Param::fixed(0.1));
        let a = parse("elu:alpha=0.5").unwrap();
        assert_eq!(a.args().param("alpha"), Param::fixed(0.5));
        let a = parse("swish:learnable").unwrap();
        assert_eq!(a.args().param("beta"), Param::learnable(1.0));
        let a = parse("elu:alpha=learnable").unwrap();
        assert_eq!(a.args().param("alpha"), Param::learnable(1.0));
        let a = parse("elu:alpha=0.5, learnable").unwrap();
        assert_eq!(a.args().param("alpha"), Param::learnable(0.5));
        let a = parse("gelu:tanh").unwrap();
        assert_eq!(a.args().choice("approximate"), "tanh");
        let a = parse("rrelu:0.125,0.333").unwrap();
        assert_eq!(a.args().number("lower"), 0.125);
        assert_eq!(a.args().number("upper"), 0.333);
        let a = parse("snake:fixed").unwrap();
        assert_eq!(a.args().param("alpha"), Param::fixed(1.0));
    }

    #[test]
    fn names_are_case_insensitive_and_aliases_resolve() {
        assert_eq!(parse("Leaky-ReLU:0.1").unwrap().name(), "leaky_relu");
        assert_eq!(parse("silu").unwrap().name(), "swish");
        assert_eq!(
            parse("GELU:Tanh").unwrap().args().choice("approximate"),
            "tanh"
        );
    }

    #[test]
    fn canonical_spec_round_trips() {
        for spec in [
            "relu",
            "leaky_relu:0.1",
            "elu:alpha=0.5,learnable",
            "gelu:tanh",
            "snake:fixed",
            "threshold:0.1,20",
            "rrelu:0.1,0.3,per_tensor=true,seed=7",
        ] {
            let a = parse(spec).unwrap();
            let again = parse(&a.to_string()).unwrap();
            assert_eq!(a.args(), again.args(), "{spec} -> {a}");
        }
        assert_eq!(
            parse("leaky_relu:0.1").unwrap().to_string(),
            "leaky_relu:negative_slope=0.1"
        );
        assert_eq!(parse("relu").unwrap().to_string(), "relu");
        assert_eq!(
            parse("elu:learnable").unwrap().to_string(),
            "elu:alpha=1,alpha=learnable"
        );
    }

    #[test]
    fn unknown_name_lists_valid_names_and_suggests() {
        let e = parse("mihs").unwrap_err();
        assert!(matches!(
            e,
            ParseError::UnknownActivation {
                suggestion: Some("mish"),
                ..
            }
        ));
        let msg = e.to_string();
        assert!(msg.starts_with(
            "unknown activation \"mihs\" (did you mean \"mish\"?); valid names: relu, "
        ));
        for entry in all() {
            assert!(msg.contains(entry.name), "{msg} lacks {}", entry.name);
        }
        assert!(msg.contains("silu"));
        let e = parse("leaky").unwrap_err();
        assert!(
            e.to_string().contains("did you mean \"leaky_relu\"?"),
            "{e}"
        );
        let e = parse("zzzzzzzz").unwrap_err();
        assert!(!e.to_string().contains("did you mean"), "{e}");
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        let msg = |s: &str| parse(s).unwrap_err().to_string();
        assert_eq!(
            msg("leaky_relu:abc"),
            "leaky_relu: negative_slope: expected a number, got \"abc\""
        );
        assert_eq!(
            msg("leaky_relu:slope=0.1"),
            "leaky_relu: unknown argument \"slope\"; usage: leaky_relu[:negative_slope=0.01|learnable]"
        );
        assert_eq!(
            msg("elu:alpah=2"),
            "elu: unknown argument \"alpah\" (did you mean \"alpha\"?); usage: elu[:alpha=1.0|learnable]"
        );
        assert_eq!(msg("relu:0.1"), "relu: takes no arguments, got 1");
        assert_eq!(
            msg("leaky_relu:0.1,0.2"),
            "leaky_relu: takes at most 1 argument, got 2; usage: leaky_relu[:negative_slope=0.01|learnable]"
        );
        assert_eq!(
            msg("threshold:0.5"),
            "threshold: missing required argument \"value\"; usage: threshold:threshold,value"
        );
        assert_eq!(
            msg("elu:0.5,alpha=0.7"),
            "elu: argument \"alpha\" given twice"
        );
        assert_eq!(
            msg("gelu:fast"),
            "gelu: approximate: expected one of none, tanh, got \"fast\""
        );
        assert_eq!(
            msg("relu:learnable"),
            "relu: has no parameter that can be learnable"
        );
        assert_eq!(
            msg("softplus:threshold=learnable"),
            "softplus: threshold cannot be learnable (these can: beta)"
        );
        assert_eq!(
            msg("rrelu:0.5,0.1"),
            "rrelu: lower: expected a number ≤ upper (0.1), got \"0.5\""
        );
        assert_eq!(msg("elu:inf"), "elu: alpha: expected a number, got \"inf\"");
    }

    #[test]
    fn build_makes_fresh_layers() {
        let act = parse("prelu").unwrap();
        let (a, b) = (act.build(), act.build());
        assert!(!a.parameters()[0].ptr_eq(&b.parameters()[0]));
        assert_eq!(a.describe(), "PReLU(num_parameters=1)");
    }

    #[test]
    fn every_entry_is_documented_and_its_example_builds() {
        let mut seen = std::collections::HashSet::new();
        for e in all() {
            assert!(seen.insert(e.name), "{} registered twice", e.name);
            for alias in e.aliases {
                assert!(seen.insert(alias), "{alias} registered twice");
            }
            for (what, text) in [
                ("about", e.about),
                ("formula", e.formula),
                ("derivative", e.derivative),
                ("range", e.range),
                ("pytorch", e.pytorch),
            ] {
                assert!(!text.is_empty(), "{}: {what} is empty", e.name);
            }
            parse(&e.example()).unwrap_or_else(|err| panic!("{}: {err}", e.example()));
            let defaults = Args::defaults(e);
            assert_eq!(&parse(&defaults.spec()).unwrap().args, &defaults);
        }
    }
}
