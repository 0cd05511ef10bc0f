//! [`RunConfig`]: everything that shapes a training run except the activation and the data.

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
    /// How the learning rate falls over the run ([`RunConfig::lr_at`]).
    pub lr_decay: LrDecay,
    /// Epochs to train in total.
    pub epochs: usize,
    /// Training batch size.
    pub batch_size: usize,
    /// Seed of the weights and the data order.
    pub seed: u64,
    /// No progress bar (and, in [`run`], no layer tables).
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

    /// The learning rate at step `t` (from 0) of epoch `epoch` (from 0), when an epoch has
    /// `steps_per_epoch` steps: with s = epoch·T + t of S = epochs·T steps,
    /// lr·(1 + cos(π·s/S))/2 for [`LrDecay::Cosine`], lr·G^(epoch + t/T) for
    /// [`LrDecay::PerEpoch`]. It depends only on the position in the run, so a resumed run
    /// follows the same curve.
    pub fn lr_at(&self, epoch: usize, t: usize, steps_per_epoch: usize) -> f32 {
        let per_epoch = steps_per_epoch.max(1) as f64;
        let x = epoch as f64 + t as f64 / per_epoch;
        let factor = match self.lr_decay {
            LrDecay::Cosine => {
                let fraction = (x / self.epochs.max(1) as f64).min(1.0);
                0.5 * (1.0 + (std::f64::consts::PI * fraction).cos())
            }
            LrDecay::PerEpoch(g) => (g as f64).powf(x),
        };
        (self.lr as f64 * factor) as f32
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::LrDecay;

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
        assert_eq!(c.lr_at(0, 0, 100), 1e-3);
        assert_eq!(c.lr_at(1, 0, 100), 5e-4);
        assert!((c.lr_at(0, 50, 100) - 1e-3 * 0.5f32.sqrt()).abs() < 1e-9);
        assert!((c.lr_at(2, 25, 100) - 1e-3 * 0.5f32.powf(2.25)).abs() < 1e-9);
        assert_eq!(c.optimizer_text(), "adam, lr 0.001 × 0.5 per epoch");
        let constant = RunConfig {
            lr_decay: LrDecay::PerEpoch(1.0),
            ..c.clone()
        };
        assert_eq!(constant.lr_at(7, 3, 10), 1e-3);
        assert_eq!(constant.optimizer_text(), "adam, lr 0.001");
        // Cosine over 2 epochs of 100 steps: 1, ½ at the middle (step 100), ≈ 0 at the end.
        let cosine = RunConfig {
            lr_decay: LrDecay::Cosine,
            ..c
        };
        assert_eq!(cosine.lr_at(0, 0, 100), 1e-3);
        assert!((cosine.lr_at(1, 0, 100) - 5e-4).abs() < 1e-10);
        let quarter = 1e-3 * 0.5 * (1.0 + std::f32::consts::FRAC_1_SQRT_2);
        assert!((cosine.lr_at(0, 50, 100) - quarter).abs() < 1e-9);
        assert!(cosine.lr_at(1, 99, 100) < 1e-3 * 3e-4);
        assert_eq!(cosine.lr_at(5, 0, 100), 0.0, "past the end: 0");
        assert_eq!(cosine.optimizer_text(), "adam, lr 0.001 → 0 (cosine)");
    }
}
