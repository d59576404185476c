"""MXNet's `nd` namespace: array creation and the array functions. The functions of the op
table (ad/_ops.py) are made at the end of this module."""
from .. import _ops
from .._helpers import as_shape, dtype_code, handle, into, is_scalar
from .._lib import lib, sizes
from ..context import check_ctx
from ..ndarray import NDArray, _call_new, _check_ord, _reduce, array
from . import random
from ._nn import *  # noqa: F401,F403  (the neural-network functions)
from ._nn import __all__ as _nn_all

_OWN = [
    "NDArray", "array", "arange", "zeros", "ones", "full", "zeros_like", "ones_like", "empty", "dot",
    "transpose", "reshape", "broadcast_to", "waitall", "random",
]


def arange(start, stop=None, step=1.0, repeat=1, ctx=None, dtype=None):
    """`start, start + step, ...` up to `stop` (or `0, 1, ...` up to `start` alone), each value
    repeated `repeat` times; float32 unless `dtype` says otherwise."""
    check_ctx(ctx)
    if stop is None:
        start, stop = 0, start
    out = _call_new(lib.ad_array_arange, float(start), float(stop), float(step), dtype_code(dtype))
    if repeat != 1:
        n = out.shape[0]
        out = out.reshape(n, 1).broadcast_to((n, int(repeat))).reshape(-1)
    return out


def full(shape, val, ctx=None, dtype=None):
    check_ctx(ctx)
    shape = as_shape(shape)
    return _call_new(lib.ad_array_full, sizes(shape), len(shape), float(val), dtype_code(dtype))


def zeros(shape, ctx=None, dtype=None):
    check_ctx(ctx)
    shape = as_shape(shape)
    return _call_new(lib.ad_array_zeros, sizes(shape), len(shape), dtype_code(dtype))


def ones(shape, ctx=None, dtype=None):
    check_ctx(ctx)
    shape = as_shape(shape)
    return _call_new(lib.ad_array_ones, sizes(shape), len(shape), dtype_code(dtype))


def empty(shape, ctx=None, dtype=None):
    return zeros(shape, ctx, dtype)


def zeros_like(x, dtype=None):
    handle(x, "x")
    return zeros(x.shape, dtype=x.dtype if dtype is None else dtype)


def ones_like(x, dtype=None):
    handle(x, "x")
    return ones(x.shape, dtype=x.dtype if dtype is None else dtype)


def dot(lhs, rhs, transpose_a=False, transpose_b=False, out=None):
    return into(out, _call_new(lib.ad_dot, handle(lhs, "lhs"), handle(rhs, "rhs"),
                               bool(transpose_a), bool(transpose_b)))


def transpose(data, axes=None, out=None):
    handle(data, "data")
    return into(out, data.transpose(axes))


def reshape(data, shape, out=None):
    handle(data, "data")
    return into(out, data.reshape(shape))


def broadcast_to(data, shape, out=None):
    handle(data, "data")
    return into(out, data.broadcast_to(shape))


def waitall():
    """Kept for MXNet scripts: ad computes synchronously, so there is nothing to wait for."""


# ---------------------------------------------------------------- the op table's functions
def _unary(fn):
    def function(data, out=None):
        return into(out, _call_new(fn, handle(data, "data")))
    return function


def _binary(fn, scalar_fn, rscalar_fn, numbers_fn):
    def function(lhs, rhs, out=None):
        if isinstance(lhs, NDArray) and isinstance(rhs, NDArray):
            result = _call_new(fn, lhs._handle, rhs._handle)
        elif isinstance(lhs, NDArray) and is_scalar(rhs):
            result = _call_new(scalar_fn, lhs._handle, float(rhs))
        elif is_scalar(lhs) and isinstance(rhs, NDArray):
            result = _call_new(rscalar_fn, rhs._handle, float(lhs))
        elif is_scalar(lhs) and is_scalar(rhs):
            result = numbers_fn(lhs, rhs)  # as MXNet: two numbers give a number
        else:
            raise TypeError("operands must be NDArrays or numbers; got %s and %s" % (type(lhs).__name__, type(rhs).__name__))
        return into(out, result)
    return function


def _reduction(fn):
    def function(data, axis=None, keepdims=False, out=None):
        return into(out, _reduce(handle(data, "data"), fn, axis, keepdims))
    return function


def _norm(fn):
    def function(data, ord=2, axis=None, keepdims=False, out=None):
        h = handle(data, "data")
        _check_ord(ord)
        return into(out, _reduce(h, fn, axis, keepdims))
    return function


def _function(op):
    """The function `nd.<op.name>` of an op of the table."""
    if op.kind == _ops.UNARY:
        function = _unary(getattr(lib, op.c))
    elif op.kind == _ops.BINARY:
        function = _binary(getattr(lib, op.c), getattr(lib, op.scalar), getattr(lib, op.rscalar), op.numbers)
    elif op.kind == _ops.REDUCE:
        function = _reduction(getattr(lib, op.c))
    else:
        function = _norm(getattr(lib, op.c))
    function.__name__ = function.__qualname__ = op.name
    function.__module__ = __name__
    function.__doc__ = _ops.nd_doc(op)
    return function


_TABLE = [op.name for op in _ops.OPS if op.kind != _ops.COMPARE]
for _op in _ops.OPS:
    if _op.kind != _ops.COMPARE:
        globals()[_op.name] = _function(_op)

__all__ = _OWN + _TABLE + _nn_all
