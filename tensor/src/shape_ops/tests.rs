use super::*;

fn t(data: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(data.to_vec(), shape)
}

/// Reference permute: walk the output's multi-index and read the input element by element.
fn naive_permute(x: &Tensor, perm: &[usize]) -> Vec<f32> {
    let out_dims: Vec<usize> = perm.iter().map(|&p| x.dims()[p]).collect();
    let n: usize = out_dims.iter().product();
    let mut out = Vec::with_capacity(n);
    for flat in 0..n {
        let mut rem = flat;
        let mut idx = vec![0; out_dims.len()];
        for a in (0..out_dims.len()).rev() {
            idx[a] = rem % out_dims[a];
            rem /= out_dims[a];
        }
        let mut src = vec![0; perm.len()];
        for (a, &p) in perm.iter().enumerate() {
            src[p] = idx[a];
        }
        out.push(x.get(&src));
    }
    out
}

#[test]
fn transpose_matrix_and_batch() {
    let a = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let at = a.transpose(1, 0);
    assert_eq!(at.dims(), &[3, 2]);
    assert_eq!(at.to_vec(), vec![1., 4., 2., 5., 3., 6.]);
    let b = Tensor::arange(0.0, 12.0, 1.0).reshape([2, 3, 2]);
    let bt = b.transpose(1, 2);
    assert_eq!(bt.dims(), &[2, 2, 3]);
    assert_eq!(
        bt.to_vec(),
        vec![0., 2., 4., 1., 3., 5., 6., 8., 10., 7., 9., 11.]
    );
    assert_eq!(a.transpose(1, 1), a);
    // a matrix larger than a tile, with ragged edges
    let big = Tensor::arange(0.0, (37 * 70) as f32, 1.0).reshape([37, 70]);
    let bt = big.transpose(0, 1);
    assert_eq!(bt.to_vec(), naive_permute(&big, &[1, 0]));
    assert_eq!(bt.get(&[69, 36]), big.get(&[36, 69]));
}

#[test]
#[should_panic(expected = "transpose: axis 2 is out of range for shape [2, 3] (rank 2)")]
fn transpose_checks_axes() {
    Tensor::zeros([2, 3]).transpose(0, 2);
}

#[test]
fn permute_general() {
    let a = Tensor::arange(0.0, 120.0, 1.0).reshape([2, 3, 4, 5]);
    for perm in [
        [0, 1, 2, 3],
        [3, 2, 1, 0],
        [0, 2, 1, 3],
        [1, 0, 3, 2],
        [2, 3, 0, 1],
        [0, 3, 1, 2],
    ] {
        let p = a.permute(&perm);
        assert_eq!(p.to_vec(), naive_permute(&a, &perm), "perm {perm:?}");
    }
    // axes longer than a block, so full 8 × 8 blocks, ragged edges and outer offsets mix
    let c = Tensor::arange(0.0, (3 * 9 * 17) as f32, 1.0).reshape([3, 9, 17]);
    for perm in [[0, 2, 1], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
        assert_eq!(
            c.permute(&perm).to_vec(),
            naive_permute(&c, &perm),
            "perm {perm:?}"
        );
    }
    // size-1 axes and merged groups
    let b = Tensor::arange(0.0, 24.0, 1.0).reshape([1, 4, 1, 6]);
    assert_eq!(
        b.permute(&[3, 1, 0, 2]).to_vec(),
        naive_permute(&b, &[3, 1, 0, 2])
    );
    // moving only size-1 axes shares the buffer
    assert!(b.permute(&[2, 1, 0, 3]).shares_buffer(&b));
    assert_eq!(Tensor::scalar(2.0).permute(&[]).item(), 2.0);
    assert_eq!(Tensor::zeros([0, 3]).permute(&[1, 0]).dims(), &[3, 0]);
}

#[test]
#[should_panic(
    expected = "permute: [0, 0, 1] is not a permutation of the axes of shape [2, 3, 4] (rank 3)"
)]
fn permute_checks_permutation() {
    Tensor::zeros([2, 3, 4]).permute(&[0, 0, 1]);
}

#[test]
fn squeeze_unsqueeze_flatten() {
    let a = t(&[1., 2., 3.], &[1, 3]);
    assert_eq!(a.squeeze(0).dims(), &[3]);
    assert!(a.squeeze(0).shares_buffer(&a));
    assert_eq!(a.unsqueeze(0).dims(), &[1, 1, 3]);
    assert_eq!(a.unsqueeze(2).dims(), &[1, 3, 1]);
    assert_eq!(Tensor::scalar(1.0).unsqueeze(0).dims(), &[1]);
    assert_eq!(t(&[4.0], &[1]).squeeze(0).dims(), &[] as &[usize]);
    let x = Tensor::zeros([2, 3, 4, 5]);
    assert_eq!(x.flatten_from(1).dims(), &[2, 60]);
    assert_eq!(x.flatten_from(0).dims(), &[120]);
    assert_eq!(x.flatten_from(3).dims(), &[2, 3, 4, 5]);
    assert_eq!(Tensor::zeros([2, 0, 3]).flatten_from(1).dims(), &[2, 0]);
}

#[test]
#[should_panic(expected = "squeeze: axis 1 has size 3, not 1, in shape [1, 3]")]
fn squeeze_checks_size() {
    Tensor::zeros([1, 3]).squeeze(1);
}

#[test]
#[should_panic(
    expected = "unsqueeze: axis 3 is out of range for shape [1, 3] (at most its rank, 2)"
)]
fn unsqueeze_checks_axis() {
    Tensor::zeros([1, 3]).unsqueeze(3);
}

#[test]
#[should_panic(expected = "flatten_from: axis 2 is out of range for shape [4, 5] (rank 2)")]
fn flatten_from_checks_axis() {
    Tensor::zeros([4, 5]).flatten_from(2);
}

#[test]
fn concat_along_each_axis() {
    let a = t(&[1., 2., 3., 4.], &[2, 2]);
    let b = t(&[5., 6.], &[1, 2]);
    let c0 = Tensor::concat(&[&a, &b], 0);
    assert_eq!(c0.dims(), &[3, 2]);
    assert_eq!(c0.to_vec(), vec![1., 2., 3., 4., 5., 6.]);
    let d = t(&[7., 8.], &[2, 1]);
    let c1 = Tensor::concat(&[&a, &d, &a], 1);
    assert_eq!(c1.dims(), &[2, 5]);
    assert_eq!(c1.to_vec(), vec![1., 2., 7., 1., 2., 3., 4., 8., 3., 4.]);
    // empty parts and a single part
    let e = Tensor::zeros([2, 0]);
    assert_eq!(Tensor::concat(&[&e, &a, &e], 1), a);
    assert_eq!(Tensor::concat(&[&a], 0), a);
}

#[test]
#[should_panic(expected = "concat: shapes differ outside axis 0: [2, 2] and [1, 3]")]
fn concat_checks_shapes() {
    Tensor::concat(&[&Tensor::zeros([2, 2]), &Tensor::zeros([1, 3])], 0);
}

#[test]
#[should_panic(expected = "concat: needs at least one tensor")]
fn concat_needs_a_tensor() {
    Tensor::concat(&[], 0);
}

#[test]
fn stack_new_axis() {
    let a = t(&[1., 2., 3.], &[3]);
    let b = t(&[4., 5., 6.], &[3]);
    let s0 = Tensor::stack(&[&a, &b], 0);
    assert_eq!(s0.dims(), &[2, 3]);
    assert_eq!(s0.to_vec(), vec![1., 2., 3., 4., 5., 6.]);
    let s1 = Tensor::stack(&[&a, &b], 1);
    assert_eq!(s1.dims(), &[3, 2]);
    assert_eq!(s1.to_vec(), vec![1., 4., 2., 5., 3., 6.]);
    let s = Tensor::stack(&[&Tensor::scalar(1.0), &Tensor::scalar(2.0)], 0);
    assert_eq!(s.to_vec(), vec![1., 2.]);
}

#[test]
#[should_panic(expected = "stack: shapes differ: [3] and [2]")]
fn stack_checks_shapes() {
    Tensor::stack(&[&Tensor::zeros([3]), &Tensor::zeros([2])], 0);
}

#[test]
fn narrow_slices() {
    let a = Tensor::arange(0.0, 12.0, 1.0).reshape([3, 4]);
    assert_eq!(
        a.narrow(0, 1, 2).to_vec(),
        (4..12).map(|v| v as f32).collect::<Vec<_>>()
    );
    let n = a.narrow(1, 3, 1);
    assert_eq!(n.dims(), &[3, 1]);
    assert_eq!(n.to_vec(), vec![3., 7., 11.]);
    assert_eq!(a.narrow(1, 4, 0).dims(), &[3, 0]);
    assert!(a.narrow(1, 0, 4).shares_buffer(&a));
}

#[test]
#[should_panic(
    expected = "narrow: range 2..5 is out of bounds for axis 1 of size 4 in shape [3, 4]"
)]
fn narrow_checks_range() {
    Tensor::zeros([3, 4]).narrow(1, 2, 3);
}

#[test]
fn index_select_and_index_add() {
    let a = Tensor::arange(0.0, 6.0, 1.0).reshape([2, 3]);
    let s = a.index_select(1, &[2, 0, 2, 1]);
    assert_eq!(s.dims(), &[2, 4]);
    assert_eq!(s.to_vec(), vec![2., 0., 2., 1., 5., 3., 5., 4.]);
    assert_eq!(a.index_select(0, &[]).dims(), &[0, 3]);
    // index_add accumulates repeated indices onto self
    let y = t(&[1., 10., 100., 1000., 2., 20., 200., 2000.], &[2, 4]);
    let base = Tensor::ones([2, 3]);
    let r = base.index_add(1, &[2, 0, 2, 1], &y);
    assert_eq!(r.to_vec(), vec![11., 1001., 102., 21., 2001., 203.]);
    assert_eq!(base.to_vec(), vec![1.0; 6], "self is not changed");
    let rows = Tensor::zeros([3, 2]).index_add(0, &[1, 1], &t(&[1., 2., 3., 4.], &[2, 2]));
    assert_eq!(rows.to_vec(), vec![0., 0., 4., 6., 0., 0.]);
}

#[test]
#[should_panic(
    expected = "index_select: index 3 is out of range for axis 1 of size 3 in shape [2, 3]"
)]
fn index_select_checks_indices() {
    Tensor::zeros([2, 3]).index_select(1, &[0, 3]);
}

#[test]
#[should_panic(
    expected = "index_add: src has shape [2, 2], expected [2, 3] (self [2, 4] with 3 indices along axis 1)"
)]
fn index_add_checks_src_shape() {
    Tensor::zeros([2, 4]).index_add(1, &[0, 1, 2], &Tensor::zeros([2, 2]));
}

#[test]
fn gather_and_scatter_add() {
    let x = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    // along axis 1: out[i][j] = x[i][idx[i][j]]
    let idx = t(&[2., 0., 1., 1.], &[2, 2]);
    assert_eq!(x.gather(1, &idx).to_vec(), vec![3., 1., 5., 5.]);
    // along axis 0: out[i][j] = x[idx[i][j]][j]
    let idx0 = t(&[1., 0., 1.], &[1, 3]);
    assert_eq!(x.gather(0, &idx0).to_vec(), vec![4., 2., 6.]);
    // index smaller than self off the axis
    let small = t(&[1.], &[1, 1]);
    assert_eq!(x.gather(0, &small).to_vec(), vec![4.]);
    // scatter_add: out[i][idx[i][j]] += src[i][j]
    let src = t(&[10., 20., 30., 40.], &[2, 2]);
    let s = Tensor::zeros([2, 3]).scatter_add(1, &idx, &src);
    assert_eq!(s.to_vec(), vec![20., 0., 10., 0., 70., 0.]);
    // src larger than index: only its leading block is used
    let big = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let s0 = Tensor::ones([2, 3]).scatter_add(0, &idx0, &big);
    assert_eq!(s0.to_vec(), vec![1., 3., 1., 2., 1., 4.]);
    // rank 3, gather along the middle axis
    let y = Tensor::arange(0.0, 12.0, 1.0).reshape([2, 3, 2]);
    let i3 = t(&[2., 0., 1., 1.], &[2, 1, 2]);
    assert_eq!(y.gather(1, &i3).to_vec(), vec![4., 1., 8., 9.]);
    // empty index
    assert_eq!(x.gather(1, &Tensor::zeros([2, 0])).dims(), &[2, 0]);
}

#[test]
#[should_panic(
    expected = "gather: index 3 is not a whole number in 0..3 (along axis 1 of shape [2, 3], index shape [2, 1])"
)]
fn gather_checks_index_values() {
    Tensor::zeros([2, 3]).gather(1, &t(&[0., 3.], &[2, 1]));
}

#[test]
#[should_panic(expected = "gather: index 0.5 is not a whole number in 0..3")]
fn gather_rejects_fractions() {
    Tensor::zeros([2, 3]).gather(1, &t(&[0., 0.5], &[2, 1]));
}

#[test]
#[should_panic(expected = "gather: index rank 1 differs from self rank 2: index [2], self [2, 3]")]
fn gather_checks_rank() {
    Tensor::zeros([2, 3]).gather(1, &Tensor::zeros([2]));
}

#[test]
#[should_panic(
    expected = "scatter_add: index shape [3, 1] is larger than self shape [2, 3] on axis 0"
)]
fn scatter_add_checks_index_shape() {
    Tensor::zeros([2, 3]).scatter_add(1, &Tensor::zeros([3, 1]), &Tensor::zeros([3, 1]));
}

#[test]
#[should_panic(expected = "scatter_add: src shape [2, 1] is smaller than index shape [2, 2]")]
fn scatter_add_checks_src_shape() {
    Tensor::zeros([2, 3]).scatter_add(1, &Tensor::zeros([2, 2]), &Tensor::zeros([2, 1]));
}

#[test]
fn one_hot_rows() {
    let y = Tensor::one_hot(&t(&[1., 0., 3.], &[3]), 4);
    assert_eq!(y.dims(), &[3, 4]);
    assert_eq!(
        y.to_vec(),
        vec![0., 1., 0., 0., 1., 0., 0., 0., 0., 0., 0., 1.]
    );
    let y2 = Tensor::one_hot(&t(&[1., 0.], &[2, 1]), 2);
    assert_eq!(y2.dims(), &[2, 1, 2]);
    assert_eq!(y2.to_vec(), vec![0., 1., 1., 0.]);
    assert_eq!(
        Tensor::one_hot(&Tensor::scalar(2.0), 3).to_vec(),
        vec![0., 0., 1.]
    );
    assert_eq!(Tensor::one_hot(&Tensor::zeros([0]), 5).dims(), &[0, 5]);
    assert_eq!(Tensor::one_hot(&Tensor::zeros([0]), 0).dims(), &[0, 0]);
}

#[test]
#[should_panic(
    expected = "one_hot: index 10 is not a whole number in 0..10 (labels shape [2], 10 classes)"
)]
fn one_hot_checks_labels() {
    Tensor::one_hot(&t(&[9., 10.], &[2]), 10);
}

#[test]
#[should_panic(expected = "one_hot: index 0 is not a whole number in 0..0")]
fn one_hot_with_no_classes_rejects_labels() {
    Tensor::one_hot(&t(&[0.], &[1]), 0);
}
