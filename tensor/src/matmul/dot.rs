//! C = A·Bᵀ when both operands run along K in memory: the forward product of a dense layer,
//! `X·Wᵀ`, with `X: [batch, in]` and `W: [out, in]`, both row-major.
//!
//! **Why a kernel of our own.** The `gemm` crate's kernels take their output columns from
//! one operand and broadcast scalars of the other (outer products). For `X·Wᵀ` that means
//! re-packing W, which lies along K, into panels along N: a transposing copy of the whole
//! weight matrix at every forward pass. With a batch of 64 that copy is as slow as the
//! product itself (`[64, 2048] x [2048, 1024]ᵀ` ran at 22 GFLOP/s, a quarter of the core's
//! peak). Here nothing is packed: each element of C is a dot product of a row of A and a row
//! of B, both read straight from memory.
//!
//! **The tile.** A tile is 4 rows of A by 4 rows of B: 16 dot products at once, each in a
//! vector of 16 partial sums (lane `l` adds the products of the columns `l`, `l + 16`,
//! `l + 32`, …, one fused multiply-add at a time). Each step loads 4 + 4 vectors and does 16
//! multiply-adds. At the end the 16 lanes of each sum are added as a tree (lane `l` and
//! `l + 8`, then `l` and `l + 4`, then `l + 2`, then `l + 1`). With AVX-512 the tree runs on
//! the 16 sums at once, as a transpose: 4 levels of shuffles and adds leave one vector
//! holding the 16 results. Columns past K (the last, partial step) count as zeros.
//!
//! The last columns of C, when N is not a multiple of 4, are one narrower panel of 1-3 rows
//! of B (4 x 1 to 4 x 3 tiles, their sums padded with zeros for the tree).
//!
//! **Blocking.** B's 4 rows (one panel) are reused by every group of 4 rows of A, so the
//! panel should stay in the L1 cache: K is cut into slices whose panel is at most 16 KB
//! ([`PANEL_BYTES`]: 1,024 columns for 4 rows), and only when there is more than one slice
//! are the 16 partial-sum vectors of every tile kept in a scratch buffer from one slice to
//! the next. A dense layer with up to 1,024 inputs is one slice, its sums never leave the
//! registers: `[64, 784] x [128, 784]ᵀ` on one core took 142-145 µs instead of 152-155 with
//! 512-column slices (best and median of 8 alternating runs, a new input matrix each time).
//! The arithmetic of each element is the same with or without the cut (the slices are whole
//! vector steps), so results do not depend on it.
//!
//! **Same bits everywhere.** The portable copy ([`dot_ref`]'s order, one lane at a time)
//! computes every element with exactly the same operations, so a CPU without AVX-512 gets
//! the same bits; the tests check this on random shapes. Each element depends only on its
//! row of A and its row of B, never on which tile or thread computed it.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use crate::isa::portable_with_fma;
#[cfg(target_arch = "x86_64")]
use crate::isa::{isa, Isa};

/// Vector lanes: partial sums per dot product.
const LANES: usize = 16;
/// Rows of A (of C) per tile.
const MR: usize = 4;
/// Rows of B (columns of C) per tile. (4 x 5 and 4 x 6 tiles were slower: LLVM kept some of
/// their sums on the stack.)
const NR: usize = 4;
/// The most bytes of a panel of B (its rows in one slice of K): 16 KB, half of the smallest
/// L1 data cache we run on, so that it stays there while A's rows stream past. A dense
/// layer's K up to 1,024 is one slice.
const PANEL_BYTES: usize = 16 * 1024;

/// The operands of `C ← α·A·Bᵀ + β·C (+ bias)`: A is `m` x `k` with rows `lda` apart, B is `n` x `k`
/// with rows `ldb` apart (both with unit column stride), C is `m` x `n` read and written
/// through `(rsc, csc)`.
#[derive(Clone, Copy)]
pub(super) struct DotGemm {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub alpha: f32,
    pub a: *const f32,
    pub lda: usize,
    pub b: *const f32,
    pub ldb: usize,
    pub beta: f32,
    pub c: *mut f32,
    pub rsc: usize,
    pub csc: usize,
    /// Added to every row of C as it is stored (`bias[j]` to column `j`); null: none.
    pub bias: *const f32,
}

/// The dot product of `a` and `b` (same length) in the kernel's order: 16 lanes of fused
/// multiply-adds (lane `l` takes the columns `l + 16·t` in turn, zeros past the end), then the
/// lanes added as a tree.
#[inline(always)]
pub(super) fn dot_ref(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let (a_full, b_full) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (a_rest, b_rest) = (a_full.remainder(), b_full.remainder());
    for (ca, cb) in a_full.zip(b_full) {
        for l in 0..LANES {
            acc[l] = ca[l].mul_add(cb[l], acc[l]);
        }
    }
    if !a_rest.is_empty() {
        for (l, acc) in acc.iter_mut().enumerate() {
            let (x, y) = (a_rest.get(l), b_rest.get(l));
            *acc = x.unwrap_or(&0.0).mul_add(*y.unwrap_or(&0.0), *acc);
        }
    }
    tree_sum(&acc)
}

/// Lane `l` + lane `l + 8`, then `l + 4`, `l + 2`, `l + 1`: the order of the vector tree.
#[inline(always)]
fn tree_sum(acc: &[f32; LANES]) -> f32 {
    let mut v = *acc;
    let mut half = LANES / 2;
    while half > 0 {
        for l in 0..half {
            v[l] += v[l + half];
        }
        half /= 2;
    }
    v[0]
}

/// `C ← α·A·Bᵀ + β·C` (β = 0: C is only written). The result is the same, bit for bit,
/// on every CPU and for every cut of C into blocks.
///
/// # Safety
/// Every element of A, B and C must be in bounds for the sizes and strides given, C's
/// elements must not overlap each other or A or B, and nothing else may access C meanwhile.
pub(super) unsafe fn gemm_nt(g: DotGemm) {
    if g.m == 0 || g.n == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if isa() == Isa::Avx512 {
        return avx512::gemm_nt(g);
    }
    portable_gemm_nt(g)
}

/// Writes one element of C: `α·s + β·c`, then `+ bias[j]` (the old value is not read when
/// β = 0). The bias is added last, as a separate pass over C would add it.
#[inline(always)]
unsafe fn store(g: &DotGemm, i: usize, j: usize, s: f32) {
    let p = g.c.add(i * g.rsc + j * g.csc);
    let v = if g.beta == 0.0 {
        g.alpha * s
    } else {
        g.alpha * s + g.beta * *p
    };
    *p = if g.bias.is_null() {
        v
    } else {
        v + *g.bias.add(j)
    };
}

/// The portable copy: element by element, in [`dot_ref`]'s order (compiled for AVX2 + FMA
/// too, picked when the CPU has them: the same operations, only faster).
pub(super) unsafe fn portable_gemm_nt(g: DotGemm) {
    #[inline(always)]
    unsafe fn body(g: DotGemm) {
        for i in 0..g.m {
            let a = std::slice::from_raw_parts(g.a.add(i * g.lda), g.k);
            for j in 0..g.n {
                let b = std::slice::from_raw_parts(g.b.add(j * g.ldb), g.k);
                store(&g, i, j, dot_ref(a, b));
            }
        }
    }
    portable_with_fma!(body(g: DotGemm))
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::*;

    /// The partial-sum vectors of one tile of `MR` rows of A by `N` rows of B: `[i][j]`.
    type Acc<const N: usize> = [[__m512; N]; MR];

    /// See [`super::gemm_nt`]; needs AVX-512F. Panels of [`NR`] rows of B, then one
    /// narrower panel for the rest.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn gemm_nt(g: DotGemm) {
        let wide = g.n / NR * NR;
        panels::<NR>(&g, 0, wide);
        match g.n - wide {
            0 => {}
            1 => panels::<1>(&g, wide, g.n),
            2 => panels::<2>(&g, wide, g.n),
            3 => panels::<3>(&g, wide, g.n),
            _ => unreachable!("n mod {NR} is below {NR}"),
        }
    }

    /// Columns `j_start..j_end` of C, in panels of `N` rows of B (`j_end - j_start` is a
    /// multiple of `N`). K is cut into slices that keep a panel in [`PANEL_BYTES`]; with
    /// more than one slice, a tile's sums wait in `kept` between them.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn panels<const N: usize>(g: &DotGemm, j_start: usize, j_end: usize) {
        if j_start >= j_end {
            return;
        }
        let kc_max = (PANEL_BYTES / (4 * N)) / LANES * LANES;
        let slices = g.k.div_ceil(kc_max);
        let tiles_m = g.m.div_ceil(MR);
        let zero: Acc<N> = [[_mm512_setzero_ps(); N]; MR];
        let mut kept: Vec<Acc<N>> = if slices > 1 {
            vec![zero; tiles_m]
        } else {
            Vec::new()
        };
        for j0 in (j_start..j_end).step_by(N) {
            let brow: [*const f32; N] = std::array::from_fn(|j| g.b.add((j0 + j) * g.ldb));
            for s in 0..slices {
                let k0 = s * kc_max;
                let kc = kc_max.min(g.k - k0);
                let b = brow.map(|p| p.add(k0));
                // `kept` is empty when there is one slice: the loop counts tiles, not it.
                #[allow(clippy::needless_range_loop)]
                for t in 0..tiles_m {
                    let i0 = t * MR;
                    let arow: [*const f32; MR] =
                        std::array::from_fn(|i| g.a.add((i0 + i).min(g.m - 1) * g.lda + k0));
                    let r = tile::<N>(if s == 0 { zero } else { kept[t] }, arow, b, kc);
                    if s + 1 < slices {
                        kept[t] = r;
                    } else {
                        write_tile::<N>(g, r, i0, j0);
                    }
                }
            }
        }
    }

    /// Adds up each of a tile's sums as a lane tree and stores the ones inside C. A tile
    /// holds at most 16 sums ([`MR`] x [`NR`]); a narrow one is padded with zeros.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn write_tile<const N: usize>(g: &DotGemm, r: Acc<N>, i0: usize, j0: usize) {
        const { assert!(MR * NR <= LANES) };
        let mut sums = [_mm512_setzero_ps(); LANES];
        for i in 0..MR {
            for j in 0..N {
                sums[N * i + j] = r[i][j];
            }
        }
        let mut out = [0.0f32; LANES];
        _mm512_storeu_ps(out.as_mut_ptr(), reduce16(&sums));
        for i in 0..MR.min(g.m - i0) {
            for j in 0..N {
                // Sum p lands in lane 4·(p % 4) + p / 4.
                let p = N * i + j;
                store(g, i0 + i, j0 + j, out[4 * (p % 4) + p / 4]);
            }
        }
    }

    /// `acc[i][j]` plus the products of row `i` of `a` and row `j` of `b` over `kc` columns,
    /// lane by lane; a partial last step loads zeros past `kc`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn tile<const N: usize>(
        acc: Acc<N>,
        a: [*const f32; MR],
        b: [*const f32; N],
        kc: usize,
    ) -> Acc<N> {
        let mut r = acc;
        let full = kc / LANES;
        for s in 0..full {
            let off = s * LANES;
            let bv: [__m512; N] = std::array::from_fn(|j| _mm512_loadu_ps(b[j].add(off)));
            for i in 0..MR {
                let av = _mm512_loadu_ps(a[i].add(off));
                for j in 0..N {
                    r[i][j] = _mm512_fmadd_ps(av, bv[j], r[i][j]);
                }
            }
        }
        let rest = kc % LANES;
        if rest > 0 {
            let off = full * LANES;
            let mask: __mmask16 = ((1u32 << rest) - 1) as __mmask16;
            let bv: [__m512; N] =
                std::array::from_fn(|j| _mm512_maskz_loadu_ps(mask, b[j].add(off)));
            for i in 0..MR {
                let av = _mm512_maskz_loadu_ps(mask, a[i].add(off));
                for j in 0..N {
                    r[i][j] = _mm512_fmadd_ps(av, bv[j], r[i][j]);
                }
            }
        }
        r
    }

    /// The 16 lane-trees at once: returns a vector whose lane `4·(p % 4) + p / 4` is the
    /// tree sum of `v[p]` (for a 4 x 4 tile, `p = 4·i + j` lands in lane `4·j + i`).
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn reduce16(v: &[__m512; LANES]) -> __m512 {
        // Level 1, pairs (v[2p], v[2p+1]): lanes 0-7 get v[2p]'s l + (l + 8), lanes 8-15
        // v[2p+1]'s.
        let t: [__m512; 8] = std::array::from_fn(|p| {
            let (a, b) = (v[2 * p], v[2 * p + 1]);
            _mm512_add_ps(
                _mm512_shuffle_f32x4::<0x44>(a, b),
                _mm512_shuffle_f32x4::<0xEE>(a, b),
            )
        });
        // Level 2: 128-bit block r of u[q] holds sum 4q + r's lanes l + (l + 4), l < 4.
        let u: [__m512; 4] = std::array::from_fn(|q| {
            let (a, b) = (t[2 * q], t[2 * q + 1]);
            _mm512_add_ps(
                _mm512_shuffle_f32x4::<0x88>(a, b),
                _mm512_shuffle_f32x4::<0xDD>(a, b),
            )
        });
        // Level 3: block r of w[s] holds (l + (l + 2), l < 2) of sums 8s + r and 8s + 4 + r.
        let w: [__m512; 2] = std::array::from_fn(|s| {
            let (a, b) = (u[2 * s], u[2 * s + 1]);
            _mm512_add_ps(
                _mm512_shuffle_ps::<0x44>(a, b),
                _mm512_shuffle_ps::<0xEE>(a, b),
            )
        });
        // Level 4: block r holds sums r, 4 + r, 8 + r, 12 + r.
        _mm512_add_ps(
            _mm512_shuffle_ps::<0x88>(w[0], w[1]),
            _mm512_shuffle_ps::<0xDD>(w[0], w[1]),
        )
    }
}
