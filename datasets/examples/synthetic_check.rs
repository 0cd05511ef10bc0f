//! How hard the synthetic digits are: a nearest-class-mean classifier on raw pixels, and the
//! bare-GEMM MLP of `common` trained a few epochs; optionally a PGM grid of samples.
//!
//! `cargo run --release -p datasets --example synthetic_check [-- GRID.pgm]`

mod common;

use std::time::Instant;

use datasets::{DataLoader, Dataset, SyntheticDigits};

/// Accuracy on `test` of assigning each image to the class whose mean train image is nearest.
fn nearest_class_mean(train: &Dataset, test: &Dataset) -> f32 {
    let p = train.pixels();
    let mut sums = vec![0f64; 10 * p];
    let counts = train.class_counts();
    for i in 0..train.len() {
        let l = train.label(i) as usize;
        for (s, &v) in sums[l * p..(l + 1) * p].iter_mut().zip(train.image(i)) {
            *s += v as f64;
        }
    }
    let means: Vec<f32> = sums
        .chunks(p)
        .zip(&counts)
        .flat_map(|(s, &n)| s.iter().map(move |v| (v / n.max(1) as f64) as f32))
        .collect();
    let right = (0..test.len())
        .filter(|&i| {
            let img = test.image(i);
            let best = (0..10)
                .min_by(|&a, &b| {
                    let d = |c: usize| -> f32 {
                        means[c * p..(c + 1) * p]
                            .iter()
                            .zip(img)
                            .map(|(m, &v)| (m - v as f32).powi(2))
                            .sum()
                    };
                    d(a).total_cmp(&d(b))
                })
                .unwrap();
            best == test.label(i) as usize
        })
        .count();
    right as f32 / test.len() as f32
}

fn main() {
    let t = Instant::now();
    let s = SyntheticDigits::splits(60_000, 10_000, 0);
    println!(
        "generated 70,000 synthetic digits in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let (mean, std) = s.train.pixel_stats();
    println!("pixel mean {mean:.4}, std {std:.4}");
    println!(
        "nearest class mean: {:.2}%",
        100.0 * nearest_class_mean(&s.train, &s.test)
    );

    let loader = DataLoader::new(&s.train, 64)
        .shuffle(1)
        .flatten(true)
        .prefetch(true);
    let test = DataLoader::new(&s.test, 1000).flatten(true);
    let mut mlp = common::Mlp::new(784, 128, 10, 0);
    for epoch in 0..5 {
        for (x, y) in loader.epoch(epoch) {
            mlp.step(x.data(), y.data(), 0.1);
        }
        println!(
            "MLP epoch {}: test accuracy {:.2}%",
            epoch + 1,
            100.0 * mlp.accuracy(&test)
        );
    }
    if let Some(path) = std::env::args().nth(1) {
        s.train
            .save_pgm_grid(&path, 100, 10)
            .expect("writing the grid");
        println!("wrote {path}");
    }
}
