"""The op table: every op of the library that Python reaches through a generated form, listed
once. From each line come its ctypes signatures (ad/_lib.py), its `nd.<name>` function
(ad/nd/__init__.py), its NDArray methods and operator forms (ad/ndarray.py), the function
pointers of the C extension's fast path (`register` in ad/_ext.c) and its docstrings (below).

Adding an element-wise op of one array is one line here:

    Op("sin", UNARY, "ad_sin", methods=("sin",), doc="The sine of each element (in radians)."),

The functions with arguments of their own (creation, shapes, `dot`, the neural-network
functions) are written out in ad/nd and ad/ndarray.py; their C signatures are in ad/_lib.py.
"""
import collections
import operator
import textwrap
import warnings

# How an op's C functions are called, and which Python forms it gets.
UNARY = "unary"        # ad_f(a, out): nd.f(data, out=None), and x.f() for each method name
BINARY = "binary"      # ad_f(a, b, out), ad_f_scalar(a, s, out) for `a <op> s` and another for
                       # `s <op> a`: nd.f(lhs, rhs, out=None), and the operators with `slot`
COMPARE = "compare"    # ad_compare(a, b, code, out), ad_compare_scalar(a, s, code, out): the
                       # comparison operators (==, !=, <, <=, >, >=); no nd function
REDUCE = "reduce"      # ad_f(a, axes, naxes, keepdims, out): nd.f(data, axis=None,
                       # keepdims=False, out=None) and x.f(axis=None, keepdims=False)
NORM = "norm"          # a REDUCE with MXNet's `ord` first: nd.f(data, ord=2, axis=None, ...)


class Op(collections.namedtuple("Op", "name kind c scalar rscalar numbers slot methods doc",
                                 defaults=(None, None, None, None, (), ""))):
    """One op. `name`: its Python name (`nd.<name>`); `kind`: one of the kinds above; `c`: the
    C function on arrays; `scalar`/`rscalar`: the C functions for `array <op> number` and
    `number <op> array`; `numbers`: the Python function for two numbers (MXNet returns a
    number then); `slot`: the C extension's fast path the op fills (an operator or a method
    of ad._ext.ArrayBase), or None; `methods`: the NDArray methods made from it in Python;
    `doc`: what it computes, the first lines of its docstrings."""
    __slots__ = ()


def _larger(a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # NumPy scalars warn of a NaN
        return a if a > b else b


def _smaller(a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return a if a < b else b


OPS = (
    Op("exp", UNARY, "ad_exp", methods=("exp",), doc="The exponential of each element, e ** x."),
    Op("log", UNARY, "ad_log", methods=("log",),
       doc="The natural logarithm (base e) of each element."),
    Op("sqrt", UNARY, "ad_sqrt", methods=("sqrt",), doc="The square root of each element."),
    Op("abs", UNARY, "ad_abs", methods=("abs", "__abs__"),
       doc="The absolute value of each element (its gradient is the sign, 0 at 0)."),
    Op("square", UNARY, "ad_square", methods=("square",), doc="The square of each element, x * x."),
    Op("relu", UNARY, "ad_relu", methods=("relu",),
       doc="The rectified linear unit of each element, max(x, 0) (its gradient is 0 at 0)."),
    Op("sigmoid", UNARY, "ad_sigmoid", methods=("sigmoid",),
       doc="The logistic sigmoid of each element, 1 / (1 + e ** -x)."),
    Op("tanh", UNARY, "ad_tanh", methods=("tanh",), doc="The hyperbolic tangent of each element."),
    Op("negative", UNARY, "ad_neg", slot="neg", doc="Each element negated, -x (the operator -x)."),
    Op("sin", UNARY, "ad_sin", methods=("sin",), doc="The sine of each element (in radians)."),
    Op("cos", UNARY, "ad_cos", methods=("cos",), doc="The cosine of each element (in radians)."),
    Op("tan", UNARY, "ad_tan", methods=("tan",), doc="The tangent of each element (in radians)."),
    Op("arcsin", UNARY, "ad_arcsin", methods=("arcsin",),
       doc="The inverse sine of each element, in [-pi/2, pi/2]; NaN outside [-1, 1]."),
    Op("arccos", UNARY, "ad_arccos", methods=("arccos",),
       doc="The inverse cosine of each element, in [0, pi]; NaN outside [-1, 1]."),
    Op("arctan", UNARY, "ad_arctan", methods=("arctan",),
       doc="The inverse tangent of each element, in (-pi/2, pi/2)."),
    Op("sinh", UNARY, "ad_sinh", methods=("sinh",), doc="The hyperbolic sine of each element."),
    Op("cosh", UNARY, "ad_cosh", methods=("cosh",), doc="The hyperbolic cosine of each element."),
    Op("arcsinh", UNARY, "ad_arcsinh", methods=("arcsinh",),
       doc="The inverse hyperbolic sine of each element."),
    Op("arccosh", UNARY, "ad_arccosh", methods=("arccosh",),
       doc="The inverse hyperbolic cosine of each element; NaN below 1."),
    Op("arctanh", UNARY, "ad_arctanh", methods=("arctanh",),
       doc="The inverse hyperbolic tangent of each element; NaN outside [-1, 1]."),
    Op("log2", UNARY, "ad_log2", methods=("log2",), doc="The logarithm to base 2 of each element."),
    Op("log10", UNARY, "ad_log10", methods=("log10",),
       doc="The logarithm to base 10 of each element."),
    Op("log1p", UNARY, "ad_log1p", methods=("log1p",),
       doc="ln(1 + x) of each element, accurate for small x."),
    Op("expm1", UNARY, "ad_expm1", methods=("expm1",),
       doc="e ** x - 1 of each element, accurate for small x."),
    Op("cbrt", UNARY, "ad_cbrt", methods=("cbrt",), doc="The cube root of each element."),
    Op("rcbrt", UNARY, "ad_rcbrt", methods=("rcbrt",), doc="1 / cbrt(x) of each element."),
    Op("rsqrt", UNARY, "ad_rsqrt", methods=("rsqrt",), doc="1 / sqrt(x) of each element."),
    Op("reciprocal", UNARY, "ad_reciprocal", methods=("reciprocal",), doc="1 / x of each element."),
    Op("radians", UNARY, "ad_radians", methods=("radians",),
       doc="Each element converted from degrees to radians."),
    Op("degrees", UNARY, "ad_degrees", methods=("degrees",),
       doc="Each element converted from radians to degrees."),
    Op("erf", UNARY, "ad_erf", doc="The error function of each element."),
    Op("gamma", UNARY, "ad_gamma",
       doc="The gamma function of each element; its gradient is gamma(x) * digamma(x), "
           "differentiable again (MXNet's is not)."),
    Op("gammaln", UNARY, "ad_gammaln",
       doc="ln |gamma(x)| of each element; its gradient is digamma(x), differentiable again "
           "(MXNet's is not)."),
    Op("floor", UNARY, "ad_floor", methods=("floor",),
       doc="The largest whole number not above each element (zero gradient)."),
    Op("ceil", UNARY, "ad_ceil", methods=("ceil",),
       doc="The smallest whole number not below each element (zero gradient)."),
    Op("round", UNARY, "ad_round", methods=("round",),
       doc="Each element rounded to the nearest whole number, halves away from zero (zero "
           "gradient)."),
    Op("rint", UNARY, "ad_rint", methods=("rint",),
       doc="Each element rounded to the nearest whole number, halves down as MXNet's rint "
           "does: 1.5 gives 1, -0.5 gives -1 (zero gradient)."),
    Op("trunc", UNARY, "ad_trunc", methods=("trunc",),
       doc="Each element without its fraction, rounded towards zero (zero gradient)."),
    Op("fix", UNARY, "ad_fix", methods=("fix",),
       doc="Each element rounded towards zero, as trunc (zero gradient)."),
    Op("sign", UNARY, "ad_sign", methods=("sign",),
       doc="-1, 0 or 1 by the sign of each element, NaN staying NaN (zero gradient)."),
    Op("isnan", UNARY, "ad_isnan",
       doc="1 where the element is NaN, 0 elsewhere, in its dtype (zero gradient; MXNet's "
           "contrib.isnan)."),
    Op("isinf", UNARY, "ad_isinf",
       doc="1 where the element is infinite, 0 elsewhere, in its dtype (zero gradient; "
           "MXNet's contrib.isinf)."),
    Op("isfinite", UNARY, "ad_isfinite",
       doc="1 where the element is finite, 0 elsewhere, in its dtype (zero gradient; MXNet's"
           " contrib.isfinite)."),

    Op("add", BINARY, "ad_add", "ad_add_scalar", "ad_add_scalar", operator.add, slot="add",
       doc="The sum lhs + rhs, element-wise (the operator +)."),
    Op("subtract", BINARY, "ad_sub", "ad_sub_scalar", "ad_rsub_scalar", operator.sub, slot="sub",
       doc="The difference lhs - rhs, element-wise (the operator -)."),
    Op("multiply", BINARY, "ad_mul", "ad_mul_scalar", "ad_mul_scalar", operator.mul, slot="mul",
       doc="The product lhs * rhs, element-wise (the operator *)."),
    Op("divide", BINARY, "ad_div", "ad_div_scalar", "ad_rdiv_scalar", operator.truediv, slot="truediv",
       doc="The quotient lhs / rhs, element-wise (the operator /)."),
    Op("power", BINARY, "ad_pow", "ad_pow_scalar", "ad_rpow_scalar", operator.pow, slot="pow",
       doc="lhs raised to the power rhs, element-wise (the operator **). MXNet names the "
           "operands `base` and `exp`; ad names them `lhs` and `rhs`, as its other binary ops."),
    Op("maximum", BINARY, "ad_maximum", "ad_maximum_scalar", "ad_maximum_scalar", _larger,
       doc="The larger of lhs and rhs, element-wise; NaN propagates, and on ties the gradient "
           "goes to lhs."),
    Op("minimum", BINARY, "ad_minimum", "ad_minimum_scalar", "ad_minimum_scalar", _smaller,
       doc="The smaller of lhs and rhs, element-wise; NaN propagates, and on ties the gradient "
           "goes to lhs."),

    Op("compare", COMPARE, "ad_compare", "ad_compare_scalar", slot="compare",
       doc="1 where the comparison holds and 0 elsewhere, in the operands' dtype; never "
           "recorded."),

    Op("sum", REDUCE, "ad_sum", slot="sum", doc="The sum of the elements over the given axes."),
    Op("mean", REDUCE, "ad_mean", slot="mean", doc="The mean of the elements over the given axes."),
    Op("max", REDUCE, "ad_max", methods=("max",),
       doc="The largest element over the given axes; NaN propagates, and the gradient goes to "
           "every element equal to the maximum. A reduction over a zero-size axis raises "
           "ValueError."),
    Op("min", REDUCE, "ad_min", methods=("min",),
       doc="The smallest element over the given axes; NaN propagates, and the gradient goes to "
           "every element equal to the minimum. A reduction over a zero-size axis raises "
           "ValueError."),
    Op("norm", NORM, "ad_norm", slot="norm",
       doc="The L2 norm (square root of the sum of squares; with ord=1 the L1 norm, the sum "
           "of absolute values) over the given axes; the L2 norm's gradient is taken as 0 "
           "where the norm is 0 (MXNet gives NaN there), the L1 norm's is the sign (0 at 0)."),
    Op("prod", REDUCE, "ad_prod", methods=("prod",),
       doc="The product of the elements over the given axes (1 over none). The gradient of an "
           "element is the product of the others, also where elements are 0 (MXNet gives NaN "
           "there)."),
    Op("nansum", REDUCE, "ad_nansum", methods=("nansum",),
       doc="The sum of the elements over the given axes, NaN counted as 0; the gradient is 0 "
           "at NaN."),
    Op("nanprod", REDUCE, "ad_nanprod", methods=("nanprod",),
       doc="The product of the elements over the given axes, NaN counted as 1; the gradient is "
           "0 at NaN and, as prod's, right where elements are 0."),
)


# ---------------------------------------------------------------- docstrings
# The skeleton of each kind's docstrings, in MXNet's numpydoc layout; `doc` fills the top.

_OUT = """out : NDArray, optional
    An array to write the result into, in place; it is returned instead of a new array."""

_AXIS = """axis : int, tuple of int or None, optional
    The axis or axes to reduce (negative counts from the end). None, the default, or an
    empty tuple reduces over all axes.
keepdims : bool, optional
    Keep each reduced axis in the result, with size 1 (default False)."""

_EXCLUDE = """exclude : bool, optional
    Reduce over every axis except those of `axis` (default False)."""

_REDUCED = """NDArray
    The reduced array, in the input's dtype. A reduction over all axes without `keepdims`
    has shape (1,), as in MXNet."""



def _summary(op):
    return textwrap.fill(op.doc, 88)


def nd_doc(op):
    """The docstring of `nd.<op.name>`."""
    if op.kind == UNARY:
        return """%s

Parameters
----------
data : NDArray
    The input array.
%s

Returns
-------
NDArray
    The result, with the shape and dtype of `data`.
""" % (_summary(op), _OUT)
    if op.kind == BINARY:
        return """%s

The operands broadcast against each other as in NumPy; a number operand is used as a scalar.

Parameters
----------
lhs : NDArray or scalar
    The first operand.
rhs : NDArray or scalar
    The second operand. Two arrays must have broadcastable shapes and the same dtype.
%s

Returns
-------
NDArray or scalar
    The result, in the broadcast shape and the arrays' dtype. When both operands are
    numbers, the result is a number, as in MXNet.
""" % (_summary(op), _OUT)
    if op.kind == REDUCE:
        return """%s

Parameters
----------
data : NDArray
    The input array.
%s
%s
%s

Returns
-------
%s
""" % (_summary(op), _AXIS, _EXCLUDE, _OUT, _REDUCED)
    if op.kind == NORM:
        return """%s

Parameters
----------
data : NDArray
    The input array.
ord : int, optional
    The order of the norm: 2 (the default) or 1, as MXNet.
%s
%s

Returns
-------
%s

MXNet's `out_dtype` argument is not supported: the result has the input's dtype.
""" % (_summary(op), _AXIS, _OUT, _REDUCED)
    raise ValueError("%s ops have no nd function" % op.kind)


def method_doc(op):
    """The docstring of the NDArray methods made from `op` (the C extension's `sum`, `mean` and
    `norm` carry a copy, which the tests compare)."""
    if op.kind == UNARY:
        return """%s

The fluent form of ``nd.%s``, with this array as `data`.

Returns
-------
NDArray
    The result, with this array's shape and dtype.
""" % (_summary(op), op.name)
    if op.kind == REDUCE:
        return """%s

The fluent form of ``nd.%s``, with this array as `data`.

Parameters
----------
%s
%s
axes : int, tuple of int or None, optional
    Another name for `axis`; give one or the other.

Returns
-------
%s
""" % (_summary(op), op.name, _AXIS, _EXCLUDE, _REDUCED)
    if op.kind == NORM:
        return """%s

The fluent form of ``nd.%s``, with this array as `data`.

Parameters
----------
ord : int, optional
    The order of the norm: 2 (the default) or 1, as MXNet.
%s

Returns
-------
%s

MXNet's `out_dtype` argument is not supported: the result has the input's dtype.
""" % (_summary(op), op.name, _AXIS, _REDUCED)
    raise ValueError("%s ops have no methods" % op.kind)
