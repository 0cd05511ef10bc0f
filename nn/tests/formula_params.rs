//! Formulas with learnable parameters in a model: Adam trains the parameter, and a checkpoint
//! saves and restores it (through the state dict and through a file), so a resumed run goes on
//! from the trained value.

use std::collections::BTreeMap;

use autograd::Var;
use nn::activation::ActivationSpec;
use nn::loss::{mse_loss, Reduction};
use nn::state::{load_module, load_state_dict, save_checkpoint, state_dict, OPTIM_PREFIX};
use nn::{mlp, Module, Sequential};
use optim::{Adam, Optimizer};
use tensor::Tensor;

const SWISH_B: &str = "x * sigmoid(b * x) ; b=1.0";

/// A 1-8-1 network with the formula as its activation.
fn model(spec: &ActivationSpec, seed: u64) -> Sequential {
    mlp(&[1, 8, 1], || spec.build(), &mut tensor::rng(seed))
}

/// The value of the parameter named `name`.
fn param(model: &Sequential, name: &str) -> f32 {
    model
        .named_parameters()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
        .1
        .item()
}

/// `steps` Adam steps fitting y = |x| on a fixed grid; returns (first loss, last loss).
fn fit(model: &Sequential, opt: &mut dyn Optimizer, steps: usize) -> (f32, f32) {
    let xs: Vec<f32> = (0..32).map(|i| -3.0 + 6.0 * i as f32 / 31.0).collect();
    let ys: Vec<f32> = xs.iter().map(|x| x.abs()).collect();
    let x = Var::constant(Tensor::from_vec(xs, [32, 1]));
    let y = Var::constant(Tensor::from_vec(ys, [32, 1]));
    let (mut first, mut last) = (f32::NAN, f32::NAN);
    for step in 0..steps {
        let loss = mse_loss(&model.forward(&x), &y, Reduction::Mean);
        if step == 0 {
            first = loss.item();
        }
        last = loss.item();
        opt.zero_grad();
        loss.backward();
        opt.step();
    }
    (first, last)
}

#[test]
fn adam_trains_the_formula_parameter() {
    let spec = ActivationSpec::parse(SWISH_B).unwrap();
    let m = model(&spec, 1);
    assert_eq!(param(&m, "1.b"), 1.0);
    let mut opt = Adam::new(m.parameters(), 0.05);
    let (first, last) = fit(&m, &mut opt, 30);
    assert!(last < first, "loss {first} → {last}");
    let b = param(&m, "1.b");
    // Adam's first steps move every parameter by about lr each
    assert!((b - 1.0).abs() > 0.05, "b stayed at {b}");
    assert_eq!(
        m.get(1).unwrap().describe(),
        format!("Formula(x * sigmoid(b * x); b={})", nn::format_float(b))
    );
    // a second layer built from the same spec starts again at 1.0
    assert_eq!(spec.build().parameters()[0].item(), 1.0);
}

#[test]
fn checkpoints_save_and_restore_the_formula_parameter() {
    let spec = ActivationSpec::parse(SWISH_B).unwrap();
    let trained = model(&spec, 1);
    let mut opt = Adam::new(trained.parameters(), 0.05);
    fit(&trained, &mut opt, 10);
    let b = param(&trained, "1.b");
    assert_ne!(b, 1.0);

    // through nn's state dict
    let dict = state_dict(&trained);
    assert!(dict.iter().any(|(n, t)| n == "1.b" && t.dims() == [1]));
    let fresh = model(&spec, 2);
    assert_eq!(param(&fresh, "1.b"), 1.0);
    load_state_dict(&fresh, &dict).unwrap();
    assert_eq!(param(&fresh, "1.b").to_bits(), b.to_bits());

    // through a checkpoint file with the optimizer's state: the resumed run continues exactly
    let dir = std::env::temp_dir().join(format!("minidl-formula-params-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("swish_b.safetensors");
    save_checkpoint(&path, &trained, &opt.state_dict(), &BTreeMap::new()).unwrap();
    let resumed = model(&spec, 3);
    let mut opt_resumed = Adam::new(resumed.parameters(), 0.05);
    let mut ck = load_module(&path, &resumed).unwrap();
    opt_resumed
        .load_state_dict(&ck.take_prefix(OPTIM_PREFIX))
        .unwrap();
    assert_eq!(param(&resumed, "1.b").to_bits(), b.to_bits());
    fit(&trained, &mut opt, 5);
    fit(&resumed, &mut opt_resumed, 5);
    assert_eq!(
        param(&resumed, "1.b").to_bits(),
        param(&trained, "1.b").to_bits()
    );
    let _ = std::fs::remove_dir_all(&dir);

    // a checkpoint of a model without the parameter does not load silently
    let plain = mlp(
        &[1, 8, 1],
        || ActivationSpec::parse("swish").unwrap().build(),
        &mut tensor::rng(0),
    );
    let err = load_state_dict(&plain, &dict).unwrap_err();
    assert!(err.to_string().contains("1.b"), "{err}");
}
