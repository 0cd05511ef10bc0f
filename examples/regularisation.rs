//! Does RReLU regularise? An MLP trained long on a small training set learns it by heart; the
//! gap between its training and test accuracy measures how much it overfits. relu vs
//! leaky_relu at RReLU's mean slope vs rrelu, over several seeds.
//!
//! ```text
//! cargo run --release --example regularisation
//! cargo run --release --example regularisation -- --seeds 5 --epochs 40 --report out/reg
//! cargo run --release --example regularisation -- --limit-train 2000 --activations relu,rrelu:0.1,0.3
//! ```
//!
//! MNIST is read from `--data-dir`, else `$MNIST_DIR`, else `data/mnist`; without it the example
//! says so and uses synthetic digits (`--download` fetches MNIST).
//!
//! # The setup, and why
//! MLP 784-256-256-10, PyTorch's default initialisation, Adam at lr 1e-3, batch 64, 20 epochs
//! on the first 1,000 training images (`--limit-train N` changes that), tested on all 10,000
//! test images; seeds 0, 1, 2 (`--seeds 5` is 0 to 4). 1,000 images and 200,000 weights:
//! the net reaches 100% on its training images and the test accuracy stays far below, the
//! regime where a regulariser can show.
//!
//! RReLU (Xu et al. 2015) is leaky ReLU with a slope drawn at random from U(1/8, 1/3) for
//! every element at every training step (PyTorch's defaults); in evaluation it uses the mean
//! slope, (1/8 + 1/3)/2 = 11/48 ≈ 0.229. The claim is that the random slope regularises. To
//! test the randomness and not the slope, the comparison is against leaky ReLU with exactly
//! that slope (`leaky_relu:0.22916667`, the same function RReLU computes in evaluation) as
//! well as against plain ReLU.
//!
//! Train accuracy is measured like test accuracy: after the last epoch, in evaluation mode,
//! on the training images. (The `mnist` example's per-epoch train accuracy is counted during
//! the epoch, in training mode — with RReLU's random slopes, on a model that changes with each
//! step — so it would not measure a gap.) The table gives train accuracy, test accuracy and
//! the gap, mean ± spread (sample standard deviation over the seeds, in points). The
//! conclusion compares the last activation's per-seed gaps with each other activation's by
//! Welch's t-test (two-sided, p < 0.05, `minidl::stats`): "rrelu regularises" holds only where
//! its gap is smaller beyond the seeds' spread. `--report DIR` draws the runs' charts and shows
//! the table and the conclusion.
//!
//! The experiment lives in the library, [`minidl::experiments::regularisation`], so that a
//! crate of one's own can run it too.

fn main() -> std::process::ExitCode {
    minidl::experiments::regularisation::main()
}
