//! A model's state dict: its parameters and buffers by dotted name, taken out
//! ([`state_dict`]) and put back after every entry is checked ([`load_state_dict`]).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use tensor::Tensor;

use super::error::Error;
use crate::module::Module;

/// The first value of `t` that no trained model has — NaN, ±inf, or (when `non_negative`) a
/// negative number — as `(index, value)`.
pub fn first_invalid(t: &Tensor, non_negative: bool) -> Option<(usize, f32)> {
    t.data()
        .iter()
        .position(|v| !v.is_finite() || (non_negative && *v < 0.0))
        .map(|i| (i, t.data()[i]))
}

/// The model's state: every parameter then every buffer, by dotted name (values share the
/// model's buffers; nothing is copied).
pub fn state_dict(module: &dyn Module) -> Vec<(String, Tensor)> {
    let mut out: Vec<(String, Tensor)> = module
        .named_parameters()
        .into_iter()
        .map(|(n, p)| (n, p.value()))
        .collect();
    out.extend(
        module
            .named_buffers()
            .into_iter()
            .map(|(n, b)| (n, b.value())),
    );
    out
}

/// Sets the model's parameters and buffers from `tensors`, by dotted name. Strict, like
/// PyTorch's `load_state_dict(strict=True)`: every entry must be present, known and of the
/// right shape, and hold only finite values (a running variance also ≥ 0). All entries are
/// checked before any value changes.
///
/// # Errors
/// [`Error::Missing`], [`Error::Unexpected`], [`Error::ShapeMismatch`] or
/// [`Error::InvalidValue`], naming the entries.
pub fn load_state_dict(module: &dyn Module, tensors: &[(String, Tensor)]) -> Result<(), Error> {
    load_state_dict_from(module, tensors, None)
}

pub(crate) fn load_state_dict_from(
    module: &dyn Module,
    tensors: &[(String, Tensor)],
    path: Option<&Path>,
) -> Result<(), Error> {
    let path = path.map(Path::to_path_buf);
    let mut targets = module.named_parameters();
    targets.extend(module.named_buffers());
    let given: HashMap<&str, &Tensor> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let known: HashSet<&str> = targets.iter().map(|(n, _)| n.as_str()).collect();
    let missing: Vec<String> = targets
        .iter()
        .filter(|(n, _)| !given.contains_key(n.as_str()))
        .map(|(n, _)| n.clone())
        .collect();
    let mut unexpected: Vec<String> = tensors
        .iter()
        .filter(|(n, _)| !known.contains(n.as_str()))
        .map(|(n, _)| n.clone())
        .collect();
    unexpected.sort();
    if !missing.is_empty() {
        return Err(Error::Missing {
            path,
            missing,
            unexpected,
        });
    }
    if !unexpected.is_empty() {
        return Err(Error::Unexpected { path, unexpected });
    }
    for (name, var) in &targets {
        let t = given[name.as_str()];
        let expected = var.dims();
        if t.dims() != expected.as_slice() {
            return Err(Error::ShapeMismatch {
                path,
                name: name.clone(),
                expected,
                found: t.dims().to_vec(),
            });
        }
    }
    for (name, _) in &targets {
        // a variance is a mean of squares: a negative one makes √(var + ε) NaN
        let non_negative = name.ends_with("running_var");
        if let Some((index, value)) = first_invalid(given[name.as_str()], non_negative) {
            return Err(Error::InvalidValue {
                path,
                name: name.clone(),
                index,
                value,
            });
        }
    }
    // Everything checked: now (and only now) change the model.
    for (name, var) in &targets {
        var.set_value(given[name.as_str()].clone());
    }
    Ok(())
}
