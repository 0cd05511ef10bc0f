//! MNIST and Fashion-MNIST: four IDX files each (same names, same format), found raw or gzipped
//! in a data folder, validated, and turned into a train and a test [`Dataset`].
//!
//! Where the folder comes from ([`Mnist::resolve_dir`]): the `--data-dir` value if given, else
//! the `MNIST_DIR` (`FASHION_MNIST_DIR`) environment variable, else `data/mnist`
//! (`data/fashion-mnist`) under the current folder.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, NO_SUCH_FOLDER};
use crate::format::{IdxType, FILES};
use crate::idx::{file_kind, read_idx, IdxArray, IdxData};
use crate::loader::{check_labels, Dataset};

/// MNIST's class names: the digits.
pub const DIGIT_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Fashion-MNIST's class names (Zalando's order).
pub const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Which of the two MNIST-format data sets: everything that differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MnistKind {
    /// Handwritten digits (LeCun, Cortes, Burges).
    Digits,
    /// Zalando's article images (Xiao, Rasul, Vollgraf 2017).
    Fashion,
}

impl MnistKind {
    /// `"MNIST"` or `"Fashion-MNIST"`.
    pub const fn name(self) -> &'static str {
        match self {
            MnistKind::Digits => "MNIST",
            MnistKind::Fashion => "Fashion-MNIST",
        }
    }

    /// The environment variable naming the data folder: `MNIST_DIR` or `FASHION_MNIST_DIR`.
    pub const fn env_var(self) -> &'static str {
        match self {
            MnistKind::Digits => "MNIST_DIR",
            MnistKind::Fashion => "FASHION_MNIST_DIR",
        }
    }

    /// The folder used when neither a flag nor the environment names one (relative to the
    /// current folder): `data/mnist` or `data/fashion-mnist`.
    pub const fn default_dir(self) -> &'static str {
        match self {
            MnistKind::Digits => "data/mnist",
            MnistKind::Fashion => "data/fashion-mnist",
        }
    }

    /// The class names, indexed by label.
    pub const fn class_names(self) -> &'static [&'static str; 10] {
        match self {
            MnistKind::Digits => &DIGIT_CLASSES,
            MnistKind::Fashion => &FASHION_CLASSES,
        }
    }

    /// `(mean, std)` of the training pixels scaled to [0, 1]: MNIST 0.1307 / 0.3081 (the values
    /// of PyTorch's MNIST example), Fashion-MNIST 0.2860 / 0.3530.
    pub const fn normalization(self) -> (f32, f32) {
        match self {
            MnistKind::Digits => (0.1307, 0.3081),
            MnistKind::Fashion => (0.2860, 0.3530),
        }
    }

    /// The public mirrors, tried in order (torchvision's list).
    pub const fn mirrors(self) -> &'static [&'static str] {
        match self {
            MnistKind::Digits => &[
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "http://yann.lecun.com/exdb/mnist/",
            ],
            MnistKind::Fashion => &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        }
    }

    /// The `.gz` file names with the MD5 of each as the mirrors serve it (torchvision's
    /// published checksums), in the order of [`FILES`].
    pub const fn checksums(self) -> [(&'static str, &'static str); 4] {
        match self {
            MnistKind::Digits => [
                (
                    "train-images-idx3-ubyte.gz",
                    "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                ),
                (
                    "train-labels-idx1-ubyte.gz",
                    "d53e105ee54ea40749a09fcbcd1e9432",
                ),
                (
                    "t10k-images-idx3-ubyte.gz",
                    "9fb629c4189551a2d022fa330f9573f3",
                ),
                (
                    "t10k-labels-idx1-ubyte.gz",
                    "ec29112dd5afa0611ce80d1b7f02629c",
                ),
            ],
            MnistKind::Fashion => [
                (
                    "train-images-idx3-ubyte.gz",
                    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                ),
                (
                    "train-labels-idx1-ubyte.gz",
                    "25c81989df183df01b3e8a0aad5dffbe",
                ),
                (
                    "t10k-images-idx3-ubyte.gz",
                    "bef4ecab320f06d8554ea6380940ec79",
                ),
                (
                    "t10k-labels-idx1-ubyte.gz",
                    "bb300cfdad3c16e7a12a480ee83cd310",
                ),
            ],
        }
    }

    /// What each file of [`FILES`] holds once decompressed: its length and, where known, its
    /// MD5 (measured on the real MNIST files). Copies of the data sets are often compressed
    /// again, with other gzip bytes than the published checksums': the content is what
    /// `MnistKind::download` checks in a file already present.
    pub const fn contents(self) -> [(u64, Option<&'static str>); 4] {
        // Both sets have 60,000 + 10,000 images of 28×28 bytes: headers of 16 and 8 bytes.
        let lens = [47_040_016, 60_008, 7_840_016, 10_008];
        match self {
            MnistKind::Digits => [
                (lens[0], Some("6bbc9ace898e44ae57da46a324031adb")),
                (lens[1], Some("a25bea736e30d166cdddb491f175f624")),
                (lens[2], Some("2646ac647ad5339dbf082846283269ea")),
                (lens[3], Some("27ae3e4e09519cfbb04c329615203637")),
            ],
            MnistKind::Fashion => [
                (lens[0], None),
                (lens[1], None),
                (lens[2], None),
                (lens[3], None),
            ],
        }
    }

    /// The data folder: `cli` (the `--data-dir` value) if given, else the environment variable
    /// [`MnistKind::env_var`] if set and not empty, else [`MnistKind::default_dir`].
    pub fn resolve_dir(self, cli: Option<&Path>) -> PathBuf {
        resolve(cli, std::env::var_os(self.env_var()), self.default_dir())
    }

    /// Loads the train and test sets from `dir`, each file raw or gzipped (`name` or `name.gz`;
    /// the raw one wins when both exist). The two halves are read on two threads.
    ///
    /// # Errors
    /// [`Error::NoFolder`] if `dir` does not exist or is not a folder; [`Error::NotFound`]
    /// (listing the missing files and how to get them) if a file is in neither form; otherwise
    /// the first error of reading or validating a file: any IDX error, [`Error::NotAFile`],
    /// [`Error::WrongType`] (not `u8`), [`Error::WrongShape`] (images not `[N, rows, cols]`,
    /// labels not `[N]`), [`Error::Empty`] (no images), [`Error::CountMismatch`],
    /// [`Error::LabelOutOfRange`], [`Error::ImageSizeMismatch`] (train and test images of
    /// different sizes).
    pub fn load(self, dir: impl AsRef<Path>) -> Result<Splits> {
        let dir = dir.as_ref();
        self.check_folder(dir)?;
        let paths: Vec<Option<PathBuf>> = FILES.iter().map(|f| find(dir, f)).collect();
        let missing: Vec<String> = FILES
            .iter()
            .zip(&paths)
            .filter(|(_, p)| p.is_none())
            .map(|(f, _)| f.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(Error::NotFound {
                dir: dir.to_path_buf(),
                dataset: self.name(),
                missing,
                env_var: self.env_var(),
            });
        }
        let paths: Vec<PathBuf> = paths.into_iter().flatten().collect();
        let (train, test) = std::thread::scope(|s| {
            let train = s.spawn(|| self.load_split(&paths[0], &paths[1], "train"));
            let test = self.load_split(&paths[2], &paths[3], "test");
            (train.join().expect("reading the training files"), test)
        });
        let (train, test) = (train?, test?);
        // A network is built for the training images' size: test images of another size
        // would only fail after a whole epoch.
        if (train.rows(), train.cols()) != (test.rows(), test.cols()) {
            return Err(Error::ImageSizeMismatch {
                train: paths[0].clone(),
                train_size: (train.rows(), train.cols()),
                test: paths[2].clone(),
                test_size: (test.rows(), test.cols()),
            });
        }
        Ok(Splits { train, test })
    }

    /// `Ok` if `dir` is a folder that can be listed.
    fn check_folder(self, dir: &Path) -> Result<()> {
        let no_folder = |found| Error::NoFolder {
            dir: dir.to_path_buf(),
            dataset: self.name(),
            found,
            env_var: self.env_var(),
        };
        match std::fs::metadata(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(no_folder(NO_SUCH_FOLDER)),
            Err(e) => Err(Error::io(dir, "read the folder", e)),
            Ok(m) if m.is_file() => Err(no_folder("a regular file, not a folder")),
            Ok(m) if !m.is_dir() => Err(no_folder(file_kind(&m.file_type()))),
            Ok(_) => std::fs::read_dir(dir)
                .map(drop)
                .map_err(|e| Error::io(dir, "read the folder", e)),
        }
    }

    /// Reads one images file and one labels file into a [`Dataset`].
    fn load_split(self, images: &Path, labels: &Path, split: &str) -> Result<Dataset> {
        let (dims, pixels) = u8_array(read_idx(images)?, images)?;
        if dims.len() != 3 || dims[1] == 0 || dims[2] == 0 {
            return Err(Error::WrongShape {
                path: images.to_path_buf(),
                expected: "[N, rows, cols] (3 dimensions, images)".into(),
                found: dims,
            });
        }
        if dims[0] == 0 {
            return Err(Error::Empty {
                path: images.to_path_buf(),
                dims,
            });
        }
        let (ldims, label_bytes) = u8_array(read_idx(labels)?, labels)?;
        if ldims.len() != 1 {
            return Err(Error::WrongShape {
                path: labels.to_path_buf(),
                expected: "[N] (1 dimension, labels)".into(),
                found: ldims,
            });
        }
        if ldims[0] != dims[0] {
            return Err(Error::CountMismatch {
                path: labels.to_path_buf(),
                expected: dims[0],
                found: ldims[0],
            });
        }
        let classes = self.class_names();
        check_labels(&label_bytes, classes.len(), labels)?;
        let (mean, std) = self.normalization();
        let data = Dataset::new(
            format!("{} {split}", self.name()),
            pixels,
            label_bytes,
            dims[1],
            dims[2],
            classes.iter().map(|c| c.to_string()).collect(),
        )?;
        Ok(data.with_normalization(mean, std))
    }

    /// Downloads the four files into `dir` from [`MnistKind::mirrors`], checking each against
    /// [`MnistKind::checksums`] (or, for another compression of the same data,
    /// [`MnistKind::contents`]), with a progress bar. Files already present (raw or `.gz`)
    /// whose decompressed content is right are kept, so this works offline once they are there.
    ///
    /// # Errors
    /// As [`crate::Downloader::download`]: [`Error::Io`] if `dir` cannot be created or
    /// written, [`Error::Download`] if a file fails at every mirror, ...
    #[cfg(feature = "download")]
    pub fn download(self, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        self.downloader().download(dir)
    }

    /// The [`crate::Downloader`] for this data set's mirrors and checksums.
    #[cfg(feature = "download")]
    pub fn downloader(self) -> crate::download::Downloader {
        crate::download::Downloader::new(
            self.mirrors().iter().copied(),
            self.checksums().iter().zip(self.contents()).map(
                |((name, md5), (len, content_md5))| {
                    crate::download::RemoteFile::new(*name, *md5).with_content(len, content_md5)
                },
            ),
        )
    }

    /// Loads from `dir`, first downloading the files when `download` is true (files already
    /// present and intact are not fetched again).
    ///
    /// # Errors
    /// As [`MnistKind::download`] and [`MnistKind::load`].
    #[cfg(feature = "download")]
    pub fn load_or_download(self, dir: impl AsRef<Path>, download: bool) -> Result<Splits> {
        if download {
            self.download(dir.as_ref())?;
        }
        self.load(dir)
    }
}

/// Folder resolution, with the environment value passed in (so it can be tested).
fn resolve(cli: Option<&Path>, env: Option<OsString>, default: &str) -> PathBuf {
    match (cli, env) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(v)) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(default),
    }
}

/// `dir/name` if it is a regular file (or a link to one), else `dir/name.gz` if it is; else
/// whichever of the two exists at all (a folder, a pipe, a broken link): reading it then says
/// what is wrong with it, which is clearer than calling it missing.
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    let candidates = [dir.join(name), dir.join(format!("{name}.gz"))];
    let regular = candidates
        .iter()
        .find(|p| p.metadata().is_ok_and(|m| m.is_file()));
    regular
        .or_else(|| candidates.iter().find(|p| p.symlink_metadata().is_ok()))
        .cloned()
}

/// The dimensions and bytes of a `u8` array, or [`Error::WrongType`].
fn u8_array(a: IdxArray, path: &Path) -> Result<(Vec<usize>, Vec<u8>)> {
    match a.into_parts() {
        (dims, IdxData::U8(v)) => Ok((dims, v)),
        (_, other) => Err(Error::WrongType {
            path: path.to_path_buf(),
            expected: IdxType::U8,
            found: other.dtype(),
        }),
    }
}

/// A train and a test set.
#[derive(Clone, Debug)]
pub struct Splits {
    /// The training set (60,000 images for MNIST).
    pub train: Dataset,
    /// The test set (10,000 images for MNIST).
    pub test: Dataset,
}

/// MNIST, the handwritten digits: [`MnistKind::Digits`] under a short name.
///
/// ```no_run
/// use datasets::{DataLoader, Mnist};
/// let dir = Mnist::resolve_dir(None); // --data-dir, then MNIST_DIR, then data/mnist
/// let mnist = Mnist::load(&dir)?;
/// assert_eq!(mnist.train.len(), 60_000);
/// # Ok::<(), datasets::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Mnist;

/// Fashion-MNIST, Zalando's article images: [`MnistKind::Fashion`] under a short name.
#[derive(Debug, Clone, Copy)]
pub struct FashionMnist;

macro_rules! kind_shortcuts {
    ($ty:ident, $kind:expr) => {
        impl $ty {
            /// The [`MnistKind`] this type stands for.
            pub const KIND: MnistKind = $kind;

            /// See [`MnistKind::load`].
            ///
            /// # Errors
            /// As [`MnistKind::load`].
            pub fn load(dir: impl AsRef<Path>) -> Result<Splits> {
                Self::KIND.load(dir)
            }

            /// See [`MnistKind::resolve_dir`].
            pub fn resolve_dir(cli: Option<&Path>) -> PathBuf {
                Self::KIND.resolve_dir(cli)
            }

            /// See [`MnistKind::download`].
            ///
            /// # Errors
            /// As [`MnistKind::download`].
            #[cfg(feature = "download")]
            pub fn download(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
                Self::KIND.download(dir)
            }

            /// See [`MnistKind::load_or_download`].
            ///
            /// # Errors
            /// As [`MnistKind::load_or_download`].
            #[cfg(feature = "download")]
            pub fn load_or_download(dir: impl AsRef<Path>, download: bool) -> Result<Splits> {
                Self::KIND.load_or_download(dir, download)
            }
        }
    };
}

kind_shortcuts!(Mnist, MnistKind::Digits);
kind_shortcuts!(FashionMnist, MnistKind::Fashion);

#[cfg(test)]
mod tests;
