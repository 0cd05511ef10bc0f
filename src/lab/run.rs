//! [`Run`]: the bookkeeping of one activation's training run around a loop its caller writes.
//!
//! The loop is the caller's: the `mnist` example writes it out, and [`Trainer`](super::Trainer)
//! holds a model and an optimizer and runs the same loop. At each step the run gives the
//! learning rate ([`Run::lr`]), stops a diverging run before its update ([`Run::check`] after
//! the forward pass, [`Run::check_grads`] after the backward pass) and records the step
//! ([`Run::record`]: its loss, the accuracy, the progress bar); after the epoch it evaluates on
//! the test set and records the epoch's metrics with the per-layer diagnostics.

use std::time::Instant;

use autograd::{no_grad, Var};
use datasets::{Batches, DataLoader, Dataset};
use nn::activation::ActivationSpec;
use nn::loss::{cross_entropy_with, Reduction};
use nn::{Diagnostics, Module, Sequential};
use optim::LrSchedule;
use tensor::{Rng, Tensor};

use super::cause::{NonFiniteCause, DOMAIN_OPS};
use super::config::{RunConfig, RunSchedule};
use super::error::LabError;
use super::init::init_weights;
use super::probe::{check_activation_fits, probe_activation};
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

/// One activation's training run, without the model and the optimizer (its caller holds
/// them): the settings, the diagnostics hooked on the model, the history, the step count and
/// the epoch being trained.
pub struct Run {
    pub(super) activation: String,
    pub(super) spec: ActivationSpec,
    /// The model as built (`Sequential(…)`), before any step: a checkpoint's identity. Printed
    /// later, a learnable activation would show its trained values (`ELU(alpha=1.0064 …)`),
    /// and the run could not be resumed by a model built afresh.
    pub(super) layers: String,
    pub(super) config: RunConfig,
    train: Dataset,
    pub(super) diagnostics: Diagnostics,
    pub(super) history: RunHistory,
    pub(super) step: usize,
    /// The step this run started from: 0, or the checkpoint's after `--resume`.
    pub(super) run_start: usize,
    epoch: Option<EpochProgress>,
    /// Whether the progress bar names the seed (one of several).
    pub(super) bar_seed: bool,
}

/// The epoch being trained: where it is, and its sums so far.
struct EpochProgress {
    schedule: RunSchedule,
    /// The run's step at the start of the epoch, in the schedule's counting.
    first: usize,
    /// Steps of this epoch done.
    t: usize,
    bar: EpochBar,
    start: Instant,
    loss_sum: f64,
    batches: usize,
    correct: usize,
    seen: usize,
}

impl Run {
    /// Starts the run of `model`, freshly built from `spec` (`given` is the spec as the user
    /// wrote it): initialises its weights from `rng` as `config.init` says, checks that the
    /// activation fits the network on one image of `train`, and hooks the diagnostics on it.
    ///
    /// # Errors
    /// [`LabError::Usage`] if the activation does not fit the network
    /// ([`check_activation_fits`]).
    pub fn start(
        config: &RunConfig,
        given: &str,
        spec: ActivationSpec,
        model: &Sequential,
        train: &Dataset,
        rng: &mut Rng,
    ) -> Result<Run, LabError> {
        init_weights(model, config.init, &spec, rng);
        let (c, h, w) = (1, train.rows(), train.cols());
        let one = if config.architecture.flattens_input() {
            vec![1, c * h * w]
        } else {
            vec![1, c, h, w]
        };
        check_activation_fits(model, &one, &spec, given)?;
        Ok(Run::attach(config, given, spec, model, train))
    }

    /// The run of `model` as it is: the diagnostics hooked on it, nothing else done.
    pub(super) fn attach(
        config: &RunConfig,
        given: &str,
        spec: ActivationSpec,
        model: &Sequential,
        train: &Dataset,
    ) -> Run {
        let activation = given.trim().to_string();
        Run {
            history: RunHistory::new(activation.clone()).with_seed(config.seed),
            activation,
            spec,
            layers: model.to_string(),
            config: config.clone(),
            train: train.clone(),
            diagnostics: Diagnostics::attach(model),
            step: 0,
            run_start: 0,
            epoch: None,
            bar_seed: false,
        }
    }

    /// The activation as given.
    pub fn activation(&self) -> &str {
        &self.activation
    }

    /// The settings.
    pub fn config(&self) -> &RunConfig {
        &self.config
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

    /// The epochs left to train, from 0: after `--resume` the first is the checkpoint's next.
    pub fn epochs(&self) -> std::ops::Range<usize> {
        self.epochs_done()..self.config.epochs
    }

    /// Starts epoch `epoch` (from 0; the next one, as [`epochs`](Self::epochs) gives them)
    /// and returns its batches of the training set, in the order
    /// `DataLoader::shuffle(seed).epoch(epoch)` gives: a progress bar starts unless quiet, and
    /// the diagnostics start a new epoch (gradient norms are averaged over its steps).
    ///
    /// # Panics
    /// If `epoch` is not the next epoch of the run.
    pub fn batches(&mut self, epoch: usize) -> Batches {
        let train = self.train.clone();
        self.batches_of(&train, epoch)
    }

    /// [`batches`](Self::batches) of `train`.
    pub(super) fn batches_of(&mut self, train: &Dataset, epoch: usize) -> Batches {
        assert_eq!(
            epoch,
            self.epochs_done(),
            "Run::batches: epoch {epoch} is not the run's next epoch"
        );
        let loader = DataLoader::new(train, self.config.batch_size)
            .shuffle(self.config.seed)
            .flatten(self.config.architecture.flattens_input())
            .prefetch(true);
        let steps = loader.num_batches();
        let mut label = format!("{} {}/{}", self.activation, epoch + 1, self.config.epochs);
        if self.bar_seed {
            label = format!("seed {} {label}", self.config.seed);
        }
        let bar = EpochBar::new(steps as u64, &label, self.config.quiet);
        self.diagnostics.begin_epoch();
        self.epoch = Some(EpochProgress {
            schedule: self.config.schedule(steps),
            first: epoch * steps,
            t: 0,
            bar,
            start: Instant::now(),
            loss_sum: 0.0,
            batches: 0,
            correct: 0,
            seen: 0,
        });
        loader.epoch(epoch as u64)
    }

    fn progress(&self) -> &EpochProgress {
        self.epoch
            .as_ref()
            .expect("Run::batches starts the epoch before its steps")
    }

    /// The learning rate of this step ([`RunConfig::schedule`] at the step of the run).
    ///
    /// # Panics
    /// Outside an epoch ([`batches`](Self::batches) starts one).
    pub fn lr(&self) -> f32 {
        let p = self.progress();
        p.schedule.lr_at(p.first + p.t)
    }

    /// After the forward pass: stops the run at a loss that is NaN or ±inf
    /// ([`LabError::Diverged`]), and in anomaly mode ([`autograd::detect_anomaly`], the
    /// `--detect-anomaly` flag) at the first op that produced one ([`LabError::Anomaly`]),
    /// before the step's update, so the model stays as the last good step left it.
    ///
    /// # Errors
    /// [`LabError::Anomaly`] or [`LabError::Diverged`], with what made it so.
    pub fn check(&self, loss: &Var) -> Result<(), LabError> {
        let step = self.step + 1;
        self.check_anomaly(step)?;
        let value = loss.item();
        if value.is_finite() {
            return Ok(());
        }
        Err(LabError::Diverged {
            epoch: self.epochs_done() + 1,
            step,
            what: "training loss",
            value,
            cause: self.non_finite_cause(None),
        })
    }

    /// After the backward pass, before the update: in anomaly mode, the first op whose
    /// gradient was NaN or ±inf.
    ///
    /// # Errors
    /// [`LabError::Anomaly`].
    pub fn check_grads(&self) -> Result<(), LabError> {
        self.check_anomaly(self.step + 1)
    }

    /// Records a step whose update is done: its loss in the history and the epoch's mean, the
    /// images of `labels` the `logits` got right, the progress bar.
    ///
    /// # Panics
    /// Outside an epoch ([`batches`](Self::batches) starts one).
    pub fn record(&mut self, loss: &Var, logits: &Var, labels: &Tensor) {
        let value = loss.item();
        self.step += 1;
        self.history.record_step(self.step, value);
        let p = self
            .epoch
            .as_mut()
            .expect("Run::batches starts the epoch before its steps");
        p.correct += count_correct(&logits.value(), labels);
        p.seen += labels.numel();
        p.loss_sum += value as f64;
        p.batches += 1;
        p.t += 1;
        let rate = p.seen as f64 / p.start.elapsed().as_secs_f64().max(1e-9);
        p.bar.update(
            (p.loss_sum / p.batches as f64) as f32,
            p.correct as f32 / p.seen as f32,
            rate,
        );
    }

    /// Ends the training part of the epoch: its mean loss, accuracy and time.
    pub(super) fn finish_training(&mut self) -> EpochTraining {
        let p = self
            .epoch
            .take()
            .expect("Run::batches starts the epoch before it ends");
        let seconds = p.start.elapsed().as_secs_f64();
        p.bar.finish();
        EpochTraining {
            loss: (p.loss_sum / p.batches.max(1) as f64) as f32,
            accuracy: p.correct as f32 / p.seen.max(1) as f32,
            seconds,
            samples: p.seen,
        }
    }

    /// Ends the epoch of `model`: its training figures, an evaluation on `test`, and the
    /// epoch's metrics (with the per-layer diagnostics) recorded in the history. With `check`,
    /// an anomaly found by the evaluation or a test loss that is not finite (the last update
    /// overflowed) is an error, so that such a model is never saved.
    ///
    /// # Errors
    /// With `check`: [`LabError::Diverged`] or [`LabError::Anomaly`].
    pub fn end_epoch(
        &mut self,
        model: &Sequential,
        test: &Dataset,
        check: bool,
    ) -> Result<&EpochMetrics, LabError> {
        let t = self.finish_training();
        let eval = self.evaluate(model, test);
        if check {
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
        }
        let metrics = EpochMetrics {
            activation: self.activation.clone(),
            seed: self.config.seed,
            epoch: self.epochs_done() + 1,
            steps: self.step,
            train_loss: t.loss,
            test_loss: eval.loss,
            test_accuracy: eval.accuracy,
            seconds: t.seconds,
            samples_per_sec: t.samples as f64 / t.seconds.max(1e-9),
            params: self.diagnostics.learnable_values(),
            layers: self.layer_stats(model),
        };
        self.history.record_epoch(metrics);
        Ok(self.history.epochs.last().expect("just recorded"))
    }

    /// Loss and accuracy of `model` on `test`, in evaluation mode and without building a
    /// graph, in batches of [`EVAL_BATCH`]; the activation probes of the diagnostics measure
    /// the activations' outputs meanwhile.
    pub fn evaluate(&self, model: &Sequential, test: &Dataset) -> Evaluation {
        let loader =
            DataLoader::new(test, EVAL_BATCH).flatten(self.config.architecture.flattens_input());
        model.eval();
        self.diagnostics.set_probing(true);
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        no_grad(|| {
            for (x, y) in loader.epoch(0) {
                let logits = model.forward(&Var::constant(x));
                loss_sum += cross_entropy_with(&logits, &y, Reduction::Sum, 0.0).item() as f64;
                correct += count_correct(&logits.value(), &y);
            }
        });
        self.diagnostics.set_probing(false);
        model.train();
        let n = test.len().max(1);
        Evaluation {
            loss: (loss_sum / n as f64) as f32,
            accuracy: correct as f32 / n as f32,
        }
    }

    /// The per-layer rows of the metrics, in model order: for each layer index, the
    /// gradient norm of its weight (Linear and Conv2d weights; mean over the epoch's steps),
    /// then the statistics of its output if it is an activation (measured by the last
    /// evaluation): `"0.weight"`, `"1"`, `"2.weight"`, …
    pub fn layer_stats(&self, model: &Sequential) -> Vec<LayerStats> {
        let grads = self.diagnostics.grad_norms();
        let acts = self.diagnostics.activation_stats();
        let params = model.named_parameters();
        let mut rows = Vec::new();
        for i in 0..model.len() {
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
        if let Some(cause) = probe_activation(&self.spec, &self.activation) {
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
    use super::*;

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
}
