//! Properties of the tensor kernels, checked on random shapes and values: broadcasting,
//! reductions, softmax, axis reordering, joining and slicing, and the adjoint pairs that
//! autograd relies on (`broadcast_to`/`sum_to`, `gather`/`scatter_add`,
//! `index_select`/`index_add`).

use proptest::prelude::*;
use tensor::{Shape, Tensor};

/// Cases per property: enough to cover ranks 0–4 and the edge sizes, quick in a debug build.
const CASES: u32 = 64;

/// A tensor of the given axis sizes with values in `[-10, 10)`.
fn tensor_with(dims: Vec<usize>) -> impl Strategy<Value = Tensor> {
    let n: usize = dims.iter().product();
    prop::collection::vec(-10.0f32..10.0, n).prop_map(move |d| Tensor::from_vec(d, dims.clone()))
}

/// A tensor of rank `min_rank..=max_rank` with axes of size 1–4.
fn any_tensor(min_rank: usize, max_rank: usize) -> impl Strategy<Value = Tensor> {
    prop::collection::vec(1usize..5, min_rank..=max_rank).prop_flat_map(tensor_with)
}

/// A tensor of rank 1–`max_rank` and one of its axes.
fn tensor_and_axis(max_rank: usize) -> impl Strategy<Value = (Tensor, usize)> {
    any_tensor(1, max_rank).prop_flat_map(|t| {
        let r = t.rank();
        (Just(t), 0..r)
    })
}

/// Two tensors whose shapes broadcast together: each is a suffix of a common shape with some
/// axes replaced by 1.
fn broadcast_pair() -> impl Strategy<Value = (Tensor, Tensor)> {
    prop::collection::vec(1usize..4, 0..=4)
        .prop_flat_map(|base| {
            let r = base.len();
            let side =
                (0..=r, prop::collection::vec(any::<bool>(), r)).prop_map(move |(drop, ones)| {
                    base[drop..]
                        .iter()
                        .zip(&ones[drop..])
                        .map(|(&d, &one)| if one { 1 } else { d })
                        .collect::<Vec<_>>()
                });
            (side.clone(), side)
        })
        .prop_flat_map(|(da, db)| (tensor_with(da), tensor_with(db)))
}

/// `Σ aᵢ·bᵢ` in `f64`.
fn dot(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.data()
        .iter()
        .zip(b.data())
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

/// `Σ |aᵢ·bᵢ|`: the scale against which rounding in `dot`-like sums is judged.
fn abs_dot(a: &Tensor, b: &Tensor) -> f64 {
    a.data()
        .iter()
        .zip(b.data())
        .map(|(&x, &y)| f64::from(x * y).abs())
        .sum()
}

/// Whole-number `f32` indices below `n`, as a tensor of `dims`.
fn index_tensor(dims: Vec<usize>, n: usize) -> impl Strategy<Value = Tensor> {
    let count: usize = dims.iter().product();
    prop::collection::vec(0..n, count).prop_map(move |v| {
        Tensor::from_vec(v.into_iter().map(|i| i as f32).collect(), dims.clone())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn broadcast_add_is_commutative_and_matches_explicit_broadcast((a, b) in broadcast_pair()) {
        let ab = &a + &b;
        prop_assert_eq!(&ab, &(&b + &a));
        let explicit = &a.broadcast_to(ab.shape()) + &b.broadcast_to(ab.shape());
        prop_assert_eq!(&ab, &explicit);
    }

    #[test]
    fn broadcast_result_shape_rule((a, b) in broadcast_pair()) {
        let out = a.shape().broadcast(b.shape(), "add");
        let rank = a.rank().max(b.rank());
        prop_assert_eq!(out.rank(), rank);
        for k in 0..rank {
            // sizes aligned from the end; a missing axis counts as 1
            let from_end = |s: &Shape| if k < s.rank() { s.dims()[s.rank() - 1 - k] } else { 1 };
            let (da, db, d) = (from_end(a.shape()), from_end(b.shape()), out.dims()[rank - 1 - k]);
            prop_assert!(da == db || da == 1 || db == 1);
            prop_assert_eq!(d, if da == 1 { db } else { da });
        }
        let sum = &a + &b;
        prop_assert_eq!(sum.shape(), &out);
    }

    #[test]
    fn sum_over_every_axis_in_any_order_is_the_total(
        (x, order) in any_tensor(1, 4).prop_flat_map(|t| {
            let axes: Vec<usize> = (0..t.rank()).collect();
            (Just(t), Just(axes).prop_shuffle())
        })
    ) {
        let mut s = x.clone();
        for &axis in &order {
            s = s.sum(axis, true);
        }
        prop_assert!(s.dims().iter().all(|&d| d == 1));
        let exact: f64 = x.data().iter().map(|&v| f64::from(v)).sum();
        let scale: f64 = x.data().iter().map(|&v| f64::from(v).abs()).sum();
        prop_assert!((f64::from(s.item()) - exact).abs() <= 1e-5 * scale + 1e-5);
        prop_assert!((f64::from(x.sum_all()) - exact).abs() <= 1e-5 * scale + 1e-5);
    }

    #[test]
    fn mean_is_sum_over_count((x, axis) in tensor_and_axis(4), keepdim in any::<bool>()) {
        let n = x.dim(axis) as f32;
        let mean = x.mean(axis, keepdim);
        prop_assert!(mean.allclose(&x.sum(axis, keepdim).div_scalar(n), 1e-5, 1e-6));
        prop_assert!((x.mean_all() - x.sum_all() / x.numel() as f32).abs() <= 1e-5);
    }

    #[test]
    fn var_is_mean_squared_deviation((x, axis) in tensor_and_axis(3)) {
        let dev = &x - &x.mean(axis, true);
        let expect = dev.mul(&dev).mean(axis, false);
        prop_assert!(x.var(axis, false, false).allclose(&expect, 1e-4, 1e-4));
    }

    #[test]
    fn sum_to_after_broadcast_to_multiplies_by_the_stretch((a, b) in broadcast_pair()) {
        let big = a.shape().broadcast(b.shape(), "add");
        let stretch = (big.numel() / a.numel()) as f32;
        let back = a.broadcast_to(&big).sum_to(a.shape());
        prop_assert_eq!(back.shape(), a.shape());
        prop_assert!(back.allclose(&a.mul_scalar(stretch), 1e-5, 1e-5));
    }

    #[test]
    fn sum_to_is_the_adjoint_of_broadcast_to(
        (x, g) in broadcast_pair().prop_flat_map(|(a, b)| {
            let big = a.shape().broadcast(b.shape(), "add");
            (Just(a), tensor_with(big.dims().to_vec()))
        })
    ) {
        let lhs = dot(&x.broadcast_to(g.shape()), &g);
        let rhs = dot(&x, &g.sum_to(x.shape()));
        prop_assert!((lhs - rhs).abs() <= 1e-5 * abs_dot(&x.broadcast_to(g.shape()), &g) + 1e-5);
    }

    #[test]
    fn max_and_min_bound_every_element((x, axis) in tensor_and_axis(4)) {
        let max = x.max(axis, true);
        let min = x.min(axis, true);
        prop_assert_eq!(x.le_mask(&max).min_all(), 1.0);
        prop_assert_eq!(x.ge_mask(&min).min_all(), 1.0);
        prop_assert_eq!(x.max_all(), max.max_all());
        prop_assert_eq!(x.min_all(), min.min_all());
    }

    #[test]
    fn argmax_points_at_the_max((x, axis) in tensor_and_axis(4)) {
        let at = x.argmax(axis, true);
        prop_assert_eq!(x.gather(axis, &at), x.max(axis, true));
        let at_min = x.argmin(axis, true);
        prop_assert_eq!(x.gather(axis, &at_min), x.min(axis, true));
        // keepdim = false only drops the axis
        prop_assert_eq!(x.argmax(axis, false).to_vec(), at.to_vec());
    }

    #[test]
    fn softmax_sums_to_one_and_log_softmax_is_its_log((x, axis) in tensor_and_axis(3)) {
        let p = x.softmax(axis);
        prop_assert!(p.min_all() >= 0.0 && p.max_all() <= 1.0);
        let ones = Tensor::ones(x.sum(axis, false).shape().clone());
        prop_assert!(p.sum(axis, false).allclose(&ones, 1e-5, 1e-6));
        prop_assert!(x.log_softmax(axis).allclose(&p.ln(), 1e-4, 1e-5));
    }

    #[test]
    fn softmax_ignores_a_shift((x, axis) in tensor_and_axis(3), shift in -500.0f32..500.0) {
        // the max is subtracted first, so a large shift changes nothing but rounding
        let shifted = x.add_scalar(shift);
        prop_assert!(shifted.softmax(axis).allclose(&x.softmax(axis), 1e-3, 1e-4));
    }

    #[test]
    fn transpose_twice_is_identity(
        (x, a0, a1) in any_tensor(1, 4).prop_flat_map(|t| {
            let r = t.rank();
            (Just(t), 0..r, 0..r)
        })
    ) {
        let t = x.transpose(a0, a1);
        let mut dims = x.dims().to_vec();
        dims.swap(a0, a1);
        prop_assert_eq!(t.dims(), dims.as_slice());
        prop_assert_eq!(t.transpose(a0, a1), x);
    }

    #[test]
    fn permute_then_inverse_is_identity(
        (x, perm) in any_tensor(0, 4).prop_flat_map(|t| {
            let axes: Vec<usize> = (0..t.rank()).collect();
            (Just(t), Just(axes).prop_shuffle())
        })
    ) {
        let mut inverse = vec![0; perm.len()];
        for (i, &p) in perm.iter().enumerate() {
            inverse[p] = i;
        }
        let p = x.permute(&perm);
        // spot-check one element: out[i₀, i₁, ...] = x[index with iₖ at axis perm[k]]
        if x.numel() > 0 {
            let last: Vec<usize> = p.dims().iter().map(|&d| d - 1).collect();
            let mut src = vec![0; perm.len()];
            for (k, &a) in perm.iter().enumerate() {
                src[a] = last[k];
            }
            prop_assert_eq!(p.get(&last), x.get(&src));
        }
        prop_assert_eq!(p.permute(&inverse), x);
    }

    #[test]
    fn concat_then_narrow_recovers_the_parts(
        (parts, axis) in (prop::collection::vec(1usize..4, 1..=3), prop::collection::vec(0usize..4, 1..4))
            .prop_flat_map(|(dims, sizes)| {
                let r = dims.len();
                (Just(dims), Just(sizes), 0..r)
            })
            .prop_flat_map(|(dims, sizes, axis)| {
                let parts: Vec<_> = sizes
                    .iter()
                    .map(|&s| {
                        let mut d = dims.clone();
                        d[axis] = s;
                        tensor_with(d)
                    })
                    .collect();
                (parts, Just(axis))
            })
    ) {
        let refs: Vec<&Tensor> = parts.iter().collect();
        let joined = Tensor::concat(&refs, axis);
        let mut start = 0;
        for part in &parts {
            let len = part.dim(axis);
            prop_assert_eq!(&joined.narrow(axis, start, len), part);
            start += len;
        }
        prop_assert_eq!(start, joined.dim(axis));
    }

    #[test]
    fn gather_and_scatter_add_are_adjoint(
        (x, axis, index, y) in prop::collection::vec(1usize..4, 1..=3)
            .prop_flat_map(|s| {
                let r = s.len();
                (Just(s), 0..r)
            })
            .prop_flat_map(|(s, axis)| {
                // the index may be smaller than x off the axis and any length along it
                let idims: Vec<BoxedStrategy<usize>> = s
                    .iter()
                    .enumerate()
                    .map(|(d, &n)| if d == axis { (0usize..5).boxed() } else { (1..=n).boxed() })
                    .collect();
                (Just(s), Just(axis), idims)
            })
            .prop_flat_map(|(s, axis, idims)| {
                let n = s[axis];
                (tensor_with(s), Just(axis), index_tensor(idims.clone(), n), tensor_with(idims))
            })
    ) {
        let gathered = x.gather(axis, &index);
        prop_assert_eq!(gathered.shape(), index.shape());
        let scattered = x.zeros_like().scatter_add(axis, &index, &y);
        let (lhs, rhs) = (dot(&gathered, &y), dot(&x, &scattered));
        prop_assert!((lhs - rhs).abs() <= 1e-5 * abs_dot(&gathered, &y) + 1e-5, "{} vs {}", lhs, rhs);
    }

    #[test]
    fn index_select_and_index_add_are_adjoint(
        (x, axis, indices, y) in tensor_and_axis(3)
            .prop_flat_map(|(x, axis)| {
                let n = x.dim(axis);
                (Just(x), Just(axis), prop::collection::vec(0..n, 0..6))
            })
            .prop_flat_map(|(x, axis, indices)| {
                let mut d = x.dims().to_vec();
                d[axis] = indices.len();
                (Just(x), Just(axis), Just(indices), tensor_with(d))
            })
    ) {
        let selected = x.index_select(axis, &indices);
        prop_assert_eq!(selected.shape(), y.shape());
        let added = x.zeros_like().index_add(axis, &indices, &y);
        let (lhs, rhs) = (dot(&selected, &y), dot(&x, &added));
        prop_assert!((lhs - rhs).abs() <= 1e-5 * abs_dot(&selected, &y) + 1e-5, "{} vs {}", lhs, rhs);
    }
}
