//! [`Var::apply`]: runs one [`Function`] forward and, when a gradient will be needed, records it
//! in the graph (an [`OpNode`] linking the result to its inputs). Every op goes through here.
//! It sits above `var.rs` (the graph's data) and `anomaly.rs`, whose forward check it calls.

use std::cell::Ref;

use tensor::Tensor;

use crate::anomaly::{self, is_anomaly_enabled};
use crate::function::Function;
use crate::no_grad::is_grad_enabled;
use crate::var::{OpNode, Origin, Var};

impl Var {
    /// Applies `f` to the values of `inputs` and returns the result as a new `Var`.
    ///
    /// The node is recorded (so `backward` can reach the inputs through `f.backward`) only
    /// when gradients are enabled (not inside [`no_grad()`](crate::no_grad())) and some input
    /// requires grad; otherwise the result is a constant and `f` is dropped at once, with
    /// everything it saved.
    pub fn apply(mut f: impl Function, inputs: &[&Var]) -> Var {
        // anomaly mode: one thread-local read when off
        let path = is_anomaly_enabled().then(anomaly::path_for_node);
        let value = {
            let values: Vec<Ref<'_, Tensor>> = inputs.iter().map(|v| v.0.value.borrow()).collect();
            let refs: Vec<&Tensor> = values.iter().map(|v| &**v).collect();
            let value = f.forward(&refs);
            if let Some(path) = &path {
                anomaly::check_forward(f.name(), &refs, &value, path.as_deref());
            }
            value
        };
        let needs: Vec<bool> = inputs.iter().map(|v| v.requires_grad()).collect();
        if !is_grad_enabled() || !needs.contains(&true) {
            return Var::constant(value);
        }
        let op = OpNode {
            function: Box::new(f),
            inputs: inputs.iter().map(|&v| v.clone()).collect(),
            needs,
            path: path.flatten(),
        };
        Var::new(value, true, Origin::Op(op))
    }
}
