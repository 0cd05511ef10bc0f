//! Reading checkpoints without trusting them: only a regular file, within [`Limits`], its
//! framing and header checked against its size before the data is read, every tensor converted
//! to `f32` and checked, and a model changed only when the whole file is right.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use safetensors::tensor::Dtype;
use safetensors::SafeTensors;
use tensor::Tensor;

use super::checkpoint::{Checkpoint, FORMAT_VERSION, FORMAT_VERSION_KEY, MAX_HEADER, OPTIM_PREFIX};
use super::dict::{load_state_dict_from, state_dict};
use super::error::Error;
use crate::module::Module;

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
        Dtype::F16 => conv(bytes, |b| half::f16::from_le_bytes(b).to_f32()),
        Dtype::BF16 => conv(bytes, |b| half::bf16::from_le_bytes(b).to_f32()),
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
    /// The limits for a checkpoint of `module` as [`save_checkpoint`](super::save_checkpoint) writes it: its
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
