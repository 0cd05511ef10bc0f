//! The text printed to the terminal after each epoch and at the end of a comparison: the
//! epoch's summary line, the per-layer table and the comparison table, as aligned columns.

use super::table::{
    best_epoch, fmt_pct, groups, layer_rows, params_text, seed_rows, several_seeds, DASH,
};
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
///
/// When an activation has runs from several seeds (the same name, one run per seed), one row
/// per activation instead: its number of seeds, then each figure as mean ± sample standard
/// deviation over the seeds (the time is their total), and with two activations or more a
/// **verdict** on the final test accuracy against the first activation's — `higher, p =
/// 0.003`, or `within the seeds' spread, p = 0.41` when Welch's t-test
/// ([`stats::compare`](crate::stats::compare)) cannot tell them apart — and under the table
/// a line naming the seeds and the test:
///
/// ```text
/// activation  seeds  epochs        test acc        best acc        test loss       train loss   time            verdict
/// relu            3       1  96.39% ± 0.05%  96.39% ± 0.05%  0.1202 ± 0.0022  0.2284 ± 0.0027  3.5 s           baseline
/// sigmoid         3       1  93.39% ± 0.08%  93.39% ± 0.08%  0.2312 ± 0.0029  0.4404 ± 0.0059  3.9 s   lower, p < 0.001
/// mish            3       1  96.67% ± 0.02%  96.67% ± 0.02%  0.1094 ± 0.0006  0.2120 ± 0.0018  3.8 s  higher, p = 0.005
///
/// mean ± sample std over 3 seeds (0,1,2); verdict: final test accuracy against relu (the
/// first listed) by Welch's t-test, two-sided, p < 0.05
/// ```
///
/// (the last line is one line; MNIST, one epoch, `--seeds 3`).
pub fn format_comparison_table(runs: &[RunHistory]) -> String {
    let groups = groups(runs);
    if several_seeds(&groups) {
        let (headers, rows, footer) = seed_rows(&groups);
        return format!(
            "{}

{footer}",
            text_table(&headers, &rows, false)
        );
    }
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
    use crate::report::demo::{demo_runs, demo_seed_runs};
    use crate::report::table::fmt_p;
    use crate::stats;

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

    #[test]
    fn several_seeds_give_mean_and_std_and_a_verdict_against_the_first() {
        let runs = demo_seed_runs(3, 2, 1);
        let table = format_comparison_table(&runs);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 6, "{table}");
        let header: Vec<&str> = lines[0]
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            header,
            [
                "activation",
                "seeds",
                "epochs",
                "test acc",
                "best acc",
                "test loss",
                "train loss",
                "time",
                "verdict"
            ]
        );
        // relu's final accuracies are 96.75%, 96.95% and 97.15%: mean 96.95%, std 0.20%
        assert!(
            lines[1].starts_with("relu            3       2  96.95% ± 0.20%"),
            "{table}"
        );
        assert!(lines[1].ends_with("  baseline"), "{table}");
        let accuracies = |k: usize| -> Vec<f32> {
            runs.iter()
                .skip(k)
                .step_by(3)
                .map(|r| r.last_epoch().unwrap().test_accuracy)
                .collect()
        };
        let sigmoid = stats::compare(&accuracies(1), &accuracies(0));
        let swish = stats::compare(&accuracies(2), &accuracies(0));
        assert_eq!(sigmoid.verdict, stats::Verdict::Lower);
        assert_eq!(swish.verdict, stats::Verdict::WithinSpread);
        assert!(lines[2].starts_with("sigmoid"), "{table}");
        assert!(
            lines[2].ends_with(&format!("  lower, {}", fmt_p(sigmoid.p))),
            "{table}"
        );
        assert!(
            lines[3].ends_with(&format!("  within the seeds' spread, {}", fmt_p(swish.p))),
            "{table}"
        );
        assert_eq!(lines[4], "");
        assert_eq!(
            lines[5],
            format!(
                "mean ± sample std over 3 seeds (0,1,2); verdict: final test accuracy against \
                 relu (the first listed) by {}",
                stats::TEST_NAME
            )
        );

        // one activation from several seeds: its spread, and nothing to compare it with
        let relu: Vec<RunHistory> = runs.into_iter().step_by(3).collect();
        let table = format_comparison_table(&relu);
        assert!(!table.contains("verdict"), "{table}");
        assert!(
            table.ends_with("\n\nmean ± sample std over 3 seeds (0,1,2)"),
            "{table}"
        );
    }

    #[test]
    fn p_values_are_rounded_for_reading() {
        assert_eq!(fmt_p(0.4123), "p = 0.41");
        assert_eq!(fmt_p(0.0312), "p = 0.03");
        assert_eq!(fmt_p(0.00312), "p = 0.003");
        assert_eq!(fmt_p(0.0002), "p < 0.001");
        assert_eq!(fmt_p(f64::NAN), "-");
    }
}
