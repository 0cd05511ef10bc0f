//! Random tensors. Every function takes the generator from the caller, so a run is fixed by
//! its seed: [`rng`]`(seed)` gives the crate's default generator, ChaCha8 (fast, and the same
//! stream on every platform and `rand` release that keeps `rand_chacha` 0.9).
//!
//! ```
//! use tensor::{rng, Tensor};
//! let mut r = rng(42);
//! let w = Tensor::randn([128, 784], &mut r);
//! assert_eq!(w, Tensor::randn([128, 784], &mut rng(42)), "same seed, same tensor");
//! ```

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal, Uniform};

use crate::error::shape_panic;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// The crate's default random generator: ChaCha with 8 rounds, seedable and portable.
pub type Rng = rand_chacha::ChaCha8Rng;

/// A default generator started from `seed`; the same seed always gives the same stream.
pub fn rng(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// A tensor of `shape` whose values are drawn one by one, in row-major order, from `dist`.
fn sample<D: Distribution<f32>, R: rand::Rng + ?Sized>(
    shape: impl Into<Shape>,
    dist: D,
    rng: &mut R,
) -> Tensor {
    let shape = shape.into();
    let data = (0..shape.numel()).map(|_| dist.sample(rng)).collect();
    Tensor::from_vec(data, shape)
}

impl Tensor {
    /// Values uniform in `[0, 1)` (PyTorch's `torch.rand`).
    pub fn rand<R: rand::Rng + ?Sized>(shape: impl Into<Shape>, rng: &mut R) -> Tensor {
        let shape = shape.into();
        let data = (0..shape.numel()).map(|_| rng.random::<f32>()).collect();
        Tensor::from_vec(data, shape)
    }

    /// Values from the standard normal distribution N(0, 1) (PyTorch's `torch.randn`).
    pub fn randn<R: rand::Rng + ?Sized>(shape: impl Into<Shape>, rng: &mut R) -> Tensor {
        sample(shape, StandardNormal, rng)
    }

    /// Values uniform in `[low, high)`; all equal to `low` when `low == high`.
    ///
    /// # Panics
    /// If `low` or `high` is not finite, or `low > high`.
    #[track_caller]
    pub fn uniform<R: rand::Rng + ?Sized>(
        shape: impl Into<Shape>,
        low: f32,
        high: f32,
        rng: &mut R,
    ) -> Tensor {
        if !(low.is_finite() && high.is_finite() && low <= high) {
            shape_panic(
                "uniform",
                format_args!("needs finite bounds with low <= high, got low {low}, high {high}"),
            );
        }
        if low == high {
            return Tensor::full(shape, low);
        }
        let dist = Uniform::new(low, high).expect("bounds were checked above");
        sample(shape, dist, rng)
    }

    /// Values from the normal distribution N(mean, std²): `mean + std · z`, `z ~ N(0, 1)`.
    ///
    /// # Panics
    /// If `mean` or `std` is not finite, or `std < 0`.
    #[track_caller]
    pub fn normal<R: rand::Rng + ?Sized>(
        shape: impl Into<Shape>,
        mean: f32,
        std: f32,
        rng: &mut R,
    ) -> Tensor {
        if !(mean.is_finite() && std.is_finite() && std >= 0.0) {
            shape_panic(
                "normal",
                format_args!(
                    "needs a finite mean and a finite std >= 0, got mean {mean}, std {std}"
                ),
            );
        }
        let mut t = Tensor::randn(shape, rng);
        t.map_(|z| mean + std * z);
        t
    }

    /// 1.0 with probability `p`, else 0.0 (dropout masks, RReLU's training noise).
    ///
    /// # Panics
    /// If `p` is not in `[0, 1]`.
    #[track_caller]
    pub fn bernoulli<R: rand::Rng + ?Sized>(
        shape: impl Into<Shape>,
        p: f32,
        rng: &mut R,
    ) -> Tensor {
        if !(0.0..=1.0).contains(&p) {
            shape_panic(
                "bernoulli",
                format_args!("probability must be in [0, 1], got {p}"),
            );
        }
        let shape = shape.into();
        // u is uniform on [0, 1) in steps of 2⁻²⁴, so P(u < p) = p for p = 0 and p = 1 exactly
        let data = (0..shape.numel())
            .map(|_| f32::from(rng.random::<f32>() < p))
            .collect();
        Tensor::from_vec(data, shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sample mean and (biased) standard deviation.
    fn mean_std(t: &Tensor) -> (f32, f32) {
        (t.mean_all(), t.var_all(false).sqrt())
    }

    #[test]
    fn same_seed_same_tensor() {
        let a = Tensor::randn([3, 4], &mut rng(7));
        let b = Tensor::randn([3, 4], &mut rng(7));
        assert_eq!(a, b);
        assert_ne!(a, Tensor::randn([3, 4], &mut rng(8)));
        // one generator carries on: the next draw differs from the first
        let mut r = rng(7);
        let first = Tensor::rand([5], &mut r);
        let second = Tensor::rand([5], &mut r);
        assert_ne!(first, second);
        assert_eq!(first, Tensor::rand([5], &mut rng(7)));
        for make in [
            |r: &mut Rng| Tensor::uniform([6], -2.0, 3.0, r),
            |r: &mut Rng| Tensor::normal([6], 1.0, 0.5, r),
            |r: &mut Rng| Tensor::bernoulli([6], 0.3, r),
        ] {
            assert_eq!(make(&mut rng(11)), make(&mut rng(11)));
        }
    }

    #[test]
    fn works_through_a_trait_object() {
        let mut r = rng(1);
        let dyn_rng: &mut dyn rand::RngCore = &mut r;
        let t = Tensor::randn([4], dyn_rng);
        assert_eq!(t, Tensor::randn([4], &mut rng(1)));
    }

    #[test]
    fn randn_moments() {
        let z = Tensor::randn([10_000], &mut rng(0));
        let (m, s) = mean_std(&z);
        // standard error of the mean is 0.01, of the std about 0.007
        assert!(m.abs() < 0.04, "mean {m}");
        assert!((s - 1.0).abs() < 0.03, "std {s}");
        let n = Tensor::normal([100, 100], 3.0, 0.5, &mut rng(1));
        let (m, s) = mean_std(&n);
        assert!((m - 3.0).abs() < 0.02, "mean {m}");
        assert!((s - 0.5).abs() < 0.015, "std {s}");
        assert_eq!(
            Tensor::normal([3], 2.0, 0.0, &mut rng(2)).to_vec(),
            vec![2.0; 3]
        );
    }

    #[test]
    fn uniform_range_and_moments() {
        let u = Tensor::rand([10_000], &mut rng(3));
        assert!(u.min_all() >= 0.0 && u.max_all() < 1.0);
        let (m, s) = mean_std(&u);
        // U[0, 1): mean 1/2, std 1/√12 ≈ 0.2887
        assert!((m - 0.5).abs() < 0.01, "mean {m}");
        assert!((s - 12f32.sqrt().recip()).abs() < 0.01, "std {s}");
        let v = Tensor::uniform([10_000], -3.0, 5.0, &mut rng(4));
        assert!(v.min_all() >= -3.0 && v.max_all() < 5.0);
        assert!((v.mean_all() - 1.0).abs() < 0.1);
        assert_eq!(
            Tensor::uniform([2], 1.5, 1.5, &mut rng(5)).to_vec(),
            vec![1.5; 2]
        );
    }

    #[test]
    fn bernoulli_rate() {
        let b = Tensor::bernoulli([10_000], 0.3, &mut rng(6));
        assert!(b.data().iter().all(|&v| v == 0.0 || v == 1.0));
        // standard error of the rate is about 0.0046
        assert!((b.mean_all() - 0.3).abs() < 0.02, "rate {}", b.mean_all());
        assert_eq!(Tensor::bernoulli([50], 0.0, &mut rng(7)).sum_all(), 0.0);
        assert_eq!(Tensor::bernoulli([50], 1.0, &mut rng(7)).sum_all(), 50.0);
    }

    #[test]
    fn shapes_and_empty() {
        let mut r = rng(9);
        assert_eq!(Tensor::randn([2, 0, 3], &mut r).numel(), 0);
        assert_eq!(Tensor::rand(Shape::scalar(), &mut r).rank(), 0);
        assert_eq!(Tensor::bernoulli([4, 5], 0.5, &mut r).dims(), &[4, 5]);
    }

    #[test]
    #[should_panic(expected = "uniform: needs finite bounds with low <= high, got low 2, high 1")]
    fn uniform_checks_bounds() {
        Tensor::uniform([3], 2.0, 1.0, &mut rng(0));
    }

    #[test]
    #[should_panic(
        expected = "normal: needs a finite mean and a finite std >= 0, got mean 0, std -1"
    )]
    fn normal_checks_std() {
        Tensor::normal([3], 0.0, -1.0, &mut rng(0));
    }

    #[test]
    #[should_panic(expected = "bernoulli: probability must be in [0, 1], got 1.5")]
    fn bernoulli_checks_p() {
        Tensor::bernoulli([3], 1.5, &mut rng(0));
    }
}
