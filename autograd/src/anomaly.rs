//! Anomaly mode: find the first op whose forward output or backward gradient holds NaN or ±∞,
//! and say where it sits in the model — PyTorch's `torch.autograd.detect_anomaly`.
//!
//! # Switching it on
//! [`detect_anomaly(true)`](detect_anomaly) (or an [`AnomalyGuard`] for a scope) switches the
//! checks on for the current thread. From then on:
//! - after every recorded op's `forward` ([`Var::apply`](crate::Var::apply)), the output is
//!   checked for NaN and ±∞;
//! - in every `backward()`, after each op's `backward`, each input gradient is checked: the
//!   walk shows every op to a [`WalkObserver`] (its one hook point, `hooks.rs`), and in
//!   anomaly mode that observer is this module's `BackwardCheck`.
//!
//! The first non-finite value found is recorded as an [`Anomaly`]: the op's name, whether it
//! was the forward output or the gradient of which input, the input shapes (and which inputs
//! were already non-finite) and the module path, e.g. `1 (Linear)`. Later anomalies are ignored
//! until that one is taken, so the report names the *first* bad op, not the cascade after it.
//!
//! # How it stops a run
//! The computation itself does not stop: NaN simply flows on, as without anomaly mode. The
//! training loop asks [`take_anomaly()`] after each forward and after each backward and ends
//! the run with the anomaly's message (the `minidl` examples exit with status 2). As a
//! fallback for code that never asks, an anomaly still untaken when a whole `backward()` has
//! run after it makes the *next* `backward()` panic with its message: a loop that checks after
//! forward, after backward, or not at all, stops within one step of the bad op.
//!
//! # Where in the model
//! Ops read a thread-local *module path*, pushed by containers while a child runs:
//! `nn::Sequential` enters [`module_scope`]`("1", "Linear")` around its child `1`, so an op in
//! it is reported `at 1 (Linear)`, and inside nested `Sequential`s `at 0.2 (Conv2d)`. Your
//! own container does the same with one line in its `forward`. Outside every scope the path
//! is empty and the report says `outside any module`.
//!
//! # Cost
//! Off (the default), each op pays one read of a thread-local flag in `apply`, each
//! `backward()` a few more (before the walk, not per node: without an observer the walk only
//! tests that it has none), each child of a `Sequential` one more; no allocation, no scan.
//! On, every output and gradient is scanned once and each recorded op keeps its module path.
//!
//! ```
//! use autograd::{detect_anomaly, module_scope, take_anomaly, Var};
//! use tensor::Tensor;
//!
//! let _on = autograd::AnomalyGuard::new();
//! let x = Var::parameter(Tensor::from_vec(vec![1.0, 0.0], [2]));
//! let y = {
//!     let _scope = module_scope("0", "Log");
//!     x.ln() // ln(0) = −∞
//! };
//! let a = take_anomaly().expect("ln(0) is −∞");
//! assert_eq!(a.op, "ln");
//! assert_eq!(a.module_path.as_deref(), Some("0 (Log)"));
//! assert_eq!(
//!     a.to_string(),
//!     "anomaly: `ln` produced -inf in its forward output [2], at 0 (Log); inputs: [2]"
//! );
//! # drop(y);
//! # detect_anomaly(false);
//! ```

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use tensor::Tensor;

use crate::hooks::WalkObserver;
use crate::var::{OpNode, Var};

thread_local! {
    static ENABLED: Cell<bool> = const { Cell::new(false) };
    /// The module path: one `(name, kind)` per entered scope.
    static PATH: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
    /// The first anomaly not yet taken, with the number of backward walks finished when it
    /// was found.
    static PENDING: RefCell<Option<(Anomaly, u64)>> = const { RefCell::new(None) };
    /// Backward walks finished on this thread.
    static WALKS: Cell<u64> = const { Cell::new(0) };
}

/// Switches anomaly mode on or off for the current thread; returns the previous setting.
/// Switching it off also forgets an anomaly that was not taken.
pub fn detect_anomaly(on: bool) -> bool {
    if !on {
        PENDING.with(|p| p.borrow_mut().take());
    }
    ENABLED.with(|e| e.replace(on))
}

/// Whether anomaly mode is on for the current thread (off unless [`detect_anomaly`] or an
/// [`AnomalyGuard`] switched it on).
#[inline]
pub fn is_anomaly_enabled() -> bool {
    ENABLED.with(Cell::get)
}

/// Switches anomaly mode on until dropped, then restores the previous setting.
#[must_use = "anomaly mode is switched back when the guard is dropped"]
pub struct AnomalyGuard {
    previous: bool,
}

impl AnomalyGuard {
    /// Switches anomaly mode on.
    pub fn new() -> AnomalyGuard {
        AnomalyGuard {
            previous: detect_anomaly(true),
        }
    }
}

impl Default for AnomalyGuard {
    fn default() -> Self {
        AnomalyGuard::new()
    }
}

impl Drop for AnomalyGuard {
    fn drop(&mut self) {
        detect_anomaly(self.previous);
    }
}

/// The first anomaly found since the last call, if any (and forgets it).
pub fn take_anomaly() -> Option<Anomaly> {
    PENDING.with(|p| p.borrow_mut().take()).map(|(a, _)| a)
}

/// Where in the computation the non-finite value appeared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// In the op's forward output.
    Forward,
    /// In the gradient the op's backward returned for input `input`.
    Backward {
        /// The input (0-based) whose gradient was not finite.
        input: usize,
    },
}

/// The first op that produced NaN or ±∞ while anomaly mode was on. Its `Display` is one line:
///
/// `anomaly: `linear` produced inf in its forward output [64, 128], at 1 (Linear); inputs: [64, 784], [128, 784], [128]`
#[derive(Clone, Debug, PartialEq)]
pub struct Anomaly {
    /// The op's [`Function::name`](crate::Function::name).
    pub op: &'static str,
    /// Forward output, or which input's gradient.
    pub phase: Phase,
    /// What was found: `"NaN"`, `"inf"`, `"-inf"`, or `"NaN and inf"`.
    pub found: &'static str,
    /// The shape of the bad tensor (the output, or the gradient).
    pub shape: Vec<usize>,
    /// The shape of each input.
    pub input_shapes: Vec<Vec<usize>>,
    /// For each input, whether its value was already non-finite (then the cause is upstream:
    /// a parameter an optimizer step made infinite, or bad data).
    pub input_non_finite: Vec<bool>,
    /// The module path (`"1 (Linear)"`, `"0.2 (Conv2d)"`), or `None` outside every module.
    pub module_path: Option<String>,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shapes = |s: &[usize]| format!("{s:?}");
        write!(f, "anomaly: `{}` produced {} in ", self.op, self.found)?;
        match self.phase {
            Phase::Forward => write!(f, "its forward output {}", shapes(&self.shape))?,
            Phase::Backward { input } => write!(
                f,
                "the gradient of its input {input} {} (backward)",
                shapes(&self.shape)
            )?,
        }
        match &self.module_path {
            Some(path) => write!(f, ", at {path}")?,
            None => write!(f, ", outside any module")?,
        }
        let inputs: Vec<String> = self
            .input_shapes
            .iter()
            .zip(&self.input_non_finite)
            .map(|(s, &bad)| {
                if bad {
                    format!("{} (already non-finite)", shapes(s))
                } else {
                    shapes(s)
                }
            })
            .collect();
        write!(f, "; inputs: {}", inputs.join(", "))
    }
}

impl std::error::Error for Anomaly {}

/// Enters a module scope named `name` (the child's name in its parent, e.g. `"1"`) of kind
/// `kind` (its type, e.g. `"Linear"`) until the returned guard is dropped. Does nothing (and
/// allocates nothing) when anomaly mode is off, so containers may call it unconditionally.
pub fn module_scope(name: &str, kind: &str) -> ModuleScope {
    if !is_anomaly_enabled() {
        return ModuleScope { entered: false };
    }
    PATH.with(|p| p.borrow_mut().push((name.to_string(), kind.to_string())));
    ModuleScope { entered: true }
}

/// Leaves the module scope entered by [`module_scope`] when dropped.
#[must_use = "the scope ends when the guard is dropped"]
pub struct ModuleScope {
    entered: bool,
}

impl Drop for ModuleScope {
    fn drop(&mut self) {
        if self.entered {
            PATH.with(|p| p.borrow_mut().pop());
        }
    }
}

/// The current module path, `"0.2 (Conv2d)"`: the scope names joined by dots, then the kind of
/// the innermost one; `None` outside every scope.
pub fn module_path() -> Option<String> {
    PATH.with(|p| {
        let p = p.borrow();
        let (_, kind) = p.last()?;
        let names: Vec<&str> = p.iter().map(|(n, _)| n.as_str()).collect();
        Some(format!("{} ({kind})", names.join(".")))
    })
}

/// What a tensor holds that is not finite, or `None` if every element is finite.
fn non_finite(t: &Tensor) -> Option<&'static str> {
    if t.all_finite() {
        return None;
    }
    let (mut nan, mut pos, mut neg) = (false, false, false);
    for &v in t.data() {
        nan |= v.is_nan();
        pos |= v == f32::INFINITY;
        neg |= v == f32::NEG_INFINITY;
    }
    Some(match (nan, pos, neg) {
        (true, false, false) => "NaN",
        (false, true, false) => "inf",
        (false, false, true) => "-inf",
        (false, true, true) => "inf and -inf",
        _ => "NaN and inf",
    })
}

/// Records `anomaly` unless one is already pending.
fn record(anomaly: impl FnOnce() -> Anomaly) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if p.is_none() {
            *p = Some((anomaly(), WALKS.with(Cell::get)));
        }
    });
}

/// Called by `Var::apply` in anomaly mode: checks a forward output.
pub(crate) fn check_forward(
    op: &'static str,
    inputs: &[&Tensor],
    output: &Tensor,
    path: Option<&str>,
) {
    check(op, Phase::Forward, output, inputs, path);
}

/// Records an anomaly at `op` if `t` (its output, or a gradient: `phase`) is not all finite.
fn check(op: &'static str, phase: Phase, t: &Tensor, inputs: &[&Tensor], path: Option<&str>) {
    if let Some(found) = non_finite(t) {
        record(|| Anomaly {
            op,
            phase,
            found,
            shape: t.dims().to_vec(),
            input_shapes: inputs.iter().map(|t| t.dims().to_vec()).collect(),
            input_non_finite: inputs.iter().map(|t| !t.all_finite()).collect(),
            module_path: path.map(str::to_string),
        });
    }
}

/// The module path to keep on a recorded op (only in anomaly mode).
pub(crate) fn path_for_node() -> Option<Rc<str>> {
    module_path().map(Rc::from)
}

/// Anomaly mode's part in one backward walk. [`start`](BackwardCheck::start) is the fallback
/// stop for an anomaly nobody took; in anomaly mode, [`observer`](BackwardCheck::observer) is
/// the [`WalkObserver`] that checks every gradient an op's backward returns;
/// [`finish`](BackwardCheck::finish) counts the walk.
pub(crate) struct BackwardCheck {
    enabled: bool,
}

impl BackwardCheck {
    /// Before a walk: panics with an anomaly still untaken from an earlier walk.
    #[track_caller]
    pub(crate) fn start() -> BackwardCheck {
        let stale = PENDING.with(|p| {
            let p = p.borrow();
            matches!(&*p, Some((_, walks)) if *walks < WALKS.with(Cell::get))
        });
        if stale {
            let anomaly = take_anomaly().expect("pending");
            panic!(
                "{anomaly} (found in an earlier step and not taken with autograd::take_anomaly())"
            );
        }
        BackwardCheck {
            enabled: is_anomaly_enabled(),
        }
    }

    /// The observer to hand the walk: `Some` in anomaly mode, `None` (no work per node) when off.
    pub(crate) fn observer(&mut self) -> Option<&mut dyn WalkObserver> {
        if self.enabled {
            Some(self)
        } else {
            None
        }
    }

    /// After a walk that ran to the end.
    pub(crate) fn finish(self) {
        WALKS.with(|w| w.set(w.get() + 1));
    }
}

impl WalkObserver for BackwardCheck {
    /// Checks the gradient of each input for NaN and ±∞.
    fn after_op(&mut self, op: &OpNode, input_grads: &[Option<Tensor>]) {
        for (input, grad) in input_grads.iter().enumerate() {
            let Some(grad) = grad.as_ref().filter(|g| !g.all_finite()) else {
                continue; // the common case: nothing to report, nothing read
            };
            let values: Vec<Tensor> = op.inputs.iter().map(Var::value).collect();
            let values: Vec<&Tensor> = values.iter().collect();
            let phase = Phase::Backward { input };
            check(op.function.name(), phase, grad, &values, op.path.as_deref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f32]) -> Tensor {
        Tensor::from_vec(v.to_vec(), [v.len()])
    }

    #[test]
    fn off_by_default_and_nothing_recorded() {
        assert!(!is_anomaly_enabled());
        let x = Var::parameter(t(&[0.0]));
        let _ = x.ln();
        assert!(take_anomaly().is_none());
        assert!(module_path().is_none());
        let _s = module_scope("0", "Linear"); // a no-op when off
        assert!(module_path().is_none());
    }

    #[test]
    fn the_guard_restores_the_setting_and_off_forgets() {
        {
            let _g = AnomalyGuard::new();
            assert!(is_anomaly_enabled());
            let _ = Var::parameter(t(&[-1.0])).sqrt();
            detect_anomaly(false); // forgets the pending one
            assert!(take_anomaly().is_none());
            detect_anomaly(true);
        }
        assert!(!is_anomaly_enabled());
    }

    #[test]
    fn the_first_forward_anomaly_names_op_shapes_and_path() {
        let _g = AnomalyGuard::new();
        let w = Var::parameter(Tensor::from_vec(vec![1e30, 1e30, 1.0, 1.0], [2, 2]));
        let x = Var::constant(Tensor::from_vec(vec![1e10, 1e10], [1, 2]));
        let y = {
            let _outer = module_scope("encoder", "Sequential");
            let _inner = module_scope("1", "Linear");
            assert_eq!(module_path().as_deref(), Some("encoder.1 (Linear)"));
            x.matmul(&w)
        };
        let _later = y.ln().exp(); // more non-finite values: not the first, ignored
        let a = take_anomaly().unwrap();
        assert_eq!(a.op, "matmul");
        assert_eq!(a.phase, Phase::Forward);
        assert_eq!(a.found, "inf");
        assert_eq!(a.shape, vec![1, 2]);
        assert_eq!(a.input_shapes, vec![vec![1, 2], vec![2, 2]]);
        assert_eq!(a.input_non_finite, vec![false, false]);
        assert_eq!(
            a.to_string(),
            "anomaly: `matmul` produced inf in its forward output [1, 2], at encoder.1 (Linear); \
             inputs: [1, 2], [2, 2]"
        );
        assert!(take_anomaly().is_none());
        assert!(module_path().is_none());
    }

    #[test]
    fn non_finite_inputs_are_marked() {
        let _g = AnomalyGuard::new();
        let a = Var::parameter(t(&[f32::NAN, 1.0]));
        let b = Var::parameter(t(&[1.0, 2.0]));
        let _ = &a * &b;
        let found = take_anomaly().unwrap();
        assert_eq!(found.found, "NaN");
        assert_eq!(found.input_non_finite, vec![true, false]);
        assert!(found.to_string().contains("[2] (already non-finite), [2]"));
        assert!(found.to_string().contains("outside any module"));
    }

    #[test]
    fn a_backward_anomaly_names_the_input_and_the_forward_path() {
        let _g = AnomalyGuard::new();
        // sqrt at 0 is finite forward, its derivative 1/(2·√0) is ∞
        let x = Var::parameter(t(&[0.0, 4.0]));
        let y = {
            let _s = module_scope("3", "Sqrt");
            x.sqrt()
        };
        assert!(take_anomaly().is_none());
        y.sum_all().backward();
        let a = take_anomaly().unwrap();
        assert_eq!(a.op, "sqrt");
        assert_eq!(a.phase, Phase::Backward { input: 0 });
        assert_eq!(a.module_path.as_deref(), Some("3 (Sqrt)"));
        assert_eq!(
            a.to_string(),
            "anomaly: `sqrt` produced inf in the gradient of its input 0 [2] (backward), \
             at 3 (Sqrt); inputs: [2]"
        );
    }

    #[test]
    fn an_untaken_anomaly_stops_the_next_step() {
        let _g = AnomalyGuard::new();
        let x = Var::parameter(t(&[0.0]));
        // step 1: the anomaly happens in backward; nobody takes it
        x.sqrt().sum_all().backward();
        // step 2: forward is fine, backward panics with the first anomaly
        let loss = (&x * 2.0).sum_all();
        let err =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loss.backward())).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.starts_with("anomaly: `sqrt` produced inf"), "{msg}");
        assert!(
            msg.contains("not taken with autograd::take_anomaly()"),
            "{msg}"
        );
        assert!(take_anomaly().is_none());
    }

    #[test]
    fn a_forward_anomaly_may_be_taken_after_backward() {
        let _g = AnomalyGuard::new();
        let x = Var::parameter(t(&[-1.0]));
        let loss = x.ln().sum_all(); // NaN forward
        loss.backward(); // not a panic: the loop may check after backward
        assert_eq!(take_anomaly().unwrap().op, "ln");
    }

    #[test]
    fn modes_are_per_thread() {
        let _g = AnomalyGuard::new();
        std::thread::spawn(|| assert!(!is_anomaly_enabled()))
            .join()
            .unwrap();
    }
}
