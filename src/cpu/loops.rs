//! Loops split over the threads: element-wise loops that append to an output or update in
//! place, and reductions, each cut into one piece per thread when the input is large enough
//! to pay for waking them, and run on the calling thread otherwise.

use std::mem::MaybeUninit;

use crate::error::{bail, Result};

/// An empty vector with room for `n` values of any type, or an `Alloc` error instead of an
/// abort (for what is not an array's elements: positions, partial results).
#[inline]
pub fn try_alloc<T>(n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    if v.try_reserve_exact(n).is_err() {
        bail!(Alloc, "cannot allocate {} elements ({} bytes)", n, n.saturating_mul(std::mem::size_of::<T>()));
    }
    Ok(v)
}

/// Element count from which cheap element-wise loops (a product, a copy) are split over the
/// threads. Handing work to a sleeping thread costs 10–20 µs, the time of ≈ 200,000 such
/// elements: below that a second thread makes the op slower, not faster.
pub(crate) const PARALLEL_MIN: usize = 1 << 18;

/// The same for loops that compute more per element (exp, tanh: ≈ 0.5 ns each).
pub(crate) const PARALLEL_MIN_COSTLY: usize = 1 << 16;

/// The threads a loop over `n` elements is split over: one below `parallel_min` (small arrays
/// never ask for the thread count: that is the per-op path), and one in the reference mode.
pub(crate) fn threads_for(n: usize, parallel_min: usize) -> usize {
    if n >= parallel_min && !crate::reference::enabled() { super::threads::num_threads() } else { 1 }
}

/// Appends `n` values to `out` written by `fill(start, piece)`: `piece` is the room for
/// elements [start, start + piece.len()) of the `n`, and `fill` must write all of it. Large
/// counts are cut into one piece per thread.
#[inline(always)]
pub fn extend_at<U: Send>(out: &mut Vec<U>, n: usize, parallel_min: usize, fill: impl Fn(usize, &mut [MaybeUninit<U>]) + Sync) {
    out.reserve(n);
    let len = out.len();
    let spare = &mut out.spare_capacity_mut()[..n];
    let threads = threads_for(n, parallel_min);
    if threads > 1 {
        let chunk = n.div_ceil(threads);
        let parts: Vec<_> = spare.chunks_mut(chunk).enumerate().map(|(i, o)| (i * chunk, o)).collect();
        super::threads::fork_join(parts, |(start, o)| on_piece(&fill, start, o));
    } else {
        fill(0, spare);
    }
    // SAFETY: `fill` wrote each of the `n` elements after `len`.
    unsafe { out.set_len(len + n) }
}

/// Appends `src.len()` values to `out` written by `fill(chunk of src, matching chunk of
/// out's spare capacity)`, which must write every element of its chunk (`extend_at`).
#[inline(always)]
pub fn extend_chunked<T: Sync, U: Send>(
    out: &mut Vec<U>,
    src: &[T],
    parallel_min: usize,
    fill: impl Fn(&[T], &mut [MaybeUninit<U>]) + Sync,
) {
    extend_at(out, src.len(), parallel_min, |start, o| fill(&src[start..start + o.len()], o))
}

/// `f(a, b)`, as a call of its own. A piece handed to a thread arrives inside a tuple, and a
/// slice taken out of a tuple carries no promise that it overlaps nothing else: the compiler
/// then reloads every value the loop's closure captured (a scalar factor, a learning rate)
/// after each store, and the loop runs one element at a time. As the arguments of a function
/// the slices carry that promise again, and the loop is vectorised as on one thread.
#[inline(never)]
pub(crate) fn on_piece<A, B>(f: &impl Fn(A, B), a: A, b: B) {
    f(a, b)
}

/// Pieces a large reduction is cut into: a fixed size, so that the result (its rounding) is
/// the same whatever the thread count.
const REDUCE_PIECE: usize = 1 << 16;

/// `f` of each piece of `v`, the results combined in order by `combine`; the pieces are
/// spread over the threads when `v` is large.
pub fn reduce_chunked<T: Sync, R: Send + Copy + Default>(v: &[T], f: impl Fn(&[T]) -> R + Sync, combine: impl Fn(R, R) -> R) -> R {
    reduce_pieces(v.len(), |r| f(&v[r]), combine)
}

/// `reduce_chunked` over positions: `f` of each piece of `0..n` (the same pieces), the
/// results combined in order. It cannot fail, so that a deferred sum (`ops::fuse`) has no
/// error to report when it runs: without room for the partial results, the pieces run one
/// after the other on this thread, combined in the same order (the same bits).
pub fn reduce_pieces<R: Send + Copy + Default>(n: usize, f: impl Fn(std::ops::Range<usize>) -> R + Sync, combine: impl Fn(R, R) -> R) -> R {
    let piece = |i: usize| f(piece_range(n, i));
    if n <= REDUCE_PIECE || crate::reference::enabled() {
        return f(0..n);
    }
    let pieces = n.div_ceil(REDUCE_PIECE);
    let Ok(mut partial) = try_alloc(pieces) else {
        return reduce_in_order(n, f, combine);
    };
    partial.resize(pieces, R::default());
    let threads = threads_for(n, PARALLEL_MIN).min(pieces);
    let per = pieces.div_ceil(threads);
    let jobs: Vec<_> = partial.chunks_mut(per).enumerate().collect();
    super::threads::fork_join(jobs, |(j, out)| {
        for (i, o) in out.iter_mut().enumerate() {
            *o = piece(j * per + i);
        }
    });
    partial.into_iter().reduce(combine).expect("at least two pieces")
}

/// Piece `i` of `0..n` (`n` above one piece).
fn piece_range(n: usize, i: usize) -> std::ops::Range<usize> {
    i * REDUCE_PIECE..((i + 1) * REDUCE_PIECE).min(n)
}

/// `reduce_pieces` of `n` above one piece, the pieces run one after the other on this thread
/// with nothing allocated.
fn reduce_in_order<R>(n: usize, f: impl Fn(std::ops::Range<usize>) -> R, combine: impl Fn(R, R) -> R) -> R {
    (1..n.div_ceil(REDUCE_PIECE)).fold(f(piece_range(n, 0)), |acc, i| combine(acc, f(piece_range(n, i))))
}

/// `f` on matching pieces of `dst` and `src` (of equal length): one piece per thread when
/// large, for in-place element-wise updates.
pub fn update_chunked<T: Send + Sync>(dst: &mut [T], src: &[T], f: impl Fn(&mut [T], &[T]) + Sync) {
    let n = dst.len();
    let threads = threads_for(n, PARALLEL_MIN);
    if threads > 1 {
        let chunk = n.div_ceil(threads);
        let parts: Vec<_> = dst.chunks_mut(chunk).zip(src.chunks(chunk)).collect();
        super::threads::fork_join(parts, |(d, s)| on_piece(&f, d, s));
    } else {
        f(dst, src);
    }
}

/// `f` on pieces of `dst`: one piece per thread when large, for in-place element-wise maps.
pub fn modify_chunked<T: Send>(dst: &mut [T], f: impl Fn(&mut [T]) + Sync) {
    let n = dst.len();
    let threads = threads_for(n, PARALLEL_MIN);
    if threads > 1 {
        let parts: Vec<_> = dst.chunks_mut(n.div_ceil(threads)).collect();
        super::threads::fork_join(parts, |d| on_piece(&|d: &mut [T], _: ()| f(d), d, ()));
    } else {
        f(dst);
    }
}

/// Appends `f(x)` for each `x` of `src` to `out`: an indexed loop over spare capacity, which
/// the compiler vectorises (where `Vec::extend` over an iterator may not).
#[inline(always)]
pub fn extend_map<T: Copy + Sync, U: Send>(out: &mut Vec<U>, src: &[T], f: impl Fn(T) -> U + Sync) {
    extend_chunked(out, src, PARALLEL_MIN, |s, o| {
        for (o, &x) in o.iter_mut().zip(s) {
            o.write(f(x));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path taken when the partial results cannot be allocated gives the bits of the
    /// usual one: the same pieces, combined in the same order.
    #[test]
    fn pieces_in_order_on_one_thread_give_the_same_bits() {
        // The first piece large, the others small: the order of the additions shows.
        let v: Vec<f32> = (0..5 * REDUCE_PIECE + 123).map(|i| if i < REDUCE_PIECE { 3e11 } else { ((i * 7919) % 1000) as f32 * 1e-3 + 0.1 }).collect();
        let sum = |r: std::ops::Range<usize>| v[r].iter().map(|&x| x as f64).sum::<f64>();
        for n in [REDUCE_PIECE + 1, 2 * REDUCE_PIECE, v.len()] {
            let threads = crate::cpu::threads::num_threads();
            for t in [1, 2] {
                crate::cpu::threads::set_num_threads(t).unwrap();
                let usual = reduce_pieces(n, sum, |x, y| x + y);
                assert_eq!(reduce_in_order(n, sum, |x, y| x + y).to_bits(), usual.to_bits(), "{n} at {t} threads");
            }
            crate::cpu::threads::set_num_threads(threads).unwrap();
        }
        // The order matters: combining the pieces the other way round rounds differently.
        let reversed = (0..v.len().div_ceil(REDUCE_PIECE)).rev().map(|i| sum(piece_range(v.len(), i))).fold(0.0, |a, b| b + a);
        assert_ne!(reversed.to_bits(), reduce_in_order(v.len(), sum, |x, y| x + y).to_bits());
    }
}
