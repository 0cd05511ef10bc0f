//! What a training run shows a person: a progress bar per epoch, one summary line and a
//! per-layer table after each epoch, a comparison table across activations, and an HTML
//! report with SVG charts (`--report DIR` in the examples).
//!
//! [`write_report`] draws from a slice of [`RunHistory`] (one per activation) and writes, into
//! a folder it creates:
//!
//! | file | content |
//! | --- | --- |
//! | `loss.svg` | training loss per step (log scale): faint raw values, a solid moving average |
//! | `accuracy.svg` | test accuracy per epoch |
//! | `grad_norm.svg` | gradient norm per parameter over epochs (log scale), one panel per parameter |
//! | `dead_units.svg` | dead-unit fraction per activation layer over epochs, one panel per layer |
//! | `index.html` | the settings, the final metrics of each run, the four charts, final layer tables |
//!
//! Each activation keeps one colour in every chart. Every file is written atomically
//! ([`write_atomic`]), the charts first, so `index.html` never refers to a missing chart.

use std::error::Error;
use std::fmt::{self, Write as _};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use crate::fs::write_atomic;
use crate::fs::{create_dir_all, WriteError};
use crate::metrics::{EpochMetrics, LayerStats, RunHistory};

// ---------------------------------------------------------------------------------------------
// Errors

/// Writing a report failed: a file could not be written, or a chart could not be drawn.
#[derive(Debug)]
pub enum ReportError {
    /// The folder or one of its files could not be written; the message says which and why.
    Write(WriteError),
    /// A chart could not be drawn.
    Chart {
        /// The chart's file name, e.g. `"loss.svg"`.
        file: &'static str,
        /// What the plotting library reported.
        message: String,
    },
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Write(e) => write!(f, "report: {e}"),
            ReportError::Chart { file, message } => write!(
                f,
                "report: cannot draw {file}: {message}; the metrics file is unaffected, \
                 rerun without --report to skip the charts"
            ),
        }
    }
}

impl Error for ReportError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ReportError::Write(e) => Some(e),
            ReportError::Chart { .. } => None,
        }
    }
}

impl From<WriteError> for ReportError {
    fn from(e: WriteError) -> Self {
        ReportError::Write(e)
    }
}

// ---------------------------------------------------------------------------------------------
// The report folder

/// The chart files [`write_report`] writes, in order.
pub const CHART_FILES: [&str; 4] = [
    "loss.svg",
    "accuracy.svg",
    "grad_norm.svg",
    "dead_units.svg",
];

/// The page that shows the charts, written last.
pub const INDEX_FILE: &str = "index.html";

/// Every file [`write_report`] writes, in order: the [`CHART_FILES`], then [`INDEX_FILE`]. A
/// program checks these paths before a run, so another output never shares one.
pub const REPORT_FILES: [&str; 5] = [
    CHART_FILES[0],
    CHART_FILES[1],
    CHART_FILES[2],
    CHART_FILES[3],
    INDEX_FILE,
];

/// Writes the charts and `index.html` for `runs` into `dir` (created with its parents if
/// missing) and returns the paths written: the four [`CHART_FILES`], then `index.html`.
///
/// `settings` are the run's settings as `(name, value)` pairs (e.g. `("epochs", "5")`), shown
/// in a table at the top of the page. Runs without epochs, a single epoch, NaN losses and
/// empty histories are drawn as far as they go; a chart with nothing to draw says so.
///
/// # Errors
/// [`ReportError::Write`] when the folder cannot be created or a file cannot be written (for
/// example when a part of `dir` is a regular file or not writable); the message names the path
/// and how to fix it. [`ReportError::Chart`] if the plotting library fails.
pub fn write_report(
    dir: impl AsRef<Path>,
    runs: &[RunHistory],
    settings: &[(String, String)],
) -> Result<Vec<PathBuf>, ReportError> {
    let dir = dir.as_ref();
    create_dir_all(dir)?;
    let mut written = Vec::with_capacity(5);
    for chart in Chart::ALL {
        let file = chart.file();
        let svg = chart.render(runs).map_err(|e| ReportError::Chart {
            file,
            message: e.to_string(),
        })?;
        let path = dir.join(file);
        write_atomic(&path, svg.as_bytes())?;
        written.push(path);
    }
    let path = dir.join(INDEX_FILE);
    write_atomic(&path, index_html(runs, settings).as_bytes())?;
    written.push(path);
    Ok(written)
}

// ---------------------------------------------------------------------------------------------
// Charts

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn Error>>;

const WIDTH: u32 = 960;
const FONT: &str = "sans-serif";

/// Tableau 10: distinct, colour-blind-friendlier than the primaries; one per activation.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xba, 0xb0, 0xac),
];

fn run_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The four charts of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chart {
    Loss,
    Accuracy,
    GradNorm,
    DeadUnits,
}

impl Chart {
    const ALL: [Chart; 4] = [
        Chart::Loss,
        Chart::Accuracy,
        Chart::GradNorm,
        Chart::DeadUnits,
    ];

    fn file(self) -> &'static str {
        CHART_FILES[self as usize]
    }

    /// Single charts are 960×480; panel charts grow with their number of panels.
    fn height(self, runs: &[RunHistory]) -> u32 {
        let panels = match self {
            Chart::Loss | Chart::Accuracy => return 480,
            Chart::GradNorm => layer_names(runs, |l| l.grad_norm).len(),
            Chart::DeadUnits => layer_names(runs, |l| l.dead_fraction).len(),
        };
        HEADER + PANEL_HEIGHT * grid(panels).0 as u32
    }

    fn render(self, runs: &[RunHistory]) -> Result<String, Box<dyn Error>> {
        let mut svg = String::new();
        {
            let root =
                SVGBackend::with_string(&mut svg, (WIDTH, self.height(runs))).into_drawing_area();
            root.fill(&WHITE)?;
            match self {
                Chart::Loss => draw_loss(&root, runs)?,
                Chart::Accuracy => draw_accuracy(&root, runs)?,
                Chart::GradNorm => draw_grad_norm(&root, runs)?,
                Chart::DeadUnits => draw_dead_units(&root, runs)?,
            }
            root.present()?;
        }
        Ok(svg)
    }
}

/// A caption and a grey "nothing to draw" note, for charts without data.
fn draw_empty(area: &Area, title: &str, note: &str) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    let title_style = (FONT, 22).into_font().color(&BLACK);
    area.draw(&Text::new(title.to_string(), (20, 16), title_style))?;
    let note_style = TextStyle::from((FONT, 16).into_font())
        .color(&RGBColor(0x77, 0x77, 0x77))
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(
        note.to_string(),
        (w as i32 / 2, h as i32 / 2),
        note_style,
    ))?;
    Ok(())
}

/// Splits a series at non-finite values: each returned segment is a run of finite points.
fn segments<X: Copy>(points: &[(X, f32)]) -> Vec<Vec<(X, f32)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for &(x, y) in points {
        if y.is_finite() {
            cur.push((x, y));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A log-scale range covering `values` (finite, > 0), or `None` when no value qualifies.
/// The range is the data's with a little room when that holds at least two powers of ten
/// (labelled ticks); otherwise it is widened to whole decades so the axis still has two.
fn log_range(values: impl Iterator<Item = f32>) -> Option<(f32, f32)> {
    let (min, max) =
        values
            .filter(|v| v.is_finite() && *v > 0.0)
            .fold(None, |acc: Option<(f32, f32)>, v| match acc {
                None => Some((v, v)),
                Some((a, b)) => Some((a.min(v), b.max(v))),
            })?;
    let (lo, hi) = (min / 1.25, max * 1.25);
    if hi.log10().floor() - lo.log10().ceil() >= 1.0 {
        return Some((lo, hi));
    }
    let lo = 10f32.powf(min.log10().floor());
    let mut hi = 10f32.powf(max.log10().ceil());
    if hi <= lo {
        hi = lo * 10.0;
    }
    // A hair wider, so rounding cannot push the end decades' ticks off the axis.
    Some((lo * 0.999, hi * 1.001))
}

/// Tick labels of a log axis: plain decimals in 0.001‥9999, powers of ten otherwise.
fn log_tick(v: f32) -> String {
    if v.is_nan() || v <= 0.0 {
        return String::new();
    }
    if (1e-3..1e4).contains(&v) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("1e{}", v.log10().round() as i32)
    }
}

/// Centred moving average over finite values (non-finite entries stay as they are).
fn moving_average(points: &[(f32, f32)], window: usize) -> Vec<(f32, f32)> {
    let half = window / 2;
    (0..points.len())
        .map(|i| {
            let (x, y) = points[i];
            if !y.is_finite() {
                return (x, y);
            }
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(points.len());
            let (sum, n) = points[lo..hi]
                .iter()
                .filter(|p| p.1.is_finite())
                .fold((0.0f64, 0usize), |(s, n), p| (s + p.1 as f64, n + 1));
            (x, (sum / n as f64) as f32)
        })
        .collect()
}

/// At most `max` points: consecutive buckets replaced by their mean step and mean loss.
fn decimate(points: &[(f32, f32)], max: usize) -> Vec<(f32, f32)> {
    if points.len() <= max {
        return points.to_vec();
    }
    let bucket = points.len().div_ceil(max);
    points
        .chunks(bucket)
        .map(|c| {
            let finite: Vec<&(f32, f32)> = c.iter().filter(|p| p.1.is_finite()).collect();
            let x = c.iter().map(|p| p.0 as f64).sum::<f64>() / c.len() as f64;
            if finite.is_empty() {
                (x as f32, f32::NAN)
            } else {
                let y = finite.iter().map(|p| p.1 as f64).sum::<f64>() / finite.len() as f64;
                (x as f32, y as f32)
            }
        })
        .collect()
}

/// `loss.svg`: loss per step, log scale; per run a faint raw line and a solid moving average.
/// A run recorded without step losses (e.g. read back from a metrics file) shows its epoch
/// mean training losses at each epoch's last step instead.
fn draw_loss(root: &Area, runs: &[RunHistory]) -> DrawResult {
    const TITLE: &str = "Training loss per step";
    struct Series {
        color: RGBColor,
        name: String,
        raw: Vec<(f32, f32)>,
        smooth: Vec<(f32, f32)>,
    }
    let series: Vec<Series> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let pts: Vec<(f32, f32)> = if r.step_losses.is_empty() {
                r.epochs
                    .iter()
                    .filter(|e| e.steps > 0)
                    .map(|e| (e.steps as f32, e.train_loss))
                    .collect()
            } else {
                r.step_losses.iter().map(|&(s, l)| (s as f32, l)).collect()
            };
            // Non-positive losses cannot sit on a log axis: leave a gap there.
            let pts: Vec<(f32, f32)> = pts
                .into_iter()
                .map(|(x, y)| (x, if y > 0.0 { y } else { f32::NAN }))
                .collect();
            let window = (pts.len() / 40).clamp(1, 301) | 1;
            let name = if r.step_losses.is_empty() && !pts.is_empty() {
                format!("{} (epoch means)", r.activation)
            } else {
                r.activation.clone()
            };
            Series {
                color: run_color(i),
                name,
                smooth: decimate(&moving_average(&pts, window), 1500),
                raw: if r.step_losses.is_empty() {
                    Vec::new()
                } else {
                    decimate(&pts, 2000)
                },
            }
        })
        .collect();
    let all = || series.iter().flat_map(|s| s.raw.iter().chain(&s.smooth));
    let Some((y0, y1)) = log_range(all().map(|p| p.1)) else {
        return draw_empty(root, TITLE, "no step losses recorded");
    };
    let (mut x0, mut x1) = all()
        .filter(|p| p.1.is_finite())
        .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    if x1 <= x0 {
        x0 -= 1.0;
        x1 += 1.0;
    }
    let mut chart = ChartBuilder::on(root)
        .caption(TITLE, (FONT, 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("loss (log scale)")
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .bold_line_style(RGBColor(0xd0, 0xd0, 0xd0))
        .x_max_light_lines(1)
        .x_label_formatter(&|x| format!("{}", x.round() as i64))
        .y_label_formatter(&|y| log_tick(*y))
        .draw()?;
    for s in &series {
        for seg in segments(&s.raw) {
            chart.draw_series(LineSeries::new(seg, s.color.mix(0.25).stroke_width(1)))?;
        }
    }
    for s in &series {
        for seg in segments(&s.smooth) {
            if seg.len() == 1 || s.raw.is_empty() {
                chart.draw_series(seg.iter().map(|&p| Circle::new(p, 3, s.color.filled())))?;
            }
            chart.draw_series(LineSeries::new(seg, s.color.stroke_width(2)))?;
        }
        let color = s.color;
        chart
            .draw_series(LineSeries::new(Vec::<(f32, f32)>::new(), color))?
            .label(s.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))
            });
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    Ok(())
}

fn draw_legend<'a, 'b: 'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
    pos: SeriesLabelPosition,
) -> DrawResult
where
    X: Ranged,
    Y: Ranged,
{
    chart
        .configure_series_labels()
        .position(pos)
        .margin(12)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(0xbb, 0xbb, 0xbb))
        .draw()?;
    Ok(())
}

/// One line of an epoch chart: a name, a colour and `(epoch, value)` points (NaN = gap).
struct EpochLine {
    name: String,
    color: RGBColor,
    points: Vec<(i32, f32)>,
}

/// The y axis of an epoch chart: its range (linear `a..b` or `(a..b).log_scale()`), its
/// description and its tick label format.
struct YAxis<'a, R> {
    range: R,
    desc: &'a str,
    fmt: &'a dyn Fn(&f32) -> String,
}

/// Draws lines over epochs 1‥`epochs` into `area`, with a marker on every point so a single
/// epoch still shows. The x axis is padded by one epoch on each side and labels only whole
/// epochs inside the run.
fn epoch_chart<YS>(
    area: &Area,
    caption: (&str, u32),
    epochs: i32,
    y: YAxis<'_, YS>,
    lines: &[EpochLine],
    legend: Option<SeriesLabelPosition>,
) -> DrawResult
where
    YS: AsRangedCoord<Value = f32>,
    YS::CoordDescType: Ranged<ValueType = f32> + ValueFormatter<f32>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(caption.0, (FONT, caption.1))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(0..epochs + 1, y.range)?;
    let x_fmt = |x: &i32| {
        if (1..=epochs).contains(x) {
            x.to_string()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y.desc)
        .x_labels((epochs as usize + 2).min(12))
        .x_max_light_lines(1)
        .y_max_light_lines(2)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(RGBColor(0xf0, 0xf0, 0xf0))
        .bold_line_style(RGBColor(0xd8, 0xd8, 0xd8))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(y.fmt)
        .draw()?;
    for line in lines {
        let color = line.color;
        for seg in segments(&line.points) {
            chart.draw_series(seg.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
            chart.draw_series(LineSeries::new(seg, color.stroke_width(2)))?;
        }
        if legend.is_some() {
            chart
                .draw_series(LineSeries::new(Vec::<(i32, f32)>::new(), color))?
                .label(line.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))
                });
        }
    }
    if let Some(pos) = legend {
        draw_legend(&mut chart, pos)?;
    }
    Ok(())
}

fn max_epoch(runs: &[RunHistory]) -> usize {
    runs.iter()
        .flat_map(|r| r.epochs.iter().map(|e| e.epoch))
        .max()
        .unwrap_or(0)
}

fn epoch_i32(e: usize) -> i32 {
    i32::try_from(e).unwrap_or(i32::MAX - 1)
}

/// `accuracy.svg`: test accuracy (%) per epoch, one line per run.
fn draw_accuracy(root: &Area, runs: &[RunHistory]) -> DrawResult {
    const TITLE: &str = "Test accuracy per epoch";
    let lines: Vec<EpochLine> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| EpochLine {
            name: r.activation.clone(),
            color: run_color(i),
            points: r
                .epochs
                .iter()
                .map(|e| (epoch_i32(e.epoch), e.test_accuracy * 100.0))
                .collect(),
        })
        .collect();
    let values: Vec<f32> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .collect();
    if values.is_empty() {
        return draw_empty(root, TITLE, "no epochs recorded");
    }
    let lo = values.iter().copied().fold(f32::MAX, f32::min);
    let hi = values.iter().copied().fold(f32::MIN, f32::max);
    let pad = ((hi - lo) * 0.1).max(1.0);
    let (y0, y1) = ((lo - pad).max(0.0), (hi + pad).min(100.0));
    // Enough decimals that neighbouring ticks (about a tenth of the span apart) differ.
    let decimals = match y1 - y0 {
        s if s > 10.0 => 0,
        s if s > 1.0 => 1,
        _ => 2,
    };
    let fmt = |v: &f32| format!("{v:.decimals$}%");
    epoch_chart(
        root,
        (TITLE, 22),
        epoch_i32(max_epoch(runs)),
        YAxis {
            range: y0..y1,
            desc: "test accuracy",
            fmt: &fmt,
        },
        &lines,
        Some(SeriesLabelPosition::LowerRight),
    )
}

/// Names of layers that have `field` in any epoch of any run, in order of first appearance.
fn layer_names(runs: &[RunHistory], field: fn(&LayerStats) -> Option<f32>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for l in runs.iter().flat_map(|r| &r.epochs).flat_map(|e| &e.layers) {
        if field(l).is_some() && !names.contains(&l.name) {
            names.push(l.name.clone());
        }
    }
    names
}

/// One panel per layer: each run's `(epoch, field)` series for that layer.
fn layer_lines(
    runs: &[RunHistory],
    layer: &str,
    field: fn(&LayerStats) -> Option<f32>,
) -> Vec<EpochLine> {
    runs.iter()
        .enumerate()
        .map(|(i, r)| EpochLine {
            name: r.activation.clone(),
            color: run_color(i),
            points: r
                .epochs
                .iter()
                .filter_map(|e| {
                    let l = e.layers.iter().find(|l| l.name == layer)?;
                    Some((epoch_i32(e.epoch), field(l).unwrap_or(f32::NAN)))
                })
                .collect(),
        })
        .collect()
}

const HEADER: u32 = 76;
const PANEL_HEIGHT: u32 = 300;

/// Rows and columns for `n` panels: one column for one panel, two up to four, then three.
fn grid(n: usize) -> (usize, usize) {
    let cols = match n {
        0 | 1 => 1,
        2..=4 => 2,
        _ => 3,
    };
    (n.max(1).div_ceil(cols), cols)
}

/// The shared title and legend (one entry per run) above a grid of panels; returns the area
/// below it.
fn panel_header<'a>(
    root: &Area<'a>,
    title: &str,
    runs: &[RunHistory],
) -> Result<Area<'a>, Box<dyn Error>> {
    let (header, body) = root.split_vertically(HEADER);
    let title_style = TextStyle::from((FONT, 22).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    header.draw(&Text::new(
        title.to_string(),
        (WIDTH as i32 / 2, 12),
        title_style,
    ))?;
    // Legend entries centred in rows: a short thick line in the run's colour, then its name.
    let width = |r: &RunHistory| 34 + 8 * r.activation.chars().count() as i32 + 24;
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0;
    for (i, r) in runs.iter().enumerate() {
        let row = rows.last_mut().expect("rows starts non-empty");
        if !row.is_empty() && used + width(r) > WIDTH as i32 - 40 {
            rows.push(Vec::new());
            used = 0;
        }
        rows.last_mut().expect("just pushed").push(i);
        used += width(r);
    }
    let row_height = if rows.len() > 1 { 18 } else { 0 };
    for (k, row) in rows.iter().enumerate() {
        let total: i32 = row.iter().map(|&i| width(&runs[i])).sum();
        let mut x = (WIDTH as i32 - total) / 2;
        let y = if row_height == 0 {
            56
        } else {
            47 + row_height * k as i32
        };
        for &i in row {
            let color = run_color(i);
            header.draw(&PathElement::new(
                vec![(x, y), (x + 26, y)],
                color.stroke_width(3),
            ))?;
            let style = TextStyle::from((FONT, 14).into_font())
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center));
            header.draw(&Text::new(runs[i].activation.clone(), (x + 34, y), style))?;
            x += width(&runs[i]);
        }
    }
    Ok(body)
}

/// `grad_norm.svg`: the mean gradient norm of every parameter over epochs, log scale, one
/// panel per parameter, one line per run. A norm of exactly 0 (no gradient reached the
/// parameter) is drawn on the bottom edge.
fn draw_grad_norm(root: &Area, runs: &[RunHistory]) -> DrawResult {
    const TITLE: &str = "Gradient norm per parameter (mean over each epoch)";
    let names = layer_names(runs, |l| l.grad_norm);
    let epochs = epoch_i32(max_epoch(runs));
    let body = panel_header(root, TITLE, runs)?;
    if names.is_empty() {
        return draw_empty(&body, "", "no gradient norms recorded");
    }
    let (rows, cols) = grid(names.len());
    let panels = body.split_evenly((rows, cols));
    for (name, panel) in names.iter().zip(&panels) {
        let mut lines = layer_lines(runs, name, |l| l.grad_norm);
        let Some((lo, hi)) = log_range(lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)))
        else {
            draw_empty(panel, name, "no finite values")?;
            continue;
        };
        let mut has_zero = false;
        for l in &mut lines {
            for p in &mut l.points {
                if p.1 == 0.0 {
                    p.1 = lo;
                    has_zero = true;
                }
            }
        }
        let desc = if has_zero {
            "‖grad‖ (0 at bottom)"
        } else {
            "‖grad‖ (log)"
        };
        let fmt = |v: &f32| log_tick(*v);
        epoch_chart(
            panel,
            (name, 16),
            epochs,
            YAxis {
                range: (lo..hi).log_scale(),
                desc,
                fmt: &fmt,
            },
            &lines,
            None,
        )?;
    }
    Ok(())
}

/// `dead_units.svg`: the fraction of dead units of every activation layer over epochs, one
/// panel per layer, one line per run.
fn draw_dead_units(root: &Area, runs: &[RunHistory]) -> DrawResult {
    const TITLE: &str = "Dead units per activation layer (zero output for every sample)";
    let names = layer_names(runs, |l| l.dead_fraction);
    let epochs = epoch_i32(max_epoch(runs));
    let body = panel_header(root, TITLE, runs)?;
    if names.is_empty() {
        return draw_empty(&body, "", "no dead-unit fractions recorded");
    }
    let (rows, cols) = grid(names.len());
    let panels = body.split_evenly((rows, cols));
    for (name, panel) in names.iter().zip(&panels) {
        let mut lines = layer_lines(runs, name, |l| l.dead_fraction);
        for p in lines.iter_mut().flat_map(|l| &mut l.points) {
            p.1 *= 100.0;
        }
        let hi = lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .filter(|v| v.is_finite())
            .fold(0.0f32, f32::max);
        // At least 0‥5 %, so a line at 0 % sits on a readable axis rather than a flat band.
        let top = (hi * 1.15).clamp(5.0, 100.0);
        let fmt = |v: &f32| {
            if top < 10.0 {
                format!("{v:.1}%")
            } else {
                format!("{v:.0}%")
            }
        };
        epoch_chart(
            panel,
            (name, 16),
            epochs,
            YAxis {
                range: 0f32..top,
                desc: "dead units",
                fmt: &fmt,
            },
            &lines,
            None,
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// index.html

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
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
fn html_table(out: &mut String, headers: &[&str], rows: &[Vec<String>], first_num: usize) {
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

/// The best test accuracy of a run and its epoch.
fn best_epoch(r: &RunHistory) -> Option<&EpochMetrics> {
    r.epochs
        .iter()
        .filter(|e| e.test_accuracy.is_finite())
        .max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
}

fn params_text(e: &EpochMetrics) -> String {
    e.params
        .iter()
        .map(|(k, v)| format!("{k} = {v:.4}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn index_html(runs: &[RunHistory], settings: &[(String, String)]) -> String {
    let names: Vec<&str> = runs.iter().map(|r| r.activation.as_str()).collect();
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
    } else {
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

    h.push_str("<h2>Charts</h2>\n");
    let captions = [
        "Training loss per step (log scale). Faint: every step; solid: moving average.",
        "Test accuracy after each epoch.",
        "Mean gradient norm of each parameter per epoch (log scale). Vanishing gradients \
         show as lines falling by decades, exploding ones as lines rising.",
        "Fraction of units whose output was zero for every training sample of the epoch.",
    ];
    for (file, caption) in CHART_FILES.iter().zip(captions) {
        let _ = write!(
            h,
            "<figure>\n<img src=\"{file}\" alt=\"{}\">\n<figcaption>{}</figcaption>\n</figure>\n",
            esc(caption),
            esc(caption)
        );
    }

    h.push_str("<h2>Layers after the last epoch</h2>\n");
    for r in runs {
        let Some(last) = r.last_epoch() else { continue };
        let _ = writeln!(
            h,
            "<h3>{} <span class=\"note\">(epoch {})</span></h3>",
            esc(&r.activation),
            last.epoch
        );
        let (headers, rows) = layer_rows(&last.layers);
        html_table(&mut h, &headers, &rows, 1);
    }
    h.push_str("</body>\n</html>\n");
    h
}

const CSS: &str = "body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; \
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
";

// ---------------------------------------------------------------------------------------------
// Terminal output

/// A progress bar for one epoch, drawn on stderr: position, elapsed/remaining time, running
/// loss, accuracy and throughput. Hidden when `quiet` is set or stderr is not a terminal (a
/// log file then gets only the epoch lines).
#[derive(Debug)]
pub struct EpochBar {
    bar: ProgressBar,
}

impl EpochBar {
    /// A bar for `total_batches` batches, labelled `label` (e.g. `"relu 3/10"`).
    pub fn new(total_batches: u64, label: &str, quiet: bool) -> Self {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let style = ProgressStyle::with_template(
            "{prefix:.bold} {bar:30.cyan/blue} {pos:>5}/{len} [{elapsed}<{eta}] {msg}",
        )
        .expect("the bar template is valid")
        .progress_chars("━╸─");
        let bar = ProgressBar::with_draw_target(Some(total_batches), target)
            .with_style(style)
            .with_prefix(label.to_string());
        EpochBar { bar }
    }

    /// Advances by one batch and shows the running mean loss, running accuracy (a fraction
    /// in [0, 1]) and samples per second.
    pub fn update(&self, loss: f32, accuracy: f32, samples_per_sec: f64) {
        self.bar.set_message(format!(
            "loss {loss:.4}  acc {}  {samples_per_sec:.0} samples/s",
            fmt_pct(accuracy, 1)
        ));
        self.bar.inc(1);
    }

    /// Batches done so far.
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    /// Whether the bar is not drawn (quiet, or stderr is not a terminal).
    pub fn is_hidden(&self) -> bool {
        self.bar.is_hidden()
    }

    /// Removes the bar from the terminal, making room for the epoch's summary line.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

const DASH: &str = "-";

/// `v` (a fraction) as a percentage with `decimals` decimals, e.g. `97.25%`.
fn fmt_pct(v: f32, decimals: usize) -> String {
    format!("{:.*}%", decimals, v * 100.0)
}

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
/// the others right-aligned; no trailing spaces, no final newline.
fn text_table(headers: &[&str], rows: &[Vec<String>]) -> String {
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
    for row in rows {
        lines.push(line(&mut row.iter().map(String::as_str)));
    }
    lines.join("\n")
}

fn opt(v: Option<f32>, f: impl Fn(f32) -> String) -> String {
    v.map_or(DASH.to_string(), f)
}

fn layer_rows(layers: &[LayerStats]) -> ([&'static str; 6], Vec<Vec<String>>) {
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
    text_table(&headers, &rows)
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
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::tests::TempDir;
    use std::collections::BTreeMap;

    /// Made-up but plausible histories: relu with a growing dead fraction, sigmoid with
    /// vanishing first-layer gradients, swish with a learnable β.
    fn demo_runs(epochs: usize, steps_per_epoch: usize) -> Vec<RunHistory> {
        let acts = [("relu", 0.9f32), ("sigmoid", 1.6), ("swish", 0.8)];
        acts.iter()
            .enumerate()
            .map(|(k, &(act, slow))| {
                let mut h = RunHistory::new(act);
                for e in 1..=epochs {
                    for s in 0..steps_per_epoch {
                        let step = (e - 1) * steps_per_epoch + s + 1;
                        let t = step as f32 / steps_per_epoch as f32;
                        let noise = ((step * 7919 + k * 104729) % 1000) as f32 / 1000.0 - 0.5;
                        h.record_step(step, 2.3 * (-t / slow).exp() + 0.08 + 0.05 * noise);
                    }
                    let ef = e as f32;
                    let mut params = BTreeMap::new();
                    if act == "swish" {
                        params.insert("1.beta".to_string(), 1.0 + 0.1 * ef);
                    }
                    h.record_epoch(EpochMetrics {
                        activation: act.into(),
                        epoch: e,
                        steps: e * steps_per_epoch,
                        train_loss: 0.3 * slow / ef,
                        test_loss: 0.25 * slow / ef,
                        test_accuracy: 0.99 - 0.05 * slow / ef,
                        seconds: 4.0 + k as f64,
                        samples_per_sec: 15000.0 / (1.0 + k as f64),
                        params,
                        layers: vec![
                            LayerStats::parameter("0.weight", 0.05 * slow.powf(-ef)),
                            LayerStats::activation(
                                "1",
                                if act == "relu" { 0.02 * ef } else { 0.0 },
                                0.1 * slow,
                                0.3,
                                0.6,
                            ),
                            LayerStats::parameter("2.weight", 0.2 / ef),
                            LayerStats::activation("3", 0.01 * ef * (k as f32), 0.05, 0.2, 0.5),
                            LayerStats::parameter("4.weight", 0.3 / ef),
                        ],
                    });
                }
                h
            })
            .collect()
    }

    fn settings() -> Vec<(String, String)> {
        vec![
            ("epochs".into(), "3".into()),
            ("optimizer".into(), "adam <lr=1e-3>".into()),
        ]
    }

    #[test]
    fn writes_all_five_files_into_a_new_nested_folder() {
        let t = TempDir::new("report-all");
        let dir = t.0.join("a/b/report");
        let runs = demo_runs(3, 50);
        let paths = write_report(&dir, &runs, &settings()).unwrap();
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "loss.svg",
                "accuracy.svg",
                "grad_norm.svg",
                "dead_units.svg",
                "index.html"
            ]
        );
        for p in &paths {
            assert_eq!(p.parent().unwrap(), dir);
        }
        for p in &paths[..4] {
            let svg = std::fs::read_to_string(p).unwrap();
            assert!(svg.starts_with("<svg"), "{}", p.display());
            assert!(svg.trim_end().ends_with("</svg>"), "{}", p.display());
            for act in ["relu", "sigmoid", "swish"] {
                assert!(svg.contains(act), "{} lacks {act}", p.display());
            }
        }
        let grad = std::fs::read_to_string(&paths[2]).unwrap();
        for layer in ["0.weight", "2.weight", "4.weight"] {
            assert!(grad.contains(layer), "grad_norm.svg lacks {layer}");
        }
        assert!(
            !grad.contains(">1<"),
            "activation layers have no gradient panel"
        );
        let dead = std::fs::read_to_string(&paths[3]).unwrap();
        assert!(!dead.contains("0.weight"));

        let html = std::fs::read_to_string(&paths[4]).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        for f in CHART_FILES {
            assert!(
                html.contains(&format!("<img src=\"{f}\"")),
                "index lacks {f}"
            );
        }
        assert!(html.contains("<td>optimizer</td><td>adam &lt;lr=1e-3&gt;</td>"));
        assert!(html.contains("<th>learned parameters</th>"));
        assert!(html.contains("<tr><td>relu</td><td></td><td class=\"num\">3</td>"));
        assert!(html.contains("<title>minidl report: relu vs sigmoid vs swish</title>"));
        assert!(html.contains("1.beta = 1.3000"));
        // Every file is complete: no temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 5);
        // Writing again over an existing report works.
        write_report(&dir, &runs[..1], &[]).unwrap();
        assert!(std::fs::read_to_string(&paths[4])
            .unwrap()
            .contains("No settings recorded."));
    }

    #[test]
    fn single_epoch_nan_and_empty_histories_are_drawn() {
        let t = TempDir::new("report-edge");
        let mut runs = demo_runs(1, 1);
        runs[1].step_losses[0].1 = f32::NAN;
        runs[1].epochs[0].test_accuracy = f32::NAN;
        runs[1].epochs[0].layers[0].grad_norm = Some(0.0);
        runs.push(RunHistory::new("tanh"));
        let paths = write_report(t.0.join("r"), &runs, &settings()).unwrap();
        let acc = std::fs::read_to_string(&paths[1]).unwrap();
        // One epoch: points, not an empty line.
        assert!(acc.contains("<circle"), "single epoch drawn as markers");
        let grad = std::fs::read_to_string(&paths[2]).unwrap();
        assert!(grad.contains("0 at bottom"));

        // No runs at all, and runs read back from a metrics file (no step losses).
        let p = write_report(t.0.join("empty"), &[], &[]).unwrap();
        let loss = std::fs::read_to_string(&p[0]).unwrap();
        assert!(loss.contains("no step losses recorded"));
        let dead = std::fs::read_to_string(&p[3]).unwrap();
        assert!(dead.contains("no dead-unit fractions recorded"));
        assert!(std::fs::read_to_string(&p[4])
            .unwrap()
            .contains("No runs recorded."));
        let mut from_file = demo_runs(2, 3);
        for r in &mut from_file {
            r.step_losses.clear();
        }
        let p = write_report(t.0.join("file"), &from_file, &[]).unwrap();
        let loss = std::fs::read_to_string(&p[0]).unwrap();
        assert!(loss.contains("relu (epoch means)"));
    }

    #[test]
    fn unwritable_target_is_an_error_not_a_panic() {
        let t = TempDir::new("report-unwritable");
        let file = t.0.join("plain");
        std::fs::write(&file, b"x").unwrap();
        let runs = demo_runs(1, 2);
        let err = write_report(file.join("report"), &runs, &[]).unwrap_err();
        assert!(matches!(err, ReportError::Write(_)));
        let msg = err.to_string();
        assert!(msg.starts_with("report: cannot write "), "{msg}");
        assert!(msg.contains("plain/report"), "{msg}");
        assert!(msg.contains("is a file, not a folder"), "{msg}");
        let err = write_report(&file, &runs, &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("create folder failed: it is a regular file, not a folder"),
            "{err}"
        );
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
    }

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
    fn chart_helpers() {
        // Two powers of ten inside: the data's range with a 1.25× margin.
        assert_eq!(
            log_range([0.02, 2.0, f32::NAN, 0.0, -1.0].into_iter()),
            Some((0.02 / 1.25, 2.5))
        );
        // Fewer: widened to whole decades, a hair more.
        assert_eq!(log_range([0.1f32].into_iter()), Some((0.1 * 0.999, 1.001)));
        assert_eq!(
            log_range([0.025f32, 0.2].into_iter()),
            Some((0.01 * 0.999, 1.001))
        );
        assert_eq!(log_range([0.0, f32::INFINITY].into_iter()), None);
        assert_eq!(log_tick(0.01), "0.01");
        assert_eq!(log_tick(1.0), "1");
        assert_eq!(log_tick(1e-5), "1e-5");
        assert_eq!(log_tick(1e5), "1e5");
        let pts = [(1, 1.0), (2, f32::NAN), (3, 2.0), (4, 3.0), (5, f32::NAN)];
        assert_eq!(
            segments(&pts),
            vec![vec![(1, 1.0)], vec![(3, 2.0), (4, 3.0)]]
        );
        let pts = [(1.0, 1.0), (2.0, 2.0), (3.0, f32::NAN), (4.0, 6.0)];
        let avg = moving_average(&pts, 3);
        assert_eq!(avg[0], (1.0, 1.5));
        assert_eq!(avg[1], (2.0, 1.5));
        assert!(avg[2].1.is_nan());
        assert_eq!(avg[3], (4.0, 6.0));
        let many: Vec<(f32, f32)> = (0..10).map(|i| (i as f32, i as f32)).collect();
        assert_eq!(
            decimate(&many, 5),
            vec![(0.5, 0.5), (2.5, 2.5), (4.5, 4.5), (6.5, 6.5), (8.5, 8.5)]
        );
        assert_eq!(decimate(&many[..3], 5), many[..3].to_vec());
        assert_eq!(grid(0), (1, 1));
        assert_eq!(grid(1), (1, 1));
        assert_eq!(grid(3), (2, 2));
        assert_eq!(grid(5), (2, 3));
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn epoch_bar_counts_batches_and_hides_when_quiet() {
        let bar = EpochBar::new(3, "relu 1/2", true);
        assert!(bar.is_hidden());
        bar.update(0.5, 0.9, 1000.0);
        bar.update(0.4, 0.92, 1100.0);
        assert_eq!(bar.position(), 2);
        assert_eq!(bar.bar.message(), "loss 0.4000  acc 92.0%  1100 samples/s");
        bar.finish();
    }
}
