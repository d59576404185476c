//! Two-input element-wise ops with NumPy broadcasting. The gradient for a broadcast operand
//! is summed back to that operand's shape (`sum_to`).

use super::kernel::{map, zip, Cmp, Map, Zip2};
use super::{log, neg, sum_to};
use crate::NdArray;
use crate::tape::{record_elementwise, Save};
use crate::error::Result;

/// Each input's gradient from `f`, reduced to the input's shape, where it is needed.
fn grads(
    v: &crate::tape::VjpArgs<'_>,
    ga: impl FnOnce() -> Result<NdArray>,
    gb: impl FnOnce() -> Result<NdArray>,
) -> Result<Vec<Option<NdArray>>> {
    let a = if v.needs(0) { Some(sum_to(&ga()?, v.output_shape(), v.input_shape(0))?) } else { None };
    let b = if v.needs(1) { Some(sum_to(&gb()?, v.output_shape(), v.input_shape(1))?) } else { None };
    Ok(vec![a, b])
}

pub fn add(a: &NdArray, b: &NdArray) -> Result<NdArray> {
    let out = zip(a, b, Zip2::Add)?;
    Ok(record_elementwise("add", &[a, b], out, Save::NOTHING, |v| grads(v, || Ok(v.grad.clone()), || Ok(v.grad.clone()))))
}

pub fn sub(a: &NdArray, b: &NdArray) -> Result<NdArray> {
    let out = zip(a, b, Zip2::Sub)?;
    Ok(record_elementwise("sub", &[a, b], out, Save::NOTHING, |v| grads(v, || Ok(v.grad.clone()), || neg(v.grad))))
}

pub fn mul(a: &NdArray, b: &NdArray) -> Result<NdArray> {
    let out = zip(a, b, Zip2::Mul)?;
    Ok(record_elementwise("mul", &[a, b], out, Save::INPUTS, |v| {
        grads(v, || mul(v.grad, v.input(1)), || mul(v.grad, v.input(0)))
    }))
}

pub fn div(a: &NdArray, b: &NdArray) -> Result<NdArray> {
    let out = zip(a, b, Zip2::Div)?;
    Ok(record_elementwise("div", &[a, b], out, Save::BOTH, |v| {
        // d(a/b)/db = -a/b² = -out/b
        grads(v, || div(v.grad, v.input(1)), || neg(&div(&mul(v.grad, &v.output())?, v.input(1))?))
    }))
}

pub fn pow(a: &NdArray, b: &NdArray) -> Result<NdArray> {
    let out = zip(a, b, Zip2::Pow)?;
    Ok(record_elementwise("pow", &[a, b], out, Save::BOTH, |v| {
        let (a, b) = (v.input(0), v.input(1));
        grads(
            v,
            // b · a^(b-1)
            || mul(v.grad, &mul(b, &pow(a, &super::add_scalar(b, -1.0)?)?)?),
            // a^b · ln a
            || mul(v.grad, &mul(&v.output(), &log(a)?)?),
        )
    }))
}

/// Element-wise maximum (NaN wins, as in NumPy); on ties the gradient goes to `a`.
pub fn maximum(a: &NdArray, b: &NdArray) -> Result<NdArray> {
    let out = zip(a, b, Zip2::Max)?;
    Ok(record_elementwise("maximum", &[a, b], out, Save::INPUTS, |v| {
        let (a, b) = (v.input(0), v.input(1));
        grads(v, || mul(v.grad, &compare(a, b, Cmp::Ge)?), || mul(v.grad, &compare(a, b, Cmp::Lt)?))
    }))
}

/// Element-wise minimum (NaN wins, as in NumPy); on ties the gradient goes to `a`.
pub fn minimum(a: &NdArray, b: &NdArray) -> Result<NdArray> {
    let out = zip(a, b, Zip2::Min)?;
    Ok(record_elementwise("minimum", &[a, b], out, Save::INPUTS, |v| {
        let (a, b) = (v.input(0), v.input(1));
        grads(v, || mul(v.grad, &compare(a, b, Cmp::Le)?), || mul(v.grad, &compare(a, b, Cmp::Gt)?))
    }))
}

/// 1 where `a <op> b` holds, else 0, in the operands' dtype. No gradient flows through it.
pub fn compare(a: &NdArray, b: &NdArray, op: Cmp) -> Result<NdArray> {
    zip(a, b, Zip2::Cmp(op)).map(NdArray::from)
}

/// 1 where `a <op> s` holds, else 0. No gradient flows through it.
pub fn compare_scalar(a: &NdArray, s: f64, op: Cmp) -> Result<NdArray> {
    map(a, Map::CmpS(op, s)).map(NdArray::from)
}
