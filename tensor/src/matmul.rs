//! Matrix products: [`Tensor::matmul`] and [`Tensor::matmul_t`] (2-D, batched 3-D, and 3-D by a
//! shared 2-D right side), all built on [`sgemm`], a safe wrapper over the `gemm` crate and
//! two kernels of our own for the products of a dense layer.
//!
//! A GEMM reads each operand through a row stride and a column stride, so multiplying by a
//! transpose costs nothing: Aᵀ is A read with its two strides swapped. Backward passes use this
//! all the time (∂L/∂X = G·Wᵀ, ∂L/∂W = Xᵀ·G), so [`Tensor::matmul_t`] never copies an operand.
//!
//! **Which GEMM.** The `gemm` crate (its `f32` part, with the `x86-v4` feature) picks its
//! kernels when the program starts: AVX-512 where the CPU has it, AVX2 + FMA otherwise, so one
//! binary runs everywhere. It replaced `matrixmultiply` 0.3, which it beat on the products of
//! an MNIST MLP, the small ones of the last layers most of all. `cargo bench --bench tensor`
//! times `matmul_t` at those shapes, beside a naive triple loop.
//!
//! **The dense layer's products.** With a batch of 64 rows, the crate's copies of its
//! operands into packed panels cost as much as the arithmetic when the copied operand is the
//! weight matrix. Two kernels read W where it lies instead (the backward one copies a 16 KB
//! slice at a time where many tiles share it, see `outer.rs`):
//! - `dot` (`dot.rs`): the forward `X·Wᵀ`, where X's rows and W's rows both run along K:
//!   each element is a dot product of two rows (see [`use_dot`] for the shapes it takes);
//! - `outer` (`outer.rs`): the backward `G·W` and `Gᵀ·X`, where B and C run along N: rows of
//!   B times broadcast elements of A (see [`use_outer`]);
//! - `sparse` (`sparse.rs`): the same products when A, a gradient behind a ReLU, is mostly
//!   zeros: each row of C sums only the rows of B that a nonzero entry of A picks.
//!
//! Both give the same bits for any cut of C and on any CPU (AVX-512 or their portable
//! copies). [`Tensor::linear`] adds a dense layer's bias inside the product: the dot kernel as
//! it stores each element, the others to each block of C just computed, by the thread that
//! computed it. They took the training step of `--model mlp --hidden 2048,1024 --threads 1` from
//! 3,050 to 4,038 samples/s and of `--hidden 512,256` from 31,555 to 36,321 (medians of 3
//! alternating runs of `cargo run --release --example bench -- --optimizer sgd --steps 300`).
//!
//! **Threads.** A product large enough to pay (512 K multiply-adds or more) is cut into
//! blocks of whole columns of C (whole rows when C is narrow, and two halves of rows for a
//! small layer's weight gradient: see [`SHORT_K`]), 64 or a multiple of 64 wide
//! (two halves, multiples of 32, where that would give one block), at most 8, and the
//! threads of [`crate::num_threads`] take the blocks from the crate's thread pool. The sum
//! over K is never split, and the cut depends on the shape alone, never on the thread
//! count, so every block is computed by the same calls whether one thread or several do it:
//! results are identical bit for bit with 1, 2 or more threads. (A cut that followed the
//! thread count would not be: on `[64, 784] x [784, 128]ᵀ` the `gemm` crate rounds 7,083 of
//! the 8,192 elements differently when it computes the product in two halves, because it
//! picks its kernels by block size.)

use std::mem::MaybeUninit;

use crate::error::{check_bias, shape_panic};
use crate::parallel::parallel_for;
use crate::scratch::with_scratch;
use crate::shape::Shape;
use crate::tensor::Tensor;

mod dot;
mod outer;
mod sparse;

/// General matrix multiply on slices: C ← α·A·B + β·C.
///
/// A is `m` x `k`, B is `k` x `n`, C is `m` x `n`. Each operand is read through
/// `(row stride, column stride)` in elements: element (i, j) of A is `a[i·rsa + j·csa]`.
/// A row-major `m` x `k` matrix has strides `(k, 1)`; its transpose, seen as `k` x `m`,
/// is the same slice with strides `(1, k)`.
///
/// When `beta` is zero, C is overwritten and its old values are never read (even NaN).
/// When `k` is zero, A·B is the zero matrix, so C ← β·C.
///
/// ```
/// use tensor::sgemm;
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 x 3, row-major
/// let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0]; // 3 x 2, row-major
/// let mut c = [0.0; 4];
/// sgemm(2, 3, 2, 1.0, &a, (3, 1), &b, (2, 1), 0.0, &mut c, (2, 1));
/// assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
/// // Aᵀ·A (3 x 3) reads A twice, once with swapped strides: no copy.
/// let mut g = [0.0; 9];
/// sgemm(3, 2, 3, 1.0, &a, (1, 3), &a, (3, 1), 0.0, &mut g, (3, 1));
/// assert_eq!(g[0], 1.0 * 1.0 + 4.0 * 4.0);
/// ```
///
/// # Panics
/// If an operand's strides reach past the end of its slice, or if C's strides make two
/// elements of C share one place in memory.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    a_strides: (usize, usize),
    b: &[f32],
    b_strides: (usize, usize),
    beta: f32,
    c: &mut [f32],
    c_strides: (usize, usize),
) {
    check_extent("A", m, k, a_strides, a.len());
    check_extent("B", k, n, b_strides, b.len());
    check_extent("C", m, n, c_strides, c.len());
    check_no_alias(m, n, c_strides);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // A·B is the zero matrix; C's old values are read only when β ≠ 0.
        for i in 0..m {
            for j in 0..n {
                let v = &mut c[i * c_strides.0 + j * c_strides.1];
                *v = if beta == 0.0 { 0.0 } else { beta * *v };
            }
        }
        return;
    }
    let a = Mat::new(a, a_strides);
    let b = Mat::new(b, b_strides);
    let out = MatMut::new(c, c_strides);
    // SAFETY: the checks above keep every access in bounds and C free of aliases.
    unsafe { run_blocks(m, k, n, alpha, a, b, beta, out) };
}

/// `C = A·B (+ bias)` written into `c`, row-major `m` x `n`, whose old contents are never
/// read (it may be uninitialised): [`Tensor::matmul`] fills a new buffer without zeroing it
/// first. A `bias` of `n` elements is added to every row of C by the thread that computed
/// the row's block, while it is still in that core's cache ([`Tensor::linear`]).
///
/// # Panics
/// As [`sgemm`], and if `c` does not hold exactly `m·n` elements or `bias` not `n`.
#[allow(clippy::too_many_arguments)]
#[track_caller]
fn sgemm_into_uninit(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    a_strides: (usize, usize),
    b: &[f32],
    b_strides: (usize, usize),
    bias: Option<&[f32]>,
    c: &mut [MaybeUninit<f32>],
) {
    check_extent("A", m, k, a_strides, a.len());
    check_extent("B", k, n, b_strides, b.len());
    assert_eq!(c.len(), m * n, "sgemm: C must hold m·n elements");
    if let Some(bias) = bias {
        assert_eq!(bias.len(), n, "sgemm: the bias must hold n elements");
    }
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for row in c.chunks_exact_mut(n) {
            for (j, v) in row.iter_mut().enumerate() {
                *v = MaybeUninit::new(bias.map_or(0.0, |b| b[j]));
            }
        }
        return;
    }
    let out = MatMut {
        ptr: c.as_mut_ptr().cast(),
        rs: n,
        cs: 1,
        bias: bias.map_or(std::ptr::null(), <[f32]>::as_ptr),
    };
    // SAFETY: A and B are checked, and the bias holds n elements; C is exactly m·n
    // row-major elements. With β = 0 the kernel writes every element of C and reads none.
    unsafe {
        run_blocks(
            m,
            k,
            n,
            1.0,
            Mat::new(a, a_strides),
            Mat::new(b, b_strides),
            0.0,
            out,
        )
    };
}

/// C ← α·A·B + β·C for `k ≥ 1`, cut into [`blocks`] that the threads share.
///
/// # Safety
/// As [`gemm_kernel`].
#[allow(clippy::too_many_arguments)]
unsafe fn run_blocks(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Mat,
    b: Mat,
    beta: f32,
    out: MatMut,
) {
    if a.rs == 1 && a.cs >= TRANSPOSE_MIN_STRIDE && use_outer(m, k, n, alpha, beta, b, out) {
        // A is read transposed (the Gᵀ of a weight gradient `Gᵀ·X`): each step along K of a
        // tile reads a new cache line, and with a power-of-two layer width those lines fall
        // into a few sets of the L1 cache. A row-major copy, made once for all blocks, is
        // read in order instead: on one core `[2048, 64] x [64, 784]` took 1,560-1,670 µs
        // instead of 1,970-2,290 (the copy included).
        return with_scratch(m * k, |rows| {
            transpose_into(m, k, a, rows);
            run_blocks(m, k, n, alpha, Mat::new(rows, (k, 1)), b, beta, out)
        });
    }
    let (split_cols, width, blocks) = blocks(m, k, n);
    // A mostly-zero A (a gradient behind a ReLU) takes the sparse kernel: decided once for
    // the whole product, from the shape and the data alone, so every block takes the same
    // path on any thread count. Only where each row of A goes to one block: a block of
    // columns would compact every row of A again (see `sparse.rs`).
    let sparse = (!split_cols || blocks <= 1)
        && use_outer(m, k, n, alpha, beta, b, out)
        && sparse::fits(k, n, b.rs)
        && sparse::is_sparse(m, k, a.ptr, (a.rs, a.cs));
    let kernel = |m: usize, n: usize, a: Mat, b: Mat, c: MatMut| {
        // SAFETY: a block of the caller's product, whose promise covers it.
        unsafe {
            if sparse {
                sparse_kernel(m, k, n, a, b, c);
            } else {
                gemm_kernel(m, k, n, alpha, a, b, beta, c);
            }
        }
    };
    if blocks <= 1 {
        return kernel(m, n, a, b, out);
    }
    let len = if split_cols { n } else { m };
    // The blocks depend on the shape only; the threads take them as they come.
    parallel_for(blocks, &|p| {
        let (start, end) = (p * width, ((p + 1) * width).min(len));
        // SAFETY: as the caller promised; the blocks are disjoint columns (or rows) of C, so
        // no element of C is written by two threads, and A and B are only read.
        unsafe {
            if split_cols {
                kernel(
                    m,
                    end - start,
                    a,
                    b.offset(start * b.cs),
                    out.cols_from(start),
                );
            } else {
                kernel(
                    end - start,
                    n,
                    a.offset(start * a.rs),
                    b,
                    out.rows_from(start),
                );
            }
        }
    });
}

/// The operands of `C = A·B` as [`outer::gemm_nn`] and [`sparse::gemm_nn`] take them (B and C
/// with unit column stride).
fn outer_operands(m: usize, k: usize, n: usize, a: Mat, b: Mat, c: MatMut) -> outer::OuterGemm {
    outer::OuterGemm {
        m,
        k,
        n,
        a: a.ptr,
        rsa: a.rs,
        csa: a.cs,
        b: b.ptr,
        ldb: b.rs,
        c: c.ptr,
        ldc: c.rs,
    }
}

/// C ← A·B (+ C's bias) from the nonzero entries of A ([`sparse::gemm_nn`]).
///
/// # Safety
/// As [`gemm_kernel`], with [`use_outer`] and [`sparse::fits`] true for the product.
unsafe fn sparse_kernel(m: usize, k: usize, n: usize, a: Mat, b: Mat, c: MatMut) {
    sparse::gemm_nn(outer_operands(m, k, n, a, b, c));
    c.add_bias(m, n);
}

/// A transposed A whose elements along K lie at least this far apart is copied row-major
/// before [`outer::gemm_nn`] runs (with a closer stride the copy did not pay).
const TRANSPOSE_MIN_STRIDE: usize = 512;

/// Writes the `m` x `k` matrix `a` (column stride `a.cs`, row stride 1) into `rows`,
/// row-major, in 16 x 16 blocks.
///
/// # Safety
/// Every element of `a` must be in bounds, and `rows` must hold `m·k` elements.
unsafe fn transpose_into(m: usize, k: usize, a: Mat, rows: &mut [f32]) {
    const B: usize = 16;
    assert_eq!(rows.len(), m * k);
    for p0 in (0..k).step_by(B) {
        for i0 in (0..m).step_by(B) {
            for p in p0..(p0 + B).min(k) {
                let col = a.ptr.add(p * a.cs);
                for i in i0..(i0 + B).min(m) {
                    rows[i * k + p] = *col.add(i);
                }
            }
        }
    }
}

/// Products of at least this many multiply-adds (about 5 µs of work, five times what waking
/// a worker and waiting for it costs) are computed in blocks that threads can share.
const MIN_MACS_TO_SPLIT: usize = 512 * 1024;

/// Blocks are whole multiples of this many columns (or rows) of C: the `gemm` crate's
/// AVX-512 micro-kernel covers 64 of them at a time.
const BLOCK_ALIGN: usize = 64;

/// At most this many blocks per product (enough to keep 8 threads busy).
const MAX_BLOCKS: usize = 8;

/// How C is cut into blocks: `(by columns?, block width, block count)`, from the shape alone.
///
/// The cut must not depend on the thread count: the `gemm` crate may round a block's
/// elements differently from the same elements of a larger product (it picks its kernels by
/// size), so the same blocks are computed whether one thread or several take them. Columns
/// are preferred (splitting them costs nothing measurable; splitting rows re-packs B for
/// every block: 6% more time on `[256, 784] x [784, 128]` in two row blocks), except for a
/// small layer's weight gradient ([`SHORT_K`]).
fn blocks(m: usize, k: usize, n: usize) -> (bool, usize, usize) {
    if m * n * k < MIN_MACS_TO_SPLIT {
        return (true, n, 1);
    }
    let weight_grad_halves = k <= SHORT_K && m > BLOCK_ALIGN && m <= 2 * BLOCK_ALIGN;
    let split_cols = (n >= 2 * BLOCK_ALIGN || m < 2 * BLOCK_ALIGN) && !weight_grad_halves;
    let len = if split_cols { n } else { m };
    let mut width = len.div_ceil(MAX_BLOCKS).next_multiple_of(BLOCK_ALIGN);
    if width >= len && len >= 2 * HALF_BLOCK {
        // One block would leave the other threads idle: two halves instead.
        width = len.div_ceil(2).next_multiple_of(HALF_BLOCK);
    }
    (split_cols, width, len.div_ceil(width))
}

/// A C of more than [`BLOCK_ALIGN`] and at most `2 · BLOCK_ALIGN` rows over an inner size of
/// at most this is cut by rows, into two halves.
///
/// That is the shape of a dense layer's weight gradient over a batch, `∂W = Gᵀ·X` (`[out,
/// batch] x [batch, in]`), for a layer of 65 to 128 outputs, and cutting it by rows gives
/// each of two threads whole rows of `W`: the rows whose outputs it computed in the forward
/// product (cut into the same two halves, by columns of `X·Wᵀ`, one per row of `W`) and that
/// it then updates (the optimizer's per-thread pieces of `W`). Each core keeps reading and
/// writing the same half of `W` and of `∂W` through a step, and no cache line of them moves
/// between cores, which matters where the two cores share no cache: on a 2-vCPU cloud
/// machine whose cores were at times on different chiplets (a cache line's round trip
/// between them 330-380 ns instead of 55-80), the MLP 784-128-64-10's `[128, 64] x [64, 784]`
/// took 81 + 7 µs in two row halves against 97 µs in seven column blocks, and a whole SGD
/// step of that MLP at 2 threads ran 3.6% faster (medians of 7 alternating rounds,
/// `examples/bench`); with the cores close it made no difference that the noise showed. B,
/// short, is re-packed per block at little cost. Taller weight gradients keep their column
/// blocks: with eight blocks taken as they come the rows no longer stay with one thread, and
/// cutting the 512-wide layers' by rows made the MLP 784-512-256-10 3% slower.
const SHORT_K: usize = 256;

/// A product too narrow for two blocks of [`BLOCK_ALIGN`] is cut in halves that are multiples
/// of this: the middle layer of the MLP 784-128-64-10 (`[64, 128] x [64, 128]ᵀ`, 524 K
/// multiply-adds) took 12.5 µs on one core, one 32-column half 6.7 µs.
const HALF_BLOCK: usize = 32;

/// A read-only operand: its first element and its (row, column) strides.
#[derive(Clone, Copy)]
struct Mat {
    ptr: *const f32,
    rs: usize,
    cs: usize,
}

// SAFETY: a `Mat` is only read, and only while the slice it came from is borrowed.
unsafe impl Sync for Mat {}
unsafe impl Send for Mat {}

impl Mat {
    fn new(data: &[f32], (rs, cs): (usize, usize)) -> Mat {
        Mat {
            ptr: data.as_ptr(),
            rs,
            cs,
        }
    }

    /// The same strides, starting `elements` further on.
    unsafe fn offset(self, elements: usize) -> Mat {
        Mat {
            ptr: self.ptr.add(elements),
            ..self
        }
    }
}

/// The output C: its first element, its (row, column) strides, and the row added to every
/// row of C once the product is computed (null: none; column `j` adds `bias[j]`).
#[derive(Clone, Copy)]
struct MatMut {
    ptr: *mut f32,
    rs: usize,
    cs: usize,
    bias: *const f32,
}

// SAFETY: threads write disjoint blocks of C (see `sgemm`), while its slice is borrowed.
unsafe impl Sync for MatMut {}
unsafe impl Send for MatMut {}

impl MatMut {
    fn new(data: &mut [f32], (rs, cs): (usize, usize)) -> MatMut {
        MatMut {
            ptr: data.as_mut_ptr(),
            rs,
            cs,
            bias: std::ptr::null(),
        }
    }

    /// The block of C from row `i` on.
    unsafe fn rows_from(self, i: usize) -> MatMut {
        MatMut {
            ptr: self.ptr.add(i * self.rs),
            ..self
        }
    }

    /// The block of C from column `j` on (and of the bias with it).
    unsafe fn cols_from(self, j: usize) -> MatMut {
        MatMut {
            ptr: self.ptr.add(j * self.cs),
            bias: if self.bias.is_null() {
                self.bias
            } else {
                self.bias.add(j)
            },
            ..self
        }
    }

    /// Adds the bias to every row of the `m` x `n` block (none: nothing to do).
    unsafe fn add_bias(self, m: usize, n: usize) {
        if self.bias.is_null() {
            return;
        }
        for i in 0..m {
            for j in 0..n {
                *self.ptr.add(i * self.rs + j * self.cs) += *self.bias.add(j);
            }
        }
    }
}

/// C ← α·A·B + β·C (+ C's bias) on one thread: the dot or outer kernel where they apply,
/// the `gemm` crate's kernels otherwise (AVX-512 when the CPU has it, chosen at run time;
/// AVX2+FMA otherwise).
///
/// # Safety
/// Every element of the three matrices must be in bounds, and no two elements of C may share
/// memory or overlap A or B.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_kernel(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Mat,
    b: Mat,
    beta: f32,
    c: MatMut,
) {
    if use_dot(m, k, n, a, b) {
        // The dot kernel adds the bias as it stores each element.
        return dot::gemm_nt(dot::DotGemm {
            m,
            k,
            n,
            alpha,
            a: a.ptr,
            lda: a.rs,
            b: b.ptr,
            ldb: b.cs,
            beta,
            c: c.ptr,
            rsc: c.rs,
            csc: c.cs,
            bias: c.bias,
        });
    }
    if use_outer(m, k, n, alpha, beta, b, c) {
        outer::gemm_nn(outer_operands(m, k, n, a, b, c));
    } else {
        crate_gemm(m, k, n, alpha, a, b, beta, c);
    }
    c.add_bias(m, n);
}

/// C ← α·A·B + β·C with the `gemm` crate's kernels, without the bias.
///
/// # Safety
/// As [`gemm_kernel`].
#[allow(clippy::too_many_arguments)]
unsafe fn crate_gemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Mat,
    b: Mat,
    beta: f32,
    c: MatMut,
) {
    let s = |v: usize| v as isize;
    let f = gemm_f32::gemm::f32::get_gemm_fn();
    // gemm's kernels write columns of C: a row-major C is computed as Cᵀ = Bᵀ·Aᵀ (the same
    // memory read with swapped strides). Its `alpha` scales the old C and `beta` the product.
    let (read_c, scale_c) = (beta != 0.0, beta);
    if c.cs < c.rs {
        f(
            n,
            m,
            k,
            c.ptr,
            s(c.rs),
            s(c.cs),
            read_c,
            b.ptr,
            s(b.rs),
            s(b.cs),
            a.ptr,
            s(a.rs),
            s(a.cs),
            scale_c,
            alpha,
            false,
            false,
            false,
            gemm_common::Parallelism::None,
        );
    } else {
        f(
            m,
            n,
            k,
            c.ptr,
            s(c.cs),
            s(c.rs),
            read_c,
            a.ptr,
            s(a.cs),
            s(a.rs),
            b.ptr,
            s(b.cs),
            s(b.rs),
            scale_c,
            alpha,
            false,
            false,
            false,
            gemm_common::Parallelism::None,
        );
    }
}

/// Whether [`dot::gemm_nt`] computes this product: A's rows and Bᵀ's rows run along K in
/// memory (the `X·Wᵀ` of a dense layer), A has few rows (the batch) and B is wide and deep
/// enough that the `gemm` crate's copy of it would cost more than it saves. Narrow or short
/// products (the weight gradient of a convolution, `[16, 576] x [25, 576]ᵀ`, ran 5-10%
/// slower here: the lane trees cost too much next to so few steps) stay with the crate,
/// except a classifier's few outputs (fewer than [`DOT_NARROW_N`] columns of C, K at least
/// [`DOT_NARROW_MIN_K`]): there the crate's packing is most of the work, and the dot kernel
/// took `[64, 64] x [10, 64]ᵀ` from 41 to 53 GFLOP/s and `[64, 512] x [10, 512]ᵀ` from 53
/// to 95 (`cargo bench --bench tensor`, the summary line).
fn use_dot(m: usize, k: usize, n: usize, a: Mat, b: Mat) -> bool {
    let shape = (k >= DOT_MIN_K && n >= DOT_MIN_N) || (k >= DOT_NARROW_MIN_K && n < DOT_NARROW_N);
    a.cs == 1 && b.rs == 1 && m <= DOT_MAX_M && shape
}

/// The most rows of A for [`dot::gemm_nt`].
const DOT_MAX_M: usize = 256;
/// The fewest columns of A (the inner size) for [`dot::gemm_nt`].
const DOT_MIN_K: usize = 256;
/// The fewest rows of B (columns of C) for [`dot::gemm_nt`].
const DOT_MIN_N: usize = 64;
/// Fewer rows of B than this (a classifier's outputs) go to [`dot::gemm_nt`] at any K from
/// [`DOT_NARROW_MIN_K`].
const DOT_NARROW_N: usize = 16;
/// The fewest columns of A for a product narrower than [`DOT_NARROW_N`] in [`dot::gemm_nt`].
const DOT_NARROW_MIN_K: usize = 64;

/// Whether [`outer::gemm_nn`] computes this product: C = A·B (α = 1, β = 0) with B's and
/// C's rows along N (the backward products of a dense layer, `G·W` and `Gᵀ·X`), one side
/// small (few rows of A, or a short K: the batch) and C at least one tile wide.
fn use_outer(m: usize, k: usize, n: usize, alpha: f32, beta: f32, b: Mat, c: MatMut) -> bool {
    b.cs == 1
        && c.cs == 1
        && alpha == 1.0
        && beta == 0.0
        && (m <= OUTER_MAX_SMALL || k <= OUTER_MAX_SMALL)
        && n >= OUTER_MIN_N
}

/// The most rows of A, or steps along K, of the small side for [`outer::gemm_nn`].
const OUTER_MAX_SMALL: usize = 256;
/// The fewest columns of C for [`outer::gemm_nn`].
const OUTER_MIN_N: usize = 64;

/// Panics unless the last element of a `rows` x `cols` matrix read with `strides` is in bounds.
#[track_caller]
fn check_extent(name: &str, rows: usize, cols: usize, strides: (usize, usize), len: usize) {
    if rows == 0 || cols == 0 {
        return;
    }
    let last = (rows - 1)
        .checked_mul(strides.0)
        .zip((cols - 1).checked_mul(strides.1))
        .and_then(|(r, c)| r.checked_add(c));
    if last.is_none_or(|last| last >= len) {
        shape_panic(
            "sgemm",
            format_args!(
                "{name} is {rows} x {cols} with strides {strides:?}, which reaches past its {len} elements"
            ),
        );
    }
}

/// Panics if two elements of an `m` x `n` matrix C would share a place in memory.
///
/// Accepts the layouts a GEMM writes to: rows laid out one after another (row-major-like,
/// `rs >= n·cs`, `cs >= 1`) or columns one after another (column-major-like).
#[track_caller]
fn check_no_alias(m: usize, n: usize, (rs, cs): (usize, usize)) {
    let ok = if m <= 1 && n <= 1 {
        true
    } else if m <= 1 {
        cs >= 1
    } else if n <= 1 {
        rs >= 1
    } else {
        (cs >= 1 && rs >= n * cs) || (rs >= 1 && cs >= m * rs)
    };
    if !ok {
        shape_panic(
            "sgemm",
            format_args!(
                "C is {m} x {n} with strides {:?}, so two of its elements would share memory",
                (rs, cs)
            ),
        );
    }
}

/// One operand as the GEMM sees it: `count` matrices of `rows` x `cols` (after the optional
/// transpose), `step` elements apart in the buffer, each read with `strides`.
struct Operand {
    count: usize,
    rows: usize,
    cols: usize,
    step: usize,
    strides: (usize, usize),
}

impl Operand {
    /// `shape` is `[R, C]` or `[B, R, C]`, stored row-major; `trans` reads each matrix as Cᵀ.
    fn new(shape: &Shape, trans: bool) -> Operand {
        let d = shape.dims();
        let (count, r, c) = match *d {
            [r, c] => (1, r, c),
            [b, r, c] => (b, r, c),
            _ => unreachable!("ranks are checked by the caller"),
        };
        let (rows, cols, strides) = if trans {
            (c, r, (1, c))
        } else {
            (r, c, (c, 1))
        };
        Operand {
            count,
            rows,
            cols,
            step: r * c,
            strides,
        }
    }
}

impl Tensor {
    /// Matrix product, like PyTorch's `matmul` restricted to these forms:
    ///
    /// # Shapes
    /// - `[M, K] x [K, N] -> [M, N]`
    /// - `[B, M, K] x [B, K, N] -> [B, M, N]` (one product per batch entry)
    /// - `[B, M, K] x [K, N] -> [B, M, N]` (the right side shared by every batch entry)
    ///
    /// ```
    /// use tensor::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
    /// let b = Tensor::from_vec(vec![5.0, 6.0, 7.0, 8.0], [2, 2]);
    /// assert_eq!(a.matmul(&b).to_vec(), vec![19.0, 22.0, 43.0, 50.0]);
    /// ```
    ///
    /// # Panics
    /// If the inner sizes or the batch sizes differ, or the ranks are not one of the forms
    /// above, e.g. `matmul: inner sizes differ: [64, 784] x [128, 10] (lhs cols 784 != rhs rows 128)`.
    #[track_caller]
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        self.matmul_impl("matmul", other, false, false, None)
    }

    /// `op(self) · op(other)`, where `op` transposes the last two axes when its flag is set,
    /// without copying either operand: the transpose is handed to the GEMM as swapped strides.
    ///
    /// `a.matmul_t(&b, true, false)` is `aᵀ·b`; `a.matmul_t(&b, false, true)` is `a·bᵀ`. The
    /// shapes accepted are those of [`Tensor::matmul`], applied after the transposes.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [3, 2]);
    /// // xᵀ·x, a 2 x 2 Gram matrix, without materialising xᵀ.
    /// let g = x.matmul_t(&x, true, false);
    /// assert_eq!(g.to_vec(), vec![35.0, 44.0, 44.0, 56.0]);
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::matmul`]; transposed operands are marked `ᵀ` in the message.
    #[track_caller]
    pub fn matmul_t(&self, other: &Tensor, trans_a: bool, trans_b: bool) -> Tensor {
        self.matmul_impl("matmul_t", other, trans_a, trans_b, None)
    }

    /// The dense layer's product `self·weightᵀ + bias`, PyTorch's
    /// `torch.nn.functional.linear`: `self` is `[N, in]` or `[B, N, in]`, `weight` is
    /// `[out, in]` (PyTorch's layout) and `bias`, if any, `[out]`.
    ///
    /// The bias is added inside the product: each thread adds it to the block of the output
    /// it has just computed (the dot kernel as it stores each element), while the block is in
    /// its core's cache. Each element is the product plus the bias, rounded once more, so the
    /// result is the same, bit for bit, as `self.matmul_t(weight, false, true)` followed by
    /// adding the bias to every row.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
    /// let w = Tensor::from_vec(vec![1.0, 0.0, 1.0, 1.0, 0.0, -1.0], [3, 2]);
    /// let b = Tensor::from_vec(vec![0.5, 0.0, -0.5], [3]);
    /// assert_eq!(x.linear(&w, Some(&b)).to_vec(), vec![1.5, 3.0, -2.5, 3.5, 7.0, -4.5]);
    /// ```
    ///
    /// # Panics
    /// If `weight` is not 2-D, the inner sizes differ (as [`Tensor::matmul_t`]), or `bias` is
    /// not `[out]`.
    #[track_caller]
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
        if weight.rank() != 2 {
            shape_panic(
                "linear",
                format_args!("weight must be [out, in], got {:?}", weight.shape()),
            );
        }
        check_bias("linear", bias, weight.dim(0), weight.shape());
        self.matmul_impl("linear", weight, false, true, bias.map(Tensor::data))
    }

    /// The products above, with `bias` (`n` elements, checked by the caller) added to every
    /// row of each result.
    #[track_caller]
    fn matmul_impl(
        &self,
        op: &str,
        other: &Tensor,
        trans_a: bool,
        trans_b: bool,
        bias: Option<&[f32]>,
    ) -> Tensor {
        // Formatted only for an error message: on the hot path it cost 0.5% of an MLP step.
        let shapes = || {
            let tick = |t: bool| if t { "ᵀ" } else { "" };
            format!(
                "{:?}{} x {:?}{}",
                self.shape(),
                tick(trans_a),
                other.shape(),
                tick(trans_b)
            )
        };
        match (self.rank(), other.rank()) {
            (2, 2) | (3, 3) | (3, 2) => {}
            (ra, rb) => shape_panic(
                op,
                format_args!(
                    "needs [M, K] x [K, N], [B, M, K] x [B, K, N] or [B, M, K] x [K, N], \
                     got ranks {ra} and {rb}: {}",
                    shapes()
                ),
            ),
        }
        let a = Operand::new(self.shape(), trans_a);
        let b = Operand::new(other.shape(), trans_b);
        if a.cols != b.rows {
            shape_panic(
                op,
                format_args!(
                    "inner sizes differ: {} (lhs cols {} != rhs rows {})",
                    shapes(),
                    a.cols,
                    b.rows
                ),
            );
        }
        if self.rank() == 3 && other.rank() == 3 && a.count != b.count {
            shape_panic(
                op,
                format_args!(
                    "batch sizes differ: {} ({} != {})",
                    shapes(),
                    a.count,
                    b.count
                ),
            );
        }
        let (m, k, n) = (a.rows, a.cols, b.cols);
        let out_shape = if self.rank() == 2 {
            Shape::from([m, n])
        } else {
            Shape::from([a.count, m, n])
        };
        let numel = out_shape.numel();
        let mut out: Vec<f32> = Vec::with_capacity(numel);
        let spare = &mut out.spare_capacity_mut()[..numel];
        let (ad, bd) = (self.data(), other.data());
        if numel == 0 {
            // M, N or B is zero: nothing to compute (and no chunk size of zero below).
        } else if self.rank() == 3 && other.rank() == 2 && !trans_a {
            // The batch entries of a non-transposed lhs are stacked rows: one GEMM of
            // [B·M, K] x [K, N] does them all.
            sgemm_into_uninit(a.count * m, k, n, ad, a.strides, bd, b.strides, bias, spare);
        } else {
            let b_step = if other.rank() == 3 { b.step } else { 0 };
            for (i, c) in spare.chunks_mut(m * n).enumerate() {
                let ai = &ad[i * a.step..(i + 1) * a.step];
                let bi = &bd[i * b_step..i * b_step + b.step];
                sgemm_into_uninit(m, k, n, ai, a.strides, bi, b.strides, bias, c);
            }
        }
        // SAFETY: every element was written above (each GEMM writes all of its C, k = 0
        // writes zeros), and the buffer holds `numel` elements.
        unsafe { out.set_len(numel) };
        Tensor::from_vec(out, out_shape)
    }
}

#[cfg(test)]
mod tests;
