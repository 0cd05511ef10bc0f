//! The `mnist` example, run as a real process, on bad command lines and bad files: each ends
//! with exit status 2 and a single line on stderr that says what to change — never a panic, a
//! usage dump, or a file written over a good one. Also the runs forced to diverge: a NaN loss
//! stops with a hint and leaves the last good checkpoint as it was, and `--detect-anomaly`
//! names the first op that went non-finite.

#[path = "../common/mod.rs"]
mod common;
use common::{example_binary, TempDir};

// One module per kind of input; each owns its cases.
mod checkpoints;
mod data;
mod examples;
mod outputs;

use std::path::Path;
use std::process::{Command, Output};

/// A small, fast run: 256 synthetic training images, a 784-16-10 MLP, no progress bars.
const SMALL: [&str; 7] = [
    "--dataset",
    "synthetic",
    "--limit-train",
    "256",
    "--hidden",
    "16",
    "--quiet",
];

fn run(bin: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(SMALL)
        .args(args)
        .output()
        .expect("running the example")
}

/// Exit status 2, one line on stderr starting with `starts` and containing every `contains`
/// (a formula error adds the formula and a caret under the column on two more lines).
fn assert_refused(what: &str, out: &Output, starts: &str, contains: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: status; stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    let lines = if starts.contains("formula:") { 3 } else { 1 };
    assert_eq!(
        stderr.lines().count(),
        lines,
        "{what}: {lines} line(s): {stderr:?}"
    );
    let stderr = stderr.lines().next().unwrap_or_default();
    assert!(stderr.starts_with(starts), "{what}: {stderr}");
    for c in contains {
        assert!(stderr.contains(c), "{what}: no {c:?} in {stderr}");
    }
}

#[test]
fn bad_command_lines_and_files_give_status_2_and_one_line_saying_what_to_change() {
    let bin = example_binary();
    let t = TempDir::new("table");
    // a good checkpoint of this small run, then a copy cut in the middle
    let good = t.path("good.safetensors");
    let saved = run(&bin, &["--epochs", "1", "--save", &good]);
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    let bytes = std::fs::read(&good).unwrap();
    let truncated = t.path("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let file = t.path("a-file");
    std::fs::write(&file, "x").unwrap();
    let report_under_file = format!("{file}/report");
    let missing_dir = t.path("no-such-folder");
    let long_formula = format!("x{}", "+x".repeat(2000));

    // (what, flags, the message's start, what it must also say)
    let table: Vec<(&str, Vec<&str>, &str, Vec<&str>)> = vec![
        (
            "unknown activation",
            vec!["--activation", "mihs"],
            "error: --activation: unknown activation \"mihs\"",
            vec!["did you mean \"mish\"", "valid names: relu,"],
        ),
        (
            "an activation compared with itself",
            vec!["--compare", "relu,mish,relu"],
            "error: --compare: relu is given twice",
            vec!["list each one once"],
        ),
        (
            "negative learning rate",
            vec!["--lr", "-0.1"],
            "error: invalid value '-0.1' for '--lr <LR>'",
            vec!["expected a positive number such as 0.001"],
        ),
        (
            "zero batch size",
            vec!["--batch-size", "0"],
            "error: invalid value '0' for '--batch-size <N>'",
            vec!["expected a whole number of at least 1"],
        ),
        (
            "zero epochs",
            vec!["--epochs", "0"],
            "error: invalid value '0' for '--epochs <N>'",
            vec!["expected a whole number of at least 1"],
        ),
        (
            "missing data folder",
            vec!["--dataset", "mnist", "--data-dir", &missing_dir],
            "error: data: ",
            vec!["no-such-folder", "--download", "--data-dir"],
        ),
        (
            "unwritable report folder",
            vec!["--report", &report_under_file],
            "error: --report: cannot write",
            vec!["a-file", "choose another path"],
        ),
        (
            "checkpoint from another architecture",
            vec!["--hidden", "8", "--epochs", "1", "--resume", &good],
            "error: --resume: ",
            vec![
                "MLP 784-16-10 in the checkpoint, MLP 784-8-10 here",
                "without --resume",
            ],
        ),
        (
            "truncated checkpoint",
            vec!["--epochs", "2", "--resume", &truncated],
            "error: --resume: ",
            vec!["truncated", "earlier checkpoint"],
        ),
        (
            // found by fuzzing: parsed, then panicked at the first batch
            "gated activation",
            vec!["--activation", "glu"],
            "error: activation glu: does not fit the network: ",
            vec!["halve the width", "choose another activation"],
        ),
        (
            "axis the hidden values do not have",
            vec!["--activation", "softmax:dim=5"],
            "error: activation softmax:dim=5: does not fit the network: ",
            vec!["softmax: dim 5 is out of range", "other arguments"],
        ),
        (
            // found by fuzzing: a long chain overflowed the stack when evaluated
            "formula of 2000 operations",
            vec!["--activation", &long_formula],
            "error: --activation: formula: more than 1000 operations",
            vec!["shorter formula"],
        ),
        (
            "unknown model",
            vec!["--model", "cnnn"],
            "error: invalid value 'cnnn' for '--model <KIND>'",
            vec!["[possible values: mlp, cnn]"],
        ),
    ];
    for (what, flags, starts, contains) in &table {
        let out = run(&bin, flags);
        assert_refused(what, &out, starts, contains);
    }
    // nothing above wrote over the good checkpoint
    assert_eq!(std::fs::read(&good).unwrap(), bytes);
}

#[test]
fn a_nan_loss_stops_with_a_hint_and_saves_nothing_over_a_good_checkpoint() {
    let bin = example_binary();
    let t = TempDir::new("nan");
    let ckpt = t.path("run.safetensors");
    // 4 steps per epoch: the first epoch ends with finite (huge) losses and is saved, the
    // second diverges
    let flags = [
        "--epochs",
        "2",
        "--optimizer",
        "sgd",
        "--lr",
        "1e6",
        "--save",
        &ckpt,
    ];
    let out = run(&bin, &flags);
    assert_refused(
        "lr 1e6",
        &out,
        "error: training diverged: the training loss is NaN at step ",
        &[
            "(epoch 2)",
            "lower --lr (it was 1000000; try 100000)",
            "clip the gradients",
            "--detect-anomaly",
        ],
    );
    // the checkpoint is the first epoch's, whole and finite
    let saved = nn::state::load(&ckpt).expect("the first epoch's checkpoint");
    assert_eq!(saved.metadata["epoch"], "1");
    assert_eq!(saved.metadata["step"], "4");
    assert!(saved.tensors.iter().all(|(_, t)| t.all_finite()));
}

#[test]
fn detect_anomaly_names_the_first_op_that_went_non_finite() {
    let bin = example_binary();
    let flags = [
        "--epochs",
        "2",
        "--optimizer",
        "sgd",
        "--lr",
        "1e6",
        "--detect-anomaly",
    ];
    let out = run(&bin, &flags);
    // a layer of the 784-16-10 MLP, Linear · ReLU · Linear (the loader flattens the images)
    assert_refused(
        "--detect-anomaly",
        &out,
        "error: --detect-anomaly: step ",
        &["anomaly: `linear` produced", "(Linear); inputs: [64, "],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(", at 0 (Linear);") || stderr.contains(", at 2 (Linear);"),
        "{stderr}"
    );
    // without the flag, the same run stops when the loss itself is NaN: not before
    let plain = run(&bin, &flags[..6]);
    let plain_err = String::from_utf8_lossy(&plain.stderr);
    let step = |s: &str| -> usize {
        let rest = s.split("step ").nth(1).expect("a step number");
        rest.split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(step(&stderr) <= step(&plain_err), "{stderr}\n{plain_err}");
}
