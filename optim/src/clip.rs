//! Gradient clipping: [`clip_grad_norm`] (PyTorch's `clip_grad_norm_`) and [`clip_grad_value`]
//! (`clip_grad_value_`). Call them between `backward()` and `step()`.

use autograd::Var;
use tensor::Tensor;

/// Changes `p`'s gradient in place (taking it out first, so the buffer is not shared and
/// nothing is copied).
fn update_grad(p: &Var, f: impl FnOnce(&mut Tensor)) {
    if let Some(mut g) = p.grad() {
        p.set_grad(None);
        f(&mut g);
        p.set_grad(Some(g));
    }
}

/// Scales all gradients together so that their joint L2 norm ‖g‖ = √(Σ‖gᵢ‖²) is at most
/// `max_norm`: each is multiplied by min(1, max_norm / (‖g‖ + 1e-6)), as PyTorch does.
/// Returns ‖g‖ before clipping (handy to log). Parameters without a gradient are skipped.
/// A non-finite norm is returned as is and propagates into the gradients, as PyTorch's default.
pub fn clip_grad_norm(params: &[Var], max_norm: f32) -> f32 {
    let sq: f64 = params
        .iter()
        .filter_map(Var::grad)
        .map(|g| {
            g.data()
                .iter()
                .map(|&v| (v as f64) * (v as f64))
                .sum::<f64>()
        })
        .sum();
    let total = sq.sqrt() as f32;
    let coef = max_norm / (total + 1e-6);
    if coef < 1.0 || !total.is_finite() {
        for p in params {
            update_grad(p, |g| g.mul_scalar_(coef.min(1.0)));
        }
    }
    total
}

/// Clamps every gradient element to [−`clip`, `clip`].
pub fn clip_grad_value(params: &[Var], clip: f32) {
    for p in params {
        update_grad(p, |g| g.map_(|v| v.clamp(-clip, clip)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param_with_grad(g: &[f32]) -> Var {
        let p = Var::parameter(Tensor::zeros([g.len()]));
        p.set_grad(Some(Tensor::from_vec(g.to_vec(), [g.len()])));
        p
    }

    #[test]
    fn norm_is_joint_and_scaling_applies_to_all() {
        let a = param_with_grad(&[3.0]);
        let b = param_with_grad(&[4.0, 0.0]);
        let c = Var::parameter(Tensor::zeros([2])); // no gradient: skipped
        let total = clip_grad_norm(&[a.clone(), b.clone(), c.clone()], 1.0);
        assert_eq!(total, 5.0);
        let coef = 1.0 / (5.0 + 1e-6);
        assert!((a.grad().unwrap().item() - 3.0 * coef).abs() < 1e-6);
        assert!((b.grad().unwrap().to_vec()[0] - 4.0 * coef).abs() < 1e-6);
        assert!(c.grad().is_none());
    }

    #[test]
    fn small_norm_is_untouched() {
        let a = param_with_grad(&[0.3, 0.4]);
        assert!((clip_grad_norm(std::slice::from_ref(&a), 1.0) - 0.5).abs() < 1e-7);
        assert_eq!(a.grad().unwrap().to_vec(), vec![0.3, 0.4]);
    }

    #[test]
    fn empty_and_value_clipping() {
        assert_eq!(clip_grad_norm(&[], 1.0), 0.0);
        let a = param_with_grad(&[-5.0, 0.2, 3.0]);
        clip_grad_value(std::slice::from_ref(&a), 1.0);
        assert_eq!(a.grad().unwrap().to_vec(), vec![-1.0, 0.2, 1.0]);
    }
}
