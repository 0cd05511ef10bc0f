use super::*;
use rand::Rng as _;

/// The textbook triple loop on one matrix each, with optional transposes, summed in f64.
fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize, ta: bool, tb: bool) -> Vec<f32> {
    let at = |i: usize, p: usize| if ta { a[p * m + i] } else { a[i * k + p] };
    let bt = |p: usize, j: usize| if tb { b[j * k + p] } else { b[p * n + j] };
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            for p in 0..k {
                s += at(i, p) as f64 * bt(p, j) as f64;
            }
            c[i * n + j] = s as f32;
        }
    }
    c
}

/// Storage shape of an operand whose op() is `rows` x `cols`.
fn stored(batch: Option<usize>, rows: usize, cols: usize, trans: bool) -> Vec<usize> {
    let (r, c) = if trans { (cols, rows) } else { (rows, cols) };
    batch.map_or(vec![r, c], |b| vec![b, r, c])
}

fn assert_close(got: &[f32], want: &[f32], k: usize) {
    assert_eq!(got.len(), want.len());
    // Inputs are in [-1, 1): each product term is below 1, so errors grow at most with k.
    let tol = 1e-5 * (k as f32 + 1.0);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "element {i}: got {g}, want {w} (tol {tol})"
        );
    }
}

#[test]
fn small_2d_by_hand() {
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    let b = Tensor::from_vec(vec![7.0, 8.0, 9.0, 10.0, 11.0, 12.0], [3, 2]);
    let c = a.matmul(&b);
    assert_eq!(c.dims(), &[2, 2]);
    assert_eq!(c.to_vec(), vec![58.0, 64.0, 139.0, 154.0]);
}

#[test]
fn non_square_against_naive() {
    let mut r = crate::rng(1);
    for &(m, k, n) in &[(3, 5, 7), (7, 5, 3), (1, 9, 4), (17, 33, 9), (64, 78, 13)] {
        let a = Tensor::uniform([m, k], -1.0, 1.0, &mut r);
        let b = Tensor::uniform([k, n], -1.0, 1.0, &mut r);
        let c = a.matmul(&b);
        assert_eq!(c.dims(), &[m, n]);
        assert_close(
            c.data(),
            &naive(a.data(), b.data(), m, k, n, false, false),
            k,
        );
    }
}

#[test]
fn all_four_transpose_combinations() {
    let mut r = crate::rng(2);
    let (m, k, n) = (6, 11, 4);
    for ta in [false, true] {
        for tb in [false, true] {
            let a = Tensor::uniform(stored(None, m, k, ta), -1.0, 1.0, &mut r);
            let b = Tensor::uniform(stored(None, k, n, tb), -1.0, 1.0, &mut r);
            let c = a.matmul_t(&b, ta, tb);
            assert_eq!(c.dims(), &[m, n], "ta={ta} tb={tb}");
            assert_close(c.data(), &naive(a.data(), b.data(), m, k, n, ta, tb), k);
        }
    }
}

#[test]
fn transpose_flags_match_explicit_transpose() {
    // aᵀ·b with the flag equals the product with aᵀ written out by hand.
    let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    let at = Tensor::from_vec(vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0], [3, 2]);
    let b = Tensor::from_vec(vec![1.0, -1.0, 2.0, 0.5], [2, 2]);
    assert_eq!(a.matmul_t(&b, true, false), at.matmul(&b));
    assert_eq!(b.matmul_t(&at, false, true), b.matmul(&a));
}

#[test]
fn batched_3d_and_shared_rhs() {
    let mut r = crate::rng(3);
    let (bs, m, k, n) = (4, 5, 7, 3);
    for ta in [false, true] {
        for tb in [false, true] {
            let a = Tensor::uniform(stored(Some(bs), m, k, ta), -1.0, 1.0, &mut r);
            // batched right side
            let b = Tensor::uniform(stored(Some(bs), k, n, tb), -1.0, 1.0, &mut r);
            let c = a.matmul_t(&b, ta, tb);
            assert_eq!(c.dims(), &[bs, m, n]);
            for i in 0..bs {
                let ai = &a.data()[i * m * k..(i + 1) * m * k];
                let bi = &b.data()[i * k * n..(i + 1) * k * n];
                let ci = &c.data()[i * m * n..(i + 1) * m * n];
                assert_close(ci, &naive(ai, bi, m, k, n, ta, tb), k);
            }
            // shared right side
            let b2 = Tensor::uniform(stored(None, k, n, tb), -1.0, 1.0, &mut r);
            let c2 = a.matmul_t(&b2, ta, tb);
            assert_eq!(c2.dims(), &[bs, m, n]);
            for i in 0..bs {
                let ai = &a.data()[i * m * k..(i + 1) * m * k];
                let ci = &c2.data()[i * m * n..(i + 1) * m * n];
                assert_close(ci, &naive(ai, b2.data(), m, k, n, ta, tb), k);
            }
        }
    }
}

#[test]
fn random_sizes_against_naive() {
    let mut r = crate::rng(4);
    for _ in 0..40 {
        let (m, k, n) = (
            r.random_range(0..40) + 1,
            r.random_range(0..70) + 1,
            r.random_range(0..40) + 1,
        );
        let (ta, tb) = (r.random_range(0..2) == 1, r.random_range(0..2) == 1);
        let batch = if r.random_range(0..2) == 1 {
            Some(r.random_range(0..3) + 1)
        } else {
            None
        };
        let a = Tensor::uniform(stored(batch, m, k, ta), -1.0, 1.0, &mut r);
        let b = Tensor::uniform(stored(batch, k, n, tb), -1.0, 1.0, &mut r);
        let c = a.matmul_t(&b, ta, tb);
        let bs = batch.unwrap_or(1);
        for i in 0..bs {
            let ai = &a.data()[i * m * k..(i + 1) * m * k];
            let bi = &b.data()[i * k * n..(i + 1) * k * n];
            let ci = &c.data()[i * m * n..(i + 1) * m * n];
            assert_close(ci, &naive(ai, bi, m, k, n, ta, tb), k);
        }
    }
}

#[test]
fn threads_split_large_products_without_changing_a_bit() {
    let mut r = crate::rng(5);
    // Large enough to be cut into blocks (by rows, by columns), sizes that are not
    // multiples of the block width, and the MLP product whose rounding changed when it
    // was cut by thread count, and one cut in two halves of 32 columns (the MLP's middle
    // layer); all four transpose combinations.
    for &(m, k, n) in &[
        (200, 300, 37),
        (37, 300, 200),
        (130, 90, 129),
        (64, 784, 128),
        (64, 128, 64),
    ] {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = Tensor::uniform(stored(None, m, k, ta), -1.0, 1.0, &mut r);
            let b = Tensor::uniform(stored(None, k, n, tb), -1.0, 1.0, &mut r);
            let runs = crate::parallel::with_thread_counts(&[1, 2, 3], || a.matmul_t(&b, ta, tb));
            assert_close(
                runs[0].data(),
                &naive(a.data(), b.data(), m, k, n, ta, tb),
                k,
            );
            assert_eq!(
                runs[0], runs[1],
                "{m}x{k}x{n} ta={ta} tb={tb}: 1 vs 2 threads"
            );
            assert_eq!(
                runs[0], runs[2],
                "{m}x{k}x{n} ta={ta} tb={tb}: 1 vs 3 threads"
            );
        }
    }
}

#[test]
fn blocks_follow_the_shape_only() {
    assert_eq!(blocks(64, 64, 10), (true, 10, 1), "small: one block");
    assert_eq!(blocks(64, 784, 128), (true, 64, 2));
    // a small layer's weight gradient `[out, batch] x [batch, in]`: two halves of W's rows
    assert_eq!(blocks(128, 64, 784), (false, 64, 2), "short K: row halves");
    assert_eq!(blocks(96, 256, 784), (false, 64, 2));
    assert_eq!(blocks(128, 1024, 784), (true, 128, 7), "long K: columns");
    assert_eq!(blocks(512, 64, 784), (true, 128, 7), "tall C: columns");
    assert_eq!(blocks(64, 64, 784), (true, 128, 7), "short C: columns");
    assert_eq!(blocks(1000, 784, 10), (false, 128, 8), "narrow C: rows");
    assert_eq!(blocks(64, 128, 64), (true, 32, 2), "halves of 32");
    assert_eq!(
        blocks(64, 128, 96),
        (true, 64, 2),
        "halves rounded up to 32"
    );
    assert_eq!(blocks(64, 8192, 63), (true, 64, 1), "too narrow to halve");
}

#[test]
fn sgemm_accumulates_into_a_strided_block_on_several_threads() {
    // β = 1 into every other column of a wider C: the split must respect C's strides.
    let mut r = crate::rng(6);
    let (m, k, n) = (150, 200, 140);
    let a = Tensor::uniform([m, k], -1.0, 1.0, &mut r);
    let b = Tensor::uniform([k, n], -1.0, 1.0, &mut r);
    let c0 = Tensor::uniform([m, 2 * n], -1.0, 1.0, &mut r);
    let runs = crate::parallel::with_thread_counts(&[1, 2], || {
        let mut c = c0.to_vec();
        sgemm(
            m,
            k,
            n,
            0.5,
            a.data(),
            (k, 1),
            b.data(),
            (n, 1),
            1.0,
            &mut c,
            (2 * n, 2),
        );
        c
    });
    assert_eq!(runs[0], runs[1]);
    let ab = naive(a.data(), b.data(), m, k, n, false, false);
    for i in 0..m {
        for j in 0..2 * n {
            let old = c0.data()[i * 2 * n + j];
            let want = if j % 2 == 0 {
                old + 0.5 * ab[i * n + j / 2]
            } else {
                old
            };
            assert!((runs[0][i * 2 * n + j] - want).abs() <= 1e-5 * (k as f32 + 1.0));
        }
    }
}

#[test]
fn one_by_one() {
    let a = Tensor::from_vec(vec![3.0], [1, 1]);
    let b = Tensor::from_vec(vec![-2.5], [1, 1]);
    assert_eq!(a.matmul(&b).to_vec(), vec![-7.5]);
    assert_eq!(a.matmul_t(&b, true, true).to_vec(), vec![-7.5]);
}

#[test]
fn empty_inner_size_gives_zeros() {
    let a = Tensor::zeros([3, 0]);
    let b = Tensor::zeros([0, 4]);
    let c = a.matmul(&b);
    assert_eq!(c.dims(), &[3, 4]);
    assert!(c.data().iter().all(|&v| v == 0.0));
    let c = Tensor::zeros([2, 3, 0]).matmul(&Tensor::zeros([2, 0, 4]));
    assert_eq!(c.dims(), &[2, 3, 4]);
    assert!(c.data().iter().all(|&v| v == 0.0));
}

#[test]
fn empty_outer_sizes() {
    assert_eq!(
        Tensor::zeros([0, 5]).matmul(&Tensor::ones([5, 3])).dims(),
        &[0, 3]
    );
    assert_eq!(
        Tensor::ones([4, 5]).matmul(&Tensor::zeros([5, 0])).dims(),
        &[4, 0]
    );
    assert_eq!(
        Tensor::zeros([0, 2, 5])
            .matmul(&Tensor::zeros([0, 5, 3]))
            .dims(),
        &[0, 2, 3]
    );
    assert_eq!(
        Tensor::zeros([0, 2, 5])
            .matmul(&Tensor::ones([5, 3]))
            .dims(),
        &[0, 2, 3]
    );
    // M = 0 inside a non-empty batch, with and without transposes
    assert_eq!(
        Tensor::zeros([2, 0, 5])
            .matmul(&Tensor::ones([2, 5, 3]))
            .dims(),
        &[2, 0, 3]
    );
    assert_eq!(
        Tensor::zeros([2, 5, 0])
            .matmul_t(&Tensor::ones([3, 5]), true, true)
            .dims(),
        &[2, 0, 3]
    );
}

#[test]
#[should_panic(expected = "matmul: inner sizes differ: [64, 784] x [128, 10]")]
fn inner_mismatch_names_both_shapes() {
    Tensor::zeros([64, 784]).matmul(&Tensor::zeros([128, 10]));
}

#[test]
#[should_panic(expected = "matmul_t: inner sizes differ: [64, 128]ᵀ x [64, 784]ᵀ")]
fn transposed_mismatch_marks_transposes() {
    Tensor::zeros([64, 128]).matmul_t(&Tensor::zeros([64, 784]), true, true);
}

#[test]
#[should_panic(expected = "matmul: batch sizes differ: [2, 3, 4] x [3, 4, 5]")]
fn batch_mismatch_panics() {
    Tensor::zeros([2, 3, 4]).matmul(&Tensor::zeros([3, 4, 5]));
}

#[test]
#[should_panic(expected = "got ranks 1 and 2: [3] x [3, 2]")]
fn rank_1_panics() {
    Tensor::zeros([3]).matmul(&Tensor::zeros([3, 2]));
}

#[test]
fn sgemm_alpha_beta_accumulate() {
    let a = [1.0, 2.0, 3.0, 4.0];
    let id = [1.0, 0.0, 0.0, 1.0];
    let mut c = [10.0, 20.0, 30.0, 40.0];
    sgemm(2, 2, 2, 2.0, &a, (2, 1), &id, (2, 1), 1.0, &mut c, (2, 1));
    assert_eq!(c, [12.0, 24.0, 36.0, 48.0]);
    // Column-major C: write the transpose of A·I.
    let mut ct = [0.0; 4];
    sgemm(2, 2, 2, 1.0, &a, (2, 1), &id, (2, 1), 0.0, &mut ct, (1, 2));
    assert_eq!(ct, [1.0, 3.0, 2.0, 4.0]);
}

#[test]
fn sgemm_beta_zero_ignores_nan_in_c() {
    let a = [1.0, 2.0];
    let b = [3.0, 4.0];
    let mut c = [f32::NAN];
    sgemm(1, 2, 1, 1.0, &a, (2, 1), &b, (1, 1), 0.0, &mut c, (1, 1));
    assert_eq!(c, [11.0]);
}

#[test]
#[should_panic(
    expected = "sgemm: B is 3 x 2 with strides (2, 1), which reaches past its 5 elements"
)]
fn sgemm_out_of_bounds_panics() {
    let mut c = [0.0; 4];
    sgemm(
        2,
        3,
        2,
        1.0,
        &[0.0; 6],
        (3, 1),
        &[0.0; 5],
        (2, 1),
        0.0,
        &mut c,
        (2, 1),
    );
}

#[test]
#[should_panic(expected = "two of its elements would share memory")]
fn sgemm_aliasing_c_panics() {
    let mut c = [0.0; 4];
    sgemm(
        2,
        1,
        2,
        1.0,
        &[0.0; 2],
        (1, 1),
        &[0.0; 2],
        (2, 1),
        0.0,
        &mut c,
        (1, 1),
    );
}

/// Runs [`dot::gemm_nt`] on row-major A (`m` x `k`, rows `lda` apart) and B (`n` x `k`, rows
/// `ldb` apart) into a copy of `c0` (`m` x `n` read through `(rsc, csc)`), adding `bias` (`n`
/// elements) if given, with the AVX-512 copy when `simd` and the CPU has it, else the
/// portable copy.
#[allow(clippy::too_many_arguments)]
fn run_dot(
    simd: bool,
    (m, k, n): (usize, usize, usize),
    (alpha, beta): (f32, f32),
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    c0: &[f32],
    (rsc, csc): (usize, usize),
    bias: Option<&[f32]>,
) -> Vec<f32> {
    let mut c = c0.to_vec();
    let g = dot::DotGemm {
        m,
        k,
        n,
        alpha,
        a: a.as_ptr(),
        lda,
        b: b.as_ptr(),
        ldb,
        beta,
        c: c.as_mut_ptr(),
        rsc,
        csc,
        bias: bias.map_or(std::ptr::null(), <[f32]>::as_ptr),
    };
    // SAFETY: the callers size every buffer for these sizes and strides.
    unsafe {
        if simd {
            dot::gemm_nt(g)
        } else {
            dot::portable_gemm_nt(g)
        }
    };
    c
}

#[test]
fn dot_kernel_matches_its_portable_copy_bit_for_bit() {
    let mut r = crate::rng(11);
    // Edges of every kind: partial tiles (m, n not multiples of 4), a partial last vector
    // step (k not a multiple of 16), k below one step, k across slices (k > 512), padded
    // rows (lda > k), a column-major C, β ≠ 0, a bias.
    let shapes = [
        (1, 1, 1),
        (4, 16, 4),
        (5, 17, 3),
        (3, 15, 9),
        (64, 784, 10),
        (7, 1030, 6),
        (9, 512, 5),
        (2, 529, 13),
        // one slice of K up to 1,024 columns for 4 rows of B, more beyond; a narrow last
        // panel of 1, 2 or 3 rows of B after full ones
        (6, 1024, 4),
        (5, 1025, 7),
        (4, 2100, 6),
        (3, 33, 65),
        (8, 784, 66),
    ];
    for (case, &(m, k, n)) in shapes.iter().enumerate() {
        let pad = case % 3;
        let (lda, ldb) = (k + pad, k + 2 * pad);
        let a = Tensor::uniform([m * lda], -1.0, 1.0, &mut r).to_vec();
        let b = Tensor::uniform([n * ldb], -1.0, 1.0, &mut r).to_vec();
        let c0 = Tensor::uniform([m * n], -1.0, 1.0, &mut r).to_vec();
        let c_strides = if case % 2 == 0 { (n, 1) } else { (1, m) };
        let ab = if case % 4 == 3 {
            (0.5, -2.0)
        } else {
            (1.0, 0.0)
        };
        let bias = (case % 3 == 1).then(|| Tensor::uniform([n], -1.0, 1.0, &mut r).to_vec());
        let bias = bias.as_deref();
        let fast = run_dot(true, (m, k, n), ab, &a, lda, &b, ldb, &c0, c_strides, bias);
        let slow = run_dot(false, (m, k, n), ab, &a, lda, &b, ldb, &c0, c_strides, bias);
        let same = fast
            .iter()
            .zip(&slow)
            .all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "{m}x{k}x{n}: the two copies differ");
        // and both are the product: element (i, j) is α·dot(row i, row j) (+ β·old) (+ bias)
        for i in 0..m {
            for j in 0..n {
                let want = dot::dot_ref(&a[i * lda..][..k], &b[j * ldb..][..k]);
                let at = i * c_strides.0 + j * c_strides.1;
                let want = if ab.1 == 0.0 {
                    ab.0 * want
                } else {
                    ab.0 * want + ab.1 * c0[at]
                };
                let want = bias.map_or(want, |bias| want + bias[j]);
                assert_eq!(
                    fast[at].to_bits(),
                    want.to_bits(),
                    "{m}x{k}x{n} at ({i}, {j})"
                );
            }
        }
    }
}

#[test]
fn dot_ref_sums_lanes_as_a_tree() {
    // 16 lanes of one product each (a = 1): lane l holds b[l]; the tree adds lane l to
    // l + 8, then l + 4, l + 2, l + 1. With b = 2^24 at lane 0 and 1 at lanes 1 and 9 the
    // order shows: (1 + 1) + 2^24 is exact, 2^24 + 1 + 1 (left to right) would lose both.
    let mut b = [0.0f32; 16];
    b[0] = 16_777_216.0;
    b[1] = 1.0;
    b[9] = 1.0;
    assert_eq!(dot::dot_ref(&[1.0; 16], &b), 16_777_218.0);
    // Past the end counts as zero: a 17th column is the first lane's second product.
    let a = [1.0f32; 17];
    let mut b17 = [0.0f32; 17];
    b17[16] = 3.0;
    assert_eq!(dot::dot_ref(&a, &b17), 3.0);
    assert_eq!(dot::dot_ref(&[], &[]), 0.0);
}

#[test]
fn dense_layer_forward_uses_the_dot_kernel_and_matches_naive() {
    // X·Wᵀ with W [out, in]: the product routed to the dot kernel, on 1, 2 and 3 threads.
    let mut r = crate::rng(12);
    // (The last two: a classifier's few outputs, narrower than a tile and than two.)
    for &(m, k, n) in &[
        (64, 784, 130),
        (3, 300, 1000),
        (64, 1030, 64),
        (64, 64, 10),
        (5, 70, 3),
    ] {
        assert!(use_dot(
            m,
            k,
            n,
            Mat::new(&[0.0], (k, 1)),
            Mat::new(&[0.0], (1, k))
        ));
        let x = Tensor::uniform([m, k], -1.0, 1.0, &mut r);
        let w = Tensor::uniform([n, k], -1.0, 1.0, &mut r);
        let runs = crate::parallel::with_thread_counts(&[1, 2, 3], || x.matmul_t(&w, false, true));
        assert_close(
            runs[0].data(),
            &naive(x.data(), w.data(), m, k, n, false, true),
            k,
        );
        assert_eq!(runs[0], runs[1]);
        assert_eq!(runs[0], runs[2]);
    }
    // Not routed: a transposed A, a B along N, too many rows, too short, too narrow.
    let (row, col) = (Mat::new(&[0.0], (512, 1)), Mat::new(&[0.0], (1, 512)));
    assert!(use_dot(64, 512, 512, row, col));
    assert!(!use_dot(64, 512, 512, col, col));
    assert!(!use_dot(64, 512, 512, row, row));
    assert!(!use_dot(DOT_MAX_M + 1, 512, 512, row, col));
    assert!(!use_dot(64, DOT_MIN_K - 1, 512, row, col));
    assert!(!use_dot(64, 512, DOT_MIN_N - 1, row, col));
    assert!(use_dot(64, 512, DOT_NARROW_N - 1, row, col));
    assert!(!use_dot(
        64,
        DOT_NARROW_MIN_K - 1,
        DOT_NARROW_N - 1,
        row,
        col
    ));
}

#[test]
fn linear_adds_the_bias_inside_the_product_with_the_same_bits() {
    // `x.linear(w, b)` against `x·wᵀ` then `+ b` row by row: the dot kernel (whole and cut in
    // two, a classifier's few outputs), the crate's kernels cut by columns and by rows (the
    // bias follows the column blocks), unsplit, a batched x, K = 0; on 1, 2 and 3 threads.
    let mut r = crate::rng(13);
    let shapes: [&[usize]; 8] = [
        &[64, 784],
        &[64, 64],
        &[300, 90],
        &[300, 90],
        &[5, 3],
        &[2, 5, 3],
        &[3, 0],
        &[0, 4],
    ];
    let outs = [128, 10, 129, 100, 4, 4, 6, 2];
    for (dims, n) in shapes.into_iter().zip(outs) {
        let k = dims[dims.len() - 1];
        let x = Tensor::uniform(dims, -1.0, 1.0, &mut r);
        let w = Tensor::uniform([n, k], -1.0, 1.0, &mut r);
        let b = Tensor::uniform([n], -1.0, 1.0, &mut r);
        let mut want = x.matmul_t(&w, false, true);
        for row in want.data_mut().chunks_exact_mut(n) {
            for (v, bias) in row.iter_mut().zip(b.data()) {
                *v += bias;
            }
        }
        let runs = crate::parallel::with_thread_counts(&[1, 2, 3], || x.linear(&w, Some(&b)));
        for got in &runs {
            assert_eq!(got.dims(), want.dims());
            let same = got
                .data()
                .iter()
                .zip(want.data())
                .all(|(g, w)| g.to_bits() == w.to_bits());
            assert!(same, "{dims:?} x [{n}, {k}]ᵀ + b");
        }
        assert_eq!(x.linear(&w, None), x.matmul_t(&w, false, true));
    }
}

#[test]
#[should_panic(expected = "linear: bias must be [3] for weight [3, 2], got [2]")]
fn linear_bias_of_the_wrong_size_panics() {
    Tensor::zeros([4, 2]).linear(&Tensor::zeros([3, 2]), Some(&Tensor::zeros([2])));
}

#[test]
#[should_panic(expected = "linear: weight must be [out, in], got [1, 3, 2]")]
fn linear_weight_of_rank_3_panics() {
    Tensor::zeros([4, 2]).linear(&Tensor::zeros([1, 3, 2]), None);
}

/// Runs [`outer::gemm_nn`] (or its portable copy) on A (`m` x `k` read through `sa`) and
/// row-major B (`k` x `n`, rows `ldb` apart) into C (`m` x `n`, rows `ldc` apart), whose
/// other elements keep the values of `c0`.
#[allow(clippy::too_many_arguments)]
fn run_outer(
    simd: bool,
    (m, k, n): (usize, usize, usize),
    a: &[f32],
    sa: (usize, usize),
    b: &[f32],
    ldb: usize,
    c0: &[f32],
    ldc: usize,
) -> Vec<f32> {
    let mut c = c0.to_vec();
    let g = outer::OuterGemm {
        m,
        k,
        n,
        a: a.as_ptr(),
        rsa: sa.0,
        csa: sa.1,
        b: b.as_ptr(),
        ldb,
        c: c.as_mut_ptr(),
        ldc,
    };
    // SAFETY: the callers size every buffer for these sizes and strides.
    unsafe {
        if simd {
            outer::gemm_nn(g)
        } else {
            outer::portable_gemm_nn(g)
        }
    };
    c
}

#[test]
fn outer_kernel_matches_its_portable_copy_and_the_fma_chain() {
    let mut r = crate::rng(13);
    // Partial tiles (m not a multiple of 6, n not a multiple of 64 or of 16), k across
    // slices (k > 64), k = 1, a transposed A (the weight gradient's Gᵀ), padded rows.
    let shapes = [
        (1, 1, 1),
        (6, 64, 64),
        (7, 65, 17),
        (13, 3, 100),
        (64, 130, 70),
        (5, 200, 129),
        (64, 64, 33),
    ];
    for (case, &(m, k, n)) in shapes.iter().enumerate() {
        let trans = case % 2 == 1;
        let pad = case % 3;
        let sa = if trans { (1, m + pad) } else { (k + pad, 1) };
        let a_len = if trans { k * (m + pad) } else { m * (k + pad) };
        let (ldb, ldc) = (n + pad, n + 2 * pad);
        let a = Tensor::uniform([a_len], -1.0, 1.0, &mut r).to_vec();
        let b = Tensor::uniform([k * ldb], -1.0, 1.0, &mut r).to_vec();
        let c0 = Tensor::uniform([m * ldc], -1.0, 1.0, &mut r).to_vec();
        let fast = run_outer(true, (m, k, n), &a, sa, &b, ldb, &c0, ldc);
        let slow = run_outer(false, (m, k, n), &a, sa, &b, ldb, &c0, ldc);
        for i in 0..m {
            for j in 0..ldc {
                let at = i * ldc + j;
                if j >= n {
                    // the padding between rows of C is left alone
                    assert_eq!(fast[at].to_bits(), c0[at].to_bits(), "{m}x{k}x{n}: pad");
                    continue;
                }
                let mut want = 0.0f32;
                for p in 0..k {
                    want = a[i * sa.0 + p * sa.1].mul_add(b[p * ldb + j], want);
                }
                assert_eq!(
                    fast[at].to_bits(),
                    want.to_bits(),
                    "{m}x{k}x{n} at ({i}, {j})"
                );
                assert_eq!(
                    slow[at].to_bits(),
                    want.to_bits(),
                    "{m}x{k}x{n} at ({i}, {j})"
                );
            }
        }
    }
}

#[test]
fn dense_layer_backward_uses_the_outer_kernel_and_matches_naive() {
    // G·W (few rows of A) and Gᵀ·X (short K), on 1, 2 and 3 threads.
    let mut r = crate::rng(14);
    for &(m, k, n, ta) in &[
        (64, 300, 784, false),
        (64, 10, 130, false),
        (300, 64, 200, true),
        (1000, 64, 64, true),
        (530, 20, 100, true),
    ] {
        let (rows, cols) = if ta { (k, m) } else { (m, k) };
        let row = Mat::new(&[0.0], (n, 1));
        let c = MatMut {
            ptr: std::ptr::null_mut(),
            rs: n,
            cs: 1,
            bias: std::ptr::null(),
        };
        assert!(use_outer(m, k, n, 1.0, 0.0, row, c));
        let g = Tensor::uniform([rows, cols], -1.0, 1.0, &mut r);
        let w = Tensor::uniform([k, n], -1.0, 1.0, &mut r);
        let runs = crate::parallel::with_thread_counts(&[1, 2, 3], || g.matmul_t(&w, ta, false));
        assert_close(
            runs[0].data(),
            &naive(g.data(), w.data(), m, k, n, ta, false),
            k,
        );
        assert_eq!(runs[0], runs[1]);
        assert_eq!(runs[0], runs[2]);
        if ta {
            // A read transposed (copied row-major first when its rows lie far apart) gives
            // the same bits as a row-major A.
            let gt = g.transpose(0, 1);
            assert_eq!(gt.matmul(&w).to_vec(), runs[0].to_vec(), "{m}x{k}x{n}");
        }
    }
    // Not routed: B or C along M, α ≠ 1 or β ≠ 0, both sides large, too narrow.
    let (row, col) = (Mat::new(&[0.0], (512, 1)), Mat::new(&[0.0], (1, 512)));
    let c_row = MatMut {
        ptr: std::ptr::null_mut(),
        rs: 512,
        cs: 1,
        bias: std::ptr::null(),
    };
    let c_col = MatMut {
        ptr: std::ptr::null_mut(),
        rs: 1,
        cs: 512,
        bias: std::ptr::null(),
    };
    assert!(use_outer(64, 512, 512, 1.0, 0.0, row, c_row));
    assert!(!use_outer(64, 512, 512, 1.0, 0.0, col, c_row));
    assert!(!use_outer(64, 512, 512, 1.0, 0.0, row, c_col));
    assert!(!use_outer(64, 512, 512, 2.0, 0.0, row, c_row));
    assert!(!use_outer(64, 512, 512, 1.0, 1.0, row, c_row));
    assert!(!use_outer(512, 512, 512, 1.0, 0.0, row, c_row));
    assert!(!use_outer(64, 512, OUTER_MIN_N - 1, 1.0, 0.0, row, c_row));
}

/// A ReLU-like gradient `[rows, cols]`: uniform in [-1, 1), with about `zeros` of it zero.
fn relu_like(rows: usize, cols: usize, zeros: f32, seed: u64) -> Tensor {
    let mut r = crate::rng(seed);
    let v = (0..rows * cols)
        .map(|_| {
            let x: f32 = r.random_range(-1.0..1.0);
            if r.random::<f32>() < zeros {
                0.0
            } else {
                x
            }
        })
        .collect();
    Tensor::from_vec(v, [rows, cols])
}

/// `Gᵀ·X` (a weight gradient) as the kernels pick it (the sparse path, for a mostly-zero G),
/// and with the dense path forced.
fn sparse_and_dense(g: &Tensor, x: &Tensor) -> (Tensor, Tensor) {
    let picked = g.matmul_t(x, true, false);
    sparse::DENSE_ONLY.with(|d| d.set(true));
    let dense = g.matmul_t(x, true, false);
    sparse::DENSE_ONLY.with(|d| d.set(false));
    (picked, dense)
}

#[test]
fn sparse_weight_gradient_matches_the_dense_product_on_any_thread_count() {
    // the MLP's first layer behind a ReLU: G [64, 128], half zeros; X [64, 784]; one row of G
    // all zero (a dead unit), and a batch smaller than 64
    for (batch, out, inp) in [(64, 128, 784), (50, 96, 48), (64, 80, 16)] {
        let mut g = relu_like(batch, out, 0.5, 11).to_vec();
        for s in 0..batch {
            g[s * out + 3] = 0.0;
        }
        let g = Tensor::from_vec(g, [batch, out]);
        let x = Tensor::uniform([batch, inp], -1.0, 1.0, &mut crate::rng(12));
        // SAFETY: Gᵀ is `out` x `batch`, column-major, inside `g`.
        assert!(unsafe { sparse::is_sparse(out, batch, g.data().as_ptr(), (1, out)) });
        assert!(sparse::fits(batch, inp, inp));
        let runs = crate::parallel::with_thread_counts(&[1, 2, 3], || sparse_and_dense(&g, &x));
        let (picked, dense) = &runs[0];
        assert_close(picked.data(), dense.data(), batch);
        assert!(picked.data()[3 * inp..4 * inp].iter().all(|&v| v == 0.0));
        for (threads, run) in runs.iter().enumerate().skip(1) {
            assert_eq!(run.0.to_vec(), picked.to_vec(), "{} threads", threads + 1);
        }
        // the portable copy gives the same bits
        crate::isa::FORCE_BASELINE.store(true, std::sync::atomic::Ordering::Relaxed);
        let portable = g.matmul_t(&x, true, false);
        crate::isa::FORCE_BASELINE.store(false, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            portable.to_vec(),
            picked.to_vec(),
            "{batch} x {out} x {inp}"
        );
    }
}

#[test]
fn sparse_path_takes_mostly_zero_contiguous_products_only() {
    let len = 64 * 100;
    let mut v = vec![0.0f32; len];
    let edge = (sparse::MAX_DENSITY * len as f64) as usize;
    v[..edge].fill(1.0);
    // SAFETY: each A below is inside `v`.
    unsafe {
        assert!(
            sparse::is_sparse(64, 100, v.as_ptr(), (100, 1)),
            "at the limit"
        );
        assert!(
            sparse::is_sparse(100, 64, v.as_ptr(), (1, 100)),
            "column-major"
        );
        assert!(
            !sparse::is_sparse(50, 64, v.as_ptr(), (128, 1)),
            "not contiguous"
        );
        v[edge] = f32::NAN; // NaN is not zero
        assert!(
            !sparse::is_sparse(64, 100, v.as_ptr(), (100, 1)),
            "one over"
        );
    }
    assert!(!sparse::fits(64, 796, 796), "rows not whole chunks of 16");
    assert!(!sparse::fits(sparse::MAX_K + 1, 784, 784), "K too long");
}

#[test]
fn sparse_product_skips_zero_times_infinity() {
    // documented difference: the dense product gives NaN for 0·inf, the sparse one skips it
    let g = relu_like(64, 128, 0.7, 13);
    let mut x = Tensor::uniform([64, 784], -1.0, 1.0, &mut crate::rng(14)).to_vec();
    let s = (0..64).find(|&s| g.data()[s * 128] == 0.0).unwrap();
    x[s * 784] = f32::INFINITY;
    let x = Tensor::from_vec(x, [64, 784]);
    let (picked, dense) = sparse_and_dense(&g, &x);
    // only sample `s`'s row of X holds an infinity, and G is zero there for unit 0
    assert!(dense.data()[0].is_nan(), "{}", dense.data()[0]);
    assert!(picked.data()[0].is_finite(), "{}", picked.data()[0]);
}
