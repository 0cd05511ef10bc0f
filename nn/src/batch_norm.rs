//! [`BatchNorm1d`] and [`BatchNorm2d`]: batch normalisation (Ioffe & Szegedy 2015), PyTorch's
//! `nn.BatchNorm1d` / `nn.BatchNorm2d`.
//!
//! Per channel c, over the batch (and the length or the pixels):
//! y = (x − μ_c) / √(σ²_c + ε) · γ_c + β_c.
//! In training μ and σ² are the batch's (σ² biased) and the running statistics move towards
//! them: r ← (1 − m)·r + m·batch, with the *unbiased* variance for `running_var` (PyTorch's
//! rule). In evaluation the running statistics are used. The forward is composed from `Var`
//! ops, so its backward is exact by construction.

use std::cell::Cell;

use autograd::{no_grad, Var};
use tensor::{shape_panic, Tensor};

use crate::module::{format_float, impl_display_via_module, join_name, Module};

/// The shared machinery of [`BatchNorm1d`] and [`BatchNorm2d`].
struct BatchNorm {
    name: &'static str,
    /// The ranks the input may have: `[2, 3]` for 1d, `[4]` for 2d.
    ranks: &'static [usize],
    num_features: usize,
    eps: f32,
    /// `None`: cumulative average over all batches seen (PyTorch's `momentum=None`).
    momentum: Option<f32>,
    weight: Option<Var>,
    bias: Option<Var>,
    running_mean: Option<Var>,
    running_var: Option<Var>,
    num_batches_tracked: Option<Var>,
    training: Cell<bool>,
}

impl BatchNorm {
    fn new(name: &'static str, ranks: &'static [usize], num_features: usize) -> BatchNorm {
        let c = num_features;
        BatchNorm {
            name,
            ranks,
            num_features,
            eps: 1e-5,
            momentum: Some(0.1),
            weight: Some(Var::parameter(Tensor::ones([c]))),
            bias: Some(Var::parameter(Tensor::zeros([c]))),
            running_mean: Some(Var::constant(Tensor::zeros([c]))),
            running_var: Some(Var::constant(Tensor::ones([c]))),
            num_batches_tracked: Some(Var::constant(Tensor::scalar(0.0))),
            training: Cell::new(true),
        }
    }

    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        let dims = x.dims();
        if !self.ranks.contains(&dims.len()) || dims[1] != self.num_features {
            let want = if self.ranks.len() == 2 {
                format!("[N, {0}] or [N, {0}, L]", self.num_features)
            } else {
                format!("[N, {}, H, W]", self.num_features)
            };
            shape_panic(
                self.name,
                format_args!("expected input {want}, got {dims:?}"),
            );
        }
        // Per-channel values broadcast against x as [1, C, 1, …].
        let mut cshape = vec![1; dims.len()];
        cshape[1] = self.num_features;
        let use_batch = self.training.get() || self.running_mean.is_none();
        let xhat = if use_batch {
            let count = dims.iter().product::<usize>() / self.num_features;
            if self.training.get() && count <= 1 {
                shape_panic(
                    self.name,
                    format_args!(
                        "expected more than 1 value per channel when training, got input {dims:?}"
                    ),
                );
            }
            let mean = reduce_mean(x, dims.len());
            let centred = x - &mean;
            let var = reduce_mean(&(&centred * &centred), dims.len());
            if self.training.get() {
                self.update_running(&mean.value(), &var.value(), count);
            }
            &centred / &var.add_scalar(self.eps).sqrt()
        } else {
            let rm = self.running_mean.as_ref().expect("tracked").value();
            let rv = self.running_var.as_ref().expect("tracked").value();
            let mean = Var::constant(rm.reshape(cshape.clone()));
            let std = Var::constant(rv.add_scalar(self.eps).sqrt().reshape(cshape.clone()));
            &(x - &mean) / &std
        };
        match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => &(&xhat * &w.reshape(cshape.clone())) + &b.reshape(cshape),
            _ => xhat,
        }
    }

    /// r ← (1 − m)·r + m·batch for the mean and the unbiased variance.
    fn update_running(&self, mean: &Tensor, var: &Tensor, count: usize) {
        let (Some(rm), Some(rv), Some(nb)) = (
            &self.running_mean,
            &self.running_var,
            &self.num_batches_tracked,
        ) else {
            return;
        };
        no_grad(|| {
            nb.update_value(|t| t.map_(|v| v + 1.0));
            let m = match self.momentum {
                Some(m) => m,
                None => 1.0 / nb.value().item(),
            };
            let unbiased = count as f32 / (count - 1) as f32;
            let c = [self.num_features];
            let mean = mean.reshape(c);
            let var = var.reshape(c);
            rm.update_value(|r| r.zip_map_(&mean, |r, b| (1.0 - m) * r + m * b));
            rv.update_value(|r| r.zip_map_(&var, |r, b| (1.0 - m) * r + m * b * unbiased));
        });
    }

    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
        if let (Some(w), Some(b)) = (&self.weight, &self.bias) {
            f(&join_name(prefix, "weight"), w);
            f(&join_name(prefix, "bias"), b);
        }
    }

    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
        if let (Some(rm), Some(rv), Some(nb)) = (
            &self.running_mean,
            &self.running_var,
            &self.num_batches_tracked,
        ) {
            f(&join_name(prefix, "running_mean"), rm);
            f(&join_name(prefix, "running_var"), rv);
            f(&join_name(prefix, "num_batches_tracked"), nb);
        }
    }

    fn describe(&self) -> String {
        let py = |b: bool| if b { "True" } else { "False" };
        let momentum = self.momentum.map_or("None".to_string(), format_float);
        format!(
            "{}({}, eps={}, momentum={}, affine={}, track_running_stats={})",
            self.name,
            self.num_features,
            format_float(self.eps),
            momentum,
            py(self.weight.is_some()),
            py(self.running_mean.is_some())
        )
    }
}

/// The mean over every axis but 1, kept as `[1, C, 1, …]`.
fn reduce_mean(x: &Var, rank: usize) -> Var {
    let mut m = x.mean(0, true);
    for axis in 2..rank {
        m = m.mean(axis, true);
    }
    m
}

macro_rules! batch_norm_type {
    ($(#[$doc:meta])* $name:ident, $label:literal, $ranks:expr) => {
        $(#[$doc])*
        pub struct $name(BatchNorm);

        impl $name {
            /// Batch normalisation over `num_features` channels with PyTorch's defaults:
            /// ε = 1e-5, momentum 0.1, learnable γ (ones) and β (zeros), running statistics
            /// (mean zeros, variance ones).
            pub fn new(num_features: usize) -> $name {
                $name(BatchNorm::new($label, $ranks, num_features))
            }

            /// The same with another ε.
            pub fn eps(mut self, eps: f32) -> $name {
                self.0.eps = eps;
                self
            }

            /// The same with another momentum; `None` averages all batches equally
            /// (PyTorch's `momentum=None`).
            pub fn momentum(mut self, momentum: Option<f32>) -> $name {
                self.0.momentum = momentum;
                self
            }

            /// Without learnable γ and β (`affine=False`).
            pub fn without_affine(mut self) -> $name {
                self.0.weight = None;
                self.0.bias = None;
                self
            }

            /// Without running statistics (`track_running_stats=False`): batch statistics are
            /// used in evaluation too.
            pub fn without_running_stats(mut self) -> $name {
                self.0.running_mean = None;
                self.0.running_var = None;
                self.0.num_batches_tracked = None;
                self
            }

            /// γ, if the layer is affine.
            pub fn weight(&self) -> Option<&Var> {
                self.0.weight.as_ref()
            }

            /// β, if the layer is affine.
            pub fn bias(&self) -> Option<&Var> {
                self.0.bias.as_ref()
            }

            /// The running mean, if tracked.
            pub fn running_mean(&self) -> Option<Tensor> {
                self.0.running_mean.as_ref().map(Var::value)
            }

            /// The running (unbiased) variance, if tracked.
            pub fn running_var(&self) -> Option<Tensor> {
                self.0.running_var.as_ref().map(Var::value)
            }

            /// How many training batches have updated the running statistics.
            pub fn num_batches_tracked(&self) -> usize {
                self.0
                    .num_batches_tracked
                    .as_ref()
                    .map_or(0, |v| v.value().item() as usize)
            }
        }

        impl Module for $name {
            #[track_caller]
            fn forward(&self, x: &Var) -> Var {
                self.0.forward(x)
            }
            fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
                self.0.visit_params(prefix, f)
            }
            fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
                self.0.visit_buffers(prefix, f)
            }
            fn describe(&self) -> String {
                self.0.describe()
            }
            fn set_training(&self, training: bool) {
                self.0.training.set(training);
            }
            fn is_training(&self) -> bool {
                self.0.training.get()
            }
        }

        impl_display_via_module!($name);
    };
}

batch_norm_type!(
    /// Batch normalisation of features: input `[N, C]` or `[N, C, L]`, normalised per channel
    /// over N (and L). See the [module docs](self) for the formulas.
    ///
    /// # Shapes
    /// input `[N, C]` or `[N, C, L]` → output of the same shape.
    BatchNorm1d,
    "BatchNorm1d",
    &[2, 3]
);

batch_norm_type!(
    /// Batch normalisation of images: input `[N, C, H, W]`, normalised per channel over N, H
    /// and W. See the [module docs](self) for the formulas.
    ///
    /// # Shapes
    /// input `[N, C, H, W]` → output of the same shape.
    BatchNorm2d,
    "BatchNorm2d",
    &[4]
);

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::gradcheck;

    fn batch() -> Tensor {
        // two channels over a batch of 4
        Tensor::from_vec(vec![1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 6.0, 40.0], [4, 2])
    }

    #[test]
    fn training_normalises_each_channel() {
        let bn = BatchNorm1d::new(2);
        let y = bn.forward(&Var::constant(batch())).value();
        for c in 0..2 {
            let col: Vec<f32> = (0..4).map(|i| y.get(&[i, c])).collect();
            let mean: f32 = col.iter().sum::<f32>() / 4.0;
            let var: f32 = col.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 4.0;
            assert!(mean.abs() < 1e-6);
            // var of x̂ is σ²/(σ² + ε)
            assert!((var - 1.0).abs() < 1e-4, "{var}");
        }
        // channel 0 = [1, 2, 3, 6]: mean 3, biased var 3.5 → first x̂ = −2/√3.50001
        assert!((y.get(&[0, 0]) + 2.0 / 3.500_01f32.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn running_stats_follow_pytorch_rule() {
        let bn = BatchNorm1d::new(2);
        bn.forward(&Var::constant(batch()));
        // channel 0: mean 3, unbiased var 14/3; channel 1: mean 25, unbiased var 500/3
        let rm = bn.running_mean().unwrap().to_vec();
        let rv = bn.running_var().unwrap().to_vec();
        assert!((rm[0] - 0.3).abs() < 1e-6 && (rm[1] - 2.5).abs() < 1e-5);
        assert!((rv[0] - (0.9 + 0.1 * 14.0 / 3.0)).abs() < 1e-5);
        assert!((rv[1] - (0.9 + 0.1 * 500.0 / 3.0)).abs() < 1e-4);
        assert_eq!(bn.num_batches_tracked(), 1);
        bn.forward(&Var::constant(batch()));
        assert!((bn.running_mean().unwrap().to_vec()[0] - (0.9 * 0.3 + 0.3)).abs() < 1e-6);
        assert_eq!(bn.num_batches_tracked(), 2);
    }

    #[test]
    fn cumulative_average_when_momentum_is_none() {
        let bn = BatchNorm1d::new(1).momentum(None);
        let a = Tensor::from_vec(vec![0.0, 2.0], [2, 1]);
        let b = Tensor::from_vec(vec![4.0, 6.0], [2, 1]);
        bn.forward(&Var::constant(a));
        bn.forward(&Var::constant(b));
        // mean of the batch means 1 and 5
        assert!((bn.running_mean().unwrap().item() - 3.0).abs() < 1e-6);
        // unbiased variances 2 and 2
        assert!((bn.running_var().unwrap().item() - 2.0).abs() < 1e-6);
    }

    #[test]
    fn eval_uses_running_stats_and_leaves_them() {
        let bn = BatchNorm1d::new(2);
        bn.forward(&Var::constant(batch()));
        let rm = bn.running_mean().unwrap();
        let rv = bn.running_var().unwrap();
        bn.eval();
        let x = Tensor::from_vec(vec![1.0, 1.0], [1, 2]);
        let y = bn.forward(&Var::constant(x)).value();
        for c in 0..2 {
            let expect = (1.0 - rm.data()[c]) / (rv.data()[c] + 1e-5).sqrt();
            assert!((y.get(&[0, c]) - expect).abs() < 1e-6);
        }
        assert_eq!(bn.running_mean().unwrap(), rm);
        assert_eq!(bn.num_batches_tracked(), 1);
    }

    #[test]
    fn batch_norm_2d_over_pixels_and_3d_input_for_1d() {
        let mut rng = tensor::rng(0);
        let bn = BatchNorm2d::new(3);
        let x = Tensor::randn([2, 3, 4, 4], &mut rng)
            .mul_scalar(3.0)
            .add_scalar(1.0);
        let y = bn.forward(&Var::constant(x)).value();
        assert_eq!(y.dims(), [2, 3, 4, 4]);
        let mean: f32 = y.data().iter().sum::<f32>() / y.numel() as f32;
        assert!(mean.abs() < 1e-5);
        let bn1 = BatchNorm1d::new(3);
        assert_eq!(
            bn1.forward(&Var::constant(Tensor::randn([4, 3, 5], &mut rng)))
                .dims(),
            [4, 3, 5]
        );
    }

    #[test]
    fn gradcheck_training_mode_all_inputs() {
        let mut rng = tensor::rng(1);
        let x = Tensor::randn([4, 2, 3], &mut rng);
        let g = Tensor::randn([2], &mut rng);
        let b = Tensor::randn([2], &mut rng);
        gradcheck(
            |v| {
                let mut bn = BatchNorm1d::new(2);
                bn.0.weight = Some(v[1].clone());
                bn.0.bias = Some(v[2].clone());
                bn.forward(&v[0])
            },
            &[x, g, b],
            1e-2,
            2e-2,
        )
        .unwrap();
        let x = Tensor::randn([2, 2, 3, 3], &mut rng);
        gradcheck(|v| BatchNorm2d::new(2).forward(&v[0]), &[x], 1e-2, 2e-2).unwrap();
    }

    #[test]
    fn names_buffers_and_display() {
        let bn = BatchNorm1d::new(64);
        let p: Vec<String> = bn.named_parameters().into_iter().map(|(n, _)| n).collect();
        let b: Vec<String> = bn.named_buffers().into_iter().map(|(n, _)| n).collect();
        assert_eq!(p, ["weight", "bias"]);
        assert_eq!(b, ["running_mean", "running_var", "num_batches_tracked"]);
        assert_eq!(
            bn.to_string(),
            "BatchNorm1d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
        );
        let bn = BatchNorm2d::new(16)
            .eps(1e-3)
            .momentum(None)
            .without_affine()
            .without_running_stats();
        assert_eq!(
            bn.to_string(),
            "BatchNorm2d(16, eps=0.001, momentum=None, affine=False, track_running_stats=False)"
        );
        assert_eq!(bn.num_parameters(), 0);
        assert!(bn.named_buffers().is_empty());
    }

    #[test]
    fn untracked_uses_batch_stats_in_eval() {
        let bn = BatchNorm1d::new(2).without_running_stats();
        bn.eval();
        let y = bn.forward(&Var::constant(batch())).value();
        let col0: f32 = (0..4).map(|i| y.get(&[i, 0])).sum();
        assert!(col0.abs() < 1e-5);
    }

    #[test]
    #[should_panic(expected = "BatchNorm2d: expected input [N, 3, H, W], got [2, 4, 5, 5]")]
    fn wrong_channels_panics() {
        BatchNorm2d::new(3).forward(&Var::constant(Tensor::zeros([2, 4, 5, 5])));
    }

    #[test]
    #[should_panic(expected = "expected more than 1 value per channel when training")]
    fn single_value_per_channel_panics_in_training() {
        BatchNorm1d::new(3).forward(&Var::constant(Tensor::zeros([1, 3])));
    }
}
