//! Every optimizer drives the Rosenbrock function and a 2-layer net on XOR to a low loss, and a
//! run whose state is saved and restored into fresh objects continues exactly as an
//! uninterrupted one.

use autograd::Var;
use optim::{Adam, AdamW, Optimizer, RmsProp, Sgd, StateError};
use tensor::Tensor;

type MakeOpt = fn(Vec<Var>) -> Box<dyn Optimizer>;

fn scalar(v: f32) -> Var {
    Var::parameter(Tensor::from_vec(vec![v], [1]))
}

/// f(x, y) = (1 − x)² + 100·(y − x²)², minimum 0 at (1, 1).
fn rosenbrock(p: &[Var]) -> Var {
    let (x, y) = (&p[0], &p[1]);
    let a = x.neg().add_scalar(1.0);
    let b = y - &(x * x);
    (&(&a * &a) + &(&b * &b).mul_scalar(100.0)).sum_all()
}

fn minimise(make: MakeOpt, params: &[Var], loss: impl Fn(&[Var]) -> Var, steps: usize) -> f32 {
    let mut opt = make(params.to_vec());
    for _ in 0..steps {
        let l = loss(params);
        opt.zero_grad();
        l.backward();
        opt.step();
    }
    loss(params).item()
}

#[test]
fn every_optimizer_solves_rosenbrock() {
    let cases: [(&str, MakeOpt, usize); 5] = [
        ("SGD", |p| Box::new(Sgd::new(p, 1e-3).momentum(0.9)), 5000),
        (
            "SGD nesterov",
            |p| Box::new(Sgd::new(p, 1e-3).momentum(0.9).nesterov(true)),
            5000,
        ),
        ("Adam", |p| Box::new(Adam::new(p, 0.02)), 3000),
        (
            "AdamW",
            |p| Box::new(AdamW::new(p, 0.02).weight_decay(0.0)),
            3000,
        ),
        (
            "RMSprop",
            |p| Box::new(RmsProp::new(p, 1e-3).momentum(0.9)),
            5000,
        ),
    ];
    for (name, make, steps) in cases {
        let params = [scalar(-1.2), scalar(1.0)];
        let start = rosenbrock(&params).item();
        let end = minimise(make, &params, rosenbrock, steps);
        assert!(end < 1e-3, "{name}: Rosenbrock {start} -> {end}");
    }
}

/// XOR with an 8-unit ReLU hidden layer and a linear output, mean squared error.
fn xor_loss(p: &[Var]) -> Var {
    let x = Var::constant(Tensor::from_vec(
        vec![0., 0., 0., 1., 1., 0., 1., 1.],
        [4, 2],
    ));
    let y = Var::constant(Tensor::from_vec(vec![0., 1., 1., 0.], [4, 1]));
    let h = (&x.matmul(&p[0]) + &p[1]).maximum(&Var::constant(Tensor::zeros([1])));
    let out = &h.matmul(&p[2]) + &p[3];
    let d = &out - &y;
    (&d * &d).mean_all()
}

fn xor_params(seed: u64) -> Vec<Var> {
    let mut rng = tensor::rng(seed);
    vec![
        Var::parameter(Tensor::uniform([2, 8], -1.0, 1.0, &mut rng)),
        Var::parameter(Tensor::uniform([8], 0.0, 0.5, &mut rng)),
        Var::parameter(Tensor::uniform([8, 1], -1.0, 1.0, &mut rng)),
        Var::parameter(Tensor::zeros([1])),
    ]
}

#[test]
fn every_optimizer_learns_xor() {
    let cases: [(&str, MakeOpt); 5] = [
        ("SGD", |p| Box::new(Sgd::new(p, 0.1).momentum(0.9))),
        ("Adam", |p| Box::new(Adam::new(p, 0.02))),
        ("Adam amsgrad", |p| {
            Box::new(Adam::new(p, 0.02).amsgrad(true))
        }),
        ("AdamW", |p| Box::new(AdamW::new(p, 0.02))),
        ("RMSprop", |p| Box::new(RmsProp::new(p, 0.003))),
    ];
    for (name, make) in cases {
        let params = xor_params(3);
        let start = xor_loss(&params).item();
        let end = minimise(make, &params, xor_loss, 1000);
        assert!(end < 1e-3, "{name}: XOR {start} -> {end}");
    }
}

#[test]
fn restored_state_continues_exactly() {
    let cases: [(&str, MakeOpt); 5] = [
        ("SGD", |p| {
            Box::new(Sgd::new(p, 0.1).momentum(0.9).dampening(0.1))
        }),
        ("Adam", |p| Box::new(Adam::new(p, 0.02).amsgrad(true))),
        ("AdamW", |p| Box::new(AdamW::new(p, 0.02))),
        ("RMSprop", |p| {
            Box::new(RmsProp::new(p, 0.01).centered(true).momentum(0.5))
        }),
        ("RMSprop plain", |p| Box::new(RmsProp::new(p, 0.01))),
    ];
    // Halfway, the learning rate is lowered: the restored optimizer is built with the first
    // rate and must take the lowered one from the state, or its steps differ.
    let lowered = |opt: &dyn Optimizer| opt.lr() * 0.5;
    for (name, make) in cases {
        let a = xor_params(4);
        let mut opt_a = make(a.clone());
        train(opt_a.as_mut(), &a, 10);
        opt_a.set_lr(lowered(opt_a.as_ref()));
        train(opt_a.as_mut(), &a, 10);

        let b = xor_params(4);
        let mut opt_b = make(b.clone());
        train(opt_b.as_mut(), &b, 10);
        opt_b.set_lr(lowered(opt_b.as_ref()));
        let state = opt_b.state_dict();
        // fresh parameters holding the same values, fresh optimizer, restored state
        let c: Vec<Var> = b.iter().map(|p| Var::parameter(p.value())).collect();
        let mut opt_c = make(c.clone());
        assert_ne!(opt_c.lr(), opt_b.lr(), "{name}");
        opt_c.load_state_dict(&state).unwrap();
        assert_eq!(
            opt_c.lr(),
            opt_b.lr(),
            "{name}: the lr travels in the state"
        );
        train(opt_c.as_mut(), &c, 10);
        for (pa, pc) in a.iter().zip(&c) {
            assert_eq!(pa.value(), pc.value(), "{name}");
        }
    }
}

/// `steps` steps of `opt` on the XOR loss of `params`.
fn train(opt: &mut dyn Optimizer, params: &[Var], steps: usize) {
    for _ in 0..steps {
        let l = xor_loss(params);
        opt.zero_grad();
        l.backward();
        opt.step();
    }
}

#[test]
fn state_for_other_parameters_is_refused_and_nothing_changes() {
    let params = xor_params(5);
    let mut opt = Adam::new(params.clone(), 0.01);
    let l = xor_loss(&params);
    l.backward();
    opt.step();
    let state = opt.state_dict();
    // the same state into an optimizer over differently shaped parameters
    let other = vec![Var::parameter(Tensor::zeros([3, 3]))];
    let mut wrong = Adam::new(other, 0.01);
    let before = wrong.state_dict();
    let err = wrong.load_state_dict(&state).unwrap_err();
    assert!(matches!(err, StateError::ShapeMismatch { .. }), "{err}");
    assert_eq!(wrong.state_dict().len(), before.len());
    // and into another kind of optimizer
    let mut sgd = Sgd::new(params, 0.1).momentum(0.9);
    assert!(matches!(
        sgd.load_state_dict(&state),
        Err(StateError::Unexpected { .. })
    ));
}

#[test]
fn updates_are_in_place_after_the_first_step() {
    let cases: [(&str, MakeOpt); 4] = [
        ("SGD", |p| Box::new(Sgd::new(p, 0.1).momentum(0.9))),
        ("Adam", |p| Box::new(Adam::new(p, 0.01).amsgrad(true))),
        ("AdamW", |p| Box::new(AdamW::new(p, 0.01))),
        ("RMSprop", |p| {
            Box::new(RmsProp::new(p, 0.01).centered(true).momentum(0.9))
        }),
    ];
    // The address of every parameter-sized buffer: the parameters' values and the state.
    fn addresses(params: &[Var], opt: &dyn Optimizer) -> Vec<usize> {
        let mut out: Vec<usize> = params
            .iter()
            .map(|p| p.value().data().as_ptr() as usize)
            .collect();
        out.extend(
            opt.state_dict()
                .iter()
                .filter(|(_, t)| t.numel() > 1)
                .map(|(_, t)| t.data().as_ptr() as usize),
        );
        out
    }
    for (name, make) in cases {
        let params = xor_params(6);
        let mut opt = make(params.clone());
        let step = |opt: &mut Box<dyn Optimizer>| {
            let l = xor_loss(&params);
            opt.zero_grad();
            l.backward();
            opt.step();
        };
        step(&mut opt);
        let after_first = addresses(&params, opt.as_ref());
        for _ in 0..3 {
            step(&mut opt);
        }
        assert_eq!(addresses(&params, opt.as_ref()), after_first, "{name}");
    }
}
