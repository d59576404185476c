//! Finite-difference checks of every differentiable op in `ad::ops`, in float64.
//!
//! `check_grad` differentiates `F(x) = sum(f(x) * w)` for a fixed random weight `w` (so the
//! head gradient is not all ones) three ways: `autograd::backward` into attached buffers,
//! `autograd::grad` (functional), and central differences perturbing one input element at a
//! time. `check_second` does the same one order up: it differentiates `sum_i <dF/dx_i, v_i>`
//! (a Hessian-vector product) through `grad(..., create_graph = true)` followed by
//! `backward`, against central differences of the first derivative.

mod common;

use ad::autograd::{self, GradReq, ScopeKind};
use common::record;
use ad::ops;
use ad::{DType, NdArray, Result};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Relative perturbation of central differences (scaled by max(1, |x|)).
const H: f64 = 1e-6;
/// Relative tolerance between the analytical and the numerical gradient.
const RTOL: f64 = 1e-6;
/// Absolute tolerance, multiplied by the magnitude of `F`'s terms: the rounding error of a
/// difference quotient grows with the values being differenced.
const ATOL: f64 = 1e-8;

/// A small deterministic generator (xorshift64*), so every check is reproducible and does
/// not share the library's process-wide generator with other tests.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn from_name(name: &str) -> Rng {
        // FNV-1a of the name: each check gets its own fixed weights.
        let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        Rng::new(h)
    }

    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// Values in [lo, hi).
    fn uniform(&mut self, shape: &[usize], lo: f64, hi: f64) -> Input {
        let vals = (0..size(shape)).map(|_| self.between(lo, hi)).collect();
        Input { vals, shape: shape.to_vec() }
    }

    /// Magnitudes in [lo, hi) with random signs: away from 0 (for abs, relu, div, ...).
    fn signed(&mut self, shape: &[usize], lo: f64, hi: f64) -> Input {
        let vals = (0..size(shape))
            .map(|_| {
                let m = self.between(lo, hi);
                if self.next_f64() < 0.5 { -m } else { m }
            })
            .collect();
        Input { vals, shape: shape.to_vec() }
    }

    /// Values `0.3k + [offset, offset + 0.1)` for integer k in [-4, 4]. Two arrays made with
    /// offsets 0 and 0.15 differ by at least 0.05 everywhere, under any broadcast: no ties for
    /// maximum / minimum.
    fn staggered(&mut self, shape: &[usize], offset: f64) -> Input {
        let vals = (0..size(shape))
            .map(|_| 0.3 * (self.between(-4.0, 5.0).floor()) + offset + 0.1 * self.next_f64())
            .collect();
        Input { vals, shape: shape.to_vec() }
    }

    /// A float64 array of random weights in [-1.5, 1.5).
    fn weights(&mut self, shape: &[usize]) -> NdArray {
        self.uniform(shape, -1.5, 1.5).array()
    }
}

fn size(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// The value of one input of a check.
#[derive(Clone, Debug)]
struct Input {
    vals: Vec<f64>,
    shape: Vec<usize>,
}

impl Input {
    fn array(&self) -> NdArray {
        NdArray::from_slice(&self.vals, &self.shape).unwrap()
    }

    /// This input with element `j` moved by `delta`.
    fn nudged(&self, j: usize, delta: f64) -> Input {
        let mut out = self.clone();
        out.vals[j] += delta;
        out
    }
}

/// Fresh float64 arrays for `inputs`, each attached with grad_req write.
fn variables(inputs: &[Input]) -> Vec<NdArray> {
    inputs
        .iter()
        .map(|i| {
            let mut x = i.array();
            autograd::attach_grad(&mut x, GradReq::Write).unwrap();
            x
        })
        .collect()
}

/// `f` on plain (unattached, unrecorded) arrays.
fn eval(f: &dyn Fn(&[NdArray]) -> Result<NdArray>, inputs: &[Input]) -> Vec<f64> {
    let xs: Vec<NdArray> = inputs.iter().map(Input::array).collect();
    f(&xs).unwrap().to_f64_vec()
}

/// `inputs` with element `j` of input `i` moved by `delta`.
fn nudge(inputs: &[Input], i: usize, j: usize, delta: f64) -> Vec<Input> {
    let mut out = inputs.to_vec();
    out[i] = inputs[i].nudged(j, delta);
    out
}

/// `|a - n| <= RTOL * max(|a|, |n|) + ATOL * scale`.
fn close(analytic: f64, numeric: f64, scale: f64) -> bool {
    (analytic - numeric).abs() <= RTOL * analytic.abs().max(numeric.abs()) + ATOL * scale
}

/// `sum_k |a_k * w_k|`, at least 1: the scale of `F`'s rounding error.
fn term_scale(vals: &[f64], w: &[f64]) -> f64 {
    vals.iter().zip(w).map(|(a, b)| (a * b).abs()).sum::<f64>().max(1.0)
}

/// Checks the gradient of `sum(f(inputs) * w)` with respect to every input: `backward`
/// with head gradient `w`, functional `grad`, and central differences must agree.
fn check_grad(name: &str, inputs: &[Input], f: impl Fn(&[NdArray]) -> Result<NdArray>) {
    let f: &dyn Fn(&[NdArray]) -> Result<NdArray> = &f;
    let xs = variables(inputs);
    let out = record(|| f(&xs)).unwrap_or_else(|e| panic!("{name}: forward failed: {e}"));
    let base = eval(f, inputs);
    assert_eq!(out.to_f64_vec(), base, "{name}: recorded and unrecorded forward values differ");
    let w = Rng::from_name(name).weights(out.shape());
    let wv = w.to_f64_vec();

    let functional = autograd::grad(&[out.clone()], &xs, &[Some(w.clone())], true, false, true)
        .unwrap_or_else(|e| panic!("{name}: grad failed: {e}"));
    for (x, input) in xs.iter().zip(inputs) {
        let buf = autograd::grad_of(x).unwrap().to_f64_vec();
        assert!(buf.iter().all(|&g| g == 0.0), "{name}: autograd::grad wrote into an attached gradient buffer");
        assert_eq!(buf.len(), input.vals.len());
    }
    autograd::backward(&[out], &[Some(w)], false, true).unwrap_or_else(|e| panic!("{name}: backward failed: {e}"));

    let scale = term_scale(&base, &wv);
    let mut failures = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let g = autograd::grad_of(&xs[i]).unwrap();
        assert_eq!(g.shape(), &input.shape[..], "{name}: gradient of input {i} has the wrong shape");
        assert_eq!(functional[i].shape(), &input.shape[..], "{name}: grad() of input {i} has the wrong shape");
        assert_eq!(functional[i].dtype(), DType::F64, "{name}: grad() of input {i} has the wrong dtype");
        let analytic = g.to_f64_vec();
        let func = functional[i].to_f64_vec();
        for j in 0..input.vals.len() {
            let h = H * input.vals[j].abs().max(1.0);
            let plus = eval(f, &nudge(inputs, i, j, h));
            let minus = eval(f, &nudge(inputs, i, j, -h));
            // Differencing element-wise first: outputs that do not depend on this element
            // cancel exactly instead of adding their rounding error to the quotient.
            let numeric = plus.iter().zip(&minus).zip(&wv).map(|((p, m), w)| (p - m) * w).sum::<f64>() / (2.0 * h);
            if !close(analytic[j], numeric, scale) {
                failures.push(format!("input {i} element {j}: backward {} vs numerical {numeric}", analytic[j]));
            }
            if (analytic[j] - func[j]).abs() > 1e-12 * (1.0 + analytic[j].abs()) {
                failures.push(format!("input {i} element {j}: backward {} vs grad() {}", analytic[j], func[j]));
            }
        }
    }
    assert!(failures.is_empty(), "{name}: gradient mismatch (inputs {inputs:?}):\n{}", failures.join("\n"));
}

/// `dF/dx_i` for `F = sum(f(inputs) * w)`, by functional `grad` without a graph.
fn first_grads(f: &dyn Fn(&[NdArray]) -> Result<NdArray>, inputs: &[Input], w: &NdArray) -> Vec<Vec<f64>> {
    let xs = variables(inputs);
    let out = record(|| f(&xs)).unwrap();
    let gs = autograd::grad(&[out], &xs, &[Some(w.clone())], false, false, true).unwrap();
    gs.iter().map(|g| g.to_f64_vec()).collect()
}

/// Checks second derivatives: with `g_i = dF/dx_i` from `grad(create_graph = true)`,
/// `backward(heads = g, head_grads = v)` must give `d(sum_i <g_i, v_i>)/dx_k`, compared
/// with central differences of `g`.
fn check_second(name: &str, inputs: &[Input], f: impl Fn(&[NdArray]) -> Result<NdArray>) {
    let f: &dyn Fn(&[NdArray]) -> Result<NdArray> = &f;
    let mut rng = Rng::from_name(name);
    let xs = variables(inputs);
    let out = record(|| f(&xs)).unwrap_or_else(|e| panic!("{name}: forward failed: {e}"));
    let w = rng.weights(out.shape());
    let vs: Vec<NdArray> = inputs.iter().map(|i| rng.weights(&i.shape)).collect();
    let vv: Vec<Vec<f64>> = vs.iter().map(|v| v.to_f64_vec()).collect();

    let gs = autograd::grad(&[out], &xs, &[Some(w.clone())], true, true, true)
        .unwrap_or_else(|e| panic!("{name}: grad with create_graph failed: {e}"));
    let plain = first_grads(f, inputs, &w);
    for (g, p) in gs.iter().zip(&plain) {
        assert_eq!(&g.to_f64_vec(), p, "{name}: create_graph changed the first derivative");
    }
    let head_grads: Vec<Option<NdArray>> = vs.into_iter().map(Some).collect();
    autograd::backward(&gs, &head_grads, false, true).unwrap_or_else(|e| panic!("{name}: second backward failed: {e}"));

    let scale = plain.iter().zip(&vv).map(|(g, v)| term_scale(g, v)).sum::<f64>();
    let mut failures = Vec::new();
    for (k, input) in inputs.iter().enumerate() {
        let analytic = autograd::grad_of(&xs[k]).unwrap().to_f64_vec();
        for j in 0..input.vals.len() {
            let h = H * input.vals[j].abs().max(1.0);
            let plus = first_grads(f, &nudge(inputs, k, j, h), &w);
            let minus = first_grads(f, &nudge(inputs, k, j, -h), &w);
            let mut numeric = 0.0;
            for i in 0..inputs.len() {
                numeric += plus[i].iter().zip(&minus[i]).zip(&vv[i]).map(|((p, m), v)| (p - m) * v).sum::<f64>();
            }
            numeric /= 2.0 * h;
            if !close(analytic[j], numeric, scale) {
                failures.push(format!("input {k} element {j}: backward {} vs numerical {numeric}", analytic[j]));
            }
        }
    }
    assert!(failures.is_empty(), "{name}: second-derivative mismatch (inputs {inputs:?}):\n{}", failures.join("\n"));
}

/// Operand shape pairs every binary op is checked with, each also in the other order.
const SHAPE_PAIRS: &[(&[usize], &[usize])] =
    &[(&[3, 1], &[1, 4]), (&[2, 3], &[1]), (&[2, 3], &[3]), (&[4], &[2, 1, 4]), (&[2, 3], &[2, 3])];

/// Runs `check_grad` on a binary op for every pair in `SHAPE_PAIRS`, both ways round, with
/// operands from `make(rng, shape, operand_index)`.
fn check_binary(
    name: &str,
    op: fn(&NdArray, &NdArray) -> Result<NdArray>,
    make: impl Fn(&mut Rng, &[usize], usize) -> Input,
) {
    let mut rng = Rng::from_name(name);
    for &(sa, sb) in SHAPE_PAIRS {
        for (sa, sb) in [(sa, sb), (sb, sa)] {
            let inputs = [make(&mut rng, sa, 0), make(&mut rng, sb, 1)];
            check_grad(&format!("{name} {sa:?} with {sb:?}"), &inputs, |x| op(&x[0], &x[1]));
        }
    }
}

/// Axis lists the reductions are checked over, for a 3-d (2, 3, 4) input.
const AXES: &[&[i64]] = &[&[], &[0], &[1], &[2], &[0, 2], &[-1], &[-3, -2], &[0, 1, 2]];

fn check_reduction(name: &str, op: fn(&NdArray, &[i64], bool) -> Result<NdArray>, input: Input) {
    for &axes in AXES {
        for keepdims in [false, true] {
            check_grad(&format!("{name} axes {axes:?} keepdims {keepdims}"), &[input.clone()], |x| {
                op(&x[0], axes, keepdims)
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Binary element-wise ops, with broadcasting
// ---------------------------------------------------------------------------------------------

#[test]
fn add_gradient_with_broadcasting() {
    check_binary("add", ops::add, |r, s, _| r.uniform(s, -2.0, 2.0));
}

#[test]
fn sub_gradient_with_broadcasting() {
    check_binary("sub", ops::sub, |r, s, _| r.uniform(s, -2.0, 2.0));
}

#[test]
fn mul_gradient_with_broadcasting() {
    check_binary("mul", ops::mul, |r, s, _| r.uniform(s, -2.0, 2.0));
}

#[test]
fn div_gradient_with_broadcasting() {
    check_binary("div", ops::div, |r, s, i| if i == 0 { r.uniform(s, -2.0, 2.0) } else { r.signed(s, 0.5, 2.0) });
}

#[test]
fn pow_gradient_with_positive_base_and_broadcasting() {
    check_binary("pow", ops::pow, |r, s, i| if i == 0 { r.uniform(s, 0.5, 2.0) } else { r.uniform(s, -2.0, 2.0) });
}

#[test]
fn maximum_gradient_without_ties_with_broadcasting() {
    check_binary("maximum", ops::maximum, |r, s, i| r.staggered(s, if i == 0 { 0.0 } else { 0.15 }));
}

#[test]
fn minimum_gradient_without_ties_with_broadcasting() {
    check_binary("minimum", ops::minimum, |r, s, i| r.staggered(s, if i == 0 { 0.0 } else { 0.15 }));
}

// ---------------------------------------------------------------------------------------------
// Unary element-wise ops
// ---------------------------------------------------------------------------------------------

const UNARY_SHAPE: &[usize] = &[2, 3];

fn check_unary(name: &str, op: fn(&NdArray) -> Result<NdArray>, input: Input) {
    check_grad(name, &[input], |x| op(&x[0]));
}

#[test]
fn neg_gradient() {
    check_unary("neg", ops::neg, Rng::new(1).uniform(UNARY_SHAPE, -2.0, 2.0));
}

#[test]
fn exp_gradient() {
    check_unary("exp", ops::exp, Rng::new(2).uniform(UNARY_SHAPE, -2.0, 2.0));
}

#[test]
fn log_gradient() {
    check_unary("log", ops::log, Rng::new(3).uniform(UNARY_SHAPE, 0.2, 3.0));
}

#[test]
fn sqrt_gradient() {
    check_unary("sqrt", ops::sqrt, Rng::new(4).uniform(UNARY_SHAPE, 0.2, 3.0));
}

#[test]
fn abs_gradient_away_from_zero() {
    check_unary("abs", ops::abs, Rng::new(5).signed(UNARY_SHAPE, 0.1, 2.0));
}

#[test]
fn square_gradient() {
    check_unary("square", ops::square, Rng::new(6).uniform(UNARY_SHAPE, -2.0, 2.0));
}

#[test]
fn relu_gradient_away_from_zero() {
    let input = Rng::new(7).signed(UNARY_SHAPE, 0.1, 2.0);
    assert!(input.vals.iter().any(|&v| v < 0.0) && input.vals.iter().any(|&v| v > 0.0), "both sides are checked");
    check_unary("relu", ops::relu, input);
}

#[test]
fn sigmoid_gradient() {
    check_unary("sigmoid", ops::sigmoid, Rng::new(8).uniform(UNARY_SHAPE, -3.0, 3.0));
}

#[test]
fn tanh_gradient() {
    check_unary("tanh", ops::tanh, Rng::new(9).uniform(UNARY_SHAPE, -2.0, 2.0));
}

/// The element-wise ops of `ops::elementwise` with the interval each is checked on (inside
/// its domain, away from its poles and kinks): first and second derivatives.
const ELEMENTWISE: &[(&str, fn(&NdArray) -> Result<NdArray>, f64, f64)] = &[
    ("sin", ops::sin, -3.0, 3.0),
    ("cos", ops::cos, -3.0, 3.0),
    ("tan", ops::tan, -1.2, 1.2),
    ("arcsin", ops::arcsin, -0.9, 0.9),
    ("arccos", ops::arccos, -0.9, 0.9),
    ("arctan", ops::arctan, -3.0, 3.0),
    ("sinh", ops::sinh, -2.0, 2.0),
    ("cosh", ops::cosh, -2.0, 2.0),
    ("arcsinh", ops::arcsinh, -3.0, 3.0),
    ("arccosh", ops::arccosh, 1.2, 4.0),
    ("arctanh", ops::arctanh, -0.9, 0.9),
    ("log2", ops::log2, 0.2, 4.0),
    ("log10", ops::log10, 0.2, 4.0),
    ("log1p", ops::log1p, -0.7, 3.0),
    ("expm1", ops::expm1, -2.0, 2.0),
    ("cbrt", ops::cbrt, 0.2, 4.0),
    ("rcbrt", ops::rcbrt, 0.2, 4.0),
    ("rsqrt", ops::rsqrt, 0.2, 4.0),
    ("reciprocal", ops::reciprocal, 0.3, 3.0),
    ("radians", ops::radians, -200.0, 200.0),
    ("degrees", ops::degrees, -3.0, 3.0),
    ("erf", ops::erf, -2.0, 2.0),
    ("gamma", ops::gamma, 0.3, 4.0),
    ("gammaln", ops::gammaln, 0.3, 5.0),
];

#[test]
fn elementwise_gradients_first_and_second() {
    for &(name, op, lo, hi) in ELEMENTWISE {
        let mut rng = Rng::from_name(name);
        check_unary(name, op, rng.uniform(UNARY_SHAPE, lo, hi));
        check_second(name, &[rng.uniform(&[4], lo, hi)], |x| op(&x[0]));
    }
    // Below zero, between the poles, gamma and ln|gamma| are smooth too.
    let mut rng = Rng::new(77);
    check_second("gamma below 0", &[rng.uniform(&[3], -1.8, -1.2)], |x| ops::gamma(&x[0]));
    check_second("gammaln below 0", &[rng.uniform(&[3], -0.8, -0.2)], |x| ops::gammaln(&x[0]));
}

/// The piecewise-constant ops of `ops::elementwise`: recorded, with a zero gradient.
const PIECEWISE: &[(&str, fn(&NdArray) -> Result<NdArray>)] = &[
    ("sign", ops::sign),
    ("floor", ops::floor),
    ("ceil", ops::ceil),
    ("round", ops::round),
    ("rint", ops::rint),
    ("trunc", ops::trunc),
    ("fix", ops::fix),
    ("isnan", ops::isnan),
    ("isinf", ops::isinf),
    ("isfinite", ops::isfinite),
];

/// The piecewise-constant ops: recorded, with a zero gradient (as in MXNet), away from their
/// jumps.
#[test]
fn piecewise_constant_ops_have_zero_gradients() {
    // Clear of whole and half numbers: no op jumps within the step of the differences.
    let vals = vec![-2.3, -1.2, -0.3, 0.3, 1.2, 2.3];
    for &(name, op) in PIECEWISE {
        check_grad(name, &[Input { vals: vals.clone(), shape: vec![2, 3] }], |x| op(&x[0]));
    }
}

/// Every row of the element-wise table (`src/ops/elementwise.rs`) is checked above: a new op
/// cannot be left out.
#[test]
fn every_elementwise_op_has_a_gradient_check() {
    let table = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/ops/elementwise.rs")).unwrap();
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| !l.trim_start().starts_with("//")).filter_map(|l| l.trim_start().split_once("(x) = ").map(|(name, _)| name))
        .collect();
    assert!(rows.len() > 30, "the table's rows were not found");
    let checked: Vec<&str> = ELEMENTWISE.iter().map(|e| e.0).chain(PIECEWISE.iter().map(|e| e.0)).collect();
    let missing: Vec<&&str> = rows.iter().filter(|r| !checked.contains(r)).collect();
    assert!(missing.is_empty(), "no finite-difference check for {missing:?}: add them to ELEMENTWISE or PIECEWISE");
}

// ---------------------------------------------------------------------------------------------
// Scalar forms
// ---------------------------------------------------------------------------------------------

/// Checks `op(x, s)` for each scalar `s`, on inputs from `make`.
fn check_scalar(name: &str, scalars: &[f64], make: impl Fn(&mut Rng) -> Input, op: fn(&NdArray, f64) -> Result<NdArray>) {
    let mut rng = Rng::from_name(name);
    for &s in scalars {
        check_grad(&format!("{name} s={s}"), &[make(&mut rng)], |x| op(&x[0], s));
    }
}

/// Checks `op(s, x)` (scalar on the left) for each `s`.
fn check_rscalar(name: &str, scalars: &[f64], make: impl Fn(&mut Rng) -> Input, op: fn(f64, &NdArray) -> Result<NdArray>) {
    let mut rng = Rng::from_name(name);
    for &s in scalars {
        check_grad(&format!("{name} s={s}"), &[make(&mut rng)], |x| op(s, &x[0]));
    }
}

#[test]
fn add_scalar_gradient() {
    check_scalar("add_scalar", &[2.5, -1.0], |r| r.uniform(UNARY_SHAPE, -2.0, 2.0), ops::add_scalar);
}

#[test]
fn sub_scalar_gradient() {
    check_scalar("sub_scalar", &[2.5, -1.0], |r| r.uniform(UNARY_SHAPE, -2.0, 2.0), ops::sub_scalar);
}

#[test]
fn rsub_scalar_gradient() {
    check_rscalar("rsub_scalar", &[2.5, -1.0], |r| r.uniform(UNARY_SHAPE, -2.0, 2.0), ops::rsub_scalar);
}

#[test]
fn mul_scalar_gradient() {
    check_scalar("mul_scalar", &[2.5, -0.75], |r| r.uniform(UNARY_SHAPE, -2.0, 2.0), ops::mul_scalar);
}

#[test]
fn div_scalar_gradient() {
    check_scalar("div_scalar", &[2.5, -0.75], |r| r.uniform(UNARY_SHAPE, -2.0, 2.0), ops::div_scalar);
}

#[test]
fn rdiv_scalar_gradient() {
    check_rscalar("rdiv_scalar", &[2.5, -0.75], |r| r.signed(UNARY_SHAPE, 0.3, 2.0), ops::rdiv_scalar);
}

#[test]
fn pow_scalar_gradient_with_positive_base() {
    // 2 and 1 take the kernel's exact shortcuts; the others go through powf.
    let scalars = [3.0, 2.0, 1.0, 0.5, -1.5, 0.0];
    check_scalar("pow_scalar", &scalars, |r| r.uniform(UNARY_SHAPE, 0.3, 2.0), ops::pow_scalar);
}

#[test]
fn pow_scalar_gradient_with_integer_exponent_on_negative_base() {
    check_scalar("pow_scalar negative base", &[3.0, 2.0, -2.0], |r| r.signed(UNARY_SHAPE, 0.3, 2.0), ops::pow_scalar);
}

#[test]
fn rpow_scalar_gradient() {
    check_rscalar("rpow_scalar", &[2.5, 0.5], |r| r.uniform(UNARY_SHAPE, -2.0, 2.0), ops::rpow_scalar);
}

#[test]
fn maximum_scalar_gradient_without_ties() {
    // Staggered values sit at least 0.05 away from 0.15 + 0.3k, the scalars.
    check_scalar("maximum_scalar", &[0.15, -0.45], |r| r.staggered(UNARY_SHAPE, 0.0), ops::maximum_scalar);
}

#[test]
fn minimum_scalar_gradient_without_ties() {
    check_scalar("minimum_scalar", &[0.15, -0.45], |r| r.staggered(UNARY_SHAPE, 0.0), ops::minimum_scalar);
}

// ---------------------------------------------------------------------------------------------
// dot
// ---------------------------------------------------------------------------------------------

#[test]
fn dot_vector_vector_gradient() {
    let mut r = Rng::new(20);
    check_grad("dot (4,)·(4,)", &[r.uniform(&[4], -2.0, 2.0), r.uniform(&[4], -2.0, 2.0)], |x| {
        ops::dot(&x[0], &x[1], false, false)
    });
}

#[test]
fn dot_vector_matrix_gradient() {
    let mut r = Rng::new(21);
    check_grad("dot (3,)·(3, 4)", &[r.uniform(&[3], -2.0, 2.0), r.uniform(&[3, 4], -2.0, 2.0)], |x| {
        ops::dot(&x[0], &x[1], false, false)
    });
    check_grad("dot (3,)·(4, 3)ᵀ", &[r.uniform(&[3], -2.0, 2.0), r.uniform(&[4, 3], -2.0, 2.0)], |x| {
        ops::dot(&x[0], &x[1], false, true)
    });
}

#[test]
fn dot_matrix_vector_gradient() {
    let mut r = Rng::new(22);
    check_grad("dot (3, 4)·(4,)", &[r.uniform(&[3, 4], -2.0, 2.0), r.uniform(&[4], -2.0, 2.0)], |x| {
        ops::dot(&x[0], &x[1], false, false)
    });
    check_grad("dot (4, 3)ᵀ·(4,)", &[r.uniform(&[4, 3], -2.0, 2.0), r.uniform(&[4], -2.0, 2.0)], |x| {
        ops::dot(&x[0], &x[1], true, false)
    });
}

#[test]
fn dot_matrix_matrix_gradient_for_all_transpose_flags() {
    let mut r = Rng::new(23);
    for ta in [false, true] {
        for tb in [false, true] {
            // op(A) is 3×4 and op(B) is 4×5.
            let a = if ta { r.uniform(&[4, 3], -2.0, 2.0) } else { r.uniform(&[3, 4], -2.0, 2.0) };
            let b = if tb { r.uniform(&[5, 4], -2.0, 2.0) } else { r.uniform(&[4, 5], -2.0, 2.0) };
            check_grad(&format!("dot 2-d transpose_a={ta} transpose_b={tb}"), &[a, b], |x| {
                ops::dot(&x[0], &x[1], ta, tb)
            });
        }
    }
}

#[test]
fn dot_of_vectors_ignores_transpose_flags() {
    let mut r = Rng::new(24);
    let inputs = [r.uniform(&[4], -2.0, 2.0), r.uniform(&[4], -2.0, 2.0)];
    check_grad("dot (4,)ᵀ·(4,)ᵀ", &inputs, |x| ops::dot(&x[0], &x[1], true, true));
}

#[test]
fn dot_of_nd_arrays_gradient_first_and_second() {
    // MXNet's rule: a's last axis (its first with transpose_a) meets b's first (its last with
    // transpose_b).
    let mut r = Rng::new(25);
    let cases: &[(&[usize], &[usize], bool, bool)] = &[
        (&[2, 3, 4], &[4, 2], false, false),
        (&[2, 3, 4], &[2, 2], true, false),
        (&[2, 3, 4], &[3, 4], false, true),
        (&[2, 3, 4], &[2, 3, 2], true, false),
        (&[3, 2], &[2, 2, 3], false, false),
        (&[2, 3], &[3, 2, 2], true, true),
        (&[3], &[3, 2, 2], false, false),
        (&[2, 2, 3], &[3], false, false),
        (&[3, 2, 2], &[2, 3], true, true),
    ];
    for &(sa, sb, ta, tb) in cases {
        let inputs = [r.uniform(sa, -2.0, 2.0), r.uniform(sb, -2.0, 2.0)];
        let name = format!("dot {sa:?}·{sb:?} transpose ({ta}, {tb})");
        check_grad(&name, &inputs, |x| ops::dot(&x[0], &x[1], ta, tb));
        check_second(&name, &inputs, |x| ops::dot(&x[0], &x[1], ta, tb));
    }
}

#[test]
fn dot_of_nd_arrays_shapes_as_mxnet() {
    let shape = |sa: &[usize], sb: &[usize], ta, tb| {
        ops::dot(&NdArray::zeros(sa, DType::F32).unwrap(), &NdArray::zeros(sb, DType::F32).unwrap(), ta, tb).map(|c| c.shape().to_vec())
    };
    assert_eq!(shape(&[2, 3, 4], &[4, 5], false, false).unwrap(), [2, 3, 5]);
    assert_eq!(shape(&[2, 3, 4], &[2, 5], true, false).unwrap(), [3, 4, 5]);
    assert_eq!(shape(&[2, 3, 4], &[5, 3, 4], false, true).unwrap(), [2, 3, 5, 3]);
    assert_eq!(shape(&[2, 3, 4], &[2, 3, 5], true, false).unwrap(), [3, 4, 3, 5]);
    assert_eq!(shape(&[3], &[4, 5, 3], false, true).unwrap(), [4, 5]);
    assert_eq!(shape(&[2, 3, 4], &[2], true, false).unwrap(), [3, 4]);
    assert!(shape(&[4, 3, 2], &[2, 5, 6], true, true).is_err());
    assert!(shape(&[2, 3, 4], &[3, 4], false, false).is_err());
}

#[test]
fn batch_dot_gradient_first_and_second() {
    let mut r = Rng::new(26);
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let a = if ta { r.uniform(&[2, 4, 3], -2.0, 2.0) } else { r.uniform(&[2, 3, 4], -2.0, 2.0) };
        let b = if tb { r.uniform(&[2, 2, 4], -2.0, 2.0) } else { r.uniform(&[2, 4, 2], -2.0, 2.0) };
        let name = format!("batch_dot transpose ({ta}, {tb})");
        check_grad(&name, &[a.clone(), b.clone()], |x| ops::batch_dot(&x[0], &x[1], ta, tb));
        check_second(&name, &[a, b], |x| ops::batch_dot(&x[0], &x[1], ta, tb));
    }
    // Leading axes beyond the batch, and the same operand on both sides.
    let a = r.uniform(&[2, 1, 3, 3], -2.0, 2.0);
    check_grad("batch_dot 4-d", &[a.clone(), r.uniform(&[2, 1, 3, 2], -2.0, 2.0)], |x| ops::batch_dot(&x[0], &x[1], false, false));
    check_second("batch_dot x·xᵀ", &[a], |x| ops::batch_dot(&x[0], &x[0], false, true));
    let z = |s: &[usize]| NdArray::zeros(s, DType::F64).unwrap();
    assert!(ops::batch_dot(&z(&[2, 3, 4]), &z(&[3, 4, 5]), false, false).is_err());
    assert!(ops::batch_dot(&z(&[3, 4]), &z(&[4, 5]), false, false).is_err());
    assert!(ops::batch_dot(&z(&[2, 3, 4]), &z(&[2, 3, 5]), false, false).is_err());
    assert_eq!(ops::batch_dot(&z(&[0, 3, 4]), &z(&[0, 4, 5]), false, false).unwrap().shape(), [0, 3, 5]);
}

// ---------------------------------------------------------------------------------------------
// Reductions and broadcasting
// ---------------------------------------------------------------------------------------------

#[test]
fn sum_gradient_over_axes() {
    check_reduction("sum", ops::sum, Rng::new(30).uniform(&[2, 3, 4], -2.0, 2.0));
}

#[test]
fn mean_gradient_over_axes() {
    check_reduction("mean", ops::mean, Rng::new(31).uniform(&[2, 3, 4], -2.0, 2.0));
}

#[test]
fn norm_gradient_over_axes() {
    check_reduction("norm", ops::norm, Rng::new(32).signed(&[2, 3, 4], 0.2, 2.0));
}

#[test]
fn prod_gradient_over_axes() {
    check_reduction("prod", ops::prod, Rng::new(36).signed(&[2, 3, 4], 0.5, 1.5));
}

#[test]
fn prod_gradient_with_zeros() {
    // One zero in a group: the zero's gradient is the product of the others, the others' 0;
    // two zeros: every gradient 0 but the Hessian's pairs of zeros; three: all 0.
    let mut r = Rng::new(37);
    for zeros in [&[1usize][..], &[0, 4], &[2, 3, 5], &[1, 7]] {
        let mut x = r.signed(&[2, 4], 0.5, 1.5);
        for &j in zeros {
            x.vals[j] = 0.0;
        }
        for axes in [&[][..], &[1], &[0]] {
            let name = format!("prod axes {axes:?} with zeros at {zeros:?}");
            check_grad(&name, &[x.clone()], |x| ops::prod(&x[0], axes, false));
            check_second(&name, &[x.clone()], |x| ops::prod(&x[0], axes, true));
        }
    }
}

#[test]
fn nansum_and_nanprod_gradients() {
    check_reduction("nansum", ops::nansum, Rng::new(38).uniform(&[2, 3, 4], -2.0, 2.0));
    check_reduction("nanprod", ops::nanprod, Rng::new(39).signed(&[2, 3, 4], 0.5, 1.5));
    // NaN counts as 0 (1) and has gradient 0.
    let mut x = Rng::new(40).signed(&[2, 3], 0.5, 1.5);
    x.vals[1] = f64::NAN;
    x.vals[4] = f64::NAN;
    for axes in [&[][..], &[0], &[1]] {
        let mut v = x.array();
        autograd::attach_grad(&mut v, GradReq::Write).unwrap();
        for (name, op) in [("nansum", ops::nansum as fn(&NdArray, &[i64], bool) -> Result<NdArray>), ("nanprod", ops::nanprod)] {
            let out = record(|| op(&v, axes, false)).unwrap();
            assert!(out.to_f64_vec().iter().all(|y| y.is_finite()), "{name} {axes:?}: {:?}", out.to_f64_vec());
            autograd::backward(&[out], &[None], false, true).unwrap();
            let g = autograd::grad_of(&v).unwrap().to_f64_vec();
            assert!(g[1] == 0.0 && g[4] == 0.0 && g.iter().all(|y| y.is_finite()), "{name} {axes:?}: gradient {g:?}");
        }
        check_second(&format!("nanprod axes {axes:?} with NaN"), &[x.clone()], |x| ops::nanprod(&x[0], axes, false));
    }
}

#[test]
fn norm1_gradient_over_axes() {
    check_reduction("norm1", ops::norm1, Rng::new(41).signed(&[2, 3, 4], 0.2, 2.0));
}

#[test]
fn sort_and_topk_gradients_go_back_to_the_sources() {
    let mut r = Rng::new(43);
    let x = r.uniform(&[2, 3, 4], -2.0, 2.0);
    for axis in [None, Some(0), Some(1), Some(-1)] {
        for asc in [true, false] {
            let name = format!("sort axis {axis:?} ascending {asc}");
            check_grad(&name, &[x.clone()], |x| ops::sort(&x[0], axis, asc));
            check_second(&name, &[x.clone()], |x| ops::square(&ops::sort(&x[0], axis, asc)?));
            for k in [1, 2, 0] {
                let name = format!("topk axis {axis:?} k {k} ascending {asc}");
                check_grad(&name, &[x.clone()], |x| ops::topk(&x[0], axis, k, ops::TopK::Value, asc, DType::F64));
                check_second(&name, &[x.clone()], |x| ops::square(&ops::topk(&x[0], axis, k, ops::TopK::Value, asc, DType::F64)?));
            }
        }
    }
}

#[test]
fn sort_order_and_topk_results() {
    let x = NdArray::from_slice(&[3.0, 1.0, 2.0, 1.0, 0.0, 5.0, 5.0, -1.0], &[2, 4]).unwrap();
    let v = |a: Result<NdArray>| a.unwrap().to_f64_vec();
    // stable in both directions, as MXNet's
    assert_eq!(v(ops::argsort(&x, Some(-1), true, DType::F32)), [1.0, 3.0, 2.0, 0.0, 3.0, 0.0, 1.0, 2.0]);
    assert_eq!(v(ops::argsort(&x, Some(-1), false, DType::F32)), [0.0, 2.0, 1.0, 3.0, 1.0, 2.0, 0.0, 3.0]);
    assert_eq!(v(ops::argsort(&x, None, true, DType::F64)), [7.0, 4.0, 1.0, 3.0, 2.0, 0.0, 5.0, 6.0]);
    assert_eq!(v(ops::sort(&x, Some(0), true)), [0.0, 1.0, 2.0, -1.0, 3.0, 5.0, 5.0, 1.0]);
    assert_eq!(v(ops::topk(&x, None, 3, ops::TopK::Indices, false, DType::F32)), [5.0, 6.0, 0.0]);
    assert_eq!(v(ops::topk(&x, Some(1), 2, ops::TopK::Mask, false, DType::F32)), [1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0]);
    assert_eq!(ops::topk(&x, None, 2, ops::TopK::Mask, false, DType::F32).unwrap().shape(), [2, 4]);
    assert_eq!(ops::topk(&x, Some(0), 1, ops::TopK::Value, false, DType::F32).unwrap().shape(), [1, 4]);
    assert_eq!(ops::argsort(&x, Some(1), true, DType::F64).unwrap().dtype(), DType::F64);
    assert!(ops::topk(&x, Some(1), 5, ops::TopK::Value, false, DType::F32).is_err());
    assert!(ops::sort(&x, Some(2), true).is_err());
    // NaN last when ascending
    let y = NdArray::from_slice(&[1.0, f64::NAN, 0.0, 2.0], &[4]).unwrap();
    assert_eq!(v(ops::argsort(&y, Some(0), true, DType::F64)), [2.0, 0.0, 3.0, 1.0]);
}

#[test]
fn cumsum_gradient() {
    let mut r = Rng::new(42);
    let x = r.uniform(&[2, 3, 4], -2.0, 2.0);
    for axis in [None, Some(0), Some(1), Some(2), Some(-1)] {
        check_grad(&format!("cumsum axis {axis:?}"), &[x.clone()], |x| ops::cumsum(&x[0], axis));
        check_second(&format!("cumsum axis {axis:?} squared"), &[x.clone()], |x| ops::square(&ops::cumsum(&x[0], axis)?));
    }
}

#[test]
fn reductions_of_a_vector_gradient() {
    let input = Rng::new(33).signed(&[5], 0.2, 2.0);
    for (name, op) in [("sum", ops::sum as fn(&NdArray, &[i64], bool) -> Result<NdArray>), ("mean", ops::mean), ("norm", ops::norm)] {
        check_grad(&format!("{name} of (5,)"), &[input.clone()], |x| op(&x[0], &[], false));
    }
}

#[test]
fn broadcast_to_gradient() {
    let mut r = Rng::new(34);
    let cases: &[(&[usize], &[usize])] =
        &[(&[3, 1], &[2, 3, 4]), (&[4], &[3, 4]), (&[1], &[2, 2]), (&[2, 1, 4], &[2, 3, 4]), (&[2, 3], &[2, 3])];
    for &(from, to) in cases {
        check_grad(&format!("broadcast_to {from:?} -> {to:?}"), &[r.uniform(from, -2.0, 2.0)], |x| {
            ops::broadcast_to(&x[0], to)
        });
    }
}

#[test]
fn sum_to_gradient() {
    let mut r = Rng::new(35);
    let cases: &[(&[usize], &[usize])] = &[(&[2, 3, 4], &[3, 1]), (&[3, 4], &[4]), (&[2, 3], &[1]), (&[2, 3], &[2, 3])];
    for &(from, to) in cases {
        check_grad(&format!("sum_to {from:?} -> {to:?}"), &[r.uniform(from, -2.0, 2.0)], |x| ops::sum_to(&x[0], from, to));
    }
}

// ---------------------------------------------------------------------------------------------
// Shape ops
// ---------------------------------------------------------------------------------------------

#[test]
fn reshape_gradient_with_inferred_axis() {
    let input = Rng::new(40).uniform(&[2, 3, 4], -2.0, 2.0);
    for shape in [&[-1, 4][..], &[6, -1], &[-1], &[4, -1, 2], &[24, 1]] {
        check_grad(&format!("reshape to {shape:?}"), &[input.clone()], |x| ops::reshape(&x[0], shape));
    }
}

#[test]
fn reshape_to_gradient() {
    let input = Rng::new(41).uniform(&[2, 3, 4], -2.0, 2.0);
    check_grad("reshape_to (4, 6)", &[input], |x| ops::reshape_to(&x[0], &[4, 6]));
}

#[test]
fn transpose_gradient_default_and_permutation() {
    let mut r = Rng::new(42);
    check_grad("transpose (3, 4) default", &[r.uniform(&[3, 4], -2.0, 2.0)], |x| ops::transpose(&x[0], &[]));
    let cube = r.uniform(&[2, 3, 4], -2.0, 2.0);
    for axes in [&[][..], &[1, 2, 0], &[2, 0, 1], &[0, 2, 1], &[-1, 0, -2]] {
        check_grad(&format!("transpose (2, 3, 4) axes {axes:?}"), &[cube.clone()], |x| ops::transpose(&x[0], axes));
    }
}

#[test]
fn copy_gradient() {
    check_grad("copy", &[Rng::new(43).uniform(&[2, 3], -2.0, 2.0)], |x| ops::copy(&x[0]));
}

// ---------------------------------------------------------------------------------------------
// Compositions
// ---------------------------------------------------------------------------------------------

#[test]
fn reused_input_gradient_accumulates() {
    // x appears in three places; its gradient is the sum of the three paths.
    check_grad("x*x + exp(x)*x - x", &[Rng::new(50).uniform(&[2, 3], -1.5, 1.5)], |x| {
        let x = &x[0];
        ops::sub(&ops::add(&ops::mul(x, x)?, &ops::mul(&ops::exp(x)?, x)?)?, x)
    });
}

#[test]
fn small_network_gradient() {
    // tanh(x·W + b), then the mean over the batch of each row's norm.
    let mut r = Rng::new(51);
    let inputs = [r.uniform(&[4, 3], -1.0, 1.0), r.uniform(&[3, 5], -1.0, 1.0), r.uniform(&[5], -0.5, 0.5)];
    check_grad("network", &inputs, |x| {
        let hidden = ops::tanh(&ops::add(&ops::dot(&x[0], &x[1], false, false)?, &x[2])?)?;
        ops::mean(&ops::norm(&hidden, &[1], false)?, &[], false)
    });
}

// ---------------------------------------------------------------------------------------------
// Second derivatives: grad(create_graph = true), then backward
// ---------------------------------------------------------------------------------------------

#[test]
fn second_derivative_of_cube() {
    // Checked against the closed form too: d²(x³)/dx² = 6x.
    let input = Rng::new(60).signed(&[4], 0.3, 2.0);
    check_second("x^3", &[input.clone()], |x| ops::pow_scalar(&x[0], 3.0));

    let xs = variables(&[input.clone()]);
    let y = record(|| ops::pow_scalar(&xs[0], 3.0)).unwrap();
    let dy = autograd::grad(&[y], &xs, &[], true, true, true).unwrap();
    autograd::backward(&dy, &[], false, true).unwrap();
    let expected: Vec<f64> = input.vals.iter().map(|x| 6.0 * x).collect();
    let got = autograd::grad_of(&xs[0]).unwrap().to_f64_vec();
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() <= 1e-12 * e.abs().max(1.0), "d²(x³)/dx² = {got:?}, expected 6x = {expected:?}");
    }
}

#[test]
fn second_derivative_of_exp() {
    check_second("exp", &[Rng::new(61).uniform(&[2, 3], -1.5, 1.5)], |x| ops::exp(&x[0]));
}

#[test]
fn second_derivative_of_tanh_and_sigmoid() {
    check_second("tanh", &[Rng::new(62).uniform(&[2, 3], -1.5, 1.5)], |x| ops::tanh(&x[0]));
    check_second("sigmoid", &[Rng::new(63).uniform(&[2, 3], -2.0, 2.0)], |x| ops::sigmoid(&x[0]));
}

#[test]
fn second_derivative_of_log_sqrt_square() {
    check_second("log", &[Rng::new(64).uniform(&[5], 0.3, 2.0)], |x| ops::log(&x[0]));
    check_second("sqrt", &[Rng::new(65).uniform(&[5], 0.3, 2.0)], |x| ops::sqrt(&x[0]));
    check_second("square", &[Rng::new(66).uniform(&[5], -2.0, 2.0)], |x| ops::square(&x[0]));
}

#[test]
fn second_derivative_of_scalar_forms() {
    let mut r = Rng::new(67);
    check_second("rdiv_scalar", &[r.signed(&[5], 0.3, 2.0)], |x| ops::rdiv_scalar(1.5, &x[0]));
    check_second("rpow_scalar", &[r.uniform(&[5], -1.0, 1.0)], |x| ops::rpow_scalar(2.5, &x[0]));
    check_second("pow_scalar 0.5", &[r.uniform(&[5], 0.3, 2.0)], |x| ops::pow_scalar(&x[0], 0.5));
}

#[test]
fn second_derivative_cross_terms_of_mul() {
    // F = sum(x*y*w): the only second derivatives are the mixed ones, with broadcasting.
    let mut r = Rng::new(68);
    check_second("x*y", &[r.uniform(&[3, 1], -2.0, 2.0), r.uniform(&[1, 4], -2.0, 2.0)], |x| ops::mul(&x[0], &x[1]));
}

#[test]
fn second_derivative_of_div_and_pow() {
    let mut r = Rng::new(69);
    check_second("x/y", &[r.uniform(&[2, 3], -2.0, 2.0), r.signed(&[3], 0.5, 2.0)], |x| ops::div(&x[0], &x[1]));
    check_second("x^y", &[r.uniform(&[2, 3], 0.5, 2.0), r.uniform(&[2, 3], -2.0, 2.0)], |x| ops::pow(&x[0], &x[1]));
}

#[test]
fn second_derivative_of_dot() {
    let mut r = Rng::new(70);
    for (ta, tb) in [(false, false), (true, true)] {
        let a = if ta { r.uniform(&[4, 3], -2.0, 2.0) } else { r.uniform(&[3, 4], -2.0, 2.0) };
        let b = if tb { r.uniform(&[2, 4], -2.0, 2.0) } else { r.uniform(&[4, 2], -2.0, 2.0) };
        check_second(&format!("dot transpose_a={ta} transpose_b={tb}"), &[a, b], |x| ops::dot(&x[0], &x[1], ta, tb));
    }
    check_second("dot (3,)·(3,)", &[r.uniform(&[3], -2.0, 2.0), r.uniform(&[3], -2.0, 2.0)], |x| {
        ops::dot(&x[0], &x[1], false, false)
    });
}

#[test]
fn second_derivative_through_reductions() {
    let mut r = Rng::new(71);
    check_second("norm axis 1", &[r.signed(&[2, 3], 0.3, 2.0)], |x| ops::norm(&x[0], &[1], false));
    check_second("square(sum axis 0)", &[r.uniform(&[2, 3], -2.0, 2.0)], |x| ops::square(&ops::sum(&x[0], &[0], true)?));
    check_second("mean of cube", &[r.uniform(&[2, 3], -2.0, 2.0)], |x| ops::mean(&ops::pow_scalar(&x[0], 3.0)?, &[], false));
    check_second("prod axis 1", &[r.signed(&[2, 3], 0.5, 1.5)], |x| ops::prod(&x[0], &[1], false));
    check_second("prod over all", &[r.signed(&[2, 3], 0.5, 1.5)], |x| ops::prod(&x[0], &[], false));
    check_second("nansum of cube", &[r.uniform(&[2, 3], -2.0, 2.0)], |x| ops::nansum(&ops::pow_scalar(&x[0], 3.0)?, &[0], true));
    check_second("norm1 of cube", &[r.signed(&[2, 3], 0.3, 2.0)], |x| ops::norm1(&ops::pow_scalar(&x[0], 3.0)?, &[1], false));
}

#[test]
fn second_derivative_of_a_composition() {
    // sigmoid(x*y) * tanh(x) + exp(y): mixed and pure second derivatives together.
    let mut r = Rng::new(72);
    check_second("sigmoid(x*y)*tanh(x) + exp(y)", &[r.uniform(&[2, 3], -1.0, 1.0), r.uniform(&[3], -1.0, 1.0)], |x| {
        let (a, b) = (&x[0], &x[1]);
        ops::add(&ops::mul(&ops::sigmoid(&ops::mul(a, b)?)?, &ops::tanh(a)?)?, &ops::exp(b)?)
    });
}

// ---------------------------------------------------------------------------------------------
// Indexing, max/min, casts
// ---------------------------------------------------------------------------------------------

#[test]
fn max_and_min_gradient_without_ties() {
    let mut r = Rng::new(80);
    // Distinct values: the gradient goes to the one extreme element of each reduced group.
    let input = r.staggered(&[2, 3, 4], 0.0);
    let distinct = Input { vals: input.vals.iter().enumerate().map(|(i, v)| v + 1e-3 * i as f64).collect(), ..input };
    check_reduction("max", ops::max, distinct.clone());
    check_reduction("min", ops::min, distinct);
}

#[test]
fn slice_gradient_for_ranges_steps_and_positions() {
    use ops::AxisIndex::{At, Range};
    let mut r = Rng::new(81);
    let x = r.uniform(&[4, 3, 5], -2.0, 2.0);
    let cases: Vec<Vec<ops::AxisIndex>> = vec![
        vec![Range { start: 1, stop: 3, step: 1 }],
        vec![At(2)],
        vec![At(-1), Range { start: 0, stop: 3, step: 2 }],
        vec![Range { start: 0, stop: 4, step: 1 }, At(1), Range { start: 4, stop: -1, step: -2 }],
        vec![Range { start: 3, stop: -1, step: -1 }],
    ];
    for index in cases {
        check_grad(&format!("slice {index:?}"), &[x.clone()], |a| ops::slice(&a[0], &index));
        check_second(&format!("slice {index:?} squared"), &[x.clone()], |a| ops::square(&ops::slice(&a[0], &index)?));
    }
}

#[test]
fn astype_gradient() {
    let mut r = Rng::new(82);
    check_grad("astype float64 → float64", &[r.uniform(&[2, 3], -1.0, 1.0)], |x| ops::astype(&x[0], DType::F64));
    check_grad("astype float64 → float32 → float64", &[r.uniform(&[2, 3], -1.0, 1.0)], |x| {
        // Rounding to float32 is not differentiable by differences at this step size, so
        // difference a product that the cast only multiplies by a constant.
        ops::mul(&x[0], &ops::astype(&ops::astype(&NdArray::full(&[2, 3], 0.5, DType::F64)?, DType::F32)?, DType::F64)?)
    });
}

// ---------------------------------------------------------------------------------------------
// Neural-network ops
// ---------------------------------------------------------------------------------------------

#[test]
fn softmax_and_log_softmax_gradients_over_each_axis() {
    let mut r = Rng::new(90);
    let x = r.uniform(&[3, 4], -2.0, 2.0);
    for axis in [0, 1, -1] {
        check_grad(&format!("softmax axis {axis}"), &[x.clone()], |a| ops::softmax(&a[0], axis));
        check_grad(&format!("log_softmax axis {axis}"), &[x.clone()], |a| ops::log_softmax(&a[0], axis));
        check_second(&format!("softmax axis {axis}"), &[x.clone()], |a| ops::softmax(&a[0], axis));
        check_second(&format!("log_softmax axis {axis}"), &[x.clone()], |a| ops::log_softmax(&a[0], axis));
    }
}

fn labels(values: &[f64]) -> NdArray {
    NdArray::from_slice(values, &[values.len()]).unwrap()
}

#[test]
fn pick_and_softmax_cross_entropy_gradients() {
    let mut r = Rng::new(91);
    let x = r.uniform(&[4, 3], -2.0, 2.0);
    let idx = labels(&[2.0, 0.0, 1.0, 2.0]);
    check_grad("pick axis 1", &[x.clone()], |a| ops::pick(&a[0], &idx, 1, false));
    check_grad("pick axis 1 keepdims", &[x.clone()], |a| ops::pick(&a[0], &idx, -1, true));
    check_second("pick axis 1 keepdims, squared", &[x.clone()], |a| ops::square(&ops::pick(&a[0], &idx, -1, true)?));
    let idx0 = labels(&[3.0, 0.0, 1.0]);
    check_grad("pick axis 0", &[x.clone()], |a| ops::pick(&a[0], &idx0, 0, false));
    for sum in [false, true] {
        check_grad(&format!("softmax_cross_entropy sum={sum}"), &[x.clone()], |a| ops::softmax_cross_entropy(&a[0], &idx, sum));
        check_second(&format!("softmax_cross_entropy sum={sum}"), &[x.clone()], |a| ops::softmax_cross_entropy(&a[0], &idx, sum));
    }
}

#[test]
fn clip_and_where_gradients() {
    let mut r = Rng::new(92);
    // Away from the bounds ±0.5, where clip's gradient jumps.
    let x = Input { vals: r.signed(&[2, 5], 0.1, 1.0).vals.iter().map(|v| if (v.abs() - 0.5).abs() < 0.05 { v * 1.3 } else { *v }).collect(), shape: vec![2, 5] };
    check_grad("clip", &[x], |a| ops::clip(&a[0], -0.5, 0.5));
    let cond = NdArray::from_slice(&[1.0, 0.0, 1.0], &[3]).unwrap();
    check_grad("where with broadcasting", &[r.uniform(&[2, 3], -1.0, 1.0), r.uniform(&[2, 1], -1.0, 1.0)], |a| {
        ops::where_(&cond, &a[0], &a[1])
    });
}

#[test]
fn fully_connected_gradient_with_and_without_flatten() {
    let mut r = Rng::new(93);
    let (x, w, b) = (r.uniform(&[2, 3, 2], -1.0, 1.0), r.uniform(&[4, 6], -1.0, 1.0), r.uniform(&[4], -1.0, 1.0));
    check_grad("fully_connected flatten", &[x.clone(), w, b.clone()], |a| ops::fully_connected(&a[0], &a[1], Some(&a[2]), true));
    let w2 = r.uniform(&[4, 2], -1.0, 1.0);
    check_grad("fully_connected over the last axis", &[x, w2, b], |a| ops::fully_connected(&a[0], &a[1], Some(&a[2]), false));
    check_second("fully_connected, no bias, squared", &[r.uniform(&[3, 2], -1.0, 1.0), r.uniform(&[2, 2], -1.0, 1.0)], |a| {
        ops::square(&ops::fully_connected(&a[0], &a[1], None, true)?)
    });
}

#[test]
fn concat_and_stack_gradients() {
    let mut r = Rng::new(94);
    let (a, b) = (r.uniform(&[2, 3], -1.0, 1.0), r.uniform(&[2, 1], -1.0, 1.0));
    check_grad("concat axis 1", &[a.clone(), b], |x| ops::concat(&[x[0].clone(), x[1].clone()], 1));
    let c = r.uniform(&[1, 3], -1.0, 1.0);
    check_grad("concat axis 0", &[a.clone(), c], |x| ops::concat(&[x[0].clone(), x[1].clone()], 0));
    let d = r.uniform(&[2, 3], -1.0, 1.0);
    for axis in [0, 1, 2, -1] {
        check_grad(&format!("stack axis {axis}"), &[a.clone(), d.clone()], |x| ops::stack(&[x[0].clone(), x[1].clone()], axis));
    }
}

/// Runs `f` in training or prediction mode (whatever the enclosing record scope set).
fn in_mode<R>(training: bool, f: impl FnOnce() -> R) -> R {
    let kind = if training { ScopeKind::TrainMode } else { ScopeKind::PredictMode };
    autograd::scope_begin(kind, training);
    let r = f();
    autograd::scope_end(kind).unwrap();
    r
}

/// The tests that reseed the process-wide generator before each evaluation take turns, so
/// that no other test's draw comes between a seed and the draws it should repeat.
static SEEDED: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn dropout_gradient_is_its_mask_in_training_and_identity_in_prediction() {
    let _turn = SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    let mut r = Rng::new(95);
    let x = r.uniform(&[4, 5], -1.0, 1.0);
    for training in [true, false] {
        check_grad(&format!("dropout training={training}"), &[x.clone()], |a| {
            in_mode(training, || {
                // Reseeding before each evaluation draws the same mask every time.
                ad::array::random::seed(7);
                ops::dropout(&a[0], 0.4)
            })
        });
    }
}

#[test]
fn multinomial_log_probability_gradient() {
    let _turn = SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    let mut r = Rng::new(97);
    // Probabilities as a softmax, so that every perturbation is a distribution; the same seed
    // before each evaluation draws the same categories (the steps are far too small to move
    // a draw across a boundary of these rows).
    let x = r.uniform(&[3, 4], -1.0, 1.0);
    for shape in [&[][..], &[5][..], &[2, 3][..]] {
        let f = |a: &[NdArray]| {
            ad::array::random::seed(11);
            let (_, log_prob) = ops::sample_multinomial(&ops::softmax(&a[0], -1)?, shape, DType::F64, true)?;
            Ok(log_prob.expect("asked for"))
        };
        check_grad(&format!("multinomial log_prob shape {shape:?}"), &[x.clone()], f);
        check_second(&format!("multinomial log_prob shape {shape:?}"), &[x.clone()], f);
    }
}

#[test]
fn batch_norm_gradient_in_both_modes() {
    let mut r = Rng::new(96);
    let x = r.uniform(&[4, 3, 2], -1.0, 1.0);
    let (gamma, beta) = (r.uniform(&[3], 0.5, 1.5), r.uniform(&[3], -0.5, 0.5));
    for training in [true, false] {
        for fix_gamma in [false, true] {
            check_grad(&format!("batch_norm training={training} fix_gamma={fix_gamma}"), &[x.clone(), gamma.clone(), beta.clone()], |a| {
                let rm = NdArray::full(&[3], 0.1, DType::F64)?;
                let rv = NdArray::full(&[3], 0.8, DType::F64)?;
                in_mode(training, || ops::batch_norm(&a[0], &a[1], &a[2], &rm, &rv, 0.9, 1e-5, 1, fix_gamma, false))
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Creation and shape ops (src/ops/arrange.rs): first and second derivatives
// ---------------------------------------------------------------------------------------------

/// Checks `f` on `inputs` to the first order, and to the second through `square(f)` (the
/// shape ops are linear: their own second derivative is zero).
fn check_both(name: &str, inputs: &[Input], f: impl Fn(&[NdArray]) -> Result<NdArray>) {
    check_grad(name, inputs, &f);
    check_second(&format!("{name} squared"), inputs, |x| ops::square(&f(x)?));
}

#[test]
fn squeeze_and_expand_dims_gradients() {
    let mut r = Rng::new(100);
    let x = r.uniform(&[2, 1, 3, 1], -2.0, 2.0);
    for axes in [&[][..], &[1], &[-1], &[1, 3]] {
        check_both(&format!("squeeze {axes:?}"), &[x.clone()], |a| ops::squeeze(&a[0], axes));
    }
    let y = r.uniform(&[2, 3], -2.0, 2.0);
    for axis in [0, 1, 2, -1, -3] {
        check_both(&format!("expand_dims {axis}"), &[y.clone()], |a| ops::expand_dims(&a[0], axis));
    }
}

#[test]
fn split_gradient_of_each_part() {
    let mut r = Rng::new(101);
    let x = r.uniform(&[2, 4, 3], -2.0, 2.0);
    for (n, axis, squeeze) in [(2, 1, false), (4, 1, true), (3, -1, false), (2, 0, true)] {
        // The parts weighted differently, summed: every part's gradient is checked.
        check_both(&format!("split {n} axis {axis} squeeze {squeeze}"), &[x.clone()], |a| {
            let parts = ops::split(&a[0], n, axis, squeeze)?;
            let mut total = ops::mul_scalar(&parts[0], 1.0)?;
            for (i, p) in parts.iter().enumerate().skip(1) {
                total = ops::add(&total, &ops::mul_scalar(p, 1.0 + i as f64)?)?;
            }
            Ok(total)
        });
    }
}

#[test]
fn flip_tile_repeat_gradients() {
    let mut r = Rng::new(102);
    let x = r.uniform(&[2, 3, 2], -2.0, 2.0);
    for axes in [&[0][..], &[1, 2], &[-1], &[0, 0, 2]] {
        check_both(&format!("flip {axes:?}"), &[x.clone()], |a| ops::flip(&a[0], axes));
    }
    for reps in [&[2][..], &[2, 1, 3], &[1, 1, 1], &[2, 1, 1, 2], &[0, 2]] {
        check_both(&format!("tile {reps:?}"), &[x.clone()], |a| ops::tile(&a[0], reps));
    }
    for (repeats, axis) in [(2, None), (3, Some(1)), (1, Some(-1)), (2, Some(0)), (0, Some(2))] {
        check_both(&format!("repeat {repeats} axis {axis:?}"), &[x.clone()], |a| ops::repeat(&a[0], repeats, axis));
    }
}

#[test]
fn swapaxes_moveaxis_gradients() {
    let mut r = Rng::new(103);
    let x = r.uniform(&[2, 3, 4], -2.0, 2.0);
    for (d1, d2) in [(0, 2), (1, -1), (0, 0)] {
        check_both(&format!("swapaxes {d1} {d2}"), &[x.clone()], |a| ops::swapaxes(&a[0], d1, d2));
    }
    for (s, d) in [(&[0][..], &[2][..]), (&[-1], &[0]), (&[0, 1], &[2, 0]), (&[], &[])] {
        check_both(&format!("moveaxis {s:?} {d:?}"), &[x.clone()], |a| ops::moveaxis(&a[0], s, d));
    }
}

#[test]
fn broadcast_like_and_reshape_like_gradients() {
    let mut r = Rng::new(104);
    let like = NdArray::zeros(&[2, 3, 4], DType::F64).unwrap();
    check_both("broadcast_like (2, 1, 4)", &[r.uniform(&[2, 1, 4], -2.0, 2.0)], |a| ops::broadcast_like(&a[0], &like, &[], &[]));
    check_both("broadcast_like (1, 1, 1)", &[r.uniform(&[1, 1, 1], -2.0, 2.0)], |a| ops::broadcast_like(&a[0], &like, &[], &[]));
    check_both("broadcast_like axes", &[r.uniform(&[1, 3], -2.0, 2.0)], |a| ops::broadcast_like(&a[0], &like, &[0], &[2]));
    let x = r.uniform(&[6, 4], -2.0, 2.0);
    check_both("reshape_like whole", &[x.clone()], |a| ops::reshape_like(&a[0], &like, None, None, None, None));
    let l2 = NdArray::zeros(&[3, 2, 5], DType::F64).unwrap();
    check_both("reshape_like ranges", &[x.clone()], |a| ops::reshape_like(&a[0], &l2, Some(0), Some(1), Some(0), Some(2)));
}

#[test]
fn reshape_codes_gradients() {
    let x = Rng::new(105).uniform(&[2, 3, 4], -2.0, 2.0);
    for (codes, reverse) in [
        (&[0, -1][..], false),
        (&[-2][..], false),
        (&[-3, 4][..], false),
        (&[-4, 1, 2, -2][..], false),
        (&[0, -4, -1, 3, 0][..], false),
        (&[-1, 0][..], true),
        (&[2, -3][..], false),
    ] {
        check_both(&format!("reshape codes {codes:?} reverse {reverse}"), &[x.clone()], |a| ops::reshape_codes(&a[0], codes, reverse));
    }
}

#[test]
fn take_gradient_in_each_mode_with_repeated_positions() {
    use ops::IndexMode::{Clip, Raise, Wrap};
    let mut r = Rng::new(106);
    let x = r.uniform(&[3, 4], -2.0, 2.0);
    let inside = NdArray::from_slice(&[2.0, 0.0, 2.0, 1.0], &[2, 2]).unwrap();
    let outside = NdArray::from_slice(&[-1.0, 5.0, 1.7, -4.0, 3.0], &[5]).unwrap();
    for axis in [0, 1, -1] {
        check_both(&format!("take raise axis {axis}"), &[x.clone()], |a| ops::take(&a[0], &inside, axis, Raise));
        check_both(&format!("take clip axis {axis}"), &[x.clone()], |a| ops::take(&a[0], &outside, axis, Clip));
        check_both(&format!("take wrap axis {axis}"), &[x.clone()], |a| ops::take(&a[0], &outside, axis, Wrap));
    }
    // The gradient's gradient, differentiated on its own (not through a square).
    check_second("take times itself", &[x.clone()], |a| ops::mul(&ops::take(&a[0], &inside, 1, Raise)?, &ops::take(&a[0], &inside, 1, Raise)?));
}

#[test]
fn pick_gradient_with_clip_and_wrap() {
    use ops::IndexMode::{Clip, Wrap};
    let x = Rng::new(107).uniform(&[4, 3], -2.0, 2.0);
    let idx = NdArray::from_slice(&[5.0, -1.0, 2.9, -4.0], &[4]).unwrap();
    for mode in [Clip, Wrap] {
        check_both(&format!("pick {mode:?}"), &[x.clone()], |a| ops::pick_mode(&a[0], &idx, 1, false, mode));
        check_both(&format!("pick {mode:?} keepdims"), &[x.clone()], |a| ops::pick_mode(&a[0], &idx, -1, true, mode));
    }
}
