//! Reductions along one axis or over every element (sum, mean, max, min, argmax, argmin,
//! variance); `sum_to`, the adjoint of `broadcast_to` that autograd uses to undo broadcasting
//! in a backward pass; and softmax / log-softmax, made stable by subtracting the maximum.
//!
//! Every kernel views the input as `[outer, n, inner]` (the sizes before, at and after the
//! reduced axis) and loops so that the innermost loop walks contiguous memory: for `inner > 1`
//! whole rows of `inner` values are combined elementwise; for `inner == 1` each contiguous
//! run of `n` values is folded with several independent accumulators. Both forms vectorise.

use crate::error::shape_panic;
use crate::parallel::{parallel_pieces, threads_for};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// Independent partial sums (or running extremes) per run: enough to fill a vector register,
/// and they break the loop-carried dependency that would otherwise stop vectorisation.
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

/// The running maximum after seeing `v`. Once it is NaN it stays NaN (NaN propagates, as in
/// PyTorch). Written as one select so the loops over it vectorise: the stricter test in
/// [`beats_max`] halves the speed of `max`, and only the index ops need it.
#[inline]
fn keep_max(acc: f32, v: f32) -> f32 {
    if v > acc || v.is_nan() {
        v
    } else {
        acc
    }
}

/// The running minimum after seeing `v`; NaN propagates.
#[inline]
fn keep_min(acc: f32, v: f32) -> f32 {
    if v < acc || v.is_nan() {
        v
    } else {
        acc
    }
}

/// True when `v` should replace `best` as the maximum in `argmax`: larger, or the first NaN
/// (so the index is that of the first NaN, as in PyTorch).
#[inline]
fn beats_max(v: f32, best: f32) -> bool {
    v > best || (v.is_nan() && !best.is_nan())
}

/// True when `v` should replace `best` as the minimum in `argmin`: smaller, or the first NaN.
#[inline]
fn beats_min(v: f32, best: f32) -> bool {
    v < best || (v.is_nan() && !best.is_nan())
}

/// The extreme of a non-empty contiguous run under `keep` ([`keep_max`] or [`keep_min`]),
/// with [`LANES`] running extremes. Exact in any order (no rounding), so the lanes change
/// nothing but the speed.
#[inline]
fn lane_extreme(x: &[f32], keep: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [x[0]; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = keep(*a, v);
        }
    }
    acc.iter().chain(rest).fold(x[0], |m, &v| keep(m, v))
}

/// Extremes of `x` viewed as `[outer, n, inner]` along the middle axis (`n > 0`).
fn extreme_axis(
    x: &[f32],
    (outer, n, inner): (usize, usize, usize),
    keep: impl Fn(f32, f32) -> f32 + Copy,
) -> Vec<f32> {
    let mut out = vec![0.0; outer * inner];
    if out.is_empty() {
        return out;
    }
    if inner == 1 {
        for (o, row) in out.iter_mut().zip(x.chunks_exact(n)) {
            *o = lane_extreme(row, keep);
        }
    } else {
        for (acc, block) in out.chunks_exact_mut(inner).zip(x.chunks_exact(n * inner)) {
            acc.copy_from_slice(&block[..inner]);
            for row in block.chunks_exact(inner).skip(1) {
                for (a, &v) in acc.iter_mut().zip(row) {
                    *a = keep(*a, v);
                }
            }
        }
    }
    out
}

/// Index (along the middle axis, as `f32`) of the first extreme of `x` viewed as
/// `[outer, n, inner]` (`n > 0`).
fn arg_extreme_axis(
    x: &[f32],
    (outer, n, inner): (usize, usize, usize),
    beats: impl Fn(f32, f32) -> bool + Copy,
) -> Vec<f32> {
    let mut out = vec![0.0; outer * inner];
    if out.is_empty() {
        return out;
    }
    if inner == 1 {
        for (o, row) in out.iter_mut().zip(x.chunks_exact(n)) {
            let (mut best, mut at) = (row[0], 0);
            for (k, &v) in row.iter().enumerate().skip(1) {
                if beats(v, best) {
                    best = v;
                    at = k;
                }
            }
            *o = at as f32;
        }
    } else {
        let mut best = vec![0.0; inner];
        for (idx, block) in out.chunks_exact_mut(inner).zip(x.chunks_exact(n * inner)) {
            best.copy_from_slice(&block[..inner]);
            for (k, row) in block.chunks_exact(inner).enumerate().skip(1) {
                let k = k as f32;
                for ((b, i), &v) in best.iter_mut().zip(idx.iter_mut()).zip(row) {
                    if beats(v, *b) {
                        *b = v;
                        *i = k;
                    }
                }
            }
        }
    }
    out
}

/// `Σ (xᵢ − mean)² / (n − ddof)` of `x` viewed as `[outer, n, inner]` along the middle axis
/// (`n > 0`): the mean first, then the squared deviations (two passes, accurate when the
/// mean is large compared to the spread).
fn var_axis(x: &[f32], dims: (usize, usize, usize), ddof: usize) -> Vec<f32> {
    let (_, n, inner) = dims;
    let mut mean = sum_axis(x, dims);
    let inv_n = 1.0 / n as f32;
    for m in &mut mean {
        *m *= inv_n;
    }
    // n − ddof = 0 (one value, unbiased) gives 0/0 = NaN, as in PyTorch
    let denom = n as f32 - ddof as f32;
    let mut out = vec![0.0; mean.len()];
    if out.is_empty() {
        return out;
    }
    if inner == 1 {
        for ((o, row), &m) in out.iter_mut().zip(x.chunks_exact(n)).zip(&mean) {
            *o = sum_slice_by(row, |v| (v - m) * (v - m)) / denom;
        }
    } else {
        for ((acc, block), mrow) in out
            .chunks_exact_mut(inner)
            .zip(x.chunks_exact(n * inner))
            .zip(mean.chunks_exact(inner))
        {
            for row in block.chunks_exact(inner) {
                for ((a, &v), &m) in acc.iter_mut().zip(row).zip(mrow) {
                    *a += (v - m) * (v - m);
                }
            }
            for a in acc {
                *a /= denom;
            }
        }
    }
    out
}

/// Softmax (or log-softmax) of `x` viewed as `[outer, n, inner]` along the middle axis,
/// written into `out`. The maximum is subtracted first so `exp` never overflows:
/// softmax(x)ᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m), log_softmax(x)ᵢ = (xᵢ − m) − ln Σⱼ e^(xⱼ − m).
fn softmax_axis(x: &[f32], out: &mut [f32], (_, n, inner): (usize, usize, usize), log: bool) {
    if out.is_empty() {
        return;
    }
    if inner == 1 {
        for (orow, row) in out.chunks_exact_mut(n).zip(x.chunks_exact(n)) {
            let m = lane_extreme(row, keep_max);
            if log {
                let ln_s = sum_slice_by(row, |v| (v - m).exp()).ln();
                for (o, &v) in orow.iter_mut().zip(row) {
                    *o = (v - m) - ln_s;
                }
            } else {
                for (o, &v) in orow.iter_mut().zip(row) {
                    *o = (v - m).exp();
                }
                let inv = 1.0 / sum_slice(orow);
                for o in orow {
                    *o *= inv;
                }
            }
        }
        return;
    }
    // inner > 1: per-position maxima and sums, one row of `inner` at a time
    let (mut m, mut s) = (vec![0.0; inner], vec![0.0; inner]);
    for (oblock, block) in out
        .chunks_exact_mut(n * inner)
        .zip(x.chunks_exact(n * inner))
    {
        m.copy_from_slice(&block[..inner]);
        for row in block.chunks_exact(inner).skip(1) {
            for (a, &v) in m.iter_mut().zip(row) {
                *a = keep_max(*a, v);
            }
        }
        s.fill(0.0);
        for (orow, row) in oblock
            .chunks_exact_mut(inner)
            .zip(block.chunks_exact(inner))
        {
            for (((o, &v), &mm), ss) in orow.iter_mut().zip(row).zip(&m).zip(&mut s) {
                let e = (v - mm).exp();
                *ss += e;
                *o = e;
            }
        }
        if log {
            for ss in &mut s {
                *ss = ss.ln();
            }
            for (orow, row) in oblock
                .chunks_exact_mut(inner)
                .zip(block.chunks_exact(inner))
            {
                for (((o, &v), &mm), &ls) in orow.iter_mut().zip(row).zip(&m).zip(&s) {
                    *o = (v - mm) - ls;
                }
            }
        } else {
            for ss in &mut s {
                *ss = 1.0 / *ss;
            }
            for orow in oblock.chunks_exact_mut(inner) {
                for (o, &inv) in orow.iter_mut().zip(&s) {
                    *o *= inv;
                }
            }
        }
    }
}

/// Panics, naming `op`, if `axis` is not an axis or has size 0 (nothing to take a mean,
/// extreme or variance of). Returns the `[outer, n, inner]` view.
#[track_caller]
fn check_nonempty_axis(op: &str, shape: &Shape, axis: usize) -> (usize, usize, usize) {
    shape.check_axis(op, axis);
    if shape.dims()[axis] == 0 {
        shape_panic(
            op,
            format_args!("cannot reduce over axis {axis} of size 0 in shape {shape:?}"),
        );
    }
    split_at_axis(shape, axis)
}

/// Panics, naming `op`, if the tensor has no elements.
#[track_caller]
fn check_nonempty(op: &str, shape: &Shape) {
    if shape.numel() == 0 {
        shape_panic(
            op,
            format_args!("needs at least one element, shape {shape:?} has none"),
        );
    }
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

    /// The reduction `f` of the buffer, seen as `(outer, n, inner)` around `axis`, as a tensor
    /// of the reduced shape: the frame of every reduction that needs at least one element.
    #[track_caller]
    fn reduce_nonempty_axis(
        &self,
        op: &str,
        axis: usize,
        keepdim: bool,
        f: impl FnOnce(&[f32], (usize, usize, usize)) -> Vec<f32>,
    ) -> Tensor {
        let dims = check_nonempty_axis(op, self.shape(), axis);
        Tensor::from_vec(
            f(self.data(), dims),
            reduced_shape(self.shape(), axis, keepdim),
        )
    }

    /// Mean along `axis` (`keepdim` as in [`Tensor::sum`]).
    ///
    /// ```
    /// use tensor::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    /// assert_eq!(a.mean(1, false).to_vec(), vec![2.0, 5.0]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is not below the rank, or has size 0.
    #[track_caller]
    pub fn mean(&self, axis: usize, keepdim: bool) -> Tensor {
        self.reduce_nonempty_axis("mean", axis, keepdim, |x, dims| {
            let mut out = sum_axis(x, dims);
            let inv = 1.0 / dims.1 as f32;
            for v in &mut out {
                *v *= inv;
            }
            out
        })
    }

    /// Maximum along `axis` (`keepdim` as in [`Tensor::sum`]). NaN propagates, as in PyTorch.
    ///
    /// # Panics
    /// If `axis` is not below the rank, or has size 0.
    #[track_caller]
    pub fn max(&self, axis: usize, keepdim: bool) -> Tensor {
        self.reduce_nonempty_axis("max", axis, keepdim, |x, dims| {
            extreme_axis(x, dims, keep_max)
        })
    }

    /// Minimum along `axis` (`keepdim` as in [`Tensor::sum`]). NaN propagates, as in PyTorch.
    ///
    /// # Panics
    /// If `axis` is not below the rank, or has size 0.
    #[track_caller]
    pub fn min(&self, axis: usize, keepdim: bool) -> Tensor {
        self.reduce_nonempty_axis("min", axis, keepdim, |x, dims| {
            extreme_axis(x, dims, keep_min)
        })
    }

    /// Index of the maximum along `axis`, as a whole-number `f32`; the first one when
    /// several are equal, and the first NaN if there is one (PyTorch's `argmax`).
    ///
    /// ```
    /// use tensor::Tensor;
    /// let logits = Tensor::from_vec(vec![0.1, 2.0, -1.0, 3.0, 3.0, 0.0], [2, 3]);
    /// assert_eq!(logits.argmax(1, false).to_vec(), vec![1.0, 0.0]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is not below the rank, or has size 0.
    #[track_caller]
    pub fn argmax(&self, axis: usize, keepdim: bool) -> Tensor {
        self.reduce_nonempty_axis("argmax", axis, keepdim, |x, dims| {
            arg_extreme_axis(x, dims, beats_max)
        })
    }

    /// Index of the minimum along `axis`, as a whole-number `f32` (first one on ties, first
    /// NaN if any).
    ///
    /// # Panics
    /// If `axis` is not below the rank, or has size 0.
    #[track_caller]
    pub fn argmin(&self, axis: usize, keepdim: bool) -> Tensor {
        self.reduce_nonempty_axis("argmin", axis, keepdim, |x, dims| {
            arg_extreme_axis(x, dims, beats_min)
        })
    }

    /// Variance along `axis`: `Σ (xᵢ − x̄)² / (n − 1)` if `unbiased` (Bessel's correction,
    /// PyTorch's default), else `/ n`. Computed in two passes (mean first) for accuracy.
    /// With `unbiased` and a single value the result is NaN (0/0), as in PyTorch.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [1, 4]);
    /// assert_eq!(a.var(1, false, false).to_vec(), vec![1.25]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is not below the rank, or has size 0.
    #[track_caller]
    pub fn var(&self, axis: usize, unbiased: bool, keepdim: bool) -> Tensor {
        self.reduce_nonempty_axis("var", axis, keepdim, |x, dims| {
            var_axis(x, dims, usize::from(unbiased))
        })
    }

    /// Mean of every element.
    ///
    /// # Panics
    /// If the tensor is empty.
    #[track_caller]
    pub fn mean_all(&self) -> f32 {
        check_nonempty("mean_all", self.shape());
        self.sum_all() / self.numel() as f32
    }

    /// Largest element (NaN if any element is NaN).
    ///
    /// # Panics
    /// If the tensor is empty.
    #[track_caller]
    pub fn max_all(&self) -> f32 {
        check_nonempty("max_all", self.shape());
        lane_extreme(self.data(), keep_max)
    }

    /// Smallest element (NaN if any element is NaN).
    ///
    /// # Panics
    /// If the tensor is empty.
    #[track_caller]
    pub fn min_all(&self) -> f32 {
        check_nonempty("min_all", self.shape());
        lane_extreme(self.data(), keep_min)
    }

    /// Variance of every element (see [`Tensor::var`] for `unbiased`).
    ///
    /// # Panics
    /// If the tensor is empty.
    #[track_caller]
    pub fn var_all(&self, unbiased: bool) -> f32 {
        check_nonempty("var_all", self.shape());
        let n = self.numel();
        var_axis(self.data(), (1, n, 1), usize::from(unbiased))[0]
    }

    /// Softmax along `axis`: `softmax(x)ᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m)` with `m = maxⱼ xⱼ`,
    /// so that inputs like 1000 and −1000 give finite results. Each slice along `axis` sums
    /// to 1.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let p = Tensor::from_vec(vec![1000.0, 1000.0, -1000.0], [1, 3]).softmax(1);
    /// assert_eq!(p.to_vec(), vec![0.5, 0.5, 0.0]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is not below the rank.
    #[track_caller]
    pub fn softmax(&self, axis: usize) -> Tensor {
        self.shape().check_axis("softmax", axis);
        let mut out = vec![0.0; self.numel()];
        softmax_axis(
            self.data(),
            &mut out,
            split_at_axis(self.shape(), axis),
            false,
        );
        Tensor::from_vec(out, self.shape().clone())
    }

    /// Log-softmax along `axis`: `(xᵢ − m) − ln Σⱼ e^(xⱼ − m)` with `m = maxⱼ xⱼ`; finite
    /// where `softmax(x).ln()` would give −∞.
    ///
    /// # Panics
    /// If `axis` is not below the rank.
    #[track_caller]
    pub fn log_softmax(&self, axis: usize) -> Tensor {
        self.shape().check_axis("log_softmax", axis);
        let mut out = vec![0.0; self.numel()];
        softmax_axis(
            self.data(),
            &mut out,
            split_at_axis(self.shape(), axis),
            true,
        );
        Tensor::from_vec(out, self.shape().clone())
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
        let work = x.len();
        let pieces = threads_for(work, MIN_SUM_TO_PER_THREAD).min(out.len());
        if pieces <= 1 {
            accumulate_runs(x, &groups, &out_strides, 0, &mut out);
        } else {
            // Each piece of the output walks the whole input and adds only the runs that land
            // in it, in input order: every element gets the same additions in the same order
            // as on one thread, whatever the cut.
            let piece = out.len().div_ceil(pieces);
            parallel_pieces(&mut out, piece, |offset, part| {
                accumulate_runs(x, &groups, &out_strides, offset, part)
            });
        }
        Tensor::from_vec(out, target.clone())
    }
}

/// [`Tensor::sum_to`] spreads over the threads once each gets this many input elements.
const MIN_SUM_TO_PER_THREAD: usize = 1 << 17;

/// The loop of [`Tensor::sum_to`]: walks `x` in runs of the last group and adds each run into
/// the output elements it belongs to, keeping only those in `offset..offset + out.len()`
/// (`out` is that part of the output, zeroed). `groups` alternate kept and summed axes;
/// `out_strides` are the output strides of the kept ones (0 for summed).
fn accumulate_runs(
    x: &[f32],
    groups: &[(usize, bool)],
    out_strides: &[usize],
    offset: usize,
    out: &mut [f32],
) {
    let g = groups.len();
    let (last, last_summed) = groups[g - 1];
    let end = offset + out.len();
    let mut index = vec![0; g - 1];
    let (mut pos, mut o) = (0, 0);
    loop {
        let run = &x[pos..pos + last];
        if last_summed {
            if (offset..end).contains(&o) {
                out[o - offset] += sum_slice(run);
            }
        } else {
            // the run adds into out[o..o + last]; keep the part inside this piece
            let (lo, hi) = (o.max(offset), (o + last).min(end));
            if lo < hi {
                add_into(&mut out[lo - offset..hi - offset], &run[lo - o..hi - o]);
            }
        }
        pos += last;
        // advance the outer groups like an odometer
        let mut k = g - 1;
        loop {
            if k == 0 {
                return;
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

#[cfg(test)]
mod tests;
