//! `nn` — modules, layers, activations and losses for minidl (being built).

pub mod dropout;
pub mod init;
pub mod module;
pub mod sequential;
pub mod state;

pub use dropout::Dropout;
pub use module::{format_float, join_name, named_modules, Module};
pub use sequential::Sequential;
