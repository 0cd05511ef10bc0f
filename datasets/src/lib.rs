//! `datasets` — IDX files, MNIST, synthetic digits and a DataLoader for minidl (being built).
