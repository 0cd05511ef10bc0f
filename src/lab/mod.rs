//! The activation lab: the training bookkeeping every example uses, from a command line to
//! metrics, charts and checkpoints.
//!
//! The `mnist` example writes the model, the optimizer and the training loop itself and takes
//! the rest from here: a [`Session`] checks its flags and output paths ([`check_paths`]),
//! loads the data ([`load_data`]), and around the loop resumes, saves, prints and reports; a
//! [`Run`] does one activation's bookkeeping inside the loop (learning rate, checks, step
//! records) and after each epoch (evaluation, per-layer diagnostics). The examples that study
//! one phenomenon use a [`Trainer`]: a [`Run`] with its model ([`Architecture::build`],
//! [`init_weights`]) and optimizer ([`build_optimizer`]), whose epoch is the example's loop;
//! [`run`] is the `mnist` example with that loop.
//!
//! | file | holds |
//! | --- | --- |
//! | `error.rs` | [`LabError`], the list and activation flag checks ([`once_each`], [`parse_activation`]) |
//! | `cause.rs` | [`NonFiniteCause`]: what made a run's values NaN or ±inf |
//! | `data.rs` | [`Data`], [`load_data`] |
//! | `architecture.rs` | [`Architecture`], its size, and the limits it is checked against |
//! | `init.rs` | [`init_weights`], [`nonlinearity`], [`build_optimizer`] |
//! | `config.rs` | [`RunConfig`], its learning-rate schedule ([`RunSchedule`], from `optim`) |
//! | `probe.rs` | [`check_activation_fits`], the probe of an activation on ordinary inputs |
//! | `run.rs` | [`Run`]: one activation's run around its caller's loop |
//! | `trainer.rs` | [`Trainer`]: a run with its model and optimizer |
//! | `checkpoint.rs` | [`Run::save`], [`Run::resume`] |
//! | `paths.rs` | [`check_paths`], [`RunPath`] |
//! | `session.rs` | [`Session`]: the `mnist` command line around the loop |
//! | `main.rs` | [`main`]: the `mnist` command line from your own binary (after [`register`]) |
//!
//! # What one epoch does
//! 1. **Train** ([`Run::batches`], then each step): the training set in the order
//!    `DataLoader::shuffle(seed).epoch(e)` gives — a permutation drawn from ChaCha8 seeded with
//!    the seed, on stream `e` — so the order depends only on `(seed, epoch)` and a resumed run
//!    needs no generator state. Each step: the learning rate for this point of the run
//!    ([`Run::lr`] from [`RunConfig::schedule`]: a cosine from `--lr` to 0 over the planned
//!    epochs, or a factor per epoch), forward, cross-entropy, [`Run::check`], `backward`,
//!    [`Run::check_grads`], optimizer step, [`Run::record`]; training accuracy comes from the
//!    logits already computed. Gradient norms are measured by [`nn::Diagnostics`]' hooks on
//!    the parameters.
//! 2. **Evaluate** ([`Run::end_epoch`], [`Run::evaluate`]): the test set in batches of 1000,
//!    in evaluation mode and under `no_grad`, with the activation probes on: dead and
//!    saturated units, mean and spread of each activation's output are measured here, on the
//!    test images, so they cost training nothing.
//!
//! # Checkpoints
//! `--save FILE` writes, after every epoch, one safetensors file (atomically) holding the
//! model's parameters and buffers, the optimizer's state (under `optim.`), every step's loss
//! (`lab.step_losses`), and metadata: the format version, the architecture (the model as
//! printed when built, so a learnable activation shows its starting value; the activation
//! spec; the hidden sizes), the training settings, the epoch, the
//! global step, the seed and the metrics so far. `--resume FILE` checks that the file was
//! saved from the same architecture and settings (naming what differs if not), loads it and
//! goes on at the next epoch; the resumed run's metrics equal an uninterrupted run's, except
//! the timings. Under the cosine decay the run must keep its `--epochs` (the curve spans
//! them); under a per-epoch decay (`--lr-decay 0.5`) a finished run can be resumed for more
//! epochs, and equals a run that was that long from the start. (A randomised activation such
//! as `rrelu` draws its slopes from its own generator, which is not saved: its resumed run is
//! the same in distribution only.)
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
use crate::metrics::RunHistory;

mod architecture;
mod cause;
mod checkpoint;
mod config;
mod data;
mod error;
mod init;
mod main;
mod paths;
mod probe;
mod run;
mod session;
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
pub use main::{main, main_from, main_with};
pub use nn::activation::register;
pub use paths::{check_paths, RunPath};
pub use probe::check_activation_fits;
pub use run::{EpochTraining, Evaluation, Run, EVAL_BATCH};
pub use session::{Activation, Session};
pub use trainer::Trainer;

/// The `mnist` example in one call, with the library's loop ([`Trainer`]'s) where the example
/// writes its own: trains every activation `args` names, one after another with the same seed
/// and data order (once per seed of `--seeds`), printing to `out` what the example prints, and writes the `--metrics`
/// file, the `--save` checkpoint and the `--report`. Returns the histories, equal to the
/// example's.
///
/// # Errors
/// Any [`LabError`]; input errors (activation specs, flags, the report folder, the metrics
/// file, `--resume`) are found before training starts.
pub fn run(args: &LabArgs, out: &mut dyn Write) -> Result<Vec<RunHistory>, LabError> {
    let mut lab = Session::new(args, out)?;
    for (act, seed) in lab.runs() {
        let mut rng = tensor::rng(seed);
        let model = lab.build(&act.spec, &mut rng)?;
        let (kind, lr) = (lab.config().optimizer, lab.config().lr);
        let mut opt = build_optimizer(kind, lr, model.parameters());
        let mut run = lab.begin(&act, seed, &model, opt.as_mut(), &mut rng)?;
        while !run.is_finished() {
            let train = lab.data().train.clone();
            trainer::train_epoch(&mut run, &model, opt.as_mut(), &train, true)?;
            lab.end_epoch(&mut run, &model, opt.as_ref())?;
        }
        lab.end_run(run);
    }
    lab.finish()
}
