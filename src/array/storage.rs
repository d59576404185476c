//! Shared, mutable element storage. Several arrays (a reshape, a detached copy, a handle on a
//! gradient buffer) may view one storage; in-place writes through any of them are seen by all.
//!
//! # Locking
//!
//! Each storage has a reader-writer lock, and a waiting writer holds back new readers. So a
//! thread that holds a read guard and asks for a second one on the same storage can wait
//! forever for a writer that waits for it, and two threads that each hold one storage's guard
//! and ask for the other's wait for each other. Hence the rule, for every op:
//!
//! - It holds at most one guard per distinct storage. Arrays that view one storage (`x` and
//!   `x`, `x` and a reshape of it) share that guard: a write guard if the op writes the
//!   storage, which it also reads through.
//! - It takes more than one guard only through [`lock`], all at once, in the order of the
//!   storages' addresses: guards taken in one global order cannot wait on each other in a
//!   cycle. `Storage::read` and `Storage::write` are for an op that holds one guard at a time.
//! - While it holds guards it calls nothing that takes one (`to_vec`, `clone_buffer`, another
//!   op): what it needs it reads through the guards it holds.
//!
//! So an op that reads several inputs sees them all at one instant, each whole, and an
//! in-place update, which reads its source under the same guards, is one atomic step. An op
//! made of other ops (softmax, batch_norm) is several such steps.

use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use smallvec::SmallVec;

use super::dtype::{Bool, DType, Scalar};
use crate::error::Result;

/// Runs `$body` with the type `$t` set to the element type of `dtype` (every dtype).
macro_rules! with_dtype {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            $crate::array::DType::F32 => {
                type $t = f32;
                $body
            }
            $crate::array::DType::F64 => {
                type $t = f64;
                $body
            }
            $crate::array::DType::F16 => {
                type $t = $crate::array::dtype::f16;
                $body
            }
            $crate::array::DType::U8 => {
                type $t = u8;
                $body
            }
            $crate::array::DType::I32 => {
                type $t = i32;
                $body
            }
            $crate::array::DType::I8 => {
                type $t = i8;
                $body
            }
            $crate::array::DType::I64 => {
                type $t = i64;
                $body
            }
            $crate::array::DType::Bool => {
                type $t = $crate::array::dtype::Bool;
                $body
            }
        }
    };
}
pub(crate) use with_dtype;

/// Borrow a buffer's elements as `&[T]` for the matching `T: Scalar`, running `$body` once
/// per dtype (every dtype: for code that only moves or converts elements).
macro_rules! with_any_slice {
    ($buf:expr, $range:expr, |$v:ident: &[$t:ident]| $body:expr) => {
        match $buf {
            $crate::array::storage::Buffer::F32(all) => { #[allow(unused)] type $t = f32; let $v: &[$t] = &all[$range]; $body }
            $crate::array::storage::Buffer::F64(all) => { #[allow(unused)] type $t = f64; let $v: &[$t] = &all[$range]; $body }
            $crate::array::storage::Buffer::F16(all) => { #[allow(unused)] type $t = $crate::array::dtype::f16; let $v: &[$t] = &all[$range]; $body }
            $crate::array::storage::Buffer::U8(all) => { #[allow(unused)] type $t = u8; let $v: &[$t] = &all[$range]; $body }
            $crate::array::storage::Buffer::I32(all) => { #[allow(unused)] type $t = i32; let $v: &[$t] = &all[$range]; $body }
            $crate::array::storage::Buffer::I8(all) => { #[allow(unused)] type $t = i8; let $v: &[$t] = &all[$range]; $body }
            $crate::array::storage::Buffer::I64(all) => { #[allow(unused)] type $t = i64; let $v: &[$t] = &all[$range]; $body }
            $crate::array::storage::Buffer::Bool(all) => {
                #[allow(unused)]
                type $t = $crate::array::dtype::Bool;
                let $v: &[$t] = &all[$range];
                $body
            }
        }
    };
}
pub(crate) use with_any_slice;

/// Borrow a float buffer's elements as `&[T]` for the matching `T: Element`, running `$body`
/// once per float dtype. The kernels that use it compute on floats only; the C boundary refuses
/// other dtypes before they get here (`ffi::args::handle`), so another dtype is a bug.
macro_rules! with_slice {
    ($buf:expr, $range:expr, |$v:ident: &[$t:ident]| $body:expr) => {
        match $buf {
            $crate::array::storage::Buffer::F32(all) => {
                #[allow(unused)]
                type $t = f32;
                let $v: &[f32] = &all[$range];
                $body
            }
            $crate::array::storage::Buffer::F64(all) => {
                #[allow(unused)]
                type $t = f64;
                let $v: &[f64] = &all[$range];
                $body
            }
            other => panic!("a float kernel was given {} elements", other.dtype().name()),
        }
    };
}
pub(crate) use with_slice;

/// Elements of one dtype, row-major.
#[derive(Clone, Debug)]
pub enum Buffer {
    F32(Elems<f32>),
    F64(Elems<f64>),
    F16(Elems<super::dtype::f16>),
    U8(Elems<u8>),
    I32(Elems<i32>),
    I8(Elems<i8>),
    I64(Elems<i64>),
    Bool(Elems<Bool>),
}

/// Runs `$body` with `$v` bound to the `Elems` of whichever variant `$buf` is (all dtypes).
macro_rules! each_variant {
    ($buf:expr, |$v:ident| $body:expr) => {
        match $buf {
            $crate::array::storage::Buffer::F32($v) => $body,
            $crate::array::storage::Buffer::F64($v) => $body,
            $crate::array::storage::Buffer::F16($v) => $body,
            $crate::array::storage::Buffer::U8($v) => $body,
            $crate::array::storage::Buffer::I32($v) => $body,
            $crate::array::storage::Buffer::I8($v) => $body,
            $crate::array::storage::Buffer::I64($v) => $body,
            $crate::array::storage::Buffer::Bool($v) => $body,
        }
    };
}

/// The elements of a buffer: a vector the library allocated, or memory the host lent
/// (`Array::from_host`), handed back through its release when the buffer goes.
pub enum Elems<T> {
    Own(Vec<T>),
    Host(HostMemory<T>),
}

/// Memory the host lent: `len` elements at `ptr`, the library's until `release` runs.
pub struct HostMemory<T> {
    ptr: std::ptr::NonNull<T>,
    len: usize,
    release: Option<Box<dyn FnOnce() + Send + Sync>>,
    /// The memory's place in the register of host ranges, left before `release` runs.
    registered: Option<super::host_ranges::Registered>,
}

// SAFETY: the host hands the memory over for the buffer's lifetime (`from_host`'s contract);
// the storage's lock orders every access the library makes, from any thread.
unsafe impl<T: Send> Send for HostMemory<T> {}
unsafe impl<T: Sync> Sync for HostMemory<T> {}

impl<T> HostMemory<T> {
    /// # Safety
    /// `ptr` must be aligned for `T` and valid for reads and writes of `len` elements (it may
    /// be dangling when `len` is 0), used by nothing else until `release` runs.
    pub(crate) unsafe fn new(
        ptr: std::ptr::NonNull<T>,
        len: usize,
        release: Option<Box<dyn FnOnce() + Send + Sync>>,
        registered: super::host_ranges::Registered,
    ) -> Self {
        HostMemory { ptr, len, release, registered: Some(registered) }
    }
}

impl<T> Drop for HostMemory<T> {
    fn drop(&mut self) {
        // Out of the register first: once released, the memory may be wrapped again.
        drop(self.registered.take());
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

impl<T> std::ops::Deref for Elems<T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        match self {
            Elems::Own(v) => v,
            // SAFETY: HostMemory::new's contract.
            Elems::Host(h) => unsafe { std::slice::from_raw_parts(h.ptr.as_ptr(), h.len) },
        }
    }
}

impl<T> std::ops::DerefMut for Elems<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Elems::Own(v) => v,
            // SAFETY: HostMemory::new's contract; `&mut self` makes this the only access.
            Elems::Host(h) => unsafe { std::slice::from_raw_parts_mut(h.ptr.as_ptr(), h.len) },
        }
    }
}

impl<T> From<Vec<T>> for Elems<T> {
    #[inline]
    fn from(v: Vec<T>) -> Self {
        Elems::Own(v)
    }
}

impl<T: Clone> Clone for Elems<T> {
    /// A copy in the library's own memory.
    fn clone(&self) -> Self {
        Elems::Own(self.to_vec())
    }
}

impl<T> std::fmt::Debug for Elems<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Elems::Own(v) => write!(f, "Own({} elements)", v.len()),
            Elems::Host(h) => write!(f, "Host({} elements at {:p})", h.len, h.ptr),
        }
    }
}

impl<T> Elems<T> {
    /// Room for elements: the vector's capacity, or the host memory's length.
    pub fn capacity(&self) -> usize {
        match self {
            Elems::Own(v) => v.capacity(),
            Elems::Host(h) => h.len,
        }
    }

    /// The library's own vector, or the elements back when they are the host's.
    pub fn into_vec(self) -> std::result::Result<Vec<T>, Elems<T>> {
        match self {
            Elems::Own(v) => Ok(v),
            host => Err(host),
        }
    }

    /// Whether the memory is the host's (never cached for reuse).
    pub fn is_host(&self) -> bool {
        matches!(self, Elems::Host(_))
    }
}

impl Buffer {
    pub fn dtype(&self) -> DType {
        match self {
            Buffer::F32(_) => DType::F32,
            Buffer::F64(_) => DType::F64,
            Buffer::U8(_) => DType::U8,
            Buffer::I32(_) => DType::I32,
            Buffer::I8(_) => DType::I8,
            Buffer::F16(_) => DType::F16,
            Buffer::I64(_) => DType::I64,
            Buffer::Bool(_) => DType::Bool,
        }
    }

    pub fn len(&self) -> usize {
        each_variant!(self, |v| v.len())
    }

    pub fn capacity(&self) -> usize {
        each_variant!(self, |v| v.capacity())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the elements are memory the host lent.
    pub fn is_host(&self) -> bool {
        each_variant!(self, |v| v.is_host())
    }

    /// `n` copies of `value` (cast to `dtype` as `astype` casts), failing cleanly when the
    /// allocation cannot be made.
    pub fn filled(dtype: DType, n: usize, value: f64) -> Result<Buffer> {
        fn fill<T: Scalar>(n: usize, value: f64) -> Result<Buffer> {
            Ok(T::wrap(filled_vec(n, T::cast_f64(value))?))
        }
        with_dtype!(dtype, T => fill::<T>(n, value))
    }
}

/// An empty vector with room for `n` elements (a cached buffer when one of that size is
/// free), or an `Alloc` error instead of an abort.
#[inline]
pub fn try_vec<T: Scalar>(n: usize) -> Result<Vec<T>> {
    if let Some(v) = super::pool::take(n) {
        return Ok(v);
    }
    crate::cpu::loops::try_alloc(n)
}

pub fn filled_vec<T: Scalar>(n: usize, value: T) -> Result<Vec<T>> {
    let mut v = try_vec(n)?;
    v.resize(n, value);
    Ok(v)
}

/// The storages made pending, weakly held, so that `compute_all_pending` (MXNet's `waitall`)
/// can find them; dropped and computed ones are swept out as the list grows.
static PENDING_STORAGES: Mutex<PendingList> = Mutex::new(PendingList { list: Vec::new(), sweep_at: 64 });

struct PendingList {
    list: Vec<Weak<Storage>>,
    /// The length at which the next sweep runs: twice what the last one left, so that the
    /// sweeps cost a constant per storage added.
    sweep_at: usize,
}

impl PendingList {
    fn add(&mut self, storage: &Arc<Storage>) {
        if self.list.len() >= self.sweep_at {
            self.sweep();
        }
        self.list.push(Arc::downgrade(storage));
    }

    fn sweep(&mut self) {
        self.list.retain(|w| w.upgrade().is_some_and(|s| s.is_pending()));
        self.sweep_at = (2 * self.list.len()).max(64);
    }
}

/// Computes the values of every storage still pending, the most recent first: a later result
/// is often computed through earlier ones still held, and its loop writes them on the way.
/// Storages made pending meanwhile, by other threads, are left to a later call.
pub fn compute_all_pending() {
    let list: Vec<Weak<Storage>> = PENDING_STORAGES.lock().unwrap_or_else(|e| e.into_inner()).list.clone();
    for storage in list.iter().rev().filter_map(Weak::upgrade) {
        storage.force();
    }
    PENDING_STORAGES.lock().unwrap_or_else(|e| e.into_inner()).sweep();
}

/// A buffer behind a lock, plus a version counter bumped by every in-place write, and what
/// few storages need besides: loans of the memory to the host (`loan`) and deferred values.
#[derive(Debug)]
pub struct Storage {
    buf: RwLock<Buffer>,
    version: AtomicU64,
    /// `Extras`, made the first time a storage needs them (null until then): the per-op path
    /// pays a null check, and no larger header, for features it does not use.
    extras: AtomicPtr<Extras>,
    /// `PENDING` and `READ_BY_PENDING`, read without a lock on every access.
    flags: AtomicU8,
}

/// `Storage::flags`: the values are still to be computed by `Extras::deferred`.
const PENDING: u8 = 1;
/// `Storage::flags`: `Extras::dependents` may hold pending storages that read this one.
const READ_BY_PENDING: u8 = 2;

#[derive(Default)]
struct Extras {
    /// Loans outstanding, and those among them that let the host write. Changed only under
    /// a guard on the buffer (see `loan`), so a writer that holds its guard sees them settled.
    lent: AtomicUsize,
    lent_writable: AtomicUsize,
    /// Work that computes the buffer's values when they are first needed.
    deferred: Mutex<Option<Box<dyn Deferred>>>,
    /// Storages whose deferred work reads this one, computed before this one is written.
    dependents: Mutex<Vec<Weak<Storage>>>,
}

// A storage is shared between threads and reaches its extras through a raw pointer, which
// the compiler does not check: they must be shareable themselves.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<Extras>()
};

/// # Deferred values
///
/// An element-wise op on a large array may leave its result uncomputed: its storage holds
/// an empty buffer of the right dtype and `Deferred` work that fills it (`ops::fuse` chains
/// such work into one loop over memory). The values are computed the first time anything
/// takes a guard on the storage (`read`, `write`, `lock`, `lend`), before the guard is taken
/// and with no other guard of the caller held, so the locking rule above is unchanged. The
/// work reads other storages (its leaves); before any of those is written, every storage
/// whose work reads it is computed (`dependents`), so the deferred values are those of the
/// moment the op was called, as if it had run then.
pub trait Deferred: Send + Sync + std::fmt::Debug {
    /// Computes the values: the buffer that replaces the empty one.
    fn run(self: Box<Self>) -> Buffer;
    /// The work as `Any`, for the module that made it to look inside.
    fn as_any(&self) -> &dyn std::any::Any;
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

/// A storage's buffer goes back to the cache of large buffers when the last array using it
/// is gone.
impl Drop for Storage {
    fn drop(&mut self) {
        let extras = *self.extras.get_mut();
        if !extras.is_null() {
            // SAFETY: a non-null pointer came from Box::into_raw in `extras`, and nothing else
            // frees it; nothing can use it after the storage's last reference.
            drop(unsafe { Box::from_raw(extras) });
        }
        let buf = std::mem::replace(self.buf.get_mut().unwrap_or_else(|e| e.into_inner()), Buffer::F32(Vec::new().into()));
        super::pool::give(buf);
    }
}

impl Storage {
    #[inline]
    pub fn new(buf: Buffer) -> Arc<Storage> {
        Arc::new(Storage {
            buf: RwLock::new(buf),
            version: AtomicU64::new(0),
            extras: AtomicPtr::new(std::ptr::null_mut()),
            flags: AtomicU8::new(0),
        })
    }

    /// A storage of `dtype` whose values `work` computes when first needed; `reads` are the
    /// storages the work reads (each must not itself be pending).
    pub(crate) fn deferred(dtype: DType, work: Box<dyn Deferred>, reads: &[&Storage]) -> Arc<Storage> {
        let empty = with_dtype!(dtype, T => T::wrap(Vec::new()));
        let storage = Storage::new(empty);
        *storage.extras().deferred.lock().unwrap_or_else(|e| e.into_inner()) = Some(work);
        storage.flags.fetch_or(PENDING, Ordering::Release);
        for leaf in reads {
            leaf.add_dependent(&storage);
        }
        PENDING_STORAGES.lock().unwrap_or_else(|e| e.into_inner()).add(&storage);
        storage
    }

    /// The extras, made now if they are not yet.
    fn extras(&self) -> &Extras {
        let p = self.extras.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: a non-null pointer is a live Box's, freed only when the storage is.
            return unsafe { &*p };
        }
        let made = Box::into_raw(Box::<Extras>::default());
        match self.extras.compare_exchange(std::ptr::null_mut(), made, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: `made` is now the storage's, as above.
            Ok(_) => unsafe { &*made },
            Err(first) => {
                // SAFETY: another thread's extras won; `made` was never shared.
                drop(unsafe { Box::from_raw(made) });
                // SAFETY: as above, for the winner's.
                unsafe { &*first }
            }
        }
    }

    /// The extras, if they were made.
    #[inline]
    fn extras_if_made(&self) -> Option<&Extras> {
        let p = self.extras.load(Ordering::Acquire);
        // SAFETY: a non-null pointer is a live Box's, freed only when the storage is.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// Whether the values are still to be computed.
    #[inline]
    pub fn is_pending(&self) -> bool {
        self.flags.load(Ordering::Acquire) & PENDING != 0
    }

    /// Runs `f` on the deferred work while it is pending (it cannot start meanwhile).
    pub(crate) fn with_deferred<R>(&self, f: impl FnOnce(&dyn Deferred) -> R) -> Option<R> {
        if !self.is_pending() {
            return None;
        }
        self.extras().deferred.lock().unwrap_or_else(|e| e.into_inner()).as_deref().map(f)
    }

    /// Computes the values if they are pending. Another thread asking meanwhile waits for
    /// them on the mutex.
    #[inline]
    pub fn force(&self) {
        if self.is_pending() {
            self.force_slow()
        }
    }

    #[cold]
    fn force_slow(&self) {
        let mut slot = self.extras().deferred.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(work) = slot.take() {
            let values = work.run();
            *self.buf.write().unwrap_or_else(|e| e.into_inner()) = values;
            self.flags.fetch_and(!PENDING, Ordering::Release);
        }
    }

    /// The pending work, taken out for a fused loop that computes these values on its way to
    /// another storage's (see `Claim`); `None` when the values are computed or another thread
    /// is computing them (it never waits).
    pub(crate) fn try_claim(&self) -> Option<Claim<'_>> {
        if !self.is_pending() {
            return None;
        }
        let mut slot = self.extras().deferred.try_lock().ok()?;
        let work = slot.take()?;
        Some(Claim { storage: self, slot, work: Some(work) })
    }

    /// Records that `reader`'s deferred work reads this storage.
    fn add_dependent(&self, reader: &Arc<Storage>) {
        let mut list = self.extras().dependents.lock().unwrap_or_else(|e| e.into_inner());
        // A weight read by every step would otherwise collect one entry per step.
        if list.len() >= 16 {
            list.retain(|w| w.upgrade().is_some_and(|s| s.is_pending()));
        }
        list.push(Arc::downgrade(reader));
        self.flags.fetch_or(READ_BY_PENDING, Ordering::Release);
    }

    /// Computes every pending storage that reads this one: called before it is written.
    #[inline]
    fn force_dependents(&self) {
        if self.flags.load(Ordering::Acquire) & READ_BY_PENDING != 0 {
            self.force_dependents_slow()
        }
    }

    #[cold]
    fn force_dependents_slow(&self) {
        let list = std::mem::take(&mut *self.extras().dependents.lock().unwrap_or_else(|e| e.into_inner()));
        self.flags.fetch_and(!READ_BY_PENDING, Ordering::Release);
        for reader in list.iter().filter_map(Weak::upgrade) {
            reader.force();
        }
    }

    /// Before a guard that writes: this storage's values and those that read it computed.
    #[inline]
    fn settle_for_writing(&self) {
        self.force();
        self.force_dependents();
    }

    /// Whether the host holds a loan of this memory (then its buffer stays where it is).
    pub(crate) fn is_lent(&self) -> bool {
        self.extras_if_made().is_some_and(|e| e.lent.load(Ordering::Acquire) > 0)
    }

    /// Whether the host may be writing this memory now, through a loan.
    pub fn is_lent_for_writing(&self) -> bool {
        self.extras_if_made().is_some_and(|e| e.lent_writable.load(Ordering::Acquire) > 0)
    }

    /// Starts a loan: the address of the buffer's first element and the buffer's length in
    /// bytes, taken under a guard so that no buffer swap (`Array::assign_from`) is under way.
    /// A writable loan counts as an in-place write, now and when it ends.
    pub(crate) fn lend(&self, writable: bool) -> (*mut u8, usize) {
        if writable {
            self.settle_for_writing();
        } else {
            self.force();
        }
        let mut guard = self.buf.write().unwrap_or_else(|e| e.into_inner());
        let extras = self.extras();
        extras.lent.fetch_add(1, Ordering::AcqRel);
        if writable {
            extras.lent_writable.fetch_add(1, Ordering::AcqRel);
            self.version.fetch_add(1, Ordering::Relaxed);
        }
        each_variant!(&mut *guard, |v| (v.as_mut_ptr().cast(), std::mem::size_of_val(&v[..])))
    }

    /// Ends a loan `lend` started (the host is done with the memory: no guard is needed).
    pub(crate) fn end_loan(&self, writable: bool) {
        if writable {
            self.version.fetch_add(1, Ordering::Relaxed);
            self.extras().lent_writable.fetch_sub(1, Ordering::AcqRel);
        }
        self.extras().lent.fetch_sub(1, Ordering::AcqRel);
    }

    /// A read guard, for an op that holds no other guard (see Locking above).
    pub fn read(&self) -> RwLockReadGuard<'_, Buffer> {
        self.force();
        // A panic while a guard was held (caught at the C boundary) poisons the lock; the data
        // is still a valid buffer, so carry on with it.
        self.buf.read().unwrap_or_else(|e| e.into_inner())
    }

    /// A write guard, for an op that holds no other guard (see Locking above).
    pub fn write(&self) -> RwLockWriteGuard<'_, Buffer> {
        self.settle_for_writing();
        self.version.fetch_add(1, Ordering::Relaxed);
        self.buf.write().unwrap_or_else(|e| e.into_inner())
    }

    /// `read` for a storage already settled: `lock` settles all its storages before the
    /// first guard, and settling while holding one could wait on a guard it holds.
    fn read_settled(&self) -> RwLockReadGuard<'_, Buffer> {
        self.buf.read().unwrap_or_else(|e| e.into_inner())
    }

    /// `write` for a storage already settled (as `read_settled`).
    fn write_settled(&self) -> RwLockWriteGuard<'_, Buffer> {
        self.version.fetch_add(1, Ordering::Relaxed);
        self.buf.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    pub fn dtype(&self) -> DType {
        // The empty buffer of pending work has the dtype too: nothing to compute.
        self.buf.read().unwrap_or_else(|e| e.into_inner()).dtype()
    }
}

/// A storage's pending work taken out by `try_claim`: whoever holds it computes the values and
/// gives them to `complete`; dropped without that, the work goes back, still pending. Other
/// threads that need the values meanwhile wait for them on the work's mutex, held here.
pub(crate) struct Claim<'s> {
    storage: &'s Storage,
    slot: std::sync::MutexGuard<'s, Option<Box<dyn Deferred>>>,
    work: Option<Box<dyn Deferred>>,
}

impl Claim<'_> {
    pub(crate) fn work_mut(&mut self) -> &mut dyn Deferred {
        self.work.as_deref_mut().expect("a claim holds its work until completed")
    }

    /// Stores the computed values: the storage is no longer pending.
    pub(crate) fn complete(mut self, values: Buffer) {
        *self.storage.buf.write().unwrap_or_else(|e| e.into_inner()) = values;
        self.storage.flags.fetch_and(!PENDING, Ordering::Release);
        self.work = None;
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Some(work) = self.work.take() {
            *self.slot = Some(work);
        }
    }
}

/// A guard on one storage, as `lock` took it.
enum Guard<'a> {
    Read(RwLockReadGuard<'a, Buffer>),
    Write(RwLockWriteGuard<'a, Buffer>),
}

/// The guards an op holds on every storage it uses, one per distinct storage, taken by
/// `lock`. The buffers are looked up by storage.
pub(crate) struct Locked<'a> {
    /// Ordered by address.
    held: SmallVec<[(*const Storage, Guard<'a>); 4]>,
}

/// Takes the guards an op needs by the rule above: one per distinct storage among `reads`
/// and `writes` (a write guard where the storage is written), in the order of the storages'
/// addresses. A storage written bumps its version, as `Storage::write` does.
pub(crate) fn lock<'a>(reads: &[&'a Storage], writes: &[&'a Storage]) -> Locked<'a> {
    let mut wanted: SmallVec<[(*const Storage, &'a Storage, bool); 4]> = SmallVec::new();
    for (s, write) in reads.iter().map(|s| (*s, false)).chain(writes.iter().map(|s| (*s, true))) {
        let p: *const Storage = s;
        match wanted.iter_mut().find(|(q, _, _)| *q == p) {
            Some(entry) => entry.2 |= write,
            None => wanted.push((p, s, write)),
        }
    }
    // Deferred values computed before the first guard is taken (see Deferred values).
    for &(_, s, write) in &wanted {
        if write {
            s.settle_for_writing();
        } else {
            s.force();
        }
    }
    wanted.sort_unstable_by_key(|&(p, _, _)| p as usize);
    let held = wanted
        .into_iter()
        .map(|(p, s, write)| (p, if write { Guard::Write(s.write_settled()) } else { Guard::Read(s.read_settled()) }))
        .collect();
    Locked { held }
}

impl<'a> Locked<'a> {
    /// The buffer of `s`, one of the storages locked (through its write guard if written).
    pub(crate) fn get(&self, s: &Storage) -> &Buffer {
        let p: *const Storage = s;
        match self.held.iter().find(|(q, _)| *q == p).map(|(_, g)| g) {
            Some(Guard::Read(g)) => g,
            Some(Guard::Write(g)) => g,
            None => panic!("a storage the op did not lock"),
        }
    }

    /// The buffers of the written storages `writes` (distinct, each given to `lock` to be
    /// written), in that order, beside the buffers only read. A storage both read and
    /// written is not among the latter: the op copies what it reads of it first (`get`).
    pub(crate) fn split(&mut self, writes: &[&Storage]) -> (SmallVec<[&mut Buffer; 4]>, ReadOnly<'_>) {
        let mut written: SmallVec<[(*const Storage, Option<&mut Buffer>); 4]> = SmallVec::new();
        let mut read: SmallVec<[(*const Storage, &Buffer); 4]> = SmallVec::new();
        for (p, g) in self.held.iter_mut() {
            match g {
                Guard::Write(g) => written.push((*p, Some(&mut **g))),
                Guard::Read(g) => read.push((*p, &**g)),
            }
        }
        let out = writes
            .iter()
            .map(|s| {
                let p: *const Storage = *s;
                written.iter_mut().find(|(q, _)| *q == p).and_then(|(_, b)| b.take()).expect("a storage the op locked for writing, once")
            })
            .collect();
        (out, ReadOnly { read })
    }
}

/// The buffers of a `Locked` that are only read.
pub(crate) struct ReadOnly<'l> {
    read: SmallVec<[(*const Storage, &'l Buffer); 4]>,
}

impl<'l> ReadOnly<'l> {
    /// The buffer of `s`, or `None` when the op also writes it.
    pub(crate) fn get(&self, s: &Storage) -> Option<&'l Buffer> {
        let p: *const Storage = s;
        self.read.iter().find(|(q, _)| *q == p).map(|(_, b)| *b)
    }
}

