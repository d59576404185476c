//! One-input element-wise ops and the scalar forms of arithmetic, each with its
//! vector-Jacobian product beside it.

use super::kernel::{map, Cmp, Map};
use super::{compare_scalar, div, mul, sign};
use crate::array::InPlace;
use crate::NdArray;
use crate::tape::{record_elementwise, Save};
use crate::error::Result;

pub fn neg(a: &NdArray) -> Result<NdArray> {
    let out = map(a, Map::Neg)?;
    Ok(record_elementwise("neg", &[a], out, Save::NOTHING, |v| Ok(vec![Some(neg(v.grad)?)])))
}

pub fn exp(a: &NdArray) -> Result<NdArray> {
    let out = map(a, Map::Exp)?;
    Ok(record_elementwise("exp", &[a], out, Save::OUTPUT, |v| {
        let out = v.output();
        Ok(vec![Some(match v.grad_to_overwrite() {
            Some(g) => {
                g.update_with(&out, InPlace::Mul)?;
                g.clone()
            }
            None => mul(v.grad, &out)?,
        })])
    }))
}

pub fn log(a: &NdArray) -> Result<NdArray> {
    let out = map(a, Map::Log)?;
    Ok(record_elementwise("log", &[a], out, Save::INPUTS, |v| Ok(vec![Some(div(v.grad, v.input(0))?)])))
}

pub fn sqrt(a: &NdArray) -> Result<NdArray> {
    let out = map(a, Map::Sqrt)?;
    Ok(record_elementwise("sqrt", &[a], out, Save::OUTPUT, |v| {
        Ok(vec![Some(div(v.grad, &mul_scalar(&v.output(), 2.0)?)?)])
    }))
}

pub fn abs(a: &NdArray) -> Result<NdArray> {
    let out = map(a, Map::Abs)?;
    Ok(record_elementwise("abs", &[a], out, Save::INPUTS, |v| Ok(vec![Some(mul(v.grad, &sign(v.input(0))?)?)])))
}

pub fn square(a: &NdArray) -> Result<NdArray> {
    let out = map(a, Map::Square)?;
    Ok(record_elementwise("square", &[a], out, Save::INPUTS, |v| {
        Ok(vec![Some(mul(v.grad, &mul_scalar(v.input(0), 2.0)?)?)])
    }))
}

/// `max(a, 0)`, NaN staying NaN. Its gradient is 1 where `a > 0`, 0 elsewhere, and NaN where
/// `a` is NaN (as MXNet's): the sign of the output.
pub fn relu(a: &NdArray) -> Result<NdArray> {
    let out = map(a, Map::Relu)?;
    Ok(record_elementwise("relu", &[a], out, Save::OUTPUT, |v| Ok(vec![Some(mul(v.grad, &sign(&v.output())?)?)])))
}

pub fn sigmoid(a: &NdArray) -> Result<NdArray> {
    let out = map(a, Map::Sigmoid)?;
    Ok(record_elementwise("sigmoid", &[a], out, Save::OUTPUT, |v| {
        let y = v.output();
        Ok(vec![Some(mul(v.grad, &mul(&y, &rsub_scalar(1.0, &y)?)?)?)])
    }))
}

pub fn tanh(a: &NdArray) -> Result<NdArray> {
    let out = map(a, Map::Tanh)?;
    Ok(record_elementwise("tanh", &[a], out, Save::OUTPUT, |v| {
        Ok(vec![Some(mul(v.grad, &rsub_scalar(1.0, &square(&v.output())?)?)?)])
    }))
}

/// `a + s`
pub fn add_scalar(a: &NdArray, s: f64) -> Result<NdArray> {
    let out = map(a, Map::AddS(s))?;
    Ok(record_elementwise("add_scalar", &[a], out, Save::NOTHING, |v| Ok(vec![Some(v.grad.clone())])))
}

/// `a - s`
pub fn sub_scalar(a: &NdArray, s: f64) -> Result<NdArray> {
    add_scalar(a, -s)
}

/// `s - a`
pub fn rsub_scalar(s: f64, a: &NdArray) -> Result<NdArray> {
    let out = map(a, Map::RSubS(s))?;
    Ok(record_elementwise("rsub_scalar", &[a], out, Save::NOTHING, |v| Ok(vec![Some(neg(v.grad)?)])))
}

/// `a * s`
pub fn mul_scalar(a: &NdArray, s: f64) -> Result<NdArray> {
    let out = map(a, Map::MulS(s))?;
    Ok(record_elementwise("mul_scalar", &[a], out, Save::NOTHING, move |v| {
        Ok(vec![Some(match v.grad_to_overwrite() {
            Some(g) => {
                g.scale(s);
                g.clone()
            }
            None => mul_scalar(v.grad, s)?,
        })])
    }))
}

/// `a / s`
pub fn div_scalar(a: &NdArray, s: f64) -> Result<NdArray> {
    let out = map(a, Map::DivS(s))?;
    Ok(record_elementwise("div_scalar", &[a], out, Save::NOTHING, move |v| Ok(vec![Some(div_scalar(v.grad, s)?)])))
}

/// `s / a`
pub fn rdiv_scalar(s: f64, a: &NdArray) -> Result<NdArray> {
    let out = map(a, Map::RDivS(s))?;
    Ok(record_elementwise("rdiv_scalar", &[a], out, Save::BOTH, |v| {
        // d(s/a) = -s/a² = -out/a
        Ok(vec![Some(neg(&div(&mul(v.grad, &v.output())?, v.input(0))?)?)])
    }))
}

/// `a ** s`
pub fn pow_scalar(a: &NdArray, s: f64) -> Result<NdArray> {
    let out = map(a, Map::PowS(s))?;
    Ok(record_elementwise("pow_scalar", &[a], out, Save::INPUTS, move |v| {
        let slope = mul_scalar(&pow_scalar(v.input(0), s - 1.0)?, s)?;
        Ok(vec![Some(mul(v.grad, &slope)?)])
    }))
}

/// `s ** a`
pub fn rpow_scalar(s: f64, a: &NdArray) -> Result<NdArray> {
    let out = map(a, Map::RPowS(s))?;
    Ok(record_elementwise("rpow_scalar", &[a], out, Save::OUTPUT, move |v| {
        Ok(vec![Some(mul(v.grad, &mul_scalar(&v.output(), s.ln())?)?)])
    }))
}

/// Element-wise `max(a, s)`; the gradient goes to `a` where `a >= s`.
pub fn maximum_scalar(a: &NdArray, s: f64) -> Result<NdArray> {
    let out = map(a, Map::MaxS(s))?;
    Ok(record_elementwise("maximum_scalar", &[a], out, Save::INPUTS, move |v| {
        Ok(vec![Some(mul(v.grad, &compare_scalar(v.input(0), s, Cmp::Ge)?)?)])
    }))
}

/// Element-wise `min(a, s)`; the gradient goes to `a` where `a <= s`.
pub fn minimum_scalar(a: &NdArray, s: f64) -> Result<NdArray> {
    let out = map(a, Map::MinS(s))?;
    Ok(record_elementwise("minimum_scalar", &[a], out, Save::INPUTS, move |v| {
        Ok(vec![Some(mul(v.grad, &compare_scalar(v.input(0), s, Cmp::Le)?)?)])
    }))
}
