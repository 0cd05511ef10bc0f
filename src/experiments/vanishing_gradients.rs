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
use clap::Parser;

use super::common::{list, mnist_config, num, once_each, pct, report, specs_and_data, CommonArgs};

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
    /// Seed of the initial weights and the data order.
    #[arg(long, default_value_t = 0, value_parser = crate::cli::seed, allow_negative_numbers = true)]
    pub seed: u64,
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

/// Trains every activation with each initialisation, measuring every weight's gradient norm,
/// and prints the tables and the conclusion to `out`.
///
/// # Errors
/// A [`LabError`] for a bad activation spec, missing or corrupt data, or a report folder that
/// cannot be written.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<(), LabError> {
    once_each("--inits", &args.inits)?;
    // the sizes, before the data is read: a --depth or --width too large for any data
    let config = mnist_config(&flags(InitKind::Default, args))?;
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
        "MLP {sizes}, SGD lr {}, batch 64, {} epoch(s), seed {}",
        args.lr, args.epochs, args.seed
    )?;
    let mut runs = Vec::new();
    for &init in &args.inits {
        let mut these = Vec::new();
        for spec in &specs {
            these.push(train(spec, init, args, &data)?);
        }
        writeln!(
            out,
            "\ninit {init}: weight-gradient norm ||dL/dW||, first batch -> mean over the last epoch"
        )?;
        writeln!(out, "{}", norms_table(&these))?;
        if let Some(dir) = &args.common.report {
            let dir = if args.inits.len() > 1 {
                dir.join(init.to_string())
            } else {
                dir.clone()
            };
            let settings = vec![
                ("model".to_string(), format!("MLP {sizes}")),
                ("init".into(), init.to_string()),
                ("optimizer".into(), format!("SGD lr {}", args.lr)),
                ("data".into(), data.description.clone()),
            ];
            let histories: Vec<RunHistory> = these.iter().map(|r| r.history.clone()).collect();
            report(&dir, &histories, &settings, out)?;
        }
        runs.extend(these);
    }
    writeln!(out, "\n{}", summary_table(&runs))?;
    writeln!(out, "conclusion: {}", conclusion(&runs, &args.inits))?;
    Ok(())
}

/// Trains `spec` with `init`, recording every weight's gradient norms.
/// The `mnist` flags of the run with `init`.
fn flags(init: InitKind, args: &Args) -> String {
    format!(
        "--depth {} --width {} --init {init} --optimizer sgd --lr {} --batch-size 64 --lr-decay 1 \
         --epochs {} --seed {}",
        args.depth, args.width, args.lr, args.epochs, args.seed
    )
}

fn train(spec: &str, init: InitKind, args: &Args, data: &Data) -> Result<Run, LabError> {
    let mut config = mnist_config(&flags(init, args))?;
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
    history.activation = format!("{spec} ({init})");
    Ok(Run {
        spec: spec.to_string(),
        init,
        norms,
        accuracy,
        history,
    })
}

/// One row per weight, one column per activation: `first batch -> end`.
fn norms_table(runs: &[Run]) -> String {
    let mut headers = vec!["layer"];
    headers.extend(runs.iter().map(|r| r.spec.as_str()));
    let rows: Vec<Vec<String>> = (0..runs[0].norms.len())
        .map(|i| {
            let mut row = vec![runs[0].norms[i].0.clone()];
            row.extend(
                runs.iter()
                    .map(|r| format!("{:.1e} -> {:.1e}", r.norms[i].1, r.norms[i].2)),
            );
            row
        })
        .collect();
    text_table(&headers, &rows, true)
}

fn summary_table(runs: &[Run]) -> String {
    let headers = [
        "activation",
        "init",
        "first/last, first batch",
        "first/last, last epoch",
        "test acc",
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let (a, b) = r.ratios();
            vec![
                r.spec.clone(),
                r.init.to_string(),
                num(a),
                num(b),
                pct(r.accuracy),
            ]
        })
        .collect();
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

/// What the numbers say: where the gradient vanishes most, who learns, what the init changes.
fn conclusion(runs: &[Run], inits: &[InitKind]) -> String {
    let mut lines = Vec::new();
    for &init in inits {
        let these: Vec<&Run> = runs.iter().filter(|r| r.init == init).collect();
        let Some(worst) = these
            .iter()
            .min_by(|a, b| a.ratios().0.total_cmp(&b.ratios().0))
        else {
            continue;
        };
        let (ratio, _) = worst.ratios();
        let others: Vec<String> = these
            .iter()
            .filter(|r| r.spec != worst.spec)
            .map(|r| format!("{} {}", r.spec, num(r.ratios().0)))
            .collect();
        lines.push(format!(
            "with {init} init, {}'s first-layer gradient is {} of its last layer's on the first \
             batch, {:.1} orders of magnitude lost across {} layers (others: {}); it reaches {} \
             test accuracy: it {}",
            worst.spec,
            num(ratio),
            -ratio.log10(),
            worst.norms.len(),
            list(&others),
            pct(worst.accuracy),
            verdict(worst.accuracy)
        ));
        let rest: Vec<String> = these
            .iter()
            .filter(|r| r.spec != worst.spec)
            .map(|r| format!("{} {} ({})", r.spec, verdict(r.accuracy), pct(r.accuracy)))
            .collect();
        lines.push(format!("with {init} init: {}", list(&rest)));
    }
    // What changing the init did, per activation (first init against each other).
    if let [base, rest @ ..] = inits {
        let specs: Vec<&str> = runs
            .iter()
            .filter(|r| r.init == *base)
            .map(|r| r.spec.as_str())
            .collect();
        for &other in rest {
            let mut rescued = Vec::new();
            let mut unchanged = Vec::new();
            for spec in &specs {
                let find = |i: InitKind| runs.iter().find(|r| r.spec == *spec && r.init == i);
                let (Some(a), Some(b)) = (find(*base), find(other)) else {
                    continue;
                };
                let change = format!("{spec} {} -> {}", pct(a.accuracy), pct(b.accuracy));
                if b.accuracy - a.accuracy > 0.2 {
                    rescued.push(change);
                } else if b.accuracy < 0.2 && a.accuracy < 0.2 {
                    unchanged.push(format!("{change}, first/last {}", num(b.ratios().0)));
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
    lines.join(";\n  ")
}
