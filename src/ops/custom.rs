//! Differentiable functions the host defines: a forward and a vector-Jacobian product given
//! from outside the library (a C callback, a Python function), recorded as one op. The
//! forward runs without recording; the product runs as backward sets recording (on under
//! `create_graph`), so a product written with the library's ops is differentiable again.

use std::sync::Arc;

use super::{reshape_to, slice, AxisIndex};
use crate::array::{fmt_shape, Array};
use crate::error::{bail, Result};
use crate::tape::state::{is_training, FlagsGuard};
use crate::tape::{record_saving, should_record, Save, VjpArgs};
use crate::NdArray;

/// A function the host defines.
pub trait CustomFunction: Send + Sync {
    /// How messages name it.
    fn name(&self) -> &str;

    /// The outputs for `inputs` (at least one); the arrays its product will need go into
    /// `saved`. Runs without recording.
    fn forward(&self, inputs: &[NdArray], saved: &mut Vec<NdArray>) -> Result<Vec<NdArray>>;

    /// Each input's gradient (`None` for none) from each output's gradient (at the output's
    /// shape) and what `forward` saved. `needs` says which inputs' gradients are wanted.
    fn backward(&self, output_grads: &[NdArray], saved: &[NdArray], needs: &[bool]) -> Result<Vec<Option<NdArray>>>;
}

/// Where a saved array came from: an input or an output of the call (then the product sees
/// it with its place in the graph, so that second derivatives flow through it), or neither.
#[derive(Clone, Copy)]
enum SavedFrom {
    Input(usize),
    Output(usize),
    Other(usize),
}

fn same_view(a: &Array, b: &Array) -> bool {
    Arc::ptr_eq(&a.storage, &b.storage) && a.offset == b.offset && a.shape == b.shape && a.dtype == b.dtype
}

/// Runs `f` on `inputs` and, when recording, records it as one op.
pub fn apply(f: Arc<dyn CustomFunction>, inputs: &[NdArray]) -> Result<Vec<NdArray>> {
    let mut saved = Vec::new();
    let outputs = {
        let _paused = FlagsGuard::set(false, is_training());
        f.forward(inputs, &mut saved)?
    };
    if outputs.is_empty() {
        bail!(InvalidArgument, "custom function `{}`: forward returned no output", f.name());
    }
    let dtype = outputs[0].dtype;
    if let Some((i, o)) = outputs.iter().enumerate().find(|(_, o)| o.dtype != dtype) {
        bail!(DType, "custom function `{}`: output {} is {} but output 0 is {}: the outputs must share one dtype", f.name(), i, o.dtype.name(), dtype.name());
    }
    // The outputs as values: whatever the host made them from, they are the function's.
    let outputs: Vec<NdArray> = outputs.iter().map(NdArray::detach).collect();
    let refs: Vec<&NdArray> = inputs.iter().collect();
    if !should_record(&refs) {
        return Ok(outputs);
    }
    let from: Vec<SavedFrom> = saved
        .iter()
        .scan(0, |others, s| {
            Some(if let Some(i) = inputs.iter().position(|x| same_view(x, s)) {
                SavedFrom::Input(i)
            } else if let Some(j) = outputs.iter().position(|o| same_view(o, s)) {
                SavedFrom::Output(j)
            } else {
                *others += 1;
                SavedFrom::Other(*others - 1)
            })
        })
        .collect();
    let others: Vec<&NdArray> = saved.iter().zip(&from).filter(|(_, f)| matches!(f, SavedFrom::Other(_))).map(|(s, _)| s).collect();
    let shapes: Vec<Vec<usize>> = outputs.iter().map(|o| o.shape.to_vec()).collect();
    let input_shapes: Vec<(Vec<usize>, crate::DType)> = inputs.iter().map(|x| (x.shape.to_vec(), x.dtype)).collect();
    let single = outputs.len() == 1;
    // One output is the node's output; several are packed into one, which each reads back
    // as a view (a node has one output).
    let packed = if single { outputs[0].clone() } else { pack(&outputs)? };
    let product = move |v: &VjpArgs<'_>| {
        let unpacked = |packed: &NdArray| if single { Ok(vec![packed.clone()]) } else { unpack(packed, &shapes) };
        let grads = unpacked(v.grad)?;
        let outs = unpacked(&v.output())?;
        let saved: Vec<NdArray> = from
            .iter()
            .map(|f| match *f {
                SavedFrom::Input(i) => v.input(i).clone(),
                SavedFrom::Output(j) => outs[j].clone(),
                SavedFrom::Other(k) => v.extra(k).clone(),
            })
            .collect();
        let needs: Vec<bool> = (0..input_shapes.len()).map(|i| v.needs(i)).collect();
        let got = f.backward(&grads, &saved, &needs)?;
        check_gradients(f.name(), &got, &input_shapes)?;
        Ok(got)
    };
    let out = record_saving("custom", &refs, &others, packed, Save::BOTH, product);
    if single { Ok(vec![out]) } else { unpack(&out, &outputs.iter().map(|o| o.shape.to_vec()).collect::<Vec<_>>()) }
}

/// The outputs flattened and joined into one array.
fn pack(outputs: &[NdArray]) -> Result<NdArray> {
    let flat = outputs.iter().map(|o| reshape_to(o, &[o.size()])).collect::<Result<Vec<_>>>()?;
    super::concat(&flat, 0)
}

/// The arrays of `shapes` that `pack` joined into `packed`, as views of it.
fn unpack(packed: &NdArray, shapes: &[Vec<usize>]) -> Result<Vec<NdArray>> {
    let mut start = 0i64;
    shapes
        .iter()
        .map(|shape| {
            let n = shape.iter().product::<usize>() as i64;
            let part = slice(packed, &[AxisIndex::Range { start, stop: start + n, step: 1 }])?;
            start += n;
            reshape_to(&part, shape)
        })
        .collect()
}

/// One gradient per input, each of its input's shape and dtype.
fn check_gradients(name: &str, grads: &[Option<NdArray>], inputs: &[(Vec<usize>, crate::DType)]) -> Result<()> {
    if grads.len() != inputs.len() {
        bail!(InvalidArgument, "custom function `{}`: backward gave {} gradients for {} inputs", name, grads.len(), inputs.len());
    }
    for (i, (g, (shape, dtype))) in grads.iter().zip(inputs).enumerate() {
        let Some(g) = g else { continue };
        if g.shape[..] != shape[..] || g.dtype != *dtype {
            let kind = if g.dtype != *dtype { crate::ErrorKind::DType } else { crate::ErrorKind::Shape };
            return Err(crate::Error::new(
                kind,
                format!(
                "custom function `{}`: backward gave a gradient of shape {} {} for input {} of shape {} {}",
                name,
                fmt_shape(&g.shape),
                g.dtype.name(),
                i,
                fmt_shape(shape),
                dtype.name()
                ),
            ));
        }
    }
    Ok(())
}
