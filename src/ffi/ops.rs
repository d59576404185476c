//! The array ops. Every op returns a new handle in `*out` that the caller frees with
//! `ad_array_free`; its inputs are borrowed for the call only. Inside a record scope an op
//! whose inputs are in the graph is recorded for backward.

use super::arrays::put;
use super::handles::{self, ad_array};
use super::{ad_status, boundary, out_arg, slice_arg, FfiError, FfiResult};
use crate::NdArray;
use crate::error::Result;
use crate::ops::{self, Cmp};

// The helpers below are generic over the op, not given a function pointer: each exported
// function then calls its op directly, and the op's result (a few words of array) is built
// in place instead of being passed back through memory by an indirect call.

#[inline(always)]
unsafe fn unary(name: &str, a: *const ad_array, out: *mut *mut ad_array, f: impl FnOnce(&NdArray) -> Result<NdArray>) -> ad_status {
    boundary(name, || {
        let out = out_arg(out, "out")?;
        put(out, f(&handles::get(a, "a")?)?)
    })
}

#[inline(always)]
unsafe fn binary(
    name: &str,
    a: *const ad_array,
    b: *const ad_array,
    out: *mut *mut ad_array,
    f: impl FnOnce(&NdArray, &NdArray) -> Result<NdArray>,
) -> ad_status {
    boundary(name, || {
        let out = out_arg(out, "out")?;
        put(out, f(&handles::get(a, "a")?, &handles::get(b, "b")?)?)
    })
}

#[inline(always)]
unsafe fn scalar(
    name: &str,
    a: *const ad_array,
    s: f64,
    out: *mut *mut ad_array,
    f: impl FnOnce(&NdArray, f64) -> Result<NdArray>,
) -> ad_status {
    boundary(name, || {
        let out = out_arg(out, "out")?;
        put(out, f(&handles::get(a, "a")?, s)?)
    })
}

fn cmp_arg(code: u32) -> FfiResult<Cmp> {
    Cmp::from_code(code).ok_or_else(|| {
        FfiError::new(ad_status::AD_ERR_INVALID_ARGUMENT, format!("argument `op`: {} is not an ad_cmp value (0 to 5)", code))
    })
}

type Reduce = fn(&NdArray, &[i64], bool) -> Result<NdArray>;

unsafe fn reduce(name: &str, a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array, f: Reduce) -> ad_status {
    boundary(name, || {
        let out = out_arg(out, "out")?;
        let a = handles::get(a, "a")?;
        put(out, f(&a, slice_arg(axes, naxes, "axes")?, keepdims)?)
    })
}

/// `a + b`, element-wise with NumPy broadcasting.
#[no_mangle]
pub unsafe extern "C" fn ad_add(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary("ad_add", a, b, out, ops::add)
}

/// `a - b`, element-wise with NumPy broadcasting.
#[no_mangle]
pub unsafe extern "C" fn ad_sub(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary("ad_sub", a, b, out, ops::sub)
}

/// `a * b`, element-wise with NumPy broadcasting.
#[no_mangle]
pub unsafe extern "C" fn ad_mul(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary("ad_mul", a, b, out, ops::mul)
}

/// `a / b`, element-wise with NumPy broadcasting.
#[no_mangle]
pub unsafe extern "C" fn ad_div(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary("ad_div", a, b, out, ops::div)
}

/// `a ** b`, element-wise with NumPy broadcasting.
#[no_mangle]
pub unsafe extern "C" fn ad_pow(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary("ad_pow", a, b, out, ops::pow)
}

/// Element-wise maximum with NumPy broadcasting; NaN propagates; on ties the gradient goes to `a`.
#[no_mangle]
pub unsafe extern "C" fn ad_maximum(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary("ad_maximum", a, b, out, ops::maximum)
}

/// Element-wise minimum with NumPy broadcasting; NaN propagates; on ties the gradient goes to `a`.
#[no_mangle]
pub unsafe extern "C" fn ad_minimum(a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    binary("ad_minimum", a, b, out, ops::minimum)
}

/// `a + s`.
#[no_mangle]
pub unsafe extern "C" fn ad_add_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar("ad_add_scalar", a, s, out, ops::add_scalar)
}

/// `a - s`.
#[no_mangle]
pub unsafe extern "C" fn ad_sub_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar("ad_sub_scalar", a, s, out, ops::sub_scalar)
}

/// `s - a`.
#[no_mangle]
pub unsafe extern "C" fn ad_rsub_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar("ad_rsub_scalar", a, s, out, |a, s| ops::rsub_scalar(s, a))
}

/// `a * s` (and `s * a`).
#[no_mangle]
pub unsafe extern "C" fn ad_mul_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar("ad_mul_scalar", a, s, out, ops::mul_scalar)
}

/// `a / s`.
#[no_mangle]
pub unsafe extern "C" fn ad_div_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar("ad_div_scalar", a, s, out, ops::div_scalar)
}

/// `s / a`.
#[no_mangle]
pub unsafe extern "C" fn ad_rdiv_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar("ad_rdiv_scalar", a, s, out, |a, s| ops::rdiv_scalar(s, a))
}

/// `a ** s`.
#[no_mangle]
pub unsafe extern "C" fn ad_pow_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar("ad_pow_scalar", a, s, out, ops::pow_scalar)
}

/// `s ** a`.
#[no_mangle]
pub unsafe extern "C" fn ad_rpow_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar("ad_rpow_scalar", a, s, out, |a, s| ops::rpow_scalar(s, a))
}

/// Element-wise `max(a, s)`.
#[no_mangle]
pub unsafe extern "C" fn ad_maximum_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar("ad_maximum_scalar", a, s, out, ops::maximum_scalar)
}

/// Element-wise `min(a, s)`.
#[no_mangle]
pub unsafe extern "C" fn ad_minimum_scalar(a: *const ad_array, s: f64, out: *mut *mut ad_array) -> ad_status {
    scalar("ad_minimum_scalar", a, s, out, ops::minimum_scalar)
}

/// `-a`.
#[no_mangle]
pub unsafe extern "C" fn ad_neg(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary("ad_neg", a, out, ops::neg)
}

/// `e ** a`.
#[no_mangle]
pub unsafe extern "C" fn ad_exp(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary("ad_exp", a, out, ops::exp)
}

/// Natural logarithm.
#[no_mangle]
pub unsafe extern "C" fn ad_log(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary("ad_log", a, out, ops::log)
}

/// Square root.
#[no_mangle]
pub unsafe extern "C" fn ad_sqrt(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary("ad_sqrt", a, out, ops::sqrt)
}

/// Absolute value (gradient: the sign, 0 at 0).
#[no_mangle]
pub unsafe extern "C" fn ad_abs(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary("ad_abs", a, out, ops::abs)
}

/// `a * a`.
#[no_mangle]
pub unsafe extern "C" fn ad_square(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary("ad_square", a, out, ops::square)
}

/// `max(a, 0)` (gradient 0 at 0).
#[no_mangle]
pub unsafe extern "C" fn ad_relu(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary("ad_relu", a, out, ops::relu)
}

/// `1 / (1 + e ** -a)`.
#[no_mangle]
pub unsafe extern "C" fn ad_sigmoid(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary("ad_sigmoid", a, out, ops::sigmoid)
}

/// Hyperbolic tangent.
#[no_mangle]
pub unsafe extern "C" fn ad_tanh(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary("ad_tanh", a, out, ops::tanh)
}

/// 1 where `a <op> b` holds and 0 elsewhere (`op` an `ad_cmp` value), in the operands' dtype,
/// with NumPy broadcasting. Never recorded: no gradient flows through a comparison.
#[no_mangle]
pub unsafe extern "C" fn ad_compare(a: *const ad_array, b: *const ad_array, op: u32, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_compare", || {
        let out = out_arg(out, "out")?;
        let op = cmp_arg(op)?;
        put(out, ops::compare(&handles::get(a, "a")?, &handles::get(b, "b")?, op)?)
    })
}

/// 1 where `a <op> s` holds and 0 elsewhere (`op` an `ad_cmp` value), in `a`'s dtype.
/// For `s <op> a`, swap the operator (`s < a` is `a > s`). Never recorded.
#[no_mangle]
pub unsafe extern "C" fn ad_compare_scalar(a: *const ad_array, s: f64, op: u32, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_compare_scalar", || {
        let out = out_arg(out, "out")?;
        let op = cmp_arg(op)?;
        put(out, ops::compare_scalar(&handles::get(a, "a")?, s, op)?)
    })
}

/// MXNet's `nd.dot`: the matrix product of 1-d and 2-d arrays, `a` transposed when
/// `transpose_a` and `b` when `transpose_b` (without copying either). A 1-d `a` is a row
/// vector, a 1-d `b` a column vector; two 1-d arrays give shape (1,).
#[no_mangle]
pub unsafe extern "C" fn ad_dot(a: *const ad_array, b: *const ad_array, transpose_a: bool, transpose_b: bool, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_dot", || {
        let out = out_arg(out, "out")?;
        put(out, ops::dot(&handles::get(a, "a")?, &handles::get(b, "b")?, transpose_a, transpose_b)?)
    })
}

/// Sum over the `naxes` axes in `axes` (negative counting from the end); `naxes` = 0 sums
/// over all. Without `keepdims` the axes are removed, and a sum over all axes has shape (1,)
/// as in MXNet.
#[no_mangle]
pub unsafe extern "C" fn ad_sum(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduce("ad_sum", a, axes, naxes, keepdims, out, ops::sum)
}

/// Mean over the given axes (all when `naxes` = 0); shapes as `ad_sum`.
#[no_mangle]
pub unsafe extern "C" fn ad_mean(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduce("ad_mean", a, axes, naxes, keepdims, out, ops::mean)
}

/// L2 norm over the given axes (all when `naxes` = 0); shapes as `ad_sum`. Its gradient
/// `a / norm` is taken as 0 where the norm is 0.
#[no_mangle]
pub unsafe extern "C" fn ad_norm(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduce("ad_norm", a, axes, naxes, keepdims, out, ops::norm)
}

/// Maximum over the given axes (all when `naxes` = 0); shapes as `ad_sum`. NaN propagates;
/// the gradient goes to every element equal to the maximum. A zero-size axis is `AD_ERR_SHAPE`.
#[no_mangle]
pub unsafe extern "C" fn ad_max(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduce("ad_max", a, axes, naxes, keepdims, out, ops::max)
}

/// Minimum over the given axes (all when `naxes` = 0); as `ad_max`.
#[no_mangle]
pub unsafe extern "C" fn ad_min(a: *const ad_array, axes: *const i64, naxes: usize, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    reduce("ad_min", a, axes, naxes, keepdims, out, ops::min)
}
