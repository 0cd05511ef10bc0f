//! Vanishing gradients, measured: the weight-gradient norm of every layer of a deep narrow MLP
//! on the first batch and after training, for sigmoid vs tanh vs relu vs mish, with PyTorch's
//! default initialisation and with Kaiming's.
//!
//! ```text
//! cargo run --release --example vanishing_gradients
//! cargo run --release --example vanishing_gradients -- --inits kaiming --epochs 2 --seeds 5 --report out/vg
//! cargo run --release --example vanishing_gradients -- --activations sigmoid,gelu --depth 5
//! ```
//!
//! MNIST is read from `--data-dir`, else `$MNIST_DIR`, else `data/mnist`; without it the example
//! says so and uses synthetic digits (`--download` fetches MNIST, `--limit-train N` shortens
//! the runs).
//!
//! # The setup, and why
//! Ten Linear layers, 784 → 9 × 64 → 10, an activation after each hidden one; plain SGD at
//! lr 0.1, batch 64, one epoch. Backpropagation multiplies the gradient by f′(x) and by a
//! weight matrix once per layer. σ′ ≤ 1/4, so nine sigmoids shrink it by a factor of at least
//! 4⁹ ≈ 2.6·10⁵ on top of what the weights do: the first layers get almost no gradient and
//! barely learn. tanh′(0) = 1 and ReLU′ = 1 on its active side, so they lose far less — *if*
//! the weights keep the signal's scale. PyTorch's default init (W ~ U(±1/√fan_in)) shrinks it
//! at every layer, so deep ReLU and Mish nets also stall; Kaiming init (W ~ N(0, gain²/fan_in),
//! with each activation's gain) keeps the scale, which rescues them but not sigmoid
//! (PyTorch on this setup: first/last-layer ratio on the first batch sigmoid 1.7e-7, tanh 0.32,
//! relu 0.023, mish 0.0098; after one epoch sigmoid 10%, tanh 91%, relu and mish 11%, and with
//! Kaiming relu 94%, mish 95.5%, sigmoid still 10%).
//!
//! Each run is the one `mnist --depth 9 --width 64 --init default|kaiming --optimizer sgd
//! --lr 0.1 --lr-decay 1 --epochs 1 --activation A` makes. The tables give each weight's
//! gradient norm ‖∂loss/∂W‖₂ on the very first batch and as the mean over the last epoch's
//! steps (`nn::Diagnostics`, a hook on every parameter), the ratio of the first layer's to the
//! last layer's, and the test accuracy; the conclusion is computed from them. With several
//! `--seeds` (default 0, 1, 2; `--seeds 5` is 0 to 4) norms and ratios are geometric means
//! over the seeds (they span orders of magnitude), the ratio's spread is in decades of its
//! log10, and "smaller beyond the spread" or "rescues" is Welch's t-test (two-sided, p < 0.05)
//! on the per-seed log10 ratios or test accuracies. `--report DIR`
//! draws the charts (one sub-folder per init when there are two).
//!
//! The experiment lives in the library, [`minidl::experiments::vanishing_gradients`], so that a crate of
//! one's own can run it too.

fn main() -> std::process::ExitCode {
    minidl::experiments::vanishing_gradients::main()
}
