//! The recursive-descent parser that turns a formula's text into a [`Formula`], checking every
//! name and a registered activation's arguments, with the column of the first problem.

use crate::activation::entry::{Args, Category};
use crate::activation::error::FormulaError;
use crate::activation::registry;
use crate::activation::suggest::closest;

use super::tree::{BinOp, Builtin, Expr, Formula, BUILTINS, BUILTINS2};

/// How deeply a formula may nest: each parenthesis, function call, sign (`-x`) and power
/// (`x^…`) adds one level, and each level is a few frames of the parser's recursion, so the
/// limit keeps a deep formula an error, not a stack overflow. 64 levels need a few hundred
/// stack frames, far below a 2 MB thread's.
const MAX_DEPTH: usize = 64;

/// How many binary operations a formula may hold. A chain `x + x + … + x` nests without
/// parentheses, and evaluating a tree that deep recursed past an 8 MB stack at about 15,000
/// operations (found by fuzzing); 1000 keeps a wide margin on a 2 MB thread too.
const MAX_OPERATIONS: usize = 1000;

impl Formula {
    /// Parses `text` (see the [module docs](super) for the syntax).
    ///
    /// # Errors
    /// A [`FormulaError`] naming the column of the first problem: an unexpected character or
    /// token, an unclosed parenthesis, an unknown name (suggesting the closest function), a
    /// registered activation's bad argument, a formula that does not use `x`, a number out of
    /// range, nesting deeper than 64 levels (parentheses, calls, signs and powers), or more
    /// than 1000 operations.
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        let mut parser = Parser {
            text,
            chars: text.chars().collect(),
            pos: 0,
            depth: 0,
            acts: Vec::new(),
            uses_x: false,
            operations: 0,
        };
        parser.skip_space();
        if parser.pos == parser.chars.len() {
            return Err(parser.error(1, "empty formula: write an expression in x"));
        }
        let expr = parser.expr()?;
        parser.skip_space();
        if let Some(c) = parser.peek() {
            let col = parser.pos + 1;
            let what = if c == ')' {
                "unmatched \")\"".to_string()
            } else {
                format!("expected an operator (+ - * / ^) or the end, found {c:?}")
            };
            return Err(parser.error(col, &what));
        }
        if !parser.uses_x {
            return Err(parser.error(1, "the formula does not use x"));
        }
        let names: Vec<&str> = parser.acts.iter().map(|a| a.entry().name).collect();
        let mut seen = std::collections::HashMap::<&str, usize>::new();
        let labels = names
            .iter()
            .map(|&n| {
                let k = seen.entry(n).or_insert(0);
                *k += 1;
                if names.iter().filter(|&&m| m == n).count() > 1 {
                    format!("{n}_{}", *k - 1)
                } else {
                    n.to_string()
                }
            })
            .collect();
        Ok(Formula {
            text: text.trim().to_string(),
            expr,
            labels,
        })
    }
}

/// A recursive-descent parser over the characters of the formula.
struct Parser<'a> {
    text: &'a str,
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    acts: Vec<Args>,
    uses_x: bool,
    operations: usize,
}

impl Parser<'_> {
    fn error(&self, column: usize, message: &str) -> FormulaError {
        FormulaError {
            formula: self.text.to_string(),
            column,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// The next non-space character, normalised (`·`, `×` → `*`; `−` → `-`; `**` → `^`),
    /// without consuming it; with the number of characters it spans.
    fn peek_op(&mut self) -> Option<(char, usize)> {
        self.skip_space();
        let c = self.peek()?;
        Some(match c {
            '*' if self.chars.get(self.pos + 1) == Some(&'*') => ('^', 2),
            '·' | '×' => ('*', 1),
            '−' => ('-', 1),
            c => (c, 1),
        })
    }

    /// Describes what is at the current position, for "found …" in messages.
    fn found(&mut self) -> String {
        self.skip_space();
        match self.peek() {
            None => "the end".into(),
            Some(c) => format!("{c:?}"),
        }
    }

    fn enter(&mut self) -> Result<(), FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(
                self.pos + 1,
                &format!(
                    "nested more than {MAX_DEPTH} levels deep (each parenthesis, function \
                     call, sign and power adds one): write a flatter formula"
                ),
            ));
        }
        Ok(())
    }

    /// expr := term (('+' | '-') term)*
    fn expr(&mut self) -> Result<Expr, FormulaError> {
        self.left_assoc(&[('+', BinOp::Add), ('-', BinOp::Sub)], Self::term)
    }

    /// term := unary (('*' | '/') unary)*
    fn term(&mut self) -> Result<Expr, FormulaError> {
        self.left_assoc(&[('*', BinOp::Mul), ('/', BinOp::Div)], Self::unary)
    }

    /// operand (op operand)*, left-associative, for the operators `ops` of one precedence level.
    fn left_assoc(
        &mut self,
        ops: &[(char, BinOp)],
        operand: fn(&mut Self) -> Result<Expr, FormulaError>,
    ) -> Result<Expr, FormulaError> {
        let mut lhs = operand(self)?;
        while let Some((c, n)) = self.peek_op() {
            let Some(&(_, op)) = ops.iter().find(|(symbol, _)| *symbol == c) else {
                break;
            };
            self.pos += n;
            let col = self.pos + 1 - n;
            let rhs = operand(self)?;
            lhs = self.fold(op, lhs, rhs, col)?;
        }
        Ok(lhs)
    }

    /// unary := ('-' | '+') unary | power
    ///
    /// Every cycle of the recursion passes a sign, a `^`, a parenthesis or a call, and each
    /// of those is a level ([`MAX_DEPTH`]), so the recursion is bounded.
    fn unary(&mut self) -> Result<Expr, FormulaError> {
        match self.peek_op() {
            Some(('-', n)) => {
                self.pos += n;
                self.enter()?;
                let out = match self.unary()? {
                    Expr::Num(v) => Expr::Num(-v),
                    e => Expr::Neg(Box::new(e)),
                };
                self.depth -= 1;
                Ok(out)
            }
            Some(('+', n)) => {
                self.pos += n;
                self.enter()?;
                let out = self.unary()?;
                self.depth -= 1;
                Ok(out)
            }
            _ => self.power(),
        }
    }

    /// power := primary ('^' unary)?   — right-associative, and the exponent may carry a
    /// sign: `2^3^2` = 2^(3^2), `2^-1` = 0.5, while `-x^2` = −(x²) (see `unary`).
    fn power(&mut self) -> Result<Expr, FormulaError> {
        let base = self.primary()?;
        if let Some(('^', n)) = self.peek_op() {
            let col = self.pos + 1;
            self.pos += n;
            self.enter()?;
            let exponent = self.unary()?;
            self.depth -= 1;
            return self.fold(BinOp::Pow, base, exponent, col);
        }
        Ok(base)
    }

    /// primary := number | name | name '(' args ')' | '(' expr ')'
    fn primary(&mut self) -> Result<Expr, FormulaError> {
        self.skip_space();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.error(
                start + 1,
                "expected a number, x, a function or \"(\", found the end",
            ));
        };
        if c.is_ascii_digit() || c == '.' {
            return self.number();
        }
        if c == '(' {
            self.pos += 1;
            self.enter()?;
            let inner = self.expr()?;
            self.expect_close(start)?;
            self.depth -= 1;
            return Ok(inner);
        }
        if c.is_alphabetic() || c == '_' {
            return self.name();
        }
        let found = self.found();
        Err(self.error(
            start + 1,
            &format!("expected a number, x, a function or \"(\", found {found}"),
        ))
    }

    fn expect_close(&mut self, open: usize) -> Result<(), FormulaError> {
        if let Some((')', _)) = self.peek_op() {
            self.pos += 1;
            return Ok(());
        }
        let found = self.found();
        Err(self.error(
            self.pos + 1,
            &format!(
                "expected \")\" to close the \"(\" at column {}, found {found}",
                open + 1
            ),
        ))
    }

    /// digits [. digits] [e [+-] digits], or . digits …
    fn number(&mut self) -> Result<Expr, FormulaError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos - s
        };
        let mut count = digits(self);
        if self.peek() == Some('.') {
            self.pos += 1;
            count += digits(self);
        }
        if count == 0 {
            return Err(self.error(start + 1, "expected digits around \".\""));
        }
        // An exponent only if digits follow (`2e` is 2 followed by the constant e).
        if matches!(self.peek(), Some('e' | 'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                self.pos = save;
            }
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        match text.parse::<f32>() {
            Ok(v) if v.is_finite() => Ok(Expr::Num(v)),
            _ => Err(self.error(
                start + 1,
                &format!("number {text} is out of the range of f32"),
            )),
        }
    }

    /// `x`, a constant, or a function call.
    fn name(&mut self) -> Result<Expr, FormulaError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        let raw: String = self.chars[start..self.pos].iter().collect();
        let name = raw.to_lowercase();
        let is_call = matches!(self.peek_op(), Some(('(', _)));
        if !is_call {
            return match name.as_str() {
                "x" => {
                    self.uses_x = true;
                    Ok(Expr::X)
                }
                "pi" => Ok(Expr::Num(std::f32::consts::PI)),
                "e" => Ok(Expr::Num(std::f32::consts::E)),
                _ if Builtin::from_name(&name).is_some()
                    || BinOp::function(&name).is_some()
                    || registry::find(&name).is_some() =>
                {
                    let found = self.found();
                    Err(self.error(
                        self.pos + 1,
                        &format!("expected \"(\" after the function {raw}, found {found}"),
                    ))
                }
                _ => Err(self.error(
                    start + 1,
                    &format!("unknown name {raw:?}: the variable is x, the constants pi and e"),
                )),
            };
        }
        if let Some(op) = BinOp::function(&name) {
            return self.function2(op, &raw, start);
        }
        let builtin = Builtin::from_name(&name);
        let entry = registry::find(&name);
        if builtin.is_none() && entry.is_none() {
            let functions = || BUILTINS.iter().chain(&BUILTINS2).copied();
            let mut msg = format!("unknown function {raw:?}");
            // the activations first: at equal distance the first wins, and "tahn" is tanh
            // rather than atan
            if let Some(s) = closest(&name, registry::names().into_iter().chain(functions())) {
                msg.push_str(&format!(" (did you mean {s:?}?)"));
            }
            msg.push_str(&format!(
                "; functions: {}, and the activations: {}",
                functions().collect::<Vec<_>>().join(", "),
                registry::names().join(", ")
            ));
            return Err(self.error(start + 1, &msg));
        }
        let open = self.pos;
        self.pos += 1; // '('
        self.enter()?;
        let arg = self.expr()?;
        let mut extra: Option<(usize, usize, String)> = None;
        if let Some((',', _)) = self.peek_op() {
            let comma = self.pos;
            self.pos += 1;
            self.skip_space();
            let from = self.pos;
            // The registry's own arguments, as raw text up to the closing parenthesis.
            while self.peek().is_some_and(|c| c != ')' && c != '(') {
                self.pos += 1;
            }
            let text: String = self.chars[from..self.pos].iter().collect();
            extra = Some((comma, from, text));
        }
        self.expect_close(open)?;
        self.depth -= 1;
        if let Some(f) = builtin {
            if let Some((comma, _, _)) = extra {
                return Err(self.error(
                    comma + 1,
                    &format!("{raw} takes one argument (after the first: unexpected \",\")"),
                ));
            }
            return Ok(match arg {
                Expr::Num(v) => self.constant(start, f.scalar(v), &raw)?,
                arg => Expr::Call(f, Box::new(arg)),
            });
        }
        let entry = entry.expect("checked above");
        let (column, rest) = match &extra {
            Some((_, from, text)) => (from + 1, Some(text.as_str())),
            None => (start + 1, None),
        };
        let args =
            Args::parse_checked(entry, rest).map_err(|e| self.error(column, &e.to_string()))?;
        self.acts.push(args.clone());
        let index = self.acts.len() - 1;
        Ok(Expr::Act(Box::new(args), index, Box::new(arg)))
    }

    /// `max(a, b)` or `min(a, b)` (`op`), after the name `raw` that starts at `start`; the
    /// current position is the `(`. Both arguments are expressions.
    fn function2(&mut self, op: BinOp, raw: &str, start: usize) -> Result<Expr, FormulaError> {
        let open = self.pos;
        self.pos += 1; // '('
        self.enter()?;
        let a = self.expr()?;
        if !matches!(self.peek_op(), Some((',', _))) {
            let found = self.found();
            return Err(self.error(
                self.pos + 1,
                &format!("{raw} takes two arguments, {raw}(a, b): expected \",\", found {found}"),
            ));
        }
        self.pos += 1;
        let b = self.expr()?;
        if let Some((',', _)) = self.peek_op() {
            return Err(self.error(
                self.pos + 1,
                &format!("{raw} takes two arguments, {raw}(a, b): unexpected third argument"),
            ));
        }
        self.expect_close(open)?;
        self.depth -= 1;
        self.fold(op, a, b, start + 1)
    }

    /// `a op b`, folded to a number when both are numbers (which must give a finite one;
    /// `column` is the operator's, for the error).
    fn fold(&mut self, op: BinOp, a: Expr, b: Expr, column: usize) -> Result<Expr, FormulaError> {
        if let (Some(ha), Some(hb)) = (halvings(&a), halvings(&b)) {
            if ha != hb {
                // found by fuzzing: `glu(x) * x` multiplied a [N, C/2] by a [N, C] and panicked
                return Err(self.error(
                    column,
                    &format!(
                        "the two sides of {:?} have different shapes: a gated activation \
                         (glu, swiglu, geglu) halves an axis of its input, so its result can \
                         only be combined with values that went through the same halving",
                        op.symbol()
                    ),
                ));
            }
        }
        self.operations += 1;
        if self.operations > MAX_OPERATIONS {
            return Err(self.error(
                column,
                &format!(
                    "more than {MAX_OPERATIONS} operations (+, -, *, /, ^, max, min): write a \
                     shorter formula"
                ),
            ));
        }
        match (&a, &b) {
            (Expr::Num(x), Expr::Num(y)) => {
                let v = op.apply(*x, *y);
                if v.is_finite() {
                    Ok(Expr::Num(v))
                } else {
                    Err(self.error(
                        column,
                        &format!("{x} {} {y} is {v}, not a finite number", op.symbol()),
                    ))
                }
            }
            _ => Ok(Expr::Bin(op, Box::new(a), Box::new(b))),
        }
    }

    /// A folded constant, which must be finite.
    fn constant(&self, start: usize, v: f32, what: &str) -> Result<Expr, FormulaError> {
        if v.is_finite() {
            Ok(Expr::Num(v))
        } else {
            Err(self.error(
                start + 1,
                &format!("{what}(…) of a constant is {v}, not a finite number"),
            ))
        }
    }
}

/// The axes (the `dim` of each gated activation, in order of size) that the gated activations
/// on the way from x to `e` halve; `None` for a constant, which broadcasts against anything.
/// Two sides of an operation must agree, or their shapes differ.
fn halvings(e: &Expr) -> Option<Vec<i64>> {
    match e {
        Expr::X => Some(Vec::new()),
        Expr::Num(_) => None,
        Expr::Neg(a) | Expr::Call(_, a) => halvings(a),
        // both sides agreed when the operation was built
        Expr::Bin(_, a, b) => halvings(a).or_else(|| halvings(b)),
        Expr::Act(args, _, a) => {
            let mut h = halvings(a)?;
            if args.entry().category == Category::Gated {
                h.push(args.int("dim"));
                h.sort_unstable();
            }
            Some(h)
        }
    }
}
