//! Results over several seeds: a [`Summary`] (mean ± spread) of each measurement, and a
//! [`Verdict`] on whether two sets of runs differ by more than their spread, from Welch's
//! t-test ([`welch`]).
//!
//! One training run is one draw: its initial weights and its data order come from the seed, and
//! a different seed moves test accuracy by a few tenths of a percent. A claim such as "mish
//! converges faster than relu" is worth making only when the gap between the two activations is
//! larger than that spread. With `--seeds 0,1,2` (or `--seeds 5`) the examples train every
//! activation once per seed and compare the per-seed values with [`compare`]:
//!
//! - **Welch's t-test** (two-sided, unequal variances; B. L. Welch, 1947): the difference of
//!   the means divided by its standard error, `t = (m₁ − m₂)/√(s₁²/n₁ + s₂²/n₂)`, with the
//!   Welch–Satterthwaite degrees of freedom. The p-value is the probability of a |t| at least
//!   this large if both activations had the same mean; it comes from Student's t distribution
//!   ([`student_t_two_sided`], through the regularized incomplete beta function).
//! - A difference counts when `p <` [`ALPHA`] (0.05). Otherwise the verdict is
//!   [`Verdict::WithinSpread`]: the seeds cannot tell the two apart. With fewer than two
//!   seeds per side there is no spread to compare with, and no verdict
//!   ([`Verdict::NeedSeeds`]).
//!
//! Everything is computed in `f64`, from the values the runs produced.
//!
//! ```
//! use minidl::stats::{compare, Summary, Verdict};
//!
//! let mish = [0.9812, 0.9820, 0.9808];
//! let sigmoid = [0.9690, 0.9702, 0.9671];
//! let s = Summary::of(&mish);
//! assert_eq!(s.n, 3);
//! assert!((s.mean - 0.981333).abs() < 1e-6);
//! let c = compare(&mish, &sigmoid);
//! assert_eq!(c.verdict, Verdict::Higher);
//! assert!(c.p < 0.01);
//! ```

use std::fmt;

/// The significance level of [`compare`]'s verdicts: a difference counts when Welch's
/// two-sided p-value is below it.
pub const ALPHA: f64 = 0.05;

/// The name of the test behind a [`Verdict`], for tables and reports.
pub const TEST_NAME: &str = "Welch's t-test, two-sided, p < 0.05";

/// Mean and spread of one measurement over seeds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// How many values (seeds).
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation (divisor n − 1; 0 for a single value).
    pub std: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Summary {
    /// The summary of `values`; NaN fields for an empty slice. Values may be `f32` or `f64`.
    pub fn of<T: Copy + Into<f64>>(values: &[T]) -> Summary {
        let n = values.len();
        if n == 0 {
            return Summary {
                n,
                mean: f64::NAN,
                std: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
            };
        }
        let v = values.iter().map(|&x| x.into());
        let mean = v.clone().sum::<f64>() / n as f64;
        let std = if n < 2 {
            0.0
        } else {
            (v.clone().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
        };
        let (min, max) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
        Summary {
            n,
            mean,
            std,
            min,
            max,
        }
    }

    /// `mean ± std` with each number written by `fmt` (just the mean for a single value):
    /// `s.show(|v| format!("{:.2}%", v * 100.0))` → `"98.13% ± 0.06%"`.
    pub fn show(&self, fmt: impl Fn(f64) -> String) -> String {
        if self.n < 2 {
            fmt(self.mean)
        } else {
            format!("{} ± {}", fmt(self.mean), fmt(self.std))
        }
    }
}

impl fmt::Display for Summary {
    /// `mean ± std` to four significant decimals (`0.9813 ± 0.0006`), or the mean alone for
    /// one value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.show(|v| format!("{v:.4}")))
    }
}

/// What the seeds say about "a differs from b".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// a's mean is higher, and the difference is larger than the spread (p < [`ALPHA`]).
    Higher,
    /// a's mean is lower, and the difference is larger than the spread (p < [`ALPHA`]).
    Lower,
    /// The difference is inside the seeds' spread (p ≥ [`ALPHA`]).
    WithinSpread,
    /// Fewer than two values on a side, or a non-finite value: no test is possible.
    NeedSeeds,
}

impl Verdict {
    /// Whether the difference was found larger than the spread.
    pub fn is_significant(self) -> bool {
        matches!(self, Verdict::Higher | Verdict::Lower)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Higher => "higher",
            Verdict::Lower => "lower",
            Verdict::WithinSpread => "within the seeds' spread",
            Verdict::NeedSeeds => "no verdict (needs 2+ seeds)",
        })
    }
}

/// The result of Welch's t-test on two samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Welch {
    /// `(mean_a − mean_b)/√(s_a²/n_a + s_b²/n_b)`; ±∞ when both spreads are 0 and the means
    /// differ.
    pub t: f64,
    /// The Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// The two-sided p-value.
    pub p: f64,
}

/// Welch's t-test of `a` against `b`; `None` when either has fewer than two values or a
/// non-finite one.
///
/// When both samples have zero spread the test degenerates: equal means give p = 1, different
/// means t = ±∞ and p = 0 (every seed agrees on the difference).
pub fn welch(a: &Summary, b: &Summary) -> Option<Welch> {
    let finite = |s: &Summary| s.n >= 2 && s.mean.is_finite() && s.std.is_finite();
    if !finite(a) || !finite(b) {
        return None;
    }
    let (va, vb) = (a.std * a.std / a.n as f64, b.std * b.std / b.n as f64);
    let se2 = va + vb;
    let diff = a.mean - b.mean;
    if se2 == 0.0 {
        let min_df = (a.n + b.n - 2) as f64;
        return Some(if diff == 0.0 {
            Welch {
                t: 0.0,
                df: min_df,
                p: 1.0,
            }
        } else {
            Welch {
                t: diff.signum() * f64::INFINITY,
                df: min_df,
                p: 0.0,
            }
        });
    }
    let t = diff / se2.sqrt();
    let df = se2 * se2 / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
    Some(Welch {
        t,
        df,
        p: student_t_two_sided(t, df),
    })
}

/// `a` against `b`: their summaries, the test and the verdict.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// The summary of `a`.
    pub a: Summary,
    /// The summary of `b`.
    pub b: Summary,
    /// `mean(a) − mean(b)`.
    pub diff: f64,
    /// Welch's two-sided p-value (NaN when there is no test).
    pub p: f64,
    /// What the test says at [`ALPHA`].
    pub verdict: Verdict,
}

/// Compares the per-seed values `a` and `b` of one measurement (say test accuracy of two
/// activations) by Welch's t-test at [`ALPHA`].
pub fn compare<T: Copy + Into<f64>>(a: &[T], b: &[T]) -> Comparison {
    let (sa, sb) = (Summary::of(a), Summary::of(b));
    let diff = sa.mean - sb.mean;
    match welch(&sa, &sb) {
        None => Comparison {
            a: sa,
            b: sb,
            diff,
            p: f64::NAN,
            verdict: Verdict::NeedSeeds,
        },
        Some(w) => Comparison {
            a: sa,
            b: sb,
            diff,
            p: w.p,
            verdict: if w.p >= ALPHA {
                Verdict::WithinSpread
            } else if diff > 0.0 {
                Verdict::Higher
            } else {
                Verdict::Lower
            },
        },
    }
}

/// P(|T| ≥ |t|) for Student's t distribution with `df` degrees of freedom:
/// `I_{df/(df+t²)}(df/2, 1/2)`, the regularized incomplete beta function.
pub fn student_t_two_sided(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    incomplete_beta(df / (df + t * t), df / 2.0, 0.5).clamp(0.0, 1.0)
}

/// The regularized incomplete beta function `I_x(a, b)` for `x` in [0, 1], `a, b > 0`, by its
/// continued fraction (modified Lentz), on the side where it converges fast.
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_fraction(1.0 - x, b, a) / b
    }
}

/// The continued fraction of `I_x(a, b)` (Numerical Recipes' `betacf`).
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    // Lentz's guard: a denominator that reaches 0 is replaced by a tiny number
    let nonzero = |v: f64| if v.abs() < 1e-300 { 1e-300 } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / nonzero(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        // the even step, then the odd one
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / nonzero(1.0 + aa * d);
        c = nonzero(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / nonzero(1.0 + aa * d);
        c = nonzero(1.0 + aa / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms; relative error below 1e-14).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection: Γ(x)Γ(1−x) = π / sin(πx)
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        sum += g / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_mean_sample_std_and_range() {
        let s = Summary::of(&[1.0f32, 2.0, 3.0, 4.0]);
        assert_eq!(s.n, 4);
        assert_eq!(s.mean, 2.5);
        assert!((s.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!((s.min, s.max), (1.0, 4.0));
        assert_eq!(Summary::of(&[7.0f64]).std, 0.0);
        assert!(Summary::of::<f64>(&[]).mean.is_nan());
        assert_eq!(Summary::of(&[0.5f64, 0.7]).to_string(), "0.6000 ± 0.1414");
        assert_eq!(Summary::of(&[0.5f64]).to_string(), "0.5000");
    }

    #[test]
    fn ln_gamma_matches_factorials_and_sqrt_pi() {
        let mut fact = 1.0f64;
        for n in 1..20 {
            // Γ(n) = (n−1)!
            assert!((ln_gamma(n as f64) - fact.ln()).abs() < 1e-12, "n = {n}");
            fact *= n as f64;
        }
        let half = std::f64::consts::PI.sqrt().ln();
        assert!((ln_gamma(0.5) - half).abs() < 1e-13);
    }

    /// Two-sided p-values of Student's t from the standard tables (scipy.stats.t.sf(t, df)*2).
    #[test]
    fn student_t_matches_table_values() {
        let cases = [
            // (t, df, p)
            (0.0, 5.0, 1.0),
            (2.570_581_835_636_314, 5.0, 0.05),
            (12.706_204_736_174_71, 1.0, 0.05),
            (4.302_652_729_749_464, 2.0, 0.05),
            (1.959_963_984_540_054, 1000.0, 0.050_277_401_032_697_58),
            (1.5, 100.0, 0.136_765_058_124_688_84),
            (2.228_138_851_986_274, 10.0, 0.05),
            (3.169_272_672_616_951, 10.0, 0.01),
            (-2.228_138_851_986_274, 10.0, 0.05),
            (1.0, 1.0, 0.5),
            (1.0, 3.5, 0.381_337_253_563_445_3),
        ];
        for (t, df, p) in cases {
            let got = student_t_two_sided(t, df);
            assert!((got - p).abs() < 1e-9, "t {t}, df {df}: {got} vs {p}");
        }
        assert_eq!(student_t_two_sided(f64::INFINITY, 3.0), 0.0);
        assert!(student_t_two_sided(1.0, 0.0).is_nan());
    }

    #[test]
    fn welch_matches_a_worked_example() {
        // scipy.stats.ttest_ind(a, b, equal_var=False): t = 3.723700, df = 6.251691, p = 0.009104254
        let a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9];
        let b = [16.5, 15.2, 13.3, 14.9, 12.6, 15.1];
        let w = welch(&Summary::of(&a), &Summary::of(&b)).unwrap();
        assert!((w.t - 3.723_700_374_903_736).abs() < 1e-9, "{w:?}");
        assert!((w.df - 6.251_690_705_857_397).abs() < 1e-9, "{w:?}");
        assert!((w.p - 0.009_104_253_918_195_014).abs() < 1e-9, "{w:?}");
    }

    #[test]
    fn verdicts_follow_the_test() {
        assert_eq!(
            compare(&[0.98, 0.981, 0.979], &[0.97, 0.969, 0.971]).verdict,
            Verdict::Higher
        );
        assert_eq!(
            compare(&[0.97, 0.969, 0.971], &[0.98, 0.981, 0.979]).verdict,
            Verdict::Lower
        );
        // the same means, a wide spread: inside it
        let c = compare(&[0.95, 0.99, 0.97], &[0.96, 0.98, 0.975]);
        assert_eq!(c.verdict, Verdict::WithinSpread);
        assert!(c.p > 0.5);
        assert_eq!(compare(&[0.9], &[0.8, 0.7]).verdict, Verdict::NeedSeeds);
        assert_eq!(
            compare(&[f32::NAN, 0.5], &[0.8, 0.7]).verdict,
            Verdict::NeedSeeds
        );
        // no spread at all: every seed agrees
        assert_eq!(compare(&[1.0, 1.0], &[0.5, 0.5]).verdict, Verdict::Higher);
        assert_eq!(
            compare(&[1.0, 1.0], &[1.0, 1.0]).verdict,
            Verdict::WithinSpread
        );
    }
}
