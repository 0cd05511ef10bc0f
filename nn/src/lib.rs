//! `nn` — modules, layers, activations and losses for minidl: the [`Module`] trait and
//! [`Sequential`], the layers (linear, convolution, pooling, normalisation, dropout, embedding),
//! every activation ([`activation`], [`functional`]), losses, checkpoints and diagnostics.

pub mod activation;
pub mod batch_norm;
pub mod conv2d;
pub mod diagnostics;
pub mod dropout;
pub mod embedding;
pub mod flatten;
pub mod functional;
pub mod init;
pub mod layer_norm;
pub mod linear;
pub mod loss;
pub mod module;
pub mod pool;
pub mod sequential;
pub mod state;

pub use activation::layers::*;
pub use activation::{learnable, ActivationSpec, Param, ParseError, PointwiseLayer};
pub use batch_norm::{BatchNorm1d, BatchNorm2d};
pub use conv2d::{Conv2d, Conv2dConfig};
pub use diagnostics::{ActivationStats, Diagnostics, ParamGradStats, SATURATION_THRESHOLD};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use functional::ActivationExt;
pub use layer_norm::LayerNorm;
pub use linear::Linear;
pub use loss::{cross_entropy, Reduction};
pub use module::{format_float, join_name, named_modules, Module};
pub use pool::{AvgPool2d, MaxPool2d};
pub use sequential::{cnn, mlp, ForwardHookHandle, Sequential};
