//! How many threads the kernels may use: [`set_num_threads`] and [`num_threads`].

use std::sync::atomic::{AtomicUsize, Ordering};

/// The thread count set by [`set_num_threads`]; 0 until then (the default applies).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many threads the kernels may use (the calling thread included), like PyTorch's
/// `torch.set_num_threads`.
///
/// # Panics
/// If `n` is zero.
#[track_caller]
pub fn set_num_threads(n: usize) {
    if n == 0 {
        crate::shape_panic("set_num_threads", "needs at least one thread, got 0");
    }
    THREADS.store(n, Ordering::Relaxed);
}

/// How many threads the kernels may use: the value given to [`set_num_threads`], or by
/// default the number of cores this process may run on (PyTorch's default too).
pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}
