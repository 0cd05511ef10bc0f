//! Weight initialisation, with PyTorch's formulas (`torch.nn.init`), all drawn from a seeded
//! [`Rng`] so the same seed gives the same network.
//!
//! For a weight of shape `[out, in, k₁, k₂, …]` the receptive field is `r = k₁·k₂·…` (1 for a
//! matrix), `fan_in = in·r` and `fan_out = out·r`.
//!
//! | function | distribution |
//! | --- | --- |
//! | [`xavier_uniform`] | U(−a, a), a = gain·√(6 / (fan_in + fan_out)) |
//! | [`xavier_normal`] | N(0, σ²), σ = gain·√(2 / (fan_in + fan_out)) |
//! | [`kaiming_uniform`] | U(−b, b), b = √3·gain / √fan |
//! | [`kaiming_normal`] | N(0, σ²), σ = gain / √fan |
//! | [`default_weight`] | Linear/Conv2d default: kaiming-uniform with a = √5, i.e. U(±1/√fan_in) |
//! | [`default_bias`] | U(−1/√fan_in, 1/√fan_in) |

use tensor::{shape_panic, Rng, Shape, Tensor};

/// The nonlinearity that follows a layer, which sets the gain of the Xavier and Kaiming
/// initialisations ([`calculate_gain`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nonlinearity {
    /// No nonlinearity (`"linear"`, also PyTorch's `conv*d`): gain 1.
    Linear,
    /// Logistic sigmoid: gain 1.
    Sigmoid,
    /// tanh: gain 5/3.
    Tanh,
    /// ReLU: gain √2.
    Relu,
    /// Leaky ReLU with this negative slope: gain √(2 / (1 + slope²)).
    LeakyRelu(f32),
    /// SELU: gain 3/4 (PyTorch's choice, for self-normalising networks).
    Selu,
}

/// Which fan Kaiming initialisation preserves the variance of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    /// Preserve the variance of activations in the forward pass (PyTorch's default).
    FanIn,
    /// Preserve the variance of gradients in the backward pass.
    FanOut,
}

/// The gain PyTorch's `torch.nn.init.calculate_gain` returns for `nonlinearity`.
pub fn calculate_gain(nonlinearity: Nonlinearity) -> f32 {
    match nonlinearity {
        Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
        Nonlinearity::Tanh => 5.0 / 3.0,
        Nonlinearity::Relu => 2f32.sqrt(),
        Nonlinearity::LeakyRelu(slope) => (2.0 / (1.0 + slope * slope)).sqrt(),
        Nonlinearity::Selu => 0.75,
    }
}

/// `(fan_in, fan_out)` of a weight of shape `[out, in, k…]`.
///
/// # Panics
/// If the shape has fewer than 2 dimensions (PyTorch refuses too: a vector has no fans).
#[track_caller]
pub fn fans(shape: &Shape) -> (usize, usize) {
    let d = shape.dims();
    if d.len() < 2 {
        shape_panic(
            "init::fans",
            format_args!("fan in and fan out need a weight with at least 2 dimensions, got {d:?}"),
        );
    }
    let receptive: usize = d[2..].iter().product();
    (d[1] * receptive, d[0] * receptive)
}

/// U(−a, a) with a = gain·√(6 / (fan_in + fan_out)) (Glorot & Bengio 2010;
/// `torch.nn.init.xavier_uniform_`).
#[track_caller]
pub fn xavier_uniform(shape: impl Into<Shape>, gain: f32, rng: &mut Rng) -> Tensor {
    let shape = shape.into();
    let (fan_in, fan_out) = fans(&shape);
    let a = gain * (6.0 / (fan_in + fan_out) as f32).sqrt();
    Tensor::uniform(shape, -a, a, rng)
}

/// N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out)) (`torch.nn.init.xavier_normal_`).
#[track_caller]
pub fn xavier_normal(shape: impl Into<Shape>, gain: f32, rng: &mut Rng) -> Tensor {
    let shape = shape.into();
    let (fan_in, fan_out) = fans(&shape);
    let std = gain * (2.0 / (fan_in + fan_out) as f32).sqrt();
    Tensor::normal(shape, 0.0, std, rng)
}

fn kaiming_std(shape: &Shape, mode: FanMode, nonlinearity: Nonlinearity) -> f32 {
    let (fan_in, fan_out) = fans(shape);
    let fan = match mode {
        FanMode::FanIn => fan_in,
        FanMode::FanOut => fan_out,
    };
    calculate_gain(nonlinearity) / (fan as f32).sqrt()
}

/// U(−b, b) with b = √3·gain/√fan (He et al. 2015; `torch.nn.init.kaiming_uniform_`).
/// PyTorch's default `a = 0, nonlinearity = "leaky_relu"` is `Nonlinearity::LeakyRelu(0.0)`.
#[track_caller]
pub fn kaiming_uniform(
    shape: impl Into<Shape>,
    mode: FanMode,
    nonlinearity: Nonlinearity,
    rng: &mut Rng,
) -> Tensor {
    let shape = shape.into();
    let bound = 3f32.sqrt() * kaiming_std(&shape, mode, nonlinearity);
    Tensor::uniform(shape, -bound, bound, rng)
}

/// N(0, σ²) with σ = gain/√fan (`torch.nn.init.kaiming_normal_`).
#[track_caller]
pub fn kaiming_normal(
    shape: impl Into<Shape>,
    mode: FanMode,
    nonlinearity: Nonlinearity,
    rng: &mut Rng,
) -> Tensor {
    let shape = shape.into();
    let std = kaiming_std(&shape, mode, nonlinearity);
    Tensor::normal(shape, 0.0, std, rng)
}

/// The default weight of PyTorch's `Linear` and `Conv2d`: `kaiming_uniform_(w, a=√5)`, i.e.
/// gain √(2/(1+5)) = √(1/3), so the bound is √3·√(1/3)/√fan_in = 1/√fan_in.
#[track_caller]
pub fn default_weight(shape: impl Into<Shape>, rng: &mut Rng) -> Tensor {
    kaiming_uniform(
        shape,
        FanMode::FanIn,
        Nonlinearity::LeakyRelu(5f32.sqrt()),
        rng,
    )
}

/// The default bias of PyTorch's `Linear` and `Conv2d`: U(−1/√fan_in, 1/√fan_in) (zero bound
/// when `fan_in` is 0, as PyTorch).
pub fn default_bias(len: usize, fan_in: usize, rng: &mut Rng) -> Tensor {
    let bound = if fan_in > 0 {
        1.0 / (fan_in as f32).sqrt()
    } else {
        0.0
    };
    Tensor::uniform([len], -bound, bound, rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_var(t: &Tensor) -> (f64, f64) {
        let n = t.numel() as f64;
        let mean = t.data().iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = t
            .data()
            .iter()
            .map(|&x| (x as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        (mean, var)
    }

    #[test]
    fn gains_match_pytorch() {
        // torch.nn.init.calculate_gain: linear 1, sigmoid 1, tanh 5/3, relu √2,
        // leaky_relu(0.01) √(2/1.0001) = 1.41414..., selu 0.75.
        assert_eq!(calculate_gain(Nonlinearity::Linear), 1.0);
        assert_eq!(calculate_gain(Nonlinearity::Sigmoid), 1.0);
        assert!((calculate_gain(Nonlinearity::Tanh) - 1.666_666_7).abs() < 1e-6);
        assert!((calculate_gain(Nonlinearity::Relu) - std::f32::consts::SQRT_2).abs() < 1e-6);
        assert!((calculate_gain(Nonlinearity::LeakyRelu(0.01)) - 1.414_142_8).abs() < 1e-6);
        assert_eq!(calculate_gain(Nonlinearity::Selu), 0.75);
        // a = √5 gives √(1/3), the factor behind Linear's 1/√fan_in bound.
        let g = calculate_gain(Nonlinearity::LeakyRelu(5f32.sqrt()));
        assert!((g - (1.0f32 / 3.0).sqrt()).abs() < 1e-6);
    }

    #[test]
    fn fans_of_matrix_and_conv_weight() {
        assert_eq!(fans(&Shape::from([128, 784])), (784, 128));
        assert_eq!(fans(&Shape::from([16, 3, 5, 5])), (75, 400));
    }

    #[test]
    #[should_panic(expected = "init::fans")]
    fn fans_of_vector_panics() {
        fans(&Shape::from([5]));
    }

    #[test]
    fn default_weight_and_bias_are_in_pytorch_bounds_with_uniform_variance() {
        let mut rng = tensor::rng(0);
        let w = default_weight([200, 100], &mut rng);
        let bound = 1.0 / 10.0; // 1/√100
        assert!(w.data().iter().all(|&x| x.abs() <= bound));
        let (m, v) = mean_var(&w);
        // U(−b, b) has variance b²/3.
        assert!(m.abs() < 0.003, "mean {m}");
        assert!((v / (0.01 / 3.0) - 1.0).abs() < 0.05, "var {v}");
        let b = default_bias(1000, 100, &mut rng);
        assert!(b.data().iter().all(|&x| x.abs() <= bound));
        assert_eq!(default_bias(3, 0, &mut rng).to_vec(), vec![0.0; 3]);
    }

    #[test]
    fn xavier_and_kaiming_statistics() {
        let mut rng = tensor::rng(1);
        // xavier_uniform: bound √(6/(300+200)) = 0.10954
        let w = xavier_uniform([200, 300], 1.0, &mut rng);
        let a = (6.0f32 / 500.0).sqrt();
        assert!(w.data().iter().all(|&x| x.abs() <= a));
        let (_, v) = mean_var(&w);
        assert!((v / (a as f64 * a as f64 / 3.0) - 1.0).abs() < 0.05);
        // xavier_normal with gain 2: σ² = 4·2/500
        let w = xavier_normal([200, 300], 2.0, &mut rng);
        let (m, v) = mean_var(&w);
        assert!(m.abs() < 0.003);
        assert!((v / (8.0 / 500.0) - 1.0).abs() < 0.05, "var {v}");
        // kaiming_normal relu fan_in: σ² = 2/300
        let w = kaiming_normal([200, 300], FanMode::FanIn, Nonlinearity::Relu, &mut rng);
        let (_, v) = mean_var(&w);
        assert!((v / (2.0 / 300.0) - 1.0).abs() < 0.05, "var {v}");
        // kaiming_uniform tanh fan_out on a conv weight: fan_out = 8·9 = 72,
        // bound = √3·(5/3)/√72
        let w = kaiming_uniform([8, 4, 3, 3], FanMode::FanOut, Nonlinearity::Tanh, &mut rng);
        let b = 3f32.sqrt() * (5.0 / 3.0) / 72f32.sqrt();
        assert!(w.data().iter().all(|&x| x.abs() <= b));
        assert!(w.data().iter().any(|&x| x.abs() > 0.8 * b));
    }

    #[test]
    fn same_seed_same_weights() {
        let a = default_weight([4, 3], &mut tensor::rng(7));
        let b = default_weight([4, 3], &mut tensor::rng(7));
        assert_eq!(a, b);
        assert_ne!(a, default_weight([4, 3], &mut tensor::rng(8)));
    }
}
