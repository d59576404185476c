//! The exponential, gamma, Poisson and randint draws and the shuffle: reproducible with a seed, the
//! same on any thread count, with the distributions' moments and probabilities (checked on
//! 100,000 draws of a fixed seed, within a few standard errors), and argument refusals.

mod common;

use ad::cpu::threads;
use ad::{ops, DType, ErrorKind, NdArray};

/// The generator and the thread count are process-wide: the tests here take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const N: usize = 100_000;

/// The sample mean and variance of `v` are within 4 standard errors of `mean` and `var`;
/// `mu4` is the distribution's central fourth moment (the variance's standard error is
/// √((mu4 − var²)/n)).
fn assert_moments(what: &str, v: &[f64], mean: f64, var: f64, mu4: f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let s2 = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    let se_mean = (var / n).sqrt();
    let se_var = ((mu4 - var * var) / n).sqrt();
    eprintln!("{what}: mean {m:.6} (want {mean}, se {se_mean:.3e}), variance {s2:.6} (want {var}, se {se_var:.3e})");
    assert!((m - mean).abs() < 4.0 * se_mean, "{what}: mean {m}, want {mean} ± {}", 4.0 * se_mean);
    assert!((s2 - var).abs() < 4.0 * se_var, "{what}: variance {s2}, want {var} ± {}", 4.0 * se_var);
}

fn draws(make: impl Fn(&[usize], DType) -> ad::Result<NdArray>, seed: u64) -> Vec<f64> {
    ad::array::random::seed(seed);
    let a = make(&[N], DType::F64).unwrap();
    assert_eq!((a.shape(), a.dtype()), (&[N][..], DType::F64));
    a.to_f64_vec()
}

#[test]
fn exponential_has_mean_scale_and_variance_scale_squared() {
    let _serial = serial();
    for scale in [0.5, 1.0, 3.0] {
        let v = draws(|s, d| NdArray::random_exponential(scale, s, d), 11);
        assert!(v.iter().all(|&x| x >= 0.0 && x.is_finite()));
        let t2 = scale * scale;
        assert_moments(&format!("exponential({scale})"), &v, scale, t2, 9.0 * t2 * t2);
        // P(X > scale) = e^-1
        let above = v.iter().filter(|&&x| x > scale).count() as f64 / N as f64;
        let p = (-1.0f64).exp();
        assert!((above - p).abs() < 4.0 * (p * (1.0 - p) / N as f64).sqrt(), "P(X > scale) = {above}");
    }
}

#[test]
fn gamma_has_mean_alpha_beta_and_variance_alpha_beta_squared() {
    let _serial = serial();
    // 0.3 and 0.9 take the alpha < 1 boost, the others Marsaglia–Tsang directly.
    for (alpha, beta) in [(0.3, 1.0), (0.9, 2.0), (1.0, 1.0), (2.5, 0.5), (50.0, 3.0)] {
        let v = draws(|s, d| NdArray::random_gamma(alpha, beta, s, d), 12);
        assert!(v.iter().all(|&x| x >= 0.0 && x.is_finite()));
        let b4 = beta * beta * beta * beta;
        assert_moments(
            &format!("gamma({alpha}, {beta})"),
            &v,
            alpha * beta,
            alpha * beta * beta,
            (3.0 * alpha * alpha + 6.0 * alpha) * b4,
        );
    }
    // Gamma(1, beta) is exponential with mean beta: P(X > beta) = e^-1.
    let v = draws(|s, d| NdArray::random_gamma(1.0, 2.0, s, d), 13);
    let above = v.iter().filter(|&&x| x > 2.0).count() as f64 / N as f64;
    let p = (-1.0f64).exp();
    assert!((above - p).abs() < 4.0 * (p * (1.0 - p) / N as f64).sqrt(), "P(X > beta) = {above}");
}

/// ln k!, for the Poisson probabilities.
fn ln_factorial(k: u64) -> f64 {
    (1..=k).map(|i| (i as f64).ln()).sum()
}

#[test]
fn poisson_draws_are_whole_numbers_with_mean_and_variance_lam() {
    let _serial = serial();
    // Inversion below 10, PTRS from 10 up, the normal approximation above 1e10.
    for lam in [0.05, 0.5, 4.0, 9.99, 10.0, 12.0, 30.0, 1000.0, 1e6] {
        let v = draws(|s, d| NdArray::random_poisson(lam, s, d), 14);
        assert!(v.iter().all(|&x| x >= 0.0 && x == x.round()), "lam {lam}: a draw is not a whole number");
        assert_moments(&format!("poisson({lam})"), &v, lam, lam, lam * (1.0 + 3.0 * lam));
    }
    let v = draws(|s, d| NdArray::random_poisson(1e12, s, d), 14);
    assert_moments("poisson(1e12)", &v, 1e12, 1e12, 1e12 * (1.0 + 3e12));
    assert_eq!(draws(|s, d| NdArray::random_poisson(0.0, s, d), 14), vec![0.0; N], "lam 0 gives zeros");
}

#[test]
fn poisson_frequencies_match_the_probabilities() {
    let _serial = serial();
    // One lam for inversion, two for PTRS (one near its lower end): the frequency of each
    // value with probability above 0.5% is within 4.5 standard errors of it.
    for lam in [3.0, 10.5, 40.0] {
        let v = draws(|s, d| NdArray::random_poisson(lam, s, d), 15);
        for k in 0..(3.0 * lam) as u64 + 10 {
            let p = (-lam + k as f64 * f64::ln(lam) - ln_factorial(k)).exp();
            if p < 0.005 {
                continue;
            }
            let freq = v.iter().filter(|&&x| x == k as f64).count() as f64 / N as f64;
            let se = (p * (1.0 - p) / N as f64).sqrt();
            assert!((freq - p).abs() < 4.5 * se, "lam {lam}: P(X = {k}) = {p}, drawn {freq}");
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_draws_on_any_thread_count() {
    let _serial = serial();
    let x = NdArray::arange(0.0, 24.0, 1.0, DType::F32).unwrap();
    let x = ad::ops::reshape(&x, &[6, 4]).unwrap();
    let all = |seed: u64, dtype: DType| {
        ad::array::random::seed(seed);
        let shape = [3, 1000];
        [
            NdArray::random_exponential(2.0, &shape, dtype).unwrap().to_f64_vec(),
            NdArray::random_gamma(0.5, 2.0, &shape, dtype).unwrap().to_f64_vec(),
            NdArray::random_gamma(3.0, 1.0, &shape, dtype).unwrap().to_f64_vec(),
            NdArray::random_poisson(2.0, &shape, dtype).unwrap().to_f64_vec(),
            NdArray::random_poisson(100.0, &shape, dtype).unwrap().to_f64_vec(),
            NdArray::random_randint(-50, 50, &shape, dtype).unwrap().to_f64_vec(),
            x.random_shuffle().unwrap().to_f64_vec(),
        ]
    };
    for dtype in [DType::F32, DType::F64] {
        threads::set_num_threads(1).unwrap();
        let first = all(42, dtype);
        threads::set_num_threads(4).unwrap();
        assert_eq!(all(42, dtype), first, "4 threads");
        assert_ne!(all(43, dtype), first, "another seed");
    }
    // float32 draws are the float64 ones rounded.
    let wide = all(42, DType::F64);
    let narrow = all(42, DType::F32);
    for (w, n) in wide.iter().zip(&narrow) {
        assert!(w.iter().zip(n).all(|(&w, &n)| (w as f32) as f64 == n));
    }
}

#[test]
fn bad_parameters_are_refused_naming_them() {
    let _serial = serial();
    let refused = |r: ad::Result<NdArray>, needles: &[&str]| {
        let e = r.expect_err("the call should fail");
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{}", e.message);
        for needle in needles {
            assert!(e.message.contains(needle), "{:?} does not name {}", e.message, needle);
        }
    };
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        refused(NdArray::random_exponential(bad, &[2], DType::F32), &["scale", &format!("{}", bad)]);
        refused(NdArray::random_gamma(bad, 1.0, &[2], DType::F32), &["alpha", &format!("{}", bad)]);
        refused(NdArray::random_gamma(1.0, bad, &[2], DType::F32), &["beta", &format!("{}", bad)]);
    }
    for bad in [-1.0, -1e-300, f64::NAN, f64::INFINITY] {
        refused(NdArray::random_poisson(bad, &[2], DType::F32), &["lam", &format!("{}", bad)]);
    }
    // Extreme but valid parameters terminate with finite or infinite (overflowed) draws.
    for (alpha, beta) in [(1e300, 1.0), (5e-324, 1.0), (1e-8, 1e300)] {
        let v = NdArray::random_gamma(alpha, beta, &[100], DType::F64).unwrap().to_f64_vec();
        assert!(v.iter().all(|&x| x >= 0.0), "gamma({alpha}, {beta})");
    }
    for lam in [f64::MAX, 1e300, 1e-300] {
        let v = NdArray::random_poisson(lam, &[100], DType::F64).unwrap().to_f64_vec();
        assert!(v.iter().all(|&x| x >= 0.0), "poisson({lam})");
    }
}

#[test]
fn shuffle_permutes_the_first_axis_uniformly_and_keeps_the_rows() {
    let _serial = serial();
    ad::array::random::seed(16);
    for dtype in [DType::F32, DType::F64] {
        let x = ad::ops::reshape(&NdArray::arange(0.0, 60.0, 1.0, dtype).unwrap(), &[5, 3, 4]).unwrap();
        let y = x.random_shuffle().unwrap();
        assert_eq!((y.shape(), y.dtype()), (&[5usize, 3, 4][..], dtype));
        assert_eq!(x.to_f64_vec(), (0..60).map(f64::from).collect::<Vec<_>>(), "the input is unchanged");
        let v = y.to_f64_vec();
        let mut firsts: Vec<f64> = v.chunks(12).map(|row| row[0]).collect();
        for row in v.chunks(12) {
            assert!(row.iter().enumerate().all(|(i, &e)| e == row[0] + i as f64), "a row was split: {row:?}");
        }
        firsts.sort_by(f64::total_cmp);
        assert_eq!(firsts, vec![0.0, 12.0, 24.0, 36.0, 48.0]);
    }
    // Each of the 6 orders of 3 items comes up 1/6 of the time.
    let x = NdArray::arange(0.0, 3.0, 1.0, DType::F32).unwrap();
    let mut counts = std::collections::HashMap::new();
    let n = 60_000;
    for _ in 0..n {
        *counts.entry(x.random_shuffle().unwrap().to_vec::<f32>().iter().map(|&e| e as u8).collect::<Vec<_>>()).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 6);
    let (p, se) = (1.0 / 6.0, (5.0 / 36.0 / n as f64).sqrt());
    for (order, c) in &counts {
        assert!((*c as f64 / n as f64 - p).abs() < 4.0 * se, "order {order:?} drawn {c} times of {n}");
    }
    // A 0-d array, an empty one, one item: copies.
    for shape in [&[][..], &[0, 3][..], &[1, 4][..], &[3, 0][..]] {
        let size = shape.iter().product::<usize>();
        let x = NdArray::from_slice(&(0..size).map(|i| i as f32).collect::<Vec<_>>(), shape).unwrap();
        let y = x.random_shuffle().unwrap();
        assert_eq!((y.shape(), y.to_f64_vec()), (shape, x.to_f64_vec()));
    }
}

#[test]
fn randint_draws_every_whole_number_of_low_high_alike() {
    let _serial = serial();
    for (low, high) in [(-3i64, 4i64), (0, 3), (10, 1000)] {
        let v = draws(|s, d| NdArray::random_randint(low, high, s, d), 17);
        assert!(v.iter().all(|&x| x >= low as f64 && x < high as f64 && x == x.round()), "[{low}, {high})");
        let n = (high - low) as f64;
        let (mean, var) = ((low + high - 1) as f64 / 2.0, (n * n - 1.0) / 12.0);
        assert_moments(&format!("randint({low}, {high})"), &v, mean, var, (n * n - 1.0) * (3.0 * n * n - 7.0) / 240.0);
        if n < 10.0 {
            for k in low..high {
                let freq = v.iter().filter(|&&x| x == k as f64).count() as f64 / N as f64;
                let p = 1.0 / n;
                assert!((freq - p).abs() < 4.0 * (p * (1.0 - p) / N as f64).sqrt(), "P(X = {k}) drawn {freq}");
            }
        }
    }
    // Bounds as far as the dtype holds whole numbers exactly, and no further.
    let top = NdArray::random_randint((1 << 24) - 2, 1 << 24, &[100], DType::F32).unwrap().to_f64_vec();
    assert!(top.iter().all(|&x| x == 16777214.0 || x == 16777215.0));
    let wide = NdArray::random_randint(-(1 << 53), 1 << 53, &[100], DType::F64).unwrap().to_f64_vec();
    assert!(wide.iter().all(|&x| x.abs() <= 9007199254740992.0 && x == x.round()));
    let refused = |r: ad::Result<NdArray>, needle: &str| {
        let e = r.expect_err("the call should fail");
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{}", e.message);
        assert!(e.message.contains(needle), "{:?} does not say {}", e.message, needle);
    };
    refused(NdArray::random_randint(3, 3, &[2], DType::F64), "low 3, high 3");
    refused(NdArray::random_randint(5, -5, &[2], DType::F64), "low 5, high -5");
    refused(NdArray::random_randint(0, (1 << 24) + 1, &[2], DType::F32), "high 16777217");
    refused(NdArray::random_randint(-(1 << 53) - 1, 0, &[2], DType::F64), "low -9007199254740993");
    refused(NdArray::random_randint(i64::MIN, i64::MAX, &[2], DType::F64), "float64");
}

fn arr(v: &[f64], shape: &[usize]) -> NdArray {
    NdArray::from_slice(v, shape).unwrap()
}

/// The blocks of `a` (its draws per parameter position), `block` draws each.
fn blocks(a: &NdArray, block: usize) -> Vec<Vec<f64>> {
    a.to_f64_vec().chunks(block).map(<[f64]>::to_vec).collect()
}

#[test]
fn array_parameters_draw_each_block_from_its_own_distribution() {
    let _serial = serial();
    let n = 40_000;
    ad::array::random::seed(51);
    // normal: mean loc, variance scale², fourth central moment 3·scale⁴
    let (locs, scales) = ([-3.0, 0.0, 50.0, 2.0], [0.5, 1.0, 4.0, 0.0]);
    let d = NdArray::sample_normal(&arr(&locs, &[2, 2]), &arr(&scales, &[2, 2]), &[n], DType::F64).unwrap();
    assert_eq!((d.shape(), d.dtype()), (&[2, 2, n][..], DType::F64));
    for (i, b) in blocks(&d, n).iter().enumerate() {
        let (m, s2) = (locs[i], scales[i] * scales[i]);
        if s2 == 0.0 {
            assert!(b.iter().all(|&x| x == m), "scale 0 gives loc");
        } else {
            assert_moments(&format!("normal block {i}"), b, m, s2, 3.0 * s2 * s2);
        }
    }
    // uniform: mean (a+b)/2, variance w²/12, fourth moment w⁴/80
    let (lows, highs) = ([0.0, -10.0, 5.0], [1.0, 10.0, 5.0]);
    let d = NdArray::sample_uniform(&arr(&lows, &[3]), &arr(&highs, &[3]), &[n], DType::F32).unwrap();
    assert_eq!((d.shape(), d.dtype()), (&[3, n][..], DType::F32));
    for (i, b) in blocks(&d, n).iter().enumerate() {
        let w = highs[i] - lows[i];
        assert!(b.iter().all(|&x| x >= lows[i] && (x < highs[i] || w == 0.0)), "uniform block {i} leaves [low, high)");
        if w > 0.0 {
            assert_moments(&format!("uniform block {i}"), b, (lows[i] + highs[i]) / 2.0, w * w / 12.0, w.powi(4) / 80.0);
        }
    }
    // exponential with mean scale
    let sc = [0.25, 1.0, 8.0];
    let d = NdArray::sample_exponential(&arr(&sc, &[3, 1]), &[n], DType::F64).unwrap();
    assert_eq!(d.shape(), &[3, 1, n][..]);
    for (i, b) in blocks(&d, n).iter().enumerate() {
        let t2 = sc[i] * sc[i];
        assert_moments(&format!("exponential block {i}"), b, sc[i], t2, 9.0 * t2 * t2);
    }
    // gamma(alpha, beta): one alpha below 1 (the boost), one above
    let (alphas, betas) = ([0.5, 4.0], [2.0, 0.25]);
    let d = NdArray::sample_gamma(&arr(&alphas, &[2]), &arr(&betas, &[2]), &[n], DType::F64).unwrap();
    for (i, b) in blocks(&d, n).iter().enumerate() {
        let (a, be) = (alphas[i], betas[i]);
        assert_moments(&format!("gamma block {i}"), b, a * be, a * be * be, (3.0 * a * a + 6.0 * a) * be.powi(4));
    }
    // Poisson: inversion, PTRS, and lam 0
    let lams = [0.0, 3.0, 60.0];
    let d = NdArray::sample_poisson(&arr(&lams, &[3]), &[n / 100, 100], DType::F64).unwrap();
    assert_eq!(d.shape(), &[3, n / 100, 100][..]);
    for (i, b) in blocks(&d, n).iter().enumerate() {
        assert!(b.iter().all(|&x| x >= 0.0 && x == x.round()));
        if lams[i] == 0.0 {
            assert!(b.iter().all(|&x| x == 0.0));
        } else {
            assert_moments(&format!("poisson block {i}"), b, lams[i], lams[i], lams[i] * (1.0 + 3.0 * lams[i]));
        }
    }
}

#[test]
fn array_parameters_give_shape_p_plus_shape_and_the_scalar_draws_for_0d_ones() {
    let _serial = serial();
    let p = arr(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    for dtype in [DType::F32, DType::F64] {
        let d = NdArray::sample_exponential(&p, &[], dtype).unwrap();
        assert_eq!((d.shape(), d.dtype()), (&[2, 3][..], dtype));
        assert_eq!(NdArray::sample_gamma(&p, &p, &[4, 0], dtype).unwrap().shape(), &[2, 3, 4, 0][..]);
    }
    // float32 parameters give float64 draws when asked: the dtype is the result's
    let p32 = ad::ops::astype(&p, DType::F32).unwrap();
    assert_eq!(NdArray::sample_poisson(&p32, &[2], DType::F64).unwrap().dtype(), DType::F64);
    // Empty parameters: an empty result.
    let e = NdArray::sample_normal(&arr(&[], &[0, 2]), &arr(&[], &[0, 2]), &[3], DType::F32).unwrap();
    assert_eq!(e.shape(), &[0, 2, 3][..]);
    // 0-d parameters draw what the scalar functions draw from the same seed.
    let (zero, two) = (arr(&[0.5], &[]), arr(&[2.0], &[]));
    ad::array::random::seed(9);
    let a = NdArray::sample_gamma(&zero, &two, &[3, 4], DType::F32).unwrap();
    ad::array::random::seed(9);
    let b = NdArray::random_gamma(0.5, 2.0, &[3, 4], DType::F32).unwrap();
    assert_eq!((a.shape(), a.to_f64_vec()), (b.shape(), b.to_f64_vec()));
    ad::array::random::seed(9);
    let a = NdArray::sample_uniform(&zero, &two, &[50], DType::F64).unwrap();
    ad::array::random::seed(9);
    assert_eq!(a.to_f64_vec(), NdArray::random_uniform(0.5, 2.0, &[50], DType::F64).unwrap().to_f64_vec());
}

#[test]
fn array_parameter_draws_are_the_same_on_any_thread_count() {
    let _serial = serial();
    let p = arr(&[0.5, 3.0, 20.0, 1.0], &[2, 2]);
    let all = |seed: u64| {
        ad::array::random::seed(seed);
        [
            NdArray::sample_normal(&p, &p, &[500], DType::F32).unwrap().to_f64_vec(),
            NdArray::sample_uniform(&p, &p, &[500], DType::F64).unwrap().to_f64_vec(),
            NdArray::sample_exponential(&p, &[500], DType::F64).unwrap().to_f64_vec(),
            NdArray::sample_gamma(&p, &p, &[500], DType::F64).unwrap().to_f64_vec(),
            NdArray::sample_poisson(&p, &[500], DType::F32).unwrap().to_f64_vec(),
        ]
    };
    threads::set_num_threads(1).unwrap();
    let first = all(61);
    threads::set_num_threads(2).unwrap();
    assert_eq!(all(61), first, "2 threads");
    threads::set_num_threads(4).unwrap();
    assert_eq!(all(61), first, "4 threads");
    assert_ne!(all(62), first, "another seed");
}

#[test]
fn bad_array_parameters_are_refused_naming_them_and_their_position() {
    let _serial = serial();
    let refused = |r: ad::Result<NdArray>, kind: ErrorKind, needles: &[&str]| {
        let e = r.expect_err("the call should fail");
        assert_eq!(e.kind, kind, "{}", e.message);
        for needle in needles {
            assert!(e.message.contains(needle), "{:?} does not say {}", e.message, needle);
        }
    };
    let ok = arr(&[1.0, 1.0, 1.0, 1.0], &[2, 2]);
    // one shape: no broadcasting (MXNet refuses too), one dtype
    refused(NdArray::sample_normal(&ok, &arr(&[1.0, 1.0], &[2]), &[3], DType::F32), ErrorKind::Shape, &["loc has shape (2, 2) and scale shape (2,)"]);
    refused(NdArray::sample_gamma(&arr(&[1.0, 1.0], &[2, 1]), &ok, &[3], DType::F32), ErrorKind::Shape, &["alpha has shape (2, 1)"]);
    let ok32 = ad::ops::astype(&ok, DType::F32).unwrap();
    refused(NdArray::sample_uniform(&ok, &ok32, &[3], DType::F32), ErrorKind::DType, &["low is float64 and high float32"]);
    // each element checked as the scalar functions check theirs, with its position
    let with = |i: usize, x: f64| {
        let mut v = vec![1.0; 4];
        v[i] = x;
        arr(&v, &[2, 2])
    };
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        refused(NdArray::sample_normal(&ok, &with(3, bad), &[3], DType::F32), ErrorKind::InvalidArgument, &["at [1, 1] (of shape (2, 2))", &format!("scale {bad}")]);
        refused(NdArray::sample_poisson(&with(2, bad), &[3], DType::F32), ErrorKind::InvalidArgument, &["lam at [1, 0]", &format!("lam {bad}")]);
    }
    for bad in [f64::NAN, f64::NEG_INFINITY] {
        refused(NdArray::sample_normal(&with(1, bad), &ok, &[3], DType::F32), ErrorKind::InvalidArgument, &["loc and scale at [0, 1]", &format!("loc {bad}")]);
        refused(NdArray::sample_uniform(&with(1, bad), &ok, &[3], DType::F32), ErrorKind::InvalidArgument, &["low and high at [0, 1]"]);
    }
    refused(NdArray::sample_uniform(&with(0, 2.0), &ok, &[3], DType::F32), ErrorKind::InvalidArgument, &["at [0, 0]", "low 2, high 1"]);
    for bad in [0.0, -2.0, f64::NAN, f64::INFINITY] {
        refused(NdArray::sample_exponential(&with(0, bad), &[3], DType::F32), ErrorKind::InvalidArgument, &["sample exponential: scale at [0, 0]", &format!("scale {bad}")]);
        refused(NdArray::sample_gamma(&with(0, bad), &ok, &[3], DType::F32), ErrorKind::InvalidArgument, &[&format!("alpha {bad}")]);
        refused(NdArray::sample_gamma(&ok, &with(0, bad), &[3], DType::F32), ErrorKind::InvalidArgument, &[&format!("beta {bad}")]);
    }
    // a shape too large with the parameters' is refused before anything is drawn
    refused(NdArray::sample_exponential(&ok, &[usize::MAX / 2], DType::F32), ErrorKind::Alloc, &["overflows"]);
    // The draws have no autograd history: no gradient reaches the parameters (MXNet's is 0).
    let (loc, scale) = (common::var(&[1.0, 2.0], &[2]), common::var(&[1.0, 2.0], &[2]));
    let y = common::record(|| NdArray::sample_normal(&loc, &scale, &[3], DType::F64).unwrap());
    let e = common::backward(&[y], &[]).expect_err("the draws are not differentiable");
    assert_eq!(e.kind, ErrorKind::Autograd, "{}", e.message);
}

#[test]
fn multinomial_draws_each_category_with_its_probability() {
    let _serial = serial();
    ad::array::random::seed(81);
    let n = 60_000;
    let rows = [[0.1, 0.2, 0.0, 0.7], [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 1.0, 0.0]];
    let data = arr(&rows.concat(), &[3, 4]);
    for dtype in [DType::F32, DType::F64] {
        let s = ops::sample_multinomial(&data, &[n], dtype, false).unwrap().0;
        assert_eq!((s.shape(), s.dtype()), (&[3, n][..], dtype));
        for (row, draws) in rows.iter().zip(blocks(&s, n)) {
            for (c, &p) in row.iter().enumerate() {
                let freq = draws.iter().filter(|&&x| x == c as f64).count() as f64 / n as f64;
                if p == 0.0 {
                    assert_eq!(freq, 0.0, "a category of probability 0 was drawn");
                } else {
                    assert!((freq - p).abs() < 4.5 * (p * (1.0 - p) / n as f64).sqrt() + 1e-12, "P({c}) = {p}, drawn {freq}");
                }
            }
        }
    }
    // shapes: data.shape[:-1] + shape; a 1-d row gives shape itself
    let d3 = arr(&[0.5; 12], &[3, 2, 2]);
    assert_eq!(ops::sample_multinomial(&d3, &[], DType::F32, false).unwrap().0.shape(), &[3, 2][..]);
    assert_eq!(ops::sample_multinomial(&d3, &[4, 5], DType::F32, false).unwrap().0.shape(), &[3, 2, 4, 5][..]);
    let (s, lp) = ops::sample_multinomial(&arr(&[0.5, 0.5], &[2]), &[0], DType::F32, true).unwrap();
    assert_eq!((s.shape(), lp.unwrap().shape()), (&[0][..], &[0][..]));
    assert_eq!(ops::sample_multinomial(&arr(&[], &[0, 3]), &[2], DType::F32, false).unwrap().0.shape(), &[0, 2][..]);
}

#[test]
fn multinomial_log_probabilities_are_those_of_the_draws() {
    let _serial = serial();
    ad::array::random::seed(82);
    let p = [0.1, 0.2, 0.7, 0.5, 0.25, 0.25];
    let data = ad::ops::astype(&arr(&p, &[2, 3]), DType::F32).unwrap();
    let (s, lp) = ops::sample_multinomial(&data, &[50], DType::F64, true).unwrap();
    let lp = lp.unwrap();
    assert_eq!((lp.shape(), lp.dtype()), (&[2, 50][..], DType::F32), "data's dtype");
    for (i, (&c, &l)) in s.to_f64_vec().iter().zip(&lp.to_f64_vec()).enumerate() {
        assert_eq!(l, (p[(i / 50) * 3 + c as usize] as f32).ln() as f64);
    }
    // The gradient w.r.t. data: the head's weight over p at each drawn category, summed.
    let x = common::var(&p, &[2, 3]);
    let head: Vec<f64> = (0..8).map(|i| i as f64 + 1.0).collect();
    ad::array::random::seed(83);
    let (s, lp) = common::record(|| ops::sample_multinomial(&x, &[4], DType::F64, true).unwrap());
    common::backward(&[lp.unwrap()], &[Some(arr(&head, &[2, 4]))]).unwrap();
    let mut want = vec![0.0; 6];
    for (i, &c) in s.to_f64_vec().iter().enumerate() {
        let at = (i / 4) * 3 + c as usize;
        want[at] += head[i] / p[at];
    }
    let got = common::grad(&x);
    assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() <= 1e-12 * w.abs().max(1.0)), "{got:?} != {want:?}");
    // the samples themselves have no history
    let (s, _) = common::record(|| ops::sample_multinomial(&x, &[4], DType::F64, false).unwrap());
    assert_eq!(common::backward(&[s], &[]).unwrap_err().kind, ErrorKind::Autograd);
}

#[test]
fn multinomial_draws_are_the_same_on_any_thread_count_and_bad_rows_are_refused() {
    let _serial = serial();
    let data = arr(&[0.2, 0.3, 0.5, 0.9, 0.05, 0.05], &[2, 3]);
    let all = |seed: u64| {
        ad::array::random::seed(seed);
        let (s, lp) = ops::sample_multinomial(&data, &[300], DType::F32, true).unwrap();
        (s.to_f64_vec(), lp.unwrap().to_f64_vec())
    };
    threads::set_num_threads(1).unwrap();
    let first = all(91);
    threads::set_num_threads(2).unwrap();
    assert_eq!(all(91), first, "2 threads");
    assert_ne!(all(92), first, "another seed");
    let refused = |d: NdArray, kind: ErrorKind, needles: &[&str]| {
        let e = ops::sample_multinomial(&d, &[2], DType::F32, true).expect_err("the call should fail");
        assert_eq!(e.kind, kind, "{}", e.message);
        for needle in needles {
            assert!(e.message.contains(needle), "{:?} does not say {}", e.message, needle);
        }
    };
    // MXNet 1.9.1 draws category k (out of range) from a row summing below 1, only the first
    // categories from one above, and 0 from NaN: ad refuses them.
    refused(arr(&[0.1, 0.1], &[1, 2]), ErrorKind::InvalidArgument, &["row of data (shape (1, 2)) at [0] sums to 0.2"]);
    refused(arr(&[0.5, 0.5, 1.0, 1.0], &[2, 2]), ErrorKind::InvalidArgument, &["at [1] sums to 2"]);
    refused(arr(&[-0.5, 1.5], &[2]), ErrorKind::InvalidArgument, &["probability -0.5 at [0]"]);
    refused(arr(&[0.5, f64::NAN], &[2]), ErrorKind::InvalidArgument, &["probability NaN at [1]"]);
    refused(arr(&[0.5, f64::INFINITY], &[2]), ErrorKind::InvalidArgument, &["probability inf"]);
    refused(arr(&[1.0], &[]), ErrorKind::Shape, &["0-d"]);
    refused(arr(&[], &[2, 0]), ErrorKind::Shape, &["no categories"]);
    // Rounding within (k + 16) ulps is accepted.
    let third = 1.0f32 / 3.0;
    let d32 = ad::ops::astype(&arr(&[third as f64; 3], &[3]), DType::F32).unwrap();
    assert!(ops::sample_multinomial(&d32, &[2], DType::F32, false).is_ok());
}
