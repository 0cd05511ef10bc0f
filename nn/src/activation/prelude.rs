//! What an activation file needs, in one `use super::prelude::*;` (also usable from outside
//! the crate to write a new activation the same way: `use nn::activation::prelude::*;`).

pub use autograd::{Pointwise, RuleParams, Var};
pub use tensor::{shape_panic, Tensor};

pub use super::arg::Arg;
pub use super::entry::{Args, Category, Entry};
pub use super::error::ParseError;
pub use super::layer::{learnable, resolve_dim, Param, PointwiseLayer};
pub(crate) use super::rule::{documented, fused_rule};
pub use super::scalar::{
    erf, erfc, exp, exp_neg_square, expm1, ln_1p_unit, log_sigmoid, normal_cdf, normal_cdf_pdf,
    normal_pdf, sigmoid, sigmoid_pair, softplus, softplus_beta, tanh,
};
pub use crate::module::{format_float, join_name, Module};
