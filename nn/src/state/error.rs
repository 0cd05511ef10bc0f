//! [`Error`]: every way saving or loading a checkpoint or a state dict can fail.

use std::fmt;
use std::path::PathBuf;

use super::checkpoint::FORMAT_VERSION;

/// What went wrong saving or loading a checkpoint or a state dict. Every message says what was
/// wrong, where, and what to do about it.
#[derive(Debug)]
pub enum Error {
    /// Reading or writing the file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done: "read", "write", "rename".
        action: &'static str,
        /// The system's error.
        source: std::io::Error,
    },
    /// The file ends before the size its header announces.
    Truncated {
        /// The file.
        path: PathBuf,
        /// The size (in bytes) the file should have, or at least have.
        expected: u64,
        /// Its actual size.
        actual: u64,
    },
    /// The file does not start like a safetensors file (its "magic": an 8-byte header length
    /// followed by a JSON object).
    NotSafetensors {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// The header is not valid (bad JSON, overlapping or inconsistent offsets, trailing bytes).
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is inconsistent.
        reason: String,
    },
    /// A tensor is stored in a type this crate cannot convert to `f32`.
    UnsupportedDtype {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// Its safetensors dtype.
        dtype: String,
    },
    /// The file was written by a newer version of the format.
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version found in its metadata.
        found: String,
    },
    /// The path is not a regular file (a folder, a FIFO, a device such as `/dev/zero`, or a
    /// symbolic link to one): it is refused before it is opened, so reading cannot hang or
    /// run without end.
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead: "a folder", "a FIFO (named pipe)", …
        kind: &'static str,
    },
    /// The file, or its header, is larger than a checkpoint of this model can be: it is
    /// refused before it is read.
    TooLarge {
        /// The file.
        path: PathBuf,
        /// "file" or "header".
        what: &'static str,
        /// Its size in bytes.
        size: u64,
        /// The largest size accepted.
        limit: u64,
    },
    /// A tensor is stored in another type than the one required ([`Limits::f32_only`](super::Limits::f32_only)).
    WrongDtype {
        /// The file.
        path: PathBuf,
        /// The tensor's name.
        name: String,
        /// Its safetensors dtype.
        dtype: String,
    },
    /// An entry holds a value no trained model has: NaN or ±inf, or a negative running
    /// variance.
    InvalidValue {
        /// The checkpoint file, when loading from one.
        path: Option<PathBuf>,
        /// The entry's name.
        name: String,
        /// The flat index of the first bad value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// Two tensors were given the same name when saving.
    DuplicateName {
        /// The repeated name.
        name: String,
    },
    /// The model has entries the state dict lacks.
    Missing {
        /// The checkpoint file, when loading from one.
        path: Option<PathBuf>,
        /// The model's names absent from the state dict.
        missing: Vec<String>,
        /// Names in the state dict that the model does not have (often the same entries
        /// under other names).
        unexpected: Vec<String>,
    },
    /// The state dict has entries the model lacks.
    Unexpected {
        /// The checkpoint file, when loading from one.
        path: Option<PathBuf>,
        /// The names the model does not have.
        unexpected: Vec<String>,
    },
    /// An entry's shape differs from the model's.
    ShapeMismatch {
        /// The checkpoint file, when loading from one.
        path: Option<PathBuf>,
        /// The entry's name.
        name: String,
        /// The model's shape.
        expected: Vec<usize>,
        /// The state dict's shape.
        found: Vec<usize>,
    },
}

/// `" in <path>"` or nothing.
fn where_(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| format!(" in {}", p.display()))
        .unwrap_or_default()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io {
                path,
                action,
                source,
            } => write!(
                f,
                "cannot {action} checkpoint {}: {source}; check that the path exists and is accessible",
                path.display()
            ),
            Error::Truncated {
                path,
                expected,
                actual,
            } => write!(
                f,
                "checkpoint {} is truncated: it has {actual} bytes but its header needs {expected}; \
                 the copy or the write was interrupted — copy the file again or use an earlier checkpoint",
                path.display()
            ),
            Error::NotSafetensors { path, reason } => write!(
                f,
                "{} is not a safetensors checkpoint ({reason}); pass a file written by \
                 nn::state::save or safetensors' save_file",
                path.display()
            ),
            Error::Corrupt { path, reason } => write!(
                f,
                "checkpoint {} is corrupt: {reason}; the file was damaged — use an earlier checkpoint",
                path.display()
            ),
            Error::UnsupportedDtype { path, name, dtype } => write!(
                f,
                "tensor `{name}` in {} has dtype {dtype}, which cannot be converted to f32; \
                 save it as float32 (in PyTorch: `t.float()`)",
                path.display()
            ),
            Error::UnsupportedVersion { path, found } => write!(
                f,
                "checkpoint {} has format_version {found} but this build reads up to {FORMAT_VERSION}; \
                 load it with a newer version of minidl",
                path.display()
            ),
            Error::NotAFile { path, kind } => write!(
                f,
                "{} is {kind}, not a checkpoint file; pass the path of a regular file written by \
                 --save (nn::state::save)",
                path.display()
            ),
            Error::TooLarge {
                path,
                what: "file",
                size,
                limit,
            } => write!(
                f,
                "checkpoint {} is {size} bytes, more than the {limit} bytes a checkpoint of this \
                 model can have; pass a checkpoint saved from this model",
                path.display()
            ),
            Error::TooLarge {
                path,
                what,
                size,
                limit,
            } => write!(
                f,
                "checkpoint {} has a {what} of {size} bytes, more than the {limit} allowed; the \
                 file is not a checkpoint of this model — pass one saved from it",
                path.display()
            ),
            Error::WrongDtype { path, name, dtype } => write!(
                f,
                "tensor `{name}` in {} has dtype {dtype}, but a checkpoint written by --save \
                 holds only F32; pass a file that --save wrote",
                path.display()
            ),
            Error::InvalidValue {
                path,
                name,
                index,
                value,
            } => {
                let what = if value.is_nan() {
                    "a NaN".to_string()
                } else if value.is_infinite() {
                    format!("{value}")
                } else {
                    format!("the negative variance {value}")
                };
                write!(
                    f,
                    "entry `{name}`{} holds {what} at index {index}; a model with it computes \
                     only NaN — the checkpoint was saved from a diverged run or damaged: use an \
                     earlier checkpoint",
                    where_(path)
                )
            }
            Error::DuplicateName { name } => write!(
                f,
                "two tensors are named `{name}`; give every tensor of a checkpoint its own name"
            ),
            Error::Missing {
                path,
                missing,
                unexpected,
            } => {
                write!(
                    f,
                    "state dict{} lacks {} of the model's entries: {}",
                    where_(path),
                    missing.len(),
                    missing.join(", ")
                )?;
                if !unexpected.is_empty() {
                    write!(f, "; it has instead: {}", unexpected.join(", "))?;
                }
                write!(
                    f,
                    "; build the model with the architecture the checkpoint was saved from"
                )
            }
            Error::Unexpected { path, unexpected } => write!(
                f,
                "state dict{} has entries the model lacks: {}; build the model with the \
                 architecture the checkpoint was saved from",
                where_(path),
                unexpected.join(", ")
            ),
            Error::ShapeMismatch {
                path,
                name,
                expected,
                found,
            } => write!(
                f,
                "entry `{name}`{} has shape {found:?} but the model's is {expected:?}; \
                 build the model with the sizes the checkpoint was saved from",
                where_(path)
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
