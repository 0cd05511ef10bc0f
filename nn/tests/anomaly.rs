//! Anomaly mode through layers: `Sequential` puts each child on the module path, so the first
//! op that makes NaN or ∞ is reported with where it sits in the model.

use autograd::{take_anomaly, AnomalyGuard, Phase, Var};
use nn::loss::cross_entropy;
use nn::{Linear, Module, Relu, Sequential};
use tensor::Tensor;

fn model() -> Sequential {
    let mut rng = tensor::rng(0);
    Sequential::new()
        .push(Linear::new(3, 4, true, &mut rng))
        .push(Relu)
        .push(Sequential::new().push(Linear::new(4, 2, true, &mut rng)))
}

#[test]
fn a_forward_overflow_names_the_nested_layer() {
    let _on = AnomalyGuard::new();
    let model = model();
    // the inner Linear's weight is huge: its output overflows, the first Linear's does not
    let inner = model.named_parameters()[2].1.clone();
    inner.set_value(Tensor::full(inner.shape(), 3e38));
    let x = Var::constant(Tensor::from_vec(
        vec![1.0, 2.0, 3.0, -1.0, 0.5, 2.0],
        [2, 3],
    ));
    let loss = cross_entropy(&model.forward(&x), &Tensor::from_vec(vec![0.0, 1.0], [2]));
    let a = take_anomaly().expect("an overflow");
    assert_eq!(a.phase, Phase::Forward);
    assert_eq!(a.module_path.as_deref(), Some("2.0 (Linear)"));
    assert_eq!(a.input_shapes, vec![vec![2, 4], vec![2, 4], vec![2]]);
    assert!(a.to_string().contains("at 2.0 (Linear)"), "{a}");
    drop(loss);
}

#[test]
fn a_parameter_made_infinite_is_marked_as_the_cause() {
    let _on = AnomalyGuard::new();
    let model = model();
    let first = model.named_parameters()[0].1.clone();
    first.update_value(|w| w.data_mut()[0] = f32::INFINITY);
    let x = Var::constant(Tensor::ones([1, 3]));
    let _ = model.forward(&x);
    let a = take_anomaly().unwrap();
    assert_eq!(a.module_path.as_deref(), Some("0 (Linear)"));
    assert_eq!(a.input_non_finite, vec![false, true, false]);
    assert!(a.to_string().contains("[4, 3] (already non-finite)"), "{a}");
}

#[test]
fn off_by_default_and_scopes_leave_no_path_behind() {
    assert!(!autograd::is_anomaly_enabled());
    let model = model();
    let x = Var::constant(Tensor::full([1, 3], f32::NAN));
    let _ = model.forward(&x);
    assert!(take_anomaly().is_none());
    let _on = AnomalyGuard::new();
    let _ = model.forward(&x);
    assert!(take_anomaly().is_some());
    assert!(autograd::module_path().is_none());
}
