//! The fused optimizer updates of `ops::optim` against values worked out by hand from MXNet's
//! update rules (the bit-for-bit comparisons with MXNet are in the Python tests). float64
//! arrays, so that the expected values, written as the formulas' arithmetic, are exact to a
//! few ulps.

mod common;

use ad::ops::optim::{self, OptimizerParams};
use ad::{DType, ErrorKind};
use common::{arr, typed};

fn h(lr: f64, wd: f64, rescale_grad: f64, clip_gradient: f64) -> OptimizerParams {
    OptimizerParams { lr, wd, rescale_grad, clip_gradient }
}

fn assert_values(a: &ad::NdArray, want: &[f64]) {
    let got = a.to_vec::<f64>();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "element {}: got {}, want {}", i, g, w);
    }
}

#[test]
fn signsgd_steps_by_the_sign_of_the_gradient_and_ignores_rescale_and_clip() {
    let w = arr(&[1.0, -2.0, 0.5], &[3]);
    let g = arr(&[3.0, -0.5, 0.0], &[3]);
    optim::signsgd_update(&w, &g, h(0.1, 0.5, 100.0, 0.001)).unwrap();
    assert_values(&w, &[0.95 - 0.1, 0.95 * -2.0 + 0.1, 0.95 * 0.5]);
}

#[test]
fn signum_updates_the_momentum_then_steps_by_its_sign() {
    let (w, g, m) = (arr(&[1.0, -1.0], &[2]), arr(&[2.0, 0.5], &[2]), arr(&[0.5, 0.0], &[2]));
    optim::signum_update(&w, &g, &m, 0.5, 0.1, h(0.1, 0.2, 1.0, -1.0)).unwrap();
    // m = 0.5·m - 0.5·0.2·w - 0.5·g;  w = (1 - 0.1·0.1)·w + 0.1·sign(m)
    assert_values(&m, &[0.25 - 0.1 - 1.0, 0.1 - 0.25]);
    assert_values(&w, &[0.99 - 0.1, -0.99 - 0.1]);
    // With clip_gradient = 1 the first gradient counts as 1.
    let (w, g, m) = (arr(&[1.0], &[1]), arr(&[2.0], &[1]), arr(&[0.5], &[1]));
    optim::signum_update(&w, &g, &m, 0.5, 0.0, h(0.1, 0.2, 1.0, 1.0)).unwrap();
    assert_values(&m, &[0.25 - 0.1 - 0.5]);
    assert_values(&w, &[0.9]);
}

#[test]
fn rmsprop_divides_by_the_root_of_the_moving_square_and_clips_weights() {
    let (w, g, n) = (arr(&[1.0, -1.0], &[2]), arr(&[2.0, -12.0], &[2]), arr(&[1.0, 0.0], &[2]));
    // rescale 0.5, clip 4: the gradients count as 1 and -4.
    optim::rmsprop_update(&w, &g, &n, 0.5, 0.0, -1.0, h(0.1, 0.0, 0.5, 4.0)).unwrap();
    assert_values(&n, &[0.5 * 1.0 + 0.5, 0.5 * 16.0]);
    assert_values(&w, &[1.0 - 0.1 * (1.0 / 1.0f64.sqrt()), -1.0 + 0.1 * (4.0 / 8.0f64.sqrt())]);
    // Weight decay joins the gradient before clipping; clip_weights bounds the result.
    let (w, g, n) = (arr(&[2.0], &[1]), arr(&[1.0], &[1]), arr(&[0.0], &[1]));
    optim::rmsprop_update(&w, &g, &n, 0.5, 0.0, 0.5, h(-1.0, 0.5, 1.0, -1.0)).unwrap();
    assert_values(&n, &[0.5 * 4.0]);
    assert_values(&w, &[0.5]);
}

#[test]
fn rmspropalex_keeps_centred_statistics_and_a_momentum_of_steps() {
    let (w, g) = (arr(&[1.0], &[1]), arr(&[2.0], &[1]));
    let (n, mg, delta) = (arr(&[1.0], &[1]), arr(&[0.5], &[1]), arr(&[0.1], &[1]));
    optim::rmspropalex_update(&w, &g, &n, &mg, &delta, 0.5, 0.9, 0.0, -1.0, h(0.1, 0.25, 0.5, -1.0)).unwrap();
    let r: f64 = 0.5 * 2.0 + 0.25 * 1.0;
    let (n1, g1) = (0.5 * r * r + 0.5 * 1.0, 0.5 * r + 0.5 * 0.5);
    let d1 = 0.9 * 0.1 - 0.1 * r / (n1 - g1 * g1).sqrt();
    assert_values(&n, &[n1]);
    assert_values(&mg, &[g1]);
    assert_values(&delta, &[d1]);
    assert_values(&w, &[1.0 + d1]);
    // clip_weights = 0.5 bounds the new weight.
    optim::rmspropalex_update(&w, &g, &n, &mg, &delta, 0.5, 0.9, 0.0, 0.5, h(-10.0, 0.0, 1.0, -1.0)).unwrap();
    assert_values(&w, &[0.5]);
}

#[test]
fn ftrl_zeroes_the_weights_whose_z_is_within_lamda1() {
    let w = arr(&[1.0, 0.5, 0.0], &[3]);
    let g = arr(&[2.0, 0.01, 0.005], &[3]);
    let (z, n) = (arr(&[0.0; 3], &[3]), arr(&[0.0; 3], &[3]));
    optim::ftrl_update(&w, &g, &z, &n, 0.01, 1.0, h(0.1, 0.0, 1.0, -1.0)).unwrap();
    // z = g - sqrt(g²)·w/lr;  n = g²
    assert_values(&z, &[2.0 - 2.0 * 1.0 / 0.1, 0.01 - 0.01 * 0.5 / 0.1, 0.005]);
    assert_values(&n, &[4.0, 1e-4, 2.5e-5]);
    assert_values(&w, &[(18.0 - 0.01) / (3.0 / 0.1), (0.04 - 0.01) / (1.01 / 0.1), 0.0]);
    // The gradient clipped to 1, weight decay in the denominator.
    let (w, g) = (arr(&[0.0], &[1]), arr(&[-4.0], &[1]));
    let (z, n) = (arr(&[0.0], &[1]), arr(&[0.0], &[1]));
    optim::ftrl_update(&w, &g, &z, &n, 0.5, 1.0, h(0.1, 2.0, 1.0, 1.0)).unwrap();
    assert_values(&z, &[-1.0]);
    assert_values(&w, &[(-0.5 + 1.0) / (2.0 / 0.1 + 2.0)]);
}

#[test]
fn nag_mom_reads_the_new_weight_for_the_momentums_weight_decay() {
    let (w, g, m) = (arr(&[1.0], &[1]), arr(&[2.0], &[1]), arr(&[0.5], &[1]));
    optim::nag_mom_update(&w, &g, &m, 0.9, h(0.1, 0.1, 1.0, -1.0)).unwrap();
    let m1 = 0.9 * 0.5;
    let w1 = 1.0 - m1 + 1.9 * (m1 - 0.1 * (2.0 + 0.1 * 1.0));
    assert_values(&w, &[w1]);
    assert_values(&m, &[m1 - 0.1 * (2.0 + 0.1 * w1)]);
    // clip_gradient = 1.5, rescale 0.5: a gradient of 4 counts as 1.5.
    let (w, g, m) = (arr(&[1.0], &[1]), arr(&[4.0], &[1]), arr(&[0.0], &[1]));
    optim::nag_mom_update(&w, &g, &m, 0.5, h(0.1, 0.0, 0.5, 1.5)).unwrap();
    assert_values(&w, &[1.0 + 1.5 * (-0.15)]);
    assert_values(&m, &[-0.15]);
}

#[test]
fn float32_updates_run_and_mismatches_are_refused_naming_both_shapes() {
    let w = typed(&[1.0, 2.0], &[2], DType::F32);
    let g = typed(&[0.5, -0.5], &[2], DType::F32);
    optim::signsgd_update(&w, &g, h(0.25, 0.0, 1.0, -1.0)).unwrap();
    assert_eq!(w.to_vec::<f32>(), [0.75, 2.25]);

    let bad = typed(&[1.0, 2.0, 3.0], &[3], DType::F32);
    let s2 = || typed(&[0.0, 0.0], &[2], DType::F32);
    let p = h(0.1, 0.0, 1.0, -1.0);
    let shape_errors = [
        optim::signsgd_update(&w, &bad, p).unwrap_err(),
        optim::signum_update(&w, &g, &bad, 0.9, 0.0, p).unwrap_err(),
        optim::rmsprop_update(&w, &g, &bad, 0.95, 1e-8, -1.0, p).unwrap_err(),
        optim::rmspropalex_update(&w, &g, &s2(), &s2(), &bad, 0.95, 0.9, 1e-8, -1.0, p).unwrap_err(),
        optim::ftrl_update(&w, &g, &bad, &s2(), 0.01, 1.0, p).unwrap_err(),
        optim::nag_mom_update(&w, &bad, &s2(), 0.9, p).unwrap_err(),
    ];
    for e in shape_errors {
        assert_eq!(e.kind, ErrorKind::Shape, "{}", e);
        let msg = e.to_string();
        assert!(msg.contains("(3,)") && msg.contains("(2,)"), "{}", msg);
    }
    let g64 = typed(&[0.5, -0.5], &[2], DType::F64);
    assert_eq!(optim::nag_mom_update(&w, &g64, &s2(), 0.9, p).unwrap_err().kind, ErrorKind::DType);
    // Two written arrays sharing memory.
    let n = s2();
    let e = optim::rmspropalex_update(&w, &g, &n, &s2(), &n, 0.95, 0.9, 1e-8, -1.0, p).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "{}", e);
    assert_eq!(optim::ftrl_update(&w, &g, &w, &s2(), 0.01, 1.0, p).unwrap_err().kind, ErrorKind::InvalidArgument);
}

#[test]
fn lamb_phase1_returns_the_bias_corrected_direction_and_leaves_the_weight() {
    let (w, g) = (arr(&[2.0, -1.0], &[2]), arr(&[4.0, -8.0], &[2]));
    let (m, v) = (arr(&[0.5, 0.0], &[2]), arr(&[1.0, 0.0], &[2]));
    // rescale 0.5, clip 3: the gradients count as 2 and -3.
    let d = optim::lamb_update_phase1(&w, &g, &m, &v, 0.5, 0.75, 0.0, 2, true, h(0.0, 0.1, 0.5, 3.0)).unwrap();
    let (m1, v1) = ([0.25 + 0.5 * 2.0, 0.5 * -3.0], [0.75 + 0.25 * 4.0, 0.25 * 9.0]);
    assert_values(&m, &m1);
    assert_values(&v, &v1);
    let dir = |i: usize, wi: f64| (m1[i] / 0.75) / ((v1[i] / (1.0 - 0.5625f64)).sqrt()) + 0.1 * wi;
    assert_values(&d, &[dir(0, 2.0), dir(1, -1.0)]);
    assert_values(&w, &[2.0, -1.0]);
    // without bias correction
    let (m, v) = (arr(&[0.0], &[1]), arr(&[0.0], &[1]));
    let d = optim::lamb_update_phase1(&arr(&[1.0], &[1]), &arr(&[2.0], &[1]), &m, &v, 0.5, 0.75, 0.0, 1, false,
        h(0.0, 0.0, 1.0, -1.0)).unwrap();
    assert_values(&d, &[1.0 / 1.0]);
}

#[test]
fn lamb_phase2_scales_the_step_by_the_bounded_trust_ratio() {
    let step = |r1: f64, r2: f64, lower: f64, upper: f64| {
        let w = arr(&[1.0, 2.0], &[2]);
        optim::lamb_update_phase2(&w, &arr(&[1.0, -1.0], &[2]), &arr(&[r1], &[1]), &arr(&[r2], &[1]), 0.1, lower, upper).unwrap();
        w.to_vec::<f64>()
    };
    assert_eq!(step(2.0, 4.0, -1.0, -1.0), [1.0 - 0.1 * 2.0 / 4.0, 2.0 + 0.1 * 2.0 / 4.0]);
    assert_eq!(step(2.0, 4.0, 3.0, -1.0), [1.0 - 0.1 * 3.0 / 4.0, 2.0 + 0.1 * 3.0 / 4.0]);
    assert_eq!(step(2.0, 4.0, -1.0, 1.0), [1.0 - 0.1 * 1.0 / 4.0, 2.0 + 0.1 * 1.0 / 4.0]);
    assert_eq!(step(0.0, 4.0, -1.0, -1.0), [0.9, 2.1]);
    assert_eq!(step(2.0, 0.0, -1.0, -1.0), [0.9, 2.1]);
    let w = arr(&[1.0], &[1]);
    let e = optim::lamb_update_phase2(&w, &arr(&[1.0], &[1]), &arr(&[1.0, 2.0], &[2]), &arr(&[1.0], &[1]), 0.1, -1.0, -1.0).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Shape, "{}", e);
    assert!(e.to_string().contains("r1") && e.to_string().contains("(2,)"), "{}", e);
}

#[test]
fn threaded_updates_match_the_single_threaded_ones() {
    // Above the split threshold and not a multiple of the thread count: each update runs in
    // chunks, one per thread, for the weight and every state alike.
    let n = (1 << 19) + 3;
    let vals = |k: f64, shift: f64| -> Vec<f64> { (0..n).map(|i| (i as f64 * k).sin() + shift).collect() };
    let run = |threads: usize| {
        ad::cpu::threads::set_num_threads(threads).unwrap();
        let t = |v: Vec<f64>| typed(&v, &[n], DType::F32);
        let (w, g) = (t(vals(0.37, 0.0)), t(vals(1.3, 0.0)));
        let (s1, s2, s3) = (t(vals(0.11, 2.5)), t(vals(0.05, 0.0)), t(vals(0.07, 0.0)));
        let p = h(0.01, 1e-3, 0.5, 0.8);
        optim::rmspropalex_update(&w, &g, &s1, &s2, &s3, 0.9, 0.8, 1e-6, 2.0, p).unwrap();
        optim::ftrl_update(&w, &g, &s2, &s1, 0.01, 1.0, p).unwrap();
        optim::signum_update(&w, &g, &s3, 0.9, 0.01, p).unwrap();
        optim::nag_mom_update(&w, &g, &s3, 0.9, p).unwrap();
        let d = optim::lamb_update_phase1(&w, &g, &s2, &s1, 0.9, 0.99, 1e-6, 3, true, p).unwrap();
        // compared bit for bit (NaN included)
        [w, s1, s2, s3, d].map(|a| a.to_vec::<f32>().iter().map(|x| x.to_bits()).collect::<Vec<u32>>())
    };
    let one = run(1);
    assert!(one.iter().flatten().all(|&b| f32::from_bits(b).is_finite()), "the inputs make a non-finite value");
    assert!(run(3) == one, "3 threads differ from 1");
    assert!(run(2) == one, "2 threads differ from 1");
}
