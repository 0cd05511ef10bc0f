//! What the flags choose beside the shape: the weight initialisation (`--init`) and the
//! optimizer (`--optimizer`).

use autograd::Var;
use nn::activation::ActivationSpec;
use nn::init::{self, Nonlinearity};
use nn::{Module, Sequential};
use optim::{Adam, AdamW, Optimizer, Sgd};
use tensor::{Rng, Tensor};

use crate::cli::{InitKind, OptimizerKind};

/// The nonlinearity whose gain Kaiming and Xavier initialisation use for `activation`:
/// tanh-like → tanh (5/3), sigmoid-like → sigmoid (1), leaky slopes → leaky ReLU with that
/// slope, SELU → SELU (3/4), everything else (ReLU, GELU, Swish, Mish, …) → ReLU (√2).
pub fn nonlinearity(activation: &ActivationSpec) -> Nonlinearity {
    let args = activation.args();
    match activation.name() {
        "tanh" | "hardtanh" | "softsign" | "tanhshrink" => Nonlinearity::Tanh,
        "sigmoid" | "hardsigmoid" | "logsigmoid" => Nonlinearity::Sigmoid,
        "leaky_relu" => Nonlinearity::LeakyRelu(args.number("negative_slope")),
        "rrelu" => Nonlinearity::LeakyRelu((args.number("lower") + args.number("upper")) / 2.0),
        "prelu" => Nonlinearity::LeakyRelu(0.25),
        "selu" => Nonlinearity::Selu,
        _ => Nonlinearity::Relu,
    }
}

/// Re-initialises the weights of every Linear and Conv2d layer of `model` (the parameters
/// named `*.weight` with at least 2 dimensions) as `kind` says, with the gain of
/// [`nonlinearity`]`(activation)` for hidden layers and gain 1 for the output layer, and sets
/// their biases to 0. [`InitKind::Default`] leaves the model as built (PyTorch's defaults).
/// Kaiming for SELU uses gain 1 (LeCun normal), as PyTorch recommends.
pub fn init_weights(
    model: &Sequential,
    kind: InitKind,
    activation: &ActivationSpec,
    rng: &mut Rng,
) {
    if kind == InitKind::Default {
        return;
    }
    let params = model.named_parameters();
    let weights: Vec<&(String, Var)> = params
        .iter()
        .filter(|(n, p)| n.ends_with("weight") && p.dims().len() >= 2)
        .collect();
    let nonlin = match (kind, nonlinearity(activation)) {
        (InitKind::Kaiming, Nonlinearity::Selu) => Nonlinearity::Linear,
        (_, n) => n,
    };
    for (i, (name, w)) in weights.iter().enumerate() {
        let last = i + 1 == weights.len();
        let gain = init::calculate_gain(if last { Nonlinearity::Linear } else { nonlin });
        let shape = w.shape();
        let value = match kind {
            InitKind::Kaiming => {
                let (fan_in, _) = init::fans(&shape);
                Tensor::normal(shape, 0.0, gain / (fan_in as f32).sqrt(), rng)
            }
            _ => init::xavier_uniform(shape, gain, rng),
        };
        w.set_value(value);
        let bias = format!("{}bias", name.strip_suffix("weight").unwrap_or(name));
        if let Some((_, b)) = params.iter().find(|(n, _)| *n == bias) {
            b.set_value(Tensor::zeros(b.shape()));
        }
    }
}

/// The optimizer `kind` over `params` with learning rate `lr`: SGD, SGD with momentum 0.9,
/// Adam or AdamW (weight decay 0.01), PyTorch's defaults otherwise.
pub fn build_optimizer(kind: OptimizerKind, lr: f32, params: Vec<Var>) -> Box<dyn Optimizer> {
    match kind {
        OptimizerKind::Sgd => Box::new(Sgd::new(params, lr)),
        OptimizerKind::Momentum => Box::new(Sgd::new(params, lr).momentum(0.9)),
        OptimizerKind::Adam => Box::new(Adam::new(params, lr)),
        OptimizerKind::Adamw => Box::new(AdamW::new(params, lr)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::architecture::Architecture;
    use super::*;

    fn act(spec: &str) -> ActivationSpec {
        nn::activation::ActivationSpec::parse(spec).unwrap()
    }

    /// Sample standard deviation and largest magnitude of a tensor.
    fn spread(t: &Tensor) -> (f32, f32) {
        let n = t.numel() as f64;
        let mean = t.data().iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = t
            .data()
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        let max = t.data().iter().fold(0f32, |m, v| m.max(v.abs()));
        (var.sqrt() as f32, max)
    }

    #[test]
    fn gains_follow_the_activation() {
        assert_eq!(nonlinearity(&act("relu")), Nonlinearity::Relu);
        assert_eq!(nonlinearity(&act("mish")), Nonlinearity::Relu);
        assert_eq!(nonlinearity(&act("tanh")), Nonlinearity::Tanh);
        assert_eq!(nonlinearity(&act("sigmoid")), Nonlinearity::Sigmoid);
        assert_eq!(nonlinearity(&act("selu")), Nonlinearity::Selu);
        assert_eq!(
            nonlinearity(&act("leaky_relu:0.2")),
            Nonlinearity::LeakyRelu(0.2)
        );
        assert_eq!(
            nonlinearity(&act("rrelu:0.1,0.3")),
            Nonlinearity::LeakyRelu(0.2)
        );
    }

    #[test]
    fn kaiming_and_xavier_set_the_spread_and_zero_the_biases() {
        let arch = Architecture::Mlp { hidden: vec![400] };
        let relu = act("relu");
        let build = || {
            arch.build([1, 28, 28], 100, &relu, &mut tensor::rng(3))
                .unwrap()
        };

        let model = build();
        let before = nn::state::state_dict(&model);
        init_weights(&model, InitKind::Default, &relu, &mut tensor::rng(4));
        assert_eq!(nn::state::state_dict(&model), before, "default: as built");

        let model = build();
        init_weights(&model, InitKind::Kaiming, &relu, &mut tensor::rng(4));
        let p = model.named_parameters();
        // Hidden layer: N(0, 2/fan_in), fan_in 784; output layer: gain 1, fan_in 400.
        let (std0, _) = spread(&p[0].1.value());
        assert!((std0 / (2f32 / 784.0).sqrt() - 1.0).abs() < 0.02, "{std0}");
        let (std2, _) = spread(&p[2].1.value());
        assert!((std2 / (1f32 / 400.0).sqrt() - 1.0).abs() < 0.05, "{std2}");
        assert!(p[1].1.value().data().iter().all(|&b| b == 0.0));
        assert!(p[3].1.value().data().iter().all(|&b| b == 0.0));

        let tanh = act("tanh");
        let model = arch
            .build([1, 28, 28], 100, &tanh, &mut tensor::rng(3))
            .unwrap();
        init_weights(&model, InitKind::Xavier, &tanh, &mut tensor::rng(4));
        let p = model.named_parameters();
        // U(±a), a = (5/3)·√(6/(784 + 400)); its std is a/√3.
        let a = 5.0 / 3.0 * (6f32 / 1184.0).sqrt();
        let (std0, max0) = spread(&p[0].1.value());
        assert!(max0 <= a && max0 > 0.99 * a, "{max0} vs {a}");
        assert!((std0 / (a / 3f32.sqrt()) - 1.0).abs() < 0.02, "{std0}");
        let a_out = (6f32 / 500.0).sqrt();
        let (_, max2) = spread(&p[2].1.value());
        assert!(max2 <= a_out && max2 > 0.98 * a_out, "{max2} vs {a_out}");
    }

    #[test]
    fn optimizers_by_kind() {
        let p = || vec![Var::parameter(Tensor::ones([2]))];
        assert_eq!(build_optimizer(OptimizerKind::Sgd, 0.1, p()).name(), "SGD");
        assert_eq!(
            build_optimizer(OptimizerKind::Adam, 0.1, p()).name(),
            "Adam"
        );
        assert_eq!(
            build_optimizer(OptimizerKind::Adamw, 0.1, p()).name(),
            "AdamW"
        );
        let params = p();
        let mut momentum = build_optimizer(OptimizerKind::Momentum, 0.5, params.clone());
        params[0].set_grad(Some(Tensor::from_vec(vec![1.0, 2.0], [2])));
        momentum.step();
        params[0].set_grad(Some(Tensor::from_vec(vec![1.0, 2.0], [2])));
        momentum.step();
        // v₁ = g, v₂ = 0.9·g + g = 1.9·g; w = 1 − 0.5·(g + 1.9·g) = 1 − 1.45·g.
        let w = params[0].value().to_vec();
        assert!((w[0] - (1.0 - 1.45)).abs() < 1e-6 && (w[1] - (1.0 - 2.9)).abs() < 1e-6);
        assert_eq!(momentum.lr(), 0.5);
    }
}
