//! The built-in differentiable ops, grouped by family. Each op is one [`Function`] struct
//! whose `forward` and `backward` sit side by side, plus the `Var` method that applies it;
//! each file ends with tests that gradcheck every op in it.
//!
//! [`Function`]: crate::Function

mod arith;
mod conv;
mod matmul;
mod pool;
mod reduce;
mod shape;

/// A tensor that `forward` saved for `backward`.
fn saved(slot: &Option<tensor::Tensor>) -> &tensor::Tensor {
    slot.as_ref().expect("backward runs after forward")
}
