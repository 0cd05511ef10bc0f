//! `nn` — modules, layers, activations and losses for minidl (being built).
