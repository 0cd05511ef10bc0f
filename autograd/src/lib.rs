//! `autograd` — reverse-mode automatic differentiation for minidl (being built).
