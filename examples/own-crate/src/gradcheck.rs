//! f′ and ∂f/∂s of the rule against differences of f, at 0 and at large |x|.

use minidl::autograd::gradcheck_pointwise;
use minidl::nn::activation::prelude::*;

use super::ScaledSoftsign;

#[test]
fn derivatives_match_differences_of_f() {
    for s in [0.5, 2.0, 10.0] {
        let rule = ScaledSoftsign(RuleParams::new([minidl::nn::learnable(s).var()]));
        let xs = [-1e4, -40.0, -3.0, -0.5, 0.0, 0.5, 3.0, 40.0, 1e4];
        gradcheck_pointwise(&rule, &xs, &[0.0]).unwrap_or_else(|e| panic!("s = {s}: {e}"));
    }
}
