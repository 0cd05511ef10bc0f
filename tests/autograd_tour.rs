//! The autograd tour (`examples/autograd_tour.rs`), run as a test: every check in it passes and
//! `--dot` writes a Graphviz file (a gradient on every Var, and a legend), or fails with exit status 2 on a bad path. And the tour's
//! expression `L = tanh(a·b + c) · f`, rebuilt here, against its hand-derived gradients at
//! several points.

// The example is compiled into this test as a module, so the test calls its functions
// directly instead of spawning `cargo run`.
#[allow(dead_code)]
#[path = "../examples/autograd_tour.rs"]
mod tour;

use std::path::PathBuf;

use minidl::autograd::{gradcheck, Var};
use minidl::nn::ActivationExt;
use minidl::tensor::Tensor;

fn temp_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("minidl-tour-{tag}-{}", std::process::id()))
}

#[test]
fn the_tour_passes_every_check_and_writes_the_graph() {
    let path = temp_path("graph.dot");
    let args = tour::Args {
        dot: Some(path.clone()),
    };
    let mut out = Vec::new();
    let result = tour::run(&args, &mut out);
    let text = String::from_utf8(out).unwrap();
    assert!(result.is_ok(), "{}\n{text}", result.unwrap_err());
    assert!(!text.contains('✗'), "{text}");
    assert!(text.contains("All 26 checks passed ✓"), "{text}");
    // the first expression's gradients, as printed
    for row in [
        "dL/da    dL/dd · dd/de · de/dab · dab/da   f · (1 − tanh²(e)) · b      3.0000      3.0000  ✓",
        "dL/db    dL/dd · dd/de · de/dab · dab/db   f · (1 − tanh²(e)) · a     -2.0000     -2.0000  ✓",
        "dL/df    ∂L/∂f                             d = tanh(e)                 0.7071      0.7071  ✓",
    ] {
        assert!(text.contains(row), "missing {row:?} in\n{text}");
    }
    assert!(text.contains("L → f → d → e → c → ab → b → a"), "{text}");
    assert!(
        text.contains(&format!("dot -Tsvg {}", path.display())),
        "{text}"
    );

    let dot = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(dot.starts_with("digraph"), "{dot}");
    for part in ["label=\"tanh\"", "label=\"mul\"", "label=\"add\""] {
        assert!(dot.contains(part), "missing {part} in\n{dot}");
    }
    // drawn after a retained backward: the leaves show their gradients, and so do the
    // intermediate results, which the tour asked to keep theirs (ab: dL/dab = f·(1 − tanh²) = −1)
    for part in [
        "a\\n[1]\\nvalue [2.0000]\\ngrad [3.0000]",
        "ab\\n[1]\\nvalue [-6.0000]\\ngrad [-1.0000]",
        "L\\n[1]\\nvalue [-1.4142]\\ngrad [1.0000]",
    ] {
        assert!(dot.contains(part), "missing {part} in\n{dot}");
    }
    assert_eq!(
        dot.matches("\\ngrad [").count(),
        8,
        "a gradient on every Var:\n{dot}"
    );
    // and a legend, which is not counted as a Var
    assert!(dot.contains("subgraph cluster_legend"), "{dot}");
    assert!(dot.contains("<td>grad [..]</td>"), "{dot}");
    assert!(text.contains("Wrote this graph (8 Vars, 4 ops"), "{text}");
}

#[test]
fn a_dot_path_that_cannot_be_written_is_exit_status_2_with_the_path_in_the_message() {
    let dir = temp_path("a-folder");
    std::fs::create_dir_all(&dir).unwrap();
    let args = tour::Args {
        dot: Some(dir.clone()),
    };
    let err = tour::run(&args, &mut Vec::new()).unwrap_err();
    std::fs::remove_dir(&dir).unwrap();
    assert_eq!(err.exit_code(), 2);
    let message = err.to_string();
    assert!(message.starts_with("--dot: cannot write"), "{message}");
    assert!(message.contains(&dir.display().to_string()), "{message}");
}

#[test]
fn check_failures_are_exit_status_1_and_listed() {
    let mut checks = tour::Checks::default();
    assert_eq!(checks.agree("x", 3.0, 3.000_001, 1e-5), "✓");
    assert_eq!(checks.agree("y", 3.0, 3.1, 1e-5), "✗");
    assert_eq!(checks.agree("z", 1.0, f32::NAN, 1e-5), "✗");
    assert_eq!(checks.passed, 1);
    let err = tour::TourError::Failed(checks.failed);
    assert_eq!(err.exit_code(), 1);
    let message = err.to_string();
    assert!(message.starts_with("2 check(s) failed:"), "{message}");
    assert!(
        message.contains("y: expected 3, backward() gave 3.1"),
        "{message}"
    );
}

/// `L = tanh(a·b + c) · f` and its gradients by the chain rule:
/// with `t = tanh(a·b + c)`, `s = 1 − t²`: `∂L/∂a = f·s·b`, `∂L/∂b = f·s·a`, `∂L/∂c = f·s`,
/// `∂L/∂f = t`.
#[test]
fn the_expression_matches_its_hand_derived_gradients() {
    for [a0, b0, c0, f0] in [
        [2.0f32, -3.0, 6.881_374, -2.0],
        [0.5, 0.25, -0.1, 3.0],
        [-1.2, 0.7, 0.3, 0.5],
        [1.0, 1.0, 2.0, -1.0], // e = 3: tanh is flat, the gradients small
    ] {
        let p = |v: f32| Var::parameter(Tensor::from_vec(vec![v], [1]));
        let (a, b, c, f) = (p(a0), p(b0), p(c0), p(f0));
        let l = &(&(&a * &b) + &c).tanh() * &f;
        l.backward();
        let t = (a0 * b0 + c0).tanh();
        let s = 1.0 - t * t;
        let expected = [
            ("L", t * f0, l.item()),
            ("dL/da", f0 * s * b0, a.grad().unwrap().item()),
            ("dL/db", f0 * s * a0, b.grad().unwrap().item()),
            ("dL/dc", f0 * s, c.grad().unwrap().item()),
            ("dL/df", t, f.grad().unwrap().item()),
        ];
        for (what, want, got) in expected {
            assert!(
                (want - got).abs() <= 1e-5 * want.abs().max(1.0),
                "{what} at a={a0}, b={b0}, c={c0}, f={f0}: hand {want}, backward() {got}"
            );
        }
    }
}

#[test]
fn the_user_defined_cube_op_gives_3x_squared_and_passes_gradcheck() {
    let x = Var::parameter(Tensor::from_vec(vec![-2.0, -0.5, 0.0, 1.5], [4]));
    let y = Var::apply(tour::Cube::default(), &[&x]);
    assert_eq!(y.value().to_vec(), vec![-8.0, -0.125, 0.0, 3.375]);
    assert_eq!(y.op_name(), Some("cube"));
    y.sum_all().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![12.0, 0.75, 0.0, 6.75]);

    let cube = |v: &[Var]| Var::apply(tour::Cube::default(), &[&v[0]]);
    let input = Tensor::from_vec(vec![0.3, -1.2, 2.5, -0.8, 1.7, 0.05], [2, 3]);
    gradcheck(cube, &[input], 1e-2, 1e-2).unwrap();

    let (code, comments) = tour::cube_lines();
    assert!((10..=25).contains(&code), "{code} lines of code");
    assert!(comments >= 1);
}

#[test]
fn the_network_backward_matches_finite_differences() {
    let net = tour::Net::new(1);
    let x = Var::constant(Tensor::from_vec(
        vec![
            0.1, -0.4, 0.9, 1.1, 0.2, -0.3, 0.0, 0.5, -1.0, 0.7, 0.6, -0.2,
        ],
        [4, 3],
    ));
    let y = Var::constant(Tensor::from_vec(
        vec![0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0],
        [4, 2],
    ));
    let params: Vec<Var> = net.params().into_iter().cloned().collect();
    let options = minidl::autograd::GradcheckOptions::default();
    minidl::autograd::gradcheck_params(|_: &[Var]| net.loss(&x, &y), &[], &params, &options)
        .unwrap();
    let shapes: Vec<Vec<usize>> = params.iter().map(Var::dims).collect();
    assert_eq!(shapes, vec![vec![3, 5], vec![5], vec![5, 2], vec![2]]);
}
