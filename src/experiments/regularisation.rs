//! Does RReLU regularise? The train/test accuracy gap of an MLP trained to overfit a small
//! training set, for relu, leaky_relu at RReLU's mean slope, and rrelu, over several seeds. The
//! program `examples/regularisation.rs` runs it; its documentation explains the setup and why.
//!
//! ```no_run
//! use clap::Parser;
//! use minidl::experiments::regularisation::{run, Args};
//!
//! let args = Args::parse_from(["regularisation", "--seeds", "5", "--quiet"]);
//! run(&args, &mut std::io::stdout()).unwrap();
//! ```

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Seeds;
use crate::lab::{Data, LabError, Trainer};
use crate::metrics::RunHistory;
use crate::report::text_table;
use crate::stats::{compare, Verdict};

use super::common::{
    list, mnist_config, once_each, p_value, pct, pct_spread, report, specs_and_data, verdict_basis,
    CommonArgs, Printed,
};

/// How many training images the experiment uses unless `--limit-train` says otherwise: few
/// enough that the MLP learns them by heart.
pub const DEFAULT_TRAIN_IMAGES: usize = 1000;

/// RReLU regularises? Train and test accuracy, and their gap, over seeds.
#[derive(Parser)]
pub struct Args {
    /// Activations to compare, comma-separated specs; the last is the one tested (its gap
    /// against each of the others'). The default leaky_relu slope is RReLU's mean slope,
    /// (1/8 + 1/3)/2 = 11/48.
    #[arg(long, default_value = "relu,leaky_relu:0.22916667,rrelu")]
    pub activations: String,
    /// Seeds (initial weights and data order): a count (`5` is seeds 0 to 4) or a list
    /// (`0,1,2`). RReLU draws its slopes from its own generator (its spec's `seed=`).
    #[arg(long, default_value = "3", value_parser = Seeds::parse, allow_negative_numbers = true)]
    pub seeds: Seeds,
    /// Epochs to train (enough to fit the small training set).
    #[arg(long, default_value_t = 20, value_parser = crate::cli::epochs, allow_negative_numbers = true)]
    pub epochs: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3, value_parser = crate::cli::positive_number, allow_negative_numbers = true)]
    pub lr: f32,
    /// The data set (`--limit-train` defaults to 1000 images here), `--report` and `--quiet`.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// One trained run: accuracies measured in evaluation mode at the end.
struct Run {
    spec: String,
    train_accuracy: f32,
    test_accuracy: f32,
    history: RunHistory,
}

impl Run {
    fn gap(&self) -> f32 {
        self.train_accuracy - self.test_accuracy
    }
}

/// The program: parses the command line (`std::env::args`) into [`Args`], runs [`run`] with
/// standard output, and ends with status 0, or 2 and one line on stderr for a bad flag, file
/// or spec ([`LabError::exit`]).
pub fn main() -> ExitCode {
    super::common::run_main(run)
}

/// [`main`] with the command line given (its first item is the program's name), returning the
/// exit status without ending the process ([`lab::main_with`](crate::lab::main_with)).
pub fn main_from<I, S>(args: I) -> ExitCode
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    crate::lab::main_with(args, run)
}

/// Trains every activation with every seed on the small training set, measures train and test
/// accuracy in evaluation mode, and prints the table and the conclusion to `out`.
///
/// # Errors
/// A [`LabError`] for a bad flag, activation spec, missing or corrupt data, or a report folder
/// that cannot be written.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<(), LabError> {
    let seeds = args.seeds.as_slice();
    once_each("--seeds", seeds)?;
    let mut data_args = args.common.data.clone();
    data_args.limit_train.get_or_insert(DEFAULT_TRAIN_IMAGES);
    let (specs, data) = specs_and_data(&args.activations, &data_args, out)?;
    writeln!(
        out,
        "MLP 784-256-256-10, Adam lr {}, batch 64, {} epochs on {} training images, seeds \
         {seeds:?}; accuracies measured in evaluation mode after the last epoch",
        args.lr,
        args.epochs,
        data.train.len()
    )?;
    let mut runs = Vec::new();
    for spec in &specs {
        for &seed in seeds {
            let r = train(spec, seed, args, &data)?;
            if !args.common.quiet {
                writeln!(
                    out,
                    "  {spec} seed {seed}: train {}, test {}, gap {}",
                    pct(r.train_accuracy),
                    pct(r.test_accuracy),
                    pct(r.gap())
                )?;
            }
            runs.push(r);
        }
    }
    writeln!(out)?;
    let mut out = Printed::new(out);
    out.block("Train and test accuracy", &results_table(&runs, &specs))?;
    let conclusion = conclusion(&runs, &specs, seeds.len());
    out.block("Conclusion", &format!("conclusion: {conclusion}"))?;
    if let Some(dir) = &args.common.report {
        let settings = vec![
            ("model".to_string(), "MLP 784-256-256-10".to_string()),
            (
                "optimizer".into(),
                format!("Adam lr {}, batch 64, {} epochs", args.lr, args.epochs),
            ),
            ("seeds".into(), format!("{seeds:?}")),
            (
                "data".into(),
                format!("{}, {} training images", data.description, data.train.len()),
            ),
        ];
        let histories: Vec<RunHistory> = runs.into_iter().map(|r| r.history).collect();
        let notes = out.take_notes();
        report(dir, &histories, &settings, &notes, out.out())?;
    }
    Ok(())
}

/// Trains `spec` with `seed`, then measures accuracy on the training images and the test
/// images, both in evaluation mode (RReLU at its mean slope).
fn train(spec: &str, seed: u64, args: &Args, data: &Data) -> Result<Run, LabError> {
    let flags = format!(
        "--hidden 256,256 --optimizer adam --lr {} --batch-size 64 --lr-decay 1 --epochs {} \
         --seed {seed}",
        args.lr, args.epochs
    );
    let mut config = mnist_config(&flags)?;
    config.quiet = args.common.quiet;
    let mut trainer = Trainer::new(&config, spec, data)?;
    while !trainer.is_finished() {
        trainer.run_epoch(data);
    }
    // The history's train accuracy is counted during training, in training mode (RReLU's
    // slopes random) and on a model that changes within the epoch; the gap wants both
    // accuracies measured alike, on the final model in evaluation mode.
    let train = trainer.evaluate(&data.train);
    let test = trainer.evaluate(&data.test);
    let mut history = trainer.into_history();
    if args.seeds.as_slice().len() > 1 {
        history.activation = format!("{spec} seed {seed}");
    }
    Ok(Run {
        spec: spec.to_string(),
        train_accuracy: train.accuracy,
        test_accuracy: test.accuracy,
        history,
    })
}

/// The per-seed values of `f` for `spec`.
fn values(runs: &[Run], spec: &str, f: impl Fn(&Run) -> f32) -> Vec<f32> {
    runs.iter().filter(|r| r.spec == spec).map(f).collect()
}

/// One row per activation: train accuracy, test accuracy and their gap, mean ± spread.
fn results_table(runs: &[Run], specs: &[String]) -> String {
    let headers = [
        "activation",
        "train acc (eval)",
        "test acc",
        "train - test gap",
    ];
    let rows: Vec<Vec<String>> = specs
        .iter()
        .map(|s| {
            vec![
                s.clone(),
                pct_spread(&values(runs, s, |r| r.train_accuracy)),
                pct_spread(&values(runs, s, |r| r.test_accuracy)),
                pct_spread(&values(runs, s, |r| r.gap())),
            ]
        })
        .collect();
    text_table(&headers, &rows, true)
}

/// Whether the last activation's gap (and test accuracy) differs from each other's by more
/// than the seeds' spread.
fn conclusion(runs: &[Run], specs: &[String], n_seeds: usize) -> String {
    let Some((subject, others)) = specs.split_last() else {
        return String::new();
    };
    let mut lines = Vec::new();
    let mut smaller = Vec::new();
    let mut not = Vec::new();
    for other in others {
        let c = compare(
            &values(runs, subject, |r| r.gap()),
            &values(runs, other, |r| r.gap()),
        );
        let t = compare(
            &values(runs, subject, |r| r.test_accuracy),
            &values(runs, other, |r| r.test_accuracy),
        );
        let said = match c.verdict {
            Verdict::Lower => "smaller, beyond the seeds' spread",
            Verdict::Higher => "larger, beyond the seeds' spread",
            Verdict::WithinSpread => "within the seeds' spread",
            Verdict::NeedSeeds => "not tested (one seed)",
        };
        let test = match t.verdict {
            Verdict::Higher => "higher",
            Verdict::Lower => "lower",
            Verdict::WithinSpread => "the same within the spread",
            Verdict::NeedSeeds => "not tested",
        };
        lines.push(format!(
            "{subject}'s gap vs {other}'s: {:+.1} points, {said} ({}); its test accuracy is \
             {test} ({:+.1} points, {})",
            c.diff * 100.0,
            p_value(&c),
            t.diff * 100.0,
            p_value(&t)
        ));
        if c.verdict == Verdict::Lower {
            smaller.push(other.clone());
        } else {
            not.push(other.clone());
        }
    }
    let claim = match (smaller.is_empty(), not.is_empty()) {
        (false, true) => format!(
            "\"{subject} regularises\" holds: its train/test gap is smaller than {}'s",
            list(&smaller)
        ),
        (false, false) => format!(
            "\"{subject} regularises\" holds against {} only, not against {}",
            list(&smaller),
            list(&not)
        ),
        (true, _) => format!(
            "\"{subject} regularises\" is not shown: its gap is not smaller than {}'s beyond \
             the seeds' spread",
            list(&not)
        ),
    };
    lines.push(claim);
    lines.push(verdict_basis(n_seeds));
    lines.join(";\n  ")
}
