//! The progress bar drawn on stderr while an epoch trains.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::table::fmt_pct;

/// A progress bar for one epoch, drawn on stderr: position, elapsed/remaining time, running
/// loss, accuracy and throughput. Hidden when `quiet` is set or stderr is not a terminal (a
/// log file then gets only the epoch lines).
#[derive(Debug)]
pub struct EpochBar {
    bar: ProgressBar,
}

impl EpochBar {
    /// A bar for `total_batches` batches, labelled `label` (e.g. `"relu 3/10"`).
    pub fn new(total_batches: u64, label: &str, quiet: bool) -> Self {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let style = ProgressStyle::with_template(
            "{prefix:.bold} {bar:30.cyan/blue} {pos:>5}/{len} [{elapsed}<{eta}] {msg}",
        )
        .expect("the bar template is valid")
        .progress_chars("━╸─");
        let bar = ProgressBar::with_draw_target(Some(total_batches), target)
            .with_style(style)
            .with_prefix(label.to_string());
        EpochBar { bar }
    }

    /// Advances by one batch and shows the running mean loss, running accuracy (a fraction
    /// in [0, 1]) and samples per second.
    pub fn update(&self, loss: f32, accuracy: f32, samples_per_sec: f64) {
        self.bar.set_message(format!(
            "loss {loss:.4}  acc {}  {samples_per_sec:.0} samples/s",
            fmt_pct(accuracy, 1)
        ));
        self.bar.inc(1);
    }

    /// Batches done so far.
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    /// Whether the bar is not drawn (quiet, or stderr is not a terminal).
    pub fn is_hidden(&self) -> bool {
        self.bar.is_hidden()
    }

    /// Removes the bar from the terminal, making room for the epoch's summary line.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_bar_counts_batches_and_hides_when_quiet() {
        let bar = EpochBar::new(3, "relu 1/2", true);
        assert!(bar.is_hidden());
        bar.update(0.5, 0.9, 1000.0);
        bar.update(0.4, 0.92, 1100.0);
        assert_eq!(bar.position(), 2);
        assert_eq!(bar.bar.message(), "loss 0.4000  acc 92.0%  1100 samples/s");
        bar.finish();
    }
}
