//! `dot` and `batch_dot`, as MXNet's, on matrixmultiply's sgemm/dgemm.

use super::gemm::{batch_matmul, matmul};
use super::reshape_to;
use crate::array::fmt_shape;
use crate::NdArray;
use crate::tape::{record, Save};
use crate::error::{bail, Result};

/// MXNet's `nd.dot`. For 1-d and 2-d arrays the matrix product: a 1-d left operand is a row
/// vector and a 1-d right operand a column vector; the flags transpose 2-d operands (a 1-d
/// one is its own transpose); vector · vector gives shape (1,), as in MXNet.
/// When either has more than 2 axes, the sum product over `a`'s last axis and `b`'s first,
/// of shape `a.shape[:-1] + b.shape[1:]`; as in MXNet, `transpose_a` contracts `a`'s first
/// axis instead (shape `a.shape[1:]`, `a` read as the matrix (a.shape[0], rest) transposed)
/// and `transpose_b` `b`'s last (shape `b.shape[:-1]`).
pub fn dot(a: &NdArray, b: &NdArray, transpose_a: bool, transpose_b: bool) -> Result<NdArray> {
    if a.ndim() == 0 || b.ndim() == 0 {
        bail!(Shape, "dot takes arrays of 1 axis or more; got shapes {} and {}", fmt_shape(&a.shape), fmt_shape(&b.shape));
    }
    if a.ndim() > 2 || b.ndim() > 2 {
        return dot_nd(a, b, transpose_a && a.ndim() > 1, transpose_b && b.ndim() > 1);
    }
    // Check alignment on the caller's shapes, before 1-d operands become matrices.
    let k_a = if a.ndim() == 1 || transpose_a { a.shape[0] } else { a.shape[1] };
    let k_b = if b.ndim() == 1 || !transpose_b { b.shape[0] } else { b.shape[1] };
    if k_a != k_b {
        bail!(
            Shape,
            "dot: shapes {}{} and {}{} are not aligned: {} != {}",
            fmt_shape(&a.shape),
            if transpose_a && a.ndim() == 2 { " (transposed)" } else { "" },
            fmt_shape(&b.shape),
            if transpose_b && b.ndim() == 2 { " (transposed)" } else { "" },
            k_a,
            k_b
        );
    }
    let a2 = if a.ndim() == 1 { reshape_to(a, &[1, a.shape[0]])? } else { a.clone() };
    let b2 = if b.ndim() == 1 { reshape_to(b, &[b.shape[0], 1])? } else { b.clone() };
    let (ta, tb) = (transpose_a && a.ndim() == 2, transpose_b && b.ndim() == 2);
    let c = matmul2d(&a2, &b2, ta, tb)?;
    match (a.ndim(), b.ndim()) {
        (2, 2) => Ok(c),
        (1, 1) => reshape_to(&c, &[1]),
        _ => {
            let n = c.size();
            reshape_to(&c, &[n])
        }
    }
}

/// `dot` where an operand has more than 2 axes: both read as matrices, one product.
fn dot_nd(a: &NdArray, b: &NdArray, ta: bool, tb: bool) -> Result<NdArray> {
    let (ka, a_rest) = if ta { (a.shape[0], &a.shape[1..]) } else { (a.shape[a.ndim() - 1], &a.shape[..a.ndim() - 1]) };
    let (kb, b_rest) = if tb { (b.shape[b.ndim() - 1], &b.shape[..b.ndim() - 1]) } else { (b.shape[0], &b.shape[1..]) };
    if ka != kb {
        bail!(
            Shape,
            "dot: shapes {}{} and {}{} are not aligned: {} != {}",
            fmt_shape(&a.shape),
            if ta { " (transposed)" } else { "" },
            fmt_shape(&b.shape),
            if tb { " (transposed)" } else { "" },
            ka,
            kb
        );
    }
    let (m, n): (usize, usize) = (a_rest.iter().product(), b_rest.iter().product());
    let out_shape: Vec<usize> = a_rest.iter().chain(b_rest).copied().collect();
    crate::array::shape::check_ndim(out_shape.len())?;
    let a2 = reshape_to(a, &if ta { [ka, m] } else { [m, ka] })?;
    let b2 = reshape_to(b, &if tb { [n, kb] } else { [kb, n] })?;
    reshape_to(&matmul2d(&a2, &b2, ta, tb)?, &out_shape)
}

/// MXNet's `nd.batch_dot`: for arrays of 3 axes or more with the same leading axes (the
/// batch), the matrix product of each pair of matrices on the last two axes, `a`'s
/// transposed when `transpose_a` and `b`'s when `transpose_b`.
pub fn batch_dot(a: &NdArray, b: &NdArray, transpose_a: bool, transpose_b: bool) -> Result<NdArray> {
    let nd = a.ndim();
    if nd < 3 || b.ndim() != nd || a.shape[..nd - 2] != b.shape[..nd - 2] {
        bail!(
            Shape,
            "batch_dot takes arrays of 3 axes or more with the same leading axes; got shapes {} and {}",
            fmt_shape(&a.shape),
            fmt_shape(&b.shape)
        );
    }
    let (ar, ac, br, bc) = (a.shape[nd - 2], a.shape[nd - 1], b.shape[nd - 2], b.shape[nd - 1]);
    let (m, ka) = if transpose_a { (ac, ar) } else { (ar, ac) };
    let (kb, n) = if transpose_b { (bc, br) } else { (br, bc) };
    if ka != kb {
        bail!(
            Shape,
            "batch_dot: shapes {}{} and {}{} are not aligned: {} != {}",
            fmt_shape(&a.shape),
            if transpose_a { " (transposed)" } else { "" },
            fmt_shape(&b.shape),
            if transpose_b { " (transposed)" } else { "" },
            ka,
            kb
        );
    }
    let batch: usize = a.shape[..nd - 2].iter().product();
    let mut out_shape = a.shape[..nd - 2].to_vec();
    out_shape.extend([m, n]);
    let a3 = reshape_to(a, &[batch, ar, ac])?;
    let b3 = reshape_to(b, &[batch, br, bc])?;
    reshape_to(&batch_matmul3d(&a3, &b3, transpose_a, transpose_b)?, &out_shape)
}

/// op(A[i])·op(B[i]) for 3-d operands, differentiable (the gradients as `matmul2d`'s, batch
/// by batch).
fn batch_matmul3d(a: &NdArray, b: &NdArray, ta: bool, tb: bool) -> Result<NdArray> {
    let out = batch_matmul(&a.detach(), &b.detach(), ta, tb)?;
    Ok(record("batch_dot", &[a, b], out, Save::INPUTS, move |v| {
        let (a, b, g) = (v.input(0), v.input(1), v.grad);
        let ga = || match (ta, tb) {
            (false, false) => batch_matmul3d(g, b, false, true),
            (false, true) => batch_matmul3d(g, b, false, false),
            (true, false) => batch_matmul3d(b, g, false, true),
            (true, true) => batch_matmul3d(b, g, true, true),
        };
        let gb = || match (ta, tb) {
            (false, false) => batch_matmul3d(a, g, true, false),
            (false, true) => batch_matmul3d(g, a, true, false),
            (true, false) => batch_matmul3d(a, g, false, false),
            (true, true) => batch_matmul3d(g, a, true, true),
        };
        Ok(vec![if v.needs(0) { Some(ga()?) } else { None }, if v.needs(1) { Some(gb()?) } else { None }])
    }))
}

/// op(A)·op(B) for 2-d operands, differentiable.
fn matmul2d(a: &NdArray, b: &NdArray, ta: bool, tb: bool) -> Result<NdArray> {
    let out = matmul(&a.detach(), &b.detach(), ta, tb)?;
    Ok(record("dot", &[a, b], out, Save::INPUTS, move |v| {
        let (a, b, g) = (v.input(0), v.input(1), v.grad);
        // With C = op(A)·op(B): dA = g·op(B)ᵀ, dB = op(A)ᵀ·g, each transposed back when the
        // operand entered transposed; written as products with flags so nothing is copied.
        let ga = || match (ta, tb) {
            (false, false) => matmul2d(g, b, false, true),
            (false, true) => matmul2d(g, b, false, false),
            (true, false) => matmul2d(b, g, false, true),
            (true, true) => matmul2d(b, g, true, true),
        };
        let gb = || match (ta, tb) {
            (false, false) => matmul2d(a, g, true, false),
            (false, true) => matmul2d(g, a, true, false),
            (true, false) => matmul2d(a, g, false, false),
            (true, true) => matmul2d(g, a, true, true),
        };
        Ok(vec![if v.needs(0) { Some(ga()?) } else { None }, if v.needs(1) { Some(gb()?) } else { None }])
    }))
}
