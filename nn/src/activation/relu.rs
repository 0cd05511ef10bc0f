//! [`Relu`]. Kink at 0: f′(0) = 0, PyTorch's convention (its backward passes the gradient only
//! where x > 0). A unit whose input stays ≤ 0 gets no gradient at all: it is "dead".
use super::prelude::*;

fused_rule! {
    /// ReLU, the rectified linear unit (Nair & Hinton 2010, "Rectified linear units improve
    /// restricted Boltzmann machines"; Glorot, Bordes & Bengio 2011).
    #[doc(alias = "ReLU")]
    Relu = "relu", layer "ReLU", NonSaturating,
    about "max(x, 0): cheap, non-saturating for x > 0; units can die",
    // `x <= 0` rather than `x > 0` so that NaN passes through, as in PyTorch
    f(x) = "max(x, 0)" { if x <= 0.0 { 0.0 } else { x } }
    df(x) = "1 if x > 0, else 0  (f′(0) = 0)" { if x > 0.0 { 1.0 } else { 0.0 } }
    range "[0, ∞)",
    pytorch "torch.nn.ReLU()",
    entry { .kinks(&[0.0]) },
    cheap_df = true,
}
