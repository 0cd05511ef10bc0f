//! [`RmsProp`] (Hinton's lecture 6e; Graves 2013 for the centred form) — PyTorch's
//! `torch.optim.RMSprop`, same update rule and defaults.

use autograd::{no_grad, Var};
use tensor::Tensor;

use crate::optimizer::{check, fma_kernel, lerp, widen, Optimizer, ParamState, StateError};

/// RMSprop. For each parameter w with gradient g:
///
/// ```text
/// g ← g + λ·w                                   (weight decay λ)
/// s ← α·s + (1 − α)·g²
/// ḡ ← α·ḡ + (1 − α)·g,  a ← √(s − ḡ²) + ε        if centred
/// a ← √s + ε                                    otherwise
/// b ← μ·b + g/a,  w ← w − η·b                   with momentum μ > 0
/// w ← w − η·g/a                                 otherwise
/// ```
///
/// Defaults as PyTorch: η = 0.01 ([`RmsProp::DEFAULT_LR`]), α = 0.99, ε = 1e-8, λ = 0, μ = 0,
/// not centred. The buffers start at zero.
#[doc(alias = "RMSprop")]
#[derive(Debug)]
pub struct RmsProp {
    /// Parameters, η, step count and the `square_avg`, (centered) `grad_avg` and (with
    /// momentum) `momentum_buffer` buffers.
    state: ParamState<3>,
    alpha: f32,
    eps: f32,
    weight_decay: f32,
    momentum: f32,
    centered: bool,
}

impl RmsProp {
    /// PyTorch's default learning rate, 0.01.
    pub const DEFAULT_LR: f32 = 0.01;

    /// RMSprop with learning rate `lr` over `params` and PyTorch's other defaults.
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    #[track_caller]
    pub fn new(params: Vec<Var>, lr: f32) -> RmsProp {
        let buffers = ["square_avg", "grad_avg", "momentum_buffer"];
        RmsProp {
            state: ParamState::new("RMSprop", params, lr, buffers, &["square_avg"]),
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }

    /// With another smoothing constant α ∈ [0, 1].
    #[track_caller]
    pub fn alpha(mut self, alpha: f32) -> RmsProp {
        check(
            (0.0..=1.0).contains(&alpha),
            "RMSprop",
            format_args!("invalid alpha {alpha}"),
        );
        self.alpha = alpha;
        self
    }

    /// With another ε ≥ 0.
    #[track_caller]
    pub fn eps(mut self, eps: f32) -> RmsProp {
        check(eps >= 0.0, "RMSprop", format_args!("invalid eps {eps}"));
        self.eps = eps;
        self
    }

    /// With L2 weight decay λ ≥ 0.
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: f32) -> RmsProp {
        check(
            weight_decay >= 0.0,
            "RMSprop",
            format_args!("invalid weight_decay {weight_decay}"),
        );
        self.weight_decay = weight_decay;
        self
    }

    /// With momentum μ ≥ 0.
    #[track_caller]
    pub fn momentum(mut self, momentum: f32) -> RmsProp {
        check(
            momentum >= 0.0,
            "RMSprop",
            format_args!("invalid momentum {momentum}"),
        );
        self.momentum = momentum;
        self
    }

    /// Centred (normalise by an estimate of the variance rather than the second moment).
    pub fn centered(mut self, centered: bool) -> RmsProp {
        self.centered = centered;
        self
    }
}

impl Optimizer for RmsProp {
    fn step(&mut self) {
        self.state.step += 1;
        let (lr, alpha, eps, wd, mu) = (
            self.state.lr,
            self.alpha,
            self.eps,
            self.weight_decay,
            self.momentum,
        );
        let one_m_alpha = (1.0 - widen(alpha)) as f32;
        let centered = self.centered;
        let k = RmsStep {
            lr,
            alpha,
            one_m_alpha,
            eps,
            wd,
            mu,
        };
        no_grad(|| {
            let [square_avg, grad_avg, momentum_buffer] = &mut self.state.buffers;
            for (i, p) in self.state.params.iter().enumerate() {
                let Some(grad) = p.grad() else { continue };
                let zeros = || Tensor::zeros(grad.shape());
                let s = square_avg[i].get_or_insert_with(zeros).data_mut();
                let ga = centered.then(|| grad_avg[i].get_or_insert_with(zeros).data_mut());
                let b = (mu > 0.0).then(|| momentum_buffer[i].get_or_insert_with(zeros).data_mut());
                p.update_value(|w| rmsprop_update(w.data_mut(), grad.data(), s, ga, b, &k));
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
        "RMSprop"
    }

    fn state_dict(&self) -> Vec<(String, Tensor)> {
        self.state.state_dict()
    }

    fn load_state_dict(&mut self, state: &[(String, Tensor)]) -> Result<(), StateError> {
        self.state.load_state_dict(state)
    }
}

/// The scalars of one RMSprop step.
struct RmsStep {
    lr: f32,
    alpha: f32,
    one_m_alpha: f32,
    eps: f32,
    wd: f32,
    mu: f32,
}

/// The RMSprop loop for one combination of options (constants, so each loop is branch-free
/// and vectorises); `ga` and `b` are empty when unused.
#[inline(always)]
fn rmsprop_loop<const CENTERED: bool, const MOMENTUM: bool>(
    w: &mut [f32],
    g: &[f32],
    s: &mut [f32],
    ga: &mut [f32],
    b: &mut [f32],
    k: &RmsStep,
) {
    let n = w.len();
    let (g, s) = (&g[..n], &mut s[..n]);
    let ga = if CENTERED { &mut ga[..n] } else { ga };
    let b = if MOMENTUM { &mut b[..n] } else { b };
    for j in 0..n {
        let gj = if k.wd != 0.0 {
            k.wd.mul_add(w[j], g[j])
        } else {
            g[j]
        };
        s[j] = (k.one_m_alpha * gj).mul_add(gj, s[j] * k.alpha);
        let a = if CENTERED {
            ga[j] = lerp(ga[j], gj, k.one_m_alpha);
            (-ga[j]).mul_add(ga[j], s[j]).sqrt() + k.eps
        } else {
            s[j].sqrt() + k.eps
        };
        if MOMENTUM {
            b[j] = b[j] * k.mu + gj / a;
            w[j] = (-k.lr).mul_add(b[j], w[j]);
        } else {
            w[j] += -k.lr * gj / a;
        }
    }
}

fma_kernel! {
    /// One fused pass over (w, g, s[, ḡ][, b]), in place, with fused multiply-adds where
    /// PyTorch's kernels use them, for the same rounding.
    fn rmsprop_update(
        w: &mut [f32],
        g: &[f32],
        s: &mut [f32],
        ga: Option<&mut [f32]>,
        b: Option<&mut [f32]>,
        k: &RmsStep,
    ) {
        match (ga, b) {
            (None, None) => rmsprop_loop::<false, false>(w, g, s, &mut [], &mut [], k),
            (Some(ga), None) => rmsprop_loop::<true, false>(w, g, s, ga, &mut [], k),
            (None, Some(b)) => rmsprop_loop::<false, true>(w, g, s, &mut [], b, k),
            (Some(ga), Some(b)) => rmsprop_loop::<true, true>(w, g, s, ga, b, k),
        }
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
    fn first_step_by_hand() {
        // s = 0.01·g², step = η·g/(√s + ε) = η·g/(0.1·|g|) = 10·η·sign(g)
        let p = param(1.0, 4.0);
        let mut opt = RmsProp::new(vec![p.clone()], 0.01);
        opt.step();
        assert!((p.value().item() - 0.9).abs() < 1e-6);
    }

    #[test]
    fn centred_with_momentum_by_hand() {
        let p = param(0.0, 2.0);
        let mut opt = RmsProp::new(vec![p.clone()], 0.1)
            .alpha(0.5)
            .centered(true)
            .momentum(0.5);
        opt.step();
        // s = 0.5·4 = 2, ḡ = 1, a = √(2 − 1) = 1, b = 2, w = −0.2
        assert!((p.value().item() + 0.2).abs() < 1e-6);
        opt.step();
        // s = 1 + 2 = 3, ḡ = 0.5 + 1 = 1.5, a = √0.75, b = 1 + 2/√0.75
        let b = 1.0 + 2.0 / 0.75f32.sqrt();
        assert!((p.value().item() - (-0.2 - 0.1 * b)).abs() < 1e-6);
    }

    #[test]
    fn state_names_follow_pytorch() {
        let p = param(0.0, 1.0);
        let mut opt = RmsProp::new(vec![p], RmsProp::DEFAULT_LR).centered(true);
        opt.step();
        let names: Vec<String> = opt.state_dict().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["step", "lr", "0.square_avg", "0.grad_avg"]);
    }
}
