//! The activation lab: train a network on MNIST and watch what the activation does to it.
//!
//! ```text
//! cargo run --release --example mnist -- --activation mish
//! cargo run --release --example mnist -- --compare relu,sigmoid,mish --epochs 1 \
//!     --metrics m.jsonl --report out
//! cargo run --release --example mnist -- --model cnn --activation leaky_relu:0.1 --epochs 1
//! cargo run --release --example mnist -- --help
//! ```
//!
//! Each epoch trains on the 60,000 training images (a progress bar shows the running loss,
//! accuracy and speed), then evaluates on the 10,000 test images and prints one line —
//! training loss, test loss, test accuracy, seconds, samples per second — and a table with a
//! row per weight (its gradient norm, averaged over the epoch's steps) and per activation layer
//! (the share of dead units, which output exactly 0 for every test image; the share of
//! saturated outputs, where |f′(x)| < 0.01 so that almost no gradient flows back; and the mean
//! and spread of its output).
//!
//! `--compare A,B,C` trains one activation after another with the same seed, hence the same
//! initial weights and data order, and ends with a comparison table; `--report DIR` draws the
//! loss, accuracy, gradient-norm and dead-unit charts of all of them into `DIR/index.html`,
//! and `--metrics FILE` keeps every epoch as a JSON line. `--save FILE` checkpoints after every
//! epoch; `--resume FILE` continues exactly where that run stopped.
//!
//! The activation is any registry name with its arguments (`leaky_relu:0.1`, `elu:alpha=0.5`,
//! `swish:learnable`) or a formula in x. Without the MNIST files (looked for in `--data-dir`,
//! then `$MNIST_DIR`, then `data/mnist`) the lab trains on synthetic digits and says so;
//! `--download` fetches the real ones.
//!
//! Everything shared with the other examples — the flags, the training loop, the diagnostics,
//! the checkpoints, the report — lives in the `minidl` facade (`minidl::cli`, `minidl::lab`),
//! so this file is only the command line and the exit status: any bad input (an unknown
//! activation, a missing data set, a checkpoint from another architecture, a folder that
//! cannot be written) ends with `error: …` and exit status 2.

use std::process::ExitCode;

use minidl::cli::LabArgs;
use minidl::lab;

fn main() -> ExitCode {
    let args: LabArgs = minidl::cli::parse_args();
    match lab::run(&args, &mut std::io::stdout().lock()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => e.exit(),
    }
}
