//! Creation and shape ops in MXNet's terms, `take` and `put`, and `pick` with a mode. As
//! everywhere, each op's result is a new handle in `*out` (or in each entry of `outs`) that the
//! caller frees with `ad_array_free`; inputs are borrowed for the call only. Inside a record
//! scope an op whose inputs are in the graph is recorded for backward. Like MXNet's `nd`
//! functions, the ops return new arrays, never views on their input, except
//! `ad_array_reshape_codes`, which is a view as `ad_array_reshape` is.

use super::ad_status;
use super::boundary::{FfiError, FfiResult};
use super::engine::ops;
use super::handles::ad_array;

/// What `ad_take` and `ad_pick_mode` do with a position outside its axis. Functions take
/// these as `uint32_t`.
#[repr(C)]
pub enum ad_index_mode {
    /// The call fails with `AD_ERR_INDEX`.
    AD_INDEX_RAISE = 0,
    /// The position is clipped to the nearer end of the axis.
    AD_INDEX_CLIP = 1,
    /// The position wraps around: it is taken modulo the axis's length (-1 is the last).
    AD_INDEX_WRAP = 2,
}

/// The engine's mode for the `ad_index_mode` argument `name`.
fn index_mode(code: u32, name: &str) -> FfiResult<ops::IndexMode> {
    ops::IndexMode::from_code(code).ok_or_else(|| {
        FfiError::new(
            ad_status::AD_ERR_INVALID_ARGUMENT,
            format!("argument `{}`: {} is not an ad_index_mode (AD_INDEX_RAISE 0, AD_INDEX_CLIP 1, AD_INDEX_WRAP 2)", name, code),
        )
    })
}

/// An array of `array`'s shape with every element `value` (rounded to `dtype`), MXNet's
/// `zeros_like`, `ones_like` and `full_like`. Recorded with a zero gradient: a backward through
/// it gives zeros. `AD_ERR_DTYPE` for an unknown dtype.
#[no_mangle]
pub unsafe extern "C" fn ad_full_like(array: *const ad_array, value: f64, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, {
        let dtype = arg!(dtype dtype)?;
        ops::full_like(&arg!(handle array)?, value, dtype)
    })
}

/// Creates the 1-d array of `num` evenly spaced values from `start` to `stop`, `stop`
/// included when `endpoint` (MXNet's `linspace`): value i is `start + i * step`, computed in
/// double and rounded to `dtype`, with `step = (stop - start) / (num - 1)`, or `/ num`
/// without `endpoint`. `start` and `stop` must be finite (`AD_ERR_INVALID_ARGUMENT`).
#[no_mangle]
pub unsafe extern "C" fn ad_array_linspace(start: f64, stop: f64, num: usize, endpoint: bool, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::linspace(start, stop, num, endpoint, arg!(dtype dtype)?))
}

/// Creates the (n, m) matrix with ones on diagonal `k` (0 the main diagonal, positive above
/// it, negative below) and zeros elsewhere (MXNet's `eye`); `m` = 0 makes it (n, n).
#[no_mangle]
pub unsafe extern "C" fn ad_array_eye(n: usize, m: usize, k: i64, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::eye(n, m, k, arg!(dtype dtype)?))
}

/// `a` without its axes of length 1 that `axes` names (`naxes` entries, negative counting
/// from the end); `naxes` = 0 removes every axis of length 1. With no axis left the result
/// has shape (1,), as in MXNet. An axis of another length, or named twice, is `AD_ERR_SHAPE`.
#[no_mangle]
pub unsafe extern "C" fn ad_squeeze(a: *const ad_array, axes: *const i64, naxes: usize, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::squeeze(&arg!(handle a)?, arg!(axes axes, naxes)?))
}

/// `a` with a new axis of length 1 at position `axis`, from -(ndim + 1) to ndim.
#[no_mangle]
pub unsafe extern "C" fn ad_expand_dims(a: *const ad_array, axis: i64, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::expand_dims(&arg!(handle a)?, axis))
}

/// `a` cut along `axis` into `num_outputs` parts of equal length (MXNet's `split`), written
/// to `outs[0..num_outputs]`, each a new handle the caller frees. With `squeeze_axis` the
/// parts lose the cut axis, whose length must then be `num_outputs`. A length that
/// `num_outputs` does not divide is `AD_ERR_SHAPE` (an axis of length 0 makes one part);
/// `num_outputs` = 0 is `AD_ERR_INVALID_ARGUMENT`. On failure nothing is written to `outs`.
#[no_mangle]
pub unsafe extern "C" fn ad_split(a: *const ad_array, num_outputs: usize, axis: i64, squeeze_axis: bool, outs: *mut *mut ad_array) -> ad_status {
    ffi_boundary!({
        let outs = arg!(out_slice outs, num_outputs)?;
        outs.put_all(ops::split(&arg!(handle a)?, num_outputs, axis, squeeze_axis)?)
    })
}

/// `a` with its elements in reverse order along each of the `naxes` axes in `axes` (MXNet's
/// `flip` and `reverse`; negative axes count from the end, and an axis named twice is
/// reversed twice).
#[no_mangle]
pub unsafe extern "C" fn ad_flip(a: *const ad_array, axes: *const i64, naxes: usize, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::flip(&arg!(handle a)?, arg!(axes axes, naxes)?))
}

/// `a` repeated `reps[i]` times along axis i (NumPy's and MXNet's `tile`; `nreps` entries):
/// the shorter of `a`'s shape and `reps` is padded with leading 1s.
#[no_mangle]
pub unsafe extern "C" fn ad_tile(a: *const ad_array, reps: *const usize, nreps: usize, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::tile(&arg!(handle a)?, arg!(slice reps, nreps)?))
}

/// Each element of `a` repeated `repeats` times along `*axis` (MXNet's `repeat`), or along
/// the flattened array when `axis` is NULL.
#[no_mangle]
pub unsafe extern "C" fn ad_repeat(a: *const ad_array, repeats: usize, axis: *const i64, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::repeat(&arg!(handle a)?, repeats, arg!(value? axis)))
}

/// `a` with axes `dim1` and `dim2` exchanged.
#[no_mangle]
pub unsafe extern "C" fn ad_swapaxes(a: *const ad_array, dim1: i64, dim2: i64, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::swapaxes(&arg!(handle a)?, dim1, dim2))
}

/// `a` with the axes `source` (`nsource` entries) moved to the positions `destination`
/// (`ndestination` entries, as many) and the other axes in their order (MXNet's `moveaxis`).
/// An axis out of range or named twice is `AD_ERR_SHAPE`; lists of different lengths are
/// `AD_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn ad_moveaxis(
    a: *const ad_array,
    source: *const i64,
    nsource: usize,
    destination: *const i64,
    ndestination: usize,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, ops::moveaxis(&arg!(handle a)?, arg!(axes source, nsource)?, arg!(axes destination, ndestination)?))
}

/// `a` broadcast to the shape of `like` (MXNet's `broadcast_like`). With no axes (`nlhs` =
/// `nrhs` = 0) the two must have as many axes, each of `a`'s of length 1 or `like`'s; else
/// axis `lhs_axes[i]` of `a`, which must have length 1, takes the length of axis `rhs_axes[i]`
/// of `like` (`nlhs` = `nrhs` entries).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ad_broadcast_like(
    a: *const ad_array,
    like: *const ad_array,
    lhs_axes: *const i64,
    nlhs: usize,
    rhs_axes: *const i64,
    nrhs: usize,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, ops::broadcast_like(&arg!(handle a)?, &arg!(handle like)?, arg!(axes lhs_axes, nlhs)?, arg!(axes rhs_axes, nrhs)?))
}

/// `lhs` reshaped like `rhs` (MXNet's `reshape_like`): to `rhs`'s shape when all four bounds
/// are NULL; otherwise the axes `*lhs_begin` to `*lhs_end` (exclusive) of `lhs` are replaced by
/// the axes `*rhs_begin` to `*rhs_end` of `rhs`, a NULL begin meaning 0 and a NULL end the
/// number of axes, negative values counting from the end. A range that is empty or out of
/// bounds, or a shape of another element count, is `AD_ERR_SHAPE`.
#[no_mangle]
pub unsafe extern "C" fn ad_reshape_like(
    lhs: *const ad_array,
    rhs: *const ad_array,
    lhs_begin: *const i64,
    lhs_end: *const i64,
    rhs_begin: *const i64,
    rhs_end: *const i64,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(
        out,
        ops::reshape_like(&arg!(handle lhs)?, &arg!(handle rhs)?, arg!(value? lhs_begin), arg!(value? lhs_end), arg!(value? rhs_begin), arg!(value? rhs_end))
    )
}

/// `array` with a new shape given by MXNet's reshape codes (`ndim` entries), sharing its data
/// as `ad_array_reshape` does. Read from the left (from the right with `reverse`), a size
/// d > 0 is an axis of length d; 0 copies the next axis of `array`; -1 is inferred from the
/// element count (at most one); -2 copies all the remaining axes; -3 merges the next two
/// axes into one; -4 followed by two codes d1, d2 (one may be -1) splits the next axis into
/// two. A code that does not fit the shape is `AD_ERR_SHAPE`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_reshape_codes(array: *const ad_array, shape: *const i64, ndim: usize, reverse: bool, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::reshape_codes(&arg!(handle array)?, arg!(slice shape, ndim)?, reverse))
}

/// MXNet's `take`: the slices of `a` along `axis` at the positions `indices` holds (whole
/// numbers of either float dtype; a fraction is truncated towards zero, as MXNet does).
/// The result has `a`'s shape with `axis` replaced by `indices`'s shape. A position outside
/// the axis is handled by `mode`, an `ad_index_mode`; NaN is always `AD_ERR_INDEX`, and so is
/// an infinity but with `AD_INDEX_CLIP`. The gradient flows to `a`, each slice's gradient
/// added back at its position.
#[no_mangle]
pub unsafe extern "C" fn ad_take(a: *const ad_array, indices: *const ad_array, axis: i64, mode: u32, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, {
        let mode = index_mode(mode, "mode")?;
        ops::take(&arg!(handle a)?, &arg!(handle indices)?, axis, mode)
    })
}

/// Writes `src` into `array` in place at the row-major positions `indices` holds (NumPy's
/// `put`; assignment through arrays of positions, `x[[0, 2]] = v`): `src` is broadcast to
/// `indices`'s shape and converted to `array`'s dtype; where a position repeats, the value
/// written last stays. A position that is not below `array`'s size is `AD_ERR_INDEX`, and
/// nothing is written. Everything sharing `array`'s data sees the change. Inside a record
/// scope, writing into an array that is in the graph is `AD_ERR_AUTOGRAD`. The handles stay
/// the caller's.
#[no_mangle]
pub unsafe extern "C" fn ad_array_put(array: *mut ad_array, indices: *const ad_array, src: *const ad_array) -> ad_status {
    ffi_boundary!({
        let (dst, indices, src) = (arg!(handle array)?, arg!(handle indices)?, arg!(handle src)?);
        Ok(ops::put(&dst, &indices, &src)?)
    })
}

/// `ad_pick` with MXNet's `mode` for positions outside the axis (an `ad_index_mode`):
/// `AD_INDEX_RAISE` is `ad_pick` itself; with `AD_INDEX_CLIP` and `AD_INDEX_WRAP` each
/// position is truncated towards zero, as MXNet does, then clipped to the axis or wrapped
/// around it.
#[no_mangle]
pub unsafe extern "C" fn ad_pick_mode(
    a: *const ad_array,
    index: *const ad_array,
    axis: i64,
    keepdims: bool,
    mode: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, {
        let mode = index_mode(mode, "mode")?;
        ops::pick_mode(&arg!(handle a)?, &arg!(handle index)?, axis, keepdims, mode)
    })
}
