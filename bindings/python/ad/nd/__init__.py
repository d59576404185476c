"""MXNet's `nd` namespace: array creation and the array functions. The functions of the op
table (ad/_ops.py) are made at the end of this module."""
from .. import _ops
from .._helpers import as_shape, dtype_code, handle, into, is_scalar
from .._lib import check as _lib_check, lib, sizes
from ..context import check_ctx
from ..ndarray import NDArray, _call_new, _check_ord, _reduce, array
from . import random
from .random import _legacy_normal as random_normal, _legacy_uniform as random_uniform
from .random import _legacy_exponential as random_exponential, _legacy_gamma as random_gamma
from .random import _legacy_poisson as random_poisson, _legacy_randint as random_randint
from .random import _legacy_shuffle as shuffle

# MXNet's older names of its random operators, in nd itself: random_normal and normal,
# random_uniform and uniform, random_exponential (which takes the rate), random_gamma,
# random_poisson, random_randint, shuffle (the operators' argument order; see nd.random).
normal, uniform = random_normal, random_uniform
from ._nn import *  # noqa: F401,F403  (the neural-network functions)
from ._nn import __all__ as _nn_all
from ._shape import *  # noqa: F401,F403  (the creation and shape functions)
from ._shape import __all__ as _shape_all
from ._checkpoints import load, save
from ._dlpack import from_dlpack, to_dlpack_for_read, to_dlpack_for_write

_OWN = [
    "NDArray", "array", "arange", "zeros", "ones", "full", "empty", "dot", "batch_dot", "transpose", "broadcast_to",
    "waitall", "random", "random_normal", "random_uniform", "normal", "uniform", "random_exponential",
    "random_gamma", "random_poisson", "random_randint", "shuffle",
]

_SHAPE = """shape : int or tuple of int
    The shape of the array."""
_CTX = """ctx : Context, optional
    The device; only the CPU (None, the default, or ``cpu()``)."""
_DTYPE = """dtype : str or numpy.dtype, optional
    float32 (None, the default) or float64."""
_OUT = """out : NDArray, optional
    An array to write the result into, in place; it is returned instead of a new array."""


def _doc(text, **sections):
    """`text` with the shared parameter descriptions filled in."""
    return text.format(SHAPE=_SHAPE, CTX=_CTX, DTYPE=_DTYPE, OUT=_OUT, **sections)


def arange(start, stop=None, step=1.0, repeat=1, ctx=None, dtype=None):
    check_ctx(ctx)
    if stop is None:
        start, stop = 0, start
    out = _call_new(lib.ad_array_arange, float(start), float(stop), float(step), dtype_code(dtype))
    if repeat != 1:
        n = out.shape[0]
        out = out.reshape(n, 1).broadcast_to((n, int(repeat))).reshape(-1)
    return out


arange.__doc__ = _doc("""Evenly spaced values in the half-open interval [start, stop), as Python's
`range` and NumPy's `arange` give them.

Parameters
----------
start : number
    The first value; with `stop` left out, the end of the interval, which then starts at 0.
stop : number, optional
    The end of the interval, excluded.
step : number, optional
    The spacing between values (default 1); not zero.
repeat : int, optional
    How many times each value is repeated (default 1).
{CTX}
{DTYPE}

Returns
-------
NDArray
    The 1-d array ``start, start + step, ...`` (each value `repeat` times).

MXNet's deprecated `infer_range` argument is not supported.
""")


def full(shape, val, ctx=None, dtype=None, out=None):
    check_ctx(ctx)
    shape = as_shape(shape)
    return into(out, _call_new(lib.ad_array_full, sizes(shape), len(shape), float(val), dtype_code(dtype)))


full.__doc__ = _doc("""An array of the given shape with every element `val`.

Parameters
----------
{SHAPE}
val : number
    The value of every element (rounded to `dtype`).
{CTX}
{DTYPE}
{OUT}

Returns
-------
NDArray
    The new array, or `out`.
""")


def _check_stype(stype):
    """Refuses sparse storage: ad's arrays are dense."""
    if stype not in (None, "default"):
        raise NotImplementedError("stype=%r: ad's arrays are dense; sparse storage is not supported" % (stype,))


def zeros(shape, ctx=None, dtype=None, stype=None, out=None):
    check_ctx(ctx)
    _check_stype(stype)
    shape = as_shape(shape)
    return into(out, _call_new(lib.ad_array_zeros, sizes(shape), len(shape), dtype_code(dtype)))


zeros.__doc__ = _doc("""An array of the given shape filled with zeros.

Parameters
----------
{SHAPE}
{CTX}
{DTYPE}
stype : str, optional
    The storage type: None or 'default' (dense). ad's arrays are dense; MXNet's sparse
    types ('csr', 'row_sparse') raise NotImplementedError.
{OUT}

Returns
-------
NDArray
    The new array, or `out`.
""")


def ones(shape, ctx=None, dtype=None, out=None):
    check_ctx(ctx)
    shape = as_shape(shape)
    return into(out, _call_new(lib.ad_array_ones, sizes(shape), len(shape), dtype_code(dtype)))


ones.__doc__ = _doc("""An array of the given shape filled with ones.

Parameters
----------
{SHAPE}
{CTX}
{DTYPE}
{OUT}

Returns
-------
NDArray
    The new array, or `out`.
""")


def empty(shape, ctx=None, dtype=None, stype=None):
    return zeros(shape, ctx, dtype, stype)


empty.__doc__ = _doc("""An array of the given shape whose values the caller will overwrite. ad fills
it with zeros, where MXNet leaves it uninitialised.

Parameters
----------
{SHAPE}
{CTX}
{DTYPE}
stype : str, optional
    The storage type: None or 'default' (dense); sparse types raise NotImplementedError.

Returns
-------
NDArray
    The new array.
""")


def dot(lhs, rhs, transpose_a=False, transpose_b=False, out=None):
    return into(out, _call_new(lib.ad_dot, handle(lhs, "lhs"), handle(rhs, "rhs"),
                               bool(transpose_a), bool(transpose_b)))


dot.__doc__ = _doc("""The matrix product of 1-d and 2-d arrays: a 1-d `lhs` is a row vector, a
1-d `rhs` a column vector, and two 1-d arrays give their inner product with shape (1,).
When either has more than 2 axes, as MXNet: the sum product over the last axis of `lhs` and
the first of `rhs`, of shape ``lhs.shape[:-1] + rhs.shape[1:]``; `transpose_a` contracts the
first axis of `lhs` instead (result ``lhs.shape[1:] + ...``) and `transpose_b` the last of
`rhs` (``... + rhs.shape[:-1]``).

Parameters
----------
lhs : NDArray
    The first operand.
rhs : NDArray
    The second operand, of the same dtype.
transpose_a : bool, optional
    Use the transpose of `lhs` (default False); no copy is made.
transpose_b : bool, optional
    Use the transpose of `rhs` (default False); no copy is made.
{OUT}

Returns
-------
NDArray
    The product. MXNet's `forward_stype` argument is not supported.
""")


def batch_dot(lhs, rhs, transpose_a=False, transpose_b=False, out=None):
    return into(out, _call_new(lib.ad_batch_dot, handle(lhs, "lhs"), handle(rhs, "rhs"),
                               bool(transpose_a), bool(transpose_b)))


batch_dot.__doc__ = _doc("""The matrix products of a batch of matrices: for arrays of 3 axes or more
with the same leading axes, (..., m, k) and (..., k, n) give (..., m, n), each matrix of
`lhs` by the matrix of `rhs` at the same position.

Parameters
----------
lhs : NDArray
    The first operand, of 3 axes or more.
rhs : NDArray
    The second operand, of the same dtype, number of axes and leading axes.
transpose_a : bool, optional
    Use the transpose of each matrix of `lhs` (default False); no copy is made.
transpose_b : bool, optional
    Use the transpose of each matrix of `rhs` (default False); no copy is made.
{OUT}

Returns
-------
NDArray
    The products. MXNet's `forward_stype` argument is not supported.
""")


def transpose(data, axes=None, out=None):
    handle(data, "data")
    return into(out, data.transpose(axes))


transpose.__doc__ = _doc("""The array with its axes permuted (a copy).

Parameters
----------
data : NDArray
    The input array.
axes : tuple of int, optional
    The new order of the axes (negative counts from the end); None, the default, reverses
    them.
{OUT}

Returns
-------
NDArray
    The permuted array.
""")


def broadcast_to(data, shape, out=None):
    handle(data, "data")
    return into(out, data.broadcast_to(shape))


broadcast_to.__doc__ = _doc("""The array repeated along its length-1 axes to `shape`, as NumPy
broadcasts.

Parameters
----------
data : NDArray
    The input array.
shape : int or tuple of int
    The shape of the result. Unlike MXNet, ad also adds missing leading axes, as NumPy does,
    and a 0 is a size of 0 where MXNet reads it as "keep this axis's size".
{OUT}

Returns
-------
NDArray
    A new array of the given shape.
""")


def waitall():
    """Waits until every operation issued so far has finished, as MXNet scripts call it
    before reading results or stopping a clock. ad computes each operation when it is called,
    except element-wise operations on arrays of 65,536 elements or more, which are fused and
    computed when a value is first needed: this computes those now (``ad_wait_all``)."""
    _lib_check(lib.ad_wait_all())


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
    def function(data, axis=None, keepdims=False, exclude=False, out=None):
        return into(out, _reduce(handle(data, "data"), fn, axis, keepdims, exclude))
    return function


def _norm(fn):
    def function(data, ord=2, axis=None, keepdims=False, out=None):
        h = handle(data, "data")
        return into(out, _reduce(h, _check_ord(ord, fn), axis, keepdims))
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

__all__ = _OWN + _TABLE + _nn_all + _shape_all + ["save", "load", "from_dlpack", "to_dlpack_for_read", "to_dlpack_for_write"]

from . import contrib  # noqa: E402  (after the table's functions, which it re-exports)
