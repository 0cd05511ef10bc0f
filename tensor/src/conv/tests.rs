use super::*;

pub(crate) fn params(s: (usize, usize), p: (usize, usize), d: (usize, usize)) -> Conv2dParams {
    Conv2dParams {
        stride: s,
        padding: p,
        dilation: d,
    }
}

/// The direct 7-loop convolution (n, o, y, x, c, i, j), summed in f64.
pub(crate) fn naive_conv(x: &Tensor, w: &Tensor, b: Option<&Tensor>, p: &Conv2dParams) -> Tensor {
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

pub(crate) fn dot(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.dims(), b.dims());
    a.data()
        .iter()
        .zip(b.data())
        .map(|(&x, &y)| x as f64 * y as f64)
        .sum()
}

pub(crate) fn assert_close(got: &Tensor, want: &Tensor, tol: f32) {
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
    let mut r = crate::rng(10);
    // The second shape's rows are wide enough (OW ≥ 8) for the padded im2col path.
    for (p, shape) in combos()
        .into_iter()
        .flat_map(|p| [(p, [2, 3, 7, 6]), (p, [2, 3, 6, 13])])
    {
        let x = Tensor::uniform(shape, -1.0, 1.0, &mut r);
        let w = Tensor::uniform([4, 3, 3, 2], -1.0, 1.0, &mut r);
        let b = Tensor::uniform([4], -1.0, 1.0, &mut r);
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
    let mut r = crate::rng(11);
    let x = Tensor::uniform([1, 3, 2, 2], -1.0, 1.0, &mut r);
    let w = Tensor::uniform([2, 3, 1, 1], -1.0, 1.0, &mut r);
    let y = conv2d(&x, &w, None, &Conv2dParams::default());
    let want = w.reshape([2, 3]).matmul(&x.reshape([3, 4]));
    assert_close(&y.reshape([2, 4]), &want, 1e-6);
}

#[test]
fn col2im_is_the_adjoint_of_im2col() {
    let mut r = crate::rng(12);
    for (p, shape) in combos()
        .into_iter()
        .flat_map(|p| [(p, [2, 3, 7, 6]), (p, [2, 3, 6, 13])])
    {
        let x = Tensor::uniform(shape, -1.0, 1.0, &mut r);
        let cols = im2col(&x, (3, 2), &p);
        let y = Tensor::uniform(cols.dims(), -1.0, 1.0, &mut r);
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
    let mut rng = crate::rng(13);
    let h = 0.5f32;
    for (p, shape) in combos()
        .into_iter()
        .flat_map(|p| [(p, [2, 2, 6, 5]), (p, [1, 2, 4, 12])])
    {
        let x = Tensor::uniform(shape, -1.0, 1.0, &mut rng);
        let w = Tensor::uniform([3, 2, 2, 3], -1.0, 1.0, &mut rng);
        let y = conv2d(&x, &w, None, &p);
        let r = Tensor::uniform(y.dims(), -1.0, 1.0, &mut rng);
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
fn threads_do_not_change_convolutions() {
    // The reference CNN's second layer on a batch large enough to be split by samples.
    let mut r = crate::rng(11);
    let x = Tensor::uniform([20, 16, 14, 14], -1.0, 1.0, &mut r);
    let w = Tensor::uniform([32, 16, 5, 5], -1.0, 1.0, &mut r);
    let b = Tensor::uniform([32], -1.0, 1.0, &mut r);
    let p = params((1, 1), (2, 2), (1, 1));
    let runs = crate::parallel::with_thread_counts(&[1, 2, 3], || {
        let y = conv2d(&x, &w, Some(&b), &p);
        let gx = conv2d_grad_input(&y, &w, x.shape(), &p);
        let gw = conv2d_grad_weight(&y, &x, w.shape(), &p);
        (y, gx, gw)
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
    }
}

/// A gradient like the one a convolution gets back through ReLU and 2x2 max pooling: random
/// values at about `density` of the positions, zeros elsewhere.
fn sparse_grad(shape: [usize; 4], density: f32, seed: u64) -> Tensor {
    let mut r = crate::rng(seed);
    let keep = Tensor::rand(shape, &mut r);
    let vals = Tensor::uniform(shape, -1.0, 1.0, &mut r);
    let data = keep
        .data()
        .iter()
        .zip(vals.data())
        .map(|(&k, &v)| if k < density { v } else { 0.0 })
        .collect();
    Tensor::from_vec(data, shape)
}

/// Both gradients through whichever path `grad` picks, and through the dense one.
fn both_paths(
    g: &Tensor,
    x: &Tensor,
    w: &Tensor,
    p: &Conv2dParams,
) -> ((Tensor, Tensor), (Tensor, Tensor)) {
    let run = || {
        (
            conv2d_grad_input(g, w, x.shape(), p),
            conv2d_grad_weight(g, x, w.shape(), p),
        )
    };
    let picked = run();
    sparse::DENSE_ONLY.with(|d| d.set(true));
    let dense = run();
    sparse::DENSE_ONLY.with(|d| d.set(false));
    (picked, dense)
}

/// The geometries of the sparse-path tests: `(x, w, params)`, covering the reference CNN's
/// two layers, stride, padding and dilation, runs of C floats (horizontal dilation) and runs
/// of more than 8 chunks of 16 floats (two passes over each list).
fn sparse_cases() -> Vec<([usize; 4], [usize; 4], Conv2dParams)> {
    let mut cases = vec![
        (
            [3, 1, 28, 28],
            [16, 1, 5, 5],
            params((1, 1), (2, 2), (1, 1)),
        ),
        (
            [3, 16, 14, 14],
            [32, 16, 5, 5],
            params((1, 1), (2, 2), (1, 1)),
        ),
        ([2, 40, 7, 9], [6, 40, 5, 5], params((1, 1), (2, 2), (1, 1))),
        ([2, 3, 9, 8], [4, 3, 3, 2], params((2, 1), (1, 0), (1, 3))),
    ];
    for p in combos() {
        cases.push(([2, 3, 11, 10], [5, 3, 3, 3], p));
    }
    cases
}

#[test]
fn sparse_gradients_match_the_dense_path() {
    for (k, &(xs, ws, p)) in sparse_cases().iter().enumerate() {
        let mut r = crate::rng(100 + k as u64);
        let x = Tensor::uniform(xs, -1.0, 1.0, &mut r);
        let w = Tensor::uniform(ws, -1.0, 1.0, &mut r);
        let gshape = conv2d(&x, &w, None, &p).dims().to_vec();
        let gshape: [usize; 4] = gshape.try_into().unwrap();
        for density in [0.0, 0.05, 0.25] {
            let g = sparse_grad(gshape, density, 7 + k as u64);
            assert!(
                sparse::is_sparse(g.data()),
                "{xs:?} {p:?} density {density}"
            );
            let ((gx, gw), (dx, dw)) = both_paths(&g, &x, &w, &p);
            assert_close(&gx, &dx, 1e-5);
            assert_close(&gw, &dw, 1e-5);
            if density == 0.0 {
                assert!(gx.data().iter().chain(gw.data()).all(|&v| v == 0.0));
            }
        }
    }
}

#[test]
fn dense_gradients_keep_the_gemm_path() {
    let g = sparse_grad([2, 3, 4, 4], 1.0, 3);
    assert!(!sparse::is_sparse(g.data()));
    // exactly at the threshold is sparse, one more nonzero is not
    let mut v = vec![0.0; 100];
    let at = (sparse::MAX_DENSITY * 100.0) as usize;
    v[..at].fill(1.0);
    assert!(sparse::is_sparse(&v));
    v[at] = 1.0;
    assert!(!sparse::is_sparse(&v));
    // the same edge on a gradient long enough to be counted in blocks on several threads
    let len = 300_001;
    let at = (sparse::MAX_DENSITY * len as f64) as usize;
    let mut v = vec![0.0; len];
    for i in 0..at {
        v[len - 1 - 3 * i % len] = 1.0; // spread over every block
    }
    assert_eq!(v.iter().filter(|&&x| x != 0.0).count(), at);
    let edge = crate::parallel::with_thread_counts(&[1, 2, 3], || sparse::is_sparse(&v));
    assert_eq!(edge, vec![true; 3]);
    let extra = v.iter().position(|&x| x == 0.0).unwrap();
    v[extra] = 1.0;
    let over = crate::parallel::with_thread_counts(&[1, 2, 3], || sparse::is_sparse(&v));
    assert_eq!(over, vec![false; 3]);
}

#[test]
fn conv2d_backward_gives_the_separate_gradients() {
    // The reference CNN's second layer, with a sparse and a dense output gradient, and every
    // subset of the three gradients.
    let (xs, ws, p) = sparse_cases()[1];
    let mut r = crate::rng(31);
    let x = Tensor::uniform(xs, -1.0, 1.0, &mut r);
    let w = Tensor::uniform(ws, -1.0, 1.0, &mut r);
    let gshape: [usize; 4] = conv2d(&x, &w, None, &p).dims().try_into().unwrap();
    for density in [0.05, 1.0] {
        let g = sparse_grad(gshape, density, 32);
        let want = [
            conv2d_grad_input(&g, &w, x.shape(), &p),
            conv2d_grad_weight(&g, &x, w.shape(), &p),
            g.sum_to(&Shape::from([ws[0], 1, 1])).reshape([ws[0]]),
        ];
        for mask in 0..8u32 {
            let needs = [mask & 1 != 0, mask & 2 != 0, mask & 4 != 0];
            let got = conv2d_backward(&g, &x, &w, &p, needs);
            for k in 0..3 {
                match &got[k] {
                    Some(t) => {
                        assert!(needs[k], "density {density}, {needs:?}");
                        assert_eq!(t.dims(), want[k].dims());
                        let bits =
                            |t: &Tensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(t), bits(&want[k]), "density {density}, gradient {k}");
                    }
                    None => assert!(!needs[k], "density {density}, {needs:?}"),
                }
            }
        }
    }
}

#[test]
fn sparse_gradients_match_finite_differences() {
    // ⟨g, conv(x, w)⟩ is linear in x and in w, so its gradients are exact: compare the
    // sparse path with the naive convolution's inner products along random directions.
    let p = params((2, 1), (1, 2), (1, 2));
    let mut r = crate::rng(5);
    let x = Tensor::uniform([2, 3, 7, 6], -1.0, 1.0, &mut r);
    let w = Tensor::uniform([4, 3, 3, 2], -1.0, 1.0, &mut r);
    let gshape: [usize; 4] = naive_conv(&x, &w, None, &p).dims().try_into().unwrap();
    let g = sparse_grad(gshape, 0.2, 9);
    assert!(sparse::is_sparse(g.data()));
    let gx = conv2d_grad_input(&g, &w, x.shape(), &p);
    let gw = conv2d_grad_weight(&g, &x, w.shape(), &p);
    let dx = Tensor::uniform(x.dims(), -1.0, 1.0, &mut r);
    let dw = Tensor::uniform(w.dims(), -1.0, 1.0, &mut r);
    // d/dt ⟨g, conv(x + t·dx, w)⟩ = ⟨g, conv(dx, w)⟩ = ⟨gx, dx⟩, and likewise for w
    let want_x = dot(&g, &naive_conv(&dx, &w, None, &p));
    let want_w = dot(&g, &naive_conv(&x, &dw, None, &p));
    assert!((dot(&gx, &dx) - want_x).abs() <= 1e-4 * (1.0 + want_x.abs()));
    assert!((dot(&gw, &dw) - want_w).abs() <= 1e-4 * (1.0 + want_w.abs()));
}

#[test]
fn sparse_path_is_the_same_on_every_instruction_set_and_thread_count() {
    for (k, &(xs, ws, p)) in sparse_cases().iter().enumerate() {
        let mut r = crate::rng(200 + k as u64);
        let x = Tensor::uniform([20, xs[1], xs[2], xs[3]], -1.0, 1.0, &mut r);
        let w = Tensor::uniform(ws, -1.0, 1.0, &mut r);
        let gshape: [usize; 4] = conv2d(&x, &w, None, &p).dims().try_into().unwrap();
        let g = sparse_grad(gshape, 0.2, 11 + k as u64);
        let grads = || {
            (
                conv2d_grad_input(&g, &w, x.shape(), &p),
                conv2d_grad_weight(&g, &x, w.shape(), &p),
            )
        };
        let runs = crate::parallel::with_thread_counts(&[1, 2, 3], grads);
        crate::isa::FORCE_BASELINE.store(true, std::sync::atomic::Ordering::Relaxed);
        let portable = grads();
        crate::isa::FORCE_BASELINE.store(false, std::sync::atomic::Ordering::Relaxed);
        for other in runs[1..].iter().chain([&portable]) {
            let bits = |t: &Tensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&runs[0].0), bits(&other.0), "grad_input, {xs:?} {p:?}");
            assert_eq!(
                bits(&runs[0].1),
                bits(&other.1),
                "grad_weight, {xs:?} {p:?}"
            );
        }
    }
}
