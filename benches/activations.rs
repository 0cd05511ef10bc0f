//! Activation benchmarks: the forward pass and the forward + backward pass of every registered
//! activation (default arguments, as built by the registry), on 1,000,000 elements and on a
//! `[64, 128]` batch (one hidden layer of the MNIST MLP).
//!
//! `cargo bench --bench activations` runs them all; a criterion filter
//! picks some: `cargo bench --bench activations -- 'fwd_bwd/1M/(relu|mish)$'`. Benchmark ids are
//! `activations/{forward,fwd_bwd}/{1M,64x128}/<name>`.
//!
//! - **forward**: `layer.forward(x)` on a constant input, so no graph is recorded: the forward
//!   kernel and the output allocation.
//! - **fwd_bwd**: `layer.forward(x)` on an input that requires a gradient, then
//!   `backward_with(g)` with a fixed upstream gradient `g`, then the input's gradient is
//!   dropped (`x.grad = None` in PyTorch) — what one training step spends in the activation.
//!   `benches/torch_activations.py` times PyTorch the same way.
//!
//! After the criterion runs, a summary gives the best and the median forward + backward time
//! on 1M elements of relu, sigmoid, tanh, gelu, silu and mish, for the baseline kernels, the
//! AVX2 ones and the ones this CPU runs (AVX-512 if it has it: see `autograd::Isa`) on one
//! thread, then for the latter on two threads, in the format the PyTorch script prints, so the
//! two can be run one after the other and compared:
//!
//! ```text
//! cargo bench --bench activations -- summary      # no benchmark is named "summary": summary only
//! python benches/torch_activations.py --threads 1      # with PyTorch installed
//! python benches/torch_activations.py --threads 2
//! ```
//!
//! The inputs are spread over [−6, 6] (every branch of every activation is taken), the same
//! values in every run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use minidl::autograd::{set_pointwise_isa, Isa, Var};
use minidl::nn::activation::{self, ActivationSpec};
use minidl::nn::Module;
use minidl::tensor::Tensor;

/// The shapes benchmarked, with their labels.
const SHAPES: [(&str, &[usize]); 2] = [("1M", &[1_000_000]), ("64x128", &[64, 128])];

/// The activations compared with PyTorch, as registry specs, with PyTorch's name.
const COMPARED: [(&str, &str); 6] = [
    ("relu", "relu"),
    ("sigmoid", "sigmoid"),
    ("tanh", "tanh"),
    ("gelu", "gelu"),
    ("silu", "silu"),
    ("mish", "mish"),
];

/// `n` values spread over [−6, 6] by the golden-ratio sequence (no two equal, no pattern a
/// branch predictor could learn), shaped `dims`.
fn input(dims: &[usize]) -> Tensor {
    let n: usize = dims.iter().product();
    let golden = 0.618_034_f64;
    let data = (0..n)
        .map(|i| ((i as f64 * golden).fract() * 12.0 - 6.0) as f32)
        .collect();
    Tensor::from_vec(data, dims.to_vec())
}

/// An upstream gradient for `layer`'s output on `x` (the gated activations halve the last axis).
fn upstream(layer: &dyn Module, x: &Tensor) -> Tensor {
    let y = layer.forward(&Var::constant(x.clone()));
    let dims = y.dims();
    input(&dims).map(|v| 0.5 + v / 12.0)
}

/// One forward + backward step, as a training step does it.
fn fwd_bwd(layer: &dyn Module, x: &Var, g: &Tensor) {
    let y = layer.forward(x);
    y.backward_with(g.clone());
    black_box(x.grad());
    x.set_grad(None);
}

fn bench_activations(c: &mut Criterion) {
    for (label, dims) in SHAPES {
        let x = input(dims);
        let n = x.shape().numel() as u64;
        let constant = Var::constant(x.clone());
        let leaf = Var::parameter(x.clone());
        let mut forward = c.benchmark_group(format!("activations/forward/{label}"));
        forward.throughput(Throughput::Elements(n));
        for entry in activation::all() {
            let layer = ActivationSpec::with_defaults(entry).build();
            forward.bench_function(BenchmarkId::from_parameter(entry.name), |b| {
                b.iter(|| black_box(layer.forward(&constant)))
            });
        }
        forward.finish();
        let mut both = c.benchmark_group(format!("activations/fwd_bwd/{label}"));
        both.throughput(Throughput::Elements(n));
        for entry in activation::all() {
            let layer = ActivationSpec::with_defaults(entry).build();
            let g = upstream(layer.as_ref(), &x);
            both.bench_function(BenchmarkId::from_parameter(entry.name), |b| {
                b.iter(|| fwd_bwd(layer.as_ref(), &leaf, &g))
            });
        }
        both.finish();
    }
}

/// The best and the median of `reps` timed calls of `f`, after `warm_up` untimed ones.
fn times(mut f: impl FnMut(), warm_up: usize, reps: usize) -> (Duration, Duration) {
    for _ in 0..warm_up {
        f();
    }
    let mut times: Vec<Duration> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    (times[0], times[reps / 2])
}

/// Two lines (best, median) per kernel copy (the baseline one, AVX2, the one this CPU runs) and
/// thread count (1, then 2): the forward + backward time on 1M elements of each [`COMPARED`]
/// activation, measured as `benches/torch_activations.py --threads N` measures PyTorch.
fn summary() {
    let x = input(&[1_000_000]);
    let leaf = Var::parameter(x.clone());
    let mut isas = vec![
        Isa::Baseline,
        Isa::Avx2.min(Isa::detected()),
        Isa::detected(),
    ];
    isas.dedup();
    let runs = isas
        .iter()
        .map(|&isa| (isa, 1))
        .chain([(Isa::detected(), 2)]);
    for (isa, threads) in runs {
        minidl::tensor::set_num_threads(threads);
        set_pointwise_isa(Some(isa));
        let (mut best, mut median) = (Vec::new(), Vec::new());
        for &(spec, torch_name) in &COMPARED {
            let layer = ActivationSpec::parse(spec)
                .expect("a registry name")
                .build();
            let g = upstream(layer.as_ref(), &x);
            let (b, m) = times(|| fwd_bwd(layer.as_ref(), &leaf, &g), 10, 51);
            best.push(format!("{torch_name} {:.3}", b.as_secs_f64() * 1e3));
            median.push(format!("{torch_name} {:.3}", m.as_secs_f64() * 1e3));
        }
        println!(
            "minidl fwd+bwd 1M (ms, best):   {} | kernels {isa:?} | threads {threads}",
            best.join(" | ")
        );
        println!(
            "minidl fwd+bwd 1M (ms, median): {} | kernels {isa:?} | threads {threads}",
            median.join(" | ")
        );
    }
    set_pointwise_isa(None);
}

fn main() {
    let mut c = Criterion::default()
        .measurement_time(Duration::from_millis(800))
        .warm_up_time(Duration::from_millis(200))
        .sample_size(10)
        .configure_from_args();
    bench_activations(&mut c);
    c.final_summary();
    // `cargo test --benches` runs each benchmark once without `--bench`; skip the timing there.
    if std::env::args().any(|a| a == "--bench") {
        summary();
    }
}
