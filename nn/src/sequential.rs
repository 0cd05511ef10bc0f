//! [`Sequential`]: modules applied one after another, named `"0"`, `"1"`, ... like PyTorch's
//! `nn.Sequential`, with forward hooks on its children ([`Sequential::register_forward_hook`]).

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use std::sync::atomic::{AtomicUsize, Ordering};

use autograd::Var;
use tensor::{shape_panic, Rng};

use crate::conv2d::{Conv2d, Conv2dConfig};
use crate::flatten::Flatten;
use crate::linear::Linear;
use crate::module::{impl_display_via_module, join_name, Module};
use crate::pool::MaxPool2d;

/// A chain of modules: `forward(x) = mₙ(…m₁(m₀(x)))`. Holds any [`Module`], activations
/// included; its children are named by position, so parameters come out as `"0.weight"`,
/// `"2.bias"`, and under a parent as `"layers.0.weight"`.
///
/// ```
/// use nn::{Flatten, Linear, Sequential};
///
/// let model = Sequential::new()
///     .push(Flatten::new())
///     .push(Linear::new(784, 10, true, &mut tensor::rng(0)));
/// assert_eq!(
///     model.to_string(),
///     "Sequential(
///   (0): Flatten(start_dim=1, end_dim=-1)
///   (1): Linear(in_features=784, out_features=10, bias=True)
/// )"
/// );
/// ```
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
    training: Cell<bool>,
    hooks: Rc<RefCell<Vec<ForwardHook>>>,
}

/// A forward hook's callback: `(child, input, output)`.
type ForwardHookFn = Box<dyn FnMut(&dyn Module, &Var, &Var)>;

/// A registered callback on one child's output (see [`Sequential::register_forward_hook`]).
struct ForwardHook {
    id: usize,
    index: usize,
    f: ForwardHookFn,
}

/// Returned by [`Sequential::register_forward_hook`]; [`ForwardHookHandle::remove`]
/// unregisters the hook. Dropping the handle leaves the hook in place (as with
/// [`autograd::HookHandle`]).
#[derive(Debug, Clone)]
pub struct ForwardHookHandle {
    hooks: Weak<RefCell<Vec<ForwardHook>>>,
    id: usize,
}

impl ForwardHookHandle {
    /// Unregisters the hook (nothing happens if the `Sequential` is gone).
    pub fn remove(self) {
        if let Some(hooks) = self.hooks.upgrade() {
            hooks.borrow_mut().retain(|h| h.id != self.id);
        }
    }
}

impl Sequential {
    /// An empty chain (its forward is the identity).
    pub fn new() -> Sequential {
        Sequential {
            layers: Vec::new(),
            training: Cell::new(true),
            hooks: Rc::new(RefCell::new(Vec::new())),
        }
    }

    /// Appends `module` and returns the chain (builder style).
    #[allow(clippy::should_implement_trait)]
    pub fn push<M: Module + 'static>(self, module: M) -> Sequential {
        self.push_boxed(Box::new(module))
    }

    /// Appends an already boxed module (what an activation factory returns).
    pub fn push_boxed(mut self, module: Box<dyn Module>) -> Sequential {
        self.layers.push(module);
        self
    }

    /// Appends `module` in place.
    pub fn add(&mut self, module: Box<dyn Module>) {
        self.layers.push(module);
    }

    /// Number of modules in the chain.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether the chain holds no module.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The `i`-th module, if there is one.
    pub fn get(&self, i: usize) -> Option<&dyn Module> {
        self.layers.get(i).map(|m| m.as_ref())
    }

    /// The modules in order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Module> {
        self.layers.iter().map(|m| m.as_ref())
    }

    /// Registers `f` to be called after child `index` computes its output in every later
    /// [`forward`](Module::forward), as `f(child, input, output)` — PyTorch's
    /// `register_forward_hook`. Hooks run in registration order and see the values the chain
    /// passes on; they cannot change them. This is how [`Diagnostics`](crate::Diagnostics)
    /// watches activation outputs without code in the layers. A chain without hooks pays one
    /// emptiness check per forward.
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// use autograd::Var;
    /// use nn::{Module, Relu, Sequential};
    /// use tensor::Tensor;
    ///
    /// let model = Sequential::new().push(Relu);
    /// let zeros = Rc::new(Cell::new(0));
    /// let seen = zeros.clone();
    /// let handle = model.register_forward_hook(0, move |_, _input, output| {
    ///     seen.set(output.value().data().iter().filter(|v| **v == 0.0).count());
    /// });
    /// model.forward(&Var::constant(Tensor::from_vec(vec![-1.0, 2.0, -3.0], [1, 3])));
    /// assert_eq!(zeros.get(), 2);
    /// handle.remove();
    /// assert_eq!(model.forward_hook_count(), 0);
    /// ```
    ///
    /// # Panics
    /// If `index` is not the index of a child.
    #[track_caller]
    pub fn register_forward_hook(
        &self,
        index: usize,
        f: impl FnMut(&dyn Module, &Var, &Var) + 'static,
    ) -> ForwardHookHandle {
        if index >= self.layers.len() {
            shape_panic(
                "register_forward_hook",
                format_args!(
                    "index {index} is out of range for a Sequential of {} modules",
                    self.layers.len()
                ),
            );
        }
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        self.hooks.borrow_mut().push(ForwardHook {
            id,
            index,
            f: Box::new(f),
        });
        ForwardHookHandle {
            hooks: Rc::downgrade(&self.hooks),
            id,
        }
    }

    /// How many forward hooks are registered.
    pub fn forward_hook_count(&self) -> usize {
        self.hooks.borrow().len()
    }

    /// Calls the hooks registered on child `index` with its input and output.
    fn run_forward_hooks(&self, index: usize, input: &Var, output: &Var) {
        // Take the hooks out while they run, so a hook may register new hooks itself.
        let mut hooks = std::mem::take(&mut *self.hooks.borrow_mut());
        for hook in hooks.iter_mut().filter(|h| h.index == index) {
            (hook.f)(self.layers[index].as_ref(), input, output);
        }
        let mut slot = self.hooks.borrow_mut();
        hooks.append(&mut slot);
        *slot = hooks;
    }
}

impl Default for Sequential {
    fn default() -> Self {
        Sequential::new()
    }
}

impl FromIterator<Box<dyn Module>> for Sequential {
    fn from_iter<I: IntoIterator<Item = Box<dyn Module>>>(iter: I) -> Self {
        let mut s = Sequential::new();
        s.layers.extend(iter);
        s
    }
}

impl Module for Sequential {
    fn forward(&self, x: &Var) -> Var {
        let hooked = !self.hooks.borrow().is_empty();
        let mut out = x.clone();
        for (i, m) in self.layers.iter().enumerate() {
            let y = if autograd::is_anomaly_enabled() {
                // anomaly mode: ops in the child report it as where they sit ("1 (Linear)")
                let kind = m.describe();
                let _scope =
                    autograd::module_scope(&i.to_string(), kind.split('(').next().unwrap_or(""));
                m.forward(&out)
            } else {
                m.forward(&out)
            };
            if hooked {
                self.run_forward_hooks(i, &out, &y);
            }
            out = y;
        }
        out
    }

    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
        for (i, m) in self.layers.iter().enumerate() {
            m.visit_params(&join_name(prefix, &i.to_string()), f);
        }
    }

    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
        for (i, m) in self.layers.iter().enumerate() {
            m.visit_buffers(&join_name(prefix, &i.to_string()), f);
        }
    }

    fn describe(&self) -> String {
        "Sequential".to_string()
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.layers
            .iter()
            .enumerate()
            .map(|(i, m)| (i.to_string(), m.as_ref()))
            .collect()
    }

    fn set_training(&self, training: bool) {
        self.training.set(training);
    }

    fn is_training(&self) -> bool {
        self.training.get()
    }
}

impl_display_via_module!(Sequential);

/// A multilayer perceptron: `Linear(sizes[0] → sizes[1])`, activation, …, `Linear(→ sizes[last])`,
/// with a fresh activation from `activation()` after every layer but the last (the output
/// layer gives logits).
///
/// ```
/// use nn::{mlp, Relu};
///
/// let model = mlp(&[784, 128, 64, 10], || Box::new(Relu), &mut tensor::rng(0));
/// assert_eq!(
///     model.to_string(),
///     "Sequential(
///   (0): Linear(in_features=784, out_features=128, bias=True)
///   (1): ReLU()
///   (2): Linear(in_features=128, out_features=64, bias=True)
///   (3): ReLU()
///   (4): Linear(in_features=64, out_features=10, bias=True)
/// )"
/// );
/// ```
///
/// # Panics
/// If `sizes` has fewer than 2 entries.
#[track_caller]
pub fn mlp(sizes: &[usize], activation: impl Fn() -> Box<dyn Module>, rng: &mut Rng) -> Sequential {
    if sizes.len() < 2 {
        shape_panic(
            "mlp",
            format_args!("needs at least an input and an output size, got {sizes:?}"),
        );
    }
    let mut s = Sequential::new();
    for (i, w) in sizes.windows(2).enumerate() {
        s.add(Box::new(Linear::new(w[0], w[1], true, rng)));
        if i + 2 < sizes.len() {
            s.add(activation());
        }
    }
    s
}

/// A convolutional classifier for `[N, C, H, W]` images of `input = [C, H, W]`: for each entry
/// of `channels`, a `kernel`×`kernel` convolution with "same" padding (`kernel / 2`), a fresh
/// activation and a 2×2 max pooling; then `Flatten` and one `Linear` to `classes` logits.
///
/// `nn::cnn([1, 28, 28], &[16, 32], 5, 10, act, rng)` is the reference MNIST network
/// conv(1→16, 5×5, pad 2)-act-maxpool2-conv(16→32, 5×5, pad 2)-act-maxpool2-flatten-linear(1568→10).
///
/// # Panics
/// If `kernel` is even (no "same" padding exists) or the image is pooled below 1×1.
#[track_caller]
pub fn cnn(
    input: [usize; 3],
    channels: &[usize],
    kernel: usize,
    classes: usize,
    activation: impl Fn() -> Box<dyn Module>,
    rng: &mut Rng,
) -> Sequential {
    if kernel.is_multiple_of(2) {
        shape_panic(
            "cnn",
            format_args!("kernel {kernel} is even; \"same\" padding needs an odd kernel"),
        );
    }
    let [mut c, mut h, mut w] = input;
    let mut s = Sequential::new();
    for &out in channels {
        if h < 2 || w < 2 {
            shape_panic(
                "cnn",
                format_args!("{channels:?} pools a {input:?} image below 1x1"),
            );
        }
        let config = Conv2dConfig::new(kernel).padding(kernel / 2);
        s.add(Box::new(Conv2d::with_config(c, out, config, rng)));
        s.add(activation());
        s.add(Box::new(MaxPool2d::new(2)));
        (c, h, w) = (out, h / 2, w / 2);
    }
    s.add(Box::new(Flatten::new()));
    s.add(Box::new(Linear::new(c * h * w, classes, true, rng)));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use tensor::Tensor;

    /// y = x · w, with w a learnable vector.
    struct Scale(Var);

    impl Module for Scale {
        fn forward(&self, x: &Var) -> Var {
            x * &self.0
        }
        fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
            f(&join_name(prefix, "weight"), &self.0);
        }
        fn describe(&self) -> String {
            "Scale()".to_string()
        }
    }

    fn scale(v: &[f32]) -> Scale {
        Scale(Var::parameter(Tensor::from_vec(v.to_vec(), [v.len()])))
    }

    #[test]
    fn forward_chains_in_order_and_names_by_position() {
        let s = Sequential::new()
            .push(scale(&[2.0, 3.0]))
            .push(scale(&[5.0, 7.0]));
        let y = s.forward(&Var::constant(Tensor::from_vec(vec![1.0, 1.0], [2])));
        assert_eq!(y.value().to_vec(), vec![10.0, 21.0]);
        let names: Vec<String> = s.named_parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["0.weight", "1.weight"]);
        assert_eq!(s.len(), 2);
        assert_eq!(s.get(1).unwrap().describe(), "Scale()");
        assert!(s.get(2).is_none());
    }

    #[test]
    fn empty_is_identity_and_prints_like_pytorch() {
        let s = Sequential::new();
        assert!(s.is_empty());
        let x = Var::constant(Tensor::from_vec(vec![4.0], [1]));
        assert_eq!(s.forward(&x).value().to_vec(), vec![4.0]);
        assert_eq!(s.to_string(), "Sequential()");
    }

    #[test]
    fn nested_display_and_names() {
        let inner = Sequential::new().push(scale(&[1.0]));
        let outer = Sequential::new().push(inner).push(scale(&[1.0]));
        assert_eq!(
            outer.to_string(),
            "Sequential(\n  (0): Sequential(\n    (0): Scale()\n  )\n  (1): Scale()\n)"
        );
        let names: Vec<String> = outer
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["0.0.weight", "1.weight"]);
    }

    /// ReLU composed from Var ops, standing in for the activation registry.
    struct TestRelu;

    impl Module for TestRelu {
        fn forward(&self, x: &Var) -> Var {
            x.maximum(&Var::constant(tensor::Tensor::zeros([1])))
        }
        fn visit_params(&self, _: &str, _: &mut dyn FnMut(&str, &Var)) {}
        fn describe(&self) -> String {
            "ReLU()".into()
        }
    }

    fn relu() -> Box<dyn Module> {
        Box::new(TestRelu)
    }

    #[test]
    fn mlp_layers_names_and_display() {
        let m = mlp(&[784, 128, 64, 10], relu, &mut tensor::rng(0));
        assert_eq!(m.len(), 5);
        assert_eq!(
            m.to_string(),
            "Sequential(\n  (0): Linear(in_features=784, out_features=128, bias=True)\n  (1): ReLU()\n  \
             (2): Linear(in_features=128, out_features=64, bias=True)\n  (3): ReLU()\n  \
             (4): Linear(in_features=64, out_features=10, bias=True)\n)"
        );
        let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
        );
        assert_eq!(
            m.num_parameters(),
            784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
        );
        let y = m.forward(&Var::constant(tensor::Tensor::zeros([3, 784])));
        assert_eq!(y.dims(), [3, 10]);
        assert_eq!(mlp(&[4, 2], relu, &mut tensor::rng(0)).len(), 1);
    }

    #[test]
    fn reference_cnn_shapes_and_display() {
        let m = cnn([1, 28, 28], &[16, 32], 5, 10, relu, &mut tensor::rng(0));
        assert_eq!(
            m.to_string(),
            "Sequential(\n  (0): Conv2d(1, 16, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))\n  \
             (1): ReLU()\n  \
             (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n  \
             (3): Conv2d(16, 32, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))\n  \
             (4): ReLU()\n  \
             (5): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n  \
             (6): Flatten(start_dim=1, end_dim=-1)\n  \
             (7): Linear(in_features=1568, out_features=10, bias=True)\n)"
        );
        assert_eq!(
            m.num_parameters(),
            16 * 25 + 16 + 32 * 16 * 25 + 32 + 1568 * 10 + 10
        );
        let y = m.forward(&Var::constant(tensor::Tensor::zeros([2, 1, 28, 28])));
        assert_eq!(y.dims(), [2, 10]);
    }

    #[test]
    #[should_panic(expected = "mlp: needs at least an input and an output size, got [3]")]
    fn mlp_needs_two_sizes() {
        mlp(&[3], relu, &mut tensor::rng(0));
    }

    #[test]
    fn forward_hooks_see_each_childs_input_and_output_and_can_be_removed() {
        let s = Sequential::new()
            .push(scale(&[2.0, 3.0]))
            .push(scale(&[5.0, 7.0]));
        let log = Rc::new(RefCell::new(Vec::new()));
        let seen = log.clone();
        let h1 = s.register_forward_hook(1, move |m, x, y| {
            seen.borrow_mut()
                .push((m.describe(), x.value().to_vec(), y.value().to_vec()));
        });
        let seen = log.clone();
        let h0 = s.register_forward_hook(0, move |_, x, _| {
            seen.borrow_mut()
                .push(("first".into(), x.value().to_vec(), Vec::new()));
        });
        assert_eq!(s.forward_hook_count(), 2);
        let x = Var::constant(Tensor::from_vec(vec![1.0, 1.0], [2]));
        let y = s.forward(&x);
        assert_eq!(y.value().to_vec(), vec![10.0, 21.0]);
        assert_eq!(
            *log.borrow(),
            vec![
                ("first".to_string(), vec![1.0, 1.0], vec![]),
                ("Scale()".to_string(), vec![2.0, 3.0], vec![10.0, 21.0]),
            ]
        );
        h0.remove();
        h1.clone().remove();
        h1.remove(); // removing twice is harmless
        assert_eq!(s.forward_hook_count(), 0);
        s.forward(&x);
        assert_eq!(log.borrow().len(), 2);
    }

    #[test]
    fn a_forward_hook_may_register_another() {
        let s = Rc::new(Sequential::new().push(scale(&[1.0])));
        let weak = Rc::downgrade(&s);
        let calls = Rc::new(Cell::new(0));
        let count = calls.clone();
        s.register_forward_hook(0, move |_, _, _| {
            count.set(count.get() + 1);
            if count.get() == 1 {
                weak.upgrade()
                    .unwrap()
                    .register_forward_hook(0, |_, _, _| {});
            }
        });
        let x = Var::constant(Tensor::from_vec(vec![1.0], [1]));
        s.forward(&x);
        s.forward(&x);
        assert_eq!(calls.get(), 2);
        assert_eq!(s.forward_hook_count(), 2);
    }

    #[test]
    #[should_panic(
        expected = "register_forward_hook: index 1 is out of range for a Sequential of 1 modules"
    )]
    fn forward_hook_index_must_exist() {
        Sequential::new()
            .push(scale(&[1.0]))
            .register_forward_hook(1, |_, _, _| {});
    }

    #[test]
    fn eval_reaches_nested_sequentials() {
        let outer = Sequential::new().push(Sequential::new());
        outer.eval();
        assert!(!outer.is_training());
        assert!(!outer.get(0).unwrap().is_training());
        outer.train();
        assert!(outer.get(0).unwrap().is_training());
    }
}
