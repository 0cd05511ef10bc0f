//! The shape of the network ([`Architecture`]: the MLP of the model flags or the reference
//! CNN), its size counted before anything is allocated, and the limits it is checked against.

use nn::activation::ActivationSpec;
use nn::Sequential;
use tensor::Rng;

use super::error::LabError;
use crate::cli::{ModelArgs, ModelKind};

/// The MLP's hidden widths when neither `--hidden` nor `--depth` is given. (784-128-64-10, the
/// benchmark's network, ends 3 epochs at 96.2–97.3% test accuracy — in PyTorch too — while
/// 784-256-128-10 reaches 97.7–98%.)
pub const DEFAULT_HIDDEN: [usize; 2] = [256, 128];

/// The width of each hidden layer for `--depth N` without `--width`.
pub const DEFAULT_WIDTH: usize = 64;

/// The most parameters a network may have: 2^26 = 67,108,864, 256 MiB of f32. Training holds
/// about four times that (the parameters, their gradients and Adam's two moments), 1 GiB,
/// which any machine that trains a network has. The default MLP has 235,146 parameters and the
/// CNN 28,938, so every network the examples are about is far below it, while a slip such as
/// `--hidden 10000000` (7.9 billion parameters on MNIST) is refused before anything is
/// allocated instead of aborting the process.
pub const MAX_PARAMETERS: usize = 1 << 26;

/// The most values the layers may output for one training batch: 2^27, 512 MiB of f32. The
/// graph keeps every layer's output until `backward`, which adds gradients of the same sizes,
/// so a batch at the limit needs 1 to 1.5 GiB. A batch of 64 through the default MLP holds
/// 100,000 values, through the CNN 9 million; the whole of MNIST (60,000 images) in one batch
/// through the default MLP, 94 million, still fits.
pub const MAX_BATCH_VALUES: usize = 1 << 27;

/// The most hidden layers an MLP may have. Every layer is a few ops per step, forward and
/// backward, whatever its width, so depth costs time even when the parameters are few:
/// `--depth 100000 --width 1` has 200,000 parameters but did not finish one epoch of 256
/// images in two minutes. 1000 layers is a hundred times the deepest network the examples
/// study (9): `--depth 1000 --width 64` trains one epoch of 256 images in 0.4 s (release
/// build, one thread, `--dataset synthetic --limit-train 256`).
pub const MAX_HIDDEN_LAYERS: usize = 1000;

/// The flags that shape the lab's MLP, for messages that ask for a smaller one.
pub const MODEL_FLAGS: &str = "--hidden, or --depth and --width";

/// How much a network holds: its parameters, and the values its layers output for one image.
/// Counted in `u128` with saturating arithmetic, so sizes from any command line compare
/// correctly with the limits (a count that saturates is far above them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkSize {
    /// Learnable numbers (weights and biases).
    pub parameters: u128,
    /// Values the layers output for one image: each layer's output, each activation's and
    /// pooling's, and a convolution's unfolded input.
    pub values_per_image: u128,
}

/// The size of a count of f32 values in bytes: `"256 MiB"`, `"29.6 GiB"`.
fn f32_bytes(values: u128) -> String {
    let bytes = values.saturating_mul(4) as f64;
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < units.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit + 1 == units.len() && v >= 1024.0 {
        return "more than a zebibyte".into();
    }
    if v >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0} {}", units[unit])
    } else {
        format!("{v:.1} {}", units[unit])
    }
}

/// A count for people: exact below 10^15, else `"about 3.4e38"`.
fn count(n: u128) -> String {
    if n < 1_000_000_000_000_000 {
        n.to_string()
    } else {
        format!("about {:.1e}", n as f64)
    }
}

/// Which network to build: the shape of the model, before any activation is chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// Linear layers of these hidden widths on flattened images, an activation after each.
    Mlp {
        /// The hidden widths, input side first (empty: a linear classifier).
        hidden: Vec<usize>,
    },
    /// The reference CNN (`nn::cnn`): for each channel count a 5×5 "same" convolution, the
    /// activation and a 2×2 max pooling, then one Linear layer.
    Cnn {
        /// Output channels of each convolution.
        channels: Vec<usize>,
        /// Kernel size (odd).
        kernel: usize,
    },
}

impl Architecture {
    /// The reference CNN: conv(1→16, 5×5) · act · pool · conv(16→32, 5×5) · act · pool · linear.
    pub fn reference_cnn() -> Architecture {
        Architecture::Cnn {
            channels: vec![16, 32],
            kernel: 5,
        }
    }

    /// The architecture the model flags ask for.
    ///
    /// # Errors
    /// [`LabError::Usage`] for `--hidden`, `--depth` or `--width` with `--model cnn`, and for
    /// hidden layers whose parameters alone, between them, exceed [`MAX_PARAMETERS`] on any
    /// data (found here, before the data is read).
    pub fn from_args(m: &ModelArgs) -> Result<Architecture, LabError> {
        match m.model {
            ModelKind::Cnn => {
                if m.hidden.is_some() || m.depth.is_some() {
                    return Err(LabError::Usage(
                        "--hidden, --depth and --width shape the MLP; the CNN is fixed \
                         (conv 16, conv 32, 5×5): drop them or use --model mlp"
                            .into(),
                    ));
                }
                Ok(Architecture::reference_cnn())
            }
            ModelKind::Mlp => {
                let (hidden, flags) = match (&m.hidden, m.depth) {
                    (Some(h), _) => (h.clone(), format!("--hidden {}", join(h))),
                    (None, Some(depth)) => {
                        let width = m.width.unwrap_or(DEFAULT_WIDTH);
                        // the widths are checked before the list is made: `--depth` may be huge
                        let flags = format!("--depth {depth} --width {width}");
                        check_deep_mlp(depth, width, &flags)?;
                        (vec![width; depth], flags)
                    }
                    (None, None) => (DEFAULT_HIDDEN.to_vec(), String::new()),
                };
                if hidden.len() > MAX_HIDDEN_LAYERS {
                    return Err(too_deep(hidden.len(), &flags));
                }
                let architecture = Architecture::Mlp { hidden };
                // One input pixel and one class: what every data set has at least.
                let least = architecture.size([1, 1, 1], 1).parameters;
                if least > MAX_PARAMETERS as u128 {
                    return Err(LabError::Usage(format!(
                        "{flags}: these hidden layers alone have {} parameters ({} of f32); \
                         the limit is {MAX_PARAMETERS} ({}): choose narrower or fewer layers",
                        count(least),
                        f32_bytes(least),
                        f32_bytes(MAX_PARAMETERS as u128),
                    )));
                }
                Ok(architecture)
            }
        }
    }

    /// Whether the network takes flattened images `[N, rows·cols]` (the MLP) rather than
    /// `[N, 1, rows, cols]`.
    pub fn flattens_input(&self) -> bool {
        matches!(self, Architecture::Mlp { .. })
    }

    /// The smallest image side the network takes: 1 for the MLP; for the CNN 2^k with k
    /// poolings by 2 (4 for the reference CNN), since each pooling needs at least 2×2 pixels.
    pub fn min_image_side(&self) -> usize {
        match self {
            Architecture::Mlp { .. } => 1,
            Architecture::Cnn { channels, .. } => 1usize
                .checked_shl(channels.len() as u32)
                .unwrap_or(usize::MAX),
        }
    }

    /// The parameters and the values per image of the network for images of `input` and
    /// `classes` outputs, counted without building it (and without overflow).
    pub fn size(&self, input: [usize; 3], classes: usize) -> NetworkSize {
        let n = |v: usize| v as u128;
        let mut parameters = 0u128;
        let mut values;
        match self {
            Architecture::Mlp { hidden } => {
                let pixels = input.iter().fold(1u128, |p, &d| p.saturating_mul(n(d)));
                values = pixels;
                let mut fan_in = pixels;
                for (i, &out) in hidden.iter().chain([&classes]).enumerate() {
                    let out = n(out);
                    let weights = fan_in.saturating_mul(out).saturating_add(out);
                    parameters = parameters.saturating_add(weights);
                    // a hidden layer's output and its activation's; the logits
                    let outputs = if i < hidden.len() { 2 } else { 1 };
                    values = values.saturating_add(out.saturating_mul(outputs));
                    fan_in = out;
                }
            }
            Architecture::Cnn { channels, kernel } => {
                let [c, h, w] = input.map(n);
                let k2 = n(*kernel).saturating_mul(n(*kernel));
                let (mut c, mut h, mut w) = (c, h, w);
                values = c.saturating_mul(h).saturating_mul(w);
                for &out in channels {
                    let out = n(out);
                    let hw = h.saturating_mul(w);
                    let weights = c.saturating_mul(out).saturating_mul(k2);
                    parameters = parameters.saturating_add(weights.saturating_add(out));
                    // the unfolded input, the convolution's and the activation's outputs,
                    // the pooled output
                    let unfolded = c.saturating_mul(k2).saturating_mul(hw);
                    let layer = out.saturating_mul(hw).saturating_mul(2);
                    let pooled = out.saturating_mul(h / 2).saturating_mul(w / 2);
                    values = values
                        .saturating_add(unfolded)
                        .saturating_add(layer)
                        .saturating_add(pooled);
                    (c, h, w) = (out, h / 2, w / 2);
                }
                let flat = c.saturating_mul(h).saturating_mul(w);
                let classes = n(classes);
                parameters =
                    parameters.saturating_add(flat.saturating_mul(classes).saturating_add(classes));
                values = values.saturating_add(classes);
            }
        }
        NetworkSize {
            parameters,
            values_per_image: values,
        }
    }

    /// Checks, before anything is allocated, that the network fits images of `input` with
    /// `classes` outputs and training batches of `batch` images: an image large enough for the
    /// CNN's poolings, at most [`MAX_HIDDEN_LAYERS`] hidden layers and [`MAX_PARAMETERS`]
    /// parameters, at most [`MAX_BATCH_VALUES`]
    /// layer outputs per batch. `flags` names what shapes the network, for the message
    /// ([`MODEL_FLAGS`] in the lab).
    ///
    /// # Errors
    /// [`LabError::Usage`] naming the flag, the size the network would need and the limit.
    pub fn check(
        &self,
        input: [usize; 3],
        classes: usize,
        batch: usize,
        flags: &str,
    ) -> Result<NetworkSize, LabError> {
        let [_, h, w] = input;
        let side = self.min_image_side();
        if h < side || w < side {
            return Err(LabError::Usage(format!(
                "--model cnn: the CNN halves the image {} times, so it needs images of at \
                 least {side}×{side} pixels, and these are {h}×{w}: use --model mlp or larger \
                 images",
                side.trailing_zeros()
            )));
        }
        if let Architecture::Mlp { hidden } = self {
            if hidden.len() > MAX_HIDDEN_LAYERS {
                return Err(too_deep(hidden.len(), flags));
            }
        }
        let size = self.size(input, classes);
        let describe = self.describe_counted(input, classes);
        let limit = MAX_PARAMETERS as u128;
        if size.parameters > limit {
            let fix = match self {
                Architecture::Mlp { .. } => format!("choose narrower or fewer layers ({flags})"),
                Architecture::Cnn { .. } => "use --model mlp or smaller images".into(),
            };
            return Err(LabError::Usage(format!(
                "model: {describe} would have {} parameters ({} of f32, about 4 times that \
                 to train); the limit is {MAX_PARAMETERS} ({}): {fix}",
                count(size.parameters),
                f32_bytes(size.parameters),
                f32_bytes(limit),
            )));
        }
        let limit = MAX_BATCH_VALUES as u128;
        let per_batch = size.values_per_image.saturating_mul(batch as u128);
        if per_batch > limit {
            let most = limit / size.values_per_image.max(1);
            let fix = if most == 0 {
                match self {
                    Architecture::Mlp { .. } => {
                        format!("even one image is too many: choose narrower layers ({flags})")
                    }
                    Architecture::Cnn { .. } => {
                        "even one image is too many: use --model mlp or smaller images".into()
                    }
                }
            } else {
                format!("use --batch-size {most} or less")
            };
            return Err(LabError::Usage(format!(
                "--batch-size: a batch of {batch} images through the {describe} holds {} \
                 layer outputs ({} of f32, more with the gradients); the limit is \
                 {MAX_BATCH_VALUES} ({}): {fix}",
                count(per_batch),
                f32_bytes(per_batch),
                f32_bytes(limit),
            )));
        }
        Ok(size)
    }

    /// [`Architecture::describe`] for messages about sizes: it writes out each hidden width
    /// only when there are few (a `--depth 100000` network is `MLP 784-64×100000-10`).
    fn describe_counted(&self, input: [usize; 3], classes: usize) -> String {
        match self {
            Architecture::Mlp { hidden }
                if hidden.len() > 8 && hidden.iter().all(|&w| w == hidden[0]) =>
            {
                let pixels = input
                    .iter()
                    .fold(1u128, |p, &d| p.saturating_mul(d as u128));
                format!("MLP {pixels}-{}×{}-{classes}", hidden[0], hidden.len())
            }
            Architecture::Mlp { hidden } if hidden.len() > 8 => {
                let pixels = input
                    .iter()
                    .fold(1u128, |p, &d| p.saturating_mul(d as u128));
                format!("MLP {pixels}-…({} hidden layers)…-{classes}", hidden.len())
            }
            _ => self.describe(input, classes),
        }
    }

    /// The network for images of `input = [C, H, W]` and `classes` outputs, a fresh layer of
    /// `activation` after every hidden layer, initialised with PyTorch's defaults from `rng`.
    ///
    /// # Errors
    /// As [`Architecture::check`] for a batch of one image (nothing is allocated then), with
    /// [`MODEL_FLAGS`] as the flags.
    pub fn build(
        &self,
        input: [usize; 3],
        classes: usize,
        activation: &ActivationSpec,
        rng: &mut Rng,
    ) -> Result<Sequential, LabError> {
        self.check(input, classes, 1, MODEL_FLAGS)?;
        Ok(match self {
            Architecture::Mlp { hidden } => {
                let mut sizes = vec![input.iter().product()];
                sizes.extend(hidden);
                sizes.push(classes);
                nn::mlp(&sizes, || activation.build(), rng)
            }
            Architecture::Cnn { channels, kernel } => nn::cnn(
                input,
                channels,
                *kernel,
                classes,
                || activation.build(),
                rng,
            ),
        })
    }

    /// A short description: `"MLP 784-128-64-10"`, `"CNN conv 16,32 (5×5)"`.
    pub fn describe(&self, input: [usize; 3], classes: usize) -> String {
        match self {
            Architecture::Mlp { hidden } => {
                let mut sizes = vec![input.iter().product::<usize>()];
                sizes.extend(hidden);
                sizes.push(classes);
                let sizes: Vec<String> = sizes.iter().map(usize::to_string).collect();
                format!("MLP {}", sizes.join("-"))
            }
            Architecture::Cnn { channels, kernel } => {
                format!("CNN conv {} ({kernel}×{kernel})", join(channels))
            }
        }
    }

    /// The sizes as the command line writes them: `"128,64"` for an MLP, `"conv 16,32 5x5"`.
    pub fn sizes(&self) -> String {
        match self {
            Architecture::Mlp { hidden } => join(hidden),
            Architecture::Cnn { channels, kernel } => {
                format!("conv {} {kernel}x{kernel}", join(channels))
            }
        }
    }
}

/// The error for an MLP of `layers` hidden layers, above [`MAX_HIDDEN_LAYERS`].
fn too_deep(layers: usize, flags: &str) -> LabError {
    LabError::Usage(format!(
        "{flags}: {layers} hidden layers; the limit is {MAX_HIDDEN_LAYERS} (each layer costs \
         time at every step, however narrow): choose fewer layers"
    ))
}

/// Refuses `--depth N --width W` whose hidden-to-hidden weights alone exceed
/// [`MAX_PARAMETERS`], before a list of N widths is made (N may be 2^64 − 1).
fn check_deep_mlp(depth: usize, width: usize, flags: &str) -> Result<(), LabError> {
    if depth > MAX_HIDDEN_LAYERS {
        return Err(too_deep(depth, flags));
    }
    let w = width as u128;
    let per_layer = w.saturating_mul(w).saturating_add(w);
    let least = per_layer.saturating_mul((depth as u128).saturating_sub(1));
    // also a list of N widths must not be the allocation that fails
    if least > MAX_PARAMETERS as u128 || depth > MAX_PARAMETERS {
        return Err(LabError::Usage(format!(
            "{flags}: {depth} hidden layers of {width} have at least {} parameters between \
             them ({} of f32); the limit is {MAX_PARAMETERS} ({}): choose fewer or narrower \
             layers",
            count(least.max(depth as u128)),
            f32_bytes(least.max(depth as u128)),
            f32_bytes(MAX_PARAMETERS as u128),
        )));
    }
    Ok(())
}

fn join(v: &[usize]) -> String {
    v.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::ModelArgs;
    use nn::Module;

    fn act(spec: &str) -> ActivationSpec {
        nn::activation::ActivationSpec::parse(spec).unwrap()
    }

    #[test]
    fn architecture_from_flags() {
        let m = |hidden: Option<Vec<usize>>, depth, width| ModelArgs {
            model: ModelKind::Mlp,
            hidden,
            depth,
            width,
        };
        assert_eq!(
            Architecture::from_args(&m(None, None, None)).unwrap(),
            Architecture::Mlp {
                hidden: vec![256, 128]
            }
        );
        assert_eq!(
            Architecture::from_args(&m(Some(vec![32]), None, None)).unwrap(),
            Architecture::Mlp { hidden: vec![32] }
        );
        assert_eq!(
            Architecture::from_args(&m(None, Some(3), None)).unwrap(),
            Architecture::Mlp {
                hidden: vec![64; 3]
            }
        );
        assert_eq!(
            Architecture::from_args(&m(None, Some(2), Some(8))).unwrap(),
            Architecture::Mlp { hidden: vec![8, 8] }
        );
        let cnn = ModelArgs {
            model: ModelKind::Cnn,
            ..ModelArgs::default()
        };
        assert_eq!(
            Architecture::from_args(&cnn).unwrap(),
            Architecture::reference_cnn()
        );
        let err = Architecture::from_args(&ModelArgs {
            hidden: Some(vec![10]),
            ..cnn
        })
        .unwrap_err();
        assert!(matches!(err, LabError::Usage(_)));
        assert_eq!(err.exit_code(), 2);
        assert!(err
            .to_string()
            .starts_with("--hidden, --depth and --width shape the MLP"));
    }

    #[test]
    fn architecture_builds_and_describes() {
        let mut rng = tensor::rng(0);
        let mlp = Architecture::Mlp { hidden: vec![8] };
        let model = mlp
            .build([1, 28, 28], 10, &act("leaky_relu:0.1"), &mut rng)
            .unwrap();
        assert_eq!(model.len(), 3);
        assert_eq!(model.num_parameters(), 784 * 8 + 8 + 8 * 10 + 10);
        assert_eq!(mlp.describe([1, 28, 28], 10), "MLP 784-8-10");
        assert_eq!(mlp.sizes(), "8");
        assert!(mlp.flattens_input());
        let linear = Architecture::Mlp { hidden: vec![] };
        assert_eq!(linear.describe([1, 2, 2], 3), "MLP 4-3");
        let cnn = Architecture::reference_cnn();
        let model = cnn.build([1, 28, 28], 10, &act("relu"), &mut rng).unwrap();
        assert_eq!(model.len(), 8);
        assert_eq!(
            model.num_parameters(),
            16 * 25 + 16 + 32 * 16 * 25 + 32 + 1568 * 10 + 10
        );
        assert_eq!(cnn.describe([1, 28, 28], 10), "CNN conv 16,32 (5×5)");
        assert_eq!(cnn.sizes(), "conv 16,32 5x5");
        assert!(!cnn.flattens_input());
    }

    #[test]
    fn sizes_are_counted_without_building_and_checked_against_the_limits() {
        let mut rng = tensor::rng(0);
        // the count equals what is built, for the MLP and the CNN, on any image size
        for (arch, input, classes) in [
            (Architecture::Mlp { hidden: vec![] }, [1, 2, 3], 4),
            (
                Architecture::Mlp {
                    hidden: vec![256, 128],
                },
                [1, 28, 28],
                10,
            ),
            (Architecture::reference_cnn(), [1, 28, 28], 10),
            (Architecture::reference_cnn(), [1, 5, 9], 3),
        ] {
            let size = arch.check(input, classes, 64, MODEL_FLAGS).unwrap();
            let model = arch.build(input, classes, &act("relu"), &mut rng).unwrap();
            assert_eq!(size.parameters, model.num_parameters() as u128, "{arch:?}");
        }
        let mlp = Architecture::Mlp {
            hidden: vec![256, 128],
        };
        assert_eq!(
            mlp.size([1, 28, 28], 10).values_per_image,
            784 + 2 * 256 + 2 * 128 + 10
        );
        // parameters: refused above 2^26, naming the size and the flags
        let wide = Architecture::Mlp {
            hidden: vec![10_000_000],
        };
        let Err(e) = wide.build([1, 28, 28], 10, &act("relu"), &mut rng) else {
            panic!("built a 7.9-billion-parameter MLP");
        };
        let e = e.to_string();
        assert!(
            e.starts_with("model: MLP 784-10000000-10 would have 7950000010 parameters"),
            "{e}"
        );
        assert!(e.contains("the limit is 67108864 (256 MiB)"), "{e}");
        assert!(e.contains(MODEL_FLAGS), "{e}");
        // just at the limit is allowed: 1 input pixel, 1 class, one layer of w units has 3w + 1
        let w = (MAX_PARAMETERS - 1) / 3;
        let edge = Architecture::Mlp { hidden: vec![w] };
        assert!(edge.check([1, 1, 1], 1, 1, "f").is_ok());
        let over = Architecture::Mlp {
            hidden: vec![w + 1],
        };
        assert!(over.check([1, 1, 1], 1, 1, "f").is_err());
        // counts that overflow any integer saturate and are refused, not wrapped
        let huge = Architecture::Mlp {
            hidden: vec![usize::MAX, usize::MAX, usize::MAX],
        };
        assert_eq!(huge.size([1, 28, 28], 10).parameters, u128::MAX);
        assert!(huge.check([1, 28, 28], 10, 1, "f").is_err());
        // the batch: the largest that fits is named
        let e = mlp
            .check([1, 28, 28], 10, 100_000, "f")
            .unwrap_err()
            .to_string();
        let most = MAX_BATCH_VALUES / 1562;
        assert!(
            e.starts_with("--batch-size: a batch of 100000 images"),
            "{e}"
        );
        assert!(
            e.contains(&format!("use --batch-size {most} or less")),
            "{e}"
        );
        assert!(mlp.check([1, 28, 28], 10, most, "f").is_ok());
        assert!(mlp.check([1, 28, 28], 10, most + 1, "f").is_err());
        // the CNN needs 4×4 images for its two poolings
        let cnn = Architecture::reference_cnn();
        assert_eq!(cnn.min_image_side(), 4);
        assert!(cnn.check([1, 4, 4], 10, 1, "f").is_ok());
        for input in [[1, 1, 1], [1, 3, 28], [1, 28, 3]] {
            let Err(e) = cnn.build(input, 10, &act("relu"), &mut rng) else {
                panic!("built a CNN on {input:?}");
            };
            let e = e.to_string();
            assert!(e.starts_with("--model cnn: "), "{e}");
            assert!(e.contains("at least 4×4 pixels"), "{e}");
        }
    }

    #[test]
    fn model_flags_too_large_for_any_data_are_refused_before_the_data_is_read() {
        let m = |hidden: Option<Vec<usize>>, depth, width| ModelArgs {
            model: ModelKind::Mlp,
            hidden,
            depth,
            width,
        };
        for (args, start) in [
            (
                m(Some(vec![usize::MAX]), None, None),
                "--hidden 18446744073709551615: these hidden layers alone",
            ),
            (
                m(Some(vec![100_000, 100_000]), None, None),
                "--hidden 100000,100000: these hidden layers alone have 10000400001",
            ),
            (
                m(None, Some(3), Some(1 << 20)),
                "--depth 3 --width 1048576: 3 hidden layers of 1048576",
            ),
        ] {
            let e = Architecture::from_args(&args).unwrap_err().to_string();
            assert!(e.starts_with(start), "{e}");
            assert!(e.contains("the limit is 67108864 (256 MiB)"), "{e}");
        }
        // depth: at most 1000 hidden layers, however narrow
        for args in [
            m(None, Some(usize::MAX), None),
            m(None, Some(1001), Some(1)),
            m(Some(vec![1; 1001]), None, None),
        ] {
            let e = Architecture::from_args(&args).unwrap_err().to_string();
            assert!(e.contains("hidden layers; the limit is 1000"), "{e}");
        }
        let e = Architecture::Mlp {
            hidden: vec![1; 1001],
        }
        .check([1, 28, 28], 10, 1, "--hidden")
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("--hidden: 1001 hidden layers"), "{e}");
        // the largest deep network the limits allow is still made
        assert!(Architecture::from_args(&m(None, Some(1000), Some(64))).is_ok());
    }
}
