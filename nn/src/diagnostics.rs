//! [`Diagnostics`]: what each activation layer and each parameter of a [`Sequential`] is doing
//! while it trains, collected through hooks, so no layer has code for it.
//!
//! | measure | per | definition | collected by |
//! | --- | --- | --- | --- |
//! | dead fraction | activation layer | share of units whose output was exactly 0 for every sample probed | a forward hook |
//! | saturated fraction | activation layer | share of (sample, unit) outputs with \|f′(x)\| < ε (ε = [`SATURATION_THRESHOLD`]): almost no gradient flows back through them | a forward hook and [`Module::derivative`] |
//! | mean, std | activation layer | of every output value probed | a forward hook |
//! | gradient norm | parameter | ‖∂loss/∂w‖₂ of each step, mean over the epoch's steps; also the first and the last | a gradient hook ([`Var::register_hook`]) |
//! | learnable values | scalar activation parameter | the current value (a Swish β) | reading the parameter |
//!
//! A *unit* is one entry of axis 1 of the activation's output: a feature of a `[N, F]` output,
//! a channel of a `[N, C, H, W]` one (the batch axis and any spatial axes are the samples); a
//! rank-0 or rank-1 output counts each element as a unit and the whole as one sample. So a
//! convolution channel is dead when it outputs 0 at every position of every image.
//!
//! Activation statistics are gathered only while probing ([`Diagnostics::set_probing`]), which
//! is meant for the evaluation pass over the test set: the dead fraction then means "zero for
//! every test image", and training pays nothing for it. A loop that evaluates under
//! [`autograd::no_grad`] and trains with gradients can instead leave the switching to
//! [`Diagnostics::set_probing_under_no_grad`]. The gradient hook is one pass over each
//! parameter's gradient per step.
//!
//! One epoch of a training loop:
//!
//! ```
//! use autograd::{no_grad, Var};
//! use nn::{mlp, Diagnostics, Module, Relu};
//! use tensor::{rng, Tensor};
//!
//! let mut r = rng(0);
//! let model = mlp(&[4, 8, 3], || Box::new(Relu), &mut r);
//! let diag = Diagnostics::attach(&model);
//! let (x, labels) = (Tensor::randn([16, 4], &mut r), Tensor::from_vec(vec![1.0; 16], [16]));
//!
//! diag.begin_epoch();
//! for _step in 0..3 {
//!     let loss = nn::cross_entropy(&model.forward(&Var::constant(x.clone())), &labels);
//!     model.parameters().iter().for_each(Var::zero_grad);
//!     loss.backward(); // the gradient hooks record ‖∂loss/∂w‖₂ of every parameter
//!     // optimizer.step() would go here
//! }
//! diag.set_probing(true); // the evaluation pass: activation statistics
//! model.eval();
//! no_grad(|| model.forward(&Var::constant(x.clone())));
//! model.train();
//! diag.set_probing(false);
//!
//! let acts = diag.activation_stats();
//! assert_eq!(acts[0].name, "1"); // the ReLU at index 1
//! assert_eq!(acts[0].units, 8);
//! let grads = diag.grad_norms();
//! assert_eq!(grads[0].name, "0.weight");
//! assert_eq!(grads[0].steps, 3);
//! # let _ = (grads, acts);
//! ```
//!
//! Names line up across models built the same way (`"1"` for the activation at index 1,
//! `"0.weight"` for the weight of index 0), so runs with different activations can be compared
//! layer by layer.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use autograd::{is_grad_enabled, HookHandle, Var};
use tensor::{shape_panic, Tensor};

use crate::module::{join_name, Module};
use crate::sequential::{ForwardHookHandle, Sequential};

/// The default ε of the saturated fraction: an output is saturated when |f′(x)| < ε. At 1e-2,
/// σ saturates for |x| > 4.6, tanh for |x| > 3.0, ReLU for every x < 0, and leaky ReLU (slope
/// 0.01) never.
pub const SATURATION_THRESHOLD: f32 = 1e-2;

/// What one activation layer did over the samples probed since the last
/// [`begin_epoch`](Diagnostics::begin_epoch).
#[derive(Clone, Debug, PartialEq)]
pub struct ActivationStats {
    /// The layer's name: its index in the `Sequential` (`"1"`).
    pub name: String,
    /// Fraction of units (axis 1 of the output) whose output was exactly 0 for every sample,
    /// in [0, 1].
    pub dead_fraction: f32,
    /// Fraction of (sample, unit) outputs with |f′(x)| below the threshold, in [0, 1]; `None`
    /// for an activation without an elementwise derivative (softmax, GLU, RReLU while training).
    pub saturated_fraction: Option<f32>,
    /// Mean of every output value.
    pub mean: f32,
    /// Standard deviation (population, 1/n) of every output value.
    pub std: f32,
    /// Number of units: the size of axis 1 of the output.
    pub units: usize,
    /// Number of samples seen (the sum of the batch sizes).
    pub samples: usize,
}

/// The gradient norms ‖∂loss/∂w‖₂ of one parameter over the steps since the last
/// [`begin_epoch`](Diagnostics::begin_epoch) (a step being one `backward()`).
#[derive(Clone, Debug, PartialEq)]
pub struct ParamGradStats {
    /// The parameter's name, as in `named_parameters()` (`"0.weight"`, `"3.beta"`).
    pub name: String,
    /// The mean over the steps of the norm at each step.
    pub mean_norm: f32,
    /// The norm at the last step.
    pub last_norm: f32,
    /// The norm at the first step (of the first epoch: the very first batch).
    pub first_norm: f32,
    /// How many steps were seen.
    pub steps: usize,
}

/// Running statistics of one activation layer.
#[derive(Default)]
struct LayerProbe {
    name: String,
    /// Per unit: whether any output was non-zero.
    alive: Vec<bool>,
    samples: usize,
    elements: u64,
    sum: f64,
    sum_sq: f64,
    /// Elements whose derivative was available, and how many of them were saturated.
    with_derivative: u64,
    saturated: u64,
}

impl LayerProbe {
    fn reset(&mut self) {
        *self = LayerProbe {
            name: std::mem::take(&mut self.name),
            ..LayerProbe::default()
        };
    }

    /// Adds one batch: `x` the activation's input, `y` its output.
    fn observe(&mut self, module: &dyn Module, x: &Tensor, y: &Tensor, threshold: f32) {
        let dims = y.dims();
        let (samples, units) = match dims {
            [] => (1, 1),
            [n] => (1, *n),
            [n, c, ..] => (*n, *c),
        };
        if self.alive.is_empty() && self.elements == 0 {
            self.alive = vec![false; units];
        } else if self.alive.len() != units {
            shape_panic(
                "Diagnostics",
                format_args!(
                    "activation {} gave an output {dims:?} with {units} units on axis 1, \
                     after outputs with {} units",
                    self.name,
                    self.alive.len()
                ),
            );
        }
        self.samples += samples;
        let data = y.data();
        self.elements += data.len() as u64;
        let inner = if dims.len() >= 2 {
            dims[2..].iter().product::<usize>()
        } else {
            1
        };
        // One chunk per (sample, unit): a unit lives as soon as one of its outputs is non-zero.
        if inner > 0 {
            for (j, chunk) in data.chunks(inner).enumerate() {
                let alive = &mut self.alive[j % units];
                if !*alive {
                    *alive = chunk.iter().any(|&v| v != 0.0);
                }
            }
        }
        let (mut s, mut s2) = (0f64, 0f64);
        for &v in data {
            let v = v as f64;
            s += v;
            s2 += v * v;
        }
        self.sum += s;
        self.sum_sq += s2;
        if let Some(d) = module.derivative(x) {
            if d.numel() == data.len() {
                self.with_derivative += data.len() as u64;
                self.saturated += d.data().iter().filter(|v| v.abs() < threshold).count() as u64;
            }
        }
    }

    fn stats(&self) -> ActivationStats {
        let n = self.elements as f64;
        let mean = self.sum / n;
        let var = (self.sum_sq / n - mean * mean).max(0.0);
        let units = self.alive.len();
        let dead = self.alive.iter().filter(|a| !**a).count();
        ActivationStats {
            name: self.name.clone(),
            dead_fraction: if units == 0 {
                0.0
            } else {
                dead as f32 / units as f32
            },
            saturated_fraction: (self.with_derivative > 0)
                .then(|| (self.saturated as f64 / self.with_derivative as f64) as f32),
            mean: mean as f32,
            std: var.sqrt() as f32,
            units,
            samples: self.samples,
        }
    }
}

/// Running gradient norms of one parameter.
struct GradRecord {
    name: String,
    sum: f64,
    steps: usize,
    first: f32,
    last: f32,
    /// Whether `first` is from the first epoch's first step (kept by `begin_epoch`).
    seen_any: bool,
}

impl GradRecord {
    fn record(&mut self, norm: f32) {
        if !self.seen_any {
            self.first = norm;
            self.seen_any = true;
        }
        self.sum += norm as f64;
        self.steps += 1;
        self.last = norm;
    }

    fn stats(&self) -> ParamGradStats {
        ParamGradStats {
            name: self.name.clone(),
            mean_norm: if self.steps == 0 {
                f32::NAN
            } else {
                (self.sum / self.steps as f64) as f32
            },
            last_norm: self.last,
            first_norm: self.first,
            steps: self.steps,
        }
    }
}

/// What the hooks share with the [`Diagnostics`] that owns them.
struct Shared {
    probing: Cell<bool>,
    probing_under_no_grad: Cell<bool>,
    threshold: Cell<f32>,
    layers: RefCell<Vec<LayerProbe>>,
    grads: RefCell<Vec<GradRecord>>,
}

/// Per-layer and per-parameter training statistics of a [`Sequential`], collected by hooks.
/// See the [module docs](self) for the definitions and a training loop.
///
/// The hooks stay registered until [`detach`](Diagnostics::detach) or drop, so keep the
/// `Diagnostics` alive as long as you train.
pub struct Diagnostics {
    shared: Rc<Shared>,
    forward_hooks: Vec<ForwardHookHandle>,
    grad_hooks: Vec<HookHandle>,
    /// The one-element learnable parameters of the activation layers, with their names.
    learnable: Vec<(String, Var)>,
}

impl Diagnostics {
    /// Hooks into `model`: a forward hook on every child whose [`Module::is_activation`] is
    /// true, and a gradient hook on every parameter of `named_parameters()`. Not probing at
    /// first. Only direct children are probed (a `Sequential` nested inside is not searched).
    pub fn attach(model: &Sequential) -> Diagnostics {
        let shared = Rc::new(Shared {
            probing: Cell::new(false),
            probing_under_no_grad: Cell::new(false),
            threshold: Cell::new(SATURATION_THRESHOLD),
            layers: RefCell::new(Vec::new()),
            grads: RefCell::new(Vec::new()),
        });
        let mut forward_hooks = Vec::new();
        let mut learnable = Vec::new();
        for (i, child) in model.iter().enumerate() {
            if !child.is_activation() {
                continue;
            }
            let name = i.to_string();
            for (pname, p) in child.named_parameters() {
                if p.shape().numel() == 1 {
                    learnable.push((join_name(&name, &pname), p));
                }
            }
            let k = {
                let mut layers = shared.layers.borrow_mut();
                layers.push(LayerProbe {
                    name,
                    ..LayerProbe::default()
                });
                layers.len() - 1
            };
            let s = shared.clone();
            forward_hooks.push(model.register_forward_hook(i, move |m, x, y| {
                if s.probing.get() || (s.probing_under_no_grad.get() && !is_grad_enabled()) {
                    s.layers.borrow_mut()[k].observe(m, &x.value(), &y.value(), s.threshold.get());
                }
            }));
        }
        let mut grad_hooks = Vec::new();
        for (k, (name, p)) in model.named_parameters().into_iter().enumerate() {
            shared.grads.borrow_mut().push(GradRecord {
                name,
                sum: 0.0,
                steps: 0,
                first: f32::NAN,
                last: f32::NAN,
                seen_any: false,
            });
            let s = shared.clone();
            grad_hooks.push(p.register_hook(move |g| {
                let sq: f64 = g.data().iter().map(|&v| (v as f64) * (v as f64)).sum();
                s.grads.borrow_mut()[k].record(sq.sqrt() as f32);
                None
            }));
        }
        Diagnostics {
            shared,
            forward_hooks,
            grad_hooks,
            learnable,
        }
    }

    /// Sets ε of the saturated fraction (default [`SATURATION_THRESHOLD`]).
    pub fn with_saturation_threshold(self, threshold: f32) -> Diagnostics {
        self.shared.threshold.set(threshold);
        self
    }

    /// Starts a new epoch: clears the activation statistics and the gradient norms (the
    /// first-step norm of the first epoch is kept in [`ParamGradStats::first_norm`]).
    pub fn begin_epoch(&self) {
        for layer in self.shared.layers.borrow_mut().iter_mut() {
            layer.reset();
        }
        for g in self.shared.grads.borrow_mut().iter_mut() {
            g.sum = 0.0;
            g.steps = 0;
        }
    }

    /// Clears the activation statistics only, keeping the gradient norms: for a probing pass
    /// of its own in the middle of an epoch.
    pub fn reset_activation_stats(&self) {
        for layer in self.shared.layers.borrow_mut().iter_mut() {
            layer.reset();
        }
    }

    /// Turns activation statistics on (for the evaluation pass) or off (while training).
    pub fn set_probing(&self, on: bool) {
        self.shared.probing.set(on);
    }

    /// Whether activation statistics are being collected (by [`set_probing`](Self::set_probing)).
    pub fn is_probing(&self) -> bool {
        self.shared.probing.get()
    }

    /// Probes every forward that runs without recording a graph (inside
    /// [`autograd::no_grad`]), whatever [`set_probing`](Self::set_probing) says: in a loop
    /// that trains with gradients and evaluates under `no_grad`, exactly the evaluation passes.
    /// Off by default.
    pub fn set_probing_under_no_grad(&self, on: bool) {
        self.shared.probing_under_no_grad.set(on);
    }

    /// The statistics of every activation layer that saw a sample while probing since the
    /// last [`begin_epoch`](Diagnostics::begin_epoch), in model order (empty before the
    /// first probing pass).
    pub fn activation_stats(&self) -> Vec<ActivationStats> {
        self.shared
            .layers
            .borrow()
            .iter()
            .filter(|l| l.elements > 0)
            .map(LayerProbe::stats)
            .collect()
    }

    /// The names of the probed activation layers, in model order (`["1", "3"]`).
    pub fn activation_layers(&self) -> Vec<String> {
        self.shared
            .layers
            .borrow()
            .iter()
            .map(|l| l.name.clone())
            .collect()
    }

    /// The gradient norms of every parameter since the last
    /// [`begin_epoch`](Diagnostics::begin_epoch), in `named_parameters()` order. A parameter
    /// that got no gradient has `steps == 0` and NaN norms.
    pub fn grad_norms(&self) -> Vec<ParamGradStats> {
        self.shared
            .grads
            .borrow()
            .iter()
            .map(GradRecord::stats)
            .collect()
    }

    /// The current values of the learnable one-element parameters of the activation layers,
    /// by name (`{"1.beta": 1.37}` for a learnable Swish at index 1); empty when there are none.
    pub fn learnable_values(&self) -> BTreeMap<String, f32> {
        self.learnable
            .iter()
            .map(|(name, p)| (name.clone(), p.item()))
            .collect()
    }

    /// Removes every hook (also done on drop).
    pub fn detach(mut self) {
        self.remove_hooks();
    }

    fn remove_hooks(&mut self) {
        for h in self.forward_hooks.drain(..) {
            h.remove();
        }
        for h in self.grad_hooks.drain(..) {
            h.remove();
        }
    }
}

impl Drop for Diagnostics {
    fn drop(&mut self) {
        self.remove_hooks();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{learnable, ActivationSpec, Relu, Sigmoid, Swish, REGISTRY};
    use crate::linear::Linear;
    use crate::{cross_entropy, mlp, Softmax};
    use autograd::no_grad;
    use tensor::rng;

    fn t(v: &[f32], dims: &[usize]) -> Var {
        Var::constant(Tensor::from_vec(v.to_vec(), dims))
    }

    /// Linear(2 → 3) with W = [[1, 0], [0, 1], [0, 0]], b = [0, 0, −1], then ReLU.
    fn hand_built() -> Sequential {
        let lin = Linear::new(2, 3, true, &mut rng(0));
        lin.weight
            .set_value(Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0], [3, 2]));
        lin.bias
            .as_ref()
            .unwrap()
            .set_value(Tensor::from_vec(vec![0.0, 0.0, -1.0], [3]));
        Sequential::new().push(lin).push(Relu)
    }

    #[test]
    fn dead_units_on_a_hand_built_case() {
        let model = hand_built();
        let diag = Diagnostics::attach(&model);
        // Pre-activations: unit 0 = x₀ = [1, 2], unit 1 = x₁ = [−1, −3], unit 2 = −1 always.
        let x = t(&[1.0, -1.0, 2.0, -3.0], &[2, 2]);
        model.forward(&x);
        assert!(diag.activation_stats().is_empty(), "not probing yet");
        diag.set_probing(true);
        model.forward(&x);
        let s = &diag.activation_stats()[0];
        assert_eq!(s.name, "1");
        assert_eq!((s.units, s.samples), (3, 2));
        assert!((s.dead_fraction - 2.0 / 3.0).abs() < 1e-7);
        // ReLU′ = 0 for the four negative pre-activations out of six.
        assert!((s.saturated_fraction.unwrap() - 4.0 / 6.0).abs() < 1e-7);
        // Outputs [1, 0, 0, 2, 0, 0]: mean 0.5, variance 5/6 − 1/4.
        assert!((s.mean - 0.5).abs() < 1e-7);
        assert!((s.std - (5.0f32 / 6.0 - 0.25).sqrt()).abs() < 1e-6);
        // One more sample that wakes unit 1: only unit 2 stays dead.
        model.forward(&t(&[0.0, 4.0], &[1, 2]));
        let s = &diag.activation_stats()[0];
        assert_eq!(s.samples, 3);
        assert!((s.dead_fraction - 1.0 / 3.0).abs() < 1e-7);
        // Clearing the activation statistics keeps the gradient norms; a new epoch clears both.
        diag.reset_activation_stats();
        assert!(diag.activation_stats().is_empty());
        model.forward(&x);
        diag.begin_epoch();
        assert!(diag.activation_stats().is_empty());
    }

    #[test]
    fn probing_under_no_grad_sees_only_evaluation_passes() {
        let model = hand_built();
        let diag = Diagnostics::attach(&model);
        diag.set_probing_under_no_grad(true);
        let train = t(&[1.0, 1.0], &[1, 2]); // every unit but 2 alive
        let eval = t(&[1.0, -1.0, 2.0, -3.0], &[2, 2]);
        model.forward(&train);
        assert!(diag.activation_stats().is_empty());
        no_grad(|| model.forward(&eval));
        let s = &diag.activation_stats()[0];
        assert_eq!(s.samples, 2);
        assert!((s.dead_fraction - 2.0 / 3.0).abs() < 1e-7);
    }

    #[test]
    fn a_channel_is_dead_only_if_zero_everywhere() {
        // [N=1, C=2, L=3]: channel 0 has one non-zero position, channel 1 none.
        let model = Sequential::new().push(Relu);
        let diag = Diagnostics::attach(&model);
        diag.set_probing(true);
        model.forward(&t(&[-1.0, 0.0, 0.5, -2.0, -3.0, 0.0], &[1, 2, 3]));
        let s = &diag.activation_stats()[0];
        assert_eq!((s.units, s.samples), (2, 1));
        assert_eq!(s.dead_fraction, 0.5);
        // Rank 1: each element a unit.
        drop(diag);
        let diag = Diagnostics::attach(&model);
        diag.set_probing(true);
        model.forward(&t(&[-1.0, 2.0, 0.0, 3.0], &[4]));
        let s = &diag.activation_stats()[0];
        assert_eq!((s.units, s.samples, s.dead_fraction), (4, 1, 0.5));
    }

    #[test]
    #[should_panic(
        expected = "Diagnostics: activation 0 gave an output [1, 4] with 4 units on axis 1, \
                    after outputs with 2 units"
    )]
    fn a_changing_unit_count_panics() {
        let model = Sequential::new().push(Relu);
        let diag = Diagnostics::attach(&model);
        diag.set_probing(true);
        model.forward(&t(&[1.0, 2.0], &[1, 2]));
        model.forward(&t(&[1.0, 2.0, 3.0, 4.0], &[1, 4]));
    }

    #[test]
    fn saturation_comes_from_df_for_sigmoid() {
        let model = Sequential::new().push(Sigmoid);
        let diag = Diagnostics::attach(&model);
        diag.set_probing(true);
        // σ′(x) = σ(x)(1 − σ(x)) < 0.01 for |x| > 4.6: σ′(4) = 0.0177, σ′(5) = 0.0066.
        model.forward(&t(&[-20.0, -1.0, 0.0, 1.0, 4.0, 5.0, 20.0, 30.0], &[1, 8]));
        let s = &diag.activation_stats()[0];
        assert_eq!(s.saturated_fraction, Some(4.0 / 8.0));
        assert_eq!(s.dead_fraction, 0.0);
        // A stricter ε counts fewer.
        let diag = Diagnostics::attach(&model).with_saturation_threshold(1e-3);
        diag.set_probing(true);
        model.forward(&t(&[-20.0, -1.0, 0.0, 1.0, 4.0, 5.0, 20.0, 30.0], &[1, 8]));
        assert_eq!(
            diag.activation_stats()[0].saturated_fraction,
            Some(3.0 / 8.0)
        );
    }

    #[test]
    fn no_elementwise_derivative_means_no_saturation() {
        let model = Sequential::new().push(Softmax::new(-1));
        let diag = Diagnostics::attach(&model);
        diag.set_probing(true);
        model.forward(&t(&[1.0, 2.0, 3.0, 4.0], &[2, 2]));
        let s = &diag.activation_stats()[0];
        assert_eq!(s.saturated_fraction, None);
        assert_eq!(s.dead_fraction, 0.0);
        assert!((s.mean - 0.5).abs() < 1e-7);
    }

    #[test]
    fn grad_norm_equals_the_norm_of_grad() {
        let mut r = rng(3);
        let model = mlp(&[5, 4, 3], || Box::new(Relu), &mut r);
        let diag = Diagnostics::attach(&model);
        diag.begin_epoch();
        let params = model.named_parameters();
        let mut by_hand: Vec<Vec<f32>> = vec![Vec::new(); params.len()];
        for step in 0..3 {
            let x = Var::constant(Tensor::randn([6, 5], &mut r));
            let y = Tensor::from_vec(vec![0.0, 1.0, 2.0, step as f32, 1.0, 0.0], [6]);
            for (_, p) in &params {
                p.zero_grad();
            }
            cross_entropy(&model.forward(&x), &y).backward();
            for (k, (_, p)) in params.iter().enumerate() {
                let g = p.grad().unwrap();
                by_hand[k].push(g.data().iter().map(|v| v * v).sum::<f32>().sqrt());
            }
        }
        let stats = diag.grad_norms();
        let names: Vec<&str> = stats.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
        for (s, norms) in stats.iter().zip(&by_hand) {
            let mean = norms.iter().sum::<f32>() / 3.0;
            assert_eq!(s.steps, 3);
            assert!(
                (s.mean_norm - mean).abs() <= 1e-5 * mean,
                "{s:?} vs {norms:?}"
            );
            assert!((s.first_norm - norms[0]).abs() <= 1e-5 * norms[0]);
            assert!((s.last_norm - norms[2]).abs() <= 1e-5 * norms[2]);
        }
        // Clearing activation statistics leaves the norms; a new epoch restarts the mean but
        // keeps the very first norm.
        diag.reset_activation_stats();
        assert_eq!(diag.grad_norms()[0].steps, 3);
        diag.begin_epoch();
        let s = &diag.grad_norms()[0];
        assert_eq!(s.steps, 0);
        assert!(s.mean_norm.is_nan());
        assert!((s.first_norm - by_hand[0][0]).abs() <= 1e-5 * by_hand[0][0]);
    }

    #[test]
    fn hooks_are_removed_on_drop_and_detach() {
        let model = mlp(&[3, 4, 2], || Box::new(Relu), &mut rng(1));
        let x = t(&[1.0, -2.0, 0.5], &[1, 3]);
        let diag = Diagnostics::attach(&model);
        assert_eq!(model.forward_hook_count(), 1);
        let shared = Rc::downgrade(&diag.shared);
        drop(diag);
        assert_eq!(model.forward_hook_count(), 0);
        // Every hook closure held the shared state: it is gone, so no hook is left anywhere.
        assert!(shared.upgrade().is_none());
        model.forward(&x).sum_all().backward();

        let diag = Diagnostics::attach(&model);
        let shared = Rc::downgrade(&diag.shared);
        diag.detach();
        assert_eq!(model.forward_hook_count(), 0);
        assert!(shared.upgrade().is_none());
    }

    #[test]
    fn learnable_scalars_are_reported_by_name() {
        let mut r = rng(0);
        let model = mlp(
            &[2, 3, 3, 1],
            || Box::new(Swish::new(learnable(1.0))),
            &mut r,
        );
        let diag = Diagnostics::attach(&model);
        let v = diag.learnable_values();
        assert_eq!(v.keys().collect::<Vec<_>>(), ["1.beta", "3.beta"]);
        model.get(1).unwrap().named_parameters()[0]
            .1
            .set_value(Tensor::from_vec(vec![1.5], [1]));
        assert_eq!(diag.learnable_values()["1.beta"], 1.5);
        assert!(Diagnostics::attach(&hand_built())
            .learnable_values()
            .is_empty());
        assert_eq!(diag.activation_layers(), ["1", "3"]);
    }

    #[test]
    fn very_negative_biases_kill_every_relu() {
        let mut r = rng(7);
        let model = mlp(&[16, 32, 32, 4], || Box::new(Relu), &mut r);
        for (name, p) in model.named_parameters() {
            if name.ends_with("bias") && !name.starts_with('4') {
                p.set_value(p.value().map(|_| -10.0));
            }
        }
        let diag = Diagnostics::attach(&model);
        diag.set_probing(true);
        no_grad(|| model.forward(&Var::constant(Tensor::rand([64, 16], &mut r))));
        for s in diag.activation_stats() {
            assert_eq!(s.dead_fraction, 1.0, "{s:?}");
            assert_eq!(s.saturated_fraction, Some(1.0));
            assert_eq!((s.mean, s.std), (0.0, 0.0));
        }
        // With the default biases some units live.
        let model = mlp(&[16, 32, 4], || Box::new(Relu), &mut r);
        let diag = Diagnostics::attach(&model);
        diag.set_probing(true);
        no_grad(|| model.forward(&Var::constant(Tensor::rand([64, 16], &mut r))));
        assert!(diag.activation_stats()[0].dead_fraction < 0.5);
    }

    #[test]
    fn every_registry_activation_is_an_activation() {
        let x = Tensor::from_vec(vec![-3.0, -0.5, 0.0, 0.5, 2.0, 7.0], [3, 2]);
        let mut with_df = 0;
        for entry in REGISTRY {
            let layer = ActivationSpec::with_defaults(entry).build();
            assert!(layer.is_activation(), "{}", entry.name);
            layer.eval(); // RReLU gives f′ in eval mode
            if let Some(d) = layer.derivative(&x) {
                with_df += 1;
                assert_eq!(d.dims(), x.dims(), "{}", entry.name);
                assert!(d.all_finite(), "{}", entry.name);
            }
        }
        // All but the six row-wise ones (softmax, log_softmax, softmin, glu, swiglu, geglu).
        assert_eq!(with_df, REGISTRY.len() - 6);
        assert!(!Linear::new(2, 2, true, &mut rng(0)).is_activation());
    }
}
