//! The search's HTML report: the settings, the re-runs of the best candidates over several
//! seeds, the ranked leaderboard, and two charts, f and f′ of the best candidates beside the
//! [`BASELINES`], drawn with the lab report's style and palette.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use nn::activation::ActivationSpec;
use plotters::prelude::*;

use super::candidates::{grid, values_and_slopes};
use super::leaderboard::{Leaderboard, Record};
use crate::fs::{create_dir_all, write_atomic};
use crate::report::charts::{draw_legend, FONT, PALETTE};
use crate::report::html::{esc, html_table, CSS};
use crate::report::ReportError;

/// The activations the charts show beside the candidates: ReLU, Swish (x·σ(x)) and Mish.
pub const BASELINES: [&str; 3] = ["relu", "swish", "mish"];

/// The files [`write_search_report`] writes, in order.
pub const SEARCH_REPORT_FILES: [&str; 3] = ["f.svg", "f_prime.svg", "index.html"];

/// One candidate re-run over several seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Reevaluation {
    /// The formula (or a baseline's spec).
    pub formula: String,
    /// `(seed, accuracy)` of each run that finished.
    pub accuracies: Vec<f32>,
    /// Runs that failed (the loss went NaN or infinite).
    pub failures: usize,
    /// Mean accuracy over the finished runs.
    pub mean: f32,
    /// Sample standard deviation (0 for one run).
    pub std: f32,
}

impl Reevaluation {
    /// The mean accuracy ± its spread in percent, as the table and the page show it:
    /// `"84.05% ± 0.45"`.
    pub fn accuracy_text(&self) -> String {
        format!("{:.2}% ± {:.2}", self.mean * 100.0, self.std * 100.0)
    }

    /// The summary of `runs`, all of `formula`.
    pub fn new(formula: &str, runs: Vec<Record>) -> Reevaluation {
        let accuracies: Vec<f32> = runs.iter().filter_map(|r| r.accuracy).collect();
        // mean and sample std in f64 (stats::Summary); no spread from fewer than two runs
        let summary = crate::stats::Summary::of(&accuracies);
        Reevaluation {
            formula: formula.to_string(),
            failures: runs.len() - accuracies.len(),
            accuracies,
            mean: summary.mean as f32,
            std: if summary.n < 2 {
                0.0
            } else {
                summary.std as f32
            },
        }
    }
}

/// The most candidates a chart shows: the palette has 10 colours and the baselines take 3, so
/// no colour repeats within a chart.
const CHART_CANDIDATES: usize = PALETTE.len() - BASELINES.len();

/// Writes `f.svg`, `f_prime.svg` and `index.html` into `dir` (created if missing): the
/// settings, the re-runs (`reevaluated`, may be empty), every record of `board` ranked, and
/// f and f′ of the best candidates (at most 7) beside the [`BASELINES`], each line its own
/// colour. Returns the paths written.
///
/// # Errors
/// [`ReportError::Write`] when a file cannot be written, [`ReportError::Chart`] if a chart
/// cannot be drawn.
pub fn write_search_report(
    dir: &Path,
    board: &Leaderboard,
    reevaluated: &[Reevaluation],
    settings: &[(String, String)],
) -> Result<Vec<PathBuf>, ReportError> {
    create_dir_all(dir)?;
    let mut lines: Vec<(String, Vec<f32>, Vec<f32>)> = Vec::new();
    let xs = grid();
    let best = board
        .records
        .iter()
        .filter(|r| r.accuracy.is_some())
        .take(CHART_CANDIDATES);
    for spec in best.map(|r| r.formula.as_str()).chain(BASELINES) {
        // every record's formula parsed when the search scored it; the baselines are registered
        if let Ok(s) = ActivationSpec::parse(spec) {
            let (f, d) = values_and_slopes(&s, &xs);
            lines.push((spec.to_string(), f, d));
        }
    }
    let mut written = Vec::new();
    for (file, derivative) in [
        (SEARCH_REPORT_FILES[0], false),
        (SEARCH_REPORT_FILES[1], true),
    ] {
        let svg = chart(&xs, &lines, derivative).map_err(|e| ReportError::Chart {
            file,
            message: e.to_string(),
        })?;
        let path = dir.join(file);
        write_atomic(&path, svg.as_bytes())?;
        written.push(path);
    }
    let path = dir.join(SEARCH_REPORT_FILES[2]);
    write_atomic(&path, index_html(board, reevaluated, settings).as_bytes())?;
    written.push(path);
    Ok(written)
}

/// f (or f′) of every line over `xs`, the y axis clipped to the values' middle 98% so one
/// exploding candidate does not flatten the rest.
fn chart(
    xs: &[f32],
    lines: &[(String, Vec<f32>, Vec<f32>)],
    derivative: bool,
) -> Result<String, Box<dyn std::error::Error>> {
    let ys = |l: &(String, Vec<f32>, Vec<f32>)| if derivative { l.2.clone() } else { l.1.clone() };
    let mut all: Vec<f32> = lines
        .iter()
        .flat_map(ys)
        .filter(|v| v.is_finite())
        .collect();
    all.sort_by(f32::total_cmp);
    let (lo, hi) = if all.is_empty() {
        (-1.0, 1.0)
    } else {
        let q = |p: f32| all[((all.len() - 1) as f32 * p) as usize];
        (q(0.01).min(-1.0), q(0.99).max(1.0))
    };
    let pad = 0.08 * (hi - lo);
    let title = if derivative {
        "f′(x) of the best candidates and the baselines"
    } else {
        "f(x) of the best candidates and the baselines"
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 560)).into_drawing_area();
        root.fill(&WHITE)?;
        let (x0, x1) = (xs[0], xs[xs.len() - 1]);
        let mut c = ChartBuilder::on(&root)
            .caption(title, (FONT, 22))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, (lo - pad)..(hi + pad))?;
        c.configure_mesh()
            .x_desc("x")
            .y_desc(if derivative { "f′(x)" } else { "f(x)" })
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .bold_line_style(RGBColor(0xd0, 0xd0, 0xd0))
            .draw()?;
        for (i, line) in lines.iter().enumerate() {
            let color = PALETTE[i];
            let baseline = i + BASELINES.len() >= lines.len();
            let style = color.stroke_width(if baseline { 2 } else { 3 });
            let points: Vec<(f32, f32)> = xs
                .iter()
                .copied()
                .zip(ys(line))
                .map(|(x, y)| {
                    (
                        x,
                        if y.is_finite() {
                            y.clamp(lo - pad, hi + pad)
                        } else {
                            f32::NAN
                        },
                    )
                })
                .filter(|p| p.1.is_finite())
                .collect();
            let name = if baseline {
                format!("{} (baseline)", line.0)
            } else {
                format!("#{} {}", i + 1, line.0)
            };
            if baseline {
                c.draw_series(DashedLineSeries::new(points, 8, 5, style))?
            } else {
                c.draw_series(LineSeries::new(points, style))?
            }
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], style));
        }
        draw_legend(&mut c, SeriesLabelPosition::UpperLeft)?;
        root.present()?;
    }
    Ok(svg)
}

fn pct(v: Option<f32>) -> String {
    v.map_or("-".into(), |a| format!("{:.2}%", a * 100.0))
}

/// The page: settings, re-runs, charts, the whole ranked leaderboard.
fn index_html(
    board: &Leaderboard,
    reevaluated: &[Reevaluation],
    settings: &[(String, String)],
) -> String {
    let mut h = String::new();
    let title = "minidl activation search";
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
    );
    h.push_str("<h2>Settings</h2>\n");
    let rows: Vec<Vec<String>> = settings
        .iter()
        .map(|(k, v)| vec![k.clone(), v.clone()])
        .collect();
    html_table(&mut h, &["setting", "value"], &rows, 2);
    if !reevaluated.is_empty() {
        h.push_str("<h2>The best candidates over several seeds</h2>\n");
        let rows: Vec<Vec<String>> = reevaluated
            .iter()
            .map(|r| {
                vec![
                    r.formula.clone(),
                    r.accuracy_text(),
                    r.accuracies
                        .iter()
                        .map(|a| format!("{:.2}", a * 100.0))
                        .collect::<Vec<_>>()
                        .join(" "),
                    r.failures.to_string(),
                ]
            })
            .collect();
        html_table(
            &mut h,
            &[
                "activation",
                "accuracy (mean ± std)",
                "per seed (%)",
                "failed",
            ],
            &rows,
            1,
        );
    }
    h.push_str("<h2>Charts</h2>\n");
    for (file, caption) in SEARCH_REPORT_FILES[..2].iter().zip([
        "f(x) of the best candidates (solid) and of relu, swish and mish (dashed).",
        "f′(x), by autograd, of the same functions.",
    ]) {
        let _ = write!(
            h,
            "<figure>\n<img src=\"{file}\" alt=\"{}\">\n<figcaption>{}</figcaption>\n</figure>\n",
            esc(caption),
            esc(caption)
        );
    }
    let _ = writeln!(
        h,
        "<h2>Leaderboard</h2>\n<p class=\"note\">{} candidates scored, shard {}.</p>",
        board.records.len(),
        board.settings.shard
    );
    let rows: Vec<Vec<String>> = board
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                (i + 1).to_string(),
                r.formula.clone(),
                pct(r.accuracy),
                r.loss.map_or("-".into(), |l| format!("{l:.4}")),
                r.failure.clone().unwrap_or_default(),
            ]
        })
        .collect();
    html_table(
        &mut h,
        &["rank", "formula", "accuracy", "loss", "failure"],
        &rows,
        2,
    );
    h.push_str("</body>\n</html>\n");
    h
}
