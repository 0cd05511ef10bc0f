//! The backward pass of a convolution when its output gradient is mostly zeros.
//!
//! **Why the gradient is sparse.** In a network that follows a convolution with ReLU and a
//! 2x2 max pooling, the pooling sends each window's gradient to one of its four inputs, and
//! ReLU zeroes it again where the convolution's output was negative. So at most a quarter of
//! the convolution's output positions, often fewer, get a nonzero gradient. The dense
//! backward (a GEMM per sample) multiplies all those zeros anyway; the kernels here visit
//! only the nonzero entries, doing (nonzero fraction) × the dense work.
//!
//! **Layout.** Each sample's input is copied once into a zero-padded, channel-last buffer
//! `xt [H + 2·ph, W + 2·pw, C]`, and the weight is permuted to `Wt [O, kh, kw, C]`. Then the
//! receptive field of output position `p` is a few contiguous *runs* of `xt`: one per kernel
//! row `i` of `kw·C` floats (the `kw` taps side by side, when the horizontal dilation is 1), or
//! one per tap of `C` floats (otherwise); and each run lines up with a contiguous stretch of a
//! row of `Wt`. With `g = grad_out[n, o, p]`:
//!
//! - weight gradient: `dWt[o, run] += Σ_{p : g ≠ 0} g · xt[patch(p) + run]`, for each `o`;
//! - input gradient: `dxt[patch(p) + run] += Σ_{o : g ≠ 0} g · Wt[o, run]`, for each `p`,
//!   after which the interior of `dxt` is copied back to NCHW.
//!
//! Both are one kernel, [`Gather`]: a sum of scaled rows picked from a list of
//! (offset, factor) pairs, kept in registers for the whole list (16-float chunks, several
//! independent partial sums so that the fused multiply-adds do not wait for each other) and
//! written out once. Runs are read in whole 16-float chunks; the lanes past a run's end are
//! computed and dropped (the buffers have a 16-float tail so that the reads stay inside).
//!
//! The sums run over the nonzero entries in a fixed order (positions, then output channels,
//! in increasing order; samples in fixed groups), so the result does not depend on the thread
//! count. It equals the dense path up to float rounding (the order of the additions differs),
//! except that a zero gradient times an infinite input gives 0 here and NaN in the dense
//! product.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{part, Geom, WEIGHT_GRAD_GROUP};
use crate::gather::{count_nonzero, dispatch, Gather, ListBuf, MAX_CHUNKS, OUT};
use crate::parallel::{parallel_for, parallel_pieces};
use crate::scratch::with_scratch;

/// The sparse kernels are used when at most this fraction of the output gradient is nonzero
/// (a property of the data alone, never of the thread count). Measured on the reference
/// CNN's second convolution (16 → 32 channels, 5x5, 14x14), the sparse kernels beat the
/// GEMMs up to about this density.
pub(super) const MAX_DENSITY: f64 = 0.4;

/// Floats past the end of each buffer that [`Gather`] may read (a chunk's unused lanes).
const TAIL: usize = 16;

/// Whether `grad` (an output gradient) is sparse enough for the kernels of this module.
pub(super) fn is_sparse(grad: &[f32]) -> bool {
    #[cfg(test)]
    if DENSE_ONLY.with(std::cell::Cell::get) {
        return false;
    }
    // Counted in blocks that the threads share (a count does not depend on the cut).
    let nonzero = AtomicUsize::new(0);
    let blocks = grad.len().div_ceil(COUNT_BLOCK);
    parallel_for(blocks, &|b| {
        let block = &grad[b * COUNT_BLOCK..((b + 1) * COUNT_BLOCK).min(grad.len())];
        nonzero.fetch_add(count_nonzero(block), Ordering::Relaxed);
    });
    (nonzero.into_inner() as f64) <= MAX_DENSITY * grad.len() as f64
}

/// Elements of an output gradient per task of [`is_sparse`]'s count.
const COUNT_BLOCK: usize = 1 << 17;

/// A contiguous stretch of one receptive field: `len` floats at offset `x` from the patch's
/// first element in `xt`, and at offset `w` in a row of `Wt`.
#[derive(Clone, Copy, Debug)]
struct Piece {
    x: usize,
    w: usize,
    len: usize,
}

/// Up to [`MAX_CHUNKS`] pieces of at most 16 floats each, summed in one pass over a list:
/// the first `n` entries of `x`, `w` and `len` are the pieces' fields.
#[derive(Clone, Copy, Debug)]
struct Group {
    n: usize,
    x: [usize; MAX_CHUNKS],
    w: [usize; MAX_CHUNKS],
    len: [usize; MAX_CHUNKS],
}

/// The channel-last, padded view of one convolution: its runs and where each patch starts.
struct Layout {
    /// Height and width of the padded input.
    hp: usize,
    wp: usize,
    /// The receptive field as pieces of at most 16 floats, in groups of at most
    /// [`MAX_CHUNKS`] (as even as possible: 25 pieces are groups of 7, 6, 6 and 6).
    groups: Vec<Group>,
    /// Offset in `xt` of the first element of each output position's patch.
    patch: Vec<u32>,
    /// Length of a row of `Wt`: kh·kw·C.
    row: usize,
}

impl Layout {
    fn new(g: &Geom) -> Layout {
        let (hp, wp, c) = (g.h + 2 * g.ph, g.w + 2 * g.pw, g.c);
        let mut runs = Vec::new();
        for i in 0..g.kh {
            if g.dw == 1 {
                runs.push(Piece {
                    x: i * g.dh * wp * c,
                    w: i * g.kw * c,
                    len: g.kw * c,
                });
            } else {
                for j in 0..g.kw {
                    runs.push(Piece {
                        x: (i * g.dh * wp + j * g.dw) * c,
                        w: (i * g.kw + j) * c,
                        len: c,
                    });
                }
            }
        }
        let pieces: Vec<Piece> = runs
            .iter()
            .flat_map(|r| {
                (0..r.len).step_by(16).map(move |s| Piece {
                    x: r.x + s,
                    w: r.w + s,
                    len: (r.len - s).min(16),
                })
            })
            .collect();
        let count = pieces.len().div_ceil(MAX_CHUNKS);
        let mut groups = Vec::with_capacity(count);
        let mut rest = &pieces[..];
        for k in 0..count {
            let n = pieces.len() / count + usize::from(k < pieces.len() % count);
            let (now, later) = rest.split_at(n);
            let mut gr = Group {
                n,
                x: [0; MAX_CHUNKS],
                w: [0; MAX_CHUNKS],
                len: [0; MAX_CHUNKS],
            };
            for (c, pc) in now.iter().enumerate() {
                (gr.x[c], gr.w[c], gr.len[c]) = (pc.x, pc.w, pc.len);
            }
            groups.push(gr);
            rest = later;
        }
        let mut patch = Vec::with_capacity(g.len());
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                let at = ((oy * g.sh) * wp + ox * g.sw) * c;
                patch.push(u32::try_from(at).expect("a padded sample below 2^32 elements"));
            }
        }
        Layout {
            hp,
            wp,
            groups,
            patch,
            row: g.kh * g.kw * c,
        }
    }

    /// Elements of `xt` (without its tail).
    fn padded(&self, g: &Geom) -> usize {
        self.hp * self.wp * g.c
    }
}

/// Copies sample `x [C, H, W]` into the interior of `xt [H + 2·ph, W + 2·pw, C]`, which is
/// zeroed first (with its tail).
fn to_padded_hwc(g: &Geom, l: &Layout, x: &[f32], xt: &mut [f32]) {
    xt.fill(0.0);
    let c = g.c;
    for (ci, plane) in x.chunks_exact(g.h * g.w).enumerate() {
        for (y, row) in plane.chunks_exact(g.w).enumerate() {
            let start = ((y + g.ph) * l.wp + g.pw) * c + ci;
            for (k, &v) in row.iter().enumerate() {
                xt[start + k * c] = v;
            }
        }
    }
}

/// Adds the interior of `dxt [H + 2·ph, W + 2·pw, C]` to nothing: writes it to `dx [C, H, W]`.
fn from_padded_hwc(g: &Geom, l: &Layout, dxt: &[f32], dx: &mut [f32]) {
    let c = g.c;
    for (ci, plane) in dx.chunks_exact_mut(g.h * g.w).enumerate() {
        for (y, row) in plane.chunks_exact_mut(g.w).enumerate() {
            let start = ((y + g.ph) * l.wp + g.pw) * c + ci;
            for (k, d) in row.iter_mut().enumerate() {
                *d = dxt[start + k * c];
            }
        }
    }
}

/// Weight gradient of the samples `first..first + count`, added into `dwt [O, kh·kw·C]`.
#[inline(always)]
fn grad_weight_body<K: Gather>(
    g: &Geom,
    l: &Layout,
    o: usize,
    samples: (usize, usize),
    (gd, x): (&[f32], &[f32]),
    dwt: &mut [f32],
    (xt, buf): (&mut [f32], &mut ListBuf),
) {
    let len = g.len();
    let mut acc = [0.0f32; OUT];
    for n in samples.0..samples.0 + samples.1 {
        to_padded_hwc(g, l, part(x, n, g.sample()), xt);
        let gn = part(gd, n, o * len);
        for (go, row) in gn.chunks_exact(len).zip(dwt.chunks_exact_mut(l.row)) {
            let k = K::compact(go, &l.patch, buf.slots(0));
            if k == 0 {
                continue;
            }
            for gr in &l.groups {
                K::gather(buf.list(k), xt, &gr.x, gr.n, &mut acc);
                for (c, sum) in acc.chunks_exact(16).take(gr.n).enumerate() {
                    let (at, len) = (gr.w[c], gr.len[c]);
                    for (d, &v) in row[at..at + len].iter_mut().zip(sum) {
                        *d += v;
                    }
                }
            }
        }
    }
}

/// Input gradient of sample `n`, written to `dx [C, H, W]`. `gt` is scratch for the
/// sample's gradient transposed to `[OH·OW, O]`, `rows` the offsets `o·kh·kw·C` of the rows
/// of `Wt`.
#[inline(always)]
fn grad_input_body<K: Gather>(
    g: &Geom,
    l: &Layout,
    (o, n): (usize, usize),
    (gd, wt, rows): (&[f32], &[f32], &[u32]),
    dx: &mut [f32],
    (dxt, gt, buf): (&mut [f32], &mut [f32], &mut ListBuf),
) {
    let len = g.len();
    let mut acc = [0.0f32; OUT];
    dxt.fill(0.0);
    let gn = part(gd, n, o * len);
    for (oi, go) in gn.chunks_exact(len).enumerate() {
        for (p, &v) in go.iter().enumerate() {
            gt[p * o + oi] = v;
        }
    }
    for (gp, &at) in gt.chunks_exact(o).zip(&l.patch) {
        let k = K::compact(gp, rows, buf.slots(0));
        if k == 0 {
            continue;
        }
        let at = at as usize;
        for gr in &l.groups {
            K::gather(buf.list(k), wt, &gr.w, gr.n, &mut acc);
            for (c, sum) in acc.chunks_exact(16).take(gr.n).enumerate() {
                let (at, len) = (at + gr.x[c], gr.len[c]);
                for (d, &v) in dxt[at..at + len].iter_mut().zip(sum) {
                    *d += v;
                }
            }
        }
    }
    from_padded_hwc(g, l, dxt, dx);
}

#[cfg(test)]
thread_local! {
    /// Makes the convolutions called from this thread take the dense path (tests compare
    /// the two).
    pub(crate) static DENSE_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

dispatch!(grad_weight_kernel, grad_weight_body, (
    g: &Geom, l: &Layout, o: usize, samples: (usize, usize), data: (&[f32], &[f32]),
    dwt: &mut [f32], scratch: (&mut [f32], &mut ListBuf)
));
dispatch!(grad_input_kernel, grad_input_body, (
    g: &Geom, l: &Layout, on: (usize, usize), data: (&[f32], &[f32], &[u32]),
    dx: &mut [f32], scratch: (&mut [f32], &mut [f32], &mut ListBuf)
));

/// `∂L/∂W [O, C, kh, kw]` from a sparse `grad_out [N, O, OH, OW]` and `input [N, C, H, W]`.
/// Samples are summed in groups of [`WEIGHT_GRAD_GROUP`] (one task each), the group sums
/// then added in order, as in the dense path.
pub(super) fn grad_weight(g: &Geom, o: usize, grad_out: &[f32], input: &[f32]) -> Vec<f32> {
    let l = Layout::new(g);
    let per_w = o * l.row;
    let groups = g.n.div_ceil(WEIGHT_GRAD_GROUP);
    let mut sums = vec![0.0; groups * per_w];
    parallel_pieces(&mut sums, per_w.max(1), |offset, dwt| {
        let first = offset / per_w.max(1) * WEIGHT_GRAD_GROUP;
        let count = WEIGHT_GRAD_GROUP.min(g.n - first);
        with_scratch(l.padded(g) + TAIL, |xt| {
            let mut list = ListBuf::new(g.len());
            grad_weight_kernel(
                g,
                &l,
                o,
                (first, count),
                (grad_out, input),
                dwt,
                (xt, &mut list),
            );
        });
    });
    let mut groups = sums.chunks_exact(per_w.max(1));
    let mut dwt = groups
        .next()
        .map_or_else(|| vec![0.0; per_w], <[f32]>::to_vec);
    for group in groups {
        for (d, v) in dwt.iter_mut().zip(group) {
            *d += v;
        }
    }
    // [O, kh, kw, C] → [O, C, kh, kw]
    let (c, taps) = (g.c, g.kh * g.kw);
    let mut dw = vec![0.0; per_w];
    for (src, dst) in dwt.chunks_exact(l.row).zip(dw.chunks_exact_mut(l.row)) {
        for (t, chans) in src.chunks_exact(c).enumerate() {
            for (ci, &v) in chans.iter().enumerate() {
                dst[ci * taps + t] = v;
            }
        }
    }
    dw
}

/// `∂L/∂input [N, C, H, W]` from a sparse `grad_out [N, O, OH, OW]` and `weight [O, C, kh, kw]`,
/// one sample per task group.
pub(super) fn grad_input(g: &Geom, o: usize, grad_out: &[f32], weight: &[f32]) -> Vec<f32> {
    let l = Layout::new(g);
    let (c, taps) = (g.c, g.kh * g.kw);
    // [O, C, kh, kw] → [O, kh, kw, C], with a tail for the chunks' spare lanes.
    let mut wt = vec![0.0; o * l.row + TAIL];
    for (src, dst) in weight.chunks_exact(l.row).zip(wt.chunks_exact_mut(l.row)) {
        for (ci, kernel) in src.chunks_exact(taps).enumerate() {
            for (t, &v) in kernel.iter().enumerate() {
                dst[t * c + ci] = v;
            }
        }
    }
    let rows: Vec<u32> = (0..o)
        .map(|oi| u32::try_from(oi * l.row).expect("a weight below 2^32 elements"))
        .collect();
    let per_in = g.sample();
    let mut dx = vec![0.0; g.n * per_in];
    let per_task = super::samples_per_task(g.n, o * l.row * g.len() / 4);
    parallel_pieces(&mut dx, (per_task * per_in).max(1), |offset, dxs| {
        with_scratch(l.padded(g) + TAIL, |dxt| {
            let mut list = ListBuf::new(o);
            let mut gt = vec![0.0; o * g.len()];
            for (s, dxn) in dxs.chunks_mut(per_in).enumerate() {
                let n = offset / per_in + s;
                let data = (grad_out, &wt[..], &rows[..]);
                let scratch = (&mut *dxt, &mut gt[..], &mut list);
                grad_input_kernel(g, &l, (o, n), data, dxn, scratch);
            }
        });
    });
    dx
}
