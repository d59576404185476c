//! Reductions (sum, mean, products, norms, running sums) and broadcasting, which are each
//! other's gradients.
//! As in MXNet's `nd`, a reduction over every axis without keepdims gives shape (1,).

use super::kernel::{self, Cmp, Fold};
use super::{abs, add, compare_scalar, div, div_scalar, isnan, mul, reshape_to, rsub_scalar, sqrt, square, sub, where_};
use crate::array::shape::normalize_axes;
use crate::cpu::loops::{reduce_chunked};
use crate::array::storage::{with_slice};
use crate::array::{fmt_shape, DType, Element};
use crate::NdArray;
use crate::tape::{record, Save};
use crate::error::{bail, Result};

/// The shapes of a reduction of `shape` over `axes`: with the axes kept as 1, and as returned.
fn reduced_shapes(shape: &[usize], axes: &[usize], keepdims: bool) -> (Vec<usize>, Vec<usize>) {
    let kept: Vec<usize> = shape.iter().enumerate().map(|(i, &d)| if axes.contains(&i) { 1 } else { d }).collect();
    let out = if keepdims {
        kept.clone()
    } else {
        let rest: Vec<usize> = shape.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect();
        if rest.is_empty() { vec![1] } else { rest }
    };
    (kept, out)
}

/// Sum over `axes` (every axis when empty; negative axes count from the end).
pub fn sum(a: &NdArray, axes: &[i64], keepdims: bool) -> Result<NdArray> {
    let axes = normalize_axes(axes, a.ndim())?;
    let (kept, out_shape) = reduced_shapes(&a.shape, &axes, keepdims);
    let out = reshape_to(&kernel::reduce_keepdims(a, &axes, Fold::Sum)?.into(), &out_shape)?;
    // The gradient stays unexpanded (it broadcasts to the input's shape): the element-wise
    // ops it flows through next take it as it is, and backward expands it where needed.
    Ok(record("sum", &[a], out, Save::NOTHING, move |v| Ok(vec![Some(reshape_to(v.grad, &kept)?)])))
}

/// Mean over `axes` (every axis when empty).
pub fn mean(a: &NdArray, axes: &[i64], keepdims: bool) -> Result<NdArray> {
    let normalized = normalize_axes(axes, a.ndim())?;
    let count: usize = normalized.iter().map(|&ax| a.shape[ax]).product();
    div_scalar(&sum(a, axes, keepdims)?, count as f64)
}

/// L2 norm over `axes` (every axis when empty). Its gradient `x / norm` is taken as 0 where
/// the norm is 0 (the subgradient), where a plain quotient would give NaN.
pub fn norm(a: &NdArray, axes: &[i64], keepdims: bool) -> Result<NdArray> {
    let normalized = normalize_axes(axes, a.ndim())?;
    let (kept, _) = reduced_shapes(&a.shape, &normalized, keepdims);
    let out = if normalized.len() == a.ndim() && !crate::reference::enabled() {
        // Over every axis (the common case, as in `x.norm()`): one pass, no temporaries,
        // squares summed in f64 so that float32 values past 1e19 do not overflow.
        let squares = {
            let guard = a.read();
            with_slice!(&*guard, a.range(), |v: &[T]| {
                reduce_chunked(v, |p| p.iter().map(|x| x.as_f64() * x.as_f64()).sum::<f64>(), |x, y| x + y)
            })
        };
        let shape = if keepdims { vec![1; a.ndim()] } else { vec![1] };
        NdArray::full(&shape, squares.sqrt(), a.dtype)?
    } else {
        sqrt(&sum(&square(&a.detach())?, axes, keepdims)?)?
    };
    Ok(record("norm", &[a], out, Save::BOTH, move |v| {
        let x = v.input(0);
        let g = broadcast_to(&reshape_to(v.grad, &kept)?, &x.shape)?;
        let n = broadcast_to(&reshape_to(&v.output(), &kept)?, &x.shape)?;
        // Where the norm is 0, x is 0 too, so any positive divisor gives the 0 subgradient;
        // the smallest normal number of the dtype is one that does not round to 0.
        let tiny = match x.dtype {
            DType::F32 => f32::MIN_POSITIVE as f64,
            _ => f64::MIN_POSITIVE,
        };
        let safe = super::maximum_scalar(&n, tiny)?;
        Ok(vec![Some(mul(&g, &div(x, &safe)?)?)])
    }))
}

/// L1 norm over `axes` (every axis when empty): the sum of the absolute values, whose
/// gradient is the sign (0 at 0), as MXNet's `norm(ord=1)`.
pub fn norm1(a: &NdArray, axes: &[i64], keepdims: bool) -> Result<NdArray> {
    sum(&abs(a)?, axes, keepdims)
}

/// Product over `axes` (every axis when empty; 1 over nothing). The gradient of an element
/// is the product of the others in its group, also where elements are 0 (MXNet's `out / x`
/// gives NaN there), and its own gradient is right too, so that second derivatives are.
pub fn prod(a: &NdArray, axes: &[i64], keepdims: bool) -> Result<NdArray> {
    let normalized = normalize_axes(axes, a.ndim())?;
    let (kept, out_shape) = reduced_shapes(&a.shape, &normalized, keepdims);
    let out = reshape_to(&kernel::reduce_keepdims(a, &normalized, Fold::Prod)?.into(), &out_shape)?;
    Ok(record("prod", &[a], out, Save::INPUTS, move |v| {
        let x = v.input(0);
        let g = broadcast_to(&reshape_to(v.grad, &kept)?, &x.shape)?;
        Ok(vec![Some(mul(&g, &prod_of_others(x, &normalized)?)?)])
    }))
}

/// For each element of `x`, the product of the other elements of its group (the elements
/// that share its position outside the sorted, distinct `axes`), written with differentiable
/// ops whose first derivatives are right too (the second derivatives of `prod`). With `z`
/// the zeros and `xs` = `x` with its zeros replaced by 1 (no gradient there), `p` the
/// product of `xs` over the group and `s` the sum of `x` over the group's zeros (0, but with
/// gradient 1 to each zero):
/// no zero: `p / x`; one zero: `p` at the zero and `p / x * s` elsewhere; two zeros: `p * (s
/// - x)` at each zero (the other zero) and 0 elsewhere; more: 0 (as are its derivatives).
fn prod_of_others(x: &NdArray, axes: &[usize]) -> Result<NdArray> {
    let every: Vec<i64> = axes.iter().map(|&ax| ax as i64).collect();
    let z = compare_scalar(&x.detach(), 0.0, Cmp::Eq)?;
    let nz = broadcast_to(&sum(&z, &every, true)?, &x.shape)?;
    let (m0, m1, m2) = (compare_scalar(&nz, 0.0, Cmp::Eq)?, compare_scalar(&nz, 1.0, Cmp::Eq)?, compare_scalar(&nz, 2.0, Cmp::Eq)?);
    let nonzero = rsub_scalar(1.0, &z)?;
    let xs = add(&mul(x, &nonzero)?, &z)?;
    let p = broadcast_to(&prod(&xs, &every, true)?, &x.shape)?;
    let zx = mul(&z, x)?;
    let s = broadcast_to(&sum(&zx, &every, true)?, &x.shape)?;
    // The factor beside p / xs: 1, z + (1 - z) s, z (s - x) or 0 for 0, 1, 2 or more zeros.
    let one_zero = add(&z, &mul(&nonzero, &s)?)?;
    let two_zeros = mul(&z, &sub(&s, x)?)?;
    let factor = add(&add(&m0, &mul(&m1, &one_zero)?)?, &mul(&m2, &two_zeros)?)?;
    mul(&div(&p, &xs)?, &factor)
}

/// Sum over `axes` with NaN counted as 0 (MXNet's `nansum`); the gradient is 0 at NaN.
pub fn nansum(a: &NdArray, axes: &[i64], keepdims: bool) -> Result<NdArray> {
    let nan = isnan(&a.detach())?;
    sum(&where_(&nan, &NdArray::zeros(&a.shape, a.dtype)?, a)?, axes, keepdims)
}

/// Product over `axes` with NaN counted as 1 (MXNet's `nanprod`); the gradient is 0 at NaN.
pub fn nanprod(a: &NdArray, axes: &[i64], keepdims: bool) -> Result<NdArray> {
    let nan = isnan(&a.detach())?;
    prod(&where_(&nan, &NdArray::ones(&a.shape, a.dtype)?, a)?, axes, keepdims)
}

/// Running sums along `axis` (NumPy's `cumsum`; the flattened array's when `axis` is None).
/// The gradient is the running sum of the output gradient from the end.
pub fn cumsum(a: &NdArray, axis: Option<i64>) -> Result<NdArray> {
    let (a, axis) = match axis {
        None => (reshape_to(a, &[a.size()])?, 0),
        Some(axis) => (a.clone(), crate::array::shape::normalize_axis(axis, a.ndim())?),
    };
    let out: NdArray = kernel::cumsum(&a, axis)?.into();
    Ok(record("cumsum", &[&a], out, Save::NOTHING, move |v| {
        let ax = [axis as i64];
        Ok(vec![Some(super::flip(&cumsum(&super::flip(v.grad, &ax)?, Some(axis as i64))?, &ax)?)])
    }))
}

/// Maximum over `axes` (every axis when empty), NaN-propagating. The gradient goes to every
/// element equal to the maximum.
pub fn max(a: &NdArray, axes: &[i64], keepdims: bool) -> Result<NdArray> {
    extremum(a, axes, keepdims, Fold::Max)
}

/// Minimum over `axes` (every axis when empty); gradient as `max`.
pub fn min(a: &NdArray, axes: &[i64], keepdims: bool) -> Result<NdArray> {
    extremum(a, axes, keepdims, Fold::Min)
}

fn extremum(a: &NdArray, axes: &[i64], keepdims: bool, fold: Fold) -> Result<NdArray> {
    let normalized = normalize_axes(axes, a.ndim())?;
    let (kept, out_shape) = reduced_shapes(&a.shape, &normalized, keepdims);
    let out = reshape_to(&kernel::reduce_keepdims(a, &normalized, fold)?.into(), &out_shape)?;
    Ok(record(if fold == Fold::Max { "max" } else { "min" }, &[a], out, Save::BOTH, move |v| {
        let x = v.input(0);
        let g = broadcast_to(&reshape_to(v.grad, &kept)?, &x.shape)?;
        let hit = super::compare(x, &reshape_to(&v.output().detach(), &kept)?, Cmp::Eq)?;
        Ok(vec![Some(mul(&g, &hit)?)])
    }))
}

/// `a` repeated along its length-1 and missing leading axes to `shape` (NumPy's rules).
pub fn broadcast_to(a: &NdArray, shape: &[usize]) -> Result<NdArray> {
    if a.shape[..] == *shape {
        return Ok(a.clone());
    }
    let out = kernel::broadcast_to(a, shape)?;
    Ok(record("broadcast_to", &[a], out, Save::NOTHING, |v| Ok(vec![Some(sum_to(v.grad, v.output_shape(), v.input_shape(0))?)])))
}

/// The gradient of an operand of `shape` that was broadcast to `out`, from `g`, the gradient
/// with respect to `out`: `g` summed over the axes along which the operand was repeated.
/// `g` may itself be left unexpanded (an element-wise op's gradient: any shape that
/// broadcasts to `out`, constant along its length-1 and missing axes). Along a repeated axis
/// where `g` is unexpanded, the sum of its constant value is that value times the axis
/// length; along the others it stays unexpanded, and the result broadcasts to `shape`.
pub fn sum_to(g: &NdArray, out: &[usize], shape: &[usize]) -> Result<NdArray> {
    let dim = |s: &[usize], k: usize| if k + s.len() >= out.len() { s[k + s.len() - out.len()] } else { 1 };
    if g.ndim() > out.len() || shape.len() > out.len() || (0..out.len()).any(|k| {
        let (d, gd, sd) = (out[k], dim(&g.shape, k), dim(shape, k));
        (gd != d && gd != 1) || (sd != d && sd != 1)
    }) {
        bail!(Shape, "cannot reduce a gradient of shape {} for an output of shape {} to shape {}", fmt_shape(&g.shape), fmt_shape(out), fmt_shape(shape));
    }
    // Axes of `out`, right-aligned with `g`'s: summed where `g` varies along a repeated axis,
    // a factor where it is constant there.
    let lead = out.len() - g.ndim();
    let mut axes: Vec<i64> = Vec::new();
    let mut factor = 1usize;
    for (k, &d) in out.iter().enumerate() {
        if dim(shape, k) == d {
            continue;
        }
        if dim(&g.shape, k) == d {
            axes.push((k - lead) as i64);
        } else {
            factor = factor.saturating_mul(d);
        }
    }
    if factor == 0 {
        // Repeated zero times: nothing flowed back.
        return NdArray::zeros(shape, g.dtype);
    }
    let summed = if axes.is_empty() { g.clone() } else { sum(g, &axes, true)? };
    let scaled = if factor == 1 { summed } else { super::mul_scalar(&summed, factor as f64)? };
    // Leading axes that `shape` lacks are length 1 by now: dropped.
    if scaled.ndim() <= shape.len() {
        return Ok(scaled);
    }
    let kept: Vec<usize> = scaled.shape[scaled.ndim() - shape.len()..].to_vec();
    reshape_to(&scaled, &kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    /// `sum_to` of an unexpanded gradient equals `sum_to` of the same gradient expanded to
    /// `out` first, for each way a gradient can be unexpanded: length-1 axes, and fewer axes
    /// than `out` (which no op passes on today, element-wise ops keeping a gradient's rank,
    /// but which the contract allows: the gradient fuzzer cannot reach that case).
    #[test]
    fn an_unexpanded_gradient_sums_as_if_expanded() {
        let cases: &[(&[usize], &[usize], &[usize])] = &[
            (&[4], &[3, 4], &[4]),
            (&[], &[3, 4], &[4]),
            (&[1], &[2, 3, 4], &[3, 1]),
            (&[1, 1], &[3, 4], &[1]),
            (&[3, 1], &[3, 4], &[4]),
            (&[4], &[2, 3, 4], &[]),
            (&[1, 4], &[2, 3, 4], &[2, 1, 4]),
            (&[3, 4], &[2, 3, 4], &[1, 3, 1]),
        ];
        for &(g_shape, out, shape) in cases {
            let n: usize = g_shape.iter().product();
            let values: Vec<f64> = (0..n).map(|i| 1.0 + i as f64 * 0.5).collect();
            let g = NdArray::from(crate::array::from_vec(values, g_shape.to_vec()));
            let expanded = broadcast_to(&g, out).unwrap();
            let want = broadcast_to(&sum_to(&expanded, out, shape).unwrap(), shape).unwrap();
            let got = broadcast_to(&sum_to(&g, out, shape).unwrap(), shape).unwrap();
            assert_eq!(got.to_f64_vec(), want.to_f64_vec(), "g {:?}, out {:?}, operand {:?}", g_shape, out, shape);
            assert_eq!(got.dtype(), DType::F64);
        }
    }
}
