//! `dot`, as MXNet's `nd.dot`, on matrixmultiply's sgemm/dgemm.

use super::gemm::matmul;
use super::reshape_to;
use crate::array::fmt_shape;
use crate::NdArray;
use crate::tape::{record, Save};
use crate::error::{bail, Result};

/// Matrix product of 1-d and 2-d arrays. A 1-d left operand is a row vector and a 1-d right
/// operand a column vector; the flags transpose 2-d operands (a 1-d one is its own transpose).
/// Vector · vector gives shape (1,), as in MXNet.
pub fn dot(a: &NdArray, b: &NdArray, transpose_a: bool, transpose_b: bool) -> Result<NdArray> {
    if !(1..=2).contains(&a.ndim()) || !(1..=2).contains(&b.ndim()) {
        bail!(Shape, "dot takes 1-d and 2-d arrays; got shapes {} and {}", fmt_shape(&a.shape), fmt_shape(&b.shape));
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
