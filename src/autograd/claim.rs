//! A backward pass's hold on the values its nodes saved: passes with `retain_graph` share
//! them, a pass without claims them, so that of several passes through one graph at once
//! exactly one releases it, and none reads values another released or wrote in place.

use std::sync::{Arc, Mutex};

use crate::array::fmt_shape;
use crate::error::{bail, Result};
use crate::tape::{Node, Saved};

/// Serialises the claims of backward passes: of several passes without `retain_graph` that
/// start through one graph at once, exactly one gets it, whatever their heads.
static CLAIMS: Mutex<()> = Mutex::new(());

/// The saved values of the nodes a backward pass goes through, held for the pass. Passes with
/// `retain_graph` may share them; a pass without claims them, so that no other pass starts
/// through them, and releases them when it and every pass that was already running through
/// them have ended. A pass that fails (or unwinds) gives its claim back unreleased, as if it
/// had not run.
pub(super) struct Claim<'a> {
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
    pub(super) fn new(order: &'a [Arc<Node>], uses: impl Fn(&Arc<Node>) -> bool, retain_graph: bool) -> Result<Claim<'a>> {
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
    pub(super) fn finish(mut self) -> Result<()> {
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
        if array.storage.is_lent_for_writing() {
            bail!(
                Autograd,
                "an array of shape {} that `{}` saved for backward is lent to the host for writing (a writable borrow or DLPack export): its gradient could be wrong; end the loan first",
                fmt_shape(&array.shape),
                node.op
            );
        }
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

