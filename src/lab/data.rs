//! The training and test sets of a run: [`load_data`] reads MNIST or Fashion-MNIST, or draws
//! synthetic digits, as the data flags say.

use std::io::Write;
use std::path::Path;

use datasets::{Dataset, FashionMnist, Mnist, SyntheticDigits};

use super::error::LabError;
use crate::cli::{DataArgs, DatasetChoice};

/// The training and test sets of a run, and where they came from.
#[derive(Clone, Debug)]
pub struct Data {
    /// The training images (after `--limit-train`).
    pub train: Dataset,
    /// The test images.
    pub test: Dataset,
    /// Which data set this is (never [`DatasetChoice::Auto`]).
    pub kind: DatasetChoice,
    /// For people: `"MNIST from data/mnist"`, `"synthetic digits"`.
    pub description: String,
}

impl Data {
    /// `[channels, rows, cols]` of one image.
    pub fn input_shape(&self) -> [usize; 3] {
        [1, self.train.rows(), self.train.cols()]
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.train.num_classes()
    }
}

/// Number of synthetic digits drawn for the training set (as many as MNIST has) and the test set.
pub const SYNTHETIC_SIZES: (usize, usize) = (60_000, 10_000);

/// Loads the data set `args` asks for. With `--dataset auto`, real MNIST if its files are
/// found, else synthetic digits, with one line on `out` saying so and how to get the real
/// data — but only when no folder was named (neither `--data-dir` nor `$MNIST_DIR`) and the
/// default folder holds none of the files: a folder that was named, or one that holds some of
/// the files, is meant to be used, so anything wrong with it is an error. `--limit-train N`
/// keeps the first N training images.
///
/// # Errors
/// [`LabError::Data`] when `mnist` or `fashion` is asked for and its files are missing (the
/// message says how to get them), when a named folder is wrong (missing, a file, some files
/// missing), when a file is corrupt, oversized, empty or of another image size than the
/// others, or when a download fails; [`LabError::Usage`] for `--download` or `--data-dir`
/// with `--dataset synthetic`, for `--download` in a build without the `download` feature,
/// and for `--limit-train 0`; [`LabError::Output`] if `out` fails.
pub fn load_data(args: &DataArgs, out: &mut dyn Write) -> Result<Data, LabError> {
    let limit = args.limit_train;
    if limit == Some(0) {
        return Err(LabError::Usage(
            "--limit-train: expected at least 1 training image, got 0; drop the flag to \
             train on all of them"
                .into(),
        ));
    }
    let (splits, kind, description) = match args.dataset {
        DatasetChoice::Synthetic => {
            if args.download {
                return Err(LabError::Usage(
                    "--download fetches MNIST or Fashion-MNIST; synthetic digits need nothing \
                     downloaded: drop --download or choose --dataset mnist"
                        .into(),
                ));
            }
            if let Some(dir) = &args.data_dir {
                return Err(LabError::Usage(format!(
                    "--data-dir {}: synthetic digits are drawn, not read from a folder: drop \
                     --data-dir or choose --dataset mnist (or fashion)",
                    dir.display()
                )));
            }
            (
                synthetic(limit),
                DatasetChoice::Synthetic,
                "synthetic digits".to_string(),
            )
        }
        DatasetChoice::Mnist => {
            let dir = Mnist::resolve_dir(args.data_dir.as_deref());
            let splits = load_mnist(Mnist::KIND, &dir, args.download)?;
            (
                splits,
                DatasetChoice::Mnist,
                format!("MNIST from {}", dir.display()),
            )
        }
        DatasetChoice::Fashion => {
            let dir = FashionMnist::resolve_dir(args.data_dir.as_deref());
            let splits = load_mnist(FashionMnist::KIND, &dir, args.download)?;
            let description = format!("Fashion-MNIST from {}", dir.display());
            (splits, DatasetChoice::Fashion, description)
        }
        DatasetChoice::Auto => {
            let dir = Mnist::resolve_dir(args.data_dir.as_deref());
            let named = args.data_dir.is_some()
                || std::env::var_os(Mnist::KIND.env_var()).is_some_and(|v| !v.is_empty());
            match load_mnist(Mnist::KIND, &dir, args.download) {
                Ok(splits) => (
                    splits,
                    DatasetChoice::Mnist,
                    format!("MNIST from {}", dir.display()),
                ),
                Err(LabError::Data(e)) if !named && !args.download && e.is_absent_data_set() => {
                    let fetch = if cfg!(feature = "download") {
                        "run with --download"
                    } else {
                        "build with --features download and run with --download"
                    };
                    writeln!(
                        out,
                        "note: MNIST not found in {}; training on synthetic digits instead \
                         (for the real data, {fetch}, or point --data-dir or MNIST_DIR at a \
                         folder holding the four MNIST files)",
                        dir.display()
                    )?;
                    (
                        synthetic(limit),
                        DatasetChoice::Synthetic,
                        "synthetic digits".to_string(),
                    )
                }
                Err(e) => return Err(e),
            }
        }
    };
    let train = match limit {
        Some(n) => splits.train.limit(n),
        None => splits.train,
    };
    // The readers refuse empty files; this keeps any other source from training on nothing
    // and printing a loss of 0.
    for (set, what) in [(&train, "training"), (&splits.test, "test")] {
        if set.is_empty() {
            return Err(LabError::Usage(format!(
                "data: {description} has no {what} images; choose a data set that has some"
            )));
        }
    }
    Ok(Data {
        train,
        test: splits.test,
        kind,
        description,
    })
}

/// Synthetic digits: `limit` training images (at most, and by default, 60,000) and 10,000 test
/// images, always from data seed 0 so that runs with different `--seed`s see the same images.
fn synthetic(limit: Option<usize>) -> datasets::Splits {
    let (train, test) = SYNTHETIC_SIZES;
    // the training set is 60,000 images, of which --limit-train keeps the first N
    SyntheticDigits::splits(limit.unwrap_or(train).min(train), test, 0)
}

/// Loads MNIST or Fashion-MNIST from `dir`, downloading the missing files first if asked.
fn load_mnist(
    kind: datasets::MnistKind,
    dir: &Path,
    download: bool,
) -> Result<datasets::Splits, LabError> {
    if download {
        #[cfg(feature = "download")]
        return Ok(kind.load_or_download(dir, true)?);
        #[cfg(not(feature = "download"))]
        return Err(LabError::Usage(format!(
            "--download: this build cannot download (the `download` feature is off); \
             rebuild with it (cargo run --release --features download --example mnist -- \
             --download), or copy the four {} files (raw or .gz) into {} yourself, or drop \
             --download to train on synthetic digits offline",
            kind.name(),
            dir.display()
        )));
    }
    Ok(kind.load(dir)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_data_and_its_flags() {
        let mut out = Vec::new();
        let args = DataArgs {
            dataset: DatasetChoice::Synthetic,
            limit_train: Some(50),
            ..DataArgs::default()
        };
        let data = load_data(&args, &mut out).unwrap();
        assert!(out.is_empty(), "nothing to say");
        assert_eq!((data.train.len(), data.test.len()), (50, 10_000));
        assert_eq!(data.kind, DatasetChoice::Synthetic);
        assert_eq!(data.input_shape(), [1, 28, 28]);
        assert_eq!(data.classes(), 10);
        let err = load_data(
            &DataArgs {
                download: true,
                ..args.clone()
            },
            &mut out,
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("--download fetches MNIST"),
            "{err}"
        );
        let err = load_data(
            &DataArgs {
                data_dir: Some("data/mnist".into()),
                ..args.clone()
            },
            &mut out,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--data-dir data/mnist: synthetic digits are drawn"),
            "{err}"
        );
        let err = load_data(
            &DataArgs {
                limit_train: Some(0),
                ..args.clone()
            },
            &mut out,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("--limit-train: "), "{err}");
        // more than the 60,000 synthetic training images: all of them, no more drawn
        let data = load_data(
            &DataArgs {
                limit_train: Some(usize::MAX),
                ..args
            },
            &mut out,
        )
        .unwrap();
        assert_eq!(data.train.len(), SYNTHETIC_SIZES.0);
    }
}
