//! Forward kernels: the loops over elements, generic over the element type and free of any
//! autograd concern. Each returns a fresh output array.

use smallvec::SmallVec;

use crate::array::shape::{broadcast_shapes, checked_size, shape_of};
use std::mem::MaybeUninit;

use crate::cpu::loops::{extend_at, extend_chunked, extend_map, reduce_chunked, try_alloc, PARALLEL_MIN, PARALLEL_MIN_COSTLY};
use crate::array::storage::{lock, try_vec, with_any_slice, with_slice, Buffer};
use crate::array::{from_vec, fmt_shape, Array, Element, Scalar, Shape};

use crate::error::{bail, Result};

/// Element-wise comparisons; they give 1 where true and 0 where false, in the input dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    pub fn from_code(code: u32) -> Option<Cmp> {
        Some(match code {
            0 => Cmp::Eq,
            1 => Cmp::Ne,
            2 => Cmp::Lt,
            3 => Cmp::Le,
            4 => Cmp::Gt,
            5 => Cmp::Ge,
            _ => return None,
        })
    }

    #[inline]
    fn test<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

/// One-input element-wise functions. `S` variants take a scalar, applied in the array's dtype.
#[derive(Clone, Copy, Debug)]
pub enum Map {
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    Square,
    Relu,
    Sigmoid,
    Tanh,
    AddS(f64),
    /// `s - x`
    RSubS(f64),
    MulS(f64),
    /// `x / s`
    DivS(f64),
    /// `s / x`
    RDivS(f64),
    /// `x ** s`
    PowS(f64),
    /// `s ** x`
    RPowS(f64),
    MaxS(f64),
    MinS(f64),
    CmpS(Cmp, f64),
}

/// NaN-propagating maximum and minimum, as NumPy's.
#[inline]
fn max_nan<T: Element>(a: T, b: T) -> T {
    if a > b || a.is_nan() { a } else { b }
}

#[inline]
fn min_nan<T: Element>(a: T, b: T) -> T {
    if a < b || a.is_nan() { a } else { b }
}

#[inline]
fn indicator<T: Element>(b: bool) -> T {
    if b { T::one() } else { T::zero() }
}

impl Map {
    /// Whether the function costs more than a few cycles per element (a polynomial), so that
    /// smaller arrays already pay for a second thread.
    fn is_costly(self) -> bool {
        matches!(self, Map::Exp | Map::Log | Map::Sigmoid | Map::Tanh | Map::PowS(_) | Map::RPowS(_))
    }
}

/// `op` of each element of `v`, written to `out` (of `v`'s length) on the calling thread.
/// The op is matched once, outside the loops, so that each loop body is one operation.
/// Inlined, so that a caller compiled for wider vectors has its loops in them.
#[inline(always)]
pub(crate) fn map_into<T: Element>(op: Map, v: &[T], out: &mut [MaybeUninit<T>]) {
    macro_rules! each {
        (|$x:ident| $e:expr) => {
            for (o, &$x) in out.iter_mut().zip(v) {
                o.write($e);
            }
        };
    }
    match op {
        Map::Neg => each!(|x| -x),
        Map::Exp => T::exp_into(v, out),
        Map::Log => T::log_into(v, out),
        Map::Sqrt => each!(|x| x.sqrt()),
        Map::Abs => each!(|x| x.abs()),
        Map::Square => each!(|x| x * x),
        Map::Relu => each!(|x| if x > T::zero() || x.is_nan() { x } else { T::zero() }),
        Map::Sigmoid => T::sigmoid_into(v, out),
        Map::Tanh => T::tanh_into(v, out),
        Map::AddS(s) => {
            let s = T::of(s);
            each!(|x| x + s)
        }
        Map::RSubS(s) => {
            let s = T::of(s);
            each!(|x| s - x)
        }
        Map::MulS(s) => {
            let s = T::of(s);
            each!(|x| x * s)
        }
        Map::DivS(s) => {
            let s = T::of(s);
            each!(|x| x / s)
        }
        Map::RDivS(s) => {
            let s = T::of(s);
            each!(|x| s / x)
        }
        // x*x is exact where powf need not be; the tutorial's gradients compare exactly.
        Map::PowS(2.0) => each!(|x| x * x),
        Map::PowS(1.0) => each!(|x| x),
        Map::PowS(s) => {
            let s = T::of(s);
            each!(|x| x.powf(s))
        }
        Map::RPowS(s) => {
            let s = T::of(s);
            each!(|x| s.powf(x))
        }
        Map::MaxS(s) => {
            let s = T::of(s);
            each!(|x| max_nan(x, s))
        }
        Map::MinS(s) => {
            let s = T::of(s);
            each!(|x| min_nan(x, s))
        }
        Map::CmpS(c, s) => {
            let s = T::of(s);
            each!(|x| indicator::<T>(c.test(x, s)))
        }
    }
}

fn map_typed<T: Element>(v: &[T], op: Map) -> Result<Vec<T>> {
    let mut out = try_vec(v.len())?;
    if v.len() < PARALLEL_MIN_COSTLY {
        // The per-op path: no thread to consider, one call.
        map_into(op, v, &mut out.spare_capacity_mut()[..v.len()]);
        // SAFETY: map_into wrote each of the v.len() elements.
        unsafe { out.set_len(v.len()) };
        return Ok(out);
    }
    let parallel_min = if op.is_costly() { PARALLEL_MIN_COSTLY } else { PARALLEL_MIN };
    extend_chunked(&mut out, v, parallel_min, |s, o| map_into(op, s, o));
    Ok(out)
}

pub fn map(a: &Array, op: Map) -> Result<Array> {
    if !a.dtype.is_float() {
        return super::integer::map(a, op);
    }
    // A pending array (a sum of a pending chain, one element) stays pending through the op.
    if super::fuse::defers(a.size(), a.dtype) || a.storage.is_pending() {
        if let Some(out) = super::fuse::map(a, op)? {
            return Ok(out);
        }
    }
    let guard = a.read();
    with_slice!(&*guard, a.range(), |v: &[T]| Ok(from_vec(map_typed(v, op)?, shape_of(&a.shape))))
}

/// A one-input element-wise function, written once for both element types.
pub trait ElementFn {
    fn apply<T: Element>(x: T) -> T;
}

/// `F` of each element of `a`.
pub fn map_fn<F: ElementFn>(a: &Array) -> Result<Array> {
    let guard = a.read();
    with_slice!(&*guard, a.range(), |v: &[T]| {
        let mut out = try_vec(v.len())?;
        extend_map(&mut out, v, F::apply::<T>);
        Ok(from_vec(out, shape_of(&a.shape)))
    })
}

/// Two-input element-wise functions, with NumPy broadcasting.
#[derive(Clone, Copy, Debug)]
pub enum Zip2 {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Max,
    Min,
    Cmp(Cmp),
}

#[inline]
fn zip_fn<T: Element>(op: Zip2) -> impl Fn(T, T) -> T {
    move |x, y| match op {
        Zip2::Add => x + y,
        Zip2::Sub => x - y,
        Zip2::Mul => x * y,
        Zip2::Div => x / y,
        Zip2::Pow => x.powf(y),
        Zip2::Max => max_nan(x, y),
        Zip2::Min => min_nan(x, y),
        Zip2::Cmp(c) => indicator(c.test(x, y)),
    }
}

/// One operand of `zip_into`: a run of elements, or one value for every position.
#[derive(Clone, Copy)]
pub(crate) enum Operand<'a, T> {
    Run(&'a [T]),
    Each(T),
}

/// `op` of each pair of `a` and `b`, written to `out` (the runs are of its length) on the
/// calling thread, with the op matched outside the loops as in `zip_typed` (inlined, as
/// `map_into`).
#[inline(always)]
pub(crate) fn zip_into<T: Element>(op: Zip2, a: Operand<'_, T>, b: Operand<'_, T>, out: &mut [MaybeUninit<T>]) {
    #[inline(always)]
    fn pairs<T: Element>(a: Operand<'_, T>, b: Operand<'_, T>, out: &mut [MaybeUninit<T>], f: impl Fn(T, T) -> T) {
        match (a, b) {
            (Operand::Run(a), Operand::Run(b)) => {
                for (o, (&x, &y)) in out.iter_mut().zip(a.iter().zip(b)) {
                    o.write(f(x, y));
                }
            }
            (Operand::Run(a), Operand::Each(y)) => {
                for (o, &x) in out.iter_mut().zip(a) {
                    o.write(f(x, y));
                }
            }
            (Operand::Each(x), Operand::Run(b)) => {
                for (o, &y) in out.iter_mut().zip(b) {
                    o.write(f(x, y));
                }
            }
            (Operand::Each(x), Operand::Each(y)) => out.iter_mut().for_each(|o| {
                o.write(f(x, y));
            }),
        }
    }
    match op {
        Zip2::Add => pairs(a, b, out, |x, y| x + y),
        Zip2::Sub => pairs(a, b, out, |x, y| x - y),
        Zip2::Mul => pairs(a, b, out, |x, y| x * y),
        Zip2::Div => pairs(a, b, out, |x, y| x / y),
        other => pairs(a, b, out, zip_fn::<T>(other)),
    }
}

fn zip_typed<T: Element>(a: &Array, b: &Array, out_shape: &[usize], op: Zip2) -> Result<Vec<T>> {
    let n = checked_size(out_shape)?;
    // Both operands under one set of guards: `x * x` and `x + reshape(x)` read one storage.
    let locked = lock(&[&a.storage, &b.storage], &[]);
    let (Some(va), Some(vb)) = (T::slice_of(locked.get(&a.storage)), T::slice_of(locked.get(&b.storage))) else {
        unreachable!("operand dtypes are checked by the caller")
    };
    let (va, vb) = (&va[a.range()], &vb[b.range()]);
    if crate::reference::enabled() {
        return zip_by_index(va, &a.shape, vb, &b.shape, out_shape, zip_fn::<T>(op));
    }
    let mut out = try_vec(n)?;
    if a.shape == b.shape {
        extend_pairs(&mut out, op, Operand::Run(va), Operand::Run(vb), n);
    } else if b.size() == 1 {
        extend_pairs(&mut out, op, Operand::Run(va), Operand::Each(vb[0]), n);
    } else if a.size() == 1 {
        extend_pairs(&mut out, op, Operand::Each(va[0]), Operand::Run(vb), n);
    } else {
        let (sa, sb) = (broadcast_strides(&a.shape, out_shape), broadcast_strides(&b.shape, out_shape));
        for_each_row(out_shape, &sa, &sb, |ra, rb, len, da, db| {
            let x = if da == 1 { Operand::Run(&va[ra..ra + len]) } else { Operand::Each(va[ra]) };
            let y = if db == 1 { Operand::Run(&vb[rb..rb + len]) } else { Operand::Each(vb[rb]) };
            extend_pairs(&mut out, op, x, y, len);
        });
    }
    Ok(out)
}

impl<'a, T: Copy> Operand<'a, T> {
    /// The part of the operand at `range` of the result.
    fn part(self, range: std::ops::Range<usize>) -> Operand<'a, T> {
        match self {
            Operand::Run(v) => Operand::Run(&v[range]),
            each => each,
        }
    }
}

/// Appends `op` of the `n` pairs of `a` and `b` to `out` (`zip_into`), split over the threads
/// when `n` is large.
fn extend_pairs<T: Element>(out: &mut Vec<T>, op: Zip2, a: Operand<'_, T>, b: Operand<'_, T>, n: usize) {
    extend_at(out, n, PARALLEL_MIN, |start, o| {
        let range = start..start + o.len();
        zip_into(op, a.part(range.clone()), b.part(range), o)
    })
}

/// The reference mode's broadcasting loop: each output element's multi-index, and from it
/// each operand's element (index 0 along the axes it is broadcast on).
fn zip_by_index<T: Element>(va: &[T], sa: &[usize], vb: &[T], sb: &[usize], out_shape: &[usize], f: impl Fn(T, T) -> T) -> Result<Vec<T>> {
    let n = checked_size(out_shape)?;
    let mut out = try_vec(n)?;
    for flat in 0..n {
        let index = unravel(flat, out_shape);
        out.push(f(va[broadcast_offset(&index, sa)], vb[broadcast_offset(&index, sb)]));
    }
    Ok(out)
}

/// The multi-index of row-major position `flat` in `shape`.
fn unravel(mut flat: usize, shape: &[usize]) -> SmallVec<[usize; 6]> {
    let mut index: SmallVec<[usize; 6]> = smallvec::smallvec![0; shape.len()];
    for (i, &d) in shape.iter().enumerate().rev() {
        index[i] = flat % d;
        flat /= d;
    }
    index
}

/// The row-major offset in an array of `shape` of the element that output `index` (of a
/// shape `shape` broadcasts to, right-aligned) reads.
fn broadcast_offset(index: &[usize], shape: &[usize]) -> usize {
    let lead = index.len() - shape.len();
    shape.iter().enumerate().fold(0, |off, (i, &d)| off * d + if d == 1 { 0 } else { index[lead + i] })
}

pub fn zip(a: &Array, b: &Array, op: Zip2) -> Result<Array> {
    if a.dtype != b.dtype {
        bail!(DType, "operands have different dtypes: {} and {}", a.dtype.name(), b.dtype.name());
    }
    let shape = broadcast_shapes(&a.shape, &b.shape)?;
    if super::fuse::defers(a.size().max(b.size()), a.dtype) {
        if let Some(out) = super::fuse::zip(a, b, op, &shape)? {
            return Ok(out);
        }
    }
    let buf = match a.dtype {
        crate::array::DType::F32 => Buffer::F32(zip_typed::<f32>(a, b, &shape, op)?.into()),
        crate::array::DType::F64 => Buffer::F64(zip_typed::<f64>(a, b, &shape, op)?.into()),
        _ => return super::integer::zip(a, b, &shape, op),
    };
    Ok(Array::from_buffer(buf, shape))
}

/// How `reduce_keepdims` combines elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fold {
    Sum,
    /// NaN-propagating, as NumPy's.
    Max,
    Min,
    /// The product; 1 over nothing.
    Prod,
}

fn fold_iter<T: Element>(values: impl Iterator<Item = T>, fold: Fold) -> T {
    match fold {
        Fold::Sum => values.fold(T::zero(), |acc, x| acc + x),
        Fold::Max => values.reduce(max_nan).unwrap_or(T::neg_infinity()),
        Fold::Min => values.reduce(min_nan).unwrap_or(T::infinity()),
        Fold::Prod => values.fold(T::one(), |acc, x| acc * x),
    }
}

/// Folds over the given (sorted, distinct) axes; the result keeps them as length-1 axes.
/// Costs the input's size, and no more than the output's when the input has no elements
/// (a (2^40, 0) array summed over axis 0 is done at once).
pub fn reduce_keepdims(a: &Array, axes: &[usize], fold: Fold) -> Result<Array> {
    if !a.dtype.is_float() {
        return super::integer::reduce_keepdims(a, axes, fold);
    }
    let mut keep = a.shape.clone();
    for &ax in axes {
        keep[ax] = 1;
    }
    if matches!(fold, Fold::Max | Fold::Min) && axes.iter().any(|&ax| a.shape[ax] == 0) {
        bail!(Shape, "cannot take the {:?} over a zero-size axis of shape {}", fold, fmt_shape(&a.shape));
    }
    let n = checked_size(&keep)?;
    if n == 0 || a.size() == 0 {
        // Nothing to read: an empty result, or sums (0) or products (1) of nothing (max and
        // min were refused above).
        let empty = if fold == Fold::Prod { 1.0 } else { 0.0 };
        return Ok(Array::from_buffer(crate::array::storage::Buffer::filled(a.dtype, n, empty)?, keep));
    }
    if fold == Fold::Sum && axes.len() == a.ndim() {
        // A sum of a pending chain is pending too, and adds the values as the chain's loop
        // makes them, never writing them (see ops::fuse).
        if let Some(total) = super::fuse::sum(a, &keep)? {
            return Ok(total);
        }
    }
    let guard = a.read();
    with_slice!(&*guard, a.range(), |v: &[T]| {
        if crate::reference::enabled() {
            return Ok(from_vec(reduce_by_index(v, &a.shape, &keep, fold)?, keep));
        }
        if axes.len() == a.ndim() {
            let total = match fold {
                Fold::Sum => T::of(reduce_chunked(v, long_sum, |x, y| x + y)),
                Fold::Max => reduce_chunked(v, |p| fold_iter(p.iter().copied(), fold), max_nan),
                Fold::Min => reduce_chunked(v, |p| fold_iter(p.iter().copied(), fold), min_nan),
                Fold::Prod => reduce_chunked(v, |p| fold_iter(p.iter().copied(), fold), |x, y| x * y),
            };
            let mut out = try_vec(1)?;
            out.push(total);
            return Ok(from_vec(out, keep));
        }
        let out = if fold == Fold::Sum { sum_axes(v, &a.shape, axes)? } else { fold_axes(v, &a.shape, axes, n, fold)? };
        Ok(from_vec(out, keep))
    })
}

/// The reference mode's reduction: each output element (of `keep`, the input's shape with
/// the reduced axes as 1) folds, in row-major order, the input elements whose multi-index
/// matches it outside the reduced axes. Sums are accumulated in float64, so that a float32
/// sum of many elements is as exact as its result can be.
fn reduce_by_index<T: Element>(v: &[T], shape: &[usize], keep: &[usize], fold: Fold) -> Result<Vec<T>> {
    let n = checked_size(keep)?;
    let mut sums: Vec<f64> = try_alloc(if fold == Fold::Sum { n } else { 0 })?;
    let mut extremes: Vec<Option<T>> = try_alloc(if fold == Fold::Sum { 0 } else { n })?;
    sums.resize(sums.capacity(), 0.0);
    extremes.resize(extremes.capacity(), None);
    for (flat, &x) in v.iter().enumerate() {
        let at = broadcast_offset(&unravel(flat, shape), keep);
        match fold {
            Fold::Sum => sums[at] += x.as_f64(),
            Fold::Max => extremes[at] = Some(extremes[at].map_or(x, |m| max_nan(m, x))),
            Fold::Min => extremes[at] = Some(extremes[at].map_or(x, |m| min_nan(m, x))),
            Fold::Prod => extremes[at] = Some(extremes[at].map_or(x, |m| m * x)),
        }
    }
    let mut out = try_vec(n)?;
    match fold {
        Fold::Sum => out.extend(sums.iter().map(|&s| T::of(s))),
        Fold::Max => out.extend(extremes.iter().map(|m| m.unwrap_or(T::neg_infinity()))),
        Fold::Min => out.extend(extremes.iter().map(|m| m.unwrap_or(T::infinity()))),
        Fold::Prod => out.extend(extremes.iter().map(|m| m.unwrap_or(T::one()))),
    }
    Ok(out)
}

/// How long an axis is before its sums are carried in float64 (shorter ones add in the
/// elements' own type: a bias gradient's few rows).
const SUM_BLOCK: usize = 1024;

/// The sum of a contiguous run, in float64 whatever the elements' type, in eight lanes that
/// the compiler vectorises: a sum is bound by memory, not by the conversions. A float32 sum
/// of 281,600 terms that cancel to 3.03 was off by 2e-3 added in float32 lanes, and by 2e-4
/// with float32 blocks carried in float64.
fn long_sum<T: Element>(v: &[T]) -> f64 {
    let whole = v.len() / LongSum::LANES * LongSum::LANES;
    let mut sum = LongSum::default();
    sum.add(&v[..whole]);
    sum.finish(&v[whole..])
}

/// A float64 sum of a run given in parts (`long_sum` of the whole run, bit for bit): eight
/// running lanes, so that the additions vectorise and no one sum grows over the others.
#[derive(Default)]
pub(crate) struct LongSum {
    lanes: [f64; 8],
}

impl LongSum {
    pub(crate) const LANES: usize = 8;

    /// Adds the next part of the run, a multiple of `LANES` long.
    #[inline(always)]
    pub(crate) fn add<T: Element>(&mut self, v: &[T]) {
        debug_assert_eq!(v.len() % Self::LANES, 0);
        // The lanes in a local, so that they stay in registers (through `self` each addition
        // would be stored).
        let mut lanes = self.lanes;
        for c in v.chunks_exact(Self::LANES) {
            for (l, &x) in lanes.iter_mut().zip(c) {
                *l += x.as_f64();
            }
        }
        self.lanes = lanes;
    }

    /// The sum, with `rest` (the run's last elements, fewer than `LANES`) added.
    pub(crate) fn finish<T: Element>(self, rest: &[T]) -> f64 {
        let rest: f64 = rest.iter().map(|x| x.as_f64()).sum();
        self.lanes.iter().sum::<f64>() + rest
    }
}

/// Sums a non-empty row-major array of `shape` over `axes` (some, not all), one axis at a
/// time from the last, adding whole sub-arrays so that the inner loops stay contiguous (a
/// bias gradient sums the rows of a matrix). The order of the additions is ndarray's
/// `sum_axis` applied axis by axis, which this replaced: lanes along the array's last axis
/// summed in several accumulators, every other axis added term by term from zero.
fn sum_axes<T: Element>(v: &[T], shape: &[usize], axes: &[usize]) -> Result<Vec<T>> {
    let mut dims: Shape = shape_of(shape);
    let mut partial: Option<Vec<T>> = None;
    for &ax in axes.iter().rev() {
        let src: &[T] = partial.as_deref().unwrap_or(v);
        let outer: usize = dims[..ax].iter().product();
        let (len, inner): (usize, usize) = (dims[ax], dims[ax + 1..].iter().product());
        let mut out = try_vec(outer * inner)?;
        if partial.is_none() && ax + 1 == shape.len() {
            out.extend(src.chunks_exact(len).map(|lane| T::of(long_sum(lane))));
        } else if len <= SUM_BLOCK {
            for block in src.chunks_exact(len * inner) {
                let at = out.len();
                out.resize(at + inner, T::zero());
                let acc = &mut out[at..];
                for row in block.chunks_exact(inner) {
                    acc.iter_mut().zip(row).for_each(|(s, &x)| *s += x);
                }
            }
        } else {
            // A long axis: rows added term by term in float64, as `long_sum` adds a run.
            let mut carry: Vec<f64> = try_alloc(inner)?;
            for block in src.chunks_exact(len * inner) {
                carry.clear();
                carry.resize(inner, 0.0);
                for row in block.chunks_exact(inner) {
                    carry.iter_mut().zip(row).for_each(|(c, &x)| *c += x.as_f64());
                }
                out.extend(carry.iter().map(|&c| T::of(c)));
            }
        }
        dims[ax] = 1;
        partial = Some(out);
    }
    Ok(partial.expect("at least one axis"))
}

/// Max, min or product of a non-empty row-major array of `shape` over `axes` (some, not all; none of
/// zero length): for each of the `n` outputs, in row-major order of the kept axes, the fold
/// of its elements in row-major order of the reduced axes.
fn fold_axes<T: Element>(v: &[T], shape: &[usize], axes: &[usize], n: usize, fold: Fold) -> Result<Vec<T>> {
    let strides = row_major_strides(shape);
    let kept: SmallVec<[usize; 6]> = (0..shape.len()).filter(|ax| !axes.contains(ax)).collect();
    let kept_dims: SmallVec<[usize; 6]> = kept.iter().map(|&ax| shape[ax]).collect();
    let kept_strides: SmallVec<[usize; 6]> = kept.iter().map(|&ax| strides[ax]).collect();
    let red_dims: SmallVec<[usize; 6]> = axes.iter().map(|&ax| shape[ax]).collect();
    let red_strides: SmallVec<[usize; 6]> = axes.iter().map(|&ax| strides[ax]).collect();
    let group: usize = red_dims.iter().product();
    // Reduced axes that are the trailing ones make each output's elements one contiguous run
    // (softmax's max over the last axis).
    let trailing = axes.iter().enumerate().all(|(i, &ax)| ax == shape.len() - axes.len() + i);
    let mut out = try_vec(n)?;
    let mut kpos: SmallVec<[usize; 6]> = smallvec::smallvec![0; kept.len()];
    let mut rpos: SmallVec<[usize; 6]> = smallvec::smallvec![0; axes.len()];
    let mut base = 0;
    for _ in 0..n {
        let value = if trailing {
            fold_iter(v[base..base + group].iter().copied(), fold)
        } else {
            let mut off = base;
            let values = (0..group).map(|_| {
                let x = v[off];
                step_odometer(&mut rpos, &red_dims, &red_strides, &mut off);
                x
            });
            fold_iter(values, fold)
        };
        out.push(value);
        step_odometer(&mut kpos, &kept_dims, &kept_strides, &mut base);
    }
    Ok(out)
}

/// Row-major element strides of a non-empty `shape`.
fn row_major_strides(shape: &[usize]) -> SmallVec<[usize; 6]> {
    let mut strides: SmallVec<[usize; 6]> = smallvec::smallvec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * shape[i + 1];
    }
    strides
}

/// Advances `pos` (a position in `dims`, the last axis fastest) by one, keeping `offset`
/// (its offset by `strides`) in step; past the last position it wraps to the first.
#[inline]
fn step_odometer(pos: &mut [usize], dims: &[usize], strides: &[usize], offset: &mut usize) {
    for i in (0..pos.len()).rev() {
        pos[i] += 1;
        *offset += strides[i];
        if pos[i] < dims[i] {
            return;
        }
        *offset -= strides[i] * dims[i];
        pos[i] = 0;
    }
}

/// `a`'s elements repeated along its length-1 (and missing leading) axes to `shape`.
pub fn broadcast_to(a: &Array, shape: &[usize]) -> Result<Array> {
    crate::array::storage::with_dtype!(a.dtype, T => Ok(from_vec(broadcast_vec::<T>(a, shape)?, shape.to_vec())))
}

/// `broadcast_to`'s elements as a vector; `T` must be `a`'s dtype.
pub(crate) fn broadcast_vec<T: Scalar>(a: &Array, shape: &[usize]) -> Result<Vec<T>> {
    if broadcast_shapes(&a.shape, shape).ok().as_deref() != Some(shape) {
        bail!(Shape, "cannot broadcast an array of shape {} to shape {}", fmt_shape(&a.shape), fmt_shape(shape));
    }
    let guard = a.read();
    let v = &T::slice_of(&guard).expect("the caller asks for the array's dtype")[a.range()];
    broadcast_slice(v, &a.shape, shape)
}

/// The elements `v` of shape `from` repeated to `to`, a shape `from` broadcasts to.
pub(crate) fn broadcast_slice<T: Scalar>(v: &[T], from: &[usize], to: &[usize]) -> Result<Vec<T>> {
    let n = checked_size(to)?;
    let strides = broadcast_strides(from, to);
    let mut out = try_vec(n)?;
    for_each_row(to, &strides, &strides, |r, _, len, step, _| {
        if step == 1 {
            out.extend_from_slice(&v[r..r + len]);
        } else {
            out.extend(std::iter::repeat_n(v[r], len));
        }
    });
    Ok(out)
}

/// Element strides of an array of `shape` read as the broadcast shape `out` (right-aligned):
/// 0 along the axes it is repeated on.
fn broadcast_strides(shape: &[usize], out: &[usize]) -> SmallVec<[usize; 6]> {
    let lead = out.len() - shape.len();
    let mut strides: SmallVec<[usize; 6]> = smallvec::smallvec![0; out.len()];
    let mut stride = 1;
    for i in (0..shape.len()).rev() {
        strides[lead + i] = if shape[i] == 1 { 0 } else { stride };
        stride *= shape[i];
    }
    strides
}

/// Walks the rows (runs along the last axis) of `out`, in row-major order, calling
/// `f(offset in a, offset in b, row length, a's step, b's step)` with the strides `sa`, `sb`.
/// Broadcasting costs a stride of 0 instead of a materialised copy.
fn for_each_row(out: &[usize], sa: &[usize], sb: &[usize], mut f: impl FnMut(usize, usize, usize, usize, usize)) {
    if out.contains(&0) {
        return;
    }
    let Some((&len, outer)) = out.split_last() else {
        return f(0, 0, 1, 1, 1);
    };
    let k = outer.len();
    let (da, db) = (sa[k], sb[k]);
    let mut pos: SmallVec<[usize; 6]> = smallvec::smallvec![0; k];
    let (mut oa, mut ob) = (0usize, 0usize);
    loop {
        f(oa, ob, len, da, db);
        // Odometer over the outer axes.
        let mut i = k;
        loop {
            if i == 0 {
                return;
            }
            i -= 1;
            pos[i] += 1;
            oa += sa[i];
            ob += sb[i];
            if pos[i] < outer[i] {
                break;
            }
            oa -= sa[i] * outer[i];
            ob -= sb[i] * outer[i];
            pos[i] = 0;
        }
    }
}

/// The axes of `a` permuted by `perm` (a validated permutation), copied to row-major order.
pub fn permute(a: &Array, perm: &[usize]) -> Result<Array> {
    let shape: Shape = perm.iter().map(|&p| a.shape[p]).collect();
    let n = a.size();
    let guard = a.read();
    with_any_slice!(&*guard, a.range(), |v: &[T]| {
        let mut out = try_vec(n)?;
        if n > 0 {
            // The output in row-major order: the input's strides, permuted, walked by an
            // odometer over the outer axes and a strided run along the last.
            let strides = row_major_strides(&a.shape);
            let (dims, steps): (SmallVec<[usize; 6]>, SmallVec<[usize; 6]>) = perm.iter().map(|&p| (a.shape[p], strides[p])).unzip();
            let Some((&len, outer)) = dims.split_last() else {
                // No axes: the one element.
                out.extend_from_slice(v);
                return Ok(from_vec(out, shape));
            };
            let step = steps[outer.len()];
            let mut pos: SmallVec<[usize; 6]> = smallvec::smallvec![0; outer.len()];
            let mut base = 0;
            for _ in 0..n / len {
                out.extend((0..len).map(|i| v[base + i * step]));
                step_odometer(&mut pos, outer, &steps[..outer.len()], &mut base);
            }
        }
        Ok(from_vec(out, shape))
    })
}

/// Running sums along `axis` (a valid axis of `a`), accumulated in `a`'s dtype in order, as
/// NumPy's `cumsum`.
pub fn cumsum(a: &Array, axis: usize) -> Result<Array> {
    let len = a.shape[axis];
    let inner: usize = a.shape[axis + 1..].iter().product();
    let guard = a.read();
    with_slice!(&*guard, a.range(), |v: &[T]| {
        let mut out = try_vec(v.len())?;
        out.extend_from_slice(v);
        if len > 1 && inner > 0 {
            for block in out.chunks_exact_mut(len * inner) {
                for i in 1..len {
                    let (before, from) = block.split_at_mut(i * inner);
                    let prev = &before[(i - 1) * inner..];
                    from[..inner].iter_mut().zip(prev).for_each(|(s, &p)| *s += p);
                }
            }
        }
        Ok(from_vec(out, a.shape.clone()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Long float32 sums of terms that cancel (±2, summing to a few units) come within a
    /// few float32 ulps of the result of the float64 sum, along each path of a sum: over
    /// every axis, along the last axis, and along a leading axis. Eight lanes alone were off
    /// by 2e-3 over 281,600 terms.
    #[test]
    fn long_float32_sums_are_accurate_on_every_path() {
        let n = 281_600;
        let mut state = 12345u64;
        let values: Vec<f32> = (0..n)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
            })
            .collect();
        for (shape, axes) in [(vec![n], vec![0]), (vec![2, n / 2], vec![1]), (vec![n / 2, 2], vec![0]), (vec![1100, 256], vec![0, 1])] {
            let a = from_vec(values.clone(), shape.clone());
            let got = reduce_keepdims(&a, &axes, Fold::Sum).unwrap().to_f64_vec();
            let wide = from_vec(values.iter().map(|&x| x as f64).collect::<Vec<f64>>(), shape.clone());
            let want = reduce_keepdims(&wide, &axes, Fold::Sum).unwrap().to_f64_vec();
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 4.0 * f32::EPSILON as f64 * w.abs().max(1.0), "shape {shape:?}, axes {axes:?}: {g} against {w}");
            }
        }
    }
}
