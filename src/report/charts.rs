//! The four SVG charts of a report, drawn with plotters: the loss per step, the test accuracy
//! per epoch, and two grids of per-layer panels (gradient norms, dead units) that share one
//! frame. Each activation keeps one colour in every chart, and no two activations share one
//! ([`series_colors`]). An activation trained from several seeds is one line, the mean over
//! its seeds, in a shaded band: their range, from the lowest seed's value to the highest's.

use std::error::Error;

use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::table::{groups, several_seeds, Group};
use crate::metrics::{LayerStats, RunHistory};

/// The chart files [`write_report`](super::write_report) writes, in order.
pub const CHART_FILES: [&str; 4] = [
    "loss.svg",
    "accuracy.svg",
    "grad_norm.svg",
    "dead_units.svg",
];

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn Error>>;

const WIDTH: u32 = 960;
pub(crate) const FONT: &str = "sans-serif";

/// Tableau 10: distinct, colour-blind-friendlier than the primaries; one per activation.
pub(crate) const PALETTE: [RGBColor; 10] = [
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

/// The colours of `n` series, all different: [`PALETTE`] for up to ten, otherwise `n` hues
/// evenly spaced around the colour wheel (equally saturated and light), so that a chart of
/// eleven activations or more never draws two in one colour.
pub(crate) fn series_colors(n: usize) -> Vec<RGBColor> {
    if n <= PALETTE.len() {
        return PALETTE[..n].to_vec();
    }
    (0..n)
        .map(|i| hsl(i as f64 / n as f64, 0.65, 0.45))
        .collect()
}

/// The colour of hue `h` (a fraction of the wheel, 0 = red), saturation `s` and lightness `l`
/// (both in [0, 1]).
fn hsl(h: f64, s: f64, l: f64) -> RGBColor {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let h6 = (h.rem_euclid(1.0)) * 6.0;
    let x = c * (1.0 - (h6 % 2.0 - 1.0).abs());
    let (r, g, b) = match h6 as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    RGBColor(byte(r), byte(g), byte(b))
}

/// A spread band: `(x, lowest, highest)` at each x.
type Band<X> = Vec<(X, f32, f32)>;

/// Per x, over the series of several runs: the mean of the finite values (NaN where none is)
/// and their range `(x, min, max)` (NaN where none is). One series is returned as it is, with
/// no band.
fn spread<X: Copy + Ord>(per_run: Vec<Vec<(X, f32)>>) -> (Vec<(X, f32)>, Band<X>) {
    if per_run.len() <= 1 {
        return (per_run.into_iter().next().unwrap_or_default(), Vec::new());
    }
    let mut at: std::collections::BTreeMap<X, Vec<f32>> = std::collections::BTreeMap::new();
    for (x, y) in per_run.into_iter().flatten() {
        at.entry(x).or_default().push(y);
    }
    let mut mean = Vec::with_capacity(at.len());
    let mut band = Vec::with_capacity(at.len());
    for (x, ys) in at {
        let finite: Vec<f32> = ys.into_iter().filter(|y| y.is_finite()).collect();
        if finite.is_empty() {
            mean.push((x, f32::NAN));
            band.push((x, f32::NAN, f32::NAN));
            continue;
        }
        let m = finite.iter().map(|&y| y as f64).sum::<f64>() / finite.len() as f64;
        let lo = finite.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = finite.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        mean.push((x, m as f32));
        band.push((x, lo, hi));
    }
    (mean, band)
}

/// Splits a band at non-finite ends: each returned segment is a run of finite points.
fn band_segments<X: Copy>(band: &[(X, f32, f32)]) -> Vec<Band<X>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for &(x, lo, hi) in band {
        if lo.is_finite() && hi.is_finite() {
            cur.push((x, lo, hi));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Draws a spread band in a light shade of `color`: a polygon (from the highest values
/// forward, back along the lowest) over each stretch of finite points, and a bar with caps
/// where a stretch is a single point (a run of one epoch).
fn draw_band<X, Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    band: &[(X::ValueType, f32, f32)],
    color: RGBColor,
) -> DrawResult
where
    X: Ranged,
    X::ValueType: Copy + 'static,
    Y: Ranged<ValueType = f32>,
{
    for seg in band_segments(band) {
        if seg.len() == 1 {
            let (x, lo, hi) = seg[0];
            chart.draw_series(std::iter::once(ErrorBar::new_vertical(
                x,
                lo,
                (lo + hi) / 2.0,
                hi,
                color.mix(0.6).stroke_width(2),
                12,
            )))?;
            continue;
        }
        let mut outline: Vec<(X::ValueType, f32)> = seg.iter().map(|&(x, _, hi)| (x, hi)).collect();
        outline.extend(seg.iter().rev().map(|&(x, lo, _)| (x, lo)));
        chart.draw_series(std::iter::once(Polygon::new(
            outline,
            color.mix(0.2).filled(),
        )))?;
    }
    Ok(())
}

/// A chart's title, saying how several seeds are drawn.
fn titled(title: &str, groups: &[Group]) -> String {
    if !several_seeds(groups) {
        return title.to_string();
    }
    let n = groups.iter().map(|g| g.runs.len()).max().unwrap_or(0);
    format!("{title}: mean of {n} seeds, band = their range")
}

/// The four charts of a report, in the order of [`CHART_FILES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Chart {
    Loss,
    Accuracy,
    GradNorm,
    DeadUnits,
}

impl Chart {
    /// Every chart, in the order they are written.
    pub(super) const ALL: [Chart; 4] = [
        Chart::Loss,
        Chart::Accuracy,
        Chart::GradNorm,
        Chart::DeadUnits,
    ];

    /// The chart's file name, one of [`CHART_FILES`].
    pub(super) fn file(self) -> &'static str {
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

    /// The chart of `runs` as an SVG document.
    pub(super) fn render(self, runs: &[RunHistory]) -> Result<String, Box<dyn Error>> {
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

/// The loss curve of a run: every step's loss, or without them the epochs' mean training
/// losses at each epoch's last step; a loss that is not positive (off a log axis) is a gap.
fn loss_points(r: &RunHistory) -> Vec<(f32, f32)> {
    let pts: Vec<(f32, f32)> = if r.step_losses.is_empty() {
        r.epochs
            .iter()
            .filter(|e| e.steps > 0)
            .map(|e| (e.steps as f32, e.train_loss))
            .collect()
    } else {
        r.step_losses.iter().map(|&(s, l)| (s as f32, l)).collect()
    };
    pts.into_iter()
        .map(|(x, y)| (x, if y > 0.0 { y } else { f32::NAN }))
        .collect()
}

/// `loss.svg`: loss per step, log scale; per run a faint raw line and a solid moving average.
/// A run recorded without step losses (e.g. read back from a metrics file) shows its epoch
/// mean training losses at each epoch's last step instead. An activation with several seeds
/// shows the mean of its seeds' moving averages, in a band from their lowest to their highest.
fn draw_loss(root: &Area, runs: &[RunHistory]) -> DrawResult {
    struct Series {
        color: RGBColor,
        name: String,
        raw: Vec<(f32, f32)>,
        smooth: Vec<(f32, f32)>,
        band: Vec<(f32, f32, f32)>,
    }
    let groups = groups(runs);
    let title = titled("Training loss per step", &groups);
    let colors = series_colors(groups.len());
    let series: Vec<Series> = groups
        .iter()
        .zip(colors)
        .map(|(g, color)| {
            let mut smooths = Vec::with_capacity(g.runs.len());
            let mut raw = Vec::new();
            let mut any = false;
            for r in &g.runs {
                let pts = loss_points(r);
                any |= !pts.is_empty();
                let window = (pts.len() / 40).clamp(1, 301) | 1;
                let smooth = moving_average(&pts, window);
                smooths.push(smooth.into_iter().map(|(x, y)| (x as usize, y)).collect());
                if g.runs.len() == 1 && !r.step_losses.is_empty() {
                    raw = decimate(&pts, 2000);
                }
            }
            let (mean, band) = spread(smooths);
            let mean: Vec<(f32, f32)> = mean.into_iter().map(|(x, y)| (x as f32, y)).collect();
            let side = |pick: fn(&(usize, f32, f32)) -> f32| -> Vec<(f32, f32)> {
                let pts: Vec<(f32, f32)> = band.iter().map(|b| (b.0 as f32, pick(b))).collect();
                decimate(&pts, 1500)
            };
            let (lo, hi) = (side(|b| b.1), side(|b| b.2));
            let from_epochs = g.runs.iter().all(|r| r.step_losses.is_empty());
            Series {
                color,
                name: if from_epochs && any {
                    format!("{} (epoch means)", g.activation)
                } else {
                    g.activation.to_string()
                },
                smooth: decimate(&mean, 1500),
                raw,
                band: lo.iter().zip(&hi).map(|(l, h)| (l.0, l.1, h.1)).collect(),
            }
        })
        .collect();
    let all = || {
        series.iter().flat_map(|s| {
            let band = s.band.iter().flat_map(|b| [(b.0, b.1), (b.0, b.2)]);
            s.raw.iter().chain(&s.smooth).copied().chain(band)
        })
    };
    let Some((y0, y1)) = log_range(all().map(|p| p.1)) else {
        return draw_empty(root, &title, "no step losses recorded");
    };
    let (mut x0, mut x1) = all()
        .filter(|p| p.1.is_finite())
        .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    if x1 <= x0 {
        x0 -= 1.0;
        x1 += 1.0;
    }
    let mut chart = ChartBuilder::on(root)
        .caption(&title, (FONT, 22))
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
        draw_band(&mut chart, &s.band, s.color)?;
    }
    for s in &series {
        for seg in segments(&s.smooth) {
            if seg.len() == 1 || (s.raw.is_empty() && s.band.is_empty()) {
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

pub(crate) fn draw_legend<'a, 'b: 'a, X, Y>(
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

/// One line of an epoch chart: a name, a colour and `(epoch, value)` points (NaN = gap); for
/// an activation with several seeds the points are their mean and `band` their range
/// `(epoch, lowest, highest)`, empty otherwise.
struct EpochLine {
    name: String,
    color: RGBColor,
    points: Vec<(i32, f32)>,
    band: Band<i32>,
}

impl EpochLine {
    /// Every value the line draws: its points and its band's ends.
    fn values(&self) -> impl Iterator<Item = f32> + '_ {
        let band = self.band.iter().flat_map(|b| [b.1, b.2]);
        self.points.iter().map(|p| p.1).chain(band)
    }

    /// Applies `f` to every value the line draws.
    fn map_values(&mut self, f: impl Fn(f32) -> f32) {
        for p in &mut self.points {
            p.1 = f(p.1);
        }
        for b in &mut self.band {
            (b.1, b.2) = (f(b.1), f(b.2));
        }
    }
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
        draw_band(&mut chart, &line.band, line.color)?;
    }
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

/// One line per activation, named after it and in its colour, through `points(run)`: with
/// several seeds, the mean over its runs in a band of their range ([`spread`]).
fn run_lines(
    runs: &[RunHistory],
    points: impl Fn(&RunHistory) -> Vec<(i32, f32)>,
) -> Vec<EpochLine> {
    let groups = groups(runs);
    let colors = series_colors(groups.len());
    groups
        .iter()
        .zip(colors)
        .map(|(g, color)| {
            let (points, band) = spread(g.runs.iter().map(|r| points(r)).collect());
            EpochLine {
                name: g.activation.to_string(),
                color,
                points,
                band,
            }
        })
        .collect()
}

fn epoch_i32(e: usize) -> i32 {
    i32::try_from(e).unwrap_or(i32::MAX - 1)
}

/// `accuracy.svg`: test accuracy (%) per epoch, one line per run.
fn draw_accuracy(root: &Area, runs: &[RunHistory]) -> DrawResult {
    let title = titled("Test accuracy per epoch", &groups(runs));
    let lines = run_lines(runs, |r| {
        r.epochs
            .iter()
            .map(|e| (epoch_i32(e.epoch), e.test_accuracy * 100.0))
            .collect()
    });
    let values: Vec<f32> = lines
        .iter()
        .flat_map(EpochLine::values)
        .filter(|v| v.is_finite())
        .collect();
    if values.is_empty() {
        return draw_empty(root, &title, "no epochs recorded");
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
        (&title, 22),
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
    run_lines(runs, |r| {
        r.epochs
            .iter()
            .filter_map(|e| {
                let l = e.layers.iter().find(|l| l.name == layer)?;
                Some((epoch_i32(e.epoch), field(l).unwrap_or(f32::NAN)))
            })
            .collect()
    })
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

/// The shared title and legend (one entry per line: its name and colour) above a grid of
/// panels; returns the area below it. A long title is set smaller, to fit the width.
fn panel_header<'a>(
    root: &Area<'a>,
    title: &str,
    legend: &[(String, RGBColor)],
) -> Result<Area<'a>, Box<dyn Error>> {
    let (header, body) = root.split_vertically(HEADER);
    let size = 22.min(1900 / title.chars().count().max(1) as u32);
    let title_style = TextStyle::from((FONT, size).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    header.draw(&Text::new(
        title.to_string(),
        (WIDTH as i32 / 2, 12),
        title_style,
    ))?;
    // Legend entries centred in rows: a short thick line in the run's colour, then its name.
    let width = |r: &(String, RGBColor)| 34 + 8 * r.0.chars().count() as i32 + 24;
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0;
    for (i, r) in legend.iter().enumerate() {
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
        let total: i32 = row.iter().map(|&i| width(&legend[i])).sum();
        let mut x = (WIDTH as i32 - total) / 2;
        let y = if row_height == 0 {
            56
        } else {
            47 + row_height * k as i32
        };
        for &i in row {
            let (name, color) = &legend[i];
            header.draw(&PathElement::new(
                vec![(x, y), (x + 26, y)],
                color.stroke_width(3),
            ))?;
            let style = TextStyle::from((FONT, 14).into_font())
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center));
            header.draw(&Text::new(name.clone(), (x + 34, y), style))?;
            x += width(&legend[i]);
        }
    }
    Ok(body)
}

/// A chart of one panel per layer that has `field` in some run (layers in order of first
/// appearance), under a shared title and legend: `draw` fills each panel from that layer's
/// lines, one per run, over epochs 1‥`epochs`. Without any such layer the chart says `none`.
fn layer_panels(
    root: &Area,
    runs: &[RunHistory],
    title: &str,
    field: fn(&LayerStats) -> Option<f32>,
    none: &str,
    mut draw: impl FnMut(&Area, &str, i32, Vec<EpochLine>) -> DrawResult,
) -> DrawResult {
    let names = layer_names(runs, field);
    let epochs = epoch_i32(max_epoch(runs));
    let legend: Vec<(String, RGBColor)> = run_lines(runs, |_| Vec::new())
        .into_iter()
        .map(|l| (l.name, l.color))
        .collect();
    let title = titled(title, &groups(runs));
    let body = panel_header(root, &title, &legend)?;
    if names.is_empty() {
        return draw_empty(&body, "", none);
    }
    let panels = body.split_evenly(grid(names.len()));
    for (name, panel) in names.iter().zip(&panels) {
        draw(panel, name, epochs, layer_lines(runs, name, field))?;
    }
    Ok(())
}

/// `grad_norm.svg`: the mean gradient norm of every parameter over epochs, log scale, one
/// panel per parameter, one line per run. A norm of exactly 0 (no gradient reached the
/// parameter) is drawn on the bottom edge.
fn draw_grad_norm(root: &Area, runs: &[RunHistory]) -> DrawResult {
    const TITLE: &str = "Gradient norm per parameter (mean over each epoch)";
    layer_panels(
        root,
        runs,
        TITLE,
        |l| l.grad_norm,
        "no gradient norms recorded",
        |panel, name, epochs, mut lines| {
            let values = lines.iter().flat_map(EpochLine::values);
            let Some((lo, hi)) = log_range(values) else {
                return draw_empty(panel, name, "no finite values");
            };
            let has_zero = lines.iter().flat_map(EpochLine::values).any(|v| v == 0.0);
            for line in &mut lines {
                line.map_values(|v| if v == 0.0 { lo } else { v });
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
            )
        },
    )
}

/// `dead_units.svg`: the fraction of dead units of every activation layer over epochs, one
/// panel per layer, one line per run.
fn draw_dead_units(root: &Area, runs: &[RunHistory]) -> DrawResult {
    const TITLE: &str = "Dead units per activation layer (zero output for every sample)";
    layer_panels(
        root,
        runs,
        TITLE,
        |l| l.dead_fraction,
        "no dead-unit fractions recorded",
        |panel, name, epochs, mut lines| {
            for line in &mut lines {
                line.map_values(|v| v * 100.0);
            }
            let hi = lines
                .iter()
                .flat_map(EpochLine::values)
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
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn series_colours_never_repeat_within_a_chart() {
        assert_eq!(series_colors(3), PALETTE[..3].to_vec());
        assert_eq!(series_colors(10), PALETTE.to_vec());
        let distance = |a: &RGBColor, b: &RGBColor| {
            a.0.abs_diff(b.0) as u32 + a.1.abs_diff(b.1) as u32 + a.2.abs_diff(b.2) as u32
        };
        for n in 1..=400 {
            let colors = series_colors(n);
            assert_eq!(colors.len(), n);
            let closest = (0..n)
                .flat_map(|i| (0..i).map(move |j| (i, j)))
                .map(|(i, j)| distance(&colors[i], &colors[j]))
                .min()
                .unwrap_or(u32::MAX);
            assert!(closest > 0, "{n} series: two share a colour");
            if n <= 30 {
                // tell-apart-able, not merely different bytes
                assert!(closest >= 24, "{n} series: two colours {closest} apart");
            }
        }
        // the wheel: red, green and blue at thirds of it
        assert_eq!(hsl(0.0, 1.0, 0.5), RGBColor(255, 0, 0));
        assert_eq!(hsl(1.0 / 3.0, 1.0, 0.5), RGBColor(0, 255, 0));
        assert_eq!(hsl(2.0 / 3.0, 1.0, 0.5), RGBColor(0, 0, 255));
    }

    #[test]
    fn spread_is_the_mean_and_range_over_runs_at_each_x() {
        let one = vec![vec![(1, 0.5), (2, f32::NAN)]];
        let (mean, band) = spread(one.clone());
        assert_eq!(mean[0], one[0][0]);
        assert!(mean[1].1.is_nan() && band.is_empty());
        let (mean, band) = spread(vec![
            vec![(1, 1.0), (2, 4.0), (3, f32::NAN)],
            vec![(1, 3.0), (2, f32::NAN), (3, f32::NAN)],
            vec![(1, 2.0), (2, 6.0)],
        ]);
        assert_eq!(mean[..2], [(1, 2.0), (2, 5.0)]);
        assert_eq!(band[..2], [(1, 1.0, 3.0), (2, 4.0, 6.0)]);
        assert!(mean[2].1.is_nan() && band[2].1.is_nan() && band[2].2.is_nan());
        assert_eq!(
            band_segments(&band),
            vec![vec![(1, 1.0, 3.0), (2, 4.0, 6.0)]]
        );
    }
}
