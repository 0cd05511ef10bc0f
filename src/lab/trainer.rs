//! [`Trainer`]: one activation's training run, epoch by epoch.

use std::time::Instant;

use autograd::{no_grad, Var};
use datasets::{DataLoader, Dataset};
use nn::activation::ActivationSpec;
use nn::loss::{cross_entropy, cross_entropy_with, Reduction};
use nn::{Diagnostics, Module, Sequential};
use optim::{LrSchedule, Optimizer};
use tensor::Tensor;

use super::architecture::MODEL_FLAGS;
use super::cause::{NonFiniteCause, DOMAIN_OPS};
use super::config::RunConfig;
use super::data::Data;
use super::error::{parse_activation, LabError};
use super::init::{build_optimizer, init_weights};
use super::probe::{check_activation_fits, quietly};
use crate::metrics::{EpochMetrics, LayerStats, RunHistory};
use crate::report::EpochBar;

/// What one epoch of training measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochTraining {
    /// Mean of the batch losses.
    pub loss: f32,
    /// Fraction of training images classified correctly (as the model was at each step).
    pub accuracy: f32,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Training images seen.
    pub samples: usize,
}

/// What an evaluation measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy over the images.
    pub loss: f32,
    /// Fraction classified correctly.
    pub accuracy: f32,
}

/// Batch size of evaluation (no graph is kept, so large batches cost little memory).
pub const EVAL_BATCH: usize = 1000;

/// One activation's training run: the model, its optimizer, the diagnostics and the history.
pub struct Trainer {
    pub(super) activation: String,
    pub(super) spec: ActivationSpec,
    pub(super) config: RunConfig,
    pub(super) model: Sequential,
    pub(super) optimizer: Box<dyn Optimizer>,
    pub(super) diagnostics: Diagnostics,
    pub(super) history: RunHistory,
    pub(super) step: usize,
    /// The step this run started from: 0, or the checkpoint's after `--resume`.
    pub(super) run_start: usize,
}

impl Trainer {
    /// Builds the network for `data` with `activation` (a spec such as `"leaky_relu:0.1"`),
    /// initialises it from `config.seed`, and makes the optimizer. Nothing is trained yet.
    ///
    /// # Errors
    /// [`LabError::Activation`] if the spec does not parse; [`LabError::Usage`] for a network
    /// too large or images too small for it ([`Architecture::check`]).
    pub fn new(config: &RunConfig, activation: &str, data: &Data) -> Result<Trainer, LabError> {
        let spec = parse_activation(activation, "--activation")?;
        let mut rng = tensor::rng(config.seed);
        // sizes are checked before anything is allocated: the batch as the loader will cut it
        let batch = config.batch_size.min(data.train.len()).max(1);
        let (input, classes) = (data.input_shape(), data.classes());
        config
            .architecture
            .check(input, classes, batch, MODEL_FLAGS)?;
        let model = config.architecture.build(input, classes, &spec, &mut rng)?;
        init_weights(&model, config.init, &spec, &mut rng);
        let [c, h, w] = input;
        let one = if config.architecture.flattens_input() {
            vec![1, c * h * w]
        } else {
            vec![1, c, h, w]
        };
        check_activation_fits(&model, &one, &spec, activation)?;
        let optimizer = build_optimizer(config.optimizer, config.lr, model.parameters());
        let diagnostics = Diagnostics::attach(&model);
        let activation = activation.trim().to_string();
        Ok(Trainer {
            history: RunHistory::new(activation.clone()),
            activation,
            spec,
            config: config.clone(),
            model,
            optimizer,
            diagnostics,
            step: 0,
            run_start: 0,
        })
    }

    /// The activation as given.
    pub fn activation(&self) -> &str {
        &self.activation
    }

    /// The network.
    pub fn model(&self) -> &Sequential {
        &self.model
    }

    /// The optimizer.
    pub fn optimizer(&self) -> &dyn Optimizer {
        self.optimizer.as_ref()
    }

    /// The diagnostics attached to the model: gradient norms of this epoch (and of the very
    /// first step), activation statistics of the last evaluation, learnable values.
    pub fn diagnostics(&self) -> &Diagnostics {
        &self.diagnostics
    }

    /// Everything recorded so far.
    pub fn history(&self) -> &RunHistory {
        &self.history
    }

    /// The history, ending the run.
    pub fn into_history(self) -> RunHistory {
        self.history
    }

    /// Epochs finished.
    pub fn epochs_done(&self) -> usize {
        self.history.epochs.len()
    }

    /// Optimizer steps taken.
    pub fn steps(&self) -> usize {
        self.step
    }

    /// Whether the run has reached its configured number of epochs.
    pub fn is_finished(&self) -> bool {
        self.epochs_done() >= self.config.epochs
    }

    /// Trains one epoch on `train` (the next epoch of the run: its data order is
    /// `shuffle(seed).epoch(e)`), with a progress bar unless quiet, recording every step's
    /// loss in the history. The diagnostics start a new epoch: gradient norms are averaged over
    /// this epoch's steps.
    pub fn train_epoch(&mut self, train: &Dataset) -> EpochTraining {
        self.train_loop(train, false)
            .expect("an unchecked epoch does not fail")
    }

    /// [`Trainer::train_epoch`], stopping at the first step whose loss is NaN or ±inf
    /// ([`LabError::Diverged`]) and, in anomaly mode ([`autograd::detect_anomaly`]), at the
    /// first op that produced one ([`LabError::Anomaly`], checked after each forward and
    /// each backward), before that step's optimizer update.
    ///
    /// # Errors
    /// [`LabError::Diverged`] or [`LabError::Anomaly`].
    pub fn try_train_epoch(&mut self, train: &Dataset) -> Result<EpochTraining, LabError> {
        self.train_loop(train, true)
    }

    /// The anomaly found so far in this run's thread, as an error at `step`.
    fn check_anomaly(&self, step: usize) -> Result<(), LabError> {
        match autograd::take_anomaly() {
            Some(anomaly) => Err(LabError::Anomaly {
                epoch: self.epochs_done() + 1,
                step,
                cause: self.non_finite_cause(Some(&anomaly)),
                anomaly: Box::new(anomaly),
            }),
            None => Ok(()),
        }
    }

    /// Why the run's values went NaN or ±inf, given the op anomaly mode found, if any: the
    /// activation if it is not finite on ordinary inputs; an op that is not finite on some
    /// finite inputs by definition (`ln`, `div`, …); nothing learnt yet; else an overflow if
    /// the loss grew (or anomaly mode saw an op overflow), a sudden change if it did not.
    fn non_finite_cause(&self, anomaly: Option<&autograd::Anomaly>) -> NonFiniteCause {
        if let Some(cause) = self.probe_activation() {
            return cause;
        }
        if let Some(a) = anomaly {
            let inputs_finite = !a.input_non_finite.iter().any(|&bad| bad);
            if inputs_finite && DOMAIN_OPS.contains(&a.op) {
                return NonFiniteCause::Domain { op: a.op };
            }
        }
        if self.step == self.run_start {
            return NonFiniteCause::FromStart;
        }
        let mut run = self
            .history
            .step_losses
            .iter()
            .filter(|(s, _)| *s > self.run_start)
            .map(|&(_, l)| l);
        let first = run.next();
        let last = run.last();
        let grew = matches!((first, last), (Some(a), Some(b)) if b > a);
        if grew || anomaly.is_some() {
            NonFiniteCause::Overflow { lr: self.config.lr }
        } else {
            NonFiniteCause::Sudden
        }
    }

    /// The activation on ordinary inputs — values from −3 to 3, the nearest to 0 first — and
    /// its gradient there: the first input where its value is not finite, else the first
    /// where its gradient is not, if any. A fresh copy of
    /// the activation is probed (its learnable values at their start), in a shape that every
    /// activation that fits the network accepts; the probe's own anomaly is forgotten.
    fn probe_activation(&self) -> Option<NonFiniteCause> {
        use std::panic::{catch_unwind, AssertUnwindSafe};
        const SIDE: usize = 2; // every axis but the first even: gated activations halve one
        let mut grid: Vec<f32> = (-24..=24).map(|i| i as f32 / 8.0).collect();
        grid.sort_by(|a, b| a.abs().total_cmp(&b.abs()).then(a.total_cmp(b)));
        let per = SIDE * SIDE * SIDE;
        let values: Vec<f32> = grid
            .iter()
            .flat_map(|&v| std::iter::repeat_n(v, per))
            .collect();
        let x = Var::parameter(Tensor::from_vec(values, [grid.len(), SIDE, SIDE, SIDE]));
        let module = self.spec.build();
        let probe = || {
            let y = module.forward(&x);
            let out = y.value();
            y.sum_all().backward();
            (out, x.grad())
        };
        let result = quietly(|| catch_unwind(AssertUnwindSafe(probe)));
        let _ = autograd::take_anomaly();
        let (out, grad) = result.ok()?;
        // the first sample (one input value, broadcast over its row) that is not finite
        let bad = |t: &Tensor| {
            let row = t.numel() / grid.len();
            (row > 0 && t.numel() == row * grid.len())
                .then(|| {
                    t.data()
                        .chunks_exact(row)
                        .position(|r| r.iter().any(|v| !v.is_finite()))
                        .map(|i| {
                            let v = *t.data()[i * row..(i + 1) * row]
                                .iter()
                                .find(|v| !v.is_finite())
                                .expect("found above");
                            (i, v)
                        })
                })
                .flatten()
        };
        let found_value = bad(&out).map(|(i, v)| (i, v, false));
        let found_grad = grad.as_ref().and_then(bad).map(|(i, v)| (i, v, true));
        // a value that is not finite explains a NaN loss more directly than a gradient
        let (i, output, gradient) = found_value.or(found_grad)?;
        Some(NonFiniteCause::Activation {
            activation: self.activation.clone(),
            input: grid[i],
            output,
            gradient,
        })
    }

    /// One epoch; with `check`, the divergence and anomaly checks of `try_train_epoch`.
    fn train_loop(&mut self, train: &Dataset, check: bool) -> Result<EpochTraining, LabError> {
        let epoch = self.epochs_done();
        let loader = DataLoader::new(train, self.config.batch_size)
            .shuffle(self.config.seed)
            .flatten(self.config.architecture.flattens_input())
            .prefetch(true);
        let label = format!("{} {}/{}", self.activation, epoch + 1, self.config.epochs);
        let bar = EpochBar::new(loader.num_batches() as u64, &label, self.config.quiet);
        self.diagnostics.begin_epoch();
        self.model.train();
        let start = Instant::now();
        let (mut loss_sum, mut batches, mut correct, mut seen) = (0.0f64, 0usize, 0usize, 0usize);
        let schedule = self.config.schedule(loader.num_batches());
        let first = epoch * loader.num_batches();
        let mut failure = None;
        for (t, (x, y)) in loader.epoch(epoch as u64).enumerate() {
            schedule.apply(self.optimizer.as_mut(), first + t);
            let logits = self.model.forward(&Var::constant(x));
            let loss = cross_entropy(&logits, &y);
            let value = loss.item();
            if check {
                // the op that made it first, if anomaly mode is on; else the loss itself
                let diverged = || LabError::Diverged {
                    epoch: epoch + 1,
                    step: self.step + 1,
                    what: "training loss",
                    value,
                    cause: self.non_finite_cause(None),
                };
                let found = self.check_anomaly(self.step + 1).err();
                if let Some(e) = found.or_else(|| (!value.is_finite()).then(diverged)) {
                    failure = Some(e);
                    break;
                }
            }
            correct += count_correct(&logits.value(), &y);
            seen += y.numel();
            self.optimizer.zero_grad();
            loss.backward();
            if check {
                if let Err(e) = self.check_anomaly(self.step + 1) {
                    failure = Some(e);
                    break;
                }
            }
            self.optimizer.step();
            self.step += 1;
            self.history.record_step(self.step, value);
            loss_sum += value as f64;
            batches += 1;
            let rate = seen as f64 / start.elapsed().as_secs_f64().max(1e-9);
            bar.update(
                (loss_sum / batches as f64) as f32,
                correct as f32 / seen as f32,
                rate,
            );
        }
        let seconds = start.elapsed().as_secs_f64();
        bar.finish();
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(EpochTraining {
            loss: (loss_sum / batches.max(1) as f64) as f32,
            accuracy: correct as f32 / seen.max(1) as f32,
            seconds,
            samples: seen,
        })
    }

    /// Loss and accuracy on `test`, in evaluation mode and without building a graph, in
    /// batches of [`EVAL_BATCH`].
    pub fn evaluate(&self, test: &Dataset) -> Evaluation {
        let loader =
            DataLoader::new(test, EVAL_BATCH).flatten(self.config.architecture.flattens_input());
        self.model.eval();
        self.diagnostics.set_probing(true);
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        no_grad(|| {
            for (x, y) in loader.epoch(0) {
                let logits = self.model.forward(&Var::constant(x));
                loss_sum += cross_entropy_with(&logits, &y, Reduction::Sum, 0.0).item() as f64;
                correct += count_correct(&logits.value(), &y);
            }
        });
        self.diagnostics.set_probing(false);
        self.model.train();
        let n = test.len().max(1);
        Evaluation {
            loss: (loss_sum / n as f64) as f32,
            accuracy: correct as f32 / n as f32,
        }
    }

    /// Trains one epoch, evaluates, and records the epoch's metrics (with the per-layer
    /// diagnostics) in the history; returns them.
    pub fn run_epoch(&mut self, data: &Data) -> &EpochMetrics {
        let t = self.train_epoch(&data.train);
        let eval = self.evaluate(&data.test);
        self.record_epoch(t, eval)
    }

    /// [`Trainer::run_epoch`] with the checks of [`Trainer::try_train_epoch`], and of the
    /// test loss: an epoch that ends with a model whose test loss is not finite (the last
    /// update overflowed) is an error too, so [`run`] never saves such a model.
    ///
    /// # Errors
    /// [`LabError::Diverged`] or [`LabError::Anomaly`].
    pub fn try_run_epoch(&mut self, data: &Data) -> Result<&EpochMetrics, LabError> {
        let t = self.try_train_epoch(&data.train)?;
        let eval = self.evaluate(&data.test);
        self.check_anomaly(self.step)?;
        if !eval.loss.is_finite() {
            return Err(LabError::Diverged {
                epoch: self.epochs_done() + 1,
                step: self.step,
                what: "test loss",
                value: eval.loss,
                cause: self.non_finite_cause(None),
            });
        }
        Ok(self.record_epoch(t, eval))
    }

    /// Records an epoch's metrics (with the per-layer diagnostics) in the history.
    fn record_epoch(&mut self, t: EpochTraining, eval: Evaluation) -> &EpochMetrics {
        let metrics = EpochMetrics {
            activation: self.activation.clone(),
            epoch: self.epochs_done() + 1,
            steps: self.step,
            train_loss: t.loss,
            test_loss: eval.loss,
            test_accuracy: eval.accuracy,
            seconds: t.seconds,
            samples_per_sec: t.samples as f64 / t.seconds.max(1e-9),
            params: self.diagnostics.learnable_values(),
            layers: self.layer_stats(),
        };
        self.history.record_epoch(metrics);
        self.history.epochs.last().expect("just recorded")
    }

    /// The per-layer rows of the metrics, in model order: for each layer index, the
    /// gradient norm of its weight (Linear and Conv2d weights; mean over the epoch's steps),
    /// then the statistics of its output if it is an activation (measured by the last
    /// evaluation): `"0.weight"`, `"1"`, `"2.weight"`, …
    pub fn layer_stats(&self) -> Vec<LayerStats> {
        let grads = self.diagnostics.grad_norms();
        let acts = self.diagnostics.activation_stats();
        let params = self.model.named_parameters();
        let mut rows = Vec::new();
        for i in 0..self.model.len() {
            let weight = format!("{i}.weight");
            let is_weight = params
                .iter()
                .any(|(n, p)| *n == weight && p.dims().len() >= 2);
            if let Some(g) = grads.iter().find(|g| is_weight && g.name == weight) {
                rows.push(LayerStats::parameter(weight, g.mean_norm));
            }
            if let Some(a) = acts.iter().find(|a| a.name == i.to_string()) {
                rows.push(LayerStats {
                    name: a.name.clone(),
                    dead_fraction: Some(a.dead_fraction),
                    saturated_fraction: a.saturated_fraction,
                    mean: Some(a.mean),
                    std: Some(a.std),
                    grad_norm: None,
                });
            }
        }
        rows
    }
}

/// How many rows of `logits` `[N, C]` have their largest value at the label.
fn count_correct(logits: &Tensor, labels: &Tensor) -> usize {
    let classes = logits.dims()[1];
    logits
        .data()
        .chunks_exact(classes)
        .zip(labels.data())
        .filter(|(row, &label)| {
            let best = row
                .iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
                    if v > bv {
                        (i, v)
                    } else {
                        (bi, bv)
                    }
                })
                .0;
            best as f32 == label
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::super::architecture::Architecture;
    use super::*;
    use crate::cli::{DatasetChoice, InitKind, LrDecay, OptimizerKind};
    use datasets::SyntheticDigits;

    fn config(architecture: Architecture) -> RunConfig {
        RunConfig {
            architecture,
            init: InitKind::Default,
            optimizer: OptimizerKind::Adam,
            lr: 1e-3,
            lr_decay: LrDecay::PerEpoch(0.5),
            epochs: 2,
            batch_size: 64,
            seed: 0,
            quiet: true,
        }
    }

    #[test]
    fn counting_correct_predictions() {
        let logits = Tensor::from_vec(
            vec![
                0.1, 0.9, 0.0, /**/ 2.0, -1.0, 0.5, /**/ 0.3, 0.3, 0.1, /**/ -5.0,
                -4.0, -3.0,
            ],
            [4, 3],
        );
        // argmax: 1, 0, 0 (the first of a tie), 2
        let labels = Tensor::from_vec(vec![1.0, 0.0, 1.0, 2.0], [4]);
        assert_eq!(count_correct(&logits, &labels), 3);
        assert_eq!(
            count_correct(&Tensor::zeros([0, 3]), &Tensor::zeros([0])),
            0
        );
    }

    #[test]
    fn trainer_trains_evaluates_and_reports_layers_in_model_order() {
        let data = Data {
            train: SyntheticDigits::new(256, 1).generate(),
            test: SyntheticDigits::new(200, 2).generate(),
            kind: DatasetChoice::Synthetic,
            description: "synthetic digits".into(),
        };
        let mut c = config(Architecture::Mlp { hidden: vec![16] });
        c.epochs = 1;
        let mut t = Trainer::new(&c, " swish:learnable ", &data).unwrap();
        assert_eq!(t.activation(), "swish:learnable");
        assert!(!t.is_finished());
        let m = t.run_epoch(&data).clone();
        assert!(t.is_finished());
        assert_eq!((m.epoch, m.steps, t.steps()), (1, 4, 4));
        assert_eq!(t.history().step_losses.len(), 4);
        assert!((t.optimizer().lr() - c.schedule(4).lr_at(3)).abs() < 1e-12);
        let names: Vec<&str> = m.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["0.weight", "1", "2.weight"]);
        assert!(m.params.contains_key("1.beta"), "{:?}", m.params);
        let e = t.evaluate(&data.test);
        assert_eq!((e.loss, e.accuracy), (m.test_loss, m.test_accuracy));
        assert!(t.model().is_training(), "back in training mode");
        let err = Trainer::new(&c, "nosuch", &data).err().unwrap();
        assert!(
            err.to_string()
                .starts_with("--activation: unknown activation"),
            "{err}"
        );
    }

    #[test]
    fn the_probe_finds_an_activation_that_is_not_finite_on_ordinary_inputs() {
        let data = Data {
            train: SyntheticDigits::new(64, 0).generate(),
            test: SyntheticDigits::new(16, 1).generate(),
            kind: DatasetChoice::Synthetic,
            description: "synthetic digits".into(),
        };
        let probe = |spec: &str| {
            let cfg = config(Architecture::Mlp { hidden: vec![8] });
            Trainer::new(&cfg, spec, &data).unwrap().probe_activation()
        };
        assert_eq!(probe("relu"), None);
        assert_eq!(probe("mish"), None);
        assert_eq!(probe("softmax"), None);
        match probe("x/0") {
            Some(NonFiniteCause::Activation {
                input, gradient, ..
            }) => assert_eq!((input, gradient), (0.0, false)),
            other => panic!("{other:?}"),
        }
        match probe("sqrt(abs(x))") {
            Some(NonFiniteCause::Activation {
                input, gradient, ..
            }) => assert_eq!((input, gradient), (0.0, true)),
            other => panic!("{other:?}"),
        }
    }
}
