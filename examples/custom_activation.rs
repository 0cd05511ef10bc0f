//! Three ways to write your own activation, each checked against autograd and trained in a
//! small network:
//!
//! 1. **Compose `Var` ops** in a struct (or a closure): the backward comes free, since every
//!    op already has one. Here: `x·σ(x)²`.
//! 2. **Give f and f′** (and ∂f/∂p for a learnable parameter) as a [`Pointwise`] rule: the one
//!    fused op makes a single-pass forward and backward kernel of it, compiled for the CPU's
//!    vector instructions; `gradcheck_pointwise` checks f′ and ∂f/∂p against differences of f.
//!    Here: a "scaled softsign" `x/(1 + |x|/s)` with a learnable `s`.
//! 3. **A formula string**, parsed into `Var` ops at run time: the form to try an idea from the
//!    command line (`--activation 'x * tanh(softplus(x))'` in the other examples), no
//!    recompiling. Here: Mish written out, which agrees with the built-in `mish`.
//!
//! To make one built in (a name for `--activation`, `nn::functional::<name>`, `x.<name>()`, the
//! registry-wide tests): one file in `nn/src/activation/` and one line in its list; see
//! "Adding an activation" in `nn::activation`.
//!
//! `cargo run --release --example custom_activation`

use std::error::Error;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use minidl::lab::LabError;

use minidl::autograd::{gradcheck, gradcheck_pointwise, Pointwise, RuleParams, Var};
use minidl::nn::activation::prelude::sigmoid;
use minidl::nn::activation::ActivationSpec;
use minidl::nn::loss::mse_loss;
use minidl::nn::{learnable, mlp, Module, Param, PointwiseLayer, Reduction};
use minidl::optim::{Adam, Optimizer};
use minidl::tensor::{self, Tensor};

// ---- 1. composed from Var ops ---------------------------------------------------------------

/// `x·σ(x)²`, composed: three recorded ops (σ, square, product), each with its own backward.
struct SigmoidSquared;

impl Module for SigmoidSquared {
    fn forward(&self, x: &Var) -> Var {
        let s = x.pointwise(&minidl::nn::Sigmoid);
        x * &(&s * &s)
    }
    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}
    fn describe(&self) -> String {
        "SigmoidSquared()".into()
    }
    fn is_activation(&self) -> bool {
        true
    }
}

// ---- 2. f and f′ for the fused op -----------------------------------------------------------

/// Scaled softsign: f(x) = x/(1 + |x|/s), with a learnable scale `s > 0`.
/// f′(x) = 1/(1 + |x|/s)²,  ∂f/∂s = x·|x|/(s + |x|)².
/// The parameter `Var` sits in a `RuleParams`, which lets the kernels share the rule between
/// threads (they are given the value of `s`, never the `Var`).
#[derive(Clone)]
struct ScaledSoftsign {
    s: RuleParams<1>,
}

impl ScaledSoftsign {
    fn new(s: impl Into<Param>) -> Self {
        ScaledSoftsign {
            s: RuleParams::new([s.into().var()]),
        }
    }
}

impl Pointwise for ScaledSoftsign {
    fn name(&self) -> &'static str {
        "scaled_softsign"
    }
    #[inline(always)]
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        x / (1.0 + x.abs() / p[0])
    }
    #[inline(always)]
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        let d = 1.0 + x.abs() / p[0];
        1.0 / (d * d)
    }
    fn dparams(&self, x: f32, p: &[f32], dp: &mut [f32]) {
        let d = p[0] + x.abs();
        dp[0] = x * x.abs() / (d * d);
    }
    fn params(&self) -> &[Var] {
        &self.s
    }
}

/// The rule as a layer: its printed name and its parameter's name (`Module` comes with it).
impl PointwiseLayer for ScaledSoftsign {
    const LAYER_NAME: &'static str = "ScaledSoftsign";
    const PARAM_NAMES: &'static [&'static str] = &["s"];
}

// ---- training all three on the same toy problem ---------------------------------------------

/// Fits y = sin(2x)·x on [−2, 2] with a 1-32-32-1 MLP using `act`, and returns the final loss.
fn fit(out: &mut dyn Write, name: &str, act: impl Fn() -> Box<dyn Module>) -> io::Result<f32> {
    let mut rng = tensor::rng(0);
    let model = mlp(&[1, 32, 32, 1], act, &mut rng);
    let xs: Vec<f32> = (0..256).map(|i| -2.0 + 4.0 * i as f32 / 255.0).collect();
    let ys: Vec<f32> = xs.iter().map(|&x| (2.0 * x).sin() * x).collect();
    let x = Var::constant(Tensor::from_vec(xs, [256, 1]));
    let y = Var::constant(Tensor::from_vec(ys, [256, 1]));
    let mut opt = Adam::new(model.parameters(), 1e-2);
    let mut loss = f32::NAN;
    for _ in 0..400 {
        let l = mse_loss(&model.forward(&x), &y, Reduction::Mean);
        loss = l.item();
        opt.zero_grad();
        l.backward();
        opt.step();
    }
    let learned: Vec<String> = model
        .named_parameters()
        .into_iter()
        .filter(|(n, _)| !n.ends_with("weight") && !n.ends_with("bias"))
        .map(|(n, p)| format!("{n} = {:.3}", p.item()))
        .collect();
    writeln!(
        out,
        "  {name:<34} final MSE {loss:.5}  {}",
        learned.join(", ")
    )?;
    Ok(loss)
}

/// No flags: `--help` says what the example does, and anything else is refused.
#[derive(Parser)]
#[command(about = "Three ways to write your own activation, each checked and trained")]
struct Args {}

fn main() -> ExitCode {
    let _: Args = minidl::cli::parse_args();
    match tour(&mut io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        // a failed write (a closed pipe is success in LabError::exit) or a failed check: a
        // bug, exit status 1
        Err(e) => match e.downcast::<io::Error>() {
            Ok(e) => LabError::Output(*e).exit(),
            Err(e) => LabError::Failed(format!("a check failed: {e}")).exit(),
        },
    }
}

/// The three ways, printed to `out`.
///
/// # Errors
/// A failed check (gradcheck, a formula that does not parse) or a failed write to `out`.
fn tour(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let points = Tensor::from_vec(vec![-3.0, -1.2, -0.4, 0.3, 0.9, 2.5], [2, 3]);

    writeln!(out, "1. composed from Var ops: x·σ(x)²")?;
    // gradcheck compares backward() with central differences of the forward
    gradcheck(
        |v: &[Var]| SigmoidSquared.forward(&v[0]),
        std::slice::from_ref(&points),
        1e-2,
        1e-2,
    )?;
    let at1 = SigmoidSquared
        .forward(&Var::constant(Tensor::scalar(1.0)))
        .item();
    writeln!(
        out,
        "   f(1) = {at1:.6} (σ(1)² = {:.6}); gradcheck passed",
        sigmoid(1.0).powi(2)
    )?;
    // the same as a closure, when no layer is needed
    let closure = |x: &Var| x * &x.pointwise(&minidl::nn::Sigmoid).pow_scalar(2.0);
    writeln!(
        out,
        "   as a closure: f(1) = {:.6}",
        closure(&Var::constant(Tensor::scalar(1.0))).item()
    )?;

    writeln!(
        out,
        "2. f and f′ for the fused op: x/(1 + |x|/s), s learnable"
    )?;
    let rule = ScaledSoftsign::new(learnable(2.0));
    gradcheck_pointwise(&rule, &[-50.0, -3.0, -0.5, 0.0, 0.5, 3.0, 50.0], &[0.0])?;
    writeln!(
        out,
        "   gradcheck_pointwise passed (f′ in x and ∂f/∂s); layer {}",
        rule.describe()
    )?;

    writeln!(out, "3. a formula string")?;
    let formula = ActivationSpec::parse("x * tanh(softplus(x))")?;
    let mish = ActivationSpec::parse("mish")?;
    let x = Var::constant(points.clone());
    let (a, b) = (
        formula.build().forward(&x).value(),
        mish.build().forward(&x).value(),
    );
    let worst = a
        .data()
        .iter()
        .zip(b.data())
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f32::max);
    writeln!(
        out,
        "   {} is {}; it differs from mish by at most {worst:.1e}",
        formula,
        formula.build().describe()
    )?;
    match ActivationSpec::parse("x * tanh(softplus(x)") {
        Err(e) => writeln!(
            out,
            "   a mistake points at its column:\n{}",
            indent(&e.to_string())
        )?,
        Ok(_) => unreachable!("the formula lacks a parenthesis"),
    }

    writeln!(
        out,
        "\nTraining a 1-32-32-1 MLP on y = x·sin(2x), 400 Adam steps:"
    )?;
    fit(out, "composed x·σ(x)²", || Box::new(SigmoidSquared))?;
    fit(out, "fused x/(1 + |x|/s), s learnable", || {
        Box::new(ScaledSoftsign::new(learnable(2.0)))
    })?;
    fit(out, "formula x * tanh(softplus(x))", || formula.build())?;
    fit(out, "built-in mish", || mish.build())?;
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("     {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
