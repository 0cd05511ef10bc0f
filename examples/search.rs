//! Searching for activation functions, after Ramachandran, Zoph & Le (2017) — the search that
//! found Swish: every "core unit" b(u₁(x), u₂(x)) of the paper's grammar is trained on a small
//! fixed proxy task (a deep narrow MLP on an MNIST subset) and ranked by held-out accuracy.
//!
//! ```text
//! cargo run --release --example search -- --data-dir data/mnist --threads 2
//! cargo run --release --example search -- --list                      # the candidates only
//! cargo run --release --example search -- --top 10 --seeds 1,2,3 --report out/search
//! ```
//!
//! The leaderboard (`--out`, default `search.jsonl`) is JSON Lines: the settings, then one
//! line per finished candidate, best first, rewritten atomically after each. Kill the search
//! and start it again with the same flags: it reads the file back and goes on; with other
//! settings it refuses the file. `--top K --seeds 1,2,3` then re-trains the K best (and relu,
//! swish, mish) with each seed and prints mean ± std; `--report DIR` writes the ranked table
//! and charts of f and f′ of the best beside relu, swish and mish.
//!
//! # On a cluster
//! `--shard i/n` scores the candidates whose index is i mod n. Run n processes, each with its
//! own `--out`, then join their files into the leaderboard one process would have written:
//!
//! ```text
//! # Slurm: sbatch --array=0-3 job.sh, with in job.sh
//! search --shard $SLURM_ARRAY_TASK_ID/4 --out shard-$SLURM_ARRAY_TASK_ID.jsonl
//! # Kubernetes indexed Job (completionMode: Indexed, completions: 4)
//! search --shard $JOB_COMPLETION_INDEX/4 --out shard-$JOB_COMPLETION_INDEX.jsonl
//! # then, anywhere
//! search --merge shard-0.jsonl shard-1.jsonl shard-2.jsonl shard-3.jsonl --out all.jsonl
//! ```
//!
//! A merge refuses files from other settings (naming what differs), a shard given twice or
//! missing, and an unfinished shard (rerun it: it resumes).
//!
//! # The proxy task, and why
//! 8 hidden layers of 32 units with Kaiming initialisation (gain √2 for every formula, so
//! every candidate starts from the same weights), Adam (lr 3e-3 falling to 0 along a cosine),
//! batch 64, 10 epochs over the first 2,000 training images (320 steps; the same seed, so the
//! same batches, for every candidate); scored by accuracy on the first 2,000 test images,
//! then by their loss. Depth makes the activation matter: gradients pass through eight of
//! them, so a function whose derivative is small or erratic stalls the first layers (the
//! `vanishing_gradients` example measures it); the short run keeps a candidate to about a
//! second of one core. Measured on MNIST, x·σ(x) (slope ½ at 0) ranks in the top 9.8% with
//! these settings, the top 13.2% with 6 epochs, and the top 24% with 6 epochs under PyTorch's
//! default initialisation (`--init default`), where functions steeper than 1 at 0 lead
//! (tanh(x) + tanh(x) first): the shorter the run, the more the proxy rewards early
//! gradient flow over the function's quality. See
//! `minidl::search` for the grammar and the file format.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use minidl::cli::{InitKind, LrDecay, OptimizerKind};
use minidl::lab::{load_data, once_each, LabError};
use minidl::report::text_table;
use minidl::search::{self, Leaderboard, ProxyTask, Shard};

use common::CommonArgs;

/// Search for activation functions: train every candidate of the paper's grammar on a proxy
/// task and rank them.
#[derive(Parser)]
#[command(
    after_help = "Slurm array: --shard $SLURM_ARRAY_TASK_ID/N; Kubernetes indexed Job: \
                        --shard $JOB_COMPLETION_INDEX/N; then --merge FILES... --out FILE."
)]
pub struct Args {
    /// The leaderboard file (JSON Lines), resumed if it exists; with --merge, the merged file.
    #[arg(long, value_name = "FILE", default_value = "search.jsonl")]
    out: PathBuf,
    /// Score only shard i of n: the candidates whose index is i mod n (i from 0).
    #[arg(long, value_name = "I/N", default_value = "0/1", value_parser = Shard::parse)]
    shard: Shard,
    /// Join the leaderboards of all shards of one search into --out, then stop.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with = "shard")]
    merge: Vec<PathBuf>,
    /// Print the candidates and how they were chosen, then stop.
    #[arg(long)]
    list: bool,
    /// Only the first N candidates of the list (shortest formulas first).
    #[arg(long, value_name = "N", value_parser = minidl::cli::positive_whole)]
    candidates: Option<usize>,
    /// Candidates scored at once (one thread each) [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = minidl::cli::threads)]
    threads: Option<usize>,
    /// Hidden layers of the proxy MLP.
    #[arg(long, default_value_t = ProxyTask::default().depth, value_parser = minidl::cli::positive_whole)]
    depth: usize,
    /// Width of each hidden layer.
    #[arg(long, default_value_t = ProxyTask::default().width, value_parser = minidl::cli::positive_whole)]
    width: usize,
    /// Weight initialisation.
    #[arg(long, value_enum, default_value_t = ProxyTask::default().init)]
    init: InitKind,
    /// Optimizer.
    #[arg(long, value_enum, default_value_t = ProxyTask::default().optimizer)]
    optimizer: OptimizerKind,
    /// Learning rate at the start.
    #[arg(long, default_value_t = ProxyTask::default().lr, value_parser = minidl::cli::positive_number)]
    lr: f32,
    /// Learning-rate decay: cosine, constant, or a factor per epoch.
    #[arg(long, default_value_t = ProxyTask::default().lr_decay, value_parser = LrDecay::parse)]
    lr_decay: LrDecay,
    /// Batch size.
    #[arg(long, default_value_t = ProxyTask::default().batch_size, value_parser = minidl::cli::positive_whole)]
    batch_size: usize,
    /// Epochs over the training images.
    #[arg(long, default_value_t = ProxyTask::default().epochs, value_parser = minidl::cli::epochs)]
    epochs: usize,
    /// Training images: the first N of the training set.
    #[arg(long, default_value_t = ProxyTask::default().train, value_parser = minidl::cli::positive_whole)]
    train: usize,
    /// Held-out images scored on: the first N of the test set.
    #[arg(long, default_value_t = ProxyTask::default().test, value_parser = minidl::cli::positive_whole)]
    test: usize,
    /// Seed of the search (initial weights and data order).
    #[arg(long, default_value_t = ProxyTask::default().seed, value_parser = minidl::cli::seed)]
    seed: u64,
    /// After the search, re-train the K best candidates (and relu, swish, mish) with each of
    /// --seeds.
    #[arg(long, value_name = "K", value_parser = minidl::cli::positive_whole)]
    top: Option<usize>,
    /// Seeds of the --top re-runs, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3", value_parser = minidl::cli::seed)]
    seeds: Vec<u64>,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    common::run_main(run)
}

/// The most candidates the leaderboard table on the terminal shows.
const SHOWN: usize = 15;

/// Runs the search (or the merge, or the list) as the flags say, printing to `out`.
///
/// # Errors
/// A [`LabError`] for bad flags, data, or files, found before anything trains.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<(), LabError> {
    once_each("--seeds", &args.seeds)?;
    let threads = args.threads.unwrap_or_else(minidl::tensor::num_threads);
    if !args.merge.is_empty() {
        return merge(args, out);
    }
    if args.top.is_some() && args.shard != Shard::ALL {
        return Err(LabError::Usage(format!(
            "--top re-runs the best of the whole list, but --shard {} scores a part of it: \
             merge the shards first, then run --top on the merged file (without --shard)",
            args.shard
        )));
    }
    let e = search::enumerate();
    let mut candidates = e.candidates.clone();
    if let Some(n) = args.candidates {
        candidates.truncate(n);
    }
    if args.list {
        writeln!(
            out,
            "{} formulas: {} kept; dropped: {} without x (constants) or not parsed, {} NaN or infinite \
             on [-6, 6], {} linear, {} duplicates",
            e.generated,
            e.candidates.len(),
            e.unparsable,
            e.non_finite,
            e.linear,
            e.duplicates
        )?;
        for (i, c) in candidates.iter().enumerate() {
            writeln!(out, "{i:5}  {c}")?;
        }
        return Ok(());
    }
    prepare(&args.out, "--out")?;
    if let Some(dir) = &args.common.report {
        for f in search::SEARCH_REPORT_FILES {
            prepare(&dir.join(f), "--report")?;
        }
    }
    let task = ProxyTask {
        depth: args.depth,
        width: args.width,
        init: args.init,
        optimizer: args.optimizer,
        lr: args.lr,
        lr_decay: args.lr_decay,
        batch_size: args.batch_size,
        epochs: args.epochs,
        seed: args.seed,
        train: args.train,
        test: args.test,
    };
    // the network's size, before the data is read (MNIST's images: 28x28, 10 classes)
    task.config(args.seed).architecture.check(
        [1, 28, 28],
        10,
        args.batch_size.min(args.train),
        "--depth and --width",
    )?;
    let data = task.data(&load_data(&args.common.data, out)?)?;
    writeln!(
        out,
        "{} candidates ({} in shard {}); proxy: MLP {}x{} on {}, {} training and {} test \
         images, {} epochs ({} steps), {} {}, lr {} ({}), batch {}, seed {}; {threads} thread{}",
        candidates.len(),
        args.shard.size(candidates.len()),
        args.shard,
        args.depth,
        args.width,
        data.description,
        data.train.len(),
        data.test.len(),
        args.epochs,
        task.steps(),
        args.init,
        args.optimizer,
        args.lr,
        args.lr_decay,
        args.batch_size,
        args.seed,
        if threads == 1 { "" } else { "s" },
    )?;
    let board = search::search(
        &task,
        &data,
        &candidates,
        args.shard,
        &args.out,
        threads,
        args.common.quiet,
        out,
    )?;
    show(&board, out)?;
    writeln!(out, "leaderboard: {}", minidl::fs::shown(&args.out))?;
    let mut reevaluated = Vec::new();
    if let Some(k) = args.top {
        let mut formulas: Vec<String> = board
            .records
            .iter()
            .filter(|r| r.accuracy.is_some())
            .take(k)
            .map(|r| r.formula.clone())
            .collect();
        formulas.extend(search::BASELINES.iter().map(|b| b.to_string()));
        writeln!(
            out,
            "\nre-training the {} best and {} with seeds {:?}",
            formulas.len() - search::BASELINES.len(),
            search::BASELINES.join(", "),
            args.seeds
        )?;
        reevaluated = search::reevaluate(&task, &data, &formulas, &args.seeds, threads)?;
        let rows: Vec<Vec<String>> = reevaluated
            .iter()
            .map(|r| vec![r.formula.clone(), r.accuracy_text(), r.failures.to_string()])
            .collect();
        writeln!(
            out,
            "{}",
            text_table(
                &["activation", "accuracy (mean ± std)", "failed"],
                &rows,
                true
            )
        )?;
    }
    if let Some(dir) = &args.common.report {
        let settings = vec![
            ("data".to_string(), data.description.clone()),
            (
                "proxy".into(),
                format!(
                    "MLP {}x{}, {} {}, lr {} ({}), batch {}, {} epochs over {} images ({} steps), scored on {} test images",
                    args.depth, args.width, args.init, args.optimizer, args.lr, args.lr_decay,
                    args.batch_size, args.epochs, data.train.len(), task.steps(), data.test.len()
                ),
            ),
            ("seed".into(), args.seed.to_string()),
            ("candidates".into(), candidates.len().to_string()),
            ("re-run seeds".into(), format!("{:?}", args.seeds)),
        ];
        let written = search::write_search_report(dir, &board, &reevaluated, &settings)?;
        writeln!(
            out,
            "report: {}",
            written.last().expect("index.html").display()
        )?;
    }
    Ok(())
}

/// Checks before anything trains that `path` can be written.
fn prepare(path: &std::path::Path, flag: &'static str) -> Result<(), LabError> {
    minidl::fs::prepare_output(path)
        .map(|_| ())
        .map_err(|source| LabError::OutputPath { flag, source })
}

/// `--merge`: joins the shards' leaderboards into `--out`.
fn merge(args: &Args, out: &mut dyn Write) -> Result<(), LabError> {
    for f in &args.merge {
        if minidl::fs::absolute_key(f) == minidl::fs::absolute_key(&args.out) {
            return Err(LabError::Usage(format!(
                "--out {}: is also given to --merge: name a new file for the merged leaderboard",
                minidl::fs::shown(&args.out)
            )));
        }
    }
    prepare(&args.out, "--out")?;
    let mut parts = Vec::new();
    for f in &args.merge {
        parts.push((minidl::fs::shown(f), Leaderboard::read(f, None)?));
    }
    let board = Leaderboard::merge(&parts)?;
    board.write(&args.out, "--out")?;
    writeln!(
        out,
        "merged {} shards: {} candidates",
        parts.len(),
        board.records.len()
    )?;
    show(&board, out)?;
    writeln!(out, "leaderboard: {}", minidl::fs::shown(&args.out))?;
    Ok(())
}

/// The top of the leaderboard, and where the Swish family (x·σ(x)) ranks.
fn show(board: &Leaderboard, out: &mut dyn Write) -> Result<(), LabError> {
    let rows: Vec<Vec<String>> = board
        .records
        .iter()
        .take(SHOWN)
        .enumerate()
        .map(|(i, r)| {
            vec![
                (i + 1).to_string(),
                r.accuracy
                    .map_or("failed".into(), |a| format!("{:.2}%", a * 100.0)),
                r.loss.map_or("-".into(), |l| format!("{l:.4}")),
                r.formula.clone(),
            ]
        })
        .collect();
    writeln!(
        out,
        "\n{}",
        text_table(&["rank", "accuracy", "loss", "formula"], &rows, true)
    )?;
    // Where x·σ(x) ranks: the candidate whose values equal the registry's swish on the grid.
    let xs = search::grid();
    let swish = search::values(
        &minidl::nn::activation::ActivationSpec::parse("swish").expect("registered"),
        &xs,
    );
    let same = |f: &str| {
        minidl::nn::activation::ActivationSpec::parse(f).is_ok_and(|s| {
            search::values(&s, &xs)
                .iter()
                .zip(&swish)
                .all(|(a, b)| (a - b).abs() <= 1e-5 * b.abs().max(1.0))
        })
    };
    if let Some(rank) = board.records.iter().position(|r| same(&r.formula)) {
        let n = board.records.len();
        writeln!(
            out,
            "swish x·σ(x) ({}) ranks {} of {n} (top {:.1}%)",
            board.records[rank].formula,
            rank + 1,
            100.0 * (rank + 1) as f64 / n as f64
        )?;
    }
    Ok(())
}
