//! [`Session`]: what the `mnist` example's command line asks for around its training loop —
//! the flags and every output path checked before anything trains, the data, `--resume` and
//! `--save`, the `--metrics` file, each epoch's line and layer table, the comparison table of
//! `--compare` and the `--report`.

use std::io::Write;

use nn::activation::ActivationSpec;
use nn::{Module, Sequential};
use optim::Optimizer;
use tensor::Rng;

use super::architecture::{Architecture, MODEL_FLAGS};
use super::config::RunConfig;
use super::data::{load_data, Data};
use super::error::{once_each, parse_activation, LabError};
use super::paths::{check_paths, data_files, lab_paths};
use super::run::Run;
use super::trainer::Trainer;
use crate::cli::LabArgs;
use crate::metrics::{MetricsWriter, RunHistory};
use crate::report::{format_comparison_table, format_epoch_line, format_layer_table, write_report};

/// An activation to train: as the command line gave it, and parsed.
#[derive(Clone, Debug)]
pub struct Activation {
    /// The spec as given (trimmed): the run's name in tables, charts and metrics.
    pub name: String,
    /// The parsed spec: `spec.build()` makes a fresh layer of it.
    pub spec: ActivationSpec,
}

/// The `mnist` example's command line at work: [`Session::new`] checks it and loads the data;
/// for each activation and seed ([`runs`](Self::runs)) the example builds a model and an
/// optimizer, [`begin`](Self::begin)s a [`Run`], trains it in its own loop, and calls
/// [`end_epoch`](Self::end_epoch) after each epoch and [`end_run`](Self::end_run) at the end;
/// [`finish`](Self::finish) prints the comparison and writes the report.
///
/// Everything is printed to the `out` given to [`Session::new`]: an epoch line and a layer
/// table per epoch (only the lines with `--quiet`; each line starts with its seed when there
/// are several), a comparison table when there are several runs — with `--seeds`, mean ± std
/// over the seeds and a verdict per activation against the first ([`format_comparison_table`]).
pub struct Session<'a> {
    args: &'a LabArgs,
    out: &'a mut dyn Write,
    config: RunConfig,
    activations: Vec<Activation>,
    seeds: Vec<u64>,
    data: Data,
    metrics: Option<MetricsWriter>,
    histories: Vec<RunHistory>,
    /// Anomaly mode for this thread (where the training runs) while the session lasts.
    _anomaly: Option<autograd::AnomalyGuard>,
}

impl<'a> Session<'a> {
    /// Checks the flags (activation specs, flags that do not fit together, sizes) and every
    /// path the run reads or writes ([`check_paths`]), sets the threads and anomaly mode, loads
    /// the data (saying which on `out`) and creates the `--metrics` file, so that bad input is
    /// found before anything trains. With `--compare`, every activation is checked to fit the
    /// network before the first one trains.
    ///
    /// # Errors
    /// Any [`LabError`] of bad input.
    pub fn new(args: &'a LabArgs, out: &'a mut dyn Write) -> Result<Session<'a>, LabError> {
        let config = RunConfig::from_args(args)?;
        let specs = args.activation_specs();
        let flag = if args.compare.is_some() {
            "--compare"
        } else {
            "--activation"
        };
        if specs.is_empty() {
            return Err(LabError::Usage(format!("{flag}: no activation given")));
        }
        once_each(flag, &specs)?;
        let activations = specs
            .iter()
            .map(|name| {
                let spec = parse_activation(name, flag)?;
                Ok(Activation {
                    name: name.clone(),
                    spec,
                })
            })
            .collect::<Result<Vec<_>, LabError>>()?;
        if activations.len() > 1 && (args.save.is_some() || args.resume.is_some()) {
            return Err(LabError::Usage(
                "--save and --resume hold one run: use them with a single --activation, not \
                 with --compare"
                    .into(),
            ));
        }
        let seeds = args.seed_list();
        once_each("--seeds", &seeds)?;
        if seeds.len() > 1 && (args.save.is_some() || args.resume.is_some()) {
            return Err(LabError::Usage(
                "--save and --resume hold one run: use them with one --seed, not with --seeds"
                    .into(),
            ));
        }
        if let Some(n) = args.train.threads {
            tensor::set_num_threads(n);
        }
        let anomaly = args.train.detect_anomaly.then(autograd::AnomalyGuard::new);
        // every output checked (and the folders made) before the data loads or anything trains
        check_paths(&lab_paths(args, &data_files(&args.data)))?;
        let data = load_data(&args.data, out)?;
        writeln!(
            out,
            "data: {}: {} training and {} test images",
            data.description,
            data.train.len(),
            data.test.len()
        )?;
        let metrics = match &args.output.metrics {
            Some(path) if args.resume.is_none() => Some(MetricsWriter::create(path)?),
            _ => None,
        };
        // sizes are checked before anything is allocated: the batch as the loader will cut it
        let batch = config.batch_size.min(data.train.len()).max(1);
        let (input, classes) = (data.input_shape(), data.classes());
        config
            .architecture
            .check(input, classes, batch, MODEL_FLAGS)?;
        if activations.len() > 1 {
            // every activation fits the network before the first one trains
            for a in &activations {
                Trainer::new(&config, &a.name, &data)?;
            }
        }
        Ok(Session {
            args,
            out,
            config,
            activations,
            seeds,
            data,
            metrics,
            histories: Vec::new(),
            _anomaly: anomaly,
        })
    }

    /// The activations to train, in order: the `--compare` list or `--activation`, parsed
    /// (each spec as yet unbuilt, so its layers are numbered from 0 in every run).
    pub fn activations(&self) -> Vec<Activation> {
        self.activations.clone()
    }

    /// The seeds each activation trains with: the `--seeds` list, or `--seed` alone.
    pub fn seeds(&self) -> &[u64] {
        &self.seeds
    }

    /// The runs to train, in order: for each seed, every activation
    /// ([`activations`](Self::activations)) with that seed — the same initial weights (where
    /// the activations' networks have the same shapes) and the same data order — so a run
    /// stopped early leaves whole comparisons behind.
    pub fn runs(&self) -> Vec<(Activation, u64)> {
        self.seeds
            .iter()
            .flat_map(|&seed| self.activations.iter().map(move |a| (a.clone(), seed)))
            .collect()
    }

    /// The settings.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The data.
    pub fn data(&self) -> &Data {
        &self.data
    }

    /// The hidden widths of the MLP the flags ask for (`--hidden`, or `--depth` and
    /// `--width`), input side first; `None` for `--model cnn`.
    pub fn hidden_layers(&self) -> Option<Vec<usize>> {
        match &self.config.architecture {
            Architecture::Mlp { hidden } => Some(hidden.clone()),
            Architecture::Cnn { .. } => None,
        }
    }

    /// The network the flags ask for, built by [`Architecture::build`] (the CNN for
    /// `--model cnn`), with a fresh layer of `activation` after each hidden layer.
    ///
    /// # Errors
    /// None after [`Session::new`] (it checked the sizes).
    pub fn build(
        &self,
        activation: &ActivationSpec,
        rng: &mut Rng,
    ) -> Result<Sequential, LabError> {
        let (input, classes) = (self.data.input_shape(), self.data.classes());
        self.config
            .architecture
            .build(input, classes, activation, rng)
    }

    /// Starts the run of `activation` from `seed` on `model`, freshly built from it with `rng`
    /// (`tensor::rng(seed)`), and `optimizer` over its parameters: `--init` from `rng`, the
    /// check that the activation fits the network, the diagnostics, the data order of `seed`;
    /// with `--resume`, the checkpoint's weights, optimizer state and history, so the first
    /// epoch left is the checkpoint's next. Prints what was resumed, and the model line for the
    /// first run.
    ///
    /// # Errors
    /// [`LabError::Usage`] if the activation does not fit the network; as
    /// [`Run::resume`]; [`LabError::Output`] if `out` fails.
    pub fn begin(
        &mut self,
        activation: &Activation,
        seed: u64,
        model: &Sequential,
        optimizer: &mut dyn Optimizer,
        rng: &mut Rng,
    ) -> Result<Run, LabError> {
        let spec = activation.spec.clone();
        let config = RunConfig {
            seed,
            ..self.config.clone()
        };
        let mut run = Run::start(
            &config,
            &activation.name,
            spec,
            model,
            &self.data.train,
            rng,
        )?;
        run.bar_seed = self.seeds.len() > 1;
        if let Some(path) = &self.args.resume {
            run.resume(model, optimizer, path, &self.data)?;
            writeln!(
                self.out,
                "resumed {} at epoch {} (step {}) from {}",
                run.activation(),
                run.epochs_done(),
                run.steps(),
                path.display()
            )?;
            if let Some(mpath) = &self.args.output.metrics {
                self.metrics = Some(MetricsWriter::with_records(mpath, &run.history().epochs)?);
            }
            if run.is_finished() {
                writeln!(
                    self.out,
                    "the checkpoint already holds {} epochs: nothing to train (raise --epochs \
                     to go on)",
                    run.epochs_done()
                )?;
            }
        }
        if self.histories.is_empty() {
            let config = &self.config;
            writeln!(
                self.out,
                "model: {} ({} parameters), init {}; {}, batch {}, {} epoch{}, {}",
                config
                    .architecture
                    .describe(self.data.input_shape(), self.data.classes()),
                model.num_parameters(),
                config.init,
                config.optimizer_text(),
                config.batch_size,
                config.epochs,
                if config.epochs == 1 { "" } else { "s" },
                self.seeds_text()
            )?;
        }
        Ok(run)
    }

    /// Ends an epoch of `run`, whose model and optimizer are `model` and `optimizer`: evaluates
    /// and records it ([`Run::end_epoch`], with its checks), saves the `--save` checkpoint and
    /// appends the `--metrics` line, then prints the epoch line and (unless quiet) the layer
    /// table. The files come first: if standard output fails at the line, the epoch is on disk.
    ///
    /// # Errors
    /// [`LabError::Diverged`] or [`LabError::Anomaly`] (nothing is saved then), a file that
    /// cannot be written, or [`LabError::Output`] (after writing the `--report` of the
    /// finished epochs).
    pub fn end_epoch(
        &mut self,
        run: &mut Run,
        model: &Sequential,
        optimizer: &dyn Optimizer,
    ) -> Result<(), LabError> {
        let m = run.end_epoch(model, &self.data.test, true)?.clone();
        if let Some(path) = &self.args.save {
            run.save(model, optimizer, path, &self.data)?;
        }
        if let Some(w) = self.metrics.as_mut() {
            w.append(&m)?;
        }
        let quiet = self.config.quiet;
        let line = match self.seeds.len() {
            1 => format_epoch_line(&m),
            _ => format!("seed {}  {}", m.seed, format_epoch_line(&m)),
        };
        let out = &mut self.out;
        let printed = writeln!(out, "{line}").and_then(|()| {
            if !quiet {
                for line in format_layer_table(&m.layers).lines() {
                    writeln!(out, "  {line}")?;
                }
            }
            Ok(())
        });
        if let Err(e) = printed {
            // stopping: the report shows the finished epochs too (best effort, since the
            // error to report is standard output's)
            if let Some(dir) = &self.args.output.report {
                let mut done = self.histories.clone();
                done.push(run.history().clone());
                let _ = write_report(dir, &done, &self.report_settings());
            }
            return Err(LabError::Output(e));
        }
        Ok(())
    }

    /// Keeps the history of a run that has trained all its epochs, for the comparison table
    /// and the report.
    pub fn end_run(&mut self, run: Run) {
        self.histories.push(run.into_history());
    }

    /// Writes the `--report` of every run, then prints the comparison table (with several
    /// activations or seeds) and where the report and the metrics went. Returns the
    /// histories, in the order they trained ([`runs`](Self::runs)).
    ///
    /// # Errors
    /// [`LabError::Report`] if the report cannot be written; [`LabError::Output`] if `out`
    /// fails.
    pub fn finish(self) -> Result<Vec<RunHistory>, LabError> {
        // the report first, so that it is written even if standard output fails at the table
        let written = match &self.args.output.report {
            Some(dir) => write_report(dir, &self.histories, &self.report_settings())?,
            None => Vec::new(),
        };
        if self.histories.len() > 1 {
            writeln!(self.out, "\n{}", format_comparison_table(&self.histories))?;
        }
        if let Some(index) = written.last() {
            writeln!(self.out, "report: {}", index.display())?;
        }
        if let Some(w) = &self.metrics {
            writeln!(
                self.out,
                "metrics: {} ({} lines)",
                w.path().display(),
                w.len()
            )?;
        }
        Ok(self.histories)
    }

    /// The settings the report shows: the activations, then [`RunConfig::settings`] (with
    /// the list of `--seeds` for the seed).
    fn report_settings(&self) -> Vec<(String, String)> {
        let mut settings = self.config.settings(&self.data);
        let names: Vec<&str> = self.activations.iter().map(|a| a.name.as_str()).collect();
        settings.insert(0, ("activations".into(), names.join(", ")));
        if self.seeds.len() > 1 {
            for (key, value) in &mut settings {
                if key == "seed" {
                    *key = "seeds".into();
                    *value = crate::cli::Seeds(self.seeds.clone()).to_string();
                }
            }
        }
        settings
    }

    /// `seed 0`, or `seeds 0,1,2`.
    fn seeds_text(&self) -> String {
        match self.seeds.as_slice() {
            [one] => format!("seed {one}"),
            many => format!("seeds {}", crate::cli::Seeds(many.to_vec())),
        }
    }
}
