//! [`LabError`], why the lab stopped, and the checks of list and activation flags that
//! every example shares.

use std::error::Error;
use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use nn::activation::{ActivationSpec, ParseError};

use super::cause::NonFiniteCause;
use crate::metrics::MetricsError;
use crate::report::ReportError;

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
    /// cannot be written: found by [`check_paths`](super::check_paths) before the run starts.
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
