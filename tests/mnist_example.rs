//! The `mnist` example end to end, on a small synthetic data set: the metrics
//! file and the report make sense, a resumed run equals an uninterrupted one, checkpoints from
//! another architecture and truncated ones are refused, and bad input ends the real program
//! with `error: …` and exit status 2.
//!
//! Most tests call the example's `train` — what its `main` calls, with its loop — in this
//! process (the example's file is a module of this test); one checks that `minidl::lab::run`,
//! the library's loop, makes the same runs; the exit-status tests run the example's binary,
//! built by `cargo build --example mnist` with the profile and target folder of this test.

mod common;
use common::{example_binary, TempDir};

#[allow(dead_code)] // its `main`
#[path = "../examples/mnist.rs"]
mod mnist;

use std::path::Path;
use std::process::Command;

use clap::Parser;
use minidl::cli::LabArgs;
use minidl::lab::{self, LabError, RunConfig, Trainer};
use minidl::metrics::{read_jsonl, EpochMetrics, RunHistory};
use minidl::report::CHART_FILES;

/// The small run every test starts from: 2000 synthetic training images, a 784-32-10 MLP.
const SMALL: [&str; 8] = [
    "--dataset",
    "synthetic",
    "--limit-train",
    "2000",
    "--hidden",
    "32",
    "--epochs",
    "2",
];

/// The small run's flags, with `extra` after them (a later flag wins).
fn args(extra: &[&str]) -> LabArgs {
    let all = ["mnist"].iter().chain(&SMALL).chain(extra);
    LabArgs::try_parse_from(all).expect("valid flags")
}

/// Runs the example in this process; returns its result and what it printed.
fn run(extra: &[&str]) -> (Result<Vec<RunHistory>, LabError>, String) {
    let mut out = Vec::new();
    let result = mnist::train(&args(extra), &mut out);
    (result, String::from_utf8(out).unwrap())
}

fn run_ok(extra: &[&str]) -> (Vec<RunHistory>, String) {
    let (result, out) = run(extra);
    match result {
        Ok(h) => (h, out),
        Err(e) => panic!("{e}\n{out}"),
    }
}

/// An epoch's record without its timings (the only fields that differ between equal runs).
fn untimed(m: &EpochMetrics) -> EpochMetrics {
    EpochMetrics {
        seconds: 0.0,
        samples_per_sec: 0.0,
        ..m.clone()
    }
}

#[test]
fn metrics_file_and_report_make_sense() {
    let t = TempDir::new("report");
    let (metrics, report) = (t.path("runs/m.jsonl"), t.path("out"));
    let (runs, out) = run_ok(&[
        "--compare",
        "relu,sigmoid",
        "--metrics",
        &metrics,
        "--report",
        &report,
        "--quiet",
    ]);
    assert_eq!(runs.len(), 2);
    assert!(
        out.contains("data: synthetic digits: 2000 training and 10000 test images"),
        "{out}"
    );
    assert!(out.contains("model: MLP 784-32-10"), "{out}");
    assert!(out.contains("relu  epoch 2  train loss"), "{out}");
    assert!(
        out.contains("activation  epochs  test acc"),
        "comparison table:\n{out}"
    );

    // One valid JSON object per epoch per activation, with the documented fields.
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in minidl::metrics::EPOCH_KEYS {
            assert!(v.get(key).is_some(), "no {key} in {line}");
        }
        for layer in v["layers"].as_array().unwrap() {
            for key in minidl::metrics::LAYER_KEYS {
                assert!(layer.get(key).is_some(), "no {key} in {layer}");
            }
        }
    }
    let records = read_jsonl(&metrics).unwrap();
    let order: Vec<(&str, usize)> = records
        .iter()
        .map(|r| (r.activation.as_str(), r.epoch))
        .collect();
    assert_eq!(
        order,
        [("relu", 1), ("relu", 2), ("sigmoid", 1), ("sigmoid", 2)]
    );
    for pair in records.chunks(2) {
        let (e1, e2) = (&pair[0], &pair[1]);
        for r in pair {
            assert!(r.train_loss.is_finite() && r.test_loss.is_finite(), "{r:?}");
            assert!((0.0..=1.0).contains(&r.test_accuracy), "{r:?}");
            assert!(r.test_accuracy > 0.3, "far above chance (0.1): {r:?}");
            assert!(r.seconds > 0.0 && r.samples_per_sec > 0.0, "{r:?}");
            assert_eq!(r.steps, 32 * r.epoch, "2000 images in batches of 64");
            let names: Vec<&str> = r.layers.iter().map(|l| l.name.as_str()).collect();
            assert_eq!(names, ["0.weight", "1", "2.weight"]);
            let (w, act) = (&r.layers[0], &r.layers[1]);
            assert!(
                w.grad_norm.unwrap() > 0.0 && w.dead_fraction.is_none(),
                "{w:?}"
            );
            let dead = act.dead_fraction.unwrap();
            let saturated = act.saturated_fraction.unwrap();
            assert!((0.0..=1.0).contains(&dead) && (0.0..=1.0).contains(&saturated));
            assert!(act.std.unwrap() > 0.0 && act.grad_norm.is_none(), "{act:?}");
        }
        assert!(e2.train_loss < e1.train_loss, "loss falls: {e1:?} {e2:?}");
        assert!(
            e2.test_loss < e1.test_loss,
            "test loss falls: {e1:?} {e2:?}"
        );
    }
    // Sigmoid never outputs exactly 0: no dead units; its mean output is positive.
    let sigmoid = &records[3].layers[1];
    assert_eq!(sigmoid.dead_fraction, Some(0.0));
    assert!(sigmoid.mean.unwrap() > 0.0);
    // The histories returned are the file's records, with every step's loss.
    let untimed_all = |v: &[EpochMetrics]| v.iter().map(untimed).collect::<Vec<_>>();
    assert_eq!(untimed_all(&runs[1].epochs), untimed_all(&records[2..]));
    assert_eq!(runs[0].step_losses.len(), 64);

    // The report folder: four charts and the page.
    for file in CHART_FILES {
        let svg = std::fs::read_to_string(Path::new(&report).join(file)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("sigmoid"), "{file}");
    }
    let html = std::fs::read_to_string(Path::new(&report).join("index.html")).unwrap();
    assert!(
        html.contains("<td>activations</td><td>relu, sigmoid</td>"),
        "{html}"
    );
    assert!(
        out.contains(&format!("report: {report}/index.html")),
        "{out}"
    );
}

#[test]
fn a_formula_trains_like_a_registered_activation() {
    // Mish written as a formula and the registered mish, from the same seed: the same
    // weights, the same data order and the same function, evaluated by the formula's
    // interpreter or by the fused kernel, which round differently in the last bits of f32.
    let formula = "x * tanh(softplus(x))";
    let (runs, out) = run_ok(&[
        "--epochs",
        "1",
        "--compare",
        &format!("{formula};mish"),
        "--quiet",
    ]);
    assert!(
        out.contains(&format!("{formula}  epoch 1  train loss")),
        "{out}"
    );
    let (f, m) = (&runs[0].epochs[0], &runs[1].epochs[0]);
    assert_eq!(
        (runs[0].activation.as_str(), runs[1].activation.as_str()),
        (formula, "mish")
    );
    assert!(f.test_accuracy > 0.3, "{f:?}");
    assert_eq!(f.layers[1].name, "1");
    assert!(
        f.layers[1].std.unwrap() > 0.0,
        "the formula layer is probed: {f:?}"
    );
    // 32 steps apart only by rounding: every step's loss within 1e-4 of the other's (a
    // different function, e.g. swish for mish, is 1e-2 apart already at the first step).
    assert_eq!(runs[0].step_losses.len(), runs[1].step_losses.len());
    for (&(step, a), &(_, b)) in runs[0].step_losses.iter().zip(&runs[1].step_losses) {
        assert!((a - b).abs() < 1e-4, "step {step}: formula {a}, mish {b}");
    }
    assert!((f.test_loss - m.test_loss).abs() < 1e-4, "{f:?}\n{m:?}");
    assert!(
        (f.test_accuracy - m.test_accuracy).abs() <= 0.002,
        "{f:?}\n{m:?}"
    );
    let (fs, ms) = (&f.layers[1], &m.layers[1]);
    assert!(
        (fs.mean.unwrap() - ms.mean.unwrap()).abs() < 1e-3,
        "{fs:?}\n{ms:?}"
    );
}

#[test]
fn the_library_loop_makes_the_same_runs_as_the_example() {
    // lab::run trains with the Trainer's loop; the example writes its own with the same
    // pieces. Every flag that changes a step: momentum (state), a per-epoch decay, a
    // learnable and a randomised activation, anomaly mode, --init, the CNN.
    let mlp = args(&[
        "--compare",
        "relu;swish:learnable;rrelu",
        "--optimizer",
        "momentum",
        "--lr-decay",
        "0.5",
        "--detect-anomaly",
    ]);
    let cnn = LabArgs::try_parse_from([
        "mnist",
        "--dataset",
        "synthetic",
        "--limit-train",
        "256",
        "--epochs",
        "1",
        "--model",
        "cnn",
        "--init",
        "kaiming",
    ])
    .unwrap();
    // the lines without their timings (the columns that end in "s" or "/s")
    let timeless = |out: Vec<u8>| -> Vec<String> {
        let out = String::from_utf8(out).unwrap();
        let columns = |l: &str| -> String {
            l.split("  ")
                .filter(|c| !c.ends_with(" s") && !c.ends_with("/s"))
                .collect::<Vec<_>>()
                .join("  ")
        };
        out.lines().map(columns).collect()
    };
    // several seeds: each activation once per seed
    let seeds = args(&["--compare", "relu,tanh", "--seeds", "4,1", "--epochs", "1"]);
    for args in [mlp, cnn, seeds] {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let example = mnist::train(&args, &mut a).unwrap();
        let library = lab::run(&args, &mut b).unwrap();
        assert_eq!(example.len(), library.len());
        for (x, y) in example.iter().zip(&library) {
            assert_same_run(x, y);
        }
        assert_eq!(timeless(a), timeless(b));
    }
}

#[test]
fn seeds_train_every_activation_once_per_seed_and_compare_them() {
    let t = TempDir::new("seeds");
    let (metrics, report) = (t.path("m.jsonl"), t.path("out"));
    let (runs, out) = run_ok(&[
        "--compare",
        "relu,sigmoid",
        "--seeds",
        "3",
        "--epochs",
        "1",
        "--metrics",
        &metrics,
        "--report",
        &report,
        "--quiet",
    ]);
    // seed after seed, every activation from each: 3 × 2 runs, a metrics line each
    let order = [
        ("relu", 0),
        ("sigmoid", 0),
        ("relu", 1),
        ("sigmoid", 1),
        ("relu", 2),
        ("sigmoid", 2),
    ];
    let ran: Vec<(&str, u64)> = runs
        .iter()
        .map(|r| (r.activation.as_str(), r.seed))
        .collect();
    assert_eq!(ran, order);
    let text = std::fs::read_to_string(&metrics).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let written: Vec<(&str, u64)> = lines
        .iter()
        .map(|v| {
            (
                v["activation"].as_str().unwrap(),
                v["seed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(written, order, "{text}");
    assert!(out.contains("1 epoch, seeds 0,1,2\n"), "{out}");
    assert!(
        out.contains("\nseed 1  sigmoid  epoch 1  train loss "),
        "{out}"
    );

    // a seed's run is the run of that --seed alone: the same weights and data order
    let (alone, _) = run_ok(&["--activation", "sigmoid", "--seed", "1", "--epochs", "1"]);
    assert_same_run(&runs[3], &alone[0]);
    assert_ne!(runs[1].step_losses, runs[3].step_losses, "seeds differ");

    // the table: mean ± std per activation, the verdict the per-seed accuracies give
    let row = |name: &str| -> &str {
        let prefix = format!("{name} ");
        out.lines().find(|l| l.starts_with(&prefix)).unwrap()
    };
    assert!(
        row("relu").contains(" ± ") && row("relu").ends_with("  baseline"),
        "{out}"
    );
    let accuracy = |name: &str| -> Vec<f32> {
        runs.iter()
            .filter(|r| r.activation == name)
            .map(|r| r.epochs[0].test_accuracy)
            .collect()
    };
    let c = minidl::stats::compare(&accuracy("sigmoid"), &accuracy("relu"));
    assert!(c.p.is_finite(), "{c:?}");
    let verdict = format!("  {}, p ", c.verdict);
    assert!(row("sigmoid").contains(&verdict), "{verdict:?} in\n{out}");
    let footer = format!(
        "mean ± sample std over 3 seeds (0,1,2); verdict: final test accuracy against relu (the \
         first listed) by {}",
        minidl::stats::TEST_NAME
    );
    assert!(out.contains(&format!("\n{footer}\n")), "{out}");

    // the report: the same table, and a band per activation in the charts (one epoch: a bar)
    let html = std::fs::read_to_string(Path::new(&report).join("index.html")).unwrap();
    let escaped = footer.replace('\'', "&#39;").replace('<', "&lt;");
    assert!(html.contains(&escaped), "{html}");
    let chart = |f: &str| std::fs::read_to_string(Path::new(&report).join(f)).unwrap();
    assert_eq!(chart("loss.svg").matches("<polygon").count(), 2);
    assert_eq!(
        chart("accuracy.svg")
            .matches("<line opacity=\"0.6\"")
            .count(),
        2 * 3,
        "a bar (whisker and two caps) per activation"
    );
}

#[test]
fn seeds_flags_that_cannot_work_are_refused_before_training() {
    let bin = example_binary();
    let cases: [(&[&str], &str); 6] = [
        (&["--seeds", "0"], "error: invalid value '0' for '--seeds"),
        (
            &["--seeds", "1,x"],
            "error: invalid value '1,x' for '--seeds",
        ),
        (
            &["--seeds", "1,,2"],
            "error: invalid value '1,,2' for '--seeds",
        ),
        (&["--seeds", "3,1,3"], "error: --seeds: 3 is given twice"),
        (
            &["--seed", "4", "--seeds", "2"],
            "error: the argument '--seed <N>' cannot be used with '--seeds",
        ),
        (
            &["--seeds", "2", "--save", "run.safetensors"],
            "error: --save and --resume hold one run: use them with one --seed, not with --seeds",
        ),
    ];
    for (extra, expected) in cases {
        let output = Command::new(&bin)
            .args(SMALL)
            .args(extra)
            .output()
            .expect("running the example");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.starts_with(expected), "{extra:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(output.stdout.is_empty(), "nothing trained: {extra:?}");
    }
}

#[test]
fn layer_tables_follow_each_epoch_line_unless_quiet() {
    let (_, out) = run_ok(&["--epochs", "1", "--activation", "swish:learnable"]);
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("swish:learnable  epoch 1"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(lines[at].contains("1.beta = "), "learned β shown: {out}");
    assert!(lines[at + 1].contains("dead %  saturated %"), "{out}");
    assert!(lines[at + 2].trim_start().starts_with("0.weight"), "{out}");
    assert!(lines[at + 3].trim_start().starts_with("1 "), "{out}");
    let (_, quiet) = run_ok(&["--epochs", "1", "--quiet"]);
    assert!(!quiet.contains("dead %"), "{quiet}");
}

/// What `--save` leaves behind when the run of `extra` is stopped after its first epoch (the
/// lab's own steps: train and evaluate one epoch, then save).
fn interrupted_after_one_epoch(extra: &[&str], path: &str) {
    let a = args(extra);
    let config = RunConfig::from_args(&a).unwrap();
    let data = lab::load_data(&a.data, &mut Vec::new()).unwrap();
    let mut trainer = Trainer::new(&config, &a.activation, &data).unwrap();
    trainer.run_epoch(&data);
    trainer.save(Path::new(path), &data).unwrap();
}

/// The tensors of a checkpoint as bits, by name.
fn checkpoint_bits(path: &str) -> Vec<(String, Vec<u32>)> {
    minidl::nn::state::load(path)
        .unwrap()
        .tensors
        .into_iter()
        .map(|(n, t)| (n, t.data().iter().map(|v| v.to_bits()).collect()))
        .collect()
}

fn assert_same_run(a: &RunHistory, b: &RunHistory) {
    assert_eq!(a.epochs.len(), b.epochs.len());
    for (x, y) in a.epochs.iter().zip(&b.epochs) {
        assert_eq!(untimed(x), untimed(y));
    }
    assert_eq!(a.step_losses, b.step_losses);
}

/// A learnable activation's value changes as it trains: the checkpoint must still match the
/// model a resumed run builds afresh (it once compared the printed models, trained values and
/// all, and refused every such checkpoint).
#[test]
fn a_run_with_a_learnable_activation_resumes() {
    let t = TempDir::new("resume-learnable");
    let (whole, half) = (t.path("whole.st"), t.path("half.st"));
    let common = ["--activation", "elu:alpha=learnable", "--lr-decay", "0.5"];
    let (uninterrupted, _) = run_ok(&[&common[..], &["--save", &whole]].concat());
    interrupted_after_one_epoch(&common, &half);
    let (resumed, out) = run_ok(&[&common[..], &["--resume", &half]].concat());
    assert!(
        out.contains("resumed elu:alpha=learnable at epoch 1"),
        "{out}"
    );
    assert_same_run(&uninterrupted[0], &resumed[0]);
    // the learnt alphas travelled: they are not at their start of 1
    let alphas = &resumed[0].epochs[1].params;
    assert!(
        !alphas.is_empty() && alphas.values().all(|&a| a != 1.0),
        "{alphas:?}"
    );
}

#[test]
fn resumed_run_equals_uninterrupted_run() {
    let t = TempDir::new("resume");
    let (whole, half, ms) = (t.path("whole.st"), t.path("half.st"), t.path("m.jsonl"));
    // Momentum SGD: its state (the velocity) must travel with the checkpoint; the default
    // cosine learning rate spans both epochs.
    let common = ["--optimizer", "momentum", "--activation", "elu"];
    let (uninterrupted, _) = run_ok(&[&common[..], &["--save", &whole]].concat());
    interrupted_after_one_epoch(&common, &half);
    let (resumed, out) = run_ok(
        &[
            &common[..],
            &["--resume", &half, "--save", &half, "--metrics", &ms],
        ]
        .concat(),
    );
    assert!(
        out.contains("resumed elu at epoch 1 (step 32) from"),
        "{out}"
    );
    assert!(
        !out.contains("epoch 1  train loss"),
        "epoch 1 not trained again: {out}"
    );
    assert_same_run(&uninterrupted[0], &resumed[0]);
    assert_eq!(resumed[0].epochs.len(), 2);
    // The metrics file of the resumed run holds both epochs.
    let records = read_jsonl(&ms).unwrap();
    assert_eq!(
        records.iter().map(untimed).collect::<Vec<_>>(),
        resumed[0].epochs.iter().map(untimed).collect::<Vec<_>>()
    );
    // The final weights and optimizer state are the same, bit for bit.
    assert_eq!(checkpoint_bits(&whole), checkpoint_bits(&half));
    let meta = minidl::nn::state::load(&whole).unwrap().metadata;
    assert_eq!((meta["epoch"].as_str(), meta["step"].as_str()), ("2", "64"));

    // A checkpoint that already holds every epoch: nothing to train.
    let (done, out) = run_ok(&[&common[..], &["--resume", &whole]].concat());
    assert!(out.contains("nothing to train"), "{out}");
    assert_same_run(&uninterrupted[0], &done[0]);

    // The cosine curve spans the planned epochs: another --epochs is refused.
    let (result, _) = run(&[&common[..], &["--epochs", "3", "--resume", &whole]].concat());
    let msg = result.unwrap_err().to_string();
    assert!(
        msg.contains("planned epochs 2 in the checkpoint, 3 here"),
        "{msg}"
    );
    assert!(msg.contains("--lr-decay G"), "{msg}");
}

#[test]
fn a_run_with_a_per_epoch_decay_can_be_extended() {
    let t = TempDir::new("extend");
    let (whole, part) = (t.path("whole.st"), t.path("new/folder/part.st"));
    let common = ["--lr-decay", "0.5", "--activation", "mish"];
    let (uninterrupted, _) = run_ok(&[&common[..], &["--save", &whole]].concat());
    run_ok(&[&common[..], &["--epochs", "1", "--save", &part]].concat());
    let (extended, out) = run_ok(&[&common[..], &["--resume", &part, "--save", &part]].concat());
    assert!(out.contains("mish  epoch 2  train loss"), "{out}");
    assert_same_run(&uninterrupted[0], &extended[0]);
    assert_eq!(checkpoint_bits(&whole), checkpoint_bits(&part));
}

#[test]
fn checkpoints_from_another_run_are_refused_naming_the_difference() {
    let t = TempDir::new("refuse");
    let ckpt = t.path("c.st");
    run_ok(&["--epochs", "1", "--save", &ckpt]);

    let (result, _) = run(&["--hidden", "16", "--resume", &ckpt]);
    let err = result.unwrap_err();
    assert!(matches!(err, LabError::Resume { .. }), "{err}");
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "--resume: {ckpt}: saved from a different architecture"
        )),
        "{msg}"
    );
    assert!(
        msg.contains("model MLP 784-32-10 in the checkpoint, MLP 784-16-10 here"),
        "{msg}"
    );
    assert!(
        msg.contains("hidden sizes 32 in the checkpoint, 16 here"),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "one line: {msg}");

    let (result, _) = run(&[
        "--activation",
        "mish",
        "--optimizer",
        "sgd",
        "--resume",
        &ckpt,
    ]);
    let msg = result.unwrap_err().to_string();
    assert!(
        msg.contains("activation relu in the checkpoint, mish here"),
        "{msg}"
    );
    assert!(
        msg.contains("optimizer adam in the checkpoint, sgd here"),
        "{msg}"
    );

    // --save and --resume hold one run.
    let (result, _) = run(&["--compare", "relu,mish", "--resume", &ckpt]);
    let err = result.unwrap_err();
    assert!(
        err.to_string().contains("with a single --activation"),
        "{err}"
    );
}

#[test]
fn truncated_or_foreign_checkpoints_are_clear_errors() {
    let t = TempDir::new("truncated");
    let ckpt = t.path("c.st");
    run_ok(&["--epochs", "1", "--save", &ckpt]);
    let bytes = std::fs::read(&ckpt).unwrap();
    let cut = t.path("cut.st");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (result, _) = run(&["--resume", &cut]);
    let err = result.unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(msg.starts_with("--resume: checkpoint"), "{msg}");
    assert!(msg.contains("is truncated"), "{msg}");

    let (result, _) = run(&["--resume", &t.path("missing.st")]);
    assert!(result.unwrap_err().to_string().contains("missing.st"));

    // A safetensors file that --save did not write.
    let plain = t.path("plain.st");
    minidl::nn::state::save(&plain, &[], &Default::default()).unwrap();
    let (result, _) = run(&["--resume", &plain]);
    let msg = result.unwrap_err().to_string();
    assert!(msg.contains("not a checkpoint written by --save"), "{msg}");
}

#[test]
fn data_choice_messages() {
    let t = TempDir::new("data");
    let nowhere = t.path("no-mnist-here");
    // auto with a folder named: the folder is meant to be used, so its absence is an error
    // (the fallback to synthetic digits, with a note, is for an unnamed, empty data/mnist:
    // tests/bad_inputs/data.rs runs it in a folder of its own).
    for dataset in ["auto", "mnist"] {
        let (result, out) = run(&["--dataset", dataset, "--data-dir", &nowhere]);
        let err = result.unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "data: {nowhere}: expected the MNIST files, found no such folder"
            )),
            "{msg}"
        );
        assert!(
            msg.contains("--download") && msg.contains("--data-dir"),
            "{msg}"
        );
        assert!(out.is_empty(), "nothing trained: {out}");
    }
}

#[test]
fn bad_input_ends_the_program_with_an_error_message_and_status_2() {
    let bin = example_binary();
    let t = TempDir::new("exit");
    let file = t.path("a-file");
    std::fs::write(&file, "x").unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["--activation", "nosuch"],
            "error: --activation: unknown activation \"nosuch\"",
        ),
        (
            &["--compare", "relu,tanhh"],
            "error: --compare: unknown activation \"tanhh\" (did you mean \"tanh\"?)",
        ),
        (
            &["--activation", "x * tanh(softplu(x))"],
            "error: --activation: formula: unknown function \"softplu\"",
        ),
        (
            &["--report", &format!("{file}/report")],
            "error: --report: cannot write",
        ),
        (
            &["--dataset", "mnist", "--data-dir", &t.path("none")],
            "error: data: ",
        ),
        (
            &["--save", &format!("{file}/c.st")],
            "error: --save: cannot write",
        ),
    ];
    for (extra, expected) in cases {
        let output = Command::new(&bin)
            .args(SMALL)
            .args(extra)
            .output()
            .expect("running the example");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.starts_with(expected), "{extra:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(output.stdout.is_empty(), "nothing trained: {extra:?}");
        if expected.contains("formula") {
            // The message, then the formula with a caret under the bad column.
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(lines.len(), 3, "{stderr}");
            assert_eq!(lines[1].trim(), "x * tanh(softplu(x))");
            assert_eq!(lines[2].find('^'), lines[1].find("softplu"), "{stderr}");
        } else {
            assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        }
        if expected.contains("unknown activation") {
            assert!(stderr.contains("valid names: relu,"), "{stderr}");
            assert!(stderr.contains("mish"), "{stderr}");
        }
    }
    // clap's own errors (a bad value) are status 2 too.
    let output = Command::new(&bin).args(["--epochs", "0"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}
