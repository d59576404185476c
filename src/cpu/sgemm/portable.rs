//! The portable microkernel: a 4×8 tile of C in plain Rust. With the baseline SSE2 of x86-64
//! the compiler keeps the 32 accumulators in 8 xmm registers and each row's update is two
//! vector multiplies and adds: 8 + 2 (B) + 1 (A's broadcast) of the 16 registers. Rust does
//! not fuse a multiply and an add, so the sums are rounded as written on every target.

use super::Micro;

pub struct Portable;

impl Micro<4, 8> for Portable {
    unsafe fn tile(k: usize, a: *const f32, b: *const f32, c: *mut f32, rsc: isize, add: bool) {
        // SAFETY: `a` holds 4·k values and `b` 8·k (`Micro::tile`'s contract).
        let (a, b) = unsafe { (std::slice::from_raw_parts(a, 4 * k), std::slice::from_raw_parts(b, 8 * k)) };
        let acc = product_4x8(a, b);
        for (i, row) in acc.iter().enumerate() {
            // SAFETY: row i of the tile, 8 values, is writable (and readable when adding) and
            // overlaps neither sliver.
            let out = unsafe { std::slice::from_raw_parts_mut(c.offset(i as isize * rsc), 8) };
            if add {
                out.iter_mut().zip(row).for_each(|(o, x)| *o += x);
            } else {
                out.copy_from_slice(row);
            }
        }
    }
}

/// The 4×8 product of a 4-row sliver of A and an 8-column sliver of B, as deep as they are.
#[inline(always)]
fn product_4x8(a: &[f32], b: &[f32]) -> [[f32; 8]; 4] {
    let mut acc = [[0.0f32; 8]; 4];
    for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(8)) {
        for (row, &xi) in acc.iter_mut().zip(x) {
            for (s, &yj) in row.iter_mut().zip(y) {
                *s += xi * yj;
            }
        }
    }
    acc
}
