"""Random arrays from the library's seedable generator (the same seed, the same numbers)."""
import numbers

import numpy as np

from .._helpers import as_shape, dtype_code, handle, into, is_scalar
from .._lib import check, lib, sizes
from ..context import check_ctx
from ..errors import ADValueError
from ..ndarray import NDArray, _call_new

__all__ = ["seed", "normal", "uniform", "randn", "exponential", "gamma", "poisson", "randint", "shuffle"]

_SHAPE = """shape : int or tuple of int, optional
        The shape of the result; None (the default) gives shape (1,), or the shape of `out`
        when it is given. MXNet also takes arrays of parameters, with the draws for each of
        them along new trailing axes; ad takes numbers only."""
_COMMON = """dtype : str or numpy.dtype, optional
        float32 (None, the default, or the dtype of `out` when it is given) or float64.
    ctx : Context, optional
        The device; only the CPU (None, the default, or ``cpu()``).
    out : NDArray, optional
        An array to write the draws into, in place; it is returned instead of a new array."""


def seed(seed_state, ctx="all"):
    """Reseeds the generator that every function here and `Dropout` draw from: the same seed
    gives the same draws afterwards, whatever the thread count.

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


def _number(name, value):
    """A distribution parameter as a float: a number, or TypeError naming the parameter (MXNet
    also takes NDArrays of parameters; ad does not)."""
    if not is_scalar(value):
        raise TypeError("%s must be a number (ad does not take arrays of parameters); got %s"
                        % (name, type(value).__name__))
    return float(value)


def _draws(fn, params, shape, dtype, ctx, out, default_shape=(1,), ints=()):
    """Draws `fn(*params)` of `shape`: without one, `out`'s shape when `out` is given, else
    `default_shape` (None: MXNet cannot infer a shape, and neither does ad)."""
    check_ctx(ctx)
    if out is not None:
        handle(out, "out")      # TypeError unless an NDArray
    if shape is None:
        shape = out.shape if out is not None else default_shape
        if shape is None:
            raise ADValueError("a shape (or out=) is needed: MXNet 1.9.1 cannot infer one here either")
    if dtype is None and out is not None:
        dtype = out.dtype
    shape = as_shape(shape)
    args = list(ints) + [_number(name, value) for name, value in params]
    return into(out, _call_new(fn, *args, sizes(shape), len(shape), dtype_code(dtype)))


def normal(loc=0, scale=1, shape=None, dtype=None, ctx=None, out=None):
    return _draws(lib.ad_random_normal, [("loc", loc), ("scale", scale)], shape, dtype, ctx, out)


def uniform(low=0, high=1, shape=None, dtype=None, ctx=None, out=None):
    return _draws(lib.ad_random_uniform, [("low", low), ("high", high)], shape, dtype, ctx, out)


def randn(*shape, loc=0, scale=1, dtype=None, ctx=None, out=None):
    if len(shape) == 1 and not is_scalar(shape[0]):
        shape = tuple(shape[0])     # randn((2, 3)) as randn(2, 3)
    # Without sizes MXNet 1.9.1 passes shape () on, which its shape inference cannot complete.
    return _draws(lib.ad_random_normal, [("loc", loc), ("scale", scale)], shape or None, dtype, ctx, out,
                  default_shape=None)


def exponential(scale=1, shape=None, dtype=None, ctx=None, out=None):
    return _draws(lib.ad_random_exponential, [("scale", scale)], shape, dtype, ctx, out)


def gamma(alpha=1, beta=1, shape=None, dtype=None, ctx=None, out=None):
    return _draws(lib.ad_random_gamma, [("alpha", alpha), ("beta", beta)], shape, dtype, ctx, out)


def poisson(lam=1, shape=None, dtype=None, ctx=None, out=None):
    return _draws(lib.ad_random_poisson, [("lam", lam)], shape, dtype, ctx, out)


def randint(low, high, shape=None, dtype=None, ctx=None, out=None):
    return _randint(low, high, shape, dtype, ctx, out, (1,))


def _randint(low, high, shape, dtype, ctx, out, default_shape):
    if dtype is None:
        # MXNet's default, int32, or the dtype of `out` (_draws refuses an out that is not an NDArray)
        dtype = out.dtype if isinstance(out, NDArray) else "int32"
    for name, value in (("low", low), ("high", high)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise TypeError("%s must be an int; got %s" % (name, type(value).__name__))
    if not -2 ** 63 <= low < 2 ** 63 or not -2 ** 63 <= high < 2 ** 63:
        raise ADValueError("randint's bounds must fit in 64 bits; got low %d, high %d" % (low, high))
    return _draws(lib.ad_random_randint, [], shape, dtype, ctx, out, default_shape, ints=(int(low), int(high)))


def shuffle(data, out=None):
    return into(out, _call_new(lib.ad_random_shuffle, handle(data, "data")))


def _legacy_exponential(lam=1, shape=None, ctx=None, dtype=None, out=None, name=None):
    lam = _number("lam", lam)
    scale = 1 / lam if lam > 0 else float("nan")
    if not 0 < scale < float("inf"):
        raise ADValueError("random_exponential needs a finite rate lam > 0 whose inverse is finite; got lam %r" % lam)
    return _draws(lib.ad_random_exponential, [("scale", scale)], shape, dtype, ctx, out, default_shape=None)


def _legacy_gamma(alpha=1, beta=1, shape=None, ctx=None, dtype=None, out=None, name=None):
    return _draws(lib.ad_random_gamma, [("alpha", alpha), ("beta", beta)], shape, dtype, ctx, out,
                  default_shape=None)


def _legacy_poisson(lam=1, shape=None, ctx=None, dtype=None, out=None, name=None):
    return _draws(lib.ad_random_poisson, [("lam", lam)], shape, dtype, ctx, out, default_shape=None)


def _legacy_randint(low, high, shape=None, ctx=None, dtype=None, out=None, name=None):
    return _randint(low, high, shape, dtype, ctx, out, None)


def _legacy_shuffle(data, out=None, name=None):
    return shuffle(data, out)


def _legacy_normal(loc=0, scale=1, shape=None, ctx=None, dtype=None, out=None, name=None):
    return _draws(lib.ad_random_normal, [("loc", loc), ("scale", scale)], shape, dtype, ctx, out,
                  default_shape=None)


def _legacy_uniform(low=0, high=1, shape=None, ctx=None, dtype=None, out=None, name=None):
    return _draws(lib.ad_random_uniform, [("low", low), ("high", high)], shape, dtype, ctx, out,
                  default_shape=None)


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

randn.__doc__ = """Draws from the normal (Gaussian) distribution with mean `loc` and standard
    deviation `scale`, of the shape given by the positional arguments (NumPy's randn).

    Parameters
    ----------
    *shape : int
        The sizes of the result's axes, as ``randn(2, 3)`` (a tuple, as ``randn((2, 3))``, is
        taken too). Without them `out` gives the shape; with neither, ValueError (MXNet
        1.9.1's shape inference fails there too).
    loc : float, optional
        The mean (default 0); keyword only.
    scale : float, optional
        The standard deviation (default 1), not negative; keyword only.
    %s

    Returns
    -------
    NDArray
        The draws.
    """ % _COMMON

exponential.__doc__ = """Draws from the exponential distribution with mean `scale`: the density is
    exp(-x / scale) / scale for x >= 0. Drawn by inversion.

    Parameters
    ----------
    scale : float, optional
        The mean (default 1), the inverse of the rate; finite and above 0.
    %s
    %s

    Returns
    -------
    NDArray
        The draws.
    """ % (_SHAPE, _COMMON)

gamma.__doc__ = """Draws from the gamma distribution with shape `alpha` and scale `beta`: mean
    alpha * beta, variance alpha * beta ** 2. Drawn by Marsaglia and Tsang's method.

    Parameters
    ----------
    alpha : float, optional
        The shape (default 1); finite and above 0.
    beta : float, optional
        The scale (default 1); finite and above 0.
    %s
    %s

    Returns
    -------
    NDArray
        The draws.
    """ % (_SHAPE, _COMMON)

poisson.__doc__ = """Draws from the Poisson distribution with mean `lam`: whole numbers, held as
    floats (as MXNet's). Drawn by inversion below 10, by Hoermann's PTRS up to 1e10, and as
    the normal approximation rounded to a whole number above.

    Parameters
    ----------
    lam : float, optional
        The mean (default 1); finite and not negative (0 gives zeros).
    %s
    %s

    Returns
    -------
    NDArray
        The draws.
    """ % (_SHAPE, _COMMON)

randint.__doc__ = """Draws whole numbers uniformly from the half-open interval [low, high), as
    int32 (the default, as MXNet's) or int64 arrays, or held as float32 or float64.

    Parameters
    ----------
    low : int
        The lower bound, included.
    high : int
        The upper bound, excluded; above `low`. Both must fit `dtype`; for the floats, where
        it holds every whole number exactly: within 2 ** 24 of 0 for float32, 2 ** 53 for
        float64.
    shape : int or tuple of int, optional
        The shape of the result; None (the default) gives shape (1,), or the shape of `out`
        when it is given.
    dtype : str or numpy.dtype, optional
        int32 (None, the default, or the dtype of `out` when it is given), int64, float32 or
        float64.
    ctx : Context, optional
        The device; only the CPU (None, the default, or ``cpu()``).
    out : NDArray, optional
        An array to write the draws into, in place; it is returned instead of a new array.

    Returns
    -------
    NDArray
        The draws.
    """

shuffle.__doc__ = """A copy of `data` with its items along the first axis (the rows of a matrix) in
    a random order, each item's elements in their order; `data` itself is unchanged. Drawn
    from the generator `seed` seeds. Not differentiable: the result has no autograd history
    (MXNet registers no gradient for it).

    Parameters
    ----------
    data : NDArray
        The array to shuffle; a 0-d array is copied.
    out : NDArray, optional
        An array to write the result into, in place; it is returned instead of a new array.

    Returns
    -------
    NDArray
        The shuffled copy, of `data`'s shape and dtype.
    """

_LEGACY = """Draws from the %s distribution: MXNet's older name, with its operator's
    argument order (`ctx` before `dtype`).

    Parameters
    ----------
    %s
    shape : int or tuple of int, optional
        The shape of the result. Without it, the shape of `out`; with neither, ValueError
        (MXNet 1.9.1 cannot infer a shape either).
    ctx : Context or str, optional
        The device; only the CPU (None, the default, ``cpu()`` or ``'cpu(0)'``).
    dtype : str or numpy.dtype, optional
        float32 (None, the default, or the dtype of `out` when it is given) or float64.
    out : NDArray, optional
        An array to write the draws into, in place; it is returned instead of a new array.
    name : str, optional
        Ignored, as by MXNet's nd functions.

    Returns
    -------
    NDArray
        The draws.
    """
_legacy_exponential.__doc__ = _LEGACY % ("exponential", """lam : float, optional
        The rate (default 1), finite and above 0: the mean is 1 / lam. (nd.random.exponential
        takes the mean, `scale`, instead.)""")
_legacy_gamma.__doc__ = _LEGACY % ("gamma", """alpha : float, optional
        The shape (default 1); finite and above 0.
    beta : float, optional
        The scale (default 1); finite and above 0.""")
_legacy_poisson.__doc__ = _LEGACY % ("Poisson", """lam : float, optional
        The mean (default 1); finite and not negative. The draws are whole numbers held as
        floats.""")
_legacy_randint.__doc__ = (_LEGACY % ("uniform whole-number", """low : int
        The lower bound, included.
    high : int
        The upper bound, excluded; above `low`.""")).replace(
    """float32 (None, the default, or the dtype of `out` when it is given) or float64.""",
    """int32 (None, the default, or the dtype of `out` when it is given), int64, float32 or
        float64.""")
_legacy_shuffle.__doc__ = shuffle.__doc__.replace("""    Returns
    -------""", """    name : str, optional
        Ignored, as by MXNet's nd functions.

    Returns
    -------""")
_legacy_normal.__doc__ = _LEGACY % ("normal", """loc : float, optional
        The mean (default 0).
    scale : float, optional
        The standard deviation (default 1); not negative.""")
_legacy_uniform.__doc__ = _LEGACY % ("uniform", """low : float, optional
        The lower bound, included (default 0).
    high : float, optional
        The upper bound, excluded (default 1); not below `low`.""")
for _f, _name in ((_legacy_normal, "random_normal"), (_legacy_uniform, "random_uniform"),
                  (_legacy_exponential, "random_exponential"), (_legacy_gamma, "random_gamma"),
                  (_legacy_poisson, "random_poisson"), (_legacy_randint, "random_randint"),
                  (_legacy_shuffle, "shuffle")):
    _f.__name__ = _f.__qualname__ = _name
