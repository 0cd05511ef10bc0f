//! [`Sgd`]: stochastic gradient descent with momentum, dampening, Nesterov momentum and weight
//! decay — PyTorch's `torch.optim.SGD`, same update rule and defaults.

use autograd::{no_grad, Var};
use tensor::Tensor;

use crate::optimizer::{check, fma_kernel, update_piece, widen, Optimizer, ParamState, StateError};

/// SGD. For each parameter w with gradient g, at step t:
///
/// ```text
/// g ← g + λ·w                                  (weight decay λ)
/// b ← g                        at the first step (momentum μ ≠ 0)
/// b ← μ·b + (1 − τ)·g          afterwards        (dampening τ)
/// d ← g + μ·b  if Nesterov,  else  d ← b       (d ← g when μ = 0)
/// w ← w − η·d
/// ```
///
/// Defaults as PyTorch: μ = 0, τ = 0, no Nesterov, λ = 0; the learning rate η has no default.
#[doc(alias = "SGD")]
#[derive(Debug)]
pub struct Sgd {
    /// Parameters, η, step count and the `momentum_buffer`s.
    state: ParamState<1>,
    momentum: f32,
    dampening: f32,
    nesterov: bool,
    weight_decay: f32,
}

impl Sgd {
    /// Plain SGD with learning rate `lr` over `params`.
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    #[track_caller]
    pub fn new(params: Vec<Var>, lr: f32) -> Sgd {
        Sgd {
            state: ParamState::new("SGD", params, lr, ["momentum_buffer"], &[]),
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }

    /// With momentum μ ≥ 0.
    #[track_caller]
    pub fn momentum(mut self, momentum: f32) -> Sgd {
        check(
            momentum >= 0.0,
            "SGD",
            format_args!("invalid momentum {momentum}"),
        );
        self.momentum = momentum;
        self
    }

    /// With dampening τ of the momentum.
    pub fn dampening(mut self, dampening: f32) -> Sgd {
        self.dampening = dampening;
        self
    }

    /// With Nesterov momentum (needs μ > 0 and τ = 0, checked at the first step as PyTorch
    /// checks at construction).
    pub fn nesterov(mut self, nesterov: bool) -> Sgd {
        self.nesterov = nesterov;
        self
    }

    /// With L2 weight decay λ ≥ 0 (added to the gradient).
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: f32) -> Sgd {
        check(
            weight_decay >= 0.0,
            "SGD",
            format_args!("invalid weight_decay {weight_decay}"),
        );
        self.weight_decay = weight_decay;
        self
    }
}

impl Optimizer for Sgd {
    #[track_caller]
    fn step(&mut self) {
        check(
            !self.nesterov || (self.momentum > 0.0 && self.dampening == 0.0),
            "SGD",
            "Nesterov momentum requires a momentum and zero dampening",
        );
        let (lr, mu, wd, nesterov) = (
            self.state.lr,
            self.momentum,
            self.weight_decay,
            self.nesterov,
        );
        let keep = (1.0 - widen(self.dampening)) as f32;
        self.state.step += 1;
        let k = SgdStep {
            lr,
            mu,
            keep,
            wd,
            nesterov,
        };
        no_grad(|| {
            let [momentum_buffer] = &mut self.state.buffers;
            for (p, buf) in self.state.params.iter().zip(momentum_buffer) {
                let Some(grad) = p.grad() else { continue };
                let g = grad.data();
                let grad_of = |offset: usize, len: usize| &g[offset..offset + len];
                if mu == 0.0 {
                    p.update_value(|w| {
                        tensor::parallel_pieces(w.data_mut(), update_piece(g.len()), |off, w| {
                            sgd_update(w, grad_of(off, w.len()), None, false, &k)
                        })
                    });
                    continue;
                }
                let first = buf.is_none();
                let b = buf
                    .get_or_insert_with(|| Tensor::zeros(grad.shape()))
                    .data_mut();
                p.update_value(|w| {
                    tensor::parallel_pieces_zip(
                        [w.data_mut(), b],
                        update_piece(g.len()),
                        |off, [w, b]| sgd_update(w, grad_of(off, w.len()), Some(b), first, &k),
                    )
                });
            }
        });
    }

    fn params(&self) -> &[Var] {
        &self.state.params
    }

    fn lr(&self) -> f32 {
        self.state.lr
    }

    fn set_lr(&mut self, lr: f32) {
        self.state.lr = lr;
    }

    fn name(&self) -> &'static str {
        "SGD"
    }

    fn state_dict(&self) -> Vec<(String, Tensor)> {
        self.state.state_dict()
    }

    fn load_state_dict(&mut self, state: &[(String, Tensor)]) -> Result<(), StateError> {
        self.state.load_state_dict(state)
    }
}

/// The scalars of one SGD step.
struct SgdStep {
    lr: f32,
    mu: f32,
    /// 1 − dampening.
    keep: f32,
    wd: f32,
    nesterov: bool,
}

fma_kernel! {
    /// One pass over (w, g[, b]), in place, with fused multiply-adds where PyTorch's kernels
    /// use them (`add(alpha=…)`), for the same rounding. `first`: the momentum buffer is new.
    fn sgd_update(w: &mut [f32], g: &[f32], b: Option<&mut [f32]>, first: bool, k: &SgdStep) {
        match b {
            None => {
                for (w, &g) in w.iter_mut().zip(g) {
                    let g = if k.wd != 0.0 { k.wd.mul_add(*w, g) } else { g };
                    *w = (-k.lr).mul_add(g, *w);
                }
            }
            Some(b) => {
                for ((w, &g), b) in w.iter_mut().zip(g).zip(b.iter_mut()) {
                    let g = if k.wd != 0.0 { k.wd.mul_add(*w, g) } else { g };
                    *b = if first { g } else { k.keep.mul_add(g, *b * k.mu) };
                    let d = if k.nesterov { k.mu.mul_add(*b, g) } else { *b };
                    *w = (-k.lr).mul_add(d, *w);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(v: &[f32], g: &[f32]) -> Var {
        let p = Var::parameter(Tensor::from_vec(v.to_vec(), [v.len()]));
        p.set_grad(Some(Tensor::from_vec(g.to_vec(), [g.len()])));
        p
    }

    #[test]
    fn plain_step_is_w_minus_lr_g() {
        let p = param(&[1.0, 2.0], &[0.5, -1.0]);
        let mut opt = Sgd::new(vec![p.clone()], 0.1);
        opt.step();
        assert_eq!(p.value().to_vec(), vec![0.95, 2.1]);
    }

    #[test]
    fn momentum_dampening_and_weight_decay_by_hand() {
        let p = param(&[1.0], &[1.0]);
        let mut opt = Sgd::new(vec![p.clone()], 0.1)
            .momentum(0.9)
            .dampening(0.5)
            .weight_decay(0.1);
        opt.step();
        // g = 1 + 0.1·1 = 1.1, b = 1.1, w = 1 − 0.11 = 0.89
        assert!((p.value().item() - 0.89).abs() < 1e-7);
        opt.step();
        // g = 1 + 0.089 = 1.089, b = 0.99 + 0.5·1.089 = 1.5345, w = 0.89 − 0.15345
        assert!((p.value().item() - 0.736_55).abs() < 1e-6);
    }

    #[test]
    fn nesterov_by_hand() {
        let p = param(&[0.0], &[1.0]);
        let mut opt = Sgd::new(vec![p.clone()], 1.0).momentum(0.5).nesterov(true);
        opt.step(); // b = 1, d = 1 + 0.5 = 1.5
        assert_eq!(p.value().item(), -1.5);
        opt.step(); // b = 0.5 + 1 = 1.5, d = 1 + 0.75
        assert_eq!(p.value().item(), -3.25);
    }

    #[test]
    fn params_without_grad_are_skipped_and_zero_grad_clears() {
        let a = param(&[1.0], &[1.0]);
        let b = Var::parameter(Tensor::from_vec(vec![5.0], [1]));
        let mut opt = Sgd::new(vec![a.clone(), b.clone()], 0.5).momentum(0.9);
        opt.step();
        assert_eq!(b.value().item(), 5.0);
        assert_eq!(opt.state_dict().len(), 3); // step, lr, 0.momentum_buffer
        opt.zero_grad();
        assert!(a.grad().is_none());
    }

    #[test]
    #[should_panic(expected = "SGD: Nesterov momentum requires a momentum and zero dampening")]
    fn nesterov_without_momentum_panics() {
        Sgd::new(vec![param(&[0.0], &[1.0])], 0.1)
            .nesterov(true)
            .step();
    }

    #[test]
    #[should_panic(expected = "SGD: invalid learning rate -1")]
    fn negative_lr_panics() {
        Sgd::new(vec![], -1.0);
    }
}
