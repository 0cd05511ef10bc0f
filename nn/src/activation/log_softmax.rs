//! Log-softmax along an axis. Same as `torch.nn.LogSoftmax(dim=-1)`.
//!
//! f(x)ᵢ = xᵢ − ln Σⱼ e^(xⱼ)        (along `dim`)
//! ∂L/∂xᵢ = gᵢ − e^(f(x)ᵢ)·Σⱼ gⱼ     (g = ∂L/∂y)
//!
//! Computed stably (max subtracted, log-sum-exp) by the autograd `log_softmax` op: never
//! `ln(softmax(x))`, which is −∞ where softmax underflows. Default `dim = -1` (PyTorch's
//! implicit dim is deprecated).
use super::prelude::*;

/// Log-softmax along `dim` (negative counts from the end).
#[derive(Clone, Copy, Debug)]
pub struct LogSoftmax {
    /// The axis of the normalisation.
    pub dim: isize,
}

impl LogSoftmax {
    /// Along `dim`.
    pub fn new(dim: isize) -> LogSoftmax {
        LogSoftmax { dim }
    }
}

impl Default for LogSoftmax {
    /// Along the last axis.
    fn default() -> LogSoftmax {
        LogSoftmax::new(-1)
    }
}

impl Module for LogSoftmax {
    /// # Panics
    /// If `dim` is out of range for `x`.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        x.log_softmax(resolve_dim("log_softmax", self.dim, &x.shape()))
    }
    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}
    /// An activation. `derivative` stays `None`: each output depends on its whole row, so there
    /// is no elementwise f′ (and no saturated fraction).
    fn is_activation(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        format!("LogSoftmax(dim={})", self.dim)
    }
}

/// Registry entry `log_softmax[:dim]`.
pub const ENTRY: Entry = Entry::new("log_softmax", Category::Normalizing, |a| {
    Ok(Box::new(LogSoftmax::new(a.int("dim") as isize)))
})
.args(&[Arg::int("dim", "-1")])
.about("log of softmax, computed stably: log-probabilities")
.formula("xᵢ − ln Σⱼ e^(xⱼ)", "∂yᵢ/∂xⱼ = δᵢⱼ − softmax(x)ⱼ")
.range("(−∞, 0), log-sum-exp 0 along dim")
.pytorch("torch.nn.LogSoftmax(dim=-1)");
