//! The peer benchmark's workloads on the engine, without Python: W1 from a C program through
//! the C ABI (the per-op cost a C caller pays), W2 the tutorial's control flow, W3 matmul, W4
//! an MLP training step, W5 an element-wise chain with backward. Prints medians; compare
//! ratios, not absolute times, since machines differ and are shared.
//!
//!     cargo bench --bench workloads [-- W3 W5]
//!
//! W5 also prints its fastest run, which a busy machine moves less than the median;
//! `W5_N=elements` and `W5_REPS=runs` change its size and its number of timed runs.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use ad::autograd::{self, GradReq, ScopeKind};
use ad::ops;
use ad::{DType, NdArray};

/// Median seconds per call of `f` over `reps` timed runs after `warm` untimed ones.
fn median(warm: usize, reps: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..warm {
        f();
    }
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    times[reps / 2]
}

fn record<R>(f: impl FnOnce() -> R) -> R {
    autograd::scope_begin(ScopeKind::Record, true);
    let r = f();
    autograd::scope_end(ScopeKind::Record).unwrap();
    r
}

fn var(a: NdArray) -> NdArray {
    let mut a = a;
    autograd::attach_grad(&mut a, GradReq::Write).unwrap();
    a
}

/// W1 as a C program pays it: benches/c/w1.c, compiled at -O2 against include/ad.h and the
/// shared library cargo built next to this benchmark, run, and its line printed.
fn w1() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe = std::env::current_exe().expect("the benchmark has a path");
    let lib = exe.parent().expect("the benchmark is in a directory");
    let program = Path::new(env!("CARGO_TARGET_TMPDIR")).join("w1");
    let target = env!("AD_TEST_TARGET");
    let compiled = cc::Build::new()
        .target(target)
        .host(target)
        .opt_level(2)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .get_compiler()
        .to_command()
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror"])
        .arg(format!("-I{}", root.join("include").display()))
        .arg(root.join("benches/c/w1.c"))
        .arg("-o")
        .arg(&program)
        .arg(format!("-L{}", lib.display()))
        .arg("-lad")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        // The rpath outranks LD_LIBRARY_PATH (cargo's, which also names target/release).
        .arg("-Wl,--disable-new-dtags")
        .output()
        .expect("the C compiler runs");
    if !compiled.status.success() {
        println!("W1 from C: compiling benches/c/w1.c failed:\n{}", String::from_utf8_lossy(&compiled.stderr));
        return;
    }
    let run = Command::new(&program).output().expect("the W1 program runs");
    print!("{}", String::from_utf8_lossy(&run.stdout));
    if !run.status.success() {
        println!("W1 from C failed ({}): {}", run.status, String::from_utf8_lossy(&run.stderr));
    }
}

fn w2() {
    let a = var(NdArray::from_slice(&[0.37f32], &[1]).unwrap());
    let t = median(20, 301, || {
        let d = record(|| {
            let mut b = ops::mul_scalar(&a, 2.0).unwrap();
            while ops::norm(&b, &[], false).unwrap().asscalar().unwrap() < 1000.0 {
                b = ops::mul_scalar(&b, 2.0).unwrap();
            }
            if ops::sum(&b, &[], false).unwrap().asscalar().unwrap() > 0.0 { b } else { ops::mul_scalar(&b, 100.0).unwrap() }
        });
        autograd::backward(&[d], &[], false, true).unwrap();
    });
    println!("W2 tutorial f(a), record + backward: {:.1} µs", t * 1e6);
}

fn w3() {
    for n in [1024usize, 256] {
        let inner = if n == 1024 { 1 } else { 10 };
        let a = NdArray::random_uniform(-1.0, 1.0, &[n, n], DType::F32).unwrap();
        let b = NdArray::random_uniform(-1.0, 1.0, &[n, n], DType::F32).unwrap();
        let fwd = median(2, 11, || {
            for _ in 0..inner {
                ops::dot(&a, &b, false, false).unwrap();
            }
        }) / inner as f64;
        let (ag, bg) = (var(a.clone()), var(b.clone()));
        let fwdbwd = median(2, 11, || {
            for _ in 0..inner {
                let loss = record(|| ops::sum(&ops::dot(&ag, &bg, false, false).unwrap(), &[], false).unwrap());
                autograd::backward(&[loss], &[], false, true).unwrap();
            }
        }) / inner as f64;
        let flops = 2.0 * (n as f64).powi(3);
        println!("W3 dot {n}: forward {:.1} GFLOPS, forward+backward {:.1} GFLOPS", flops / fwd / 1e9, 3.0 * flops / fwdbwd / 1e9);
    }
}

fn w4() {
    let x = NdArray::random_uniform(0.0, 1.0, &[256, 784], DType::F32).unwrap();
    let labels: Vec<f32> = (0..256).map(|i| (i % 10) as f32).collect();
    let y = NdArray::from_slice(&labels, &[256]).unwrap();
    let params = [
        var(NdArray::random_normal(0.0, 0.05, &[784, 512], DType::F32).unwrap()),
        var(NdArray::zeros(&[512], DType::F32).unwrap()),
        var(NdArray::random_normal(0.0, 0.05, &[512, 10], DType::F32).unwrap()),
        var(NdArray::zeros(&[10], DType::F32).unwrap()),
    ];
    let t = median(5, 51, || {
        let loss = record(|| {
            let h = ops::relu(&ops::add(&ops::dot(&x, &params[0], false, false).unwrap(), &params[1]).unwrap()).unwrap();
            let logits = ops::add(&ops::dot(&h, &params[2], false, false).unwrap(), &params[3]).unwrap();
            let logp = ops::log_softmax(&logits, -1).unwrap();
            ops::neg(&ops::mean(&ops::pick(&logp, &y, -1, false).unwrap(), &[], false).unwrap()).unwrap()
        });
        autograd::backward(&[loss], &[], false, true).unwrap();
        for p in &params {
            let g = autograd::grad_of(p).unwrap();
            ops::optim::sgd_update(p, &g, ops::optim::OptimizerParams { lr: 0.1, wd: 0.0, rescale_grad: 1.0, clip_gradient: -1.0 }).unwrap();
        }
    });
    println!("W4 MLP step (256x784 → 512 relu → 10, log-softmax NLL, SGD): {:.2} ms", t * 1e3);
}

fn w5() {
    let n = std::env::var("W5_N").ok().and_then(|r| r.parse().ok()).unwrap_or(4_000_000);
    let x = var(NdArray::random_uniform(-1.0, 1.0, &[n], DType::F32).unwrap());
    let reps = std::env::var("W5_REPS").ok().and_then(|r| r.parse().ok()).unwrap_or(15);
    let mut best = f64::INFINITY;
    let t = median(3, reps, || {
        let start = Instant::now();
        let y = record(|| {
            let t = ops::exp(&ops::add_scalar(&ops::mul_scalar(&x, 2.0).unwrap(), 1.0).unwrap()).unwrap();
            ops::sum(&ops::mul(&t, &x).unwrap(), &[], false).unwrap()
        });
        autograd::backward(&[y], &[], false, true).unwrap();
        // The gradient's values, computed now if they are pending (as Python's waitall).
        autograd::grad_of(&x).unwrap().wait_to_read();
        best = best.min(start.elapsed().as_secs_f64());
    });
    println!("W5 ((x*2+1).exp()*x).sum() + backward, {n} float32: {:.2} ms (fastest {:.2} ms)", t * 1e3, best * 1e3);
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it,
    // unoptimised, where timing the workloads would take minutes and mean nothing.
    if !std::env::args().any(|a| a == "--bench") {
        println!("workloads: built; `cargo bench --bench workloads` runs them");
        return;
    }
    let picked: Vec<String> = std::env::args().skip(1).filter(|a| a.starts_with('W')).collect();
    let want = |w: &str| picked.is_empty() || picked.iter().any(|p| p == w);
    let workloads: [(&str, fn()); 5] = [("W1", w1), ("W2", w2), ("W3", w3), ("W4", w4), ("W5", w5)];
    for (name, run) in workloads {
        if want(name) {
            run();
        }
    }
}
