//! Kernel benchmarks: matrix products at the MNIST-MLP shapes (forward and the transposed
//! products of the backward pass) against a naive triple loop, elementwise ops on 10⁶ elements,
//! and im2col + conv2d at the shapes of a small MNIST CNN.
//!
//! `cargo bench --bench tensor`. The matmul groups report throughput in "elem/s" where one
//! element is one floating-point operation (2·M·N·K per product), so `Gelem/s` reads as
//! GFLOP/s. A one-line GFLOP/s summary is printed at the end.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use minidl::tensor::{conv2d, im2col, Conv2dParams, Tensor};

/// One matrix product of the benchmark: `op(A) [M, K] · op(B) [K, N]`.
struct Case {
    name: &'static str,
    m: usize,
    k: usize,
    n: usize,
    trans_a: bool,
    trans_b: bool,
}

impl Case {
    const fn new(
        name: &'static str,
        (m, k, n): (usize, usize, usize),
        trans_a: bool,
        trans_b: bool,
    ) -> Case {
        Case {
            name,
            m,
            k,
            n,
            trans_a,
            trans_b,
        }
    }

    /// Operands stored as the flags say (a transposed operand is stored as its transpose).
    fn operands(&self) -> (Tensor, Tensor) {
        let a = if self.trans_a {
            [self.k, self.m]
        } else {
            [self.m, self.k]
        };
        let b = if self.trans_b {
            [self.n, self.k]
        } else {
            [self.k, self.n]
        };
        (filled(&a, 1), filled(&b, 2))
    }

    fn flops(&self) -> u64 {
        2 * (self.m * self.n * self.k) as u64
    }
}

/// The products of one training step of a 784-128-64-10 MLP (batch 64), weights stored
/// `[in, out]` and `[out, in]`, and the batch-256 forward products.
const CASES: &[Case] = &[
    Case::new("fwd [64,784]x[784,128]", (64, 784, 128), false, false),
    Case::new("fwd [64,784]x[128,784]T", (64, 784, 128), false, true),
    Case::new("fwd [64,128]x[128,64]", (64, 128, 64), false, false),
    Case::new("fwd [64,128]x[128,10]", (64, 128, 10), false, false),
    Case::new("fwd [64,64]x[10,64]T", (64, 64, 10), false, true),
    Case::new("fwd [64,512]x[10,512]T", (64, 512, 10), false, true),
    Case::new("dW [64,128]Tx[64,784]", (128, 64, 784), true, false),
    Case::new("dW [64,784]Tx[64,128]", (784, 64, 128), true, false),
    Case::new("dX [64,128]x[128,784]", (64, 128, 784), false, false),
    Case::new("dX [64,128]x[784,128]T", (64, 128, 784), false, true),
    Case::new("b256 [256,784]x[784,128]", (256, 784, 128), false, false),
    Case::new("b256 [256,128]x[128,10]", (256, 128, 10), false, false),
    Case::new("b256 [256,128]Tx[256,784]", (128, 256, 784), true, false),
];

/// Fixed pseudo-random data in [-1, 1) from a small LCG (deterministic across runs).
fn filled(dims: &[usize], seed: u64) -> Tensor {
    let mut s = seed;
    let n = dims.iter().product();
    let data = (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    Tensor::from_vec(data, dims)
}

/// The textbook triple loop (i, j, then the dot product over p), honouring the flags.
fn naive(c: &Case, a: &[f32], b: &[f32]) -> Vec<f32> {
    let (m, k, n) = (c.m, c.k, c.n);
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            for p in 0..k {
                let av = if c.trans_a {
                    a[p * m + i]
                } else {
                    a[i * k + p]
                };
                let bv = if c.trans_b {
                    b[j * k + p]
                } else {
                    b[p * n + j]
                };
                s += av * bv;
            }
            out[i * n + j] = s;
        }
    }
    out
}

fn bench_matmul(c: &mut Criterion) {
    let mut group = c.benchmark_group("matmul_FLOPs (elem = FLOP)");
    for case in CASES {
        let (a, b) = case.operands();
        group.throughput(Throughput::Elements(case.flops()));
        group.bench_function(BenchmarkId::new("matmul_t", case.name), |bench| {
            bench.iter(|| black_box(&a).matmul_t(black_box(&b), case.trans_a, case.trans_b))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("naive_matmul_FLOPs (elem = FLOP)");
    // A naive product takes tens of milliseconds: equal-sized samples keep the run short.
    group.sampling_mode(SamplingMode::Flat);
    for case in CASES {
        let (a, b) = case.operands();
        group.throughput(Throughput::Elements(case.flops()));
        group.bench_function(BenchmarkId::new("triple_loop", case.name), |bench| {
            bench.iter(|| naive(case, black_box(a.data()), black_box(b.data())))
        });
    }
    group.finish();
}

fn bench_elementwise(c: &mut Criterion) {
    let n = 1_000_000;
    let x = filled(&[n], 3);
    let y = filled(&[n], 4);
    let mut group = c.benchmark_group("elementwise");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("add 1e6", |bench| {
        bench.iter(|| black_box(&x).add(black_box(&y)))
    });
    group.bench_function("map(exp) 1e6", |bench| {
        bench.iter(|| black_box(&x).map(f32::exp))
    });
    group.finish();
}

/// The two convolutions of a LeNet-style MNIST CNN, batch 64, 5x5 kernels, padding 2.
fn conv_cases() -> Vec<(&'static str, Tensor, Tensor, Tensor)> {
    vec![
        (
            "1->16 5x5 on 28x28",
            filled(&[64, 1, 28, 28], 5),
            filled(&[16, 1, 5, 5], 6),
            filled(&[16], 7),
        ),
        (
            "16->32 5x5 on 14x14",
            filled(&[64, 16, 14, 14], 8),
            filled(&[32, 16, 5, 5], 9),
            filled(&[32], 10),
        ),
    ]
}

fn conv_flops(x: &Tensor, w: &Tensor) -> u64 {
    // Same-size output (padding 2, stride 1): 2·N·O·H·W·C·kh·kw.
    let d = x.dims();
    let wd = w.dims();
    2 * (d[0] * wd[0] * d[2] * d[3] * wd[1] * wd[2] * wd[3]) as u64
}

fn bench_conv(c: &mut Criterion) {
    let p = Conv2dParams {
        padding: (2, 2),
        ..Default::default()
    };
    let mut group = c.benchmark_group("conv");
    group.sampling_mode(SamplingMode::Flat);
    for (name, x, w, b) in conv_cases() {
        group.throughput(Throughput::Elements(x.numel() as u64));
        group.bench_function(
            BenchmarkId::new("im2col (elem = input value)", name),
            |bench| bench.iter(|| im2col(black_box(&x), (5, 5), &p)),
        );
        group.throughput(Throughput::Elements(conv_flops(&x, &w)));
        group.bench_function(BenchmarkId::new("conv2d (elem = FLOP)", name), |bench| {
            bench.iter(|| conv2d(black_box(&x), black_box(&w), Some(&b), &p))
        });
    }
    group.finish();
}

/// Best time per call of `f` over a few short rounds.
fn best_time(mut f: impl FnMut(), budget: Duration) -> f64 {
    f();
    let start = Instant::now();
    let mut best = f64::MAX;
    while start.elapsed() < budget {
        let t = Instant::now();
        let mut iters = 0u32;
        while t.elapsed() < budget / 10 {
            f();
            iters += 1;
        }
        best = best.min(t.elapsed().as_secs_f64() / iters as f64);
    }
    best
}

/// Prints GFLOP/s for every case (GEMM and naive loop) on one line, timed directly.
fn summary() {
    let budget = Duration::from_millis(300);
    let mut parts = Vec::new();
    for case in CASES {
        let (a, b) = case.operands();
        let fast = best_time(
            || {
                black_box(a.matmul_t(&b, case.trans_a, case.trans_b));
            },
            budget,
        );
        let slow = best_time(
            || {
                black_box(naive(case, a.data(), b.data()));
            },
            budget,
        );
        let g = |t: f64| case.flops() as f64 / t / 1e9;
        parts.push(format!(
            "{} {:.1} (naive {:.1})",
            case.name,
            g(fast),
            g(slow)
        ));
    }
    let p = Conv2dParams {
        padding: (2, 2),
        ..Default::default()
    };
    for (name, x, w, b) in conv_cases() {
        let t = best_time(
            || {
                black_box(conv2d(&x, &w, Some(&b), &p));
            },
            budget,
        );
        parts.push(format!(
            "conv {name} {:.1}",
            conv_flops(&x, &w) as f64 / t / 1e9
        ));
    }
    println!("GFLOP/s summary: {}", parts.join(" | "));
}

fn main() {
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20)
        .configure_from_args();
    bench_matmul(&mut c);
    bench_elementwise(&mut c);
    bench_conv(&mut c);
    c.final_summary();
    // `cargo test --benches` runs each benchmark once without `--bench`; skip the timing there.
    if std::env::args().any(|a| a == "--bench") {
        summary();
    }
}
