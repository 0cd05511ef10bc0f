//! A guided tour of `autograd`: what `backward()` does, on numbers you can check by hand.
//!
//! 1. micrograd's neuron `L = tanh(a·b + c) · f`: every intermediate value, then `backward()`,
//!    then every gradient beside the chain rule that gives it and its hand-derived value;
//! 2. a new differentiable op, `Cube`, written as one `Function` and checked with `gradcheck`;
//! 3. a 2-layer network on a batch of 4: `backward()` against the same backward pass written
//!    by hand with matrices, and against finite differences (`gradcheck_params`).
//!
//! ```text
//! cargo run --release --example autograd_tour -- --dot graph.dot
//! dot -Tsvg graph.dot -o graph.svg
//! ```
//!
//! Every ✓ is a check: the program exits with status 1 if `backward()` and the hand-derived
//! formula disagree, and with status 2 if the DOT file cannot be written.

use std::cell::RefCell;
use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;

use clap::Parser;
use minidl::autograd::{self, Function, GradcheckError, GradcheckOptions, Var};
use minidl::fs::{write_atomic, WriteError};
use minidl::lab::LabError;
use minidl::nn::ActivationExt;
use minidl::tensor::{self, Tensor};

/// The command line.
#[derive(Parser, Debug, Default)]
#[command(
    about = "A guided tour of autograd: values, gradients and the chain rule, checked by hand"
)]
pub struct Args {
    /// Write the graph of the first expression, with values and gradients, as Graphviz DOT to
    /// FILE (draw it with `dot -Tsvg FILE -o graph.svg`).
    #[arg(long, value_name = "FILE")]
    pub dot: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args: Args = minidl::cli::parse_args();
    match run(&args, &mut io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        // the lab's one exit path: one line on stderr, the status of TourError::exit_code (a
        // closed pipe, `| head`, is success: the reader has seen what it wanted)
        Err(e) => LabError::from(e).exit(),
    }
}

impl From<TourError> for LabError {
    fn from(e: TourError) -> LabError {
        match e {
            TourError::Dot(_) => LabError::Usage(e.to_string()),
            TourError::Io(e) => LabError::Output(e),
            TourError::Failed(ref list) => LabError::Failed(format!(
                "{} check(s) failed: {}",
                list.len(),
                list.join("; ")
            )),
        }
    }
}

/// Why the tour stopped.
#[derive(Debug)]
pub enum TourError {
    /// The DOT file could not be written (exit status 2).
    Dot(WriteError),
    /// Some gradients disagree with their hand-derived values (exit status 1).
    Failed(Vec<String>),
    /// Standard output could not be written (exit status 1).
    Io(io::Error),
}

impl TourError {
    /// The process exit status for this error: 2 for a bad `--dot` path, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            TourError::Dot(_) => 2,
            TourError::Failed(_) | TourError::Io(_) => 1,
        }
    }
}

impl fmt::Display for TourError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TourError::Dot(e) => write!(f, "--dot: {e}"),
            TourError::Failed(list) => {
                write!(f, "{} check(s) failed:", list.len())?;
                list.iter().try_for_each(|item| write!(f, "\n  {item}"))
            }
            TourError::Io(e) => write!(f, "cannot write the tour to standard output: {e}"),
        }
    }
}

impl std::error::Error for TourError {}

impl From<io::Error> for TourError {
    fn from(e: io::Error) -> Self {
        TourError::Io(e)
    }
}

/// Runs the whole tour, printing to `out`; writes the DOT file if `args.dot` is set.
///
/// # Errors
/// [`TourError::Dot`] if the DOT file cannot be written (the tour stops there),
/// [`TourError::Failed`] at the end if any check failed, [`TourError::Io`] if `out` fails.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<(), TourError> {
    let mut checks = Checks::default();
    writeln!(out, "minidl autograd tour: what backward() does")?;
    writeln!(out, "==========================================")?;
    one_expression(args, out, &mut checks)?;
    own_op(out, &mut checks)?;
    two_layer_network(out, &mut checks)?;
    closing_note(out)?;
    if checks.failed.is_empty() {
        writeln!(out, "\nAll {} checks passed ✓", checks.passed)?;
        Ok(())
    } else {
        Err(TourError::Failed(checks.failed))
    }
}

/// Counts agreements between `backward()` and a reference; remembers the disagreements.
#[derive(Default)]
pub struct Checks {
    /// How many checks passed.
    pub passed: usize,
    /// One line per failed check.
    pub failed: Vec<String>,
}

impl Checks {
    /// Checks `|reference − got| ≤ tol · max(1, |reference|)` (false for NaN); returns ✓ or ✗.
    pub fn agree(&mut self, what: &str, reference: f32, got: f32, tol: f32) -> &'static str {
        self.record(
            (reference - got).abs() <= tol * reference.abs().max(1.0),
            || format!("{what}: expected {reference}, backward() gave {got}"),
        )
    }

    /// Records a pass (✓) or a failure (✗) described by `why`.
    pub fn record(&mut self, ok: bool, why: impl FnOnce() -> String) -> &'static str {
        if ok {
            self.passed += 1;
            "✓"
        } else {
            self.failed.push(why());
            "✗"
        }
    }
}

fn heading(out: &mut dyn Write, title: &str) -> io::Result<()> {
    writeln!(out, "\n{title}\n{}", "─".repeat(title.chars().count()))
}

fn scalar(name: &str, value: f32) -> Var {
    Var::parameter(Tensor::from_vec(vec![value], [1])).named(name)
}

/// Part 1: `L = tanh(a·b + c) · f`, forward, backward, and every gradient by hand.
fn one_expression(args: &Args, out: &mut dyn Write, checks: &mut Checks) -> Result<(), TourError> {
    heading(out, "1. One expression: L = tanh(a·b + c) · f")?;
    // c is chosen so that e = a·b + c = ln(1 + √2): then tanh(e) = 1/√2 and 1 − tanh²(e) = 1/2,
    // so every gradient comes out a round number.
    let (a, b, c, f) = (
        scalar("a", 2.0),
        scalar("b", -3.0),
        scalar("c", 6.881_374),
        scalar("f", -2.0),
    );
    let ab = (&a * &b).named("ab");
    let e = (&ab + &c).named("e");
    let d = e.tanh().named("d"); // the project's tanh (nn::ActivationExt)
    let l = (&d * &f).named("L");

    writeln!(
        out,
        "Forward: each op computes its value at once and remembers its inputs; those links are\n\
         the graph that backward() will walk.\n"
    )?;
    writeln!(
        out,
        "  {:<4} {:<13} {:<10} {:>9}",
        "Var", "made as", "Function", "value"
    )?;
    for (var, how) in [
        (&a, "parameter"),
        (&b, "parameter"),
        (&c, "parameter"),
        (&f, "parameter"),
        (&ab, "ab = a · b"),
        (&e, "e = ab + c"),
        (&d, "d = tanh(e)"),
        (&l, "L = d · f"),
    ] {
        let name = var.name().unwrap_or_default();
        let op = var.op_name().unwrap_or("(leaf)");
        writeln!(out, "  {name:<4} {how:<13} {op:<10} {:>9.4}", var.item())?;
    }

    let (av, bv, cv, fv) = (a.item(), b.item(), c.item(), f.item());
    let ev = av * bv + cv;
    let t = ev.tanh();
    let slope = 1.0 - t * t; // tanh′(e)
    writeln!(
        out,
        "\nEach Function knows only its own local derivatives:\n"
    )?;
    writeln!(out, "  {:<13} {:<30} here", "op", "local derivatives")?;
    for (op, local, here) in [
        (
            "ab = a · b",
            "∂ab/∂a = b,  ∂ab/∂b = a",
            format!("{bv:.4}, {av:.4}"),
        ),
        ("e = ab + c", "∂e/∂ab = 1,  ∂e/∂c = 1", "1, 1".to_string()),
        ("d = tanh(e)", "∂d/∂e = 1 − tanh²(e)", format!("{slope:.4}")),
        (
            "L = d · f",
            "∂L/∂d = f,   ∂L/∂f = d",
            format!("{fv:.4}, {t:.4}"),
        ),
    ] {
        writeln!(out, "  {op:<13} {local:<30} {here}")?;
    }

    // Intermediate results keep no gradient (as in PyTorch): a hook sees it flow by. Hooks on
    // every Var also show the order in which backward() reaches them.
    let seen: Rc<RefCell<Vec<(String, f32)>>> = Rc::default();
    for var in [&l, &d, &e, &ab, &a, &b, &c, &f] {
        let (seen, name) = (Rc::clone(&seen), var.name().unwrap_or_default());
        var.register_hook(move |g| {
            seen.borrow_mut().push((name.clone(), g.item()));
            None // leave the gradient as it is
        });
    }
    // retain_grad() asks the intermediate results to keep their gradient too (it is a hook as
    // well, registered after the ones above), so that the picture drawn below shows a gradient
    // on every Var. backward_retain() is backward() that keeps the graph, so that it can be
    // drawn afterwards; plain backward() frees each node once it has been used.
    for var in [&l, &d, &e, &ab] {
        var.retain_grad();
    }
    l.backward_retain();
    let seen = seen.borrow();
    let order: Vec<&str> = seen.iter().map(|(name, _)| name.as_str()).collect();
    let hooked = |name: &str| {
        seen.iter()
            .find(|(n, _)| n == name)
            .map_or(f32::NAN, |s| s.1)
    };
    let grad = |v: &Var| v.grad().map_or(f32::NAN, |g| g.item());

    writeln!(
        out,
        "\nBackward: L.backward() starts from dL/dL = 1 and visits the ops from L back to the\n\
         leaves, each Var only after every Var that uses it: {}.\n\
         At each op, Function::backward multiplies the gradient of its output by its local\n\
         derivatives and hands the products to its inputs. Along a path the local derivatives\n\
         multiply: that is the chain rule.\n",
        order.join(" → ")
    )?;
    writeln!(
        out,
        "  {:<8} {:<33} {:<24} {:>9} {:>11}",
        "gradient", "chain rule", "formula", "by hand", "backward()"
    )?;
    let rows = [
        ("dL/dL", "(the seed)", "1", 1.0, hooked("L")),
        ("dL/dd", "∂L/∂d", "f", fv, hooked("d")),
        ("dL/df", "∂L/∂f", "d = tanh(e)", t, grad(&f)),
        (
            "dL/de",
            "dL/dd · dd/de",
            "f · (1 − tanh²(e))",
            fv * slope,
            hooked("e"),
        ),
        (
            "dL/dc",
            "dL/dd · dd/de · de/dc",
            "f · (1 − tanh²(e)) · 1",
            fv * slope,
            grad(&c),
        ),
        (
            "dL/dab",
            "dL/dd · dd/de · de/dab",
            "f · (1 − tanh²(e)) · 1",
            fv * slope,
            hooked("ab"),
        ),
        (
            "dL/da",
            "dL/dd · dd/de · de/dab · dab/da",
            "f · (1 − tanh²(e)) · b",
            fv * slope * bv,
            grad(&a),
        ),
        (
            "dL/db",
            "dL/dd · dd/de · de/dab · dab/db",
            "f · (1 − tanh²(e)) · a",
            fv * slope * av,
            grad(&b),
        ),
    ];
    for (what, chain, formula, by_hand, got) in rows {
        let mark = checks.agree(what, by_hand, got, 1e-5);
        writeln!(
            out,
            "  {what:<8} {chain:<33} {formula:<24} {by_hand:>9.4} {got:>11.4}  {mark}"
        )?;
    }
    for (what, leaf) in [("a", &a), ("b", &b), ("c", &c), ("f", &f)] {
        // the hook saw the same gradient that the leaf then stored
        checks.record(hooked(what) == grad(leaf), || {
            format!("the hook on {what} and {what}.grad() differ")
        });
    }
    writeln!(
        out,
        "\n  With the numbers: dL/da = f · (1 − tanh²(e)) · b = ({fv:.4}) · (1 − {t:.4}²) · ({bv:.4}) = {:.4}",
        fv * slope * bv
    )?;
    writeln!(
        out,
        "  Leaves (a, b, c, f) keep their gradient in .grad(); the intermediate results L, d, e, ab\n  \
         pass theirs on and keep none unless asked with retain_grad() (done here for the picture),\n  \
         so their column was read with register_hook."
    )?;

    let dot = l.to_dot();
    match &args.dot {
        Some(path) => {
            write_atomic(path, dot.as_bytes()).map_err(TourError::Dot)?;
            writeln!(
                out,
                "\n  Wrote this graph ({} Vars, {} ops, each Var with its value and gradient, and a\n  \
                 legend) to {}. Draw it with:\n    dot -Tsvg {} -o graph.svg",
                dot.matches("shape=box").count(),
                dot.matches("shape=ellipse").count(),
                path.display(),
                path.display()
            )?;
        }
        None => writeln!(
            out,
            "\n  Run with --dot graph.dot to write this graph as Graphviz DOT, then draw it with\n    \
             dot -Tsvg graph.dot -o graph.svg"
        )?,
    }
    Ok(())
}

// [op cube: begin]
/// `cube(x) = x³`, with `∂cube/∂x = 3x²`: a differentiable op written by hand.
#[derive(Default)]
pub struct Cube {
    /// The input, kept by `forward` for `backward`.
    x: Option<Tensor>,
}

impl Function for Cube {
    fn name(&self) -> &'static str {
        "cube"
    }
    fn forward(&mut self, inputs: &[&Tensor]) -> Tensor {
        self.x = Some(inputs[0].clone()); // a cheap clone: the buffer is shared
        inputs[0].map(|x| x * x * x)
    }
    fn backward(&self, grad: &Tensor, _needs: &[bool]) -> Vec<Option<Tensor>> {
        let x = self.x.as_ref().expect("forward runs before backward");
        let dx = tensor::zip_with(grad, x, "cube", |g, x| g * 3.0 * x * x); // g · 3x²
        vec![Some(dx)]
    }
}
// [op cube: end]

/// The source of `Cube`: the lines between the `[op cube: …]` markers of this file.
pub fn cube_source() -> Vec<&'static str> {
    const SOURCE: &str = include_str!("autograd_tour.rs");
    let lines: Vec<&str> = SOURCE.lines().collect();
    let begin = lines.iter().position(|l| l.trim() == "// [op cube: begin]");
    let end = lines.iter().position(|l| l.trim() == "// [op cube: end]");
    match (begin, end) {
        (Some(b), Some(e)) if b < e => lines[b + 1..e].to_vec(),
        _ => Vec::new(),
    }
}

/// How many lines `Cube` takes: `(code, comments)`, blank lines not counted.
pub fn cube_lines() -> (usize, usize) {
    let source = cube_source();
    let comments = source.iter().filter(|l| l.trim().starts_with("//")).count();
    let code = source.iter().filter(|l| !l.trim().is_empty()).count() - comments;
    (code, comments)
}

/// Part 2: a user-defined op, its gradient by hand, by the built-in `pow_scalar`, by gradcheck.
fn own_op(out: &mut dyn Write, checks: &mut Checks) -> io::Result<()> {
    heading(out, "2. Your own op: one Function")?;
    writeln!(
        out,
        "A new op is one Function: forward computes the output and keeps what backward needs;\n\
         backward gets g = dloss/doutput and returns dloss/dinput for each input. Here is\n\
         cube(x) = x³, whose backward returns g · 3x², as written in this file:\n"
    )?;
    for line in cube_source() {
        writeln!(out, "{}", format!("    {line}").trim_end())?;
    }
    writeln!(
        out,
        "\nVar::apply(Cube::default(), &[&x]) runs it and records it in the graph. The built-in\n\
         x.pow_scalar(3.0) computes the same function, so it serves as a cross-check.\n"
    )?;
    let xs = [-1.5f32, -0.5, 0.5, 2.0];
    let x = Var::parameter(Tensor::from_vec(xs.to_vec(), [4]));
    let y = Var::apply(Cube::default(), &[&x]);
    y.sum_all().backward(); // loss = Σ y, so dloss/dy = 1 everywhere
    let ours = x.grad().expect("x is a parameter").to_vec();
    // the same gradient through the built-in power op, as a cross-check
    let x2 = Var::parameter(x.value());
    x2.pow_scalar(3.0).sum_all().backward();
    let builtin = x2.grad().expect("x2 is a parameter").to_vec();

    writeln!(
        out,
        "  {:>8} {:>9} {:>12} {:>11} {:>20}",
        "x", "y = x³", "3x² by hand", "backward()", "x.pow_scalar(3.0)"
    )?;
    for (i, &xv) in xs.iter().enumerate() {
        let by_hand = 3.0 * xv * xv;
        let mark = checks.agree(&format!("dcube/dx at {xv}"), by_hand, ours[i], 1e-6);
        let mark2 = checks.agree(&format!("pow_scalar(3) at {xv}"), by_hand, builtin[i], 1e-5);
        let yv = y.value().data()[i];
        writeln!(
            out,
            "  {xv:>8.4} {yv:>9.4} {by_hand:>12.4} {:>9.4} {mark} {:>18.4} {mark2}",
            ours[i], builtin[i]
        )?;
    }

    let cube = |v: &[Var]| Var::apply(Cube::default(), &[&v[0]]);
    let inputs = [Tensor::from_vec(
        vec![0.3, -1.2, 2.5, -0.8, 1.7, 0.05],
        [2, 3],
    )];
    let options = GradcheckOptions::default();
    let result = autograd::gradcheck_with(cube, &inputs, &options);
    let worst = worst(cube, &inputs, &[], &options);
    report_gradcheck(out, checks, "cube", &["x"], &options, result, worst)
}

/// The worst disagreement between `backward()` and finite differences over every element.
/// `gradcheck` reports only elements beyond its tolerance, so with tolerance 0 it reports the
/// worst of all (`None`: every element agreed exactly).
fn worst(
    f: impl Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    params: &[Var],
    options: &GradcheckOptions,
) -> Option<GradcheckError> {
    let everything = GradcheckOptions {
        tol: 0.0,
        ..options.clone()
    };
    autograd::gradcheck_params(f, inputs, params, &everything).err()
}

fn report_gradcheck(
    out: &mut dyn Write,
    checks: &mut Checks,
    what: &str,
    names: &[&str],
    options: &GradcheckOptions,
    result: Result<(), GradcheckError>,
    worst: Option<GradcheckError>,
) -> io::Result<()> {
    writeln!(
        out,
        "\n  gradcheck: nudges every number w by ±h (h = {:.0e}·max(1, |w|)), recomputes the\n  \
         output, and compares (out(w + h) − out(w − h)) / 2h with what backward() gave.",
        options.eps
    )?;
    let mark = checks.record(result.is_ok(), || match &result {
        Err(e) => format!("{what}: {e}"),
        Ok(()) => String::new(),
    });
    match &result {
        Ok(()) => writeln!(
            out,
            "    {:<24} passed (tolerance {:.0e})  {mark}",
            what, options.tol
        )?,
        Err(e) => writeln!(out, "    {what:<24} FAILED: {e}  {mark}")?,
    }
    match worst {
        Some(w) => writeln!(
            out,
            "    {:<24} {:.1e} (over all {} numbers), at {}{:?}:\n    {:<24} backward() {:.6}, \
             finite differences {:.6}\n    {:<24} (finite differences are approximate: their own \
             error is of order h²)",
            "worst relative error",
            w.rel_error,
            w.checked,
            names.get(w.input).copied().unwrap_or("?"),
            w.index,
            "",
            w.analytic,
            w.numeric,
            ""
        ),
        None => writeln!(
            out,
            "    {:<24} 0 (exact agreement)",
            "worst relative error"
        ),
    }
}

/// The tiny network of part 3: `ŷ = tanh(x·W1 + b1)·W2 + b2`.
pub struct Net {
    /// First layer weights `[3, 5]`.
    pub w1: Var,
    /// First layer bias `[5]`.
    pub b1: Var,
    /// Second layer weights `[5, 2]`.
    pub w2: Var,
    /// Second layer bias `[2]`.
    pub b2: Var,
}

impl Net {
    /// Small random weights (seeded), zero-mean.
    pub fn new(seed: u64) -> Net {
        let mut rng = tensor::rng(seed);
        let mut param = |name: &str, dims: &[usize], scale: f32| {
            Var::parameter(Tensor::randn(dims, &mut rng).mul_scalar(scale)).named(name)
        };
        Net {
            w1: param("W1", &[3, 5], 0.6),
            b1: param("b1", &[5], 0.1),
            w2: param("W2", &[5, 2], 0.6),
            b2: param("b2", &[2], 0.1),
        }
    }

    /// The hidden layer `h = tanh(x·W1 + b1)` and the output `ŷ = h·W2 + b2`.
    pub fn forward(&self, x: &Var) -> (Var, Var) {
        let h = (&x.matmul(&self.w1) + &self.b1).tanh();
        let y_hat = &h.matmul(&self.w2) + &self.b2;
        (h, y_hat)
    }

    /// `loss = mean((ŷ − y)²)`.
    pub fn loss(&self, x: &Var, y: &Var) -> Var {
        mse(&self.forward(x).1, y)
    }

    /// The parameters, in the order `W1, b1, W2, b2`.
    pub fn params(&self) -> [&Var; 4] {
        [&self.w1, &self.b1, &self.w2, &self.b2]
    }
}

/// The mean squared error `mean((ŷ − y)²)`, composed from `Var` ops.
pub fn mse(y_hat: &Var, y: &Var) -> Var {
    (y_hat - y).pow_scalar(2.0).mean_all()
}

fn norm(t: &Tensor) -> f32 {
    t.data().iter().map(|v| v * v).sum::<f32>().sqrt()
}

/// Part 3: a 2-layer network on a batch of 4; backward() against the same pass by hand.
fn two_layer_network(out: &mut dyn Write, checks: &mut Checks) -> io::Result<()> {
    heading(out, "3. A tiny 2-layer network on a batch of 4")?;
    let x = Var::constant(Tensor::from_vec(
        vec![
            0.5, -1.0, 2.0, 1.5, 0.3, -0.7, -0.2, 0.8, 0.1, 1.0, -0.5, -1.2,
        ],
        [4, 3],
    ));
    let y = Var::constant(Tensor::from_vec(
        vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0],
        [4, 2],
    ));
    let net = Net::new(7);
    let (h, y_hat) = net.forward(&x);
    let loss = mse(&y_hat, &y);
    let shape = |v: &Var| format!("{:?}", v.dims());
    writeln!(
        out,
        "The same ideas, with matrices: every op now works on whole tensors.\n"
    )?;
    for (name, what, s) in [
        ("x", "constant: 4 examples × 3 features", shape(&x)),
        (
            "W1, b1",
            "parameters",
            format!("{}, {}", shape(&net.w1), shape(&net.b1)),
        ),
        ("h", "= tanh(x·W1 + b1)", shape(&h)),
        (
            "W2, b2",
            "parameters",
            format!("{}, {}", shape(&net.w2), shape(&net.b2)),
        ),
        ("ŷ", "= h·W2 + b2", shape(&y_hat)),
        ("y", "constant: one-hot targets", shape(&y)),
        (
            "loss",
            "= mean((ŷ − y)²), 8 numbers",
            format!("{:.6}", loss.item()),
        ),
    ] {
        writeln!(out, "  {name:<7} {what:<36} {s}")?;
    }
    loss.backward();

    // The same backward pass by hand, from the loss back to W1: one line per op.
    let (xv, yv, hv, y_hat_v, w2v) = (
        x.value(),
        y.value(),
        h.value(),
        y_hat.value(),
        net.w2.value(),
    );
    let n = y_hat_v.numel() as f32;
    let d_y_hat = y_hat_v.sub(&yv).mul_scalar(2.0 / n); // ∂ mean((ŷ − y)²) / ∂ŷ
    let d_w2 = hv.matmul_t(&d_y_hat, true, false); // hᵀ · dŷ
    let d_b2 = d_y_hat.sum(0, false); // b2 was added to all 4 rows: its gradient sums them
    let d_h = d_y_hat.matmul_t(&w2v, false, true); // dŷ · W2ᵀ
    let d_z = tensor::zip_with(&d_h, &hv, "tanh′", |g, h| g * (1.0 - h * h)); // z = x·W1 + b1
    let d_w1 = xv.matmul_t(&d_z, true, false); // xᵀ · dz
    let d_b1 = d_z.sum(0, false);

    writeln!(
        out,
        "\nBackward, by hand, read from the loss back (dŷ means dloss/dŷ; ⊙ is elementwise):\n\
         \x20 dŷ = 2(ŷ − y)/8,  dh = dŷ·W2ᵀ,  dz = dh ⊙ (1 − h²)   where z = x·W1 + b1\n"
    )?;
    writeln!(
        out,
        "  {:<6} {:<8} {:<12} {:>13} {:>11} {:>15}",
        "param", "shape", "by hand", "‖backward()‖", "‖by hand‖", "max |diff|"
    )?;
    let hand = [
        ("hᵀ · dŷ", d_w2, &net.w2),
        ("Σ rows dŷ", d_b2, &net.b2),
        ("xᵀ · dz", d_w1, &net.w1),
        ("Σ rows dz", d_b1, &net.b1),
    ];
    for (formula, by_hand, param) in &hand {
        let name = param.name().unwrap_or_default();
        let got = param.grad().unwrap_or_else(|| Tensor::zeros(param.shape()));
        let diff = tensor::zip_with(by_hand, &got, "diff", |a, b| (a - b).abs());
        let max_diff = diff.data().iter().fold(0.0f32, |m, &v| m.max(v));
        let scale = by_hand.data().iter().fold(1.0f32, |m, &v| m.max(v.abs()));
        let ok = by_hand.shape() == got.shape() && max_diff <= 1e-5 * scale;
        let mark = checks.record(ok, || {
            format!("∂loss/∂{name}: backward() {got:?} but by hand {by_hand:?}")
        });
        writeln!(
            out,
            "  {name:<6} {:<8} {formula:<12} {:>13.6} {:>11.6} {max_diff:>15.1e}  {mark}",
            shape(param),
            norm(&got),
            norm(by_hand)
        )?;
    }

    let params: Vec<Var> = net.params().into_iter().cloned().collect();
    let loss_fn = |_: &[Var]| net.loss(&x, &y); // W1, b1, W2, b2 are captured: gradcheck_params
    let options = GradcheckOptions::default();
    let result = autograd::gradcheck_params(loss_fn, &[], &params, &options);
    let worst = worst(loss_fn, &[], &params, &options);
    let names = ["W1", "b1", "W2", "b2"];
    report_gradcheck(out, checks, "network loss", &names, &options, result, worst)
}

fn closing_note(out: &mut dyn Write) -> io::Result<()> {
    heading(out, "What backward() did")?;
    writeln!(
        out,
        "  1. It put the graph in order, every Var after the Vars it was made from, and walked\n     \
         that order backwards from the loss, starting with dL/dL = 1.\n  \
         2. At each op it called that op's Function::backward with the gradient of the op's\n     \
         output; backward multiplied it by the op's local derivatives and handed the results\n     \
         to the op's inputs. The chain rule, one op at a time; nothing else.\n  \
         3. Gradients reaching the same Var are added: b1 and b2 were broadcast over 4 rows, so\n     \
         their gradients are sums over the rows. Leaves keep theirs in .grad().\n"
    )?;
    let (code, comments) = cube_lines();
    writeln!(
        out,
        "A new differentiable op is one Function, forward and backward side by side: Cube\n\
         above takes {code} lines of code (struct + impl Function), {} with its {comments} comment lines.\n\
         Var::apply records it, backward() calls it, gradcheck checks it.",
        code + comments
    )
}
