//! Memory shared with the host without a copy: loans of an array's elements
//! (`ad_array_borrow`), and arrays over the host's memory (`ad_array_wrap`).

use std::ffi::c_void;

use super::boundary::FfiError;
use super::engine::{Array, Loan, NdArray};
use super::handles::ad_array;
use super::registry::Registry;
use super::ad_status;

/// A loan of an array's elements to the host, made by `ad_array_borrow` and ended with
/// `ad_borrow_release`.
pub struct ad_borrow {
    _private: [u8; 0],
}

static LOANS: Registry<Loan> = Registry::new("borrow");

/// Lends the host `array`'s elements without a copy: writes to `*data` the address of the
/// first of them (`ad_array_size` elements of its dtype, row-major, contiguous) and to `*out`
/// the loan, which the caller ends with `ad_borrow_release`.
///
/// The address and the memory stay valid until the loan ends, also when `array`'s handle is
/// freed first. The loan takes no lock: the library writes an array's memory only in the
/// in-place calls on arrays that share it (`ad_array_update`, `ad_array_write_slice`, the
/// optimizer updates) and in backward, into gradient buffers; the loan sees what they write,
/// and the host must not make such calls on another thread while it uses the memory.
///
/// A gradient is read the same way: borrow the handle `ad_array_grad` gives. Each backward
/// writes the new gradient into the same memory, so the loan sees it when backward returns.
///
/// With `writable` the host may also write the elements. That counts as an in-place change:
/// an op recorded before or during the loan that saved this array cannot be differentiated
/// (`AD_ERR_AUTOGRAD`, saying why), during the loan and after, as for any in-place write.
#[no_mangle]
pub unsafe extern "C" fn ad_array_borrow(array: *const ad_array, writable: bool, data: *mut *mut c_void, out: *mut *mut ad_borrow) -> ad_status {
    ffi_boundary!({
        let data = arg!(out data)?;
        let out = arg!(out out)?;
        let loan = arg!(handle array)?.lend(writable);
        let address = loan.data().cast::<c_void>();
        let h = LOANS.insert(loan).map_err(|(e, _)| e)?;
        data.set(address);
        out.set(h as *mut ad_borrow);
        Ok(())
    })
}

/// Ends a loan made by `ad_array_borrow`: the host no longer reads or writes its memory.
/// NULL is a no-op; a loan already ended `AD_ERR_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ad_borrow_release(borrow: *mut ad_borrow) -> ad_status {
    ffi_boundary!({
        if borrow.is_null() {
            return Ok(());
        }
        drop(LOANS.remove(borrow as usize, "borrow")?);
        Ok(())
    })
}

/// What gives the host's memory back (see `ad_array_wrap`).
pub type ad_release_fn = Option<unsafe extern "C" fn(context: *mut c_void)>;

/// The host's release callback and its argument, called once from whichever thread drops the
/// last array on the memory.
struct HostRelease {
    release: unsafe extern "C" fn(context: *mut c_void),
    context: *mut c_void,
}

// SAFETY: `ad_array_wrap`'s contract makes a release callback that may run on any thread the
// host's part.
unsafe impl Send for HostRelease {}
unsafe impl Sync for HostRelease {}

impl HostRelease {
    fn call(self) {
        // SAFETY: the host gave this callback for this context, to be called once: here.
        unsafe { (self.release)(self.context) }
    }
}

/// Makes an array over the host's memory, without a copy: `data` holds the shape's elements
/// row-major as `dtype` values (of the C types `ad_array_create` lists), aligned for them;
/// it may be NULL only when the shape has no elements. `*out` is a new handle the caller
/// frees with `ad_array_free`.
///
/// On success the library reads and writes that memory as the array's (and its views')
/// until the last array on it is gone, then calls `release(context)` once, on whichever
/// thread that happens; the host does not free the memory before. With `release` NULL the
/// memory must outlive every array on it. Between the library's calls the host may read and
/// write the memory itself; to write after an op saved the array for backward, it writes
/// through a writable `ad_array_borrow`, which the version check then sees.
///
/// One block of memory is one array's: memory that overlaps memory an array already uses
/// (wrapped, lent by `ad_array_borrow` or a DLPack export, or imported from DLPack) is
/// refused with `AD_ERR_INVALID_ARGUMENT`. Share an array over it through its views
/// (`ad_array_reshape`, `ad_array_slice`) instead: the library's locks guard each array's
/// memory, and two arrays over one block would escape them. On failure nothing is taken and
/// `release` is not called.
#[no_mangle]
pub unsafe extern "C" fn ad_array_wrap(
    data: *mut c_void,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    release: ad_release_fn,
    context: *mut c_void,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, {
        let shape = arg!(shape shape, ndim)?;
        let dtype = arg!(dtype dtype)?;
        if data.is_null() && shape.iter().product::<usize>() > 0 {
            return Err(super::args::null_arg("data"));
        }
        let release = release.map(|release| {
            let host = HostRelease { release, context };
            Box::new(move || host.call()) as Box<dyn FnOnce() + Send + Sync>
        });
        // SAFETY: the host's contract above: the memory is valid and the library's until
        // `release`.
        unsafe { Array::from_host(data.cast(), &shape, dtype, release) }.map(NdArray::from).map_err(FfiError::from)
    })
}
