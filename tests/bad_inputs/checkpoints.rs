//! Bad checkpoints given to `--resume`: non-regular files, oversized headers, invalid values.
