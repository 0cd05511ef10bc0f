//! One argument of a registered activation ([`Arg`]) and what values it accepts ([`ArgKind`]).

/// What values an [`Arg`] accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ArgKind {
    /// A real scalar that is a parameter of the formula: fixed, or learnable with the
    /// `learnable` switch. `learnable` is the default state.
    Param {
        /// Whether it learns unless told `fixed`.
        learnable: bool,
    },
    /// A real number that is never learned (a threshold whose gradient is 0 almost everywhere).
    Number,
    /// An integer (`dim`, `num_parameters`, `seed`).
    Int,
    /// `true` or `false`.
    Bool,
    /// One of a fixed list of words (`approximate`: `none` or `tanh`).
    Choice(&'static [&'static str]),
}

/// One argument of an activation: its name (PyTorch's), its default, what it accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arg {
    /// The name, as in PyTorch's constructor (`negative_slope`, `alpha`, `lambd`).
    pub name: &'static str,
    /// The default value as written in a spec; for a required argument, an example value
    /// (used by the registry-wide tests and `--help`).
    pub default: &'static str,
    /// Whether a spec must give it (PyTorch's `Threshold(threshold, value)`).
    pub required: bool,
    /// What it accepts.
    pub kind: ArgKind,
}

impl Arg {
    /// A parameter of the formula, fixed unless switched to `learnable`.
    pub const fn param(name: &'static str, default: &'static str) -> Arg {
        Arg {
            name,
            default,
            required: false,
            kind: ArgKind::Param { learnable: false },
        }
    }

    /// A parameter of the formula that learns unless switched to `fixed` (Snake's `alpha`).
    pub const fn learnable(name: &'static str, default: &'static str) -> Arg {
        Arg {
            name,
            default,
            required: false,
            kind: ArgKind::Param { learnable: true },
        }
    }

    /// A real number that is never learned.
    pub const fn number(name: &'static str, default: &'static str) -> Arg {
        Arg {
            name,
            default,
            required: false,
            kind: ArgKind::Number,
        }
    }

    /// An integer.
    pub const fn int(name: &'static str, default: &'static str) -> Arg {
        Arg {
            name,
            default,
            required: false,
            kind: ArgKind::Int,
        }
    }

    /// `true` or `false`.
    pub const fn flag(name: &'static str, default: &'static str) -> Arg {
        Arg {
            name,
            default,
            required: false,
            kind: ArgKind::Bool,
        }
    }

    /// One of `options`; the default is the first.
    pub const fn choice(name: &'static str, options: &'static [&'static str]) -> Arg {
        Arg {
            name,
            default: options[0],
            required: false,
            kind: ArgKind::Choice(options),
        }
    }

    /// The same argument, but a spec must give it; `default` becomes an example value.
    pub const fn required(self) -> Arg {
        Arg {
            required: true,
            ..self
        }
    }

    /// Whether the `learnable` switch applies to it.
    pub fn can_learn(&self) -> bool {
        matches!(self.kind, ArgKind::Param { .. })
    }

    /// `negative_slope=0.01`, `threshold` (required), `alpha=1|learnable`, `approximate=none|tanh`.
    pub fn usage(&self) -> String {
        match (self.required, self.kind) {
            (true, _) => self.name.to_string(),
            (false, ArgKind::Param { learnable: false }) => {
                format!("{}={}|learnable", self.name, self.default)
            }
            (false, ArgKind::Param { learnable: true }) => {
                format!("{}={}|fixed", self.name, self.default)
            }
            (false, ArgKind::Choice(options)) => format!("{}={}", self.name, options.join("|")),
            (false, _) => format!("{}={}", self.name, self.default),
        }
    }
}
