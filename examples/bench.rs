//! Training throughput of the reference networks, for a side-by-side comparison with PyTorch.
//!
//! Same flags, same networks, same data scheme and same output line as
//! `../shared/bench/torch_bench.py`, so the two can be run one after the other and divided:
//!
//! ```text
//! cargo run --release --example bench -- --model mlp --activation relu --optimizer sgd --batch-size 64 --threads 1 --steps 1000
//! /path/to/python ../shared/bench/torch_bench.py --model mlp --activation relu --optimizer sgd --batch-size 64 --threads 1 --steps 1000
//! ```
//!
//! Each prints one line, `samples_per_sec=<float>`.
//!
//! - Networks: the MLP `Flatten · Linear(784→128) · act · Linear(128→64) · act · Linear(64→10)`
//!   (`--hidden` changes the hidden widths), or the reference CNN `conv(1→16, 5×5, pad 2) · act ·
//!   maxpool 2 · conv(16→32, 5×5, pad 2) · act · maxpool 2 · flatten · linear(1568→10)`.
//! - Data: `64 · batch` random MNIST-shaped images `[1, 28, 28]` (standard normal) and random
//!   labels, in memory, cycled batch by batch (throughput does not depend on pixel values).
//! - Step: `zero_grad`, forward, cross-entropy, `backward`, optimizer step; SGD with lr 0.01
//!   or Adam with lr 1e-3.
//! - Timing: `max(20, steps / 10)` warm-up steps, then `steps` timed steps.
//!
//! Two more lines, which PyTorch's script has no counterpart for:
//!
//! - `--limit` (MLP only) also prints the network's **compute limit**: the GEMM's peak on this
//!   machine at this thread count (`gemm_peak_gflops`, the best of 7 products of two
//!   1024 × 1024 matrices) divided by the training FLOP per sample (`flop_per_sample`:
//!   2 FLOP per multiply-add, one pass over every layer's weights in the forward pass, one
//!   for the weight gradients, one for the input gradients of all layers but the first),
//!   then `compute_limit_samples_per_sec` and `fraction_of_limit`, the share of it reached.
//!   It is every product running at the speed of a large square one, with nothing else to
//!   do. The FLOP are counted dense: behind ReLU, a small layer's weight gradient skips the
//!   gradient's zeros (`tensor/src/matmul/sparse.rs`, about half of them at the start of
//!   training), so a step does fewer FLOP than counted and the fraction measures the whole
//!   step against the dense work, not the kernels' efficiency.
//! - `--model search` scores the first `--candidates` candidates of the activation search
//!   (`minidl::search`) on its standard proxy task (`ProxyTask::default()`), `--threads` at a
//!   time, on synthetic digits (no data files needed), and prints `candidates_per_min=<float>`.
//!
//! `benches/compare_torch.py` runs this example and `torch_bench.py` alternating and prints
//! README's performance tables.
//!
//! `--activation` takes any registry spec (`relu`, `leaky_relu:0.1`, `mish`, ...); see
//! `nn::activation::ActivationSpec::parse`. `--threads N` is `tensor::set_num_threads(N)`.
//!
//! A bad flag value (zero, negative, more than 256 threads or 1,000,000 steps, a network or a
//! batch above the lab's size limits), an unknown activation or one that does not fit the
//! network is one line on stderr, `error: …`, and exit status 2.

mod common;

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use minidl::autograd::Var;
use minidl::cli::{positive_whole, threads, whole_up_to, DataArgs, DatasetChoice};
use minidl::lab::{
    check_activation_fits, load_data, parse_activation, Architecture, LabError, MAX_BATCH_VALUES,
};
use minidl::nn::activation::ActivationSpec;
use minidl::nn::{self, loss::cross_entropy, Flatten, Linear, Module, Sequential};
use minidl::optim::{Adam, Optimizer, Sgd};
use minidl::search::{self, run_parallel, ProxyTask};
use minidl::tensor::{self, Tensor};

/// mimalloc keeps freed memory for the next allocation of the same size. glibc's allocator
/// returns large buffers (activations of a CNN: megabytes each) to the operating system and
/// page-faults them back at the next step, which costs about a quarter of a CNN step.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its position in `mimalloc.h`'s `mi_option_t`; the
/// Rust bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells mimalloc never to return freed memory to the operating system while the bench runs.
/// With its default (purge what has been free for a second) it still gave memory back in
/// the middle of training, and the next steps faulted it in again, zeroing huge pages: 4,330
/// page faults in 400 CNN steps at 2 threads, against 222 with purging off (`perf stat -e
/// page-faults`), and 5-30% more samples per second without them.
fn keep_freed_memory() {
    // SAFETY: sets an option of the allocator; every value is valid for it.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

/// Which network to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Model {
    /// Flatten, then Linear layers 784 → hidden… → 10 with the activation between them.
    Mlp,
    /// The reference CNN (two 5×5 convolutions with 16 and 32 channels, max pooling, linear).
    Cnn,
    /// The activation search's proxy task (`minidl::search`): scores the first `--candidates`
    /// candidates, `--threads` at a time, and prints `candidates_per_min=<float>`.
    Search,
}

/// Which optimizer updates the parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OptimizerKind {
    /// SGD, learning rate 0.01.
    Sgd,
    /// Adam, learning rate 1e-3.
    Adam,
}

/// The command line: the flags of `torch_bench.py`.
#[derive(Parser, Debug)]
#[command(
    about = "Time N training steps of the reference networks; prints samples_per_sec=<float>"
)]
struct Args {
    /// The network.
    #[arg(long, value_enum, default_value_t = Model::Mlp)]
    model: Model,
    /// The activation, as a registry spec (`relu`, `gelu`, `leaky_relu:0.1`, ...).
    #[arg(long, default_value = "relu")]
    activation: String,
    /// The optimizer.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Sgd)]
    optimizer: OptimizerKind,
    /// Samples per step.
    #[arg(long, default_value_t = 64, value_parser = positive_whole, allow_negative_numbers = true)]
    batch_size: usize,
    /// Threads for the kernels (`tensor::set_num_threads`, at most 256).
    #[arg(long, default_value_t = 2, value_parser = threads, allow_negative_numbers = true)]
    threads: usize,
    /// Timed training steps (after the warm-up; at most 1,000,000).
    #[arg(long, default_value_t = 500, value_parser = steps, allow_negative_numbers = true)]
    steps: usize,
    /// MLP hidden widths, comma-separated.
    #[arg(
        long,
        default_value = "128,64",
        value_delimiter = ',',
        value_parser = positive_whole,
        allow_negative_numbers = true
    )]
    hidden: Vec<usize>,
    /// MLP only: also measure the compute limit (see the module docs) and print it and the
    /// fraction of it reached.
    #[arg(long)]
    limit: bool,
    /// `--model search` only: how many candidates to score (the first of the search's list;
    /// 40 when not given).
    // (An `Option` rather than a default: clap parses a default through the value parser on
    // every run, and this parser enumerates the whole search list for its bound.)
    #[arg(long, value_parser = candidates, allow_negative_numbers = true)]
    candidates: Option<usize>,
}

/// Candidates scored by `--model search` when `--candidates` is not given.
const DEFAULT_CANDIDATES: usize = 40;

/// How many batches of random images the bench cycles through.
const BATCHES: usize = 64;

/// The most timed steps: two thousand times the default (500); a larger count is a slip, not
/// a measurement.
const MAX_STEPS: usize = 1_000_000;

/// `--steps`: a whole number from 1 to [`MAX_STEPS`].
fn steps(s: &str) -> Result<usize, String> {
    whole_up_to(s, MAX_STEPS, "timed steps")
}

/// `--candidates`: a whole number from 1 to the size of the search's list.
fn candidates(s: &str) -> Result<usize, String> {
    whole_up_to(s, search::enumerate().candidates.len(), "candidates")
}

fn main() -> ExitCode {
    keep_freed_memory();
    common::run_main(run)
}

/// Checks the flags, times the steps and prints `samples_per_sec=<float>` to `out`.
///
/// # Errors
/// A [`LabError`] for an unknown activation or one that does not fit the network, a network
/// or batch too large, or a failed write to standard output.
fn run(args: &Args, out: &mut dyn Write) -> Result<(), LabError> {
    if args.limit && args.model != Model::Mlp {
        return Err(LabError::Usage(
            "--limit measures the compute limit of an MLP: use it with --model mlp".into(),
        ));
    }
    let activation = parse_activation(&args.activation, "--activation")?;
    let architecture = match args.model {
        Model::Mlp => Architecture::Mlp {
            hidden: args.hidden.clone(),
        },
        Model::Cnn => Architecture::reference_cnn(),
        Model::Search => {
            let n = args.candidates.unwrap_or(DEFAULT_CANDIDATES);
            let rate = candidates_per_min(n, args.threads)?;
            writeln!(out, "candidates_per_min={rate:.1}")?;
            return Ok(());
        }
    };
    // sizes before anything is allocated: the network and one batch through it, then the
    // batches of random images cycled
    architecture.check([1, 28, 28], 10, args.batch_size, "--hidden")?;
    let images = (BATCHES as u128) * (args.batch_size as u128) * 784;
    if images > MAX_BATCH_VALUES as u128 {
        return Err(LabError::Usage(format!(
            "--batch-size {}: the bench cycles {BATCHES} batches of that many random images, \
             {images} values ({} MiB of f32); the limit is {MAX_BATCH_VALUES} ({} MiB): use \
             --batch-size {} or less",
            args.batch_size,
            (images * 4) >> 20,
            (MAX_BATCH_VALUES * 4) >> 20,
            MAX_BATCH_VALUES / (BATCHES * 784)
        )));
    }
    tensor::set_num_threads(args.threads);
    let rate = samples_per_sec(args, &activation)?;
    writeln!(out, "samples_per_sec={rate:.1}")?;
    if args.limit {
        let gflops = gemm_peak_gflops();
        let flop = mlp_flop_per_sample(&args.hidden);
        let limit = gflops * 1e9 / flop as f64;
        writeln!(out, "gemm_peak_gflops={gflops:.1}")?;
        writeln!(out, "flop_per_sample={flop}")?;
        writeln!(out, "compute_limit_samples_per_sec={limit:.1}")?;
        writeln!(out, "fraction_of_limit={:.3}", rate / limit)?;
    }
    Ok(())
}

/// Side of the square matrices whose product measures the GEMM's peak.
const PEAK_SIDE: usize = 1024;

/// The GEMM's peak on this machine at the current thread count, in GFLOP/s: the best of 7
/// products of two [`PEAK_SIDE`]² matrices (2·1024³ FLOP each) after one warm-up. No
/// training step can run its products faster than this.
fn gemm_peak_gflops() -> f64 {
    let n = PEAK_SIDE;
    let mut rng = tensor::rng(1);
    let a = Tensor::randn([n, n], &mut rng);
    let b = Tensor::randn([n, n], &mut rng);
    let mut c = vec![0.0f32; n * n];
    let mut best = f64::INFINITY;
    for i in 0..8 {
        let start = Instant::now();
        tensor::sgemm(
            n,
            n,
            n,
            1.0,
            a.data(),
            (n, 1),
            b.data(),
            (n, 1),
            0.0,
            &mut c,
            (n, 1),
        );
        if i > 0 {
            best = best.min(start.elapsed().as_secs_f64());
        }
    }
    2.0 * (n * n * n) as f64 / best / 1e9
}

/// Training FLOP per sample of the MLP 784 → `hidden`… → 10: a multiply-add is 2 FLOP, and
/// each layer's `in·out` weights take one in the forward pass, one in the weight gradient
/// and, for every layer but the first (whose input needs no gradient), one in the input
/// gradient. Biases, activations, the loss and the optimizer are left out: they are a few
/// percent of the work, so the limit errs on the high side.
fn mlp_flop_per_sample(hidden: &[usize]) -> u64 {
    let mut sizes = vec![28 * 28];
    sizes.extend(hidden);
    sizes.push(10);
    let weights: u64 = sizes.windows(2).map(|w| (w[0] * w[1]) as u64).sum();
    let first = (sizes[0] * sizes[1]) as u64;
    2 * (3 * weights - first)
}

/// Scores the first `n` candidates of the activation search on its standard proxy task
/// ([`ProxyTask::default`], the `search` example's defaults), `threads` at a time, and
/// returns candidates per minute. The images are synthetic digits, so the line needs no data
/// files; the work per step is the same as on MNIST (a candidate whose loss goes NaN stops
/// early on either).
///
/// # Errors
/// [`LabError`] if the proxy task's data cannot be made (it always can for synthetic digits).
fn candidates_per_min(n: usize, threads: usize) -> Result<f64, LabError> {
    let task = ProxyTask::default();
    let data = DataArgs {
        dataset: DatasetChoice::Synthetic,
        ..DataArgs::default()
    };
    let data = task.data(&load_data(&data, &mut std::io::sink())?)?;
    let formulas = search::enumerate().candidates;
    let start = Instant::now();
    run_parallel(
        n,
        threads,
        |i| task.evaluate(i, &formulas[i], task.seed, &data),
        |_, _| Ok(()),
    )?;
    Ok(n as f64 * 60.0 / start.elapsed().as_secs_f64())
}

/// The network of `args.model`, with a fresh activation layer wherever one goes.
fn build(args: &Args, activation: &ActivationSpec, rng: &mut tensor::Rng) -> Sequential {
    let act = || activation.build();
    match args.model {
        Model::Mlp => {
            let mut sizes = vec![28 * 28];
            sizes.extend(&args.hidden);
            sizes.push(10);
            let mut s = Sequential::new().push(Flatten::new());
            for (i, w) in sizes.windows(2).enumerate() {
                s.add(Box::new(Linear::new(w[0], w[1], true, rng)));
                if i + 2 < sizes.len() {
                    s.add(act());
                }
            }
            s
        }
        Model::Cnn => nn::cnn([1, 28, 28], &[16, 32], 5, 10, act, rng),
        Model::Search => unreachable!("run() times the search without building a network"),
    }
}

/// Trains for the warm-up, then times `args.steps` steps and returns samples per second.
///
/// # Errors
/// [`LabError::Usage`] if the activation does not fit the network (`glu` halves its width).
fn samples_per_sec(args: &Args, activation: &ActivationSpec) -> Result<f64, LabError> {
    let mut rng = tensor::rng(0);
    let model = build(args, activation, &mut rng);
    check_activation_fits(&model, &[1, 1, 28, 28], activation, &args.activation)?;
    let mut opt: Box<dyn Optimizer> = match args.optimizer {
        OptimizerKind::Sgd => Box::new(Sgd::new(model.parameters(), 0.01)),
        OptimizerKind::Adam => Box::new(Adam::new(model.parameters(), 1e-3)),
    };
    // 64 batches, cut once: like the views PyTorch slices, no copy per step.
    let bs = args.batch_size;
    let batches: Vec<(Var, Tensor)> = (0..BATCHES)
        .map(|_| {
            let x = Tensor::randn([bs, 1, 28, 28], &mut rng);
            let labels = (0..bs)
                .map(|_| (rand::Rng::random::<u32>(&mut rng) % 10) as f32)
                .collect();
            (Var::constant(x), Tensor::from_vec(labels, [bs]))
        })
        .collect();
    let mut step = |i: usize| {
        let (x, y) = &batches[i % batches.len()];
        opt.zero_grad();
        let loss = cross_entropy(&model.forward(x), y);
        loss.backward();
        opt.step();
    };
    let steps = args.steps;
    for i in 0..(steps / 10).max(20) {
        step(i);
    }
    let start = Instant::now();
    for i in 0..steps {
        step(i);
    }
    Ok((steps * bs) as f64 / start.elapsed().as_secs_f64())
}
