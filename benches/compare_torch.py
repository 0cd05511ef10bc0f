"""minidl against PyTorch on the same CPU: runs `examples/bench.rs` and
`../shared/bench/torch_bench.py` with the same flags, alternating (minidl, PyTorch, minidl, ...),
takes the median of each side's runs and prints README's performance tables in Markdown.

    cargo build --release --example bench
    python3 benches/compare_torch.py --python /tmp/torchenv/bin/python [--runs 3] [--only cnn]

`--python` is an interpreter with torch installed (see ../shared/bench/README.md). Beside the
ratio tables it prints the small MLP's fraction of its compute limit (`bench --limit`) and the
activation search's candidates per minute (`bench --model search`), which have no PyTorch
counterpart. The machines are shared and noisy: quote ratios from one run of this script, not
absolute numbers from different runs.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "target", "release", "examples", "bench")
TORCH_BENCH = os.path.join(ROOT, "..", "shared", "bench", "torch_bench.py")

# (group, label, flags, steps, target ratio)
CASES = [
    ("cnn", "CNN 16-32, 5×5", "--model cnn --activation relu --optimizer adam --batch-size 64 --threads 1", 100, 2.0),
    ("cnn", "CNN 16-32, 5×5", "--model cnn --activation relu --optimizer adam --batch-size 64 --threads 2", 100, 2.0),
    ("wide", "MLP 784-512-256-10", "--model mlp --hidden 512,256 --activation relu --optimizer sgd --batch-size 64 --threads 1", 1000, 1.2),
    ("wide", "MLP 784-512-256-10", "--model mlp --hidden 512,256 --activation relu --optimizer sgd --batch-size 64 --threads 2", 1000, 1.2),
    ("wide", "MLP 784-2048-1024-10", "--model mlp --hidden 2048,1024 --activation relu --optimizer sgd --batch-size 64 --threads 1", 150, 1.2),
    ("wide", "MLP 784-2048-1024-10", "--model mlp --hidden 2048,1024 --activation relu --optimizer sgd --batch-size 64 --threads 2", 150, 1.2),
]
for threads in (1, 2):
    for opt in ("sgd", "adam"):
        for act in ("relu", "sigmoid", "tanh", "gelu", "silu", "mish"):
            CASES.append((
                "mlp",
                "MLP 784-128-64-10",
                f"--model mlp --activation {act} --optimizer {opt} --batch-size 64 --threads {threads}",
                3000,
                1.5,
            ))
for threads in (1, 2):
    for opt in ("sgd", "adam"):
        CASES.append((
            "mlp",
            "MLP 784-128-64-10",
            f"--model mlp --activation relu --optimizer {opt} --batch-size 256 --threads {threads}",
            1000,
            1.0,
        ))


def run(cmd):
    """Runs `cmd`, returns its `key=value` lines as a dict of floats."""
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {k: float(v) for k, v in re.findall(r"^(\w+)=([-0-9.e+]+)$", out, re.M)}


def flag(flags, name):
    m = re.search(rf"--{name} (\S+)", flags)
    return m.group(1) if m else ""


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable, help="a Python with torch installed")
    p.add_argument("--torch-bench", default=TORCH_BENCH)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--only", choices=["cnn", "wide", "mlp", "limit", "search"], action="append",
                   help="only these groups (repeatable)")
    args = p.parse_args()
    groups = set(args.only or ["cnn", "wide", "mlp", "limit", "search"])

    print("| network | batch | optimizer | activation | threads | minidl (samples/s) | PyTorch (samples/s) | ratio | target |")
    print("| --- | --- | --- | --- | --- | ---: | ---: | ---: | --- |")
    for group, label, flags, steps, target in CASES:
        if group not in groups:
            continue
        ours, theirs = [], []
        for _ in range(args.runs):
            ours.append(run([BENCH, *flags.split(), "--steps", str(steps)])["samples_per_sec"])
            theirs.append(run([args.python, args.torch_bench, *flags.split(), "--steps", str(steps)])["samples_per_sec"])
        a, b = statistics.median(ours), statistics.median(theirs)
        ratio = a / b
        verdict = "met" if ratio >= target else "not met"
        print(f"| {label} | {flag(flags, 'batch-size')} | {flag(flags, 'optimizer')} | {flag(flags, 'activation')} "
              f"| {flag(flags, 'threads')} | {a:,.0f} | {b:,.0f} | **{ratio:.2f}** | ≥ {target}, {verdict} |",
              flush=True)

    if "limit" in groups:
        print()
        print("| threads | minidl (samples/s) | GEMM peak (GFLOP/s) | compute limit (samples/s) | fraction |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        for threads in (1, 2):
            runs = [run([BENCH, "--model", "mlp", "--activation", "relu", "--optimizer", "sgd",
                         "--batch-size", "64", "--threads", str(threads), "--steps", "3000", "--limit"])
                    for _ in range(args.runs)]
            runs.sort(key=lambda r: r["fraction_of_limit"])
            m = runs[len(runs) // 2]
            print(f"| {threads} | {m['samples_per_sec']:,.0f} | {m['gemm_peak_gflops']:.1f} "
                  f"| {m['compute_limit_samples_per_sec']:,.0f} | **{m['fraction_of_limit']:.2f}** |", flush=True)

    if "search" in groups:
        print()
        for threads in (1, 2):
            rates = [run([BENCH, "--model", "search", "--candidates", "40", "--threads", str(threads)])["candidates_per_min"]
                     for _ in range(args.runs)]
            print(f"activation search, {threads} thread(s): {statistics.median(rates):.1f} candidates/minute "
                  f"(median of {args.runs}; the first 40 candidates)", flush=True)


if __name__ == "__main__":
    main()
