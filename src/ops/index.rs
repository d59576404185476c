//! Basic indexing: reading a strided region (`x[1:3]`, `x[:, 2]`, `x[::-1]`), differentiable,
//! and writing into one in place (`x[1:3] = v`). A read of a contiguous region is a view on
//! the same storage, as in MXNet; other reads copy.

use crate::array::shape::{broadcast_shapes, checked_size};
use crate::array::storage::{lock, try_vec, with_any_slice, with_dtype, Buffer};
use crate::array::dtype::convert;
use crate::array::{fmt_shape, int_in_place, update_typed, Array, DType, Element, InPlace, Scalar};
use crate::NdArray;
use crate::tape::{is_recording, record, Save};
use crate::error::{bail, Result};

use super::kernel;

/// How one axis is indexed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxisIndex {
    /// Positions `start, start + step, ...` before `stop` (Python's normalised slice, as
    /// `slice.indices(len)` gives it: for a negative step, `stop` may be -1).
    Range { start: i64, stop: i64, step: i64 },
    /// One position (negative counts from the end); the axis is dropped from the result.
    At(i64),
}

/// An index resolved against a shape: per axis the first position, the count and the step.
struct Region {
    first: Vec<usize>,
    count: Vec<usize>,
    step: Vec<isize>,
    /// The result's shape: the counts without the dropped axes.
    out_shape: Vec<usize>,
}

fn resolve(shape: &[usize], index: &[AxisIndex]) -> Result<Region> {
    if index.len() > shape.len() {
        bail!(Index, "too many indices ({}) for an array of shape {}", index.len(), fmt_shape(shape));
    }
    let mut r = Region { first: vec![0; shape.len()], count: shape.to_vec(), step: vec![1; shape.len()], out_shape: Vec::new() };
    for (axis, &dim) in shape.iter().enumerate() {
        // In i128: bounds at the ends of i64 (i64::MIN as a stop, say) would overflow the
        // arithmetic below in i64. Dimensions fit, being at most `MAX_ELEMENTS`.
        let dim_w = dim as i128;
        match index.get(axis) {
            None => r.out_shape.push(dim),
            Some(&AxisIndex::At(i)) => {
                let j = if i < 0 { i as i128 + dim_w } else { i as i128 };
                if !(0..dim_w).contains(&j) {
                    bail!(Index, "index {} is out of bounds for axis {} with size {}", i, axis, dim);
                }
                r.first[axis] = j as usize;
                r.count[axis] = 1;
            }
            Some(&AxisIndex::Range { start, stop, step }) => {
                if step == 0 {
                    bail!(InvalidArgument, "slice step cannot be zero (axis {})", axis);
                }
                let (start_w, stop_w, step_w) = (start as i128, stop as i128, step as i128);
                let span = if step > 0 { stop_w - start_w } else { start_w - stop_w };
                let count = if span > 0 { (span + step_w.abs() - 1) / step_w.abs() } else { 0 };
                let last = start_w + (count - 1) * step_w;
                // A normalised slice (`slice.indices`) has its bounds in -1..=len; further out
                // they are no slice of this axis, also when they select nothing.
                let bounds = -1..=dim_w;
                let outside = !bounds.contains(&start_w) || !bounds.contains(&stop_w);
                if outside || (count > 0 && !((0..dim_w).contains(&start_w) && (0..dim_w).contains(&last))) {
                    bail!(Index, "slice {}:{}:{} is out of bounds for axis {} with size {}", start, stop, step, axis, dim);
                }
                // Distinct positions inside the axis: count <= dim.
                r.first[axis] = if count > 0 { start as usize } else { 0 };
                r.count[axis] = count as usize;
                // Of one position or none the step is moot; with two or more, |step| < dim,
                // and stepping through the storage cannot overflow.
                r.step[axis] = if count > 1 { step as isize } else { 1 };
                r.out_shape.push(count as usize);
            }
        }
    }
    Ok(r)
}

/// Calls `f` with the storage offset (relative to the array's first element) of each element
/// of the region, in row-major order of the region.
fn walk(shape: &[usize], r: &Region, mut f: impl FnMut(usize)) {
    if r.count.contains(&0) {
        return;
    }
    let n = shape.len();
    let mut strides = vec![1isize; n];
    for k in (0..n.saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * shape[k + 1] as isize;
    }
    let base: isize = (0..n).map(|k| r.first[k] as isize * strides[k]).sum();
    let jump: Vec<isize> = (0..n).map(|k| r.step[k] * strides[k]).collect();
    let mut pos = vec![0usize; n];
    let mut offset = base;
    loop {
        f(offset as usize);
        // Odometer: advance the last axis, carrying into earlier ones.
        let mut k = n;
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            pos[k] += 1;
            offset += jump[k];
            if pos[k] < r.count[k] {
                break;
            }
            offset -= jump[k] * r.count[k] as isize;
            pos[k] = 0;
        }
    }
}

/// The region's offset in the array when its elements are one contiguous run in row-major
/// order (then a view on the same storage suffices, as in MXNet): single positions on the
/// leading axes, then at most one step-1 range, then whole axes.
fn contiguous_offset(shape: &[usize], r: &Region) -> Option<usize> {
    let n = shape.len();
    // The axes after `k` must be whole; axis `k` may be any step-1 range; before it, one position each.
    let k = (0..n).rev().find(|&ax| !(r.first[ax] == 0 && r.count[ax] == shape[ax])).unwrap_or(0);
    let partial_ok = n == 0 || r.count[k] <= 1 || r.step[k] == 1;
    let leading_ok = (0..k).all(|ax| r.count[ax] == 1);
    if !(partial_ok && leading_ok) {
        return None;
    }
    let mut offset = 0;
    let mut stride = 1;
    for ax in (0..n).rev() {
        offset += r.first[ax] * stride;
        stride *= shape[ax];
    }
    Some(offset)
}

/// The elements of `a` that `index` selects (axes past the index's length are taken whole).
pub fn slice(a: &NdArray, index: &[AxisIndex]) -> Result<NdArray> {
    let r = resolve(&a.shape, index)?;
    let out = match contiguous_offset(&a.shape, &r) {
        Some(offset) => Array { offset: a.offset + offset, shape: r.out_shape.as_slice().into(), ..a.data.clone() },
        None => gather(a, &r)?,
    };
    let index = index.to_vec();
    Ok(record("slice", &[a], out, Save::NOTHING, move |v| {
        Ok(vec![Some(slice_grad(v.grad, v.input_shape(0), &index)?)])
    }))
}

fn gather(a: &Array, r: &Region) -> Result<Array> {
    let n = checked_size(&r.out_shape)?;
    let guard = a.read();
    with_any_slice!(&*guard, a.range(), |v: &[T]| {
        let mut out = try_vec(n)?;
        walk(&a.shape, r, |off| out.push(v[off]));
        Ok(crate::array::from_vec(out, r.out_shape.clone()))
    })
}

/// The gradient of `slice`: `g` placed into zeros of `shape` at the region. Differentiable
/// too (its own gradient is the slice), so second derivatives pass through indexing.
fn slice_grad(g: &NdArray, shape: &[usize], index: &[AxisIndex]) -> Result<NdArray> {
    let r = resolve(shape, index)?;
    let out = NdArray::zeros(shape, g.dtype)?;
    write_region(&out, &r, g, &g.shape, InPlace::Assign)?;
    let index = index.to_vec();
    Ok(record("slice_grad", &[g], out, Save::NOTHING, move |v| Ok(vec![Some(slice(v.grad, &index)?)])))
}

/// `dst[r] op= src` in place as one atomic step: `src`'s elements, read as `src_shape` (its
/// shape, perhaps without leading length-1 axes), converted to `dst`'s dtype and broadcast to
/// the region's shape, are read under the same guards as `dst` is written (see
/// `array::storage`), so that another thread's write to either is seen whole or not at all.
fn write_region(dst: &NdArray, r: &Region, src: &NdArray, src_shape: &[usize], op: InPlace) -> Result<()> {
    // Element by element in the reference mode.
    let contiguous = contiguous_offset(&dst.shape, r).filter(|_| !crate::reference::enabled());
    if let Some(offset) = contiguous {
        if src.dtype == dst.dtype && src_shape == &r.out_shape[..] {
            // A contiguous region (`x[:] = y`, `x[1:3] = y`, `x += y`), the same that reads as
            // a view: one straight pass into that view, from `src`'s own storage.
            let view = Array { offset: dst.offset + offset, shape: src.shape.clone(), ..dst.data.clone() };
            return view.update_with(src, op);
        }
    }
    let mut locked = lock(&[&src.storage], &[&dst.storage]);
    // Copied out before `dst`'s buffer is borrowed for writing: `src` may share it.
    let values = region_values(locked.get(&src.storage), src.range(), src_shape, &r.out_shape, dst.dtype)?;
    let (mut written, _) = locked.split(&[&dst.storage]);
    let range = dst.range();
    match (&mut *written[0], &values) {
        (Buffer::F32(d), Buffer::F32(v)) => write_typed(&mut d[range], &dst.shape, r, contiguous, v, op),
        (Buffer::F64(d), Buffer::F64(v)) => write_typed(&mut d[range], &dst.shape, r, contiguous, v, op),
        (Buffer::F16(d), Buffer::F16(v)) => {
            let (d, f) = (&mut d[range], crate::array::f16_in_place(op));
            let mut values = v.iter();
            walk(&dst.shape, r, |off| d[off] = f(d[off], *values.next().expect("values have the region's size")));
        }
        (d, v) if op == InPlace::Assign || (dst.dtype != DType::Bool && op != InPlace::Div) => {
            /// `d[r] op= v` for any dtype; `f` is the op on its elements.
            fn write<T: Scalar>(d: &mut Buffer, v: &Buffer, range: std::ops::Range<usize>, shape: &[usize], r: &Region, f: fn(T, T) -> T) {
                let (d, v) = (&mut T::slice_of_mut(d).expect("dst's dtype")[range], T::slice_of(v).expect("converted to dst's dtype"));
                let mut values = v.iter();
                walk(shape, r, |off| d[off] = f(d[off], *values.next().expect("values have the region's size")));
            }
            fn int<T: crate::array::dtype::Integer>(op: InPlace) -> fn(T, T) -> T {
                int_in_place::<T>(op).expect("not a division")
            }
            match dst.dtype {
                DType::U8 => write::<u8>(d, v, range, &dst.shape, r, int(op)),
                DType::I8 => write::<i8>(d, v, range, &dst.shape, r, int(op)),
                DType::I32 => write::<i32>(d, v, range, &dst.shape, r, int(op)),
                DType::I64 => write::<i64>(d, v, range, &dst.shape, r, int(op)),
                _ => with_dtype!(dst.dtype, T => write::<T>(d, v, range, &dst.shape, r, |_, s| s)),
            }
        }
        _ => bail!(DType, "in-place {:?} into a {} array is not computed (integer arrays take = + - *, bool arrays =); astype to float32 first", op, dst.dtype.name()),
    }
    Ok(())
}

/// The elements `range` of `buf`, of `shape`, converted to `dtype` and broadcast to `out`.
pub(super) fn region_values(buf: &Buffer, range: std::ops::Range<usize>, shape: &[usize], out: &[usize], dtype: DType) -> Result<Buffer> {
    fn typed<T: Scalar>(buf: &Buffer, range: std::ops::Range<usize>, shape: &[usize], out: &[usize]) -> Result<Vec<T>> {
        if let Some(all) = T::slice_of(buf) {
            return kernel::broadcast_slice(&all[range], shape, out);
        }
        let converted: Vec<T> = with_any_slice!(buf, range, |v: &[U]| {
            let mut c = try_vec(v.len())?;
            c.extend(v.iter().map(|&x| convert::<U, T>(x)));
            Ok::<_, crate::Error>(c)
        })?;
        kernel::broadcast_slice(&converted, shape, out)
    }
    Ok(with_dtype!(dtype, T => T::wrap(typed::<T>(buf, range, shape, out)?)))
}

/// `dst`'s region `r` (at `contiguous` when it is one run) `op=` `values`, in the region's
/// row-major order.
fn write_typed<T: Element>(dst: &mut [T], shape: &[usize], r: &Region, contiguous: Option<usize>, values: &[T], op: InPlace) {
    if let Some(offset) = contiguous {
        return update_typed(&mut dst[offset..offset + values.len()], values, op);
    }
    let mut values = values.iter();
    walk(shape, r, |off| {
        let (d, s) = (&mut dst[off], *values.next().expect("values have the region's size"));
        match op {
            InPlace::Assign => *d = s,
            InPlace::Add => *d += s,
            InPlace::Sub => *d -= s,
            InPlace::Mul => *d *= s,
            InPlace::Div => *d /= s,
        }
    });
}

/// `dst[index] = src` in place: `src` is broadcast to the indexed shape and converted to
/// `dst`'s dtype. Everything that shares `dst`'s storage sees the change. Not allowed inside a
/// record scope on an array that is in the graph (its recorded uses would silently change).
pub fn write_slice(dst: &NdArray, index: &[AxisIndex], src: &NdArray) -> Result<()> {
    check_writable(dst, src)?;
    let r = resolve(&dst.shape, index)?;
    // As NumPy: leading length-1 axes of the value may exceed the target's (x[1] = [5]).
    let mut shape: &[usize] = &src.shape;
    while shape.len() > r.out_shape.len() && shape[0] == 1 {
        shape = &shape[1..];
    }
    if broadcast_shapes(shape, &r.out_shape).ok().as_deref() != Some(&r.out_shape[..]) {
        bail!(Shape, "could not broadcast a value of shape {} into the indexed shape {}", fmt_shape(shape), fmt_shape(&r.out_shape));
    }
    write_region(dst, &r, src, shape, InPlace::Assign)
}

/// `dst op= src` in place (`x += y`, `w -= lr * g`): `src` is broadcast to `dst`'s shape and
/// converted to its dtype; everything sharing `dst`'s storage sees the change. The same rules
/// as `write_slice` inside a record scope. Same shapes and dtypes take one pass over the data
/// instead of a new array and a copy.
pub fn update(dst: &NdArray, src: &NdArray, op: InPlace) -> Result<()> {
    check_writable(dst, src)?;
    if src.shape == dst.shape && src.dtype == dst.dtype && !crate::reference::enabled() {
        // A pending value (`w -= lr * g`) runs straight into dst: one pass, not two.
        if super::fuse::update(dst, src, op)? {
            return Ok(());
        }
        return dst.update_with(src, op);
    }
    let shape = broadcast_shapes(&dst.shape, &src.shape)?;
    if shape[..] != dst.shape[..] {
        bail!(
            Shape,
            "cannot update an array of shape {} in place with one of shape {}: the result would have shape {}",
            fmt_shape(&dst.shape),
            fmt_shape(&src.shape),
            fmt_shape(&shape)
        );
    }
    write_region(dst, &resolve(&dst.shape, &[])?, src, &src.shape, op)
}

/// Refuses in-place writes that would silently change a recorded graph.
pub(super) fn check_writable(dst: &NdArray, src: &NdArray) -> Result<()> {
    if is_recording() && dst.origin.is_some() {
        bail!(
            Autograd,
            "cannot write in place into an array (shape {}) that is part of the recorded graph inside a record scope; write outside the scope or compute a new array",
            fmt_shape(&dst.shape)
        );
    }
    if is_recording() && src.origin.is_some() {
        // The write would drop the value's history: gradients could not flow through it.
        bail!(
            Autograd,
            "cannot write a recorded value (shape {}) in place inside a record scope: gradients would not flow through the write; compute a new array instead",
            fmt_shape(&src.shape)
        );
    }
    Ok(())
}

/// `a`'s elements converted to `dtype` (NumPy's rules: `Scalar::cast_f64`, `cast_i64`); the
/// gradient is converted back. A result of an integer or bool dtype is a constant (the tape
/// records no integer arrays).
pub fn astype(a: &NdArray, dtype: DType) -> Result<NdArray> {
    if a.dtype == dtype {
        return Ok(a.clone());
    }
    let buf = with_dtype!(dtype, T => T::wrap(a.try_to_vec::<T>()?));
    let out = Array::from_buffer(buf, a.shape.clone());
    // A float16 input's gradient stays float32: gradients flow in the dtype computed in.
    let back = if a.dtype == DType::F16 { DType::F32 } else { a.dtype };
    Ok(record("astype", &[a], out, Save::NOTHING, move |v| Ok(vec![Some(astype(v.grad, back)?)])))
}
