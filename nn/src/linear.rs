//! [`Linear`]: y = x·Wᵀ + b, PyTorch's `nn.Linear`.

use autograd::Var;
use tensor::{shape_panic, Rng};

use crate::init;
use crate::module::{impl_display_via_module, join_name, Module};

/// A fully connected layer: y = x·Wᵀ + b, with W of shape `[out, in]` and b of shape `[out]`
/// (PyTorch's layout, so state dicts load both ways).
///
/// # Shapes
/// input `[*, in_features]` → output `[*, out_features]` (any number of leading axes).
///
/// Initialised as PyTorch does: W ~ U(−1/√in, 1/√in) (kaiming-uniform with a = √5) and
/// b ~ U(−1/√in, 1/√in).
pub struct Linear {
    /// The weight W, `[out_features, in_features]`.
    pub weight: Var,
    /// The bias b, `[out_features]`, if the layer has one.
    pub bias: Option<Var>,
    in_features: usize,
    out_features: usize,
}

impl Linear {
    /// A layer mapping `in_features` to `out_features`, with a bias if `bias`.
    pub fn new(in_features: usize, out_features: usize, bias: bool, rng: &mut Rng) -> Linear {
        let weight = Var::parameter(init::default_weight([out_features, in_features], rng));
        let bias = bias.then(|| Var::parameter(init::default_bias(out_features, in_features, rng)));
        Linear {
            weight,
            bias,
            in_features,
            out_features,
        }
    }

    /// Number of input features.
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// Number of output features.
    pub fn out_features(&self) -> usize {
        self.out_features
    }
}

impl Module for Linear {
    /// # Panics
    /// If the last axis of `x` is not `in_features`.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        let dims = x.dims();
        if dims.last() != Some(&self.in_features) {
            shape_panic(
                "Linear",
                format_args!(
                    "input {dims:?} does not end in in_features = {} (weight [{}, {}])",
                    self.in_features, self.out_features, self.in_features
                ),
            );
        }
        // One fused op (x·Wᵀ + b); other ranks fold their leading axes into one batch axis.
        if dims.len() == 2 || dims.len() == 3 {
            return x.linear(&self.weight, self.bias.as_ref());
        }
        let rows: usize = dims[..dims.len() - 1].iter().product();
        let y = x
            .reshape([rows, self.in_features])
            .linear(&self.weight, self.bias.as_ref());
        let mut out = dims[..dims.len() - 1].to_vec();
        out.push(self.out_features);
        y.reshape(out)
    }

    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
        f(&join_name(prefix, "weight"), &self.weight);
        if let Some(b) = &self.bias {
            f(&join_name(prefix, "bias"), b);
        }
    }

    fn describe(&self) -> String {
        format!(
            "Linear(in_features={}, out_features={}, bias={})",
            self.in_features,
            self.out_features,
            if self.bias.is_some() { "True" } else { "False" }
        )
    }
}

impl_display_via_module!(Linear);

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::gradcheck;
    use tensor::Tensor;

    #[test]
    fn forward_is_x_wt_plus_b() {
        let l = Linear::new(3, 2, true, &mut tensor::rng(0));
        l.weight.set_value(Tensor::from_vec(
            vec![1.0, 2.0, 3.0, -1.0, 0.0, 1.0],
            [2, 3],
        ));
        l.bias
            .as_ref()
            .unwrap()
            .set_value(Tensor::from_vec(vec![0.5, -0.5], [2]));
        let x = Var::constant(Tensor::from_vec(
            vec![1.0, 1.0, 1.0, 2.0, 0.0, -1.0],
            [2, 3],
        ));
        let y = l.forward(&x).value();
        assert_eq!(y.to_vec(), vec![6.5, -0.5, -0.5, -3.5]);
    }

    #[test]
    fn leading_axes_are_kept() {
        let l = Linear::new(4, 3, false, &mut tensor::rng(1));
        let x = Var::constant(Tensor::ones([2, 5, 4]));
        assert_eq!(l.forward(&x).dims(), [2, 5, 3]);
        let x = Var::constant(Tensor::ones([2, 1, 5, 4]));
        assert_eq!(l.forward(&x).dims(), [2, 1, 5, 3]);
        let x = Var::constant(Tensor::ones([4]));
        assert_eq!(l.forward(&x).dims(), [3]);
        assert!(l.bias.is_none());
        assert_eq!(l.num_parameters(), 12);
    }

    #[test]
    fn init_within_pytorch_bounds() {
        let l = Linear::new(16, 8, true, &mut tensor::rng(2));
        let bound = 0.25; // 1/√16
        assert!(l.weight.value().data().iter().all(|v| v.abs() <= bound));
        let b = l.bias.as_ref().unwrap().value();
        assert!(b.data().iter().all(|v| v.abs() <= bound));
        assert_eq!(l.num_parameters(), 16 * 8 + 8);
    }

    #[test]
    fn names_and_display() {
        let l = Linear::new(784, 128, true, &mut tensor::rng(3));
        let names: Vec<String> = l.named_parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["weight", "bias"]);
        assert_eq!(
            l.to_string(),
            "Linear(in_features=784, out_features=128, bias=True)"
        );
        let l = Linear::new(2, 1, false, &mut tensor::rng(3));
        assert_eq!(
            l.to_string(),
            "Linear(in_features=2, out_features=1, bias=False)"
        );
    }

    #[test]
    fn gradcheck_input_weight_bias() {
        let mut rng = tensor::rng(4);
        let x = Tensor::randn([3, 4], &mut rng);
        let w = Tensor::randn([2, 4], &mut rng);
        let b = Tensor::randn([2], &mut rng);
        gradcheck(
            |v| {
                let mut l = Linear::new(4, 2, true, &mut tensor::rng(0));
                l.weight = v[1].clone();
                l.bias = Some(v[2].clone());
                l.forward(&v[0])
            },
            &[x, w, b],
            1e-2,
            1e-2,
        )
        .unwrap();
    }

    #[test]
    #[should_panic(expected = "Linear: input [2, 5] does not end in in_features = 4")]
    fn wrong_input_width_panics_with_shapes() {
        let l = Linear::new(4, 3, true, &mut tensor::rng(0));
        l.forward(&Var::constant(Tensor::zeros([2, 5])));
    }
}
