//! PReLU, the parametric ReLU (He, Zhang, Ren & Sun 2015, arXiv:1502.01852).
//!
//! w is learned, one per channel or one for all; ∂f/∂w = 0 if x > 0, else x.
//!
//! With one parameter it is a scalar rule through the fused op. With `num_parameters = C` the
//! input's axis 1 is the channel axis, as in PyTorch (`[N, C]`, `[N, C, H, W]`), and the layer
//! composes `Var` ops: `x·m + (x·(1 − m))·w` with the constant mask `m = [x > 0]`, `w` reshaped
//! to broadcast along axis 1. Kink at 0: f′(0) = w, PyTorch's convention.
//!
//! f, f′ and the PyTorch equivalent: [`PRelu`].
use super::leaky_relu::{leaky, leaky_da, leaky_df};
use super::prelude::*;

documented! {
    /// PReLU: `x` for `x > 0`, `w·x` otherwise, `w` learned (shape `[num_parameters]`).
    #[doc(alias = "PReLU")]
    #[derive(Clone, Debug)]
    pub struct PRelu {
        weight: RuleParams<1>,
    }

    f "x if x > 0, else w·x",
    df "1 if x > 0, else w  (f′(0) = w)",
    pytorch "torch.nn.PReLU(num_parameters=1, init=0.25)",
    entry Entry::new("prelu", Category::Learnable, |a| {
        let n = a.int("num_parameters");
        if n < 1 {
            return Err(a.invalid("num_parameters", "an integer ≥ 1"));
        }
        Ok(Box::new(PRelu::new(n as usize, a.number("init"))))
    })
    .args(&[Arg::int("num_parameters", "1"), Arg::number("init", "0.25")])
    .kinks(&[0.0])
    .about("leaky ReLU whose negative slope is learned (per channel or shared)")
    .range("(−∞, ∞)"),
}

impl PRelu {
    /// With `num_parameters ≥ 1` slopes (1, or the number of channels), each starting at
    /// `init`.
    ///
    /// # Panics
    /// If `num_parameters` is 0.
    pub fn new(num_parameters: usize, init: f32) -> PRelu {
        if num_parameters == 0 {
            shape_panic("prelu", "num_parameters must be at least 1, got 0");
        }
        PRelu {
            weight: RuleParams::new([Var::parameter(Tensor::full([num_parameters], init))]),
        }
    }

    /// Around a caller's `weight` (shape `[num_parameters]`), for `nn::functional::prelu`.
    pub(crate) fn with_weight(weight: Var) -> PRelu {
        PRelu {
            weight: RuleParams::new([weight]),
        }
    }

    /// The slopes, shape `[num_parameters]`.
    pub fn weight(&self) -> &Var {
        &self.weight[0]
    }

    /// How many slopes.
    pub fn num_parameters(&self) -> usize {
        self.weight[0].shape().numel()
    }

    /// One slope per channel (axis 1), composed from `Var` ops: `x·m + (x·(1 − m))·w`.
    ///
    /// # Panics
    /// If `x` does not have that many channels on axis 1; the message ends with
    /// `({count} {num_parameters})`, `count` saying where the number comes from.
    #[track_caller]
    pub(crate) fn per_channel(&self, x: &Var, count: &str) -> Var {
        let (c, shape) = (self.num_parameters(), x.shape());
        if shape.rank() < 2 || shape.dim(1) != c {
            shape_panic(
                "prelu",
                format_args!("input {shape:?} must have {c} channels on axis 1 ({count} {c})"),
            );
        }
        let positive = x.value().gt_mask(&Tensor::scalar(0.0));
        let negative = positive.map(|m| 1.0 - m);
        let mut w_shape = vec![1; shape.rank()];
        w_shape[1] = c;
        let w = self.weight[0].reshape(w_shape);
        &x.mul_mask(&positive) + &(&x.mul_mask(&negative) * &w)
    }
}

impl Default for PRelu {
    /// PyTorch's defaults: one slope, starting at 0.25.
    fn default() -> PRelu {
        PRelu::new(1, 0.25)
    }
}

/// The scalar rule, used when there is a single slope: leaky ReLU's, with the slope learned.
impl Pointwise for PRelu {
    const CHEAP_DF: bool = true; // a comparison and a select
    fn name(&self) -> &'static str {
        "prelu"
    }
    #[inline(always)]
    fn f(&self, x: f32, p: &[f32]) -> f32 {
        leaky(x, p[0])
    }
    #[inline(always)]
    fn df(&self, x: f32, p: &[f32]) -> f32 {
        leaky_df(x, p[0])
    }
    #[inline(always)]
    fn dparams(&self, x: f32, _: &[f32], dp: &mut [f32]) {
        dp[0] = leaky_da(x);
    }
    fn params(&self) -> &[Var] {
        &self.weight
    }
}

impl Module for PRelu {
    /// # Panics
    /// With several slopes, if `x` does not have that many channels on axis 1.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        if self.num_parameters() == 1 {
            x.pointwise(self)
        } else {
            self.per_channel(x, "num_parameters =")
        }
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
        f(&join_name(prefix, "weight"), &self.weight[0]);
    }
    fn describe(&self) -> String {
        format!("PReLU(num_parameters={})", self.num_parameters())
    }
    fn is_activation(&self) -> bool {
        true
    }
    /// 1 where x > 0, else the slope of the element's channel (axis 1); `None` for an input
    /// that `forward` would reject.
    fn derivative(&self, x: &Tensor) -> Option<Tensor> {
        let w = self.weight[0].value();
        let w = w.data();
        if let [a] = *w {
            return Some(x.map(|v| leaky_df(v, a)));
        }
        let dims = x.dims();
        if dims.len() < 2 || dims[1] != w.len() {
            return None;
        }
        let inner: usize = dims[2..].iter().product();
        let d = x
            .data()
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                if v > 0.0 {
                    1.0
                } else {
                    w[(i / inner) % w.len()]
                }
            })
            .collect();
        Some(Tensor::from_vec(d, dims))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_channel_slopes_along_axis_1() {
        let prelu = PRelu::new(2, 0.0);
        prelu
            .weight()
            .set_value(Tensor::from_vec(vec![0.5, 0.25], [2]));
        // [N=2, C=2, L=2]
        let x = Var::parameter(Tensor::from_vec(
            vec![-2.0, 1.0, -4.0, 0.0, 3.0, -1.0, -8.0, 2.0],
            [2, 2, 2],
        ));
        let y = prelu.forward(&x);
        assert_eq!(
            y.value().to_vec(),
            vec![-1.0, 1.0, -1.0, 0.0, 3.0, -0.5, -2.0, 2.0]
        );
        y.sum_all().backward();
        // ∂/∂x: 1 where x > 0, the channel's slope elsewhere (also at 0).
        assert_eq!(
            x.grad().unwrap().to_vec(),
            vec![0.5, 1.0, 0.25, 0.25, 1.0, 0.5, 0.25, 1.0]
        );
        // ∂/∂w_c: the sum of the channel's non-positive inputs.
        assert_eq!(prelu.weight().grad().unwrap().to_vec(), vec![-3.0, -12.0]);
    }

    #[test]
    fn derivative_is_one_or_the_channel_slope() {
        let prelu = PRelu::new(2, 0.0);
        prelu
            .weight()
            .set_value(Tensor::from_vec(vec![0.5, 0.25], [2]));
        let x = Tensor::from_vec(vec![-2.0, 1.0, -4.0, 0.0, 3.0, -1.0, -8.0, 2.0], [2, 2, 2]);
        assert!(prelu.is_activation());
        // The same values as the gradient in `per_channel_slopes_along_axis_1`.
        assert_eq!(
            prelu.derivative(&x).unwrap().to_vec(),
            vec![0.5, 1.0, 0.25, 0.25, 1.0, 0.5, 0.25, 1.0]
        );
        assert!(prelu.derivative(&Tensor::zeros([4, 3])).is_none());
        let single = PRelu::default();
        let x = Tensor::from_vec(vec![-4.0, 0.0, 2.0], [3]);
        assert_eq!(
            single.derivative(&x).unwrap().to_vec(),
            vec![0.25, 0.25, 1.0]
        );
    }

    #[test]
    fn single_slope_uses_the_fused_rule() {
        let prelu = PRelu::default();
        let x = Var::constant(Tensor::from_vec(vec![-4.0, 0.0, 2.0], [3]));
        let y = prelu.forward(&x);
        assert_eq!(y.value().to_vec(), vec![-1.0, 0.0, 2.0]);
        assert_eq!(y.op_name(), Some("prelu"));
        y.sum_all().backward();
        assert_eq!(prelu.weight().grad().unwrap().to_vec(), vec![-4.0]);
        assert_eq!(prelu.named_parameters()[0].0, "weight");
        assert_eq!(prelu.describe(), "PReLU(num_parameters=1)");
    }

    #[test]
    #[should_panic(
        expected = "prelu: input [4, 3] must have 2 channels on axis 1 (num_parameters = 2)"
    )]
    fn wrong_channel_count_panics() {
        PRelu::new(2, 0.25).forward(&Var::constant(Tensor::zeros([4, 3])));
    }
}
