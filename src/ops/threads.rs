//! The number of threads large ops may use, and a fork-join helper to use them. Set by
//! `AD_NUM_THREADS` (or, failing that, `OMP_NUM_THREADS`, as other numeric libraries read it)
//! or by `set_num_threads`; by default the machine's parallelism. The threads are a rayon pool
//! kept for the process (starting threads per op would cost more than a small product), made
//! anew when the count changes. Small ops never fork.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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

/// The pool's workers for the current thread count: one fewer than the count, since the
/// calling thread does a share of each op itself (built on first use and when the count
/// changes).
fn pool() -> Option<Arc<rayon::ThreadPool>> {
    static POOL: Mutex<Option<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(None);
    let n = num_threads();
    if n < 2 {
        return None;
    }
    let mut slot = POOL.lock().unwrap_or_else(|e| e.into_inner());
    match &*slot {
        Some((size, pool)) if *size == n => Some(pool.clone()),
        _ => {
            let pool = Arc::new(rayon::ThreadPoolBuilder::new().num_threads(n - 1).build().ok()?);
            *slot = Some((n, pool.clone()));
            Some(pool)
        }
    }
}

/// Runs `work` on each item: the first on the calling thread, the others on the pool's
/// workers; all on the calling thread when there is one item (or no pool). The caller
/// working instead of waiting saves a sleep and a wake-up per op, which on ops of tens of
/// microseconds (an MLP step's) is a tenth of their time.
pub fn fork_join<I: Send>(items: Vec<I>, work: impl Fn(I) + Sync) {
    let pool = if items.len() > 1 { pool() } else { None };
    let Some(pool) = pool else {
        items.into_iter().for_each(work);
        return;
    };
    let work = &work;
    let mut items = items.into_iter();
    let first = items.next().expect("more than one item");
    pool.in_place_scope(|scope| {
        for item in items {
            scope.spawn(move |_| work(item));
        }
        work(first);
    });
}
