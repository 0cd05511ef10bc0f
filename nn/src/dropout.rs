//! [`Dropout`]: inverted dropout, PyTorch's `nn.Dropout`.

use std::cell::{Cell, RefCell};

use autograd::Var;
use rand::RngCore;
use tensor::{shape_panic, Rng, Tensor};

use crate::module::{format_float, impl_display_via_module, Module};

/// In training, zeroes each element with probability p and scales the survivors by 1/(1−p),
/// so the expected output equals the input (inverted dropout, as PyTorch):
/// y = x·m/(1−p), m ~ Bernoulli(1−p). In evaluation it is the identity.
///
/// The layer owns a random generator seeded from the one given at construction, so a run is
/// reproducible from its seed.
pub struct Dropout {
    p: f32,
    training: Cell<bool>,
    rng: RefCell<Rng>,
}

impl Dropout {
    /// Dropout with drop probability `p` ∈ [0, 1].
    ///
    /// # Panics
    /// If `p` is outside [0, 1].
    #[track_caller]
    pub fn new(p: f32, rng: &mut Rng) -> Dropout {
        if !(0.0..=1.0).contains(&p) {
            shape_panic(
                "Dropout",
                format_args!("probability must be in [0, 1], got {p}"),
            );
        }
        Dropout {
            p,
            training: Cell::new(true),
            rng: RefCell::new(tensor::rng(rng.next_u64())),
        }
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }
}

impl Module for Dropout {
    fn forward(&self, x: &Var) -> Var {
        if !self.training.get() || self.p == 0.0 {
            return x.clone();
        }
        let shape = x.shape();
        let mask = if self.p == 1.0 {
            Tensor::zeros(shape)
        } else {
            let keep = 1.0 - self.p;
            let mut m = Tensor::bernoulli(shape, keep, &mut *self.rng.borrow_mut());
            m.mul_scalar_(1.0 / keep);
            m
        };
        x.mul_mask(&mask)
    }

    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}

    fn describe(&self) -> String {
        format!("Dropout(p={}, inplace=False)", format_float(self.p))
    }

    fn set_training(&self, training: bool) {
        self.training.set(training);
    }

    fn is_training(&self) -> bool {
        self.training.get()
    }
}

impl_display_via_module!(Dropout);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn train_drops_and_rescales() {
        let d = Dropout::new(0.25, &mut tensor::rng(0));
        let x = Var::parameter(Tensor::ones([10_000]));
        let y = d.forward(&x).value();
        let kept = y.data().iter().filter(|&&v| v != 0.0).count();
        // every survivor is 1/(1 − 0.25)
        assert!(y
            .data()
            .iter()
            .all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-6));
        let frac = kept as f64 / 10_000.0;
        assert!((frac - 0.75).abs() < 0.02, "kept {frac}");
        // mean is preserved in expectation
        assert!((y.mean_all() - 1.0).abs() < 0.03);
    }

    #[test]
    fn gradient_uses_the_same_mask() {
        let d = Dropout::new(0.5, &mut tensor::rng(1));
        let x = Var::parameter(Tensor::ones([64]));
        let y = d.forward(&x);
        y.sum_all().backward();
        assert_eq!(x.grad().unwrap(), y.value());
    }

    #[test]
    fn eval_is_identity_and_train_restores() {
        let d = Dropout::new(0.5, &mut tensor::rng(2));
        d.eval();
        assert!(!d.is_training());
        let x = Var::constant(Tensor::arange(0.0, 8.0, 1.0));
        assert_eq!(d.forward(&x).value(), x.value());
        d.train();
        assert_ne!(d.forward(&x).value(), x.value());
    }

    #[test]
    fn edge_probabilities() {
        let x = Var::constant(Tensor::ones([5]));
        assert_eq!(
            Dropout::new(0.0, &mut tensor::rng(3)).forward(&x).value(),
            x.value()
        );
        assert_eq!(
            Dropout::new(1.0, &mut tensor::rng(3)).forward(&x).value(),
            Tensor::zeros([5])
        );
        let empty = Var::constant(Tensor::zeros([0]));
        assert_eq!(
            Dropout::new(0.5, &mut tensor::rng(3))
                .forward(&empty)
                .dims(),
            [0]
        );
    }

    #[test]
    fn same_seed_same_masks() {
        let x = Var::constant(Tensor::ones([32]));
        let a = Dropout::new(0.5, &mut tensor::rng(9)).forward(&x).value();
        let b = Dropout::new(0.5, &mut tensor::rng(9)).forward(&x).value();
        assert_eq!(a, b);
    }

    #[test]
    fn display_like_pytorch() {
        let d = Dropout::new(0.5, &mut tensor::rng(0));
        assert_eq!(d.to_string(), "Dropout(p=0.5, inplace=False)");
        assert_eq!(
            Dropout::new(0.0, &mut tensor::rng(0)).to_string(),
            "Dropout(p=0.0, inplace=False)"
        );
    }

    #[test]
    #[should_panic(expected = "Dropout: probability must be in [0, 1], got 1.5")]
    fn bad_probability_panics() {
        Dropout::new(1.5, &mut tensor::rng(0));
    }
}
