//! Packing: a block of an operand copied into slivers of `W` lanes (MR rows of A, NR columns of
//! B), each laid out depth step by depth step, so that the microkernel reads both operands
//! in order, once, from contiguous memory whatever the strides of the source.

/// Packs `lanes` lanes of `depth` values from `src`, where lane `l` at depth `p` is at
/// `src + l·ls + p·ds`: sliver `s` gets lanes [s·W, s·W + W) as `depth` groups of `W` values,
/// the lanes past `lanes` zero (the kernel computes them and the caller drops them).
/// Rows of op(A) are lanes with `ls = rsa, ds = csa`; columns of op(B) with `ls = csb, ds = rsb`.
///
/// # Safety
/// Every lane and depth named is inside `src`'s allocation; `out` has room for
/// `lanes.div_ceil(W) · W · depth` values and overlaps nothing read.
pub unsafe fn pack<const W: usize>(lanes: usize, depth: usize, src: *const f32, ls: isize, ds: isize, out: *mut f32) {
    for (s, first) in (0..lanes).step_by(W).enumerate() {
        // SAFETY: sliver s starts at lane `first` of `src` and at s·W·depth of `out`.
        unsafe {
            let src = src.offset(first as isize * ls);
            let out = out.add(s * W * depth);
            match W.min(lanes - first) {
                w if w == W && ls == 1 => contiguous_lanes::<W>(depth, src, ds, out),
                w if w == W => strided_lanes::<W>(depth, src, ls, ds, out),
                w => partial::<W>(w, depth, src, ls, ds, out),
            }
        }
    }
}

/// A full sliver whose lanes are adjacent in memory (rows of B, columns of a transposed A):
/// one copy of W values per depth step.
///
/// # Safety
/// As `pack`, for one sliver.
unsafe fn contiguous_lanes<const W: usize>(depth: usize, src: *const f32, ds: isize, out: *mut f32) {
    for p in 0..depth {
        // SAFETY: W values at depth p of the sliver, into the p-th group of `out`.
        unsafe { std::ptr::copy_nonoverlapping(src.offset(p as isize * ds), out.add(p * W), W) }
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
}
