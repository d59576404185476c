//! The seed tutorial through the Rust API: the semantics the C and Python layers rely on.

mod common;

use std::time::Duration;

use ad::autograd::{self, GradReq};
use ad::ops;
use ad::{DType, NdArray};
use common::{grad, in_child_process, record};

#[test]
fn tutorial_cells() {
    // 1.1–1.5
    let mut x = ops::reshape(&NdArray::arange(0.0, 4.0, 1.0, DType::F32).unwrap(), &[4, 1]).unwrap();
    autograd::attach_grad(&mut x, GradReq::Write).unwrap();
    assert_eq!(grad(&x), vec![0.0; 4]);
    let y = record(|| ops::mul_scalar(&ops::dot(&ops::transpose(&x, &[]).unwrap(), &x, false, false).unwrap(), 2.0).unwrap());
    assert_eq!(y.shape(), &[1, 1]);
    assert_eq!(y.to_f64_vec(), vec![28.0]);
    autograd::backward(&[y], &[], false, true).unwrap();
    assert_eq!(grad(&x), vec![0.0, 4.0, 8.0, 12.0]);

    // 1.6: a non-scalar head counts as its sum.
    let y = record(|| ops::mul(&ops::mul_scalar(&x, 2.0).unwrap(), &x).unwrap());
    autograd::backward(&[y], &[], false, true).unwrap();
    assert_eq!(grad(&x), vec![0.0, 4.0, 8.0, 12.0]);

    // 1.7
    assert!(!autograd::is_training());
    record(|| assert!(autograd::is_training()));

    // 1.11: attach_grad on a recorded result; MXNet 1.9.1 drops the second backward.
    let mut y = record(|| ops::mul_scalar(&x, 3.0).unwrap());
    autograd::attach_grad(&mut y, GradReq::Write).unwrap();
    let z = record(|| ops::mul(&y, &x).unwrap());
    autograd::backward(&[z], &[], false, true).unwrap();
    assert_eq!(grad(&y), vec![0.0, 1.0, 2.0, 3.0]);
    let seven = NdArray::full(&[4, 1], 7.0, DType::F32).unwrap();
    autograd::backward(&[y], &[Some(seven)], false, true).unwrap();
    assert_eq!(grad(&x), vec![21.0; 4]);
}

#[test]
fn second_derivative_of_cube() {
    let mut x = NdArray::from_slice(&[1.0f64, 2.0, -3.0], &[3]).unwrap();
    autograd::attach_grad(&mut x, GradReq::Write).unwrap();
    let y = record(|| ops::pow_scalar(&x, 3.0).unwrap());
    let dx = autograd::grad(&[y], &[x.clone()], &[], true, true, true).unwrap();
    assert_eq!(dx[0].to_f64_vec(), vec![3.0, 12.0, 27.0]);
    autograd::backward(&[dx[0].clone()], &[], false, true).unwrap();
    assert_eq!(grad(&x), vec![6.0, 12.0, -18.0]);
}

#[test]
fn long_recorded_chain_backward_and_drop() {
    let mut x = NdArray::ones(&[1], DType::F32).unwrap();
    autograd::attach_grad(&mut x, GradReq::Write).unwrap();
    let y = record(|| {
        let mut y = x.clone();
        for _ in 0..200_000 {
            y = ops::add_scalar(&y, 1.0).unwrap();
        }
        y
    });
    autograd::backward(&[y.clone()], &[], true, true).unwrap();
    assert_eq!(grad(&x), vec![1.0]);
    drop(y);
}

#[test]
fn long_chain_saving_its_inputs_drops_without_backward() {
    // Each mul node holds its input twice (its input's origin and the saved input): dropping
    // must still be iterative. On a thread with a small stack, a drop that recursed once per
    // node would overflow it and kill the child process.
    in_child_process("long_chain_saving_its_inputs_drops_without_backward", Duration::from_secs(120), || {
        let small_stack = std::thread::Builder::new().stack_size(256 << 10);
        let dropped = small_stack
            .spawn(|| {
                let mut x = NdArray::ones(&[1], DType::F32).unwrap();
                autograd::attach_grad(&mut x, GradReq::Write).unwrap();
                let c = NdArray::ones(&[1], DType::F32).unwrap();
                let y = record(|| {
                    let mut y = ops::mul(&x, &c).unwrap();
                    for _ in 0..200_000 {
                        y = ops::mul(&y, &y).unwrap();
                    }
                    y
                });
                drop(y);
                true
            })
            .unwrap()
            .join();
        assert!(matches!(dropped, Ok(true)));
    });
}
