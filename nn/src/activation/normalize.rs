//! What softmax, log-softmax and softmin share: an activation along an axis `dim` (negative
//! counts from the end, default the last), [`AlongAxis`], parameterised by the operation
//! ([`Normalization`]). Each has its own file with its type (`Softmax = AlongAxis<SoftmaxOp>`)
//! and registry entry.
use std::marker::PhantomData;

use super::prelude::*;

/// The operation of an activation along an axis.
pub trait Normalization: Copy + Default + std::fmt::Debug + 'static {
    /// The name in error messages (`"softmax"`).
    const NAME: &'static str;
    /// The class name PyTorch prints (`"Softmax"`).
    const LAYER_NAME: &'static str;
    /// The operation along axis `axis` of `x`.
    fn apply(x: &Var, axis: usize) -> Var;
}

/// An activation along the axis `dim`: [`Softmax`](super::Softmax),
/// [`LogSoftmax`](super::LogSoftmax), [`Softmin`](super::Softmin).
#[derive(Clone, Copy, Debug)]
pub struct AlongAxis<N> {
    /// The axis of the normalisation (negative counts from the end).
    pub dim: isize,
    op: PhantomData<N>,
}

impl<N> AlongAxis<N> {
    /// Along `dim`.
    pub fn new(dim: isize) -> AlongAxis<N> {
        AlongAxis {
            dim,
            op: PhantomData,
        }
    }
}

impl<N> Default for AlongAxis<N> {
    /// Along the last axis (PyTorch's implicit `dim` is deprecated).
    fn default() -> AlongAxis<N> {
        AlongAxis::new(-1)
    }
}

impl<N: Normalization> Module for AlongAxis<N> {
    /// # Panics
    /// If `dim` is out of range for `x`.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        N::apply(x, resolve_dim(N::NAME, self.dim, &x.shape()))
    }
    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}
    /// An activation. `derivative` stays `None`: each output depends on its whole row, so there
    /// is no elementwise f′ (and no saturated fraction).
    fn is_activation(&self) -> bool {
        true
    }
    fn describe(&self) -> String {
        format!("{}(dim={})", N::LAYER_NAME, self.dim)
    }
}
