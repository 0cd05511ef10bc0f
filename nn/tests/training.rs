//! End-to-end: a 2-layer MLP and a small CNN learn a synthetic batch (the loss falls at least
//! tenfold), print like PyTorch, and a run saved to a checkpoint and resumed matches an
//! uninterrupted run bit for bit.

mod common;

use std::collections::BTreeMap;

use autograd::Var;
use common::{relu, Relu};
use nn::loss::cross_entropy;
use nn::state::{load_module, save_checkpoint, OPTIM_PREFIX};
use nn::{cnn, mlp, BatchNorm1d, Linear, Module, Sequential};
use optim::{Adam, AdamW, Optimizer, RmsProp, Sgd};
use tensor::{Rng, Tensor};

/// `n` points in `d` dimensions, labelled by which of `classes` random directions they lean
/// towards most: learnable, but not linearly trivial for a tiny net.
fn synthetic_features(n: usize, d: usize, classes: usize, rng: &mut Rng) -> (Tensor, Tensor) {
    let x = Tensor::randn([n, d], rng);
    let dirs = Tensor::randn([d, classes], rng);
    let labels = x.matmul(&dirs).argmax(1, false);
    (x, labels)
}

/// 1×12×12 images with a bright 3×3 blob in one of three columns (the class), plus noise.
fn synthetic_images(n: usize, rng: &mut Rng) -> (Tensor, Tensor) {
    let mut x = Tensor::normal([n, 1, 12, 12], 0.0, 0.3, rng);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 3;
        let row = (i * 7) % 9;
        for r in row..row + 3 {
            for c in class * 4..class * 4 + 3 {
                x.set(&[i, 0, r, c], x.get(&[i, 0, r, c]) + 2.0);
            }
        }
        labels.push(class as f32);
    }
    (x, Tensor::from_vec(labels, [n]))
}

/// Trains `model` on one batch for `steps` Adam steps; returns (first loss, last loss).
fn fit(model: &dyn Module, x: &Tensor, y: &Tensor, lr: f32, steps: usize) -> (f32, f32) {
    let mut opt = Adam::new(model.parameters(), lr);
    let x = Var::constant(x.clone());
    let mut first = f32::NAN;
    let mut last = f32::NAN;
    for step in 0..steps {
        let loss = cross_entropy(&model.forward(&x), y);
        if step == 0 {
            first = loss.item();
        }
        last = loss.item();
        opt.zero_grad();
        loss.backward();
        opt.step();
    }
    (first, last)
}

#[test]
fn two_layer_mlp_learns_a_batch() {
    let mut rng = tensor::rng(0);
    let (x, y) = synthetic_features(64, 10, 4, &mut rng);
    let model = mlp(&[10, 32, 4], relu, &mut rng);
    assert_eq!(
        model.to_string(),
        "Sequential(\n  (0): Linear(in_features=10, out_features=32, bias=True)\n  (1): ReLU()\n  \
         (2): Linear(in_features=32, out_features=4, bias=True)\n)"
    );
    let (first, last) = fit(&model, &x, &y, 0.01, 200);
    assert!(last < first / 10.0, "loss {first} -> {last}");
}

#[test]
fn small_cnn_learns_a_batch() {
    let mut rng = tensor::rng(1);
    let (x, y) = synthetic_images(24, &mut rng);
    let model = cnn([1, 12, 12], &[4, 8], 3, 3, relu, &mut rng);
    assert_eq!(
        model.to_string(),
        "Sequential(\n  (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n  \
         (1): ReLU()\n  \
         (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n  \
         (3): Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n  \
         (4): ReLU()\n  \
         (5): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n  \
         (6): Flatten(start_dim=1, end_dim=-1)\n  \
         (7): Linear(in_features=72, out_features=3, bias=True)\n)"
    );
    let (first, last) = fit(&model, &x, &y, 0.01, 60);
    assert!(last < first / 10.0, "loss {first} -> {last}");
}

fn resume_model(seed: u64) -> Sequential {
    let mut rng = tensor::rng(seed);
    Sequential::new()
        .push(Linear::new(10, 16, true, &mut rng))
        .push(BatchNorm1d::new(16))
        .push(Relu)
        .push(Linear::new(16, 4, true, &mut rng))
}

fn train_steps(model: &Sequential, opt: &mut dyn Optimizer, batches: &[(Tensor, Tensor)]) {
    model.train();
    for (x, y) in batches {
        let loss = cross_entropy(&model.forward(&Var::constant(x.clone())), y);
        opt.zero_grad();
        loss.backward();
        opt.step();
    }
}

fn bits(model: &Sequential) -> Vec<(String, Vec<u32>)> {
    nn::state::state_dict(model)
        .into_iter()
        .map(|(n, t)| (n, t.data().iter().map(|v| v.to_bits()).collect()))
        .collect()
}

#[test]
fn save_load_continue_matches_an_uninterrupted_run() {
    type MakeOpt = fn(Vec<Var>) -> Box<dyn Optimizer>;
    let optimizers: [(&str, MakeOpt); 4] = [
        ("SGD", |p| {
            Box::new(Sgd::new(p, 0.05).momentum(0.9).nesterov(true))
        }),
        ("Adam", |p| Box::new(Adam::new(p, 0.01).amsgrad(true))),
        ("AdamW", |p| Box::new(AdamW::new(p, 0.01))),
        ("RMSprop", |p| {
            Box::new(RmsProp::new(p, 0.01).centered(true).momentum(0.5))
        }),
    ];
    let mut rng = tensor::rng(5);
    let batches: Vec<(Tensor, Tensor)> = (0..8)
        .map(|_| synthetic_features(16, 10, 4, &mut rng))
        .collect();
    let dir = std::env::temp_dir().join(format!("minidl-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, make) in optimizers {
        // uninterrupted
        let a = resume_model(1);
        let mut opt_a = make(a.parameters());
        train_steps(&a, opt_a.as_mut(), &batches);

        // interrupted after 4 steps, saved, restored into a fresh model and optimizer
        let b = resume_model(1);
        let mut opt_b = make(b.parameters());
        train_steps(&b, opt_b.as_mut(), &batches[..4]);
        let path = dir.join(format!("{name}.safetensors"));
        let meta = BTreeMap::from([
            ("optimizer".to_string(), opt_b.name().to_string()),
            ("step".to_string(), "4".to_string()),
        ]);
        save_checkpoint(&path, &b, &opt_b.state_dict(), &meta).unwrap();
        drop((b, opt_b));

        let c = resume_model(99);
        let mut opt_c = make(c.parameters());
        let mut ck = load_module(&path, &c).unwrap();
        assert_eq!(ck.metadata["optimizer"], name);
        opt_c
            .load_state_dict(&ck.take_prefix(OPTIM_PREFIX))
            .unwrap();
        train_steps(&c, opt_c.as_mut(), &batches[4..]);
        assert_eq!(bits(&a), bits(&c), "{name}: resumed run differs");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
