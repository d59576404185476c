//! Every level of vector instructions the machine has computes the same math: the vectorised
//! functions within their ulp bounds, the narrow matrix kernel and each level's float32
//! matrix kernel as a plain product, at each ceiling from the CPU's own down to the portable
//! code. `AD_CPU` sets the ceiling.

use std::sync::{Mutex, MutexGuard};

use ad::cpu::level::{self, Level};
use ad::cpu::sgemm::Kernel;
use ad::cpu::threads;
use ad::{ops, NdArray};

/// The ceiling and the thread count are the process's: tests that set them take turns.
fn settings() -> MutexGuard<'static, ()> {
    static SETTINGS: Mutex<()> = Mutex::new(());
    SETTINGS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The levels this CPU runs, lowest first.
fn levels() -> Vec<Level> {
    [Level::Portable, Level::Avx2, Level::Avx512].into_iter().filter(|&l| l <= level::detected()).collect()
}

/// Distance in units in the last place between a float32 result and the float64 value.
fn ulps(got: f64, want: f64) -> f64 {
    let w = want as f32;
    if got as f32 == w || (got.is_nan() && want.is_nan()) {
        return 0.0;
    }
    let spacing = (f32::from_bits(w.abs().to_bits() + 1) - w.abs()) as f64;
    ((got - want) / spacing).abs()
}

fn f32_array(values: &[f32], shape: &[usize]) -> NdArray {
    NdArray::from_slice(values, shape).unwrap()
}

/// The worst ulp error of `op` over `xs` against `reference` in float64.
fn worst(op: fn(&NdArray) -> ad::Result<NdArray>, xs: &[f32], reference: fn(f64) -> f64) -> f64 {
    let got = op(&f32_array(xs, &[xs.len()])).unwrap().to_f64_vec();
    got.iter().zip(xs).map(|(&g, &x)| ulps(g, reference(x as f64))).fold(0.0, f64::max)
}

fn spread(lo: f32, hi: f32, n: usize) -> Vec<f32> {
    (0..n).map(|i| lo + (hi - lo) * (i as f32 / (n - 1) as f32)).collect()
}

/// C = A·B for A m×k and B k×n (row-major), in float64.
fn plain_product(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a[i * k + p] as f64 * b[p * n + j] as f64).sum();
        }
    }
    c
}

#[test]
fn every_level_computes_the_same_math() {
    let _turn = settings();
    let best = level::detected();
    for ceiling in levels() {
        assert_eq!(level::set_ceiling(Some(ceiling)), ceiling);
        let at = ceiling.name();
        // Enough elements that large loops are split and run through their vector bodies.
        let e = worst(ops::exp, &spread(-87.0, 88.7, 300_001), f64::exp);
        assert!(e <= 2.0, "{at}: exp off by {e} ulp");
        let l = worst(ops::log, &spread(1e-30, 1e30, 300_001), f64::ln);
        assert!(l <= 1.0, "{at}: log off by {l} ulp");
        let s = worst(ops::sigmoid, &spread(-80.0, 80.0, 300_001), |x| 1.0 / (1.0 + (-x).exp()));
        assert!(s <= 3.0, "{at}: sigmoid off by {s} ulp");
        let t = worst(ops::tanh, &spread(-10.0, 10.0, 300_001), f64::tanh);
        assert!(t <= 3.0, "{at}: tanh off by {t} ulp");

        // Products 8 and 16 columns wide take the narrow kernel where the level has it.
        for (m, k, n) in [(37, 29, 8), (50, 64, 16), (13, 7, 3)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919 % 97) as f32 - 48.0) / 16.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 104_729 % 89) as f32 - 44.0) / 16.0).collect();
            let c = ops::dot(&f32_array(&a, &[m, k]), &f32_array(&b, &[k, n]), false, false).unwrap().to_f64_vec();
            for (i, (got, want)) in c.iter().zip(plain_product(&a, &b, m, k, n)).enumerate() {
                assert!((got - want).abs() <= 1e-5 * (1.0 + want.abs()) * k as f64, "{at}: {m}x{k}·{k}x{n} C[{i}] = {got}, want {want}");
            }
        }
    }
    assert_eq!(level::set_ceiling(None), best);
}

/// Element (i, j) of op(A)·op(B) by its definition in float64, and the sum of the magnitudes
/// of its terms (what float32 rounding is relative to); A is stored m×k (k×m when `ta`), B
/// k×n (n×k when `tb`), row-major.
fn definition(a: &[f32], b: &[f32], (m, k, n): (usize, usize, usize), (ta, tb): (bool, bool)) -> Vec<(f64, f64)> {
    let at_a = |i: usize, l: usize| a[if ta { l * m + i } else { i * k + l }] as f64;
    let at_b = |l: usize, j: usize| b[if tb { j * k + l } else { l * n + j }] as f64;
    (0..m * n).map(|e| (0..k).map(|l| at_a(e / n, l) * at_b(l, e % n)).fold((0.0, 0.0), |(s, z), t| (s + t, z + t.abs()))).collect()
}

/// At each level the float32 product runs on that level's kernel (which `Kernel::current`
/// names, a different one at each level) and matches the definition: every transpose, shapes
/// with partial tiles, and products large enough to be cut over two threads by rows and by
/// columns.
#[test]
fn every_level_multiplies_as_the_definition() {
    let _turn = settings();
    let before = threads::num_threads();
    threads::set_num_threads(2).unwrap();
    let mut names = Vec::new();
    for ceiling in levels() {
        level::set_ceiling(Some(ceiling));
        let kernel = Kernel::current();
        assert_eq!(kernel, Kernel::at(ceiling));
        names.push(kernel.name());
        let at = kernel.name();
        // 37·29·53 runs whole; the others (≥ 2^21 multiply-adds) are cut over the two threads,
        // by rows or, for 16·1024·256 untransposed, by columns.
        for (m, k, n) in [(37, 29, 53), (130, 128, 129), (300, 70, 100), (16, 1024, 256)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919 % 97) as f32 - 48.0) / 16.0).collect();
                let b: Vec<f32> = (0..k * n).map(|i| ((i * 104_729 % 89) as f32 - 44.0) / 16.0).collect();
                let c = ops::dot(&f32_array(&a, &if ta { [k, m] } else { [m, k] }), &f32_array(&b, &if tb { [n, k] } else { [k, n] }), ta, tb).unwrap().to_f64_vec();
                let want = definition(&a, &b, (m, k, n), (ta, tb));
                assert_eq!(c.len(), m * n);
                for (i, (got, (value, size))) in c.iter().zip(want).enumerate() {
                    let tol = (k as f64 + 2.0) * f32::EPSILON as f64 * size;
                    assert!((got - value).abs() <= tol, "{at}: {m}x{k}x{n} ta={ta} tb={tb}: C[{i}] = {got}, want {value}");
                }
            }
        }
        // batch_dot runs each product of the batch on the same kernel.
        let (batch, m, k, n) = (3, 20, 33, 40);
        let a: Vec<f32> = (0..batch * m * k).map(|i| ((i * 31 % 53) as f32 - 26.0) / 8.0).collect();
        let b: Vec<f32> = (0..batch * k * n).map(|i| ((i * 17 % 61) as f32 - 30.0) / 8.0).collect();
        let c = ops::batch_dot(&f32_array(&a, &[batch, m, k]), &f32_array(&b, &[batch, k, n]), false, false).unwrap().to_f64_vec();
        for s in 0..batch {
            let want = plain_product(&a[s * m * k..(s + 1) * m * k], &b[s * k * n..(s + 1) * k * n], m, k, n);
            for (i, (got, want)) in c[s * m * n..(s + 1) * m * n].iter().zip(want).enumerate() {
                assert!((got - want).abs() <= 1e-5 * (1.0 + want.abs()) * k as f64, "{at}: batch_dot product {s}: C[{i}] = {got}, want {want}");
            }
        }
    }
    names.dedup();
    assert_eq!(names.len(), levels().len(), "one kernel per level: {names:?}");
    level::set_ceiling(None);
    threads::set_num_threads(before).unwrap();
}

/// `AD_CPU` names the ceiling; a level the CPU lacks gives what it has, an unknown name none.
/// Each case runs this test again in a child process with `AD_CPU` set, where it reads the
/// level before any op of that process could set it.
#[test]
fn the_environment_sets_the_ceiling() {
    if let Ok(want) = std::env::var("AD_TEST_WANT_LEVEL") {
        assert_eq!(level::level().name(), want);
        return;
    }
    let best = level::detected();
    for (value, want) in [("portable", Level::Portable), ("avx2", Level::Avx2.min(best)), ("avx512", best), ("sse", best)] {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["the_environment_sets_the_ceiling", "--exact", "--nocapture", "--test-threads=1"])
            .env("AD_CPU", value)
            .env("AD_TEST_WANT_LEVEL", want.name())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "AD_CPU={value}: want {}:\n{}{}",
            want.name(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
