//! [`RunConfig`]: everything that shapes a training run except the activation and the data.

use optim::schedule::ExponentialLr;
use optim::{CosineAnnealingLr, LrSchedule};

use super::architecture::Architecture;
use super::data::Data;
use super::error::LabError;
use crate::cli::{InitKind, LabArgs, LrDecay, OptimizerKind};

/// Everything that shapes a training run except the activation and the data.
#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    /// The network.
    pub architecture: Architecture,
    /// Weight initialisation.
    pub init: InitKind,
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// Its learning rate at the start.
    pub lr: f32,
    /// How the learning rate falls over the run ([`RunConfig::schedule`]).
    pub lr_decay: LrDecay,
    /// Epochs to train in total.
    pub epochs: usize,
    /// Training batch size.
    pub batch_size: usize,
    /// Seed of the weights and the data order.
    pub seed: u64,
    /// No progress bar (and, in the `mnist` example, no layer tables).
    pub quiet: bool,
}

impl RunConfig {
    /// The settings `args` asks for.
    ///
    /// # Errors
    /// As [`Architecture::from_args`].
    pub fn from_args(args: &LabArgs) -> Result<RunConfig, LabError> {
        Ok(RunConfig {
            architecture: Architecture::from_args(&args.model)?,
            init: args.train.init,
            optimizer: args.train.optimizer,
            lr: args.train.learning_rate(args.model.model),
            lr_decay: args.train.lr_decay,
            epochs: args.train.epochs,
            batch_size: args.train.batch_size,
            seed: args.train.seed,
            quiet: args.output.quiet,
        })
    }

    /// The optimizer and its learning rate: `"adam, lr 0.001 → 0 (cosine)"`,
    /// `"sgd, lr 0.1 × 0.5 per epoch"`, `"sgd, lr 0.1"`.
    pub fn optimizer_text(&self) -> String {
        match self.lr_decay {
            LrDecay::Cosine => format!("{}, lr {} → 0 (cosine)", self.optimizer, self.lr),
            LrDecay::PerEpoch(1.0) => format!("{}, lr {}", self.optimizer, self.lr),
            LrDecay::PerEpoch(g) => {
                format!("{}, lr {} × {g} per epoch", self.optimizer, self.lr)
            }
        }
    }

    /// The learning-rate schedule of `--lr-decay` for a run of [`epochs`](Self::epochs)
    /// epochs of `steps_per_epoch` steps, indexed by the step of the run s = epoch·T + t (from
    /// 0): with S = epochs·T, lr·(1 + cos(π·s/S))/2 for [`LrDecay::Cosine`]
    /// ([`CosineAnnealingLr`] over the whole run, held at 0 past its end), lr·G^(s/T) for
    /// [`LrDecay::PerEpoch`] ([`ExponentialLr`] by G per epoch, spread over its steps). It
    /// depends only on the position in the run, so a resumed run follows the same curve.
    pub fn schedule(&self, steps_per_epoch: usize) -> RunSchedule {
        let per_epoch = steps_per_epoch.max(1);
        match self.lr_decay {
            LrDecay::Cosine => {
                let steps = self.epochs.max(1).saturating_mul(per_epoch);
                RunSchedule::Cosine(CosineAnnealingLr::new(self.lr, steps, 0.0))
            }
            LrDecay::PerEpoch(g) => {
                RunSchedule::PerEpoch(ExponentialLr::new(self.lr, g).per(per_epoch))
            }
        }
    }

    /// The settings as `(name, value)` pairs, for reports.
    pub fn settings(&self, data: &Data) -> Vec<(String, String)> {
        let arch = self
            .architecture
            .describe(data.input_shape(), data.classes());
        [
            ("data", data.description.clone()),
            (
                "images",
                format!("{} training, {} test", data.train.len(), data.test.len()),
            ),
            ("model", arch),
            ("init", self.init.to_string()),
            ("optimizer", self.optimizer_text()),
            ("epochs", self.epochs.to_string()),
            ("batch size", self.batch_size.to_string()),
            ("seed", self.seed.to_string()),
            ("threads", tensor::num_threads().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

/// The learning rate at each step of a run ([`RunConfig::schedule`]).
#[derive(Clone, Copy, Debug)]
pub enum RunSchedule {
    /// From lr to 0 over the run; 0 past its end, where PyTorch's `CosineAnnealingLR` would
    /// rise again (a run never goes past its planned epochs under the cosine decay: `--resume`
    /// refuses another `--epochs`).
    Cosine(CosineAnnealingLr),
    /// By G per epoch, smoothly.
    PerEpoch(ExponentialLr),
}

impl LrSchedule for RunSchedule {
    fn lr_at(&self, step: usize) -> f32 {
        match self {
            RunSchedule::Cosine(s) => s.lr_at(step.min(s.t_max)),
            RunSchedule::PerEpoch(s) => s.lr_at(step),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::LrDecay;

    /// The rate at step `t` of epoch `epoch`, epochs of `per_epoch` steps.
    fn lr_at(c: &RunConfig, epoch: usize, t: usize, per_epoch: usize) -> f32 {
        c.schedule(per_epoch).lr_at(epoch * per_epoch + t)
    }

    /// The formula of the lab's own schedule before it used optim's, as it was written: the
    /// reference the schedules must equal bit for bit (the metrics of saved runs depend on it).
    fn formula(c: &RunConfig, epoch: usize, t: usize, steps_per_epoch: usize) -> f32 {
        let per_epoch = steps_per_epoch.max(1) as f64;
        let x = epoch as f64 + t as f64 / per_epoch;
        let factor = match c.lr_decay {
            LrDecay::Cosine => {
                let fraction = (x / c.epochs.max(1) as f64).min(1.0);
                0.5 * (1.0 + (std::f64::consts::PI * fraction).cos())
            }
            LrDecay::PerEpoch(g) => (g as f64).powf(x),
        };
        (c.lr as f64 * factor) as f32
    }

    #[test]
    fn the_schedules_equal_the_formula_bit_for_bit() {
        let base = config(Architecture::reference_cnn());
        let mut checked = 0;
        for lr in [1e-3f32, 3e-4, 0.003, 0.01, 0.02, 0.05, 0.1, 0.5, 1.0] {
            for decay in [
                LrDecay::Cosine,
                LrDecay::PerEpoch(0.5),
                LrDecay::PerEpoch(0.9),
                LrDecay::PerEpoch(0.97),
                LrDecay::PerEpoch(1.0),
            ] {
                for epochs in 1..=5 {
                    for per_epoch in [1, 2, 3, 7, 10, 16, 47, 100, 157, 938] {
                        let c = RunConfig {
                            lr,
                            lr_decay: decay,
                            epochs,
                            ..base.clone()
                        };
                        let s = c.schedule(per_epoch);
                        // one epoch past the end too: the cosine stays at 0 there
                        for epoch in 0..=epochs {
                            for t in 0..per_epoch {
                                let (new, old) = (
                                    s.lr_at(epoch * per_epoch + t),
                                    formula(&c, epoch, t, per_epoch),
                                );
                                assert_eq!(
                                    new.to_bits(),
                                    old.to_bits(),
                                    "{c:?} epoch {epoch} step {t} of {per_epoch}: {new} vs {old}"
                                );
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 1_000_000, "{checked}");
    }

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
    fn learning_rates_and_their_text() {
        let c = config(Architecture::reference_cnn());
        assert_eq!(lr_at(&c, 0, 0, 100), 1e-3);
        assert_eq!(lr_at(&c, 1, 0, 100), 5e-4);
        assert!((lr_at(&c, 0, 50, 100) - 1e-3 * 0.5f32.sqrt()).abs() < 1e-9);
        assert!((lr_at(&c, 2, 25, 100) - 1e-3 * 0.5f32.powf(2.25)).abs() < 1e-9);
        assert_eq!(c.optimizer_text(), "adam, lr 0.001 × 0.5 per epoch");
        let constant = RunConfig {
            lr_decay: LrDecay::PerEpoch(1.0),
            ..c.clone()
        };
        assert_eq!(lr_at(&constant, 7, 3, 10), 1e-3);
        assert_eq!(constant.optimizer_text(), "adam, lr 0.001");
        // Cosine over 2 epochs of 100 steps: 1, ½ at the middle (step 100), ≈ 0 at the end.
        let cosine = RunConfig {
            lr_decay: LrDecay::Cosine,
            ..c
        };
        assert_eq!(lr_at(&cosine, 0, 0, 100), 1e-3);
        assert!((lr_at(&cosine, 1, 0, 100) - 5e-4).abs() < 1e-10);
        let quarter = 1e-3 * 0.5 * (1.0 + std::f32::consts::FRAC_1_SQRT_2);
        assert!((lr_at(&cosine, 0, 50, 100) - quarter).abs() < 1e-9);
        assert!(lr_at(&cosine, 1, 99, 100) < 1e-3 * 3e-4);
        assert_eq!(lr_at(&cosine, 5, 0, 100), 0.0, "past the end: 0");
        assert_eq!(cosine.optimizer_text(), "adam, lr 0.001 → 0 (cosine)");
    }
}
