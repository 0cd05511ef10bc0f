//! [`Relu6`]. Kinks at 0 and 6: f′(0) = f′(6) = 0, PyTorch's convention (ReLU6 is
//! `hardtanh(x, 0, 6)`, whose backward passes the gradient only strictly inside the interval).
use super::prelude::*;

fused_rule! {
    /// ReLU6 (Krizhevsky 2010, "Convolutional deep belief networks on CIFAR-10"; used in
    /// MobileNet).
    #[doc(alias = "ReLU6")]
    Relu6 = "relu6", layer "ReLU6", Saturating,
    about "ReLU capped at 6: bounded, robust in low precision",
    f(x) = "min(max(x, 0), 6)" { x.clamp(0.0, 6.0) }
    df(x) = "1 if 0 < x < 6, else 0  (f′(0) = f′(6) = 0)" {
        if x > 0.0 && x < 6.0 { 1.0 } else { 0.0 }
    }
    range "[0, 6]",
    pytorch "torch.nn.ReLU6()",
    entry { .kinks(&[0.0, 6.0]) },
    cheap_df = true,
}
