//! A cache of large element buffers. A training loop makes arrays of the same shapes step
//! after step; handing a freed buffer to the next allocation of its size skips the system
//! allocator's fresh pages (a page fault per 4 KiB) that otherwise dominate element-wise ops
//! on large arrays. Small buffers go straight back to the allocator, and the cache is bounded.
//!
//! The cache keeps what the program reuses, not what it once used: the large allocations it
//! is asked for are its clock, and a buffer that has waited through a whole sweep interval
//! (at least `MIN_INTERVAL` allocations, and twice the most buffers waiting at once, so that
//! a loop's buffers, each reused one loop later, always survive) without being taken goes
//! back to the system. `release` empties the cache at once (`ad_release_cached_memory`).
//! The reference mode neither takes from the cache nor adds to it.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use super::dtype::{DType, Scalar};
use super::storage::Buffer;

/// Buffers below this size are cheap to allocate and are not cached.
const MIN_BYTES: usize = 64 * 1024;
/// At most this many bytes wait in the cache, and at most this many buffers of one size.
const MAX_BYTES: usize = 512 << 20;
const MAX_PER_SIZE: usize = 64;
/// The fewest large allocations between two sweeps of idle buffers.
const MIN_INTERVAL: u64 = 1024;

struct Waiting {
    buf: Buffer,
    /// The clock when the buffer was freed.
    since: u64,
}

struct Pool {
    free: HashMap<(DType, usize), Vec<Waiting>>,
    bytes: usize,
    /// Buffers waiting, and the most that waited at once since the last sweep.
    count: usize,
    peak: usize,
    /// Large allocations asked for so far.
    clock: u64,
    /// The clock at the last sweep, and when the next one is due.
    swept: u64,
    next_sweep: u64,
}

impl Default for Pool {
    fn default() -> Pool {
        Pool { free: HashMap::new(), bytes: 0, count: 0, peak: 0, clock: 0, swept: 0, next_sweep: MIN_INTERVAL }
    }
}

impl Pool {
    /// A waiting buffer of `n` elements of `dtype`, if any; counts the allocation, and
    /// returns the buffers that a sweep due now releases, for the caller to drop unlocked.
    fn take(&mut self, dtype: DType, n: usize) -> (Option<Buffer>, Vec<Buffer>) {
        self.clock += 1;
        let taken = self.free.get_mut(&(dtype, n)).and_then(|l| l.pop()).map(|w| {
            self.bytes -= n * dtype.size_of();
            self.count -= 1;
            w.buf
        });
        let released = if self.clock >= self.next_sweep { self.sweep() } else { Vec::new() };
        (taken, released)
    }

    /// Keeps `buf` for reuse, or hands it back when the cache is full.
    fn give(&mut self, buf: Buffer) -> Option<Buffer> {
        let (dtype, n) = (buf.dtype(), buf.capacity());
        let bytes = n * dtype.size_of();
        let list = self.free.entry((dtype, n)).or_default();
        if self.bytes + bytes > MAX_BYTES || list.len() >= MAX_PER_SIZE {
            return Some(buf);
        }
        list.push(Waiting { buf, since: self.clock });
        self.bytes += bytes;
        self.count += 1;
        self.peak = self.peak.max(self.count);
        None
    }

    /// Takes out the buffers that have waited since before the last sweep: not one
    /// allocation of their size in a whole interval wanted them.
    fn sweep(&mut self) -> Vec<Buffer> {
        let mut released = Vec::new();
        let swept = self.swept;
        self.free.retain(|_, list| {
            // Each list is in the order its buffers were freed: the idle ones come first.
            let idle = list.iter().take_while(|w| w.since < swept).count();
            released.extend(list.drain(..idle).map(|w| w.buf));
            !list.is_empty()
        });
        for buf in &released {
            self.bytes -= buf.capacity() * buf.dtype().size_of();
        }
        self.count -= released.len();
        self.swept = self.clock;
        self.next_sweep = self.clock + MIN_INTERVAL.max(2 * self.peak as u64);
        self.peak = self.count;
        released
    }

    /// Takes out every waiting buffer.
    fn drain(&mut self) -> Vec<Buffer> {
        self.bytes = 0;
        self.count = 0;
        self.peak = 0;
        self.free.drain().flat_map(|(_, list)| list.into_iter().map(|w| w.buf)).collect()
    }
}

static POOL: LazyLock<Mutex<Pool>> = LazyLock::new(|| Mutex::new(Pool::default()));

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Hands freed buffers back to the system allocator, and asks it to return the memory to the
/// system: glibc keeps freed heap memory for its own reuse unless it is trimmed.
fn hand_back(buffers: Vec<Buffer>) -> usize {
    let bytes = buffers.iter().map(|b| b.capacity() * b.dtype().size_of()).sum();
    let any = !buffers.is_empty();
    drop(buffers);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if any {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim only returns free memory of the allocator to the system.
        unsafe { malloc_trim(0) };
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = any;
    bytes
}

/// An empty vector with room for exactly `n` elements from the cache, if one is waiting.
pub(crate) fn take<T: Scalar>(n: usize) -> Option<Vec<T>> {
    let bytes = n.checked_mul(std::mem::size_of::<T>())?;
    if bytes < MIN_BYTES || crate::reference::enabled() {
        return None;
    }
    let (buf, released) = pool().take(T::DTYPE, n);
    if !released.is_empty() {
        hand_back(released);
    }
    let mut v = T::vec_from(buf?).ok()?;
    v.clear();
    Some(v)
}

/// Returns a freed buffer to the cache, or to the allocator when it is small or the cache full
/// (and the host's memory to the host).
pub(crate) fn give(buf: Buffer) {
    if buf.is_host() || buf.capacity() * buf.dtype().size_of() < MIN_BYTES || crate::reference::enabled() {
        return;
    }
    let rejected = pool().give(buf);
    // Dropped outside the lock: freeing a large buffer unmaps its pages.
    drop(rejected);
}

/// Empties the cache, returning its memory to the system; the number of bytes released.
pub(crate) fn release() -> usize {
    let buffers = pool().drain();
    hand_back(buffers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(n: usize) -> Buffer {
        Buffer::F32(Vec::with_capacity(n).into())
    }

    const N: usize = MIN_BYTES / 4;

    /// A loop that frees its buffers and makes the same ones again keeps them however long it
    /// runs; a size that stops being asked for is released within two intervals.
    #[test]
    fn buffers_reused_every_step_stay_and_idle_ones_go() {
        let mut p = Pool::default();
        // Three buffers of one size freed once, never asked for again.
        for _ in 0..3 {
            assert!(p.give(buffer(N + 1)).is_none());
        }
        let mut released = 0;
        // A loop of 10 allocations of another size per step, each freed by the step's end.
        for _ in 0..1000 {
            let mut held = Vec::new();
            for _ in 0..10 {
                let (got, gone) = p.take(DType::F32, N);
                released += gone.len();
                held.push(got.unwrap_or_else(|| buffer(N)));
            }
            for b in held {
                assert!(p.give(b).is_none());
            }
        }
        assert_eq!(released, 3, "only the idle buffers are released");
        assert!(!p.free.contains_key(&(DType::F32, N + 1)));
        assert_eq!(p.free[&(DType::F32, N)].len(), 10);
        assert_eq!(p.count, 10);
        assert_eq!(p.bytes, 10 * N * 4);
        // Every step after the first found its buffers waiting: 10 misses in all.
        let drained = p.drain();
        assert_eq!(drained.len(), 10);
        assert_eq!((p.count, p.bytes), (0, 0));
    }

    /// A step that holds more buffers at once than one interval has allocations still gets
    /// them all back in the next step: the interval grows with the most buffers waiting.
    #[test]
    fn the_interval_follows_the_working_set() {
        let mut p = Pool::default();
        let per_step = 1500; // of distinct sizes, each freed at the step's end
        let mut misses = 0;
        for _ in 0..6 {
            let mut held = Vec::new();
            for i in 0..per_step {
                let (got, gone) = p.take(DType::F32, N + i);
                assert!(gone.is_empty());
                misses += got.is_none() as usize;
                held.push(got.unwrap_or_else(|| buffer(N + i)));
            }
            for b in held {
                assert!(p.give(b).is_none());
            }
        }
        assert_eq!(misses, per_step, "only the first step allocates");
    }
}
