//! Memory shared with the host without a copy, both ways: loans of an array's memory to the
//! host (`Array::lend`), and arrays over memory the host lends (`Array::from_host`).
//!
//! A loan gives the address of an array's elements, valid and fixed until the loan ends,
//! whatever happens to the array's handles meanwhile. The host reads (and, with a writable
//! loan, writes) the memory directly.
//!
//! A loan holds the storage, so the memory outlives every array on it, and it keeps the
//! buffer in place: a gradient written by taking another buffer's memory (`assign_from`)
//! is copied instead while its storage is lent. A writable loan counts as an in-place write
//! when it starts and when it ends, and an op that saved the array cannot run its backward
//! while it lasts: what the host writes is never mistaken for what was saved.
//!
//! A loan takes no lock while it lasts: the library writes an array's memory only in the
//! in-place calls on arrays sharing it and in backward, into gradient buffers. The host sees
//! their results through the loan, and does not run them on another thread while it uses it.

use std::ptr::NonNull;
use std::sync::Arc;

use super::host_ranges;
use super::shape::checked_size;
use super::storage::{Buffer, Elems, HostMemory, Storage};
use super::storage::with_dtype;
use super::{fmt_shape, Array, DType, Scalar};
use crate::error::{bail, Result};

/// What gives host memory back: called once, when the last array on it is gone.
pub type Release = Box<dyn FnOnce() + Send + Sync>;

pub struct Loan {
    /// The whole buffer's place in the register of host ranges (dropped first).
    _range: host_ranges::Registered,
    storage: Arc<Storage>,
    data: *mut u8,
    writable: bool,
}

// SAFETY: the pointer is into the storage the loan holds, whose buffer stays in place while
// the loan lasts; which thread ends the loan does not matter.
unsafe impl Send for Loan {}
unsafe impl Sync for Loan {}

impl Array {
    /// An array of `shape` and `dtype` over the host's memory at `data`, without a copy;
    /// `release` runs when the last array on it is gone. On an error nothing is taken and
    /// `release` is dropped uncalled.
    ///
    /// # Safety
    /// `data` must be valid for reads and writes of the shape's elements until `release`
    /// runs (for ever, without one), and nothing else may write it while an op reads or
    /// writes it.
    pub unsafe fn from_host(data: *mut u8, shape: &[usize], dtype: DType, release: Option<Release>) -> Result<Array> {
        let n = checked_size(shape)?;
        let align = dtype.size_of();
        if n > 0 && data.is_null() {
            bail!(InvalidArgument, "no memory (NULL) for the {} elements of shape {}", n, fmt_shape(shape));
        }
        if n > 0 && (data as usize) % align != 0 {
            bail!(InvalidArgument, "the memory at {:p} is not aligned for {} (to {} bytes)", data, dtype.name(), align);
        }
        if n.checked_mul(align).is_none_or(|bytes| bytes > isize::MAX as usize) {
            bail!(Alloc, "shape {} of {} is too large for one block of memory", fmt_shape(shape), dtype.name());
        }
        // An empty array reads nothing: any aligned address will do.
        fn at<T>(data: *mut u8, n: usize) -> NonNull<T> {
            NonNull::new(data.cast::<T>()).filter(|_| n > 0).unwrap_or(NonNull::dangling())
        }
        // One block of memory under two storages would escape their locks (see host_ranges).
        let registered = match host_ranges::register_alone(data, n * align) {
            Ok(r) => r,
            Err((at, bytes)) => bail!(
                InvalidArgument,
                "the memory at {:p} ({} bytes) overlaps the {} bytes at {:#x} that an array already uses \
                 (made over them, or lent by a borrow or a DLPack export); make one array over a block \
                 and share it through views",
                data, n * align, bytes, at
            ),
        };
        // SAFETY: the caller's contract, checked above for alignment and size.
        let buf = unsafe {
            match dtype {
                DType::F32 => Buffer::F32(Elems::Host(HostMemory::new(at(data, n), n, release, registered))),
                DType::F64 => Buffer::F64(Elems::Host(HostMemory::new(at(data, n), n, release, registered))),
                DType::F16 => Buffer::F16(Elems::Host(HostMemory::new(at(data, n), n, release, registered))),
                DType::U8 => Buffer::U8(Elems::Host(HostMemory::new(at(data, n), n, release, registered))),
                DType::I32 => Buffer::I32(Elems::Host(HostMemory::new(at(data, n), n, release, registered))),
                DType::I8 => Buffer::I8(Elems::Host(HostMemory::new(at(data, n), n, release, registered))),
                DType::I64 => Buffer::I64(Elems::Host(HostMemory::new(at(data, n), n, release, registered))),
                // Any byte is a valid `Bool` (non-zero is true), so host memory needs no check.
                DType::Bool => Buffer::Bool(Elems::Host(HostMemory::new(at(data, n), n, release, registered))),
            }
        };
        Ok(Array::from_buffer(buf, shape.to_vec()))
    }

    /// A copy of the host's elements at `data`, laid out by `strides` (in elements, any
    /// sign): the element at index `i` is at `data + Σ i[k]·strides[k]` elements.
    ///
    /// # Safety
    /// `data` must be valid for reads of every element the shape and strides reach, each
    /// aligned for `dtype` or not (they are read unaligned).
    pub unsafe fn from_strided(data: *const u8, shape: &[usize], strides: &[i64], dtype: DType) -> Result<Array> {
        fn gather<T: Scalar>(data: *const u8, shape: &[usize], strides: &[i64], n: usize) -> Result<Vec<T>> {
            let mut out: Vec<T> = super::storage::try_vec(n)?;
            let mut index = vec![0usize; shape.len()];
            for _ in 0..n {
                let at: i64 = index.iter().zip(strides).map(|(&i, &s)| i as i64 * s).sum();
                // SAFETY: from_strided's contract.
                out.push(unsafe { data.cast::<T>().offset(at as isize).read_unaligned() });
                for k in (0..shape.len()).rev() {
                    index[k] += 1;
                    if index[k] < shape[k] {
                        break;
                    }
                    index[k] = 0;
                }
            }
            Ok(out)
        }
        let n = checked_size(shape)?;
        with_dtype!(dtype, T => Ok(super::from_vec(gather::<T>(data, shape, strides, n)?, shape.to_vec())))
    }

    /// Lends the host this array's elements (row-major, contiguous, of its dtype).
    pub fn lend(&self, writable: bool) -> Loan {
        let (base, bytes) = self.storage.lend(writable);
        // SAFETY: the offset is within the buffer (an array's range always is).
        let data = unsafe { base.add(self.offset * self.dtype.size_of()) };
        Loan { _range: host_ranges::register(base, bytes), storage: self.storage.clone(), data, writable }
    }
}

impl Loan {
    /// The address of the first element.
    pub fn data(&self) -> *mut u8 {
        self.data
    }

    pub fn writable(&self) -> bool {
        self.writable
    }
}

impl Drop for Loan {
    fn drop(&mut self) {
        self.storage.end_loan(self.writable);
    }
}
