//! Learning-rate schedules, as closed forms of the step index t (PyTorch's `last_epoch`: the
//! number of `scheduler.step()` calls so far). A schedule holds no counter, so resuming from a
//! checkpoint is `schedule.apply(&mut opt, step)` with the saved step.
//!
//! | schedule | η(t) | PyTorch |
//! | --- | --- | --- |
//! | [`StepLr`] | η₀·γ^⌊t/s⌋ | `StepLR` |
//! | [`ExponentialLr`] | η₀·γ^(t/P), P = 1 by default | `ExponentialLR` (P = 1) |
//! | [`CosineAnnealingLr`] | η_min + (η₀ − η_min)·(1 + cos(π·t/T))/2 | `CosineAnnealingLR` |
//! | [`LinearWarmup`] | η₀·(f + (1 − f)·t/W) for t < W, then another schedule at t − W | `LinearLR` (+ `SequentialLR`) |
//! | [`OneCycleLr`] | η_max/d → η_max → η_max/(d·d_f), cosine or linear ramps | `OneCycleLR` (without momentum cycling) |

use std::f64::consts::PI;

use crate::optimizer::{check, widen, Optimizer};

/// A learning rate as a function of the step index.
pub trait LrSchedule {
    /// The learning rate at step `step` (0 = before the first `scheduler.step()`).
    fn lr_at(&self, step: usize) -> f32;

    /// Sets `opt`'s learning rate to the one for `step`.
    fn apply(&self, opt: &mut dyn Optimizer, step: usize) {
        opt.set_lr(self.lr_at(step));
    }
}

/// Multiplies the rate by γ every `step_size` steps: η(t) = η₀·γ^⌊t/step_size⌋.
#[derive(Clone, Copy, Debug)]
pub struct StepLr {
    /// η₀.
    pub base_lr: f32,
    /// Steps between decays.
    pub step_size: usize,
    /// The factor γ (PyTorch's default 0.1).
    pub gamma: f32,
}

impl StepLr {
    /// Decay by `gamma` every `step_size` steps from `base_lr`.
    ///
    /// # Panics
    /// If `step_size` is 0.
    #[track_caller]
    pub fn new(base_lr: f32, step_size: usize, gamma: f32) -> StepLr {
        check(step_size > 0, "StepLR", "step_size must be at least 1");
        StepLr {
            base_lr,
            step_size,
            gamma,
        }
    }
}

impl LrSchedule for StepLr {
    fn lr_at(&self, step: usize) -> f32 {
        let k = (step / self.step_size) as i32;
        (widen(self.base_lr) * widen(self.gamma).powi(k)) as f32
    }
}

/// Multiplies the rate by γ every `period` steps, smoothly: η(t) = η₀·γ^(t/P), P = `period`.
///
/// With P = 1 it is PyTorch's `ExponentialLR` (η₀·γ^t) stepped at every step. With P the
/// batches of an epoch, it is a decay by γ per epoch spread over the epoch's steps, for which
/// PyTorch has no scheduler: `ExponentialLR(gamma=γ^(1/P))` stepped at every batch comes
/// closest, but rounds γ^(1/P) first. The exponent is taken as ⌊t/P⌋ + (t mod P)/P, so at the
/// start of each period it is a whole number; the rate is computed in `f64` from η₀ and γ as
/// the `f32`s they are (as [`CosineAnnealingLr`]) and rounded once.
#[derive(Clone, Copy, Debug)]
pub struct ExponentialLr {
    /// η₀.
    pub base_lr: f32,
    /// The factor γ over one period.
    pub gamma: f32,
    /// Steps over which the rate falls by γ (1: at every step, as PyTorch).
    pub period: usize,
}

impl ExponentialLr {
    /// Decay by `gamma` at every step from `base_lr` (PyTorch's `ExponentialLR`).
    pub fn new(base_lr: f32, gamma: f32) -> ExponentialLr {
        ExponentialLr {
            base_lr,
            gamma,
            period: 1,
        }
    }

    /// Decay by γ over `steps` steps instead, smoothly (a fraction of γ at every step).
    ///
    /// # Panics
    /// If `steps` is 0.
    #[track_caller]
    pub fn per(mut self, steps: usize) -> ExponentialLr {
        check(
            steps > 0,
            "ExponentialLR",
            "the period must be at least 1 step",
        );
        self.period = steps;
        self
    }
}

impl LrSchedule for ExponentialLr {
    fn lr_at(&self, step: usize) -> f32 {
        let p = self.period;
        let exponent = (step / p) as f64 + (step % p) as f64 / p as f64;
        (f64::from(self.base_lr) * f64::from(self.gamma).powf(exponent)) as f32
    }
}

/// Cosine annealing from η₀ down to η_min over `t_max` steps:
/// η(t) = η_min + (η₀ − η_min)·(1 + cos(π·t/T_max))/2 (periodic past T_max, like PyTorch's).
#[derive(Clone, Copy, Debug)]
pub struct CosineAnnealingLr {
    /// η₀.
    pub base_lr: f32,
    /// Half-period T_max, in steps.
    pub t_max: usize,
    /// η_min (PyTorch's default 0).
    pub eta_min: f32,
}

impl CosineAnnealingLr {
    /// Anneal from `base_lr` to `eta_min` over `t_max` steps.
    ///
    /// # Panics
    /// If `t_max` is 0.
    #[track_caller]
    pub fn new(base_lr: f32, t_max: usize, eta_min: f32) -> CosineAnnealingLr {
        check(t_max > 0, "CosineAnnealingLR", "t_max must be at least 1");
        CosineAnnealingLr {
            base_lr,
            t_max,
            eta_min,
        }
    }
}

impl LrSchedule for CosineAnnealingLr {
    /// Computed in `f64` from the rates as the `f32`s they are, not from the decimals they
    /// print as (as the other schedules widen them): the rates are then those of the runs the
    /// `minidl` lab has made and saved, whose cosine decay was written that way. The two differ
    /// by at most one unit in the last place of the `f32` rate.
    fn lr_at(&self, step: usize) -> f32 {
        let (b, m) = (f64::from(self.base_lr), f64::from(self.eta_min));
        let c = (PI * step as f64 / self.t_max as f64).cos();
        (m + (b - m) * (1.0 + c) / 2.0) as f32
    }
}

/// Linear warm-up over `warmup_steps` from `start_factor`·η₀ to η₀, then η₀ or the schedule
/// given to [`then`](LinearWarmup::then), started afresh at step 0.
pub struct LinearWarmup {
    base_lr: f32,
    warmup_steps: usize,
    start_factor: f32,
    after: Option<Box<dyn LrSchedule>>,
}

impl LinearWarmup {
    /// Warm up to `base_lr` over `warmup_steps` from `base_lr / 3` (PyTorch `LinearLR`'s
    /// default start factor 1/3).
    pub fn new(base_lr: f32, warmup_steps: usize) -> LinearWarmup {
        LinearWarmup {
            base_lr,
            warmup_steps,
            start_factor: 1.0 / 3.0,
            after: None,
        }
    }

    /// Start from `factor`·η₀ instead (0 < factor ≤ 1).
    #[track_caller]
    pub fn start_factor(mut self, factor: f32) -> LinearWarmup {
        check(
            factor > 0.0 && factor <= 1.0,
            "LinearWarmup",
            format_args!("start_factor must be in (0, 1], got {factor}"),
        );
        self.start_factor = factor;
        self
    }

    /// After the warm-up, follow `schedule` (at its step t − warmup_steps).
    pub fn then(mut self, schedule: impl LrSchedule + 'static) -> LinearWarmup {
        self.after = Some(Box::new(schedule));
        self
    }
}

impl LrSchedule for LinearWarmup {
    fn lr_at(&self, step: usize) -> f32 {
        if step < self.warmup_steps {
            let f = widen(self.start_factor);
            let frac = step as f64 / self.warmup_steps as f64;
            return (widen(self.base_lr) * (f + (1.0 - f) * frac)) as f32;
        }
        match &self.after {
            Some(s) => s.lr_at(step - self.warmup_steps),
            None => self.base_lr,
        }
    }
}

/// How [`OneCycleLr`] moves between its rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anneal {
    /// Half a cosine (PyTorch's default `anneal_strategy="cos"`).
    Cos,
    /// A straight line.
    Linear,
}

/// The one-cycle policy (Smith & Topin 2017): from η_max/`div_factor` up to η_max over the
/// first `pct_start` of `total_steps`, then down to η_max/(`div_factor`·`final_div_factor`).
/// With `three_phase`, it comes back to the initial rate before the final descent. Rates as
/// PyTorch's `OneCycleLR`; momentum is not cycled (`cycle_momentum=False`).
#[derive(Clone, Copy, Debug)]
pub struct OneCycleLr {
    /// η_max.
    pub max_lr: f32,
    /// Number of steps in the cycle.
    pub total_steps: usize,
    /// Fraction of the cycle spent rising (default 0.3).
    pub pct_start: f32,
    /// Initial rate = max_lr / div_factor (default 25).
    pub div_factor: f32,
    /// Final rate = initial / final_div_factor (default 1e4).
    pub final_div_factor: f32,
    /// Cosine or linear ramps (default cosine).
    pub anneal: Anneal,
    /// Rise, fall back to the initial rate, then fall to the final one (default false).
    pub three_phase: bool,
}

impl OneCycleLr {
    /// A cycle of `total_steps` peaking at `max_lr`, with PyTorch's defaults for the rest.
    ///
    /// # Panics
    /// If `total_steps` is 0.
    #[track_caller]
    pub fn new(max_lr: f32, total_steps: usize) -> OneCycleLr {
        check(
            total_steps > 0,
            "OneCycleLR",
            "total_steps must be at least 1",
        );
        OneCycleLr {
            max_lr,
            total_steps,
            pct_start: 0.3,
            div_factor: 25.0,
            final_div_factor: 1e4,
            anneal: Anneal::Cos,
            three_phase: false,
        }
    }
}

impl LrSchedule for OneCycleLr {
    /// # Panics
    /// If `step` is past `total_steps` (PyTorch raises there too).
    #[track_caller]
    fn lr_at(&self, step: usize) -> f32 {
        check(
            step <= self.total_steps,
            "OneCycleLR",
            format_args!(
                "step {step} is past total_steps {}; make the cycle longer",
                self.total_steps
            ),
        );
        let max = widen(self.max_lr);
        let initial = max / widen(self.div_factor);
        let min = initial / widen(self.final_div_factor);
        let total = self.total_steps as f64;
        let pct = widen(self.pct_start);
        // (end step, start rate, end rate) of each phase, as PyTorch lays them out.
        let phases: Vec<(f64, f64, f64)> = if self.three_phase {
            vec![
                (pct * total - 1.0, initial, max),
                (2.0 * pct * total - 2.0, max, initial),
                (total - 1.0, initial, min),
            ]
        } else {
            vec![(pct * total - 1.0, initial, max), (total - 1.0, max, min)]
        };
        let t = step as f64;
        let mut start_step = 0.0;
        for (i, &(end_step, from, to)) in phases.iter().enumerate() {
            if t <= end_step || i == phases.len() - 1 {
                let p = (t - start_step) / (end_step - start_step);
                let lr = match self.anneal {
                    Anneal::Cos => to + (from - to) / 2.0 * ((PI * p).cos() + 1.0),
                    Anneal::Linear => (to - from) * p + from,
                };
                return lr as f32;
            }
            start_step = end_step;
        }
        unreachable!("the last phase always matches")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_lr() {
        let s = StepLr::new(0.1, 3, 0.5);
        let lrs: Vec<f32> = (0..7).map(|t| s.lr_at(t)).collect();
        assert_eq!(lrs, vec![0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]);
    }

    #[test]
    fn exponential_per_step_and_per_period() {
        let s = ExponentialLr::new(1.0, 0.5);
        let lrs: Vec<f32> = (0..4).map(|t| s.lr_at(t)).collect();
        assert_eq!(lrs, vec![1.0, 0.5, 0.25, 0.125]);
        // γ = 0.5 per 4 steps: whole powers at the period's start, 0.5^(1/4) steps between
        let s = ExponentialLr::new(0.1, 0.5).per(4);
        assert_eq!(s.lr_at(0), 0.1);
        assert_eq!(s.lr_at(4), (f64::from(0.1f32) * 0.5) as f32);
        assert_eq!(s.lr_at(8), (f64::from(0.1f32) * 0.25) as f32);
        let between = |x: f64| (f64::from(0.1f32) * 0.5f64.powf(x)) as f32;
        assert_eq!(s.lr_at(1), between(0.25));
        assert_eq!(s.lr_at(6), between(1.5));
        assert_eq!(ExponentialLr::new(0.3, 1.0).per(7).lr_at(1000), 0.3);
    }

    #[test]
    #[should_panic(expected = "ExponentialLR: the period must be at least 1 step")]
    fn exponential_with_an_empty_period_panics() {
        ExponentialLr::new(1.0, 0.5).per(0);
    }

    #[test]
    fn cosine_endpoints_and_midpoint() {
        let s = CosineAnnealingLr::new(1.0, 10, 0.1);
        assert_eq!(s.lr_at(0), 1.0);
        assert!((s.lr_at(5) - 0.55).abs() < 1e-7);
        assert!((s.lr_at(10) - 0.1).abs() < 1e-7);
    }

    #[test]
    fn warmup_then_cosine() {
        let s = LinearWarmup::new(0.3, 3)
            .start_factor(0.1)
            .then(CosineAnnealingLr::new(0.3, 4, 0.0));
        let lrs: Vec<f32> = (0..8).map(|t| s.lr_at(t)).collect();
        let expect = [0.03, 0.12, 0.21, 0.3, 0.256_066, 0.15, 0.043_934, 0.0];
        for (a, b) in lrs.iter().zip(expect) {
            assert!((a - b).abs() < 1e-6, "{lrs:?}");
        }
        assert_eq!(LinearWarmup::new(0.3, 3).lr_at(10), 0.3);
    }

    #[test]
    fn one_cycle_shape() {
        let s = OneCycleLr::new(1.0, 100);
        assert!((s.lr_at(0) - 0.04).abs() < 1e-7);
        assert!((s.lr_at(29) - 1.0).abs() < 1e-7);
        assert!((s.lr_at(99) - 4e-6).abs() < 1e-9);
        let lrs: Vec<f32> = (0..100).map(|t| s.lr_at(t)).collect();
        assert!(lrs[..30].windows(2).all(|w| w[0] < w[1]));
        assert!(lrs[29..].windows(2).all(|w| w[0] > w[1]));
    }

    #[test]
    #[should_panic(expected = "OneCycleLR: step 11 is past total_steps 10")]
    fn one_cycle_past_the_end_panics() {
        OneCycleLr::new(1.0, 10).lr_at(11);
    }
}
