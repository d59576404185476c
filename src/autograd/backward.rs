//! The backward pass: seed the heads, order the nodes reachable from them topologically, run
//! each node's vector-Jacobian product once its gradient is complete, and deliver the results
//! to variables (`backward`) or to the caller (`grad`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::claim::Claim;
use super::flow::{expand, node_key, var_key, Flow, Key};
use crate::array::shape::broadcast_shapes;
use crate::array::{fmt_shape, Array};
use crate::error::{bail, Result};
use crate::ops;
use crate::reference;
use crate::tape::state::FlagsGuard;
use crate::tape::{Origin, GradReq, NdArray, Node, Save, Variable};

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
        write_gradient(&var, g)?;
    }
    for (node, g) in pass.retained {
        if let Some(buf) = node.retained().as_ref() {
            buf.assign(&g)?;
        }
    }
    Ok(())
}

/// Writes a variable's whole gradient (`None`: none reached it) into its buffer by its
/// grad_req: zeros for `write`, nothing for `add`.
fn write_gradient(var: &Arc<Variable>, g: Option<NdArray>) -> Result<()> {
    let g = match g {
        Some(g) => g,
        None if var.req == GradReq::Write => NdArray::zeros(&var.grad.shape, var.grad.dtype)?,
        None => return Ok(()),
    };
    // A float16 variable's gradient reaches it in float32 (see `flow::sum`).
    let g = if g.dtype != var.grad.dtype { ops::astype(&g.detach(), var.grad.dtype)? } else { g };
    match var.req {
        GradReq::Write => var.grad.assign_from(g.data)?,
        GradReq::Add => var.grad.add_assign(&g)?,
        GradReq::Null => {}
    }
    Ok(())
}

/// The variables of a `backward` pass that have a gradient-ready hook, and when each one's
/// gradient is final: after the last node of the sweep that has it as an input, or, for
/// those no such node reaches, at the end of the sweep.
struct Hooks {
    /// By node: the variables whose gradient that node completes.
    after: HashMap<Key, Vec<Arc<Variable>>>,
    /// The others, in the order they were met.
    at_end: Vec<Arc<Variable>>,
}

impl Hooks {
    fn none() -> Hooks {
        Hooks { after: HashMap::new(), at_end: Vec::new() }
    }

    /// Finds the hooked variables among those the heads and the nodes of `order` reach.
    fn find(heads: &[NdArray], order: &[Arc<Node>], reaches: &HashSet<Key>, targets: &Targets<'_>) -> Hooks {
        let mut hooks = Hooks::none();
        let mut seen: HashSet<Key> = HashSet::new();
        let mut met: Vec<Arc<Variable>> = Vec::new();
        let mut meet = |v: &Arc<Variable>, met: &mut Vec<Arc<Variable>>| {
            if targets.wants(v) && v.has_grad_hook() && seen.insert(var_key(v)) {
                met.push(v.clone());
            }
        };
        for h in heads {
            if let Some(Origin::Var(v)) = &h.origin {
                meet(v, &mut met);
            }
        }
        for node in order {
            for e in node.inputs.iter().flatten() {
                if let Origin::Var(v) = e {
                    meet(v, &mut met);
                }
            }
        }
        if met.is_empty() {
            return hooks;
        }
        // The sweep runs `order` backwards: a variable's last node there is its first here.
        let mut placed: HashSet<Key> = HashSet::new();
        for node in order {
            if !reaches.contains(&node_key(node)) {
                continue;
            }
            for e in node.inputs.iter().flatten() {
                if let Origin::Var(v) = e {
                    if seen.contains(&var_key(v)) && placed.insert(var_key(v)) {
                        hooks.after.entry(node_key(node)).or_default().push(v.clone());
                    }
                }
            }
        }
        hooks.at_end = met.into_iter().filter(|v| !placed.contains(&var_key(v))).collect();
        hooks
    }
}

/// Writes the now final gradient of `var` into its buffer and calls its hook (if it still has
/// one), taking the gradient out of the flow: `backward` does not write it again.
fn deliver(var: &Arc<Variable>, flow: &mut Flow) -> Result<()> {
    let g = flow.take_variable(var)?;
    write_gradient(var, g)?;
    if let Some(hook) = var.grad_hook() {
        let array = NdArray { data: hook.data.clone(), origin: Some(Origin::Var(var.clone())) };
        (hook.f)(&array)?;
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
        match &v.origin {
            Some(Origin::Var(var)) if var.req != GradReq::Null => wanted.push(var.clone()),
            _ => bail!(
                Autograd,
                "cannot differentiate with respect to variable {} (shape {}): {}",
                i,
                fmt_shape(&v.shape),
                if matches!(v.origin, Some(Origin::Var(_))) {
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
                Some(g) => NdArray { data: Array::from_buffer(g.clone_buffer()?, g.shape.clone()), origin: g.origin.clone() },
                None => NdArray::zeros(&v.grad.shape, v.grad.dtype)?,
            };
            // In the variable's dtype (a float16 variable's gradient is computed in float32).
            let g = if g.dtype != v.grad.dtype { ops::astype(&g, v.grad.dtype)? } else { g };
            // With create_graph every result is in the graph, also a gradient that does not
            // vary with the variables (relu's, say): differentiating it again gives zeros.
            Ok(if create_graph && g.origin.is_none() {
                crate::tape::record("constant_gradient", &[array], g, Save::NOTHING, |_| Ok(vec![None]))
            } else {
                g
            })
        })
        .collect()
}

/// A pass: the steps below, in order.
fn run(
    heads: &[NdArray],
    head_grads: &[Option<NdArray>],
    targets: &Targets<'_>,
    retain_graph: bool,
    create_graph: bool,
    train_mode: bool,
) -> Result<Pass> {
    check_heads(heads, head_grads)?;
    let _flags = FlagsGuard::set(create_graph, train_mode);
    let mut flow = Flow::seeded(heads, head_grads)?;
    let order = topological_order(&flow.starts);
    let reaches = leading_somewhere(&order, targets, &mut flow);
    check_something_to_differentiate(targets, &reaches, &flow)?;
    // Refuses, before any gradient is written, a released graph or a saved value changed in
    // place since it was recorded; holds the nodes' saved values from here on.
    let claim = Claim::new(&order, |n| reaches.contains(&node_key(n)), retain_graph)?;
    let mut hooks = match targets {
        Targets::Attached if crate::tape::any_grad_hook() => Hooks::find(heads, &order, &reaches, targets),
        Targets::Attached => Hooks::none(),
        Targets::Given(_) => Hooks::none(),
    };
    let retained = sweep(&order, &reaches, targets, &mut flow, &mut hooks)?;
    for v in std::mem::take(&mut hooks.at_end) {
        deliver(&v, &mut flow)?;
    }
    claim.finish()?;
    Ok(Pass { vars: flow.into_variables()?, retained })
}

fn check_heads(heads: &[NdArray], head_grads: &[Option<NdArray>]) -> Result<()> {
    if heads.is_empty() {
        bail!(InvalidArgument, "backward needs at least one head");
    }
    if !head_grads.is_empty() && head_grads.len() != heads.len() {
        bail!(InvalidArgument, "{} head gradients given for {} heads", head_grads.len(), heads.len());
    }
    Ok(())
}

/// The nodes of `order` that lead to something being differentiated (a wanted variable, or
/// an output whose gradient is retained); the others are skipped. Meets every variable on
/// the way.
fn leading_somewhere(order: &[Arc<Node>], targets: &Targets<'_>, flow: &mut Flow) -> HashSet<Key> {
    let mut reaches: HashSet<Key> = HashSet::new();
    for node in order {
        let retained = matches!(targets, Targets::Attached) && node.retained().is_some();
        let leads = retained
            || node.inputs.iter().flatten().any(|e| match e {
                Origin::Var(v) => targets.wants(v),
                Origin::Node(m) => reaches.contains(&node_key(m)),
            });
        if leads {
            reaches.insert(node_key(node));
        }
        for e in node.inputs.iter().flatten() {
            if let Origin::Var(v) = e {
                flow.meet(v);
            }
        }
    }
    reaches
}

/// Only `backward` needs something to differentiate; `grad` returns zeros for variables the
/// heads do not depend on, as MXNet's does, even when that is all of them.
fn check_something_to_differentiate(targets: &Targets<'_>, reaches: &HashSet<Key>, flow: &Flow) -> Result<()> {
    if matches!(targets, Targets::Attached) && reaches.is_empty() && !flow.variables().any(|v| targets.wants(v)) {
        bail!(Autograd, "there are no inputs in the computation graph that require gradients: no variable reached from the heads has a grad_req other than null (attach_grad an input before recording)");
    }
    Ok(())
}

/// Runs each node's vector-Jacobian product, outputs before inputs, once the gradient that
/// reaches it is whole, and sends the results on to its inputs. Returns the gradients of the
/// outputs marked with `retain_grad`. After each node, delivers the hooked variables whose
/// gradients it completed.
fn sweep(
    order: &[Arc<Node>],
    reaches: &HashSet<Key>,
    targets: &Targets<'_>,
    flow: &mut Flow,
    hooks: &mut Hooks,
) -> Result<Vec<(Arc<Node>, NdArray)>> {
    let mut retained = Vec::new();
    for node in order.iter().rev() {
        step(node, reaches, targets, flow, &mut retained)?;
        if let Some(done) = hooks.after.remove(&node_key(node)) {
            for v in done {
                deliver(&v, flow)?;
            }
        }
    }
    Ok(retained)
}

/// One node of the sweep: its vector-Jacobian product, sent on to its inputs.
fn step(node: &Arc<Node>, reaches: &HashSet<Key>, targets: &Targets<'_>, flow: &mut Flow, retained: &mut Vec<(Arc<Node>, NdArray)>) -> Result<()> {
    {
        if !reaches.contains(&node_key(node)) {
            return Ok(());
        }
        let Some(g) = flow.take(node) else { return Ok(()) };
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
                Some(Origin::Var(v)) => targets.wants(v),
                Some(Origin::Node(m)) => reaches.contains(&node_key(m)),
                None => false,
            })
            .collect();
        if !needs.iter().any(|&n| n) {
            return Ok(());
        }
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
                Some(Origin::Var(v)) => flow.add_to_variable(v, gi)?,
                Some(Origin::Node(m)) => flow.add_to_node(m, gi)?,
                None => {}
            }
        }
    }
    Ok(())
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
                Some(Origin::Node(m)) if !visited.contains(&node_key(m)) => Some((next + j, m.clone())),
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
