//! The gradients flowing through a backward pass: what has reached each node's output so far,
//! and each variable's sum.

use std::collections::HashMap;
use std::sync::Arc;

use crate::array::fmt_shape;
use crate::error::{bail, Result};
use crate::tape::state::is_recording;
use crate::tape::{Origin, NdArray, Node, Variable};
use crate::{ops, reference};

/// A node or variable by address: the graph's identity for them.
pub(super) type Key = usize;

pub(super) fn node_key(n: &Arc<Node>) -> Key {
    Arc::as_ptr(n) as Key
}

pub(super) fn var_key(v: &Arc<Variable>) -> Key {
    Arc::as_ptr(v) as Key
}

pub(super) struct Flow {
    nodes: HashMap<Key, NdArray>,
    /// Every variable the pass has met, with its gradient if any reached it.
    vars: HashMap<Key, (Arc<Variable>, Option<NdArray>)>,
    /// The nodes that made the heads, where the walk starts.
    pub(super) starts: Vec<Arc<Node>>,
}

impl Flow {
    /// Each head's gradient (its head gradient, or ones) sent to the node that made the head,
    /// or to the variable it is and on through that variable's own history.
    pub(super) fn seeded(heads: &[NdArray], head_grads: &[Option<NdArray>]) -> Result<Flow> {
        let mut flow = Flow { nodes: HashMap::new(), vars: HashMap::new(), starts: Vec::new() };
        for (i, head) in heads.iter().enumerate() {
            let seed = match head_grads.get(i).and_then(|g| g.as_ref()) {
                Some(g) => head_gradient(i, head, g)?,
                None => NdArray::ones(&head.shape, head.dtype)?,
            };
            let node = match &head.origin {
                None => bail!(
                    Autograd,
                    "head {} (shape {}) has no recorded history: compute it inside a record scope from an array that has attach_grad",
                    i,
                    fmt_shape(&head.shape)
                ),
                Some(Origin::Node(n)) => Some(n.clone()),
                Some(Origin::Var(v)) => {
                    flow.add_to_variable(v, seed.clone())?;
                    v.history.clone()
                }
            };
            if let Some(n) = node {
                flow.add_to_node(&n, seed)?;
                flow.starts.push(n);
            }
        }
        Ok(flow)
    }

    /// Adds `g` to what has reached `node`'s output.
    pub(super) fn add_to_node(&mut self, node: &Arc<Node>, g: NdArray) -> Result<()> {
        let slot = self.nodes.remove(&node_key(node));
        self.nodes.insert(node_key(node), sum(slot, g)?);
        Ok(())
    }

    /// Adds `g` to `var`'s gradient.
    pub(super) fn add_to_variable(&mut self, var: &Arc<Variable>, g: NdArray) -> Result<()> {
        let entry = self.vars.entry(var_key(var)).or_insert_with(|| (var.clone(), None));
        entry.1 = Some(sum(entry.1.take(), g)?);
        Ok(())
    }

    /// Notes a variable the heads reach, whether or not a gradient reaches it.
    pub(super) fn meet(&mut self, var: &Arc<Variable>) {
        self.vars.entry(var_key(var)).or_insert_with(|| (var.clone(), None));
    }

    pub(super) fn variables(&self) -> impl Iterator<Item = &Arc<Variable>> {
        self.vars.values().map(|(v, _)| v)
    }

    /// The whole gradient that reached `node`'s output, taken out of the flow.
    pub(super) fn take(&mut self, node: &Arc<Node>) -> Option<NdArray> {
        self.nodes.remove(&node_key(node))
    }

    /// `var`'s whole gradient at its full shape (`None`: none reached it), taken out of the
    /// flow with the variable itself.
    pub(super) fn take_variable(&mut self, var: &Arc<Variable>) -> Result<Option<NdArray>> {
        let g = self.vars.remove(&var_key(var)).and_then(|(_, g)| g);
        g.map(|g| expand(g, &var.grad.shape)).transpose()
    }

    /// Every variable met, with its gradient at its full shape.
    pub(super) fn into_variables(self) -> Result<Vec<(Arc<Variable>, Option<NdArray>)>> {
        self.vars
            .into_values()
            .map(|(v, g)| {
                let g = g.map(|g| expand(g, &v.grad.shape)).transpose()?;
                Ok((v, g))
            })
            .collect()
    }
}

/// `g` checked against its head: same dtype, and the head's shape or at least its size (a
/// gradient of another shape with as many elements is read as the head's shape, as MXNet
/// does: a (4,) head gradient for a (4, 1) head).
fn head_gradient(i: usize, head: &NdArray, g: &NdArray) -> Result<NdArray> {
    if g.dtype != head.dtype {
        bail!(DType, "head gradient {} has dtype {}, but its head has dtype {}", i, g.dtype.name(), head.dtype.name());
    }
    if g.shape != head.shape && g.size() == head.size() {
        return ops::reshape_to(g, &head.shape);
    }
    if g.shape != head.shape {
        bail!(
            Shape,
            "head gradient {} has shape {} {} ({} elements), but its head has shape {} {} ({} elements)",
            i,
            fmt_shape(&g.shape),
            g.dtype.name(),
            g.size(),
            fmt_shape(&head.shape),
            head.dtype.name(),
            head.size()
        );
    }
    Ok(g.clone())
}

/// `partial + g`, recording the addition when the pass creates a graph.
/// Gradients are never float16 here: one that reaches a float16 array (a head's seed, a vjp
/// that built it in its input's dtype) goes on in float32, as the float16 ops compute.
fn sum(partial: Option<NdArray>, g: NdArray) -> Result<NdArray> {
    let g = if g.dtype == crate::DType::F16 { ops::astype(&g, crate::DType::F32)? } else { g };
    Ok(match partial {
        None => g,
        // A partial sum that nothing else holds and no graph records is added into in place.
        Some(prev)
            if !is_recording() && prev.origin.is_none() && prev.shape == g.shape && prev.is_sole_owner() && !reference::enabled()
                // Pending partial sums are added by extending them (see ops::fuse).
                && !prev.storage.is_pending() && !g.storage.is_pending() =>
        {
            prev.add_assign(&g)?;
            prev
        }
        Some(prev) => ops::add(&prev, &g)?,
    })
}

/// `g` at full `shape`: a gradient that element-wise ops passed on unexpanded (it broadcasts
/// to `shape`) is written out where something needs every element.
pub(super) fn expand(g: NdArray, shape: &[usize]) -> Result<NdArray> {
    if g.shape[..] == *shape {
        Ok(g)
    } else {
        ops::broadcast_to(&g, shape)
    }
}
