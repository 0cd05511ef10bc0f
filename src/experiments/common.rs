//! What the experiments `dead_relu`, `vanishing_gradients` and `convergence` (and the `bench`
//! example) share: their `main` ([`run_main`]), the experiments' start (checked activation
//! specs, the data set), the report, means and spreads, and number formatting.

use std::io::Write;
use std::process::ExitCode;

use crate::cli::{split_specs, DataArgs, LabArgs};
pub use crate::lab::once_each;
use crate::lab::{load_data, parse_activation, Data, LabError, RunConfig};
use crate::metrics::RunHistory;
use crate::report::Note;
use crate::stats::{Comparison, Verdict, TEST_NAME};

/// The text an experiment prints (its tables and conclusions), kept as well so that its
/// report's `index.html` can show the same text ([`Note`]s).
pub struct Printed<'a> {
    out: &'a mut dyn Write,
    notes: Vec<Note>,
}

impl<'a> Printed<'a> {
    /// Prints to `out`.
    pub fn new(out: &'a mut dyn Write) -> Printed<'a> {
        Printed {
            out,
            notes: Vec::new(),
        }
    }

    /// The output, for what is printed but not kept (progress lines, the data set).
    pub fn out(&mut self) -> &mut dyn Write {
        &mut *self.out
    }

    /// Prints `text` (a table, a conclusion) and a line break, and keeps it under `title`.
    ///
    /// # Errors
    /// [`LabError::Output`] if `out` fails.
    pub fn block(&mut self, title: &str, text: &str) -> Result<(), LabError> {
        writeln!(self.out, "{text}")?;
        self.notes
            .push(Note::new(title, text.trim_start_matches('\n')));
        Ok(())
    }

    /// The blocks kept since the last call, in order (they are kept no longer).
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }
}

/// The line that says how the verdicts of a conclusion were reached: the test and the number
/// of seeds (`verdicts: Welch's t-test, two-sided, p < 0.05, over 3 seeds`), or that one seed
/// gives none.
pub fn verdict_basis(seeds: usize) -> String {
    if seeds < 2 {
        format!("verdicts: none, one seed gives no spread ({TEST_NAME} needs 2 or more)")
    } else {
        format!("verdicts: {TEST_NAME}, over {seeds} seeds")
    }
}

/// The p-value of a comparison, for a conclusion: `p = 0.012`, `p < 0.001`, or `no test`.
pub fn p_value(c: &Comparison) -> String {
    if c.verdict == Verdict::NeedSeeds || c.p.is_nan() {
        "no test".to_string()
    } else if c.p < 0.001 {
        "p < 0.001".to_string()
    } else {
        format!("p = {:.3}", c.p)
    }
}

/// Whether a comparison found the difference larger than the seeds' spread, in words with its
/// p-value: `larger than the seeds' spread (p = 0.004)`, `within the seeds' spread (p = 0.41)`,
/// `one seed, so no spread to compare with`.
pub fn spread_verdict(c: &Comparison) -> String {
    match c.verdict {
        Verdict::Higher | Verdict::Lower => {
            format!("larger than the seeds' spread ({})", p_value(c))
        }
        Verdict::WithinSpread => format!("within the seeds' spread ({})", p_value(c)),
        Verdict::NeedSeeds => "one seed, so no spread to compare with".to_string(),
    }
}

/// A percentage with its spread over seeds in points: `95.1% ± 0.3` (the mean alone for one
/// value).
pub fn pct_spread(values: &[f32]) -> String {
    let s = crate::stats::Summary::of(values);
    if s.n < 2 {
        pct(s.mean as f32)
    } else {
        format!("{} ± {:.1}", pct(s.mean as f32), s.std * 100.0)
    }
}
use clap::Parser;

/// The flags every phenomenon example has besides its own: the data set, `--report` and
/// `--quiet`.
#[derive(clap::Args, Clone, Debug)]
pub struct CommonArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Write the charts and an index.html into this folder.
    #[arg(long, value_name = "DIR")]
    pub report: Option<std::path::PathBuf>,
    /// Print nothing while training (no progress bars, no line per run).
    #[arg(long, short)]
    pub quiet: bool,
}

/// An example's `main`: [`lab::main_with`](crate::lab::main_with) on `std::env::args`: parses
/// its flags `A` (a clap error or a closed standard output: one line, status 2), runs `run`
/// with standard output, and turns a [`LabError`] into `error: …` on stderr and its exit
/// status ([`LabError::exit`]).
pub fn run_main<A: Parser>(
    run: impl FnOnce(&A, &mut dyn Write) -> Result<(), LabError>,
) -> ExitCode {
    crate::lab::main_with(std::env::args_os(), run)
}

/// The start every phenomenon example shares: the specs of `--activations`, each checked so
/// that a typo fails before any training, then the data set, announced on `out`.
///
/// # Errors
/// A [`LabError`] for a bad activation spec or missing or corrupt data.
pub fn specs_and_data(
    activations: &str,
    data_args: &DataArgs,
    out: &mut dyn Write,
) -> Result<(Vec<String>, Data), LabError> {
    let specs = split_specs(activations);
    if specs.is_empty() {
        return Err(LabError::Usage(
            "--activations: no activation given: list one or more, e.g. --activations relu,mish"
                .into(),
        ));
    }
    for spec in &specs {
        parse_activation(spec, "--activations")?;
    }
    once_each("--activations", &specs)?;
    let data = load_data(data_args, out)?;
    writeln!(
        out,
        "data: {}: {} training, {} test images",
        data.description,
        data.train.len(),
        data.test.len()
    )?;
    Ok((specs, data))
}

/// Writes the charts of `histories` and an `index.html` showing `settings` and `notes` (what
/// the program printed: its tables and conclusions) into `dir`, and says where on `out`.
///
/// # Errors
/// [`LabError::Report`] if the report cannot be written; [`LabError::Output`] if `out` fails.
pub fn report(
    dir: &std::path::Path,
    histories: &[RunHistory],
    settings: &[(String, String)],
    notes: &[Note],
    out: &mut dyn Write,
) -> Result<(), LabError> {
    let written = crate::report::write_report_with(dir, histories, settings, notes)?;
    let index = written
        .last()
        .expect("the report's last file is index.html");
    writeln!(out, "report: {}", index.display())?;
    Ok(())
}

/// The settings the `mnist` example takes from `flags` (`"--hidden 256,256 --optimizer sgd"`):
/// a run made with them is the run `mnist <flags> --activation A` makes.
///
/// # Errors
/// As [`RunConfig::from_args`]; [`LabError::Usage`] with clap's message if `flags` is not a
/// valid `mnist` command line (the examples check their flags' values when they parse them, so
/// that this does not happen, but a value that slips through is still a one-line error).
pub fn mnist_config(flags: &str) -> Result<RunConfig, LabError> {
    let argv = std::iter::once("mnist").chain(flags.split_whitespace());
    let args = LabArgs::try_parse_from(argv).map_err(|e| {
        let line = crate::cli::one_line(&e);
        LabError::Usage(line.strip_prefix("error: ").unwrap_or(&line).to_string())
    })?;
    RunConfig::from_args(&args)
}

/// A fraction as a percentage with one decimal: `0.0443` → `"4.4%"`.
pub fn pct(v: f32) -> String {
    format!("{:.1}%", v * 100.0)
}

/// A positive number readably: 3 significant digits between 0.01 and 1000 (`0.282`, `3.78`),
/// scientific notation outside (`1.7e-7`).
pub fn num(v: f32) -> String {
    if (0.01..1000.0).contains(&v.abs()) {
        let decimals = (2 - v.abs().log10().floor() as i32).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        format!("{v:.1e}")
    }
}

/// The mean and the sample standard deviation (0 for a single value or none), as `f32`:
/// [`stats::Summary`](crate::stats::Summary), the one computation of both, which works in `f64`.
pub fn mean_std(v: &[f32]) -> (f32, f32) {
    let s = crate::stats::Summary::of(v);
    (s.mean as f32, if v.len() < 2 { 0.0 } else { s.std as f32 })
}

/// `a, b and c`.
pub fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
