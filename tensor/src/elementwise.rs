//! Elementwise kernels: binary ops with NumPy/PyTorch broadcasting, unary maps, scalar
//! variants, comparisons that produce 0/1 masks, and the in-place updates optimizers use.
//! Operator overloading (`&a + &b`, `&a * 2.0`, `-&a`) is at the end of the file; it is
//! implemented for references only, so `a.add(&b)` always means the inherent method.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::error::shape_panic;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// Strides with which `shape` is read when broadcast to `out`: 0 on every axis that is
/// stretched (size 1 in `shape`, or missing in front).
///
/// # Panics
/// If `shape` does not broadcast to `out`.
#[track_caller]
pub fn broadcast_strides(shape: &Shape, out: &Shape) -> Vec<usize> {
    let (r, ro) = (shape.rank(), out.rank());
    if r > ro {
        shape_panic(
            "broadcast_to",
            format_args!("cannot broadcast {shape:?} to {out:?}"),
        );
    }
    let own = shape.strides();
    let mut strides = vec![0; ro];
    for i in 0..r {
        let (d, o) = (shape.dims()[i], out.dims()[ro - r + i]);
        if d == o {
            strides[ro - r + i] = own[i];
        } else if d != 1 {
            shape_panic(
                "broadcast_to",
                format_args!("cannot broadcast {shape:?} to {out:?}"),
            );
        }
    }
    strides
}

/// Visits every element of `out` in row-major order, handing `f` the output position and
/// the offsets into inputs read with `strides` (one stride list per input, see
/// [`broadcast_strides`]). The innermost axis is a tight loop.
pub(crate) fn for_each_broadcast<const N: usize>(
    out: &Shape,
    strides: [&[usize]; N],
    mut f: impl FnMut(usize, [usize; N]),
) {
    let dims = out.dims();
    if out.numel() == 0 {
        return;
    }
    if dims.is_empty() {
        f(0, [0; N]);
        return;
    }
    let r = dims.len();
    let inner = dims[r - 1];
    let inner_strides: [usize; N] = std::array::from_fn(|k| strides[k][r - 1]);
    let mut index = vec![0usize; r - 1];
    let mut base = [0usize; N];
    let mut pos = 0;
    loop {
        for i in 0..inner {
            f(
                pos + i,
                std::array::from_fn(|k| base[k] + i * inner_strides[k]),
            );
        }
        pos += inner;
        // advance the outer multi-index like an odometer
        let mut axis = r - 1;
        loop {
            if axis == 0 {
                return;
            }
            axis -= 1;
            index[axis] += 1;
            for k in 0..N {
                base[k] += strides[k][axis];
            }
            if index[axis] < dims[axis] {
                break;
            }
            for k in 0..N {
                base[k] -= strides[k][axis] * dims[axis];
            }
            index[axis] = 0;
        }
    }
}

/// Applies `f` to each pair of elements of `a` and `b` broadcast together.
///
/// # Panics
/// If the shapes cannot broadcast; the message names `op` and both shapes.
#[track_caller]
pub fn zip_with(a: &Tensor, b: &Tensor, op: &str, f: impl Fn(f32, f32) -> f32) -> Tensor {
    let (x, y) = (a.data(), b.data());
    // fast paths: equal shapes, or one side a single value
    if a.shape() == b.shape() {
        let data = x.iter().zip(y).map(|(&p, &q)| f(p, q)).collect();
        return Tensor::from_vec(data, a.shape().clone());
    }
    let out = a.shape().broadcast(b.shape(), op);
    if b.numel() == 1 && &out == a.shape() {
        let q = y[0];
        return Tensor::from_vec(x.iter().map(|&p| f(p, q)).collect(), out);
    }
    if a.numel() == 1 && &out == b.shape() {
        let p = x[0];
        return Tensor::from_vec(y.iter().map(|&q| f(p, q)).collect(), out);
    }
    let (sa, sb) = (
        broadcast_strides(a.shape(), &out),
        broadcast_strides(b.shape(), &out),
    );
    let mut data = vec![0.0; out.numel()];
    for_each_broadcast(&out, [&sa, &sb], |i, [ia, ib]| data[i] = f(x[ia], y[ib]));
    Tensor::from_vec(data, out)
}

impl Tensor {
    /// A new tensor with `f` applied to every element.
    pub fn map(&self, f: impl Fn(f32) -> f32) -> Tensor {
        Tensor::from_vec(
            self.data().iter().map(|&v| f(v)).collect(),
            self.shape().clone(),
        )
    }

    /// Applies `f` to every element in place (copy-on-write).
    pub fn map_(&mut self, f: impl Fn(f32) -> f32) {
        for v in self.data_mut() {
            *v = f(*v);
        }
    }

    /// `self + other`, broadcasting.
    #[track_caller]
    pub fn add(&self, other: &Tensor) -> Tensor {
        zip_with(self, other, "add", |a, b| a + b)
    }

    /// `self - other`, broadcasting.
    #[track_caller]
    pub fn sub(&self, other: &Tensor) -> Tensor {
        zip_with(self, other, "sub", |a, b| a - b)
    }

    /// `self * other` elementwise, broadcasting.
    #[track_caller]
    pub fn mul(&self, other: &Tensor) -> Tensor {
        zip_with(self, other, "mul", |a, b| a * b)
    }

    /// `self / other` elementwise, broadcasting.
    #[track_caller]
    pub fn div(&self, other: &Tensor) -> Tensor {
        zip_with(self, other, "div", |a, b| a / b)
    }

    /// `self ^ other` elementwise (`powf`), broadcasting.
    #[track_caller]
    pub fn pow(&self, other: &Tensor) -> Tensor {
        zip_with(self, other, "pow", f32::powf)
    }

    /// The larger of each pair, broadcasting (PyTorch's `torch.maximum`). NaN wins, as in PyTorch.
    #[track_caller]
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        zip_with(self, other, "maximum", |a, b| {
            if a.is_nan() || a >= b {
                a
            } else {
                b
            }
        })
    }

    /// The smaller of each pair, broadcasting (PyTorch's `torch.minimum`). NaN wins, as in PyTorch.
    #[track_caller]
    pub fn minimum(&self, other: &Tensor) -> Tensor {
        zip_with(self, other, "minimum", |a, b| {
            if a.is_nan() || a <= b {
                a
            } else {
                b
            }
        })
    }

    /// `-self`.
    pub fn neg(&self) -> Tensor {
        self.map(|v| -v)
    }

    /// `e^self`.
    pub fn exp(&self) -> Tensor {
        self.map(f32::exp)
    }

    /// Natural logarithm.
    pub fn ln(&self) -> Tensor {
        self.map(f32::ln)
    }

    /// Square root.
    pub fn sqrt(&self) -> Tensor {
        self.map(f32::sqrt)
    }

    /// Absolute value.
    pub fn abs(&self) -> Tensor {
        self.map(f32::abs)
    }

    /// `self + s` for a scalar `s`.
    pub fn add_scalar(&self, s: f32) -> Tensor {
        self.map(|v| v + s)
    }

    /// `self - s` for a scalar `s`.
    pub fn sub_scalar(&self, s: f32) -> Tensor {
        self.map(|v| v - s)
    }

    /// `self * s` for a scalar `s`.
    pub fn mul_scalar(&self, s: f32) -> Tensor {
        self.map(|v| v * s)
    }

    /// `self / s` for a scalar `s`.
    pub fn div_scalar(&self, s: f32) -> Tensor {
        self.map(|v| v / s)
    }

    /// `self ^ s` for a scalar exponent `s`.
    pub fn pow_scalar(&self, s: f32) -> Tensor {
        if s == 2.0 {
            self.map(|v| v * v)
        } else {
            self.map(|v| v.powf(s))
        }
    }

    /// Each element limited to `[min, max]`.
    pub fn clamp(&self, min: f32, max: f32) -> Tensor {
        self.map(|v| v.max(min).min(max))
    }

    /// 1.0 where `self == other`, else 0.0 (broadcasting).
    #[track_caller]
    pub fn eq_mask(&self, other: &Tensor) -> Tensor {
        zip_with(self, other, "eq", |a, b| f32::from(a == b))
    }

    /// 1.0 where `self != other`, else 0.0 (broadcasting).
    #[track_caller]
    pub fn ne_mask(&self, other: &Tensor) -> Tensor {
        zip_with(self, other, "ne", |a, b| f32::from(a != b))
    }

    /// 1.0 where `self < other`, else 0.0 (broadcasting).
    #[track_caller]
    pub fn lt_mask(&self, other: &Tensor) -> Tensor {
        zip_with(self, other, "lt", |a, b| f32::from(a < b))
    }

    /// 1.0 where `self <= other`, else 0.0 (broadcasting).
    #[track_caller]
    pub fn le_mask(&self, other: &Tensor) -> Tensor {
        zip_with(self, other, "le", |a, b| f32::from(a <= b))
    }

    /// 1.0 where `self > other`, else 0.0 (broadcasting).
    #[track_caller]
    pub fn gt_mask(&self, other: &Tensor) -> Tensor {
        zip_with(self, other, "gt", |a, b| f32::from(a > b))
    }

    /// 1.0 where `self >= other`, else 0.0 (broadcasting).
    #[track_caller]
    pub fn ge_mask(&self, other: &Tensor) -> Tensor {
        zip_with(self, other, "ge", |a, b| f32::from(a >= b))
    }

    /// Picks `a` where `self` (the condition) is non-zero, else `b`; all three broadcast.
    #[track_caller]
    pub fn where_(&self, a: &Tensor, b: &Tensor) -> Tensor {
        let out = self
            .shape()
            .broadcast(a.shape(), "where_")
            .broadcast(b.shape(), "where_");
        let (sc, sa, sb) = (
            broadcast_strides(self.shape(), &out),
            broadcast_strides(a.shape(), &out),
            broadcast_strides(b.shape(), &out),
        );
        let (c, x, y) = (self.data(), a.data(), b.data());
        let mut data = vec![0.0; out.numel()];
        for_each_broadcast(&out, [&sc, &sa, &sb], |i, [ic, ia, ib]| {
            data[i] = if c[ic] != 0.0 { x[ia] } else { y[ib] };
        });
        Tensor::from_vec(data, out)
    }

    /// `self` stretched to `shape` by broadcasting (a copy).
    ///
    /// # Panics
    /// If `self` does not broadcast to `shape`.
    #[track_caller]
    pub fn broadcast_to(&self, shape: impl Into<Shape>) -> Tensor {
        let out = shape.into();
        if &out == self.shape() {
            return self.clone();
        }
        let s = broadcast_strides(self.shape(), &out);
        let x = self.data();
        let mut data = vec![0.0; out.numel()];
        for_each_broadcast(&out, [&s], |i, [j]| data[i] = x[j]);
        Tensor::from_vec(data, out)
    }

    /// `self += alpha * other` in place; `other` must have the same shape. The optimizer's
    /// update (`p -= lr * g` is `p.add_scaled_(&g, -lr)`).
    ///
    /// # Panics
    /// If the shapes differ.
    #[track_caller]
    pub fn add_scaled_(&mut self, other: &Tensor, alpha: f32) {
        self.check_same_shape("add_scaled_", other);
        for (a, &b) in self.data_mut().iter_mut().zip(other.data()) {
            *a += alpha * b;
        }
    }

    /// `self += other` in place; `other` must have the same shape (gradient accumulation).
    #[track_caller]
    pub fn add_(&mut self, other: &Tensor) {
        self.check_same_shape("add_", other);
        for (a, &b) in self.data_mut().iter_mut().zip(other.data()) {
            *a += b;
        }
    }

    /// `self *= s` in place.
    pub fn mul_scalar_(&mut self, s: f32) {
        for a in self.data_mut() {
            *a *= s;
        }
    }

    /// Sets every element to `value` in place.
    pub fn fill_(&mut self, value: f32) {
        self.data_mut().fill(value);
    }

    /// `self = f(self, other)` elementwise in place; same shapes.
    #[track_caller]
    pub fn zip_map_(&mut self, other: &Tensor, f: impl Fn(f32, f32) -> f32) {
        self.check_same_shape("zip_map_", other);
        for (a, &b) in self.data_mut().iter_mut().zip(other.data()) {
            *a = f(*a, b);
        }
    }

    #[track_caller]
    fn check_same_shape(&self, op: &str, other: &Tensor) {
        if self.shape() != other.shape() {
            shape_panic(
                op,
                format_args!(
                    "shapes must be equal: {:?} and {:?}",
                    self.shape(),
                    other.shape()
                ),
            );
        }
    }
}

macro_rules! binary_operator {
    ($trait:ident, $method:ident, $scalar:ident) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$method(self, rhs)
            }
        }
        impl $trait<f32> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f32) -> Tensor {
                self.$scalar(rhs)
            }
        }
    };
}

binary_operator!(Add, add, add_scalar);
binary_operator!(Sub, sub, sub_scalar);
binary_operator!(Mul, mul, mul_scalar);
binary_operator!(Div, div, div_scalar);

impl Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(data: &[f32], shape: &[usize]) -> Tensor {
        Tensor::from_vec(data.to_vec(), shape)
    }

    #[test]
    fn broadcasting_row_column_and_scalar() {
        let a = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
        assert_eq!(
            (&a + &t(&[10., 20., 30.], &[3])).to_vec(),
            vec![11., 22., 33., 14., 25., 36.]
        );
        assert_eq!(
            (&a * &t(&[2., 3.], &[2, 1])).to_vec(),
            vec![2., 4., 6., 12., 15., 18.]
        );
        assert_eq!(
            (&a - &Tensor::scalar(1.0)).to_vec(),
            vec![0., 1., 2., 3., 4., 5.]
        );
        let col = t(&[1., 2.], &[2, 1]);
        let row = t(&[10., 20., 30.], &[1, 3]);
        let outer = &col + &row;
        assert_eq!(outer.dims(), &[2, 3]);
        assert_eq!(outer.to_vec(), vec![11., 21., 31., 12., 22., 32.]);
    }

    #[test]
    fn broadcasting_middle_axis_and_rank_3() {
        let a = Tensor::arange(0.0, 12.0, 1.0).reshape([2, 3, 2]);
        let b = t(&[100., 200.], &[2, 1, 1]);
        let c = &a + &b;
        assert_eq!(c.get(&[0, 2, 1]), 105.0);
        assert_eq!(c.get(&[1, 0, 0]), 206.0);
        let m = t(&[1., 0., -1.], &[3, 1]);
        let d = &a * &m;
        assert_eq!(d.get(&[1, 2, 1]), -11.0);
        assert_eq!(d.get(&[1, 1, 0]), 0.0);
    }

    #[test]
    fn empty_and_single_element() {
        let e = Tensor::zeros([0, 3]);
        assert_eq!((&e + &t(&[1., 2., 3.], &[3])).dims(), &[0, 3]);
        assert_eq!((&Tensor::scalar(2.0) * &Tensor::scalar(3.0)).item(), 6.0);
        assert_eq!(
            (&t(&[2.0], &[1]) / &t(&[4., 8.], &[2])).to_vec(),
            vec![0.5, 0.25]
        );
    }

    #[test]
    #[should_panic(expected = "mul: shapes cannot broadcast: [2, 3] and [2]")]
    fn mismatched_shapes_panic() {
        let _ = &Tensor::zeros([2, 3]) * &Tensor::zeros([2]);
    }

    #[test]
    fn unary_and_scalar_ops() {
        let a = t(&[-1.0, 0.0, 4.0], &[3]);
        assert_eq!(a.neg().to_vec(), vec![1.0, -0.0, -4.0]);
        assert_eq!(a.abs().to_vec(), vec![1.0, 0.0, 4.0]);
        assert_eq!(t(&[4.0, 9.0], &[2]).sqrt().to_vec(), vec![2.0, 3.0]);
        assert_eq!(t(&[0.0], &[1]).exp().to_vec(), vec![1.0]);
        assert_eq!(t(&[1.0], &[1]).ln().to_vec(), vec![0.0]);
        assert_eq!((&a * 2.0).to_vec(), vec![-2.0, 0.0, 8.0]);
        assert_eq!((&a + 1.0).to_vec(), vec![0.0, 1.0, 5.0]);
        assert_eq!(a.pow_scalar(2.0).to_vec(), vec![1.0, 0.0, 16.0]);
        assert_eq!(
            t(&[2.0, 3.0], &[2]).pow(&t(&[3.0, 2.0], &[2])).to_vec(),
            vec![8.0, 9.0]
        );
        assert_eq!(a.clamp(-0.5, 1.0).to_vec(), vec![-0.5, 0.0, 1.0]);
        assert_eq!(a.map(|v| v * 10.0).to_vec(), vec![-10.0, 0.0, 40.0]);
    }

    #[test]
    fn max_min_and_masks() {
        let a = t(&[1.0, 5.0, 3.0], &[3]);
        let b = t(&[2.0, 4.0, 3.0], &[3]);
        assert_eq!(a.maximum(&b).to_vec(), vec![2.0, 5.0, 3.0]);
        assert_eq!(a.minimum(&b).to_vec(), vec![1.0, 4.0, 3.0]);
        assert_eq!(a.gt_mask(&b).to_vec(), vec![0.0, 1.0, 0.0]);
        assert_eq!(a.ge_mask(&b).to_vec(), vec![0.0, 1.0, 1.0]);
        assert_eq!(a.lt_mask(&b).to_vec(), vec![1.0, 0.0, 0.0]);
        assert_eq!(a.le_mask(&b).to_vec(), vec![1.0, 0.0, 1.0]);
        assert_eq!(a.eq_mask(&b).to_vec(), vec![0.0, 0.0, 1.0]);
        assert_eq!(a.ne_mask(&b).to_vec(), vec![1.0, 1.0, 0.0]);
        let nan = t(&[f32::NAN], &[1]);
        assert!(nan.maximum(&t(&[1.0], &[1])).item().is_nan());
        let cond = t(&[1.0, 0.0], &[2, 1]);
        let w = cond.where_(&t(&[1., 2., 3.], &[3]), &Tensor::scalar(-1.0));
        assert_eq!(w.to_vec(), vec![1., 2., 3., -1., -1., -1.]);
    }

    #[test]
    fn broadcast_to_copies() {
        let b = t(&[1.0, 2.0], &[2, 1]).broadcast_to([2, 3]);
        assert_eq!(b.to_vec(), vec![1., 1., 1., 2., 2., 2.]);
        assert_eq!(
            Tensor::scalar(7.0).broadcast_to([2]).to_vec(),
            vec![7.0, 7.0]
        );
    }

    #[test]
    #[should_panic(expected = "broadcast_to: cannot broadcast [3] to [2, 2]")]
    fn broadcast_to_checks() {
        Tensor::zeros([3]).broadcast_to([2, 2]);
    }

    #[test]
    fn in_place_updates() {
        let mut p = t(&[1.0, 2.0], &[2]);
        let shared = p.clone();
        p.add_scaled_(&t(&[10.0, 20.0], &[2]), -0.1);
        assert_eq!(p.to_vec(), vec![0.0, 0.0]);
        assert_eq!(
            shared.to_vec(),
            vec![1.0, 2.0],
            "a clone is not changed (copy-on-write)"
        );
        p.add_(&t(&[1.0, 1.0], &[2]));
        p.mul_scalar_(3.0);
        assert_eq!(p.to_vec(), vec![3.0, 3.0]);
        p.fill_(0.5);
        p.map_(|v| v * 2.0);
        p.zip_map_(&t(&[1.0, 2.0], &[2]), |a, b| a + b);
        assert_eq!(p.to_vec(), vec![2.0, 3.0]);
    }

    #[test]
    #[should_panic(expected = "add_scaled_: shapes must be equal: [2] and [3]")]
    fn in_place_checks_shape() {
        Tensor::zeros([2]).add_scaled_(&Tensor::zeros([3]), 1.0);
    }
}
