//! Scratch buffers kept per thread from call to call, for kernels that need a temporary
//! copy (a convolution's column matrix, a transposed operand of a matrix product): large
//! buffers allocated at every step would be page-faulted in at every step too.

thread_local! {
    /// The scratch buffers of this thread that no call is using.
    static FREE: std::cell::RefCell<Vec<Vec<f32>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A scratch buffer of at least `len` elements owned by the current thread, kept from call
/// to call (give it back with [`put_scratch`]) so that large temporaries are not allocated
/// (and page-faulted in) at every step. Its contents are whatever the last user left.
pub(crate) fn take_scratch(len: usize) -> Vec<f32> {
    let mut buf = FREE
        .with(|free| free.borrow_mut().pop())
        .unwrap_or_default();
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    buf
}

/// Returns a buffer from [`take_scratch`] for the next user on this thread.
pub(crate) fn put_scratch(buf: Vec<f32>) {
    FREE.with(|free| free.borrow_mut().push(buf));
}

/// Calls `f` with a scratch buffer of `len` elements from [`take_scratch`]. Nested calls get
/// different buffers.
pub(crate) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buf = take_scratch(len);
    let r = f(&mut buf[..len]);
    put_scratch(buf);
    r
}
