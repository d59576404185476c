//! Custom differentiable functions from C: the host's forward and backward callbacks, with
//! its user data, recorded as one op (`ops::custom`). The callbacks get array handles that
//! the library frees after the callback returns, give back new handles that the library takes,
//! and reach the arrays forward saved through a context that is valid during the callback
//! only.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::ad_status;
use super::boundary::{FfiError, FfiResult};
use super::engine::{ops, Error, ErrorKind, NdArray};
use super::handles::{self, ad_array};
use super::registry::Registry;

/// A callback's signature: `forward(user_data, ctx, inputs, n_inputs, outputs, n_outputs)`,
/// and `backward(user_data, ctx, output_grads, n_outputs, input_grads, n_inputs)`.
pub type ad_function_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        ctx: *mut ad_function_context,
        arrays: *const *const ad_array,
        n_arrays: usize,
        results: *mut *mut ad_array,
        n_results: usize,
    ) -> ad_status,
>;

/// The version of `ad_function_callbacks` this library reads.
pub const AD_FUNCTION_CALLBACKS_VERSION: u32 = 1;

/// What a custom function does, filled by the caller of `ad_function_new`.
///
/// `forward` gets the inputs (handles it borrows: the library frees them when it returns) and
/// writes `n_outputs` new handles to `outputs`, each owned by the library from then on; it
/// may save arrays for backward with `ad_function_save`. It runs without recording.
///
/// `backward` gets the gradient of each output (borrowed, of the output's shape) and writes,
/// for each input, a new handle with the input's gradient (of the input's shape and dtype), or
/// NULL for none (a zero gradient; `ad_function_needs_grad` says which are wanted). It reads
/// what forward saved with `ad_function_saved`. It runs on the thread that calls backward,
/// recording when that backward creates a graph: a backward written with the library's ops
/// is then differentiable again.
///
/// Either reports failure by returning a status other than `AD_OK`, with a message set by
/// `ad_function_set_error` (or left by the library function that failed in it); the status
/// and the message reach the caller of `ad_function_apply` or of backward. Results a failing
/// callback wrote are freed. A callback must not unwind (throw) into the library.
///
/// `destroy(user_data)`, if not NULL, runs once, when the function's handle is freed and the
/// last graph that recorded it is released, on whichever thread that happens.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ad_function_callbacks {
    /// `AD_FUNCTION_CALLBACKS_VERSION`.
    pub version: u32,
    pub forward: ad_function_callback,
    pub backward: ad_function_callback,
    pub destroy: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

/// A custom function, made by `ad_function_new` and freed with `ad_function_free`.
pub struct ad_function {
    _private: [u8; 0],
}

/// What a callback reaches its call through: valid on the callback's thread, until it returns.
pub struct ad_function_context {
    _private: [u8; 0],
}

/// The host's function: its name, callbacks and user data. Dropped with the last graph and
/// handle that hold it, which runs `destroy`.
struct HostFunction {
    name: String,
    callbacks: ad_function_callbacks,
    user_data: *mut c_void,
}

// SAFETY: the library calls the callbacks from whichever thread applies the function or runs
// backward, and `destroy` from whichever drops it last; the header makes thread-safe callbacks
// and user data the host's part of the contract.
unsafe impl Send for HostFunction {}
unsafe impl Sync for HostFunction {}

impl Drop for HostFunction {
    fn drop(&mut self) {
        if let Some(destroy) = self.callbacks.destroy {
            // SAFETY: the host gave this callback for this user data, to be called once: here.
            unsafe { destroy(self.user_data) }
        }
    }
}

/// One application: the function and how many outputs the caller asked for.
struct Call {
    f: Arc<HostFunction>,
    n_outputs: usize,
}

/// What a callback's context holds.
struct Context {
    id: u64,
    saved: Vec<NdArray>,
    /// In backward, which inputs' gradients are wanted; empty in forward.
    needs: Vec<bool>,
    in_forward: bool,
    error: Option<String>,
}

static NEXT_CONTEXT: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The contexts of the callbacks running on this thread, innermost last (a callback may
    /// apply another custom function).
    static CONTEXTS: RefCell<Vec<Context>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on this thread's context `ctx`, or fails if `ctx` is not a running callback's.
fn with_context<R>(ctx: *mut ad_function_context, f: impl FnOnce(&mut Context) -> FfiResult<R>) -> FfiResult<R> {
    if ctx.is_null() {
        return Err(super::args::null_arg("ctx"));
    }
    let id = ctx as usize as u64;
    CONTEXTS.with(|c| {
        let mut contexts = c.borrow_mut();
        match contexts.iter_mut().find(|c| c.id == id) {
            Some(context) => f(context),
            None => Err(FfiError::new(
                ad_status::AD_ERR_INVALID_HANDLE,
                format!("argument `ctx` ({:p}) is not the context of a callback running on this thread", ctx),
            )),
        }
    })
}

impl HostFunction {
    /// Calls one callback with a fresh context holding `saved` and `needs`: `arrays` are
    /// handed over as new handles (freed after), and the `n_results` handles it writes are
    /// taken (NULL allowed where `optional`). Returns the results and what the context saved.
    fn call(
        &self,
        callback: ad_function_callback,
        which: &str,
        arrays: &[NdArray],
        n_results: usize,
        saved: Vec<NdArray>,
        needs: Vec<bool>,
    ) -> Result<(Vec<Option<NdArray>>, Vec<NdArray>), Error> {
        let Some(callback) = callback else {
            return Err(Error::new(ErrorKind::InvalidArgument, format!("custom function `{}` has no {} callback", self.name, which)));
        };
        let mut lent = Vec::with_capacity(arrays.len());
        for a in arrays {
            match handles::insert(a.clone()) {
                Ok(h) => lent.push(h.cast_const()),
                Err(e) => {
                    free(&lent);
                    return Err(Error::new(ErrorKind::Alloc, e.message));
                }
            }
        }
        let id = NEXT_CONTEXT.fetch_add(1, Ordering::Relaxed);
        let in_forward = which == "forward";
        CONTEXTS.with(|c| c.borrow_mut().push(Context { id, saved, needs, in_forward, error: None }));
        let mut results: Vec<*mut ad_array> = vec![null_mut(); n_results];
        // SAFETY: the callback's contract (ad_function_callbacks): `lent` holds `lent.len()`
        // handles and `results` room for `n_results`, both valid for the call.
        let status = unsafe {
            callback(self.user_data, id as usize as *mut ad_function_context, lent.as_ptr(), lent.len(), results.as_mut_ptr(), n_results)
        };
        let context = CONTEXTS.with(|c| {
            let mut contexts = c.borrow_mut();
            let at = contexts.iter().rposition(|c| c.id == id).expect("pushed above, popped only here");
            contexts.remove(at)
        });
        free(&lent);
        let taken: Vec<FfiResult<Option<NdArray>>> = results.iter().map(|&h| take(h)).collect();
        if status != ad_status::AD_OK {
            let message = context.error.unwrap_or_else(super::boundary::last_error_text);
            return Err(Error::new(kind_of(status), format!("custom function `{}`: {} failed ({:?}): {}", self.name, which, status, message)));
        }
        let results = taken.into_iter().collect::<FfiResult<Vec<_>>>().map_err(|e| {
            Error::new(ErrorKind::InvalidArgument, format!("custom function `{}`: {} wrote a bad handle: {}", self.name, which, e.message))
        })?;
        Ok((results, context.saved))
    }
}

impl ops::custom::CustomFunction for Call {
    fn name(&self) -> &str {
        &self.f.name
    }

    fn forward(&self, inputs: &[NdArray], saved: &mut Vec<NdArray>) -> Result<Vec<NdArray>, Error> {
        let (outputs, kept) = self.f.call(self.f.callbacks.forward, "forward", inputs, self.n_outputs, Vec::new(), Vec::new())?;
        *saved = kept;
        outputs
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                o.ok_or_else(|| Error::new(ErrorKind::InvalidArgument, format!("custom function `{}`: forward left output {} NULL", self.f.name, i)))
            })
            .collect()
    }

    fn backward(&self, output_grads: &[NdArray], saved: &[NdArray], needs: &[bool]) -> Result<Vec<Option<NdArray>>, Error> {
        let (grads, _) = self.f.call(self.f.callbacks.backward, "backward", output_grads, needs.len(), saved.to_vec(), needs.to_vec())?;
        Ok(grads)
    }
}

/// Frees handles the library lent.
fn free(lent: &[*const ad_array]) {
    for &h in lent {
        let _ = handles::remove(h.cast_mut(), "");
    }
}

/// The array of a handle a callback wrote, taken from the handle table (NULL: none).
fn take(h: *mut ad_array) -> FfiResult<Option<NdArray>> {
    if h.is_null() {
        return Ok(None);
    }
    let array = handles::get(h, "result")?;
    handles::remove(h, "result")?;
    Ok(Some(array))
}

/// The engine's kind for a callback's status; statuses that are the C boundary's own
/// (a NULL or bad handle, a short buffer, a panic) are an invalid argument of the callback.
pub(super) fn kind_of(status: ad_status) -> ErrorKind {
    match status {
        ad_status::AD_ERR_SHAPE => ErrorKind::Shape,
        ad_status::AD_ERR_DTYPE => ErrorKind::DType,
        ad_status::AD_ERR_INDEX => ErrorKind::Index,
        ad_status::AD_ERR_AUTOGRAD => ErrorKind::Autograd,
        ad_status::AD_ERR_ALLOC => ErrorKind::Alloc,
        ad_status::AD_ERR_IO => ErrorKind::Io,
        ad_status::AD_ERR_FORMAT => ErrorKind::Format,
        _ => ErrorKind::InvalidArgument,
    }
}

// ---- the function table: `ad_function *` handles, checked as array handles are ----------

static FUNCTIONS: Registry<Arc<HostFunction>> = Registry::new("custom function");

fn lookup(h: *const ad_function, name: &str) -> FfiResult<Arc<HostFunction>> {
    FUNCTIONS.with(h as usize, name, Arc::clone)
}

/// Makes a custom function named `name` (for messages) from `callbacks` (read during the call;
/// the struct may be freed after) and `user_data`, and writes its handle to `*out`, which the
/// caller frees with `ad_function_free`. On success the library owns `user_data` and calls
/// `destroy` on it once (see `ad_function_callbacks`); on failure it does not take it.
/// `AD_ERR_INVALID_ARGUMENT` if `version` is not one this library reads or `forward` is NULL.
#[no_mangle]
pub unsafe extern "C" fn ad_function_new(
    name: *const std::ffi::c_char,
    callbacks: *const ad_function_callbacks,
    user_data: *mut c_void,
    out: *mut *mut ad_function,
) -> ad_status {
    ffi_boundary!({
        let out = arg!(out out)?;
        let name = arg!(text name)?;
        let callbacks = arg!(value callbacks)?;
        if callbacks.version != AD_FUNCTION_CALLBACKS_VERSION {
            return Err(FfiError::new(
                ad_status::AD_ERR_INVALID_ARGUMENT,
                format!("argument `callbacks`: version {} is not {} (AD_FUNCTION_CALLBACKS_VERSION)", callbacks.version, AD_FUNCTION_CALLBACKS_VERSION),
            ));
        }
        if callbacks.forward.is_none() {
            return Err(FfiError::new(ad_status::AD_ERR_INVALID_ARGUMENT, "argument `callbacks`: `forward` is NULL"));
        }
        let h = FUNCTIONS.insert(Arc::new(HostFunction { name, callbacks, user_data })).map_err(|(e, f)| {
            // Not taken: the user data stays the caller's, so `destroy` must not run.
            if let Ok(mut f) = Arc::try_unwrap(f) {
                f.callbacks.destroy = None;
            }
            e
        })?;
        out.set(h as *mut ad_function);
        Ok(())
    })
}

/// Frees the handle of a custom function. Graphs that recorded it keep it until they are
/// released; `destroy` runs after the last. NULL is a no-op; a freed handle
/// `AD_ERR_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn ad_function_free(function: *mut ad_function) -> ad_status {
    ffi_boundary!({
        if function.is_null() {
            return Ok(());
        }
        let released = FUNCTIONS.remove(function as usize, "function")?;
        // Dropped outside the table's lock: `destroy` may call back into the library.
        drop(released);
        Ok(())
    })
}

/// Applies `function` to `n_inputs` arrays and writes its `n_outputs` results to `outputs`,
/// each a new handle the caller frees. Inside a record scope, with an input in the graph,
/// it is recorded: backward calls the function's `backward`. The outputs must share one
/// dtype. Fails with the status and message of a failing `forward`.
#[no_mangle]
pub unsafe extern "C" fn ad_function_apply(
    function: *const ad_function,
    inputs: *const *const ad_array,
    n_inputs: usize,
    outputs: *mut *mut ad_array,
    n_outputs: usize,
) -> ad_status {
    ffi_boundary!({
        let outputs = arg!(out_slice outputs, n_outputs)?;
        let f = lookup(function, "function")?;
        let inputs = arg!(handles inputs, n_inputs)?;
        if n_outputs == 0 {
            return Err(FfiError::new(ad_status::AD_ERR_INVALID_ARGUMENT, "argument `n_outputs`: a function has at least one output"));
        }
        let results = ops::custom::apply(Arc::new(Call { f, n_outputs }), &inputs)?;
        outputs.put_all(results)
    })
}

/// In a `forward` callback: saves `n` arrays for backward (with their versions: one written
/// in place before backward makes backward fail, as for the library's own ops). Saving an
/// input or an output keeps its place in the graph, so a backward that uses it is
/// differentiable again; any other array forward made is a constant to second derivatives
/// (for those, compute it again in backward from a saved input). `AD_ERR_AUTOGRAD` outside a
/// forward callback.
#[no_mangle]
pub unsafe extern "C" fn ad_function_save(ctx: *mut ad_function_context, arrays: *const *const ad_array, n: usize) -> ad_status {
    ffi_boundary!({
        let arrays = arg!(handles arrays, n)?;
        with_context(ctx, |c| {
            if !c.in_forward {
                return Err(FfiError::new(ad_status::AD_ERR_AUTOGRAD, "ad_function_save is for forward callbacks; backward reads with ad_function_saved"));
            }
            c.saved.extend(arrays);
            Ok(())
        })
    })
}

/// In a callback: how many arrays forward saved so far (in backward: all of them).
#[no_mangle]
pub unsafe extern "C" fn ad_function_saved_count(ctx: *mut ad_function_context, count: *mut usize) -> ad_status {
    ffi_boundary!({
        let out = arg!(out count)?;
        out.set(with_context(ctx, |c| Ok(c.saved.len()))?);
        Ok(())
    })
}

/// In a callback: a new handle (the caller frees it) on the `i`th array forward saved.
/// `AD_ERR_INDEX` if there is none.
#[no_mangle]
pub unsafe extern "C" fn ad_function_saved(ctx: *mut ad_function_context, i: usize, out: *mut *mut ad_array) -> ad_status {
    ffi_boundary!({
        let out = arg!(out out)?;
        let array = with_context(ctx, |c| {
            let n = c.saved.len();
            c.saved.get(i).cloned().ok_or_else(|| FfiError::new(ad_status::AD_ERR_INDEX, format!("argument `i`: {} saved arrays, none at {}", n, i)))
        })?;
        out.put(array)
    })
}

/// In a `backward` callback: whether input `i`'s gradient is wanted (the others may be left
/// NULL). `AD_ERR_AUTOGRAD` outside a backward callback, `AD_ERR_INDEX` past the inputs.
#[no_mangle]
pub unsafe extern "C" fn ad_function_needs_grad(ctx: *mut ad_function_context, i: usize, needed: *mut bool) -> ad_status {
    ffi_boundary!({
        let out = arg!(out needed)?;
        let needs = with_context(ctx, |c| {
            if c.in_forward {
                return Err(FfiError::new(ad_status::AD_ERR_AUTOGRAD, "ad_function_needs_grad is for backward callbacks"));
            }
            let n = c.needs.len();
            c.needs.get(i).copied().ok_or_else(|| FfiError::new(ad_status::AD_ERR_INDEX, format!("argument `i`: {} inputs, none at {}", n, i)))
        })?;
        out.set(needs);
        Ok(())
    })
}

/// In a callback that is about to return a failing status: the message the caller will see
/// (copied).
#[no_mangle]
pub unsafe extern "C" fn ad_function_set_error(ctx: *mut ad_function_context, message: *const std::ffi::c_char) -> ad_status {
    ffi_boundary!({
        let message = arg!(text message)?;
        with_context(ctx, |c| {
            c.error = Some(message);
            Ok(())
        })
    })
}
