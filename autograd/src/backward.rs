//! `backward()`: micrograd's algorithm. Sort the graph topologically (inputs before the ops that
//! use them), then walk it in reverse: each node's gradient is complete when it is reached, its
//! `Function::backward` turns it into its inputs' gradients, and those are *added* to what the
//! inputs already have (a `Var` used twice gets both contributions). Both steps are loops with an
//! explicit stack, so a 100,000-op chain does not overflow the call stack.
//!
//! The walk has two places where other code may look, both in `hooks.rs`: the hooks on each
//! `Var` ([`Var::register_hook`]), and one [`WalkObserver`] that is shown every op's gradients.
//! Anomaly mode (`anomaly.rs`) is such an observer; the walk itself knows nothing about it.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use tensor::{shape_panic, Tensor};

use crate::anomaly::BackwardCheck;
use crate::hooks::{run_hooks, WalkObserver};
use crate::var::{OpNode, Origin, Var};

impl Var {
    /// Computes the gradient of this one-element `Var` (a loss) with respect to every leaf that
    /// requires grad, adding it to their [`grad`](Var::grad). Frees the graph afterwards.
    ///
    /// # Panics
    /// If the value has more than one element (use [`Var::backward_with`]), if the `Var` does
    /// not require grad, or if its graph was freed by an earlier `backward()`.
    #[track_caller]
    pub fn backward(&self) {
        self.backward_with_options(self.seed("backward"), false);
    }

    /// Like [`Var::backward`], but keeps the graph so that it can be walked again.
    #[track_caller]
    pub fn backward_retain(&self) {
        self.backward_with_options(self.seed("backward_retain"), true);
    }

    /// Backward from a non-scalar `Var`, given the gradient of the loss with respect to it
    /// (same shape as the value). Frees the graph afterwards.
    #[track_caller]
    pub fn backward_with(&self, grad: Tensor) {
        self.backward_with_options(grad, false);
    }

    /// The general form: seed gradient `grad`, and whether to keep the graph (`retain_graph`)
    /// for another backward.
    ///
    /// # Panics
    /// If `grad`'s shape differs from the value's, if the `Var` does not require grad, or if
    /// its graph was freed by an earlier `backward()` without `retain_graph`.
    #[track_caller]
    pub fn backward_with_options(&self, grad: Tensor, retain_graph: bool) {
        if grad.shape() != &self.shape() {
            shape_panic(
                "backward",
                format_args!(
                    "seed gradient {:?} for a Var of shape {:?}",
                    grad.shape(),
                    self.shape()
                ),
            );
        }
        if !self.requires_grad() {
            panic!("backward: this Var does not require grad (it was computed from constants only, or inside no_grad)");
        }
        let mut anomaly = BackwardCheck::start();
        walk(self, grad, retain_graph, anomaly.observer());
        anomaly.finish();
    }

    #[track_caller]
    fn seed(&self, op: &str) -> Tensor {
        let shape = self.shape();
        if shape.numel() != 1 {
            shape_panic(
                op,
                format_args!("needs a one-element Var (a loss), got shape {shape:?}; use backward_with(grad) for a non-scalar"),
            );
        }
        Tensor::ones(shape) // the gradient of the loss with respect to itself
    }
}

/// Every node that gradient flows to, inputs before the ops that use them (the root last),
/// found by a depth-first search with an explicit stack; and each node's position in that order.
#[track_caller]
fn topological_order(root: &Var) -> (Vec<Var>, HashMap<usize, usize>) {
    let (mut order, mut position) = (Vec::new(), HashMap::new());
    let mut visited = HashSet::from([root.id()]);
    let mut stack = vec![(root.clone(), 0)]; // (node, index of the next input to look at)
    while let Some((var, next)) = stack.pop() {
        let child = match &*var.0.origin.borrow() {
            Origin::Op(op) => (next..op.inputs.len())
                .find(|&k| op.needs[k]) // inputs that need no gradient are not visited
                .map(|k| (k, op.inputs[k].clone())),
            Origin::Leaf => None,
            Origin::Freed(name) => panic!(
                "backward: the graph through `{name}` (Var #{}) was freed by an earlier \
                 backward(); call backward_retain() the first time to walk a graph twice",
                var.id()
            ),
        };
        if let Some((k, child)) = child {
            stack.push((var, k + 1)); // come back for the remaining inputs
            if visited.insert(child.id()) {
                stack.push((child, 0));
            }
        } else {
            position.insert(var.id(), order.len()); // all its inputs are placed: place it
            order.push(var);
        }
    }
    (order, position)
}

/// The reverse walk. `observer`, when given, is shown each op's gradients (anomaly mode).
#[track_caller]
fn walk(root: &Var, seed: Tensor, retain_graph: bool, mut observer: Option<&mut dyn WalkObserver>) {
    let (order, position) = topological_order(root);
    // grads[i]: ∂loss/∂order[i], summed over every use of order[i]
    let mut grads: Vec<Option<Tensor>> = vec![None; order.len()];
    grads[order.len() - 1] = Some(seed);
    for (i, var) in order.iter().enumerate().rev() {
        // every use of `var` comes later in `order`, so its gradient is complete now
        if let Some(grad) = grads[i].take() {
            let grad = run_hooks(var, grad);
            match &*var.0.origin.borrow() {
                Origin::Op(op) => {
                    let input_grads = op.function.backward(&grad, &op.needs);
                    check_shapes(op, &input_grads);
                    if let Some(observer) = observer.as_deref_mut() {
                        observer.after_op(op, &input_grads); // the hook point: look, don't touch
                    }
                    for ((input, &need), g) in op.inputs.iter().zip(&op.needs).zip(input_grads) {
                        if let (true, Some(g)) = (need, g) {
                            accumulate(&mut grads[position[&input.id()]], g);
                        }
                    }
                }
                _ => accumulate(&mut var.0.grad.borrow_mut(), grad), // a leaf keeps its gradient
            }
        }
        if !retain_graph {
            free(var);
        }
    }
}

/// `slot += g` — the `+=` of micrograd, which is what makes a `Var` used twice correct.
fn accumulate(slot: &mut Option<Tensor>, g: Tensor) {
    match slot {
        Some(acc) => acc.add_(&g),
        None => *slot = Some(g),
    }
}

/// One gradient per input, each of its input's shape; the panic names the `Function`.
fn check_shapes(op: &OpNode, grads: &[Option<Tensor>]) {
    let name = op.function.name();
    if grads.len() != op.inputs.len() {
        panic!(
            "{name}: backward returned {} gradients for {} inputs",
            grads.len(),
            op.inputs.len()
        );
    }
    for (k, (input, g)) in op.inputs.iter().zip(grads).enumerate() {
        let value = input.0.value.borrow();
        if let Some(g) = g.as_ref().filter(|g| g.shape() != value.shape()) {
            shape_panic(
                name,
                format_args!(
                    "backward returned a gradient of shape {:?} for input {k} of shape {:?}",
                    g.shape(),
                    value.shape()
                ),
            );
        }
    }
}

/// Drops `var`'s link to its inputs and its `Function` with everything it saved (the graph is
/// freed node by node as the walk passes), leaving a mark so that a second walk can say why
/// it cannot run.
fn free(var: &Var) {
    let mut origin = var.0.origin.borrow_mut();
    if let Origin::Op(op) = &*origin {
        let name = op.function.name();
        *origin = Origin::Freed(name);
    }
}

// Keeping an intermediate result's gradient: a hook does for it what the walk does for a leaf.
impl Var {
    /// Makes this `Var` keep its gradient after `backward()`, in [`grad`](Var::grad), as leaves
    /// do (adding over several walks until [`zero_grad`](Var::zero_grad)). An intermediate result
    /// passes its gradient on and keeps none unless asked; [`Var::to_dot`] shows what is kept.
    /// Does nothing on a leaf, or when called again. It is a [hook](Var::register_hook): it
    /// keeps the gradient as the hooks registered before it leave it.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::Tensor;
    ///
    /// let x = Var::parameter(Tensor::from_vec(vec![2.0], [1]));
    /// let h = &x * 3.0;
    /// h.retain_grad();
    /// (&h * &h).sum_all().backward();
    /// assert_eq!(h.grad().unwrap().item(), 12.0); // 2h
    /// ```
    pub fn retain_grad(&self) {
        if self.is_leaf() || self.0.retains_grad.replace(true) {
            return;
        }
        let node = Rc::downgrade(&self.0); // a strong handle in its own hook would never drop
        self.register_hook(move |g| {
            if let Some(node) = node.upgrade() {
                accumulate(&mut node.grad.borrow_mut(), g.clone());
            }
            None
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(v: f32) -> Var {
        Var::parameter(Tensor::from_vec(vec![v], [1]))
    }

    #[test]
    fn a_var_used_twice_gets_both_contributions() {
        // y = x·x + x, dy/dx = 2x + 1: exact, not an approximation
        let x = scalar(3.0);
        let y = &(&x * &x) + &x;
        assert_eq!(y.item(), 12.0);
        y.backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![7.0]);
    }

    #[test]
    fn diamond_graph() {
        // a feeds b and c, both feed d: d = (2a)·(a + 1), dd/da = 4a + 2
        let a = scalar(1.5);
        let b = &a * 2.0;
        let c = &a + 1.0;
        let d = &b * &c;
        d.backward();
        assert_eq!(a.grad().unwrap().item(), 8.0);
    }

    #[test]
    fn gradients_accumulate_over_backward_calls_until_zeroed() {
        let x = scalar(2.0);
        (&x * 3.0).sum_all().backward();
        (&x * 3.0).sum_all().backward();
        assert_eq!(x.grad().unwrap().item(), 6.0);
        x.zero_grad();
        (&x * 3.0).sum_all().backward();
        assert_eq!(x.grad().unwrap().item(), 3.0);
    }

    #[test]
    fn constants_get_no_gradient_and_intermediates_keep_none() {
        let x = scalar(2.0);
        let c = Var::constant(Tensor::from_vec(vec![5.0], [1]));
        let h = &x * &c;
        let y = &h * &h;
        y.backward();
        assert_eq!(x.grad().unwrap().item(), 100.0); // 2·(xc)·c
        assert!(c.grad().is_none());
        assert!(h.grad().is_none());
    }

    #[test]
    fn a_chain_of_100_000_ops_does_not_overflow_the_stack() {
        let x = scalar(0.0);
        let mut y = x.clone();
        for _ in 0..100_000 {
            y = &y * 1.0 + 1.0; // two ops per turn
        }
        assert_eq!(y.item(), 100_000.0);
        y.backward();
        assert_eq!(x.grad().unwrap().item(), 1.0);
        // kept (retained) 100,000-op graphs drop iteratively too
        let mut z = x.clone();
        for _ in 0..100_000 {
            z = z.add_scalar(1.0);
        }
        z.sum_all().backward_retain();
        drop(z);
    }

    #[test]
    fn the_graph_is_freed_after_backward() {
        let x = scalar(2.0);
        let y = &x * &x;
        let loss = y.sum_all();
        loss.backward();
        assert!(matches!(*y.0.origin.borrow(), Origin::Freed("mul")));
        assert_eq!(y.op_name(), Some("mul"));
        assert!(!y.is_leaf());
        // the saved tensors went with it: x's buffer is no longer shared
        let before = x.0.value.borrow().data().as_ptr();
        x.update_value(|v| v.fill_(0.0));
        assert_eq!(x.0.value.borrow().data().as_ptr(), before);
    }

    #[test]
    #[should_panic(expected = "was freed by an earlier backward(); call backward_retain()")]
    fn a_second_backward_without_retain_is_a_clear_error() {
        let x = scalar(2.0);
        let y = (&x * &x).sum_all();
        y.backward();
        y.backward();
    }

    #[test]
    fn retain_graph_allows_a_second_backward() {
        let x = scalar(2.0);
        let y = (&x * &x).sum_all();
        y.backward_retain();
        y.backward();
        assert_eq!(x.grad().unwrap().item(), 8.0); // 4 + 4
    }

    #[test]
    fn backward_with_a_seed_for_a_non_scalar() {
        let x = Var::parameter(Tensor::from_vec(vec![1.0, 2.0], [2]));
        let y = &x * &x;
        y.backward_with(Tensor::from_vec(vec![1.0, 10.0], [2]));
        assert_eq!(x.grad().unwrap().to_vec(), vec![2.0, 40.0]);
        // a leaf itself: the seed is its gradient
        let p = Var::parameter(Tensor::zeros([2]));
        p.backward_with_options(Tensor::ones([2]), false);
        assert_eq!(p.grad().unwrap().to_vec(), vec![1.0, 1.0]);
    }

    #[test]
    #[should_panic(expected = "backward: needs a one-element Var (a loss), got shape [2]")]
    fn backward_needs_a_scalar() {
        let x = Var::parameter(Tensor::ones([2]));
        (&x * 2.0).backward();
    }

    #[test]
    #[should_panic(expected = "backward: seed gradient [3] for a Var of shape [2]")]
    fn the_seed_must_have_the_shape() {
        let x = Var::parameter(Tensor::ones([2]));
        (&x * 2.0).backward_with(Tensor::ones([3]));
    }

    #[test]
    #[should_panic(expected = "does not require grad")]
    fn backward_through_constants_only_is_an_error() {
        Var::constant(Tensor::ones([1])).backward();
    }

    #[test]
    fn retain_grad_keeps_an_intermediate_gradient_and_adds_over_walks() {
        let x = scalar(2.0);
        let h = &x * 3.0; // used twice below: dy/dh = 2h + 1 = 13
        h.retain_grad();
        h.retain_grad(); // a second call adds nothing
        x.retain_grad(); // a leaf keeps its gradient anyway
        let y = &(&h * &h) + &h;
        y.backward_retain();
        assert_eq!(h.grad().unwrap().item(), 13.0);
        assert_eq!(x.grad().unwrap().item(), 39.0);
        y.backward();
        assert_eq!(h.grad().unwrap().item(), 26.0);
        // the hook holds its node weakly: dropping the last handle frees it
        let weak = Rc::downgrade(&h.0);
        drop((h, y));
        assert!(weak.upgrade().is_none());
    }

    /// Counts the ops shown to it and the input gradients it was given.
    #[derive(Default)]
    struct Count {
        ops: Vec<&'static str>,
        grads: usize,
    }

    impl WalkObserver for Count {
        fn after_op(&mut self, op: &OpNode, input_grads: &[Option<Tensor>]) {
            self.ops.push(op.function.name());
            self.grads += input_grads.iter().flatten().count();
        }
    }

    #[test]
    fn an_observer_is_shown_every_op_once_in_walk_order() {
        let x = scalar(2.0);
        let c = Var::constant(Tensor::from_vec(vec![5.0], [1]));
        let y = (&(&x * &c) + &x).sum_all();
        let mut count = Count::default();
        walk(&y, Tensor::ones([1]), false, Some(&mut count));
        assert_eq!(count.ops, ["sum_all", "add", "mul"]);
        assert_eq!(count.grads, 1 + 2 + 1); // mul gives no gradient to the constant
        assert_eq!(x.grad().unwrap().item(), 6.0);
    }

    struct WrongShape;

    impl crate::Function for WrongShape {
        fn name(&self) -> &'static str {
            "wrong_shape"
        }
        fn forward(&mut self, x: &[&Tensor]) -> Tensor {
            x[0].clone()
        }
        fn backward(&self, _: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
            vec![Some(Tensor::zeros([5]))]
        }
    }

    #[test]
    #[should_panic(
        expected = "wrong_shape: backward returned a gradient of shape [5] for input 0 of shape [2]"
    )]
    fn a_gradient_of_the_wrong_shape_names_the_function() {
        let x = Var::parameter(Tensor::ones([2]));
        Var::apply(WrongShape, &[&x]).sum_all().backward();
    }
}
