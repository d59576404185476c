//! The exports of the element-wise ops of `ops::elementwise`'s table: each returns a new
//! handle in `*out`, of `a`'s shape and dtype, that the caller frees with `ad_array_free`; `a`
//! is borrowed for the call. Inside a record scope they are recorded for backward (the
//! piecewise-constant ones with a zero gradient).

use super::ad_status;
use super::engine::ops;
use super::handles::ad_array;

/// Sine.
#[no_mangle]
pub unsafe extern "C" fn ad_sin(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::sin, a, out)
}

/// Cosine.
#[no_mangle]
pub unsafe extern "C" fn ad_cos(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::cos, a, out)
}

/// Tangent; its derivative is 1 + tan².
#[no_mangle]
pub unsafe extern "C" fn ad_tan(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::tan, a, out)
}

/// Inverse sine.
#[no_mangle]
pub unsafe extern "C" fn ad_arcsin(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::arcsin, a, out)
}

/// Inverse cosine.
#[no_mangle]
pub unsafe extern "C" fn ad_arccos(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::arccos, a, out)
}

/// Inverse tangent.
#[no_mangle]
pub unsafe extern "C" fn ad_arctan(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::arctan, a, out)
}

/// Hyperbolic sine.
#[no_mangle]
pub unsafe extern "C" fn ad_sinh(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::sinh, a, out)
}

/// Hyperbolic cosine.
#[no_mangle]
pub unsafe extern "C" fn ad_cosh(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::cosh, a, out)
}

/// Inverse hyperbolic sine.
#[no_mangle]
pub unsafe extern "C" fn ad_arcsinh(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::arcsinh, a, out)
}

/// Inverse hyperbolic cosine.
#[no_mangle]
pub unsafe extern "C" fn ad_arccosh(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::arccosh, a, out)
}

/// Inverse hyperbolic tangent.
#[no_mangle]
pub unsafe extern "C" fn ad_arctanh(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::arctanh, a, out)
}

/// Logarithm to base 2.
#[no_mangle]
pub unsafe extern "C" fn ad_log2(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::log2, a, out)
}

/// Logarithm to base 10.
#[no_mangle]
pub unsafe extern "C" fn ad_log10(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::log10, a, out)
}

/// ln(1 + x), accurate for small x.
#[no_mangle]
pub unsafe extern "C" fn ad_log1p(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::log1p, a, out)
}

/// eˣ - 1, accurate for small x.
#[no_mangle]
pub unsafe extern "C" fn ad_expm1(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::expm1, a, out)
}

/// Cube root; its derivative is 1 / (3 ∛x²).
#[no_mangle]
pub unsafe extern "C" fn ad_cbrt(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::cbrt, a, out)
}

/// 1 / ∛x; its derivative is -y / (3x).
#[no_mangle]
pub unsafe extern "C" fn ad_rcbrt(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::rcbrt, a, out)
}

/// 1 / √x; its derivative is -y³ / 2.
#[no_mangle]
pub unsafe extern "C" fn ad_rsqrt(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::rsqrt, a, out)
}

/// 1 / x; its derivative is -y².
#[no_mangle]
pub unsafe extern "C" fn ad_reciprocal(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::reciprocal, a, out)
}

/// Degrees to radians.
#[no_mangle]
pub unsafe extern "C" fn ad_radians(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::radians, a, out)
}

/// Radians to degrees.
#[no_mangle]
pub unsafe extern "C" fn ad_degrees(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::degrees, a, out)
}

/// The error function.
#[no_mangle]
pub unsafe extern "C" fn ad_erf(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::erf, a, out)
}

/// The gamma function; its derivative is Γ(x) ψ(x).
#[no_mangle]
pub unsafe extern "C" fn ad_gamma(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::gamma, a, out)
}

/// ln |Γ(x)|; its derivative is ψ(x).
#[no_mangle]
pub unsafe extern "C" fn ad_gammaln(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::gammaln, a, out)
}

/// -1, 0 or 1 by the sign of the element; NaN stays NaN (zero gradient).
#[no_mangle]
pub unsafe extern "C" fn ad_sign(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::sign, a, out)
}

/// The largest whole number not above x (zero gradient).
#[no_mangle]
pub unsafe extern "C" fn ad_floor(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::floor, a, out)
}

/// The smallest whole number not below x (zero gradient).
#[no_mangle]
pub unsafe extern "C" fn ad_ceil(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::ceil, a, out)
}

/// The nearest whole number, halves away from zero (zero gradient).
#[no_mangle]
pub unsafe extern "C" fn ad_round(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::round, a, out)
}

/// The nearest whole number, halves to even (zero gradient).
#[no_mangle]
pub unsafe extern "C" fn ad_rint(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::rint, a, out)
}

/// x without its fraction, towards zero (zero gradient).
#[no_mangle]
pub unsafe extern "C" fn ad_trunc(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::trunc, a, out)
}

/// x rounded towards zero, as `trunc` (MXNet's name; zero gradient).
#[no_mangle]
pub unsafe extern "C" fn ad_fix(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::fix, a, out)
}

/// 1 where the element is NaN, else 0 (zero gradient).
#[no_mangle]
pub unsafe extern "C" fn ad_isnan(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::isnan, a, out)
}

/// 1 where the element is infinite, else 0 (zero gradient).
#[no_mangle]
pub unsafe extern "C" fn ad_isinf(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::isinf, a, out)
}

/// 1 where the element is finite, else 0 (zero gradient).
#[no_mangle]
pub unsafe extern "C" fn ad_isfinite(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::isfinite, a, out)
}
