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

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use tensor::{shape_panic, Tensor};

use crate::error::{Error, Result};
use crate::format::{IdxType, MAX_DATA_BYTES, MAX_ITEM_VALUES};

/// The largest ratio deflate can reach (uncompressed : compressed) is about 1032 : 1, so a gzip
/// file of `n` bytes never inflates to more than this many times `n`. Used only to bound how
/// much memory is reserved up front.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// After the declared data, a gzip stream should end; if it does not, at most this many more
/// bytes are inflated to count them for the message, then the reader gives up.
const TRAILING_SCAN_BYTES: u64 = 1 << 20;

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
mod tests;
