//! `nn` — modules, layers, activations and losses for minidl (being built).

pub mod activation;
pub mod dropout;
pub mod functional;
pub mod init;
pub mod module;
pub mod sequential;
pub mod state;

pub use activation::{
    learnable, Activation, Celu, Elu, GeGlu, Gelu, GeluTanh, Glu, Hardshrink, Hardsigmoid,
    Hardswish, Hardtanh, LeakyRelu, LogSigmoid, LogSoftmax, Mish, PRelu, Param, ParseError,
    PointwiseLayer, RRelu, Relu, Relu6, Selu, Sigmoid, Snake, Softmax, Softmin, Softplus,
    Softshrink, Softsign, SquaredRelu, Squareplus, SwiGlu, Swish, Tanh, Tanhshrink, Threshold,
};
pub use dropout::Dropout;
pub use functional::ActivationExt;
pub use module::{format_float, join_name, named_modules, Module};
pub use sequential::Sequential;
