//! What the examples share: the experiments' helpers (`main`, flags, data, number formatting),
//! which live in the library as [`minidl::experiments::common`].
#![allow(unused_imports)]

pub use minidl::experiments::common::*;
