//! The engine's autograd and array semantics, as MXNet 1.9.1's imperative `autograd` and `nd`
//! define them, plus the two deliberate extensions: `attach_grad` on a recorded array keeps
//! that array's own history, and `retain_grad` for intermediates.

use std::sync::Mutex;

mod common;

use ad::autograd::{self, GradReq, ScopeKind};
use common::{arr, assert_close, backward, grad, record, typed, var, var_req};
use ad::ops::{self, Cmp};
use ad::{DType, Error, ErrorKind, NdArray};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Element-wise `f(a, b)` of two equal-length slices.
fn zip_with(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
}

fn assert_err_kind<T: std::fmt::Debug>(r: ad::Result<T>, kind: ErrorKind) -> Error {
    let e = r.expect_err("the call should fail");
    assert_eq!(e.kind, kind, "unexpected error kind for: {}", e.message);
    e
}

/// Serializes the tests that seed and draw from the process-wide generator: tests run in
/// parallel threads, and a draw from another test between `seed` and a draw would change it.
static RNG_LOCK: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------------------------------------
// Recording and training flags
// ---------------------------------------------------------------------------------------------

#[test]
fn flags_are_off_outside_any_scope() {
    assert!(!autograd::is_recording());
    assert!(!autograd::is_training());
}

#[test]
fn record_with_train_mode_turns_recording_and_training_on() {
    autograd::scope_begin(ScopeKind::Record, true);
    assert!(autograd::is_recording());
    assert!(autograd::is_training());
    autograd::scope_end(ScopeKind::Record).unwrap();
    assert!(!autograd::is_recording());
    assert!(!autograd::is_training());
}

#[test]
fn record_without_train_mode_records_in_predict_mode() {
    let x = var(&[1.0, 2.0], &[2]);
    autograd::scope_begin(ScopeKind::Record, false);
    assert!(autograd::is_recording());
    assert!(!autograd::is_training());
    let y = ops::square(&x).unwrap();
    autograd::scope_end(ScopeKind::Record).unwrap();
    backward(&[y], &[]).unwrap();
    assert_eq!(grad(&x), vec![2.0, 4.0]);
}

#[test]
fn pause_turns_recording_off_and_its_end_restores_it() {
    let x = var(&[3.0], &[1]);
    let (paused, recorded) = record(|| {
        autograd::scope_begin(ScopeKind::Pause, false);
        assert!(!autograd::is_recording());
        assert!(!autograd::is_training());
        let paused = ops::mul_scalar(&x, 2.0).unwrap();
        autograd::scope_end(ScopeKind::Pause).unwrap();
        assert!(autograd::is_recording());
        assert!(autograd::is_training());
        (paused, ops::mul_scalar(&x, 2.0).unwrap())
    });
    assert_err_kind(backward(&[paused], &[]), ErrorKind::Autograd);
    backward(&[recorded], &[]).unwrap();
    assert_eq!(grad(&x), vec![2.0]);
}

#[test]
fn pause_with_train_mode_sets_training() {
    autograd::scope_begin(ScopeKind::Pause, true);
    assert!(!autograd::is_recording());
    assert!(autograd::is_training());
    autograd::scope_end(ScopeKind::Pause).unwrap();
    assert!(!autograd::is_training());
}

#[test]
fn train_mode_and_predict_mode_leave_recording_unchanged() {
    autograd::scope_begin(ScopeKind::TrainMode, false);
    assert!(autograd::is_training());
    assert!(!autograd::is_recording());
    autograd::scope_end(ScopeKind::TrainMode).unwrap();
    assert!(!autograd::is_training());

    autograd::scope_begin(ScopeKind::Record, true);
    autograd::scope_begin(ScopeKind::PredictMode, false);
    assert!(!autograd::is_training());
    assert!(autograd::is_recording());
    autograd::scope_end(ScopeKind::PredictMode).unwrap();
    assert!(autograd::is_training());
    autograd::scope_end(ScopeKind::Record).unwrap();
}

#[test]
fn nested_scopes_restore_the_enclosing_flags() {
    let flags = || (autograd::is_recording(), autograd::is_training());
    autograd::scope_begin(ScopeKind::Record, true);
    autograd::scope_begin(ScopeKind::Pause, false);
    autograd::scope_begin(ScopeKind::Record, false);
    assert_eq!(flags(), (true, false));
    autograd::scope_begin(ScopeKind::TrainMode, false);
    assert_eq!(flags(), (true, true));
    autograd::scope_end(ScopeKind::TrainMode).unwrap();
    assert_eq!(flags(), (true, false));
    autograd::scope_end(ScopeKind::Record).unwrap();
    assert_eq!(flags(), (false, false));
    autograd::scope_end(ScopeKind::Pause).unwrap();
    assert_eq!(flags(), (true, true));
    autograd::scope_end(ScopeKind::Record).unwrap();
    assert_eq!(flags(), (false, false));
}

#[test]
fn scope_end_of_the_wrong_kind_is_an_error_and_keeps_the_scope_open() {
    autograd::scope_begin(ScopeKind::Record, true);
    let e = assert_err_kind(autograd::scope_end(ScopeKind::Pause), ErrorKind::Autograd);
    assert!(e.message.contains("pause") && e.message.contains("record"), "{}", e.message);
    assert!(autograd::is_recording(), "a failed scope_end must not change the flags");
    autograd::scope_end(ScopeKind::Record).unwrap();
    assert!(!autograd::is_recording());
}

#[test]
fn scope_end_with_no_open_scope_is_an_error() {
    for kind in [ScopeKind::Record, ScopeKind::Pause, ScopeKind::TrainMode, ScopeKind::PredictMode] {
        assert_err_kind(autograd::scope_end(kind), ErrorKind::Autograd);
    }
    autograd::scope_begin(ScopeKind::Record, true);
    autograd::scope_end(ScopeKind::Record).unwrap();
    assert_err_kind(autograd::scope_end(ScopeKind::Record), ErrorKind::Autograd);
}

#[test]
fn set_recording_and_set_training_return_the_previous_value() {
    assert!(!autograd::set_recording(true));
    assert!(autograd::is_recording());
    assert!(autograd::set_recording(true));
    assert!(autograd::set_recording(false));
    assert!(!autograd::is_recording());

    assert!(!autograd::set_training(true));
    assert!(autograd::is_training());
    assert!(autograd::set_training(false));
    assert!(!autograd::set_training(false));
}

#[test]
fn flags_are_per_thread() {
    autograd::scope_begin(ScopeKind::Record, true);
    let other = std::thread::spawn(|| (autograd::is_recording(), autograd::is_training())).join().unwrap();
    autograd::scope_end(ScopeKind::Record).unwrap();
    assert_eq!(other, (false, false));
}

#[test]
fn backward_restores_the_flags_it_sets() {
    let x = var(&[1.0, 2.0], &[2]);
    let y = record(|| ops::exp(&x).unwrap());
    autograd::backward(&[y.clone()], &[], true, true).unwrap();
    assert_eq!((autograd::is_recording(), autograd::is_training()), (false, false));
    autograd::scope_begin(ScopeKind::Record, false);
    autograd::grad(&[y], &[x], &[], false, true, true).unwrap();
    assert_eq!((autograd::is_recording(), autograd::is_training()), (true, false));
    autograd::scope_end(ScopeKind::Record).unwrap();
}

// ---------------------------------------------------------------------------------------------
// What is recorded
// ---------------------------------------------------------------------------------------------

#[test]
fn ops_on_arrays_without_attach_grad_are_not_recorded() {
    let a = arr(&[1.0, 2.0], &[2]);
    let b = record(|| ops::mul(&ops::exp(&a).unwrap(), &a).unwrap());
    assert!(autograd::grad_of(&b).is_none());
    let e = assert_err_kind(backward(&[b.clone()], &[]), ErrorKind::Autograd);
    assert!(e.message.contains("no recorded history"), "{}", e.message);
    assert_err_kind(autograd::retain_grad(&b), ErrorKind::Autograd);
}

#[test]
fn ops_outside_record_are_not_recorded() {
    let x = var(&[1.0, 2.0], &[2]);
    let y = ops::mul(&x, &x).unwrap();
    assert_err_kind(backward(&[y], &[]), ErrorKind::Autograd);
    assert_eq!(grad(&x), vec![0.0, 0.0]);
}

#[test]
fn grad_buffer_starts_at_zero_with_the_arrays_shape_and_dtype() {
    let mut x = NdArray::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    assert!(autograd::grad_of(&x).is_none());
    assert_eq!(autograd::grad_req_of(&x), None);
    autograd::attach_grad(&mut x, GradReq::Add).unwrap();
    let g = autograd::grad_of(&x).unwrap();
    assert_eq!((g.shape(), g.dtype()), (&[2usize, 3][..], DType::F32));
    assert_eq!(g.to_f64_vec(), vec![0.0; 6]);
    assert_eq!(autograd::grad_req_of(&x), Some(GradReq::Add));
}

#[test]
fn attach_grad_with_a_mismatched_buffer_is_an_error() {
    let mut x = arr(&[1.0, 2.0], &[2]);
    assert_err_kind(autograd::attach_grad_with(&mut x, arr(&[0.0; 3], &[3]), GradReq::Write), ErrorKind::Shape);
    let f32_buf = NdArray::zeros(&[2], DType::F32).unwrap();
    assert!(autograd::attach_grad_with(&mut x, f32_buf, GradReq::Write).is_err());
}

// ---------------------------------------------------------------------------------------------
// grad_req
// ---------------------------------------------------------------------------------------------

#[test]
fn grad_req_write_overwrites_on_each_backward() {
    let x = var(&[1.0, -2.0], &[2]);
    let y = record(|| ops::mul(&x, &x).unwrap());
    autograd::backward(&[y.clone()], &[], true, true).unwrap();
    autograd::backward(&[y], &[], false, true).unwrap();
    assert_eq!(grad(&x), vec![2.0, -4.0]);
}

#[test]
fn grad_req_add_accumulates_over_two_backward_calls() {
    let x = var_req(&[1.0, -2.0], &[2], GradReq::Add);
    let y = record(|| ops::mul(&x, &x).unwrap());
    autograd::backward(&[y.clone()], &[], true, true).unwrap();
    assert_eq!(grad(&x), vec![2.0, -4.0]);
    autograd::backward(&[y], &[], false, true).unwrap();
    assert_eq!(grad(&x), vec![4.0, -8.0]);
}

#[test]
fn grad_req_null_variable_is_skipped() {
    let x = var_req(&[1.0, 2.0], &[2], GradReq::Null);
    let y = var(&[3.0, 5.0], &[2]);
    let z = record(|| ops::mul(&x, &y).unwrap());
    backward(&[z], &[]).unwrap();
    assert_eq!(grad(&y), vec![1.0, 2.0]);
    assert!(autograd::grad_of(&x).is_none(), "a grad_req null variable shows no gradient, as in MXNet");
}

#[test]
fn backward_is_an_error_when_every_variable_has_grad_req_null() {
    let x = var_req(&[1.0, 2.0], &[2], GradReq::Null);
    let y = record(|| ops::mul_scalar(&x, 2.0).unwrap());
    let e = assert_err_kind(backward(&[y], &[]), ErrorKind::Autograd);
    assert!(e.message.contains("require gradients"), "{}", e.message);
}

// ---------------------------------------------------------------------------------------------
// retain_graph, heads and head gradients
// ---------------------------------------------------------------------------------------------

#[test]
fn second_backward_without_retain_graph_is_an_error_naming_retain_graph() {
    let x = var(&[1.0, 2.0], &[2]);
    let y = record(|| ops::exp(&ops::mul(&x, &x).unwrap()).unwrap());
    backward(&[y.clone()], &[]).unwrap();
    let e = assert_err_kind(backward(&[y.clone()], &[]), ErrorKind::Autograd);
    assert!(e.message.contains("retain_graph"), "{}", e.message);
    let e = assert_err_kind(autograd::grad(&[y], &[x], &[], false, false, true), ErrorKind::Autograd);
    assert!(e.message.contains("retain_graph"), "{}", e.message);
}

#[test]
fn retain_graph_allows_a_second_backward() {
    let x = var(&[1.0, 2.0], &[2]);
    let y = record(|| ops::mul(&x, &ops::exp(&x).unwrap()).unwrap());
    let want: Vec<f64> = [1.0f64, 2.0].iter().map(|x| (1.0 + x) * x.exp()).collect();
    autograd::backward(&[y.clone()], &[], true, true).unwrap();
    assert_close(&grad(&x), &want);
    autograd::backward(&[y.clone()], &[Some(arr(&[2.0, 2.0], &[2]))], false, true).unwrap();
    assert_close(&grad(&x), &want.iter().map(|g| 2.0 * g).collect::<Vec<_>>());
    assert_err_kind(backward(&[y], &[]), ErrorKind::Autograd);
}

#[test]
fn non_scalar_head_counts_as_its_sum() {
    let x = var(&[1.0, 2.0, 3.0], &[3]);
    let y = record(|| ops::mul(&x, &x).unwrap());
    let s = record(|| ops::sum(&y, &[], false).unwrap());
    autograd::backward(&[y], &[], true, true).unwrap();
    let from_y = grad(&x);
    backward(&[s], &[]).unwrap();
    assert_eq!(from_y, grad(&x));
    assert_eq!(from_y, vec![2.0, 4.0, 6.0]);
}

#[test]
fn several_heads_sum_their_gradients_with_per_head_head_gradients() {
    let (xv, yv) = ([0.5, -1.0, 2.0], [3.0, 4.0, -5.0]);
    let x = var(&xv, &[3]);
    let y = var(&yv, &[3]);
    let g = [0.25, -2.0, 1.5];
    let (h1, h2, h3) = record(|| {
        let h1 = ops::mul(&x, &y).unwrap(); // seeded with g
        let h2 = ops::exp(&x).unwrap(); // seeded with ones
        let h3 = ops::sum(&ops::square(&y).unwrap(), &[], false).unwrap(); // shape (1,), seeded with 3
        (h1, h2, h3)
    });
    backward(&[h1, h2, h3], &[Some(arr(&g, &[3])), None, Some(arr(&[3.0], &[1]))]).unwrap();
    let want_x: Vec<f64> = (0..3).map(|i| g[i] * yv[i] + xv[i].exp()).collect();
    let want_y: Vec<f64> = (0..3).map(|i| g[i] * xv[i] + 3.0 * 2.0 * yv[i]).collect();
    assert_close(&grad(&x), &want_x);
    assert_close(&grad(&y), &want_y);
}

#[test]
fn the_same_head_twice_counts_twice() {
    let x = var(&[1.0, 2.0], &[2]);
    let y = record(|| ops::mul_scalar(&x, 3.0).unwrap());
    backward(&[y.clone(), y], &[]).unwrap();
    assert_eq!(grad(&x), vec![6.0, 6.0]);
}

#[test]
fn head_gradient_with_the_wrong_shape_is_an_error() {
    let x = var(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let y = record(|| ops::mul_scalar(&x, 2.0).unwrap());
    let e = assert_err_kind(backward(&[y.clone()], &[Some(arr(&[1.0; 9], &[3, 3]))]), ErrorKind::Shape);
    assert!(e.message.contains("(3, 3)") && e.message.contains("(2, 3)"), "{}", e.message);
    let f32_ones = NdArray::ones(&[2, 3], DType::F32).unwrap();
    assert!(backward(&[y.clone()], &[Some(f32_ones)]).is_err(), "a head gradient of another dtype must be refused");
    assert_eq!(grad(&x), vec![0.0; 6], "a refused backward must not write gradients");
    // The refused calls did not release the graph.
    backward(&[y], &[]).unwrap();
    assert_eq!(grad(&x), vec![2.0; 6]);
}

#[test]
fn head_gradient_count_must_match_the_heads() {
    let x = var(&[1.0], &[1]);
    let (a, b) = record(|| (ops::exp(&x).unwrap(), ops::neg(&x).unwrap()));
    assert_err_kind(backward(&[a.clone(), b], &[None]), ErrorKind::InvalidArgument);
    assert_err_kind(backward(&[], &[]), ErrorKind::InvalidArgument);
    backward(&[a], &[None]).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Higher order
// ---------------------------------------------------------------------------------------------

#[test]
fn second_derivatives_through_create_graph() {
    // f = x² y: df/dx = 2xy; d/dx of that = 2y, d/dy = 2x.
    let (xv, yv) = ([1.5, -2.0], [3.0, 0.5]);
    let x = var(&xv, &[2]);
    let y = var(&yv, &[2]);
    let f = record(|| ops::mul(&ops::square(&x).unwrap(), &y).unwrap());
    let dx = autograd::grad(&[f], &[x.clone()], &[], true, true, true).unwrap().remove(0);
    assert_close(&dx.to_f64_vec(), &zip_with(&xv, &yv, |x, y| 2.0 * x * y));
    assert_eq!(grad(&x), vec![0.0, 0.0], "grad must not write into the buffers");
    backward(&[dx], &[]).unwrap();
    assert_close(&grad(&x), &yv.map(|y| 2.0 * y));
    assert_close(&grad(&y), &xv.map(|x| 2.0 * x));
}

#[test]
fn grad_without_create_graph_returns_constants() {
    let x = var(&[1.5, -2.0], &[2]);
    let f = record(|| ops::pow_scalar(&x, 3.0).unwrap());
    let dx = autograd::grad(&[f], &[x], &[], false, false, true).unwrap().remove(0);
    assert!(autograd::grad_of(&dx).is_none());
    assert_err_kind(backward(&[dx], &[]), ErrorKind::Autograd);
}

#[test]
fn third_derivative_of_exp_by_repeated_create_graph() {
    let xv = [0.3, -1.2];
    let x = var(&xv, &[2]);
    let y = record(|| ops::mul(&ops::exp(&x).unwrap(), &x).unwrap());
    let d1 = autograd::grad(&[y], &[x.clone()], &[], true, true, true).unwrap().remove(0);
    let d2 = autograd::grad(&[d1], &[x.clone()], &[], true, true, true).unwrap().remove(0);
    backward(&[d2.clone()], &[]).unwrap();
    // (x e^x)'' = (x + 2) e^x, (x e^x)''' = (x + 3) e^x
    assert_close(&d2.to_f64_vec(), &xv.map(|x| (x + 2.0) * x.exp()));
    assert_close(&grad(&x), &xv.map(|x| (x + 3.0) * x.exp()));
}

// ---------------------------------------------------------------------------------------------
// attach_grad on intermediates, retain_grad, detach
// ---------------------------------------------------------------------------------------------

#[test]
fn attach_grad_on_a_recorded_array_makes_a_leaf_that_keeps_its_own_history() {
    let xv = [1.0, -2.0, 0.5, 4.0];
    let x = var(&xv, &[4]);
    let mut y = record(|| ops::mul_scalar(&x, 3.0).unwrap());
    autograd::attach_grad(&mut y, GradReq::Write).unwrap();
    let z = record(|| ops::mul(&y, &x).unwrap());
    backward(&[z], &[]).unwrap();
    assert_eq!(grad(&y), xv.to_vec());
    // z stops at y: x only gets its direct path (y), not y's history (3x) as well.
    assert_close(&grad(&x), &xv.map(|x| 3.0 * x));
    backward(&[y], &[Some(arr(&[7.0; 4], &[4]))]).unwrap();
    assert_eq!(grad(&x), vec![21.0; 4]);
}

#[test]
fn tutorial_cell_1_11_backward_of_y_with_its_own_gradient() {
    // y = 2x; y.attach_grad(); z = y*x; z.backward(); y.backward(y.grad) gives x.grad == 2x.
    let xv = [0.0, 1.0, 2.0, 3.0];
    let x = var(&xv, &[4, 1]);
    let mut y = record(|| ops::mul_scalar(&x, 2.0).unwrap());
    autograd::attach_grad(&mut y, GradReq::Write).unwrap();
    let z = record(|| ops::mul(&y, &x).unwrap());
    backward(&[z], &[]).unwrap();
    assert_eq!(grad(&y), xv.to_vec());
    // z's backward already left 2x in x.grad; overwrite it so that y's backward must write it.
    backward(&[record(|| ops::mul_scalar(&x, 5.0).unwrap())], &[]).unwrap();
    assert_eq!(grad(&x), vec![5.0; 4]);
    let y_grad = autograd::grad_of(&y).unwrap();
    backward(&[y], &[Some(y_grad)]).unwrap();
    assert_eq!(grad(&x), xv.map(|x| 2.0 * x).to_vec());
}

#[test]
fn retain_grad_fills_an_intermediates_gradient_while_it_flows_on() {
    let (xv, yv, g) = ([1.5, -2.0, 0.5], [3.0, 0.25, -1.0], [1.0, -0.5, 2.0]);
    let x = var(&xv, &[3]);
    let y = var(&yv, &[3]);
    let (u, z) = record(|| {
        let u = ops::mul(&x, &y).unwrap();
        let z = ops::mul(&u, &x).unwrap();
        (u, z)
    });
    autograd::retain_grad(&u).unwrap();
    assert_eq!(grad(&u), vec![0.0; 3]);
    backward(&[z], &[Some(arr(&g, &[3]))]).unwrap();
    assert_close(&grad(&u), &zip_with(&g, &xv, |g, x| g * x));
    assert_close(&grad(&x), &(0..3).map(|i| g[i] * 2.0 * xv[i] * yv[i]).collect::<Vec<_>>());
    assert_close(&grad(&y), &(0..3).map(|i| g[i] * xv[i] * xv[i]).collect::<Vec<_>>());
}

#[test]
fn retain_grad_on_a_variable_is_a_no_op() {
    let x = var(&[2.0], &[1]);
    autograd::retain_grad(&x).unwrap();
    let y = record(|| ops::mul_scalar(&x, 5.0).unwrap());
    backward(&[y], &[]).unwrap();
    assert_eq!(grad(&x), vec![5.0]);
}

#[test]
fn detach_stops_gradients() {
    // MXNet's test_detach_updated_grad, with mark_variables' caller-provided buffers.
    let (mut x, mut y) = (NdArray::ones(&[2, 2], DType::F64).unwrap(), NdArray::ones(&[2, 2], DType::F64).unwrap());
    let (dx, dy) = (NdArray::zeros(&[2, 2], DType::F64).unwrap(), NdArray::zeros(&[2, 2], DType::F64).unwrap());
    autograd::attach_grad_with(&mut x, dx.clone(), GradReq::Write).unwrap();
    autograd::attach_grad_with(&mut y, dy.clone(), GradReq::Write).unwrap();
    let y2 = record(|| ops::add(&ops::add_scalar(&x, 2.0).unwrap(), &y).unwrap());
    backward(&[y2], &[]).unwrap();
    assert_eq!(dx.to_f64_vec(), vec![1.0; 4], "the caller's buffer receives the gradient");
    assert_eq!(dy.to_f64_vec(), vec![1.0; 4]);

    let (dx, dy) = (NdArray::zeros(&[2, 2], DType::F64).unwrap(), NdArray::zeros(&[2, 2], DType::F64).unwrap());
    autograd::attach_grad_with(&mut x, dx.clone(), GradReq::Write).unwrap();
    autograd::attach_grad_with(&mut y, dy.clone(), GradReq::Write).unwrap();
    let y2 = record(|| {
        let x2 = ops::add_scalar(&x, 2.0).unwrap().detach();
        assert!(autograd::grad_of(&x2).is_none());
        ops::add(&x2, &y).unwrap()
    });
    backward(&[y2], &[]).unwrap();
    assert_eq!(dx.to_f64_vec(), vec![0.0; 4]);
    assert_eq!(dy.to_f64_vec(), vec![1.0; 4]);
}

#[test]
fn detach_of_a_variable_is_a_constant() {
    let x = var(&[2.0, 3.0], &[2]);
    let y = record(|| ops::mul(&x, &x.detach()).unwrap());
    backward(&[y], &[]).unwrap();
    assert_eq!(grad(&x), vec![2.0, 3.0], "only the attached factor contributes");
}

// ---------------------------------------------------------------------------------------------
// Functional grad
// ---------------------------------------------------------------------------------------------

#[test]
fn grad_returns_zeros_for_a_variable_the_head_does_not_depend_on() {
    let x = var(&[1.0, -2.0], &[2]);
    let y = var(&[5.0, 6.0, 7.0], &[3]);
    let z = record(|| ops::mul(&x, &x).unwrap());
    let gs = autograd::grad(&[z.clone()], &[x.clone(), y.clone()], &[], true, false, true).unwrap();
    assert_eq!(gs[0].to_f64_vec(), vec![2.0, -4.0]);
    assert_eq!((gs[1].shape(), gs[1].dtype()), (&[3usize][..], DType::F64));
    assert_eq!(gs[1].to_f64_vec(), vec![0.0; 3]);
    // Also when no requested variable is in the head's graph at all.
    let only_y = autograd::grad(&[z], &[y.clone()], &[], false, false, true).unwrap();
    assert_eq!(only_y[0].to_f64_vec(), vec![0.0; 3]);
}

#[test]
fn grad_leaves_attached_and_retained_buffers_alone() {
    let x = var(&[1.0, -2.0], &[2]);
    let y = record(|| ops::mul_scalar(&x, 3.0).unwrap());
    backward(&[y], &[]).unwrap();
    assert_eq!(grad(&x), vec![3.0, 3.0]);

    let (u, z) = record(|| {
        let u = ops::exp(&x).unwrap();
        (u.clone(), ops::mul(&u, &x).unwrap())
    });
    autograd::retain_grad(&u).unwrap();
    let gs = autograd::grad(&[z], &[x.clone()], &[], false, false, true).unwrap();
    assert_close(&gs[0].to_f64_vec(), &[1.0f64, -2.0].map(|x| (1.0 + x) * x.exp()));
    assert_eq!(grad(&x), vec![3.0, 3.0], "grad must not write the attached buffer");
    assert_eq!(grad(&u), vec![0.0, 0.0], "grad must not write a retained buffer");
}

#[test]
fn grad_results_share_storage_with_neither_each_other_nor_the_head_gradient() {
    // z = x + y hands the head gradient on unchanged to both variables.
    let x = var(&[1.0, 2.0], &[2]);
    let y = var(&[3.0, 4.0], &[2]);
    let z = record(|| ops::add(&x, &y).unwrap());
    let w = arr(&[5.0, 6.0], &[2]);
    let gs = autograd::grad(&[z], &[x, y], &[Some(w.clone())], false, false, true).unwrap();
    // Write into gs[0] in place, by making it the gradient buffer that a backward fills.
    let mut q = arr(&[0.0, 0.0], &[2]);
    autograd::attach_grad_with(&mut q, gs[0].clone(), GradReq::Write).unwrap();
    backward(&[record(|| ops::mul_scalar(&q, -1.0).unwrap())], &[]).unwrap();
    assert_eq!(gs[0].to_f64_vec(), vec![-1.0, -1.0]);
    assert_eq!(gs[1].to_f64_vec(), vec![5.0, 6.0], "the other variable's gradient changed with it");
    assert_eq!(w.to_f64_vec(), vec![5.0, 6.0], "the caller's head gradient changed with it");
}

#[test]
fn grad_with_respect_to_an_array_without_a_gradient_is_an_error() {
    let x = var(&[1.0], &[1]);
    let plain = arr(&[1.0], &[1]);
    let null = var_req(&[1.0], &[1], GradReq::Null);
    let z = record(|| ops::mul(&ops::mul(&x, &plain).unwrap(), &null).unwrap());
    assert_err_kind(autograd::grad(&[z.clone()], &[plain], &[], true, false, true), ErrorKind::Autograd);
    assert_err_kind(autograd::grad(&[z.clone()], &[null], &[], true, false, true), ErrorKind::Autograd);
    assert_eq!(autograd::grad(&[z], &[x], &[], true, false, true).unwrap()[0].to_f64_vec(), vec![1.0]);
}

// ---------------------------------------------------------------------------------------------
// Array semantics
// ---------------------------------------------------------------------------------------------

#[test]
fn comparisons_give_zero_one_arrays_of_the_input_dtype() {
    let (a, b) = ([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]);
    let cases = [
        (Cmp::Eq, [0.0, 1.0, 0.0]),
        (Cmp::Ne, [1.0, 0.0, 1.0]),
        (Cmp::Lt, [1.0, 0.0, 0.0]),
        (Cmp::Le, [1.0, 1.0, 0.0]),
        (Cmp::Gt, [0.0, 0.0, 1.0]),
        (Cmp::Ge, [0.0, 1.0, 1.0]),
    ];
    for dtype in [DType::F32, DType::F64] {
        let (xa, xb) = (typed(&a, &[3], dtype), typed(&b, &[3], dtype));
        for (op, want) in cases {
            let c = ops::compare(&xa, &xb, op).unwrap();
            assert_eq!((c.dtype(), c.to_f64_vec()), (dtype, want.to_vec()), "{op:?} {dtype:?}");
            let s = ops::compare_scalar(&xa, 2.0, op).unwrap();
            assert_eq!((s.dtype(), s.to_f64_vec()), (dtype, want.to_vec()), "{op:?} scalar {dtype:?}");
        }
    }
    // Broadcast: (3, 1) against (2,) gives (3, 2).
    let c = ops::compare(&arr(&a, &[3, 1]), &arr(&[1.5, 2.5], &[2]), Cmp::Gt).unwrap();
    assert_eq!(c.shape(), &[3, 2]);
    assert_eq!(c.to_f64_vec(), vec![0.0, 0.0, 1.0, 0.0, 1.0, 1.0]);
}

#[test]
fn comparisons_record_nothing() {
    let x = var(&[-1.0, 0.5, 2.0], &[3]);
    let y = var(&[0.0, 0.0, 3.0], &[3]);
    let (c, s, masked) = record(|| {
        let c = ops::compare(&x, &y, Cmp::Gt).unwrap();
        let s = ops::compare_scalar(&x, 0.0, Cmp::Gt).unwrap();
        (c, s.clone(), ops::mul(&x, &s).unwrap())
    });
    assert!(autograd::grad_of(&c).is_none() && autograd::grad_of(&s).is_none());
    assert_err_kind(backward(&[c], &[]), ErrorKind::Autograd);
    assert_err_kind(backward(&[s], &[]), ErrorKind::Autograd);
    // A mask is a constant factor: x gets the mask, and nothing reaches y.
    backward(&[masked], &[]).unwrap();
    assert_eq!(grad(&x), vec![0.0, 1.0, 1.0]);
    assert_eq!(grad(&y), vec![0.0, 0.0, 0.0]);
}

#[test]
fn reductions_over_all_axes_give_shape_one() {
    let x = arr(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    type Reduce = fn(&NdArray, &[i64], bool) -> ad::Result<NdArray>;
    let all = [("sum", ops::sum as Reduce, 21.0), ("mean", ops::mean, 3.5), ("norm", ops::norm, 91f64.sqrt())];
    for (name, op, value) in all {
        for axes in [&[][..], &[0, 1], &[-1, -2]] {
            let r = op(&x, axes, false).unwrap();
            assert_eq!(r.shape(), &[1], "{name} over {axes:?}");
            assert_close(&r.to_f64_vec(), &[value]);
            assert_eq!(op(&x, axes, true).unwrap().shape(), &[1, 1], "{name} over {axes:?} with keepdims");
        }
    }
    let s0 = ops::sum(&x, &[0], false).unwrap();
    assert_eq!((s0.shape(), s0.to_f64_vec()), (&[3usize][..], vec![5.0, 7.0, 9.0]));
    let m1 = ops::mean(&x, &[-1], true).unwrap();
    assert_eq!((m1.shape(), m1.to_f64_vec()), (&[2usize, 1][..], vec![2.0, 5.0]));
    assert_err_kind(ops::sum(&x, &[2], false), ErrorKind::Shape);
    assert_err_kind(ops::sum(&x, &[0, -2], false), ErrorKind::Shape);
}

#[test]
fn dot_of_two_vectors_gives_shape_one() {
    let d = ops::dot(&arr(&[1.0, 2.0, 3.0], &[3]), &arr(&[4.0, 5.0, 6.0], &[3]), false, false).unwrap();
    assert_eq!((d.shape(), d.to_f64_vec()), (&[1usize][..], vec![32.0]));
}

#[test]
fn dot_shapes_and_transpose_flags() {
    let m = arr(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let v3 = arr(&[1.0, 0.0, -1.0], &[3]);
    let v2 = arr(&[1.0, -1.0], &[2]);
    let mv = ops::dot(&m, &v3, false, false).unwrap();
    assert_eq!((mv.shape(), mv.to_f64_vec()), (&[2usize][..], vec![-2.0, -2.0]));
    let vm = ops::dot(&v2, &m, false, false).unwrap();
    assert_eq!((vm.shape(), vm.to_f64_vec()), (&[3usize][..], vec![-3.0, -3.0, -3.0]));
    let mtm = ops::dot(&m, &m, true, false).unwrap();
    assert_eq!(mtm.shape(), &[3, 3]);
    assert_eq!(mtm.to_f64_vec(), vec![17.0, 22.0, 27.0, 22.0, 29.0, 36.0, 27.0, 36.0, 45.0]);
    let mmt = ops::dot(&m, &m, false, true).unwrap();
    assert_eq!((mmt.shape(), mmt.to_f64_vec()), (&[2usize, 2][..], vec![14.0, 32.0, 32.0, 77.0]));
    let e = assert_err_kind(ops::dot(&m, &m, false, false), ErrorKind::Shape);
    assert!(e.message.contains("(2, 3)"), "{}", e.message);
    // N-d, as MXNet's: a's last axis against b's first.
    let nd = ops::dot(&arr(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], &[2, 2, 2]), &v2, false, false).unwrap();
    assert_eq!((nd.shape(), nd.to_f64_vec()), (&[2usize, 2][..], vec![-1.0, -1.0, -1.0, -1.0]));
    assert_err_kind(ops::dot(&arr(&[0.0; 8], &[2, 2, 2]), &v3, false, false), ErrorKind::Shape);
}

#[test]
fn reshape_infers_the_minus_one_axis() {
    let x = NdArray::arange(0.0, 24.0, 1.0, DType::F64).unwrap();
    assert_eq!(ops::reshape(&x, &[2, -1, 4]).unwrap().shape(), &[2, 3, 4]);
    assert_eq!(ops::reshape(&x, &[-1, 6]).unwrap().shape(), &[4, 6]);
    let r = ops::reshape(&x, &[-1]).unwrap();
    assert_eq!((r.shape(), r.to_f64_vec()), (&[24usize][..], x.to_f64_vec()));
    assert_err_kind(ops::reshape(&x, &[-1, -1]), ErrorKind::Shape);
    assert_err_kind(ops::reshape(&x, &[5, -1]), ErrorKind::Shape);
}

#[test]
fn reshape_size_mismatch_error_names_both_shapes() {
    let x = arr(&[0.0; 6], &[2, 3]);
    let e = assert_err_kind(ops::reshape(&x, &[4, 2]), ErrorKind::Shape);
    assert!(e.message.contains("(2, 3)") && e.message.contains("4, 2"), "{}", e.message);
    let e = assert_err_kind(ops::reshape_to(&x, &[4, 2]), ErrorKind::Shape);
    assert!(e.message.contains("(2, 3)") && e.message.contains("(4, 2)"), "{}", e.message);
}

#[test]
fn transpose_reverses_axes_or_follows_a_permutation() {
    let m = arr(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let t = ops::transpose(&m, &[]).unwrap();
    assert_eq!((t.shape(), t.to_f64_vec()), (&[3usize, 2][..], vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]));

    let cube = NdArray::arange(0.0, 24.0, 1.0, DType::F64).unwrap();
    let cube = ops::reshape(&cube, &[2, 3, 4]).unwrap();
    let p = ops::transpose(&cube, &[1, 2, 0]).unwrap();
    assert_eq!(p.shape(), &[3, 4, 2]);
    // p[i, j, k] = cube[k, i, j] = 12k + 4i + j
    let want: Vec<f64> =
        (0..3).flat_map(|i| (0..4).flat_map(move |j| (0..2).map(move |k| (12 * k + 4 * i + j) as f64))).collect();
    assert_eq!(p.to_f64_vec(), want);
    assert_eq!(ops::transpose(&cube, &[-2, -1, -3]).unwrap().to_f64_vec(), want, "negative axes");
    let r = ops::transpose(&cube, &[]).unwrap();
    assert_eq!(r.shape(), &[4, 3, 2]);
    assert_err_kind(ops::transpose(&cube, &[0, 1]), ErrorKind::Shape);
    assert_err_kind(ops::transpose(&cube, &[0, 1, 1]), ErrorKind::Shape);
}

#[test]
fn float64_arrays_keep_their_precision() {
    let x = arr(&[1.0, 2.0], &[2]);
    let y = ops::add_scalar(&x, 1e-12).unwrap();
    assert_eq!(y.dtype(), DType::F64);
    assert_eq!(y.to_f64_vec(), vec![1.0 + 1e-12, 2.0 + 1e-12]);
    assert_eq!(ops::exp(&x).unwrap().to_f64_vec(), vec![1f64.exp(), 2f64.exp()]);
    let single = NdArray::from_slice(&[1.0f32, 2.0], &[2]).unwrap();
    assert_eq!(ops::add_scalar(&single, 1e-12).unwrap().to_f64_vec(), vec![1.0, 2.0], "float32 rounds it away");

    let v = var(&[0.1, 0.2], &[2]);
    let z = record(|| ops::mul(&v, &v).unwrap());
    backward(&[z], &[]).unwrap();
    let g = autograd::grad_of(&v).unwrap();
    assert_eq!((g.dtype(), g.to_f64_vec()), (DType::F64, vec![0.2, 0.4]));
}

#[test]
fn mixed_dtype_operands_are_an_error() {
    let a = NdArray::ones(&[2], DType::F32).unwrap();
    let b = NdArray::ones(&[2], DType::F64).unwrap();
    for r in [ops::add(&a, &b), ops::mul(&b, &a), ops::maximum(&a, &b), ops::compare(&a, &b, Cmp::Eq)] {
        let e = assert_err_kind(r, ErrorKind::DType);
        assert!(e.message.contains("float32") && e.message.contains("float64"), "{}", e.message);
    }
    assert_err_kind(ops::dot(&a, &b, false, false), ErrorKind::DType);
}

#[test]
fn broadcasting_mismatch_error_names_both_shapes() {
    let e = assert_err_kind(ops::add(&arr(&[0.0; 6], &[2, 3]), &arr(&[0.0; 4], &[4])), ErrorKind::Shape);
    assert!(e.message.contains("(2, 3)") && e.message.contains("(4,)"), "{}", e.message);
    let e = assert_err_kind(ops::broadcast_to(&arr(&[0.0; 3], &[3]), &[2, 4]), ErrorKind::Shape);
    assert!(e.message.contains("(3,)") && e.message.contains("(2, 4)"), "{}", e.message);
}

#[test]
fn broadcasting_follows_numpy_rules() {
    let c = ops::add(&arr(&[1.0, 2.0, 3.0], &[3, 1]), &arr(&[10.0, 20.0], &[1, 2])).unwrap();
    assert_eq!(c.shape(), &[3, 2]);
    assert_eq!(c.to_f64_vec(), vec![11.0, 21.0, 12.0, 22.0, 13.0, 23.0]);
    let d = ops::sub(&arr(&[1.0, 2.0], &[2]), &arr(&[1.0, 2.0, 3.0, 4.0], &[2, 1, 2])).unwrap();
    assert_eq!((d.shape(), d.to_f64_vec()), (&[2usize, 1, 2][..], vec![0.0, 0.0, -2.0, -2.0]));
}

#[test]
fn random_with_the_same_seed_gives_the_same_numbers() {
    let _lock = RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for dtype in [DType::F32, DType::F64] {
        ad::array::random::seed(1234);
        let n1 = NdArray::random_normal(0.0, 1.0, &[50], dtype).unwrap().to_f64_vec();
        let u1 = NdArray::random_uniform(-1.0, 1.0, &[50], dtype).unwrap().to_f64_vec();
        ad::array::random::seed(1234);
        let n2 = NdArray::random_normal(0.0, 1.0, &[50], dtype).unwrap().to_f64_vec();
        let u2 = NdArray::random_uniform(-1.0, 1.0, &[50], dtype).unwrap().to_f64_vec();
        assert_eq!((&n1, &u1), (&n2, &u2));
        ad::array::random::seed(1235);
        assert_ne!(NdArray::random_normal(0.0, 1.0, &[50], dtype).unwrap().to_f64_vec(), n1, "another seed");
    }
}

#[test]
fn random_uniform_stays_within_low_high() {
    let _lock = RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    ad::array::random::seed(7);
    let u = NdArray::random_uniform(-2.0, 3.0, &[100_000], DType::F64).unwrap();
    assert_eq!((u.shape(), u.dtype()), (&[100_000usize][..], DType::F64));
    let v = u.to_f64_vec();
    assert!(v.iter().all(|&x| (-2.0..3.0).contains(&x)), "a draw fell outside [-2, 3)");
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    assert!((mean - 0.5).abs() < 0.05, "mean {mean}");
    // Both ends of the interval are reached.
    assert!(v.iter().any(|&x| x < -1.99) && v.iter().any(|&x| x > 2.99));
    assert_err_kind(NdArray::random_uniform(1.0, 0.0, &[2], DType::F64), ErrorKind::InvalidArgument);
}

#[test]
fn random_normal_has_the_requested_mean_and_std() {
    let _lock = RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    ad::array::random::seed(99);
    let v = NdArray::random_normal(1.5, 2.0, &[100_000], DType::F64).unwrap().to_f64_vec();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    // Standard errors are 2/sqrt(1e5) ≈ 0.006 for the mean and ≈ 0.0045 for the std.
    assert!((mean - 1.5).abs() < 0.03, "mean {mean}");
    assert!((std - 2.0).abs() < 0.03, "std {std}");
    let within_one_std = v.iter().filter(|&&x| (x - 1.5).abs() < 2.0).count() as f64 / n;
    assert!((within_one_std - 0.6827).abs() < 0.01, "fraction within one std {within_one_std}");
    assert_err_kind(NdArray::random_normal(0.0, -1.0, &[2], DType::F64), ErrorKind::InvalidArgument);
}

#[test]
fn arange_with_a_fractional_step() {
    let a = NdArray::arange(0.5, 2.0, 0.25, DType::F64).unwrap();
    assert_eq!(a.to_f64_vec(), vec![0.5, 0.75, 1.0, 1.25, 1.5, 1.75]);
    let b = NdArray::arange(0.0, 1.0, 0.3, DType::F64).unwrap();
    assert_eq!(b.shape(), &[4]);
    assert_close(&b.to_f64_vec(), &[0.0, 0.3, 0.6, 0.9]);
    let down = NdArray::arange(1.0, 0.0, -0.25, DType::F32).unwrap();
    assert_eq!((down.dtype(), down.to_f64_vec()), (DType::F32, vec![1.0, 0.75, 0.5, 0.25]));
    assert_eq!(NdArray::arange(1.0, 0.0, 0.5, DType::F64).unwrap().shape(), &[0]);
    assert_err_kind(NdArray::arange(0.0, 1.0, 0.0, DType::F64), ErrorKind::InvalidArgument);
}

#[test]
fn asscalar_needs_exactly_one_element() {
    assert_eq!(arr(&[4.5], &[1]).asscalar().unwrap(), 4.5);
    assert_eq!(arr(&[-2.0], &[1, 1]).asscalar().unwrap(), -2.0);
    let e = assert_err_kind(arr(&[1.0, 2.0], &[2]).asscalar(), ErrorKind::Shape);
    assert!(e.message.contains("(2,)"), "{}", e.message);
    assert_err_kind(NdArray::zeros(&[0], DType::F64).unwrap().asscalar(), ErrorKind::Shape);
    let d = ops::dot(&arr(&[1.0, 2.0], &[2]), &arr(&[3.0, 4.0], &[2]), false, false).unwrap();
    assert_eq!(d.asscalar().unwrap(), 11.0);
}

#[test]
fn a_whole_array_write_copies_from_views_and_from_its_own_storage() {
    use ad::ops::AxisIndex;
    let big = arr(&(0..12).map(f64::from).collect::<Vec<_>>(), &[3, 4]);
    let x = arr(&[0.; 8], &[2, 4]);
    // A source that is a view with an offset into another array.
    let rows = ops::slice(&big, &[AxisIndex::Range { start: 1, stop: 3, step: 1 }]).unwrap();
    ops::write_slice(&x, &[], &rows).unwrap();
    assert_eq!(x.to_f64_vec(), (4..12).map(f64::from).collect::<Vec<_>>());
    // A source sharing the destination's storage, reshaped: read before the write.
    let flipped = ops::reshape_to(&ops::mul_scalar(&x, -1.0).unwrap(), &[8]).unwrap();
    ops::write_slice(&x, &[], &ops::reshape_to(&flipped, &[2, 4]).unwrap()).unwrap();
    assert_eq!(x.to_f64_vec(), (4..12).map(|v| -f64::from(v)).collect::<Vec<_>>());
    let same = ops::reshape_to(&x, &[4, 2]).unwrap();
    ops::write_slice(&x, &[AxisIndex::Range { start: 0, stop: 2, step: 1 }], &ops::reshape_to(&same, &[2, 4]).unwrap()).unwrap();
    assert_eq!(x.to_f64_vec(), (4..12).map(|v| -f64::from(v)).collect::<Vec<_>>());
    // The big array is untouched by writes through a copy of its rows.
    assert_eq!(big.to_f64_vec(), (0..12).map(f64::from).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------------------------
// Unexpanded gradients: a sum's gradient passes element-wise ops as one number and is
// written out at full size only where something needs it whole
// ---------------------------------------------------------------------------------------------

#[test]
fn a_sums_gradient_reaches_a_variable_at_the_variables_shape() {
    let x = var(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let y = record(|| ops::sum(&ops::exp(&ops::mul_scalar(&x, 0.5).unwrap()).unwrap(), &[], false).unwrap());
    backward(&[y], &[]).unwrap();
    let g = autograd::grad_of(&x).unwrap();
    assert_eq!(&g.shape(), &[2, 3]);
    let want: Vec<f64> = (1..=6).map(|v| 0.5 * (0.5 * v as f64).exp()).collect();
    assert_close(&g.to_f64_vec(), &want);
}

#[test]
fn an_unexpanded_gradient_is_expanded_before_an_op_that_needs_it_whole() {
    // reshape, dot and slicing take their output's gradient at full shape.
    let x = var(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let w = arr(&[1., -1., 2.], &[3, 1]);
    let y = record(|| {
        let r = ops::reshape_to(&ops::mul_scalar(&x, 3.0).unwrap(), &[3, 2]).unwrap();
        let d = ops::dot(&ops::reshape_to(&r, &[2, 3]).unwrap(), &w, false, false).unwrap();
        ops::sum(&ops::add_scalar(&d, 1.0).unwrap(), &[], false).unwrap()
    });
    backward(&[y], &[]).unwrap();
    assert_close(&grad(&x), &[3., -3., 6., 3., -3., 6.]);
}

#[test]
fn unexpanded_gradients_of_broadcast_operands_are_summed_to_their_shapes() {
    let a = var(&[1., 2., 3.], &[3, 1]);
    let b = var(&[10., 20., 30., 40.], &[1, 4]);
    let y = record(|| ops::sum(&ops::mul(&a, &b).unwrap(), &[], false).unwrap());
    backward(&[y], &[]).unwrap();
    assert_eq!(&autograd::grad_of(&a).unwrap().shape(), &[3, 1]);
    assert_eq!(&autograd::grad_of(&b).unwrap().shape(), &[1, 4]);
    assert_close(&grad(&a), &[100., 100., 100.]);
    assert_close(&grad(&b), &[6., 6., 6., 6.]);
    // Over one axis the gradient keeps the other: (3, 1) broadcast along axis 1.
    let x = var(&[1., 2., 3., 4., 5., 6.], &[3, 2]);
    let y = record(|| ops::sum(&ops::square(&x).unwrap(), &[1], false).unwrap());
    backward(&[y], &[Some(arr(&[1., 10., 100.], &[3]))]).unwrap();
    assert_close(&grad(&x), &[2., 4., 60., 80., 1000., 1200.]);
}

#[test]
fn two_unexpanded_gradients_of_one_array_add_up() {
    let x = var(&[1., 2., 3.], &[3]);
    let y = record(|| {
        let t = ops::mul_scalar(&x, 2.0).unwrap();
        // t's gradient is 1 (from the first sum) + 3 (from the second), both unexpanded.
        ops::add(&ops::sum(&t, &[], false).unwrap(), &ops::mul_scalar(&ops::sum(&t, &[], false).unwrap(), 3.0).unwrap()).unwrap()
    });
    backward(&[y], &[]).unwrap();
    assert_close(&grad(&x), &[8., 8., 8.]);
}

#[test]
fn retained_and_functional_gradients_come_out_at_full_shape() {
    let x = var(&[1., 2., 3., 4.], &[2, 2]);
    let (t, y) = record(|| {
        let t = ops::mul_scalar(&x, 2.0).unwrap();
        autograd::retain_grad(&t).unwrap();
        let y = ops::sum(&ops::add_scalar(&t, 1.0).unwrap(), &[], false).unwrap();
        (t, y)
    });
    let g = autograd::grad(&[y.clone()], &[x.clone()], &[], true, false, true).unwrap();
    assert_eq!(&g[0].shape(), &[2, 2]);
    assert_close(&g[0].to_f64_vec(), &[2., 2., 2., 2.]);
    backward(&[y], &[]).unwrap();
    let tg = autograd::grad_of(&t).unwrap();
    assert_eq!(&tg.shape(), &[2, 2]);
    assert_close(&tg.to_f64_vec(), &[1., 1., 1., 1.]);
}

#[test]
fn gradients_written_in_place_never_touch_a_caller_s_array_or_a_shared_gradient() {
    // exp and mul_scalar overwrite the incoming gradient when nothing else holds it.
    let x = var(&[0.5, -1.0, 2.0], &[3]);
    let h = arr(&[1.0, 10.0, 100.0], &[3]);
    let y = record(|| ops::mul_scalar(&ops::exp(&ops::mul_scalar(&x, 3.0).unwrap()).unwrap(), 2.0).unwrap());
    backward(&[y], &[Some(h.clone())]).unwrap();
    assert_eq!(h.to_f64_vec(), vec![1.0, 10.0, 100.0], "the head gradient was written into");
    let want: Vec<f64> = [0.5f64, -1.0, 2.0].iter().zip([1.0, 10.0, 100.0]).map(|(v, hv)| hv * 2.0 * 3.0 * (3.0 * v).exp()).collect();
    assert_close(&grad(&x), &want);
    // add hands the same gradient to both of its inputs: the first exp must not overwrite it.
    let a = var(&[0.1, 0.2], &[2]);
    let b = var(&[1.0, -2.0], &[2]);
    let y = record(|| ops::sum(&ops::add(&ops::exp(&a).unwrap(), &ops::exp(&ops::mul_scalar(&b, 2.0).unwrap()).unwrap()).unwrap(), &[], false).unwrap());
    backward(&[y], &[Some(arr(&[1.0], &[1]))]).unwrap();
    assert_close(&grad(&a), &[0.1f64.exp(), 0.2f64.exp()]);
    assert_close(&grad(&b), &[2.0 * 2.0f64.exp(), 2.0 * (-4.0f64).exp()]);
    // A retained intermediate keeps its own copy.
    let x = var(&[1.0, 2.0], &[2]);
    let (t, y) = record(|| {
        let t = ops::mul_scalar(&x, 2.0).unwrap();
        let e = ops::exp(&t).unwrap();
        autograd::retain_grad(&e).unwrap();
        // e's gradient is w at full shape, a fresh array only the retained copy shares.
        let y = ops::sum(&ops::mul(&e, &arr(&[3.0, 5.0], &[2])).unwrap(), &[], false).unwrap();
        (e, y)
    });
    backward(&[y], &[]).unwrap();
    assert_close(&autograd::grad_of(&t).unwrap().to_f64_vec(), &[3.0, 5.0]);
    assert_close(&grad(&x), &[3.0 * 2.0 * 2.0f64.exp(), 5.0 * 2.0 * 4.0f64.exp()]);
}

#[test]
fn second_derivatives_through_an_unexpanded_gradient() {
    // d/dx sum(x^3) = 3x^2, recorded; its sum's gradient again: 6x.
    let x = var(&[1., 2., 3.], &[3]);
    let y = record(|| ops::sum(&ops::pow_scalar(&x, 3.0).unwrap(), &[], false).unwrap());
    let dx = record(|| autograd::grad(&[y], &[x.clone()], &[], true, true, true).unwrap().remove(0));
    assert_eq!(&dx.shape(), &[3]);
    assert_close(&dx.to_f64_vec(), &[3., 12., 27.]);
    let z = record(|| ops::sum(&dx, &[], false).unwrap());
    backward(&[z], &[]).unwrap();
    assert_close(&grad(&x), &[6., 12., 18.]);
}

// ---------------------------------------------------------------------------------------------
// Scale
// ---------------------------------------------------------------------------------------------

#[test]
fn deep_recorded_chain_backward_does_not_overflow_the_stack() {
    const STEPS: usize = 100_000;
    let x = var(&[1.0, 2.0], &[2]);
    // y ← y + x, 100,000 times: x reaches the head along 100,001 paths.
    let y = record(|| {
        let mut y = x.clone();
        for _ in 0..STEPS {
            y = ops::add(&y, &x).unwrap();
        }
        y
    });
    assert_eq!(y.to_f64_vec(), vec![(STEPS + 1) as f64, 2.0 * (STEPS + 1) as f64]);
    backward(&[y], &[]).unwrap();
    assert_eq!(grad(&x), vec![(STEPS + 1) as f64; 2]);

    // y ← y · c: the gradient is c^STEPS, multiplied through every node in turn.
    let c = 1.00001;
    let y = record(|| {
        let mut y = x.clone();
        for _ in 0..STEPS {
            y = ops::mul_scalar(&y, c).unwrap();
        }
        y
    });
    backward(&[y], &[]).unwrap();
    let want = c.powi(STEPS as i32);
    for g in grad(&x) {
        assert!((g - want).abs() < 1e-9 * want, "{g} vs {want}");
    }
}

#[test]
fn create_graph_gradient_that_is_constant_in_x_still_differentiates_to_zero() {
    let mut x = NdArray::from_slice(&[-1.0f64, 2.0], &[2]).unwrap();
    autograd::attach_grad(&mut x, GradReq::Write).unwrap();
    autograd::scope_begin(ScopeKind::Record, true);
    let y = ops::relu(&x).unwrap();
    let g = autograd::grad(&[y], &[x.clone()], &[], true, true, true).unwrap();
    let total = ops::sum(&g[0], &[], false).unwrap();
    autograd::scope_end(ScopeKind::Record).unwrap();
    assert_eq!(g[0].to_f64_vec(), vec![0.0, 1.0]);
    autograd::backward(&[total], &[], false, true).unwrap();
    assert_eq!(autograd::grad_of(&x).unwrap().to_f64_vec(), vec![0.0, 0.0]);
}

#[test]
fn grad_req_null_variable_has_no_gradient_buffer() {
    let mut x = NdArray::ones(&[2], DType::F32).unwrap();
    autograd::attach_grad(&mut x, GradReq::Null).unwrap();
    assert!(autograd::grad_of(&x).is_none());
}
