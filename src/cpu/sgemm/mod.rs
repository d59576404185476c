//! Float32 matrix products, C (m×n, column stride 1) = op(A)·op(B) with beta = 0, on the kernel
//! of the level in use (`cpu::level`), so that a ceiling reaches them: at AVX-512
//! matrixmultiply's sgemm (its 16×16 AVX-512 kernel, with the blocking `.cargo/config.toml`
//! sets at build time); below it a kernel of our own, AVX2+FMA or portable, in BLIS's loops:
//!
//! ```text
//! for each NC columns of B:                      panel of op(B), KC×NC, packed: stays in L3
//!     for each KC of the depth:
//!         for each MC rows of A:                 block of op(A), MC×KC, packed: stays in L2
//!             for each NR-wide sliver of B, each MR-tall sliver of A:
//!                 microkernel: the MR×NR tile of C in registers, KC deep
//! ```
//!
//! The first KC block of the depth stores the tile, the later ones add to it: C is never read
//! before it is written. Tiles past C's edge are computed into a small tile on the stack and
//! their valid part copied, but for tiles short of rows only, which the AVX2 kernel computes
//! in place with fewer rows. The blocking is chosen at run time from the caches (`blocking`).

mod avx2;
mod blocking;
mod pack;
mod portable;

use std::cell::Cell;

use crate::cpu::level::{self, Level};
use crate::error::Result;
pub use blocking::Blocking;

/// Which code computes a float32 product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// matrixmultiply's sgemm, which picks its kernel from the CPU (AVX-512 where it has it).
    MatrixMultiply,
    /// The 6×16 AVX2+FMA microkernel.
    Avx2,
    /// The 4×8 microkernel in plain Rust.
    Portable,
}

impl Kernel {
    /// The kernel of each level: matrixmultiply's tuned AVX-512 kernel at AVX-512, ours below.
    pub fn at(level: Level) -> Kernel {
        match level {
            Level::Avx512 => Kernel::MatrixMultiply,
            Level::Avx2 => Kernel::Avx2,
            Level::Portable => Kernel::Portable,
        }
    }

    /// The kernel float32 products run on now.
    pub fn current() -> Kernel {
        Kernel::at(level::level())
    }

    pub fn name(self) -> &'static str {
        match self {
            Kernel::MatrixMultiply => "matrixmultiply-avx512",
            Kernel::Avx2 => "ad-avx2-6x16",
            Kernel::Portable => "ad-portable-4x8",
        }
    }

    /// Whether this CPU runs the kernel (matrixmultiply and the portable one run anywhere).
    pub fn runs_here(self) -> bool {
        self != Kernel::Avx2 || level::detected() >= Level::Avx2
    }
}

/// C (m×n, row stride `rsc`, column stride 1) = op(A)·op(B) on `kernel`, or on the portable
/// kernel where this CPU does not run it. Element (i, l) of op(A) is at `a + i·rsa + l·csa`,
/// element (l, j) of op(B) at `b + l·rsb + j·csb`. C is written, never read. Fails only when
/// the packing buffers cannot be allocated.
///
/// # Safety
/// The pointers and strides describe an m×k op(A), a k×n op(B) and an m×n C inside their
/// allocations, and C overlaps neither operand.
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm(kernel: Kernel, m: usize, k: usize, n: usize, a: *const f32, rsa: isize, csa: isize, b: *const f32, rsb: isize, csb: isize, c: *mut f32, rsc: isize) -> Result<()> {
    let ops = Operands { a, rsa, csa, b, rsb, csb, c, rsc };
    // SAFETY: the caller's contract; the AVX2 kernel runs only where the CPU has AVX2 and FMA.
    unsafe {
        match kernel {
            Kernel::MatrixMultiply => {
                matrixmultiply::sgemm(m, k, n, 1.0, a, rsa, csa, b, rsb, csb, 0.0, c, rsc, 1);
                Ok(())
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 if kernel.runs_here() => blocked::<6, 16, avx2::Avx2>(Blocking::for_tile(6, 16), (m, k, n), ops),
            _ => blocked::<4, 8, portable::Portable>(Blocking::for_tile(4, 8), (m, k, n), ops),
        }
    }
}

/// A microkernel: an MR×NR tile of C from an MR-tall sliver of op(A) and an NR-wide sliver of
/// op(B), packed (`pack`).
trait Micro<const MR: usize, const NR: usize> {
    /// The tile at `c` (row stride `rsc`) = (or += when `add`) the product of the slivers,
    /// `k` deep.
    ///
    /// # Safety
    /// The CPU runs the kernel; `a` holds MR·k values, `b` NR·k, the MR×NR tile at `c` is
    /// writable and overlaps neither.
    unsafe fn tile(k: usize, a: *const f32, b: *const f32, c: *mut f32, rsc: isize, add: bool);

    /// The first `rows` (< MR) rows of a tile, as `tile` computes them, where the kernel has
    /// a version for so few rows; false, with nothing done, where it has not (the tile is then
    /// computed whole on the stack: `edge`).
    ///
    /// # Safety
    /// As `tile`, with only `rows` rows of C's tile writable.
    #[allow(clippy::too_many_arguments)]
    unsafe fn short_tile(_rows: usize, _k: usize, _a: *const f32, _b: *const f32, _c: *mut f32, _rsc: isize, _add: bool) -> bool {
        false
    }

    /// Packs a block of either operand for the kernel (`pack::pack`'s contract).
    ///
    /// # Safety
    /// As `pack::pack`, and the CPU runs the kernel.
    unsafe fn pack<const W: usize>(lanes: usize, depth: usize, src: *const f32, ls: isize, ds: isize, out: *mut f32) {
        // SAFETY: the caller's contract.
        unsafe { pack::pack::<W>(lanes, depth, src, ls, ds, out) }
    }
}

/// The largest tile (MR·NR) of any kernel: an edge tile is computed into one this size.
const MAX_TILE: usize = 96;

/// The operands as `sgemm` takes them.
#[derive(Clone, Copy)]
struct Operands {
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    c: *mut f32,
    rsc: isize,
}

/// BLIS's loops around the microkernel `K`, with blocks of `blk`.
///
/// # Safety
/// As `sgemm`'s, and the CPU runs `K`.
unsafe fn blocked<const MR: usize, const NR: usize, K: Micro<MR, NR>>(blk: Blocking, (m, k, n): (usize, usize, usize), o: Operands) -> Result<()> {
    const { assert!(MR * NR <= MAX_TILE) };
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        // SAFETY: C's m rows of n values are writable.
        unsafe { zero(m, n, o.c, o.rsc) };
        return Ok(());
    }
    // Blocks no larger than the product (a small product packs, and keeps, a small buffer),
    // and of equal sizes along each dimension.
    let mc = balanced(m, blk.mc, MR);
    let kc = balanced(k, blk.kc, 1);
    let nc = balanced(n, blk.nc, NR);
    let a_len = mc.next_multiple_of(MR) * kc;
    let b_len = nc.next_multiple_of(NR) * kc;
    with_buffers(a_len, b_len, |ap, bp| {
        for jc in (0..n).step_by(nc) {
            let ncb = nc.min(n - jc);
            for pc in (0..k).step_by(kc) {
                let kcb = kc.min(k - pc);
                // SAFETY (all below): the blocks are inside the operands (jc < n, pc < k,
                // ic < m); the buffers hold a block of each; C's block is inside C.
                unsafe {
                    K::pack::<NR>(ncb, kcb, o.b.offset(pc as isize * o.rsb + jc as isize * o.csb), o.csb, o.rsb, bp);
                    for ic in (0..m).step_by(mc) {
                        let mcb = mc.min(m - ic);
                        K::pack::<MR>(mcb, kcb, o.a.offset(ic as isize * o.rsa + pc as isize * o.csa), o.rsa, o.csa, ap);
                        let c = o.c.offset(ic as isize * o.rsc).add(jc);
                        tiles::<MR, NR, K>((mcb, kcb, ncb), ap, bp, c, o.rsc, pc > 0);
                    }
                }
            }
        }
    })
}

/// The block size that cuts `len` into as many blocks as `block` would, all of one size (a
/// multiple of `step`) but the last: 784 deep with KC 384 is cut 264 + 264 + 256, not
/// 384 + 384 + 16, whose thin last block would load and store C's tiles for little work.
fn balanced(len: usize, block: usize, step: usize) -> usize {
    let block = block.max(1);
    let blocks = len.div_ceil(block).max(1);
    len.div_ceil(blocks).next_multiple_of(step).max(1)
}

/// The microkernel over every tile of an mc×nc block of C from packed blocks of A and B.
///
/// # Safety
/// `ap` holds mc (rounded up to MR) × kc packed values, `bp` kc × nc (rounded up to NR); the
/// mc×nc block at `c` (row stride `rsc`) is writable; the CPU runs `K`.
unsafe fn tiles<const MR: usize, const NR: usize, K: Micro<MR, NR>>((mc, kc, nc): (usize, usize, usize), ap: *const f32, bp: *const f32, c: *mut f32, rsc: isize, add: bool) {
    for jr in (0..nc).step_by(NR) {
        let cols = NR.min(nc - jr);
        for ir in (0..mc).step_by(MR) {
            let rows = MR.min(mc - ir);
            // SAFETY: sliver ir / MR of A and jr / NR of B are in the buffers; the tile's
            // valid part is inside C's block.
            unsafe {
                let (a, b) = (ap.add(ir * kc), bp.add(jr * kc));
                let c = c.offset(ir as isize * rsc).add(jr);
                if rows == MR && cols == NR {
                    K::tile(kc, a, b, c, rsc, add);
                } else if cols < NR || !K::short_tile(rows, kc, a, b, c, rsc, add) {
                    edge::<MR, NR, K>(kc, a, b, (rows, cols), c, rsc, add);
                }
            }
        }
    }
}

/// A tile past C's edge: computed whole into a tile on the stack, and its `rows`×`cols`
/// valid part stored into (or added to) C.
///
/// # Safety
/// As `Micro::tile`, with only `rows`×`cols` of C's tile writable.
unsafe fn edge<const MR: usize, const NR: usize, K: Micro<MR, NR>>(kc: usize, a: *const f32, b: *const f32, (rows, cols): (usize, usize), c: *mut f32, rsc: isize, add: bool) {
    let mut t = [0.0f32; MAX_TILE];
    // SAFETY: the stack tile holds MR rows of NR values (MR·NR ≤ MAX_TILE).
    unsafe { K::tile(kc, a, b, t.as_mut_ptr(), NR as isize, false) };
    for (i, row) in t.chunks_exact(NR).take(rows).enumerate() {
        // SAFETY: row i < rows of the tile has `cols` valid values in C.
        let out = unsafe { std::slice::from_raw_parts_mut(c.offset(i as isize * rsc), cols) };
        if add {
            out.iter_mut().zip(row).for_each(|(o, x)| *o += x);
        } else {
            out.copy_from_slice(&row[..cols]);
        }
    }
}

/// C = 0, for a product with no depth.
///
/// # Safety
/// C's m rows of n values (row stride `rsc`) are writable.
unsafe fn zero(m: usize, n: usize, c: *mut f32, rsc: isize) {
    for i in 0..m {
        // SAFETY: row i of C.
        unsafe { std::ptr::write_bytes(c.offset(i as isize * rsc), 0, n) };
    }
}

thread_local! {
    /// The packing buffers of this thread, kept between products: allocating (and faulting in)
    /// a few MiB per product would cost as much as a 256³ product's packing. At most
    /// MC×KC + KC×NC values, bounded by the blocking.
    static BUFFERS: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` on two packing buffers of `a_len` and `b_len` values, each aligned to a cache line
/// (64 bytes) so that a 16-value step of B is one line. The thread's buffer is taken for the
/// call (a product nested in `f` would allocate its own) and put back after it, grown if it
/// was too small; a failed allocation is an `Alloc` error.
fn with_buffers(a_len: usize, b_len: usize, f: impl FnOnce(*mut f32, *mut f32)) -> Result<()> {
    const LINE: usize = 16;
    let len = a_len + b_len + 2 * LINE;
    let mut buf = BUFFERS.try_with(Cell::take).unwrap_or_default();
    if buf.len() < len {
        // The old contents need no copy: drop them before allocating the larger buffer.
        drop(buf);
        buf = crate::cpu::loops::try_alloc(len)?;
        buf.resize(len, 0.0);
    }
    let base = buf.as_mut_ptr();
    // SAFETY: each buffer starts at most LINE - 1 values past a line boundary and a_len is
    // rounded up to whole lines, so both end inside `len` values.
    let (ap, bp) = unsafe {
        let ap = base.add(base.align_offset(64));
        (ap, ap.add(a_len.next_multiple_of(LINE)))
    };
    f(ap, bp);
    // A thread being torn down keeps no buffer.
    let _ = BUFFERS.try_with(|b| b.set(buf));
    Ok(())
}

#[cfg(test)]
mod tests;
