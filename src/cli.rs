//! The command-line arguments the examples share, as `clap` argument groups, so each example
//! declares only what is its own and every example spells a flag the same way.
//!
//! | group | flags |
//! | --- | --- |
//! | [`DataArgs`] | `--dataset auto\|mnist\|fashion\|synthetic`, `--data-dir DIR`, `--download`, `--limit-train N` |
//! | [`ModelArgs`] | `--model mlp\|cnn`, `--hidden 128,64`, `--depth N`, `--width W` |
//! | [`TrainArgs`] | `--init`, `--optimizer`, `--lr`, `--lr-decay`, `--epochs`, `--batch-size`, `--seed`, `--threads N` |
//! | [`OutputArgs`] | `--report DIR`, `--metrics FILE`, `--quiet` |
//! | [`LabArgs`] | all of the above plus `--activation`, `--compare`, `--seeds`, `--save`, `--resume` (the `mnist` example) |
//!
//! An example with other needs flattens the groups it wants into its own `Parser`:
//!
//! ```
//! use clap::Parser;
//! use minidl::cli::{DataArgs, OutputArgs};
//!
//! /// Dead ReLUs, measured.
//! #[derive(Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     data: DataArgs,
//!     #[command(flatten)]
//!     output: OutputArgs,
//! }
//!
//! let args = Args::try_parse_from(["dead_relu", "--dataset", "synthetic", "--quiet"]).unwrap();
//! assert!(args.output.quiet);
//! ```
//!
//! and changes a shared default with [`parse_with_defaults`] (e.g. one epoch and plain SGD).
//! Bad values are clap errors: a one-line message and exit status 2.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use clap::{ArgMatches, Args, Parser, ValueEnum};

/// Where the images come from (`--dataset`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DatasetChoice {
    /// Real MNIST if its files are found, otherwise synthetic digits (with a note saying so)
    /// — only when no folder is named (no `--data-dir`, no `$MNIST_DIR`) and the default
    /// folder holds none of the files; a named folder that is wrong is an error.
    #[default]
    Auto,
    /// Real MNIST; an error (exit status 2) if the files are missing.
    Mnist,
    /// Fashion-MNIST; an error (exit status 2) if the files are missing.
    Fashion,
    /// Synthetic digits drawn by `datasets::SyntheticDigits`: offline, nothing to download.
    Synthetic,
}

impl fmt::Display for DatasetChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        value_name(self, f)
    }
}

/// The network (`--model`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ModelKind {
    /// A multilayer perceptron on flattened images (`--hidden`, or `--depth` and `--width`).
    #[default]
    Mlp,
    /// The reference CNN: conv(1→16, 5×5) · act · maxpool 2 · conv(16→32, 5×5) · act ·
    /// maxpool 2 · linear(1568→10).
    Cnn,
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        value_name(self, f)
    }
}

/// How weights are initialised (`--init`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum InitKind {
    /// PyTorch's defaults for Linear and Conv2d: W, b ~ U(±1/√fan_in).
    #[default]
    Default,
    /// Kaiming (He) normal: W ~ N(0, gain²/fan_in) with the activation's gain, b = 0.
    Kaiming,
    /// Xavier (Glorot) uniform: W ~ U(±gain·√(6/(fan_in+fan_out))), b = 0.
    Xavier,
}

impl fmt::Display for InitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        value_name(self, f)
    }
}

/// The optimizer (`--optimizer`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OptimizerKind {
    /// Plain SGD (default lr 0.01).
    Sgd,
    /// SGD with momentum 0.9 (default lr 0.01).
    Momentum,
    /// Adam, β = (0.9, 0.999) (default lr 1e-3).
    #[default]
    Adam,
    /// AdamW, decoupled weight decay 0.01 (default lr 1e-3).
    Adamw,
}

impl OptimizerKind {
    /// The learning rate used when `--lr` is not given: 1e-3 for Adam and AdamW (2e-3 for the
    /// CNN), 0.01 for SGD with or without momentum.
    ///
    /// The CNN's is higher because its 1-epoch accuracy at 1e-3 depends on the seed (98.1–98.6%
    /// on MNIST, in PyTorch too) while at 2e-3 with the default `--lr-decay` it is 98.6–98.9%.
    pub fn default_lr(self, model: ModelKind) -> f32 {
        match (self, model) {
            (OptimizerKind::Sgd | OptimizerKind::Momentum, _) => 0.01,
            (OptimizerKind::Adam | OptimizerKind::Adamw, ModelKind::Mlp) => 1e-3,
            (OptimizerKind::Adam | OptimizerKind::Adamw, ModelKind::Cnn) => 2e-3,
        }
    }
}

impl fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        value_name(self, f)
    }
}

/// The command-line spelling of a `ValueEnum` value (its possible value's name).
fn value_name<T: ValueEnum>(v: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match v.to_possible_value() {
        Some(pv) => f.write_str(pv.get_name()),
        None => Ok(()),
    }
}

/// How the learning rate falls during a run (`--lr-decay`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum LrDecay {
    /// From `--lr` down to 0 along half a cosine over the run's `--epochs`, step by step: at
    /// step s of S it is lr·(1 + cos(π·s/S))/2. The curve depends on the planned length, so a
    /// run resumes only with the same `--epochs`.
    #[default]
    Cosine,
    /// By a factor G ∈ (0, 1] per epoch, smoothly: at step t of an epoch of T steps in epoch e
    /// (from 0) it is lr·G^(e + t/T); 1 keeps it constant. The curve does not depend on the
    /// run's length, so a finished run can be resumed for more epochs.
    PerEpoch(f32),
}

impl LrDecay {
    /// Parses `cosine`, `constant` (the same as 1) or a factor G in (0, 1].
    ///
    /// # Errors
    /// A message saying what is accepted.
    pub fn parse(s: &str) -> Result<LrDecay, String> {
        match s.trim() {
            "cosine" => Ok(LrDecay::Cosine),
            "constant" => Ok(LrDecay::PerEpoch(1.0)),
            v => match v.parse::<f32>() {
                Ok(g) if g > 0.0 && g <= 1.0 => Ok(LrDecay::PerEpoch(g)),
                _ => Err(format!(
                    "expected `cosine`, `constant` or a factor per epoch in (0, 1] such as 0.5, \
                     got {s:?}"
                )),
            },
        }
    }
}

impl fmt::Display for LrDecay {
    /// `cosine`, `constant`, or the factor (`0.5`): what [`LrDecay::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LrDecay::Cosine => f.write_str("cosine"),
            LrDecay::PerEpoch(1.0) => f.write_str("constant"),
            LrDecay::PerEpoch(g) => write!(f, "{g}"),
        }
    }
}

/// A whole number ≥ 1.
fn positive(s: &str) -> Result<usize, String> {
    whole_up_to(s, usize::MAX, "a 64-bit count")
}

/// The most `--epochs` a run may ask for. An epoch of the smallest run takes milliseconds, so a
/// count beyond this is a slip (`--epochs 18446744073709551615` would train for ever), refused
/// at once rather than run.
pub const MAX_EPOCHS: usize = 10_000;

/// The most `--threads`: more threads than any machine has cores, and few enough that starting
/// them cannot fail (each is a worker thread with its own stack).
pub const MAX_THREADS: usize = 256;

/// A whole number from 1 to `max`; `why` says where the bound comes from.
///
/// # Errors
/// A message saying what is accepted, as the other value parsers do.
pub fn whole_up_to(s: &str, max: usize, why: &str) -> Result<usize, String> {
    let digits = s.trim();
    match digits.parse::<usize>() {
        Ok(n) if n > max => Err(format!(
            "expected a whole number from 1 to {max} ({why}), got {s:?}"
        )),
        Ok(n) if n > 0 => Ok(n),
        Ok(_) => Err("expected a whole number of at least 1, got 0".into()),
        // a number too long for usize is still a number: say it is too large
        Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => Err(format!(
            "expected a whole number from 1 to {max} ({why}), got {s:?}"
        )),
        Err(_) => Err(format!("expected a whole number of at least 1, got {s:?}")),
    }
}

/// `--epochs`: a whole number from 1 to [`MAX_EPOCHS`].
///
/// # Errors
/// A message saying what is accepted.
pub fn epochs(s: &str) -> Result<usize, String> {
    whole_up_to(s, MAX_EPOCHS, "epochs to train")
}

/// `--threads`: a whole number from 1 to [`MAX_THREADS`].
///
/// # Errors
/// A message saying what is accepted.
pub fn threads(s: &str) -> Result<usize, String> {
    whole_up_to(s, MAX_THREADS, "threads for the kernels")
}

/// A whole number ≥ 1, as the examples' own flags take it.
///
/// # Errors
/// `expected a whole number of at least 1, got …`.
pub fn positive_whole(s: &str) -> Result<usize, String> {
    positive(s)
}

/// A seed: a whole number from 0 to 2^64 − 1.
///
/// # Errors
/// A message saying what is accepted.
pub fn seed(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| format!("expected a whole number from 0 to {}, got {s:?}", u64::MAX))
}

/// A positive, finite real number, as the examples' own flags take it (`--lr`).
///
/// # Errors
/// `expected a positive number such as 0.001, got …`.
pub fn positive_number(s: &str) -> Result<f32, String> {
    positive_real(s)
}

/// A positive, finite real number.
fn positive_real(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "expected a positive number such as 0.001, got {s:?}"
        )),
    }
}

/// A folder path: anything but empty (an empty path would mean the current folder), in any
/// encoding the system allows.
fn folder_path() -> impl clap::builder::TypedValueParser<Value = PathBuf> {
    let strings = clap::builder::OsStringValueParser::new();
    clap::builder::TypedValueParser::try_map(strings, |s| {
        if s.is_empty() {
            return Err("expected a folder, got an empty path; use . for the current folder");
        }
        Ok(PathBuf::from(s))
    })
}

/// Which images to train and test on.
#[derive(Args, Clone, Debug, Default, PartialEq)]
pub struct DataArgs {
    /// Data set: `auto` uses real MNIST when its files are found and synthetic digits when
    /// data/mnist holds none (saying so); `mnist` and `fashion` need their files (see
    /// --data-dir, --download).
    #[arg(long, value_enum, default_value_t = DatasetChoice::Auto, value_name = "NAME")]
    pub dataset: DatasetChoice,

    /// Folder holding the four IDX files (raw or .gz); a folder named here (or in
    /// $MNIST_DIR) must hold them [default: $MNIST_DIR (or $FASHION_MNIST_DIR), else
    /// data/mnist (or data/fashion-mnist)].
    #[arg(long, value_name = "DIR", value_parser = folder_path())]
    pub data_dir: Option<PathBuf>,

    /// Download the files that are missing into the data folder first (content-checked;
    /// needs a build with `--features download`).
    #[arg(long)]
    pub download: bool,

    /// Train on the first N training images only (the test set stays whole).
    #[arg(long, value_name = "N", value_parser = positive)]
    pub limit_train: Option<usize>,
}

/// Which network to build.
#[derive(Args, Clone, Debug, Default, PartialEq)]
pub struct ModelArgs {
    /// Network: `mlp` (on flattened images) or `cnn` (conv 16 · conv 32, 5×5, max pooling).
    #[arg(long, value_enum, default_value_t = ModelKind::Mlp, value_name = "KIND")]
    pub model: ModelKind,

    /// Hidden layer widths of the MLP, comma-separated (at most 1000 layers and 2^26 parameters
    /// in all) [default: 256,128].
    #[arg(
        long,
        value_name = "W,W,...",
        value_delimiter = ',',
        value_parser = positive,
        allow_negative_numbers = true,
        action = clap::ArgAction::Set,
        conflicts_with = "depth"
    )]
    pub hidden: Option<Vec<usize>>,

    /// Number of hidden layers of a deep narrow MLP (each --width wide), instead of --hidden
    /// (at most 1000 layers and 2^26 parameters in all).
    #[arg(long, value_name = "N", value_parser = positive, allow_negative_numbers = true)]
    pub depth: Option<usize>,

    /// Width of each hidden layer with --depth [default: 64].
    #[arg(long, value_name = "W", value_parser = positive, requires = "depth", allow_negative_numbers = true)]
    pub width: Option<usize>,
}

/// How to train.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct TrainArgs {
    /// Weight initialisation: `default` (PyTorch's), `kaiming` (He normal, gain of the
    /// activation), `xavier` (Glorot uniform, gain of the activation); biases are 0 with the
    /// last two.
    #[arg(long, value_enum, default_value_t = InitKind::Default, value_name = "KIND")]
    pub init: InitKind,

    /// Optimizer: `sgd`, `momentum` (SGD with momentum 0.9), `adam`, `adamw` (weight decay
    /// 0.01).
    #[arg(long, value_enum, default_value_t = OptimizerKind::Adam, value_name = "NAME")]
    pub optimizer: OptimizerKind,

    /// Learning rate at the start [default: 1e-3 for adam and adamw (2e-3 with --model cnn),
    /// 0.01 for sgd and momentum].
    #[arg(long, value_name = "LR", value_parser = positive_real, allow_negative_numbers = true)]
    pub lr: Option<f32>,

    /// How the learning rate falls: `cosine` (to 0 over the run's --epochs, step by step; a
    /// run then resumes only with the same --epochs), or a factor G per epoch, applied
    /// smoothly (lr·G^(e + t/T) at step t of T in epoch e; `constant` or 1 keeps it).
    #[arg(long, default_value = "cosine", value_name = "cosine|G", value_parser = LrDecay::parse)]
    pub lr_decay: LrDecay,

    /// Epochs to train (with --resume: the total, counting the checkpoint's).
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = epochs, allow_negative_numbers = true)]
    pub epochs: usize,

    /// Images per training batch.
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = positive, allow_negative_numbers = true)]
    pub batch_size: usize,

    /// Seed of the weights and of the data order (the same seed gives the same run).
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = seed, allow_negative_numbers = true)]
    pub seed: u64,

    /// Threads for the tensor kernels (results do not depend on it) [default: the number of
    /// cores].
    #[arg(long, value_name = "N", value_parser = threads, allow_negative_numbers = true)]
    pub threads: Option<usize>,

    /// Stop at the first op whose output or gradient holds NaN or ±inf, naming the op, its
    /// input shapes and its layer (every tensor is scanned, so training is slower).
    #[arg(long)]
    pub detect_anomaly: bool,
}

impl Default for TrainArgs {
    fn default() -> Self {
        TrainArgs {
            init: InitKind::Default,
            optimizer: OptimizerKind::Adam,
            lr: None,
            lr_decay: LrDecay::Cosine,
            epochs: 3,
            batch_size: 64,
            seed: 0,
            threads: None,
            detect_anomaly: false,
        }
    }
}

impl TrainArgs {
    /// The learning rate for `model`: `--lr` if given, else [`OptimizerKind::default_lr`].
    pub fn learning_rate(&self, model: ModelKind) -> f32 {
        self.lr.unwrap_or_else(|| self.optimizer.default_lr(model))
    }
}

/// What to write besides the terminal output.
#[derive(Args, Clone, Debug, Default, PartialEq)]
pub struct OutputArgs {
    /// Write SVG charts (loss, accuracy, gradient norms, dead units) and an index.html into
    /// DIR (created if missing).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,

    /// Write one JSON line per epoch per activation to FILE (schema in the README).
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,

    /// No progress bars and no per-layer tables: only one line per epoch and the results.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The activation lab's command line (`cargo run --release --example mnist -- --help`).
#[derive(Parser, Clone, Debug, PartialEq)]
#[command(
    name = "mnist",
    args_override_self = true,
    about = "Train a network on MNIST and watch what the activation function does to it",
    long_about = "Train a network on MNIST and watch what the activation function does to it: \
                  loss, accuracy, dead and saturated units, gradient norms per layer.\n\n\
                  Examples:\n  \
                  mnist --activation mish\n  \
                  mnist --compare relu,sigmoid,mish --epochs 1 --metrics m.jsonl --report out\n  \
                  mnist --compare relu,mish --seeds 3 --epochs 1\n  \
                  mnist --model cnn --activation leaky_relu:0.1 --save run.safetensors"
)]
pub struct LabArgs {
    /// The activation: a registry name with optional arguments (`mish`, `leaky_relu:0.1`,
    /// `elu:alpha=0.5`, `swish:learnable`) or a formula in x.
    #[arg(long, short, default_value = "relu", value_name = "SPEC", long_help = activation_help())]
    pub activation: String,

    /// Train several activations one after another (same seed, same data order) and compare
    /// them: `relu,sigmoid,mish` (use `;` between specs that contain commas).
    ///
    /// A formula's learnable parameters (`x * sigmoid(b * x) ; b=1.0`) stay with it: a `;`
    /// followed by `name=value` is always the formula's, so `relu,x*sigmoid(b*x);b=1,mish`
    /// and `relu;x * sigmoid(b * x) ; b=1.0;mish` both give relu, the formula and mish; a
    /// further `c=2` after a comma belongs to the formula too. With any other `;` in the list,
    /// the specs are split at `;` only.
    #[arg(long, value_name = "A,B,...", conflicts_with = "activation")]
    pub compare: Option<String>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub model: ModelArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub train: TrainArgs,

    /// Train every activation once per seed and compare them against the seeds' spread: a
    /// count (`5`: the seeds 0 to 4) or a list (`0,1,2`). The table then shows mean ± std over
    /// the seeds and a verdict per activation against the first; instead of --seed.
    #[arg(long, value_name = "N|S,S,...", value_parser = Seeds::parse, conflicts_with = "seed")]
    pub seeds: Option<Seeds>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub data: DataArgs,

    /// Save a checkpoint (model, optimizer, epoch, step, metrics) to FILE after every epoch.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,

    /// Continue the run saved in FILE at its next epoch, up to --epochs in total.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub output: OutputArgs,
}

/// `--activation`'s long help: the syntax and every registered name.
fn activation_help() -> String {
    let names: Vec<&str> = nn::activation::all().iter().map(|e| e.name).collect();
    format!(
        "The activation: a registry name with optional arguments after a colon, positional or \
         key=value (`mish`, `leaky_relu:0.1`, `elu:alpha=0.5`, `gelu:tanh`, \
         `swish:learnable`), or a formula in x.\n\nNames: {}",
        names.join(", ")
    )
}

impl Default for LabArgs {
    /// The command line with no flags: `--activation relu`, every other flag at its default.
    fn default() -> Self {
        LabArgs {
            activation: "relu".into(),
            compare: None,
            model: ModelArgs::default(),
            train: TrainArgs::default(),
            seeds: None,
            data: DataArgs::default(),
            save: None,
            resume: None,
            output: OutputArgs::default(),
        }
    }
}

impl LabArgs {
    /// The activation specs to train, in order: the `--compare` list, or `--activation` alone.
    pub fn activation_specs(&self) -> Vec<String> {
        match &self.compare {
            Some(list) => split_specs(list),
            None => vec![self.activation.trim().to_string()],
        }
    }

    /// The seeds to train each activation with, in order: the `--seeds` list, or `--seed`
    /// alone.
    pub fn seed_list(&self) -> Vec<u64> {
        match &self.seeds {
            Some(seeds) => seeds.as_slice().to_vec(),
            None => vec![self.train.seed],
        }
    }
}

/// Splits a `--compare` list into activation specs.
///
/// A `;` followed by a parameter assignment (`name=value`, as in `x * sigmoid(b * x) ; b=1.0`)
/// declares a formula's learnable parameters and never separates specs. If every `;` is such,
/// the list is split at the commas outside parentheses, and a piece that is not the start of a
/// spec (its name before any `:` is not a registered activation, e.g. `0.333` or `learnable`)
/// is glued back to the spec before it when that spec has arguments: `relu,rrelu:0.1,0.3,mish`
/// gives `relu`, `rrelu:0.1,0.3` and `mish`; likewise a parameter assignment (`c=2`) after a
/// formula with parameters: `relu,x*b*c;b=1,c=2,mish` gives `relu`, `x*b*c;b=1,c=2` and
/// `mish`. Otherwise (another `;` separates specs that contain commas) the list is split at
/// `;` only, and a piece that is only parameter assignments (`b=1.0, c=2`) is joined back to
/// the formula before it: `relu;x*b*c; b=1, c=2;mish` gives `relu`, `x*b*c; b=1, c=2` and
/// `mish`. Empty pieces are dropped.
pub fn split_specs(list: &str) -> Vec<String> {
    use nn::activation::formula::looks_like_parameters;
    // whether the text after a `;` starts with a parameter assignment
    let declares = |after: &str| looks_like_parameters(after.split(',').next().unwrap_or(""));
    let mut after_semis = list.split(';').skip(1);
    if !after_semis.all(declares) {
        let mut specs: Vec<String> = Vec::new();
        for piece in list.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            match specs.last_mut() {
                Some(prev) if looks_like_parameters(piece) => {
                    prev.push_str("; ");
                    prev.push_str(piece);
                }
                _ => specs.push(piece.to_string()),
            }
        }
        return specs;
    }
    let mut pieces = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in list.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth <= 0 => {
                pieces.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&list[start..]);
    let mut specs: Vec<String> = Vec::new();
    for piece in pieces.into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        let name = piece.split(':').next().unwrap_or("").trim();
        let starts_spec = nn::activation::ActivationSpec::parse(name).is_ok()
            || nn::activation::find(&name.to_lowercase().replace('-', "_")).is_some()
            || name.contains(['(', ' ', '*', '+', '/']);
        let prev_has = |c: char| specs.last().is_some_and(|prev| prev.contains(c));
        let glues =
            (!starts_spec && prev_has(':')) || (prev_has(';') && looks_like_parameters(piece));
        match specs.last_mut() {
            Some(prev) if glues => {
                prev.push(',');
                prev.push_str(piece);
            }
            _ => specs.push(piece.to_string()),
        }
    }
    specs
}

/// Parses `T` from the process's arguments after replacing the defaults of the named
/// arguments (ids are the field names: `"epochs"`, `"optimizer"`, `"lr"`), so an example can
/// share a group and still choose its own defaults, shown as such in `--help`. On a bad
/// command line it prints clap's message and exits with status 2.
///
/// ```no_run
/// let args: minidl::cli::LabArgs =
///     minidl::cli::parse_with_defaults(&[("epochs", "1"), ("optimizer", "sgd"), ("lr", "0.5")]);
/// ```
///
/// # Panics
/// If an id names no argument of `T` (a bug in the calling example).
pub fn parse_with_defaults<T: Parser>(defaults: &[(&'static str, &'static str)]) -> T {
    let args =
        try_parse_with_defaults(std::env::args_os(), defaults).unwrap_or_else(|e| exit_on_error(e));
    refuse_closed_stdout();
    args
}

/// Parses the command line into `T` as clap's `Parser::parse` does, except that a bad command
/// line ends the program with one line on stderr and status 2 ([`exit_on_error`]).
pub fn parse_args<T: Parser>() -> T {
    let args = T::try_parse().unwrap_or_else(|e| exit_on_error(e));
    refuse_closed_stdout();
    args
}

/// Ends the program (one line on stderr, status 2) when standard output is closed
/// ([`stdout_is_usable`]).
fn refuse_closed_stdout() {
    if !stdout_is_usable() {
        std::process::exit(2)
    }
}

/// Whether standard output is open; when it is closed, says so in one line on stderr (the
/// caller then ends with status 2).
///
/// Rust's standard output treats a closed descriptor as a sink that accepts everything, so a
/// run started with `>&-` would print nothing and still end with status 0.
pub fn stdout_is_usable() -> bool {
    if stdout_is_open() {
        return true;
    }
    use std::io::Write;
    let line = "error: standard output: it is closed (`>&-`), so nothing this program prints \
                could be seen; send it to a file, or to /dev/null to discard it\n";
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    false
}

/// Whether standard output was open when the program started.
///
/// Rust's runtime reopens a closed descriptor 1 on `/dev/null` before `main`, read-write, so
/// `>&-` cannot be told from `>/dev/null` by the descriptor alone; a shell's `>/dev/null` opens it
/// write-only. Descriptor 1 on `/dev/null` opened read-write is therefore taken as closed.
#[cfg(target_os = "linux")]
fn stdout_is_open() -> bool {
    let on_null = std::fs::read_link("/proc/self/fd/1")
        .is_ok_and(|target| target == std::path::Path::new("/dev/null"));
    if !on_null {
        return true;
    }
    let Ok(info) = std::fs::read_to_string("/proc/self/fdinfo/1") else {
        return true;
    };
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok());
    // O_ACCMODE is 0o3, O_RDWR is 0o2
    flags.is_none_or(|f| f & 0o3 != 0o2)
}

#[cfg(not(target_os = "linux"))]
fn stdout_is_open() -> bool {
    true
}

/// Ends the program for a clap "error": `--help` and `--version` print on stdout (status 0); a
/// real error prints [`one_line`] on stderr and exits with status 2.
///
/// Nothing here can panic on a failed write: with stderr full or closed (`2>/dev/full`) the
/// line is lost but the status is still 2 (`eprintln!` would panic, status 101). Help that
/// cannot be written to a full stdout is an error (one line, status 2); help cut short by a
/// reader that stopped on purpose (`--help | head`, a broken pipe) is not — nothing was lost
/// that the reader wanted.
pub fn exit_on_error(e: clap::Error) -> ! {
    std::process::exit(print_clap_error(&e))
}

/// What [`exit_on_error`] prints for a clap "error", without ending the program: returns the
/// exit status (clap's for `--help`, 0; 2 for a real error or help that could not be written).
pub fn print_clap_error(e: &clap::Error) -> i32 {
    use std::io::Write;
    if !e.use_stderr() {
        let text = e.render().to_string();
        let written = std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .and_then(|()| std::io::stdout().flush());
        return match written {
            Err(w) if w.kind() != std::io::ErrorKind::BrokenPipe => {
                let line = format!("error: standard output: cannot write the help ({w})\n");
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
                2
            }
            _ => e.exit_code(),
        };
    }
    let line = format!("{}\n", one_line(e));
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    2
}

/// clap's error message on one line, with the accepted values or a tip when clap gives them:
/// `error: invalid value '0' for '--epochs <N>': expected a whole number of at least 1, got 0`,
/// `error: invalid value 'cnnn' for '--model <KIND>' [possible values: mlp, cnn]`. (clap puts
/// those on further lines, then a usage block and "For more information, try '--help'".)
pub fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut out = lines
        .next()
        .unwrap_or("error: bad command line")
        .to_string();
    for extra in lines.filter(|l| l.starts_with('[') || l.starts_with("tip:")) {
        out.push(' ');
        out.push_str(extra);
    }
    out
}

/// [`parse_with_defaults`] on a given argument list (the first item is the program name),
/// returning clap's error instead of exiting.
///
/// # Errors
/// The clap error for an unknown flag or a bad value (or the help/version "error").
///
/// # Panics
/// If an id names no argument of `T`.
pub fn try_parse_with_defaults<T, I, S>(
    args: I,
    defaults: &[(&'static str, &'static str)],
) -> Result<T, clap::Error>
where
    T: Parser,
    I: IntoIterator<Item = S>,
    S: Into<OsString> + Clone,
{
    let mut cmd = T::command();
    for &(id, value) in defaults {
        cmd = cmd.mut_arg(id, |a| a.default_value(value));
    }
    let matches: ArgMatches = cmd.try_get_matches_from(args)?;
    T::from_arg_matches(&matches)
}

#[cfg(test)]
mod tests;

/// The seeds of `--seeds`: a list (`0,1,2`, each run once per seed) or a count (`5`, the
/// seeds 0 to 4). Printed as the list.
///
/// A list may name a seed twice here; the examples refuse that with
/// [`once_each`](crate::lab::once_each), which also bounds the list's length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seeds(pub Vec<u64>);

impl Seeds {
    /// Parses `--seeds`: a whole number `N` from 1 to [`MAX_LIST`](crate::lab::MAX_LIST) means
    /// the seeds `0..N`; a comma-separated list (`0,1,2`, at least one comma; `7,` is the one
    /// seed 7) means those seeds.
    ///
    /// # Errors
    /// A message saying what is accepted, naming the item that is not a seed.
    pub fn parse(s: &str) -> Result<Seeds, String> {
        let max = crate::lab::MAX_LIST;
        if !s.contains(',') {
            let n = whole_up_to(s, max, "seeds, one run each; a list such as 3,4 names them")
                .map_err(|e| format!("{e}: give a count of seeds or a list such as 0,1,2"))?;
            return Ok(Seeds((0..n as u64).collect()));
        }
        let items: Vec<&str> = s.split(',').map(str::trim).collect();
        let last = items.len() - 1;
        let mut seeds = Vec::with_capacity(items.len().min(max + 1));
        for (i, item) in items.into_iter().enumerate() {
            if item.is_empty() && i == last && i > 0 {
                break; // a trailing comma: "7," is the list of one seed
            }
            if item.is_empty() {
                return Err(format!("an empty item in the list {s:?}: write e.g. 0,1,2"));
            }
            seeds.push(seed(item)?);
        }
        Ok(Seeds(seeds))
    }

    /// The seeds, in the order given.
    pub fn as_slice(&self) -> &[u64] {
        &self.0
    }
}

impl std::str::FromStr for Seeds {
    type Err = String;
    fn from_str(s: &str) -> Result<Seeds, String> {
        Seeds::parse(s)
    }
}

impl fmt::Display for Seeds {
    /// The list, comma-separated: `0,1,2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&items.join(","))
    }
}
