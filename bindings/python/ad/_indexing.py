"""Indexing NDArrays by NumPy's rules, as MXNet does.

Basic indexing (integers, slices, ``...``, None for a new axis of length 1) selects a strided
region with ``ad_array_slice``: a view sharing the data where the region is contiguous in memory
(``x[1]``, ``x[1:3]``, ``x[None]``), as in MXNet, a copy elsewhere; differentiable either way.

Advanced indexing (lists, NumPy arrays and NDArrays of positions; lists and arrays of booleans
as masks) selects the elements NumPy's rules give: the positions are worked out here, with
NumPy, as row-major positions in the array, and gathered with ``ad_take``, so that gradients
flow back to them. Assignment through an advanced index writes at the same positions with
``ad_array_put``. As in MXNet, the result of advanced indexing is a copy; positions in a float
array or NDArray are truncated towards zero, as MXNet reads them.
"""
import numbers
import operator
import warnings

import numpy as np

from . import _lib
from ._lib import check, lib
from ._reference import is_reference_mode
from .errors import ADIndexError

# ad_index_mode (include/ad.h)
INDEX_RAISE, INDEX_CLIP, INDEX_WRAP = 0, 1, 2

_INT64_LIMIT = 2.0 ** 63
# What NumPy < 1.24 warns of a ragged list with (later NumPy raises ValueError).
_RAGGED = getattr(np, "VisibleDeprecationWarning", DeprecationWarning)


class _Entry:
    """One element of a key: `kind` is 'int', 'slice', 'new' (None), 'ellipsis' (its value the
    number of axes it stands for, once known), 'array' (an int64 array of positions) or 'mask'
    (a bool array)."""
    __slots__ = ("kind", "value")

    def __init__(self, kind, value=None):
        self.kind, self.value = kind, value

    def axes(self):
        """How many axes of the array this entry indexes."""
        if self.kind == "new":
            return 0
        if self.kind == "ellipsis":
            return self.value or 0
        return self.value.ndim if self.kind == "mask" else 1


def whole(a):
    """The positions of a float or integer NumPy array as int64, floats truncated towards zero
    (as MXNet casts them); NaN, infinities and values past int64 are no positions."""
    a = np.asarray(a)
    if a.dtype.kind in "iu":
        if a.dtype.kind == "u" and a.size and a.max() >= 2 ** 63:
            raise ADIndexError("index %d is out of bounds (it does not fit in 64 bits)" % a.max())
        return a.astype(np.int64)
    if a.dtype.kind != "f":
        raise TypeError("arrays of positions hold numbers; got an array of dtype %s" % a.dtype)
    t = np.trunc(a)
    bad = ~np.isfinite(t) | (np.abs(t) >= _INT64_LIMIT)
    if bad.any():
        raise ADIndexError("index %r is not a position (NaN, infinite or too large)" % (a[bad].flat[0],))
    return t.astype(np.int64)


def _entry(k):
    from .ndarray import NDArray
    if k is None:
        return _Entry("new")
    if k is Ellipsis:
        return _Entry("ellipsis")
    if isinstance(k, slice):
        return _Entry("slice", k)
    if isinstance(k, (bool, np.bool_)):
        # NumPy reads a boolean scalar as a mask of one element; MXNet as 0 or 1: refused.
        raise TypeError("a boolean is not an index (index with integers, slices, ..., None, or arrays of "
                        "positions or of booleans)")
    if isinstance(k, (numbers.Integral, np.integer)):
        return _Entry("int", operator.index(k))
    if isinstance(k, NDArray):
        a = k.asnumpy()
    elif isinstance(k, (list, tuple, range, np.ndarray)):
        try:
            with warnings.catch_warnings():
                # NumPy < 1.24 warns of ragged lists (and makes object arrays of them).
                warnings.simplefilter("error", _RAGGED)
                a = np.asarray(k)
        except (ValueError, _RAGGED) as e:
            raise TypeError("an index list must be rectangular: %s" % e) from None
        if a.dtype == np.bool_ and a.ndim > 0:
            return _Entry("mask", a)
        if a.size == 0:
            a = a.astype(np.int64)
    else:
        raise TypeError("ad indexes with integers, slices, ..., None, and lists, NumPy arrays or NDArrays of "
                        "positions or booleans; got %r" % (k,))
    positions = whole(a)
    if positions.ndim == 0:
        return _Entry("int", int(positions))
    return _Entry("array", positions)


def parse(shape, key):
    """The entries of `key` for an array of `shape`: masks made arrays of positions, `...`
    given the number of axes it stands for. Raises for too many indices."""
    if not isinstance(key, tuple):
        key = (key,)
    entries = [_entry(k) for k in key]
    ellipses = [i for i, e in enumerate(entries) if e.kind == "ellipsis"]
    if len(ellipses) > 1:
        raise ADIndexError("an index can only have a single ellipsis ('...')")
    used = sum(e.axes() for e in entries)
    if used > len(shape):
        raise ADIndexError("too many indices (%d) for an array of shape %s" % (used, tuple(shape)))
    if ellipses:
        # Kept, not expanded into whole slices: for NumPy it also parts advanced indices (the
        # broadcast axes then come first), even where it stands for no axis.
        entries[ellipses[0]].value = len(shape) - used
    out, axis = [], 0
    for e in entries:
        if e.kind == "mask":
            dims = tuple(shape[axis:axis + e.value.ndim])
            if e.value.shape != dims:
                raise ADIndexError("boolean index of shape %s does not match the axes %d to %d of shape %s"
                                   % (e.value.shape, axis, axis + e.value.ndim - 1, tuple(shape)))
            out.extend(_Entry("array", p.astype(np.int64)) for p in np.nonzero(e.value))
        else:
            out.append(e)
        axis += e.axes()
    return out


def is_advanced(entries):
    return any(e.kind == "array" for e in entries)


# ---------------------------------------------------------------- basic indexing
def basic(shape, entries):
    """For a key without arrays: the ad_index entries (a C array) and their count, the shape
    of the result with its new axes (None), and the shape of the region the slice selects
    (without them)."""
    index, result, region, axis = [], [], [], 0
    whole = _Entry("slice", slice(None))
    expanded = []
    for e in entries:
        expanded.extend([whole] * e.value if e.kind == "ellipsis" else [e])
    for e in expanded:
        if e.kind == "new":
            result.append(1)
            continue
        d = shape[axis]
        if e.kind == "slice":
            start, stop, step = e.value.indices(d)
            index.append(_lib.index(start, stop, step))
            result.append(len(range(start, stop, step)))
            region.append(result[-1])
        else:
            index.append(_lib.index(e.value, 0, 0))
        axis += 1
    result.extend(shape[axis:])
    region.extend(shape[axis:])
    # The library makes a view for a contiguous region, and takes trailing axes whole:
    # dropping trailing whole-axis slices keeps `x[1:3, :]`, `x[1, ...]` and `x[:, :]` views,
    # as `x[1:3]`, `x[1]` and `x[:]` are (as in MXNet); `x[...]` and `x[()]` become `x[:]`.
    if not index and shape:
        index.append(_lib.index(0, shape[0], 1))
    while len(index) > 1 and index[-1].step == 1 and index[-1].start == 0 and \
            index[-1].stop == shape[len(index) - 1]:
        index.pop()
    return (_lib.Index * max(len(index), 1))(*index), len(index), tuple(result), tuple(region)


# ---------------------------------------------------------------- advanced indexing
def positions(shape, entries):
    """The row-major positions in an array of `shape` of the elements an advanced key selects,
    as an int64 NumPy array of the result's shape (NumPy's rules: the arrays and integers
    broadcast together; their axes come first unless they are next to each other)."""
    full_shape, full_key, axis = [], [], 0
    for e in entries:
        if e.kind == "new":
            # A new axis is an axis of length 1 of the array, taken whole.
            full_shape.append(1)
            full_key.append(slice(None))
            continue
        if e.kind == "ellipsis":
            full_shape.extend(shape[axis:axis + e.value])
            full_key.append(Ellipsis)
            axis += e.value
            continue
        d = shape[axis]
        if e.kind in ("int", "array"):
            v = e.value
            low, high = (v, v) if e.kind == "int" else ((v.min(), v.max()) if v.size else (0, -1))
            if low < -d or high >= d:
                bad = v if e.kind == "int" else v[(v < -d) | (v >= d)].flat[0]
                raise ADIndexError("index %d is out of bounds for axis %d with size %d" % (bad, axis, d))
        full_shape.append(d)
        full_key.append(e.value)
        axis += 1
    full_shape.extend(shape[axis:])
    arrays = [k for k in full_key if isinstance(k, np.ndarray)]
    try:
        np.broadcast(*arrays)
    except ValueError:
        raise ADIndexError("shape mismatch: the arrays of positions could not be broadcast together with shapes %s"
                           % " ".join(str(a.shape) for a in arrays)) from None
    key = tuple(full_key)
    nd = len(full_shape)
    flat, stride = None, 1
    for k in reversed(range(nd)):
        # The coordinates along axis k of the selected elements, from a broadcast view (no
        # copy of the array's size is made).
        grid = np.broadcast_to(np.arange(full_shape[k], dtype=np.int64).reshape([-1 if i == k else 1 for i in range(nd)]),
                               full_shape)
        term = grid[key] * stride
        flat = term if flat is None else flat + term
        stride *= full_shape[k]
    return flat


def single_axis(shape, entries):
    """(axis, positions) when the key is one array of positions on one axis and whole slices
    elsewhere (`x[idx]`, `x[:, idx]`): a take along that axis, without a position per element.
    None otherwise, and always in the reference mode."""
    if is_reference_mode() or any(e.kind in ("new", "int") for e in entries):
        return None
    if sum(e.kind == "array" for e in entries) != 1:
        return None
    axis = 0
    for e in entries:
        if e.kind == "slice" and e.value.indices(shape[axis]) != (0, shape[axis], 1):
            return None
        if e.kind == "array":
            k, v = axis, e.value
        axis += e.axes()
    d = shape[k]
    if v.size and (v.min() < -d or v.max() >= d):
        bad = v[(v < -d) | (v >= d)].flat[0]
        raise ADIndexError("index %d is out of bounds for axis %d with size %d" % (bad, k, d))
    return k, np.where(v < 0, v + d, v)


def _view(x, shape):
    """`x` viewed with `shape`, sizes as they are (no reshape codes)."""
    from .ndarray import _call_new
    return _call_new(lib.ad_array_reshape, x._handle, _lib.int64s(shape), len(shape))


def _positions_array(p):
    """An NDArray of float64 holding the positions `p` (exact: below 2**53)."""
    from .ndarray import array
    return array(np.asarray(p, dtype=np.float64), dtype="float64")


# ---------------------------------------------------------------- the NDArray methods
def getitem(x, key):
    from .ndarray import _call_new
    shape = x.shape
    entries = parse(shape, key)
    if not is_advanced(entries):
        index, n, result, region = basic(shape, entries)
        out = _call_new(lib.ad_array_slice, x._handle, index, n)
        if len(result) != len(region) or out.ndim == 0:
            # MXNet's nd has no 0-d results: an element comes back with shape (1,).
            out = _view(out, result or (1,))
        return out
    one = single_axis(shape, entries)
    if one is not None:
        axis, p = one
        idx = _positions_array(p)
        return _call_new(lib.ad_take, x._handle, idx._handle, axis, INDEX_RAISE)
    p = positions(shape, entries)
    idx = _positions_array(p)
    flat = _view(x, (-1,))
    out = _call_new(lib.ad_take, flat._handle, idx._handle, 0, INDEX_RAISE)
    return out if out.ndim else _view(out, (1,))


def setitem(x, key, value):
    from .ndarray import NDArray, array
    shape = x.shape
    entries = parse(shape, key)
    if not isinstance(value, NDArray):
        value = array(value, dtype=x.dtype)
    if not is_advanced(entries):
        index, n, result, region = basic(shape, entries)
        if len(result) != len(region) and value.ndim:
            # The value broadcasts to the shape with the new axes, which the region lacks.
            while value.ndim > len(result) and value.shape[0] == 1:
                value = _view(value, value.shape[1:])
            value = _view(value.broadcast_to(result), region or (1,))
        check(lib.ad_array_write_slice(x._handle, index, n, value._handle))
        return
    p = positions(shape, entries)
    idx = _positions_array(p)
    check(lib.ad_array_put(x._handle, idx._handle, value._handle))

