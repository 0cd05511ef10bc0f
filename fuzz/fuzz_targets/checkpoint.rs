//! The checkpoint loader on arbitrary bytes: `nn::state::load_bytes`, then loading what it
//! accepted into a small model (names and shapes checked against the model). Errors are fine;
//! panics, hangs and huge allocations are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nn::{Linear, Module, Sequential};

fuzz_target!(|data: &[u8]| {
    if let Ok(ckpt) = nn::state::load_bytes(data, "fuzz.safetensors") {
        for (_, t) in &ckpt.tensors {
            assert_eq!(t.data().len(), t.dims().iter().product::<usize>());
        }
        let model = Sequential::new().push(Linear::new(2, 3, true, &mut tensor::rng(0)));
        if nn::state::load_state_dict(&model, &ckpt.tensors).is_ok() {
            let x = autograd::Var::constant(tensor::Tensor::ones([1, 2]));
            assert_eq!(model.forward(&x).dims(), vec![1, 3]);
        }
    }
});
