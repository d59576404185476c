//! The tape. Each recorded op becomes a `Node` holding its inputs' origins and the values its
//! vector-Jacobian product needs; an array's `origin` is the node that produced it, or the
//! `Variable` it was marked as. `backward` walks the nodes from the heads in reverse
//! topological order.

mod ndarray;
pub mod state;
mod small_vjp;

use std::ptr::addr_of_mut;
use std::sync::{Arc, Mutex, MutexGuard};

pub use ndarray::NdArray;
pub use state::{is_recording, is_training, scope_begin, scope_end, set_recording, set_training, ScopeKind};

use smallvec::SmallVec;
use small_vjp::SmallVjp;

use crate::array::shape::shape_of;
use crate::array::{fmt_shape, DType, Shape};
use crate::error::{bail, Error, ErrorKind, Result};

/// How backward treats a variable's gradient buffer; the values are MXNet's `OpReqType` codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradReq {
    /// Not differentiated.
    Null = 0,
    /// Each backward overwrites the buffer.
    Write = 1,
    /// Each backward adds into the buffer.
    Add = 3,
}

impl GradReq {
    pub fn from_code(code: u32) -> Option<GradReq> {
        match code {
            0 => Some(GradReq::Null),
            1 => Some(GradReq::Write),
            3 => Some(GradReq::Add),
            _ => None,
        }
    }
}

/// An array marked by `attach_grad`: a leaf for everything recorded after the marking.
pub struct Variable {
    pub(crate) grad: NdArray,
    pub(crate) req: GradReq,
    /// The history the array had when it was marked, still used by its own `backward`.
    pub(crate) history: Option<Arc<Node>>,
    /// What backward tells as soon as this variable's gradient is final (`set_grad_hook`).
    pub(crate) hook: Mutex<Option<Arc<GradHook>>>,
}

/// A gradient-ready hook: called by `backward` with the variable (its data and its place in
/// the graph) once its gradient is final and written into its buffer.
pub type GradHookFn = dyn Fn(&NdArray) -> Result<()> + Send + Sync;

/// A hook with the variable's data: the `Variable` itself does not hold it. Dropped (and with
/// it whatever the host attached to the hook) when replaced or removed, or with the variable.
pub struct GradHook {
    pub(crate) data: crate::array::Array,
    pub(crate) f: Box<GradHookFn>,
}

/// How many gradient hooks are set, in the whole process: while none is, backward does not
/// look for them.
static GRAD_HOOKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether any variable may have a gradient hook.
pub(crate) fn any_grad_hook() -> bool {
    GRAD_HOOKS.load(std::sync::atomic::Ordering::Relaxed) > 0
}

impl GradHook {
    fn new(data: crate::array::Array, f: Box<GradHookFn>) -> GradHook {
        GRAD_HOOKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        GradHook { data, f }
    }
}

impl Drop for GradHook {
    fn drop(&mut self) {
        GRAD_HOOKS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Variable {
    pub(crate) fn grad_hook(&self) -> Option<Arc<GradHook>> {
        self.hook.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn has_grad_hook(&self) -> bool {
        self.hook.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }
}

/// Where an array came from: the node that produced it, or the variable it is.
#[derive(Clone)]
pub enum Origin {
    Node(Arc<Node>),
    Var(Arc<Variable>),
}

/// A vector-Jacobian product: from the output's gradient, each input's gradient (`None` where
/// the input needs none). Written with the array ops, so that with `create_graph` it records.
pub type VjpFn = dyn Fn(&VjpArgs<'_>) -> Result<Vec<Option<NdArray>>> + Send + Sync;

/// What a vector-Jacobian product gets to work with.
pub struct VjpArgs<'a> {
    /// The gradient with respect to the op's output. For an op recorded with
    /// `record_elementwise` it may be smaller, of a shape that broadcasts to the output's.
    pub grad: &'a NdArray,
    node: &'a Arc<Node>,
    saved: &'a Saved,
    needs: &'a [bool],
}

impl VjpArgs<'_> {
    /// Input `i` as it was recorded (saved only by ops that declared `Save::INPUTS`).
    pub fn input(&self, i: usize) -> &NdArray {
        debug_assert!(self.saved.inputs, "the op saved its inputs");
        &self.saved.arrays[i].0
    }

    /// The `i`th of the other arrays the op saved (`record_saving`): values that are not
    /// differentiated but that the product reads, such as a mask or an index.
    pub fn extra(&self, i: usize) -> &NdArray {
        let first = if self.saved.inputs { self.node.inputs.len() } else { 0 };
        &self.saved.arrays[first + i].0
    }

    /// The op's output, with its place in the graph (saved only with `Save::OUTPUT`).
    pub fn output(&self) -> NdArray {
        assert!(self.saved.has_output, "the op saved its output");
        let out = &self.saved.arrays.last().expect("the op saved its output").0;
        NdArray { data: out.data.clone(), origin: Some(Origin::Node(self.node.clone())) }
    }

    pub fn input_shape(&self, i: usize) -> &[usize] {
        &self.node.input_shapes[i]
    }

    /// The op's output shape (the gradient's may be smaller: see `grad`).
    pub fn output_shape(&self) -> &[usize] {
        &self.node.out_shape
    }

    /// Whether input `i`'s gradient is wanted (it leads to a variable being differentiated).
    pub fn needs(&self, i: usize) -> bool {
        self.needs[i]
    }

    /// The gradient, when the product may overwrite it with its result: backward drops it
    /// right after this product, nothing else shares its buffer (not a head gradient the
    /// caller gave, not a gradient passed on to two inputs or kept for `retain_grad`), it has
    /// the output's full shape, and no graph is being recorded (it is not differentiated
    /// again). Writing there spares a new buffer and the cache misses of filling one. Never in
    /// the reference mode.
    pub fn grad_to_overwrite(&self) -> Option<&NdArray> {
        let g = self.grad;
        let free = !crate::reference::enabled()
            && !is_recording() && g.origin.is_none() && g.is_sole_owner() && g.shape == self.node.out_shape
            // A pending gradient is better extended than computed and then overwritten.
            && !g.storage.is_pending();
        free.then_some(g)
    }
}

/// Which values a node keeps for its vector-Jacobian product.
#[derive(Clone, Copy)]
pub(crate) struct Save {
    inputs: bool,
    output: bool,
}

impl Save {
    pub(crate) const NOTHING: Save = Save { inputs: false, output: false };
    pub(crate) const INPUTS: Save = Save { inputs: true, output: false };
    pub(crate) const OUTPUT: Save = Save { inputs: false, output: true };
    pub(crate) const BOTH: Save = Save { inputs: true, output: true };
}

/// What backward releases when the graph is not retained.
pub(crate) struct Saved {
    vjp: SmallVjp,
    /// The inputs (when saved), the extra arrays, then the output (when saved, without its
    /// origin: it would point back at this node), each with its storage version when
    /// recorded: an in-place write since then would make the vector-Jacobian product silently
    /// wrong. A vector, not inline, keeps the node small for the many ops that save nothing.
    arrays: Vec<(NdArray, u64)>,
    inputs: bool,
    has_output: bool,
}

impl Saved {
    /// The first saved array written in place since it was recorded (or lent to the host
    /// for writing now), with its versions.
    pub(crate) fn modified(&self) -> Option<(&NdArray, u64, u64)> {
        self.arrays.iter().find_map(|(a, v)| {
            let now = a.storage.version();
            (now != *v || a.storage.is_lent_for_writing()).then_some((a, *v, now))
        })
    }

    /// The saved arrays' places in the graph.
    fn origins(&self) -> impl Iterator<Item = &Origin> {
        self.arrays.iter().filter_map(|(a, _)| a.origin.as_ref())
    }
}

pub struct Node {
    pub(crate) op: &'static str,
    pub(crate) inputs: SmallVec<[Option<Origin>; 2]>,
    pub(crate) input_shapes: SmallVec<[Shape; 2]>,
    pub(crate) out_shape: Shape,
    pub(crate) out_dtype: DType,
    /// The vector-Jacobian product is element-wise in the gradient, so it takes a gradient
    /// that only broadcasts to the output's shape (a sum's) without it being expanded first.
    pub(crate) elementwise: bool,
    saved: Mutex<SavedSlot>,
    /// The gradient buffer of an output marked with `retain_grad` (boxed: rarely used).
    retained: Mutex<Option<Box<NdArray>>>,
}

/// A node's saved values and the backward passes using them. Backward passes may run in
/// several threads at once through one graph: a pass holds the values of the nodes it goes
/// through for its whole run, so that one without `retain_graph` releases them only when the
/// last pass through each node has ended (see `backward::Claim`).
pub(crate) struct SavedSlot {
    pub(crate) values: Option<Saved>,
    /// Backward passes running through the node now.
    pub(crate) passes: u32,
    /// A pass without `retain_graph` has claimed the values: no other pass may start through
    /// the node, and they are released when the last pass through it ends.
    pub(crate) claimed: bool,
}

impl Node {
    pub(crate) fn saved(&self) -> MutexGuard<'_, SavedSlot> {
        self.saved.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn retained(&self) -> MutexGuard<'_, Option<Box<NdArray>>> {
        self.retained.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The node's vector-Jacobian product of `grad`: each input's gradient where `needs` asks
    /// for it. Fails when the node's saved values were released.
    pub(crate) fn vector_jacobian_product(self: &Arc<Node>, grad: &NdArray, needs: &[bool]) -> Result<Vec<Option<NdArray>>> {
        let slot = self.saved();
        let Some(saved) = slot.values.as_ref() else { return Err(self.released()) };
        saved.vjp.call(&VjpArgs { grad, node: self, saved, needs })
    }

    /// The error for a node whose saved values an earlier backward released.
    pub(crate) fn released(&self) -> Error {
        Error::new(
            ErrorKind::Autograd,
            format!(
                "the graph through `{}` (output shape {}) was released by an earlier backward; pass retain_graph to the first backward to differentiate twice",
                self.op,
                fmt_shape(&self.out_shape)
            ),
        )
    }
}

/// Whether an op on `inputs` is recorded: recording is on and some input is in the graph.
pub fn should_record(inputs: &[&NdArray]) -> bool {
    is_recording() && inputs.iter().any(|a| a.origin.is_some())
}

/// Attaches `out` to the graph as the result of `op` on `inputs`, when `should_record` says so;
/// otherwise returns it unchanged. The vector-Jacobian product gets a gradient of the output's
/// shape and returns, for each input, a gradient of that input's shape or of one that
/// broadcasts to it (backward expands it where needed).
pub(crate) fn record<F>(op: &'static str, inputs: &[&NdArray], out: impl Into<NdArray>, save: Save, vjp: F) -> NdArray
where
    F: Fn(&VjpArgs<'_>) -> Result<Vec<Option<NdArray>>> + Send + Sync + 'static,
{
    record_node(op, inputs, &[], out.into(), save, false, vjp)
}

/// `record` for an op whose vector-Jacobian product also reads arrays that are not its
/// differentiated inputs (`extra`, read back with `VjpArgs::extra`): they are saved with their
/// versions, so that an in-place change to one of them is refused by backward.
pub(crate) fn record_saving<F>(op: &'static str, inputs: &[&NdArray], extra: &[&NdArray], out: impl Into<NdArray>, save: Save, vjp: F) -> NdArray
where
    F: Fn(&VjpArgs<'_>) -> Result<Vec<Option<NdArray>>> + Send + Sync + 'static,
{
    record_node(op, inputs, extra, out.into(), save, false, vjp)
}

/// `record` for an op whose vector-Jacobian product is element-wise in the gradient (with
/// broadcasting): it may get a gradient of a shape that broadcasts to the output's. Backward
/// expands such a gradient only where something needs it whole, so the gradient of a sum
/// stays one number through a chain of element-wise ops instead of being written out.
pub(crate) fn record_elementwise<F>(op: &'static str, inputs: &[&NdArray], out: impl Into<NdArray>, save: Save, vjp: F) -> NdArray
where
    F: Fn(&VjpArgs<'_>) -> Result<Vec<Option<NdArray>>> + Send + Sync + 'static,
{
    record_node(op, inputs, &[], out.into(), save, true, vjp)
}

fn record_node<F>(op: &'static str, inputs: &[&NdArray], extra: &[&NdArray], out: NdArray, save: Save, elementwise: bool, vjp: F) -> NdArray
where
    F: Fn(&VjpArgs<'_>) -> Result<Vec<Option<NdArray>>> + Send + Sync + 'static,
{
    // Integer and bool arrays are constants: not differentiable, never in the graph. Float16
    // arrays are in it (made by astype and moved), though no kernel computes on them.
    if !should_record(inputs) || !out.dtype.is_floating() {
        return out;
    }
    let saves = if save.inputs { inputs.len() } else { 0 } + extra.len() + save.output as usize;
    let mut arrays = Vec::with_capacity(saves);
    if save.inputs {
        arrays.extend(inputs.iter().map(|a| ((*a).clone(), a.storage.version())));
    }
    // Without their origins: they are not differentiated through.
    arrays.extend(extra.iter().map(|a| (a.detach(), a.storage.version())));
    if save.output {
        arrays.push((out.detach(), out.storage.version()));
    }
    // The node is written field by field into its allocation: built on the stack and moved,
    // its few hundred bytes would be copied by loads that wait on the stores just made, and
    // this is the per-op cost of every recorded op. Origins and shapes are pushed, not
    // collected: SmallVec's collect from an iterator costs several times more here.
    let mut node = Arc::<Node>::new_uninit();
    let p = Arc::get_mut(&mut node).expect("a new allocation is not shared").as_mut_ptr();
    // SAFETY: `p` points at the uninitialised node, which only this function can reach, and
    // every field is written exactly once below before `assume_init`. Were anything in
    // between to panic, the allocation would be freed as uninitialised memory and the fields
    // written so far leaked: never read or dropped uninitialised.
    let node = unsafe {
        addr_of_mut!((*p).op).write(op);
        addr_of_mut!((*p).out_dtype).write(out.dtype);
        addr_of_mut!((*p).elementwise).write(elementwise);
        addr_of_mut!((*p).out_shape).write(shape_of(&out.shape));
        let origins = addr_of_mut!((*p).inputs);
        origins.write(SmallVec::new());
        let shapes = addr_of_mut!((*p).input_shapes);
        shapes.write(SmallVec::new());
        for a in inputs {
            (*origins).push(a.origin.clone());
            (*shapes).push(shape_of(&a.shape));
        }
        // Written after the lock, so that the saved values go straight to their place.
        let saved = addr_of_mut!((*p).saved);
        saved.write(Mutex::new(SavedSlot { values: None, passes: 0, claimed: false }));
        (*saved).get_mut().unwrap_or_else(|e| e.into_inner()).values = Some(Saved { vjp: SmallVjp::new(vjp), arrays, inputs: save.inputs, has_output: save.output });
        addr_of_mut!((*p).retained).write(Mutex::new(None));
        node.assume_init()
    };
    NdArray { data: out.data, origin: Some(Origin::Node(node)) }
}

/// Marks `array` as a variable with a zero gradient buffer of its shape. Arrays recorded from
/// it later stop there; its own history (if any) still serves its own `backward`.
pub fn attach_grad(array: &mut NdArray, req: GradReq) -> Result<()> {
    let grad = NdArray::zeros(&array.shape, array.dtype)?;
    attach_grad_with(array, grad, req)
}

/// `attach_grad` with a caller-provided gradient buffer (MXNet's `mark_variables`).
pub fn attach_grad_with(array: &mut NdArray, grad: NdArray, req: GradReq) -> Result<()> {
    if !array.dtype.is_floating() {
        return Err(Error::new(ErrorKind::DType, format!(
            "arrays of {} are not differentiable (float32, float64 and float16 are); astype to float32 first",
            array.dtype.name()
        )));
    }
    if grad.shape != array.shape || grad.dtype != array.dtype {
        let kind = if grad.dtype != array.dtype { ErrorKind::DType } else { ErrorKind::Shape };
        return Err(Error::new(kind, format!(
            "the gradient buffer ({} {}) does not match the array ({} {})",
            fmt_shape(&grad.shape),
            grad.dtype.name(),
            fmt_shape(&array.shape),
            array.dtype.name()
        )));
    }
    let history = match &array.origin {
        Some(Origin::Node(n)) => Some(n.clone()),
        Some(Origin::Var(v)) => v.history.clone(),
        None => None,
    };
    array.origin = Some(Origin::Var(Arc::new(Variable { grad: grad.detach(), req, history, hook: Mutex::new(None) })));
    Ok(())
}

/// Sets (replaces) or, with `None`, removes the gradient-ready hook of the variable `array`:
/// `backward` calls it on the calling thread as soon as the variable's gradient is final,
/// after writing it into the gradient buffer. The hook it replaces is dropped here, outside
/// any lock (its drop may call back into the library). `Autograd` error for an array that
/// is not a variable with a gradient (no `attach_grad`, or grad_req null).
pub fn set_grad_hook(array: &NdArray, hook: Option<Box<GradHookFn>>) -> Result<()> {
    let var = match &array.origin {
        Some(Origin::Var(v)) if v.req != GradReq::Null => v,
        Some(Origin::Var(_)) => bail!(
            Autograd,
            "a gradient hook needs a variable that is differentiated; this one (shape {}) has grad_req null",
            fmt_shape(&array.shape)
        ),
        _ => bail!(
            Autograd,
            "a gradient hook needs a variable; this array (shape {}) has no attached gradient: call attach_grad on it first",
            fmt_shape(&array.shape)
        ),
    };
    let new = hook.map(|f| Arc::new(GradHook::new(array.data.clone(), f)));
    let old = std::mem::replace(&mut *var.hook.lock().unwrap_or_else(|e| e.into_inner()), new);
    drop(old);
    Ok(())
}

/// Asks backward to fill a gradient for this intermediate while the gradient keeps flowing
/// through it to the leaves (PyTorch's `retain_grad`). A variable already has one: no-op.
pub fn retain_grad(array: &NdArray) -> Result<()> {
    match &array.origin {
        Some(Origin::Var(_)) => Ok(()),
        Some(Origin::Node(n)) => {
            let mut slot = n.retained();
            if slot.is_none() {
                *slot = Some(Box::new(NdArray::zeros(&n.out_shape, n.out_dtype)?));
            }
            Ok(())
        }
        None => bail!(
            Autograd,
            "retain_grad needs an array with recorded history; this one (shape {}) has none",
            fmt_shape(&array.shape)
        ),
    }
}

/// The array's gradient buffer, sharing its storage, or `None` if it has none.
pub fn grad_of(array: &NdArray) -> Option<NdArray> {
    match &array.origin {
        Some(Origin::Var(v)) if v.req == GradReq::Null => None,
        Some(Origin::Var(v)) => Some(v.grad.clone()),
        Some(Origin::Node(n)) => n.retained().as_deref().cloned(),
        None => None,
    }
}

/// The gradient request of a variable, or `None` for an array that is not one.
pub fn grad_req_of(array: &NdArray) -> Option<GradReq> {
    match &array.origin {
        Some(Origin::Var(v)) => Some(v.req),
        _ => None,
    }
}

/// Dismantles a node's graph iteratively: a loop recorded 100,000 times makes a chain that
/// the default recursive drop would follow one stack frame per node.
impl Drop for Node {
    fn drop(&mut self) {
        if !self.frees_others() {
            return;
        }
        let mut stack = Vec::new();
        self.take_origins(&mut stack);
        while let Some(origin) = stack.pop() {
            match origin {
                Origin::Node(n) => {
                    if let Ok(mut node) = Arc::try_unwrap(n) {
                        node.take_origins(&mut stack);
                    }
                }
                Origin::Var(v) => {
                    if let Ok(var) = Arc::try_unwrap(v) {
                        stack.extend(var.history.map(Origin::Node));
                    }
                }
            }
        }
    }
}

impl Origin {
    /// How many references to the node or variable exist.
    fn references(&self) -> usize {
        match self {
            Origin::Node(n) => Arc::strong_count(n),
            Origin::Var(v) => Arc::strong_count(v),
        }
    }

    /// Whether dropping it could drop a node: a node, or a variable with history.
    fn leads_to_nodes(&self) -> bool {
        match self {
            Origin::Node(_) => true,
            Origin::Var(v) => v.history.is_some(),
        }
    }

    fn same(&self, other: &Origin) -> bool {
        match (self, other) {
            (Origin::Node(x), Origin::Node(y)) => Arc::ptr_eq(x, y),
            (Origin::Var(x), Origin::Var(y)) => Arc::ptr_eq(x, y),
            _ => false,
        }
    }
}

impl Node {
    /// Whether dropping this node would drop another node with it: some origin it holds
    /// (an input's, or a saved array's) that leads to nodes has no reference but this node's.
    /// Most nodes free nothing else (their inputs are shared, or leaves); then the ordinary
    /// drop is shallow, and the stack is not worth allocating. This runs on every recorded
    /// op's drop, so the common case is decided first without pairing origins up.
    fn frees_others(&mut self) -> bool {
        let inputs = &self.inputs;
        let saved = &self.saved.get_mut().unwrap_or_else(|e| e.into_inner()).values;
        let held = || inputs.iter().flatten().chain(saved.iter().flat_map(|s| s.origins()));
        let holds = inputs.len() + saved.as_ref().map_or(0, |s| s.arrays.len());
        // Referenced more often than this node holds origins at all: surely kept.
        let surely_kept = |o: &Origin| !o.leads_to_nodes() || o.references() > holds;
        // (Inputs and saved origins taken one after the other: the chained iterator costs
        // more on this path.)
        if inputs.iter().flatten().all(surely_kept) && saved.as_ref().is_none_or(|s| s.origins().all(surely_kept)) {
            return false;
        }
        // A node holds a handful of origins: counting pairs beats collecting them.
        held().any(|o| o.leads_to_nodes() && o.references() <= held().filter(|h| h.same(o)).count())
    }

    /// Moves every origin this node holds (its inputs' and its saved arrays') onto `stack`.
    fn take_origins(&mut self, stack: &mut Vec<Origin>) {
        stack.extend(self.inputs.drain(..).flatten());
        let saved = self.saved.get_mut().unwrap_or_else(|e| e.into_inner()).values.take();
        if let Some(saved) = saved {
            stack.extend(saved.arrays.into_iter().filter_map(|(a, _)| a.origin));
        }
    }
}
