//! [`Sequential`]: modules applied one after another, named `"0"`, `"1"`, ... like PyTorch's
//! `nn.Sequential`.

use std::cell::Cell;

use autograd::Var;

use crate::module::{impl_display_via_module, join_name, Module};

/// A chain of modules: `forward(x) = mₙ(…m₁(m₀(x)))`. Holds any [`Module`], activations
/// included; its children are named by position, so parameters come out as `"0.weight"`,
/// `"2.bias"`, and under a parent as `"layers.0.weight"`.
///
/// ```ignore
/// let model = nn::Sequential::new()
///     .push(nn::Flatten::new())
///     .push(nn::Linear::new(784, 10, true, &mut rng));
/// println!("{model}");
/// // Sequential(
/// //   (0): Flatten(start_dim=1, end_dim=-1)
/// //   (1): Linear(in_features=784, out_features=10, bias=True)
/// // )
/// ```
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
    training: Cell<bool>,
}

impl Sequential {
    /// An empty chain (its forward is the identity).
    pub fn new() -> Sequential {
        Sequential {
            layers: Vec::new(),
            training: Cell::new(true),
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
        let mut out = x.clone();
        for m in &self.layers {
            out = m.forward(&out);
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

#[cfg(test)]
mod tests {
    use super::*;
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
