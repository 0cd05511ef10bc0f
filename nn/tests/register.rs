//! Activations registered at run time (`nn::activation::register`) are found, listed, suggested
//! and built like the built-in ones, and a name is refused when it is invalid or taken.
//!
//! The registry is one per process, and the tests of this file share it (they run on several
//! threads of one process): each test registers names no other test uses.

use autograd::{gradcheck, gradcheck_pointwise, Pointwise, RuleParams, Var};
use nn::activation::prelude::*;
use nn::activation::{all, find, names, register, ActivationSpec, Softsign};
use tensor::Tensor;

/// Scaled softsign `x/(1 + |x|/s)`, `s > 0`: f′(x) = 1/(1 + |x|/s)², ∂f/∂s = x·|x|/(s + |x|)².
#[derive(Clone)]
struct ScaledSoftsign(RuleParams<1>);

impl Pointwise for ScaledSoftsign {
    fn name(&self) -> &'static str {
        "scaled_softsign"
    }
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        x / (1.0 + x.abs() / p[0])
    }
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        (1.0 + x.abs() / p[0]).powi(-2)
    }
    fn dparams(&self, x: f32, p: &[f32], dp: &mut [f32]) {
        dp[0] = x * x.abs() / (p[0] + x.abs()).powi(2);
    }
    fn params(&self) -> &[Var] {
        &self.0
    }
}

impl PointwiseLayer for ScaledSoftsign {
    const LAYER_NAME: &'static str = "ScaledSoftsign";
    const PARAM_NAMES: &'static [&'static str] = &["s"];
}

/// Its argument: learnable unless switched to `fixed`. (In a `const`, as the slice must live
/// as long as the entry.)
const S: &[Arg] = &[Arg::learnable("s", "2.0")];

/// An entry for the scaled softsign under `name`, `s` learnable by default and checked > 0.
fn scaled_softsign(name: &'static str) -> Entry {
    Entry::new(name, Category::Learnable, |a| {
        let s = a.param("s");
        if s.value <= 0.0 {
            return Err(a.invalid("s", "a number > 0"));
        }
        Ok(Box::new(ScaledSoftsign(RuleParams::new([s.var()]))))
    })
    .args(S)
    .about("x/(1 + |x|/s): softsign whose saturation level s is learned")
    .formula("x/(1 + |x|/s)", "1/(1 + |x|/s)²")
    .range("(−s, s)")
}

#[test]
fn a_registered_activation_parses_with_arguments_and_builds() {
    let entry = register(scaled_softsign("reg_softsign")).unwrap();
    assert_eq!(entry.name, "reg_softsign");
    assert!(std::ptr::eq(find("reg_softsign").unwrap(), entry));

    // defaults: s = 2, learnable, reported under its name
    let act = ActivationSpec::parse("reg_softsign").unwrap();
    assert_eq!(act.name(), "reg_softsign");
    assert_eq!(act.args().param("s"), Param::learnable(2.0));
    let layer = act.build();
    let params = layer.named_parameters();
    assert_eq!(params.len(), 1);
    assert_eq!(params[0].0, "s");
    assert_eq!(params[0].1.item(), 2.0);

    // positional, keyword, the switches; case and `-` as for built-in names
    let fixed = ActivationSpec::parse("Reg-Softsign:s=0.5,fixed").unwrap();
    assert_eq!(fixed.args().param("s"), Param::fixed(0.5));
    assert!(fixed.build().named_parameters().is_empty());
    assert_eq!(
        ActivationSpec::parse("reg_softsign:3")
            .unwrap()
            .args()
            .param("s"),
        Param::learnable(3.0)
    );
    // the canonical spec parses back
    assert_eq!(fixed.to_string(), "reg_softsign:s=0.5,s=fixed");
    let again = ActivationSpec::parse(&fixed.to_string()).unwrap();
    assert_eq!(again.args(), fixed.args());

    // the values it computes are the rule's
    let x = Var::constant(Tensor::from_vec(vec![-4.0, 0.0, 1.0], [3]));
    let y = ActivationSpec::parse("reg_softsign:s=1,fixed")
        .unwrap()
        .build()
        .forward(&x)
        .value()
        .to_vec();
    assert_eq!(y, vec![-4.0 / 5.0, 0.0, 0.5]);

    // the entry's own argument checks and messages
    let msg = |s: &str| ActivationSpec::parse(s).unwrap_err().to_string();
    assert_eq!(
        msg("reg_softsign:s=0"),
        "reg_softsign: s: expected a number > 0, got \"0\""
    );
    assert_eq!(
        msg("reg_softsign:t=1"),
        "reg_softsign: unknown argument \"t\" (did you mean \"s\"?); usage: \
         reg_softsign[:s=2.0|fixed]"
    );
}

#[test]
fn a_registered_rule_passes_gradcheck_through_the_registry() {
    register(scaled_softsign("grad_softsign")).unwrap();
    // f′ and ∂f/∂s against differences of f, with 0 and large |x|
    let rule = ScaledSoftsign(RuleParams::new([learnable(2.0).var()]));
    let xs = [-1e4, -50.0, -3.0, -0.5, 0.0, 0.5, 3.0, 50.0, 1e4];
    gradcheck_pointwise(&rule, &xs, &[0.0]).unwrap();
    // the layer the registry builds, input and parameter gradients, in the fused op
    let act = ActivationSpec::parse("grad_softsign:s=1.5").unwrap();
    let layer = act.build();
    let x0 = Tensor::from_vec(vec![-7.0, -2.0, -0.3, 0.2, 1.1, 6.0], [2, 3]);
    gradcheck(
        |v: &[Var]| layer.forward(&v[0]),
        std::slice::from_ref(&x0),
        1e-2,
        1e-2,
    )
    .unwrap();
    // ∂(Σy)/∂s = Σ x·|x|/(s + |x|)², on a fresh layer
    let layer = act.build();
    let s = layer.parameters()[0].clone();
    let x = Var::parameter(x0);
    layer.forward(&x).sum_all().backward();
    let expected: f32 = x
        .value()
        .to_vec()
        .iter()
        .map(|&v| v * v.abs() / (1.5 + v.abs()).powi(2))
        .sum();
    let got = s.grad().unwrap().item();
    assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
}

#[test]
fn a_registered_activation_is_listed_suggested_and_callable_in_formulas() {
    let entry = register(scaled_softsign("listed_softsign").aliases(&["listed_ss"])).unwrap();
    assert!(all().iter().any(|e| std::ptr::eq(*e, entry)));
    // the built-in ones first, in table order
    assert_eq!(all()[0].name, "relu");
    let names = names();
    assert!(names.contains(&"listed_softsign") && names.contains(&"listed_ss"));
    assert_eq!(
        ActivationSpec::parse("LISTED_SS").unwrap().name(),
        "listed_softsign"
    );

    // a typo is suggested, and the message lists the name
    let e = ActivationSpec::parse("listed_sofsign")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("unknown activation \"listed_sofsign\" (did you mean \"listed_softsign\"?)"),
        "{e}"
    );

    // in a formula, with its arguments
    let f = ActivationSpec::parse("x * listed_softsign(x, s=1, fixed)").unwrap();
    let x = Var::constant(Tensor::from_vec(vec![-1.0, 2.0], [2]));
    let y = f.build().forward(&x).value().to_vec();
    assert_eq!(y, vec![0.5, 4.0 / 3.0]); // x·f(x)
    let e = ActivationSpec::parse("x * listed_sofsign(x)")
        .unwrap_err()
        .to_string();
    assert!(e.contains("(did you mean \"listed_softsign\"?)"), "{e}");
    // `--describe` data
    assert_eq!(entry.usage(), "listed_softsign[:s=2.0|fixed]");
}

#[test]
fn names_that_are_taken_or_invalid_are_refused() {
    let refused = |entry: Entry| register(entry).unwrap_err().to_string();
    let softsign =
        |name: &'static str| Entry::new(name, Category::Saturating, |_| Ok(Box::new(Softsign)));
    assert_eq!(
        refused(softsign("relu")),
        "cannot register the activation \"relu\": it is the name of \"relu\" (built in); \
         choose another"
    );
    assert_eq!(
        refused(softsign("my_silu_thing").aliases(&["silu"])),
        "cannot register the activation \"silu\": it is an alias of \"swish\" (built in); \
         choose another"
    );
    register(softsign("taken_once")).unwrap();
    assert_eq!(
        refused(softsign("taken_once")),
        "cannot register the activation \"taken_once\": already registered, as the name of \
         \"taken_once\""
    );
    assert!(refused(softsign("other_name").aliases(&["taken_once"]))
        .ends_with("already registered, as the name of \"taken_once\""));
    // a refused entry registers nothing, its other names included
    assert!(find("other_name").is_none() && find("my_silu_thing").is_none());

    for bad in ["", "My_Act", "my-act", "1act", "_act", "my act", "relü"] {
        let e = refused(softsign(bad));
        assert!(
            e.contains("lower-case ASCII letters, digits and _"),
            "{bad:?}: {e}"
        );
    }
    for reserved in ["x", "pi", "e", "formula"] {
        let e = refused(softsign(reserved));
        assert!(e.contains(&format!("formulas read \"{reserved}\"")), "{e}");
    }
    assert_eq!(
        refused(softsign("exp")),
        "cannot register the activation \"exp\": formulas read \"exp\" as their own function; \
         choose another name"
    );
    assert!(refused(softsign("dup_alias").aliases(&["dup_alias"])).contains("lists it twice"));
    // defaults that do not build are the registration's error, not a later panic
    const ZERO: &[Arg] = &[Arg::learnable("s", "0")];
    let e = refused(scaled_softsign("zero_softsign").args(ZERO));
    assert_eq!(
        e,
        "cannot register the activation \"zero_softsign\": its defaults (zero_softsign) do not \
         build: zero_softsign: s: expected a number > 0, got \"0\""
    );
    assert!(find("zero_softsign").is_none());
}

#[test]
fn concurrent_registrations_of_one_name_let_exactly_one_win() {
    let results: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| register(scaled_softsign("raced_softsign")).is_ok()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|&&ok| ok).count(), 1, "{results:?}");
    assert_eq!(
        names().iter().filter(|&&n| n == "raced_softsign").count(),
        1
    );
}
