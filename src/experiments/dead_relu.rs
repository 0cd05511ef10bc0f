//! Dead ReLUs, measured: the dead-unit fraction of every activation layer of an MLP before and
//! after training, for several activations and seeds. The program `examples/dead_relu.rs` runs
//! it; its documentation explains the setup and why.
//!
//! ```no_run
//! use clap::Parser;
//! use minidl::experiments::dead_relu::{run, Args};
//!
//! let args = Args::parse_from(["dead_relu", "--setup", "lr", "--seeds", "3", "--quiet"]);
//! run(&args, &mut std::io::stdout()).unwrap();
//! ```

use std::io::Write;
use std::process::ExitCode;

use crate::cli::Seeds;
use crate::lab::{Data, LabError, Trainer};
use crate::metrics::RunHistory;
use crate::nn::{ActivationStats, Module};
use crate::report::text_table;
use crate::stats::{compare, Verdict};
use crate::tensor::Tensor;
use clap::{Parser, ValueEnum};

use super::common::{
    list, mean_std, mnist_config, once_each, pct, pct_spread, report, specs_and_data,
    spread_verdict, verdict_basis, CommonArgs, Printed,
};

/// Dead ReLUs: dead-unit fractions per layer before and after training.
#[derive(Parser)]
pub struct Args {
    /// How to push units into dying: `lr` (SGD at lr 0.5), `bias` (hidden biases −0.5,
    /// lr 0.1), or `both`.
    #[arg(long, value_enum, default_value_t = Setup::Both)]
    pub setup: Setup,
    /// Activations to compare, comma-separated registry specs.
    #[arg(long, default_value = "relu,leaky_relu,elu,mish")]
    pub activations: String,
    /// Seeds (initial weights and data order): a count (`5` is seeds 0 to 4) or a list
    /// (`0,1,2`).
    #[arg(long, default_value = "0,1,2", value_parser = Seeds::parse, allow_negative_numbers = true)]
    pub seeds: Seeds,
    /// Epochs to train.
    #[arg(long, default_value_t = 1, value_parser = crate::cli::epochs, allow_negative_numbers = true)]
    pub epochs: usize,
    /// The data set, `--report` and `--quiet`.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// How the experiment pushes ReLU units into dying (`--setup`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Setup {
    /// SGD at learning rate 0.5, PyTorch's default initialisation.
    Lr,
    /// Hidden biases initialised to −0.5, SGD at learning rate 0.1.
    Bias,
    /// Both setups, one after the other.
    Both,
}

impl Setup {
    fn list(self) -> Vec<Setup> {
        match self {
            Setup::Both => vec![Setup::Lr, Setup::Bias],
            s => vec![s],
        }
    }
    fn name(self) -> &'static str {
        match self {
            Setup::Lr => "lr",
            Setup::Bias => "bias",
            Setup::Both => "both",
        }
    }
    /// The `mnist` flags of this setup (the biases are set afterwards).
    fn flags(self, epochs: usize, seed: u64) -> String {
        let lr = self.params().0;
        format!(
            "--hidden 256,256 --optimizer sgd --lr {lr} --batch-size 64 --lr-decay 1 \
             --epochs {epochs} --seed {seed}"
        )
    }
    /// `(learning rate, initial hidden bias)`.
    fn params(self) -> (f32, Option<f32>) {
        match self {
            Setup::Bias => (0.1, Some(-0.5)),
            _ => (0.5, None),
        }
    }
    fn describe(self) -> String {
        match self.params() {
            (lr, Some(b)) => format!("hidden biases {b}, SGD lr {lr}"),
            (lr, None) => format!("SGD lr {lr}, default init"),
        }
    }
}

/// One trained run.
struct Run {
    spec: String,
    seed: u64,
    before: Vec<ActivationStats>,
    after: Vec<ActivationStats>,
    accuracy: f32,
    diverged: bool,
    history: RunHistory,
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

/// Trains every activation with every seed in each setup, measuring the dead units before and
/// after, and prints the table and the conclusion of each setup to `out`.
///
/// # Errors
/// A [`LabError`] for a bad activation spec, missing or corrupt data, or a report folder that
/// cannot be written.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<(), LabError> {
    let seeds = args.seeds.as_slice();
    once_each("--seeds", seeds)?;
    let (specs, data) = specs_and_data(&args.activations, &args.common.data, out)?;
    let mut out = Printed::new(out);
    for setup in args.setup.list() {
        let heading = format!(
            "MLP 784-256-256-10, {}, batch 64, {} epoch(s), seeds {:?}; layer 1 is the first \
             hidden layer's activation, 3 the second's; dead and saturated (|f'| < 0.01) on the \
             test images, mean ± spread (sample std, in points) over the seeds",
            setup.describe(),
            args.epochs,
            seeds
        );
        writeln!(out.out(), "\n{heading}")?;
        let mut runs = Vec::new();
        for spec in &specs {
            for &seed in seeds {
                runs.push(train(setup, spec, seed, args, &data)?);
            }
        }
        let table = format!("{heading}\n{}", results_table(&runs, args.epochs));
        let table = &table[heading.len() + 1..];
        out.block("Dead units", table)?;
        let conclusion = format!("conclusion: {}", conclusion(&runs, setup, seeds.len()));
        out.block("Conclusion", &conclusion)?;
        if let Some(dir) = &args.common.report {
            let dir = if args.setup == Setup::Both {
                dir.join(setup.name())
            } else {
                dir.clone()
            };
            let settings = vec![
                ("setup".to_string(), setup.describe()),
                ("model".into(), "MLP 784-256-256-10".into()),
                ("data".into(), data.description.clone()),
                ("seeds".into(), format!("{seeds:?}")),
                ("dead, saturated".into(), heading.clone()),
            ];
            let histories: Vec<RunHistory> = runs.into_iter().map(|r| r.history).collect();
            let notes = out.take_notes();
            report(&dir, &histories, &settings, &notes, out.out())?;
        } else {
            out.take_notes();
        }
    }
    Ok(())
}

/// Trains `spec` in `setup`, measuring the activation layers on the test set before and after.
fn train(setup: Setup, spec: &str, seed: u64, args: &Args, data: &Data) -> Result<Run, LabError> {
    let bias = setup.params().1;
    let mut config = mnist_config(&setup.flags(args.epochs, seed))?;
    config.quiet = args.common.quiet;
    let mut trainer = Trainer::new(&config, spec, data)?;
    if let Some(b) = bias {
        let biases: Vec<_> = trainer
            .model()
            .named_parameters()
            .into_iter()
            .filter(|(n, _)| n.ends_with(".bias"))
            .collect();
        // Every hidden layer's bias; the output layer's stays as initialised.
        for (_, p) in &biases[..biases.len() - 1] {
            p.set_value(Tensor::full(p.shape(), b));
        }
    }
    // The Trainer's evaluation probes every activation layer (nn::Diagnostics) on the test set.
    trainer.evaluate(&data.test);
    let before = trainer.diagnostics().activation_stats();
    while !trainer.is_finished() {
        trainer.run_epoch(data);
    }
    let after = trainer.diagnostics().activation_stats();
    let mut history = trainer.into_history();
    let last = history.epochs.last().expect("at least one epoch").clone();
    if args.seeds.as_slice().len() > 1 {
        history.activation = format!("{spec} seed {seed}");
    }
    Ok(Run {
        spec: spec.to_string(),
        seed,
        before,
        after,
        accuracy: last.test_accuracy,
        diverged: !(last.train_loss.is_finite() && last.test_loss.is_finite()),
        history,
    })
}

/// The dead fraction over all hidden units of a run.
fn dead_all(stats: &[ActivationStats]) -> f32 {
    let units: usize = stats.iter().map(|s| s.units).sum();
    let dead: f32 = stats.iter().map(|s| s.dead_fraction * s.units as f32).sum();
    dead / units.max(1) as f32
}

/// `values` as a percentage, mean ± spread in points when there are several seeds and they
/// differ.
fn pct_range(values: &[f32]) -> String {
    let (lo, hi) = values
        .iter()
        .fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    if values.len() < 2 || hi - lo < 5e-5 {
        pct(mean_std(values).0)
    } else {
        pct_spread(values)
    }
}

/// One row per activation and layer, and an `all` row per activation: means over the seeds
/// (with the range when they differ). Diverged runs are left out of the "after" columns
/// (their outputs are NaN, so dead and saturated mean nothing there) and counted instead.
fn results_table(runs: &[Run], epochs: usize) -> String {
    let after = format!("dead after {epochs} ep");
    let headers = [
        "activation",
        "layer",
        "units",
        "dead at init",
        &after,
        "saturated",
        "test acc",
    ];
    let mut specs: Vec<&str> = runs.iter().map(|r| r.spec.as_str()).collect();
    specs.dedup();
    let mut rows = Vec::new();
    for spec in specs {
        let all: Vec<&Run> = runs.iter().filter(|r| r.spec == spec).collect();
        let ok: Vec<&Run> = all.iter().copied().filter(|r| !r.diverged).collect();
        let over = |rs: &[&Run], f: &dyn Fn(&Run) -> f32| {
            pct_range(&rs.iter().map(|r| f(r)).collect::<Vec<_>>())
        };
        let after = |f: &dyn Fn(&Run) -> f32| {
            if ok.is_empty() {
                "diverged".to_string()
            } else {
                over(&ok, f)
            }
        };
        for (i, layer) in all[0].before.iter().enumerate() {
            let sat = after(&|r| r.after[i].saturated_fraction.unwrap_or(f32::NAN));
            let cells = [
                layer.units.to_string(),
                over(&all, &|r| r.before[i].dead_fraction),
                after(&|r| r.after[i].dead_fraction),
                sat,
            ];
            rows.push(
                [
                    vec![spec.to_string(), layer.name.clone()],
                    cells.to_vec(),
                    vec![String::new()],
                ]
                .concat(),
            );
        }
        let units = all[0].before.iter().map(|s| s.units).sum::<usize>();
        let mut acc = over(&all, &|r| r.accuracy);
        if ok.len() < all.len() {
            acc = format!("{acc}, {} diverged", all.len() - ok.len());
        }
        let cells = [
            units.to_string(),
            over(&all, &|r| dead_all(&r.before)),
            after(&|r| dead_all(&r.after)),
            String::new(),
            acc,
        ];
        rows.push([vec![spec.to_string(), "all".into()], cells.to_vec()].concat());
    }
    text_table(&headers, &rows, true)
}

/// What the numbers say, per activation (means over the seeds that did not diverge), each
/// verdict chosen by comparing them.
fn conclusion(runs: &[Run], setup: Setup, n_seeds: usize) -> String {
    let mut specs: Vec<&str> = runs.iter().map(|r| r.spec.as_str()).collect();
    specs.dedup();
    let mut lines = Vec::new();
    let (mut never_dead, mut diverged, mut accs) = (Vec::new(), Vec::new(), Vec::new());
    let mut failed = Vec::new(); // activations with a seed that did not learn
    for spec in specs {
        let all: Vec<&Run> = runs.iter().filter(|r| r.spec == spec).collect();
        let rs: Vec<&Run> = all.iter().copied().filter(|r| !r.diverged).collect();
        if rs.len() < all.len() {
            diverged.push(format!(
                "{spec} ({} of {} runs)",
                all.len() - rs.len(),
                all.len()
            ));
        }
        if rs.is_empty() {
            continue;
        }
        let mean_of =
            |f: &dyn Fn(&Run) -> f32| mean_std(&rs.iter().map(|r| f(r)).collect::<Vec<_>>());
        let (before, _) = mean_of(&|r| dead_all(&r.before));
        let (after, _) = mean_of(&|r| dead_all(&r.after));
        let values = |f: &dyn Fn(&Run) -> f32| rs.iter().map(|r| f(r)).collect::<Vec<f32>>();
        let change = compare(
            &values(&|r| dead_all(&r.after)),
            &values(&|r| dead_all(&r.before)),
        );
        // With seeds, the verdict is the test's; with one seed, a change of 0.2 points.
        let (died, revived) = match change.verdict {
            Verdict::NeedSeeds => (after > before + 0.002, after < before - 0.002),
            v => (v == Verdict::Higher, v == Verdict::Lower),
        };
        let test = format!("; the change is {}", spread_verdict(&change));
        accs.push((
            spec.to_string(),
            mean_of(&|r| r.accuracy),
            values(&|r| r.accuracy),
        ));
        // The layer with the most dead units at the end, on average over the seeds.
        let layers = rs[0].after.iter().enumerate();
        let worst = layers.map(|(i, l)| (l.name.clone(), mean_of(&|r| r.after[i].dead_fraction).0));
        let (wname, wdead) = worst.max_by(|a, b| a.1.total_cmp(&b.1)).unwrap_or_default();
        let worst = format!("most in layer {wname}: {}", pct(wdead));
        if before == 0.0 && after == 0.0 {
            never_dead.push(spec.to_string());
        } else if died {
            lines.push(format!(
                "{spec}: {} of its hidden units died during training \
                 ({} dead at init, {} after; {worst}{test})",
                pct(after - before),
                pct(before),
                pct(after)
            ));
        } else if revived {
            lines.push(format!(
                "{spec}: {} of its hidden units were dead at init and {} after training, \
                 so {} of them came back ({worst}{test})",
                pct(before),
                pct(after),
                pct((before - after) / before)
            ));
        } else {
            lines.push(format!(
                "{spec}: {} of its hidden units dead at init, {} after training ({worst}{test})",
                pct(before),
                pct(after)
            ));
        }
        // Runs that never got past guessing (10 classes: 10% is chance).
        let stuck: Vec<String> = rs
            .iter()
            .filter(|r| r.accuracy < 0.2)
            .map(|r| {
                let dead: Vec<String> = r
                    .after
                    .iter()
                    .map(|l| format!("layer {} {}", l.name, pct(l.dead_fraction)))
                    .collect();
                format!(
                    "seed {} (test accuracy {}; dead after training: {})",
                    r.seed,
                    pct(r.accuracy),
                    dead.join(", ")
                )
            })
            .collect();
        if !stuck.is_empty() {
            failed.push(spec.to_string());
            lines.push(format!("{spec} did not learn at all with {}", list(&stuck)));
        }
    }
    if !never_dead.is_empty() {
        let verb = if never_dead.len() == 1 { "has" } else { "have" };
        lines.push(format!(
            "{} {verb} no dead unit, before or after",
            list(&never_dead)
        ));
    }
    if !diverged.is_empty() {
        lines.push(format!(
            "{} diverged at lr {} (the loss became NaN)",
            list(&diverged),
            setup.params().0
        ));
    }
    accs.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0));
    if let (Some(best), Some(worst), true) = (accs.first(), accs.last(), accs.len() > 1) {
        let ((b, bs), (w, ws)) = (best.1, worst.1);
        let gap = compare(&best.2, &worst.2);
        let mut verdict = format!("the gap is {}", spread_verdict(&gap));
        if failed.contains(&worst.0) {
            verdict += &format!(
                ", with {}'s mean pulled down by the runs that did not learn",
                worst.0
            );
        }
        let spread = |s: f32| {
            if n_seeds > 1 {
                format!(" ± {:.1}", s * 100.0)
            } else {
                String::new()
            }
        };
        lines.push(format!(
            "test accuracy from {}{} ({}) to {}{} ({}): {verdict}",
            pct(b),
            spread(bs),
            best.0,
            pct(w),
            spread(ws),
            worst.0
        ));
    }
    lines.push(verdict_basis(n_seeds));
    lines.join(";\n  ")
}
