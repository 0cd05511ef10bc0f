//! Bad data: IDX files and data folders (corrupt, oversized, mismatched, empty, missing).
