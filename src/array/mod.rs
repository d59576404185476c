//! N-dimensional arrays of values: `Array`, a row-major view (offset + shape) on shared
//! storage, with the storage, the element types, shapes and printing beside it. Cloning an
//! `Array` is cheap and shares the storage. Where an array sits in the autograd graph is the
//! tape's business (`crate::NdArray`, an `Array` with its graph entry).

pub mod dtype;
pub(crate) mod host_ranges;
pub mod loan;
pub mod pool;
pub mod print;
pub mod random;
mod sample;
pub mod shape;
pub mod storage;

use std::sync::{Arc, RwLockReadGuard};

pub use dtype::{Bool, DType, Element, Scalar};
pub use shape::{fmt_shape, Shape};
use shape::{checked_size, shape_of};
use storage::{try_vec, with_any_slice, with_dtype, Buffer, Storage};

use crate::error::{bail, Result};

pub struct Array {
    pub(crate) storage: Arc<Storage>,
    /// First element of this array in the storage (a leading-axis slice shares storage).
    pub(crate) offset: usize,
    pub(crate) shape: Shape,
    pub(crate) dtype: DType,
}

impl Clone for Array {
    #[inline]
    fn clone(&self) -> Array {
        Array {
            storage: self.storage.clone(),
            offset: self.offset,
            // A slice copy: SmallVec's generic clone goes element by element.
            shape: shape_of(&self.shape),
            dtype: self.dtype,
        }
    }
}

impl std::fmt::Debug for Array {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Array{}", self.repr())
    }
}

impl Array {
    /// A new array owning `buf`, which must hold exactly the shape's element count.
    #[inline]
    pub(crate) fn from_buffer(buf: Buffer, shape: impl Into<Shape>) -> Array {
        let shape = shape.into();
        debug_assert_eq!(buf.len(), shape.iter().product::<usize>());
        Array { dtype: buf.dtype(), storage: Storage::new(buf), offset: 0, shape }
    }

    /// An array with a copy of `data` in `shape` (the lengths must agree).
    pub fn from_slice<T: Scalar>(data: &[T], shape: &[usize]) -> Result<Array> {
        let n = checked_size(shape)?;
        if data.len() != n {
            bail!(Shape, "{} values given for shape {}, which holds {}", data.len(), fmt_shape(shape), n);
        }
        let mut v = try_vec(n)?;
        v.extend_from_slice(data);
        Ok(Array::from_buffer(T::wrap(v), shape.to_vec()))
    }

    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Result<Array> {
        let n = checked_size(shape)?;
        Ok(Array::from_buffer(Buffer::filled(dtype, n, value)?, shape.to_vec()))
    }

    pub fn zeros(shape: &[usize], dtype: DType) -> Result<Array> {
        Array::full(shape, 0.0, dtype)
    }

    pub fn ones(shape: &[usize], dtype: DType) -> Result<Array> {
        Array::full(shape, 1.0, dtype)
    }

    /// `start, start + step, ...` up to but excluding `stop`, as NumPy's arange.
    pub fn arange(start: f64, stop: f64, step: f64, dtype: DType) -> Result<Array> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
            bail!(InvalidArgument, "arange needs finite start, stop and a non-zero step; got start {}, stop {}, step {}", start, stop, step);
        }
        let count = ((stop - start) / step).ceil();
        if count > (isize::MAX as usize / 8) as f64 {
            bail!(Alloc, "arange({}, {}, {}) would have {:e} elements, more than can be allocated", start, stop, step, count);
        }
        let n = if count > 0.0 { count as usize } else { 0 };
        // start + i·step in the array's dtype, as MXNet computes it (so float32 values match
        // MXNet's bit for bit, 0.90000004 included).
        fn fill<T: Element>(n: usize, start: f64, step: f64) -> Result<Vec<T>> {
            let (start, step) = (T::of(start), T::of(step));
            let mut v = try_vec(n)?;
            v.extend((0..n).map(|i| start + T::of(i as f64) * step));
            Ok(v)
        }
        // Other dtypes, as MXNet's kernel: start and step converted to the dtype first, then
        // start + i·step in integers.
        fn cast<T: Scalar>(n: usize, start: f64, step: f64) -> Result<Vec<T>> {
            let (start, step) = (i64::cast_f64(start), i64::cast_f64(step));
            let mut v = try_vec(n)?;
            v.extend((0..n).map(|i| T::cast_i64(T::cast_i64(start).value_i64().wrapping_add((i as i64).wrapping_mul(T::cast_i64(step).value_i64())))));
            Ok(v)
        }
        Ok(match dtype {
            DType::F32 => Array::from_buffer(Buffer::F32(fill(n, start, step)?.into()), [n].as_slice()),
            DType::F64 => Array::from_buffer(Buffer::F64(fill(n, start, step)?.into()), [n].as_slice()),
            other => with_dtype!(other, T => from_vec(cast::<T>(n, start, step)?, [n].as_slice())),
        })
    }

    /// Draws from N(loc, scale²) with the process-wide seeded generator.
    pub fn random_normal(loc: f64, scale: f64, shape: &[usize], dtype: DType) -> Result<Array> {
        sample::check_normal(loc, scale)?;
        Array::random_with(shape, dtype, |rng| loc + scale * rng.next_normal())
    }

    /// Draws from U[low, high) with the process-wide seeded generator.
    pub fn random_uniform(low: f64, high: f64, shape: &[usize], dtype: DType) -> Result<Array> {
        sample::check_uniform(low, high)?;
        let a = Array::random_with(shape, dtype, |rng| low + (high - low) * rng.next_f64())?;
        if low < high {
            // Rounding (to f32, or of the f64 sum) can land on `high`; keep the interval open.
            let mut guard = a.storage.write();
            match &mut *guard {
                Buffer::F32(v) => v.iter_mut().filter(|x| **x >= high as f32).for_each(|x| *x = (high as f32).next_down()),
                Buffer::F64(v) => v.iter_mut().filter(|x| **x >= high).for_each(|x| *x = high.next_down()),
                _ => {}
            }
        }
        Ok(a)
    }

    /// Draws from the exponential distribution with mean `scale` > 0 (MXNet's `scale`, the
    /// inverse of the rate) with the process-wide seeded generator.
    pub fn random_exponential(scale: f64, shape: &[usize], dtype: DType) -> Result<Array> {
        sample::check_exponential(scale)?;
        Array::random_with(shape, dtype, |rng| scale * rng.next_exponential())
    }

    /// Draws from the gamma distribution with shape `alpha` > 0 and scale `beta` > 0 (mean
    /// alpha·beta) with the process-wide seeded generator.
    pub fn random_gamma(alpha: f64, beta: f64, shape: &[usize], dtype: DType) -> Result<Array> {
        sample::check_gamma(alpha, beta)?;
        Array::random_with(shape, dtype, |rng| beta * rng.next_gamma(alpha))
    }

    /// Draws from the Poisson distribution with mean `lam` >= 0 (whole numbers, as floats)
    /// with the process-wide seeded generator.
    pub fn random_poisson(lam: f64, shape: &[usize], dtype: DType) -> Result<Array> {
        sample::check_poisson(lam)?;
        Array::random_with(shape, dtype, |rng| rng.next_poisson(lam))
    }

    /// Draws whole numbers uniformly from [low, high) (MXNet's `randint`), as int32 or int64
    /// (MXNet's dtypes; the bounds must fit the dtype), or held as floats: then both bounds
    /// must lie within the range where `dtype` holds every whole number exactly (±2^24 for
    /// float32, ±2^53 for float64), so that every value is equally likely.
    pub fn random_randint(low: i64, high: i64, shape: &[usize], dtype: DType) -> Result<Array> {
        if low >= high {
            bail!(InvalidArgument, "random randint needs low < high; got low {}, high {}", low, high);
        }
        let (min, max): (i128, i128) = match dtype {
            DType::F32 => (-(1 << 24), 1 << 24),
            DType::F64 => (-(1 << 53), 1 << 53),
            DType::I32 => (i32::MIN as i128, i32::MAX as i128 + 1),
            DType::I64 => (i64::MIN as i128, i64::MAX as i128 + 1),
            other => bail!(DType, "random randint's `dtype` is int32, int64, float32 or float64, not {}", other.name()),
        };
        if (low as i128) < min || (high as i128) > max {
            let what = if dtype.is_float() { "holds whole numbers exactly only within" } else { "holds only" };
            bail!(InvalidArgument, "random randint in {} {} [{}, {}); got low {}, high {}", dtype.name(), what, min, max, low, high);
        }
        // high - low < 2^64 always: both are i64.
        let span = (high as i128 - low as i128) as u64;
        let draw = |rng: &mut random::Rng| (low as i128 + rng.next_below(span) as i128) as i64;
        match dtype {
            DType::I32 | DType::I64 => {
                let n = checked_size(shape)?;
                let mut v: Vec<i64> = try_vec(n)?;
                random::with_rng(|rng| v.extend((0..n).map(|_| draw(rng))));
                let buf = if dtype == DType::I64 {
                    Buffer::I64(v.into())
                } else {
                    let mut w: Vec<i32> = try_vec(n)?;
                    w.extend(v.iter().map(|&x| x as i32));
                    Buffer::I32(w.into())
                };
                Ok(Array::from_buffer(buf, shape.to_vec()))
            }
            _ => Array::random_with(shape, dtype, |rng| draw(rng) as f64),
        }
    }

    /// A copy with its items along the first axis in a uniformly random order (Fisher–Yates
    /// with the process-wide seeded generator), as MXNet's `shuffle`. A 0-d array, or one with
    /// no items, is copied as it is.
    pub fn random_shuffle(&self) -> Result<Array> {
        let size = self.size();
        let rows = self.shape.first().copied().unwrap_or(1);
        if rows <= 1 || size == 0 {
            return Ok(Array::from_buffer(self.clone_buffer()?, self.shape.to_vec()));
        }
        let stride = size / rows;
        let mut order: Vec<usize> = crate::cpu::loops::try_alloc(rows)?;
        order.extend(0..rows);
        random::with_rng(|rng| {
            for i in (1..rows).rev() {
                order.swap(i, rng.next_below(i as u64 + 1) as usize);
            }
        });
        let guard = self.read();
        let buf = with_any_slice!(&*guard, self.range(), |v: &[T]| {
            let mut out = try_vec(size)?;
            for &row in &order {
                out.extend_from_slice(&v[row * stride..(row + 1) * stride]);
            }
            T::wrap(out)
        });
        Ok(Array::from_buffer(buf, self.shape.to_vec()))
    }

    /// An array of `draw`'s values (float64, rounded to `dtype`), one per element in
    /// row-major order, from the process-wide seeded generator.
    pub(crate) fn random_with(shape: &[usize], dtype: DType, mut draw: impl FnMut(&mut random::Rng) -> f64) -> Result<Array> {
        if !dtype.is_float() {
            bail!(DType, "random draws need a float `dtype` (float32 or float64, as MXNet's), not {}: draw in float and astype", dtype.name());
        }
        let n = checked_size(shape)?;
        let mut v: Vec<f64> = try_vec(n)?;
        random::with_rng(|rng| v.extend((0..n).map(|_| draw(rng))));
        Array::from_draws(v, shape, dtype)
    }

    /// Draws made in float64, held as `dtype` (NumPy's cast: whole-number draws are exact in
    /// any dtype whose range the caller checked).
    pub(crate) fn from_draws(v: Vec<f64>, shape: &[usize], dtype: DType) -> Result<Array> {
        if dtype == DType::F64 {
            return Ok(Array::from_buffer(Buffer::F64(v.into()), shape.to_vec()));
        }
        fn cast<T: Scalar>(v: &[f64]) -> Result<Buffer> {
            let mut w: Vec<T> = try_vec(v.len())?;
            w.extend(v.iter().map(|&x| T::cast_f64(x)));
            Ok(T::wrap(w))
        }
        let buf = with_dtype!(dtype, T => cast::<T>(&v))?;
        Ok(Array::from_buffer(buf, shape.to_vec()))
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The element range of this array within its storage.
    pub(crate) fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.size()
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Buffer> {
        self.storage.read()
    }

    /// The elements as `T` (converted when the array holds the other dtype), or an `Alloc`
    /// error when the copy cannot be allocated. What the C API reaches uses this, or
    /// `copy_to`, and never `to_vec`, which aborts as `Vec` does when memory runs out.
    pub fn try_to_vec<T: Scalar>(&self) -> Result<Vec<T>> {
        let mut out = try_vec(self.size())?;
        let guard = self.read();
        match T::slice_of(&guard) {
            Some(all) => out.extend_from_slice(&all[self.range()]),
            None => with_any_slice!(&*guard, self.range(), |v: &[U]| out.extend(v.iter().map(|&x| dtype::convert::<U, T>(x)))),
        }
        Ok(out)
    }

    /// Computes the values now if they are pending (fused element-wise work runs when a value
    /// is first needed), as MXNet's `wait_to_read` waits for an array's pending writes: a
    /// clock stopped after it counts the work.
    pub fn wait_to_read(&self) {
        self.storage.force();
    }

    /// Writes the elements as `T` (converted as `astype` converts when the array holds another
    /// dtype) into `out`, which must have the array's size: no copy in between.
    pub fn copy_to<T: Scalar>(&self, out: &mut [T]) {
        let guard = self.read();
        match T::slice_of(&guard) {
            Some(all) => out.copy_from_slice(&all[self.range()]),
            None => with_any_slice!(&*guard, self.range(), |v: &[U]| {
                assert_eq!(out.len(), v.len(), "copy_to needs room for exactly the array's elements");
                out.iter_mut().zip(v).for_each(|(o, &x)| *o = dtype::convert::<U, T>(x))
            }),
        }
    }

    /// The elements converted to f64, in row-major order.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        let guard = self.read();
        with_any_slice!(&*guard, self.range(), |v: &[T]| v.iter().map(|x| x.value_f64()).collect())
    }

    /// The elements as `T` (converted as `astype` converts when the array holds another dtype).
    pub fn to_vec<T: Scalar>(&self) -> Vec<T> {
        let guard = self.read();
        if let Some(all) = T::slice_of(&guard) {
            return all[self.range()].to_vec();
        }
        with_any_slice!(&*guard, self.range(), |v: &[U]| v.iter().map(|&x| dtype::convert::<U, T>(x)).collect())
    }

    /// The one element of a size-1 array.
    pub fn asscalar(&self) -> Result<f64> {
        if self.size() != 1 {
            bail!(Shape, "asscalar needs an array of exactly one element; this one has shape {}", fmt_shape(&self.shape));
        }
        Ok(self.to_f64_vec()[0])
    }

    /// A fresh buffer holding this array's elements.
    pub(crate) fn clone_buffer(&self) -> Result<Buffer> {
        copy_range(&self.read(), self.range())
    }

    /// Whether this array is the only user of its storage (so writing into it is invisible).
    pub(crate) fn is_sole_owner(&self) -> bool {
        Arc::strong_count(&self.storage) == 1
    }

    /// Overwrites this array's elements with `src`'s (same shape and dtype). Used for gradient
    /// buffers, which handles may share.
    pub(crate) fn assign(&self, src: &Array) -> Result<()> {
        self.update_with(src, InPlace::Assign)
    }

    /// Adds `src`'s elements into this array's (same shape and dtype).
    pub(crate) fn add_assign(&self, src: &Array) -> Result<()> {
        self.update_with(src, InPlace::Add)
    }

    /// Multiplies this array's elements by `s` in place (rounding as `a * s` does).
    pub(crate) fn scale(&self, s: f64) {
        let range = self.range();
        let mut guard = self.storage.write();
        match &mut *guard {
            Buffer::F32(d) => {
                let s = s as f32;
                crate::cpu::loops::modify_chunked(&mut d[range], |d| d.iter_mut().for_each(|x| *x *= s))
            }
            Buffer::F64(d) => crate::cpu::loops::modify_chunked(&mut d[range], |d| d.iter_mut().for_each(|x| *x *= s)),
            other => panic!("scale of {} elements: gradients are float", other.dtype().name()),
        }
    }

    /// `self op= src` element by element (same shape and dtype), in place, as one atomic step:
    /// `src` is read under the same guards (see `storage`).
    pub(crate) fn update_with(&self, src: &Array, op: InPlace) -> Result<()> {
        if src.shape != self.shape || src.dtype != self.dtype {
            bail!(Shape, "cannot write an array of shape {} {} into one of shape {} {}",
                fmt_shape(&src.shape), src.dtype.name(), fmt_shape(&self.shape), self.dtype.name());
        }
        let mut locked = storage::lock(&[&src.storage], &[&self.storage]);
        // Sharing storage (`x *= x`), the source is copied out first: the two ranges may overlap.
        let copy = if Arc::ptr_eq(&self.storage, &src.storage) { Some(copy_range(locked.get(&src.storage), src.range())?) } else { None };
        let (mut written, read) = locked.split(&[&self.storage]);
        let (src_buf, src_range) = match &copy {
            Some(c) => (c, 0..src.size()),
            None => (read.get(&src.storage).expect("a storage only read"), src.range()),
        };
        let range = self.range();
        match (&mut *written[0], src_buf) {
            (Buffer::F32(d), Buffer::F32(s)) => update_typed(&mut d[range], &s[src_range], op),
            (Buffer::F64(d), Buffer::F64(s)) => update_typed(&mut d[range], &s[src_range], op),
            (d, s) => {
                let (dst_dtype, src_dtype) = (d.dtype(), s.dtype());
                let done = match (d, s) {
                    (Buffer::U8(d), Buffer::U8(s)) => update_int(&mut d[range], &s[src_range], op),
                    (Buffer::I8(d), Buffer::I8(s)) => update_int(&mut d[range], &s[src_range], op),
                    (Buffer::I32(d), Buffer::I32(s)) => update_int(&mut d[range], &s[src_range], op),
                    (Buffer::I64(d), Buffer::I64(s)) => update_int(&mut d[range], &s[src_range], op),
                    (Buffer::F16(d), Buffer::F16(s)) => {
                        let f = f16_in_place(op);
                        d[range].iter_mut().zip(&s[src_range]).for_each(|(d, &s)| *d = f(*d, s));
                        true
                    }
                    (Buffer::Bool(d), Buffer::Bool(s)) if op == InPlace::Assign => {
                        d[range].copy_from_slice(&s[src_range]);
                        true
                    }
                    _ => false,
                };
                if !done {
                    bail!(DType, "in-place {:?} of {} into {} is not computed (integer arrays take = + - *, bool arrays =); astype to float32 first",
                        op, src_dtype.name(), dst_dtype.name());
                }
            }
        }
        Ok(())
    }

    /// Overwrites this array's elements with `src`'s, taking `src`'s buffer outright (no copy)
    /// when nothing else uses it and it is exactly this array's size (a copy in the reference
    /// mode).
    pub(crate) fn assign_from(&self, src: Array) -> Result<()> {
        // Nothing else holds `src`'s storage, so it is not this array's.
        if !crate::reference::enabled()
            && src.shape == self.shape
            && src.dtype == self.dtype && Arc::strong_count(&src.storage) == 1 && src.offset == 0 && self.offset == 0 {
            let mut locked = storage::lock(&[], &[&self.storage, &src.storage]);
            let (mut bufs, _) = locked.split(&[&self.storage, &src.storage]);
            let [mine, theirs] = &mut bufs[..] else { unreachable!("two storages locked") };
            // A lent buffer stays where the host was told it is, and the host's memory stays
            // the array's it made.
            let pinned = self.storage.is_lent() || src.storage.is_lent() || mine.is_host() || theirs.is_host();
            if mine.len() == self.size() && theirs.len() == src.size() && !pinned {
                std::mem::swap(&mut **mine, &mut **theirs);
                return Ok(());
            }
        }
        self.assign(&src)
    }

    /// MXNet's `repr`: a blank line, NumPy's text of the values, and the shape/context footer.
    pub fn repr(&self) -> String {
        self.try_repr().expect("memory for the text")
    }

    /// `repr`, or an `Alloc` error when memory for the text cannot be had (it can be many
    /// times the size of the data: a (6, 6, ..., 6) array is printed whole).
    pub fn try_repr(&self) -> Result<String> {
        let mut text = print::Text::default();
        let written = (|| {
            text.push("\n")?;
            {
                let guard = self.read();
                with_any_slice!(&*guard, self.range(), |v: &[T]| print::write_array(v, &self.shape, &mut text))?;
            }
            text.push("\n<NDArray ")?;
            for (i, d) in self.shape.iter().enumerate() {
                text.push(if i > 0 { "x" } else { "" })?;
                text.push(&d.to_string())?;
            }
            text.push(" @cpu(0)>")
        })();
        match written {
            Ok(()) => Ok(text.into_string()),
            Err(_) => bail!(Alloc, "cannot allocate memory for the text of an array of shape {}", fmt_shape(&self.shape)),
        }
    }
}

/// How an in-place write combines an element of the destination with the source's:
/// `dst = src`, or `dst op= src`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InPlace {
    Assign,
    Add,
    Sub,
    Mul,
    Div,
}

impl InPlace {
    /// The arithmetic for an `ad_update_op` code (the C API has no code for `Assign`, which is
    /// `ad_array_write_slice`).
    pub fn from_code(code: u32) -> Option<InPlace> {
        Some(match code {
            0 => InPlace::Add,
            1 => InPlace::Sub,
            2 => InPlace::Mul,
            3 => InPlace::Div,
            _ => return None,
        })
    }
}

/// A fresh buffer holding `range` of `buf`.
pub(crate) fn copy_range(buf: &Buffer, range: std::ops::Range<usize>) -> Result<Buffer> {
    with_any_slice!(buf, range, |v: &[T]| {
        let mut out = try_vec(v.len())?;
        out.extend_from_slice(v);
        Ok(T::wrap(out))
    })
}

/// `dst op= src`, element by element (equal lengths).
pub(crate) fn update_typed<T: Element>(dst: &mut [T], src: &[T], op: InPlace) {
    crate::cpu::loops::update_chunked(dst, src, |d, s| update_slice(d, s, op))
}

/// `dst op= src` on this thread (equal lengths): the arithmetic of every in-place float
/// update, one loop per op so that each vectorises.
#[inline(always)]
pub(crate) fn update_slice<T: Element>(dst: &mut [T], src: &[T], op: InPlace) {
    macro_rules! each {
        ($f:expr) => {
            dst.iter_mut().zip(src).for_each(|(d, &s)| $f(d, s))
        };
    }
    match op {
        InPlace::Assign => dst.copy_from_slice(src),
        InPlace::Add => each!(|d: &mut T, s: T| *d += s),
        InPlace::Sub => each!(|d: &mut T, s: T| *d -= s),
        InPlace::Mul => each!(|d: &mut T, s: T| *d *= s),
        InPlace::Div => each!(|d: &mut T, s: T| *d /= s),
    }
}

/// The integer arithmetic of an in-place write, as MXNet's on integer arrays (wrapping); `None`
/// for division, which is not computed on integers.
pub(crate) fn int_in_place<T: dtype::Integer>(op: InPlace) -> Option<fn(T, T) -> T> {
    Some(match op {
        InPlace::Assign => |_, s| s,
        InPlace::Add => T::plus,
        InPlace::Sub => T::minus,
        InPlace::Mul => T::times,
        InPlace::Div => return None,
    })
}

/// `dst op= src` for integers (equal lengths); false, with nothing written, for division.
/// `op` on float16 elements as MXNet's CPU kernels do it: in float32, rounded back.
pub(crate) fn f16_in_place(op: InPlace) -> fn(dtype::f16, dtype::f16) -> dtype::f16 {
    use dtype::f16;
    fn via(a: f16, b: f16, f: fn(f32, f32) -> f32) -> f16 {
        f16::from_f32(f(a.to_f32(), b.to_f32()))
    }
    match op {
        InPlace::Assign => |_, s| s,
        InPlace::Add => |d, s| via(d, s, |a, b| a + b),
        InPlace::Sub => |d, s| via(d, s, |a, b| a - b),
        InPlace::Mul => |d, s| via(d, s, |a, b| a * b),
        InPlace::Div => |d, s| via(d, s, |a, b| a / b),
    }
}

fn update_int<T: dtype::Integer>(dst: &mut [T], src: &[T], op: InPlace) -> bool {
    let Some(f) = int_in_place::<T>(op) else { return false };
    dst.iter_mut().zip(src).for_each(|(d, &s)| *d = f(*d, s));
    true
}

/// Builds an output array from a freshly computed vector.
#[inline]
pub(crate) fn from_vec<T: Scalar>(v: Vec<T>, shape: impl Into<Shape>) -> Array {
    Array::from_buffer(T::wrap(v), shape)
}
