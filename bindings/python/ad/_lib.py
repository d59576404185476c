"""Loads the shared library shipped in this package and declares the C functions.

Every binding call goes through `check`, which turns a non-zero ad_status into the matching
Python exception carrying the library's message.
"""
import ctypes
import glob
import operator
import os

from .errors import ADIndexError, ADValueError, raise_for_status

_here = os.path.dirname(os.path.abspath(__file__))


def _find_library():
    # setuptools-rust names the library after the Python extension suffix.
    candidates = sorted(glob.glob(os.path.join(_here, "_libad*.so")) +
                        glob.glob(os.path.join(_here, "_libad*.dylib")) +
                        glob.glob(os.path.join(_here, "_libad*.pyd")))
    if not candidates:
        raise ImportError("ad's shared library is missing from %s; install with `pip install ./bindings/python`" % _here)
    return candidates[0]


path = _find_library()
lib = ctypes.CDLL(path)

H = ctypes.c_void_p                      # ad_array *
HP = ctypes.POINTER(ctypes.c_void_p)     # ad_array **
SIZES = ctypes.POINTER(ctypes.c_size_t)
I64S = ctypes.POINTER(ctypes.c_int64)
u32, f64, b, size = ctypes.c_uint32, ctypes.c_double, ctypes.c_bool, ctypes.c_size_t


class Index(ctypes.Structure):
    """ad_index: a normalised slice (start, stop, step), or one position when step is 0."""
    _fields_ = [("start", ctypes.c_int64), ("stop", ctypes.c_int64), ("step", ctypes.c_int64)]


_SIGNATURES = {
    "ad_array_create": [ctypes.c_void_p, SIZES, size, u32, HP],
    "ad_array_full": [SIZES, size, f64, u32, HP],
    "ad_array_zeros": [SIZES, size, u32, HP],
    "ad_array_ones": [SIZES, size, u32, HP],
    "ad_array_arange": [f64, f64, f64, u32, HP],
    "ad_random_seed": [ctypes.c_uint64],
    "ad_random_normal": [f64, f64, SIZES, size, u32, HP],
    "ad_random_uniform": [f64, f64, SIZES, size, u32, HP],
    "ad_array_free": [H],
    "ad_array_ndim": [H, SIZES],
    "ad_array_size": [H, SIZES],
    "ad_array_dtype": [H, ctypes.POINTER(u32)],
    "ad_array_shape": [H, SIZES, size],
    "ad_array_read": [H, u32, ctypes.c_void_p, size],
    "ad_array_asscalar": [H, ctypes.POINTER(f64)],
    "ad_array_to_string": [H, ctypes.c_char_p, size, SIZES],
    "ad_array_reshape": [H, I64S, size, HP],
    "ad_array_transpose": [H, I64S, size, HP],
    "ad_array_broadcast_to": [H, SIZES, size, HP],
    "ad_array_copy": [H, HP],
    "ad_array_detach": [H, HP],
    "ad_array_astype": [H, u32, HP],
    "ad_array_slice": [H, ctypes.POINTER(Index), size, HP],
    "ad_array_write_slice": [H, ctypes.POINTER(Index), size, H],
    "ad_compare": [H, H, u32, HP],
    "ad_compare_scalar": [H, f64, u32, HP],
    "ad_dot": [H, H, b, b, HP],
    "ad_record_begin": [b],
    "ad_record_end": [],
    "ad_pause_begin": [b],
    "ad_pause_end": [],
    "ad_train_mode_begin": [],
    "ad_train_mode_end": [],
    "ad_predict_mode_begin": [],
    "ad_predict_mode_end": [],
    "ad_set_recording": [b, ctypes.POINTER(b)],
    "ad_set_training": [b, ctypes.POINTER(b)],
    "ad_array_attach_grad": [H, u32],
    "ad_array_attach_grad_with": [H, H, u32],
    "ad_array_retain_grad": [H],
    "ad_array_grad": [H, HP],
    "ad_backward_ex": [HP, HP, size, b, b],
    "ad_grad": [HP, HP, size, HP, size, b, b, b, HP],
}
for _name in ("add", "sub", "mul", "div", "pow", "maximum", "minimum"):
    _SIGNATURES["ad_" + _name] = [H, H, HP]
for _name in ("add", "sub", "rsub", "mul", "div", "rdiv", "pow", "rpow", "maximum", "minimum"):
    _SIGNATURES["ad_%s_scalar" % _name] = [H, f64, HP]
for _name in ("neg", "exp", "log", "sqrt", "abs", "square", "relu", "sigmoid", "tanh"):
    _SIGNATURES["ad_" + _name] = [H, HP]
for _name in ("sum", "mean", "norm", "max", "min"):
    _SIGNATURES["ad_" + _name] = [H, I64S, size, b, HP]

i64 = ctypes.c_int64
_SIGNATURES.update({
    "ad_softmax": [H, i64, HP],
    "ad_log_softmax": [H, i64, HP],
    "ad_softmax_cross_entropy": [H, H, b, HP],
    "ad_pick": [H, H, i64, b, HP],
    "ad_one_hot": [H, size, f64, f64, u32, HP],
    "ad_argmax": [H, I64S, b, HP],
    "ad_argmin": [H, I64S, b, HP],
    "ad_clip": [H, f64, f64, HP],
    "ad_where": [H, H, H, HP],
    "ad_flatten": [H, HP],
    "ad_fully_connected": [H, H, H, b, HP],
    "ad_concat": [HP, size, i64, HP],
    "ad_stack": [HP, size, i64, HP],
    "ad_dropout": [H, f64, HP],
    "ad_batch_norm": [H, H, H, H, H, f64, f64, i64, b, b, HP],
    "ad_sgd_update": [H, H, f64, f64, f64, f64],
    "ad_sgd_mom_update": [H, H, H, f64, f64, f64, f64, f64],
    "ad_adam_update": [H, H, H, H, f64, f64, f64, f64, f64, f64, f64, ctypes.c_uint64],
    "ad_release_cached_memory": [SIZES],
})

for _name, _args in _SIGNATURES.items():
    _f = getattr(lib, _name)
    _f.argtypes = _args
    _f.restype = u32

lib.ad_last_error.argtypes = []
lib.ad_last_error.restype = ctypes.c_char_p
lib.ad_version.argtypes = []
lib.ad_version.restype = ctypes.c_char_p
lib.ad_is_recording.argtypes = []
lib.ad_is_recording.restype = b
lib.ad_is_training.argtypes = []
lib.ad_is_training.restype = b
lib.ad_set_reference_mode.argtypes = [b]
lib.ad_set_reference_mode.restype = None
lib.ad_reference_mode.argtypes = []
lib.ad_reference_mode.restype = b


def check(status):
    """Raises the exception for a failed call's status, with this thread's message."""
    if status:
        raise_for_status(status, lib.ad_last_error().decode("utf-8", "replace"))


_SIZE_MAX = 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1
_I64_MIN, _I64_MAX = -2 ** 63, 2 ** 63 - 1


def sizes(values, name="shape"):
    """A C array of size_t from a sequence of ints (ctypes would silently wrap a negative or
    too large value, so those are refused here)."""
    values = [operator.index(v) for v in values]
    for v in values:
        if not 0 <= v <= _SIZE_MAX:
            raise ADValueError("argument `%s`: %s has a size %d that is negative or too large" % (name, tuple(values), v))
    return (ctypes.c_size_t * len(values))(*values)


def int64s(values, name="shape"):
    """A C array of int64 from a sequence of ints, refusing values that do not fit."""
    values = [operator.index(v) for v in values]
    for v in values:
        if not _I64_MIN <= v <= _I64_MAX:
            raise ADValueError("argument `%s`: %s has a value %d that does not fit in 64 bits" % (name, tuple(values), v))
    return (ctypes.c_int64 * len(values))(*values)


def index(start, stop, step):
    """One ad_index entry, refusing positions that do not fit in 64 bits."""
    for v in (start, stop, step):
        if not _I64_MIN <= v <= _I64_MAX:
            raise ADIndexError("index %d is out of bounds (it does not fit in 64 bits)" % v)
    return Index(start, stop, step)
