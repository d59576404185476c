//! Draws with a parameter per element (MXNet's `_sample_*` ops, behind `nd.random.normal(loc,
//! scale)` and the rest when their parameters are arrays): for parameters of shape P and a
//! draw `shape` S the result has shape P + S, and its block at each position of P is drawn
//! with the parameters at that position. The blocks are drawn in row-major order of P from
//! the one process-wide generator, so a seed reproduces them on any thread count. A block's
//! parameters are checked as the scalar `random_*` functions check theirs.
//!
//! Multinomial draws are here too: one category index per draw, from each row of
//! probabilities.

use super::random::{self, Rng};
use super::shape::checked_size;
use super::{fmt_shape, Array, DType};
use crate::error::{bail, Error, Result};

pub(crate) fn check_normal(loc: f64, scale: f64) -> Result<()> {
    if scale < 0.0 || !loc.is_finite() || !scale.is_finite() {
        bail!(InvalidArgument, "random normal needs a finite loc and a finite scale >= 0; got loc {}, scale {}", loc, scale);
    }
    Ok(())
}

pub(crate) fn check_uniform(low: f64, high: f64) -> Result<()> {
    if low > high || !low.is_finite() || !high.is_finite() {
        bail!(InvalidArgument, "random uniform needs finite low <= high; got low {}, high {}", low, high);
    }
    Ok(())
}

pub(crate) fn check_exponential(scale: f64) -> Result<()> {
    if !(scale > 0.0 && scale.is_finite()) {
        bail!(InvalidArgument, "random exponential needs a finite scale > 0; got scale {}", scale);
    }
    Ok(())
}

pub(crate) fn check_gamma(alpha: f64, beta: f64) -> Result<()> {
    for (name, value) in [("alpha", alpha), ("beta", beta)] {
        if !(value > 0.0 && value.is_finite()) {
            bail!(InvalidArgument, "random gamma needs a finite {} > 0; got {} {}", name, name, value);
        }
    }
    Ok(())
}

pub(crate) fn check_poisson(lam: f64) -> Result<()> {
    if !(lam >= 0.0 && lam.is_finite()) {
        bail!(InvalidArgument, "random poisson needs a finite lam >= 0; got lam {}", lam);
    }
    Ok(())
}

/// `[1, 0]` for the row-major position `i` of an array of `shape`, `[]` for a 0-d one.
fn position(mut i: usize, shape: &[usize]) -> String {
    let mut idx = vec![0; shape.len()];
    for (d, &n) in shape.iter().enumerate().rev() {
        idx[d] = i % n.max(1);
        i /= n.max(1);
    }
    format!("[{}]", idx.iter().map(usize::to_string).collect::<Vec<_>>().join(", "))
}

/// Draws `draw(rng, p)` for each position of `params` (same shape, same dtype), a block of
/// `shape` each, after `check(p)` passes for every position; `p` holds the parameters at
/// that position in the order given. `op` names the function in messages.
fn sample_with(
    op: &str,
    params: &[(&str, &Array)],
    shape: &[usize],
    dtype: DType,
    check: impl Fn(&[f64]) -> Result<()>,
    mut draw: impl FnMut(&mut Rng, &[f64]) -> f64,
) -> Result<Array> {
    let (first_name, first) = params[0];
    if !dtype.is_float() {
        bail!(DType, "{}: draws need a float `dtype` (float32 or float64, as MXNet's), not {}: draw in float and astype", op, dtype.name());
    }
    if !first.dtype.is_float() {
        bail!(DType, "{}: {} is {}: the parameters need a float dtype (float32 or float64)", op, first_name, first.dtype.name());
    }
    for &(name, a) in &params[1..] {
        if a.shape != first.shape {
            bail!(
                Shape,
                "{}: {} has shape {} and {} shape {}: the parameters need one shape (they are not broadcast)",
                op,
                first_name,
                fmt_shape(&first.shape),
                name,
                fmt_shape(&a.shape)
            );
        }
        if a.dtype != first.dtype {
            bail!(DType, "{}: {} is {} and {} {}: the parameters need one dtype", op, first_name, first.dtype.name(), name, a.dtype.name());
        }
    }
    let mut out_shape = first.shape.to_vec();
    out_shape.extend_from_slice(shape);
    let n = checked_size(&out_shape)?;
    let block = checked_size(shape)?;
    let m = first.size();
    let values: Vec<Vec<f64>> = params.iter().map(|(_, a)| a.to_f64_vec()).collect();
    let at = |i: usize| values.iter().map(|v| v[i]).collect::<Vec<f64>>();
    for i in 0..m {
        check(&at(i)).map_err(|e| {
            let names: Vec<&str> = params.iter().map(|(name, _)| *name).collect();
            Error::new(
                e.kind,
                format!("{}: {} at {} (of shape {}): {}", op, names.join(" and "), position(i, &first.shape), fmt_shape(&first.shape), e.message),
            )
        })?;
    }
    let mut v: Vec<f64> = super::storage::try_vec(n)?;
    if block > 0 {
        random::with_rng(|rng| {
            for i in 0..m {
                let p = at(i);
                v.extend((0..block).map(|_| draw(rng, &p)));
            }
        });
    }
    Array::from_draws(v, &out_shape, dtype)
}

impl Array {
    /// Draws from N(loc, scale²) with `loc` and `scale` arrays of one shape P: the result has
    /// shape P + `shape`, each block drawn with its position's parameters.
    pub fn sample_normal(loc: &Array, scale: &Array, shape: &[usize], dtype: DType) -> Result<Array> {
        sample_with("sample normal", &[("loc", loc), ("scale", scale)], shape, dtype, |p| check_normal(p[0], p[1]), |rng, p| {
            p[0] + p[1] * rng.next_normal()
        })
    }

    /// Draws from U[low, high) with `low` and `high` arrays of one shape, as `sample_normal`.
    pub fn sample_uniform(low: &Array, high: &Array, shape: &[usize], dtype: DType) -> Result<Array> {
        let narrow = dtype == DType::F32;
        sample_with("sample uniform", &[("low", low), ("high", high)], shape, dtype, |p| check_uniform(p[0], p[1]), |rng, p| {
            let (low, high) = (p[0], p[1]);
            let x = low + (high - low) * rng.next_f64();
            // Rounding (to f32, or of the f64 sum) can land on `high`; keep the interval open,
            // as `random_uniform` does.
            match (low < high, narrow) {
                (true, true) if x as f32 >= high as f32 => (high as f32).next_down() as f64,
                (true, false) if x >= high => high.next_down(),
                _ => x,
            }
        })
    }

    /// Draws from the exponential distribution with mean `scale` (an array), as
    /// `sample_normal`.
    pub fn sample_exponential(scale: &Array, shape: &[usize], dtype: DType) -> Result<Array> {
        sample_with("sample exponential", &[("scale", scale)], shape, dtype, |p| check_exponential(p[0]), |rng, p| {
            p[0] * rng.next_exponential()
        })
    }

    /// Draws from the gamma distribution with shape `alpha` and scale `beta` (arrays of one
    /// shape), as `sample_normal`.
    pub fn sample_gamma(alpha: &Array, beta: &Array, shape: &[usize], dtype: DType) -> Result<Array> {
        sample_with("sample gamma", &[("alpha", alpha), ("beta", beta)], shape, dtype, |p| check_gamma(p[0], p[1]), |rng, p| {
            p[1] * rng.next_gamma(p[0])
        })
    }

    /// Draws from the Poisson distribution with mean `lam` (an array), as `sample_normal`.
    pub fn sample_poisson(lam: &Array, shape: &[usize], dtype: DType) -> Result<Array> {
        sample_with("sample poisson", &[("lam", lam)], shape, dtype, |p| check_poisson(p[0]), |rng, p| rng.next_poisson(p[0]))
    }

    /// Draws category indices from the rows of probabilities along `data`'s last axis (k
    /// categories): the result has shape `data.shape[:-1] + shape`, its block at each row's
    /// position drawn from that row, as whole numbers held as `dtype` floats. Each row must
    /// be finite, not negative, and sum to 1 within (k + 16) roundings of `data`'s dtype
    /// (MXNet draws from whatever it is given: out of range where a row sums below 1).
    pub fn sample_multinomial(data: &Array, shape: &[usize], dtype: DType) -> Result<Array> {
        let op = "sample multinomial";
        let Some((&k, rows_shape)) = data.shape.split_last() else {
            bail!(Shape, "{}: data is 0-d: it needs an axis of probabilities (its last)", op);
        };
        if k == 0 {
            bail!(Shape, "{}: data of shape {} has no categories (its last axis is empty)", op, fmt_shape(&data.shape));
        }
        // The largest category must be held exactly.
        let most: u64 = match dtype {
            DType::F32 => 1 << 24,
            DType::F64 => 1 << 53,
            DType::U8 => u8::MAX as u64 + 1,
            DType::I32 => i32::MAX as u64 + 1,
            other => bail!(DType, "{}'s `dtype` is int32 or uint8 (MXNet's), float32 or float64, not {}", op, other.name()),
        };
        if k as u64 > most {
            bail!(InvalidArgument, "{}: {} categories: {} holds category indices only up to {}", op, k, dtype.name(), most - 1);
        }
        if !data.dtype.is_float() {
            bail!(DType, "{}: data holds probabilities: float32 or float64, not {}", op, data.dtype.name());
        }
        let mut out_shape = rows_shape.to_vec();
        out_shape.extend_from_slice(shape);
        let n = checked_size(&out_shape)?;
        let block = checked_size(shape)?;
        let eps = if data.dtype == DType::F32 { f32::EPSILON as f64 } else { f64::EPSILON };
        let tolerance = (k as f64 + 16.0) * eps;
        let p = data.to_f64_vec();
        let rows = p.len() / k;
        // Each row's running sums, checked first: nothing is drawn from a bad row.
        let mut cum: Vec<f64> = super::storage::try_vec(p.len())?;
        for r in 0..rows {
            let mut acc = 0.0;
            for (c, &x) in p[r * k..(r + 1) * k].iter().enumerate() {
                if !(x >= 0.0 && x.is_finite()) {
                    bail!(
                        InvalidArgument,
                        "{}: data (shape {}) has probability {} at {}: probabilities must be finite and >= 0",
                        op,
                        fmt_shape(&data.shape),
                        x,
                        position(r * k + c, &data.shape)
                    );
                }
                acc += x;
                cum.push(acc);
            }
            if (acc - 1.0).abs() > tolerance {
                bail!(
                    InvalidArgument,
                    "{}: the row of data (shape {}) at {} sums to {}, not 1 (within {:.1e}): each row must be a probability distribution",
                    op,
                    fmt_shape(&data.shape),
                    position(r, rows_shape),
                    acc,
                    tolerance
                );
            }
        }
        let mut v: Vec<f64> = super::storage::try_vec(n)?;
        if block > 0 {
            random::with_rng(|rng| {
                for r in 0..rows {
                    let (row, cum) = (&p[r * k..(r + 1) * k], &cum[r * k..(r + 1) * k]);
                    let total = cum[k - 1];
                    // The last category of non-zero probability, for a draw that rounding
                    // puts at the total itself.
                    let last = row.iter().rposition(|&x| x > 0.0).unwrap_or(k - 1);
                    v.extend((0..block).map(|_| {
                        // Scaled by the row's sum, so a category of probability 0 is never
                        // drawn: the first whose running sum exceeds u.
                        let u = total * rng.next_f64();
                        cum.partition_point(|&c| c <= u).min(last) as f64
                    }));
                }
            });
        }
        Array::from_draws(v, &out_shape, dtype)
    }
}
