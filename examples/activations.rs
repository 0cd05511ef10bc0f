//! Every registered activation: list them, describe one, print values and derivatives as CSV,
//! or draw them.
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
//! `--activation SPEC` (repeatable) restricts `--csv` and `--plot` to the given specs, which may
//! be any spec the registry takes, formulas included (`--activation 'x * tanh(softplus(x))'`).

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Parser;
use minidl::autograd::Var;
use minidl::fs::{create_dir_all, write_atomic};
use minidl::nn::activation::{self, Activation, Category};
use minidl::tensor::Tensor;
use plotters::prelude::*;

/// Lists, describes, tabulates (CSV) or plots the registered activations.
#[derive(Parser, Debug)]
#[command(
    about,
    after_help = "CSV columns: activation,x,y,dydx, for every activation (default arguments, \
                  evaluation mode). dydx is computed by autograd. softmax, log_softmax and \
                  softmin are applied to the vector of all points, with dydx the Jacobian's \
                  diagonal ∂yᵢ/∂xᵢ; glu, swiglu and geglu are applied to the pair (x, x), with \
                  dydx = d/dx f(x, x) (both halves' derivatives summed)."
)]
struct Args {
    /// Print every activation: name, category, one-line description.
    #[arg(long)]
    list: bool,

    /// Print one activation's formula, derivative, range, category and PyTorch equivalent.
    #[arg(long, value_name = "SPEC")]
    describe: Option<String>,

    /// Print `activation,x,y,dydx` for every activation on the grid (or at --x).
    #[arg(long)]
    csv: bool,

    /// Draw one SVG per activation (f and f′) and a gallery page, index.html, into DIR.
    #[arg(long, value_name = "DIR")]
    plot: Option<PathBuf>,

    /// Only these activations (any spec, formulas included); repeat the flag for several.
    #[arg(long = "activation", value_name = "SPEC")]
    activations: Vec<String>,

    /// Start of the grid.
    #[arg(long, default_value_t = -6.0, allow_hyphen_values = true)]
    x_min: f32,

    /// End of the grid (included when the step lands on it).
    #[arg(long, default_value_t = 6.0, allow_hyphen_values = true)]
    x_max: f32,

    /// Step of the grid.
    #[arg(long, default_value_t = 0.25)]
    step: f32,

    /// Explicit points instead of the grid: `--x -20,-1,0,1,20`.
    #[arg(
        long,
        value_name = "V1,V2,...",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    x: Option<Vec<f32>>,
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

fn mode(act: &Activation) -> Mode {
    match act.entry().category {
        Category::Normalizing => Mode::Vector,
        Category::Gated => Mode::Pair,
        _ => Mode::Elementwise,
    }
}

/// `(y, dydx)` of `act` at `xs`, as described in the module docs.
fn evaluate(act: &Activation, xs: &[f32]) -> (Vec<f32>, Vec<f32>) {
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

/// The activations asked for: `--activation` specs, or every registry entry with its defaults.
fn selected(args: &Args) -> Result<Vec<(String, Activation)>, Box<dyn Error>> {
    if args.activations.is_empty() {
        return Ok(activation::all()
            .iter()
            .map(|e| (e.name.to_string(), Activation::with_defaults(e)))
            .collect());
    }
    args.activations
        .iter()
        .map(|s| Ok((s.trim().to_string(), Activation::from_name(s)?)))
        .collect()
}

/// The points: `--x`, or the grid from `--x-min` to `--x-max` by `--step`.
fn points(args: &Args) -> Result<Vec<f32>, Box<dyn Error>> {
    if let Some(xs) = &args.x {
        if xs.is_empty() || xs.iter().any(|v| !v.is_finite()) {
            return Err(
                "--x: give finite numbers separated by commas, e.g. --x -20,-1,0,1,20".into(),
            );
        }
        return Ok(xs.clone());
    }
    grid(args.x_min, args.x_max, args.step)
}

fn grid(min: f32, max: f32, step: f32) -> Result<Vec<f32>, Box<dyn Error>> {
    if !(min.is_finite() && max.is_finite() && min <= max) {
        return Err(format!(
            "--x-min {min} and --x-max {max}: need finite numbers with x-min ≤ x-max"
        )
        .into());
    }
    if !(step.is_finite() && step > 0.0) {
        return Err(format!("--step {step}: needs a positive number").into());
    }
    let count = ((max - min) / step + 1e-4).floor() as usize + 1;
    if count > 1_000_000 {
        return Err(format!("--step {step} gives {count} points; use a larger step").into());
    }
    // min + i·step computed in f64, so the points are the decimal values one expects
    Ok((0..count)
        .map(|i| (f64::from(min) + i as f64 * f64::from(step)) as f32)
        .collect())
}

fn print_list() {
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
        println!("{usage:<w0$}  {category:<w1$}  {about}");
    }
    println!(
        "\n{} activations. Any of them, or a formula in x such as 'x * tanh(softplus(x))', goes \
         wherever an activation is asked for (--activation).",
        activation::all().len()
    );
}

fn describe(spec: &str) -> Result<(), Box<dyn Error>> {
    let act = Activation::from_name(spec)?;
    let e = act.entry();
    let layer = act.build();
    println!("{}  —  {}", act, layer.describe());
    println!("  {}", e.about);
    if let Some(f) = act.args().formula() {
        println!("  f(x)       {}", f.text());
    } else {
        println!("  f(x)       {}", e.formula);
    }
    println!("  f′(x)      {}", e.derivative);
    println!("  range      {}", e.range);
    println!("  category   {}", e.category);
    println!("  PyTorch    {}", e.pytorch);
    println!("  usage      {}", e.usage());
    if !e.aliases.is_empty() {
        println!("  aliases    {}", e.aliases.join(", "));
    }
    if !e.kinks.is_empty() {
        let kinks: Vec<String> = e.kinks.iter().map(|k| k.to_string()).collect();
        println!(
            "  kinks at   {} (f′ there follows PyTorch)",
            kinks.join(", ")
        );
    }
    let params = layer.named_parameters();
    if !params.is_empty() {
        let names: Vec<String> = params
            .iter()
            .map(|(n, p)| format!("{n} = {}", p.item()))
            .collect();
        println!("  learnable  {}", names.join(", "));
    }
    Ok(())
}

fn print_csv(acts: &[(String, Activation)], xs: &[f32]) {
    let mut out = String::from("activation,x,y,dydx\n");
    for (name, act) in acts {
        let (ys, ds) = evaluate(act, xs);
        for ((x, y), d) in xs.iter().zip(&ys).zip(&ds) {
            let name = if name.contains([',', '"']) {
                format!("\"{}\"", name.replace('"', "\"\""))
            } else {
                name.clone()
            };
            writeln!(out, "{name},{x},{y},{d}").expect("writing to a String");
        }
    }
    print!("{out}");
}

/// A file name for a spec: letters, digits and `_`, the rest as `_`.
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

const F_COLOR: RGBColor = RGBColor(31, 119, 180);
const DF_COLOR: RGBColor = RGBColor(255, 127, 14);

/// One chart: f and f′ over `xs`, in the style of PyTorch's activation pictures (a grid, the
/// axes through the origin, f solid, f′ dashed).
fn chart(name: &str, act: &Activation, xs: &[f32]) -> Result<String, Box<dyn Error>> {
    let (ys, ds) = evaluate(act, xs);
    let finite = |v: &&f32| v.is_finite();
    let lo = ys
        .iter()
        .chain(&ds)
        .filter(finite)
        .fold(f32::INFINITY, |a, &b| a.min(b));
    let hi = ys
        .iter()
        .chain(&ds)
        .filter(finite)
        .fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let (lo, hi) = if lo.is_finite() {
        (lo.min(-1.0), hi.max(1.0))
    } else {
        (-1.0, 1.0)
    };
    let pad = 0.08 * (hi - lo);
    let (x0, x1) = (xs[0], xs[xs.len() - 1]);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (480, 360)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut c = ChartBuilder::on(&root)
            .caption(name, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .build_cartesian_2d(x0..x1, (lo - pad)..(hi + pad))?;
        c.configure_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(210, 210, 210))
            .label_style(("sans-serif", 13))
            .draw()?;
        let axis = RGBColor(120, 120, 120);
        c.draw_series(LineSeries::new(
            [(x0, 0.0), (x1, 0.0)],
            axis.stroke_width(1),
        ))?;
        c.draw_series(LineSeries::new(
            [(0.0, lo - pad), (0.0, hi + pad)],
            axis.stroke_width(1),
        ))?;
        let f: Vec<(f32, f32)> = xs.iter().copied().zip(ys.iter().copied()).collect();
        let df: Vec<(f32, f32)> = xs.iter().copied().zip(ds.iter().copied()).collect();
        c.draw_series(DashedLineSeries::new(df, 6, 4, DF_COLOR.stroke_width(2)))?
            .label("f′(x)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], DF_COLOR.stroke_width(2)));
        c.draw_series(LineSeries::new(f, F_COLOR.stroke_width(3)))?
            .label("f(x)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], F_COLOR.stroke_width(3)));
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 14))
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn plot(dir: &Path, acts: &[(String, Activation)], args: &Args) -> Result<(), Box<dyn Error>> {
    create_dir_all(dir)?;
    // a fine grid for smooth curves: about 600 points over the range
    let xs = match &args.x {
        Some(_) => points(args)?,
        None => grid(
            args.x_min,
            args.x_max,
            (args.x_max - args.x_min).max(1e-3) / 600.0,
        )?,
    };
    // the vector activations on the CSV's points: over 600 points every softmax value is tiny
    let coarse = points(args)?;
    let mut figures = String::new();
    for (name, act) in acts {
        let stem = file_stem(name);
        let file = format!("{stem}.svg");
        let xs = if mode(act) == Mode::Vector {
            &coarse
        } else {
            &xs
        };
        write_atomic(dir.join(&file), chart(name, act, xs)?.as_bytes())?;
        let e = act.entry();
        let formula = act.args().formula().map_or(e.formula, |f| f.text());
        let note = match mode(act) {
            Mode::Vector => "<p class=note>on the vector of the grid points; f′ = ∂yᵢ/∂xᵢ</p>",
            Mode::Pair => "<p class=note>on the pair (x, x); f′ = d/dx f(x, x)</p>",
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
        )?;
        eprintln!("wrote {}", dir.join(&file).display());
    }
    let html = format!(
        "<!doctype html>\n<html><head><meta charset=utf-8><title>minidl activations</title>\
         <style>{CSS}</style></head><body>\n<h1>Activations</h1>\n<p>f(x) solid, f′(x) dashed, \
         default arguments, evaluation mode; derivatives from autograd.</p>\n\
         <div class=gallery>\n{figures}</div>\n</body></html>\n"
    );
    write_atomic(dir.join("index.html"), html.as_bytes())?;
    eprintln!("wrote {}", dir.join("index.html").display());
    Ok(())
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222}\
    .gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:18px}\
    figure{margin:0;border:1px solid #ddd;border-radius:6px;padding:8px;background:#fff}\
    img{width:100%}figcaption{font-size:13px;line-height:1.5}\
    .cat{color:#666;font-size:12px;border:1px solid #ccc;border-radius:8px;padding:0 6px}\
    .torch{color:#555}.note{color:#a15c00;margin:2px 0}code{font-size:12px}";

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    if !(args.list || args.csv || args.describe.is_some() || args.plot.is_some()) {
        return Err(
            "nothing to do: give --list, --describe SPEC, --csv or --plot DIR (see --help)".into(),
        );
    }
    if args.list {
        print_list();
    }
    if let Some(spec) = &args.describe {
        describe(spec)?;
    }
    let acts = selected(&args)?;
    if args.csv {
        print_csv(&acts, &points(&args)?);
    }
    if let Some(dir) = &args.plot {
        plot(dir, &acts, &args)?;
    }
    Ok(())
}
