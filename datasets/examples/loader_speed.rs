//! How much of a training epoch the DataLoader costs: one epoch of batches of 64 over the
//! 60,000 MNIST training images (with and without prefetch), against one epoch of a
//! 784-128-10 MLP trained on prebuilt batches with a bare GEMM (a lower bound on any framework's
//! epoch, so the loader's share printed is an upper bound), and the same MLP fed by the loader.
//!
//! `cargo run --release -p datasets --example loader_speed [-- DATA_DIR]`
//! (DATA_DIR defaults to `--data-dir` rules: MNIST_DIR, then data/mnist; without the files it
//! uses 60,000 synthetic digits).

mod common;

use std::path::PathBuf;
use std::time::Instant;

use datasets::{DataLoader, Mnist, SyntheticDigits};

fn main() {
    let arg = std::env::args().nth(1).map(PathBuf::from);
    let dir = Mnist::resolve_dir(arg.as_deref());
    let (train, test) = match Mnist::load(&dir) {
        Ok(m) => (m.train, m.test),
        Err(e) => {
            eprintln!("{e}\nusing synthetic digits instead");
            let s = SyntheticDigits::splits(60_000, 10_000, 0);
            (s.train, s.test)
        }
    };
    println!("{}: {} images", train.name(), train.len());

    for prefetch in [false, true] {
        let loader = DataLoader::new(&train, 64)
            .shuffle(0)
            .flatten(true)
            .prefetch(prefetch);
        let mut best = f64::MAX;
        for epoch in 0..5 {
            let t = Instant::now();
            let mut checksum = 0.0f32;
            for (x, y) in loader.epoch(epoch) {
                checksum += x.data()[0] + y.data()[0];
            }
            best = best.min(t.elapsed().as_secs_f64());
            std::hint::black_box(checksum);
        }
        println!(
            "loader epoch (batch 64, prefetch {prefetch}): {:.1} ms (best of 5)",
            best * 1e3
        );
    }

    // The MLP alone, on batches built beforehand: the pure training cost of an epoch.
    let loader = DataLoader::new(&train, 64).shuffle(0).flatten(true);
    let batches: Vec<_> = loader.epoch(0).collect();
    let mut mlp = common::Mlp::new(784, 128, 10, 0);
    let t = Instant::now();
    for (x, y) in &batches {
        mlp.step(x.data(), y.data(), 0.1);
    }
    let compute = t.elapsed().as_secs_f64();
    drop(batches);
    let test_loader = DataLoader::new(&test, 1000).flatten(true);
    println!(
        "MLP 784-128-10 epoch on prebuilt batches (bare GEMM, batch 64): {:.0} ms, test accuracy {:.2}%",
        compute * 1e3,
        100.0 * mlp.accuracy(&test_loader)
    );
    // The same training fed by the loader, inline and with prefetch.
    for prefetch in [false, true] {
        let loader = DataLoader::new(&train, 64)
            .shuffle(0)
            .flatten(true)
            .prefetch(prefetch);
        let mut mlp = common::Mlp::new(784, 128, 10, 0);
        let t = Instant::now();
        for (x, y) in loader.epoch(1) {
            mlp.step(x.data(), y.data(), 0.1);
        }
        let total = t.elapsed().as_secs_f64();
        println!(
            "MLP epoch fed by the loader (prefetch {prefetch}): {:.0} ms, {:+.1}% over prebuilt",
            total * 1e3,
            100.0 * (total - compute) / compute
        );
    }
}
