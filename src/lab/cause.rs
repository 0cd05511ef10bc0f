//! [`NonFiniteCause`]: what made a run's values NaN or ±inf, as the lab tells it.

use std::fmt;

/// What made a run's values NaN or ±inf, as far as the lab can tell after the fact: the hint
/// of [`LabError::Diverged`](super::LabError::Diverged) and
/// [`LabError::Anomaly`](super::LabError::Anomaly). Only an overflow is helped by a
/// lower learning rate; saying so for the others sends the user the wrong way.
#[derive(Clone, Debug, PartialEq)]
pub enum NonFiniteCause {
    /// The activation gives NaN or ±inf (its value or its gradient) for an ordinary input,
    /// such as `ln(x)` for x ≤ 0 or `x/0`: its formula, not the run.
    Activation {
        /// The activation as given.
        activation: String,
        /// The input, from a probe of values between −3 and 3.
        input: f32,
        /// What the activation (or its gradient) gave for it.
        output: f32,
        /// Whether it is the gradient, not the value, that is not finite.
        gradient: bool,
    },
    /// An op turned finite inputs into NaN or ±inf by its definition, not by their size: ln
    /// or √ of a negative number, ln(0), 0/0, x/0.
    Domain {
        /// The op's name.
        op: &'static str,
    },
    /// It was so before any update of this run: the learning rate played no part.
    FromStart,
    /// The values grew, update after update, until they overflowed `f32`.
    Overflow {
        /// The learning rate the run started with (`--lr`).
        lr: f32,
    },
    /// The loss was finite and not growing the step before: not a learning rate too large.
    Sudden,
}

impl fmt::Display for NonFiniteCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NonFiniteCause::Activation {
                activation,
                input,
                output,
                gradient,
            } => {
                let what = if *gradient { "a gradient of " } else { "" };
                write!(
                    f,
                    "the activation {activation} itself gives {what}{output} for the ordinary \
                     input x = {input}, so it is the activation's values, not the learning \
                     rate: choose an activation that is finite for every x"
                )
            }
            NonFiniteCause::Domain { op } => write!(
                f,
                "`{op}` made NaN or ±inf from finite inputs (ln or √ of a negative number, \
                 ln(0), 0/0 or x/0), so it is the formula's domain, not an overflow or the \
                 learning rate: change the formula that applies `{op}`"
            ),
            NonFiniteCause::FromStart => f.write_str(
                "it was so before any update of this run, so the learning rate is not the \
                 cause: the starting weights (--init, or the --resume checkpoint) or the data are",
            ),
            NonFiniteCause::Overflow { lr } => {
                // the decimal the user typed, divided, not the f32 nearest to it divided
                let tenth = format!("{lr}").parse::<f64>().unwrap_or(*lr as f64) / 10.0;
                write!(
                    f,
                    "the loss grew until it overflowed: lower --lr (it was {lr}; try {tenth}) \
                     or clip the gradients (optim::clip_grad_norm)"
                )
            }
            NonFiniteCause::Sudden => f.write_str(
                "the loss was finite and not growing the step before, so a learning rate too \
                 large is not the likely cause: an op produced it",
            ),
        }
    }
}

/// The ops that give NaN or ±inf for some finite inputs by their definition (ln(0), ln or √
/// of a negative number, x/0, 0/0, a negative number to a fractional power), whatever the
/// inputs' size: a non-finite value they make from finite inputs is a formula's domain.
pub(super) const DOMAIN_OPS: [&str; 5] = ["ln", "div", "sqrt", "pow", "pow_scalar"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_overflow_is_told_to_lower_the_learning_rate() {
        let overflow = NonFiniteCause::Overflow { lr: 0.001 }.to_string();
        assert!(
            overflow.contains("lower --lr (it was 0.001; try 0.0001)"),
            "{overflow}"
        );
        let others = [
            NonFiniteCause::Activation {
                activation: "ln(x)".into(),
                input: 0.0,
                output: f32::NEG_INFINITY,
                gradient: false,
            },
            NonFiniteCause::Domain { op: "ln" },
            NonFiniteCause::FromStart,
            NonFiniteCause::Sudden,
        ];
        for cause in &others {
            let text = cause.to_string();
            assert!(!text.contains("lower --lr"), "{text}");
            assert!(!text.contains('\n'), "{text}");
        }
        assert!(others[0]
            .to_string()
            .starts_with("the activation ln(x) itself gives -inf for the ordinary input x = 0"));
        assert!(others[1]
            .to_string()
            .contains("`ln` made NaN or ±inf from finite inputs"));
        assert!(others[2]
            .to_string()
            .contains("before any update of this run"));
    }
}
