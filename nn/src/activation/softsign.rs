//! [`Softsign`]: like tanh but with polynomial, not exponential, tails, so it saturates more
//! slowly. f′ is continuous (f′(0) = 1), so there is no kink.
use super::prelude::*;

fused_rule! {
    /// Softsign (Turian, Bergstra & Bengio 2009, "Quadratic features and deep architectures for
    /// chunking"; Glorot & Bengio 2010).
    Softsign = "softsign", layer "Softsign", Saturating,
    about "x/(1 + |x|): tanh-like squashing with slower, polynomial saturation",
    f(x) = "x/(1 + |x|)" { x / (1.0 + x.abs()) }
    df(x) = "1/(1 + |x|)²" {
        let r = 1.0 / (1.0 + x.abs());
        r * r
    }
    range "(−1, 1)",
    pytorch "torch.nn.Softsign()",
}
