"""MXNet's `nd` namespace: array creation and the array functions."""
import operator

import numpy as np

from .._lib import lib, sizes
from ..context import check_ctx
from ..ndarray import NDArray, _call_new, _is_scalar, array, dtype_code
from . import random
from ._nn import *  # noqa: F401,F403  (the neural-network functions)
from ._nn import __all__ as _nn_all

__all__ = [
    "NDArray", "array", "arange", "zeros", "ones", "full", "zeros_like", "ones_like", "empty",
    "dot", "exp", "log", "sqrt", "abs", "square", "relu", "sigmoid", "tanh", "negative",
    "maximum", "minimum", "sum", "mean", "max", "min", "norm", "transpose", "reshape",
    "broadcast_to", "waitall", "random", "add", "subtract", "multiply", "divide", "power",
] + _nn_all


def _shape(shape):
    return (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)


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
    shape = _shape(shape)
    return _call_new(lib.ad_array_full, sizes(shape), len(shape), float(val), dtype_code(dtype))


def zeros(shape, ctx=None, dtype=None):
    check_ctx(ctx)
    shape = _shape(shape)
    return _call_new(lib.ad_array_zeros, sizes(shape), len(shape), dtype_code(dtype))


def ones(shape, ctx=None, dtype=None):
    check_ctx(ctx)
    shape = _shape(shape)
    return _call_new(lib.ad_array_ones, sizes(shape), len(shape), dtype_code(dtype))


empty = zeros


def zeros_like(x, dtype=None):
    _array_arg(x, "x")
    return zeros(x.shape, dtype=x.dtype if dtype is None else dtype)


def ones_like(x, dtype=None):
    _array_arg(x, "x")
    return ones(x.shape, dtype=x.dtype if dtype is None else dtype)


def _array_arg(x, name):
    if not isinstance(x, NDArray):
        raise TypeError("%s must be an NDArray; got %s" % (name, type(x).__name__))
    return x._handle


def _unary(fn):
    def op(data, out=None):
        result = _call_new(fn, _array_arg(data, "data"))
        return _into(out, result)
    return op


def _into(out, result):
    """MXNet's `out=` keyword: write the result into `out` in place and return it."""
    if out is None:
        return result
    out[:] = result
    return out


exp = _unary(lib.ad_exp)
log = _unary(lib.ad_log)
sqrt = _unary(lib.ad_sqrt)
abs = _unary(lib.ad_abs)
square = _unary(lib.ad_square)
relu = _unary(lib.ad_relu)
sigmoid = _unary(lib.ad_sigmoid)
tanh = _unary(lib.ad_tanh)
negative = _unary(lib.ad_neg)


def _binary(fn, scalar_fn, rscalar_fn, python_fn):
    def op(lhs, rhs, out=None):
        if isinstance(lhs, NDArray) and isinstance(rhs, NDArray):
            result = _call_new(fn, lhs._handle, rhs._handle)
        elif isinstance(lhs, NDArray) and _is_scalar(rhs):
            result = _call_new(scalar_fn, lhs._handle, float(rhs))
        elif _is_scalar(lhs) and isinstance(rhs, NDArray):
            result = _call_new(rscalar_fn, rhs._handle, float(lhs))
        elif _is_scalar(lhs) and _is_scalar(rhs):
            result = python_fn(lhs, rhs)  # as MXNet: two numbers give a number
        else:
            raise TypeError("operands must be NDArrays or numbers; got %s and %s" % (type(lhs).__name__, type(rhs).__name__))
        return _into(out, result)
    return op


add = _binary(lib.ad_add, lib.ad_add_scalar, lib.ad_add_scalar, operator.add)
subtract = _binary(lib.ad_sub, lib.ad_sub_scalar, lib.ad_rsub_scalar, operator.sub)
multiply = _binary(lib.ad_mul, lib.ad_mul_scalar, lib.ad_mul_scalar, operator.mul)
divide = _binary(lib.ad_div, lib.ad_div_scalar, lib.ad_rdiv_scalar, operator.truediv)
power = _binary(lib.ad_pow, lib.ad_pow_scalar, lib.ad_rpow_scalar, operator.pow)
maximum = _binary(lib.ad_maximum, lib.ad_maximum_scalar, lib.ad_maximum_scalar, lambda a, b: a if a > b else b)
minimum = _binary(lib.ad_minimum, lib.ad_minimum_scalar, lib.ad_minimum_scalar, lambda a, b: a if a < b else b)


def dot(lhs, rhs, transpose_a=False, transpose_b=False, out=None):
    return _into(out, _call_new(lib.ad_dot, _array_arg(lhs, "lhs"), _array_arg(rhs, "rhs"),
                                bool(transpose_a), bool(transpose_b)))


def sum(data, axis=None, keepdims=False, out=None):
    return _into(out, data.sum(axis, keepdims))


def mean(data, axis=None, keepdims=False, out=None):
    return _into(out, data.mean(axis, keepdims))


def max(data, axis=None, keepdims=False, out=None):
    return _into(out, data.max(axis, keepdims))


def min(data, axis=None, keepdims=False, out=None):
    return _into(out, data.min(axis, keepdims))


def norm(data, ord=2, axis=None, keepdims=False, out=None):
    return _into(out, data.norm(ord, axis, keepdims))


def transpose(data, axes=None, out=None):
    _array_arg(data, "data")
    return _into(out, data.transpose(axes))


def reshape(data, shape, out=None):
    _array_arg(data, "data")
    return _into(out, data.reshape(shape))


def broadcast_to(data, shape, out=None):
    _array_arg(data, "data")
    return _into(out, data.broadcast_to(shape))


def waitall():
    """Kept for MXNet scripts: ad computes synchronously, so there is nothing to wait for."""
