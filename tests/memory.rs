//! Long runs keep resident memory flat: 20 epochs of training and evaluation leave no graph,
//! gradient or buffer behind. Resident memory (`VmRSS` in `/proc/self/status`) is read after
//! every epoch; after the first epochs, which allocate the model, the optimizer state, the
//! data and the allocator's pools, it must stay within a small margin. A graph kept alive by
//! mistake (a loss pushed into a list, a hook holding an output) costs at least one batch's
//! activations per step, hundreds of kilobytes per epoch here, megabytes over the run.
#![cfg(target_os = "linux")]

mod common;

use clap::Parser;
use minidl::cli::LabArgs;
use minidl::lab::{RunConfig, Trainer};

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn twenty_epochs_keep_resident_memory_flat() {
    let data = common::synthetic_data(1024, 256, 3);
    let args = LabArgs::try_parse_from([
        "mnist",
        "--epochs",
        "20",
        "--hidden",
        "128,64",
        "--activation",
        "swish:learnable",
        "--quiet",
    ])
    .unwrap();
    let config = RunConfig::from_args(&args).unwrap();
    let mut trainer = Trainer::new(&config, &args.activation, &data).unwrap();
    let mut rss = Vec::new();
    while !trainer.is_finished() {
        trainer.try_run_epoch(&data).unwrap();
        rss.push(rss_kib());
    }
    // from epoch 5 on, nothing grows: at most 2 MiB above epoch 5 at any later epoch
    let base = rss[4];
    let peak = *rss[4..].iter().max().unwrap();
    assert!(
        peak <= base + 2048,
        "resident memory grew from {base} KiB (epoch 5) to {peak} KiB: {rss:?}"
    );
    // and the run did train 20 epochs, with a history that grows by design (one loss per step)
    assert_eq!(trainer.history().epochs.len(), 20);
    assert_eq!(trainer.history().step_losses.len(), 20 * 16);
}
