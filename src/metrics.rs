//! Training metrics: per-epoch records, a run's history, and the JSON Lines file they are
//! saved to (`--metrics FILE` in the examples).
//!
//! # The JSON Lines schema
//!
//! One line per epoch per activation and seed; each line is one complete JSON object
//! ([`EpochMetrics`]). When several activations (or seeds) are trained, their lines follow in
//! the order the epochs finished. Keys appear in this order:
//!
//! | key | type | meaning |
//! | --- | --- | --- |
//! | `activation` | string | the activation as given on the command line, e.g. `"leaky_relu:0.1"` |
//! | `seed` | integer | the seed of the run's initial weights and data order (`--seed`, or one of `--seeds`) |
//! | `epoch` | integer | epoch number, counted from 1 |
//! | `steps` | integer | optimizer steps taken since the start of the run, at the end of this epoch |
//! | `train_loss` | number | mean training loss over the epoch's batches |
//! | `test_loss` | number | mean loss on the test set after the epoch |
//! | `test_accuracy` | number | fraction of test samples classified correctly, in [0, 1] |
//! | `seconds` | number | wall-clock seconds the epoch's training took |
//! | `samples_per_sec` | number | training samples processed per second during the epoch |
//! | `params` | object | learnable activation parameters after the epoch, name → value, e.g. `{"1.beta": 1.37}`; `{}` when there are none |
//! | `layers` | array | one object per diagnosed layer, in model order (below) |
//!
//! Each element of `layers` ([`LayerStats`]):
//!
//! | key | type | meaning |
//! | --- | --- | --- |
//! | `name` | string | the layer or parameter name, e.g. `"1"` (an activation) or `"0.weight"` |
//! | `dead_fraction` | number or null | fraction of units whose output was zero for every sample of the epoch |
//! | `saturated_fraction` | number or null | fraction of units that were saturated: \|f′(x)\| below a small threshold |
//! | `mean` | number or null | mean of the layer's output over the epoch |
//! | `std` | number or null | standard deviation of the layer's output over the epoch |
//! | `grad_norm` | number or null | L2 norm ‖∂loss/∂w‖₂ of the parameter's gradient, mean over the epoch's steps |
//!
//! `null` marks a field that does not apply to that entry (activation statistics of a weight,
//! the gradient norm of an activation without parameters). JSON has no NaN or infinity, so a
//! diverged value (a NaN loss) is also written as `null`; the top-level numbers read back as
//! NaN. Use the same layer names for every activation so runs line up in the report's charts.
//!
//! [`EPOCH_KEYS`] and [`LAYER_KEYS`] list the keys in this order. A line for a made-up record
//! (wrapped here; the values are invented, the unit tests write exactly this line):
//!
//! ```json
//! {"activation":"relu","seed":0,"epoch":1,"steps":938,"train_loss":0.5,"test_loss":0.25,
//!  "test_accuracy":0.9375,"seconds":4.5,"samples_per_sec":13333.0,"params":{},
//!  "layers":[{"name":"0.weight","dead_fraction":null,"saturated_fraction":null,"mean":null,
//!  "std":null,"grad_norm":0.125},{"name":"1","dead_fraction":0.0625,"saturated_fraction":0.5,
//!  "mean":0.75,"std":1.5,"grad_norm":null},{"name":"2.weight","dead_fraction":null,
//!  "saturated_fraction":null,"mean":null,"std":null,"grad_norm":0.03125}]}
//! ```
//!
//! [`MetricsWriter`] rewrites the whole file atomically after every record, so the file on disk
//! is always complete, even if training is interrupted. [`read_jsonl`] reads it back.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::fs::{write_atomic, WriteError};

/// The keys of a metrics line ([`EpochMetrics`]), in the order they are written.
pub const EPOCH_KEYS: [&str; 11] = [
    "activation",
    "seed",
    "epoch",
    "steps",
    "train_loss",
    "test_loss",
    "test_accuracy",
    "seconds",
    "samples_per_sec",
    "params",
    "layers",
];

/// The keys of each element of a line's `layers` ([`LayerStats`]), in the order they are
/// written.
pub const LAYER_KEYS: [&str; 6] = [
    "name",
    "dead_fraction",
    "saturated_fraction",
    "mean",
    "std",
    "grad_norm",
];

/// Diagnostics of one layer (or one parameter) over one epoch. `None` means "does not apply".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerStats {
    /// Layer or parameter name, e.g. `"1"` or `"0.weight"`.
    pub name: String,
    /// Fraction of units whose output was zero for every sample, in [0, 1].
    pub dead_fraction: Option<f32>,
    /// Fraction of saturated units (|f′(x)| below a small threshold), in [0, 1].
    pub saturated_fraction: Option<f32>,
    /// Mean of the layer's output.
    pub mean: Option<f32>,
    /// Standard deviation of the layer's output.
    pub std: Option<f32>,
    /// L2 norm of the parameter's gradient, mean over the epoch's steps.
    pub grad_norm: Option<f32>,
}

impl LayerStats {
    /// Statistics of an activation layer: dead and saturated fractions, output mean and std.
    pub fn activation(
        name: impl Into<String>,
        dead: f32,
        saturated: f32,
        mean: f32,
        std: f32,
    ) -> Self {
        LayerStats {
            name: name.into(),
            dead_fraction: Some(dead),
            saturated_fraction: Some(saturated),
            mean: Some(mean),
            std: Some(std),
            grad_norm: None,
        }
    }

    /// Statistics of a parameter: only its gradient norm.
    pub fn parameter(name: impl Into<String>, grad_norm: f32) -> Self {
        LayerStats {
            name: name.into(),
            grad_norm: Some(grad_norm),
            ..LayerStats::default()
        }
    }
}

/// One epoch of one run: one line of the metrics file. See the [module docs](self) for the
/// meaning of each field.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// The activation as given on the command line, e.g. `"mish"` or `"leaky_relu:0.1"`.
    pub activation: String,
    /// The seed of the run's initial weights and data order (0 when a file without it is
    /// read).
    #[serde(default)]
    pub seed: u64,
    /// Epoch number, counted from 1.
    pub epoch: usize,
    /// Optimizer steps since the start of the run, at the end of this epoch.
    #[serde(default)]
    pub steps: usize,
    /// Mean training loss over the epoch.
    #[serde(deserialize_with = "f32_or_nan")]
    pub train_loss: f32,
    /// Mean test loss after the epoch.
    #[serde(deserialize_with = "f32_or_nan")]
    pub test_loss: f32,
    /// Test accuracy as a fraction in [0, 1].
    #[serde(deserialize_with = "f32_or_nan")]
    pub test_accuracy: f32,
    /// Wall-clock seconds of the epoch's training.
    #[serde(deserialize_with = "f64_or_nan")]
    pub seconds: f64,
    /// Training throughput during the epoch.
    #[serde(deserialize_with = "f64_or_nan")]
    pub samples_per_sec: f64,
    /// Learnable activation parameters after the epoch (e.g. a Swish β), name → value.
    #[serde(default, deserialize_with = "map_or_nan")]
    pub params: BTreeMap<String, f32>,
    /// Per-layer diagnostics, in model order.
    pub layers: Vec<LayerStats>,
}

// JSON has no NaN: serde_json writes non-finite floats as `null`. Reading `null` back as NaN
// keeps a diverged run's file readable instead of failing on its first bad epoch.
fn f32_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    Ok(Option::<f32>::deserialize(d)?.unwrap_or(f32::NAN))
}

fn f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn map_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f32>, D::Error> {
    let m = BTreeMap::<String, Option<f32>>::deserialize(d)?;
    Ok(m.into_iter()
        .map(|(k, v)| (k, v.unwrap_or(f32::NAN)))
        .collect())
}

/// Everything recorded while training one activation from one seed: the loss of every step
/// and the per-epoch metrics. The report draws its charts from a slice of these; runs of one
/// activation from several seeds are drawn and tabled together, as mean and spread.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunHistory {
    /// The activation as given on the command line; names the run in tables and legends.
    pub activation: String,
    /// The seed of the run's initial weights and data order.
    pub seed: u64,
    /// `(step, loss)` for every optimizer step (steps counted from 1 over the whole run).
    pub step_losses: Vec<(usize, f32)>,
    /// One record per finished epoch, in order.
    pub epochs: Vec<EpochMetrics>,
}

impl RunHistory {
    /// An empty history for `activation`, from seed 0 ([`with_seed`](Self::with_seed) sets
    /// another).
    pub fn new(activation: impl Into<String>) -> Self {
        RunHistory {
            activation: activation.into(),
            ..RunHistory::default()
        }
    }

    /// The history, from `seed`.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Records the loss of optimizer step `step`.
    pub fn record_step(&mut self, step: usize, loss: f32) {
        self.step_losses.push((step, loss));
    }

    /// Records a finished epoch.
    pub fn record_epoch(&mut self, metrics: EpochMetrics) {
        self.epochs.push(metrics);
    }

    /// The last finished epoch, if any.
    pub fn last_epoch(&self) -> Option<&EpochMetrics> {
        self.epochs.last()
    }

    /// Total training seconds over all recorded epochs.
    pub fn total_seconds(&self) -> f64 {
        // A fold from +0.0: `sum()` of no f64 is -0.0, which would print as "-0.0 s".
        self.epochs.iter().fold(0.0, |t, e| t + e.seconds)
    }

    /// Groups records (for example from [`read_jsonl`]) into one history per activation and
    /// seed, in order of first appearance. Step losses are not part of the metrics file, so
    /// they stay empty.
    pub fn from_records(records: impl IntoIterator<Item = EpochMetrics>) -> Vec<RunHistory> {
        let mut runs: Vec<RunHistory> = Vec::new();
        for r in records {
            match runs
                .iter_mut()
                .find(|h| h.activation == r.activation && h.seed == r.seed)
            {
                Some(h) => h.epochs.push(r),
                None => {
                    let mut h = RunHistory::new(r.activation.clone()).with_seed(r.seed);
                    h.epochs.push(r);
                    runs.push(h);
                }
            }
        }
        runs
    }
}

/// Reading or writing a metrics file failed. The message names the file (and line) and says
/// how to fix it.
#[derive(Debug)]
pub enum MetricsError {
    /// The file could not be read.
    Read {
        /// The metrics file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A line is not a metrics record.
    Parse {
        /// The metrics file.
        path: PathBuf,
        /// The line number, counted from 1.
        line: usize,
        /// What the JSON parser found wrong.
        source: serde_json::Error,
    },
    /// The file could not be written.
    Write(WriteError),
}

impl fmt::Display for MetricsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricsError::Read { path, source } => write!(
                f,
                "cannot read metrics file {}: {source}; check the path and that the file is readable",
                path.display()
            ),
            MetricsError::Parse { path, line, source } => write!(
                f,
                "{}:{line}: not a metrics record: {source}; each line must be one JSON object \
                 with the fields of minidl::metrics::EpochMetrics (as written by MetricsWriter)",
                path.display()
            ),
            MetricsError::Write(e) => write!(f, "metrics file: {e}"),
        }
    }
}

impl Error for MetricsError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            MetricsError::Read { source, .. } => Some(source),
            MetricsError::Parse { source, .. } => Some(source),
            MetricsError::Write(e) => Some(e),
        }
    }
}

impl From<WriteError> for MetricsError {
    fn from(e: WriteError) -> Self {
        MetricsError::Write(e)
    }
}

/// Writes [`EpochMetrics`] records to a JSON Lines file. Every [`append`](Self::append)
/// rewrites the whole file atomically (temporary file + rename), so the file is always a
/// complete set of lines, never a torn last line.
#[derive(Debug)]
pub struct MetricsWriter {
    path: PathBuf,
    contents: String,
    records: usize,
}

impl MetricsWriter {
    /// Starts a new, empty metrics file at `path` (replacing any old one) and writes it at once,
    /// so an unwritable path is reported before training starts.
    ///
    /// # Errors
    /// [`MetricsError::Write`] when the file cannot be written.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, MetricsError> {
        Self::with_records(path, &[])
    }

    /// Starts a metrics file that begins with `records` (for example the records of a resumed
    /// run, read with [`read_jsonl`] and cut at the checkpoint's epoch), and writes it at once.
    ///
    /// # Errors
    /// [`MetricsError::Write`] when the file cannot be written.
    pub fn with_records(
        path: impl AsRef<Path>,
        records: &[EpochMetrics],
    ) -> Result<Self, MetricsError> {
        let mut w = MetricsWriter {
            path: path.as_ref().to_path_buf(),
            contents: String::new(),
            records: 0,
        };
        for r in records {
            w.contents.push_str(&to_line(r));
            w.records += 1;
        }
        write_atomic(&w.path, w.contents.as_bytes())?;
        Ok(w)
    }

    /// Adds one record and rewrites the file.
    ///
    /// # Errors
    /// [`MetricsError::Write`] when the file cannot be written; the record is then not kept, so
    /// the writer still matches the file on disk.
    pub fn append(&mut self, record: &EpochMetrics) -> Result<(), MetricsError> {
        let old_len = self.contents.len();
        self.contents.push_str(&to_line(record));
        if let Err(e) = write_atomic(&self.path, self.contents.as_bytes()) {
            self.contents.truncate(old_len);
            return Err(e.into());
        }
        self.records += 1;
        Ok(())
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of records in the file.
    pub fn len(&self) -> usize {
        self.records
    }

    /// Whether the file holds no record yet.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }
}

/// One record as a JSON line, newline included.
fn to_line(record: &EpochMetrics) -> String {
    // Cannot fail: every map key is a string and every value a plain number, string or list.
    let mut line = serde_json::to_string(record).expect("EpochMetrics serializes to JSON");
    line.push('\n');
    line
}

/// The largest metrics file [`read_jsonl`] reads: 64 MiB, about a hundred thousand epochs of a
/// deep network's records, so that a wrong path (a disk image, `/dev/zero`) fails at once
/// instead of filling the memory.
pub const MAX_METRICS_BYTES: u64 = 64 << 20;

/// Reads a JSON Lines metrics file written by [`MetricsWriter`]. Blank lines are skipped.
///
/// Only a regular file (or a link to one) of at most [`MAX_METRICS_BYTES`] is read: its kind
/// and size are checked before it is opened, so a FIFO never blocks and a device is not read
/// without end.
///
/// # Errors
/// [`MetricsError::Read`] when the file cannot be read, is not a regular file or is too large;
/// [`MetricsError::Parse`] (with the line number) when a line is not a record.
pub fn read_jsonl(path: impl AsRef<Path>) -> Result<Vec<EpochMetrics>, MetricsError> {
    use std::io::Read;
    let path = path.as_ref();
    let read_err = |source| MetricsError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_file() {
        let kind = tensor::atomic::file_kind(&meta.file_type());
        return Err(read_err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {kind}, not a regular file"),
        )));
    }
    if meta.len() > MAX_METRICS_BYTES {
        return Err(read_err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it holds {} bytes, more than a metrics file's limit of {MAX_METRICS_BYTES}",
                meta.len()
            ),
        )));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_METRICS_BYTES + 1).read_to_string(&mut text))
        .map_err(read_err)?;
    if text.len() as u64 > MAX_METRICS_BYTES {
        return Err(read_err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it grew past a metrics file's limit of {MAX_METRICS_BYTES} bytes"),
        )));
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| MetricsError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                source,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::tests::TempDir;

    fn sample(activation: &str, epoch: usize) -> EpochMetrics {
        let mut params = BTreeMap::new();
        if activation == "swish" {
            params.insert("1.beta".to_string(), 1.25);
        }
        EpochMetrics {
            activation: activation.to_string(),
            seed: 0,
            epoch,
            steps: 938 * epoch,
            train_loss: 0.5 / epoch as f32,
            test_loss: 0.25,
            test_accuracy: 0.9375,
            seconds: 4.5,
            samples_per_sec: 13333.0,
            params,
            layers: vec![
                LayerStats::parameter("0.weight", 0.125),
                LayerStats::activation("1", 0.0625, 0.5, 0.75, 1.5),
                LayerStats {
                    name: "2.weight".into(),
                    grad_norm: Some(0.03125),
                    ..LayerStats::default()
                },
            ],
        }
    }

    #[test]
    fn schema_field_names_and_order() {
        let v = serde_json::to_value(sample("swish", 2)).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        // serde_json's map is sorted unless preserve_order is on, so compare as sets here and
        // check the written order on the line itself below.
        let mut expected = EPOCH_KEYS.to_vec();
        expected.sort();
        assert_eq!(keys, expected);
        let layer = v["layers"][1].as_object().unwrap();
        let mut lkeys: Vec<&str> = layer.keys().map(String::as_str).collect();
        lkeys.sort();
        let mut expected = LAYER_KEYS.to_vec();
        expected.sort();
        assert_eq!(lkeys, expected);
        assert_eq!(v["params"]["1.beta"], 1.25);
        assert_eq!(v["layers"][0]["dead_fraction"], serde_json::Value::Null);
        assert_eq!(v["layers"][1]["dead_fraction"], 0.0625);
        assert_eq!(v["layers"][1]["grad_norm"], serde_json::Value::Null);

        let line = to_line(&sample("relu", 1));
        assert!(line.ends_with("}\n") && line.matches('\n').count() == 1);
        // The keys are written in the order of EPOCH_KEYS, and of LAYER_KEYS in a layer: each
        // is found after the one before it.
        let in_order = |keys: &[&str], mut from: usize| {
            for key in keys {
                let found = line[from..].find(&format!("\"{key}\":"));
                from += found.unwrap_or_else(|| panic!("{key} out of order in {line}"));
            }
        };
        in_order(&EPOCH_KEYS, 0);
        in_order(&LAYER_KEYS, line.find("\"layers\":").unwrap());
        assert_eq!(
            line,
            "{\"activation\":\"relu\",\"seed\":0,\"epoch\":1,\"steps\":938,\"train_loss\":0.5,\
             \"test_loss\":0.25,\"test_accuracy\":0.9375,\"seconds\":4.5,\
             \"samples_per_sec\":13333.0,\"params\":{},\"layers\":[\
             {\"name\":\"0.weight\",\"dead_fraction\":null,\"saturated_fraction\":null,\
             \"mean\":null,\"std\":null,\"grad_norm\":0.125},\
             {\"name\":\"1\",\"dead_fraction\":0.0625,\"saturated_fraction\":0.5,\
             \"mean\":0.75,\"std\":1.5,\"grad_norm\":null},\
             {\"name\":\"2.weight\",\"dead_fraction\":null,\"saturated_fraction\":null,\
             \"mean\":null,\"std\":null,\"grad_norm\":0.03125}]}\n"
        );
    }

    #[test]
    fn jsonl_round_trip() {
        let t = TempDir::new("metrics-rt");
        let path = t.0.join("runs/m.jsonl");
        let mut w = MetricsWriter::create(&path).unwrap();
        assert!(w.is_empty());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        let records = vec![sample("relu", 1), sample("swish", 1), sample("relu", 2)];
        for r in &records {
            w.append(r).unwrap();
        }
        assert_eq!(w.len(), 3);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.ends_with('\n'));
        assert_eq!(read_jsonl(&path).unwrap(), records);

        // Resuming keeps the given records and appends after them.
        let kept = &records[..2];
        let mut w = MetricsWriter::with_records(&path, kept).unwrap();
        w.append(&sample("swish", 2)).unwrap();
        let back = read_jsonl(&path).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back[2], sample("swish", 2));
    }

    #[test]
    fn non_finite_values_read_back_as_nan_or_none() {
        let mut r = sample("swish", 1);
        r.train_loss = f32::NAN;
        r.seconds = f64::INFINITY;
        r.params.insert("1.beta".into(), f32::NAN);
        r.layers[1].std = Some(f32::NAN);
        let t = TempDir::new("metrics-nan");
        let path = t.0.join("m.jsonl");
        MetricsWriter::create(&path).unwrap().append(&r).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"train_loss\":null"), "{text}");
        let back = read_jsonl(&path).unwrap().remove(0);
        assert!(back.train_loss.is_nan());
        assert!(back.seconds.is_nan());
        assert!(back.params["1.beta"].is_nan());
        assert_eq!(back.layers[1].std, None);
        assert_eq!(back.test_loss, 0.25);
    }

    #[test]
    fn minimal_line_reads_with_defaults_and_blank_lines_are_skipped() {
        let t = TempDir::new("metrics-min");
        let path = t.0.join("m.jsonl");
        std::fs::write(
            &path,
            "\n{\"activation\":\"tanh\",\"epoch\":3,\"train_loss\":1,\"test_loss\":2,\
             \"test_accuracy\":0.5,\"seconds\":1,\"samples_per_sec\":10,\"layers\":[],\
             \"extra\":true}\n\n",
        )
        .unwrap();
        let r = read_jsonl(&path).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].activation, "tanh");
        assert_eq!(r[0].epoch, 3);
        assert_eq!(r[0].steps, 0);
        assert!(r[0].params.is_empty());
    }

    #[test]
    fn bad_line_names_file_and_line() {
        let t = TempDir::new("metrics-bad");
        let path = t.0.join("m.jsonl");
        let good = to_line(&sample("relu", 1));
        std::fs::write(&path, format!("{good}{{\"activation\": \"relu\"}}\n")).unwrap();
        let msg = read_jsonl(&path).unwrap_err().to_string();
        assert!(msg.contains("m.jsonl:2: not a metrics record"), "{msg}");
        assert!(msg.contains("missing field"), "{msg}");

        let missing = t.0.join("nope.jsonl");
        let msg = read_jsonl(&missing).unwrap_err().to_string();
        assert!(msg.starts_with("cannot read metrics file"), "{msg}");
        assert!(msg.contains("nope.jsonl"), "{msg}");
    }

    #[test]
    fn unwritable_path_is_an_error_and_leaves_writer_unchanged() {
        let t = TempDir::new("metrics-unwritable");
        let file = t.0.join("plain");
        std::fs::write(&file, b"x").unwrap();
        let err = MetricsWriter::create(file.join("m.jsonl")).unwrap_err();
        assert!(matches!(err, MetricsError::Write(_)));
        assert!(
            err.to_string().starts_with("metrics file: cannot write"),
            "{err}"
        );

        // A writer whose folder is replaced by a file after creation keeps its records.
        let dir = t.0.join("d");
        let mut w = MetricsWriter::create(dir.join("m.jsonl")).unwrap();
        w.append(&sample("relu", 1)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::write(&dir, b"in the way").unwrap();
        assert!(w.append(&sample("relu", 2)).is_err());
        assert_eq!(w.len(), 1);
        std::fs::remove_file(&dir).unwrap();
        w.append(&sample("relu", 3)).unwrap();
        let epochs: Vec<usize> = read_jsonl(w.path())
            .unwrap()
            .iter()
            .map(|r| r.epoch)
            .collect();
        assert_eq!(epochs, vec![1, 3]);
    }

    #[test]
    fn history_groups_records_by_activation() {
        let runs = RunHistory::from_records(vec![
            sample("relu", 1),
            sample("mish", 1),
            sample("relu", 2),
        ]);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].activation, "relu");
        assert_eq!(runs[0].epochs.len(), 2);
        assert_eq!(runs[0].last_epoch().unwrap().epoch, 2);
        assert_eq!(runs[0].total_seconds(), 9.0);
        assert_eq!(runs[1].activation, "mish");
        assert!(runs[1].step_losses.is_empty());

        // one history per activation and seed
        let seeded = |act: &str, seed: u64, epoch: usize| EpochMetrics {
            seed,
            ..sample(act, epoch)
        };
        let runs = RunHistory::from_records(vec![
            seeded("relu", 0, 1),
            seeded("relu", 1, 1),
            seeded("relu", 0, 2),
            seeded("relu", 1, 2),
        ]);
        let keys: Vec<(u64, usize)> = runs.iter().map(|r| (r.seed, r.epochs.len())).collect();
        assert_eq!(keys, [(0, 2), (1, 2)]);
        assert!(runs[1].epochs.iter().all(|e| e.seed == 1));
        assert_eq!(RunHistory::new("tanh").with_seed(7).seed, 7);

        let mut h = RunHistory::new("gelu");
        assert!(h.last_epoch().is_none());
        assert_eq!(h.total_seconds().to_string(), "0");
        h.record_step(1, 2.5);
        h.record_epoch(sample("gelu", 1));
        assert_eq!(h.step_losses, vec![(1, 2.5)]);
        assert_eq!(h.epochs.len(), 1);
    }

    #[test]
    fn reading_refuses_folders_devices_and_huge_files_without_reading_them() {
        let t = TempDir::new("metrics-read-bad");
        let e = read_jsonl(&t.0).unwrap_err().to_string();
        assert!(e.contains("it is a folder, not a regular file"), "{e}");
        if cfg!(unix) {
            let e = read_jsonl("/dev/zero").unwrap_err().to_string();
            assert!(e.contains("a character device"), "{e}");
        }
        let big = t.0.join("big.jsonl");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_METRICS_BYTES + 1).unwrap(); // sparse: costs no disk
        let e = read_jsonl(&big).unwrap_err().to_string();
        assert!(e.contains("more than a metrics file's limit"), "{e}");
    }
}
