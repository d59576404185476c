//! Gradients that were once wrong, each pinned by a test named after the bug, in both the
//! default and the reference mode and in both dtypes.

mod common;

use ad::autograd;
use ad::ops::{self, InPlace};
use ad::{DType, ErrorKind, NdArray};
use common::{arr, close, grad, in_both_modes, record, typed, var_typed as var};

const DTYPES: [DType; 2] = [DType::F32, DType::F64];

/// A sum's gradient reaches an element-wise op unexpanded; the broadcast operand's gradient
/// must still count every element it was repeated into.
#[test]
fn broadcast_bias_then_sum_counts_each_repeated_row() {
    in_both_modes(|mode| {
        for dtype in DTYPES {
            let a = var(&[1.0; 8], &[2, 4], dtype);
            let b = var(&[1.0; 4], &[4], dtype);
            let y = record(|| ops::sum(&ops::add(&a, &b)?, &[], false)).unwrap();
            autograd::backward(&[y], &[], false, true).unwrap();
            assert_eq!(grad(&b), vec![2.0; 4], "{mode} {dtype:?}");
            assert_eq!(grad(&a), vec![1.0; 8], "{mode} {dtype:?}");
        }
    });
}

#[test]
fn broadcast_bias_then_mean_counts_each_repeated_row() {
    in_both_modes(|mode| {
        for dtype in DTYPES {
            let a = var(&[1.0; 8], &[2, 4], dtype);
            let b = var(&[1.0; 4], &[4], dtype);
            let y = record(|| ops::mean(&ops::add(&a, &b)?, &[], false)).unwrap();
            autograd::backward(&[y], &[], false, true).unwrap();
            assert_eq!(grad(&b), vec![0.25; 4], "{mode} {dtype:?}");
        }
    });
}

#[test]
fn subtracting_a_broadcast_sum_then_summing_counts_every_element() {
    in_both_modes(|mode| {
        for dtype in DTYPES {
            let a = var(&[0.5; 8], &[2, 4], dtype);
            let s = var(&[1.0, 2.0, 3.0, 4.0], &[2, 2], dtype);
            let y = record(|| ops::sum(&ops::sub(&a, &ops::sum(&s, &[], false)?)?, &[], false)).unwrap();
            autograd::backward(&[y], &[], false, true).unwrap();
            assert_eq!(grad(&s), vec![-8.0; 4], "{mode} {dtype:?}");
        }
    });
}

#[test]
fn mean_of_a_column_minus_a_1x1_gives_the_1x1_minus_one() {
    in_both_modes(|mode| {
        for dtype in DTYPES {
            let x1 = var(&[1.0, 2.0, 3.0], &[3, 1], dtype);
            let y = var(&[0.5], &[1, 1], dtype);
            let m = record(|| ops::mean(&ops::sub(&x1, &y)?, &[], false)).unwrap();
            autograd::backward(&[m], &[], false, true).unwrap();
            assert!(close(&grad(&y), &[-1.0], 1e-6), "{mode} {dtype:?}: {:?}", grad(&y));
            assert!(close(&grad(&x1), &[1.0 / 3.0; 3], 1e-6), "{mode} {dtype:?}: {:?}", grad(&x1));
        }
    });
}

/// `v = x0 - x1.reshape((1, 1))` with x0 (4, 4, 2), `v.sum(axis=2)`, a product, a head
/// gradient: x1's gradient was half the right value (the length-2 axis counted once).
#[test]
fn scalar_broadcast_into_a_partial_sum_counts_the_summed_axis() {
    in_both_modes(|mode| {
        for dtype in DTYPES {
            let x0_vals: Vec<f64> = (0..32).map(|i| 0.1 * i as f64).collect();
            let w_vals: Vec<f64> = (0..12).map(|i| 0.25 * i as f64 - 1.0).collect();
            let h_vals: Vec<f64> = (0..12).map(|i| 1.0 - 0.125 * i as f64).collect();
            let x0 = var(&x0_vals, &[4, 4, 2], dtype);
            let x1 = var(&[0.7], &[1], dtype);
            let w = typed(&w_vals, &[4, 3], dtype);
            let head = typed(&h_vals, &[4, 3], dtype);
            let out = record(|| {
                let v = ops::sub(&x0, &ops::reshape(&x1, &[1, 1])?)?;
                ops::dot(&ops::sum(&v, &[2], false)?, &w, false, false)
            })
            .unwrap();
            autograd::backward(&[out], &[Some(head)], false, true).unwrap();
            // dL/dv[i, j, k] = (H·Wᵀ)[i, j] for each of the 2 values of k; x1 is subtracted from all.
            let mut want = 0.0;
            for i in 0..4 {
                for j in 0..4 {
                    let hw: f64 = (0..3).map(|c| h_vals[i * 3 + c] * w_vals[j * 3 + c]).sum();
                    want -= 2.0 * hw;
                }
            }
            assert!(close(&grad(&x1), &[want], 1e-5), "{mode} {dtype:?}: {:?} vs {want}", grad(&x1));
        }
    });
}

/// `where(cond, x, y)` reads `cond` in backward: changing it in place after recording must be
/// refused, not answered with the new mask.
#[test]
fn where_refuses_backward_after_its_condition_changed_in_place() {
    in_both_modes(|mode| {
        let cond = arr(&[1.0, 0.0, 1.0], &[3]);
        let x = var(&[1.0, 2.0, 3.0], &[3], DType::F64);
        let y = var(&[4.0, 5.0, 6.0], &[3], DType::F64);
        let out = record(|| ops::sum(&ops::where_(&cond, &x, &y)?, &[], false)).unwrap();
        ops::update(&cond, &arr(&[0.0, 1.0, 0.0], &[3]), InPlace::Add).unwrap();
        let err = autograd::backward(std::slice::from_ref(&out), &[], true, true).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Autograd, "{mode}: {err}");
        assert!(err.message.contains("where") && err.message.contains("modified in place"), "{mode}: {err}");
        // Unchanged, the mask is the recorded one.
        let out = record(|| ops::sum(&ops::where_(&cond, &x, &y)?, &[], false)).unwrap();
        autograd::backward(&[out], &[], false, true).unwrap();
        assert_eq!(grad(&x), vec![1.0; 3], "{mode}");
        assert_eq!(grad(&y), vec![0.0; 3], "{mode}");
    });
}

/// `L = Σ pick(x, idx)²`: dL/dx = 2x at the picked places, placed by `pick`'s gradient, whose
/// own gradient (the second derivative through `grad(create_graph)`) picks again with `idx`. Changing `idx` in place between the two must be
/// refused, not read.
#[test]
fn pick_second_derivative_refuses_an_index_changed_in_place() {
    in_both_modes(|mode| {
        let x = var(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3], DType::F64);
        let idx = arr(&[0.0, 2.0], &[2]);
        let first = |idx: &NdArray| {
            let l = record(|| ops::sum(&ops::square(&ops::pick(&x, idx, 1, false)?)?, &[], false)).unwrap();
            let g = autograd::grad(&[l], std::slice::from_ref(&x), &[], true, true, true).unwrap();
            record(|| ops::sum(&g[0], &[], false)).unwrap()
        };
        // Unchanged: d/dx Σ 2x·[picked] = 2 at the picked places.
        let s = first(&idx);
        autograd::backward(&[s], &[], false, true).unwrap();
        assert_eq!(grad(&x), vec![2.0, 0.0, 0.0, 0.0, 0.0, 2.0], "{mode}");
        // Changed after the first derivative was recorded.
        let s = first(&idx);
        ops::update(&idx, &arr(&[1.0, -1.0], &[2]), InPlace::Add).unwrap();
        let err = autograd::backward(&[s], &[], false, true).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Autograd, "{mode}: {err}");
        assert!(err.message.contains("pick") && err.message.contains("modified in place"), "{mode}: {err}");
    });
}

/// MXNet's relu gradient is NaN where the input is NaN: the NaN propagates, as everywhere
/// else. It was 0.
#[test]
fn relu_gradient_at_nan_is_nan() {
    in_both_modes(|mode| {
        let x = var(&[f64::NAN, -1.0, 2.0], &[3], DType::F64);
        let y = record(|| ops::sum(&ops::relu(&x)?, &[], false)).unwrap();
        autograd::backward(&[y], &[], false, true).unwrap();
        let g = grad(&x);
        assert!(g[0].is_nan() && g[1] == 0.0 && g[2] == 1.0, "{mode}: {g:?}");
    });
}
