//! Does one activation converge faster than another? The loss on the whole training set after
//! given numbers of steps, and the test accuracy, over several seeds. The program
//! `examples/convergence.rs` runs it; its documentation explains the setup and why.
//!
//! ```no_run
//! use clap::Parser;
//! use minidl::experiments::convergence::{run, Args};
//!
//! let args = Args::parse_from(["convergence", "--activations", "relu,mish", "--seeds", "3"]);
//! run(&args, &mut std::io::stdout()).unwrap();
//! ```

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use crate::autograd::Var;
use crate::cli::MAX_EPOCHS;
use crate::datasets::DataLoader;
use crate::lab::{build_optimizer, Data, LabError, Trainer};
use crate::metrics::{EpochMetrics, RunHistory};
use crate::nn::{cross_entropy, Module};
use crate::report::text_table;
use crate::stats::{compare, Verdict};
use clap::Parser;

use super::common::{
    list, mean_std, mnist_config, once_each, p_value, pct, report, specs_and_data, spread_verdict,
    verdict_basis, CommonArgs, Printed,
};

/// The most steps `--at` may name: 1,000,000 steps of 64 images, about 1,000 epochs of MNIST.
const MAX_STEPS: usize = 1_000_000;

/// A step of `--at`: a whole number from 1 to [`MAX_STEPS`].
fn at_step(s: &str) -> Result<usize, String> {
    crate::cli::whole_up_to(s, MAX_STEPS, "training steps")
}

/// Convergence: training loss after N steps and test accuracy, mean ± spread over seeds.
#[derive(Parser)]
pub struct Args {
    /// Activations to compare, comma-separated registry specs; the first is the baseline.
    #[arg(long, default_value = "relu,swish,mish,gelu")]
    pub activations: String,
    /// Seeds (initial weights and data order): a count (`5` is seeds 0 to 4) or a list
    /// (`0,1,2`).
    #[arg(long, default_value = "0,1,2", value_parser = crate::cli::Seeds::parse, allow_negative_numbers = true)]
    pub seeds: crate::cli::Seeds,
    /// Steps after which to measure the loss on the whole training set (at most 1,000,000).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "100,300,1000",
        value_parser = at_step,
        allow_negative_numbers = true
    )]
    pub at: Vec<usize>,
    /// Epochs to train [default: until the last --at step].
    #[arg(long, value_parser = crate::cli::epochs, allow_negative_numbers = true)]
    pub epochs: Option<usize>,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3, value_parser = crate::cli::positive_number, allow_negative_numbers = true)]
    pub lr: f32,
    /// The data set, `--report` and `--quiet`.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// One trained run: the training loss at each measured step, and the test accuracy.
struct Run {
    spec: String,
    losses: Vec<f32>,
    accuracy: f32,
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

/// Trains every activation with every seed, measuring the training loss at the `--at` steps
/// and the test accuracy at the end, and prints the table and the conclusion to `out`.
///
/// # Errors
/// A [`LabError`] for a bad activation spec, missing or corrupt data, or a report folder that
/// cannot be written.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<(), LabError> {
    let seeds = args.seeds.as_slice();
    once_each("--seeds", seeds)?;
    once_each("--at", &args.at)?;
    let (specs, data) = specs_and_data(&args.activations, &args.common.data, out)?;
    let per_epoch = data.train.len().div_ceil(64).max(1);
    let steps = match args.epochs {
        // at most 10,000 epochs of at most 2^64 / 64 batches: no overflow
        Some(e) => e.saturating_mul(per_epoch),
        None => args.at.iter().copied().max().unwrap_or(per_epoch),
    };
    let epochs = steps.div_ceil(per_epoch);
    if epochs > MAX_EPOCHS {
        return Err(LabError::Usage(format!(
            "--at: {steps} steps of {per_epoch} per epoch are {epochs} epochs; the limit is \
             {MAX_EPOCHS}: measure at fewer steps or train on more images"
        )));
    }
    let mut at: Vec<usize> = args.at.iter().copied().filter(|&s| s <= steps).collect();
    at.sort_unstable();
    if at.is_empty() {
        return Err(LabError::Usage(format!(
            "--at: every step given is past the run's {steps} steps (--epochs {}): measure \
             at {steps} or fewer, or train longer",
            args.epochs.unwrap_or(epochs)
        )));
    }
    writeln!(
        out,
        "MLP 784-128-64-10, Adam lr {}, batch 64, {steps} steps, seeds {:?}",
        args.lr, seeds
    )?;
    let mut runs = Vec::new();
    for spec in &specs {
        for &seed in seeds {
            let start = Instant::now();
            let r = train(spec, seed, steps, &at, args, &data)?;
            if !args.common.quiet {
                let losses: Vec<String> = r.losses.iter().map(|l| format!("{l:.4}")).collect();
                writeln!(
                    out,
                    "  {spec} seed {seed}: losses {}, test accuracy {}, {:.1} s",
                    losses.join(" "),
                    pct(r.accuracy),
                    start.elapsed().as_secs_f64()
                )?;
            }
            runs.push(r);
        }
    }
    writeln!(out)?;
    let mut out = Printed::new(out);
    out.block(
        "Losses and test accuracy",
        &results_table(&runs, &specs, &at),
    )?;
    let conclusion = conclusion(&runs, &specs, &at, seeds.len());
    out.block("Conclusion", &format!("conclusion: {conclusion}"))?;
    if let Some(dir) = &args.common.report {
        let settings = vec![
            ("model".to_string(), "MLP 784-128-64-10".to_string()),
            (
                "optimizer".into(),
                format!("Adam lr {}, batch 64, {steps} steps", args.lr),
            ),
            ("seeds".into(), format!("{seeds:?}")),
            ("data".into(), data.description.clone()),
        ];
        let histories: Vec<RunHistory> = runs.into_iter().map(|r| r.history).collect();
        let notes = out.take_notes();
        report(dir, &histories, &settings, &notes, out.out())?;
    }
    Ok(())
}

/// Trains `spec` for `steps` steps, measuring the loss on the whole training set after each
/// step in `at`, and the test accuracy at the end.
fn train(
    spec: &str,
    seed: u64,
    steps: usize,
    at: &[usize],
    args: &Args,
    data: &Data,
) -> Result<Run, LabError> {
    let epochs = steps.div_ceil(data.train.len().div_ceil(64).max(1));
    let flags = format!(
        "--hidden 128,64 --optimizer adam --lr {} --batch-size 64 --lr-decay 1 --epochs {epochs} \
         --seed {seed}",
        args.lr
    );
    let config = mnist_config(&flags)?;
    // The Trainer builds and initialises the model exactly as the mnist example does.
    let trainer = Trainer::new(&config, spec, data)?;
    let model = trainer.model();
    let mut optimizer = build_optimizer(config.optimizer, config.lr, model.parameters());
    let loader = DataLoader::new(&data.train, 64)
        .shuffle(seed)
        .flatten(true)
        .prefetch(true);
    // one history per (activation, seed): the report draws each activation's seeds as a band
    let mut history = RunHistory::new(spec).with_seed(seed);
    let (mut losses, mut step, mut loss_sum) = (Vec::new(), 0, 0.0f64);
    let start = Instant::now();
    'training: for epoch in 0..config.epochs {
        for (x, y) in loader.epoch(epoch as u64) {
            let loss = cross_entropy(&model.forward(&Var::constant(x)), &y);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            step += 1;
            history.record_step(step, loss.item());
            loss_sum += loss.item() as f64;
            if at.contains(&step) {
                losses.push(trainer.evaluate(&data.train).loss);
            }
            if step == steps {
                break 'training;
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    // The Trainer's nn::Diagnostics: gradient norms over all the steps above; activation
    // statistics of the final test pass only (not of the training-set passes).
    trainer.diagnostics().reset_activation_stats();
    let test = trainer.evaluate(&data.test);
    history.record_epoch(EpochMetrics {
        activation: history.activation.clone(),
        seed,
        epoch: config.epochs,
        steps,
        train_loss: (loss_sum / steps.max(1) as f64) as f32,
        test_loss: test.loss,
        test_accuracy: test.accuracy,
        seconds,
        samples_per_sec: (steps * 64) as f64 / seconds.max(1e-9),
        params: trainer.diagnostics().learnable_values(),
        layers: trainer.layer_stats(),
    });
    Ok(Run {
        spec: spec.to_string(),
        losses,
        accuracy: test.accuracy,
        history,
    })
}

/// The values of `f` over the seeds of `spec`.
fn values(runs: &[Run], spec: &str, f: impl Fn(&Run) -> f32) -> Vec<f32> {
    runs.iter().filter(|r| r.spec == spec).map(f).collect()
}

/// The values of `f` over the seeds of `spec`: mean and spread.
fn stat(runs: &[Run], spec: &str, f: impl Fn(&Run) -> f32) -> (f32, f32) {
    mean_std(
        &runs
            .iter()
            .filter(|r| r.spec == spec)
            .map(f)
            .collect::<Vec<_>>(),
    )
}

fn results_table(runs: &[Run], specs: &[String], at: &[usize]) -> String {
    let mut headers: Vec<String> = vec!["activation".into()];
    headers.extend(at.iter().map(|s| format!("loss @ step {s}")));
    headers.push("test acc".into());
    let rows: Vec<Vec<String>> = specs
        .iter()
        .map(|spec| {
            let mut row = vec![spec.clone()];
            for i in 0..at.len() {
                let (m, s) = stat(runs, spec, |r| r.losses[i]);
                row.push(format!("{m:.4} ± {s:.4}"));
            }
            let (m, s) = stat(runs, spec, |r| r.accuracy);
            row.push(format!("{} ± {:.2}", pct(m), s * 100.0));
            row
        })
        .collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    text_table(&headers, &rows, true)
}

/// Per step: the leader, and whether the gap between the lowest and the highest loss is
/// larger than the seeds' spread (Welch's t-test); whether each activation's loss is lower than
/// the baseline's (the first) by more than the spread, at which steps; then the same for test
/// accuracy.
fn conclusion(runs: &[Run], specs: &[String], at: &[usize], n_seeds: usize) -> String {
    let Some(base) = specs.first() else {
        return String::new();
    };
    let mut lines = Vec::new();
    for (i, step) in at.iter().enumerate() {
        let stats: Vec<(&String, (f32, f32))> = specs
            .iter()
            .map(|s| (s, stat(runs, s, |r| r.losses[i])))
            .collect();
        let (best, (bm, bs)) = stats
            .iter()
            .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
            .expect("one activation");
        let (worst, (wm, ws)) = stats
            .iter()
            .max_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
            .expect("one activation");
        let c = compare(
            &values(runs, worst, |r| r.losses[i]),
            &values(runs, best, |r| r.losses[i]),
        );
        let verdict = match c.verdict {
            Verdict::Higher | Verdict::Lower => {
                format!("apart: a real difference ({})", p_value(&c))
            }
            Verdict::WithinSpread => {
                format!("inside the spread: no real difference ({})", p_value(&c))
            }
            Verdict::NeedSeeds => "one seed, so no spread to compare with".to_string(),
        };
        lines.push(format!(
            "step {step}: {best} lowest ({bm:.4} ± {bs:.4}), {worst} highest \
             ({wm:.4} ± {ws:.4}); gap {:.4}, {verdict}",
            wm - bm
        ));
    }
    // "X converges faster than the baseline": a lower loss, by more than the spread.
    for spec in &specs[1..] {
        let mut ahead = Vec::new();
        let mut level = Vec::new();
        let mut behind = Vec::new();
        for (i, step) in at.iter().enumerate() {
            let c = compare(
                &values(runs, spec, |r| r.losses[i]),
                &values(runs, base, |r| r.losses[i]),
            );
            let bucket = match c.verdict {
                Verdict::Lower => &mut ahead,
                Verdict::Higher => &mut behind,
                _ => &mut level,
            };
            bucket.push(step.to_string());
        }
        let steps =
            |v: &[String]| format!("step{} {}", if v.len() > 1 { "s" } else { "" }, list(v));
        let mut claim = format!("\"{spec} converges faster than {base}\" ");
        claim += &match (ahead.is_empty(), level.is_empty() && behind.is_empty()) {
            (false, true) => "holds at every measured step".to_string(),
            (false, false) => format!("holds at {} only", steps(&ahead)),
            (true, _) => "is not shown".to_string(),
        };
        if !level.is_empty() && !ahead.is_empty() {
            claim += &format!("; level at {}", steps(&level));
        } else if !level.is_empty() {
            claim += &format!(": level at {}", steps(&level));
        }
        if !behind.is_empty() {
            claim += &format!("; {spec} is behind at {}", steps(&behind));
        }
        lines.push(claim);
    }
    let accs: Vec<(String, (f32, f32))> = specs
        .iter()
        .map(|s| (s.clone(), stat(runs, s, |r| r.accuracy)))
        .collect();
    let best = accs
        .iter()
        .max_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
        .expect("one activation");
    let worst = accs
        .iter()
        .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
        .expect("one activation");
    let c = compare(
        &values(runs, &best.0, |r| r.accuracy),
        &values(runs, &worst.0, |r| r.accuracy),
    );
    let gap = (best.1 .0 - worst.1 .0) * 100.0;
    let verdict = if c.verdict.is_significant() {
        format!(
            "{} is ahead of {} by {gap:.2} points, {}",
            best.0,
            worst.0,
            spread_verdict(&c)
        )
    } else {
        format!("the gap, {gap:.2} points, is {}", spread_verdict(&c))
    };
    let acc_list: Vec<String> = accs
        .iter()
        .map(|(s, (m, _))| format!("{s} {}", pct(*m)))
        .collect();
    lines.push(format!("test accuracy {}: {verdict}", list(&acc_list)));
    lines.push(verdict_basis(n_seeds));
    lines.join(";\n  ")
}
