//! [`fused_rule!`](fused_rule): a scalar rule without parameters, its layer and its registry
//! entry from one description, so that its f and f′ are written once: the macro puts the same
//! strings into the type's documentation and into [`Entry::formula`](super::Entry::formula)
//! (which `--describe` prints).

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
        $(#[$meta])*
        ///
        /// ```text
        #[doc = concat!("f(x)  = ", $f)]
        #[doc = concat!("f′(x) = ", $df)]
        /// ```
        #[doc = concat!("PyTorch: `", $torch, "`.")]
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $ty;

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

        impl $crate::activation::PointwiseLayer for $ty {
            const LAYER_NAME: &'static str = $layer;
        }

        #[doc = concat!("Registry entry `", $name, "`.")]
        pub const ENTRY: $crate::activation::Entry = $crate::activation::Entry::new(
            $name,
            $crate::activation::Category::$category,
            |_| Ok(Box::new($ty)),
        )
        .about($about)
        .formula($f, $df)
        .range($range)
        .$pytorch($torch)
        $($(.$builder($($builder_args)*))*)?;
    };
}
pub(crate) use fused_rule;
