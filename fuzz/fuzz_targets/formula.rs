//! The formula parser (`Formula::parse`, behind `--activation "formula:…"`) on arbitrary text:
//! it never panics, and a formula it accepts builds a layer whose forward, backward and
//! derivative (used by the diagnostics) run, whatever values come out, panicking at most with
//! a shape error that names the input's shape (an axis argument that does not fit it).
#![no_main]

mod shape_panics;

use autograd::Var;
use libfuzzer_sys::fuzz_target;
use nn::activation::Formula;
use nn::Module;
use shape_panics::only_shape_panics;
use tensor::Tensor;

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
    let _ = nn::activation::ActivationSpec::parse(&format!("formula:{text}"));
});
