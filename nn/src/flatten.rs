//! [`Flatten`]: merges all axes from `start_dim` on into one, PyTorch's `nn.Flatten`.

use autograd::Var;
use tensor::shape_panic;

use crate::module::{impl_display_via_module, Module};

/// Reshapes `[N, C, H, W]` to `[N, C·H·W]` (with the default `start_dim = 1`): the bridge
/// from convolutional feature maps to a [`Linear`](crate::Linear) layer. Copies nothing.
///
/// # Shapes
/// input `[d₀, …, d_{s−1}, d_s, …]` → output `[d₀, …, d_{s−1}, d_s·…]`.
#[derive(Clone, Copy, Debug)]
pub struct Flatten {
    start_dim: usize,
}

impl Flatten {
    /// Flattens every axis but the batch axis (`start_dim = 1`, PyTorch's default).
    pub fn new() -> Flatten {
        Flatten { start_dim: 1 }
    }

    /// Flattens the axes from `start_dim` to the last.
    pub fn from_dim(start_dim: usize) -> Flatten {
        Flatten { start_dim }
    }
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten::new()
    }
}

impl Module for Flatten {
    /// # Panics
    /// If `x` has no axis `start_dim` (PyTorch's "dimension out of range").
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        let dims = x.dims();
        if self.start_dim >= dims.len() {
            shape_panic(
                "Flatten",
                format_args!(
                    "start_dim {} is not an axis of an input of shape {dims:?}",
                    self.start_dim
                ),
            );
        }
        x.flatten_from(self.start_dim)
    }

    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}

    fn describe(&self) -> String {
        format!("Flatten(start_dim={}, end_dim=-1)", self.start_dim)
    }
}

impl_display_via_module!(Flatten);

#[cfg(test)]
mod tests {
    use super::*;
    use tensor::Tensor;

    #[test]
    fn flattens_from_start_dim_and_keeps_order() {
        let x = Var::constant(Tensor::arange(0.0, 24.0, 1.0).reshape([2, 3, 2, 2]));
        let y = Flatten::new().forward(&x);
        assert_eq!(y.dims(), [2, 12]);
        assert_eq!(y.value().to_vec(), x.value().to_vec());
        assert_eq!(Flatten::from_dim(2).forward(&x).dims(), [2, 3, 4]);
        assert_eq!(Flatten::from_dim(0).forward(&x).dims(), [24]);
    }

    #[test]
    fn gradient_flows_back_unchanged_in_shape() {
        let x = Var::parameter(Tensor::ones([2, 2, 3]));
        Flatten::new().forward(&x).sum_all().backward();
        assert_eq!(x.grad().unwrap(), Tensor::ones([2, 2, 3]));
    }

    #[test]
    fn display_like_pytorch() {
        assert_eq!(
            Flatten::new().to_string(),
            "Flatten(start_dim=1, end_dim=-1)"
        );
        assert_eq!(Flatten::new().num_parameters(), 0);
    }

    #[test]
    #[should_panic(expected = "Flatten: start_dim 2 is not an axis of an input of shape [4, 5]")]
    fn start_dim_past_end_panics() {
        Flatten::from_dim(2).forward(&Var::constant(Tensor::zeros([4, 5])));
    }
}
