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
//!    ([`RunConfig::lr_at`]: a cosine from `--lr` to 0 over the planned epochs, or a factor
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

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use autograd::{no_grad, Var};
use datasets::{DataLoader, Dataset, FashionMnist, Mnist, SyntheticDigits};
use nn::activation::{ActivationSpec, ParseError};
use nn::init::{self, Nonlinearity};
use nn::loss::{cross_entropy, cross_entropy_with, Reduction};
use nn::{Diagnostics, Module, Sequential};
use optim::{Adam, AdamW, Optimizer, Sgd};
use tensor::{Rng, Tensor};

use crate::cli::{
    DataArgs, DatasetChoice, InitKind, LabArgs, LrDecay, ModelArgs, ModelKind, OptimizerKind,
};
use crate::metrics::{EpochMetrics, LayerStats, MetricsError, MetricsWriter, RunHistory};
use crate::report::{
    format_comparison_table, format_epoch_line, format_layer_table, write_report, EpochBar,
    ReportError,
};

// ---------------------------------------------------------------------------------------------
// Errors

/// Why the lab stopped. Every message is one line that says what was wrong and how to fix it.
#[derive(Debug)]
pub enum LabError {
    /// Command-line values that do not fit together (`--save` with `--compare`, `--hidden`
    /// with `--model cnn`, …).
    Usage(String),
    /// An activation spec that does not parse.
    Activation {
        /// The flag it came from: `"--activation"` or `"--compare"`.
        flag: &'static str,
        /// What the parser found wrong (for an unknown name: every valid name).
        source: ParseError,
    },
    /// The data set could not be found, downloaded or read.
    Data(datasets::Error),
    /// A checkpoint could not be read or written (missing, truncated, corrupt, unwritable).
    Checkpoint {
        /// `"--save"` or `"--resume"`.
        flag: &'static str,
        /// What went wrong; the message names the file.
        source: nn::state::Error,
    },
    /// A checkpoint that was read but does not belong to this run.
    Resume {
        /// The checkpoint.
        path: PathBuf,
        /// What differs or is missing.
        reason: String,
    },
    /// The metrics file could not be written.
    Metrics(MetricsError),
    /// The report could not be written.
    Report(ReportError),
    /// An output path (`--save`, `--metrics`, `--report`, or an example's own output flag)
    /// cannot be written: found by [`check_paths`] before the run starts.
    OutputPath {
        /// The flag that named the path, e.g. `"--save"`.
        flag: &'static str,
        /// What is wrong with the path; the message names it and says how to fix it.
        source: crate::fs::WriteError,
    },
    /// The loss stopped being finite: the run ends before anything more is saved, so the
    /// last `--save` checkpoint is the last good epoch.
    Diverged {
        /// Epoch of the run (from 1).
        epoch: usize,
        /// Step of the run (from 1), or the last step for the test loss.
        step: usize,
        /// `"training loss"` or `"test loss"`.
        what: &'static str,
        /// The value (NaN or ±inf).
        value: f32,
        /// What made it so, as far as the lab can tell.
        cause: NonFiniteCause,
    },
    /// `--detect-anomaly` found the first op whose output or gradient was not finite.
    Anomaly {
        /// Epoch of the run (from 1).
        epoch: usize,
        /// Step of the run (from 1).
        step: usize,
        /// The op, its input shapes and where in the model it sits (boxed: it is large, and
        /// every `Result` of the lab carries this error type).
        anomaly: Box<autograd::Anomaly>,
        /// What made it so, as far as the lab can tell.
        cause: NonFiniteCause,
    },
    /// Writing to standard output failed: it is full (`>/dev/full`), or it is a pipe whose
    /// reader has gone (`| head`). The run stops there rather than train on unseen (and, in a
    /// pipeline, holding the shell until it ends); the lab writes an epoch's `--metrics` line
    /// and `--save` checkpoint before printing its line, so every finished epoch is on disk.
    Output(io::Error),
    /// An example's own check of the library failed (a gradient that disagrees with its
    /// hand-derived value): not bad input but a bug to report, so exit status 1.
    Failed(String),
}

impl LabError {
    /// The process exit status for this error: 2 for bad input and for a standard output
    /// that cannot be written (full, or a closed pipe: the run stopped early, which a script
    /// must be able to tell from a finished run); 1 for a failed self-check (a bug, not input).
    pub fn exit_code(&self) -> u8 {
        match self {
            LabError::Failed(_) => 1,
            _ => 2,
        }
    }

    /// Prints `error: <message>` on stderr and returns the exit status, for `main`.
    ///
    /// The line is written with one `write_all` whose failure is ignored: with stderr full or
    /// closed (`2>/dev/full`) there is nowhere left to report to, and the exit status must
    /// still say what happened (`eprintln!` would panic, exit status 101).
    pub fn exit(&self) -> ExitCode {
        let line = format!("error: {self}\n");
        let _ = io::stderr().lock().write_all(line.as_bytes());
        ExitCode::from(self.exit_code())
    }
}

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabError::Usage(msg) => f.write_str(msg),
            LabError::Activation { flag, source } => write!(f, "{flag}: {source}"),
            LabError::Data(e) => write!(f, "data: {e}"),
            LabError::Checkpoint { flag, source } => write!(f, "{flag}: {source}"),
            LabError::Resume { path, reason } => {
                write!(f, "--resume: {}: {reason}", path.display())
            }
            LabError::Metrics(e) => write!(f, "--metrics: {e}"),
            LabError::Report(e) => write!(f, "--{e}"),
            LabError::OutputPath { flag, source } => write!(f, "{flag}: {source}"),
            LabError::Diverged {
                epoch,
                step,
                what,
                value,
                cause,
            } => write!(
                f,
                "training diverged: the {what} is {value} at step {step} (epoch {epoch}), so \
                 nothing more was saved; {cause}; --detect-anomaly names the first op that went \
                 non-finite"
            ),
            LabError::Anomaly {
                epoch,
                step,
                anomaly,
                cause,
            } => write!(
                f,
                "--detect-anomaly: step {step} (epoch {epoch}): {anomaly}; nothing more was \
                 saved; {cause}"
            ),
            LabError::Output(e) => write!(
                f,
                "standard output: cannot write ({e}), so the run stopped; every file already \
                 written (in the lab: each finished epoch's) is complete on disk; send the \
                 output to a file, or to a program that reads all of it"
            ),
            LabError::Failed(msg) => f.write_str(msg),
        }
    }
}

impl Error for LabError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            LabError::Activation { source, .. } => Some(source),
            LabError::Data(e) => Some(e),
            LabError::Checkpoint { source, .. } => Some(source),
            LabError::Metrics(e) => Some(e),
            LabError::Report(e) => Some(e),
            LabError::OutputPath { source, .. } => Some(source),
            LabError::Output(e) => Some(e),
            LabError::Anomaly { anomaly, .. } => Some(anomaly.as_ref()),
            LabError::Usage(_)
            | LabError::Resume { .. }
            | LabError::Diverged { .. }
            | LabError::Failed(_) => None,
        }
    }
}

/// What made a run's values NaN or ±inf, as far as the lab can tell after the fact: the hint
/// of [`LabError::Diverged`] and [`LabError::Anomaly`]. Only an overflow is helped by a
/// lower learning rate; saying so for the others sends the user the wrong way.
#[derive(Clone, Debug, PartialEq)]
pub enum NonFiniteCause {
    /// The activation gives NaN or ±inf (its value or its gradient) for an ordinary input,
    /// such as `ln(x)` for x ≤ 0 or `x/0`: its formula, not the run.
    Activation {
        /// The activation as given.
        activation: String,
        /// The input, from a probe of values between −3 and 3.
        input: f32,
        /// What the activation (or its gradient) gave for it.
        output: f32,
        /// Whether it is the gradient, not the value, that is not finite.
        gradient: bool,
    },
    /// An op turned finite inputs into NaN or ±inf by its definition, not by their size: ln
    /// or √ of a negative number, ln(0), 0/0, x/0.
    Domain {
        /// The op's name.
        op: &'static str,
    },
    /// It was so before any update of this run: the learning rate played no part.
    FromStart,
    /// The values grew, update after update, until they overflowed `f32`.
    Overflow {
        /// The learning rate the run started with (`--lr`).
        lr: f32,
    },
    /// The loss was finite and not growing the step before: not a learning rate too large.
    Sudden,
}

impl fmt::Display for NonFiniteCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NonFiniteCause::Activation {
                activation,
                input,
                output,
                gradient,
            } => {
                let what = if *gradient { "a gradient of " } else { "" };
                write!(
                    f,
                    "the activation {activation} itself gives {what}{output} for the ordinary \
                     input x = {input}, so it is the activation's values, not the learning \
                     rate: choose an activation that is finite for every x"
                )
            }
            NonFiniteCause::Domain { op } => write!(
                f,
                "`{op}` made NaN or ±inf from finite inputs (ln or √ of a negative number, \
                 ln(0), 0/0 or x/0), so it is the formula's domain, not an overflow or the \
                 learning rate: change the formula that applies `{op}`"
            ),
            NonFiniteCause::FromStart => f.write_str(
                "it was so before any update of this run, so the learning rate is not the \
                 cause: the starting weights (--init, or the --resume checkpoint) or the data are",
            ),
            NonFiniteCause::Overflow { lr } => {
                // the decimal the user typed, divided, not the f32 nearest to it divided
                let tenth = format!("{lr}").parse::<f64>().unwrap_or(*lr as f64) / 10.0;
                write!(
                    f,
                    "the loss grew until it overflowed: lower --lr (it was {lr}; try {tenth}) \
                     or clip the gradients (optim::clip_grad_norm)"
                )
            }
            NonFiniteCause::Sudden => f.write_str(
                "the loss was finite and not growing the step before, so a learning rate too \
                 large is not the likely cause: an op produced it",
            ),
        }
    }
}

impl From<io::Error> for LabError {
    fn from(e: io::Error) -> Self {
        LabError::Output(e)
    }
}

impl From<MetricsError> for LabError {
    fn from(e: MetricsError) -> Self {
        LabError::Metrics(e)
    }
}

impl From<ReportError> for LabError {
    fn from(e: ReportError) -> Self {
        LabError::Report(e)
    }
}

impl From<datasets::Error> for LabError {
    fn from(e: datasets::Error) -> Self {
        LabError::Data(e)
    }
}

/// The most items a list flag (`--compare`, and the examples' `--seeds`, `--activations`, `--at`, `--inits`) may hold. Each
/// seed or activation is a whole training run, so a longer list is a run of days, not an
/// experiment; a hundred is far more than any comparison the examples print.
pub const MAX_LIST: usize = 100;

/// Refuses a list longer than [`MAX_LIST`], or in which an item appears twice (two runs of one
/// seed, one activation or one initialisation would be counted twice in a mean and write the
/// same chart twice).
///
/// # Errors
/// [`LabError::Usage`] naming `flag` and the repeated item or the length.
pub fn once_each<T: PartialEq + std::fmt::Display>(
    flag: &str,
    items: &[T],
) -> Result<(), LabError> {
    if items.len() > MAX_LIST {
        return Err(LabError::Usage(format!(
            "{flag}: {} items; the limit is {MAX_LIST} (each is a training run): give fewer",
            items.len()
        )));
    }
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            return Err(LabError::Usage(format!(
                "{flag}: {item} is given twice: list each one once"
            )));
        }
    }
    Ok(())
}

/// Parses an activation spec, naming the flag it came from in the error.
///
/// # Errors
/// [`LabError::Activation`] with the parser's message (an unknown name lists the valid ones).
pub fn parse_activation(spec: &str, flag: &'static str) -> Result<ActivationSpec, LabError> {
    nn::activation::ActivationSpec::parse(spec.trim())
        .map_err(|source| LabError::Activation { flag, source })
}

// ---------------------------------------------------------------------------------------------
// Data

/// The training and test sets of a run, and where they came from.
#[derive(Clone, Debug)]
pub struct Data {
    /// The training images (after `--limit-train`).
    pub train: Dataset,
    /// The test images.
    pub test: Dataset,
    /// Which data set this is (never [`DatasetChoice::Auto`]).
    pub kind: DatasetChoice,
    /// For people: `"MNIST from data/mnist"`, `"synthetic digits"`.
    pub description: String,
}

impl Data {
    /// `[channels, rows, cols]` of one image.
    pub fn input_shape(&self) -> [usize; 3] {
        [1, self.train.rows(), self.train.cols()]
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.train.num_classes()
    }
}

/// Number of synthetic digits drawn for the training set (as many as MNIST has) and the test set.
pub const SYNTHETIC_SIZES: (usize, usize) = (60_000, 10_000);

/// Loads the data set `args` asks for. With `--dataset auto`, real MNIST if its files are
/// found, else synthetic digits, with one line on `out` saying so and how to get the real
/// data — but only when no folder was named (neither `--data-dir` nor `$MNIST_DIR`) and the
/// default folder holds none of the files: a folder that was named, or one that holds some of
/// the files, is meant to be used, so anything wrong with it is an error. `--limit-train N`
/// keeps the first N training images.
///
/// # Errors
/// [`LabError::Data`] when `mnist` or `fashion` is asked for and its files are missing (the
/// message says how to get them), when a named folder is wrong (missing, a file, some files
/// missing), when a file is corrupt, oversized, empty or of another image size than the
/// others, or when a download fails; [`LabError::Usage`] for `--download` or `--data-dir`
/// with `--dataset synthetic`, for `--download` in a build without the `download` feature,
/// and for `--limit-train 0`; [`LabError::Output`] if `out` fails.
pub fn load_data(args: &DataArgs, out: &mut dyn Write) -> Result<Data, LabError> {
    let limit = args.limit_train;
    if limit == Some(0) {
        return Err(LabError::Usage(
            "--limit-train: expected at least 1 training image, got 0; drop the flag to \
             train on all of them"
                .into(),
        ));
    }
    let (splits, kind, description) = match args.dataset {
        DatasetChoice::Synthetic => {
            if args.download {
                return Err(LabError::Usage(
                    "--download fetches MNIST or Fashion-MNIST; synthetic digits need nothing \
                     downloaded: drop --download or choose --dataset mnist"
                        .into(),
                ));
            }
            if let Some(dir) = &args.data_dir {
                return Err(LabError::Usage(format!(
                    "--data-dir {}: synthetic digits are drawn, not read from a folder: drop \
                     --data-dir or choose --dataset mnist (or fashion)",
                    dir.display()
                )));
            }
            (
                synthetic(limit),
                DatasetChoice::Synthetic,
                "synthetic digits".to_string(),
            )
        }
        DatasetChoice::Mnist => {
            let dir = Mnist::resolve_dir(args.data_dir.as_deref());
            let splits = load_mnist(Mnist::KIND, &dir, args.download)?;
            (
                splits,
                DatasetChoice::Mnist,
                format!("MNIST from {}", dir.display()),
            )
        }
        DatasetChoice::Fashion => {
            let dir = FashionMnist::resolve_dir(args.data_dir.as_deref());
            let splits = load_mnist(FashionMnist::KIND, &dir, args.download)?;
            let description = format!("Fashion-MNIST from {}", dir.display());
            (splits, DatasetChoice::Fashion, description)
        }
        DatasetChoice::Auto => {
            let dir = Mnist::resolve_dir(args.data_dir.as_deref());
            let named = args.data_dir.is_some()
                || std::env::var_os(Mnist::KIND.env_var()).is_some_and(|v| !v.is_empty());
            match load_mnist(Mnist::KIND, &dir, args.download) {
                Ok(splits) => (
                    splits,
                    DatasetChoice::Mnist,
                    format!("MNIST from {}", dir.display()),
                ),
                Err(LabError::Data(e)) if !named && !args.download && e.is_absent_data_set() => {
                    let fetch = if cfg!(feature = "download") {
                        "run with --download"
                    } else {
                        "build with --features download and run with --download"
                    };
                    writeln!(
                        out,
                        "note: MNIST not found in {}; training on synthetic digits instead \
                         (for the real data, {fetch}, or point --data-dir or MNIST_DIR at a \
                         folder holding the four MNIST files)",
                        dir.display()
                    )?;
                    (
                        synthetic(limit),
                        DatasetChoice::Synthetic,
                        "synthetic digits".to_string(),
                    )
                }
                Err(e) => return Err(e),
            }
        }
    };
    let train = match limit {
        Some(n) => splits.train.limit(n),
        None => splits.train,
    };
    // The readers refuse empty files; this keeps any other source from training on nothing
    // and printing a loss of 0.
    for (set, what) in [(&train, "training"), (&splits.test, "test")] {
        if set.is_empty() {
            return Err(LabError::Usage(format!(
                "data: {description} has no {what} images; choose a data set that has some"
            )));
        }
    }
    Ok(Data {
        train,
        test: splits.test,
        kind,
        description,
    })
}

/// Synthetic digits: `limit` training images (at most, and by default, 60,000) and 10,000 test
/// images, always from data seed 0 so that runs with different `--seed`s see the same images.
fn synthetic(limit: Option<usize>) -> datasets::Splits {
    let (train, test) = SYNTHETIC_SIZES;
    // the training set is 60,000 images, of which --limit-train keeps the first N
    SyntheticDigits::splits(limit.unwrap_or(train).min(train), test, 0)
}

/// Loads MNIST or Fashion-MNIST from `dir`, downloading the missing files first if asked.
fn load_mnist(
    kind: datasets::MnistKind,
    dir: &Path,
    download: bool,
) -> Result<datasets::Splits, LabError> {
    if download {
        #[cfg(feature = "download")]
        return Ok(kind.load_or_download(dir, true)?);
        #[cfg(not(feature = "download"))]
        return Err(LabError::Usage(format!(
            "--download: this build cannot download (the `download` feature is off); \
             rebuild with it (cargo run --release --features download --example mnist -- \
             --download), or copy the four {} files (raw or .gz) into {} yourself, or drop \
             --download to train on synthetic digits offline",
            kind.name(),
            dir.display()
        )));
    }
    Ok(kind.load(dir)?)
}

// ---------------------------------------------------------------------------------------------
// The network

/// The MLP's hidden widths when neither `--hidden` nor `--depth` is given. (784-128-64-10, the
/// benchmark's network, ends 3 epochs at 96.2–97.3% test accuracy — in PyTorch too — while
/// 784-256-128-10 reaches 97.7–98%.)
pub const DEFAULT_HIDDEN: [usize; 2] = [256, 128];

/// The width of each hidden layer for `--depth N` without `--width`.
pub const DEFAULT_WIDTH: usize = 64;

/// The most parameters a network may have: 2^26 = 67,108,864, 256 MiB of f32. Training holds
/// about four times that (the parameters, their gradients and Adam's two moments), 1 GiB,
/// which any machine that trains a network has. The default MLP has 235,146 parameters and the
/// CNN 28,938, so every network the examples are about is far below it, while a slip such as
/// `--hidden 10000000` (7.9 billion parameters on MNIST) is refused before anything is
/// allocated instead of aborting the process.
pub const MAX_PARAMETERS: usize = 1 << 26;

/// The most values the layers may output for one training batch: 2^27, 512 MiB of f32. The
/// graph keeps every layer's output until `backward`, which adds gradients of the same sizes,
/// so a batch at the limit needs 1 to 1.5 GiB. A batch of 64 through the default MLP holds
/// 100,000 values, through the CNN 9 million; the whole of MNIST (60,000 images) in one batch
/// through the default MLP, 94 million, still fits.
pub const MAX_BATCH_VALUES: usize = 1 << 27;

/// The most hidden layers an MLP may have. Every layer is a few ops per step, forward and
/// backward, whatever its width, so depth costs time even when the parameters are few:
/// `--depth 100000 --width 1` has 200,000 parameters but did not finish one epoch of 256
/// images in two minutes. 1000 layers is a hundred times the deepest network the examples
/// study (9) and trains such a run in seconds.
pub const MAX_HIDDEN_LAYERS: usize = 1000;

/// The flags that shape the lab's MLP, for messages that ask for a smaller one.
pub const MODEL_FLAGS: &str = "--hidden, or --depth and --width";

/// How much a network holds: its parameters, and the values its layers output for one image.
/// Counted in `u128` with saturating arithmetic, so sizes from any command line compare
/// correctly with the limits (a count that saturates is far above them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkSize {
    /// Learnable numbers (weights and biases).
    pub parameters: u128,
    /// Values the layers output for one image: each layer's output, each activation's and
    /// pooling's, and a convolution's unfolded input.
    pub values_per_image: u128,
}

/// The size of a count of f32 values in bytes: `"256 MiB"`, `"29.6 GiB"`.
fn f32_bytes(values: u128) -> String {
    let bytes = values.saturating_mul(4) as f64;
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < units.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit + 1 == units.len() && v >= 1024.0 {
        return "more than a zebibyte".into();
    }
    if v >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0} {}", units[unit])
    } else {
        format!("{v:.1} {}", units[unit])
    }
}

/// A count for people: exact below 10^15, else `"about 3.4e38"`.
fn count(n: u128) -> String {
    if n < 1_000_000_000_000_000 {
        n.to_string()
    } else {
        format!("about {:.1e}", n as f64)
    }
}

/// Which network to build: the shape of the model, before any activation is chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// Linear layers of these hidden widths on flattened images, an activation after each.
    Mlp {
        /// The hidden widths, input side first (empty: a linear classifier).
        hidden: Vec<usize>,
    },
    /// The reference CNN (`nn::cnn`): for each channel count a 5×5 "same" convolution, the
    /// activation and a 2×2 max pooling, then one Linear layer.
    Cnn {
        /// Output channels of each convolution.
        channels: Vec<usize>,
        /// Kernel size (odd).
        kernel: usize,
    },
}

impl Architecture {
    /// The reference CNN: conv(1→16, 5×5) · act · pool · conv(16→32, 5×5) · act · pool · linear.
    pub fn reference_cnn() -> Architecture {
        Architecture::Cnn {
            channels: vec![16, 32],
            kernel: 5,
        }
    }

    /// The architecture the model flags ask for.
    ///
    /// # Errors
    /// [`LabError::Usage`] for `--hidden`, `--depth` or `--width` with `--model cnn`, and for
    /// hidden layers whose parameters alone, between them, exceed [`MAX_PARAMETERS`] on any
    /// data (found here, before the data is read).
    pub fn from_args(m: &ModelArgs) -> Result<Architecture, LabError> {
        match m.model {
            ModelKind::Cnn => {
                if m.hidden.is_some() || m.depth.is_some() {
                    return Err(LabError::Usage(
                        "--hidden, --depth and --width shape the MLP; the CNN is fixed \
                         (conv 16, conv 32, 5×5): drop them or use --model mlp"
                            .into(),
                    ));
                }
                Ok(Architecture::reference_cnn())
            }
            ModelKind::Mlp => {
                let (hidden, flags) = match (&m.hidden, m.depth) {
                    (Some(h), _) => (h.clone(), format!("--hidden {}", join(h))),
                    (None, Some(depth)) => {
                        let width = m.width.unwrap_or(DEFAULT_WIDTH);
                        // the widths are checked before the list is made: `--depth` may be huge
                        let flags = format!("--depth {depth} --width {width}");
                        check_deep_mlp(depth, width, &flags)?;
                        (vec![width; depth], flags)
                    }
                    (None, None) => (DEFAULT_HIDDEN.to_vec(), String::new()),
                };
                if hidden.len() > MAX_HIDDEN_LAYERS {
                    return Err(too_deep(hidden.len(), &flags));
                }
                let architecture = Architecture::Mlp { hidden };
                // One input pixel and one class: what every data set has at least.
                let least = architecture.size([1, 1, 1], 1).parameters;
                if least > MAX_PARAMETERS as u128 {
                    return Err(LabError::Usage(format!(
                        "{flags}: these hidden layers alone have {} parameters ({} of f32); \
                         the limit is {MAX_PARAMETERS} ({}): choose narrower or fewer layers",
                        count(least),
                        f32_bytes(least),
                        f32_bytes(MAX_PARAMETERS as u128),
                    )));
                }
                Ok(architecture)
            }
        }
    }

    /// Whether the network takes flattened images `[N, rows·cols]` (the MLP) rather than
    /// `[N, 1, rows, cols]`.
    pub fn flattens_input(&self) -> bool {
        matches!(self, Architecture::Mlp { .. })
    }

    /// The smallest image side the network takes: 1 for the MLP; for the CNN 2^k with k
    /// poolings by 2 (4 for the reference CNN), since each pooling needs at least 2×2 pixels.
    pub fn min_image_side(&self) -> usize {
        match self {
            Architecture::Mlp { .. } => 1,
            Architecture::Cnn { channels, .. } => 1usize
                .checked_shl(channels.len() as u32)
                .unwrap_or(usize::MAX),
        }
    }

    /// The parameters and the values per image of the network for images of `input` and
    /// `classes` outputs, counted without building it (and without overflow).
    pub fn size(&self, input: [usize; 3], classes: usize) -> NetworkSize {
        let n = |v: usize| v as u128;
        let mut parameters = 0u128;
        let mut values;
        match self {
            Architecture::Mlp { hidden } => {
                let pixels = input.iter().fold(1u128, |p, &d| p.saturating_mul(n(d)));
                values = pixels;
                let mut fan_in = pixels;
                for (i, &out) in hidden.iter().chain([&classes]).enumerate() {
                    let out = n(out);
                    let weights = fan_in.saturating_mul(out).saturating_add(out);
                    parameters = parameters.saturating_add(weights);
                    // a hidden layer's output and its activation's; the logits
                    let outputs = if i < hidden.len() { 2 } else { 1 };
                    values = values.saturating_add(out.saturating_mul(outputs));
                    fan_in = out;
                }
            }
            Architecture::Cnn { channels, kernel } => {
                let [c, h, w] = input.map(n);
                let k2 = n(*kernel).saturating_mul(n(*kernel));
                let (mut c, mut h, mut w) = (c, h, w);
                values = c.saturating_mul(h).saturating_mul(w);
                for &out in channels {
                    let out = n(out);
                    let hw = h.saturating_mul(w);
                    let weights = c.saturating_mul(out).saturating_mul(k2);
                    parameters = parameters.saturating_add(weights.saturating_add(out));
                    // the unfolded input, the convolution's and the activation's outputs,
                    // the pooled output
                    let unfolded = c.saturating_mul(k2).saturating_mul(hw);
                    let layer = out.saturating_mul(hw).saturating_mul(2);
                    let pooled = out.saturating_mul(h / 2).saturating_mul(w / 2);
                    values = values
                        .saturating_add(unfolded)
                        .saturating_add(layer)
                        .saturating_add(pooled);
                    (c, h, w) = (out, h / 2, w / 2);
                }
                let flat = c.saturating_mul(h).saturating_mul(w);
                let classes = n(classes);
                parameters =
                    parameters.saturating_add(flat.saturating_mul(classes).saturating_add(classes));
                values = values.saturating_add(classes);
            }
        }
        NetworkSize {
            parameters,
            values_per_image: values,
        }
    }

    /// Checks, before anything is allocated, that the network fits images of `input` with
    /// `classes` outputs and training batches of `batch` images: an image large enough for the
    /// CNN's poolings, at most [`MAX_HIDDEN_LAYERS`] hidden layers and [`MAX_PARAMETERS`]
    /// parameters, at most [`MAX_BATCH_VALUES`]
    /// layer outputs per batch. `flags` names what shapes the network, for the message
    /// ([`MODEL_FLAGS`] in the lab).
    ///
    /// # Errors
    /// [`LabError::Usage`] naming the flag, the size the network would need and the limit.
    pub fn check(
        &self,
        input: [usize; 3],
        classes: usize,
        batch: usize,
        flags: &str,
    ) -> Result<NetworkSize, LabError> {
        let [_, h, w] = input;
        let side = self.min_image_side();
        if h < side || w < side {
            return Err(LabError::Usage(format!(
                "--model cnn: the CNN halves the image {} times, so it needs images of at \
                 least {side}×{side} pixels, and these are {h}×{w}: use --model mlp or larger \
                 images",
                side.trailing_zeros()
            )));
        }
        if let Architecture::Mlp { hidden } = self {
            if hidden.len() > MAX_HIDDEN_LAYERS {
                return Err(too_deep(hidden.len(), flags));
            }
        }
        let size = self.size(input, classes);
        let describe = self.describe_counted(input, classes);
        let limit = MAX_PARAMETERS as u128;
        if size.parameters > limit {
            let fix = match self {
                Architecture::Mlp { .. } => format!("choose narrower or fewer layers ({flags})"),
                Architecture::Cnn { .. } => "use --model mlp or smaller images".into(),
            };
            return Err(LabError::Usage(format!(
                "model: {describe} would have {} parameters ({} of f32, about 4 times that \
                 to train); the limit is {MAX_PARAMETERS} ({}): {fix}",
                count(size.parameters),
                f32_bytes(size.parameters),
                f32_bytes(limit),
            )));
        }
        let limit = MAX_BATCH_VALUES as u128;
        let per_batch = size.values_per_image.saturating_mul(batch as u128);
        if per_batch > limit {
            let most = limit / size.values_per_image.max(1);
            let fix = if most == 0 {
                match self {
                    Architecture::Mlp { .. } => {
                        format!("even one image is too many: choose narrower layers ({flags})")
                    }
                    Architecture::Cnn { .. } => {
                        "even one image is too many: use --model mlp or smaller images".into()
                    }
                }
            } else {
                format!("use --batch-size {most} or less")
            };
            return Err(LabError::Usage(format!(
                "--batch-size: a batch of {batch} images through the {describe} holds {} \
                 layer outputs ({} of f32, more with the gradients); the limit is \
                 {MAX_BATCH_VALUES} ({}): {fix}",
                count(per_batch),
                f32_bytes(per_batch),
                f32_bytes(limit),
            )));
        }
        Ok(size)
    }

    /// [`Architecture::describe`] for messages about sizes: it writes out each hidden width
    /// only when there are few (a `--depth 100000` network is `MLP 784-64×100000-10`).
    fn describe_counted(&self, input: [usize; 3], classes: usize) -> String {
        match self {
            Architecture::Mlp { hidden }
                if hidden.len() > 8 && hidden.iter().all(|&w| w == hidden[0]) =>
            {
                let pixels = input
                    .iter()
                    .fold(1u128, |p, &d| p.saturating_mul(d as u128));
                format!("MLP {pixels}-{}×{}-{classes}", hidden[0], hidden.len())
            }
            Architecture::Mlp { hidden } if hidden.len() > 8 => {
                let pixels = input
                    .iter()
                    .fold(1u128, |p, &d| p.saturating_mul(d as u128));
                format!("MLP {pixels}-…({} hidden layers)…-{classes}", hidden.len())
            }
            _ => self.describe(input, classes),
        }
    }

    /// The network for images of `input = [C, H, W]` and `classes` outputs, a fresh layer of
    /// `activation` after every hidden layer, initialised with PyTorch's defaults from `rng`.
    ///
    /// # Errors
    /// As [`Architecture::check`] for a batch of one image (nothing is allocated then), with
    /// [`MODEL_FLAGS`] as the flags.
    pub fn build(
        &self,
        input: [usize; 3],
        classes: usize,
        activation: &ActivationSpec,
        rng: &mut Rng,
    ) -> Result<Sequential, LabError> {
        self.check(input, classes, 1, MODEL_FLAGS)?;
        Ok(match self {
            Architecture::Mlp { hidden } => {
                let mut sizes = vec![input.iter().product()];
                sizes.extend(hidden);
                sizes.push(classes);
                nn::mlp(&sizes, || activation.build(), rng)
            }
            Architecture::Cnn { channels, kernel } => nn::cnn(
                input,
                channels,
                *kernel,
                classes,
                || activation.build(),
                rng,
            ),
        })
    }

    /// A short description: `"MLP 784-128-64-10"`, `"CNN conv 16,32 (5×5)"`.
    pub fn describe(&self, input: [usize; 3], classes: usize) -> String {
        match self {
            Architecture::Mlp { hidden } => {
                let mut sizes = vec![input.iter().product::<usize>()];
                sizes.extend(hidden);
                sizes.push(classes);
                let sizes: Vec<String> = sizes.iter().map(usize::to_string).collect();
                format!("MLP {}", sizes.join("-"))
            }
            Architecture::Cnn { channels, kernel } => {
                format!("CNN conv {} ({kernel}×{kernel})", join(channels))
            }
        }
    }

    /// The sizes as the command line writes them: `"128,64"` for an MLP, `"conv 16,32 5x5"`.
    pub fn sizes(&self) -> String {
        match self {
            Architecture::Mlp { hidden } => join(hidden),
            Architecture::Cnn { channels, kernel } => {
                format!("conv {} {kernel}x{kernel}", join(channels))
            }
        }
    }
}

/// The error for an MLP of `layers` hidden layers, above [`MAX_HIDDEN_LAYERS`].
fn too_deep(layers: usize, flags: &str) -> LabError {
    LabError::Usage(format!(
        "{flags}: {layers} hidden layers; the limit is {MAX_HIDDEN_LAYERS} (each layer costs \
         time at every step, however narrow): choose fewer layers"
    ))
}

/// Refuses `--depth N --width W` whose hidden-to-hidden weights alone exceed
/// [`MAX_PARAMETERS`], before a list of N widths is made (N may be 2^64 − 1).
fn check_deep_mlp(depth: usize, width: usize, flags: &str) -> Result<(), LabError> {
    if depth > MAX_HIDDEN_LAYERS {
        return Err(too_deep(depth, flags));
    }
    let w = width as u128;
    let per_layer = w.saturating_mul(w).saturating_add(w);
    let least = per_layer.saturating_mul((depth as u128).saturating_sub(1));
    // also a list of N widths must not be the allocation that fails
    if least > MAX_PARAMETERS as u128 || depth > MAX_PARAMETERS {
        return Err(LabError::Usage(format!(
            "{flags}: {depth} hidden layers of {width} have at least {} parameters between \
             them ({} of f32); the limit is {MAX_PARAMETERS} ({}): choose fewer or narrower \
             layers",
            count(least.max(depth as u128)),
            f32_bytes(least.max(depth as u128)),
            f32_bytes(MAX_PARAMETERS as u128),
        )));
    }
    Ok(())
}

fn join(v: &[usize]) -> String {
    v.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
}

/// The nonlinearity whose gain Kaiming and Xavier initialisation use for `activation`:
/// tanh-like → tanh (5/3), sigmoid-like → sigmoid (1), leaky slopes → leaky ReLU with that
/// slope, SELU → SELU (3/4), everything else (ReLU, GELU, Swish, Mish, …) → ReLU (√2).
pub fn nonlinearity(activation: &ActivationSpec) -> Nonlinearity {
    let args = activation.args();
    match activation.name() {
        "tanh" | "hardtanh" | "softsign" | "tanhshrink" => Nonlinearity::Tanh,
        "sigmoid" | "hardsigmoid" | "logsigmoid" => Nonlinearity::Sigmoid,
        "leaky_relu" => Nonlinearity::LeakyRelu(args.number("negative_slope")),
        "rrelu" => Nonlinearity::LeakyRelu((args.number("lower") + args.number("upper")) / 2.0),
        "prelu" => Nonlinearity::LeakyRelu(0.25),
        "selu" => Nonlinearity::Selu,
        _ => Nonlinearity::Relu,
    }
}

/// Re-initialises the weights of every Linear and Conv2d layer of `model` (the parameters
/// named `*.weight` with at least 2 dimensions) as `kind` says, with the gain of
/// [`nonlinearity`]`(activation)` for hidden layers and gain 1 for the output layer, and sets
/// their biases to 0. [`InitKind::Default`] leaves the model as built (PyTorch's defaults).
/// Kaiming for SELU uses gain 1 (LeCun normal), as PyTorch recommends.
pub fn init_weights(
    model: &Sequential,
    kind: InitKind,
    activation: &ActivationSpec,
    rng: &mut Rng,
) {
    if kind == InitKind::Default {
        return;
    }
    let params = model.named_parameters();
    let weights: Vec<&(String, Var)> = params
        .iter()
        .filter(|(n, p)| n.ends_with("weight") && p.dims().len() >= 2)
        .collect();
    let nonlin = match (kind, nonlinearity(activation)) {
        (InitKind::Kaiming, Nonlinearity::Selu) => Nonlinearity::Linear,
        (_, n) => n,
    };
    for (i, (name, w)) in weights.iter().enumerate() {
        let last = i + 1 == weights.len();
        let gain = init::calculate_gain(if last { Nonlinearity::Linear } else { nonlin });
        let shape = w.shape();
        let value = match kind {
            InitKind::Kaiming => {
                let (fan_in, _) = init::fans(&shape);
                Tensor::normal(shape, 0.0, gain / (fan_in as f32).sqrt(), rng)
            }
            _ => init::xavier_uniform(shape, gain, rng),
        };
        w.set_value(value);
        let bias = format!("{}bias", name.strip_suffix("weight").unwrap_or(name));
        if let Some((_, b)) = params.iter().find(|(n, _)| *n == bias) {
            b.set_value(Tensor::zeros(b.shape()));
        }
    }
}

/// The optimizer `kind` over `params` with learning rate `lr`: SGD, SGD with momentum 0.9,
/// Adam or AdamW (weight decay 0.01), PyTorch's defaults otherwise.
pub fn build_optimizer(kind: OptimizerKind, lr: f32, params: Vec<Var>) -> Box<dyn Optimizer> {
    match kind {
        OptimizerKind::Sgd => Box::new(Sgd::new(params, lr)),
        OptimizerKind::Momentum => Box::new(Sgd::new(params, lr).momentum(0.9)),
        OptimizerKind::Adam => Box::new(Adam::new(params, lr)),
        OptimizerKind::Adamw => Box::new(AdamW::new(params, lr)),
    }
}

// ---------------------------------------------------------------------------------------------
// Settings

/// Everything that shapes a training run except the activation and the data.
#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    /// The network.
    pub architecture: Architecture,
    /// Weight initialisation.
    pub init: InitKind,
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// Its learning rate at the start.
    pub lr: f32,
    /// How the learning rate falls over the run ([`RunConfig::lr_at`]).
    pub lr_decay: LrDecay,
    /// Epochs to train in total.
    pub epochs: usize,
    /// Training batch size.
    pub batch_size: usize,
    /// Seed of the weights and the data order.
    pub seed: u64,
    /// No progress bar (and, in [`run`], no layer tables).
    pub quiet: bool,
}

impl RunConfig {
    /// The settings `args` asks for.
    ///
    /// # Errors
    /// As [`Architecture::from_args`].
    pub fn from_args(args: &LabArgs) -> Result<RunConfig, LabError> {
        Ok(RunConfig {
            architecture: Architecture::from_args(&args.model)?,
            init: args.train.init,
            optimizer: args.train.optimizer,
            lr: args.train.learning_rate(args.model.model),
            lr_decay: args.train.lr_decay,
            epochs: args.train.epochs,
            batch_size: args.train.batch_size,
            seed: args.train.seed,
            quiet: args.output.quiet,
        })
    }

    /// The optimizer and its learning rate: `"adam, lr 0.001 → 0 (cosine)"`,
    /// `"sgd, lr 0.1 × 0.5 per epoch"`, `"sgd, lr 0.1"`.
    pub fn optimizer_text(&self) -> String {
        match self.lr_decay {
            LrDecay::Cosine => format!("{}, lr {} → 0 (cosine)", self.optimizer, self.lr),
            LrDecay::PerEpoch(1.0) => format!("{}, lr {}", self.optimizer, self.lr),
            LrDecay::PerEpoch(g) => {
                format!("{}, lr {} × {g} per epoch", self.optimizer, self.lr)
            }
        }
    }

    /// The learning rate at step `t` (from 0) of epoch `epoch` (from 0), when an epoch has
    /// `steps_per_epoch` steps: with s = epoch·T + t of S = epochs·T steps,
    /// lr·(1 + cos(π·s/S))/2 for [`LrDecay::Cosine`], lr·G^(epoch + t/T) for
    /// [`LrDecay::PerEpoch`]. It depends only on the position in the run, so a resumed run
    /// follows the same curve.
    pub fn lr_at(&self, epoch: usize, t: usize, steps_per_epoch: usize) -> f32 {
        let per_epoch = steps_per_epoch.max(1) as f64;
        let x = epoch as f64 + t as f64 / per_epoch;
        let factor = match self.lr_decay {
            LrDecay::Cosine => {
                let fraction = (x / self.epochs.max(1) as f64).min(1.0);
                0.5 * (1.0 + (std::f64::consts::PI * fraction).cos())
            }
            LrDecay::PerEpoch(g) => (g as f64).powf(x),
        };
        (self.lr as f64 * factor) as f32
    }

    /// The settings as `(name, value)` pairs, for reports.
    pub fn settings(&self, data: &Data) -> Vec<(String, String)> {
        let arch = self
            .architecture
            .describe(data.input_shape(), data.classes());
        [
            ("data", data.description.clone()),
            (
                "images",
                format!("{} training, {} test", data.train.len(), data.test.len()),
            ),
            ("model", arch),
            ("init", self.init.to_string()),
            ("optimizer", self.optimizer_text()),
            ("epochs", self.epochs.to_string()),
            ("batch size", self.batch_size.to_string()),
            ("seed", self.seed.to_string()),
            ("threads", tensor::num_threads().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Training

/// What one epoch of training measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochTraining {
    /// Mean of the batch losses.
    pub loss: f32,
    /// Fraction of training images classified correctly (as the model was at each step).
    pub accuracy: f32,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Training images seen.
    pub samples: usize,
}

/// What an evaluation measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy over the images.
    pub loss: f32,
    /// Fraction classified correctly.
    pub accuracy: f32,
}

/// Batch size of evaluation (no graph is kept, so large batches cost little memory).
pub const EVAL_BATCH: usize = 1000;

/// One activation's training run: the model, its optimizer, the diagnostics and the history.
pub struct Trainer {
    activation: String,
    spec: ActivationSpec,
    config: RunConfig,
    model: Sequential,
    optimizer: Box<dyn Optimizer>,
    diagnostics: Diagnostics,
    history: RunHistory,
    step: usize,
    /// The step this run started from: 0, or the checkpoint's after `--resume`.
    run_start: usize,
}

impl Trainer {
    /// Builds the network for `data` with `activation` (a spec such as `"leaky_relu:0.1"`),
    /// initialises it from `config.seed`, and makes the optimizer. Nothing is trained yet.
    ///
    /// # Errors
    /// [`LabError::Activation`] if the spec does not parse; [`LabError::Usage`] for a network
    /// too large or images too small for it ([`Architecture::check`]).
    pub fn new(config: &RunConfig, activation: &str, data: &Data) -> Result<Trainer, LabError> {
        let spec = parse_activation(activation, "--activation")?;
        let mut rng = tensor::rng(config.seed);
        // sizes are checked before anything is allocated: the batch as the loader will cut it
        let batch = config.batch_size.min(data.train.len()).max(1);
        let (input, classes) = (data.input_shape(), data.classes());
        config
            .architecture
            .check(input, classes, batch, MODEL_FLAGS)?;
        let model = config.architecture.build(input, classes, &spec, &mut rng)?;
        init_weights(&model, config.init, &spec, &mut rng);
        let [c, h, w] = input;
        let one = if config.architecture.flattens_input() {
            vec![1, c * h * w]
        } else {
            vec![1, c, h, w]
        };
        check_activation_fits(&model, &one, &spec, activation)?;
        let optimizer = build_optimizer(config.optimizer, config.lr, model.parameters());
        let diagnostics = Diagnostics::attach(&model);
        let activation = activation.trim().to_string();
        Ok(Trainer {
            history: RunHistory::new(activation.clone()),
            activation,
            spec,
            config: config.clone(),
            model,
            optimizer,
            diagnostics,
            step: 0,
            run_start: 0,
        })
    }

    /// The activation as given.
    pub fn activation(&self) -> &str {
        &self.activation
    }

    /// The network.
    pub fn model(&self) -> &Sequential {
        &self.model
    }

    /// The optimizer.
    pub fn optimizer(&self) -> &dyn Optimizer {
        self.optimizer.as_ref()
    }

    /// The diagnostics attached to the model: gradient norms of this epoch (and of the very
    /// first step), activation statistics of the last evaluation, learnable values.
    pub fn diagnostics(&self) -> &Diagnostics {
        &self.diagnostics
    }

    /// Everything recorded so far.
    pub fn history(&self) -> &RunHistory {
        &self.history
    }

    /// The history, ending the run.
    pub fn into_history(self) -> RunHistory {
        self.history
    }

    /// Epochs finished.
    pub fn epochs_done(&self) -> usize {
        self.history.epochs.len()
    }

    /// Optimizer steps taken.
    pub fn steps(&self) -> usize {
        self.step
    }

    /// Whether the run has reached its configured number of epochs.
    pub fn is_finished(&self) -> bool {
        self.epochs_done() >= self.config.epochs
    }

    /// Trains one epoch on `train` (the next epoch of the run: its data order is
    /// `shuffle(seed).epoch(e)`), with a progress bar unless quiet, recording every step's
    /// loss in the history. The diagnostics start a new epoch: gradient norms are averaged over
    /// this epoch's steps.
    pub fn train_epoch(&mut self, train: &Dataset) -> EpochTraining {
        self.train_loop(train, false)
            .expect("an unchecked epoch does not fail")
    }

    /// [`Trainer::train_epoch`], stopping at the first step whose loss is NaN or ±inf
    /// ([`LabError::Diverged`]) and, in anomaly mode ([`autograd::detect_anomaly`]), at the
    /// first op that produced one ([`LabError::Anomaly`], checked after each forward and
    /// each backward), before that step's optimizer update.
    ///
    /// # Errors
    /// [`LabError::Diverged`] or [`LabError::Anomaly`].
    pub fn try_train_epoch(&mut self, train: &Dataset) -> Result<EpochTraining, LabError> {
        self.train_loop(train, true)
    }

    /// The anomaly found so far in this run's thread, as an error at `step`.
    fn check_anomaly(&self, step: usize) -> Result<(), LabError> {
        match autograd::take_anomaly() {
            Some(anomaly) => Err(LabError::Anomaly {
                epoch: self.epochs_done() + 1,
                step,
                cause: self.non_finite_cause(Some(&anomaly)),
                anomaly: Box::new(anomaly),
            }),
            None => Ok(()),
        }
    }

    /// Why the run's values went NaN or ±inf, given the op anomaly mode found, if any: the
    /// activation if it is not finite on ordinary inputs; an op that is not finite on some
    /// finite inputs by definition (`ln`, `div`, …); nothing learnt yet; else an overflow if
    /// the loss grew (or anomaly mode saw an op overflow), a sudden change if it did not.
    fn non_finite_cause(&self, anomaly: Option<&autograd::Anomaly>) -> NonFiniteCause {
        if let Some(cause) = self.probe_activation() {
            return cause;
        }
        if let Some(a) = anomaly {
            let inputs_finite = !a.input_non_finite.iter().any(|&bad| bad);
            if inputs_finite && DOMAIN_OPS.contains(&a.op) {
                return NonFiniteCause::Domain { op: a.op };
            }
        }
        if self.step == self.run_start {
            return NonFiniteCause::FromStart;
        }
        let mut run = self
            .history
            .step_losses
            .iter()
            .filter(|(s, _)| *s > self.run_start)
            .map(|&(_, l)| l);
        let first = run.next();
        let last = run.last();
        let grew = matches!((first, last), (Some(a), Some(b)) if b > a);
        if grew || anomaly.is_some() {
            NonFiniteCause::Overflow { lr: self.config.lr }
        } else {
            NonFiniteCause::Sudden
        }
    }

    /// The activation on ordinary inputs — values from −3 to 3, the nearest to 0 first — and
    /// its gradient there: the first input where its value is not finite, else the first
    /// where its gradient is not, if any. A fresh copy of
    /// the activation is probed (its learnable values at their start), in a shape that every
    /// activation that fits the network accepts; the probe's own anomaly is forgotten.
    fn probe_activation(&self) -> Option<NonFiniteCause> {
        use std::panic::{catch_unwind, AssertUnwindSafe};
        const SIDE: usize = 2; // every axis but the first even: gated activations halve one
        let mut grid: Vec<f32> = (-24..=24).map(|i| i as f32 / 8.0).collect();
        grid.sort_by(|a, b| a.abs().total_cmp(&b.abs()).then(a.total_cmp(b)));
        let per = SIDE * SIDE * SIDE;
        let values: Vec<f32> = grid
            .iter()
            .flat_map(|&v| std::iter::repeat_n(v, per))
            .collect();
        let x = Var::parameter(Tensor::from_vec(values, [grid.len(), SIDE, SIDE, SIDE]));
        let module = self.spec.build();
        let probe = || {
            let y = module.forward(&x);
            let out = y.value();
            y.sum_all().backward();
            (out, x.grad())
        };
        let result = quietly(|| catch_unwind(AssertUnwindSafe(probe)));
        let _ = autograd::take_anomaly();
        let (out, grad) = result.ok()?;
        // the first sample (one input value, broadcast over its row) that is not finite
        let bad = |t: &Tensor| {
            let row = t.numel() / grid.len();
            (row > 0 && t.numel() == row * grid.len())
                .then(|| {
                    t.data()
                        .chunks_exact(row)
                        .position(|r| r.iter().any(|v| !v.is_finite()))
                        .map(|i| {
                            let v = *t.data()[i * row..(i + 1) * row]
                                .iter()
                                .find(|v| !v.is_finite())
                                .expect("found above");
                            (i, v)
                        })
                })
                .flatten()
        };
        let found_value = bad(&out).map(|(i, v)| (i, v, false));
        let found_grad = grad.as_ref().and_then(bad).map(|(i, v)| (i, v, true));
        // a value that is not finite explains a NaN loss more directly than a gradient
        let (i, output, gradient) = found_value.or(found_grad)?;
        Some(NonFiniteCause::Activation {
            activation: self.activation.clone(),
            input: grid[i],
            output,
            gradient,
        })
    }

    /// One epoch; with `check`, the divergence and anomaly checks of `try_train_epoch`.
    fn train_loop(&mut self, train: &Dataset, check: bool) -> Result<EpochTraining, LabError> {
        let epoch = self.epochs_done();
        let loader = DataLoader::new(train, self.config.batch_size)
            .shuffle(self.config.seed)
            .flatten(self.config.architecture.flattens_input())
            .prefetch(true);
        let label = format!("{} {}/{}", self.activation, epoch + 1, self.config.epochs);
        let bar = EpochBar::new(loader.num_batches() as u64, &label, self.config.quiet);
        self.diagnostics.begin_epoch();
        self.model.train();
        let start = Instant::now();
        let (mut loss_sum, mut batches, mut correct, mut seen) = (0.0f64, 0usize, 0usize, 0usize);
        let steps_per_epoch = loader.num_batches();
        let mut failure = None;
        for (t, (x, y)) in loader.epoch(epoch as u64).enumerate() {
            let lr = self.config.lr_at(epoch, t, steps_per_epoch);
            self.optimizer.set_lr(lr);
            let logits = self.model.forward(&Var::constant(x));
            let loss = cross_entropy(&logits, &y);
            let value = loss.item();
            if check {
                // the op that made it first, if anomaly mode is on; else the loss itself
                let diverged = || LabError::Diverged {
                    epoch: epoch + 1,
                    step: self.step + 1,
                    what: "training loss",
                    value,
                    cause: self.non_finite_cause(None),
                };
                let found = self.check_anomaly(self.step + 1).err();
                if let Some(e) = found.or_else(|| (!value.is_finite()).then(diverged)) {
                    failure = Some(e);
                    break;
                }
            }
            correct += count_correct(&logits.value(), &y);
            seen += y.numel();
            self.optimizer.zero_grad();
            loss.backward();
            if check {
                if let Err(e) = self.check_anomaly(self.step + 1) {
                    failure = Some(e);
                    break;
                }
            }
            self.optimizer.step();
            self.step += 1;
            self.history.record_step(self.step, value);
            loss_sum += value as f64;
            batches += 1;
            let rate = seen as f64 / start.elapsed().as_secs_f64().max(1e-9);
            bar.update(
                (loss_sum / batches as f64) as f32,
                correct as f32 / seen as f32,
                rate,
            );
        }
        let seconds = start.elapsed().as_secs_f64();
        bar.finish();
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(EpochTraining {
            loss: (loss_sum / batches.max(1) as f64) as f32,
            accuracy: correct as f32 / seen.max(1) as f32,
            seconds,
            samples: seen,
        })
    }

    /// Loss and accuracy on `test`, in evaluation mode and without building a graph, in
    /// batches of [`EVAL_BATCH`].
    pub fn evaluate(&self, test: &Dataset) -> Evaluation {
        let loader =
            DataLoader::new(test, EVAL_BATCH).flatten(self.config.architecture.flattens_input());
        self.model.eval();
        self.diagnostics.set_probing(true);
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        no_grad(|| {
            for (x, y) in loader.epoch(0) {
                let logits = self.model.forward(&Var::constant(x));
                loss_sum += cross_entropy_with(&logits, &y, Reduction::Sum, 0.0).item() as f64;
                correct += count_correct(&logits.value(), &y);
            }
        });
        self.diagnostics.set_probing(false);
        self.model.train();
        let n = test.len().max(1);
        Evaluation {
            loss: (loss_sum / n as f64) as f32,
            accuracy: correct as f32 / n as f32,
        }
    }

    /// Trains one epoch, evaluates, and records the epoch's metrics (with the per-layer
    /// diagnostics) in the history; returns them.
    pub fn run_epoch(&mut self, data: &Data) -> &EpochMetrics {
        let t = self.train_epoch(&data.train);
        let eval = self.evaluate(&data.test);
        self.record_epoch(t, eval)
    }

    /// [`Trainer::run_epoch`] with the checks of [`Trainer::try_train_epoch`], and of the
    /// test loss: an epoch that ends with a model whose test loss is not finite (the last
    /// update overflowed) is an error too, so [`run`] never saves such a model.
    ///
    /// # Errors
    /// [`LabError::Diverged`] or [`LabError::Anomaly`].
    pub fn try_run_epoch(&mut self, data: &Data) -> Result<&EpochMetrics, LabError> {
        let t = self.try_train_epoch(&data.train)?;
        let eval = self.evaluate(&data.test);
        self.check_anomaly(self.step)?;
        if !eval.loss.is_finite() {
            return Err(LabError::Diverged {
                epoch: self.epochs_done() + 1,
                step: self.step,
                what: "test loss",
                value: eval.loss,
                cause: self.non_finite_cause(None),
            });
        }
        Ok(self.record_epoch(t, eval))
    }

    /// Records an epoch's metrics (with the per-layer diagnostics) in the history.
    fn record_epoch(&mut self, t: EpochTraining, eval: Evaluation) -> &EpochMetrics {
        let metrics = EpochMetrics {
            activation: self.activation.clone(),
            epoch: self.epochs_done() + 1,
            steps: self.step,
            train_loss: t.loss,
            test_loss: eval.loss,
            test_accuracy: eval.accuracy,
            seconds: t.seconds,
            samples_per_sec: t.samples as f64 / t.seconds.max(1e-9),
            params: self.diagnostics.learnable_values(),
            layers: self.layer_stats(),
        };
        self.history.record_epoch(metrics);
        self.history.epochs.last().expect("just recorded")
    }

    /// The per-layer rows of the metrics, in model order: for each layer index, the
    /// gradient norm of its weight (Linear and Conv2d weights; mean over the epoch's steps),
    /// then the statistics of its output if it is an activation (measured by the last
    /// evaluation): `"0.weight"`, `"1"`, `"2.weight"`, …
    pub fn layer_stats(&self) -> Vec<LayerStats> {
        let grads = self.diagnostics.grad_norms();
        let acts = self.diagnostics.activation_stats();
        let params = self.model.named_parameters();
        let mut rows = Vec::new();
        for i in 0..self.model.len() {
            let weight = format!("{i}.weight");
            let is_weight = params
                .iter()
                .any(|(n, p)| *n == weight && p.dims().len() >= 2);
            if let Some(g) = grads.iter().find(|g| is_weight && g.name == weight) {
                rows.push(LayerStats::parameter(weight, g.mean_norm));
            }
            if let Some(a) = acts.iter().find(|a| a.name == i.to_string()) {
                rows.push(LayerStats {
                    name: a.name.clone(),
                    dead_fraction: Some(a.dead_fraction),
                    saturated_fraction: a.saturated_fraction,
                    mean: Some(a.mean),
                    std: Some(a.std),
                    grad_norm: None,
                });
            }
        }
        rows
    }

    // -----------------------------------------------------------------------------------------
    // Checkpoints

    /// The metadata that identifies this run's architecture and settings, as
    /// `(key, description, value)`: a checkpoint resumes only where all of them agree.
    fn identity(&self, data: &Data) -> Vec<(&'static str, &'static str, String)> {
        vec![
            ("activation", "activation", self.spec.to_string()),
            ("architecture", "model", {
                self.config
                    .architecture
                    .describe(data.input_shape(), data.classes())
            }),
            ("hidden", "hidden sizes", self.config.architecture.sizes()),
            (nn::state::MODEL_KEY, "layers", self.model.to_string()),
            ("optimizer", "optimizer", self.config.optimizer.to_string()),
            ("lr", "learning rate", self.config.lr.to_string()),
            (
                "lr_decay",
                "learning-rate decay",
                self.config.lr_decay.to_string(),
            ),
            // The cosine curve spans the planned epochs: another --epochs is another curve
            // (compared only under the cosine decay; see `resume`).
            ("epochs", "planned epochs", self.config.epochs.to_string()),
            (
                "batch_size",
                "batch size",
                self.config.batch_size.to_string(),
            ),
            ("seed", "seed", self.config.seed.to_string()),
            ("dataset", "data set", data.kind.to_string()),
            (
                "train_images",
                "training images",
                data.train.len().to_string(),
            ),
        ]
    }

    /// Every metadata key [`save`](Self::save) writes (and `nn::state::save` adds).
    fn metadata_keys(&self, data: &Data) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = self.identity(data).iter().map(|(k, _, _)| *k).collect();
        keys.extend(SAVED_KEYS);
        keys
    }

    /// Saves the run as it is now to `path` (atomically; see the [module docs](self)).
    ///
    /// # Errors
    /// [`LabError::Checkpoint`] if the file cannot be written.
    pub fn save(&self, path: &Path, data: &Data) -> Result<(), LabError> {
        let mut tensors = nn::state::state_dict(&self.model);
        tensors.extend(
            self.optimizer
                .state_dict()
                .into_iter()
                .map(|(n, t)| (format!("{}{n}", nn::state::OPTIM_PREFIX), t)),
        );
        let losses: Vec<f32> = self.history.step_losses.iter().map(|&(_, l)| l).collect();
        let n = losses.len();
        tensors.push((STEP_LOSSES.to_string(), Tensor::from_vec(losses, [n])));
        let mut meta: BTreeMap<String, String> = self
            .identity(data)
            .into_iter()
            .map(|(k, _, v)| (k.to_string(), v))
            .collect();
        // the keys beyond the identity: SAVED_KEYS lists them for `resume`
        meta.insert(LAB_VERSION_KEY.into(), LAB_VERSION.into());
        meta.insert("activation_given".into(), self.activation.clone());
        meta.insert("init".into(), self.config.init.to_string());
        meta.insert("epoch".into(), self.epochs_done().to_string());
        meta.insert("step".into(), self.step.to_string());
        meta.insert("data_order".into(), DATA_ORDER.into());
        // Cannot fail: plain numbers, strings and lists.
        let metrics = serde_json::to_string(&self.history.epochs).expect("metrics serialize");
        meta.insert("metrics".into(), metrics);
        nn::state::save(path, &tensors, &meta).map_err(|source| LabError::Checkpoint {
            flag: "--save",
            source,
        })
    }

    /// Restores the run saved in `path` by [`save`](Self::save): model, optimizer state, step,
    /// history. The next [`run_epoch`](Self::run_epoch) continues where it stopped.
    ///
    /// # Errors
    /// [`LabError::Checkpoint`] if the file is missing, truncated or corrupt;
    /// [`LabError::Resume`] if it was not written by the lab, or was saved from another
    /// architecture or other settings (naming each difference), or its contents do not fit
    /// the model. Nothing changes on error.
    pub fn resume(&mut self, path: &Path, data: &Data) -> Result<(), LabError> {
        let resume_err = |reason: String| LabError::Resume {
            path: path.to_path_buf(),
            reason,
        };
        // Bounded before anything is read: the model, an optimizer's state of up to three
        // buffers a parameter, one loss a step, and the metadata; every tensor F32 as --save
        // writes it. A FIFO, device or folder is refused before it is opened.
        let limits = nn::state::Limits::for_module(
            &self.model,
            4 * optim::MAX_STEP,
            MAX_CHECKPOINT_HEADER,
            true,
        );
        let mut ckpt =
            nn::state::load_with(path, &limits).map_err(|source| LabError::Checkpoint {
                flag: "--resume",
                source,
            })?;
        let meta = &ckpt.metadata;
        let Some(version) = meta.get(LAB_VERSION_KEY) else {
            return Err(resume_err(
                "not a checkpoint written by --save (its metadata has no lab version); \
                 pass a file that --save wrote"
                    .into(),
            ));
        };
        match version.parse::<u32>() {
            Ok(v) if v.to_string() == *version && v >= 1 && v <= LAB_VERSION_NUMBER => {}
            Ok(v) if v > LAB_VERSION_NUMBER && v.to_string() == *version => {
                return Err(resume_err(format!(
                    "written by lab checkpoint version {v}, but this build reads version \
                     {LAB_VERSION} only; resume it with the newer minidl that wrote it, or run \
                     without --resume to start afresh"
                )))
            }
            _ => {
                return Err(resume_err(format!(
                    "its lab_version {version:?} is not a version --save writes (this build \
                     writes {LAB_VERSION}); pass a file that --save wrote"
                )))
            }
        }
        let written = self.metadata_keys(data);
        if let Some(key) = meta.keys().find(|k| !written.contains(&k.as_str())) {
            return Err(resume_err(format!(
                "its metadata has `{key}`, which --save does not write; the file was edited or \
                 written by another program — pass a file that --save wrote"
            )));
        }
        if let Some(key) = SAVED_KEYS.iter().find(|k| !meta.contains_key(**k)) {
            return Err(resume_err(format!(
                "its metadata lacks `{key}`, which --save writes; the file was edited or \
                 written by another program — pass a file that --save wrote"
            )));
        }
        let fixed = [
            (nn::state::FORMAT_VERSION_KEY, FORMAT_VERSION.to_string()),
            ("data_order", DATA_ORDER.to_string()),
        ];
        for (key, ours) in fixed {
            if meta[key] != ours {
                return Err(resume_err(format!(
                    "its metadata has {key} {:?} where --save writes {ours:?}; the file was \
                     edited or written by another program — pass a file that --save wrote",
                    meta[key]
                )));
            }
        }
        let mut differences = Vec::new();
        let mut epochs_differ = false;
        for (key, what, ours) in self.identity(data) {
            let theirs = meta.get(key).map(String::as_str).unwrap_or("(none)");
            // The printed model differs whenever the activation or the sizes do; name it only
            // when nothing more specific differs.
            if key == nn::state::MODEL_KEY && !differences.is_empty() {
                continue;
            }
            // Under a per-epoch decay the curve does not depend on the run's length.
            if key == "epochs" && self.config.lr_decay != LrDecay::Cosine {
                continue;
            }
            if theirs != ours {
                epochs_differ |= key == "epochs";
                let (theirs, ours) = if key == nn::state::MODEL_KEY {
                    (one_line(theirs), one_line(&ours))
                } else {
                    (theirs.to_string(), ours)
                };
                differences.push(format!("{what} {theirs} in the checkpoint, {ours} here"));
            }
        }
        if !differences.is_empty() {
            let hint = if epochs_differ {
                " (the cosine learning-rate curve spans the planned epochs, so a run resumes with \
                 the --epochs it started with; a run made with --lr-decay G, e.g. 0.5, can be \
                 extended)"
            } else {
                ""
            };
            return Err(resume_err(format!(
                "saved from a different architecture or settings: {}; run with the \
                 checkpoint's settings{hint}, or without --resume to start afresh",
                differences.join("; ")
            )));
        }
        let number = |key: &str| -> Result<usize, LabError> {
            meta.get(key)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| {
                    resume_err(format!(
                        "its metadata lacks a valid `{key}` (a whole number); pass a file that \
                         --save wrote"
                    ))
                })
        };
        let (epoch, step) = (number("epoch")?, number("step")?);
        // every epoch is one pass over the same training images in batches of the same size
        let per_epoch = DataLoader::new(&data.train, self.config.batch_size).num_batches();
        if epoch.checked_mul(per_epoch) != Some(step) || step as u64 > optim::MAX_STEP {
            return Err(resume_err(format!(
                "its metadata says step {step} at epoch {epoch}, but an epoch of this run is \
                 {per_epoch} steps; the file was damaged or edited — use an earlier checkpoint"
            )));
        }
        let metrics = meta
            .get("metrics")
            .ok_or_else(|| resume_err("its metadata lacks `metrics`".into()))?;
        let epochs: Vec<EpochMetrics> = serde_json::from_str(metrics).map_err(|e| {
            resume_err(format!(
                "its `metrics` metadata is not what --save writes ({e}); pass a file that \
                 --save wrote"
            ))
        })?;
        nn::state::check_unique_keys(metrics).map_err(|e| {
            resume_err(format!(
                "its `metrics` metadata is ambiguous: {e}; the file was edited — pass a \
                     file that --save wrote"
            ))
        })?;
        if epochs.len() != epoch {
            return Err(resume_err(format!(
                "its metadata holds {} epochs of metrics for epoch {epoch}; the file is damaged",
                epochs.len()
            )));
        }
        if let Some((i, m)) = epochs
            .iter()
            .enumerate()
            .find(|(i, m)| m.epoch != i + 1 || m.steps != (i + 1) * per_epoch)
        {
            return Err(resume_err(format!(
                "its metrics number epoch {} as epoch {} at step {}; the file was damaged or \
                 edited — use an earlier checkpoint",
                i + 1,
                m.epoch,
                m.steps
            )));
        }
        let optim_state = ckpt.take_prefix(nn::state::OPTIM_PREFIX);
        let losses = ckpt.take_prefix(LAB_PREFIX);
        let losses = match losses.as_slice() {
            [(name, t)] if name == &STEP_LOSSES[LAB_PREFIX.len()..] && t.numel() == step => {
                t.to_vec()
            }
            _ => {
                return Err(resume_err(format!(
                    "it lacks `{STEP_LOSSES}` with one loss per step ({step})"
                )))
            }
        };
        // a cross-entropy loss is finite and ≥ 0, and a step that diverged is never saved
        if let Some(i) = losses.iter().position(|l| !(l.is_finite() && *l >= 0.0)) {
            return Err(resume_err(format!(
                "tensor `{STEP_LOSSES}` holds the loss {} at step {}; the file was saved from a \
                 diverged run or damaged — use an earlier checkpoint",
                losses[i],
                i + 1
            )));
        }
        // Check the optimizer's state against a scratch optimizer first, so that a failure
        // leaves this run untouched; then load model and optimizer for real.
        let mut scratch = build_optimizer(
            self.config.optimizer,
            self.config.lr,
            self.model
                .parameters()
                .iter()
                .map(|p| Var::parameter(p.value()))
                .collect(),
        );
        scratch
            .load_state_dict(&optim_state)
            .map_err(|e| resume_err(e.to_string()))?;
        // the optimizer counts the same steps as the run
        let optim_step = optim_state
            .iter()
            .find(|(n, _)| n == "step")
            .map(|(_, t)| t.data().first().copied().unwrap_or(f32::NAN));
        if let Some(s) = optim_step.filter(|&s| s != step as f32) {
            return Err(resume_err(format!(
                "tensor `{}step` is {s} but the run's step is {step}; the file was damaged or \
                 edited — use an earlier checkpoint",
                nn::state::OPTIM_PREFIX
            )));
        }
        nn::state::load_state_dict(&self.model, &ckpt.tensors)
            .map_err(|e| resume_err(e.to_string()))?;
        self.optimizer
            .load_state_dict(&optim_state)
            .map_err(|e| resume_err(e.to_string()))?;
        self.step = step;
        self.run_start = step;
        self.history.epochs = epochs;
        self.history.step_losses = losses
            .into_iter()
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .collect();
        Ok(())
    }
}

/// The ops that give NaN or ±inf for some finite inputs by their definition (ln(0), ln or √
/// of a negative number, x/0, 0/0, a negative number to a fractional power), whatever the
/// inputs' size: a non-finite value they make from finite inputs is a formula's domain.
const DOMAIN_OPS: [&str; 5] = ["ln", "div", "sqrt", "pow", "pow_scalar"];

/// Metadata key holding the lab's checkpoint version.
pub const LAB_VERSION_KEY: &str = "lab_version";
/// The lab checkpoint version this build writes (and the newest it reads).
pub const LAB_VERSION: &str = "1";
/// [`LAB_VERSION`] as a number.
const LAB_VERSION_NUMBER: u32 = 1;
/// The largest checkpoint header `--resume` reads: the metadata is a few kilobytes an epoch.
const MAX_CHECKPOINT_HEADER: u64 = 16 << 20;
/// The metadata keys [`Trainer::save`] writes besides the run's identity (and `nn::state`'s
/// format version): `resume` refuses any other.
const SAVED_KEYS: [&str; 8] = [
    LAB_VERSION_KEY,
    "activation_given",
    "init",
    "epoch",
    "step",
    "data_order",
    "metrics",
    nn::state::FORMAT_VERSION_KEY,
];
/// How the data order is drawn, as the metadata of a checkpoint says it.
const DATA_ORDER: &str =
    "DataLoader::shuffle(seed).epoch(e): ChaCha8 seeded with the seed, stream e";
/// [`nn::state::FORMAT_VERSION`]: the one `--resume` reads.
const FORMAT_VERSION: u32 = nn::state::FORMAT_VERSION;
/// Name prefix of the lab's own tensors in a checkpoint.
const LAB_PREFIX: &str = "lab.";
/// The tensor holding every step's training loss.
const STEP_LOSSES: &str = "lab.step_losses";

// ---------------------------------------------------------------------------------------------
// Output paths

/// One file or folder a run reads or writes, named by its flag, for [`check_paths`].
#[derive(Clone, Copy, Debug)]
pub enum RunPath<'a> {
    /// A file the run reads (`--resume`, the data files). No output may replace it, except the
    /// flags in `writable_by` (`--save` may be the `--resume` checkpoint: that is how a run
    /// goes on in the same file).
    Input {
        /// The flag, or a short description (`"the MNIST data"`).
        flag: &'static str,
        /// The file.
        path: &'a Path,
        /// Output flags that may write this file.
        writable_by: &'static [&'static str],
    },
    /// A file the run writes (`--save`, `--metrics`).
    File {
        /// The flag.
        flag: &'static str,
        /// The file.
        path: &'a Path,
    },
    /// A folder the run writes `files` into (`--report` and [`crate::report::REPORT_FILES`]).
    Folder {
        /// The flag.
        flag: &'static str,
        /// The folder.
        path: &'a Path,
        /// The names of the files written into it.
        files: &'a [&'a str],
    },
}

/// What a path is to the run, once its identity is known.
#[derive(Clone, Copy, PartialEq)]
enum Role<'a> {
    Input(&'static [&'static str]),
    File,
    FolderItself,
    InFolder(&'a str),
}

struct Claim<'a> {
    flag: &'static str,
    /// The path as the command line gave it, for messages.
    given: PathBuf,
    /// Its identity ([`crate::fs::output_key`]).
    key: PathBuf,
    role: Role<'a>,
}

/// Checks every path a run reads or writes, before any work, so that nothing is lost and no
/// write fails after an hour of training:
///
/// 1. each output is a regular file, a new path or a symbolic link to one (a link is written
///    through: the file it points to gets the content, the link stays) — never a folder,
///    FIFO, socket or device such as `/dev/null`, which a rename would replace;
/// 2. no two flags name the same file — compared by identity, through links, `./a` vs `a` and
///    `..` ([`crate::fs::output_key`]) — and no output is an input (`--resume c --metrics c`
///    would overwrite the checkpoint with JSON lines), a file of the report folder, a folder
///    another output needs, or the file standard output or error is redirected into;
/// 3. each output's folder is created if missing and probed by creating and removing a
///    temporary file (a read-only folder, a path under a regular file and a name too long
///    for the system are found here), and the temporary files that killed earlier runs left
///    beside each output are removed ([`crate::fs::prepare_output`]).
///
/// Every example that writes files calls this with its output flags.
///
/// # Errors
/// [`LabError::OutputPath`] naming the flag and the path when an output cannot be written;
/// [`LabError::Usage`] naming both flags when two paths are the same file.
pub fn check_paths(paths: &[RunPath<'_>]) -> Result<(), LabError> {
    use crate::fs::{absolute_key, output_key, prepare_output};
    let bad = |flag| move |source| LabError::OutputPath { flag, source };
    let mut claims: Vec<Claim<'_>> = Vec::new();
    for p in paths {
        match *p {
            RunPath::Input {
                flag,
                path,
                writable_by,
            } => claims.push(Claim {
                flag,
                given: path.to_path_buf(),
                key: absolute_key(path),
                role: Role::Input(writable_by),
            }),
            RunPath::File { flag, path } => claims.push(Claim {
                flag,
                given: path.to_path_buf(),
                key: output_key(path).map_err(bad(flag))?,
                role: Role::File,
            }),
            RunPath::Folder { flag, path, files } => {
                claims.push(Claim {
                    flag,
                    given: path.to_path_buf(),
                    key: absolute_key(path),
                    role: Role::FolderItself,
                });
                for &name in files {
                    let file = path.join(name);
                    claims.push(Claim {
                        flag,
                        key: output_key(&file).map_err(bad(flag))?,
                        given: file,
                        role: Role::InFolder(name),
                    });
                }
            }
        }
    }
    for c in claims.iter().filter(|c| !matches!(c.role, Role::Input(_))) {
        if let Some(stream) = crate::fs::standard_stream_into(&c.key) {
            return Err(LabError::Usage(format!(
                "{}: {} is the file {stream} is connected to, and writing it would replace \
                 it: give {} another path, or redirect {stream} elsewhere",
                c.flag,
                crate::fs::shown(&c.given),
                c.flag
            )));
        }
    }
    for (j, b) in claims.iter().enumerate() {
        for a in &claims[..j] {
            if let Some(msg) = clash(a, b).or_else(|| clash(b, a)) {
                return Err(LabError::Usage(msg));
            }
        }
    }
    for p in paths {
        match *p {
            RunPath::Input { .. } => {}
            RunPath::File { flag, path } => {
                prepare_output(path).map_err(bad(flag))?;
            }
            RunPath::Folder { flag, path, files } => {
                crate::fs::create_dir_all(path).map_err(bad(flag))?;
                for name in files {
                    prepare_output(&path.join(name)).map_err(bad(flag))?;
                }
            }
        }
    }
    Ok(())
}

/// The message when `b` cannot be written because of `a` (or `None`): `b` writes a file `a`
/// also names, or `b`'s file is a folder `a` needs. Messages name `b`'s flag first.
fn clash(a: &Claim<'_>, b: &Claim<'_>) -> Option<String> {
    use crate::fs::shown;
    let writes = |c: &Claim<'_>| matches!(c.role, Role::File | Role::InFolder(_));
    if !writes(b) {
        return None;
    }
    let (bf, bp, af, ap) = (b.flag, shown(&b.given), a.flag, shown(&a.given));
    if a.key != b.key {
        // b's file would have to be a folder for a (`--save out --report out/charts`)
        return (a.key.starts_with(&b.key) && !matches!(a.role, Role::Input(_))).then(|| {
            format!(
                "{bf}: {bp} is a file, but {af} needs it as a folder (for {ap}); give each \
                 output its own path"
            )
        });
    }
    if a.flag == b.flag && a.role == b.role {
        return None; // the same flag given for one path twice is the same output
    }
    Some(match a.role {
        Role::Input(writable_by) if writable_by.contains(&bf) => return None,
        Role::Input(_) => format!(
            "{bf}: {bp} is the file {af} reads ({ap}); writing it would destroy it: give {bf} \
             another path"
        ),
        Role::FolderItself => format!(
            "{bf}: {bp} is the {af} folder; give {bf} a path of a file, outside that folder"
        ),
        Role::InFolder(name) => format!(
            "{bf}: {bp} is the {af} file {name} ({ap}), which the report would overwrite; give \
             {bf} another path"
        ),
        Role::File => match b.role {
            // the folder's file came second: still name the single file's flag first
            Role::InFolder(name) => format!(
                "{af}: {ap} is the {bf} file {name} ({bp}), which the report would overwrite; \
                 give {af} another path"
            ),
            _ => format!("{bf}: {bp} is the same file as {af} {ap}; give each output its own path"),
        },
    })
}

/// The paths [`run`] reads and writes, for [`check_paths`]: `--resume` (which `--save` may
/// write), the data files when real data may be read, `--save`, `--metrics` and the
/// `--report` folder with its files.
fn lab_paths<'a>(args: &'a LabArgs, data_files: &'a [PathBuf]) -> Vec<RunPath<'a>> {
    let mut paths = Vec::new();
    if let Some(path) = &args.resume {
        paths.push(RunPath::Input {
            flag: "--resume",
            path,
            writable_by: &["--save"],
        });
    }
    for path in data_files {
        paths.push(RunPath::Input {
            flag: "the data set",
            path,
            writable_by: &[],
        });
    }
    if let Some(path) = &args.save {
        paths.push(RunPath::File {
            flag: "--save",
            path,
        });
    }
    if let Some(path) = &args.output.metrics {
        paths.push(RunPath::File {
            flag: "--metrics",
            path,
        });
    }
    if let Some(path) = &args.output.report {
        paths.push(RunPath::Folder {
            flag: "--report",
            path,
            files: &crate::report::REPORT_FILES,
        });
    }
    paths
}

/// The files of the real data set `args` may read (raw and `.gz`), none for synthetic digits.
fn data_files(args: &DataArgs) -> Vec<PathBuf> {
    let dir = match args.dataset {
        DatasetChoice::Synthetic => return Vec::new(),
        DatasetChoice::Fashion => FashionMnist::resolve_dir(args.data_dir.as_deref()),
        DatasetChoice::Mnist | DatasetChoice::Auto => Mnist::resolve_dir(args.data_dir.as_deref()),
    };
    datasets::FILES
        .iter()
        .flat_map(|f| [dir.join(f), dir.join(format!("{f}.gz"))])
        .collect()
}

/// A multi-line printed model squeezed onto one line for a message.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How many rows of `logits` `[N, C]` have their largest value at the label.
fn count_correct(logits: &Tensor, labels: &Tensor) -> usize {
    let classes = logits.dims()[1];
    logits
        .data()
        .chunks_exact(classes)
        .zip(labels.data())
        .filter(|(row, &label)| {
            let best = row
                .iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
                    if v > bv {
                        (i, v)
                    } else {
                        (bi, bv)
                    }
                })
                .0;
            best as f32 == label
        })
        .count()
}

/// Runs `f` with the panic hook silenced, so a panic it catches prints nothing (the caller
/// turns it into a one-line error). The hook is global: one caller at a time swaps it, so
/// each restores the right one.
fn quietly<T>(f: impl FnOnce() -> T) -> T {
    use std::panic::{set_hook, take_hook};
    use std::sync::Mutex;
    static HOOK: Mutex<()> = Mutex::new(());
    let _one = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let hook = take_hook();
    set_hook(Box::new(|_| {}));
    let result = f();
    set_hook(hook);
    result
}

/// Runs one zero image of `shape` (a batch of one: `[1, 784]`, `[1, 1, 28, 28]`) through
/// `model` (in evaluation mode, without a graph) and turns a panic into [`LabError::Usage`].
/// An activation can parse and still not fit the network: `glu` halves the width the next
/// layer expects, `softmax:dim=5` names an axis the hidden values do not have; without this
/// check the first batch would end the program with a panic (found by fuzzing the activation
/// names). `given` is the spec as the user wrote it, for the message.
///
/// # Errors
/// [`LabError::Usage`]: `activation glu: does not fit the network: …`, with what to change.
pub fn check_activation_fits(
    model: &Sequential,
    shape: &[usize],
    spec: &ActivationSpec,
    given: &str,
) -> Result<(), LabError> {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let x = Var::constant(Tensor::zeros(shape.to_vec()));
    model.eval();
    // the message goes into the error instead
    let result = quietly(|| catch_unwind(AssertUnwindSafe(|| no_grad(|| model.forward(&x)))));
    model.train();
    // a zero image may make a formula such as ln(x) infinite: not an anomaly of the run
    let _ = autograd::take_anomaly();
    let Err(panic) = result else {
        return Ok(());
    };
    let why = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("it failed on the network's shapes");
    let hint = if spec.entry().category == nn::activation::Category::Gated {
        "; gated activations (glu, swiglu, geglu) halve the width the next layer expects: \
         choose another activation"
    } else {
        "; choose another activation or other arguments"
    };
    Err(LabError::Usage(format!(
        "activation {}: does not fit the network: {why}{hint}",
        given.trim()
    )))
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{DataArgs, ModelArgs};

    fn act(spec: &str) -> ActivationSpec {
        nn::activation::ActivationSpec::parse(spec).unwrap()
    }

    fn config(architecture: Architecture) -> RunConfig {
        RunConfig {
            architecture,
            init: InitKind::Default,
            optimizer: OptimizerKind::Adam,
            lr: 1e-3,
            lr_decay: LrDecay::PerEpoch(0.5),
            epochs: 2,
            batch_size: 64,
            seed: 0,
            quiet: true,
        }
    }

    /// Sample standard deviation and largest magnitude of a tensor.
    fn spread(t: &Tensor) -> (f32, f32) {
        let n = t.numel() as f64;
        let mean = t.data().iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = t
            .data()
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        let max = t.data().iter().fold(0f32, |m, v| m.max(v.abs()));
        (var.sqrt() as f32, max)
    }

    #[test]
    fn architecture_from_flags() {
        let m = |hidden: Option<Vec<usize>>, depth, width| ModelArgs {
            model: ModelKind::Mlp,
            hidden,
            depth,
            width,
        };
        assert_eq!(
            Architecture::from_args(&m(None, None, None)).unwrap(),
            Architecture::Mlp {
                hidden: vec![256, 128]
            }
        );
        assert_eq!(
            Architecture::from_args(&m(Some(vec![32]), None, None)).unwrap(),
            Architecture::Mlp { hidden: vec![32] }
        );
        assert_eq!(
            Architecture::from_args(&m(None, Some(3), None)).unwrap(),
            Architecture::Mlp {
                hidden: vec![64; 3]
            }
        );
        assert_eq!(
            Architecture::from_args(&m(None, Some(2), Some(8))).unwrap(),
            Architecture::Mlp { hidden: vec![8, 8] }
        );
        let cnn = ModelArgs {
            model: ModelKind::Cnn,
            ..ModelArgs::default()
        };
        assert_eq!(
            Architecture::from_args(&cnn).unwrap(),
            Architecture::reference_cnn()
        );
        let err = Architecture::from_args(&ModelArgs {
            hidden: Some(vec![10]),
            ..cnn
        })
        .unwrap_err();
        assert!(matches!(err, LabError::Usage(_)));
        assert_eq!(err.exit_code(), 2);
        assert!(err
            .to_string()
            .starts_with("--hidden, --depth and --width shape the MLP"));
    }

    #[test]
    fn architecture_builds_and_describes() {
        let mut rng = tensor::rng(0);
        let mlp = Architecture::Mlp { hidden: vec![8] };
        let model = mlp
            .build([1, 28, 28], 10, &act("leaky_relu:0.1"), &mut rng)
            .unwrap();
        assert_eq!(model.len(), 3);
        assert_eq!(model.num_parameters(), 784 * 8 + 8 + 8 * 10 + 10);
        assert_eq!(mlp.describe([1, 28, 28], 10), "MLP 784-8-10");
        assert_eq!(mlp.sizes(), "8");
        assert!(mlp.flattens_input());
        let linear = Architecture::Mlp { hidden: vec![] };
        assert_eq!(linear.describe([1, 2, 2], 3), "MLP 4-3");
        let cnn = Architecture::reference_cnn();
        let model = cnn.build([1, 28, 28], 10, &act("relu"), &mut rng).unwrap();
        assert_eq!(model.len(), 8);
        assert_eq!(
            model.num_parameters(),
            16 * 25 + 16 + 32 * 16 * 25 + 32 + 1568 * 10 + 10
        );
        assert_eq!(cnn.describe([1, 28, 28], 10), "CNN conv 16,32 (5×5)");
        assert_eq!(cnn.sizes(), "conv 16,32 5x5");
        assert!(!cnn.flattens_input());
    }

    #[test]
    fn sizes_are_counted_without_building_and_checked_against_the_limits() {
        let mut rng = tensor::rng(0);
        // the count equals what is built, for the MLP and the CNN, on any image size
        for (arch, input, classes) in [
            (Architecture::Mlp { hidden: vec![] }, [1, 2, 3], 4),
            (
                Architecture::Mlp {
                    hidden: vec![256, 128],
                },
                [1, 28, 28],
                10,
            ),
            (Architecture::reference_cnn(), [1, 28, 28], 10),
            (Architecture::reference_cnn(), [1, 5, 9], 3),
        ] {
            let size = arch.check(input, classes, 64, MODEL_FLAGS).unwrap();
            let model = arch.build(input, classes, &act("relu"), &mut rng).unwrap();
            assert_eq!(size.parameters, model.num_parameters() as u128, "{arch:?}");
        }
        let mlp = Architecture::Mlp {
            hidden: vec![256, 128],
        };
        assert_eq!(
            mlp.size([1, 28, 28], 10).values_per_image,
            784 + 2 * 256 + 2 * 128 + 10
        );
        // parameters: refused above 2^26, naming the size and the flags
        let wide = Architecture::Mlp {
            hidden: vec![10_000_000],
        };
        let Err(e) = wide.build([1, 28, 28], 10, &act("relu"), &mut rng) else {
            panic!("built a 7.9-billion-parameter MLP");
        };
        let e = e.to_string();
        assert!(
            e.starts_with("model: MLP 784-10000000-10 would have 7950000010 parameters"),
            "{e}"
        );
        assert!(e.contains("the limit is 67108864 (256 MiB)"), "{e}");
        assert!(e.contains(MODEL_FLAGS), "{e}");
        // just at the limit is allowed: 1 input pixel, 1 class, one layer of w units has 3w + 1
        let w = (MAX_PARAMETERS - 1) / 3;
        let edge = Architecture::Mlp { hidden: vec![w] };
        assert!(edge.check([1, 1, 1], 1, 1, "f").is_ok());
        let over = Architecture::Mlp {
            hidden: vec![w + 1],
        };
        assert!(over.check([1, 1, 1], 1, 1, "f").is_err());
        // counts that overflow any integer saturate and are refused, not wrapped
        let huge = Architecture::Mlp {
            hidden: vec![usize::MAX, usize::MAX, usize::MAX],
        };
        assert_eq!(huge.size([1, 28, 28], 10).parameters, u128::MAX);
        assert!(huge.check([1, 28, 28], 10, 1, "f").is_err());
        // the batch: the largest that fits is named
        let e = mlp
            .check([1, 28, 28], 10, 100_000, "f")
            .unwrap_err()
            .to_string();
        let most = MAX_BATCH_VALUES / 1562;
        assert!(
            e.starts_with("--batch-size: a batch of 100000 images"),
            "{e}"
        );
        assert!(
            e.contains(&format!("use --batch-size {most} or less")),
            "{e}"
        );
        assert!(mlp.check([1, 28, 28], 10, most, "f").is_ok());
        assert!(mlp.check([1, 28, 28], 10, most + 1, "f").is_err());
        // the CNN needs 4×4 images for its two poolings
        let cnn = Architecture::reference_cnn();
        assert_eq!(cnn.min_image_side(), 4);
        assert!(cnn.check([1, 4, 4], 10, 1, "f").is_ok());
        for input in [[1, 1, 1], [1, 3, 28], [1, 28, 3]] {
            let Err(e) = cnn.build(input, 10, &act("relu"), &mut rng) else {
                panic!("built a CNN on {input:?}");
            };
            let e = e.to_string();
            assert!(e.starts_with("--model cnn: "), "{e}");
            assert!(e.contains("at least 4×4 pixels"), "{e}");
        }
    }

    #[test]
    fn model_flags_too_large_for_any_data_are_refused_before_the_data_is_read() {
        let m = |hidden: Option<Vec<usize>>, depth, width| ModelArgs {
            model: ModelKind::Mlp,
            hidden,
            depth,
            width,
        };
        for (args, start) in [
            (
                m(Some(vec![usize::MAX]), None, None),
                "--hidden 18446744073709551615: these hidden layers alone",
            ),
            (
                m(Some(vec![100_000, 100_000]), None, None),
                "--hidden 100000,100000: these hidden layers alone have 10000400001",
            ),
            (
                m(None, Some(3), Some(1 << 20)),
                "--depth 3 --width 1048576: 3 hidden layers of 1048576",
            ),
        ] {
            let e = Architecture::from_args(&args).unwrap_err().to_string();
            assert!(e.starts_with(start), "{e}");
            assert!(e.contains("the limit is 67108864 (256 MiB)"), "{e}");
        }
        // depth: at most 1000 hidden layers, however narrow
        for args in [
            m(None, Some(usize::MAX), None),
            m(None, Some(1001), Some(1)),
            m(Some(vec![1; 1001]), None, None),
        ] {
            let e = Architecture::from_args(&args).unwrap_err().to_string();
            assert!(e.contains("hidden layers; the limit is 1000"), "{e}");
        }
        let e = Architecture::Mlp {
            hidden: vec![1; 1001],
        }
        .check([1, 28, 28], 10, 1, "--hidden")
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("--hidden: 1001 hidden layers"), "{e}");
        // the largest deep network the limits allow is still made
        assert!(Architecture::from_args(&m(None, Some(1000), Some(64))).is_ok());
    }

    #[test]
    fn gains_follow_the_activation() {
        assert_eq!(nonlinearity(&act("relu")), Nonlinearity::Relu);
        assert_eq!(nonlinearity(&act("mish")), Nonlinearity::Relu);
        assert_eq!(nonlinearity(&act("tanh")), Nonlinearity::Tanh);
        assert_eq!(nonlinearity(&act("sigmoid")), Nonlinearity::Sigmoid);
        assert_eq!(nonlinearity(&act("selu")), Nonlinearity::Selu);
        assert_eq!(
            nonlinearity(&act("leaky_relu:0.2")),
            Nonlinearity::LeakyRelu(0.2)
        );
        assert_eq!(
            nonlinearity(&act("rrelu:0.1,0.3")),
            Nonlinearity::LeakyRelu(0.2)
        );
    }

    #[test]
    fn kaiming_and_xavier_set_the_spread_and_zero_the_biases() {
        let arch = Architecture::Mlp { hidden: vec![400] };
        let relu = act("relu");
        let build = || {
            arch.build([1, 28, 28], 100, &relu, &mut tensor::rng(3))
                .unwrap()
        };

        let model = build();
        let before = nn::state::state_dict(&model);
        init_weights(&model, InitKind::Default, &relu, &mut tensor::rng(4));
        assert_eq!(nn::state::state_dict(&model), before, "default: as built");

        let model = build();
        init_weights(&model, InitKind::Kaiming, &relu, &mut tensor::rng(4));
        let p = model.named_parameters();
        // Hidden layer: N(0, 2/fan_in), fan_in 784; output layer: gain 1, fan_in 400.
        let (std0, _) = spread(&p[0].1.value());
        assert!((std0 / (2f32 / 784.0).sqrt() - 1.0).abs() < 0.02, "{std0}");
        let (std2, _) = spread(&p[2].1.value());
        assert!((std2 / (1f32 / 400.0).sqrt() - 1.0).abs() < 0.05, "{std2}");
        assert!(p[1].1.value().data().iter().all(|&b| b == 0.0));
        assert!(p[3].1.value().data().iter().all(|&b| b == 0.0));

        let tanh = act("tanh");
        let model = arch
            .build([1, 28, 28], 100, &tanh, &mut tensor::rng(3))
            .unwrap();
        init_weights(&model, InitKind::Xavier, &tanh, &mut tensor::rng(4));
        let p = model.named_parameters();
        // U(±a), a = (5/3)·√(6/(784 + 400)); its std is a/√3.
        let a = 5.0 / 3.0 * (6f32 / 1184.0).sqrt();
        let (std0, max0) = spread(&p[0].1.value());
        assert!(max0 <= a && max0 > 0.99 * a, "{max0} vs {a}");
        assert!((std0 / (a / 3f32.sqrt()) - 1.0).abs() < 0.02, "{std0}");
        let a_out = (6f32 / 500.0).sqrt();
        let (_, max2) = spread(&p[2].1.value());
        assert!(max2 <= a_out && max2 > 0.98 * a_out, "{max2} vs {a_out}");
    }

    #[test]
    fn optimizers_and_learning_rates() {
        let p = || vec![Var::parameter(Tensor::ones([2]))];
        assert_eq!(build_optimizer(OptimizerKind::Sgd, 0.1, p()).name(), "SGD");
        assert_eq!(
            build_optimizer(OptimizerKind::Adam, 0.1, p()).name(),
            "Adam"
        );
        assert_eq!(
            build_optimizer(OptimizerKind::Adamw, 0.1, p()).name(),
            "AdamW"
        );
        let params = p();
        let mut momentum = build_optimizer(OptimizerKind::Momentum, 0.5, params.clone());
        params[0].set_grad(Some(Tensor::from_vec(vec![1.0, 2.0], [2])));
        momentum.step();
        params[0].set_grad(Some(Tensor::from_vec(vec![1.0, 2.0], [2])));
        momentum.step();
        // v₁ = g, v₂ = 0.9·g + g = 1.9·g; w = 1 − 0.5·(g + 1.9·g) = 1 − 1.45·g.
        let w = params[0].value().to_vec();
        assert!((w[0] - (1.0 - 1.45)).abs() < 1e-6 && (w[1] - (1.0 - 2.9)).abs() < 1e-6);
        assert_eq!(momentum.lr(), 0.5);

        let c = config(Architecture::reference_cnn());
        assert_eq!(c.lr_at(0, 0, 100), 1e-3);
        assert_eq!(c.lr_at(1, 0, 100), 5e-4);
        assert!((c.lr_at(0, 50, 100) - 1e-3 * 0.5f32.sqrt()).abs() < 1e-9);
        assert!((c.lr_at(2, 25, 100) - 1e-3 * 0.5f32.powf(2.25)).abs() < 1e-9);
        assert_eq!(c.optimizer_text(), "adam, lr 0.001 × 0.5 per epoch");
        let constant = RunConfig {
            lr_decay: LrDecay::PerEpoch(1.0),
            ..c.clone()
        };
        assert_eq!(constant.lr_at(7, 3, 10), 1e-3);
        assert_eq!(constant.optimizer_text(), "adam, lr 0.001");
        // Cosine over 2 epochs of 100 steps: 1, ½ at the middle (step 100), ≈ 0 at the end.
        let cosine = RunConfig {
            lr_decay: LrDecay::Cosine,
            ..c
        };
        assert_eq!(cosine.lr_at(0, 0, 100), 1e-3);
        assert!((cosine.lr_at(1, 0, 100) - 5e-4).abs() < 1e-10);
        let quarter = 1e-3 * 0.5 * (1.0 + std::f32::consts::FRAC_1_SQRT_2);
        assert!((cosine.lr_at(0, 50, 100) - quarter).abs() < 1e-9);
        assert!(cosine.lr_at(1, 99, 100) < 1e-3 * 3e-4);
        assert_eq!(cosine.lr_at(5, 0, 100), 0.0, "past the end: 0");
        assert_eq!(cosine.optimizer_text(), "adam, lr 0.001 → 0 (cosine)");
    }

    #[test]
    fn counting_correct_predictions() {
        let logits = Tensor::from_vec(
            vec![
                0.1, 0.9, 0.0, /**/ 2.0, -1.0, 0.5, /**/ 0.3, 0.3, 0.1, /**/ -5.0,
                -4.0, -3.0,
            ],
            [4, 3],
        );
        // argmax: 1, 0, 0 (the first of a tie), 2
        let labels = Tensor::from_vec(vec![1.0, 0.0, 1.0, 2.0], [4]);
        assert_eq!(count_correct(&logits, &labels), 3);
        assert_eq!(
            count_correct(&Tensor::zeros([0, 3]), &Tensor::zeros([0])),
            0
        );
    }

    #[test]
    fn synthetic_data_and_its_flags() {
        let mut out = Vec::new();
        let args = DataArgs {
            dataset: DatasetChoice::Synthetic,
            limit_train: Some(50),
            ..DataArgs::default()
        };
        let data = load_data(&args, &mut out).unwrap();
        assert!(out.is_empty(), "nothing to say");
        assert_eq!((data.train.len(), data.test.len()), (50, 10_000));
        assert_eq!(data.kind, DatasetChoice::Synthetic);
        assert_eq!(data.input_shape(), [1, 28, 28]);
        assert_eq!(data.classes(), 10);
        let err = load_data(
            &DataArgs {
                download: true,
                ..args.clone()
            },
            &mut out,
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("--download fetches MNIST"),
            "{err}"
        );
        let err = load_data(
            &DataArgs {
                data_dir: Some("data/mnist".into()),
                ..args.clone()
            },
            &mut out,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--data-dir data/mnist: synthetic digits are drawn"),
            "{err}"
        );
        let err = load_data(
            &DataArgs {
                limit_train: Some(0),
                ..args.clone()
            },
            &mut out,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("--limit-train: "), "{err}");
        // more than the 60,000 synthetic training images: all of them, no more drawn
        let data = load_data(
            &DataArgs {
                limit_train: Some(usize::MAX),
                ..args
            },
            &mut out,
        )
        .unwrap();
        assert_eq!(data.train.len(), SYNTHETIC_SIZES.0);
    }

    #[test]
    fn trainer_trains_evaluates_and_reports_layers_in_model_order() {
        let data = Data {
            train: SyntheticDigits::new(256, 1).generate(),
            test: SyntheticDigits::new(200, 2).generate(),
            kind: DatasetChoice::Synthetic,
            description: "synthetic digits".into(),
        };
        let mut c = config(Architecture::Mlp { hidden: vec![16] });
        c.epochs = 1;
        let mut t = Trainer::new(&c, " swish:learnable ", &data).unwrap();
        assert_eq!(t.activation(), "swish:learnable");
        assert!(!t.is_finished());
        let m = t.run_epoch(&data).clone();
        assert!(t.is_finished());
        assert_eq!((m.epoch, m.steps, t.steps()), (1, 4, 4));
        assert_eq!(t.history().step_losses.len(), 4);
        assert!((t.optimizer().lr() - c.lr_at(0, 3, 4)).abs() < 1e-12);
        let names: Vec<&str> = m.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["0.weight", "1", "2.weight"]);
        assert!(m.params.contains_key("1.beta"), "{:?}", m.params);
        let e = t.evaluate(&data.test);
        assert_eq!((e.loss, e.accuracy), (m.test_loss, m.test_accuracy));
        assert!(t.model().is_training(), "back in training mode");
        let err = Trainer::new(&c, "nosuch", &data).err().unwrap();
        assert!(
            err.to_string()
                .starts_with("--activation: unknown activation"),
            "{err}"
        );
    }

    #[test]
    fn check_paths_allows_save_over_resume_and_refuses_other_overlaps() {
        let t = crate::fs::tests::TempDir::new("lab-paths");
        let ck = t.0.join("run.safetensors");
        std::fs::write(&ck, b"checkpoint").unwrap();
        let resume = RunPath::Input {
            flag: "--resume",
            path: &ck,
            writable_by: &["--save"],
        };
        let dotted = t.0.join("./run.safetensors");
        let save = RunPath::File {
            flag: "--save",
            path: &dotted,
        };
        check_paths(&[resume, save]).unwrap();
        let metrics = RunPath::File {
            flag: "--metrics",
            path: &ck,
        };
        let err = check_paths(&[resume, metrics]).unwrap_err().to_string();
        assert!(err.starts_with("--metrics: "), "{err}");
        assert!(err.contains("is the file --resume reads"), "{err}");
        let err = check_paths(&[save, metrics]).unwrap_err().to_string();
        assert!(err.contains("is the same file as --save"), "{err}");
        // the report's files, and a file where the report needs a folder
        let report_dir = t.0.join("report");
        let report = RunPath::Folder {
            flag: "--report",
            path: &report_dir,
            files: &crate::report::REPORT_FILES,
        };
        let index = report_dir.join("index.html");
        let in_report = RunPath::File {
            flag: "--metrics",
            path: &index,
        };
        let err = check_paths(&[in_report, report]).unwrap_err().to_string();
        assert!(err.contains("is the --report file index.html"), "{err}");
        let err = check_paths(&[report, in_report]).unwrap_err().to_string();
        assert!(err.contains("is the --report file index.html"), "{err}");
        let on_folder = RunPath::File {
            flag: "--save",
            path: &report_dir,
        };
        let err = check_paths(&[on_folder, report]).unwrap_err().to_string();
        assert!(err.contains("is the --report folder"), "{err}");
        assert!(!report_dir.exists(), "nothing made before the paths agree");
        check_paths(&[report, save]).unwrap();
        assert_eq!(std::fs::read_dir(&report_dir).unwrap().count(), 0);
        assert_eq!(std::fs::read(&ck).unwrap(), b"checkpoint");
    }

    #[test]
    fn only_an_overflow_is_told_to_lower_the_learning_rate() {
        let overflow = NonFiniteCause::Overflow { lr: 0.001 }.to_string();
        assert!(
            overflow.contains("lower --lr (it was 0.001; try 0.0001)"),
            "{overflow}"
        );
        let others = [
            NonFiniteCause::Activation {
                activation: "ln(x)".into(),
                input: 0.0,
                output: f32::NEG_INFINITY,
                gradient: false,
            },
            NonFiniteCause::Domain { op: "ln" },
            NonFiniteCause::FromStart,
            NonFiniteCause::Sudden,
        ];
        for cause in &others {
            let text = cause.to_string();
            assert!(!text.contains("lower --lr"), "{text}");
            assert!(!text.contains('\n'), "{text}");
        }
        assert!(others[0]
            .to_string()
            .starts_with("the activation ln(x) itself gives -inf for the ordinary input x = 0"));
        assert!(others[1]
            .to_string()
            .contains("`ln` made NaN or ±inf from finite inputs"));
        assert!(others[2]
            .to_string()
            .contains("before any update of this run"));
    }

    #[test]
    fn the_probe_finds_an_activation_that_is_not_finite_on_ordinary_inputs() {
        let data = Data {
            train: SyntheticDigits::new(64, 0).generate(),
            test: SyntheticDigits::new(16, 1).generate(),
            kind: DatasetChoice::Synthetic,
            description: "synthetic digits".into(),
        };
        let probe = |spec: &str| {
            let cfg = config(Architecture::Mlp { hidden: vec![8] });
            Trainer::new(&cfg, spec, &data).unwrap().probe_activation()
        };
        assert_eq!(probe("relu"), None);
        assert_eq!(probe("mish"), None);
        assert_eq!(probe("softmax"), None);
        match probe("x/0") {
            Some(NonFiniteCause::Activation {
                input, gradient, ..
            }) => assert_eq!((input, gradient), (0.0, false)),
            other => panic!("{other:?}"),
        }
        match probe("sqrt(abs(x))") {
            Some(NonFiniteCause::Activation {
                input, gradient, ..
            }) => assert_eq!((input, gradient), (0.0, true)),
            other => panic!("{other:?}"),
        }
    }
}
