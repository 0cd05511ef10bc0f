//! The [`Optimizer`] trait, the errors of [`Optimizer::load_state_dict`], and the helpers every
//! optimizer shares (state-dict bookkeeping, argument checks).

use std::fmt;

use autograd::Var;
use tensor::Tensor;

/// Updates a list of leaf parameters from their gradients.
///
/// The loop of a training step is `opt.zero_grad(); loss.backward(); opt.step();`.
/// Updates run under `no_grad` and in place: after the first step (which creates the moment
/// buffers) a step allocates no parameter-sized memory.
pub trait Optimizer {
    /// Applies one update to every parameter that has a gradient (the others are skipped, as
    /// in PyTorch).
    fn step(&mut self);

    /// The parameters this optimizer updates, in the order given at construction.
    fn params(&self) -> &[Var];

    /// Forgets every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`), so the
    /// next `backward()` starts afresh.
    fn zero_grad(&self) {
        for p in self.params() {
            p.zero_grad();
        }
    }

    /// The learning rate used by the next step.
    fn lr(&self) -> f32;

    /// Changes the learning rate (what a schedule does between steps).
    fn set_lr(&mut self, lr: f32);

    /// The optimizer's name, as PyTorch's class name (`"SGD"`, `"Adam"`), for checkpoint metadata.
    fn name(&self) -> &'static str;

    /// The state needed to resume exactly: `"step"` (number of steps taken, a whole number),
    /// `"lr"`, and each parameter's buffers as `"<index>.<buffer>"` with PyTorch's buffer names
    /// (`"0.exp_avg"`, `"3.momentum_buffer"`). Buffers appear once the first step made them.
    /// Values share memory with the optimizer (cheap clones).
    fn state_dict(&self) -> Vec<(String, Tensor)>;

    /// Restores a state from [`state_dict`](Optimizer::state_dict). Everything is checked
    /// before anything changes.
    ///
    /// # Errors
    /// A [`StateError`] naming the entry that is missing, unknown, of the wrong shape or not
    /// a valid value.
    fn load_state_dict(&mut self, state: &[(String, Tensor)]) -> Result<(), StateError>;
}

/// Why an optimizer state dict could not be loaded.
#[derive(Clone, Debug, PartialEq)]
pub enum StateError {
    /// A required entry is absent.
    Missing {
        /// Its name.
        name: String,
    },
    /// An entry this optimizer does not know (another optimizer's, or more parameters).
    Unexpected {
        /// Its name.
        name: String,
    },
    /// An entry's shape differs from its parameter's.
    ShapeMismatch {
        /// Its name.
        name: String,
        /// The parameter's shape.
        expected: Vec<usize>,
        /// The entry's shape.
        found: Vec<usize>,
    },
    /// An entry's value is not valid (a step count that is not a whole number, say).
    Invalid {
        /// Its name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::Missing { name } => write!(
                f,
                "optimizer state lacks `{name}`; load a state saved by the same kind of optimizer"
            ),
            StateError::Unexpected { name } => write!(
                f,
                "optimizer state has `{name}`, which this optimizer does not use; it was saved by \
                 another optimizer or for more parameters — build the optimizer it was saved from"
            ),
            StateError::ShapeMismatch {
                name,
                expected,
                found,
            } => write!(
                f,
                "optimizer state `{name}` has shape {found:?} but its parameter's is {expected:?}; \
                 pass the parameters in the order and sizes they were saved with"
            ),
            StateError::Invalid { name, reason } => {
                write!(f, "optimizer state `{name}` is invalid: {reason}")
            }
        }
    }
}

impl std::error::Error for StateError {}

/// Updates are elementwise, so a parameter of at least twice this many elements is updated
/// in pieces spread over the threads (`tensor::num_threads`) and the result does not depend
/// on the cut (see [`update_piece`]).
pub(crate) const UPDATE_PIECE: usize = 16 * 1024;

/// The piece size for updating a parameter of `len` elements: one contiguous piece per
/// thread (whole cache lines, at least [`UPDATE_PIECE`]), so that each thread updates the same
/// part every step. A weight matrix's halves on two threads are then the halves of its rows
/// that the forward product's two column blocks read (`tensor::Tensor::linear`), on the same
/// threads, and stay in their cores' caches from the update to the next forward pass.
/// (Before, pieces of 16 K elements went to whichever thread was free.)
pub(crate) fn update_piece(len: usize) -> usize {
    piece_for(len, tensor::num_threads())
}

/// [`update_piece`] for a given thread count.
fn piece_for(len: usize, threads: usize) -> usize {
    len.div_ceil(threads).next_multiple_of(16).max(UPDATE_PIECE)
}

/// Per-parameter buffers by PyTorch name, created lazily on the first step.
pub(crate) type Buffers = Vec<Option<Tensor>>;

/// The largest step count a state may hold: 2²⁴, the last whole number an `f32` (the type it
/// is saved in) holds exactly, and more steps than any run of this library takes.
pub const MAX_STEP: u64 = 1 << 24;

/// What every optimizer keeps besides its hyper-parameters: its parameters, learning rate,
/// step count and `K` kinds of per-parameter buffers, and the one implementation of its state
/// dict — `step`, `lr`, then `<index>.<buffer name>` for each buffer that exists (PyTorch's
/// names, so a checkpoint written by one version loads in the next).
#[derive(Debug)]
pub(crate) struct ParamState<const K: usize> {
    pub(crate) params: Vec<Var>,
    pub(crate) lr: f32,
    /// Steps taken so far (the next step is `step + 1`).
    pub(crate) step: u64,
    /// The buffers of each kind, one slot per parameter, in the order of `names`.
    pub(crate) buffers: [Buffers; K],
    /// The state-dict name of each kind of buffer.
    names: [&'static str; K],
    /// The kinds that are running means of squares, so must be ≥ 0 when loaded.
    non_negative: &'static [&'static str],
}

impl<const K: usize> ParamState<K> {
    /// The state of a fresh optimizer `op` over `params`: step 0, no buffers yet.
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    #[track_caller]
    pub(crate) fn new(
        op: &str,
        params: Vec<Var>,
        lr: f32,
        names: [&'static str; K],
        non_negative: &'static [&'static str],
    ) -> Self {
        check(
            lr.is_finite() && lr >= 0.0,
            op,
            format_args!("invalid learning rate {lr}"),
        );
        let n = params.len();
        ParamState {
            params,
            lr,
            step: 0,
            buffers: std::array::from_fn(|_| vec![None; n]),
            names,
            non_negative,
        }
    }

    /// [`Optimizer::state_dict`].
    pub(crate) fn state_dict(&self) -> Vec<(String, Tensor)> {
        let named: Vec<(&str, &Buffers)> = self.names.iter().copied().zip(&self.buffers).collect();
        write_state(self.step, self.lr, &named)
    }

    /// [`Optimizer::load_state_dict`]: everything is checked before anything changes.
    pub(crate) fn load_state_dict(&mut self, state: &[(String, Tensor)]) -> Result<(), StateError> {
        let s = read_state(state, &self.params, &self.names, self.non_negative)?;
        self.step = s.step;
        self.lr = s.lr;
        self.buffers = s.buffers.try_into().expect("one entry per buffer name");
        Ok(())
    }
}

/// Reads and checks a state dict: `step`, `lr`, and for each buffer name the per-parameter
/// tensors (absent = not yet created). Every buffer must be finite, and those named in
/// `non_negative` (running means of squares) ≥ 0. Nothing is changed; the caller assigns
/// the result.
struct LoadedState {
    step: u64,
    lr: f32,
    /// One entry per buffer name, in the order asked for.
    buffers: Vec<Buffers>,
}

fn read_state(
    state: &[(String, Tensor)],
    params: &[Var],
    buffer_names: &[&str],
    non_negative: &[&str],
) -> Result<LoadedState, StateError> {
    let mut seen = std::collections::HashSet::new();
    if let Some((name, _)) = state.iter().find(|(n, _)| !seen.insert(n.as_str())) {
        return Err(StateError::Invalid {
            name: name.clone(),
            reason: "it appears twice; a state dict names each entry once".into(),
        });
    }
    let mut step = None;
    let mut lr = None;
    let mut buffers: Vec<Buffers> = vec![vec![None; params.len()]; buffer_names.len()];
    let scalar = |name: &str, t: &Tensor| -> Result<f32, StateError> {
        if t.numel() != 1 {
            return Err(StateError::ShapeMismatch {
                name: name.into(),
                expected: vec![],
                found: t.dims().to_vec(),
            });
        }
        Ok(t.data()[0])
    };
    for (name, t) in state {
        match name.as_str() {
            "step" => {
                let v = scalar(name, t)?;
                if !(v >= 0.0 && v.fract() == 0.0 && v <= MAX_STEP as f32) {
                    return Err(StateError::Invalid {
                        name: name.clone(),
                        reason: format!(
                            "a step count must be a whole number from 0 to {MAX_STEP}, got {v}; \
                             the state was damaged — use an earlier checkpoint"
                        ),
                    });
                }
                step = Some(v as u64);
            }
            "lr" => {
                let v = scalar(name, t)?;
                if !(v.is_finite() && v >= 0.0) {
                    return Err(StateError::Invalid {
                        name: name.clone(),
                        reason: format!("a learning rate must be finite and ≥ 0, got {v}"),
                    });
                }
                lr = Some(v);
            }
            _ => {
                let unexpected = || StateError::Unexpected { name: name.clone() };
                let (index, buf) = name.split_once('.').ok_or_else(unexpected)?;
                let i: usize = index.parse().map_err(|_| unexpected())?;
                let k = buffer_names
                    .iter()
                    .position(|b| *b == buf)
                    .ok_or_else(unexpected)?;
                let p = params.get(i).ok_or_else(unexpected)?;
                let expected = p.dims();
                if t.dims() != expected.as_slice() {
                    return Err(StateError::ShapeMismatch {
                        name: name.clone(),
                        expected,
                        found: t.dims().to_vec(),
                    });
                }
                let must_be_non_negative = non_negative.contains(&buf);
                let bad = t
                    .data()
                    .iter()
                    .position(|v| !v.is_finite() || (must_be_non_negative && *v < 0.0));
                if let Some(at) = bad {
                    let v = t.data()[at];
                    let rule = if must_be_non_negative {
                        "a mean of squared gradients must be finite and ≥ 0"
                    } else {
                        "it must be finite"
                    };
                    return Err(StateError::Invalid {
                        name: name.clone(),
                        reason: format!(
                            "{v} at index {at}; {rule} — the state was saved from a diverged \
                             run or damaged: use an earlier checkpoint"
                        ),
                    });
                }
                buffers[k][i] = Some(t.clone());
            }
        }
    }
    Ok(LoadedState {
        step: step.ok_or(StateError::Missing {
            name: "step".into(),
        })?,
        lr: lr.ok_or(StateError::Missing { name: "lr".into() })?,
        buffers,
    })
}

/// The common part of every state dict: `step`, `lr`, then the buffers that exist.
fn write_state(step: u64, lr: f32, buffers: &[(&str, &Buffers)]) -> Vec<(String, Tensor)> {
    let mut out = vec![
        ("step".to_string(), Tensor::scalar(step as f32)),
        ("lr".to_string(), Tensor::scalar(lr)),
    ];
    for (name, bufs) in buffers {
        for (i, b) in bufs.iter().enumerate() {
            if let Some(t) = b {
                out.push((format!("{i}.{name}"), t.clone()));
            }
        }
    }
    out
}

/// The `f64` a caller meant by an `f32` hyperparameter: the double nearest to its shortest
/// decimal form (`0.9f32` → `0.9`, not `0.899999976…`). Scalars such as 1 − β₁ᵗ are then
/// computed in `f64` from the same values PyTorch's Python floats hold, and rounded once.
pub(crate) fn widen(x: f32) -> f64 {
    format!("{x}").parse().unwrap_or(x as f64)
}

/// Defines an update kernel over slices that runs with the CPU's fused multiply-add
/// instructions when it has them: the body is compiled twice, once for FMA (chosen at run time
/// after checking the CPU) and once plain. Both give the same results — `f32::mul_add` is
/// always exact — but without the instruction each `mul_add` is a library call.
macro_rules! fma_kernel {
    ($(#[$m:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)]
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn with_fma($($arg: $ty),*) {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has FMA, the only feature `with_fma` is compiled for.
                    return unsafe { with_fma($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use fma_kernel;

/// PyTorch's `lerp(start, end, w)` with its rounding: start + w·(end − start) for |w| < 0.5,
/// else end − (end − start)·(1 − w), each as one fused multiply-add. Written with selects
/// rather than a branch so update loops stay vectorised.
#[inline(always)]
pub(crate) fn lerp(start: f32, end: f32, weight: f32) -> f32 {
    let small = weight.abs() < 0.5;
    let coeff = if small { weight } else { 1.0 - weight };
    let (a, base) = if small { (end, start) } else { (start, end) };
    coeff.mul_add(a - base, base)
}

/// Panics with `"{op}: {msg}"` when a hyperparameter is out of range (a programming error,
/// like PyTorch's `ValueError` at construction).
#[track_caller]
pub(crate) fn check(ok: bool, op: &str, msg: impl fmt::Display) {
    if !ok {
        panic!("{op}: {msg}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<Var> {
        vec![
            Var::parameter(Tensor::zeros([2, 3])),
            Var::parameter(Tensor::zeros([3])),
        ]
    }

    #[test]
    fn widen_gives_the_decimal_meant() {
        assert_eq!(widen(0.9), 0.9f64);
        assert_eq!(widen(1e-8), 1e-8f64);
        assert_eq!(widen(0.0), 0.0);
    }

    #[test]
    fn lerp_both_branches() {
        assert_eq!(lerp(1.0, 3.0, 0.25), 1.5);
        assert_eq!(lerp(1.0, 3.0, 0.75), 2.5);
        assert_eq!(lerp(1.0, 3.0, 1.0), 3.0);
    }

    #[test]
    fn write_then_read_round_trips() {
        let bufs: Buffers = vec![None, Some(Tensor::ones([3]))];
        let state = write_state(7, 0.5, &[("exp_avg", &bufs)]);
        let names: Vec<&str> = state.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["step", "lr", "1.exp_avg"]);
        let loaded = read_state(&state, &params(), &["exp_avg"], &[]).unwrap();
        assert_eq!((loaded.step, loaded.lr), (7, 0.5));
        assert!(loaded.buffers[0][0].is_none());
        assert_eq!(loaded.buffers[0][1].as_ref().unwrap(), &Tensor::ones([3]));
    }

    #[test]
    fn errors_name_the_entry() {
        let p = params();
        let mut state = write_state(1, 0.1, &[]);
        state.push(("0.exp_avg".into(), Tensor::zeros([3, 2])));
        let e = read_state(&state, &p, &["exp_avg"], &[]).err().unwrap();
        assert_eq!(
            e,
            StateError::ShapeMismatch {
                name: "0.exp_avg".into(),
                expected: vec![2, 3],
                found: vec![3, 2]
            }
        );
        assert!(e.to_string().contains("`0.exp_avg` has shape [3, 2]"));
        let state = vec![("lr".to_string(), Tensor::scalar(0.1))];
        assert_eq!(
            read_state(&state, &p, &[], &[]).err().unwrap(),
            StateError::Missing {
                name: "step".into()
            }
        );
        let mut state = write_state(1, 0.1, &[]);
        state.push(("2.exp_avg".into(), Tensor::zeros([3])));
        assert_eq!(
            read_state(&state, &p, &["exp_avg"], &[]).err().unwrap(),
            StateError::Unexpected {
                name: "2.exp_avg".into()
            }
        );
        let mut state = write_state(1, 0.1, &[]);
        state.push(("0.square_avg".into(), Tensor::zeros([2, 3])));
        assert!(matches!(
            read_state(&state, &p, &["exp_avg"], &[]),
            Err(StateError::Unexpected { .. })
        ));
        let state = vec![
            ("step".to_string(), Tensor::scalar(1.5)),
            ("lr".to_string(), Tensor::scalar(0.1)),
        ];
        assert!(matches!(
            read_state(&state, &p, &[], &[]),
            Err(StateError::Invalid { .. })
        ));
    }

    #[test]
    fn non_finite_negative_absurd_and_repeated_entries_are_named() {
        let p = params();
        let names = ["exp_avg", "exp_avg_sq"];
        let with = |name: &str, t: Tensor| {
            let mut s = write_state(3, 0.1, &[]);
            s.push((name.to_string(), t));
            s
        };
        let mut bad = Tensor::zeros([3]).to_vec();
        bad[1] = -1.0;
        let e = read_state(
            &with("1.exp_avg_sq", Tensor::from_vec(bad.clone(), [3])),
            &p,
            &names,
            &["exp_avg_sq"],
        )
        .err()
        .unwrap();
        assert!(
            e.to_string()
                .contains("`1.exp_avg_sq` is invalid: -1 at index 1")
                && e.to_string().contains("≥ 0"),
            "{e}"
        );
        // a negative first moment is fine
        assert!(read_state(
            &with("1.exp_avg", Tensor::from_vec(bad, [3])),
            &p,
            &names,
            &["exp_avg_sq"]
        )
        .is_ok());
        for v in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let e = read_state(
                &with("1.exp_avg", Tensor::from_vec(vec![0.0, 0.0, v], [3])),
                &p,
                &names,
                &["exp_avg_sq"],
            )
            .err()
            .unwrap();
            assert!(e.to_string().contains("`1.exp_avg` is invalid"), "{e}");
            assert!(e.to_string().contains("at index 2"), "{e}");
        }
        for step in [-1.0, 2.5, f32::NAN, f32::INFINITY, 1e30] {
            let state = vec![
                ("step".to_string(), Tensor::scalar(step)),
                ("lr".to_string(), Tensor::scalar(0.1)),
            ];
            let e = read_state(&state, &p, &[], &[]).err().unwrap();
            assert!(e.to_string().contains("`step` is invalid"), "{step}: {e}");
        }
        let mut state = write_state(3, 0.1, &[]);
        state.push(("lr".to_string(), Tensor::scalar(0.2)));
        let e = read_state(&state, &p, &[], &[]).err().unwrap();
        assert!(
            e.to_string().contains("`lr` is invalid: it appears twice"),
            "{e}"
        );
    }

    #[test]
    fn update_pieces_are_one_per_thread_in_whole_cache_lines() {
        // the MLP's first layer [128, 784]: on two threads, the halves of its rows
        assert_eq!(piece_for(128 * 784, 2), 64 * 784);
        assert_eq!(piece_for(128 * 784, 1), 128 * 784);
        assert_eq!(piece_for(100_001, 3), 33_344, "rounded up to 16 elements");
        assert_eq!(
            piece_for(20_000, 2),
            UPDATE_PIECE,
            "small: at least UPDATE_PIECE"
        );
        assert_eq!(piece_for(10, 4), UPDATE_PIECE);
    }
}
