//! Draws random programs. Each op is evaluated (float64) as it is drawn, so that its
//! arguments can be checked against its kinks and poles: an op whose inputs come within
//! `MARGIN` of a kink (relu at 0, a tie of maximum, a clip bound), a pole or the edge of its
//! domain (log, sqrt, division), or whose output leaves [-BOUND, BOUND], is drawn again.
//! Finite differences and float32 are then meaningful everywhere the program is checked.

use ad::array::random;
use ad::autograd::ScopeKind;
use ad::ops::{self, AxisIndex, Cmp};
use ad::{DType, NdArray};

use crate::program::*;
use crate::run;

mod arrange;

/// How far every argument stays from a kink, a tie or a pole.
const MARGIN: f64 = 0.02;
/// Every intermediate value stays within ±BOUND.
const BOUND: f64 = 40.0;
/// How far each multinomial draw's uniform stays from its row's category boundaries (as
/// fractions of the row's sum): a perturbation of the finite differences, or float32's
/// rounding, then leaves every draw in its category unless the probabilities move by this
/// much, which `run::finite_differences` still detects.
const DRAW_MARGIN: f64 = 0.005;

/// xorshift64*: small, seedable, the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64, number: u64) -> Rng {
        let mut z = seed ^ number.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// In [lo, hi] (inclusive).
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    pub fn upto(&mut self, lo: usize, hi: usize) -> usize {
        self.int(lo as i64, hi as i64) as usize
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.upto(0, items.len() - 1)]
    }

    pub fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// A float32-representable value in [lo, hi).
    pub fn value(&mut self, lo: f64, hi: f64) -> f64 {
        self.between(lo, hi) as f32 as f64
    }

    /// A magnitude in [lo, hi) with a random sign, float32-representable.
    pub fn signed(&mut self, lo: f64, hi: f64) -> f64 {
        let m = self.value(lo, hi);
        if self.chance(0.5) { -m } else { m }
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.upto(0, i);
            v.swap(i, j);
        }
    }
}

/// How often each kind of op is drawn (relative weights).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Unary,
    Scalar,
    Binary,
    Reduce,
    Dot,
    Reshape,
    Flatten,
    Copy,
    Cast,
    Transpose,
    BroadcastTo,
    Slice,
    Concat,
    Stack,
    Where,
    Clip,
    Softmax,
    LogSoftmax,
    SoftmaxCrossEntropy,
    Pick,
    OneHot,
    FullyConnected,
    BatchNorm,
    Dropout,
    Multinomial,
    MulTanh,
    Shape,
}

pub const KINDS: &[(Kind, u32)] = &[
    (Kind::Unary, 24),
    (Kind::Scalar, 12),
    (Kind::Binary, 22),
    (Kind::Reduce, 12),
    (Kind::Dot, 5),
    (Kind::Reshape, 4),
    (Kind::Flatten, 1),
    (Kind::Copy, 1),
    (Kind::Cast, 1),
    (Kind::Transpose, 3),
    (Kind::BroadcastTo, 3),
    (Kind::Slice, 4),
    (Kind::Concat, 2),
    (Kind::Stack, 2),
    (Kind::Where, 2),
    (Kind::Clip, 2),
    (Kind::Softmax, 2),
    (Kind::LogSoftmax, 2),
    (Kind::SoftmaxCrossEntropy, 2),
    (Kind::Pick, 2),
    (Kind::OneHot, 2),
    (Kind::FullyConnected, 3),
    (Kind::BatchNorm, 2),
    (Kind::Dropout, 2),
    (Kind::Multinomial, 2),
    (Kind::MulTanh, 2),
    (Kind::Shape, 14),
];

struct Gen {
    rng: Rng,
    defs: Vec<Def>,
    shapes: Vec<Vec<usize>>,
    /// Each register's float64 value.
    values: Vec<NdArray>,
    /// Whether the register depends on a variable.
    live: Vec<bool>,
    /// Whether later ops may read it (running statistics may not: batch_norm writes them).
    usable: Vec<bool>,
    large: bool,
}

pub fn generate(seed: u64, number: u64) -> Program {
    let mut rng = Rng::new(seed, number);
    loop {
        let large = rng.chance(0.01);
        if let Some(p) = Gen::new(Rng(rng.next() | 1), large).program(seed, number) {
            return p;
        }
    }
}

impl Gen {
    fn new(rng: Rng, large: bool) -> Gen {
        Gen { rng, defs: Vec::new(), shapes: Vec::new(), values: Vec::new(), live: Vec::new(), usable: Vec::new(), large }
    }

    fn program(mut self, seed: u64, number: u64) -> Option<Program> {
        let first = self.random_shape();
        self.variable(&first);
        if self.rng.chance(0.4) {
            let s = self.related_shape(&first);
            self.variable(&s);
        }
        let ops = if self.large { self.rng.upto(2, 5) } else { self.rng.upto(2, 9) };
        let mut drawn = 0;
        let mut tries = 0;
        while drawn < ops && tries < 200 {
            tries += 1;
            if self.draw_op() {
                drawn += 1;
            }
        }
        let results: Vec<Reg> = (0..self.defs.len()).filter(|&r| matches!(self.defs[r], Def::Op(_)) && self.live[r]).collect();
        let &last = results.last()?;
        // Often a loss: the sum or mean of the last result, whose gradient reaches the ops
        // before it unexpanded.
        if self.rng.chance(0.4) {
            let kind = if self.rng.chance(0.5) { Reduce::Sum } else { Reduce::Mean };
            let axes = self.axes(self.shapes[last].len());
            let keepdims = self.rng.chance(0.3);
            self.push(Op::Reduce(kind, last, axes, keepdims));
        }
        let results: Vec<Reg> = (0..self.defs.len()).filter(|&r| matches!(self.defs[r], Def::Op(_)) && self.live[r]).collect();
        let &last = results.last()?;
        let mut heads = vec![last];
        let extra = if self.rng.chance(0.35) { self.rng.upto(1, 2) } else { 0 };
        for _ in 0..extra {
            let h = self.rng.pick(&results);
            if !heads.contains(&h) {
                heads.push(h);
            }
        }
        let head_grads = heads
            .iter()
            .map(|&h| {
                (self.rng.chance(0.45) && !self.large).then(|| {
                    let n = self.shapes[h].iter().product();
                    (0..n).map(|_| self.rng.value(-1.5, 1.5)).collect()
                })
            })
            .collect();
        let backward = if self.large {
            self.rng.pick(&[Backward::Plain, Backward::Grad, Backward::AddTwice])
        } else {
            let r = self.rng.unit();
            match r {
                _ if r < 0.35 => Backward::Plain,
                _ if r < 0.47 => Backward::AddTwice,
                _ if r < 0.57 => Backward::RetainTwice,
                _ if r < 0.72 => Backward::Grad,
                _ => Backward::Second,
            }
        };
        let mut program = Program {
            seed,
            number,
            defs: self.defs,
            shapes: self.shapes,
            heads,
            head_grads,
            backward,
            directions: Vec::new(),
            threads: if self.large { self.rng.upto(2, 3) } else { self.rng.upto(1, 3) },
            large: self.large,
        };
        let shapes: Vec<usize> = program.variables().map(|(_, i)| i.values.len()).collect();
        program.directions = shapes.iter().map(|&n| (0..n).map(|_| self.rng.value(-1.0, 1.0)).collect()).collect();
        Some(program)
    }

    // ---- inputs -------------------------------------------------------------------------

    fn random_shape(&mut self) -> Vec<usize> {
        if self.large {
            // Past the sizes at which element-wise loops and reductions split over threads.
            let (rows, cols) = self.rng.pick(&[(520, 512), (300, 1000), (1100, 256)]);
            return vec![rows, cols];
        }
        let ndim = self.rng.upto(1, 3);
        (0..ndim).map(|_| self.rng.upto(1, 4)).collect()
    }

    /// A shape that broadcasts with `shape`: on the right (leading axes dropped, some axes 1),
    /// or on both sides (axes of length 1 in `shape` get a length here).
    fn related_shape(&mut self, shape: &[usize]) -> Vec<usize> {
        let r = self.rng.unit();
        let mut out: Vec<usize> = shape.to_vec();
        if r < 0.25 {
            return out;
        }
        if r < 0.75 || self.large {
            let drop = self.rng.upto(0, shape.len().saturating_sub(1));
            out.drain(..drop);
            for d in out.iter_mut() {
                if self.rng.chance(0.4) {
                    *d = 1;
                }
            }
            if self.large && out.iter().product::<usize>() > 1 && self.rng.chance(0.5) {
                // A bias of one row or one column, not a second large array.
                let keep = self.rng.upto(0, out.len() - 1);
                for (i, d) in out.iter_mut().enumerate() {
                    if i != keep {
                        *d = 1;
                    }
                }
            }
            return out;
        }
        // Both sides: where `shape` has 1 this gets a length; elsewhere 1 or the same.
        for d in out.iter_mut() {
            *d = if *d == 1 { self.rng.upto(2, 3) } else if self.rng.chance(0.5) { 1 } else { *d };
        }
        if self.rng.chance(0.3) && out.len() < 3 {
            out.insert(0, self.rng.upto(2, 3));
        }
        out
    }

    fn input(&mut self, kind: InputKind, shape: &[usize], values: Vec<f64>) -> Reg {
        let array = NdArray::from_slice(&values, shape).expect("input values fit the shape");
        self.defs.push(Def::Input(Input { kind, shape: shape.to_vec(), values }));
        self.shapes.push(shape.to_vec());
        self.values.push(array);
        self.live.push(kind == InputKind::Variable);
        self.usable.push(true);
        self.defs.len() - 1
    }

    /// A variable of `shape`, its values away from 0.
    fn variable(&mut self, shape: &[usize]) -> Reg {
        let n = shape.iter().product();
        let values = (0..n).map(|_| self.rng.signed(0.1, 2.0)).collect();
        self.input(InputKind::Variable, shape, values)
    }

    /// A new operand of `shape`: a variable, or a constant.
    fn operand(&mut self, shape: &[usize]) -> Reg {
        if self.rng.chance(0.6) {
            self.variable(shape)
        } else {
            let n = shape.iter().product();
            let values = (0..n).map(|_| self.rng.signed(0.1, 2.0)).collect();
            self.input(InputKind::Constant, shape, values)
        }
    }

    /// A constant of whole numbers in [0, upper).
    fn indices(&mut self, shape: &[usize], upper: usize) -> Reg {
        let n = shape.iter().product();
        let values = (0..n).map(|_| self.rng.upto(0, upper - 1) as f64).collect();
        self.input(InputKind::Constant, shape, values)
    }

    // ---- ops ----------------------------------------------------------------------------

    /// A register for an operand, most often a recent one in the graph; `None` if none fits.
    fn reg(&mut self, fits: impl Fn(&[usize]) -> bool) -> Option<Reg> {
        let ok: Vec<Reg> = (0..self.defs.len()).filter(|&r| self.usable[r] && fits(&self.shapes[r])).collect();
        let live: Vec<Reg> = ok.iter().copied().filter(|&r| self.live[r]).collect();
        let pool = if !live.is_empty() && self.rng.chance(0.9) { live } else { ok };
        if pool.is_empty() {
            return None;
        }
        // Recent registers first: programs are chains more than fans.
        let k = pool.len();
        let i = if self.rng.chance(0.6) { k - 1 } else { self.rng.upto(0, k - 1) };
        Some(pool[i])
    }

    /// As `reg`, among the registers `fits` accepts by number.
    fn reg_where(&mut self, fits: impl Fn(Reg) -> bool) -> Option<Reg> {
        let ok: Vec<Reg> = (0..self.defs.len()).filter(|&r| self.usable[r] && fits(r)).collect();
        let live: Vec<Reg> = ok.iter().copied().filter(|&r| self.live[r]).collect();
        let pool = if !live.is_empty() && self.rng.chance(0.9) { live } else { ok };
        let k = pool.len();
        if k == 0 {
            return None;
        }
        let i = if self.rng.chance(0.6) { k - 1 } else { self.rng.upto(0, k - 1) };
        Some(pool[i])
    }

    fn any(&mut self) -> Option<Reg> {
        self.reg(|_| true)
    }

    fn vals(&self, r: Reg) -> Vec<f64> {
        self.values[r].to_f64_vec()
    }

    /// Draws one op and appends it if its arguments are safe; whether it did.
    fn draw_op(&mut self) -> bool {
        let total: u32 = KINDS.iter().map(|k| k.1).sum();
        let mut x = self.rng.upto(0, total as usize - 1) as u32;
        let kind = KINDS.iter().find(|k| if x < k.1 { true } else { x -= k.1; false }).expect("weights add up").0;
        let defs_before = self.defs.len();
        let ok = match kind {
            Kind::Unary => self.unary(),
            Kind::Scalar => self.scalar(),
            Kind::Binary => self.binary(),
            Kind::Reduce => self.reduce(),
            Kind::Dot => self.dot(),
            Kind::Reshape => self.reshape(),
            Kind::Flatten => self.any().is_some_and(|a| self.push(Op::Flatten(a))),
            Kind::Copy => self.any().is_some_and(|a| self.push(Op::Copy(a))),
            Kind::Cast => self.any().is_some_and(|a| self.push(Op::Cast(a))),
            Kind::Transpose => self.transpose(),
            Kind::BroadcastTo => self.broadcast_to(),
            Kind::Slice => self.slice(),
            Kind::Concat => self.concat(false),
            Kind::Stack => self.concat(true),
            Kind::Where => self.where_(),
            Kind::Clip => self.clip(),
            Kind::Softmax => self.softmax(false),
            Kind::LogSoftmax => self.softmax(true),
            Kind::SoftmaxCrossEntropy => self.softmax_cross_entropy(),
            Kind::Pick => self.pick(),
            Kind::OneHot => self.one_hot(),
            Kind::FullyConnected => self.fully_connected(),
            Kind::BatchNorm => self.batch_norm(),
            Kind::Dropout => self.dropout(),
            Kind::Multinomial => self.multinomial(),
            Kind::MulTanh => self.mul_tanh(),
            Kind::Shape => self.shape_op(),
        };
        if !ok {
            // Inputs drawn for a rejected op go with it.
            self.defs.truncate(defs_before);
            self.shapes.truncate(defs_before);
            self.values.truncate(defs_before);
            self.live.truncate(defs_before);
            self.usable.truncate(defs_before);
        }
        ok
    }

    /// Evaluates `op`; appends it when its output is finite and within bounds.
    fn push(&mut self, op: Op) -> bool {
        // In training mode, as the program is recorded and differentiated.
        let out = match run::scoped(ScopeKind::Pause, true, || run::eval_op(&op, &self.values)) {
            Ok(out) => out,
            Err(e) => panic!("the generator drew an invalid op {op:?}: {e}"),
        };
        if out.size() == 0 || !out.to_f64_vec().iter().all(|v| v.abs() <= BOUND) {
            return false;
        }
        let live = op_inputs(&op).iter().any(|&r| self.live[r]);
        self.shapes.push(out.shape().to_vec());
        self.values.push(out);
        self.live.push(live);
        self.usable.push(true);
        self.defs.push(Def::Op(op));
        true
    }

    fn unary(&mut self) -> bool {
        let u = self.rng.pick(&UNARIES);
        // An operand inside the op's domain, clear of its kinks and jumps.
        let inside: Vec<bool> = self.values.iter().map(|v| unary_is_safe(u, &v.to_f64_vec())).collect();
        let Some(a) = self.reg_where(|r| inside[r]) else { return false };
        self.push(Op::Unary(u, a))
    }

    fn scalar(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let s = self.rng.pick(&SCALARS);
        let v = self.vals(a);
        let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
        let value = match s {
            Scalar::Add | Scalar::RAdd | Scalar::Sub | Scalar::RSub => self.rng.value(-2.0, 2.0),
            Scalar::Mul | Scalar::RMul => self.rng.signed(0.2, 2.0),
            Scalar::Div => self.rng.signed(0.5, 3.0),
            Scalar::RDiv => {
                if v.iter().any(|&x| x.abs() < 0.3) {
                    return false;
                }
                self.rng.signed(0.5, 2.0)
            }
            Scalar::Pow => {
                let e = self.rng.pick(&[2.0, 3.0, -1.0, 0.5, 1.5, -2.0]);
                let whole = e == f64::trunc(e);
                if (!whole && lo < 0.2) || (e < 0.0 && v.iter().any(|&x| x.abs() < 0.3)) {
                    return false;
                }
                e
            }
            Scalar::RPow => {
                if hi > 3.0 || lo < -3.0 {
                    return false;
                }
                self.rng.pick(&[0.5, 2.0, 3.0, 1.5])
            }
            Scalar::Max | Scalar::Min => {
                let s = self.rng.value(lo - 0.2, hi + 0.2);
                if v.iter().any(|&x| (x - s).abs() < MARGIN) {
                    return false;
                }
                s
            }
        };
        self.push(Op::Scalar(s, a, value))
    }

    fn binary(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let shape = self.shapes[a].clone();
        let b = if self.rng.chance(0.3) {
            // An operand already there (the same one included: x * x).
            let Some(b) = self.reg(|s| ops_broadcast(s, &shape)) else { return false };
            b
        } else {
            let s = self.related_shape(&shape);
            self.operand(&s)
        };
        let (x, y) = if self.rng.chance(0.5) { (a, b) } else { (b, a) };
        let op = self.rng.pick(&BINARIES);
        let (vx, vy) = (self.values[x].clone(), self.values[y].clone());
        let diff = |f: fn(&NdArray, &NdArray) -> ad::Result<NdArray>| f(&vx, &vy).expect("shapes broadcast").to_f64_vec();
        let safe = match op {
            Binary::Div => vy.to_f64_vec().iter().all(|&d| d.abs() >= 0.3),
            Binary::Pow => vx.to_f64_vec().iter().all(|&d| d >= 0.3) && vy.to_f64_vec().iter().all(|&e| e.abs() <= 2.5),
            Binary::Maximum | Binary::Minimum => diff(ops::sub).iter().all(|&d| d.abs() >= MARGIN),
            _ => true,
        };
        safe && self.push(Op::Binary(op, x, y))
    }

    fn axes(&mut self, ndim: usize) -> Vec<i64> {
        if self.rng.chance(0.25) {
            return Vec::new();
        }
        let mut all: Vec<i64> = (0..ndim as i64).collect();
        self.rng.shuffle(&mut all);
        let k = self.rng.upto(1, ndim);
        all.truncate(k);
        for a in all.iter_mut() {
            if self.rng.chance(0.3) {
                *a -= ndim as i64;
            }
        }
        all
    }

    /// The most factors a drawn product multiplies (each of magnitude below 2: at most 2^32).
    const PROD_GROUP: usize = 32;

    fn reduce(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let kind = self.rng.pick(&REDUCES);
        let axes = self.axes(self.shapes[a].len());
        let keepdims = self.rng.chance(0.5);
        let x = &self.values[a];
        let safe = match kind {
            Reduce::Max | Reduce::Min => clear_extremum(x, &axes, kind == Reduce::Max),
            Reduce::Norm => ops::norm(x, &axes, false).unwrap().to_f64_vec().iter().all(|&n| n >= 0.1),
            // Clear of abs's kink at 0.
            Reduce::Norm1 => x.to_f64_vec().iter().all(|v| v.abs() >= MARGIN),
            // Products of at most PROD_GROUP factors: a longer one leaves float32's range
            // (an infinite partial product times a vanished one is NaN in both modes).
            Reduce::Prod | Reduce::Nanprod => {
                let outputs = ops::prod(x, &axes, false).unwrap().size();
                outputs == 0 || x.size() / outputs <= Self::PROD_GROUP
            }
            _ => true,
        };
        safe && self.push(Op::Reduce(kind, a, axes, keepdims))
    }

    fn dot(&mut self) -> bool {
        if !self.large && self.rng.chance(0.3) {
            return if self.rng.chance(0.5) { self.dot_nd() } else { self.batch_dot() };
        }
        let Some(a) = self.reg(|s| s.len() <= 2) else { return false };
        let sa = self.shapes[a].clone();
        let (tx, ty) = (self.rng.chance(0.5), self.rng.chance(0.5));
        let n = if self.large { self.rng.pick(&[4, 10, 16, 24]) } else { self.rng.upto(1, 4) };
        let other_1d = sa.len() == 2 && self.rng.chance(0.25);
        // `a` is the left operand x or the right one y of dot(x, y); the other is drawn to
        // match: op(x)'s columns meet op(y)'s rows. Flags of 1-d operands are ignored by dot.
        let (x, y) = if self.rng.chance(0.6) {
            let k = if sa.len() == 1 || tx { sa[0] } else { sa[1] };
            let shape = if other_1d { vec![k] } else if ty { vec![n, k] } else { vec![k, n] };
            (a, self.operand(&shape))
        } else {
            let k = if sa.len() == 1 { sa[0] } else if ty { sa[1] } else { sa[0] };
            let shape = if other_1d { vec![k] } else if tx { vec![k, n] } else { vec![n, k] };
            (self.operand(&shape), a)
        };
        if self.large && self.shapes[x].iter().chain(&self.shapes[y]).product::<usize>() > 1 << 30 {
            return false;
        }
        self.push(Op::Dot(x, y, tx, ty))
    }

    /// `dot` with an operand of 3 axes (MXNet's rule: `a`'s last axis, or its first with
    /// transpose_a, meets `b`'s first, or its last with transpose_b).
    fn dot_nd(&mut self) -> bool {
        let Some(a) = self.reg(|s| (1..=3).contains(&s.len()) && s.iter().product::<usize>() <= 24) else { return false };
        let sa = self.shapes[a].clone();
        let (tx, ty) = (self.rng.chance(0.5), self.rng.chance(0.5));
        // The other operand has 3 axes when `a` has fewer, else 1 to 3.
        let rank = if sa.len() < 3 { 3 } else { self.rng.upto(1, 3) };
        let mut rest: Vec<usize> = (1..rank).map(|_| self.rng.upto(1, 3)).collect();
        let (x, y) = if self.rng.chance(0.6) {
            let k = if tx && sa.len() > 1 { sa[0] } else { sa[sa.len() - 1] };
            if ty && rank > 1 { rest.push(k) } else { rest.insert(0, k) }
            (a, self.operand(&rest))
        } else {
            let k = if ty && sa.len() > 1 { sa[sa.len() - 1] } else { sa[0] };
            if tx && rank > 1 { rest.insert(0, k) } else { rest.push(k) }
            (self.operand(&rest), a)
        };
        self.push(Op::Dot(x, y, tx, ty))
    }

    /// `batch_dot` of two 3-d operands (batch, m, k) · (batch, k, n), each maybe transposed.
    fn batch_dot(&mut self) -> bool {
        let (tx, ty) = (self.rng.chance(0.5), self.rng.chance(0.5));
        let Some(a) = self.reg(|s| s.len() == 3 && s.iter().product::<usize>() <= 24) else {
            let (batch, m, k, n) = (self.rng.upto(1, 3), self.rng.upto(1, 3), self.rng.upto(1, 3), self.rng.upto(1, 3));
            let x = self.operand(&if tx { [batch, k, m] } else { [batch, m, k] });
            let y = self.operand(&if ty { [batch, n, k] } else { [batch, k, n] });
            return self.push(Op::BatchDot(x, y, tx, ty));
        };
        let sa = self.shapes[a].clone();
        let n = self.rng.upto(1, 3);
        let (x, y) = if self.rng.chance(0.6) {
            let k = if tx { sa[1] } else { sa[2] };
            (a, self.operand(&if ty { [sa[0], n, k] } else { [sa[0], k, n] }))
        } else {
            let k = if ty { sa[2] } else { sa[1] };
            (self.operand(&if tx { [sa[0], k, n] } else { [sa[0], n, k] }), a)
        };
        self.push(Op::BatchDot(x, y, tx, ty))
    }

    fn reshape(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let size: usize = self.shapes[a].iter().product();
        let mut dims = Vec::new();
        let mut rest = size;
        let ndim = self.rng.upto(1, 3);
        for i in 0..ndim {
            if i == ndim - 1 {
                dims.push(rest as i64);
                break;
            }
            let divisors: Vec<usize> = (1..=rest).filter(|&d| rest.is_multiple_of(d)).collect();
            let d = self.rng.pick(&divisors);
            dims.push(d as i64);
            rest /= d;
        }
        self.rng.shuffle(&mut dims);
        if self.rng.chance(0.3) {
            let i = self.rng.upto(0, dims.len() - 1);
            if dims[i] != 0 {
                dims[i] = -1;
            }
        }
        self.push(Op::Reshape(a, dims))
    }

    fn transpose(&mut self) -> bool {
        let Some(a) = self.reg(|s| s.len() >= 2) else { return false };
        let nd = self.shapes[a].len();
        let axes = if self.rng.chance(0.3) {
            Vec::new()
        } else {
            let mut p: Vec<i64> = (0..nd as i64).collect();
            self.rng.shuffle(&mut p);
            p
        };
        self.push(Op::Transpose(a, axes))
    }

    fn broadcast_to(&mut self) -> bool {
        let Some(a) = self.reg(|s| s.contains(&1) || s.len() < 3) else { return false };
        let mut shape: Vec<usize> = self.shapes[a].iter().map(|&d| if d == 1 { self.rng.upto(1, 3) } else { d }).collect();
        if shape.len() < 3 && (self.rng.chance(0.5) || shape == self.shapes[a]) {
            shape.insert(0, self.rng.upto(2, 3));
        }
        if self.large && shape.iter().product::<usize>() > 400_000 {
            return false;
        }
        self.push(Op::BroadcastTo(a, shape))
    }

    fn slice(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let shape = self.shapes[a].clone();
        let axes = self.rng.upto(1, shape.len());
        let mut index = Vec::new();
        for &d in &shape[..axes] {
            let d = d as i64;
            if self.rng.chance(0.2) && shape.len() > 1 {
                let i = self.rng.int(0, d - 1);
                index.push(AxisIndex::At(if self.rng.chance(0.3) { i - d } else { i }));
                continue;
            }
            let step = self.rng.pick(&[1, 1, 1, 2, -1, -2]);
            let start = self.rng.int(0, d - 1);
            let stop = if step > 0 { self.rng.int(start + 1, d) } else { self.rng.int(-1, start - 1) };
            index.push(AxisIndex::Range { start, stop, step });
        }
        // Every axis indexed by a position would leave a 0-d array, which MXNet has not.
        if index.len() == shape.len() && index.iter().all(|i| matches!(i, AxisIndex::At(_))) {
            return false;
        }
        self.push(Op::Slice(a, index))
    }

    fn concat(&mut self, stack: bool) -> bool {
        let Some(a) = self.any() else { return false };
        let shape = self.shapes[a].clone();
        let nd = shape.len() as i64;
        let axis = if stack { self.rng.int(-nd - 1, nd) } else { self.rng.int(-nd, nd - 1) };
        let mut regs = vec![a];
        for _ in 0..self.rng.upto(1, 2) {
            let mut s = shape.clone();
            if !stack {
                s[axis.rem_euclid(nd) as usize] = self.rng.upto(1, 3);
            }
            let r = if self.rng.chance(0.3) {
                match self.reg(|t| t == s.as_slice()) {
                    Some(r) => r,
                    None => self.operand(&s),
                }
            } else {
                self.operand(&s)
            };
            regs.push(r);
        }
        self.rng.shuffle(&mut regs);
        self.push(if stack { Op::Stack(regs, axis) } else { Op::Concat(regs, axis) })
    }

    fn where_(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let shape = self.shapes[a].clone();
        let bs = self.related_shape(&shape);
        let b = self.operand(&bs);
        let cs = if self.rng.chance(0.5) { shape.clone() } else { self.related_shape(&shape) };
        if !ops_broadcast(&cs, &shape) || !ops_broadcast(&cs, &bs) {
            return false;
        }
        let n = cs.iter().product();
        let values = (0..n).map(|_| if self.rng.chance(0.5) { 1.0 } else { 0.0 }).collect();
        let c = self.input(InputKind::Constant, &cs, values);
        let (x, y) = if self.rng.chance(0.5) { (a, b) } else { (b, a) };
        self.push(Op::Where(c, x, y))
    }

    fn mul_tanh(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let shape = self.shapes[a].clone();
        let b = if self.rng.chance(0.3) {
            // An operand already there (the same one included: mul_tanh(x, x)).
            let Some(b) = self.reg(|s| s == shape.as_slice()) else { return false };
            b
        } else {
            self.operand(&shape)
        };
        let (x, y) = if self.rng.chance(0.5) { (a, b) } else { (b, a) };
        self.push(Op::MulTanh(x, y))
    }

    fn clip(&mut self) -> bool {
        let Some(a) = self.any() else { return false };
        let v = self.vals(a);
        let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
        let low = self.rng.value(lo - 0.3, hi);
        let high = self.rng.value(low, hi + 0.3);
        if v.iter().any(|&x| (x - low).abs() < MARGIN || (x - high).abs() < MARGIN) || high - low < MARGIN {
            return false;
        }
        self.push(Op::Clip(a, low, high))
    }

    fn softmax(&mut self, log: bool) -> bool {
        let Some(a) = self.any() else { return false };
        let nd = self.shapes[a].len() as i64;
        let axis = self.rng.int(-nd, nd - 1);
        self.push(if log { Op::LogSoftmax(a, axis) } else { Op::Softmax(a, axis) })
    }

    fn softmax_cross_entropy(&mut self) -> bool {
        let Some(a) = self.reg(|s| s.len() == 2) else { return false };
        let (rows, classes) = (self.shapes[a][0], self.shapes[a][1]);
        let labels = self.indices(&[rows], classes);
        self.push(Op::SoftmaxCrossEntropy(a, labels))
    }

    fn pick(&mut self) -> bool {
        let Some(a) = self.reg(|s| s.len() >= 2) else { return false };
        let shape = self.shapes[a].clone();
        let nd = shape.len() as i64;
        let axis = self.rng.int(-nd, nd - 1);
        let ax = axis.rem_euclid(nd) as usize;
        let keepdims = self.rng.chance(0.4);
        let mut index_shape = shape.clone();
        if self.rng.chance(0.5) {
            index_shape[ax] = 1;
        } else {
            index_shape.remove(ax);
        }
        let index = self.indices(&index_shape, shape[ax]);
        self.push(Op::Pick(a, index, axis, keepdims))
    }

    /// A one-hot constant, multiplied into an operand whose last axis is the depth.
    fn one_hot(&mut self) -> bool {
        let Some(a) = self.reg(|s| s.len() >= 2) else { return false };
        let shape = self.shapes[a].clone();
        let depth = *shape.last().expect("two axes or more");
        let idx = self.indices(&shape[..shape.len() - 1], depth + 1);
        if !self.push(Op::OneHot(idx, depth)) {
            return false;
        }
        let hot = self.defs.len() - 1;
        self.push(Op::Binary(Binary::Mul, a, hot))
    }

    fn fully_connected(&mut self) -> bool {
        let Some(x) = self.reg(|s| s.len() >= 2) else { return false };
        let shape = self.shapes[x].clone();
        let flatten = shape.len() == 2 || self.rng.chance(0.5);
        let k = if flatten { shape[1..].iter().product() } else { *shape.last().expect("two axes or more") };
        let hidden = if self.large { self.rng.pick(&[8, 16, 20]) } else { self.rng.upto(1, 4) };
        let w = self.variable(&[hidden, k]);
        let b = self.rng.chance(0.7).then(|| self.variable(&[hidden]));
        self.push(Op::FullyConnected(x, w, b, flatten))
    }

    fn batch_norm(&mut self) -> bool {
        let Some(x) = self.reg(|s| s.len() >= 2) else { return false };
        let shape = self.shapes[x].clone();
        let nd = shape.len() as i64;
        let axis = if self.rng.chance(0.6) { 1 } else { self.rng.int(-nd, nd - 1) };
        let c = shape[axis.rem_euclid(nd) as usize];
        let training = self.rng.chance(0.7);
        if training {
            // The batch variance of each channel must be clear of 0: the normalisation
            // divides by its square root.
            let others: Vec<i64> = (0..nd).filter(|&d| d != axis.rem_euclid(nd)).collect();
            let v = &self.values[x];
            let mean = ops::mean(v, &others, true).unwrap();
            let var = ops::mean(&ops::square(&ops::sub(v, &mean).unwrap()).unwrap(), &others, true).unwrap();
            if shape.iter().product::<usize>() / c < 2 || var.to_f64_vec().iter().any(|&s| s < 0.05) {
                return false;
            }
        }
        let gamma_values = (0..c).map(|_| self.rng.signed(0.5, 1.5)).collect();
        let gamma = self.input(InputKind::Variable, &[c], gamma_values);
        let beta = self.variable(&[c]);
        let mean_values = (0..c).map(|_| self.rng.value(-0.5, 0.5)).collect();
        let var_values = (0..c).map(|_| self.rng.value(0.5, 2.0)).collect();
        let mean = self.input(InputKind::Constant, &[c], mean_values);
        let var = self.input(InputKind::Constant, &[c], var_values);
        self.usable[mean] = false;
        self.usable[var] = false;
        let fix_gamma = self.rng.chance(0.3);
        self.push(Op::BatchNorm { x, gamma, beta, mean, var, axis, fix_gamma, training })
    }

    fn dropout(&mut self) -> bool {
        let Some(x) = self.any() else { return false };
        let p = self.rng.pick(&[0.25, 0.5]);
        let seed = self.rng.upto(0, 1 << 30) as u64;
        let training = self.rng.chance(0.7);
        self.push(Op::Dropout { x, p, seed, training })
    }

    /// Multinomial draws from the softmax of an operand along its last axis, so that the
    /// gradient of the log-probabilities flows on into the program's variables.
    fn multinomial(&mut self) -> bool {
        // Rows of hundreds of categories leave no room between their boundaries for a draw to
        // stay clear of at the large programs' step.
        if self.large {
            return false;
        }
        let Some(a) = self.reg(|s| s.last().is_some_and(|&k| k >= 2) && s.iter().product::<usize>() <= 24) else { return false };
        if !self.push(Op::Softmax(a, -1)) {
            return false;
        }
        let probs = self.defs.len() - 1;
        let k = *self.shapes[probs].last().expect("an axis");
        let rows = self.values[probs].size() / k;
        // One draw per row (shape ()), or a block of draws; a 1-d operand takes a block, as
        // one draw from it would be 0-d.
        let shape = match self.rng.upto(if self.shapes[probs].len() == 1 { 1 } else { 0 }, 2) {
            0 => vec![],
            1 => vec![self.rng.upto(1, 3)],
            _ => vec![self.rng.upto(1, 2), self.rng.upto(1, 3)],
        };
        let block: usize = shape.iter().product();
        let seed = self.rng.upto(0, 1 << 30) as u64;
        if rows * block > 24 || !draws_are_clear(&self.vals(probs), k, block, seed) {
            return false;
        }
        self.push(Op::Multinomial { probs, shape, seed })
    }
}

/// Whether each uniform the multinomial sampler draws after `seed` lies DRAW_MARGIN clear of
/// every boundary between two categories of its row (`k` probabilities a row, `block` draws
/// each). The sampler draws one uniform u in [0, 1) per draw, row after row, and takes the
/// first category whose running sum exceeds u times the row's sum.
fn draws_are_clear(p: &[f64], k: usize, block: usize, seed: u64) -> bool {
    let mut rng = random::Rng::seeded(seed);
    p.chunks(k).all(|row| {
        let total: f64 = row.iter().sum();
        let mut sum = 0.0;
        let bounds: Vec<f64> = row[..k - 1]
            .iter()
            .map(|&x| {
                sum += x;
                sum / total
            })
            .collect();
        (0..block).all(|_| {
            let u = rng.next_f64();
            bounds.iter().all(|&b| (u - b).abs() >= DRAW_MARGIN)
        })
    })
}

/// Whether `u` may take values `v`: inside its domain, clear of its poles, kinks and jumps.
fn unary_is_safe(u: Unary, v: &[f64]) -> bool {
    let all = |ok: &dyn Fn(f64) -> bool| v.iter().all(|&x| ok(x));
    // Clear of the jumps of a piecewise-constant op: `at` gives the nearest jump.
    let clear = |at: &dyn Fn(f64) -> f64| all(&|x| (x - at(x)).abs() >= MARGIN);
    match u {
        Unary::Log | Unary::Sqrt | Unary::Log2 | Unary::Log10 | Unary::Rsqrt | Unary::Gammaln => all(&|x| x >= 0.2),
        Unary::Abs | Unary::Relu | Unary::Sign => all(&|x| x.abs() >= MARGIN),
        Unary::Exp | Unary::Expm1 => all(&|x| x <= 3.5),
        Unary::Tan => all(&|x| x.abs() <= 1.2),
        Unary::Arcsin | Unary::Arccos | Unary::Arctanh => all(&|x| x.abs() <= 0.9),
        Unary::Arccosh => all(&|x| x >= 1.2),
        Unary::Sinh | Unary::Cosh => all(&|x| x.abs() <= 3.0),
        Unary::Log1p => all(&|x| x >= -0.7),
        Unary::Cbrt | Unary::Rcbrt => all(&|x| x.abs() >= 0.2),
        Unary::Reciprocal => all(&|x| x.abs() >= 0.3),
        Unary::Gamma => all(&|x| (0.2..=4.0).contains(&x)),
        Unary::Floor | Unary::Ceil | Unary::Trunc | Unary::Fix => clear(&f64::round),
        Unary::Round | Unary::Rint => clear(&|x| x.floor() + 0.5),
        _ => true,
    }
}

/// Whether arrays of shapes `a` and `b` broadcast together.
fn ops_broadcast(a: &[usize], b: &[usize]) -> bool {
    a.iter().rev().zip(b.iter().rev()).all(|(&x, &y)| x == y || x == 1 || y == 1)
}

/// Whether every group the reduction folds has a single extremum, clear of the runner-up.
fn clear_extremum(x: &NdArray, axes: &[i64], largest: bool) -> bool {
    let sign = if largest { 1.0 } else { -1.0 };
    let y = ops::mul_scalar(x, sign).unwrap();
    let top = ops::max(&y, axes, true).unwrap();
    let hit = ops::compare(&y, &top, Cmp::Eq).unwrap();
    if ops::sum(&hit, axes, true).unwrap().to_f64_vec().iter().any(|&n| n != 1.0) {
        return false;
    }
    let low = NdArray::full(x.shape(), -1e9, DType::F64).unwrap();
    let rest = ops::where_(&hit, &low, &y).unwrap();
    let second = ops::max(&rest, axes, true).unwrap();
    let gap = ops::sub(&top, &second).unwrap().to_f64_vec();
    let size: usize = x.shape().iter().product();
    let group = size / top.size().max(1);
    group < 2 || gap.iter().all(|&g| g >= MARGIN)
}

/// The registers an op reads.
pub fn op_inputs(op: &Op) -> Vec<Reg> {
    match op {
        Op::Unary(_, a) | Op::Scalar(_, a, _) | Op::Reduce(_, a, _, _) | Op::Reshape(a, _) | Op::Transpose(a, _) => vec![*a],
        Op::Flatten(a) | Op::Copy(a) | Op::Cast(a) => vec![*a],
        Op::BroadcastTo(a, _) | Op::Slice(a, _) | Op::Clip(a, _, _) | Op::Softmax(a, _) | Op::LogSoftmax(a, _) => vec![*a],
        Op::Binary(_, a, b) | Op::Dot(a, b, _, _) | Op::BatchDot(a, b, _, _) | Op::SoftmaxCrossEntropy(a, b) | Op::Pick(a, b, _, _) => vec![*a, *b],
        Op::MulTanh(a, b) => vec![*a, *b],
        Op::Concat(rs, _) | Op::Stack(rs, _) => rs.clone(),
        Op::Where(c, a, b) => vec![*c, *a, *b],
        Op::OneHot(i, _) => vec![*i],
        Op::FullyConnected(x, w, b, _) => [Some(*x), Some(*w), *b].into_iter().flatten().collect(),
        Op::BatchNorm { x, gamma, beta, mean, var, .. } => vec![*x, *gamma, *beta, *mean, *var],
        Op::Dropout { x, .. } => vec![*x],
        Op::Multinomial { probs, .. } => vec![*probs],
        Op::Shape(s) => s.inputs(),
    }
}

/// The kind of an op, for the campaign's counts.
pub fn kind_of(op: &Op) -> Kind {
    match op {
        Op::Unary(..) => Kind::Unary,
        Op::Scalar(..) => Kind::Scalar,
        Op::Binary(..) => Kind::Binary,
        Op::Reduce(..) => Kind::Reduce,
        Op::Dot(..) | Op::BatchDot(..) => Kind::Dot,
        Op::Reshape(..) => Kind::Reshape,
        Op::Flatten(..) => Kind::Flatten,
        Op::Copy(..) => Kind::Copy,
        Op::Cast(..) => Kind::Cast,
        Op::Transpose(..) => Kind::Transpose,
        Op::BroadcastTo(..) => Kind::BroadcastTo,
        Op::Slice(..) => Kind::Slice,
        Op::Concat(..) => Kind::Concat,
        Op::Stack(..) => Kind::Stack,
        Op::Where(..) => Kind::Where,
        Op::Clip(..) => Kind::Clip,
        Op::Softmax(..) => Kind::Softmax,
        Op::LogSoftmax(..) => Kind::LogSoftmax,
        Op::SoftmaxCrossEntropy(..) => Kind::SoftmaxCrossEntropy,
        Op::Pick(..) => Kind::Pick,
        Op::OneHot(..) => Kind::OneHot,
        Op::FullyConnected(..) => Kind::FullyConnected,
        Op::BatchNorm { .. } => Kind::BatchNorm,
        Op::Dropout { .. } => Kind::Dropout,
        Op::Multinomial { .. } => Kind::Multinomial,
        Op::MulTanh(..) => Kind::MulTanh,
        Op::Shape(..) => Kind::Shape,
    }
}
