//! Ops that move values around without arithmetic: `reshape` and its relatives (`flatten_from`,
//! `squeeze`, `unsqueeze`), `transpose`, `permute`, `concat`/`stack`, `narrow`,
//! `index_select`, `gather`.
//!
//! Each backward is the *adjoint* move: it sends every gradient value back to the place its
//! value came from — reshape back, transpose back, cut the concatenation apart, and scatter
//! into zeros (adding where a value was picked more than once).

use tensor::{Shape, Tensor};

use crate::function::Function;
use crate::var::Var;

/// The view-like reshapes: same values in the same order, new shape.
#[derive(Debug, Clone)]
enum View {
    Reshape(Shape),
    FlattenFrom(usize),
    Squeeze(usize),
    Unsqueeze(usize),
}

/// Any [`View`]: ∂/∂x = g reshaped back to x's shape.
struct ReshapeOp {
    view: View,
    x: Shape,
}

impl Function for ReshapeOp {
    fn name(&self) -> &'static str {
        match self.view {
            View::Reshape(_) => "reshape",
            View::FlattenFrom(_) => "flatten_from",
            View::Squeeze(_) => "squeeze",
            View::Unsqueeze(_) => "unsqueeze",
        }
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        self.x = x[0].shape().clone();
        match &self.view {
            View::Reshape(shape) => x[0].reshape(shape),
            View::FlattenFrom(axis) => x[0].flatten_from(*axis),
            View::Squeeze(axis) => x[0].squeeze(*axis),
            View::Unsqueeze(axis) => x[0].unsqueeze(*axis),
        }
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(g.reshape(&self.x))]
    }
}

/// Swaps two axes: ∂/∂x = g with the same two axes swapped back.
struct TransposeOp {
    axes: (usize, usize),
}

impl Function for TransposeOp {
    fn name(&self) -> &'static str {
        "transpose"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        x[0].transpose(self.axes.0, self.axes.1)
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(g.transpose(self.axes.0, self.axes.1))]
    }
}

/// Reorders the axes (output axis `i` is input axis `perm[i]`): ∂/∂x = g permuted by the
/// inverse permutation.
struct PermuteOp {
    perm: Vec<usize>,
}

impl Function for PermuteOp {
    fn name(&self) -> &'static str {
        "permute"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        x[0].permute(&self.perm)
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let mut inverse = vec![0; self.perm.len()];
        for (i, &p) in self.perm.iter().enumerate() {
            inverse[p] = i;
        }
        vec![Some(g.permute(&inverse))]
    }
}

/// Joins the inputs along `axis`: input `i`'s gradient is its own stretch of g along `axis`.
struct ConcatOp {
    axis: usize,
    sizes: Vec<usize>,
}

impl Function for ConcatOp {
    fn name(&self) -> &'static str {
        "concat"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        let y = Tensor::concat(x, self.axis);
        self.sizes = x.iter().map(|t| t.dim(self.axis)).collect();
        y
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let mut start = 0;
        let mut grads = Vec::with_capacity(self.sizes.len());
        for (&len, &need) in self.sizes.iter().zip(needs) {
            grads.push(need.then(|| g.narrow(self.axis, start, len)));
            start += len;
        }
        grads
    }
}

/// Slice `start..start + len` along `axis`: ∂/∂x = zeros with g added into that slice.
struct NarrowOp {
    axis: usize,
    start: usize,
    len: usize,
    x: Shape,
}

impl Function for NarrowOp {
    fn name(&self) -> &'static str {
        "narrow"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        self.x = x[0].shape().clone();
        x[0].narrow(self.axis, self.start, self.len)
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let rows: Vec<usize> = (self.start..self.start + self.len).collect();
        vec![Some(Tensor::zeros(&self.x).index_add(self.axis, &rows, g))]
    }
}

/// Picks slices along `axis` by index (repeats allowed): ∂/∂x = zeros with each slice of g
/// added where it was picked (`index_add`, which accumulates repeats).
struct IndexSelectOp {
    axis: usize,
    indices: Vec<usize>,
    x: Shape,
}

impl Function for IndexSelectOp {
    fn name(&self) -> &'static str {
        "index_select"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        self.x = x[0].shape().clone();
        x[0].index_select(self.axis, &self.indices)
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(Tensor::zeros(&self.x).index_add(
            self.axis,
            &self.indices,
            g,
        ))]
    }
}

/// PyTorch's `gather`: ∂/∂x = zeros with g scattered back by the same index (`scatter_add`).
struct GatherOp {
    axis: usize,
    index: Tensor,
    x: Shape,
}

impl Function for GatherOp {
    fn name(&self) -> &'static str {
        "gather"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        self.x = x[0].shape().clone();
        x[0].gather(self.axis, &self.index)
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(Tensor::zeros(&self.x).scatter_add(
            self.axis,
            &self.index,
            g,
        ))]
    }
}

impl Var {
    fn view(&self, view: View) -> Var {
        Var::apply(
            ReshapeOp {
                view,
                x: Shape::default(),
            },
            &[self],
        )
    }

    /// The same values with a new shape of the same number of elements.
    ///
    /// # Panics
    /// If the element counts differ.
    #[track_caller]
    pub fn reshape(&self, shape: impl Into<Shape>) -> Var {
        self.view(View::Reshape(shape.into()))
    }

    /// Keeps the axes before `axis` and merges the rest into one: `[N, C, H, W]` with
    /// `axis = 1` becomes `[N, C·H·W]`.
    ///
    /// # Panics
    /// If `axis` is not below the rank.
    #[track_caller]
    pub fn flatten_from(&self, axis: usize) -> Var {
        self.view(View::FlattenFrom(axis))
    }

    /// Removes `axis`, which must have size 1.
    ///
    /// # Panics
    /// If `axis` is not below the rank or its size is not 1.
    #[track_caller]
    pub fn squeeze(&self, axis: usize) -> Var {
        self.view(View::Squeeze(axis))
    }

    /// Inserts an axis of size 1 at `axis` (`0..=rank`).
    ///
    /// # Panics
    /// If `axis` is greater than the rank.
    #[track_caller]
    pub fn unsqueeze(&self, axis: usize) -> Var {
        self.view(View::Unsqueeze(axis))
    }

    /// Swaps axes `a0` and `a1`.
    ///
    /// # Panics
    /// If either axis is not below the rank.
    #[track_caller]
    pub fn transpose(&self, a0: usize, a1: usize) -> Var {
        Var::apply(TransposeOp { axes: (a0, a1) }, &[self])
    }

    /// Reorders the axes: output axis `i` is input axis `perm[i]`.
    ///
    /// # Panics
    /// If `perm` is not a permutation of `0..rank`.
    #[track_caller]
    pub fn permute(&self, perm: &[usize]) -> Var {
        Var::apply(
            PermuteOp {
                perm: perm.to_vec(),
            },
            &[self],
        )
    }

    /// Joins `vars` along `axis`; their shapes must agree on every other axis.
    ///
    /// # Panics
    /// If `vars` is empty or the shapes differ anywhere but along `axis`.
    #[track_caller]
    pub fn concat(vars: &[&Var], axis: usize) -> Var {
        Var::apply(
            ConcatOp {
                axis,
                sizes: Vec::new(),
            },
            vars,
        )
    }

    /// Stacks `vars` (all of one shape) along a new axis at `axis`.
    ///
    /// # Panics
    /// If `vars` is empty, the shapes differ, or `axis` is greater than the rank.
    #[track_caller]
    pub fn stack(vars: &[&Var], axis: usize) -> Var {
        let parts: Vec<Var> = vars.iter().map(|v| v.unsqueeze(axis)).collect();
        Var::concat(&parts.iter().collect::<Vec<_>>(), axis)
    }

    /// The slice `start..start + len` along `axis`.
    ///
    /// # Panics
    /// If `axis` is not below the rank or the range runs past the end of the axis.
    #[track_caller]
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Var {
        let op = NarrowOp {
            axis,
            start,
            len,
            x: Shape::default(),
        };
        Var::apply(op, &[self])
    }

    /// The slices at `indices` along `axis`, in that order (repeats allowed).
    ///
    /// # Panics
    /// If `axis` is not below the rank or an index is out of range.
    #[track_caller]
    pub fn index_select(&self, axis: usize, indices: &[usize]) -> Var {
        let op = IndexSelectOp {
            axis,
            indices: indices.to_vec(),
            x: Shape::default(),
        };
        Var::apply(op, &[self])
    }

    /// Picks values along `axis` by `index` (PyTorch's `gather`; `index` holds whole numbers
    /// and has the rank of `self`): for rank 2 and `axis = 1`, `out[i][j] = self[i][index[i][j]]`.
    /// How a loss picks the log-probability of each sample's label.
    ///
    /// # Panics
    /// As [`Tensor::gather`].
    #[track_caller]
    pub fn gather(&self, axis: usize, index: &Tensor) -> Var {
        let op = GatherOp {
            axis,
            index: index.clone(),
            x: Shape::default(),
        };
        Var::apply(op, &[self])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{gradcheck, test_tensor};

    fn check(f: impl Fn(&Var) -> Var, shape: &[usize]) {
        if let Err(e) = gradcheck(|v: &[Var]| f(&v[0]), &[test_tensor(shape, 3)], 1e-2, 1e-2) {
            panic!("{shape:?}: {e}");
        }
    }

    #[test]
    fn gradcheck_views() {
        check(|x| x.reshape([3, 2]), &[2, 3]);
        check(|x| x.reshape([6]), &[2, 3]);
        check(|x| x.flatten_from(1), &[2, 3, 2]);
        check(|x| x.squeeze(1), &[2, 1, 3]);
        check(|x| x.unsqueeze(0), &[2, 3]);
        check(|x| x.unsqueeze(2), &[2, 3]);
        check(|x| x.reshape([1]), &[]);
    }

    #[test]
    fn gradcheck_transpose_and_permute() {
        check(|x| x.transpose(0, 1), &[2, 3]);
        check(|x| x.transpose(0, 2), &[2, 3, 4]);
        check(|x| x.permute(&[2, 0, 1]), &[2, 3, 4]);
        check(|x| x.permute(&[1, 2, 0]), &[2, 3, 4]);
    }

    #[test]
    fn gradcheck_concat_and_stack() {
        let inputs = [
            test_tensor(&[2, 3], 1),
            test_tensor(&[2, 1], 2),
            test_tensor(&[2, 2], 3),
        ];
        gradcheck(
            |v: &[Var]| Var::concat(&[&v[0], &v[1], &v[2]], 1),
            &inputs,
            1e-2,
            1e-2,
        )
        .unwrap();
        let rows = [test_tensor(&[1, 3], 4), test_tensor(&[2, 3], 5)];
        gradcheck(
            |v: &[Var]| Var::concat(&[&v[0], &v[1]], 0),
            &rows,
            1e-2,
            1e-2,
        )
        .unwrap();
        // one input used twice, and broadcasting after the join
        let f = |v: &[Var]| &Var::concat(&[&v[0], &v[0]], 0) * &v[1];
        gradcheck(
            f,
            &[test_tensor(&[2, 3], 6), test_tensor(&[3], 7)],
            1e-2,
            1e-2,
        )
        .unwrap();
        let same = [test_tensor(&[2, 3], 8), test_tensor(&[2, 3], 9)];
        gradcheck(
            |v: &[Var]| Var::stack(&[&v[0], &v[1]], 1),
            &same,
            1e-2,
            1e-2,
        )
        .unwrap();
    }

    #[test]
    fn gradcheck_narrow_index_select_gather() {
        check(|x| x.narrow(1, 1, 2), &[2, 4]);
        check(|x| x.narrow(0, 0, 1), &[3, 2]);
        check(|x| x.index_select(0, &[2, 0, 2, 2]), &[3, 2]); // repeats accumulate
        check(|x| x.index_select(1, &[1]), &[2, 3]);
        let index = Tensor::from_vec(vec![1.0, 1.0, 0.0, 2.0, 2.0, 2.0], [3, 2]);
        check(|x| x.gather(1, &index), &[3, 3]);
        let labels = Tensor::from_vec(vec![2.0, 0.0], [2, 1]);
        // the cross-entropy pattern: pick each row's label from the log-softmax, with a bias
        let f = |v: &[Var]| (&v[0] + &v[1]).log_softmax(1).gather(1, &labels);
        gradcheck(
            f,
            &[test_tensor(&[2, 3], 1), test_tensor(&[3], 2)],
            1e-2,
            1e-2,
        )
        .unwrap();
    }

    #[test]
    fn exact_gradients_of_picks() {
        let x = Var::parameter(Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]));
        x.index_select(0, &[2, 2, 0]).sum_all().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 0.0, 2.0]);
        let m = Var::parameter(Tensor::zeros([2, 3]));
        m.narrow(1, 1, 2).sum_all().backward();
        assert_eq!(
            m.grad().unwrap().to_vec(),
            vec![0.0, 1.0, 1.0, 0.0, 1.0, 1.0]
        );
        let t = Var::parameter(Tensor::zeros([2, 3]));
        let y = t.transpose(0, 1);
        assert_eq!(y.dims(), vec![3, 2]);
        y.backward_with(Tensor::from_vec(vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0], [3, 2]));
        assert_eq!(
            t.grad().unwrap().to_vec(),
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
    }

    #[test]
    fn concat_sends_gradients_only_where_needed() {
        let p = Var::parameter(Tensor::zeros([1, 2]));
        let c = Var::constant(Tensor::zeros([1, 2]));
        Var::concat(&[&c, &p], 0).backward_with(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]));
        assert_eq!(p.grad().unwrap().to_vec(), vec![3.0, 4.0]);
        assert!(c.grad().is_none());
    }

    #[test]
    #[should_panic(expected = "reshape: cannot reshape [2, 3]")]
    fn bad_reshape_names_the_op_and_shapes() {
        Var::parameter(Tensor::zeros([2, 3])).reshape([4]);
    }
}
