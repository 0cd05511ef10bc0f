//! [`Adam`] (Kingma & Ba 2015) and [`AdamW`] (Loshchilov & Hutter 2019) — PyTorch's
//! `torch.optim.Adam` and `torch.optim.AdamW`, same update rules and defaults.

use autograd::{no_grad, Var};
use tensor::Tensor;

use crate::optimizer::{
    check, fma_kernel, lerp, update_piece, widen, Optimizer, ParamState, StateError,
};

/// Adam. For each parameter w with gradient g, at step t (from 1):
///
/// ```text
/// g ← g + λ·w                         (L2 weight decay λ; AdamW instead does w ← w·(1 − η·λ))
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// v̂ ← max(v̂, v) if AMSGrad, else v̂ = v
/// w ← w − (η / (1 − β₁ᵗ)) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
/// ```
///
/// Defaults as PyTorch: η = 1e-3 ([`Adam::DEFAULT_LR`]), β = (0.9, 0.999), ε = 1e-8, λ = 0,
/// no AMSGrad. The update is one fused pass over (w, g, m, v), in place.
#[derive(Debug)]
pub struct Adam {
    /// Parameters, η, step count and the `exp_avg`, `exp_avg_sq` and (AMSGrad)
    /// `max_exp_avg_sq` buffers.
    state: ParamState<3>,
    betas: (f32, f32),
    eps: f32,
    weight_decay: f32,
    amsgrad: bool,
    /// AdamW's decoupled decay instead of the L2 term.
    decoupled: bool,
}

impl Adam {
    /// PyTorch's default learning rate, 1e-3.
    pub const DEFAULT_LR: f32 = 1e-3;

    /// Adam with learning rate `lr` over `params` and PyTorch's other defaults.
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    #[track_caller]
    pub fn new(params: Vec<Var>, lr: f32) -> Adam {
        let buffers = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];
        Adam {
            state: ParamState::new(
                "Adam",
                params,
                lr,
                buffers,
                &["exp_avg_sq", "max_exp_avg_sq"],
            ),
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled: false,
        }
    }

    /// With other moment decay rates, each in [0, 1).
    #[track_caller]
    pub fn betas(mut self, beta1: f32, beta2: f32) -> Adam {
        check(
            (0.0..1.0).contains(&beta1) && (0.0..1.0).contains(&beta2),
            self.name(),
            format_args!("invalid betas ({beta1}, {beta2}): each must be in [0, 1)"),
        );
        self.betas = (beta1, beta2);
        self
    }

    /// With another ε ≥ 0 (added to the denominator for stability).
    #[track_caller]
    pub fn eps(mut self, eps: f32) -> Adam {
        check(eps >= 0.0, self.name(), format_args!("invalid eps {eps}"));
        self.eps = eps;
        self
    }

    /// With weight decay λ ≥ 0 (L2 for Adam, decoupled for AdamW).
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: f32) -> Adam {
        check(
            weight_decay >= 0.0,
            self.name(),
            format_args!("invalid weight_decay {weight_decay}"),
        );
        self.weight_decay = weight_decay;
        self
    }

    /// With or without AMSGrad (the running maximum of v in the denominator).
    pub fn amsgrad(mut self, amsgrad: bool) -> Adam {
        self.amsgrad = amsgrad;
        self
    }
}

impl Optimizer for Adam {
    fn step(&mut self) {
        self.state.step += 1;
        let t = self.state.step as f64;
        let (b1, b2) = (widen(self.betas.0), widen(self.betas.1));
        // Scalars in f64 then rounded once, as PyTorch computes them in Python floats.
        let step_size = (widen(self.state.lr) / (1.0 - b1.powf(t))) as f32;
        let bc2_sqrt = (1.0 - b2.powf(t)).sqrt() as f32;
        let (one_m_b1, one_m_b2) = ((1.0 - b1) as f32, (1.0 - b2) as f32);
        let b2f = self.betas.1;
        let (eps, wd, amsgrad) = (self.eps, self.weight_decay, self.amsgrad);
        let (l2, decay) = if self.decoupled {
            (0.0, (1.0 - widen(self.state.lr) * widen(wd)) as f32)
        } else {
            (wd, 1.0)
        };
        let k = AdamStep {
            step_size,
            bc2_sqrt,
            one_m_b1,
            one_m_b2,
            b2: b2f,
            eps,
            l2,
            decay,
        };
        no_grad(|| {
            let [exp_avg, exp_avg_sq, max_exp_avg_sq] = &mut self.state.buffers;
            for (i, p) in self.state.params.iter().enumerate() {
                let Some(grad) = p.grad() else { continue };
                let zeros = || Tensor::zeros(grad.shape());
                let m = exp_avg[i].get_or_insert_with(zeros).data_mut();
                let v = exp_avg_sq[i].get_or_insert_with(zeros).data_mut();
                let vmax = amsgrad.then(|| max_exp_avg_sq[i].get_or_insert_with(zeros).data_mut());
                let g = grad.data();
                let grad_of = |offset: usize, len: usize| &g[offset..offset + len];
                let piece = update_piece(g.len());
                p.update_value(|w| match vmax {
                    None => tensor::parallel_pieces_zip(
                        [w.data_mut(), m, v],
                        piece,
                        |off, [w, m, v]| adam_update(w, grad_of(off, w.len()), m, v, None, &k),
                    ),
                    Some(vmax) => tensor::parallel_pieces_zip(
                        [w.data_mut(), m, v, vmax],
                        piece,
                        |off, [w, m, v, vmax]| {
                            adam_update(w, grad_of(off, w.len()), m, v, Some(vmax), &k)
                        },
                    ),
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
        if self.decoupled {
            "AdamW"
        } else {
            "Adam"
        }
    }

    fn state_dict(&self) -> Vec<(String, Tensor)> {
        self.state.state_dict()
    }

    fn load_state_dict(&mut self, state: &[(String, Tensor)]) -> Result<(), StateError> {
        self.state.load_state_dict(state)
    }
}

/// The scalars of one Adam step, computed once per step.
struct AdamStep {
    step_size: f32,
    bc2_sqrt: f32,
    one_m_b1: f32,
    one_m_b2: f32,
    b2: f32,
    eps: f32,
    /// L2 weight decay added to the gradient (Adam), or 0.
    l2: f32,
    /// Factor applied to the weights first (AdamW), or 1.
    decay: f32,
}

/// One element of an Adam step; `vmax` for AMSGrad.
#[inline(always)]
fn adam_element(
    w: &mut f32,
    g: f32,
    m: &mut f32,
    v: &mut f32,
    vmax: Option<&mut f32>,
    k: &AdamStep,
) {
    let g = if k.l2 != 0.0 { k.l2.mul_add(*w, g) } else { g };
    *m = lerp(*m, g, k.one_m_b1);
    *v = (k.one_m_b2 * g).mul_add(g, *v * k.b2);
    let vj = match vmax {
        Some(vmax) => {
            *vmax = vmax.max(*v);
            *vmax
        }
        None => *v,
    };
    let denom = vj.sqrt() / k.bc2_sqrt + k.eps;
    *w += -k.step_size * *m / denom;
}

fma_kernel! {
    /// One fused pass over (w, g, m, v[, v̂]), in place (after AdamW's decay pass), with fused
    /// multiply-adds where PyTorch's kernels use them (g + λ·w, the lerp, v·β₂ + (1 − β₂)·g·g)
    /// for the same rounding.
    fn adam_update(
        w: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        vmax: Option<&mut [f32]>,
        k: &AdamStep,
    ) {
        if k.decay != 1.0 {
            for w in w.iter_mut() {
                *w *= k.decay;
            }
        }
        let wgmv = w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut());
        match vmax {
            None => {
                for (((w, &g), m), v) in wgmv {
                    adam_element(w, g, m, v, None, k);
                }
            }
            Some(vmax) => {
                for ((((w, &g), m), v), vmax) in wgmv.zip(vmax.iter_mut()) {
                    adam_element(w, g, m, v, Some(vmax), k);
                }
            }
        }
    }
}

/// AdamW: Adam with decoupled weight decay — each step first shrinks the weights,
/// w ← w·(1 − η·λ), then applies Adam's update without an L2 term (see [`Adam`]).
///
/// Defaults as PyTorch: η = 1e-3, β = (0.9, 0.999), ε = 1e-8, λ = 0.01
/// ([`AdamW::DEFAULT_WEIGHT_DECAY`]), no AMSGrad.
#[derive(Debug)]
pub struct AdamW(Adam);

impl AdamW {
    /// PyTorch's default weight decay for AdamW, 0.01.
    pub const DEFAULT_WEIGHT_DECAY: f32 = 0.01;

    /// AdamW with learning rate `lr` over `params` and PyTorch's other defaults.
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    #[track_caller]
    pub fn new(params: Vec<Var>, lr: f32) -> AdamW {
        let mut adam = Adam::new(params, lr);
        adam.decoupled = true;
        adam.weight_decay = AdamW::DEFAULT_WEIGHT_DECAY;
        AdamW(adam)
    }

    /// With other moment decay rates, each in [0, 1).
    #[track_caller]
    pub fn betas(self, beta1: f32, beta2: f32) -> AdamW {
        AdamW(self.0.betas(beta1, beta2))
    }

    /// With another ε ≥ 0.
    #[track_caller]
    pub fn eps(self, eps: f32) -> AdamW {
        AdamW(self.0.eps(eps))
    }

    /// With another decoupled weight decay λ ≥ 0.
    #[track_caller]
    pub fn weight_decay(self, weight_decay: f32) -> AdamW {
        AdamW(self.0.weight_decay(weight_decay))
    }

    /// With or without AMSGrad.
    pub fn amsgrad(self, amsgrad: bool) -> AdamW {
        AdamW(self.0.amsgrad(amsgrad))
    }
}

impl Optimizer for AdamW {
    fn step(&mut self) {
        self.0.step()
    }
    fn params(&self) -> &[Var] {
        self.0.params()
    }
    fn lr(&self) -> f32 {
        self.0.lr()
    }
    fn set_lr(&mut self, lr: f32) {
        self.0.set_lr(lr)
    }
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn state_dict(&self) -> Vec<(String, Tensor)> {
        self.0.state_dict()
    }
    fn load_state_dict(&mut self, state: &[(String, Tensor)]) -> Result<(), StateError> {
        self.0.load_state_dict(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(v: f32, g: f32) -> Var {
        let p = Var::parameter(Tensor::from_vec(vec![v], [1]));
        p.set_grad(Some(Tensor::from_vec(vec![g], [1])));
        p
    }

    #[test]
    fn first_step_moves_by_lr_times_sign() {
        // m̂ = g, v̂ = g², so the step is η·g/(|g| + ε) ≈ η·sign(g), whatever |g|.
        for g in [0.5, 5.0, -20.0] {
            let p = param(1.0, g);
            let mut opt = Adam::new(vec![p.clone()], 0.1);
            opt.step();
            let expect = 1.0 - 0.1 * g.signum();
            assert!((p.value().item() - expect).abs() < 1e-6, "{g}");
        }
    }

    #[test]
    fn second_step_by_hand() {
        let p = param(0.0, 1.0);
        let mut opt = Adam::new(vec![p.clone()], 0.01);
        opt.step();
        p.set_grad(Some(Tensor::from_vec(vec![2.0], [1])));
        opt.step();
        // m = 0.09·1... : m₁ = 0.1, m₂ = 0.09 + 0.2 = 0.29; v₁ = 0.001, v₂ = 0.000999 + 0.004
        let (m, v) = (0.29f64, 0.000_999f64 + 0.004);
        let m_hat = m / (1.0 - 0.81);
        let v_hat = v / (1.0 - 0.999f64.powi(2));
        let expect = -0.01 - 0.01 * m_hat / (v_hat.sqrt() + 1e-8);
        assert!((p.value().item() as f64 - expect).abs() < 1e-6);
    }

    #[test]
    fn adamw_decays_before_the_update_and_adam_adds_l2() {
        let p = param(2.0, 0.0);
        let mut opt = AdamW::new(vec![p.clone()], 0.1).weight_decay(0.5);
        opt.step();
        // zero gradient: only the decay acts, w = 2·(1 − 0.05)
        assert!((p.value().item() - 1.9).abs() < 1e-6);
        assert_eq!(opt.name(), "AdamW");
        let q = param(2.0, 0.0);
        let mut opt = Adam::new(vec![q.clone()], 0.1).weight_decay(0.5);
        opt.step();
        // g = 0 + 0.5·2 = 1 → a first step of −η
        assert!((q.value().item() - 1.9).abs() < 1e-6);
    }

    #[test]
    fn amsgrad_keeps_the_largest_second_moment() {
        let p = param(0.0, 10.0);
        let mut opt = Adam::new(vec![p.clone()], 0.1).amsgrad(true);
        opt.step();
        p.set_grad(Some(Tensor::from_vec(vec![0.0], [1])));
        opt.step();
        let state = opt.state_dict();
        let get = |n: &str| state.iter().find(|(k, _)| k == n).unwrap().1.item();
        assert!(get("0.max_exp_avg_sq") >= get("0.exp_avg_sq"));
        assert_eq!(get("step"), 2.0);
    }

    #[test]
    fn defaults_match_pytorch() {
        let a = Adam::new(vec![], Adam::DEFAULT_LR);
        assert_eq!(
            (a.state.lr, a.betas, a.eps, a.weight_decay),
            (1e-3, (0.9, 0.999), 1e-8, 0.0)
        );
        let w = AdamW::new(vec![], Adam::DEFAULT_LR);
        assert_eq!(w.0.weight_decay, 0.01);
    }

    #[test]
    #[should_panic(expected = "Adam: invalid betas (0.9, 1): each must be in [0, 1)")]
    fn bad_beta_panics() {
        Adam::new(vec![], 0.1).betas(0.9, 1.0);
    }

    #[test]
    fn large_parameters_update_in_pieces_the_same_on_any_thread_count() {
        // one piece on one thread, two (16,448 and 16,443 elements) on two; AMSGrad for the
        // fourth buffer; against a one-element reference run of the same numbers (the update
        // is elementwise), at both ends of each piece.
        let n = 2 * crate::optimizer::UPDATE_PIECE + 123;
        let value = |i: usize| ((i * 37) % 101) as f32 / 50.0 - 1.0;
        let grad = |i: usize, t: usize| ((i * 53 + t * 7) % 97) as f32 / 40.0 - 1.2;
        let run = |threads: usize| {
            tensor::set_num_threads(threads);
            let p = Var::parameter(Tensor::from_vec((0..n).map(value).collect(), [n]));
            let mut opt = Adam::new(vec![p.clone()], 0.01)
                .amsgrad(true)
                .weight_decay(0.1);
            for t in 0..3 {
                p.set_grad(Some(Tensor::from_vec(
                    (0..n).map(|i| grad(i, t)).collect(),
                    [n],
                )));
                opt.step();
            }
            p.value().to_vec()
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one, two);
        for i in [0, 1, 16_447, 16_448, n - 1] {
            let q = param(value(i), 0.0);
            let mut opt = Adam::new(vec![q.clone()], 0.01)
                .amsgrad(true)
                .weight_decay(0.1);
            for t in 0..3 {
                q.set_grad(Some(Tensor::from_vec(vec![grad(i, t)], [1])));
                opt.step();
            }
            assert_eq!(q.item(), one[i], "element {i}");
        }
    }
}
