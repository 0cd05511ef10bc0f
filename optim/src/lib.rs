//! `optim` — optimizers for minidl (being built).
