//! Gradient-ready hooks: the host's function that backward calls as soon as a variable's
//! gradient is final (`ad_array_set_grad_hook`), with its user data, and the message a failing
//! hook gives (`ad_grad_hook_set_error`).

use std::cell::RefCell;
use std::ffi::{c_char, c_void};

use super::ad_status;
use super::boundary::FfiError;
use super::engine::{autograd, fmt_shape, Error, ErrorKind, NdArray};
use super::handles::{self, ad_array};

/// A gradient-ready hook: `hook(user_data, variable)`, called by `ad_backward` once the
/// gradient of `variable` is final (see `ad_array_set_grad_hook`). `variable` is a handle the
/// library lends for the call and frees after it. Returns `AD_OK`, or a failing status that
/// stops backward (with a message set by `ad_grad_hook_set_error`).
pub type ad_grad_hook = Option<unsafe extern "C" fn(user_data: *mut c_void, variable: *const ad_array) -> ad_status>;

/// What frees the user data of a gradient hook (see `ad_array_set_grad_hook`).
pub type ad_destroy_fn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// The host's hook and its user data; dropping it runs `destroy`.
struct HostHook {
    hook: unsafe extern "C" fn(user_data: *mut c_void, variable: *const ad_array) -> ad_status,
    user_data: *mut c_void,
    destroy: ad_destroy_fn,
}

// SAFETY: the library calls the hook from the thread that runs backward and `destroy` from the
// one that replaces, removes or drops it last; the header makes thread-safe hooks and user
// data the host's part of the contract.
unsafe impl Send for HostHook {}
unsafe impl Sync for HostHook {}

impl Drop for HostHook {
    fn drop(&mut self) {
        if let Some(destroy) = self.destroy {
            // SAFETY: the host gave this callback for this user data, to be called once: here.
            unsafe { destroy(self.user_data) }
        }
    }
}

thread_local! {
    /// The messages of the hooks running on this thread, innermost last (a hook may run a
    /// backward through another graph, with hooks of its own).
    static HOOK_ERRORS: RefCell<Vec<Option<String>>> = const { RefCell::new(Vec::new()) };
}

impl HostHook {
    fn call(&self, variable: &NdArray) -> Result<(), Error> {
        let h = handles::insert(variable.clone()).map_err(|e| Error::new(ErrorKind::Alloc, e.message))?;
        HOOK_ERRORS.with(|e| e.borrow_mut().push(None));
        // SAFETY: the hook's contract (ad_grad_hook): `h` is a live handle during the call.
        let status = unsafe { (self.hook)(self.user_data, h.cast_const()) };
        let message = HOOK_ERRORS.with(|e| e.borrow_mut().pop().flatten());
        let _ = handles::remove(h, "");
        if status == ad_status::AD_OK {
            return Ok(());
        }
        let message = message.unwrap_or_else(super::boundary::last_error_text);
        Err(Error::new(
            super::custom::kind_of(status),
            format!("the gradient hook of a variable (shape {}) failed ({:?}): {}", fmt_shape(&variable.shape), status, message),
        ))
    }
}

/// Sets the gradient-ready hook of `variable` (an array marked with `ad_array_attach_grad`,
/// grad_req not null; otherwise `AD_ERR_AUTOGRAD`), replacing any it had; a NULL `hook`
/// removes it. On success the library owns `user_data`: `destroy(user_data)`, if not NULL,
/// runs once, when the hook is replaced or removed or the variable is gone (its last array and
/// graph freed), on whichever thread that happens. On failure `user_data` stays the caller's
/// and `destroy` is not called (nor when `hook` is NULL).
///
/// During `ad_backward` and `ad_backward_ex` (not `ad_grad`, which writes no gradient
/// buffer), as soon as the gradient of a hooked variable is final (after the last operation
/// of the pass that contributes to it), it is written into the variable's gradient buffer
/// by its grad_req, and the hook is called with a handle of the variable, lent for the call
/// (the library frees it after). The hook may read the gradient (`ad_array_grad`, then
/// `ad_array_borrow`: to start an MPI_Iallreduce, say, while backward goes on) and call any
/// function of the library except a backward through the same graph. Hooks run on the
/// thread that calls backward, in the order their gradients become final (a reverse
/// topological order: the last layer's parameters first); those of variables the pass
/// reaches but sends no gradient to run at the end. Variables without a hook are written
/// after the whole pass, as before.
///
/// A hook that returns a status other than `AD_OK` stops backward, whose caller gets that
/// status (the C boundary's own statuses, such as `AD_ERR_NULL_ARGUMENT`, become
/// `AD_ERR_INVALID_ARGUMENT`, as for custom functions) and the message the hook set with
/// `ad_grad_hook_set_error` (or, if it set none, the one `ad_last_error` held when it
/// returned). The gradients of variables whose hooks already ran stay written; the others are
/// not written. A hook must not unwind (throw) into the library.
#[no_mangle]
pub unsafe extern "C" fn ad_array_set_grad_hook(
    variable: *mut ad_array,
    hook: ad_grad_hook,
    user_data: *mut c_void,
    destroy: ad_destroy_fn,
) -> ad_status {
    ffi_boundary!({
        let array = arg!(handle variable)?;
        // Refused before `user_data` is taken: then `destroy` must not run.
        autograd::set_grad_hook(&array, None)?;
        let f: Option<Box<autograd::GradHookFn>> = match hook {
            None => None,
            Some(hook) => {
                let host = HostHook { hook, user_data, destroy };
                Some(Box::new(move |v: &NdArray| host.call(v)))
            }
        };
        Ok(autograd::set_grad_hook(&array, f)?)
    })
}

/// In a gradient hook that is about to return a failing status: the message the caller of
/// backward will see (copied). `AD_ERR_AUTOGRAD` outside a hook.
#[no_mangle]
pub unsafe extern "C" fn ad_grad_hook_set_error(message: *const c_char) -> ad_status {
    ffi_boundary!({
        let message = arg!(text message)?;
        HOOK_ERRORS.with(|e| match e.borrow_mut().last_mut() {
            Some(slot) => {
                *slot = Some(message);
                Ok(())
            }
            None => Err(FfiError::new(ad_status::AD_ERR_AUTOGRAD, "ad_grad_hook_set_error is for gradient hooks, and none is running on this thread")),
        })
    })
}
