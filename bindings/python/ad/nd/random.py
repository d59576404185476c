"""Random arrays from the library's seedable generator (the same seed, the same numbers)."""
import ctypes
import numbers

import numpy as np

from .._helpers import as_shape, dtype_code, handle, into, is_scalar
from .._lib import check, lib, sizes
from ..context import check_ctx
from ..errors import ADValueError
from ..ndarray import NDArray, _call_new

__all__ = ["seed", "normal", "uniform", "randn", "exponential", "gamma", "poisson", "randint", "shuffle",
           "multinomial"]

_SHAPE = """shape : int or tuple of int, optional
        The shape of the draws. With number parameters it is the result's shape, and None
        (the default) gives shape (1,), or the shape of `out` when it is given. With NDArray
        parameters (all of one shape P and dtype; not broadcast) the result has shape
        P + shape, each block drawn with the parameters at its position, and None gives ()
        (MXNet's `_sample_*` operators). Such draws have no autograd history: no gradient
        reaches the parameters (MXNet's is 0)."""
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


def _number(name, value, legacy=False):
    """A distribution parameter as a float: a number, or TypeError naming the parameter."""
    if not is_scalar(value):
        if legacy and isinstance(value, NDArray):
            raise TypeError("%s must be a number: MXNet's older names take numbers only (nd.random's "
                            "functions take NDArrays of parameters); got NDArray" % name)
        raise TypeError("%s must be a number or an NDArray; got %s" % (name, type(value).__name__))
    return float(value)


def _samples(fn, params, shape, dtype, out):
    """Draws `fn(*params)` with NDArray parameters (MXNet's `_sample_*`): shape P + `shape`,
    `shape` None giving (); all parameters NDArrays, as MXNet requires."""
    names = [name for name, _ in params]
    for name, value in params:
        if not isinstance(value, NDArray):
            raise TypeError("%s must be an NDArray when %s is (MXNet's rule: the parameters are all "
                            "NDArrays or all numbers); got %s"
                            % (name, " and ".join(n for n in names if n != name), type(value).__name__))
    if dtype is None:
        dtype = out.dtype if out is not None else "float32"
    shape = () if shape is None else as_shape(shape)
    result = _call_new(fn, *[value._handle for _, value in params], sizes(shape), len(shape), dtype_code(dtype))
    if out is not None and out.shape != result.shape:
        raise ADValueError("out has shape %s, but the draws have shape %s (the parameters' %s + shape %s)"
                           % (out.shape, result.shape, params[0][1].shape, shape))
    return into(out, result)


def _draws(fn, params, shape, dtype, ctx, out, default_shape=(1,), ints=(), sampler=None):
    """Draws `fn(*params)` of `shape`: without one, `out`'s shape when `out` is given, else
    `default_shape` (None: MXNet cannot infer a shape, and neither does ad). With NDArray
    parameters, `sampler` draws them (None: refused, as by MXNet's older names)."""
    check_ctx(ctx)
    if out is not None:
        handle(out, "out")      # TypeError unless an NDArray
    if sampler is not None and any(isinstance(value, NDArray) for _, value in params):
        return _samples(sampler, params, shape, dtype, out)
    if shape is None:
        shape = out.shape if out is not None else default_shape
        if shape is None:
            raise ADValueError("a shape (or out=) is needed: MXNet 1.9.1 cannot infer one here either")
    if dtype is None and out is not None:
        dtype = out.dtype
    shape = as_shape(shape)
    args = list(ints) + [_number(name, value, legacy=sampler is None) for name, value in params]
    return into(out, _call_new(fn, *args, sizes(shape), len(shape), dtype_code(dtype)))


def normal(loc=0, scale=1, shape=None, dtype=None, ctx=None, out=None):
    return _draws(lib.ad_random_normal, [("loc", loc), ("scale", scale)], shape, dtype, ctx, out,
                  sampler=lib.ad_sample_normal)


def uniform(low=0, high=1, shape=None, dtype=None, ctx=None, out=None):
    return _draws(lib.ad_random_uniform, [("low", low), ("high", high)], shape, dtype, ctx, out,
                  sampler=lib.ad_sample_uniform)


def randn(*shape, loc=0, scale=1, dtype=None, ctx=None, out=None):
    if len(shape) == 1 and not is_scalar(shape[0]):
        shape = tuple(shape[0])     # randn((2, 3)) as randn(2, 3)
    # Without sizes MXNet 1.9.1 passes shape () on, which its shape inference cannot complete.
    return _draws(lib.ad_random_normal, [("loc", loc), ("scale", scale)], shape or None, dtype, ctx, out,
                  default_shape=None, sampler=lib.ad_sample_normal)


def exponential(scale=1, shape=None, dtype=None, ctx=None, out=None):
    return _draws(lib.ad_random_exponential, [("scale", scale)], shape, dtype, ctx, out,
                  sampler=lib.ad_sample_exponential)


def gamma(alpha=1, beta=1, shape=None, dtype=None, ctx=None, out=None):
    return _draws(lib.ad_random_gamma, [("alpha", alpha), ("beta", beta)], shape, dtype, ctx, out,
                  sampler=lib.ad_sample_gamma)


def poisson(lam=1, shape=None, dtype=None, ctx=None, out=None):
    return _draws(lib.ad_random_poisson, [("lam", lam)], shape, dtype, ctx, out, sampler=lib.ad_sample_poisson)


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


def multinomial(data, shape=None, get_prob=False, out=None, dtype="int32"):
    src = handle(data, "data")
    if not isinstance(get_prob, (bool, np.bool_)):
        raise TypeError("get_prob must be a bool; got %s" % type(get_prob).__name__)
    if dtype is None:
        dtype = "float64"       # what MXNet 1.9.1 gives for dtype=None
    shape = () if shape is None else as_shape(shape)
    outs = out if get_prob and isinstance(out, (list, tuple)) else [out]
    if out is not None:
        if len(outs) != (2 if get_prob else 1):
            raise TypeError("out must be %s; got %s" % ("a list of 2 NDArrays (the draws and their log-probabilities)"
                                                         if get_prob else "an NDArray", type(out).__name__))
        for i, o in enumerate(outs):
            handle(o, "out" if len(outs) == 1 else "out[%d]" % i)
    draws, log_prob = ctypes.c_void_p(), ctypes.c_void_p()
    check(lib.ad_sample_multinomial(src, sizes(shape), len(shape), dtype_code(dtype), ctypes.byref(draws),
                                    ctypes.byref(log_prob) if get_prob else None))
    results = [NDArray(draws)] + ([NDArray(log_prob)] if get_prob else [])
    if out is None:
        return results if get_prob else results[0]
    for o, r in zip(outs, results):
        if o.shape != r.shape:
            raise ADValueError("out has shape %s, but the draws have shape %s (data's %s without its last axis "
                               "+ shape %s)" % (o.shape, r.shape, data.shape, shape))
    written = [into(o, r) for o, r in zip(outs, results)]
    return written if get_prob else written[0]


def _legacy_exponential(lam=1, shape=None, ctx=None, dtype=None, out=None, name=None):
    lam = _number("lam", lam, legacy=True)
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
    loc : float or NDArray, optional
        The mean (default 0).
    scale : float or NDArray, optional
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
    low : float or NDArray, optional
        The lower bound, included (default 0).
    high : float or NDArray, optional
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
        1.9.1's shape inference fails there too). With NDArray parameters of shape P the
        result has shape P + shape, as in `normal`.
    loc : float or NDArray, optional
        The mean (default 0); keyword only.
    scale : float or NDArray, optional
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
    scale : float or NDArray, optional
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
    alpha : float or NDArray, optional
        The shape (default 1); finite and above 0.
    beta : float or NDArray, optional
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
    lam : float or NDArray, optional
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

multinomial.__doc__ = """Draws category indices from rows of probabilities (MXNet's
    nd.random.multinomial): the last axis of `data` holds a row's k probabilities, and each
    draw is a category in [0, k), chosen with its probability (one of probability 0 never).
    The indices are int32 by default, as MXNet's.

    Parameters
    ----------
    data : NDArray
        The probabilities, of shape (..., k): each row finite, not negative, and summing to 1
        within rounding (MXNet draws out of range from a row summing below 1; ad raises
        ValueError naming the row).
    shape : int or tuple of int, optional
        The draws per row; None (the default) gives one. The result has shape
        data.shape[:-1] + shape.
    get_prob : bool, optional
        Also return the log-probability of each draw, in `data`'s dtype: it is
        differentiable with respect to `data` (1 / p at each drawn category, summed over its
        draws, as in MXNet), for score-function (REINFORCE) estimators. The draws themselves
        have no autograd history.
    out : NDArray or list of 2 NDArrays, optional
        Where to write the draws (with `get_prob`, the draws and the log-probabilities), in
        place; returned instead of new arrays.
    dtype : str or numpy.dtype, optional
        int32 (the default) or uint8, as MXNet's, or the indices held as float32 or float64
        (None gives float64, as in MXNet 1.9.1).

    Returns
    -------
    NDArray, or a list of 2 NDArrays with `get_prob`
        The draws (and their log-probabilities).
    """
