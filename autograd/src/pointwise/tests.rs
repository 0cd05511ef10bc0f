//! Tests of `pointwise.rs`: the fused op against gradcheck and composed ops, parameters, threads
//! and pieces, and every instruction set giving the same bits.

use super::*;
use crate::gradcheck::{gradcheck, test_tensor};

/// a·x² + b·x, with two learnable scalars `params = [a, b]`.
#[derive(Clone)]
struct Quad {
    params: RuleParams<2>,
}

impl Quad {
    fn new(a: &Var, b: &Var) -> Quad {
        Quad {
            params: RuleParams::new([a.clone(), b.clone()]),
        }
    }
}

impl Pointwise for Quad {
    fn name(&self) -> &'static str {
        "quad"
    }
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        p[0] * x * x + p[1] * x
    }
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        2.0 * p[0] * x + p[1]
    }
    fn dparams(&self, x: f32, _: &[f32], dp: &mut [f32]) {
        dp[0] = x * x;
        dp[1] = x;
    }
    fn params(&self) -> &[Var] {
        &self.params
    }
}

#[derive(Clone)]
struct Square;

impl Pointwise for Square {
    fn name(&self) -> &'static str {
        "square"
    }
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        x * x
    }
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        2.0 * x
    }
}

#[test]
fn forward_and_backward_values() {
    let a = Var::parameter(Tensor::from_vec(vec![2.0], [1]));
    let b = Var::parameter(Tensor::scalar(-1.0));
    let quad = Quad::new(&a, &b);
    let x = Var::parameter(Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]));
    let y = x.pointwise(&quad);
    assert_eq!(y.value().to_vec(), vec![1.0, 6.0, 15.0]);
    assert_eq!(y.op_name(), Some("quad"));
    y.sum_all().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![3.0, 7.0, 11.0]);
    assert_eq!(a.grad().unwrap().to_vec(), vec![14.0]); // Σ x²
    assert_eq!(b.grad().unwrap().dims(), &[] as &[usize]);
    assert_eq!(b.grad().unwrap().item(), 6.0); // Σ x
    assert_eq!(quad.param_values(), vec![2.0, -1.0]);
}

#[test]
fn gradcheck_in_x_and_in_the_parameters() {
    // the parameters are gradcheck inputs 1 and 2, so their gradients are checked too
    let f = |v: &[Var]| v[0].pointwise(&Quad::new(&v[1], &v[2]));
    let inputs = [
        test_tensor(&[3, 4], 1),
        test_tensor(&[1], 2),
        test_tensor(&[], 3),
    ];
    gradcheck(f, &inputs, 1e-2, 1e-2).unwrap();
    gradcheck(
        |v: &[Var]| pointwise(&v[0], &Square),
        &[test_tensor(&[2, 3], 4)],
        1e-2,
        1e-2,
    )
    .unwrap();
}

#[test]
fn only_the_needed_gradients_are_computed() {
    let a = Var::constant(Tensor::from_vec(vec![1.0], [1]));
    let b = Var::parameter(Tensor::from_vec(vec![0.0], [1]));
    let x = Var::constant(Tensor::from_vec(vec![1.0, 2.0], [2]));
    x.pointwise(&Quad::new(&a, &b)).sum_all().backward();
    assert!(a.grad().is_none());
    assert_eq!(b.grad().unwrap().item(), 3.0);
    // on constants only, nothing is recorded
    assert!(!x.pointwise(&Square).requires_grad());
}

#[test]
fn empty_and_one_element_inputs() {
    let e = Var::parameter(Tensor::zeros([0, 3]));
    let y = e.pointwise(&Square);
    assert_eq!(y.dims(), vec![0, 3]);
    y.sum_all().backward();
    assert_eq!(e.grad().unwrap().dims(), &[0, 3]);
    let one = Var::parameter(Tensor::scalar(3.0));
    one.pointwise(&Square).backward();
    assert_eq!(one.grad().unwrap().item(), 6.0);
}

/// A rule with the kinds of operations the activations use: division, a select, bit
/// manipulation, `min`/`max`, `copysign`.
#[derive(Clone)]
struct Busy;

impl Pointwise for Busy {
    fn name(&self) -> &'static str {
        "busy"
    }
    #[inline(always)]
    fn f(&self, x: f32, _: &[f32]) -> f32 {
        let e = f32::from_bits((x.abs().min(30.0).to_bits() >> 1) + 0x1fc0_0000);
        let r = 1.0 / (1.0 + e);
        (if x > 0.5 { r * x } else { r - x }).copysign(x).max(-3.0)
    }
    #[inline(always)]
    fn df(&self, x: f32, _: &[f32]) -> f32 {
        (x * x + 1.0).sqrt() / (2.0 + x.abs())
    }
}

#[test]
fn every_instruction_set_gives_the_same_bits() {
    let xs: Vec<f32> = (0..1003).map(|i| (i as f32 * 0.618).sin() * 40.0).collect();
    let g: Vec<f32> = xs.iter().map(|x| 1.0 - x / 50.0).collect();
    let run = |isa: Isa| {
        assert_eq!(set_pointwise_isa(Some(isa)), isa.min(Isa::detected()));
        let y = kernel::forward(&Busy, &[], &xs);
        let gx = kernel::backward(&Busy, &[], &g, &xs);
        let (y_d, d) = kernel::forward_with_derivative(&Busy, &[], &xs);
        (y, gx, y_d, kernel::times(&g, &d))
    };
    let same = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits());
    let (y0, g0, y0_d, g0_d) = run(Isa::Baseline);
    assert!(
        same(&y0, &y0_d) && same(&g0, &g0_d),
        "f′ kept differs from f′ recomputed"
    );
    for isa in [Isa::Avx2, Isa::Avx512] {
        let (y, gx, y_d, g_d) = run(isa);
        assert!(
            same(&y0, &y) && same(&g0, &gx) && same(&y0, &y_d) && same(&g0, &g_d),
            "{isa:?} differs from the baseline"
        );
    }
    set_pointwise_isa(None);
    assert_eq!(pointwise_isa(), Isa::detected());
    for (i, &x) in xs.iter().enumerate() {
        assert_eq!(y0[i].to_bits(), Busy.f(x, &[]).to_bits());
        assert_eq!(g0[i].to_bits(), (g[i] * Busy.df(x, &[])).to_bits());
    }
}

/// a·x³, one learnable scalar.
#[derive(Clone)]
struct Cubic(RuleParams<1>);

impl Pointwise for Cubic {
    fn name(&self) -> &'static str {
        "cubic"
    }
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        p[0] * x * x * x
    }
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        3.0 * p[0] * x * x
    }
    fn dparams(&self, x: f32, _: &[f32], dp: &mut [f32]) {
        dp[0] = x * x * x;
    }
    fn params(&self) -> &[Var] {
        &self.0
    }
}

#[test]
fn one_parameter_gradients_match_a_plain_loop() {
    for n in [0, 1, 7, 8, 255, 256, 257, 1000] {
        let xs: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let gs: Vec<f32> = (0..n).map(|i| 1.0 - (i % 5) as f32 * 0.3).collect();
        let want: f64 = xs
            .iter()
            .zip(&gs)
            .map(|(&x, &g)| f64::from(g * x * x * x))
            .sum();
        for want_x in [true, false] {
            let a = Var::parameter(Tensor::from_vec(vec![1.5], [1]));
            let x = if want_x {
                Var::parameter(Tensor::from_vec(xs.clone(), [n]))
            } else {
                Var::constant(Tensor::from_vec(xs.clone(), [n]))
            };
            x.pointwise(&Cubic([a.clone()].into()))
                .backward_with(Tensor::from_vec(gs.clone(), [n]));
            let got = a.grad().unwrap().item();
            assert!(
                (f64::from(got) - want).abs() <= 1e-6 * (1.0 + want.abs()),
                "n {n}: {got} vs {want}"
            );
            if want_x {
                let gx = x.grad().unwrap().to_vec();
                for i in 0..n {
                    assert_eq!(gx[i], gs[i] * (3.0 * 1.5 * xs[i] * xs[i]), "n {n}, i {i}");
                }
            }
        }
    }
}

/// `y` and every gradient of `Busy`/`Cubic` on `n` elements, with `threads` threads,
/// through `pointwise()` (which keeps `f′` when the parameter is fixed).
fn run_on_threads(n: usize, threads: usize, learnable: bool) -> Vec<Vec<u32>> {
    tensor::set_num_threads(threads);
    let xs: Vec<f32> = (0..n).map(|i| (i as f32 * 0.618).sin() * 6.0).collect();
    let gs: Vec<f32> = (0..n).map(|i| 1.0 - (i % 7) as f32 * 0.25).collect();
    let a = if learnable {
        Var::parameter(Tensor::from_vec(vec![1.5], [1]))
    } else {
        Var::constant(Tensor::from_vec(vec![1.5], [1]))
    };
    let x = Var::parameter(Tensor::from_vec(xs.clone(), [n]));
    let y = x.pointwise(&Cubic([a.clone()].into()));
    let z = x.pointwise(&Busy);
    (&y + &z).backward_with(Tensor::from_vec(gs, [n]));
    let bits = |t: Tensor| t.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    let mut out = vec![bits(y.value()), bits(z.value()), bits(x.grad().unwrap())];
    if learnable {
        out.push(bits(a.grad().unwrap()));
    }
    out
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // 3 pieces and a bit; learnable: x is kept and the sums of the pieces are added in
    // order; fixed: f′ is kept by the forward pass
    let n = 3 * PIECE + 100;
    for learnable in [false, true] {
        let one = run_on_threads(n, 1, learnable);
        for threads in [2, 3] {
            assert!(
                run_on_threads(n, threads, learnable) == one,
                "{threads} threads differ from one (learnable {learnable})"
            );
        }
    }
    tensor::set_num_threads(2);
}

#[test]
fn keeping_the_derivative_gives_the_same_gradient_as_keeping_x() {
    let xs: Vec<f32> = (0..PIECE + 3)
        .map(|i| (i as f32 * 0.37).cos() * 8.0)
        .collect();
    let n = xs.len();
    let g = Tensor::from_vec(xs.iter().map(|x| 0.5 - x / 20.0).collect(), [n]);
    let grad_with = |op: PointwiseOp<Busy>| {
        let x = Var::parameter(Tensor::from_vec(xs.clone(), [n]));
        let y = Var::apply(op, &[&x]);
        y.backward_with(g.clone());
        (y.value().to_vec(), x.grad().unwrap().to_vec())
    };
    let (y_kept, g_kept) = grad_with(PointwiseOp::keeping_derivative(Busy));
    let (y_x, g_x) = grad_with(PointwiseOp::new(Busy));
    let same = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits());
    assert!(same(&y_kept, &y_x) && same(&g_kept, &g_x));
}

#[test]
#[should_panic(expected = "made with keeping_derivative, but a parameter needs a gradient")]
fn keeping_the_derivative_refuses_parameter_gradients() {
    let a = Var::parameter(Tensor::from_vec(vec![2.0], [1]));
    let x = Var::parameter(Tensor::ones([3]));
    let y = Var::apply(
        PointwiseOp::keeping_derivative(Cubic([a.clone()].into())),
        &[&x, &a],
    );
    y.sum_all().backward();
}

#[test]
#[should_panic(expected = "quad: parameter 0 must have one element, got shape [2]")]
fn parameters_must_be_scalars() {
    let a = Var::parameter(Tensor::ones([2]));
    Var::constant(Tensor::ones([2])).pointwise(&Quad::new(&a, &a));
}
