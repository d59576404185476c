//! The array ops. Every op returns a new handle in `*out` that the caller frees with
//! `ad_array_free`; its inputs are borrowed for the call only. Inside a record scope an op
//! whose inputs are in the graph is recorded for backward.

use super::ad_status;
use super::engine::ops;
use super::handles::ad_array;

/// `a + b`, element-wise with NumPy broadcasting.
#[no_mangle]
pub unsafe extern "C" fn ad_add(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary!(ops::add, a, b, out)
}

/// `a - b`, element-wise with NumPy broadcasting.
#[no_mangle]
pub unsafe extern "C" fn ad_sub(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary!(ops::sub, a, b, out)
}

/// `a * b`, element-wise with NumPy broadcasting.
#[no_mangle]
pub unsafe extern "C" fn ad_mul(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary!(ops::mul, a, b, out)
}

/// `a / b`, element-wise with NumPy broadcasting.
#[no_mangle]
pub unsafe extern "C" fn ad_div(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary!(ops::div, a, b, out)
}

/// `a ** b`, element-wise with NumPy broadcasting.
#[no_mangle]
pub unsafe extern "C" fn ad_pow(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary!(ops::pow, a, b, out)
}

/// Element-wise maximum with NumPy broadcasting; NaN propagates; on ties the gradient goes to `a`.
#[no_mangle]
pub unsafe extern "C" fn ad_maximum(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary!(ops::maximum, a, b, out)
}

/// Element-wise minimum with NumPy broadcasting; NaN propagates; on ties the gradient goes to `a`.
#[no_mangle]
pub unsafe extern "C" fn ad_minimum(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary!(ops::minimum, a, b, out)
}

/// `a + s`.
#[no_mangle]
pub unsafe extern "C" fn ad_add_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar!(ops::add_scalar, a, s, out)
}

/// `a - s`.
#[no_mangle]
pub unsafe extern "C" fn ad_sub_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar!(ops::sub_scalar, a, s, out)
}

/// `s - a`.
#[no_mangle]
pub unsafe extern "C" fn ad_rsub_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar!(|a, s| ops::rsub_scalar(s, a), a, s, out)
}

/// `a * s` (and `s * a`).
#[no_mangle]
pub unsafe extern "C" fn ad_mul_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar!(ops::mul_scalar, a, s, out)
}

/// `a / s`.
#[no_mangle]
pub unsafe extern "C" fn ad_div_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar!(ops::div_scalar, a, s, out)
}

/// `s / a`.
#[no_mangle]
pub unsafe extern "C" fn ad_rdiv_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar!(|a, s| ops::rdiv_scalar(s, a), a, s, out)
}

/// `a ** s`.
#[no_mangle]
pub unsafe extern "C" fn ad_pow_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar!(ops::pow_scalar, a, s, out)
}

/// `s ** a`.
#[no_mangle]
pub unsafe extern "C" fn ad_rpow_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar!(|a, s| ops::rpow_scalar(s, a), a, s, out)
}

/// Element-wise `max(a, s)`.
#[no_mangle]
pub unsafe extern "C" fn ad_maximum_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar!(ops::maximum_scalar, a, s, out)
}

/// Element-wise `min(a, s)`.
#[no_mangle]
pub unsafe extern "C" fn ad_minimum_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar!(ops::minimum_scalar, a, s, out)
}

/// `-a`.
#[no_mangle]
pub unsafe extern "C" fn ad_neg(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::neg, a, out)
}

/// `e ** a`.
#[no_mangle]
pub unsafe extern "C" fn ad_exp(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::exp, a, out)
}

/// Natural logarithm.
#[no_mangle]
pub unsafe extern "C" fn ad_log(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::log, a, out)
}

/// Square root.
#[no_mangle]
pub unsafe extern "C" fn ad_sqrt(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::sqrt, a, out)
}

/// Absolute value (gradient: the sign, 0 at 0).
#[no_mangle]
pub unsafe extern "C" fn ad_abs(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::abs, a, out)
}

/// `a * a`.
#[no_mangle]
pub unsafe extern "C" fn ad_square(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::square, a, out)
}

/// `max(a, 0)` (gradient 0 at 0).
#[no_mangle]
pub unsafe extern "C" fn ad_relu(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::relu, a, out)
}

/// `1 / (1 + e ** -a)`.
#[no_mangle]
pub unsafe extern "C" fn ad_sigmoid(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::sigmoid, a, out)
}

/// Hyperbolic tangent.
#[no_mangle]
pub unsafe extern "C" fn ad_tanh(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::tanh, a, out)
}

/// 1 where `a <op> b` holds and 0 elsewhere (`op` an `ad_cmp` value), in the operands' dtype,
/// with NumPy broadcasting. Never recorded: no gradient flows through a comparison.
#[no_mangle]
pub unsafe extern "C" fn ad_compare(a: *const ad_array, b: *const ad_array, op: u32, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, {
        let op = arg!(cmp op)?;
        ops::compare(&arg!(handle a)?, &arg!(handle b)?, op)
    })
}

/// 1 where `a <op> s` holds and 0 elsewhere (`op` an `ad_cmp` value), in `a`'s dtype.
/// For `s <op> a`, swap the operator (`s < a` is `a > s`). Never recorded.
#[no_mangle]
pub unsafe extern "C" fn ad_compare_scalar(a: *const ad_array, s: f64, op: u32, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, {
        let op = arg!(cmp op)?;
        ops::compare_scalar(&arg!(handle a)?, s, op)
    })
}

/// MXNet's `nd.dot`: the matrix product of 1-d and 2-d arrays, `a` transposed when
/// `transpose_a` and `b` when `transpose_b` (without copying either). A 1-d `a` is a row
/// vector, a 1-d `b` a column vector; two 1-d arrays give shape (1,). When either has more
/// than 2 axes, the sum product over `a`'s last axis and `b`'s first, of shape
/// `a.shape[:-1] + b.shape[1:]`; `transpose_a` contracts `a`'s first axis instead (its other
/// axes in order), `transpose_b` `b`'s last. Sizes that do not match are `AD_ERR_SHAPE`.
#[no_mangle]
pub unsafe extern "C" fn ad_dot(a: *const ad_array, b: *const ad_array, transpose_a: bool, transpose_b: bool, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::dot(&arg!(handle a)?, &arg!(handle b)?, transpose_a, transpose_b))
}

/// MXNet's `nd.batch_dot`: for `a` and `b` of 3 axes or more with the same leading axes (the
/// batch), the matrix product of each pair of matrices on their last two axes, `a`'s
/// transposed when `transpose_a` and `b`'s when `transpose_b`: (..., m, k) · (..., k, n) gives
/// (..., m, n). Other shapes are `AD_ERR_SHAPE`; operands of different dtypes `AD_ERR_DTYPE`.
#[no_mangle]
pub unsafe extern "C" fn ad_batch_dot(a: *const ad_array, b: *const ad_array, transpose_a: bool, transpose_b: bool, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::batch_dot(&arg!(handle a)?, &arg!(handle b)?, transpose_a, transpose_b))
}

/// Sum over the `naxes` axes in `axes` (negative counting from the end); `naxes` = 0 sums
/// over all. Without `keepdims` the axes are removed, and a sum over all axes has shape (1,)
/// as in MXNet.
#[no_mangle]
pub unsafe extern "C" fn ad_sum(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduction!(ops::sum, a, axes, naxes, keepdims, out)
}

/// Mean over the given axes (all when `naxes` = 0); shapes as `ad_sum`.
#[no_mangle]
pub unsafe extern "C" fn ad_mean(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduction!(ops::mean, a, axes, naxes, keepdims, out)
}

/// L2 norm over the given axes (all when `naxes` = 0); shapes as `ad_sum`. Its gradient
/// `a / norm` is taken as 0 where the norm is 0.
#[no_mangle]
pub unsafe extern "C" fn ad_norm(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduction!(ops::norm, a, axes, naxes, keepdims, out)
}

/// Maximum over the given axes (all when `naxes` = 0); shapes as `ad_sum`. NaN propagates;
/// the gradient goes to every element equal to the maximum. A zero-size axis is `AD_ERR_SHAPE`.
#[no_mangle]
pub unsafe extern "C" fn ad_max(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduction!(ops::max, a, axes, naxes, keepdims, out)
}

/// Minimum over the given axes (all when `naxes` = 0); as `ad_max`.
#[no_mangle]
pub unsafe extern "C" fn ad_min(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduction!(ops::min, a, axes, naxes, keepdims, out)
}

/// Product over the given axes (all when `naxes` = 0; 1 over none); shapes as `ad_sum`. The
/// gradient of an element is the product of the others in its group, also where elements
/// are 0.
#[no_mangle]
pub unsafe extern "C" fn ad_prod(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduction!(ops::prod, a, axes, naxes, keepdims, out)
}

/// Sum over the given axes with NaN counted as 0; shapes as `ad_sum`. The gradient is 0 at
/// NaN elements.
#[no_mangle]
pub unsafe extern "C" fn ad_nansum(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduction!(ops::nansum, a, axes, naxes, keepdims, out)
}

/// Product over the given axes with NaN counted as 1; as `ad_prod`, with gradient 0 at NaN
/// elements.
#[no_mangle]
pub unsafe extern "C" fn ad_nanprod(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduction!(ops::nanprod, a, axes, naxes, keepdims, out)
}

/// L1 norm (the sum of absolute values) over the given axes (all when `naxes` = 0); shapes as
/// `ad_sum`. The gradient is the sign of each element, 0 at 0.
#[no_mangle]
pub unsafe extern "C" fn ad_norm1(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduction!(ops::norm1, a, axes, naxes, keepdims, out)
}

/// Running sums along `*axis` (negative counting from the end), or along the flattened array
/// when `axis` is NULL (then of shape (size,)), as NumPy's `cumsum`. The result has `a`'s
/// shape and dtype. An axis out of range is `AD_ERR_SHAPE`.
#[no_mangle]
pub unsafe extern "C" fn ad_cumsum(a: *const ad_array, axis: *const i64, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::cumsum(&arg!(handle a)?, arg!(value? axis)))
}
