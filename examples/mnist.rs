//! The activation lab: train a network on MNIST and watch what the activation does to it.
//!
//! ```text
//! cargo run --release --example mnist -- --activation mish
//! cargo run --release --example mnist -- --compare relu,sigmoid,mish --epochs 1 --report out
//! cargo run --release --example mnist -- --compare relu,mish --seeds 3 --epochs 1
//! cargo run --release --example mnist -- --model cnn --activation leaky_relu:0.1 --epochs 1
//! cargo run --release --example mnist -- --help
//! ```
//!
//! This file is the model, the optimizer and the training loop. `minidl::lab::Session` does the
//! rest the flags ask for: it checks them and every output path before anything trains, loads
//! MNIST (from `--data-dir`, `$MNIST_DIR` or `data/mnist`; else synthetic digits, saying so),
//! and ends each epoch with an evaluation on the test images, one line (losses, accuracy,
//! time) and a table per layer (gradient norms; dead and saturated units). `--compare A,B,C`
//! trains one activation after another from the same seed, `--seeds 3` each of them once per
//! seed (then the table shows mean ± std and whether each activation's test accuracy differs
//! from the first's by more than the seeds' spread); `--metrics FILE` keeps each epoch
//! as a JSON line, `--report DIR` draws charts, `--save`/`--resume FILE` checkpoint a run.
//! Bad input ends with `error: …` and exit status 2.

use std::io::Write;
use std::process::ExitCode;

use minidl::cli::{LabArgs, OptimizerKind};
use minidl::lab::{build_optimizer, LabError, Session};
use minidl::metrics::RunHistory;
use minidl::prelude::*;

fn main() -> ExitCode {
    match train(&minidl::cli::parse_args(), &mut std::io::stdout().lock()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => e.exit(),
    }
}

/// Trains each activation the flags name, one after another (once per seed with `--seeds`);
/// returns their histories.
pub fn train(args: &LabArgs, out: &mut dyn Write) -> Result<Vec<RunHistory>, LabError> {
    let mut lab = Session::new(args, out)?;
    for (act, seed) in lab.runs() {
        let mut rng = tensor::rng(seed); // every activation: the same start from each seed
        let model = match lab.hidden_layers() {
            Some(hidden) => {
                // 784 → hidden… → 10, the activation after each hidden layer
                let mut model = Sequential::new();
                let mut width = lab.data().input_shape().iter().product();
                for h in hidden {
                    let layer = Linear::new(width, h, true, &mut rng);
                    model = model.push(layer).push_boxed(act.spec.build());
                    width = h;
                }
                model.push(Linear::new(width, lab.data().classes(), true, &mut rng))
            }
            None => lab.build(&act.spec, &mut rng)?, // --model cnn
        };
        let lr = lab.config().lr;
        let mut opt: Box<dyn Optimizer> = match args.train.optimizer {
            OptimizerKind::Adam => Box::new(Adam::new(model.parameters(), lr)),
            other => build_optimizer(other, lr, model.parameters()), // sgd, momentum, adamw
        };
        // --init; with --resume, the weights, optimizer state and epoch the checkpoint holds
        let mut run = lab.begin(&act, seed, &model, opt.as_mut(), &mut rng)?;
        for epoch in run.epochs() {
            for (x, y) in run.batches(epoch) {
                opt.set_lr(run.lr()); // --lr-decay
                let logits = model.forward(&Var::constant(x));
                let loss = cross_entropy(&logits, &y);
                run.check(&loss)?; // stop at a NaN loss (--detect-anomaly: at the op)
                opt.zero_grad();
                loss.backward();
                run.check_grads()?; // --detect-anomaly, before the update
                opt.step();
                run.record(&loss, &logits, &y); // loss, accuracy, progress bar
            }
            lab.end_epoch(&mut run, &model, opt.as_ref())?; // test, --save, --metrics, table
        }
        lab.end_run(run);
    }
    lab.finish() // the comparison table, --report
}
