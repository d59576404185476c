"""MXNet's creation and shape functions of `nd`, with MXNet's names, arguments and defaults:
arrays like another (`zeros_like`, `ones_like`, `full_like`), `linspace`, `eye`, `reshape` with
MXNet's codes, `reshape_like`, `squeeze`, `expand_dims`, `split`, `slice`, `take`,
`broadcast_like`, `moveaxis`, `swapaxes`, `flip` and `reverse`, `tile`, `repeat` and
`concatenate`; and the NDArray methods MXNet has for them (with `wait_to_read`, `tolist` and
the `@` operator). Like MXNet's, each function returns a new array, never a view on its input
(`NDArray.reshape` and the `inplace=True` forms of `squeeze` and `expand_dims` are views, as in
MXNet). Every one is differentiable, but the constants (`linspace`, `eye`) and those whose
gradient is zero (`zeros_like`, `ones_like`, `full_like`)."""
import builtins
import ctypes
import numbers
import operator

import numpy as np

from .. import _indexing
from .._helpers import dtype_code, handle, handles, into
from .._lib import check, int64s, lib, sizes
from ..context import check_ctx
from ..errors import ADValueError
from ..ndarray import NDArray, _call_new

__all__ = [
    "zeros_like", "ones_like", "full_like", "linspace", "eye", "reshape", "reshape_like", "squeeze",
    "expand_dims", "split", "slice", "take", "broadcast_like", "moveaxis", "swapaxes", "flip", "reverse",
    "tile", "repeat", "concatenate",
]

_SIZE_MAX = 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1

_OUT = """out : NDArray, optional
        An array to write the result into, in place; it is returned instead of a new array."""


def _count(value, name):
    """A count (size_t) from an integer, refusing a negative or too large one."""
    v = operator.index(value)
    if not 0 <= v <= _SIZE_MAX:
        raise ADValueError("argument `%s`: %d is negative or too large" % (name, v))
    return v


def _int(value, name):
    """An int64 from an integer, refusing one that does not fit."""
    return int64s([value], name)[0]


def _axes(axis):
    """An axis or a tuple of axes as a tuple."""
    return (axis,) if isinstance(axis, (numbers.Integral, np.integer)) else tuple(axis)


def _optional(value, name):
    """A nullable `const int64_t *` argument: None for NULL, else a pointer to the value."""
    return None if value is None else int64s([value], name)


# ---------------------------------------------------------------- arrays like another
def full_like(data, fill_value, dtype=None, out=None):
    h = handle(data, "data")
    code = dtype_code(data.dtype if dtype is None else dtype)
    return into(out, _call_new(lib.ad_full_like, h, float(fill_value), code))


full_like.__doc__ = """An array of the shape of `data` with every element `fill_value` (MXNet's
    `np.full_like`; its `nd` has none). Recorded with a zero gradient, as `zeros_like`.

    Parameters
    ----------
    data : NDArray
        The array whose shape is taken.
    fill_value : float
        The value of every element (rounded to the dtype).
    dtype : str or numpy.dtype, optional
        The result's dtype; by default that of `data`.
    %s

    Returns
    -------
    NDArray
        The new array.
    """ % _OUT


def zeros_like(data, dtype=None, out=None):
    return full_like(data, 0.0, dtype, out)


_LIKE_DOC = """An array of %s with the shape of `data`. Inside a record scope it is
    recorded with a zero gradient, as in MXNet.

    Parameters
    ----------
    data : NDArray
        The array whose shape is taken.
    dtype : str or numpy.dtype, optional
        The result's dtype; by default that of `data` (MXNet ignores this argument silently).
    %s

    Returns
    -------
    NDArray
        The new array.
    """

zeros_like.__doc__ = _LIKE_DOC % ("zeros", _OUT)


def ones_like(data, dtype=None, out=None):
    return full_like(data, 1.0, dtype, out)


ones_like.__doc__ = _LIKE_DOC % ("ones", _OUT)


# ---------------------------------------------------------------- linspace, eye
def linspace(start, stop, num, endpoint=True, ctx=None, dtype=np.float32):
    check_ctx(ctx)
    return _call_new(lib.ad_array_linspace, float(start), float(stop), _count(num, "num"), bool(endpoint),
                     dtype_code(dtype))


linspace.__doc__ = """`num` evenly spaced values from `start` to `stop`.

    Parameters
    ----------
    start : number
        The first value.
    stop : number
        The last value, when `endpoint`; otherwise the end of the interval, left out.
    num : int
        How many values (0 or more).
    endpoint : bool, optional
        Whether `stop` is the last value (default True).
    ctx : Context, optional
        The device; only the CPU (None, the default, or ``cpu()``).
    dtype : str or numpy.dtype, optional
        float32 (the default), float64, an integer dtype or bool. Value i is
        ``start + i * step`` computed in double precision and converted to it (rounded to a
        float type, truncated to an integer one), as in MXNet.

    Returns
    -------
    NDArray
        The 1-d array of `num` values.
    """


def eye(N, M=0, k=0, ctx=None, dtype=None):
    check_ctx(ctx)
    return _call_new(lib.ad_array_eye, _count(N, "N"), _count(M, "M"), _int(k, "k"), dtype_code(dtype))


eye.__doc__ = """A 2-d array with ones on a diagonal and zeros elsewhere.

    Parameters
    ----------
    N : int
        The number of rows.
    M : int, optional
        The number of columns; 0 (the default) makes it N.
    k : int, optional
        The diagonal: 0 (the default) the main one, positive above it, negative below.
    ctx : Context, optional
        The device; only the CPU (None, the default, or ``cpu()``).
    dtype : str or numpy.dtype, optional
        float32 (None, the default) or float64.

    Returns
    -------
    NDArray
        The (N, M) array.
    """


# ---------------------------------------------------------------- reshapes
def reshape(data, shape, reverse=False, out=None):
    handle(data, "data")
    view = data.reshape(shape, reverse=reverse)
    return into(out, view.copy()) if out is None else into(out, view)


reshape.__doc__ = """The array with a new shape, as a new array (MXNet's `nd.reshape`;
    ``data.reshape(shape)`` is a view).

    Parameters
    ----------
    data : NDArray
        The input array.
    shape : int or tuple of int
        The new shape, with MXNet's codes: a size d > 0; 0 copies the next axis of `data`; -1
        is inferred (at most one); -2 copies all the remaining axes; -3 merges the next two;
        -4 followed by two sizes (one may be -1) splits the next axis into two.
    reverse : bool, optional
        Read the codes and the axes from the right (default False).
    %s

    Returns
    -------
    NDArray
        A new array with the new shape. MXNet's deprecated `target_shape` and `keep_highest`
        arguments are not supported.
    """ % _OUT


def reshape_like(lhs, rhs, lhs_begin=None, lhs_end=None, rhs_begin=None, rhs_end=None, out=None):
    return into(out, _call_new(lib.ad_reshape_like, handle(lhs, "lhs"), handle(rhs, "rhs"),
                               _optional(lhs_begin, "lhs_begin"), _optional(lhs_end, "lhs_end"),
                               _optional(rhs_begin, "rhs_begin"), _optional(rhs_end, "rhs_end")))


reshape_like.__doc__ = """`lhs` reshaped like `rhs`, as a new array: to the shape of `rhs`, or, with
    any of the bounds, with the axes `lhs_begin` to `lhs_end` of `lhs` replaced by the axes
    `rhs_begin` to `rhs_end` of `rhs`.

    Parameters
    ----------
    lhs : NDArray
        The array to reshape.
    rhs : NDArray
        The array whose shape is taken.
    lhs_begin : int or None, optional
        The first axis of `lhs` replaced (None: 0; negative counts from the end).
    lhs_end : int or None, optional
        The axis after the last one replaced (None: the number of axes).
    rhs_begin : int or None, optional
        The first axis of `rhs` taken (None: 0).
    rhs_end : int or None, optional
        The axis after the last one taken (None: the number of axes).
    %s

    Returns
    -------
    NDArray
        The reshaped array, of as many elements as `lhs`; an empty range or a shape of another
        size raises ValueError.
    """ % _OUT


def squeeze(data, axis=None, out=None):
    h = handle(data, "data")
    if axis is None:
        axes = ()
    else:
        axes = _axes(axis)
        if not axes:
            return into(out, data.copy())   # no axis named: nothing removed, as in MXNet
    return into(out, _call_new(lib.ad_squeeze, h, int64s(axes, "axis"), len(axes)))


squeeze.__doc__ = """The array without axes of length 1, as a new array.

    Parameters
    ----------
    data : NDArray
        The input array.
    axis : int, tuple of int or None, optional
        The axes to remove, each of length 1 (negative counts from the end); None, the
        default, removes every axis of length 1.
    %s

    Returns
    -------
    NDArray
        The array without those axes; with no axis left it has shape (1,), as in MXNet.
    """ % _OUT


def expand_dims(data, axis, out=None):
    return into(out, _call_new(lib.ad_expand_dims, handle(data, "data"), _int(axis, "axis")))


expand_dims.__doc__ = """The array with a new axis of length 1, as a new array.

    Parameters
    ----------
    data : NDArray
        The input array.
    axis : int
        The position of the new axis, from -(ndim + 1) to ndim.
    %s

    Returns
    -------
    NDArray
        The array with one more axis.
    """ % _OUT


def split(data, num_outputs, axis=1, squeeze_axis=False, out=None):
    h = handle(data, "data")
    n = _count(num_outputs, "num_outputs")
    shape = data.shape
    a = operator.index(axis)
    if -len(shape) <= a < len(shape) and n > max(shape[a], 1):
        raise ADValueError("split: axis %d of shape %s cannot be cut into %d parts of equal length" % (a, shape, n))
    outs = (ctypes.c_void_p * max(n, 1))()
    check(lib.ad_split(h, n, _int(a, "axis"), bool(squeeze_axis), outs))
    parts = [NDArray(ctypes.c_void_p(outs[i])) for i in range(n)]
    if out is not None:
        targets = out if isinstance(out, (list, tuple)) else [out]
        if len(targets) != len(parts):
            raise ADValueError("split: `out` holds %d arrays for %d parts" % (len(targets), len(parts)))
        parts = [into(t, p) for t, p in zip(targets, parts)]
    return parts[0] if len(parts) == 1 else parts


split.__doc__ = """The array cut along an axis into parts of equal length, each a new array
    (MXNet's `split`, also called SliceChannel).

    Parameters
    ----------
    data : NDArray
        The input array.
    num_outputs : int
        The number of parts; it must divide the length of the axis.
    axis : int, optional
        The axis to cut (default 1; negative counts from the end).
    squeeze_axis : bool, optional
        Remove the cut axis from the parts, whose length along it must then be 1 (default
        False).
    out : NDArray or list of NDArray, optional
        Arrays to write the parts into, one per part; they are returned instead.

    Returns
    -------
    NDArray or list of NDArray
        The parts, as a list; a single part is returned as an array, as in MXNet.
    """


def slice(data, begin, end, step=(), out=None):
    handle(data, "data")
    shape = data.shape
    begin, end, step = tuple(begin), tuple(end), tuple(step)
    if len(begin) != len(end):
        raise ADValueError("slice: begin %s and end %s must have the same length" % (begin, end))
    if step and len(step) != len(begin):
        raise ADValueError("slice: step %s must have the length of begin %s" % (step, begin))
    if len(begin) > len(shape):
        raise ADValueError("slice: begin %s has more axes than the array's shape %s" % (begin, shape))
    steps = step or (None,) * len(begin)
    for i, s in enumerate(steps):
        if s == 0:
            raise ADValueError("slice: step[%d] cannot be 0" % i)
    key = tuple(builtins.slice(b, e, s) for b, e, s in zip(begin, end, steps))
    return into(out, data[key].copy() if key else data.copy())


slice.__doc__ = """A region of the array along its leading axes, as a new array: for each axis
    the positions begin, begin + step, ... before end, as Python's and NumPy's slices read them
    (negative values count from the end; bounds past the axis are clipped; None takes the
    default).

    Parameters
    ----------
    data : NDArray
        The input array.
    begin : tuple of int or None
        The first position along each axis.
    end : tuple of int or None
        The position each axis stops before (as many entries as `begin`).
    step : tuple of int or None, optional
        The step along each axis (default (), all 1); not 0.
    %s

    Returns
    -------
    NDArray
        The region; axes past those named are taken whole.
    """ % _OUT


_MODES = {None: _indexing.INDEX_RAISE, "raise": _indexing.INDEX_RAISE, "clip": _indexing.INDEX_CLIP,
          "wrap": _indexing.INDEX_WRAP}


def take(a, indices, axis=0, mode=None, out=None):
    h = handle(a, "a")
    if mode not in _MODES:
        raise ADValueError("take: mode must be 'clip', 'wrap' or 'raise'; got %r" % (mode,))
    return into(out, _call_new(lib.ad_take, h, handle(indices, "indices"), _int(axis, "axis"), _MODES[mode]))


take.__doc__ = """The slices of `a` along `axis` at the positions `indices` holds.

    Parameters
    ----------
    a : NDArray
        The input array.
    indices : NDArray
        The positions, whole numbers (a fraction is truncated towards zero, as in MXNet).
    axis : int, optional
        The axis to take along (default 0; negative counts from the end).
    mode : {None, 'raise', 'clip', 'wrap'}, optional
        What a position outside the axis does: None (the default) and 'raise' raise
        IndexError; 'clip' clips it to the nearer end; 'wrap' wraps it around (-1 is the
        last). MXNet's default is 'clip', which hides such positions; ad reports them unless
        'clip' is asked for.
    %s

    Returns
    -------
    NDArray
        An array of the shape of `a` with `axis` replaced by the shape of `indices`. Its
        gradient adds each slice's gradient back at its position.
    """ % _OUT


def broadcast_like(lhs, rhs, lhs_axes=None, rhs_axes=None, out=None):
    hl, hr = handle(lhs, "lhs"), handle(rhs, "rhs")
    la = () if lhs_axes is None else _axes(lhs_axes)
    ra = () if rhs_axes is None else _axes(rhs_axes)
    return into(out, _call_new(lib.ad_broadcast_like, hl, hr, int64s(la, "lhs_axes"), len(la),
                               int64s(ra, "rhs_axes"), len(ra)))


broadcast_like.__doc__ = """`lhs` broadcast to the shape of `rhs`, as a new array.

    Parameters
    ----------
    lhs : NDArray
        The array to broadcast; without axes it has as many axes as `rhs`, each of length 1
        or of the length of `rhs`'s.
    rhs : NDArray
        The array whose shape is taken.
    lhs_axes : int or tuple of int, optional
        Axes of `lhs`, each of length 1, to broadcast; given with `rhs_axes`.
    rhs_axes : int or tuple of int, optional
        The axes of `rhs` whose lengths they take, as many as `lhs_axes`.
    %s

    Returns
    -------
    NDArray
        The broadcast array.
    """ % _OUT


def moveaxis(tensor, source, destination):
    h = handle(tensor, "tensor")
    s, d = _axes(source), _axes(destination)
    return _call_new(lib.ad_moveaxis, h, int64s(s, "source"), len(s), int64s(d, "destination"), len(d))


moveaxis.__doc__ = """The array with axes moved to new positions and the others in their order,
    as a new array.

    Parameters
    ----------
    tensor : NDArray
        The input array.
    source : int or tuple of int
        The axes to move (negative counts from the end).
    destination : int or tuple of int
        Their new positions, as many.

    Returns
    -------
    NDArray
        The array with its axes permuted.
    """


def swapaxes(data, dim1=0, dim2=0, out=None):
    return into(out, _call_new(lib.ad_swapaxes, handle(data, "data"), _int(dim1, "dim1"), _int(dim2, "dim2")))


swapaxes.__doc__ = """The array with two axes exchanged, as a new array.

    Parameters
    ----------
    data : NDArray
        The input array.
    dim1 : int, optional
        The first axis (default 0; negative counts from the end).
    dim2 : int, optional
        The second axis (default 0).
    %s

    Returns
    -------
    NDArray
        The array with the two axes exchanged.
    """ % _OUT


def flip(data, axis, out=None):
    h = handle(data, "data")
    axes = _axes(axis)
    return into(out, _call_new(lib.ad_flip, h, int64s(axes, "axis"), len(axes)))


flip.__doc__ = """The array with its elements in reverse order along the given axes, as a new
    array.

    Parameters
    ----------
    data : NDArray
        The input array.
    axis : int or tuple of int
        The axes to reverse. Negative axes count from the end (MXNet refuses them); an axis
        named twice is reversed twice, as in MXNet.
    %s

    Returns
    -------
    NDArray
        The reversed array.
    """ % _OUT


def reverse(data, axis, out=None):
    return flip(data, axis, out)


reverse.__doc__ = flip.__doc__.replace("The array with its elements", "`flip`'s other name: the array with its "
                                       "elements", 1)


def tile(data, reps, out=None):
    h = handle(data, "data")
    r = _axes(reps)
    return into(out, _call_new(lib.ad_tile, h, sizes(r, "reps"), len(r)))


tile.__doc__ = """The array repeated along each axis, as NumPy's `tile`.

    Parameters
    ----------
    data : NDArray
        The input array.
    reps : int or tuple of int
        How many times along each axis (0 or more); the shorter of the array's shape and
        `reps` is padded with leading 1s.
    %s

    Returns
    -------
    NDArray
        The tiled array.
    """ % _OUT


def repeat(data, repeats, axis=None, out=None):
    h = handle(data, "data")
    return into(out, _call_new(lib.ad_repeat, h, _count(repeats, "repeats"), _optional(axis, "axis")))


repeat.__doc__ = """Each element repeated, along an axis or of the flattened array.

    Parameters
    ----------
    data : NDArray
        The input array.
    repeats : int
        How many times each element is repeated (0 or more).
    axis : int or None, optional
        The axis to repeat along (negative counts from the end); None, the default, repeats
        the elements of the flattened array.
    %s

    Returns
    -------
    NDArray
        The array with the axis `repeats` times as long (or the 1-d result).
    """ % _OUT


def concatenate(arrays, axis=0, always_copy=True):
    arrays = list(arrays)
    if not arrays:
        raise ADValueError("concatenate needs at least one array")
    if len(arrays) == 1 and not always_copy:
        handle(arrays[0], "arrays[0]")
        return arrays[0]
    return _call_new(lib.ad_concat, handles(arrays, "arrays"), len(arrays), _int(axis, "axis"))


concatenate.__doc__ = """The arrays joined along an axis (MXNet's older form of `concat`).

    Parameters
    ----------
    arrays : list of NDArray
        The arrays, of one dtype and of one shape but along `axis`.
    axis : int, optional
        The axis to join along (default 0; negative counts from the end).
    always_copy : bool, optional
        With False, a single array is returned as it is (default True: a new array).

    Returns
    -------
    NDArray
        The joined array. Unlike MXNet's, it is differentiable (MXNet's writes in place and
        fails inside a record scope).
    """


# ---------------------------------------------------------------- NDArray methods
def _zeros_like(self, dtype=None):
    """An array of zeros of this shape, as ``nd.zeros_like`` with this array as `data`.

    Parameters
    ----------
    dtype : str or numpy.dtype, optional
        The result's dtype; by default this array's.

    Returns
    -------
    NDArray
        The new array.
    """
    return zeros_like(self, dtype)


def _ones_like(self, dtype=None):
    """An array of ones of this shape, as ``nd.ones_like`` with this array as `data`.

    Parameters
    ----------
    dtype : str or numpy.dtype, optional
        The result's dtype; by default this array's.

    Returns
    -------
    NDArray
        The new array.
    """
    return ones_like(self, dtype)


def _full_like(self, fill_value, dtype=None):
    """An array of this shape filled with `fill_value`, as ``nd.full_like`` with this array as
    `data`.

    Parameters
    ----------
    fill_value : float
        The value of every element.
    dtype : str or numpy.dtype, optional
        The result's dtype; by default this array's.

    Returns
    -------
    NDArray
        The new array.
    """
    return full_like(self, fill_value, dtype)


def _squeeze(self, axis=None, inplace=False):
    """The array without axes of length 1, as ``nd.squeeze`` with this array as `data`.

    Parameters
    ----------
    axis : int, tuple of int or None, optional
        The axes to remove (each of length 1); None, the default, removes every such axis.
    inplace : bool, optional
        With True, a view sharing this array's data (default False: a new array).

    Returns
    -------
    NDArray
        The array without those axes; with no axis left, shape (1,).
    """
    out = squeeze(self, axis)
    return _indexing._view(self, out.shape) if inplace else out


def _expand_dims(self, axis, inplace=False):
    """The array with a new axis of length 1, as ``nd.expand_dims`` with this array as `data`.

    Parameters
    ----------
    axis : int
        The position of the new axis, from -(ndim + 1) to ndim.
    inplace : bool, optional
        With True, a view sharing this array's data (default False: a new array).

    Returns
    -------
    NDArray
        The array with one more axis.
    """
    out = expand_dims(self, axis)
    return _indexing._view(self, out.shape) if inplace else out


def _split(self, num_outputs, axis=1, squeeze_axis=False):
    """The array cut into parts of equal length, as ``nd.split`` with this array as `data`.

    Parameters
    ----------
    num_outputs : int
        The number of parts.
    axis : int, optional
        The axis to cut (default 1).
    squeeze_axis : bool, optional
        Remove the cut axis from the parts (default False).

    Returns
    -------
    NDArray or list of NDArray
        The parts (a single part as an array).
    """
    return split(self, num_outputs, axis, squeeze_axis)


def _slice(self, begin, end, step=()):
    """A region along the leading axes, as ``nd.slice`` with this array as `data`.

    Parameters
    ----------
    begin : tuple of int or None
        The first position along each axis.
    end : tuple of int or None
        The position each axis stops before.
    step : tuple of int or None, optional
        The step along each axis (default (), all 1).

    Returns
    -------
    NDArray
        The region, a new array.
    """
    return slice(self, begin, end, step)


def _take(self, indices, axis=0, mode=None):
    """The slices at the positions `indices` holds, as ``nd.take`` with this array as `a`.

    Parameters
    ----------
    indices : NDArray
        The positions.
    axis : int, optional
        The axis to take along (default 0).
    mode : {None, 'raise', 'clip', 'wrap'}, optional
        What a position outside the axis does (None and 'raise': IndexError).

    Returns
    -------
    NDArray
        The slices.
    """
    return take(self, indices, axis, mode)


def _pick(self, index, axis=-1, mode=None, keepdims=False):
    """The elements at the positions `index` holds along `axis`, as ``nd.pick`` with this
    array as `data`.

    Parameters
    ----------
    index : NDArray
        The positions.
    axis : int, optional
        The axis to pick along (default -1).
    mode : {None, 'clip', 'wrap'}, optional
        What a position outside the axis does (None: IndexError).
    keepdims : bool, optional
        Keep `axis` with length 1 (default False).

    Returns
    -------
    NDArray
        The picked elements.
    """
    from . import pick
    return pick(self, index, axis, mode, keepdims)


def _broadcast_like(self, other):
    """The array broadcast to the shape of `other`, as ``nd.broadcast_like``.

    Parameters
    ----------
    other : NDArray
        The array whose shape is taken.

    Returns
    -------
    NDArray
        The broadcast array, a new array.
    """
    return broadcast_like(self, other)


def _reshape_like(self, rhs, lhs_begin=None, lhs_end=None, rhs_begin=None, rhs_end=None):
    """The array reshaped like `rhs`, as ``nd.reshape_like`` with this array as `lhs`.

    Parameters
    ----------
    rhs : NDArray
        The array whose shape is taken.
    lhs_begin : int or None, optional
        The first axis of this array replaced.
    lhs_end : int or None, optional
        The axis after the last one replaced.
    rhs_begin : int or None, optional
        The first axis of `rhs` taken.
    rhs_end : int or None, optional
        The axis after the last one taken.

    Returns
    -------
    NDArray
        The reshaped array, a new array.
    """
    return reshape_like(self, rhs, lhs_begin, lhs_end, rhs_begin, rhs_end)


def _swapaxes(self, dim1=0, dim2=0):
    """The array with two axes exchanged, as ``nd.swapaxes`` with this array as `data`.

    Parameters
    ----------
    dim1 : int, optional
        The first axis (default 0).
    dim2 : int, optional
        The second axis (default 0).

    Returns
    -------
    NDArray
        A new array.
    """
    return swapaxes(self, dim1, dim2)


def _flip(self, axis):
    """The array reversed along the given axes, as ``nd.flip`` with this array as `data`.

    Parameters
    ----------
    axis : int or tuple of int
        The axes to reverse.

    Returns
    -------
    NDArray
        A new array.
    """
    return flip(self, axis)


def _tile(self, reps):
    """The array repeated along each axis, as ``nd.tile`` with this array as `data`.

    Parameters
    ----------
    reps : int or tuple of int
        How many times along each axis.

    Returns
    -------
    NDArray
        The tiled array.
    """
    return tile(self, reps)


def _repeat(self, repeats, axis=None):
    """Each element repeated, as ``nd.repeat`` with this array as `data`.

    Parameters
    ----------
    repeats : int
        How many times each element is repeated.
    axis : int or None, optional
        The axis to repeat along; None repeats the elements of the flattened array.

    Returns
    -------
    NDArray
        A new array.
    """
    return repeat(self, repeats, axis)


def _wait_to_read(self):
    """Waits until the writes to this array have finished, as MXNet scripts call it before
    reading a result or stopping a clock: computes the values now if they are pending (a
    fused element-wise result is computed when a value is first needed; see ``nd.waitall``)."""
    check(lib.ad_array_wait_to_read(self._handle))


def _tolist(self):
    """The values as nested Python lists of floats (``self.asnumpy().tolist()``, as NumPy's
    and MXNet's numpy arrays have it).

    Returns
    -------
    list or float
        The values; a 0-d array gives a float.
    """
    return self.asnumpy().tolist()


def _matmul(self, other):
    from . import dot
    if not isinstance(other, NDArray):
        return NotImplemented
    return dot(self, other)


def _rmatmul(self, other):
    from . import dot
    from ..ndarray import array
    if isinstance(other, (np.ndarray, list, tuple)):
        return dot(array(other, dtype=self.dtype), self)
    return NotImplemented


_matmul.__doc__ = """``self @ other``: the matrix product ``nd.dot(self, other)`` (MXNet's legacy
NDArray has no `@`; its numpy arrays have one)."""
_rmatmul.__doc__ = """``other @ self`` for a NumPy array or a list `other`: ``nd.dot(other, self)``."""

_METHODS = {
    "zeros_like": _zeros_like, "ones_like": _ones_like, "full_like": _full_like, "squeeze": _squeeze,
    "expand_dims": _expand_dims, "split": _split, "slice": _slice, "take": _take, "pick": _pick,
    "broadcast_like": _broadcast_like, "reshape_like": _reshape_like, "swapaxes": _swapaxes, "flip": _flip,
    "tile": _tile, "repeat": _repeat, "wait_to_read": _wait_to_read, "tolist": _tolist,
    "__matmul__": _matmul, "__rmatmul__": _rmatmul,
}
for _name, _method in _METHODS.items():
    _method.__name__ = _name
    _method.__qualname__ = "NDArray." + _name
    setattr(NDArray, _name, _method)
