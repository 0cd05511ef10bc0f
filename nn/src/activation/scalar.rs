//! Numerically safe scalar helpers shared by the activation rules: `exp`, `expm1`, `tanh`,
//! `sigmoid`, `ln(1 + e)`, `softplus` (with PyTorch's `beta` / `threshold`), `log_sigmoid`,
//! `erf`, `erfc` and the standard normal `Φ` / `φ`.
//!
//! Two goals shape them:
//! - **No NaN or ∞ for any finite input.** Every formula is written in a form that cannot
//!   overflow: `σ(x)` from `e = exp(−|x|) ≤ 1`; `softplus(x) = max(x, 0) + ln(1 + exp(−|x|))`;
//!   `tanh` from `expm1(−2|x|) ∈ (−1, 0]`. A composed `ln(1 + exp(x))` overflows at `x > 88`
//!   and its gradient `exp(x) / (1 + exp(x))` becomes `∞/∞ = NaN` — that is the bug these avoid.
//! - **Fast, branch-free, inlinable.** Every helper is plain arithmetic (a polynomial after a
//!   range reduction) with `if`s that compile to selects, so the fused op's loop over a slice is
//!   auto-vectorised. The `libm` functions behind `f32::exp` or `f32::ln_1p` are opaque calls
//!   that stop vectorisation (hence [`ln_1p_unit`] for softplus). For the same reason every rule
//!   marks its `f` and `df` `#[inline(always)]`.
//! - **Fused multiply-adds.** The polynomials are evaluated by Horner's rule with
//!   `f32::mul_add`, which rounds once: where the CPU has FMA that is one instruction instead of
//!   a multiply and an add (Rust never fuses `a * b + c` by itself). It rounds the same way
//!   on every CPU, so the kernels still give the same bits everywhere; on an x86-64 CPU
//!   without FMA it is a library call, and slow.
//!
//! `cargo bench --bench activations` (in `benches/`) measures the kernels built on these.
//!
//! Accuracy: relative error ≤ 5e-7 (a few ulp) for every helper on normal results, checked in
//! the tests against values computed at 30 digits. Results below about 2⁻¹²⁵ ≈ 2.4e-38 are
//! flushed to zero.

/// `1/k!` for `k = 0, …, 8`: the Taylor coefficients of `eˣ`, for [`exp`] and [`expm1`].
const INV_FACTORIAL: [f32; 9] = [
    1.0,
    1.0,
    0.5,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
];

/// `eˣ` for `f32`, a few ulp accurate, without a library call (so loops vectorise).
///
/// `x = n·ln2 + r` with `n = round(x / ln2)` and `|r| ≤ ln2/2` (Cody–Waite: `ln2` split in a
/// high part with few bits, so `n·LN2_HI` is exact), then `eʳ` by its Taylor polynomial of
/// degree 7 (truncation error `r⁸/8! ≤ 6e-9`), then scaling by `2ⁿ` written into the exponent
/// bits. Overflow (`x > 88.72`) gives `∞`; results below `2⁻¹²⁵` (`x < −87.0`) are flushed to
/// `0`; `NaN` stays `NaN`.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4; // 0x3f318000: 9 significant bits, so n·LN2_HI is exact
    const LN2_LO: f32 = -2.121_944_4e-4; // ln2 − LN2_HI
    const MAGIC: f32 = 12_582_912.0; // 1.5·2²³: adding it rounds to an integer in the low bits
    const MAX: f32 = 88.722_83; // ln(f32::MAX)
    let xc = x.clamp(-87.5, MAX);
    let v = xc.mul_add(LOG2E, MAGIC);
    let n = v - MAGIC;
    let r = (-n).mul_add(LN2_LO, xc - n * LN2_HI);
    let p = horner(&INV_FACTORIAL[..8], r); // Σ rᵏ/k!, k ≤ 7
                                            // The low 9 bits of v's representation hold n (two's complement). Adding the exponent bias
                                            // and shifting them into place builds 2ⁿ⁻¹ (n − 1 ∈ [−127, 127]: always a valid exponent
                                            // field, 0 for the flushed bottom); the final ·2 restores 2ⁿ without overflowing at n = 128.
    let half_scale = f32::from_bits(v.to_bits().wrapping_add(126) << 23);
    let y = p * half_scale * 2.0;
    if x > MAX {
        f32::INFINITY
    } else {
        y
    }
}

/// `eˣ − 1`, accurate also near 0 where `exp(x) − 1` loses all its digits.
///
/// For `|x| < ln2/2` the Taylor series `x + x²/2! + … + x⁸/8!` (truncation error `≤ 2e-10`
/// relative); elsewhere `exp(x) − 1`, whose relative error is small once `|eˣ − 1| > 0.29`.
#[inline(always)]
pub fn expm1(x: f32) -> f32 {
    let series = x * horner(&INV_FACTORIAL[1..], x); // Σ xᵏ/k!, 1 ≤ k ≤ 8
    if x.abs() < 0.346_573_6 {
        series
    } else {
        exp(x) - 1.0
    }
}

/// `tanh(x) = sign(x) · (1 − e^(−2|x|)) / (1 + e^(−2|x|))`, computed as
/// `−u / (u + 2)` with `u = expm1(−2|x|) ∈ (−1, 0]`: no overflow for any `x`, and accurate near 0.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let u = expm1(-2.0 * x.abs());
    (-u / (u + 2.0)).copysign(x)
}

/// The logistic function `σ(x) = 1 / (1 + e^(−x))`, without overflow on either side:
/// with `e = e^(−|x|) ≤ 1`, `σ(x) = 1/(1 + e)` for `x ≥ 0` and `e/(1 + e)` for `x < 0`
/// (never `1 − 1/(1 + e)`, which is 0 instead of a tiny positive number for `x ≪ 0`).
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    sigmoid_pair(x).0
}

/// `(σ(x), σ(−x)) = (σ(x), 1 − σ(x))` from one exponential, each accurate to a few ulp even
/// when it is tiny. `σ′(x) = σ(x)·σ(−x)` is computed from this pair without cancellation.
#[inline(always)]
pub fn sigmoid_pair(x: f32) -> (f32, f32) {
    let e = exp(-x.abs());
    let big = 1.0 / (1.0 + e);
    let small = e * big;
    if x >= 0.0 {
        (big, small)
    } else {
        (small, big)
    }
}

/// `ln(1 + e)` for `0 ≤ e ≤ 1`, without a library call: `2·atanh(s)` with `s = e/(2 + e) ≤ 1/3`,
/// by its series `2s·(1 + s²/3 + s⁴/5 + … + s¹⁴/15)` (truncation error `(s²)⁸/17 < 2e-9`
/// relative). Accurate relative to the result also for tiny `e`, where `ln(1 + e)` composed
/// would round `1 + e` to 1.
#[inline(always)]
pub fn ln_1p_unit(e: f32) -> f32 {
    const ATANH: [f32; 8] = [
        1.0,
        1.0 / 3.0,
        1.0 / 5.0,
        1.0 / 7.0,
        1.0 / 9.0,
        1.0 / 11.0,
        1.0 / 13.0,
        1.0 / 15.0,
    ];
    let s = e / (2.0 + e);
    2.0 * s * horner(&ATANH, s * s)
}

/// `softplus(x) = ln(1 + eˣ)`, stably: `max(x, 0) + ln(1 + e^(−|x|))`. Finite for every
/// finite `x`; its derivative is [`sigmoid`]`(x)`.
#[inline(always)]
pub fn softplus(x: f32) -> f32 {
    x.max(0.0) + ln_1p_unit(exp(-x.abs()))
}

/// PyTorch's `torch.nn.functional.softplus(x, beta, threshold)`:
/// `ln(1 + e^(β·x)) / β`, and `x` itself where `β·x > threshold` (where the two agree to
/// `f32` precision; PyTorch's default threshold is 20).
#[inline(always)]
pub fn softplus_beta(x: f32, beta: f32, threshold: f32) -> f32 {
    let z = beta * x;
    if z > threshold {
        x
    } else {
        softplus(z) / beta
    }
}

/// `ln σ(x) = −softplus(−x) = min(x, 0) − ln(1 + e^(−|x|))`: finite for every finite `x`
/// (`ln(σ(x))` composed is `ln(0) = −∞` for `x < −104`).
#[inline(always)]
pub fn log_sigmoid(x: f32) -> f32 {
    x.min(0.0) - ln_1p_unit(exp(-x.abs()))
}

/// `e^(−x²)`, with `x²` split in an exact part and a small remainder, so that the rounding of
/// `x²` (relative 6e-8, i.e. absolute 6e-6 in the exponent at `x = 10`) does not reach the
/// result: `hi` keeps the top 12 bits of `|x|` (so `hi²` is exact), and `e^(−(x² − hi²))` is a
/// short Taylor series, as `x² − hi² < x²/1024 < 0.2` where the result is not flushed anyway.
#[inline(always)]
pub fn exp_neg_square(x: f32) -> f32 {
    // Beyond 14, e^(−x²) < e^(−196) is 0 in f32; the cap keeps the remainder small.
    let x = x.abs().min(14.0);
    let hi = f32::from_bits(x.to_bits() & 0xffff_f000);
    exp(-hi * hi) * exp_neg_small((x - hi) * (x + hi))
}

/// `e^(−x²/2)`, split like [`exp_neg_square`] (halving is exact).
#[inline(always)]
pub fn exp_neg_half_square(x: f32) -> f32 {
    let x = x.abs().min(20.0);
    let hi = f32::from_bits(x.to_bits() & 0xffff_f000);
    exp(-0.5 * (hi * hi)) * exp_neg_small(0.5 * ((x - hi) * (x + hi)))
}

/// `e^(−r)` for `0 ≤ r < 0.2` by its Taylor polynomial of degree 6 (error `r⁷/7! < 3e-9`).
#[inline(always)]
fn exp_neg_small(r: f32) -> f32 {
    const TAYLOR: [f32; 7] = [
        1.0,
        -1.0,
        0.5,
        -1.0 / 6.0,
        1.0 / 24.0,
        -1.0 / 120.0,
        1.0 / 720.0,
    ];
    horner(&TAYLOR, r)
}

/// Coefficients of `erf(x) = x · P(x²)` on `|x| ≤ 1`: a least-squares fit of the relative error
/// on Chebyshev nodes (max relative error 1.4e-9 before rounding to `f32`), reproduced by
/// `nn/tests/fixtures/fit_erf.py`.
const ERF_SMALL: [f32; 7] = [
    std::f32::consts::FRAC_2_SQRT_PI, // the fit lands on 2/√π, erf′(0), to f32 precision
    -0.376_126_3,
    0.112_836_12,
    -0.026_854_81,
    0.005_190_053_5,
    -0.000_802_435_4,
    0.000_078_982_1,
];

/// Coefficients of `erfc(x) = e^(−x²) · Q(t)`, `t = 1/(1 + x/2)`, on `0 ≤ x ≤ 10` (same fit;
/// max relative error 6.8e-9 before rounding to `f32`). One formula for the whole range: no
/// branch for `erfc` and `Φ`.
const ERFC: [f32; 11] = [
    8.044_028e-6,
    0.281_857_73,
    0.285_139_95,
    0.224_384_75,
    0.281_401_1,
    -0.241_938_16,
    0.667_275_55,
    -0.947_899_9,
    0.627_554_66,
    -0.204_597_82,
    0.026_814_051,
];

/// `c[0] + c[1]·t + … + c[N−1]·t^(N−1)`, by Horner's rule with fused multiply-adds
/// (`f32::mul_add`: one rounding per step, one instruction where the CPU has FMA — half the
/// operations and half the latency of a multiply then an add).
#[inline(always)]
fn horner(c: &[f32], t: f32) -> f32 {
    let Some((&last, rest)) = c.split_last() else {
        return 0.0;
    };
    rest.iter().rev().fold(last, |acc, &ci| acc.mul_add(t, ci))
}

/// `Q` of the fit at `a ≥ 0`: `erfc(a) = e^(−a²) · erfc_factor(a)`. Beyond the fitted range
/// (`a > 10`) `erfc` is below the smallest `f32` anyway.
#[inline(always)]
fn erfc_factor(a: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.5 * a.min(10.0));
    horner(&ERFC, t)
}

/// The error function `erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt`, relative error ≤ 5e-7.
///
/// `|x| ≤ 1`: `x · P(x²)` (accurate relative to the small result); `|x| > 1`:
/// `sign(x) · (1 − erfc(|x|))`. Both are computed and one selected: no unpredictable branch.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let small = x * horner(&ERF_SMALL, x * x);
    let large = (1.0 - exp_neg_square(a) * erfc_factor(a)).copysign(x);
    if a <= 1.0 {
        small
    } else {
        large
    }
}

/// The complementary error function `erfc(x) = 1 − erf(x)`, accurate (relative error ≤ 5e-7)
/// also where it is tiny (`x ≫ 1`) and `1 − erf(x)` would be 0. Uses `erfc(−x) = 2 − erfc(x)`.
#[inline(always)]
pub fn erfc(x: f32) -> f32 {
    let a = x.abs();
    let tail = exp_neg_square(a) * erfc_factor(a);
    if x < 0.0 {
        2.0 - tail
    } else {
        tail
    }
}

/// `1/√(2π)`.
const INV_SQRT_2PI: f32 = 0.398_942_3;

/// The standard normal CDF `Φ(x) = ½·erfc(−x/√2)`, relative error ≤ 5e-7, also for `x ≪ 0`
/// where `½·(1 + erf(x/√2))` cancels to 0 (GELU's left tail). The Gaussian factor is
/// `e^(−x²/2)` computed from `x` itself, so the rounding of `x/√2` does not reach it.
#[inline(always)]
pub fn normal_cdf(x: f32) -> f32 {
    normal_cdf_pdf(x).0
}

/// The standard normal density `φ(x) = e^(−x²/2) / √(2π)`.
#[inline(always)]
pub fn normal_pdf(x: f32) -> f32 {
    INV_SQRT_2PI * exp_neg_half_square(x)
}

/// `(Φ(x), φ(x))` sharing one `e^(−x²/2)`: what GELU′ = Φ + x·φ needs.
#[inline(always)]
pub fn normal_cdf_pdf(x: f32) -> (f32, f32) {
    let e = exp_neg_half_square(x);
    let half_tail = 0.5 * e * erfc_factor(x.abs() * std::f32::consts::FRAC_1_SQRT_2);
    let cdf = if x < 0.0 { half_tail } else { 1.0 - half_tail };
    (cdf, INV_SQRT_2PI * e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values computed with mpmath at 30 digits (by the one-liner
    /// `[mp.erf(x), mp.erfc(x), mp.ncdf(x), mp.npdf(x), mp.exp(x), mp.expm1(x), mp.tanh(x),
    /// 1/(1+mp.exp(-x)), mp.log1p(mp.exp(x))]` at each `f32` point `x`).
    #[allow(clippy::approx_constant)] // literal references: ln 2 and e appear as values
    const TABLE: &[[f64; 10]] = &[
        // x, erf, erfc, Φ, φ, exp, expm1, tanh, σ, softplus
        [
            -30.0,
            -1.0,
            2.0,
            4.906713927148187e-198,
            1.4736461348785476e-196,
            9.357622968840175e-14,
            -0.9999999999999064,
            -1.0,
            9.357622968839299e-14,
            9.357622968839737e-14,
        ],
        [
            -12.0,
            -1.0,
            2.0,
            1.776482112077679e-33,
            2.1463837356630605e-32,
            6.14421235332821e-06,
            -0.9999938557876467,
            -0.9999999999244973,
            6.144174602214718e-06,
            6.144193477732806e-06,
        ],
        [
            -9.0,
            -1.0,
            2.0,
            1.1285884059538405e-19,
            1.0279773571668915e-18,
            0.00012340980408667956,
            -0.9998765901959134,
            -0.999999969540041,
            0.00012339457598623172,
            0.00012340218972325883,
        ],
        [
            -5.5,
            -0.9999999999999927,
            1.9999999999999927,
            1.8989562465887718e-08,
            1.0769760042543276e-07,
            0.004086771438464067,
            -0.995913228561536,
            -0.9999665971563038,
            0.004070137715896128,
            0.0040784432705707205,
        ],
        [
            -3.0,
            -0.9999779095030014,
            1.9999779095030015,
            0.0013498980316300946,
            0.0044318484119380075,
            0.049787068367863944,
            -0.950212931632136,
            -0.9950547536867305,
            0.04742587317756678,
            0.04858735157374206,
        ],
        [
            -2.0,
            -0.9953222650189527,
            1.9953222650189528,
            0.02275013194817921,
            0.05399096651318805,
            0.1353352832366127,
            -0.8646647167633873,
            -0.9640275800758169,
            0.11920292202211756,
            0.1269280110429725,
        ],
        [
            -1.25,
            -0.9229001282564583,
            1.9229001282564582,
            0.10564977366685525,
            0.18264908538902191,
            0.2865047968601901,
            -0.7134952031398099,
            -0.8482836399575129,
            0.22270013882530884,
            0.2519290813453729,
        ],
        [
            -1.0,
            -0.8427007929497149,
            1.8427007929497148,
            0.15865525393145705,
            0.24197072451914334,
            0.36787944117144233,
            -0.6321205588285577,
            -0.7615941559557649,
            0.2689414213699951,
            0.3132616875182228,
        ],
        [
            -0.75,
            -0.7111556336535151,
            1.7111556336535152,
            0.2266273523768682,
            0.30113743215480443,
            0.4723665527410147,
            -0.5276334472589853,
            -0.6351489523872873,
            0.320821300824607,
            0.38687100611489994,
        ],
        [
            -0.5,
            -0.5204998778130465,
            1.5204998778130465,
            0.3085375387259869,
            0.35206532676429947,
            0.6065306597126334,
            -0.3934693402873666,
            -0.46211715726000974,
            0.37754066879814546,
            0.4740769841801067,
        ],
        [
            -0.30000001192092896,
            -0.32862677175271543,
            1.3286267717527154,
            0.3820885732645503,
            0.38138781409657496,
            0.7408182118504766,
            -0.2591817881495235,
            -0.2913126233608736,
            0.42555748027417084,
            0.5543552393954866,
        ],
        [
            -0.10000000149011612,
            -0.11246291768297051,
            1.1124629176829706,
            0.4601721621314656,
            0.39695254741786123,
            0.9048374166876467,
            -0.09516258331235325,
            -0.09966799610026955,
            0.47502081214946074,
            0.6443966593657348,
        ],
        [
            -0.0010000000474974513,
            -0.0011283788445643173,
            1.0011283788445644,
            0.4996010577671402,
            0.3989420809303234,
            0.999000499785925,
            -0.000999500214074986,
            -0.0009999997141642038,
            0.49975000000895897,
            0.6926473055362032,
        ],
        [
            0.0,
            0.0,
            1.0,
            0.5,
            0.3989422804014327,
            1.0,
            0.0,
            0.0,
            0.5,
            0.6931471805599453,
        ],
        [
            9.999999747378752e-05,
            0.00011283791348289937,
            0.9998871620865171,
            0.5000398942269658,
            0.39894227840672136,
            1.0001000049976403,
            0.00010000499764020572,
            9.999999714045421e-05,
            0.5000249999993476,
            0.6931971818086822,
        ],
        [
            0.05000000074505806,
            0.05637197863562547,
            0.9436280213643745,
            0.5199388061352364,
            0.3984439140799208,
            1.051271097159282,
            0.05127109715928204,
            0.049958375701078486,
            0.5124973966703585,
            0.7184596483951267,
        ],
        [
            0.25,
            0.27632639016823696,
            0.7236736098317631,
            0.5987063256829237,
            0.3866681168028492,
            1.2840254166877414,
            0.2840254166877415,
            0.24491866240370913,
            0.5621765008857981,
            0.8259394198788436,
        ],
        [
            0.4000000059604645,
            0.4283923607779012,
            0.5716076392220988,
            0.6554217438053852,
            0.36827013942529885,
            1.4918247065332384,
            0.49182470653323845,
            0.3799489673552295,
            0.5986876615445177,
            0.9130152559684092,
        ],
        [
            0.5,
            0.5204998778130465,
            0.4795001221869535,
            0.6914624612740131,
            0.35206532676429947,
            1.6487212707001282,
            0.6487212707001282,
            0.46211715726000974,
            0.6224593312018546,
            0.9740769841801067,
        ],
        [
            0.8999999761581421,
            0.7969082004549685,
            0.20309179954503154,
            0.8159398683092737,
            0.26608525560832486,
            2.4596030525154426,
            1.4596030525154424,
            0.7162978585900097,
            0.7109494977254948,
            1.241153857781731,
        ],
        [
            1.0,
            0.8427007929497149,
            0.15729920705028513,
            0.8413447460685429,
            0.24197072451914334,
            2.718281828459045,
            1.7182818284590453,
            0.7615941559557649,
            0.7310585786300049,
            1.3132616875182228,
        ],
        [
            1.5,
            0.9661051464753108,
            0.033894853524689274,
            0.9331927987311419,
            0.12951759566589172,
            4.4816890703380645,
            3.481689070338065,
            0.9051482536448664,
            0.8175744761936437,
            1.7014132779827524,
        ],
        [
            2.5,
            0.999593047982555,
            0.0004069520174449589,
            0.9937903346742238,
            0.017528300493568537,
            12.182493960703473,
            11.182493960703473,
            0.9866142981514303,
            0.9241418199787564,
            2.5788897342925496,
        ],
        [
            4.0,
            0.9999999845827421,
            1.541725790028002e-08,
            0.9999683287581669,
            0.00013383022576488534,
            54.598150033144236,
            53.598150033144236,
            0.999329299739067,
            0.9820137900379085,
            4.0181499279178094,
        ],
        [
            6.0,
            1.0,
            2.1519736712498913e-17,
            0.9999999990134123,
            6.075882849823285e-09,
            403.4287934927351,
            402.4287934927351,
            0.9999877116507956,
            0.9975273768433652,
            6.00247568513773,
        ],
        [
            9.5,
            1.0,
            3.7692144856548797e-41,
            1.0,
            1.007793539430001e-20,
            13359.726829661873,
            13358.726829661873,
            0.9999999887944072,
            0.9999251537724894,
            9.500074849028628,
        ],
        [
            15.0,
            1.0,
            7.212994172451207e-100,
            1.0,
            5.530709549844416e-50,
            3269017.3724721107,
            3269016.3724721107,
            0.9999999999998128,
            0.9999996940977731,
            15.000000305902274,
        ],
    ];

    /// `ours` agrees with `reference` to `rel` relative error; below the smallest normal
    /// `f32`, only the flush (a tiny non-negative number or 0) is asked for.
    fn close(what: &str, x: f64, ours: f32, reference: f64, rel: f64) {
        if reference.abs() < 2.0 * f64::from(f32::MIN_POSITIVE) {
            assert!(
                (f64::from(ours) - reference).abs() < 4.0 * f64::from(f32::MIN_POSITIVE),
                "{what}({x}) = {ours}, want {reference}"
            );
            return;
        }
        let err = ((f64::from(ours) - reference) / reference).abs();
        assert!(
            err <= rel,
            "{what}({x}) = {ours}, want {reference} (relative error {err:.2e})"
        );
    }

    #[test]
    fn helpers_match_high_precision_references() {
        for row in TABLE {
            let x = row[0] as f32;
            let ours = [
                ("erf", erf(x)),
                ("erfc", erfc(x)),
                ("normal_cdf", normal_cdf(x)),
                ("normal_pdf", normal_pdf(x)),
                ("exp", exp(x)),
                ("expm1", expm1(x)),
                ("tanh", tanh(x)),
                ("sigmoid", sigmoid(x)),
                ("softplus", softplus(x)),
            ];
            for (k, (what, v)) in ours.into_iter().enumerate() {
                close(what, row[0], v, row[k + 1], 5e-7);
            }
        }
    }

    #[test]
    fn exp_edges() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(1.0), std::f32::consts::E);
        assert_eq!(exp(89.0), f32::INFINITY);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert!(exp(88.7).is_finite() && exp(88.7) > 3.0e38);
        assert_eq!(exp(-1e4), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert!(exp(-86.9) > 0.0); // results below 2⁻¹²⁵ (x < −87.0) are flushed to 0
        assert!(exp(f32::NAN).is_nan());
        // every result within 3 ulp of libm's over a sweep
        let mut x = -86.9f32;
        while x < 88.7 {
            let (ours, libm) = (exp(x), x.exp());
            assert!(
                ((ours - libm) / libm).abs() < 3.6e-7,
                "exp({x}) = {ours} vs {libm}"
            );
            x += 0.0137;
        }
    }

    #[test]
    fn no_nan_or_inf_for_large_inputs() {
        for x in [-1e30f32, -1e4, -100.0, -20.0, 20.0, 100.0, 1e4, 1e30] {
            for (what, v) in [
                ("erf", erf(x)),
                ("erfc", erfc(x)),
                ("normal_cdf", normal_cdf(x)),
                ("normal_pdf", normal_pdf(x)),
                ("tanh", tanh(x)),
                ("sigmoid", sigmoid(x)),
                ("sigmoid(−x)", sigmoid_pair(x).1),
                ("softplus", softplus(x)),
                ("softplus_beta", softplus_beta(x, 2.0, 20.0)),
                ("log_sigmoid", log_sigmoid(x)),
                ("expm1", expm1(x.min(88.0))),
            ] {
                assert!(v.is_finite(), "{what}({x}) = {v}");
            }
        }
        assert_eq!(log_sigmoid(-1e4), -1e4);
        assert_eq!(softplus(1e4), 1e4);
        assert_eq!(softplus(-1e4), 0.0);
        assert_eq!((erf(1e4), erfc(1e4), erfc(-1e4)), (1.0, 0.0, 2.0));
        assert_eq!((tanh(1e4), tanh(-1e4)), (1.0, -1.0));
    }

    #[test]
    fn symmetries() {
        for i in 0..200 {
            let x = -10.0 + 0.1 * i as f32;
            assert_eq!(erf(-x), -erf(x));
            assert_eq!(tanh(-x), -tanh(x));
            let (s, c) = sigmoid_pair(x);
            assert!(
                (s + c - 1.0).abs() <= f32::EPSILON,
                "σ({x}) + σ(−{x}) = {}",
                s + c
            );
            assert_eq!(sigmoid_pair(-x), (c, s));
            assert!((log_sigmoid(x) - sigmoid(x).ln()).abs() <= 1e-6 * (1.0 + x.abs()));
        }
    }

    #[test]
    fn ln_1p_unit_is_accurate_on_its_range() {
        for i in 0..=1000 {
            let e = i as f32 / 1000.0;
            let want = f64::from(e).ln_1p();
            let got = f64::from(ln_1p_unit(e));
            assert!(
                (got - want).abs() <= 2.5e-7 * want,
                "ln_1p_unit({e}) = {got}, want {want}"
            );
        }
        assert_eq!(ln_1p_unit(1e-30), 1e-30);
    }

    #[test]
    fn softplus_beta_follows_pytorch_threshold() {
        // above the threshold (β·x > 20) it is x itself
        assert_eq!(softplus_beta(10.5, 2.0, 20.0), 10.5);
        // at or below it, ln(1 + e^(βx))/β
        let want = (1.0f64 + (2.0f64 * 3.0).exp()).ln() / 2.0;
        assert!((f64::from(softplus_beta(3.0, 2.0, 20.0)) - want).abs() < 1e-6);
        assert_eq!(softplus_beta(-1e4, 0.5, 20.0), 0.0);
    }
}
