//! Optimizer updates, fused and in place, with MXNet's update rules and its order of
//! floating-point operations (so results match `nd.sgd_update` and friends bit for bit):
//!
//! - sgd:      w = (1 - lr·wd)·w - lr·clip(rescale·g)
//! - sgd_mom:  m = momentum·m - lr·wd·w - lr·clip(rescale·g);  w = w + m
//!   (without clipping, MXNet computes lr·rescale first: (lr·rescale)·g)
//! - adam:     g' = clip(rescale·g + wd·w); m = β1·m + (1-β1)·g'; v = β2·v + (1-β2)·g'²;
//!   w = w - lr_t·m / (sqrt(v) + eps), lr_t = lr (t = 0, as nd.adam_update) or
//!   lr·sqrt(1-β2ᵗ)/(1-β1ᵗ) (t ≥ 1: the bias correction MXNet's Adam optimizer applies)
//!
//! - signsgd:  w = (1 - lr·wd)·w - lr·sign(g)   (rescale_grad and clip_gradient unused, as in MXNet)
//! - signum:   m = μ·m - (1-μ)·wd·w - (1-μ)·clip(rescale·g);  w = (1 - lr·wd_lh)·w + lr·sign(m)
//! - rmsprop:  g' = clip(rescale·g + wd·w); n = (1-γ1)·g'² + γ1·n; w = clipw(w - lr·g'/sqrt(n + eps))
//! - rmspropalex: g' as rmsprop; n = (1-γ1)·g'² + γ1·n; ḡ = (1-γ1)·g' + γ1·ḡ;
//!   δ = γ2·δ - lr·g'/sqrt(n - ḡ² + eps); w = clipw(w + δ)
//! - ftrl:     g' = clip(rescale·g); z += g' - (sqrt(n + g'²) - sqrt(n))·w/lr; n += g'²;
//!   w = (sign(z)·λ1 - z) / ((β + sqrt(n))/lr + wd) · [|z| > λ1]
//! - nag_mom:  m' = μ·m; d = clip(rescale·g) + wd·w; w = w - m' + (μ+1)·(m' - lr·d);
//!   m = m' - lr·(clip(rescale·g) + wd·w), with the *new* w: MXNet's kernel writes the
//!   weight before it reads it again for the momentum, so that is what `nag_mom_update(...,
//!   out=weight)` (and MXNet's NAG optimizer) computes; ad's update is in place and does the
//!   same.
//!
//! - lamb phase 1: g' = clip(rescale·g); m = β1·m + (1-β1)·g'; v = β2·v + (1-β2)·g'²;
//!   returns m̂/(sqrt(v̂) + eps) + wd·w, with m̂ = m/(1-β1ᵗ), v̂ = v/(1-β2ᵗ) under bias
//!   correction (m, v otherwise); MXNet divides m by (1-β1ᵗ) in double precision
//! - lamb phase 2: r1' = r1 bounded by lower_bound and upper_bound (each when ≥ 0);
//!   w = w - lr·r1'/r2·g, or w - lr·g when r1' or r2 is 0
//!
//! `clip_gradient` (and `clip_weights`) < 0 means no clipping.

use std::sync::Arc;

use smallvec::SmallVec;

use crate::cpu::loops::{on_piece, threads_for, PARALLEL_MIN};
use crate::array::storage::{lock, try_vec, Storage};
use crate::array::{fmt_shape, Array, Element};
use crate::NdArray;
use crate::tape::is_recording;
use crate::error::{bail, Result};

/// OptimizerParams-parameters shared by the updates.
#[derive(Clone, Copy, Debug)]
pub struct OptimizerParams {
    pub lr: f64,
    pub wd: f64,
    pub rescale_grad: f64,
    pub clip_gradient: f64,
}

/// Checks that the state arrays match the weight and can be written, and that no two written
/// arrays share storage (each is written through its own buffer).
fn check(op: &str, weight: &NdArray, grad: &NdArray, states: &[&NdArray]) -> Result<()> {
    for (i, a) in std::iter::once(grad).chain(states.iter().copied()).enumerate() {
        if a.dtype != weight.dtype {
            bail!(DType, "{}: argument {} is {}, but the weight is {}", op, i + 1, a.dtype.name(), weight.dtype.name());
        }
        if a.shape != weight.shape {
            bail!(Shape, "{}: argument {} has shape {} {}, but the weight has {} {}", op, i + 1,
                fmt_shape(&a.shape), a.dtype.name(), fmt_shape(&weight.shape), weight.dtype.name());
        }
    }
    let written: Vec<&NdArray> = std::iter::once(weight).chain(states.iter().copied()).collect();
    for (i, a) in written.iter().enumerate() {
        if is_recording() && a.origin.is_some() {
            bail!(Autograd, "{}: cannot update an array that is part of the recorded graph inside a record scope", op);
        }
        if written[..i].iter().any(|b| Arc::ptr_eq(&a.storage, &b.storage)) {
            bail!(InvalidArgument, "{}: the weight and state arrays must not share memory", op);
        }
    }
    Ok(())
}

#[inline]
fn clip<T: Element>(x: T, bound: T) -> T {
    if bound < T::zero() { x } else if x > bound { bound } else if x < -bound { -bound } else { x }
}

/// One thread's share of an update: weight, gradient and state chunks.
type Part<'a, T, const K: usize> = (&'a mut [T], &'a [T], [&'a mut [T]; K]);

/// Runs `f` over the elements of the weight (written), the gradient (read) and the `K`
/// states (written), all of type T; large arrays in one chunk per thread.
fn update<T: Element, const K: usize>(weight: &NdArray, grad: &NdArray, states: [&NdArray; K], f: impl Fn(&mut T, T, [&mut T; K]) + Sync) -> Result<()> {
    let written: SmallVec<[&Storage; 3]> = std::iter::once(weight).chain(states).map(|a| &*a.storage).collect();
    // One guard per storage, the gradient's included: the update is one atomic step.
    let mut locked = lock(&[&grad.storage], &written);
    // The gradient may share a written storage (w -= w): then it is read into a copy first.
    let aliased = written.iter().any(|s| std::ptr::eq(*s, &*grad.storage));
    let mut copy: Vec<T> = Vec::new();
    if aliased {
        let src = &T::slice_of(locked.get(&grad.storage)).expect("dtype checked")[grad.range()];
        copy = try_vec(src.len())?;
        copy.extend_from_slice(src);
    }
    let (bufs, read) = locked.split(&written);
    let g: &[T] = match read.get(&grad.storage) {
        Some(buf) => &T::slice_of(buf).expect("dtype checked")[grad.range()],
        None => &copy,
    };
    let mut bufs = bufs.into_iter().zip(std::iter::once(weight).chain(states)).map(|(buf, a)| &mut T::slice_of_mut(buf).expect("dtype checked")[a.range()]);
    let w = bufs.next().expect("the weight is locked");
    let ss: [&mut [T]; K] = std::array::from_fn(|_| bufs.next().expect("each state is locked"));
    let n = w.len();
    let chunk = n.div_ceil(threads_for(n, PARALLEL_MIN)).max(1);
    let mut state_chunks = ss.map(|s| s.chunks_mut(chunk));
    let parts: Vec<Part<'_, T, K>> = w
        .chunks_mut(chunk)
        .zip(g.chunks(chunk))
        .map(|(wc, gc)| (wc, gc, state_chunks.each_mut().map(|it| it.next().expect("states have the weight's length"))))
        .collect();
    let apply = |wc: &mut [T], (gc, sc): (&[T], [&mut [T]; K])| {
        // Cut to one length up front, so that the loop has no bounds checks (an exit that
        // would keep it from being vectorised).
        let n = wc.len();
        let gc = &gc[..n];
        let mut sc = sc.map(|s| &mut s[..n]);
        for i in 0..n {
            f(&mut wc[i], gc[i], sc.each_mut().map(|s| &mut s[i]));
        }
    };
    // Each piece through a call of its own, so that its loop is vectorised (see `on_piece`).
    crate::cpu::threads::fork_join(parts, |(wc, gc, sc)| on_piece(&apply, wc, (gc, sc)));
    Ok(())
}

fn dispatch(weight: &NdArray, body_f32: impl FnOnce() -> Result<()>, body_f64: impl FnOnce() -> Result<()>) -> Result<()> {
    match weight.dtype {
        crate::array::DType::F32 => body_f32(),
        crate::array::DType::F64 => body_f64(),
        other => bail!(DType, "optimizer updates are for float32 and float64 weights, not {}", other.name()),
    }
}

pub fn sgd_update(weight: &NdArray, grad: &NdArray, h: OptimizerParams) -> Result<()> {
    check("sgd_update", weight, grad, &[])?;
    fn run<T: Element>(weight: &NdArray, grad: &NdArray, h: OptimizerParams) -> Result<()> {
        let (lr, wd, rescale, bound) = (T::of(h.lr), T::of(h.wd), T::of(h.rescale_grad), T::of(h.clip_gradient));
        // MXNet folds lr into rescale_grad when there is no clipping; the rounding follows.
        if bound < T::zero() {
            let step = lr * rescale;
            update::<T, 0>(weight, grad, [], |w, g, _| *w = (T::one() - lr * wd) * *w - step * g)
        } else {
            update::<T, 0>(weight, grad, [], |w, g, _| *w = (T::one() - lr * wd) * *w - lr * clip(rescale * g, bound))
        }
    }
    dispatch(weight, || run::<f32>(weight, grad, h), || run::<f64>(weight, grad, h))
}

pub fn sgd_mom_update(weight: &NdArray, grad: &NdArray, mom: &NdArray, momentum: f64, h: OptimizerParams) -> Result<()> {
    check("sgd_mom_update", weight, grad, &[mom])?;
    fn run<T: Element>(weight: &NdArray, grad: &NdArray, mom: &NdArray, momentum: f64, h: OptimizerParams) -> Result<()> {
        let (lr, wd, rescale, bound, mu) = (T::of(h.lr), T::of(h.wd), T::of(h.rescale_grad), T::of(h.clip_gradient), T::of(momentum));
        let step = lr * rescale;
        update::<T, 1>(weight, grad, [mom], |w, g, [m]| {
            let descent = if bound < T::zero() { step * g } else { lr * clip(rescale * g, bound) };
            *m = mu * *m - lr * wd * *w - descent;
            *w += *m;
        })
    }
    dispatch(weight, || run::<f32>(weight, grad, mom, momentum, h), || run::<f64>(weight, grad, mom, momentum, h))
}

#[allow(clippy::too_many_arguments)]
pub fn adam_update(weight: &NdArray, grad: &NdArray, mean: &NdArray, var: &NdArray, beta1: f64, beta2: f64, eps: f64, t: u64, h: OptimizerParams) -> Result<()> {
    check("adam_update", weight, grad, &[mean, var])?;
    if !(0.0..1.0).contains(&beta1) || !(0.0..1.0).contains(&beta2) {
        bail!(InvalidArgument, "adam_update: beta1 and beta2 must be in [0, 1); got {} and {}", beta1, beta2);
    }
    let lr = if t == 0 { h.lr } else { h.lr * (1.0 - beta2.powf(t as f64)).sqrt() / (1.0 - beta1.powf(t as f64)) };
    #[allow(clippy::too_many_arguments)]
    fn run<T: Element>(weight: &NdArray, grad: &NdArray, mean: &NdArray, var: &NdArray, b1: f64, b2: f64, eps: f64, lr: f64, h: OptimizerParams) -> Result<()> {
        let (lr, wd, rescale, bound) = (T::of(lr), T::of(h.wd), T::of(h.rescale_grad), T::of(h.clip_gradient));
        let (b1, b2, eps) = (T::of(b1), T::of(b2), T::of(eps));
        update::<T, 2>(weight, grad, [mean, var], |w, g, [m, v]| {
            let g = clip(g * rescale + *w * wd, bound);
            *m = b1 * *m + (T::one() - b1) * g;
            *v = b2 * *v + (T::one() - b2) * g * g;
            *w -= lr * *m / (v.sqrt() + eps);
        })
    }
    dispatch(
        weight,
        || run::<f32>(weight, grad, mean, var, beta1, beta2, eps, lr, h),
        || run::<f64>(weight, grad, mean, var, beta1, beta2, eps, lr, h),
    )
}

/// MXNet's sign of an element: 1, -1 or 0 (also for NaN), as `(x > 0) - (x < 0)`.
#[inline]
fn sign<T: Element>(x: T) -> T {
    if x > T::zero() { T::one() } else if x < T::zero() { -T::one() } else { T::zero() }
}

pub fn signsgd_update(weight: &NdArray, grad: &NdArray, h: OptimizerParams) -> Result<()> {
    check("signsgd_update", weight, grad, &[])?;
    fn run<T: Element>(weight: &NdArray, grad: &NdArray, h: OptimizerParams) -> Result<()> {
        let (lr, wd) = (T::of(h.lr), T::of(h.wd));
        // MXNet's kernel ignores rescale_grad and clip_gradient: only the gradient's sign counts.
        update::<T, 0>(weight, grad, [], |w, g, _| *w = (T::one() - lr * wd) * *w - lr * sign(g))
    }
    dispatch(weight, || run::<f32>(weight, grad, h), || run::<f64>(weight, grad, h))
}

pub fn signum_update(weight: &NdArray, grad: &NdArray, mom: &NdArray, momentum: f64, wd_lh: f64, h: OptimizerParams) -> Result<()> {
    check("signum_update", weight, grad, &[mom])?;
    fn run<T: Element>(weight: &NdArray, grad: &NdArray, mom: &NdArray, momentum: f64, wd_lh: f64, h: OptimizerParams) -> Result<()> {
        let (lr, wd, rescale, bound, mu, wd_lh) =
            (T::of(h.lr), T::of(h.wd), T::of(h.rescale_grad), T::of(h.clip_gradient), T::of(momentum), T::of(wd_lh));
        update::<T, 1>(weight, grad, [mom], |w, g, [m]| {
            let decay = (T::one() - mu) * wd * *w;
            *m = if bound < T::zero() {
                mu * *m - decay - (T::one() - mu) * rescale * g
            } else {
                mu * *m - decay - (T::one() - mu) * clip(rescale * g, bound)
            };
            *w = (T::one() - lr * wd_lh) * *w + lr * sign(*m);
        })
    }
    dispatch(weight, || run::<f32>(weight, grad, mom, momentum, wd_lh, h), || run::<f64>(weight, grad, mom, momentum, wd_lh, h))
}

#[allow(clippy::too_many_arguments)]
pub fn rmsprop_update(weight: &NdArray, grad: &NdArray, n: &NdArray, gamma1: f64, epsilon: f64, clip_weights: f64, h: OptimizerParams) -> Result<()> {
    check("rmsprop_update", weight, grad, &[n])?;
    fn run<T: Element>(weight: &NdArray, grad: &NdArray, n: &NdArray, gamma1: f64, epsilon: f64, clip_weights: f64, h: OptimizerParams) -> Result<()> {
        let (lr, wd, rescale, bound) = (T::of(h.lr), T::of(h.wd), T::of(h.rescale_grad), T::of(h.clip_gradient));
        let (g1, eps, wbound) = (T::of(gamma1), T::of(epsilon), T::of(clip_weights));
        update::<T, 1>(weight, grad, [n], |w, g, [n]| {
            let g = clip(rescale * g + wd * *w, bound);
            *n = (T::one() - g1) * (g * g) + g1 * *n;
            *w = clip(*w - lr * (g / (*n + eps).sqrt()), wbound);
        })
    }
    dispatch(
        weight,
        || run::<f32>(weight, grad, n, gamma1, epsilon, clip_weights, h),
        || run::<f64>(weight, grad, n, gamma1, epsilon, clip_weights, h),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn rmspropalex_update(
    weight: &NdArray,
    grad: &NdArray,
    n: &NdArray,
    g: &NdArray,
    delta: &NdArray,
    gamma1: f64,
    gamma2: f64,
    epsilon: f64,
    clip_weights: f64,
    h: OptimizerParams,
) -> Result<()> {
    check("rmspropalex_update", weight, grad, &[n, g, delta])?;
    #[allow(clippy::too_many_arguments)]
    fn run<T: Element>(weight: &NdArray, grad: &NdArray, states: [&NdArray; 3], gamma1: f64, gamma2: f64, epsilon: f64, clip_weights: f64, h: OptimizerParams) -> Result<()> {
        let (lr, wd, rescale, bound) = (T::of(h.lr), T::of(h.wd), T::of(h.rescale_grad), T::of(h.clip_gradient));
        let (g1, g2, eps, wbound) = (T::of(gamma1), T::of(gamma2), T::of(epsilon), T::of(clip_weights));
        update::<T, 3>(weight, grad, states, |w, g, [n, mg, delta]| {
            let g = clip(rescale * g + wd * *w, bound);
            *n = (T::one() - g1) * g * g + g1 * *n;
            *mg = (T::one() - g1) * g + g1 * *mg;
            *delta = g2 * *delta - lr * g / (*n - *mg * *mg + eps).sqrt();
            *w = clip(*w + *delta, wbound);
        })
    }
    dispatch(
        weight,
        || run::<f32>(weight, grad, [n, g, delta], gamma1, gamma2, epsilon, clip_weights, h),
        || run::<f64>(weight, grad, [n, g, delta], gamma1, gamma2, epsilon, clip_weights, h),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn ftrl_update(weight: &NdArray, grad: &NdArray, z: &NdArray, n: &NdArray, lamda1: f64, beta: f64, h: OptimizerParams) -> Result<()> {
    check("ftrl_update", weight, grad, &[z, n])?;
    #[allow(clippy::too_many_arguments)]
    fn run<T: Element>(weight: &NdArray, grad: &NdArray, z: &NdArray, n: &NdArray, lamda1: f64, beta: f64, h: OptimizerParams) -> Result<()> {
        let (lr, wd, rescale, bound) = (T::of(h.lr), T::of(h.wd), T::of(h.rescale_grad), T::of(h.clip_gradient));
        let (l1, beta) = (T::of(lamda1), T::of(beta));
        update::<T, 2>(weight, grad, [z, n], |w, g, [z, n]| {
            let g = clip(g * rescale, bound);
            *z += g - ((*n + g * g).sqrt() - n.sqrt()) * *w / lr;
            *n += g * g;
            let active = if z.abs() > l1 { T::one() } else { T::zero() };
            // Multiplied, not selected, as MXNet does (0·x keeps the sign of x, and 0·∞ is NaN).
            *w = (sign(*z) * l1 - *z) / ((beta + n.sqrt()) / lr + wd) * active;
        })
    }
    dispatch(weight, || run::<f32>(weight, grad, z, n, lamda1, beta, h), || run::<f64>(weight, grad, z, n, lamda1, beta, h))
}

pub fn nag_mom_update(weight: &NdArray, grad: &NdArray, mom: &NdArray, momentum: f64, h: OptimizerParams) -> Result<()> {
    check("nag_mom_update", weight, grad, &[mom])?;
    fn run<T: Element>(weight: &NdArray, grad: &NdArray, mom: &NdArray, momentum: f64, h: OptimizerParams) -> Result<()> {
        let (lr, wd, rescale, bound, mu) = (T::of(h.lr), T::of(h.wd), T::of(h.rescale_grad), T::of(h.clip_gradient), T::of(momentum));
        update::<T, 1>(weight, grad, [mom], |w, g, [m]| {
            let g = clip(rescale * g, bound);
            *m = mu * *m;
            *w = *w - *m + (mu + T::one()) * (*m - lr * (g + wd * *w));
            // The new weight, as MXNet's kernel reads it when it updates in place.
            *m -= lr * (g + wd * *w);
        })
    }
    dispatch(weight, || run::<f32>(weight, grad, mom, momentum, h), || run::<f64>(weight, grad, mom, momentum, h))
}

/// MXNet's `lamb_update_phase1`: updates `mean` and `var` in place and returns the LAMB
/// direction `g` as a new array (the weight is only read).
#[allow(clippy::too_many_arguments)]
pub fn lamb_update_phase1(
    weight: &NdArray,
    grad: &NdArray,
    mean: &NdArray,
    var: &NdArray,
    beta1: f64,
    beta2: f64,
    epsilon: f64,
    t: u64,
    bias_correction: bool,
    h: OptimizerParams,
) -> Result<NdArray> {
    check("lamb_update_phase1", weight, grad, &[mean, var])?;
    // The direction starts as a copy of the weight, which the update reads and overwrites
    // element by element: the weight itself is left alone.
    let out = NdArray::from(Array::from_buffer(weight.clone_buffer()?, weight.shape.clone()));
    #[allow(clippy::too_many_arguments)]
    fn run<T: Element>(out: &NdArray, grad: &NdArray, mean: &NdArray, var: &NdArray, beta1: f64, beta2: f64, epsilon: f64, t: u64, bias_correction: bool, h: OptimizerParams) -> Result<()> {
        let (wd, rescale, bound) = (T::of(h.wd), T::of(h.rescale_grad), T::of(h.clip_gradient));
        let (b1, b2, eps) = (T::of(beta1), T::of(beta2), T::of(epsilon));
        // MXNet: DType beta1_t = std::pow(param.beta1, param.t), in double, then rounded.
        let (b1t, b2t) = (T::of(b1.as_f64().powf(t as f64)), T::of(b2.as_f64().powf(t as f64)));
        let m_scale = 1.0 - b1t.as_f64();
        update::<T, 2>(out, grad, [mean, var], |w, g, [m, v]| {
            let g = clip(g * rescale, bound);
            *m = b1 * *m + (T::one() - b1) * g;
            *v = b2 * *v + (T::one() - b2) * g * g;
            *w = if bias_correction {
                let m_hat = T::of(m.as_f64() / m_scale);
                let v_hat = *v / (T::one() - b2t);
                m_hat / (v_hat.sqrt() + eps) + wd * *w
            } else {
                *m / (v.sqrt() + eps) + wd * *w
            };
        })
    }
    dispatch(
        weight,
        || run::<f32>(&out, grad, mean, var, beta1, beta2, epsilon, t, bias_correction, h),
        || run::<f64>(&out, grad, mean, var, beta1, beta2, epsilon, t, bias_correction, h),
    )?;
    Ok(out)
}

/// MXNet's `lamb_update_phase2`: `weight -= lr·r1/r2·g` in place, with `r1` (the weight's
/// norm) bounded and `r2` (the direction's norm) one-element arrays.
pub fn lamb_update_phase2(weight: &NdArray, g: &NdArray, r1: &NdArray, r2: &NdArray, lr: f64, lower_bound: f64, upper_bound: f64) -> Result<()> {
    check("lamb_update_phase2", weight, g, &[])?;
    for (name, r) in [("r1", r1), ("r2", r2)] {
        if r.dtype != weight.dtype {
            bail!(DType, "lamb_update_phase2: {} is {}, but the weight is {}", name, r.dtype.name(), weight.dtype.name());
        }
        if r.size() != 1 {
            bail!(Shape, "lamb_update_phase2: {} must hold one element (a norm); it has shape {}", name, fmt_shape(&r.shape));
        }
    }
    fn run<T: Element>(weight: &NdArray, g: &NdArray, r1: &NdArray, r2: &NdArray, lr: f64, lower_bound: f64, upper_bound: f64) -> Result<()> {
        let (r1, r2) = (r1.try_to_vec::<T>()?[0], r2.try_to_vec::<T>()?[0]);
        let (mut lr, lower, upper) = (T::of(lr), T::of(lower_bound), T::of(upper_bound));
        // mshadow's maximum and minimum: a NaN first argument stays.
        let mut r1 = r1;
        if lower >= T::zero() && !r1.is_nan() {
            r1 = if r1 > lower { r1 } else { lower };
        }
        if upper >= T::zero() && !r1.is_nan() {
            r1 = if r1 < upper { r1 } else { upper };
        }
        if r1 != T::zero() && r2 != T::zero() {
            lr = lr * r1 / r2;
        }
        update::<T, 0>(weight, g, [], |w, g, _| *w -= lr * g)
    }
    dispatch(
        weight,
        || run::<f32>(weight, g, r1, r2, lr, lower_bound, upper_bound),
        || run::<f64>(weight, g, r1, r2, lr, lower_bound, upper_bound),
    )
}
