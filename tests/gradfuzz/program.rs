//! A fuzzed program: inputs, a straight-line list of ops over registers, the heads that are
//! differentiated and how. It prints itself as a Python script over the `ad` package, which
//! is how a failure is reported and how the Python bindings run the same programs.

use std::fmt::Write;

use ad::ops::AxisIndex;

/// A register: an input or the result of an op, numbered in the order they are defined.
pub type Reg = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// Differentiated: `attach_grad` before recording.
    Variable,
    /// Not differentiated (a mask, labels, running statistics, a bias that is held fixed).
    Constant,
}

#[derive(Clone, Debug)]
pub struct Input {
    pub kind: InputKind,
    pub shape: Vec<usize>,
    /// Values representable in float32, so that both dtypes start from the same point.
    pub values: Vec<f64>,
}

#[derive(Clone, Copy, Debug)]
pub enum Unary {
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    Square,
    Relu,
    Sigmoid,
    Tanh,
    Sin,
    Cos,
    Tan,
    Arcsin,
    Arccos,
    Arctan,
    Sinh,
    Cosh,
    Arcsinh,
    Arccosh,
    Arctanh,
    Log2,
    Log10,
    Log1p,
    Expm1,
    Cbrt,
    Rcbrt,
    Rsqrt,
    Reciprocal,
    Radians,
    Degrees,
    Erf,
    Gamma,
    Gammaln,
    Floor,
    Ceil,
    Round,
    Rint,
    Trunc,
    Fix,
    Sign,
}

pub const UNARIES: [Unary; 40] = [
    Unary::Neg,
    Unary::Exp,
    Unary::Log,
    Unary::Sqrt,
    Unary::Abs,
    Unary::Square,
    Unary::Relu,
    Unary::Sigmoid,
    Unary::Tanh,
    Unary::Sin,
    Unary::Cos,
    Unary::Tan,
    Unary::Arcsin,
    Unary::Arccos,
    Unary::Arctan,
    Unary::Sinh,
    Unary::Cosh,
    Unary::Arcsinh,
    Unary::Arccosh,
    Unary::Arctanh,
    Unary::Log2,
    Unary::Log10,
    Unary::Log1p,
    Unary::Expm1,
    Unary::Cbrt,
    Unary::Rcbrt,
    Unary::Rsqrt,
    Unary::Reciprocal,
    Unary::Radians,
    Unary::Degrees,
    Unary::Erf,
    Unary::Gamma,
    Unary::Gammaln,
    Unary::Floor,
    Unary::Ceil,
    Unary::Round,
    Unary::Rint,
    Unary::Trunc,
    Unary::Fix,
    Unary::Sign,
];

/// Array-and-scalar arithmetic; the `R` forms put the scalar on the left.
#[derive(Clone, Copy, Debug)]
pub enum Scalar {
    Add,
    RAdd,
    Sub,
    RSub,
    Mul,
    RMul,
    Div,
    RDiv,
    Pow,
    RPow,
    Max,
    Min,
}

pub const SCALARS: [Scalar; 12] = [
    Scalar::Add,
    Scalar::RAdd,
    Scalar::Sub,
    Scalar::RSub,
    Scalar::Mul,
    Scalar::RMul,
    Scalar::Div,
    Scalar::RDiv,
    Scalar::Pow,
    Scalar::RPow,
    Scalar::Max,
    Scalar::Min,
];

#[derive(Clone, Copy, Debug)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
}

pub const BINARIES: [Binary; 7] = [Binary::Add, Binary::Sub, Binary::Mul, Binary::Div, Binary::Pow, Binary::Maximum, Binary::Minimum];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    Sum,
    Mean,
    Max,
    Min,
    Norm,
    /// `norm(ord=1)`.
    Norm1,
    Prod,
    Nansum,
    Nanprod,
}

pub const REDUCES: [Reduce; 9] = [
    Reduce::Sum,
    Reduce::Mean,
    Reduce::Max,
    Reduce::Min,
    Reduce::Norm,
    Reduce::Norm1,
    Reduce::Prod,
    Reduce::Nansum,
    Reduce::Nanprod,
];

#[derive(Clone, Debug)]
pub enum Op {
    Unary(Unary, Reg),
    Scalar(Scalar, Reg, f64),
    Binary(Binary, Reg, Reg),
    /// Over `axes` (all when empty), with keepdims.
    Reduce(Reduce, Reg, Vec<i64>, bool),
    /// `dot(a, b, transpose_a, transpose_b)`.
    Dot(Reg, Reg, bool, bool),
    /// `nd.batch_dot` of two 3-d operands.
    BatchDot(Reg, Reg, bool, bool),
    Reshape(Reg, Vec<i64>),
    /// `flatten`: the first axis kept, the rest one.
    Flatten(Reg),
    Copy(Reg),
    /// `astype` to float64 and back to the program's dtype (two ops in float32, none in
    /// float64).
    Cast(Reg),
    /// Axes as given (empty: reversed).
    Transpose(Reg, Vec<i64>),
    BroadcastTo(Reg, Vec<usize>),
    /// Basic indexing; ranges are normalised as Python's `slice.indices` gives them.
    Slice(Reg, Vec<AxisIndex>),
    Concat(Vec<Reg>, i64),
    Stack(Vec<Reg>, i64),
    /// `where(cond, a, b)`.
    Where(Reg, Reg, Reg),
    Clip(Reg, f64, f64),
    Softmax(Reg, i64),
    LogSoftmax(Reg, i64),
    /// Logits (N, C), labels (N,).
    SoftmaxCrossEntropy(Reg, Reg),
    /// `pick(data, index, axis, keepdims)`.
    Pick(Reg, Reg, i64, bool),
    /// `one_hot(indices, depth)`: a constant in the program's dtype.
    OneHot(Reg, usize),
    /// `FullyConnected(x, weight, bias, flatten)`.
    FullyConnected(Reg, Reg, Option<Reg>, bool),
    BatchNorm { x: Reg, gamma: Reg, beta: Reg, mean: Reg, var: Reg, axis: i64, fix_gamma: bool, training: bool },
    /// Dropout with probability `p`, its mask drawn after seeding the generator with `seed`;
    /// the identity when not `training`.
    Dropout { x: Reg, p: f64, seed: u64, training: bool },
    /// `nd.random.multinomial(probs, shape, get_prob=True)` after seeding the generator with
    /// `seed`: `shape` draws from each row of `probs` (a softmax along the last axis); the
    /// register holds their log-probabilities, the draws themselves are kept aside
    /// (`run::forward`) to tell when a perturbation moved one to another category.
    Multinomial { probs: Reg, shape: Vec<usize>, seed: u64 },
    /// `mul_tanh(a, b) = a * tanh(b)` of two arrays of one shape, as a custom function: its
    /// forward and backward are given from outside the op set (`run::MulTanh`, and
    /// `PYTHON_PRELUDE`'s `autograd.Function`), and its backward reads saved inputs, the
    /// saved output and a saved array that is neither.
    MulTanh(Reg, Reg),
    /// A creation or shape op (tests/gradfuzz/arrange.rs).
    Shape(crate::arrange::ShapeOp),
}

/// The Python definitions a program's text uses: `mul_tanh`, the custom function of
/// `Op::MulTanh`: da = dy * t, db = dy * (a - y * t) = dy * a * (1 - t^2), t = tanh(b).
/// t is computed again in backward from the saved input: a saved array that is neither an
/// input nor an output is a constant to second derivatives, so `half` (0.5 everywhere) is
/// the only such array it saves.
pub const PYTHON_PRELUDE: &str = "\
class MulTanh(autograd.Function):
    def forward(self, a, b):
        y = a * nd.tanh(b)
        self.save_for_backward(a, b, y, nd.ones_like(a) * 0.5)
        return y

    def backward(self, dy):
        a, b, y, half = self.saved_tensors
        t = nd.tanh(b)
        return dy * t * half * 2, dy * (a - y * t)


def mul_tanh(a, b):
    return MulTanh()(a, b)
";

#[derive(Clone, Debug)]
pub enum Def {
    Input(Input),
    Op(Op),
}

/// How the heads are differentiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backward {
    /// `backward(heads, head_grads)` into grad_req 'write' buffers.
    Plain,
    /// grad_req 'add': `backward` with `retain_graph`, then again: twice the gradient.
    AddTwice,
    /// `backward` with `retain_graph`, then again: the same gradient.
    RetainTwice,
    /// `autograd.grad(heads, variables, head_grads)`.
    Grad,
    /// `autograd.grad(..., create_graph=True)`, then `backward` of Σ ⟨g_i, v_i⟩: the
    /// Hessian-vector products H·v.
    Second,
}

#[derive(Clone, Debug)]
pub struct Program {
    /// The campaign seed and the program's number in it (what reproduces it).
    pub seed: u64,
    pub number: u64,
    pub defs: Vec<Def>,
    /// Each register's shape.
    pub shapes: Vec<Vec<usize>>,
    pub heads: Vec<Reg>,
    /// One per head: `None` for ones.
    pub head_grads: Vec<Option<Vec<f64>>>,
    pub backward: Backward,
    /// One direction per variable, for `Backward::Second`.
    pub directions: Vec<Vec<f64>>,
    /// The thread count the default mode runs with.
    pub threads: usize,
    /// Large arrays: the finite differences are taken at a few sampled elements only.
    pub large: bool,
}

impl Program {
    pub fn variables(&self) -> impl Iterator<Item = (Reg, &Input)> {
        self.defs.iter().enumerate().filter_map(|(r, d)| match d {
            Def::Input(i) if i.kind == InputKind::Variable => Some((r, i)),
            _ => None,
        })
    }

    /// Each register's name in the Python text.
    pub fn names(&self) -> Vec<String> {
        let (mut x, mut c, mut r) = (0, 0, 0);
        let next = |n: &mut usize, p: &str| {
            *n += 1;
            format!("{}{}", p, *n - 1)
        };
        self.defs
            .iter()
            .map(|d| match d {
                Def::Input(i) if i.kind == InputKind::Variable => next(&mut x, "x"),
                Def::Input(_) => next(&mut c, "c"),
                Def::Op(_) => next(&mut r, "r"),
            })
            .collect()
    }

    /// The ops as lines of Python (one per op; an op in prediction mode takes a `with`).
    pub fn python_body(&self) -> Vec<String> {
        let names = self.names();
        let n = |r: &Reg| names[*r].clone();
        let list = |rs: &[Reg]| rs.iter().map(n).collect::<Vec<_>>().join(", ");
        let mut lines = Vec::new();
        for (r, def) in self.defs.iter().enumerate() {
            let Def::Op(op) = def else { continue };
            let expr = match op {
                Op::Unary(Unary::Neg, a) => format!("-{}", n(a)),
                Op::Unary(u, a) => format!("nd.{}({})", unary_name(*u), n(a)),
                Op::Scalar(s, a, v) => {
                    let (a, v) = (n(a), py_float(*v));
                    match s {
                        Scalar::Add => format!("{a} + {v}"),
                        Scalar::RAdd => format!("{v} + {a}"),
                        Scalar::Sub => format!("{a} - {v}"),
                        Scalar::RSub => format!("{v} - {a}"),
                        Scalar::Mul => format!("{a} * {v}"),
                        Scalar::RMul => format!("{v} * {a}"),
                        Scalar::Div => format!("{a} / {v}"),
                        Scalar::RDiv => format!("{v} / {a}"),
                        Scalar::Pow => format!("{a} ** {v}"),
                        Scalar::RPow => format!("{v} ** {a}"),
                        Scalar::Max => format!("nd.maximum({a}, {v})"),
                        Scalar::Min => format!("nd.minimum({a}, {v})"),
                    }
                }
                Op::Binary(b, x, y) => {
                    let (x, y) = (n(x), n(y));
                    match b {
                        Binary::Add => format!("{x} + {y}"),
                        Binary::Sub => format!("{x} - {y}"),
                        Binary::Mul => format!("{x} * {y}"),
                        Binary::Div => format!("{x} / {y}"),
                        Binary::Pow => format!("{x} ** {y}"),
                        Binary::Maximum => format!("nd.maximum({x}, {y})"),
                        Binary::Minimum => format!("nd.minimum({x}, {y})"),
                    }
                }
                Op::Reduce(k, a, axes, keepdims) => {
                    let f = match k {
                        Reduce::Sum => "sum",
                        Reduce::Mean => "mean",
                        Reduce::Max => "max",
                        Reduce::Min => "min",
                        Reduce::Norm | Reduce::Norm1 => "norm",
                        Reduce::Prod => "prod",
                        Reduce::Nansum => "nansum",
                        Reduce::Nanprod => "nanprod",
                    };
                    let axis = if axes.is_empty() { "None".to_string() } else { py_tuple(axes) };
                    if *k == Reduce::Norm1 {
                        format!("nd.norm({}, ord=1, axis={axis}, keepdims={})", n(a), py_bool(*keepdims))
                    } else if axes.is_empty() && !keepdims {
                        // The method without arguments: the C extension's own path.
                        format!("{}.{f}()", n(a))
                    } else {
                        format!("nd.{f}({}, axis={axis}, keepdims={})", n(a), py_bool(*keepdims))
                    }
                }
                Op::Dot(a, b, ta, tb) => {
                    format!("nd.dot({}, {}, transpose_a={}, transpose_b={})", n(a), n(b), py_bool(*ta), py_bool(*tb))
                }
                Op::BatchDot(a, b, ta, tb) => {
                    format!("nd.batch_dot({}, {}, transpose_a={}, transpose_b={})", n(a), n(b), py_bool(*ta), py_bool(*tb))
                }
                Op::Reshape(a, shape) => format!("{}.reshape({})", n(a), py_tuple(shape)),
                Op::Flatten(a) => format!("nd.flatten({})", n(a)),
                Op::Copy(a) => format!("{}.copy()", n(a)),
                Op::Cast(a) => format!("{}.astype('float64').astype(dtype)", n(a)),
                Op::Transpose(a, axes) if axes.is_empty() => format!("nd.transpose({})", n(a)),
                Op::Transpose(a, axes) => format!("nd.transpose({}, axes={})", n(a), py_tuple(axes)),
                Op::BroadcastTo(a, shape) => format!("nd.broadcast_to({}, {})", n(a), py_tuple(shape)),
                Op::Slice(a, index) => {
                    let parts: Vec<String> = index
                        .iter()
                        .map(|ix| match *ix {
                            AxisIndex::At(i) => i.to_string(),
                            AxisIndex::Range { start, stop, step } => {
                                // A normalised stop of -1 (before the first element, going down)
                                // is Python's None: -1 in a slice means the last element.
                                let stop = if stop < 0 { String::new() } else { stop.to_string() };
                                if step == 1 { format!("{start}:{stop}") } else { format!("{start}:{stop}:{step}") }
                            }
                        })
                        .collect();
                    format!("{}[{}]", n(a), parts.join(", "))
                }
                Op::Concat(rs, axis) => format!("nd.concat({}, dim={axis})", list(rs)),
                Op::Stack(rs, axis) => format!("nd.stack({}, axis={axis})", list(rs)),
                Op::Where(c, a, b) => format!("nd.where({}, {}, {})", n(c), n(a), n(b)),
                Op::MulTanh(a, b) => format!("mul_tanh({}, {})", n(a), n(b)),
                Op::Clip(a, lo, hi) => format!("nd.clip({}, {}, {})", n(a), py_float(*lo), py_float(*hi)),
                Op::Softmax(a, axis) => format!("nd.softmax({}, axis={axis})", n(a)),
                Op::LogSoftmax(a, axis) => format!("nd.log_softmax({}, axis={axis})", n(a)),
                Op::SoftmaxCrossEntropy(a, l) => format!("nd.softmax_cross_entropy({}, {})", n(a), n(l)),
                Op::Pick(a, i, axis, keepdims) => {
                    format!("nd.pick({}, {}, axis={axis}, keepdims={})", n(a), n(i), py_bool(*keepdims))
                }
                Op::OneHot(i, depth) => format!("nd.one_hot({}, {depth}, dtype=dtype)", n(i)),
                Op::FullyConnected(x, w, b, flatten) => {
                    let hidden = self.shapes[*w][0];
                    let bias = match b {
                        Some(b) => format!("{}, num_hidden={hidden}", n(b)),
                        None => format!("None, num_hidden={hidden}, no_bias=True"),
                    };
                    format!("nd.FullyConnected({}, {}, {bias}, flatten={})", n(x), n(w), py_bool(*flatten))
                }
                Op::BatchNorm { x, gamma, beta, mean, var, axis, fix_gamma, .. } => format!(
                    "nd.BatchNorm({}, {}, {}, {}, {}, eps=1e-3, momentum=0.9, fix_gamma={}, axis={axis})",
                    n(x),
                    n(gamma),
                    n(beta),
                    n(mean),
                    n(var),
                    py_bool(*fix_gamma)
                ),
                Op::Dropout { x, p, .. } => format!("nd.Dropout({}, p={})", n(x), py_float(*p)),
                Op::Multinomial { probs, shape, .. } => {
                    let shape = if shape.is_empty() { String::new() } else { format!("shape={}, ", py_tuple(shape)) };
                    format!("nd.random.multinomial({}, {shape}get_prob=True, dtype=dtype)", n(probs))
                }
                Op::Shape(s) => s.python(&n),
            };
            let line = format!("{} = {}", names[r], expr);
            match op {
                Op::BatchNorm { training: false, .. } | Op::Dropout { training: false, .. } => {
                    lines.push("with autograd.predict_mode():".to_string());
                    lines.push(format!("    {line}"));
                }
                Op::Dropout { seed, .. } => {
                    lines.push(format!("nd.random.seed({seed})"));
                    lines.push(line);
                }
                // The draws under their own name (`draws_name`): the Python fuzzer compares
                // them too.
                Op::Multinomial { seed, .. } => {
                    lines.push(format!("nd.random.seed({seed})"));
                    lines.push(format!("{}, {} = {expr}", draws_name(&names[r]), names[r]));
                }
                _ => lines.push(line),
            }
        }
        lines
    }

    /// The program as a Python script that runs it and prints the gradients (float64).
    pub fn python_script(&self) -> String {
        let names = self.names();
        let mut s = String::new();
        let _ = writeln!(s, "# gradfuzz seed {} program {} ({:?})", self.seed, self.number, self.backward);
        let _ = writeln!(s, "from ad import autograd, nd\ndtype = 'float64'\n{PYTHON_PRELUDE}");
        for (r, def) in self.defs.iter().enumerate() {
            if let Def::Input(i) = def {
                let _ = write!(s, "{} = {}", names[r], py_array(&i.values, &i.shape));
                if i.kind == InputKind::Variable {
                    let req = if self.backward == Backward::AddTwice { "'add'" } else { "'write'" };
                    let _ = write!(s, "; {}.attach_grad({req})", names[r]);
                }
                s.push('\n');
            }
        }
        let heads = self.heads.iter().map(|h| names[*h].clone()).collect::<Vec<_>>().join(", ");
        let grads = self
            .head_grads
            .iter()
            .zip(&self.heads)
            .map(|(g, h)| match g {
                Some(v) => py_array(v, &self.shapes[*h]),
                None => "None".to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let vars: Vec<String> = self.variables().map(|(r, _)| names[r].clone()).collect();
        let _ = writeln!(s, "with autograd.record():");
        for line in self.python_body() {
            let _ = writeln!(s, "    {line}");
        }
        let call = format!("[{heads}], head_grads=[{grads}]");
        match self.backward {
            Backward::Plain => {
                let _ = writeln!(s, "autograd.backward({call})");
            }
            Backward::AddTwice | Backward::RetainTwice => {
                let _ = writeln!(s, "autograd.backward({call}, retain_graph=True)\nautograd.backward({call})");
            }
            Backward::Grad => {
                let _ = writeln!(s, "print(autograd.grad([{heads}], [{}], head_grads=[{grads}]))", vars.join(", "));
            }
            Backward::Second => {
                let _ = writeln!(s, "with autograd.record():");
                let _ = writeln!(s, "    g = autograd.grad([{heads}], [{}], head_grads=[{grads}], create_graph=True)", vars.join(", "));
                let terms: Vec<String> = self
                    .directions
                    .iter()
                    .zip(self.variables())
                    .enumerate()
                    .map(|(k, (d, (_, input)))| format!("(g[{k}] * {}).sum()", py_array(d, &input.shape)))
                    .collect();
                let _ = writeln!(s, "    m = {}", terms.join(" + "));
                let _ = writeln!(s, "m.backward()");
            }
        }
        if self.backward != Backward::Grad {
            for v in &vars {
                let _ = writeln!(s, "print({v}.grad)");
            }
        }
        s
    }
}

/// The Python name of the draws of the multinomial op whose log-probabilities are `name`.
pub fn draws_name(name: &str) -> String {
    format!("{name}_draws")
}

pub fn unary_name(u: Unary) -> &'static str {
    match u {
        Unary::Neg => "negative",
        Unary::Exp => "exp",
        Unary::Log => "log",
        Unary::Sqrt => "sqrt",
        Unary::Abs => "abs",
        Unary::Square => "square",
        Unary::Relu => "relu",
        Unary::Sigmoid => "sigmoid",
        Unary::Tanh => "tanh",
        Unary::Sin => "sin",
        Unary::Cos => "cos",
        Unary::Tan => "tan",
        Unary::Arcsin => "arcsin",
        Unary::Arccos => "arccos",
        Unary::Arctan => "arctan",
        Unary::Sinh => "sinh",
        Unary::Cosh => "cosh",
        Unary::Arcsinh => "arcsinh",
        Unary::Arccosh => "arccosh",
        Unary::Arctanh => "arctanh",
        Unary::Log2 => "log2",
        Unary::Log10 => "log10",
        Unary::Log1p => "log1p",
        Unary::Expm1 => "expm1",
        Unary::Cbrt => "cbrt",
        Unary::Rcbrt => "rcbrt",
        Unary::Rsqrt => "rsqrt",
        Unary::Reciprocal => "reciprocal",
        Unary::Radians => "radians",
        Unary::Degrees => "degrees",
        Unary::Erf => "erf",
        Unary::Gamma => "gamma",
        Unary::Gammaln => "gammaln",
        Unary::Floor => "floor",
        Unary::Ceil => "ceil",
        Unary::Round => "round",
        Unary::Rint => "rint",
        Unary::Trunc => "trunc",
        Unary::Fix => "fix",
        Unary::Sign => "sign",
    }
}

pub fn py_float(v: f64) -> String {
    let s = format!("{v:?}");
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") { s } else { format!("{s}.0") }
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

/// `nd.array([...], dtype=dtype).reshape(shape)`.
pub fn py_array(values: &[f64], shape: &[usize]) -> String {
    let vals: Vec<String> = values.iter().map(|&v| py_float(v)).collect();
    format!("nd.array([{}], dtype=dtype).reshape({})", vals.join(", "), py_tuple(shape))
}
