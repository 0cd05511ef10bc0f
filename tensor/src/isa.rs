//! Which instruction set the kernels of this crate run with, chosen at run time.
//!
//! **Why at run time.** The crate is built for the target's baseline (on x86-64: SSE2), so
//! that one binary runs on any CPU. The kernels that gain from wider vectors (the dot and
//! outer-product GEMMs, the sparse convolution backward, im2col, the 2x2 max pooling) carry
//! extra copies compiled for AVX2 + FMA or AVX-512, and [`isa`] tells them which copy this
//! CPU can run. It is the one detector of the crate: every kernel asks it, so they all agree
//! (and the tests can force all of them to their portable code at once).
//!
//! **Same bits on every copy.** Each kernel's copies do the same IEEE operations in the same
//! order (products are fused multiply-adds, `f32::mul_add`, one rounding in every copy), so
//! they give the same bits; only the speed differs (the baseline copy, on a CPU without FMA,
//! is slow). That is what makes [`FORCE_BASELINE`] safe to flip while other tests run: a
//! kernel that picks the other copy meanwhile still returns the same result.
//!
//! **The wrappers stay per kernel.** Code is compiled for an instruction set only inside a
//! function marked `#[target_feature(enable = ...)]` (and in the `#[inline(always)]` bodies
//! it calls, inlined into it); a closure or a non-inlined helper gets the baseline. So each
//! kernel keeps its own small wrapper functions next to its body, one per instruction set,
//! and calls the one [`isa`] names: this module only decides, it cannot hold the compiled
//! copies. [`portable_with_fma!`] writes the common wrapper (a portable body compiled for
//! AVX2 + FMA) in place.

/// An instruction set that kernels are compiled for, from the narrowest to the widest.
// (Elsewhere than on x86-64 every kernel has only its portable copy, and nothing asks.)
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// The target's baseline (on x86-64: SSE2); the portable copies.
    Baseline,
    /// x86-64 with AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// x86-64 with AVX2, FMA, AVX-512F and AVX-512VL (every AVX-512 kernel of the crate needs
    /// at most these).
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// The widest [`Isa`] this CPU has (in tests, [`Isa::Baseline`] while [`FORCE_BASELINE`] is
/// set). Cheap enough to call at every kernel call: the standard library caches the check.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) fn isa() -> Isa {
    #[cfg(test)]
    if FORCE_BASELINE.load(std::sync::atomic::Ordering::Relaxed) {
        return Isa::Baseline;
    }
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx2") && has!("fma") {
            if has!("avx512f") && has!("avx512vl") {
                return Isa::Avx512;
            }
            return Isa::Avx2;
        }
    }
    Isa::Baseline
}

/// Makes [`isa`] return [`Isa::Baseline`], so that every kernel runs its portable copy (tests
/// compare it with the vector ones; the copies give the same bits, so other tests running
/// meanwhile see no difference).
#[cfg(test)]
pub(crate) static FORCE_BASELINE: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// `portable_with_fma!(body(a: A, b: B))`, as the whole of an `unsafe fn`'s block: calls the
/// `unsafe fn body(a, b)` (which should be `#[inline(always)]`) through a copy compiled for
/// AVX2 + FMA when [`isa`] says the CPU has them, else as compiled for the baseline. The
/// wrapper is defined where the macro is used, so the body is compiled into it (see the
/// module docs).
macro_rules! portable_with_fma {
    ($body:ident($($arg:ident: $ty:ty),* $(,)?)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            /// The body, compiled for AVX2 + FMA.
            #[target_feature(enable = "avx2,fma")]
            unsafe fn with_fma($($arg: $ty),*) {
                $body($($arg),*)
            }
            if $crate::isa::isa() != $crate::isa::Isa::Baseline {
                // SAFETY: `isa` names only what the CPU has, and every ISA above the
                // baseline includes AVX2 and FMA.
                return with_fma($($arg),*);
            }
        }
        $body($($arg),*)
    }};
}
pub(crate) use portable_with_fma;
