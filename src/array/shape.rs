//! Shape arithmetic: element counts, axes, broadcasting, and how shapes read in messages.

use crate::error::{bail, Error, ErrorKind, Result};

/// An array's dimensions, inline up to four: every op makes shapes, and most arrays have
/// few dimensions, so this keeps shapes off the heap.
pub type Shape = smallvec::SmallVec<[usize; 4]>;

/// `dims` as a `Shape`. Up to four axes are copied one by one: `SmallVec::from_slice` calls
/// `memcpy`, which costs more than such a copy, and every op copies a few shapes.
#[inline]
#[allow(clippy::manual_memcpy)] // the point is not to call memcpy
pub fn shape_of(dims: &[usize]) -> Shape {
    if dims.len() > 4 {
        return Shape::from_slice(dims);
    }
    let mut buf = [0usize; 4];
    for i in 0..dims.len() {
        buf[i] = dims[i];
    }
    Shape::from_buf_and_len(buf, dims.len())
}

/// The most axes an array may have (NumPy's limit; `AD_MAX_NDIM` in the C API). Printing
/// nests one level per axis, and every shape is copied per op: a bound keeps both cheap.
pub(crate) const MAX_NDIM: usize = 64;

/// The most elements an array may hold: at most 8 bytes each, its bytes must fit an isize.
pub(crate) const MAX_ELEMENTS: usize = isize::MAX as usize / 8;

/// Refuses more axes than `MAX_NDIM`, before anything is done with them.
pub fn check_ndim(ndim: usize) -> Result<()> {
    if ndim > MAX_NDIM {
        bail!(Shape, "a shape of {} axes has more than the {} an array may have", ndim, MAX_NDIM);
    }
    Ok(())
}

/// Element count of `shape`, checked as every new array's shape is: at most `MAX_NDIM` axes,
/// and its dimensions other than 0 multiply to at most `MAX_ELEMENTS`, also when another is
/// 0 (as NumPy's: then every size and stride computed from the shape fits a usize). An
/// element count that overflows or cannot be allocated is an `Alloc` error, an empty shape
/// with absurd dimensions a `Shape` error.
pub fn checked_size(shape: &[usize]) -> Result<usize> {
    check_ndim(shape.len())?;
    let empty = shape.contains(&0);
    let mut n: usize = 1;
    for &d in shape.iter().filter(|&&d| d != 0) {
        match n.checked_mul(d) {
            Some(m) => n = m,
            None if empty => return Err(too_large_empty(shape)),
            None => bail!(Alloc, "the element count of shape {} overflows", fmt_shape(shape)),
        }
    }
    if n > MAX_ELEMENTS {
        if empty {
            return Err(too_large_empty(shape));
        }
        bail!(Alloc, "shape {} has {} elements, more than can be allocated", fmt_shape(shape), n);
    }
    Ok(if empty { 0 } else { n })
}

fn too_large_empty(shape: &[usize]) -> Error {
    Error::new(
        ErrorKind::Shape,
        format!(
            "shape {} has no elements, but its other dimensions multiply to more than an array can hold ({} elements): such an array cannot be made",
            fmt_shape(shape),
            MAX_ELEMENTS
        ),
    )
}

/// A shape as Python prints a tuple: `(4, 1)`, `(5,)`, `()`.
pub fn fmt_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_string(),
        [d] => format!("({},)", d),
        _ => {
            let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// Signed dimensions (a requested shape with -1) as a Python tuple.
fn fmt_dims(dims: &[i64]) -> String {
    match dims {
        [d] => format!("({},)", d),
        _ => format!("({})", dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// A possibly negative axis (`-1` is the last) as an index below `ndim`.
pub fn normalize_axis(axis: i64, ndim: usize) -> Result<usize> {
    let n = ndim as i64;
    if axis < -n || axis >= n {
        bail!(Shape, "axis {} is out of range for an array of {} dimensions", axis, ndim);
    }
    Ok(if axis < 0 { (axis + n) as usize } else { axis as usize })
}

/// Sorted, distinct axes from a list that may hold negative axes; an empty list means all.
pub fn normalize_axes(axes: &[i64], ndim: usize) -> Result<Vec<usize>> {
    if axes.is_empty() {
        return Ok((0..ndim).collect());
    }
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let ax = normalize_axis(a, ndim)?;
        if out.contains(&ax) {
            bail!(Shape, "axis {} is given twice in {:?}", a, axes);
        }
        out.push(ax);
    }
    out.sort_unstable();
    Ok(out)
}

/// NumPy's broadcast of two shapes: align on the right, each pair equal or one of them 1.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
        let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => bail!(
                Shape,
                "operands could not be broadcast together with shapes {} {}",
                fmt_shape(a),
                fmt_shape(b)
            ),
        };
    }
    Ok(out)
}

/// Resolves a requested shape with at most one `-1` against `size` elements.
pub fn infer_reshape(from: &[usize], to: &[i64]) -> Result<Vec<usize>> {
    let requested = fmt_dims(to);
    let size: usize = from.iter().product();
    let mut unknown = None;
    let mut known: usize = 1;
    let mut out = Vec::with_capacity(to.len());
    for (i, &d) in to.iter().enumerate() {
        if d == -1 {
            if unknown.is_some() {
                bail!(Shape, "cannot reshape array of shape {}: more than one -1 in {}", fmt_shape(from), requested);
            }
            unknown = Some(i);
            out.push(0);
        } else if d < 0 {
            bail!(Shape, "cannot reshape array of shape {} into {}: negative dimension {}", fmt_shape(from), requested, d);
        } else {
            known = match known.checked_mul(d as usize) {
                Some(k) => k,
                None => bail!(Shape, "cannot reshape array of shape {} into {}: size overflows", fmt_shape(from), requested),
            };
            out.push(d as usize);
        }
    }
    match unknown {
        Some(i) if known != 0 && size.is_multiple_of(known) => out[i] = size / known,
        None if known == size => {}
        _ => bail!(
            Shape,
            "cannot reshape array of size {} (shape {}) into shape {}",
            size,
            fmt_shape(from),
            requested
        ),
    }
    Ok(out)
}
