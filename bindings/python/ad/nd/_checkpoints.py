"""MXNet's `nd.save` and `nd.load`, writing and reading NumPy's formats: a checkpoint opens
with `numpy.load`, and NumPy's files load into ad."""
import ctypes
import os

from .._helpers import handles
from .._lib import Checkpoint, check, lib
from ..ndarray import NDArray

__all__ = ["save", "load"]

_TYPE_ERROR = "save only accept dict str->NDArray or list of NDArray"


def _path(fname):
    """`fname` as the bytes the library takes: a str, bytes or path-like object."""
    if not isinstance(fname, (str, bytes, os.PathLike)):
        raise TypeError("fname required to be a string or a path; got %s" % type(fname).__name__)
    path = os.fsencode(fname)
    if b"\0" in path:
        raise ValueError("fname %r holds a NUL character" % (fname,))
    return path


def save(fname, data):
    if isinstance(data, NDArray):
        data = [data]
    if isinstance(data, dict):
        keys, arrays = list(data.keys()), list(data.values())
        if any(not isinstance(k, str) for k in keys) or any(not isinstance(v, NDArray) for v in arrays):
            raise TypeError(_TYPE_ERROR)
        for k in keys:
            if "\0" in k:
                raise ValueError("the name %r holds a NUL character, which a checkpoint cannot hold" % (k,))
        names = (ctypes.c_char_p * max(len(keys), 1))(*[k.encode("utf-8") for k in keys])
    elif isinstance(data, list):
        if any(not isinstance(v, NDArray) for v in data):
            raise TypeError(_TYPE_ERROR)
        arrays, names = data, None
    else:
        raise ValueError("data needs to either be a NDArray, dict of str, NDArray pairs or a list of NDarrays.")
    check(lib.ad_save(_path(fname), handles(arrays, "data"), names, len(arrays)))


save.__doc__ = """Saves a list of arrays, or a dict of str to array, to the file `fname`, in NumPy's
formats: `numpy.load` opens it.

A file name ending in ``.npy`` gets one array as `numpy.save` writes it (`data` must be one
NDArray or a list of one). Any other name gets an ``.npz`` archive of ``.npy`` entries, as
`numpy.savez` writes it: a list's arrays are named ``arr_0``, ``arr_1``, ... (as
`numpy.savez(file, *arrays)` names them), a dict's keep their names. MXNet writes a binary
format of its own; ad's checkpoints are NumPy's. The file is written under a temporary name
beside `fname` and renamed over it once complete: a failed save leaves an existing file as
it was.

Parameters
----------
fname : str or path-like
    The file name, written as given (no extension is added).
data : NDArray, list of NDArray, or dict of str to NDArray
    The arrays to save. `nd.load` returns a list for a list (and for one NDArray), a dict
    for a dict.

Raises an OSError (``ad.errors.ADIOError``) when the file cannot be written.
"""


def load(fname):
    path = _path(fname)
    checkpoint = ctypes.POINTER(Checkpoint)()
    check(lib.ad_load(path, ctypes.byref(checkpoint)))
    try:
        c = checkpoint.contents
        arrays = []
        for i in range(c.count):
            # Taken out of the checkpoint: the NDArray owns the handle from here on.
            arrays.append(NDArray(c.arrays[i]))
            c.arrays[i] = None
        names = None if not c.names else [c.names[i].decode("utf-8") for i in range(c.count)]
    finally:
        check(lib.ad_checkpoint_free(checkpoint))
    return arrays if names is None else dict(zip(names, arrays))


load.__doc__ = """Loads the arrays of the file `fname`: a checkpoint of `nd.save`, or NumPy's
files (`numpy.save`'s ``.npy``, `numpy.savez`'s and `numpy.savez_compressed`'s ``.npz``),
whatever the file's name.

float32 and float64 arrays are read, in either byte order and in C or Fortran order; an
array of another dtype raises a ValueError that names it. The file is checked before it is
trusted: a truncated or corrupt file raises a ValueError (``ad.errors.ADFormatError``), one
that cannot be read an OSError (``ad.errors.ADIOError``), each naming the file and the fault.

Parameters
----------
fname : str or path-like
    The file name.

Returns
-------
list of NDArray, or dict of str to NDArray
    A list when the file holds a list (`nd.save` of a list or of one NDArray, and
    `numpy.savez` of positional arrays only, ``arr_0``, ``arr_1``, ...), else a dict of the
    names in the file's order.
"""
