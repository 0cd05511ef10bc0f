//! The minidl lab with an activation of your own: `cargo run --release -p my-activation --
//! --compare relu,scaled_softsign --epochs 1 --report out`, `-- dead_relu --activations
//! relu,scaled_softsign`, `-- activations --plot DIR` (`-- help` lists the programs).
use minidl::nn::activation::prelude::*;

/// Scaled softsign x/(1 + |x|/s): f′ = 1/(1 + |x|/s)², ∂f/∂s = x·|x|/(s + |x|)².
#[derive(Clone)]
struct ScaledSoftsign(RuleParams<1>);

impl Pointwise for ScaledSoftsign {
    fn name(&self) -> &'static str {
        "scaled_softsign"
    }
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        x / (1.0 + x.abs() / p[0])
    }
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        (1.0 + x.abs() / p[0]).powi(-2)
    }
    fn dparams(&self, x: f32, p: &[f32], dp: &mut [f32]) {
        dp[0] = x * x.abs() / (p[0] + x.abs()).powi(2);
    }
    fn params(&self) -> &[Var] {
        &self.0
    }
}

impl PointwiseLayer for ScaledSoftsign {
    const LAYER_NAME: &'static str = "ScaledSoftsign";
    const PARAM_NAMES: &'static [&'static str] = &["s"];
}

const ENTRY: Entry = Entry::new("scaled_softsign", Category::Learnable, |a| {
    match a.param("s") {
        s if s.value > 0.0 => Ok(Box::new(ScaledSoftsign(RuleParams::new([s.var()])))),
        _ => Err(a.invalid("s", "a number > 0")),
    }
})
.args(&[Arg::learnable("s", "2.0")]) // learns unless `scaled_softsign:fixed`
.formula("x/(1 + |x|/s)", "1/(1 + |x|/s)²");

fn main() -> std::process::ExitCode {
    minidl::lab::register(ENTRY).expect("the name is free");
    // the mnist lab (`--compare relu,scaled_softsign`), or a program by name:
    // `activations --describe scaled_softsign`, `dead_relu --activations relu,scaled_softsign`
    minidl::experiments::main()
}

#[cfg(test)]
mod gradcheck;
