//! Checkpoints: [`Run::save`] and [`Run::resume`], a run with its model and optimizer, in one
//! safetensors file (see the [lab docs](super)); [`Trainer::save`] and [`Trainer::resume`]
//! for a [`Trainer`].

use std::collections::BTreeMap;
use std::path::Path;

use autograd::Var;
use datasets::DataLoader;
use nn::{Module, Sequential};
use optim::Optimizer;
use tensor::Tensor;

use super::data::Data;
use super::error::LabError;
use super::init::build_optimizer;
use super::run::Run;
use super::trainer::Trainer;
use crate::cli::LrDecay;
use crate::metrics::EpochMetrics;

impl Run {
    /// The metadata that identifies this run's architecture and settings, as
    /// `(key, description, value)`: a checkpoint resumes only where all of them agree.
    fn identity(&self, data: &Data) -> Vec<(&'static str, &'static str, String)> {
        vec![
            ("activation", "activation", self.spec.to_string()),
            ("architecture", "model", {
                self.config
                    .architecture
                    .describe(data.input_shape(), data.classes())
            }),
            ("hidden", "hidden sizes", self.config.architecture.sizes()),
            (nn::state::MODEL_KEY, "layers", self.layers.clone()),
            ("optimizer", "optimizer", self.config.optimizer.to_string()),
            ("lr", "learning rate", self.config.lr.to_string()),
            (
                "lr_decay",
                "learning-rate decay",
                self.config.lr_decay.to_string(),
            ),
            // The cosine curve spans the planned epochs: another --epochs is another curve
            // (compared only under the cosine decay; see `resume`).
            ("epochs", "planned epochs", self.config.epochs.to_string()),
            (
                "batch_size",
                "batch size",
                self.config.batch_size.to_string(),
            ),
            ("seed", "seed", self.config.seed.to_string()),
            ("dataset", "data set", data.kind.to_string()),
            (
                "train_images",
                "training images",
                data.train.len().to_string(),
            ),
        ]
    }

    /// Every metadata key [`save`](Self::save) writes (and `nn::state::save` adds).
    fn metadata_keys(&self, data: &Data) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = self.identity(data).iter().map(|(k, _, _)| *k).collect();
        keys.extend(SAVED_KEYS);
        keys
    }

    /// Saves the run of `model` and `optimizer` as it is now to `path` (atomically; see the
    /// [lab docs](super)).
    ///
    /// # Errors
    /// [`LabError::Checkpoint`] if the file cannot be written.
    pub fn save(
        &self,
        model: &Sequential,
        optimizer: &dyn Optimizer,
        path: &Path,
        data: &Data,
    ) -> Result<(), LabError> {
        let mut tensors = nn::state::state_dict(model);
        tensors.extend(
            optimizer
                .state_dict()
                .into_iter()
                .map(|(n, t)| (format!("{}{n}", nn::state::OPTIM_PREFIX), t)),
        );
        let losses: Vec<f32> = self.history.step_losses.iter().map(|&(_, l)| l).collect();
        let n = losses.len();
        tensors.push((STEP_LOSSES.to_string(), Tensor::from_vec(losses, [n])));
        let mut meta: BTreeMap<String, String> = self
            .identity(data)
            .into_iter()
            .map(|(k, _, v)| (k.to_string(), v))
            .collect();
        // the keys beyond the identity: SAVED_KEYS lists them for `resume`
        meta.insert(LAB_VERSION_KEY.into(), LAB_VERSION.into());
        meta.insert("activation_given".into(), self.activation.clone());
        meta.insert("init".into(), self.config.init.to_string());
        meta.insert("epoch".into(), self.epochs_done().to_string());
        meta.insert("step".into(), self.step.to_string());
        meta.insert("data_order".into(), DATA_ORDER.into());
        // Cannot fail: plain numbers, strings and lists.
        let metrics = serde_json::to_string(&self.history.epochs).expect("metrics serialize");
        meta.insert("metrics".into(), metrics);
        nn::state::save(path, &tensors, &meta).map_err(|source| LabError::Checkpoint {
            flag: "--save",
            source,
        })
    }

    /// Restores the run saved in `path` by [`save`](Self::save) into this run, `model` and
    /// `optimizer`: the weights, the optimizer state, the step, the history. The next epoch
    /// continues where it stopped.
    ///
    /// # Errors
    /// [`LabError::Checkpoint`] if the file is missing, truncated or corrupt;
    /// [`LabError::Resume`] if it was not written by the lab, or was saved from another
    /// architecture or other settings (naming each difference), or its contents do not fit
    /// the model. Nothing changes on error.
    pub fn resume(
        &mut self,
        model: &Sequential,
        optimizer: &mut dyn Optimizer,
        path: &Path,
        data: &Data,
    ) -> Result<(), LabError> {
        let resume_err = |reason: String| LabError::Resume {
            path: path.to_path_buf(),
            reason,
        };
        // Bounded before anything is read: the model, an optimizer's state of up to three
        // buffers a parameter, one loss a step, and the metadata; every tensor F32 as --save
        // writes it. A FIFO, device or folder is refused before it is opened.
        let limits =
            nn::state::Limits::for_module(model, 4 * optim::MAX_STEP, MAX_CHECKPOINT_HEADER, true);
        let mut ckpt =
            nn::state::load_with(path, &limits).map_err(|source| LabError::Checkpoint {
                flag: "--resume",
                source,
            })?;
        let meta = &ckpt.metadata;
        let Some(version) = meta.get(LAB_VERSION_KEY) else {
            return Err(resume_err(
                "not a checkpoint written by --save (its metadata has no lab version); \
                 pass a file that --save wrote"
                    .into(),
            ));
        };
        match version.parse::<u32>() {
            Ok(v) if v.to_string() == *version && v >= 1 && v <= LAB_VERSION_NUMBER => {}
            Ok(v) if v > LAB_VERSION_NUMBER && v.to_string() == *version => {
                return Err(resume_err(format!(
                    "written by lab checkpoint version {v}, but this build reads version \
                     {LAB_VERSION} only; resume it with the newer minidl that wrote it, or run \
                     without --resume to start afresh"
                )))
            }
            _ => {
                return Err(resume_err(format!(
                    "its lab_version {version:?} is not a version --save writes (this build \
                     writes {LAB_VERSION}); pass a file that --save wrote"
                )))
            }
        }
        let written = self.metadata_keys(data);
        if let Some(key) = meta.keys().find(|k| !written.contains(&k.as_str())) {
            return Err(resume_err(format!(
                "its metadata has `{key}`, which --save does not write; the file was edited or \
                 written by another program — pass a file that --save wrote"
            )));
        }
        if let Some(key) = SAVED_KEYS.iter().find(|k| !meta.contains_key(**k)) {
            return Err(resume_err(format!(
                "its metadata lacks `{key}`, which --save writes; the file was edited or \
                 written by another program — pass a file that --save wrote"
            )));
        }
        let fixed = [
            (nn::state::FORMAT_VERSION_KEY, FORMAT_VERSION.to_string()),
            ("data_order", DATA_ORDER.to_string()),
        ];
        for (key, ours) in fixed {
            if meta[key] != ours {
                return Err(resume_err(format!(
                    "its metadata has {key} {:?} where --save writes {ours:?}; the file was \
                     edited or written by another program — pass a file that --save wrote",
                    meta[key]
                )));
            }
        }
        let mut differences = Vec::new();
        let mut epochs_differ = false;
        for (key, what, ours) in self.identity(data) {
            let theirs = meta.get(key).map(String::as_str).unwrap_or("(none)");
            // The printed model differs whenever the activation or the sizes do; name it only
            // when nothing more specific differs.
            if key == nn::state::MODEL_KEY && !differences.is_empty() {
                continue;
            }
            // Under a per-epoch decay the curve does not depend on the run's length.
            if key == "epochs" && self.config.lr_decay != LrDecay::Cosine {
                continue;
            }
            if theirs != ours {
                epochs_differ |= key == "epochs";
                let (theirs, ours) = if key == nn::state::MODEL_KEY {
                    (one_line(theirs), one_line(&ours))
                } else {
                    (theirs.to_string(), ours)
                };
                differences.push(format!("{what} {theirs} in the checkpoint, {ours} here"));
            }
        }
        if !differences.is_empty() {
            let hint = if epochs_differ {
                " (the cosine learning-rate curve spans the planned epochs, so a run resumes with \
                 the --epochs it started with; a run made with --lr-decay G, e.g. 0.5, can be \
                 extended)"
            } else {
                ""
            };
            return Err(resume_err(format!(
                "saved from a different architecture or settings: {}; run with the \
                 checkpoint's settings{hint}, or without --resume to start afresh",
                differences.join("; ")
            )));
        }
        let number = |key: &str| -> Result<usize, LabError> {
            meta.get(key)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| {
                    resume_err(format!(
                        "its metadata lacks a valid `{key}` (a whole number); pass a file that \
                         --save wrote"
                    ))
                })
        };
        let (epoch, step) = (number("epoch")?, number("step")?);
        // every epoch is one pass over the same training images in batches of the same size
        let per_epoch = DataLoader::new(&data.train, self.config.batch_size).num_batches();
        if epoch.checked_mul(per_epoch) != Some(step) || step as u64 > optim::MAX_STEP {
            return Err(resume_err(format!(
                "its metadata says step {step} at epoch {epoch}, but an epoch of this run is \
                 {per_epoch} steps; the file was damaged or edited — use an earlier checkpoint"
            )));
        }
        let metrics = meta
            .get("metrics")
            .ok_or_else(|| resume_err("its metadata lacks `metrics`".into()))?;
        let epochs: Vec<EpochMetrics> = serde_json::from_str(metrics).map_err(|e| {
            resume_err(format!(
                "its `metrics` metadata is not what --save writes ({e}); pass a file that \
                 --save wrote"
            ))
        })?;
        nn::state::check_unique_keys(metrics).map_err(|e| {
            resume_err(format!(
                "its `metrics` metadata is ambiguous: {e}; the file was edited — pass a \
                     file that --save wrote"
            ))
        })?;
        if epochs.len() != epoch {
            return Err(resume_err(format!(
                "its metadata holds {} epochs of metrics for epoch {epoch}; the file is damaged",
                epochs.len()
            )));
        }
        if let Some((i, m)) = epochs
            .iter()
            .enumerate()
            .find(|(i, m)| m.epoch != i + 1 || m.steps != (i + 1) * per_epoch)
        {
            return Err(resume_err(format!(
                "its metrics number epoch {} as epoch {} at step {}; the file was damaged or \
                 edited — use an earlier checkpoint",
                i + 1,
                m.epoch,
                m.steps
            )));
        }
        let optim_state = ckpt.take_prefix(nn::state::OPTIM_PREFIX);
        let losses = ckpt.take_prefix(LAB_PREFIX);
        let losses = match losses.as_slice() {
            [(name, t)] if name == &STEP_LOSSES[LAB_PREFIX.len()..] && t.numel() == step => {
                t.to_vec()
            }
            _ => {
                return Err(resume_err(format!(
                    "it lacks `{STEP_LOSSES}` with one loss per step ({step})"
                )))
            }
        };
        // a cross-entropy loss is finite and ≥ 0, and a step that diverged is never saved
        if let Some(i) = losses.iter().position(|l| !(l.is_finite() && *l >= 0.0)) {
            return Err(resume_err(format!(
                "tensor `{STEP_LOSSES}` holds the loss {} at step {}; the file was saved from a \
                 diverged run or damaged — use an earlier checkpoint",
                losses[i],
                i + 1
            )));
        }
        // Check the optimizer's state against a scratch optimizer first, so that a failure
        // leaves this run untouched; then load model and optimizer for real.
        let mut scratch = build_optimizer(
            self.config.optimizer,
            self.config.lr,
            model
                .parameters()
                .iter()
                .map(|p| Var::parameter(p.value()))
                .collect(),
        );
        scratch
            .load_state_dict(&optim_state)
            .map_err(|e| resume_err(e.to_string()))?;
        // the optimizer counts the same steps as the run
        let optim_step = optim_state
            .iter()
            .find(|(n, _)| n == "step")
            .map(|(_, t)| t.data().first().copied().unwrap_or(f32::NAN));
        if let Some(s) = optim_step.filter(|&s| s != step as f32) {
            return Err(resume_err(format!(
                "tensor `{}step` is {s} but the run's step is {step}; the file was damaged or \
                 edited — use an earlier checkpoint",
                nn::state::OPTIM_PREFIX
            )));
        }
        nn::state::load_state_dict(model, &ckpt.tensors).map_err(|e| resume_err(e.to_string()))?;
        optimizer
            .load_state_dict(&optim_state)
            .map_err(|e| resume_err(e.to_string()))?;
        self.step = step;
        self.run_start = step;
        self.history.epochs = epochs;
        self.history.step_losses = losses
            .into_iter()
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .collect();
        Ok(())
    }
}

impl Trainer {
    /// Saves the run as it is now to `path` (atomically; see the [lab docs](super)).
    ///
    /// # Errors
    /// [`LabError::Checkpoint`] if the file cannot be written.
    pub fn save(&self, path: &Path, data: &Data) -> Result<(), LabError> {
        self.run
            .save(&self.model, self.optimizer.as_ref(), path, data)
    }

    /// Restores the run saved in `path` by [`save`](Self::save): model, optimizer state, step,
    /// history. The next [`run_epoch`](Self::run_epoch) continues where it stopped.
    ///
    /// # Errors
    /// As [`Run::resume`]. Nothing changes on error.
    pub fn resume(&mut self, path: &Path, data: &Data) -> Result<(), LabError> {
        self.run
            .resume(&self.model, self.optimizer.as_mut(), path, data)
    }
}

/// Metadata key holding the lab's checkpoint version.
pub const LAB_VERSION_KEY: &str = "lab_version";
/// The lab checkpoint version this build writes (and the newest it reads).
pub const LAB_VERSION: &str = "1";
/// [`LAB_VERSION`] as a number.
const LAB_VERSION_NUMBER: u32 = 1;
/// The largest checkpoint header `--resume` reads: the metadata is a few kilobytes an epoch.
const MAX_CHECKPOINT_HEADER: u64 = 16 << 20;
/// The metadata keys [`Trainer::save`] writes besides the run's identity (and `nn::state`'s
/// format version): `resume` refuses any other.
const SAVED_KEYS: [&str; 8] = [
    LAB_VERSION_KEY,
    "activation_given",
    "init",
    "epoch",
    "step",
    "data_order",
    "metrics",
    nn::state::FORMAT_VERSION_KEY,
];
/// How the data order is drawn, as the metadata of a checkpoint says it.
const DATA_ORDER: &str =
    "DataLoader::shuffle(seed).epoch(e): ChaCha8 seeded with the seed, stream e";
/// [`nn::state::FORMAT_VERSION`]: the one `--resume` reads.
const FORMAT_VERSION: u32 = nn::state::FORMAT_VERSION;
/// Name prefix of the lab's own tensors in a checkpoint.
const LAB_PREFIX: &str = "lab.";
/// The tensor holding every step's training loss.
const STEP_LOSSES: &str = "lab.step_losses";

/// A multi-line printed model squeezed onto one line for a message.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
