//! [`Conv2d`]: 2-D convolution over NCHW images, PyTorch's `nn.Conv2d` (groups = 1, zero padding).

use autograd::Var;
use tensor::{Conv2dParams, Rng};

use crate::init;
use crate::module::{impl_display_via_module, join_name, Module};

/// Kernel size, stride, padding, dilation and bias of a [`Conv2d`], each size as
/// `(height, width)`. Start from [`Conv2dConfig::new`] (a square kernel, stride 1, no
/// padding, dilation 1, a bias) and change what differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dConfig {
    /// Kernel size `(kh, kw)`.
    pub kernel: (usize, usize),
    /// Stride `(sh, sw)`.
    pub stride: (usize, usize),
    /// Zero padding on each side `(ph, pw)`.
    pub padding: (usize, usize),
    /// Spacing between kernel taps `(dh, dw)`.
    pub dilation: (usize, usize),
    /// Whether the layer adds a learnable bias per output channel.
    pub bias: bool,
}

impl Conv2dConfig {
    /// A `kernel`×`kernel` convolution with PyTorch's defaults: stride 1, padding 0,
    /// dilation 1, bias.
    pub fn new(kernel: usize) -> Conv2dConfig {
        Conv2dConfig {
            kernel: (kernel, kernel),
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
            bias: true,
        }
    }

    /// The same with stride `s` on both axes.
    pub fn stride(mut self, s: usize) -> Conv2dConfig {
        self.stride = (s, s);
        self
    }

    /// The same with `p` zeros of padding on every side.
    pub fn padding(mut self, p: usize) -> Conv2dConfig {
        self.padding = (p, p);
        self
    }

    /// The same with dilation `d` on both axes.
    pub fn dilation(mut self, d: usize) -> Conv2dConfig {
        self.dilation = (d, d);
        self
    }

    /// The same with or without a bias.
    pub fn bias(mut self, bias: bool) -> Conv2dConfig {
        self.bias = bias;
        self
    }
}

/// A 2-D convolution (cross-correlation, as in every framework):
/// `y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c]`.
///
/// # Shapes
/// input `[N, C_in, H, W]` → output `[N, C_out, OH, OW]` with
/// OH = ⌊(H + 2·ph − dh·(kh − 1) − 1) / sh⌋ + 1 (and likewise OW); weight `[C_out, C_in, kh, kw]`,
/// bias `[C_out]` — PyTorch's layout.
///
/// Initialised as PyTorch does: W and b ~ U(−1/√fan_in, 1/√fan_in), fan_in = C_in·kh·kw.
pub struct Conv2d {
    /// The kernels, `[out_channels, in_channels, kh, kw]`.
    pub weight: Var,
    /// The bias, `[out_channels]`, if the layer has one.
    pub bias: Option<Var>,
    in_channels: usize,
    out_channels: usize,
    config: Conv2dConfig,
}

impl Conv2d {
    /// A `kernel`×`kernel` convolution from `in_channels` to `out_channels` with stride 1, no
    /// padding and a bias.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize, rng: &mut Rng) -> Conv2d {
        Conv2d::with_config(in_channels, out_channels, Conv2dConfig::new(kernel), rng)
    }

    /// A convolution with every option: `Conv2d::with_config(1, 16, Conv2dConfig::new(5).padding(2), rng)`.
    pub fn with_config(
        in_channels: usize,
        out_channels: usize,
        config: Conv2dConfig,
        rng: &mut Rng,
    ) -> Conv2d {
        let (kh, kw) = config.kernel;
        let weight = Var::parameter(init::default_weight(
            [out_channels, in_channels, kh, kw],
            rng,
        ));
        let fan_in = in_channels * kh * kw;
        let bias = config
            .bias
            .then(|| Var::parameter(init::default_bias(out_channels, fan_in, rng)));
        Conv2d {
            weight,
            bias,
            in_channels,
            out_channels,
            config,
        }
    }

    /// The layer's configuration.
    pub fn config(&self) -> Conv2dConfig {
        self.config
    }

    /// The stride, padding and dilation as the kernel takes them.
    pub fn params(&self) -> Conv2dParams {
        Conv2dParams {
            stride: self.config.stride,
            padding: self.config.padding,
            dilation: self.config.dilation,
        }
    }

    /// Number of input channels.
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// Number of output channels.
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }
}

impl Module for Conv2d {
    /// # Panics
    /// If `x` is not `[N, in_channels, H, W]` or the image is smaller than the dilated kernel.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        x.conv2d(&self.weight, self.bias.as_ref(), &self.params())
    }

    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Var)) {
        f(&join_name(prefix, "weight"), &self.weight);
        if let Some(b) = &self.bias {
            f(&join_name(prefix, "bias"), b);
        }
    }

    /// PyTorch's form: padding and dilation only when not the default, `bias=False` only
    /// when there is none.
    fn describe(&self) -> String {
        let c = &self.config;
        let mut s = format!(
            "Conv2d({}, {}, kernel_size={:?}, stride={:?}",
            self.in_channels, self.out_channels, c.kernel, c.stride
        );
        if c.padding != (0, 0) {
            s += &format!(", padding={:?}", c.padding);
        }
        if c.dilation != (1, 1) {
            s += &format!(", dilation={:?}", c.dilation);
        }
        if !c.bias {
            s += ", bias=False";
        }
        s + ")"
    }
}

impl_display_via_module!(Conv2d);

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::gradcheck;
    use tensor::Tensor;

    #[test]
    fn forward_matches_hand_values() {
        // One 2x2 kernel of ones with bias 1 over a 3x3 ramp, stride 1, no padding:
        // each output is the sum of a 2x2 window plus 1.
        let c = Conv2d::new(1, 1, 2, &mut tensor::rng(0));
        c.weight.set_value(Tensor::ones([1, 1, 2, 2]));
        c.bias.as_ref().unwrap().set_value(Tensor::ones([1]));
        let x = Var::constant(Tensor::arange(0.0, 9.0, 1.0).reshape([1, 1, 3, 3]));
        let y = c.forward(&x).value();
        assert_eq!(y.dims(), [1, 1, 2, 2]);
        assert_eq!(y.to_vec(), vec![9.0, 13.0, 21.0, 25.0]);
    }

    #[test]
    fn output_size_with_padding_stride_dilation() {
        let mut rng = tensor::rng(1);
        let x = Var::constant(Tensor::zeros([2, 3, 28, 28]));
        let same = Conv2d::with_config(3, 16, Conv2dConfig::new(5).padding(2), &mut rng);
        assert_eq!(same.forward(&x).dims(), [2, 16, 28, 28]);
        let strided = Conv2d::with_config(3, 4, Conv2dConfig::new(3).stride(2), &mut rng);
        assert_eq!(strided.forward(&x).dims(), [2, 4, 13, 13]);
        let dilated = Conv2d::with_config(3, 4, Conv2dConfig::new(3).dilation(2), &mut rng);
        assert_eq!(dilated.forward(&x).dims(), [2, 4, 24, 24]);
    }

    #[test]
    fn init_bounds_and_parameter_count() {
        let c = Conv2d::new(3, 8, 3, &mut tensor::rng(2));
        let bound = 1.0 / 27f32.sqrt();
        assert!(c.weight.value().data().iter().all(|v| v.abs() <= bound));
        assert!(c
            .bias
            .as_ref()
            .unwrap()
            .value()
            .data()
            .iter()
            .all(|v| v.abs() <= bound));
        assert_eq!(c.num_parameters(), 8 * 3 * 9 + 8);
    }

    #[test]
    fn display_like_pytorch() {
        let mut rng = tensor::rng(3);
        let c = Conv2d::with_config(1, 16, Conv2dConfig::new(5).padding(2), &mut rng);
        assert_eq!(
            c.to_string(),
            "Conv2d(1, 16, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))"
        );
        let c = Conv2d::with_config(
            3,
            4,
            Conv2dConfig::new(3).stride(2).dilation(2).bias(false),
            &mut rng,
        );
        assert_eq!(
            c.to_string(),
            "Conv2d(3, 4, kernel_size=(3, 3), stride=(2, 2), dilation=(2, 2), bias=False)"
        );
        let names: Vec<String> = c.named_parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["weight"]);
    }

    #[test]
    fn gradcheck_input_weight_bias() {
        let mut rng = tensor::rng(4);
        let x = Tensor::randn([2, 2, 5, 5], &mut rng);
        let w = Tensor::randn([3, 2, 3, 3], &mut rng);
        let b = Tensor::randn([3], &mut rng);
        let config = Conv2dConfig::new(3).padding(1).stride(2);
        gradcheck(
            |v| {
                let mut c = Conv2d::with_config(2, 3, config, &mut tensor::rng(0));
                c.weight = v[1].clone();
                c.bias = Some(v[2].clone());
                c.forward(&v[0])
            },
            &[x, w, b],
            1e-2,
            1e-2,
        )
        .unwrap();
    }

    #[test]
    fn gradcheck_through_relu_and_max_pool() {
        // The gradient that reaches the convolution through ReLU and 2x2 max pooling is
        // nonzero at no more than a quarter of its outputs, so its backward takes the sparse
        // kernels: check them against finite differences, for a padded 5x5 layer (the
        // reference CNN's) and a strided, dilated one.
        let mut rng = tensor::rng(5);
        let configs = [
            (Conv2dConfig::new(5).padding(2), [2, 3, 8, 8]),
            (
                Conv2dConfig::new(3).padding(2).stride(2).dilation(2),
                [2, 3, 11, 10],
            ),
        ];
        for (config, shape) in configs {
            let x = Tensor::randn(shape, &mut rng);
            let w = Tensor::randn([4, 3, config.kernel.0, config.kernel.1], &mut rng);
            let b = Tensor::randn([4], &mut rng);
            let f = |v: &[Var]| {
                let mut c = Conv2d::with_config(3, 4, config, &mut tensor::rng(0));
                c.weight = v[1].clone();
                c.bias = Some(v[2].clone());
                let y = crate::Relu.forward(&c.forward(&v[0]));
                crate::MaxPool2d::new(2).forward(&y)
            };
            gradcheck(f, &[x, w, b], 1e-3, 1e-2).unwrap();
        }
    }
}
