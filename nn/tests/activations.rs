//! Registry-wide tests: every entry of `nn::activation::REGISTRY` is checked here without a line
//! of its own, so a new activation is covered by registering it.
//!
//! - **gradcheck**: the input gradient (and, for every learnable parameter, the parameter
//!   gradient) against central differences, at the style guide's points −100 … 100 and at
//!   random points, in training and in evaluation mode, for the entry's default spec and for
//!   the spec with every parameter switched to `learnable`;
//! - **finite**: no NaN or ∞ in value or gradient at −1e4, −100, −20, −1, 0, 1, 20, 100, 1e4;
//! - **kinks**: at each `Entry::kinks` point the derivative is one of the one-sided
//!   derivatives (which one is PyTorch's convention, checked in `activation_fixtures.rs`);
//! - **fused vs composed**: the fused kernel agrees with the same formula composed from `Var`
//!   ops, for mish, swish, gelu (tanh form), softplus and elu.
//!
//! The differences use `f32` like the layers, so the step and tolerance follow the style guide:
//! a power-of-two step near `3e-3·max(1, |x|)` (exact in `f32`), the five-point stencil, and
//! `|analytic − numeric| ≤ 1e-3·(1 + |analytic|)`. A rule with fine structure at large |x|
//! (Snake's ripple of period π/α) needs a smaller step there, so a point passes if one of three
//! steps (`3e-3`, `1e-3`, `3e-4`, relative) agrees; a wrong derivative agrees with none.

use autograd::{no_grad, Var};
use nn::activation::{self, ActivationSpec, Entry};
use nn::{learnable, ActivationExt, Elu, LeakyRelu, Module, Sigmoid};
use tensor::Tensor;

/// The style guide's points (section 3.5).
const EDGE: [f32; 11] = [
    -100.0, -20.0, -5.0, -1.0, -0.1, 0.0, 0.1, 1.0, 5.0, 20.0, 100.0,
];

/// The finiteness points, padded to an even count (the gated entries halve the last axis).
const FINITE: [f32; 10] = [-1e4, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e4, 0.5];

/// Relative steps tried in turn.
const STEPS: [f32; 3] = [3e-3, 1e-3, 3e-4];

/// The largest power of two not above `rel·max(1, |x|)`: `x ± h`, `x ± 2h` are exact in `f32`.
fn step(x: f32, rel: f32) -> f32 {
    let h = rel * x.abs().max(1.0);
    2f32.powi(h.log2().floor() as i32)
}

/// The default spec of every entry, plus — if it has parameters that can learn — the spec with
/// all of them switched (`learnable`, or `fixed` for those that learn by default).
fn variants(entry: &Entry) -> Vec<ActivationSpec> {
    let example = entry.example();
    let mut specs = vec![example.clone()];
    if entry.learnable_args().next().is_some() {
        let sep = if example.contains(':') { ',' } else { ':' };
        specs.push(format!("{example}{sep}learnable"));
        specs.push(format!("{example}{sep}fixed"));
    }
    specs.dedup();
    specs
        .iter()
        .map(|s| ActivationSpec::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
        .collect()
}

/// A layer identical to every other one made by this function from `act` (same parameters,
/// same seed), in the given mode.
fn fresh(act: &ActivationSpec, training: bool) -> Box<dyn Module> {
    let layer = (act.entry().build)(act.args()).expect("spec was checked");
    if training {
        layer.train();
    } else {
        layer.eval();
    }
    layer
}

/// Σ wₖ·(aₖ − bₖ) in `f64`: only the outputs that differ contribute, exactly.
fn weighted_diff(w: &[f32], a: &Tensor, b: &Tensor) -> f64 {
    w.iter()
        .zip(a.data().iter().zip(b.data()))
        .map(|(&w, (&a, &b))| f64::from(w) * (f64::from(a) - f64::from(b)))
        .sum()
}

/// Five-point central difference of `L(t) = Σ w·y(t)` at `t0` with step `h`, where `eval`
/// gives the output for a value of the perturbed quantity.
fn five_point(w: &[f32], t0: f32, h: f32, eval: &dyn Fn(f32) -> Tensor) -> f64 {
    let (p1, m1) = (eval(t0 + h), eval(t0 - h));
    let (p2, m2) = (eval(t0 + 2.0 * h), eval(t0 - 2.0 * h));
    (8.0 * weighted_diff(w, &p1, &m1) - weighted_diff(w, &p2, &m2)) / (12.0 * f64::from(h))
}

/// `None` if some step agrees with `analytic`, else a description of the best attempt.
fn agree(analytic: f32, t0: f32, w: &[f32], eval: &dyn Fn(f32) -> Tensor) -> Option<String> {
    let tol = 1e-3 * (1.0 + f64::from(analytic).abs());
    let mut best = f64::INFINITY;
    for rel in STEPS {
        let numeric = five_point(w, t0, step(t0, rel), eval);
        let err = (f64::from(analytic) - numeric).abs();
        if err <= tol && analytic.is_finite() {
            return None;
        }
        if err < best || best.is_nan() {
            best = err;
        }
        if rel == STEPS[0] {
            best = err;
        }
    }
    let numeric = five_point(w, t0, step(t0, STEPS[0]), eval);
    Some(format!(
        "analytic {analytic}, numeric {numeric:.7} (best error {best:.2e}, tolerance {tol:.2e})"
    ))
}

/// The test points: the edge points and `n_random` uniform ones in [−6, 6), with every point
/// within reach of a kink replaced by the two points `kink ± 3h` (so that the stencil, of
/// radius 2h, stays on one side).
fn points(kinks: &[f32], n_random: usize, seed: u64) -> Vec<f32> {
    let mut rng = tensor::rng(seed);
    let random = Tensor::uniform([n_random], -6.0, 6.0, &mut rng).to_vec();
    let mut out = Vec::new();
    for x in EDGE.iter().copied().chain(random) {
        let h = step(x, STEPS[0]);
        match kinks.iter().find(|&&k| (x - k).abs() < 4.0 * h) {
            Some(&k) => {
                let hk = step(k, STEPS[0]);
                out.push(k - 3.0 * hk);
                out.push(k + 3.0 * hk);
            }
            None => out.push(x),
        }
    }
    if out.len() % 2 == 1 {
        out.push(0.75);
    }
    out
}

/// Pseudo-random upstream weights in ±[0.5, 1.5), so that swapped outputs would show.
fn weights(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = tensor::rng(seed);
    let u = Tensor::uniform([n], 0.5, 1.5, &mut rng).to_vec();
    u.iter()
        .enumerate()
        .map(|(i, &v)| if i % 3 == 1 { -v } else { v })
        .collect()
}

#[test]
fn every_activation_passes_gradcheck_in_train_and_eval() {
    let mut failures = Vec::new();
    let mut checked = 0usize;
    for (e, entry) in activation::all().iter().enumerate() {
        for act in variants(entry) {
            for training in [true, false] {
                let mode = if training { "train" } else { "eval" };
                let xs = points(entry.kinks, 17, 100 + e as u64);
                let shape = [2, xs.len() / 2];
                let x0 = Tensor::from_vec(xs.clone(), shape);

                // analytic ∂L/∂x, L = Σ w·y
                let layer = fresh(&act, training);
                let x = Var::parameter(x0.clone());
                let y = layer.forward(&x);
                let w = weights(y.value().numel(), 7 + e as u64);
                y.backward_with(Tensor::from_vec(w.clone(), y.value().dims()));
                let gx = x.grad().expect("x gets a gradient").to_vec();

                for (i, &xi) in xs.iter().enumerate() {
                    let eval = |t: f32| {
                        let mut v = xs.clone();
                        v[i] = t;
                        let layer = fresh(&act, training);
                        no_grad(|| {
                            layer
                                .forward(&Var::constant(Tensor::from_vec(v, shape)))
                                .value()
                        })
                    };
                    checked += 1;
                    if let Some(why) = agree(gx[i], xi, &w, &eval) {
                        failures.push(format!("{act} [{mode}] ∂/∂x at x = {xi}: {why}"));
                    }
                }

                // analytic ∂f/∂p for each learnable parameter, point by point
                let names: Vec<String> = fresh(&act, training)
                    .named_parameters()
                    .into_iter()
                    .map(|(n, _)| n)
                    .collect();
                for name in &names {
                    for &xi in &xs {
                        let layer = fresh(&act, training);
                        let params = layer.named_parameters();
                        let p = &params.iter().find(|(n, _)| n == name).unwrap().1;
                        let p0 = p.value().item();
                        let y = layer.forward(&Var::constant(Tensor::from_vec(vec![xi], [1])));
                        y.backward_with(Tensor::ones([1]));
                        let analytic = p.grad().map_or(0.0, |g| g.item());
                        let eval = |t: f32| {
                            let layer = fresh(&act, training);
                            let params = layer.named_parameters();
                            let p = &params.iter().find(|(n, _)| n == name).unwrap().1;
                            p.set_value(Tensor::from_vec(vec![t], [1]));
                            no_grad(|| {
                                layer
                                    .forward(&Var::constant(Tensor::from_vec(vec![xi], [1])))
                                    .value()
                            })
                        };
                        checked += 1;
                        if let Some(why) = agree(analytic, p0, &[1.0], &eval) {
                            failures.push(format!("{act} [{mode}] ∂/∂{name} at x = {xi}: {why}"));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} gradients disagree with finite differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 3000, "only {checked} gradients checked");
}

#[test]
fn every_activation_is_finite_at_extreme_inputs() {
    let mut failures = Vec::new();
    for entry in activation::all() {
        for act in variants(entry) {
            for training in [true, false] {
                let layer = fresh(&act, training);
                let x = Var::parameter(Tensor::from_vec(FINITE.to_vec(), [1, FINITE.len()]));
                let y = layer.forward(&x);
                let n = y.value().numel();
                y.backward_with(Tensor::from_vec(weights(n, 3), y.value().dims()));
                let mut report = |what: &str, t: &Tensor| {
                    if !t.all_finite() {
                        failures.push(format!("{act} [train={training}] {what}: {:?}", t.to_vec()));
                    }
                };
                report("value", &y.value());
                report("∂/∂x", &x.grad().expect("x gets a gradient"));
                for (name, p) in layer.named_parameters() {
                    report(
                        &format!("∂/∂{name}"),
                        &p.grad().expect("a learnable parameter gets a gradient"),
                    );
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "non-finite results at {FINITE:?}:\n{}",
        failures.join("\n")
    );
}

#[test]
fn at_every_kink_the_derivative_is_a_one_sided_one() {
    let mut checked = 0;
    for entry in activation::all() {
        let layer = fresh(&ActivationSpec::with_defaults(entry), false);
        for &k in entry.kinks {
            let d = 1e-3 * k.abs().max(1.0);
            let x = Var::parameter(Tensor::from_vec(vec![k - d, k, k + d, 0.0], [2, 2]));
            layer.forward(&x).sum_all().backward();
            let g = x.grad().unwrap().to_vec();
            let (left, at, right) = (g[0], g[1], g[2]);
            let near = |a: f32, b: f32| (a - b).abs() <= 1e-2 * (1.0 + b.abs());
            assert!(
                near(at, left) || near(at, right),
                "{}: f′({k}) = {at} is neither the left ({left}) nor the right ({right}) derivative",
                entry.name
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} kinks");
}

/// The same formula composed from `Var` ops (backward for free) must agree with the fused rule.
#[test]
fn fused_kernels_agree_with_composed_var_ops() {
    let mut rng = tensor::rng(11);
    // Away from 0 (where the composed ELU's two clamps both pass the gradient) and moderate, so
    // that the naive compositions do not overflow.
    let xs: Vec<f32> = Tensor::uniform([64], -8.0, 8.0, &mut rng)
        .to_vec()
        .into_iter()
        .map(|v| if v.abs() < 0.05 { v + 0.1 } else { v })
        .collect();
    let n = xs.len();
    let softplus = |x: &Var, beta: f32| -> Var {
        // ln(1 + e^(βx))/β, stably: max(βx, 0) + ln(1 + e^(−|βx|))
        let z = x.mul_scalar(beta);
        (&z.clamp(0.0, f32::INFINITY) + &z.abs().neg().exp().add_scalar(1.0).ln()).div_scalar(beta)
    };
    let sigmoid = |z: &Var| z.neg().exp().add_scalar(1.0).pow_scalar(-1.0);
    let tanh = |z: &Var| {
        // (1 − e^(−2z))/(1 + e^(−2z)) for z ≥ 0, odd extension through |z| and a sign mask
        let e = z.abs().mul_scalar(-2.0).exp();
        let t = &e.neg().add_scalar(1.0) / &e.add_scalar(1.0);
        t.mul_mask(&z.value().map(|v| if v < 0.0 { -1.0 } else { 1.0 }))
    };
    type Pair = (
        &'static str,
        Box<dyn Fn(&Var) -> Var>,
        Box<dyn Fn(&Var) -> Var>,
    );
    let pairs: Vec<Pair> = vec![
        (
            "mish",
            Box::new(|x: &Var| x.mish()),
            Box::new(move |x: &Var| x * &tanh(&softplus(x, 1.0))),
        ),
        (
            "swish:1.7",
            Box::new(|x: &Var| x.swish(1.7)),
            Box::new(move |x: &Var| x * &sigmoid(&x.mul_scalar(1.7))),
        ),
        (
            "gelu (tanh)",
            Box::new(|x: &Var| x.gelu_tanh()),
            Box::new(move |x: &Var| {
                let inner = (x + &x.pow_scalar(3.0).mul_scalar(0.044_715)).mul_scalar(0.797_884_6);
                (x * &tanh(&inner).add_scalar(1.0)).mul_scalar(0.5)
            }),
        ),
        (
            "softplus:2",
            Box::new(|x: &Var| nn::functional::softplus(x, 2.0, 20.0)),
            Box::new(move |x: &Var| softplus(x, 2.0)),
        ),
        (
            "elu:0.7",
            Box::new(|x: &Var| x.elu(0.7)),
            Box::new(|x: &Var| {
                let neg = x
                    .clamp(f32::NEG_INFINITY, 0.0)
                    .exp()
                    .add_scalar(-1.0)
                    .mul_scalar(0.7);
                &x.clamp(0.0, f32::INFINITY) + &neg
            }),
        ),
    ];
    for (name, fused, composed) in &pairs {
        let (a, b) = (
            Var::parameter(Tensor::from_vec(xs.clone(), [n])),
            Var::parameter(Tensor::from_vec(xs.clone(), [n])),
        );
        let (ya, yb) = (fused(&a), composed(&b));
        // one node: the fused op, not a chain
        assert!(
            ya.op_name().is_some_and(|op| !op.contains("mul")),
            "{name}: {:?}",
            ya.op_name()
        );
        let w = Tensor::from_vec(weights(n, 5), [n]);
        ya.backward_with(w.clone());
        yb.backward_with(w);
        for (what, p, q) in [
            ("value", ya.value(), yb.value()),
            ("gradient", a.grad().unwrap(), b.grad().unwrap()),
        ] {
            for ((&p, &q), x) in p.data().iter().zip(q.data()).zip(&xs) {
                assert!(
                    (p - q).abs() <= 2e-5 * (1.0 + q.abs()),
                    "{name}: {what} at x = {x}: fused {p}, composed {q}"
                );
            }
        }
    }
}

#[test]
fn every_entry_builds_a_describable_layer() {
    for entry in activation::all() {
        let layer = ActivationSpec::with_defaults(entry).build();
        let d = layer.describe();
        assert!(d.ends_with(')') && d.contains('('), "{}: {d}", entry.name);
    }
    let act = ActivationSpec::parse("elu:alpha=0.5,learnable").unwrap();
    assert_eq!(act.build().describe(), "ELU(alpha=0.5 (learnable))");
    assert_eq!(
        ActivationSpec::parse("gelu:tanh")
            .unwrap()
            .build()
            .describe(),
        "GELU(approximate='tanh')"
    );
    assert_eq!(
        ActivationSpec::parse("softshrink")
            .unwrap()
            .build()
            .describe(),
        "Softshrink(0.5)"
    );
}

/// The three ways to use an activation give the same numbers, and a learnable parameter inside
/// a `Sequential` is named, trained, and reported.
#[test]
fn layer_function_and_name_agree_and_parameters_train() {
    let x = Var::constant(Tensor::from_vec(vec![-3.0, -0.5, 0.0, 0.7, 4.0], [1, 5]));
    let by_layer = nn::Mish.forward(&x).value();
    let by_function = nn::functional::mish(&x).value();
    let by_method = x.mish().value();
    let by_name = ActivationSpec::parse("mish")
        .unwrap()
        .build()
        .forward(&x)
        .value();
    assert_eq!(by_layer, by_function);
    assert_eq!(by_layer, by_method);
    assert_eq!(by_layer, by_name);

    let mut rng = tensor::rng(0);
    let act = ActivationSpec::parse("elu:alpha=learnable").unwrap();
    let model = nn::Sequential::new()
        .push(nn::Linear::new(5, 3, true, &mut rng))
        .push_boxed(act.build())
        .push(nn::Linear::new(3, 1, true, &mut rng))
        .push(nn::Snake::default());
    let names: Vec<String> = model
        .named_parameters()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        ["0.weight", "0.bias", "1.alpha", "2.weight", "2.bias", "3.alpha"]
    );
    let alpha = model.named_parameters()[2].1.clone();
    let before = alpha.item();
    // one step of plain gradient descent on (y − 1)²
    let y = model.forward(&x);
    let loss = (&y.add_scalar(-1.0) * &y.add_scalar(-1.0)).sum_all();
    loss.backward();
    for p in model.parameters() {
        let g = p.grad().expect("every parameter gets a gradient");
        assert!(g.all_finite());
        p.update_value(|v| v.add_scaled_(&g, -0.1));
    }
    assert_ne!(alpha.item(), before, "ELU's alpha did not move");
    let printed = format!("{model}");
    assert!(printed.contains("(1): ELU(alpha="), "{printed}");
    assert!(printed.contains("(learnable)"), "{printed}");
}

// The blanket `Module` impl of `PointwiseLayer` (activation/layer.rs), through three rules.

#[test]
fn pointwise_layers_list_only_learnable_params() {
    let fixed = LeakyRelu::new(0.1);
    assert!(fixed.named_parameters().is_empty());
    assert_eq!(fixed.describe(), "LeakyReLU(negative_slope=0.1)");
    let learns = Elu::new(learnable(0.5));
    let named = learns.named_parameters();
    assert_eq!(named.len(), 1);
    assert_eq!(named[0].0, "alpha");
    assert_eq!(learns.describe(), "ELU(alpha=0.5 (learnable))");
}

#[test]
fn pointwise_layers_are_activations_with_their_df() {
    let x = Tensor::from_vec(vec![-2.0, 0.5], [1, 2]);
    let leaky = LeakyRelu::new(0.1);
    assert!(leaky.is_activation());
    assert_eq!(leaky.derivative(&x).unwrap().to_vec(), vec![0.1, 1.0]);
    let d = Sigmoid.derivative(&x).unwrap();
    assert_eq!(d.dims(), [1, 2]);
    let s = 1.0 / (1.0 + 2f32.exp());
    assert!((d.data()[0] - s * (1.0 - s)).abs() < 1e-7);
}

#[test]
fn a_learnable_parameter_trains() {
    // ∂/∂α Σ elu(x) at x = [-1, -2, 3] is Σ_{x≤0} (eˣ − 1).
    let elu = Elu::new(learnable(1.0));
    let x = Var::constant(Tensor::from_vec(vec![-1.0, -2.0, 3.0], [3]));
    elu.forward(&x).sum_all().backward();
    let g = elu.parameters()[0].grad().unwrap().item();
    let want = ((-1f32).exp() - 1.0) + ((-2f32).exp() - 1.0);
    assert!((g - want).abs() < 1e-6, "{g} vs {want}");
}
