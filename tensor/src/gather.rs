//! The gather kernel shared by the sparse backward passes: a sum of scaled rows picked from a
//! list of `(offset, factor)` pairs, `out = Σ_k f_k · src[at_k ..]`, kept in registers for the
//! whole list and written out once; the compaction that builds such a list from the nonzero
//! entries of a gradient; and [`count_nonzero`], which decides whether a gradient is sparse
//! enough for them.
//!
//! Two users: a convolution's backward pass (`conv/sparse.rs`, where a list runs over the
//! nonzero output positions) and a dense layer's weight gradient `Gᵀ·X`
//! (`matmul/sparse.rs`, where a list runs over the samples whose gradient is nonzero). Each
//! kernel has a portable copy and an AVX-512 copy; [`dispatch`] picks one per CPU, and they
//! agree bit for bit.

/// Most chunks of 16 floats [`Gather`] sums in one pass over a list (8 chunks, times 2
/// partial sums, is half of AVX-512's 32 registers).
pub(crate) const MAX_CHUNKS: usize = 8;

/// Floats of [`Gather`]'s output: [`MAX_CHUNKS`] chunks of 16.
pub(crate) const OUT: usize = 16 * MAX_CHUNKS;

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

/// `*count = ` the number of entries of `grad` that are not zero, counted in blocks of 4096
/// with 32-bit lanes (so that the compiler keeps 16 counts to a vector register).
#[inline(always)]
fn count_nonzero_body<K: Gather>(grad: &[f32], count: &mut usize) {
    *count = grad
        .chunks(4096)
        .map(|b| b.iter().map(|&v| u32::from(v != 0.0)).sum::<u32>() as usize)
        .sum();
}

/// One implementation of the gather kernel: for each chunk `c < n`,
/// `out[16·c + t] = Σ_k f_k · src[at_k + offs[c] + t]` (`t < 16`), over
/// `list = [(at_k, f_k)]`.
///
/// Each copy computes the sum as `P` interleaved partial sums (entry `k` goes to sum
/// `k mod P`), each a chain of fused multiply-adds in list order, added at the end as a
/// balanced tree (sum `q` gets sum `q + ⌈P/2⌉`, and so on); `P` depends on `n` only. So
/// every copy does the same IEEE operations on every lane and they agree bit for bit.
pub(crate) trait Gather {
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
    /// written to the front of `slots` ([`ListBuf::slots`], room for `vals.len() + 16`);
    /// returns how many. Every copy gives the same list.
    fn compact(vals: &[f32], ats: &[u32], slots: (&mut [u32], &mut [f32])) -> usize;
}

/// A list of `(at_k, f_k)` pairs, as two slices of one length.
#[derive(Clone, Copy)]
pub(crate) struct List<'a> {
    pub(crate) at: &'a [u32],
    pub(crate) f: &'a [f32],
}

/// Room for a [`List`] of up to `cap` entries, plus 16 (a vector store writes 16 lanes); or
/// for several lists side by side, each compacted from its own start after the one before.
pub(crate) struct ListBuf {
    at: Vec<u32>,
    f: Vec<f32>,
}

impl ListBuf {
    pub(crate) fn new(cap: usize) -> ListBuf {
        ListBuf {
            at: vec![0; cap + 16],
            f: vec![0.0; cap + 16],
        }
    }

    /// The first `k` entries.
    pub(crate) fn list(&self, k: usize) -> List<'_> {
        self.list_at(0, k)
    }

    /// The `k` entries from `start` on.
    pub(crate) fn list_at(&self, start: usize, k: usize) -> List<'_> {
        List {
            at: &self.at[start..start + k],
            f: &self.f[start..start + k],
        }
    }

    /// The room from `start` on, for [`Gather::compact`] to write a list into.
    pub(crate) fn slots(&mut self, start: usize) -> (&mut [u32], &mut [f32]) {
        (&mut self.at[start..], &mut self.f[start..])
    }
}

/// The portable compaction: every entry is written, and the write position advances only
/// past the nonzero ones (no branch on "is it zero", which would be mispredicted at the
/// densities this module sees).
#[inline(always)]
fn compact_portable(vals: &[f32], ats: &[u32], (at_out, f_out): (&mut [u32], &mut [f32])) -> usize {
    assert!(at_out.len() > vals.len() && f_out.len() > vals.len() && ats.len() >= vals.len());
    let mut k = 0;
    for (&v, &at) in vals.iter().zip(ats) {
        at_out[k] = at;
        f_out[k] = v;
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
pub(crate) struct Portable;

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
    fn compact(vals: &[f32], ats: &[u32], slots: (&mut [u32], &mut [f32])) -> usize {
        compact_portable(vals, ats, slots)
    }
}

/// The AVX-512 copy: one 16-lane register per chunk and partial sum, all kept in registers
/// for the whole list (at most 16 of the 32).
#[cfg(target_arch = "x86_64")]
pub(crate) struct Avx512;

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
    unsafe fn compact(
        vals: &[f32],
        ats: &[u32],
        (at_out, f_out): (&mut [u32], &mut [f32]),
    ) -> usize {
        use std::arch::x86_64::{
            _mm512_cmp_ps_mask, _mm512_loadu_epi32, _mm512_loadu_ps, _mm512_maskz_compress_epi32,
            _mm512_maskz_compress_ps, _mm512_setzero_ps, _mm512_storeu_epi32, _mm512_storeu_ps,
            _CMP_NEQ_UQ,
        };
        let n = vals.len();
        assert!(at_out.len() >= n + 16 && f_out.len() >= n + 16 && ats.len() >= n);
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
                _mm512_storeu_ps(f_out.as_mut_ptr().add(k), _mm512_maskz_compress_ps(m, v));
                _mm512_storeu_epi32(
                    at_out.as_mut_ptr().add(k).cast(),
                    _mm512_maskz_compress_epi32(m, a),
                );
                k += m.count_ones() as usize;
            }
            i += 16;
        }
        for (&v, &at) in vals[whole..].iter().zip(&ats[whole..n]) {
            at_out[k] = at;
            f_out[k] = v;
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
    fn compact(vals: &[f32], ats: &[u32], slots: (&mut [u32], &mut [f32])) -> usize {
        // SAFETY: as above.
        unsafe { Avx512::compact(vals, ats, slots) }
    }
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
                    $body::<$crate::gather::Portable>($($arg),*)
                }
                #[target_feature(enable = "avx512f,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512($($arg: $ty),*) {
                    $body::<$crate::gather::Avx512>($($arg),*)
                }
                match $crate::isa::isa() {
                    // SAFETY: `isa` only names what the CPU has.
                    $crate::isa::Isa::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    $crate::isa::Isa::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::isa::Isa::Baseline => {}
                }
            }
            $body::<$crate::gather::Portable>($($arg),*)
        }
    };
}
pub(crate) use dispatch;

dispatch!(count_nonzero_kernel, count_nonzero_body, (grad: &[f32], count: &mut usize));

/// How many entries of `v` are not zero (NaN counts as not zero), vectorised for the CPU.
pub(crate) fn count_nonzero(v: &[f32]) -> usize {
    let mut count = 0;
    count_nonzero_kernel(v, &mut count);
    count
}
