//! A cache of large element buffers. A training loop makes arrays of the same shapes step
//! after step; handing a freed buffer to the next allocation of its size skips the system
//! allocator's fresh pages (a page fault per 4 KiB) that otherwise dominate element-wise ops
//! on large arrays. Small buffers go straight back to the allocator, and the cache is bounded.
//! The reference mode neither takes from the cache nor adds to it.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use super::dtype::{DType, Element};
use super::storage::Buffer;

/// Buffers below this size are cheap to allocate and are not cached.
const MIN_BYTES: usize = 64 * 1024;
/// At most this many bytes wait in the cache, and at most this many buffers of one size.
const MAX_BYTES: usize = 512 << 20;
const MAX_PER_SIZE: usize = 64;

#[derive(Default)]
struct Pool {
    free: HashMap<(DType, usize), Vec<Buffer>>,
    bytes: usize,
}

static POOL: LazyLock<Mutex<Pool>> = LazyLock::new(|| Mutex::new(Pool::default()));

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// An empty vector with room for exactly `n` elements from the cache, if one is waiting.
pub(crate) fn take<T: Element>(n: usize) -> Option<Vec<T>> {
    let bytes = n.checked_mul(std::mem::size_of::<T>())?;
    if bytes < MIN_BYTES || crate::reference::enabled() {
        return None;
    }
    let buf = {
        let mut p = pool();
        let buf = p.free.get_mut(&(T::DTYPE, n))?.pop()?;
        p.bytes -= bytes;
        buf
    };
    let mut v = T::vec_from(buf).ok()?;
    v.clear();
    Some(v)
}

/// Returns a freed buffer to the cache, or to the allocator when it is small or the cache full.
pub(crate) fn give(buf: Buffer) {
    let (dtype, n) = (buf.dtype(), buf.capacity());
    let bytes = n * dtype.size_of();
    if bytes < MIN_BYTES || crate::reference::enabled() {
        return;
    }
    let mut p = pool();
    let full = p.bytes + bytes > MAX_BYTES || p.free.get(&(dtype, n)).is_some_and(|l| l.len() >= MAX_PER_SIZE);
    if full {
        drop(p);
        drop(buf);
        return;
    }
    p.bytes += bytes;
    p.free.entry((dtype, n)).or_default().push(buf);
}
