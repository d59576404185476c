//! Matrix products. Float32 runs on the kernel of the CPU level in use (`cpu::sgemm`):
//! matrixmultiply's sgemm at AVX-512, our own AVX2+FMA or portable kernel below, so that
//! `AD_CPU` reaches products as it reaches the rest. Float64 runs on matrixmultiply's dgemm at
//! every level (it picks its kernel from the CPU; its blocking is set at build time, see
//! `.cargo/config.toml`). The output is written once by the kernel (beta = 0), without a zero
//! fill before it, and a large product is cut into one block of rows or of columns of C per
//! thread. Float32 products with at most 16 columns (a classifier's last layer and its weight
//! gradient) have a kernel of their own at AVX2 and above.

use crate::array::shape::checked_size;
use crate::array::storage::{filled_vec, lock, try_vec};
use crate::array::{from_vec, fmt_shape, Array, DType, Element};
use crate::cpu::sgemm::Kernel;

use crate::error::{bail, Error, Result};

/// C (m×n, row stride `rsc`) = op(A)·op(B) with beta = 0, so C need not be initialised.
/// Fails only when packing buffers cannot be allocated.
trait Gemm: Element {
    /// # Safety
    /// The pointers and strides describe an m×k op(A), a k×n op(B) and an m×n C (column
    /// stride 1) inside their allocations, and C overlaps neither operand.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_into(m: usize, k: usize, n: usize, a: *const Self, rsa: isize, csa: isize, b: *const Self, rsb: isize, csb: isize, c: *mut Self, rsc: isize) -> Result<()>;

    /// Whether `narrow_into` can run on this CPU.
    fn has_narrow() -> bool {
        false
    }

    /// C (m×n, row stride n, n ≤ `width`) = op(A)·op(B), with op(B) given as `bp`, k rows of
    /// `width` (8 or 16) values zero-padded past n.
    ///
    /// # Safety
    /// `has_narrow()`; op(A) as for `gemm_into`; `bp` holds k·width values and C m×n.
    #[allow(clippy::too_many_arguments)]
    unsafe fn narrow_into(_m: usize, _k: usize, _n: usize, _a: *const Self, _rsa: isize, _csa: isize, _bp: *const Self, _width: usize, _c: *mut Self) {
        unreachable!("no narrow kernel for this type")
    }
}

impl Gemm for f32 {
    unsafe fn gemm_into(m: usize, k: usize, n: usize, a: *const f32, rsa: isize, csa: isize, b: *const f32, rsb: isize, csb: isize, c: *mut f32, rsc: isize) -> Result<()> {
        // SAFETY: the caller's contract is sgemm's.
        unsafe { crate::cpu::sgemm::sgemm(Kernel::current(), m, k, n, a, rsa, csa, b, rsb, csb, c, rsc) }
    }

    fn has_narrow() -> bool {
        // The kernel is AVX2 with FMA, which every level from Avx2 up has.
        cfg!(target_arch = "x86_64") && crate::cpu::level::level() >= crate::cpu::level::Level::Avx2
    }

    #[cfg(target_arch = "x86_64")]
    unsafe fn narrow_into(m: usize, k: usize, n: usize, a: *const f32, rsa: isize, csa: isize, bp: *const f32, width: usize, c: *mut f32) {
        if width == 8 {
            narrow::rows::<12, 1>(m, k, n, a, rsa, csa, bp, c)
        } else {
            narrow::rows::<6, 2>(m, k, n, a, rsa, csa, bp, c)
        }
    }
}

/// The float32 kernel for C = op(A)·B with B at most 16 columns wide, where matrixmultiply's
/// 16×16 tiles would be mostly padding and its packing of op(A) (a gather when A is
/// row-major) would cost more than the product: no packing, B held in one or two 8-lane
/// registers per row of B (`NV`), `R` rows of C accumulated at a time from broadcasts of
/// op(A)'s elements. AVX2 with FMA, which on AMD's AVX-512 cores is as fast per cycle.
#[cfg(target_arch = "x86_64")]
mod narrow {
    use std::arch::x86_64::*;

    /// Rows [0, m) of C (row stride n).
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn rows<const R: usize, const NV: usize>(m: usize, k: usize, n: usize, a: *const f32, rsa: isize, csa: isize, bp: *const f32, c: *mut f32) {
        let mut i = 0;
        while i + R <= m {
            block::<R, NV>(k, n, a.offset(i as isize * rsa), rsa, csa, bp, c.add(i * n));
            i += R;
        }
        while i < m {
            block::<1, NV>(k, n, a.offset(i as isize * rsa), rsa, csa, bp, c.add(i * n));
            i += 1;
        }
    }

    /// R rows of C from the R rows of op(A) at `a`.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block<const R: usize, const NV: usize>(k: usize, n: usize, a: *const f32, rsa: isize, csa: isize, bp: *const f32, c: *mut f32) {
        let mut acc = [[_mm256_setzero_ps(); NV]; R];
        let (mut a, mut bp) = (a, bp);
        for _ in 0..k {
            let mut b = [_mm256_setzero_ps(); NV];
            for (v, b) in b.iter_mut().enumerate() {
                *b = _mm256_loadu_ps(bp.add(8 * v));
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                let x = _mm256_broadcast_ss(&*a.offset(r as isize * rsa));
                for (acc, &b) in acc.iter_mut().zip(&b) {
                    *acc = _mm256_fmadd_ps(x, b, *acc);
                }
            }
            a = a.offset(csa);
            bp = bp.add(8 * NV);
        }
        for (v, lane0) in (0..NV).map(|v| (v, 8 * v)) {
            // Lanes below n - lane0 are stored; the padding past n is not.
            let keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32 - lane0 as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            for (r, acc) in acc.iter().enumerate() {
                _mm256_maskstore_ps(c.add(r * n + lane0), keep, acc[v]);
            }
        }
    }
}

impl Gemm for f64 {
    unsafe fn gemm_into(m: usize, k: usize, n: usize, a: *const f64, rsa: isize, csa: isize, b: *const f64, rsb: isize, csb: isize, c: *mut f64, rsc: isize) -> Result<()> {
        // SAFETY: the caller's contract is dgemm's (with beta = 0, C is not read).
        unsafe { matrixmultiply::dgemm(m, k, n, 1.0, a, rsa, csa, b, rsb, csb, 0.0, c, rsc, 1) };
        Ok(())
    }
}

/// A multiple of every kernel's tile side (16×16 for matrixmultiply's f32 AVX-512 kernel, 8×8
/// for f64, 16 columns for ours): blocks of columns are cut at multiples of it, so that only
/// the last block has a partial tile. A block of rows cut at it may end in a partial 6-row tile
/// of the AVX2 kernel: 4 rows of padding at most, per block of hundreds of rows.
const TILE: usize = 16;

/// Products below this many multiply-adds run on the calling thread: waking the pool and
/// packing an operand twice would cost more than the second thread saves.
const SPLIT_MIN: usize = 1 << 21;

/// How a product is cut over the threads.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cut {
    /// Blocks of `len` rows of C (and of op(A)): each thread packs all of op(B).
    Rows(usize),
    /// Blocks of `len` columns of C (and of op(B)): each thread packs all of op(A).
    Cols(usize),
}

/// The cut for an m×k by k×n product over `threads` threads, `None` to run it whole. Each
/// thread packs its own copy of the operand that is not cut, so the cut goes across the
/// operand that is cheaper to pack twice: every kernel packs op(A) by runs of rows and op(B)
/// by runs of columns, a plain copy when those are contiguous in memory (`a_contiguous`:
/// op(A) is a transposed row-major matrix; `b_contiguous`: op(B) is row-major) and an
/// element-by-element gather, several times slower, when they are not (the AVX2 kernel
/// transposes those in registers instead, about as fast as a copy; weighing them as copies
/// there moved W4's products by less than the noise, so one weight serves every kernel).
fn plan(m: usize, k: usize, n: usize, a_contiguous: bool, b_contiguous: bool, threads: usize) -> Option<Cut> {
    if threads < 2 || m.saturating_mul(n).saturating_mul(k) < SPLIT_MIN {
        return None;
    }
    const GATHER: usize = 4;
    let pack_a = if a_contiguous { 1 } else { GATHER };
    let pack_b = if b_contiguous { 1 } else { GATHER };
    // Elements packed twice: op(B) (k×n) when cutting rows, op(A) (m×k) when cutting columns.
    let rows = pack_b.saturating_mul(n) <= pack_a.saturating_mul(m);
    let (total, make): (usize, fn(usize) -> Cut) = if rows { (m, Cut::Rows) } else { (n, Cut::Cols) };
    let parts = threads.min(total / TILE);
    if parts < 2 {
        return None;
    }
    Some(make(total.div_ceil(parts).next_multiple_of(TILE)))
}

/// Raw pointers handed to the threads; each thread writes a distinct block of C.
#[derive(Clone, Copy)]
struct Operands<T> {
    a: *const T,
    b: *const T,
    c: *mut T,
}
// SAFETY: the operands are only read, and the threads write disjoint blocks of C.
unsafe impl<T> Send for Operands<T> {}
unsafe impl<T> Sync for Operands<T> {}

impl<T> Operands<T> {
    /// The three pointers (a closure that calls this captures the whole, shareable struct).
    fn get(&self) -> (*const T, *const T, *mut T) {
        (self.a, self.b, self.c)
    }
}

/// C = op(A)·op(B) for 2-d `a` and `b`, with op a transpose where the flag says so. The
/// transpose is a swap of strides: no operand is copied.
pub fn matmul(a: &Array, b: &Array, ta: bool, tb: bool) -> Result<Array> {
    if a.dtype != b.dtype {
        bail!(DType, "dot operands have different dtypes: {} and {}", a.dtype.name(), b.dtype.name());
    }
    let (ar, ac) = (a.shape[0], a.shape[1]);
    let (br, bc) = (b.shape[0], b.shape[1]);
    let (m, k, rsa, csa) = if ta { (ac, ar, 1, ac as isize) } else { (ar, ac, ac as isize, 1) };
    let (k2, n, rsb, csb) = if tb { (bc, br, 1, bc as isize) } else { (br, bc, bc as isize, 1) };
    if k != k2 {
        bail!(
            Shape,
            "dot: shapes {}{} and {}{} are not aligned: {} != {}",
            fmt_shape(&a.shape),
            if ta { " (transposed)" } else { "" },
            fmt_shape(&b.shape),
            if tb { " (transposed)" } else { "" },
            k,
            k2
        );
    }
    let len = checked_size(&[m, n])?;
    let dims = (m, k, n);
    let strides = [rsa, csa, rsb, csb];
    Ok(match a.dtype {
        DType::F32 => from_vec(run::<f32>(a, b, dims, strides, len)?, vec![m, n]),
        DType::F64 => from_vec(run::<f64>(a, b, dims, strides, len)?, vec![m, n]),
        other => bail!(DType, "matrix product of {} arrays: computed on float32 and float64 only; astype to float32 first", other.name()),
    })
}

fn run<T: Gemm>(a: &Array, b: &Array, (m, k, n): (usize, usize, usize), [rsa, csa, rsb, csb]: [isize; 4], len: usize) -> Result<Vec<T>> {
    if len == 0 || k == 0 {
        return filled_vec(len, T::zero());
    }
    let mut out = try_vec::<T>(len)?;
    // Both operands under one set of guards: `dot(x, x)` reads one storage.
    let locked = lock(&[&a.storage, &b.storage], &[]);
    let va = &T::slice_of(locked.get(&a.storage)).expect("dtype checked")[a.range()];
    let vb = &T::slice_of(locked.get(&b.storage)).expect("dtype checked")[b.range()];
    if crate::reference::enabled() {
        by_definition(va, vb, (m, k, n), [rsa, csa, rsb, csb], &mut out);
        return Ok(out);
    }
    let c = out.spare_capacity_mut().as_mut_ptr().cast::<T>();
    if n <= 16 && T::has_narrow() {
        // op(B) copied into rows of `width` values, zero-padded: k·width values.
        let width = if n <= 8 { 8 } else { 16 };
        let mut bp = filled_vec(k * width, T::zero())?;
        for (l, row) in bp.chunks_exact_mut(width).enumerate() {
            for (j, x) in row[..n].iter_mut().enumerate() {
                *x = vb[(l as isize * rsb + j as isize * csb) as usize];
            }
        }
        let p = Operands { a: va.as_ptr(), b: bp.as_ptr(), c };
        let threads = crate::cpu::threads::num_threads();
        let parts = if m.saturating_mul(k).saturating_mul(width) < SPLIT_MIN { 1 } else { threads.min(m / 24).max(1) };
        let block = m.div_ceil(parts).next_multiple_of(12);
        let starts: Vec<usize> = (0..m).step_by(block).collect();
        crate::cpu::threads::fork_join(starts, |r| {
            let (pa, pb, pc) = p.get();
            // SAFETY: rows [r, r + rows) of op(A) and of C are inside va and `out`; `bp` holds
            // k·width values; the kernel exists (has_narrow).
            unsafe { T::narrow_into(block.min(m - r), k, n, pa.offset(r as isize * rsa), rsa, csa, pb, width, pc.add(r * n)) }
        });
        // SAFETY: the narrow kernel wrote the n columns of each of the m rows.
        unsafe { out.set_len(len) };
        return Ok(out);
    }
    let p = Operands { a: va.as_ptr(), b: vb.as_ptr(), c };
    let rsc = n as isize;
    // A block's failure (its packing buffers not allocated), kept for the calling thread.
    let failed = std::sync::Mutex::new(None::<Error>);
    let keep = |r: Result<()>| {
        if let Err(e) = r {
            *failed.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(e);
        }
    };
    // SAFETY (all calls below): va holds op(A) (m×k) and vb op(B) (k×n) as the strides
    // describe; `out` has room for the m×n C; the blocks of rows [r, r + rows) or columns
    // [j, j + cols) of op(A), op(B) and C are inside them, and distinct blocks of C do not
    // overlap.
    match plan(m, k, n, rsa == 1, csb == 1, crate::cpu::threads::num_threads()) {
        None => keep(unsafe { T::gemm_into(m, k, n, p.a, rsa, csa, p.b, rsb, csb, p.c, rsc) }),
        Some(Cut::Rows(block)) => {
            let starts: Vec<usize> = (0..m).step_by(block).collect();
            crate::cpu::threads::fork_join(starts, |r| {
                let (pa, pb, pc) = p.get();
                let rows = block.min(m - r);
                keep(unsafe { T::gemm_into(rows, k, n, pa.offset(r as isize * rsa), rsa, csa, pb, rsb, csb, pc.add(r * n), rsc) })
            });
        }
        Some(Cut::Cols(block)) => {
            let starts: Vec<usize> = (0..n).step_by(block).collect();
            crate::cpu::threads::fork_join(starts, |j| {
                let (pa, pb, pc) = p.get();
                let cols = block.min(n - j);
                keep(unsafe { T::gemm_into(m, k, cols, pa, rsa, csa, pb.offset(j as isize * csb), rsb, csb, pc.add(j), rsc) })
            });
        }
    }
    if let Some(e) = failed.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner()) {
        return Err(e);
    }
    // SAFETY: the kernel wrote every element of the m×n C (beta = 0 stores, never reads).
    unsafe { out.set_len(len) };
    Ok(out)
}

/// The reference mode's product: each element of C the sum, in order and in float64, of a row
/// of op(A) times a column of op(B), on the calling thread.
fn by_definition<T: Element>(va: &[T], vb: &[T], (m, k, n): (usize, usize, usize), [rsa, csa, rsb, csb]: [isize; 4], out: &mut Vec<T>) {
    let at = |v: &[T], r: usize, rs: isize, c: usize, cs: isize| v[(r as isize * rs + c as isize * cs) as usize].as_f64();
    for i in 0..m {
        for j in 0..n {
            out.push(T::of((0..k).fold(0.0, |acc, l| acc + at(va, i, rsa, l, csa) * at(vb, l, rsb, j, csb))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::threads;

    /// op(A)·op(B) by the definition, in f64.
    fn naive(a: &[f64], b: &[f64], (m, k, n): (usize, usize, usize), ta: bool, tb: bool) -> Vec<f64> {
        // Element (i, l) of op(A) is at i * ra + l * ca, element (l, j) of op(B) at l * rb + j * cb.
        let (ra, ca) = if ta { (1, m) } else { (k, 1) };
        let (rb, cb) = if tb { (1, k) } else { (n, 1) };
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for l in 0..k {
                let x = a[i * ra + l * ca];
                for j in 0..n {
                    c[i * n + j] += x * b[l * rb + j * cb];
                }
            }
        }
        c
    }

    /// An array of `rows`×`cols` values that is a view into a larger storage: the rows after
    /// `skip` leading rows of a taller array.
    fn view(rows: usize, cols: usize, skip: usize, seed: usize, dtype: DType) -> (Array, Vec<f64>) {
        let all: Vec<f64> = (0..(rows + skip) * cols).map(|i| (((i + seed) * 7919 % 1009) as f64 - 504.0) / 256.0).collect();
        let full = match dtype {
            DType::F32 => from_vec(all.iter().map(|&x| x as f32).collect::<Vec<_>>(), vec![rows + skip, cols]),
            DType::F64 => from_vec(all.clone(), vec![rows + skip, cols]),
            other => panic!("the products are float; not {}", other.name()),
        };
        let mut v = full.clone();
        v.offset += skip * cols;
        v.shape = vec![rows, cols].into();
        (v, all[skip * cols..].to_vec())
    }

    #[test]
    fn split_products_match_the_definition() {
        let before = threads::num_threads();
        let sizes = [1, 7, 10, 17, 130];
        let mut shapes = Vec::new();
        for m in sizes {
            for k in sizes {
                shapes.extend(sizes.map(|n| (m, k, n)));
            }
        }
        // Large enough to be cut (130³ too): by columns (few rows) and by rows, with partial
        // tiles; the last two by the narrow kernel.
        shapes.extend([(17, 200, 700), (1, 2100, 1000), (700, 200, 17), (300, 1000, 1), (500, 300, 10)]);
        for dtype in [DType::F32, DType::F64] {
            for &(m, k, n) in &shapes {
                for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                    let (ash, bsh) = (if ta { (k, m) } else { (m, k) }, if tb { (n, k) } else { (k, n) });
                    let (a, va) = view(ash.0, ash.1, (m + n) % 3, m, dtype);
                    let (b, vb) = view(bsh.0, bsh.1, k % 2, n + 1, dtype);
                    let want = naive(&va, &vb, (m, k, n), ta, tb);
                    let tol = if dtype == DType::F32 { 1e-4 } else { 1e-12 } * k as f64;
                    for t in [1, 2, 3] {
                        threads::set_num_threads(t).unwrap();
                        let c = matmul(&a, &b, ta, tb).unwrap();
                        assert_eq!(&c.shape[..], &[m, n]);
                        for (i, (&x, &y)) in c.to_f64_vec().iter().zip(&want).enumerate() {
                            assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{dtype:?} t={t} {m}x{k}x{n} ta={ta} tb={tb} at {i}: {x} vs {y}");
                        }
                    }
                }
            }
        }
        threads::set_num_threads(before).unwrap();
    }

    #[test]
    fn the_cut_crosses_the_cheaper_operand() {
        // Below the threshold, or one thread: whole.
        assert_eq!(plan(64, 64, 64, false, true, 2), None);
        assert_eq!(plan(1024, 1024, 1024, false, true, 1), None);
        // Square, op(A) gathered: rows (op(B), copied, is packed twice).
        assert_eq!(plan(1024, 1024, 1024, false, true, 2), Some(Cut::Rows(512)));
        // Blocks are whole tiles; the last is shorter.
        assert_eq!(plan(784, 256, 512, true, true, 2), Some(Cut::Rows(400)));
        // Few rows, many columns: columns.
        assert_eq!(plan(16, 1024, 4096, true, true, 2), Some(Cut::Cols(2048)));
        // Too narrow to cut.
        assert_eq!(plan(4096, 1024, 1, false, true, 2).map(|c| matches!(c, Cut::Rows(_))), Some(true));
        assert_eq!(plan(1, 4096, 4096, false, true, 2), Some(Cut::Cols(2048)));
    }
}

/// C[i] = op(A[i])·op(B[i]) for 3-d `a` (batch, ·, ·) and `b` of one batch size, each
/// product as `matmul`'s on the operands' own memory.
pub fn batch_matmul(a: &Array, b: &Array, ta: bool, tb: bool) -> Result<Array> {
    if a.dtype != b.dtype {
        bail!(DType, "batch_dot operands have different dtypes: {} and {}", a.dtype.name(), b.dtype.name());
    }
    let batch = a.shape[0];
    let m = if ta { a.shape[2] } else { a.shape[1] };
    let n = if tb { b.shape[1] } else { b.shape[2] };
    let len = checked_size(&[batch, m, n])?;
    let k = if ta { a.shape[1] } else { a.shape[2] };
    if len == 0 || k == 0 {
        // Nothing to multiply (and maybe 2^40 empty products not to walk).
        return Ok(Array::from_buffer(crate::array::storage::Buffer::filled(a.dtype, len, 0.0)?, vec![batch, m, n]));
    }
    let view = |x: &Array, i: usize| Array {
        storage: x.storage.clone(),
        offset: x.offset + i * x.shape[1] * x.shape[2],
        shape: crate::array::shape::shape_of(&x.shape[1..]),
        dtype: x.dtype,
    };
    fn gather<T: Element>(parts: &[Array], len: usize) -> Result<Vec<T>> {
        let mut out = try_vec::<T>(len)?;
        for p in parts {
            out.extend(p.to_vec::<T>());
        }
        Ok(out)
    }
    let mut parts = Vec::with_capacity(batch);
    for i in 0..batch {
        parts.push(matmul(&view(a, i), &view(b, i), ta, tb)?);
    }
    let shape = vec![batch, m, n];
    Ok(match a.dtype {
        DType::F32 => from_vec(gather::<f32>(&parts, len)?, shape),
        DType::F64 => from_vec(gather::<f64>(&parts, len)?, shape),
        other => bail!(DType, "batch_dot of {} arrays: computed on float32 and float64 only; astype to float32 first", other.name()),
    })
}
