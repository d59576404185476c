//! The AVX2+FMA microkernel: a 6×16 tile of C in 12 ymm registers. Each depth step loads 16
//! values of B (two registers) and broadcasts 6 of A, for 12 FMAs: 12 independent accumulators
//! cover the FMA latency (4–5 cycles) at two FMAs per cycle, and the 8 loads of a step (6
//! cycles at that rate) fit two load ports. 15 registers in all, no spills.

use std::arch::x86_64::*;

use super::Micro;

pub struct Avx2;

impl Micro<6, 16> for Avx2 {
    unsafe fn tile(k: usize, a: *const f32, b: *const f32, c: *mut f32, rsc: isize, add: bool) {
        // SAFETY: `Micro::tile`'s contract; the caller checked the CPU has AVX2 and FMA.
        unsafe { tile_rows::<6>(k, a, b, c, rsc, add) }
    }

    unsafe fn short_tile(rows: usize, k: usize, a: *const f32, b: *const f32, c: *mut f32, rsc: isize, add: bool) -> bool {
        // SAFETY: `Micro::short_tile`'s contract: C's first `rows` rows are writable.
        unsafe {
            match rows {
                1 => tile_rows::<1>(k, a, b, c, rsc, add),
                2 => tile_rows::<2>(k, a, b, c, rsc, add),
                3 => tile_rows::<3>(k, a, b, c, rsc, add),
                4 => tile_rows::<4>(k, a, b, c, rsc, add),
                5 => tile_rows::<5>(k, a, b, c, rsc, add),
                _ => return false,
            }
        }
        true
    }

    unsafe fn pack<const W: usize>(lanes: usize, depth: usize, src: *const f32, ls: isize, ds: isize, out: *mut f32) {
        // SAFETY: `pack::pack`'s contract; the CPU has AVX2 (it runs this kernel).
        unsafe { super::pack::pack_avx2::<W>(lanes, depth, src, ls, ds, out) }
    }
}

/// The first R rows of the 6×16 tile of C at `c` = (or += when `add`) the product of the
/// 6-row sliver of A and the 16-column sliver of B, `k` deep. Fewer than 6 rows for the last
/// tile of a block whose rows are not a multiple of 6: its rows past C's edge are neither
/// computed nor stored, and each element goes through the same multiply-adds as in a whole
/// tile (the same bits).
///
/// # Safety
/// AVX2 and FMA; R ≤ 6; `a` holds 6·k values, `b` 16·k, and C's R rows of 16 (row stride
/// `rsc`) are writable.
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_rows<const R: usize>(k: usize, a: *const f32, b: *const f32, c: *mut f32, rsc: isize, add: bool) {
    // C's rows are read or written after the loop: fetched now, their misses (C is often
    // too large for L2) overlap the loop instead of stalling the stores.
    for i in 0..R {
        // SAFETY: a prefetch does not fault; the addresses are the tile's first and last values.
        unsafe {
            let row = c.offset(i as isize * rsc);
            _mm_prefetch::<_MM_HINT_T0>(row.cast());
            _mm_prefetch::<_MM_HINT_T0>(row.add(15).cast());
        }
    }
    let mut acc = [[_mm256_setzero_ps(); 2]; R];
    let (mut a, mut b) = (a, b);
    // One depth step: the accumulators take row i of A times the 16 values of B.
    macro_rules! step {
        () => {{
            // SAFETY: a step reads 6 values of A and 16 of B, inside the slivers for k steps.
            let (b0, b1) = unsafe { (_mm256_loadu_ps(b), _mm256_loadu_ps(b.add(8))) };
            for (i, row) in acc.iter_mut().enumerate() {
                // SAFETY: as above.
                let x = unsafe { _mm256_broadcast_ss(&*a.add(i)) };
                row[0] = _mm256_fmadd_ps(x, b0, row[0]);
                row[1] = _mm256_fmadd_ps(x, b1, row[1]);
            }
            // SAFETY: one past the step at most, inside or just past the slivers.
            unsafe {
                a = a.add(6);
                b = b.add(16);
            }
        }};
    }
    // Unrolled by 4: the loop's counter and branch are amortised over 48 FMAs.
    for _ in 0..k / 4 {
        step!();
        step!();
        step!();
        step!();
    }
    for _ in 0..k % 4 {
        step!();
    }
    for (i, row) in acc.iter().enumerate() {
        // SAFETY: row i of the tile, 16 values, is writable (and readable when adding).
        unsafe {
            let out = c.offset(i as isize * rsc);
            let (mut lo, mut hi) = (row[0], row[1]);
            if add {
                lo = _mm256_add_ps(lo, _mm256_loadu_ps(out));
                hi = _mm256_add_ps(hi, _mm256_loadu_ps(out.add(8)));
            }
            _mm256_storeu_ps(out, lo);
            _mm256_storeu_ps(out.add(8), hi);
        }
    }
}
