//! The text printed to the terminal after each epoch and at the end of a comparison: the
//! epoch's summary line, the per-layer table and the comparison table, as aligned columns.

use super::table::{best_epoch, fmt_pct, layer_rows, params_text, DASH};
use crate::metrics::{EpochMetrics, LayerStats, RunHistory};

/// One summary line for a finished epoch, e.g.
/// `relu  epoch 3  train loss 0.1234  test loss 0.1100  test acc 96.72%  4.1 s  14650 samples/s`,
/// followed by learnable activation parameters (`1.beta = 1.2500`) when there are any.
pub fn format_epoch_line(m: &EpochMetrics) -> String {
    let mut s = format!(
        "{}  epoch {}  train loss {:.4}  test loss {:.4}  test acc {}  {:.1} s  {:.0} samples/s",
        m.activation,
        m.epoch,
        m.train_loss,
        m.test_loss,
        fmt_pct(m.test_accuracy, 2),
        m.seconds,
        m.samples_per_sec
    );
    if !m.params.is_empty() {
        s.push_str("  ");
        s.push_str(&params_text(m));
    }
    s
}

/// Renders rows as aligned columns separated by two spaces: the first column left-aligned,
/// the others right-aligned; with `rule`, a line of dashes as wide as the table under the
/// header. No trailing spaces, no final newline.
pub fn text_table(headers: &[&str], rows: &[Vec<String>], rule: bool) -> String {
    let cols = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, cell) in cells.enumerate().take(cols) {
            let pad = widths[i].saturating_sub(cell.chars().count());
            if i == 0 {
                s.push_str(cell);
                s.extend(std::iter::repeat_n(' ', pad));
            } else {
                s.push_str("  ");
                s.extend(std::iter::repeat_n(' ', pad));
                s.push_str(cell);
            }
        }
        s.trim_end().to_string()
    };
    let mut lines = vec![line(&mut headers.iter().copied())];
    if rule {
        let width = widths.iter().sum::<usize>() + 2 * cols.saturating_sub(1);
        lines.push("-".repeat(width));
    }
    for row in rows {
        lines.push(line(&mut row.iter().map(String::as_str)));
    }
    lines.join("\n")
}

/// The per-layer table printed after each epoch: layer, dead %, saturated %, output mean and
/// std, gradient norm; `-` where a value does not apply. Columns are aligned (names left,
/// numbers right); no final newline. For example:
///
/// ```text
/// layer     dead %  saturated %    mean     std  grad norm
/// 0.weight       -            -       -       -    1.25e-1
/// 1           6.2%        50.0%  0.7500  1.5000          -
/// ```
pub fn format_layer_table(layers: &[LayerStats]) -> String {
    let (headers, rows) = layer_rows(layers);
    text_table(&headers, &rows, false)
}

/// One row per run, for the end of a comparison: activation, epochs, final test accuracy,
/// best test accuracy, final test and train loss, total training time. Aligned columns; no
/// final newline.
pub fn format_comparison_table(runs: &[RunHistory]) -> String {
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let last = r.last_epoch();
            vec![
                r.activation.clone(),
                r.epochs.len().to_string(),
                last.map_or(DASH.into(), |e| fmt_pct(e.test_accuracy, 2)),
                best_epoch(r).map_or(DASH.into(), |e| fmt_pct(e.test_accuracy, 2)),
                last.map_or(DASH.into(), |e| format!("{:.4}", e.test_loss)),
                last.map_or(DASH.into(), |e| format!("{:.4}", e.train_loss)),
                format!("{:.1} s", r.total_seconds()),
            ]
        })
        .collect();
    text_table(
        &[
            "activation",
            "epochs",
            "test acc",
            "best acc",
            "test loss",
            "train loss",
            "time",
        ],
        &rows,
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::demo::demo_runs;

    #[test]
    fn layer_table_aligns_columns() {
        let layers = [
            LayerStats::parameter("0.weight", 0.125),
            LayerStats::activation("1", 0.0625, 0.5, 0.75, 1.5),
            LayerStats {
                name: "classifier.weight".into(),
                mean: Some(-12.5),
                grad_norm: Some(f32::NAN),
                ..LayerStats::default()
            },
        ];
        assert_eq!(
            format_layer_table(&layers),
            "layer              dead %  saturated %      mean     std  grad norm\n\
             0.weight                -            -         -       -    1.25e-1\n\
             1                    6.2%        50.0%    0.7500  1.5000          -\n\
             classifier.weight       -            -  -12.5000       -        NaN"
        );
        assert_eq!(
            format_layer_table(&[]),
            "layer  dead %  saturated %  mean  std  grad norm"
        );
    }

    #[test]
    fn comparison_table_and_epoch_line() {
        let mut runs = demo_runs(2, 1);
        runs.truncate(2);
        runs.push(RunHistory::new("elu"));
        assert_eq!(
            format_comparison_table(&runs),
            "activation  epochs  test acc  best acc  test loss  train loss    time\n\
             relu             2    96.75%    96.75%     0.1125      0.1350   8.0 s\n\
             sigmoid          2    95.00%    95.00%     0.2000      0.2400  10.0 s\n\
             elu              0         -         -          -           -   0.0 s"
        );
        let swish = &demo_runs(1, 1)[2].epochs[0];
        assert_eq!(
            format_epoch_line(swish),
            "swish  epoch 1  train loss 0.2400  test loss 0.2000  test acc 95.00%  6.0 s  \
             5000 samples/s  1.beta = 1.1000"
        );
        let mut relu = demo_runs(1, 1)[0].epochs[0].clone();
        relu.train_loss = f32::NAN;
        assert_eq!(
            format_epoch_line(&relu),
            "relu  epoch 1  train loss NaN  test loss 0.2250  test acc 94.50%  4.0 s  \
             15000 samples/s"
        );
    }
}
