//! Scalar rules and their one fused op. An elementwise function is described once, as a
//! [`Pointwise`] rule — its formula `f(x)`, its derivative `f′(x)`, and the derivatives in its
//! learnable parameters — and [`PointwiseOp`] turns any rule into a forward kernel (one pass
//! computing `f`) and a backward kernel (one pass computing `g·f′`, and the parameter sums).
//! This is how every activation of the `nn` crate is built.
//!
//! When only `x` needs a gradient (the rule's parameters are fixed), the forward kernel computes
//! `f` and `f′` in the same pass — they share their expensive part, the exponential in σ(x) —
//! and keeps `f′(x)` for the backward pass, which is then a multiplication `g·f′` (`cargo bench
//! --bench activations` times the forward and the forward + backward of every activation). A
//! rule whose `f′` is a comparison and a select ([`Pointwise::CHEAP_DF`], ReLU) keeps `x`
//! instead: writing `f′` would cost more than recomputing it. The kernels split long inputs
//! into pieces of [`PIECE`] elements spread over the threads of [`tensor::set_num_threads`];
//! the pieces do not depend on the thread count, so neither do the results.

use std::fmt;
use std::mem::MaybeUninit;
use std::ops::Deref;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;
use std::thread::{self, ThreadId};

use tensor::{shape_panic, Shape, Tensor};

use crate::function::Function;
use crate::no_grad::is_grad_enabled;
use crate::var::Var;

/// How many elements one task of a pointwise kernel handles: 32K `f32` (128 KiB, in the L2
/// cache beside its output). An input of one piece or less (a `[64, 128]` hidden layer) runs
/// on the calling thread alone; a 1M-element input is 31 tasks.
pub const PIECE: usize = 32 * 1024;

/// An elementwise function `y = f(x; p)` with its derivatives, for [`pointwise()`].
///
/// `p` holds the current values of [`params`](Pointwise::params), in order (empty when the rule
/// has none). `df` is always given `x`, never `f(x)`.
///
/// ```
/// use autograd::{gradcheck_pointwise, Pointwise, RuleParams, Var};
/// use tensor::Tensor;
///
/// /// Swish with a learnable β: f(x) = x·σ(βx).
/// #[derive(Clone)]
/// struct Swish { beta: RuleParams<1> }
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
///     fn params(&self) -> &[Var] { &self.beta }
/// }
///
/// let beta = Var::parameter(Tensor::from_vec(vec![1.0], [1]));
/// let swish = Swish { beta: RuleParams::new([beta.clone()]) };
/// gradcheck_pointwise(&swish, &[-5.0, -1.0, 0.0, 1.0, 5.0], &[]).unwrap();
///
/// let x = Var::parameter(Tensor::from_vec(vec![-1.0, 0.0, 2.0], [3]));
/// x.pointwise(&swish).sum_all().backward();
/// assert!(x.grad().is_some() && beta.grad().is_some()); // β learns too
/// ```
///
/// A rule is `Sync`: the kernels call `f`, `df` and `dparams` on several threads at once. A
/// `Var` is not (it is an `Rc`), so a rule keeps its parameters in a [`RuleParams`], which
/// only the thread that made them can open; the kernels never need to, since they are given
/// the parameter values in `p`.
pub trait Pointwise: Clone + Sync + 'static {
    /// Name for graph pictures and error messages, e.g. `"mish"`.
    fn name(&self) -> &'static str;

    /// Whether `f′` costs no more to recompute than to read back (a comparison and a select,
    /// as in ReLU). Then the forward pass keeps `x` and writes only `f(x)`, and the backward
    /// pass recomputes `f′(x)`. Otherwise (the default) the forward pass computes `f′(x)`
    /// beside `f(x)`, sharing their common work, and keeps it for the backward pass.
    const CHEAP_DF: bool = false;

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
///
/// What the forward pass keeps for the backward pass is chosen when the op is made:
/// [`new`](PointwiseOp::new) keeps `x` (backward evaluates `f′` and the parameter
/// derivatives), [`keeping_derivative`](PointwiseOp::keeping_derivative) keeps `f′(x)`,
/// computed in the forward pass alongside `f` (backward is `g·f′`). [`pointwise()`] picks the
/// second whenever the parameters need no gradient, unless the rule's `f′` is
/// [cheap](Pointwise::CHEAP_DF).
pub struct PointwiseOp<P: Pointwise> {
    rule: P,
    keep_derivative: bool,
    saved: Option<Tensor>,
    p: Vec<f32>,
    param_shapes: Vec<Shape>,
}

impl<P: Pointwise> PointwiseOp<P> {
    /// The op for `rule`, ready for [`Var::apply`] with inputs `[x, params...]`; its forward
    /// pass keeps `x`, so the backward pass can give every input its gradient.
    pub fn new(rule: P) -> Self {
        PointwiseOp {
            rule,
            keep_derivative: false,
            saved: None,
            p: Vec::new(),
            param_shapes: Vec::new(),
        }
    }

    /// The op for `rule` when only `x` will need a gradient: the forward pass computes `f′(x)`
    /// with `f(x)` and keeps it, and the backward pass gives `x` its gradient and the
    /// parameters none.
    pub fn keeping_derivative(rule: P) -> Self {
        PointwiseOp {
            keep_derivative: true,
            ..PointwiseOp::new(rule)
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
        if self.keep_derivative {
            let (y, d) = kernel::forward_with_derivative(&self.rule, &self.p, x.data());
            self.saved = Some(Tensor::from_vec(d, x.shape().clone()));
            return Tensor::from_vec(y, x.shape().clone());
        }
        let y = kernel::forward(&self.rule, &self.p, x.data());
        self.saved = Some(x.clone());
        Tensor::from_vec(y, x.shape().clone())
    }

    fn backward(&self, grad: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let saved = self.saved.as_ref().expect("backward runs after forward");
        let shape = saved.shape();
        if self.keep_derivative {
            let gx = needs[0]
                .then(|| Tensor::from_vec(kernel::times(grad.data(), saved.data()), shape.clone()));
            let none = needs[1..].iter().map(|&need| {
                assert!(!need, "{}: made with keeping_derivative, but a parameter needs a gradient (use PointwiseOp::new)", self.rule.name());
                None
            });
            return std::iter::once(gx).chain(none).collect();
        }
        let (rule, p, g, xs) = (&self.rule, &self.p[..], grad.data(), saved.data());
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
        let mut out = vec![want_x.then(|| Tensor::from_vec(gx, shape.clone()))];
        for (k, (s, shape)) in sums.iter().zip(&self.param_shapes).enumerate() {
            out.push(needs[k + 1].then(|| Tensor::full(shape.clone(), *s as f32)));
        }
        out
    }
}

/// The parameters of a [`Pointwise`] rule: its `N` one-element `Var`s, which only the thread
/// that made them can reach.
///
/// A rule must be `Sync` (the kernels share it between threads) and a `Var` is not, so a rule
/// keeps its `Var`s in here: `RuleParams` is `Sync`, and every way to the `Var`s inside
/// (dereferencing, cloning, printing) first checks that it runs on the thread that called
/// [`new`](RuleParams::new), and panics elsewhere. The kernels do not need the `Var`s: they are
/// given the parameter values. It dereferences to `[Var]`, so
/// [`Pointwise::params`] is `&self.p`.
///
/// ```
/// use autograd::{RuleParams, Var};
/// use tensor::Tensor;
///
/// let alpha = Var::parameter(Tensor::from_vec(vec![1.0], [1]));
/// let p = RuleParams::new([alpha]);
/// assert_eq!(p[0].item(), 1.0);
/// std::thread::scope(|s| {
///     let p = &p; // shared with another thread: allowed, since RuleParams is Sync ...
///     let opened = s.spawn(move || p.len()).join();
///     assert!(opened.is_err()); // ... but opening it there panics
/// });
/// ```
pub struct RuleParams<const N: usize> {
    vars: [Var; N],
    owner: ThreadId,
}

// SAFETY: a `&RuleParams` on another thread reaches only `owner` (a plain `ThreadId`): every
// access to `vars` goes through `vars()`, which panics unless it runs on `owner`, the thread
// that created the value. `RuleParams` is not `Send` (a `Var` is not), so the value never
// leaves that thread and is dropped there. The `Rc`s inside are thus only ever touched by
// one thread.
unsafe impl<const N: usize> Sync for RuleParams<N> {}

impl<const N: usize> RuleParams<N> {
    /// Ties `vars` to the current thread.
    pub fn new(vars: [Var; N]) -> Self {
        RuleParams {
            vars,
            owner: thread::current().id(),
        }
    }

    /// The `Var`s.
    ///
    /// # Panics
    /// On any thread but the one that called [`new`](RuleParams::new).
    #[track_caller]
    pub fn vars(&self) -> &[Var; N] {
        if thread::current().id() != self.owner {
            panic!(
                "a Pointwise rule's parameter Vars are used on a thread that did not create them \
                 (inside f/df/dparams, use the parameter values `p` instead)"
            );
        }
        &self.vars
    }
}

impl<const N: usize> From<[Var; N]> for RuleParams<N> {
    fn from(vars: [Var; N]) -> Self {
        RuleParams::new(vars)
    }
}

impl<const N: usize> Deref for RuleParams<N> {
    type Target = [Var];

    #[track_caller]
    fn deref(&self) -> &[Var] {
        self.vars()
    }
}

impl<const N: usize> Clone for RuleParams<N> {
    #[track_caller]
    fn clone(&self) -> Self {
        RuleParams::new(self.vars().clone())
    }
}

impl<const N: usize> fmt::Debug for RuleParams<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.vars().fmt(f)
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
/// The activations' polynomials use `f32::mul_add`, one instruction on a CPU with FMA. On an
/// x86-64 CPU without it (before 2013) it is a library call — the price of the same bits on
/// every CPU: the baseline copy is then much slower.
///
/// Measured on 1M elements, forward + backward, one thread (`cargo bench --bench activations
/// -- summary`): sigmoid 21.5 / 0.88 / 0.62 ms, exact GELU 58.5 / 1.68 / 1.11 ms, Mish 21.6 /
/// 1.16 / 0.86 ms (baseline through the library's `fmaf` / AVX2 / AVX-512).
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

    /// `ys[i] = f(xs[i]; p)` and `ds[i] = f′(xs[i]; p)` in one pass: with both inlined, the
    /// compiler computes what `f` and `f′` share (σ(x) in sigmoid, SiLU, Mish; e^(−x²/2) in
    /// GELU) once.
    #[inline(always)]
    fn forward_df_body<P: Pointwise>(
        rule: &P,
        p: &[f32],
        xs: &[f32],
        ys: &mut [MaybeUninit<f32>],
        ds: &mut [MaybeUninit<f32>],
    ) {
        for ((y, d), &x) in ys.iter_mut().zip(ds.iter_mut()).zip(xs) {
            y.write(rule.f(x, p));
            d.write(rule.df(x, p));
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
    dispatch!(forward_df_isa, forward_df_body, (xs: &[f32], ys: &mut [MaybeUninit<f32>], ds: &mut [MaybeUninit<f32>]));
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

    /// `f` over `xs`, in the copy for this CPU, in pieces of [`PIECE`] over the threads.
    pub(super) fn forward<P: Pointwise>(rule: &P, p: &[f32], xs: &[f32]) -> Vec<f32> {
        filled(xs.len(), |ys| {
            tensor::parallel_pieces(ys, PIECE, |off, ys| {
                forward_isa(rule, p, &xs[off..off + ys.len()], ys);
            });
        })
    }

    /// `(f, f′)` over `xs`, in one pass, in the copy for this CPU, in pieces over the threads.
    pub(super) fn forward_with_derivative<P: Pointwise>(
        rule: &P,
        p: &[f32],
        xs: &[f32],
    ) -> (Vec<f32>, Vec<f32>) {
        let mut ds = Vec::new();
        let ys = filled(xs.len(), |ys| {
            ds = filled(xs.len(), |ds| {
                tensor::parallel_pieces_zip([ys, ds], PIECE, |off, [ys, ds]| {
                    forward_df_isa(rule, p, &xs[off..off + ys.len()], ys, ds);
                });
            });
        });
        (ys, ds)
    }

    /// `g·d` elementwise (the backward pass with a kept derivative `d`), in pieces over the
    /// threads. One multiplication per element, as `g·f′(x)` is in [`backward`].
    ///
    /// # Panics
    /// If `g` and `d` differ in length.
    pub(super) fn times(g: &[f32], d: &[f32]) -> Vec<f32> {
        assert_eq!(g.len(), d.len(), "gradient and derivative differ in length");
        filled(g.len(), |out| {
            tensor::parallel_pieces(out, PIECE, |off, out| {
                for ((o, &g), &d) in out.iter_mut().zip(&g[off..]).zip(&d[off..]) {
                    o.write(g * d);
                }
            });
        })
    }

    /// For a rule with one parameter: `(g·f′` over `xs` (empty unless `want_x`),
    /// `Σ g·∂f/∂p)`, in the copy for this CPU. Each piece of [`PIECE`] elements forms its own
    /// sum; the sums of the pieces are added in order, so the result does not depend on the
    /// thread count.
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
        let mut sums = vec![0.0f64; xs.len().div_ceil(PIECE)];
        let gx = if want_x {
            let slots = Mutex::new(&mut sums);
            filled(xs.len(), |gx| {
                tensor::parallel_pieces(gx, PIECE, |off, gx| {
                    let range = off..off + gx.len();
                    let mut sum = 0.0;
                    backward_p1_isa(rule, p, &g[range.clone()], &xs[range], gx, &mut sum);
                    slots.lock().unwrap_or_else(|e| e.into_inner())[off / PIECE] = sum;
                });
            })
        } else {
            tensor::parallel_pieces(&mut sums, 1, |k, sum| {
                let range = k * PIECE..((k + 1) * PIECE).min(xs.len());
                backward_p1_isa(rule, p, &g[range.clone()], &xs[range], &mut [], &mut sum[0]);
            });
            Vec::new()
        };
        (gx, sums.iter().sum())
    }

    /// `g·f′` over `xs`, in the copy for this CPU, in pieces over the threads.
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
        filled(xs.len(), |gx| {
            tensor::parallel_pieces(gx, PIECE, |off, gx| {
                let range = off..off + gx.len();
                backward_isa(rule, p, &g[range.clone()], &xs[range], gx);
            });
        })
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
    // fixed parameters (the usual case): keep f′(x), computed with f(x), for the backward pass
    // (unless f′ is as cheap as reading it back)
    let op = if !P::CHEAP_DF
        && is_grad_enabled()
        && x.requires_grad()
        && !params.iter().any(Var::requires_grad)
    {
        PointwiseOp::keeping_derivative(rule.clone())
    } else {
        PointwiseOp::new(rule.clone())
    };
    Var::apply(op, &inputs)
}

impl Var {
    /// `f(x; p)` elementwise for a [`Pointwise`] rule; the same as [`pointwise()`]`(self, rule)`.
    #[track_caller]
    pub fn pointwise<P: Pointwise>(&self, rule: &P) -> Var {
        pointwise(self, rule)
    }
}

#[cfg(test)]
mod tests;
