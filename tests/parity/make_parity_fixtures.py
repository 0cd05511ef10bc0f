"""Writes parity.txt: PyTorch's outputs and gradients for minidl's tensor ops, losses, layers and
training steps, on fixed inputs. tests/parity.rs runs the same computations and compares.

    python tests/parity/make_parity_fixtures.py      (needs torch and numpy; writes next to itself)

What is covered here, and what lives in the older fixtures this suite builds on:
- here: elementwise ops with broadcasting, reductions, softmax / log-softmax, matmul (2-D,
  batched, shared right side, transposed operands, linear), conv2d (stride, padding, dilation),
  max / average pooling, shape ops, gather, every loss and reduction, label smoothing, one
  Linear+activation+loss step and one Conv2d+pool step (all parameter gradients), gradient
  clipping, two short end-to-end training runs (network gradients into SGD and Adam), and every
  activation at the extremes of float32 (±inf, NaN, ±3e38, the exp overflow edge ±88.7, tiny
  and subnormal numbers, −0) plus per-channel PReLU and the softmax family with −inf entries;
- nn/tests/fixtures/activations.txt: every registered activation at −1e4 … 1e4 and its kinks,
  values, input gradients and learnable-parameter gradients (this script imports its list of
  activation specs, so a new activation there is checked here at the extremes too);
- optim/tests/fixtures/optim_first_steps.json: the first five steps of every optimizer and
  option set against PyTorch.

References are computed in float64 from inputs that are exactly representable in float32, so
they are the true values (not PyTorch's float32 rounding). At the activation extremes they are
then rounded to float32, so that a result beyond float32's range is ±inf, as our kernels give;
PyTorch's own float32 kernels overflow early in places (its float32 gelu(3e38) is inf, from
x·(1 + erf(..)) before the halving), which is not a behaviour to copy. The two training runs
are float32 end to end, as the optimizers' state is float32 on both sides.

File format, one case per block:
    case <name> <tolerance class>      elem | reduce | edge (tests/parity.rs gives the numbers)
    in <name> <dims> <values>          an input that gets a gradient
    const <name> <dims> <values>       an input that does not (indices, targets, data)
    out <name> <dims> <values>         an output (outputs come in the order the test returns them)
    seed <dims> <values>               the upstream gradient w of the first output (backward of Σ w·y)
    grad <name> <dims> <values>        ∂(Σ w·y)/∂input
    end
<dims> is 2x3x4, or - for a 0-dimensional tensor. Values are float32 shortest round-trip forms
(inputs) or 9 significant digits (references); nan / inf / -inf are written as such.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "nn", "tests", "fixtures"))
import make_activation_fixtures as acts  # noqa: E402  (the activation specs, shared)

D = torch.float64
GEN = torch.Generator().manual_seed(20240901)
LINES = []


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------

def f32(t):
    """Rounded to float32, held as float64."""
    return torch.as_tensor(t, dtype=torch.float32).to(D)


def rand(*shape, lo=-2.0, hi=2.0):
    """Uniform in [lo, hi), rounded to 3 decimals, then to float32 (short lines, exact inputs)."""
    x = torch.rand(shape, generator=GEN, dtype=D) * (hi - lo) + lo
    return f32(torch.round(x * 1000) / 1000)


def distinct(*shape, lo=-2.0, hi=2.0):
    """Values without ties (max and pooling gradients go to a single element)."""
    n = int(np.prod(shape))
    grid = torch.linspace(lo, hi, n, dtype=D)
    return f32(torch.round(grid[torch.randperm(n, generator=GEN)] * 1000) / 1000).reshape(shape)


def away_from_zero(*shape, lo=0.5, hi=2.0):
    """|x| in [lo, hi), random sign (divisors)."""
    sign = torch.where(torch.rand(shape, generator=GEN) < 0.5, -1.0, 1.0).to(D)
    return sign * rand(*shape, lo=lo, hi=hi)


def labels(n, classes):
    return torch.randint(0, classes, (n,), generator=GEN).to(D)


# ---------------------------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------------------------

def dims(t):
    return "x".join(str(d) for d in t.shape) if t.dim() > 0 else "-"


def exact(v):
    """The shortest text that reads back as the same float32."""
    s = str(np.float32(v))
    return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(s, s)


def ref(v):
    return "%.9g" % v


def tline(tag, name, t, fmt):
    values = " ".join(fmt(float(v)) for v in t.detach().flatten())
    head = f"{tag} {name} {dims(t)}" if name else f"{tag} {dims(t)}"
    return f"{head} {values}".rstrip()


def case(name, tol, fn, inputs, consts=None, grad=True, seed=None, round_to_f32=False):
    """Runs fn(**inputs, **consts) in PyTorch (float64) and records inputs, outputs and gradients.

    fn returns a tensor or a tuple of tensors; the gradient is that of Σ seed·(first output),
    with a random float32 seed unless one is given. With round_to_f32 the references are the
    float64 results rounded to float32 (what a correctly rounded float32 kernel returns:
    overflow to ±inf included)."""
    r = (lambda t: t.float().double()) if round_to_f32 else (lambda t: t)
    assert all(name != c.split()[1] for c in LINES if c.startswith("case ")), name
    consts = consts or {}
    xs = {k: v.clone().to(D).requires_grad_(grad) for k, v in inputs.items()}
    cs = {k: v.clone().to(D) for k, v in consts.items()}
    outs = fn(**xs, **cs)
    outs = outs if isinstance(outs, tuple) else (outs,)
    LINES.append(f"case {name} {tol}")
    for k, v in inputs.items():
        LINES.append(tline("in", k, v, exact))
    for k, v in consts.items():
        LINES.append(tline("const", k, v, exact))
    for i, y in enumerate(outs):
        LINES.append(tline("out", f"y{i}", r(y), ref))
    if grad and inputs:
        y = outs[0]
        w = seed if seed is not None else rand(*y.shape, lo=-1.0, hi=1.0)
        LINES.append(tline("seed", None, w, exact))
        gs = torch.autograd.grad(y, list(xs.values()), grad_outputs=w.to(D), allow_unused=True)
        for (k, x), g in zip(xs.items(), gs):
            LINES.append(tline("grad", k, r(g if g is not None else torch.zeros_like(x)), ref))
    LINES.append("end")


# ---------------------------------------------------------------------------------------------
# tensor ops
# ---------------------------------------------------------------------------------------------

def elementwise():
    case("add_broadcast", "elem", lambda a, b: a + b, {"a": rand(2, 3, 4), "b": rand(3, 1)})
    case("sub_broadcast", "elem", lambda a, b: a - b, {"a": rand(2, 3, 1), "b": rand(4)})
    case("mul_broadcast", "elem", lambda a, b: a * b, {"a": rand(2, 1, 4), "b": rand(3, 1)})
    case("div_broadcast", "elem", lambda a, b: a / b, {"a": rand(2, 3), "b": away_from_zero(3)})
    case("add_one_element", "elem", lambda a, b: a + b, {"a": rand(2, 3), "b": rand(1)})
    case("pow", "elem", lambda a, b: a ** b, {"a": rand(2, 5, lo=0.1, hi=3.0), "b": rand(2, 5)})
    case("pow_scalar_2.5", "elem", lambda a: a ** 2.5, {"a": rand(7, lo=0.1, hi=3.0)})
    case("pow_scalar_-1.5", "elem", lambda a: a ** -1.5, {"a": rand(7, lo=0.1, hi=3.0)})
    case("pow_scalar_0.5", "elem", lambda a: a ** 0.5, {"a": rand(7, lo=0.1, hi=3.0)})
    case("pow_scalar_3_negative_base", "elem", lambda a: a ** 3, {"a": rand(7)})
    case("add_scalar", "elem", lambda a: a + 1.5, {"a": rand(2, 3)})
    case("sub_scalar", "elem", lambda a: a - 0.25, {"a": rand(2, 3)})
    case("mul_scalar", "elem", lambda a: a * -2.5, {"a": rand(2, 3)})
    case("div_scalar", "elem", lambda a: a / 3.0, {"a": rand(2, 3)})
    case("neg", "elem", lambda a: -a, {"a": rand(2, 3)})
    case("exp", "elem", lambda a: torch.exp(a), {"a": f32([-80.0, -10.0, -1.0, 0.0, 0.5, 3.0, 10.0, 80.0])})
    case("ln", "elem", lambda a: torch.log(a), {"a": f32([1e-30, 1e-3, 0.5, 1.0, 2.0, 1e3, 1e30])})
    case("sqrt", "elem", lambda a: torch.sqrt(a), {"a": f32([1e-20, 0.01, 0.5, 1.0, 2.0, 1e4])})
    # abs'(0) = 0 (the sign function), as PyTorch
    case("abs", "elem", lambda a: torch.abs(a), {"a": f32([-2.0, -0.5, 0.0, 0.5, 2.0])})
    # at a tie PyTorch splits the gradient evenly between the two sides
    case("maximum_with_ties", "elem", lambda a, b: torch.maximum(a, b),
         {"a": f32([1.0, -2.0, 0.5, 3.0, 0.0]), "b": f32([0.5, -2.0, 0.75, 3.0, -1.0])})
    case("minimum_with_ties", "elem", lambda a, b: torch.minimum(a, b),
         {"a": f32([1.0, -2.0, 0.5, 3.0, 0.0]), "b": f32([0.5, -2.0, 0.75, 3.0, -1.0])})
    case("maximum_broadcast", "elem", lambda a, b: torch.maximum(a, b), {"a": rand(2, 3), "b": rand(3)})
    # clamp passes the gradient at the bounds themselves (min <= x <= max)
    case("clamp_at_bounds", "elem", lambda a: torch.clamp(a, -0.5, 0.5),
         {"a": f32([-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0])})
    case("mul_mask", "elem", lambda a, m: a * m, {"a": rand(2, 4)},
         {"m": f32([[0.0, 2.0, 2.0, 0.0], [2.0, 0.0, 2.0, 2.0]])})


def reductions():
    x = rand(2, 3, 4)
    for axis in range(3):
        case(f"sum_axis{axis}", "reduce", lambda a, axis=axis: a.sum(axis), {"a": x})
    case("sum_axis1_keepdim", "reduce", lambda a: a.sum(1, keepdim=True), {"a": x})
    case("sum_all", "reduce", lambda a: a.sum(), {"a": x})
    case("mean_axis2", "reduce", lambda a: a.mean(2), {"a": x})
    case("mean_axis0_keepdim", "reduce", lambda a: a.mean(0, keepdim=True), {"a": x})
    case("mean_all", "reduce", lambda a: a.mean(), {"a": x})
    case("sum_empty_axis", "reduce", lambda a: a.sum(0), {"a": torch.zeros(0, 3, dtype=D)})
    # (the mean of nothing is NaN in PyTorch; minidl's mean panics on it, as documented)
    y = distinct(3, 4, 5)
    case("max_axis1", "reduce", lambda a: a.max(1).values, {"a": y})
    case("max_axis2_keepdim", "reduce", lambda a: a.max(2, keepdim=True).values, {"a": y})
    case("min_axis0", "reduce", lambda a: a.min(0).values, {"a": y})
    for axis in range(3):
        case(f"softmax_axis{axis}", "reduce", lambda a, axis=axis: torch.softmax(a, axis),
             {"a": rand(2, 3, 4, lo=-3, hi=3)})
        case(f"log_softmax_axis{axis}", "reduce", lambda a, axis=axis: torch.log_softmax(a, axis),
             {"a": rand(2, 3, 4, lo=-3, hi=3)})
    big = f32([[1000.0, 0.0, -1000.0, 999.0], [-500.0, -501.0, -502.0, -503.0],
               [88.0, 89.0, 90.0, -90.0]])
    case("softmax_large_logits", "reduce", lambda a: torch.softmax(a, 1), {"a": big})
    case("log_softmax_large_logits", "reduce", lambda a: torch.log_softmax(a, 1), {"a": big})
    case("softmax_axis_of_one", "reduce", lambda a: torch.softmax(a, 1), {"a": rand(3, 1)})
    # forward-only reductions of the tensor crate
    v = rand(3, 5)
    case("var_axis1_unbiased", "reduce", lambda a: a.var(1, unbiased=True), {"a": v}, grad=False)
    case("var_axis0_biased", "reduce", lambda a: a.var(0, unbiased=False), {"a": v}, grad=False)
    case("var_all_unbiased", "reduce", lambda a: a.var(unbiased=True), {"a": v}, grad=False)
    case("argmax_axis1", "reduce", lambda a: a.argmax(1).to(D), {"a": y}, grad=False)
    case("argmin_axis2", "reduce", lambda a: a.argmin(2).to(D), {"a": y}, grad=False)


def matmuls():
    case("matmul_2d", "reduce", lambda a, b: a @ b, {"a": rand(5, 7), "b": rand(7, 3)})
    case("matmul_long_inner", "reduce", lambda a, b: a @ b, {"a": rand(8, 300), "b": rand(300, 6)})
    case("matmul_vector_shapes", "reduce", lambda a, b: a @ b, {"a": rand(1, 7), "b": rand(7, 1)})
    case("matmul_batched", "reduce", lambda a, b: a @ b, {"a": rand(2, 4, 5), "b": rand(2, 5, 3)})
    case("matmul_batched_shared_rhs", "reduce", lambda a, b: a @ b, {"a": rand(2, 4, 5), "b": rand(5, 3)})
    case("matmul_t_a", "reduce", lambda a, b: a.T @ b, {"a": rand(7, 5), "b": rand(7, 3)})
    case("matmul_t_b", "reduce", lambda a, b: a @ b.T, {"a": rand(5, 7), "b": rand(3, 7)})
    case("matmul_t_both", "reduce", lambda a, b: a.T @ b.T, {"a": rand(7, 5), "b": rand(3, 7)})
    case("linear", "reduce", lambda x, w, b: F.linear(x, w, b), {"x": rand(4, 5), "w": rand(3, 5), "b": rand(3)})
    case("linear_no_bias", "reduce", lambda x, w: F.linear(x, w), {"x": rand(4, 5), "w": rand(3, 5)})


def convolutions():
    case("conv2d", "reduce", lambda x, w, b: F.conv2d(x, w, b),
         {"x": rand(2, 3, 6, 5), "w": rand(4, 3, 3, 3), "b": rand(4)})
    case("conv2d_stride_padding_dilation", "reduce",
         lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
         {"x": rand(2, 2, 9, 7), "w": rand(3, 2, 3, 2), "b": rand(3)})
    case("conv2d_1x1_no_bias", "reduce", lambda x, w: F.conv2d(x, w),
         {"x": rand(1, 4, 3, 3), "w": rand(2, 4, 1, 1)})
    case("conv2d_kernel_covers_input", "reduce", lambda x, w, b: F.conv2d(x, w, b, padding=1),
         {"x": rand(2, 1, 3, 4), "w": rand(2, 1, 5, 6), "b": rand(2)})
    case("max_pool2d_2", "reduce", lambda x: F.max_pool2d(x, 2), {"x": distinct(2, 3, 6, 6)})
    case("max_pool2d_3_stride2_pad1", "reduce", lambda x: F.max_pool2d(x, 3, 2, 1),
         {"x": distinct(1, 2, 7, 5)})
    case("max_pool2d_2x3_stride1x2", "reduce", lambda x: F.max_pool2d(x, (2, 3), (1, 2)),
         {"x": distinct(1, 2, 5, 7)})
    case("avg_pool2d_2", "reduce", lambda x: F.avg_pool2d(x, 2), {"x": rand(2, 3, 6, 6)})
    case("avg_pool2d_3_stride2_pad1", "reduce", lambda x: F.avg_pool2d(x, 3, 2, 1),
         {"x": rand(1, 2, 7, 5)})
    case("avg_pool2d_3x2_stride2x1", "reduce", lambda x: F.avg_pool2d(x, (3, 2), (2, 1)),
         {"x": rand(1, 2, 7, 5)})


def shape_ops():
    case("reshape", "elem", lambda a: a.reshape(4, 6), {"a": rand(2, 3, 4)})
    case("flatten_from1", "elem", lambda a: a.flatten(1), {"a": rand(2, 3, 2, 2)})
    case("squeeze1", "elem", lambda a: a.squeeze(1), {"a": rand(3, 1, 4)})
    case("unsqueeze0", "elem", lambda a: a.unsqueeze(0), {"a": rand(3, 4)})
    case("transpose02", "elem", lambda a: a.transpose(0, 2), {"a": rand(2, 3, 4)})
    case("permute201", "elem", lambda a: a.permute(2, 0, 1), {"a": rand(2, 3, 4)})
    case("concat_axis1", "elem", lambda a, b, c: torch.cat([a, b, c], 1),
         {"a": rand(2, 2, 3), "b": rand(2, 1, 3), "c": rand(2, 3, 3)})
    case("stack_axis1", "elem", lambda a, b, c: torch.stack([a, b, c], 1),
         {"a": rand(2, 3), "b": rand(2, 3), "c": rand(2, 3)})
    case("narrow_axis1", "elem", lambda a: a.narrow(1, 1, 2), {"a": rand(3, 5)})
    case("index_select_repeats", "elem",
         lambda a, i: a.index_select(0, i.long()), {"a": rand(3, 4)}, {"i": f32([2, 0, 2, 1])})
    case("gather_axis1_repeats", "elem", lambda a, i: a.gather(1, i.long()), {"a": rand(3, 5)},
         {"i": f32([[0, 4, 4, 1], [2, 2, 2, 2], [3, 0, 1, 4]])})
    case("gather_axis0", "elem", lambda a, i: a.gather(0, i.long()), {"a": rand(3, 4)},
         {"i": f32([[2, 0, 1, 1], [0, 0, 2, 1]])})


# ---------------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------------

def losses():
    logits, t = rand(6, 5, lo=-3, hi=3), labels(6, 5)
    for red in ["mean", "sum", "none"]:
        case(f"cross_entropy_{red}", "reduce",
             lambda x, t, red=red: F.cross_entropy(x, t.long(), reduction=red),
             {"x": logits}, {"t": t})
    case("cross_entropy_label_smoothing_0.1", "reduce",
         lambda x, t: F.cross_entropy(x, t.long(), label_smoothing=0.1), {"x": logits}, {"t": t})
    case("cross_entropy_label_smoothing_0.2_sum", "reduce",
         lambda x, t: F.cross_entropy(x, t.long(), label_smoothing=0.2, reduction="sum"),
         {"x": logits}, {"t": t})
    case("cross_entropy_label_smoothing_1_none", "reduce",
         lambda x, t: F.cross_entropy(x, t.long(), label_smoothing=1.0, reduction="none"),
         {"x": logits}, {"t": t})
    case("cross_entropy_large_logits", "reduce", lambda x, t: F.cross_entropy(x, t.long()),
         {"x": f32([[1000.0, -1000.0, 0.0], [-200.0, 300.0, 100.0], [50.0, 50.0, 50.0]])},
         {"t": f32([1, 1, 2])})
    lp = torch.log_softmax(rand(6, 5, lo=-3, hi=3), 1)
    for red in ["mean", "sum", "none"]:
        case(f"nll_{red}", "reduce", lambda x, t, red=red: F.nll_loss(x, t.long(), reduction=red),
             {"x": f32(lp)}, {"t": t})
        case(f"mse_{red}", "reduce", lambda a, b, red=red: F.mse_loss(a, b, reduction=red),
             {"a": rand(3, 4), "b": rand(3, 4)})
        case(f"bce_with_logits_{red}", "reduce",
             lambda x, y, red=red: F.binary_cross_entropy_with_logits(x, y, reduction=red),
             {"x": f32([[-100.0, -3.0, -0.5, 0.0], [0.25, 1.0, 20.0, 100.0]])},
             {"y": f32([[0.0, 1.0, 0.3, 0.5], [1.0, 0.0, 0.9, 1.0]])})


# ---------------------------------------------------------------------------------------------
# layers: one step of a small MLP and of a small CNN
# ---------------------------------------------------------------------------------------------

ONE = torch.ones((), dtype=D)


def mlp_steps():
    x, t = rand(6, 5), labels(6, 3)
    params = {"w1": rand(7, 5, lo=-0.5, hi=0.5), "b1": rand(7, lo=-0.5, hi=0.5),
              "w2": rand(3, 7, lo=-0.5, hi=0.5), "b2": rand(3, lo=-0.5, hi=0.5)}
    for act, fn in [("gelu", F.gelu), ("mish", F.mish), ("leaky_relu:0.1", lambda h: F.leaky_relu(h, 0.1))]:
        def step(w1, b1, w2, b2, x, t, fn=fn):
            h = fn(F.linear(x, w1, b1))
            return F.cross_entropy(F.linear(h, w2, b2), t.long())
        case(f"mlp_step:{act}", "reduce", step, params, {"x": x, "t": t}, seed=ONE)


def cnn_step():
    x, t = rand(2, 1, 8, 8), labels(2, 4)
    params = {"cw": rand(3, 1, 3, 3, lo=-0.5, hi=0.5), "cb": rand(3, lo=-0.5, hi=0.5),
              "w": rand(4, 48, lo=-0.2, hi=0.2), "b": rand(4, lo=-0.2, hi=0.2)}

    def step(cw, cb, w, b, x, t):
        h = F.max_pool2d(F.relu(F.conv2d(x, cw, cb, padding=1)), 2)
        return F.cross_entropy(F.linear(h.flatten(1), w, b), t.long())
    case("cnn_step", "reduce", step, params, {"x": x, "t": t}, seed=ONE)

    def avg_step(cw, cb, w, b, x, t):
        h = F.avg_pool2d(torch.tanh(F.conv2d(x, cw, cb, padding=1)), 2)
        return F.cross_entropy(F.linear(h.flatten(1), w, b), t.long(), label_smoothing=0.1)
    case("cnn_step_avg_pool", "reduce", avg_step, params, {"x": x, "t": t}, seed=ONE)


# ---------------------------------------------------------------------------------------------
# optimizers: clipping, and network gradients into SGD / Adam (the per-optimizer first five
# steps on a fixed problem are in optim/tests/fixtures/optim_first_steps.json)
# ---------------------------------------------------------------------------------------------

def clipping():
    g1, g2 = rand(2, 3), rand(4)
    for max_norm in [1.0, 100.0]:
        def clip(g1, g2, max_norm=max_norm):
            p = [torch.zeros_like(g1, requires_grad=True), torch.zeros_like(g2, requires_grad=True)]
            p[0].grad, p[1].grad = g1.clone(), g2.clone()
            norm = torch.nn.utils.clip_grad_norm_(p, max_norm)
            return p[0].grad, p[1].grad, norm
        case(f"clip_grad_norm_{max_norm:g}", "reduce", clip, {}, {"g1": g1, "g2": g2}, grad=False)

    def clip_value(g1, g2):
        p = [torch.zeros_like(g1, requires_grad=True), torch.zeros_like(g2, requires_grad=True)]
        p[0].grad, p[1].grad = g1.clone(), g2.clone()
        torch.nn.utils.clip_grad_value_(p, 0.5)
        return p[0].grad, p[1].grad
    case("clip_grad_value_0.5", "elem", clip_value, {}, {"g1": g1, "g2": g2}, grad=False)


def training():
    """Three steps of a Linear-tanh-Linear network on cross-entropy: the losses, then the
    parameters after the last step. Runs in float32 end to end (the optimizer state is
    float32 in both frameworks)."""
    x, t = rand(8, 4), labels(8, 3)
    init = [rand(6, 4, lo=-0.5, hi=0.5), rand(6, lo=-0.5, hi=0.5),
            rand(3, 6, lo=-0.5, hi=0.5), rand(3, lo=-0.5, hi=0.5)]
    for name, make in [("sgd_momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
                       ("adam", lambda p: torch.optim.Adam(p, lr=0.01))]:
        def run(x, t, w1, b1, w2, b2, make=make):
            p = [v.clone().float().requires_grad_(True) for v in (w1, b1, w2, b2)]
            opt = make(p)
            losses = []
            for _ in range(3):
                opt.zero_grad()
                h = torch.tanh(F.linear(x.float(), p[0], p[1]))
                loss = F.cross_entropy(F.linear(h, p[2], p[3]), t.long())
                loss.backward()
                opt.step()
                losses.append(loss.detach())
            return (torch.stack(losses).double(), *[v.detach().double() for v in p])
        consts = {"x": x, "t": t, "w1": init[0], "b1": init[1], "w2": init[2], "b2": init[3]}
        case(f"train_3_steps:{name}", "reduce", run, {}, consts, grad=False)


# ---------------------------------------------------------------------------------------------
# activations at the extremes (the ordinary range is in nn/tests/fixtures/activations.txt)
# ---------------------------------------------------------------------------------------------

EXTREMES = [float("-inf"), -3e38, -1e10, -88.8, -87.0, -30.0, -1e-3, -1e-30, -1e-40, -0.0,
            1e-45, 1e-30, 1e-3, 30.0, 87.0, 88.8, 1e10, 3e38, float("inf"), float("nan")]


def activation_extremes():
    x = f32(EXTREMES)
    for spec, _kinks, fn, _params in acts.ELEMENTWISE:
        # value at every point; the gradient is compared where the input is finite
        case(f"act:{spec}", "edge", lambda x, fn=fn: fn(x), {"x": x}, seed=torch.ones_like(x),
             round_to_f32=True)
    rows = f32([[float("-inf"), 0.0, 1.0, 2.0],
                [1e30, -1e30, 0.0, 1.0],
                [88.8, -88.8, 3e38, 0.0]])
    for spec, fn in [("softmax", lambda x: F.softmax(x, -1)),
                     ("log_softmax", lambda x: F.log_softmax(x, -1)),
                     ("softmin", lambda x: F.softmin(x, -1))]:
        case(f"act:{spec}", "edge", lambda x, fn=fn: fn(x), {"x": rows}, round_to_f32=True)
    # per-channel PReLU, [N, C, H, W] with one slope per channel (float64 reference)
    case("prelu_per_channel", "elem", lambda x, w: F.prelu(x, w),
         {"x": rand(2, 3, 2, 2), "w": f32([0.1, 0.25, -0.5])})


def main():
    elementwise()
    reductions()
    matmuls()
    convolutions()
    shape_ops()
    losses()
    mlp_steps()
    cnn_step()
    clipping()
    training()
    activation_extremes()
    n = sum(1 for v in LINES if v.startswith("case "))
    head = f"# made by make_parity_fixtures.py with torch {torch.__version__}; {n} cases"
    path = os.path.join(HERE, "parity.txt")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join([head] + LINES) + "\n")
    os.replace(tmp, path)  # atomic
    print(f"wrote {n} cases ({os.path.getsize(path)} bytes) to {path}")


if __name__ == "__main__":
    main()
