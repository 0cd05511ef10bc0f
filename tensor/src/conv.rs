//! 2-D convolution on NCHW tensors (batch, channels, height, width); pooling, which walks the
//! same window geometry, is in `pool.rs`.
//!
//! Convolution is lowered to a matrix product: [`im2col`] copies every receptive field of one
//! sample into a column, so that the convolution is one GEMM of the weight, seen as an
//! `[O, C·kh·kw]` matrix, by the columns, `[C·kh·kw, OH·OW]`. The backward pass reuses the same
//! two pieces: ∂L/∂input = col2im(Wᵀ·G) and ∂L/∂W = Σₙ G·colsᵀ, where [`col2im`] is the
//! adjoint of [`im2col`] (it adds overlapping patches back together).
//!
//! When the output gradient is mostly zeros (at most 40% nonzero, as after ReLU and max
//! pooling), [`conv2d_grad_input`] and [`conv2d_grad_weight`] skip those products and visit
//! only the nonzero entries (module `sparse`): the same sums up to float rounding, with a
//! fraction of the work.
//!
//! Output sizes follow PyTorch: `OH = ⌊(H + 2·pad − dil·(kh − 1) − 1) / stride⌋ + 1`, and the
//! same for the width.

use crate::error::{check_bias, shape_panic};
use crate::matmul::sgemm;
use crate::parallel::{parallel_pieces, threads_for};
use crate::scratch::{put_scratch, take_scratch, with_scratch};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// Stride, zero padding and dilation of a 2-D convolution, each as `(height, width)`.
///
/// Same meaning as the arguments of PyTorch's `conv2d`: the kernel moves `stride` pixels at a
/// time, the input gets `padding` zeros on each side, and kernel taps are `dilation` pixels
/// apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Conv2dParams {
    /// Step between neighbouring output positions, `(sh, sw)`; at least 1.
    pub stride: (usize, usize),
    /// Zeros added on each side of the input, `(ph, pw)`.
    pub padding: (usize, usize),
    /// Distance between kernel taps, `(dh, dw)`; at least 1 (1 is an ordinary kernel).
    pub dilation: (usize, usize),
}

impl Default for Conv2dParams {
    /// Stride 1, no padding, dilation 1.
    fn default() -> Self {
        Conv2dParams {
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
        }
    }
}

/// Everything the kernels need to walk one sample: its sizes, the window and the output size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geom {
    pub(crate) n: usize,
    pub(crate) c: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) kh: usize,
    pub(crate) kw: usize,
    pub(crate) sh: usize,
    pub(crate) sw: usize,
    pub(crate) ph: usize,
    pub(crate) pw: usize,
    pub(crate) dh: usize,
    pub(crate) dw: usize,
    pub(crate) oh: usize,
    pub(crate) ow: usize,
}

impl Geom {
    /// Validates an NCHW shape against a window and computes the output size.
    #[track_caller]
    pub(crate) fn new(op: &str, input: &Shape, kernel: (usize, usize), p: &Conv2dParams) -> Geom {
        let [n, c, h, w] = *input.dims() else {
            shape_panic(
                op,
                format_args!("needs an NCHW input of rank 4, got {input:?}"),
            );
        };
        let (kh, kw) = kernel;
        if kh == 0 || kw == 0 {
            shape_panic(
                op,
                format_args!("kernel size must be at least 1, got {kernel:?}"),
            );
        }
        if p.stride.0 == 0 || p.stride.1 == 0 {
            shape_panic(
                op,
                format_args!("stride must be at least 1, got {:?}", p.stride),
            );
        }
        if p.dilation.0 == 0 || p.dilation.1 == 0 {
            shape_panic(
                op,
                format_args!("dilation must be at least 1, got {:?}", p.dilation),
            );
        }
        let out = |size: usize, k: usize, s: usize, pad: usize, d: usize| {
            let span = d * (k - 1) + 1;
            let padded = size + 2 * pad;
            if padded < span {
                shape_panic(
                    op,
                    format_args!(
                        "output size would be < 1: input {input:?} padded by {:?} is smaller \
                         than the kernel {kernel:?} with dilation {:?}",
                        p.padding, p.dilation
                    ),
                );
            }
            (padded - span) / s + 1
        };
        Geom {
            n,
            c,
            h,
            w,
            kh,
            kw,
            sh: p.stride.0,
            sw: p.stride.1,
            ph: p.padding.0,
            pw: p.padding.1,
            dh: p.dilation.0,
            dw: p.dilation.1,
            oh: out(h, kh, p.stride.0, p.padding.0, p.dilation.0),
            ow: out(w, kw, p.stride.1, p.padding.1, p.dilation.1),
        }
    }

    /// Rows of the column matrix of one sample: C·kh·kw.
    fn rows(&self) -> usize {
        self.c * self.kh * self.kw
    }

    /// Output positions per channel: OH·OW.
    pub(crate) fn len(&self) -> usize {
        self.oh * self.ow
    }

    /// Elements of one input sample: C·H·W.
    fn sample(&self) -> usize {
        self.c * self.h * self.w
    }

    /// The output positions `o` whose input coordinate `o·stride + off` lies in `0..size`,
    /// as a range `lo..hi` of `0..out`.
    fn valid(off: isize, stride: usize, size: usize, out: usize) -> (usize, usize) {
        let s = stride as isize;
        let lo = if off >= 0 { 0 } else { (-off + s - 1) / s };
        let room = size as isize - off;
        let hi = if room <= 0 { 0 } else { (room + s - 1) / s };
        let hi = (hi as usize).min(out);
        ((lo as usize).min(hi), hi)
    }

    /// Walks every (column-matrix row, output row) pair of one sample, giving the column
    /// matrix's segment index, the input row's start (or `None` in the padding), the range of
    /// valid output columns, and the input column offset of output column 0.
    #[inline(always)]
    fn for_each_segment(&self, mut f: impl FnMut(usize, Option<usize>, (usize, usize), isize)) {
        for c in 0..self.c {
            for i in 0..self.kh {
                for j in 0..self.kw {
                    let row = (c * self.kh + i) * self.kw + j;
                    let off_x = (j * self.dw) as isize - self.pw as isize;
                    let xr = Geom::valid(off_x, self.sw, self.w, self.ow);
                    for oy in 0..self.oh {
                        let iy = (oy * self.sh + i * self.dh) as isize - self.ph as isize;
                        let src = (0..self.h as isize)
                            .contains(&iy)
                            .then(|| (c * self.h + iy as usize) * self.w);
                        f(row * self.len() + oy * self.ow, src, xr, off_x);
                    }
                }
            }
        }
    }

    /// Whether the padded fast paths apply: unit horizontal stride and output rows of at
    /// least 8 (so that each row of the column matrix is one run of [`copy_run`]).
    fn padded_path(&self) -> bool {
        self.sw == 1 && self.ow >= 8
    }

    /// Height and width of one padded channel.
    fn padded_dims(&self) -> (usize, usize) {
        (self.h + 2 * self.ph, self.w + 2 * self.pw)
    }

    /// Calls `f(segment, start)` for every (column-matrix row, output row) pair: the column
    /// matrix's segment index and the start of its `OW` inputs in the padded sample.
    #[inline(always)]
    fn for_each_padded_segment(&self, mut f: impl FnMut(usize, usize)) {
        let (hp, wp) = self.padded_dims();
        for c in 0..self.c {
            for i in 0..self.kh {
                for j in 0..self.kw {
                    let row = (c * self.kh + i) * self.kw + j;
                    for oy in 0..self.oh {
                        let start = (c * hp + oy * self.sh + i * self.dh) * wp + j * self.dw;
                        f(row * self.len() + oy * self.ow, start);
                    }
                }
            }
        }
    }

    /// im2col of one sample: `x` is `[C, H, W]`, `cols` is `[C·kh·kw, OH·OW]`. Runs a copy
    /// of [`Geom::im2col_sample_body`] compiled for AVX2 where [`crate::isa::isa`] finds it:
    /// the column matrix's rows are short runs, each one or two 8-float moves, which the
    /// baseline (SSE2) build does in twice as many 16-byte halves. Copies are exact, so both
    /// give the same columns.
    fn im2col_sample(&self, x: &[f32], cols: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2(g: &Geom, x: &[f32], cols: &mut [f32]) {
                g.im2col_sample_body(x, cols);
            }
            if crate::isa::isa() != crate::isa::Isa::Baseline {
                // SAFETY: every ISA above the baseline includes AVX2.
                return unsafe { avx2(self, x, cols) };
            }
        }
        self.im2col_sample_body(x, cols);
    }

    /// The loops of [`Geom::im2col_sample`].
    #[inline(always)]
    fn im2col_sample_body(&self, x: &[f32], cols: &mut [f32]) {
        if self.padded_path() {
            // Copy the sample once into a zero-padded buffer; every row segment of the
            // column matrix is then a plain run of OW inputs.
            // (Not through `with_scratch`: a closure would not be compiled for the caller's
            // instruction set.)
            let (hp, wp) = self.padded_dims();
            let mut buf = take_scratch(self.c * hp * wp);
            let padded = &mut buf[..self.c * hp * wp];
            padded.fill(0.0);
            for (plane, src) in padded
                .chunks_exact_mut(hp * wp)
                .zip(x.chunks_exact(self.h * self.w))
            {
                for (y, row) in src.chunks_exact(self.w).enumerate() {
                    let at = (y + self.ph) * wp + self.pw;
                    plane[at..at + self.w].copy_from_slice(row);
                }
            }
            let ow = self.ow;
            self.for_each_padded_segment(|seg, start| {
                copy_run(&mut cols[seg..seg + ow], &padded[start..start + ow]);
            });
            put_scratch(buf);
            return;
        }
        let (ow, sw) = (self.ow, self.sw);
        self.for_each_segment(|seg, src, (lo, hi), off_x| {
            let dst = &mut cols[seg..seg + ow];
            let Some(src) = src else {
                dst.fill(0.0);
                return;
            };
            dst[..lo].fill(0.0);
            dst[hi..].fill(0.0);
            let first = (src as isize + (lo * sw) as isize + off_x) as usize;
            if sw == 1 {
                dst[lo..hi].copy_from_slice(&x[first..first + (hi - lo)]);
            } else {
                for (t, d) in dst[lo..hi].iter_mut().enumerate() {
                    *d = x[first + t * sw];
                }
            }
        });
    }

    /// col2im of one sample, accumulating: `img[C, H, W] += adjoint of im2col applied to cols`.
    fn col2im_sample(&self, cols: &[f32], img: &mut [f32]) {
        if self.padded_path() {
            // Add every segment into a zero-padded buffer, then the interior into `img`.
            let (hp, wp) = self.padded_dims();
            return with_scratch(self.c * hp * wp, |padded| {
                padded.fill(0.0);
                let ow = self.ow;
                self.for_each_padded_segment(|seg, start| {
                    for (d, v) in padded[start..start + ow]
                        .iter_mut()
                        .zip(&cols[seg..seg + ow])
                    {
                        *d += v;
                    }
                });
                for (plane, dst) in padded
                    .chunks_exact(hp * wp)
                    .zip(img.chunks_exact_mut(self.h * self.w))
                {
                    for (y, row) in dst.chunks_exact_mut(self.w).enumerate() {
                        let at = (y + self.ph) * wp + self.pw;
                        for (d, v) in row.iter_mut().zip(&plane[at..at + self.w]) {
                            *d += v;
                        }
                    }
                }
            });
        }
        let sw = self.sw;
        self.for_each_segment(|seg, src, (lo, hi), off_x| {
            let Some(src) = src else { return };
            let first = (src as isize + (lo * sw) as isize + off_x) as usize;
            let vals = &cols[seg + lo..seg + hi];
            if sw == 1 {
                for (d, v) in img[first..first + vals.len()].iter_mut().zip(vals) {
                    *d += v;
                }
            } else {
                for (t, v) in vals.iter().enumerate() {
                    img[first + t * sw] += v;
                }
            }
        });
    }
}

/// The `i`-th block of `size` elements (one sample of a batch).
fn part(data: &[f32], i: usize, size: usize) -> &[f32] {
    &data[i * size..(i + 1) * size]
}

/// The `i`-th block of `size` elements, writable.
fn part_mut(data: &mut [f32], i: usize, size: usize) -> &mut [f32] {
    &mut data[i * size..(i + 1) * size]
}

/// `dst.copy_from_slice(src)` for runs of at least 8 elements, as 8-element moves (the last
/// one overlapping the one before): short runs are the rows of a convolution's column matrix,
/// and a call to `memcpy` per row cost more than the copy.
#[inline(always)]
fn copy_run(dst: &mut [f32], src: &[f32]) {
    let n = dst.len();
    debug_assert!(n >= 8 && src.len() == n);
    let mut k = 0;
    while k + 8 < n {
        let (d, s): (&mut [f32; 8], &[f32; 8]) = (
            (&mut dst[k..k + 8]).try_into().expect("8 elements"),
            (&src[k..k + 8]).try_into().expect("8 elements"),
        );
        *d = *s;
        k += 8;
    }
    let (d, s): (&mut [f32; 8], &[f32; 8]) = (
        (&mut dst[n - 8..]).try_into().expect("8 elements"),
        (&src[n - 8..]).try_into().expect("8 elements"),
    );
    *d = *s;
}

/// A convolution is spread over the threads by samples once each thread gets at least this
/// many multiply-adds.
const MIN_MACS_PER_THREAD: usize = 1 << 20;

/// How many samples each task of a per-sample loop takes: all of them on one thread, else an
/// even share for each thread that pays for itself.
fn samples_per_task(n: usize, macs_per_sample: usize) -> usize {
    n.div_ceil(threads_for(n * macs_per_sample, MIN_MACS_PER_THREAD))
        .max(1)
}

/// The weight gradient sums over the samples in fixed groups of this many (each group a
/// task, the group sums then added in order), so its rounding does not depend on the
/// thread count.
const WEIGHT_GRAD_GROUP: usize = 8;

/// Unfolds every receptive field into a column (PyTorch's `unfold`).
///
/// Row `(c·kh + i)·kw + j`, column `oy·OW + ox` of sample `n` holds
/// `input[n, c, oy·sh − ph + i·dh, ox·sw − pw + j·dw]`, or 0 where that falls in the padding.
///
/// # Shapes
/// `input [N, C, H, W]` → `[N, C·kh·kw, OH·OW]`.
///
/// ```
/// use tensor::{im2col, Conv2dParams, Tensor};
/// let x = Tensor::arange(1.0, 10.0, 1.0).reshape([1, 1, 3, 3]);
/// let cols = im2col(&x, (2, 2), &Conv2dParams::default());
/// assert_eq!(cols.dims(), &[1, 4, 4]);
/// // first row: the top-left tap of each of the four 2x2 windows
/// assert_eq!(&cols.data()[..4], &[1.0, 2.0, 4.0, 5.0]);
/// ```
///
/// # Panics
/// If `input` is not rank 4, a kernel size, stride or dilation is 0, or the output would be
/// smaller than 1x1.
#[track_caller]
pub fn im2col(input: &Tensor, kernel: (usize, usize), params: &Conv2dParams) -> Tensor {
    let g = Geom::new("im2col", input.shape(), kernel, params);
    let per = g.rows() * g.len();
    let mut out = vec![0.0; g.n * per];
    for n in 0..g.n {
        g.im2col_sample(
            part(input.data(), n, g.sample()),
            part_mut(&mut out, n, per),
        );
    }
    Tensor::from_vec(out, [g.n, g.rows(), g.len()])
}

/// Folds columns back into an image, adding up values that land on the same pixel: the adjoint
/// of [`im2col`], so `⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩` for all `x`, `y`. Padding positions are
/// dropped.
///
/// # Shapes
/// `cols [N, C·kh·kw, OH·OW]` → `input_shape [N, C, H, W]`.
///
/// # Panics
/// As [`im2col`] for `input_shape`, and if `cols` does not have the shape [`im2col`] would give.
#[track_caller]
pub fn col2im(
    cols: &Tensor,
    input_shape: impl Into<Shape>,
    kernel: (usize, usize),
    params: &Conv2dParams,
) -> Tensor {
    let input_shape = input_shape.into();
    let g = Geom::new("col2im", &input_shape, kernel, params);
    let want = [g.n, g.rows(), g.len()];
    if cols.dims() != want {
        shape_panic(
            "col2im",
            format_args!(
                "cols {:?} do not match input {input_shape:?} with kernel {kernel:?}: expected {want:?}",
                cols.shape()
            ),
        );
    }
    let mut img = vec![0.0; input_shape.numel()];
    let per = g.rows() * g.len();
    for n in 0..g.n {
        g.col2im_sample(part(cols.data(), n, per), part_mut(&mut img, n, g.sample()));
    }
    Tensor::from_vec(img, input_shape)
}

/// Checks that `weight [O, C, kh, kw]` fits an input of `channels` channels; returns
/// `(O, (kh, kw))`.
#[track_caller]
fn weight_dims(op: &str, weight: &Shape, input: &Shape) -> (usize, (usize, usize)) {
    let [o, c, kh, kw] = *weight.dims() else {
        shape_panic(
            op,
            format_args!("weight must be [O, C, kh, kw] (rank 4), got {weight:?}"),
        );
    };
    if input.rank() == 4 && input.dims()[1] != c {
        shape_panic(
            op,
            format_args!(
                "channels differ: input {input:?} has {} channels, weight {weight:?} expects {c}",
                input.dims()[1]
            ),
        );
    }
    (o, (kh, kw))
}

/// Checks that `grad_out` is `[N, O, OH, OW]` for this geometry.
#[track_caller]
pub(crate) fn check_grad_out(op: &str, grad_out: &Tensor, g: &Geom, o: usize, input: &Shape) {
    let want = [g.n, o, g.oh, g.ow];
    if grad_out.dims() != want {
        shape_panic(
            op,
            format_args!(
                "grad_out {:?} does not match input {input:?}: expected {want:?}",
                grad_out.shape()
            ),
        );
    }
}

/// 2-D convolution (strictly, cross-correlation, as in every framework), NCHW, plus an
/// optional bias per output channel:
/// `out[n, o, y, x] = b[o] + Σ_{c,i,j} w[o, c, i, j] · input[n, c, y·sh − ph + i·dh, x·sw − pw + j·dw]`.
///
/// Computed per sample as one GEMM, `W [O, C·kh·kw] · im2col(input)ₙ [C·kh·kw, OH·OW]`.
///
/// # Shapes
/// `input [N, C, H, W]`, `weight [O, C, kh, kw]`, `bias [O]` → `[N, O, OH, OW]`.
///
/// ```
/// use tensor::{conv2d, Conv2dParams, Tensor};
/// let x = Tensor::ones([1, 1, 3, 3]);
/// let w = Tensor::ones([1, 1, 3, 3]);
/// let p = Conv2dParams { padding: (1, 1), ..Default::default() };
/// let y = conv2d(&x, &w, None, &p);
/// // each output counts the input pixels its 3x3 window covers
/// assert_eq!(y.to_vec(), vec![4.0, 6.0, 4.0, 6.0, 9.0, 6.0, 4.0, 6.0, 4.0]);
/// ```
///
/// # Panics
/// If the channels of `input` and `weight` differ, `bias` is not `[O]`, or as [`im2col`].
#[track_caller]
pub fn conv2d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    params: &Conv2dParams,
) -> Tensor {
    let (o, kernel) = weight_dims("conv2d", weight.shape(), input.shape());
    let g = Geom::new("conv2d", input.shape(), kernel, params);
    let (rows, len) = (g.rows(), g.len());
    check_bias("conv2d", bias, o, weight.shape());
    // The output is not zeroed first: each task starts its samples at the bias (or zero)
    // while they are in its cache, instead of a pass over the whole buffer before.
    let numel = g.n * o * len;
    let mut out: Vec<f32> = Vec::with_capacity(numel);
    // One GEMM per sample; samples go to different threads (each with its own columns).
    let per_out = o * len;
    let x = input.data();
    let per_task = samples_per_task(g.n, per_out * rows);
    let spare = &mut out.spare_capacity_mut()[..numel];
    parallel_pieces(spare, per_task * per_out, |offset, ys| {
        with_scratch(rows * len, |cols| {
            for (s, y) in ys.chunks_mut(per_out).enumerate() {
                // Start every output channel at its bias; the GEMM then adds W·cols (β = 1).
                let beta = match bias {
                    Some(b) => {
                        for (plane, &bv) in y.chunks_mut(len).zip(b.data()) {
                            plane.fill(std::mem::MaybeUninit::new(bv));
                        }
                        1.0
                    }
                    None => {
                        y.fill(std::mem::MaybeUninit::new(0.0));
                        0.0
                    }
                };
                // SAFETY: every element of `y` was written just above.
                let y = unsafe { &mut *(y as *mut [std::mem::MaybeUninit<f32>] as *mut [f32]) };
                g.im2col_sample(part(x, offset / per_out + s, g.sample()), cols);
                sgemm(
                    o,
                    rows,
                    len,
                    1.0,
                    weight.data(),
                    (rows, 1),
                    cols,
                    (len, 1),
                    beta,
                    y,
                    (len, 1),
                );
            }
        })
    });
    // SAFETY: the tasks wrote all `numel` elements (each its samples, all of each sample).
    unsafe { out.set_len(numel) };
    Tensor::from_vec(out, [g.n, o, g.oh, g.ow])
}

/// The gradients of [`conv2d`] that `needs` asks for, `[input, weight, bias]`, in one call
/// (PyTorch's `aten::convolution_backward` with its `output_mask`): the same tensors as
/// [`conv2d_grad_input`], [`conv2d_grad_weight`] and `grad_out` summed over `N, OH, OW`, but
/// when both products are needed the output gradient's density (which picks the sparse path,
/// see those functions) is counted once, not twice.
///
/// ```
/// use tensor::{conv2d_backward, conv2d_grad_weight, Conv2dParams, Tensor};
/// let x = Tensor::from_vec((0..16).map(|v| v as f32).collect(), [1, 1, 4, 4]);
/// let w = Tensor::from_vec(vec![1.0; 4], [1, 1, 2, 2]);
/// let p = Conv2dParams::default();
/// let g = Tensor::from_vec(vec![1.0; 9], [1, 1, 3, 3]);
/// let [dx, dw, db] = conv2d_backward(&g, &x, &w, &p, [true, true, true]);
/// assert_eq!(dw.unwrap(), conv2d_grad_weight(&g, &x, [1, 1, 2, 2], &p));
/// assert_eq!(dx.unwrap().dims(), &[1, 1, 4, 4]);
/// assert_eq!(db.unwrap().to_vec(), vec![9.0]);
/// ```
///
/// # Shapes
/// `grad_out [N, O, OH, OW]`, `input [N, C, H, W]`, `weight [O, C, kh, kw]` → `[N, C, H, W]`,
/// `[O, C, kh, kw]`, `[O]`.
///
/// # Panics
/// If the shapes do not belong to one convolution with these parameters.
#[track_caller]
pub fn conv2d_backward(
    grad_out: &Tensor,
    input: &Tensor,
    weight: &Tensor,
    params: &Conv2dParams,
    needs: [bool; 3],
) -> [Option<Tensor>; 3] {
    let sparse = (needs[0] && needs[1]).then(|| sparse::is_sparse(grad_out.data()));
    let o = weight.dims().first().copied().unwrap_or(0);
    [
        needs[0].then(|| grad_input(grad_out, weight, input.shape().clone(), params, sparse)),
        needs[1].then(|| grad_weight(grad_out, input, weight.shape().clone(), params, sparse)),
        needs[2].then(|| grad_out.sum_to(&Shape::from([o, 1, 1])).reshape([o])),
    ]
}

/// Gradient of [`conv2d`] with respect to its input: `col2im(Wᵀ · gₙ)` for each sample `n`.
///
/// # Shapes
/// `grad_out [N, O, OH, OW]`, `weight [O, C, kh, kw]`, `input_shape [N, C, H, W]` →
/// `[N, C, H, W]`.
///
/// # Panics
/// If the shapes do not belong to one convolution with these parameters.
#[track_caller]
pub fn conv2d_grad_input(
    grad_out: &Tensor,
    weight: &Tensor,
    input_shape: impl Into<Shape>,
    params: &Conv2dParams,
) -> Tensor {
    grad_input(grad_out, weight, input_shape.into(), params, None)
}

/// [`conv2d_grad_input`], with the sparse path's test (`sparse::is_sparse` of `grad_out`)
/// already made when `sparse` is given.
#[track_caller]
fn grad_input(
    grad_out: &Tensor,
    weight: &Tensor,
    input_shape: Shape,
    params: &Conv2dParams,
    sparse: Option<bool>,
) -> Tensor {
    let op = "conv2d_grad_input";
    let (o, kernel) = weight_dims(op, weight.shape(), &input_shape);
    let g = Geom::new(op, &input_shape, kernel, params);
    check_grad_out(op, grad_out, &g, o, &input_shape);
    if g.n > 0 && g.c > 0 && o > 0 && sparse.unwrap_or_else(|| sparse::is_sparse(grad_out.data())) {
        let dx = sparse::grad_input(&g, o, grad_out.data(), weight.data());
        return Tensor::from_vec(dx, input_shape);
    }
    let (kh, kw) = kernel;
    let unit = params.stride == (1, 1) && params.dilation == (1, 1);
    if unit && g.ph < kh && g.pw < kw && g.n > 0 && g.c > 0 && o > 0 {
        // With stride and dilation 1 the input gradient is itself a convolution: of the
        // gradient, padded by k − 1 − p, with the kernel flipped in space and its channel
        // axes swapped, W′[c, o, i, j] = W[o, c, kh−1−i, kw−1−j]. That GEMM sums over
        // O·kh·kw (800 for the reference CNN) instead of O (32), and needs no col2im.
        let w = weight.data();
        let mut flipped = vec![0.0; w.len()];
        for (oi, filters) in w.chunks_exact(g.c * kh * kw).enumerate() {
            for (ci, taps) in filters.chunks_exact(kh * kw).enumerate() {
                for (t, &v) in taps.iter().enumerate() {
                    let (i, j) = (t / kw, t % kw);
                    flipped[((ci * o + oi) * kh + kh - 1 - i) * kw + kw - 1 - j] = v;
                }
            }
        }
        let flipped = Tensor::from_vec(flipped, [g.c, o, kh, kw]);
        let p = Conv2dParams {
            stride: (1, 1),
            padding: (kh - 1 - g.ph, kw - 1 - g.pw),
            dilation: (1, 1),
        };
        return conv2d(grad_out, &flipped, None, &p);
    }
    let (rows, len) = (g.rows(), g.len());
    let mut dx = vec![0.0; input_shape.numel()];
    let (per_in, gd) = (g.sample(), grad_out.data());
    let per_task = samples_per_task(g.n, o * rows * len);
    parallel_pieces(&mut dx, per_task * per_in, |offset, dxs| {
        with_scratch(rows * len, |cols| {
            for (s, dxn) in dxs.chunks_mut(per_in).enumerate() {
                let gy = part(gd, offset / per_in + s, o * len);
                // Wᵀ is W [O, C·kh·kw] read with swapped strides.
                sgemm(
                    rows,
                    o,
                    len,
                    1.0,
                    weight.data(),
                    (1, rows),
                    gy,
                    (len, 1),
                    0.0,
                    cols,
                    (len, 1),
                );
                g.col2im_sample(cols, dxn);
            }
        })
    });
    Tensor::from_vec(dx, input_shape)
}

/// Gradient of [`conv2d`] with respect to its weight: `Σₙ gₙ · im2col(input)ₙᵀ`.
///
/// # Shapes
/// `grad_out [N, O, OH, OW]`, `input [N, C, H, W]`, `weight_shape [O, C, kh, kw]` →
/// `[O, C, kh, kw]`.
///
/// # Panics
/// If the shapes do not belong to one convolution with these parameters.
#[track_caller]
pub fn conv2d_grad_weight(
    grad_out: &Tensor,
    input: &Tensor,
    weight_shape: impl Into<Shape>,
    params: &Conv2dParams,
) -> Tensor {
    grad_weight(grad_out, input, weight_shape.into(), params, None)
}

/// [`conv2d_grad_weight`], with the sparse path's test (`sparse::is_sparse` of `grad_out`)
/// already made when `sparse` is given.
#[track_caller]
fn grad_weight(
    grad_out: &Tensor,
    input: &Tensor,
    weight_shape: Shape,
    params: &Conv2dParams,
    sparse: Option<bool>,
) -> Tensor {
    let op = "conv2d_grad_weight";
    let (o, kernel) = weight_dims(op, &weight_shape, input.shape());
    let g = Geom::new(op, input.shape(), kernel, params);
    check_grad_out(op, grad_out, &g, o, input.shape());
    if g.n > 0 && g.c > 0 && o > 0 && sparse.unwrap_or_else(|| sparse::is_sparse(grad_out.data())) {
        let dw = sparse::grad_weight(&g, o, grad_out.data(), input.data());
        return Tensor::from_vec(dw, weight_shape);
    }
    let (rows, len) = (g.rows(), g.len());
    let per_w = weight_shape.numel();
    let groups = g.n.div_ceil(WEIGHT_GRAD_GROUP);
    let mut sums = vec![0.0; groups * per_w];
    let (x, gd) = (input.data(), grad_out.data());
    parallel_pieces(&mut sums, per_w, |offset, dw| {
        let first = offset / per_w * WEIGHT_GRAD_GROUP;
        with_scratch(rows * len, |cols| {
            for n in first..(first + WEIGHT_GRAD_GROUP).min(g.n) {
                g.im2col_sample(part(x, n, g.sample()), cols);
                let gy = part(gd, n, o * len);
                // colsᵀ is cols [C·kh·kw, OH·OW] read with swapped strides; β = 1 sums over n.
                sgemm(
                    o,
                    len,
                    rows,
                    1.0,
                    gy,
                    (len, 1),
                    cols,
                    (1, len),
                    1.0,
                    dw,
                    (rows, 1),
                );
            }
        })
    });
    // The group sums, added in group order.
    let mut groups = sums.chunks_exact(per_w.max(1));
    let mut dw = groups
        .next()
        .map_or_else(|| vec![0.0; per_w], <[f32]>::to_vec);
    for group in groups {
        for (d, v) in dw.iter_mut().zip(group) {
            *d += v;
        }
    }
    Tensor::from_vec(dw, weight_shape)
}

mod sparse;

#[cfg(test)]
pub(crate) mod tests;
