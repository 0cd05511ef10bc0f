//! One training step of the reference networks, so that a change that slows training shows:
//! the MLP 784-128-64-10 with ReLU (SGD and Adam) and the CNN with ReLU (Adam), batch 64,
//! as `examples/bench.rs` runs them (random MNIST-shaped data, cross-entropy, SGD lr 0.01,
//! Adam lr 1e-3), on one thread and on two.
//!
//! `cargo bench --bench train_step`. Throughput is reported in samples per second
//! ("elem/s"), comparable with the `samples_per_sec` line of `examples/bench.rs`.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use minidl::autograd::Var;
use minidl::nn::{self, loss::cross_entropy, Flatten, Linear, Module, Relu, Sequential};
use minidl::optim::{Adam, Optimizer, Sgd};
use minidl::tensor::{self, Tensor};

/// The same allocator as the bench example: glibc's would page-fault the CNN's large
/// activations back in at every step.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 64;

/// A network, its optimizer, and 8 batches of random data to cycle through.
struct Trainer {
    model: Sequential,
    opt: Box<dyn Optimizer>,
    batches: Vec<(Var, Tensor)>,
    next: usize,
}

impl Trainer {
    fn new(cnn: bool, adam: bool) -> Trainer {
        let mut rng = tensor::rng(0);
        let model = if cnn {
            nn::cnn([1, 28, 28], &[16, 32], 5, 10, || Box::new(Relu), &mut rng)
        } else {
            Sequential::new()
                .push(Flatten::new())
                .push(Linear::new(784, 128, true, &mut rng))
                .push(Relu)
                .push(Linear::new(128, 64, true, &mut rng))
                .push(Relu)
                .push(Linear::new(64, 10, true, &mut rng))
        };
        let opt: Box<dyn Optimizer> = if adam {
            Box::new(Adam::new(model.parameters(), 1e-3))
        } else {
            Box::new(Sgd::new(model.parameters(), 0.01))
        };
        let batches = (0..8)
            .map(|_| {
                let x = Tensor::randn([BATCH, 1, 28, 28], &mut rng);
                let y = Tensor::from_vec(
                    (0..BATCH)
                        .map(|_| (rand::Rng::random::<u32>(&mut rng) % 10) as f32)
                        .collect(),
                    [BATCH],
                );
                (Var::constant(x), y)
            })
            .collect();
        Trainer {
            model,
            opt,
            batches,
            next: 0,
        }
    }

    /// zero_grad, forward, cross-entropy, backward, optimizer step.
    fn step(&mut self) {
        let (x, y) = &self.batches[self.next % self.batches.len()];
        self.next += 1;
        self.opt.zero_grad();
        let loss = cross_entropy(&self.model.forward(x), y);
        loss.backward();
        self.opt.step();
    }
}

fn train_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("train_step");
    group.throughput(Throughput::Elements(BATCH as u64));
    for (name, cnn, adam) in [
        ("mlp_relu_sgd", false, false),
        ("mlp_relu_adam", false, true),
        ("cnn_relu_adam", true, true),
    ] {
        if cnn {
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(4));
        } else {
            group
                .sample_size(50)
                .measurement_time(Duration::from_secs(3));
        }
        for threads in [1, 2] {
            tensor::set_num_threads(threads);
            let mut trainer = Trainer::new(cnn, adam);
            for _ in 0..20 {
                trainer.step(); // warm-up: optimizer state, allocator, caches
            }
            group.bench_function(BenchmarkId::new(name, format!("{threads}t")), |b| {
                b.iter(|| trainer.step())
            });
        }
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    train_step(&mut c);
    c.final_summary();
}
