//! [`MaxPool2d`] and [`AvgPool2d`]: pooling over NCHW images, PyTorch's `nn.MaxPool2d` and
//! `nn.AvgPool2d` (dilation 1, `ceil_mode=False`; average pooling counts padding zeros).

use autograd::Var;
use tensor::Pool2dParams;

use crate::module::{impl_display_via_module, Module};

/// `2` for a square size, `(2, 3)` otherwise — how PyTorch prints a size given as an int.
fn size(s: (usize, usize)) -> String {
    if s.0 == s.1 {
        s.0.to_string()
    } else {
        format!("{s:?}")
    }
}

/// Max pooling: each output is the largest input in its window; the gradient goes to that
/// input only.
///
/// # Shapes
/// input `[N, C, H, W]` → output `[N, C, OH, OW]`, OH = ⌊(H + 2·ph − kh) / sh⌋ + 1.
#[derive(Clone, Copy, Debug)]
pub struct MaxPool2d {
    params: Pool2dParams,
}

impl MaxPool2d {
    /// A `kernel`×`kernel` window with stride `kernel` and no padding (PyTorch's default).
    pub fn new(kernel: usize) -> MaxPool2d {
        MaxPool2d {
            params: Pool2dParams::new((kernel, kernel)),
        }
    }

    /// Any window, stride and padding (padding at most half the kernel).
    pub fn with_params(params: Pool2dParams) -> MaxPool2d {
        MaxPool2d { params }
    }

    /// The window, stride and padding.
    pub fn params(&self) -> Pool2dParams {
        self.params
    }
}

impl Module for MaxPool2d {
    /// # Panics
    /// If `x` is not rank 4 or smaller than the window.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        x.max_pool2d(&self.params)
    }

    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}

    fn describe(&self) -> String {
        let p = &self.params;
        format!(
            "MaxPool2d(kernel_size={}, stride={}, padding={}, dilation=1, ceil_mode=False)",
            size(p.kernel),
            size(p.stride),
            size(p.padding)
        )
    }
}

/// Average pooling: each output is the mean of its window, padding zeros included
/// (`count_include_pad=True`, PyTorch's default).
///
/// # Shapes
/// As [`MaxPool2d`].
#[derive(Clone, Copy, Debug)]
pub struct AvgPool2d {
    params: Pool2dParams,
}

impl AvgPool2d {
    /// A `kernel`×`kernel` window with stride `kernel` and no padding (PyTorch's default).
    pub fn new(kernel: usize) -> AvgPool2d {
        AvgPool2d {
            params: Pool2dParams::new((kernel, kernel)),
        }
    }

    /// Any window, stride and padding (padding at most half the kernel).
    pub fn with_params(params: Pool2dParams) -> AvgPool2d {
        AvgPool2d { params }
    }

    /// The window, stride and padding.
    pub fn params(&self) -> Pool2dParams {
        self.params
    }
}

impl Module for AvgPool2d {
    /// # Panics
    /// If `x` is not rank 4 or smaller than the window.
    #[track_caller]
    fn forward(&self, x: &Var) -> Var {
        x.avg_pool2d(&self.params)
    }

    fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Var)) {}

    fn describe(&self) -> String {
        let p = &self.params;
        format!(
            "AvgPool2d(kernel_size={}, stride={}, padding={})",
            size(p.kernel),
            size(p.stride),
            size(p.padding)
        )
    }
}

impl_display_via_module!(MaxPool2d, AvgPool2d);

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::gradcheck;
    use tensor::Tensor;

    fn ramp() -> Tensor {
        Tensor::arange(0.0, 16.0, 1.0).reshape([1, 1, 4, 4])
    }

    #[test]
    fn max_pool_picks_window_maxima_and_routes_gradient() {
        let x = Var::parameter(ramp());
        let y = MaxPool2d::new(2).forward(&x);
        assert_eq!(y.value().to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
        y.sum_all().backward();
        let g = x.grad().unwrap().to_vec();
        let mut expect = vec![0.0; 16];
        for i in [5, 7, 13, 15] {
            expect[i] = 1.0;
        }
        assert_eq!(g, expect);
    }

    #[test]
    fn avg_pool_means_and_counts_padding() {
        let y = AvgPool2d::new(2).forward(&Var::constant(ramp()));
        assert_eq!(y.value().to_vec(), vec![2.5, 4.5, 10.5, 12.5]);
        // 3x3 window, stride 1, padding 1 on a 2x2 of ones: every window holds 4 ones of 9.
        let p = Pool2dParams {
            kernel: (3, 3),
            stride: (1, 1),
            padding: (1, 1),
        };
        let y = AvgPool2d::with_params(p).forward(&Var::constant(Tensor::ones([1, 1, 2, 2])));
        for v in y.value().to_vec() {
            assert!((v - 4.0 / 9.0).abs() < 1e-6);
        }
    }

    #[test]
    fn gradchecks() {
        let x = Tensor::randn([2, 2, 5, 5], &mut tensor::rng(0));
        let p = Pool2dParams {
            kernel: (3, 3),
            stride: (2, 2),
            padding: (1, 1),
        };
        gradcheck(
            |v| AvgPool2d::with_params(p).forward(&v[0]),
            std::slice::from_ref(&x),
            1e-2,
            1e-2,
        )
        .unwrap();
        gradcheck(
            |v| MaxPool2d::with_params(p).forward(&v[0]),
            &[x],
            1e-3,
            1e-2,
        )
        .unwrap();
    }

    #[test]
    fn display_like_pytorch() {
        assert_eq!(
            MaxPool2d::new(2).to_string(),
            "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
        );
        let p = Pool2dParams {
            kernel: (2, 3),
            stride: (1, 1),
            padding: (1, 1),
        };
        assert_eq!(
            MaxPool2d::with_params(p).to_string(),
            "MaxPool2d(kernel_size=(2, 3), stride=1, padding=1, dilation=1, ceil_mode=False)"
        );
        assert_eq!(
            AvgPool2d::new(2).to_string(),
            "AvgPool2d(kernel_size=2, stride=2, padding=0)"
        );
    }
}
