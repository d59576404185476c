//! Recording scopes, variables and backward. Recording and training flags are per thread.

use std::ptr::null_mut;

use super::ad_status;
use super::engine::{autograd, ScopeKind};
use super::handles::ad_array;

/// The body of the exports that open a scope.
macro_rules! scope_begin {
    ($kind:expr, $train_mode:expr) => {
        ffi_boundary!({
            autograd::scope_begin($kind, $train_mode);
            Ok(())
        })
    };
}

/// The body of the exports that close one.
macro_rules! scope_end {
    ($kind:expr) => {
        ffi_boundary!({ Ok(autograd::scope_end($kind)?) })
    };
}

/// Opens a record scope on this thread (MXNet's `autograd.record(train_mode)`): ops whose
/// inputs are in the graph are recorded, and training mode is `train_mode`. Scopes nest;
/// close each with `ad_record_end`.
#[no_mangle]
pub extern "C" fn ad_record_begin(train_mode: bool) -> ad_status {
    scope_begin!(ScopeKind::Record, train_mode)
}

/// Closes the innermost scope, which must be a record scope, restoring the flags it found.
/// `AD_ERR_AUTOGRAD` when no record scope is innermost.
#[no_mangle]
pub extern "C" fn ad_record_end() -> ad_status {
    scope_end!(ScopeKind::Record)
}

/// Opens a pause scope (MXNet's `autograd.pause(train_mode)`): nothing is recorded, and
/// training mode is `train_mode`. Close it with `ad_pause_end`.
#[no_mangle]
pub extern "C" fn ad_pause_begin(train_mode: bool) -> ad_status {
    scope_begin!(ScopeKind::Pause, train_mode)
}

/// Closes the innermost scope, which must be a pause scope.
#[no_mangle]
pub extern "C" fn ad_pause_end() -> ad_status {
    scope_end!(ScopeKind::Pause)
}

/// Opens a scope in training mode, recording unchanged (MXNet's `autograd.train_mode()`).
#[no_mangle]
pub extern "C" fn ad_train_mode_begin() -> ad_status {
    scope_begin!(ScopeKind::TrainMode, true)
}

/// Closes the innermost scope, which must be a train-mode scope.
#[no_mangle]
pub extern "C" fn ad_train_mode_end() -> ad_status {
    scope_end!(ScopeKind::TrainMode)
}

/// Opens a scope in prediction mode, recording unchanged (MXNet's `autograd.predict_mode()`).
#[no_mangle]
pub extern "C" fn ad_predict_mode_begin() -> ad_status {
    scope_begin!(ScopeKind::PredictMode, false)
}

/// Closes the innermost scope, which must be a predict-mode scope.
#[no_mangle]
pub extern "C" fn ad_predict_mode_end() -> ad_status {
    scope_end!(ScopeKind::PredictMode)
}

/// Whether this thread is recording. Fallback: false.
#[no_mangle]
pub extern "C" fn ad_is_recording() -> bool {
    ffi_boundary!(panic => false, { autograd::is_recording() })
}

/// Whether this thread is in training mode (false outside any scope, true inside
/// `ad_record_begin(true)`, false inside `ad_record_begin(false)`). Fallback: false.
#[no_mangle]
pub extern "C" fn ad_is_training() -> bool {
    ffi_boundary!(panic => false, { autograd::is_training() })
}

/// Sets this thread's recording flag outside the scope discipline; the previous value goes to
/// `*previous` unless it is NULL.
#[no_mangle]
pub unsafe extern "C" fn ad_set_recording(recording: bool, previous: *mut bool) -> ad_status {
    ffi_boundary!({
        let before = autograd::set_recording(recording);
        if let Some(previous) = arg!(out? previous) {
            previous.set(before);
        }
        Ok(())
    })
}

/// Sets this thread's training flag; the previous value goes to `*previous` unless NULL.
#[no_mangle]
pub unsafe extern "C" fn ad_set_training(training: bool, previous: *mut bool) -> ad_status {
    ffi_boundary!({
        let before = autograd::set_training(training);
        if let Some(previous) = arg!(out? previous) {
            previous.set(before);
        }
        Ok(())
    })
}

/// Marks `array` as a variable with a new zero gradient of its shape (MXNet's
/// `attach_grad`); `grad_req` is an `ad_grad_req`. If `array` was computed in a record scope
/// it becomes a leaf for what is recorded after this call, while `ad_backward` on `array`
/// itself still follows its history. Changes `array` in place; no new handle.
#[no_mangle]
pub extern "C" fn ad_array_attach_grad(array: *mut ad_array, grad_req: u32) -> ad_status {
    ffi_boundary!({
        let req = arg!(grad_req grad_req)?;
        modify_handle!(array, |a| Ok(autograd::attach_grad(a, req)?))
    })
}

/// `ad_array_attach_grad` with the caller's `gradient` array as the gradient buffer (MXNet's
/// `mark_variables`): backward writes into `gradient`'s data, which must have `array`'s
/// shape and dtype. Both handles stay the caller's.
#[no_mangle]
pub extern "C" fn ad_array_attach_grad_with(array: *mut ad_array, gradient: *const ad_array, grad_req: u32) -> ad_status {
    ffi_boundary!({
        let req = arg!(grad_req grad_req)?;
        let g = arg!(handle gradient)?;
        modify_handle!(array, |a| Ok(autograd::attach_grad_with(a, g, req)?))
    })
}

/// Asks backward to fill a gradient for the recorded intermediate `array` while gradients
/// keep flowing through it to the variables; read it with `ad_array_grad`. A no-op on a
/// variable. `AD_ERR_AUTOGRAD` for an array with no recorded history.
#[no_mangle]
pub extern "C" fn ad_array_retain_grad(array: *mut ad_array) -> ad_status {
    ffi_boundary!({ Ok(autograd::retain_grad(&arg!(handle array)?)?) })
}

/// Writes to `*out` a new handle on `array`'s gradient, sharing its data (later backward
/// calls update what it shows), or NULL when `array` has no gradient (no `attach_grad` or
/// `retain_grad`, or grad_req null). The caller frees a non-NULL `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_grad(array: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    ffi_boundary!({
        let out = arg!(out out)?;
        match autograd::grad_of(&arg!(handle array)?) {
            Some(g) => out.put(g),
            None => {
                out.set(null_mut());
                Ok(())
            }
        }
    })
}

/// Backpropagates from `head`, seeded with `head_grad` (NULL: ones of the head's shape, so a
/// non-scalar head counts as its sum; an array of the head's size but another shape is read
/// as the head's shape, as MXNet does), into the gradients of the variables it depends on,
/// each by its grad_req. Unless `retain_graph`, the graph's saved values are released and a
/// second backward through it fails with `AD_ERR_AUTOGRAD`; so does one that another thread
/// starts through the graph while this one runs. Runs in training mode.
#[no_mangle]
pub extern "C" fn ad_backward(head: *const ad_array, head_grad: *const ad_array, retain_graph: bool) -> ad_status {
    ffi_boundary!({ Ok(autograd::backward(&[arg!(handle head)?], &[arg!(handle? head_grad)?], retain_graph, true)?) })
}

/// `ad_backward` for `n` heads at once (their gradients are summed). `head_grads` is NULL
/// (all ones) or `n` entries, each a handle or NULL (ones). `train_mode` is the training
/// flag while the backward pass runs.
#[no_mangle]
pub unsafe extern "C" fn ad_backward_ex(
    heads: *const *const ad_array,
    head_grads: *const *const ad_array,
    n: usize,
    retain_graph: bool,
    train_mode: bool,
) -> ad_status {
    ffi_boundary!({ Ok(autograd::backward(&arg!(handles heads, n)?, &arg!(handles? head_grads, n)?, retain_graph, train_mode)?) })
}

/// The gradients of the `n_heads` heads with respect to the `n_variables` variables (each
/// marked with `attach_grad`), returned as new arrays in `out_grads[0..n_variables]`,
/// without touching any variable's own gradient (MXNet's `autograd.grad`). With
/// `create_graph` the results are recorded, so they can be differentiated again (second
/// derivatives). The caller frees each `out_grads[i]` with `ad_array_free`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ad_grad(
    heads: *const *const ad_array,
    head_grads: *const *const ad_array,
    n_heads: usize,
    variables: *const *const ad_array,
    n_variables: usize,
    retain_graph: bool,
    create_graph: bool,
    train_mode: bool,
    out_grads: *mut *mut ad_array,
) -> ad_status {
    ffi_boundary!({
        let out_grads = arg!(out_slice out_grads, n_variables)?;
        let hs = arg!(handles heads, n_heads)?;
        let gs = arg!(handles? head_grads, n_heads)?;
        let vs = arg!(handles variables, n_variables)?;
        out_grads.put_all(autograd::grad(&hs, &vs, &gs, retain_graph, create_graph, train_mode)?)
    })
}
