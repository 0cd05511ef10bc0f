//! The first five steps of every optimizer, and every schedule, against values PyTorch
//! computed (`tests/fixtures/make_optim_fixtures.py` wrote the JSON files).

use autograd::Var;
use optim::{
    Adam, AdamW, Anneal, CosineAnnealingLr, LinearWarmup, LrSchedule, OneCycleLr, Optimizer,
    RmsProp, Sgd, StepLr,
};
use serde_json::Value;
use tensor::Tensor;

const STEPS: &str = include_str!("fixtures/optim_first_steps.json");
const SCHEDULES: &str = include_str!("fixtures/schedules.json");

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn opt_f32(options: &Value, key: &str) -> Option<f32> {
    options.get(key).map(|v| v.as_f64().expect("number") as f32)
}

fn build(name: &str, options: &Value, params: Vec<Var>) -> Box<dyn Optimizer> {
    let lr = opt_f32(options, "lr").expect("lr");
    let flag = |k: &str| options.get(k).and_then(Value::as_bool).unwrap_or(false);
    match name {
        "sgd" => {
            let mut o = Sgd::new(params, lr).nesterov(flag("nesterov"));
            if let Some(m) = opt_f32(options, "momentum") {
                o = o.momentum(m);
            }
            if let Some(d) = opt_f32(options, "dampening") {
                o = o.dampening(d);
            }
            if let Some(w) = opt_f32(options, "weight_decay") {
                o = o.weight_decay(w);
            }
            Box::new(o)
        }
        "adam" | "adamw" => {
            let betas = options.get("betas").map(floats);
            let eps = opt_f32(options, "eps");
            let wd = opt_f32(options, "weight_decay");
            if name == "adam" {
                let mut o = Adam::new(params, lr).amsgrad(flag("amsgrad"));
                if let Some(b) = betas {
                    o = o.betas(b[0], b[1]);
                }
                if let Some(e) = eps {
                    o = o.eps(e);
                }
                if let Some(w) = wd {
                    o = o.weight_decay(w);
                }
                Box::new(o)
            } else {
                let mut o = AdamW::new(params, lr).amsgrad(flag("amsgrad"));
                if let Some(b) = betas {
                    o = o.betas(b[0], b[1]);
                }
                if let Some(e) = eps {
                    o = o.eps(e);
                }
                if let Some(w) = wd {
                    o = o.weight_decay(w);
                }
                Box::new(o)
            }
        }
        "rmsprop" => {
            let mut o = RmsProp::new(params, lr).centered(flag("centered"));
            if let Some(a) = opt_f32(options, "alpha") {
                o = o.alpha(a);
            }
            if let Some(m) = opt_f32(options, "momentum") {
                o = o.momentum(m);
            }
            if let Some(w) = opt_f32(options, "weight_decay") {
                o = o.weight_decay(w);
            }
            Box::new(o)
        }
        other => panic!("unknown optimizer {other} in the fixture"),
    }
}

/// |a − b| ≤ 1e-6·|b| for every element (relative, as the fixtures promise).
fn assert_rel_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (&a, &b)) in got.iter().zip(want).enumerate() {
        let err = (a - b).abs() as f64;
        assert!(
            err <= 1e-6 * (b.abs() as f64),
            "{what}, element {i}: got {a:e}, PyTorch {b:e}, relative error {:e}",
            err / b.abs() as f64
        );
    }
}

#[test]
fn first_five_steps_match_pytorch() {
    let fixture: Value = serde_json::from_str(STEPS).expect("valid JSON");
    let problem = &fixture["problem"];
    let shapes: Vec<Vec<usize>> = problem["shapes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| floats(s).iter().map(|&d| d as usize).collect())
        .collect();
    let c: Vec<Vec<f32>> = problem["c"]
        .as_array()
        .unwrap()
        .iter()
        .map(floats)
        .collect();
    let d: Vec<Vec<f32>> = problem["d"]
        .as_array()
        .unwrap()
        .iter()
        .map(floats)
        .collect();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 9);
    for case in cases {
        let name = case["optimizer"].as_str().unwrap();
        let what = format!("{name} {}", case["options"]);
        let params: Vec<Var> = problem["w0"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&shapes)
            .map(|(w, s)| Var::parameter(Tensor::from_vec(floats(w), s.as_slice())))
            .collect();
        let mut opt = build(name, &case["options"], params.clone());
        for (k, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            for (i, p) in params.iter().enumerate() {
                // g = 2·c·w + d, in PyTorch's order of operations
                let w = p.value();
                let g: Vec<f32> = (0..w.numel())
                    .map(|j| 2.0 * c[i][j] * w.data()[j] + d[i][j])
                    .collect();
                p.set_grad(Some(Tensor::from_vec(g, w.shape())));
            }
            opt.step();
            for (i, p) in params.iter().enumerate() {
                let want = floats(&step[i]);
                assert_rel_close(
                    p.value().data(),
                    &want,
                    &format!("{what}, step {}, param {i}", k + 1),
                );
            }
        }
    }
}

fn check_schedule(s: &dyn LrSchedule, v: &Value, what: &str) {
    let want = floats(&v["lrs"]);
    let got: Vec<f32> = (0..want.len()).map(|t| s.lr_at(t)).collect();
    for (t, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1e-3),
            "{what} at step {t}: got {a}, PyTorch {b}"
        );
    }
}

#[test]
fn schedules_match_pytorch() {
    let f: Value = serde_json::from_str(SCHEDULES).expect("valid JSON");
    check_schedule(&StepLr::new(0.1, 3, 0.5), &f["step_lr"], "StepLR");
    check_schedule(
        &CosineAnnealingLr::new(0.1, 10, 0.01),
        &f["cosine"],
        "CosineAnnealingLR",
    );
    check_schedule(
        &LinearWarmup::new(0.1, 4).start_factor(0.25),
        &f["linear_warmup"],
        "LinearLR",
    );
    check_schedule(&OneCycleLr::new(0.5, 20), &f["one_cycle"], "OneCycleLR");
    let three = OneCycleLr {
        three_phase: true,
        anneal: Anneal::Linear,
        ..OneCycleLr::new(0.5, 20)
    };
    check_schedule(
        &three,
        &f["one_cycle_three_phase_linear"],
        "OneCycleLR three-phase",
    );
}
