//! The other examples (`dead_relu`, `vanishing_gradients`, `convergence`, `regularisation`,
//! `bench`, `activations`, `custom_activation`, `autograd_tour`) on bad flags and sizes, and the
//! `mnist` example on sizes: every case ends with status 2 and one line, before any training.

use std::path::Path;
use std::process::{Command, Output};

use super::common::{example, TempDir};
use super::{assert_refused, run};

// `run` adds the mnist example's small setup (`--hidden 16`), used for the formula that trains

/// Runs an example's binary with `args` only.
fn run_bare(bin: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .output()
        .expect("running the example")
}

/// The phenomenon examples' small, fast setup: 256 synthetic training images, no bars.
const PHENOMENON: [&str; 5] = ["--dataset", "synthetic", "--limit-train", "256", "--quiet"];

/// Runs a phenomenon example with [`PHENOMENON`] and `args`.
fn run_small(bin: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(PHENOMENON)
        .args(args)
        .output()
        .expect("running the example")
}

/// (what, flags, the message's start, what it must also say)
type Case<'a> = (&'a str, Vec<&'a str>, &'a str, Vec<&'a str>);

fn check_all(bin: &Path, table: &[Case<'_>], runner: fn(&Path, &[&str]) -> Output) {
    for (what, flags, starts, contains) in table {
        let out = runner(bin, flags);
        assert_refused(what, &out, starts, contains);
    }
}

/// Four raw IDX files of `n` training and `n` test images of `side`×`side` pixels in `dir`.
fn write_idx(dir: &Path, side: u32, n: u32) {
    let images = |n: u32| {
        let mut b = vec![0, 0, 8, 3];
        for d in [n, side, side] {
            b.extend(d.to_be_bytes());
        }
        b.extend((0..n * side * side).map(|i| (i * 7 % 256) as u8));
        b
    };
    let labels = |n: u32| {
        let mut b = vec![0, 0, 8, 1];
        b.extend(n.to_be_bytes());
        b.extend((0..n).map(|i| (i % 10) as u8));
        b
    };
    std::fs::write(dir.join("train-images-idx3-ubyte"), images(n)).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), labels(n)).unwrap();
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), images(n)).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), labels(n)).unwrap();
}

const WHOLE: &str = "expected a whole number of at least 1";
const POSITIVE: &str = "expected a positive number such as 0.001";

#[test]
fn mnist_refuses_sizes_above_the_limits_before_allocating() {
    let bin = example("mnist");
    let t = TempDir::new("sizes");
    let tiny = Path::new(&t.path("1x1")).to_path_buf();
    std::fs::create_dir_all(&tiny).unwrap();
    write_idx(&tiny, 1, 20);
    let three = Path::new(&t.path("3x3")).to_path_buf();
    std::fs::create_dir_all(&three).unwrap();
    write_idx(&three, 3, 20);
    let (tiny, three) = (t.path("1x1"), t.path("3x3"));
    let deep = format!("{}x{}", "(".repeat(65), ")".repeat(65));
    let table: Vec<Case<'_>> =
        vec![
        (
            "hidden width 2^64 - 1 (was a capacity overflow)",
            vec!["--hidden", "18446744073709551615"],
            "error: --hidden 18446744073709551615: these hidden layers alone have about 5.5e19 \
             parameters",
            vec!["the limit is 67108864 (256 MiB)", "narrower or fewer layers"],
        ),
        (
            "hidden width 10^7 (was an abort on allocation)",
            vec!["--hidden", "10000000"],
            "error: model: MLP 784-10000000-10 would have 7950000010 parameters",
            vec!["29.6 GiB", "the limit is 67108864", "--hidden"],
        ),
        (
            "hidden widths whose product overflows",
            vec!["--hidden", "4294967296,4294967296,4294967296"],
            "error: --hidden 4294967296,4294967296,4294967296: these hidden layers alone",
            vec!["the limit is 67108864"],
        ),
        (
            "depth 2^64 - 1",
            vec!["--depth", "18446744073709551615"],
            "error: --depth 18446744073709551615 --width 64: 18446744073709551615 hidden \
             layers; the limit is 1000",
            vec!["choose fewer layers"],
        ),
        (
            "deep and narrow (did not finish an epoch in minutes)",
            vec!["--depth", "100000", "--width", "1"],
            "error: --depth 100000 --width 1: 100000 hidden layers; the limit is 1000",
            vec![],
        ),
        (
            "deep and wide",
            vec!["--depth", "100", "--width", "5000"],
            "error: --depth 100 --width 5000: 100 hidden layers of 5000 have at least",
            vec!["the limit is 67108864"],
        ),
        (
            "a batch whose layer outputs exceed the limit",
            vec![
                "--hidden",
                "60000",
                "--limit-train",
                "3000",
                "--batch-size",
                "3000",
            ],
            "error: --batch-size: a batch of 3000 images through the MLP 784-60000-10 holds",
            vec!["the limit is 134217728 (512 MiB)", "use --batch-size 1111 or less"],
        ),
        (
            "CNN on 1×1 images (was a panic)",
            vec![
                "--dataset",
                "mnist",
                "--data-dir",
                &tiny,
                "--model",
                "cnn",
                "--epochs",
                "1",
            ],
            "error: --model cnn: the CNN halves the image 2 times, so it needs images of at \
             least 4×4 pixels, and these are 1×1",
            vec!["use --model mlp"],
        ),
        (
            "CNN on 3×3 images",
            vec![
                "--dataset",
                "mnist",
                "--data-dir",
                &three,
                "--model",
                "cnn",
                "--epochs",
                "1",
            ],
            "error: --model cnn: ",
            vec!["at least 4×4 pixels", "these are 3×3"],
        ),
        (
            "epochs above the limit",
            vec!["--epochs", "18446744073709551616"],
            "error: invalid value '18446744073709551616' for '--epochs <N>'",
            vec!["from 1 to 10000"],
        ),
        (
            "threads above the limit",
            vec!["--threads", "100000"],
            "error: invalid value '100000' for '--threads <N>'",
            vec!["from 1 to 256"],
        ),
        (
            "negative seed",
            vec!["--seed", "-1"],
            "error: invalid value '-1' for '--seed <N>'",
            vec!["from 0 to 18446744073709551615"],
        ),
        (
            "negative hidden width",
            vec!["--hidden", "-16"],
            "error: invalid value '-16' for '--hidden <W,W,...>'",
            vec![WHOLE],
        ),
        (
            "empty hidden width",
            vec!["--hidden", "16,"],
            "error: invalid value '' for '--hidden <W,W,...>'",
            vec![WHOLE],
        ),
        (
            "nesting above the limit",
            vec!["--activation", &deep],
            "error: --activation: formula: nested more than 64 levels deep",
            vec!["write a flatter formula"],
        ),
    ];
    // without the small run's --hidden, which --depth conflicts with
    check_all(&bin, &table, run_small);
    // 32 nested parentheses train (they were refused with "more than 64 levels")
    let nested = format!("{}x{}", "(".repeat(32), ")".repeat(32));
    let out = run(&bin, &["--epochs", "1", "--activation", &nested]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_phenomenon_examples_check_every_flag_before_training() {
    let dead = example("dead_relu");
    let many_seeds: String = (0..101)
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(",");
    check_all(
        &dead,
        &[
            (
                "dead_relu --epochs 0 (was a panic)",
                vec!["--epochs", "0"],
                "error: invalid value '0' for '--epochs",
                vec![WHOLE],
            ),
            (
                "dead_relu --epochs -1",
                vec!["--epochs", "-1"],
                "error: invalid value '-1' for '--epochs",
                vec![WHOLE],
            ),
            (
                "dead_relu --epochs 2^64",
                vec!["--epochs", "18446744073709551616"],
                "error: invalid value '18446744073709551616' for '--epochs",
                vec!["from 1 to 10000"],
            ),
            (
                "dead_relu seed twice",
                vec!["--seeds", "0,0"],
                "error: --seeds: 0 is given twice",
                vec!["list each one once"],
            ),
            (
                "dead_relu 101 seeds",
                vec!["--seeds", &many_seeds],
                "error: --seeds: 101 items; the limit is 100",
                vec!["give fewer"],
            ),
            (
                "dead_relu negative seed",
                vec!["--seeds", "0,-1"],
                "error: invalid value '0,-1' for '--seeds",
                vec!["from 0 to"],
            ),
            (
                "dead_relu negative seed count",
                vec!["--seeds", "-1"],
                "error: invalid value '-1' for '--seeds",
                vec!["give a count of seeds or a list such as 0,1,2"],
            ),
            (
                "dead_relu no activation",
                vec!["--activations", ""],
                "error: --activations: no activation given",
                vec!["--activations relu,mish"],
            ),
            (
                "dead_relu activation twice",
                vec!["--activations", "relu,relu"],
                "error: --activations: relu is given twice",
                vec![],
            ),
            (
                "dead_relu unknown activation",
                vec!["--activations", "relu,mihs"],
                "error: --activations: unknown activation \"mihs\"",
                vec!["did you mean \"mish\""],
            ),
        ],
        run_small,
    );

    let vanishing = example("vanishing_gradients");
    check_all(
        &vanishing,
        &[
            (
                "vanishing --epochs 0",
                vec!["--epochs", "0"],
                "error: invalid value '0' for '--epochs",
                vec![WHOLE],
            ),
            (
                "vanishing --depth 0",
                vec!["--depth", "0"],
                "error: invalid value '0' for '--depth",
                vec![WHOLE],
            ),
            (
                "vanishing --width 0",
                vec!["--width", "0"],
                "error: invalid value '0' for '--width",
                vec![WHOLE],
            ),
            (
                "vanishing --lr 0",
                vec!["--lr", "0"],
                "error: invalid value '0' for '--lr",
                vec![POSITIVE],
            ),
            (
                "vanishing --lr nan",
                vec!["--lr", "nan"],
                "error: invalid value 'nan' for '--lr",
                vec![POSITIVE],
            ),
            (
                "vanishing --lr -1",
                vec!["--lr", "-1"],
                "error: invalid value '-1' for '--lr",
                vec![POSITIVE],
            ),
            (
                "vanishing --depth 2^64 - 1",
                vec!["--depth", "18446744073709551615"],
                "error: --depth 18446744073709551615 --width 64: ",
                vec!["the limit is 1000", "choose fewer layers"],
            ),
            (
                "vanishing --width 10^7",
                vec!["--width", "10000000"],
                "error: --depth 9 --width 10000000: ",
                vec!["the limit is 67108864"],
            ),
            (
                "vanishing init twice",
                vec!["--inits", "default,default"],
                "error: --inits: default is given twice",
                vec![],
            ),
            (
                "vanishing seed twice",
                vec!["--seeds", "1,1"],
                "error: --seeds: 1 is given twice",
                vec![],
            ),
            (
                "vanishing seed count 0",
                vec!["--seeds", "0"],
                "error: invalid value '0' for '--seeds",
                vec!["a list such as 0,1,2"],
            ),
        ],
        run_small,
    );

    let convergence = example("convergence");
    check_all(
        &convergence,
        &[
            (
                "convergence --at 0 (was a panic)",
                vec!["--at", "0"],
                "error: invalid value '0' for '--at",
                vec![WHOLE],
            ),
            (
                "convergence --lr 0",
                vec!["--lr", "0"],
                "error: invalid value '0' for '--lr",
                vec![POSITIVE],
            ),
            (
                "convergence --lr inf",
                vec!["--lr", "inf"],
                "error: invalid value 'inf' for '--lr",
                vec![POSITIVE],
            ),
            (
                "convergence --epochs 0",
                vec!["--epochs", "0"],
                "error: invalid value '0' for '--epochs",
                vec![WHOLE],
            ),
            (
                "convergence --at 2^64 - 1",
                vec!["--at", "18446744073709551615"],
                "error: invalid value '18446744073709551615' for '--at",
                vec!["from 1 to 1000000"],
            ),
            (
                "convergence --at more epochs than the limit",
                vec!["--at", "100000"],
                "error: --at: 100000 steps of 4 per epoch are 25000 epochs",
                vec!["the limit is 10000"],
            ),
            (
                "convergence step twice",
                vec!["--at", "2,2"],
                "error: --at: 2 is given twice",
                vec![],
            ),
            (
                "convergence every step past the run",
                vec!["--epochs", "1", "--at", "500"],
                "error: --at: every step given is past the run's 4 steps",
                vec!["measure at 4 or fewer"],
            ),
            (
                "convergence seed twice",
                vec!["--seeds", "3,3"],
                "error: --seeds: 3 is given twice",
                vec![],
            ),
        ],
        run_small,
    );

    let regularisation = example("regularisation");
    check_all(
        &regularisation,
        &[
            (
                "regularisation seed twice",
                vec!["--seeds", "2,2"],
                "error: --seeds: 2 is given twice",
                vec![],
            ),
            (
                "regularisation --epochs 0",
                vec!["--epochs", "0"],
                "error: invalid value '0' for '--epochs",
                vec![],
            ),
            (
                "regularisation --lr -1",
                vec!["--lr", "-1"],
                "error: invalid value '-1' for '--lr",
                vec![],
            ),
            (
                "regularisation unknown activation",
                vec!["--activations", "relu,rrelux"],
                "error: --activations: ",
                vec!["rrelu"],
            ),
        ],
        run_small,
    );
    // (without the small setup, whose --limit-train would be given twice)
    check_all(
        &regularisation,
        &[(
            "regularisation limit 0",
            vec!["--dataset", "synthetic", "--limit-train", "0"],
            "error: invalid value '0' for '--limit-train <N>'",
            vec!["at least 1"],
        )],
        run_bare,
    );
}

#[test]
fn bench_checks_its_flags_and_sizes_before_allocating() {
    let bench = example("bench");
    check_all(
        &bench,
        &[
            (
                "bench batch 2^64 - 1",
                vec!["--batch-size", "18446744073709551615", "--steps", "1"],
                "error: --batch-size: a batch of 18446744073709551615 images",
                vec!["the limit is 134217728", "use --batch-size"],
            ),
            (
                "bench batch whose random images exceed the limit",
                vec!["--batch-size", "5000", "--steps", "1"],
                "error: --batch-size 5000: the bench cycles 64 batches",
                vec!["use --batch-size 2674 or less"],
            ),
            (
                "bench batch 0",
                vec!["--batch-size", "0"],
                "error: invalid value '0' for '--batch-size",
                vec![WHOLE],
            ),
            (
                "bench hidden 10^7",
                vec!["--hidden", "10000000"],
                "error: model: MLP 784-10000000-10 would have 7950000010 parameters",
                vec!["(--hidden)"],
            ),
            (
                "bench hidden 0",
                vec!["--hidden", "0"],
                "error: invalid value '0' for '--hidden",
                vec![WHOLE],
            ),
            (
                "bench threads 1000",
                vec!["--threads", "1000"],
                "error: invalid value '1000' for '--threads",
                vec!["from 1 to 256"],
            ),
            (
                "bench steps 0",
                vec!["--steps", "0"],
                "error: invalid value '0' for '--steps",
                vec![WHOLE],
            ),
            (
                "bench steps 2^64 - 1",
                vec!["--steps", "18446744073709551615"],
                "error: invalid value '18446744073709551615' for '--steps",
                vec!["from 1 to 1000000"],
            ),
            (
                "bench unknown activation",
                vec!["--activation", "mihs"],
                "error: --activation: unknown activation \"mihs\"",
                vec!["did you mean \"mish\""],
            ),
            (
                "bench gated activation",
                vec!["--activation", "glu", "--steps", "1"],
                "error: activation glu: does not fit the network: ",
                vec!["halve the width"],
            ),
            (
                "bench compute limit of a CNN",
                vec!["--model", "cnn", "--limit"],
                "error: --limit measures the compute limit of an MLP",
                vec!["--model mlp"],
            ),
            (
                "bench search of 0 candidates",
                vec!["--model", "search", "--candidates", "0"],
                "error: invalid value '0' for '--candidates",
                vec![WHOLE],
            ),
            (
                "bench search of more candidates than the list holds",
                vec!["--model", "search", "--candidates", "100000"],
                "error: invalid value '100000' for '--candidates",
                vec!["from 1 to 1343"],
            ),
        ],
        run_bare,
    );
}

/// The value of `key=<float>` in the bench's output.
fn bench_value(stdout: &str, key: &str) -> f64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= line in {stdout:?}"))
        .parse()
        .expect("a number")
}

#[test]
fn bench_prints_the_compute_limit_and_the_search_rate() {
    let bench = example("bench");
    let out = run_bare(&bench, &["--steps", "2", "--threads", "1", "--limit"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    // the MLP 784-128-64-10: 2·(3·(784·128 + 128·64 + 64·10) − 784·128) FLOP per sample
    assert_eq!(bench_value(&text, "flop_per_sample"), 454_400.0);
    let (rate, peak) = (
        bench_value(&text, "samples_per_sec"),
        bench_value(&text, "gemm_peak_gflops"),
    );
    let limit = bench_value(&text, "compute_limit_samples_per_sec");
    assert!(rate > 0.0 && peak > 0.0, "{text}");
    // the peak is printed to 0.1 GFLOP/s, so the limit computed from it may be off by up to
    // 0.05e9 / 454,400 samples/s
    let slack = 0.05e9 / 454_400.0 + 0.1;
    assert!((limit - peak * 1e9 / 454_400.0).abs() <= slack, "{text}");
    let fraction = bench_value(&text, "fraction_of_limit");
    assert!((fraction - rate / limit).abs() <= 2e-3, "{text}");

    let out = run_bare(
        &bench,
        &["--model", "search", "--candidates", "2", "--threads", "2"],
    );
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(bench_value(&text, "candidates_per_min") > 0.0, "{text}");
    assert_eq!(text.lines().count(), 1, "one line: {text}");
}

#[test]
fn activations_errors_are_one_line_and_its_files_are_unique() {
    let bin = example("activations");
    let t = TempDir::new("activations");
    let file = t.path("a-file");
    std::fs::write(&file, "keep").unwrap();
    let under_file = format!("{file}/plots");
    check_all(
        &bin,
        &[
            (
                "nothing to do",
                vec![],
                "error: nothing to do: give --list",
                vec!["--csv"],
            ),
            (
                "a step that gives too many points (printed only the header)",
                vec!["--csv", "--step", "1e-30"],
                "error: --step 1e-30: gives 1.2e31 points from -6 to 6",
                vec!["the limit is 10000", "use a step of at least"],
            ),
            (
                "step 0",
                vec!["--csv", "--step", "0"],
                "error: --step 0.0: needs a positive, finite number",
                vec![],
            ),
            (
                "negative step",
                vec!["--csv", "--step", "-1"],
                "error: --step -1.0: needs a positive",
                vec![],
            ),
            (
                "describe a typo (was a Debug error and status 1)",
                vec!["--describe", "mysh"],
                "error: --describe: unknown activation \"mysh\" (did you mean \"mish\"?)",
                vec!["valid names: relu,"],
            ),
            (
                "a point that is not finite",
                vec!["--csv", "--x", "1,nan"],
                "error: --x: give finite numbers",
                vec![],
            ),
            (
                "x-min above x-max",
                vec!["--csv", "--x-min", "5", "--x-max", "1"],
                "error: --x-min 5 and --x-max 1",
                vec!["x-min ≤ x-max"],
            ),
            (
                "an activation twice",
                vec!["--csv", "--activation", "relu", "--activation", "relu"],
                "error: --activation: relu is given twice",
                vec![],
            ),
            (
                "a plot of one point",
                vec!["--plot", &t.path("one"), "--x-min", "1", "--x-max", "1"],
                "error: --plot: a curve needs at least two different x",
                vec![],
            ),
            (
                "a plot folder under a file",
                vec!["--plot", &under_file, "--activation", "relu"],
                "error: --plot: cannot write ",
                vec!["a-file"],
            ),
            (
                "a formula nested too deep",
                vec![
                    "--describe",
                    &format!("{}x{}", "(".repeat(65), ")".repeat(65)),
                ],
                "error: --describe: formula: nested more than 64 levels deep",
                vec![],
            ),
        ],
        run_bare,
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");

    // x/2 and x*2 were both drawn into x_2.svg
    let dir = t.path("plots");
    let out = run_bare(
        &bin,
        &[
            "--plot",
            &dir,
            "--activation",
            "x/2",
            "--activation",
            "x*2",
            "--activation",
            "relu",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "{files:?}");
    assert!(files.contains(&"relu.svg".to_string()), "{files:?}");
    assert_eq!(
        files.iter().filter(|f| f.starts_with("x_2-")).count(),
        2,
        "{files:?}"
    );
    let html = std::fs::read_to_string(Path::new(&dir).join("index.html")).unwrap();
    for f in files.iter().filter(|f| f.ends_with(".svg")) {
        assert!(html.contains(f.as_str()), "{f} not in index.html");
    }

    // the grid's bound is on the points, not on the step: a step that fits still prints them
    let out = run_bare(&bin, &["--csv", "--activation", "relu", "--step", "0.5"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1 + 25);
}

#[test]
fn the_tours_refuse_unknown_flags_and_bad_paths_in_one_line() {
    let t = TempDir::new("tours");
    let file = t.path("a-file");
    std::fs::write(&file, "keep").unwrap();
    let under_file = format!("{file}/graph.dot");
    let custom = example("custom_activation");
    check_all(
        &custom,
        &[(
            "custom_activation takes no flags",
            vec!["--steps", "3"],
            "error: unexpected argument '--steps'",
            vec![],
        )],
        run_bare,
    );
    let tour = example("autograd_tour");
    check_all(
        &tour,
        &[
            (
                "autograd_tour unknown flag",
                vec!["--nope"],
                "error: unexpected argument '--nope'",
                vec![],
            ),
            (
                "autograd_tour DOT under a file",
                vec!["--dot", &under_file],
                "error: --dot: cannot write ",
                vec!["a-file"],
            ),
        ],
        run_bare,
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");
}
