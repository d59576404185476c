//! Runs a program on the engine: its forward pass, each way of differentiating it, and the
//! finite differences its gradients are checked against.

use std::sync::Arc;

use ad::array::random;
use ad::autograd::{self, GradReq, ScopeKind};
use ad::ops;
use ad::ops::custom::CustomFunction;
use ad::{DType, NdArray, Result};

use crate::program::*;

/// Every input's values, by register (empty for op results).
pub type Values = Vec<Vec<f64>>;

pub fn input_values(p: &Program) -> Values {
    p.defs.iter().map(|d| if let Def::Input(i) = d { i.values.clone() } else { Vec::new() }).collect()
}

/// An array of `dtype` holding `values`.
pub fn array(values: &[f64], shape: &[usize], dtype: DType) -> NdArray {
    match dtype {
        DType::F64 => NdArray::from_slice(values, shape),
        DType::F32 => NdArray::from_slice(&values.iter().map(|&v| v as f32).collect::<Vec<_>>(), shape),
        other => panic!("the programs are differentiated in float32 and float64, not {}", other.name()),
    }
    .expect("values fit the shape")
}

/// Runs `f` inside a scope of `kind`, closing it also when `f` fails.
pub fn scoped<R>(kind: ScopeKind, train: bool, f: impl FnOnce() -> Result<R>) -> Result<R> {
    autograd::scope_begin(kind, train);
    let r = f();
    autograd::scope_end(kind).expect("the scope opened above is the innermost");
    r
}

/// `a * tanh(b)` as a custom function (`Op::MulTanh`), its backward written with the
/// engine's ops so that it is differentiable again: it saves the inputs, the output and a
/// constant (`half`, neither input nor output), and gives no gradient where none is wanted.
pub struct MulTanh;

impl CustomFunction for MulTanh {
    fn name(&self) -> &str {
        "mul_tanh"
    }

    fn forward(&self, inputs: &[NdArray], saved: &mut Vec<NdArray>) -> Result<Vec<NdArray>> {
        let (a, b) = (&inputs[0], &inputs[1]);
        let y = ops::mul(a, &ops::tanh(b)?)?;
        let half = NdArray::full(a.shape(), 0.5, a.dtype())?;
        saved.extend([a.clone(), b.clone(), y.clone(), half]);
        Ok(vec![y])
    }

    fn backward(&self, output_grads: &[NdArray], saved: &[NdArray], needs: &[bool]) -> Result<Vec<Option<NdArray>>> {
        let (dy, a, b, y, half) = (&output_grads[0], &saved[0], &saved[1], &saved[2], &saved[3]);
        // tanh(b) again, from the saved input: computed in forward it would be a constant
        // to second derivatives.
        let t = ops::tanh(b)?;
        let da = if needs[0] { Some(ops::mul_scalar(&ops::mul(&ops::mul(dy, &t)?, half)?, 2.0)?) } else { None };
        let db = if needs[1] { Some(ops::mul(dy, &ops::sub(a, &ops::mul(y, &t)?)?)?) } else { None };
        Ok(vec![da, db])
    }
}

/// One op on the registers computed so far.
pub fn eval_op(op: &Op, regs: &[NdArray]) -> Result<NdArray> {
    let r = |i: &Reg| &regs[*i];
    match op {
        Op::Unary(u, a) => {
            let f = match u {
                Unary::Neg => ops::neg,
                Unary::Exp => ops::exp,
                Unary::Log => ops::log,
                Unary::Sqrt => ops::sqrt,
                Unary::Abs => ops::abs,
                Unary::Square => ops::square,
                Unary::Relu => ops::relu,
                Unary::Sigmoid => ops::sigmoid,
                Unary::Tanh => ops::tanh,
                Unary::Sin => ops::sin,
                Unary::Cos => ops::cos,
                Unary::Tan => ops::tan,
                Unary::Arcsin => ops::arcsin,
                Unary::Arccos => ops::arccos,
                Unary::Arctan => ops::arctan,
                Unary::Sinh => ops::sinh,
                Unary::Cosh => ops::cosh,
                Unary::Arcsinh => ops::arcsinh,
                Unary::Arccosh => ops::arccosh,
                Unary::Arctanh => ops::arctanh,
                Unary::Log2 => ops::log2,
                Unary::Log10 => ops::log10,
                Unary::Log1p => ops::log1p,
                Unary::Expm1 => ops::expm1,
                Unary::Cbrt => ops::cbrt,
                Unary::Rcbrt => ops::rcbrt,
                Unary::Rsqrt => ops::rsqrt,
                Unary::Reciprocal => ops::reciprocal,
                Unary::Radians => ops::radians,
                Unary::Degrees => ops::degrees,
                Unary::Erf => ops::erf,
                Unary::Gamma => ops::gamma,
                Unary::Gammaln => ops::gammaln,
                Unary::Floor => ops::floor,
                Unary::Ceil => ops::ceil,
                Unary::Round => ops::round,
                Unary::Rint => ops::rint,
                Unary::Trunc => ops::trunc,
                Unary::Fix => ops::fix,
                Unary::Sign => ops::sign,
            };
            f(r(a))
        }
        Op::Scalar(s, a, v) => {
            let (a, v) = (r(a), *v);
            match s {
                Scalar::Add | Scalar::RAdd => ops::add_scalar(a, v),
                Scalar::Sub => ops::sub_scalar(a, v),
                Scalar::RSub => ops::rsub_scalar(v, a),
                Scalar::Mul | Scalar::RMul => ops::mul_scalar(a, v),
                Scalar::Div => ops::div_scalar(a, v),
                Scalar::RDiv => ops::rdiv_scalar(v, a),
                Scalar::Pow => ops::pow_scalar(a, v),
                Scalar::RPow => ops::rpow_scalar(v, a),
                Scalar::Max => ops::maximum_scalar(a, v),
                Scalar::Min => ops::minimum_scalar(a, v),
            }
        }
        Op::Binary(b, x, y) => {
            let f = match b {
                Binary::Add => ops::add,
                Binary::Sub => ops::sub,
                Binary::Mul => ops::mul,
                Binary::Div => ops::div,
                Binary::Pow => ops::pow,
                Binary::Maximum => ops::maximum,
                Binary::Minimum => ops::minimum,
            };
            f(r(x), r(y))
        }
        Op::Reduce(k, a, axes, keepdims) => {
            let f = match k {
                Reduce::Sum => ops::sum,
                Reduce::Mean => ops::mean,
                Reduce::Max => ops::max,
                Reduce::Min => ops::min,
                Reduce::Norm => ops::norm,
                Reduce::Norm1 => ops::norm1,
                Reduce::Prod => ops::prod,
                Reduce::Nansum => ops::nansum,
                Reduce::Nanprod => ops::nanprod,
            };
            f(r(a), axes, *keepdims)
        }
        Op::Dot(a, b, ta, tb) => ops::dot(r(a), r(b), *ta, *tb),
        Op::BatchDot(a, b, ta, tb) => ops::batch_dot(r(a), r(b), *ta, *tb),
        Op::Reshape(a, shape) => ops::reshape(r(a), shape),
        Op::Flatten(a) => ops::flatten(r(a)),
        Op::Copy(a) => ops::copy(r(a)),
        Op::Cast(a) => ops::astype(&ops::astype(r(a), DType::F64)?, r(a).dtype()),
        Op::Transpose(a, axes) => ops::transpose(r(a), axes),
        Op::BroadcastTo(a, shape) => ops::broadcast_to(r(a), shape),
        Op::Slice(a, index) => ops::slice(r(a), index),
        Op::Concat(rs, axis) => ops::concat(&rs.iter().map(|i| r(i).clone()).collect::<Vec<_>>(), *axis),
        Op::Stack(rs, axis) => ops::stack(&rs.iter().map(|i| r(i).clone()).collect::<Vec<_>>(), *axis),
        Op::Where(c, a, b) => ops::where_(r(c), r(a), r(b)),
        Op::MulTanh(a, b) => Ok(ops::custom::apply(Arc::new(MulTanh), &[r(a).clone(), r(b).clone()])?.remove(0)),
        Op::Clip(a, lo, hi) => ops::clip(r(a), *lo, *hi),
        Op::Softmax(a, axis) => ops::softmax(r(a), *axis),
        Op::LogSoftmax(a, axis) => ops::log_softmax(r(a), *axis),
        // Summed over the rows, as MXNet's (and the Python package's) nd.softmax_cross_entropy.
        Op::SoftmaxCrossEntropy(a, l) => ops::softmax_cross_entropy(r(a), r(l), true),
        Op::Pick(a, i, axis, keepdims) => ops::pick(r(a), r(i), *axis, *keepdims),
        Op::OneHot(i, depth) => ops::one_hot(r(i), *depth, 1.0, 0.0, r(i).dtype()),
        Op::FullyConnected(x, w, b, flatten) => ops::fully_connected(r(x), r(w), b.as_ref().map(r), *flatten),
        Op::BatchNorm { x, gamma, beta, mean, var, axis, fix_gamma, training } => {
            let f = || ops::batch_norm(r(x), r(gamma), r(beta), r(mean), r(var), 0.9, 1e-3, *axis, *fix_gamma, false);
            if *training { f() } else { scoped(ScopeKind::PredictMode, false, f) }
        }
        Op::Dropout { x, p, seed, training } => {
            let f = || {
                random::seed(*seed);
                ops::dropout(r(x), *p)
            };
            if *training { f() } else { scoped(ScopeKind::PredictMode, false, f) }
        }
        Op::Multinomial { probs, shape, seed } => Ok(multinomial(r(probs), shape, *seed)?.1),
        Op::Shape(s) => s.eval(regs),
    }
}

/// `Op::Multinomial`: the draws and their log-probabilities, the generator reseeded first so
/// that every evaluation draws from the same uniforms.
pub fn multinomial(probs: &NdArray, shape: &[usize], seed: u64) -> Result<(NdArray, NdArray)> {
    random::seed(seed);
    let (draws, log_prob) = ops::sample_multinomial(probs, shape, probs.dtype(), true)?;
    Ok((draws, log_prob.expect("asked for")))
}

/// Every register, from `values`, and the categories the multinomial ops drew (in program
/// order); variables get gradient buffers of `req` when given.
pub fn forward(p: &Program, dtype: DType, values: &Values, req: Option<GradReq>) -> Result<(Vec<NdArray>, Vec<f64>)> {
    let mut regs: Vec<NdArray> = Vec::with_capacity(p.defs.len());
    let mut draws = Vec::new();
    for (r, def) in p.defs.iter().enumerate() {
        let a = match def {
            Def::Input(i) => {
                let mut a = array(&values[r], &i.shape, dtype);
                if let (InputKind::Variable, Some(req)) = (i.kind, req) {
                    autograd::attach_grad(&mut a, req)?;
                }
                a
            }
            Def::Op(Op::Multinomial { probs, shape, seed }) => {
                let (drawn, log_prob) = multinomial(&regs[*probs], shape, *seed)?;
                draws.extend(drawn.to_f64_vec());
                log_prob
            }
            Def::Op(op) => eval_op(op, &regs)?,
        };
        regs.push(a);
    }
    Ok((regs, draws))
}

/// Σ over heads of Σ head ⊙ head gradient (ones where none is given): what backward
/// differentiates.
fn objective(p: &Program, regs: &[NdArray]) -> f64 {
    let mut sum = Neumaier::default();
    for (&h, g) in p.heads.iter().zip(&p.head_grads) {
        let v = regs[h].to_f64_vec();
        match g {
            Some(g) => v.iter().zip(g).for_each(|(a, b)| sum.add(a * b)),
            None => v.iter().for_each(|&a| sum.add(a)),
        }
    }
    sum.total()
}

/// Compensated summation: the objective of a large program sums many terms, and a plain sum's
/// rounding, divided by the small step of a difference quotient, would swamp it.
#[derive(Default)]
struct Neumaier {
    sum: f64,
    carry: f64,
}

impl Neumaier {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.carry += if self.sum.abs() >= x.abs() { (self.sum - t) + x } else { (x - t) + self.sum };
        self.sum = t;
    }

    fn total(&self) -> f64 {
        self.sum + self.carry
    }
}

/// The step of the central differences, relative to max(1, |x|): larger for large programs,
/// whose sums over many elements round more (and whose quotients are extrapolated from this
/// step and its half, see `finite_differences`).
pub fn step(p: &Program) -> f64 {
    if p.large { 1e-3 } else { 1e-6 }
}

/// The objective at `values`, in float64, without recording (training mode, as recorded),
/// and the categories drawn on the way.
fn objective_at(p: &Program, values: &Values) -> Result<(f64, Vec<f64>)> {
    scoped(ScopeKind::Pause, true, || {
        let (regs, draws) = forward(p, DType::F64, values, None)?;
        Ok((objective(p, &regs), draws))
    })
}

/// What a run of a program gives: its heads' values and the gradients of its variables, in
/// the order of `Program::variables` (for `Backward::Second`, the Hessian-vector products).
#[derive(Clone, Debug)]
pub struct Outcome {
    pub heads: Vec<Vec<f64>>,
    pub grads: Vec<Vec<f64>>,
    /// Each variable after `w -= 0.5 * grad`, in place.
    pub stepped: Vec<Vec<f64>>,
    /// The categories the multinomial ops drew.
    pub draws: Vec<f64>,
}

/// Runs the program in `dtype` from `values` and differentiates it as it says.
pub fn differentiate(p: &Program, dtype: DType, values: &Values) -> Result<Outcome> {
    let req = if p.backward == Backward::AddTwice { GradReq::Add } else { GradReq::Write };
    let head_grads: Vec<Option<NdArray>> =
        p.head_grads.iter().zip(&p.heads).map(|(g, &h)| g.as_ref().map(|g| array(g, &p.shapes[h], dtype))).collect();
    let (regs, draws, second) = scoped(ScopeKind::Record, true, || {
        let (regs, draws) = forward(p, dtype, values, Some(req))?;
        if p.backward != Backward::Second {
            return Ok((regs, draws, None));
        }
        let heads: Vec<NdArray> = p.heads.iter().map(|&h| regs[h].clone()).collect();
        let vars: Vec<NdArray> = p.variables().map(|(r, _)| regs[r].clone()).collect();
        let g = autograd::grad(&heads, &vars, &head_grads, true, true, true)?;
        let mut m: Option<NdArray> = None;
        for ((gi, d), (_, input)) in g.iter().zip(&p.directions).zip(p.variables()) {
            let term = ops::sum(&ops::mul(gi, &array(d, &input.shape, dtype))?, &[], false)?;
            m = Some(match m {
                None => term,
                Some(m) => ops::add(&m, &term)?,
            });
        }
        Ok((regs, draws, m))
    })?;
    let heads: Vec<NdArray> = p.heads.iter().map(|&h| regs[h].clone()).collect();
    let vars: Vec<NdArray> = p.variables().map(|(r, _)| regs[r].clone()).collect();
    let read = |vars: &[NdArray]| -> Vec<Vec<f64>> {
        vars.iter().map(|v| autograd::grad_of(v).expect("a variable has a gradient").to_f64_vec()).collect()
    };
    let grads = match p.backward {
        Backward::Plain => {
            autograd::backward(&heads, &head_grads, false, true)?;
            read(&vars)
        }
        Backward::AddTwice | Backward::RetainTwice => {
            autograd::backward(&heads, &head_grads, true, true)?;
            autograd::backward(&heads, &head_grads, false, true)?;
            let g = read(&vars);
            // Added twice: halved (exactly) to compare with one gradient.
            if p.backward == Backward::AddTwice { g.into_iter().map(|v| v.into_iter().map(|x| x / 2.0).collect()).collect() } else { g }
        }
        Backward::Grad => {
            let g = autograd::grad(&heads, &vars, &head_grads, false, false, true)?;
            // Half the programs compute their heads first: a pending sum then computes a
            // pending gradient that shares its work on its way (`ops::fuse`), where reading
            // the gradients first computes the sum on theirs.
            if p.number % 2 == 1 {
                heads.iter().for_each(|h| h.wait_to_read());
            }
            g.iter().map(|g| g.to_f64_vec()).collect()
        }
        Backward::Second => {
            let m = second.expect("made above");
            autograd::backward(&[m], &[], false, true)?;
            read(&vars)
        }
    };
    // Read before the step below, which writes the variables (a head may be one of them).
    let heads: Vec<Vec<f64>> = heads.iter().map(|h| h.to_f64_vec()).collect();
    // A step of gradient descent taken in place, as a training loop takes it (`w -= lr * g`,
    // whose temporary runs straight into w when it is pending).
    let mut stepped = Vec::new();
    for (v, g) in vars.iter().zip(&grads) {
        let g = array(g, v.shape(), dtype);
        ops::update(v, &ops::mul_scalar(&g, 0.5)?, ops::InPlace::Sub)?;
        stepped.push(v.to_f64_vec());
    }
    Ok(Outcome { heads, grads, stepped, draws })
}

/// The elements of each variable that the finite differences look at: all of them, or a few
/// for large arrays.
pub fn probed(p: &Program, pick: &mut impl FnMut(usize) -> usize) -> Vec<Vec<usize>> {
    p.variables()
        .map(|(_, i)| {
            let n = i.values.len();
            if p.large && n > 8 {
                let mut at: Vec<usize> = (0..6).map(|_| pick(n)).collect();
                at.sort_unstable();
                at.dedup();
                at
            } else {
                (0..n).collect()
            }
        })
        .collect()
}

/// Central differences and where they cross a jump.
pub struct Differences {
    /// One per probed element (with `Backward::Second`, one per element of each variable).
    pub values: Vec<Vec<f64>>,
    /// Where a perturbed evaluation drew another category than `drawn` (the unperturbed
    /// draws) at some multinomial op: its log-probability jumped from one category's to
    /// another's, so the quotient measures the jump, not the slope.
    pub jumped: Vec<Vec<bool>>,
}

/// Central differences of the objective (float64) at the probed elements; with
/// `Backward::Second`, of the first derivative along the directions instead. `drawn`: the
/// categories the unperturbed program draws.
pub fn finite_differences(p: &Program, probes: &[Vec<usize>], drawn: &[f64]) -> Result<Differences> {
    let values = input_values(p);
    let vars: Vec<Reg> = p.variables().map(|(r, _)| r).collect();
    if p.backward == Backward::Second {
        // H·v ≈ (∇L(x + εv) − ∇L(x − εv)) / 2ε, each gradient a plain first-order backward.
        let first = Program { backward: Backward::Plain, ..p.clone() };
        let eps = 1e-5;
        let moved = |sign: f64| {
            let mut v = values.clone();
            for (&r, d) in vars.iter().zip(&p.directions) {
                v[r].iter_mut().zip(d).for_each(|(x, d)| *x += sign * eps * d);
            }
            v
        };
        let plus = differentiate(&first, DType::F64, &moved(1.0))?;
        let minus = differentiate(&first, DType::F64, &moved(-1.0))?;
        // Every element moved at once: one crossing spoils them all.
        let crossed = plus.draws != drawn || minus.draws != drawn;
        let values: Vec<Vec<f64>> =
            plus.grads.iter().zip(&minus.grads).map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y) / (2.0 * eps)).collect()).collect();
        let jumped = values.iter().map(|g| vec![crossed; g.len()]).collect();
        return Ok(Differences { values, jumped });
    }
    let (mut out, mut jumped) = (Vec::with_capacity(vars.len()), Vec::with_capacity(vars.len()));
    for (&r, at) in vars.iter().zip(probes) {
        let (mut g, mut crossed) = (Vec::with_capacity(at.len()), Vec::with_capacity(at.len()));
        for &j in at {
            let h = step(p) * values[r][j].abs().max(1.0);
            let quotient = |h: f64| -> Result<(f64, bool)> {
                let mut v = values.clone();
                v[r][j] += h;
                let (up, up_draws) = objective_at(p, &v)?;
                v[r][j] -= 2.0 * h;
                let (down, down_draws) = objective_at(p, &v)?;
                Ok(((up - down) / (2.0 * h), up_draws != drawn || down_draws != drawn))
            };
            let (d, jump) = quotient(h)?;
            if p.large {
                // The large step leaves an error of h²·f‴/6, which a sum over many elements
                // (a scalar broadcast to 281,600 of them) makes larger than the tolerance:
                // Richardson's combination with the half step cancels it.
                let (half, half_jump) = quotient(h / 2.0)?;
                g.push((4.0 * half - d) / 3.0);
                crossed.push(jump || half_jump);
            } else {
                g.push(d);
                crossed.push(jump);
            }
        }
        out.push(g);
        jumped.push(crossed);
    }
    Ok(Differences { values: out, jumped })
}

/// The magnitude of the objective's terms, which with the longest sum in the program bounds
/// the rounding error of a difference quotient: Σ |head ⊙ head gradient|.
pub fn term_scale(p: &Program, heads: &[Vec<f64>]) -> f64 {
    heads
        .iter()
        .zip(&p.head_grads)
        .map(|(v, g)| match g {
            Some(g) => v.iter().zip(g).map(|(a, b)| (a * b).abs()).sum::<f64>(),
            None => v.iter().map(|a| a.abs()).sum(),
        })
        .sum()
}
