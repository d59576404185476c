"""Random arrays from the library's seedable generator (the same seed, the same numbers)."""
import numbers

from .._lib import check, lib, sizes
from ..context import check_ctx
from ..ndarray import _call_new, dtype_code


def _shape(shape):
    if shape is None:
        return (1,)
    return (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)


def seed(seed_state, ctx="all"):
    """Reseeds the generator (ad has one, for the CPU: `ctx` is 'all' or the CPU)."""
    if ctx != "all":
        check_ctx(ctx)
    check(lib.ad_random_seed(int(seed_state) & (2**64 - 1)))


def normal(loc=0, scale=1, shape=None, dtype=None, ctx=None, out=None):
    check_ctx(ctx)
    shape = _shape(shape)
    result = _call_new(lib.ad_random_normal, float(loc), float(scale), sizes(shape), len(shape), dtype_code(dtype))
    if out is not None:
        out[:] = result
        return out
    return result


def uniform(low=0, high=1, shape=None, dtype=None, ctx=None, out=None):
    check_ctx(ctx)
    shape = _shape(shape)
    result = _call_new(lib.ad_random_uniform, float(low), float(high), sizes(shape), len(shape), dtype_code(dtype))
    if out is not None:
        out[:] = result
        return out
    return result
