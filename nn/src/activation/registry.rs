//! The table of every registered activation, [`REGISTRY`], and the look-ups on it.

use super::entry::Entry;
use super::*;

/// Every activation, in the order `--help` lists them: PyTorch's, then the others.
pub const REGISTRY: &[Entry] = &[
    relu::ENTRY,
    relu6::ENTRY,
    leaky_relu::ENTRY,
    prelu::ENTRY,
    rrelu::ENTRY,
    elu::ENTRY,
    selu::ENTRY,
    celu::ENTRY,
    gelu::ENTRY,
    swish::ENTRY,
    mish::ENTRY,
    sigmoid::ENTRY,
    tanh::ENTRY,
    softplus::ENTRY,
    softsign::ENTRY,
    hardtanh::ENTRY,
    hardsigmoid::ENTRY,
    hardswish::ENTRY,
    logsigmoid::ENTRY,
    tanhshrink::ENTRY,
    softshrink::ENTRY,
    hardshrink::ENTRY,
    threshold::ENTRY,
    softmax::ENTRY,
    log_softmax::ENTRY,
    softmin::ENTRY,
    glu::ENTRY,
    squared_relu::ENTRY,
    squareplus::ENTRY,
    snake::ENTRY,
    swiglu::ENTRY,
    geglu::ENTRY,
];

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
