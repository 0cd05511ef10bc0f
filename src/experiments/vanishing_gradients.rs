//! Vanishing gradients, measured: the weight-gradient norm of every layer of a deep narrow MLP
//! on the first batch and after training, for several activations and initialisations. The
//! program `examples/vanishing_gradients.rs` runs it; its documentation explains the setup and
//! why.
//!
//! ```no_run
//! use clap::Parser;
//! use minidl::experiments::vanishing_gradients::{run, Args};
//!
//! let args = Args::parse_from(["vanishing_gradients", "--activations", "sigmoid,relu"]);
//! run(&args, &mut std::io::stdout()).unwrap();
//! ```

use std::io::Write;
use std::process::ExitCode;

use crate::cli::InitKind;
use crate::lab::{Data, LabError, Trainer};
use crate::metrics::RunHistory;
use crate::report::text_table;
use crate::stats::{compare, Summary, Verdict};
use clap::Parser;

use super::common::{
    list, mnist_config, num, once_each, p_value, pct, pct_spread, report, specs_and_data,
    verdict_basis, CommonArgs, Printed,
};

/// Vanishing gradients: per-layer gradient norms of a deep narrow MLP.
#[derive(Parser)]
pub struct Args {
    /// Activations to compare, comma-separated registry specs.
    #[arg(long, default_value = "sigmoid,tanh,relu,mish")]
    pub activations: String,
    /// Initialisations to compare, comma-separated: default, kaiming, xavier.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "default,kaiming"
    )]
    pub inits: Vec<InitKind>,
    /// Number of hidden layers.
    #[arg(long, default_value_t = 9, value_parser = crate::cli::positive_whole, allow_negative_numbers = true)]
    pub depth: usize,
    /// Width of each hidden layer.
    #[arg(long, default_value_t = 64, value_parser = crate::cli::positive_whole, allow_negative_numbers = true)]
    pub width: usize,
    /// SGD learning rate.
    #[arg(long, default_value_t = 0.1, value_parser = crate::cli::positive_number, allow_negative_numbers = true)]
    pub lr: f32,
    /// Epochs to train.
    #[arg(long, default_value_t = 1, value_parser = crate::cli::epochs, allow_negative_numbers = true)]
    pub epochs: usize,
    /// Seeds (initial weights and data order): a count (`5` is seeds 0 to 4) or a list
    /// (`0,1,2`).
    #[arg(long, default_value = "0,1,2", value_parser = crate::cli::Seeds::parse, allow_negative_numbers = true)]
    pub seeds: crate::cli::Seeds,
    /// The data set, `--report` and `--quiet`.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// One trained run: per weight `(name, norm on the first batch, mean norm over the last epoch)`.
struct Run {
    spec: String,
    init: InitKind,
    norms: Vec<(String, f32, f32)>,
    accuracy: f32,
    history: RunHistory,
}

impl Run {
    /// ‖∂L/∂W₁‖ / ‖∂L/∂W_last‖ on the first batch and at the end.
    fn ratios(&self) -> (f32, f32) {
        let (first, last) = (&self.norms[0], &self.norms[self.norms.len() - 1]);
        (first.1 / last.1, first.2 / last.2)
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

/// Trains every activation with each initialisation, measuring every weight's gradient norm,
/// and prints the tables and the conclusion to `out`.
///
/// # Errors
/// A [`LabError`] for a bad activation spec, missing or corrupt data, or a report folder that
/// cannot be written.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<(), LabError> {
    once_each("--inits", &args.inits)?;
    let seeds = args.seeds.as_slice();
    once_each("--seeds", seeds)?;
    // the sizes, before the data is read: a --depth or --width too large for any data
    let config = mnist_config(&flags(InitKind::Default, seeds[0], args))?;
    let (specs, data) = specs_and_data(&args.activations, &args.common.data, out)?;
    // and on these images, before anything trains
    let batch = config.batch_size.min(data.train.len()).max(1);
    config.architecture.check(
        data.input_shape(),
        data.classes(),
        batch,
        "--depth and --width",
    )?;
    let sizes = format!("784 -> {} x {} -> 10", args.depth, args.width);
    writeln!(
        out,
        "MLP {sizes}, SGD lr {}, batch 64, {} epoch(s), seeds {seeds:?}",
        args.lr, args.epochs
    )?;
    let mut out = Printed::new(out);
    let mut runs = Vec::new();
    for &init in &args.inits {
        let mut these = Vec::new();
        for spec in &specs {
            for &seed in seeds {
                these.push(train(spec, init, seed, args, &data)?);
            }
        }
        let mean = if seeds.len() > 1 {
            ", geometric mean over the seeds"
        } else {
            ""
        };
        writeln!(out.out())?;
        out.block(
            &format!("Gradient norms, {init} init"),
            &format!(
                "init {init}: weight-gradient norm ||dL/dW||, first batch -> mean over the last \
                 epoch{mean}\n{}",
                norms_table(&these, &specs)
            ),
        )?;
        runs.extend(these);
    }
    writeln!(out.out())?;
    out.block(
        "First/last layer and test accuracy",
        &summary_table(&runs, &specs, &args.inits),
    )?;
    let conclusion = conclusion(&runs, &specs, &args.inits, seeds.len());
    out.block("Conclusion", &format!("conclusion: {conclusion}"))?;
    let notes = out.take_notes();
    if let Some(dir) = &args.common.report {
        for &init in &args.inits {
            let dir = if args.inits.len() > 1 {
                dir.join(init.to_string())
            } else {
                dir.clone()
            };
            let settings = vec![
                ("model".to_string(), format!("MLP {sizes}")),
                ("init".into(), init.to_string()),
                ("optimizer".into(), format!("SGD lr {}", args.lr)),
                ("seeds".into(), format!("{seeds:?}")),
                ("data".into(), data.description.clone()),
            ];
            let histories: Vec<RunHistory> = runs
                .iter()
                .filter(|r| r.init == init)
                .map(|r| r.history.clone())
                .collect();
            report(&dir, &histories, &settings, &notes, out.out())?;
        }
    }
    Ok(())
}

/// The `mnist` flags of the run with `init` and `seed`.
fn flags(init: InitKind, seed: u64, args: &Args) -> String {
    format!(
        "--depth {} --width {} --init {init} --optimizer sgd --lr {} --batch-size 64 --lr-decay 1 \
         --epochs {} --seed {seed}",
        args.depth, args.width, args.lr, args.epochs
    )
}

/// Trains `spec` with `init` and `seed`, recording every weight's gradient norms.
fn train(spec: &str, init: InitKind, seed: u64, args: &Args, data: &Data) -> Result<Run, LabError> {
    let mut config = mnist_config(&flags(init, seed, args))?;
    config.quiet = args.common.quiet;
    let mut trainer = Trainer::new(&config, spec, data)?;
    while !trainer.is_finished() {
        trainer.run_epoch(data);
    }
    // The Trainer's nn::Diagnostics hook every parameter: the norm on the very first step,
    // and the mean over the last epoch's steps.
    let norms = trainer
        .diagnostics()
        .grad_norms()
        .into_iter()
        .filter(|g| g.name.ends_with("weight"));
    let norms = norms.map(|g| (g.name, g.first_norm, g.mean_norm)).collect();
    let mut history = trainer.into_history();
    let accuracy = history.epochs.last().map_or(f32::NAN, |e| e.test_accuracy);
    history.activation = if args.seeds.as_slice().len() > 1 {
        format!("{spec} ({init}) seed {seed}")
    } else {
        format!("{spec} ({init})")
    };
    Ok(Run {
        spec: spec.to_string(),
        init,
        norms,
        accuracy,
        history,
    })
}

/// The geometric mean of positive values (norms and ratios span orders of magnitude).
fn geo_mean(values: &[f32]) -> f32 {
    10f32.powf(Summary::of(&values.iter().map(|v| v.log10()).collect::<Vec<_>>()).mean as f32)
}

/// The runs of `spec` with `init`, one per seed.
fn runs_of<'a>(runs: &'a [Run], spec: &str, init: InitKind) -> Vec<&'a Run> {
    runs.iter()
        .filter(|r| r.spec == spec && r.init == init)
        .collect()
}

/// One row per weight, one column per activation: `first batch -> end` (geometric means over
/// the seeds).
fn norms_table(runs: &[Run], specs: &[String]) -> String {
    let mut headers = vec!["layer"];
    headers.extend(specs.iter().map(String::as_str));
    let init = runs[0].init;
    let rows: Vec<Vec<String>> = (0..runs[0].norms.len())
        .map(|i| {
            let mut row = vec![runs[0].norms[i].0.clone()];
            row.extend(specs.iter().map(|s| {
                let rs = runs_of(runs, s, init);
                let first: Vec<f32> = rs.iter().map(|r| r.norms[i].1).collect();
                let end: Vec<f32> = rs.iter().map(|r| r.norms[i].2).collect();
                format!("{:.1e} -> {:.1e}", geo_mean(&first), geo_mean(&end))
            }));
            row
        })
        .collect();
    text_table(&headers, &rows, true)
}

/// One row per activation and init: the first/last ratios (geometric mean over the seeds, and
/// the spread of their log10 in decades) and the test accuracy (mean ± spread).
fn summary_table(runs: &[Run], specs: &[String], inits: &[InitKind]) -> String {
    let headers = [
        "activation",
        "init",
        "first/last, first batch",
        "first/last, last epoch",
        "test acc",
    ];
    let ratio = |v: Vec<f32>| {
        let logs = Summary::of(&v.iter().map(|x| x.log10()).collect::<Vec<_>>());
        if logs.n < 2 {
            num(geo_mean(&v))
        } else {
            format!("{} ±{:.2} dec", num(geo_mean(&v)), logs.std)
        }
    };
    let mut rows = Vec::new();
    for &init in inits {
        for spec in specs {
            let rs = runs_of(runs, spec, init);
            rows.push(vec![
                spec.clone(),
                init.to_string(),
                ratio(rs.iter().map(|r| r.ratios().0).collect()),
                ratio(rs.iter().map(|r| r.ratios().1).collect()),
                pct_spread(&rs.iter().map(|r| r.accuracy).collect::<Vec<_>>()),
            ]);
        }
    }
    text_table(&headers, &rows, true)
}

/// Whether a run learned: 10 classes, so 10% is guessing.
fn verdict(accuracy: f32) -> &'static str {
    if accuracy < 0.2 {
        "barely learns"
    } else if accuracy < 0.8 {
        "learns slowly"
    } else {
        "learns"
    }
}

/// What the numbers say: where the gradient vanishes most (and whether by more than the seeds'
/// spread, on the log10 of the first/last ratio), who learns, what the init changes (test
/// accuracy, by more than the spread).
fn conclusion(runs: &[Run], specs: &[String], inits: &[InitKind], n_seeds: usize) -> String {
    let mut lines = Vec::new();
    let log_ratios = |spec: &str, init| -> Vec<f32> {
        runs_of(runs, spec, init)
            .iter()
            .map(|r| r.ratios().0.log10())
            .collect()
    };
    let accs = |spec: &str, init| -> Vec<f32> {
        runs_of(runs, spec, init)
            .iter()
            .map(|r| r.accuracy)
            .collect()
    };
    let mean = |v: &[f32]| Summary::of(v).mean as f32;
    for &init in inits {
        let Some(worst) = specs
            .iter()
            .min_by(|a, b| mean(&log_ratios(a, init)).total_cmp(&mean(&log_ratios(b, init))))
        else {
            continue;
        };
        let decades = -mean(&log_ratios(worst, init));
        let others: Vec<String> = specs
            .iter()
            .filter(|s| *s != worst)
            .map(|s| {
                let c = compare(&log_ratios(worst, init), &log_ratios(s, init));
                let beyond = match c.verdict {
                    Verdict::Lower => format!("smaller beyond the spread, {}", p_value(&c)),
                    Verdict::NeedSeeds => "one seed, no test".to_string(),
                    _ => format!("within the spread, {}", p_value(&c)),
                };
                format!(
                    "{s} {} ({beyond})",
                    num(10f32.powf(mean(&log_ratios(s, init))))
                )
            })
            .collect();
        let acc = mean(&accs(worst, init));
        lines.push(format!(
            "with {init} init, {worst}'s first-layer gradient is {} of its last layer's on the \
             first batch, {decades:.1} orders of magnitude lost across {} layers (others: {}); \
             it reaches {} test accuracy: it {}",
            num(10f32.powf(-decades)),
            runs_of(runs, worst, init)[0].norms.len(),
            list(&others),
            pct(acc),
            verdict(acc)
        ));
        let rest: Vec<String> = specs
            .iter()
            .filter(|s| *s != worst)
            .map(|s| {
                let a = mean(&accs(s, init));
                format!("{s} {} ({})", verdict(a), pct(a))
            })
            .collect();
        if !rest.is_empty() {
            lines.push(format!("with {init} init: {}", list(&rest)));
        }
    }
    // What changing the init did, per activation (first init against each other).
    if let [base, rest @ ..] = inits {
        for &other in rest {
            let mut rescued = Vec::new();
            let mut unchanged = Vec::new();
            for spec in specs {
                let (a, b) = (accs(spec, *base), accs(spec, other));
                let c = compare(&b, &a);
                let (ma, mb) = (mean(&a), mean(&b));
                let change = format!("{spec} {} -> {}", pct(ma), pct(mb));
                // With seeds, the test's verdict; with one seed, a gain of 20 points.
                let better = match c.verdict {
                    Verdict::NeedSeeds => mb - ma > 0.2,
                    v => v == Verdict::Higher && mb - ma > 0.2,
                };
                if better {
                    rescued.push(format!("{change} ({})", p_value(&c)));
                } else if mb < 0.2 && ma < 0.2 {
                    let ratio = 10f32.powf(mean(&log_ratios(spec, other)));
                    unchanged.push(format!("{change}, first/last {}", num(ratio)));
                }
            }
            if !rescued.is_empty() {
                lines.push(format!(
                    "{other} init instead of {base} rescues {}",
                    list(&rescued)
                ));
            }
            if !unchanged.is_empty() {
                lines.push(format!(
                    "{other} init does not help {}: still no learning",
                    list(&unchanged)
                ));
            }
        }
    }
    lines.push(verdict_basis(n_seeds));
    lines.join(";\n  ")
}
