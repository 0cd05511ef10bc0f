//! Writing checkpoints: tensors as safetensors `F32` data with a metadata header, replaced
//! atomically, and the model (plus an optimizer's state) as one such file.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use safetensors::tensor::{Dtype, View};
use tensor::Tensor;

use super::checkpoint::{FORMAT_VERSION, FORMAT_VERSION_KEY, MODEL_KEY, OPTIM_PREFIX};
use super::dict::state_dict;
use super::error::Error;
use crate::module::Module;

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
