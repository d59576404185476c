"""The small argument checks and conversions the package's modules share."""
import ctypes
import numbers

import numpy as np

from ._ext import ArrayBase
from .errors import ADValueError

# ad_dtype codes (include/ad.h): MXNet's
FLOAT32, FLOAT64, FLOAT16, UINT8, INT32, INT8, INT64, BOOL = 0, 1, 2, 3, 4, 5, 6, 7
CODE_TYPE = {FLOAT32: np.float32, FLOAT64: np.float64, FLOAT16: np.float16, UINT8: np.uint8, INT32: np.int32,
             INT8: np.int8, INT64: np.int64, BOOL: np.bool_}
_DTYPE_CODE = {np.dtype(t): code for code, t in CODE_TYPE.items()}
# numpy's scalar type of each code, None where a code is not a dtype (for ad._ext.register)
SCALAR_TYPES = tuple(CODE_TYPE.get(code) for code in range(BOOL + 1))
_DTYPES = "float32, float64, float16, uint8, int8, int32, int64 or bool"

# ad_grad_req codes (include/ad.h), by MXNet's names
GRAD_REQ = {"null": 0, "write": 1, "add": 3}


def dtype_code(dtype):
    """The library's code for a dtype given as numpy dtype, type or name; float32 for None."""
    if dtype is None:
        return FLOAT32
    # Only names, types and dtypes: NumPy reads any object with a `.dtype` too, with a
    # DeprecationWarning on stderr for most of them (an NDArray passed as the dtype).
    if not isinstance(dtype, (str, type, np.dtype)):
        raise ADValueError("ad arrays hold %s; got dtype %r" % (_DTYPES, dtype))
    try:
        return _DTYPE_CODE[np.dtype(dtype)]
    except (KeyError, TypeError):
        raise ADValueError("ad arrays hold %s; got dtype %r" % (_DTYPES, dtype)) from None


def is_float_code(code):
    """Whether an ad_dtype code is a float type (differentiable; float16 is computed on in
    float32)."""
    return code in (FLOAT32, FLOAT64, FLOAT16)


def grad_req_code(grad_req):
    """The library's code for MXNet's grad_req name."""
    if grad_req not in GRAD_REQ:
        raise ADValueError("grad_req must be 'write', 'add' or 'null'; got %r" % (grad_req,))
    return GRAD_REQ[grad_req]


def is_scalar(x):
    """A number an op takes as a scalar operand: a Python or NumPy real, or a 0-d numpy array."""
    return isinstance(x, numbers.Real) or (isinstance(x, np.ndarray) and x.ndim == 0)


def as_shape(shape):
    """A shape as a tuple: an int n is (n,)."""
    return (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)


def as_list(x):
    """A list or tuple as a list; anything else as a list of itself."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


def handle(x, name):
    """The library handle of the NDArray `x`, the argument called `name`; TypeError otherwise."""
    if not isinstance(x, ArrayBase):
        raise TypeError("%s must be an NDArray; got %s" % (name, type(x).__name__))
    return x._handle


def handles(arrays, name):
    """A C array of the handles of `arrays` (at least one slot, so that it is never a NULL
    pointer); each must be an NDArray, named `name[i]` in the error."""
    found = [handle(a, "%s[%d]" % (name, i)) for i, a in enumerate(arrays)]
    return (ctypes.c_void_p * max(len(found), 1))(*found)


def into(out, result):
    """MXNet's `out=` keyword: write `result` into `out` in place and return `out`; `result`
    itself when `out` is None."""
    if out is None:
        return result
    out[:] = result
    return out
