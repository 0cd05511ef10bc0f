//! The table of every registered activation, [`REGISTRY`], and the look-ups on it.

use super::entry::Entry;

/// `REGISTRY` from [`for_each_activation`](super::for_each_activation)'s list.
macro_rules! table {
    ($($file:ident [$($ty:ident),*] $($kind:ident $f:ident ($($a:ident: $t:ty),*) = $rule:expr),*;)*) => {
        /// Every activation, in the order `--help` lists them: PyTorch's, then the others.
        pub const REGISTRY: &[Entry] = &[$(super::$file::ENTRY),*];
    };
}
super::for_each_activation!(table);

/// Every registered activation, in table order.
pub fn all() -> &'static [Entry] {
    REGISTRY
}

/// The entry registered under `name` or one of its aliases (exact, lower-case match).
pub fn find(name: &str) -> Option<&'static Entry> {
    REGISTRY
        .iter()
        .find(|e| e.name == name || e.aliases.contains(&name))
}

/// Every registered name, then every alias, in table order.
pub fn names() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = REGISTRY.iter().map(|e| e.name).collect();
    out.extend(REGISTRY.iter().flat_map(|e| e.aliases.iter().copied()));
    out
}
