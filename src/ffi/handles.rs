//! The handle table. An `ad_array *` given to C encodes (slot index + 1, generation); the
//! slot holds the array while the handle lives. Freeing bumps the slot's generation, so a
//! stale handle is recognised and reported, never dereferenced. A slot whose generation has
//! reached the most a handle can encode is retired instead of reused: a generation that
//! wrapped around would make a long-freed handle valid again.

use std::sync::Mutex;

use super::args::null_arg;
use super::boundary::{FfiError, FfiResult};
use super::engine::NdArray;
use super::{ad_status, AD_MAX_NDIM};

/// An array, as C sees it: an opaque handle made by the library and freed with
/// `ad_array_free`. Never dereferenced: the pointer's value encodes a table slot.
pub struct ad_array {
    _private: [u8; 0],
}

struct Slot {
    generation: u32,
    array: Option<NdArray>,
}

struct Table {
    slots: Vec<Slot>,
    free: Vec<usize>,
}

static TABLE: Mutex<Table> = Mutex::new(Table { slots: Vec::new(), free: Vec::new() });

/// Index bits in the low half of the handle value, generation bits in the high half.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// The last generation a handle can encode (2^32 - 1 on 64-bit targets): a slot freed at it
/// is retired, after 2^32 uses.
const GEN_MAX: u32 = (usize::MAX >> INDEX_BITS) as u32;

fn table() -> std::sync::MutexGuard<'static, Table> {
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

fn encode(index: usize, generation: u32) -> *mut ad_array {
    (((generation as usize) << INDEX_BITS) | (index + 1)) as *mut ad_array
}

fn decode(h: *const ad_array) -> (usize, u32) {
    let v = h as usize;
    ((v & INDEX_MASK).wrapping_sub(1), (v >> INDEX_BITS) as u32)
}

fn invalid(name: &str, h: *const ad_array) -> FfiError {
    FfiError::new(
        ad_status::AD_ERR_INVALID_HANDLE,
        format!("argument `{}` ({:p}) is not a live array handle: it was freed, or never made by this library", name, h),
    )
}

impl Table {
    fn slot(&mut self, h: *const ad_array) -> Option<&mut Slot> {
        let (index, generation) = decode(h);
        self.slots.get_mut(index).filter(|s| s.array.is_some() && s.generation == generation)
    }
}

/// Stores `array` and returns its new handle.
pub(crate) fn insert(array: NdArray) -> FfiResult<*mut ad_array> {
    // Every shape is checked where it is made; this keeps an op that missed the check from
    // handing out an array that printing could not walk.
    if array.ndim() > AD_MAX_NDIM {
        return Err(FfiError::new(
            ad_status::AD_ERR_SHAPE,
            format!("the result would have {} axes, more than the {} an array may have (AD_MAX_NDIM)", array.ndim(), AD_MAX_NDIM),
        ));
    }
    // A float32 result of an export that converted a float16 operand goes back to float16.
    // Two calls rather than one conditional move: the per-op path pays for each move of the
    // array.
    if array.dtype() == super::engine::DType::F32 && super::boundary::converts_float16() {
        return store(super::boundary::float16_result(array)?);
    }
    store(array)
}

#[inline(always)]
fn store(array: NdArray) -> FfiResult<*mut ad_array> {
    let mut t = table();
    let index = match t.free.pop() {
        Some(i) => i,
        None => {
            if t.slots.len() >= INDEX_MASK - 1 {
                return Err(FfiError::new(ad_status::AD_ERR_ALLOC, "too many live array handles"));
            }
            t.slots.push(Slot { generation: 0, array: None });
            t.slots.len() - 1
        }
    };
    let slot = &mut t.slots[index];
    slot.array = Some(array);
    Ok(encode(index, slot.generation))
}

/// The array behind handle `h` (a cheap clone sharing its data and graph entry).
#[inline]
pub(crate) fn get(h: *const ad_array, name: &str) -> FfiResult<NdArray> {
    if h.is_null() {
        return Err(null_arg(name));
    }
    let mut t = table();
    match t.slot(h) {
        Some(slot) => Ok(slot.array.as_ref().expect("live slot").clone()),
        None => Err(invalid(name, h)),
    }
}

/// As `get`, with `check` run on an array that is not float32 or float64 before it is taken:
/// the per-op path, which pays for each move of the array between calls. `check` refuses the
/// array, or gives the array to use in its place (a float16 array's float32 conversion).
#[inline]
pub(crate) fn get_float_or(h: *const ad_array, name: &str, check: fn(&NdArray, &str) -> FfiResult<Option<NdArray>>) -> FfiResult<NdArray> {
    if h.is_null() {
        return Err(null_arg(name));
    }
    let array = {
        let mut t = table();
        match t.slot(h) {
            Some(slot) => {
                let array = slot.array.as_ref().expect("live slot");
                if array.dtype().is_float() {
                    return Ok(array.clone());
                }
                array.clone()
            }
            None => return Err(invalid(name, h)),
        }
    };
    // Outside the table's lock: a conversion allocates and records.
    match check(&array, name)? {
        Some(replaced) => Ok(replaced),
        None => Ok(array),
    }
}

/// Runs `f` on the array behind `h` in place (for `attach_grad`, which changes its entry).
pub(crate) fn update<R>(h: *mut ad_array, name: &str, f: impl FnOnce(&mut NdArray) -> FfiResult<R>) -> FfiResult<R> {
    if h.is_null() {
        return Err(null_arg(name));
    }
    // Work on a copy outside the lock: `f` may allocate, record, or fail.
    let mut array = get(h, name)?;
    let r = f(&mut array)?;
    let mut t = table();
    match t.slot(h) {
        Some(slot) => {
            slot.array = Some(array);
            Ok(r)
        }
        None => Err(invalid(name, h)),
    }
}

/// Frees handle `h`. NULL is a no-op; a stale handle is an error.
pub(crate) fn remove(h: *mut ad_array, name: &str) -> FfiResult<()> {
    if h.is_null() {
        return Ok(());
    }
    let array = {
        let mut t = table();
        let (index, _) = decode(h);
        let Some(slot) = t.slot(h) else { return Err(invalid(name, h)) };
        let array = slot.array.take();
        // Retired at the last generation: left empty and off the free list, it matches no
        // handle ever again.
        if slot.generation < GEN_MAX {
            slot.generation += 1;
            t.free.push(index);
        }
        array
    };
    // Dropped outside the lock: releasing a large graph takes time.
    drop(array);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    fn array() -> NdArray {
        NdArray::zeros(&[2], DType::F32).unwrap()
    }

    /// A slot aged to its last generations (as if freed and made again 2^32 - 2 times) serves
    /// one more handle and is then retired: no handle of it, old or wrapped, is accepted.
    #[test]
    fn a_slot_is_retired_before_its_generation_wraps() {
        let first = insert(array()).unwrap();
        let (index, generation) = decode(first);
        assert_eq!(decode(encode(index, GEN_MAX)), (index, GEN_MAX));
        let aged = {
            let mut t = table();
            t.slots[index].generation = GEN_MAX - 1;
            encode(index, GEN_MAX - 1)
        };
        assert!(get(first, "h").is_err(), "the handle of generation {} is stale", generation);
        remove(aged, "h").unwrap();
        assert!(get(aged, "h").is_err());
        // The freed slot is the next one handed out (the free list is a stack), at the last
        // generation a handle can encode.
        let last = insert(array()).unwrap();
        assert_eq!(decode(last), (index, GEN_MAX));
        assert!(get(last, "h").is_ok());
        remove(last, "h").unwrap();
        // Retired: neither the last handle, nor the older ones, nor the generation a wrap
        // would give (0) is accepted; the next array goes to another slot.
        for stale in [last, aged, first, encode(index, 0), encode(index, 1)] {
            assert!(matches!(get(stale, "h"), Err(e) if e.status == ad_status::AD_ERR_INVALID_HANDLE));
            assert!(remove(stale, "h").is_err());
        }
        let next = insert(array()).unwrap();
        assert_ne!(decode(next).0, index);
        assert!(!table().free.contains(&index));
        remove(next, "h").unwrap();
    }
}
