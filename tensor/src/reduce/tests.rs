use super::*;

fn t(data: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(data.to_vec(), shape)
}

/// Reference `sum_to`: add every element into the target position it broadcasts from.
fn naive_sum_to(x: &Tensor, target: &Shape) -> Vec<f32> {
    let strides = crate::broadcast_strides(target, x.shape());
    let mut out = vec![0.0; target.numel()];
    let dims = x.dims();
    for (flat, &v) in x.data().iter().enumerate() {
        let mut rem = flat;
        let mut off = 0;
        for a in (0..dims.len()).rev() {
            off += (rem % dims[a]) * strides[a];
            rem /= dims[a];
        }
        out[off] += v;
    }
    out
}

#[test]
fn sum_along_each_axis() {
    let a = Tensor::arange(0.0, 24.0, 1.0).reshape([2, 3, 4]);
    let s0 = a.sum(0, false);
    assert_eq!(s0.dims(), &[3, 4]);
    assert_eq!(s0.get(&[0, 0]), 12.0);
    assert_eq!(s0.get(&[2, 3]), 11.0 + 23.0);
    let s1 = a.sum(1, true);
    assert_eq!(s1.dims(), &[2, 1, 4]);
    assert_eq!(s1.get(&[0, 0, 0]), 0.0 + 4.0 + 8.0);
    assert_eq!(s1.get(&[1, 0, 3]), 15.0 + 19.0 + 23.0);
    let s2 = a.sum(2, false);
    assert_eq!(s2.to_vec(), vec![6.0, 22.0, 38.0, 54.0, 70.0, 86.0]);
}

#[test]
fn sum_edge_cases() {
    assert_eq!(Tensor::zeros([2, 0]).sum(1, false).to_vec(), vec![0.0, 0.0]);
    assert_eq!(Tensor::zeros([0, 3]).sum(1, false).dims(), &[0]);
    assert_eq!(t(&[5.0], &[1]).sum(0, false).dims(), &[] as &[usize]);
    assert_eq!(t(&[5.0], &[1]).sum(0, false).item(), 5.0);
    assert_eq!(Tensor::scalar(3.0).sum_all(), 3.0);
    assert_eq!(Tensor::zeros([0]).sum_all(), 0.0);
    // long runs use several lanes and blocks; 1..=10000 sums exactly in f32
    let long = Tensor::arange(1.0, 10001.0, 1.0);
    assert_eq!(long.sum_all(), 50_005_000.0);
    assert_eq!(long.reshape([1, 10000]).sum(1, false).item(), 50_005_000.0);
}

#[test]
#[should_panic(expected = "sum: axis 2 is out of range for shape [2, 3] (rank 2)")]
fn sum_checks_axis() {
    Tensor::zeros([2, 3]).sum(2, false);
}

#[test]
fn sum_to_undoes_broadcasting() {
    let g = Tensor::arange(0.0, 24.0, 1.0).reshape([2, 3, 4]);
    // leading axis missing
    assert_eq!(
        g.sum_to(&Shape::from([3, 4])).to_vec(),
        g.sum(0, false).to_vec()
    );
    // middle axis of size 1, both outer axes kept
    let m = g.sum_to(&Shape::from([2, 1, 4]));
    assert_eq!(m.dims(), &[2, 1, 4]);
    assert_eq!(m.to_vec(), g.sum(1, true).to_vec());
    // last axis of size 1 plus missing leading axis
    let c = g.sum_to(&Shape::from([3, 1]));
    assert_eq!(
        c.to_vec(),
        vec![
            0. + 1. + 2. + 3. + 12. + 13. + 14. + 15.,
            4. + 5. + 6. + 7. + 16. + 17. + 18. + 19.,
            8. + 9. + 10. + 11. + 20. + 21. + 22. + 23.,
        ]
    );
    // everything
    assert_eq!(g.sum_to(&Shape::scalar()).item(), 276.0);
    assert_eq!(g.sum_to(&Shape::from([1, 1, 1])).dims(), &[1, 1, 1]);
    assert_eq!(g.sum_to(&Shape::from([1, 1, 1])).item(), 276.0);
    // alternating kept and summed axes
    let a = Tensor::arange(0.0, 120.0, 1.0).reshape([2, 3, 4, 5]);
    for target in [[1, 3, 1, 5], [2, 1, 4, 1], [1, 3, 4, 1], [2, 1, 1, 5]] {
        let target = Shape::from(target);
        assert_eq!(a.sum_to(&target).to_vec(), naive_sum_to(&a, &target));
    }
}

#[test]
fn large_sum_to_is_split_over_threads_without_changing_a_bit() {
    // Above the threshold the output is cut into pieces: runs summed away (a convolution's
    // bias gradient), runs kept and cut across (a dense layer's), and a piece count that
    // does not divide the output.
    let mut r = crate::rng(21);
    for (shape, target) in [
        (vec![64, 16, 28, 28], vec![16, 1, 1]),
        (vec![600, 701], vec![701]),
        (vec![3, 4001, 50], vec![1, 4001, 1]),
        (vec![5, 7, 9000], vec![5, 1, 1]),
    ] {
        let x = Tensor::uniform(shape.as_slice(), -1.0, 1.0, &mut r);
        let target = Shape::from(target.as_slice());
        let runs = crate::parallel::with_thread_counts(&[1, 2, 3], || x.sum_to(&target));
        let want = naive_sum_to(&x, &target);
        for (got, want) in runs[0].data().iter().zip(&want) {
            assert!(
                (got - want).abs() <= 1e-3 * want.abs().max(1.0),
                "{shape:?}"
            );
        }
        assert_eq!(runs[0], runs[1], "{shape:?}");
        assert_eq!(runs[0], runs[2], "{shape:?}");
    }
}

#[test]
fn sum_to_edge_cases() {
    let g = t(&[1.0, 2.0, 3.0], &[3]);
    assert!(g.sum_to(&Shape::from([3])).shares_buffer(&g));
    // only the rank differs
    assert_eq!(
        t(&[4.0], &[1, 1]).sum_to(&Shape::scalar()).to_vec(),
        vec![4.0]
    );
    assert_eq!(Tensor::scalar(4.0).sum_to(&Shape::scalar()).item(), 4.0);
    // empty input: summing nothing gives zeros of the target shape
    assert_eq!(
        Tensor::zeros([0, 3]).sum_to(&Shape::from([1, 3])).to_vec(),
        vec![0.0; 3]
    );
    assert_eq!(Tensor::zeros([2, 0]).sum_to(&Shape::from([0])).numel(), 0);
}

#[test]
#[should_panic(expected = "sum_to: cannot sum [2, 3] to [2]: [2] does not broadcast to [2, 3]")]
fn sum_to_checks_shapes() {
    Tensor::zeros([2, 3]).sum_to(&Shape::from([2]));
}

#[test]
fn mean_along_axes_and_all() {
    let a = Tensor::arange(0.0, 24.0, 1.0).reshape([2, 3, 4]);
    let m = a.mean(1, true);
    assert_eq!(m.dims(), &[2, 1, 4]);
    assert_eq!(m.get(&[0, 0, 0]), 4.0);
    assert_eq!(m.get(&[1, 0, 3]), 19.0);
    assert_eq!(
        a.mean(2, false).to_vec(),
        vec![1.5, 5.5, 9.5, 13.5, 17.5, 21.5]
    );
    assert_eq!(a.mean(0, false).get(&[2, 1]), 15.0);
    assert_eq!(a.mean_all(), 11.5);
    assert_eq!(Tensor::scalar(-2.0).mean_all(), -2.0);
    assert_eq!(t(&[7.0], &[1, 1]).mean(0, false).to_vec(), vec![7.0]);
    // an empty outer axis is fine: nothing to average, nothing returned
    assert_eq!(Tensor::zeros([0, 3]).mean(1, false).dims(), &[0]);
}

#[test]
#[should_panic(expected = "mean: cannot reduce over axis 1 of size 0 in shape [2, 0]")]
fn mean_of_empty_axis_panics() {
    Tensor::zeros([2, 0]).mean(1, false);
}

#[test]
#[should_panic(expected = "mean_all: needs at least one element, shape [0, 3] has none")]
fn mean_all_of_empty_panics() {
    Tensor::zeros([0, 3]).mean_all();
}

#[test]
fn max_min_along_axes() {
    let a = t(
        &[3., -1., 4., 1., -5., 9., 2., 6., -5., 3., 5., 8.],
        &[3, 4],
    );
    // rows [3, -1, 4, 1], [-5, 9, 2, 6], [-5, 3, 5, 8]
    assert_eq!(a.max(0, false).to_vec(), vec![3., 9., 5., 8.]);
    assert_eq!(a.min(0, false).to_vec(), vec![-5., -1., 2., 1.]);
    assert_eq!(a.max(1, true).to_vec(), vec![4., 9., 8.]);
    assert_eq!(a.max(1, true).dims(), &[3, 1]);
    assert_eq!(a.min(1, false).to_vec(), vec![-1., -5., -5.]);
    assert_eq!(a.max_all(), 9.0);
    assert_eq!(a.min_all(), -5.0);
    // a run longer than the lane count, maximum in the remainder
    let long = Tensor::arange(0.0, 19.0, 1.0);
    assert_eq!(long.max(0, false).item(), 18.0);
    assert_eq!(long.neg().min_all(), -18.0);
    assert_eq!(Tensor::scalar(2.5).max_all(), 2.5);
    // NaN propagates
    let n = t(&[1.0, f32::NAN, 3.0, 0.0], &[2, 2]);
    assert!(n.max(1, false).get(&[0]).is_nan());
    assert_eq!(n.max(1, false).get(&[1]), 3.0);
    assert!(n.min(0, false).get(&[1]).is_nan());
    assert!(n.max_all().is_nan());
}

#[test]
#[should_panic(expected = "max: cannot reduce over axis 0 of size 0 in shape [0, 2]")]
fn max_of_empty_axis_panics() {
    Tensor::zeros([0, 2]).max(0, false);
}

#[test]
#[should_panic(expected = "min: axis 1 is out of range for shape [3] (rank 1)")]
fn min_checks_axis() {
    Tensor::zeros([3]).min(1, false);
}

#[test]
#[should_panic(expected = "max_all: needs at least one element, shape [0] has none")]
fn max_all_of_empty_panics() {
    Tensor::zeros([0]).max_all();
}

#[test]
fn argmax_argmin_first_on_ties() {
    let a = t(&[1., 7., 7., 0., 2., 2., 9., 0.], &[2, 4]);
    assert_eq!(a.argmax(1, false).to_vec(), vec![1., 2.]);
    assert_eq!(a.argmin(1, false).to_vec(), vec![3., 3.]);
    assert_eq!(a.argmax(0, false).to_vec(), vec![1., 0., 1., 0.]);
    assert_eq!(a.argmin(0, true).to_vec(), vec![0., 1., 0., 0.]);
    assert_eq!(a.argmin(0, true).dims(), &[1, 4]);
    let eq = t(&[4., 4., 4.], &[3]);
    assert_eq!(eq.argmax(0, false).item(), 0.0);
    assert_eq!(eq.argmin(0, false).item(), 0.0);
    let n = t(&[1.0, f32::NAN, 5.0, f32::NAN], &[4]);
    assert_eq!(n.argmax(0, false).item(), 1.0);
    assert_eq!(n.argmin(0, false).item(), 1.0);
}

#[test]
#[should_panic(expected = "argmax: cannot reduce over axis 1 of size 0 in shape [3, 0]")]
fn argmax_of_empty_axis_panics() {
    Tensor::zeros([3, 0]).argmax(1, false);
}

#[test]
fn variance_two_pass() {
    // [1, 2, 3, 4]: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5
    let a = t(&[1., 2., 3., 4., 2., 2., 2., 2.], &[2, 4]);
    assert_eq!(a.var(1, false, false).to_vec(), vec![1.25, 0.0]);
    assert_eq!(a.var(1, true, true).to_vec(), vec![5.0 / 3.0, 0.0]);
    assert_eq!(a.var(1, true, true).dims(), &[2, 1]);
    // along axis 0: pairs (1,2) (2,2) (3,2) (4,2)
    assert_eq!(a.var(0, false, false).to_vec(), vec![0.25, 0.0, 0.25, 1.0]);
    assert_eq!(a.var(0, true, false).to_vec(), vec![0.5, 0.0, 0.5, 2.0]);
    assert_eq!(t(&[1., 2., 3., 4.], &[4]).var_all(false), 1.25);
    // a large offset with a small spread: the one-pass E[x²] − E[x]² loses it all in f32
    let shifted = t(&[1e4 + 1., 1e4 + 2., 1e4 + 3., 1e4 + 4.], &[4]);
    assert_eq!(shifted.var_all(false), 1.25);
    assert_eq!(shifted.var(0, false, false).item(), 1.25);
    // one value: biased variance 0, unbiased NaN (as in PyTorch)
    assert_eq!(Tensor::scalar(3.0).var_all(false), 0.0);
    assert!(t(&[3.0], &[1]).var(0, true, false).item().is_nan());
}

#[test]
#[should_panic(expected = "var: cannot reduce over axis 0 of size 0 in shape [0]")]
fn var_of_empty_axis_panics() {
    Tensor::zeros([0]).var(0, true, false);
}

#[test]
fn softmax_rows_and_columns() {
    // ln 1, ln 2, ln 3 -> 1/6, 2/6, 3/6
    let x = t(&[0.0, 2f32.ln(), 3f32.ln()], &[1, 3]);
    let p = x.softmax(1);
    assert!(p.allclose(&t(&[1. / 6., 2. / 6., 3. / 6.], &[1, 3]), 1e-6, 1e-7));
    let lp = x.log_softmax(1);
    let expect = [(1f32 / 6.).ln(), (2f32 / 6.).ln(), 0.5f32.ln()];
    assert!(lp.allclose(&t(&expect, &[1, 3]), 1e-6, 1e-6));
    // along axis 0 (inner > 1): each column sums to 1
    let y = t(&[0.0, 1.0, 0.0, 1.0], &[2, 2]);
    let q = y.softmax(0);
    assert!(q.allclose(&t(&[0.5, 0.5, 0.5, 0.5], &[2, 2]), 1e-6, 0.0));
    let z = t(&[0.0, 0.0, 2f32.ln(), 3f32.ln()], &[2, 2]).softmax(0);
    assert!(z.allclose(
        &t(&[1. / 3., 1. / 4., 2. / 3., 3. / 4.], &[2, 2]),
        1e-6,
        0.0
    ));
    let lz = t(&[0.0, 0.0, 2f32.ln(), 3f32.ln()], &[2, 2]).log_softmax(0);
    let expect = [
        (1f32 / 3.).ln(),
        0.25f32.ln(),
        (2f32 / 3.).ln(),
        0.75f32.ln(),
    ];
    assert!(lz.allclose(&t(&expect, &[2, 2]), 1e-6, 1e-6));
}

#[test]
fn softmax_is_stable() {
    let x = t(&[1000.0, -1000.0, 1000.0, 0.0, 0.0, -1000.0], &[2, 3]);
    let p = x.softmax(1);
    assert!(p.all_finite());
    assert_eq!(p.to_vec(), vec![0.5, 0.0, 0.5, 0.5, 0.5, 0.0]);
    let lp = x.log_softmax(1);
    assert!(lp.all_finite());
    let l2 = 2f32.ln();
    assert!(lp.allclose(
        &t(&[-l2, -2000.0 - l2, -l2, -l2, -l2, -1000.0 - l2], &[2, 3]),
        1e-6,
        1e-5
    ));
    // the same along axis 0
    let pc = x.reshape([3, 2]).softmax(0);
    assert!(pc.all_finite());
    assert!(pc.sum(0, false).allclose(&Tensor::ones([2]), 1e-6, 0.0));
    let lc = x.reshape([3, 2]).log_softmax(0);
    assert!(lc.all_finite());
}

#[test]
fn softmax_edge_cases() {
    assert_eq!(t(&[5.0], &[1]).softmax(0).to_vec(), vec![1.0]);
    assert_eq!(t(&[5.0], &[1]).log_softmax(0).to_vec(), vec![0.0]);
    assert_eq!(Tensor::zeros([2, 0]).softmax(1).dims(), &[2, 0]);
    assert_eq!(Tensor::zeros([0, 3]).log_softmax(0).dims(), &[0, 3]);
}

#[test]
#[should_panic(expected = "softmax: axis 2 is out of range for shape [4, 10] (rank 2)")]
fn softmax_checks_axis() {
    Tensor::zeros([4, 10]).softmax(2);
}

#[test]
#[should_panic(expected = "log_softmax: axis 1 is out of range for shape [] (rank 0)")]
fn log_softmax_checks_axis() {
    Tensor::scalar(1.0).log_softmax(1);
}
