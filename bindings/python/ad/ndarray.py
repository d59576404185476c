"""NDArray: a handle on an array of the ad library, with MXNet's `nd.NDArray` behaviour.

The handle lives in the C base class `ad._ext.ArrayBase`, which frees it with the object and
implements the per-op path (arithmetic and comparisons with arrays and Python numbers, `shape`,
`dtype`, `grad`, `asscalar`, argument-less `sum`/`mean`/`norm`, `backward()`); every other
form of those calls runs the Python code registered at the end of this module."""
import ctypes
import numbers

import numpy as np

from . import _ext, _lib
from ._lib import check, int64s, lib, sizes
from .context import Context, check_ctx, cpu
from .errors import ADIndexError, ADValueError, raise_for_status

FLOAT32, FLOAT64 = 0, 1
_DTYPE_CODE = {np.dtype(np.float32): FLOAT32, np.dtype(np.float64): FLOAT64}
_CODE_TYPE = {FLOAT32: np.float32, FLOAT64: np.float64}
_GRAD_REQ = {"null": 0, "write": 1, "add": 3}


def dtype_code(dtype):
    """The library's code for a dtype given as numpy dtype, type or name; float32 for None."""
    if dtype is None:
        return FLOAT32
    try:
        return _DTYPE_CODE[np.dtype(dtype)]
    except (KeyError, TypeError):
        raise ADValueError("ad arrays hold float32 or float64; got dtype %r" % (dtype,)) from None


def _call_new(fn, *args):
    """Calls a C function whose last argument is an `ad_array **out`; wraps the result."""
    out = ctypes.c_void_p()
    check(fn(*args, ctypes.byref(out)))
    return NDArray(out)


def _is_scalar(x):
    return isinstance(x, numbers.Real) or (isinstance(x, np.ndarray) and x.ndim == 0)


class NDArray(_ext.ArrayBase):
    """An n-dimensional array. Arithmetic broadcasts like NumPy; inside `autograd.record()`
    operations on arrays with `attach_grad` are recorded for `backward`.

    `NDArray(handle)` takes ownership of a library handle (an int or ctypes.c_void_p) and
    frees it with the object. `shape`, `dtype`, `grad`, `asscalar`, the arithmetic and
    comparison operators, and `sum`/`mean`/`norm`/`backward` come from `ad._ext.ArrayBase`."""

    # weak references are supported by the base class
    __slots__ = ()
    # Take precedence over numpy in mixed expressions (np.float32(2) * x).
    __array_priority__ = 1000.0

    # ---------------------------------------------------------------- properties
    @property
    def handle(self):
        """The library's handle, as a ctypes.c_void_p (`_handle` is the same as an int)."""
        return ctypes.c_void_p(self._handle)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def context(self):
        return cpu()

    ctx = context

    @property
    def stype(self):
        return "default"

    @property
    def T(self):
        return self.transpose()

    # ---------------------------------------------------------------- data
    def asnumpy(self):
        a = np.empty(self.shape, dtype=self.dtype)
        check(lib.ad_array_read(self._handle, dtype_code(a.dtype), a.ctypes.data_as(ctypes.c_void_p), a.size))
        return a

    def __array__(self, dtype=None):
        a = self.asnumpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __float__(self):
        return float(self.asscalar())

    def __int__(self):
        return int(self.asscalar())

    def __bool__(self):
        size = self.size
        if size == 0:
            return False
        if size == 1:
            return bool(self.asscalar())
        raise ADValueError("The truth value of an NDArray with multiple elements is ambiguous.")

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d NDArray")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        n = ctypes.c_size_t()
        check(lib.ad_array_to_string(self._handle, None, 0, ctypes.byref(n)))
        buf = ctypes.create_string_buffer(n.value + 1)
        check(lib.ad_array_to_string(self._handle, buf, n.value + 1, None))
        return buf.value.decode()

    __str__ = __repr__

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape, **kwargs):
        if "shape" in kwargs:
            shape = kwargs.pop("shape")
        if kwargs:
            raise TypeError("reshape got unexpected keyword arguments %s" % sorted(kwargs))
        if isinstance(shape, numbers.Integral):
            shape = (shape,)
        elif len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return _call_new(lib.ad_array_reshape, self._handle, int64s(shape), len(shape))

    def transpose(self, *axes, **kwargs):
        if "axes" in kwargs:
            axes = kwargs.pop("axes")
        if kwargs:
            raise TypeError("transpose got unexpected keyword arguments %s" % sorted(kwargs))
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0] or ()
        return _call_new(lib.ad_array_transpose, self._handle, int64s(axes, "axes"), len(axes))

    def broadcast_to(self, shape):
        shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        return _call_new(lib.ad_array_broadcast_to, self._handle, sizes(shape), len(shape))

    def flatten(self):
        """A matrix: the first axis kept, the rest flattened ((N,) gives (N, 1), as MXNet)."""
        return _call_new(lib.ad_flatten, self._handle)

    # Fluent forms of the nd functions, as MXNet's NDArray has them.
    def exp(self):
        return _call_new(lib.ad_exp, self._handle)

    def log(self):
        return _call_new(lib.ad_log, self._handle)

    def sqrt(self):
        return _call_new(lib.ad_sqrt, self._handle)

    def square(self):
        return _call_new(lib.ad_square, self._handle)

    def abs(self):
        return _call_new(lib.ad_abs, self._handle)

    def relu(self):
        return _call_new(lib.ad_relu, self._handle)

    def sigmoid(self):
        return _call_new(lib.ad_sigmoid, self._handle)

    def tanh(self):
        return _call_new(lib.ad_tanh, self._handle)

    def argmax(self, axis=None, keepdims=False):
        from .nd import argmax
        return argmax(self, axis, keepdims)

    def argmin(self, axis=None, keepdims=False):
        from .nd import argmin
        return argmin(self, axis, keepdims)

    def clip(self, a_min, a_max):
        from .nd import clip
        return clip(self, a_min, a_max)

    def softmax(self, axis=-1):
        from .nd import softmax
        return softmax(self, axis)

    def log_softmax(self, axis=-1):
        from .nd import log_softmax
        return log_softmax(self, axis)

    def one_hot(self, depth, on_value=1.0, off_value=0.0, dtype="float32"):
        from .nd import one_hot
        return one_hot(self, depth, on_value, off_value, dtype)

    def astype(self, dtype, copy=True):
        code = dtype_code(dtype)
        if code == dtype_code(self.dtype):
            return self.copy() if copy else self
        return _call_new(lib.ad_array_astype, self._handle, code)

    def copy(self):
        return _call_new(lib.ad_array_copy, self._handle)

    def copyto(self, other):
        if isinstance(other, NDArray):
            other[:] = self
            return other
        if not isinstance(other, Context):
            raise TypeError("copyto takes an NDArray or a Context; got %s" % type(other).__name__)
        check_ctx(other)
        return self.copy()

    def as_in_context(self, ctx):
        check_ctx(ctx)
        return self

    def detach(self):
        return _call_new(lib.ad_array_detach, self._handle)

    # ---------------------------------------------------------------- reductions
    def _reduce(self, fn, axis, keepdims):
        if axis is None:
            return _call_new(fn, self._handle, None, 0, bool(keepdims))
        elif isinstance(axis, (tuple, list)):
            axes = tuple(axis)  # MXNet: an empty tuple, like None, reduces over all axes
        else:
            axes = (axis,)
        return _call_new(fn, self._handle, int64s(axes, "axis"), len(axes), bool(keepdims))

    def max(self, axis=None, keepdims=False, *, axes=None):
        return self._reduce(lib.ad_max, _one_of(axis, axes, "max"), keepdims)

    def min(self, axis=None, keepdims=False, *, axes=None):
        return self._reduce(lib.ad_min, _one_of(axis, axes, "min"), keepdims)

    # ---------------------------------------------------------------- autograd
    def attach_grad(self, grad_req="write", stype=None):
        if stype not in (None, "default"):
            raise ADValueError("attach_grad: ad's gradients are dense; got stype=%r" % (stype,))
        if grad_req not in _GRAD_REQ:
            raise ADValueError("grad_req must be 'write', 'add' or 'null'; got %r" % (grad_req,))
        check(lib.ad_array_attach_grad(self._handle, _GRAD_REQ[grad_req]))

    def retain_grad(self):
        """Fill this intermediate's `.grad` in backward while gradients flow on through it."""
        check(lib.ad_array_retain_grad(self._handle))

    # ---------------------------------------------------------------- indexing
    def _index(self, key):
        """The ad_index entries for a basic index (a C array) and their count."""
        if not isinstance(key, tuple):
            key = (key,)
        if any(k is Ellipsis for k in key):
            i = key.index(Ellipsis)
            fill = self.ndim - (len(key) - 1)
            key = key[:i] + (slice(None),) * fill + key[i + 1:]
        if len(key) > self.ndim:
            raise ADIndexError("too many indices (%d) for an array of shape %s" % (len(key), self.shape))
        entries = []
        for axis, k in enumerate(key):
            if isinstance(k, slice):
                start, stop, step = k.indices(self.shape[axis])
                entries.append(_lib.index(start, stop, step))
            elif isinstance(k, (numbers.Integral, np.integer)):
                entries.append(_lib.index(int(k), 0, 0))
            elif isinstance(k, NDArray) and k.size == 1:
                entries.append(_lib.index(int(k.asscalar()), 0, 0))
            else:
                raise TypeError("ad supports basic indexing (integers, slices, ...); got %r" % (k,))
        # The library makes a view for indexing along the first axis alone, and takes trailing
        # axes whole: dropping trailing whole-axis slices keeps `x[1:3, :]`, `x[1, ...]` and
        # `x[:, :]` views, as `x[1:3]`, `x[1]` and `x[:]` are (as in MXNet); `x[...]` and
        # `x[()]` become `x[:]`.
        if not entries and self.ndim:
            entries.append(_lib.index(0, self.shape[0], 1))
        while len(entries) > 1 and entries[-1].step == 1 and entries[-1].start == 0 and \
                entries[-1].stop == self.shape[len(entries) - 1]:
            entries.pop()
        return (_lib.Index * max(len(entries), 1))(*entries), len(entries)

    def __getitem__(self, key):
        index, n = self._index(key)
        out = _call_new(lib.ad_array_slice, self._handle, index, n)
        if out.ndim == 0:
            # MXNet's nd has no 0-d results: an element comes back with shape (1,).
            out = out.reshape(1)
        return out

    def __setitem__(self, key, value):
        index, n = self._index(key)
        if not isinstance(value, NDArray):
            value = array(value, dtype=self.dtype)
        check(lib.ad_array_write_slice(self._handle, index, n, value._handle))

    # ---------------------------------------------------------------- arithmetic
    def _binary(self, other, fn, scalar_fn):
        if isinstance(other, NDArray):
            return _call_new(fn, self._handle, other._handle)
        if _is_scalar(other):
            return _call_new(scalar_fn, self._handle, float(other))
        if isinstance(other, (np.ndarray, list, tuple)):
            return self._binary(array(other, dtype=self.dtype), fn, scalar_fn)
        return NotImplemented

    def _rscalar(self, other, scalar_fn):
        if _is_scalar(other):
            return _call_new(scalar_fn, self._handle, float(other))
        return NotImplemented

    # MXNet's Python 2 names
    __div__ = _ext.ArrayBase.__truediv__
    __rdiv__ = _ext.ArrayBase.__rtruediv__
    __idiv__ = _ext.ArrayBase.__itruediv__

    def __pos__(self):
        return self

    def __abs__(self):
        return _call_new(lib.ad_abs, self._handle)

    def _compare(self, other, code):
        if isinstance(other, NDArray):
            return _call_new(lib.ad_compare, self._handle, other._handle, code)
        if _is_scalar(other):
            return _call_new(lib.ad_compare_scalar, self._handle, float(other), code)
        if isinstance(other, (np.ndarray, list, tuple)):
            return self._compare(array(other, dtype=self.dtype), code)
        return NotImplemented


def array(source, ctx=None, dtype=None):
    """An array with a copy of `source` (nested lists, a numpy array, or an NDArray).
    As in MXNet the dtype is float32 unless `dtype` says otherwise, even for float64 or
    integer input; an NDArray keeps its own dtype. A Python or NumPy scalar gives a 0-d array
    (shape `()`), as in MXNet."""
    check_ctx(ctx)
    if isinstance(source, NDArray):
        return source.astype(source.dtype if dtype is None else dtype)
    code = dtype_code(dtype)
    a = np.array(source, dtype=_CODE_TYPE[code], order="C")
    return _call_new(lib.ad_array_create, a.ctypes.data_as(ctypes.c_void_p), sizes(a.shape), a.ndim, code)


# ---------------------------------------------------------------- the C part's other forms
def _one_of(axis, axes, name):
    """`axis`, or `axes`, its other name."""
    if axes is None:
        return axis
    if axis is not None:
        raise TypeError("%s() takes `axis` or `axes`, not both" % name)
    return axes


def _sum(self, axis=None, keepdims=False, *, axes=None):
    return self._reduce(lib.ad_sum, _one_of(axis, axes, "sum"), keepdims)


def _mean(self, axis=None, keepdims=False, *, axes=None):
    return self._reduce(lib.ad_mean, _one_of(axis, axes, "mean"), keepdims)


def _norm(self, ord=2, axis=None, keepdims=False):
    if ord != 2:
        raise ADValueError("norm supports ord=2 only; got ord=%r" % (ord,))
    return self._reduce(lib.ad_norm, axis, keepdims)


def _backward(self, out_grad=None, retain_graph=False, train_mode=True):
    from .autograd import backward
    backward([self], None if out_grad is None else [out_grad], retain_graph, train_mode)


def _operator_forms():
    """The Python code for operands the C slots leave alone (numpy scalars and arrays, lists,
    bools): `x <op> other` and the reflected `other <op> x`, keyed by the operator's name."""
    forms = {}
    for name, fn, scalar_fn, rscalar_fn in (
            ("add", lib.ad_add, lib.ad_add_scalar, lib.ad_add_scalar),
            ("sub", lib.ad_sub, lib.ad_sub_scalar, lib.ad_rsub_scalar),
            ("mul", lib.ad_mul, lib.ad_mul_scalar, lib.ad_mul_scalar),
            ("truediv", lib.ad_div, lib.ad_div_scalar, lib.ad_rdiv_scalar),
            ("pow", lib.ad_pow, lib.ad_pow_scalar, lib.ad_rpow_scalar)):
        forms[name] = lambda self, other, fn=fn, s=scalar_fn: self._binary(other, fn, s)
        forms["r" + name] = lambda self, other, s=rscalar_fn: self._rscalar(other, s)
    return forms


_ext.register(NDArray, raise_for_status, np.float32, np.float64,
              dict(_operator_forms(), compare=NDArray._compare, sum=_sum, mean=_mean, norm=_norm,
                   backward=_backward))
