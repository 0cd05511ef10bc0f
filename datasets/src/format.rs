//! What the files on disk look like, shared by the readers (`idx.rs`, `mnist.rs`) and the
//! errors that describe them (`error.rs`): the IDX element types, the sizes an IDX header may
//! declare, and the names of an MNIST-format data set's four files. It uses no other module of
//! the crate, so the readers and the errors both build on it.

use std::fmt;

/// The four file names of an MNIST-format data set (MNIST and Fashion-MNIST share them), without
/// `.gz`: train images, train labels, test images, test labels.
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

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
