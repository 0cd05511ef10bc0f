//! State dicts and checkpoints: a model's parameters and buffers by dotted name, saved as a
//! [safetensors](https://huggingface.co/docs/safetensors) file that PyTorch reads with
//! `safetensors.torch.load_file` (and writes with `save_file`).
//!
//! A file holds `f32` tensors by name plus a string→string metadata map in its JSON header:
//! `format_version`, `model` (the printed architecture) and whatever the caller adds (epoch,
//! step, seed, optimizer name). Optimizer state goes in the same file under the `optim.`
//! prefix ([`save_checkpoint`]).
//!
//! Files are written atomically (a temporary file in the same folder, then a rename), so a
//! crash leaves the old checkpoint intact. Loading reads only a regular file (a FIFO or a
//! device is refused before it is opened), within size [`Limits`], and checks everything —
//! header (no key twice), offsets, sizes, dtypes, names, shapes and finite values — before it
//! changes the model: an error never leaves it half-loaded.
//!
//! ```
//! use std::collections::BTreeMap;
//! use nn::state::{load_module, save_module};
//! use nn::{Linear, Module};
//!
//! let path = std::env::temp_dir().join(format!("doc-{}.safetensors", std::process::id()));
//! let trained = Linear::new(4, 2, true, &mut tensor::rng(1));
//! let meta = BTreeMap::from([("epoch".to_string(), "3".to_string())]);
//! save_module(&path, &trained, &meta)?;
//!
//! let fresh = Linear::new(4, 2, true, &mut tensor::rng(2));
//! let ckpt = load_module(&path, &fresh)?;
//! assert_eq!(fresh.weight.value(), trained.weight.value());
//! assert_eq!(ckpt.metadata["epoch"], "3");
//! assert_eq!(ckpt.metadata["model"], "Linear(in_features=4, out_features=2, bias=True)");
//!
//! // a model of another shape is refused, and left as it was
//! let other = Linear::new(4, 3, true, &mut tensor::rng(3));
//! let err = load_module(&path, &other).unwrap_err();
//! assert!(err.to_string().contains("entry `weight`"));
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, View};
use safetensors::SafeTensors;
use tensor::Tensor;

use crate::module::Module;

/// The checkpoint format version this crate writes (metadata key [`FORMAT_VERSION_KEY`]).
pub const FORMAT_VERSION: u32 = 1;
/// Metadata key holding the format version.
pub const FORMAT_VERSION_KEY: &str = "format_version";
/// Metadata key holding the printed architecture of the saved model.
pub const MODEL_KEY: &str = "model";
/// Name prefix of the optimizer's entries in a checkpoint written by [`save_checkpoint`].
pub const OPTIM_PREFIX: &str = "optim.";

/// The largest JSON header the safetensors format allows (100 MB).
const MAX_HEADER: u64 = 100_000_000;

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
    /// A tensor is stored in another type than the one required ([`Limits::f32_only`]).
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

/// A loaded checkpoint: its tensors (sorted by name) and its metadata.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// The tensors by name, sorted by name.
    pub tensors: Vec<(String, Tensor)>,
    /// The metadata map from the header (empty if the file had none).
    pub metadata: BTreeMap<String, String>,
}

impl Checkpoint {
    /// The tensor named `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// Removes the tensors whose name starts with `prefix` and returns them with the prefix
    /// stripped: `ckpt.take_prefix("optim.")` gives the optimizer's state dict.
    pub fn take_prefix(&mut self, prefix: &str) -> Vec<(String, Tensor)> {
        let (taken, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.tensors)
            .into_iter()
            .partition(|(n, _)| n.starts_with(prefix));
        self.tensors = kept;
        taken
            .into_iter()
            .map(|(n, t)| (n[prefix.len()..].to_string(), t))
            .collect()
    }
}

/// A tensor seen as safetensors `F32` data (little-endian bytes).
struct F32View<'a>(&'a Tensor);

impl View for F32View<'_> {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        self.0.dims()
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.0.data().iter().flat_map(|v| v.to_le_bytes()).collect())
    }
    fn data_len(&self) -> usize {
        self.0.numel() * 4
    }
}

/// Writes `bytes` to `path` atomically with `tensor::atomic::write` (the writer every minidl
/// crate shares): a temporary file beside it, synced, then renamed over `path`, so readers see
/// either the old file or the whole new one. A symbolic link is written through; a folder,
/// FIFO or device is refused rather than replaced.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    tensor::atomic::write(path, bytes)
        .map(|_| ())
        .map_err(|e| Error::Io {
            path: e.path,
            action: e.action,
            source: e.source,
        })
}

/// Saves `tensors` with `metadata` to a safetensors file at `path`, atomically. The metadata
/// gets `format_version` added (a caller's value under that key is replaced).
///
/// # Errors
/// [`Error::DuplicateName`] if two tensors share a name; [`Error::Io`] if the file cannot be
/// written.
pub fn save(
    path: impl AsRef<Path>,
    tensors: &[(String, Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<(), Error> {
    let path = path.as_ref();
    let mut seen = HashSet::new();
    for (name, _) in tensors {
        if !seen.insert(name.as_str()) {
            return Err(Error::DuplicateName { name: name.clone() });
        }
    }
    let mut meta: HashMap<String, String> = metadata.clone().into_iter().collect();
    meta.insert(FORMAT_VERSION_KEY.into(), FORMAT_VERSION.to_string());
    let views = tensors.iter().map(|(n, t)| (n.as_str(), F32View(t)));
    let bytes = safetensors::serialize(views, Some(meta)).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        reason: format!("could not encode the header: {e}"),
    })?;
    write_atomic(path, &bytes)
}

/// Half-precision bits to `f32` (exact: every f16 is an f32).
fn f16_to_f32(h: u16) -> f32 {
    let negative = h & 0x8000 != 0;
    let exp = (h >> 10) & 0x1f;
    let mant = (h & 0x3ff) as u32;
    let magnitude = match exp {
        // zero and subnormals: mant · 2⁻²⁴
        0 => mant as f32 * (-24f32).exp2(),
        // infinities and NaNs
        31 => f32::from_bits(0x7f80_0000 | (mant << 13)),
        _ => f32::from_bits(((exp as u32 + 112) << 23) | (mant << 13)),
    };
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// Converts stored bytes of `dtype` to `f32`s, or `None` for a type we do not read.
fn to_f32(dtype: Dtype, bytes: &[u8]) -> Option<Vec<f32>> {
    fn conv<const N: usize>(bytes: &[u8], f: impl Fn([u8; N]) -> f32) -> Vec<f32> {
        bytes
            .chunks_exact(N)
            .map(|c| f(c.try_into().expect("chunk of N bytes")))
            .collect()
    }
    Some(match dtype {
        Dtype::F32 => conv(bytes, f32::from_le_bytes),
        Dtype::F64 => conv(bytes, |b| f64::from_le_bytes(b) as f32),
        Dtype::F16 => conv(bytes, |b| f16_to_f32(u16::from_le_bytes(b))),
        Dtype::BF16 => conv(bytes, |b: [u8; 2]| {
            f32::from_bits((u16::from_le_bytes(b) as u32) << 16)
        }),
        Dtype::I64 => conv(bytes, |b| i64::from_le_bytes(b) as f32),
        Dtype::I32 => conv(bytes, |b| i32::from_le_bytes(b) as f32),
        Dtype::I16 => conv(bytes, |b| i16::from_le_bytes(b) as f32),
        Dtype::I8 => conv(bytes, |b: [u8; 1]| b[0] as i8 as f32),
        Dtype::U8 | Dtype::BOOL => conv(bytes, |b: [u8; 1]| b[0] as f32),
        _ => return None,
    })
}

/// How much of a file [`load_with`] accepts, checked before the data is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest file, in bytes; a larger one is refused from its size alone
    /// ([`Error::TooLarge`]).
    pub max_file: u64,
    /// The largest JSON header, in bytes (at most the format's own 100 MB).
    pub max_header: u64,
    /// Refuse tensors stored in another type than `F32` ([`Error::WrongDtype`]): what
    /// `save` writes, so anything else was written by something else.
    pub f32_only: bool,
}

impl Default for Limits {
    /// Any file size (the file's own size bounds what is read), the format's header limit, any
    /// dtype that converts to `f32`.
    fn default() -> Self {
        Limits {
            max_file: u64::MAX,
            max_header: MAX_HEADER,
            f32_only: false,
        }
    }
}

impl Limits {
    /// The limits for a checkpoint of `module` as [`save_checkpoint`] writes it: its
    /// parameters and buffers, an optimizer's state of up to three buffers per parameter,
    /// `extra_bytes` of other tensors, and a header of up to `max_header` bytes; every tensor
    /// as `f32` when `f32_only`, else up to 8 bytes a value (an `F64` file from PyTorch).
    pub fn for_module(
        module: &dyn Module,
        extra_bytes: u64,
        max_header: u64,
        f32_only: bool,
    ) -> Limits {
        let values: u64 = state_dict(module)
            .iter()
            .map(|(_, t)| t.numel() as u64)
            .sum();
        let per_value = if f32_only { 4 } else { 8 };
        Limits {
            // the model, then exp_avg, exp_avg_sq and max_exp_avg_sq (AMSGrad) at most
            max_file: values
                .saturating_mul(4 * per_value)
                .saturating_add(extra_bytes)
                .saturating_add(max_header)
                .saturating_add(8 + 1024),
            max_header: max_header.min(MAX_HEADER),
            f32_only,
        }
    }
}

/// Reads a checkpoint file within `limits`: refuses anything but a regular file (following
/// symbolic links) before opening it — opening a FIFO would wait for a writer, and a device
/// such as `/dev/zero` never ends — refuses a file larger than allowed from its size, reads
/// the header first and checks it against the file's size, and only then reads the data.
fn read_bounded(path: &Path, limits: &Limits) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        action: "read",
        source,
    };
    let not_file = |t: std::fs::FileType| Error::NotAFile {
        path: path.to_path_buf(),
        kind: tensor::atomic::file_kind(&t),
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(not_file(meta.file_type()));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // the path may have been replaced between the two looks: trust only the open file
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not_file(meta.file_type()));
    }
    let size = meta.len();
    if size > limits.max_file {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            what: "file",
            size,
            limit: limits.max_file,
        });
    }
    // never more than the size seen, even if the file grows meanwhile
    let mut reader = file.take(size);
    let mut bytes = Vec::new();
    (&mut reader).take(8).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() == 8 {
        let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        if n <= MAX_HEADER {
            if n > limits.max_header {
                return Err(Error::TooLarge {
                    path: path.to_path_buf(),
                    what: "header",
                    size: n,
                    limit: limits.max_header,
                });
            }
            (&mut reader).take(n).read_to_end(&mut bytes).map_err(io)?;
        }
    }
    // the header (and its claims about the data) against the file's size, before the data
    check_framing(path, &bytes, size)?;
    bytes.reserve_exact((size - bytes.len() as u64) as usize);
    reader.read_to_end(&mut bytes).map_err(io)?;
    if (bytes.len() as u64) < size {
        // it shrank while being read
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            expected: size,
            actual: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// Checks that no JSON object in `json` has the same key twice, at any depth. `serde_json`
/// keeps the last of two equal keys without a word, so a file edited to hold two values for
/// one name would load one of them silently.
///
/// # Errors
/// A message naming the repeated key, or the parser's message for text that is not JSON.
pub fn check_unique_keys(json: &str) -> Result<(), String> {
    serde_json::from_str::<UniqueKeys>(json)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Any JSON value, parsed only to find an object with a key twice (see
/// [`check_unique_keys`]).
struct UniqueKeys;

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeys)
    }
}

impl<'de> serde::de::Visitor<'de> for UniqueKeys {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key `{key}` appears twice in one object"
                )));
            }
            map.next_value::<UniqueKeys>()?;
            seen.insert(key);
        }
        Ok(UniqueKeys)
    }
}

/// Checks the framing of a safetensors file (size prefix, header, total length) and returns
/// the named error for a truncated, foreign or corrupt file. `bytes` holds at least the size
/// prefix and the header when the file has them; `actual` is the whole file's size.
fn check_framing(path: &Path, bytes: &[u8], actual: u64) -> Result<(), Error> {
    let have = bytes.len() as u64;
    let path_buf = || path.to_path_buf();
    if have < 8 {
        return Err(Error::Truncated {
            path: path_buf(),
            expected: 8,
            actual,
        });
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if !(2..=MAX_HEADER).contains(&n) {
        return Err(Error::NotSafetensors {
            path: path_buf(),
            reason: format!("its first 8 bytes give a header length of {n}"),
        });
    }
    if have > 8 && bytes[8] != b'{' {
        return Err(Error::NotSafetensors {
            path: path_buf(),
            reason: format!("its header starts with byte 0x{:02x}, not `{{`", bytes[8]),
        });
    }
    if have < 8 + n {
        return Err(Error::Truncated {
            path: path_buf(),
            expected: 8 + n,
            actual,
        });
    }
    let header = &bytes[8..(8 + n) as usize];
    let text = std::str::from_utf8(header).map_err(|e| Error::Corrupt {
        path: path_buf(),
        reason: format!("its header is not valid JSON ({e})"),
    })?;
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::Corrupt {
        path: path_buf(),
        reason: format!("its header is not valid JSON ({e})"),
    })?;
    check_unique_keys(text).map_err(|e| Error::Corrupt {
        path: path_buf(),
        reason: format!("its header is ambiguous: {e}"),
    })?;
    let obj = json.as_object().ok_or_else(|| Error::Corrupt {
        path: path_buf(),
        reason: "its header is not a JSON object".into(),
    })?;
    // The data section ends where the last tensor ends. Each tensor's bytes must follow the
    // previous one's without gap or overlap, and be as many as its shape and dtype need (the
    // safetensors crate checks this too, but its message does not name the tensor).
    let corrupt = |reason: String| Error::Corrupt {
        path: path_buf(),
        reason,
    };
    let mut spans = Vec::new();
    for (name, info) in obj.iter().filter(|(k, _)| *k != "__metadata__") {
        let offsets = info
            .get("data_offsets")
            .and_then(|o| o.as_array())
            .filter(|o| o.len() == 2)
            .and_then(|o| Some((o[0].as_u64()?, o[1].as_u64()?)))
            .filter(|(start, end)| start <= end)
            .ok_or_else(|| corrupt(format!("tensor `{name}` has no valid data_offsets")))?;
        let size = info
            .get("shape")
            .and_then(|s| s.as_array())
            .and_then(|dims| {
                dims.iter()
                    .try_fold(1u64, |n, d| n.checked_mul(d.as_u64()?))
            })
            .ok_or_else(|| corrupt(format!("tensor `{name}` has no valid shape")))?;
        let width = info.get("dtype").and_then(|d| d.as_str()).and_then(|d| {
            Some(match d {
                "F64" | "I64" | "U64" => 8,
                "F32" | "I32" | "U32" => 4,
                "F16" | "BF16" | "I16" | "U16" => 2,
                "I8" | "U8" | "BOOL" => 1,
                _ => return None,
            })
        });
        if let Some(width) = width {
            if size.checked_mul(width) != Some(offsets.1 - offsets.0) {
                return Err(corrupt(format!(
                    "tensor `{name}` has {size} values of {width} bytes but its data_offsets \
                     span {} bytes",
                    offsets.1 - offsets.0
                )));
            }
        }
        spans.push((offsets, name));
    }
    spans.sort();
    let mut data_end = 0u64;
    for ((start, end), name) in &spans {
        if *start != data_end {
            let what = if *start < data_end {
                "overlaps"
            } else {
                "leaves a gap after"
            };
            let before = spans
                .iter()
                .find(|((_, e), _)| *e == data_end)
                .map_or("the start of the data".to_string(), |(_, n)| {
                    format!("`{n}`")
                });
            return Err(corrupt(format!(
                "tensor `{name}` (data_offsets [{start}, {end}]) {what} {before}"
            )));
        }
        data_end = *end;
    }
    let expected = (8 + n).saturating_add(data_end);
    if actual < expected {
        return Err(Error::Truncated {
            path: path_buf(),
            expected,
            actual,
        });
    }
    if actual > expected {
        return Err(Error::Corrupt {
            path: path_buf(),
            reason: format!("it has {} bytes after the last tensor", actual - expected),
        });
    }
    Ok(())
}

/// Loads a safetensors file: every tensor (converted to `f32` from F32, F64, F16, BF16 or an
/// integer type) and the metadata. Nothing is changed anywhere until the whole file is read
/// and checked. Only a regular file is read (see [`load_with`]).
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::NotAFile`], [`Error::Truncated`],
/// [`Error::NotSafetensors`] (wrong magic), [`Error::Corrupt`], [`Error::UnsupportedDtype`] or
/// [`Error::UnsupportedVersion`] for a bad file.
pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint, Error> {
    load_with(path, &Limits::default())
}

/// [`load`] within `limits`: a path that is not a regular file (a folder, FIFO, device, or a
/// link to one) is refused before it is opened, a file larger than `limits.max_file` from its
/// size alone, a header larger than `limits.max_header` from its first 8 bytes; the header is
/// checked against the file's size before the data is read.
///
/// # Errors
/// As [`load`], and [`Error::TooLarge`]; [`Error::WrongDtype`] for a tensor that is not F32
/// when `limits.f32_only`.
pub fn load_with(path: impl AsRef<Path>, limits: &Limits) -> Result<Checkpoint, Error> {
    let path = path.as_ref();
    let bytes = read_bounded(path, limits)?;
    let ckpt = load_checked(&bytes, path, limits.f32_only)?;
    Ok(ckpt)
}

/// [`load`] from the bytes of a safetensors file already in memory; `path` only names the
/// file in error messages.
///
/// # Errors
/// As [`load`], except [`Error::Io`]. Never panics, whatever the bytes.
pub fn load_bytes(bytes: &[u8], path: impl AsRef<Path>) -> Result<Checkpoint, Error> {
    load_checked(bytes, path.as_ref(), false)
}

fn load_checked(bytes: &[u8], path: &Path, f32_only: bool) -> Result<Checkpoint, Error> {
    check_framing(path, bytes, bytes.len() as u64)?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let metadata: BTreeMap<String, String> = SafeTensors::read_metadata(bytes)
        .map(|(_, m)| m.metadata().clone().unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .collect();
    if let Some(v) = metadata.get(FORMAT_VERSION_KEY) {
        if v.parse::<u32>().map_or(true, |v| v > FORMAT_VERSION) {
            return Err(Error::UnsupportedVersion {
                path: path.to_path_buf(),
                found: v.clone(),
            });
        }
    }
    let mut tensors = Vec::with_capacity(st.len());
    for (name, view) in st.tensors() {
        if f32_only && view.dtype() != Dtype::F32 {
            return Err(Error::WrongDtype {
                path: path.to_path_buf(),
                name,
                dtype: view.dtype().to_string(),
            });
        }
        let data = to_f32(view.dtype(), view.data()).ok_or_else(|| Error::UnsupportedDtype {
            path: path.to_path_buf(),
            name: name.clone(),
            dtype: view.dtype().to_string(),
        })?;
        let t = Tensor::try_from_vec(data, view.shape()).map_err(|e| Error::Corrupt {
            path: path.to_path_buf(),
            reason: format!("tensor `{name}`: {e}"),
        })?;
        tensors.push((name, t));
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Checkpoint { tensors, metadata })
}

/// The first value of `t` that no trained model has — NaN, ±inf, or (when `non_negative`) a
/// negative number — as `(index, value)`.
pub fn first_invalid(t: &Tensor, non_negative: bool) -> Option<(usize, f32)> {
    t.data()
        .iter()
        .position(|v| !v.is_finite() || (non_negative && *v < 0.0))
        .map(|i| (i, t.data()[i]))
}

/// The model's state: every parameter then every buffer, by dotted name (values share the
/// model's buffers; nothing is copied).
pub fn state_dict(module: &dyn Module) -> Vec<(String, Tensor)> {
    let mut out: Vec<(String, Tensor)> = module
        .named_parameters()
        .into_iter()
        .map(|(n, p)| (n, p.value()))
        .collect();
    out.extend(
        module
            .named_buffers()
            .into_iter()
            .map(|(n, b)| (n, b.value())),
    );
    out
}

/// Sets the model's parameters and buffers from `tensors`, by dotted name. Strict, like
/// PyTorch's `load_state_dict(strict=True)`: every entry must be present, known and of the
/// right shape, and hold only finite values (a running variance also ≥ 0). All entries are
/// checked before any value changes.
///
/// # Errors
/// [`Error::Missing`], [`Error::Unexpected`], [`Error::ShapeMismatch`] or
/// [`Error::InvalidValue`], naming the entries.
pub fn load_state_dict(module: &dyn Module, tensors: &[(String, Tensor)]) -> Result<(), Error> {
    load_state_dict_from(module, tensors, None)
}

fn load_state_dict_from(
    module: &dyn Module,
    tensors: &[(String, Tensor)],
    path: Option<&Path>,
) -> Result<(), Error> {
    let path = path.map(Path::to_path_buf);
    let mut targets = module.named_parameters();
    targets.extend(module.named_buffers());
    let given: HashMap<&str, &Tensor> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let known: HashSet<&str> = targets.iter().map(|(n, _)| n.as_str()).collect();
    let missing: Vec<String> = targets
        .iter()
        .filter(|(n, _)| !given.contains_key(n.as_str()))
        .map(|(n, _)| n.clone())
        .collect();
    let mut unexpected: Vec<String> = tensors
        .iter()
        .filter(|(n, _)| !known.contains(n.as_str()))
        .map(|(n, _)| n.clone())
        .collect();
    unexpected.sort();
    if !missing.is_empty() {
        return Err(Error::Missing {
            path,
            missing,
            unexpected,
        });
    }
    if !unexpected.is_empty() {
        return Err(Error::Unexpected { path, unexpected });
    }
    for (name, var) in &targets {
        let t = given[name.as_str()];
        let expected = var.dims();
        if t.dims() != expected.as_slice() {
            return Err(Error::ShapeMismatch {
                path,
                name: name.clone(),
                expected,
                found: t.dims().to_vec(),
            });
        }
    }
    for (name, _) in &targets {
        // a variance is a mean of squares: a negative one makes √(var + ε) NaN
        let non_negative = name.ends_with("running_var");
        if let Some((index, value)) = first_invalid(given[name.as_str()], non_negative) {
            return Err(Error::InvalidValue {
                path,
                name: name.clone(),
                index,
                value,
            });
        }
    }
    // Everything checked: now (and only now) change the model.
    for (name, var) in &targets {
        var.set_value(given[name.as_str()].clone());
    }
    Ok(())
}

/// Saves the model's state dict to `path` with `metadata` plus `format_version` and `model`
/// (the printed architecture). See [`save`].
///
/// # Errors
/// As [`save`].
pub fn save_module(
    path: impl AsRef<Path>,
    module: &dyn Module,
    metadata: &BTreeMap<String, String>,
) -> Result<(), Error> {
    save_checkpoint(path, module, &[], metadata)
}

/// Saves the model's state dict and an optimizer's state (`optim.state_dict()`, stored under
/// the `optim.` prefix) in one file, so a run resumes exactly. See [`save`].
///
/// # Errors
/// As [`save`].
pub fn save_checkpoint(
    path: impl AsRef<Path>,
    module: &dyn Module,
    optim_state: &[(String, Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<(), Error> {
    let mut tensors = state_dict(module);
    tensors.extend(
        optim_state
            .iter()
            .map(|(n, t)| (format!("{OPTIM_PREFIX}{n}"), t.clone())),
    );
    let mut meta = BTreeMap::new();
    meta.insert(MODEL_KEY.to_string(), module.to_string());
    meta.extend(metadata.iter().map(|(k, v)| (k.clone(), v.clone())));
    save(path, &tensors, &meta)
}

/// Loads a checkpoint into the model (strictly, all or nothing) and returns the rest: the
/// metadata, and the optimizer's entries under `optim.` (take them with
/// `ckpt.take_prefix(OPTIM_PREFIX)`). Files written by PyTorch's `save_file(model.state_dict())`
/// load when the layer names match.
///
/// # Errors
/// Any [`load_with`] error (the file may be at most the size of a checkpoint of this model
/// with an optimizer's state: [`Limits::for_module`]), then [`Error::Missing`],
/// [`Error::Unexpected`], [`Error::ShapeMismatch`] or [`Error::InvalidValue`] naming the
/// file and the entries; the model is then unchanged.
pub fn load_module(path: impl AsRef<Path>, module: &dyn Module) -> Result<Checkpoint, Error> {
    let path = path.as_ref();
    let ckpt = load_with(path, &Limits::for_module(module, 0, MAX_HEADER, false))?;
    let model: Vec<(String, Tensor)> = ckpt
        .tensors
        .iter()
        .filter(|(n, _)| !n.starts_with(OPTIM_PREFIX))
        .cloned()
        .collect();
    load_state_dict_from(module, &model, Some(path))?;
    Ok(ckpt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BatchNorm1d, Linear, Sequential};

    /// A fresh path in the system's temporary folder (removed by [`Tmp`]'s drop).
    struct Tmp(PathBuf);

    impl Tmp {
        fn new(name: &str) -> Tmp {
            let dir =
                std::env::temp_dir().join(format!("minidl-state-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Tmp(dir.join("model.safetensors"))
        }
    }

    impl Drop for Tmp {
        fn drop(&mut self) {
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    fn model(seed: u64) -> Sequential {
        let mut rng = tensor::rng(seed);
        Sequential::new()
            .push(Linear::new(3, 4, true, &mut rng))
            .push(BatchNorm1d::new(4))
            .push(Linear::new(4, 2, false, &mut rng))
    }

    fn meta(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn round_trip_is_bit_exact_with_metadata() {
        let tmp = Tmp::new("roundtrip");
        let special = Tensor::from_vec(
            vec![
                f32::NAN,
                f32::INFINITY,
                -0.0,
                f32::MIN_POSITIVE / 3.0,
                1.0e-38,
                -123.456,
            ],
            [2, 3],
        );
        let tensors = vec![
            ("b".to_string(), Tensor::scalar(7.5)),
            ("a.weight".to_string(), special.clone()),
            ("empty".to_string(), Tensor::zeros([0, 4])),
        ];
        save(&tmp.0, &tensors, &meta(&[("epoch", "3"), ("seed", "42")])).unwrap();
        let ck = load(&tmp.0).unwrap();
        let names: Vec<&str> = ck.tensors.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a.weight", "b", "empty"]);
        let got = ck.get("a.weight").unwrap();
        assert_eq!(got.dims(), [2, 3]);
        let bits = |t: &Tensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(got), bits(&special));
        assert_eq!(ck.get("b").unwrap().dims(), [] as [usize; 0]);
        assert_eq!(ck.get("empty").unwrap().dims(), [0, 4]);
        assert_eq!(ck.metadata["epoch"], "3");
        assert_eq!(ck.metadata["seed"], "42");
        assert_eq!(ck.metadata[FORMAT_VERSION_KEY], "1");
        // no temporary file left behind
        let left: Vec<_> = std::fs::read_dir(tmp.0.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 1, "{left:?}");
    }

    #[test]
    fn module_round_trip_with_buffers_and_description() {
        let tmp = Tmp::new("module");
        let a = model(1);
        // move the running statistics away from their initial values
        a.forward(&autograd::Var::constant(Tensor::randn(
            [5, 3],
            &mut tensor::rng(9),
        )));
        save_module(&tmp.0, &a, &meta(&[("optimizer", "Adam")])).unwrap();
        let b = model(2);
        assert_ne!(state_dict(&b)[0].1, state_dict(&a)[0].1);
        let ck = load_module(&tmp.0, &b).unwrap();
        for ((na, ta), (nb, tb)) in state_dict(&a).iter().zip(state_dict(&b).iter()) {
            assert_eq!(na, nb);
            assert_eq!(ta, tb, "{na}");
        }
        assert_eq!(ck.metadata[MODEL_KEY], a.to_string());
        assert_eq!(ck.metadata["optimizer"], "Adam");
        let names: Vec<String> = state_dict(&a).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "0.weight",
                "0.bias",
                "1.weight",
                "1.bias",
                "2.weight",
                "1.running_mean",
                "1.running_var",
                "1.num_batches_tracked"
            ]
        );
    }

    #[test]
    fn checkpoint_keeps_optimizer_entries_apart() {
        let tmp = Tmp::new("optim");
        let m = model(1);
        let optim = vec![("step".to_string(), Tensor::scalar(3.0))];
        save_checkpoint(&tmp.0, &m, &optim, &BTreeMap::new()).unwrap();
        let mut ck = load_module(&tmp.0, &model(2)).unwrap();
        let o = ck.take_prefix(OPTIM_PREFIX);
        assert_eq!(o, optim);
        assert!(ck.tensors.iter().all(|(n, _)| !n.starts_with(OPTIM_PREFIX)));
    }

    #[test]
    fn truncated_file_is_named_and_model_untouched() {
        let tmp = Tmp::new("truncated");
        save_module(&tmp.0, &model(1), &BTreeMap::new()).unwrap();
        let bytes = std::fs::read(&tmp.0).unwrap();
        let target = model(2);
        let before = state_dict(&target);
        for cut in [0, 5, 8, 20, bytes.len() - 1] {
            std::fs::write(&tmp.0, &bytes[..cut]).unwrap();
            let e = load_module(&tmp.0, &target).unwrap_err();
            match &e {
                Error::Truncated {
                    actual, expected, ..
                } => {
                    assert_eq!(*actual, cut as u64);
                    assert!(*expected > *actual);
                }
                other => panic!("cut at {cut}: expected Truncated, got {other:?}"),
            }
            assert!(e.to_string().contains("is truncated"), "{e}");
        }
        assert_eq!(
            Error::Truncated {
                path: "m.safetensors".into(),
                expected: 100,
                actual: 60
            }
            .to_string(),
            "checkpoint m.safetensors is truncated: it has 60 bytes but its header needs 100; \
             the copy or the write was interrupted — copy the file again or use an earlier checkpoint"
        );
        for ((n, a), (_, b)) in before.iter().zip(state_dict(&target).iter()) {
            assert_eq!(a, b, "{n} changed");
        }
    }

    #[test]
    fn wrong_magic_is_named() {
        let tmp = Tmp::new("magic");
        // a zip file's first bytes
        std::fs::write(
            &tmp.0,
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest of an archive",
        )
        .unwrap();
        let e = load(&tmp.0).unwrap_err();
        assert!(matches!(e, Error::NotSafetensors { .. }), "{e:?}");
        assert!(
            e.to_string().contains("is not a safetensors checkpoint"),
            "{e}"
        );
        // a right length but no JSON object
        let mut bytes = 4u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"[1,2");
        std::fs::write(&tmp.0, &bytes).unwrap();
        let e = load(&tmp.0).unwrap_err();
        assert!(matches!(e, Error::NotSafetensors { .. }), "{e:?}");
    }

    #[test]
    fn corrupt_header_and_trailing_bytes_are_named() {
        let tmp = Tmp::new("corrupt");
        let header = br#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0; 8]);
        // the header lacks its closing brace
        std::fs::write(&tmp.0, &bytes).unwrap();
        let e = load(&tmp.0).unwrap_err();
        assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
        assert!(e.to_string().contains("not valid JSON"), "{e}");
        // shape [3] does not fit 8 bytes of data
        let header = br#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0; 8]);
        std::fs::write(&tmp.0, &bytes).unwrap();
        assert!(matches!(load(&tmp.0), Err(Error::Corrupt { .. })));
        // extra bytes after the data
        save(&tmp.0, &[("a".into(), Tensor::ones([2]))], &BTreeMap::new()).unwrap();
        let mut bytes = std::fs::read(&tmp.0).unwrap();
        bytes.extend_from_slice(&[1, 2, 3]);
        std::fs::write(&tmp.0, &bytes).unwrap();
        let e = load(&tmp.0).unwrap_err();
        assert!(
            e.to_string().contains("3 bytes after the last tensor"),
            "{e}"
        );
    }

    #[test]
    fn missing_file_is_an_io_error_naming_the_path() {
        let e = load("no/such/dir/model.safetensors").unwrap_err();
        assert!(matches!(e, Error::Io { action: "read", .. }));
        assert!(
            e.to_string().contains("no/such/dir/model.safetensors"),
            "{e}"
        );
    }

    #[test]
    fn missing_key_is_named_and_model_untouched() {
        let m = model(1);
        let before = state_dict(&m);
        let mut sd = state_dict(&model(2));
        sd.retain(|(n, _)| n != "2.weight");
        sd.push(("2.w".into(), Tensor::zeros([2, 4])));
        let e = load_state_dict(&m, &sd).unwrap_err();
        match &e {
            Error::Missing {
                missing,
                unexpected,
                ..
            } => {
                assert_eq!(missing, &["2.weight"]);
                assert_eq!(unexpected, &["2.w"]);
            }
            other => panic!("expected Missing, got {other:?}"),
        }
        assert!(e
            .to_string()
            .contains("lacks 1 of the model's entries: 2.weight"));
        assert!(e.to_string().contains("it has instead: 2.w"));
        assert_eq!(state_dict(&m), before);
    }

    #[test]
    fn unexpected_key_is_named() {
        let m = model(1);
        let mut sd = state_dict(&m);
        sd.push(("3.bias".into(), Tensor::zeros([2])));
        let e = load_state_dict(&m, &sd).unwrap_err();
        assert!(matches!(&e, Error::Unexpected { unexpected, .. } if unexpected == &["3.bias"]));
    }

    #[test]
    fn wrong_shape_is_named_with_path_and_model_untouched() {
        let tmp = Tmp::new("shape");
        let wide = Sequential::new()
            .push(Linear::new(3, 5, true, &mut tensor::rng(0)))
            .push(BatchNorm1d::new(4))
            .push(Linear::new(4, 2, false, &mut tensor::rng(0)));
        save_module(&tmp.0, &wide, &BTreeMap::new()).unwrap();
        let m = model(1);
        let before = state_dict(&m);
        let e = load_module(&tmp.0, &m).unwrap_err();
        match &e {
            Error::ShapeMismatch {
                name,
                expected,
                found,
                path,
            } => {
                assert_eq!(name, "0.weight");
                assert_eq!(expected, &[4, 3]);
                assert_eq!(found, &[5, 3]);
                assert_eq!(path.as_deref(), Some(tmp.0.as_path()));
            }
            other => panic!("expected ShapeMismatch, got {other:?}"),
        }
        assert!(
            e.to_string().contains("entry `0.weight` in ")
                && e.to_string()
                    .contains("has shape [5, 3] but the model's is [4, 3]")
        );
        assert_eq!(state_dict(&m), before);
    }

    #[test]
    fn newer_format_and_unsupported_dtype_are_refused() {
        let tmp = Tmp::new("version");
        let mut meta = HashMap::new();
        meta.insert(FORMAT_VERSION_KEY.to_string(), "99".to_string());
        let data = [0u8; 4];
        let view = safetensors::tensor::TensorView::new(Dtype::F32, vec![1], &data).unwrap();
        let bytes = safetensors::serialize([("a", view)], Some(meta)).unwrap();
        std::fs::write(&tmp.0, bytes).unwrap();
        assert!(matches!(
            load(&tmp.0),
            Err(Error::UnsupportedVersion { found, .. }) if found == "99"
        ));
        let data = [0u8; 8];
        let view = safetensors::tensor::TensorView::new(Dtype::U64, vec![1], &data).unwrap();
        std::fs::write(&tmp.0, safetensors::serialize([("n", view)], None).unwrap()).unwrap();
        let e = load(&tmp.0).unwrap_err();
        assert!(
            matches!(&e, Error::UnsupportedDtype { name, .. } if name == "n"),
            "{e:?}"
        );
    }

    #[test]
    fn other_dtypes_convert_to_f32() {
        let tmp = Tmp::new("dtypes");
        let f64s: Vec<u8> = [1.5f64, -2.25]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        // 1.0, −2.0, 65504 (max), 2⁻²⁴ (smallest subnormal) in half precision
        let f16s: Vec<u8> = [0x3c00u16, 0xc000, 0x7bff, 0x0001]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let bf16s: Vec<u8> = [0x3f80u16, 0xc0a0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let i64s: Vec<u8> = [3i64, -7].iter().flat_map(|v| v.to_le_bytes()).collect();
        let views = [
            (
                "d",
                safetensors::tensor::TensorView::new(Dtype::F64, vec![2], &f64s).unwrap(),
            ),
            (
                "h",
                safetensors::tensor::TensorView::new(Dtype::F16, vec![4], &f16s).unwrap(),
            ),
            (
                "b",
                safetensors::tensor::TensorView::new(Dtype::BF16, vec![2], &bf16s).unwrap(),
            ),
            (
                "i",
                safetensors::tensor::TensorView::new(Dtype::I64, vec![2], &i64s).unwrap(),
            ),
        ];
        std::fs::write(&tmp.0, safetensors::serialize(views, None).unwrap()).unwrap();
        let ck = load(&tmp.0).unwrap();
        assert_eq!(ck.get("d").unwrap().to_vec(), vec![1.5, -2.25]);
        assert_eq!(
            ck.get("h").unwrap().to_vec(),
            vec![1.0, -2.0, 65504.0, 2f32.powi(-24)]
        );
        assert_eq!(ck.get("b").unwrap().to_vec(), vec![1.0, -5.0]);
        assert_eq!(ck.get("i").unwrap().to_vec(), vec![3.0, -7.0]);
        assert!(ck.metadata.is_empty());
    }

    #[test]
    fn duplicate_names_are_refused() {
        let tmp = Tmp::new("dup");
        let t = vec![
            ("a".to_string(), Tensor::ones([1])),
            ("a".to_string(), Tensor::ones([1])),
        ];
        let e = save(&tmp.0, &t, &BTreeMap::new()).unwrap_err();
        assert!(matches!(&e, Error::DuplicateName { name } if name == "a"));
        assert!(!tmp.0.exists());
    }

    /// The limits of [`load_module`] for the test model.
    fn module_limits() -> Limits {
        Limits::for_module(&model(1), 0, 1 << 20, true)
    }

    #[cfg(unix)]
    #[test]
    fn non_regular_files_are_refused_before_they_are_opened() {
        let tmp = Tmp::new("special");
        let dir = tmp.0.parent().unwrap().to_path_buf();
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let link = dir.join("link-to-dir");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let cases: [(&Path, &str); 4] = [
            (&fifo, "is a FIFO (named pipe), not a checkpoint file"),
            (Path::new("/dev/zero"), "is a character device"),
            (&dir, "is a folder"),
            (&link, "is a folder"),
        ];
        for (path, says) in cases {
            // a FIFO without a writer would block an open() for reading forever
            let e = load_with(path, &module_limits()).unwrap_err();
            assert!(matches!(e, Error::NotAFile { .. }), "{e:?}");
            assert!(e.to_string().contains(says), "{e}");
            assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        }
    }

    #[test]
    fn a_file_larger_than_the_model_allows_is_refused_from_its_size() {
        let tmp = Tmp::new("huge");
        // sparse: 1 TiB on the books, nothing on the disk
        let f = std::fs::File::create(&tmp.0).unwrap();
        f.set_len(1 << 40).unwrap();
        drop(f);
        let limits = module_limits();
        assert!(limits.max_file < 1 << 30, "{limits:?}");
        let e = load_with(&tmp.0, &limits).unwrap_err();
        assert!(
            matches!(e, Error::TooLarge { what: "file", size, .. } if size == 1 << 40),
            "{e:?}"
        );
        assert!(
            e.to_string().contains("1099511627776 bytes, more than the"),
            "{e}"
        );
        // a header length within the format's limit but beyond this model's
        let mut bytes = (50_000_000u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(b"{}");
        std::fs::write(&tmp.0, &bytes).unwrap();
        let e = load_with(&tmp.0, &limits).unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooLarge {
                    what: "header",
                    size: 50_000_000,
                    ..
                }
            ),
            "{e:?}"
        );
        // a good checkpoint fits its own model's limits
        save_module(&tmp.0, &model(1), &BTreeMap::new()).unwrap();
        assert!(load_with(&tmp.0, &limits).is_ok());
        assert!(load_module(&tmp.0, &model(2)).is_ok());
    }

    #[test]
    fn a_header_whose_data_would_exceed_the_file_is_refused_before_the_data_is_read() {
        let tmp = Tmp::new("claims");
        let header = br#"{"a":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0; 16]);
        std::fs::write(&tmp.0, &bytes).unwrap();
        let e = load(&tmp.0).unwrap_err();
        assert!(matches!(e, Error::Truncated { .. }), "{e:?}");
    }

    #[test]
    fn duplicate_keys_in_the_header_are_refused() {
        let tmp = Tmp::new("dupkeys");
        for header in [
            // the same tensor twice
            &br#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#[..],
            // the same metadata key twice
            &br#"{"__metadata__":{"epoch":"1","epoch":"2"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#[..],
            // a field of a tensor twice
            &br#"{"a":{"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]}}"#[..],
        ] {
            let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
            bytes.extend_from_slice(header);
            bytes.extend_from_slice(&[0; 4]);
            std::fs::write(&tmp.0, &bytes).unwrap();
            let e = load(&tmp.0).unwrap_err();
            assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
            assert!(e.to_string().contains("appears twice"), "{e}");
        }
        assert!(check_unique_keys(r#"[{"a":1},{"a":2}]"#).is_ok());
        assert!(check_unique_keys(r#"[{"a":{"b":1,"b":2}}]"#)
            .unwrap_err()
            .contains("`b` appears twice"));
    }

    #[test]
    fn overlapping_offsets_and_wrong_dtype_are_refused() {
        let tmp = Tmp::new("offsets");
        let header = br#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0; 12]);
        std::fs::write(&tmp.0, &bytes).unwrap();
        assert!(matches!(load(&tmp.0), Err(Error::Corrupt { .. })));
        let data = [0u8; 8];
        let view = safetensors::tensor::TensorView::new(Dtype::F64, vec![1], &data).unwrap();
        std::fs::write(&tmp.0, safetensors::serialize([("w", view)], None).unwrap()).unwrap();
        let e = load_with(&tmp.0, &module_limits()).unwrap_err();
        assert!(
            matches!(&e, Error::WrongDtype { name, .. } if name == "w"),
            "{e:?}"
        );
        assert!(load(&tmp.0).is_ok());
    }

    #[test]
    fn non_finite_weights_and_negative_variances_are_named_and_model_untouched() {
        let tmp = Tmp::new("nan");
        let target = model(2);
        let before = state_dict(&target);
        for (name, value, says) in [
            ("0.weight", f32::NAN, "entry `0.weight` in "),
            ("0.bias", f32::INFINITY, "holds inf at index 1"),
            (
                "1.running_var",
                -1.0,
                "holds the negative variance -1 at index 1",
            ),
            ("1.running_mean", f32::NEG_INFINITY, "holds -inf at index 1"),
        ] {
            let mut sd: Vec<(String, Tensor)> = state_dict(&model(1))
                .into_iter()
                .map(|(n, t)| (n, Tensor::from_vec(t.to_vec(), t.dims())))
                .collect();
            let entry = &mut sd.iter_mut().find(|(n, _)| n == name).unwrap().1;
            let mut v = entry.to_vec();
            v[1] = value;
            *entry = Tensor::from_vec(v, entry.dims());
            save(&tmp.0, &sd, &BTreeMap::new()).unwrap();
            let e = load_module(&tmp.0, &target).unwrap_err();
            assert!(
                matches!(&e, Error::InvalidValue { name: n, index: 1, .. } if n == name),
                "{e:?}"
            );
            assert!(e.to_string().contains(says), "{e}");
            assert!(e.to_string().contains("use an earlier checkpoint"), "{e}");
            assert_eq!(state_dict(&target).len(), before.len());
            for ((n, a), (_, b)) in before.iter().zip(state_dict(&target).iter()) {
                assert_eq!(a, b, "{n} changed");
            }
        }
    }
}
