//! The creation and shape ops in the fuzzed programs (src/ops/arrange.rs, and indexing by
//! NumPy's rules through the Python package): one variant of the program's `Op`
//! (`Op::Shape`), with how each is evaluated on the engine and printed as Python. The Python
//! forms are the package's (`nd.take`, `x[[0, -1]]`, `x.reshape(codes)`), so that the Python
//! fuzz test runs the paths a user's code reaches; the engine evaluates the same with its own
//! ops.

use ad::ops::{self, AxisIndex, IndexMode};
use ad::{NdArray, Result};

use crate::program::{py_float, Reg};

/// A slice bound of `nd.slice` (`None` for Python's None).
pub type Bound = Option<i64>;

/// An index with NumPy's advanced rules, in the forms the package's `__getitem__` meets.
#[derive(Clone, Debug)]
pub enum Index {
    /// `x[:, ..., [p0, p1, ...]]`: one list of positions (negative from the end) on `axis`,
    /// the axes before it taken whole.
    List { axis: usize, positions: Vec<i64> },
    /// `x[:, ..., [p...], [q...]]`: two lists of one length on `axis` and `axis + 1`.
    Pair { axis: usize, first: Vec<i64>, second: Vec<i64> },
    /// `x[[True, False, ...]]`: a mask of the first axis.
    Mask(Vec<bool>),
    /// `x[None, 1:3, ...]`: ranges (normalised as `slice.indices` gives them) and new axes
    /// (`None`), the axes after them taken whole.
    NewAxes(Vec<Option<AxisIndex>>),
}

#[derive(Clone, Debug)]
pub enum ShapeOp {
    /// `nd.zeros_like(x)`, `x.ones_like()`, `nd.full_like(x, v)`: the value.
    FullLike(Reg, f64),
    /// `nd.eye(n, m, k)`, a constant in the dtype of the register given (not an input).
    Eye(usize, usize, i64, Reg),
    /// `nd.linspace(start, stop, num, endpoint)`, a constant as `Eye`.
    Linspace(f64, f64, usize, bool, Reg),
    /// Axes to remove (all of length 1 when empty); whether the method form is printed.
    Squeeze(Reg, Vec<i64>, bool),
    ExpandDims(Reg, i64, bool),
    /// Part `part` of `nd.split(x, num_outputs, axis, squeeze_axis)`.
    Split { x: Reg, parts: usize, axis: i64, squeeze: bool, part: usize },
    Flip(Reg, Vec<i64>),
    Tile(Reg, Vec<usize>),
    Repeat(Reg, usize, Option<i64>),
    /// `nd.cumsum(x, axis)` (flattened for None).
    Cumsum(Reg, Option<i64>),
    /// `nd.sort(x, axis, is_ascend)`.
    Sort(Reg, Option<i64>, bool),
    /// `nd.topk(x, axis, k, ret_typ='value', is_ascend)`.
    TopK(Reg, Option<i64>, i64, bool),
    SwapAxes(Reg, i64, i64),
    MoveAxis(Reg, Vec<i64>, Vec<i64>),
    /// `nd.broadcast_like(x, like, lhs_axes, rhs_axes)` (no axes when empty).
    BroadcastLike(Reg, Reg, Vec<i64>, Vec<i64>),
    /// `nd.reshape_like(x, like, lhs_begin, lhs_end, rhs_begin, rhs_end)`.
    ReshapeLike(Reg, Reg, [Bound; 4]),
    /// MXNet's reshape codes, `reverse`; `x.reshape(...)` (a view) or `nd.reshape` (a copy).
    ReshapeCodes(Reg, Vec<i64>, bool, bool),
    /// `nd.take(x, indices, axis, mode)`.
    Take(Reg, Reg, i64, IndexMode),
    /// `nd.pick(x, index, axis, mode, keepdims)`.
    Pick(Reg, Reg, i64, IndexMode, bool),
    /// `nd.slice(x, begin, end, step)`.
    Slice(Reg, Vec<(Bound, Bound, Bound)>),
    /// `nd.concatenate([...], axis)`.
    Concatenate(Vec<Reg>, i64),
    Index(Reg, Index),
}

impl ShapeOp {
    /// The registers the op reads.
    pub fn inputs(&self) -> Vec<Reg> {
        use ShapeOp::*;
        match self {
            Eye(..) | Linspace(..) => vec![],
            FullLike(a, _) | Squeeze(a, _, _) | ExpandDims(a, _, _) | Flip(a, _) | Tile(a, _) | Repeat(a, _, _) | Cumsum(a, _) => vec![*a],
            Sort(a, _, _) | TopK(a, _, _, _) => vec![*a],
            SwapAxes(a, _, _) | MoveAxis(a, _, _) | ReshapeCodes(a, _, _, _) | Slice(a, _) | Index(a, _) => vec![*a],
            Split { x, .. } => vec![*x],
            BroadcastLike(a, b, _, _) | ReshapeLike(a, b, _) | Take(a, b, _, _) | Pick(a, b, _, _, _) => vec![*a, *b],
            Concatenate(rs, _) => rs.clone(),
        }
    }

    /// A short name, for the campaign's counts.
    pub fn name(&self) -> &'static str {
        use ShapeOp::*;
        match self {
            FullLike(..) => "full_like",
            Eye(..) => "eye",
            Linspace(..) => "linspace",
            Squeeze(..) => "squeeze",
            ExpandDims(..) => "expand_dims",
            Split { .. } => "split",
            Flip(..) => "flip",
            Tile(..) => "tile",
            Repeat(..) => "repeat",
            Cumsum(..) => "cumsum",
            Sort(..) => "sort",
            TopK(..) => "topk",
            SwapAxes(..) => "swapaxes",
            MoveAxis(..) => "moveaxis",
            BroadcastLike(..) => "broadcast_like",
            ReshapeLike(..) => "reshape_like",
            ReshapeCodes(..) => "reshape codes",
            Take(..) => "take",
            Pick(..) => "pick with a mode",
            Slice(..) => "slice",
            Concatenate(..) => "concatenate",
            Index(_, self::Index::List { .. }) => "index by a list",
            Index(_, self::Index::Pair { .. }) => "index by two lists",
            Index(_, self::Index::Mask(_)) => "index by a mask",
            Index(_, self::Index::NewAxes(_)) => "index with new axes",
        }
    }

    /// The op on the engine, in the dtype of its inputs.
    pub fn eval(&self, regs: &[NdArray]) -> Result<NdArray> {
        use ShapeOp::*;
        let r = |i: &Reg| &regs[*i];
        match self {
            FullLike(a, v) => ops::full_like(r(a), *v, r(a).dtype()),
            Eye(n, m, k, like) => ops::eye(*n, *m, *k, r(like).dtype()),
            Linspace(start, stop, num, endpoint, like) => ops::linspace(*start, *stop, *num, *endpoint, r(like).dtype()),
            Squeeze(a, axes, _) => ops::squeeze(r(a), axes),
            ExpandDims(a, axis, _) => ops::expand_dims(r(a), *axis),
            Split { x, parts, axis, squeeze, part } => Ok(ops::split(r(x), *parts, *axis, *squeeze)?.swap_remove(*part)),
            Flip(a, axes) => ops::flip(r(a), axes),
            Tile(a, reps) => ops::tile(r(a), reps),
            Repeat(a, n, axis) => ops::repeat(r(a), *n, *axis),
            Cumsum(a, axis) => ops::cumsum(r(a), *axis),
            Sort(a, axis, asc) => ops::sort(r(a), *axis, *asc),
            TopK(a, axis, k, asc) => ops::topk(r(a), *axis, *k, ops::TopK::Value, *asc, r(a).dtype()),
            SwapAxes(a, d1, d2) => ops::swapaxes(r(a), *d1, *d2),
            MoveAxis(a, s, d) => ops::moveaxis(r(a), s, d),
            BroadcastLike(a, b, la, ra) => ops::broadcast_like(r(a), r(b), la, ra),
            ReshapeLike(a, b, [lb, le, rb, re]) => ops::reshape_like(r(a), r(b), *lb, *le, *rb, *re),
            ReshapeCodes(a, codes, reverse, _) => ops::reshape_codes(r(a), codes, *reverse),
            Take(a, i, axis, mode) => ops::take(r(a), r(i), *axis, *mode),
            Pick(a, i, axis, mode, keepdims) => ops::pick_mode(r(a), r(i), *axis, *keepdims, *mode),
            Slice(a, bounds) => {
                let x = r(a);
                let index: Vec<AxisIndex> = bounds.iter().zip(x.shape()).map(|(&(b, e, s), &d)| python_slice(b, e, s, d)).collect();
                ops::copy(&ops::slice(x, &index)?)
            }
            Concatenate(rs, axis) => ops::concat(&rs.iter().map(|i| r(i).clone()).collect::<Vec<_>>(), *axis),
            Index(a, index) => eval_index(r(a), index),
        }
    }

    /// The op as a Python expression over the registers' names.
    pub fn python(&self, n: &dyn Fn(&Reg) -> String) -> String {
        use ShapeOp::*;
        match self {
            FullLike(a, v) if *v == 0.0 => format!("nd.zeros_like({})", n(a)),
            FullLike(a, v) if *v == 1.0 => format!("{}.ones_like()", n(a)),
            FullLike(a, v) => format!("nd.full_like({}, {})", n(a), py_float(*v)),
            Eye(rows, cols, k, _) => format!("nd.eye({rows}, {cols}, {k}, dtype=dtype)"),
            Linspace(start, stop, num, endpoint, _) => {
                format!("nd.linspace({}, {}, {num}, endpoint={}, dtype=dtype)", py_float(*start), py_float(*stop), py_bool(*endpoint))
            }
            Squeeze(a, axes, method) => {
                let axis = if axes.is_empty() { "None".to_string() } else { py_tuple(axes) };
                if *method { format!("{}.squeeze(axis={axis})", n(a)) } else { format!("nd.squeeze({}, axis={axis})", n(a)) }
            }
            ExpandDims(a, axis, true) => format!("{}.expand_dims({axis})", n(a)),
            ExpandDims(a, axis, false) => format!("nd.expand_dims({}, axis={axis})", n(a)),
            Split { x, parts, axis, squeeze, part } => {
                format!("nd.split({}, num_outputs={parts}, axis={axis}, squeeze_axis={})[{part}]", n(x), py_bool(*squeeze))
            }
            Flip(a, axes) => format!("nd.flip({}, axis={})", n(a), py_tuple(axes)),
            Tile(a, reps) => format!("nd.tile({}, reps={})", n(a), py_tuple(reps)),
            Repeat(a, k, axis) => format!("nd.repeat({}, repeats={k}, axis={})", n(a), axis.map_or("None".into(), |x| x.to_string())),
            Cumsum(a, axis) => format!("nd.cumsum({}, axis={})", n(a), axis.map_or("None".into(), |x| x.to_string())),
            Sort(a, axis, asc) => {
                format!("nd.sort({}, axis={}, is_ascend={})", n(a), axis.map_or("None".into(), |x| x.to_string()), py_bool(*asc))
            }
            TopK(a, axis, k, asc) => format!(
                "nd.topk({}, axis={}, k={k}, ret_typ='value', is_ascend={})",
                n(a),
                axis.map_or("None".into(), |x| x.to_string()),
                py_bool(*asc)
            ),
            SwapAxes(a, d1, d2) => format!("nd.swapaxes({}, dim1={d1}, dim2={d2})", n(a)),
            MoveAxis(a, s, d) => format!("nd.moveaxis({}, {}, {})", n(a), py_tuple(s), py_tuple(d)),
            BroadcastLike(a, b, la, _) if la.is_empty() => format!("nd.broadcast_like({}, {})", n(a), n(b)),
            BroadcastLike(a, b, la, ra) => {
                format!("nd.broadcast_like({}, {}, lhs_axes={}, rhs_axes={})", n(a), n(b), py_tuple(la), py_tuple(ra))
            }
            ReshapeLike(a, b, bounds) => {
                let names = ["lhs_begin", "lhs_end", "rhs_begin", "rhs_end"];
                let args: String = names.iter().zip(bounds).filter_map(|(k, v)| v.map(|v| format!(", {k}={v}"))).collect();
                format!("nd.reshape_like({}, {}{args})", n(a), n(b))
            }
            ReshapeCodes(a, codes, reverse, true) => format!("{}.reshape({}, reverse={})", n(a), py_tuple(codes), py_bool(*reverse)),
            ReshapeCodes(a, codes, reverse, false) => format!("nd.reshape({}, shape={}, reverse={})", n(a), py_tuple(codes), py_bool(*reverse)),
            Take(a, i, axis, mode) => format!("nd.take({}, {}, axis={axis}, mode={})", n(a), n(i), py_mode(*mode)),
            Pick(a, i, axis, mode, keepdims) => {
                format!("nd.pick({}, {}, axis={axis}, mode={}, keepdims={})", n(a), n(i), py_mode(*mode), py_bool(*keepdims))
            }
            Slice(a, bounds) => {
                let col = |f: &dyn Fn(&(Bound, Bound, Bound)) -> Bound| {
                    let items: Vec<String> = bounds.iter().map(|b| f(b).map_or("None".into(), |v| v.to_string())).collect();
                    if items.len() == 1 { format!("({},)", items[0]) } else { format!("({})", items.join(", ")) }
                };
                format!("nd.slice({}, begin={}, end={}, step={})", n(a), col(&|b| b.0), col(&|b| b.1), col(&|b| b.2))
            }
            Concatenate(rs, axis) => format!("nd.concatenate([{}], axis={axis})", rs.iter().map(n).collect::<Vec<_>>().join(", ")),
            Index(a, index) => format!("{}[{}]", n(a), python_key(index)),
        }
    }
}

/// Python's `slice(b, e, s).indices(d)`, as an index of one axis.
pub fn python_slice(begin: Bound, end: Bound, step: Bound, d: usize) -> AxisIndex {
    let d = d as i64;
    let step = step.unwrap_or(1);
    let clamp = |v: Option<i64>, default: i64| match v {
        None => default,
        Some(v) if v < 0 => {
            let v = v + d;
            if v < 0 { if step < 0 { -1 } else { 0 } } else { v }
        }
        Some(v) if v >= d => if step < 0 { d - 1 } else { d },
        Some(v) => v,
    };
    let (start, stop) = if step > 0 { (clamp(begin, 0), clamp(end, d)) } else { (clamp(begin, d - 1), clamp(end, -1)) };
    AxisIndex::Range { start, stop, step }
}

fn eval_index(x: &NdArray, index: &Index) -> Result<NdArray> {
    let positions = |p: &[i64], d: usize| -> Result<NdArray> {
        let v: Vec<f64> = p.iter().map(|&i| if i < 0 { (i + d as i64) as f64 } else { i as f64 }).collect();
        NdArray::from_slice(&v, &[v.len()])
    };
    match index {
        Index::List { axis, positions: p } => ops::take(x, &positions(p, x.shape()[*axis])?, *axis as i64, IndexMode::Raise),
        Index::Pair { axis, first, second } => {
            // The two axes merged into one, indexed by the pairs' flat positions.
            let s = x.shape();
            let (d0, d1) = (s[*axis], s[*axis + 1]);
            let mut merged = s[..*axis].to_vec();
            merged.push(d0 * d1);
            merged.extend_from_slice(&s[*axis + 2..]);
            let norm = |i: i64, d: usize| if i < 0 { i + d as i64 } else { i };
            let flat: Vec<i64> = first.iter().zip(second).map(|(&i, &j)| norm(i, d0) * d1 as i64 + norm(j, d1)).collect();
            ops::take(&ops::reshape_to(x, &merged)?, &positions(&flat, d0 * d1)?, *axis as i64, IndexMode::Raise)
        }
        Index::Mask(mask) => {
            let p: Vec<i64> = mask.iter().enumerate().filter(|(_, &m)| m).map(|(i, _)| i as i64).collect();
            ops::take(x, &positions(&p, x.shape()[0])?, 0, IndexMode::Raise)
        }
        Index::NewAxes(entries) => {
            let ranges: Vec<AxisIndex> = entries.iter().flatten().copied().collect();
            let y = ops::slice(x, &ranges)?;
            let mut shape = Vec::new();
            let mut axis = 0;
            for e in entries {
                match e {
                    None => shape.push(1),
                    Some(_) => {
                        shape.push(y.shape()[axis]);
                        axis += 1;
                    }
                }
            }
            shape.extend_from_slice(&y.shape()[axis..]);
            ops::reshape_to(&y, &shape)
        }
    }
}

fn python_key(index: &Index) -> String {
    let list = |v: &[i64]| format!("[{}]", v.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "));
    let whole = |k: usize| vec![":".to_string(); k];
    let parts: Vec<String> = match index {
        Index::List { axis, positions } => [whole(*axis), vec![list(positions)]].concat(),
        Index::Pair { axis, first, second } => [whole(*axis), vec![list(first), list(second)]].concat(),
        Index::Mask(mask) => vec![format!("[{}]", mask.iter().map(|&m| py_bool(m)).collect::<Vec<_>>().join(", "))],
        Index::NewAxes(entries) => entries
            .iter()
            .map(|e| match e {
                None => "None".to_string(),
                Some(AxisIndex::Range { start, stop, step }) => {
                    // A normalised stop of -1 (going down past the first element) is Python's None.
                    let stop = if *stop < 0 { String::new() } else { stop.to_string() };
                    if *step == 1 { format!("{start}:{stop}") } else { format!("{start}:{stop}:{step}") }
                }
                Some(AxisIndex::At(i)) => i.to_string(),
            })
            .collect(),
    };
    parts.join(", ")
}

fn py_mode(mode: IndexMode) -> &'static str {
    match mode {
        IndexMode::Raise => "'raise'",
        IndexMode::Clip => "'clip'",
        IndexMode::Wrap => "'wrap'",
    }
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn py_tuple<T: std::fmt::Display>(v: &[T]) -> String {
    match v {
        [x] => format!("({x},)"),
        _ => format!("({})", v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")),
    }
}
