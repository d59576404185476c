//! Arguments from C made into Rust values: handles, lists of handles, slices, shapes, axes,
//! index lists, optional values, enum codes, and out-parameters. This is the only code of the
//! C boundary that reads or writes through a raw pointer (a test below keeps it so).
//!
//! The exports use these through `arg!`, which names the argument after the parameter it is
//! given (`arg!(handle a)` reports "argument `a` is NULL"), so that no message spells a
//! parameter's name by hand.

use std::ptr::NonNull;

use super::arrays::ad_index;
use super::boundary::{FfiError, FfiResult};
use super::engine::{check_ndim, checked_size, ops, DType, Error, GradReq, NdArray};
use super::handles::{self, ad_array};
use super::ad_status;

/// One argument of an export as a Rust value, named after its parameter:
///
/// - `handle a` (`const ad_array *a`): the array, `FfiResult<NdArray>`; `handle? bias` takes
///   NULL as none.
/// - `handles heads, n` (`const ad_array *const *heads`): `FfiResult<Vec<NdArray>>`;
///   `handles? head_grads, n` takes a NULL list or NULL entries as none.
/// - `slice data as f32, n` (`const void *data`), `slice shape, ndim` (`const T *`): a slice.
/// - `shape shape, ndim` (`const size_t *`): a checked shape; `axes axes, naxes`
///   (`const int64_t *`): axes; `index index, n` (`const ad_index *`): an index list;
///   `value? axis` (`const int64_t *`, NULL for none): `Option<i64>`.
/// - `path path` (`const char *`, NUL-terminated): a file path; `strings? names, n`
///   (`const char *const *`, NULL for none): `Option<Vec<String>>`, each UTF-8.
/// - `dtype dtype`, `cmp op`, `in_place op`, `grad_req grad_req` (`uint32_t` codes): the
///   engine's enum.
/// - `out out` (`T *out`): `FfiResult<Out<T>>`; `out? previous`: `Option<Out<T>>`, NULL
///   to skip the result; `out_slice buffer as u8, capacity` (`char *buffer`): a buffer.
///
/// The pointer kinds are `unsafe`: they rely on the export's contract with C that a non-NULL
/// pointer points at as many values as the call says.
macro_rules! arg {
    (handle $h:ident) => { $crate::ffi::args::handle($h, stringify!($h)) };
    (handle? $h:ident) => { $crate::ffi::args::optional_handle($h, stringify!($h)) };
    (handles $p:ident, $n:expr) => { $crate::ffi::args::handle_list($p, $n, stringify!($p)) };
    (handles? $p:ident, $n:expr) => { $crate::ffi::args::optional_handle_list($p, $n, stringify!($p)) };
    (slice $p:ident as $t:ty, $n:expr) => { $crate::ffi::args::slice($p.cast::<$t>(), $n, stringify!($p)) };
    (slice $p:ident, $n:expr) => { $crate::ffi::args::slice($p, $n, stringify!($p)) };
    (shape $p:ident, $n:expr) => { $crate::ffi::args::shape($p, $n, stringify!($p)) };
    (axes $p:ident, $n:expr) => { $crate::ffi::args::slice($p, $n, stringify!($p)) };
    (index $p:ident, $n:expr) => { $crate::ffi::args::index_list($p, $n, stringify!($p)) };
    (value? $p:ident) => { $crate::ffi::args::optional_value($p) };
    (value $p:ident) => { $crate::ffi::args::value($p, stringify!($p)) };
    (text $p:ident) => { $crate::ffi::args::text($p, stringify!($p)) };
    (text? $p:ident) => { $crate::ffi::args::optional_text($p, stringify!($p)) };
    (path $p:ident) => { $crate::ffi::args::path($p, stringify!($p)) };
    (strings? $p:ident, $n:expr) => { $crate::ffi::args::optional_strings($p, $n, stringify!($p)) };
    (dtype $c:ident) => { $crate::ffi::args::dtype($c, stringify!($c)) };
    (cmp $c:ident) => { $crate::ffi::args::cmp($c, stringify!($c)) };
    (topk $c:ident) => { $crate::ffi::args::topk($c, stringify!($c)) };
    (in_place $c:ident) => { $crate::ffi::args::in_place($c, stringify!($c)) };
    (grad_req $c:ident) => { $crate::ffi::args::grad_req($c, stringify!($c)) };
    (out $p:ident) => { $crate::ffi::args::out($p, stringify!($p)) };
    (out? $p:ident) => { $crate::ffi::args::optional_out($p) };
    (out_slice $p:ident as $t:ty, $n:expr) => { $crate::ffi::args::out_slice($p.cast::<$t>(), $n, stringify!($p)) };
    (out_slice $p:ident, $n:expr) => { $crate::ffi::args::out_slice($p, $n, stringify!($p)) };
}

/// Runs `f` on the array behind the handle argument `h` and stores the array it leaves
/// (`attach_grad` changes the array's graph entry, which the handle table keeps).
macro_rules! modify_handle {
    ($h:ident, $f:expr) => {
        $crate::ffi::handles::update($h, stringify!($h), $f)
    };
}

/// Frees the handle argument `h` (`free_handle!(array)`), or each of the `n` handles of the
/// list argument `p` (`free_handle!(arrays, n)`), all of them even when one fails; the
/// error is the first failure's.
macro_rules! free_handle {
    ($h:ident) => {
        $crate::ffi::handles::remove($h, stringify!($h))
    };
    ($p:ident, $n:expr) => {
        $crate::ffi::args::free_handle_list($p, $n, stringify!($p))
    };
}

pub(crate) fn null_arg(name: &str) -> FfiError {
    FfiError::new(ad_status::AD_ERR_NULL_ARGUMENT, format!("argument `{}` is NULL", name))
}

/// The array behind handle `h` (a cheap clone sharing its data and graph entry). A handle
/// is never dereferenced, only looked up, so this needs no `unsafe`. An array of an integer or
/// bool dtype is refused (`AD_ERR_DTYPE`) unless the running export takes one there
/// (`accepts_any_dtype`): every op computes on floats unless it says otherwise, so that a new
/// op cannot meet an integer array it was not written for. A float16 array given to an op that
/// computes is converted to float32 (`float16_rule`).
#[inline]
pub(crate) fn handle(h: *const ad_array, name: &str) -> FfiResult<NdArray> {
    handles::get_float_or(h, name, check_dtype)
}

/// What an export does with a float16 array in one of its array parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Float16 {
    /// Takes it as it is: the export moves, stores or reads elements, or works on the
    /// array itself (its gradient, its place in the graph).
    AsIs,
    /// Computes on its float32 conversion, recorded so that gradients flow back to it; the
    /// export's float32 results are converted back to float16.
    Converted,
    /// Computes on its float32 conversion, as `Converted`, but the results keep the dtype that
    /// the export's `dtype` parameter gives them.
    ConvertedIn,
    /// Refused: the export writes the parameter in place (a converted copy would take the
    /// write), or gives one result the dtype of its `dtype` parameter and another the input's.
    Refused,
}

/// The exports whose results take the dtype of their `dtype` parameter.
const RESULT_DTYPE_GIVEN: &[&str] =
    &["ad_argsort", "ad_sample_normal", "ad_sample_uniform", "ad_sample_exponential", "ad_sample_gamma", "ad_sample_poisson"];

/// The exports that take float16 arrays as they are beyond those that move elements: those
/// that work on the array itself, not its values.
const FLOAT16_AS_IS: &[&str] = &[
    "ad_array_attach_grad", "ad_array_attach_grad_with", "ad_array_retain_grad", "ad_array_grad", "ad_backward",
    "ad_backward_ex", "ad_grad", "ad_array_set_grad_hook",
];

/// The exports of `ANY_DTYPE` that compute (MXNet's integer arithmetic): float16 is converted.
const INTEGER_ARITHMETIC: &[&str] = &[
    "ad_add", "ad_sub", "ad_mul", "ad_add_scalar", "ad_sub_scalar", "ad_rsub_scalar", "ad_mul_scalar", "ad_compare",
    "ad_compare_scalar", "ad_sum",
];

/// The float16 rule of export `export`'s parameter `param` (see `Float16`).
#[doc(hidden)]
pub fn float16_rule(export: &str, param: &str) -> Float16 {
    // The optimizer updates (`ad_sgd_update`, `ad_lamb_update_phase1`) write their arrays.
    let in_place = export.ends_with("_update")
        || export.contains("_update_phase")
        || (export == "ad_batch_norm" && (param == "running_mean" || param == "running_var"));
    if FLOAT16_AS_IS.contains(&export) || (accepts_any_dtype(export, param) && !INTEGER_ARITHMETIC.contains(&export)) {
        Float16::AsIs
    } else if in_place || export == "ad_topk" || export == "ad_sample_multinomial" {
        Float16::Refused
    } else if RESULT_DTYPE_GIVEN.contains(&export) {
        Float16::ConvertedIn
    } else {
        Float16::Converted
    }
}

/// The exports that take arrays of every dtype in each of their array parameters: those that
/// make, read, print, convert, store, lend or only move elements, and the integer arithmetic
/// MXNet has.
const ANY_DTYPE: &[&str] = &[
    "ad_array_free", "ad_array_free_many", "ad_array_ndim", "ad_array_size", "ad_array_dtype", "ad_array_shape",
    "ad_array_read", "ad_array_asscalar", "ad_array_wait_to_read", "ad_array_to_string", "ad_array_astype", "ad_array_copy", "ad_array_detach",
    "ad_array_share", "ad_array_reshape", "ad_array_reshape_codes", "ad_array_transpose", "ad_array_broadcast_to",
    "ad_array_slice", "ad_array_write_slice", "ad_array_put", "ad_array_update", "ad_array_borrow", "ad_array_to_dlpack", "ad_array_to_dlpack_legacy", "ad_save",
    "ad_full_like", "ad_squeeze", "ad_expand_dims", "ad_split", "ad_flip", "ad_tile", "ad_repeat", "ad_swapaxes",
    "ad_moveaxis", "ad_broadcast_like", "ad_reshape_like", "ad_take", "ad_concat", "ad_stack", "ad_flatten",
    "ad_random_shuffle",
    // MXNet's arithmetic on integer arrays (ops::integer; bool arrays are refused there)
    "ad_add", "ad_sub", "ad_mul", "ad_add_scalar", "ad_sub_scalar", "ad_rsub_scalar", "ad_mul_scalar", "ad_compare",
    "ad_compare_scalar", "ad_sum",
];

/// The array parameters of other exports that take every dtype: positions and labels.
const ANY_DTYPE_PARAMS: &[(&str, &str)] = &[
    ("ad_pick", "index"),
    ("ad_pick_mode", "index"),
    ("ad_one_hot", "indices"),
    ("ad_softmax_cross_entropy", "labels"),
];

/// Whether the export `export` takes an array of any dtype as its parameter `param` (the
/// others are float32 or float64 only). For the tests that check every export of `ad.h`.
#[doc(hidden)]
pub fn accepts_any_dtype(export: &str, param: &str) -> bool {
    ANY_DTYPE.contains(&export) || ANY_DTYPE_PARAMS.contains(&(export, param))
}

#[cold]
#[inline(never)]
fn check_dtype(a: &NdArray, name: &str) -> FfiResult<Option<NdArray>> {
    // `arrays[2]` is the parameter `arrays`.
    let param = name.split('[').next().unwrap_or(name);
    let export = super::boundary::current_export().unwrap_or("");
    let op = export.strip_prefix("ad_").unwrap_or(export);
    if a.dtype() == DType::F16 {
        return match float16_rule(export, param) {
            Float16::AsIs => Ok(None),
            Float16::Converted => {
                let converted = ops::astype(a, DType::F32)?;
                super::boundary::converted_float16();
                Ok(Some(converted))
            }
            Float16::ConvertedIn => Ok(Some(ops::astype(a, DType::F32)?)),
            Float16::Refused => Err(FfiError::new(
                ad_status::AD_ERR_DTYPE,
                format!(
                    "argument `{}` holds float16 elements; {} does not take float16 arrays there (it writes them in place, \
                     or gives its results dtypes of two rules): convert it first with ad_array_astype (Python: x.astype('float32'))",
                    name, op
                ),
            )),
        };
    }
    if accepts_any_dtype(export, param) {
        return Ok(None);
    }
    Err(FfiError::new(
        ad_status::AD_ERR_DTYPE,
        format!(
            "argument `{}` holds {} elements; {} computes on float32, float64 and float16 arrays only (integer and bool arrays are \
             stored, moved and converted, not computed on): convert it first with ad_array_astype (Python: x.astype('float32'))",
            name,
            a.dtype().name(),
            op
        ),
    ))
}

/// As `handle`, with NULL for none.
pub(crate) fn optional_handle(h: *const ad_array, name: &str) -> FfiResult<Option<NdArray>> {
    if h.is_null() {
        Ok(None)
    } else {
        handle(h, name).map(Some)
    }
}

/// The arrays behind a list of `n` handles; an entry at fault is named `name[i]`.
///
/// # Safety
/// A non-NULL `ptr` points at `n` handles.
pub(crate) unsafe fn handle_list(ptr: *const *const ad_array, n: usize, name: &str) -> FfiResult<Vec<NdArray>> {
    slice(ptr, n, name)?.iter().enumerate().map(|(i, &h)| handle(h, &format!("{}[{}]", name, i))).collect()
}

/// An optional list of optional handles: a NULL list is `n` times none, a NULL entry none.
///
/// # Safety
/// As `handle_list`.
pub(crate) unsafe fn optional_handle_list(ptr: *const *const ad_array, n: usize, name: &str) -> FfiResult<Vec<Option<NdArray>>> {
    if ptr.is_null() {
        return Ok(vec![None; n]);
    }
    slice(ptr, n, name)?.iter().enumerate().map(|(i, &h)| optional_handle(h, &format!("{}[{}]", name, i))).collect()
}

/// Frees each of `n` handles (NULL entries are skipped), all of them even when one fails;
/// the error is the first failure's.
///
/// # Safety
/// As `handle_list`.
pub(crate) unsafe fn free_handle_list(ptr: *const *mut ad_array, n: usize, name: &str) -> FfiResult<()> {
    let mut first_error = None;
    for (i, &h) in slice(ptr, n, name)?.iter().enumerate() {
        if let Err(e) = handles::remove(h, &format!("{}[{}]", name, i)) {
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// A `(pointer, length)` pair from C as a slice; NULL is allowed only for length 0.
///
/// # Safety
/// A non-NULL `ptr` points at `len` readable values of `T` for the call's duration.
pub(crate) unsafe fn slice<'a, T>(ptr: *const T, len: usize, name: &str) -> FfiResult<&'a [T]> {
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

/// A shape (`const size_t *shape, size_t ndim`), checked as every new array's shape is
/// (`AD_ERR_SHAPE` for too many axes, `AD_ERR_ALLOC` for too many elements).
///
/// # Safety
/// As `slice`.
pub(crate) unsafe fn shape(ptr: *const usize, ndim: usize, name: &str) -> FfiResult<Vec<usize>> {
    let named = |e: Error| {
        let e = FfiError::from(e);
        FfiError::new(e.status, format!("argument `{}`: {}", name, e.message))
    };
    // Before the sizes are read: `ndim` alone may be absurd.
    check_ndim(ndim).map_err(named)?;
    let shape = slice(ptr, ndim, name)?.to_vec();
    checked_size(&shape).map_err(named)?;
    Ok(shape)
}

/// An index list for `ad_array_slice` and `ad_array_write_slice`: a step of 0 is a single
/// position, any other a range.
///
/// # Safety
/// As `slice`.
pub(crate) unsafe fn index_list(ptr: *const ad_index, n: usize, name: &str) -> FfiResult<Vec<ops::AxisIndex>> {
    Ok(slice(ptr, n, name)?
        .iter()
        .map(|i| match i.step {
            0 => ops::AxisIndex::At(i.start),
            step => ops::AxisIndex::Range { start: i.start, stop: i.stop, step },
        })
        .collect())
}

/// The value behind an optional pointer (`const int64_t *axis`, NULL for none).
///
/// # Safety
/// A non-NULL `ptr` points at a readable `T`.
pub(crate) unsafe fn optional_value<T: Copy>(ptr: *const T) -> Option<T> {
    if ptr.is_null() {
        None
    } else {
        Some(ptr.read())
    }
}

/// The value behind a required pointer (a struct the caller fills, such as the callbacks of
/// a custom function).
///
/// # Safety
/// A non-NULL `ptr` points at a readable `T`.
pub(crate) unsafe fn value<T: Copy>(ptr: *const T, name: &str) -> FfiResult<T> {
    if ptr.is_null() {
        Err(null_arg(name))
    } else {
        Ok(ptr.read())
    }
}

/// A NUL-terminated C string, as UTF-8 (invalid bytes replaced).
///
/// # Safety
/// A non-NULL `ptr` points at a NUL-terminated string.
pub(crate) unsafe fn text(ptr: *const std::ffi::c_char, name: &str) -> FfiResult<String> {
    if ptr.is_null() {
        return Err(null_arg(name));
    }
    Ok(std::ffi::CStr::from_ptr(ptr).to_string_lossy().into_owned())
}

/// As `text`, with NULL for none.
///
/// # Safety
/// As `text`.
pub(crate) unsafe fn optional_text(ptr: *const std::ffi::c_char, name: &str) -> FfiResult<Option<String>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        text(ptr, name).map(Some)
    }
}

/// A NUL-terminated C string, as bytes (without the NUL).
///
/// # Safety
/// `ptr` is NULL or points at a NUL-terminated string readable for the call's duration.
unsafe fn c_string<'a>(ptr: *const std::ffi::c_char, name: &str) -> FfiResult<&'a [u8]> {
    if ptr.is_null() {
        return Err(null_arg(name));
    }
    Ok(std::ffi::CStr::from_ptr(ptr).to_bytes())
}

/// A file path (`const char *path`): its bytes as the system's path (any bytes on Unix,
/// UTF-8 elsewhere); an empty path is refused.
///
/// # Safety
/// As `c_string`.
pub(crate) unsafe fn path(ptr: *const std::ffi::c_char, name: &str) -> FfiResult<std::path::PathBuf> {
    let bytes = c_string(ptr, name)?;
    if bytes.is_empty() {
        return Err(FfiError::new(ad_status::AD_ERR_INVALID_ARGUMENT, format!("argument `{}` is an empty path", name)));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(std::ffi::OsStr::from_bytes(bytes).into())
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes)
            .map(Into::into)
            .map_err(|_| FfiError::new(ad_status::AD_ERR_INVALID_ARGUMENT, format!("argument `{}` is not UTF-8", name)))
    }
}

/// An optional list of `n` strings (`const char *const *names`, NULL for none), each
/// NUL-terminated UTF-8; an entry at fault is named `name[i]`.
///
/// # Safety
/// A non-NULL `ptr` points at `n` pointers, each as `c_string`'s.
pub(crate) unsafe fn optional_strings(ptr: *const *const std::ffi::c_char, n: usize, name: &str) -> FfiResult<Option<Vec<String>>> {
    if ptr.is_null() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(n.min(1 << 16));
    for (i, &p) in slice(ptr, n, name)?.iter().enumerate() {
        let entry = format!("{}[{}]", name, i);
        let text = std::str::from_utf8(c_string(p, &entry)?)
            .map_err(|_| FfiError::new(ad_status::AD_ERR_INVALID_ARGUMENT, format!("argument `{}` is not UTF-8", entry)))?;
        out.push(text.to_string());
    }
    Ok(Some(out))
}

pub(crate) fn dtype(code: u32, name: &str) -> FfiResult<DType> {
    DType::from_code(code).ok_or_else(|| {
        FfiError::new(
            ad_status::AD_ERR_DTYPE,
            format!(
                "argument `{}`: {} is not a dtype ad has (AD_FLOAT32 = 0, AD_FLOAT64 = 1, AD_FLOAT16 = 2, AD_UINT8 = 3, AD_INT32 = 4, \
                 AD_INT8 = 5, AD_INT64 = 6, AD_BOOL = 7)",
                name, code
            ),
        )
    })
}

pub(crate) fn cmp(code: u32, name: &str) -> FfiResult<ops::Cmp> {
    ops::Cmp::from_code(code).ok_or_else(|| {
        FfiError::new(ad_status::AD_ERR_INVALID_ARGUMENT, format!("argument `{}`: {} is not an ad_cmp value (0 to 5)", name, code))
    })
}

pub(crate) fn topk(code: u32, name: &str) -> FfiResult<ops::TopK> {
    [ops::TopK::Value, ops::TopK::Indices, ops::TopK::Mask].get(code as usize).copied().ok_or_else(|| {
        FfiError::new(ad_status::AD_ERR_INVALID_ARGUMENT, format!("argument `{}`: {} is not an ad_topk_ret value (0 to 2)", name, code))
    })
}

pub(crate) fn in_place(code: u32, name: &str) -> FfiResult<ops::InPlace> {
    ops::InPlace::from_code(code).ok_or_else(|| {
        FfiError::new(
            ad_status::AD_ERR_INVALID_ARGUMENT,
            format!("argument `{}`: {} is not an ad_update_op value (0 to 3)", name, code),
        )
    })
}

pub(crate) fn grad_req(code: u32, name: &str) -> FfiResult<GradReq> {
    GradReq::from_code(code).ok_or_else(|| {
        FfiError::new(
            ad_status::AD_ERR_INVALID_ARGUMENT,
            format!("argument `{}`: {} is not an ad_grad_req (AD_GRAD_NULL 0, AD_GRAD_WRITE 1, AD_GRAD_ADD 3)", name, code),
        )
    })
}

/// An out-parameter for one result, checked non-NULL when the call starts (so that nothing
/// is computed for nothing) and written at most once, at the end of a successful call.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    pub(crate) fn set(self, value: T) {
        // SAFETY: `out` and `optional_out` took a non-NULL pointer that the caller promised
        // is writable for the call's duration.
        unsafe { self.0.as_ptr().write(value) }
    }
}

impl Out<*mut ad_array> {
    /// Stores `array` as a new handle and writes the handle.
    #[inline]
    pub(crate) fn put(self, array: NdArray) -> FfiResult<()> {
        let h = handles::insert(array)?;
        self.set(h);
        Ok(())
    }
}

/// A required out-parameter.
///
/// # Safety
/// A non-NULL `ptr` is writable for the call's duration.
#[inline]
pub(crate) unsafe fn out<T>(ptr: *mut T, name: &str) -> FfiResult<Out<T>> {
    NonNull::new(ptr).map(Out).ok_or_else(|| null_arg(name))
}

/// An out-parameter the caller may pass as NULL to skip the result.
///
/// # Safety
/// As `out`.
pub(crate) unsafe fn optional_out<T>(ptr: *mut T) -> Option<Out<T>> {
    NonNull::new(ptr).map(Out)
}

/// The caller's buffer of `len` values for results, checked non-NULL up front (whatever
/// `len`; a function that takes NULL for an empty result checks before it asks for this).
/// No reference to the buffer is made until it is written, so it may alias the inputs.
pub(crate) struct OutSlice<T> {
    ptr: NonNull<T>,
    len: usize,
}

impl<T: Copy> OutSlice<T> {
    /// Writes `values` from position `at`. Past the buffer's length is a bug (a panic).
    pub(crate) fn write_at(&mut self, at: usize, values: &[T]) {
        assert!(at <= self.len && values.len() <= self.len - at, "a write past the caller's buffer");
        // SAFETY: in bounds of the `len` values the caller promised writable; `values` is
        // the library's own memory, which the caller's buffer cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), self.ptr.as_ptr().add(at), values.len()) }
    }

    /// The whole buffer, for a result written in place.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: the caller promised `len` writable values.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl OutSlice<*mut ad_array> {
    /// Stores `arrays` as new handles and writes them from the start, all or none: should one
    /// fail, the handles made so far are freed and nothing is written.
    pub(crate) fn put_all(mut self, arrays: Vec<NdArray>) -> FfiResult<()> {
        let mut made = Vec::with_capacity(arrays.len());
        for array in arrays {
            match handles::insert(array) {
                Ok(h) => made.push(h),
                Err(e) => {
                    for h in made {
                        let _ = handles::remove(h, "");
                    }
                    return Err(e);
                }
            }
        }
        self.write_at(0, &made);
        Ok(())
    }
}

/// # Safety
/// A non-NULL `ptr` points at `len` writable values of `T` for the call's duration.
pub(crate) unsafe fn out_slice<T>(ptr: *mut T, len: usize, name: &str) -> FfiResult<OutSlice<T>> {
    NonNull::new(ptr).map(|ptr| OutSlice { ptr, len }).ok_or_else(|| null_arg(name))
}

#[cfg(test)]
mod tests {
    /// Every other file of the C boundary goes through this one for pointers: none of them
    /// dereferences, reads, writes or makes a slice from a raw pointer itself. custom.rs,
    /// hooks.rs and memory.rs call the host's callbacks (an `unsafe` call of a function pointer), and
    /// memory.rs and dlpack.rs hand the host's memory to the engine (`Array::from_host`,
    /// whose contract their callers state); dlpack.rs also frees the tensors it exported;
    /// nothing else is unsafe.
    #[test]
    fn no_other_ffi_file_touches_a_raw_pointer() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            if file == "args.rs" || !file.ends_with(".rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut forbidden =
                vec!["from_raw_parts", "ptr::copy", "ptr::read", "ptr::write", ".write(", ".read(", ".add(", ".offset(", "(*", "= *"];
            if !["custom.rs", "hooks.rs", "memory.rs", "dlpack.rs"].contains(&file.as_str()) {
                forbidden.push("unsafe {");
            }
            let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for f in &forbidden {
                    assert!(!line.contains(f), "src/ffi/{} uses `{}` outside args.rs: {}", file, f, line.trim());
                }
            }
            checked += 1;
        }
        assert!(checked >= 16, "only {checked} files of src/ffi read");
    }
}
