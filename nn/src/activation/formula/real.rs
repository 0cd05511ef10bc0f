//! The arithmetic a formula's tree is evaluated with, [`Real`], for `f32` (the layer's values and
//! the constants folded while parsing) and `f64` (the reference, [`Formula::reference`]).
//!
//! [`Formula::reference`]: super::Formula::reference

use std::ops::{Add, Div, Mul, Sub};

use crate::activation::scalar;

/// A floating-point type with the operations of a formula.
pub(super) trait Real:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self>
{
    fn powf(self, b: Self) -> Self;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn erf(self) -> Self;
    fn asinh(self) -> Self;
    fn atan(self) -> Self;
    /// The larger, NaN winning (as `Tensor::maximum` and `torch.maximum`).
    fn maximum(self, b: Self) -> Self;
    /// The smaller, NaN winning (as `Tensor::minimum` and `torch.minimum`).
    fn minimum(self, b: Self) -> Self;
}

/// The `Real` methods as the type's own (inherent) methods, and `erf` and `asinh` as given.
macro_rules! real {
    ($t:ty, $erf:path, $asinh:path) => {
        impl Real for $t {
            fn powf(self, b: $t) -> $t {
                <$t>::powf(self, b)
            }
            fn exp(self) -> $t {
                <$t>::exp(self)
            }
            fn ln(self) -> $t {
                <$t>::ln(self)
            }
            fn sqrt(self) -> $t {
                <$t>::sqrt(self)
            }
            fn abs(self) -> $t {
                <$t>::abs(self)
            }
            fn sin(self) -> $t {
                <$t>::sin(self)
            }
            fn cos(self) -> $t {
                <$t>::cos(self)
            }
            fn erf(self) -> $t {
                $erf(self)
            }
            fn asinh(self) -> $t {
                $asinh(self)
            }
            fn atan(self) -> $t {
                <$t>::atan(self)
            }
            fn maximum(self, b: $t) -> $t {
                if self.is_nan() || self >= b {
                    self
                } else {
                    b
                }
            }
            fn minimum(self, b: $t) -> $t {
                if self.is_nan() || self <= b {
                    self
                } else {
                    b
                }
            }
        }
    };
}
real!(f32, scalar::erf, super::tree::asinh);
real!(f64, erf_f64, f64::asinh);

/// `erf(a)` to about 1e-15 relative: `(2/√π)·e^(−a²)·Σₙ 2ⁿ·a^(2n+1)/(1·3·…·(2n+1))`, a series of
/// positive terms (no cancellation); beyond |a| = 6, erf is ±1 to within 2e-17.
fn erf_f64(a: f64) -> f64 {
    if a.abs() > 6.0 {
        return a.signum();
    }
    let (mut term, mut sum, mut n) = (a, a, 0.0);
    while term.abs() > 1e-17 * sum.abs() {
        n += 1.0;
        term *= 2.0 * a * a / (2.0 * n + 1.0);
        sum += term;
    }
    std::f64::consts::FRAC_2_SQRT_PI * (-a * a).exp() * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_f64_matches_reference_values() {
        // Python's math.erf
        for (a, want) in [
            (0.0, 0.0),
            (0.1, 0.112_462_916_018_284_9),
            (-1.0, -0.842_700_792_949_714_9),
            (2.5, 0.999_593_047_982_555),
            (5.0, 0.999_999_999_998_462_6),
        ] {
            let got = erf_f64(a);
            assert!(
                (got - want).abs() <= 1e-15 * (1.0 + want.abs()),
                "erf({a}) = {got}"
            );
        }
    }
}
