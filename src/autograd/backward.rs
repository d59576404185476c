//! The backward pass: seed the heads, order the nodes reachable from them topologically, run
//! each node's vector-Jacobian product once its gradient is complete, and deliver the results
//! to variables (`backward`) or to the caller (`grad`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::array::shape::broadcast_shapes;
use crate::array::{fmt_shape, Array};
use crate::tape::state::{is_recording, FlagsGuard};
use crate::tape::{Edge, GradReq, NdArray, Node, Save, Saved, Variable};
use crate::error::{bail, Result};
use crate::{ops, reference};

type Key = usize;

fn node_key(n: &Arc<Node>) -> Key {
    Arc::as_ptr(n) as Key
}

fn var_key(v: &Arc<Variable>) -> Key {
    Arc::as_ptr(v) as Key
}

/// Which variables the pass differentiates.
enum Targets<'a> {
    /// Every reachable variable whose grad_req is not null (`backward`).
    Attached,
    /// Exactly these (`grad`).
    Given(&'a HashSet<Key>),
}

impl Targets<'_> {
    fn wants(&self, v: &Arc<Variable>) -> bool {
        match self {
            Targets::Attached => v.req != GradReq::Null,
            Targets::Given(set) => set.contains(&var_key(v)),
        }
    }
}

/// What a pass computed.
struct Pass {
    /// Every variable reached from the heads, with its summed gradient if any flowed to it.
    vars: Vec<(Arc<Variable>, Option<NdArray>)>,
    /// Gradients of intermediates marked with `retain_grad`.
    retained: Vec<(Arc<Node>, NdArray)>,
}

/// Computes the gradients of `heads` (seeded with `head_grads`, ones where `None`) and writes
/// them into the attached gradient buffers of the variables they depend on, by each one's
/// grad_req. A non-scalar head counts as its sum. Unless `retain_graph`, the graph's saved
/// values are released afterwards.
pub fn backward(heads: &[NdArray], head_grads: &[Option<NdArray>], retain_graph: bool, train_mode: bool) -> Result<()> {
    let pass = run(heads, head_grads, &Targets::Attached, retain_graph, false, train_mode)?;
    for (var, g) in pass.vars {
        let g = match g {
            Some(g) => g,
            None if var.req == GradReq::Write => NdArray::zeros(&var.grad.shape, var.grad.dtype)?,
            None => continue,
        };
        match var.req {
            GradReq::Write => var.grad.assign_from(g.data)?,
            GradReq::Add => var.grad.add_assign(&g)?,
            GradReq::Null => {}
        }
    }
    for (node, g) in pass.retained {
        if let Some(buf) = node.retained().as_ref() {
            buf.assign(&g)?;
        }
    }
    Ok(())
}

/// The gradients of `heads` with respect to `variables`, returned as new arrays; attached
/// gradient buffers are left alone. With `create_graph` the computation is itself recorded, so
/// the results can be differentiated again.
pub fn grad(
    heads: &[NdArray],
    variables: &[NdArray],
    head_grads: &[Option<NdArray>],
    retain_graph: bool,
    create_graph: bool,
    train_mode: bool,
) -> Result<Vec<NdArray>> {
    let mut wanted = Vec::with_capacity(variables.len());
    for (i, v) in variables.iter().enumerate() {
        match &v.entry {
            Some(Edge::Var(var)) if var.req != GradReq::Null => wanted.push(var.clone()),
            _ => bail!(
                Autograd,
                "cannot differentiate with respect to variable {} (shape {}): {}",
                i,
                fmt_shape(&v.shape),
                if matches!(v.entry, Some(Edge::Var(_))) {
                    "its grad_req is null"
                } else {
                    "it has no attached gradient; call attach_grad on it before recording"
                }
            ),
        }
    }
    let set: HashSet<Key> = wanted.iter().map(var_key).collect();
    let pass = run(heads, head_grads, &Targets::Given(&set), retain_graph, create_graph, train_mode)?;
    let found: HashMap<Key, NdArray> =
        pass.vars.into_iter().filter_map(|(v, g)| g.map(|g| (var_key(&v), g))).collect();
    let _flags = FlagsGuard::set(create_graph, train_mode);
    wanted
        .iter()
        .zip(variables)
        .map(|(v, array)| {
            let g = match found.get(&var_key(v)) {
                // A fresh buffer: pass-through vjps (add, copy, reshape) hand on the caller's
                // head gradient itself, and can give two variables the same array.
                Some(g) => NdArray { data: Array::from_buffer(g.clone_buffer()?, g.shape.clone()), entry: g.entry.clone() },
                None => NdArray::zeros(&v.grad.shape, v.grad.dtype)?,
            };
            // With create_graph every result is in the graph, also a gradient that does not
            // vary with the variables (relu's, say): differentiating it again gives zeros.
            Ok(if create_graph && g.entry.is_none() {
                crate::tape::record("constant_gradient", &[array], g, Save::NOTHING, |_| Ok(vec![None]))
            } else {
                g
            })
        })
        .collect()
}

/// Adds `g` into `slot`, recording the addition when the pass creates a graph.
fn accumulate(slot: &mut Option<NdArray>, g: NdArray) -> Result<()> {
    *slot = Some(match slot.take() {
        None => g,
        // A partial sum that nothing else holds and no graph records is added into in place.
        Some(prev)
            if !is_recording() && prev.entry.is_none() && prev.shape == g.shape && prev.is_sole_owner() && !reference::enabled() =>
        {
            prev.add_assign(&g)?;
            prev
        }
        Some(prev) => ops::add(&prev, &g)?,
    });
    Ok(())
}

fn run(
    heads: &[NdArray],
    head_grads: &[Option<NdArray>],
    targets: &Targets<'_>,
    retain_graph: bool,
    create_graph: bool,
    train_mode: bool,
) -> Result<Pass> {
    if heads.is_empty() {
        bail!(InvalidArgument, "backward needs at least one head");
    }
    if !head_grads.is_empty() && head_grads.len() != heads.len() {
        bail!(InvalidArgument, "{} head gradients given for {} heads", head_grads.len(), heads.len());
    }
    let _flags = FlagsGuard::set(create_graph, train_mode);

    // Seed: a head's gradient goes to the node that made it, or to the variable it is (and
    // on through that variable's own history).
    let mut node_grads: HashMap<Key, Option<NdArray>> = HashMap::new();
    let mut var_grads: HashMap<Key, (Arc<Variable>, Option<NdArray>)> = HashMap::new();
    let mut starts: Vec<Arc<Node>> = Vec::new();
    for (i, head) in heads.iter().enumerate() {
        let seed = match head_grads.get(i).and_then(|g| g.as_ref()) {
            Some(g) => {
                if g.dtype != head.dtype {
                    bail!(DType, "head gradient {} has dtype {}, but its head has dtype {}", i, g.dtype.name(), head.dtype.name());
                }
                if g.shape != head.shape {
                    bail!(
                        Shape,
                        "head gradient {} has shape {} {}, but its head has shape {} {}",
                        i,
                        fmt_shape(&g.shape),
                        g.dtype.name(),
                        fmt_shape(&head.shape),
                        head.dtype.name()
                    );
                }
                g.clone()
            }
            None => NdArray::ones(&head.shape, head.dtype)?,
        };
        let node = match &head.entry {
            None => bail!(
                Autograd,
                "head {} (shape {}) has no recorded history: compute it inside a record scope from an array that has attach_grad",
                i,
                fmt_shape(&head.shape)
            ),
            Some(Edge::Node(n)) => Some(n.clone()),
            Some(Edge::Var(v)) => {
                let entry = var_grads.entry(var_key(v)).or_insert_with(|| (v.clone(), None));
                accumulate(&mut entry.1, seed.clone())?;
                v.history.clone()
            }
        };
        if let Some(n) = node {
            accumulate(node_grads.entry(node_key(&n)).or_default(), seed)?;
            starts.push(n);
        }
    }

    let order = topological_order(&starts);

    // Which nodes lead to something being differentiated; the others are skipped.
    let mut reaches: HashSet<Key> = HashSet::new();
    for node in &order {
        let retained = matches!(targets, Targets::Attached) && node.retained().is_some();
        let leads = retained
            || node.inputs.iter().flatten().any(|e| match e {
                Edge::Var(v) => targets.wants(v),
                Edge::Node(m) => reaches.contains(&node_key(m)),
            });
        if leads {
            reaches.insert(node_key(node));
        }
        for e in node.inputs.iter().flatten() {
            if let Edge::Var(v) = e {
                var_grads.entry(var_key(v)).or_insert_with(|| (v.clone(), None));
            }
        }
    }
    // Only `backward` needs something to differentiate; `grad` returns zeros for variables
    // the heads do not depend on, as MXNet's does, even when that is all of them.
    let attached = matches!(targets, Targets::Attached);
    if attached && reaches.is_empty() && !var_grads.values().any(|(v, _)| targets.wants(v)) {
        bail!(Autograd, "there are no inputs in the computation graph that require gradients: no variable reached from the heads has a grad_req other than null (attach_grad an input before recording)");
    }
    // Refuse before any gradient is written: a released graph, or a saved value changed in
    // place (a version counter, which MXNet lacks) that would give a wrong gradient. The
    // nodes' saved values are held for the pass from here on.
    let claim = Claim::new(&order, |n| reaches.contains(&node_key(n)), retain_graph)?;
    let mut retained = Vec::new();
    for node in order.iter().rev() {
        let key = node_key(node);
        if !reaches.contains(&key) {
            continue;
        }
        let Some(g) = node_grads.remove(&key).flatten() else { continue };
        // The reference mode expands every gradient to its full shape, before and after each
        // vector-Jacobian product.
        let reference = reference::enabled();
        let g = if node.elementwise && !reference { g } else { expand(g, &node.out_shape)? };
        if matches!(targets, Targets::Attached) && node.retained().is_some() {
            retained.push((node.clone(), expand(g.clone(), &node.out_shape)?));
        }
        let needs: Vec<bool> = node
            .inputs
            .iter()
            .map(|e| match e {
                Some(Edge::Var(v)) => targets.wants(v),
                Some(Edge::Node(m)) => reaches.contains(&node_key(m)),
                None => false,
            })
            .collect();
        if !needs.iter().any(|&n| n) {
            continue;
        }
        // The saved values are held by this pass's claim, so present; were they not, a clear
        // error all the same, never a panic.
        let input_grads = node.vector_jacobian_product(&g, &needs)?;
        for (i, gi) in input_grads.into_iter().enumerate() {
            let (Some(gi), true) = (gi, needs[i]) else { continue };
            let gi = if reference { expand(gi, &node.input_shapes[i])? } else { gi };
            debug_assert!(
                gi.shape == node.input_shapes[i]
                    || broadcast_shapes(&gi.shape, &node.input_shapes[i]).ok().as_deref() == Some(&node.input_shapes[i][..]),
                "vjp of {} gave a wrong shape",
                node.op
            );
            match &node.inputs[i] {
                Some(Edge::Var(v)) => accumulate(&mut var_grads.get_mut(&var_key(v)).expect("registered above").1, gi)?,
                Some(Edge::Node(m)) => accumulate(node_grads.entry(node_key(m)).or_default(), gi)?,
                None => {}
            }
        }
    }

    claim.finish()?;
    let vars = var_grads
        .into_values()
        .map(|(v, g)| Ok((v.clone(), g.map(|g| expand(g, &v.grad.shape)).transpose()?)))
        .collect::<Result<_>>()?;
    Ok(Pass { vars, retained })
}

/// Serialises the claims of backward passes: of several passes without `retain_graph` that
/// start through one graph at once, exactly one gets it, whatever their heads.
static CLAIMS: Mutex<()> = Mutex::new(());

/// The saved values of the nodes a backward pass goes through, held for the pass. Passes with
/// `retain_graph` may share them; a pass without claims them, so that no other pass starts
/// through them, and releases them when it and every pass that was already running through
/// them have ended. A pass that fails (or unwinds) gives its claim back unreleased, as if it
/// had not run.
struct Claim<'a> {
    /// The pass's nodes, each with whether it uses the node's values (the others are only
    /// released at the end, when the graph is not retained).
    nodes: Vec<(&'a Arc<Node>, bool)>,
    retain_graph: bool,
    /// How many of the used nodes (the first ones of `nodes` that are used) hold a claim.
    held: usize,
    finished: bool,
}

impl<'a> Claim<'a> {
    /// Claims the values of the nodes of `order` that `uses` says the pass runs through, or
    /// fails (claiming nothing) when one was released or is being released by a concurrent
    /// pass, or was written in place since it was saved.
    fn new(order: &'a [Arc<Node>], uses: impl Fn(&Arc<Node>) -> bool, retain_graph: bool) -> Result<Claim<'a>> {
        let mut claim = Claim { nodes: order.iter().map(|n| (n, uses(n))).collect(), retain_graph, held: 0, finished: false };
        let _serial = CLAIMS.lock().unwrap_or_else(|e| e.into_inner());
        for i in 0..claim.nodes.len() {
            let (node, used) = claim.nodes[i];
            if !used {
                continue;
            }
            let mut slot = node.saved();
            if slot.claimed {
                bail!(
                    Autograd,
                    "the graph through `{}` (output shape {}) is being released by a backward running in another thread; pass retain_graph to differentiate through a graph more than once",
                    node.op,
                    fmt_shape(&node.out_shape)
                );
            }
            let Some(saved) = slot.values.as_ref() else { return Err(node.released()) };
            check_unmodified(node, saved)?;
            slot.passes += 1;
            slot.claimed = !retain_graph;
            // Marked as held only now: `drop` gives back exactly the claims made.
            claim.nodes.swap(claim.held, i);
            claim.held += 1;
        }
        Ok(claim)
    }

    /// Ends the pass: its hold on each node ends, and without `retain_graph` the values of
    /// every node of the pass are released once no other pass runs through it. Fails (as if
    /// the pass had not run) when another thread wrote a saved array in place meanwhile: the
    /// pass may have read it half-way.
    fn finish(mut self) -> Result<()> {
        for &(node, _) in &self.nodes[..self.held] {
            if let Some(saved) = node.saved().values.as_ref() {
                check_unmodified(node, saved)?;
            }
        }
        self.finished = true;
        self.end();
        Ok(())
    }

    fn end(&mut self) {
        for (i, &(node, _)) in self.nodes.iter().enumerate() {
            let held = i < self.held;
            let release = !self.retain_graph && self.finished;
            if !held && !release {
                continue;
            }
            let values = {
                let mut slot = node.saved();
                if held {
                    slot.passes -= 1;
                    if !self.retain_graph && !self.finished {
                        // A failed pass gives its claim back.
                        slot.claimed = false;
                    }
                }
                if release {
                    slot.claimed = true;
                }
                if slot.claimed && slot.passes == 0 { slot.values.take() } else { None }
            };
            // Dropped outside the node's lock: it may free a part of the graph.
            drop(values);
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.end();
        }
    }
}

/// Refuses a node whose saved array was written in place after it was recorded (a version
/// counter, which MXNet lacks): its gradient would be wrong.
fn check_unmodified(node: &Node, saved: &Saved) -> Result<()> {
    if let Some((array, then, now)) = saved.modified() {
        bail!(
            Autograd,
            "an array of shape {} that `{}` saved for backward was modified in place after it was recorded (version {} then, {} now): its gradient would be wrong; compute into a new array instead",
            fmt_shape(&array.shape),
            node.op,
            then,
            now
        );
    }
    Ok(())
}

/// `g` at full `shape`: a gradient that element-wise ops passed on unexpanded (it broadcasts
/// to `shape`) is written out where something needs every element.
fn expand(g: NdArray, shape: &[usize]) -> Result<NdArray> {
    if g.shape[..] == *shape {
        Ok(g)
    } else {
        ops::broadcast_to(&g, shape)
    }
}

/// The nodes reachable from `starts` through node edges, each after all of its inputs
/// (iterative: recorded loops can make chains far deeper than the stack).
fn topological_order(starts: &[Arc<Node>]) -> Vec<Arc<Node>> {
    let mut order = Vec::new();
    let mut visited: HashSet<Key> = HashSet::new();
    let mut stack: Vec<(Arc<Node>, usize)> = Vec::new();
    for start in starts {
        if visited.insert(node_key(start)) {
            stack.push((start.clone(), 0));
        }
        while let Some((node, next)) = stack.pop() {
            let child = node.inputs[next..].iter().enumerate().find_map(|(j, e)| match e {
                Some(Edge::Node(m)) if !visited.contains(&node_key(m)) => Some((next + j, m.clone())),
                _ => None,
            });
            match child {
                Some((j, m)) => {
                    visited.insert(node_key(&m));
                    stack.push((node, j + 1));
                    stack.push((m, 0));
                }
                None => order.push(node),
            }
        }
    }
    order
}
