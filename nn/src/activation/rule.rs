//! f and f′ written once per activation: [`documented!`](documented) takes the activation's
//! type, its `f(x)`, `f′(x)` and PyTorch equivalent as text, and its registry entry, and puts
//! the same strings into the type's documentation and into the entry
//! ([`Entry::formula`](super::Entry::formula), which `--describe` prints).
//! [`fused_rule!`](fused_rule) does that and more for a scalar rule without parameters: it
//! writes the whole file's code from f and f′.

/// The type (a struct or a type alias) with f, f′ and the PyTorch equivalent added to its
/// docs, and `pub const ENTRY`: `entry` with the same `f`, `f′` and `pytorch` (or `no_pytorch`).
///
/// ```text
/// documented! {
///     /// Leaky ReLU (Maas, Hannun & Ng 2013, …).
///     #[derive(Clone, Debug)]
///     pub struct LeakyRelu { p: RuleParams<1> }
///
///     f "x if x > 0, else a·x",
///     df "1 if x > 0, else a  (f′(0) = a)",
///     pytorch "torch.nn.LeakyReLU(negative_slope=0.01)",
///     entry Entry::new("leaky_relu", Category::NonSaturating, |a| …).args(…).about(…).range(…),
/// }
/// ```
macro_rules! documented {
    (@docs $f:literal, $df:literal, $torch:literal) => {
        concat!(
            "\n\n```text\nf(x)  = ", $f, "\nf′(x) = ", $df, "\n```\n\nPyTorch: `", $torch, "`."
        )
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $ty:ident $body:tt
        f $f:literal, df $df:literal, $pytorch:ident $torch:literal,
        entry $entry:expr $(,)?
    ) => {
        $(#[$meta])*
        #[doc = $crate::activation::rule::documented!(@docs $f, $df, $torch)]
        $vis struct $ty $body
        $crate::activation::rule::documented!(@entry $ty, $f, $df, $pytorch $torch, $entry);
    };
    (
        $(#[$meta:meta])*
        $vis:vis type $ty:ident = $aliased:ty;
        f $f:literal, df $df:literal, $pytorch:ident $torch:literal,
        entry $entry:expr $(,)?
    ) => {
        $(#[$meta])*
        #[doc = $crate::activation::rule::documented!(@docs $f, $df, $torch)]
        $vis type $ty = $aliased;
        $crate::activation::rule::documented!(@entry $ty, $f, $df, $pytorch $torch, $entry);
    };
    (@entry $ty:ident, $f:literal, $df:literal, $pytorch:ident $torch:literal, $entry:expr) => {
        #[doc = concat!("Registry entry of [`", stringify!($ty), "`].")]
        pub const ENTRY: $crate::activation::entry::Entry = $entry.formula($f, $df).$pytorch($torch);
    };
}
pub(crate) use documented;

/// Defines a parameter-free scalar activation: the unit struct, its [`Pointwise`] rule (`f`
/// and `df`, `#[inline(always)]`), its [`PointwiseLayer`] and its `pub const ENTRY`.
///
/// ```text
/// fused_rule! {
///     /// Mish (Misra 2019, arXiv:1908.08681).
///     Mish = "mish", layer "Mish", SelfGated,
///     about "x·tanh(softplus(x)): smooth, non-monotonic, …",
///     f(x) = "x·tanh(softplus(x))" { … }
///     df(x) = "tanh(sp) + x·σ(x)·(1 − tanh²(sp)),  sp = softplus(x)" { … }
///     range "[≈ −0.3088, ∞)",
///     pytorch "torch.nn.Mish()",          // or: no_pytorch "what to write instead"
///     entry { .kinks(&[0.0]) },           // optional: more `Entry` builder calls
///     cheap_df = true,                    // optional: `Pointwise::CHEAP_DF`
/// }
/// ```
///
/// [`Pointwise`]: autograd::Pointwise
/// [`PointwiseLayer`]: super::PointwiseLayer
macro_rules! fused_rule {
    (
        $(#[$meta:meta])*
        $ty:ident = $name:literal, layer $layer:literal, $category:ident,
        about $about:literal,
        f($x:ident) = $f:literal $f_body:block
        df($dx:ident) = $df:literal $df_body:block
        range $range:literal,
        $pytorch:ident $torch:literal
        $(, entry { $(.$builder:ident($($builder_args:tt)*))* })?
        $(, cheap_df = $cheap:literal)?
        $(,)?
    ) => {
        $crate::activation::rule::documented! {
            $(#[$meta])*
            #[derive(Clone, Copy, Debug, Default)]
            pub struct $ty;
            f $f, df $df, $pytorch $torch,
            entry $crate::activation::entry::Entry::new(
                $name,
                $crate::activation::entry::Category::$category,
                |_| Ok(Box::new($ty)),
            )
            .about($about)
            .range($range)
            $($(.$builder($($builder_args)*))*)?,
        }

        impl ::autograd::Pointwise for $ty {
            $(const CHEAP_DF: bool = $cheap;)?
            fn name(&self) -> &'static str {
                $name
            }
            #[inline(always)]
            fn f(&self, $x: f32, _: &[f32]) -> f32 $f_body
            #[inline(always)]
            fn df(&self, $dx: f32, _: &[f32]) -> f32 $df_body
        }

        impl $crate::activation::layer::PointwiseLayer for $ty {
            const LAYER_NAME: &'static str = $layer;
        }

    };
}
pub(crate) use fused_rule;
