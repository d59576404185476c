"""Loads the shared library shipped in this package and declares the C functions.

Every binding call goes through `check`, which turns a non-zero ad_status into the matching
Python exception carrying the library's message.
"""
import ctypes
import glob
import operator
import os

from . import _ops
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


# ad_function_callback and ad_function_callbacks (custom functions, ad/_function.py):
# callback(user_data, ctx, arrays, n_arrays, results, n_results) -> ad_status.
CALLBACK = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p, HP, size, HP, size)
DESTROY = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
# ad_grad_hook (gradient-ready hooks, ad/_hooks.py): hook(user_data, variable) -> ad_status.
GRAD_HOOK = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p)


def immortal(obj):
    """`obj`, never freed: a callback the library may call until the process ends (a
    variable's hook destroyed by the last collection at exit, after the module's globals are
    gone) must not have its code freed first."""
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
    return obj
FUNCTION_CALLBACKS_VERSION = 1


class FunctionCallbacks(ctypes.Structure):
    """ad_function_callbacks: what a custom function does."""
    _fields_ = [("version", ctypes.c_uint32), ("forward", CALLBACK), ("backward", CALLBACK), ("destroy", DESTROY)]


class Checkpoint(ctypes.Structure):
    """ad_checkpoint: what ad_load returns (count arrays, with their names or NULL)."""
    _fields_ = [("count", ctypes.c_size_t), ("arrays", ctypes.POINTER(ctypes.c_void_p)),
                ("names", ctypes.POINTER(ctypes.c_char_p))]


# Every C function the package calls through ctypes: name -> (return type, parameter types),
# as include/ad.h declares it (tests/test_abi.py compares the two). The ops of the op table
# (ad/_ops.py) get theirs from their kind.
ad_status = u32
i64 = ctypes.c_int64
SIGNATURES = {
    "ad_version": (ctypes.c_char_p, []),
    "ad_last_error": (ctypes.c_char_p, []),
    "ad_set_reference_mode": (None, [b]),
    "ad_reference_mode": (b, []),
    "ad_cpu_level": (ctypes.c_char_p, []),
    "ad_set_cpu_level": (ad_status, [ctypes.c_char_p]),
    "ad_release_cached_memory": (ad_status, [SIZES]),
    "ad_wait_all": (ad_status, []),
    "ad_array_create": (ad_status, [ctypes.c_void_p, SIZES, size, u32, HP]),
    "ad_array_full": (ad_status, [SIZES, size, f64, u32, HP]),
    "ad_array_zeros": (ad_status, [SIZES, size, u32, HP]),
    "ad_array_ones": (ad_status, [SIZES, size, u32, HP]),
    "ad_array_arange": (ad_status, [f64, f64, f64, u32, HP]),
    "ad_random_seed": (ad_status, [ctypes.c_uint64]),
    "ad_random_normal": (ad_status, [f64, f64, SIZES, size, u32, HP]),
    "ad_random_uniform": (ad_status, [f64, f64, SIZES, size, u32, HP]),
    "ad_random_exponential": (ad_status, [f64, SIZES, size, u32, HP]),
    "ad_random_gamma": (ad_status, [f64, f64, SIZES, size, u32, HP]),
    "ad_random_poisson": (ad_status, [f64, SIZES, size, u32, HP]),
    "ad_random_randint": (ad_status, [i64, i64, SIZES, size, u32, HP]),
    "ad_random_shuffle": (ad_status, [H, HP]),
    "ad_sample_normal": (ad_status, [H, H, SIZES, size, u32, HP]),
    "ad_sample_uniform": (ad_status, [H, H, SIZES, size, u32, HP]),
    "ad_sample_exponential": (ad_status, [H, SIZES, size, u32, HP]),
    "ad_sample_gamma": (ad_status, [H, H, SIZES, size, u32, HP]),
    "ad_sample_poisson": (ad_status, [H, SIZES, size, u32, HP]),
    "ad_sample_multinomial": (ad_status, [H, SIZES, size, u32, HP, HP]),
    "ad_array_free": (ad_status, [H]),
    "ad_array_ndim": (ad_status, [H, SIZES]),
    "ad_array_size": (ad_status, [H, SIZES]),
    "ad_array_dtype": (ad_status, [H, ctypes.POINTER(u32)]),
    "ad_array_shape": (ad_status, [H, SIZES, size]),
    "ad_array_read": (ad_status, [H, u32, ctypes.c_void_p, size]),
    "ad_array_asscalar": (ad_status, [H, ctypes.POINTER(f64)]),
    "ad_array_wait_to_read": (ad_status, [H]),
    "ad_array_to_string": (ad_status, [H, ctypes.c_char_p, size, SIZES]),
    "ad_array_reshape": (ad_status, [H, I64S, size, HP]),
    "ad_array_transpose": (ad_status, [H, I64S, size, HP]),
    "ad_array_broadcast_to": (ad_status, [H, SIZES, size, HP]),
    "ad_array_copy": (ad_status, [H, HP]),
    "ad_array_detach": (ad_status, [H, HP]),
    "ad_array_share": (ad_status, [H, HP]),
    "ad_array_astype": (ad_status, [H, u32, HP]),
    "ad_array_slice": (ad_status, [H, ctypes.POINTER(Index), size, HP]),
    "ad_array_write_slice": (ad_status, [H, ctypes.POINTER(Index), size, H]),
    "ad_dot": (ad_status, [H, H, b, b, HP]),
    "ad_batch_dot": (ad_status, [H, H, b, b, HP]),
    "ad_full_like": (ad_status, [H, f64, u32, HP]),
    "ad_array_linspace": (ad_status, [f64, f64, size, b, u32, HP]),
    "ad_array_eye": (ad_status, [size, size, i64, u32, HP]),
    "ad_array_reshape_codes": (ad_status, [H, I64S, size, b, HP]),
    "ad_reshape_like": (ad_status, [H, H, I64S, I64S, I64S, I64S, HP]),
    "ad_squeeze": (ad_status, [H, I64S, size, HP]),
    "ad_expand_dims": (ad_status, [H, i64, HP]),
    "ad_split": (ad_status, [H, size, i64, b, HP]),
    "ad_flip": (ad_status, [H, I64S, size, HP]),
    "ad_tile": (ad_status, [H, SIZES, size, HP]),
    "ad_repeat": (ad_status, [H, size, I64S, HP]),
    "ad_swapaxes": (ad_status, [H, i64, i64, HP]),
    "ad_moveaxis": (ad_status, [H, I64S, size, I64S, size, HP]),
    "ad_broadcast_like": (ad_status, [H, H, I64S, size, I64S, size, HP]),
    "ad_take": (ad_status, [H, H, i64, u32, HP]),
    "ad_array_put": (ad_status, [H, H, H]),
    "ad_pick_mode": (ad_status, [H, H, i64, b, u32, HP]),
    "ad_record_begin": (ad_status, [b]),
    "ad_record_end": (ad_status, []),
    "ad_pause_begin": (ad_status, [b]),
    "ad_pause_end": (ad_status, []),
    "ad_train_mode_begin": (ad_status, []),
    "ad_train_mode_end": (ad_status, []),
    "ad_predict_mode_begin": (ad_status, []),
    "ad_predict_mode_end": (ad_status, []),
    "ad_is_recording": (b, []),
    "ad_is_training": (b, []),
    "ad_set_recording": (ad_status, [b, ctypes.POINTER(b)]),
    "ad_set_training": (ad_status, [b, ctypes.POINTER(b)]),
    "ad_array_attach_grad": (ad_status, [H, u32]),
    "ad_array_attach_grad_with": (ad_status, [H, H, u32]),
    "ad_array_retain_grad": (ad_status, [H]),
    "ad_array_set_grad_hook": (ad_status, [H, GRAD_HOOK, ctypes.c_void_p, DESTROY]),
    "ad_grad_hook_set_error": (ad_status, [ctypes.c_char_p]),
    "ad_array_grad": (ad_status, [H, HP]),
    "ad_backward_ex": (ad_status, [HP, HP, size, b, b]),
    "ad_grad": (ad_status, [HP, HP, size, HP, size, b, b, b, HP]),
    "ad_function_new": (ad_status, [ctypes.c_char_p, ctypes.POINTER(FunctionCallbacks), ctypes.c_void_p, HP]),
    "ad_function_free": (ad_status, [ctypes.c_void_p]),
    "ad_function_apply": (ad_status, [ctypes.c_void_p, HP, size, HP, size]),
    "ad_function_save": (ad_status, [ctypes.c_void_p, HP, size]),
    "ad_function_saved_count": (ad_status, [ctypes.c_void_p, SIZES]),
    "ad_function_saved": (ad_status, [ctypes.c_void_p, size, HP]),
    "ad_function_needs_grad": (ad_status, [ctypes.c_void_p, size, ctypes.POINTER(b)]),
    "ad_function_set_error": (ad_status, [ctypes.c_void_p, ctypes.c_char_p]),
    "ad_softmax": (ad_status, [H, i64, HP]),
    "ad_log_softmax": (ad_status, [H, i64, HP]),
    "ad_softmax_cross_entropy": (ad_status, [H, H, b, HP]),
    "ad_pick": (ad_status, [H, H, i64, b, HP]),
    "ad_one_hot": (ad_status, [H, size, f64, f64, u32, HP]),
    "ad_argmax": (ad_status, [H, I64S, b, HP]),
    "ad_argmin": (ad_status, [H, I64S, b, HP]),
    "ad_norm1": (ad_status, [H, I64S, size, b, HP]),
    "ad_cumsum": (ad_status, [H, I64S, HP]),
    "ad_sort": (ad_status, [H, I64S, b, HP]),
    "ad_argsort": (ad_status, [H, I64S, b, u32, HP]),
    "ad_topk": (ad_status, [H, I64S, i64, u32, b, u32, HP]),
    "ad_clip": (ad_status, [H, f64, f64, HP]),
    "ad_where": (ad_status, [H, H, H, HP]),
    "ad_flatten": (ad_status, [H, HP]),
    "ad_fully_connected": (ad_status, [H, H, H, b, HP]),
    "ad_concat": (ad_status, [HP, size, i64, HP]),
    "ad_stack": (ad_status, [HP, size, i64, HP]),
    "ad_dropout": (ad_status, [H, f64, HP]),
    "ad_batch_norm": (ad_status, [H, H, H, H, H, f64, f64, i64, b, b, HP]),
    "ad_sgd_update": (ad_status, [H, H, f64, f64, f64, f64]),
    "ad_sgd_mom_update": (ad_status, [H, H, H, f64, f64, f64, f64, f64]),
    "ad_adam_update": (ad_status, [H, H, H, H, f64, f64, f64, f64, f64, f64, f64, ctypes.c_uint64]),
    "ad_signsgd_update": (ad_status, [H, H, f64, f64, f64, f64]),
    "ad_signum_update": (ad_status, [H, H, H, f64, f64, f64, f64, f64, f64]),
    "ad_rmsprop_update": (ad_status, [H, H, H, f64, f64, f64, f64, f64, f64, f64]),
    "ad_rmspropalex_update": (ad_status, [H, H, H, H, H, f64, f64, f64, f64, f64, f64, f64, f64]),
    "ad_ftrl_update": (ad_status, [H, H, H, H, f64, f64, f64, f64, f64, f64]),
    "ad_nag_mom_update": (ad_status, [H, H, H, f64, f64, f64, f64, f64]),
    "ad_lamb_update_phase1": (ad_status, [H, H, H, H, f64, f64, f64, ctypes.c_uint64, b, f64, f64, f64, HP]),
    "ad_lamb_update_phase2": (ad_status, [H, H, H, H, f64, f64, f64]),
    "ad_save": (ad_status, [ctypes.c_char_p, HP, ctypes.POINTER(ctypes.c_char_p), size]),
    "ad_load": (ad_status, [ctypes.c_char_p, ctypes.POINTER(ctypes.POINTER(Checkpoint))]),
    "ad_checkpoint_free": (ad_status, [ctypes.POINTER(Checkpoint)]),
}

# The C prototypes of each kind of op: (the function on arrays, the scalar forms).
_KIND_SIGNATURES = {
    _ops.UNARY: ([H, HP], None),
    _ops.BINARY: ([H, H, HP], [H, f64, HP]),
    _ops.COMPARE: ([H, H, u32, HP], [H, f64, u32, HP]),
    _ops.REDUCE: ([H, I64S, size, b, HP], None),
    _ops.NORM: ([H, I64S, size, b, HP], None),
}
for _op in _ops.OPS:
    _arrays, _scalars = _KIND_SIGNATURES[_op.kind]
    SIGNATURES[_op.c] = (ad_status, _arrays)
    for _name in (_op.scalar, _op.rscalar):
        if _name is not None:
            SIGNATURES[_name] = (ad_status, _scalars)

for _name, (_restype, _argtypes) in SIGNATURES.items():
    _f = getattr(lib, _name)
    _f.restype = _restype
    _f.argtypes = _argtypes


def address(name):
    """The address of the library function `name` (for the C extension's fast paths)."""
    return ctypes.cast(getattr(lib, name), ctypes.c_void_p).value


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
