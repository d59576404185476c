//! A node's vector-Jacobian product closure, stored without an allocation when it is small.
//! Most closures capture a scalar, an axis or a couple of flags; boxing each one would be a
//! malloc and a free per recorded op, a tenth of the cost of recording a small op.

use std::mem::{align_of, size_of, MaybeUninit};

use super::{Vjp, VjpFn};
use super::NdArray;
use crate::error::Result;

/// Captures up to this many words are kept inline.
const INLINE_WORDS: usize = 3;

type Grads = Result<Vec<Option<NdArray>>>;

pub(crate) enum StoredVjp {
    Inline {
        data: MaybeUninit<[usize; INLINE_WORDS]>,
        /// Calls the closure of type `F` that `data` holds.
        call: unsafe fn(*const (), &Vjp<'_>) -> Grads,
        /// Drops it in place.
        drop: unsafe fn(*mut ()),
    },
    Boxed(Box<VjpFn>),
}

// SAFETY: `Inline` is only made from an `F: Send + Sync` (see `new`), which it owns.
unsafe impl Send for StoredVjp {}
unsafe impl Sync for StoredVjp {}

impl StoredVjp {
    pub(crate) fn new<F>(f: F) -> StoredVjp
    where
        F: Fn(&Vjp<'_>) -> Grads + Send + Sync + 'static,
    {
        if size_of::<F>() > size_of::<[usize; INLINE_WORDS]>() || align_of::<F>() > align_of::<usize>() {
            return StoredVjp::Boxed(Box::new(f));
        }
        unsafe fn call<F: Fn(&Vjp<'_>) -> Grads>(p: *const (), v: &Vjp<'_>) -> Grads {
            // SAFETY: `p` points at the `F` written by `new`, alive until `drop`.
            unsafe { (*p.cast::<F>())(v) }
        }
        unsafe fn drop<F>(p: *mut ()) {
            // SAFETY: as for `call`; `Drop for StoredVjp` calls this once.
            unsafe { p.cast::<F>().drop_in_place() }
        }
        let mut data = MaybeUninit::<[usize; INLINE_WORDS]>::uninit();
        // SAFETY: `F` fits in `data` in size and alignment (checked above).
        unsafe { data.as_mut_ptr().cast::<F>().write(f) };
        StoredVjp::Inline { data, call: call::<F>, drop: drop::<F> }
    }

    pub(crate) fn call(&self, v: &Vjp<'_>) -> Grads {
        match self {
            // SAFETY: `data` holds the closure `call` was made for.
            StoredVjp::Inline { data, call, .. } => unsafe { call(data.as_ptr().cast(), v) },
            StoredVjp::Boxed(f) => f(v),
        }
    }
}

impl Drop for StoredVjp {
    fn drop(&mut self) {
        if let StoredVjp::Inline { data, drop, .. } = self {
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
        let f = StoredVjp::new(move |_: &Vjp<'_>| {
            let _ = &small;
            Ok(vec![])
        });
        assert!(matches!(f, StoredVjp::Inline { .. }));
        let big = (Count(drops.clone()), [0u64; 8]);
        let g = StoredVjp::new(move |_: &Vjp<'_>| {
            let _ = &big;
            Ok(vec![None])
        });
        assert!(matches!(g, StoredVjp::Boxed(_)));
        drop(f);
        drop(g);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }
}
