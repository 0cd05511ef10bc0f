//! Gradient checking: compare the analytic gradient (what `backward()` computes) with central
//! finite differences, element by element ([`gradcheck()`]), or a scalar rule's derivatives with
//! difference quotients ([`gradcheck_pointwise`]). Use it on every `Function` you write.

use std::fmt;

use tensor::{Shape, Tensor};

use crate::no_grad::no_grad;
use crate::pointwise::Pointwise;
use crate::var::Var;

/// Settings of [`gradcheck_with`].
#[derive(Debug, Clone, PartialEq)]
pub struct GradcheckOptions {
    /// Relative step: `h = eps·max(1, |x|)` (see [`gradcheck()`]).
    pub eps: f32,
    /// Tolerance: pass when `|a − n| ≤ tol · max(1, |a|, |n|)`.
    pub tol: f32,
    /// Seed of the output weighting (and of the element sample, see `max_elements`).
    pub seed: u64,
    /// Check at most this many elements of each input, chosen pseudo-randomly (all by default).
    pub max_elements: usize,
}

impl Default for GradcheckOptions {
    /// `eps = 1e-2`, `tol = 1e-2`, every element.
    fn default() -> Self {
        GradcheckOptions {
            eps: 1e-2,
            tol: 1e-2,
            seed: 0x5EED,
            max_elements: usize::MAX,
        }
    }
}

/// A gradient that disagrees with finite differences: the worst element found.
#[derive(Debug, Clone, PartialEq)]
pub struct GradcheckError {
    /// Which input (position in the `inputs` slice; for [`gradcheck_pointwise`], 0 is `x` and
    /// `k + 1` is parameter `k`).
    pub input: usize,
    /// That input's shape.
    pub shape: Shape,
    /// The element's multi-index in that input.
    pub index: Vec<usize>,
    /// The gradient `backward()` computed (or `df`/`dparams` gave).
    pub analytic: f32,
    /// The central-difference estimate.
    pub numeric: f32,
    /// `|a − n| / max(1, |a|, |n|)`.
    pub rel_error: f32,
    /// The tolerance it exceeded.
    pub tol: f32,
    /// How many checked elements failed, over all inputs.
    pub failed: usize,
    /// How many elements were checked, over all inputs.
    pub checked: usize,
    /// What was being differentiated, e.g. `input 1 of shape [2, 3]` or `swish: ∂f/∂x at x = 5`.
    pub what: String,
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradcheck: {} element {:?}: analytic gradient {} but finite differences give {}; \
             relative error {:.3e} > tolerance {:.1e} ({} of {} checked elements failed)",
            self.what,
            self.index,
            self.analytic,
            self.numeric,
            self.rel_error,
            self.tol,
            self.failed,
            self.checked
        )
    }
}

impl std::error::Error for GradcheckError {}

/// Checks the gradient of `f` with respect to each of `inputs` against central finite
/// differences, with step `eps·max(1, |x|)` and tolerance `tol`. `f` receives the inputs as
/// `Var`s and may return a `Var` of any shape.
///
/// # How it works
/// The output `y` is reduced to one number with a fixed pseudo-random weighting,
/// `L = Σₖ wₖ·yₖ`, each `wₖ` in ±[0.5, 1.5). A plain `sum` (every `wₖ = 1`) would hide bugs
/// that swap or mix up output positions, since a uniform upstream gradient looks the same in
/// any order; random weights make every output element count with its own weight. Then:
/// - **analytic**: `y.backward_with(w)` gives `∂L/∂x` for every input element;
/// - **numeric**: for each input element `xᵢ`, with `h = eps·max(1, |xᵢ|)`,
///   `∂L/∂xᵢ ≈ (L(xᵢ + h) − L(xᵢ − h)) / 2h`, with `L` summed in `f64` (under [`no_grad()`]) and
///   the step taken as the difference actually representable in `f32`;
/// - they agree when `|a − n| ≤ tol · max(1, |a|, |n|)`: an absolute test for small gradients,
///   a relative one for large gradients.
///
/// The ops compute in `f32`, so `eps` cannot be tiny: rounding in `L` is about `1e-7·|L|`, and
/// dividing by `2h` magnifies it. `eps` between `1e-3` and `1e-2` with `tol = 1e-2` is robust for
/// smooth ops; keep test inputs more than `h` away from kinks (`abs`, `maximum`, ReLU), where the
/// difference quotient straddles two slopes.
///
/// # Errors
/// A [`GradcheckError`] naming the worst element: its input, index, both values and the
/// relative error.
///
/// ```
/// use autograd::{gradcheck, Var};
/// use tensor::Tensor;
///
/// let a = Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.3, 1.5, -0.7], [2, 3]);
/// let b = Tensor::from_vec(vec![1.5, 2.0, -0.5], [3]); // broadcast over the rows
/// gradcheck(|v: &[Var]| &(&v[0] * &v[1]) + &v[0].exp(), &[a, b], 1e-2, 1e-2).unwrap();
/// ```
pub fn gradcheck(
    f: impl Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    eps: f32,
    tol: f32,
) -> Result<(), GradcheckError> {
    gradcheck_with(
        f,
        inputs,
        &GradcheckOptions {
            eps,
            tol,
            ..GradcheckOptions::default()
        },
    )
}

/// [`gradcheck()`] with all settings.
///
/// # Errors
/// As [`gradcheck()`].
pub fn gradcheck_with(
    f: impl Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    options: &GradcheckOptions,
) -> Result<(), GradcheckError> {
    check(f, inputs, &[], options)
}

/// Like [`gradcheck_with`], and also checks the gradients of `params`: `Var`s that `f` uses
/// without receiving them as arguments, such as a layer's weights or an activation's learnable
/// scalar. They are perturbed in place (and restored afterwards, value and gradient); in the
/// error they are numbered after the inputs (`input == inputs.len() + k` for `params[k]`).
///
/// ```
/// use autograd::{gradcheck_params, GradcheckOptions, Var};
/// use tensor::Tensor;
///
/// let w = Var::parameter(Tensor::from_vec(vec![0.5, -0.3, 0.8, 0.1, 0.2, -0.6], [2, 3]));
/// let layer = |v: &[Var]| v[0].linear(&w, None).exp();
/// let x = Tensor::from_vec(vec![0.1, 0.2, 0.3, -0.4, 0.5, -0.6], [2, 3]);
/// gradcheck_params(layer, &[x], std::slice::from_ref(&w), &GradcheckOptions::default()).unwrap();
/// ```
///
/// # Errors
/// As [`gradcheck()`].
pub fn gradcheck_params(
    f: impl Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    params: &[Var],
    options: &GradcheckOptions,
) -> Result<(), GradcheckError> {
    check(f, inputs, params, options)
}

fn check(
    f: impl Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    params: &[Var],
    options: &GradcheckOptions,
) -> Result<(), GradcheckError> {
    // analytic: one backward with the weights as the seed gradient
    let vars: Vec<Var> = inputs.iter().map(|t| Var::parameter(t.clone())).collect();
    let old_grads: Vec<Option<Tensor>> = params.iter().map(Var::grad).collect();
    params.iter().for_each(Var::zero_grad);
    let out = f(&vars);
    let mut rng = SplitMix(options.seed);
    let weights: Vec<f32> = (0..out.shape().numel())
        .map(|_| {
            let magnitude = 0.5 + rng.uniform() as f32;
            if rng.next() & 1 == 0 {
                magnitude
            } else {
                -magnitude
            }
        })
        .collect();
    if out.requires_grad() {
        out.backward_with(Tensor::from_vec(weights.clone(), out.shape()));
    }
    drop(out);
    let all: Vec<&Var> = vars.iter().chain(params).collect();
    let analytic: Vec<Tensor> = all
        .iter()
        .map(|v| v.grad().unwrap_or_else(|| Tensor::zeros(v.shape())))
        .collect();
    for (p, g) in params.iter().zip(old_grads) {
        p.set_grad(g);
    }

    // numeric: L(x ± h) for each element, without building graphs
    let loss = |xs: &[Tensor]| -> f64 {
        no_grad(|| {
            let vars: Vec<Var> = xs.iter().map(|t| Var::constant(t.clone())).collect();
            let y = f(&vars).value();
            assert_eq!(
                y.numel(),
                weights.len(),
                "gradcheck: the output's size changed between calls"
            );
            y.data()
                .iter()
                .zip(&weights)
                .map(|(&y, &w)| f64::from(y) * f64::from(w))
                .sum()
        })
    };
    let mut xs: Vec<Tensor> = inputs.to_vec();
    // write value `v` at element `j` of input or parameter `slot`
    let poke =
        |xs: &mut [Tensor], slot: usize, j: usize, v: f32| match slot.checked_sub(inputs.len()) {
            None => xs[slot].data_mut()[j] = v,
            Some(k) => params[k].update_value(|t| t.data_mut()[j] = v),
        };
    let (mut worst, mut failed, mut checked) = (None::<GradcheckError>, 0, 0);
    for (slot, var) in all.iter().enumerate() {
        let original = var.value();
        let n = original.numel();
        let elements: Vec<usize> = if n <= options.max_elements {
            (0..n).collect()
        } else {
            (0..options.max_elements)
                .map(|_| (rng.next() % n as u64) as usize)
                .collect()
        };
        for j in elements {
            let x = original.data()[j];
            let h = options.eps * x.abs().max(1.0);
            let (up, down) = (x + h, x - h);
            poke(&mut xs, slot, j, up);
            let l_up = loss(&xs);
            poke(&mut xs, slot, j, down);
            let l_down = loss(&xs);
            poke(&mut xs, slot, j, x);
            let numeric = ((l_up - l_down) / (f64::from(up) - f64::from(down))) as f32;
            let a = analytic[slot].data()[j];
            checked += 1;
            if let Some(err) = compare(a, numeric, options.tol) {
                failed += 1;
                if worst.as_ref().is_none_or(|w| worse(err, w.rel_error)) {
                    let what = match (slot.checked_sub(inputs.len()), var.name()) {
                        (None, _) => format!("input {slot} of shape {:?}", original.shape()),
                        (Some(k), None) => format!("parameter {k} of shape {:?}", original.shape()),
                        (Some(k), Some(name)) => {
                            format!("parameter {k} (`{name}`) of shape {:?}", original.shape())
                        }
                    };
                    worst = Some(GradcheckError {
                        input: slot,
                        shape: original.shape().clone(),
                        index: unravel(j, original.dims()),
                        analytic: a,
                        numeric,
                        rel_error: err,
                        tol: options.tol,
                        failed: 0,
                        checked: 0,
                        what,
                    });
                }
            }
        }
        if let Some(k) = slot.checked_sub(inputs.len()) {
            params[k].set_value(original); // the exact bits it had
        }
    }
    finish(worst, failed, checked)
}

/// Checks a scalar [`Pointwise`] rule at the points `xs`: `df` against central differences of
/// `f` in `x`, and `dparams` against central differences of `f` in each parameter (at the
/// parameters' current values). Following the measured scheme of the style guide: `f32`
/// differences with step `h = 3e-3·max(1, |x|)` and tolerance `1e-3·(1 + |f′|)` on
/// `|analytic − numeric|`.
///
/// At a kink (a point of `kinks`, where `f` is not differentiable, like ReLU at 0) a difference
/// quotient is meaningless, so a point within `2h` of a kink is replaced by the one-sided points
/// `kink − 2h` and `kink + 2h`; what `df` returns exactly at the kink is a convention, for the
/// caller to assert.
///
/// # Errors
/// A [`GradcheckError`] for the worst disagreement; `input` is 0 for `x` and `k + 1` for
/// parameter `k`, `index` is the position of the point in `xs`.
pub fn gradcheck_pointwise<P: Pointwise>(
    rule: &P,
    xs: &[f32],
    kinks: &[f32],
) -> Result<(), GradcheckError> {
    let p: Vec<f32> = rule.params().iter().map(|v| v.item()).collect();
    let (mut worst, mut failed, mut checked) = (None::<GradcheckError>, 0, 0);
    let mut dp = vec![0.0; p.len()];
    for (index, &x0) in xs.iter().enumerate() {
        let h = 3e-3 * x0.abs().max(1.0);
        let points: Vec<f32> = match kinks.iter().find(|&&k| (x0 - k).abs() < 2.0 * h) {
            Some(&k) => vec![k - 2.0 * h, k + 2.0 * h],
            None => vec![x0],
        };
        for x in points {
            // ∂f/∂x
            let numeric = (rule.f(x + h, &p) - rule.f(x - h, &p)) / ((x + h) - (x - h));
            let mut candidates = vec![(0, rule.df(x, &p), numeric, "x".to_string())];
            // ∂f/∂p_k
            dp.fill(0.0);
            rule.dparams(x, &p, &mut dp);
            for k in 0..p.len() {
                let hp = 3e-3 * p[k].abs().max(1.0);
                let (mut up, mut down) = (p.clone(), p.clone());
                up[k] += hp;
                down[k] -= hp;
                let numeric = (rule.f(x, &up) - rule.f(x, &down)) / (up[k] - down[k]);
                candidates.push((k + 1, dp[k], numeric, format!("parameter {k}")));
            }
            for (input, a, n, wrt) in candidates {
                checked += 1;
                let err = (a - n).abs();
                let tol = 1e-3 * (1.0 + a.abs());
                if worse(err, tol) {
                    failed += 1;
                    let rel = err / (1.0 + a.abs());
                    if worst.as_ref().is_none_or(|w| worse(rel, w.rel_error)) {
                        worst = Some(GradcheckError {
                            input,
                            shape: Shape::from([xs.len()]),
                            index: vec![index],
                            analytic: a,
                            numeric: n,
                            rel_error: rel,
                            tol: 1e-3,
                            failed: 0,
                            checked: 0,
                            what: format!("{}: ∂f/∂{wrt} at x = {x}", rule.name()),
                        });
                    }
                }
            }
        }
    }
    finish(worst, failed, checked)
}

/// Whether error `e` is beyond `limit` (NaN is beyond everything).
fn worse(e: f32, limit: f32) -> bool {
    e.is_nan() || e > limit
}

/// `Some(relative error)` when `a` and `n` disagree (NaN always disagrees).
fn compare(a: f32, n: f32, tol: f32) -> Option<f32> {
    let err = (a - n).abs() / 1f32.max(a.abs()).max(n.abs());
    worse(err, tol).then_some(err)
}

fn finish(
    worst: Option<GradcheckError>,
    failed: usize,
    checked: usize,
) -> Result<(), GradcheckError> {
    match worst {
        None => Ok(()),
        Some(e) => Err(GradcheckError {
            failed,
            checked,
            ..e
        }),
    }
}

fn unravel(mut flat: usize, dims: &[usize]) -> Vec<usize> {
    let mut index = vec![0; dims.len()];
    for (i, &d) in dims.iter().enumerate().rev() {
        index[i] = flat % d;
        flat /= d;
    }
    index
}

/// A tiny deterministic generator (SplitMix64), so the weighting never changes between versions.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Pseudo-random test data for the gradchecks of the ops, away from zero: values in
/// ±[0.2, 1.2), so kinks at 0 are at least 0.2 away.
#[cfg(test)]
pub(crate) fn test_tensor(shape: &[usize], seed: u64) -> Tensor {
    let mut rng = SplitMix(seed);
    let n = shape.iter().product();
    let data = (0..n)
        .map(|_| {
            let m = 0.2 + rng.uniform() as f32;
            if rng.next() & 1 == 0 {
                m
            } else {
                -m
            }
        })
        .collect();
    Tensor::from_vec(data, shape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Function;
    use crate::RuleParams;

    /// x², with a wrong derivative (3x instead of 2x) when `buggy`.
    struct Square {
        x: Option<Tensor>,
        buggy: bool,
    }

    impl Function for Square {
        fn name(&self) -> &'static str {
            "square"
        }
        fn forward(&mut self, inputs: &[&Tensor]) -> Tensor {
            self.x = Some(inputs[0].clone());
            inputs[0].map(|v| v * v)
        }
        fn backward(&self, grad: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
            let k = if self.buggy { 3.0 } else { 2.0 };
            vec![Some(grad * &self.x.as_ref().unwrap().mul_scalar(k))]
        }
    }

    fn square(buggy: bool) -> impl Fn(&[Var]) -> Var {
        move |v: &[Var]| Var::apply(Square { x: None, buggy }, &[&v[0]])
    }

    #[test]
    fn a_correct_gradient_passes() {
        gradcheck(square(false), &[test_tensor(&[2, 3], 1)], 1e-2, 1e-2).unwrap();
    }

    #[test]
    fn a_wrong_gradient_is_reported_with_its_worst_element() {
        let x = Tensor::from_vec(vec![0.2, -2.0, 0.1], [3]);
        let err = gradcheck(square(true), std::slice::from_ref(&x), 1e-3, 1e-2).unwrap_err();
        // analytic 3x·w vs numeric 2x·w (|w| in [0.5, 1.5)): the worst is element 1, where
        // rel = |6w − 4w| / |6w| = 1/3; elements 0 and 2 have rel = 0.2|w| and 0.1|w|, < 1/3
        assert_eq!(err.input, 0);
        assert_eq!(err.index, vec![1]);
        assert_eq!((err.failed, err.checked), (3, 3));
        assert!((err.analytic / err.numeric - 1.5).abs() < 1e-2, "{err}");
        assert!((err.rel_error - 1.0 / 3.0).abs() < 1e-2, "{err}");
        let text = err.to_string();
        assert!(text.contains("input 0 of shape [3] element [1]"), "{text}");
        assert!(text.contains("relative error"), "{text}");
    }

    #[test]
    fn inputs_that_do_not_matter_have_zero_gradient() {
        let f = |v: &[Var]| v[0].exp();
        gradcheck(f, &[test_tensor(&[3], 2), test_tensor(&[2], 3)], 1e-2, 1e-2).unwrap();
        // and a constant output: every gradient is zero
        let c = |_: &[Var]| Var::constant(Tensor::ones([2]));
        gradcheck(c, &[test_tensor(&[2], 4)], 1e-2, 1e-2).unwrap();
    }

    #[test]
    fn element_sampling_checks_at_most_max_elements() {
        let options = GradcheckOptions {
            max_elements: 4,
            ..GradcheckOptions::default()
        };
        let err = gradcheck_with(square(true), &[test_tensor(&[50], 5)], &options).unwrap_err();
        assert_eq!(err.checked, 4);
    }

    #[test]
    fn parameters_used_by_f_are_checked_and_restored() {
        let w = Var::parameter(Tensor::from_vec(vec![0.5, -1.5], [2])).named("w");
        w.set_grad(Some(Tensor::from_vec(vec![7.0, 7.0], [2])));
        let before = w.value();
        let good = |v: &[Var]| &v[0] * &w;
        let options = GradcheckOptions::default();
        gradcheck_params(
            good,
            &[test_tensor(&[3, 2], 1)],
            std::slice::from_ref(&w),
            &options,
        )
        .unwrap();
        assert_eq!(w.value().to_vec(), before.to_vec());
        assert_eq!(w.grad().unwrap().to_vec(), vec![7.0, 7.0]);
        // a parameter whose gradient is cut off (detached) is caught, and named
        let cut = |v: &[Var]| &v[0] * &w.detach();
        let err = gradcheck_params(
            cut,
            &[test_tensor(&[3, 2], 1)],
            std::slice::from_ref(&w),
            &options,
        )
        .unwrap_err();
        assert_eq!(err.input, 1);
        assert!(
            err.to_string().contains("parameter 0 (`w`) of shape [2]"),
            "{err}"
        );
        assert_eq!(w.value().to_vec(), before.to_vec());
    }

    #[test]
    fn nan_never_passes() {
        assert!(compare(f32::NAN, 1.0, 1e-2).is_some());
        assert!(compare(1.0, 1.0 + 1e-3, 1e-2).is_none());
        assert_eq!(compare(100.0, 101.0, 1e-3), Some(1.0 / 101.0));
    }

    #[test]
    fn unravel_row_major() {
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
        assert_eq!(unravel(0, &[]), Vec::<usize>::new());
    }

    #[derive(Clone)]
    struct Scaled {
        a: RuleParams<1>,
        wrong: bool,
    }

    impl Pointwise for Scaled {
        fn name(&self) -> &'static str {
            "scaled_tanh"
        }
        fn f(&self, x: f32, p: &[f32]) -> f32 {
            (p[0] * x).tanh()
        }
        fn df(&self, x: f32, p: &[f32]) -> f32 {
            let t = (p[0] * x).tanh();
            p[0] * (1.0 - t * t)
        }
        fn dparams(&self, x: f32, p: &[f32], dp: &mut [f32]) {
            let t = (p[0] * x).tanh();
            dp[0] = if self.wrong {
                1.0 - t * t
            } else {
                x * (1.0 - t * t)
            };
        }
        fn params(&self) -> &[Var] {
            &self.a
        }
    }

    #[test]
    fn pointwise_rules_are_checked_in_x_and_in_each_parameter() {
        let xs = [
            -100.0, -20.0, -5.0, -1.0, -0.1, 0.0, 0.1, 1.0, 5.0, 20.0, 100.0,
        ];
        let a = Var::parameter(Tensor::from_vec(vec![0.7], [1]));
        gradcheck_pointwise(
            &Scaled {
                a: [a.clone()].into(),
                wrong: false,
            },
            &xs,
            &[],
        )
        .unwrap();
        let err = gradcheck_pointwise(
            &Scaled {
                a: [a].into(),
                wrong: true,
            },
            &xs,
            &[],
        )
        .unwrap_err();
        assert_eq!(err.input, 1);
        assert!(
            err.to_string().contains("scaled_tanh: ∂f/∂parameter 0"),
            "{err}"
        );
    }

    #[derive(Clone)]
    struct Relu;

    impl Pointwise for Relu {
        fn name(&self) -> &'static str {
            "relu"
        }
        fn f(&self, x: f32, _: &[f32]) -> f32 {
            x.max(0.0)
        }
        fn df(&self, x: f32, _: &[f32]) -> f32 {
            if x > 0.0 {
                1.0
            } else {
                0.0
            }
        }
    }

    #[test]
    fn kinks_are_checked_from_both_sides() {
        let xs = [-1.0, 0.0, 1e-3, 1.0];
        // without declaring the kink, x = 0 and x = 1e-3 straddle it and fail
        assert!(gradcheck_pointwise(&Relu, &xs, &[]).is_err());
        gradcheck_pointwise(&Relu, &xs, &[0.0]).unwrap();
    }
}
