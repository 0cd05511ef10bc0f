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
#[cfg(target_arch = "x86_64")]
use crate::isa::{isa, Isa};
use crate::parallel::{parallel_for, parallel_pieces};
use crate::scratch::with_scratch;

/// The sparse kernels are used when at most this fraction of the output gradient is nonzero
/// (a property of the data alone, never of the thread count). Measured on the reference
/// CNN's second convolution (16 → 32 channels, 5x5, 14x14), the sparse kernels beat the
/// GEMMs up to about this density.
pub(super) const MAX_DENSITY: f64 = 0.4;

/// Most chunks of 16 floats [`Gather`] sums in one pass over a list (8 chunks, times 2
/// partial sums, is half of AVX-512's 32 registers).
const MAX_CHUNKS: usize = 8;

/// Floats of [`Gather`]'s output: [`MAX_CHUNKS`] chunks of 16.
const OUT: usize = 16 * MAX_CHUNKS;

/// Floats past the end of each buffer that [`Gather`] may read (a chunk's unused lanes).
const TAIL: usize = 16;

/// `T::run::<N, { partial_sums(N) }>(…)` for `N = n` (1 to [`MAX_CHUNKS`]; more is 8): the
/// chunk count is a const generic, so each count gets its own unrolled copy.
macro_rules! run_with_chunks {
    ($t:ident, $n:expr, $list:expr, $src:expr, $offs:expr, $out:expr) => {
        match $n {
            1 => $t::run::<1, { partial_sums(1) }>($list, $src, $offs, $out),
            2 => $t::run::<2, { partial_sums(2) }>($list, $src, $offs, $out),
            3 => $t::run::<3, { partial_sums(3) }>($list, $src, $offs, $out),
            4 => $t::run::<4, { partial_sums(4) }>($list, $src, $offs, $out),
            5 => $t::run::<5, { partial_sums(5) }>($list, $src, $offs, $out),
            6 => $t::run::<6, { partial_sums(6) }>($list, $src, $offs, $out),
            7 => $t::run::<7, { partial_sums(7) }>($list, $src, $offs, $out),
            _ => $t::run::<8, { partial_sums(8) }>($list, $src, $offs, $out),
        }
    };
}

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
        let mut count = 0;
        count_nonzero_kernel(block, &mut count);
        nonzero.fetch_add(count, Ordering::Relaxed);
    });
    (nonzero.into_inner() as f64) <= MAX_DENSITY * grad.len() as f64
}

/// Elements of an output gradient per task of [`is_sparse`]'s count.
const COUNT_BLOCK: usize = 1 << 17;

/// `*count = ` the number of entries of `grad` that are not zero, counted in blocks of 4096
/// with 32-bit lanes (so that the compiler keeps 16 counts to a vector register).
#[inline(always)]
fn count_nonzero_body<K: Gather>(grad: &[f32], count: &mut usize) {
    *count = grad
        .chunks(4096)
        .map(|b| b.iter().map(|&v| u32::from(v != 0.0)).sum::<u32>() as usize)
        .sum();
}

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

/// One implementation of the gather kernel: for each chunk `c < n`,
/// `out[16·c + t] = Σ_k f_k · src[at_k + offs[c] + t]` (`t < 16`), over
/// `list = [(at_k, f_k)]`.
///
/// Each copy computes the sum as `P` interleaved partial sums (entry `k` goes to sum
/// `k mod P`), each a chain of fused multiply-adds in list order, added at the end as a
/// balanced tree (sum `q` gets sum `q + ⌈P/2⌉`, and so on); `P` depends on `n` only. So
/// every copy does the same IEEE operations on every lane and they agree bit for bit.
trait Gather {
    /// The sum above, into the first `n` chunks of `out`.
    ///
    /// # Panics
    /// If a chunk `at_k + offs[c] .. at_k + offs[c] + 16` reaches past the end of `src`.
    fn gather(
        list: List<'_>,
        src: &[f32],
        offs: &[usize; MAX_CHUNKS],
        n: usize,
        out: &mut [f32; OUT],
    );

    /// The entries of `vals` that are not zero, with the matching entries of `ats`, in order,
    /// written to the front of `buf`; returns how many. Every copy gives the same list.
    fn compact(vals: &[f32], ats: &[u32], buf: &mut ListBuf) -> usize;
}

/// A list of `(at_k, f_k)` pairs, as two slices of one length.
#[derive(Clone, Copy)]
struct List<'a> {
    at: &'a [u32],
    f: &'a [f32],
}

/// Room for a [`List`] of up to `cap` entries, plus 16 (a vector store writes 16 lanes).
struct ListBuf {
    at: Vec<u32>,
    f: Vec<f32>,
}

impl ListBuf {
    fn new(cap: usize) -> ListBuf {
        ListBuf {
            at: vec![0; cap + 16],
            f: vec![0.0; cap + 16],
        }
    }

    /// The first `k` entries.
    fn list(&self, k: usize) -> List<'_> {
        List {
            at: &self.at[..k],
            f: &self.f[..k],
        }
    }
}

/// The portable compaction: every entry is written, and the write position advances only
/// past the nonzero ones (no branch on "is it zero", which would be mispredicted at the
/// densities this module sees).
#[inline(always)]
fn compact_portable(vals: &[f32], ats: &[u32], buf: &mut ListBuf) -> usize {
    assert!(buf.at.len() > vals.len() && buf.f.len() > vals.len() && ats.len() >= vals.len());
    let mut k = 0;
    for (&v, &at) in vals.iter().zip(ats) {
        buf.at[k] = at;
        buf.f[k] = v;
        k += usize::from(v != 0.0);
    }
    k
}

/// How many partial sums a piece of `nch` 16-float chunks uses: enough for `nch · P ≥ 8`
/// independent chains (a fused multiply-add waits about 4 cycles for its input, and two can
/// start per cycle), but at least 2.
const fn partial_sums(nch: usize) -> usize {
    match nch {
        1 => 8,
        2 => 4,
        3 => 3,
        _ => 2,
    }
}

/// The balanced-tree order in which [`Gather`] adds its `p` partial sums: pairs `(q, q + half)`
/// for each level.
#[inline(always)]
fn tree_add<T: Copy>(acc: &mut [T], mut add: impl FnMut(&mut T, &T)) {
    let mut width = acc.len();
    while width > 1 {
        let half = width.div_ceil(2);
        for q in 0..width / 2 {
            let b = acc[q + half];
            add(&mut acc[q], &b);
        }
        width = half;
    }
}

/// The portable copy: plain arrays of 16 lanes and `f32::mul_add` (which the compiler turns
/// into vector instructions where it can).
struct Portable;

impl Portable {
    #[inline(always)]
    fn run<const NCH: usize, const P: usize>(
        list: List<'_>,
        src: &[f32],
        offs: &[usize; MAX_CHUNKS],
        out: &mut [f32; OUT],
    ) {
        let mut acc = [[[0.0f32; 16]; NCH]; P];
        for (k, (&at, &f)) in list.at.iter().zip(list.f).enumerate() {
            for (ac, &off) in acc[k % P].iter_mut().zip(offs) {
                let start = at as usize + off;
                for (s, &x) in ac.iter_mut().zip(&src[start..start + 16]) {
                    *s = f.mul_add(x, *s);
                }
            }
        }
        tree_add(&mut acc, |a, b| {
            for (ac, bc) in a.iter_mut().zip(b) {
                for (s, &v) in ac.iter_mut().zip(bc) {
                    *s += v;
                }
            }
        });
        for (dst, ac) in out.chunks_exact_mut(16).zip(&acc[0]) {
            dst.copy_from_slice(ac);
        }
    }
}

impl Gather for Portable {
    #[inline(always)]
    fn gather(
        list: List<'_>,
        src: &[f32],
        offs: &[usize; MAX_CHUNKS],
        n: usize,
        out: &mut [f32; OUT],
    ) {
        run_with_chunks!(Portable, n, list, src, offs, out)
    }

    #[inline(always)]
    fn compact(vals: &[f32], ats: &[u32], buf: &mut ListBuf) -> usize {
        compact_portable(vals, ats, buf)
    }
}

/// The AVX-512 copy: one 16-lane register per chunk and partial sum, all kept in registers
/// for the whole list (at most 16 of the 32).
#[cfg(target_arch = "x86_64")]
struct Avx512;

#[cfg(target_arch = "x86_64")]
impl Avx512 {
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    unsafe fn run<const NCH: usize, const P: usize>(
        list: List<'_>,
        src: &[f32],
        offs: &[usize; MAX_CHUNKS],
        out: &mut [f32; OUT],
    ) {
        use std::arch::x86_64::{
            __m512, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps,
            _mm512_setzero_ps, _mm512_storeu_ps,
        };
        // One bounds check for the whole list instead of one per entry: the farthest chunk
        // of the farthest entry must end inside `src`.
        let far = list.at.iter().copied().max().unwrap_or(0) as usize;
        let reach = offs[..NCH].iter().copied().max().unwrap_or(0);
        assert!(far + reach + 16 <= src.len() && list.at.len() == list.f.len());
        let offs: [usize; NCH] = std::array::from_fn(|c| offs[c]);
        let mut acc: [[__m512; NCH]; P] = [[_mm512_setzero_ps(); NCH]; P];
        let step = |a: &mut [__m512; NCH], at: u32, f: f32| {
            let fv = _mm512_set1_ps(f);
            for (a, &off) in a.iter_mut().zip(&offs) {
                // SAFETY: `at ≤ far` and `off ≤ reach`, checked above to end inside `src`.
                let x = unsafe { _mm512_loadu_ps(src.as_ptr().add(at as usize + off)) };
                *a = _mm512_fmadd_ps(fv, x, *a);
            }
        };
        let mut ats = list.at.chunks_exact(P);
        let mut fs = list.f.chunks_exact(P);
        for (at, f) in (&mut ats).zip(&mut fs) {
            for ((a, &at), &f) in acc.iter_mut().zip(at).zip(f) {
                step(a, at, f);
            }
        }
        for ((a, &at), &f) in acc.iter_mut().zip(ats.remainder()).zip(fs.remainder()) {
            step(a, at, f);
        }
        tree_add(&mut acc, |a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                *x = _mm512_add_ps(*x, *y);
            }
        });
        for (c, a) in acc[0].iter().enumerate() {
            // SAFETY: 16·NCH ≤ MAX_PIECE floats of `out`.
            unsafe { _mm512_storeu_ps(out.as_mut_ptr().add(16 * c), *a) };
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl Avx512 {
    /// [`Gather::compact`] 16 entries at a time: a compare gives the mask of the nonzero
    /// ones, and a compress packs them (and their offsets) to the front of a register, which
    /// is stored whole at the write position (the lanes past the packed ones are overwritten
    /// later or ignored). The write position advances by the mask's population count.
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    unsafe fn compact(vals: &[f32], ats: &[u32], buf: &mut ListBuf) -> usize {
        use std::arch::x86_64::{
            _mm512_cmp_ps_mask, _mm512_loadu_epi32, _mm512_loadu_ps, _mm512_maskz_compress_epi32,
            _mm512_maskz_compress_ps, _mm512_setzero_ps, _mm512_storeu_epi32, _mm512_storeu_ps,
            _CMP_NEQ_UQ,
        };
        let n = vals.len();
        assert!(buf.at.len() >= n + 16 && buf.f.len() >= n + 16 && ats.len() >= n);
        let mut k = 0;
        let whole = n - n % 16;
        let mut i = 0;
        while i < whole {
            // SAFETY: `i + 16 ≤ n` elements of `vals` and `ats`; `k ≤ i`, so `k + 16` fits
            // in the buffers of `n + 16`.
            unsafe {
                let v = _mm512_loadu_ps(vals.as_ptr().add(i));
                // "not equal, unordered": true for NaN, as `v != 0.0`
                let m = _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(v, _mm512_setzero_ps());
                let a = _mm512_loadu_epi32(ats.as_ptr().add(i).cast());
                _mm512_storeu_ps(buf.f.as_mut_ptr().add(k), _mm512_maskz_compress_ps(m, v));
                _mm512_storeu_epi32(
                    buf.at.as_mut_ptr().add(k).cast(),
                    _mm512_maskz_compress_epi32(m, a),
                );
                k += m.count_ones() as usize;
            }
            i += 16;
        }
        for (&v, &at) in vals[whole..].iter().zip(&ats[whole..n]) {
            buf.at[k] = at;
            buf.f[k] = v;
            k += usize::from(v != 0.0);
        }
        k
    }
}

#[cfg(target_arch = "x86_64")]
impl Gather for Avx512 {
    #[inline(always)]
    fn gather(
        list: List<'_>,
        src: &[f32],
        offs: &[usize; MAX_CHUNKS],
        n: usize,
        out: &mut [f32; OUT],
    ) {
        // SAFETY: `Avx512` is only used by the copy that `isa` picks on a CPU with AVX-512F.
        unsafe { run_with_chunks!(Avx512, n, list, src, offs, out) }
    }

    #[inline(always)]
    fn compact(vals: &[f32], ats: &[u32], buf: &mut ListBuf) -> usize {
        // SAFETY: as above.
        unsafe { Avx512::compact(vals, ats, buf) }
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
            let k = K::compact(go, &l.patch, buf);
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
        let k = K::compact(gp, rows, buf);
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

/// Defines `$name`, which runs `$body` compiled for the [`isa`] of this CPU.
macro_rules! dispatch {
    ($name:ident, $body:ident, ($($arg:ident: $ty:ty),*)) => {
        #[allow(clippy::too_many_arguments)]
        fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2($($arg: $ty),*) {
                    $body::<Portable>($($arg),*)
                }
                #[target_feature(enable = "avx512f,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512($($arg: $ty),*) {
                    $body::<Avx512>($($arg),*)
                }
                match isa() {
                    // SAFETY: `isa` only names what the CPU has.
                    Isa::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    Isa::Avx2 => return unsafe { avx2($($arg),*) },
                    Isa::Baseline => {}
                }
            }
            $body::<Portable>($($arg),*)
        }
    };
}

dispatch!(count_nonzero_kernel, count_nonzero_body, (grad: &[f32], count: &mut usize));
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
