//! A node's vector-Jacobian product closure, stored without an allocation when it is small.
//! Most closures capture a scalar, an axis or a couple of flags; boxing each one would be a
//! malloc and a free per recorded op, a tenth of the cost of recording a small op.

use std::mem::{align_of, size_of, MaybeUninit};

use super::{VjpArgs, VjpFn};
use super::NdArray;
use crate::error::Result;

/// Captures up to this many words are kept inline.
const INLINE_WORDS: usize = 3;

type Grads = Result<Vec<Option<NdArray>>>;

pub(crate) enum SmallVjp {
    Inline {
        data: MaybeUninit<[usize; INLINE_WORDS]>,
        /// Calls the closure of type `F` that `data` holds.
        call: unsafe fn(*const (), &VjpArgs<'_>) -> Grads,
        /// Drops it in place.
        drop: unsafe fn(*mut ()),
    },
    Boxed(Box<VjpFn>),
}

// SAFETY: `Inline` is only made from an `F: Send + Sync` (see `new`), which it owns.
unsafe impl Send for SmallVjp {}
unsafe impl Sync for SmallVjp {}

impl SmallVjp {
    pub(crate) fn new<F>(f: F) -> SmallVjp
    where
        F: Fn(&VjpArgs<'_>) -> Grads + Send + Sync + 'static,
    {
        if size_of::<F>() > size_of::<[usize; INLINE_WORDS]>() || align_of::<F>() > align_of::<usize>() {
            return SmallVjp::Boxed(Box::new(f));
        }
        unsafe fn call<F: Fn(&VjpArgs<'_>) -> Grads>(p: *const (), v: &VjpArgs<'_>) -> Grads {
            // SAFETY: `p` points at the `F` written by `new`, alive until `drop`.
            unsafe { (*p.cast::<F>())(v) }
        }
        unsafe fn drop<F>(p: *mut ()) {
            // SAFETY: as for `call`; `Drop for SmallVjp` calls this once.
            unsafe { p.cast::<F>().drop_in_place() }
        }
        let mut data = MaybeUninit::<[usize; INLINE_WORDS]>::uninit();
        // SAFETY: `F` fits in `data` in size and alignment (checked above).
        unsafe { data.as_mut_ptr().cast::<F>().write(f) };
        SmallVjp::Inline { data, call: call::<F>, drop: drop::<F> }
    }

    pub(crate) fn call(&self, v: &VjpArgs<'_>) -> Grads {
        match self {
            // SAFETY: `data` holds the closure `call` was made for.
            SmallVjp::Inline { data, call, .. } => unsafe { call(data.as_ptr().cast(), v) },
            SmallVjp::Boxed(f) => f(v),
        }
    }
}

impl Drop for SmallVjp {
    fn drop(&mut self) {
        if let SmallVjp::Inline { data, drop, .. } = self {
            // SAFETY: the closure is dropped once, here, and never used after.
            unsafe { drop(data.as_mut_ptr().cast()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[test]
    fn small_closures_are_inline_large_ones_boxed_and_each_is_dropped_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        struct Count(Arc<AtomicUsize>);
        impl Drop for Count {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let small = Count(drops.clone());
        let f = SmallVjp::new(move |_: &VjpArgs<'_>| {
            let _ = &small;
            Ok(vec![])
        });
        assert!(matches!(f, SmallVjp::Inline { .. }));
        let big = (Count(drops.clone()), [0u64; 8]);
        let g = SmallVjp::new(move |_: &VjpArgs<'_>| {
            let _ = &big;
            Ok(vec![None])
        });
        assert!(matches!(g, SmallVjp::Boxed(_)));
        drop(f);
        drop(g);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }
}
