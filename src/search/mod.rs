//! Searching for activation functions, after Ramachandran, Zoph & Le (2017), "Searching for
//! Activation Functions" (the search that found Swish, x·σ(βx)): enumerate candidates from
//! the paper's grammar, score each on a small fixed proxy task, keep a leaderboard that
//! survives a kill, re-run the best over several seeds, and split the work across machines.
//!
//! | file | holds |
//! | --- | --- |
//! | `candidates.rs` | the grammar ([`UNARY`], [`BINARY`]), [`enumerate`]: the core units b(u₁(x), u₂(x)) as formulas, deduplicated by value |
//! | `leaderboard.rs` | [`Settings`], [`Record`], [`Shard`], [`Leaderboard`]: the JSON Lines file, resuming, [`Leaderboard::merge`] |
//! | `proxy.rs` | [`ProxyTask`]: training and scoring one candidate; [`run_parallel`] |
//! | `report.rs` | [`write_search_report`]: the ranked table and the f, f′ charts as HTML |
//!
//! # The candidates
//! Every core unit b(u₁(x), u₂(x)) with u₁, u₂ among the paper's unary functions (x, −x,
//! |x|, x², x³, √|x|, eˣ, sin, cos, tanh, sinh⁻¹, tan⁻¹, σ, softplus, erf, max(x, 0),
//! min(x, 0), e^(−x²), 0, 1) and b among its binary ones (+, −, ×, /, max, min, σ(a)·b):
//! 20 · 20 · 7 = 2800 formulas. Each is parsed by [`ActivationSpec::parse`], so a candidate
//! is an ordinary activation spec (`--activation 'sigmoid(x) * x'` trains it in the `mnist`
//! example). They are sorted shortest first and compared by their values at 201 points from
//! −6 to 6 (5 significant digits): of formulas with equal values only the first is kept
//! (`x * sigmoid(x)` and `sigmoid(x) * x` are one candidate). Dropped: formulas with NaN or
//! ±inf on the grid (`1 / x`), and constant or linear ones (`x + x`): a linear activation
//! makes the network one linear map, which needs no search.
//!
//! # The proxy task, and the leaderboard
//! [`ProxyTask`]: an MLP of `depth` × `width` hidden layers, trained by the lab's
//! [`Trainer`](crate::lab::Trainer) on the first images of the training set for a fixed number
//! of steps and scored by its accuracy on the first images of the test set (then its loss, to
//! break ties). The leaderboard is JSON Lines: a settings line ([`Settings`]: everything that
//! decides a result, with hashes of the candidate list and of the images), then one
//! [`Record`] per finished candidate, best first. It is rewritten atomically after every
//! candidate; a search started again with the same settings reads it back and skips what is
//! finished, and refuses a file written with other settings.
//!
//! # Shards
//! `--shard i/n` scores the candidates whose index is i mod n: n processes (a Slurm job array,
//! a Kubernetes indexed Job) split the list, and [`Leaderboard::merge`] joins their files into
//! the leaderboard one process would have written, byte for byte.
//!
//! [`ActivationSpec::parse`]: nn::activation::ActivationSpec::parse

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use crate::lab::{Data, LabError};

mod candidates;
mod leaderboard;
mod proxy;
mod report;

pub use candidates::{
    enumerate, grid, values, values_and_slopes, Binary, Enumeration, BINARY, GRID_POINTS, UNARY,
};
pub use leaderboard::{fnv1a, Leaderboard, Record, Settings, Shard, LEADERBOARD_VERSION};
pub use proxy::{run_parallel, ProxyTask};
pub use report::{write_search_report, Reevaluation, BASELINES, SEARCH_REPORT_FILES};

/// Scores the candidates of `shard` that `out` does not hold yet on `task`, on `threads`
/// threads, writing the leaderboard to `out` (atomically) after each and a line per candidate
/// to `log` (unless `quiet`). `data` is the task's ([`ProxyTask::data`]). An existing `out`
/// from the same settings is resumed: its candidates are not run again.
///
/// # Errors
/// [`LabError::Usage`] for an `out` that is not a leaderboard of these settings (naming what
/// differs) or is damaged; [`LabError::OutputPath`] if it cannot be written;
/// [`LabError::Output`] if `log` fails.
#[allow(clippy::too_many_arguments)]
pub fn search(
    task: &ProxyTask,
    data: &Data,
    candidates: &[String],
    shard: Shard,
    out: &Path,
    threads: usize,
    quiet: bool,
    log: &mut dyn Write,
) -> Result<Leaderboard, LabError> {
    let settings = task.settings(data, candidates, shard);
    let mut board = resume(out, &settings, candidates)?;
    let todo: Vec<usize> = (0..candidates.len())
        .filter(|&i| shard.contains(i) && !board.contains(i))
        .collect();
    let total = shard.size(candidates.len());
    if !board.records.is_empty() {
        writeln!(
            log,
            "resuming {}: {} of {total} candidates done, {} to go",
            crate::fs::shown(out),
            board.records.len(),
            todo.len()
        )?;
    }
    // the file exists from the start, so a kill before the first candidate leaves a settings line
    board.write(out, "--out")?;
    let start = Instant::now();
    let mut finished = 0usize;
    run_parallel(
        todo.len(),
        threads,
        |j| {
            let i = todo[j];
            task.evaluate(i, &candidates[i], task.seed, data)
        },
        |_, record| {
            finished += 1;
            let line = format!(
                "[{}/{total}] {:>7}  {}{}",
                board.records.len() + 1,
                record
                    .accuracy
                    .map_or("failed".into(), |a| format!("{:.2}%", a * 100.0)),
                record.formula,
                record
                    .failure
                    .as_ref()
                    .map_or(String::new(), |f| format!("  ({f})"))
            );
            board.insert(record);
            board.write(out, "--out")?;
            if !quiet {
                writeln!(log, "{line}")?;
            }
            Ok(())
        },
    )?;
    let seconds = start.elapsed().as_secs_f64();
    if finished > 0 {
        writeln!(
            log,
            "scored {finished} candidates in {seconds:.1} s on {threads} thread{}: {:.1} \
             candidates/minute",
            if threads == 1 { "" } else { "s" },
            finished as f64 * 60.0 / seconds.max(1e-9)
        )?;
    }
    Ok(board)
}

/// The leaderboard in `out` if it exists (checked against `settings` and `candidates`), else
/// an empty one.
fn resume(out: &Path, settings: &Settings, candidates: &[String]) -> Result<Leaderboard, LabError> {
    if !out.exists() {
        return Ok(Leaderboard::new(settings.clone()));
    }
    let board = Leaderboard::read(out, Some(candidates))?;
    let shown = crate::fs::shown(out);
    let diff = board.settings.differences(settings);
    if !diff.is_empty() {
        return Err(LabError::Usage(format!(
            "--out {shown}: written by a search with other settings ({}): rerun with those \
             settings to resume it, or name another --out",
            diff.join(", ")
        )));
    }
    if board.settings.shard != settings.shard {
        return Err(LabError::Usage(format!(
            "--out {shown}: holds shard {}, not --shard {}: name that shard's own file",
            board.settings.shard, settings.shard
        )));
    }
    Ok(board)
}

/// Re-runs each of `formulas` with each of `seeds` on `task` (on `threads` threads), for
/// mean ± spread.
///
/// Failed runs are counted, not errors.
///
/// # Errors
/// None today (the signature leaves room for the runner's).
pub fn reevaluate(
    task: &ProxyTask,
    data: &Data,
    formulas: &[String],
    seeds: &[u64],
    threads: usize,
) -> Result<Vec<Reevaluation>, LabError> {
    let jobs: Vec<(usize, u64)> = (0..formulas.len())
        .flat_map(|f| seeds.iter().map(move |&s| (f, s)))
        .collect();
    let mut results: Vec<Vec<Option<Record>>> = vec![vec![None; seeds.len()]; formulas.len()];
    run_parallel(
        jobs.len(),
        threads,
        |j| {
            let (f, s) = jobs[j];
            task.evaluate(f, &formulas[f], s, data)
        },
        |j, r| {
            let (f, s) = jobs[j];
            let k = seeds.iter().position(|&x| x == s).expect("a listed seed");
            results[f][k] = Some(r);
            Ok(())
        },
    )?;
    let rows: Vec<Reevaluation> = formulas
        .iter()
        .zip(results)
        .map(|(f, rs)| Reevaluation::new(f, rs.into_iter().flatten().collect()))
        .collect();
    Ok(rows)
}
