//! Dead ReLUs, measured: how many hidden units of an MLP output exactly 0 for every one of the
//! 10,000 test images, before and after training, for relu vs leaky_relu vs elu vs mish.
//!
//! ```text
//! cargo run --release --example dead_relu
//! cargo run --release --example dead_relu -- --setup bias --seeds 5 --report out/dead
//! cargo run --release --example dead_relu -- --limit-train 6000 --activations relu,prelu
//! ```
//!
//! MNIST is read from `--data-dir`, else `$MNIST_DIR`, else `data/mnist`; without it the example
//! says so and uses synthetic digits (`--download` fetches MNIST, `--limit-train N` shortens
//! the runs).
//!
//! # The setup, and why
//! MLP 784-256-256-10 with PyTorch's default initialisation, plain SGD (no momentum, so
//! nothing smooths a bad step), batch 64, one epoch. A ReLU unit whose pre-activation is
//! negative for every input outputs 0 and has ReLU′ = 0 there, so no gradient reaches its
//! weights: once dead it stays dead. Two ways to push units there reliably on MNIST:
//!
//! - `--setup lr`: learning rate 0.5. Large early steps throw some units' weights and biases
//!   so far that they are negative for every image. Almost no unit is dead at
//!   initialisation; the deaths happen during training (PyTorch on the same setup: 0.07% →
//!   4.4% after one epoch, 14% in the first layer; ELU diverges at this rate).
//! - `--setup bias`: hidden biases initialised to −0.5, learning rate 0.1. About 40% of the
//!   ReLU units start dead. Units dead on the test images can still fire on some training
//!   images and are moved by the layers below them, so many come back — dying is a property
//!   of the whole input distribution, not of one batch.
//!
//! Each run is the one `mnist --hidden 256,256 --optimizer sgd --lr 0.5 --lr-decay 1
//! --epochs 1 --seed S --activation A` makes (with `--lr 0.1`, and the biases set, for
//! `--setup bias`). `--setup both` (the default) runs the two setups, with seeds 0, 1 and 2.
//! Leaky ReLU, ELU and Mish output exactly 0 only at x = 0, so they should show no dead
//! units; what they show is measured, not assumed.
//!
//! Per activation layer the table gives the dead fraction at initialisation and after
//! training, and the saturated fraction (outputs where |f′(x)| < 0.01, which pass almost no
//! gradient back), all measured on the test set by `nn::Diagnostics`, as mean ± spread (the
//! sample standard deviation over the seeds, in points); then a conclusion computed from those
//! numbers. "Died during training" or "came back" needs Welch's t-test (two-sided, p < 0.05,
//! `minidl::stats`) on the per-seed dead fractions after training against those at init; the
//! accuracy gap is tested the same way. With one seed there is no test, and a change of more
//! than 0.2 points is reported as a change. `--report DIR` draws the runs' charts (one sub-folder per
//! setup when there are two).
//!
//! The experiment lives in the library, [`minidl::experiments::dead_relu`], so that a crate of
//! one's own can run it too.

fn main() -> std::process::ExitCode {
    minidl::experiments::dead_relu::main()
}
