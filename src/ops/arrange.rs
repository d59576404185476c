//! Creation and shape ops with MXNet's `nd` meaning: arrays made like another (`full_like`),
//! `linspace` and `eye`; `squeeze`, `expand_dims`, `split`, `flip`, `tile`, `repeat`,
//! `swapaxes`, `moveaxis`, `broadcast_like`, `reshape_like` and MXNet's reshape codes, each
//! a composition of differentiable ops and so differentiable to any order; `take`, a gather
//! along an axis whose gradient scatters back (and whose gradient's gradient gathers again);
//! `put`, the in-place write that assignment through arrays of positions makes; and `pick`
//! with MXNet's clip and wrap modes.
//!
//! MXNet's `nd` functions return new arrays, not views: where a composition would leave its
//! result on the input's storage (a transpose by the identity, a slice of a whole array), the
//! ops here copy it. Only `reshape_codes` is a view, as MXNet's `NDArray.reshape` is.

use std::ops::Range;
use std::sync::Arc;

use super::index::{check_writable, region_values, AxisIndex};
use super::{broadcast_to, copy, pick, reshape_to, slice, transpose};
use crate::array::shape::{broadcast_shapes, check_ndim, checked_size, normalize_axis};
use crate::array::storage::{filled_vec, lock, try_vec, with_any_slice, with_dtype, with_slice, Buffer};
use crate::array::{fmt_shape, from_vec, Array, DType, Element, Scalar};
use crate::cpu::loops::try_alloc;
use crate::error::{bail, Error, Result};
use crate::tape::{record, record_saving, Save};
use crate::NdArray;

/// `e` with `what` and `a`'s shape in front of its message.
fn about(what: &str, shape: &[usize], e: Error) -> Error {
    Error::new(e.kind, format!("{} of an array of shape {}: {}", what, fmt_shape(shape), e.message))
}

/// `out`, or a copy of it where it still shares `input`'s storage.
fn new_array(input: &NdArray, out: NdArray) -> Result<NdArray> {
    if Arc::ptr_eq(&input.storage, &out.storage) {
        copy(&out)
    } else {
        Ok(out)
    }
}

/// `shape` split around `axis`: (product before, length of, product after).
fn around(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (shape[..axis].iter().product(), shape[axis], shape[axis + 1..].iter().product())
}

/// Each of `axes` (negative counting from the end) as an index below `ndim`, in the order
/// given; an axis named twice is an error.
fn distinct_axes(axes: &[i64], ndim: usize, what: &str) -> Result<Vec<usize>> {
    if axes.len() > ndim {
        bail!(Shape, "{}: {} axes given for an array of {} dimensions", what, axes.len(), ndim);
    }
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let ax = normalize_axis(a, ndim).map_err(|e| Error::new(e.kind, format!("{}: {}", what, e.message)))?;
        if out.contains(&ax) {
            bail!(Shape, "{}: axis {} is given twice in {:?}", what, a, axes);
        }
        out.push(ax);
    }
    Ok(out)
}

// ---- arrays made like another, linspace, eye ------------------------------------------------

/// An array of `a`'s shape with every element `value`, in `dtype`. Recorded with a zero
/// gradient, as MXNet's `zeros_like` and `ones_like`: a backward through it gives zeros.
pub fn full_like(a: &NdArray, value: f64, dtype: DType) -> Result<NdArray> {
    let out = NdArray::full(&a.shape, value, dtype)?;
    Ok(record("full_like", &[a], out, Save::NOTHING, |_| Ok(vec![None])))
}

/// `num` evenly spaced values from `start` to `stop` (included with `endpoint`, else left
/// out), each `start + i·step` computed in float64 and rounded to `dtype`, as MXNet computes
/// them.
pub fn linspace(start: f64, stop: f64, num: usize, endpoint: bool, dtype: DType) -> Result<NdArray> {
    if !start.is_finite() || !stop.is_finite() {
        bail!(InvalidArgument, "linspace needs a finite start and stop; got start {}, stop {}", start, stop);
    }
    let n = checked_size(&[num])?;
    let intervals = if endpoint { n.saturating_sub(1) } else { n };
    let step = if intervals > 0 { (stop - start) / intervals as f64 } else { 0.0 };
    // Other dtypes: the float64 values cast as astype casts (integers truncated).
    fn fill<T: Scalar>(n: usize, start: f64, step: f64) -> Result<Vec<T>> {
        let mut v = try_vec(n)?;
        v.extend((0..n).map(|i| T::cast_f64(start + i as f64 * step)));
        Ok(v)
    }
    Ok(with_dtype!(dtype, T => from_vec(fill::<T>(n, start, step)?, [n].as_slice())).into())
}

/// The (n, m) matrix with ones on diagonal `k` (0 the main one, positive above it, negative
/// below) and zeros elsewhere; `m` = 0 makes it square, as MXNet's `eye`.
pub fn eye(n: usize, m: usize, k: i64, dtype: DType) -> Result<NdArray> {
    let m = if m == 0 { n } else { m };
    let size = checked_size(&[n, m])?;
    fn fill<T: Scalar>(size: usize, n: usize, m: usize, k: i64) -> Result<Vec<T>> {
        let mut v = filled_vec(size, T::cast_f64(0.0))?;
        // The rows whose column i + k falls inside 0..m (in i128: k may be anything).
        let (n, m, k) = (n as i128, m as i128, k as i128);
        for i in (-k).max(0)..n.min(m - k) {
            v[(i * m + i + k) as usize] = T::cast_f64(1.0);
        }
        Ok(v)
    }
    Ok(with_dtype!(dtype, T => from_vec(fill::<T>(size, n, m, k)?, [n, m].as_slice())).into())
}

// ---- shapes -------------------------------------------------------------------------------

/// `a` without the length-1 axes `axes` (every length-1 axis when `axes` is empty), as a new
/// array. With no axis left the result has shape (1,), as in MXNet.
pub fn squeeze(a: &NdArray, axes: &[i64]) -> Result<NdArray> {
    let mut dropped = vec![false; a.ndim()];
    if axes.is_empty() {
        a.shape.iter().zip(dropped.iter_mut()).for_each(|(&d, drop)| *drop = d == 1);
    } else {
        for ax in distinct_axes(axes, a.ndim(), "squeeze").map_err(|e| about("squeeze", &a.shape, e))? {
            if a.shape[ax] != 1 {
                bail!(Shape, "squeeze: axis {} of shape {} has length {}; only axes of length 1 can be removed", ax, fmt_shape(&a.shape), a.shape[ax]);
            }
            dropped[ax] = true;
        }
    }
    let mut shape: Vec<usize> = a.shape.iter().zip(&dropped).filter(|(_, &drop)| !drop).map(|(&d, _)| d).collect();
    if shape.is_empty() {
        shape.push(1);
    }
    copy(&reshape_to(a, &shape)?)
}

/// `a` with a new axis of length 1 at `axis` (in -(ndim+1)..=ndim), as a new array.
pub fn expand_dims(a: &NdArray, axis: i64) -> Result<NdArray> {
    let ax = normalize_axis(axis, a.ndim() + 1).map_err(|e| about("expand_dims", &a.shape, e))?;
    let mut shape = a.shape.to_vec();
    shape.insert(ax, 1);
    check_ndim(shape.len())?;
    copy(&reshape_to(a, &shape)?)
}

/// `a` cut along `axis` into `num_outputs` parts of equal length, each a new array (MXNet's
/// `split`; an axis of length 0 makes one part); with `squeeze_axis` the parts, then of
/// length 1, lose that axis.
pub fn split(a: &NdArray, num_outputs: usize, axis: i64, squeeze_axis: bool) -> Result<Vec<NdArray>> {
    if num_outputs == 0 {
        bail!(InvalidArgument, "split: num_outputs must be at least 1");
    }
    let ax = normalize_axis(axis, a.ndim()).map_err(|e| about("split", &a.shape, e))?;
    let d = a.shape[ax];
    // An empty axis is one empty part: as many parts as asked would be a handle each, for
    // nothing.
    if !d.is_multiple_of(num_outputs) || (d == 0 && num_outputs > 1) {
        bail!(Shape, "split: axis {} of shape {} (length {}) cannot be cut into {} parts of equal length", ax, fmt_shape(&a.shape), d, num_outputs);
    }
    if squeeze_axis && d != num_outputs {
        bail!(Shape, "split with squeeze_axis: axis {} of shape {} must have length num_outputs ({}) so that each part has length 1", ax, fmt_shape(&a.shape), num_outputs);
    }
    let len = d / num_outputs;
    let mut parts = try_alloc(num_outputs)?;
    for i in 0..num_outputs {
        let mut index: Vec<AxisIndex> = a.shape[..ax].iter().map(|&n| AxisIndex::Range { start: 0, stop: n as i64, step: 1 }).collect();
        index.push(AxisIndex::Range { start: (i * len) as i64, stop: ((i + 1) * len) as i64, step: 1 });
        let mut part = new_array(a, slice(a, &index)?)?;
        if squeeze_axis {
            let mut shape = part.shape.to_vec();
            shape.remove(ax);
            part = reshape_to(&part, &shape)?;
        }
        parts.push(part);
    }
    Ok(parts)
}

/// `a` with the order of its elements reversed along each of `axes` (MXNet's `flip` and
/// `reverse`; negative axes count from the end, and an axis named twice is reversed twice),
/// as a new array.
pub fn flip(a: &NdArray, axes: &[i64]) -> Result<NdArray> {
    let mut flipped = vec![false; a.ndim()];
    for &axis in axes {
        let ax = normalize_axis(axis, a.ndim()).map_err(|e| about("flip", &a.shape, e))?;
        flipped[ax] = !flipped[ax];
    }
    let Some(last) = flipped.iter().rposition(|&f| f) else { return copy(a) };
    let index: Vec<AxisIndex> = (0..=last)
        .map(|ax| {
            let d = a.shape[ax] as i64;
            if flipped[ax] {
                AxisIndex::Range { start: d - 1, stop: -1, step: -1 }
            } else {
                AxisIndex::Range { start: 0, stop: d, step: 1 }
            }
        })
        .collect();
    new_array(a, slice(a, &index)?)
}

/// `a` repeated `reps[i]` times along each axis (NumPy's and MXNet's `tile`): the shorter of
/// `a`'s shape and `reps` is padded with leading 1s.
pub fn tile(a: &NdArray, reps: &[usize]) -> Result<NdArray> {
    let nd = a.ndim().max(reps.len());
    check_ndim(nd)?;
    let mut shape = vec![1; nd - a.ndim()];
    shape.extend_from_slice(&a.shape);
    let mut all = vec![1; nd - reps.len()];
    all.extend_from_slice(reps);
    // The result's shape is checked whole before anything is made: the axes are tiled one
    // at a time, and an impossible last axis must not come after huge intermediates.
    let mut tiled = shape.clone();
    for (ax, &r) in all.iter().enumerate() {
        let Some(d) = shape[ax].checked_mul(r) else {
            bail!(Shape, "tile of shape {} by {:?}: axis {} would have {} × {} elements", fmt_shape(&a.shape), reps, ax, shape[ax], r);
        };
        tiled[ax] = d;
    }
    checked_size(&tiled).map_err(|e| about("tile", &a.shape, e))?;
    let mut x = reshape_to(a, &shape)?;
    // One axis at a time, as (before, 1, from the axis on) broadcast to (before, r, ...): the
    // intermediate shapes stay 3-d whatever the number of axes.
    for (ax, &r) in all.iter().enumerate() {
        if r == 1 {
            continue;
        }
        let (before, from): (usize, usize) = (shape[..ax].iter().product(), shape[ax..].iter().product());
        shape[ax] = tiled[ax];
        x = reshape_to(&broadcast_to(&reshape_to(&x, &[before, 1, from])?, &[before, r, from])?, &shape)?;
    }
    new_array(a, x)
}

/// Each element of `a` repeated `repeats` times along `axis` (MXNet's `repeat`); without an
/// axis, of the flattened array.
pub fn repeat(a: &NdArray, repeats: usize, axis: Option<i64>) -> Result<NdArray> {
    let (x, ax) = match axis {
        None => (reshape_to(a, &[a.size()])?, 0),
        Some(axis) => (a.clone(), normalize_axis(axis, a.ndim()).map_err(|e| about("repeat", &a.shape, e))?),
    };
    let (before, d, after) = around(&x.shape, ax);
    let mut shape = x.shape.to_vec();
    let Some(n) = d.checked_mul(repeats) else {
        bail!(Shape, "repeat of shape {} {} times: axis {} would have {} × {} elements", fmt_shape(&a.shape), repeats, ax, d, repeats);
    };
    shape[ax] = n;
    checked_size(&shape).map_err(|e| about("repeat", &a.shape, e))?;
    let spread = broadcast_to(&reshape_to(&x, &[before, d, 1, after])?, &[before, d, repeats, after])?;
    new_array(a, reshape_to(&spread, &shape)?)
}

/// `a` with axes `dim1` and `dim2` exchanged, as a new array.
pub fn swapaxes(a: &NdArray, dim1: i64, dim2: i64) -> Result<NdArray> {
    let n = a.ndim();
    let (i, j) = (
        normalize_axis(dim1, n).map_err(|e| about("swapaxes", &a.shape, e))?,
        normalize_axis(dim2, n).map_err(|e| about("swapaxes", &a.shape, e))?,
    );
    let mut perm: Vec<i64> = (0..n as i64).collect();
    perm.swap(i, j);
    new_array(a, transpose(a, &perm)?)
}

/// `a` with the axes `source` moved to the positions `destination` and the others in their
/// order (NumPy's and MXNet's `moveaxis`), as a new array.
pub fn moveaxis(a: &NdArray, source: &[i64], destination: &[i64]) -> Result<NdArray> {
    if source.len() != destination.len() {
        bail!(InvalidArgument, "moveaxis: source {:?} and destination {:?} must name as many axes", source, destination);
    }
    let n = a.ndim();
    let from = distinct_axes(source, n, "moveaxis source").map_err(|e| about("moveaxis", &a.shape, e))?;
    let to = distinct_axes(destination, n, "moveaxis destination").map_err(|e| about("moveaxis", &a.shape, e))?;
    let mut order: Vec<usize> = (0..n).filter(|i| !from.contains(i)).collect();
    let mut moves: Vec<(usize, usize)> = to.into_iter().zip(from).collect();
    moves.sort_unstable();
    for (dest, src) in moves {
        order.insert(dest, src);
    }
    let perm: Vec<i64> = order.iter().map(|&p| p as i64).collect();
    new_array(a, transpose(a, &perm)?)
}

/// `a` broadcast to `like`'s shape, as MXNet's `broadcast_like`: without axes the two have
/// as many axes and each of `a`'s is `like`'s or 1; with `lhs_axes` and `rhs_axes` (as many
/// of each), axis `lhs_axes[i]` of `a`, of length 1, takes the length of axis `rhs_axes[i]` of
/// `like`. A new array.
pub fn broadcast_like(a: &NdArray, like: &NdArray, lhs_axes: &[i64], rhs_axes: &[i64]) -> Result<NdArray> {
    let target = if lhs_axes.is_empty() && rhs_axes.is_empty() {
        let fits = a.ndim() == like.ndim() && a.shape.iter().zip(&like.shape).all(|(&x, &y)| x == y || x == 1);
        if !fits {
            bail!(
                Shape,
                "broadcast_like: an array of shape {} cannot be broadcast to shape {} (the axes must be as many, each of length 1 or the other's)",
                fmt_shape(&a.shape),
                fmt_shape(&like.shape)
            );
        }
        like.shape.to_vec()
    } else {
        if lhs_axes.len() != rhs_axes.len() {
            bail!(InvalidArgument, "broadcast_like: lhs_axes {:?} and rhs_axes {:?} must name as many axes", lhs_axes, rhs_axes);
        }
        let from = distinct_axes(lhs_axes, a.ndim(), "broadcast_like lhs_axes").map_err(|e| about("broadcast_like", &a.shape, e))?;
        let mut target = a.shape.to_vec();
        for (&l, &r) in from.iter().zip(rhs_axes) {
            let r = normalize_axis(r, like.ndim()).map_err(|e| about("broadcast_like rhs_axes", &like.shape, e))?;
            if a.shape[l] != 1 {
                bail!(Shape, "broadcast_like: axis {} of shape {} has length {}; only axes of length 1 can be broadcast", l, fmt_shape(&a.shape), a.shape[l]);
            }
            target[l] = like.shape[r];
        }
        target
    };
    new_array(a, broadcast_to(a, &target)?)
}

/// `begin..end` of `ndim` axes as MXNet's `reshape_like` reads them: negative values count
/// from the end, `begin` defaults to 0 and `end` to `ndim`, and the range must not be empty.
fn like_range(ndim: usize, side: &str, begin: Option<i64>, end: Option<i64>) -> Result<Range<usize>> {
    let n = ndim as i128;
    let b = begin.map_or(0, |b| b as i128);
    let e = end.map_or(n, |e| e as i128);
    let (cb, ce) = (if b < 0 { b + n } else { b }, if e < 0 { e + n } else { e });
    if cb < 0 || ce > n || cb >= ce {
        bail!(
            Shape,
            "reshape_like: {side}_begin {:?}, {side}_end {:?} is not a non-empty range of the {} axes of {side}",
            begin,
            end,
            ndim
        );
    }
    Ok(cb as usize..ce as usize)
}

/// `lhs` reshaped like `rhs` (MXNet's `reshape_like`), as a new array: to `rhs`'s shape, or,
/// with any of the begin/end bounds, with the axes `lhs_begin..lhs_end` of `lhs` replaced by
/// the axes `rhs_begin..rhs_end` of `rhs`. The element count must not change.
pub fn reshape_like(
    lhs: &NdArray,
    rhs: &NdArray,
    lhs_begin: Option<i64>,
    lhs_end: Option<i64>,
    rhs_begin: Option<i64>,
    rhs_end: Option<i64>,
) -> Result<NdArray> {
    let shape = if lhs_begin.is_none() && lhs_end.is_none() && rhs_begin.is_none() && rhs_end.is_none() {
        rhs.shape.to_vec()
    } else {
        let l = like_range(lhs.ndim(), "lhs", lhs_begin, lhs_end)?;
        let r = like_range(rhs.ndim(), "rhs", rhs_begin, rhs_end)?;
        let mut shape = lhs.shape[..l.start].to_vec();
        shape.extend_from_slice(&rhs.shape[r]);
        shape.extend_from_slice(&lhs.shape[l.end..]);
        shape
    };
    check_ndim(shape.len())?;
    if size_of(&shape) != Some(lhs.size()) {
        bail!(Shape, "reshape_like: cannot reshape an array of shape {} (size {}) into shape {}", fmt_shape(&lhs.shape), lhs.size(), fmt_shape(&shape));
    }
    copy(&reshape_to(lhs, &shape)?)
}

/// The element count of `shape`, or `None` when it overflows.
fn size_of(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

/// MXNet's reshape (`NDArray.reshape`, `nd.reshape`) with its special codes, a view on `a`'s
/// storage as `reshape` is. Each code of `shape` makes output axes from input axes, read left
/// to right (right to left with `reverse`): a size `d > 0` is an axis of length `d`; 0 copies
/// the next input axis; -1 is inferred from the element count (at most one); -2 copies every
/// remaining input axis; -3 merges the next two input axes into one; -4 followed by two codes
/// `d1, d2` (one of them may be -1) splits the next input axis into two.
pub fn reshape_codes(a: &NdArray, shape: &[i64], reverse: bool) -> Result<NdArray> {
    let out = infer_codes(&a.shape, shape, reverse)?;
    reshape_to(a, &out)
}

fn infer_codes(from: &[usize], codes: &[i64], reverse: bool) -> Result<Vec<usize>> {
    let fail = |why: String| Error::new(crate::error::ErrorKind::Shape, format!("cannot reshape an array of shape {} into {:?}{}: {}", fmt_shape(from), codes, if reverse { " (reverse)" } else { "" }, why));
    let mut src: Vec<usize> = from.to_vec();
    let mut params: Vec<i64> = codes.to_vec();
    if reverse {
        src.reverse();
        params.reverse();
    }
    let mut out: Vec<usize> = Vec::with_capacity(params.len());
    let mut next = 0;
    let mut inferred: Option<usize> = None;
    let mut i = 0;
    while i < params.len() {
        let code = params[i];
        match code {
            0 => {
                let Some(&d) = src.get(next) else { return Err(fail(format!("code 0 copies input axis {}, which the input does not have", next))) };
                out.push(d);
                next += 1;
            }
            -1 => {
                if inferred.is_some() {
                    return Err(fail("more than one -1".into()));
                }
                inferred = Some(out.len());
                out.push(1);
                next += 1;
            }
            -2 => {
                out.extend_from_slice(src.get(next..).unwrap_or(&[]));
                next = next.max(src.len());
            }
            -3 => {
                let (Some(&d1), Some(&d2)) = (src.get(next), src.get(next + 1)) else {
                    return Err(fail(format!("code -3 merges input axes {} and {}, which the input does not have", next, next + 1)));
                };
                out.push(d1.checked_mul(d2).ok_or_else(|| fail("the merged axis overflows".into()))?);
                next += 2;
            }
            -4 => {
                let (Some(&d1), Some(&d2)) = (params.get(i + 1), params.get(i + 2)) else {
                    return Err(fail("code -4 must be followed by the two lengths it splits an axis into".into()));
                };
                let Some(&d0) = src.get(next) else { return Err(fail(format!("code -4 splits input axis {}, which the input does not have", next))) };
                next += 1;
                i += 2;
                let d0 = d0 as i128;
                let (d1, d2) = (d1 as i128, d2 as i128);
                let (d1, d2) = match (d1, d2) {
                    (-1, -1) => return Err(fail("code -4 cannot split an axis into two inferred lengths (-1, -1)".into())),
                    (-1, d2) if d2 > 0 => (d0 / d2, d2),
                    (d1, -1) if d1 > 0 => (d1, d0 / d1),
                    (d1, d2) => (d1, d2),
                };
                if d1 < 0 || d2 < 0 || d1 * d2 != d0 {
                    return Err(fail(format!("code -4 cannot split an axis of length {} into {} and {}", d0, d1, d2)));
                }
                out.push(d1 as usize);
                out.push(d2 as usize);
            }
            d if d > 0 => {
                out.push(d as usize);
                next += 1;
            }
            d => return Err(fail(format!("{} is not a length or a code (0, -1, -2, -3, -4)", d))),
        }
        i += 1;
    }
    check_ndim(out.len())?;
    let size: usize = from.iter().product();
    if let Some(at) = inferred {
        let known = size_of(&out).ok_or_else(|| fail("the known lengths overflow".into()))?;
        if known == 0 || !size.is_multiple_of(known) {
            return Err(fail(format!("the size {} is not a multiple of the known lengths' product {}, so -1 cannot be inferred", size, known)));
        }
        out[at] = size / known;
    }
    if size_of(&out) != Some(size) {
        return Err(fail(format!("the result would have shape {}, which does not hold {} elements", fmt_shape(&if reverse { out.iter().rev().copied().collect() } else { out.clone() }), size)));
    }
    if reverse {
        out.reverse();
    }
    Ok(out)
}

// ---- take, put, pick with modes ---------------------------------------------------------------

/// What an index outside its axis selects: MXNet's `mode` of `take` and `pick`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexMode {
    /// Nothing: it is an error.
    Raise,
    /// The nearer end of the axis.
    Clip,
    /// The position modulo the axis's length (so -1 is the last).
    Wrap,
}

impl IndexMode {
    /// The mode for an `ad_index_mode` code.
    pub fn from_code(code: u32) -> Option<IndexMode> {
        Some(match code {
            0 => IndexMode::Raise,
            1 => IndexMode::Clip,
            2 => IndexMode::Wrap,
            _ => return None,
        })
    }
}

/// Positions along an axis of length `n` from the index values `range` of `buf`: each value
/// truncated towards zero, as MXNet casts it to an integer, then placed by `mode`. NaN is
/// never a position, nor is an infinity but in `Clip` mode.
fn positions(buf: &Buffer, range: Range<usize>, n: usize, mode: IndexMode, what: &str) -> Result<Vec<usize>> {
    let mut out = try_alloc(range.len())?;
    with_any_slice!(buf, range, |v: &[T]| {
        for (i, x) in v.iter().enumerate() {
            let x = x.value_f64();
            let t = x.trunc();
            let at = match mode {
                _ if x.is_nan() => None,
                IndexMode::Raise => (t >= 0.0 && t < n as f64).then_some(t),
                IndexMode::Clip => (n > 0).then(|| t.clamp(0.0, (n - 1) as f64)),
                IndexMode::Wrap => (n > 0 && t.is_finite()).then(|| t.rem_euclid(n as f64)),
            };
            match at {
                Some(p) => out.push(p as usize),
                None => bail!(Index, "{} {} at position {} is out of range for an axis of length {}", what, x, i, n),
            }
        }
    });
    Ok(out)
}

/// MXNet's `take`: the slices of `a` along `axis` at the positions `indices` holds (whole
/// numbers in any float dtype; a fraction is truncated towards zero), those outside the axis
/// placed by `mode`. The result has `a`'s shape with `axis` replaced by `indices`'s shape.
/// The gradient adds each slice's gradient back at its position.
pub fn take(a: &NdArray, indices: &NdArray, axis: i64, mode: IndexMode) -> Result<NdArray> {
    let ax = normalize_axis(axis, a.ndim()).map_err(|e| about("take", &a.shape, e))?;
    let mut shape = a.shape[..ax].to_vec();
    shape.extend_from_slice(&indices.shape);
    shape.extend_from_slice(&a.shape[ax + 1..]);
    checked_size(&shape).map_err(|e| about("take", &a.shape, e))?;
    // Both under one set of guards, read at one time.
    let locked = lock(&[&indices.storage, &a.storage], &[]);
    let pos = Arc::new(positions(locked.get(&indices.storage), indices.range(), a.shape[ax], mode, "index")?);
    let out = with_any_slice!(locked.get(&a.storage), a.range(), |v: &[T]| gather_values(v, around(&a.shape, ax), &pos))?;
    drop(locked);
    Ok(record_gather(a, indices, pos, ax, Array::from_buffer(out, shape).into()))
}

/// The slices at `pos` along the middle axis of values of shape (outer, n, inner).
fn gather_values<T: Scalar>(v: &[T], (outer, n, inner): (usize, usize, usize), pos: &[usize]) -> Result<Buffer> {
    let mut out: Vec<T> = try_vec(outer * pos.len() * inner)?;
    // Over the output only: with nothing to gather, `outer` may be huge.
    if inner > 0 && !pos.is_empty() {
        for o in 0..outer {
            for &p in pos {
                let at = (o * n + p) * inner;
                out.extend_from_slice(&v[at..at + inner]);
            }
        }
    }
    Ok(T::wrap(out))
}

/// Records `out`, gathered from `a` at `pos` along `ax`; `index` is saved for backward's
/// check that it was not written in place since.
fn record_gather(a: &NdArray, index: &NdArray, pos: Arc<Vec<usize>>, ax: usize, out: NdArray) -> NdArray {
    let shape = a.shape.to_vec();
    record_saving("take", &[a], &[index], out, Save::NOTHING, move |v| {
        Ok(vec![Some(scatter_add(v.grad, v.extra(0), pos.clone(), &shape, ax)?)])
    })
}

/// `take` at positions already resolved.
fn gather(a: &NdArray, index: &NdArray, pos: Arc<Vec<usize>>, ax: usize) -> Result<NdArray> {
    let mut shape = a.shape[..ax].to_vec();
    shape.extend_from_slice(&index.shape);
    shape.extend_from_slice(&a.shape[ax + 1..]);
    let out = {
        let guard = a.read();
        with_any_slice!(&*guard, a.range(), |v: &[T]| gather_values(v, around(&a.shape, ax), &pos))?
    };
    Ok(record_gather(a, index, pos, ax, Array::from_buffer(out, shape).into()))
}

/// The gradient of `take`: zeros of `shape` with each slice of `g` (of `take`'s output
/// shape) added at its position `pos` along `ax`. Its own gradient takes again, so second
/// derivatives pass through.
fn scatter_add(g: &NdArray, index: &NdArray, pos: Arc<Vec<usize>>, shape: &[usize], ax: usize) -> Result<NdArray> {
    let (outer, n, inner) = around(shape, ax);
    let size = checked_size(shape)?;
    let out = {
        let guard = g.read();
        with_slice!(&*guard, g.range(), |gv: &[T]| {
            let mut out = filled_vec(size, T::of(0.0))?;
            if inner > 0 && !pos.is_empty() {
                let m = pos.len();
                for o in 0..outer {
                    for (j, &p) in pos.iter().enumerate() {
                        let (to, from) = ((o * n + p) * inner, (o * m + j) * inner);
                        out[to..to + inner].iter_mut().zip(&gv[from..from + inner]).for_each(|(d, &s)| *d += s);
                    }
                }
            }
            Ok::<Buffer, Error>(T::wrap(out))
        })?
    };
    let out: NdArray = Array::from_buffer(out, shape.to_vec()).into();
    Ok(record_saving("take_grad", &[g], &[index], out, Save::NOTHING, move |v| {
        Ok(vec![Some(gather(v.grad, v.extra(0), pos.clone(), ax)?)])
    }))
}

/// `dst.flat[indices] = src` in place (NumPy's `put`, what assignment through arrays of
/// positions makes): `indices` holds row-major positions in `dst` (whole numbers below its
/// size, in any float dtype), and `src` is broadcast to `indices`'s shape and converted to
/// `dst`'s dtype. Where a position repeats, the value written last stays. Everything sharing
/// `dst`'s storage sees the change; the rules of `write_slice` inside a record scope apply.
pub fn put(dst: &NdArray, indices: &NdArray, src: &NdArray) -> Result<()> {
    check_writable(dst, src)?;
    // As NumPy: leading length-1 axes of the value may exceed the positions' (x[[1]] = [[5]]).
    let mut shape: &[usize] = &src.shape;
    while shape.len() > indices.ndim() && shape[0] == 1 {
        shape = &shape[1..];
    }
    if broadcast_shapes(shape, &indices.shape).ok().as_deref() != Some(&indices.shape[..]) {
        bail!(Shape, "put: could not broadcast a value of shape {} to the positions' shape {}", fmt_shape(&src.shape), fmt_shape(&indices.shape));
    }
    // One atomic step: the positions and the values are read under the guards that write.
    let mut locked = lock(&[&indices.storage, &src.storage], &[&dst.storage]);
    let pos = positions(locked.get(&indices.storage), indices.range(), dst.size(), IndexMode::Raise, "position")?;
    // Copied out before `dst`'s buffer is borrowed for writing: `src` may share it.
    let values = region_values(locked.get(&src.storage), src.range(), shape, &indices.shape, dst.dtype)?;
    let (mut written, _) = locked.split(&[&dst.storage]);
    let base = dst.offset;
    fn scatter<T: Scalar>(d: &mut Buffer, v: &Buffer, pos: &[usize], base: usize) {
        let (d, v) = (T::slice_of_mut(d).expect("dst's dtype"), T::slice_of(v).expect("the values are converted to dst's dtype"));
        pos.iter().zip(v.iter()).for_each(|(&p, &x)| d[base + p] = x)
    }
    with_dtype!(dst.dtype, T => scatter::<T>(&mut written[0], &values, &pos, base));
    Ok(())
}

/// `pick` with MXNet's `mode` for positions outside the axis: `Raise` is `pick` itself (an
/// error); `Clip` and `Wrap` truncate each position towards zero, as MXNet does, and clip it
/// to the axis or wrap it around. The gradient goes to the elements picked.
pub fn pick_mode(x: &NdArray, index: &NdArray, axis: i64, keepdims: bool, mode: IndexMode) -> Result<NdArray> {
    if mode == IndexMode::Raise {
        return pick(x, index, axis, keepdims);
    }
    let ax = normalize_axis(axis, x.ndim()).map_err(|e| about("pick", &x.shape, e))?;
    let mut reduced = x.shape.to_vec();
    reduced.remove(ax);
    let mut kept = x.shape.to_vec();
    kept[ax] = 1;
    if index.shape[..] != reduced[..] && index.shape[..] != kept[..] {
        bail!(Shape, "pick: index of shape {} does not match {} with axis {} removed", fmt_shape(&index.shape), fmt_shape(&x.shape), axis);
    }
    let pos = {
        let guard = index.read();
        positions(&guard, index.range(), x.shape[ax], mode, "index")?
    };
    // The placed positions, a new index of the caller's shape: what pick reads and saves.
    let mut placed = try_vec(pos.len())?;
    placed.extend(pos.iter().map(|&p| p as f64));
    pick(x, &from_vec(placed, index.shape.clone()).into(), axis, keepdims)
}
