//! 2-D convolution and pooling on NCHW tensors (batch, channels, height, width).
//!
//! Convolution is lowered to a matrix product: [`im2col`] copies every receptive field of one
//! sample into a column, so that the convolution is one GEMM of the weight, seen as an
//! `[O, C·kh·kw]` matrix, by the columns, `[C·kh·kw, OH·OW]`. The backward pass reuses the same
//! two pieces: ∂L/∂input = col2im(Wᵀ·G) and ∂L/∂W = Σₙ G·colsᵀ, where [`col2im`] is the
//! adjoint of [`im2col`] (it adds overlapping patches back together).
//!
//! Output sizes follow PyTorch: `OH = ⌊(H + 2·pad − dil·(kh − 1) − 1) / stride⌋ + 1`, and the
//! same for the width.

use crate::error::shape_panic;
use crate::matmul::sgemm;
use crate::parallel::{parallel_pieces, threads_for, SharedMut};
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

/// Everything the kernels need to walk one sample: its sizes, the window and the output size.
#[derive(Debug, Clone, Copy)]
struct Geom {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
    dh: usize,
    dw: usize,
    oh: usize,
    ow: usize,
}

impl Geom {
    /// Validates an NCHW shape against a window and computes the output size.
    #[track_caller]
    fn new(op: &str, input: &Shape, kernel: (usize, usize), p: &Conv2dParams) -> Geom {
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

    /// Rows of the column matrix of one sample: C·kh·kw.
    fn rows(&self) -> usize {
        self.c * self.kh * self.kw
    }

    /// Output positions per channel: OH·OW.
    fn len(&self) -> usize {
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

    /// im2col of one sample: `x` is `[C, H, W]`, `cols` is `[C·kh·kw, OH·OW]`.
    fn im2col_sample(&self, x: &[f32], cols: &mut [f32]) {
        if self.padded_path() {
            // Copy the sample once into a zero-padded buffer; every row segment of the
            // column matrix is then a plain run of OW inputs.
            let (hp, wp) = self.padded_dims();
            return with_scratch(self.c * hp * wp, |padded| {
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
            });
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

/// Calls `f` with a scratch buffer of `len` elements owned by the current thread, kept from
/// call to call so that the column matrices of a convolution are not allocated (and, being
/// large, page-faulted in) at every step. Its contents are whatever the last user left.
/// Nested calls get different buffers.
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    thread_local! {
        static FREE: std::cell::RefCell<Vec<Vec<f32>>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut buf = FREE
        .with(|free| free.borrow_mut().pop())
        .unwrap_or_default();
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let r = f(&mut buf[..len]);
    FREE.with(|free| free.borrow_mut().push(buf));
    r
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
fn check_grad_out(op: &str, grad_out: &Tensor, g: &Geom, o: usize, input: &Shape) {
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
    if let Some(b) = bias {
        if b.dims() != [o] {
            shape_panic(
                "conv2d",
                format_args!(
                    "bias must be [{o}] for weight {:?}, got {:?}",
                    weight.shape(),
                    b.shape()
                ),
            );
        }
    }
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
    let op = "conv2d_grad_input";
    let input_shape = input_shape.into();
    let (o, kernel) = weight_dims(op, weight.shape(), &input_shape);
    let g = Geom::new(op, &input_shape, kernel, params);
    check_grad_out(op, grad_out, &g, o, &input_shape);
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
    let op = "conv2d_grad_weight";
    let weight_shape = weight_shape.into();
    let (o, kernel) = weight_dims(op, &weight_shape, input.shape());
    let g = Geom::new(op, input.shape(), kernel, params);
    check_grad_out(op, grad_out, &g, o, input.shape());
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
    let mut vals = vec![0.0; total];
    let mut idx = vec![0; total];
    let shared_vals = SharedMut::new(&mut vals);
    let planes_per_task = planes_per_task(g.n * g.c, plane_out * g.kh * g.kw);
    parallel_pieces(&mut idx, planes_per_task * plane_out, |offset, idx| {
        // SAFETY: each task takes the values of its own planes.
        let vals = unsafe { shared_vals.slice(offset..offset + idx.len()) };
        let planes = vals.chunks_mut(plane_out).zip(idx.chunks_mut(plane_out));
        for (k, (v, i)) in planes.enumerate() {
            max_pool_plane(&g, x, (offset / plane_out + k) * plane_in, v, i);
        }
    });
    (Tensor::from_vec(vals, [g.n, g.c, g.oh, g.ow]), idx)
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

/// Max pooling of the plane starting at `base` in `x`: the values and flat indices of the
/// winners of its `OH·OW` windows.
fn max_pool_plane(g: &Geom, x: &[f32], base: usize, vals: &mut [f32], idx: &mut [usize]) {
    let w = g.w;
    if (g.kh, g.kw, g.sh, g.sw, g.ph, g.pw) == (2, 2, 2, 2, 0, 0) {
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
    let per_task = planes_per_task(planes, plane_out);
    let spare = &mut dx.spare_capacity_mut()[..numel];
    parallel_pieces(spare, per_task * plane_in, |offset, dx| {
        for (p, dx) in dx.chunks_mut(plane_in).enumerate() {
            dx.fill(std::mem::MaybeUninit::new(0.0));
            // SAFETY: every element of `dx` was written just above.
            let dx = unsafe { &mut *(dx as *mut [std::mem::MaybeUninit<f32>] as *mut [f32]) };
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

    /// A tiny linear congruential generator: fixed, reproducible test data in [-1, 1).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> f32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        }
        fn tensor(&mut self, dims: &[usize]) -> Tensor {
            let n = dims.iter().product();
            Tensor::from_vec((0..n).map(|_| self.next()).collect(), dims)
        }
    }

    fn params(s: (usize, usize), p: (usize, usize), d: (usize, usize)) -> Conv2dParams {
        Conv2dParams {
            stride: s,
            padding: p,
            dilation: d,
        }
    }

    /// The direct 7-loop convolution (n, o, y, x, c, i, j), summed in f64.
    fn naive_conv(x: &Tensor, w: &Tensor, b: Option<&Tensor>, p: &Conv2dParams) -> Tensor {
        let [n, c, h, wd] = *x.dims() else { panic!() };
        let [o, _, kh, kw] = *w.dims() else { panic!() };
        let oh = (h + 2 * p.padding.0 - p.dilation.0 * (kh - 1) - 1) / p.stride.0 + 1;
        let ow = (wd + 2 * p.padding.1 - p.dilation.1 * (kw - 1) - 1) / p.stride.1 + 1;
        let mut out = Tensor::zeros([n, o, oh, ow]);
        for ni in 0..n {
            for oi in 0..o {
                for y in 0..oh {
                    for xo in 0..ow {
                        let mut s = b.map_or(0.0, |b| b.data()[oi] as f64);
                        for ci in 0..c {
                            for i in 0..kh {
                                for j in 0..kw {
                                    let iy = (y * p.stride.0 + i * p.dilation.0) as isize
                                        - p.padding.0 as isize;
                                    let ix = (xo * p.stride.1 + j * p.dilation.1) as isize
                                        - p.padding.1 as isize;
                                    if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                        continue;
                                    }
                                    s += w.get(&[oi, ci, i, j]) as f64
                                        * x.get(&[ni, ci, iy as usize, ix as usize]) as f64;
                                }
                            }
                        }
                        out.set(&[ni, oi, y, xo], s as f32);
                    }
                }
            }
        }
        out
    }

    fn dot(a: &Tensor, b: &Tensor) -> f64 {
        assert_eq!(a.dims(), b.dims());
        a.data()
            .iter()
            .zip(b.data())
            .map(|(&x, &y)| x as f64 * y as f64)
            .sum()
    }

    fn assert_close(got: &Tensor, want: &Tensor, tol: f32) {
        assert_eq!(got.dims(), want.dims());
        for (i, (g, w)) in got.data().iter().zip(want.data()).enumerate() {
            assert!(
                (g - w).abs() <= tol * (1.0 + w.abs()),
                "element {i}: got {g}, want {w}"
            );
        }
    }

    /// (stride, padding, dilation) combinations the tests sweep.
    fn combos() -> Vec<Conv2dParams> {
        vec![
            params((1, 1), (0, 0), (1, 1)),
            params((1, 1), (1, 1), (1, 1)),
            params((2, 2), (1, 1), (1, 1)),
            params((1, 1), (2, 2), (2, 2)),
            params((2, 1), (0, 2), (1, 2)),
            params((3, 2), (1, 0), (2, 1)),
        ]
    }

    #[test]
    fn im2col_by_hand() {
        let x = Tensor::arange(1.0, 10.0, 1.0).reshape([1, 1, 3, 3]);
        let cols = im2col(&x, (2, 2), &Conv2dParams::default());
        #[rustfmt::skip]
        let want = vec![
            1.0, 2.0, 4.0, 5.0, // tap (0, 0) of the four windows
            2.0, 3.0, 5.0, 6.0, // tap (0, 1)
            4.0, 5.0, 7.0, 8.0, // tap (1, 0)
            5.0, 6.0, 8.0, 9.0, // tap (1, 1)
        ];
        assert_eq!(cols.dims(), &[1, 4, 4]);
        assert_eq!(cols.to_vec(), want);
    }

    #[test]
    fn im2col_padding_stride_by_hand() {
        // 1 x 3 row, kernel 1 x 2, padding 1 on the width, stride 2:
        // padded row is [0, 1, 2, 3, 0], windows start at 0 and 2.
        let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [1, 1, 1, 3]);
        let p = params((1, 2), (0, 1), (1, 1));
        let cols = im2col(&x, (1, 2), &p);
        assert_eq!(cols.dims(), &[1, 2, 2]);
        assert_eq!(cols.to_vec(), vec![0.0, 2.0, 1.0, 3.0]);
    }

    #[test]
    fn conv2d_matches_naive_for_stride_padding_dilation() {
        let mut r = Lcg(10);
        // The second shape's rows are wide enough (OW ≥ 8) for the padded im2col path.
        for (p, shape) in combos()
            .into_iter()
            .flat_map(|p| [(p, [2, 3, 7, 6]), (p, [2, 3, 6, 13])])
        {
            let x = r.tensor(&shape);
            let w = r.tensor(&[4, 3, 3, 2]);
            let b = r.tensor(&[4]);
            assert_close(
                &conv2d(&x, &w, None, &p),
                &naive_conv(&x, &w, None, &p),
                1e-5,
            );
            assert_close(
                &conv2d(&x, &w, Some(&b), &p),
                &naive_conv(&x, &w, Some(&b), &p),
                1e-5,
            );
        }
    }

    #[test]
    fn conv2d_1x1_is_a_matmul_over_channels() {
        let mut r = Lcg(11);
        let x = r.tensor(&[1, 3, 2, 2]);
        let w = r.tensor(&[2, 3, 1, 1]);
        let y = conv2d(&x, &w, None, &Conv2dParams::default());
        let want = w.reshape([2, 3]).matmul(&x.reshape([3, 4]));
        assert_close(&y.reshape([2, 4]), &want, 1e-6);
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        let mut r = Lcg(12);
        for (p, shape) in combos()
            .into_iter()
            .flat_map(|p| [(p, [2, 3, 7, 6]), (p, [2, 3, 6, 13])])
        {
            let x = r.tensor(&shape);
            let cols = im2col(&x, (3, 2), &p);
            let y = r.tensor(cols.dims());
            let back = col2im(&y, shape, (3, 2), &p);
            let (lhs, rhs) = (dot(&cols, &y), dot(&x, &back));
            assert!(
                (lhs - rhs).abs() < 1e-4 * (1.0 + lhs.abs()),
                "{p:?}: {lhs} vs {rhs}"
            );
        }
    }

    #[test]
    fn col2im_counts_overlaps() {
        // col2im of all-ones columns counts how many windows cover each pixel.
        let cols = Tensor::ones([1, 4, 4]);
        let img = col2im(&cols, [1, 1, 3, 3], (2, 2), &Conv2dParams::default());
        assert_eq!(
            img.to_vec(),
            vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]
        );
    }

    /// L(x, w) = Σ conv2d(x, w) ⊙ r, accumulated in f64. It is linear in x and in w, so
    /// a central difference with a large step is exact up to rounding.
    fn loss(x: &Tensor, w: &Tensor, r: &Tensor, p: &Conv2dParams) -> f64 {
        dot(&conv2d(x, w, None, p), r)
    }

    #[test]
    fn grad_input_and_grad_weight_match_finite_differences() {
        let mut rng = Lcg(13);
        let h = 0.5f32;
        for (p, shape) in combos()
            .into_iter()
            .flat_map(|p| [(p, [2, 2, 6, 5]), (p, [1, 2, 4, 12])])
        {
            let x = rng.tensor(&shape);
            let w = rng.tensor(&[3, 2, 2, 3]);
            let y = conv2d(&x, &w, None, &p);
            let r = rng.tensor(y.dims());
            let gx = conv2d_grad_input(&r, &w, x.shape(), &p);
            let gw = conv2d_grad_weight(&r, &x, w.shape(), &p);
            assert_eq!(gx.dims(), x.dims());
            assert_eq!(gw.dims(), w.dims());
            for i in 0..x.numel() {
                let (mut xp, mut xm) = (x.clone(), x.clone());
                xp.data_mut()[i] += h;
                xm.data_mut()[i] -= h;
                let num = (loss(&xp, &w, &r, &p) - loss(&xm, &w, &r, &p)) / (2.0 * h as f64);
                let ana = gx.data()[i] as f64;
                assert!(
                    (num - ana).abs() < 1e-4 * (1.0 + num.abs()),
                    "{p:?} x[{i}]: {ana} vs {num}"
                );
            }
            for i in 0..w.numel() {
                let (mut wp, mut wm) = (w.clone(), w.clone());
                wp.data_mut()[i] += h;
                wm.data_mut()[i] -= h;
                let num = (loss(&x, &wp, &r, &p) - loss(&x, &wm, &r, &p)) / (2.0 * h as f64);
                let ana = gw.data()[i] as f64;
                assert!(
                    (num - ana).abs() < 1e-4 * (1.0 + num.abs()),
                    "{p:?} w[{i}]: {ana} vs {num}"
                );
            }
        }
    }

    #[test]
    fn grad_input_on_hand_example() {
        // All-ones 2x2 kernel, 3x3 input, no padding: each input pixel gets the sum of the
        // upstream gradients of the windows covering it.
        let w = Tensor::ones([1, 1, 2, 2]);
        let gy = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
        let gx = conv2d_grad_input(&gy, &w, [1, 1, 3, 3], &Conv2dParams::default());
        assert_eq!(
            gx.to_vec(),
            vec![1.0, 3.0, 2.0, 4.0, 10.0, 6.0, 3.0, 7.0, 4.0]
        );
    }

    #[test]
    fn empty_batch() {
        let x = Tensor::zeros([0, 2, 5, 5]);
        let w = Tensor::ones([3, 2, 3, 3]);
        let y = conv2d(&x, &w, Some(&Tensor::ones([3])), &Conv2dParams::default());
        assert_eq!(y.dims(), &[0, 3, 3, 3]);
        let gw = conv2d_grad_weight(&y, &x, w.shape(), &Conv2dParams::default());
        assert_eq!(gw, Tensor::zeros([3, 2, 3, 3]));
        assert_eq!(
            im2col(&x, (3, 3), &Conv2dParams::default()).dims(),
            &[0, 18, 9]
        );
    }

    #[test]
    fn kernel_as_large_as_input_gives_1x1() {
        let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
        let w = Tensor::from_vec(vec![1.0, 10.0, 100.0, 1000.0], [1, 1, 2, 2]);
        let b = Tensor::from_vec(vec![0.5], [1]);
        let y = conv2d(&x, &w, Some(&b), &Conv2dParams::default());
        assert_eq!(y.dims(), &[1, 1, 1, 1]);
        assert_eq!(y.item(), 4321.5);
    }

    #[test]
    #[should_panic(
        expected = "conv2d: channels differ: input [1, 3, 5, 5] has 3 channels, weight [2, 4, 3, 3] expects 4"
    )]
    fn channel_mismatch_panics() {
        conv2d(
            &Tensor::zeros([1, 3, 5, 5]),
            &Tensor::zeros([2, 4, 3, 3]),
            None,
            &Conv2dParams::default(),
        );
    }

    #[test]
    #[should_panic(expected = "conv2d: output size would be < 1: input [1, 1, 2, 2]")]
    fn output_smaller_than_one_panics() {
        conv2d(
            &Tensor::zeros([1, 1, 2, 2]),
            &Tensor::zeros([1, 1, 3, 3]),
            None,
            &Conv2dParams::default(),
        );
    }

    #[test]
    #[should_panic(expected = "conv2d: bias must be [2]")]
    fn bad_bias_panics() {
        conv2d(
            &Tensor::zeros([1, 1, 3, 3]),
            &Tensor::zeros([2, 1, 3, 3]),
            Some(&Tensor::zeros([3])),
            &Conv2dParams::default(),
        );
    }

    #[test]
    #[should_panic(expected = "im2col: stride must be at least 1")]
    fn zero_stride_panics() {
        im2col(
            &Tensor::zeros([1, 1, 3, 3]),
            (2, 2),
            &params((0, 1), (0, 0), (1, 1)),
        );
    }

    #[test]
    #[should_panic(
        expected = "conv2d_grad_input: grad_out [1, 2, 3, 3] does not match input [1, 1, 5, 5]: expected [1, 2, 4, 4]"
    )]
    fn grad_out_mismatch_panics() {
        // Output for a 5x5 input with a 2x2 kernel is 4x4, not 3x3.
        conv2d_grad_input(
            &Tensor::zeros([1, 2, 3, 3]),
            &Tensor::zeros([2, 1, 2, 2]),
            [1, 1, 5, 5],
            &Conv2dParams::default(),
        );
    }

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
    fn threads_do_not_change_convolutions_or_pooling() {
        // The reference CNN's second layer on a batch large enough to be split by samples.
        let mut r = Lcg(11);
        let x = r.tensor(&[20, 16, 14, 14]);
        let w = r.tensor(&[32, 16, 5, 5]);
        let b = r.tensor(&[32]);
        let p = params((1, 1), (2, 2), (1, 1));
        let runs = crate::parallel::with_thread_counts(&[1, 2, 3], || {
            let y = conv2d(&x, &w, Some(&b), &p);
            let gx = conv2d_grad_input(&y, &w, x.shape(), &p);
            let gw = conv2d_grad_weight(&y, &x, w.shape(), &p);
            let (m, idx) = max_pool2d(&y, &Pool2dParams::new((2, 2)));
            let gp = max_pool2d_backward(&m, &idx, y.shape());
            (y, gx, gw, m, idx, gp)
        });
        assert_close(&runs[0].0, &naive_conv(&x, &w, Some(&b), &p), 1e-4);
        for (t, other) in runs[1..].iter().enumerate() {
            assert!(
                runs[0].0 == other.0,
                "conv2d differs with {} threads",
                t + 2
            );
            assert!(
                runs[0].1 == other.1,
                "grad_input differs with {} threads",
                t + 2
            );
            assert!(
                runs[0].2 == other.2,
                "grad_weight differs with {} threads",
                t + 2
            );
            assert!(
                runs[0].3 == other.3 && runs[0].4 == other.4,
                "max_pool2d differs"
            );
            assert!(runs[0].5 == other.5, "max_pool2d_backward differs");
        }
    }

    #[test]
    fn max_pool_2x2_fast_path_against_a_hand_loop() {
        // 2x2 windows with stride 2 take the fast path; an odd width leaves a column out.
        // Ties go to the first candidate in row-major order, NaN wins.
        let mut r = Lcg(12);
        let mut x = r.tensor(&[2, 3, 6, 7]);
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
        let mut r = Lcg(14);
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
            let x = r.tensor(&shape);
            let y = avg_pool2d(&x, &p);
            let gy = r.tensor(y.dims());
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
