//! The arithmetic MXNet 1.9.1 does on integer arrays, as it does it: `+`, `-`, `*` and the
//! comparisons (array and number, with broadcasting) and `sum`, computed in the array's own
//! type. Results wrap around as C's unsigned arithmetic does, a number is first converted to
//! the array's type as `astype` converts it (`x + 1.9` adds 1), a comparison gives 0 and 1 in
//! the operands' type, and a sum wraps in the type too. Bool arrays are refused, as MXNet
//! refuses them; so is every other op (the kernels call here only for these).

use super::kernel::{broadcast_slice, Cmp, Fold, Map, Zip2};
use crate::array::shape::checked_size;
use crate::array::storage::{lock, try_vec};
use crate::array::dtype::Integer as Int;
use crate::array::{from_vec, Array, DType};
use crate::error::{bail, Result};

/// Runs `$body` with `$t` the integer type of `$dtype`, or refuses the op `$what`.
macro_rules! with_int {
    ($dtype:expr, $what:expr, $t:ident => $body:expr) => {
        match $dtype {
            DType::U8 => {
                type $t = u8;
                $body
            }
            DType::I8 => {
                type $t = i8;
                $body
            }
            DType::I32 => {
                type $t = i32;
                $body
            }
            DType::I64 => {
                type $t = i64;
                $body
            }
            other => bail!(DType, "{} of {} arrays is not computed (as in MXNet); astype to float32 or int32 first", $what, other.name()),
        }
    };
}

fn zip_fn<T: Int>(op: Zip2) -> Option<fn(T, T) -> T> {
    let f: fn(T, T) -> T = match op {
        Zip2::Add => T::plus,
        Zip2::Sub => T::minus,
        Zip2::Mul => T::times,
        Zip2::Cmp(Cmp::Eq) => |a: T, b: T| T::truth(a == b),
        Zip2::Cmp(Cmp::Ne) => |a: T, b: T| T::truth(a != b),
        Zip2::Cmp(Cmp::Lt) => |a: T, b: T| T::truth(a < b),
        Zip2::Cmp(Cmp::Le) => |a: T, b: T| T::truth(a <= b),
        Zip2::Cmp(Cmp::Gt) => |a: T, b: T| T::truth(a > b),
        Zip2::Cmp(Cmp::Ge) => |a: T, b: T| T::truth(a >= b),
        _ => return None,
    };
    Some(f)
}

/// `a op b` for integer arrays of one dtype, broadcast to `shape`.
pub(crate) fn zip(a: &Array, b: &Array, shape: &[usize], op: Zip2) -> Result<Array> {
    fn typed<T: Int>(a: &Array, b: &Array, shape: &[usize], op: Zip2) -> Result<Array> {
        let Some(f) = zip_fn::<T>(op) else {
            bail!(DType, "{:?} of {} arrays is not computed: + - * and the comparisons are; astype to float32 first", op, T::DTYPE.name());
        };
        // Both under one set of guards, read at one time.
        let locked = lock(&[&a.storage, &b.storage], &[]);
        let va = &T::slice_of(locked.get(&a.storage)).expect("a's dtype")[a.range()];
        let vb = &T::slice_of(locked.get(&b.storage)).expect("b's dtype checked")[b.range()];
        let (xa, xb) = (broadcast_slice(va, &a.shape, shape)?, broadcast_slice(vb, &b.shape, shape)?);
        let mut out = try_vec(xa.len())?;
        out.extend(xa.iter().zip(&xb).map(|(&x, &y)| f(x, y)));
        Ok(from_vec(out, shape.to_vec()))
    }
    with_int!(a.dtype, format!("{:?}", op), T => typed::<T>(a, b, shape, op))
}

/// `op` with a number for an integer array: the number converted to the array's type first.
pub(crate) fn map(a: &Array, op: Map) -> Result<Array> {
    fn typed<T: Int>(a: &Array, op: Map) -> Result<Array> {
        let f: Box<dyn Fn(T) -> T> = match op {
            Map::AddS(s) => Box::new(move |x: T| x.plus(T::cast_f64(s))),
            Map::RSubS(s) => Box::new(move |x: T| T::cast_f64(s).minus(x)),
            Map::MulS(s) => Box::new(move |x: T| x.times(T::cast_f64(s))),
            Map::CmpS(op, s) => {
                let g = zip_fn::<T>(Zip2::Cmp(op)).expect("a comparison");
                Box::new(move |x: T| g(x, T::cast_f64(s)))
            }
            other => bail!(DType, "{:?} of {} arrays is not computed: + - * and the comparisons are; astype to float32 first", other, T::DTYPE.name()),
        };
        let guard = a.read();
        let v = &T::slice_of(&guard).expect("a's dtype")[a.range()];
        let mut out = try_vec(v.len())?;
        out.extend(v.iter().map(|&x| f(x)));
        Ok(from_vec(out, a.shape.to_vec()))
    }
    with_int!(a.dtype, format!("{:?}", op), T => typed::<T>(a, op))
}

/// The sums over `axes` of an integer array, in its type, with the reduced axes kept (of
/// length 1).
pub(crate) fn reduce_keepdims(a: &Array, axes: &[usize], fold: Fold) -> Result<Array> {
    fn typed<T: Int>(a: &Array, axes: &[usize]) -> Result<Array> {
        let mut keep = a.shape.to_vec();
        for &ax in axes {
            keep[ax] = 1;
        }
        let n = checked_size(&keep)?;
        let mut out = crate::array::storage::filled_vec(n, T::cast_f64(0.0))?;
        if n > 0 && a.size() > 0 {
            // Where each element goes: the output's row-major strides, 0 along a reduced axis.
            let nd = keep.len();
            let mut to = vec![0usize; nd];
            let mut step = 1;
            for k in (0..nd).rev() {
                to[k] = if axes.contains(&k) { 0 } else { step };
                step *= keep[k];
            }
            let guard = a.read();
            let v = &T::slice_of(&guard).expect("a's dtype")[a.range()];
            let mut index = vec![0usize; nd];
            let mut at = 0usize;
            for &x in v {
                out[at] = out[at].plus(x);
                for k in (0..nd).rev() {
                    index[k] += 1;
                    at += to[k];
                    if index[k] < a.shape[k] {
                        break;
                    }
                    at -= to[k] * index[k];
                    index[k] = 0;
                }
            }
        }
        Ok(from_vec(out, keep))
    }
    if fold != Fold::Sum {
        bail!(DType, "{:?} of {} arrays is not computed: sum is; astype to float32 first", fold, a.dtype.name());
    }
    with_int!(a.dtype, "sum", T => typed::<T>(a, axes))
}
