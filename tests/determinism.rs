//! Determinism: the same seed and thread count give bit-identical metrics — every step's
//! loss, every epoch's losses, accuracy and per-layer statistics — and so does any other
//! thread count.
//!
//! What could make results depend on the thread count is the order of floating-point sums.
//! minidl fixes it: the GEMM splits the rows or columns of the output (each element is summed
//! by one thread, in one order); convolutions split by samples and sum the weight gradient in
//! sample groups of a fixed size, whatever the number of threads; pooling splits by planes;
//! pointwise kernels (every activation) split long inputs into pieces of a fixed size, and a
//! learnable activation parameter's gradient adds the pieces' sums in order; optimizer
//! updates, elementwise, are cut one piece per thread, which cannot change a bit; whether a
//! dense layer's gradient behind ReLU takes the sparse kernel depends on the gradient only;
//! reductions run on one thread; synthetic digits are drawn per image from the seed; the data
//! order depends only on (seed, epoch). So the thread count changes the speed only, which this
//! test checks for two MLPs (one large enough for the GEMM's blocks, the SGD update's pieces
//! and the sparse weight gradient) and the CNN at 1, 2 and 3 threads.
//! (`rrelu` draws its slopes from its own generator, seeded by the layer; it is deterministic
//! too, but not part of this test.)
//!
//! One test function, so that no other test changes the thread count meanwhile.

mod common;

use clap::Parser;
use minidl::cli::LabArgs;
use minidl::lab::{Data, RunConfig, Trainer};
use minidl::metrics::RunHistory;

/// A history without its timings, as text with every float in full (`Debug` prints the
/// shortest form that reads back to the same bits).
fn untimed(h: &RunHistory) -> String {
    let mut h = h.clone();
    for e in &mut h.epochs {
        e.seconds = 0.0;
        e.samples_per_sec = 0.0;
    }
    format!("{h:?}")
}

/// Two epochs of `flags` on small synthetic train and test sets, with `threads` threads.
fn train(flags: &[&str], threads: usize, data: &Data) -> String {
    tensor::set_num_threads(threads);
    let args = LabArgs::try_parse_from(
        ["mnist", "--epochs", "2", "--quiet", "--lr-decay", "0.5"]
            .iter()
            .chain(flags),
    )
    .unwrap();
    let config = RunConfig::from_args(&args).unwrap();
    let mut trainer = Trainer::new(&config, &args.activation, data).unwrap();
    while !trainer.is_finished() {
        trainer.try_run_epoch(data).unwrap();
    }
    untimed(trainer.history())
}

#[test]
fn same_seed_gives_bit_identical_metrics_at_any_thread_count() {
    let data = common::synthetic_data(384, 200, 7);
    let mlp = ["--hidden", "48,24", "--activation", "mish"];
    let relu = ["--hidden", "128,64", "--activation", "relu"];
    let cnn = [
        "--model",
        "cnn",
        "--activation",
        "leaky_relu:0.1",
        "--batch-size",
        "32",
    ];
    for (name, flags) in [
        ("mlp", &mlp[..]),
        ("relu mlp", &relu[..]),
        ("cnn", &cnn[..]),
    ] {
        let first = train(flags, 2, &data);
        assert!(first.contains("train_loss"), "{first}");
        assert_eq!(
            train(flags, 2, &data),
            first,
            "{name}: same seed, same threads"
        );
        for threads in [1, 3] {
            assert_eq!(
                train(flags, threads, &data),
                first,
                "{name}: {threads} threads"
            );
        }
        // the comparison can see a difference: another seed gives another run
        let mut other = flags.to_vec();
        other.extend(["--seed", "1"]);
        assert_ne!(train(&other, 2, &data), first, "{name}: seed 1");
    }
}
