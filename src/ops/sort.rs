//! Sorting along an axis, as MXNet's `sort`, `argsort` and `topk`. The order is stable (equal
//! elements keep their order, in both directions), and NaN counts as larger than every
//! number. Values are gathered from the input by `take`, so that their gradient goes back to
//! the positions they came from (to any order); positions are constants.

use super::{astype, reshape_to, take, IndexMode};
use crate::array::shape::normalize_axis;
use crate::array::storage::with_slice;
use crate::array::{DType, Element};
use crate::error::{bail, Result};
use crate::NdArray;

/// What `topk` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopK {
    /// The k largest (smallest) values.
    Value,
    /// Their positions along the axis.
    Indices,
    /// 1 at their places in the input's shape, 0 elsewhere.
    Mask,
}

/// The array to sort and the axis: `a` flattened when `axis` is None.
fn along(a: &NdArray, axis: Option<i64>) -> Result<(NdArray, usize)> {
    match axis {
        None => Ok((reshape_to(&a.detach(), &[a.size()])?, 0)),
        Some(axis) => Ok((a.clone(), normalize_axis(axis, a.ndim())?)),
    }
}

fn order<T: Element>(x: T, y: T) -> std::cmp::Ordering {
    match (x.is_nan(), y.is_nan()) {
        (false, false) => x.partial_cmp(&y).expect("neither is NaN"),
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
    }
}

/// For each lane of `a` along `axis`, the positions of its first `k` elements in sorted order,
/// laid out as `a` with the axis `k` long (row-major).
fn positions(a: &NdArray, axis: usize, k: usize, ascending: bool) -> Result<Vec<usize>> {
    let n = a.shape[axis];
    let outer: usize = a.shape[..axis].iter().product();
    let inner: usize = a.shape[axis + 1..].iter().product();
    if outer * k * inner == 0 {
        // Nothing to place (and maybe 2^40 empty lanes not to walk).
        return Ok(Vec::new());
    }
    let guard = a.read();
    with_slice!(&*guard, a.range(), |v: &[T]| {
        let mut out: Vec<usize> = crate::cpu::loops::try_alloc(outer * k * inner)?;
        out.resize(outer * k * inner, 0);
        let mut lane: Vec<usize> = Vec::with_capacity(n);
        for o in 0..outer {
            for i in 0..inner {
                let at = |j: usize| v[(o * n + j) * inner + i];
                lane.clear();
                lane.extend(0..n);
                if ascending {
                    lane.sort_by(|&p, &q| order(at(p), at(q)));
                } else {
                    lane.sort_by(|&p, &q| order(at(q), at(p)));
                }
                for (j, &p) in lane[..k].iter().enumerate() {
                    out[(o * k + j) * inner + i] = p;
                }
            }
        }
        Ok(out)
    })
}

/// The shape of `a` with `axis` `k` long.
fn with_axis(a: &NdArray, axis: usize, k: usize) -> Vec<usize> {
    let mut shape = a.shape.to_vec();
    shape[axis] = k;
    shape
}

/// The elements of `a` at `pos` (positions along `axis`, laid out as `positions` gives
/// them), gathered by `take` from the flattened array: differentiable.
fn gather(a: &NdArray, axis: usize, k: usize, pos: &[usize]) -> Result<NdArray> {
    let n = a.shape[axis];
    let inner: usize = a.shape[axis + 1..].iter().product();
    let flat: Vec<f64> = pos
        .iter()
        .enumerate()
        .map(|(e, &p)| {
            let (o, i) = (e / (k * inner), e % inner);
            ((o * n + p) * inner + i) as f64
        })
        .collect();
    let shape = with_axis(a, axis, k);
    let index = NdArray::from_slice(&flat, &shape)?;
    take(&reshape_to(a, &[a.size()])?, &index, 0, IndexMode::Raise)
}

/// `pos` as an array of `dtype`, of `a`'s shape with `axis` `k` long.
fn indices(a: &NdArray, axis: usize, k: usize, pos: &[usize], dtype: DType) -> Result<NdArray> {
    let values: Vec<f64> = pos.iter().map(|&p| p as f64).collect();
    astype(&NdArray::from_slice(&values, &with_axis(a, axis, k))?, dtype)
}

/// `a` sorted along `axis` (the flattened array when None), ascending or descending; the
/// gradient goes back to where each value came from.
pub fn sort(a: &NdArray, axis: Option<i64>, ascending: bool) -> Result<NdArray> {
    let (x, axis) = if axis.is_none() { (reshape_to(a, &[a.size()])?, 0) } else { along(a, axis)? };
    let n = x.shape[axis];
    let pos = positions(&x, axis, n, ascending)?;
    gather(&x, axis, n, &pos)
}

/// The positions that sort `a` along `axis` (the flattened array when None), as floats of
/// `dtype`. Not differentiable.
pub fn argsort(a: &NdArray, axis: Option<i64>, ascending: bool, dtype: DType) -> Result<NdArray> {
    let (x, axis) = along(&a.detach(), axis)?;
    let n = x.shape[axis];
    let pos = positions(&x, axis, n, ascending)?;
    indices(&x, axis, n, &pos, dtype)
}

/// MXNet's `topk`: the `k` largest elements along `axis` (the smallest when `ascending`; the
/// flattened array when None; all when `k` < 1), as values (differentiable, as `sort`'s),
/// as their positions in floats of `dtype`, or as a mask of `a`'s shape (of the flattened
/// array's for None) in `a`'s dtype. A `k` above the axis's length is an error.
pub fn topk(a: &NdArray, axis: Option<i64>, k: i64, ret: TopK, ascending: bool, dtype: DType) -> Result<NdArray> {
    let flattened = axis.is_none();
    let (x, axis) = if flattened && ret == TopK::Value { (reshape_to(a, &[a.size()])?, 0) } else { along(a, axis)? };
    let n = x.shape[axis];
    let k = if k < 1 { n } else { k as usize };
    if k > n {
        bail!(Shape, "topk: k = {} is larger than the axis's length {} (shape {})", k, n, crate::array::fmt_shape(&x.shape));
    }
    let pos = positions(&x, axis, k, ascending)?;
    match ret {
        TopK::Value => gather(&x, axis, k, &pos),
        TopK::Indices => indices(&x, axis, k, &pos, dtype),
        TopK::Mask => {
            let n = x.shape[axis];
            let inner: usize = x.shape[axis + 1..].iter().product();
            let mut mask = vec![0.0; x.size()];
            for (e, &p) in pos.iter().enumerate() {
                let (o, i) = (e / (k * inner), e % inner);
                mask[(o * n + p) * inner + i] = 1.0;
            }
            // Over the flattened array: the mask has the input's shape, as MXNet's.
            let shape = if flattened { a.shape.to_vec() } else { x.shape.to_vec() };
            astype(&NdArray::from_slice(&mask, &shape)?, a.dtype)
        }
    }
}
