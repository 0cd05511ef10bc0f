//! Scalar rules and their one fused op. An elementwise function is described once, as a
//! [`Pointwise`] rule — its formula `f(x)`, its derivative `f′(x)`, and the derivatives in its
//! learnable parameters — and [`PointwiseOp`] turns any rule into a forward kernel (one pass
//! computing `f`) and a backward kernel (one pass computing `g·f′`, and the parameter sums).
//! This is how every activation of the `nn` crate is built.

use tensor::{shape_panic, Shape, Tensor};

use crate::function::Function;
use crate::var::Var;

/// An elementwise function `y = f(x; p)` with its derivatives, for [`pointwise()`].
///
/// `p` holds the current values of [`params`](Pointwise::params), in order (empty when the rule
/// has none). `df` is always given `x`, never `f(x)`.
///
/// ```
/// use autograd::{gradcheck_pointwise, Pointwise, Var};
/// use tensor::Tensor;
///
/// /// Swish with a learnable β: f(x) = x·σ(βx).
/// #[derive(Clone)]
/// struct Swish { beta: Var }
///
/// fn sigmoid(z: f32) -> f32 { 1.0 / (1.0 + (-z).exp()) }
///
/// impl Pointwise for Swish {
///     fn name(&self) -> &'static str { "swish" }
///     fn f(&self, x: f32, p: &[f32]) -> f32 { x * sigmoid(p[0] * x) }
///     fn df(&self, x: f32, p: &[f32]) -> f32 {
///         let s = sigmoid(p[0] * x);
///         s + p[0] * x * s * (1.0 - s)
///     }
///     fn dparams(&self, x: f32, p: &[f32], dp: &mut [f32]) {
///         let s = sigmoid(p[0] * x);
///         dp[0] = x * x * s * (1.0 - s);
///     }
///     fn params(&self) -> &[Var] { std::slice::from_ref(&self.beta) }
/// }
///
/// let swish = Swish { beta: Var::parameter(Tensor::from_vec(vec![1.0], [1])) };
/// gradcheck_pointwise(&swish, &[-5.0, -1.0, 0.0, 1.0, 5.0], &[]).unwrap();
///
/// let x = Var::parameter(Tensor::from_vec(vec![-1.0, 0.0, 2.0], [3]));
/// x.pointwise(&swish).sum_all().backward();
/// assert!(x.grad().is_some() && swish.beta.grad().is_some()); // β learns too
/// ```
pub trait Pointwise: Clone + 'static {
    /// Name for graph pictures and error messages, e.g. `"mish"`.
    fn name(&self) -> &'static str;

    /// `f(x; p)`.
    fn f(&self, x: f32, p: &[f32]) -> f32;

    /// `∂f/∂x` at `x` (always given `x`, never `f(x)`).
    fn df(&self, x: f32, p: &[f32]) -> f32;

    /// Writes `∂f/∂pₖ` at `x` into `dp[k]`, one entry per parameter. Rules without parameters
    /// keep the default, which writes nothing.
    fn dparams(&self, _x: f32, _p: &[f32], _dp: &mut [f32]) {}

    /// The learnable scalars, each a one-element `Var` (e.g. Swish's β). They become extra
    /// inputs of the fused op, so `backward()` gives them gradients.
    fn params(&self) -> &[Var] {
        &[]
    }

    /// The current values of [`params`](Pointwise::params): the `p` to pass to `f`, `df` and
    /// `dparams` outside the graph (diagnostics evaluating `f′` on recorded inputs).
    fn param_values(&self) -> Vec<f32> {
        self.params().iter().map(Var::item).collect()
    }
}

/// The one fused [`Function`] behind every [`Pointwise`] rule. Inputs: `x`, then the rule's
/// parameters. Forward: `yᵢ = f(xᵢ; p)`. Backward: `∂L/∂xᵢ = gᵢ·f′(xᵢ; p)` and
/// `∂L/∂pₖ = Σᵢ gᵢ·∂f/∂pₖ(xᵢ; p)` (summed in `f64`), each a single pass over the slices.
pub struct PointwiseOp<P: Pointwise> {
    rule: P,
    x: Option<Tensor>,
    p: Vec<f32>,
    param_shapes: Vec<Shape>,
}

impl<P: Pointwise> PointwiseOp<P> {
    /// The op for `rule`, ready for [`Var::apply`] with inputs `[x, params...]`.
    pub fn new(rule: P) -> Self {
        PointwiseOp {
            rule,
            x: None,
            p: Vec::new(),
            param_shapes: Vec::new(),
        }
    }
}

impl<P: Pointwise> Function for PointwiseOp<P> {
    fn name(&self) -> &'static str {
        self.rule.name()
    }

    fn forward(&mut self, inputs: &[&Tensor]) -> Tensor {
        let (x, params) = (inputs[0], &inputs[1..]);
        self.p = params.iter().map(|p| p.data()[0]).collect();
        self.param_shapes = params.iter().map(|p| p.shape().clone()).collect();
        let (rule, p) = (&self.rule, &self.p[..]);
        let y: Vec<f32> = x.data().iter().map(|&v| rule.f(v, p)).collect();
        self.x = Some(x.clone());
        Tensor::from_vec(y, x.shape().clone())
    }

    fn backward(&self, grad: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let x = self.x.as_ref().expect("backward runs after forward");
        let (rule, p, g, xs) = (&self.rule, &self.p[..], grad.data(), x.data());
        let (want_x, want_p) = (needs[0], needs[1..].contains(&true));
        let mut gx: Vec<f32> = Vec::new();
        let mut sums = vec![0.0f64; p.len()];
        if want_p {
            // one pass for both: gx = g·f′(x), and Σ g·∂f/∂pₖ for every parameter
            let mut dp = vec![0.0f32; p.len()];
            gx.reserve(if want_x { xs.len() } else { 0 });
            for (&g, &x) in g.iter().zip(xs) {
                if want_x {
                    gx.push(g * rule.df(x, p));
                }
                dp.fill(0.0);
                rule.dparams(x, p, &mut dp);
                for (s, &d) in sums.iter_mut().zip(&dp) {
                    *s += f64::from(g * d);
                }
            }
        } else if want_x {
            gx = g.iter().zip(xs).map(|(&g, &x)| g * rule.df(x, p)).collect();
        }
        let mut out = vec![want_x.then(|| Tensor::from_vec(gx, x.shape().clone()))];
        for (k, (s, shape)) in sums.iter().zip(&self.param_shapes).enumerate() {
            out.push(needs[k + 1].then(|| Tensor::full(shape.clone(), *s as f32)));
        }
        out
    }
}

/// Applies the rule elementwise: `f(x; p)` for every element of `x`, through [`PointwiseOp`].
///
/// # Panics
/// If a parameter of the rule does not have exactly one element.
#[track_caller]
pub fn pointwise<P: Pointwise>(x: &Var, rule: &P) -> Var {
    let params = rule.params();
    for (k, p) in params.iter().enumerate() {
        if p.shape().numel() != 1 {
            shape_panic(
                rule.name(),
                format_args!(
                    "parameter {k} must have one element, got shape {:?}",
                    p.shape()
                ),
            );
        }
    }
    let inputs: Vec<&Var> = std::iter::once(x).chain(params).collect();
    Var::apply(PointwiseOp::new(rule.clone()), &inputs)
}

impl Var {
    /// `f(x; p)` elementwise for a [`Pointwise`] rule; the same as [`pointwise()`]`(self, rule)`.
    #[track_caller]
    pub fn pointwise<P: Pointwise>(&self, rule: &P) -> Var {
        pointwise(self, rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{gradcheck, test_tensor};

    /// a·x² + b·x, with two learnable scalars `params = [a, b]`.
    #[derive(Clone)]
    struct Quad {
        params: Vec<Var>,
    }

    impl Quad {
        fn new(a: &Var, b: &Var) -> Quad {
            Quad {
                params: vec![a.clone(), b.clone()],
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

    #[test]
    #[should_panic(expected = "quad: parameter 0 must have one element, got shape [2]")]
    fn parameters_must_be_scalars() {
        let a = Var::parameter(Tensor::ones([2]));
        Var::constant(Tensor::ones([2])).pointwise(&Quad::new(&a, &a));
    }
}
