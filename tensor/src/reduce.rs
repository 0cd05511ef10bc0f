//! Reductions: sums along one axis or over everything, and `sum_to`, the adjoint of
//! `broadcast_to` that autograd uses to undo broadcasting in a backward pass.
//!
//! Every kernel views the input as `[outer, n, inner]` (the sizes before, at and after the
//! reduced axis) and loops so that the innermost loop walks contiguous memory: for `inner > 1`
//! whole rows of `inner` values are combined elementwise; for `inner == 1` each contiguous
//! run of `n` values is folded with several independent accumulators. Both forms vectorise.

use crate::error::shape_panic;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// Independent partial sums in [`lane_sum_by`]: enough to fill a vector register, and they
/// break the loop-carried dependency that would otherwise stop vectorisation.
const LANES: usize = 8;

/// Runs longer than this are summed block by block and the block sums added in `f64`, so the
/// rounding error of a long sum does not grow with its length.
const BLOCK: usize = 4096;

/// `Σ f(xᵢ)` over a short run, with [`LANES`] partial sums.
#[inline]
fn lane_sum_by(x: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f(v);
        }
    }
    let mut total = 0.0;
    for &v in rest {
        total += f(v);
    }
    // pairwise combination of the lanes
    let (lo, hi) = acc.split_at(LANES / 2);
    let mut half = [0.0f32; LANES / 2];
    for ((h, &a), &b) in half.iter_mut().zip(lo).zip(hi) {
        *h = a + b;
    }
    total + (half[0] + half[2]) + (half[1] + half[3])
}

/// `Σ f(xᵢ)` over a contiguous run of any length (blocked, see [`BLOCK`]).
#[inline]
pub(crate) fn sum_slice_by(x: &[f32], f: impl Fn(f32) -> f32 + Copy) -> f32 {
    if x.len() <= BLOCK {
        lane_sum_by(x, f)
    } else {
        x.chunks(BLOCK)
            .map(|c| f64::from(lane_sum_by(c, f)))
            .sum::<f64>() as f32
    }
}

/// `Σ xᵢ` over a contiguous run.
#[inline]
pub(crate) fn sum_slice(x: &[f32]) -> f32 {
    sum_slice_by(x, |v| v)
}

/// `acc += row`, elementwise.
#[inline]
fn add_into(acc: &mut [f32], row: &[f32]) {
    for (a, &v) in acc.iter_mut().zip(row) {
        *a += v;
    }
}

/// `(outer, n, inner)`: the element counts before, at and after `axis`.
fn split_at_axis(shape: &Shape, axis: usize) -> (usize, usize, usize) {
    let d = shape.dims();
    (
        d[..axis].iter().product(),
        d[axis],
        d[axis + 1..].iter().product(),
    )
}

/// The shape after reducing `axis`: that axis becomes 1 (`keepdim`) or disappears.
fn reduced_shape(shape: &Shape, axis: usize, keepdim: bool) -> Shape {
    let mut d = shape.dims().to_vec();
    if keepdim {
        d[axis] = 1;
    } else {
        d.remove(axis);
    }
    Shape::new(d)
}

/// Sums of `x` viewed as `[outer, n, inner]` along the middle axis: `outer · inner` values.
fn sum_axis(x: &[f32], (outer, n, inner): (usize, usize, usize)) -> Vec<f32> {
    let mut out = vec![0.0; outer * inner];
    if out.is_empty() || n == 0 {
        return out;
    }
    if inner == 1 {
        for (o, row) in out.iter_mut().zip(x.chunks_exact(n)) {
            *o = sum_slice(row);
        }
    } else {
        for (acc, block) in out.chunks_exact_mut(inner).zip(x.chunks_exact(n * inner)) {
            for row in block.chunks_exact(inner) {
                add_into(acc, row);
            }
        }
    }
    out
}

impl Tensor {
    /// Sum along `axis`; with `keepdim` the axis stays with size 1, otherwise it is removed.
    /// Summing an axis of size 0 gives zeros.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    /// assert_eq!(a.sum(0, false).to_vec(), vec![5.0, 7.0, 9.0]);
    /// assert_eq!(a.sum(1, true).dims(), &[2, 1]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is not below the rank.
    #[track_caller]
    pub fn sum(&self, axis: usize, keepdim: bool) -> Tensor {
        self.shape().check_axis("sum", axis);
        let out = sum_axis(self.data(), split_at_axis(self.shape(), axis));
        Tensor::from_vec(out, reduced_shape(self.shape(), axis, keepdim))
    }

    /// Sum of every element (0 for an empty tensor).
    pub fn sum_all(&self) -> f32 {
        sum_slice(self.data())
    }

    /// Sums over the axes that broadcasting would stretch so that the result has shape
    /// `target`: the adjoint of [`Tensor::broadcast_to`]. For every `x` of shape `target` and
    /// `g` of shape `self.shape()`, `⟨x.broadcast_to(g.shape()), g⟩ = ⟨x, g.sum_to(target)⟩`,
    /// which is why autograd sends a broadcast input's gradient through it.
    ///
    /// Leading axes missing from `target` are summed away; axes where `target` has size 1 and
    /// `self` does not are summed with the size-1 axis kept.
    ///
    /// ```
    /// use tensor::{Shape, Tensor};
    /// let g = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    /// assert_eq!(g.sum_to(&Shape::from([3])).to_vec(), vec![5.0, 7.0, 9.0]);
    /// assert_eq!(g.sum_to(&Shape::from([2, 1])).to_vec(), vec![6.0, 15.0]);
    /// assert_eq!(g.sum_to(&Shape::scalar()).item(), 21.0);
    /// ```
    ///
    /// # Panics
    /// If `target` does not broadcast to `self.shape()`.
    #[track_caller]
    pub fn sum_to(&self, target: &Shape) -> Tensor {
        let src = self.shape();
        if src == target {
            return self.clone();
        }
        let (r, rt) = (src.rank(), target.rank());
        let fits = rt <= r
            && target
                .dims()
                .iter()
                .zip(&src.dims()[r - rt..])
                .all(|(&t, &s)| t == s || t == 1);
        if !fits {
            shape_panic(
                "sum_to",
                format_args!(
                    "cannot sum {src:?} to {target:?}: {target:?} does not broadcast to {src:?}"
                ),
            );
        }
        let x = self.data();
        let mut out = vec![0.0; target.numel()];
        if x.is_empty() {
            return Tensor::from_vec(out, target.clone());
        }
        // Merge neighbouring axes that are all kept or all summed into one group each (size-1
        // axes drop out), so the loop below only sees alternating kept/summed groups.
        let lead = r - rt;
        let mut groups: Vec<(usize, bool)> = Vec::with_capacity(r);
        for (i, &s) in src.dims().iter().enumerate() {
            if s == 1 {
                continue;
            }
            let summed = i < lead || target.dims()[i - lead] == 1;
            match groups.last_mut() {
                Some((size, g)) if *g == summed => *size *= s,
                _ => groups.push((s, summed)),
            }
        }
        if groups.is_empty() {
            // every axis has size 1: only the rank differs
            out.copy_from_slice(x);
            return Tensor::from_vec(out, target.clone());
        }
        // Output strides per group: kept groups are contiguous in order, summed groups stay put.
        let g = groups.len();
        let mut out_strides = vec![0; g];
        let mut stride = 1;
        for k in (0..g).rev() {
            if !groups[k].1 {
                out_strides[k] = stride;
                stride *= groups[k].0;
            }
        }
        let (last, last_summed) = groups[g - 1];
        let mut index = vec![0; g - 1];
        let (mut pos, mut o) = (0, 0);
        loop {
            let run = &x[pos..pos + last];
            if last_summed {
                out[o] += sum_slice(run);
            } else {
                add_into(&mut out[o..o + last], run);
            }
            pos += last;
            // advance the outer groups like an odometer
            let mut k = g - 1;
            loop {
                if k == 0 {
                    return Tensor::from_vec(out, target.clone());
                }
                k -= 1;
                index[k] += 1;
                o += out_strides[k];
                if index[k] < groups[k].0 {
                    break;
                }
                o -= out_strides[k] * groups[k].0;
                index[k] = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(data: &[f32], shape: &[usize]) -> Tensor {
        Tensor::from_vec(data.to_vec(), shape)
    }

    /// Reference `sum_to`: add every element into the target position it broadcasts from.
    fn naive_sum_to(x: &Tensor, target: &Shape) -> Vec<f32> {
        let strides = crate::broadcast_strides(target, x.shape());
        let mut out = vec![0.0; target.numel()];
        let dims = x.dims();
        for (flat, &v) in x.data().iter().enumerate() {
            let mut rem = flat;
            let mut off = 0;
            for a in (0..dims.len()).rev() {
                off += (rem % dims[a]) * strides[a];
                rem /= dims[a];
            }
            out[off] += v;
        }
        out
    }

    #[test]
    fn sum_along_each_axis() {
        let a = Tensor::arange(0.0, 24.0, 1.0).reshape([2, 3, 4]);
        let s0 = a.sum(0, false);
        assert_eq!(s0.dims(), &[3, 4]);
        assert_eq!(s0.get(&[0, 0]), 12.0);
        assert_eq!(s0.get(&[2, 3]), 11.0 + 23.0);
        let s1 = a.sum(1, true);
        assert_eq!(s1.dims(), &[2, 1, 4]);
        assert_eq!(s1.get(&[0, 0, 0]), 0.0 + 4.0 + 8.0);
        assert_eq!(s1.get(&[1, 0, 3]), 15.0 + 19.0 + 23.0);
        let s2 = a.sum(2, false);
        assert_eq!(s2.to_vec(), vec![6.0, 22.0, 38.0, 54.0, 70.0, 86.0]);
    }

    #[test]
    fn sum_edge_cases() {
        assert_eq!(Tensor::zeros([2, 0]).sum(1, false).to_vec(), vec![0.0, 0.0]);
        assert_eq!(Tensor::zeros([0, 3]).sum(1, false).dims(), &[0]);
        assert_eq!(t(&[5.0], &[1]).sum(0, false).dims(), &[] as &[usize]);
        assert_eq!(t(&[5.0], &[1]).sum(0, false).item(), 5.0);
        assert_eq!(Tensor::scalar(3.0).sum_all(), 3.0);
        assert_eq!(Tensor::zeros([0]).sum_all(), 0.0);
        // long runs use several lanes and blocks; 1..=10000 sums exactly in f32
        let long = Tensor::arange(1.0, 10001.0, 1.0);
        assert_eq!(long.sum_all(), 50_005_000.0);
        assert_eq!(long.reshape([1, 10000]).sum(1, false).item(), 50_005_000.0);
    }

    #[test]
    #[should_panic(expected = "sum: axis 2 is out of range for shape [2, 3] (rank 2)")]
    fn sum_checks_axis() {
        Tensor::zeros([2, 3]).sum(2, false);
    }

    #[test]
    fn sum_to_undoes_broadcasting() {
        let g = Tensor::arange(0.0, 24.0, 1.0).reshape([2, 3, 4]);
        // leading axis missing
        assert_eq!(
            g.sum_to(&Shape::from([3, 4])).to_vec(),
            g.sum(0, false).to_vec()
        );
        // middle axis of size 1, both outer axes kept
        let m = g.sum_to(&Shape::from([2, 1, 4]));
        assert_eq!(m.dims(), &[2, 1, 4]);
        assert_eq!(m.to_vec(), g.sum(1, true).to_vec());
        // last axis of size 1 plus missing leading axis
        let c = g.sum_to(&Shape::from([3, 1]));
        assert_eq!(
            c.to_vec(),
            vec![
                0. + 1. + 2. + 3. + 12. + 13. + 14. + 15.,
                4. + 5. + 6. + 7. + 16. + 17. + 18. + 19.,
                8. + 9. + 10. + 11. + 20. + 21. + 22. + 23.,
            ]
        );
        // everything
        assert_eq!(g.sum_to(&Shape::scalar()).item(), 276.0);
        assert_eq!(g.sum_to(&Shape::from([1, 1, 1])).dims(), &[1, 1, 1]);
        assert_eq!(g.sum_to(&Shape::from([1, 1, 1])).item(), 276.0);
        // alternating kept and summed axes
        let a = Tensor::arange(0.0, 120.0, 1.0).reshape([2, 3, 4, 5]);
        for target in [[1, 3, 1, 5], [2, 1, 4, 1], [1, 3, 4, 1], [2, 1, 1, 5]] {
            let target = Shape::from(target);
            assert_eq!(a.sum_to(&target).to_vec(), naive_sum_to(&a, &target));
        }
    }

    #[test]
    fn sum_to_edge_cases() {
        let g = t(&[1.0, 2.0, 3.0], &[3]);
        assert!(g.sum_to(&Shape::from([3])).shares_buffer(&g));
        // only the rank differs
        assert_eq!(
            t(&[4.0], &[1, 1]).sum_to(&Shape::scalar()).to_vec(),
            vec![4.0]
        );
        assert_eq!(Tensor::scalar(4.0).sum_to(&Shape::scalar()).item(), 4.0);
        // empty input: summing nothing gives zeros of the target shape
        assert_eq!(
            Tensor::zeros([0, 3]).sum_to(&Shape::from([1, 3])).to_vec(),
            vec![0.0; 3]
        );
        assert_eq!(Tensor::zeros([2, 0]).sum_to(&Shape::from([0])).numel(), 0);
    }

    #[test]
    #[should_panic(expected = "sum_to: cannot sum [2, 3] to [2]: [2] does not broadcast to [2, 3]")]
    fn sum_to_checks_shapes() {
        Tensor::zeros([2, 3]).sum_to(&Shape::from([2]));
    }
}
