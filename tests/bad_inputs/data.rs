//! Bad data: IDX files and data folders (corrupt, oversized, mismatched, empty, missing), given
//! to the `mnist` example and to the phenomenon examples, which load data the same way. Each
//! case is a folder built here from the 100-image MNIST slice that ships with `datasets`, with
//! one thing broken.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use datasets::{write_idx, IdxArray, IdxData};

use super::common::{example, example_binary, TempDir};
use super::{assert_refused, run};

/// The slice of real MNIST (100 training and 100 test images) shipped with `datasets`.
const SLICE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/datasets/tests/fixtures/mnist-100"
);

const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// A copy of the slice in `t/name`, as a command-line argument.
fn slice_copy(t: &TempDir, name: &str) -> String {
    let dir = t.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    for f in [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS] {
        let gz = format!("{f}.gz");
        std::fs::copy(Path::new(SLICE).join(&gz), Path::new(&dir).join(&gz)).unwrap();
    }
    dir
}

/// Replaces `file` (no extension) in `dir` by `array`, gzipped.
fn put(dir: &str, file: &str, array: IdxArray) {
    let path = Path::new(dir).join(format!("{file}.gz"));
    let _ = std::fs::remove_file(&path);
    write_idx(path, &array).unwrap();
}

fn u8s(dims: &[usize], fill: u8) -> IdxArray {
    let n = dims.iter().product();
    IdxArray::new(dims.to_vec(), IdxData::U8(vec![fill; n]))
}

/// Bits written least significant first, as deflate packs them.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u64, bits: u32) {
        self.acc |= value << self.n;
        self.n += bits;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code: sent most significant bit first.
    fn code(&mut self, code: u64, bits: u32) {
        let reversed = (0..bits).fold(0, |r, i| r | ((code >> i) & 1) << (bits - 1 - i));
        self.put(reversed, bits);
    }

    fn literal(&mut self, b: u8) {
        match b {
            0..=143 => self.code(0x30 + b as u64, 8),
            _ => self.code(0x190 + (b as u64 - 144), 9),
        }
    }
}

/// A gzip file whose stream is `head` then `zeros` zero bytes, in a few bytes per 258 zeros
/// (fixed-Huffman matches of length 258 at distance 1): a "bomb" of about 1 MB per 160 MiB.
/// Its trailer's CRC is not computed (a reader that stops where it should never gets there).
fn gzip_bomb(head: &[u8], zeros: u64) -> Vec<u8> {
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut bits = Bits::default();
    bits.put(1, 1); // last block
    bits.put(1, 2); // fixed Huffman codes
    for &b in head {
        bits.literal(b);
    }
    bits.literal(0);
    for _ in 0..(zeros - 1) / 258 {
        bits.code(0xC5, 8); // length 258 (symbol 285)
        bits.code(0, 5); // distance 1
    }
    for _ in 0..(zeros - 1) % 258 {
        bits.literal(0);
    }
    bits.code(0, 7); // end of block
    bits.put(0, 7);
    gz.extend(bits.out);
    gz.extend([0; 4]); // CRC32, not computed
    gz.extend(((head.len() as u64 + zeros) as u32).to_le_bytes());
    gz
}

/// An IDX header of u8 data with these dimensions.
fn header(dims: &[u32]) -> Vec<u8> {
    let mut h = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        h.extend(d.to_be_bytes());
    }
    h
}

/// `bin` with `args`, in the folder `cwd`, with `MNIST_DIR` set to `mnist_dir` or unset.
fn run_in(bin: &Path, cwd: &str, mnist_dir: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(bin);
    cmd.current_dir(cwd)
        .env_remove("MNIST_DIR")
        .env_remove("FASHION_MNIST_DIR")
        .args(["--limit-train", "256", "--hidden", "16", "--quiet"])
        .args(args);
    if let Some(dir) = mnist_dir {
        cmd.env("MNIST_DIR", dir);
    }
    cmd.output().expect("running the example")
}

#[test]
fn bad_data_folders_and_idx_files_give_status_2_and_one_line_naming_the_file() {
    let bin = example_binary();
    let t = TempDir::new("data");

    // The untouched slice trains: every failure below comes from what was broken.
    let good = slice_copy(&t, "good");
    let out = run(
        &bin,
        &["--dataset", "mnist", "--data-dir", &good, "--epochs", "1"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("100 training and 100 test images"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let file = t.path("a-file");
    std::fs::write(&file, "x").unwrap();

    let three = slice_copy(&t, "three-of-four");
    std::fs::remove_file(Path::new(&three).join(format!("{TEST_LABELS}.gz"))).unwrap();

    let sizes = slice_copy(&t, "sizes");
    put(&sizes, TEST_IMAGES, u8s(&[100, 1, 784], 0));

    let wide = slice_copy(&t, "wide");
    put(&wide, TRAIN_IMAGES, u8s(&[1, 1, 1_000_000], 7));
    put(&wide, TRAIN_LABELS, u8s(&[1], 1));

    // 1.7 MB that inflate to 2 GiB + 256 MiB, the header declaring 2 GiB
    let bomb = slice_copy(&t, "bomb");
    let two_gib = gzip_bomb(&header(&[32768, 256, 256]), 256 << 20);
    std::fs::write(format!("{bomb}/{TRAIN_IMAGES}.gz"), two_gib).unwrap();

    // a good header and data, then 256 MiB of zeros after them
    let long = slice_copy(&t, "long");
    let mut head = header(&[100]);
    head.extend([1; 99]);
    std::fs::write(
        format!("{long}/{TRAIN_LABELS}.gz"),
        gzip_bomb(&head, 1 + (256 << 20)),
    )
    .unwrap();

    let empty_train = slice_copy(&t, "empty-train");
    put(&empty_train, TRAIN_IMAGES, u8s(&[0, 28, 28], 0));
    put(&empty_train, TRAIN_LABELS, u8s(&[0], 0));

    let empty_test = slice_copy(&t, "empty-test");
    put(&empty_test, TEST_IMAGES, u8s(&[0, 28, 28], 0));
    put(&empty_test, TEST_LABELS, u8s(&[0], 0));

    let label = slice_copy(&t, "label");
    let mut labels = vec![3u8; 100];
    labels[42] = 10;
    put(
        &label,
        TRAIN_LABELS,
        IdxArray::new(vec![100], IdxData::U8(labels)),
    );

    let count = slice_copy(&t, "count");
    put(&count, TEST_LABELS, u8s(&[99], 1));

    let dtype = slice_copy(&t, "dtype");
    put(
        &dtype,
        TRAIN_IMAGES,
        IdxArray::new(vec![100, 28, 28], IdxData::F32(vec![0.5; 78_400])),
    );

    let dims = slice_copy(&t, "dims");
    put(&dims, TRAIN_LABELS, u8s(&[100, 1], 1));

    let zero_rows = slice_copy(&t, "zero-rows");
    put(&zero_rows, TRAIN_IMAGES, u8s(&[100, 0, 28], 0));

    let truncated = slice_copy(&t, "truncated");
    let path = format!("{truncated}/{TEST_IMAGES}.gz");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();

    let not_gzip = slice_copy(&t, "not-gzip");
    std::fs::write(
        format!("{not_gzip}/{TRAIN_LABELS}.gz"),
        u8s(&[100], 1).encode(),
    )
    .unwrap();

    let trailing = slice_copy(&t, "trailing");
    std::fs::remove_file(format!("{trailing}/{TRAIN_LABELS}.gz")).unwrap();
    let mut raw = u8s(&[100], 1).encode();
    raw.extend(b"garbage");
    std::fs::write(format!("{trailing}/{TRAIN_LABELS}"), raw).unwrap();

    let not_idx = slice_copy(&t, "not-idx");
    std::fs::remove_file(format!("{not_idx}/{TEST_LABELS}.gz")).unwrap();
    std::fs::write(format!("{not_idx}/{TEST_LABELS}"), "label,0\n7,1\n").unwrap();

    let folder = slice_copy(&t, "folder");
    std::fs::remove_file(format!("{folder}/{TRAIN_LABELS}.gz")).unwrap();
    std::fs::create_dir(format!("{folder}/{TRAIN_LABELS}.gz")).unwrap();

    // (what, flags, the message's start, what it must also say)
    let mut table: Vec<(&str, Vec<&str>, &str, Vec<&str>)> = vec![
        (
            "--data-dir that does not exist (auto: no fallback to synthetic digits)",
            vec!["--dataset", "auto", "--data-dir", "no/such/folder"],
            "error: data: no/such/folder: expected the MNIST files, found no such folder",
            vec!["--data-dir or MNIST_DIR"],
        ),
        (
            "--data-dir naming a regular file",
            vec!["--dataset", "auto", "--data-dir", &file],
            "error: data: ",
            vec!["a-file", "a regular file, not a folder", "--data-dir"],
        ),
        (
            "--data-dir with 3 of the 4 files",
            vec!["--dataset", "auto", "--data-dir", &three],
            "error: data: ",
            vec![
                "three-of-four",
                "found only some",
                "t10k-labels-idx1-ubyte missing",
            ],
        ),
        (
            "empty --data-dir",
            vec!["--data-dir", ""],
            "error: invalid value '' for '--data-dir <DIR>'",
            vec!["empty path"],
        ),
        (
            "--data-dir with synthetic digits",
            vec!["--dataset", "synthetic", "--data-dir", &good],
            "error: --data-dir ",
            vec!["synthetic digits are drawn", "choose --dataset mnist"],
        ),
        (
            "Fashion-MNIST folder missing",
            vec!["--dataset", "fashion", "--data-dir", "no/fashion"],
            "error: data: no/fashion: expected the Fashion-MNIST files",
            vec!["FASHION_MNIST_DIR"],
        ),
        (
            "test images of another size than the training images",
            vec!["--dataset", "mnist", "--data-dir", &sizes],
            "error: data: ",
            vec![
                "t10k-images-idx3-ubyte.gz: expected test images of 28×28 pixels",
                "train-images-idx3-ubyte.gz, found 1×784",
            ],
        ),
        (
            "one image of 1,000,000 pixels",
            vec!["--dataset", "mnist", "--data-dir", &wide],
            "error: data: ",
            vec![
                "train-images-idx3-ubyte.gz: expected at most 65536 values per item",
                "found 1000000",
            ],
        ),
        (
            "a gzip bomb whose header declares 2 GiB",
            vec!["--dataset", "mnist", "--data-dir", &bomb],
            "error: data: ",
            vec![
                "train-images-idx3-ubyte.gz: expected at most 268435456 bytes of data",
                "declaring 2147483648 bytes",
            ],
        ),
        (
            "256 MiB of zeros after the declared data",
            vec!["--dataset", "mnist", "--data-dir", &long],
            "error: data: ",
            vec![
                "train-labels-idx1-ubyte.gz: expected 100 bytes",
                "trailing bytes",
            ],
        ),
        (
            "no training images",
            vec!["--dataset", "mnist", "--data-dir", &empty_train],
            "error: data: ",
            vec!["train-images-idx3-ubyte.gz: expected at least one image, found none"],
        ),
        (
            "no test images",
            vec!["--dataset", "mnist", "--data-dir", &empty_test],
            "error: data: ",
            vec!["t10k-images-idx3-ubyte.gz: expected at least one image, found none"],
        ),
        (
            "--limit-train 0",
            vec!["--limit-train", "0"],
            "error: invalid value '0' for '--limit-train <N>'",
            vec!["at least 1"],
        ),
        (
            "a label out of range",
            vec!["--dataset", "mnist", "--data-dir", &label],
            "error: data: ",
            vec!["train-labels-idx1-ubyte.gz: expected labels in 0..10, found 10 at position 42"],
        ),
        (
            "fewer labels than images",
            vec!["--dataset", "mnist", "--data-dir", &count],
            "error: data: ",
            vec!["t10k-labels-idx1-ubyte.gz: expected 100 labels to match the images, found 99"],
        ),
        (
            "float images",
            vec!["--dataset", "mnist", "--data-dir", &dtype],
            "error: data: ",
            vec!["train-images-idx3-ubyte.gz: expected u8 elements, found f32"],
        ),
        (
            "two-dimensional labels",
            vec!["--dataset", "mnist", "--data-dir", &dims],
            "error: data: ",
            vec![
                "train-labels-idx1-ubyte.gz: expected dimensions [N]",
                "found [100, 1]",
            ],
        ),
        (
            "images of zero rows",
            vec!["--dataset", "mnist", "--data-dir", &zero_rows],
            "error: data: ",
            vec!["train-images-idx3-ubyte.gz: expected dimensions [N, rows, cols]"],
        ),
        (
            "a gzip file cut in half",
            vec!["--dataset", "mnist", "--data-dir", &truncated],
            "error: data: ",
            vec!["t10k-images-idx3-ubyte.gz: expected a valid gzip stream"],
        ),
        (
            "a raw IDX file named .gz",
            vec!["--dataset", "mnist", "--data-dir", &not_gzip],
            "error: data: ",
            vec![
                "train-labels-idx1-ubyte.gz: expected gzip data",
                "remove the .gz suffix",
            ],
        ),
        (
            "trailing bytes after a raw IDX file",
            vec!["--dataset", "mnist", "--data-dir", &trailing],
            "error: data: ",
            vec![
                "train-labels-idx1-ubyte: expected 100 bytes",
                "found 107",
                "trailing",
            ],
        ),
        (
            "a CSV file under an IDX name",
            vec!["--dataset", "mnist", "--data-dir", &not_idx],
            "error: data: ",
            vec![
                "t10k-labels-idx1-ubyte: expected an IDX magic number",
                "not an IDX file",
            ],
        ),
        (
            "a folder under a file's name",
            vec!["--dataset", "mnist", "--data-dir", &folder],
            "error: data: ",
            vec!["train-labels-idx1-ubyte.gz: expected a regular file, found a folder"],
        ),
    ];
    #[cfg(not(feature = "download"))]
    table.push((
        "--download in a build without downloads",
        vec!["--dataset", "mnist", "--data-dir", &good, "--download"],
        "error: --download: this build cannot download",
        vec!["--features download", "drop --download"],
    ));

    // Devices and pipes: never opened (reading them would not end, or block).
    #[cfg(unix)]
    let (zero_dev, fifo) = {
        let zero_dev = slice_copy(&t, "dev-zero");
        std::fs::remove_file(format!("{zero_dev}/{TRAIN_IMAGES}.gz")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", format!("{zero_dev}/{TRAIN_IMAGES}.gz")).unwrap();
        let fifo = slice_copy(&t, "fifo");
        std::fs::remove_file(format!("{fifo}/{TEST_LABELS}.gz")).unwrap();
        let made = Command::new("mkfifo")
            .arg(format!("{fifo}/{TEST_LABELS}.gz"))
            .status();
        (zero_dev, made.is_ok_and(|s| s.success()).then_some(fifo))
    };
    #[cfg(unix)]
    {
        table.push((
            "/dev/zero as the training images",
            vec!["--dataset", "mnist", "--data-dir", &zero_dev],
            "error: data: ",
            vec!["train-images-idx3-ubyte.gz: expected a regular file, found a character device"],
        ));
        if let Some(fifo) = &fifo {
            table.push((
                "a named pipe as the test labels",
                vec!["--dataset", "mnist", "--data-dir", fifo],
                "error: data: ",
                vec![
                    "t10k-labels-idx1-ubyte.gz: expected a regular file, found a FIFO (named pipe)",
                ],
            ));
        }
    }

    for (what, flags, starts, contains) in &table {
        let start = Instant::now();
        let out = run(&bin, flags);
        assert_refused(what, &out, starts, contains);
        assert!(out.stdout.is_empty(), "{what}: nothing trained");
        // checked before anything is read in bulk: no case takes long
        assert!(
            start.elapsed().as_secs() < 20,
            "{what}: {:?}",
            start.elapsed()
        );
    }
    // nothing was changed in the folders
    assert_eq!(
        std::fs::read(format!("{good}/{TRAIN_IMAGES}.gz")).unwrap(),
        std::fs::read(format!("{SLICE}/{TRAIN_IMAGES}.gz")).unwrap()
    );
}

#[test]
fn only_an_unnamed_default_folder_without_any_file_falls_back_to_synthetic_digits() {
    let bin = example_binary();
    let t = TempDir::new("data-default");
    let cwd = t.path("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let flags = ["--dataset", "auto", "--epochs", "1"];

    // no data/mnist at all: a note, then synthetic digits
    let out = run_in(&bin, &cwd, None, &flags);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("note: MNIST not found in data/mnist; training on synthetic digits"),
        "{stdout}"
    );
    assert!(
        stdout.contains("data: synthetic digits: 256 training"),
        "{stdout}"
    );

    // an empty data/mnist: the same
    std::fs::create_dir_all(format!("{cwd}/data/mnist")).unwrap();
    let out = run_in(&bin, &cwd, None, &flags);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // a data/mnist with one file of four: meant to be used, so an error
    std::fs::copy(
        format!("{SLICE}/{TRAIN_IMAGES}.gz"),
        format!("{cwd}/data/mnist/{TRAIN_IMAGES}.gz"),
    )
    .unwrap();
    let out = run_in(&bin, &cwd, None, &flags);
    assert_refused(
        "default folder with 1 of 4 files",
        &out,
        "error: data: data/mnist: expected the MNIST files, found only some",
        &["t10k-labels-idx1-ubyte"],
    );

    // MNIST_DIR names a folder: wrong, it is an error, not synthetic digits
    let nowhere = t.path("nowhere");
    let out = run_in(&bin, &cwd, Some(&nowhere), &flags);
    assert_refused(
        "MNIST_DIR that does not exist",
        &out,
        &format!("error: data: {nowhere}: expected the MNIST files, found no such folder"),
        &["MNIST_DIR"],
    );
    // ... and right, it is used
    let out = run_in(&bin, &cwd, Some(SLICE), &flags);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(&format!("data: MNIST from {SLICE}")),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_phenomenon_examples_refuse_bad_data_with_the_same_line() {
    let t = TempDir::new("data-examples");
    let sizes = slice_copy(&t, "sizes");
    put(&sizes, TEST_IMAGES, u8s(&[100, 2, 392], 0));
    let missing = t.path("missing");
    let cases = [
        (missing.as_str(), "found no such folder"),
        (sizes.as_str(), "expected test images of 28×28 pixels"),
    ];
    for (dir, says) in cases {
        let args = ["--quiet", "--dataset", "auto", "--data-dir", dir];
        let mnist = Command::new(example_binary()).args(args).output().unwrap();
        assert_refused("mnist", &mnist, "error: data: ", &[says]);
        for name in ["dead_relu", "vanishing_gradients", "convergence"] {
            let out = Command::new(example(name)).args(args).output().unwrap();
            assert_refused(name, &out, "error: data: ", &[says]);
            assert_eq!(out.stderr, mnist.stderr, "{name}: the same line as mnist");
            assert!(out.stdout.is_empty(), "{name}: nothing trained");
        }
    }
}
