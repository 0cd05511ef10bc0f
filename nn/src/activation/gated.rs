//! What the gated linear units share (GLU, SwiGLU, GeGLU): the input split into two halves
//! along `dim`, one gating the other, [`GatedUnit`], parameterised by the gate ([`Gate`]).
//! Each has its own file with its gate, its type (`Glu = GatedUnit<Sigmoid>`) and its registry
//! entry. Composed from `narrow`, the gate's fused rule and a product, so the backward comes
//! from autograd; the size along `dim` must be even and the output has half of it.
use super::prelude::*;

/// How the two halves `a` (first) and `b` (second) combine.
pub trait Gate: Clone + std::fmt::Debug + 'static {
    /// The name in error messages (`"glu"`).
    const NAME: &'static str;
    /// The output from the halves: `a ⊙ σ(b)` for GLU, `silu(a) ⊙ b` for SwiGLU.
    fn combine(&self, a: &Var, b: &Var) -> Var;
    /// What PyTorch-style printing shows for the layer: `GLU(dim=-1)`.
    fn describe(&self, dim: isize) -> String;
}

/// A gated linear unit halving the axis `dim`: [`Glu`](super::Glu), [`SwiGlu`](super::SwiGlu),
/// [`GeGlu`](super::GeGlu).
#[derive(Clone, Copy, Debug)]
pub struct GatedUnit<G> {
    /// The axis that is halved (negative counts from the end).
    pub dim: isize,
    /// The gate.
    pub gate: G,
}

impl<G: Default> GatedUnit<G> {
    /// Halving `dim`, with the default gate.
    pub fn new(dim: isize) -> GatedUnit<G> {
        GatedUnit {
            dim,
            gate: G::default(),
        }
    }
}

impl<G: Default> Default for GatedUnit<G> {
    /// Halving the last axis (PyTorch's default for GLU).
    fn default() -> GatedUnit<G> {
        GatedUnit::new(-1)
    }
}

impl<G: Gate> Module for GatedUnit<G> {
    /// # Panics
    /// If `dim` is out of range or the size along it is odd.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        let (a, b) = halves(G::NAME, x, self.dim);
        self.gate.combine(&a, &b)
    }
    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}
    /// An activation. `derivative` stays `None`: each output depends on two inputs, so there
    /// is no elementwise f′ (and no saturated fraction).
    fn is_activation(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        self.gate.describe(self.dim)
    }
}

/// The two halves of `x` along `dim`.
///
/// # Panics
/// If `dim` is out of range or the size along it is odd, naming `op` and the shape.
#[track_caller]
pub(crate) fn halves(op: &str, x: &Var, dim: isize) -> (Var, Var) {
    let shape = x.shape();
    let axis = resolve_dim(op, dim, &shape);
    let n = shape.dim(axis);
    if !n.is_multiple_of(2) {
        shape_panic(
            op,
            format_args!("halving dim {dim} of {shape:?} needs an even size, got {n}"),
        );
    }
    (x.narrow(axis, 0, n / 2), x.narrow(axis, n / 2, n / 2))
}
