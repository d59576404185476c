//! Making, reading, printing, reshaping and freeing arrays.

use std::ffi::c_void;

use super::handles::{self, ad_array};
use super::{
    ad_status, boundary, dtype_arg, null_arg, out_arg, shape_arg, slice_arg, write_out, FfiError,
    FfiResult,
};
use crate::array::{fmt_shape, random, DType};
use crate::NdArray;
use crate::ops;

/// Stores `array` as a new handle in `*out` (checked non-NULL by the caller).
pub(crate) unsafe fn put(out: *mut *mut ad_array, array: NdArray) -> FfiResult<()> {
    let h = handles::insert(array)?;
    write_out(out, h);
    Ok(())
}

/// Creates an array of `shape` (`ndim` sizes) and `dtype`, copying its elements from `data`,
/// which holds them row-major as `dtype` values (`float` or `double`). `data` may be NULL
/// only when the shape has no elements. On success `*out` is a new handle the caller frees
/// with `ad_array_free`; `data` is only read during the call.
#[no_mangle]
pub unsafe extern "C" fn ad_array_create(
    data: *const c_void,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    boundary("ad_array_create", || {
        let out = out_arg(out, "out")?;
        let shape = shape_arg(shape, ndim, "shape")?;
        let n: usize = shape.iter().product();
        let array = match dtype_arg(dtype, "dtype")? {
            DType::F32 => NdArray::from_slice(slice_arg(data.cast::<f32>(), n, "data")?, &shape)?,
            DType::F64 => NdArray::from_slice(slice_arg(data.cast::<f64>(), n, "data")?, &shape)?,
        };
        put(out, array)
    })
}

/// Creates an array of `shape` filled with `value` (rounded to `dtype`). The caller frees
/// `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_full(
    shape: *const usize,
    ndim: usize,
    value: f64,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    boundary("ad_array_full", || {
        let out = out_arg(out, "out")?;
        let shape = shape_arg(shape, ndim, "shape")?;
        put(out, NdArray::full(&shape, value, dtype_arg(dtype, "dtype")?)?)
    })
}

/// Creates an array of zeros. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_zeros(shape: *const usize, ndim: usize, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_array_zeros", || {
        let out = out_arg(out, "out")?;
        let shape = shape_arg(shape, ndim, "shape")?;
        put(out, NdArray::zeros(&shape, dtype_arg(dtype, "dtype")?)?)
    })
}

/// Creates an array of ones. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_ones(shape: *const usize, ndim: usize, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_array_ones", || {
        let out = out_arg(out, "out")?;
        let shape = shape_arg(shape, ndim, "shape")?;
        put(out, NdArray::ones(&shape, dtype_arg(dtype, "dtype")?)?)
    })
}

/// Creates the 1-d array `start, start + step, ...` up to but excluding `stop` (NumPy's
/// arange; `ad_array_arange(0, 4, 1, AD_FLOAT32, &x)` is MXNet's `nd.arange(4)`). `step`
/// must be non-zero. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_arange(start: f64, stop: f64, step: f64, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_array_arange", || {
        let out = out_arg(out, "out")?;
        put(out, NdArray::arange(start, stop, step, dtype_arg(dtype, "dtype")?)?)
    })
}

/// Reseeds the process-wide random generator: the same seed gives the same draws.
#[no_mangle]
pub extern "C" fn ad_random_seed(seed: u64) -> ad_status {
    boundary("ad_random_seed", || {
        random::seed(seed);
        Ok(())
    })
}

/// Creates an array of draws from the normal distribution N(`loc`, `scale`²), `scale` >= 0.
/// The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_random_normal(
    loc: f64,
    scale: f64,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    boundary("ad_random_normal", || {
        let out = out_arg(out, "out")?;
        let shape = shape_arg(shape, ndim, "shape")?;
        put(out, NdArray::random_normal(loc, scale, &shape, dtype_arg(dtype, "dtype")?)?)
    })
}

/// Creates an array of draws from the uniform distribution on [`low`, `high`).
/// The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_random_uniform(
    low: f64,
    high: f64,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    boundary("ad_random_uniform", || {
        let out = out_arg(out, "out")?;
        let shape = shape_arg(shape, ndim, "shape")?;
        put(out, NdArray::random_uniform(low, high, &shape, dtype_arg(dtype, "dtype")?)?)
    })
}

/// Frees the handle `array`. NULL is a no-op. Freeing a handle twice, or one the library did
/// not make, returns `AD_ERR_INVALID_HANDLE` and changes nothing. The data lives on while a
/// recorded graph or another handle (a reshape, a gradient) still uses it.
#[no_mangle]
pub extern "C" fn ad_array_free(array: *mut ad_array) -> ad_status {
    boundary("ad_array_free", || handles::remove(array, "array"))
}

/// Writes the number of dimensions of `array` to `*out`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_ndim(array: *const ad_array, out: *mut usize) -> ad_status {
    boundary("ad_array_ndim", || {
        let out = out_arg(out, "out")?;
        write_out(out, handles::get(array, "array")?.ndim());
        Ok(())
    })
}

/// Writes the number of elements of `array` to `*out`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_size(array: *const ad_array, out: *mut usize) -> ad_status {
    boundary("ad_array_size", || {
        let out = out_arg(out, "out")?;
        write_out(out, handles::get(array, "array")?.size());
        Ok(())
    })
}

/// Writes the dtype of `array` (an `ad_dtype` value) to `*out`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_dtype(array: *const ad_array, out: *mut u32) -> ad_status {
    boundary("ad_array_dtype", || {
        let out = out_arg(out, "out")?;
        write_out(out, handles::get(array, "array")?.dtype() as u32);
        Ok(())
    })
}

/// Copies the shape of `array` into `shape`, which has room for `capacity` sizes; fails with
/// `AD_ERR_BUFFER_TOO_SMALL` when `capacity` is below the array's ndim (`ad_array_ndim`).
#[no_mangle]
pub unsafe extern "C" fn ad_array_shape(array: *const ad_array, shape: *mut usize, capacity: usize) -> ad_status {
    boundary("ad_array_shape", || {
        let a = handles::get(array, "array")?;
        if capacity < a.ndim() {
            return Err(FfiError::new(
                ad_status::AD_ERR_BUFFER_TOO_SMALL,
                format!("argument `capacity` is {}, but the shape {} has {} dimensions", capacity, fmt_shape(a.shape()), a.ndim()),
            ));
        }
        if a.ndim() > 0 {
            let shape = out_arg(shape, "shape")?;
            std::ptr::copy_nonoverlapping(a.shape().as_ptr(), shape, a.ndim());
        }
        Ok(())
    })
}

/// Copies the elements of `array`, row-major, into `buffer`: `count` values of `dtype`
/// (converted from the array's dtype if they differ). `count` must equal the array's size.
#[no_mangle]
pub unsafe extern "C" fn ad_array_read(array: *const ad_array, dtype: u32, buffer: *mut c_void, count: usize) -> ad_status {
    boundary("ad_array_read", || {
        let a = handles::get(array, "array")?;
        let dtype = dtype_arg(dtype, "dtype")?;
        if count != a.size() {
            return Err(FfiError::new(
                ad_status::AD_ERR_SHAPE,
                format!("argument `count` is {}, but the array of shape {} has {} elements", count, fmt_shape(a.shape()), a.size()),
            ));
        }
        if count == 0 {
            return Ok(());
        }
        if buffer.is_null() {
            return Err(null_arg("buffer"));
        }
        // Straight into the caller's buffer: a copy in between would need the array's size
        // in memory again.
        match dtype {
            DType::F32 => a.copy_to(std::slice::from_raw_parts_mut(buffer.cast::<f32>(), count)),
            DType::F64 => a.copy_to(std::slice::from_raw_parts_mut(buffer.cast::<f64>(), count)),
        }
        Ok(())
    })
}

/// Writes the value of a one-element array to `*out` (MXNet's `asscalar`); any other size is
/// `AD_ERR_SHAPE`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_asscalar(array: *const ad_array, out: *mut f64) -> ad_status {
    boundary("ad_array_asscalar", || {
        let out = out_arg(out, "out")?;
        write_out(out, handles::get(array, "array")?.asscalar()?);
        Ok(())
    })
}

/// Writes MXNet's text for `array` (what Python's `print(x)` shows: a blank line, the values
/// as NumPy prints them, and a `<NDArray 4x1 @cpu(0)>` footer) into `buffer` with a
/// terminating NUL. `*length` (if `length` is not NULL) receives the text's length without
/// the NUL — also when the call fails for a short buffer, so that a caller can pass
/// `buffer = NULL, capacity = 0` to learn the size. Fails with `AD_ERR_BUFFER_TOO_SMALL` when
/// `capacity` is below length + 1, writing nothing into `buffer`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_to_string(
    array: *const ad_array,
    buffer: *mut std::ffi::c_char,
    capacity: usize,
    length: *mut usize,
) -> ad_status {
    boundary("ad_array_to_string", || {
        let text = handles::get(array, "array")?.try_repr()?;
        let report_length = || {
            if !length.is_null() {
                write_out(length, text.len());
            }
        };
        if buffer.is_null() && capacity == 0 {
            report_length();
            return Ok(());
        }
        if capacity < text.len() + 1 {
            report_length();
            return Err(FfiError::new(
                ad_status::AD_ERR_BUFFER_TOO_SMALL,
                format!("argument `capacity` is {}, but the text needs {} bytes with its NUL", capacity, text.len() + 1),
            ));
        }
        // Any other failure leaves `*length` alone, as every out-parameter.
        let buffer = out_arg(buffer, "buffer")?;
        std::ptr::copy_nonoverlapping(text.as_ptr(), buffer.cast::<u8>(), text.len());
        write_out(buffer.add(text.len()), 0);
        report_length();
        Ok(())
    })
}

/// `array` with a new shape of `ndim` sizes, sharing its data; one size may be -1 and is
/// inferred. Recorded when recording. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_reshape(array: *const ad_array, shape: *const i64, ndim: usize, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_array_reshape", || {
        let out = out_arg(out, "out")?;
        let a = handles::get(array, "array")?;
        put(out, ops::reshape(&a, slice_arg(shape, ndim, "shape")?)?)
    })
}

/// `array` with its axes permuted: `axes` (`naxes` entries, negative counting from the end)
/// gives the new order; `naxes` = 0 reverses them (MXNet's `.T`). Recorded when recording.
/// The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_transpose(array: *const ad_array, axes: *const i64, naxes: usize, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_array_transpose", || {
        let out = out_arg(out, "out")?;
        let a = handles::get(array, "array")?;
        put(out, ops::transpose(&a, slice_arg(axes, naxes, "axes")?)?)
    })
}

/// `array` repeated along its length-1 and missing leading axes to `shape` (NumPy's
/// broadcasting). Recorded when recording. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_broadcast_to(array: *const ad_array, shape: *const usize, ndim: usize, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_array_broadcast_to", || {
        let out = out_arg(out, "out")?;
        let a = handles::get(array, "array")?;
        put(out, ops::broadcast_to(&a, &shape_arg(shape, ndim, "shape")?)?)
    })
}

/// A copy of `array` in new memory; gradients flow through it. The caller frees `*out`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_copy(array: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_array_copy", || {
        let out = out_arg(out, "out")?;
        put(out, ops::copy(&handles::get(array, "array")?)?)
    })
}

/// `array`'s data (shared, not copied) without its autograd history: gradients do not flow
/// through the result. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_detach(array: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_array_detach", || {
        let out = out_arg(out, "out")?;
        put(out, handles::get(array, "array")?.detach())
    })
}

/// How one axis is indexed, for `ad_array_slice` and `ad_array_write_slice`: positions
/// `start, start + step, ...` before `stop` — a slice normalised as Python's
/// `slice.indices(len)` gives it (for a negative step `stop` may be -1) — or, when `step` is
/// 0, the single position `start` (negative counts from the end), which drops the axis.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ad_index {
    pub start: i64,
    pub stop: i64,
    pub step: i64,
}

unsafe fn index_arg(index: *const ad_index, n: usize) -> FfiResult<Vec<ops::AxisIndex>> {
    Ok(slice_arg(index, n, "index")?
        .iter()
        .map(|i| match i.step {
            0 => ops::AxisIndex::At(i.start),
            step => ops::AxisIndex::Range { start: i.start, stop: i.stop, step },
        })
        .collect())
}

/// The elements of `array` that `index` (`n` entries, one per leading axis; later axes are
/// taken whole) selects: MXNet's and NumPy's basic indexing (`x[1:3]`, `x[:, 2]`, `x[::-1]`).
/// A position out of range is `AD_ERR_INDEX`. Recorded when recording. A selection that is
/// contiguous in memory (single positions on leading axes, then at most one step-1 range,
/// then whole axes: `x[1]`, `x[1:3]`, `x[2, 0:2]`) is a view that shares `array`'s data
/// (writes through either are seen by both, as in MXNet); any other selection copies. The
/// caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_slice(array: *const ad_array, index: *const ad_index, n: usize, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_array_slice", || {
        let out = out_arg(out, "out")?;
        let a = handles::get(array, "array")?;
        put(out, ops::slice(&a, &index_arg(index, n)?)?)
    })
}

/// Writes `src` into the elements of `array` that `index` selects (`n` entries, as in
/// `ad_array_slice`; `n` = 0 writes the whole array): `x[index] = src` in place. `src` is
/// broadcast to the selected shape (leading length-1 axes beyond it are dropped, so a (1,)
/// value fills one element) and converted to `array`'s dtype. Everything sharing
/// `array`'s data sees the change. Inside a record scope, writing into an array that is in
/// the graph is `AD_ERR_AUTOGRAD`. Both handles stay the caller's.
#[no_mangle]
pub unsafe extern "C" fn ad_array_write_slice(array: *mut ad_array, index: *const ad_index, n: usize, src: *const ad_array) -> ad_status {
    boundary("ad_array_write_slice", || {
        let dst = handles::get(array, "array")?;
        let src = handles::get(src, "src")?;
        Ok(ops::write_slice(&dst, &index_arg(index, n)?, &src)?)
    })
}

/// `array op= src` in place (`op` an `ad_update_op` value): `x += y`, `w -= g`. `src` is
/// broadcast to `array`'s shape and converted to its dtype; everything sharing `array`'s data
/// sees the change. One pass over the data where `ad_sub` and `ad_array_write_slice` would
/// make a new array and copy it. Inside a record scope, updating an array that is in the
/// graph is `AD_ERR_AUTOGRAD`; a `src` that does not broadcast to `array`'s shape is
/// `AD_ERR_SHAPE`, and nothing is written. Both handles stay the caller's.
#[no_mangle]
pub unsafe extern "C" fn ad_array_update(array: *mut ad_array, src: *const ad_array, op: u32) -> ad_status {
    boundary("ad_array_update", || {
        let op = ops::InPlace::from_code(op).ok_or_else(|| {
            FfiError::new(ad_status::AD_ERR_INVALID_ARGUMENT, format!("argument `op`: {} is not an ad_update_op value (0 to 3)", op))
        })?;
        let dst = handles::get(array, "array")?;
        let src = handles::get(src, "src")?;
        Ok(ops::update(&dst, &src, op)?)
    })
}

/// `array`'s elements converted to `dtype`; gradients flow back converted. The caller frees
/// `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_astype(array: *const ad_array, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_array_astype", || {
        let out = out_arg(out, "out")?;
        let dtype = dtype_arg(dtype, "dtype")?;
        put(out, ops::astype(&handles::get(array, "array")?, dtype)?)
    })
}

/// Frees `n` handles (NULL entries are skipped): `ad_array_free` for each, in one call, for
/// bindings that release arrays in batches. Every valid handle is freed even when another is
/// not; the status is that of the first failure.
#[no_mangle]
pub unsafe extern "C" fn ad_array_free_many(arrays: *const *mut ad_array, n: usize) -> ad_status {
    boundary("ad_array_free_many", || {
        let mut first_error = None;
        for (i, &h) in slice_arg(arrays, n, "arrays")?.iter().enumerate() {
            if let Err(e) = handles::remove(h, &format!("arrays[{}]", i)) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    })
}
