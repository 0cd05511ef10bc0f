//! The `Tensor` type: `f32` values in one contiguous row-major buffer behind an `Arc`, plus
//! a [`Shape`]. Clones are cheap (they share the buffer); writing through
//! [`Tensor::data_mut`] copies the buffer first only if it is shared (copy-on-write).

use std::sync::Arc;

use crate::error::{shape_panic, TensorError};
use crate::shape::Shape;

/// An n-dimensional array of `f32`, contiguous and row-major.
///
/// ```
/// use tensor::Tensor;
/// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
/// let b = Tensor::from_vec(vec![10.0, 20.0, 30.0], [3]);
/// let c = &a + &b; // broadcasting: b is added to every row
/// assert_eq!(c.to_vec(), vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
/// ```
#[derive(Clone)]
pub struct Tensor {
    data: Arc<Vec<f32>>,
    shape: Shape,
}

impl Tensor {
    /// A tensor holding `data` in row-major order.
    ///
    /// # Panics
    /// If `data.len()` is not the number of elements of `shape`. Use [`Tensor::try_from_vec`]
    /// for data from outside the program.
    #[track_caller]
    pub fn from_vec(data: Vec<f32>, shape: impl Into<Shape>) -> Tensor {
        match Tensor::try_from_vec(data, shape) {
            Ok(t) => t,
            Err(e) => shape_panic("from_vec", e),
        }
    }

    /// Like [`Tensor::from_vec`], but a length mismatch is an error instead of a panic.
    pub fn try_from_vec(data: Vec<f32>, shape: impl Into<Shape>) -> Result<Tensor, TensorError> {
        let shape = shape.into();
        if data.len() != shape.numel() {
            return Err(TensorError::LengthMismatch {
                len: data.len(),
                dims: shape.dims().to_vec(),
                expected: shape.numel(),
            });
        }
        Ok(Tensor {
            data: Arc::new(data),
            shape,
        })
    }

    /// A rank-0 tensor holding one value.
    pub fn scalar(value: f32) -> Tensor {
        Tensor::from_vec(vec![value], Shape::scalar())
    }

    /// A tensor of the given shape filled with `value`.
    pub fn full(shape: impl Into<Shape>, value: f32) -> Tensor {
        let shape = shape.into();
        Tensor::from_vec(vec![value; shape.numel()], shape)
    }

    /// A tensor of zeros.
    pub fn zeros(shape: impl Into<Shape>) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// A tensor of ones.
    pub fn ones(shape: impl Into<Shape>) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// Zeros with the shape of `self`.
    pub fn zeros_like(&self) -> Tensor {
        Tensor::zeros(self.shape.clone())
    }

    /// Ones with the shape of `self`.
    pub fn ones_like(&self) -> Tensor {
        Tensor::ones(self.shape.clone())
    }

    /// `value` everywhere, with the shape of `self`.
    pub fn full_like(&self, value: f32) -> Tensor {
        Tensor::full(self.shape.clone(), value)
    }

    /// The 1-D tensor `start, start + step, ...` up to but excluding `end` (PyTorch's `arange`).
    ///
    /// # Panics
    /// If `step` is zero or not finite.
    #[track_caller]
    pub fn arange(start: f32, end: f32, step: f32) -> Tensor {
        if step == 0.0 || !step.is_finite() {
            shape_panic(
                "arange",
                format_args!("step must be finite and non-zero, got {step}"),
            );
        }
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        let data: Vec<f32> = (0..n).map(|i| start + i as f32 * step).collect();
        Tensor::from_vec(data, [n])
    }

    /// The `n` x `n` identity matrix.
    pub fn eye(n: usize) -> Tensor {
        let mut data = vec![0.0; n * n];
        for i in 0..n {
            data[i * n + i] = 1.0;
        }
        Tensor::from_vec(data, [n, n])
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The axis sizes (shorthand for `shape().dims()`).
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// The number of axes.
    pub fn rank(&self) -> usize {
        self.shape.rank()
    }

    /// The size of one axis.
    #[track_caller]
    pub fn dim(&self, axis: usize) -> usize {
        self.shape.dim(axis)
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The values, row-major.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The values, writable. Copies the buffer first if another tensor shares it
    /// (copy-on-write), so writing never changes a clone.
    pub fn data_mut(&mut self) -> &mut [f32] {
        Arc::make_mut(&mut self.data).as_mut_slice()
    }

    /// The values as a new `Vec`.
    pub fn to_vec(&self) -> Vec<f32> {
        self.data.to_vec()
    }

    /// The values as a `Vec`, without copying when this is the buffer's only owner.
    pub fn into_vec(self) -> Vec<f32> {
        Arc::try_unwrap(self.data).unwrap_or_else(|shared| (*shared).clone())
    }

    /// The single value of a one-element tensor.
    ///
    /// # Panics
    /// If the tensor does not have exactly one element.
    #[track_caller]
    pub fn item(&self) -> f32 {
        if self.numel() != 1 {
            shape_panic(
                "item",
                format_args!(
                    "needs exactly one element, shape {:?} has {}",
                    self.shape,
                    self.numel()
                ),
            );
        }
        self.data[0]
    }

    /// The value at a multi-index.
    ///
    /// # Panics
    /// If the index has the wrong length or is out of bounds.
    #[track_caller]
    pub fn get(&self, index: &[usize]) -> f32 {
        self.data[self.offset("get", index)]
    }

    /// Sets the value at a multi-index (copy-on-write).
    #[track_caller]
    pub fn set(&mut self, index: &[usize], value: f32) {
        let off = self.offset("set", index);
        self.data_mut()[off] = value;
    }

    #[track_caller]
    fn offset(&self, op: &str, index: &[usize]) -> usize {
        if index.len() != self.rank() || index.iter().zip(self.dims()).any(|(i, d)| i >= d) {
            shape_panic(
                op,
                format_args!(
                    "index {index:?} is out of bounds for shape {:?}",
                    self.shape
                ),
            );
        }
        index
            .iter()
            .zip(self.shape.strides())
            .map(|(i, s)| i * s)
            .sum()
    }

    /// Same values, a new shape with the same number of elements (no copy).
    ///
    /// # Panics
    /// If the element counts differ.
    #[track_caller]
    pub fn reshape(&self, shape: impl Into<Shape>) -> Tensor {
        let shape = shape.into();
        if shape.numel() != self.numel() {
            shape_panic(
                "reshape",
                format_args!(
                    "cannot reshape {:?} ({} elements) into {:?} ({} elements)",
                    self.shape,
                    self.numel(),
                    shape,
                    shape.numel()
                ),
            );
        }
        Tensor {
            data: Arc::clone(&self.data),
            shape,
        }
    }

    /// Whether both tensors share one buffer (a clone that nobody has written to).
    pub fn shares_buffer(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.data, &other.data)
    }

    /// True when every value is finite (no NaN, no infinity).
    pub fn all_finite(&self) -> bool {
        self.data.iter().all(|v| v.is_finite())
    }

    /// Whether shapes are equal and every pair of values is within `atol + rtol * |other|`.
    pub fn allclose(&self, other: &Tensor, rtol: f32, atol: f32) -> bool {
        self.shape == other.shape
            && self
                .data
                .iter()
                .zip(other.data.iter())
                .all(|(a, b)| (a - b).abs() <= atol + rtol * b.abs() || a == b)
    }
}

impl PartialEq for Tensor {
    /// Equal shapes and bit-for-bit equal values (so NaN != NaN, as for `f32`).
    fn eq(&self, other: &Tensor) -> bool {
        self.shape == other.shape && self.data == other.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors() {
        assert_eq!(Tensor::zeros([2, 3]).to_vec(), vec![0.0; 6]);
        assert_eq!(Tensor::ones([2]).to_vec(), vec![1.0; 2]);
        assert_eq!(Tensor::full([1, 2], 7.5).dims(), &[1, 2]);
        assert_eq!(
            Tensor::arange(0.0, 1.0, 0.25).to_vec(),
            vec![0.0, 0.25, 0.5, 0.75]
        );
        assert_eq!(Tensor::arange(3.0, 0.0, -1.0).to_vec(), vec![3.0, 2.0, 1.0]);
        assert_eq!(Tensor::arange(0.0, 0.0, 1.0).numel(), 0);
        assert_eq!(Tensor::eye(2).to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
        assert_eq!(Tensor::scalar(3.0).item(), 3.0);
        assert_eq!(Tensor::scalar(3.0).rank(), 0);
        assert_eq!(Tensor::zeros([0, 4]).numel(), 0);
    }

    #[test]
    fn from_vec_checks_length() {
        let err = Tensor::try_from_vec(vec![1.0; 5], [2, 3]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "data has 5 elements but shape [2, 3] holds 6; pass a shape whose sizes multiply to 5"
        );
    }

    #[test]
    #[should_panic(expected = "from_vec: data has 5 elements but shape [2, 3] holds 6")]
    fn from_vec_panics_on_mismatch() {
        Tensor::from_vec(vec![1.0; 5], [2, 3]);
    }

    #[test]
    fn copy_on_write() {
        let a = Tensor::zeros([3]);
        let mut b = a.clone();
        assert!(a.shares_buffer(&b));
        b.data_mut()[0] = 1.0;
        assert!(!a.shares_buffer(&b));
        assert_eq!(a.to_vec(), vec![0.0; 3]);
        assert_eq!(b.to_vec(), vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn get_set_and_reshape() {
        let mut t = Tensor::arange(0.0, 6.0, 1.0).reshape([2, 3]);
        assert_eq!(t.get(&[1, 2]), 5.0);
        t.set(&[0, 1], -1.0);
        assert_eq!(t.to_vec(), vec![0.0, -1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(t.reshape([3, 2]).dims(), &[3, 2]);
    }

    #[test]
    #[should_panic(expected = "reshape: cannot reshape [2, 3] (6 elements) into [4] (4 elements)")]
    fn reshape_checks_count() {
        Tensor::zeros([2, 3]).reshape([4]);
    }

    #[test]
    #[should_panic(expected = "item: needs exactly one element")]
    fn item_needs_one_element() {
        Tensor::zeros([2]).item();
    }
}
