//! The C ABI: every function of `include/ad.h`, and the only module with `extern "C"` and raw
//! pointers. It is four pieces, each in one place:
//!
//! - **The panic boundary** (`boundary.rs`): `ffi_boundary!` runs every export's body. It
//!   catches panics, turns an error into its `ad_status` and this thread's `ad_last_error()`
//!   (prefixed with the export's name, which it derives from the function it expands in), and
//!   for an export returning a value instead of a status returns a documented fallback on a
//!   panic.
//! - **The kind macros** (`kinds.rs`): `unary!`, `binary!`, `scalar!`, `reduction!`,
//!   `new_array!` and `query!` are the whole body of the export shapes that repeat.
//! - **The argument helpers** (`args.rs`): `arg!` turns each pointer or code from C into a
//!   Rust value (a handle's array, a list of them, a slice, a shape, axes, an index list, an
//!   out-parameter written only on success), named after its parameter. Nothing else here
//!   reads or writes through a raw pointer.
//! - **The handle table** (`handles.rs`): an `ad_array *` encodes a slot of the table and that
//!   slot's generation. A freed handle's generation no longer matches, so using or freeing it
//!   again is reported (`AD_ERR_INVALID_HANDLE`) instead of touching freed memory.
//!
//! Why each export's signature is written out and only its body comes from a macro: cbindgen
//! makes the header from the sources without expanding macros (expanding needs a nightly
//! compiler), so a function that a macro generated would be missing from `ad.h`. The doc
//! comment, `#[no_mangle]` and signature stay where cbindgen reads them; the macros supply
//! what repeats, from the boundary's name to the result.

#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)] // the C header documents each function's contract

#[macro_use]
mod boundary;
#[macro_use]
mod args;
pub use args::{accepts_any_dtype, float16_rule, Float16};
#[macro_use]
mod kinds;

mod arrange;
mod arrays;
mod autograd;
mod custom;
mod dlpack;
mod elementwise;
mod handles;
mod hooks;
mod memory;
mod io;
mod nn;
mod ops;
mod registry;

use std::ffi::c_char;

use boundary::last_error;

pub use handles::ad_array;
// The exported functions, also callable from Rust (the benchmarks time the C path this way).
pub use arrange::*;
pub use arrays::*;
pub use autograd::*;
pub use custom::*;
pub use dlpack::*;
pub use elementwise::*;
pub use hooks::*;
pub use memory::*;
pub use io::*;
pub use nn::*;
pub use ops::*;

/// What the C boundary uses from the engine, in one place: where the engine moves an item,
/// only this list changes.
mod engine {
    pub(crate) use crate::array::pool::release as release_cached_memory;
    pub(crate) use crate::array::storage::compute_all_pending;
    pub(crate) use crate::array::random::seed as random_seed;
    pub(crate) use crate::array::shape::{check_ndim, checked_size, MAX_NDIM};
    pub(crate) use crate::array::fmt_shape;
    pub(crate) use crate::array::host_ranges;
    pub(crate) use crate::array::loan::Loan;
    pub(crate) use crate::array::storage::try_vec;
    pub(crate) use crate::array::dtype::f16;
    pub(crate) use crate::array::{Array, Bool};
    pub(crate) use crate::autograd::{self, GradReq, ScopeKind};
    pub(crate) use crate::cpu::{level, threads};
    pub(crate) use crate::io;
    pub(crate) use crate::ops::{self, optim};
    pub(crate) use crate::reference;
    pub(crate) use crate::{DType, Error, ErrorKind, NdArray};
}

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
    /// The operating system refused a file operation: a file that cannot be opened, read,
    /// written or replaced.
    AD_ERR_IO = 11,
    /// A file is not in the format it should be: truncated, corrupt or inconsistent.
    AD_ERR_FORMAT = 12,
}

/// The most axes an array may have (NumPy's limit). A shape with more is refused with
/// `AD_ERR_SHAPE` wherever an array would be made: creation, reshape, broadcast, and every
/// op's result.
pub const AD_MAX_NDIM: usize = 64;
const _: () = assert!(AD_MAX_NDIM == engine::MAX_NDIM);

/// Element types, as MXNet numbers them. Functions take these as `uint32_t`. Only float32 and
/// float64 are computed on and differentiated in their own type; arrays of the others are made,
/// read, printed, converted (`ad_array_astype`), saved, lent, and moved by the ops that only
/// move elements (reshape, transpose, slicing, concat, take, ...).
///
/// A float16 array given to an op that computes is converted to float32 (recorded, so that
/// gradients flow back to it), the op computes in float32, and its float32 results come back
/// in float16, as MXNet's CPU kernels compute float16 (an op given float16 and float32 arrays
/// also gives float16). A float16 array can have a gradient (`ad_array_attach_grad`), which
/// backward computes in float32 and writes in float16. The functions that write an array
/// argument in place (the optimizer updates, `ad_batch_norm`'s running statistics), `ad_topk`
/// and `ad_sample_multinomial` refuse float16 arrays there; `ad_argsort` and the `ad_sample_*`
/// draws compute on float16 arguments in float32 and give their results the dtype of their
/// `dtype` parameter.
///
/// The integer ones also take MXNet's arithmetic on them: `ad_add`, `ad_sub`, `ad_mul`, their
/// `_scalar` forms, `ad_compare`, `ad_compare_scalar`, `ad_sum` and `ad_array_update` but
/// division, computed in the array's type and wrapping around (a number is converted to the
/// type first, as `ad_array_astype` converts; a comparison gives 0 and 1 in the type). Every
/// other op refuses them, and bool arrays in arithmetic, with `AD_ERR_DTYPE`.
#[repr(C)]
pub enum ad_dtype {
    AD_FLOAT32 = 0,
    AD_FLOAT64 = 1,
    /// IEEE binary16, stored as its bit pattern: `uint16_t` in C (`_Float16` where the compiler
    /// has it has the same bits).
    AD_FLOAT16 = 2,
    /// `uint8_t`.
    AD_UINT8 = 3,
    /// `int32_t`.
    AD_INT32 = 4,
    /// `int8_t`.
    AD_INT8 = 5,
    /// `int64_t`.
    AD_INT64 = 6,
    /// One byte per element: 0 is false; the library writes 0 and 1 and reads any other byte as
    /// true.
    AD_BOOL = 7,
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

/// What `ad_topk` returns, taken as `uint32_t`.
#[repr(C)]
pub enum ad_topk_ret {
    /// The values.
    AD_TOPK_VALUE = 0,
    /// Their positions along the axis.
    AD_TOPK_INDICES = 1,
    /// 1 at their places in the input's shape, 0 elsewhere.
    AD_TOPK_MASK = 2,
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

/// `ad_status_name`'s table, generated from one list of the variants. The list is checked
/// against the enum both ways: the match below has no catch-all arm, so a variant left out
/// does not compile, and neither does a name that is not a variant. (The enum itself stays
/// written out above, where cbindgen reads it.)
macro_rules! status_names {
    ($($variant:ident),* $(,)?) => {
        impl ad_status {
            /// The status whose value is `code`.
            fn from_code(code: u32) -> Option<ad_status> {
                [$(ad_status::$variant),*].into_iter().find(|s| *s as u32 == code)
            }

            /// The variant's name, NUL-terminated.
            fn name(self) -> &'static str {
                match self {
                    $(ad_status::$variant => concat!(stringify!($variant), "\0"),)*
                }
            }
        }
    };
}

status_names!(
    AD_OK,
    AD_ERR_NULL_ARGUMENT,
    AD_ERR_INVALID_HANDLE,
    AD_ERR_SHAPE,
    AD_ERR_DTYPE,
    AD_ERR_INVALID_ARGUMENT,
    AD_ERR_INDEX,
    AD_ERR_AUTOGRAD,
    AD_ERR_ALLOC,
    AD_ERR_BUFFER_TOO_SMALL,
    AD_ERR_PANIC,
    AD_ERR_IO,
    AD_ERR_FORMAT,
);

/// The library's version, `"MAJOR.MINOR.PATCH"`. Static; never freed. Fallback: `""`.
#[no_mangle]
pub extern "C" fn ad_version() -> *const c_char {
    ffi_boundary!(panic => c"".as_ptr(), { concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast() })
}

/// This thread's message for its most recent failed call, or "" if none failed yet.
/// A successful call leaves it unchanged. The pointer stays valid until the next failing call
/// on this thread; the library owns it. Fallback: `""`.
#[no_mangle]
pub extern "C" fn ad_last_error() -> *const c_char {
    ffi_boundary!(panic => c"".as_ptr(), { last_error() })
}

/// The name of a status code (`"AD_ERR_SHAPE"`), or `"AD_UNKNOWN_STATUS"`. Static; never freed.
/// Fallback: `"AD_UNKNOWN_STATUS"`.
#[no_mangle]
pub extern "C" fn ad_status_name(status: u32) -> *const c_char {
    ffi_boundary!(panic => UNKNOWN_STATUS.as_ptr().cast(), {
        ad_status::from_code(status).map_or(UNKNOWN_STATUS, ad_status::name).as_ptr().cast()
    })
}

const UNKNOWN_STATUS: &str = "AD_UNKNOWN_STATUS\0";

/// Sets how many threads large operations (matrix products, element-wise ops and reductions
/// on large arrays) may use, for the whole process; 1 keeps all work on the calling thread.
/// The default is `AD_NUM_THREADS`, else `OMP_NUM_THREADS`, else the machine's parallelism.
/// The calling thread does a share of each such operation; the other threads spin for 200 µs
/// after each share before they sleep, so that back-to-back operations do not wait for them
/// to wake. An operation started while another thread's is using them runs on its own thread.
/// `AD_ERR_INVALID_ARGUMENT` outside 1..=1024.
#[no_mangle]
pub extern "C" fn ad_set_num_threads(threads: usize) -> ad_status {
    ffi_boundary!({ Ok(engine::threads::set_num_threads(threads)?) })
}

/// How many threads large operations may use. Fallback: 1.
#[no_mangle]
pub extern "C" fn ad_num_threads() -> usize {
    ffi_boundary!(panic => 1, { engine::threads::num_threads() })
}

/// Switches the reference mode on or off for the whole process. In the reference mode every
/// fast path of the library is off and each operation runs its plain, slow, obviously
/// correct form: gradients expanded to full shape and summed into new arrays, the C
/// library's math functions, matrix products as a triple loop, every loop on the calling
/// thread. Results agree with the default mode up to rounding; a difference beyond that is a
/// bug in a fast path. The default is off unless the environment sets `AD_REFERENCE_MODE=1`.
#[no_mangle]
pub extern "C" fn ad_set_reference_mode(on: bool) {
    ffi_boundary!(panic => (), {
        engine::reference::set(on);
    })
}

/// Whether the reference mode is on. Fallback: false.
#[no_mangle]
pub extern "C" fn ad_reference_mode() -> bool {
    ffi_boundary!(panic => false, { engine::reference::enabled() })
}

/// The vector instructions the library's own kernels use (the vectorised exp, log, sigmoid
/// and tanh, the float32 matrix products): `"avx512"`, `"avx2"` (with FMA) or `"portable"`.
/// The best the CPU has unless a lower ceiling was set by `ad_set_cpu_level` or by the
/// environment variable `AD_CPU` (read at the first use; an unknown name there sets none).
/// Float32 products at `"avx512"` and float64 products at every level run on matrixmultiply,
/// which picks its kernel from what the CPU has.
/// Static; never freed. Fallback: `"portable"`.
#[no_mangle]
pub extern "C" fn ad_cpu_level() -> *const c_char {
    ffi_boundary!(panic => c"portable".as_ptr(), {
        match engine::level::level() {
            engine::level::Level::Avx512 => c"avx512".as_ptr(),
            engine::level::Level::Avx2 => c"avx2".as_ptr(),
            engine::level::Level::Portable => c"portable".as_ptr(),
        }
    })
}

/// Sets a ceiling on the vector instructions the library's kernels use, for the whole
/// process, from the next operation on: `"avx2"` or `"portable"` to run and measure a lower
/// level's paths on a CPU that has a higher one, `"avx512"` or NULL for the best the CPU has.
/// A ceiling above the CPU's level gives the CPU's level (`ad_cpu_level` says what runs). An
/// unknown name is `AD_ERR_INVALID_ARGUMENT`, and changes nothing.
#[no_mangle]
pub unsafe extern "C" fn ad_set_cpu_level(ceiling: *const c_char) -> ad_status {
    ffi_boundary!({
        let ceiling = match arg!(text? ceiling)? {
            None => None,
            Some(name) => Some(engine::level::Level::from_name(&name).ok_or_else(|| {
                boundary::FfiError::new(
                    ad_status::AD_ERR_INVALID_ARGUMENT,
                    format!("argument `ceiling`: {:?} is not a CPU level (avx512, avx2 or portable)", name),
                )
            })?),
        };
        engine::level::set_ceiling(ceiling);
        Ok(())
    })
}

/// Computes now every array's pending values, and returns when they are computed: MXNet's
/// `waitall`. Element-wise operations on arrays of 65,536 elements or more are fused: their
/// result is computed, with the chain of operations before it, when a value is first needed
/// (read, printed, passed to an operation that is not element-wise). The values are the same
/// either way; call this before stopping a clock, or to release what pending work holds (the
/// arrays it reads). Arrays made pending by other threads meanwhile may be left. Never fails.
#[no_mangle]
pub extern "C" fn ad_wait_all() -> ad_status {
    ffi_boundary!({
        engine::compute_all_pending();
        Ok(())
    })
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
    ffi_boundary!({
        let bytes = engine::release_cached_memory();
        if let Some(released) = arg!(out? released) {
            released.set(bytes);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every export's body is one of the macros that run it inside the panic boundary.
    #[test]
    fn every_export_runs_inside_the_boundary() {
        let sources =
            [include_str!("mod.rs"), include_str!("arrays.rs"), include_str!("autograd.rs"), include_str!("nn.rs"), include_str!("ops.rs"), include_str!("arrange.rs"), include_str!("io.rs")];
        let bodies =
            ["ffi_boundary!(", "new_array!(", "query!(", "unary!(", "binary!(", "scalar!(", "reduction!(", "scope_begin!(", "scope_end!("];
        let mut exports = 0;
        for source in sources {
            for export in source.split("extern \"C\" fn ").skip(1) {
                let name = export.split('(').next().unwrap_or_default();
                // Signatures hold no brace: the first one opens the body.
                let body = export.split_once('{').map_or("", |(_, body)| body.trim_start());
                assert!(bodies.iter().any(|m| body.starts_with(m)), "{} does not start inside the boundary: {:.60}", name, body);
                exports += 1;
            }
        }
        assert!(exports > 100, "only {} exports found", exports);
    }

    /// Every status has its own name, and a code that is none has none.
    #[test]
    fn status_names_come_from_the_enum() {
        let name = |code| unsafe { std::ffi::CStr::from_ptr(ad_status_name(code)) }.to_str().unwrap();
        assert_eq!(name(0), "AD_OK");
        assert_eq!(name(ad_status::AD_ERR_SHAPE as u32), "AD_ERR_SHAPE");
        assert_eq!(name(ad_status::AD_ERR_PANIC as u32), "AD_ERR_PANIC");
        assert_eq!(name(ad_status::AD_ERR_FORMAT as u32), "AD_ERR_FORMAT");
        assert_eq!(name(13), "AD_UNKNOWN_STATUS");
        assert_eq!(name(u32::MAX), "AD_UNKNOWN_STATUS");
        let names: std::collections::HashSet<_> = (0..=12).map(name).collect();
        assert_eq!(names.len(), 13);
    }
}
