//! Large ops split over threads give the same results as on one thread.

use ad::autograd::{self, GradReq, ScopeKind};
use ad::ops::{self, threads};
use ad::{DType, NdArray};

/// The thread count and the random generator are process-wide: the tests here take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn threaded_matrix_products_match_the_single_threaded_ones() {
    let _serial = serial();
    ad::array::random::seed(3);
    let a = NdArray::random_uniform(-1.0, 1.0, &[300, 517], DType::F32).unwrap();
    let b = NdArray::random_uniform(-1.0, 1.0, &[517, 203], DType::F32).unwrap();
    let bt = ops::transpose(&b, &[]).unwrap();
    let product = |ta: bool| {
        if ta {
            ops::dot(&ops::transpose(&a, &[]).unwrap(), &bt, true, true).unwrap().to_vec::<f32>()
        } else {
            ops::dot(&a, &b, false, false).unwrap().to_vec::<f32>()
        }
    };
    threads::set_num_threads(1).unwrap();
    let (one, one_t) = (product(false), product(true));
    for n in [2, 3, 7] {
        threads::set_num_threads(n).unwrap();
        assert_eq!(product(false), one, "{n} threads");
        assert_eq!(product(true), one_t, "{n} threads, transposed operands");
    }
    assert!(threads::set_num_threads(0).is_err());
}

#[test]
fn threaded_element_wise_ops_match_the_single_threaded_ones() {
    let _serial = serial();
    ad::array::random::seed(4);
    let n = (1 << 19) + 7; // above the split threshold, not a multiple of the thread count
    let x = NdArray::random_uniform(-3.0, 3.0, &[n], DType::F32).unwrap();
    let y = NdArray::random_uniform(-3.0, 3.0, &[n], DType::F32).unwrap();
    let compute = || {
        let e = ops::exp(&x).unwrap();
        let t = ops::tanh(&x).unwrap();
        let m = ops::mul(&e, &y).unwrap();
        let s = ops::add_scalar(&m, 1.5).unwrap();
        [e, t, m, s].map(|a| a.to_vec::<f32>())
    };
    threads::set_num_threads(1).unwrap();
    let one = compute();
    threads::set_num_threads(2).unwrap();
    assert!(compute() == one, "2 threads differ from 1");
    threads::set_num_threads(3).unwrap();
    assert!(compute() == one, "3 threads differ from 1");
    // Spot-check the values themselves.
    let (xs, ys) = (x.to_vec::<f32>(), y.to_vec::<f32>());
    for i in [0, n / 2, n - 1] {
        assert!((one[0][i] - xs[i].exp()).abs() <= 2e-7 * xs[i].exp());
        assert_eq!(one[2][i], one[0][i] * ys[i]);
    }
}

#[test]
fn threaded_reductions_and_in_place_updates_give_the_same_bits_at_every_thread_count() {
    let _serial = serial();
    ad::array::random::seed(5);
    let n = (1 << 20) + 13; // several reduction pieces, not a multiple of the thread count
    let x = NdArray::random_uniform(-1.0, 2.0, &[n], DType::F32).unwrap();
    let compute = || {
        let reductions = [
            ops::sum(&x, &[], false).unwrap(),
            ops::max(&x, &[], false).unwrap(),
            ops::min(&x, &[], false).unwrap(),
            ops::norm(&x, &[], false).unwrap(),
        ]
        .map(|a| a.to_vec::<f32>()[0]);
        // Two gradients of x accumulate in place in backward (x feeds two products).
        let mut v = ops::copy(&x).unwrap();
        autograd::attach_grad(&mut v, GradReq::Write).unwrap();
        autograd::scope_begin(ScopeKind::Record, true);
        let y = ops::add(&ops::mul(&v, &v).unwrap(), &ops::mul_scalar(&v, 3.0).unwrap()).unwrap();
        autograd::scope_end(ScopeKind::Record).unwrap();
        autograd::backward(&[y], &[], false, true).unwrap();
        (reductions, autograd::grad_of(&v).unwrap().to_vec::<f32>())
    };
    threads::set_num_threads(1).unwrap();
    let one = compute();
    for t in [2, 3] {
        threads::set_num_threads(t).unwrap();
        let got = compute();
        assert_eq!(got.0.map(f32::to_bits), one.0.map(f32::to_bits), "{t} threads: reductions differ from 1");
        assert!(got.1 == one.1, "{t} threads: accumulated gradients differ from 1");
    }
    let xs = x.to_vec::<f32>();
    let sum: f64 = xs.iter().map(|&v| v as f64).sum();
    let sq: f64 = xs.iter().map(|&v| v as f64 * v as f64).sum();
    assert!((one.0[0] as f64 - sum).abs() <= 1e-6 * sq.sqrt() * (n as f64).sqrt(), "sum {} vs {}", one.0[0], sum);
    assert_eq!(one.0[1], xs.iter().copied().fold(f32::MIN, f32::max));
    assert_eq!(one.0[2], xs.iter().copied().fold(f32::MAX, f32::min));
    assert!((one.0[3] as f64 / sq.sqrt() - 1.0).abs() < 1e-6);
    for i in [0, n / 2, n - 1] {
        assert_eq!(one.1[i], 2.0 * xs[i] + 3.0);
    }
}

#[test]
fn threaded_optimizer_updates_match_the_single_threaded_ones() {
    let _serial = serial();
    use ops::optim::{adam_update, sgd_mom_update, Hyper};
    let n = (1 << 19) + 3;
    let run = |threads: usize| {
        threads::set_num_threads(threads).unwrap();
        ad::array::random::seed(5);
        let w = NdArray::random_uniform(-1.0, 1.0, &[n], DType::F32).unwrap();
        let g = NdArray::random_uniform(-1.0, 1.0, &[n], DType::F32).unwrap();
        let (mom, m, v) = (NdArray::zeros(&[n], DType::F32).unwrap(), NdArray::zeros(&[n], DType::F32).unwrap(), NdArray::zeros(&[n], DType::F32).unwrap());
        let h = Hyper { lr: 0.1, wd: 1e-4, rescale_grad: 0.5, clip_gradient: -1.0 };
        for t in 1..=3 {
            sgd_mom_update(&w, &g, &mom, 0.9, h).unwrap();
            adam_update(&w, &g, &m, &v, 0.9, 0.999, 1e-8, t, h).unwrap();
        }
        [w, mom, m, v].map(|a| a.to_vec::<f32>())
    };
    let one = run(1);
    assert!(run(2) == one, "2 threads differ from 1");
    assert!(run(3) == one, "3 threads differ from 1");
}
