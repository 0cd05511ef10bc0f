//! [`Var`]: a node of the define-by-run graph. It holds a value, a gradient (leaves only), and
//! — when an op produced it while gradients were being recorded — the [`Function`] that did
//! and the `Var`s it was applied to. Those input links are the graph: there is no separate
//! graph object, as in PyTorch and micrograd.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tensor::{shape_panic, Shape, Tensor};

use crate::function::Function;

/// A handle on a graph node: cloning it is cheap and gives another handle on the same node.
///
/// Leaves are made with [`Var::parameter`] (requires a gradient; an optimizer updates its value
/// in place) and [`Var::constant`] (inputs, targets: no gradient). Every op on `Var`s — the
/// methods in `ops/`, the operators `+ - * /`, [`Var::apply`] for your own [`Function`] —
/// returns a new `Var` that remembers how it was made, so that [`Var::backward`] can walk back.
///
/// ```
/// use autograd::Var;
/// use tensor::Tensor;
///
/// let x = Var::parameter(Tensor::from_vec(vec![3.0], [1]));
/// let y = &(&x * &x) + &x; // y = x² + x, x used twice
/// y.backward();
/// assert_eq!(x.grad().unwrap().to_vec(), vec![7.0]); // 2x + 1
/// ```
///
/// `Var` is single-threaded (`Rc`/`RefCell`): a graph lives on the thread that built it.
#[derive(Clone)]
pub struct Var(pub(crate) Rc<Node>);

/// What a [`Var`] points at.
pub(crate) struct Node {
    pub(crate) id: usize,
    pub(crate) value: RefCell<Tensor>,
    /// Only leaves that require grad keep a gradient (like PyTorch), and op results asked to
    /// with [`Var::retain_grad`].
    pub(crate) grad: RefCell<Option<Tensor>>,
    /// Whether [`Var::retain_grad`] was called (so that a second call adds no second hook).
    pub(crate) retains_grad: Cell<bool>,
    pub(crate) requires_grad: bool,
    pub(crate) origin: RefCell<Origin>,
    pub(crate) hooks: RefCell<Vec<Hook>>,
    pub(crate) name: RefCell<Option<String>>,
}

/// A gradient callback registered on a node with [`Var::register_hook`] (`hooks.rs`, which
/// also runs them). It lives here, beside the [`Node`] that owns it, so that the graph's data
/// depends on nothing above it.
pub(crate) struct Hook {
    /// Tells the hook apart for [`HookHandle::remove`](crate::HookHandle::remove).
    pub(crate) id: usize,
    pub(crate) f: HookFn,
}

/// A hook's callback: sees the gradient, may return a replacement.
pub(crate) type HookFn = Box<dyn FnMut(&Tensor) -> Option<Tensor>>;

/// How a node came to be.
pub(crate) enum Origin {
    /// Made by `parameter`, `constant`, `detach`, or by an op that recorded nothing
    /// (inside `no_grad`, or no input required grad).
    Leaf,
    /// Made by a recorded op: the edges of the graph.
    Op(OpNode),
    /// Made by a recorded op whose graph a `backward()` has since freed.
    Freed(&'static str),
}

/// A recorded application of a [`Function`].
pub(crate) struct OpNode {
    pub(crate) function: Box<dyn Function>,
    pub(crate) inputs: Vec<Var>,
    /// `needs[i]`: whether input `i` requires grad, i.e. whether the walk goes there.
    pub(crate) needs: Vec<bool>,
    /// The module path when the op ran, kept only in anomaly mode (for backward reports).
    pub(crate) path: Option<Rc<str>>,
}

fn next_id() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Var {
    /// A new node; [`Var::apply`] (`apply.rs`) makes the ones with an [`Origin::Op`].
    pub(crate) fn new(value: Tensor, requires_grad: bool, origin: Origin) -> Var {
        Var(Rc::new(Node {
            id: next_id(),
            value: RefCell::new(value),
            grad: RefCell::new(None),
            retains_grad: Cell::new(false),
            requires_grad,
            origin: RefCell::new(origin),
            hooks: RefCell::new(Vec::new()),
            name: RefCell::new(None),
        }))
    }

    /// A leaf that requires a gradient: a learnable parameter. After `backward()` its
    /// gradient is in [`Var::grad`]; an optimizer changes its value with [`Var::update_value`].
    pub fn parameter(value: Tensor) -> Var {
        Var::new(value, true, Origin::Leaf)
    }

    /// A leaf that needs no gradient: data, targets, masks. Ops on constants only record no graph.
    pub fn constant(value: Tensor) -> Var {
        Var::new(value, false, Origin::Leaf)
    }

    /// The value (a cheap clone that shares the buffer).
    pub fn value(&self) -> Tensor {
        self.0.value.borrow().clone()
    }

    /// Replaces the value. The graph already built from this `Var` keeps what it saved.
    pub fn set_value(&self, value: Tensor) {
        *self.0.value.borrow_mut() = value;
    }

    /// Changes the value in place, as an optimizer does: `p.update_value(|v| v.add_scaled_(&g, -lr))`.
    /// Tensors are copy-on-write, so this copies nothing when no one else holds the buffer —
    /// which is the case once the graph that used it has been freed by `backward()`.
    pub fn update_value(&self, f: impl FnOnce(&mut Tensor)) {
        f(&mut self.0.value.borrow_mut());
    }

    /// The value of a one-element `Var` (a loss), as a number.
    ///
    /// # Panics
    /// If the value does not have exactly one element.
    #[track_caller]
    pub fn item(&self) -> f32 {
        self.0.value.borrow().item()
    }

    /// The gradient accumulated by `backward()` — for leaves that require grad. Intermediate
    /// results do not keep theirs unless asked with [`Var::retain_grad`] (or use
    /// [`Var::register_hook`] to see it flow by).
    pub fn grad(&self) -> Option<Tensor> {
        self.0.grad.borrow().clone()
    }

    /// Sets (or clears) the gradient.
    ///
    /// # Panics
    /// If the gradient's shape differs from the value's.
    #[track_caller]
    pub fn set_grad(&self, grad: Option<Tensor>) {
        if let Some(g) = &grad {
            let shape = self.shape();
            if g.shape() != &shape {
                shape_panic(
                    "set_grad",
                    format_args!(
                        "gradient of shape {:?} for a Var of shape {shape:?}",
                        g.shape()
                    ),
                );
            }
        }
        *self.0.grad.borrow_mut() = grad;
    }

    /// Forgets the gradient (sets it to `None`), before the next `backward()`.
    pub fn zero_grad(&self) {
        *self.0.grad.borrow_mut() = None;
    }

    /// Whether gradients flow to this `Var`: parameters, and results of recorded ops.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad
    }

    /// Whether this `Var` was not produced by a recorded op (parameters, constants, detached
    /// values, results computed under `no_grad`).
    pub fn is_leaf(&self) -> bool {
        matches!(*self.0.origin.borrow(), Origin::Leaf)
    }

    /// The name of the [`Function`] that produced this `Var`, if a recorded op did.
    pub fn op_name(&self) -> Option<&'static str> {
        match &*self.0.origin.borrow() {
            Origin::Leaf => None,
            Origin::Op(op) => Some(op.function.name()),
            Origin::Freed(name) => Some(name),
        }
    }

    /// The shape of the value.
    pub fn shape(&self) -> Shape {
        self.0.value.borrow().shape().clone()
    }

    /// The sizes of the value's axes.
    pub fn dims(&self) -> Vec<usize> {
        self.0.value.borrow().dims().to_vec()
    }

    /// A constant that shares this value (no copy) and is cut off from the graph:
    /// gradients do not flow through it.
    pub fn detach(&self) -> Var {
        Var::constant(self.value())
    }

    /// A number unique to this node for the life of the program.
    pub fn id(&self) -> usize {
        self.0.id
    }

    /// Whether both handles point at the same node.
    pub fn ptr_eq(&self, other: &Var) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// The label given with [`Var::set_name`], if any.
    pub fn name(&self) -> Option<String> {
        self.0.name.borrow().clone()
    }

    /// Gives this `Var` a label, shown by [`Var::to_dot`] and `Debug`.
    pub fn set_name(&self, name: &str) {
        *self.0.name.borrow_mut() = Some(name.to_string());
    }

    /// The same `Var` with a label: `Var::parameter(w).named("w")`.
    pub fn named(self, name: &str) -> Var {
        self.set_name(name);
        self
    }
}

impl fmt::Debug for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Var");
        s.field("id", &self.id());
        if let Some(name) = self.name() {
            s.field("name", &name);
        }
        match &*self.0.origin.borrow() {
            Origin::Leaf if self.requires_grad() => s.field("kind", &"parameter"),
            Origin::Leaf => s.field("kind", &"constant"),
            Origin::Op(op) => s.field("op", &op.function.name()),
            Origin::Freed(name) => s.field("op", &format_args!("{name} (graph freed)")),
        };
        s.field("value", &*self.0.value.borrow());
        if let Some(g) = &*self.0.grad.borrow() {
            s.field("grad", g);
        }
        s.finish()
    }
}

/// Rc chains drop recursively: dropping the last handle on a 100,000-op chain would recurse
/// 100,000 deep and overflow the stack. So a node about to be dropped hands its inputs to a
/// loop, which detaches the inputs of every node it holds the last handle on before letting it go.
impl Drop for Node {
    fn drop(&mut self) {
        let mut stack = match std::mem::replace(self.origin.get_mut(), Origin::Leaf) {
            Origin::Op(op) => op.inputs,
            _ => return,
        };
        while let Some(var) = stack.pop() {
            if Rc::strong_count(&var.0) == 1 {
                if let Origin::Op(op) = var.0.origin.replace(Origin::Leaf) {
                    stack.extend(op.inputs);
                }
            }
            // `var` drops here; it has no inputs left to recurse into.
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(data: &[f32], shape: &[usize]) -> Tensor {
        Tensor::from_vec(data.to_vec(), shape)
    }

    #[test]
    fn leaves() {
        let p = Var::parameter(t(&[1.0, 2.0], &[2]));
        let c = Var::constant(t(&[3.0], &[1]));
        assert!(p.requires_grad() && p.is_leaf());
        assert!(!c.requires_grad() && c.is_leaf());
        assert_eq!(p.shape(), Shape::from([2]));
        assert_eq!(p.dims(), vec![2]);
        assert_eq!(c.item(), 3.0);
        assert!(p.grad().is_none());
        assert_ne!(p.id(), c.id());
        assert!(p.ptr_eq(&p.clone()) && !p.ptr_eq(&c));
        assert_eq!(p.op_name(), None);
    }

    #[test]
    fn op_results_record_the_graph_only_when_needed() {
        let p = Var::parameter(t(&[1.0, 2.0], &[2]));
        let c = Var::constant(t(&[3.0, 4.0], &[2]));
        let y = &p * &c;
        assert!(y.requires_grad() && !y.is_leaf());
        assert_eq!(y.op_name(), Some("mul"));
        let z = &c * &c;
        assert!(!z.requires_grad() && z.is_leaf());
        assert_eq!(z.value().to_vec(), vec![9.0, 16.0]);
    }

    #[test]
    fn detach_shares_the_value_and_cuts_the_graph() {
        let p = Var::parameter(t(&[1.0, 2.0], &[2]));
        let y = &p * 2.0;
        let d = y.detach();
        assert!(d.is_leaf() && !d.requires_grad());
        assert!(d.value().shares_buffer(&y.value()));
    }

    #[test]
    fn update_value_does_not_copy_an_unshared_buffer() {
        let p = Var::parameter(t(&[1.0, 2.0], &[2]));
        let before = p.0.value.borrow().data().as_ptr();
        p.update_value(|v| v.add_scaled_(&t(&[1.0, 1.0], &[2]), -0.5));
        assert_eq!(p.0.value.borrow().data().as_ptr(), before);
        assert_eq!(p.value().to_vec(), vec![0.5, 1.5]);
        p.set_value(t(&[7.0], &[1]));
        assert_eq!(p.dims(), vec![1]);
    }

    #[test]
    fn grads_set_and_cleared() {
        let p = Var::parameter(t(&[1.0, 2.0], &[2]));
        p.set_grad(Some(t(&[0.5, 0.5], &[2])));
        assert_eq!(p.grad().unwrap().to_vec(), vec![0.5, 0.5]);
        p.zero_grad();
        assert!(p.grad().is_none());
    }

    #[test]
    #[should_panic(expected = "set_grad: gradient of shape [3] for a Var of shape [2]")]
    fn set_grad_checks_the_shape() {
        Var::parameter(t(&[1.0, 2.0], &[2])).set_grad(Some(Tensor::zeros([3])));
    }

    #[test]
    fn names_and_debug() {
        let w = Var::parameter(t(&[1.0], &[1])).named("w");
        assert_eq!(w.name().as_deref(), Some("w"));
        let y = &w * 3.0;
        let text = format!("{w:?} {y:?}");
        assert!(
            text.contains("name: \"w\"") && text.contains("parameter"),
            "{text}"
        );
        assert!(text.contains("op: \"mul_scalar\""), "{text}");
    }

    #[test]
    fn dropping_a_deep_graph_does_not_overflow_the_stack() {
        let x = Var::parameter(t(&[1.0], &[1]));
        let mut y = x.clone();
        for _ in 0..100_000 {
            y = y.add_scalar(1.0);
        }
        assert_eq!(y.item(), 100_001.0);
        drop(y); // the whole chain goes here, iteratively
        assert!(x.grad().is_none());
    }
}
