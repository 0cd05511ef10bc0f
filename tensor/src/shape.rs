//! `Shape`: the sizes of a tensor's axes, and the broadcasting rule.

use std::fmt;

use crate::error::shape_panic;

/// The sizes of a tensor's axes, outermost first (row-major).
///
/// A scalar has rank 0 and one element; an axis of size 0 makes an empty tensor.
///
/// ```
/// use tensor::Shape;
/// let s = Shape::from([2, 3, 4]);
/// assert_eq!(s.numel(), 24);
/// assert_eq!(s.strides(), vec![12, 4, 1]);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(Vec<usize>);

impl Shape {
    /// A shape from its axis sizes.
    pub fn new(dims: Vec<usize>) -> Self {
        Shape(dims)
    }

    /// The shape of a scalar: rank 0, one element.
    pub fn scalar() -> Self {
        Shape(Vec::new())
    }

    /// The axis sizes.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// The number of axes.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// The number of elements: the product of the axis sizes (1 for a scalar).
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    /// The size of one axis.
    ///
    /// # Panics
    /// If `axis` is not below the rank.
    #[track_caller]
    pub fn dim(&self, axis: usize) -> usize {
        self.check_axis("dim", axis);
        self.0[axis]
    }

    /// Row-major strides in elements: how far apart consecutive indices of each axis are.
    pub fn strides(&self) -> Vec<usize> {
        let mut strides = vec![1; self.0.len()];
        for i in (0..self.0.len().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * self.0[i + 1];
        }
        strides
    }

    /// Panics, naming `op`, if `axis` is not an axis of this shape.
    #[track_caller]
    pub fn check_axis(&self, op: &str, axis: usize) {
        if axis >= self.rank() {
            shape_panic(
                op,
                format_args!(
                    "axis {axis} is out of range for shape {self:?} (rank {})",
                    self.rank()
                ),
            );
        }
    }

    /// The shape that `self` and `other` broadcast to, by NumPy/PyTorch rules: align the
    /// trailing axes; each pair of sizes must be equal or one of them 1.
    ///
    /// # Panics
    /// If the shapes cannot broadcast; the message names `op` and both shapes.
    #[track_caller]
    pub fn broadcast(&self, other: &Shape, op: &str) -> Shape {
        match self.try_broadcast(other) {
            Some(s) => s,
            None => shape_panic(
                op,
                format_args!("shapes cannot broadcast: {self:?} and {other:?}"),
            ),
        }
    }

    /// Like [`Shape::broadcast`], but `None` instead of a panic.
    pub fn try_broadcast(&self, other: &Shape) -> Option<Shape> {
        let rank = self.rank().max(other.rank());
        let mut out = vec![0; rank];
        for (i, o) in out.iter_mut().enumerate() {
            let a = self.dim_from_end(rank - 1 - i);
            let b = other.dim_from_end(rank - 1 - i);
            *o = match (a, b) {
                (a, b) if a == b => a,
                (1, b) => b,
                (a, 1) => a,
                _ => return None,
            };
        }
        Some(Shape(out))
    }

    /// Size of the axis `k` places from the end (0 = last), or 1 past the front.
    fn dim_from_end(&self, k: usize) -> usize {
        if k < self.rank() {
            self.0[self.rank() - 1 - k]
        } else {
            1
        }
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl From<Vec<usize>> for Shape {
    fn from(v: Vec<usize>) -> Self {
        Shape(v)
    }
}

impl From<&[usize]> for Shape {
    fn from(v: &[usize]) -> Self {
        Shape(v.to_vec())
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(v: [usize; N]) -> Self {
        Shape(v.to_vec())
    }
}

impl<const N: usize> From<&[usize; N]> for Shape {
    fn from(v: &[usize; N]) -> Self {
        Shape(v.to_vec())
    }
}

impl From<&Vec<usize>> for Shape {
    fn from(v: &Vec<usize>) -> Self {
        Shape(v.clone())
    }
}

impl From<&Shape> for Shape {
    fn from(s: &Shape) -> Self {
        s.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numel_and_strides() {
        assert_eq!(Shape::scalar().numel(), 1);
        assert_eq!(Shape::from([0, 3]).numel(), 0);
        assert_eq!(Shape::from([2, 3, 4]).strides(), vec![12, 4, 1]);
        assert_eq!(Shape::scalar().strides(), Vec::<usize>::new());
    }

    #[test]
    fn broadcasting_rules() {
        let b = |x: &[usize], y: &[usize]| Shape::from(x).try_broadcast(&Shape::from(y));
        assert_eq!(b(&[2, 3], &[3]), Some(Shape::from([2, 3])));
        assert_eq!(b(&[2, 1], &[1, 3]), Some(Shape::from([2, 3])));
        assert_eq!(b(&[], &[4, 5]), Some(Shape::from([4, 5])));
        assert_eq!(b(&[5, 1, 4], &[3, 1]), Some(Shape::from([5, 3, 4])));
        assert_eq!(b(&[0, 1], &[1, 3]), Some(Shape::from([0, 3])));
        assert_eq!(b(&[2, 3], &[2]), None);
    }

    #[test]
    #[should_panic(expected = "add: shapes cannot broadcast: [2, 3] and [4]")]
    fn broadcast_panic_names_op_and_shapes() {
        Shape::from([2, 3]).broadcast(&Shape::from([4]), "add");
    }
}
