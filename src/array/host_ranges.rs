//! The address ranges of every block of memory the host can reach: the buffers of storages
//! lent to the host (a loan, `Array::lend`) and the memory of arrays made over the host's
//! own (`Array::from_host`).
//!
//! Why: each storage's lock orders the accesses to its memory (see `storage`), so one block
//! of memory must never sit under two storages. If it did, an op could write through one
//! while reading through the other: an update `x += y` with `y` over `x`'s memory would
//! read what it was writing, and two threads would race with no lock between them. An array
//! over host memory is therefore made only where the memory overlaps no range here.

use std::sync::Mutex;

/// Live ranges as `[start, end)` addresses with their ticket; few at a time, so a list.
static LIVE: Mutex<Vec<(usize, usize, u64)>> = Mutex::new(Vec::new());
static NEXT_TICKET: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A range in the register, removed when this is dropped.
#[derive(Debug)]
pub(crate) struct Registered(u64);

fn live() -> std::sync::MutexGuard<'static, Vec<(usize, usize, u64)>> {
    // Nothing panics while the list is held; a poisoned lock still guards a valid list.
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

fn insert(list: &mut Vec<(usize, usize, u64)>, start: usize, bytes: usize) -> Registered {
    let ticket = NEXT_TICKET.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    list.push((start, start.saturating_add(bytes), ticket));
    Registered(ticket)
}

/// Adds `bytes` at `start` (memory the library lends the host), overlapping or not.
pub(crate) fn register(start: *const u8, bytes: usize) -> Registered {
    insert(&mut live(), start as usize, bytes)
}

/// Adds `bytes` at `start` if they overlap no live range; otherwise the first range they
/// overlap, as `(start, bytes)`. An empty range overlaps nothing.
pub(crate) fn register_alone(start: *const u8, bytes: usize) -> Result<Registered, (usize, usize)> {
    let mut list = live();
    let (start, end) = (start as usize, (start as usize).saturating_add(bytes));
    if bytes > 0 {
        if let Some(&(s, e, _)) = list.iter().find(|&&(s, e, _)| s < end && start < e) {
            return Err((s, e - s));
        }
    }
    Ok(insert(&mut list, start, bytes))
}

/// Whether `bytes` at `start` overlap a live range.
pub(crate) fn overlaps(start: *const u8, bytes: usize) -> bool {
    let (start, end) = (start as usize, (start as usize).saturating_add(bytes));
    bytes > 0 && live().iter().any(|&(s, e, _)| s < end && start < e)
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut list = live();
        if let Some(i) = list.iter().position(|&(_, _, t)| t == self.0) {
            list.swap_remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_ranges_are_refused_until_the_first_is_dropped() {
        let block = [0u8; 64];
        let p = block.as_ptr();
        let whole = register_alone(p, 64).expect("a fresh range");
        assert_eq!(register_alone(p.wrapping_add(63), 8).unwrap_err(), (p as usize, 64));
        assert!(overlaps(p.wrapping_add(10), 1));
        // Empty ranges overlap nothing; ranges that only touch do not overlap.
        assert!(register_alone(p.wrapping_add(10), 0).is_ok());
        assert!(!overlaps(p.wrapping_add(64), 8));
        drop(whole);
        assert!(!overlaps(p, 64));
        let _again = register_alone(p, 64).expect("free again once dropped");
    }
}
