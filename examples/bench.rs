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
//! `--activation` takes any registry spec (`relu`, `leaky_relu:0.1`, `mish`, ...); see
//! `nn::activation::Activation::from_name`. `--threads N` is `tensor::set_num_threads(N)`.
//!
//! A bad flag value is a clap error (exit status 2); an unknown activation prints the list of
//! valid names and exits with status 2.

use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use minidl::autograd::Var;
use minidl::nn::activation::Activation;
use minidl::nn::{self, loss::cross_entropy, Flatten, Linear, Module, Sequential};
use minidl::optim::{Adam, Optimizer, Sgd};
use minidl::tensor::{self, Tensor};

/// mimalloc keeps freed memory for the next allocation of the same size. glibc's allocator
/// returns large buffers (activations of a CNN: megabytes each) to the operating system and
/// page-faults them back at the next step, which costs about a quarter of a CNN step.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Which network to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Model {
    /// Flatten, then Linear layers 784 → hidden… → 10 with the activation between them.
    Mlp,
    /// The reference CNN (two 5×5 convolutions with 16 and 32 channels, max pooling, linear).
    Cnn,
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
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: u64,
    /// Threads for the kernels (`tensor::set_num_threads`).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    threads: u64,
    /// Timed training steps (after the warm-up).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// MLP hidden widths, comma-separated.
    #[arg(long, default_value = "128,64", value_delimiter = ',')]
    hidden: Vec<usize>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let activation = match Activation::from_name(&args.activation) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: --activation: {e}");
            return ExitCode::from(2);
        }
    };
    tensor::set_num_threads(args.threads as usize);
    let rate = samples_per_sec(&args, &activation);
    println!("samples_per_sec={rate:.1}");
    ExitCode::SUCCESS
}

/// The network of `args.model`, with a fresh activation layer wherever one goes.
fn build(args: &Args, activation: &Activation, rng: &mut tensor::Rng) -> Sequential {
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
    }
}

/// Trains for the warm-up, then times `args.steps` steps and returns samples per second.
fn samples_per_sec(args: &Args, activation: &Activation) -> f64 {
    let mut rng = tensor::rng(0);
    let model = build(args, activation, &mut rng);
    let mut opt: Box<dyn Optimizer> = match args.optimizer {
        OptimizerKind::Sgd => Box::new(Sgd::new(model.parameters(), 0.01)),
        OptimizerKind::Adam => Box::new(Adam::new(model.parameters(), 1e-3)),
    };
    // 64 batches, cut once: like the views PyTorch slices, no copy per step.
    let bs = args.batch_size as usize;
    let batches: Vec<(Var, Tensor)> = (0..64)
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
    let steps = args.steps as usize;
    for i in 0..(steps / 10).max(20) {
        step(i);
    }
    let start = Instant::now();
    for i in 0..steps {
        step(i);
    }
    (steps * bs) as f64 / start.elapsed().as_secs_f64()
}
