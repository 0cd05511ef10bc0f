//! The IDX file format (LeCun's format for MNIST), raw or gzipped, read and written.
//!
//! An IDX file is a 4-byte magic number `00 00 TT DD`, then `DD` big-endian `u32` dimensions,
//! then the elements in row-major order, big-endian. `TT` names the element type:
//!
//! | code | type | bytes |
//! | --- | --- | --- |
//! | 0x08 | u8  | 1 |
//! | 0x09 | i8  | 1 |
//! | 0x0B | i16 | 2 |
//! | 0x0C | i32 | 4 |
//! | 0x0D | f32 | 4 |
//! | 0x0E | f64 | 8 |
//!
//! The reader trusts nothing: the magic number, the type code, the header length and the data
//! length (product(dims) · element size, which must match exactly) are all checked, and memory is
//! reserved only up to what the file can really hold, so a header that claims 10¹² elements gives
//! an [`Error::Length`], not an out-of-memory abort.

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use tensor::{shape_panic, Tensor};

use crate::error::{Error, Result};

/// The largest ratio deflate can reach (uncompressed : compressed) is about 1032 : 1, so a gzip
/// file of `n` bytes never inflates to more than this many times `n`. Used only to bound how
/// much memory is reserved up front.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// The element type of an IDX file (the third byte of its magic number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdxType {
    /// Unsigned byte, code 0x08.
    U8,
    /// Signed byte, code 0x09.
    I8,
    /// Big-endian 16-bit signed integer, code 0x0B.
    I16,
    /// Big-endian 32-bit signed integer, code 0x0C.
    I32,
    /// Big-endian IEEE 754 single, code 0x0D.
    F32,
    /// Big-endian IEEE 754 double, code 0x0E.
    F64,
}

impl IdxType {
    /// The type code stored in the header.
    pub const fn code(self) -> u8 {
        match self {
            IdxType::U8 => 0x08,
            IdxType::I8 => 0x09,
            IdxType::I16 => 0x0B,
            IdxType::I32 => 0x0C,
            IdxType::F32 => 0x0D,
            IdxType::F64 => 0x0E,
        }
    }

    /// The type for a header code, or `None` for a code the format does not define.
    pub const fn from_code(code: u8) -> Option<IdxType> {
        match code {
            0x08 => Some(IdxType::U8),
            0x09 => Some(IdxType::I8),
            0x0B => Some(IdxType::I16),
            0x0C => Some(IdxType::I32),
            0x0D => Some(IdxType::F32),
            0x0E => Some(IdxType::F64),
            _ => None,
        }
    }

    /// Size of one element in bytes.
    pub const fn size(self) -> usize {
        match self {
            IdxType::U8 | IdxType::I8 => 1,
            IdxType::I16 => 2,
            IdxType::I32 | IdxType::F32 => 4,
            IdxType::F64 => 8,
        }
    }

    /// Rust's name for the type: `"u8"`, `"f32"`, ...
    pub const fn name(self) -> &'static str {
        match self {
            IdxType::U8 => "u8",
            IdxType::I8 => "i8",
            IdxType::I16 => "i16",
            IdxType::I32 => "i32",
            IdxType::F32 => "f32",
            IdxType::F64 => "f64",
        }
    }
}

impl fmt::Display for IdxType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The elements of an IDX file, in their own type.
#[derive(Debug, Clone, PartialEq)]
pub enum IdxData {
    /// Code 0x08.
    U8(Vec<u8>),
    /// Code 0x09.
    I8(Vec<i8>),
    /// Code 0x0B.
    I16(Vec<i16>),
    /// Code 0x0C.
    I32(Vec<i32>),
    /// Code 0x0D.
    F32(Vec<f32>),
    /// Code 0x0E.
    F64(Vec<f64>),
}

impl IdxData {
    /// The element type.
    pub fn dtype(&self) -> IdxType {
        match self {
            IdxData::U8(_) => IdxType::U8,
            IdxData::I8(_) => IdxType::I8,
            IdxData::I16(_) => IdxType::I16,
            IdxData::I32(_) => IdxType::I32,
            IdxData::F32(_) => IdxType::F32,
            IdxData::F64(_) => IdxType::F64,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            IdxData::U8(v) => v.len(),
            IdxData::I8(v) => v.len(),
            IdxData::I16(v) => v.len(),
            IdxData::I32(v) => v.len(),
            IdxData::F32(v) => v.len(),
            IdxData::F64(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements converted to `f32` with `as` (integers keep their value, f64 is rounded).
    pub fn to_f32(&self) -> Vec<f32> {
        match self {
            IdxData::U8(v) => v.iter().map(|&x| x as f32).collect(),
            IdxData::I8(v) => v.iter().map(|&x| x as f32).collect(),
            IdxData::I16(v) => v.iter().map(|&x| x as f32).collect(),
            IdxData::I32(v) => v.iter().map(|&x| x as f32).collect(),
            IdxData::F32(v) => v.clone(),
            IdxData::F64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// Decodes big-endian `bytes` (whose length is a multiple of the element size).
    fn from_be_bytes(dtype: IdxType, bytes: Vec<u8>) -> IdxData {
        fn chunks<const N: usize, T>(b: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
            b.chunks_exact(N)
                .map(|c| f(c.try_into().expect("chunks_exact yields N bytes")))
                .collect()
        }
        match dtype {
            IdxType::U8 => IdxData::U8(bytes),
            IdxType::I8 => IdxData::I8(bytes.into_iter().map(|b| b as i8).collect()),
            IdxType::I16 => IdxData::I16(chunks(&bytes, i16::from_be_bytes)),
            IdxType::I32 => IdxData::I32(chunks(&bytes, i32::from_be_bytes)),
            IdxType::F32 => IdxData::F32(chunks(&bytes, f32::from_be_bytes)),
            IdxType::F64 => IdxData::F64(chunks(&bytes, f64::from_be_bytes)),
        }
    }

    /// Appends the big-endian encoding of the elements to `out`.
    fn write_be_bytes(&self, out: &mut Vec<u8>) {
        match self {
            IdxData::U8(v) => out.extend_from_slice(v),
            IdxData::I8(v) => out.extend(v.iter().map(|&x| x as u8)),
            IdxData::I16(v) => v.iter().for_each(|x| out.extend(x.to_be_bytes())),
            IdxData::I32(v) => v.iter().for_each(|x| out.extend(x.to_be_bytes())),
            IdxData::F32(v) => v.iter().for_each(|x| out.extend(x.to_be_bytes())),
            IdxData::F64(v) => v.iter().for_each(|x| out.extend(x.to_be_bytes())),
        }
    }
}

/// An n-dimensional array read from (or to be written to) an IDX file.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    dims: Vec<usize>,
    data: IdxData,
}

impl IdxArray {
    /// An array of the given dimensions.
    ///
    /// # Panics
    /// If the number of elements is not the product of `dims`, or a dimension exceeds `u32::MAX`
    /// (the format stores dimensions as `u32`).
    #[track_caller]
    pub fn new(dims: Vec<usize>, data: IdxData) -> IdxArray {
        let numel: usize = dims.iter().product();
        if numel != data.len() {
            shape_panic(
                "IdxArray::new",
                format!(
                    "{} elements do not fill dimensions {dims:?} ({numel} elements)",
                    data.len()
                ),
            );
        }
        if dims.len() > 255 || dims.iter().any(|&d| d > u32::MAX as usize) {
            shape_panic(
                "IdxArray::new",
                format!("IDX holds at most 255 dimensions of at most u32::MAX, got {dims:?}"),
            );
        }
        IdxArray { dims, data }
    }

    /// The dimensions from the header.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The elements.
    pub fn data(&self) -> &IdxData {
        &self.data
    }

    /// Splits the array into its dimensions and elements.
    pub fn into_parts(self) -> (Vec<usize>, IdxData) {
        (self.dims, self.data)
    }

    /// The element type.
    pub fn dtype(&self) -> IdxType {
        self.data.dtype()
    }

    /// Number of elements (the product of the dimensions).
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The array as a [`Tensor`] of the same shape, elements converted with `as f32`
    /// (pixel bytes stay 0–255: normalisation is the [`crate::DataLoader`]'s job).
    pub fn to_tensor(&self) -> Tensor {
        Tensor::from_vec(self.data.to_f32(), self.dims.as_slice())
    }

    /// The IDX encoding of the array (uncompressed).
    pub fn encode(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(4 + 4 * self.dims.len() + self.numel() * self.dtype().size());
        out.extend([0, 0, self.dtype().code(), self.dims.len() as u8]);
        for &d in &self.dims {
            out.extend((d as u32).to_be_bytes());
        }
        self.data.write_be_bytes(&mut out);
        out
    }
}

/// True when the file name ends in `.gz` (any case).
pub(crate) fn is_gz_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Reads an IDX file, raw or gzipped (gzip is recognised by its signature `1f 8b`; a file named
/// `.gz` without it is an [`Error::NotGzip`]).
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; otherwise as [`parse_idx`].
///
/// ```no_run
/// let labels = datasets::read_idx("data/mnist/t10k-labels-idx1-ubyte.gz")?;
/// assert_eq!(labels.dims(), &[10000]);
/// # Ok::<(), datasets::Error>(())
/// ```
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|e| Error::io(path, "read", e))?;
    parse_idx(&bytes, path)
}

/// Parses the bytes of an IDX file (raw or gzipped); `path` is used for the gzip rule and in
/// error messages.
///
/// # Errors
/// [`Error::NotGzip`], [`Error::Gzip`], [`Error::BadMagic`], [`Error::UnknownType`],
/// [`Error::TruncatedHeader`], [`Error::TooLarge`] or [`Error::Length`] (data shorter or longer
/// than the dimensions say). Never panics, whatever the bytes.
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        // Reserve at most what the file could inflate to; the gzip trailer's ISIZE (size mod 2³²)
        // makes the guess exact for files under 4 GiB, so MNIST is read with one allocation.
        let bound = (bytes.len() as u64).saturating_mul(MAX_DEFLATE_RATIO);
        let isize_hint = match bytes.len() {
            n if n >= 18 => u32::from_le_bytes(bytes[n - 4..].try_into().expect("4 bytes")) as u64,
            _ => 0,
        };
        let mut reader = MultiGzDecoder::new(bytes);
        decode(&mut reader, path, isize_hint.min(bound), true)
    } else if is_gz_name(path) {
        Err(Error::NotGzip {
            path: path.to_path_buf(),
            found: bytes[..bytes.len().min(4)].to_vec(),
        })
    } else {
        let mut reader = bytes;
        decode(&mut reader, path, bytes.len() as u64, false)
    }
}

/// Reads as many bytes as fit in `buf`, stopping early only at end of stream.
fn read_full(reader: &mut dyn Read, buf: &mut [u8], path: &Path) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(stream_error(path, e)),
        }
    }
    Ok(n)
}

/// An error from the byte stream: for a raw slice there are none, so it is the gzip decoder.
fn stream_error(path: &Path, e: io::Error) -> Error {
    Error::Gzip {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Decodes an IDX stream. `hint` bounds the bytes reserved up front (the real data can only
/// make the buffer grow as it arrives, so a lying header costs no memory).
fn decode(reader: &mut dyn Read, path: &Path, hint: u64, gz: bool) -> Result<IdxArray> {
    let mut magic = [0u8; 4];
    let got = read_full(reader, &mut magic, path)?;
    if got < 4 {
        return Err(Error::TruncatedHeader {
            path: path.to_path_buf(),
            expected: 4,
            found: got,
        });
    }
    if magic[0] != 0 || magic[1] != 0 {
        return Err(Error::BadMagic {
            path: path.to_path_buf(),
            found: magic,
        });
    }
    let dtype = IdxType::from_code(magic[2]).ok_or(Error::UnknownType {
        path: path.to_path_buf(),
        code: magic[2],
    })?;
    let ndims = magic[3] as usize;
    let mut dim_bytes = vec![0u8; 4 * ndims];
    let got = read_full(reader, &mut dim_bytes, path)?;
    if got < dim_bytes.len() {
        return Err(Error::TruncatedHeader {
            path: path.to_path_buf(),
            expected: 4 + dim_bytes.len(),
            found: 4 + got,
        });
    }
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes(c.try_into().expect("4 bytes")) as usize)
        .collect();
    let header = (4 + 4 * ndims) as u64;

    let expected = dims
        .iter()
        .try_fold(dtype.size() as u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| Error::TooLarge {
            path: path.to_path_buf(),
            dims: dims.clone(),
        })?;
    let length_error = |found: u64| Error::Length {
        path: path.to_path_buf(),
        dims: dims.clone(),
        dtype,
        expected,
        found,
    };
    if !gz {
        // The whole file is in memory: its real length answers at once.
        let found = hint - header;
        if found != expected {
            return Err(length_error(found));
        }
    }
    let capacity = expected.min(hint.saturating_sub(header));
    let capacity = usize::try_from(capacity).map_err(|_| length_error(hint))?;
    let mut data = Vec::with_capacity(capacity);
    reader
        .take(expected)
        .read_to_end(&mut data)
        .map_err(|e| stream_error(path, e))?;
    if (data.len() as u64) < expected {
        return Err(length_error(data.len() as u64));
    }
    // Anything after the data is an error too: count it (without keeping it) for the message.
    let extra = io::copy(reader, &mut io::sink()).map_err(|e| stream_error(path, e))?;
    if extra > 0 {
        return Err(length_error(expected + extra));
    }
    Ok(IdxArray {
        dims,
        data: IdxData::from_be_bytes(dtype, data),
    })
}

/// Writes `array` as an IDX file, gzipped if `path` ends in `.gz`, atomically (a temporary file
/// in the same folder, then a rename), so a reader never sees a half-written file.
///
/// # Errors
/// [`Error::Io`] if the folder or file cannot be written.
pub fn write_idx(path: impl AsRef<Path>, array: &IdxArray) -> Result<()> {
    let path = path.as_ref();
    let raw = array.encode();
    let bytes = if is_gz_name(path) {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(&raw)
            .and_then(|_| enc.finish())
            .map_err(|e| Error::io(path, "compress", e))?
    } else {
        raw
    };
    write_atomic(path, &bytes)
}

/// A fresh temporary path beside `path` (same folder, so the final rename is atomic), for
/// downloads.
#[cfg_attr(not(feature = "download"), allow(dead_code))]
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}-{n}.part", std::process::id()))
}

/// Writes `bytes` to `path` through a temporary file and a rename, with the writer every
/// minidl crate shares (`tensor::atomic::write`); on failure the temporary file is removed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    tensor::atomic::write(path, bytes)
        .map(|_| ())
        .map_err(|e| Error::io(path, e.action, e.source))
}

#[cfg(test)]
mod tests {
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
        assert!(
            matches!(
                e,
                Error::Length {
                    expected: 6,
                    found: 5,
                    ..
                }
            ),
            "{e}"
        );
        let e = parse_idx(&gzip(&bytes), &p("d.idx.gz")).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Length {
                    expected: 6,
                    found: 5,
                    ..
                }
            ),
            "{e}"
        );
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
        assert!(
            matches!(
                e,
                Error::Length {
                    expected: 4,
                    found: 3,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut bytes = IdxArray::new(vec![2], IdxData::U8(vec![1, 2])).encode();
        bytes.extend([9, 9, 9]);
        let e = parse_idx(&bytes, &p("t.idx")).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Length {
                    expected: 2,
                    found: 5,
                    ..
                }
            ),
            "{e}"
        );
        let e = parse_idx(&gzip(&bytes), &p("t.idx.gz")).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Length {
                    expected: 2,
                    found: 5,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("trailing bytes"));
    }

    #[test]
    fn header_claiming_ten_to_the_twelve_items() {
        // [1_000_000, 1_000_000] u8 = 10¹² bytes claimed, 4 present.
        let mut bytes = vec![0, 0, 8, 2];
        bytes.extend(1_000_000u32.to_be_bytes());
        bytes.extend(1_000_000u32.to_be_bytes());
        bytes.extend([1, 2, 3, 4]);
        let e = parse_idx(&bytes, &p("big.idx")).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Length {
                    expected: 1_000_000_000_000,
                    found: 4,
                    ..
                }
            ),
            "{e}"
        );
        // Gzipped, the real length is only known by inflating: still no big allocation.
        let e = parse_idx(&gzip(&bytes), &p("big.idx.gz")).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Length {
                    expected: 1_000_000_000_000,
                    found: 4,
                    ..
                }
            ),
            "{e}"
        );
        // A gzip trailer that lies about the size too (ISIZE = 4 GiB - 1) is bounded by the
        // deflate ratio.
        let mut gz = gzip(&bytes);
        let n = gz.len();
        gz[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = parse_idx(&gz, &p("big.idx.gz")).unwrap_err();
        assert!(
            matches!(e, Error::Gzip { .. } | Error::Length { .. }),
            "{e}"
        );
    }

    #[test]
    fn dimensions_overflowing_64_bits() {
        let mut bytes = vec![0, 0, 0x0E, 3];
        for _ in 0..3 {
            bytes.extend(u32::MAX.to_be_bytes());
        }
        let e = parse_idx(&bytes, &p("o.idx")).unwrap_err();
        assert!(matches!(e, Error::TooLarge { .. }), "{e}");
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
}
