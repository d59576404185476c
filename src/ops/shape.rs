//! Ops that rearrange elements: reshape (a view on the same storage), transpose, copy.

use crate::array::shape::{checked_size, infer_reshape, normalize_axis};
use crate::array::{fmt_shape, Array};
use crate::NdArray;
use crate::tape::{record, Save};
use crate::error::{bail, Error, Result};

use super::kernel;

/// `a` viewed with a new shape; one dimension may be -1 and is then inferred.
pub fn reshape(a: &NdArray, shape: &[i64]) -> Result<NdArray> {
    let shape = infer_reshape(&a.shape, shape)?;
    reshape_to(a, &shape)
}

/// `a` viewed with `shape`, which must hold the same number of elements.
pub fn reshape_to(a: &NdArray, shape: &[usize]) -> Result<NdArray> {
    if checked_size(shape)? != a.size() {
        bail!(Shape, "cannot reshape array of size {} (shape {}) into shape {}", a.size(), fmt_shape(&a.shape), fmt_shape(shape));
    }
    if a.shape[..] == *shape {
        return Ok(a.clone());
    }
    let out = Array { shape: shape.into(), ..a.data.clone() };
    Ok(record("reshape", &[a], out, Save::NOTHING, |v| Ok(vec![Some(reshape_to(v.grad, v.input_shape(0))?)])))
}

/// The axes of `a` in the order `axes` gives (negative axes count from the end); an empty
/// `axes` reverses them, as `.T` does.
pub fn transpose(a: &NdArray, axes: &[i64]) -> Result<NdArray> {
    let n = a.ndim();
    let perm: Vec<usize> = if axes.is_empty() {
        (0..n).rev().collect()
    } else {
        if axes.len() != n {
            bail!(Shape, "transpose: axes {:?} do not match an array of {} dimensions (shape {})", axes, n, fmt_shape(&a.shape));
        }
        let perm = axes
            .iter()
            .map(|&ax| normalize_axis(ax, n))
            .collect::<Result<Vec<_>>>()
            .map_err(|e| Error::new(e.kind, format!("transpose of shape {}: {}", fmt_shape(&a.shape), e.message)))?;
        let mut seen = vec![false; n];
        for &p in &perm {
            if std::mem::replace(&mut seen[p], true) {
                bail!(Shape, "transpose: axes {:?} repeat axis {}", axes, p);
            }
        }
        perm
    };
    if perm.iter().enumerate().all(|(i, &p)| i == p) {
        return Ok(a.clone());
    }
    let out = kernel::permute(a, &perm)?;
    let mut inverse = vec![0i64; n];
    for (i, &p) in perm.iter().enumerate() {
        inverse[p] = i as i64;
    }
    Ok(record("transpose", &[a], out, Save::NOTHING, move |v| Ok(vec![Some(transpose(v.grad, &inverse)?)])))
}

/// A copy of `a` in new storage; gradients flow through it unchanged.
pub fn copy(a: &NdArray) -> Result<NdArray> {
    let out = Array::from_buffer(a.clone_buffer()?, a.shape.clone());
    Ok(record("copy", &[a], out, Save::NOTHING, |v| Ok(vec![Some(v.grad.clone())])))
}
