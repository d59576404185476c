"""Differential tests of the reductions `prod`, `nansum`, `nanprod`, `norm(ord=1)` and
`cumsum` against MXNet 1.9.1: the same code runs in both libraries and the values, shapes,
dtypes, gradients and errors are compared.

Where MXNet 1.9.1 is wrong, ad differs on purpose and the case is pinned here against NumPy
instead (README, "Differences from MXNet"): the gradient of `prod` and `nanprod` where an
element is 0 (MXNet gives NaN there, the product of the others is right), and `cumsum` along
a negative axis (MXNet refuses it).
"""
import random

import numpy as np
import pytest

from support import import_mxnet, in_both, libraries

mx = import_mxnet("the differential tests")
LIBS = libraries(mx)


def both(f):
    """`f(nd, autograd)` in ad and in MXNet, made comparable (see support.in_both)."""
    return in_both(LIBS, f)


def _close(a, m):
    """Results equal in structure, shapes and dtypes, values to float32 rounding (products and
    running sums may be accumulated in another order)."""
    if isinstance(a, tuple):
        return (a[:2] == m[:2] and np.allclose(np.array(a[2], dtype=float), np.array(m[2], dtype=float),
                                               rtol=2e-6, atol=1e-6, equal_nan=True))
    if isinstance(a, list):
        return isinstance(m, list) and len(a) == len(m) and all(_close(x, y) for x, y in zip(a, m))
    return a == m


def same(f):
    a, m = both(f)
    assert _close(a, m), "ad %r\nmx %r" % (a, m)
    return a


def grads(f, data, head=None, dtype="float32"):
    """`f(nd, x)` recorded on an x holding `data`, backward with `head` (a NumPy array of the
    output's shape, or None for ones): the output and x's gradient, in both libraries."""
    def run(nd, ag):
        x = nd.array(np.asarray(data), dtype=dtype)
        x.attach_grad()
        with ag.record():
            y = f(nd, x)
        y.backward(None if head is None else nd.array(head, dtype=dtype))
        return [y, x.grad]
    return run


AXES = [None, 0, 1, 2, -1, (0, 2), (1,), (), (0, 1, 2), (-3, -1)]


def data(seed, shape=(2, 3, 4), lo=0.5, hi=1.5):
    """Magnitudes in [lo, hi) with random signs: no zeros."""
    r = np.random.RandomState(seed)
    return (r.uniform(lo, hi, shape) * r.choice([-1, 1], shape)).astype(np.float32)


# ------------------------------------------------------------------ prod, nansum, nanprod
@pytest.mark.parametrize("name", ["prod", "nansum", "nanprod", "sum"])
@pytest.mark.parametrize("axis", AXES)
def test_products_and_nan_reductions_match_mxnet(name, axis):
    x = data(1)
    for keepdims in (False, True):
        for exclude in (False, True):
            same(lambda nd, ag: getattr(nd, name)(nd.array(x), axis=axis, keepdims=keepdims, exclude=exclude))
            same(grads(lambda nd, x: getattr(nd, name)(x, axis=axis, keepdims=keepdims, exclude=exclude) * 3, x))
        # the method form
        same(lambda nd, ag: getattr(nd.array(x), name)(axis=axis, keepdims=keepdims))
    same(lambda nd, ag: getattr(nd.array(x), name)())
    same(lambda nd, ag: getattr(nd, name)(nd.array(x, dtype="float64"), axis=axis))


@pytest.mark.parametrize("name", ["prod", "nansum", "nanprod"])
def test_products_and_nan_reductions_errors_as_mxnet(name):
    x = data(2)
    for axis in (3, -4, (0, 0)):
        same(lambda nd, ag: getattr(nd, name)(nd.array(x), axis=axis))


def test_nan_reductions_skip_nan_as_mxnet():
    x = data(3, (3, 4))
    x[0, 1] = x[2, 2] = x[2, 3] = np.nan
    for name in ("nansum", "nanprod"):
        for axis in (None, 0, 1):
            same(lambda nd, ag: getattr(nd, name)(nd.array(x), axis=axis))
            same(grads(lambda nd, x: getattr(nd, name)(x, axis=axis), x))
    # a row of NaN only: 0 and 1, gradient 0
    x[1] = np.nan
    same(grads(lambda nd, x: nd.nansum(x, axis=1), x))
    same(grads(lambda nd, x: nd.nanprod(x, axis=1), x))


def test_products_on_random_arguments_match_mxnet():
    r = random.Random(4)
    for _ in range(60):
        ndim = r.randint(1, 4)
        shape = tuple(r.randint(1, 3) for _ in range(ndim))
        x = data(r.randint(0, 10 ** 6), shape)
        k = r.randint(0, ndim)
        axis = tuple(sorted(r.sample(range(ndim), k))) if r.random() < 0.7 else None
        head = np.random.RandomState(r.randint(0, 99)).uniform(-1, 1, np.prod(shape)).astype(np.float32)
        name = r.choice(["prod", "nanprod", "nansum"])
        keepdims = r.random() < 0.5

        def f(nd, x):
            return getattr(nd, name)(x, axis=axis, keepdims=keepdims)
        same(grads(lambda nd, x: (f(nd, x) * nd.array(np.ones(1))).sum() + (x * nd.array(head.reshape(shape))).sum(), x))
        same(grads(f, x))


def test_prod_gradient_at_zeros_is_the_product_of_the_others():
    # MXNet's gradient of prod is out / x: NaN at a zero. ad gives the product of the others.
    from ad import autograd, nd
    x = np.array([[2, 0, 3], [0, 0, 5], [1, 2, 4], [0, 7, -1]], dtype=np.float32)
    for axis, name in ((1, "prod"), (1, "nanprod")):
        a = nd.array(x)
        a.attach_grad()
        with autograd.record():
            y = getattr(nd, name)(a, axis=axis)
        y.backward()
        expect = np.array([[np.prod(np.delete(row, j)) for j in range(3)] for row in x])
        assert np.array_equal(a.grad.asnumpy(), expect), a.grad.asnumpy()
        assert np.array_equal(y.asnumpy(), x.prod(axis=1))
    # and what MXNet gives, so that the difference stays known
    m = mx.nd.array(x)
    m.attach_grad()
    with mx.autograd.record():
        y = mx.nd.prod(m, axis=1)
    y.backward()
    assert np.isnan(m.grad.asnumpy()[0, 1])


# ------------------------------------------------------------------ norm(ord=1)
@pytest.mark.parametrize("axis", AXES)
def test_l1_norm_matches_mxnet(axis):
    x = data(5, lo=0.1, hi=2.0)
    for keepdims in (False, True):
        same(lambda nd, ag: nd.norm(nd.array(x), ord=1, axis=axis, keepdims=keepdims))
        same(lambda nd, ag: nd.array(x).norm(ord=1, axis=axis, keepdims=keepdims))
        same(grads(lambda nd, x: nd.norm(x, ord=1, axis=axis, keepdims=keepdims), x))
        same(grads(lambda nd, x: x.norm(1, axis=axis, keepdims=keepdims) * 2, x, dtype="float64"))


def test_l1_norm_gradient_at_zero_and_orders_as_mxnet():
    x = np.array([[1, 0, -3], [0, 0, 2]], dtype=np.float32)
    same(grads(lambda nd, x: nd.norm(x, ord=1, axis=1), x))
    same(grads(lambda nd, x: nd.norm(x, ord=1), x))
    for ord in (0, 3, -1):
        same(lambda nd, ag: nd.norm(nd.array(x), ord=ord))
    same(lambda nd, ag: nd.norm(nd.array(x), ord=2, axis=1))


# ------------------------------------------------------------------ cumsum
@pytest.mark.parametrize("axis", [None, 0, 1, 2])
def test_cumsum_matches_mxnet(axis):
    x = data(6, lo=-2, hi=2)
    same(lambda nd, ag: nd.cumsum(nd.array(x), axis=axis))
    same(lambda nd, ag: nd.cumsum(nd.array(x), axis))
    same(lambda nd, ag: nd.cumsum(nd.array(x, dtype="float64"), axis=axis))
    same(lambda nd, ag: nd.cumsum(nd.array(x), axis=axis, dtype="float64"))
    same(lambda nd, ag: nd.cumsum(nd.array(x[0]), axis=None if axis is None else min(axis, 1)))
    head = np.random.RandomState(7).uniform(-1, 1, x.size if axis is None else x.shape).astype(np.float32)
    same(grads(lambda nd, x: nd.cumsum(x, axis=axis), x, head))
    same(grads(lambda nd, x: nd.cumsum(x, axis=axis) * 2, x))


def test_cumsum_errors_as_mxnet():
    x = data(8, (2, 3))
    for axis in (2, 5):
        same(lambda nd, ag: nd.cumsum(nd.array(x), axis=axis))


def test_cumsum_takes_negative_axes_as_numpy():
    # MXNet 1.9.1 refuses a negative axis; NumPy's and ad's count it from the end.
    from ad import nd
    x = data(9)
    for axis in (-1, -2, -3):
        assert np.allclose(nd.cumsum(nd.array(x), axis=axis).asnumpy(), np.cumsum(x, axis=axis), rtol=1e-6)
    assert both(lambda nd, ag: nd.cumsum(nd.array(x), axis=-1))[1] == "error"


# ------------------------------------------------------------------ dot of N-d arrays, batch_dot
DOT_CASES = [((2, 3, 4), (4, 5), False, False), ((2, 3, 4), (2, 5), True, False), ((2, 3, 4), (5, 4), False, True),
             ((2, 3, 4), (5, 3, 4), False, True), ((3,), (3, 4, 5), False, False), ((2, 3, 4), (4,), False, False),
             ((3,), (4, 5, 3), False, True), ((2, 3, 4), (2,), True, False), ((2, 3), (3, 4, 5), False, False),
             ((2, 3, 4), (2, 3, 5), True, False), ((2, 3), (3, 2, 2), True, True), ((4, 3, 2), (2, 5, 6), True, True),
             ((2, 3, 4), (3, 4), False, False), ((2, 3, 4), (2, 5), False, False), ((2, 2, 2), (2, 2, 2), False, False)]


def operands(sa, sb, seed):
    r = np.random.RandomState(seed)
    return r.uniform(-2, 2, sa).astype(np.float32), r.uniform(-2, 2, sb).astype(np.float32)


def grads2(f, a, b, dtype="float32"):
    """`f(nd, x, y)` recorded, backward with ones: the output and both gradients."""
    def run(nd, ag):
        x, y = nd.array(a, dtype=dtype), nd.array(b, dtype=dtype)
        x.attach_grad()
        y.attach_grad()
        with ag.record():
            z = f(nd, x, y)
        z.backward(nd.array(np.linspace(-1, 1, z.size).reshape(z.shape), dtype=dtype))
        return [z, x.grad, y.grad]
    return run


@pytest.mark.parametrize("sa, sb, ta, tb", DOT_CASES)
def test_dot_of_nd_arrays_matches_mxnet(sa, sb, ta, tb):
    a, b = operands(sa, sb, 10)
    same(lambda nd, ag: nd.dot(nd.array(a), nd.array(b), transpose_a=ta, transpose_b=tb))
    same(lambda nd, ag: nd.dot(nd.array(a, dtype="float64"), nd.array(b, dtype="float64"), ta, tb))
    same(grads2(lambda nd, x, y: nd.dot(x, y, transpose_a=ta, transpose_b=tb), a, b))


BATCH_CASES = [((2, 3, 4), (2, 4, 5), False, False), ((2, 4, 3), (2, 4, 5), True, False),
               ((2, 3, 4), (2, 5, 4), False, True), ((2, 4, 3), (2, 5, 4), True, True),
               ((2, 3, 4, 5), (2, 3, 5, 6), False, False), ((1, 1, 1), (1, 1, 1), False, False),
               ((2, 3, 4), (3, 4, 5), False, False), ((3, 4), (4, 5), False, False), ((2, 3, 4), (1, 4, 5), False, False),
               ((2, 3, 4), (2, 3, 5), False, False), ((2, 3, 4), (2, 4, 5), True, False)]


@pytest.mark.parametrize("sa, sb, ta, tb", BATCH_CASES)
def test_batch_dot_matches_mxnet(sa, sb, ta, tb):
    a, b = operands(sa, sb, 11)
    same(lambda nd, ag: nd.batch_dot(nd.array(a), nd.array(b), transpose_a=ta, transpose_b=tb))
    same(lambda nd, ag: nd.batch_dot(nd.array(a, dtype="float64"), nd.array(b, dtype="float64"), ta, tb))
    same(grads2(lambda nd, x, y: nd.batch_dot(x, y, transpose_a=ta, transpose_b=tb), a, b))


def test_dot_and_batch_dot_differentiate_twice_where_mxnet_cannot():
    # MXNet 1.9.1's backward of dot and batch_dot has no gradient of its own; ad's does (its
    # values are checked against finite differences in tests/gradcheck.rs).
    a, b = operands((2, 3, 4), (2, 4, 2), 12)

    def run(nd, ag, op, a, b):
        x, y = nd.array(a), nd.array(b)
        x.attach_grad()
        y.attach_grad()
        with ag.record():
            z = (op(nd)(x, y) ** 2).sum()
            gx = ag.grad(z, [x], create_graph=True, retain_graph=True)[0]
            w = (gx * gx).sum()
        w.backward()
        return gx.asnumpy(), y.grad.asnumpy()
    for op, (a2, b2) in ((lambda nd: nd.batch_dot, (a, b)), (lambda nd: nd.dot, (a[0], b[0]))):
        with pytest.raises(mx.base.MXNetError):
            run(*LIBS["mx"], op, a2, b2)
        gx, gy = run(*LIBS["ad"], op, a2, b2)
        x, y = a2.astype(np.float64), b2.astype(np.float64)
        c = x @ y
        expect_gx = 2 * c @ np.swapaxes(y, -1, -2)    # gx = 2 x y yᵀ
        g = 2 * expect_gx                              # dw/dgx, w = |gx|²
        t = lambda m: np.swapaxes(m, -1, -2)           # noqa: E731
        expect_gy = 2 * t(x) @ g @ y + 2 * t(g) @ x @ y
        assert np.allclose(gx, expect_gx, rtol=1e-5, atol=1e-5)
        assert np.allclose(gy, expect_gy, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------ sort, argsort, topk
TIES = np.array([[3, 1, 2, 1], [0, 5, 5, -1]], dtype=np.float32)


@pytest.mark.parametrize("axis", [-1, 0, 1, None, -2])
def test_sort_and_argsort_match_mxnet(axis):
    x = data(13, lo=-2, hi=2)
    for is_ascend in (True, False):
        for arr in (x, TIES):
            if axis is not None and axis >= arr.ndim:
                continue
            same(lambda nd, ag: nd.sort(nd.array(arr), axis=axis, is_ascend=is_ascend))
            same(lambda nd, ag: nd.argsort(nd.array(arr), axis=axis, is_ascend=is_ascend))
            same(lambda nd, ag: nd.array(arr).sort(axis=axis, is_ascend=is_ascend))
            same(lambda nd, ag: nd.array(arr).argsort(axis=axis, is_ascend=is_ascend))
            same(lambda nd, ag: nd.argsort(nd.array(arr, dtype="float64"), axis=axis, is_ascend=is_ascend,
                                           dtype="float64"))
        head = np.random.RandomState(14).uniform(-1, 1, x.size if axis is None else x.shape).astype(np.float32)
        same(grads(lambda nd, x: nd.sort(x, axis=axis, is_ascend=is_ascend), x, head))
    same(lambda nd, ag: nd.sort(nd.array(x)))
    same(lambda nd, ag: nd.argsort(nd.array(x)))


@pytest.mark.parametrize("axis", [-1, 0, 1, None])
@pytest.mark.parametrize("k", [1, 2, 0, -1])
def test_topk_matches_mxnet(axis, k):
    x = data(15, lo=-2, hi=2)
    for is_ascend in (False, True):
        for arr in (x, TIES):
            for ret_typ in ("indices", "value", "mask", "both"):
                same(lambda nd, ag: nd.topk(nd.array(arr), axis=axis, k=k, ret_typ=ret_typ, is_ascend=is_ascend))
                same(lambda nd, ag: nd.array(arr).topk(axis=axis, k=k, ret_typ=ret_typ, is_ascend=is_ascend))
            same(lambda nd, ag: nd.topk(nd.array(arr, dtype="float64"), axis=axis, k=k, ret_typ="both", dtype="float64"))
        out_shape = list(x.shape if axis is not None else (x.size,))
        ax = -1 if axis is None else axis
        out_shape[ax] = out_shape[ax] if k < 1 else k
        head = np.random.RandomState(16).uniform(-1, 1, out_shape).astype(np.float32)
        same(grads(lambda nd, x: nd.topk(x, axis=axis, k=k, ret_typ="value", is_ascend=is_ascend), x, head))
    same(lambda nd, ag: nd.topk(nd.array(x)))


def test_sort_and_topk_errors_as_mxnet():
    x = data(17, (2, 3))
    same(lambda nd, ag: nd.topk(nd.array(x), k=4))
    same(lambda nd, ag: nd.topk(nd.array(x), axis=0, k=3, ret_typ="value"))
    same(lambda nd, ag: nd.topk(nd.array(x), ret_typ="values"))
    for axis in (2, -3):
        same(lambda nd, ag: nd.sort(nd.array(x), axis=axis))
        same(lambda nd, ag: nd.argsort(nd.array(x), axis=axis))
        same(lambda nd, ag: nd.topk(nd.array(x), axis=axis))


def test_sorted_indices_are_constants_as_mxnet():
    x = data(18, (3, 4), lo=-2, hi=2)
    # indices and masks carry no gradient: only the values term reaches x
    same(grads(lambda nd, x: nd.topk(x, k=2, ret_typ="value") * 2 + nd.topk(x, k=2).sum(), x))
    same(grads(lambda nd, x: nd.sort(x, axis=0) + nd.argsort(x, axis=0), x))
    same(grads(lambda nd, x: x * nd.topk(x, k=2, ret_typ="mask"), x))
