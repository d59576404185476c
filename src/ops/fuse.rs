//! Fusion of element-wise chains. An element-wise op on a large float array does not run at
//! once: its result is an expression tree over computed arrays (the leaves), held as the
//! storage's deferred work, and an op on such a result extends the tree. When the values are
//! needed (read, printed, reduced, passed to an op that is not element-wise, written in
//! place) the whole tree runs as one loop over memory, a block of elements at a time through
//! registers that stay in cache: the leaves are read once and the result written once, where
//! running op by op would write and read every intermediate array. A sum over a whole
//! pending result is pending too: its loop adds the values as it makes them, never writing
//! them, and also computes the next pending result that shares its work (`NewestSum`), so a
//! loss and its gradient take one pass; an intermediate result still held (a value the tape
//! saved for backward) is written by the loop that passes through it, so that reading it
//! later computes nothing again.
//!
//! Only what cannot change the result is deferred. Errors (dtypes, shapes, memory for the
//! result) are found when the op is called; the result's buffer is allocated then, so pending
//! work holds no more memory than the arrays would. Each element goes through the same
//! per-element functions as op by op, so the values are the same bits, at any thread count
//! (a product by a one-element 1 is skipped: see `products_by_one`). Large results are
//! written around the caches and the leaves' next blocks fetched ahead (`cpu::stream`).
//! A storage read by pending work is written only after that work has run (see
//! `array::storage`, Deferred values). Trees are kept to `MAX_NODES` ops: beyond that an
//! operand is computed first and becomes a leaf. The reference mode defers nothing, and
//! `AD_FUSE_MIN` sets the element count from which ops are deferred (`off` for never).

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::ThreadId;

use smallvec::SmallVec;

use super::kernel::{map_into, zip_into, LongSum, Map, Operand, Zip2};
use crate::array::storage::{lock, try_vec, Buffer, Claim, Deferred, Locked, Storage};
use crate::cpu::loops::reduce_pieces;
use crate::cpu::stream;
use crate::array::{update_slice, Array, DType, Element, InPlace, Scalar};
use crate::error::Result;

/// The most ops in one tree (a shared subtree counts once per use): enough for a loss and
/// its gradient, small enough that a block's registers stay in the first caches.
const MAX_NODES: usize = 32;

/// The most ops a pending tree holds (`MAX_NODES`), for tests.
pub fn max_ops() -> usize {
    MAX_NODES
}

/// Elements per block. A float32 register is 2 KiB: a tree of up to 16 ops keeps its
/// registers in a 32 KiB first-level cache (one of `MAX_NODES` ops takes 64 KiB), and a
/// block's reads from memory and streamed writes come in bursts the memory keeps up with.
/// On W5 (a 4e6-element chain with its gradient) 512 was 10% faster than 1024 and 256, and
/// 2048 slower still.
const BLOCK: usize = 512;

/// Elements per block when the registers cannot be allocated and live on the stack instead.
const SMALL_BLOCK: usize = 32;

/// Default element count from which ops are deferred: below it an op's arrays fit in the
/// caches, where fusion saves little, and the per-op path (W1) pays nothing for it.
const DEFAULT_MIN: usize = 1 << 16;

/// The element count from which ops are deferred (`usize::MAX`: never), 0 until first read
/// from `AD_FUSE_MIN`.
static MIN_ELEMENTS: AtomicUsize = AtomicUsize::new(0);

#[inline]
fn min_elements() -> usize {
    match MIN_ELEMENTS.load(Ordering::Relaxed) {
        0 => {
            let min = match std::env::var("AD_FUSE_MIN") {
                Ok(v) if v.trim() == "off" => usize::MAX,
                Ok(v) => v.trim().parse().unwrap_or(DEFAULT_MIN),
                Err(_) => DEFAULT_MIN,
            };
            // Unless `set_min_elements` came first.
            let _ = MIN_ELEMENTS.compare_exchange(0, min.max(1), Ordering::Relaxed, Ordering::Relaxed);
            MIN_ELEMENTS.load(Ordering::Relaxed)
        }
        min => min,
    }
}

/// Sets the element count from which element-wise ops are deferred (`None`: never), from
/// now on, for the whole process; returns the previous setting. Results already pending stay
/// so. For tests and measurements; `AD_FUSE_MIN` sets it from the environment.
pub fn set_min_elements(min: Option<usize>) -> Option<usize> {
    let before = min_elements();
    MIN_ELEMENTS.store(min.unwrap_or(usize::MAX).max(1), Ordering::Relaxed);
    (before != usize::MAX).then_some(before)
}

/// The ops of `a`'s pending tree (a shared subtree counted once per use), 0 when its values
/// are computed.
pub fn pending_ops(a: &Array) -> usize {
    pending_tree(a).map_or(0, |(_, nodes)| nodes)
}

/// Whether `a`'s values are still to be computed: a pending tree's, or a pending sum's.
pub fn is_pending(a: &Array) -> bool {
    a.storage.is_pending()
}

/// The tree of `a` and its op count, when `a` is a whole pending result (a view of part of
/// one is not).
fn pending_tree(a: &Array) -> Option<(Arc<Node>, usize)> {
    if a.offset != 0 {
        return None;
    }
    let n = a.size();
    a.storage.with_deferred(|work| work.as_any().downcast_ref::<Chain>().filter(|c| c.n == n).map(|c| (c.root.clone(), c.nodes)))?
}

/// Whether an op with `n` result elements of `dtype` may be deferred: the check on the
/// per-op path, before `map` or `zip` is called. A small array is turned away by one load and
/// one comparison (until the threshold is first read it is 0, and the full check runs).
#[inline]
pub(crate) fn defers(n: usize, dtype: DType) -> bool {
    n >= MIN_ELEMENTS.load(Ordering::Relaxed) && defers_by_settings(n, dtype)
}

fn defers_by_settings(n: usize, dtype: DType) -> bool {
    n >= min_elements() && matches!(dtype, DType::F32 | DType::F64) && !crate::reference::enabled()
}

/// A node of an expression tree.
#[derive(Debug)]
enum Node {
    /// A computed array of the tree's length, read element by element.
    Leaf(Array),
    /// A computed one-element array, its value used at every position.
    Each(Array),
    Map(Map, Arc<Node>, Owner),
    Zip(Zip2, Arc<Node>, Arc<Node>, Owner),
}

/// The storage whose pending value a node is (the root of that storage's tree): a loop that
/// computes the node on its way to another result writes the values there too, while that
/// storage is alive and pending, so that they are not computed again when it is read.
type Owner = OnceLock<Weak<Storage>>;

impl Node {
    fn owner(&self) -> Option<&Owner> {
        match self {
            Node::Map(_, _, owner) | Node::Zip(_, _, _, owner) => Some(owner),
            Node::Leaf(_) | Node::Each(_) => None,
        }
    }
}

/// An operand as a tree: the pending work of `a` when it is a whole pending result,
/// otherwise a leaf (computed first, if pending); `None` when `a` cannot be read later, as
/// memory the host may write meanwhile (its own memory, or a loan) can be.
fn operand(a: &Array, n: usize) -> Option<(Arc<Node>, usize)> {
    if a.size() == n {
        if let Some(tree) = pending_tree(a) {
            return Some(tree);
        }
    }
    let host_writes = a.storage.is_lent() || a.storage.read().is_host();
    if host_writes {
        return None;
    }
    Some((Arc::new(if a.size() == n { Node::Leaf(a.clone()) } else { Node::Each(a.clone()) }), 0))
}

/// `op` of each element of `a`, deferred; `None` when the op runs at once.
pub(crate) fn map(a: &Array, op: Map) -> Result<Option<Array>> {
    if let Some(out) = scalar_op(a, op)? {
        return Ok(Some(out));
    }
    let n = a.size();
    if !defers(n, a.dtype) {
        return Ok(None);
    }
    let Some((mut tree, mut nodes)) = operand(a, n) else { return Ok(None) };
    if nodes + 1 > MAX_NODES {
        a.storage.force();
        let Some(leaf) = operand(a, n) else { return Ok(None) };
        (tree, nodes) = leaf;
    }
    pending(Node::Map(op, tree, Owner::new()), nodes + 1, n, a.dtype, &a.shape).map(Some)
}

/// `op` of each pair of `a` and `b` (one shape, or one of them a single element), deferred;
/// `None` when the op runs at once.
pub(crate) fn zip(a: &Array, b: &Array, op: Zip2, shape: &[usize]) -> Result<Option<Array>> {
    let n: usize = shape.iter().product();
    // An operand of n elements has them in the result's order (broadcasting added only axes
    // of length 1); one of a single element is used at every position.
    let aligned = [a, b].iter().all(|x| x.size() == n || x.size() == 1);
    if !aligned || !defers(n, a.dtype) {
        return Ok(None);
    }
    let (Some((mut ta, mut na)), Some((mut tb, mut nb))) = (operand(a, n), operand(b, n)) else { return Ok(None) };
    // Over the bound, the larger pending operand is computed first, then the other if needed.
    for _ in 0..2 {
        if na + nb < MAX_NODES {
            break;
        }
        if na >= nb {
            a.storage.force();
        } else {
            b.storage.force();
        }
        let (Some(x), Some(y)) = (operand(a, n), operand(b, n)) else { return Ok(None) };
        ((ta, na), (tb, nb)) = (x, y);
    }
    pending(Node::Zip(op, ta, tb, Owner::new()), na + nb + 1, n, a.dtype, shape).map(Some)
}

/// An array of `shape` whose values `root` computes when needed.
fn pending(root: Node, nodes: usize, n: usize, dtype: DType, shape: &[usize]) -> Result<Array> {
    let out = match dtype {
        DType::F32 => f32::wrap(try_vec(n)?),
        _ => f64::wrap(try_vec(n)?),
    };
    let root = Arc::new(root);
    let reads: Vec<&Storage> = Program::of(&root).leaves.iter().map(|a| &*a.storage).collect();
    let chain = Chain { root: root.clone(), nodes, n, out };
    let storage = Storage::deferred(dtype, Box::new(chain), &reads);
    if let Some(owner) = root.owner() {
        let _ = owner.set(Arc::downgrade(&storage));
    }
    note_sibling(&root, n, dtype, &storage);
    Ok(Array { storage, offset: 0, shape: shape.into(), dtype })
}

/// A pending result: the tree, and the buffer (allocated when the op was called) it fills.
#[derive(Debug)]
struct Chain {
    root: Arc<Node>,
    nodes: usize,
    n: usize,
    out: Buffer,
}

impl Chain {
    /// The values, written into `out` (empty, with room for them); when this is the
    /// newest pending sum's sibling, the sum is computed by the same loop.
    fn compute<T: Element>(&self, mut out: Vec<T>) -> Vec<T> {
        let sums = self.root.owner().and_then(OnceLock::get).map(sums_of_sibling).unwrap_or_default();
        if let Some(mut claim) = sums.iter().find_map(|s| s.try_claim()) {
            if let Some(pending) = claim.work_mut().as_any_mut().downcast_mut::<PendingSum>() {
                let sum_root = pending.root.clone();
                let (program, steps) = Program::of_roots(&[&self.root, &sum_root]);
                let total = program.sum::<T>(self.n, steps[1], Some((steps[0], out.as_mut_ptr())));
                // SAFETY: the loop wrote each of the n values of step steps[0] into `out`.
                unsafe { out.set_len(self.n) };
                let values = pending.with_total(total);
                claim.complete(values);
                complete_sums(&sum_root, total);
                return out;
            }
        }
        Program::of(&self.root).run(self.n, out)
    }
}

impl Deferred for Chain {
    fn run(mut self: Box<Self>) -> Buffer {
        let out = std::mem::replace(&mut self.out, f32::wrap(Vec::new()));
        match out {
            Buffer::F32(v) => f32::wrap(self.compute(v.into_vec().expect("the library's own vector"))),
            Buffer::F64(v) => f64::wrap(self.compute(v.into_vec().expect("the library's own vector"))),
            _ => unreachable!("only float ops are deferred"),
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// A result never computed gives its buffer back to the cache, as a computed one would.
impl Drop for Chain {
    fn drop(&mut self) {
        crate::array::pool::give(std::mem::replace(&mut self.out, f32::wrap(Vec::new())));
    }
}

/// Where a step finds an operand.
#[derive(Clone, Copy, Debug)]
enum Src {
    /// Leaf `i`, element by element.
    Leaf(usize),
    /// Leaf `i`'s single value.
    Each(usize),
    /// The result of step `i`.
    Step(usize),
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Map(Map, Src),
    Zip(Zip2, Src, Src),
}

/// A tree flattened into steps, each node once (a subtree shared by two parents is computed
/// once per block), the root last.
struct Program<'t> {
    leaves: Vec<&'t Array>,
    steps: Vec<Step>,
    /// Each step's owner, if its node has one (see `Owner`).
    owners: Vec<Option<&'t Weak<Storage>>>,
}

/// A storage whose values a program writes on the way: its claimed work and the buffer.
struct Byproduct<'s, T: Element> {
    step: usize,
    /// `None` once finished.
    claim: Option<Claim<'s>>,
    values: Vec<T>,
}

impl<T: Element> Byproduct<'_, T> {
    /// The buffer's first element, where the loop writes.
    fn start(&mut self) -> *mut T {
        self.values.as_mut_ptr()
    }

    /// The storage's values are the `n` the loop wrote.
    fn finish(mut self, n: usize) {
        let mut values = std::mem::take(&mut self.values);
        // SAFETY: the loop wrote all n values (the buffer has room for them: `byproducts`).
        unsafe { values.set_len(n) };
        if let Some(claim) = self.claim.take() {
            claim.complete(T::wrap(values));
        }
    }
}

/// A byproduct not finished (the loop failed) gives its buffer back to its storage's work,
/// which its claim then puts back, still pending.
impl<T: Element> Drop for Byproduct<'_, T> {
    fn drop(&mut self) {
        if let Some(claim) = &mut self.claim {
            if let Some(chain) = claim.work_mut().as_any_mut().downcast_mut::<Chain>() {
                chain.out = T::wrap(std::mem::take(&mut self.values));
            }
        }
    }
}

/// What a loop reads (the leaves' elements) and writes besides its result: (step, first
/// element) of each byproduct, written by the pieces of the loop at their own positions.
struct Io<'a, T> {
    leaves: &'a [&'a [T]],
    byproducts: &'a [(usize, *mut T)],
    /// Whether results are written around the caches (`cpu::stream`).
    stream: bool,
}

impl<T> Clone for Io<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Io<'_, T> {}
// SAFETY: the leaves are only read, and the pieces of a loop write disjoint ranges of each
// byproduct's buffer.
unsafe impl<T: Sync> Send for Io<'_, T> {}
unsafe impl<T: Sync> Sync for Io<'_, T> {}

impl<'t> Program<'t> {
    fn of(root: &'t Arc<Node>) -> Program<'t> {
        Program::of_roots(&[root]).0
    }

    /// The steps of several trees, a node they share computed once, and the step of each
    /// root (a root is an op, never a leaf).
    fn of_roots(roots: &[&'t Arc<Node>]) -> (Program<'t>, SmallVec<[usize; 2]>) {
        let mut p = Program { leaves: Vec::new(), steps: Vec::new(), owners: Vec::new() };
        let mut seen: Vec<(*const Node, Src)> = Vec::new();
        let steps = roots
            .iter()
            .map(|root| match p.add(root, &mut seen) {
                Src::Step(s) => s,
                Src::Leaf(_) | Src::Each(_) => unreachable!("a pending tree's root is an op"),
            })
            .collect();
        (p, steps)
    }

    fn add(&mut self, node: &'t Arc<Node>, seen: &mut Vec<(*const Node, Src)>) -> Src {
        let key = Arc::as_ptr(node);
        if let Some(&(_, src)) = seen.iter().find(|(k, _)| *k == key) {
            return src;
        }
        let src = match &**node {
            Node::Leaf(a) => Src::Leaf(self.leaf(a)),
            Node::Each(a) => Src::Each(self.leaf(a)),
            Node::Map(op, x, owner) => {
                let x = self.add(x, seen);
                self.push(Step::Map(*op, x), owner)
            }
            Node::Zip(op, x, y, owner) => {
                let (x, y) = (self.add(x, seen), self.add(y, seen));
                self.push(Step::Zip(*op, x, y), owner)
            }
        };
        seen.push((key, src));
        src
    }

    fn push(&mut self, step: Step, owner: &'t Owner) -> Src {
        self.steps.push(step);
        self.owners.push(owner.get());
        Src::Step(self.steps.len() - 1)
    }

    /// The storages alive and pending whose values are steps of this program other than the
    /// last, each claimed (`Storage::try_claim`) with its buffer: the loop writes them too.
    fn byproducts<T: Element>(&self, owners: &'t [(usize, Arc<Storage>)], n: usize) -> Vec<Byproduct<'t, T>> {
        owners
            .iter()
            .filter_map(|(step, storage)| {
                let mut claim = storage.try_claim()?;
                // The storage's tree is this step's node (an owner is set on its own tree's
                // root only), so its values are the step's.
                let chain = claim.work_mut().as_any_mut().downcast_mut::<Chain>()?;
                let values = match T::vec_from(std::mem::replace(&mut chain.out, f32::wrap(Vec::new()))) {
                    Ok(v) if v.capacity() >= n => v,
                    Ok(v) => {
                        chain.out = T::wrap(v);
                        return None;
                    }
                    Err(out) => {
                        chain.out = out;
                        return None;
                    }
                };
                Some(Byproduct { step: *step, claim: Some(claim), values })
            })
            .collect()
    }

    /// The owners alive of the steps but `sunk` (the step whose values the sink writes), by
    /// step.
    fn live_owners(&self, sunk: Option<usize>) -> Vec<(usize, Arc<Storage>)> {
        let owner = |(i, o): (usize, &Option<&Weak<Storage>>)| o.and_then(Weak::upgrade).map(|s| (i, s));
        self.owners.iter().enumerate().filter(|&(i, _)| Some(i) != sunk).filter_map(owner).collect()
    }

    fn leaf(&mut self, a: &'t Array) -> usize {
        match self.leaves.iter().position(|l| Arc::ptr_eq(&l.storage, &a.storage) && l.offset == a.offset && l.size() == a.size()) {
            Some(i) => i,
            None => {
                self.leaves.push(a);
                self.leaves.len() - 1
            }
        }
    }

    /// The leaves' elements, through the guards `locked` holds on them.
    fn leaf_slices<'l, T: Element>(&self, locked: &'l Locked<'_>) -> Vec<&'l [T]> {
        self.leaves.iter().map(|a| &T::slice_of(locked.get(&a.storage)).expect("leaves have the tree's dtype")[a.range()]).collect()
    }

    /// The sum of step `summed`'s `n` values, in the pieces and order of `sum` over an array;
    /// `also`, a step and a buffer with room for its `n` values, is written too.
    fn sum<T: Element>(&self, n: usize, summed: usize, also: Option<(usize, *mut T)>) -> f64 {
        let storages: Vec<&Storage> = self.leaves.iter().map(|a| &*a.storage).collect();
        let locked = lock(&storages, &[]);
        let leaves = self.leaf_slices::<T>(&locked);
        let owners = self.live_owners(None);
        let mut made = self.byproducts::<T>(&owners, n);
        let outputs: Vec<(usize, *mut T)> = made.iter_mut().map(|b| (b.step, b.start())).chain(also).collect();
        let io = Io { leaves: &leaves, byproducts: &outputs, stream: stream::streams(n * size_of::<T>()) };
        let total = reduce_pieces(n, |range| self.sum_range(io, summed, range), |x, y| x + y);
        made.into_iter().for_each(|b| b.finish(n));
        total
    }

    /// The `n` values, written into `out` (empty, with room for them).
    fn run<T: Element>(&self, n: usize, mut out: Vec<T>) -> Vec<T> {
        let storages: Vec<&Storage> = self.leaves.iter().map(|a| &*a.storage).collect();
        let locked = lock(&storages, &[]);
        let leaves = self.leaf_slices::<T>(&locked);
        let spare = &mut out.spare_capacity_mut()[..n];
        self.in_pieces(&leaves, spare, stream::streams(n * size_of::<T>()), |io, start, o| self.run_piece(io, start, o));
        drop(locked);
        // SAFETY: run_piece wrote each of the n elements.
        unsafe { out.set_len(n) };
        out
    }

    /// `dst op=` the values, in place.
    fn update<T: Element>(&self, leaves: &[&[T]], dst: &mut [T], op: InPlace) {
        let registers = self.steps.len();
        // Read and written in place: through the caches.
        self.in_pieces(leaves, dst, false, |io, start, d| {
            self.with_registers(registers, |regs, block| self.run_blocks_at_level(io, start, Sink::Update(d, op), regs, block))
        });
    }

    /// `piece(io, start, part)` over the parts of `out` (one value per element), one part per
    /// thread, with the byproducts claimed before and finished after.
    fn in_pieces<T: Element, O: Send>(&self, leaves: &[&[T]], out: &mut [O], stream: bool, piece: impl Fn(Io<'_, T>, usize, &mut [O]) + Sync) {
        let n = out.len();
        let owners = self.live_owners(Some(self.steps.len() - 1));
        let mut made = self.byproducts::<T>(&owners, n);
        let outputs: Vec<(usize, *mut T)> = made.iter_mut().map(|b| (b.step, b.start())).collect();
        let io = Io { leaves, byproducts: &outputs, stream };
        let threads = crate::cpu::loops::threads_for(n, crate::cpu::loops::PARALLEL_MIN_COSTLY);
        if threads > 1 {
            // Parts start at multiples of BLOCK, so each element is computed in the same
            // block position whatever the thread count.
            let len = n.div_ceil(threads).next_multiple_of(BLOCK);
            let parts: Vec<_> = out.chunks_mut(len).enumerate().map(|(i, o)| (i * len, o)).collect();
            crate::cpu::threads::fork_join(parts, |(start, o)| piece(io, start, o));
        } else {
            piece(io, 0, out);
        }
        made.into_iter().for_each(|b| b.finish(n));
    }

    /// The sum (in float64, as `sum` adds a run) of step `summed`'s values at `range`, never
    /// written.
    fn sum_range<T: Element>(&self, io: Io<'_, T>, summed: usize, range: std::ops::Range<usize>) -> f64 {
        let mut sum = LongSum::default();
        let mut rest = [T::zero(); LongSum::LANES];
        let mut rest_len = 0;
        self.with_registers(self.steps.len(), |regs, block| {
            self.run_blocks_at_level(io, range.start, Sink::Sum { step: summed, len: range.len(), sum: &mut sum, rest: &mut rest, rest_len: &mut rest_len }, regs, block)
        });
        stream::fence();
        sum.finish(&rest[..rest_len])
    }

    /// Elements [start, start + out.len()) into `out`, a block at a time.
    fn run_piece<T: Element>(&self, io: Io<'_, T>, start: usize, out: &mut [MaybeUninit<T>]) {
        // Streamed, the last step goes through a register too.
        let registers = if io.stream { self.steps.len() } else { self.steps.len() - 1 };
        self.with_registers(registers, |regs, block| self.run_blocks_at_level(io, start, Sink::Write(out), regs, block));
        stream::fence();
    }

    /// `f` of `registers` registers of a block each, and the block length: on the heap, or
    /// smaller on the stack when the heap has no room.
    fn with_registers<T: Element>(&self, registers: usize, f: impl FnOnce(&mut [MaybeUninit<T>], usize)) {
        match crate::cpu::loops::try_alloc::<MaybeUninit<T>>(registers * BLOCK) {
            Ok(mut regs) => {
                // SAFETY: MaybeUninit needs no initialising.
                unsafe { regs.set_len(registers * BLOCK) };
                f(&mut regs, BLOCK)
            }
            Err(_) => {
                let mut regs = [MaybeUninit::<T>::uninit(); MAX_NODES * SMALL_BLOCK];
                f(&mut regs[..registers * SMALL_BLOCK], SMALL_BLOCK)
            }
        }
    }

    /// `run_blocks` compiled for the CPU's level: the element loops of the steps are inlined
    /// into it, so their vectors are as wide as the level allows (the same values: the
    /// arithmetic is IEEE at every width, and exp and the rest choose their own loop).
    fn run_blocks_at_level<T: Element>(&self, io: Io<'_, T>, start: usize, sink: Sink<'_, T>, regs: &mut [MaybeUninit<T>], block: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            use crate::cpu::level::{level, Level};
            #[target_feature(enable = "avx512f,avx2,fma")]
            unsafe fn avx512<T: Element>(p: &Program<'_>, io: Io<'_, T>, start: usize, sink: Sink<'_, T>, regs: &mut [MaybeUninit<T>], block: usize) {
                p.run_blocks(io, start, sink, regs, block)
            }
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2<T: Element>(p: &Program<'_>, io: Io<'_, T>, start: usize, sink: Sink<'_, T>, regs: &mut [MaybeUninit<T>], block: usize) {
                p.run_blocks(io, start, sink, regs, block)
            }
            match level() {
                // SAFETY: level() is at most what the CPU has.
                Level::Avx512 => return unsafe { avx512(self, io, start, sink, regs, block) },
                Level::Avx2 => return unsafe { avx2(self, io, start, sink, regs, block) },
                Level::Portable => {}
            }
        }
        self.run_blocks(io, start, sink, regs, block)
    }

    /// For each step, the operand it equals when it is a product by a one-element operand
    /// whose value is 1 (a gradient seeded with ones is multiplied by them): such a step is
    /// not computed, its readers read that operand. x·1 is x for every x but a signalling NaN,
    /// which the product would make quiet. The last step and steps written on the way are
    /// computed (`sunk`, the step the sink takes, is), and an operand that is itself a
    /// one-element value is not taken (a step reads runs of values).
    fn products_by_one<T: Element>(&self, each: &[T], byproducts: &[(usize, *mut T)], sunk: usize) -> SmallVec<[Option<Src>; MAX_NODES]> {
        let mut same: SmallVec<[Option<Src>; MAX_NODES]> = SmallVec::new();
        for (i, step) in self.steps.iter().enumerate() {
            let is_one = |src: Src| matches!(src, Src::Each(l) if each[l] == T::of(1.0));
            let other = match *step {
                Step::Zip(Zip2::Mul, x, y) if is_one(x) => Some(resolved(&same, y)),
                Step::Zip(Zip2::Mul, x, y) if is_one(y) => Some(resolved(&same, x)),
                _ => None,
            };
            let kept = i == sunk || byproducts.iter().any(|&(s, _)| s == i);
            same.push(other.filter(|o| !kept && !matches!(o, Src::Each(_))));
        }
        same
    }

    /// The steps over each block of `sink`'s elements from `start`: step i's result goes to
    /// register i, the last step's to the sink (or, for a sum, to its register, and the
    /// summed step's is added up).
    #[inline(always)]
    fn run_blocks<T: Element>(&self, io: Io<'_, T>, start: usize, mut sink: Sink<'_, T>, regs: &mut [MaybeUninit<T>], block: usize) {
        let leaves = io.leaves;
        let each: SmallVec<[T; 8]> = leaves.iter().map(|l| l.first().copied().unwrap_or_default()).collect();
        let last = self.steps.len() - 1;
        let sunk = match sink {
            Sink::Sum { step, .. } => step,
            Sink::Write(_) | Sink::Update(..) => last,
        };
        let same = self.products_by_one(&each, io.byproducts, sunk);
        let len = sink.len();
        for lo in (0..len).step_by(block) {
            let n = block.min(len - lo);
            let at = start + lo;
            // The next block of each leaf read element by element, while this one computes.
            let next = (at + n)..(at + n + block).min(start + len);
            leaves.iter().filter_map(|l| l.get(next.clone())).for_each(stream::prefetch);
            for (i, step) in self.steps.iter().enumerate() {
                if same[i].is_some() {
                    continue;
                }
                let (done, rest) = regs.split_at_mut(i * block);
                let dst: &mut [MaybeUninit<T>] = match &mut sink {
                    Sink::Write(out) if i == last && !io.stream => &mut out[lo..lo + n],
                    _ => &mut rest[..n],
                };
                let get = |src: Src| match resolved(&same, src) {
                    Src::Leaf(l) => Operand::Run(&leaves[l][at..at + n]),
                    Src::Each(l) => Operand::Each(each[l]),
                    // SAFETY: step s < i wrote the first `n` elements of its register in
                    // this block.
                    Src::Step(s) => Operand::Run(unsafe { std::slice::from_raw_parts(done[s * block..].as_ptr().cast::<T>(), n) }),
                };
                let written = dst.as_ptr().cast::<T>();
                match *step {
                    Step::Map(op, x) => match get(x) {
                        Operand::Run(x) => map_into(op, x, dst),
                        Operand::Each(_) => unreachable!("a one-element operand is only zipped"),
                    },
                    Step::Zip(op, x, y) => zip_into(op, get(x), get(y), dst),
                }
                // SAFETY: the step wrote n values at `written`.
                let values = unsafe { std::slice::from_raw_parts(written, n) };
                if let Some(&(_, to)) = io.byproducts.iter().find(|(s, _)| *s == i) {
                    // SAFETY: a byproduct's buffer has room for the whole result, and this
                    // piece alone writes [at, at + n).
                    unsafe { copy(values, to.add(at), io.stream) };
                }
                match &mut sink {
                    Sink::Write(out) if i == last && io.stream => {
                        // SAFETY: `out` has room for [lo, lo + n), not overlapping the registers.
                        unsafe { copy(values, out[lo..].as_mut_ptr().cast::<T>(), true) };
                    }
                    Sink::Update(dst, op) if i == last => update_slice(&mut dst[lo..lo + n], values, *op),
                    _ => {}
                }
            }
            if let Sink::Sum { sum, rest, rest_len, .. } = &mut sink {
                // SAFETY: the summed step (computed: see `products_by_one`) wrote the first `n`
                // elements of its register.
                let values = unsafe { std::slice::from_raw_parts(regs[sunk * block..].as_ptr().cast::<T>(), n) };
                let whole = n / LongSum::LANES * LongSum::LANES;
                sum.add(&values[..whole]);
                // Only the run's last block is cut short (blocks are multiples of LANES).
                rest[..n - whole].copy_from_slice(&values[whole..]);
                **rest_len = n - whole;
            }
        }
    }
}

/// Where the values of `src` are, given `same` of `products_by_one`: a product by one is
/// its other operand.
#[inline(always)]
fn resolved(same: &[Option<Src>], src: Src) -> Src {
    match src {
        Src::Step(s) => same[s].unwrap_or(src),
        _ => src,
    }
}

/// Copies `src` to `dst`, around the caches when `stream`.
///
/// # Safety
/// `dst` has room for `src.len()` values and does not overlap `src`.
#[inline(always)]
unsafe fn copy<T: Copy>(src: &[T], dst: *mut T, stream: bool) {
    if stream {
        stream::copy(src, dst)
    } else {
        std::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len())
    }
}

/// Where the last step's values go.
enum Sink<'o, T> {
    /// Written to memory.
    Write(&'o mut [MaybeUninit<T>]),
    /// Combined into these values in place, by `update_slice`.
    Update(&'o mut [T], InPlace),
    /// Step `step`'s values added up: `len` values, `rest` the last few that do not fill the
    /// sum's lanes.
    Sum { step: usize, len: usize, sum: &'o mut LongSum, rest: &'o mut [T; LongSum::LANES], rest_len: &'o mut usize },
}

impl<T> Sink<'_, T> {
    fn len(&self) -> usize {
        match self {
            Sink::Write(out) => out.len(),
            Sink::Update(dst, _) => dst.len(),
            Sink::Sum { len, .. } => *len,
        }
    }
}

/// The sum of all elements of `a` (added in float64, cast to `a`'s dtype), an array of
/// `shape` (one element), when `a` is a whole pending result: `None` otherwise. The sum is
/// pending too, computed from `a`'s tree without writing `a` when it is needed, as are
/// element-wise ops on it (a mean's division: `scalar_op`); a result made later that shares
/// work with it (its gradient, which reads the same leaves and saved values) is computed by
/// the same loop (see `NewestSum`), and a sum never read (a loss that only seeds backward)
/// is never computed.
pub(crate) fn sum(a: &Array, shape: &[usize]) -> Result<Option<Array>> {
    if crate::reference::enabled() {
        return Ok(None);
    }
    let Some((root, _)) = pending_tree(a) else { return Ok(None) };
    let n = a.size();
    let storage = PendingSum::storage(root.clone(), n, SmallVec::new(), a.dtype)?;
    // The sums of one tree pending at a time on each thread, so that pending sums keep one
    // tree's leaves alive per thread at most: this thread's sums of another tree are
    // computed first.
    loop {
        let earlier = {
            let mut all = newest_sums();
            let newest = this_threads(&mut all);
            if std::ptr::eq(newest.root.as_ptr(), Arc::as_ptr(&root)) {
                newest.add(&storage);
                break;
            }
            if !newest.sums.iter().any(|s| s.upgrade().is_some_and(|s| s.is_pending())) {
                *newest = NewestSum { root: Arc::downgrade(&root), sums: vec![Arc::downgrade(&storage)], n, dtype: a.dtype, sibling: Weak::new() };
                break;
            }
            newest.sums.clone()
        };
        earlier.iter().filter_map(Weak::upgrade).for_each(|s| s.force());
    }
    Ok(Some(Array { storage, offset: 0, shape: shape.into(), dtype: a.dtype }))
}

/// `op` of a pending sum of the newest tree (`sum`), pending too: the same tree, and `op`
/// applied to its total when it is computed. `None` when `a` is not such a sum.
fn scalar_op(a: &Array, op: Map) -> Result<Option<Array>> {
    if !a.storage.is_pending() || a.offset != 0 || crate::reference::enabled() || min_elements() == usize::MAX {
        return Ok(None);
    }
    let found = a.storage.with_deferred(|w| w.as_any().downcast_ref::<PendingSum>().map(|p| (p.root.clone(), p.n, p.post.clone())));
    let Some((root, n, mut post)) = found.flatten() else { return Ok(None) };
    post.push(op);
    let storage = PendingSum::storage(root.clone(), n, post, a.dtype)?;
    let mut all = newest_sums();
    // Not a newest tree's (computed since, or about to be): the op runs on the value.
    let Some(newest) = entry_of(&mut all, &root) else { return Ok(None) };
    newest.add(&storage);
    Ok(Some(Array { storage, offset: 0, shape: a.shape.clone(), dtype: a.dtype }))
}

/// A pending sum: the summed tree, the element-wise ops on the total, and the one-element
/// buffer (allocated when the sum was called) that takes the value.
#[derive(Debug)]
struct PendingSum {
    root: Arc<Node>,
    n: usize,
    post: SmallVec<[Map; 2]>,
    out: Buffer,
}

impl PendingSum {
    /// A storage whose value is the sum of `root`'s `n` values put through `post`; its
    /// buffer allocated now.
    fn storage(root: Arc<Node>, n: usize, post: SmallVec<[Map; 2]>, dtype: DType) -> Result<Arc<Storage>> {
        let out = Buffer::filled(dtype, 1, 0.0)?;
        let program = Program::of(&root);
        let reads: Vec<&Storage> = program.leaves.iter().map(|a| &*a.storage).collect();
        Ok(Storage::deferred(dtype, Box::new(PendingSum { root: root.clone(), n, post, out }), &reads))
    }

    /// The buffer, holding `total` cast to its dtype (as `Array::full` casts) and put
    /// through the ops, one element as the per-op path computes it (the same bits).
    fn with_total(&mut self, total: f64) -> Buffer {
        fn value<T: Element>(total: f64, post: &[Map]) -> T {
            post.iter().fold(T::cast_f64(total), |x, &op| {
                let mut y = [MaybeUninit::<T>::uninit()];
                map_into(op, &[x], &mut y);
                // SAFETY: map_into wrote the one element.
                unsafe { y[0].assume_init() }
            })
        }
        let mut out = std::mem::replace(&mut self.out, f32::wrap(Vec::new()));
        match &mut out {
            Buffer::F32(v) => v[0] = value::<f32>(total, &self.post),
            Buffer::F64(v) => v[0] = value::<f64>(total, &self.post),
            _ => unreachable!("only float ops are deferred"),
        }
        out
    }

    /// The total, with the pending result that is this tree's sibling (if any) written by
    /// the same loop.
    fn compute<T: Element>(&self) -> f64 {
        let sibling = sibling_of(&self.root);
        let sibling_root = sibling.as_ref().and_then(|s| s.with_deferred(|w| w.as_any().downcast_ref::<Chain>().map(|c| c.root.clone()))).flatten();
        // The sibling's root comes first, so that its owner (the sibling) is claimed as a
        // byproduct and written on the way.
        let roots: SmallVec<[&Arc<Node>; 2]> = sibling_root.iter().chain([&self.root]).collect();
        let (program, steps) = Program::of_roots(&roots);
        program.sum::<T>(self.n, *steps.last().expect("the sum's root"), None)
    }
}

impl Deferred for PendingSum {
    fn run(mut self: Box<Self>) -> Buffer {
        let total = match self.out.dtype() {
            DType::F32 => self.compute::<f32>(),
            _ => self.compute::<f64>(),
        };
        complete_sums(&self.root, total);
        self.with_total(total)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// The newest tree a thread summed while pending (`sum`), its pending sums (the sum, a mean
/// made from it), and the newest pending result the thread made since whose tree shares work
/// with it (an op, or an array read element by element): whichever is needed first, on any
/// thread, computes them all in one loop. W5's loss and its gradient read x and exp(2x + 1) alike; summed and written
/// by one loop, x is read once and exp computed once.
struct NewestSum {
    root: Weak<Node>,
    sums: Vec<Weak<Storage>>,
    n: usize,
    dtype: DType,
    sibling: Weak<Storage>,
}

impl NewestSum {
    /// Adds a pending sum of the tree, leaving out those dropped.
    fn add(&mut self, storage: &Arc<Storage>) {
        self.sums.retain(|s| s.strong_count() > 0);
        self.sums.push(Arc::downgrade(storage));
    }
}

/// Each thread's `NewestSum`: threads that compute losses of their own do not compute each
/// other's early, and pending sums keep one tree's arrays alive per thread at most.
static NEWEST_SUMS: Mutex<Vec<(ThreadId, NewestSum)>> = Mutex::new(Vec::new());

fn newest_sums() -> MutexGuard<'static, Vec<(ThreadId, NewestSum)>> {
    NEWEST_SUMS.lock().unwrap_or_else(|e| e.into_inner())
}

/// This thread's entry, made if it has none; other threads' entries whose sums are all gone
/// are dropped on the way.
fn this_threads(all: &mut Vec<(ThreadId, NewestSum)>) -> &mut NewestSum {
    let me = std::thread::current().id();
    all.retain(|(t, e)| *t == me || e.sums.iter().any(|s| s.strong_count() > 0));
    let at = match all.iter().position(|(t, _)| *t == me) {
        Some(at) => at,
        None => {
            all.push((me, NewestSum { root: Weak::new(), sums: Vec::new(), n: 0, dtype: DType::F32, sibling: Weak::new() }));
            all.len() - 1
        }
    };
    &mut all[at].1
}

/// The entry, of any thread, whose tree is `root`.
fn entry_of<'a>(all: &'a mut [(ThreadId, NewestSum)], root: &Arc<Node>) -> Option<&'a mut NewestSum> {
    all.iter_mut().map(|(_, e)| e).find(|e| std::ptr::eq(e.root.as_ptr(), Arc::as_ptr(root)))
}

/// Makes `storage` (pending, `root` its tree) the sibling of this thread's newest sums when
/// their trees share work and fit one loop's registers together.
fn note_sibling(root: &Arc<Node>, n: usize, dtype: DType, storage: &Arc<Storage>) {
    let me = std::thread::current().id();
    let mut all = newest_sums();
    let Some(newest) = all.iter_mut().find(|(t, _)| *t == me).map(|(_, e)| e) else { return };
    if newest.n != n || newest.dtype != dtype || !newest.sums.iter().any(|s| s.upgrade().is_some_and(|s| s.is_pending())) {
        return;
    }
    let Some(sum_root) = newest.root.upgrade() else { return };
    let (alone, with) = (Program::of(root), Program::of(&sum_root));
    let (both, _) = Program::of_roots(&[root, &sum_root]);
    let shared = both.steps.len() < alone.steps.len() + with.steps.len() || both.leaves.len() < alone.leaves.len() + with.leaves.len();
    if shared && both.steps.len() <= MAX_NODES {
        newest.sibling = Arc::downgrade(storage);
    }
}

/// The pending sibling of the newest sums whose tree is `root`.
fn sibling_of(root: &Arc<Node>) -> Option<Arc<Storage>> {
    let mut all = newest_sums();
    entry_of(&mut all, root).and_then(|e| e.sibling.upgrade()).filter(|s| s.is_pending())
}

/// The newest sums still pending whose sibling `storage` is.
fn sums_of_sibling(storage: &Weak<Storage>) -> Vec<Arc<Storage>> {
    let all = newest_sums();
    let Some((_, newest)) = all.iter().find(|(_, e)| Weak::ptr_eq(&e.sibling, storage)) else { return Vec::new() };
    newest.sums.iter().filter_map(Weak::upgrade).filter(|s| s.is_pending()).collect()
}

/// Gives `total`, the sum of `root`'s values, to the newest sums of that tree still pending
/// (those another thread is computing are left to it).
fn complete_sums(root: &Arc<Node>, total: f64) {
    let sums: Vec<Arc<Storage>> = {
        let mut all = newest_sums();
        let Some(newest) = entry_of(&mut all, root) else { return };
        newest.sums.iter().filter_map(Weak::upgrade).collect()
    };
    for storage in &sums {
        if let Some(mut claim) = storage.try_claim() {
            if let Some(pending) = claim.work_mut().as_any_mut().downcast_mut::<PendingSum>() {
                let values = pending.with_total(total);
                claim.complete(values);
            }
        }
    }
}

/// `dst op= a`, where `a` is a whole pending result of dst's shape and dtype (typically a
/// temporary, as in `w -= lr * w.grad`): `a`'s tree runs block by block into dst's elements,
/// in place, and `a`'s values are not written: it stays pending, and is computed if it is
/// ever read, from leaves that pending work keeps as they were (one pass then, as computing
/// it before the update would have taken; a temporary's buffer goes back to the cache). The
/// same bits as computing `a` and then updating: each value goes through the same arithmetic
/// (`update_slice`). `Ok(false)`, with nothing done, where this does not apply: `a` computed
/// or of another shape or dtype, or dst among the tree's leaves (it would be read while
/// written).
pub(crate) fn update(dst: &Array, a: &Array, op: InPlace) -> Result<bool> {
    if crate::reference::enabled() || a.shape != dst.shape || a.dtype != dst.dtype {
        return Ok(false);
    }
    let Some((root, _)) = pending_tree(a) else { return Ok(false) };
    let program = Program::of(&root);
    if program.leaves.iter().any(|l| Arc::ptr_eq(&l.storage, &dst.storage)) {
        return Ok(false);
    }
    let storages: Vec<&Storage> = program.leaves.iter().map(|a| &*a.storage).collect();
    let mut locked = lock(&storages, &[&dst.storage]);
    let range = dst.range();
    let (mut written, read) = locked.split(&[&dst.storage]);
    let leaf = |l: &&Array| read.get(&l.storage).expect("leaves are read, not written");
    match &mut *written[0] {
        Buffer::F32(d) => program.update::<f32>(&program.leaves.iter().map(|l| &f32::slice_of(leaf(l)).expect("the tree's dtype")[l.range()]).collect::<Vec<_>>(), &mut d[range], op),
        Buffer::F64(d) => program.update::<f64>(&program.leaves.iter().map(|l| &f64::slice_of(leaf(l)).expect("the tree's dtype")[l.range()]).collect::<Vec<_>>(), &mut d[range], op),
        _ => unreachable!("only float ops are deferred"),
    }
    Ok(true)
}
