//! How a tensor prints: its shape and a readable, truncated view of its values, like PyTorch.

use std::fmt;

use crate::tensor::Tensor;

/// Rows or values shown at each end of an axis before the rest is elided with `...`.
const EDGE: usize = 3;

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tensor(")?;
        write_axis(f, self, 0, 0, 7)?;
        write!(f, ", shape={:?})", self.shape())
    }
}

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

fn write_axis(
    f: &mut fmt::Formatter<'_>,
    t: &Tensor,
    axis: usize,
    offset: usize,
    indent: usize,
) -> fmt::Result {
    if t.rank() == 0 {
        return write!(f, "{:.4}", t.data()[0]);
    }
    let n = t.dims()[axis];
    let stride: usize = t.dims()[axis + 1..].iter().product();
    let shown: Vec<Option<usize>> = if n > 2 * EDGE {
        (0..EDGE)
            .map(Some)
            .chain(std::iter::once(None))
            .chain((n - EDGE..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    };
    write!(f, "[")?;
    for (k, i) in shown.iter().enumerate() {
        if k > 0 {
            if axis + 1 == t.rank() {
                write!(f, ", ")?;
            } else {
                write!(f, ",\n{:width$}", "", width = indent + axis + 1)?;
            }
        }
        match i {
            None => write!(f, "...")?,
            Some(i) if axis + 1 == t.rank() => write!(f, "{:.4}", t.data()[offset + i])?,
            Some(i) => write_axis(f, t, axis + 1, offset + i * stride, indent)?,
        }
    }
    write!(f, "]")
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn prints_shape_and_values() {
        let t = Tensor::from_vec(vec![1.0, 2.5, -3.0, 4.0], [2, 2]);
        assert_eq!(
            format!("{t:?}"),
            "tensor([[1.0000, 2.5000],\n        [-3.0000, 4.0000]], shape=[2, 2])"
        );
        assert_eq!(
            format!("{}", Tensor::scalar(0.5)),
            "tensor(0.5000, shape=[])"
        );
    }

    #[test]
    fn long_axes_are_elided() {
        let s = format!("{:?}", Tensor::arange(0.0, 100.0, 1.0));
        assert_eq!(
            s,
            "tensor([0.0000, 1.0000, 2.0000, ..., 97.0000, 98.0000, 99.0000], shape=[100])"
        );
    }
}
