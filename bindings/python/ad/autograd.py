"""MXNet's `autograd` namespace. Recording and training flags are per thread; scopes nest
and restore what they found on exit, also when the body raises."""
import ctypes

from . import _ext
from ._function import Function, function
from ._helpers import as_list, grad_req_code, handle, handles
from ._lib import check, lib
from .errors import ADValueError
from .ndarray import NDArray

__all__ = [
    "record", "pause", "train_mode", "predict_mode", "is_recording", "is_training",
    "set_recording", "set_training", "backward", "grad", "mark_variables", "Function", "function",
]


# The scopes are C objects (ad._ext.Scope) whose __enter__ and __exit__ call the library's
# begin and end functions: record(train_mode=True), pause(train_mode=False), train_mode(),
# predict_mode().
record = _ext.record
pause = _ext.pause
train_mode = _ext.train_mode
predict_mode = _ext.predict_mode


def is_recording():
    """Whether this thread is recording operations for backward.

    Returns
    -------
    bool
        The recording flag.
    """
    return bool(lib.ad_is_recording())


def is_training():
    """Whether this thread is in training mode (what Dropout and BatchNorm look at).

    Returns
    -------
    bool
        The training flag.
    """
    return bool(lib.ad_is_training())


def set_recording(is_recording):
    """Sets this thread's recording flag, outside the scopes' discipline (prefer `record` and
    `pause`): while it is on, operations on arrays that depend on a variable are recorded.

    Parameters
    ----------
    is_recording : bool
        The new value.

    Returns
    -------
    bool
        The previous value.
    """
    prev = ctypes.c_bool()
    check(lib.ad_set_recording(bool(is_recording), ctypes.byref(prev)))
    return prev.value


def set_training(train_mode):
    """Sets this thread's training flag, outside the scopes' discipline (prefer `train_mode`
    and `predict_mode`): in training mode Dropout drops and BatchNorm uses the batch's
    statistics; in prediction mode they pass the input through and use the moving statistics.

    Parameters
    ----------
    train_mode : bool
        The new value.

    Returns
    -------
    bool
        The previous value.
    """
    prev = ctypes.c_bool()
    check(lib.ad_set_training(bool(train_mode), ctypes.byref(prev)))
    return prev.value


def _head_grads(head_grads, n):
    """NULL for all ones, else one entry per head: a handle, or NULL (ones) for None."""
    if head_grads is None:
        return None
    head_grads = as_list(head_grads)
    if len(head_grads) != n:
        raise ADValueError("%d head gradients given for %d heads" % (len(head_grads), n))
    for i, g in enumerate(head_grads):
        if g is not None and not isinstance(g, NDArray):
            raise TypeError("head_grads[%d] must be an NDArray or None; got %s" % (i, type(g).__name__))
    return (ctypes.c_void_p * n)(*[None if g is None else g._handle for g in head_grads])


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):
    """Computes the gradients of `heads` with respect to the variables they depend on (the
    arrays marked with `attach_grad` or `mark_variables`), into those variables' gradient
    buffers, each as its grad_req says. The gradients of several heads are summed.

    Parameters
    ----------
    heads : NDArray or list of NDArray
        The outputs to differentiate, recorded inside `record()`.
    head_grads : NDArray or list of NDArray or None, optional
        The gradient with respect to each head (an array of its shape, or None for ones). None,
        the default, seeds every head with ones, so that a non-scalar head counts as its sum.
    retain_graph : bool, optional
        Keep the recorded graph so that backward can run through it again (default False:
        its saved values are released, and a second backward raises RuntimeError).
    train_mode : bool, optional
        Whether backward runs in training mode (default True).
    """
    heads = as_list(heads)
    check(lib.ad_backward_ex(handles(heads, "heads"), _head_grads(head_grads, len(heads)),
                             len(heads), bool(retain_graph), bool(train_mode)))


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False, train_mode=True):
    """The gradients of `heads` with respect to `variables`, returned as new arrays; the
    variables' own `.grad` are left alone. With `create_graph` the computation of the
    gradients is recorded, so that they can be differentiated again (higher-order
    derivatives).

    Parameters
    ----------
    heads : NDArray or list of NDArray
        The outputs to differentiate, recorded inside `record()`.
    variables : NDArray or list of NDArray
        The arrays to differentiate with respect to, each marked with `attach_grad`.
    head_grads : NDArray or list of NDArray or None, optional
        The gradient with respect to each head (None for ones), as in `backward`.
    retain_graph : bool, optional
        Keep the recorded graph so that it can be differentiated again; None, the default,
        takes the value of `create_graph`.
    create_graph : bool, optional
        Record the computation of the gradients (default False).
    train_mode : bool, optional
        Whether the gradients are computed in training mode (default True).

    Returns
    -------
    list of NDArray
        One gradient per variable, also when `variables` is a single array: MXNet 1.9.1's
        code does so (its docstring promises a single array), and scripts written against it
        index the result with ``[0]``.
    """
    heads, variables = as_list(heads), as_list(variables)
    if retain_graph is None:
        retain_graph = create_graph
    out = (ctypes.c_void_p * max(len(variables), 1))()
    check(lib.ad_grad(handles(heads, "heads"), _head_grads(head_grads, len(heads)), len(heads),
                      handles(variables, "variables"), len(variables),
                      bool(retain_graph), bool(create_graph), bool(train_mode), out))
    return [NDArray(ctypes.c_void_p(out[i])) for i in range(len(variables))]


def mark_variables(variables, gradients, grad_reqs="write"):
    """Marks arrays as variables, as `attach_grad` does, but with the caller's arrays as their
    gradient buffers: backward writes into `gradients`.

    Parameters
    ----------
    variables : NDArray or list of NDArray
        The arrays to mark.
    gradients : NDArray or list of NDArray
        One gradient buffer per variable, of its shape and dtype.
    grad_reqs : str or list of str, optional
        How backward writes each gradient: 'write' (the default), 'add' or 'null', one for
        all or one per variable.
    """
    variables, gradients = as_list(variables), as_list(gradients)
    if len(variables) != len(gradients):
        raise ADValueError("%d variables but %d gradients" % (len(variables), len(gradients)))
    reqs = [grad_reqs] * len(variables) if isinstance(grad_reqs, str) else list(grad_reqs)
    if len(reqs) != len(variables):
        raise ADValueError("%d variables but %d grad_reqs" % (len(variables), len(reqs)))
    for i, (v, g, req) in enumerate(zip(variables, gradients, reqs)):
        code = grad_req_code(req)
        check(lib.ad_array_attach_grad_with(handle(v, "variables[%d]" % i), handle(g, "gradients[%d]" % i), code))
