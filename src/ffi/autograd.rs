//! Recording scopes, variables and backward. Recording and training flags are per thread.

use super::arrays::put;
use super::handles::{self, ad_array};
use super::{ad_status, boundary, out_arg, slice_arg, write_out, FfiError, FfiResult};
use crate::NdArray;
use crate::autograd::{self, GradReq, ScopeKind};

fn scope_begin(name: &str, kind: ScopeKind, train_mode: bool) -> ad_status {
    boundary(name, || {
        autograd::scope_begin(kind, train_mode);
        Ok(())
    })
}

fn scope_end(name: &str, kind: ScopeKind) -> ad_status {
    boundary(name, || Ok(autograd::scope_end(kind)?))
}

/// Opens a record scope on this thread (MXNet's `autograd.record(train_mode)`): ops whose
/// inputs are in the graph are recorded, and training mode is `train_mode`. Scopes nest;
/// close each with `ad_record_end`.
#[no_mangle]
pub extern "C" fn ad_record_begin(train_mode: bool) -> ad_status {
    scope_begin("ad_record_begin", ScopeKind::Record, train_mode)
}

/// Closes the innermost scope, which must be a record scope, restoring the flags it found.
/// `AD_ERR_AUTOGRAD` when no record scope is innermost.
#[no_mangle]
pub extern "C" fn ad_record_end() -> ad_status {
    scope_end("ad_record_end", ScopeKind::Record)
}

/// Opens a pause scope (MXNet's `autograd.pause(train_mode)`): nothing is recorded, and
/// training mode is `train_mode`. Close it with `ad_pause_end`.
#[no_mangle]
pub extern "C" fn ad_pause_begin(train_mode: bool) -> ad_status {
    scope_begin("ad_pause_begin", ScopeKind::Pause, train_mode)
}

/// Closes the innermost scope, which must be a pause scope.
#[no_mangle]
pub extern "C" fn ad_pause_end() -> ad_status {
    scope_end("ad_pause_end", ScopeKind::Pause)
}

/// Opens a scope in training mode, recording unchanged (MXNet's `autograd.train_mode()`).
#[no_mangle]
pub extern "C" fn ad_train_mode_begin() -> ad_status {
    scope_begin("ad_train_mode_begin", ScopeKind::TrainMode, true)
}

/// Closes the innermost scope, which must be a train-mode scope.
#[no_mangle]
pub extern "C" fn ad_train_mode_end() -> ad_status {
    scope_end("ad_train_mode_end", ScopeKind::TrainMode)
}

/// Opens a scope in prediction mode, recording unchanged (MXNet's `autograd.predict_mode()`).
#[no_mangle]
pub extern "C" fn ad_predict_mode_begin() -> ad_status {
    scope_begin("ad_predict_mode_begin", ScopeKind::PredictMode, false)
}

/// Closes the innermost scope, which must be a predict-mode scope.
#[no_mangle]
pub extern "C" fn ad_predict_mode_end() -> ad_status {
    scope_end("ad_predict_mode_end", ScopeKind::PredictMode)
}

/// Whether this thread is recording.
#[no_mangle]
pub extern "C" fn ad_is_recording() -> bool {
    autograd::is_recording()
}

/// Whether this thread is in training mode (false outside any scope, true inside
/// `ad_record_begin(true)`, false inside `ad_record_begin(false)`).
#[no_mangle]
pub extern "C" fn ad_is_training() -> bool {
    autograd::is_training()
}

/// Sets this thread's recording flag outside the scope discipline; the previous value goes to
/// `*previous` unless it is NULL.
#[no_mangle]
pub unsafe extern "C" fn ad_set_recording(recording: bool, previous: *mut bool) -> ad_status {
    boundary("ad_set_recording", || {
        let prev = autograd::set_recording(recording);
        if !previous.is_null() {
            write_out(previous, prev);
        }
        Ok(())
    })
}

/// Sets this thread's training flag; the previous value goes to `*previous` unless NULL.
#[no_mangle]
pub unsafe extern "C" fn ad_set_training(training: bool, previous: *mut bool) -> ad_status {
    boundary("ad_set_training", || {
        let prev = autograd::set_training(training);
        if !previous.is_null() {
            write_out(previous, prev);
        }
        Ok(())
    })
}

fn grad_req_arg(code: u32) -> FfiResult<GradReq> {
    GradReq::from_code(code).ok_or_else(|| {
        FfiError::new(
            ad_status::AD_ERR_INVALID_ARGUMENT,
            format!("argument `grad_req`: {} is not an ad_grad_req (AD_GRAD_NULL 0, AD_GRAD_WRITE 1, AD_GRAD_ADD 3)", code),
        )
    })
}

/// Marks `array` as a variable with a new zero gradient of its shape (MXNet's
/// `attach_grad`); `grad_req` is an `ad_grad_req`. If `array` was computed in a record scope
/// it becomes a leaf for what is recorded after this call, while `ad_backward` on `array`
/// itself still follows its history. Changes `array` in place; no new handle.
#[no_mangle]
pub extern "C" fn ad_array_attach_grad(array: *mut ad_array, grad_req: u32) -> ad_status {
    boundary("ad_array_attach_grad", || {
        let req = grad_req_arg(grad_req)?;
        handles::update(array, "array", |a| Ok(autograd::attach_grad(a, req)?))
    })
}

/// `ad_array_attach_grad` with the caller's `gradient` array as the gradient buffer (MXNet's
/// `mark_variables`): backward writes into `gradient`'s data, which must have `array`'s
/// shape and dtype. Both handles stay the caller's.
#[no_mangle]
pub extern "C" fn ad_array_attach_grad_with(array: *mut ad_array, gradient: *const ad_array, grad_req: u32) -> ad_status {
    boundary("ad_array_attach_grad_with", || {
        let req = grad_req_arg(grad_req)?;
        let g = handles::get(gradient, "gradient")?;
        handles::update(array, "array", |a| Ok(autograd::attach_grad_with(a, g, req)?))
    })
}

/// Asks backward to fill a gradient for the recorded intermediate `array` while gradients
/// keep flowing through it to the variables; read it with `ad_array_grad`. A no-op on a
/// variable. `AD_ERR_AUTOGRAD` for an array with no recorded history.
#[no_mangle]
pub extern "C" fn ad_array_retain_grad(array: *mut ad_array) -> ad_status {
    boundary("ad_array_retain_grad", || Ok(autograd::retain_grad(&handles::get(array, "array")?)?))
}

/// Writes to `*out` a new handle on `array`'s gradient, sharing its data (later backward
/// calls update what it shows), or NULL when `array` has no gradient (no `attach_grad` or
/// `retain_grad`, or grad_req null). The caller frees a non-NULL `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_grad(array: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    boundary("ad_array_grad", || {
        let out = out_arg(out, "out")?;
        match autograd::grad_of(&handles::get(array, "array")?) {
            Some(g) => put(out, g),
            None => {
                write_out(out, std::ptr::null_mut());
                Ok(())
            }
        }
    })
}

/// The arrays behind `n` handles, argument `name`.
unsafe fn handle_list(ptr: *const *const ad_array, n: usize, name: &str) -> FfiResult<Vec<NdArray>> {
    slice_arg(ptr, n, name)?
        .iter()
        .enumerate()
        .map(|(i, &h)| handles::get(h, &format!("{}[{}]", name, i)))
        .collect()
}

/// Optional head gradients: NULL for all ones, else `n` entries each NULL or a handle.
unsafe fn head_grad_list(ptr: *const *const ad_array, n: usize) -> FfiResult<Vec<Option<NdArray>>> {
    if ptr.is_null() {
        return Ok(vec![None; n]);
    }
    slice_arg(ptr, n, "head_grads")?
        .iter()
        .enumerate()
        .map(|(i, &h)| if h.is_null() { Ok(None) } else { handles::get(h, &format!("head_grads[{}]", i)).map(Some) })
        .collect()
}

/// Backpropagates from `head`, seeded with `head_grad` (NULL: ones of the head's shape, so a
/// non-scalar head counts as its sum), into the gradients of the variables it depends on,
/// each by its grad_req. Unless `retain_graph`, the graph's saved values are released and a
/// second backward through it fails with `AD_ERR_AUTOGRAD`; so does one that another thread
/// starts through the graph while this one runs. Runs in training mode.
#[no_mangle]
pub extern "C" fn ad_backward(head: *const ad_array, head_grad: *const ad_array, retain_graph: bool) -> ad_status {
    boundary("ad_backward", || {
        let h = handles::get(head, "head")?;
        let g = if head_grad.is_null() { None } else { Some(handles::get(head_grad, "head_grad")?) };
        Ok(autograd::backward(&[h], &[g], retain_graph, true)?)
    })
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
    boundary("ad_backward_ex", || {
        let hs = handle_list(heads, n, "heads")?;
        let gs = head_grad_list(head_grads, n)?;
        Ok(autograd::backward(&hs, &gs, retain_graph, train_mode)?)
    })
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
    boundary("ad_grad", || {
        let out_grads = out_arg(out_grads, "out_grads")?;
        let hs = handle_list(heads, n_heads, "heads")?;
        let gs = head_grad_list(head_grads, n_heads)?;
        let vs = handle_list(variables, n_variables, "variables")?;
        let grads = autograd::grad(&hs, &vs, &gs, retain_graph, create_graph, train_mode)?;
        // Make every handle before writing any, so a failure leaves `out_grads` untouched.
        let mut made = Vec::with_capacity(grads.len());
        for g in grads {
            match handles::insert(g) {
                Ok(h) => made.push(h),
                Err(e) => {
                    for h in made {
                        let _ = handles::remove(h, "out_grads");
                    }
                    return Err(e);
                }
            }
        }
        for (i, h) in made.into_iter().enumerate() {
            write_out(out_grads.add(i), h);
        }
        Ok(())
    })
}
