//! GLU, the gated linear unit (Dauphin, Fan, Auli & Grangier 2016, arXiv:1612.08083). Same as
//! `torch.nn.GLU(dim=-1)`.
//!
//! Split x along `dim` into halves a (first) and b (second):
//! f(x)  = a ⊙ σ(b)
//! ∂L/∂a = g ⊙ σ(b),   ∂L/∂b = g ⊙ a ⊙ σ(b)·(1 − σ(b))
//!
//! As in PyTorch, the *second* half goes through σ and gates the first. Composed from `narrow`,
//! the fused sigmoid rule and a product. The size along `dim` must be even; the output has half
//! of it.
use super::prelude::*;
use super::sigmoid::Sigmoid;

/// The two halves of `x` along `dim`, for the gated activations.
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

/// GLU: `a ⊙ σ(b)` for the halves `a`, `b` of the input along `dim`.
#[derive(Clone, Copy, Debug)]
pub struct Glu {
    /// The axis that is halved.
    pub dim: isize,
}

impl Glu {
    /// Halving `dim`.
    pub fn new(dim: isize) -> Glu {
        Glu { dim }
    }
}

impl Default for Glu {
    /// Halving the last axis (PyTorch's default).
    fn default() -> Glu {
        Glu::new(-1)
    }
}

impl Module for Glu {
    /// # Panics
    /// If `dim` is out of range or the size along it is odd.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        let (a, b) = halves("glu", x, self.dim);
        &a * &b.pointwise(&Sigmoid)
    }
    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}
    /// An activation. `derivative` stays `None`: each output depends on two inputs, so there
    /// is no elementwise f′ (and no saturated fraction).
    fn is_activation(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        format!("GLU(dim={})", self.dim)
    }
}

/// Registry entry `glu[:dim]`.
pub const ENTRY: Entry = Entry::new("glu", Category::Gated, |a| {
    Ok(Box::new(Glu::new(a.int("dim") as isize)))
})
.args(&[Arg::int("dim", "-1")])
.about("halves the input along dim: the first half gated by σ of the second")
.formula(
    "a ⊙ σ(b),  [a, b] = halves of x along dim",
    "∂/∂a = σ(b),  ∂/∂b = a·σ(b)·(1 − σ(b))",
)
.range("(−∞, ∞); half the size along dim")
.pytorch("torch.nn.GLU(dim=-1)");
