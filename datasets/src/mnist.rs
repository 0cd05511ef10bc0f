//! MNIST and Fashion-MNIST: four IDX files each (same names, same format), found raw or gzipped
//! in a data folder, validated, and turned into a train and a test [`Dataset`].
//!
//! Where the folder comes from ([`Mnist::resolve_dir`]): the `--data-dir` value if given, else
//! the `MNIST_DIR` (`FASHION_MNIST_DIR`) environment variable, else `data/mnist`
//! (`data/fashion-mnist`) under the current folder.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result, NO_SUCH_FOLDER};
use crate::idx::{file_kind, read_idx, IdxArray, IdxData, IdxType};
use crate::loader::{check_labels, Dataset};

/// The four file names (without `.gz`): train images, train labels, test images, test labels.
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

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
mod tests {
    use super::*;
    use crate::idx::write_idx;

    /// The first 100 training and 100 test images of the real MNIST, shipped with the crate
    /// (`tests/fixtures/make_mnist_100.py` cut them from the four real files).
    const SLICE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mnist-100");

    /// The full MNIST for the test that needs it: `$MNIST_DIR`, else `../shared/data/mnist`
    /// beside the workspace; `None` (with a line saying why and how) when neither exists.
    fn full_mnist() -> Option<PathBuf> {
        let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/mnist");
        let dir = match std::env::var_os("MNIST_DIR") {
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => beside,
        };
        if dir.is_dir() {
            return Some(dir);
        }
        eprintln!(
            "skipped: the full-MNIST check needs the four MNIST files in $MNIST_DIR or in \
             ../shared/data/mnist beside the workspace, and {} is not there; set MNIST_DIR \
             to a folder holding them to run it (the real format is still tested on the \
             100-image slice in tests/fixtures/mnist-100)",
            dir.display()
        );
        None
    }

    /// A fresh empty folder under the system temp folder.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("minidl-mnist-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Writes a small MNIST-format set: `n` train and `n` test images of 4×4.
    fn write_small(dir: &Path, n: usize, gz: bool) {
        let ext = if gz { ".gz" } else { "" };
        for (i, f) in FILES.iter().enumerate() {
            let a = if i % 2 == 0 {
                IdxArray::new(
                    vec![n, 4, 4],
                    IdxData::U8((0..n * 16).map(|v| v as u8).collect()),
                )
            } else {
                IdxArray::new(
                    vec![n],
                    IdxData::U8((0..n).map(|v| (v % 10) as u8).collect()),
                )
            };
            write_idx(dir.join(format!("{f}{ext}")), &a).unwrap();
        }
    }

    #[test]
    fn the_real_mnist_slice_parses_with_known_counts_labels_and_content() {
        // Every number here was computed from the four real files (their first 100 items).
        let m = Mnist::load(SLICE).expect("the MNIST slice shipped in tests/fixtures");
        let (train, test) = (&m.train, &m.test);
        assert_eq!((train.len(), test.len()), (100, 100));
        assert_eq!(
            (train.rows(), train.cols(), test.rows(), test.cols()),
            (28, 28, 28, 28)
        );
        assert_eq!(
            &train.labels()[..20],
            &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5, 3, 6, 1, 7, 2, 8, 6, 9]
        );
        assert_eq!(
            &test.labels()[..20],
            &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6, 9, 0, 1, 5, 9, 7, 3, 4]
        );
        assert_eq!(train.class_counts(), [13, 14, 6, 11, 11, 5, 11, 10, 8, 11]);
        assert_eq!(test.class_counts(), [8, 14, 8, 11, 14, 7, 10, 15, 2, 11]);
        let sum = |p: &[u8]| p.iter().map(|&v| v as u64).sum::<u64>();
        assert_eq!(sum(train.images()), 2_530_887);
        assert_eq!(
            (sum(train.image(0)), sum(train.image(99))),
            (27_525, 12_843)
        );
        assert_eq!(sum(test.images()), 2_396_707);
        assert_eq!((sum(test.image(0)), sum(test.image(99))), (18_454, 30_655));
        let nonzero = |p: &[u8]| p.iter().filter(|&&v| v != 0).count();
        assert_eq!(
            (nonzero(train.images()), nonzero(test.images())),
            (14_626, 14_030)
        );
        // MD5 of the pixel and label bytes, as in the real files
        assert_eq!(md5_hex(train.images()), "a83e11b131c54d15344245006f54af35");
        assert_eq!(md5_hex(train.labels()), "9043b5804797d0b4c85515e1c1e58e70");
        assert_eq!(md5_hex(test.images()), "e8ad6caa33fe69492bddea491f0fd3da");
        assert_eq!(md5_hex(test.labels()), "c285adb1071416ffb5325cd579a51399");
        assert_eq!(train.name(), "MNIST train");
        assert_eq!(train.num_classes(), 10);
        assert_eq!(train.normalization(), (0.1307, 0.3081));
        // the first training image is a 5: ink in the middle rows, none in the corners
        assert_eq!(train.image(0)[0], 0);
        assert!(train.ascii(0).starts_with("MNIST train #0: label 5 (5)\n"));
    }

    #[test]
    fn full_mnist_loads_with_known_counts_labels_and_content() {
        let Some(dir) = full_mnist() else { return };
        let mnist = Mnist::load(&dir).expect("the full MNIST files");
        let (train, test) = (&mnist.train, &mnist.test);
        assert_eq!((train.len(), test.len()), (60_000, 10_000));
        assert_eq!((train.rows(), train.cols()), (28, 28));
        assert_eq!(&train.labels()[..8], &[5, 0, 4, 1, 9, 2, 1, 3]);
        assert_eq!(&test.labels()[..8], &[7, 2, 1, 0, 4, 1, 4, 9]);
        assert_eq!(train.num_classes(), 10);
        assert_eq!(train.name(), "MNIST train");
        // pixel range: all of 0..=255 is used
        let (lo, hi) = train
            .images()
            .iter()
            .fold((255, 0), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        assert_eq!((lo, hi), (0, 255));
        // the measured statistics are the published ones
        let (mean, std) = train.pixel_stats();
        assert!(
            (mean - 0.1307).abs() < 5e-5 && (std - 0.3081).abs() < 5e-5,
            "{mean} {std}"
        );
        assert_eq!(train.normalization(), (0.1307, 0.3081));
        assert_eq!(test.normalization(), (0.1307, 0.3081));
        // the uncompressed content is the standard one: MD5 of the re-encoded IDX files
        let reencode = |d: &Dataset| {
            let imgs = IdxArray::new(vec![d.len(), 28, 28], IdxData::U8(d.images().to_vec()));
            let labels = IdxArray::new(vec![d.len()], IdxData::U8(d.labels().to_vec()));
            (md5_hex(&imgs.encode()), md5_hex(&labels.encode()))
        };
        assert_eq!(
            reencode(train),
            (
                "6bbc9ace898e44ae57da46a324031adb".to_string(),
                "a25bea736e30d166cdddb491f175f624".to_string()
            )
        );
        assert_eq!(
            reencode(test),
            (
                "2646ac647ad5339dbf082846283269ea".to_string(),
                "27ae3e4e09519cfbb04c329615203637".to_string()
            )
        );
        // the slice shipped with the crate is these files' beginning
        let slice = Mnist::load(SLICE).unwrap();
        assert_eq!(slice.train.images(), &train.images()[..100 * 784]);
        assert_eq!(slice.test.labels(), &test.labels()[..100]);
    }

    #[test]
    fn train_and_test_images_of_different_sizes_are_refused_when_loading() {
        let dir = scratch("sizes");
        write_small(&dir, 3, true);
        let wide = IdxArray::new(vec![3, 2, 8], IdxData::U8(vec![1; 48]));
        write_idx(dir.join("t10k-images-idx3-ubyte.gz"), &wide).unwrap();
        let e = Mnist::load(&dir).unwrap_err();
        assert!(
            matches!(
                e,
                Error::ImageSizeMismatch {
                    train_size: (4, 4),
                    test_size: (2, 8),
                    ..
                }
            ),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("t10k-images-idx3-ubyte.gz: expected test images of 4×4 pixels")
                && msg.contains("train-images-idx3-ubyte.gz, found 2×8"),
            "{msg}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_empty_set_is_refused() {
        let dir = scratch("empty");
        write_small(&dir, 3, true);
        let none = IdxArray::new(vec![0, 4, 4], IdxData::U8(vec![]));
        write_idx(dir.join("t10k-images-idx3-ubyte.gz"), &none).unwrap();
        write_idx(
            dir.join("t10k-labels-idx1-ubyte.gz"),
            &IdxArray::new(vec![0], IdxData::U8(vec![])),
        )
        .unwrap();
        let e = Mnist::load(&dir).unwrap_err();
        assert!(
            matches!(&e, Error::Empty { dims, .. } if dims == &[0, 4, 4]),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("t10k-images-idx3-ubyte.gz: expected at least one image, found none"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_folder_that_is_missing_a_file_or_not_a_folder() {
        let dir = scratch("folders");
        // no such folder: absent, so a caller may fall back
        let e = Mnist::load(dir.join("nope")).unwrap_err();
        assert!(matches!(e, Error::NoFolder { .. }), "{e}");
        assert!(e.is_absent_data_set());
        assert!(
            e.to_string()
                .contains("nope: expected the MNIST files, found no such folder;"),
            "{e}"
        );
        // an empty folder: absent too
        let e = Mnist::load(&dir).unwrap_err();
        assert!(
            matches!(&e, Error::NotFound { missing, .. } if missing.len() == 4),
            "{e}"
        );
        assert!(e.is_absent_data_set());
        // a regular file where the folder should be: not absent, a mistake
        let file = dir.join("file");
        std::fs::write(&file, b"x").unwrap();
        let e = Mnist::load(&file).unwrap_err();
        assert!(!e.is_absent_data_set());
        assert!(
            e.to_string()
                .contains("file: expected the MNIST files, found a regular file, not a folder;"),
            "{e}"
        );
        // three files of four: not absent
        write_small(&dir, 2, true);
        std::fs::remove_file(dir.join("train-labels-idx1-ubyte.gz")).unwrap();
        let e = Mnist::load(&dir).unwrap_err();
        assert!(!e.is_absent_data_set(), "{e}");
        // a folder under a file's name: named, not called missing
        std::fs::create_dir(dir.join("train-labels-idx1-ubyte")).unwrap();
        let e = Mnist::load(&dir).unwrap_err();
        assert!(
            matches!(
                e,
                Error::NotAFile {
                    found: "a folder",
                    ..
                }
            ),
            "{e}"
        );
        assert!(!e.is_absent_data_set());
        // ... but a good .gz beside it is used
        write_small(&dir, 2, true);
        assert_eq!(Mnist::load(&dir).unwrap().train.len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fashion_loads_mnist_format_files_with_its_class_names() {
        let dir = scratch("fashion");
        write_small(&dir, 12, true);
        let f = FashionMnist::load(&dir).unwrap();
        assert_eq!(f.train.class_names()[9], "Ankle boot");
        assert_eq!(f.train.name(), "Fashion-MNIST train");
        assert_eq!(f.test.normalization(), (0.2860, 0.3530));
        assert_eq!((f.train.rows(), f.train.cols(), f.train.len()), (4, 4, 12));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn raw_files_load_and_win_over_gz() {
        let dir = scratch("raw");
        write_small(&dir, 3, false);
        let m = Mnist::load(&dir).unwrap();
        assert_eq!(m.train.labels(), &[0, 1, 2]);
        assert_eq!(m.test.image(1)[0], 16);
        // a broken .gz beside a good raw file is not even opened
        std::fs::write(dir.join("train-images-idx3-ubyte.gz"), b"junk").unwrap();
        assert!(Mnist::load(&dir).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_files_are_listed_with_how_to_get_them() {
        let dir = scratch("missing");
        write_small(&dir, 2, true);
        std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte.gz")).unwrap();
        let e = Mnist::load(&dir).unwrap_err();
        match &e {
            Error::NotFound {
                missing, env_var, ..
            } => {
                assert_eq!(missing, &["t10k-labels-idx1-ubyte"]);
                assert_eq!(*env_var, "MNIST_DIR");
            }
            other => panic!("{other}"),
        }
        let msg = e.to_string();
        assert!(
            msg.contains("--download") && msg.contains("--data-dir"),
            "{msg}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mismatched_counts() {
        let dir = scratch("count");
        write_small(&dir, 5, true);
        let labels = IdxArray::new(vec![4], IdxData::U8(vec![1, 2, 3, 4]));
        write_idx(dir.join("t10k-labels-idx1-ubyte.gz"), &labels).unwrap();
        let e = Mnist::load(&dir).unwrap_err();
        assert!(
            matches!(
                e,
                Error::CountMismatch {
                    expected: 5,
                    found: 4,
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string().contains(
                "t10k-labels-idx1-ubyte.gz: expected 5 labels to match the images, found 4;"
            ),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn label_out_of_range() {
        let dir = scratch("range");
        write_small(&dir, 5, true);
        let labels = IdxArray::new(vec![5], IdxData::U8(vec![1, 2, 10, 4, 200]));
        write_idx(dir.join("train-labels-idx1-ubyte.gz"), &labels).unwrap();
        let e = Mnist::load(&dir).unwrap_err();
        assert!(
            matches!(
                e,
                Error::LabelOutOfRange {
                    index: 2,
                    label: 10,
                    classes: 10,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e
            .to_string()
            .contains("expected labels in 0..10, found 10 at position 2"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wrong_type_and_wrong_shape() {
        let dir = scratch("shape");
        write_small(&dir, 2, false);
        let f = IdxArray::new(vec![2, 4, 4], IdxData::F32(vec![0.5; 32]));
        write_idx(dir.join("train-images-idx3-ubyte"), &f).unwrap();
        let e = Mnist::load(&dir).unwrap_err();
        assert!(
            matches!(
                e,
                Error::WrongType {
                    expected: IdxType::U8,
                    found: IdxType::F32,
                    ..
                }
            ),
            "{e}"
        );
        let flat = IdxArray::new(vec![2, 16], IdxData::U8(vec![0; 32]));
        write_idx(dir.join("train-images-idx3-ubyte"), &flat).unwrap();
        let e = Mnist::load(&dir).unwrap_err();
        assert!(
            matches!(&e, Error::WrongShape { found, .. } if found == &[2, 16]),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_files_inside_a_data_folder() {
        let dir = scratch("malformed");
        write_small(&dir, 3, true);
        let path = dir.join("t10k-images-idx3-ubyte.gz");
        // not gzip though named .gz
        std::fs::write(
            &path,
            IdxArray::new(vec![3, 4, 4], IdxData::U8(vec![0; 48])).encode(),
        )
        .unwrap();
        let e = Mnist::load(&dir).unwrap_err();
        assert!(
            matches!(&e, Error::NotGzip { path: p, .. } if p == &path),
            "{e}"
        );
        // truncated data
        let mut bytes = IdxArray::new(vec![3, 4, 4], IdxData::U8(vec![0; 48])).encode();
        bytes.truncate(bytes.len() - 1);
        let raw = dir.join("t10k-images-idx3-ubyte");
        std::fs::write(&raw, &bytes).unwrap();
        let e = Mnist::load(&dir).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Length {
                    expected: 48,
                    found: 47,
                    ..
                }
            ),
            "{e}"
        );
        // wrong magic
        bytes[0] = 0x42;
        std::fs::write(&raw, &bytes).unwrap();
        let e = Mnist::load(&dir).unwrap_err();
        assert!(matches!(e, Error::BadMagic { .. }), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn folder_resolution_order() {
        let cli = Path::new("from/flag");
        let env = Some(OsString::from("from/env"));
        assert_eq!(resolve(Some(cli), env.clone(), "data/mnist"), cli);
        assert_eq!(resolve(None, env, "data/mnist"), Path::new("from/env"));
        assert_eq!(
            resolve(None, Some(OsString::new()), "data/mnist"),
            Path::new("data/mnist")
        );
        assert_eq!(resolve(None, None, "data/mnist"), Path::new("data/mnist"));
        assert_eq!(Mnist::resolve_dir(Some(cli)), cli);
        assert_eq!(MnistKind::Fashion.env_var(), "FASHION_MNIST_DIR");
        assert_eq!(FashionMnist::KIND.default_dir(), "data/fashion-mnist");
    }

    fn md5_hex(data: &[u8]) -> String {
        use md5::{Digest, Md5};
        Md5::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}
