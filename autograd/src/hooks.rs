//! Gradient hooks: the two places where the backward walk lets other code look at the
//! gradients it computes, so that the walk itself stays micrograd's loop.
//! - A hook on one [`Var`] ([`Var::register_hook`]) sees the gradient flowing back through it
//!   and may replace it. Diagnostics (per-layer gradient norms) use hooks, so layers need no
//!   special cases.
//! - A [`WalkObserver`] sees every op of one walk: the gradients each op's backward returned
//!   for its inputs. Anomaly mode (`anomaly.rs`) is the observer the crate ships.

use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicUsize, Ordering};

use tensor::{shape_panic, Tensor};

use crate::var::{Hook, Node, OpNode, Var};

/// The backward walk's one hook point for the whole graph: after each op's `backward`, the walk
/// hands the op (its `Function`, inputs and module path) and the gradients it returned, one per
/// input (`None` where no gradient flows), already checked for shape. An observer only looks:
/// what it is given is what the walk goes on to add to the inputs. Without an observer the walk
/// does no extra work.
pub(crate) trait WalkObserver {
    /// Called once per op reached by the walk, right after its `backward`.
    fn after_op(&mut self, op: &OpNode, input_grads: &[Option<Tensor>]);
}

/// Returned by [`Var::register_hook`]; [`HookHandle::remove`] unregisters the hook.
/// Dropping the handle leaves the hook in place.
#[derive(Debug, Clone)]
pub struct HookHandle {
    node: Weak<Node>,
    id: usize,
}

impl HookHandle {
    /// Unregisters the hook (nothing happens if the `Var` is gone).
    pub fn remove(self) {
        if let Some(node) = self.node.upgrade() {
            node.hooks.borrow_mut().retain(|h| h.id != self.id);
        }
    }
}

impl Var {
    /// Registers `f` to be called with the gradient of the loss with respect to this `Var`
    /// during every later `backward()`, once the gradient is complete (all uses summed) and
    /// before it is stored (leaves) or passed on to the inputs (op results). If `f` returns
    /// `Some(t)`, `t` replaces the gradient from there on. Hooks run in registration order.
    ///
    /// Works on any `Var`, also on intermediate results whose gradient is not kept.
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// use autograd::Var;
    /// use tensor::Tensor;
    ///
    /// let x = Var::parameter(Tensor::from_vec(vec![1.0, 2.0], [2]));
    /// let h = &x * 3.0;
    /// let norm = Rc::new(Cell::new(0.0));
    /// let seen = norm.clone();
    /// h.register_hook(move |g| {
    ///     seen.set(g.data().iter().map(|v| v * v).sum::<f32>().sqrt());
    ///     None // keep the gradient as it is
    /// });
    /// h.sum_all().backward();
    /// assert_eq!(norm.get(), 2f32.sqrt());
    /// ```
    pub fn register_hook(&self, f: impl FnMut(&Tensor) -> Option<Tensor> + 'static) -> HookHandle {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        self.0.hooks.borrow_mut().push(Hook { id, f: Box::new(f) });
        HookHandle {
            node: Rc::downgrade(&self.0),
            id,
        }
    }
}

/// Passes `grad` through the hooks of `var`, in order; returns the (possibly replaced) gradient.
pub(crate) fn run_hooks(var: &Var, mut grad: Tensor) -> Tensor {
    if var.0.hooks.borrow().is_empty() {
        return grad;
    }
    // Take the hooks out while they run, so a hook may register or remove hooks itself.
    let mut hooks = std::mem::take(&mut *var.0.hooks.borrow_mut());
    for hook in &mut hooks {
        if let Some(new) = (hook.f)(&grad) {
            if new.shape() != grad.shape() {
                shape_panic(
                    "register_hook",
                    format_args!(
                        "a hook returned a gradient of shape {:?} for a Var of shape {:?}",
                        new.shape(),
                        grad.shape()
                    ),
                );
            }
            grad = new;
        }
    }
    let mut slot = var.0.hooks.borrow_mut();
    hooks.append(&mut slot);
    *slot = hooks;
    grad
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    #[test]
    fn a_hook_sees_the_summed_gradient_of_an_intermediate() {
        let x = Var::parameter(Tensor::from_vec(vec![2.0], [1]));
        let h = &x * 3.0; // used twice below
        let seen = Rc::new(RefCell::new(Vec::new()));
        let log = seen.clone();
        h.register_hook(move |g| {
            log.borrow_mut().push(g.item());
            None
        });
        let y = &(&h * &h) + &h; // dy/dh = 2h + 1 = 13
        y.backward();
        assert_eq!(*seen.borrow(), vec![13.0]);
        assert_eq!(x.grad().unwrap().item(), 39.0);
    }

    #[test]
    fn a_hook_can_replace_the_gradient() {
        let x = Var::parameter(Tensor::from_vec(vec![1.0, 1.0], [2]));
        let h = &x * 2.0;
        h.register_hook(|g| Some(g.mul_scalar(10.0)));
        h.sum_all().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![20.0, 20.0]);
    }

    #[test]
    fn hooks_on_leaves_run_before_accumulation_and_can_be_removed() {
        let x = Var::parameter(Tensor::from_vec(vec![1.0], [1]));
        let handle = x.register_hook(|g| Some(g.mul_scalar(-1.0)));
        (&x * 5.0).sum_all().backward();
        assert_eq!(x.grad().unwrap().item(), -5.0);
        handle.remove();
        (&x * 5.0).sum_all().backward();
        assert_eq!(x.grad().unwrap().item(), 0.0); // -5 + 5
    }

    #[test]
    #[should_panic(expected = "register_hook: a hook returned a gradient of shape [3]")]
    fn a_hook_must_keep_the_shape() {
        let x = Var::parameter(Tensor::ones([2]));
        x.register_hook(|_| Some(Tensor::ones([3])));
        x.sum_all().backward();
    }
}
