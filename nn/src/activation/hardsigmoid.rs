//! [`Hardsigmoid`]. Kinks at ±3: f′(±3) = 0, PyTorch's convention.
use super::prelude::*;

fused_rule! {
    /// Hard sigmoid, `relu6(x + 3)/6`, as in MobileNetV3 (Howard et al. 2019,
    /// arXiv:1905.02244).
    Hardsigmoid = "hardsigmoid", layer "Hardsigmoid", Saturating,
    about "piecewise-linear sigmoid, cheap on mobile hardware",
    f(x) = "min(max(x + 3, 0), 6)/6" { (x + 3.0).clamp(0.0, 6.0) / 6.0 }
    df(x) = "1/6 if −3 < x < 3, else 0  (0 at ±3)" {
        if x > -3.0 && x < 3.0 { 1.0 / 6.0 } else { 0.0 }
    }
    range "[0, 1]",
    pytorch "torch.nn.Hardsigmoid()",
    entry { .kinks(&[-3.0, 3.0]) },
    cheap_df = true,
}
