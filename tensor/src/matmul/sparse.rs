//! C = A·B when A is mostly zeros: a dense layer's weight gradient `∂W = Gᵀ·X` (and input
//! gradient `∂X = G·W`) behind a ReLU.
//!
//! **Why A is sparse.** ReLU passes a gradient only where its input was positive, so the
//! gradient `G` a dense layer receives through it is zero for every sample in which the unit
//! was off: about half of `G` at initialisation, often more later in training. The dense
//! kernels (`outer.rs`) multiply those zeros anyway. Here each row of C is one list of the
//! nonzero entries of the matching row of A, `(p, a_ip)`, and C's row is `Σ_p a_ip · B[p, ..]`
//! over the list ([`crate::gather`], the kernel of the convolutions' sparse backward pass):
//! (nonzero fraction) × the dense work, though at one load of B per multiply-add where the
//! dense kernel does six multiply-adds per load. On its own, the MLP 784-128-64-10's weight
//! gradient `[128, 64] x [64, 784]` with half of A zero took 99 µs instead of 129 on one
//! core, 50 instead of 65 on two (best of 30 calls each, with mimalloc as the allocator).
//!
//! **When.** [`is_sparse`] counts A's nonzero entries once per product, before it is cut into
//! blocks, so the choice depends on the data alone and every block takes the same path on any
//! thread count. Each row's sum runs over its list in order (in [`crate::gather`]'s fixed
//! partial sums), so the result does not depend on the cut or the thread count either. It
//! equals the dense kernels' up to float rounding (the order of the additions differs),
//! except that a zero entry of A times an infinite or NaN entry of B gives 0 here (it is
//! skipped) and NaN in a dense product.

use super::outer::OuterGemm;
use crate::gather::{count_nonzero, dispatch, Gather, ListBuf, MAX_CHUNKS, OUT};
use crate::scratch::with_scratch;

/// The sparse kernel is used when at most this fraction of A is nonzero. It does one fused
/// multiply-add per load of B where the dense kernel does six, so it pays only well below
/// full density; the MLP 784-128-64-10's gradients behind ReLU are 46-50% nonzero, where it
/// paid (see [`MAX_K`]). The limit itself is not tuned.
pub(super) const MAX_DENSITY: f64 = 0.6;

#[cfg(test)]
thread_local! {
    /// Makes the products computed on this thread take the dense path (tests compare the two).
    pub(crate) static DENSE_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the `m` x `k` matrix A, read through `(rsa, csa)` from `a`, is sparse enough for
/// [`gemm_nn`]: it must lie contiguously (row- or column-major, as G and Gᵀ do), and at most
/// [`MAX_DENSITY`] of it be nonzero.
///
/// # Safety
/// Every element of A must be in bounds.
pub(super) unsafe fn is_sparse(
    m: usize,
    k: usize,
    a: *const f32,
    (rsa, csa): (usize, usize),
) -> bool {
    #[cfg(test)]
    if DENSE_ONLY.with(std::cell::Cell::get) {
        return false;
    }
    let contiguous = (csa == 1 && rsa == k) || (rsa == 1 && csa == m);
    if !contiguous || m == 0 || k == 0 {
        return false;
    }
    // SAFETY: A's m·k elements are in bounds and, contiguous, are exactly this slice.
    let all = unsafe { std::slice::from_raw_parts(a, m * k) };
    count_nonzero(all) as f64 <= MAX_DENSITY * all.len() as f64
}

/// Whether [`gemm_nn`] can compute this product: C's rows a whole number of 16-float chunks
/// (a chunk never reads past the end of B), and B's offsets within `u32`.
pub(super) fn fits(k: usize, n: usize, ldb: usize) -> bool {
    k <= MAX_K
        && n.is_multiple_of(16)
        && (k.saturating_sub(1)).saturating_mul(ldb).saturating_add(n) <= u32::MAX as usize
}

/// The longest inner size for [`gemm_nn`] (a batch of 64 for a weight gradient): the
/// `MAX_K` x 128 floats of B that a piece of C reads then fill the 32 KB L1 cache, and are
/// read again for every row. At 2 threads the small MLP's step ran 5.8% faster with the
/// sparse kernel (the first layer's `[128, 64] x [64, 784]`, medians of 8 alternating rounds
/// of `examples/bench --limit`); with K up to 512 (the input gradients `G·W` of the MLP
/// 784-512-256-10, reading 256 KB of B per piece from L2) it ran 22% slower. The product
/// must also not be cut into column blocks (see `run_blocks`): the wider layers' weight
/// gradients, cut so, ran 15% slower, each block compacting every row of A again.
pub(super) const MAX_K: usize = 64;

/// `C = A·B`, C only written, from the nonzero entries of A; B and C with unit column
/// stride, as for [`super::outer::gemm_nn`].
///
/// # Safety
/// As [`super::outer::gemm_nn`], and [`fits`] must hold.
pub(super) unsafe fn gemm_nn(g: OuterGemm) {
    if g.m == 0 || g.n == 0 {
        return;
    }
    debug_assert!(fits(g.k, g.n, g.ldb));
    // SAFETY: B's k rows of n elements, `ldb` apart, are in bounds (the caller's promise).
    let b = unsafe { std::slice::from_raw_parts(g.b, (g.k - 1) * g.ldb + g.n) };
    let ats: Vec<u32> = (0..g.k).map(|p| (p * g.ldb) as u32).collect();
    with_scratch(g.k, |vals| {
        let mut lists = ListBuf::new(g.m * g.k);
        gemm_kernel(&g, b, &ats, vals, &mut lists);
    });
}

/// The rows of A compacted to lists of their nonzero entries (with the offsets of B's rows),
/// row `i`'s from `i·k` on in `lists`; then C in pieces of up to [`OUT`] columns, each piece
/// row by row, so that the piece's columns of B stay in the L1 cache while every row's list
/// goes over them.
#[inline(always)]
fn gemm_body<K: Gather>(
    g: &OuterGemm,
    b: &[f32],
    ats: &[u32],
    vals: &mut [f32],
    lists: &mut ListBuf,
) {
    let mut counts = vec![0usize; g.m];
    for (i, count) in counts.iter_mut().enumerate() {
        for (p, v) in vals.iter_mut().enumerate() {
            // SAFETY: element (i, p) of A is in bounds (the caller's promise).
            *v = unsafe { *g.a.add(i * g.rsa + p * g.csa) };
        }
        // (Its 16 spare lanes land on the next row's room, which is written after.)
        *count = K::compact(vals, ats, lists.slots(i * g.k));
    }
    let mut acc = [0.0f32; OUT];
    for j0 in (0..g.n).step_by(OUT) {
        let width = OUT.min(g.n - j0);
        let chunks = width / 16;
        debug_assert!(chunks <= MAX_CHUNKS && width.is_multiple_of(16));
        let offs: [usize; MAX_CHUNKS] = std::array::from_fn(|c| j0 + 16 * c);
        for (i, &count) in counts.iter().enumerate() {
            // SAFETY: row i of C holds n elements, written by this call only.
            let out = unsafe { std::slice::from_raw_parts_mut(g.c.add(i * g.ldc + j0), width) };
            if count == 0 {
                out.fill(0.0);
                continue;
            }
            K::gather(lists.list_at(i * g.k, count), b, &offs, chunks, &mut acc);
            out.copy_from_slice(&acc[..width]);
        }
    }
}

dispatch!(gemm_kernel, gemm_body, (
    g: &OuterGemm, b: &[f32], ats: &[u32], vals: &mut [f32], lists: &mut ListBuf
));
