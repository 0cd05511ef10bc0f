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

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use tensor::{shape_panic, Tensor};

use crate::error::{Error, Result};

/// The largest ratio deflate can reach (uncompressed : compressed) is about 1032 : 1, so a gzip
/// file of `n` bytes never inflates to more than this many times `n`. Used only to bound how
/// much memory is reserved up front.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// The most values one item of an IDX file may hold (the product of every dimension after the
/// first: the pixels of one image): 65,536, a 256×256 image. MNIST's are 784. A header that
/// claims more is refused before any data is read, so a file of 1×1,000,000-pixel "images"
/// cannot make the lab build a network with hundreds of millions of weights.
pub const MAX_ITEM_VALUES: u64 = 65_536;

/// The most data bytes (after the header, uncompressed) one IDX file may declare: 256 MiB,
/// five times MNIST's largest file (47 MB of training images) and far below the memory of any
/// machine that trains on it. A header that declares more is refused before any data is read,
/// so a small gzip file that inflates to gigabytes costs nothing.
pub const MAX_DATA_BYTES: u64 = 256 << 20;

/// After the declared data, a gzip stream should end; if it does not, at most this many more
/// bytes are inflated to count them for the message, then the reader gives up.
const TRAILING_SCAN_BYTES: u64 = 1 << 20;

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
/// The file is streamed: the header is checked (and its sizes bounded by [`MAX_ITEM_VALUES`]
/// and [`MAX_DATA_BYTES`]) from the first bytes, then exactly the declared data is read, so a
/// hostile file costs at most the limits, whatever it inflates to. Only regular files are
/// opened: a folder, a named pipe or a device is refused without reading.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read, [`Error::NotAFile`] if it is not a regular file;
/// otherwise as [`parse_idx`].
///
/// ```no_run
/// let labels = datasets::read_idx("data/mnist/t10k-labels-idx1-ubyte.gz")?;
/// assert_eq!(labels.dims(), &[10000]);
/// # Ok::<(), datasets::Error>(())
/// ```
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    let path = path.as_ref();
    let file = open_regular(path)?;
    let len = file
        .metadata()
        .map_err(|e| Error::io(path, "read", e))?
        .len();
    decode_stream(io::BufReader::new(file), len, path)
}

/// Opens `path` for reading if it is a regular file (a symbolic link to one is fine). The
/// type is checked before opening: opening a named pipe blocks until a writer comes.
pub(crate) fn open_regular(path: &Path) -> Result<fs::File> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, "read", e))?;
    if !meta.is_file() {
        return Err(Error::NotAFile {
            path: path.to_path_buf(),
            found: file_kind(&meta.file_type()),
        });
    }
    let file = fs::File::open(path).map_err(|e| Error::io(path, "read", e))?;
    // The path may have been swapped between the two calls: check what was opened.
    let opened = file.metadata().map_err(|e| Error::io(path, "read", e))?;
    if !opened.is_file() {
        return Err(Error::NotAFile {
            path: path.to_path_buf(),
            found: file_kind(&opened.file_type()),
        });
    }
    Ok(file)
}

pub(crate) use tensor::atomic::file_kind;

/// Parses the bytes of an IDX file (raw or gzipped); `path` is used for the gzip rule and in
/// error messages.
///
/// # Errors
/// [`Error::NotGzip`], [`Error::Gzip`], [`Error::BadMagic`], [`Error::UnknownType`],
/// [`Error::TruncatedHeader`], [`Error::TooLarge`], [`Error::ItemTooLarge`],
/// [`Error::DataTooLarge`], [`Error::Length`] (data shorter or longer than the dimensions say)
/// or [`Error::TooLong`]. Never panics, whatever the bytes.
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray> {
    decode_stream(bytes, bytes.len() as u64, path)
}

/// Decodes an IDX file of `len` bytes (as stored) from `reader`, gzipped or not.
fn decode_stream(mut reader: impl Read, len: u64, path: &Path) -> Result<IdxArray> {
    let mut sig = [0u8; 2];
    let got = read_full(&mut reader, &mut sig, path, false)?;
    let head = io::Cursor::new(sig[..got].to_vec());
    if sig[..got] == [0x1f, 0x8b] {
        let mut gz = MultiGzDecoder::new(io::BufReader::new(head.chain(reader)));
        decode(&mut gz, path, Stored::Gzip { len })
    } else if is_gz_name(path) {
        // what the message shows: the first (up to) 4 bytes
        let mut found = sig[..got].to_vec();
        let mut more = [0u8; 2];
        let n = read_full(&mut reader, &mut more, path, false)?;
        found.extend_from_slice(&more[..n]);
        Err(Error::NotGzip {
            path: path.to_path_buf(),
            found,
        })
    } else {
        decode(&mut head.chain(reader), path, Stored::Raw { len })
    }
}

/// How the file is stored, with its length on disk.
#[derive(Clone, Copy)]
enum Stored {
    /// Plain IDX: the length tells at once whether the data is whole.
    Raw { len: u64 },
    /// Gzipped: the data's length is only known by inflating.
    Gzip { len: u64 },
}

/// Reads as many bytes as fit in `buf`, stopping early only at end of stream.
fn read_full(reader: &mut dyn Read, buf: &mut [u8], path: &Path, gz: bool) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(stream_error(path, e, gz)),
        }
    }
    Ok(n)
}

/// An error from the byte stream: from the gzip decoder (a corrupt stream) when `gz`, else the
/// file's own read error.
fn stream_error(path: &Path, e: io::Error, gz: bool) -> Error {
    if gz {
        Error::Gzip {
            path: path.to_path_buf(),
            source: e,
        }
    } else {
        Error::io(path, "read", e)
    }
}

/// Decodes an IDX stream: the header, checked and bounded, then exactly the data it declares.
fn decode(reader: &mut dyn Read, path: &Path, stored: Stored) -> Result<IdxArray> {
    let gz = matches!(stored, Stored::Gzip { .. });
    let mut magic = [0u8; 4];
    let got = read_full(reader, &mut magic, path, gz)?;
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
    let got = read_full(reader, &mut dim_bytes, path, gz)?;
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

    // Bound what the header declares before reading (or reserving) anything for it.
    let item_values = dims
        .get(1..)
        .unwrap_or(&[])
        .iter()
        .fold(1u64, |acc, &d| acc.saturating_mul(d as u64));
    if item_values > MAX_ITEM_VALUES {
        return Err(Error::ItemTooLarge {
            path: path.to_path_buf(),
            dims,
            values: item_values,
        });
    }
    let expected = dims
        .iter()
        .try_fold(dtype.size() as u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| Error::TooLarge {
            path: path.to_path_buf(),
            dims: dims.clone(),
        })?;
    if expected > MAX_DATA_BYTES {
        return Err(Error::DataTooLarge {
            path: path.to_path_buf(),
            dims,
            dtype,
            bytes: expected,
        });
    }
    let length_error = |found: u64| Error::Length {
        path: path.to_path_buf(),
        dims: dims.clone(),
        dtype,
        expected,
        found,
    };
    // At most what the file could hold; the real data can only make the buffer grow as it
    // arrives, so a lying header costs no memory.
    let could_hold = match stored {
        Stored::Raw { len } => {
            // The length on disk answers at once.
            let found = len.saturating_sub(header);
            if found != expected {
                return Err(length_error(found));
            }
            found
        }
        Stored::Gzip { len } => len.saturating_mul(MAX_DEFLATE_RATIO),
    };
    // Both bounds are at most MAX_DATA_BYTES, which fits in usize.
    let capacity = usize::try_from(expected.min(could_hold)).unwrap_or(0);
    let mut data = Vec::with_capacity(capacity);
    reader
        .take(expected)
        .read_to_end(&mut data)
        .map_err(|e| stream_error(path, e, gz))?;
    if (data.len() as u64) < expected {
        return Err(length_error(data.len() as u64));
    }
    // The stream must end here (for gzip, reading to the end also checks the CRC). Anything
    // after is an error: counted for the message, up to a bound.
    let extra = io::copy(&mut reader.take(TRAILING_SCAN_BYTES + 1), &mut io::sink())
        .map_err(|e| stream_error(path, e, gz))?;
    if extra > TRAILING_SCAN_BYTES {
        return Err(Error::TooLong {
            path: path.to_path_buf(),
            dims,
            dtype,
            expected,
            read: expected + TRAILING_SCAN_BYTES,
        });
    }
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
/// downloads: the name every minidl writer uses (`tensor::atomic::temp_path`), so that
/// [`remove_stale_temps`] finds what a killed download left.
#[cfg_attr(not(feature = "download"), allow(dead_code))]
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    tensor::atomic::temp_path(path)
}

/// Removes the temporary files a killed writer or download left beside `path` (processes
/// still running keep theirs): `tensor::atomic::remove_stale_temps`.
pub(crate) fn remove_stale_temps(path: &Path) {
    tensor::atomic::remove_stale_temps(path);
}

/// Writes `bytes` to `path` through a temporary file and a rename, with the writer every
/// minidl crate shares (`tensor::atomic::write`); on failure the temporary file is removed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    remove_stale_temps(path);
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
        assert!(
            matches!(
                e,
                Error::Length {
                    expected: 6,
                    found: 7,
                    ..
                }
            ),
            "{e}"
        );
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
}
