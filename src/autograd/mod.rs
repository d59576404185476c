//! Differentiation: `backward` and `grad` walk the tape from the heads, and the autograd API
//! (MXNet's `autograd`: variables, recording and training scopes) gathered from the tape.

mod backward;
mod claim;
mod flow;

pub use backward::{backward, grad};
pub use crate::tape::state::{is_recording, is_training, scope_begin, scope_end, set_recording, set_training, ScopeKind};
pub use crate::tape::{attach_grad, attach_grad_with, grad_of, grad_req_of, retain_grad, set_grad_hook, GradHookFn, GradReq};
