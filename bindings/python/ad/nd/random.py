"""Random arrays from the library's seedable generator (the same seed, the same numbers)."""
from .._helpers import as_shape, dtype_code, into
from .._lib import check, lib, sizes
from ..context import check_ctx
from ..ndarray import _call_new

__all__ = ["seed", "normal", "uniform"]

_SHAPE = """shape : int or tuple of int, optional
        The shape of the result; None (the default) gives shape (1,). MXNet also takes arrays
        of parameters, with the draws for each pair of them along new trailing axes; ad takes
        numbers only."""
_COMMON = """dtype : str or numpy.dtype, optional
        float32 (None, the default) or float64.
    ctx : Context, optional
        The device; only the CPU (None, the default, or ``cpu()``).
    out : NDArray, optional
        An array to write the draws into, in place; it is returned instead of a new array."""


def seed(seed_state, ctx="all"):
    """Reseeds the generator that `normal`, `uniform` and `Dropout` draw from: the same seed
    gives the same draws afterwards.

    Parameters
    ----------
    seed_state : int
        The seed (taken modulo 2 ** 64).
    ctx : Context or 'all', optional
        The device whose generator is seeded; 'all' (the default) or the CPU, since ad has
        one generator for the CPU.
    """
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


normal.__doc__ = """Draws from the normal (Gaussian) distribution with mean `loc` and standard
    deviation `scale`.

    Parameters
    ----------
    loc : float, optional
        The mean (default 0).
    scale : float, optional
        The standard deviation (default 1); not negative.
    %s
    %s

    Returns
    -------
    NDArray
        The draws.
    """ % (_SHAPE, _COMMON)

uniform.__doc__ = """Draws from the uniform distribution on the half-open interval [low, high).

    Parameters
    ----------
    low : float, optional
        The lower bound, included (default 0).
    high : float, optional
        The upper bound, excluded (default 1); not below `low`.
    %s
    %s

    Returns
    -------
    NDArray
        The draws.
    """ % (_SHAPE, _COMMON)
