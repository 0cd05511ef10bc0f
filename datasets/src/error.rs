//! [`Error`]: everything that can go wrong with data that comes from outside the program —
//! IDX files, data folders, downloads. Every message names the file (or URL), what was expected
//! and what was found, and where it helps, how to fix it.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::format::{IdxType, FILES, MAX_DATA_BYTES, MAX_ITEM_VALUES};

/// Shorthand for `Result<T, datasets::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error reading, validating or downloading a data set.
///
/// Each variant carries the file it is about; `Display` writes one line of the form
/// `<file>: expected <what>, found <what>` followed, where useful, by a hint.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused a read or a write.
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done: `"read"`, `"write"`, `"create folder"`, ...
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// A file named `*.gz` that does not start with the gzip signature `1f 8b`.
    NotGzip {
        /// The file.
        path: PathBuf,
        /// Its first bytes (up to 4).
        found: Vec<u8>,
    },
    /// A gzip stream that is corrupt (bad deflate data, bad CRC, cut short).
    Gzip {
        /// The file.
        path: PathBuf,
        /// What flate2 reported.
        source: io::Error,
    },
    /// The first two bytes of an IDX file are not zero.
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The first four bytes.
        found: [u8; 4],
    },
    /// The third byte of an IDX header is not one of the type codes the format defines.
    UnknownType {
        /// The file.
        path: PathBuf,
        /// The type code found.
        code: u8,
    },
    /// The file ends inside the IDX header.
    TruncatedHeader {
        /// The file.
        path: PathBuf,
        /// Header length in bytes (4 + 4 · dimension count, or 4 when the count is unread).
        expected: usize,
        /// Bytes actually present.
        found: usize,
    },
    /// The dimensions in the header multiply to more than 2⁶⁴ bytes.
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The dimensions the header claims.
        dims: Vec<usize>,
    },
    /// One item of the file (an image: the product of every dimension after the first) holds
    /// more than [`crate::MAX_ITEM_VALUES`] values. Refused from the header, before any data is
    /// read.
    ItemTooLarge {
        /// The file.
        path: PathBuf,
        /// The dimensions the header claims.
        dims: Vec<usize>,
        /// Values per item (saturated at `u64::MAX`).
        values: u64,
    },
    /// The header declares more than [`crate::MAX_DATA_BYTES`] bytes of data. Refused from the
    /// header, before any data is read.
    DataTooLarge {
        /// The file.
        path: PathBuf,
        /// The dimensions the header claims.
        dims: Vec<usize>,
        /// The element type from the header.
        dtype: IdxType,
        /// Data bytes the header declares.
        bytes: u64,
    },
    /// A gzipped file that goes on after the data its header declares, for more than the
    /// reader is willing to inflate just to count it.
    TooLong {
        /// The file.
        path: PathBuf,
        /// The dimensions from the header.
        dims: Vec<usize>,
        /// The element type from the header.
        dtype: IdxType,
        /// Data bytes the dimensions call for.
        expected: u64,
        /// Data bytes read before the reader stopped (there were more).
        read: u64,
    },
    /// A path that should be a regular file is something else (a folder, a named pipe, a
    /// device): reading it could block forever or never end, so it is not opened.
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is, in words: `"a folder"`, `"a FIFO (named pipe)"`, ...
        found: &'static str,
    },
    /// The data after the header is shorter or longer than the dimensions say.
    Length {
        /// The file.
        path: PathBuf,
        /// The dimensions from the header.
        dims: Vec<usize>,
        /// The element type from the header.
        dtype: IdxType,
        /// Data bytes the dimensions call for: product(dims) · element size.
        expected: u64,
        /// Data bytes present (when longer, the count of all of them).
        found: u64,
    },
    /// An IDX file holds a different element type than the reader needs.
    WrongType {
        /// The file.
        path: PathBuf,
        /// The type needed.
        expected: IdxType,
        /// The type in the file.
        found: IdxType,
    },
    /// An IDX file has a different shape than the reader needs.
    WrongShape {
        /// The file.
        path: PathBuf,
        /// The shape needed, in words: `"[N, 28, 28] (images)"`.
        expected: String,
        /// The dimensions in the file.
        found: Vec<usize>,
    },
    /// The labels file does not hold one label per image.
    CountMismatch {
        /// The labels file.
        path: PathBuf,
        /// Number of images.
        expected: usize,
        /// Number of labels.
        found: usize,
    },
    /// A label outside `0..classes`.
    LabelOutOfRange {
        /// The labels file (or the data set's name for in-memory data).
        path: PathBuf,
        /// Position of the first bad label.
        index: usize,
        /// Its value.
        label: u8,
        /// Number of classes.
        classes: usize,
    },
    /// A data set holds no images at all.
    Empty {
        /// The images file.
        path: PathBuf,
        /// The dimensions in the file.
        dims: Vec<usize>,
    },
    /// The training and test images of one data set are not of the same size.
    ImageSizeMismatch {
        /// The training images file.
        train: PathBuf,
        /// `(rows, cols)` of the training images.
        train_size: (usize, usize),
        /// The test images file.
        test: PathBuf,
        /// `(rows, cols)` of the test images.
        test_size: (usize, usize),
    },
    /// The data folder does not exist, or is not a folder.
    NoFolder {
        /// The path given as the folder.
        dir: PathBuf,
        /// Data set name, e.g. `"MNIST"`.
        dataset: &'static str,
        /// What is there instead: `"no such folder"`, `"a regular file, not a folder"`, ...
        found: &'static str,
        /// The environment variable that can point at the folder.
        env_var: &'static str,
    },
    /// A data folder lacks some of the files of a data set.
    NotFound {
        /// The folder searched.
        dir: PathBuf,
        /// Data set name, e.g. `"MNIST"`.
        dataset: &'static str,
        /// The files missing (neither raw nor `.gz` present).
        missing: Vec<String>,
        /// The environment variable that can point at the folder.
        env_var: &'static str,
    },
    /// A file already in the data folder whose content is not the published one.
    WrongContent {
        /// The file.
        path: PathBuf,
        /// Length of the published content.
        expected_len: u64,
        /// MD5 of the published content, where known.
        expected_md5: Option<String>,
        /// Length of what the file holds.
        found_len: u64,
        /// MD5 of what the file holds (of its first `expected_len + 1` bytes).
        found_md5: String,
    },
    /// A download failed at every mirror.
    Download {
        /// The file being fetched.
        file: String,
        /// One entry per mirror tried, in order.
        attempts: Vec<Attempt>,
    },
}

/// One mirror's try at one file, as reported by [`Error::Download`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The URL fetched.
    pub url: String,
    /// Why it failed.
    pub failure: Failure,
}

/// Why a download from one mirror failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server answered with a non-success HTTP status.
    Status(u16),
    /// Connecting, sending or receiving failed (refused, reset, timed out, dropped midway).
    Network(String),
    /// The body ended before the announced `Content-Length`.
    Incomplete {
        /// Bytes announced.
        expected: u64,
        /// Bytes received.
        found: u64,
    },
    /// The bytes arrived but their MD5 is not the published one.
    Checksum {
        /// The published MD5 (hex).
        expected: String,
        /// The MD5 of what arrived (hex).
        found: String,
    },
    /// Writing the downloaded bytes to disk failed.
    Write(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status(code) => write!(f, "HTTP status {code}"),
            Failure::Network(msg) => write!(f, "network error: {msg}"),
            Failure::Incomplete { expected, found } => write!(
                f,
                "connection closed early: expected {expected} bytes, received {found}"
            ),
            Failure::Checksum { expected, found } => {
                write!(
                    f,
                    "checksum mismatch: expected MD5 {expected}, found {found}"
                )
            }
            Failure::Write(msg) => write!(f, "cannot write the file: {msg}"),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io {
                path,
                action,
                source,
            } => write!(f, "{}: cannot {action}: {source}", path.display()),
            Error::NotGzip { path, found } => write!(
                f,
                "{}: expected gzip data (it is named .gz), found bytes {}; \
                 if it is a raw IDX file, remove the .gz suffix, otherwise download it again",
                path.display(),
                hex(found)
            ),
            Error::Gzip { path, source } => write!(
                f,
                "{}: expected a valid gzip stream, found corrupt data ({source}); download it again",
                path.display()
            ),
            Error::BadMagic { path, found } => write!(
                f,
                "{}: expected an IDX magic number 00 00 <type> <dims>, found {}; \
                 this is not an IDX file",
                path.display(),
                hex(found)
            ),
            Error::UnknownType { path, code } => write!(
                f,
                "{}: expected an IDX type code (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, \
                 0x0D f32, 0x0E f64), found 0x{code:02X}",
                path.display()
            ),
            Error::TruncatedHeader {
                path,
                expected,
                found,
            } => write!(
                f,
                "{}: expected an IDX header of {expected} bytes, found only {found}; \
                 the file is cut short",
                path.display()
            ),
            Error::TooLarge { path, dims } => write!(
                f,
                "{}: expected dimensions whose product fits in 64 bits, found {dims:?}; \
                 the header is corrupt",
                path.display()
            ),
            Error::ItemTooLarge { path, dims, values } => write!(
                f,
                "{}: expected at most {} values per item (a 256×256 image), found {values} \
                 (dimensions {dims:?}); the header is corrupt or the images are too large \
                 for minidl",
                path.display(),
                MAX_ITEM_VALUES
            ),
            Error::DataTooLarge {
                path,
                dims,
                dtype,
                bytes,
            } => write!(
                f,
                "{}: expected at most {} bytes of data (256 MiB), found a header declaring \
                 {bytes} bytes of {dtype} for dimensions {dims:?}; the header is corrupt or \
                 the data set is too large for minidl",
                path.display(),
                MAX_DATA_BYTES
            ),
            Error::TooLong {
                path,
                dims,
                dtype,
                expected,
                read,
            } => write!(
                f,
                "{}: expected {expected} bytes of {dtype} data for dimensions {dims:?}, found \
                 more than {read} (reading stopped there); the file has trailing bytes or its \
                 header is corrupt",
                path.display()
            ),
            Error::NotAFile { path, found } => write!(
                f,
                "{}: expected a regular file, found {found}; the data must be in regular \
                 files (or links to them)",
                path.display()
            ),
            Error::Empty { path, dims } => write!(
                f,
                "{}: expected at least one image, found none (dimensions {dims:?}); \
                 use a data set that has images",
                path.display()
            ),
            Error::ImageSizeMismatch {
                train,
                train_size,
                test,
                test_size,
            } => write!(
                f,
                "{}: expected test images of {}×{} pixels like the training images in {}, \
                 found {}×{}; the image files must all come from one data set",
                test.display(),
                train_size.0,
                train_size.1,
                train.display(),
                test_size.0,
                test_size.1
            ),
            Error::NoFolder {
                dir,
                dataset,
                found,
                env_var,
            } => {
                write!(
                    f,
                    "{}: expected the {dataset} files, found {found}; ",
                    dir.display()
                )?;
                if *found == NO_SUCH_FOLDER {
                    download_hint(f)?;
                }
                write!(
                    f,
                    "point --data-dir or {env_var} at the folder that holds the four files \
                     (raw or .gz)"
                )
            }
            Error::Length {
                path,
                dims,
                dtype,
                expected,
                found,
            } => {
                let what = if found < expected {
                    "the file is truncated or its header is corrupt; download it again"
                } else {
                    "the file has trailing bytes or its header is corrupt"
                };
                write!(
                    f,
                    "{}: expected {expected} bytes of {dtype} data for dimensions {dims:?}, \
                     found {found}; {what}",
                    path.display()
                )
            }
            Error::WrongType {
                path,
                expected,
                found,
            } => write!(
                f,
                "{}: expected {expected} elements, found {found}; this is not an image or \
                 label file of the MNIST format (unsigned bytes, IDX type 0x08)",
                path.display()
            ),
            Error::WrongShape {
                path,
                expected,
                found,
            } => write!(
                f,
                "{}: expected dimensions {expected}, found {found:?}",
                path.display()
            ),
            Error::CountMismatch {
                path,
                expected,
                found,
            } => write!(
                f,
                "{}: expected {expected} labels to match the images, found {found}; the \
                 images and labels files must come from the same data set",
                path.display()
            ),
            Error::LabelOutOfRange {
                path,
                index,
                label,
                classes,
            } => write!(
                f,
                "{}: expected labels in 0..{classes}, found {label} at position {index}; \
                 the file is corrupt or from a data set with other classes",
                path.display()
            ),
            Error::NotFound {
                dir,
                dataset,
                missing,
                env_var,
            } => {
                if missing.len() == FILES.len() {
                    write!(
                        f,
                        "{}: expected the {dataset} files, found none of {} (raw or .gz); ",
                        dir.display(),
                        missing.join(", ")
                    )?;
                } else {
                    write!(
                        f,
                        "{}: expected the {dataset} files, found only some: {} missing \
                         (neither raw nor .gz); ",
                        dir.display(),
                        missing.join(", ")
                    )?;
                }
                download_hint(f)?;
                write!(
                    f,
                    "point --data-dir or {env_var} at a folder that holds them"
                )
            }
            Error::WrongContent {
                path,
                expected_len,
                expected_md5,
                found_len,
                found_md5,
            } => {
                write!(f, "{}: expected {expected_len} bytes", path.display())?;
                if let Some(m) = expected_md5 {
                    write!(f, " with MD5 {m}")?;
                }
                write!(
                    f,
                    ", found {found_len} bytes with MD5 {found_md5}; it is not the published \
                     file: move it away and run --download again"
                )
            }
            Error::Download { file, attempts } => {
                if attempts.is_empty() {
                    return write!(f, "{file}: expected at least one mirror, found none");
                }
                write!(f, "{file}: download failed at every mirror:")?;
                for a in attempts {
                    // one line, whatever the HTTP client's message holds
                    let failure = a.failure.to_string();
                    let failure = failure.split_whitespace().collect::<Vec<_>>().join(" ");
                    write!(f, " [{}: {failure}]", a.url)?;
                }
                write!(
                    f,
                    "; without --download everything runs offline (on synthetic digits when \
                     no data set is found), or copy the four files into a folder and point \
                     --data-dir at it"
                )
            }
        }
    }
}

/// What [`Error::NoFolder`] says when the data folder does not exist.
pub(crate) const NO_SUCH_FOLDER: &str = "no such folder";

/// How to get missing files: `--download` if this build has it, else how to build it in.
fn download_hint(f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if cfg!(feature = "download") {
        write!(f, "run with --download to fetch them into this folder, or ")
    } else {
        write!(
            f,
            "fetch them with a build that has downloads (`cargo run --release --features \
             download --example mnist -- --download`), or "
        )
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::Gzip { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Error {
    /// True when the data set is simply not there: its folder does not exist, or holds none
    /// of its files. (Some files but not all, a corrupt file, a regular file where the folder
    /// should be: all false.) A caller may then fall back to other data, saying so.
    pub fn is_absent_data_set(&self) -> bool {
        match self {
            Error::NoFolder { found, .. } => *found == NO_SUCH_FOLDER,
            Error::NotFound { missing, .. } => missing.len() == FILES.len(),
            _ => false,
        }
    }

    /// Builds an [`Error::Io`] for `path`.
    pub fn io(path: impl AsRef<Path>, action: &'static str, source: io::Error) -> Error {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            action,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_mismatch_message_matches_the_spec() {
        let e = Error::CountMismatch {
            path: "t10k-labels-idx1-ubyte.gz".into(),
            expected: 10000,
            found: 9999,
        };
        assert_eq!(
            e.to_string(),
            "t10k-labels-idx1-ubyte.gz: expected 10000 labels to match the images, found 9999; \
             the images and labels files must come from the same data set"
        );
    }

    #[test]
    fn messages_name_file_expected_and_found() {
        let e = Error::Length {
            path: "a.idx".into(),
            dims: vec![2, 3],
            dtype: IdxType::U8,
            expected: 6,
            found: 5,
        };
        let s = e.to_string();
        assert!(s.starts_with("a.idx: expected 6 bytes of u8 data for dimensions [2, 3], found 5"));
        assert!(s.contains("truncated"));
        let e = Error::BadMagic {
            path: "b".into(),
            found: [1, 2, 8, 1],
        };
        assert!(e.to_string().contains("found 01 02 08 01"));
        let e = Error::Download {
            file: "x.gz".into(),
            attempts: vec![Attempt {
                url: "http://h/x.gz".into(),
                failure: Failure::Checksum {
                    expected: "aa".into(),
                    found: "bb".into(),
                },
            }],
        };
        assert!(e
            .to_string()
            .contains("http://h/x.gz: checksum mismatch: expected MD5 aa, found bb"));
    }

    #[test]
    fn not_found_offers_download_and_env_var() {
        let e = Error::NotFound {
            dir: "data/mnist".into(),
            dataset: "MNIST",
            missing: vec!["train-images-idx3-ubyte".into()],
            env_var: "MNIST_DIR",
        };
        let s = e.to_string();
        assert!(s.contains("--download"), "{s}");
        assert!(s.contains("MNIST_DIR"), "{s}");
        assert!(s.starts_with("data/mnist: expected the MNIST files"), "{s}");
    }
}
