//! The crate's binary is the whole lab with `scaled_softsign` in it: it trains and reports the
//! custom activation beside a built-in one on the MNIST slice that ships with minidl, names it
//! in its errors, and describes it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The slice of real MNIST (100 training and 100 test images) shipped with minidl's `datasets`.
const SLICE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../datasets/tests/fixtures/mnist-100"
);

/// Runs the crate's binary with `args`.
fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_my-activation"))
        .args(args)
        .output()
        .expect("running my-activation")
}

/// A fresh folder for one test's files (no extra dependency: the process id and the test's
/// name make it unique), removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("my-activation-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn trains_and_reports_the_custom_activation_beside_relu() {
    let t = Scratch::new("compare");
    let (report, metrics) = (t.path("report"), t.path("metrics.jsonl"));
    let out = run(&[
        "--compare",
        "relu,scaled_softsign",
        "--epochs",
        "1",
        "--limit-train",
        "100",
        "--data-dir",
        SLICE,
        "--report",
        &report,
        "--metrics",
        &metrics,
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("scaled_softsign"), "{stdout}");

    // one JSON line per activation and epoch; the custom one with its learned s
    let lines: Vec<String> = std::fs::read_to_string(&metrics)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("\"relu\"") && lines[0].contains("\"params\":{}"));
    assert!(lines[1].contains("scaled_softsign"), "{}", lines[1]);
    let s = learned_s(&lines[1]);
    assert!(
        s.is_finite() && s > 0.0 && s != 2.0,
        "s = {s}: {}",
        lines[1]
    );

    // the report names it and shows its learned parameter
    let html = std::fs::read_to_string(Path::new(&report).join("index.html")).unwrap();
    assert!(html.contains("scaled_softsign"), "{html}");
    assert!(html.contains("learned parameters"), "{html}");
    assert!(html.contains(".s = "), "{html}");
}

/// The value of the first learned activation parameter `<layer>.s` in a metrics line.
fn learned_s(line: &str) -> f32 {
    let params = &line[line.find("\"params\":{").expect("a params object") + 10..];
    let entry = &params[..params.find('}').unwrap()];
    let (key, value) = entry.split(',').next().unwrap().split_once(':').unwrap();
    assert!(key.ends_with(".s\""), "{entry}");
    value.parse().unwrap()
}

#[test]
fn an_unknown_name_lists_and_suggests_the_custom_one() {
    let out = run(&["--activation", "scaled_sofsign", "--data-dir", SLICE]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "error: --activation: unknown activation \"scaled_sofsign\" (did you mean \
             \"scaled_softsign\"?); valid names: relu, "
        ),
        "{stderr}"
    );
    assert!(stderr.contains(", scaled_softsign"), "{stderr}");

    // its own argument check, before anything trains
    let out = run(&["--activation", "scaled_softsign:s=-1", "--data-dir", SLICE]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: --activation: scaled_softsign: s: expected a number > 0, got \"-1\"\n"
    );

    // --help lists it among the names
    let out = run(&["--help"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("scaled_softsign"));
}

#[test]
fn the_activations_tool_describes_and_tabulates_it() {
    let out = run(&["activations", "--describe", "scaled_softsign:s=4"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.starts_with("scaled_softsign:s=4  —  ScaledSoftsign(s=4.0 (learnable))\n"),
        "{stdout}"
    );
    assert!(stdout.contains("  f(x)       x/(1 + |x|/s)\n"), "{stdout}");
    assert!(stdout.contains("  category   learnable\n"), "{stdout}");
    assert!(stdout.contains("  learnable  s = 4\n"), "{stdout}");

    // f(x) = x/(1 + |x|/2) and its derivative from autograd, at −2, 0, 2
    let out = run(&[
        "activations",
        "--csv",
        "--activation",
        "scaled_softsign",
        "--x",
        "-2,0,2",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "activation,x,y,dydx\nscaled_softsign,-2,-1,0.25\nscaled_softsign,0,0,1\n\
         scaled_softsign,2,1,0.25\n"
    );
}

/// The phenomenon experiments take the registered activation like a built-in one: the same
/// binary runs `dead_relu` by name, with two seeds, and its table, verdicts and report name it.
#[test]
fn the_phenomenon_experiments_take_it_by_name() {
    let t = Scratch::new("dead_relu");
    let report = t.path("dead");
    let out = run(&[
        "dead_relu",
        "--setup",
        "lr",
        "--activations",
        "relu,scaled_softsign",
        "--seeds",
        "2",
        "--data-dir",
        SLICE,
        "--quiet",
        "--report",
        &report,
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("scaled_softsign"), "{stdout}");
    assert!(stdout.contains("Welch's t-test"), "{stdout}");
    let html = std::fs::read_to_string(Path::new(&report).join("index.html")).unwrap();
    assert!(html.contains("scaled_softsign"), "{html}");

    // `help` lists the programs; an unknown activation is refused before any training
    let help = run(&["help"]);
    assert!(help.status.success());
    assert!(text(&help.stdout).contains("vanishing_gradients"));
    let bad = run(&["dead_relu", "--activations", "scaled_sofsign"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("did you mean \"scaled_softsign\""));

    // a closed standard output (`>&-`) is refused before anything runs, as in the examples
    let closed = Command::new("sh")
        .args([
            "-c",
            "exec \"$0\" \"$@\" >&-",
            env!("CARGO_BIN_EXE_my-activation"),
        ])
        .args(["dead_relu", "--activations", "relu", "--data-dir", SLICE])
        .output()
        .unwrap();
    assert_eq!(closed.status.code(), Some(2));
    assert!(
        text(&closed.stderr).starts_with("error: standard output: it is closed"),
        "{}",
        text(&closed.stderr)
    );
}

/// The composed activation (`src/bin/composed.rs`, Var ops, no rule): trained beside relu,
/// named in its table row and its report.
#[test]
fn the_composed_activation_trains_and_reports_beside_relu() {
    let t = Scratch::new("composed");
    let report = t.path("report");
    let out = Command::new(env!("CARGO_BIN_EXE_composed"))
        .args([
            "--compare",
            "relu,sigmoid_squared",
            "--epochs",
            "1",
            "--limit-train",
            "100",
            "--data-dir",
            SLICE,
            "--report",
            &report,
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let table = stdout.lines().find(|l| l.starts_with("sigmoid_squared "));
    assert!(
        table.is_some_and(|l| l.contains('%')),
        "no table row: {stdout}"
    );
    let html = std::fs::read_to_string(Path::new(&report).join("index.html")).unwrap();
    assert!(html.contains("sigmoid_squared"), "{html}");
}
