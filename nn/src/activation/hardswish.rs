//! [`Hardswish`]. Kinks at ±3: f′(−3) = 0 and f′(3) = 1, PyTorch's convention (the outer
//! pieces own the boundary points; checked against PyTorch in the fixture test).
use super::prelude::*;

fused_rule! {
    /// Hard swish, `x·relu6(x + 3)/6`, as in MobileNetV3 (Howard et al. 2019,
    /// arXiv:1905.02244).
    Hardswish = "hardswish", layer "Hardswish", SelfGated,
    about "piecewise-polynomial Swish, cheap on mobile hardware",
    // the gate first: x·6 overflows for x > 5.7e37
    f(x) = "x·min(max(x + 3, 0), 6)/6" { x * ((x + 3.0).clamp(0.0, 6.0) / 6.0) }
    df(x) = "0 if x ≤ −3, x/3 + ½ if −3 < x < 3, 1 if x ≥ 3  (f′(−3) = 0, f′(3) = 1)" {
        if x <= -3.0 {
            0.0
        } else if x < 3.0 {
            x / 3.0 + 0.5
        } else {
            1.0
        }
    }
    range "[−0.375, ∞)",
    pytorch "torch.nn.Hardswish()",
    entry { .kinks(&[-3.0, 3.0]) },
    cheap_df = true,
}
