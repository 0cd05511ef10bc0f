//! The formula parser's and layer's unit tests.

use autograd::{
    gradcheck, gradcheck_params, gradcheck_pointwise, GradcheckOptions, Pointwise, Var,
};
use tensor::Tensor;

use super::*;
use crate::activation::{Mish, Swish};
use crate::Module;

const POINTS: [f32; 13] = [
    -100.0, -20.0, -5.0, -2.0, -1.0, -0.3, 0.0, 0.3, 1.0, 2.0, 5.0, 20.0, 100.0,
];

/// Values and input gradients of `layer` at `xs` (the gradient of Σ y).
fn value_and_grad(layer: &dyn Module, xs: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let x = Var::parameter(Tensor::from_vec(xs.to_vec(), [xs.len()]));
    let y = layer.forward(&x);
    let values = y.value().to_vec();
    y.sum_all().backward();
    (values, x.grad().unwrap().to_vec())
}

/// `f` at one point, through a built layer.
fn at(text: &str, x: f32) -> f32 {
    let layer = Formula::parse(text)
        .unwrap_or_else(|e| panic!("{e}"))
        .build();
    layer
        .forward(&Var::constant(Tensor::from_vec(vec![x], [1])))
        .value()
        .to_vec()[0]
}

fn close(a: f32, b: f32, tol: f32) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn mish_written_as_a_formula_agrees_with_mish() {
    let formula = Formula::parse("x * tanh(softplus(x))").unwrap().build();
    let (fv, fg) = value_and_grad(&formula, &POINTS);
    let (mv, mg) = value_and_grad(&Mish, &POINTS);
    for i in 0..POINTS.len() {
        assert!(
            close(fv[i], mv[i], 1e-6),
            "f({}) {} vs {}",
            POINTS[i],
            fv[i],
            mv[i]
        );
        assert!(
            close(fg[i], mg[i], 1e-5),
            "f′({}) {} vs {}",
            POINTS[i],
            fg[i],
            mg[i]
        );
    }
    // the forward-mode derivative (for diagnostics) agrees too
    let d = formula
        .derivative(&Tensor::from_vec(POINTS.to_vec(), [13]))
        .unwrap();
    for (i, &v) in d.data().iter().enumerate() {
        assert!(
            close(v, mg[i], 1e-5),
            "derivative at {}: {v} vs {}",
            POINTS[i],
            mg[i]
        );
    }
}

#[test]
fn gelu_sigmoid_approximation_agrees_with_swish_of_beta_1_702() {
    let formula = Formula::parse("x * sigmoid(1.702 * x)").unwrap().build();
    let swish = Swish::new(1.702);
    let (fv, fg) = value_and_grad(&formula, &POINTS);
    let (sv, sg) = value_and_grad(&swish, &POINTS);
    for i in 0..POINTS.len() {
        assert!(
            close(fv[i], sv[i], 1e-6) && close(fg[i], sg[i], 1e-5),
            "at {}",
            POINTS[i]
        );
    }
}

#[test]
fn precedence_and_associativity_follow_python() {
    assert_eq!(at("2^3^2 * x", 1.0), 512.0); // 2^(3^2), right-associative
    assert_eq!(at("x ** 3 ** 2", 1.0), 1.0);
    assert_eq!(at("-x^2", 3.0), -9.0); // −(x²)
    assert_eq!(at("(-x)^2", 3.0), 9.0);
    assert_eq!(at("-2^2 + x", 0.0), -4.0);
    assert_eq!(at("2^-1 * x", 1.0), 0.5); // a signed exponent
    assert_eq!(at("1 - 2 - x", 3.0), -4.0); // left-associative
    assert_eq!(at("8 / 4 / x", 2.0), 1.0);
    assert_eq!(at("2 + 3 * x", 2.0), 8.0);
    assert_eq!(at("(2 + 3) * x", 2.0), 10.0);
    assert_eq!(at("x·x − 1", 3.0), 8.0); // Unicode operators
    assert_eq!(at("- - x", 3.0), 3.0);
    assert_eq!(at("+x", 3.0), 3.0);
    assert_eq!(at("2*x^2", 3.0), 18.0);
    assert_eq!(at("x / 2 * 4", 3.0), 6.0);
    assert_eq!(at("1e-3 * x + .5", 1000.0), 1.5);
    assert!(close(
        at("pi * x + e", 1.0),
        std::f32::consts::PI + std::f32::consts::E,
        1e-7
    ));
    assert_eq!(at("2x".replace('2', "2*").as_str(), 4.0), 8.0);
}

#[test]
fn functions_and_constants_fold() {
    assert!(close(at("exp(1) * x", 1.0), std::f32::consts::E, 1e-7));
    assert!(close(at("x * sqrt(4)", 2.0), 4.0, 0.0));
    assert!(close(at("erf(x)", 0.5), 0.520_499_9, 1e-6));
    assert!(close(
        at("sin(x) + cos(x)", 1.0),
        1f32.sin() + 1f32.cos(),
        1e-7
    ));
    assert!(close(at("ln(x) + log(x)", std::f32::consts::E), 2.0, 1e-6));
    assert!(close(at("abs(x) - 1", -3.0), 2.0, 0.0));
    assert!(close(at("2^x", 3.0), 8.0, 1e-6)); // c^x through e^(x·ln c)
    assert!(close(at("x^x", 2.0), 4.0, 1e-6));
    assert!(close(at("1 / x", 4.0), 0.25, 0.0));
    assert!(close(at("relu(2) + x", 1.0), 3.0, 0.0));
}

#[test]
fn registered_activations_take_their_arguments() {
    assert!(close(at("leaky_relu(x, 0.2)", -1.0), -0.2, 1e-7));
    assert!(close(at("leaky_relu(x)", -1.0), -0.01, 1e-7));
    assert!(close(
        at("elu(x, alpha=0.5)", -1.0),
        0.5 * ((-1f32).exp() - 1.0),
        1e-7
    ));
    let tanh_gelu = at("gelu(x, tanh)", 1.0);
    assert!(close(tanh_gelu, 0.841_192, 1e-6), "{tanh_gelu}");
    assert!(close(at("SiLU(x)", 1.0), 1.0 / (1.0 + (-1f32).exp()), 1e-7));
    assert!(close(at("softplus(2 * x) / 2", 0.0), 2f32.ln() / 2.0, 1e-6));
}

#[test]
fn errors_point_at_the_column() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "x * tanh(softplus(x)",
            21,
            "expected \")\" to close the \"(\" at column 9, found the end",
        ),
        (
            "x +",
            4,
            "expected a number, x, a function or \"(\", found the end",
        ),
        ("x + * 2", 5, "found '*'"),
        (
            "2x",
            2,
            "expected an operator (+ - * / ^) or the end, found 'x'",
        ),
        ("x)", 2, "unmatched \")\""),
        (
            "x * tahn(x)",
            5,
            "unknown function \"tahn\" (did you mean \"tanh\"?)",
        ),
        ("y * x", 1, "unknown name \"y\": the variable is x"),
        ("tanh x", 6, "expected \"(\" after the function tanh"),
        ("exp(x, 2)", 6, "exp takes one argument"),
        (
            "leaky_relu(x, abc)",
            15,
            "leaky_relu: negative_slope: expected a number, got \"abc\"",
        ),
        ("threshold(x)", 1, "threshold: missing required argument"),
        ("2 + 3", 1, "the formula does not use x"),
        ("   ", 1, "empty formula"),
        ("x $ 2", 3, "found '$'"),
        ("x * 1e99", 5, "number 1e99 is out of the range of f32"),
        ("x + 1/0", 6, "1 / 0 is inf, not a finite number"),
        ("x + exp(100)", 5, "exp(…) of a constant is inf"),
        ("x + .", 5, "expected digits around \".\""),
        (
            "max(x)",
            6,
            "max takes two arguments, max(a, b): expected \",\", found ')'",
        ),
        (
            "x + min(x, 1, 2)",
            13,
            "min takes two arguments, min(a, b): unexpected third",
        ),
        (
            "max(x, )",
            8,
            "expected a number, x, a function or \"(\", found ')'",
        ),
        ("max x", 5, "expected \"(\" after the function max"),
        ("asinh(x, 2)", 8, "asinh takes one argument"),
        (
            "x * atn(x)",
            5,
            "unknown function \"atn\" (did you mean \"atan\"?)",
        ),
        ("x * maxx(x, 1)", 5, "(did you mean \"max\"?)"),
    ];
    for &(text, column, fragment) in cases {
        let e = Formula::parse(text).expect_err(text);
        assert_eq!(e.column, column, "{text}: {e}");
        assert!(e.message.contains(fragment), "{text}: {e}");
    }
    let e = Formula::parse("x * tanh(softplus(x)").unwrap_err();
    assert_eq!(
        e.to_string(),
        "formula: expected \")\" to close the \"(\" at column 9, found the end (column 21)\n    \
         x * tanh(softplus(x)\n                        ^"
    );
    // the limit is the one the message gives: 64 levels parse, 65 do not
    let nest =
        |open: &str, n: usize, close: &str| format!("{}x{}", open.repeat(n), close.repeat(n));
    // (what opens a level, what closes it, levels it adds)
    for (open, close, levels) in [
        ("(", ")", 1),
        ("relu(", ")", 1),
        ("-(", ")", 2),
        ("sin(-", ")", 2),
        ("2^(", ")", 2),
    ] {
        let fits = 64 / levels;
        let ok = nest(open, fits, close);
        assert!(Formula::parse(&ok).is_ok(), "{open} × {fits}");
        let e = Formula::parse(&nest(open, fits + 1, close)).unwrap_err();
        assert!(e.message.contains("nested more than 64 levels"), "{e}");
    }
    let signs = format!("{}x", "-".repeat(64));
    assert_eq!(Formula::parse(&signs).unwrap().text(), signs);
    assert!(Formula::parse(&format!("-{signs}")).is_err());
    // 32 nested parentheses, the case that was refused with "more than 64 levels"
    assert!(Formula::parse(&nest("(", 32, ")")).is_ok());
    // a 64-level formula is also evaluated and differentiated without trouble
    let layer = Formula::parse(&nest("sin(", 64, ")")).unwrap().build();
    let x = Var::parameter(Tensor::from_vec(vec![0.5, -1.0], [2]));
    layer.forward(&x).backward_with(Tensor::ones([2]));
    assert!(x.grad().unwrap().all_finite());
}

#[test]
fn gradcheck_of_formulas() {
    let layer = Formula::parse("sin(x) * erf(x) + x^3 / (1 + abs(x)) + cos(2*x) - exp(-x^2)")
        .unwrap()
        .build();
    let x = Tensor::from_vec(vec![-2.1, -1.3, -0.4, 0.35, 0.9, 1.7, 2.6, 3.1], [2, 4]);
    gradcheck(
        |v: &[Var]| layer.forward(&v[0]),
        std::slice::from_ref(&x),
        1e-2,
        1e-2,
    )
    .unwrap();
    let d = layer.derivative(&x).unwrap();
    let (_, g) = value_and_grad(&layer, x.data());
    for (a, b) in d.data().iter().zip(&g) {
        assert!(close(*a, *b, 1e-4), "{a} vs {b}");
    }
    // a learnable parameter inside the formula: snake's alpha
    let snaky = Formula::parse("x * sigmoid(x) + snake(x)").unwrap().build();
    let params = snaky.parameters();
    assert_eq!(snaky.named_parameters()[0].0, "snake.alpha");
    let opts = GradcheckOptions::default();
    gradcheck_params(|v: &[Var]| snaky.forward(&v[0]), &[x], &params, &opts).unwrap();
}

#[test]
fn sin_cos_erf_rules_pass_gradcheck() {
    let xs = [-4.0, -1.5, -0.2, 0.0, 0.2, 1.5, 4.0];
    gradcheck_pointwise(&Sin, &xs, &[]).unwrap();
    gradcheck_pointwise(&Cos, &xs, &[]).unwrap();
    gradcheck_pointwise(&Erf, &xs, &[]).unwrap();
    assert_eq!(Erf.f(0.0, &[]), 0.0);
    assert!(close(
        Erf.df(0.0, &[]),
        std::f32::consts::FRAC_2_SQRT_PI,
        1e-7
    ));
}

#[test]
fn asinh_atan_rules_pass_gradcheck_and_match_f64() {
    let xs = [
        -1e6, -5000.0, -100.0, -20.0, -4.0, -1.5, -0.2, 0.0, 0.2, 1.5, 4.0, 20.0, 100.0, 5000.0,
        1e6,
    ];
    gradcheck_pointwise(&Asinh, &xs, &[]).unwrap();
    gradcheck_pointwise(&Atan, &xs, &[]).unwrap();
    for &x in &xs {
        let x64 = f64::from(x);
        assert!(
            close(Asinh.f(x, &[]), x64.asinh() as f32, 1e-6),
            "asinh({x})"
        );
        assert!(close(Atan.f(x, &[]), x64.atan() as f32, 1e-6), "atan({x})");
        let (da, dt) = (1.0 / (1.0 + x64 * x64).sqrt(), 1.0 / (1.0 + x64 * x64));
        assert!(close(Asinh.df(x, &[]), da as f32, 1e-6), "asinh′({x})");
        assert!(close(Atan.df(x, &[]), dt as f32, 1e-6), "atan′({x})");
    }
    // at 0 both are the identity to first order; far out they stay finite
    assert_eq!((Asinh.f(0.0, &[]), Asinh.df(0.0, &[])), (0.0, 1.0));
    assert_eq!((Atan.f(0.0, &[]), Atan.df(0.0, &[])), (0.0, 1.0));
    assert!(close(Asinh.f(f32::MAX, &[]), 89.415_985, 1e-6)); // ln(2·f32::MAX)
    assert!(close(Asinh.f(-f32::MAX, &[]), -89.415_985, 1e-6));
    assert_eq!(Asinh.df(f32::MAX, &[]), 1.0 / f32::MAX);
    assert_eq!(Atan.df(f32::MAX, &[]), 0.0);
    // through a formula: the layer, the forward-mode derivative and the f64 reference
    let f = Formula::parse("asinh(x) + atan(2 * x)").unwrap();
    let layer = f.build();
    let pts: Vec<f32> = POINTS.to_vec();
    let (v, g) = value_and_grad(&layer, &pts);
    let d = layer
        .derivative(&Tensor::from_vec(pts.clone(), [13]))
        .unwrap();
    for (i, &x) in pts.iter().enumerate() {
        let x64 = f64::from(x);
        let want = f.reference(x64).unwrap();
        assert!((want - (x64.asinh() + (2.0 * x64).atan())).abs() < 1e-15);
        assert!(close(v[i], want as f32, 1e-6), "f({x}) {} vs {want}", v[i]);
        let dwant = 1.0 / (1.0 + x64 * x64).sqrt() + 2.0 / (1.0 + 4.0 * x64 * x64);
        assert!(
            close(g[i], dwant as f32, 1e-6),
            "f′({x}) {} vs {dwant}",
            g[i]
        );
        assert!(close(d.data()[i], g[i], 1e-6));
    }
    // constants fold
    assert!(close(at("asinh(1) * x", 1.0), 1f32.asinh(), 1e-7));
    assert!(close(
        at("atan(1) * 4 + 0 * x", 1.0),
        std::f32::consts::PI,
        1e-7
    ));
}

#[test]
fn max_and_min_of_two_expressions() {
    assert_eq!(at("max(x, 0)", -2.0), 0.0);
    assert_eq!(at("max(x, 0)", 3.0), 3.0);
    assert_eq!(at("min(x, x^2)", 0.5), 0.25);
    assert_eq!(at("min(1, x) + max(2, 3)", 5.0), 4.0); // max(2, 3) folds
    assert_eq!(at("MAX(-x, 2 * x)", -1.0), 1.0);
    // the gradient goes to the winner; at a tie each side gets half, as torch.maximum
    // (torch.maximum(x, 2*x).backward at x = 0 gives 0.5·1 + 0.5·2 = 1.5)
    let (_, g) = value_and_grad(
        &Formula::parse("max(x, 2 * x)").unwrap().build(),
        &[-1.0, 0.0, 1.0],
    );
    assert_eq!(g, [1.0, 1.5, 2.0]);
    let (_, g) = value_and_grad(
        &Formula::parse("min(x, 2 * x)").unwrap().build(),
        &[-1.0, 0.0, 1.0],
    );
    assert_eq!(g, [2.0, 1.5, 1.0]);
    // a constant side: max(x, 0) is relu away from 0 and splits at 0 (relu gives 0 there)
    let layer = Formula::parse("max(x, 0)").unwrap().build();
    let (_, g) = value_and_grad(&layer, &[-1.0, 0.0, 1.0]);
    assert_eq!(g, [0.0, 0.5, 1.0]);
    let d = layer
        .derivative(&Tensor::from_vec(vec![-1.0, 0.0, 1.0], [3]))
        .unwrap();
    assert_eq!(d.to_vec(), [0.0, 0.5, 1.0]);
    // gradcheck away from ties, and the forward-mode derivative agrees with autograd
    let layer = Formula::parse("max(sin(x), x / 3) - min(atan(x), 0.5 * x) + max(1, x)")
        .unwrap()
        .build();
    let x = Tensor::from_vec(vec![-2.1, -1.3, -0.4, 0.35, 0.9, 1.7, 2.6, 3.1], [2, 4]);
    gradcheck(
        |v: &[Var]| layer.forward(&v[0]),
        std::slice::from_ref(&x),
        1e-2,
        1e-2,
    )
    .unwrap();
    let d = layer.derivative(&x).unwrap();
    let (_, g) = value_and_grad(&layer, x.data());
    for (a, b) in d.data().iter().zip(&g) {
        assert!(close(*a, *b, 1e-5), "{a} vs {b}");
    }
    // the f64 reference
    let f = Formula::parse("max(x, 0) + min(x, -1)").unwrap();
    assert_eq!(f.reference(2.0), Some(1.0));
    assert_eq!(f.reference(-3.0), Some(-3.0));
}

#[test]
fn layers_are_fresh_and_named() {
    let f = Formula::parse("snake(x) + snake(2 * x)").unwrap();
    let (a, b) = (f.build(), f.build());
    let names: Vec<String> = a.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["snake_0.alpha", "snake_1.alpha"]);
    assert!(!a.parameters()[0].ptr_eq(&b.parameters()[0]));
    assert_eq!(a.describe(), "Formula(snake(x) + snake(2 * x))");
    assert!(a.is_activation());
    // train/eval reaches the activations called: RReLU's slope is fixed in eval
    let r = Formula::parse("rrelu(x)").unwrap().build();
    Module::eval(&r);
    assert!(!r.is_training());
    let y = r.forward(&Var::constant(Tensor::from_vec(vec![-1.0], [1])));
    let mid = (1.0 / 8.0 + 1.0 / 3.0) / 2.0;
    assert!(close(y.value().to_vec()[0], -mid, 1e-7));
    // softmax has no elementwise derivative, so neither has the formula
    let s = Formula::parse("x * softmax(x)").unwrap().build();
    assert!(s.derivative(&Tensor::ones([2, 3])).is_none());
}
