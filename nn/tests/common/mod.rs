//! Helpers shared by the integration tests of layers, state and training.

use autograd::Var;
use nn::Module;
use tensor::Tensor;

/// ReLU from `Var` ops, so that the tests that use it depend on layers, state, losses and
/// optimizers only, not on the activation registry.
pub struct Relu;

impl Module for Relu {
    fn forward(&self, x: &Var) -> Var {
        x.maximum(&Var::constant(Tensor::zeros([1])))
    }
    fn visit_params(&self, _: &str, _: &mut dyn FnMut(&str, &Var)) {}
    fn describe(&self) -> String {
        "ReLU()".into()
    }
}

/// A boxed [`Relu`], as `mlp` and `cnn` take their activation.
pub fn relu() -> Box<dyn Module> {
    Box::new(Relu)
}
