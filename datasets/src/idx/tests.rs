use super::*;
use proptest::prelude::*;

fn p(name: &str) -> PathBuf {
    PathBuf::from(name)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Asserts that `e` is an [`Error::Length`] for `expected` data bytes of which `found` came.
#[track_caller]
fn assert_length(e: &Error, expected: u64, found: u64) {
    assert!(
        matches!(e, Error::Length { expected: x, found: f, .. } if (*x, *f) == (expected, found)),
        "{e}"
    );
}

#[test]
fn hand_encoded_u8_file() {
    // 00 00 08 02 | 00 00 00 02 | 00 00 00 03 | 1 2 3 4 5 6
    let bytes = [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6];
    let a = parse_idx(&bytes, &p("x.idx")).unwrap();
    assert_eq!(a.dims(), &[2, 3]);
    assert_eq!(a.data(), &IdxData::U8(vec![1, 2, 3, 4, 5, 6]));
    assert_eq!(a.to_tensor().dims(), &[2, 3]);
    assert_eq!(a.to_tensor().to_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(a.encode(), bytes);
}

#[test]
fn hand_encoded_f32_is_big_endian() {
    // 1.5f32 = 0x3FC00000, -2.0f32 = 0xC0000000
    let bytes = [0, 0, 0x0D, 1, 0, 0, 0, 2, 0x3F, 0xC0, 0, 0, 0xC0, 0, 0, 0];
    let a = parse_idx(&bytes, &p("f.idx")).unwrap();
    assert_eq!(a.data(), &IdxData::F32(vec![1.5, -2.0]));
    assert_eq!(a.dtype(), IdxType::F32);
}

#[test]
fn every_type_round_trips_raw_and_gzip() {
    let arrays = [
        IdxArray::new(vec![3], IdxData::U8(vec![0, 128, 255])),
        IdxArray::new(vec![1, 3], IdxData::I8(vec![-128, 0, 127])),
        IdxArray::new(vec![2, 1], IdxData::I16(vec![-30000, 258])),
        IdxArray::new(vec![2], IdxData::I32(vec![i32::MIN, 16_909_060])),
        IdxArray::new(
            vec![2, 2, 1],
            IdxData::F32(vec![0.1, -1e30, f32::MIN_POSITIVE, 7.0]),
        ),
        IdxArray::new(vec![1], IdxData::F64(vec![std::f64::consts::PI])),
        IdxArray::new(vec![0, 28, 28], IdxData::U8(vec![])),
        IdxArray::new(vec![], IdxData::U8(vec![42])),
    ];
    for a in arrays {
        let raw = a.encode();
        assert_eq!(parse_idx(&raw, &p("a.idx")).unwrap(), a);
        assert_eq!(parse_idx(&gzip(&raw), &p("a.idx.gz")).unwrap(), a);
        // gzip is recognised by content, whatever the name
        assert_eq!(parse_idx(&gzip(&raw), &p("a.idx")).unwrap(), a);
    }
}

#[test]
fn i16_bytes_decode_big_endian() {
    let bytes = [0, 0, 0x0B, 1, 0, 0, 0, 1, 0x01, 0x02];
    let a = parse_idx(&bytes, &p("i.idx")).unwrap();
    assert_eq!(a.data(), &IdxData::I16(vec![258]));
}

#[test]
fn wrong_magic() {
    let e = parse_idx(&[1, 0, 8, 1, 0, 0, 0, 0], &p("m.idx")).unwrap_err();
    assert!(
        matches!(
            e,
            Error::BadMagic {
                found: [1, 0, 8, 1],
                ..
            }
        ),
        "{e}"
    );
    assert!(e
        .to_string()
        .starts_with("m.idx: expected an IDX magic number"));
    // a text file
    let e = parse_idx(b"hello world", &p("t.idx")).unwrap_err();
    assert!(matches!(e, Error::BadMagic { .. }), "{e}");
}

#[test]
fn unknown_type_code() {
    let e = parse_idx(&[0, 0, 0x0A, 1, 0, 0, 0, 0], &p("u.idx")).unwrap_err();
    assert!(matches!(e, Error::UnknownType { code: 0x0A, .. }), "{e}");
    assert!(e.to_string().contains("found 0x0A"));
}

#[test]
fn truncated_header() {
    let e = parse_idx(&[0, 0], &p("h.idx")).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TruncatedHeader {
                expected: 4,
                found: 2,
                ..
            }
        ),
        "{e}"
    );
    let e = parse_idx(&[0, 0, 8, 3, 0, 0, 0, 1, 0, 0], &p("h.idx")).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TruncatedHeader {
                expected: 16,
                found: 10,
                ..
            }
        ),
        "{e}"
    );
    let e = parse_idx(&[], &p("h.idx")).unwrap_err();
    assert!(matches!(e, Error::TruncatedHeader { found: 0, .. }), "{e}");
}

#[test]
fn truncated_data_raw_and_gzip() {
    let mut bytes = IdxArray::new(vec![2, 3], IdxData::U8(vec![1; 6])).encode();
    bytes.pop();
    let e = parse_idx(&bytes, &p("d.idx")).unwrap_err();
    assert_length(&e, 6, 5);
    let e = parse_idx(&gzip(&bytes), &p("d.idx.gz")).unwrap_err();
    assert_length(&e, 6, 5);
    assert_eq!(
        e.to_string(),
        "d.idx.gz: expected 6 bytes of u8 data for dimensions [2, 3], found 5; \
         the file is truncated or its header is corrupt; download it again"
    );
}

#[test]
fn f32_data_not_a_multiple_of_four() {
    let bytes = [0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0xC0, 0];
    let e = parse_idx(&bytes, &p("f.idx")).unwrap_err();
    assert_length(&e, 4, 3);
}

#[test]
fn trailing_bytes_are_an_error() {
    let mut bytes = IdxArray::new(vec![2], IdxData::U8(vec![1, 2])).encode();
    bytes.extend([9, 9, 9]);
    let e = parse_idx(&bytes, &p("t.idx")).unwrap_err();
    assert_length(&e, 2, 5);
    let e = parse_idx(&gzip(&bytes), &p("t.idx.gz")).unwrap_err();
    assert_length(&e, 2, 5);
    assert!(e.to_string().contains("trailing bytes"));
}

#[test]
fn header_claiming_ten_to_the_twelve_items() {
    // [1_000_000, 1_000_000] u8 = 10¹² bytes claimed, 4 present: refused from the header.
    let mut bytes = vec![0, 0, 8, 2];
    bytes.extend(1_000_000u32.to_be_bytes());
    bytes.extend(1_000_000u32.to_be_bytes());
    bytes.extend([1, 2, 3, 4]);
    for (name, b) in [("big.idx", bytes.clone()), ("big.idx.gz", gzip(&bytes))] {
        let e = parse_idx(&b, &p(name)).unwrap_err();
        assert!(
            matches!(
                e,
                Error::ItemTooLarge {
                    values: 1_000_000,
                    ..
                }
            ),
            "{e}"
        );
    }
    // Many small items that add up to 10¹² bytes: over the data limit.
    let mut bytes = vec![0, 0, 8, 3];
    for d in [1_000_000_000u32, 100, 10] {
        bytes.extend(d.to_be_bytes());
    }
    let e = parse_idx(&gzip(&bytes), &p("many.idx.gz")).unwrap_err();
    assert!(
        matches!(
            e,
            Error::DataTooLarge {
                bytes: 1_000_000_000_000,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().starts_with(
            "many.idx.gz: expected at most 268435456 bytes of data (256 MiB), found a \
             header declaring 1000000000000 bytes of u8 for dimensions \
             [1000000000, 100, 10]"
        ),
        "{e}"
    );
}

#[test]
fn one_image_of_a_million_pixels_is_refused_naming_the_limit() {
    let mut bytes = vec![0, 0, 8, 3];
    for d in [1u32, 1, 1_000_000] {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(vec![7u8; 1_000_000]);
    let e = parse_idx(&gzip(&bytes), &p("wide-idx3-ubyte.gz")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "wide-idx3-ubyte.gz: expected at most 65536 values per item (a 256×256 image), \
         found 1000000 (dimensions [1, 1, 1000000]); the header is corrupt or the images \
         are too large for minidl"
    );
    // The limits themselves are allowed: one 256×256 image, and 256 MiB in total.
    let mut ok = vec![0, 0, 8, 3];
    for d in [1u32, 256, 256] {
        ok.extend(d.to_be_bytes());
    }
    ok.extend(vec![1u8; 65_536]);
    assert_eq!(parse_idx(&ok, &p("ok.idx")).unwrap().numel(), 65_536);
    let mut at_limit = vec![0, 0, 8, 3];
    for d in [1u32 << 20, 16, 16] {
        at_limit.extend(d.to_be_bytes());
    }
    // (the header passes; the data is simply missing)
    let e = parse_idx(&at_limit, &p("limit.idx")).unwrap_err();
    assert!(matches!(e, Error::Length { found: 0, .. }), "{e}");
}

/// A reader that counts the bytes taken from it.
struct Counting<R> {
    inner: R,
    taken: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.taken.set(self.taken.get() + n as u64);
        Ok(n)
    }
}

/// `header` then `zeros` zero bytes, gzipped as it is streamed (nothing that big is held).
fn gzip_bomb(header: &[u8], zeros: u64) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(header).unwrap();
    io::copy(&mut io::repeat(0).take(zeros), &mut enc).unwrap();
    enc.finish().unwrap()
}

#[test]
fn a_gzip_bomb_is_refused_after_its_header() {
    // Declares 2 GiB of data and inflates to 2 GiB: the header alone refuses it.
    let mut header = vec![0, 0, 8, 3];
    for d in [1u32 << 15, 256, 256] {
        header.extend(d.to_be_bytes());
    }
    let bomb = gzip_bomb(&header, 256 << 20);
    let taken = std::rc::Rc::new(std::cell::Cell::new(0));
    let reader = Counting {
        inner: &bomb[..],
        taken: taken.clone(),
    };
    let e = decode_stream(reader, bomb.len() as u64, &p("bomb.gz")).unwrap_err();
    assert!(
        matches!(e, Error::DataTooLarge { bytes, .. } if bytes == 2 << 30),
        "{e}"
    );
    assert!(
        taken.get() <= 64 << 10,
        "read {} of {} compressed bytes",
        taken.get(),
        bomb.len()
    );
    // Declares 16 bytes and then goes on for 256 MiB: stopped soon after the data.
    let mut small = vec![0, 0, 8, 1];
    small.extend(16u32.to_be_bytes());
    let bomb = gzip_bomb(&small, 256 << 20);
    let start = std::time::Instant::now();
    let e = parse_idx(&bomb, &p("long.gz")).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TooLong {
                expected: 16,
                read,
                ..
            } if read == 16 + TRAILING_SCAN_BYTES
        ),
        "{e}"
    );
    assert!(e.to_string().contains("trailing bytes"), "{e}");
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
}

#[test]
fn dimensions_overflowing_64_bits() {
    // Every item is small, but there can be no more than 2³² of them: the data limit
    // catches what the 64-bit check would.
    let mut bytes = vec![0, 0, 0x0E, 3];
    for d in [u32::MAX, 256, 256] {
        bytes.extend(d.to_be_bytes());
    }
    let e = parse_idx(&bytes, &p("o.idx")).unwrap_err();
    assert!(matches!(e, Error::DataTooLarge { .. }), "{e}");
    let mut bytes = vec![0, 0, 0x0E, 3];
    for _ in 0..3 {
        bytes.extend(u32::MAX.to_be_bytes());
    }
    let e = parse_idx(&bytes, &p("o.idx")).unwrap_err();
    assert!(matches!(e, Error::ItemTooLarge { .. }), "{e}");
}

#[test]
fn only_regular_files_are_opened() {
    let dir = std::env::temp_dir().join(format!("minidl-idx-kinds-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("sub.idx")).unwrap();
    let e = read_idx(dir.join("sub.idx")).unwrap_err();
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
    assert!(e.to_string().ends_with(
        "sub.idx: expected a regular file, found a folder; the data must be in regular files (or links to them)"
    ));
    #[cfg(unix)]
    {
        // a device that never ends, and a named pipe that would block: neither is read
        let e = read_idx("/dev/zero").unwrap_err();
        assert!(
            matches!(
                e,
                Error::NotAFile {
                    found: "a character device",
                    ..
                }
            ),
            "{e}"
        );
        let fifo = dir.join("pipe.gz");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let e = read_idx(&fifo).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::NotAFile {
                        found: "a FIFO (named pipe)",
                        ..
                    }
                ),
                "{e}"
            );
        }
        // a symbolic link to a good file is followed
        let a = IdxArray::new(vec![2], IdxData::U8(vec![4, 2]));
        write_idx(dir.join("real.idx"), &a).unwrap();
        std::os::unix::fs::symlink(dir.join("real.idx"), dir.join("link.idx")).unwrap();
        assert_eq!(read_idx(dir.join("link.idx")).unwrap(), a);
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_are_streamed_and_checked_like_bytes() {
    let dir = std::env::temp_dir().join(format!("minidl-idx-stream-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let a = IdxArray::new(vec![3, 2], IdxData::U8(vec![1, 2, 3, 4, 5, 6]));
    let mut long = a.encode();
    long.push(0);
    fs::write(dir.join("long.idx"), &long).unwrap();
    let e = read_idx(dir.join("long.idx")).unwrap_err();
    assert_length(&e, 6, 7);
    fs::write(dir.join("long.idx.gz"), gzip(&long)).unwrap();
    let e = read_idx(dir.join("long.idx.gz")).unwrap_err();
    assert!(matches!(e, Error::Length { found: 7, .. }), "{e}");
    fs::write(dir.join("raw.gz"), a.encode()).unwrap();
    let e = read_idx(dir.join("raw.gz")).unwrap_err();
    assert!(
        matches!(&e, Error::NotGzip { found, .. } if found == &[0, 0, 8, 2]),
        "{e}"
    );
    fs::write(dir.join("empty.idx"), b"").unwrap();
    let e = read_idx(dir.join("empty.idx")).unwrap_err();
    assert!(matches!(e, Error::TruncatedHeader { found: 0, .. }), "{e}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn not_gzip_though_named_gz() {
    let raw = IdxArray::new(vec![1], IdxData::U8(vec![5])).encode();
    let e = parse_idx(&raw, &p("labels.gz")).unwrap_err();
    assert!(matches!(e, Error::NotGzip { .. }), "{e}");
    assert!(e.to_string().starts_with("labels.gz: expected gzip data"));
}

#[test]
fn corrupt_gzip_stream() {
    let raw = IdxArray::new(vec![100], IdxData::U8((0..100).collect())).encode();
    let mut gz = gzip(&raw);
    let n = gz.len();
    gz.truncate(n - 10); // cut inside the deflate stream / trailer
    let e = parse_idx(&gz, &p("c.gz")).unwrap_err();
    assert!(
        matches!(e, Error::Gzip { .. } | Error::Length { .. }),
        "{e}"
    );
    let mut gz = gzip(&raw);
    let mid = gz.len() / 2;
    gz[mid] ^= 0xFF; // flipped bits: deflate or CRC error
    let e = parse_idx(&gz, &p("c.gz")).unwrap_err();
    assert!(
        matches!(e, Error::Gzip { .. } | Error::Length { .. }),
        "{e}"
    );
}

#[test]
fn write_idx_is_atomic_and_readable() {
    let dir = std::env::temp_dir().join(format!("minidl-idx-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let a = IdxArray::new(vec![2, 2], IdxData::I32(vec![1, -2, 3, -4]));
    for name in ["w.idx", "w.idx.gz"] {
        let path = dir.join(name);
        write_idx(&path, &a).unwrap();
        assert_eq!(read_idx(&path).unwrap(), a);
    }
    let gz = fs::read(dir.join("w.idx.gz")).unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    // nothing but the two files: no temporaries left behind
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["w.idx", "w.idx.gz"]);
    let e = read_idx(dir.join("absent.idx")).unwrap_err();
    assert!(matches!(e, Error::Io { action: "read", .. }), "{e}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[cfg(target_os = "linux")]
fn temporaries_of_dead_processes_are_removed_and_others_kept() {
    let dir = std::env::temp_dir().join(format!("minidl-idx-stale-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    // no process has an id above 2²² on Linux
    let stale = dir.join(".w.idx.999999999.0.tmp");
    let running = dir.join(format!(".w.idx.{}.7.tmp", std::process::id()));
    let other_file = dir.join(".v.idx.999999999.0.tmp");
    let not_ours = dir.join(".w.idx.notes.tmp");
    for p in [&stale, &running, &other_file, &not_ours] {
        fs::write(p, b"partial").unwrap();
    }
    let a = IdxArray::new(vec![1], IdxData::U8(vec![9]));
    write_idx(dir.join("w.idx"), &a).unwrap();
    assert!(!stale.exists(), "a dead writer's temporary is removed");
    for kept in [&running, &other_file, &not_ours] {
        assert!(kept.exists(), "{} kept", kept.display());
    }
    assert_eq!(read_idx(dir.join("w.idx")).unwrap(), a);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[should_panic(expected = "IdxArray::new: 3 elements do not fill dimensions [2, 2]")]
fn new_checks_the_length() {
    IdxArray::new(vec![2, 2], IdxData::U8(vec![1, 2, 3]));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random bytes: an error or a valid array, never a panic.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_idx(&bytes, &p("r.idx"));
        let _ = parse_idx(&bytes, &p("r.idx.gz"));
    }

    /// Random bytes behind a plausible header: if it parses, the array is consistent.
    #[test]
    fn random_after_valid_header(
        code in prop::sample::select(vec![0x08u8, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x0A, 0xFF]),
        dims in proptest::collection::vec(0u32..6, 0..4),
        tail in proptest::collection::vec(any::<u8>(), 0..200),
        gz in any::<bool>(),
    ) {
        let mut bytes = vec![0, 0, code, dims.len() as u8];
        for d in &dims {
            bytes.extend(d.to_be_bytes());
        }
        bytes.extend(&tail);
        let bytes = if gz { gzip(&bytes) } else { bytes };
        if let Ok(a) = parse_idx(&bytes, &p("r.idx")) {
            let numel: usize = dims.iter().map(|&d| d as usize).product();
            prop_assert_eq!(a.numel(), numel);
            prop_assert_eq!(a.numel() * a.dtype().size(), tail.len());
        }
    }

    /// Random bytes after a gzip signature exercise the decoder's error paths.
    #[test]
    fn random_gzip_body_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = vec![0x1f, 0x8b, 8, 0];
        bytes.extend(tail);
        let _ = parse_idx(&bytes, &p("r.gz"));
    }
}
