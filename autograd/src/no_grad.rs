//! Grad mode: whether ops record the graph. Inside [`no_grad()`] they do not, so evaluation and
//! optimizer updates cost no memory for saved tensors and leave no graph behind.

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops record the graph right now (true unless inside [`no_grad()`]).
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Runs `f` with graph recording switched off, then restores the previous mode (also if `f`
/// panics). Results computed inside are constants.
///
/// ```
/// use autograd::{no_grad, Var};
/// use tensor::Tensor;
///
/// let w = Var::parameter(Tensor::ones([2]));
/// let y = no_grad(|| &w * 2.0);
/// assert!(!y.requires_grad());
/// ```
pub fn no_grad<T>(f: impl FnOnce() -> T) -> T {
    let _guard = NoGradGuard::new();
    f()
}

/// Switches graph recording off until dropped, then restores the previous mode.
/// The guard form of [`no_grad()`], for code that cannot be put in a closure.
#[must_use = "recording is switched back on when the guard is dropped"]
pub struct NoGradGuard {
    previous: bool,
}

impl NoGradGuard {
    /// Switches recording off.
    pub fn new() -> NoGradGuard {
        NoGradGuard {
            previous: GRAD_ENABLED.with(|g| g.replace(false)),
        }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        NoGradGuard::new()
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Var;
    use tensor::Tensor;

    #[test]
    fn no_grad_builds_no_graph_and_restores_the_mode() {
        let w = Var::parameter(Tensor::ones([2]));
        assert!(is_grad_enabled());
        let y = no_grad(|| {
            assert!(!is_grad_enabled());
            // nested scopes restore the outer (off) mode, not "on"
            no_grad(|| ());
            assert!(!is_grad_enabled());
            &(&w * 2.0) + &w
        });
        assert!(is_grad_enabled());
        assert!(!y.requires_grad() && y.is_leaf());
        assert_eq!(y.value().to_vec(), vec![3.0, 3.0]);
    }

    #[test]
    fn the_guard_restores_the_mode_after_a_panic() {
        let result = std::panic::catch_unwind(|| no_grad(|| panic!("inside")));
        assert!(result.is_err());
        assert!(is_grad_enabled());
        {
            let _g = NoGradGuard::new();
            assert!(!is_grad_enabled());
        }
        assert!(is_grad_enabled());
    }
}
