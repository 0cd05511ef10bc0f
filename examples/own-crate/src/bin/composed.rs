//! The shortest way in: an activation composed of `Var` ops (its backward comes from autograd),
//! registered, then the lab: `cargo run --release -p my-activation --bin composed --
//! --compare relu,sigmoid_squared --epochs 1 --report out`.
use minidl::nn::activation::prelude::*;
use minidl::nn::ActivationExt;

/// x·σ(x)²: f′ = σ(x)² + 2x·σ(x)²·(1 − σ(x)).
struct SigmoidSquared;

impl Module for SigmoidSquared {
    fn forward(&self, x: &Var) -> Var {
        let s = x.sigmoid();
        x * &(&s * &s)
    }
    fn visit_params(&self, _: &str, _: &mut dyn FnMut(&str, &Var)) {}
    fn describe(&self) -> String {
        "SigmoidSquared()".into()
    }
    fn is_activation(&self) -> bool {
        true
    }
}

fn main() -> std::process::ExitCode {
    let entry = Entry::new("sigmoid_squared", Category::Custom, |_| {
        Ok(Box::new(SigmoidSquared))
    });
    let entry = entry.formula("x·σ(x)²", "σ(x)² + 2x·σ(x)²·(1 − σ(x))");
    minidl::lab::register(entry).expect("the name is free");
    minidl::experiments::main()
}
