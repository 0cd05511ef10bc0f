//! Does one activation converge faster than another? relu vs swish vs mish vs gelu on the same
//! MLP, several seeds: the loss on the whole training set after N steps, and the test
//! accuracy, as mean ± spread, so a claim like "Mish converges faster" is shown or refuted.
//!
//! ```text
//! cargo run --release --example convergence
//! cargo run --release --example convergence -- --seeds 0,1,2,3,4 --at 50,100,300,1000,2000
//! cargo run --release --example convergence -- --activations relu,elu,selu --epochs 3 \
//!     --report out/conv
//! ```
//!
//! MNIST is read from `--data-dir`, else `$MNIST_DIR`, else `data/mnist`; without it the example
//! says so and uses synthetic digits (`--download` fetches MNIST, `--limit-train N` shortens
//! the runs).
//!
//! # The setup, and why
//! MLP 784-128-64-10 (the `mnist` example's default), PyTorch's default init, Adam at lr 1e-3,
//! batch 64; seeds 0, 1, 2 by default. Each seed fixes the initial weights and the data order,
//! and every activation gets the same ones, so the activation is the only thing that differs
//! within a seed. The loss is measured on all 60,000 training images at each step of `--at`
//! (default 100, 300, 1000), not read from the noisy batch losses; the test accuracy is
//! measured at the end (after the last `--at` step, or after `--epochs` epochs if given).
//!
//! The spread is the sample standard deviation over the seeds (`--seeds 5` is seeds 0 to 4).
//! Two activations are called apart only when Welch's t-test (two-sided, p < 0.05,
//! `minidl::stats`) on their per-seed values says so; otherwise the gap is reported as
//! "inside the spread", with its p-value. One seed gives no verdict. (PyTorch on this setup: relu trails at step 100, 0.373 ±
//! 0.008 against gelu 0.348 ± 0.006; by step 1000 the gap, 0.012, is inside the seed spread,
//! and the test accuracy is the same, 95.8–95.9%.)
//!
//! The training loop is written out here rather than taken from `minidl::lab::Trainer`, which
//! trains whole epochs: the losses are wanted at given steps. The model, its initialisation,
//! the data order and the evaluation are the Trainer's: the first 1000 steps are those of
//! `mnist --hidden 128,64 --optimizer adam --lr 0.001 --lr-decay 1 --seed S --activation A`.
//! `--report DIR` draws the runs' loss curves and diagnostics.
//!
//! The experiment lives in the library, [`minidl::experiments::convergence`], so that a crate of
//! one's own can run it too.

fn main() -> std::process::ExitCode {
    minidl::experiments::convergence::main()
}
