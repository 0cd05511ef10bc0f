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
//! | file | what it holds |
//! | --- | --- |
//! | `checkpoint.rs` | [`Checkpoint`] and the format's metadata keys and version |
//! | `error.rs` | [`Error`] |
//! | `dict.rs` | [`state_dict`], [`load_state_dict`] (strict, all or nothing), [`first_invalid`] |
//! | `write.rs` | [`save`], [`save_module`], [`save_checkpoint`] |
//! | `read.rs` | [`load`], [`load_with`] within [`Limits`], [`load_bytes`], [`load_module`], [`check_unique_keys`] |
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

mod checkpoint;
mod dict;
mod error;
mod read;
mod write;

pub use checkpoint::{Checkpoint, FORMAT_VERSION, FORMAT_VERSION_KEY, MODEL_KEY, OPTIM_PREFIX};
pub use dict::{first_invalid, load_state_dict, state_dict};
pub use error::Error;
pub use read::{check_unique_keys, load, load_bytes, load_module, load_with, Limits};
pub use write::{save, save_checkpoint, save_module};

#[cfg(test)]
mod tests;
