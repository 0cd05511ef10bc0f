//! `index.html`: the page that shows a report's settings, the final metrics of each run, the
//! charts and the final per-layer tables, with its stylesheet inline.

use std::fmt::Write as _;

use super::charts::CHART_FILES;
use super::table::{
    best_epoch, fmt_pct, groups, layer_rows, params_text, seed_rows, several_seeds, DASH,
};
use super::Note;
use crate::metrics::RunHistory;

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML table; columns from `first_num` on are numbers, aligned right.
pub(crate) fn html_table(
    out: &mut String,
    headers: &[&str],
    rows: &[Vec<String>],
    first_num: usize,
) {
    out.push_str("<table>\n<tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if i >= first_num { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", esc(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// The whole page for `runs`, with `settings` as `(name, value)` rows at the top; it refers to
/// the [`CHART_FILES`] by their names, so it belongs in the same folder.
pub(super) fn index_html(
    runs: &[RunHistory],
    settings: &[(String, String)],
    notes: &[Note],
) -> String {
    let groups = groups(runs);
    let seeds = several_seeds(&groups);
    let names: Vec<&str> = groups.iter().map(|g| g.activation).collect();
    let mut h = String::new();
    let title = if names.is_empty() {
        "minidl report".to_string()
    } else {
        format!("minidl report: {}", names.join(" vs "))
    };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );

    h.push_str("<h2>Settings</h2>\n");
    if settings.is_empty() {
        h.push_str("<p class=\"note\">No settings recorded.</p>\n");
    } else {
        let rows: Vec<Vec<String>> = settings
            .iter()
            .map(|(k, v)| vec![k.clone(), v.clone()])
            .collect();
        html_table(&mut h, &["setting", "value"], &rows, 2);
    }

    h.push_str("<h2>Results</h2>\n");
    if seeds {
        let (headers, rows, footer) = seed_rows(&groups);
        html_table(&mut h, &headers, &rows, 1);
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(&footer));
    }
    let with_params = runs
        .iter()
        .any(|r| r.last_epoch().is_some_and(|e| !e.params.is_empty()));
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let last = r.last_epoch();
            let best = best_epoch(r);
            let mut row = vec![
                r.activation.clone(),
                r.epochs.len().to_string(),
                last.map_or(DASH.into(), |e| fmt_pct(e.test_accuracy, 2)),
                best.map_or(DASH.into(), |e| {
                    format!("{} (epoch {})", fmt_pct(e.test_accuracy, 2), e.epoch)
                }),
                last.map_or(DASH.into(), |e| format!("{:.4}", e.test_loss)),
                last.map_or(DASH.into(), |e| format!("{:.4}", e.train_loss)),
                format!("{:.1} s", r.total_seconds()),
                last.map_or(DASH.into(), |e| format!("{:.0}", e.samples_per_sec)),
            ];
            if with_params {
                // Text, so it sits left of the numbers.
                row.insert(1, last.map_or(String::new(), params_text));
            }
            row
        })
        .collect();
    if rows.is_empty() {
        h.push_str("<p class=\"note\">No runs recorded.</p>\n");
    } else if !seeds {
        let mut headers = vec![
            "activation",
            "epochs",
            "test acc",
            "best test acc",
            "test loss",
            "train loss",
            "time",
            "samples/s",
        ];
        if with_params {
            headers.insert(1, "learned parameters");
        }
        html_table(&mut h, &headers, &rows, if with_params { 2 } else { 1 });
    }

    for note in notes {
        let _ = write!(
            h,
            "<h2>{}</h2>\n<pre>{}</pre>\n",
            esc(&note.title),
            esc(note.text.trim_end())
        );
    }

    h.push_str("<h2>Charts</h2>\n");
    let captions = [
        "Training loss per step (log scale). Faint: every step; solid: moving average.",
        "Test accuracy after each epoch.",
        "Mean gradient norm of each parameter per epoch (log scale). Vanishing gradients \
         show as lines falling by decades, exploding ones as lines rising.",
        "Fraction of units whose output was zero for every training sample of the epoch.",
    ];
    let captions = captions.map(|c| {
        if !seeds {
            return c.to_string();
        }
        match c.split_once(" Faint:") {
            Some((loss, _)) => format!(
                "{loss} Solid: the mean over the seeds of each seed's moving average; shaded: \
                 their range, from the lowest seed's to the highest's."
            ),
            None => format!("{c} {SPREAD_NOTE}"),
        }
    });
    for (file, caption) in CHART_FILES.iter().zip(captions) {
        let _ = write!(
            h,
            "<figure>\n<img src=\"{file}\" alt=\"{}\">\n<figcaption>{}</figcaption>\n</figure>\n",
            esc(&caption),
            esc(&caption)
        );
    }

    h.push_str("<h2>Layers after the last epoch</h2>\n");
    for r in runs {
        let Some(last) = r.last_epoch() else { continue };
        let seed = if seeds {
            format!(", seed {}", r.seed)
        } else {
            String::new()
        };
        let _ = writeln!(
            h,
            "<h3>{} <span class=\"note\">(epoch {}{seed})</span></h3>",
            esc(&r.activation),
            last.epoch
        );
        let (headers, rows) = layer_rows(&last.layers);
        html_table(&mut h, &headers, &rows, 1);
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// What a chart of several seeds shows, said under each chart.
const SPREAD_NOTE: &str = "Each line is the mean over an activation's seeds; the shaded band \
(a bar at a single epoch) is their range, from the lowest seed's value to the highest's.";

pub(crate) const CSS: &str =
    "body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; \
max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-bottom: 0.4em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.92em; }
th, td { padding: 0.3em 0.8em; border-bottom: 1px solid #e4e4e4; text-align: left; }
th { background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.2em 0; }
figure img { width: 100%; max-width: 960px; border: 1px solid #e4e4e4; }
figcaption, .note { color: #666; font-size: 0.9em; }
pre { background: #f7f7f7; padding: 0.6em 0.8em; overflow-x: auto; font-size: 0.88em; }
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_escapes_markup_and_quotes() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
