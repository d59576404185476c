//! `NdArray`: an array of values (`Array`, which it derefs to) and its place in the autograd
//! graph. Cloning one is cheap and shares both.

use std::ops::Deref;

use super::Origin;
use crate::array::{Array, DType};
use crate::error::Result;

#[derive(Clone)]
pub struct NdArray {
    pub(crate) data: Array,
    /// How this array takes part in autograd: `None` for a constant, else the node that
    /// produced it or the variable it is.
    pub(crate) origin: Option<Origin>,
}

impl Deref for NdArray {
    type Target = Array;

    #[inline]
    fn deref(&self) -> &Array {
        &self.data
    }
}

/// A constant: values outside the graph.
impl From<Array> for NdArray {
    #[inline]
    fn from(data: Array) -> NdArray {
        NdArray { data, origin: None }
    }
}

impl std::fmt::Debug for NdArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NdArray{}{}", self.repr(), if self.origin.is_some() { " (in graph)" } else { "" })
    }
}

/// The constructors of constants, as `Array`'s.
impl NdArray {
    /// An array with a copy of `data` in `shape` (the lengths must agree).
    pub fn from_slice<T: crate::array::Scalar>(data: &[T], shape: &[usize]) -> Result<NdArray> {
        Array::from_slice(data, shape).map(NdArray::from)
    }

    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Result<NdArray> {
        Array::full(shape, value, dtype).map(NdArray::from)
    }

    pub fn zeros(shape: &[usize], dtype: DType) -> Result<NdArray> {
        Array::zeros(shape, dtype).map(NdArray::from)
    }

    pub fn ones(shape: &[usize], dtype: DType) -> Result<NdArray> {
        Array::ones(shape, dtype).map(NdArray::from)
    }

    /// `start, start + step, ...` up to but excluding `stop`, as NumPy's arange.
    pub fn arange(start: f64, stop: f64, step: f64, dtype: DType) -> Result<NdArray> {
        Array::arange(start, stop, step, dtype).map(NdArray::from)
    }

    /// Draws from N(loc, scale²) with the process-wide seeded generator.
    pub fn random_normal(loc: f64, scale: f64, shape: &[usize], dtype: DType) -> Result<NdArray> {
        Array::random_normal(loc, scale, shape, dtype).map(NdArray::from)
    }

    /// Draws from U[low, high) with the process-wide seeded generator.
    pub fn random_uniform(low: f64, high: f64, shape: &[usize], dtype: DType) -> Result<NdArray> {
        Array::random_uniform(low, high, shape, dtype).map(NdArray::from)
    }

    /// Draws from the exponential distribution with mean `scale` > 0.
    pub fn random_exponential(scale: f64, shape: &[usize], dtype: DType) -> Result<NdArray> {
        Array::random_exponential(scale, shape, dtype).map(NdArray::from)
    }

    /// Draws from the gamma distribution with shape `alpha` > 0 and scale `beta` > 0.
    pub fn random_gamma(alpha: f64, beta: f64, shape: &[usize], dtype: DType) -> Result<NdArray> {
        Array::random_gamma(alpha, beta, shape, dtype).map(NdArray::from)
    }

    /// Draws from the Poisson distribution with mean `lam` >= 0, as floats.
    pub fn random_poisson(lam: f64, shape: &[usize], dtype: DType) -> Result<NdArray> {
        Array::random_poisson(lam, shape, dtype).map(NdArray::from)
    }

    /// Draws whole numbers uniformly from [low, high), as floats.
    pub fn random_randint(low: i64, high: i64, shape: &[usize], dtype: DType) -> Result<NdArray> {
        Array::random_randint(low, high, shape, dtype).map(NdArray::from)
    }

    /// Draws from N(loc, scale²) with a parameter pair per element of `loc` and `scale` (one
    /// shape P): shape P + `shape`. The draws have no autograd history, as MXNet's
    /// `_sample_normal` has no gradient.
    pub fn sample_normal(loc: &NdArray, scale: &NdArray, shape: &[usize], dtype: DType) -> Result<NdArray> {
        Array::sample_normal(&loc.data, &scale.data, shape, dtype).map(NdArray::from)
    }

    /// Draws from U[low, high) per element of `low` and `high`, as `sample_normal`.
    pub fn sample_uniform(low: &NdArray, high: &NdArray, shape: &[usize], dtype: DType) -> Result<NdArray> {
        Array::sample_uniform(&low.data, &high.data, shape, dtype).map(NdArray::from)
    }

    /// Draws from the exponential distribution with mean `scale` per element, as
    /// `sample_normal`.
    pub fn sample_exponential(scale: &NdArray, shape: &[usize], dtype: DType) -> Result<NdArray> {
        Array::sample_exponential(&scale.data, shape, dtype).map(NdArray::from)
    }

    /// Draws from the gamma distribution per element of `alpha` and `beta`, as
    /// `sample_normal`.
    pub fn sample_gamma(alpha: &NdArray, beta: &NdArray, shape: &[usize], dtype: DType) -> Result<NdArray> {
        Array::sample_gamma(&alpha.data, &beta.data, shape, dtype).map(NdArray::from)
    }

    /// Draws from the Poisson distribution per element of `lam`, as `sample_normal`.
    pub fn sample_poisson(lam: &NdArray, shape: &[usize], dtype: DType) -> Result<NdArray> {
        Array::sample_poisson(&lam.data, shape, dtype).map(NdArray::from)
    }

    /// A copy with its items along the first axis shuffled, with no autograd history (a
    /// shuffle is not differentiable, as in MXNet).
    pub fn random_shuffle(&self) -> Result<NdArray> {
        self.data.random_shuffle().map(NdArray::from)
    }

    /// The same values with no autograd history: gradients do not flow through the result.
    pub fn detach(&self) -> NdArray {
        NdArray { data: self.data.clone(), origin: None }
    }
}
