//! RReLU, the randomized leaky ReLU (Xu, Wang, Chen & Li 2015, "Empirical evaluation of
//! rectified activations in convolutional network", arXiv:1505.00853).
//!
//! Training: f(x) = x if x > 0, else a·x, with a fresh slope a ~ U(lower, upper) drawn for every
//! element at every forward pass (or, with `per_tensor`, one slope for the whole tensor per
//! pass) from the layer's own generator, seeded at construction.
//! Evaluation: the fixed slope a = (lower + upper)/2, i.e. leaky ReLU.
//!
//! Composite: training mode multiplies `x` by a constant tensor of slopes (1 where x > 0), so
//! the backward uses the slopes drawn in the forward; evaluation uses the fused leaky-ReLU rule.
//! Differences from PyTorch: the random numbers differ (our generator, and we draw a slope for
//! every element, not only for the non-positive ones); `per_tensor` is ours.
//!
//! f, f′ and the PyTorch equivalent: [`RRelu`].
use std::cell::{Cell, RefCell};

use tensor::{rng, zip_with, Rng};

use super::leaky_relu::LeakyRelu;
use super::prelude::*;

documented! {
    /// RReLU: leaky ReLU with a random slope in `[lower, upper)` while training, the mean slope
    /// in evaluation.
    #[doc(alias = "RReLU")]
    #[derive(Debug)]
    pub struct RRelu {
        lower: f32,
        upper: f32,
        per_tensor: bool,
        rng: RefCell<Rng>,
        training: Cell<bool>,
    }

    f "x if x > 0, else a·x;  a ~ U(lower, upper) training, (lower + upper)/2 eval",
    df "1 if x > 0, else a  (f′(0) = a)",
    pytorch "torch.nn.RReLU(lower=0.125, upper=0.3333333333333333)",
    entry Entry::new("rrelu", Category::Randomized, |a| {
        let (lower, upper) = (a.number("lower"), a.number("upper"));
        if lower > upper {
            return Err(a.invalid("lower", &format!("a number ≤ upper ({upper})")));
        }
        let seed = (a.int("seed") as u64).wrapping_add(a.instance());
        Ok(Box::new(
            RRelu::new(lower, upper, seed).per_tensor(a.flag("per_tensor")),
        ))
    })
    .args(&[
        Arg::number("lower", "0.125"),
        Arg::number("upper", "0.33333334"),
        Arg::flag("per_tensor", "false"),
        Arg::int("seed", "0"),
    ])
    .kinks(&[0.0])
    .about("leaky ReLU with a random slope in [lower, upper) while training, the mean in eval")
    .range("(−∞, ∞)"),
}

impl RRelu {
    /// Slopes uniform in `[lower, upper)`, drawn from a generator seeded with `seed`; starts in
    /// training mode, like every module.
    ///
    /// # Panics
    /// If the bounds are not finite or `lower > upper`.
    pub fn new(lower: f32, upper: f32, seed: u64) -> RRelu {
        if !(lower.is_finite() && upper.is_finite() && lower <= upper) {
            shape_panic(
                "rrelu",
                format_args!("needs finite lower <= upper, got lower {lower}, upper {upper}"),
            );
        }
        RRelu {
            lower,
            upper,
            per_tensor: false,
            rng: RefCell::new(rng(seed)),
            training: Cell::new(true),
        }
    }

    /// Draw one slope per forward pass for the whole tensor instead of one per element.
    pub fn per_tensor(mut self, per_tensor: bool) -> RRelu {
        self.per_tensor = per_tensor;
        self
    }

    /// The slope used in evaluation mode, `(lower + upper)/2`.
    pub fn eval_slope(&self) -> f32 {
        0.5 * (self.lower + self.upper)
    }
}

impl Default for RRelu {
    /// PyTorch's defaults `lower = 1/8`, `upper = 1/3`; seed 0.
    fn default() -> RRelu {
        RRelu::new(1.0 / 8.0, 1.0 / 3.0, 0)
    }
}

impl Module for RRelu {
    fn forward(&self, x: &Var) -> Var {
        if !self.training.get() {
            return x.pointwise(&LeakyRelu::new(self.eval_slope()));
        }
        let mut rng = self.rng.borrow_mut();
        if self.per_tensor {
            let a = Tensor::uniform([1], self.lower, self.upper, &mut *rng).item();
            return x.pointwise(&LeakyRelu::new(a));
        }
        let drawn = Tensor::uniform(x.shape(), self.lower, self.upper, &mut *rng);
        let slopes = zip_with(
            &x.value(),
            &drawn,
            "rrelu",
            |x, a| if x > 0.0 { 1.0 } else { a },
        );
        x.mul_mask(&slopes)
    }
    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}
    fn describe(&self) -> String {
        let extra = if self.per_tensor {
            ", per_tensor=True"
        } else {
            ""
        };
        format!(
            "RReLU(lower={}, upper={}{extra})",
            format_float(self.lower),
            format_float(self.upper)
        )
    }
    fn is_activation(&self) -> bool {
        true
    }
    /// In evaluation mode, leaky ReLU's with the mean slope: 1 where x > 0, else
    /// (lower + upper)/2. While training the slope is random, so `None`.
    fn derivative(&self, x: &Tensor) -> Option<Tensor> {
        if self.training.get() {
            return None;
        }
        LeakyRelu::new(self.eval_slope()).derivative(x)
    }
    fn set_training(&self, training: bool) {
        self.training.set(training);
    }
    fn is_training(&self) -> bool {
        self.training.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn negatives(n: usize) -> Var {
        Var::constant(Tensor::full([n], -1.0))
    }

    /// The slopes seen on an all-negative input: `y / x = a`.
    fn slopes(m: &RRelu, n: usize) -> Vec<f32> {
        m.forward(&negatives(n))
            .value()
            .to_vec()
            .iter()
            .map(|y| -y)
            .collect()
    }

    #[test]
    fn training_slopes_are_in_range_and_vary() {
        let m = RRelu::default();
        let s = slopes(&m, 1000);
        assert!(s.iter().all(|&a| (0.125..1.0 / 3.0).contains(&a)), "{s:?}");
        let mean = s.iter().sum::<f32>() / s.len() as f32;
        assert!((mean - m.eval_slope()).abs() < 0.01, "mean slope {mean}");
        assert!(s.windows(2).any(|w| w[0] != w[1]));
        // a new forward draws new slopes
        assert_ne!(s, slopes(&m, 1000));
        // positive inputs pass unchanged
        let y = m.forward(&Var::constant(Tensor::from_vec(vec![2.0, 0.5], [2])));
        assert_eq!(y.value().to_vec(), vec![2.0, 0.5]);
    }

    #[test]
    fn eval_uses_the_mean_slope() {
        let m = RRelu::new(0.1, 0.3, 7);
        m.eval();
        assert!(!m.is_training());
        for a in slopes(&m, 10) {
            assert!((a - 0.2).abs() < 1e-7);
        }
        // and the gradient at 0 is that slope (PyTorch's convention)
        let x = Var::parameter(Tensor::from_vec(vec![0.0, 1.0], [2]));
        m.forward(&x).sum_all().backward();
        let g = x.grad().unwrap().to_vec();
        assert!((g[0] - 0.2).abs() < 1e-7 && g[1] == 1.0, "{g:?}");
    }

    #[test]
    fn derivative_only_in_eval_mode() {
        let m = RRelu::new(0.1, 0.3, 7);
        let x = Tensor::from_vec(vec![-5.0, 0.0, 1.0], [1, 3]);
        assert!(m.is_activation());
        assert!(m.derivative(&x).is_none());
        m.eval();
        let d = m.derivative(&x).unwrap().to_vec();
        assert!(
            (d[0] - 0.2).abs() < 1e-7 && (d[1] - 0.2).abs() < 1e-7 && d[2] == 1.0,
            "{d:?}"
        );
    }

    #[test]
    fn same_seed_same_slopes() {
        let (a, b) = (RRelu::new(0.1, 0.3, 42), RRelu::new(0.1, 0.3, 42));
        assert_eq!(slopes(&a, 50), slopes(&b, 50));
        assert_eq!(slopes(&a, 50), slopes(&b, 50));
        assert_ne!(
            slopes(&RRelu::new(0.1, 0.3, 43), 50),
            slopes(&RRelu::new(0.1, 0.3, 42), 50)
        );
    }

    #[test]
    fn per_tensor_draws_one_slope_per_pass() {
        let m = RRelu::new(0.1, 0.3, 1).per_tensor(true);
        let s = slopes(&m, 20);
        assert!(s.iter().all(|&a| a == s[0]) && (0.1..0.3).contains(&s[0]));
        assert_ne!(s[0], slopes(&m, 20)[0]);
        assert_eq!(m.describe(), "RReLU(lower=0.1, upper=0.3, per_tensor=True)");
    }

    #[test]
    fn gradient_uses_the_drawn_slopes() {
        let m = RRelu::new(0.1, 0.3, 3);
        let x = Var::parameter(Tensor::from_vec(vec![-2.0, -1.0, 0.0, 4.0], [4]));
        let y = m.forward(&x);
        y.sum_all().backward();
        let (y, g) = (y.value().to_vec(), x.grad().unwrap().to_vec());
        assert!((y[0] / -2.0 - g[0]).abs() < 1e-7 && (y[1] / -1.0 - g[1]).abs() < 1e-7);
        assert!((0.1..0.3).contains(&g[2]), "slope at 0: {}", g[2]);
        assert_eq!(g[3], 1.0);
    }

    #[test]
    fn layers_built_from_one_spec_draw_different_slopes() {
        let act = super::super::ActivationSpec::parse("rrelu").unwrap();
        let (a, b) = (act.build(), act.build());
        let x = negatives(30);
        let (ya, yb) = (a.forward(&x).value(), b.forward(&x).value());
        assert_ne!(ya, yb);
        // and the same spec parsed again reproduces them
        let again = super::super::ActivationSpec::parse("rrelu").unwrap();
        assert_eq!(again.build().forward(&x).value(), ya);
        assert_eq!(again.build().forward(&x).value(), yb);
    }
}
