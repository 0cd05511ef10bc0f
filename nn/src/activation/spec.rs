//! [`ActivationSpec`]: a parsed spec such as `"leaky_relu:0.1"` or a formula in `x`, which
//! builds fresh layers. [`ActivationSpec::parse`] is the one way in from text; the type's
//! docs give the syntax.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use crate::Module;

use super::entry::{normalize, Args, Entry};
use super::error::ParseError;
use super::formula::{self, Formula};
use super::registry::{find, names};
use super::suggest::closest;

/// A parsed spec that builds fresh layers: `ActivationSpec::parse("leaky_relu:0.1")?.build()`.
///
/// Each [`build`](ActivationSpec::build) makes a new layer with its own parameters, so one spec can
/// be used for every activation layer of a model (`nn::mlp` takes `|| act.build()`).
///
/// # Spec syntax
/// `name[:arg,arg,…]`, each `arg` either a value (positional, in PyTorch's order) or
/// `key=value`:
///
/// | spec | meaning |
/// | --- | --- |
/// | `relu` | defaults |
/// | `leaky_relu:0.1` | `negative_slope = 0.1` |
/// | `elu:alpha=0.5` | by name |
/// | `gelu:tanh` | a choice |
/// | `rrelu:0.125,0.333` | two positional values |
/// | `swish:learnable` | every learnable-capable parameter learns (initialised at its value) |
/// | `elu:alpha=learnable` | this parameter learns |
/// | `elu:alpha=0.5,learnable` | initialised at 0.5, learns |
/// | `snake:fixed` | the opposite switch (Snake's `alpha` learns by default) |
///
/// Names are case-insensitive and `-` may stand for `_` (`Leaky-ReLU:0.1`).
///
/// # Formulas
/// A spec may also be a formula in `x` ([`formula`](super::formula)):
/// `x * tanh(softplus(x))`, or with the explicit prefix `formula:x * tanh(softplus(x))`.
/// Without the prefix, a spec whose name is not registered is read as a formula when it
/// contains `(` or uses `x` (`x * sigmoid(1.702 * x)`, `x^2`); a mistake in it is reported
/// at its column.
///
#[derive(Clone, Debug)]
pub struct ActivationSpec {
    args: Args,
    /// The parsed formula, for a spec that is one (then `args` are the formula entry's).
    formula: Option<Arc<Formula>>,
    built: Cell<u64>,
}

impl ActivationSpec {
    /// Parses `spec` (see [the syntax](ActivationSpec#spec-syntax)) and checks that it builds.
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
            return ActivationSpec::from_formula(text);
        }
        let (name, rest) = match spec.split_once(':') {
            Some((name, rest)) => (name, Some(rest)),
            None => (spec, None),
        };
        let name = normalize(name);
        let Some(entry) = find(&name) else {
            if looks_like_formula(trimmed) {
                return ActivationSpec::from_formula(trimmed);
            }
            return Err(ParseError::UnknownActivation {
                suggestion: closest(&name, names().into_iter()),
                name: name.clone(),
                names: names(),
            });
        };
        Ok(ActivationSpec {
            args: Args::parse_checked(entry, rest)?,
            formula: None,
            built: Cell::new(0),
        })
    }

    /// The activation of a formula in `x` (see [`formula`]), without the `formula:` prefix.
    /// Its [`name`](ActivationSpec::name) is `"formula"`, its `Display` the formula.
    fn from_formula(text: &str) -> Result<ActivationSpec, ParseError> {
        let parsed = Formula::parse(text).map_err(ParseError::Formula)?;
        Ok(ActivationSpec {
            args: Args::defaults(&formula::ENTRY),
            formula: Some(Arc::new(parsed)),
            built: Cell::new(0),
        })
    }

    /// The activation of `entry` with its default arguments (example values for required ones).
    pub fn with_defaults(entry: &'static Entry) -> ActivationSpec {
        ActivationSpec {
            args: Args::defaults(entry),
            formula: None,
            built: Cell::new(0),
        }
    }

    /// A fresh layer (new parameters; randomized layers get the next seed).
    pub fn build(&self) -> Box<dyn Module> {
        let instance = self.built.get();
        self.built.set(instance + 1);
        if let Some(f) = &self.formula {
            return Box::new(f.build_instance(instance));
        }
        let args = self.args.with_instance(instance);
        (args.entry().build)(&args).expect("the arguments were checked by parse")
    }

    /// The registry entry ([`formula::ENTRY`] for a formula).
    pub fn entry(&self) -> &'static Entry {
        self.args.entry()
    }

    /// The parsed arguments (the formula entry's, which has none, for a formula).
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// The parsed formula, for a spec that is one; `None` for every registered activation.
    pub fn formula(&self) -> Option<&Formula> {
        self.formula.as_deref()
    }

    /// The registry name (`"swish"` also for a spec that said `"silu"`; `"formula"` for a
    /// formula).
    pub fn name(&self) -> &'static str {
        self.args.entry().name
    }
}

impl fmt::Display for ActivationSpec {
    /// The canonical spec (see [`Args::spec`]); a formula's text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.formula {
            Some(formula) => f.write_str(formula.text()),
            None => f.write_str(&self.args.spec()),
        }
    }
}

impl std::str::FromStr for ActivationSpec {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<ActivationSpec, ParseError> {
        ActivationSpec::parse(s)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{all, Category, Param};
    use autograd::Var;
    use tensor::Tensor;

    fn parse(spec: &str) -> Result<ActivationSpec, ParseError> {
        ActivationSpec::parse(spec)
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
            assert_eq!(parse(&defaults.spec()).unwrap().args(), &defaults);
        }
    }

    // Formulas wherever a name goes (the formula's own tests are in formula/tests.rs).

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
            assert_eq!(act.entry().category, Category::Custom);
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
            "asinh(",
            "atan(",
            "max(",
            "min(",
            ", ",
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
            match rng.next() % 5 {
                0 => format!("{}{}", rng.pick(&["-", "+"]), gen(rng, depth - 1)),
                1 => {
                    let f = rng.pick(&[
                        "exp",
                        "sin",
                        "cos",
                        "erf",
                        "asinh",
                        "atan",
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
                3 => {
                    let f = rng.pick(&["max", "min"]);
                    format!("{f}({}, {})", gen(rng, depth - 1), gen(rng, depth - 1))
                }
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
