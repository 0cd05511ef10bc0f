//! Numerically safe scalar helpers shared by the activation rules: `exp`, `expm1`, `tanh`,
//! `sigmoid`, `softplus` (with PyTorch's `beta` / `threshold`), `log_sigmoid`, `erf`, `erfc` and
//! the standard normal `Φ` / `φ`.
//!
//! Two goals shape them:
//! - **No NaN or ∞ for any finite input.** Every formula is written in a form that cannot
//!   overflow: `σ(x)` from `e = exp(−|x|) ≤ 1`; `softplus(x) = max(x, 0) + ln(1 + exp(−|x|))`;
//!   `tanh` from `expm1(−2|x|) ∈ (−1, 0]`. A composed `ln(1 + exp(x))` overflows at `x > 88`
//!   and its gradient `exp(x) / (1 + exp(x))` becomes `∞/∞ = NaN` — that is the bug these avoid.
//! - **Fast, branch-free, inlinable.** `exp`, `expm1`, `tanh`, `sigmoid`, `erf` and `erfc` are
//!   plain arithmetic (a polynomial after a range reduction) with `if`s that compile to selects,
//!   so a loop over a slice calling them is auto-vectorised. The `libm` functions behind
//!   `f32::exp` are opaque calls that stop vectorisation.
//!
//! Accuracy: `exp`, `expm1`, `sigmoid`, `tanh` within a few ulp (relative error ≤ 5e-7) on
//! normal results; `erf`, `erfc` relative error ≤ 5e-7 (checked in the tests against values
//! computed in high precision). Results below the smallest normal `f32` (≈ 1.2e-38) are flushed to
//! zero.

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
    let v = xc * LOG2E + MAGIC;
    let n = v - MAGIC;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
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
    let r = x;
    let series = r
        * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0
                            + r * (1.0 / 720.0 + r * (1.0 / 5040.0 + r * (1.0 / 40320.0))))))));
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

/// `softplus(x) = ln(1 + eˣ)`, stably: `max(x, 0) + ln(1 + e^(−|x|))`. Finite for every
/// finite `x`; its derivative is [`sigmoid`]`(x)`.
#[inline(always)]
pub fn softplus(x: f32) -> f32 {
    x.max(0.0) + exp(-x.abs()).ln_1p()
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
    x.min(0.0) - exp(-x.abs()).ln_1p()
}

/// `e^(−x²)`, with `x²` split in an exact part and a small remainder, so that the rounding of
/// `x²` (relative 6e-8, i.e. absolute 6e-6 in the exponent at `x = 10`) does not reach the
/// result.
#[inline(always)]
pub fn exp_neg_square(x: f32) -> f32 {
    // hi keeps 12 significant bits of x, so hi·hi is exact in f32.
    let hi = f32::from_bits(x.to_bits() & 0xffff_f000);
    exp(-hi * hi) * exp(-(x - hi) * (x + hi))
}

/// `e^(−x²/2)`, split like [`exp_neg_square`] (halving is exact).
#[inline(always)]
fn exp_neg_half_square(x: f32) -> f32 {
    let hi = f32::from_bits(x.to_bits() & 0xffff_f000);
    exp(-0.5 * (hi * hi)) * exp(-0.5 * ((x - hi) * (x + hi)))
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

/// Coefficients of `erfc(x) = e^(−x²) · Q(t)`, `t = 1/(1 + x/2)`, on `0.5 ≤ x ≤ 10` (same fit;
/// max relative error 1.5e-9 before rounding to `f32`).
const ERFC_TAIL: [f32; 10] = [
    3.848_346e-6,
    0.281_976_64,
    0.283_680_3,
    0.234_602_5,
    0.236_229_57,
    -0.110_058_27,
    0.409_444_18,
    -0.614_042_46,
    0.353_007_73,
    -0.074_852_86,
];

/// `c[0] + c[1]·t + … + c[N−1]·t^(N−1)`, by Horner's rule.
#[inline(always)]
fn horner<const N: usize>(c: &[f32; N], t: f32) -> f32 {
    let mut acc = c[N - 1];
    let mut i = N - 1;
    while i > 0 {
        i -= 1;
        acc = acc * t + c[i];
    }
    acc
}

/// `Q(t)` of the tail fit at `a = |x| ≥ 0.5`: `erfc(a) = e^(−a²) · erfc_tail_factor(a)`.
/// Beyond the fitted range (`a > 10`) `erfc` is below the smallest `f32` anyway.
#[inline(always)]
fn erfc_tail_factor(a: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.5 * a.min(10.0));
    horner(&ERFC_TAIL, t)
}

/// The error function `erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt`, relative error ≤ 5e-7.
///
/// `|x| ≤ 1`: `x · P(x²)`; `|x| > 1`: `sign(x) · (1 − erfc(|x|))` with the tail fit of
/// [`erfc`]. Both branches are computed and one selected, so there is no unpredictable branch.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let small = x * horner(&ERF_SMALL, x * x);
    let large = (1.0 - exp_neg_square(a) * erfc_tail_factor(a)).copysign(x);
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
    let small = 1.0 - x * horner(&ERF_SMALL, x * x);
    let tail = exp_neg_square(a) * erfc_tail_factor(a);
    let large = if x < 0.0 { 2.0 - tail } else { tail };
    if a <= 0.5 {
        small
    } else {
        large
    }
}

/// The standard normal CDF `Φ(x) = ½·erfc(−x/√2)`, accurate for `x ≪ 0` too, where
/// `½·(1 + erf(x/√2))` cancels to 0 (GELU's left tail). The Gaussian factor of the tail is
/// `e^(−x²/2)` computed from `x` itself, so the rounding of `x/√2` does not reach it.
#[inline(always)]
pub fn normal_cdf(x: f32) -> f32 {
    let z = x * std::f32::consts::FRAC_1_SQRT_2;
    let a = z.abs();
    let small = 0.5 + 0.5 * z * horner(&ERF_SMALL, z * z);
    let half_tail = 0.5 * exp_neg_half_square(x) * erfc_tail_factor(a);
    let large = if x < 0.0 { half_tail } else { 1.0 - half_tail };
    if a <= 0.5 {
        small
    } else {
        large
    }
}

/// The standard normal density `φ(x) = e^(−x²/2) / √(2π)`.
#[inline(always)]
pub fn normal_pdf(x: f32) -> f32 {
    const INV_SQRT_2PI: f32 = 0.398_942_3;
    INV_SQRT_2PI * exp_neg_half_square(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values computed with mpmath at 30 digits (by the one-liner
    /// `[mp.erf(x), mp.erfc(x), mp.ncdf(x), mp.npdf(x), mp.exp(x), mp.expm1(x), mp.tanh(x),
    /// 1/(1+mp.exp(-x)), mp.log1p(mp.exp(x))]` at each `f32` point `x`).
    const TABLE: &[[f64; 10]] = &[
        // x, erf, erfc, Φ, φ, exp, expm1, tanh, σ, softplus
        [-30.0, -1.0, 2.0, 4.9067139271481871e-198, 1.4736461348785475e-196, 9.3576229688401746e-14, -0.99999999999990642, -1.0, 9.357622968839299e-14, 9.3576229688397368e-14],
        [-12.0, -1.0, 2.0, 1.776482112077679e-33, 2.1463837356630603e-32, 6.1442123533282098e-6, -0.99999385578764667, -0.99999999992449731, 6.1441746022147178e-6, 6.1441934777328054e-6],
        [-9.0, -1.0, 2.0, 1.1285884059538406e-19, 1.0279773571668915e-18, 0.00012340980408667955, -0.99987659019591332, -0.99999996954004097, 0.00012339457598623173, 0.00012340218972325882],
        [-5.5, -0.99999999999999264, 1.9999999999999926, 1.8989562465887719e-8, 1.0769760042543276e-7, 0.004086771438464067, -0.99591322856153593, -0.99996659715630381, 0.0040701377158961273, 0.0040784432705707209],
        [-3.0, -0.99997790950300141, 1.9999779095030014, 0.0013498980316300945, 0.0044318484119380072, 0.049787068367863943, -0.95021293163213606, -0.99505475368673045, 0.047425873177566781, 0.048587351573742059],
        [-2.0, -0.99532226501895273, 1.9953222650189527, 0.022750131948179207, 0.053990966513188052, 0.13533528323661269, -0.86466471676338731, -0.96402758007581688, 0.11920292202211756, 0.1269280110429725],
        [-1.25, -0.92290012825645823, 1.9229001282564582, 0.10564977366685526, 0.1826490853890219, 0.2865047968601901, -0.7134952031398099, -0.8482836399575129, 0.22270013882530885, 0.25192908134537289],
        [-1.0, -0.84270079294971487, 1.8427007929497149, 0.15865525393145705, 0.24197072451914335, 0.36787944117144232, -0.63212055882855768, -0.76159415595576489, 0.26894142136999512, 0.31326168751822283],
        [-0.75, -0.71115563365351513, 1.7111556336535151, 0.2266273523768682, 0.3011374321548044, 0.47236655274101471, -0.52763344725898529, -0.63514895238728732, 0.32082130082460703, 0.38687100611489994],
        [-0.5, -0.52049987781304654, 1.5204998778130465, 0.3085375387259869, 0.35206532676429948, 0.60653065971263342, -0.39346934028736658, -0.46211715726000976, 0.37754066879814544, 0.47407698418010668],
        [-0.30000001192092896, -0.32862677175271542, 1.3286267717527154, 0.38208857326455032, 0.38138781409657495, 0.74081821185047654, -0.25918178814952346, -0.29131262336087357, 0.42555748027417085, 0.55435523939548661],
        [-0.10000000149011612, -0.11246291768297051, 1.1124629176829705, 0.46017216213146563, 0.39695254741786123, 0.90483741668764675, -0.095162583312353248, -0.099667996100269556, 0.47502081214946076, 0.64439665936573473],
        [-0.0010000000474974513, -0.0011283788445643173, 1.0011283788445643, 0.49960105776714021, 0.3989420809303234, 0.99900049978592501, -0.00099950021407498593, -0.00099999971416420381, 0.49975000000895897, 0.69264730553620325],
        [0.0, 0.0, 1.0, 0.5, 0.39894228040143268, 1.0, 0.0, 0.0, 0.5, 0.69314718055994531],
        [9.9999997473787516e-5, 0.00011283791348289936, 0.9998871620865171, 0.50003989422696584, 0.39894227840672138, 1.0001000049976402, 0.00010000499764020572, 9.999999714045421e-5, 0.50002499999934761, 0.69319718180868214],
        [0.05000000074505806, 0.056371978635625472, 0.94362802136437453, 0.51993880613523631, 0.39844391407992081, 1.051271097159282, 0.051271097159282043, 0.049958375701078487, 0.51249739667035849, 0.71845964839512661],
        [0.25, 0.27632639016823693, 0.72367360983176307, 0.59870632568292372, 0.38666811680284921, 1.2840254166877415, 0.28402541668774148, 0.24491866240370913, 0.5621765008857981, 0.82593941987884356],
        [0.40000000596046448, 0.4283923607779012, 0.5716076392220988, 0.65542174380538525, 0.36827013942529887, 1.4918247065332385, 0.49182470653323846, 0.37994896735522946, 0.59868766154451764, 0.91301525596840916],
        [0.5, 0.52049987781304654, 0.47950012218695346, 0.6914624612740131, 0.35206532676429948, 1.6487212707001281, 0.64872127070012815, 0.46211715726000976, 0.62245933120185456, 0.97407698418010668],
        [0.89999997615814209, 0.79690820045496845, 0.20309179954503155, 0.81593986830927372, 0.26608525560832486, 2.4596030525154425, 1.4596030525154425, 0.71629785859000968, 0.71094949772549481, 1.2411538577817309],
        [1.0, 0.84270079294971487, 0.15729920705028513, 0.84134474606854295, 0.24197072451914335, 2.7182818284590452, 1.7182818284590452, 0.76159415595576489, 0.73105857863000488, 1.3132616875182228],
        [1.5, 0.96610514647531073, 0.033894853524689273, 0.93319279873114193, 0.12951759566589173, 4.4816890703380648, 3.4816890703380648, 0.90514825364486644, 0.81757447619364366, 1.7014132779827524],
        [2.5, 0.99959304798255504, 0.00040695201744495894, 0.99379033467422386, 0.017528300493568537, 12.182493960703473, 11.182493960703473, 0.98661429815143029, 0.92414181997875645, 2.5788897342925496],
        [4.0, 0.9999999845827421, 1.5417257900280019e-8, 0.99996832875816688, 0.00013383022576488535, 54.598150033144239, 53.598150033144239, 0.99932929973906704, 0.98201379003790844, 4.0181499279178097],
        [6.0, 0.99999999999999998, 2.1519736712498913e-17, 0.99999999901341235, 6.0758828498232855e-9, 403.42879349273512, 402.42879349273512, 0.99998771165079557, 0.99752737684336523, 6.0024756851377304],
        [9.5, 1.0, 3.7692144856548799e-41, 1.0, 1.007793539430001e-20, 13359.726829661872, 13358.726829661872, 0.99999998879440719, 0.99992515377248939, 9.5000748490286293],
        [15.0, 1.0, 7.2129941724512067e-100, 1.0, 5.5307095498444162e-50, 3.2690173724721106e+6, 3.2690163724721106e+6, 0.99999999999981285, 0.99999969409777307, 15.000000305902274],
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
        assert!(err <= rel, "{what}({x}) = {ours}, want {reference} (relative error {err:.2e})");
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
            assert!(((ours - libm) / libm).abs() < 3.6e-7, "exp({x}) = {ours} vs {libm}");
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
            assert!((s + c - 1.0).abs() <= f32::EPSILON, "σ({x}) + σ(−{x}) = {}", s + c);
            assert_eq!(sigmoid_pair(-x), (c, s));
            assert!((log_sigmoid(x) - sigmoid(x).ln()).abs() <= 1e-6 * (1.0 + x.abs()));
        }
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
