//! Scalar rules and their one fused op. An elementwise function is described once, as a
//! [`Pointwise`] rule — its formula `f(x)`, its derivative `f′(x)`, and the derivatives in its
//! learnable parameters — and [`PointwiseOp`] turns any rule into a forward kernel (one pass
//! computing `f`) and a backward kernel (one pass computing `g·f′`, and the parameter sums).
//! This is how every activation of the `nn` crate is built.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU8, Ordering};

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
        let y = kernel::forward(&self.rule, &self.p, x.data());
        self.x = Some(x.clone());
        Tensor::from_vec(y, x.shape().clone())
    }

    fn backward(&self, grad: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let x = self.x.as_ref().expect("backward runs after forward");
        let (rule, p, g, xs) = (&self.rule, &self.p[..], grad.data(), x.data());
        let (want_x, want_p) = (needs[0], needs[1..].contains(&true));
        let mut gx: Vec<f32> = Vec::new();
        let mut sums = vec![0.0f64; p.len()];
        if want_p && p.len() == 1 {
            // the common case (one learnable scalar): a vectorised pass, see `kernel::backward_p1`
            let (g_x, sum) = kernel::backward_p1(rule, p, g, xs, want_x);
            gx = g_x;
            sums[0] = sum;
        } else if want_p {
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
            gx = kernel::backward(rule, p, g, xs);
        }
        let mut out = vec![want_x.then(|| Tensor::from_vec(gx, x.shape().clone()))];
        for (k, (s, shape)) in sums.iter().zip(&self.param_shapes).enumerate() {
            out.push(needs[k + 1].then(|| Tensor::full(shape.clone(), *s as f32)));
        }
        out
    }
}

/// An instruction set the pointwise kernels are compiled for. The loops of [`PointwiseOp`]
/// exist three times in the binary: for the baseline x86-64 (SSE2, 4 lanes) that every such
/// CPU runs, for AVX2 with FMA (8 lanes), and for AVX-512 (16 lanes); the best one the CPU
/// supports is chosen at run time. A rule's `f` and `df`, marked `#[inline(always)]`, are
/// inlined into each copy, so the same Rust source becomes 16-lane code where the CPU allows
/// it, without building for one CPU (`-C target-cpu=native`). Every copy executes the same
/// IEEE operations in the same order (an FMA instruction is used only where the rule calls
/// `f32::mul_add`, which rounds once in every copy), so they give bit-identical results.
///
/// Measured on 1M elements, forward + backward, one thread (`benches/activations.rs`): sigmoid
/// 3.1 / 1.55 / 0.93 ms, exact GELU 7.5 / 3.85 / 2.3 ms, Mish 4.1 / 2.0 / 1.2 ms (baseline /
/// AVX2 / AVX-512).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// The baseline of the target (on x86-64: SSE2).
    Baseline,
    /// x86-64 with AVX2 and FMA.
    Avx2,
    /// x86-64 with AVX-512 (F, VL, DQ, BW), AVX2 and FMA.
    Avx512,
}

impl Isa {
    /// The best instruction set this CPU supports (the standard library caches the check).
    pub fn detected() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("fma") {
                if has!("avx512f") && has!("avx512vl") && has!("avx512dq") && has!("avx512bw") {
                    return Isa::Avx512;
                }
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }
}

/// The cap set by [`set_pointwise_isa`]: 0 none (use the detected one), else 1 + the `Isa`.
static ISA_CAP: AtomicU8 = AtomicU8::new(0);

/// Limits the pointwise kernels to `isa` (or to the detected one, if the CPU lacks `isa`),
/// for every thread, and returns the instruction set now in use. For comparing the copies
/// (benchmarks, tests); `None` restores the default, the detected one.
///
/// ```
/// use autograd::{pointwise_isa, set_pointwise_isa, Isa};
///
/// assert_eq!(set_pointwise_isa(Some(Isa::Baseline)), Isa::Baseline);
/// assert_eq!(pointwise_isa(), Isa::Baseline);
/// assert_eq!(set_pointwise_isa(None), Isa::detected());
/// ```
pub fn set_pointwise_isa(isa: Option<Isa>) -> Isa {
    ISA_CAP.store(isa.map_or(0, |i| i as u8 + 1), Ordering::Relaxed);
    pointwise_isa()
}

/// The instruction set the pointwise kernels use now: [`Isa::detected`], unless lowered by
/// [`set_pointwise_isa`].
pub fn pointwise_isa() -> Isa {
    let detected = Isa::detected();
    match ISA_CAP.load(Ordering::Relaxed) {
        1 => Isa::Baseline,
        2 => Isa::Avx2.min(detected),
        _ => detected,
    }
}

/// The loops of the fused op, each written once as an `#[inline(always)]` body over slices and
/// compiled per [`Isa`]; `forward` and `backward` pick the copy for this CPU.
mod kernel {
    use super::*;

    /// `ys[i] = f(xs[i]; p)`.
    #[inline(always)]
    fn forward_body<P: Pointwise>(rule: &P, p: &[f32], xs: &[f32], ys: &mut [MaybeUninit<f32>]) {
        for (y, &x) in ys.iter_mut().zip(xs) {
            y.write(rule.f(x, p));
        }
    }

    /// `gx[i] = g[i]·f′(xs[i]; p)`.
    #[inline(always)]
    fn backward_body<P: Pointwise>(
        rule: &P,
        p: &[f32],
        g: &[f32],
        xs: &[f32],
        gx: &mut [MaybeUninit<f32>],
    ) {
        for ((o, &g), &x) in gx.iter_mut().zip(g).zip(xs) {
            o.write(g * rule.df(x, p));
        }
    }

    /// Defines `$name`, which runs `$body` (an `#[inline(always)]` function) compiled for the
    /// [`pointwise_isa`] of this CPU.
    macro_rules! dispatch {
        ($name:ident, $body:ident, ($($arg:ident: $ty:ty),*)) => {
            fn $name<P: Pointwise>(rule: &P, p: &[f32], $($arg: $ty),*) {
                #[cfg(target_arch = "x86_64")]
                {
                    #[target_feature(enable = "avx2,fma")]
                    unsafe fn avx2<P: Pointwise>(rule: &P, p: &[f32], $($arg: $ty),*) {
                        $body(rule, p, $($arg),*)
                    }
                    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
                    unsafe fn avx512<P: Pointwise>(rule: &P, p: &[f32], $($arg: $ty),*) {
                        $body(rule, p, $($arg),*)
                    }
                    match pointwise_isa() {
                        // SAFETY: `pointwise_isa` never exceeds what the CPU has.
                        Isa::Avx512 => return unsafe { avx512(rule, p, $($arg),*) },
                        // SAFETY: as above.
                        Isa::Avx2 => return unsafe { avx2(rule, p, $($arg),*) },
                        Isa::Baseline => {}
                    }
                }
                $body(rule, p, $($arg),*)
            }
        };
    }

    /// For a rule with one parameter: `gx[i] = g[i]·f′(xs[i])` (unless `gx` is empty) and
    /// `*sum = Σ g[i]·∂f/∂p(xs[i])`. The products are formed in blocks of 256 (a vectorised
    /// loop), then added in `f64` into 8 interleaved partial sums (vectorised too); a single
    /// running sum would be one dependent addition per element.
    #[inline(always)]
    fn backward_p1_body<P: Pointwise>(
        rule: &P,
        p: &[f32],
        g: &[f32],
        xs: &[f32],
        gx: &mut [MaybeUninit<f32>],
        sum: &mut f64,
    ) {
        const BLOCK: usize = 256;
        let want_x = !gx.is_empty();
        let mut acc = [0.0f64; 8];
        for (b, (gb, xb)) in g.chunks(BLOCK).zip(xs.chunks(BLOCK)).enumerate() {
            let mut t = [0.0f32; BLOCK];
            for ((t, &g), &x) in t.iter_mut().zip(gb).zip(xb) {
                let mut dp = [0.0f32];
                rule.dparams(x, p, &mut dp);
                *t = g * dp[0];
            }
            if want_x {
                let out = &mut gx[b * BLOCK..];
                for ((o, &g), &x) in out.iter_mut().zip(gb).zip(xb) {
                    o.write(g * rule.df(x, p));
                }
            }
            for lanes in t.chunks_exact(8) {
                for (a, &v) in acc.iter_mut().zip(lanes) {
                    *a += f64::from(v);
                }
            }
        }
        *sum = acc.iter().sum();
    }

    dispatch!(forward_isa, forward_body, (xs: &[f32], ys: &mut [MaybeUninit<f32>]));
    dispatch!(backward_p1_isa, backward_p1_body, (g: &[f32], xs: &[f32], gx: &mut [MaybeUninit<f32>], sum: &mut f64));
    dispatch!(backward_isa, backward_body, (g: &[f32], xs: &[f32], gx: &mut [MaybeUninit<f32>]));

    /// A vector of `n` values written by `fill`, which must write every element of the slice
    /// it is given (the buffer is not zeroed first: that would be one more pass over memory).
    fn filled(n: usize, fill: impl FnOnce(&mut [MaybeUninit<f32>])) -> Vec<f32> {
        let mut out = Vec::with_capacity(n);
        fill(&mut out.spare_capacity_mut()[..n]);
        // SAFETY: `fill` wrote all `n` elements (both bodies write one per input element, and
        // the inputs have `n` elements).
        unsafe { out.set_len(n) };
        out
    }

    /// `f` over `xs`, in the copy for this CPU.
    pub(super) fn forward<P: Pointwise>(rule: &P, p: &[f32], xs: &[f32]) -> Vec<f32> {
        filled(xs.len(), |ys| forward_isa(rule, p, xs, ys))
    }

    /// For a rule with one parameter: `(g·f′` over `xs` (empty unless `want_x`),
    /// `Σ g·∂f/∂p)`, in the copy for this CPU.
    ///
    /// # Panics
    /// If `g` and `xs` differ in length.
    pub(super) fn backward_p1<P: Pointwise>(
        rule: &P,
        p: &[f32],
        g: &[f32],
        xs: &[f32],
        want_x: bool,
    ) -> (Vec<f32>, f64) {
        assert_eq!(
            g.len(),
            xs.len(),
            "{}: gradient and input differ in length",
            rule.name()
        );
        let mut sum = 0.0;
        let n = if want_x { xs.len() } else { 0 };
        let gx = filled(n, |gx| backward_p1_isa(rule, p, g, xs, gx, &mut sum));
        (gx, sum)
    }

    /// `g·f′` over `xs`, in the copy for this CPU.
    ///
    /// # Panics
    /// If `g` and `xs` differ in length.
    pub(super) fn backward<P: Pointwise>(rule: &P, p: &[f32], g: &[f32], xs: &[f32]) -> Vec<f32> {
        assert_eq!(
            g.len(),
            xs.len(),
            "{}: gradient and input differ in length",
            rule.name()
        );
        filled(xs.len(), |gx| backward_isa(rule, p, g, xs, gx))
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
            (y, gx)
        };
        let (y0, g0) = run(Isa::Baseline);
        for isa in [Isa::Avx2, Isa::Avx512] {
            let (y, gx) = run(isa);
            let same =
                |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(
                same(&y0, &y) && same(&g0, &gx),
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
    struct Cubic(Var);

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
            std::slice::from_ref(&self.0)
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
                x.pointwise(&Cubic(a.clone()))
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

    #[test]
    #[should_panic(expected = "quad: parameter 0 must have one element, got shape [2]")]
    fn parameters_must_be_scalars() {
        let a = Var::parameter(Tensor::ones([2]));
        Var::constant(Tensor::ones([2])).pointwise(&Quad::new(&a, &a));
    }
}
