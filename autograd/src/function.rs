//! The [`Function`] trait: one differentiable operation, its forward and its backward side by
//! side. Every built-in op (in `ops/`) and the fused [`Pointwise`](crate::Pointwise) op is a
//! `Function`; a user-defined op is written exactly the same way and recorded with
//! [`Var::apply`](crate::Var::apply).

use tensor::Tensor;

/// A differentiable operation on tensors.
///
/// `forward` computes the output from the input values and keeps (in `self`) whatever
/// `backward` will need — input values, the output, masks, indices. `backward` receives the
/// gradient of the loss with respect to the output (same shape as the output) and returns one
/// entry per input: the gradient with respect to that input (same shape as the input), or
/// `None` when the input does not need one (`needs[i] == false`, or the op is constant in it).
///
/// The walk in [`backward`](crate::Var::backward) checks that every returned gradient has
/// its input's shape and panics naming [`name`](Function::name) if not.
///
/// # Example: a user-defined op
/// `cube(x) = x³`, with `∂cube/∂x = 3x²`:
/// ```
/// use autograd::{gradcheck, Function, Var};
/// use tensor::Tensor;
///
/// struct Cube { x: Option<Tensor> }
///
/// impl Function for Cube {
///     fn name(&self) -> &'static str { "cube" }
///     fn forward(&mut self, inputs: &[&Tensor]) -> Tensor {
///         self.x = Some(inputs[0].clone()); // a cheap clone: tensors share their buffer
///         inputs[0].map(|v| v * v * v)
///     }
///     fn backward(&self, grad: &Tensor, _needs: &[bool]) -> Vec<Option<Tensor>> {
///         let x = self.x.as_ref().unwrap();
///         vec![Some(tensor::zip_with(grad, x, "cube", |g, x| g * 3.0 * x * x))]
///     }
/// }
///
/// let x = Var::parameter(Tensor::from_vec(vec![1.0, -2.0], [2]));
/// let y = Var::apply(Cube { x: None }, &[&x]);
/// y.sum_all().backward();
/// assert_eq!(x.grad().unwrap().to_vec(), vec![3.0, 12.0]);
///
/// // and check the derivative against finite differences
/// let cube = |v: &[Var]| Var::apply(Cube { x: None }, &[&v[0]]);
/// gradcheck(cube, &[Tensor::from_vec(vec![0.5, -1.5, 2.0], [3])], 1e-2, 1e-2).unwrap();
/// ```
pub trait Function: 'static {
    /// A short name for graph pictures and error messages, e.g. `"mul"`.
    fn name(&self) -> &'static str;

    /// Computes the output from the input values; keeps (in `self`) what backward needs.
    fn forward(&mut self, inputs: &[&Tensor]) -> Tensor;

    /// Gradient of the loss with respect to each input, given the gradient with respect to the
    /// output. `needs[i]` says whether input `i` wants a gradient (skip the work when false).
    /// The returned `Vec` has one entry per input.
    fn backward(&self, grad: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>>;
}
