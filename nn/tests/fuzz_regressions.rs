//! Inputs that the fuzz targets in `fuzz/` found making the parsers or the layers they build
//! panic or crash, kept here so that they stay fixed. (The command-line side of the same
//! inputs — `--activation glu`, `--activation softmax:dim=5` — is in `tests/bad_inputs.rs`.)

use autograd::Var;
use nn::activation::{ActivationSpec, Formula};
use nn::Module;
use tensor::Tensor;

fn input() -> Var {
    Var::parameter(Tensor::from_vec(
        vec![-1e30, -3.0, -0.5, 0.0, 0.25, 2.0, 90.0, f32::NAN],
        [2, 4],
    ))
}

/// fuzz/artifacts/formula/crash-952649…: a gated activation (which halves the last axis)
/// multiplied by a function of x: `[2, 2] · [2, 4]` panicked in `mul` at the first forward.
/// It is now a parse error at the operator.
#[test]
fn a_halved_value_combined_with_x_is_a_parse_error() {
    let text = "glu(x) \u{b7}sqrt(1) \u{b7}gelu(x )";
    let err = Formula::parse(text).unwrap_err();
    assert_eq!(err.column, 17, "{err}"); // the second `·`
    assert!(err.to_string().contains("have different shapes"), "{err}");
    for bad in [
        "x * glu(x)",
        "glu(glu(x)) + glu(x)",
        "glu(x, dim=0) - glu(x)",
    ] {
        assert!(Formula::parse(bad).is_err(), "{bad}");
    }
    // what stays allowed: one halving throughout, or constants
    for good in [
        "glu(x)",
        "2 * glu(x) + 1",
        "glu(x) + swiglu(x)",
        "glu(x) * sigmoid(geglu(x))",
    ] {
        let layer = Formula::parse(good).unwrap().build();
        let y = layer.forward(&input());
        assert_eq!(y.dims(), vec![2, 2], "{good}");
        y.sum_all().backward();
    }
}

/// A chain `x + x + … + x` of 20,000 operations parsed, then overflowed the stack (an abort,
/// not even a panic) when evaluated: formulas now hold at most 1000 operations.
#[test]
fn a_formula_of_more_than_1000_operations_is_an_error() {
    let long = format!("x{}", "+x".repeat(1001));
    let err = Formula::parse(&long).unwrap_err();
    assert!(
        err.to_string().contains("more than 1000 operations"),
        "{err}"
    );
    let ok = format!("x{}", "+x".repeat(1000));
    let y = Formula::parse(&ok).unwrap().build().forward(&input());
    assert_eq!(y.value().get(&[0, 1]), -3003.0);
}

/// fuzz/artifacts/activation_name/crash-7dad36…: `softmax:dim=5` parses (the parser cannot
/// know the input's rank) and the layer panics on a 2-D input with a shape error naming the op
/// and the shape — by design for the library; the lab checks it before training.
#[test]
#[should_panic(expected = "softmax: dim 5 is out of range for shape [2, 4] (rank 2)")]
fn an_axis_beyond_the_input_is_a_shape_panic_naming_op_and_shape() {
    let layer = ActivationSpec::parse("softmax:dim=5").unwrap().build();
    layer.forward(&input());
}

/// `nn::state::load_bytes` (the entry point the checkpoint fuzz target uses) reads what `load`
/// reads, and refuses the same bytes with the same errors.
#[test]
fn load_bytes_matches_load() {
    let dir = std::env::temp_dir().join(format!("minidl-load-bytes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.safetensors");
    let layer = nn::Linear::new(3, 2, true, &mut tensor::rng(0));
    nn::state::save_module(&path, &layer, &Default::default()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let from_file = nn::state::load(&path).unwrap();
    let from_bytes = nn::state::load_bytes(&bytes, &path).unwrap();
    assert_eq!(from_file.tensors, from_bytes.tensors);
    assert_eq!(from_file.metadata, from_bytes.metadata);
    for cut in [0, 7, 8, 20, bytes.len() - 1] {
        let err = nn::state::load_bytes(&bytes[..cut], "cut.safetensors").unwrap_err();
        assert!(err.to_string().contains("cut.safetensors"), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
