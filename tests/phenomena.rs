//! The phenomenon experiments (`minidl::experiments::{dead_relu, vanishing_gradients,
//! convergence, regularisation}`, run by the examples of the same names) run end to end on a
//! few hundred synthetic digits with `--seeds 2`: each prints its table as mean ± spread and a
//! conclusion whose verdicts name the test and the seed count. The tests check that each
//! verdict agrees with the p-value it prints (a difference is called real exactly when p <
//! 0.05), that the numbers point the expected way where the effect is large enough to be
//! certain (negative biases kill ReLU units but never leaky ones; nine sigmoids shrink the
//! first layer's gradient by orders of magnitude), that a report shows the printed conclusion,
//! and that an activation given as a formula is accepted like a registry name.

use clap::Parser;
use minidl::experiments::{convergence, dead_relu, regularisation, vanishing_gradients};

/// The verdict line every conclusion ends with, for two seeds.
const BASIS: &str = "verdicts: Welch's t-test, two-sided, p < 0.05, over 2 seeds";

fn args<T: Parser>(name: &str, flags: &[&str]) -> T {
    let common = ["--dataset", "synthetic", "--limit-train", "640", "--quiet"];
    let all = std::iter::once(name)
        .chain(common)
        .chain(flags.iter().copied());
    T::try_parse_from(all).unwrap()
}

/// The cells of the table row that starts with `first` and then `second`.
fn row<'a>(text: &'a str, first: &str, second: &str) -> Vec<&'a str> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|cells| cells.len() > 2 && cells[0] == first && cells[1] == second)
        .unwrap_or_else(|| panic!("no row {first} {second} in\n{text}"))
}

fn percent(cell: &str) -> f32 {
    cell.trim_end_matches('%').parse().unwrap()
}

/// The parts of the conclusion: the text after `conclusion: `, one part per line.
fn conclusion_parts(text: &str) -> Vec<&str> {
    let start = text.find("conclusion: ").expect("a conclusion") + "conclusion: ".len();
    text[start..]
        .lines()
        .take_while(|l| !l.starts_with("report: "))
        .map(|l| l.trim().trim_end_matches(';'))
        .collect()
}

/// The p-values a text prints (`p = 0.012`, or `p < 0.001` read as 0).
fn p_values(text: &str) -> Vec<f64> {
    text.match_indices("p ")
        .filter_map(|(i, _)| {
            let rest = &text[i + 2..];
            if rest.starts_with("< 0.001") {
                Some(0.0)
            } else {
                let num = rest.strip_prefix("= ")?;
                let end = num
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .unwrap_or(num.len());
                num[..end].parse().ok()
            }
        })
        .collect()
}

/// The one p-value of `part`, and whether `part` calls the difference real (`real`) or not
/// (`not`): exactly one of the two must be said, and it must agree with p < 0.05.
fn check_verdict(part: &str, real: &str, not: &str) {
    let ps = p_values(part);
    assert_eq!(ps.len(), 1, "one p-value in {part:?}");
    let (says_real, says_not) = (part.contains(real), part.contains(not));
    assert!(says_real != says_not, "{real:?} or {not:?} in {part:?}");
    assert_eq!(says_real, ps[0] < 0.05, "verdict vs p-value in {part:?}");
}

#[test]
fn dead_relu_finds_dead_relu_units_and_no_dead_leaky_ones() {
    let a: dead_relu::Args = args(
        "dead_relu",
        &[
            "--setup",
            "bias",
            "--activations",
            "relu,leaky_relu",
            "--seeds",
            "2",
        ],
    );
    let mut out = Vec::new();
    dead_relu::run(&a, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("hidden biases -0.5, SGD lr 0.1"), "{text}");
    assert!(text.contains("seeds [0, 1]"), "{text}");
    // activation, layer, units, dead at init (mean ± spread), ...
    let relu = row(&text, "relu", "all");
    assert_eq!(relu[2], "512");
    assert!(percent(relu[3]) > 10.0, "{text}");
    assert_eq!(relu[4], "±", "a spread over two seeds: {text}");
    let leaky = row(&text, "leaky_relu", "all");
    assert_eq!((percent(leaky[3]), percent(leaky[4])), (0.0, 0.0), "{text}");
    let parts = conclusion_parts(&text);
    assert!(
        parts.contains(&"leaky_relu has no dead unit, before or after"),
        "{parts:#?}"
    );
    assert_eq!(parts.last(), Some(&BASIS), "{parts:#?}");
    // relu's units died, came back or stayed: "died" or "came back" only with p < 0.05.
    let relu_part = parts.iter().find(|p| p.starts_with("relu: ")).unwrap();
    let changed = relu_part.contains("died during training") || relu_part.contains("came back");
    assert_eq!(
        changed,
        relu_part.contains("the change is larger than the seeds' spread"),
        "{relu_part}"
    );
    check_verdict(
        relu_part,
        "larger than the seeds' spread",
        "within the seeds' spread",
    );
    let accuracy = parts
        .iter()
        .find(|p| p.starts_with("test accuracy from "))
        .unwrap();
    check_verdict(
        accuracy,
        "larger than the seeds' spread",
        "within the seeds' spread",
    );
}

#[test]
fn vanishing_gradients_shows_sigmoid_losing_orders_of_magnitude_and_reports_it() {
    let dir = std::env::temp_dir().join(format!("minidl-vg-{}", std::process::id()));
    let report = dir.to_str().unwrap();
    let a: vanishing_gradients::Args = args(
        "vanishing_gradients",
        &[
            "--activations",
            "sigmoid,tanh",
            "--inits",
            "default",
            "--seeds",
            "2",
            "--report",
            report,
        ],
    );
    let mut out = Vec::new();
    vanishing_gradients::run(&a, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    // One row per weight of the 10 Linear layers, named as in the model.
    for i in 0..10 {
        assert!(text.contains(&format!("\n{}.weight ", 2 * i)), "{text}");
    }
    let sigmoid = row(&text, "sigmoid", "default");
    let ratio: f32 = sigmoid[2].parse().unwrap();
    assert!(ratio < 1e-4, "{text}");
    let tanh: f32 = row(&text, "tanh", "default")[2].parse().unwrap();
    assert!(tanh > 100.0 * ratio, "{text}");
    let parts = conclusion_parts(&text);
    let said = parts
        .iter()
        .find(|p| p.starts_with("with default init, sigmoid's first-layer gradient is "))
        .unwrap_or_else(|| panic!("{parts:#?}"));
    assert!(
        said.contains(&format!("gradient is {} of its last", sigmoid[2])),
        "{said}"
    );
    // Six decades apart with a spread of tenths: the test must call it.
    assert!(said.contains("(smaller beyond the spread, p "), "{said}");
    check_verdict(said, "smaller beyond the spread", "within the spread");
    assert_eq!(parts.last(), Some(&BASIS), "{parts:#?}");
    let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(
        index.contains("sigmoid&#39;s first-layer gradient")
            || index.contains("sigmoid's first-layer gradient"),
        "{index}"
    );
    assert!(index.contains(BASIS.split('\'').next().unwrap()), "{index}");
    assert!(dir.join("grad_norm.svg").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn convergence_reports_mean_and_spread_and_tested_verdicts() {
    let a: convergence::Args = args(
        "convergence",
        &[
            "--activations",
            "relu,x*sigmoid(x)",
            "--seeds",
            "2",
            "--at",
            "2,5",
        ],
    );
    let mut out = Vec::new();
    convergence::run(&a, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("loss @ step 2") && text.contains("loss @ step 5"),
        "{text}"
    );
    // mean ± spread for both steps and the accuracy
    for spec in ["relu", "x*sigmoid(x)"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{spec} ")))
            .unwrap();
        assert_eq!(line.matches('±').count(), 3, "{line}");
    }
    let parts = conclusion_parts(&text);
    for step in [2, 5] {
        let said = parts
            .iter()
            .find(|p| p.starts_with(&format!("step {step}: ")))
            .unwrap();
        check_verdict(said, "apart: a real difference", "inside the spread");
    }
    assert!(
        parts
            .iter()
            .any(|p| p.starts_with("\"x*sigmoid(x) converges faster than relu\" ")),
        "{parts:#?}"
    );
    let accuracy = parts
        .iter()
        .find(|p| p.starts_with("test accuracy "))
        .unwrap();
    check_verdict(
        accuracy,
        "larger than the seeds' spread",
        "within the seeds' spread",
    );
    assert_eq!(parts.last(), Some(&BASIS), "{parts:#?}");
}

#[test]
fn regularisation_tests_rrelus_gap_and_reports_it() {
    let dir = std::env::temp_dir().join(format!("minidl-reg-{}", std::process::id()));
    let a: regularisation::Args = args(
        "regularisation",
        &[
            "--seeds",
            "2",
            "--epochs",
            "2",
            "--activations",
            "relu,relu(x) - 0.2*relu(-x),rrelu",
            "--report",
            dir.to_str().unwrap(),
        ],
    );
    let mut out = Vec::new();
    regularisation::run(&a, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("measured in evaluation mode"), "{text}");
    assert!(text.contains("on 640 training images"), "{text}");
    // train, test and gap, each mean ± spread; the gap is train - test.
    let cells = text
        .lines()
        .find(|l| l.starts_with("rrelu "))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>();
    assert_eq!(cells.len(), 10, "{cells:?}");
    let (train, test, gap) = (percent(cells[1]), percent(cells[4]), percent(cells[7]));
    assert!((train - test - gap).abs() < 0.15, "{cells:?}");
    let parts = conclusion_parts(&text);
    for other in ["relu", "relu(x) - 0.2*relu(-x)"] {
        let said = parts
            .iter()
            .find(|p| p.starts_with(&format!("rrelu's gap vs {other}'s: ")))
            .unwrap_or_else(|| panic!("{parts:#?}"));
        let gap_part = said.split("; its test accuracy").next().unwrap();
        check_verdict(
            gap_part,
            "beyond the seeds' spread",
            "within the seeds' spread",
        );
    }
    let claim = parts
        .iter()
        .find(|p| p.starts_with("\"rrelu regularises\" "))
        .unwrap();
    let smaller = parts
        .iter()
        .filter(|p| p.contains(", smaller, beyond"))
        .count();
    assert_eq!(claim.contains("is not shown"), smaller == 0, "{parts:#?}");
    assert_eq!(parts.last(), Some(&BASIS), "{parts:#?}");
    let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(index.contains("regularises"), "{index}");
    std::fs::remove_dir_all(&dir).unwrap();
}
