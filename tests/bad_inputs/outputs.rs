//! Output paths (`--save`, `--metrics`, `--report`) and the standard streams: nothing is lost.
