"""Checks the CSV of `cargo run --release --example activations -- --csv` against PyTorch.

    cargo run --release --example activations -- --csv --x -20,-1,0,1,20 > act.csv
    python examples/check_activations_csv.py act.csv

Every row `activation,x,y,dydx` is recomputed with PyTorch, in float32 (what PyTorch computes
for float32 tensors) and in float64, from the same float32 inputs, with the CSV's conventions:
elementwise activations per point; softmax, log_softmax and softmin on the vector of all the
points with dydx the Jacobian's diagonal; glu, swiglu and geglu on the pair (x, x) with
dydx = d/dx f(x, x). A value passes when |ours - torch| <= 1e-6 + 1e-5 * |torch| (the
tolerance). Prints the worst ratio |ours - torch| / tolerance per activation (below 1 passes) and exits with status 1 if any value fails (or if an
activation of the CSV is unknown here, or a row is not finite).
"""

import csv
import math
import sys
from collections import defaultdict

import torch
import torch.nn.functional as F

RTOL, ATOL = 1e-5, 1e-6


def halves(x):
    return x.chunk(2, dim=-1)


# name -> (kind, function of a tensor); kind: "elementwise", "vector" or "pair"
FUNCTIONS = {
    "relu": ("elementwise", F.relu),
    "relu6": ("elementwise", F.relu6),
    "leaky_relu": ("elementwise", F.leaky_relu),
    "prelu": ("elementwise", lambda x: F.prelu(x, torch.tensor([0.25], dtype=x.dtype))),
    "rrelu": ("elementwise", lambda x: F.rrelu(x, training=False)),
    "elu": ("elementwise", F.elu),
    "selu": ("elementwise", F.selu),
    "celu": ("elementwise", F.celu),
    "gelu": ("elementwise", F.gelu),
    "swish": ("elementwise", F.silu),
    "mish": ("elementwise", F.mish),
    "sigmoid": ("elementwise", torch.sigmoid),
    "tanh": ("elementwise", torch.tanh),
    "softplus": ("elementwise", F.softplus),
    "softsign": ("elementwise", F.softsign),
    "hardtanh": ("elementwise", F.hardtanh),
    "hardsigmoid": ("elementwise", F.hardsigmoid),
    "hardswish": ("elementwise", F.hardswish),
    "logsigmoid": ("elementwise", F.logsigmoid),
    "tanhshrink": ("elementwise", F.tanhshrink),
    "softshrink": ("elementwise", F.softshrink),
    "hardshrink": ("elementwise", F.hardshrink),
    # the registry's example arguments for the required ones: threshold:0.1,20 (0.1 as f32)
    "threshold": ("elementwise", lambda x: F.threshold(x, float(torch.tensor(0.1)), 20.0)),
    "softmax": ("vector", lambda x: F.softmax(x, dim=-1)),
    "log_softmax": ("vector", lambda x: F.log_softmax(x, dim=-1)),
    "softmin": ("vector", lambda x: F.softmin(x, dim=-1)),
    "glu": ("pair", lambda x: F.glu(x, dim=-1)),
    "squared_relu": ("elementwise", lambda x: F.relu(x) ** 2),
    "squareplus": ("elementwise", lambda x: (x + torch.sqrt(x * x + 4)) / 2),
    "snake": ("elementwise", lambda x: x + torch.sin(x) ** 2),
    "swiglu": ("pair", lambda x: F.silu(halves(x)[0]) * halves(x)[1]),
    "geglu": ("pair", lambda x: F.gelu(halves(x)[0]) * halves(x)[1]),
    "serf": ("elementwise", lambda x: x * torch.erf(F.softplus(x))),
}


def reference(name, xs, dtype):
    kind, fn = FUNCTIONS[name]
    x = torch.tensor(xs, dtype=torch.float32).to(dtype).requires_grad_()
    if kind == "elementwise":
        y = fn(x)
        (g,) = torch.autograd.grad(y.sum(), x)
        return y.detach().tolist(), g.tolist()
    if kind == "pair":
        y = fn(torch.stack([x, x], dim=-1)).squeeze(-1)
        (g,) = torch.autograd.grad(y.sum(), x)  # x is used twice: the total derivative
        return y.detach().tolist(), g.tolist()
    y = fn(x)
    diagonal = [torch.autograd.grad(y[i], x, retain_graph=True)[0][i].item() for i in range(len(xs))]
    return y.detach().tolist(), diagonal


def main(path):
    rows = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows[row["activation"]].append((float(row["x"]), float(row["y"]), float(row["dydx"])))
    failed = False
    for name, points in rows.items():
        if name not in FUNCTIONS:
            print(f"{name}: no PyTorch reference here")
            failed = True
            continue
        xs = [p[0] for p in points]
        worst = {}
        for dtype in (torch.float32, torch.float64):
            ys, ds = reference(name, xs, dtype)
            w = 0.0
            for (x, y, d), ry, rd in zip(points, ys, ds):
                for ours, ref, what in ((y, ry, "y"), (d, rd, "dydx")):
                    if not math.isfinite(ours):
                        print(f"{name} x={x}: {what} = {ours} is not finite")
                        failed = True
                        continue
                    err = abs(ours - ref)
                    w = max(w, err / (ATOL + RTOL * abs(ref)))
                    if err > ATOL + RTOL * abs(ref):
                        print(f"{name} x={x} ({dtype}): {what} ours {ours!r} torch {ref!r}")
                        failed = dtype == torch.float32 or failed
            worst[dtype] = w
        print(f"{name:<13} {len(points):>4} points  worst |error| / tolerance: "
              f"vs float32 {worst[torch.float32]:.3f}, vs float64 {worst[torch.float64]:.3f}")
    print("FAILED" if failed else f"all {sum(map(len, rows.values()))} rows of {len(rows)} "
          f"activations match PyTorch (float32) to {RTOL:g} relative, {ATOL:g} absolute")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/dev/stdin")
