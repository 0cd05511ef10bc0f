//! What the activation fuzz targets share: running a layer where the only panic allowed is a
//! shape error.

/// Runs `f`; a panic is allowed only if it is a shape error (`op: … [shapes] …`): an
/// activation whose axis argument does not fit the input, such as `softmax:dim=5` on `[2, 4]`,
/// is a programming error by design, which the mnist lab turns into an error before training.
/// Any other panic is a finding.
pub fn only_shape_panics(f: impl FnOnce()) {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    if let Err(panic) = result {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        // `op: … [shape] …`, the form of `tensor::shape_panic`
        let shape_error = msg.split_once(": ").is_some_and(|(op, rest)| {
            op.chars().all(|c| c.is_ascii_lowercase() || c == '_') && rest.contains('[')
        });
        assert!(shape_error, "a panic that is not a shape error: {msg}");
    }
}
