//! Draws whose results take part in the graph: multinomial samples with their
//! log-probabilities (MXNet's `_sample_multinomial` with `get_prob`), which are
//! differentiable with respect to the probabilities.

use crate::array::{Array, DType};
use crate::error::Result;
use crate::NdArray;

use super::{log, reshape_to, take, IndexMode};

/// Category indices drawn from each row of probabilities along `data`'s last axis (k
/// categories): shape `data.shape[:-1] + shape`, whole numbers held as `dtype` floats, with
/// no autograd history. With `get_prob`, also the log-probability of each draw, in `data`'s
/// dtype: `log(data[..., sample])`, gathered from `data` so that its gradient reaches `data`
/// (1 / p at each drawn category, summed over the draws), as MXNet's does.
pub fn sample_multinomial(data: &NdArray, shape: &[usize], dtype: DType, get_prob: bool) -> Result<(NdArray, Option<NdArray>)> {
    let samples = Array::sample_multinomial(&data.data, shape, dtype)?;
    if !get_prob {
        return Ok((samples.into(), None));
    }
    // The position of each draw in `data` flattened: its row's start plus the category.
    let k = data.shape[data.ndim() - 1];
    let block = shape.iter().product::<usize>().max(1);
    let flat: Vec<f64> = samples.to_f64_vec().iter().enumerate().map(|(i, &c)| ((i / block) * k) as f64 + c).collect();
    let positions = NdArray::from_slice(&flat, &samples.shape)?;
    let log_prob = log(&take(&reshape_to(data, &[data.size()])?, &positions, 0, IndexMode::Raise)?)?;
    Ok((samples.into(), Some(log_prob)))
}
