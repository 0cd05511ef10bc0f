//! The proxy task a candidate is scored on, and the runner that scores many candidates on
//! several threads.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::cli::{InitKind, LrDecay, OptimizerKind};
use crate::lab::{Architecture, Data, LabError, RunConfig, Trainer};

use super::leaderboard::{fnv1a, Record, Settings, Shard, LEADERBOARD_VERSION};

/// The proxy task: a deep narrow MLP trained for a fixed number of steps on the first
/// [`train`](Self::train) training images and scored on the first [`test`](Self::test) test
/// images. Every candidate gets the same initial weights (drawn from the seed; the
/// initialisation does not depend on the activation unless `init` is Kaiming or Xavier, which
/// use its gain) and the same batches in the same order, so the activation is the only thing
/// that differs; a candidate's result does not depend on which others run, in which order,
/// in which shard or on how many threads (the kernels give the same bits on any thread count).
#[derive(Clone, Debug, PartialEq)]
pub struct ProxyTask {
    /// Hidden layers.
    pub depth: usize,
    /// Width of each hidden layer.
    pub width: usize,
    /// Weight initialisation.
    pub init: InitKind,
    /// Optimizer.
    pub optimizer: OptimizerKind,
    /// Learning rate at the start.
    pub lr: f32,
    /// How it falls over the run.
    pub lr_decay: LrDecay,
    /// Batch size.
    pub batch_size: usize,
    /// Epochs over the training images.
    pub epochs: usize,
    /// Seed of the weights and the data order (the search's; `--top` re-runs use others).
    pub seed: u64,
    /// Training images: the first ones of the training set.
    pub train: usize,
    /// Held-out images: the first ones of the test set.
    pub test: usize,
}

impl Default for ProxyTask {
    /// The search's standard proxy (the `search` example's defaults): 8 hidden layers of 32
    /// units, Kaiming initialisation, Adam at lr 3e-3 with cosine decay, batch 64, 10 epochs
    /// over the first 2,000 training images, scored on the first 2,000 test images, seed 0.
    fn default() -> ProxyTask {
        ProxyTask {
            depth: 8,
            width: 32,
            init: InitKind::Kaiming,
            optimizer: OptimizerKind::Adam,
            lr: 3e-3,
            lr_decay: LrDecay::Cosine,
            batch_size: 64,
            epochs: 10,
            seed: 0,
            train: 2000,
            test: 2000,
        }
    }
}

impl ProxyTask {
    /// The lab's settings of a run with `seed`.
    pub fn config(&self, seed: u64) -> RunConfig {
        RunConfig {
            architecture: Architecture::Mlp {
                hidden: vec![self.width; self.depth],
            },
            init: self.init,
            optimizer: self.optimizer,
            lr: self.lr,
            lr_decay: self.lr_decay,
            epochs: self.epochs,
            batch_size: self.batch_size,
            seed,
            quiet: true,
        }
    }

    /// The images of the task: the first [`train`](Self::train) training and
    /// [`test`](Self::test) test images of `data`.
    ///
    /// # Errors
    /// [`LabError::Usage`] when `data` has fewer images than asked for.
    pub fn data(&self, data: &Data) -> Result<Data, LabError> {
        for (flag, want, have) in [
            ("--train", self.train, data.train.len()),
            ("--test", self.test, data.test.len()),
        ] {
            if want > have {
                return Err(LabError::Usage(format!(
                    "{flag} {want}: the data ({}) has only {have} such images: ask for {have} \
                     or fewer",
                    data.description
                )));
            }
        }
        Ok(Data {
            train: data.train.limit(self.train),
            test: data.test.limit(self.test),
            kind: data.kind,
            description: data.description.clone(),
        })
    }

    /// Steps per run: epochs × ⌈train / batch⌉.
    pub fn steps(&self) -> usize {
        self.epochs * self.train.div_ceil(self.batch_size.max(1))
    }

    /// The leaderboard's settings line for `candidates`, scored on `data` (from
    /// [`ProxyTask::data`]), in `shard`.
    pub fn settings(&self, data: &Data, candidates: &[String], shard: Shard) -> Settings {
        let list = candidates.join("\n");
        Settings {
            version: LEADERBOARD_VERSION,
            candidates: candidates.len(),
            candidates_hash: fnv1a(&[list.as_bytes()]),
            dataset: data.kind.to_string(),
            train: data.train.len(),
            test: data.test.len(),
            data_hash: fnv1a(&[
                data.train.images(),
                data.train.labels(),
                data.test.images(),
                data.test.labels(),
            ]),
            depth: self.depth,
            width: self.width,
            init: self.init.to_string(),
            optimizer: self.optimizer.to_string(),
            lr: self.lr,
            lr_decay: self.lr_decay.to_string(),
            batch_size: self.batch_size,
            epochs: self.epochs,
            seed: self.seed,
            shard,
        }
    }

    /// Trains the network with `formula` as its activation with `seed` on `data` (from
    /// [`ProxyTask::data`]) and scores it on the held-out images. A run whose loss goes NaN or
    /// infinite, or whose activation does not fit the network, is a record with a failure,
    /// not an error.
    pub fn evaluate(&self, index: usize, formula: &str, seed: u64, data: &Data) -> Record {
        let failed = |why: String| Record {
            index,
            formula: formula.to_string(),
            accuracy: None,
            loss: None,
            failure: Some(why),
        };
        let mut trainer = match Trainer::new(&self.config(seed), formula, data) {
            Ok(t) => t,
            Err(e) => return failed(e.to_string()),
        };
        let mut last = None;
        while !trainer.is_finished() {
            match trainer.try_run_epoch(data) {
                Ok(m) => last = Some((m.test_accuracy, m.test_loss)),
                Err(LabError::Diverged {
                    what, value, step, ..
                }) => return failed(format!("the {what} became {value} at step {step}")),
                Err(e) => return failed(e.to_string()),
            }
        }
        let (accuracy, loss) = last.unwrap_or((f32::NAN, f32::NAN));
        Record {
            index,
            formula: formula.to_string(),
            accuracy: Some(accuracy),
            loss: Some(loss),
            failure: None,
        }
    }
}

/// Runs `job(0) … job(n − 1)` on `threads` threads (each job on one thread, the kernels on one
/// thread each) and hands every result to `done` on the calling thread as it comes, in the
/// order they finish. When `done` fails, no new job starts, the running ones finish, and the
/// error is returned.
///
/// The kernels' thread count is set to 1 for the duration (the parallelism is the jobs'), and
/// set back after.
///
/// # Errors
/// The first error `done` returns.
pub fn run_parallel<T: Send>(
    n: usize,
    threads: usize,
    job: impl Fn(usize) -> T + Sync,
    mut done: impl FnMut(usize, T) -> Result<(), LabError>,
) -> Result<(), LabError> {
    let kernel_threads = tensor::num_threads();
    tensor::set_num_threads(1);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        for _ in 0..threads.clamp(1, n.max(1)) {
            let tx = tx.clone();
            let (next, stop, job) = (&next, &stop, &job);
            s.spawn(move || loop {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n || tx.send((i, job(i))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (i, r) in rx {
            if let Err(e) = done(i, r) {
                stop.store(true, Ordering::SeqCst);
                return Err(e);
            }
        }
        Ok(())
    });
    tensor::set_num_threads(kernel_threads);
    result
}
