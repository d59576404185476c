//! Custom differentiable functions through the engine's `ops::custom`: equal to built-in ops
//! to first and second order, with one output or several, errors from either side reaching
//! the caller, and the function dropped once its last graph is.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ad::autograd;
use ad::ops::custom::{apply, CustomFunction};
use ad::ops::{self};
use ad::{ErrorKind, NdArray, Result};
use common::{arr, close, grad, record, var};

/// sigmoid, saving its output: dy = g·y·(1 - y).
struct Sigmoid {
    drops: Arc<AtomicUsize>,
}

impl Drop for Sigmoid {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

impl CustomFunction for Sigmoid {
    fn name(&self) -> &str {
        "sigmoid"
    }

    fn forward(&self, inputs: &[NdArray], saved: &mut Vec<NdArray>) -> Result<Vec<NdArray>> {
        let y = ops::rdiv_scalar(1.0, &ops::add_scalar(&ops::exp(&ops::neg(&inputs[0])?)?, 1.0)?)?;
        saved.push(y.clone());
        Ok(vec![y])
    }

    fn backward(&self, grads: &[NdArray], saved: &[NdArray], _needs: &[bool]) -> Result<Vec<Option<NdArray>>> {
        let y = &saved[0];
        Ok(vec![Some(ops::mul(&grads[0], &ops::mul(y, &ops::rsub_scalar(1.0, y)?)?)?)])
    }
}

/// (sin x, x·y): two outputs, two inputs, saving its inputs.
struct SinAndProduct;

impl CustomFunction for SinAndProduct {
    fn name(&self) -> &str {
        "sin_and_product"
    }

    fn forward(&self, inputs: &[NdArray], saved: &mut Vec<NdArray>) -> Result<Vec<NdArray>> {
        saved.extend(inputs.iter().cloned());
        Ok(vec![ops::sin(&inputs[0])?, ops::mul(&inputs[0], &inputs[1])?])
    }

    fn backward(&self, grads: &[NdArray], saved: &[NdArray], _needs: &[bool]) -> Result<Vec<Option<NdArray>>> {
        let (x, y) = (&saved[0], &saved[1]);
        let gx = ops::add(&ops::mul(&grads[0], &ops::cos(x)?)?, &ops::mul(&grads[1], y)?)?;
        Ok(vec![Some(gx), Some(ops::mul(&grads[1], x)?)])
    }
}

/// Fails where it is told to.
struct Failing {
    in_forward: bool,
}

impl CustomFunction for Failing {
    fn name(&self) -> &str {
        "failing"
    }

    fn forward(&self, inputs: &[NdArray], _saved: &mut Vec<NdArray>) -> Result<Vec<NdArray>> {
        if self.in_forward {
            return Err(ad::Error::new(ErrorKind::InvalidArgument, "the forward refuses"));
        }
        Ok(vec![ops::copy(&inputs[0])?])
    }

    fn backward(&self, _grads: &[NdArray], _saved: &[NdArray], _needs: &[bool]) -> Result<Vec<Option<NdArray>>> {
        // A gradient of the wrong shape.
        Ok(vec![Some(NdArray::zeros(&[7], ad::DType::F64)?)])
    }
}

const X: [f64; 4] = [-1.5, -0.2, 0.3, 2.0];

#[test]
fn a_custom_sigmoid_matches_the_built_in_to_second_order() {
    let drops = Arc::new(AtomicUsize::new(0));
    let f: Arc<dyn CustomFunction> = Arc::new(Sigmoid { drops: drops.clone() });
    for custom in [false, true] {
        let x = var(&X, &[4]);
        // d/dx Σ dy/dx through grad(create_graph): the second derivative, summed.
        let first = record(|| {
            let y = if custom { apply(f.clone(), std::slice::from_ref(&x)).map(|mut o| o.remove(0)) } else { ops::sigmoid(&x) }?;
            let l = ops::sum(&ops::mul(&y, &arr(&[1.0, 2.0, 3.0, 4.0], &[4]))?, &[], false)?;
            let g = autograd::grad(&[l], std::slice::from_ref(&x), &[], true, true, true)?;
            ops::sum(&g[0], &[], false)
        })
        .unwrap();
        autograd::backward(&[first], &[], false, true).unwrap();
        let second = grad(&x);
        // σ'' = σ(1-σ)(1-2σ), times the weights.
        let want: Vec<f64> = X
            .iter()
            .zip([1.0, 2.0, 3.0, 4.0])
            .map(|(&x, w)| {
                let s = 1.0 / (1.0 + (-x).exp());
                w * s * (1.0 - s) * (1.0 - 2.0 * s)
            })
            .collect();
        assert!(close(&second, &want, 1e-12), "custom {custom}: {second:?} vs {want:?}");
    }
    assert_eq!(drops.load(Ordering::SeqCst), 0, "still held here");
    drop(f);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped once, with its last graph");
}

#[test]
fn two_outputs_and_two_inputs_with_either_output_unused() {
    let f: Arc<dyn CustomFunction> = Arc::new(SinAndProduct);
    for (wa, wb) in [(1.0, 1.0), (1.0, 0.0), (0.0, 1.0)] {
        let x = var(&X, &[4]);
        let y = var(&[0.5, 1.0, 1.5, 2.0], &[4]);
        let l = record(|| {
            let out = apply(f.clone(), &[x.clone(), y.clone()])?;
            let mut l = ops::mul_scalar(&ops::sum(&out[0], &[], false)?, wa)?;
            if wb != 0.0 {
                l = ops::add(&l, &ops::mul_scalar(&ops::sum(&out[1], &[], false)?, wb)?)?;
            }
            Ok::<_, ad::Error>(l)
        })
        .unwrap();
        autograd::backward(&[l], &[], false, true).unwrap();
        let yv = [0.5, 1.0, 1.5, 2.0];
        let want_x: Vec<f64> = X.iter().zip(yv).map(|(&x, y)| wa * x.cos() + wb * y).collect();
        let want_y: Vec<f64> = X.iter().map(|&x| wb * x).collect();
        assert!(close(&grad(&x), &want_x, 1e-12), "{wa} {wb}: {:?}", grad(&x));
        assert!(close(&grad(&y), &want_y, 1e-12), "{wa} {wb}: {:?}", grad(&y));
    }
}

#[test]
fn errors_in_forward_and_backward_reach_the_caller() {
    let x = var(&X, &[4]);
    let err = record(|| apply(Arc::new(Failing { in_forward: true }), std::slice::from_ref(&x))).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    assert!(err.message.contains("the forward refuses"), "{err}");
    let y = record(|| apply(Arc::new(Failing { in_forward: false }), std::slice::from_ref(&x))).unwrap();
    let err = autograd::backward(&y, &[], false, true).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Shape);
    assert!(err.message.contains("custom function `failing`") && err.message.contains("(7,)"), "{err}");
}

#[test]
fn outside_a_record_scope_nothing_is_recorded() {
    let x = var(&X, &[4]);
    let out = apply(Arc::new(SinAndProduct), &[x.clone(), x.clone()]).unwrap();
    let err = autograd::backward(&out, &[], false, true).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Autograd);
}
