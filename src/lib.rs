//! `minidl` — a from-scratch deep-learning framework whose first-class citizens are activation
//! functions. This facade re-exports the member crates: [`tensor`], [`autograd`], [`nn`],
//! [`optim`] and [`datasets`], and owns what the examples share: [`cli`] (command-line
//! arguments), [`lab`] (the training loop, checkpoints), [`metrics`] (per-epoch records, JSON
//! Lines), [`report`] (progress bar, tables, SVG charts, HTML), [`stats`] (mean ± spread over
//! seeds, Welch's t-test), [`search`] (searching for activation functions), [`fs`] (atomic
//! writes) and [`experiments`] (the example programs as library functions — the activations
//! tool, dead ReLUs, vanishing gradients, convergence, regularisation — for a crate of one's
//! own to run).
//! [`prelude`] brings what a training script names in one `use`.

pub use autograd;
pub use datasets;
pub use nn;
pub use optim;
pub use tensor;

pub mod cli;
pub mod experiments;
pub mod fs;
pub mod lab;
pub mod metrics;
pub mod report;
pub mod search;
pub mod stats;

pub mod prelude {
    //! What a training script names, in one `use minidl::prelude::*;`: values and the graph
    //! ([`Tensor`], [`Var`], [`no_grad`]), the [`Module`] trait and [`Sequential`], the common
    //! layers and activations, the losses, the [`Optimizer`] trait with the optimizers and
    //! schedules, the data ([`Dataset`], [`DataLoader`], [`SyntheticDigits`], [`Mnist`]), the
    //! activation methods on [`Var`] ([`ActivationExt`]: `x.relu()`, `x.mish()`) and
    //! [`ActivationSpec`] (an activation named on a command line: `"leaky_relu:0.1"`, a formula).
    //!
    //! ```
    //! use minidl::prelude::*;
    //!
    //! let mut rng = tensor::rng(0);
    //! let act = ActivationSpec::parse("mish").unwrap();
    //! let model = Sequential::new()
    //!     .push(Linear::new(4, 8, true, &mut rng))
    //!     .push_boxed(act.build())
    //!     .push(Linear::new(8, 3, true, &mut rng));
    //! let mut opt = Adam::new(model.parameters(), 1e-3);
    //! let x = Var::constant(Tensor::randn([2, 4], &mut rng));
    //! let y = Tensor::from_vec(vec![0.0, 2.0], [2]);
    //! let loss = cross_entropy(&model.forward(&x), &y);
    //! opt.zero_grad();
    //! loss.backward();
    //! opt.step();
    //! assert!(loss.item().is_finite());
    //! assert!(x.relu().value().data().iter().all(|&v| v >= 0.0));
    //! ```

    pub use autograd::{no_grad, Var};
    pub use datasets::{DataLoader, Dataset, FashionMnist, Mnist, SyntheticDigits};
    pub use nn::loss::{
        binary_cross_entropy_with_logits, cross_entropy, cross_entropy_with, mse_loss, nll_loss,
        Reduction,
    };
    pub use nn::{
        ActivationExt, ActivationSpec, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Elu,
        Flatten, Gelu, LayerNorm, LeakyRelu, Linear, MaxPool2d, Mish, Module, PRelu, RRelu, Relu,
        Sequential, Sigmoid, Softmax, Softplus, Swish, Tanh,
    };
    pub use optim::{
        clip_grad_norm, Adam, AdamW, CosineAnnealingLr, LrSchedule, Optimizer, RmsProp, Sgd,
    };
    pub use tensor::{self, Tensor};
}
