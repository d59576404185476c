"""Random arrays from the library's seedable generator (the same seed, the same numbers)."""
from .._helpers import as_shape, dtype_code, into
from .._lib import check, lib, sizes
from ..context import check_ctx
from ..ndarray import _call_new

__all__ = ["seed", "normal", "uniform"]


def seed(seed_state, ctx="all"):
    """Reseeds the generator (ad has one, for the CPU: `ctx` is 'all' or the CPU)."""
    if ctx != "all":
        check_ctx(ctx)
    check(lib.ad_random_seed(int(seed_state) & (2**64 - 1)))


def _draws(fn, a, b, shape, dtype, ctx, out):
    check_ctx(ctx)
    shape = as_shape((1,) if shape is None else shape)
    return into(out, _call_new(fn, float(a), float(b), sizes(shape), len(shape), dtype_code(dtype)))


def normal(loc=0, scale=1, shape=None, dtype=None, ctx=None, out=None):
    return _draws(lib.ad_random_normal, loc, scale, shape, dtype, ctx, out)


def uniform(low=0, high=1, shape=None, dtype=None, ctx=None, out=None):
    return _draws(lib.ad_random_uniform, low, high, shape, dtype, ctx, out)
