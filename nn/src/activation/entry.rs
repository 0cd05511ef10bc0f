//! One registered activation, [`Entry`] (its name, arguments, constructor and the data that
//! documents it), with its [`Category`], and the parsed argument values its constructor reads,
//! [`Args`]. The table of entries is [`REGISTRY`](super::REGISTRY); parsing a whole spec is
//! [`ActivationSpec::parse`](super::ActivationSpec::parse).

use std::fmt;

use crate::Module;

use super::arg::{Arg, ArgKind};
use super::error::ParseError;
use super::layer::Param;
use super::suggest::closest;

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
    /// Whether PyTorch computes it, so that `nn/tests/fixtures/activations.txt` must hold a
    /// case for it (made by `make_activation_fixtures.py`). `false` ([`Entry::no_pytorch`]):
    /// its [`formula`](Entry::formula) is a formula in `x` that the tests evaluate in `f64`
    /// ([`Formula::reference`](super::Formula::reference)) as its reference instead.
    pub pytorch_fixture: bool,
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
            pytorch_fixture: true,
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

    /// No PyTorch counterpart: `instead` says what to write in PyTorch. The entry needs no
    /// PyTorch fixture; its `f(x)` must then be a formula in `x` (see [`super::formula`]), whose
    /// `f64` value is the reference the tests compare it with.
    pub const fn no_pytorch(self, instead: &'static str) -> Entry {
        Entry {
            pytorch: instead,
            pytorch_fixture: false,
            ..self
        }
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
}

impl Args {
    /// The defaults of `entry` (required arguments get their example values).
    pub fn defaults(entry: &'static Entry) -> Args {
        let spec = entry.example();
        let rest = spec.split_once(':').map(|(_, r)| r);
        Args::parse(entry, rest).expect("an entry's example spec parses")
    }

    /// Parses the part after the colon of a spec (`None`: no colon) and checks the values'
    /// ranges (lower ≤ upper, alpha ≠ 0, …) by building once.
    pub(crate) fn parse_checked(
        entry: &'static Entry,
        rest: Option<&str>,
    ) -> Result<Args, ParseError> {
        let args = Args::parse(entry, rest)?;
        (entry.build)(&args)?;
        Ok(args)
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

    /// How many layers the same [`ActivationSpec`](super::ActivationSpec) built before this
    /// one (0 for the first). A randomized activation adds it to its seed, so that the layers
    /// of one model built from one spec draw different (but reproducible) random numbers.
    pub fn instance(&self) -> u64 {
        self.instance
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
    /// `relu`. Every argument is written, by name; it parses back to equal `Args`.
    pub fn spec(&self) -> String {
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
    /// Same entry (by name), same values, same learnable switches.
    fn eq(&self, other: &Args) -> bool {
        self.entry.name == other.entry.name
            && self.values == other.values
            && self.learnable == other.learnable
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

/// A name as the registry holds it: trimmed, lower case, `_` for `-`.
pub(crate) fn normalize(name: &str) -> String {
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
