//! Large ops split over threads give the same results as on one thread.

use ad::autograd::{self, GradReq, ScopeKind};
use ad::cpu::threads;
use ad::ops;
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
    use ops::optim::{adam_update, sgd_mom_update, OptimizerParams};
    let n = (1 << 19) + 3;
    let run = |threads: usize| {
        threads::set_num_threads(threads).unwrap();
        ad::array::random::seed(5);
        let w = NdArray::random_uniform(-1.0, 1.0, &[n], DType::F32).unwrap();
        let g = NdArray::random_uniform(-1.0, 1.0, &[n], DType::F32).unwrap();
        let (mom, m, v) = (NdArray::zeros(&[n], DType::F32).unwrap(), NdArray::zeros(&[n], DType::F32).unwrap(), NdArray::zeros(&[n], DType::F32).unwrap());
        let h = OptimizerParams { lr: 0.1, wd: 1e-4, rescale_grad: 0.5, clip_gradient: -1.0 };
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

#[test]
fn fork_join_runs_every_item_once_whatever_the_item_and_thread_counts() {
    let _serial = serial();
    for t in [1, 2, 3, 5] {
        threads::set_num_threads(t).unwrap();
        for items in [1usize, 2, 3, 4, 9, 64] {
            let hits: Vec<std::sync::atomic::AtomicUsize> = (0..items).map(|_| Default::default()).collect();
            threads::fork_join((0..items).collect(), |i| {
                hits[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            });
            assert!(hits.iter().all(|h| h.load(std::sync::atomic::Ordering::Relaxed) == 1), "{t} threads, {items} items");
        }
    }
    threads::set_num_threads(2).unwrap();
}

#[test]
fn a_panic_in_a_share_reaches_the_caller_and_the_pool_keeps_working() {
    let _serial = serial();
    threads::set_num_threads(3).unwrap();
    for bad in [0usize, 1, 2] {
        let done = std::sync::atomic::AtomicUsize::new(0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            threads::fork_join(vec![0usize, 1, 2], |i| {
                if i == bad {
                    panic!("share {i} failed");
                }
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })
        }));
        let message = r.expect_err("the panic is raised on the caller");
        assert_eq!(message.downcast_ref::<String>().map(String::as_str), Some(format!("share {bad} failed").as_str()));
        // Raised once no thread works on the items any more: the shares not started by then
        // are dropped unrun, and none runs later.
        let finished = done.load(std::sync::atomic::Ordering::Relaxed);
        assert!(finished <= 2);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(done.load(std::sync::atomic::Ordering::Relaxed), finished, "a share ran after the fork returned");
    }
    let sum = std::sync::atomic::AtomicUsize::new(0);
    threads::fork_join((1..=10usize).collect(), |i| {
        sum.fetch_add(i, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(sum.into_inner(), 55);
    threads::set_num_threads(2).unwrap();
}

#[test]
fn forks_from_several_threads_at_once_and_nested_forks_give_the_single_threaded_results() {
    let _serial = serial();
    ad::array::random::seed(8);
    let a = NdArray::random_uniform(-1.0, 1.0, &[256, 300], DType::F32).unwrap();
    let b = NdArray::random_uniform(-1.0, 1.0, &[300, 200], DType::F32).unwrap();
    let x = NdArray::random_uniform(-2.0, 2.0, &[1 << 19], DType::F32).unwrap();
    let compute = || (ops::dot(&a, &b, false, false).unwrap().to_vec::<f32>(), ops::exp(&x).unwrap().to_vec::<f32>());
    threads::set_num_threads(1).unwrap();
    let one = compute();
    threads::set_num_threads(2).unwrap();
    // Four threads of the program share the pool; whichever finds it running another fork
    // works alone.
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..4).map(|_| s.spawn(|| (0..5).map(|_| compute()).collect::<Vec<_>>())).collect();
        for r in runs {
            assert!(r.join().unwrap().iter().all(|c| *c == one));
        }
    });
    // A fork inside a share runs on that share's thread.
    let nested: Vec<std::sync::Mutex<Option<(Vec<f32>, Vec<f32>)>>> = (0..2).map(|_| Default::default()).collect();
    threads::fork_join(vec![0usize, 1], |i| *nested[i].lock().unwrap() = Some(compute()));
    assert!(nested.iter().all(|n| n.lock().unwrap().as_ref() == Some(&one)));
}
