//! Made-up runs the report's unit tests draw and print.

use std::collections::BTreeMap;

use crate::metrics::{EpochMetrics, LayerStats, RunHistory};

/// Made-up but plausible histories: relu with a growing dead fraction, sigmoid with
/// vanishing first-layer gradients, swish with a learnable β.
pub(super) fn demo_runs(epochs: usize, steps_per_epoch: usize) -> Vec<RunHistory> {
    let acts = [("relu", 0.9f32), ("sigmoid", 1.6), ("swish", 0.8)];
    acts.iter()
        .enumerate()
        .map(|(k, &(act, slow))| {
            let mut h = RunHistory::new(act);
            for e in 1..=epochs {
                for s in 0..steps_per_epoch {
                    let step = (e - 1) * steps_per_epoch + s + 1;
                    let t = step as f32 / steps_per_epoch as f32;
                    let noise = ((step * 7919 + k * 104729) % 1000) as f32 / 1000.0 - 0.5;
                    h.record_step(step, 2.3 * (-t / slow).exp() + 0.08 + 0.05 * noise);
                }
                let ef = e as f32;
                let mut params = BTreeMap::new();
                if act == "swish" {
                    params.insert("1.beta".to_string(), 1.0 + 0.1 * ef);
                }
                h.record_epoch(EpochMetrics {
                    activation: act.into(),
                    seed: 0,
                    epoch: e,
                    steps: e * steps_per_epoch,
                    train_loss: 0.3 * slow / ef,
                    test_loss: 0.25 * slow / ef,
                    test_accuracy: 0.99 - 0.05 * slow / ef,
                    seconds: 4.0 + k as f64,
                    samples_per_sec: 15000.0 / (1.0 + k as f64),
                    params,
                    layers: vec![
                        LayerStats::parameter("0.weight", 0.05 * slow.powf(-ef)),
                        LayerStats::activation(
                            "1",
                            if act == "relu" { 0.02 * ef } else { 0.0 },
                            0.1 * slow,
                            0.3,
                            0.6,
                        ),
                        LayerStats::parameter("2.weight", 0.2 / ef),
                        LayerStats::activation("3", 0.01 * ef * (k as f32), 0.05, 0.2, 0.5),
                        LayerStats::parameter("4.weight", 0.3 / ef),
                    ],
                });
            }
            h
        })
        .collect()
}

/// [`demo_runs`] from each of `seeds` seeds (0, 1, …), seed after seed: seed s moves every
/// loss by a factor 1 + 0.03·s, every gradient norm by 1 + 0.1·s, and the test accuracy of
/// the k-th activation by 0.002·s·(k + 1).
pub(super) fn demo_seed_runs(seeds: u64, epochs: usize, steps_per_epoch: usize) -> Vec<RunHistory> {
    let mut runs = Vec::new();
    for seed in 0..seeds {
        for (k, mut h) in demo_runs(epochs, steps_per_epoch).into_iter().enumerate() {
            let f = 1.0 + 0.03 * seed as f32;
            h.seed = seed;
            for (_, l) in &mut h.step_losses {
                *l *= f;
            }
            for e in &mut h.epochs {
                e.seed = seed;
                e.train_loss *= f;
                e.test_loss *= f;
                e.test_accuracy += 0.002 * seed as f32 * (k + 1) as f32;
                for l in &mut e.layers {
                    l.grad_norm = l.grad_norm.map(|g| g * (1.0 + 0.1 * seed as f32));
                }
            }
            runs.push(h);
        }
    }
    runs
}
