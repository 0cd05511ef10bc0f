"""PyTorch's forward + backward time on 1,000,000 elements for the activations that
`benches/activations.rs` compares (relu, sigmoid, tanh, gelu, silu, mish), measured the way
its summary measures minidl: the same inputs (golden-ratio points over [-6, 6]), the same
upstream gradient, `y = f(x); y.backward(g); x.grad = None`, 10 warm-up calls, then the best
and the median of 51 timed calls.

    /tmp/torchenv/bin/python benches/torch_activations.py [--threads N]
    cargo bench --bench activations -- summary

Run the two one after the other (alternating, a few times) on a quiet machine and compare the
lines; `--threads 1` matches a single-threaded minidl kernel.
"""

import argparse
import time

import torch
import torch.nn.functional as F

ACTIVATIONS = [
    ("relu", torch.relu),
    ("sigmoid", torch.sigmoid),
    ("tanh", torch.tanh),
    ("gelu", F.gelu),
    ("silu", F.silu),
    ("mish", F.mish),
]


def points(n):
    """n values spread over [-6, 6] by the golden-ratio sequence, as in the Rust bench."""
    i = torch.arange(n, dtype=torch.float64)
    return ((i * 0.618034).frac() * 12.0 - 6.0).float()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    x = points(args.n).requires_grad_()
    g = 0.5 + points(args.n) / 12.0
    best, median = [], []
    for name, f in ACTIVATIONS:
        times = []
        for i in range(61):
            t = time.perf_counter()
            y = f(x)
            y.backward(g)
            x.grad = None
            if i >= 10:
                times.append(time.perf_counter() - t)
        times.sort()
        best.append(f"{name} {times[0] * 1e3:.3f}")
        median.append(f"{name} {times[len(times) // 2] * 1e3:.3f}")
    threads = torch.get_num_threads()
    print(f"torch fwd+bwd 1M (ms, best):   {' | '.join(best)} | threads {threads}")
    print(f"torch fwd+bwd 1M (ms, median): {' | '.join(median)} | threads {threads}")


if __name__ == "__main__":
    main()
