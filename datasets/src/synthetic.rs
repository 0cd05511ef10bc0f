//! Synthetic handwritten-looking digits, 28×28 grayscale, made from nothing: every example runs
//! offline, and fast tests need no download.
//!
//! Each digit is a few pen strokes — lines, circular/elliptic arcs and quadratic curves — in a
//! glyph box `x ∈ [−0.6, 0.6]`, `y ∈ [−1, 1]` (y down), in one of several styles (a 1 with or
//! without a flag, a 4 open or closed, a 7 with or without a bar, ...). Then, per image:
//!
//! 1. every control point is moved a little, arcs change radius and extent (the writer's hand);
//! 2. an affine map places the glyph: rotation, scale, aspect, shear (slant), translation;
//! 3. the strokes are drawn with a random pen width, anti-aliased;
//! 4. sometimes a stray mark is added, sometimes a stroke is cut short;
//! 5. a Gaussian blur of random width, a contrast that takes the darkest ink to full intensity
//!    or past it, Gaussian noise; then bytes 0–255.
//!
//! The difficulty is set so that a nearest-class-mean classifier on the raw pixels reaches about
//! 65 % (MNIST: about 82 %), while a 784-128-10 MLP with plain SGD reaches about 96 % after one
//! epoch and 98 % after five (measured by `examples/synthetic_check.rs` on 60,000 / 10,000
//! images): not trivial, not impossible. Image `i` of a seed is the same whatever `n` is, because
//! each image draws from its own ChaCha8 stream.

use std::f32::consts::PI;

use rand::Rng;

use crate::loader::Dataset;
use crate::mnist::{Splits, DIGIT_CLASSES};

/// Image side in pixels.
const SIDE: usize = 28;

/// `(mean, std)` of synthetic pixels scaled to [0, 1], measured on the 60,000 training images of
/// seed 0 (the test `normalization_constant_matches_the_data` keeps it honest).
pub const SYNTHETIC_NORMALIZATION: (f32, f32) = (0.1647, 0.2976);

/// Stream offset of the test split, far from any train index.
const TEST_STREAM: u64 = 1 << 40;

/// A generator of `n` synthetic digit images for a seed.
///
/// ```
/// use datasets::SyntheticDigits;
/// let data = SyntheticDigits::new(1000, 42).generate();
/// assert_eq!(data.len(), 1000);
/// assert_eq!((data.rows(), data.cols()), (28, 28));
/// assert_eq!(data, SyntheticDigits::new(1000, 42).generate()); // deterministic
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticDigits {
    n: usize,
    seed: u64,
    stream: u64,
}

impl SyntheticDigits {
    /// `n` images for `seed`.
    pub fn new(n: usize, seed: u64) -> SyntheticDigits {
        SyntheticDigits { n, seed, stream: 0 }
    }

    /// A train set of `n_train` and a test set of `n_test` images for `seed`, drawn from
    /// disjoint streams (no image is in both), both normalised with
    /// [`SYNTHETIC_NORMALIZATION`].
    pub fn splits(n_train: usize, n_test: usize, seed: u64) -> Splits {
        let test = SyntheticDigits {
            n: n_test,
            seed,
            stream: TEST_STREAM,
        };
        Splits {
            train: SyntheticDigits::new(n_train, seed).generate_named("synthetic digits train"),
            test: test.generate_named("synthetic digits test"),
        }
    }

    /// Draws the images (on all cores; the result does not depend on how many) and returns
    /// them as a [`Dataset`] named `"synthetic digits"` with the digit class names.
    pub fn generate(&self) -> Dataset {
        self.generate_named("synthetic digits")
    }

    fn generate_named(&self, name: &str) -> Dataset {
        let p = SIDE * SIDE;
        let mut images = vec![0u8; self.n * p];
        let mut labels = vec![0u8; self.n];
        let threads = std::thread::available_parallelism()
            .map_or(1, |t| t.get())
            .min(8);
        let chunk = self.n.div_ceil(threads).max(1);
        std::thread::scope(|s| {
            for (k, (imgs, labs)) in images
                .chunks_mut(chunk * p)
                .zip(labels.chunks_mut(chunk))
                .enumerate()
            {
                s.spawn(move || {
                    for (j, (img, lab)) in imgs.chunks_exact_mut(p).zip(labs).enumerate() {
                        let index = (k * chunk + j) as u64;
                        let mut rng = tensor::rng(self.seed);
                        rng.set_stream(self.stream + index);
                        let digit = rng.random_range(0..10u8);
                        *lab = digit;
                        img.copy_from_slice(&render(digit, &mut rng));
                    }
                });
            }
        });
        let classes = DIGIT_CLASSES.iter().map(|c| c.to_string()).collect();
        let (mean, std) = SYNTHETIC_NORMALIZATION;
        Dataset::new(name, images, labels, SIDE, SIDE, classes)
            .expect("generated labels are digits and the buffer is n·784 bytes")
            .with_normalization(mean, std)
    }
}

type P = [f32; 2];

/// One pen stroke in glyph coordinates.
#[derive(Debug, Clone, Copy)]
enum Stroke {
    /// A straight line between two points.
    Line(P, P),
    /// An elliptic arc: centre, radii, start and end angle in degrees (y down, so 270° is up
    /// and angles grow clockwise on screen).
    Arc(P, P, f32, f32),
    /// A quadratic Bézier curve: start, control point, end.
    Curve(P, P, P),
}

impl Stroke {
    /// Points along the stroke, about one per 0.08 glyph units.
    fn polyline(&self, out: &mut Vec<P>) {
        match *self {
            Stroke::Line(a, b) => {
                out.push(a);
                out.push(b);
            }
            Stroke::Arc(c, r, a0, a1) => {
                let steps = (((a1 - a0).abs() / 12.0).ceil() as usize).max(2);
                for k in 0..=steps {
                    let t = (a0 + (a1 - a0) * k as f32 / steps as f32) * PI / 180.0;
                    out.push([c[0] + r[0] * t.cos(), c[1] + r[1] * t.sin()]);
                }
            }
            Stroke::Curve(a, m, b) => {
                let steps = 12;
                for k in 0..=steps {
                    let t = k as f32 / steps as f32;
                    let (u, v, w) = ((1.0 - t) * (1.0 - t), 2.0 * t * (1.0 - t), t * t);
                    out.push([
                        u * a[0] + v * m[0] + w * b[0],
                        u * a[1] + v * m[1] + w * b[1],
                    ]);
                }
            }
        }
    }
}

/// The point at angle `deg` on an ellipse.
fn on_arc(c: P, r: P, deg: f32) -> P {
    let t = deg * PI / 180.0;
    [c[0] + r[0] * t.cos(), c[1] + r[1] * t.sin()]
}

/// The strokes of `digit` in a randomly chosen style, control points already jittered.
fn glyph<R: Rng + ?Sized>(digit: u8, rng: &mut R) -> Vec<Stroke> {
    use Stroke::{Arc, Curve, Line};
    // The writer's choices first: style, radius factors, angle offsets.
    let style_draw: f32 = rng.random();
    let radius: [f32; 4] = std::array::from_fn(|_| rng.random_range(0.85..1.15));
    let angle: [f32; 4] = std::array::from_fn(|_| rng.random_range(-15.0..15.0));
    // Then every control point through `p`, which moves it by up to ±j (hand jitter).
    let j = 0.11;
    let mut p =
        |x: f32, y: f32| -> P { [x + rng.random_range(-j..j), y + rng.random_range(-j..j)] };
    let mut strokes = Vec::with_capacity(4);
    let r = |k: usize, rx: f32, ry: f32| -> P { [rx * radius[k], ry * radius[(k + 1) % 4]] };
    match digit {
        0 => {
            let start = 250.0 + angle[0] * 3.0;
            let sweep = 360.0 + 20.0 + angle[1].abs() * 2.0;
            strokes.push(Arc(p(0.0, 0.0), r(0, 0.52, 0.92), start, start + sweep));
        }
        1 => {
            let top = p(0.05, -1.0);
            strokes.push(Line(top, p(-0.05, 1.0)));
            if style_draw > 0.45 {
                strokes.push(Line(p(-0.32, -0.6), top));
            }
            if style_draw > 0.8 {
                strokes.push(Line(p(-0.35, 1.0), p(0.35, 1.0)));
            }
        }
        2 => {
            let (c, rr) = (p(0.0, -0.45), r(0, 0.5, 0.5));
            let (a0, a1) = (200.0 + angle[0], 380.0 + angle[1]);
            let end = on_arc(c, rr, a1);
            let corner = p(-0.55, 0.95);
            strokes.push(Arc(c, rr, a0, a1));
            if style_draw < 0.5 {
                strokes.push(Line(end, corner));
            } else {
                strokes.push(Curve(end, p(0.1, 0.35), corner));
            }
            strokes.push(Line(corner, p(0.6, 0.95)));
        }
        3 => {
            let (c2, r2) = (p(0.0, 0.45), r(1, 0.5, 0.5));
            let joint = on_arc(c2, r2, 270.0);
            if style_draw < 0.7 {
                let (c1, r1) = (p(0.0, -0.5), r(0, 0.44, 0.45));
                strokes.push(Arc(c1, r1, 200.0 + angle[0], 450.0));
                strokes.push(Line(on_arc(c1, r1, 450.0), joint));
            } else {
                let tr = p(0.45, -0.95);
                strokes.push(Line(p(-0.45, -0.95), tr));
                strokes.push(Line(tr, joint));
            }
            strokes.push(Arc(c2, r2, 270.0, 520.0 + angle[2]));
        }
        4 => {
            if style_draw < 0.55 {
                let top = p(0.25, -1.0);
                let left = p(-0.55, 0.35);
                strokes.push(Line(top, left));
                strokes.push(Line(left, p(0.6, 0.35)));
                strokes.push(Line(top, p(0.25, 1.0)));
            } else {
                let bend = p(-0.5, 0.3);
                strokes.push(Line(p(-0.4, -1.0), bend));
                strokes.push(Line(bend, p(0.55, 0.3)));
                strokes.push(Line(p(0.3, -0.6), p(0.3, 1.0)));
            }
        }
        5 => {
            let (c, rr) = (p(0.0, 0.42), r(0, 0.5, 0.52));
            let a0 = 235.0 + angle[0] * 0.5;
            let start = on_arc(c, rr, a0);
            let top_left = p(-0.35, -0.95);
            strokes.push(Line(p(0.5, -0.95), top_left));
            strokes.push(Line(top_left, start));
            strokes.push(Arc(c, rr, a0, 520.0 + angle[1]));
        }
        6 => {
            let (c, rr) = (p(0.0, 0.45), r(0, 0.47, 0.5));
            let join = on_arc(c, rr, 180.0);
            strokes.push(Curve(p(0.4, -0.95), p(-0.45, -0.75), join));
            strokes.push(Arc(c, rr, 180.0, 540.0 + angle[1].abs()));
        }
        7 => {
            let tr = p(0.55, -0.95);
            strokes.push(Line(p(-0.55, -0.95), tr));
            if style_draw < 0.6 {
                strokes.push(Line(tr, p(-0.1, 1.0)));
            } else {
                strokes.push(Curve(tr, p(0.1, -0.1), p(0.0, 1.0)));
            }
            if style_draw > 0.75 {
                strokes.push(Line(p(-0.2, 0.05), p(0.4, 0.05)));
            }
        }
        8 => {
            let a = 270.0 + angle[0] * 4.0;
            strokes.push(Arc(p(0.0, -0.5), r(0, 0.4, 0.45), a, a + 360.0));
            let b = 90.0 + angle[1] * 4.0;
            strokes.push(Arc(p(0.0, 0.45), r(2, 0.5, 0.5), b, b + 360.0));
        }
        _ => {
            let (c, rr) = (p(0.0, -0.45), r(0, 0.45, 0.5));
            let a = angle[0] * 2.0;
            strokes.push(Arc(c, rr, a, a + 360.0));
            let join = on_arc(c, rr, a);
            if style_draw < 0.6 {
                strokes.push(Line(join, p(0.3, 1.0)));
            } else {
                strokes.push(Curve(join, p(0.45, 0.5), p(-0.25, 0.95)));
            }
        }
    }
    strokes
}

/// Renders one image of `digit`, drawing all its randomness from `rng`.
///
/// # Panics
/// If `digit > 9`.
pub fn render<R: Rng + ?Sized>(digit: u8, rng: &mut R) -> [u8; SIDE * SIDE] {
    assert!(digit <= 9, "render: digit must be 0..=9, got {digit}");
    let mut strokes = glyph(digit, rng);

    // Occasional accidents: a stroke cut short, a stray mark.
    if strokes.len() > 1 && rng.random_bool(0.12) {
        let k = rng.random_range(0..strokes.len());
        strokes[k] = shorten(strokes[k], rng.random_range(0.4..0.8));
    }
    if rng.random_bool(0.2) {
        let a = [rng.random_range(-0.8..0.8), rng.random_range(-1.1..1.1)];
        let t = rng.random_range(0.0..2.0 * PI);
        let len = rng.random_range(0.2..0.6);
        strokes.push(Stroke::Line(
            a,
            [a[0] + len * t.cos(), a[1] + len * t.sin()],
        ));
    }

    // The affine placement: glyph units → pixels.
    let rot = rng.random_range(-16.0f32..16.0).to_radians();
    let scale = rng.random_range(7.4f32..10.2);
    let aspect = rng.random_range(0.8f32..1.2);
    let shear = rng.random_range(-0.35f32..0.35);
    let (tx, ty) = (
        rng.random_range(-2.2f32..2.2),
        rng.random_range(-2.2f32..2.2),
    );
    let (sx, sy) = (scale * aspect, scale / aspect);
    let (cr, sr) = (rot.cos(), rot.sin());
    let place = |q: P| -> P {
        let (x, y) = (q[0] * sx + shear * q[1] * sy, q[1] * sy);
        [13.5 + tx + cr * x - sr * y, 13.5 + ty + sr * x + cr * y]
    };

    // Draw: anti-aliased coverage, the darkest stroke wins at each pixel.
    let half_width = rng.random_range(0.7f32..1.7);
    let mut canvas = [0f32; SIDE * SIDE];
    let mut pts = Vec::with_capacity(64);
    for s in &strokes {
        pts.clear();
        s.polyline(&mut pts);
        let ink = rng.random_range(0.8f32..1.0);
        for w in pts.windows(2) {
            draw_segment(&mut canvas, place(w[0]), place(w[1]), half_width, ink);
        }
    }

    // Blur, contrast, noise, quantise.
    let sigma = rng.random_range(0.45f32..1.0);
    let canvas = blur(&canvas, sigma);
    // Like MNIST's scans, the darkest ink reaches (or saturates past) full intensity.
    let peak = canvas.iter().fold(0f32, |m, &v| m.max(v)).max(0.05);
    let gain = rng.random_range(1.0f32..1.5) / peak;
    let noise = rng.random_range(0.0f32..0.14);
    let mut out = [0u8; SIDE * SIDE];
    for (o, &v) in out.iter_mut().zip(canvas.iter()) {
        let n: f32 = if noise > 0.0 {
            noise * standard_normal(rng)
        } else {
            0.0
        };
        *o = ((v * gain + n).clamp(0.0, 1.0) * 255.0).round() as u8;
    }
    out
}

/// The stroke cut to the first `frac` of its length (roughly, by parameter).
fn shorten(s: Stroke, frac: f32) -> Stroke {
    match s {
        Stroke::Line(a, b) => Stroke::Line(
            a,
            [a[0] + (b[0] - a[0]) * frac, a[1] + (b[1] - a[1]) * frac],
        ),
        Stroke::Arc(c, r, a0, a1) => Stroke::Arc(c, r, a0, a0 + (a1 - a0) * frac),
        Stroke::Curve(a, m, b) => {
            let t = frac;
            // de Casteljau split at t keeps the first part exactly
            let m1 = [a[0] + (m[0] - a[0]) * t, a[1] + (m[1] - a[1]) * t];
            let m2 = [m[0] + (b[0] - m[0]) * t, m[1] + (b[1] - m[1]) * t];
            let e = [m1[0] + (m2[0] - m1[0]) * t, m1[1] + (m2[1] - m1[1]) * t];
            Stroke::Curve(a, m1, e)
        }
    }
}

/// Paints the segment `a`–`b` (pixel coordinates, pixel centres at integers) with a round pen
/// of half-width `w`: coverage `clamp(w + 0.5 − distance, 0, 1) · ink`, kept if darker.
fn draw_segment(canvas: &mut [f32; SIDE * SIDE], a: P, b: P, w: f32, ink: f32) {
    let reach = w + 1.0;
    let x0 = (a[0].min(b[0]) - reach).floor().max(0.0) as usize;
    let y0 = (a[1].min(b[1]) - reach).floor().max(0.0) as usize;
    let x1 = ((a[0].max(b[0]) + reach).ceil().max(0.0) as usize).min(SIDE - 1);
    let y1 = ((a[1].max(b[1]) + reach).ceil().max(0.0) as usize).min(SIDE - 1);
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (px, py) = (x as f32 - a[0], y as f32 - a[1]);
            let t = if len2 > 0.0 {
                ((px * dx + py * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (ex, ey) = (px - t * dx, py - t * dy);
            let d = (ex * ex + ey * ey).sqrt();
            let c = (w + 0.5 - d).clamp(0.0, 1.0) * ink;
            let cell = &mut canvas[y * SIDE + x];
            if c > *cell {
                *cell = c;
            }
        }
    }
}

/// A separable Gaussian blur (radius 2) with standard deviation `sigma` pixels; edges clamp.
fn blur(src: &[f32; SIDE * SIDE], sigma: f32) -> [f32; SIDE * SIDE] {
    let mut k = [0f32; 5];
    for (i, kv) in k.iter_mut().enumerate() {
        let d = i as f32 - 2.0;
        *kv = (-d * d / (2.0 * sigma * sigma)).exp();
    }
    let total: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= total);
    let at = |i: isize| i.clamp(0, SIDE as isize - 1) as usize;
    let mut tmp = [0f32; SIDE * SIDE];
    for y in 0..SIDE {
        for x in 0..SIDE {
            tmp[y * SIDE + x] = (0..5)
                .map(|i| k[i] * src[y * SIDE + at(x as isize + i as isize - 2)])
                .sum();
        }
    }
    let mut out = [0f32; SIDE * SIDE];
    for y in 0..SIDE {
        for x in 0..SIDE {
            out[y * SIDE + x] = (0..5)
                .map(|i| k[i] * tmp[at(y as isize + i as isize - 2) * SIDE + x])
                .sum();
        }
    }
    out
}

/// A standard normal sample (Box–Muller).
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f32 {
    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accuracy on `test` of the nearest mean training image (squared distance on raw pixels).
    fn nearest_class_mean(train: &Dataset, test: &Dataset) -> f32 {
        let p = train.pixels();
        let mut means = vec![0f32; 10 * p];
        let counts = train.class_counts();
        for i in 0..train.len() {
            let l = train.label(i) as usize;
            for (m, &v) in means[l * p..(l + 1) * p].iter_mut().zip(train.image(i)) {
                *m += v as f32 / counts[l] as f32;
            }
        }
        let right = (0..test.len())
            .filter(|&i| {
                let dist = |c: usize| -> f32 {
                    means[c * p..(c + 1) * p]
                        .iter()
                        .zip(test.image(i))
                        .map(|(m, &v)| (m - v as f32).powi(2))
                        .sum()
                };
                let best = (0..10)
                    .min_by(|&a, &b| dist(a).total_cmp(&dist(b)))
                    .unwrap();
                best == test.label(i) as usize
            })
            .count();
        right as f32 / test.len() as f32
    }

    #[test]
    fn deterministic_and_prefix_stable() {
        let a = SyntheticDigits::new(300, 5).generate();
        assert_eq!(a, SyntheticDigits::new(300, 5).generate());
        // image i does not depend on n (nor on how the work was split across threads)
        let b = SyntheticDigits::new(37, 5).generate();
        assert_eq!(b.images(), &a.images()[..37 * 784]);
        assert_eq!(b.labels(), &a.labels()[..37]);
        assert_ne!(a, SyntheticDigits::new(300, 6).generate());
        // render() is the same drawing, given the same stream
        let mut rng = tensor::rng(5);
        rng.set_stream(3);
        let digit = rng.random_range(0..10u8);
        assert_eq!(digit, a.label(3));
        assert_eq!(&render(digit, &mut rng)[..], a.image(3));
    }

    #[test]
    fn shape_labels_and_pixels() {
        let d = SyntheticDigits::new(2000, 1).generate();
        assert_eq!(
            (d.len(), d.rows(), d.cols(), d.num_classes()),
            (2000, 28, 28, 10)
        );
        assert_eq!(d.name(), "synthetic digits");
        assert_eq!(d.normalization(), SYNTHETIC_NORMALIZATION);
        // every class present, none far from 1/10
        for (c, &n) in d.class_counts().iter().enumerate() {
            assert!((140..=260).contains(&n), "class {c}: {n} of 2000");
        }
        // ink reaches full intensity, the background stays mostly dark, and no image is blank
        assert_eq!(d.images().iter().max(), Some(&255));
        for i in 0..d.len() {
            let img = d.image(i);
            let inked = img.iter().filter(|&&v| v > 128).count();
            assert!(
                (15..500).contains(&inked),
                "image {i} has {inked} inked pixels"
            );
            // the borders are nearly empty: the digit sits inside the frame, as in MNIST
            let border: u32 = (0..28)
                .map(|k| img[k] as u32 + img[27 * 28 + k] as u32)
                .sum();
            assert!(border < 56 * 128, "image {i}: border ink {border}");
        }
    }

    #[test]
    fn splits_do_not_overlap() {
        let s = SyntheticDigits::splits(50, 50, 3);
        assert_eq!(s.train.name(), "synthetic digits train");
        assert_eq!(s.test.name(), "synthetic digits test");
        assert_eq!(
            s.train,
            SyntheticDigits::new(50, 3).generate_named("synthetic digits train")
        );
        for i in 0..50 {
            for j in 0..50 {
                assert_ne!(s.train.image(i), s.test.image(j));
            }
        }
    }

    #[test]
    fn normalization_constant_matches_the_data() {
        let (mean, std) = SyntheticDigits::new(5000, 0).generate().pixel_stats();
        let (m, s) = SYNTHETIC_NORMALIZATION;
        assert!(
            (mean - m).abs() < 0.005 && (std - s).abs() < 0.005,
            "{mean} {std}"
        );
    }

    #[test]
    fn nearest_class_mean_is_neither_trivial_nor_hopeless() {
        let s = SyntheticDigits::splits(3000, 1000, 11);
        let acc = nearest_class_mean(&s.train, &s.test);
        assert!(
            (0.55..0.80).contains(&acc),
            "nearest-class-mean accuracy {acc}"
        );
    }

    #[test]
    fn geometry_helpers() {
        // a quarter arc from 0° to 90° (y down): from (1, 0) to (0, 1)
        let mut pts = Vec::new();
        Stroke::Arc([0.0, 0.0], [1.0, 1.0], 0.0, 90.0).polyline(&mut pts);
        let (first, last) = (pts[0], *pts.last().unwrap());
        assert!((first[0] - 1.0).abs() < 1e-6 && first[1].abs() < 1e-6);
        assert!(last[0].abs() < 1e-6 && (last[1] - 1.0).abs() < 1e-6);
        // the first half of a curve ends on the curve's midpoint
        let c = Stroke::Curve([0.0, 0.0], [1.0, 2.0], [2.0, 0.0]);
        match shorten(c, 0.5) {
            Stroke::Curve(_, _, e) => assert_eq!(e, [1.0, 1.0]),
            other => panic!("{other:?}"),
        }
        // a horizontal segment through the middle row: full ink on it, none 3 px away
        let mut canvas = [0f32; SIDE * SIDE];
        draw_segment(&mut canvas, [4.0, 14.0], [20.0, 14.0], 1.0, 1.0);
        assert_eq!(canvas[14 * SIDE + 10], 1.0);
        assert_eq!(canvas[11 * SIDE + 10], 0.0);
        // blur keeps the total ink away from the edges
        let blurred = blur(&canvas, 0.8);
        let (a, b): (f32, f32) = (canvas.iter().sum(), blurred.iter().sum());
        assert!((a - b).abs() < 1e-3 * a, "{a} vs {b}");
    }

    #[test]
    #[should_panic(expected = "render: digit must be 0..=9, got 10")]
    fn render_rejects_non_digits() {
        render(10, &mut tensor::rng(0));
    }
}
