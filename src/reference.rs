//! The reference mode: every fast path of the engine switched off, so that a program runs the
//! plain path that is slow and obviously correct. Gradients are expanded to full shape before
//! and after each vector-Jacobian product and summed into new arrays, never overwritten,
//! moved or accumulated in place; the float32 math calls the C library's functions instead
//! of the vectorised ones; matrix products are the triple loop; element-wise loops and
//! reductions run on the calling thread, one element at a time by multi-index; buffers are
//! not reused from the cache; element-wise ops run when called, never deferred and fused.
//!
//! It is a debugging aid: a program whose results change between the two modes (beyond
//! rounding) has found a bug in a fast path. The gradient fuzzer compares the two. Set for the
//! whole process by `AD_REFERENCE_MODE=1` in the environment, or at run time by `set`.
//!
//! Every fast path asks `enabled()` where it chooses between itself and the plain path; the
//! answer may change between two calls (another thread may switch the mode), so each such
//! choice must be correct either way on its own.

use std::sync::atomic::{AtomicU8, Ordering};

const UNREAD: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;

static MODE: AtomicU8 = AtomicU8::new(UNREAD);

fn from_env() -> bool {
    std::env::var("AD_REFERENCE_MODE").is_ok_and(|v| !matches!(v.trim(), "" | "0"))
}

/// Whether the reference mode is on (for the whole process).
#[inline]
pub fn enabled() -> bool {
    match MODE.load(Ordering::Relaxed) {
        OFF => false,
        ON => true,
        _ => {
            let on = from_env();
            // Unless `set` came first, the environment's answer is stored.
            let _ = MODE.compare_exchange(UNREAD, if on { ON } else { OFF }, Ordering::Relaxed, Ordering::Relaxed);
            MODE.load(Ordering::Relaxed) == ON
        }
    }
}

/// Switches the reference mode on or off for the whole process; returns the previous setting.
pub fn set(on: bool) -> bool {
    let before = enabled();
    MODE.store(if on { ON } else { OFF }, Ordering::Relaxed);
    before
}
