//! The PyTorch parity suite: every case of `tests/parity/parity.txt` (written by
//! `tests/parity/make_parity_fixtures.py` with PyTorch, in float64 from float32 inputs) is run
//! here through our tensor ops, `Var` ops, layers, losses and optimizers, and each output and
//! input gradient is compared with PyTorch's.
//!
//! Tolerances, per case class: `|ours − ref| ≤ rtol·|ref| + atol`, with
//! - `elem` (elementwise and shape ops): rtol 1e-5, atol 1e-6·rms(ref);
//! - `reduce` (reductions, softmax, matmul, convolution, pooling, losses, layer steps):
//!   rtol 1e-4, atol 1e-5·rms(ref) (an element that cancels to about 0 in a sum of many
//!   terms has an error of the size of the terms, not of itself);
//! - `edge` (activations at the extremes of float32): rtol 1e-5, atol 1e-6.
//!
//! NaN must match NaN and ±inf the same infinity. At the activation extremes the gradient is
//! compared where the input is finite, and at ±inf inputs only values where PyTorch's is not NaN
//! (its NaN there comes from ∞·0 in a formula whose limit exists, e.g. GELU(−∞) = −∞·Φ(−∞)).
//!
//! The per-activation values over −1e4 … 1e4 are in `nn/tests/activation_fixtures.rs`, the
//! optimizers' first five steps in `optim/tests/pytorch_fixtures.rs`; this suite adds what those
//! do not hold (see the script's header).

use std::collections::{HashMap, HashSet};

use autograd::Var;
use nn::activation::ActivationSpec;
use nn::loss::{
    binary_cross_entropy_with_logits, cross_entropy_with, mse_loss, nll_loss, Reduction,
};
use nn::{AvgPool2d, Conv2d, Conv2dConfig, Flatten, Linear, MaxPool2d, Module, PRelu, Sequential};
use optim::{clip_grad_norm, clip_grad_value, Adam, Optimizer, Sgd};
use tensor::{Conv2dParams, Pool2dParams, Tensor};

const FIXTURE: &str = include_str!("parity/parity.txt");

/// A tensor as the fixture gives it: dims and values (references kept in f64).
#[derive(Debug, Clone, Default)]
struct Data {
    dims: Vec<usize>,
    values: Vec<f64>,
}

impl Data {
    fn tensor(&self) -> Tensor {
        Tensor::from_vec(
            self.values.iter().map(|&v| v as f32).collect(),
            self.dims.as_slice(),
        )
    }
}

/// One `case … end` block.
#[derive(Debug, Default)]
struct Case {
    name: String,
    class: String,
    inputs: Vec<(String, Data)>,
    consts: Vec<(String, Data)>,
    outs: Vec<Data>,
    seed: Option<Data>,
    grads: Vec<(String, Data)>,
}

fn parse_data(words: &[&str]) -> Data {
    let dims = match words[0] {
        "-" => Vec::new(),
        d => d.split('x').map(|s| s.parse().expect("a size")).collect(),
    };
    let values = words[1..]
        .iter()
        .map(|w| {
            w.parse::<f64>()
                .unwrap_or_else(|_| panic!("not a number: {w}"))
        })
        .collect::<Vec<_>>();
    assert_eq!(
        values.len(),
        dims.iter().product::<usize>(),
        "fixture: {} values for dims {dims:?}",
        values.len()
    );
    Data { dims, values }
}

fn parse_fixture() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut case = Case::default();
    for line in FIXTURE.lines().filter(|l| !l.starts_with('#')) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[0] {
            "case" => {
                case.name = words[1].to_string();
                case.class = words[2].to_string();
            }
            "in" => case
                .inputs
                .push((words[1].to_string(), parse_data(&words[2..]))),
            "const" => case
                .consts
                .push((words[1].to_string(), parse_data(&words[2..]))),
            "out" => case.outs.push(parse_data(&words[2..])),
            "seed" => case.seed = Some(parse_data(&words[1..])),
            "grad" => case
                .grads
                .push((words[1].to_string(), parse_data(&words[2..]))),
            "end" => cases.push(std::mem::take(&mut case)),
            other => panic!("fixture: unknown line tag {other:?}"),
        }
    }
    cases
}

/// The inputs of one case: parameters (they get gradients) and constants.
struct Env {
    params: Vec<(String, Var)>,
    consts: HashMap<String, Tensor>,
}

impl Env {
    fn p(&self, name: &str) -> &Var {
        &self
            .params
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no input {name}"))
            .1
    }

    fn c(&self, name: &str) -> &Tensor {
        self.consts
            .get(name)
            .unwrap_or_else(|| panic!("no const {name}"))
    }

    fn indices(&self, name: &str) -> Vec<usize> {
        self.c(name).data().iter().map(|&v| v as usize).collect()
    }
}

fn constant(t: Tensor) -> Var {
    Var::constant(t)
}

fn conv(stride: (usize, usize), padding: (usize, usize), dilation: (usize, usize)) -> Conv2dParams {
    Conv2dParams {
        stride,
        padding,
        dilation,
    }
}

fn pool(kernel: (usize, usize), stride: (usize, usize), padding: (usize, usize)) -> Pool2dParams {
    Pool2dParams {
        kernel,
        stride,
        padding,
    }
}

/// A Linear layer holding the given weight and bias.
fn linear(w: &Var, b: &Var) -> Linear {
    let dims = w.dims();
    let layer = Linear::new(dims[1], dims[0], true, &mut tensor::rng(0));
    layer.weight.set_value(w.value());
    layer.bias.as_ref().unwrap().set_value(b.value());
    layer
}

/// The two-layer network of the `mlp_step` cases: Linear → activation → Linear.
fn mlp(e: &Env, act: &str) -> Sequential {
    Sequential::new()
        .push(linear(e.p("w1"), e.p("b1")))
        .push_boxed(ActivationSpec::parse(act).unwrap().build())
        .push(linear(e.p("w2"), e.p("b2")))
}

/// The network's parameters, in the fixture's order, sharing the fixture's input `Var`s'
/// gradients: the layers hold copies, so gradients are copied back after backward.
fn copy_grads_back(model: &dyn Module, e: &Env, names: &[&str]) {
    for ((_, p), name) in model.named_parameters().iter().zip(names) {
        e.p(name).set_grad(p.grad());
    }
}

fn reduction(name: &str) -> Reduction {
    if name.ends_with("_sum") {
        Reduction::Sum
    } else if name.ends_with("_none") {
        Reduction::None
    } else {
        Reduction::Mean
    }
}

/// Runs case `name` on its inputs. The first output is the one the seed gradient belongs to.
/// Returns `None` for a name this test does not know.
fn run(name: &str, e: &Env) -> Option<Vec<Var>> {
    let one = |v: Var| Some(vec![v]);
    let value = |t: Tensor| Some(vec![constant(t)]);
    let (a, b) = (|| e.p("a"), || e.p("b"));
    let x = || e.p("x");
    if let Some(spec) = name.strip_prefix("act:") {
        let layer = ActivationSpec::parse(spec).unwrap().build();
        layer.eval();
        return one(layer.forward(x()));
    }
    if let Some(act) = name.strip_prefix("mlp_step:") {
        let model = mlp(e, act);
        let loss = cross_entropy_with(
            &model.forward(&constant(e.c("x").clone())),
            e.c("t"),
            Reduction::Mean,
            0.0,
        );
        // backward here, on the model's own parameters, then hand the gradients to the inputs
        let out = loss.detach();
        loss.backward();
        copy_grads_back(&model, e, &["w1", "b1", "w2", "b2"]);
        return Some(vec![out]);
    }
    if let Some(opt) = name.strip_prefix("train_3_steps:") {
        return Some(train_3_steps(opt, e));
    }
    match name {
        // elementwise
        "add_broadcast" | "add_one_element" => one(a() + b()),
        "sub_broadcast" => one(a() - b()),
        "mul_broadcast" => one(a() * b()),
        "div_broadcast" => one(a() / b()),
        "pow" => one(a().pow(b())),
        "pow_scalar_2.5" => one(a().pow_scalar(2.5)),
        "pow_scalar_-1.5" => one(a().pow_scalar(-1.5)),
        "pow_scalar_0.5" => one(a().pow_scalar(0.5)),
        "pow_scalar_3_negative_base" => one(a().pow_scalar(3.0)),
        "add_scalar" => one(a().add_scalar(1.5)),
        "sub_scalar" => one(a().sub_scalar(0.25)),
        "mul_scalar" => one(a().mul_scalar(-2.5)),
        "div_scalar" => one(a().div_scalar(3.0)),
        "neg" => one(-a()),
        "exp" => one(a().exp()),
        "ln" => one(a().ln()),
        "sqrt" => one(a().sqrt()),
        "abs" => one(a().abs()),
        "maximum_with_ties" | "maximum_broadcast" => one(a().maximum(b())),
        "minimum_with_ties" => one(a().minimum(b())),
        "clamp_at_bounds" => one(a().clamp(-0.5, 0.5)),
        "mul_mask" => one(a().mul_mask(e.c("m"))),
        // reductions
        "sum_axis0" | "sum_empty_axis" => one(a().sum(0, false)),
        "sum_axis1" => one(a().sum(1, false)),
        "sum_axis2" => one(a().sum(2, false)),
        "sum_axis1_keepdim" => one(a().sum(1, true)),
        "sum_all" => one(a().sum_all()),
        "mean_axis2" => one(a().mean(2, false)),
        "mean_axis0_keepdim" => one(a().mean(0, true)),
        "mean_all" => one(a().mean_all()),
        "max_axis1" => one(a().max(1, false)),
        "max_axis2_keepdim" => one(a().max(2, true)),
        "min_axis0" => one(a().min(0, false)),
        "softmax_axis0" => one(a().softmax(0)),
        "softmax_axis1" | "softmax_large_logits" | "softmax_axis_of_one" => one(a().softmax(1)),
        "softmax_axis2" => one(a().softmax(2)),
        "log_softmax_axis0" => one(a().log_softmax(0)),
        "log_softmax_axis1" | "log_softmax_large_logits" => one(a().log_softmax(1)),
        "log_softmax_axis2" => one(a().log_softmax(2)),
        "var_axis1_unbiased" => value(a().value().var(1, true, false)),
        "var_axis0_biased" => value(a().value().var(0, false, false)),
        "var_all_unbiased" => value(Tensor::scalar(a().value().var_all(true))),
        "argmax_axis1" => value(a().value().argmax(1, false)),
        "argmin_axis2" => value(a().value().argmin(2, false)),
        // matrix products
        "matmul_2d"
        | "matmul_long_inner"
        | "matmul_vector_shapes"
        | "matmul_batched"
        | "matmul_batched_shared_rhs" => one(a().matmul(b())),
        "matmul_t_a" => one(a().matmul_t(b(), true, false)),
        "matmul_t_b" => one(a().matmul_t(b(), false, true)),
        "matmul_t_both" => one(a().matmul_t(b(), true, true)),
        "linear" => one(x().linear(e.p("w"), Some(e.p("b")))),
        "linear_no_bias" => one(x().linear(e.p("w"), None)),
        // convolution and pooling
        "conv2d" => one(x().conv2d(e.p("w"), Some(e.p("b")), &Conv2dParams::default())),
        "conv2d_stride_padding_dilation" => {
            one(x().conv2d(e.p("w"), Some(e.p("b")), &conv((2, 1), (1, 2), (2, 1))))
        }
        "conv2d_1x1_no_bias" => one(x().conv2d(e.p("w"), None, &Conv2dParams::default())),
        "conv2d_kernel_covers_input" => {
            one(x().conv2d(e.p("w"), Some(e.p("b")), &conv((1, 1), (1, 1), (1, 1))))
        }
        "max_pool2d_2" => one(x().max_pool2d(&Pool2dParams::new((2, 2)))),
        "max_pool2d_3_stride2_pad1" => one(x().max_pool2d(&pool((3, 3), (2, 2), (1, 1)))),
        "max_pool2d_2x3_stride1x2" => one(x().max_pool2d(&pool((2, 3), (1, 2), (0, 0)))),
        "avg_pool2d_2" => one(x().avg_pool2d(&Pool2dParams::new((2, 2)))),
        "avg_pool2d_3_stride2_pad1" => one(x().avg_pool2d(&pool((3, 3), (2, 2), (1, 1)))),
        "avg_pool2d_3x2_stride2x1" => one(x().avg_pool2d(&pool((3, 2), (2, 1), (0, 0)))),
        // shape ops
        "reshape" => one(a().reshape([4, 6])),
        "flatten_from1" => one(a().flatten_from(1)),
        "squeeze1" => one(a().squeeze(1)),
        "unsqueeze0" => one(a().unsqueeze(0)),
        "transpose02" => one(a().transpose(0, 2)),
        "permute201" => one(a().permute(&[2, 0, 1])),
        "concat_axis1" => one(Var::concat(&[a(), b(), e.p("c")], 1)),
        "stack_axis1" => one(Var::stack(&[a(), b(), e.p("c")], 1)),
        "narrow_axis1" => one(a().narrow(1, 1, 2)),
        "index_select_repeats" => one(a().index_select(0, &e.indices("i"))),
        "gather_axis1_repeats" => one(a().gather(1, e.c("i"))),
        "gather_axis0" => one(a().gather(0, e.c("i"))),
        // losses
        "cross_entropy_mean" | "cross_entropy_sum" | "cross_entropy_none" => {
            one(cross_entropy_with(x(), e.c("t"), reduction(name), 0.0))
        }
        "cross_entropy_label_smoothing_0.1" => {
            one(cross_entropy_with(x(), e.c("t"), Reduction::Mean, 0.1))
        }
        "cross_entropy_label_smoothing_0.2_sum" => {
            one(cross_entropy_with(x(), e.c("t"), Reduction::Sum, 0.2))
        }
        "cross_entropy_label_smoothing_1_none" => {
            one(cross_entropy_with(x(), e.c("t"), Reduction::None, 1.0))
        }
        "cross_entropy_large_logits" => {
            one(cross_entropy_with(x(), e.c("t"), Reduction::Mean, 0.0))
        }
        "nll_mean" | "nll_sum" | "nll_none" => one(nll_loss(x(), e.c("t"), reduction(name))),
        "mse_mean" | "mse_sum" | "mse_none" => one(mse_loss(a(), b(), reduction(name))),
        "bce_with_logits_mean" | "bce_with_logits_sum" | "bce_with_logits_none" => one(
            binary_cross_entropy_with_logits(x(), &constant(e.c("y").clone()), reduction(name)),
        ),
        // layer steps
        "cnn_step" | "cnn_step_avg_pool" => Some(cnn_step(name == "cnn_step", e)),
        // optimizers
        "clip_grad_norm_1" | "clip_grad_norm_100" => {
            let max_norm = if name.ends_with("_1") { 1.0 } else { 100.0 };
            let params = grads_as_params(e);
            let norm = clip_grad_norm(&params, max_norm);
            let mut outs: Vec<Var> = params.iter().map(|p| constant(p.grad().unwrap())).collect();
            outs.push(constant(Tensor::scalar(norm)));
            Some(outs)
        }
        "clip_grad_value_0.5" => {
            let params = grads_as_params(e);
            clip_grad_value(&params, 0.5);
            Some(params.iter().map(|p| constant(p.grad().unwrap())).collect())
        }
        _ => None,
    }
}

/// Zero parameters holding the fixture's gradients `g1`, `g2`.
fn grads_as_params(e: &Env) -> Vec<Var> {
    ["g1", "g2"]
        .iter()
        .map(|n| {
            let g = e.c(n).clone();
            let p = Var::parameter(Tensor::zeros(g.shape()));
            p.set_grad(Some(g));
            p
        })
        .collect()
}

/// Conv2d(1→3, 3×3, padding 1) → ReLU → MaxPool2d(2), or → Tanh → AvgPool2d(2) with label
/// smoothing 0.1, then Flatten → Linear(48→4) → cross-entropy; the loss, and the gradients
/// copied to the inputs.
fn cnn_step(max: bool, e: &Env) -> Vec<Var> {
    let mut config = Conv2dConfig::new(3);
    config.padding = (1, 1);
    let conv = Conv2d::with_config(1, 3, config, &mut tensor::rng(0));
    conv.weight.set_value(e.p("cw").value());
    conv.bias.as_ref().unwrap().set_value(e.p("cb").value());
    let model = if max {
        Sequential::new()
            .push(conv)
            .push_boxed(ActivationSpec::parse("relu").unwrap().build())
            .push(MaxPool2d::new(2))
    } else {
        Sequential::new()
            .push(conv)
            .push_boxed(ActivationSpec::parse("tanh").unwrap().build())
            .push(AvgPool2d::new(2))
    }
    .push(Flatten::new())
    .push(linear(e.p("w"), e.p("b")));
    let smoothing = if max { 0.0 } else { 0.1 };
    let logits = model.forward(&constant(e.c("x").clone()));
    let loss = cross_entropy_with(&logits, e.c("t"), Reduction::Mean, smoothing);
    let out = loss.detach();
    loss.backward();
    copy_grads_back(&model, e, &["cw", "cb", "w", "b"]);
    vec![out]
}

/// Three steps of Linear(4→6) → Tanh → Linear(6→3) → cross-entropy with SGD (momentum 0.9,
/// lr 0.1) or Adam (lr 0.01): the three losses, then the parameters.
fn train_3_steps(opt: &str, e: &Env) -> Vec<Var> {
    let model = Sequential::new()
        .push(linear(
            &constant(e.c("w1").clone()),
            &constant(e.c("b1").clone()),
        ))
        .push_boxed(ActivationSpec::parse("tanh").unwrap().build())
        .push(linear(
            &constant(e.c("w2").clone()),
            &constant(e.c("b2").clone()),
        ));
    let params = model.parameters();
    let mut optimizer: Box<dyn Optimizer> = match opt {
        "sgd_momentum" => Box::new(Sgd::new(params.clone(), 0.1).momentum(0.9)),
        "adam" => Box::new(Adam::new(params.clone(), 0.01)),
        other => panic!("unknown optimizer {other}"),
    };
    let x = constant(e.c("x").clone());
    let mut losses = Vec::new();
    for _ in 0..3 {
        optimizer.zero_grad();
        let loss = cross_entropy_with(&model.forward(&x), e.c("t"), Reduction::Mean, 0.0);
        losses.push(loss.item());
        loss.backward();
        optimizer.step();
    }
    let mut outs = vec![constant(Tensor::from_vec(losses, [3]))];
    outs.extend(params.iter().map(|p| constant(p.value())));
    outs
}

/// `(rtol, atol)` of a class, given the reference's root mean square.
fn tolerance(class: &str, rms: f64) -> (f64, f64) {
    match class {
        "elem" => (1e-5, 1e-6 * rms),
        "reduce" => (1e-4, 1e-5 * rms),
        "edge" => (1e-5, 1e-6),
        other => panic!("fixture: unknown tolerance class {other}"),
    }
}

/// Compares `ours` with `reference`; `skip(i)` leaves element `i` out.
fn compare(
    what: &str,
    class: &str,
    ours: &Tensor,
    reference: &Data,
    skip: &dyn Fn(usize, f64) -> bool,
    failures: &mut Vec<String>,
) -> usize {
    if ours.dims() != reference.dims.as_slice() {
        failures.push(format!(
            "{what}: shape {:?}, PyTorch {:?}",
            ours.dims(),
            reference.dims
        ));
        return 0;
    }
    let finite: Vec<f64> = reference
        .values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let rms = (finite.iter().map(|v| v * v).sum::<f64>() / finite.len().max(1) as f64).sqrt();
    let (rtol, atol) = tolerance(class, rms);
    let mut compared = 0;
    for (i, (&o, &r)) in ours.data().iter().zip(&reference.values).enumerate() {
        if skip(i, r) {
            continue;
        }
        compared += 1;
        let o = f64::from(o);
        let ok = if r.is_nan() {
            o.is_nan()
        } else if r.is_infinite() {
            o == r
        } else {
            o.is_finite() && (o - r).abs() <= rtol * r.abs() + atol
        };
        if !ok {
            failures.push(format!("{what}[{i}]: ours {o}, PyTorch {r}"));
        }
    }
    compared
}

/// Runs one case and returns its mismatches and how many numbers it compared (`None` if the
/// test has no code for it).
fn check_case(case: &Case) -> Option<(Vec<String>, usize)> {
    let env = Env {
        params: case
            .inputs
            .iter()
            .map(|(n, d)| (n.clone(), Var::parameter(d.tensor())))
            .collect(),
        consts: case
            .consts
            .iter()
            .map(|(n, d)| (n.clone(), d.tensor()))
            .collect(),
    };
    let outs = if case.name == "prelu_per_channel" {
        prelu_per_channel(&env, case)
    } else {
        run(&case.name, &env)?
    };
    let mut failures = Vec::new();
    if outs.len() != case.outs.len() {
        failures.push(format!(
            "{} outputs, PyTorch {}",
            outs.len(),
            case.outs.len()
        ));
        return Some((failures, 0));
    }
    let mut compared = 0;
    // At the activation extremes, the input point of element i (for the skip rules).
    let x_at = |i: usize| -> f64 {
        case.inputs
            .first()
            .map_or(0.0, |(_, d)| d.values.get(i).copied().unwrap_or(0.0))
    };
    let edge = case.class == "edge";
    let value_skip = |i: usize, r: f64| edge && x_at(i).is_infinite() && r.is_nan();
    for (k, (y, want)) in outs.iter().zip(&case.outs).enumerate() {
        compared += compare(
            &format!("y{k}"),
            &case.class,
            &y.value(),
            want,
            &value_skip,
            &mut failures,
        );
    }
    if let Some(seed) = &case.seed {
        let y = &outs[0];
        // layer steps and per-channel PReLU ran backward themselves
        if y.requires_grad() {
            y.backward_with(seed.tensor());
        }
        let grad_skip = |i: usize, _: f64| edge && !x_at(i).is_finite();
        for (name, want) in &case.grads {
            let got = env
                .p(name)
                .grad()
                .unwrap_or_else(|| Tensor::zeros(want.dims.as_slice()));
            compared += compare(
                &format!("∂/∂{name}"),
                &case.class,
                &got,
                want,
                &grad_skip,
                &mut failures,
            );
        }
    }
    Some((failures, compared))
}

/// Per-channel PReLU: the layer holds its own slopes, so the backward runs here and the
/// slopes' gradient is copied to the input `w`.
fn prelu_per_channel(e: &Env, case: &Case) -> Vec<Var> {
    let layer = PRelu::new(3, 0.0);
    layer.weight().set_value(e.p("w").value());
    let y = layer.forward(e.p("x"));
    let out = y.detach();
    y.backward_with(case.seed.as_ref().expect("a seed").tensor());
    e.p("w").set_grad(layer.weight().grad());
    vec![out]
}

#[test]
fn every_case_matches_pytorch() {
    let cases = parse_fixture();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut failures = Vec::new();
    let mut unknown = Vec::new();
    let mut names = HashSet::new();
    let mut compared = 0;
    for case in &cases {
        assert!(names.insert(case.name.clone()), "case {} twice", case.name);
        match check_case(case) {
            None => unknown.push(case.name.clone()),
            Some((f, n)) => {
                failures.extend(f.into_iter().map(|f| format!("{}: {f}", case.name)));
                compared += n;
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "cases without code in this test: {unknown:?}"
    );
    // every output and gradient of the fixture was compared (the skipped extremes aside)
    assert!(compared > 11_000, "only {compared} numbers compared");
    assert!(
        failures.is_empty(),
        "{} mismatches with PyTorch:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_activation_is_checked_at_the_extremes() {
    let checked: HashSet<&'static str> = parse_fixture()
        .iter()
        .filter_map(|c| c.name.strip_prefix("act:"))
        .map(|spec| ActivationSpec::parse(spec).unwrap().name())
        .collect();
    // activations that split their input in halves (GLU family) are covered by the ordinary
    // fixture only: their extremes are those of sigmoid, swish and gelu, checked here
    // (and those without a PyTorch counterpart, checked against their formula in f64 instead)
    let missing: Vec<&str> = nn::activation::all()
        .iter()
        .filter(|e| e.pytorch_fixture)
        .map(|e| e.name)
        .filter(|n| !checked.contains(n) && !["glu", "swiglu", "geglu"].contains(n))
        .collect();
    assert!(missing.is_empty(), "no extreme-value case for {missing:?}");
}
