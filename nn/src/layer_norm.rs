//! [`LayerNorm`]: layer normalisation (Ba et al. 2016), PyTorch's `nn.LayerNorm`.

use autograd::Var;
use tensor::{shape_panic, Tensor};

use crate::module::{format_float, impl_display_via_module, join_name, Module};

/// Normalises each sample over its last axes (`normalized_shape`):
/// y = (x − μ) / √(σ² + ε) · γ + β, with μ and the biased σ² taken over those axes, and γ, β
/// of shape `normalized_shape` (elementwise affine). Same in training and evaluation.
///
/// # Shapes
/// input `[*, normalized_shape…]` → output of the same shape.
pub struct LayerNorm {
    normalized_shape: Vec<usize>,
    eps: f32,
    /// γ, `normalized_shape`, if the layer is affine.
    pub weight: Option<Var>,
    /// β, `normalized_shape`, if the layer is affine.
    pub bias: Option<Var>,
}

impl LayerNorm {
    /// Layer normalisation over the trailing axes `normalized_shape`, with ε = 1e-5 and
    /// learnable γ (ones) and β (zeros), as PyTorch's defaults.
    pub fn new(normalized_shape: &[usize]) -> LayerNorm {
        LayerNorm {
            normalized_shape: normalized_shape.to_vec(),
            eps: 1e-5,
            weight: Some(Var::parameter(Tensor::ones(normalized_shape))),
            bias: Some(Var::parameter(Tensor::zeros(normalized_shape))),
        }
    }

    /// The same with another ε.
    pub fn eps(mut self, eps: f32) -> LayerNorm {
        self.eps = eps;
        self
    }

    /// Without γ and β (`elementwise_affine=False`).
    pub fn without_affine(mut self) -> LayerNorm {
        self.weight = None;
        self.bias = None;
        self
    }
}

impl Module for LayerNorm {
    /// # Panics
    /// If the trailing axes of `x` are not `normalized_shape`.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        let dims = x.dims();
        let k = self.normalized_shape.len();
        if dims.len() < k || dims[dims.len() - k..] != self.normalized_shape[..] {
            shape_panic(
                "LayerNorm",
                format_args!(
                    "input {dims:?} does not end in normalized_shape {:?}",
                    self.normalized_shape
                ),
            );
        }
        let axes = dims.len() - k..dims.len();
        let mean_over = |v: &Var| axes.clone().fold(v.clone(), |m, a| m.mean(a, true));
        let centred = x - &mean_over(x);
        let var = mean_over(&(&centred * &centred));
        let xhat = &centred / &var.add_scalar(self.eps).sqrt();
        match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => &(&xhat * w) + b,
            _ => xhat,
        }
    }

    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
        if let (Some(w), Some(b)) = (&self.weight, &self.bias) {
            f(&join_name(prefix, "weight"), w);
            f(&join_name(prefix, "bias"), b);
        }
    }

    /// `LayerNorm((64,), eps=1e-05, elementwise_affine=True)`, shape as a Python tuple.
    fn describe(&self) -> String {
        let dims: Vec<String> = self
            .normalized_shape
            .iter()
            .map(|d| d.to_string())
            .collect();
        let shape = if dims.len() == 1 {
            format!("({},)", dims[0])
        } else {
            format!("({})", dims.join(", "))
        };
        format!(
            "LayerNorm({shape}, eps={}, elementwise_affine={})",
            format_float(self.eps),
            if self.weight.is_some() {
                "True"
            } else {
                "False"
            }
        )
    }
}

impl_display_via_module!(LayerNorm);

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::gradcheck;

    #[test]
    fn normalises_each_row() {
        let ln = LayerNorm::new(&[4]);
        let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, -2.0, 0.0, 0.0, 2.0], [2, 4]);
        let y = ln.forward(&Var::constant(x)).value();
        // row 0: mean 2.5, var 1.25 → (1 − 2.5)/√1.25001
        assert!((y.get(&[0, 0]) + 1.5 / 1.250_01f32.sqrt()).abs() < 1e-6);
        // row 1: mean 0, var 2 → 2/√2.00001
        assert!((y.get(&[1, 3]) - 2.0 / 2.000_01f32.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn affine_over_two_trailing_axes() {
        let ln = LayerNorm::new(&[2, 3]);
        ln.weight
            .as_ref()
            .unwrap()
            .set_value(Tensor::full([2, 3], 2.0));
        ln.bias
            .as_ref()
            .unwrap()
            .set_value(Tensor::full([2, 3], 1.0));
        let x = Tensor::randn([4, 2, 3], &mut tensor::rng(0));
        let y = ln.forward(&Var::constant(x)).value();
        // each sample's 6 outputs have mean β = 1
        for s in 0..4 {
            let m: f32 = y.data()[s * 6..s * 6 + 6].iter().sum::<f32>() / 6.0;
            assert!((m - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn gradchecks_with_affine() {
        let mut rng = tensor::rng(1);
        let x = Tensor::randn([3, 5], &mut rng);
        let g = Tensor::randn([5], &mut rng);
        let b = Tensor::randn([5], &mut rng);
        gradcheck(
            |v| {
                let mut ln = LayerNorm::new(&[5]);
                ln.weight = Some(v[1].clone());
                ln.bias = Some(v[2].clone());
                ln.forward(&v[0])
            },
            &[x, g, b],
            1e-2,
            2e-2,
        )
        .unwrap();
    }

    #[test]
    fn display_and_names() {
        let ln = LayerNorm::new(&[64]);
        assert_eq!(
            ln.to_string(),
            "LayerNorm((64,), eps=1e-05, elementwise_affine=True)"
        );
        assert_eq!(ln.num_parameters(), 128);
        let ln = LayerNorm::new(&[2, 3]).without_affine();
        assert_eq!(
            ln.to_string(),
            "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False)"
        );
        assert!(ln.parameters().is_empty());
    }

    #[test]
    #[should_panic(expected = "LayerNorm: input [2, 5] does not end in normalized_shape [4]")]
    fn wrong_trailing_shape_panics() {
        LayerNorm::new(&[4]).forward(&Var::constant(Tensor::zeros([2, 5])));
    }
}
