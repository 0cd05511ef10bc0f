//! 2-D max and average pooling on NCHW tensors, forward and backward. The windows are walked
//! with the convolution's geometry (`conv::Geom`): a pooling is a convolution window with dilation
//! 1 that takes a maximum or a mean instead of a dot product.

use std::mem::MaybeUninit;

use crate::conv::{check_grad_out, Conv2dParams, Geom};
use crate::error::shape_panic;
#[cfg(target_arch = "x86_64")]
use crate::isa::{isa, Isa};
use crate::parallel::{parallel_pieces, threads_for, SharedMut};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// Window size, stride and padding of a 2-D pooling, each as `(height, width)`.
///
/// As in PyTorch, the padding must be at most half the kernel size, so every window holds at
/// least one real input element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pool2dParams {
    /// Window size `(kh, kw)`; at least 1.
    pub kernel: (usize, usize),
    /// Step between neighbouring windows, `(sh, sw)`; at least 1.
    pub stride: (usize, usize),
    /// Padding on each side, `(ph, pw)`: −∞ for max pooling, zeros for average pooling.
    pub padding: (usize, usize),
}

impl Pool2dParams {
    /// Non-overlapping windows: stride equal to the kernel, no padding (PyTorch's default).
    pub fn new(kernel: (usize, usize)) -> Self {
        Pool2dParams {
            kernel,
            stride: kernel,
            padding: (0, 0),
        }
    }
}

impl Geom {
    /// Validates pooling parameters (PyTorch's rules) and computes the output size.
    #[track_caller]
    fn pool(op: &str, input: &Shape, p: &Pool2dParams) -> Geom {
        let (kh, kw) = p.kernel;
        if p.padding.0 > kh / 2 || p.padding.1 > kw / 2 {
            shape_panic(
                op,
                format_args!(
                    "padding {:?} must be at most half the kernel {:?}",
                    p.padding, p.kernel
                ),
            );
        }
        let conv = Conv2dParams {
            stride: p.stride,
            padding: p.padding,
            dilation: (1, 1),
        };
        Geom::new(op, input, p.kernel, &conv)
    }
}

/// Calls `f(plane, out_index, ys, xs)` for every pooling window, where `plane` is the flat
/// offset of its `[H, W]` plane in the input, `out_index` the flat output index, and `ys`/`xs`
/// the window clipped to the input (the padding removed).
fn for_each_window(
    g: &Geom,
    mut f: impl FnMut(usize, usize, std::ops::Range<usize>, std::ops::Range<usize>),
) {
    for plane in 0..g.n * g.c {
        let out = plane * g.len();
        for_each_window_in_plane(g, |k, ys, xs| f(plane * g.h * g.w, out + k, ys, xs));
    }
}

/// Calls `f(out_index, ys, xs)` for every window of one plane, `out_index` counted from the
/// plane's first output.
fn for_each_window_in_plane(
    g: &Geom,
    mut f: impl FnMut(usize, std::ops::Range<usize>, std::ops::Range<usize>),
) {
    let clip = |start: isize, k: usize, size: usize| {
        let lo = start.max(0) as usize;
        let hi = ((start + k as isize).max(0) as usize).min(size);
        lo..hi.max(lo)
    };
    let mut out = 0;
    for oy in 0..g.oh {
        let ys = clip((oy * g.sh) as isize - g.ph as isize, g.kh, g.h);
        for ox in 0..g.ow {
            let xs = clip((ox * g.sw) as isize - g.pw as isize, g.kw, g.w);
            f(out, ys.clone(), xs);
            out += 1;
        }
    }
}

/// Max pooling. Returns the pooled values and, for each output element, the flat index into
/// `input`'s buffer (over all of N, C, H, W) of the element that was the maximum.
///
/// Padding counts as −∞, so it is never the maximum. On ties the first maximum in row-major
/// window order wins, as in PyTorch; a NaN in a window is the maximum (NaN propagates).
///
/// # Shapes
/// `input [N, C, H, W]` → `[N, C, OH, OW]`, and `N·C·OH·OW` indices.
///
/// ```
/// use tensor::{max_pool2d, Pool2dParams, Tensor};
/// let x = Tensor::from_vec(vec![1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 7.0, 7.0], [1, 1, 2, 4]);
/// let (y, idx) = max_pool2d(&x, &Pool2dParams::new((2, 2)));
/// assert_eq!(y.to_vec(), vec![5.0, 7.0]);
/// assert_eq!(idx, vec![1, 6]); // the first of the two 7s
/// ```
///
/// # Panics
/// If `input` is not rank 4, the padding exceeds half the kernel, a size or stride is 0, or
/// the output would be smaller than 1x1.
#[track_caller]
pub fn max_pool2d(input: &Tensor, params: &Pool2dParams) -> (Tensor, Vec<usize>) {
    let g = Geom::pool("max_pool2d", input.shape(), params);
    let x = input.data();
    let (plane_in, plane_out) = (g.h * g.w, g.len());
    let total = g.n * g.c * plane_out;
    // Not zeroed here: each task zeroes its planes right before writing them, on its own
    // thread and while they are in its cache.
    let mut vals: Vec<f32> = Vec::with_capacity(total);
    let mut idx: Vec<usize> = Vec::with_capacity(total);
    let shared_vals = SharedMut::new(&mut vals.spare_capacity_mut()[..total]);
    let planes_per_task = planes_per_task(g.n * g.c, plane_out * g.kh * g.kw);
    let spare_idx = &mut idx.spare_capacity_mut()[..total];
    parallel_pieces(spare_idx, planes_per_task * plane_out, |offset, idx| {
        // SAFETY: each task takes the values of its own planes.
        let vals = unsafe { shared_vals.slice(offset..offset + idx.len()) };
        vals.fill(MaybeUninit::new(0.0));
        idx.fill(MaybeUninit::new(0));
        // SAFETY: every element of both was written just above.
        let (vals, idx) = unsafe { (assume_init(vals), assume_init(idx)) };
        let planes = vals.chunks_mut(plane_out).zip(idx.chunks_mut(plane_out));
        for (k, (v, i)) in planes.enumerate() {
            max_pool_plane(&g, x, (offset / plane_out + k) * plane_in, v, i);
        }
    });
    // SAFETY: the tasks wrote all `total` elements of both.
    unsafe {
        vals.set_len(total);
        idx.set_len(total);
    }
    (Tensor::from_vec(vals, [g.n, g.c, g.oh, g.ow]), idx)
}

/// The slice `s`, every element of which has been written, as initialised.
///
/// # Safety
/// Every element of `s` must have been written.
unsafe fn assume_init<T>(s: &mut [MaybeUninit<T>]) -> &mut [T] {
    &mut *(s as *mut [MaybeUninit<T>] as *mut [T])
}

/// Pooling is spread over the threads by planes once each thread gets this many window
/// elements to look at.
const MIN_POOL_PER_THREAD: usize = 1 << 18;

/// How many `[H, W]` planes each task of a pooling takes.
fn planes_per_task(planes: usize, work_per_plane: usize) -> usize {
    planes
        .div_ceil(threads_for(planes * work_per_plane, MIN_POOL_PER_THREAD))
        .max(1)
}

/// Whether `v` beats the best value `b` so far: larger, or the first NaN. (Written with
/// non-short-circuit operators so that it compiles to selects, not branches.)
#[inline(always)]
fn beats(v: f32, b: f32) -> bool {
    (v > b) | (v.is_nan() & !b.is_nan())
}

/// The 2x2, stride-2 max pooling with AVX-512, 8 windows at a time: the two input rows are
/// loaded 16 floats each and split into their even and odd columns, giving the four
/// candidates of 8 windows in four registers; the row-major "first maximum wins, NaN wins"
/// rule is then three compare-and-blends, the same selections as the scalar loop.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// One output row: `rows` are the two input rows (at least `2·OW` floats each, the top
    /// one at flat index `row`, the bottom one `w` further); writes `OW = vals.len()` maxima
    /// and their flat indices.
    ///
    /// # Safety
    /// The CPU must have AVX-512F and AVX-512VL.
    #[target_feature(enable = "avx512f,avx512vl")]
    pub(super) unsafe fn max_pool_2x2_row(
        (top, bottom): (&[f32], &[f32]),
        (row, w): (usize, usize),
        vals: &mut [f32],
        idx: &mut [usize],
    ) {
        let ow = vals.len();
        assert!(top.len() >= 2 * ow && bottom.len() >= 2 * ow && idx.len() == ow);
        let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
        let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);
        let steps = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
        // "v beats b": greater, or the first NaN
        let beats = |v: __m256, b: __m256| -> __mmask8 {
            _mm256_cmp_ps_mask::<_CMP_GT_OQ>(v, b)
                | (_mm256_cmp_ps_mask::<_CMP_UNORD_Q>(v, v)
                    & _mm256_cmp_ps_mask::<_CMP_ORD_Q>(b, b))
        };
        let mut ox = 0;
        while ox < ow {
            let n = (ow - ox).min(8);
            let pairs: __mmask16 = ((1u32 << (2 * n)) - 1) as u16;
            let lanes: __mmask8 = ((1u32 << n) - 1) as u8;
            // SAFETY: the masks keep the loads within `2·ow` floats of each row and the
            // stores within `ow` elements of `vals` and `idx`.
            unsafe {
                let t = _mm512_maskz_loadu_ps(pairs, top.as_ptr().add(2 * ox));
                let b = _mm512_maskz_loadu_ps(pairs, bottom.as_ptr().add(2 * ox));
                let cands = [
                    _mm512_castps512_ps256(_mm512_permutexvar_ps(even, t)),
                    _mm512_castps512_ps256(_mm512_permutexvar_ps(odd, t)),
                    _mm512_castps512_ps256(_mm512_permutexvar_ps(even, b)),
                    _mm512_castps512_ps256(_mm512_permutexvar_ps(odd, b)),
                ];
                let offsets = [0, 1, w as i64, w as i64 + 1];
                let (mut best, mut code) = (cands[0], _mm512_setzero_si512());
                for (c, &off) in cands[1..].iter().zip(&offsets[1..]) {
                    let m = beats(*c, best);
                    best = _mm256_mask_blend_ps(m, best, *c);
                    code = _mm512_mask_blend_epi64(m, code, _mm512_set1_epi64(off));
                }
                let first = _mm512_set1_epi64((row + 2 * ox) as i64);
                let at = _mm512_add_epi64(_mm512_add_epi64(first, steps), code);
                _mm256_mask_storeu_ps(vals.as_mut_ptr().add(ox), lanes, best);
                _mm512_mask_storeu_epi64(idx.as_mut_ptr().add(ox).cast(), lanes, at);
            }
            ox += 8;
        }
    }
}

/// Max pooling of the plane starting at `base` in `x`: the values and flat indices of the
/// winners of its `OH·OW` windows.
fn max_pool_plane(g: &Geom, x: &[f32], base: usize, vals: &mut [f32], idx: &mut [usize]) {
    let w = g.w;
    if (g.kh, g.kw, g.sh, g.sw, g.ph, g.pw) == (2, 2, 2, 2, 0, 0) {
        #[cfg(target_arch = "x86_64")]
        if isa() == Isa::Avx512 {
            for oy in 0..g.oh {
                let row = base + 2 * oy * w;
                let out = oy * g.ow..(oy + 1) * g.ow;
                let rows = (&x[row..row + 2 * g.ow], &x[row + w..row + w + 2 * g.ow]);
                // SAFETY: `isa` checked the CPU's features (AVX-512F and AVX-512VL).
                unsafe {
                    avx512::max_pool_2x2_row(rows, (row, w), &mut vals[out.clone()], &mut idx[out])
                };
            }
            return;
        }
        // The common 2x2 window, stride 2: four candidates in row-major order, read from
        // the two input rows as pairs (no bounds check per element).
        for oy in 0..g.oh {
            let row = base + 2 * oy * w;
            let out = oy * g.ow..(oy + 1) * g.ow;
            let top = x[row..row + 2 * g.ow].chunks_exact(2);
            let bottom = x[row + w..row + w + 2 * g.ow].chunks_exact(2);
            let windows = top
                .zip(bottom)
                .zip(vals[out.clone()].iter_mut().zip(&mut idx[out]));
            for (ox, ((t, b), (v, i))) in windows.enumerate() {
                let i0 = row + 2 * ox;
                let (mut bi, mut bv) = (i0, t[0]);
                for (c, xc) in [(i0 + 1, t[1]), (i0 + w, b[0]), (i0 + w + 1, b[1])] {
                    // A select through bit masks: with random data a branch here is
                    // mispredicted half the time, which made pooling 3x slower.
                    let take = beats(xc, bv);
                    let mask = (take as u32).wrapping_neg();
                    bv = f32::from_bits((xc.to_bits() & mask) | (bv.to_bits() & !mask));
                    let mask = (take as usize).wrapping_neg();
                    bi = (c & mask) | (bi & !mask);
                }
                (*v, *i) = (bv, bi);
            }
        }
        return;
    }
    for_each_window_in_plane(g, |out, ys, xs| {
        // Padding ≤ kernel / 2 guarantees a real element in every window.
        let first = base + ys.start * w + xs.start;
        let (mut bi, mut bv) = (first, x[first]);
        for y in ys {
            let row = base + y * w;
            for (i, &v) in x[row + xs.start..row + xs.end].iter().enumerate() {
                if beats(v, bv) {
                    (bi, bv) = (row + xs.start + i, v);
                }
            }
        }
        (vals[out], idx[out]) = (bv, bi);
    });
}

/// Gradient of [`max_pool2d`]: each output gradient flows to the input element that was the
/// maximum (gradients add where windows overlap on the same maximum).
///
/// # Shapes
/// `grad_out [N, C, OH, OW]`, `indices` from [`max_pool2d`] → `input_shape [N, C, H, W]`.
///
/// # Panics
/// If `indices` and `grad_out` differ in length, an index lies outside the `[H, W]` plane of
/// `input_shape` that its output element belongs to, or the batch and channel sizes of
/// `grad_out` and `input_shape` differ.
#[track_caller]
pub fn max_pool2d_backward(
    grad_out: &Tensor,
    indices: &[usize],
    input_shape: impl Into<Shape>,
) -> Tensor {
    let op = "max_pool2d_backward";
    let input_shape = input_shape.into();
    if input_shape.rank() != 4
        || grad_out.rank() != 4
        || grad_out.dims()[..2] != input_shape.dims()[..2]
    {
        shape_panic(
            op,
            format_args!(
                "grad_out {:?} and input {input_shape:?} must both be NCHW with equal N and C",
                grad_out.shape()
            ),
        );
    }
    if indices.len() != grad_out.numel() {
        shape_panic(
            op,
            format_args!(
                "{} indices for grad_out {:?} with {} elements",
                indices.len(),
                grad_out.shape(),
                grad_out.numel()
            ),
        );
    }
    // Each plane's outputs send their gradients into the same plane of the input (indices
    // from `max_pool2d` always do), so planes go to different threads.
    let [_, _, h, w] = *input_shape.dims() else {
        unreachable!("rank checked above")
    };
    let [_, _, oh, ow] = *grad_out.dims() else {
        unreachable!("rank checked above")
    };
    let (plane_in, plane_out) = (h * w, oh * ow);
    // Not zeroed first: each task zeroes its planes right before adding into them, while
    // they are in its cache.
    let numel = input_shape.numel();
    let mut dx: Vec<f32> = Vec::with_capacity(numel);
    let planes = input_shape.dims()[0] * input_shape.dims()[1];
    let gd = grad_out.data();
    // (A task zeroes its input planes, then adds the output planes into them.)
    let per_task = planes_per_task(planes, plane_in + plane_out);
    let spare = &mut dx.spare_capacity_mut()[..numel];
    parallel_pieces(spare, per_task * plane_in, |offset, dx| {
        for (p, dx) in dx.chunks_mut(plane_in).enumerate() {
            dx.fill(MaybeUninit::new(0.0));
            // SAFETY: every element of `dx` was written just above.
            let dx = unsafe { assume_init(dx) };
            let plane = offset + p * plane_in;
            let first = plane / plane_in * plane_out;
            let outs = first..first + plane_out;
            for (k, (&i, &gv)) in indices[outs.clone()].iter().zip(&gd[outs]).enumerate() {
                if !(plane..plane + plane_in).contains(&i) {
                    shape_panic(
                        op,
                        format_args!(
                            "index {i} of output {} is outside its plane {}..{} of input {input_shape:?}",
                            first + k,
                            plane,
                            plane + plane_in
                        ),
                    );
                }
                dx[i - plane] += gv;
            }
        }
    });
    // SAFETY: the tasks zeroed all `numel` elements before adding into them.
    unsafe { dx.set_len(numel) };
    Tensor::from_vec(dx, input_shape)
}

/// Average pooling with zero padding counted in the divisor (PyTorch's default,
/// `count_include_pad = true`): every window is divided by `kh·kw`.
///
/// # Shapes
/// `input [N, C, H, W]` → `[N, C, OH, OW]`.
///
/// ```
/// use tensor::{avg_pool2d, Pool2dParams, Tensor};
/// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
/// let p = Pool2dParams { kernel: (2, 2), stride: (2, 2), padding: (1, 1) };
/// // each 2x2 window holds one real pixel and three padding zeros
/// assert_eq!(avg_pool2d(&x, &p).to_vec(), vec![0.25, 0.5, 0.75, 1.0]);
/// ```
///
/// # Panics
/// As [`max_pool2d`].
#[track_caller]
pub fn avg_pool2d(input: &Tensor, params: &Pool2dParams) -> Tensor {
    let g = Geom::pool("avg_pool2d", input.shape(), params);
    let x = input.data();
    let scale = 1.0 / (g.kh * g.kw) as f32;
    let mut vals = vec![0.0; g.n * g.c * g.len()];
    for_each_window(&g, |plane, out, ys, xs| {
        let mut s = 0.0;
        for y in ys {
            s += x[plane + y * g.w + xs.start..plane + y * g.w + xs.end]
                .iter()
                .sum::<f32>();
        }
        vals[out] = s * scale;
    });
    Tensor::from_vec(vals, [g.n, g.c, g.oh, g.ow])
}

/// Gradient of [`avg_pool2d`]: each output gradient, divided by `kh·kw`, is added to every
/// real input element of its window.
///
/// # Shapes
/// `grad_out [N, C, OH, OW]` → `input_shape [N, C, H, W]`.
///
/// # Panics
/// As [`avg_pool2d`] for `input_shape`, and if `grad_out` is not the shape it would return.
#[track_caller]
pub fn avg_pool2d_backward(
    grad_out: &Tensor,
    input_shape: impl Into<Shape>,
    params: &Pool2dParams,
) -> Tensor {
    let op = "avg_pool2d_backward";
    let input_shape = input_shape.into();
    let g = Geom::pool(op, &input_shape, params);
    check_grad_out(op, grad_out, &g, g.c, &input_shape);
    let gy = grad_out.data();
    let scale = 1.0 / (g.kh * g.kw) as f32;
    let mut dx = vec![0.0; input_shape.numel()];
    for_each_window(&g, |plane, out, ys, xs| {
        let v = gy[out] * scale;
        for y in ys {
            for d in &mut dx[plane + y * g.w + xs.start..plane + y * g.w + xs.end] {
                *d += v;
            }
        }
    });
    Tensor::from_vec(dx, input_shape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::tests::dot;

    #[test]
    fn max_pool_by_hand_with_ties() {
        #[rustfmt::skip]
        let x = Tensor::from_vec(vec![
            1.0, 3.0,  2.0, 2.0,
            3.0, 0.0,  1.0, 0.0,
            -1.0, -2.0, 5.0, 4.0,
            -3.0, -1.0, 4.0, 5.0,
        ], [1, 1, 4, 4]);
        let (y, idx) = max_pool2d(&x, &Pool2dParams::new((2, 2)));
        assert_eq!(y.dims(), &[1, 1, 2, 2]);
        assert_eq!(y.to_vec(), vec![3.0, 2.0, -1.0, 5.0]);
        // ties: 3.0 at 1 and 4 -> 1; 2.0 at 2 and 3 -> 2; 5.0 at 10 and 15 -> 10
        assert_eq!(idx, vec![1, 2, 8, 10]);
    }

    #[test]
    fn max_pool_padding_is_minus_infinity() {
        // All-negative input: zero padding would win, −∞ padding never does.
        let x = Tensor::from_vec(vec![-4.0, -3.0, -2.0, -1.0], [1, 1, 2, 2]);
        let p = Pool2dParams {
            kernel: (2, 2),
            stride: (1, 1),
            padding: (1, 1),
        };
        let (y, idx) = max_pool2d(&x, &p);
        assert_eq!(y.dims(), &[1, 1, 3, 3]);
        assert_eq!(
            y.to_vec(),
            vec![-4.0, -3.0, -3.0, -2.0, -1.0, -1.0, -2.0, -1.0, -1.0]
        );
        assert_eq!(idx, vec![0, 1, 1, 2, 3, 3, 2, 3, 3]);
    }

    #[test]
    fn max_pool_indices_are_flat_over_the_batch() {
        let x = Tensor::from_vec(vec![1.0, 2.0, 4.0, 3.0, 8.0, 7.0, 6.0, 5.0], [2, 1, 2, 2]);
        let (y, idx) = max_pool2d(&x, &Pool2dParams::new((2, 2)));
        assert_eq!(y.to_vec(), vec![4.0, 8.0]);
        assert_eq!(idx, vec![2, 4]);
        let g = Tensor::from_vec(vec![10.0, 20.0], [2, 1, 1, 1]);
        let dx = max_pool2d_backward(&g, &idx, x.shape());
        assert_eq!(dx.to_vec(), vec![0.0, 0.0, 10.0, 0.0, 20.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn max_pool_backward_accumulates_overlaps() {
        // Stride 1, kernel 2 on [1, 9, 2]: the 9 is the max of both windows.
        let x = Tensor::from_vec(vec![1.0, 9.0, 2.0], [1, 1, 1, 3]);
        let p = Pool2dParams {
            kernel: (1, 2),
            stride: (1, 1),
            padding: (0, 0),
        };
        let (y, idx) = max_pool2d(&x, &p);
        assert_eq!(y.to_vec(), vec![9.0, 9.0]);
        let dx = max_pool2d_backward(
            &Tensor::from_vec(vec![1.5, 2.5], [1, 1, 1, 2]),
            &idx,
            [1, 1, 1, 3],
        );
        assert_eq!(dx.to_vec(), vec![0.0, 4.0, 0.0]);
    }

    #[test]
    fn threads_do_not_change_pooling() {
        // The output of the reference CNN's second layer, split over the threads by planes.
        let y = Tensor::uniform([20, 32, 14, 14], -1.0, 1.0, &mut crate::rng(11));
        let runs = crate::parallel::with_thread_counts(&[1, 2, 3], || {
            let (m, idx) = max_pool2d(&y, &Pool2dParams::new((2, 2)));
            let gp = max_pool2d_backward(&m, &idx, y.shape());
            (m, idx, gp)
        });
        for other in &runs[1..] {
            assert!(
                runs[0].0 == other.0 && runs[0].1 == other.1,
                "max_pool2d differs"
            );
            assert!(runs[0].2 == other.2, "max_pool2d_backward differs");
        }
    }

    #[test]
    fn max_pool_2x2_vector_and_portable_paths_agree_with_a_hand_loop() {
        // Rows of 7, 14 and 17 windows (a partial group of 8, and a one-column leftover),
        // with ties, NaNs and infinities sprinkled in.
        let mut r = crate::rng(13);
        for w in [14, 28, 35] {
            let mut x = Tensor::uniform([2, 2, 6, w], -1.0, 1.0, &mut r);
            let n = x.numel();
            for k in (0..n).step_by(5) {
                x.data_mut()[k] = 0.5; // ties
            }
            for k in (3..n).step_by(17) {
                x.data_mut()[k] = f32::NAN;
            }
            for k in (1..n).step_by(23) {
                x.data_mut()[k] = f32::INFINITY;
            }
            let p = Pool2dParams::new((2, 2));
            let vector = max_pool2d(&x, &p);
            crate::isa::FORCE_BASELINE.store(true, std::sync::atomic::Ordering::Relaxed);
            let portable = max_pool2d(&x, &p);
            crate::isa::FORCE_BASELINE.store(false, std::sync::atomic::Ordering::Relaxed);
            let (oh, ow) = (3, w / 2);
            for plane in 0..4 {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let cands =
                            [0, 1, w, w + 1].map(|d| plane * 6 * w + 2 * oy * w + 2 * ox + d);
                        let mut best = cands[0];
                        for &c in &cands[1..] {
                            let (v, b) = (x.data()[c], x.data()[best]);
                            if v > b || (v.is_nan() && !b.is_nan()) {
                                best = c;
                            }
                        }
                        let o = (plane * oh + oy) * ow + ox;
                        for (y, idx) in [&vector, &portable] {
                            assert_eq!(idx[o], best, "width {w}, plane {plane} ({oy}, {ox})");
                            assert_eq!(y.data()[o].to_bits(), x.data()[best].to_bits());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn max_pool_2x2_fast_path_against_a_hand_loop() {
        // 2x2 windows with stride 2 take the fast path; an odd width leaves a column out.
        // Ties go to the first candidate in row-major order, NaN wins.
        let mut r = crate::rng(12);
        let mut x = Tensor::uniform([2, 3, 6, 7], -1.0, 1.0, &mut r);
        x.set(&[0, 0, 0, 0], 10.0);
        x.set(&[0, 0, 0, 1], 10.0);
        x.set(&[1, 2, 3, 3], f32::NAN);
        let (y, idx) = max_pool2d(&x, &Pool2dParams::new((2, 2)));
        assert_eq!(y.dims(), &[2, 3, 3, 3]);
        for plane in 0..6 {
            for oy in 0..3 {
                for ox in 0..3 {
                    let cands = [0, 1, 7, 8].map(|d| plane * 42 + 2 * oy * 7 + 2 * ox + d);
                    let mut best = cands[0];
                    for &c in &cands[1..] {
                        let (v, b) = (x.data()[c], x.data()[best]);
                        if v > b || (v.is_nan() && !b.is_nan()) {
                            best = c;
                        }
                    }
                    let o = plane * 9 + oy * 3 + ox;
                    assert_eq!(idx[o], best, "plane {plane} ({oy}, {ox})");
                    assert_eq!(y.data()[o].to_bits(), x.data()[best].to_bits());
                }
            }
        }
        assert_eq!(idx[0], 0);
        assert!(y.data()[5 * 9 + 3 + 1].is_nan());
    }

    #[test]
    #[should_panic(expected = "max_pool2d_backward: index 5 of output 0 is outside its plane 0..4")]
    fn max_pool_backward_rejects_an_index_in_another_plane() {
        let g = Tensor::ones([2, 1, 1, 1]);
        max_pool2d_backward(&g, &[5, 6], [2, 1, 2, 2]);
    }

    #[test]
    fn max_pool_propagates_nan() {
        let x = Tensor::from_vec(vec![1.0, f32::NAN, 3.0, 2.0], [1, 1, 2, 2]);
        let (y, idx) = max_pool2d(&x, &Pool2dParams::new((2, 2)));
        assert!(y.item().is_nan());
        assert_eq!(idx, vec![1]);
    }

    #[test]
    fn avg_pool_by_hand() {
        #[rustfmt::skip]
        let x = Tensor::from_vec(vec![
            1.0, 2.0, 3.0, 4.0,
            5.0, 6.0, 7.0, 8.0,
            9.0, 10.0, 11.0, 12.0,
            13.0, 14.0, 15.0, 16.0,
        ], [1, 1, 4, 4]);
        let y = avg_pool2d(&x, &Pool2dParams::new((2, 2)));
        assert_eq!(y.to_vec(), vec![3.5, 5.5, 11.5, 13.5]);
        // padding 1, kernel 3, stride 2: the divisor stays 9 (count_include_pad = true).
        let p = Pool2dParams {
            kernel: (3, 3),
            stride: (2, 2),
            padding: (1, 1),
        };
        let y = avg_pool2d(&x, &p);
        assert_eq!(y.dims(), &[1, 1, 2, 2]);
        let want = [
            (1.0 + 2.0 + 5.0 + 6.0) / 9.0,
            (2.0 + 3.0 + 4.0 + 6.0 + 7.0 + 8.0) / 9.0,
            (5.0 + 6.0 + 9.0 + 10.0 + 13.0 + 14.0) / 9.0,
            (6.0 + 7.0 + 8.0 + 10.0 + 11.0 + 12.0 + 14.0 + 15.0 + 16.0) / 9.0,
        ];
        for (g, w) in y.data().iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{g} vs {w}");
        }
    }

    #[test]
    fn avg_pool_backward_is_the_adjoint() {
        let mut r = crate::rng(14);
        for p in [
            Pool2dParams::new((2, 2)),
            Pool2dParams {
                kernel: (3, 2),
                stride: (1, 2),
                padding: (1, 1),
            },
            Pool2dParams {
                kernel: (3, 3),
                stride: (2, 2),
                padding: (1, 0),
            },
        ] {
            let shape = [2, 3, 7, 6];
            let x = Tensor::uniform(shape, -1.0, 1.0, &mut r);
            let y = avg_pool2d(&x, &p);
            let gy = Tensor::uniform(y.dims(), -1.0, 1.0, &mut r);
            let gx = avg_pool2d_backward(&gy, shape, &p);
            let (lhs, rhs) = (dot(&y, &gy), dot(&x, &gx));
            assert!(
                (lhs - rhs).abs() < 1e-5 * (1.0 + lhs.abs()),
                "{p:?}: {lhs} vs {rhs}"
            );
        }
    }

    #[test]
    fn avg_pool_backward_by_hand() {
        let g = Tensor::from_vec(vec![4.0, 8.0], [1, 1, 1, 2]);
        let dx = avg_pool2d_backward(&g, [1, 1, 2, 4], &Pool2dParams::new((2, 2)));
        assert_eq!(dx.to_vec(), vec![1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
    }

    #[test]
    #[should_panic(expected = "max_pool2d: padding (2, 2) must be at most half the kernel (3, 3)")]
    fn pool_padding_too_large_panics() {
        let p = Pool2dParams {
            kernel: (3, 3),
            stride: (1, 1),
            padding: (2, 2),
        };
        max_pool2d(&Tensor::zeros([1, 1, 4, 4]), &p);
    }

    #[test]
    #[should_panic(expected = "avg_pool2d: output size would be < 1")]
    fn pool_window_larger_than_input_panics() {
        avg_pool2d(&Tensor::zeros([1, 1, 2, 2]), &Pool2dParams::new((3, 3)));
    }
}
