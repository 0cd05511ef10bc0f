//! Shape operations: axis reordering (`transpose`, `permute`), size-1 axes (`squeeze`,
//! `unsqueeze`), `flatten_from`, joining (`concat`, `stack`) and slicing (`narrow`), and the
//! indexing ops with their adjoints: `index_select` / `index_add`, `gather` / `scatter_add`,
//! plus `one_hot`.
//!
//! Tensors are always contiguous, so every op that moves values copies them; ops that only
//! relabel the axes (`squeeze`, `unsqueeze`, `flatten_from`) share the buffer. Copies move
//! contiguous runs with `copy_from_slice` wherever the layout allows, and `permute` copies
//! tile by tile when the innermost axis changes.

use crate::error::shape_panic;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// Side of the square blocks in which `permute` copies when the innermost axis moves. An
/// 8 × 8 block is read as 8 contiguous rows and written as 8 contiguous rows, and touches only
/// 8 cache lines on each side, so power-of-two strides (which map every row of a larger
/// tile to the same cache set) do not evict it. Measured on a 1024 × 1024 transpose: 0.7 ms,
/// against 2.5 ms for 32 × 32 tiles copied element by element.
const BLOCK: usize = 8;

/// Calls `f` once for every position of `dims` in row-major order, with that position's
/// offset under each stride list. With no axes `f` is called once with zero offsets; with an
/// axis of size 0 it is never called.
fn odometer<const N: usize>(dims: &[usize], strides: [&[usize]; N], mut f: impl FnMut([usize; N])) {
    if dims.contains(&0) {
        return;
    }
    let mut index = vec![0; dims.len()];
    let mut off = [0usize; N];
    loop {
        f(off);
        let mut a = dims.len();
        loop {
            if a == 0 {
                return;
            }
            a -= 1;
            index[a] += 1;
            for (o, s) in off.iter_mut().zip(&strides) {
                *o += s[a];
            }
            if index[a] < dims[a] {
                break;
            }
            for (o, s) in off.iter_mut().zip(&strides) {
                *o -= s[a] * dims[a];
            }
            index[a] = 0;
        }
    }
}

/// Copies an `nk` × `nj` plane whose element `(k, j)` is `x[k + j·sj]` to `out[k·osk + j]`:
/// a transpose between a contiguous input axis `k` and a contiguous output axis `j`.
fn transpose_plane(x: &[f32], out: &mut [f32], (nk, nj): (usize, usize), sj: usize, osk: usize) {
    for kb in (0..nk).step_by(BLOCK) {
        for jb in (0..nj).step_by(BLOCK) {
            if kb + BLOCK <= nk && jb + BLOCK <= nj {
                // a full block: rows of the input in, rows of the output out
                let mut block = [[0.0f32; BLOCK]; BLOCK];
                for (r, b) in block.iter_mut().enumerate() {
                    b.copy_from_slice(&x[(jb + r) * sj + kb..][..BLOCK]);
                }
                for c in 0..BLOCK {
                    let row = &mut out[(kb + c) * osk + jb..][..BLOCK];
                    for (o, b) in row.iter_mut().zip(&block) {
                        *o = b[c];
                    }
                }
            } else {
                // the ragged edge
                for k in kb..(kb + BLOCK).min(nk) {
                    for j in jb..(jb + BLOCK).min(nj) {
                        out[k * osk + j] = x[j * sj + k];
                    }
                }
            }
        }
    }
}

/// `(outer, n, inner)`: the element counts before, at and after `axis`.
fn split_at_axis(dims: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        dims[..axis].iter().product(),
        dims[axis],
        dims[axis + 1..].iter().product(),
    )
}

/// `v` as an index below `n`, or a panic naming `op` if it is not a whole number in `0..n`.
#[track_caller]
#[inline]
fn to_index(op: &str, v: f32, n: usize, context: impl FnOnce() -> String) -> usize {
    if v >= 0.0 && v < n as f32 && v.fract() == 0.0 {
        v as usize
    } else {
        index_panic(op, v, n, context())
    }
}

#[cold]
#[track_caller]
fn index_panic(op: &str, v: f32, n: usize, context: String) -> ! {
    shape_panic(
        op,
        format_args!("index {v} is not a whole number in 0..{n} ({context})"),
    )
}

/// Panics, naming `op`, if any index is not below the size `n` of `axis` of `shape`.
#[track_caller]
fn check_indices(op: &str, indices: &[usize], n: usize, axis: usize, shape: &Shape) {
    if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
        shape_panic(
            op,
            format_args!(
                "index {bad} is out of range for axis {axis} of size {n} in shape {shape:?}"
            ),
        );
    }
}

impl Tensor {
    /// The tensor with axes `a0` and `a1` swapped (a copy). For a matrix, its transpose.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    /// let t = a.transpose(0, 1);
    /// assert_eq!(t.dims(), &[3, 2]);
    /// assert_eq!(t.to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// ```
    ///
    /// # Panics
    /// If either axis is not below the rank.
    #[track_caller]
    pub fn transpose(&self, a0: usize, a1: usize) -> Tensor {
        self.shape().check_axis("transpose", a0);
        self.shape().check_axis("transpose", a1);
        let mut perm: Vec<usize> = (0..self.rank()).collect();
        perm.swap(a0, a1);
        self.permute(&perm)
    }

    /// The tensor with its axes reordered: axis `i` of the result is axis `perm[i]` of `self`
    /// (PyTorch's `permute`; a copy unless the order is unchanged).
    ///
    /// ```
    /// use tensor::Tensor;
    /// let a = Tensor::arange(0.0, 6.0, 1.0).reshape([1, 2, 3]);
    /// let p = a.permute(&[2, 0, 1]);
    /// assert_eq!(p.dims(), &[3, 1, 2]);
    /// assert_eq!(p.to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// ```
    ///
    /// # Panics
    /// If `perm` is not a permutation of `0..rank`.
    #[track_caller]
    pub fn permute(&self, perm: &[usize]) -> Tensor {
        let r = self.rank();
        let mut seen = vec![false; r];
        let valid = perm.len() == r
            && perm
                .iter()
                .all(|&p| p < r && !std::mem::replace(&mut seen[p], true));
        if !valid {
            shape_panic(
                "permute",
                format_args!(
                    "{perm:?} is not a permutation of the axes of shape {:?} (rank {r})",
                    self.shape()
                ),
            );
        }
        let in_dims = self.dims();
        let in_strides = self.shape().strides();
        let out_shape = Shape::new(perm.iter().map(|&p| in_dims[p]).collect());
        // Output axes taken in order; neighbours that are also neighbours in the input merge
        // into one group, and size-1 axes drop out. `d` = group sizes, `s` = input strides.
        let (mut d, mut s) = (Vec::with_capacity(r), Vec::<usize>::with_capacity(r));
        for &p in perm {
            let (size, stride) = (in_dims[p], in_strides[p]);
            if size == 1 {
                continue;
            }
            match (d.last_mut(), s.last_mut()) {
                (Some(ld), Some(ls)) if *ls == stride * size => {
                    *ld *= size;
                    *ls = stride;
                }
                _ => {
                    d.push(size);
                    s.push(stride);
                }
            }
        }
        if d.len() <= 1 || self.numel() == 0 {
            // the values are already in output order
            return self.reshape(out_shape);
        }
        let x = self.data();
        let mut out = vec![0.0; x.len()];
        let g = d.len();
        let mut os = vec![1; g];
        for k in (0..g - 1).rev() {
            os[k] = os[k + 1] * d[k + 1];
        }
        if s[g - 1] == 1 {
            // innermost axis unchanged: copy contiguous runs
            let run = d[g - 1];
            odometer(&d[..g - 1], [&s[..g - 1], &os[..g - 1]], |[i, o]| {
                out[o..o + run].copy_from_slice(&x[i..i + run]);
            });
        } else {
            // The input's contiguous axis `k` is an outer axis of the output: copy the
            // (k, last) plane block by block so reads and writes are both contiguous runs.
            let k = s
                .iter()
                .position(|&st| st == 1)
                .expect("some axis is contiguous");
            let (nk, nj, osk, sj) = (d[k], d[g - 1], os[k], s[g - 1]);
            let keep = |v: &[usize]| -> Vec<usize> {
                (0..g - 1).filter(|&a| a != k).map(|a| v[a]).collect()
            };
            let (od, osd, oos) = (keep(&d), keep(&s), keep(&os));
            odometer(&od, [&osd, &oos], |[ib, ob]| {
                transpose_plane(&x[ib..], &mut out[ob..], (nk, nj), sj, osk);
            });
        }
        Tensor::from_vec(out, out_shape)
    }

    /// Removes `axis`, which must have size 1 (shares the buffer).
    ///
    /// # Panics
    /// If `axis` is not below the rank or its size is not 1.
    #[track_caller]
    pub fn squeeze(&self, axis: usize) -> Tensor {
        self.shape().check_axis("squeeze", axis);
        if self.dims()[axis] != 1 {
            shape_panic(
                "squeeze",
                format_args!(
                    "axis {axis} has size {}, not 1, in shape {:?}",
                    self.dims()[axis],
                    self.shape()
                ),
            );
        }
        let mut d = self.dims().to_vec();
        d.remove(axis);
        self.reshape(d)
    }

    /// Inserts an axis of size 1 at position `axis` (`0..=rank`; shares the buffer).
    ///
    /// ```
    /// use tensor::Tensor;
    /// assert_eq!(Tensor::zeros([2, 3]).unsqueeze(1).dims(), &[2, 1, 3]);
    /// assert_eq!(Tensor::zeros([2, 3]).unsqueeze(2).dims(), &[2, 3, 1]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is greater than the rank.
    #[track_caller]
    pub fn unsqueeze(&self, axis: usize) -> Tensor {
        if axis > self.rank() {
            shape_panic(
                "unsqueeze",
                format_args!(
                    "axis {axis} is out of range for shape {:?} (at most its rank, {})",
                    self.shape(),
                    self.rank()
                ),
            );
        }
        let mut d = self.dims().to_vec();
        d.insert(axis, 1);
        self.reshape(d)
    }

    /// Keeps the axes before `axis` and merges `axis` and every later one into one
    /// (`[N, C, H, W].flatten_from(1)` is `[N, C·H·W]`; shares the buffer).
    ///
    /// # Panics
    /// If `axis` is not below the rank.
    #[track_caller]
    pub fn flatten_from(&self, axis: usize) -> Tensor {
        self.shape().check_axis("flatten_from", axis);
        let mut d = self.dims()[..axis].to_vec();
        d.push(self.dims()[axis..].iter().product());
        self.reshape(d)
    }

    /// Joins tensors along an existing `axis`; all other sizes must agree.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0], [2, 1]);
    /// let b = Tensor::from_vec(vec![3.0, 4.0, 5.0, 6.0], [2, 2]);
    /// let c = Tensor::concat(&[&a, &b], 1);
    /// assert_eq!(c.to_vec(), vec![1.0, 3.0, 4.0, 2.0, 5.0, 6.0]);
    /// ```
    ///
    /// # Panics
    /// If `tensors` is empty, `axis` is not below the rank, or the shapes differ anywhere
    /// but along `axis`.
    #[track_caller]
    pub fn concat(tensors: &[&Tensor], axis: usize) -> Tensor {
        let Some(first) = tensors.first() else {
            shape_panic("concat", "needs at least one tensor");
        };
        first.shape().check_axis("concat", axis);
        for t in &tensors[1..] {
            let same_elsewhere = t.rank() == first.rank()
                && t.dims()
                    .iter()
                    .zip(first.dims())
                    .enumerate()
                    .all(|(a, (x, y))| a == axis || x == y);
            if !same_elsewhere {
                shape_panic(
                    "concat",
                    format_args!(
                        "shapes differ outside axis {axis}: {:?} and {:?}",
                        first.shape(),
                        t.shape()
                    ),
                );
            }
        }
        let mut dims = first.dims().to_vec();
        dims[axis] = tensors.iter().map(|t| t.dim(axis)).sum();
        let (outer, _, inner) = split_at_axis(&dims, axis);
        let mut out = Vec::with_capacity(dims.iter().product());
        for o in 0..outer {
            for t in tensors {
                let run = t.dim(axis) * inner;
                out.extend_from_slice(&t.data()[o * run..(o + 1) * run]);
            }
        }
        Tensor::from_vec(out, dims)
    }

    /// Joins tensors of one shape along a new axis inserted at `axis` (`0..=rank`).
    ///
    /// ```
    /// use tensor::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0], [2]);
    /// let b = Tensor::from_vec(vec![3.0, 4.0], [2]);
    /// assert_eq!(Tensor::stack(&[&a, &b], 0).dims(), &[2, 2]);
    /// assert_eq!(Tensor::stack(&[&a, &b], 1).to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    /// ```
    ///
    /// # Panics
    /// If `tensors` is empty, the shapes differ, or `axis` is greater than the rank.
    #[track_caller]
    pub fn stack(tensors: &[&Tensor], axis: usize) -> Tensor {
        let Some(first) = tensors.first() else {
            shape_panic("stack", "needs at least one tensor");
        };
        if let Some(t) = tensors.iter().find(|t| t.shape() != first.shape()) {
            shape_panic(
                "stack",
                format_args!("shapes differ: {:?} and {:?}", first.shape(), t.shape()),
            );
        }
        if axis > first.rank() {
            shape_panic(
                "stack",
                format_args!(
                    "axis {axis} is out of range for shape {:?} (at most its rank, {})",
                    first.shape(),
                    first.rank()
                ),
            );
        }
        let parts: Vec<Tensor> = tensors.iter().map(|t| t.unsqueeze(axis)).collect();
        let refs: Vec<&Tensor> = parts.iter().collect();
        Tensor::concat(&refs, axis)
    }

    /// The slice `start..start + len` of `axis` (a copy; PyTorch's `narrow`).
    ///
    /// ```
    /// use tensor::Tensor;
    /// let a = Tensor::arange(0.0, 8.0, 1.0).reshape([2, 4]);
    /// assert_eq!(a.narrow(1, 1, 2).to_vec(), vec![1.0, 2.0, 5.0, 6.0]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is not below the rank or the range runs past the end of the axis.
    #[track_caller]
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Tensor {
        self.shape().check_axis("narrow", axis);
        let (outer, n, inner) = split_at_axis(self.dims(), axis);
        if start.checked_add(len).is_none_or(|end| end > n) {
            shape_panic(
                "narrow",
                format_args!(
                    "range {start}..{} is out of bounds for axis {axis} of size {n} in shape {:?}",
                    start.saturating_add(len),
                    self.shape()
                ),
            );
        }
        let mut dims = self.dims().to_vec();
        dims[axis] = len;
        if len == n {
            return self.clone();
        }
        let x = self.data();
        let mut out = Vec::with_capacity(outer * len * inner);
        for o in 0..outer {
            let from = (o * n + start) * inner;
            out.extend_from_slice(&x[from..from + len * inner]);
        }
        Tensor::from_vec(out, dims)
    }

    /// The slices of `axis` at `indices`, in that order (repeats allowed); the result has
    /// `indices.len()` entries along `axis`.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [3, 2]);
    /// assert_eq!(a.index_select(0, &[2, 0, 2]).to_vec(), vec![5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is not below the rank or an index is out of range.
    #[track_caller]
    pub fn index_select(&self, axis: usize, indices: &[usize]) -> Tensor {
        self.shape().check_axis("index_select", axis);
        let (outer, n, inner) = split_at_axis(self.dims(), axis);
        check_indices("index_select", indices, n, axis, self.shape());
        let x = self.data();
        let mut out = Vec::with_capacity(outer * indices.len() * inner);
        for o in 0..outer {
            for &i in indices {
                let from = (o * n + i) * inner;
                out.extend_from_slice(&x[from..from + inner]);
            }
        }
        let mut dims = self.dims().to_vec();
        dims[axis] = indices.len();
        Tensor::from_vec(out, dims)
    }

    /// `self` plus `src` scattered along `axis` at `indices`, repeats accumulating: slice `j`
    /// of `src` is added to slice `indices[j]`. The adjoint of [`Tensor::index_select`]:
    /// `⟨x.index_select(a, idx), y⟩ = ⟨x, zeros.index_add(a, idx, y)⟩`.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let src = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3, 1]);
    /// let out = Tensor::zeros([2, 1]).index_add(0, &[1, 0, 1], &src);
    /// assert_eq!(out.to_vec(), vec![2.0, 4.0]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is not below the rank, an index is out of range, or `src` is not `self`'s
    /// shape with `indices.len()` along `axis`.
    #[track_caller]
    pub fn index_add(&self, axis: usize, indices: &[usize], src: &Tensor) -> Tensor {
        self.shape().check_axis("index_add", axis);
        let (outer, n, inner) = split_at_axis(self.dims(), axis);
        let mut expected = self.dims().to_vec();
        expected[axis] = indices.len();
        if src.dims() != expected.as_slice() {
            shape_panic(
                "index_add",
                format_args!(
                    "src has shape {:?}, expected {expected:?} (self {:?} with {} indices along axis {axis})",
                    src.shape(),
                    self.shape(),
                    indices.len()
                ),
            );
        }
        check_indices("index_add", indices, n, axis, self.shape());
        let mut out = self.clone();
        let y = src.data();
        let data = out.data_mut();
        let m = indices.len();
        for o in 0..outer {
            for (j, &i) in indices.iter().enumerate() {
                let to = (o * n + i) * inner;
                let from = (o * m + j) * inner;
                for (a, &v) in data[to..to + inner].iter_mut().zip(&y[from..from + inner]) {
                    *a += v;
                }
            }
        }
        out
    }

    /// Picks values along `axis` by `index` (PyTorch's `gather`): `index` has the rank of
    /// `self`, holds whole numbers, and may be smaller than `self` on the other axes; the
    /// result has `index`'s shape. For rank 2 and `axis = 1`:
    /// `out[i][j] = self[i][index[i][j]]`.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let probs = Tensor::from_vec(vec![0.1, 0.7, 0.2, 0.5, 0.4, 0.1], [2, 3]);
    /// let labels = Tensor::from_vec(vec![1.0, 0.0], [2, 1]);
    /// assert_eq!(probs.gather(1, &labels).to_vec(), vec![0.7, 0.5]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is not below the rank, the ranks differ, `index` is larger than `self` on
    /// an axis other than `axis`, or an index is not a whole number below `self.dim(axis)`.
    #[track_caller]
    pub fn gather(&self, axis: usize, index: &Tensor) -> Tensor {
        self.check_index_shape("gather", axis, index, None);
        let r = self.rank();
        let n = self.dims()[axis];
        let mut xs = self.shape().strides();
        let step = xs[axis];
        xs[axis] = 0;
        let is = index.shape().strides();
        let (idims, idx, x) = (index.dims(), index.data(), self.data());
        let mut out = vec![0.0; idx.len()];
        let inner = idims[r - 1];
        let last = xs[r - 1];
        let context = || {
            format!(
                "along axis {axis} of shape {:?}, index shape {:?}",
                self.shape(),
                index.shape()
            )
        };
        odometer(&idims[..r - 1], [&xs[..r - 1], &is[..r - 1]], |[xo, io]| {
            for j in 0..inner {
                let k = to_index("gather", idx[io + j], n, context);
                out[io + j] = x[xo + j * last + k * step];
            }
        });
        Tensor::from_vec(out, index.shape().clone())
    }

    /// `self` plus `src` scattered along `axis` by `index`, repeats accumulating (PyTorch's
    /// `scatter_add`): for rank 2 and `axis = 1`, `out[i][index[i][j]] += src[i][j]`. `src`
    /// may be larger than `index` (only its leading part is used). The adjoint of
    /// [`Tensor::gather`]: `⟨x.gather(a, idx), y⟩ = ⟨x, zeros.scatter_add(a, idx, y)⟩`.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let index = Tensor::from_vec(vec![2.0, 0.0, 2.0], [1, 3]);
    /// let src = Tensor::from_vec(vec![1.0, 2.0, 3.0], [1, 3]);
    /// let out = Tensor::zeros([1, 3]).scatter_add(1, &index, &src);
    /// assert_eq!(out.to_vec(), vec![2.0, 0.0, 4.0]);
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::gather`], and if `src` is smaller than `index` on some axis.
    #[track_caller]
    pub fn scatter_add(&self, axis: usize, index: &Tensor, src: &Tensor) -> Tensor {
        self.check_index_shape("scatter_add", axis, index, Some(src));
        let r = self.rank();
        let n = self.dims()[axis];
        let mut os = self.shape().strides();
        let step = os[axis];
        os[axis] = 0;
        let is = index.shape().strides();
        let ss = src.shape().strides();
        let (idims, idx, y) = (index.dims(), index.data(), src.data());
        let mut out = self.clone();
        let data = out.data_mut();
        let inner = idims[r - 1];
        let (last_o, last_s) = (os[r - 1], ss[r - 1]);
        let context = || {
            format!(
                "along axis {axis} of shape {:?}, index shape {:?}",
                self.shape(),
                index.shape()
            )
        };
        odometer(
            &idims[..r - 1],
            [&os[..r - 1], &is[..r - 1], &ss[..r - 1]],
            |[oo, io, so]| {
                for j in 0..inner {
                    let k = to_index("scatter_add", idx[io + j], n, context);
                    data[oo + j * last_o + k * step] += y[so + j * last_s];
                }
            },
        );
        out
    }

    /// Checks `gather`/`scatter_add` arguments: same rank, `index` no larger than `self`
    /// off `axis`, and (for scatter) `src` no smaller than `index`.
    #[track_caller]
    fn check_index_shape(&self, op: &str, axis: usize, index: &Tensor, src: Option<&Tensor>) {
        self.shape().check_axis(op, axis);
        if index.rank() != self.rank() {
            shape_panic(
                op,
                format_args!(
                    "index rank {} differs from self rank {}: index {:?}, self {:?}",
                    index.rank(),
                    self.rank(),
                    index.shape(),
                    self.shape()
                ),
            );
        }
        let off_axis = index
            .dims()
            .iter()
            .zip(self.dims())
            .enumerate()
            .find(|&(a, (i, s))| a != axis && i > s);
        if let Some((a, _)) = off_axis {
            shape_panic(
                op,
                format_args!(
                    "index shape {:?} is larger than self shape {:?} on axis {a}",
                    index.shape(),
                    self.shape()
                ),
            );
        }
        if let Some(src) = src {
            let fits = src.rank() == index.rank()
                && src.dims().iter().zip(index.dims()).all(|(s, i)| s >= i);
            if !fits {
                shape_panic(
                    op,
                    format_args!(
                        "src shape {:?} is smaller than index shape {:?}",
                        src.shape(),
                        index.shape()
                    ),
                );
            }
        }
    }

    /// One-hot rows: for labels of shape `[..]` holding whole numbers below `classes`, a
    /// tensor of shape `[.., classes]` with 1.0 at each label's position and 0.0 elsewhere.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let labels = Tensor::from_vec(vec![2.0, 0.0], [2]);
    /// let y = Tensor::one_hot(&labels, 3);
    /// assert_eq!(y.to_vec(), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    /// ```
    ///
    /// # Panics
    /// If a label is not a whole number in `0..classes`.
    #[track_caller]
    pub fn one_hot(labels: &Tensor, classes: usize) -> Tensor {
        let mut out = vec![0.0; labels.numel() * classes];
        let context = || format!("labels shape {:?}, {classes} classes", labels.shape());
        for (row, &l) in out.chunks_exact_mut(classes.max(1)).zip(labels.data()) {
            row[to_index("one_hot", l, classes, context)] = 1.0;
        }
        if classes == 0 {
            // no rows to write, but every label is still out of range
            if let Some(&l) = labels.data().first() {
                to_index("one_hot", l, 0, context);
            }
        }
        let mut dims = labels.dims().to_vec();
        dims.push(classes);
        Tensor::from_vec(out, dims)
    }
}

#[cfg(test)]
mod tests;
