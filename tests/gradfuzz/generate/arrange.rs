//! Draws the creation and shape ops (`Op::Shape`, tests/gradfuzz/arrange.rs) with valid
//! arguments: they are linear in their inputs, so only their shapes need care. Outputs stay
//! small (at most `GROWN` elements where an op makes more than it reads), so that the finite
//! differences stay cheap.

use ad::ops::{AxisIndex, IndexMode};

use super::Gen;
use crate::arrange::{python_slice, Index, ShapeOp};
use crate::program::{Binary, InputKind, Op};

/// The most elements an op that grows its input (tile, repeat, broadcast_like) may make in a
/// small program; in a large one, as broadcast_to's.
const GROWN: usize = 48;
const GROWN_LARGE: usize = 400_000;

impl Gen {
    fn grown(&self) -> usize {
        if self.large { GROWN_LARGE } else { GROWN }
    }

    /// Draws one of the shape ops and appends it if its arguments are valid; whether it did.
    pub(super) fn shape_op(&mut self) -> bool {
        match self.rng.upto(0, 22) {
            0 => self.full_like(),
            1 => self.eye(),
            2 => self.linspace(),
            3 => self.squeeze(),
            4 => self.expand_dims(),
            5 => self.split(),
            6 => self.flip(),
            7 => self.tile(),
            8 => self.repeat(),
            9 => self.swapaxes(),
            10 => self.moveaxis(),
            11 => self.broadcast_like(),
            12 => self.reshape_like(),
            13 => self.reshape_codes(),
            14 => self.take(),
            15 => self.pick_mode(),
            16 => self.mx_slice(),
            17 => self.concatenate(),
            18 => self.cumsum(),
            19 => self.sort(false),
            20 => self.sort(true),
            _ => self.index(),
        }
    }

    fn shape_push(&mut self, op: ShapeOp) -> bool {
        self.push(Op::Shape(op))
    }

    fn full_like(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let v = self.rng.pick(&[0.0, 1.0, 2.5, -0.5]);
        if !self.shape_push(ShapeOp::FullLike(a, v)) {
            return false;
        }
        // Added to a live operand, so that the program goes on through it.
        let c = self.defs.len() - 1;
        self.push(Op::Binary(Binary::Add, a, c))
    }

    /// A constant identity-like matrix multiplied into an operand of its shape.
    fn eye(&mut self) -> bool {
        let Some(a) = self.reg(|s| s.len() == 2) else { return false };
        let (n, m) = (self.shapes[a][0], self.shapes[a][1]);
        let k = self.rng.int(-1, 1);
        // `m` = 0 means square in MXNet's eye: given as such where it is.
        let cols = if m == n && self.rng.chance(0.5) { 0 } else { m };
        if !self.shape_push(ShapeOp::Eye(n, cols, k, a)) {
            return false;
        }
        let e = self.defs.len() - 1;
        self.push(Op::Binary(Binary::Mul, a, e))
    }

    /// Evenly spaced constants multiplied into an operand along its last axis.
    fn linspace(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let num = *self.shapes[a].last().expect("one axis or more");
        let start = self.rng.value(-2.0, 2.0);
        let stop = self.rng.value(-2.0, 2.0);
        let endpoint = self.rng.chance(0.7);
        if !self.shape_push(ShapeOp::Linspace(start, stop, num, endpoint, a)) {
            return false;
        }
        let l = self.defs.len() - 1;
        self.push(Op::Binary(Binary::Mul, a, l))
    }

    fn squeeze(&mut self) -> bool {
        let Some(a) = self.reg(|s| s.contains(&1)) else { return false };
        let shape = self.shapes[a].clone();
        let ones: Vec<i64> = (0..shape.len()).filter(|&i| shape[i] == 1).map(|i| i as i64).collect();
        let axes: Vec<i64> = if self.rng.chance(0.3) {
            Vec::new()
        } else {
            let mut pick: Vec<i64> = ones.into_iter().filter(|_| self.rng.chance(0.6)).collect();
            if pick.is_empty() {
                return false;
            }
            for p in pick.iter_mut() {
                if self.rng.chance(0.3) {
                    *p -= shape.len() as i64;
                }
            }
            pick
        };
        let method = self.rng.chance(0.3);
        self.shape_push(ShapeOp::Squeeze(a, axes, method))
    }

    fn expand_dims(&mut self) -> bool {
        let Some(a) = self.reg(|s| s.len() < 4) else { return false };
        let nd = self.shapes[a].len() as i64;
        let axis = self.rng.int(-nd - 1, nd);
        let method = self.rng.chance(0.3);
        self.shape_push(ShapeOp::ExpandDims(a, axis, method))
    }

    fn split(&mut self) -> bool {
        let Some(a) = self.reg(|s| s.iter().any(|&d| d >= 2)) else { return false };
        let shape = self.shapes[a].clone();
        let axes: Vec<usize> = (0..shape.len()).filter(|&i| shape[i] >= 2).collect();
        let ax = self.rng.pick(&axes);
        let d = shape[ax];
        let divisors: Vec<usize> = (2..=d).filter(|k| d.is_multiple_of(*k)).collect();
        let parts = self.rng.pick(&divisors);
        // (Squeezing the one axis of a 1-d array would leave a 0-d array, which MXNet has not.)
        let squeeze = parts == d && shape.len() > 1 && self.rng.chance(0.5);
        let axis = if self.rng.chance(0.3) { ax as i64 - shape.len() as i64 } else { ax as i64 };
        let part = self.rng.upto(0, parts - 1);
        self.shape_push(ShapeOp::Split { x: a, parts, axis, squeeze, part })
    }

    fn flip(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let nd = self.shapes[a].len() as i64;
        let axes: Vec<i64> = (0..self.rng.upto(1, 3)).map(|_| self.rng.int(-nd, nd - 1)).collect();
        self.shape_push(ShapeOp::Flip(a, axes))
    }

    fn tile(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let shape = self.shapes[a].clone();
        let reps: Vec<usize> = (0..self.rng.upto(1, shape.len() + 1)).map(|_| self.rng.upto(1, 3)).collect();
        let size: usize = shape.iter().product::<usize>() * reps.iter().product::<usize>();
        if size > self.grown() {
            return false;
        }
        self.shape_push(ShapeOp::Tile(a, reps))
    }

    fn repeat(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let shape = self.shapes[a].clone();
        let n = self.rng.upto(1, 3);
        if shape.iter().product::<usize>() * n > self.grown() {
            return false;
        }
        let nd = shape.len() as i64;
        let axis = if self.rng.chance(0.3) { None } else { Some(self.rng.int(-nd, nd - 1)) };
        self.shape_push(ShapeOp::Repeat(a, n, axis))
    }

    fn cumsum(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let nd = self.shapes[a].len() as i64;
        let axis = if self.rng.chance(0.3) { None } else { Some(self.rng.int(-nd, nd - 1)) };
        self.shape_push(ShapeOp::Cumsum(a, axis))
    }

    /// `sort` or `topk`'s values, of an operand whose values are all apart by the margin (a
    /// tie is a kink).
    fn sort(&mut self, topk: bool) -> bool {
        let Some(a) = self.any() else { return false };
        let mut v = self.values[a].to_f64_vec();
        v.sort_by(|x, y| x.total_cmp(y));
        if v.windows(2).any(|w| !(w[1] - w[0] >= super::MARGIN)) {
            return false;
        }
        let shape = self.shapes[a].clone();
        let nd = shape.len() as i64;
        let axis = if self.rng.chance(0.3) { None } else { Some(self.rng.int(-nd, nd - 1)) };
        let asc = self.rng.chance(0.5);
        if !topk {
            return self.shape_push(ShapeOp::Sort(a, axis, asc));
        }
        let len = match axis {
            None => shape.iter().product::<usize>(),
            Some(ax) => shape[(if ax < 0 { ax + nd } else { ax }) as usize],
        };
        let k = self.rng.int(0, len as i64);
        self.shape_push(ShapeOp::TopK(a, axis, k, asc))
    }

    fn swapaxes(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let nd = self.shapes[a].len() as i64;
        let (d1, d2) = (self.rng.int(-nd, nd - 1), self.rng.int(-nd, nd - 1));
        self.shape_push(ShapeOp::SwapAxes(a, d1, d2))
    }

    fn moveaxis(&mut self) -> bool {
        let Some(a) = self.reg(|s| s.len() >= 2) else { return false };
        let nd = self.shapes[a].len();
        let k = self.rng.upto(1, nd);
        let mut from: Vec<i64> = (0..nd as i64).collect();
        let mut to: Vec<i64> = (0..nd as i64).collect();
        self.rng.shuffle(&mut from);
        self.rng.shuffle(&mut to);
        from.truncate(k);
        to.truncate(k);
        if self.rng.chance(0.3) {
            from[0] -= nd as i64;
        }
        self.shape_push(ShapeOp::MoveAxis(a, from, to))
    }

    /// Broadcast to a constant's shape: the operand's axes of length 1 get lengths there.
    fn broadcast_like(&mut self) -> bool {
        let Some(a) = self.reg(|s| s.contains(&1)) else { return false };
        let shape = self.shapes[a].clone();
        let (like_shape, la, ra) = if self.rng.chance(0.6) {
            let t: Vec<usize> = shape.iter().map(|&d| if d == 1 { self.rng.upto(1, 3) } else { d }).collect();
            (t, Vec::new(), Vec::new())
        } else {
            // Axes: one axis of length 1 takes the length of an axis of a constant of its own
            // shape, which may have more or fewer axes.
            let ones: Vec<usize> = (0..shape.len()).filter(|&i| shape[i] == 1).collect();
            let l = self.rng.pick(&ones);
            let like: Vec<usize> = (0..self.rng.upto(1, 3)).map(|_| self.rng.upto(1, 3)).collect();
            let r = self.rng.upto(0, like.len() - 1) as i64;
            let r = if self.rng.chance(0.3) { r - like.len() as i64 } else { r };
            (like, vec![l as i64], vec![r])
        };
        let out: usize = if la.is_empty() { like_shape.iter().product() } else { shape.iter().product::<usize>() * like_shape[ra[0].rem_euclid(like_shape.len() as i64) as usize] };
        if out > self.grown() {
            return false;
        }
        let like = self.constant(&like_shape);
        self.shape_push(ShapeOp::BroadcastLike(a, like, la, ra))
    }

    /// A constant of `shape` (its values do not matter to the ops that read only its shape).
    fn constant(&mut self, shape: &[usize]) -> usize {
        let n = shape.iter().product();
        let values = (0..n).map(|_| self.rng.signed(0.1, 2.0)).collect();
        self.input(InputKind::Constant, shape, values)
    }

    fn reshape_like(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let shape = self.shapes[a].clone();
        let nd = shape.len();
        let (like_shape, bounds) = if self.rng.chance(0.4) {
            (factor(&mut self.rng, shape.iter().product()), [None; 4])
        } else {
            // Axes b..e of `a` replaced by a factoring of their product, taken from a constant
            // with an axis more around them.
            let b = self.rng.upto(0, nd - 1);
            let e = self.rng.upto(b + 1, nd);
            let mid = factor(&mut self.rng, shape[b..e].iter().product());
            let mut like = vec![2];
            like.extend_from_slice(&mid);
            like.push(3);
            let neg = |g: &mut Gen, v: usize, n: usize| if g.rng.chance(0.3) && v < n { v as i64 - n as i64 } else { v as i64 };
            let lb = if b == 0 && self.rng.chance(0.5) { None } else { Some(neg(self, b, nd)) };
            let le = if e == nd && self.rng.chance(0.5) { None } else { Some(neg(self, e, nd)) };
            let (rb, re) = (Some(1), Some(1 + mid.len() as i64));
            (like, [lb, le, rb, re])
        };
        let like = self.constant(&like_shape);
        self.shape_push(ShapeOp::ReshapeLike(a, like, bounds))
    }

    /// MXNet's codes, drawn axis by axis of the operand: copy it (0), merge two (-3), split
    /// one (-4 with one side inferred or not), give its length, infer it (-1, once), or copy
    /// the rest (-2).
    fn reshape_codes(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let shape = self.shapes[a].clone();
        let mut codes = Vec::new();
        let mut out = 0;
        let mut i = 0;
        let mut inferred = false;
        while i < shape.len() {
            let d = shape[i];
            match self.rng.upto(0, 6) {
                0 | 1 => codes.push(0),
                2 if i + 1 < shape.len() => {
                    codes.push(-3);
                    i += 1;
                }
                3 => {
                    let divisors: Vec<usize> = (1..=d).filter(|k| d.is_multiple_of(*k)).collect();
                    let d1 = self.rng.pick(&divisors);
                    let (c1, c2) = match self.rng.upto(0, 2) {
                        0 => (-1, (d / d1) as i64),
                        1 => (d1 as i64, -1),
                        _ => (d1 as i64, (d / d1) as i64),
                    };
                    codes.extend([-4, c1, c2]);
                    out += 1;
                }
                4 if !inferred => {
                    codes.push(-1);
                    inferred = true;
                }
                5 => {
                    codes.push(-2);
                    break;
                }
                _ => codes.push(d as i64),
            }
            out += 1;
            i += 1;
        }
        if out > 4 {
            return false;
        }
        let reverse = self.rng.chance(0.25);
        if reverse {
            // The codes were drawn from the left; read from the right they must still fit.
            if ad::ops::reshape_codes(&self.values[a], &codes, true).is_err() {
                return false;
            }
        }
        let method = self.rng.chance(0.6);
        self.shape_push(ShapeOp::ReshapeCodes(a, codes, reverse, method))
    }

    /// Positions in a constant: inside the axis for `raise`, also outside it (and with
    /// fractions, which MXNet truncates) for `clip` and `wrap`.
    fn positions(&mut self, shape: &[usize], d: usize, mode: IndexMode) -> usize {
        let n = shape.iter().product();
        let d = d as i64;
        let values = (0..n)
            .map(|_| match mode {
                IndexMode::Raise => self.rng.int(0, d - 1) as f64,
                _ => self.rng.int(-2 * d, 2 * d) as f64 + if self.rng.chance(0.2) { 0.5 } else { 0.0 },
            })
            .collect();
        self.input(InputKind::Constant, shape, values)
    }

    fn take(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let shape = self.shapes[a].clone();
        let nd = shape.len() as i64;
        let axis = self.rng.int(-nd, nd - 1);
        let d = shape[axis.rem_euclid(nd) as usize];
        let mode = self.rng.pick(&[IndexMode::Raise, IndexMode::Clip, IndexMode::Wrap]);
        let index_shape: Vec<usize> = (0..self.rng.upto(1, 2)).map(|_| self.rng.upto(1, 3)).collect();
        let out = shape.iter().product::<usize>() / d * index_shape.iter().product::<usize>();
        if out > self.grown() {
            return false;
        }
        let i = self.positions(&index_shape, d, mode);
        self.shape_push(ShapeOp::Take(a, i, axis, mode))
    }

    fn pick_mode(&mut self) -> bool {
        let Some(a) = self.reg(|s| s.len() >= 2) else { return false };
        let shape = self.shapes[a].clone();
        let nd = shape.len() as i64;
        let axis = self.rng.int(-nd, nd - 1);
        let ax = axis.rem_euclid(nd) as usize;
        let mut index_shape = shape.clone();
        if self.rng.chance(0.5) {
            index_shape[ax] = 1;
        } else {
            index_shape.remove(ax);
        }
        let mode = self.rng.pick(&[IndexMode::Clip, IndexMode::Wrap]);
        let i = self.positions(&index_shape, shape[ax], mode);
        let keepdims = self.rng.chance(0.4);
        self.shape_push(ShapeOp::Pick(a, i, axis, mode, keepdims))
    }

    /// `nd.slice` with Python's bounds: negative, past the axis, None.
    fn mx_slice(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let shape = self.shapes[a].clone();
        let k = self.rng.upto(1, shape.len());
        let mut bounds = Vec::new();
        for &d in &shape[..k] {
            let d = d as i64;
            let bound = |g: &mut Gen| if g.rng.chance(0.25) { None } else { Some(g.rng.int(-d - 1, d + 1)) };
            let b = bound(self);
            let e = bound(self);
            let s = if self.rng.chance(0.4) { None } else { Some(self.rng.pick(&[1, 2, -1, -2])) };
            bounds.push((b, e, s));
        }
        let empty = bounds.iter().zip(&shape).any(|(&(b, e, s), &d)| match python_slice(b, e, s, d) {
            AxisIndex::Range { start, stop, step } => (if step > 0 { stop - start } else { start - stop }) <= 0,
            AxisIndex::At(_) => false,
        });
        if empty {
            return false;
        }
        self.shape_push(ShapeOp::Slice(a, bounds))
    }

    fn concatenate(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let shape = self.shapes[a].clone();
        let nd = shape.len() as i64;
        let axis = self.rng.int(-nd, nd - 1);
        let mut s = shape.clone();
        s[axis.rem_euclid(nd) as usize] = self.rng.upto(1, 3);
        let b = self.operand(&s);
        let regs = if self.rng.chance(0.5) { vec![a, b] } else { vec![b, a] };
        self.shape_push(ShapeOp::Concatenate(regs, axis))
    }

    /// Advanced indexing in the forms of `Index`, positions negative now and then.
    fn index(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let shape = self.shapes[a].clone();
        let nd = shape.len();
        let list = |g: &mut Gen, d: usize, n: usize| -> Vec<i64> {
            (0..n).map(|_| {
                let i = g.rng.int(0, d as i64 - 1);
                if g.rng.chance(0.3) { i - d as i64 } else { i }
            }).collect()
        };
        let index = match self.rng.upto(0, 3) {
            0 => {
                let axis = self.rng.upto(0, nd - 1);
                let n = self.rng.upto(1, 4);
                Index::List { axis, positions: list(self, shape[axis], n) }
            }
            1 if nd >= 2 => {
                let axis = self.rng.upto(0, nd - 2);
                let n = self.rng.upto(1, 4);
                let first = list(self, shape[axis], n);
                let second = list(self, shape[axis + 1], n);
                Index::Pair { axis, first, second }
            }
            2 => {
                let mask: Vec<bool> = (0..shape[0]).map(|_| self.rng.chance(0.6)).collect();
                if !mask.contains(&true) {
                    return false;
                }
                Index::Mask(mask)
            }
            _ => {
                if nd >= 4 {
                    return false;
                }
                let mut entries = Vec::new();
                for &d in &shape[..self.rng.upto(0, nd)] {
                    if self.rng.chance(0.4) {
                        entries.push(None);
                    }
                    let (b, e) = (self.rng.int(0, d as i64 - 1), self.rng.int(0, d as i64 - 1));
                    let (start, stop) = if b <= e { (b, e + 1) } else { (e, b + 1) };
                    entries.push(Some(AxisIndex::Range { start, stop, step: 1 }));
                }
                entries.push(None);
                if self.rng.chance(0.5) {
                    entries.rotate_right(1);
                }
                Index::NewAxes(entries)
            }
        };
        self.shape_push(ShapeOp::Index(a, index))
    }
}

/// A random shape of 1 to 3 axes holding `size` elements.
fn factor(rng: &mut super::Rng, size: usize) -> Vec<usize> {
    let mut dims = Vec::new();
    let mut rest = size;
    for _ in 0..rng.upto(0, 2) {
        let divisors: Vec<usize> = (1..=rest).filter(|d| rest.is_multiple_of(*d)).collect();
        let d = rng.pick(&divisors);
        dims.push(d);
        rest /= d;
    }
    dims.push(rest);
    rng.shuffle(&mut dims);
    dims
}
