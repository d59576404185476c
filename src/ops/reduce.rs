//! Reductions (sum, mean, L2 norm) and broadcasting, which are each other's gradients.
//! As in MXNet's `nd`, a reduction over every axis without keepdims gives shape (1,).

use super::kernel::{self, Cmp, Fold};
use super::{div, div_scalar, mul, reshape_to, sqrt, square};
use crate::array::shape::normalize_axes;
use crate::array::storage::{reduce_chunked, with_slice};
use crate::array::{fmt_shape, DType, Element, NdArray};
use crate::autograd::{record, Save};
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
    let out = reshape_to(&kernel::reduce_keepdims(&a.detach(), &axes, Fold::Sum)?, &out_shape)?;
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
    let out = if normalized.len() == a.ndim() {
        // Over every axis (the common case, as in `x.norm()`): one pass, no temporaries,
        // squares summed in f64 so that float32 values past 1e19 do not overflow.
        let squares = {
            let guard = a.read();
            with_slice!(&*guard, a.range(), |v: &[T]| {
                reduce_chunked(v, |p| p.iter().map(|x| x.as_f64() * x.as_f64()).sum::<f64>(), |x, y| x + y)
            })?
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
            DType::F64 => f64::MIN_POSITIVE,
        };
        let safe = super::maximum_scalar(&n, tiny)?;
        Ok(vec![Some(mul(&g, &div(x, &safe)?)?)])
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
    let out = reshape_to(&kernel::reduce_keepdims(&a.detach(), &normalized, fold)?, &out_shape)?;
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
    Ok(record("broadcast_to", &[a], out, Save::NOTHING, |v| Ok(vec![Some(sum_to(v.grad, v.input_shape(0))?)])))
}

/// Sums `g` over the axes along which an array of `shape` was broadcast to `g`'s shape: the
/// gradient of a broadcast, reduced back to its operand. A `g` that is itself smaller than
/// the broadcast result (length 1 along an axis, or fewer axes: an element-wise op's gradient
/// left unexpanded) stays so along those axes; the result then broadcasts to `shape`.
pub fn sum_to(g: &NdArray, shape: &[usize]) -> Result<NdArray> {
    if g.shape[..] == *shape {
        return Ok(g.clone());
    }
    // Axes of `g` beyond `shape`'s are summed away; the rest line up from the right.
    let lead = g.ndim().saturating_sub(shape.len());
    let tail = &shape[shape.len() - (g.ndim() - lead)..];
    let mut axes: Vec<i64> = (0..lead as i64).collect();
    for (i, &d) in tail.iter().enumerate() {
        let gd = g.shape[lead + i];
        if d == 1 && gd != 1 {
            axes.push((lead + i) as i64);
        } else if gd != d && gd != 1 {
            bail!(Shape, "cannot reduce shape {} to shape {}", fmt_shape(&g.shape), fmt_shape(shape));
        }
    }
    let summed = if axes.is_empty() { g.clone() } else { sum(g, &axes, true)? };
    if lead == 0 {
        return Ok(summed);
    }
    let kept: Vec<usize> = summed.shape[lead..].to_vec();
    reshape_to(&summed, &kept)
}
