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
        e.to_string()
            .contains("t10k-labels-idx1-ubyte.gz: expected 5 labels to match the images, found 4;"),
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
