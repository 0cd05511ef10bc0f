//! [`Trainer`]: one activation's training run epoch by epoch, holding its model and optimizer;
//! the examples that study one phenomenon each, and the tests, use it.

use autograd::Var;
use datasets::Dataset;
use nn::loss::cross_entropy;
use nn::{Diagnostics, Module, Sequential};
use optim::Optimizer;

use super::architecture::MODEL_FLAGS;
use super::config::RunConfig;
use super::data::Data;
use super::error::{parse_activation, LabError};
use super::init::build_optimizer;
use super::run::{EpochTraining, Evaluation, Run};
use crate::metrics::{EpochMetrics, LayerStats, RunHistory};

/// One activation's training run: the model, its optimizer, and the [`Run`] that keeps the
/// diagnostics and the history. Its training step is the `mnist` example's loop.
pub struct Trainer {
    pub(super) run: Run,
    pub(super) model: Sequential,
    pub(super) optimizer: Box<dyn Optimizer>,
}

impl Trainer {
    /// Builds the network for `data` with `activation` (a spec such as `"leaky_relu:0.1"`),
    /// initialises it from `config.seed`, and makes the optimizer. Nothing is trained yet.
    ///
    /// # Errors
    /// [`LabError::Activation`] if the spec does not parse; [`LabError::Usage`] for a network
    /// too large or images too small for it ([`Architecture::check`](super::Architecture::check)),
    /// or an activation that does not fit it.
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
        let optimizer = build_optimizer(config.optimizer, config.lr, model.parameters());
        let run = Run::start(config, activation, spec, &model, &data.train, &mut rng)?;
        Ok(Trainer {
            run,
            model,
            optimizer,
        })
    }

    /// The activation as given.
    pub fn activation(&self) -> &str {
        self.run.activation()
    }

    /// The network.
    pub fn model(&self) -> &Sequential {
        &self.model
    }

    /// The optimizer.
    pub fn optimizer(&self) -> &dyn Optimizer {
        self.optimizer.as_ref()
    }

    /// The run's bookkeeping: settings, diagnostics, history.
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// The diagnostics attached to the model: gradient norms of this epoch (and of the very
    /// first step), activation statistics of the last evaluation, learnable values.
    pub fn diagnostics(&self) -> &Diagnostics {
        self.run.diagnostics()
    }

    /// Everything recorded so far.
    pub fn history(&self) -> &RunHistory {
        self.run.history()
    }

    /// The history, ending the run.
    pub fn into_history(self) -> RunHistory {
        self.run.into_history()
    }

    /// Epochs finished.
    pub fn epochs_done(&self) -> usize {
        self.run.epochs_done()
    }

    /// Optimizer steps taken.
    pub fn steps(&self) -> usize {
        self.run.steps()
    }

    /// Whether the run has reached its configured number of epochs.
    pub fn is_finished(&self) -> bool {
        self.run.is_finished()
    }

    /// Trains one epoch on `train` (the next epoch of the run: its data order is
    /// `shuffle(seed).epoch(e)`), with a progress bar unless quiet, recording every step's
    /// loss in the history. The diagnostics start a new epoch: gradient norms are averaged over
    /// this epoch's steps.
    pub fn train_epoch(&mut self, train: &Dataset) -> EpochTraining {
        self.train_loop(train, false)
            .expect("an unchecked epoch does not fail");
        self.run.finish_training()
    }

    /// [`Trainer::train_epoch`], stopping at the first step whose loss is NaN or ±inf
    /// ([`LabError::Diverged`]) and, in anomaly mode ([`autograd::detect_anomaly`]), at the
    /// first op that produced one ([`LabError::Anomaly`], checked after each forward and
    /// each backward), before that step's optimizer update.
    ///
    /// # Errors
    /// [`LabError::Diverged`] or [`LabError::Anomaly`].
    pub fn try_train_epoch(&mut self, train: &Dataset) -> Result<EpochTraining, LabError> {
        self.train_loop(train, true)?;
        Ok(self.run.finish_training())
    }

    /// The steps of one epoch; with `check`, the checks of
    /// [`try_train_epoch`](Self::try_train_epoch).
    fn train_loop(&mut self, train: &Dataset, check: bool) -> Result<(), LabError> {
        train_epoch(
            &mut self.run,
            &self.model,
            self.optimizer.as_mut(),
            train,
            check,
        )
    }

    /// Loss and accuracy on `test`, in evaluation mode and without building a graph, in
    /// batches of [`EVAL_BATCH`](super::EVAL_BATCH).
    pub fn evaluate(&self, test: &Dataset) -> Evaluation {
        self.run.evaluate(&self.model, test)
    }

    /// Trains one epoch, evaluates, and records the epoch's metrics (with the per-layer
    /// diagnostics) in the history; returns them.
    pub fn run_epoch(&mut self, data: &Data) -> &EpochMetrics {
        self.train_loop(&data.train, false)
            .expect("an unchecked epoch does not fail");
        self.run
            .end_epoch(&self.model, &data.test, false)
            .expect("an unchecked epoch does not fail")
    }

    /// [`Trainer::run_epoch`] with the checks of [`Trainer::try_train_epoch`], and of the
    /// test loss: an epoch that ends with a model whose test loss is not finite (the last
    /// update overflowed) is an error too, so such a model is never saved.
    ///
    /// # Errors
    /// [`LabError::Diverged`] or [`LabError::Anomaly`].
    pub fn try_run_epoch(&mut self, data: &Data) -> Result<&EpochMetrics, LabError> {
        self.train_loop(&data.train, true)?;
        self.run.end_epoch(&self.model, &data.test, true)
    }

    /// The per-layer rows of the metrics, in model order (see [`Run::layer_stats`]).
    pub fn layer_stats(&self) -> Vec<LayerStats> {
        self.run.layer_stats(&self.model)
    }
}

/// The steps of one epoch of `run` on `train`: the `mnist` example's loop (a step: the
/// learning rate, forward, loss, backward, update, with the run's bookkeeping between); with
/// `check`, its checks before each update. [`Run::end_epoch`] ends the epoch.
pub(super) fn train_epoch(
    run: &mut Run,
    model: &Sequential,
    opt: &mut dyn Optimizer,
    train: &Dataset,
    check: bool,
) -> Result<(), LabError> {
    model.train();
    for (x, y) in run.batches_of(train, run.epochs_done()) {
        opt.set_lr(run.lr());
        let logits = model.forward(&Var::constant(x));
        let loss = cross_entropy(&logits, &y);
        if check {
            run.check(&loss)?;
        }
        opt.zero_grad();
        loss.backward();
        if check {
            run.check_grads()?;
        }
        opt.step();
        run.record(&loss, &logits, &y);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::architecture::Architecture;
    use super::*;
    use crate::cli::{DatasetChoice, InitKind, LrDecay, OptimizerKind};
    use datasets::SyntheticDigits;
    use optim::LrSchedule;

    #[test]
    fn trainer_trains_evaluates_and_reports_layers_in_model_order() {
        let data = Data {
            train: SyntheticDigits::new(256, 1).generate(),
            test: SyntheticDigits::new(200, 2).generate(),
            kind: DatasetChoice::Synthetic,
            description: "synthetic digits".into(),
        };
        let c = RunConfig {
            architecture: Architecture::Mlp { hidden: vec![16] },
            init: InitKind::Default,
            optimizer: OptimizerKind::Adam,
            lr: 1e-3,
            lr_decay: LrDecay::PerEpoch(0.5),
            epochs: 1,
            batch_size: 64,
            seed: 0,
            quiet: true,
        };
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
}
