//! Packing: a block of an operand copied into slivers of `W` lanes (MR rows of A, NR columns of
//! B), each laid out depth step by depth step, so that the microkernel reads both operands
//! in order, once, from contiguous memory whatever the strides of the source.
//!
//! Packing is a few percent of a product's time, more where op(A) has few rows for its
//! depth (W4's X·W1 packs all 784×512 of W1 for 256 rows of X): the AVX2 kernel packs with
//! 32-byte moves, and rows of a row-major A or columns of a transposed B (lanes apart, depth
//! contiguous) through 8×8 transposes in registers instead of a scalar gather.

/// Packs `lanes` lanes of `depth` values from `src`, where lane `l` at depth `p` is at
/// `src + l·ls + p·ds`: sliver `s` gets lanes [s·W, s·W + W) as `depth` groups of `W` values,
/// the lanes past `lanes` zero (the kernel computes them and the caller drops them).
/// Rows of op(A) are lanes with `ls = rsa, ds = csa`; columns of op(B) with `ls = csb, ds = rsb`.
///
/// # Safety
/// Every lane and depth named is inside `src`'s allocation; `out` has room for
/// `lanes.div_ceil(W) · W · depth` values and overlaps nothing read.
pub unsafe fn pack<const W: usize>(lanes: usize, depth: usize, src: *const f32, ls: isize, ds: isize, out: *mut f32) {
    // SAFETY: the caller's contract.
    unsafe { pack_with::<W, false>(lanes, depth, src, ls, ds, out) }
}

/// `pack` compiled for AVX2, with the transposes where they apply: the same values.
///
/// # Safety
/// As `pack`, on a CPU with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn pack_avx2<const W: usize>(lanes: usize, depth: usize, src: *const f32, ls: isize, ds: isize, out: *mut f32) {
    // SAFETY: the caller's contract; the CPU has AVX2.
    unsafe { pack_with::<W, true>(lanes, depth, src, ls, ds, out) }
}

/// `pack`, with the AVX2 transposes when `AVX2` (the caller then runs with AVX2 enabled).
#[inline(always)]
unsafe fn pack_with<const W: usize, const AVX2: bool>(lanes: usize, depth: usize, src: *const f32, ls: isize, ds: isize, out: *mut f32) {
    let full = if ls == 1 { lanes / W } else { 0 };
    if full > 0 {
        // SAFETY: the first `full` slivers' lanes are inside `src`, their groups inside `out`.
        unsafe { contiguous_slivers::<W>(full, depth, src, ds, out) };
    }
    for (s, first) in (0..lanes).step_by(W).enumerate().skip(full) {
        // SAFETY: sliver s starts at lane `first` of `src` and at s·W·depth of `out`.
        unsafe {
            let src = src.offset(first as isize * ls);
            let out = out.add(s * W * depth);
            match W.min(lanes - first) {
                #[cfg(target_arch = "x86_64")]
                6 if AVX2 && W == 6 && ds == 1 => rows6_avx2(depth, src, ls, out),
                #[cfg(target_arch = "x86_64")]
                16 if AVX2 && W == 16 && ds == 1 => rows16_avx2(depth, src, ls, out),
                w if w == W => strided_lanes::<W>(depth, src, ls, ds, out),
                w => partial::<W>(w, depth, src, ls, ds, out),
            }
        }
    }
}

/// `slivers` full slivers whose lanes are adjacent in memory (rows of B, columns of a
/// transposed A), depth step by depth step: each step's lanes are read in one sequential run
/// across the slivers. Sliver by sliver instead, the reads stride through the source a line
/// or two per step, faster than the prefetchers follow: the product waited on those misses.
///
/// # Safety
/// As `pack`, for the first `slivers` slivers.
unsafe fn contiguous_slivers<const W: usize>(slivers: usize, depth: usize, src: *const f32, ds: isize, out: *mut f32) {
    for p in 0..depth {
        // SAFETY: W values of each sliver at depth p, into the p-th group of that sliver.
        unsafe {
            let row = src.offset(p as isize * ds);
            for s in 0..slivers {
                std::ptr::copy_nonoverlapping(row.add(s * W), out.add(s * W * depth + p * W), W);
            }
        }
    }
}

/// A full sliver whose lanes are apart (rows of a row-major A): each lane read along the
/// depth, which is contiguous in memory when `ds` is 1, and spread into every W-th value.
///
/// # Safety
/// As `pack`, for one sliver.
unsafe fn strided_lanes<const W: usize>(depth: usize, src: *const f32, ls: isize, ds: isize, out: *mut f32) {
    for l in 0..W {
        // SAFETY: lane l of the sliver, depth by depth, into position l of each group.
        unsafe {
            let lane = src.offset(l as isize * ls);
            for p in 0..depth {
                *out.add(p * W + l) = *lane.offset(p as isize * ds);
            }
        }
    }
}

/// Eight rows of eight values transposed: value j of row i becomes value i of row j.
///
/// # Safety
/// A CPU with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn transpose8(r: [std::arch::x86_64::__m256; 8]) -> [std::arch::x86_64::__m256; 8] {
    use std::arch::x86_64::*;
    // Pairs of rows interleaved, then pairs of pairs: each 128-bit half then holds one depth
    // of four rows (the low halves depths 0-3, the high halves 4-7).
    let t = [
        _mm256_unpacklo_ps(r[0], r[1]),
        _mm256_unpackhi_ps(r[0], r[1]),
        _mm256_unpacklo_ps(r[2], r[3]),
        _mm256_unpackhi_ps(r[2], r[3]),
        _mm256_unpacklo_ps(r[4], r[5]),
        _mm256_unpackhi_ps(r[4], r[5]),
        _mm256_unpacklo_ps(r[6], r[7]),
        _mm256_unpackhi_ps(r[6], r[7]),
    ];
    let u = [
        _mm256_shuffle_ps::<0x44>(t[0], t[2]),
        _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
        _mm256_shuffle_ps::<0x44>(t[1], t[3]),
        _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
        _mm256_shuffle_ps::<0x44>(t[4], t[6]),
        _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
        _mm256_shuffle_ps::<0x44>(t[5], t[7]),
        _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
    ];
    // Depth j: rows 0-3 from u[j % 4]'s half j / 4, rows 4-7 from u[j % 4 + 4]'s.
    [
        _mm256_permute2f128_ps::<0x20>(u[0], u[4]),
        _mm256_permute2f128_ps::<0x20>(u[1], u[5]),
        _mm256_permute2f128_ps::<0x20>(u[2], u[6]),
        _mm256_permute2f128_ps::<0x20>(u[3], u[7]),
        _mm256_permute2f128_ps::<0x31>(u[0], u[4]),
        _mm256_permute2f128_ps::<0x31>(u[1], u[5]),
        _mm256_permute2f128_ps::<0x31>(u[2], u[6]),
        _mm256_permute2f128_ps::<0x31>(u[3], u[7]),
    ]
}

/// A full sliver of 6 lanes apart whose depth is contiguous (6 rows of a row-major A), 8
/// depth steps at a time: the 6 rows' next 8 values (and two rows of zeros) are transposed in
/// registers into 8 groups of 6. Each group is stored as 8 values, the last 2 overwritten by
/// the next group's store, but the eighth, stored exactly: nothing past the sliver is written.
///
/// # Safety
/// As `pack`, for one sliver of 6 lanes with `ds` 1, on a CPU with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn rows6_avx2(depth: usize, src: *const f32, ls: isize, out: *mut f32) {
    use std::arch::x86_64::*;
    let whole = depth / 8 * 8;
    for p in (0..whole).step_by(8) {
        // SAFETY: lanes 0..6 at depths p..p + 8 are inside `src`; groups p..p + 8 of `out`
        // are values [6p, 6p + 48) of the sliver, and the stores below write no further.
        unsafe {
            let row = |l: isize| _mm256_loadu_ps(src.offset(l * ls).add(p));
            let zero = _mm256_setzero_ps();
            let groups = transpose8([row(0), row(1), row(2), row(3), row(4), row(5), zero, zero]);
            let at = out.add(p * 6);
            for (j, g) in groups.iter().take(7).enumerate() {
                _mm256_storeu_ps(at.add(j * 6), *g);
            }
            let last = at.add(42);
            _mm_storeu_ps(last, _mm256_castps256_ps128(groups[7]));
            _mm_store_sd(last.add(4).cast(), _mm_castps_pd(_mm256_extractf128_ps::<1>(groups[7])));
        }
    }
    // SAFETY: the depths left, one value at a time (`ds` is 1: depth `whole` is at src + whole).
    unsafe { strided_lanes::<6>(depth - whole, src.add(whole), ls, 1, out.add(whole * 6)) };
}

/// A full sliver of 16 lanes apart whose depth is contiguous (16 rows of a row-major matrix
/// read as the columns of op(B) = its transpose, as FullyConnected's weight and the backward's
/// G·Bᵀ give them), 8 depth steps at a time, through two 8×8 transposes.
///
/// # Safety
/// As `pack`, for one sliver of 16 lanes with `ds` 1, on a CPU with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn rows16_avx2(depth: usize, src: *const f32, ls: isize, out: *mut f32) {
    use std::arch::x86_64::*;
    let whole = depth / 8 * 8;
    for p in (0..whole).step_by(8) {
        // SAFETY: lanes 0..16 at depths p..p + 8 are inside `src`; groups p..p + 8 of `out`
        // are values [16p, 16p + 128) of the sliver.
        unsafe {
            let row = |l: isize| _mm256_loadu_ps(src.offset(l * ls).add(p));
            let low = transpose8([row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7)]);
            let high = transpose8([row(8), row(9), row(10), row(11), row(12), row(13), row(14), row(15)]);
            let at = out.add(p * 16);
            for j in 0..8 {
                _mm256_storeu_ps(at.add(j * 16), low[j]);
                _mm256_storeu_ps(at.add(j * 16 + 8), high[j]);
            }
        }
    }
    // SAFETY: the depths left, one value at a time (`ds` is 1: depth `whole` is at src + whole).
    unsafe { strided_lanes::<16>(depth - whole, src.add(whole), ls, 1, out.add(whole * 16)) };
}

/// The last sliver, with `w < W` lanes: the rest of each group is zero.
///
/// # Safety
/// As `pack`, for one sliver of `w` lanes.
unsafe fn partial<const W: usize>(w: usize, depth: usize, src: *const f32, ls: isize, ds: isize, out: *mut f32) {
    for p in 0..depth {
        for l in 0..W {
            // SAFETY: lanes below w are inside the source; the group has W values.
            unsafe { *out.add(p * W + l) = if l < w { *src.offset(l as isize * ls + p as isize * ds) } else { 0.0 } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slivers_hold_the_lanes_depth_by_depth_padded_with_zeros() {
        // A 5×3 row-major matrix (row stride 4: one value of padding per row).
        let src: Vec<f32> = (0..20).map(|x| x as f32).collect();
        let at = |r: usize, c: usize| src[r * 4 + c];
        // Rows as lanes (op(A) with rsa 4, csa 1), slivers of 2: rows 0-1, 2-3, 4 and zero.
        let mut out = vec![f32::NAN; 3 * 2 * 3];
        // SAFETY: the lanes (rows < 5) and depths (columns < 3) are inside `src`; `out` holds 3 slivers.
        unsafe { pack::<2>(5, 3, src.as_ptr(), 4, 1, out.as_mut_ptr()) };
        let want: Vec<f32> = (0..3).flat_map(|s| (0..3).flat_map(move |p| (0..2).map(move |l| (s * 2 + l, p)))).map(|(r, p)| if r < 5 { at(r, p) } else { 0.0 }).collect();
        assert_eq!(out, want);
        // Columns as lanes (op(B) with csb 1, rsb 4), slivers of 2: columns 0-1 and 2 and zero.
        let mut out = vec![f32::NAN; 2 * 2 * 5];
        // SAFETY: the lanes (columns < 3) and depths (rows < 5) are inside `src`; `out` holds 2 slivers.
        unsafe { pack::<2>(3, 5, src.as_ptr(), 1, 4, out.as_mut_ptr()) };
        let want: Vec<f32> = (0..2).flat_map(|s| (0..5).flat_map(move |p| (0..2).map(move |l| (p, s * 2 + l)))).map(|(p, c)| if c < 3 { at(p, c) } else { 0.0 }).collect();
        assert_eq!(out, want);
    }

    /// The AVX2 packing writes what the plain one does, and nothing past the slivers, for
    /// rows and columns as lanes, contiguous or apart, at every depth around the transposes'
    /// 8 steps and every lane count around whole slivers.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_packing_is_the_plain_packing() {
        if crate::cpu::level::detected() < crate::cpu::level::Level::Avx2 {
            return;
        }
        fn both<const W: usize>(lanes: usize, depth: usize, lanes_apart: bool) {
            // A row-major matrix with one value of padding per row: lanes are its rows
            // (apart, depth contiguous) or its columns (contiguous, depth apart).
            let (rows, cols) = if lanes_apart { (lanes, depth) } else { (depth, lanes) };
            let ld = cols + 1;
            let src: Vec<f32> = (0..rows * ld).map(|i| i as f32 * 0.5 - 3.0).collect();
            let (ls, ds) = if lanes_apart { (ld as isize, 1) } else { (1, ld as isize) };
            let len = lanes.div_ceil(W) * W * depth;
            let sentinel = -777.0;
            let (mut plain, mut fast) = (vec![sentinel; len + 16], vec![sentinel; len + 16]);
            // SAFETY: the lanes and depths are inside `src`; each output has room for the slivers.
            unsafe {
                pack::<W>(lanes, depth, src.as_ptr(), ls, ds, plain.as_mut_ptr());
                pack_avx2::<W>(lanes, depth, src.as_ptr(), ls, ds, fast.as_mut_ptr());
            }
            assert_eq!(plain, fast, "W {W}, {lanes} lanes, depth {depth}, lanes apart {lanes_apart}");
            assert!(fast[len..].iter().all(|&x| x == sentinel));
        }
        for depth in [0, 1, 7, 8, 9, 15, 16, 17, 40] {
            for lanes in [1, 5, 6, 7, 12, 13, 16, 17, 33] {
                for apart in [false, true] {
                    both::<6>(lanes, depth, apart);
                    both::<16>(lanes, depth, apart);
                }
            }
        }
    }
}
