//! Moving large arrays through memory. A result much larger than the caches is evicted
//! before anything reads it again; written the usual way, each of its cache lines is first
//! read from memory (the core owns a line before writing part of it), so writing n bytes moves
//! 2n. Non-temporal stores write whole lines from the core's write-combining buffers and move
//! n. Reads are asked for ahead (`prefetch`) where the hardware would not. The values are the
//! same either way.

/// Whether a result of `bytes` is written around the caches.
pub(crate) fn streams(bytes: usize) -> bool {
    bytes >= threshold()
}

/// Bytes from which a result is streamed: from a quarter of the last-level cache (its size
/// read from the system, as for the product's blocking), since the result's operands, at
/// least as large, and the other cores' data share that cache, and a result that size is
/// evicted before it is read again. `AD_STREAM_MIN=bytes|off` sets it, for measurements.
fn threshold() -> usize {
    static BYTES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *BYTES.get_or_init(|| {
        let quarter = super::caches::caches().l3 / 4;
        match std::env::var("AD_STREAM_MIN") {
            Ok(v) if v.trim() == "off" => usize::MAX,
            Ok(v) => v.trim().parse().unwrap_or(quarter),
            Err(_) => quarter,
        }
    })
}

/// Copies `src` to `dst` (room for `src.len()` values, not overlapping it) with
/// non-temporal stores where the CPU has them. Call `fence` before another thread may read
/// what was written.
///
/// # Safety
/// `dst` is valid for writes of `src.len()` values of `T`, and aligned for `T`.
#[inline]
pub(crate) unsafe fn copy<T: Copy>(src: &[T], dst: *mut T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_stream_si128};
        let bytes = std::mem::size_of_val(src);
        let (from, to) = (src.as_ptr().cast::<u8>(), dst.cast::<u8>());
        // Up to the first cache line boundary of dst, then whole lines, four 16-byte stores
        // each (SSE2: every x86-64 CPU has them), then the rest. A line written whole and at
        // once leaves its write-combining buffer at once: streamed 16 bytes at a time without
        // regard to lines, W5 took a fifth longer.
        let head = (to.align_offset(64)).min(bytes);
        let body = (bytes - head) / 64 * 64;
        std::ptr::copy_nonoverlapping(from, to, head);
        let mut i = head;
        while i < head + body {
            for k in (0..64).step_by(16) {
                _mm_stream_si128(to.add(i + k).cast::<__m128i>(), _mm_loadu_si128(from.add(i + k).cast::<__m128i>()));
            }
            i += 64;
        }
        std::ptr::copy_nonoverlapping(from.add(i), to.add(i), bytes - i);
    }
    #[cfg(not(target_arch = "x86_64"))]
    std::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len());
}

/// Orders the non-temporal stores of this thread before its later writes (the signal that a
/// piece is done): they are weakly ordered otherwise.
#[inline]
pub(crate) fn fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of x86-64.
    unsafe {
        std::arch::x86_64::_mm_sfence()
    };
}

/// Asks for `values` to be brought into the caches ahead of their reads. The hardware's
/// prefetchers stop at each 4 KiB page, so a loop that reads a page of an array and then
/// works in cache for a while finds the next page in memory, and waits for it.
#[inline(always)]
pub(crate) fn prefetch<T>(values: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let (start, bytes) = (values.as_ptr().cast::<i8>(), std::mem::size_of_val(values));
        for offset in (0..bytes).step_by(64) {
            // SAFETY: a prefetch reads nothing and faults on nothing; the address is inside
            // `values`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.add(offset)) };
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every length and every alignment of the destination, with its head before the first
    /// cache line boundary and its tail after the last: each value lands where it belongs and
    /// nothing around it is touched.
    #[test]
    fn copies_every_length_at_every_alignment() {
        let src: Vec<f32> = (0..200).map(|i| i as f32 + 0.5).collect();
        for offset in 0..17 {
            for len in 0..100 {
                let mut dst = vec![-1.0f32; 120];
                // SAFETY: dst has room for offset + len ≤ 107 values.
                unsafe { super::copy(&src[3..3 + len], dst.as_mut_ptr().add(offset)) };
                super::fence();
                assert!(dst[..offset].iter().all(|&v| v == -1.0), "before, offset {offset} len {len}");
                assert_eq!(&dst[offset..offset + len], &src[3..3 + len], "offset {offset} len {len}");
                assert!(dst[offset + len..].iter().all(|&v| v == -1.0), "after, offset {offset} len {len}");
            }
        }
        let wide: Vec<f64> = (0..50).map(|i| i as f64 * 1.5).collect();
        let mut out = vec![0.0f64; 51];
        // SAFETY: out has room for 1 + 49 values.
        unsafe { super::copy(&wide[1..], out.as_mut_ptr().add(1)) };
        assert_eq!(&out[1..50], &wide[1..]);
    }

    #[test]
    fn prefetch_reads_nothing_it_may_not() {
        // The last element of an allocation, and an empty slice at its end.
        let v = vec![1u8; 4097];
        super::prefetch(&v[4096..]);
        super::prefetch(&v[4097..]);
        super::prefetch(&v[..]);
    }
}
