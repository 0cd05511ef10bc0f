//! Probes that run a model or an activation on made-up inputs with a panic caught: whether an
//! activation fits the network ([`check_activation_fits`]), and whether it is finite on
//! ordinary inputs (what [`NonFiniteCause::Activation`] reports).

use autograd::{no_grad, Var};
use nn::activation::ActivationSpec;
use nn::{Module, Sequential};
use tensor::Tensor;

use super::cause::NonFiniteCause;
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

/// The activation on ordinary inputs — values from −3 to 3, the nearest to 0 first — and
/// its gradient there: the first input where its value is not finite, else the first
/// where its gradient is not, if any. A fresh layer of
/// `spec` is probed (its learnable values at their start), in a shape that every
/// activation that fits the network accepts; the probe's own anomaly is forgotten.
pub(super) fn probe_activation(spec: &ActivationSpec, given: &str) -> Option<NonFiniteCause> {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    const SIDE: usize = 2; // every axis but the first even: gated activations halve one
    let mut grid: Vec<f32> = (-24..=24).map(|i| i as f32 / 8.0).collect();
    grid.sort_by(|a, b| a.abs().total_cmp(&b.abs()).then(a.total_cmp(b)));
    let per = SIDE * SIDE * SIDE;
    let values: Vec<f32> = grid
        .iter()
        .flat_map(|&v| std::iter::repeat_n(v, per))
        .collect();
    let x = Var::parameter(Tensor::from_vec(values, [grid.len(), SIDE, SIDE, SIDE]));
    let module = spec.build();
    let probe = || {
        let y = module.forward(&x);
        let out = y.value();
        y.sum_all().backward();
        (out, x.grad())
    };
    let result = quietly(|| catch_unwind(AssertUnwindSafe(probe)));
    let _ = autograd::take_anomaly();
    let (out, grad) = result.ok()?;
    // the first sample (one input value, broadcast over its row) that is not finite
    let bad = |t: &Tensor| {
        let row = t.numel() / grid.len();
        (row > 0 && t.numel() == row * grid.len())
            .then(|| {
                t.data()
                    .chunks_exact(row)
                    .position(|r| r.iter().any(|v| !v.is_finite()))
                    .map(|i| {
                        let v = *t.data()[i * row..(i + 1) * row]
                            .iter()
                            .find(|v| !v.is_finite())
                            .expect("found above");
                        (i, v)
                    })
            })
            .flatten()
    };
    let found_value = bad(&out).map(|(i, v)| (i, v, false));
    let found_grad = grad.as_ref().and_then(bad).map(|(i, v)| (i, v, true));
    // a value that is not finite explains a NaN loss more directly than a gradient
    let (i, output, gradient) = found_value.or(found_grad)?;
    Some(NonFiniteCause::Activation {
        activation: given.to_string(),
        input: grid[i],
        output,
        gradient,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_finds_an_activation_that_is_not_finite_on_ordinary_inputs() {
        let probe = |spec: &str| {
            let act = ActivationSpec::parse(spec).unwrap();
            probe_activation(&act, spec)
        };
        assert_eq!(probe("relu"), None);
        assert_eq!(probe("mish"), None);
        assert_eq!(probe("softmax"), None);
        match probe("x/0") {
            Some(NonFiniteCause::Activation {
                input, gradient, ..
            }) => assert_eq!((input, gradient), (0.0, false)),
            other => panic!("{other:?}"),
        }
        match probe("sqrt(abs(x))") {
            Some(NonFiniteCause::Activation {
                input, gradient, ..
            }) => assert_eq!((input, gradient), (0.0, true)),
            other => panic!("{other:?}"),
        }
    }
}
