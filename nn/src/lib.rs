//! `nn` — modules, layers, activations and losses for minidl (being built).

pub mod module;
pub mod sequential;

pub use module::{join_name, named_modules, Module};
pub use sequential::Sequential;
