//! Float32 matrix products on each kernel and at each CPU level: C = A·B (the forward) and the
//! two products of its backward, Aᵀ·G and G·Bᵀ, at 1024³ and 256³. First each kernel called
//! directly on one thread (matrixmultiply's too, whichever kernel it picks on this CPU), then
//! `ops::dot` at each level this CPU has, on 1 and 2 threads. Runs are interleaved across
//! kernels and levels, so that a change in the machine's load falls on all of them; medians of
//! 5 runs, in GFLOPS.
//!
//!     cargo bench --bench sgemm [-- kernels | levels]
//!
//! `AD_GEMM_BLOCKING=mc,kc,nc` sets our kernels' blocking, to measure others.

use std::time::Instant;

use ad::cpu::level::{self, Level};
use ad::cpu::sgemm::{self, Kernel};
use ad::cpu::threads;
use ad::{ops, DType, NdArray};

const RUNS: usize = 5;
const SIZES: [usize; 2] = [1024, 256];

/// The three products of a layer's step, as (name, transpose A, transpose B).
const PRODUCTS: [(&str, bool, bool); 3] = [("C=A·B", false, false), ("Aᵀ·G", true, false), ("G·Bᵀ", false, true)];

/// Seconds per product: `f` runs `inner` products.
fn seconds(inner: usize, f: &mut dyn FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..inner {
        f();
    }
    t.elapsed().as_secs_f64() / inner as f64
}

/// The median of `RUNS` runs of each of `cases`, interleaved: run r of every case before run
/// r + 1 of any. One untimed run of each first.
fn interleaved(inner: usize, cases: &mut [Box<dyn FnMut() + '_>]) -> Vec<f64> {
    let mut times = vec![Vec::new(); cases.len()];
    for run in 0..=RUNS {
        for (case, t) in cases.iter_mut().zip(&mut times) {
            let s = seconds(inner, case.as_mut());
            if run > 0 {
                t.push(s);
            }
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[RUNS / 2]
        })
        .collect()
}

fn values(len: usize, seed: usize) -> Vec<f32> {
    (0..len).map(|i| ((i * 7919 + seed) % 1013) as f32 / 512.0 - 1.0).collect()
}

fn gflops(n: usize, seconds: f64) -> String {
    format!("{:>8.1}", 2.0 * (n as f64).powi(3) / seconds / 1e9)
}

fn print_header(columns: &[String]) {
    print!("{:<8} {:>5} {:<6}", "threads", "size", "");
    for c in columns {
        print!(" {c:>15}");
    }
    println!();
}

/// Each kernel called directly, on this thread: square products of side n, A and B row-major.
fn kernels() {
    let kernels: Vec<Kernel> = [Kernel::MatrixMultiply, Kernel::Avx2, Kernel::Portable].into_iter().filter(|k| k.runs_here()).collect();
    // matrixmultiply's AVX-512 kernel where the CPU has AVX-512F, else its AVX2+FMA 8×8 one.
    let mm = if std::arch::is_x86_feature_detected!("avx512f") { "matrixmultiply-avx512" } else { "matrixmultiply-fma" };
    println!("Kernels called directly, GFLOPS:");
    print_header(&kernels.iter().map(|&k| if k == Kernel::MatrixMultiply { mm } else { k.name() }.to_string()).collect::<Vec<_>>());
    for n in SIZES {
        let (a, b) = (values(n * n, 1), values(n * n, 2));
        let mut c = vec![0.0f32; n * n];
        let inner = if n >= 1024 { 1 } else { 20 };
        for (name, ta, tb) in PRODUCTS {
            // The strides of op(A) and op(B) over the row-major square matrices.
            let (rsa, csa) = if ta { (1, n as isize) } else { (n as isize, 1) };
            let (rsb, csb) = if tb { (1, n as isize) } else { (n as isize, 1) };
            let c = c.as_mut_ptr();
            let mut cases: Vec<Box<dyn FnMut()>> = kernels
                .iter()
                .map(|&kernel| {
                    let (a, b) = (&a, &b);
                    Box::new(move || {
                        // SAFETY: A, B and C are n×n, read and written as the strides describe.
                        unsafe { sgemm::sgemm(kernel, n, n, n, a.as_ptr(), rsa, csa, b.as_ptr(), rsb, csb, c, n as isize) }.expect("the packing buffers are allocated")
                    }) as Box<dyn FnMut()>
                })
                .collect();
            let t = interleaved(inner, &mut cases);
            print!("{:<8} {n:>5} {name:<6}", 1);
            t.iter().for_each(|&s| print!(" {:>15}", gflops(n, s)));
            println!();
        }
    }
}

/// `ops::dot` at each level, on 1 and 2 threads.
fn levels() {
    let levels: Vec<Level> = [Level::Avx512, Level::Avx2, Level::Portable].into_iter().filter(|&l| l <= level::detected()).collect();
    println!("ops::dot at each CPU level (the level's kernel), GFLOPS:");
    print_header(&levels.iter().map(|&l| format!("{}: {}", l.name(), Kernel::at(l).name())).collect::<Vec<_>>());
    let before = threads::num_threads();
    for t in [1, 2] {
        threads::set_num_threads(t).expect("1 or 2 threads");
        for n in SIZES {
            let a = NdArray::random_uniform(-1.0, 1.0, &[n, n], DType::F32).unwrap();
            let b = NdArray::random_uniform(-1.0, 1.0, &[n, n], DType::F32).unwrap();
            let inner = if n >= 1024 { 1 } else { 20 };
            for (name, ta, tb) in PRODUCTS {
                let (a, b) = (&a, &b);
                let mut cases: Vec<Box<dyn FnMut()>> = levels
                    .iter()
                    .map(|&l| {
                        Box::new(move || {
                            level::set_ceiling(Some(l));
                            ops::dot(a, b, ta, tb).unwrap();
                        }) as Box<dyn FnMut()>
                    })
                    .collect();
                let times = interleaved(inner, &mut cases);
                print!("{t:<8} {n:>5} {name:<6}");
                times.iter().for_each(|&s| print!(" {:>15}", gflops(n, s)));
                println!();
            }
        }
    }
    threads::set_num_threads(before).expect("the count it had");
    level::set_ceiling(None);
}

/// The core's clock in GHz while it runs a chain of dependent integer adds (one per cycle on
/// any x86-64 core of the last decade): the best of three, for the peak that figures are
/// compared with.
#[cfg(target_arch = "x86_64")]
fn clock_ghz() -> f64 {
    const ITERS: u64 = 100_000_000;
    (0..3)
        .map(|_| {
            let t = Instant::now();
            // SAFETY: the loop only changes the two registers it is given.
            unsafe {
                std::arch::asm!(
                    "2:", "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1", "dec {n}", "jnz 2b",
                    x = inout(reg) 0u64 => _, n = inout(reg) ITERS => _, options(nomem, nostack)
                )
            };
            4.0 * ITERS as f64 / t.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it,
    // unoptimised, where the timings would take minutes and mean nothing.
    if !std::env::args().any(|a| a == "--bench") {
        println!("sgemm: built; `cargo bench --bench sgemm` runs it");
        return;
    }
    // `-- kernels` or `-- levels` runs one part.
    let picked: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let want = |part: &str| picked.is_empty() || picked.iter().any(|p| p == part);
    #[cfg(target_arch = "x86_64")]
    {
        let ghz = clock_ghz();
        println!("Clock ≈ {ghz:.2} GHz: AVX2+FMA peak (2 FMAs of 8 lanes per cycle) {:.0} GFLOPS per core\n", 32.0 * ghz);
    }
    if want("kernels") {
        kernels();
        println!();
    }
    if want("levels") {
        levels();
    }
}
