//! Tables of the objects other than arrays that C holds by handle (custom functions, loans of
//! memory). A handle encodes its slot (the low 16 bits, plus one: never NULL) and the slot's
//! generation (the bits above), which freeing bumps: a freed or made-up handle is recognised
//! and reported, never followed. A slot whose generation reaches the most a handle can encode
//! is retired instead of reused, so a long-freed handle never becomes valid again.

use std::sync::{Mutex, MutexGuard};

use super::ad_status;
use super::boundary::{FfiError, FfiResult};

const SLOT_BITS: u32 = 16;
/// Slots 0..MAX_SLOTS encode as 1..=0xFFFF.
const MAX_SLOTS: usize = (1 << SLOT_BITS) - 1;
const MAX_GENERATION: usize = usize::MAX >> SLOT_BITS;

pub(crate) struct Registry<T> {
    table: Mutex<Table<T>>,
    /// What the objects are called in messages ("custom function").
    what: &'static str,
}

struct Table<T> {
    slots: Vec<Slot<T>>,
    free: Vec<usize>,
}

struct Slot<T> {
    generation: usize,
    value: Option<T>,
}

impl<T> Registry<T> {
    pub(crate) const fn new(what: &'static str) -> Self {
        Registry { table: Mutex::new(Table { slots: Vec::new(), free: Vec::new() }), what }
    }

    fn lock(&self) -> MutexGuard<'_, Table<T>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores `value`; its handle. When the table is full, the error and `value` back (not
    /// dropped: dropping some objects calls the host, which a failed call must not do).
    pub(crate) fn insert(&self, value: T) -> Result<usize, (FfiError, T)> {
        let mut t = self.lock();
        let slot = match t.free.pop() {
            Some(i) => i,
            None if t.slots.len() < MAX_SLOTS => {
                t.slots.push(Slot { generation: 0, value: None });
                t.slots.len() - 1
            }
            None => {
                let e = FfiError::new(ad_status::AD_ERR_ALLOC, format!("too many live {}s (at most {})", self.what, MAX_SLOTS));
                return Err((e, value));
            }
        };
        let s = &mut t.slots[slot];
        s.value = Some(value);
        Ok((s.generation << SLOT_BITS) | (slot + 1))
    }

    /// The slot of a live handle.
    fn slot(t: &mut Table<T>, h: usize) -> Option<&mut Slot<T>> {
        let (slot, generation) = ((h & MAX_SLOTS).wrapping_sub(1), h >> SLOT_BITS);
        t.slots.get_mut(slot).filter(|s| s.value.is_some() && s.generation == generation)
    }

    /// The error for a handle that is not live: NULL, or freed or made up.
    fn invalid(&self, h: usize, name: &str) -> FfiError {
        if h == 0 {
            super::args::null_arg(name)
        } else {
            FfiError::new(ad_status::AD_ERR_INVALID_HANDLE, format!("argument `{}` ({:#x}) is not a live {}", name, h, self.what))
        }
    }

    /// `f` of the object of handle `h` (the parameter `name`).
    pub(crate) fn with<R>(&self, h: usize, name: &str, f: impl FnOnce(&T) -> R) -> FfiResult<R> {
        let mut t = self.lock();
        match Self::slot(&mut t, h) {
            Some(s) => Ok(f(s.value.as_ref().expect("a live slot holds its value"))),
            None => Err(self.invalid(h, name)),
        }
    }

    /// Takes the object of handle `h` out; the handle is dead from then on. The caller drops
    /// the object, outside the table's lock (dropping it may call the host).
    pub(crate) fn remove(&self, h: usize, name: &str) -> FfiResult<T> {
        let mut t = self.lock();
        let slot = (h & MAX_SLOTS).wrapping_sub(1);
        let Some(s) = Self::slot(&mut t, h) else { return Err(self.invalid(h, name)) };
        let value = s.value.take().expect("a live slot holds its value");
        s.generation += 1;
        if s.generation < MAX_GENERATION {
            t.free.push(slot);
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_handle_is_refused_and_its_slot_reused_under_a_new_generation() {
        let r: Registry<u32> = Registry::new("thing");
        let a = r.insert(7).ok().unwrap();
        assert_eq!(r.with(a, "a", |v| *v).unwrap(), 7);
        assert_eq!(r.remove(a, "a").unwrap(), 7);
        assert_eq!(r.with(a, "a", |v| *v).unwrap_err().status, ad_status::AD_ERR_INVALID_HANDLE);
        assert_eq!(r.remove(a, "a").unwrap_err().status, ad_status::AD_ERR_INVALID_HANDLE);
        let b = r.insert(8).ok().unwrap();
        assert_eq!(b & MAX_SLOTS, a & MAX_SLOTS, "the slot is reused");
        assert_ne!(b, a);
        assert_eq!(r.with(0, "p", |v| *v).unwrap_err().status, ad_status::AD_ERR_NULL_ARGUMENT);
        assert!(r.with(0x1234_0005, "p", |v| *v).is_err());
    }

    #[test]
    fn a_slot_is_retired_before_its_generation_wraps() {
        let r: Registry<u32> = Registry::new("thing");
        let a = r.insert(1).ok().unwrap();
        r.lock().slots[0].generation = MAX_GENERATION - 1;
        let a = (a & MAX_SLOTS) | ((MAX_GENERATION - 1) << SLOT_BITS);
        r.remove(a, "a").unwrap();
        let b = r.insert(2).ok().unwrap();
        assert_ne!(b & MAX_SLOTS, a & MAX_SLOTS, "the worn slot is not reused");
    }
}
