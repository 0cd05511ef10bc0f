//! The errors of reading an activation spec: [`ParseError`] for names and arguments, and
//! [`FormulaError`] (inside [`ParseError::Formula`]) for a formula, pointing at its column.

use std::fmt;

/// Why a spec could not be parsed or built. Each message names the activation, the argument
/// and the value, and says what is accepted.
#[derive(Clone, Debug, PartialEq)]
pub enum ParseError {
    /// No entry has this name or alias.
    UnknownActivation {
        /// The name given (lower-cased).
        name: String,
        /// The closest valid name, if one is close.
        suggestion: Option<&'static str>,
        /// Every valid name, then every alias (listed by the message).
        names: Vec<&'static str>,
    },
    /// The entry has no argument of this name.
    UnknownArgument {
        /// The entry.
        activation: &'static str,
        /// The name given.
        argument: String,
        /// The closest argument name, if one is close.
        suggestion: Option<&'static str>,
        /// [`Entry::usage`](super::Entry::usage).
        usage: String,
    },
    /// More positional values than the entry has arguments.
    TooManyArguments {
        /// The entry.
        activation: &'static str,
        /// How many positional values were given.
        given: usize,
        /// How many arguments the entry has.
        max: usize,
        /// [`Entry::usage`](super::Entry::usage).
        usage: String,
    },
    /// A required argument was not given.
    MissingArgument {
        /// The entry.
        activation: &'static str,
        /// The argument.
        argument: &'static str,
        /// [`Entry::usage`](super::Entry::usage).
        usage: String,
    },
    /// The same argument given twice.
    DuplicateArgument {
        /// The entry.
        activation: &'static str,
        /// The argument.
        argument: &'static str,
    },
    /// A value of the wrong type or out of range.
    InvalidValue {
        /// The entry.
        activation: &'static str,
        /// The argument.
        argument: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// `learnable` on an argument that cannot learn, or on an entry with no such argument.
    NotLearnable {
        /// The entry.
        activation: &'static str,
        /// The argument, when one was named.
        argument: Option<&'static str>,
        /// The arguments that can learn.
        learnable: Vec<&'static str>,
    },
    /// A formula that does not parse; the error shows the column.
    Formula(FormulaError),
    /// [`register`](super::register) refused an entry: the name or alias is invalid or taken,
    /// or the entry's defaults do not build.
    Register {
        /// The name or alias refused.
        name: String,
        /// Why, and what to do instead.
        reason: String,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::UnknownActivation {
                name,
                suggestion,
                names,
            } => {
                write!(f, "unknown activation {name:?}")?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean {s:?}?)")?;
                }
                write!(
                    f,
                    "; valid names: {}; or a formula in x such as \"x * tanh(softplus(x))\"",
                    names.join(", ")
                )
            }
            ParseError::UnknownArgument {
                activation,
                argument,
                suggestion,
                usage,
            } => {
                write!(f, "{activation}: unknown argument {argument:?}")?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean {s:?}?)")?;
                }
                write!(f, "; usage: {usage}")
            }
            ParseError::TooManyArguments {
                activation,
                given,
                max: 0,
                ..
            } => write!(f, "{activation}: takes no arguments, got {given}"),
            ParseError::TooManyArguments {
                activation,
                given,
                max,
                usage,
            } => write!(
                f,
                "{activation}: takes at most {max} argument{}, got {given}; usage: {usage}",
                if *max == 1 { "" } else { "s" }
            ),
            ParseError::MissingArgument {
                activation,
                argument,
                usage,
            } => write!(
                f,
                "{activation}: missing required argument {argument:?}; usage: {usage}"
            ),
            ParseError::DuplicateArgument {
                activation,
                argument,
            } => write!(f, "{activation}: argument {argument:?} given twice"),
            ParseError::InvalidValue {
                activation,
                argument,
                value,
                expected,
            } => write!(
                f,
                "{activation}: {argument}: expected {expected}, got {value:?}"
            ),
            ParseError::NotLearnable {
                activation,
                argument: None,
                ..
            } => write!(f, "{activation}: has no parameter that can be learnable"),
            ParseError::NotLearnable {
                activation,
                argument: Some(argument),
                learnable,
            } => {
                write!(f, "{activation}: {argument} cannot be learnable")?;
                if learnable.is_empty() {
                    write!(f, " (no argument of {activation} can)")
                } else {
                    write!(f, " (these can: {})", learnable.join(", "))
                }
            }
            ParseError::Formula(e) => e.fmt(f),
            ParseError::Register { name, reason } => {
                write!(f, "cannot register the activation {name:?}: {reason}")
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// A formula that could not be parsed: what is wrong, and where (1-based column, in
/// characters). Its `Display` shows the formula with a caret under the column.
#[derive(Clone, Debug, PartialEq)]
pub struct FormulaError {
    /// The formula as given.
    pub formula: String,
    /// The column of the problem, counting characters from 1 (one past the end for "found
    /// the end").
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Tabs would misalign the caret: show them as spaces.
        let shown: String = self
            .formula
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        write!(
            f,
            "formula: {} (column {})\n    {shown}\n    {}^",
            self.message,
            self.column,
            " ".repeat(self.column.saturating_sub(1))
        )
    }
}

impl std::error::Error for FormulaError {}
