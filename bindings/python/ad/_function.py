"""Differentiable functions written in Python: MXNet's `autograd.Function` and the decorator
`autograd.function`, recorded as one op through the library's custom functions
(`ad_function_new`, `ad_function_apply`).

The forward runs in Python first, with recording off, as MXNet runs it; the library's
forward callback then hands over the outputs it computed and the arrays it saved, so that
the library knows which saved arrays are inputs and outputs (their places in the graph are
kept: a backward written with ad's ops is differentiable again). The backward callback runs
the Python backward on the thread that calls backward. An exception raised in either is
reported to the library as a failed callback, and the call that ran the function (backward,
grad) raises that same exception again.
"""
import ctypes
import itertools
import threading

import numpy as np

from ._lib import CALLBACK, DESTROY, FUNCTION_CALLBACKS_VERSION, FunctionCallbacks, check, immortal, lib
from .errors import (AD_ERR_ALLOC, AD_ERR_INDEX, AD_ERR_INVALID_ARGUMENT, ADError, ADRuntimeError,
                     ADValueError, set_pending_exception)
from .ndarray import NDArray, array

__all__ = ["Function", "function"]

AD_OK = 0

# The Function objects the library holds as user data, by key; `destroy` drops them.
_live = {}
_keys = itertools.count(1)
_live_lock = threading.Lock()

# The saved tensors a backward running on this thread sees: [(function, saved)], innermost last.
_in_backward = threading.local()


def _new_handle(fn, h):
    """A new library handle made by `fn(h, &out)` (ad_array_share, ad_array_detach)."""
    out = ctypes.c_void_p()
    check(fn(h, ctypes.byref(out)))
    return out.value


def _as_ndarray(value, dtype, what):
    """An NDArray for what a callback returned: an NDArray, or anything numpy turns into an
    array (made in `dtype` when it is not float32 or float64 already)."""
    if isinstance(value, NDArray):
        return value
    if isinstance(value, (np.ndarray, np.generic, list, tuple, int, float)):
        a = np.asarray(value)
        if a.dtype not in (np.float32, np.float64):
            a = a.astype(dtype)
        return array(a, dtype=a.dtype)
    raise TypeError("%s must be an NDArray or a numpy array; got %s" % (what, type(value).__name__))


def _status_for(exc):
    """The ad_status a failed callback returns for the exception it caught."""
    if isinstance(exc, ADError) and exc.status:
        return exc.status
    if isinstance(exc, MemoryError):
        return AD_ERR_ALLOC
    if isinstance(exc, IndexError):
        return AD_ERR_INDEX
    return AD_ERR_INVALID_ARGUMENT


def _guarded(ctx, body):
    """Runs a callback's body; an exception (any: none may unwind into the library) becomes a
    failed status with its message, and is kept for the caller to raise again."""
    try:
        body()
        return AD_OK
    except BaseException as exc:  # noqa: B902 (KeyboardInterrupt too: it must not cross C)
        message = "%s: %s" % (type(exc).__name__, exc)
        set_pending_exception(exc, message)
        lib.ad_function_set_error(ctx, message.encode("utf-8", "replace"))
        return _status_for(exc)


def _forward(user_data, ctx, arrays, n_arrays, results, n_results):
    def body():
        f = _live[user_data]
        outputs = f._handing_over
        for i in range(n_results):
            results[i] = _new_handle(lib.ad_array_detach, outputs[i]._handle)
        kept = [t for t in f._saved if isinstance(t, NDArray)]
        if kept:
            check(lib.ad_function_save(ctx, (ctypes.c_void_p * len(kept))(*[t._handle for t in kept]), len(kept)))
    return _guarded(ctx, body)


def _saved_in_backward(f, ctx):
    """What `f` saved, with each NDArray as the library kept it (an input or an output keeps
    its place in the graph) and anything else as forward gave it."""
    count = ctypes.c_size_t()
    check(lib.ad_function_saved_count(ctx, ctypes.byref(count)))
    arrays = []
    for i in range(count.value):
        out = ctypes.c_void_p()
        check(lib.ad_function_saved(ctx, i, ctypes.byref(out)))
        arrays.append(NDArray(out))
    arrays = iter(arrays)
    return tuple(next(arrays) if isinstance(t, NDArray) else t for t in f._saved)


def _backward(user_data, ctx, arrays, n_arrays, results, n_results):
    def body():
        f = _live[user_data]
        grads = [NDArray(ctypes.c_void_p(_new_handle(lib.ad_array_share, arrays[i]))) for i in range(n_arrays)]
        stack = _in_backward.__dict__.setdefault("stack", [])
        stack.append((f, _saved_in_backward(f, ctx)))
        try:
            returned = f.backward(*grads)
        finally:
            stack.pop()
        if not isinstance(returned, (list, tuple)):
            returned = (returned,)
        if len(returned) != n_results:
            raise ADValueError("%s.backward returned %d gradients for the %d inputs of forward"
                               % (f._name, len(returned), n_results))
        for i, g in enumerate(returned):
            if g is not None:
                g = _as_ndarray(g, f._input_dtypes[i], "gradient %d of %s.backward" % (i, f._name))
                results[i] = _new_handle(lib.ad_array_share, g._handle)
    return _guarded(ctx, body)


def _destroy(user_data, live=_live, lock=_live_lock):
    # Bound at definition: a graph may be freed during the interpreter's exit, after this
    # module's globals are gone.
    with lock:
        live.pop(user_data, None)


# The callbacks the library calls, for every Function (their user data says which).
_CALLBACKS = immortal(FunctionCallbacks(FUNCTION_CALLBACKS_VERSION, CALLBACK(_forward), CALLBACK(_backward), DESTROY(_destroy)))


class Function:
    """A differentiable function whose forward and backward are your code, as MXNet's
    `autograd.Function`: subclass it, define `forward` and `backward`, and call an instance
    on NDArrays, once.

    `forward(*inputs)` gets the input NDArrays and returns an NDArray or a tuple of them (it
    runs with recording off; it may compute with numpy and return numpy arrays);
    `backward(*output_grads)` gets one gradient per output and returns one gradient per
    input, an NDArray (or numpy array) of the input's shape, or None where the input gets no
    gradient. `save_for_backward` keeps what backward needs, read back as `saved_tensors`.

    A backward written with ad's ops is itself differentiable: `autograd.grad` with
    ``create_graph=True`` through a Function gives second derivatives (MXNet's does not).
    For those, save inputs and outputs: any other array forward computed is a constant to
    the second derivative (compute it again in backward from a saved input instead).
    An exception raised in forward or backward is raised again by the call that ran it.

    Example::

        class sigmoid(autograd.Function):
            def forward(self, x):
                y = 1 / (1 + nd.exp(-x))
                self.save_for_backward(y)
                return y

            def backward(self, dy):
                y, = self.saved_tensors
                return dy * y * (1 - y)

        with autograd.record():
            y = sigmoid()(x)
    """

    def __init__(self):
        self._used = False
        self._saved = ()

    def forward(self, *inputs):
        """The outputs for `inputs`; define it in a subclass."""
        raise NotImplementedError("%s.forward is not defined" % type(self).__name__)

    def backward(self, *output_grads):
        """The inputs' gradients for the outputs' gradients; define it in a subclass."""
        raise NotImplementedError("%s.backward is not defined" % type(self).__name__)

    def save_for_backward(self, *args):
        """Keeps `args` (NDArrays, or any other values) for backward, as `saved_tensors`."""
        self._saved = args

    @property
    def saved_tensors(self):
        """What forward gave to `save_for_backward`, as a tuple."""
        for f, saved in reversed(getattr(_in_backward, "stack", ())):
            if f is self:
                return saved
        return self._saved

    @property
    def _name(self):
        return type(self).__name__

    def __call__(self, *inputs):
        # __init__ may not have run in a subclass that forgot super().__init__()
        if getattr(self, "_used", False):
            raise ADRuntimeError("%s: each Function instance can be called only once; make another instance" % self._name)
        self._used = True
        self._saved = getattr(self, "_saved", ())
        for i, x in enumerate(inputs):
            if not isinstance(x, NDArray):
                raise TypeError("%s: input %d must be an NDArray; got %s" % (self._name, i, type(x).__name__))
        if not inputs:
            raise ADValueError("%s: a Function takes at least one input array" % self._name)
        recording = bool(lib.ad_is_recording())
        prev = ctypes.c_bool()
        check(lib.ad_set_recording(False, ctypes.byref(prev)))
        try:
            returned = self.forward(*inputs)
        finally:
            check(lib.ad_set_recording(recording, ctypes.byref(prev)))
        single = not isinstance(returned, (list, tuple))
        outputs = [returned] if single else list(returned)
        if not outputs:
            raise ADValueError("%s.forward returned no outputs" % self._name)
        dtype = np.dtype(inputs[0].dtype)
        outputs = [_as_ndarray(o, dtype, "output %d of %s.forward" % (i, self._name)) for i, o in enumerate(outputs)]
        if recording:
            outputs = self._record(inputs, outputs)
        if single:
            return outputs[0]
        return tuple(outputs) if isinstance(returned, tuple) else outputs

    def _record(self, inputs, outputs):
        """The outputs as the library gives them back from recording this call."""
        self._input_dtypes = [x.dtype for x in inputs]
        self._handing_over = outputs
        with _live_lock:
            key = next(_keys)
            _live[key] = self
        fn = ctypes.c_void_p()
        status = lib.ad_function_new(self._name.encode("utf-8", "replace"), ctypes.byref(_CALLBACKS), key, ctypes.byref(fn))
        if status:
            _destroy(key)     # not taken by the library
            check(status)
        try:
            handles = (ctypes.c_void_p * len(inputs))(*[x._handle for x in inputs])
            out = (ctypes.c_void_p * len(outputs))()
            check(lib.ad_function_apply(fn, handles, len(inputs), out, len(outputs)))
        finally:
            self._handing_over = None
            check(lib.ad_function_free(fn))
        return [NDArray(ctypes.c_void_p(h)) for h in out]


class function:
    """A differentiable function from two plain functions, the decorator form of `Function`:

        @autograd.function
        def cube(x):
            return x * x * x

        @cube.backward
        def cube(x, y, dy):          # the inputs, the outputs, the outputs' gradients
            return 3 * x * x * dy

    The forward function takes NDArrays and returns an NDArray or a tuple of them; the
    backward function gets the inputs, then the outputs, then one gradient per output, and
    returns one gradient per input (None for none), as `Function.backward` does. Calling the
    decorated name applies the function (once per call, any number of calls)."""

    def __init__(self, forward):
        self._forward = forward
        self._backward = None
        self.__name__ = getattr(forward, "__name__", "function")
        self.__doc__ = getattr(forward, "__doc__", None)

    def backward(self, backward):
        """Sets the backward function (used as a decorator); returns this function."""
        self._backward = backward
        return self

    def __call__(self, *inputs):
        if self._backward is None:
            raise ADRuntimeError("function %s has no backward: define it with @%s.backward" % (self.__name__, self.__name__))
        spec = self

        class Call(Function):
            def forward(self, *xs):
                ys = spec._forward(*xs)
                single = not isinstance(ys, (list, tuple))
                ys = [_as_ndarray(y, np.dtype(xs[0].dtype), "output %d of %s" % (i, spec.__name__))
                      for i, y in enumerate([ys] if single else ys)]
                self.save_for_backward(*xs, *ys)
                return ys[0] if single else tuple(ys)

            def backward(self, *dys):
                return spec._backward(*self.saved_tensors, *dys)

        Call.__name__ = Call.__qualname__ = self.__name__
        return Call()(*inputs)
