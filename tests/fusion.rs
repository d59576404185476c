//! Fused element-wise chains (`ops::fuse`) give what op-by-op evaluation gives, bit for bit,
//! at any thread count, and keep the semantics of eager ops: a leaf written after the op
//! leaves the result as it was, reads from many threads see one value, trees stay bounded,
//! in-place changes to saved values are still caught by backward.
//!
//! The fusion threshold and the thread count are process-wide: every test holds `SETTINGS`.

mod common;

use std::sync::{Mutex, MutexGuard};

use ad::autograd;
use ad::ops::{self, fuse, InPlace};
use ad::{DType, ErrorKind, NdArray};
use common::{record, var_typed};

static SETTINGS: Mutex<()> = Mutex::new(());

/// Whether ops on small arrays are deferred now (as `fused_and_plain` sets it).
fn fused_on() -> bool {
    let min = fuse::set_min_elements(None);
    fuse::set_min_elements(min);
    min == Some(1)
}

fn settings() -> MutexGuard<'static, ()> {
    SETTINGS.lock().unwrap_or_else(|e| e.into_inner())
}

/// An element count over several blocks, reduction pieces and a ragged end.
const N: usize = 3 * 65_536 + 1_027;

fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
        })
        .collect()
}

fn array(n: usize, seed: u64, dtype: DType) -> NdArray {
    common::typed(&values(n, seed), &[n], dtype)
}

/// The bits of each element (as f64, which holds every f32 exactly).
fn bits(a: &NdArray) -> Vec<u64> {
    a.to_f64_vec().iter().map(|v| v.to_bits()).collect()
}

/// The bits of `f` run op by op (fusion off for the call).
fn plain_bits(f: &dyn Fn() -> NdArray) -> Vec<u64> {
    let before = fuse::set_min_elements(None);
    let v = bits(&f());
    fuse::set_min_elements(before);
    v
}

/// `f` run with fusion on (from one element) and off, at 1 and 2 threads: the four results'
/// bits, and whether the fused runs left something pending.
fn fused_and_plain(f: impl Fn() -> NdArray) -> Vec<(String, Vec<u64>)> {
    let mut runs = Vec::new();
    let threads_before = ad::cpu::threads::num_threads();
    for threads in [1, 2] {
        ad::cpu::threads::set_num_threads(threads).unwrap();
        for fused in [true, false] {
            let before = fuse::set_min_elements(fused.then_some(1));
            let out = f();
            runs.push((format!("fused {fused}, {threads} threads"), bits(&out)));
            fuse::set_min_elements(before);
        }
    }
    ad::cpu::threads::set_num_threads(threads_before).unwrap();
    runs
}

fn assert_all_equal(runs: &[(String, Vec<u64>)]) {
    for (name, b) in &runs[1..] {
        let first = &runs[0];
        if let Some(i) = b.iter().zip(&first.1).position(|(x, y)| x != y) {
            panic!("{name} differs from {} at element {i}: {} vs {}", first.0, f64::from_bits(b[i]), f64::from_bits(first.1[i]));
        }
        assert_eq!(b.len(), first.1.len(), "{name}");
    }
}

/// Every one-input function and every two-input function, chained, with one-element
/// operands on either side.
fn every_op(x: &NdArray, y: &NdArray, s: &NdArray) -> ad::Result<NdArray> {
    let a = ops::exp(&ops::mul_scalar(x, 0.5)?)?;
    let b = ops::log(&ops::add_scalar(&ops::abs(y)?, 0.1)?)?;
    let c = ops::sigmoid(&ops::tanh(&ops::sub(&a, &b)?)?)?;
    let d = ops::sqrt(&ops::square(&ops::relu(&ops::neg(&c)?)?)?)?;
    let e = ops::div(&ops::pow(&ops::add_scalar(&a, 1.0)?, &ops::rsub_scalar(1.5, &c)?)?, &ops::add_scalar(&b, 3.0)?)?;
    let f = ops::maximum(&ops::minimum(&e, &d)?, &ops::mul(s, &c)?)?;
    let g = ops::rdiv_scalar(2.0, &ops::add_scalar(&ops::pow_scalar(&f, 3.0)?, 4.0)?)?;
    let h = ops::rpow_scalar(1.1, &ops::div_scalar(&ops::maximum_scalar(&g, 0.2)?, 3.0)?)?;
    let i = ops::compare(&h, &ops::minimum_scalar(&a, 1.0)?, ops::Cmp::Lt)?;
    let j = ops::compare_scalar(&a, 1.0, ops::Cmp::Ge)?;
    ops::add(&ops::sub(&ops::mul(&i, &h)?, &ops::mul(&j, s)?)?, &ops::div(s, &ops::add_scalar(&a, 1.0)?)?)
}

#[test]
fn every_element_wise_op_fused_gives_the_same_bits_as_op_by_op() {
    let _s = settings();
    for dtype in [DType::F32, DType::F64] {
        let x = array(N, 1, dtype);
        let y = array(N, 2, dtype);
        let s = common::typed(&[0.75], &[1], dtype);
        let runs = fused_and_plain(|| every_op(&x, &y, &s).unwrap());
        assert_all_equal(&runs);
    }
}

#[test]
fn a_fused_sum_gives_the_same_bits_as_summing_the_computed_chain() {
    let _s = settings();
    for dtype in [DType::F32, DType::F64] {
        for n in [7, 1_000, 65_536, N] {
            let x = array(n, 3, dtype);
            let runs = fused_and_plain(|| {
                let chain = ops::mul(&ops::exp(&ops::add_scalar(&ops::mul_scalar(&x, 2.0).unwrap(), 1.0).unwrap()).unwrap(), &x).unwrap();
                ops::sum(&chain, &[], false).unwrap()
            });
            assert_all_equal(&runs);
        }
    }
}

#[test]
fn ops_on_large_arrays_are_deferred_until_read() {
    let _s = settings();
    let before = fuse::set_min_elements(Some(1_000));
    let x = array(N, 4, DType::F32);
    let y = ops::add_scalar(&ops::mul_scalar(&x, 2.0).unwrap(), 1.0).unwrap();
    assert_eq!(fuse::pending_ops(&y), 2, "two ops wait in one tree");
    let small = ops::mul_scalar(&array(10, 5, DType::F32), 2.0).unwrap();
    assert_eq!(fuse::pending_ops(&small), 0, "below the threshold an op runs at once");
    let want: Vec<f64> = x.to_f64_vec().iter().map(|&v| (v as f32 * 2.0 + 1.0) as f64).collect();
    assert_eq!(y.to_f64_vec(), want);
    assert_eq!(fuse::pending_ops(&y), 0, "computed once read");
    ad::reference::set(true);
    let z = ops::mul_scalar(&x, 2.0).unwrap();
    ad::reference::set(false);
    assert_eq!(fuse::pending_ops(&z), 0, "the reference mode defers nothing");
    fuse::set_min_elements(before);
}

#[test]
fn writing_a_leaf_after_the_op_leaves_the_result_as_it_was() {
    let _s = settings();
    let before = fuse::set_min_elements(Some(1));
    let x = array(N, 6, DType::F64);
    let old = x.to_f64_vec();
    let y = ops::mul_scalar(&ops::exp(&x).unwrap(), 2.0).unwrap();
    let z = ops::add(&x, &x).unwrap();
    assert!(fuse::pending_ops(&y) > 0 && fuse::pending_ops(&z) > 0);
    // Each kind of write: an in-place update, a slice assignment.
    ops::update(&x, &common::typed(&vec![5.0; N], &[N], DType::F64), InPlace::Assign).unwrap();
    ops::write_slice(&x, &[ops::AxisIndex::Range { start: 0, stop: 3, step: 1 }], &common::typed(&[9.0; 3], &[3], DType::F64)).unwrap();
    let want_y: Vec<f64> = old.iter().map(|v| v.exp() * 2.0).collect();
    let want_z: Vec<f64> = old.iter().map(|v| v + v).collect();
    assert_eq!(y.to_f64_vec(), want_y);
    assert_eq!(z.to_f64_vec(), want_z);
    assert_eq!(&x.to_f64_vec()[..4], &[9.0, 9.0, 9.0, 5.0]);
    fuse::set_min_elements(before);
}

#[test]
fn writing_into_a_pending_result_computes_it_first() {
    let _s = settings();
    let before = fuse::set_min_elements(Some(1));
    let x = array(N, 7, DType::F32);
    let y = ops::mul_scalar(&x, 3.0).unwrap();
    ops::update(&y, &ops::mul_scalar(&x, 0.0).unwrap(), InPlace::Add).unwrap();
    let want: Vec<f64> = x.to_f64_vec().iter().map(|&v| (v as f32 * 3.0) as f64).collect();
    assert_eq!(y.to_f64_vec(), want);
    fuse::set_min_elements(before);
}

#[test]
fn trees_stay_bounded_and_long_chains_compute_right() {
    let _s = settings();
    let before = fuse::set_min_elements(Some(1));
    let x = array(1_000, 8, DType::F64);
    let mut y = x.clone();
    let mut want = x.to_f64_vec();
    for i in 0..1_000 {
        y = if i % 2 == 0 { ops::mul_scalar(&y, 1.001).unwrap() } else { ops::add(&y, &x).unwrap() };
        assert!(fuse::pending_ops(&y) <= fuse::max_ops(), "{} ops pending", fuse::pending_ops(&y));
        let xs = x.to_f64_vec();
        for (w, &v) in want.iter_mut().zip(&xs) {
            *w = if i % 2 == 0 { *w * 1.001 } else { *w + v };
        }
    }
    assert_eq!(y.to_f64_vec(), want);
    fuse::set_min_elements(before);
}

#[test]
fn many_threads_reading_one_pending_result_see_the_same_values() {
    let _s = settings();
    let before = fuse::set_min_elements(Some(1));
    for _ in 0..20 {
        let x = array(N, 9, DType::F32);
        let y = ops::tanh(&ops::mul(&x, &x).unwrap()).unwrap();
        let seen: Vec<Vec<u64>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..6).map(|_| s.spawn(|| bits(&ops::sum(&y, &[], false).unwrap()).into_iter().chain(bits(&y)).collect())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(seen.windows(2).all(|w| w[0] == w[1]));
    }
    fuse::set_min_elements(before);
}

#[test]
fn gradients_through_fused_chains_are_the_same_bits() {
    let _s = settings();
    for dtype in [DType::F32, DType::F64] {
        let runs = fused_and_plain(|| {
            let x = var_typed(&values(N, 10), &[N], dtype);
            let y = record(|| {
                let t = ops::exp(&ops::add_scalar(&ops::mul_scalar(&x, 2.0)?, 1.0)?)?;
                ops::sum(&ops::sub(&ops::mul(&t, &x)?, &ops::tanh(&x)?)?, &[], false)
            })
            .unwrap();
            autograd::backward(&[y], &[], false, true).unwrap();
            autograd::grad_of(&x).unwrap()
        });
        assert_all_equal(&runs);
    }
}

#[test]
fn an_in_place_change_to_a_pending_saved_value_is_still_caught() {
    let _s = settings();
    let before = fuse::set_min_elements(Some(1));
    let x = var_typed(&values(N, 11), &[N], DType::F32);
    let mut e = None;
    let y = record(|| {
        let t = ops::exp(&x)?;
        e = Some(t.clone());
        ops::sum(&t, &[], false)
    })
    .unwrap();
    let e = e.unwrap();
    assert!(fuse::pending_ops(&e) > 0);
    ops::update(&e, &common::typed(&[1.0], &[1], DType::F32), InPlace::Add).unwrap();
    let err = autograd::backward(&[y], &[], false, true).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Autograd, "{err}");
    fuse::set_min_elements(before);
}

#[test]
fn an_intermediate_still_held_is_written_by_the_loop_that_computes_a_later_result() {
    let _s = settings();
    for dtype in [DType::F32, DType::F64] {
        let runs = fused_and_plain(|| {
            let x = array(N, 12, dtype);
            let t = ops::exp(&ops::mul_scalar(&x, 0.5).unwrap()).unwrap();
            let u = ops::mul(&t, &x).unwrap();
            let total = ops::sum(&u, &[], false).unwrap();
            // The sum waits too; read, its loop writes t and u, both still held, on its way.
            assert!(!fused_on() || fuse::pending_ops(&t) > 0 && fuse::is_pending(&total), "{dtype:?}");
            total.wait_to_read();
            assert_eq!(fuse::pending_ops(&t), 0, "{dtype:?}");
            assert_eq!(fuse::pending_ops(&u), 0, "{dtype:?}");
            let v = ops::add(&u, &t).unwrap();
            ops::concat(&[v, ops::reshape(&total, &[1]).unwrap(), t], 0).unwrap()
        });
        assert_all_equal(&runs);
    }
}

#[test]
fn a_sum_and_a_later_result_sharing_its_work_are_computed_by_one_loop() {
    let _s = settings();
    for dtype in [DType::F32, DType::F64] {
        for sum_first in [false, true] {
            let runs = fused_and_plain(|| {
                let x = array(N, 15, dtype);
                let t = ops::exp(&ops::add_scalar(&ops::mul_scalar(&x, 2.0).unwrap(), 1.0).unwrap()).unwrap();
                let total = ops::sum(&ops::mul(&t, &x).unwrap(), &[], false).unwrap();
                let later = ops::add(&ops::mul_scalar(&t, 2.0).unwrap(), &x).unwrap();
                drop(t);
                assert!(!fused_on() || fuse::is_pending(&total) && fuse::pending_ops(&later) > 0, "{dtype:?}");
                if sum_first {
                    total.wait_to_read();
                    assert_eq!(fuse::pending_ops(&later), 0, "{dtype:?}: the sum's loop writes the later result");
                } else {
                    later.wait_to_read();
                    assert!(!fuse::is_pending(&total), "{dtype:?}: the later result's loop adds up the sum");
                }
                ops::concat(&[later, ops::reshape(&total, &[1]).unwrap()], 0).unwrap()
            });
            assert_all_equal(&runs);
        }
    }
}

#[test]
fn backward_computes_a_pending_loss_with_the_gradient() {
    let _s = settings();
    for (dtype, mean) in [(DType::F32, false), (DType::F64, false), (DType::F32, true), (DType::F64, true)] {
        let runs = fused_and_plain(|| {
            let x = var_typed(&values(N, 17), &[N], dtype);
            let y = record(|| {
                let t = ops::exp(&ops::add_scalar(&ops::mul_scalar(&x, 2.0)?, 1.0)?)?;
                let u = ops::mul(&t, &x)?;
                // A mean is a sum and a division of the total, and a sign on top: still
                // pending, one loop with the gradient.
                if mean { ops::neg(&ops::mean(&u, &[], false)?) } else { ops::sum(&u, &[], false) }
            })
            .unwrap();
            assert!(!fused_on() || fuse::is_pending(&y), "{dtype:?}");
            autograd::backward(std::slice::from_ref(&y), &[], false, true).unwrap();
            // The gradient is written into x's gradient buffer, computed by one loop that
            // adds up the loss on its way.
            assert!(!fuse::is_pending(&y), "{dtype:?}");
            ops::concat(&[autograd::grad_of(&x).unwrap(), ops::reshape(&y, &[1]).unwrap()], 0).unwrap()
        });
        assert_all_equal(&runs);
    }
}

#[test]
fn pending_sums_are_bounded_and_keep_the_values_of_their_time() {
    let _s = settings();
    let before = fuse::set_min_elements(Some(1));
    let x = array(N, 16, DType::F64);
    let old = x.to_f64_vec();
    let first = ops::sum(&ops::exp(&x).unwrap(), &[], false).unwrap();
    let want_first = plain_bits(&|| ops::sum(&ops::exp(&x).unwrap(), &[], false).unwrap());
    assert!(fuse::is_pending(&first));
    // A second sum computes the first: one pending sum at a time holds its leaves.
    let second = ops::sum(&ops::mul_scalar(&x, 3.0).unwrap(), &[], false).unwrap();
    assert!(!fuse::is_pending(&first) && fuse::is_pending(&second));
    let want_second = plain_bits(&|| ops::sum(&ops::mul_scalar(&x, 3.0).unwrap(), &[], false).unwrap());
    // Writing a leaf computes the pending sum first, from the values it was called on.
    ops::update(&x, &common::typed(&vec![5.0; N], &[N], DType::F64), InPlace::Assign).unwrap();
    assert!(!fuse::is_pending(&second));
    assert_eq!(bits(&first), want_first);
    assert_eq!(bits(&second), want_second);
    let want: f64 = old.iter().map(|v| v * 3.0).sum();
    assert!((second.to_f64_vec()[0] - want).abs() <= 1e-9 * want.abs().max(1.0));
    // Ops on a pending sum are pending too, and computed with it; a sum of another tree
    // computes them first.
    let total = ops::sum(&ops::exp(&x).unwrap(), &[], false).unwrap();
    let scaled = ops::add_scalar(&ops::div_scalar(&total, 7.0).unwrap(), 1.0).unwrap();
    assert!(fuse::is_pending(&total) && fuse::is_pending(&scaled));
    let want_scaled = plain_bits(&|| ops::add_scalar(&ops::div_scalar(&ops::sum(&ops::exp(&x).unwrap(), &[], false).unwrap(), 7.0).unwrap(), 1.0).unwrap());
    let other = ops::sum(&ops::mul_scalar(&x, 2.0).unwrap(), &[], false).unwrap();
    assert!(!fuse::is_pending(&total) && !fuse::is_pending(&scaled) && fuse::is_pending(&other));
    assert_eq!(bits(&scaled), want_scaled);
    // A sum whose array was dropped, never read, is dropped without being computed; a later
    // sum does not wait on it.
    drop(ops::sum(&ops::exp(&x).unwrap(), &[], false).unwrap());
    let third = ops::sum(&ops::neg(&x).unwrap(), &[], false).unwrap();
    assert_eq!(third.to_f64_vec(), vec![-5.0 * N as f64]);
    fuse::set_min_elements(before);
}

#[test]
fn threads_keep_their_own_pending_sums() {
    let _s = settings();
    let before = fuse::set_min_elements(Some(1));
    let x = array(N, 18, DType::F32);
    let mine = ops::sum(&ops::exp(&x).unwrap(), &[], false).unwrap();
    // Another thread's sum of another tree leaves this thread's pending, and its own stays
    // pending until read there or here.
    let theirs = std::thread::spawn({
        let x = x.clone();
        move || {
            let theirs = ops::sum(&ops::mul_scalar(&x, 3.0).unwrap(), &[], false).unwrap();
            assert!(fuse::is_pending(&theirs));
            theirs
        }
    })
    .join()
    .unwrap();
    assert!(fuse::is_pending(&mine) && fuse::is_pending(&theirs));
    assert_eq!(bits(&theirs), plain_bits(&|| ops::sum(&ops::mul_scalar(&x, 3.0).unwrap(), &[], false).unwrap()));
    assert!(fuse::is_pending(&mine));
    assert_eq!(bits(&mine), plain_bits(&|| ops::sum(&ops::exp(&x).unwrap(), &[], false).unwrap()));
    fuse::set_min_elements(before);
}

#[test]
fn products_by_one_anywhere_in_a_chain_give_the_same_bits() {
    let _s = settings();
    for dtype in [DType::F32, DType::F64] {
        let mut v = values(N, 13);
        v[..6].copy_from_slice(&[-0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 1e-310]);
        let x = common::typed(&v, &[N], dtype);
        let one = common::typed(&[1.0], &[1], dtype);
        let two = common::typed(&[2.0], &[1], dtype);
        let runs = fused_and_plain(|| {
            // By one first, twice over, on either side, after another op, last, and as a
            // value still held (written on the way).
            let a = ops::mul(&one, &ops::mul(&x, &one).unwrap()).unwrap();
            let b = ops::mul(&ops::exp(&ops::mul(&a, &one).unwrap()).unwrap(), &two).unwrap();
            let held = ops::mul(&ops::neg(&a).unwrap(), &one).unwrap();
            let ones = ops::mul(&one, &one).unwrap();
            let c = ops::mul(&ops::add(&ops::sub(&b, &held).unwrap(), &ops::mul(&x, &ones).unwrap()).unwrap(), &one).unwrap();
            // One added is not one multiplied (its sum is dropped before the loop runs, so
            // that it is not written on the way).
            let d = {
                let sum = ops::add(&one, &a).unwrap();
                ops::neg(&sum).unwrap()
            };
            ops::concat(&[c, held, d], 0).unwrap()
        });
        assert_all_equal(&runs);
    }
}

#[test]
fn an_in_place_update_by_a_pending_value_gives_the_same_bits() {
    let _s = settings();
    for dtype in [DType::F32, DType::F64] {
        for op in [InPlace::Assign, InPlace::Add, InPlace::Sub, InPlace::Mul, InPlace::Div] {
            let runs = fused_and_plain(|| {
                let w = array(N, 20, dtype);
                let g = array(N, 21, dtype);
                // A temporary (`w -= lr * g`): run straight into w.
                ops::update(&w, &ops::mul_scalar(&g, 0.1).unwrap(), op).unwrap();
                // One the caller keeps: it stays pending, and still reads as the values of the
                // moment of its op after its leaf is written.
                let kept = ops::exp(&ops::mul_scalar(&g, 0.5).unwrap()).unwrap();
                ops::update(&w, &kept, op).unwrap();
                assert!(!fused_on() || fuse::pending_ops(&kept) > 0, "{op:?}: the kept value was computed");
                // An intermediate still held is written on the way.
                let held = ops::mul_scalar(&g, 2.0).unwrap();
                ops::update(&w, &ops::sub(&held, &ops::abs(&g).unwrap()).unwrap(), op).unwrap();
                assert_eq!(fuse::pending_ops(&held), 0, "{op:?}");
                // w among the value's leaves: computed first, then written.
                ops::update(&w, &ops::add_scalar(&ops::mul_scalar(&w, 0.5).unwrap(), 0.25).unwrap(), op).unwrap();
                ops::update(&g, &w, InPlace::Assign).unwrap();
                ops::concat(&[w, kept, held, g], 0).unwrap()
            });
            assert_all_equal(&runs);
        }
    }
}

#[test]
fn wait_to_read_and_wait_all_compute_pending_results_now() {
    let _s = settings();
    let before = fuse::set_min_elements(Some(1));
    let x = array(N, 14, DType::F32);
    // The bits op by op.
    let want = plain_bits(&|| ops::exp(&ops::mul_scalar(&x, 0.5).unwrap()).unwrap());
    // One array at a time.
    let a = ops::exp(&ops::mul_scalar(&x, 0.5).unwrap()).unwrap();
    assert!(fuse::pending_ops(&a) > 0);
    a.wait_to_read();
    assert_eq!(fuse::pending_ops(&a), 0);
    assert_eq!(bits(&a), want);
    // Every array still pending, made on this thread and on another, one of them read by a
    // later one; an array dropped while pending is not kept.
    let b = ops::exp(&ops::mul_scalar(&x, 0.5).unwrap()).unwrap();
    let c = ops::add_scalar(&b, 1.0).unwrap();
    drop(ops::neg(&x).unwrap());
    let d = std::thread::spawn({
        let x = x.clone();
        move || ops::mul_scalar(&x, 3.0).unwrap()
    })
    .join()
    .unwrap();
    assert!([&b, &c, &d].iter().all(|p| fuse::pending_ops(p) > 0));
    ad::array::storage::compute_all_pending();
    assert!([&b, &c, &d].iter().all(|p| fuse::pending_ops(p) == 0));
    assert_eq!(bits(&b), want);
    assert_eq!(bits(&c), plain_bits(&|| ops::add_scalar(&ops::exp(&ops::mul_scalar(&x, 0.5).unwrap()).unwrap(), 1.0).unwrap()));
    assert_eq!(bits(&d), plain_bits(&|| ops::mul_scalar(&x, 3.0).unwrap()));
    // Nothing pending: returns at once.
    ad::array::storage::compute_all_pending();
    fuse::set_min_elements(before);
}
