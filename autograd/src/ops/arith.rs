//! Elementwise arithmetic: `+ − × ÷` with broadcasting, powers, `exp`, `ln`, `sqrt`, `abs`,
//! `maximum`/`minimum`, `clamp`, scalar forms, and the dropout mask multiply; then the
//! operator overloads on `Var`.
//!
//! Broadcasting in a backward pass: if `a` of shape `[3]` was stretched to `[2, 3]`, each
//! element of `a` was used twice, so its gradient is the *sum* of the two upstream gradients.
//! [`Tensor::sum_to`] does exactly that (it is the adjoint of `broadcast_to`).

use std::ops::{Add, Div, Mul, Neg, Sub};

use tensor::{zip_with, Shape, Tensor};

use super::saved;
use crate::function::Function;
use crate::var::Var;

/// `a + b`: ∂/∂a = g, ∂/∂b = g (each summed over its broadcast axes).
struct AddOp {
    shapes: (Shape, Shape),
}

impl Function for AddOp {
    fn name(&self) -> &'static str {
        "add"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        self.shapes = (x[0].shape().clone(), x[1].shape().clone());
        x[0].add(x[1])
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        vec![
            needs[0].then(|| g.sum_to(&self.shapes.0)),
            needs[1].then(|| g.sum_to(&self.shapes.1)),
        ]
    }
}

/// `a − b`: ∂/∂a = g, ∂/∂b = −g.
struct SubOp {
    shapes: (Shape, Shape),
}

impl Function for SubOp {
    fn name(&self) -> &'static str {
        "sub"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        self.shapes = (x[0].shape().clone(), x[1].shape().clone());
        x[0].sub(x[1])
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        vec![
            needs[0].then(|| g.sum_to(&self.shapes.0)),
            needs[1].then(|| g.sum_to(&self.shapes.1).neg()),
        ]
    }
}

/// `a · b`: ∂/∂a = g·b, ∂/∂b = g·a.
struct MulOp {
    a: Option<Tensor>,
    b: Option<Tensor>,
}

impl Function for MulOp {
    fn name(&self) -> &'static str {
        "mul"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        (self.a, self.b) = (Some(x[0].clone()), Some(x[1].clone()));
        x[0].mul(x[1])
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let (a, b) = (saved(&self.a), saved(&self.b));
        vec![
            needs[0].then(|| g.mul(b).sum_to(a.shape())),
            needs[1].then(|| g.mul(a).sum_to(b.shape())),
        ]
    }
}

/// `y = a / b`: ∂/∂a = g / b, ∂/∂b = −g·a / b² = −g·y / b.
struct DivOp {
    a: Shape,
    b: Option<Tensor>,
    y: Option<Tensor>,
}

impl Function for DivOp {
    fn name(&self) -> &'static str {
        "div"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        let y = x[0].div(x[1]);
        (self.a, self.b, self.y) = (x[0].shape().clone(), Some(x[1].clone()), Some(y.clone()));
        y
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let (b, y) = (saved(&self.b), saved(&self.y));
        vec![
            needs[0].then(|| g.div(b).sum_to(&self.a)),
            needs[1].then(|| zip_with(&g.mul(y), b, "div", |gy, b| -gy / b).sum_to(b.shape())),
        ]
    }
}

/// `y = aᵇ`: ∂/∂a = g·b·aᵇ⁻¹, ∂/∂b = g·y·ln a (taken as 0 where a = 0, as PyTorch does).
struct PowOp {
    a: Option<Tensor>,
    b: Option<Tensor>,
    y: Option<Tensor>,
}

impl Function for PowOp {
    fn name(&self) -> &'static str {
        "pow"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        let y = x[0].pow(x[1]);
        (self.a, self.b, self.y) = (Some(x[0].clone()), Some(x[1].clone()), Some(y.clone()));
        y
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let (a, b, y) = (saved(&self.a), saved(&self.b), saved(&self.y));
        let ga = || {
            let d = zip_with(a, b, "pow", |a, b| {
                if b == 0.0 {
                    0.0
                } else {
                    b * a.powf(b - 1.0)
                }
            });
            g.mul(&d).sum_to(a.shape())
        };
        let gb = || {
            let d = zip_with(y, a, "pow", |y, a| if a == 0.0 { 0.0 } else { y * a.ln() });
            g.mul(&d).sum_to(b.shape())
        };
        vec![needs[0].then(ga), needs[1].then(gb)]
    }
}

/// `xˢ` for a constant `s`: ∂/∂x = g·s·xˢ⁻¹.
struct PowScalarOp {
    s: f32,
    x: Option<Tensor>,
}

impl Function for PowScalarOp {
    fn name(&self) -> &'static str {
        "pow_scalar"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        self.x = Some(x[0].clone());
        x[0].pow_scalar(self.s)
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let s = self.s;
        let d = match s {
            0.0 => g.zeros_like(),
            2.0 => zip_with(g, saved(&self.x), "pow_scalar", |g, x| 2.0 * g * x),
            _ => zip_with(g, saved(&self.x), "pow_scalar", |g, x| {
                g * s * x.powf(s - 1.0)
            }),
        };
        vec![Some(d)]
    }
}

/// `x + s` for a constant `s`: ∂/∂x = g.
struct AddScalarOp {
    s: f32,
}

impl Function for AddScalarOp {
    fn name(&self) -> &'static str {
        "add_scalar"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        x[0].add_scalar(self.s)
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(g.clone())]
    }
}

/// `x · s` for a constant `s`: ∂/∂x = g·s.
struct MulScalarOp {
    s: f32,
}

impl Function for MulScalarOp {
    fn name(&self) -> &'static str {
        "mul_scalar"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        x[0].mul_scalar(self.s)
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(g.mul_scalar(self.s))]
    }
}

/// `−x`: ∂/∂x = −g.
struct NegOp;

impl Function for NegOp {
    fn name(&self) -> &'static str {
        "neg"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        x[0].neg()
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(g.neg())]
    }
}

/// `y = eˣ`: ∂/∂x = g·y (the output is its own derivative, so keep the output).
struct ExpOp {
    y: Option<Tensor>,
}

impl Function for ExpOp {
    fn name(&self) -> &'static str {
        "exp"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        let y = x[0].exp();
        self.y = Some(y.clone());
        y
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(g.mul(saved(&self.y)))]
    }
}

/// `ln x`: ∂/∂x = g / x.
struct LnOp {
    x: Option<Tensor>,
}

impl Function for LnOp {
    fn name(&self) -> &'static str {
        "ln"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        self.x = Some(x[0].clone());
        x[0].ln()
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(g.div(saved(&self.x)))]
    }
}

/// `y = √x`: ∂/∂x = g / (2y).
struct SqrtOp {
    y: Option<Tensor>,
}

impl Function for SqrtOp {
    fn name(&self) -> &'static str {
        "sqrt"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        let y = x[0].sqrt();
        self.y = Some(y.clone());
        y
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(zip_with(g, saved(&self.y), "sqrt", |g, y| {
            g / (2.0 * y)
        }))]
    }
}

/// `|x|`: ∂/∂x = g·sign(x), with sign(0) = 0 (PyTorch's choice at the kink).
struct AbsOp {
    x: Option<Tensor>,
}

impl Function for AbsOp {
    fn name(&self) -> &'static str {
        "abs"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        self.x = Some(x[0].clone());
        x[0].abs()
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let sign = |x: f32| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        };
        vec![Some(zip_with(g, saved(&self.x), "abs", move |g, x| {
            g * sign(x)
        }))]
    }
}

/// `maximum(a, b)` or `minimum(a, b)`: the gradient goes to the chosen side; on a tie it is
/// split in half between both (PyTorch's convention).
struct ExtremumOp {
    max: bool,
    a: Option<Tensor>,
    b: Option<Tensor>,
}

impl Function for ExtremumOp {
    fn name(&self) -> &'static str {
        if self.max {
            "maximum"
        } else {
            "minimum"
        }
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        (self.a, self.b) = (Some(x[0].clone()), Some(x[1].clone()));
        if self.max {
            x[0].maximum(x[1])
        } else {
            x[0].minimum(x[1])
        }
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Vec<Option<Tensor>> {
        let (a, b) = (saved(&self.a), saved(&self.b));
        let max = self.max;
        // share of the gradient that goes to `a`: 1 where a wins, ½ on a tie, 0 where b wins
        let share_a = zip_with(a, b, self.name(), |a, b| {
            if a == b {
                0.5
            } else if (a > b) == max {
                1.0
            } else {
                0.0
            }
        });
        vec![
            needs[0].then(|| g.mul(&share_a).sum_to(a.shape())),
            needs[1].then(|| {
                zip_with(g, &share_a, self.name(), |g, s| g * (1.0 - s)).sum_to(b.shape())
            }),
        ]
    }
}

/// `clamp(x, min, max)`: ∂/∂x = g where `min < x < max`, else 0 — no gradient at the bounds
/// themselves, as PyTorch (checked by the parity suite against PyTorch 2.15).
struct ClampOp {
    min: f32,
    max: f32,
    x: Option<Tensor>,
}

impl Function for ClampOp {
    fn name(&self) -> &'static str {
        "clamp"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        self.x = Some(x[0].clone());
        x[0].clamp(self.min, self.max)
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        let (lo, hi) = (self.min, self.max);
        let inside = move |g: f32, x: f32| if x > lo && x < hi { g } else { 0.0 };
        vec![Some(zip_with(g, saved(&self.x), "clamp", inside))]
    }
}

/// `x · mask` for a constant mask (dropout): ∂/∂x = g·mask.
struct MulMaskOp {
    x: Shape,
    mask: Tensor,
}

impl Function for MulMaskOp {
    fn name(&self) -> &'static str {
        "mul_mask"
    }
    fn forward(&mut self, x: &[&Tensor]) -> Tensor {
        self.x = x[0].shape().clone();
        x[0].mul(&self.mask)
    }
    fn backward(&self, g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
        vec![Some(g.mul(&self.mask).sum_to(&self.x))]
    }
}

impl Var {
    /// `self + other`, broadcasting (also `&a + &b`).
    ///
    /// # Panics
    /// If the shapes do not broadcast; the message names both.
    #[track_caller]
    pub fn add(&self, other: &Var) -> Var {
        Var::apply(
            AddOp {
                shapes: Default::default(),
            },
            &[self, other],
        )
    }

    /// `self − other`, broadcasting (also `&a - &b`).
    #[track_caller]
    pub fn sub(&self, other: &Var) -> Var {
        Var::apply(
            SubOp {
                shapes: Default::default(),
            },
            &[self, other],
        )
    }

    /// `self · other` elementwise, broadcasting (also `&a * &b`).
    #[track_caller]
    pub fn mul(&self, other: &Var) -> Var {
        Var::apply(MulOp { a: None, b: None }, &[self, other])
    }

    /// `self / other` elementwise, broadcasting (also `&a / &b`).
    #[track_caller]
    pub fn div(&self, other: &Var) -> Var {
        Var::apply(
            DivOp {
                a: Shape::default(),
                b: None,
                y: None,
            },
            &[self, other],
        )
    }

    /// `selfᵒᵗʰᵉʳ` elementwise, broadcasting; differentiable in both.
    #[track_caller]
    pub fn pow(&self, other: &Var) -> Var {
        Var::apply(
            PowOp {
                a: None,
                b: None,
                y: None,
            },
            &[self, other],
        )
    }

    /// `selfˢ` for a constant exponent.
    pub fn pow_scalar(&self, s: f32) -> Var {
        Var::apply(PowScalarOp { s, x: None }, &[self])
    }

    /// `self + s` (also `&a + s`).
    pub fn add_scalar(&self, s: f32) -> Var {
        Var::apply(AddScalarOp { s }, &[self])
    }

    /// `self − s` (also `&a - s`).
    pub fn sub_scalar(&self, s: f32) -> Var {
        self.add_scalar(-s)
    }

    /// `self · s` (also `&a * s`).
    pub fn mul_scalar(&self, s: f32) -> Var {
        Var::apply(MulScalarOp { s }, &[self])
    }

    /// `self / s`, computed as `self · (1/s)` (also `&a / s`).
    pub fn div_scalar(&self, s: f32) -> Var {
        self.mul_scalar(1.0 / s)
    }

    /// `−self` (also `-&a`).
    pub fn neg(&self) -> Var {
        Var::apply(NegOp, &[self])
    }

    /// `eˣ` elementwise.
    pub fn exp(&self) -> Var {
        Var::apply(ExpOp { y: None }, &[self])
    }

    /// Natural logarithm, elementwise.
    pub fn ln(&self) -> Var {
        Var::apply(LnOp { x: None }, &[self])
    }

    /// Square root, elementwise.
    pub fn sqrt(&self) -> Var {
        Var::apply(SqrtOp { y: None }, &[self])
    }

    /// Absolute value, elementwise (gradient 0 at 0).
    pub fn abs(&self) -> Var {
        Var::apply(AbsOp { x: None }, &[self])
    }

    /// The larger of each pair, broadcasting (gradient split in half on ties).
    #[track_caller]
    pub fn maximum(&self, other: &Var) -> Var {
        Var::apply(
            ExtremumOp {
                max: true,
                a: None,
                b: None,
            },
            &[self, other],
        )
    }

    /// The smaller of each pair, broadcasting (gradient split in half on ties).
    #[track_caller]
    pub fn minimum(&self, other: &Var) -> Var {
        Var::apply(
            ExtremumOp {
                max: false,
                a: None,
                b: None,
            },
            &[self, other],
        )
    }

    /// Each element limited to `[min, max]`; the gradient passes where `min < x < max` (not at
    /// the bounds, as in PyTorch).
    pub fn clamp(&self, min: f32, max: f32) -> Var {
        Var::apply(ClampOp { min, max, x: None }, &[self])
    }

    /// `self · mask` for a constant `mask` (no gradient to the mask) — the dropout multiply,
    /// with a mask of 0 and `1/(1−p)`. The mask broadcasts to `self`'s shape.
    #[track_caller]
    pub fn mul_mask(&self, mask: &Tensor) -> Var {
        Var::apply(
            MulMaskOp {
                x: Shape::default(),
                mask: mask.clone(),
            },
            &[self],
        )
    }
}

/// `impl Op<Rhs> for Lhs` for the four combinations of `Var` and `&Var`, and for `f32` on
/// either side. All forward to the methods above.
macro_rules! operators {
    ($trait:ident, $method:ident, $scalar:ident, |$s:ident, $v:ident| $reversed:expr) => {
        impl $trait<&Var> for &Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, rhs: &Var) -> Var {
                Var::$method(self, rhs)
            }
        }
        impl $trait<Var> for Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, rhs: Var) -> Var {
                Var::$method(&self, &rhs)
            }
        }
        impl $trait<&Var> for Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, rhs: &Var) -> Var {
                Var::$method(&self, rhs)
            }
        }
        impl $trait<Var> for &Var {
            type Output = Var;
            #[track_caller]
            fn $method(self, rhs: Var) -> Var {
                Var::$method(self, &rhs)
            }
        }
        impl $trait<f32> for &Var {
            type Output = Var;
            fn $method(self, rhs: f32) -> Var {
                self.$scalar(rhs)
            }
        }
        impl $trait<f32> for Var {
            type Output = Var;
            fn $method(self, rhs: f32) -> Var {
                self.$scalar(rhs)
            }
        }
        impl $trait<&Var> for f32 {
            type Output = Var;
            fn $method(self, rhs: &Var) -> Var {
                let ($s, $v) = (self, rhs);
                $reversed
            }
        }
        impl $trait<Var> for f32 {
            type Output = Var;
            fn $method(self, rhs: Var) -> Var {
                let ($s, $v) = (self, &rhs);
                $reversed
            }
        }
    };
}

operators!(Add, add, add_scalar, |s, v| v.add_scalar(s));
operators!(Sub, sub, sub_scalar, |s, v| v.neg().add_scalar(s));
operators!(Mul, mul, mul_scalar, |s, v| v.mul_scalar(s));
operators!(Div, div, div_scalar, |s, v| v
    .pow_scalar(-1.0)
    .mul_scalar(s));

impl Neg for &Var {
    type Output = Var;
    fn neg(self) -> Var {
        Var::neg(self)
    }
}

impl Neg for Var {
    type Output = Var;
    fn neg(self) -> Var {
        Var::neg(&self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{gradcheck, test_tensor};

    const EPS: f32 = 1e-2;
    const TOL: f32 = 1e-2;

    fn t(data: &[f32], shape: &[usize]) -> Tensor {
        Tensor::from_vec(data.to_vec(), shape)
    }

    /// Positive test data in [0.5, 2.2) (for ln, sqrt, pow bases and divisors).
    fn positive(shape: &[usize], seed: u64) -> Tensor {
        test_tensor(shape, seed).map(|v| v.abs() * 1.7 + 0.16)
    }

    /// Gradchecks a binary op on same shapes and on broadcasting pairs both ways round.
    fn check_binary(f: impl Fn(&Var, &Var) -> Var, data: impl Fn(&[usize], u64) -> Tensor) {
        let pairs: [(&[usize], &[usize]); 5] = [
            (&[2, 3], &[2, 3]),
            (&[2, 3], &[3]),
            (&[4, 1], &[1, 3]),
            (&[2], &[3, 2, 2]),
            (&[], &[2, 2]),
        ];
        for (i, (sa, sb)) in pairs.into_iter().enumerate() {
            let inputs = [data(sa, 2 * i as u64), data(sb, 2 * i as u64 + 1)];
            if let Err(e) = gradcheck(|v: &[Var]| f(&v[0], &v[1]), &inputs, EPS, TOL) {
                panic!("{sa:?} with {sb:?}: {e}");
            }
        }
    }

    fn check_unary(f: impl Fn(&Var) -> Var, data: impl Fn(&[usize], u64) -> Tensor) {
        for (i, shape) in [&[2, 3][..], &[5], &[], &[1, 2, 2]].into_iter().enumerate() {
            if let Err(e) = gradcheck(
                |v: &[Var]| f(&v[0]),
                &[data(shape, 10 + i as u64)],
                EPS,
                TOL,
            ) {
                panic!("{shape:?}: {e}");
            }
        }
    }

    #[test]
    fn gradcheck_add_sub_mul_div() {
        check_binary(|a, b| a + b, test_tensor);
        check_binary(|a, b| a - b, test_tensor);
        check_binary(|a, b| a * b, test_tensor);
        check_binary(|a, b| a / b, positive);
        check_binary(|a, b| a / b, test_tensor); // negative divisors too
    }

    #[test]
    fn gradcheck_pow_in_base_and_exponent() {
        check_binary(|a, b| a.pow(b), positive);
        check_unary(|a| a.pow_scalar(3.0), test_tensor);
        check_unary(|a| a.pow_scalar(2.0), test_tensor);
        check_unary(|a| a.pow_scalar(-1.5), positive);
        check_unary(|a| a.pow_scalar(0.0), test_tensor);
    }

    #[test]
    fn gradcheck_unary() {
        check_unary(|a| a.neg(), test_tensor);
        check_unary(|a| -a, test_tensor);
        check_unary(|a| a.exp(), test_tensor);
        check_unary(|a| a.ln(), positive);
        check_unary(|a| a.sqrt(), positive);
        check_unary(|a| a.abs(), test_tensor);
        check_unary(|a| a.clamp(-0.5, 0.6), test_tensor);
    }

    #[test]
    fn gradcheck_scalar_forms_and_operators() {
        check_unary(|a| a + 2.0, test_tensor);
        check_unary(|a| a - 2.0, test_tensor);
        check_unary(|a| a * -3.0, test_tensor);
        check_unary(|a| a / 4.0, test_tensor);
        check_unary(|a| 2.0 + a, test_tensor);
        check_unary(|a| 2.0 - a, test_tensor);
        check_unary(|a| 3.0 * a, test_tensor);
        check_unary(|a| 3.0 / a, positive);
        check_unary(|a| a.sub_scalar(1.0).div_scalar(2.0), test_tensor);
    }

    #[test]
    fn gradcheck_maximum_minimum() {
        // a on the grid 0.25·k + 0.1, b on 0.25·k − 0.1: every pair differs by ≥ 0.05, more
        // than the 2h a difference quotient spans, so no pair straddles the kink a = b
        let grid = |s: &[usize], seed: u64| {
            let shift = if seed.is_multiple_of(2) { 0.1 } else { -0.1 };
            test_tensor(s, seed).map(|v| (v * 4.0).round() / 4.0 + shift)
        };
        check_binary(|a, b| a.maximum(b), grid);
        check_binary(|a, b| a.minimum(b), grid);
    }

    #[test]
    fn gradcheck_mul_mask() {
        let mask = t(&[0.0, 2.0, 2.0, 0.0, 2.0, 2.0], &[2, 3]);
        check_unary(|a| a.mul_mask(&mask), |_, seed| test_tensor(&[2, 3], seed));
        let row = t(&[2.0, 0.0, 2.0], &[3]); // a mask broadcast over the rows
        check_unary(|a| a.mul_mask(&row), |_, seed| test_tensor(&[2, 3], seed));
    }

    #[test]
    fn broadcast_gradients_are_summed_exactly() {
        let a = Var::parameter(t(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]));
        let b = Var::parameter(t(&[10.0, 20.0, 30.0], &[3]));
        (&a * &b).sum_all().backward();
        assert_eq!(
            a.grad().unwrap().to_vec(),
            vec![10.0, 20.0, 30.0, 10.0, 20.0, 30.0]
        );
        assert_eq!(b.grad().unwrap().to_vec(), vec![5.0, 7.0, 9.0]);
    }

    #[test]
    fn exact_values() {
        let x = Var::parameter(t(&[1.0, 4.0], &[2]));
        let y = &x.sqrt() + &x.ln();
        assert_eq!(y.value().to_vec(), vec![1.0, 2.0 + 4f32.ln()]);
        y.sum_all().backward();
        // 1/(2√x) + 1/x
        assert_eq!(x.grad().unwrap().to_vec(), vec![1.5, 0.5]);
    }

    #[test]
    fn kinks_follow_pytorch() {
        let x = Var::parameter(t(&[0.0, -1.0, 2.0], &[3]));
        x.abs().sum_all().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, -1.0, 1.0]);

        let a = Var::parameter(t(&[1.0, 5.0, 3.0], &[3]));
        let b = Var::parameter(t(&[1.0, 2.0, 4.0], &[3]));
        a.maximum(&b).sum_all().backward();
        assert_eq!(a.grad().unwrap().to_vec(), vec![0.5, 1.0, 0.0]);
        assert_eq!(b.grad().unwrap().to_vec(), vec![0.5, 0.0, 1.0]);

        let c = Var::parameter(t(&[-1.0, 0.0, 0.5, 1.0, 2.0], &[5]));
        c.clamp(0.0, 1.0).sum_all().backward();
        assert_eq!(c.grad().unwrap().to_vec(), vec![0.0, 0.0, 1.0, 0.0, 0.0]);

        // pow: ∂/∂b at a = 0 is 0, not NaN
        let base = Var::parameter(t(&[0.0], &[1]));
        let exponent = Var::parameter(t(&[2.0], &[1]));
        base.pow(&exponent).sum_all().backward();
        assert_eq!(exponent.grad().unwrap().to_vec(), vec![0.0]);
        assert_eq!(base.grad().unwrap().to_vec(), vec![0.0]);
    }

    #[test]
    fn empty_tensors() {
        let a = Var::parameter(Tensor::zeros([0, 3]));
        let b = Var::parameter(Tensor::ones([3]));
        (&(&a * &b) + &a.exp()).sum_all().backward();
        assert_eq!(a.grad().unwrap().dims(), &[0, 3]);
        assert_eq!(b.grad().unwrap().to_vec(), vec![0.0, 0.0, 0.0]);
    }

    #[test]
    #[should_panic(expected = "add: ")]
    fn shape_mismatch_names_the_op() {
        let _ = &Var::constant(Tensor::ones([2, 3])) + &Var::constant(Tensor::ones([4]));
    }
}
