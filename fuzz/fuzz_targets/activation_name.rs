//! The activation-name parser (`ActivationSpec::parse`, what `--activation` takes) on
//! arbitrary text: it never panics, and a spec it accepts builds a layer that runs forward and
//! backward on ordinary and extreme inputs, panicking at most with a shape error that names
//! the input's shape (an axis argument that does not fit it).
#![no_main]

mod shape_panics;

use autograd::Var;
use libfuzzer_sys::fuzz_target;
use nn::activation::ActivationSpec;
use shape_panics::only_shape_panics;
use tensor::Tensor;

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(act) = ActivationSpec::parse(spec) else {
        return;
    };
    let _ = act.to_string();
    let layer = act.build();
    // [2, 4]: even sizes on both axes, for the activations that split their input in halves
    let values = vec![-1e30, -3.0, -0.5, 0.0, 0.25, 2.0, 90.0, f32::NAN];
    let x = Var::parameter(Tensor::from_vec(values, [2, 4]));
    only_shape_panics(|| {
        for training in [true, false] {
            if training {
                layer.train()
            } else {
                layer.eval()
            }
            let y = layer.forward(&x);
            y.sum_all().backward();
        }
    });
});
