//! Probes that run a model on a made-up input with a panic caught: whether an activation
//! fits the network ([`check_activation_fits`]).

use autograd::{no_grad, Var};
use nn::activation::ActivationSpec;
use nn::{Module, Sequential};
use tensor::Tensor;

use super::error::LabError;

/// Runs `f` with the panic hook silenced, so a panic it catches prints nothing (the caller
/// turns it into a one-line error). The hook is global: one caller at a time swaps it, so
/// each restores the right one.
pub(super) fn quietly<T>(f: impl FnOnce() -> T) -> T {
    use std::panic::{set_hook, take_hook};
    use std::sync::Mutex;
    static HOOK: Mutex<()> = Mutex::new(());
    let _one = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let hook = take_hook();
    set_hook(Box::new(|_| {}));
    let result = f();
    set_hook(hook);
    result
}

/// Runs one zero image of `shape` (a batch of one: `[1, 784]`, `[1, 1, 28, 28]`) through
/// `model` (in evaluation mode, without a graph) and turns a panic into [`LabError::Usage`].
/// An activation can parse and still not fit the network: `glu` halves the width the next
/// layer expects, `softmax:dim=5` names an axis the hidden values do not have; without this
/// check the first batch would end the program with a panic (found by fuzzing the activation
/// names). `given` is the spec as the user wrote it, for the message.
///
/// # Errors
/// [`LabError::Usage`]: `activation glu: does not fit the network: …`, with what to change.
pub fn check_activation_fits(
    model: &Sequential,
    shape: &[usize],
    spec: &ActivationSpec,
    given: &str,
) -> Result<(), LabError> {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let x = Var::constant(Tensor::zeros(shape.to_vec()));
    model.eval();
    // the message goes into the error instead
    let result = quietly(|| catch_unwind(AssertUnwindSafe(|| no_grad(|| model.forward(&x)))));
    model.train();
    // a zero image may make a formula such as ln(x) infinite: not an anomaly of the run
    let _ = autograd::take_anomaly();
    let Err(panic) = result else {
        return Ok(());
    };
    let why = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("it failed on the network's shapes");
    let hint = if spec.entry().category == nn::activation::Category::Gated {
        "; gated activations (glu, swiglu, geglu) halve the width the next layer expects: \
         choose another activation"
    } else {
        "; choose another activation or other arguments"
    };
    Err(LabError::Usage(format!(
        "activation {}: does not fit the network: {why}{hint}",
        given.trim()
    )))
}
