//! What the terminal tables and the HTML tables share: how a cell writes a percentage, a
//! missing value and learned parameters, the rows of the per-layer table, and a run's best
//! epoch. Both renderers take their rows from here, so a number reads the same in both.

use crate::metrics::{EpochMetrics, LayerStats, RunHistory};

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
