//! The table of every built-in activation, [`REGISTRY`], the activations registered at run
//! time ([`register`]), and the look-ups on both.
//!
//! A registered entry is found exactly as a built-in one is: by [`find`] (so
//! [`ActivationSpec::parse`](super::ActivationSpec::parse) builds it, with its arguments, and a
//! formula calls it), listed by [`all`] and [`names`] (so `--help`, the unknown-name message
//! and its typo suggestion name it).

use std::sync::{PoisonError, RwLock};

use super::entry::{normalize, Args, Entry};
use super::error::ParseError;
use super::formula::Formula;

/// `REGISTRY` from [`for_each_activation`](super::for_each_activation)'s list.
macro_rules! table {
    ($($file:ident [$($ty:ident),*] $($kind:ident $f:ident ($($a:ident: $t:ty),*) = $rule:expr),*;)*) => {
        /// Every built-in activation, in the order `--help` lists them: PyTorch's, then the
        /// others. [`all`] adds the ones [`register`]ed at run time.
        pub const REGISTRY: &[Entry] = &[$(super::$file::ENTRY),*];
    };
}
super::for_each_activation!(table);

/// The entries [`register`] added, in the order they were registered. Each is leaked once, so
/// that it lives as long as the built-in ones (`&'static Entry`), as every look-up returns.
static REGISTERED: RwLock<Vec<&'static Entry>> = RwLock::new(Vec::new());

/// The registered entries, now. A panic while the lock was held cannot have left the list
/// half-changed (it is only ever pushed to), so a poisoned lock is read as it is.
fn registered() -> Vec<&'static Entry> {
    REGISTERED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Every activation: the built-in ones in table order, then the registered ones in the order
/// they were registered.
pub fn all() -> Vec<&'static Entry> {
    let mut out: Vec<&'static Entry> = REGISTRY.iter().collect();
    out.extend(registered());
    out
}

/// The entry registered under `name` or one of its aliases (exact, lower-case match), built-in
/// or [`register`]ed.
pub fn find(name: &str) -> Option<&'static Entry> {
    let is = |e: &&'static Entry| e.name == name || e.aliases.contains(&name);
    REGISTRY
        .iter()
        .find(is)
        .or_else(|| registered().into_iter().find(is))
}

/// Every name, then every alias, in the order of [`all`].
pub fn names() -> Vec<&'static str> {
    let entries = all();
    let mut out: Vec<&'static str> = entries.iter().map(|e| e.name).collect();
    out.extend(entries.iter().flat_map(|e| e.aliases.iter().copied()));
    out
}

/// The words a formula reads as something other than a function of the registry: the
/// variable, its constants, and the prefix of a formula spec.
const RESERVED: [&str; 4] = ["x", "pi", "e", "formula"];

/// Adds `entry` to the activations every name look-up knows, for the rest of the process:
/// from then on [`ActivationSpec::parse`](super::ActivationSpec::parse) builds it by name with
/// its arguments (`my_act:s=2`, `my_act:learnable`), a formula may call it (`x * my_act(x)`),
/// and [`all`], [`names`], `--help`, `--describe` and the unknown-name message list it. The
/// entry is made with the same builders as the built-in ones ([`Entry::new`], `.args`,
/// `.formula`, …); see "Your own activation" in [the module docs](super).
///
/// Safe to call from any thread; meant to be called once per activation, at the start of
/// `main` (the entry is kept, leaked, for the rest of the process).
///
/// ```
/// use nn::activation::prelude::*;
/// use nn::activation::{register, ActivationSpec, Softsign};
///
/// let entry = Entry::new("doc_softsign", Category::Saturating, |_| Ok(Box::new(Softsign)))
///     .formula("x/(1 + |x|)", "1/(1 + |x|)²");
/// register(entry)?;
/// assert_eq!(ActivationSpec::parse("doc_softsign")?.build().describe(), "Softsign()");
/// assert!(ActivationSpec::parse("x * doc_softsign(x)").is_ok());
/// // a name is registered once
/// let again = register(entry).unwrap_err();
/// assert!(again.to_string().contains("already registered"), "{again}");
/// # Ok::<(), nn::activation::ParseError>(())
/// ```
///
/// # Errors
/// [`ParseError::Register`], and nothing is registered, when the name or an alias is not a
/// valid name (lower-case ASCII letters, digits and `_`, starting with a letter), is taken (by
/// a built-in activation, an earlier registration, a function or constant of the formulas),
/// or when the entry's example spec ([`Entry::example`]: its defaults) does not build.
pub fn register(entry: Entry) -> Result<&'static Entry, ParseError> {
    let refuse = |name: &str, reason: String| ParseError::Register {
        name: name.to_string(),
        reason,
    };
    let mut words = vec![entry.name];
    words.extend(entry.aliases.iter().copied());
    for (i, &word) in words.iter().enumerate() {
        check_name(word).map_err(|reason| refuse(word, reason))?;
        if words[..i].contains(&word) {
            return Err(refuse(word, "the entry lists it twice".into()));
        }
    }
    // Built before it is shared, so that a bad default is the caller's error now rather than
    // a panic in the first `Args::defaults` later.
    let leaked: &'static Entry = {
        let probe = Box::leak(Box::new(entry));
        let rest = probe.example();
        let rest = rest.split_once(':').map(|(_, r)| r.to_string());
        if let Err(e) = Args::parse_checked(probe, rest.as_deref()) {
            return Err(refuse(
                entry.name,
                format!("its defaults ({}) do not build: {e}", probe.example()),
            ));
        }
        probe
    };
    // Checked and pushed under one write lock, so two threads cannot both take a name.
    let mut list = REGISTERED.write().unwrap_or_else(PoisonError::into_inner);
    for &word in &words {
        let taken = |e: &&'static Entry| e.name == word || e.aliases.contains(&word);
        let what = |owner: &Entry| {
            let kind = if owner.name == word {
                "the name"
            } else {
                "an alias"
            };
            format!("{kind} of {:?}", owner.name)
        };
        if let Some(owner) = REGISTRY.iter().find(taken) {
            let reason = format!("it is {} (built in); choose another", what(owner));
            return Err(refuse(word, reason));
        }
        if let Some(owner) = list.iter().copied().find(taken) {
            let reason = format!("already registered, as {}", what(owner));
            return Err(refuse(word, reason));
        }
    }
    list.push(leaked);
    Ok(leaked)
}

/// Why `word` cannot name an activation, if it cannot.
fn check_name(word: &str) -> Result<(), String> {
    let valid = word.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid || normalize(word) != word {
        return Err(
            "a name is lower-case ASCII letters, digits and _, starting with a letter \
             (e.g. \"my_act\"), so that specs and formulas can name it"
                .into(),
        );
    }
    if RESERVED.contains(&word) {
        return Err(format!(
            "formulas read {word:?} as {}; choose another name",
            if word == "formula" {
                "the prefix of a formula spec"
            } else {
                "their variable or a constant"
            }
        ));
    }
    // Not yet in any registry (checked later), so a call that parses is one of the formula
    // language's own functions (`exp`, `sin`, …), which a formula would call instead.
    if Formula::parse(&format!("{word}(x)")).is_ok() && find(word).is_none() {
        return Err(format!(
            "formulas read {word:?} as their own function; choose another name"
        ));
    }
    Ok(())
}
