//! The formula parser (`Formula::parse`, behind `--activation "formula:…"`) on arbitrary text:
//! it never panics, and a formula it accepts builds a layer whose forward, backward and
//! derivative (used by the diagnostics) run, whatever values come out, panicking at most with
//! a shape error that names the input's shape (an axis argument that does not fit it).
#![no_main]

use autograd::Var;
use libfuzzer_sys::fuzz_target;
use nn::activation::Formula;
use nn::Module;
use tensor::Tensor;

/// Runs `f`; a panic is allowed only if it is a shape error (`op: … [shapes] …`): an
/// activation whose axis argument does not fit the input, such as `softmax:dim=5` on `[2, 4]`,
/// is a programming error by design, which the mnist lab turns into an error before training.
/// Any other panic is a finding.
fn only_shape_panics(f: impl FnOnce()) {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    if let Err(panic) = result {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        // `op: … [shape] …`, the form of `tensor::shape_panic`
        let shape_error = msg.split_once(": ").is_some_and(|(op, rest)| {
            op.chars().all(|c| c.is_ascii_lowercase() || c == '_') && rest.contains('[')
        });
        assert!(shape_error, "a panic that is not a shape error: {msg}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(formula) = Formula::parse(text) else {
        return;
    };
    let layer = formula.build();
    let _ = layer.describe();
    let values = Tensor::from_vec(
        vec![-1e30, -3.0, -0.5, 0.0, 0.25, 2.0, 90.0, f32::NAN],
        [2, 4],
    );
    let x = Var::parameter(values.clone());
    only_shape_panics(|| {
        let y = layer.forward(&x);
        y.sum_all().backward();
        let _ = layer.derivative(&values);
    });
    // the same text through the registry's entry point
    let _ = nn::activation::Activation::from_name(&format!("formula:{text}"));
});
