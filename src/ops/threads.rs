//! The number of threads large ops may use, and a fork-join helper to use them. Set by
//! `AD_NUM_THREADS` (or, failing that, `OMP_NUM_THREADS`, as other numeric libraries read it)
//! or by `set_num_threads`; by default the machine's parallelism. Small ops never fork: the
//! cost of starting threads would exceed the work.

use std::sync::atomic::{AtomicUsize, Ordering};

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

/// Runs `work` on each item, the items spread over scoped threads (the calling thread takes
/// the first); sequentially when there is one item.
pub fn fork_join<I: Send>(items: Vec<I>, work: impl Fn(I) + Sync) {
    if items.len() <= 1 {
        items.into_iter().for_each(work);
        return;
    }
    let work = &work;
    std::thread::scope(|scope| {
        let mut items = items.into_iter();
        let first = items.next();
        for item in items {
            scope.spawn(move || work(item));
        }
        if let Some(item) = first {
            work(item);
        }
    });
}
