//! Every activation against PyTorch: values, input gradients and (per point) parameter
//! gradients, from `tests/fixtures/activations.txt`, which
//! `tests/fixtures/make_activation_fixtures.py` computes with PyTorch in float64. The points
//! include −1e4, −100, −20, −5, −1, −0.1, 0, 0.1, 1, 5, 20, 100, 1e4 and every kink, so the
//! conventions at kinks (ReLU′(0) = 0, LeakyReLU′(0) = negative_slope, SELU′(0) = λ·α, …) are
//! checked against PyTorch's own. Tolerance: 1e-5 relative plus 1e-6 absolute.
//!
//! An activation that PyTorch lacks can say so in its entry ([`Entry::no_pytorch`]); then it
//! needs no case here, and its `f(x)`, a formula in `x`, evaluated in `f64`
//! ([`Formula::reference`]) is its reference instead, at the same points and tolerance (its
//! gradients are checked against its values by `activations.rs`, like every entry's).

use std::collections::HashSet;

use autograd::Var;
use nn::activation::{self, ActivationSpec, Category, Entry, Formula};
use tensor::Tensor;

const FIXTURE: &str = include_str!("fixtures/activations.txt");

/// One `case … end` block.
#[derive(Debug, Default)]
struct Case {
    spec: String,
    shape: Vec<usize>,
    x: Vec<f64>,
    w: Vec<f64>,
    y: Vec<f64>,
    gx: Vec<f64>,
    gp: Vec<(String, Vec<f64>)>,
}

fn numbers(words: &[&str]) -> Vec<f64> {
    words.iter().map(|w| w.parse().expect("a number")).collect()
}

fn parse_fixture() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut case = Case::default();
    for line in FIXTURE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[0] {
            "case" => case.spec = words[1].to_string(),
            "shape" => case.shape = words[1..].iter().map(|w| w.parse().unwrap()).collect(),
            "x" => case.x = numbers(&words[1..]),
            "w" => case.w = numbers(&words[1..]),
            "y" => case.y = numbers(&words[1..]),
            "gx" => case.gx = numbers(&words[1..]),
            "gp" => case.gp.push((words[1].to_string(), numbers(&words[2..]))),
            "end" => cases.push(std::mem::take(&mut case)),
            other => panic!("fixture: unknown line tag {other:?}"),
        }
    }
    cases
}

fn tensor(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(values.iter().map(|&v| v as f32).collect(), shape)
}

/// `ours` within 1e-6 + 1e-5·|reference| of `reference` (PyTorch's, or a formula's in `f64`),
/// element by element.
fn check(
    spec: &str,
    what: &str,
    x: &[f64],
    ours: &[f32],
    reference: &[f64],
    failures: &mut Vec<String>,
) {
    assert_eq!(ours.len(), reference.len(), "{spec}: {what} length");
    for (i, (&o, &r)) in ours.iter().zip(reference).enumerate() {
        let ok = o.is_finite() && (f64::from(o) - r).abs() <= 1e-6 + 1e-5 * r.abs();
        if !ok {
            let at = x.get(i).map_or(String::new(), |x| format!(" at x = {x}"));
            failures.push(format!("{spec}: {what}[{i}]{at}: ours {o}, reference {r}"));
        }
    }
}

#[test]
fn every_activation_matches_pytorch() {
    let cases = parse_fixture();
    assert!(
        cases.len() >= 50,
        "only {} cases in the fixture",
        cases.len()
    );
    let mut failures = Vec::new();
    let mut covered = HashSet::new();
    for case in &cases {
        let act = ActivationSpec::parse(&case.spec).unwrap_or_else(|e| panic!("{e}"));
        covered.insert(act.name());
        let layer = act.build();
        layer.eval();
        let x = Var::parameter(tensor(&case.x, &case.shape));
        let y = layer.forward(&x);
        check(
            &case.spec,
            "y",
            &case.x,
            y.value().data(),
            &case.y,
            &mut failures,
        );
        y.backward_with(tensor(&case.w, y.value().dims()));
        let gx = x.grad().expect("x gets a gradient");
        check(
            &case.spec,
            "∂/∂x",
            &case.x,
            gx.data(),
            &case.gx,
            &mut failures,
        );

        // parameter gradients, point by point
        for (name, want) in &case.gp {
            let layer = act.build();
            layer.eval();
            let params = layer.named_parameters();
            let p = &params
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("{}: no parameter {name}", case.spec))
                .1;
            let mut got = Vec::new();
            for &xi in &case.x {
                p.zero_grad();
                let y = layer.forward(&Var::constant(tensor(&[xi], &[1])));
                y.backward_with(Tensor::ones([1]));
                got.push(p.grad().map_or(0.0, |g| g.item()));
            }
            check(
                &case.spec,
                &format!("∂/∂{name}"),
                &case.x,
                &got,
                want,
                &mut failures,
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // every registered activation that PyTorch has has at least one case
    let missing: Vec<&str> = activation::all()
        .iter()
        .filter(|e| e.pytorch_fixture)
        .map(|e| e.name)
        .filter(|n| !covered.contains(n))
        .collect();
    assert!(missing.is_empty(), "no PyTorch fixture for {missing:?}");
}

/// The points of the `f64` reference check: the fixture's.
const POINTS: [f64; 13] = [
    -1e4, -100.0, -20.0, -5.0, -1.0, -0.1, 0.0, 0.1, 1.0, 5.0, 20.0, 100.0, 1e4,
];

/// Where `entry`'s layer (default arguments, evaluation mode) differs from its `f(x)` read as a
/// formula and evaluated in `f64`, at [`POINTS`] and its kinks; empty if nowhere.
fn reference_failures(entry: &'static Entry) -> Vec<String> {
    let formula = match Formula::parse(entry.formula) {
        Ok(f) => f,
        Err(e) => return vec![format!("{}: f(x) is not a formula in x: {e}", entry.name)],
    };
    let kinks = entry.kinks.iter().map(|&k| f64::from(k));
    let xs: Vec<f64> = POINTS.iter().copied().chain(kinks).collect();
    let layer = ActivationSpec::with_defaults(entry).build();
    layer.eval();
    let x = Var::constant(tensor(&xs, &[xs.len()]));
    let y = layer.forward(&x).value();
    let mut failures = Vec::new();
    for (i, &xi) in xs.iter().enumerate() {
        // the input as the layer saw it, rounded to f32
        match formula.reference(f64::from(xi as f32)) {
            Some(r) => {
                let ours = &y.data()[i..=i];
                check(
                    entry.name,
                    "y (f64 formula)",
                    &xs[i..=i],
                    ours,
                    &[r],
                    &mut failures,
                );
            }
            None => failures.push(format!("{}: {} has no f64 form", entry.name, entry.formula)),
        }
    }
    failures
}

#[test]
fn every_activation_without_pytorch_matches_its_formula_in_f64() {
    let mut failures = Vec::new();
    for entry in activation::all().iter().filter(|e| !e.pytorch_fixture) {
        failures.extend(reference_failures(entry));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The reference check catches a rule that is not its formula: Mish's rule under SERF's
/// formula, and a formula the parser cannot read.
#[test]
fn the_f64_reference_check_can_fail() {
    static WRONG_RULE: Entry = Entry::new("wrong_rule", Category::SelfGated, |_| {
        Ok(Box::new(nn::Mish))
    })
    .formula("x·erf(softplus(x))", "")
    .no_pytorch("none");
    let failures = reference_failures(&WRONG_RULE);
    assert!(failures.len() >= 5, "{failures:?}");
    assert!(
        failures[0].starts_with("wrong_rule: y (f64 formula)"),
        "{failures:?}"
    );
    static NOT_A_FORMULA: Entry = Entry::new("not_a_formula", Category::SelfGated, |_| {
        Ok(Box::new(nn::Mish))
    })
    .formula("x if x > 0, else 0", "")
    .no_pytorch("none");
    let failures = reference_failures(&NOT_A_FORMULA);
    assert!(
        failures[0].contains("f(x) is not a formula in x"),
        "{failures:?}"
    );
}
