//! What a training run shows a person: a progress bar per epoch, one summary line and a
//! per-layer table after each epoch, a comparison table across activations, and an HTML
//! report with SVG charts (`--report DIR` in the examples).
//!
//! [`write_report`] draws from a slice of [`RunHistory`] (one per activation) and writes, into
//! a folder it creates:
//!
//! | file | content |
//! | --- | --- |
//! | `loss.svg` | training loss per step (log scale): faint raw values, a solid moving average |
//! | `accuracy.svg` | test accuracy per epoch |
//! | `grad_norm.svg` | gradient norm per parameter over epochs (log scale), one panel per parameter |
//! | `dead_units.svg` | dead-unit fraction per activation layer over epochs, one panel per layer |
//! | `index.html` | the settings, the final metrics of each run, the four charts, final layer tables |
//!
//! Each activation keeps one colour in every chart. Every file is written atomically
//! ([`write_atomic`]), the charts first, so `index.html` never refers to a missing chart.
//!
//! The module's files, each using only those listed before it:
//!
//! | file | holds |
//! | --- | --- |
//! | `table.rs` | what terminal and HTML tables share: cell formats, the per-layer rows, a run's best epoch |
//! | `terminal.rs` | [`format_epoch_line`], [`format_layer_table`], [`format_comparison_table`] |
//! | `progress.rs` | [`EpochBar`] |
//! | `charts.rs` | the four SVG charts (plotters) and [`CHART_FILES`] |
//! | `html.rs` | `index.html`: its tables, escaping and stylesheet |
//! | `mod.rs` | [`write_report`], [`ReportError`], the file names |

use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};

pub use crate::fs::write_atomic;
use crate::fs::{create_dir_all, WriteError};
use crate::metrics::RunHistory;

pub(crate) mod charts;
#[cfg(test)]
mod demo;
pub(crate) mod html;
mod progress;
mod table;
mod terminal;

pub use charts::CHART_FILES;
pub use progress::EpochBar;
pub use terminal::{format_comparison_table, format_epoch_line, format_layer_table, text_table};

use charts::Chart;
use html::index_html;

// ---------------------------------------------------------------------------------------------
// Errors

/// Writing a report failed: a file could not be written, or a chart could not be drawn.
#[derive(Debug)]
pub enum ReportError {
    /// The folder or one of its files could not be written; the message says which and why.
    Write(WriteError),
    /// A chart could not be drawn.
    Chart {
        /// The chart's file name, e.g. `"loss.svg"`.
        file: &'static str,
        /// What the plotting library reported.
        message: String,
    },
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Write(e) => write!(f, "report: {e}"),
            ReportError::Chart { file, message } => write!(
                f,
                "report: cannot draw {file}: {message}; the metrics file is unaffected, \
                 rerun without --report to skip the charts"
            ),
        }
    }
}

impl Error for ReportError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ReportError::Write(e) => Some(e),
            ReportError::Chart { .. } => None,
        }
    }
}

impl From<WriteError> for ReportError {
    fn from(e: WriteError) -> Self {
        ReportError::Write(e)
    }
}

// ---------------------------------------------------------------------------------------------
// The report folder

/// The page that shows the charts, written last.
pub const INDEX_FILE: &str = "index.html";

/// Every file [`write_report`] writes, in order: the [`CHART_FILES`], then [`INDEX_FILE`]. A
/// program checks these paths before a run, so another output never shares one.
pub const REPORT_FILES: [&str; 5] = [
    CHART_FILES[0],
    CHART_FILES[1],
    CHART_FILES[2],
    CHART_FILES[3],
    INDEX_FILE,
];

/// Writes the charts and `index.html` for `runs` into `dir` (created with its parents if
/// missing) and returns the paths written: the four [`CHART_FILES`], then `index.html`.
///
/// `settings` are the run's settings as `(name, value)` pairs (e.g. `("epochs", "5")`), shown
/// in a table at the top of the page. Runs without epochs, a single epoch, NaN losses and
/// empty histories are drawn as far as they go; a chart with nothing to draw says so.
///
/// # Errors
/// [`ReportError::Write`] when the folder cannot be created or a file cannot be written (for
/// example when a part of `dir` is a regular file or not writable); the message names the path
/// and how to fix it. [`ReportError::Chart`] if the plotting library fails.
pub fn write_report(
    dir: impl AsRef<Path>,
    runs: &[RunHistory],
    settings: &[(String, String)],
) -> Result<Vec<PathBuf>, ReportError> {
    write_report_with(dir, runs, settings, &[])
}

/// A block of preformatted text that `index.html` shows under its own heading, after the
/// results table: what a program printed — its tables and its conclusions — so that the page
/// says what the terminal said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The heading (`"Conclusions"`).
    pub title: String,
    /// The text, shown as it is (monospaced, line breaks kept, markup escaped).
    pub text: String,
}

impl Note {
    /// A note titled `title` holding `text`.
    pub fn new(title: impl Into<String>, text: impl Into<String>) -> Note {
        Note {
            title: title.into(),
            text: text.into(),
        }
    }
}

/// [`write_report`], with `notes` shown on the page after the results table, in order.
///
/// # Errors
/// As [`write_report`].
pub fn write_report_with(
    dir: impl AsRef<Path>,
    runs: &[RunHistory],
    settings: &[(String, String)],
    notes: &[Note],
) -> Result<Vec<PathBuf>, ReportError> {
    let dir = dir.as_ref();
    create_dir_all(dir)?;
    let mut written = Vec::with_capacity(5);
    for chart in Chart::ALL {
        let file = chart.file();
        let svg = chart.render(runs).map_err(|e| ReportError::Chart {
            file,
            message: e.to_string(),
        })?;
        let path = dir.join(file);
        write_atomic(&path, svg.as_bytes())?;
        written.push(path);
    }
    let path = dir.join(INDEX_FILE);
    write_atomic(&path, index_html(runs, settings, notes).as_bytes())?;
    written.push(path);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::charts::PALETTE;
    use super::demo::{demo_runs, demo_seed_runs};
    use super::*;
    use crate::fs::tests::TempDir;

    fn settings() -> Vec<(String, String)> {
        vec![
            ("epochs".into(), "3".into()),
            ("optimizer".into(), "adam <lr=1e-3>".into()),
        ]
    }

    #[test]
    fn writes_all_five_files_into_a_new_nested_folder() {
        let t = TempDir::new("report-all");
        let dir = t.0.join("a/b/report");
        let runs = demo_runs(3, 50);
        let paths = write_report(&dir, &runs, &settings()).unwrap();
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "loss.svg",
                "accuracy.svg",
                "grad_norm.svg",
                "dead_units.svg",
                "index.html"
            ]
        );
        for p in &paths {
            assert_eq!(p.parent().unwrap(), dir);
        }
        for p in &paths[..4] {
            let svg = std::fs::read_to_string(p).unwrap();
            assert!(svg.starts_with("<svg"), "{}", p.display());
            assert!(svg.trim_end().ends_with("</svg>"), "{}", p.display());
            for act in ["relu", "sigmoid", "swish"] {
                assert!(svg.contains(act), "{} lacks {act}", p.display());
            }
        }
        let grad = std::fs::read_to_string(&paths[2]).unwrap();
        for layer in ["0.weight", "2.weight", "4.weight"] {
            assert!(grad.contains(layer), "grad_norm.svg lacks {layer}");
        }
        assert!(
            !grad.contains(">1<"),
            "activation layers have no gradient panel"
        );
        let dead = std::fs::read_to_string(&paths[3]).unwrap();
        assert!(!dead.contains("0.weight"));

        let html = std::fs::read_to_string(&paths[4]).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        for f in CHART_FILES {
            assert!(
                html.contains(&format!("<img src=\"{f}\"")),
                "index lacks {f}"
            );
        }
        assert!(html.contains("<td>optimizer</td><td>adam &lt;lr=1e-3&gt;</td>"));
        assert!(html.contains("<th>learned parameters</th>"));
        assert!(html.contains("<tr><td>relu</td><td></td><td class=\"num\">3</td>"));
        assert!(html.contains("<title>minidl report: relu vs sigmoid vs swish</title>"));
        assert!(html.contains("1.beta = 1.3000"));
        // Every file is complete: no temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 5);
        // Writing again over an existing report works.
        write_report(&dir, &runs[..1], &[]).unwrap();
        assert!(std::fs::read_to_string(&paths[4])
            .unwrap()
            .contains("No settings recorded."));
    }

    #[test]
    fn single_epoch_nan_and_empty_histories_are_drawn() {
        let t = TempDir::new("report-edge");
        let mut runs = demo_runs(1, 1);
        runs[1].step_losses[0].1 = f32::NAN;
        runs[1].epochs[0].test_accuracy = f32::NAN;
        runs[1].epochs[0].layers[0].grad_norm = Some(0.0);
        runs.push(RunHistory::new("tanh"));
        let paths = write_report(t.0.join("r"), &runs, &settings()).unwrap();
        let acc = std::fs::read_to_string(&paths[1]).unwrap();
        // One epoch: points, not an empty line.
        assert!(acc.contains("<circle"), "single epoch drawn as markers");
        let grad = std::fs::read_to_string(&paths[2]).unwrap();
        assert!(grad.contains("0 at bottom"));

        // No runs at all, and runs read back from a metrics file (no step losses).
        let p = write_report(t.0.join("empty"), &[], &[]).unwrap();
        let loss = std::fs::read_to_string(&p[0]).unwrap();
        assert!(loss.contains("no step losses recorded"));
        let dead = std::fs::read_to_string(&p[3]).unwrap();
        assert!(dead.contains("no dead-unit fractions recorded"));
        assert!(std::fs::read_to_string(&p[4])
            .unwrap()
            .contains("No runs recorded."));
        let mut from_file = demo_runs(2, 3);
        for r in &mut from_file {
            r.step_losses.clear();
        }
        let p = write_report(t.0.join("file"), &from_file, &[]).unwrap();
        let loss = std::fs::read_to_string(&p[0]).unwrap();
        assert!(loss.contains("relu (epoch means)"));
    }

    #[test]
    fn several_seeds_draw_one_mean_line_per_activation_in_a_band() {
        let t = TempDir::new("report-seeds");
        let paths = write_report(t.0.join("r"), &demo_seed_runs(3, 2, 40), &settings()).unwrap();
        let svg: Vec<String> = paths[..4]
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        // a band per activation: in the loss and accuracy charts, and in every panel (three
        // weights with gradient norms, two activation layers with dead units)
        let bands: Vec<usize> = svg.iter().map(|s| s.matches("<polygon").count()).collect();
        assert_eq!(bands, [3, 3, 9, 6]);
        for s in &svg {
            assert!(
                s.contains("mean of 3 seeds, band = their range"),
                "title: {s}"
            );
            for (act, color) in ["relu", "sigmoid", "swish"].iter().zip(PALETTE) {
                // once in the legend, not once per seed; its band in its colour
                assert_eq!(s.lines().filter(|l| l == act).count(), 1, "{act}");
                let fill = format!(
                    "opacity=\"0.2\" fill=\"#{:02X}{:02X}{:02X}\"",
                    color.0, color.1, color.2
                );
                assert!(s.contains(&fill), "no {fill}");
            }
        }
        let html = std::fs::read_to_string(&paths[4]).unwrap();
        assert!(html.contains("<th>verdict</th>"), "{html}");
        assert!(html.contains("<td class=\"num\">baseline</td>"), "{html}");
        assert!(html.contains("mean ± sample std over 3 seeds (0,1,2); verdict:"));
        assert!(html.contains("the shaded band (a bar at a single epoch) is their range"));
        assert!(html.contains("<title>minidl report: relu vs sigmoid vs swish</title>"));
        assert!(html.contains("(epoch 2, seed 1)"), "{html}");

        // one seed: no band, as before; one epoch of several seeds: a bar, not a polygon
        let one = write_report(t.0.join("one"), &demo_runs(2, 40), &settings()).unwrap();
        for p in &one[..4] {
            let s = std::fs::read_to_string(p).unwrap();
            assert!(
                !s.contains("<polygon") && !s.contains("seeds"),
                "{}",
                p.display()
            );
        }
        let bar = write_report(t.0.join("bar"), &demo_seed_runs(2, 1, 40), &[]).unwrap();
        let acc = std::fs::read_to_string(&bar[1]).unwrap();
        assert!(!acc.contains("<polygon"));
        // a bar per activation: the whisker and its two caps
        assert_eq!(acc.matches("<line opacity=\"0.6\"").count(), 3 * 3, "{acc}");
    }

    #[test]
    fn notes_are_shown_escaped_after_the_results() {
        let dir = TempDir::new("report_notes");
        let notes = [Note::new("Conclusions", "relu < mish\nsee <this>\n")];
        write_report_with(&dir.0, &demo_runs(2, 20), &settings(), &notes).unwrap();
        let html = std::fs::read_to_string(dir.0.join(INDEX_FILE)).unwrap();
        let at = html.find("<h2>Conclusions</h2>\n<pre>relu &lt; mish\nsee &lt;this&gt;</pre>");
        let (results, charts) = (html.find("<h2>Results</h2>"), html.find("<h2>Charts</h2>"));
        assert!(at.is_some(), "{html}");
        assert!(
            results < at && at < charts,
            "order: {results:?} {at:?} {charts:?}"
        );
    }

    #[test]
    fn unwritable_target_is_an_error_not_a_panic() {
        let t = TempDir::new("report-unwritable");
        let file = t.0.join("plain");
        std::fs::write(&file, b"x").unwrap();
        let runs = demo_runs(1, 2);
        let err = write_report(file.join("report"), &runs, &[]).unwrap_err();
        assert!(matches!(err, ReportError::Write(_)));
        let msg = err.to_string();
        assert!(msg.starts_with("report: cannot write "), "{msg}");
        assert!(msg.contains("plain/report"), "{msg}");
        assert!(msg.contains("is a file, not a folder"), "{msg}");
        let err = write_report(&file, &runs, &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("create folder failed: it is a regular file, not a folder"),
            "{err}"
        );
        assert_eq!(std::fs::read(&file).unwrap(), b"x");
    }
}
