//! The activation lab: the training loop every example uses, from a command line to metrics,
//! charts and checkpoints.
//!
//! [`run`] is the whole `mnist` example: it loads the data ([`load_data`]), and for each
//! activation builds the network ([`Architecture::build`], [`init_weights`]), the optimizer
//! ([`build_optimizer`]) and a [`Trainer`], which trains epoch by epoch with a progress bar,
//! evaluates on the test set, and collects the per-layer diagnostics; `run` prints one line
//! and a layer table per epoch, appends to the `--metrics` file, saves the `--save`
//! checkpoint, and at the end draws the `--report`. Examples with a different experiment use
//! the same pieces.
//!
//! # What one epoch does
//! 1. **Train** ([`Trainer::train_epoch`]): the training set in the order
//!    `DataLoader::shuffle(seed).epoch(e)` gives — a permutation drawn from ChaCha8 seeded with
//!    the seed, on stream `e` — so the order depends only on `(seed, epoch)` and a resumed run
//!    needs no generator state. Each step: the learning rate for this point of the run
//!    ([`RunConfig::schedule`]: a cosine from `--lr` to 0 over the planned epochs, or a factor
//!    per epoch), forward, cross-entropy, `backward`, optimizer step; training accuracy comes
//!    from the logits already computed. Gradient norms are measured by [`nn::Diagnostics`]'
//!    hooks on the parameters.
//! 2. **Evaluate** ([`Trainer::evaluate`]): the test set in batches of 1000, in evaluation
//!    mode and under `no_grad`, with the activation probes on: dead and saturated units, mean
//!    and spread of each activation's output are measured here, on the test images, so they
//!    cost training nothing.
//!
//! # Checkpoints
//! `--save FILE` writes, after every epoch, one safetensors file (atomically) holding the
//! model's parameters and buffers, the optimizer's state (under `optim.`), every step's loss
//! (`lab.step_losses`), and metadata: the format version, the architecture (the model as
//! printed, the activation spec, the hidden sizes), the training settings, the epoch, the
//! global step, the seed and the metrics so far. `--resume FILE` checks that the file was
//! saved from the same architecture and settings (naming what differs if not), loads it and
//! goes on at the next epoch; the resumed run's metrics equal an uninterrupted run's, except
//! the timings. Under the cosine decay the run must keep its `--epochs` (the curve spans
//! them); under a per-epoch decay (`--lr-decay 0.5`) a finished run can be resumed for more
//! epochs, and equals a run that was that long from the start. (A randomised activation such as `rrelu` draws its slopes from its own
//! generator, which is not saved: its resumed run is the same in distribution only.)
//! Before it reads a byte `--resume` refuses what is not a regular file (a FIFO, a device, a
//! folder) and a file larger than a checkpoint of this model can be; then it refuses values
//! no saved run has — NaN or ±inf weights or moments, a negative second moment, a step count
//! that does not match the epochs, a newer `lab_version`, metadata `--save` does not write,
//! a JSON key written twice — naming the tensor or key, before the run changes.
//!
//! # Output files and standard streams
//! Before the data loads, [`check_paths`] checks every path the run will write (`--save`,
//! `--metrics`, the `--report` folder and its files): no two flags may name one file (through
//! links, `./a` vs `a`), no output may be `--resume`'s checkpoint (except `--save`, to go on in
//! the same file), a data file, or the file a standard stream is redirected to; a folder,
//! FIFO, socket or device is never replaced (a symbolic link is written through, to its
//! target); each folder is created and probed with a temporary file, and the temporary files
//! that killed runs left beside each output are removed. After each epoch the checkpoint and
//! the metrics line are written before the epoch's line is printed, so when standard output
//! fails (full, or a closed pipe) the run stops with status 2 and every finished epoch is on
//! disk, in the `--report` too.
//!
//! # Errors
//! Everything that comes from outside — an unknown activation, flags that do not fit
//! together, missing or corrupt data, a checkpoint from another run or a truncated one, a
//! folder that cannot be written — is a [`LabError`] with a one-line message (a formula's
//! adds the formula with a caret under the column); the examples print it as `error: …` and
//! exit with status 2 ([`LabError::exit`], which cannot panic even when stderr is full).

use std::io::Write;

use nn::Module;

use crate::cli::LabArgs;
use crate::metrics::{MetricsWriter, RunHistory};
use crate::report::{format_comparison_table, format_epoch_line, format_layer_table, write_report};

mod architecture;
mod cause;
mod checkpoint;
mod config;
mod data;
mod error;
mod init;
mod paths;
mod probe;
mod trainer;

pub use architecture::{
    Architecture, NetworkSize, DEFAULT_HIDDEN, DEFAULT_WIDTH, MAX_BATCH_VALUES, MAX_HIDDEN_LAYERS,
    MAX_PARAMETERS, MODEL_FLAGS,
};
pub use cause::NonFiniteCause;
pub use checkpoint::{LAB_VERSION, LAB_VERSION_KEY};
pub use config::{RunConfig, RunSchedule};
pub use data::{load_data, Data, SYNTHETIC_SIZES};
pub use error::{once_each, parse_activation, LabError, MAX_LIST};
pub use init::{build_optimizer, init_weights, nonlinearity};
pub use paths::{check_paths, RunPath};
pub use probe::check_activation_fits;
pub use trainer::{EpochTraining, Evaluation, Trainer, EVAL_BATCH};

use paths::{data_files, lab_paths};

// ---------------------------------------------------------------------------------------------
// The whole lab

/// The `mnist` example: trains every activation `args` names, one after another with the same
/// seed and data order, printing an epoch line and a layer table per epoch (only the lines
/// with `--quiet`) to `out`, a comparison table when there are several, and writes the
/// `--metrics` file, the `--save` checkpoint and the `--report`. Returns the histories.
///
/// # Errors
/// Any [`LabError`]; input errors (activation specs, flags, the report folder, the metrics
/// file, `--resume`) are found before training starts.
pub fn run(args: &LabArgs, out: &mut dyn Write) -> Result<Vec<RunHistory>, LabError> {
    let config = RunConfig::from_args(args)?;
    let specs = args.activation_specs();
    let flag = if args.compare.is_some() {
        "--compare"
    } else {
        "--activation"
    };
    if specs.is_empty() {
        return Err(LabError::Usage(format!("{flag}: no activation given")));
    }
    once_each(flag, &specs)?;
    for spec in &specs {
        parse_activation(spec, flag)?;
    }
    if specs.len() > 1 && (args.save.is_some() || args.resume.is_some()) {
        return Err(LabError::Usage(
            "--save and --resume hold one run: use them with a single --activation, not \
             with --compare"
                .into(),
        ));
    }
    if let Some(n) = args.train.threads {
        tensor::set_num_threads(n);
    }
    // anomaly mode for this thread (where the training runs), until `run` returns
    let _anomaly = args.train.detect_anomaly.then(autograd::AnomalyGuard::new);
    // every output checked (and the folders made) before the data loads or anything trains
    check_paths(&lab_paths(args, &data_files(&args.data)))?;
    let data = load_data(&args.data, out)?;
    writeln!(
        out,
        "data: {}: {} training and {} test images",
        data.description,
        data.train.len(),
        data.test.len()
    )?;
    let mut metrics = match &args.output.metrics {
        Some(path) if args.resume.is_none() => Some(MetricsWriter::create(path)?),
        _ => None,
    };
    if specs.len() > 1 {
        // every activation fits the network before the first one trains
        for spec in &specs {
            Trainer::new(&config, spec, &data)?;
        }
    }
    let report_settings = || {
        let mut settings = config.settings(&data);
        let names: Vec<&str> = specs.iter().map(String::as_str).collect();
        settings.insert(0, ("activations".into(), names.join(", ")));
        settings
    };
    let mut histories: Vec<RunHistory> = Vec::with_capacity(specs.len());
    for spec in &specs {
        let mut trainer = Trainer::new(&config, spec, &data)?;
        if let Some(path) = &args.resume {
            trainer.resume(path, &data)?;
            writeln!(
                out,
                "resumed {} at epoch {} (step {}) from {}",
                trainer.activation(),
                trainer.epochs_done(),
                trainer.steps(),
                path.display()
            )?;
            if let Some(mpath) = &args.output.metrics {
                metrics = Some(MetricsWriter::with_records(
                    mpath,
                    &trainer.history().epochs,
                )?);
            }
            if trainer.is_finished() {
                writeln!(
                    out,
                    "the checkpoint already holds {} epochs: nothing to train (raise --epochs \
                     to go on)",
                    trainer.epochs_done()
                )?;
            }
        }
        if histories.is_empty() {
            writeln!(
                out,
                "model: {} ({} parameters), init {}; {}, batch {}, {} epoch{}, seed {}",
                config
                    .architecture
                    .describe(data.input_shape(), data.classes()),
                trainer.model().num_parameters(),
                config.init,
                config.optimizer_text(),
                config.batch_size,
                config.epochs,
                if config.epochs == 1 { "" } else { "s" },
                config.seed
            )?;
        }
        while !trainer.is_finished() {
            let m = trainer.try_run_epoch(&data)?.clone();
            // the epoch's files first: if standard output fails at its line, they are on disk
            if let Some(path) = &args.save {
                trainer.save(path, &data)?;
            }
            if let Some(w) = metrics.as_mut() {
                w.append(&m)?;
            }
            let printed = writeln!(out, "{}", format_epoch_line(&m)).and_then(|()| {
                if !config.quiet {
                    for line in format_layer_table(&m.layers).lines() {
                        writeln!(out, "  {line}")?;
                    }
                }
                Ok(())
            });
            if let Err(e) = printed {
                // stopping: the report shows the finished epochs too (best effort, since the
                // error to report is standard output's)
                if let Some(dir) = &args.output.report {
                    let mut done = histories.clone();
                    done.push(trainer.history().clone());
                    let _ = write_report(dir, &done, &report_settings());
                }
                return Err(LabError::Output(e));
            }
        }
        histories.push(trainer.into_history());
    }
    // the report first, so that it is written even if standard output fails at the table
    let written = match &args.output.report {
        Some(dir) => write_report(dir, &histories, &report_settings())?,
        None => Vec::new(),
    };
    if histories.len() > 1 {
        writeln!(out, "\n{}", format_comparison_table(&histories))?;
    }
    if let Some(index) = written.last() {
        writeln!(out, "report: {}", index.display())?;
    }
    if let Some(w) = &metrics {
        writeln!(out, "metrics: {} ({} lines)", w.path().display(), w.len())?;
    }
    Ok(histories)
}
