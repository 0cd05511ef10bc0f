//! What the terminal tables and the HTML tables share: how a cell writes a percentage, a
//! missing value and learned parameters, the rows of the per-layer table, a run's best epoch,
//! and with several seeds the runs grouped by activation and the rows of mean ± std with
//! their verdicts. Both renderers take their rows from here, so a number reads the same in both.

use crate::metrics::{EpochMetrics, LayerStats, RunHistory};
use crate::stats::{self, Summary, Verdict};

/// The cell of a value that does not apply.
pub(super) const DASH: &str = "-";

/// `v` (a fraction) as a percentage with `decimals` decimals, e.g. `97.25%`.
pub(super) fn fmt_pct(v: f32, decimals: usize) -> String {
    format!("{:.*}%", decimals, v * 100.0)
}

/// Learnable activation parameters as `name = value` pairs, e.g. `1.beta = 1.2500`.
pub(super) fn params_text(e: &EpochMetrics) -> String {
    e.params
        .iter()
        .map(|(k, v)| format!("{k} = {v:.4}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The best test accuracy of a run and its epoch.
pub(super) fn best_epoch(r: &RunHistory) -> Option<&EpochMetrics> {
    r.epochs
        .iter()
        .filter(|e| e.test_accuracy.is_finite())
        .max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
}

fn opt(v: Option<f32>, f: impl Fn(f32) -> String) -> String {
    v.map_or(DASH.to_string(), f)
}

/// The headers and rows of the per-layer table: layer, dead %, saturated %, output mean and
/// std, gradient norm; [`DASH`] where a value does not apply.
pub(super) fn layer_rows(layers: &[LayerStats]) -> ([&'static str; 6], Vec<Vec<String>>) {
    let headers = ["layer", "dead %", "saturated %", "mean", "std", "grad norm"];
    let rows = layers
        .iter()
        .map(|l| {
            vec![
                l.name.clone(),
                opt(l.dead_fraction, |v| fmt_pct(v, 1)),
                opt(l.saturated_fraction, |v| fmt_pct(v, 1)),
                opt(l.mean, |v| format!("{v:.4}")),
                opt(l.std, |v| format!("{v:.4}")),
                opt(l.grad_norm, |v| format!("{v:.2e}")),
            ]
        })
        .collect();
    (headers, rows)
}

/// The runs of one activation, one per seed, in the order they came.
pub(super) struct Group<'a> {
    /// The activation as given.
    pub activation: &'a str,
    /// Its runs.
    pub runs: Vec<&'a RunHistory>,
}

/// The runs grouped by activation, in order of first appearance: with `--seeds`, each group
/// holds one run per seed; otherwise each holds one run.
pub(super) fn groups(runs: &[RunHistory]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = Vec::new();
    for r in runs {
        match groups.iter_mut().find(|g| g.activation == r.activation) {
            Some(g) => g.runs.push(r),
            None => groups.push(Group {
                activation: &r.activation,
                runs: vec![r],
            }),
        }
    }
    groups
}

/// Whether some activation was trained from several seeds: then tables show mean ± std over
/// the seeds and charts a mean line with a band.
pub(super) fn several_seeds(groups: &[Group]) -> bool {
    groups.iter().any(|g| g.runs.len() > 1)
}

/// A p-value as the verdicts show it: two decimals, three below 0.01, `p < 0.001` below that.
pub(super) fn fmt_p(p: f64) -> String {
    match p {
        p if p.is_nan() => DASH.into(),
        p if p < 0.001 => "p < 0.001".into(),
        p if p < 0.01 => format!("p = {p:.3}"),
        p => format!("p = {p:.2}"),
    }
}

/// The final test accuracy of each run of `g` (NaN for a run without epochs).
fn final_accuracies(g: &Group) -> Vec<f32> {
    g.runs
        .iter()
        .map(|r| r.last_epoch().map_or(f32::NAN, |e| e.test_accuracy))
        .collect()
}

/// The comparison over seeds, as terminal and HTML show it: one row per activation with the
/// mean ± sample std over its seeds of the final test accuracy, the best test accuracy, the
/// final test and training losses, the total training time of its runs, and (with two
/// activations or more) a verdict on its test accuracy against the first activation's from
/// [`stats::compare`]; then the line that names the test and the seeds.
pub(super) fn seed_rows(groups: &[Group]) -> (Vec<&'static str>, Vec<Vec<String>>, String) {
    let pct = |v: f64| format!("{:.2}%", v * 100.0);
    let num = |v: f64| format!("{v:.4}");
    let show = |values: Vec<f32>, f: &dyn Fn(f64) -> String| {
        let s = Summary::of(&values);
        if s.mean.is_nan() {
            DASH.to_string()
        } else {
            s.show(f)
        }
    };
    let baseline = groups.first().map(final_accuracies).unwrap_or_default();
    let verdicts = groups.len() > 1;
    let rows = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let last = |f: fn(&EpochMetrics) -> f32| -> Vec<f32> {
                g.runs
                    .iter()
                    .map(|r| r.last_epoch().map_or(f32::NAN, f))
                    .collect()
            };
            let best: Vec<f32> = g
                .runs
                .iter()
                .map(|r| best_epoch(r).map_or(f32::NAN, |e| e.test_accuracy))
                .collect();
            let epochs = g.runs.iter().map(|r| r.epochs.len()).max().unwrap_or(0);
            let seconds: f64 = g.runs.iter().map(|r| r.total_seconds()).sum();
            let mut row = vec![
                g.activation.to_string(),
                g.runs.len().to_string(),
                epochs.to_string(),
                show(last(|e| e.test_accuracy), &pct),
                show(best, &pct),
                show(last(|e| e.test_loss), &num),
                show(last(|e| e.train_loss), &num),
                format!("{seconds:.1} s"),
            ];
            if verdicts {
                row.push(if i == 0 {
                    "baseline".into()
                } else {
                    let c = stats::compare(&final_accuracies(g), &baseline);
                    match c.verdict {
                        Verdict::NeedSeeds => c.verdict.to_string(),
                        v => format!("{v}, {}", fmt_p(c.p)),
                    }
                });
            }
            row
        })
        .collect();
    let mut headers = vec![
        "activation",
        "seeds",
        "epochs",
        "test acc",
        "best acc",
        "test loss",
        "train loss",
        "time",
    ];
    let seeds: Vec<String> = groups
        .first()
        .map(|g| g.runs.iter().map(|r| r.seed.to_string()).collect())
        .unwrap_or_default();
    let spread = format!(
        "mean ± sample std over {} seeds ({})",
        seeds.len(),
        seeds.join(",")
    );
    let footer = if verdicts {
        headers.push("verdict");
        let first = groups.first().map_or("", |g| g.activation);
        format!(
            "{spread}; verdict: final test accuracy against {first} (the first listed) by \
             {}",
            stats::TEST_NAME
        )
    } else {
        spread
    };
    (headers, rows, footer)
}
