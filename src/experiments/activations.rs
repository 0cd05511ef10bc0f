//! The `activations` tool: every registered activation (built in or
//! [`register`](crate::lab::register)ed): list them, describe one, print values and derivatives as CSV,
//! or draw them.
//!
//! The `activations` example is [`main`]; a binary of your own that registers activations calls
//! it too, so `--describe`, `--csv` and `--plot` show them.
//!
//! ```text
//! cargo run --release --example activations -- --list
//! cargo run --release --example activations -- --describe mish
//! cargo run --release --example activations -- --csv                       # grid −6 … 6, step 0.25
//! cargo run --release --example activations -- --csv --x -20,-1,0,1,20     # explicit points
//! cargo run --release --example activations -- --plot activations-plots    # one SVG each + index.html
//! ```
//!
//! Each activation is built from its registry entry with its default arguments (the example
//! values for `threshold`'s required ones: `threshold:0.1,20`), in evaluation mode (RReLU's
//! fixed slope (lower + upper)/2). `dydx` comes from autograd (`backward`), not from the
//! formula, so the CSV checks the whole path a training step takes. What `x`, `y` and `dydx`
//! mean for the activations that are not elementwise:
//!
//! - **softmax, log_softmax, softmin** (normalise along an axis): applied to the vector of all
//!   the points at once; `dydx` is the Jacobian's diagonal ∂yᵢ/∂xᵢ.
//! - **glu, swiglu, geglu** (halve the last axis): applied to the pair `(x, x)` for each point,
//!   so `y = glu(x, x) = x·σ(x)`; `dydx` is the total derivative d/dx f(x, x), the sum of the
//!   derivatives in both halves.
//!
//! `--plot` draws RReLU's training mode too: its negative slope is then drawn from
//! U[lower, upper] (PyTorch's defaults 1/8 and 1/3), so the band between `lower·x` and `upper·x`
//! is shaded for x < 0 (and between `lower` and `upper` for f′), around the evaluation mode's
//! line of slope (lower + upper)/2. With every activation (no `--activation`) it adds
//! [`FAMILIES`], one chart each: Swish for β = 0.5, 1, 2, 5, leaky ReLU for the negative slopes
//! 0.01, 0.1, 0.3, ELU for α = 0.5, 1, 2, each curve in its own colour, under "Parameter
//! families" in index.html.
//!
//! `--activation SPEC` (repeatable) restricts `--csv` and `--plot` to the given specs, which may
//! be any spec the registry takes, formulas included (`--activation 'x * tanh(softplus(x))'`).

use std::error::Error;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::autograd::Var;
use crate::fs::{create_dir_all, write_atomic};
use crate::lab::{parse_activation, LabError};
use crate::nn::activation::{self, ActivationSpec, Category};
use crate::report::html::esc;
use crate::tensor::Tensor;
use clap::Parser;
use plotters::prelude::*;

/// Lists, describes, tabulates (CSV) or plots the registered activations.
#[derive(Parser, Debug)]
#[command(
    name = "activations",
    about = "Lists, describes, tabulates (CSV) or plots the registered activations",
    after_help = "CSV columns: activation,x,y,dydx, for every activation (default arguments, \
                  evaluation mode). dydx is computed by autograd. softmax, log_softmax and \
                  softmin are applied to the vector of all points, with dydx the Jacobian's \
                  diagonal ∂yᵢ/∂xᵢ; glu, swiglu and geglu are applied to the pair (x, x), with \
                  dydx = d/dx f(x, x) (both halves' derivatives summed)."
)]
pub struct Args {
    /// Print every activation: name, category, one-line description.
    #[arg(long)]
    pub list: bool,

    /// Print one activation's formula, derivative, range, category and PyTorch equivalent.
    #[arg(long, value_name = "SPEC")]
    pub describe: Option<String>,

    /// Print `activation,x,y,dydx` for every activation on the grid (or at --x).
    #[arg(long)]
    pub csv: bool,

    /// Draw one SVG per activation (f and f′) and a gallery page, index.html, into DIR.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,

    /// Only these activations (any spec, formulas included); repeat the flag for several.
    #[arg(long = "activation", value_name = "SPEC")]
    pub activations: Vec<String>,

    /// Start of the grid.
    #[arg(long, default_value_t = -6.0, allow_hyphen_values = true)]
    pub x_min: f32,

    /// End of the grid (included when the step lands on it).
    #[arg(long, default_value_t = 6.0, allow_hyphen_values = true)]
    pub x_max: f32,

    /// Step of the grid.
    #[arg(long, default_value_t = 0.25, allow_negative_numbers = true)]
    pub step: f32,

    /// Explicit points instead of the grid: `--x -20,-1,0,1,20`.
    #[arg(
        long,
        value_name = "V1,V2,...",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    pub x: Option<Vec<f32>>,
}

/// How an activation is evaluated on a set of points (see the module docs).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    /// Elementwise: each point on its own.
    Elementwise,
    /// Along an axis: the whole vector of points at once; the Jacobian's diagonal.
    Vector,
    /// Gated: the pair (x, x); the total derivative.
    Pair,
}

fn mode(act: &ActivationSpec) -> Mode {
    match act.entry().category {
        Category::Normalizing => Mode::Vector,
        Category::Gated => Mode::Pair,
        _ => Mode::Elementwise,
    }
}

/// `(y, dydx)` of `act` at `xs`, as described in the module docs.
fn evaluate(act: &ActivationSpec, xs: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let layer = act.build();
    layer.eval();
    let n = xs.len();
    match mode(act) {
        Mode::Elementwise => {
            let x = Var::parameter(Tensor::from_vec(xs.to_vec(), [n]));
            let y = layer.forward(&x);
            let values = y.value().to_vec();
            y.backward_with(Tensor::ones([n]));
            (values, x.grad().expect("x requires grad").to_vec())
        }
        Mode::Vector => {
            // one backward per point, seeded with the one-hot vector eᵢ: row i of the Jacobian
            let mut values = Vec::new();
            let mut diagonal = Vec::with_capacity(n);
            for i in 0..n {
                let x = Var::parameter(Tensor::from_vec(xs.to_vec(), [n]));
                let y = layer.forward(&x);
                values = y.value().to_vec();
                let mut seed = vec![0.0; n];
                seed[i] = 1.0;
                y.backward_with(Tensor::from_vec(seed, [n]));
                diagonal.push(x.grad().expect("x requires grad").to_vec()[i]);
            }
            (values, diagonal)
        }
        Mode::Pair => {
            let pairs: Vec<f32> = xs.iter().flat_map(|&v| [v, v]).collect();
            let x = Var::parameter(Tensor::from_vec(pairs, [n, 2]));
            let y = layer.forward(&x);
            let values = y.value().to_vec();
            y.backward_with(Tensor::ones([n, 1]));
            let g = x.grad().expect("x requires grad").to_vec();
            (values, g.chunks(2).map(|p| p[0] + p[1]).collect())
        }
    }
}

/// The most points `--x` or the grid may give. The activations that normalise along an axis
/// take one backward pass per point over all the points (the Jacobian's diagonal), so the
/// work grows with the square of the count: 10,000 points take about a second.
const MAX_POINTS: usize = 10_000;

/// The activations asked for: `--activation` specs, or every registry entry with its defaults.
///
/// # Errors
/// [`LabError::Activation`] for a spec that does not parse, [`LabError::Usage`] for a spec
/// given twice.
fn selected(args: &Args) -> Result<Vec<(String, ActivationSpec)>, LabError> {
    if args.activations.is_empty() {
        return Ok(activation::all()
            .iter()
            .map(|e| (e.name.to_string(), ActivationSpec::with_defaults(e)))
            .collect());
    }
    let mut acts: Vec<(String, ActivationSpec)> = Vec::new();
    for spec in &args.activations {
        let name = spec.trim().to_string();
        let act = parse_activation(&name, "--activation")?;
        if acts.iter().any(|(n, _)| *n == name) {
            return Err(LabError::Usage(format!(
                "--activation: {name} is given twice: give each activation once"
            )));
        }
        acts.push((name, act));
    }
    Ok(acts)
}

/// The points: `--x`, or the grid from `--x-min` to `--x-max` by `--step`.
///
/// # Errors
/// [`LabError::Usage`] for a value that is not finite, `--x-min` above `--x-max`, a step that
/// is not positive, or more than [`MAX_POINTS`] points.
fn points(args: &Args) -> Result<Vec<f32>, LabError> {
    if let Some(xs) = &args.x {
        if xs.is_empty() || xs.iter().any(|v| !v.is_finite()) {
            return Err(LabError::Usage(
                "--x: give finite numbers separated by commas, e.g. --x -20,-1,0,1,20".into(),
            ));
        }
        if xs.len() > MAX_POINTS {
            return Err(LabError::Usage(format!(
                "--x: {} points; the limit is {MAX_POINTS}: give fewer",
                xs.len()
            )));
        }
        return Ok(xs.clone());
    }
    grid(args.x_min, args.x_max, args.step, "--step")
}

/// The points from `min` to `max` by `step`; `flag` is what set the step, for messages.
fn grid(min: f32, max: f32, step: f32, flag: &str) -> Result<Vec<f32>, LabError> {
    if !(min.is_finite() && max.is_finite() && min <= max) {
        return Err(LabError::Usage(format!(
            "--x-min {min} and --x-max {max}: need finite numbers with x-min ≤ x-max"
        )));
    }
    if !(step.is_finite() && step > 0.0) {
        return Err(LabError::Usage(format!(
            "{flag} {step:?}: needs a positive, finite number such as 0.25"
        )));
    }
    // counted in f64 before any conversion: a tiny step gives a count no usize holds
    let count = ((f64::from(max) - f64::from(min)) / f64::from(step) + 1e-4).floor() + 1.0;
    if count > MAX_POINTS as f64 {
        let least = (f64::from(max) - f64::from(min)) / (MAX_POINTS - 1) as f64;
        let count = if count < 1e15 {
            format!("{count:.0}")
        } else {
            format!("{count:.1e}")
        };
        return Err(LabError::Usage(format!(
            "{flag} {step:?}: gives {count} points from {min} to {max}; the limit is \
             {MAX_POINTS}: use a step of at least {least:.3e}"
        )));
    }
    // min + i·step computed in f64, so the points are the decimal values one expects
    Ok((0..count as usize)
        .map(|i| (f64::from(min) + i as f64 * f64::from(step)) as f32)
        .collect())
}

fn print_list(out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<[String; 3]> = activation::all()
        .iter()
        .map(|e| {
            [
                e.usage(),
                e.category.label().to_string(),
                e.about.to_string(),
            ]
        })
        .collect();
    let w0 = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r[1].chars().count()).max().unwrap_or(0);
    for [usage, category, about] in rows {
        writeln!(out, "{usage:<w0$}  {category:<w1$}  {about}")?;
    }
    writeln!(
        out,
        "\n{} activations. Any of them, or a formula in x such as 'x * tanh(softplus(x))', goes \
         wherever an activation is asked for (--activation).",
        activation::all().len()
    )
}

/// Prints what `spec` is.
///
/// # Errors
/// [`LabError::Activation`] (with the closest name for a typo) if it does not parse;
/// [`LabError::Output`] if `out` fails.
fn describe(spec: &str, out: &mut dyn Write) -> Result<(), LabError> {
    let act = parse_activation(spec, "--describe")?;
    let e = act.entry();
    let layer = act.build();
    writeln!(out, "{}  —  {}", act, layer.describe())?;
    // a registered entry may leave the documenting fields empty: those lines are left out
    if !e.about.is_empty() {
        writeln!(out, "  {}", e.about)?;
    }
    if let Some(f) = act.formula() {
        writeln!(out, "  f(x)       {}", f.text())?;
    } else {
        writeln!(out, "  f(x)       {}", e.formula)?;
    }
    writeln!(out, "  f′(x)      {}", e.derivative)?;
    if !e.range.is_empty() {
        writeln!(out, "  range      {}", e.range)?;
    }
    writeln!(out, "  category   {}", e.category)?;
    if !e.pytorch.is_empty() {
        writeln!(out, "  PyTorch    {}", e.pytorch)?;
    }
    writeln!(out, "  usage      {}", e.usage())?;
    if !e.aliases.is_empty() {
        writeln!(out, "  aliases    {}", e.aliases.join(", "))?;
    }
    if !e.kinks.is_empty() {
        let kinks: Vec<String> = e.kinks.iter().map(|k| k.to_string()).collect();
        writeln!(
            out,
            "  kinks at   {} (f′ there follows PyTorch)",
            kinks.join(", ")
        )?;
    }
    let params = layer.named_parameters();
    if !params.is_empty() {
        let names: Vec<String> = params
            .iter()
            .map(|(n, p)| format!("{n} = {}", p.item()))
            .collect();
        writeln!(out, "  learnable  {}", names.join(", "))?;
    }
    Ok(())
}

fn print_csv(acts: &[(String, ActivationSpec)], xs: &[f32], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "activation,x,y,dydx")?;
    for (name, act) in acts {
        let (ys, ds) = evaluate(act, xs);
        let name = if name.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", name.replace('"', "\"\""))
        } else {
            name.clone()
        };
        let mut rows = String::new();
        for ((x, y), d) in xs.iter().zip(&ys).zip(&ds) {
            writeln!(rows, "{name},{x},{y},{d}").expect("writing to a String");
        }
        out.write_all(rows.as_bytes())?;
    }
    out.flush()
}

/// The longest readable part of a chart's file name; a longer spec (a formula) is cut there and
/// told apart by its hash.
const MAX_STEM: usize = 40;

/// A file name (without `.svg`) for each spec, all different, also on file systems that ignore
/// case: the spec lower-cased with every character but letters, digits and `_` as `_`
/// (`leaky_relu:0.1` → `leaky_relu_0_1`), and when two specs give the same name (`x/2` and
/// `x*2` both give `x_2`) or a spec is longer than [`MAX_STEM`], a short hash of the spec
/// after it (`x_2-1f3a9c02`).
fn file_stems(names: &[&str]) -> Vec<String> {
    let slug = |name: &str| -> String {
        let s: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        let s = s.trim_matches('_').to_string();
        if s.is_empty() {
            "formula".into()
        } else {
            s
        }
    };
    let slugs: Vec<String> = names.iter().map(|n| slug(n)).collect();
    slugs
        .iter()
        .zip(names)
        .map(|(s, name)| {
            let shared = slugs.iter().filter(|o| *o == s).count() > 1;
            if !shared && s.len() <= MAX_STEM {
                return s.clone();
            }
            // FNV-1a: stable from run to run and platform to platform, unlike std's hasher
            let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            let cut: String = s.chars().take(MAX_STEM).collect();
            format!("{}-{:08x}", cut.trim_end_matches('_'), hash as u32)
        })
        .collect()
}

/// RReLU's training-mode range of slopes for x < 0, `(lower, upper)`: for a randomized entry
/// with the arguments `lower` and `upper` (PyTorch's `RReLU(lower=1/8, upper=1/3)`), `None`
/// for every other activation. The chart shades the band between `lower·x` and `upper·x`; its
/// line is the evaluation mode's fixed slope, the mean `(lower + upper)/2`.
fn training_band(act: &ActivationSpec) -> Option<(f32, f32)> {
    let e = act.entry();
    let has = |n: &str| e.args.iter().any(|a| a.name == n);
    (e.category == Category::Randomized && has("lower") && has("upper"))
        .then(|| (act.args().number("lower"), act.args().number("upper")))
}

/// The parameter families drawn on their own charts when `--plot` draws every activation:
/// the title, the file stem, and the specs, one curve each.
pub const FAMILIES: [(&str, &str, &[&str]); 3] = [
    (
        "Swish, β = 0.5, 1, 2, 5",
        "family-swish",
        &[
            "swish:beta=0.5",
            "swish:beta=1",
            "swish:beta=2",
            "swish:beta=5",
        ],
    ),
    (
        "leaky ReLU, negative slope 0.01, 0.1, 0.3",
        "family-leaky_relu",
        &["leaky_relu:0.01", "leaky_relu:0.1", "leaky_relu:0.3"],
    ),
    (
        "ELU, α = 0.5, 1, 2",
        "family-elu",
        &["elu:alpha=0.5", "elu:alpha=1", "elu:alpha=2"],
    ),
];

/// The frame every chart here shares, 480×360: a title, axes labelled in the reports' grey
/// grid, over `x` × `y`; `draw` adds the series and the legend, then the SVG text is returned.
fn small_chart(
    title: &str,
    title_px: u32,
    x: std::ops::Range<f32>,
    y: std::ops::Range<f32>,
    draw: impl FnOnce(&mut SmallChart<'_>) -> Result<(), Box<dyn Error>>,
) -> Result<String, Box<dyn Error>> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (480, 360)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut c = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", title_px))
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .build_cartesian_2d(x, y)?;
        c.configure_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(210, 210, 210))
            .label_style(("sans-serif", 13))
            .draw()?;
        draw(&mut c)?;
        root.present()?;
    }
    Ok(svg)
}

/// A chart of [`small_chart`]: f32 coordinates on an SVG string.
type SmallChart<'a> = ChartContext<
    'a,
    SVGBackend<'a>,
    Cartesian2d<plotters::coord::types::RangedCoordf32, plotters::coord::types::RangedCoordf32>,
>;

/// One chart of a parameter family: f for each spec, each in its own colour.
fn family_chart(title: &str, specs: &[&str], xs: &[f32]) -> Result<String, Box<dyn Error>> {
    let mut curves = Vec::with_capacity(specs.len());
    for spec in specs {
        let (ys, _) = evaluate(&ActivationSpec::parse(spec)?, xs);
        curves.push(ys);
    }
    let all = curves.iter().flatten().filter(|v| v.is_finite());
    let (lo, hi) = all.fold((-1.0f32, 1.0f32), |(a, b), &v| (a.min(v), b.max(v)));
    let pad = 0.08 * (hi - lo);
    let (x0, x1) = (xs[0], xs[xs.len() - 1]);
    small_chart(title, 18, x0..x1, (lo - pad)..(hi + pad), |c| {
        // the reports' colours: all different, however many curves
        let colors = crate::report::charts::series_colors(specs.len());
        for ((spec, ys), color) in specs.iter().zip(&curves).zip(colors) {
            let f: Vec<(f32, f32)> = xs.iter().copied().zip(ys.iter().copied()).collect();
            c.draw_series(LineSeries::new(f, color.stroke_width(2)))?
                .label(*spec)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 13))
            .draw()?;
        Ok(())
    })
}

const F_COLOR: RGBColor = RGBColor(31, 119, 180);
const DF_COLOR: RGBColor = RGBColor(255, 127, 14);

/// One chart: f and f′ over `xs`, in the style of PyTorch's activation pictures (a grid, the
/// axes through the origin, f solid, f′ dashed).
fn chart(name: &str, act: &ActivationSpec, xs: &[f32]) -> Result<String, Box<dyn Error>> {
    let (ys, ds) = evaluate(act, xs);
    let (x0, x1) = (xs[0], xs[xs.len() - 1]);
    let band = training_band(act);
    // the band's corners count for the y range too
    let corners: Vec<f32> = band
        .map(|(l, u)| {
            let xn = x0.min(0.0);
            vec![l * xn, u * xn, l, u]
        })
        .unwrap_or_default();
    let finite = |v: &&f32| v.is_finite();
    let lo = ys
        .iter()
        .chain(&ds)
        .chain(&corners)
        .filter(finite)
        .fold(f32::INFINITY, |a, &b| a.min(b));
    let hi = ys
        .iter()
        .chain(&ds)
        .chain(&corners)
        .filter(finite)
        .fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let (lo, hi) = if lo.is_finite() {
        (lo.min(-1.0), hi.max(1.0))
    } else {
        (-1.0, 1.0)
    };
    let pad = 0.08 * (hi - lo);
    small_chart(name, 22, x0..x1, (lo - pad)..(hi + pad), |c| {
        let axis = RGBColor(120, 120, 120);
        c.draw_series(LineSeries::new(
            [(x0, 0.0), (x1, 0.0)],
            axis.stroke_width(1),
        ))?;
        c.draw_series(LineSeries::new(
            [(0.0, lo - pad), (0.0, hi + pad)],
            axis.stroke_width(1),
        ))?;
        if let (Some((l, u)), true) = (band, x0 < 0.0) {
            // training mode: for x < 0 the slope is drawn from U[l, u], so f lies between the
            // lines l·x and u·x, and f′ between l and u
            let xn = x1.min(0.0);
            c.draw_series(std::iter::once(Polygon::new(
                vec![(x0, l * x0), (xn, l * xn), (xn, u * xn), (x0, u * x0)],
                F_COLOR.mix(0.18).filled(),
            )))?
            .label(format!("training: slope ~ U[{l:.3}, {u:.3}]"))
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 18, y + 5)], F_COLOR.mix(0.18).filled())
            });
            c.draw_series(std::iter::once(Rectangle::new(
                [(x0, l), (xn, u)],
                DF_COLOR.mix(0.18).filled(),
            )))?;
        }
        let f: Vec<(f32, f32)> = xs.iter().copied().zip(ys.iter().copied()).collect();
        let df: Vec<(f32, f32)> = xs.iter().copied().zip(ds.iter().copied()).collect();
        c.draw_series(DashedLineSeries::new(df, 6, 4, DF_COLOR.stroke_width(2)))?
            .label("f′(x)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], DF_COLOR.stroke_width(2)));
        let f_label = if band.is_some() {
            "f(x), evaluation: slope (l + u)/2"
        } else {
            "f(x)"
        };
        c.draw_series(LineSeries::new(f, F_COLOR.stroke_width(3)))?
            .label(f_label)
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], F_COLOR.stroke_width(3)));
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 14))
            .draw()?;
        Ok(())
    })
}

/// Draws every chart in memory first, then writes them and `index.html` into `dir`, and says
/// so in one line on stderr.
///
/// # Errors
/// [`LabError::Usage`] for points that give no curve (fewer than two distinct x), a chart
/// that cannot be drawn, or a folder or file that cannot be written (naming it).
fn plot(dir: &Path, acts: &[(String, ActivationSpec)], args: &Args) -> Result<(), LabError> {
    // a fine grid for smooth curves: about 600 points over the range
    let mut xs = match &args.x {
        Some(_) => points(args)?,
        // the width in f64: from -3e38 to 3e38 it is not a finite f32
        None => grid(
            args.x_min,
            args.x_max,
            ((f64::from(args.x_max) - f64::from(args.x_min)).max(1e-3) / 600.0) as f32,
            "--x-min and --x-max",
        )?,
    };
    // the vector activations on the CSV's points: over 600 points every softmax value is tiny
    let mut coarse = points(args)?;
    for v in [&mut xs, &mut coarse] {
        v.sort_by(f32::total_cmp);
        v.dedup();
    }
    if xs.len() < 2 || coarse.len() < 2 {
        return Err(LabError::Usage(
            "--plot: a curve needs at least two different x: give --x-min below --x-max (and \
             a --step that fits between them) or two different --x values"
                .into(),
        ));
    }
    let names: Vec<&str> = acts.iter().map(|(n, _)| n.as_str()).collect();
    let stems = file_stems(&names);
    let mut charts = Vec::with_capacity(acts.len());
    for (name, act) in acts {
        let xs = if mode(act) == Mode::Vector {
            &coarse
        } else {
            &xs
        };
        let svg = chart(name, act, xs)
            .map_err(|e| LabError::Usage(format!("--plot: cannot draw {name}: {e}")))?;
        charts.push(svg);
    }
    // the parameter families, with the whole gallery only
    let mut families = Vec::new();
    if args.activations.is_empty() {
        for (title, stem, specs) in FAMILIES {
            let svg = family_chart(title, specs, &xs)
                .map_err(|e| LabError::Usage(format!("--plot: cannot draw {title}: {e}")))?;
            families.push((title, stem, svg));
        }
    }
    let write_error = |e: crate::fs::WriteError| LabError::Usage(format!("--plot: {e}"));
    create_dir_all(dir).map_err(write_error)?;
    let mut figures = String::new();
    for (((name, act), stem), svg) in acts.iter().zip(&stems).zip(&charts) {
        let file = format!("{stem}.svg");
        write_atomic(dir.join(&file), svg.as_bytes()).map_err(write_error)?;
        let e = act.entry();
        let formula = act.formula().map_or(e.formula, |f| f.text());
        let note = match mode(act) {
            Mode::Vector => "<p class=note>on the vector of the grid points; f′ = ∂yᵢ/∂xᵢ</p>",
            Mode::Pair => "<p class=note>on the pair (x, x); f′ = d/dx f(x, x)</p>",
            Mode::Elementwise if training_band(act).is_some() => {
                "<p class=note>shaded: training mode, slope drawn from U[lower, upper] for \
                 x &lt; 0; line: evaluation mode, the mean slope</p>"
            }
            Mode::Elementwise => "",
        };
        writeln!(
            figures,
            "<figure><img src=\"{file}\" alt=\"{name}\"><figcaption><b>{name}</b> \
             <span class=cat>{cat}</span><br>{about}<br><code>f(x) = {formula}</code><br>\
             <code>f′(x) = {derivative}</code><br><span class=torch>{torch}</span>{note}\
             </figcaption></figure>",
            name = esc(name),
            cat = esc(e.category.label()),
            about = esc(e.about),
            formula = esc(formula),
            derivative = esc(e.derivative),
            torch = esc(e.pytorch),
        )
        .expect("writing to a String");
    }
    let mut family_figures = String::new();
    for (title, stem, svg) in &families {
        let file = format!("{stem}.svg");
        write_atomic(dir.join(&file), svg.as_bytes()).map_err(write_error)?;
        writeln!(
            family_figures,
            "<figure><img src=\"{file}\" alt=\"{title}\"><figcaption><b>{title}</b></figcaption>\
             </figure>",
            title = esc(title),
        )
        .expect("writing to a String");
    }
    if !family_figures.is_empty() {
        family_figures = format!(
            "<h2>Parameter families</h2>\n<p>f(x) for several values of one argument.</p>\n\
             <div class=gallery>\n{family_figures}</div>\n"
        );
    }
    let html = format!(
        "<!doctype html>\n<html><head><meta charset=utf-8><title>minidl activations</title>\
         <style>{CSS}</style></head><body>\n<h1>Activations</h1>\n<p>f(x) solid, f′(x) dashed, \
         default arguments, evaluation mode; derivatives from autograd.</p>\n\
         <div class=gallery>\n{figures}</div>\n{family_figures}</body></html>\n"
    );
    write_atomic(dir.join("index.html"), html.as_bytes()).map_err(write_error)?;
    // a note, not the result (which is the files): a full stderr does not make it an error
    let _ = writeln!(
        io::stderr(),
        "wrote {} charts and index.html into {}",
        charts.len() + families.len(),
        dir.display()
    );
    Ok(())
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222}\
    .gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:18px}\
    figure{margin:0;border:1px solid #ddd;border-radius:6px;padding:8px;background:#fff}\
    img{width:100%}figcaption{font-size:13px;line-height:1.5}\
    .cat{color:#666;font-size:12px;border:1px solid #ccc;border-radius:8px;padding:0 6px}\
    .torch{color:#555}.note{color:#a15c00;margin:2px 0}code{font-size:12px}";

/// The `activations` example from any binary (one that registered its own activations first,
/// [`register`](crate::lab::register)): parses `std::env::args` as [`Args`] (a bad flag: one
/// line on stderr, exit status 2), runs [`run`] printing to standard output, and returns the
/// exit status: 0, or 2 with `error: …` on stderr ([`LabError::exit`]).
pub fn main() -> ExitCode {
    main_from(std::env::args_os())
}

/// [`main`] with the command line given (its first item is the program's name) instead of
/// `std::env::args`; a bad command line prints one line on stderr and returns status 2,
/// `--help` prints the help and returns 0. It never ends the process itself.
pub fn main_from<I, S>(args: I) -> ExitCode
where
    I: IntoIterator<Item = S>,
    S: Into<OsString> + Clone,
{
    crate::lab::main_with(args, run)
}

/// The whole tool, printing to `out`. Every flag is checked before anything is printed or
/// written.
///
/// # Errors
/// A [`LabError`] for nothing to do, a spec that does not parse, bad points, a plot folder
/// that cannot be written, or a failed write to `out`.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<(), LabError> {
    if !(args.list || args.csv || args.describe.is_some() || args.plot.is_some()) {
        return Err(LabError::Usage(
            "nothing to do: give --list, --describe SPEC, --csv or --plot DIR (see --help)".into(),
        ));
    }
    let acts = selected(args)?;
    let xs = if args.csv || args.plot.is_some() {
        points(args)?
    } else {
        Vec::new()
    };
    if let Some(spec) = &args.describe {
        parse_activation(spec, "--describe")?;
    }
    if args.list {
        print_list(out)?;
    }
    if let Some(spec) = &args.describe {
        describe(spec, out)?;
    }
    if args.csv {
        print_csv(&acts, &xs, out)?;
    }
    if let Some(dir) = &args.plot {
        plot(dir, &acts, args)?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(flags: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("activations").chain(flags.iter().copied())).unwrap()
    }

    /// The stroke colours of an SVG's polylines, in order.
    fn strokes(svg: &str) -> Vec<&str> {
        svg.split("<polyline")
            .skip(1)
            .filter_map(|p| p.split("stroke=\"").nth(1)?.split('"').next())
            .collect()
    }

    #[test]
    fn rrelu_shows_its_training_band_and_other_activations_none() {
        let rrelu = ActivationSpec::parse("rrelu").unwrap();
        assert_eq!(training_band(&rrelu), Some((0.125, 1.0 / 3.0)));
        let narrow = ActivationSpec::parse("rrelu:0.2,0.3").unwrap();
        assert_eq!(training_band(&narrow), Some((0.2, 0.3)));
        assert_eq!(
            training_band(&ActivationSpec::parse("leaky_relu").unwrap()),
            None
        );
        let xs: Vec<f32> = (-6..=6).map(|i| i as f32).collect();
        let svg = chart("rrelu", &rrelu, &xs).unwrap();
        assert!(svg.contains("training: slope ~ U[0.125, 0.333]"), "{svg}");
        assert!(svg.contains("<polygon"), "the band is drawn");
        let svg = chart(
            "leaky_relu",
            &ActivationSpec::parse("leaky_relu").unwrap(),
            &xs,
        )
        .unwrap();
        assert!(!svg.contains("training: slope"));
    }

    #[test]
    fn families_are_drawn_with_the_gallery_in_distinct_colours() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("plots");
        let flags = ["--plot", out.to_str().unwrap()];
        run(&args(&flags), &mut Vec::new()).unwrap();
        let html = std::fs::read_to_string(out.join("index.html")).unwrap();
        assert!(html.contains("<h2>Parameter families</h2>"));
        for (title, stem, specs) in FAMILIES {
            assert!(html.contains(&format!("src=\"{stem}.svg\"")), "{stem}");
            assert!(html.contains(&esc(title)));
            let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
            for spec in specs {
                assert!(svg.contains(spec), "{stem} lacks {spec}");
            }
            // one curve and one legend line per spec (the black lines are the axes' ticks),
            // each spec's colour its own
            let colours: Vec<&str> = strokes(&svg)
                .into_iter()
                .filter(|c| *c != "#000000")
                .collect();
            let mut distinct = colours.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(colours.len(), 2 * specs.len(), "{stem}: {colours:?}");
            assert_eq!(distinct.len(), specs.len(), "{stem}: {colours:?}");
        }
        assert!(html.contains("slope drawn from U[lower, upper]"));

        // a chosen list: no families
        let out = dir.path().join("chosen");
        let flags = ["--plot", out.to_str().unwrap(), "--activation", "rrelu"];
        run(&args(&flags), &mut Vec::new()).unwrap();
        let html = std::fs::read_to_string(out.join("index.html")).unwrap();
        assert!(!html.contains("Parameter families"));
        assert!(!out.join("family-swish.svg").exists());
    }
}
