"""Gradient-ready hooks (`NDArray.register_grad_ready_hook`), through the library's
`ad_array_set_grad_hook`: backward calls a Python callable on the thread that runs it, as soon
as a variable's gradient is final. An exception raised in the hook stops backward, which
raises that same exception again (as ad/_function.py does for custom functions).
"""
import ctypes
import itertools
import threading

from ._function import _status_for
from ._lib import DESTROY, GRAD_HOOK, check, immortal, lib
from .errors import set_pending_exception

AD_OK = 0

# The hooks the library holds as user data, by key; `destroy` drops them.
_live = {}
_keys = itertools.count(1)
_live_lock = threading.Lock()


def _call(user_data, variable):
    try:
        from .ndarray import NDArray
        out = ctypes.c_void_p()
        check(lib.ad_array_share(variable, ctypes.byref(out)))
        _live[user_data](NDArray(out))
        return AD_OK
    except BaseException as exc:  # noqa: B902 (KeyboardInterrupt too: it must not cross C)
        message = "%s: %s" % (type(exc).__name__, exc)
        set_pending_exception(exc, message)
        lib.ad_grad_hook_set_error(message.encode("utf-8", "replace"))
        return _status_for(exc)


def _destroy(user_data, live=_live, lock=_live_lock):
    # Bound at definition: a variable may be dropped during the interpreter's exit, after
    # this module's globals are gone.
    with lock:
        live.pop(user_data, None)


_CALL = immortal(GRAD_HOOK(_call))
_DESTROY = immortal(DESTROY(_destroy))


def set_hook(handle, hook):
    """Sets (or, with None, removes) the gradient-ready hook of the variable `handle`."""
    if hook is None:
        check(lib.ad_array_set_grad_hook(handle, GRAD_HOOK(), None, DESTROY()))
        return
    if not callable(hook):
        raise TypeError("a gradient hook must be callable; got %s" % type(hook).__name__)
    with _live_lock:
        key = next(_keys)
        _live[key] = hook
    status = lib.ad_array_set_grad_hook(handle, _CALL, key, _DESTROY)
    if status != AD_OK:
        _destroy(key)  # not taken
    check(status)
