//! Neural-network ops: softmax family, picking and one-hot labels, arg-extrema, clipping and
//! selection, fully-connected layers, concatenation, dropout and batch normalisation.
//! Where an op is a composition of differentiable ops its gradient follows from theirs.

use std::sync::Arc;

use super::index::AxisIndex;
use super::kernel::Cmp;
use super::{add, compare_scalar, dot, exp, log, maximum_scalar, mean, minimum_scalar, mul, neg, reshape, reshape_to, slice, sqrt, sub, sum, sum_to};
use crate::array::shape::{broadcast_shapes, checked_size, normalize_axis};
use crate::cpu::loops::{try_alloc};
use crate::array::storage::{lock, try_vec, with_slice, Buffer, Storage};
use crate::array::{fmt_shape, from_vec, Array, DType, Element};
use crate::NdArray;
use crate::tape::{is_training, record, record_saving, Save};
use crate::error::{bail, Error, Result};

/// `shape` split around `axis`: (product before, length of, product after).
fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (shape[..axis].iter().product(), shape[axis], shape[axis + 1..].iter().product())
}

/// Softmax along `axis`, computed from `x - max(x)` so that large logits cannot overflow.
pub fn softmax(x: &NdArray, axis: i64) -> Result<NdArray> {
    let ax = normalize_axis(axis, x.ndim())?;
    let d = x.detach();
    let shifted = sub(&d, &super::max(&d, &[ax as i64], true)?)?;
    let e = exp(&shifted)?;
    let out = super::div(&e, &sum(&e, &[ax as i64], true)?)?;
    Ok(record("softmax", &[x], out, Save::OUTPUT, move |v| {
        // dx = y ⊙ (g − Σ g⊙y)
        let y = v.output();
        let inner = sum(&mul(v.grad, &y)?, &[ax as i64], true)?;
        Ok(vec![Some(mul(&y, &sub(v.grad, &inner)?)?)])
    }))
}

/// Log-softmax along `axis`: `x - max - log Σ exp(x - max)`, stable for large logits.
pub fn log_softmax(x: &NdArray, axis: i64) -> Result<NdArray> {
    let ax = normalize_axis(axis, x.ndim())?;
    let d = x.detach();
    let shifted = sub(&d, &super::max(&d, &[ax as i64], true)?)?;
    let out = sub(&shifted, &log(&sum(&exp(&shifted)?, &[ax as i64], true)?)?)?;
    Ok(record("log_softmax", &[x], out, Save::OUTPUT, move |v| {
        // dx = g − softmax ⊙ Σ g
        let total = sum(v.grad, &[ax as i64], true)?;
        Ok(vec![Some(sub(v.grad, &mul(&exp(&v.output())?, &total)?)?)])
    }))
}

/// Integer positions from an index array, each checked to be whole and in `0..n`.
fn positions(index: &NdArray, n: usize, what: &str) -> Result<Vec<usize>> {
    positions_of(&index.read(), index.range(), n, what)
}

/// `positions` of the elements `range` of `buf`.
fn positions_of(buf: &Buffer, range: std::ops::Range<usize>, n: usize, what: &str) -> Result<Vec<usize>> {
    let mut out = try_alloc(range.len())?;
    // Positions of any dtype: labels and indices are often integers.
    crate::array::storage::with_any_slice!(buf, range, |v: &[T]| {
        for (i, x) in v.iter().enumerate() {
            let v = crate::array::Scalar::value_f64(*x);
            if v.fract() != 0.0 || !(v >= 0.0 && v < n as f64) {
                bail!(Index, "{} {} at position {} is out of range for an axis of size {} (or not a whole number)", what, v, i, n);
            }
            out.push(v as usize);
        }
    });
    Ok(out)
}

/// `x`'s elements at the positions `index` gives along `axis` (MXNet's `pick`): `index` has
/// `x`'s shape without that axis. A position out of range is an error (MXNet clips it).
pub fn pick(x: &NdArray, index: &NdArray, axis: i64, keepdims: bool) -> Result<NdArray> {
    let ax = normalize_axis(axis, x.ndim())?;
    let mut reduced = x.shape.clone();
    reduced.remove(ax);
    let mut kept = x.shape.clone();
    kept[ax] = 1;
    if index.shape != reduced && index.shape != kept {
        bail!(Shape, "pick: index of shape {} does not match {} with axis {} removed", fmt_shape(&index.shape), fmt_shape(&x.shape), axis);
    }
    let (outer, n, inner) = split_at_axis(&x.shape, ax);
    // Both under one set of guards, read at one time.
    let locked = lock(&[&index.storage, &x.storage], &[]);
    let pos = Arc::new(positions_of(locked.get(&index.storage), index.range(), n, "index")?);
    let out = with_slice!(locked.get(&x.storage), x.range(), |v: &[T]| {
        let mut out = try_vec(outer * inner)?;
        // Over the output only: with `inner` 0, `outer` may be huge and there is nothing to do.
        for o in 0..if inner == 0 { 0 } else { outer } {
            for i in 0..inner {
                out.push(v[(o * n + pos[o * inner + i]) * inner + i]);
            }
        }
        Ok::<_, crate::Error>(from_vec(out, if keepdims { kept.clone() } else { reduced.clone() }))
    })?;
    drop(locked);
    let shape = x.shape.clone();
    Ok(record_saving("pick", &[x], &[index], out, Save::NOTHING, move |v| {
        Ok(vec![Some(pick_grad(v.grad, v.extra(0), &pos, &shape, ax, keepdims)?)])
    }))
}

/// The gradient of `pick`: `g` placed at the picked positions `pos` (validated by `pick`) of
/// zeros of `shape`. Its own gradient picks again, so second derivatives pass through.
fn pick_grad(g: &NdArray, index: &NdArray, pos: &Arc<Vec<usize>>, shape: &[usize], ax: usize, keepdims: bool) -> Result<NdArray> {
    let (outer, n, inner) = split_at_axis(shape, ax);
    let guard = g.read();
    let out = with_slice!(&*guard, g.range(), |gv: &[T]| {
        let mut out = crate::array::storage::filled_vec(checked_size(shape)?, T::of(0.0))?;
        for o in 0..if inner == 0 { 0 } else { outer } {
            for i in 0..inner {
                out[(o * n + pos[o * inner + i]) * inner + i] = gv[o * inner + i];
            }
        }
        Ok::<_, crate::Error>(from_vec(out, shape))
    })?;
    drop(guard);
    // The index is saved again: a second derivative reads it, after an in-place change too.
    Ok(record_saving("pick_grad", &[g], &[index], out, Save::NOTHING, move |v| Ok(vec![Some(pick(v.grad, v.extra(0), ax as i64, keepdims)?)])))
}

/// Softmax cross-entropy of `logits` (N, C) against integer class `labels` (N,): the mean
/// (or, with `sum`, the sum) over rows of `-log softmax(logits)[label]`. Shape (1,).
pub fn softmax_cross_entropy(logits: &NdArray, labels: &NdArray, sum_reduction: bool) -> Result<NdArray> {
    if logits.ndim() != 2 || labels.shape[..] != [logits.shape[0]] {
        bail!(
            Shape,
            "softmax_cross_entropy takes logits (N, C) and labels (N,); got {} and {}",
            fmt_shape(&logits.shape),
            fmt_shape(&labels.shape)
        );
    }
    positions(labels, logits.shape[1], "label")?;
    let losses = neg(&pick(&log_softmax(logits, 1)?, labels, 1, false)?)?;
    if sum_reduction {
        sum(&losses, &[], false)
    } else {
        mean(&losses, &[], false)
    }
}

/// One-hot rows: shape `indices.shape + (depth,)`, `on` at each index and `off` elsewhere; an
/// index outside `0..depth` gives a row of `off` (as MXNet). No gradient.
pub fn one_hot(indices: &NdArray, depth: usize, on: f64, off: f64, dtype: DType) -> Result<NdArray> {
    let mut shape = indices.shape.clone();
    shape.push(depth);
    let n = checked_size(&shape)?;
    // Indices of any dtype; `on` and `off` cast to `dtype` as astype casts.
    fn rows<T: crate::array::Scalar>(indices: &NdArray, depth: usize, on: f64, off: f64, n: usize) -> Result<Vec<T>> {
        let mut out = crate::array::storage::filled_vec(n, T::cast_f64(off))?;
        if n > 0 {
            let guard = indices.read();
            crate::array::storage::with_any_slice!(&*guard, indices.range(), |v: &[U]| {
                for (row, x) in v.iter().enumerate() {
                    let x = crate::array::Scalar::value_f64(*x);
                    if x >= 0.0 && x < depth as f64 {
                        out[row * depth + x as usize] = T::cast_f64(on);
                    }
                }
            });
        }
        Ok(out)
    }
    Ok(crate::array::storage::with_dtype!(dtype, T => from_vec(rows::<T>(indices, depth, on, off, n)?, shape)).into())
}

/// Positions of the maxima along `axis`, or in the flattened array when `axis` is `None`
/// (shape (1,)), as floats of `x`'s dtype. The first occurrence wins; NaN counts as the
/// maximum, as in NumPy. No gradient.
pub fn argmax(x: &NdArray, axis: Option<i64>, keepdims: bool) -> Result<NdArray> {
    arg_extreme(x, axis, keepdims, true)
}

/// Positions of the minima, as `argmax`'s of the maxima.
pub fn argmin(x: &NdArray, axis: Option<i64>, keepdims: bool) -> Result<NdArray> {
    arg_extreme(x, axis, keepdims, false)
}

/// `argmax` when `largest`, else `argmin`.
fn arg_extreme(x: &NdArray, axis: Option<i64>, keepdims: bool, largest: bool) -> Result<NdArray> {
    let (outer, n, inner) = match axis {
        None => (1, x.size(), 1),
        Some(a) => split_at_axis(&x.shape, normalize_axis(a, x.ndim())?),
    };
    if n == 0 {
        bail!(Shape, "arg{} of an empty axis (shape {})", if largest { "max" } else { "min" }, fmt_shape(&x.shape));
    }
    let shape = match axis {
        None if keepdims => vec![1; x.ndim().max(1)],
        None => vec![1],
        Some(a) => {
            let ax = normalize_axis(a, x.ndim())?;
            let mut s = x.shape.to_vec();
            if keepdims {
                s[ax] = 1;
                s
            } else {
                s.remove(ax);
                if s.is_empty() { vec![1] } else { s }
            }
        }
    };
    let guard = x.read();
    with_slice!(&*guard, x.range(), |v: &[T]| {
        let better = |a: T, b: T| if largest { a > b || (a.is_nan() && !b.is_nan()) } else { a < b || (a.is_nan() && !b.is_nan()) };
        let mut out = try_vec(outer * inner)?;
        // Over the output only: with `inner` 0, `outer` may be huge and there is nothing to do.
        for o in 0..if inner == 0 { 0 } else { outer } {
            for i in 0..inner {
                let at = |k: usize| v[(o * n + k) * inner + i];
                let best = (1..n).fold(0, |best, k| if better(at(k), at(best)) { k } else { best });
                out.push(T::of(best as f64));
            }
        }
        Ok(from_vec(out, shape).into())
    })
}

/// `x` limited to `[lo, hi]`; the gradient passes where `lo <= x <= hi`.
pub fn clip(x: &NdArray, lo: f64, hi: f64) -> Result<NdArray> {
    if lo.is_nan() || hi.is_nan() || lo > hi {
        bail!(InvalidArgument, "clip needs a_min <= a_max; got {} and {}", lo, hi);
    }
    maximum_scalar(&minimum_scalar(x, hi)?, lo)
}

/// Elements of `a` where `cond` is non-zero and of `b` elsewhere, all three broadcast.
pub fn where_(cond: &NdArray, a: &NdArray, b: &NdArray) -> Result<NdArray> {
    if a.dtype != b.dtype || cond.dtype != a.dtype {
        bail!(DType, "where: dtypes differ ({}, {}, {})", cond.dtype.name(), a.dtype.name(), b.dtype.name());
    }
    let shape = broadcast_shapes(&broadcast_shapes(&cond.shape, &a.shape)?, &b.shape)?;
    fn run<T: Element>(c: &NdArray, a: &NdArray, b: &NdArray, shape: &[usize]) -> Result<NdArray> {
        // The three under one set of guards: `where(c, x, x)` reads one storage, at one time.
        // The result is written over `b`'s broadcast values.
        let locked = lock(&[&c.storage, &a.storage, &b.storage], &[]);
        let at_shape = |x: &NdArray| -> Result<Vec<T>> {
            let v = &T::slice_of(locked.get(&x.storage)).expect("dtypes checked")[x.range()];
            super::kernel::broadcast_slice(v, &x.shape, shape)
        };
        let (cv, av, mut out) = (at_shape(c)?, at_shape(a)?, at_shape(b)?);
        for ((o, &c), &x) in out.iter_mut().zip(&cv).zip(&av) {
            if c != T::zero() {
                *o = x;
            }
        }
        Ok(from_vec(out, shape.to_vec()).into())
    }
    let out = match a.dtype {
        DType::F32 => run::<f32>(cond, a, b, &shape)?,
        DType::F64 => run::<f64>(cond, a, b, &shape)?,
        other => bail!(DType, "where of {} arrays: float32 and float64 only; astype to float32 first", other.name()),
    };
    Ok(record_saving("where", &[a, b], &[cond], out, Save::NOTHING, |v| {
        let mask = v.extra(0);
        let ga = if v.needs(0) { Some(sum_to(&mul(v.grad, &compare_scalar(mask, 0.0, Cmp::Ne)?)?, v.output_shape(), v.input_shape(0))?) } else { None };
        let gb = if v.needs(1) { Some(sum_to(&mul(v.grad, &compare_scalar(mask, 0.0, Cmp::Eq)?)?, v.output_shape(), v.input_shape(1))?) } else { None };
        Ok(vec![ga, gb])
    }))
}

/// A copy of `x` as a matrix: the first axis kept, the rest flattened ((N,) becomes (N, 1)).
/// A new array, as MXNet's Flatten gives (a reshape is a view).
pub fn flatten(x: &NdArray) -> Result<NdArray> {
    super::copy(&as_matrix(x)?)
}

/// `x` viewed as a matrix, as `flatten` gives it.
fn as_matrix(x: &NdArray) -> Result<NdArray> {
    match x.ndim() {
        0 => reshape_to(x, &[1, 1]),
        _ => reshape(x, &[x.shape[0] as i64, -1]),
    }
}

/// MXNet's FullyConnected: `y = x · weightᵀ + bias` with `weight` (num_hidden, k). With
/// `flatten`, `x` is first flattened to (N, k); otherwise the product is over its last axis.
/// The transpose is a stride swap inside the matrix product, never a copy.
pub fn fully_connected(x: &NdArray, weight: &NdArray, bias: Option<&NdArray>, flatten_input: bool) -> Result<NdArray> {
    if weight.ndim() != 2 {
        bail!(Shape, "fully_connected: weight must be 2-d (num_hidden, k); got {}", fmt_shape(&weight.shape));
    }
    let (hidden, k) = (weight.shape[0], weight.shape[1]);
    let features = if flatten_input { x.shape[1.min(x.ndim())..].iter().product() } else { x.shape.last().copied().unwrap_or(1) };
    if x.ndim() == 0 || features != k {
        bail!(
            Shape,
            "fully_connected: input {} has {} features{}, but weight {} expects {}",
            fmt_shape(&x.shape),
            features,
            if flatten_input { " per row once flattened" } else { " on its last axis" },
            fmt_shape(&weight.shape),
            k
        );
    }
    if let Some(b) = bias {
        if b.shape[..] != [hidden] {
            bail!(Shape, "fully_connected: bias must have shape ({},) for weight {}; got {}", hidden, fmt_shape(&weight.shape), fmt_shape(&b.shape));
        }
    }
    let x2 = if flatten_input { as_matrix(x)? } else { reshape(x, &[-1, k as i64])? };
    let mut y = dot(&x2, weight, false, true)?;
    if let Some(b) = bias {
        y = add(&y, b)?;
    }
    if flatten_input || x.ndim() == 2 {
        return Ok(y);
    }
    // Over the last axis: the input's shape with that axis replaced by num_hidden.
    let mut shape = x.shape.clone();
    *shape.last_mut().expect("ndim >= 1") = hidden;
    reshape_to(&y, &shape)
}

/// `arrays` joined along `axis`; all shapes must agree elsewhere.
pub fn concat(arrays: &[NdArray], axis: i64) -> Result<NdArray> {
    let Some(first) = arrays.first() else { bail!(InvalidArgument, "concat needs at least one array") };
    let ax = normalize_axis(axis, first.ndim())?;
    for (i, a) in arrays.iter().enumerate() {
        let same_rest = a.ndim() == first.ndim() && (0..a.ndim()).all(|d| d == ax || a.shape[d] == first.shape[d]);
        if a.dtype != first.dtype {
            bail!(DType, "concat: array {} is {}, but array 0 is {}", i, a.dtype.name(), first.dtype.name());
        }
        if !same_rest {
            bail!(
                Shape,
                "concat along axis {}: array {} has shape {} {}, which does not match {} {}",
                axis,
                i,
                fmt_shape(&a.shape),
                a.dtype.name(),
                fmt_shape(&first.shape),
                first.dtype.name()
            );
        }
    }
    let total = arrays.iter().try_fold(0usize, |t, a| t.checked_add(a.shape[ax]));
    let mut shape = first.shape.clone();
    shape[ax] = total.unwrap_or(usize::MAX);
    let n = match total.map(|_| checked_size(&shape)) {
        Some(Ok(n)) => n,
        Some(Err(e)) => return Err(Error::new(e.kind, format!("concat along axis {}: {}", axis, e.message))),
        None => bail!(Shape, "concat along axis {}: the {} arrays' lengths along it add up past what a dimension can hold", axis, arrays.len()),
    };
    let (outer, _, inner) = split_at_axis(&shape, ax);
    /// Each array's runs written into place.
    fn join<T: crate::array::Scalar>(arrays: &[NdArray], outer: usize, inner: usize, ax: usize, n: usize) -> Result<Vec<T>> {
        let mut out = try_vec(n)?;
        if n == 0 {
            return Ok(out);
        }
        // All of them under one set of guards: `concat([x, x])` reads one storage, at one time.
        let storages: Vec<&Storage> = arrays.iter().map(|a| &*a.storage).collect();
        let locked = lock(&storages, &[]);
        let row = n / outer;
        let dst = out.spare_capacity_mut().as_mut_ptr().cast::<T>();
        let mut at = 0;
        for a in arrays {
            let run = a.shape[ax] * inner;
            if run > 0 {
                let v = &T::slice_of(locked.get(&a.storage)).expect("dtypes checked")[a.range()];
                for o in 0..outer {
                    // SAFETY: run `o` of this array goes to [o·row + at, + run), inside the
                    // n reserved elements; the arrays' runs tile each row.
                    unsafe { std::ptr::copy_nonoverlapping(v[o * run..].as_ptr(), dst.add(o * row + at), run) };
                }
            }
            at += run;
        }
        // SAFETY: every one of the n elements was written above.
        unsafe { out.set_len(n) };
        Ok(out)
    }
    let out = crate::array::storage::with_dtype!(first.dtype, T => from_vec(join::<T>(arrays, outer, inner, ax, n)?, shape.clone()));
    let lengths: Vec<usize> = arrays.iter().map(|a| a.shape[ax]).collect();
    let inputs: Vec<&NdArray> = arrays.iter().collect();
    Ok(record("concat", &inputs, out, Save::NOTHING, move |v| {
        let mut start = 0;
        let mut grads = Vec::with_capacity(lengths.len());
        for (i, &len) in lengths.iter().enumerate() {
            let mut index: Vec<AxisIndex> =
                v.grad.shape[..ax].iter().map(|&d| AxisIndex::Range { start: 0, stop: d as i64, step: 1 }).collect();
            index.push(AxisIndex::Range { start: start as i64, stop: (start + len) as i64, step: 1 });
            grads.push(if v.needs(i) { Some(slice(v.grad, &index)?) } else { None });
            start += len;
        }
        Ok(grads)
    }))
}

/// `arrays` (all of one shape) stacked along a new axis `axis`.
pub fn stack(arrays: &[NdArray], axis: i64) -> Result<NdArray> {
    let Some(first) = arrays.first() else { bail!(InvalidArgument, "stack needs at least one array") };
    let ax = normalize_axis(axis, first.ndim() + 1)?;
    let expanded = arrays
        .iter()
        .enumerate()
        .map(|(i, a)| {
            if a.shape != first.shape {
                bail!(Shape, "stack: array {} has shape {}, but array 0 has {}", i, fmt_shape(&a.shape), fmt_shape(&first.shape));
            }
            let mut s = a.shape.clone();
            s.insert(ax, 1);
            reshape_to(a, &s)
        })
        .collect::<Result<Vec<_>>>()?;
    concat(&expanded, ax as i64)
}

/// Dropout: in training mode each element is zeroed with probability `p` and the rest are
/// scaled by 1/(1-p), from the seeded generator; in prediction mode it is the identity.
pub fn dropout(x: &NdArray, p: f64) -> Result<NdArray> {
    if !(0.0..1.0).contains(&p) {
        bail!(InvalidArgument, "dropout probability must be in [0, 1); got {}", p);
    }
    if !is_training() || p == 0.0 {
        return Ok(x.clone());
    }
    // Kept or dropped by a float64 draw, so that one seed gives one mask in either dtype.
    let scale = 1.0 / (1.0 - p);
    let mask = Array::random_with(&x.shape, x.dtype, |rng| if rng.next_f64() >= p { scale } else { 0.0 })?.into();
    mul(x, &mask)
}

/// Batch normalisation over every axis but `axis`. In training mode (and without
/// `use_global_stats`) it normalises with the batch mean and (biased) variance and updates
/// `running_mean`/`running_var` in place as `r = r·momentum + batch·(1-momentum)`; in
/// prediction mode it uses the running statistics. With `fix_gamma` the scale is 1.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm(
    x: &NdArray,
    gamma: &NdArray,
    beta: &NdArray,
    running_mean: &NdArray,
    running_var: &NdArray,
    momentum: f64,
    eps: f64,
    axis: i64,
    fix_gamma: bool,
    use_global_stats: bool,
) -> Result<NdArray> {
    let ax = normalize_axis(axis, x.ndim())?;
    let c = x.shape[ax];
    for (name, p) in [("gamma", gamma), ("beta", beta), ("running_mean", running_mean), ("running_var", running_var)] {
        if p.dtype != x.dtype {
            bail!(DType, "batch_norm: {} is {}, but the input is {}", name, p.dtype.name(), x.dtype.name());
        }
        if p.shape[..] != [c] {
            bail!(Shape, "batch_norm: {} must have shape ({},) and dtype {} for input {} on axis {}; got {} {}",
                name, c, x.dtype.name(), fmt_shape(&x.shape), axis, fmt_shape(&p.shape), p.dtype.name());
        }
    }
    let mut bshape = vec![1usize; x.ndim()];
    bshape[ax] = c;
    let axes: Vec<i64> = (0..x.ndim() as i64).filter(|&d| d != ax as i64).collect();
    let per_channel = |p: &NdArray| reshape_to(p, &bshape);
    let normalized = if is_training() && !use_global_stats {
        let m = mean(x, &axes, true)?;
        let centered = sub(x, &m)?;
        let var = mean(&super::square(&centered)?, &axes, true)?;
        for (running, batch) in [(running_mean, &m), (running_var, &var)] {
            let updated = add(
                &super::mul_scalar(running, momentum)?,
                &super::mul_scalar(&reshape_to(&batch.detach(), &[c])?, 1.0 - momentum)?,
            )?;
            super::write_slice(running, &[], &updated)?;
        }
        super::div(&centered, &sqrt(&super::add_scalar(&var, eps)?)?)?
    } else {
        let centered = sub(x, &per_channel(&running_mean.detach())?)?;
        super::div(&centered, &sqrt(&super::add_scalar(&per_channel(&running_var.detach())?, eps)?)?)?
    };
    let scaled = if fix_gamma { normalized } else { mul(&normalized, &per_channel(gamma)?)? };
    add(&scaled, &per_channel(beta)?)
}
