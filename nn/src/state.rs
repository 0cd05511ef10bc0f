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
//! crash leaves the old checkpoint intact. Loading checks everything — header, sizes, dtypes,
//! names and shapes — before it changes the model: an error never leaves it half-loaded.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::Write;
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

/// Writes `bytes` to `path` atomically: into a temporary file beside it, synced, then renamed
/// over `path`, so readers see either the old file or the whole new one.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |action, source| Error::Io {
        path: path.to_path_buf(),
        action,
        source,
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.unwrap_or_else(|| "checkpoint".into()),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("write", e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io("rename", e)
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

/// Checks the framing of a safetensors file (size prefix, header, total length) and returns
/// the named error for a truncated, foreign or corrupt file.
fn check_framing(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let actual = bytes.len() as u64;
    let path_buf = || path.to_path_buf();
    if actual < 8 {
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
    if actual > 8 && bytes[8] != b'{' {
        return Err(Error::NotSafetensors {
            path: path_buf(),
            reason: format!("its header starts with byte 0x{:02x}, not `{{`", bytes[8]),
        });
    }
    if actual < 8 + n {
        return Err(Error::Truncated {
            path: path_buf(),
            expected: 8 + n,
            actual,
        });
    }
    let header = &bytes[8..(8 + n) as usize];
    let json: serde_json::Value = std::str::from_utf8(header)
        .map_err(|e| e.to_string())
        .and_then(|s| serde_json::from_str(s).map_err(|e| e.to_string()))
        .map_err(|e| Error::Corrupt {
            path: path_buf(),
            reason: format!("its header is not valid JSON ({e})"),
        })?;
    let obj = json.as_object().ok_or_else(|| Error::Corrupt {
        path: path_buf(),
        reason: "its header is not a JSON object".into(),
    })?;
    // The data section ends where the last tensor ends.
    let mut data_end = 0u64;
    for (name, info) in obj.iter().filter(|(k, _)| *k != "__metadata__") {
        let end = info
            .get("data_offsets")
            .and_then(|o| o.get(1))
            .and_then(|e| e.as_u64())
            .ok_or_else(|| Error::Corrupt {
                path: path_buf(),
                reason: format!("tensor `{name}` has no valid data_offsets"),
            })?;
        data_end = data_end.max(end);
    }
    let expected = 8 + n + data_end;
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
/// and checked.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Truncated`], [`Error::NotSafetensors`]
/// (wrong magic), [`Error::Corrupt`], [`Error::UnsupportedDtype`] or
/// [`Error::UnsupportedVersion`] for a bad file.
pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint, Error> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        action: "read",
        source,
    })?;
    check_framing(path, &bytes)?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let metadata: BTreeMap<String, String> = SafeTensors::read_metadata(&bytes)
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
/// right shape. All entries are checked before any value changes.
///
/// # Errors
/// [`Error::Missing`], [`Error::Unexpected`] or [`Error::ShapeMismatch`], naming the entries.
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
/// Any [`load`] error, then [`Error::Missing`], [`Error::Unexpected`] or
/// [`Error::ShapeMismatch`] naming the file and the entries; the model is then unchanged.
pub fn load_module(path: impl AsRef<Path>, module: &dyn Module) -> Result<Checkpoint, Error> {
    let path = path.as_ref();
    let ckpt = load(path)?;
    let model: Vec<(String, Tensor)> = ckpt
        .tensors
        .iter()
        .filter(|(n, _)| !n.starts_with(OPTIM_PREFIX))
        .cloned()
        .collect();
    load_state_dict_from(module, &model, Some(path))?;
    Ok(ckpt)
}
