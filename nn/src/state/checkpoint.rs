//! What a checkpoint file is: the format's metadata keys and version, the header limit the
//! safetensors format sets, and [`Checkpoint`], a file's contents once loaded.

use std::collections::BTreeMap;

use tensor::Tensor;

/// The checkpoint format version this crate writes (metadata key [`FORMAT_VERSION_KEY`]).
pub const FORMAT_VERSION: u32 = 1;
/// Metadata key holding the format version.
pub const FORMAT_VERSION_KEY: &str = "format_version";
/// Metadata key holding the printed architecture of the saved model.
pub const MODEL_KEY: &str = "model";
/// Name prefix of the optimizer's entries in a checkpoint written by [`save_checkpoint`](super::save_checkpoint).
pub const OPTIM_PREFIX: &str = "optim.";

/// The largest JSON header the safetensors format allows (100 MB).
pub(crate) const MAX_HEADER: u64 = 100_000_000;

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
