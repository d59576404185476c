//! The table of one-input element-wise ops: each row is an op's kernel (the function of one
//! element, for either element type), what its vector-Jacobian product keeps, and the product
//! itself, written with differentiable ops so that every op here is differentiable again.
//! A piecewise-constant op (floor, sign, ...) has a zero gradient: it is recorded, so that
//! `backward` through it gives zeros, as in MXNet.
//!
//! Adding an op is a row here, its export in the C API (`ffi/ops.rs`) and its row in the
//! Python package's op table; the header, the Python signatures and the test lists follow.

use std::f64::consts::{LN_10, LN_2, PI};

use super::kernel::{map_fn, ElementFn};
use super::{add_scalar, div, exp, mul, mul_scalar, neg, rsub_scalar, sqrt, square, sub_scalar};
use crate::array::shape::shape_of;
use crate::array::storage::{try_vec, with_slice};
use crate::array::{from_vec, Element};
use crate::cpu::loops::extend_map;
use crate::error::Result;
use crate::tape::{record_elementwise, Save};
use crate::NdArray;

/// Each row: `name(x) = kernel, saves WHAT, grad(v) = Option<input gradient>;`
macro_rules! elementwise {
    ($($(#[doc = $doc:literal])* $name:ident($x:ident) = $kernel:expr, saves $save:ident, grad($v:ident) = $grad:expr;)*) => {$(
        $(#[doc = $doc])*
        pub fn $name(a: &NdArray) -> Result<NdArray> {
            struct Kernel;
            impl ElementFn for Kernel {
                #[inline(always)]
                fn apply<T: Element>($x: T) -> T {
                    $kernel
                }
            }
            let out = map_fn::<Kernel>(a)?;
            Ok(record_elementwise(stringify!($name), &[a], out, Save::$save, |$v| Ok(vec![$grad])))
        }
    )*};
}

/// `f` of the element in float64, rounded to its type: for the functions the C library has
/// only in float64 quality, or only as `f64` functions.
#[inline(always)]
fn via_f64<T: Element>(x: T, f: impl Fn(f64) -> f64) -> T {
    T::of(f(x.as_f64()))
}

#[inline(always)]
fn indicator<T: Element>(b: bool) -> T {
    if b { T::one() } else { T::zero() }
}

elementwise! {
    /// Sine.
    sin(x) = x.sin(), saves INPUTS, grad(v) = Some(mul(v.grad, &cos(v.input(0))?)?);
    /// Cosine.
    cos(x) = x.cos(), saves INPUTS, grad(v) = Some(neg(&mul(v.grad, &sin(v.input(0))?)?)?);
    /// Tangent; its derivative is 1 + tan².
    tan(x) = x.tan(), saves OUTPUT, grad(v) = Some(mul(v.grad, &add_scalar(&square(&v.output())?, 1.0)?)?);
    /// Inverse sine.
    arcsin(x) = x.asin(), saves INPUTS, grad(v) = Some(div(v.grad, &sqrt(&rsub_scalar(1.0, &square(v.input(0))?)?)?)?);
    /// Inverse cosine.
    arccos(x) = x.acos(), saves INPUTS, grad(v) = Some(neg(&div(v.grad, &sqrt(&rsub_scalar(1.0, &square(v.input(0))?)?)?)?)?);
    /// Inverse tangent.
    arctan(x) = x.atan(), saves INPUTS, grad(v) = Some(div(v.grad, &add_scalar(&square(v.input(0))?, 1.0)?)?);
    /// Hyperbolic sine.
    sinh(x) = x.sinh(), saves INPUTS, grad(v) = Some(mul(v.grad, &cosh(v.input(0))?)?);
    /// Hyperbolic cosine.
    cosh(x) = x.cosh(), saves INPUTS, grad(v) = Some(mul(v.grad, &sinh(v.input(0))?)?);
    /// Inverse hyperbolic sine.
    arcsinh(x) = x.asinh(), saves INPUTS, grad(v) = Some(div(v.grad, &sqrt(&add_scalar(&square(v.input(0))?, 1.0)?)?)?);
    /// Inverse hyperbolic cosine.
    arccosh(x) = x.acosh(), saves INPUTS, grad(v) = Some(div(v.grad, &sqrt(&sub_scalar(&square(v.input(0))?, 1.0)?)?)?);
    /// Inverse hyperbolic tangent.
    arctanh(x) = x.atanh(), saves INPUTS, grad(v) = Some(div(v.grad, &rsub_scalar(1.0, &square(v.input(0))?)?)?);
    /// Logarithm to base 2.
    log2(x) = x.log2(), saves INPUTS, grad(v) = Some(div(v.grad, &mul_scalar(v.input(0), LN_2)?)?);
    /// Logarithm to base 10.
    log10(x) = x.log10(), saves INPUTS, grad(v) = Some(div(v.grad, &mul_scalar(v.input(0), LN_10)?)?);
    /// ln(1 + x), accurate for small x.
    log1p(x) = x.ln_1p(), saves INPUTS, grad(v) = Some(div(v.grad, &add_scalar(v.input(0), 1.0)?)?);
    /// eˣ - 1, accurate for small x.
    expm1(x) = x.exp_m1(), saves OUTPUT, grad(v) = Some(mul(v.grad, &add_scalar(&v.output(), 1.0)?)?);
    /// Cube root; its derivative is 1 / (3 ∛x²).
    cbrt(x) = x.cbrt(), saves OUTPUT, grad(v) = Some(div(v.grad, &mul_scalar(&square(&v.output())?, 3.0)?)?);
    /// 1 / ∛x; its derivative is -y / (3x).
    rcbrt(x) = x.cbrt().recip(), saves BOTH, grad(v) = Some(neg(&div(&mul(v.grad, &v.output())?, &mul_scalar(v.input(0), 3.0)?)?)?);
    /// 1 / √x; its derivative is -y³ / 2.
    rsqrt(x) = x.sqrt().recip(), saves OUTPUT, grad(v) = Some(mul(v.grad, &mul_scalar(&mul(&square(&v.output())?, &v.output())?, -0.5)?)?);
    /// 1 / x; its derivative is -y².
    reciprocal(x) = x.recip(), saves OUTPUT, grad(v) = Some(neg(&mul(v.grad, &square(&v.output())?)?)?);
    /// Degrees to radians.
    radians(x) = x.to_radians(), saves NOTHING, grad(v) = Some(mul_scalar(v.grad, PI / 180.0)?);
    /// Radians to degrees.
    degrees(x) = x.to_degrees(), saves NOTHING, grad(v) = Some(mul_scalar(v.grad, 180.0 / PI)?);
    /// The error function.
    erf(x) = via_f64(x, libm::erf), saves INPUTS, grad(v) = Some(mul(v.grad, &mul_scalar(&exp(&neg(&square(v.input(0))?)?)?, 2.0 / PI.sqrt())?)?);
    /// The gamma function; its derivative is Γ(x) ψ(x).
    gamma(x) = via_f64(x, libm::tgamma), saves BOTH, grad(v) = Some(mul(v.grad, &mul(&v.output(), &polygamma(0, v.input(0))?)?)?);
    /// ln |Γ(x)|; its derivative is ψ(x).
    gammaln(x) = via_f64(x, libm::lgamma), saves INPUTS, grad(v) = Some(mul(v.grad, &polygamma(0, v.input(0))?)?);
    /// -1, 0 or 1 by the sign of the element; NaN stays NaN (zero gradient).
    sign(x) = if x > T::zero() { T::one() } else if x < T::zero() { -T::one() } else { x }, saves NOTHING, grad(_v) = None;
    /// The largest whole number not above x (zero gradient).
    floor(x) = x.floor(), saves NOTHING, grad(_v) = None;
    /// The smallest whole number not below x (zero gradient).
    ceil(x) = x.ceil(), saves NOTHING, grad(_v) = None;
    /// The nearest whole number, halves away from zero (zero gradient).
    round(x) = x.round(), saves NOTHING, grad(_v) = None;
    /// The nearest whole number, halves down, as MXNet's rint (1.5 → 1, -0.5 → -1; zero
    /// gradient).
    rint(x) = if x - x.floor() <= T::of(0.5) { x.floor() } else { x.floor() + T::one() }, saves NOTHING, grad(_v) = None;
    /// x without its fraction, towards zero (zero gradient).
    trunc(x) = x.trunc(), saves NOTHING, grad(_v) = None;
    /// x rounded towards zero, as `trunc` (MXNet's name; zero gradient).
    fix(x) = x.trunc(), saves NOTHING, grad(_v) = None;
    /// 1 where the element is NaN, else 0 (zero gradient).
    isnan(x) = indicator(x.is_nan()), saves NOTHING, grad(_v) = None;
    /// 1 where the element is infinite, else 0 (zero gradient).
    isinf(x) = indicator(x.is_infinite()), saves NOTHING, grad(_v) = None;
    /// 1 where the element is finite, else 0 (zero gradient).
    isfinite(x) = indicator(x.is_finite()), saves NOTHING, grad(_v) = None;
}

/// ψ⁽ⁿ⁾(x), the (n+1)th derivative of ln Γ, element-wise (NaN at the poles); its gradient is
/// ψ⁽ⁿ⁺¹⁾, so gamma and gammaln are differentiable to any order.
pub fn polygamma(n: u32, a: &NdArray) -> Result<NdArray> {
    let out = {
        let guard = a.read();
        with_slice!(&*guard, a.range(), |v: &[T]| {
            let mut out = try_vec(v.len())?;
            extend_map(&mut out, v, |x: T| T::of(super::special::polygamma(n, x.as_f64())));
            Ok::<_, crate::Error>(from_vec(out, shape_of(&a.shape)))
        })?
    };
    Ok(record_elementwise("polygamma", &[a], out, Save::INPUTS, move |v| Ok(vec![Some(mul(v.grad, &polygamma(n + 1, v.input(0))?)?)])))
}
