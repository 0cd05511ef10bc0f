//! The three phenomenon examples (`dead_relu`, `vanishing_gradients`, `convergence`) run end to
//! end on a few hundred synthetic digits: each prints its table and a conclusion, and the
//! measured numbers point the expected way where the effect is large enough to be certain
//! (negative biases kill ReLU units but never leaky ones; nine sigmoids shrink the first
//! layer's gradient by orders of magnitude).

// Each example is compiled into this test as a module, so the test calls its `run` directly.
// Each brings its own copy of `examples/common`, which is what the examples share.
#![allow(clippy::duplicate_mod)]
#[allow(dead_code)]
#[path = "../examples/dead_relu.rs"]
mod dead_relu;

#[allow(dead_code)]
#[path = "../examples/vanishing_gradients.rs"]
mod vanishing_gradients;

#[allow(dead_code)]
#[path = "../examples/convergence.rs"]
mod convergence;

use clap::Parser;

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
            "0",
        ],
    );
    let mut out = Vec::new();
    dead_relu::run(&a, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("hidden biases -0.5, SGD lr 0.1"), "{text}");
    // activation, layer, units, dead at init, dead after, (saturated), test acc
    let relu = row(&text, "relu", "all");
    assert_eq!(relu[2], "512");
    assert!(percent(relu[3]) > 10.0, "{text}");
    let leaky = row(&text, "leaky_relu", "all");
    assert_eq!((percent(leaky[3]), percent(leaky[4])), (0.0, 0.0), "{text}");
    assert!(text.contains("conclusion: relu: "), "{text}");
    assert!(text.contains("leaky_relu has no dead unit"), "{text}");
}

#[test]
fn vanishing_gradients_shows_sigmoid_losing_orders_of_magnitude_and_writes_a_report() {
    let dir = std::env::temp_dir().join(format!("minidl-vg-{}", std::process::id()));
    let report = dir.to_str().unwrap();
    let a: vanishing_gradients::Args = args(
        "vanishing_gradients",
        &[
            "--activations",
            "sigmoid,tanh",
            "--inits",
            "default",
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
    assert!(text.contains("sigmoid's first-layer gradient is"), "{text}");
    assert!(dir.join("index.html").is_file() && dir.join("grad_norm.svg").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn convergence_reports_mean_and_spread_at_each_step() {
    let a: convergence::Args = args(
        "convergence",
        &[
            "--activations",
            "relu,gelu",
            "--seeds",
            "0,1",
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
    for spec in ["relu", "gelu"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{spec} ")))
            .unwrap();
        assert_eq!(line.matches('±').count(), 3, "{line}");
    }
    assert!(
        text.contains("\"gelu converges faster than relu\""),
        "{text}"
    );
    assert!(text.contains("test accuracy relu "), "{text}");
}
