//! The number of threads large ops may use, and the fork-join pool that runs them. Set by
//! `AD_NUM_THREADS` (or, failing that, `OMP_NUM_THREADS`, as other numeric libraries read it)
//! or by `set_num_threads`; by default the machine's parallelism. The pool's threads are kept
//! for the process (starting threads per op would cost more than a small product), made anew
//! when the count changes. Small ops never fork.
//!
//! The pool is built for ops of tens of microseconds, back to back (an MLP step's): waking a
//! sleeping thread costs 10–20 µs on a virtual machine, as much as such an op, so both sides
//! spin before they sleep. A worker spins for `SPIN` after each share, waiting for the next;
//! the calling thread takes a share itself, then spins for the workers to finish, and takes
//! back a share that no worker has started yet instead of waiting for one to wake up.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crate::error::{bail, Result};

/// 0 until first read.
static THREADS: AtomicUsize = AtomicUsize::new(0);

fn from_env() -> usize {
    ["AD_NUM_THREADS", "OMP_NUM_THREADS"]
        .iter()
        .find_map(|name| std::env::var(name).ok()?.trim().parse::<usize>().ok().filter(|&n| n > 0))
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            let n = from_env();
            THREADS.store(n, Ordering::Relaxed);
            n
        }
        n => n,
    }
}

pub fn set_num_threads(n: usize) -> Result<()> {
    if n == 0 || n > 1024 {
        bail!(InvalidArgument, "the thread count must be between 1 and 1024; got {}", n);
    }
    THREADS.store(n, Ordering::Relaxed);
    Ok(())
}

/// The pool's threads are named this and a number (the C boundary's panic hook knows them by it).
pub(crate) const WORKER_NAME: &str = "ad-worker-";

/// How long a waiting thread spins before it sleeps.
const SPIN: Duration = Duration::from_micros(200);

/// A worker's mailbox, in one of these states.
const EMPTY: u32 = 0;
/// `job` holds a job for the worker; the caller may still take it back.
const POSTED: u32 = 1;
/// The worker is running the job; it stores `EMPTY` when done with it.
const RUNNING: u32 = 2;
/// The pool was dropped: the worker ends.
const EXIT: u32 = 3;

struct Slot {
    state: AtomicU32,
    job: AtomicPtr<Job<'static>>,
}

/// One fork: `run` claims the items not yet taken and works on them until none is left. It
/// lives on the calling thread's stack; `fork_join` does not return before every worker that
/// took it has handed its slot back.
struct Job<'a> {
    run: &'a (dyn Fn() + Sync),
    caller: Thread,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

struct Pool {
    workers: Vec<(Arc<Slot>, Thread)>,
    /// Held by the thread whose fork is running. Another fork meanwhile (from a second thread
    /// of the program, or nested inside a share) runs on its own thread instead of waiting.
    busy: AtomicBool,
}

impl Drop for Pool {
    fn drop(&mut self) {
        // No fork holds the pool (each holds an `Arc` to it): every slot is EMPTY.
        for (slot, thread) in &self.workers {
            slot.state.store(EXIT, Ordering::Release);
            thread.unpark();
        }
    }
}

/// The pool's workers for the current thread count: one fewer than the count, since the
/// calling thread does a share of each op itself (built on first use and when the count
/// changes). `None` for one thread, or when threads cannot be started.
fn pool() -> Option<Arc<Pool>> {
    static POOL: Mutex<Option<(usize, Arc<Pool>)>> = Mutex::new(None);
    let n = num_threads();
    if n < 2 {
        return None;
    }
    let mut current = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((size, pool)) = &*current {
        if *size == n {
            return Some(pool.clone());
        }
    }
    let mut workers = Vec::with_capacity(n - 1);
    for i in 0..n - 1 {
        let slot = Arc::new(Slot { state: AtomicU32::new(EMPTY), job: AtomicPtr::new(std::ptr::null_mut()) });
        let mine = slot.clone();
        let handle = thread::Builder::new().name(format!("{}{}", WORKER_NAME, i)).spawn(move || work_loop(&mine)).ok();
        match handle {
            Some(h) => workers.push((slot, h.thread().clone())),
            // Dropping the pool built so far ends the workers already started.
            None => return None,
        }
    }
    let pool = Arc::new(Pool { workers, busy: AtomicBool::new(false) });
    *current = Some((n, pool.clone()));
    Some(pool)
}

fn work_loop(slot: &Slot) {
    loop {
        if wait_while(&slot.state, EMPTY) == EXIT {
            return;
        }
        // The caller may have taken the job back (EMPTY again) since it was posted.
        if slot.state.compare_exchange(POSTED, RUNNING, Ordering::Acquire, Ordering::Relaxed).is_err() {
            continue;
        }
        // SAFETY: a RUNNING slot's job is alive: its caller waits for this slot to be EMPTY
        // again before its `fork_join` returns or unwinds.
        let job = unsafe { &*slot.job.load(Ordering::Relaxed) };
        if let Err(panic) = catch_unwind(AssertUnwindSafe(job.run)) {
            job.panic.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(panic);
        }
        let caller = job.caller.clone();
        // From this store on the job may be gone; only the handle cloned above is used.
        slot.state.store(EMPTY, Ordering::Release);
        caller.unpark();
    }
}

/// Waits while `state` holds `value`, spinning for `SPIN` and then sleeping (whoever changes
/// the state unparks the waiter). Returns the new value.
fn wait_while(state: &AtomicU32, value: u32) -> u32 {
    let start = Instant::now();
    let mut spins = 0u32;
    loop {
        let now = state.load(Ordering::Acquire);
        if now != value {
            return now;
        }
        spins = spins.wrapping_add(1);
        // The clock is read once every 64 spins: reading it costs more than a spin.
        if spins.is_multiple_of(64) && start.elapsed() >= SPIN {
            thread::park();
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Runs `work` on each item, spread over the calling thread and the pool's workers; all on
/// the calling thread when there is one item, one thread, or the pool is running another
/// fork. A panic in any item is raised on the calling thread once no thread works on the
/// items any more (the items not started by then are dropped unrun).
pub fn fork_join<I: Send>(items: Vec<I>, work: impl Fn(I) + Sync) {
    let pool = if items.len() > 1 { pool() } else { None };
    let Some(pool) = pool.filter(|p| p.busy.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()) else {
        items.into_iter().for_each(work);
        return;
    };
    let n = items.len();
    let items: Vec<Mutex<Option<I>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    let next = AtomicUsize::new(0);
    let run = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= n {
            return;
        }
        let item = items[i].lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(item) = item {
            work(item);
        }
    };
    let job = Job { run: &run, caller: thread::current(), panic: Mutex::new(None) };
    let helpers = &pool.workers[..(n - 1).min(pool.workers.len())];
    for (slot, thread) in helpers {
        // The lifetime is erased for the slot; the waits below keep the job alive for as long
        // as any worker can reach it.
        slot.job.store(&job as *const Job<'_> as *mut Job<'static>, Ordering::Relaxed);
        slot.state.store(POSTED, Ordering::Release);
        thread.unpark();
    }
    let mine = catch_unwind(AssertUnwindSafe(&run));
    for (slot, _) in helpers {
        // A share no worker has started is taken back: the items are all claimed by now (or
        // this thread's share panicked, and the panic is raised below).
        if slot.state.compare_exchange(POSTED, EMPTY, Ordering::Acquire, Ordering::Relaxed).is_err() {
            wait_while(&slot.state, RUNNING);
        }
    }
    pool.busy.store(false, Ordering::Release);
    if let Err(panic) = mine {
        resume_unwind(panic);
    }
    if let Some(panic) = job.panic.into_inner().unwrap_or_else(|e| e.into_inner()) {
        resume_unwind(panic);
    }
}
