//! Every kernel this CPU runs against the product by its definition in float64, over shapes
//! around the tile sizes, every transpose, operands with padded rows, and blockings small and
//! odd enough that every edge of the loops runs.

use super::*;

/// The kernels to test: every one this CPU runs.
fn kernels() -> Vec<Kernel> {
    [Kernel::MatrixMultiply, Kernel::Avx2, Kernel::Portable].into_iter().filter(|k| k.runs_here()).collect()
}

/// A `rows`×`cols` operand stored with `pad` unused values after each row (or after each
/// column when `transposed`: then the memory holds its transpose, row-major), and how to
/// reach element (r, c): the stride of r and of c.
struct Operand {
    data: Vec<f32>,
    rs: isize,
    cs: isize,
}

impl Operand {
    fn new(rows: usize, cols: usize, transposed: bool, pad: usize, seed: usize) -> Operand {
        let (outer, inner) = if transposed { (cols, rows) } else { (rows, cols) };
        let ld = inner + pad;
        // Values of a few bits, of both signs, so that products and sums are near-exact.
        let data = (0..outer * ld).map(|i| ((i * 7919 + seed * 104_729) % 1013) as f32 / 64.0 - 7.9).collect();
        let (rs, cs) = if transposed { (1, ld as isize) } else { (ld as isize, 1) };
        Operand { data, rs, cs }
    }

    fn at(&self, r: usize, c: usize) -> f64 {
        self.data[(r as isize * self.rs + c as isize * self.cs) as usize] as f64
    }
}

/// Runs `kernel` with the blocking `blk` (the cache's when `None`) and checks C against the
/// definition, element by element, within float32's rounding of the sum of |a||b|; C's
/// padding must be left as it was and no element may be left unwritten.
fn check(kernel: Kernel, blk: Option<Blocking>, (m, k, n): (usize, usize, usize), (ta, tb): (bool, bool)) {
    let a = Operand::new(m, k, ta, 3, m + 2 * k);
    let b = Operand::new(k, n, tb, 1, n + 3 * k);
    let rsc = n + 2;
    // NaN everywhere: a read of C before it is written, or an element never written, shows.
    let mut c = vec![f32::NAN; m * rsc];
    let padding = -12345.0;
    c.chunks_exact_mut(rsc).for_each(|row| row[n..].fill(padding));
    let (pa, pb, pc) = (a.data.as_ptr(), b.data.as_ptr(), c.as_mut_ptr());
    // SAFETY: the operands are m×k and k×n as their strides describe, C m×n with row stride rsc.
    unsafe {
        match (kernel, blk) {
            #[cfg(target_arch = "x86_64")]
            (Kernel::Avx2, Some(blk)) => blocked::<6, 16, avx2::Avx2>(blk, (m, k, n), Operands { a: pa, rsa: a.rs, csa: a.cs, b: pb, rsb: b.rs, csb: b.cs, c: pc, rsc: rsc as isize }),
            (Kernel::Portable, Some(blk)) => blocked::<4, 8, portable::Portable>(blk, (m, k, n), Operands { a: pa, rsa: a.rs, csa: a.cs, b: pb, rsb: b.rs, csb: b.cs, c: pc, rsc: rsc as isize }),
            _ => sgemm(kernel, m, k, n, pa, a.rs, a.cs, pb, b.rs, b.cs, pc, rsc as isize),
        }
        .unwrap();
    }
    let at = format!("{} {blk:?} {m}x{k}x{n} ta={ta} tb={tb}", kernel.name());
    for i in 0..m {
        for j in 0..n {
            let (want, size) = (0..k).fold((0.0, 0.0), |(s, z), l| (s + a.at(i, l) * b.at(l, j), z + (a.at(i, l) * b.at(l, j)).abs()));
            let got = c[i * rsc + j] as f64;
            let tol = (k as f64 + 2.0) * f32::EPSILON as f64 * size;
            assert!((got - want).abs() <= tol, "{at}: C[{i},{j}] = {got}, want {want}");
        }
        assert!(c[i * rsc + n..(i + 1) * rsc].iter().all(|&x| x == padding), "{at}: row {i}'s padding was written");
    }
}

const TRANSPOSES: [(bool, bool); 4] = [(false, false), (false, true), (true, false), (true, true)];

#[test]
fn small_shapes_match_the_definition_with_any_blocking() {
    let dims = [0, 1, 2, 5, 6, 7, 15, 16, 17, 31, 33];
    // The cache's blocking; one tile per block and 3 steps of depth; sizes that are not
    // multiples of any tile, so that blocks end inside slivers.
    let blockings = [None, Some(Blocking { mc: 6, kc: 3, nc: 16 }), Some(Blocking { mc: 7, kc: 5, nc: 17 }), Some(Blocking { mc: 13, kc: 1, nc: 9 })];
    for kernel in kernels() {
        for blk in blockings.iter().filter(|b| b.is_none() || kernel != Kernel::MatrixMultiply) {
            for m in dims {
                for k in dims {
                    for n in dims {
                        for t in TRANSPOSES {
                            check(kernel, *blk, (m, k, n), t);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn larger_shapes_match_the_definition() {
    let shapes = [(64, 64, 64), (100, 257, 33), (257, 100, 64), (33, 64, 257), (257, 31, 100), (17, 257, 16)];
    let blockings = [None, Some(Blocking { mc: 50, kc: 37, nc: 70 }), Some(Blocking { mc: 12, kc: 256, nc: 32 })];
    for kernel in kernels() {
        for blk in blockings.iter().filter(|b| b.is_none() || kernel != Kernel::MatrixMultiply) {
            for &shape in &shapes {
                for t in TRANSPOSES {
                    check(kernel, *blk, shape, t);
                }
            }
        }
    }
}

#[test]
fn each_level_has_its_kernel() {
    assert_eq!(Kernel::at(Level::Avx512), Kernel::MatrixMultiply);
    assert_eq!(Kernel::at(Level::Avx2), Kernel::Avx2);
    assert_eq!(Kernel::at(Level::Portable), Kernel::Portable);
    assert!(Kernel::at(level::detected()).runs_here());
}

/// A row of C is the same bits wherever it falls in the tiles: in a whole tile, in a tile
/// short of rows (computed in place by the AVX2 kernel, on the stack by the others) or short
/// of columns. So the values do not depend on how a product is cut over threads.
#[test]
fn a_row_is_the_same_bits_in_a_whole_tile_and_an_edge_tile() {
    // Values with all their bits set, so that any other order of the multiply-adds rounds
    // differently.
    let value = |i: usize| ((i as f32 * 0.618_034).fract() - 0.5) * (1.0 + (i % 7) as f32 / 3.0);
    let (k, n) = (41, 19);
    let b: Vec<f32> = (0..k * n).map(|i| value(i + 5_000)).collect();
    let product = |kernel: Kernel, blk: Blocking, a: &[f32], m: usize| {
        let mut c = vec![f32::NAN; m * n];
        // SAFETY: A is m×k and B k×n, row-major; C is m×n.
        unsafe {
            match kernel {
                #[cfg(target_arch = "x86_64")]
                Kernel::Avx2 => blocked::<6, 16, avx2::Avx2>(blk, (m, k, n), Operands { a: a.as_ptr(), rsa: k as isize, csa: 1, b: b.as_ptr(), rsb: n as isize, csb: 1, c: c.as_mut_ptr(), rsc: n as isize }),
                _ => blocked::<4, 8, portable::Portable>(blk, (m, k, n), Operands { a: a.as_ptr(), rsa: k as isize, csa: 1, b: b.as_ptr(), rsb: n as isize, csb: 1, c: c.as_mut_ptr(), rsc: n as isize }),
            }
            .unwrap();
        }
        c
    };
    for kernel in kernels().into_iter().filter(|&k| k != Kernel::MatrixMultiply) {
        // Whole depth at once, and depth blocks of 16 (the later blocks add to C).
        for blk in [Blocking { mc: 48, kc: 64, nc: 32 }, Blocking { mc: 48, kc: 16, nc: 32 }] {
            let a: Vec<f32> = (0..13 * k).map(value).collect();
            let all = product(kernel, blk, &a, 13);
            // Rows [first, 13) alone: each falls at another place in the tiles.
            for first in 1..13 {
                let part = product(kernel, blk, &a[first * k..], 13 - first);
                let want = &all[first * n..];
                let same = part.iter().zip(want).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{} {blk:?}: rows from {first} differ from the same rows of the whole product", kernel.name());
            }
        }
    }
}
