//! The C ABI. The only module with `extern "C"` and raw pointers: every exported function
//! runs inside `boundary` (no panic crosses into C), turns its pointer arguments into values
//! through `handle` and the `read_*` helpers, and writes results only on success.
//!
//! Handles are not pointers to memory: an `ad_array *` encodes a slot of the handle table and
//! that slot's generation. A freed handle's generation no longer matches, so using or freeing
//! it again is reported (`AD_ERR_INVALID_HANDLE`) instead of touching freed memory.

#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)] // the C header documents each function's contract

mod arrays;
mod autograd;
mod handles;
mod nn;
mod ops;

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

use crate::array::DType;
use crate::error::{Error, ErrorKind};

pub use handles::ad_array;
// The exported functions, also callable from Rust (the benchmarks time the C path this way).
pub use arrays::*;
pub use autograd::*;
pub use nn::*;
pub use ops::*;

/// The result of every fallible function. `AD_OK` is 0; on any other value
/// `ad_last_error()` says what was wrong.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ad_status {
    AD_OK = 0,
    /// A required pointer argument was NULL.
    AD_ERR_NULL_ARGUMENT = 1,
    /// A handle was already freed, or was never made by this library.
    AD_ERR_INVALID_HANDLE = 2,
    /// A shape does not fit the operation (mismatched operands, bad reshape, bad axis).
    AD_ERR_SHAPE = 3,
    /// The operands' dtypes differ, or a dtype code is unknown.
    AD_ERR_DTYPE = 4,
    /// An argument's value is out of its domain.
    AD_ERR_INVALID_ARGUMENT = 5,
    /// An index is out of range.
    AD_ERR_INDEX = 6,
    /// The autograd state does not allow the call (no recorded history, a released graph,
    /// unbalanced scopes).
    AD_ERR_AUTOGRAD = 7,
    /// Memory could not be allocated, or an element count overflows.
    AD_ERR_ALLOC = 8,
    /// The caller's buffer is too small for the result.
    AD_ERR_BUFFER_TOO_SMALL = 9,
    /// A bug inside the library was caught at the boundary; the process can continue.
    AD_ERR_PANIC = 10,
}

/// The most axes an array may have (NumPy's limit). A shape with more is refused with
/// `AD_ERR_SHAPE` wherever an array would be made: creation, reshape, broadcast, and every
/// op's result.
pub const AD_MAX_NDIM: usize = 64;
const _: () = assert!(AD_MAX_NDIM == crate::array::shape::MAX_NDIM);

/// Element types, as MXNet numbers them. Functions take these as `uint32_t`.
#[repr(C)]
pub enum ad_dtype {
    AD_FLOAT32 = 0,
    AD_FLOAT64 = 1,
}

/// How backward writes a variable's gradient. Functions take these as `uint32_t`.
#[repr(C)]
pub enum ad_grad_req {
    /// The variable is not differentiated.
    AD_GRAD_NULL = 0,
    /// Each backward overwrites the gradient (the default).
    AD_GRAD_WRITE = 1,
    /// Each backward adds into the gradient.
    AD_GRAD_ADD = 3,
}

/// Comparison operators for `ad_compare` and `ad_compare_scalar`, taken as `uint32_t`.
#[repr(C)]
pub enum ad_cmp {
    AD_CMP_EQ = 0,
    AD_CMP_NE = 1,
    AD_CMP_LT = 2,
    AD_CMP_LE = 3,
    AD_CMP_GT = 4,
    AD_CMP_GE = 5,
}

/// In-place arithmetic for `ad_array_update`, taken as `uint32_t`.
#[repr(C)]
pub enum ad_update_op {
    /// `array += src`
    AD_UPDATE_ADD = 0,
    /// `array -= src`
    AD_UPDATE_SUB = 1,
    /// `array *= src`
    AD_UPDATE_MUL = 2,
    /// `array /= src`
    AD_UPDATE_DIV = 3,
}

/// An error on its way to C: a status and the message for `ad_last_error`.
#[derive(Debug)]
pub(crate) struct FfiError {
    status: ad_status,
    message: String,
}

impl FfiError {
    pub(crate) fn new(status: ad_status, message: impl Into<String>) -> FfiError {
        FfiError { status, message: message.into() }
    }
}

impl From<Error> for FfiError {
    fn from(e: Error) -> FfiError {
        let status = match e.kind {
            ErrorKind::Shape => ad_status::AD_ERR_SHAPE,
            ErrorKind::DType => ad_status::AD_ERR_DTYPE,
            ErrorKind::InvalidArgument => ad_status::AD_ERR_INVALID_ARGUMENT,
            ErrorKind::Index => ad_status::AD_ERR_INDEX,
            ErrorKind::Autograd => ad_status::AD_ERR_AUTOGRAD,
            ErrorKind::Alloc => ad_status::AD_ERR_ALLOC,
        };
        FfiError { status, message: e.message }
    }
}

pub(crate) type FfiResult<T> = Result<T, FfiError>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: String) {
    // Interior NULs cannot appear in a C string; they never come from our messages, but a
    // message must never be lost to one.
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

thread_local! {
    /// Whether this thread is running inside an exported function's `boundary`.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// The library prints nothing on the host's stderr, which Rust's default panic hook would do
/// for a panic even when `boundary` catches it. This hook, installed at the first call,
/// stays silent for panics inside the boundary and on the library's own worker threads (the
/// message reaches the caller through `ad_last_error`), and hands any other panic to the
/// hook that was there before: a Rust program using the crate keeps its own reports.
fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let ours = INSIDE.with(|i| i.get())
                || std::thread::current().name().is_some_and(|n| n.starts_with(crate::cpu::threads::WORKER_NAME));
            if !ours {
                previous(info);
            }
        }));
    });
}

/// Runs an exported function's body: catches panics, and turns an error into its status and
/// this thread's last-error message, prefixed with the function's name.
pub(crate) fn boundary(name: &str, body: impl FnOnce() -> FfiResult<()>) -> ad_status {
    install_quiet_panic_hook();
    let was_inside = INSIDE.with(|i| i.replace(true));
    let result = catch_unwind(AssertUnwindSafe(body));
    INSIDE.with(|i| i.set(was_inside));
    match result {
        Ok(Ok(())) => ad_status::AD_OK,
        Ok(Err(e)) => {
            // Engine messages may already name the op ("dot: ..."): name it once, as here.
            let op = name.strip_prefix("ad_").unwrap_or(name);
            let message = e.message.strip_prefix(op).and_then(|m| m.strip_prefix(": ")).unwrap_or(&e.message);
            set_last_error(format!("{}: {}", name, message));
            e.status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            set_last_error(format!("{}: internal error (please report): {}", name, what));
            ad_status::AD_ERR_PANIC
        }
    }
}

pub(crate) fn null_arg(name: &str) -> FfiError {
    FfiError::new(ad_status::AD_ERR_NULL_ARGUMENT, format!("argument `{}` is NULL", name))
}

pub(crate) fn dtype_arg(code: u32, name: &str) -> FfiResult<DType> {
    DType::from_code(code).ok_or_else(|| {
        FfiError::new(
            ad_status::AD_ERR_DTYPE,
            format!("argument `{}`: {} is not a dtype (AD_FLOAT32 = 0, AD_FLOAT64 = 1)", name, code),
        )
    })
}

/// A `(pointer, length)` pair from C as a slice; NULL is allowed only for length 0.
///
/// # Safety
/// A non-NULL `ptr` must point at `len` readable values of `T` for the call's duration.
pub(crate) unsafe fn slice_arg<'a, T>(ptr: *const T, len: usize, name: &str) -> FfiResult<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(FfiError::new(
            ad_status::AD_ERR_NULL_ARGUMENT,
            format!("argument `{}` is NULL but its length is {}", name, len),
        ));
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

/// A shape argument (`const size_t *shape, size_t ndim`), checked as every new array's shape
/// is (`AD_ERR_SHAPE` for too many axes, `AD_ERR_ALLOC` for too many elements).
pub(crate) unsafe fn shape_arg(ptr: *const usize, ndim: usize, name: &str) -> FfiResult<Vec<usize>> {
    let named = |e: Error| {
        let e = FfiError::from(e);
        FfiError::new(e.status, format!("argument `{}`: {}", name, e.message))
    };
    // Before the sizes are read: `ndim` alone may be absurd.
    crate::array::shape::check_ndim(ndim).map_err(named)?;
    let shape = slice_arg(ptr, ndim, name)?.to_vec();
    crate::array::shape::checked_size(&shape).map_err(named)?;
    Ok(shape)
}

/// Writes `value` through an out-pointer that the caller checked for NULL earlier.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) {
    out.write(value)
}

/// Checks an out-pointer up front, so that no result is computed (or handle made) for nothing.
pub(crate) fn out_arg<T>(out: *mut T, name: &str) -> FfiResult<*mut T> {
    if out.is_null() {
        Err(null_arg(name))
    } else {
        Ok(out)
    }
}

/// The library's version, `"MAJOR.MINOR.PATCH"`. Static; never freed.
#[no_mangle]
pub extern "C" fn ad_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// This thread's message for its most recent failed call, or "" if none failed yet.
/// A successful call leaves it unchanged. The pointer stays valid until the next failing call
/// on this thread; the library owns it.
#[no_mangle]
pub extern "C" fn ad_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// The name of a status code (`"AD_ERR_SHAPE"`), or `"AD_UNKNOWN_STATUS"`. Static; never freed.
#[no_mangle]
pub extern "C" fn ad_status_name(status: u32) -> *const c_char {
    let name: &'static str = match status {
        0 => "AD_OK\0",
        1 => "AD_ERR_NULL_ARGUMENT\0",
        2 => "AD_ERR_INVALID_HANDLE\0",
        3 => "AD_ERR_SHAPE\0",
        4 => "AD_ERR_DTYPE\0",
        5 => "AD_ERR_INVALID_ARGUMENT\0",
        6 => "AD_ERR_INDEX\0",
        7 => "AD_ERR_AUTOGRAD\0",
        8 => "AD_ERR_ALLOC\0",
        9 => "AD_ERR_BUFFER_TOO_SMALL\0",
        10 => "AD_ERR_PANIC\0",
        _ => "AD_UNKNOWN_STATUS\0",
    };
    name.as_ptr().cast()
}

/// Sets how many threads large operations (matrix products, element-wise ops and reductions
/// on large arrays) may use, for the whole process; 1 keeps all work on the calling thread.
/// The default is `AD_NUM_THREADS`, else `OMP_NUM_THREADS`, else the machine's parallelism.
/// The calling thread does a share of each such operation; the other threads spin for 200 µs
/// after each share before they sleep, so that back-to-back operations do not wait for them
/// to wake. An operation started while another thread's is using them runs on its own thread.
/// `AD_ERR_INVALID_ARGUMENT` outside 1..=1024.
#[no_mangle]
pub extern "C" fn ad_set_num_threads(threads: usize) -> ad_status {
    boundary("ad_set_num_threads", || Ok(crate::cpu::threads::set_num_threads(threads)?))
}

/// How many threads large operations may use.
#[no_mangle]
pub extern "C" fn ad_num_threads() -> usize {
    crate::cpu::threads::num_threads()
}

/// Switches the reference mode on or off for the whole process. In the reference mode every
/// fast path of the library is off and each operation runs its plain, slow, obviously
/// correct form: gradients expanded to full shape and summed into new arrays, the C
/// library's math functions, matrix products as a triple loop, every loop on the calling
/// thread. Results agree with the default mode up to rounding; a difference beyond that is a
/// bug in a fast path. The default is off unless the environment sets `AD_REFERENCE_MODE=1`.
#[no_mangle]
pub extern "C" fn ad_set_reference_mode(on: bool) {
    crate::reference::set(on);
}

/// Whether the reference mode is on.
#[no_mangle]
pub extern "C" fn ad_reference_mode() -> bool {
    crate::reference::enabled()
}

/// Returns to the system the memory the library keeps for reuse, and writes the number of
/// bytes released to `*released` unless it is NULL. Freed arrays of 64 KiB and more leave
/// their memory in a cache (at most 512 MiB) for the next array of the same size, so that a
/// loop making the same arrays step after step does not fault in fresh pages each time; a
/// cached buffer is released on its own when a whole interval of large allocations (at
/// least 1024) passes without reusing it. Call this when the program is done with large arrays for
/// a while: after freeing them all, its memory use falls back to what live arrays hold. Live
/// arrays are not touched. Never fails.
#[no_mangle]
pub unsafe extern "C" fn ad_release_cached_memory(released: *mut usize) -> ad_status {
    boundary("ad_release_cached_memory", || {
        let bytes = crate::array::pool::release();
        if !released.is_null() {
            write_out(released, bytes);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHILD: &str = "AD_TEST_PANIC_HOOK_CHILD";

    /// Run in a child process (this test binary again, with `CHILD` set), so that what the
    /// panics print reaches a real stderr that the parent reads.
    #[test]
    fn panics_inside_the_library_print_nothing_and_others_still_do() {
        if std::env::var_os(CHILD).is_some() {
            let status = boundary("ad_test", || panic!("boom inside"));
            assert_eq!(status, ad_status::AD_ERR_PANIC);
            let message = unsafe { std::ffi::CStr::from_ptr(ad_last_error()) }.to_string_lossy().into_owned();
            assert!(message.contains("boom inside"), "{}", message);
            let worker = std::thread::Builder::new()
                .name(format!("{}test", crate::cpu::threads::WORKER_NAME))
                .spawn(|| panic!("boom on a worker"))
                .unwrap();
            assert!(worker.join().is_err());
            assert!(std::panic::catch_unwind(|| panic!("boom outside")).is_err());
            eprintln!("child done");
            return;
        }
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "ffi::tests::panics_inside_the_library_print_nothing_and_others_still_do", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "the child failed:\n{}\n{}", String::from_utf8_lossy(&output.stdout), stderr);
        assert!(stderr.contains("child done"), "{}", stderr);
        assert!(!stderr.contains("boom inside") && !stderr.contains("boom on a worker"), "a library panic was printed:\n{}", stderr);
        assert!(stderr.contains("boom outside"), "a panic outside the library went unreported:\n{}", stderr);
    }
}
