//! `datasets` — the data side of minidl: IDX files (raw or gzipped), MNIST and Fashion-MNIST
//! (loaded from a folder or downloaded), a synthetic-digits generator so everything runs
//! offline, and a [`DataLoader`] that serves any [`Dataset`] as batches of normalised tensors.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `idx.rs` | the IDX format: [`read_idx`], [`parse_idx`], [`write_idx`], validated, never panicking |
//! | `mnist.rs` | [`Mnist`], [`FashionMnist`], [`MnistKind`]: finding, checking and loading the four files |
//! | `download.rs` | `Downloader`: mirrors, checksums of the gzip or decompressed bytes, progress bars, atomic writes (feature `download`) |
//! | `synthetic.rs` | [`SyntheticDigits`]: 28×28 digits drawn from strokes with random affine transforms |
//! | `loader.rs` | [`Dataset`] (bytes + labels + class names) and [`DataLoader`] (shuffle, batches, prefetch) |
//! | `format.rs` | [`IdxType`], the IDX size limits, [`FILES`]: what the readers and the errors share |
//! | `error.rs` | [`Error`]: every failure names the file, what was expected and what was found |
//!
//! Load MNIST (or fall back to synthetic digits) and iterate over batches:
//!
//! ```
//! use std::path::PathBuf;
//! use datasets::{DataLoader, Mnist, SyntheticDigits};
//!
//! let data_dir: Option<PathBuf> = None; // the --data-dir flag, if given
//! # // Here: the 100-image slice of the real MNIST that ships with the crate's tests.
//! # let data_dir = Some(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mnist-100")));
//! let dir = Mnist::resolve_dir(data_dir.as_deref()); // else $MNIST_DIR, else data/mnist
//! let data = match Mnist::load(&dir) {
//!     Ok(mnist) => mnist,
//!     // nothing there at all: say so, and use digits drawn on the spot
//!     Err(e) if e.is_absent_data_set() => {
//!         eprintln!("{e}\nusing synthetic digits instead");
//!         SyntheticDigits::splits(60_000, 10_000, 0)
//!     }
//!     Err(e) => return Err(e), // a corrupt or incomplete data set is an error
//! };
//! println!("{} training and {} test images", data.train.len(), data.test.len());
//! # assert_eq!((data.train.len(), data.test.len()), (100, 100));
//!
//! let loader = DataLoader::new(&data.train, 64).shuffle(42).drop_last(true).flatten(true);
//! for epoch in 0..1 {
//!     for (images, labels) in loader.epoch(epoch) {
//!         assert_eq!(images.dims(), &[64, 784]); // (pixel/255 − 0.1307) / 0.3081
//!         assert_eq!(labels.dims(), &[64]); // class indices as whole-number f32
//!     }
//! }
//! # Ok::<(), datasets::Error>(())
//! ```
//!
//! IDX files come from outside, so nothing in them is trusted: a header's sizes are bounded
//! ([`MAX_ITEM_VALUES`] per image, [`MAX_DATA_BYTES`] in all) before any data is read, and
//! every failure is an [`Error`] naming the file.
//!
//! With the `download` feature (off by default: it brings an HTTP client with TLS),
//! `Mnist::load_or_download(&dir, true)` first fetches the files that are missing, from the
//! public mirrors; files already present are kept when their decompressed content is right.

#[cfg(feature = "download")]
mod download;
mod error;
mod format;
mod idx;
mod loader;
mod mnist;
mod synthetic;

#[cfg(feature = "download")]
pub use download::{file_md5, Content, Downloader, RemoteFile};
pub use error::{Attempt, Error, Failure, Result};
pub use format::{IdxType, FILES, MAX_DATA_BYTES, MAX_ITEM_VALUES};
pub use idx::{parse_idx, read_idx, write_idx, IdxArray, IdxData};
pub use loader::{Batches, DataLoader, Dataset};
pub use mnist::{FashionMnist, Mnist, MnistKind, Splits, DIGIT_CLASSES, FASHION_CLASSES};
pub use synthetic::{render as render_synthetic_digit, SyntheticDigits, SYNTHETIC_NORMALIZATION};
