//! The three phenomenon experiments (`minidl::experiments::{dead_relu, vanishing_gradients,
//! convergence}`, run by the examples of the same names) run end to end on a few hundred
//! synthetic digits: each prints its table and a conclusion. The tests check that each conclusion is the one the example's own printed numbers support (read back
//! from its table, so a verdict that disagrees with the numbers fails), and that the numbers
//! point the expected way where the effect is large enough to be certain (negative biases kill
//! ReLU units but never leaky ones; nine sigmoids shrink the first layer's gradient by orders
//! of magnitude).

use clap::Parser;
use minidl::experiments::{convergence, dead_relu, vanishing_gradients};

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

/// The cells of the first line that starts with `start` and a space.
fn cells<'a>(text: &'a str, start: &str) -> Vec<&'a str> {
    text.lines()
        .find(|l| l.starts_with(&format!("{start} ")))
        .unwrap_or_else(|| panic!("no line {start} in\n{text}"))
        .split_whitespace()
        .collect()
}

/// The parts of the conclusion: the text after `conclusion: `, one part per line (the
/// examples end each part but the last with `;`).
fn conclusion_parts(text: &str) -> Vec<&str> {
    let start = text.find("conclusion: ").expect("a conclusion") + "conclusion: ".len();
    text[start..]
        .lines()
        .map(|l| l.trim().trim_end_matches(';'))
        .collect()
}

/// The part of the conclusion that starts with `start`.
fn part<'a>(parts: &[&'a str], start: &str) -> &'a str {
    parts
        .iter()
        .find(|p| p.starts_with(start))
        .unwrap_or_else(|| panic!("no part {start:?} in the conclusion {parts:#?}"))
}

/// Whether `a > b`, where the printed digits `a` and `b` were computed from may put `a - b`
/// off by up to `slack`. When the printed digits cannot tell, the test cannot judge the
/// verdict either: it fails, saying so, rather than accept whatever the example concluded.
fn clearly_greater(a: f32, b: f32, slack: f32, what: &str, text: &str) -> bool {
    assert!(
        (a - b).abs() > slack,
        "{what}: {a} vs {b} is too close to call from the printed digits:\n{text}"
    );
    a > b
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

    // The conclusion is the one the table's numbers support (one seed: the cells are that
    // seed's values, printed as the conclusion prints them).
    let parts = conclusion_parts(&text);
    // relu's units died, came back or stayed: a change of more than 0.2 points either way.
    let (before, after) = (relu[3], relu[4]);
    let change = percent(after) - percent(before);
    let expected = if clearly_greater(change, 0.2, 0.1, "dead after - at init", &text) {
        format!("of its hidden units died during training ({before} dead at init, {after} after;")
    } else if clearly_greater(-0.2, change, 0.1, "dead after - at init", &text) {
        format!("{before} of its hidden units were dead at init and {after} after training")
    } else {
        format!("dead units stayed at {after} ({before} at init;")
    };
    let relu_part = part(&parts, "relu: ");
    assert!(
        relu_part.contains(&expected),
        "{expected:?} in {relu_part:?}"
    );
    // ... and names the layer with the most dead units at the end.
    let layers: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|c| c.len() > 4 && c[0] == "relu" && c[1] != "all" && c[2].parse::<usize>().is_ok())
        .collect();
    let worst = layers
        .iter()
        .max_by(|a, b| percent(a[4]).total_cmp(&percent(b[4])))
        .unwrap();
    let most = format!("most in layer {}: {})", worst[1], worst[4]);
    assert!(relu_part.ends_with(&most), "{most:?} in {relu_part:?}");
    // The activations with no dead unit before or after, and those that did not learn (below
    // 20% test accuracy, where 10% is guessing).
    let never_dead: Vec<String> = [&relu, &leaky]
        .iter()
        .filter(|r| r[3] == "0.0%" && r[4] == "0.0%")
        .map(|r| r[0].to_string())
        .collect();
    let verb = if never_dead.len() == 1 { "has" } else { "have" };
    // (two activations at most, listed as the examples list two: `a and b`)
    let never = format!(
        "{} {verb} no dead unit, before or after",
        never_dead.join(" and ")
    );
    assert!(parts.contains(&never.as_str()), "{never:?} in {parts:#?}");
    for r in [&relu, &leaky] {
        let accuracy = percent(r.last().unwrap());
        let stuck = clearly_greater(20.0, accuracy, 0.05, "test accuracy", &text);
        let said = format!(
            "{} did not learn at all with seed 0 (test accuracy {}",
            r[0],
            r.last().unwrap()
        );
        assert_eq!(
            parts.iter().any(|p| p.starts_with(&said)),
            stuck,
            "{said:?} in {parts:#?}"
        );
    }
    let accuracy = part(&parts, "test accuracy from ");
    assert!(
        accuracy.contains(": one seed, so no spread to compare the gap with"),
        "{accuracy}"
    );
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

    // The conclusion is the one the tables' numbers support: it names the activation whose
    // first-layer gradient is the smallest share of its last layer's (first batch), with that
    // share, the decades it spans, the layer count, the others' shares, and whether it learns.
    let rows = [
        row(&text, "sigmoid", "default"),
        row(&text, "tanh", "default"),
    ];
    let share = |r: &Vec<&str>| r[2].parse::<f32>().unwrap();
    let (worst, other) = if share(&rows[0]) < share(&rows[1]) {
        (&rows[0], &rows[1])
    } else {
        (&rows[1], &rows[0])
    };
    let parts = conclusion_parts(&text);
    let said = part(&parts, "with default init, ");
    let expected = format!(
        "with default init, {}'s first-layer gradient is {} of its last layer's on the first \
         batch, ",
        worst[0], worst[2]
    );
    assert!(said.starts_with(&expected), "{expected:?} in {said:?}");
    let decades: f32 = said[expected.len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // The share is printed to two digits (its decades ±0.021), the decades to one (±0.05).
    assert!((decades + share(worst).log10()).abs() < 0.08, "{said}");
    let others = format!("10 layers (others: {} {});", other[0], other[2]);
    assert!(said.contains(&others), "{others:?} in {said:?}");
    // The share agrees with the gradient norms printed per layer (two digits each, so the
    // quotient of the printed values is within about 16% of the printed share).
    let column = if worst[0] == "sigmoid" { 1 } else { 4 };
    let norm = |layer: &str| cells(&text, layer)[column].parse::<f32>().unwrap();
    let from_norms = norm("0.weight") / norm("18.weight");
    assert!((from_norms / share(worst) - 1.0).abs() < 0.17, "{text}");
    // Whether each learns: below 20% test accuracy it barely learns, below 80% slowly.
    let learns = |r: &Vec<&str>| {
        let accuracy = percent(r[4]);
        if clearly_greater(20.0, accuracy, 0.05, "test accuracy", &text) {
            "barely learns"
        } else if clearly_greater(80.0, accuracy, 0.05, "test accuracy", &text) {
            "learns slowly"
        } else {
            "learns"
        }
    };
    let reach = format!(
        "it reaches {} test accuracy: it {}",
        worst[4],
        learns(worst)
    );
    assert!(said.ends_with(&reach), "{reach:?} in {said:?}");
    let rest = format!(
        "with default init: {} {} ({})",
        other[0],
        learns(other),
        other[4]
    );
    assert!(parts.contains(&rest.as_str()), "{rest:?} in {parts:#?}");
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

    // The verdicts are the ones the table's numbers support. A row is `spec  m ± s  m ± s
    // acc% ± s`: a loss cell per step, then the test accuracy (its spread in points).
    let (relu, gelu) = (cells(&text, "relu"), cells(&text, "gelu"));
    let cell = |row: &[&str], i: usize| format!("{} ± {}", row[1 + 3 * i], row[3 + 3 * i]);
    let stat = |row: &[&str], i: usize| -> (f32, f32) {
        let mean = row[1 + 3 * i].trim_end_matches('%');
        (mean.parse().unwrap(), row[3 + 3 * i].parse().unwrap())
    };
    let parts = conclusion_parts(&text);
    // Losses are printed to 4 decimals, so a gap less its spreads is known to ±2e-4.
    let slack = 2e-4;
    let (mut ahead, mut level, mut behind) = (Vec::new(), Vec::new(), Vec::new());
    for (i, step) in [2, 5].iter().enumerate() {
        let ((r, rs), (g, gs)) = (stat(&relu, i), stat(&gelu, i));
        // Per step: which is lowest, which highest, and whether the gap beats the spreads.
        let ((low, lrow), (high, hrow)) = if g < r {
            (("gelu", &gelu), ("relu", &relu))
        } else {
            (("relu", &relu), ("gelu", &gelu))
        };
        let apart = clearly_greater((r - g).abs(), rs + gs, slack, "loss gap", &text);
        let verdict = if apart {
            "apart: a real difference"
        } else {
            "inside the spread: no real difference"
        };
        let said = part(&parts, &format!("step {step}: "));
        let expected = format!(
            "step {step}: {low} lowest ({}), {high} highest ({});",
            cell(lrow, i),
            cell(hrow, i)
        );
        assert!(said.starts_with(&expected), "{expected:?} in {said:?}");
        assert!(said.ends_with(verdict), "{verdict:?} in {said:?}");
        // "gelu converges faster than relu" at this step: ahead by more than the spreads.
        let bucket = match (apart, g < r) {
            (true, true) => &mut ahead,
            (true, false) => &mut behind,
            (false, _) => &mut level,
        };
        bucket.push(step.to_string());
    }
    // Two steps at most, listed as the examples list two things: `a and b`.
    let steps = |v: &[String]| {
        format!(
            "step{} {}",
            if v.len() > 1 { "s" } else { "" },
            v.join(" and ")
        )
    };
    let claim = part(&parts, "\"gelu converges faster than relu\" ");
    let holds = match (ahead.is_empty(), level.is_empty() && behind.is_empty()) {
        (true, _) => "is not shown".to_string(),
        (false, true) => "holds at every measured step".to_string(),
        (false, false) => format!("holds at {} only", steps(&ahead)),
    };
    assert!(claim.contains(&holds), "{holds:?} in {claim:?}");
    assert_eq!(
        claim.contains(&format!("level at {}", steps(&level))),
        !level.is_empty(),
        "level at {level:?}: {claim}"
    );
    assert_eq!(
        claim.contains(&format!("gelu is behind at {}", steps(&behind))),
        !behind.is_empty(),
        "behind at {behind:?}: {claim}"
    );
    // Test accuracy: a gap wider than the two spreads, or the same accuracy. The means are
    // printed to 0.1 points and the spreads to 0.01, so the gap less the spreads is known to
    // ±0.11 points.
    let ((r, rs), (g, gs)) = (stat(&relu, 2), stat(&gelu, 2));
    let said = part(&parts, "test accuracy ");
    let expected = format!("test accuracy relu {} and gelu {}: ", relu[7], gelu[7]);
    assert!(said.starts_with(&expected), "{expected:?} in {said:?}");
    let verdict = if clearly_greater((r - g).abs(), rs + gs, 0.11, "accuracy gap", &text) {
        let (best, worst) = if g > r {
            ("gelu", "relu")
        } else {
            ("relu", "gelu")
        };
        format!("{best} is ahead of {worst} by ")
    } else {
        "is inside the spread (".to_string()
    };
    assert!(said.contains(&verdict), "{verdict:?} in {said:?}");
}
