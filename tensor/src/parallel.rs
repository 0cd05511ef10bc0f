//! Threads for the kernels: [`set_num_threads`], [`num_threads`], and the small persistent pool
//! that runs a kernel's independent pieces at once ([`parallel_for`]).
//!
//! A kernel splits its output into pieces that do not overlap (column blocks of a matrix
//! product, ranges of an elementwise op, samples of a convolution). The pieces are chosen from
//! the shapes, never from the thread count, each is computed by the same code whichever
//! thread takes it, and no sum is split between threads, so **results do not depend on the
//! thread count**, bit for bit. (Sums that must be split, like a convolution's weight gradient
//! over the batch, are split into fixed groups and the group sums added in order.) An
//! elementwise update, each element computed from its own inputs alone, may be cut by the
//! thread count too, as the optimizers cut a weight into one piece per thread so that each
//! thread keeps updating the same part: any cut gives the same bits.
//!
//! Why a pool of our own: starting a thread for every kernel call would cost as much as many
//! of the kernels of an MNIST step take (`cargo bench --bench tensor` times them), while waking
//! a pool worker that is still spinning costs far less, and one that sleeps (after [`SPIN`]
//! without work) a little more. Workers spin briefly after each job because the kernels of one
//! training step follow each other closely; they then sleep, so an idle program uses no CPU.
//!
//! Only one caller uses the pool at a time: a kernel called while another thread holds the
//! pool (tests run in parallel, a kernel called from inside a piece) runs its pieces itself,
//! which gives the same result.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// The thread count set by [`set_num_threads`]; 0 until then (the default applies).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// How long a worker keeps looking for the next job before it sleeps. Between the parallel
/// kernels of a training step there are stretches of serial work (the optimizer's loop over
/// small parameters, the autograd walk); a worker that fell asleep during one is woken by a
/// system call and arrives late for the next kernel. At 200 µs that happened in the
/// reference CNN's steps; 2 ms took its 2-thread rate from 8,215-8,789 to 9,597-9,831
/// samples/s in two of three alternating runs (the third was even).
pub const SPIN: Duration = Duration::from_millis(2);

/// Sets how many threads the kernels may use, the calling thread included, like PyTorch's
/// `torch.set_num_threads`. It applies to every thread of the process.
///
/// ```
/// tensor::set_num_threads(2);
/// assert_eq!(tensor::num_threads(), 2);
/// ```
///
/// # Panics
/// If `n` is zero.
#[track_caller]
pub fn set_num_threads(n: usize) {
    if n == 0 {
        crate::shape_panic("set_num_threads", "needs at least one thread, got 0");
    }
    THREADS.store(n, SeqCst);
}

/// How many threads the kernels may use: the value given to [`set_num_threads`], or by
/// default the number of cores this process may run on (PyTorch's default too).
pub fn num_threads() -> usize {
    match THREADS.load(SeqCst) {
        0 => default_threads(),
        n => n,
    }
}

/// The number of cores this process may run on, asked once.
fn default_threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| thread::available_parallelism().map_or(1, |n| n.get()))
}

/// How many threads a kernel of `work` units should use when a thread needs at least
/// `min_per_thread` units to pay for itself: between 1 and [`num_threads`].
pub(crate) fn threads_for(work: usize, min_per_thread: usize) -> usize {
    (work / min_per_thread.max(1)).clamp(1, num_threads())
}

/// Runs `f(0), f(1), …, f(tasks − 1)`, spread over up to [`num_threads`] threads (the caller
/// is one of them), and returns when all have run. The order in which tasks run is not
/// fixed, so each must write only its own part of the output.
///
/// # Panics
/// If a task panics (the first panic is passed on, after every other task has finished).
pub(crate) fn parallel_for(tasks: usize, f: &(dyn Fn(usize) + Sync)) {
    let threads = num_threads().min(tasks);
    if threads <= 1 {
        return (0..tasks).for_each(f);
    }
    let pool = Pool::get();
    let Ok(_only_caller) = pool.caller.try_lock() else {
        return (0..tasks).for_each(f); // the pool is busy: same result, one thread
    };
    pool.ensure_workers(threads - 1);
    let job = Job {
        f,
        tasks,
        next: AtomicUsize::new(0),
        panic: Mutex::new(None),
    };
    pool.helpers.store(threads - 1, SeqCst);
    // The job lives on this stack frame: it is published here and every worker has let go of
    // it (`busy == 0` after the generation is closed) before this function returns.
    pool.job
        .store(&job as *const Job<'_> as *mut Job<'static>, SeqCst);
    pool.generation.fetch_add(1, SeqCst); // odd: open
    pool.wake(threads - 1);
    job.run();
    pool.generation.fetch_add(1, SeqCst); // even: closed, no worker enters any more
    let mut spins = 0u32;
    while pool.busy.load(SeqCst) != 0 {
        // A worker still busy may have been descheduled (other programs on our cores):
        // after a while, give it our core rather than spin against it.
        spins += 1;
        if spins.is_multiple_of(1024) {
            thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
    pool.job.store(std::ptr::null_mut(), SeqCst);
    let panic = job.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(payload) = panic {
        panic::resume_unwind(payload);
    }
}

/// Splits `out` into consecutive pieces of `piece` elements (the last one may be shorter) and
/// calls `f(offset, piece)` for each, where `offset` is the index in `out` of the piece's first
/// element. The calls are spread over up to [`num_threads`] threads.
///
/// The pieces, and so the result, do not depend on the thread count as long as `f` computes
/// each piece from its offset alone. This is how an elementwise kernel goes parallel:
///
/// ```
/// let x: Vec<f32> = (0..100_000).map(|i| i as f32).collect();
/// let mut y = vec![0.0; x.len()];
/// tensor::parallel_pieces(&mut y, 16 * 1024, |offset, piece| {
///     for (o, &v) in piece.iter_mut().zip(&x[offset..]) {
///         *o = 2.0 * v;
///     }
/// });
/// assert_eq!(y[99_999], 199_998.0);
/// ```
///
/// # Panics
/// If `piece` is zero while `out` is not empty, or if `f` panics.
#[track_caller]
pub fn parallel_pieces<T: Send>(out: &mut [T], piece: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    if out.is_empty() {
        return;
    }
    if piece == 0 {
        crate::shape_panic(
            "parallel_pieces",
            "the piece size must be at least 1, got 0",
        );
    }
    let len = out.len();
    let shared = SharedMut::new(out);
    parallel_for(len.div_ceil(piece), &|p| {
        let start = p * piece;
        let end = (start + piece).min(len);
        // SAFETY: pieces `start..end` of different tasks do not overlap.
        f(start, unsafe { shared.slice(start..end) });
    });
}

/// [`parallel_pieces`] over several slices of one length at once: `f(offset, pieces)` gets
/// the same range of each, as for an optimizer updating a parameter and its moment buffers
/// in place.
///
/// ```
/// let (mut w, mut m) = (vec![1.0f32; 50_000], vec![0.0f32; 50_000]);
/// tensor::parallel_pieces_zip([&mut w, &mut m], 8192, |_, [w, m]| {
///     for (w, m) in w.iter_mut().zip(m.iter_mut()) {
///         *m = 0.5 * *w;
///         *w -= *m;
///     }
/// });
/// assert_eq!((w[49_999], m[0]), (0.5, 0.5));
/// ```
///
/// # Panics
/// If the slices differ in length, if `piece` is zero while they are not empty, or if `f`
/// panics.
#[track_caller]
pub fn parallel_pieces_zip<T: Send, const N: usize>(
    slices: [&mut [T]; N],
    piece: usize,
    f: impl Fn(usize, [&mut [T]; N]) + Sync,
) {
    let len = slices.first().map_or(0, |s| s.len());
    if slices.iter().any(|s| s.len() != len) {
        let lens: Vec<usize> = slices.iter().map(|s| s.len()).collect();
        crate::shape_panic(
            "parallel_pieces_zip",
            format_args!("slices differ in length: {lens:?}"),
        );
    }
    if len == 0 {
        return;
    }
    if piece == 0 {
        crate::shape_panic(
            "parallel_pieces_zip",
            "the piece size must be at least 1, got 0",
        );
    }
    let shared = slices.map(SharedMut::new);
    parallel_for(len.div_ceil(piece), &|p| {
        let range = p * piece..((p + 1) * piece).min(len);
        // SAFETY: the ranges of different tasks do not overlap.
        f(
            range.start,
            std::array::from_fn(|i| unsafe { shared[i].slice(range.clone()) }),
        );
    });
}

/// A mutable slice that tasks on several threads may each take a different part of.
pub(crate) struct SharedMut<'a, T> {
    ptr: *mut T,
    len: usize,
    _borrow: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: tasks only touch disjoint parts (the contract of `slice`), and `T: Send` lets each
// part be used on another thread.
unsafe impl<T: Send> Sync for SharedMut<'_, T> {}
unsafe impl<T: Send> Send for SharedMut<'_, T> {}

impl<'a, T> SharedMut<'a, T> {
    /// Borrows `data` for sharing between tasks.
    pub(crate) fn new(data: &'a mut [T]) -> Self {
        SharedMut {
            ptr: data.as_mut_ptr(),
            len: data.len(),
            _borrow: std::marker::PhantomData,
        }
    }

    /// The elements `range`.
    ///
    /// # Safety
    /// No two slices alive at the same time may overlap.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn slice(&self, range: std::ops::Range<usize>) -> &'a mut [T] {
        assert!(
            range.start <= range.end && range.end <= self.len,
            "SharedMut: {range:?} out of 0..{}",
            self.len
        );
        std::slice::from_raw_parts_mut(self.ptr.add(range.start), range.end - range.start)
    }
}

/// One call of [`parallel_for`]: the tasks, and the next one nobody has taken yet.
struct Job<'a> {
    f: &'a (dyn Fn(usize) + Sync),
    tasks: usize,
    next: AtomicUsize,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

impl Job<'_> {
    /// Takes and runs tasks until none is left; a panic is kept for the caller.
    fn run(&self) {
        loop {
            let i = self.next.fetch_add(1, SeqCst);
            if i >= self.tasks {
                return;
            }
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| (self.f)(i))) {
                let mut slot = self.panic.lock().unwrap_or_else(|e| e.into_inner());
                slot.get_or_insert(payload);
            }
        }
    }
}

/// The worker threads and what they share with the caller.
struct Pool {
    /// Held by the thread using the pool.
    caller: Mutex<()>,
    /// Odd while a job is open; each job adds 2.
    generation: AtomicUsize,
    /// The open job (valid while `generation` is odd and for workers counted in `busy`).
    job: AtomicPtr<Job<'static>>,
    /// Workers inside the current job.
    busy: AtomicUsize,
    /// How many workers take part in the current job (the first ones).
    helpers: AtomicUsize,
    /// The workers, with a flag each that says it sleeps (parked).
    workers: Mutex<Vec<(Thread, &'static AtomicBool)>>,
}

impl Pool {
    fn get() -> &'static Pool {
        static POOL: OnceLock<Pool> = OnceLock::new();
        POOL.get_or_init(|| Pool {
            caller: Mutex::new(()),
            generation: AtomicUsize::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            busy: AtomicUsize::new(0),
            helpers: AtomicUsize::new(0),
            workers: Mutex::new(Vec::new()),
        })
    }

    /// Starts workers until there are at least `n`.
    fn ensure_workers(&'static self, n: usize) {
        let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        while workers.len() < n {
            let index = workers.len();
            let asleep: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
            let handle = thread::Builder::new()
                .name(format!("tensor-worker-{index}"))
                .spawn(move || self.work(index, asleep))
                .expect("the operating system refused to start a worker thread");
            workers.push((handle.thread().clone(), asleep));
        }
    }

    /// Wakes the first `n` workers if they sleep.
    fn wake(&self, n: usize) {
        let workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        for (thread, asleep) in workers.iter().take(n) {
            if asleep.load(SeqCst) {
                thread.unpark();
            }
        }
    }

    /// A worker's life: wait for an open job, help with it, repeat.
    fn work(&self, index: usize, asleep: &AtomicBool) {
        let mut seen = self.generation.load(SeqCst);
        loop {
            let generation = self.wait_for_job(seen, asleep);
            seen = generation;
            if index >= self.helpers.load(SeqCst) {
                continue;
            }
            self.busy.fetch_add(1, SeqCst);
            // The caller closes the job before it waits for `busy` to fall to zero: if the
            // generation is still ours after counting ourselves in, the job is still alive.
            if self.generation.load(SeqCst) == generation {
                // SAFETY: see above; the caller published the job before opening it.
                let job = unsafe { &*self.job.load(SeqCst) };
                job.run();
            }
            self.busy.fetch_sub(1, SeqCst);
        }
    }

    /// Spins, then sleeps, until a job newer than generation `seen` is open; returns its
    /// generation.
    fn wait_for_job(&self, seen: usize, asleep: &AtomicBool) -> usize {
        let open = |g: usize| g != seen && g % 2 == 1;
        let mut start = Instant::now();
        let mut spins = 0u32;
        loop {
            let g = self.generation.load(SeqCst);
            if open(g) {
                return g;
            }
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(64) && start.elapsed() > SPIN {
                asleep.store(true, SeqCst);
                // Checked again after saying we sleep: a caller that opened a job before
                // reading the flag is seen here; one that opens after reads the flag and
                // unparks us. (`park` may also return for no reason: then we look again.)
                if !open(self.generation.load(SeqCst)) {
                    thread::park();
                }
                asleep.store(false, SeqCst);
                start = Instant::now();
            }
            std::hint::spin_loop();
        }
    }
}

/// Serialises the tests that change the global thread count.
#[cfg(test)]
pub(crate) static TEST_LOCK: Mutex<()> = Mutex::new(());

/// Runs `f` once with each thread count in `counts` (holding [`TEST_LOCK`]) and returns the
/// results, for tests that a kernel gives the same answer whatever the thread count.
#[cfg(test)]
pub(crate) fn with_thread_counts<R>(counts: &[usize], f: impl Fn() -> R) -> Vec<R> {
    let _g = TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let results = counts
        .iter()
        .map(|&n| {
            set_num_threads(n);
            f()
        })
        .collect();
    set_num_threads(2);
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    use super::TEST_LOCK as LOCK;

    #[test]
    fn every_task_runs_once() {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        set_num_threads(2);
        for tasks in [0, 1, 2, 3, 17, 1000] {
            let hits: Vec<AtomicU64> = (0..tasks).map(|_| AtomicU64::new(0)).collect();
            parallel_for(tasks, &|i| {
                hits[i].fetch_add(1, SeqCst);
            });
            assert!(hits.iter().all(|h| h.load(SeqCst) == 1), "tasks = {tasks}");
        }
    }

    #[test]
    fn many_jobs_in_a_row_and_after_sleeping() {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        set_num_threads(2);
        let total = AtomicU64::new(0);
        for round in 0..2000u64 {
            parallel_for(4, &|i| {
                total.fetch_add(round * 4 + i as u64, SeqCst);
            });
            if round == 1000 {
                thread::sleep(SPIN * 3); // the worker sleeps; the next job must wake it
            }
        }
        let n = 2000 * 4;
        assert_eq!(total.load(SeqCst), (n * (n - 1) / 2) as u64);
    }

    #[test]
    fn nested_calls_run_serially() {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        set_num_threads(2);
        let total = AtomicU64::new(0);
        parallel_for(3, &|_| {
            parallel_for(5, &|j| {
                total.fetch_add(j as u64, SeqCst);
            });
        });
        assert_eq!(total.load(SeqCst), 3 * 10);
    }

    #[test]
    fn a_panicking_task_is_passed_on_and_the_pool_still_works() {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        set_num_threads(2);
        let caught = panic::catch_unwind(|| {
            parallel_for(8, &|i| {
                if i == 5 {
                    panic!("task five");
                }
            })
        });
        let payload = caught.expect_err("the panic reaches the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"task five"));
        let count = AtomicU64::new(0);
        parallel_for(8, &|_| {
            count.fetch_add(1, SeqCst);
        });
        assert_eq!(count.load(SeqCst), 8);
    }

    #[test]
    fn one_thread_runs_in_order_on_the_caller() {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        set_num_threads(1);
        let order = Mutex::new(Vec::new());
        let me = thread::current().id();
        parallel_for(4, &|i| {
            assert_eq!(thread::current().id(), me);
            order.lock().unwrap().push(i);
        });
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3]);
        set_num_threads(2);
    }

    #[test]
    fn threads_for_stays_between_one_and_the_setting() {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        set_num_threads(2);
        assert_eq!(threads_for(0, 100), 1);
        assert_eq!(threads_for(150, 100), 1);
        assert_eq!(threads_for(250, 100), 2);
        assert_eq!(threads_for(10_000, 100), 2);
        assert_eq!(num_threads(), 2);
    }

    #[test]
    fn pieces_cover_the_slice_whatever_the_thread_count() {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        for threads in [1, 2, 3] {
            set_num_threads(threads);
            for (len, piece) in [(0, 4), (1, 4), (10, 3), (12, 3), (10_000, 1024)] {
                let mut v = vec![usize::MAX; len];
                parallel_pieces(&mut v, piece, |offset, part| {
                    assert!(part.len() <= piece && !part.is_empty());
                    for (k, x) in part.iter_mut().enumerate() {
                        *x = offset + k;
                    }
                });
                assert!(
                    v.iter().enumerate().all(|(i, &x)| x == i),
                    "len {len} piece {piece}"
                );
            }
        }
        set_num_threads(2);
    }

    #[test]
    fn zipped_pieces_line_up() {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        set_num_threads(2);
        let mut a: Vec<f32> = (0..10_001).map(|i| i as f32).collect();
        let mut b = vec![0.0f32; 10_001];
        parallel_pieces_zip([&mut a, &mut b], 1000, |offset, [a, b]| {
            assert_eq!(a[0], offset as f32);
            for (a, b) in a.iter_mut().zip(b.iter_mut()) {
                *b = *a + 1.0;
                *a = 0.0;
            }
        });
        assert!(a.iter().all(|&v| v == 0.0));
        assert!(b.iter().enumerate().all(|(i, &v)| v == i as f32 + 1.0));
        parallel_pieces_zip::<f32, 2>([&mut [][..], &mut [][..]], 0, |_, _| unreachable!());
    }

    #[test]
    #[should_panic(expected = "parallel_pieces_zip: slices differ in length: [2, 1]")]
    fn zipped_pieces_of_different_lengths_panic() {
        parallel_pieces_zip([&mut [0.0, 1.0][..], &mut [0.0][..]], 1, |_, _| {});
    }

    #[test]
    #[should_panic(expected = "parallel_pieces: the piece size must be at least 1, got 0")]
    fn zero_piece_panics() {
        parallel_pieces(&mut [1.0f32], 0, |_, _| {});
    }

    #[test]
    #[should_panic(expected = "set_num_threads: needs at least one thread, got 0")]
    fn zero_threads_panics() {
        set_num_threads(0);
    }
}
