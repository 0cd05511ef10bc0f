//! C = A·B when B and C run along N in memory and one side is small: the two backward
//! products of a dense layer, `∂X = G·W` (`[batch, out] x [out, in]`) and `∂W = Gᵀ·X`
//! (`[out, batch] x [batch, in]`, an inner size of one batch).
//!
//! **Why a kernel of our own.** The `gemm` crate packs its left operand into panels at
//! every call; for `G·W` that operand is W seen transposed (the crate computes Cᵀ = Bᵀ·Aᵀ),
//! a copy of the whole weight matrix per backward pass. Here B's rows are read in place, or
//! copied 16 KB at a time when many tiles share them (see **Blocking**).
//!
//! **The tile.** A tile is 6 rows of C by 64 columns (4 vectors of 16): 24 vector sums kept
//! in registers. Each step along K loads 64 consecutive elements of one row of B and
//! multiplies them by 6 elements of A, one column of A broadcast to every lane: 24 fused
//! multiply-adds for 4 loads and 6 broadcasts. Columns past N are masked off (loads read
//! zeros, stores skip them); rows past M repeat the last row of A and are not stored.
//!
//! **Blocking.** K is cut into slices of [`KC`] rows of B, so the 64 columns of B a slice
//! needs (`KC` x 64 floats, 16 KB) stay in the L1 cache while every tile of rows goes over
//! them. A tile's sums go to C at the end of a slice and are loaded back for the next.
//! When more than [`COPY_MIN_TILES`] tiles share a slice, it is first copied out into a
//! contiguous panel: read in place, its 64 rows lie `ldb` apart, and with a power-of-two
//! layer width they fall into a few sets of the L1 cache and evict each other. On one core
//! of a Xeon with AVX-512, `[64, 1024] x [1024, 2048]` took 2,790-2,810 µs with the copy
//! and 3,220-3,570 without, `[1024, 64] x [64, 2048]` 2,150-2,230 and 2,590-2,670.
//!
//! **Same bits everywhere.** Every element of C is one chain of fused multiply-adds,
//! `c ← a_ik·b_kj + c` for k = 0, 1, 2, … from c = 0, whatever the slices, tiles, threads
//! or CPU: the portable copy runs the same chain (vectorised along N by the compiler) and
//! the tests check that the two copies agree bit for bit.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use crate::isa::portable_with_fma;
#[cfg(target_arch = "x86_64")]
use crate::isa::{isa, Isa};

/// The operands of `C = A·B`: A is `m` x `k` read through `(rsa, csa)`, B is `k` x `n` with
/// rows `ldb` apart, C is `m` x `n` with rows `ldc` apart (B and C with unit column stride).
#[derive(Clone, Copy)]
pub(super) struct OuterGemm {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub a: *const f32,
    pub rsa: usize,
    pub csa: usize,
    pub b: *const f32,
    pub ldb: usize,
    pub c: *mut f32,
    pub ldc: usize,
}

/// Rows of C per tile.
const MR: usize = 6;
/// Vectors of 16 columns per tile.
const NV: usize = 4;
/// Columns of C per tile.
const NC: usize = NV * 16;
/// Rows of B (steps along K) per slice: 64 x 64 floats of B, 16 KB.
const KC: usize = 64;
/// With more than this many tiles of rows, each slice of B is copied out first.
const COPY_MIN_TILES: usize = 3;

/// `C = A·B`, C only written. The result is the same, bit for bit, on every CPU and for
/// every cut of C into blocks.
///
/// # Safety
/// Every element of A, B and C must be in bounds for the sizes and strides given, C's
/// elements must not overlap each other or A or B, and nothing else may access C meanwhile.
pub(super) unsafe fn gemm_nn(g: OuterGemm) {
    if g.m == 0 || g.n == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if isa() == Isa::Avx512 {
        return avx512::gemm_nn(g);
    }
    portable_gemm_nn(g)
}

/// The portable copy: row by row of C, the chain along K vectorised along N (compiled for
/// AVX2 + FMA too, picked when the CPU has them).
pub(super) unsafe fn portable_gemm_nn(g: OuterGemm) {
    #[inline(always)]
    unsafe fn body(g: OuterGemm) {
        for i in 0..g.m {
            let c = std::slice::from_raw_parts_mut(g.c.add(i * g.ldc), g.n);
            c.fill(0.0);
            for p in 0..g.k {
                let a = *g.a.add(i * g.rsa + p * g.csa);
                let b = std::slice::from_raw_parts(g.b.add(p * g.ldb), g.n);
                for (c, &b) in c.iter_mut().zip(b) {
                    *c = a.mul_add(b, *c);
                }
            }
        }
    }
    portable_with_fma!(body(g: OuterGemm))
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::*;

    /// A slice of B's columns copied out, rows `NC` apart (see the module docs). Left
    /// uninitialised (zeroing 16 KB was a visible cost on small products): a slice of `kc`
    /// rows writes its first `kc·NC` floats before the tiles read them.
    #[repr(align(64))]
    struct Panel(std::mem::MaybeUninit<[f32; KC * NC]>);

    /// See [`super::gemm_nn`]; needs AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn gemm_nn(g: OuterGemm) {
        let copy = g.m > COPY_MIN_TILES * MR;
        let mut panel = Panel(std::mem::MaybeUninit::uninit());
        let panel: *mut f32 = panel.0.as_mut_ptr().cast();
        for j0 in (0..g.n).step_by(NC) {
            let masks: [__mmask16; NV] = std::array::from_fn(|v| {
                let left = g.n.saturating_sub(j0 + 16 * v).min(16);
                ((1u32 << left) - 1) as __mmask16
            });
            let mut k0 = 0;
            while k0 < g.k {
                let kc = KC.min(g.k - k0);
                // (Masked-off lanes may lie past the end: `wrapping_add`, and the masks keep
                // them unread and unwritten.)
                let mut b = (g.b.wrapping_add(k0 * g.ldb + j0), g.ldb);
                if copy {
                    for p in 0..kc {
                        let row = b.0.wrapping_add(p * g.ldb);
                        for (v, &mask) in masks.iter().enumerate() {
                            let x = _mm512_maskz_loadu_ps(mask, row.wrapping_add(16 * v));
                            _mm512_store_ps(panel.add(p * NC + 16 * v), x);
                        }
                    }
                    b = (panel.cast_const(), NC);
                }
                for i0 in (0..g.m).step_by(MR) {
                    tile(&g, i0, j0, k0, kc, b, masks);
                }
                k0 += kc;
            }
        }
    }

    /// Rows `i0..i0 + MR` by columns `j0..j0 + NC` of C over the slice `k0..k0 + kc` of K,
    /// starting from zero (first slice) or from C; `b` is that slice's first element of B
    /// and its row stride.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn tile(
        g: &OuterGemm,
        i0: usize,
        j0: usize,
        k0: usize,
        kc: usize,
        (mut b, ldb): (*const f32, usize),
        masks: [__mmask16; NV],
    ) {
        let rows = MR.min(g.m - i0);
        let arow: [*const f32; MR] =
            std::array::from_fn(|i| g.a.add((i0 + i).min(g.m - 1) * g.rsa + k0 * g.csa));
        let crow: [*mut f32; MR] = std::array::from_fn(|i| g.c.wrapping_add((i0 + i) * g.ldc + j0));
        let mut acc = [[_mm512_setzero_ps(); NV]; MR];
        // (Loops over all MR rows with a test inside, never `0..rows`: fixed indices let
        // the compiler keep the 24 sums in registers.)
        if k0 > 0 {
            for i in 0..MR {
                if i < rows {
                    for v in 0..NV {
                        acc[i][v] = _mm512_maskz_loadu_ps(masks[v], crow[i].wrapping_add(16 * v));
                    }
                }
            }
        }
        for p in 0..kc {
            let bv: [__m512; NV] =
                std::array::from_fn(|v| _mm512_maskz_loadu_ps(masks[v], b.wrapping_add(16 * v)));
            for i in 0..MR {
                let a = _mm512_set1_ps(*arow[i].add(p * g.csa));
                for v in 0..NV {
                    acc[i][v] = _mm512_fmadd_ps(a, bv[v], acc[i][v]);
                }
            }
            b = b.wrapping_add(ldb);
        }
        for i in 0..MR {
            if i < rows {
                for v in 0..NV {
                    _mm512_mask_storeu_ps(crow[i].wrapping_add(16 * v), masks[v], acc[i][v]);
                }
            }
        }
    }
}
