"""The neural-network functions of `nd` (ad/nd/_nn.py) against real MXNet 1.9.1: on seeded
random inputs the same Python code runs in both libraries and the values, the gradients (of a
random head gradient) and the optimizer updates are compared.

Deliberate differences from MXNet, pinned here rather than compared:
- pick / softmax_cross_entropy with a label out of range raise IndexError (MXNet clips it).
- Dropout with p=1 raises ValueError (MXNet returns NaN).
- BatchNorm in prediction mode inside record: ad's gradient w.r.t. data is that of the
  function it computed, gamma/sqrt(moving_var+eps) * head; MXNet 1.9.1 backpropagates the
  training-mode (batch-statistics) formula there. ad's is checked against the analytic value.
- BatchNorm with fix_gamma=True: MXNet also overwrites gamma with ones; ad leaves it alone.
- Changing an array in place after a recorded operation saved it makes backward raise (MXNet
  silently uses the new values).
"""
import re

import numpy as np
import pytest

import ad
from ad import autograd, nd
from support import import_mxnet, libraries

mx = import_mxnet("the nn comparison tests")
LIBS = libraries(mx)
# MXNet 1.9.1 uses a SciPy namespace that newer SciPy deprecates, on every nd.array.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:mxnet")


# ------------------------------------------------------------------ helpers

def rand(seed, *shape, scale=1.0, low=None):
    """Seeded float32 normals (or uniforms in [low, low + scale) when low is given)."""
    rs = np.random.RandomState(seed)
    if low is not None:
        return (low + scale * rs.rand(*shape)).astype(np.float32)
    return (scale * rs.randn(*shape)).astype(np.float32)


def forward_backward(lib, fn, inputs, diff, head_seed=0, train_mode=True):
    """Runs `fn(nd, *arrays)` under record in `lib`, then backward with a random head gradient;
    returns the value and the gradients of the inputs whose positions are in `diff`. A head_seed
    of None seeds backward with ones."""
    nd_, autograd_ = LIBS[lib]
    arrays = [nd_.array(x) for x in inputs]
    for i in diff:
        arrays[i].attach_grad()
    with autograd_.record(train_mode=train_mode):
        y = fn(nd_, *arrays)
    if head_seed is None:
        y.backward()
    else:
        head = np.random.RandomState(head_seed).uniform(-1, 1, size=y.shape).astype(np.float32)
        y.backward(nd_.array(head))
    return y.asnumpy(), [arrays[i].grad.asnumpy() for i in diff]


def assert_close(got, expected, what, rtol=1e-5, atol=1e-6):
    """Equal shapes and dtypes, values equal to float32 rounding: within rtol of each element or
    of the largest magnitude (the libraries round differently, e.g. in log-sum-exp)."""
    assert got.shape == expected.shape, "%s: shape %s, MXNet %s" % (what, got.shape, expected.shape)
    assert got.dtype == expected.dtype, "%s: dtype %s, MXNet %s" % (what, got.dtype, expected.dtype)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=max(atol, rtol * scale),
                               err_msg="%s differs from MXNet" % what)


def assert_matches_mxnet(fn, inputs, diff=None, rtol=1e-5, atol=1e-6, head_seed=0):
    """Values and gradients of `fn` on `inputs` (numpy arrays) equal MXNet's."""
    diff = list(range(len(inputs))) if diff is None else list(diff)
    ad_y, ad_g = forward_backward("ad", fn, inputs, diff, head_seed)
    mx_y, mx_g = forward_backward("mx", fn, inputs, diff, head_seed)
    assert_close(ad_y, mx_y, "value", rtol, atol)
    for i, g, m in zip(diff, ad_g, mx_g):
        assert_close(g, m, "gradient of input %d" % i, rtol, atol)
    return ad_y, ad_g


def values_both(fn, inputs):
    """The value of `fn(nd, *arrays)` (not recorded) in ad and in MXNet."""
    return [fn(LIBS[lib][0], *[LIBS[lib][0].array(x) for x in inputs]).asnumpy() for lib in ("ad", "mx")]


# ------------------------------------------------------------------ softmax family

SOFTMAX_CASES = [((4, 5), -1), ((4, 5), 0), ((4, 5), 1), ((2, 3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), 2),
                 ((2, 3, 4), -2), ((6,), 0)]


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,axis", SOFTMAX_CASES)
def test_softmax_and_log_softmax_match_mxnet(name, shape, axis):
    x = rand(sum(shape) + axis, *shape, scale=3.0)
    y, _ = assert_matches_mxnet(lambda nd_, a: getattr(nd_, name)(a, axis=axis), [x])
    # the function itself, not just agreement: rows sum to 1 (softmax) / exp sums to 1
    total = np.exp(y).sum(axis=axis) if name == "log_softmax" else y.sum(axis=axis)
    np.testing.assert_allclose(total, 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_fluent_form_and_temperature_match_mxnet(name):
    x = rand(7, 3, 4)
    assert_matches_mxnet(lambda nd_, a: getattr(a, name)(axis=0), [x])
    assert_matches_mxnet(lambda nd_, a: getattr(nd_, name)(a, axis=-1, temperature=2.5), [x])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_is_stable_at_large_logits(name):
    small = rand(11, 3, 6, scale=5.0)
    big = small + np.float32(1e4)            # logits ~1e4: exp would overflow
    got_big, grads_big = assert_matches_mxnet(lambda nd_, a: getattr(nd_, name)(a, axis=-1), [big])
    assert np.all(np.isfinite(got_big)) and np.all(np.isfinite(grads_big[0]))
    # shifting every logit of a row by a constant changes nothing (up to the rounding of big)
    got_small = getattr(nd, name)(nd.array(big - np.float32(1e4)), axis=-1).asnumpy()
    np.testing.assert_allclose(got_big, got_small, rtol=1e-5, atol=1e-5)


def test_softmax_cross_entropy_matches_mxnet():
    logits = rand(3, 8, 5, scale=2.0)
    labels = np.random.RandomState(4).randint(0, 5, size=8).astype(np.float32)
    y, _ = assert_matches_mxnet(lambda nd_, a, lab: nd_.softmax_cross_entropy(a, lab), [logits, labels], diff=[0])
    assert y.shape == (1,)                       # MXNet's: the summed loss, shape (1,)
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(y[0], -logp[np.arange(8), labels.astype(int)].sum(), rtol=1e-5)


def test_softmax_cross_entropy_equals_log_softmax_and_pick():
    logits = rand(5, 6, 4)
    labels = np.array([0, 3, 1, 2, 3, 0], dtype=np.float32)
    sce, (g1,) = forward_backward("ad", lambda nd_, a, lab: nd_.softmax_cross_entropy(a, lab),
                                  [logits, labels], [0], head_seed=None)
    composed, (g2,) = forward_backward("ad", lambda nd_, a, lab: -nd_.pick(nd_.log_softmax(a), lab).sum(),
                                       [logits, labels], [0], head_seed=None)
    np.testing.assert_allclose(sce, composed, rtol=1e-5)
    np.testing.assert_allclose(g1, g2, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ pick, one_hot, argmax

@pytest.mark.parametrize("shape,axis", [((4, 5), 0), ((4, 5), 1), ((4, 5), -1), ((3, 4, 2), 0), ((3, 4, 2), 1),
                                        ((3, 4, 2), -1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_pick_matches_mxnet(shape, axis, keepdims):
    x = rand(len(shape) * 10 + axis, *shape)
    index_shape = shape[:axis % len(shape)] + shape[axis % len(shape) + 1:]
    index = np.random.RandomState(axis + 5).randint(0, shape[axis], size=index_shape).astype(np.float32)
    y, _ = assert_matches_mxnet(lambda nd_, a, i: nd_.pick(a, i, axis=axis, keepdims=keepdims), [x, index], diff=[0])
    expected = np.take_along_axis(x, np.expand_dims(index.astype(int), axis), axis)
    np.testing.assert_array_equal(y, expected if keepdims else np.squeeze(expected, axis))


def test_one_hot_matches_mxnet():
    indices = np.array([0, 3, 1, 4, -1, 7, 2], dtype=np.float32)   # 4, -1 and 7 are out of range
    got, expected = values_both(lambda nd_, i: nd_.one_hot(i, 4), [indices])
    assert_close(got, expected, "one_hot")
    np.testing.assert_array_equal(got[[3, 4, 5]], 0)               # out of range: an off row
    np.testing.assert_array_equal(got[[0, 1, 2, 6]], np.eye(4, dtype=np.float32)[[0, 3, 1, 2]])

    got, expected = values_both(lambda nd_, i: nd_.one_hot(i, 5, on_value=2.5, off_value=-1.0), [indices])
    assert_close(got, expected, "one_hot with on/off values")
    np.testing.assert_array_equal(got[5], [-1.0] * 5)
    assert got[1, 3] == 2.5 and (got[1] == 2.5).sum() == 1

    grid = np.array([[0, 2], [1, 1], [3, 0]], dtype=np.float32)
    got, expected = values_both(lambda nd_, i: nd_.one_hot(i, 3, dtype="float64"), [grid])
    assert_close(got, expected, "one_hot of 2-d indices, float64")
    assert got.shape == (3, 2, 3) and got.dtype == np.float64


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, 2])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin_match_mxnet(name, axis, keepdims):
    x = rand(21, 3, 4, 5)
    got, expected = values_both(lambda nd_, a: getattr(nd_, name)(a, axis=axis, keepdims=keepdims), [x])
    assert_close(got, expected, "%s(axis=%r, keepdims=%r)" % (name, axis, keepdims), rtol=0, atol=0)
    assert got.dtype == np.float32
    ref = getattr(np, name)(x, axis=axis)
    np.testing.assert_array_equal(got.ravel(), np.ravel(ref))
    if axis is not None:
        fluent = getattr(nd.array(x), name)(axis=axis, keepdims=keepdims).asnumpy()
        np.testing.assert_array_equal(fluent, got)


def test_argmax_ties_pick_the_first_as_mxnet():
    t = np.array([[1, 3, 3, 0], [2, 2, 1, 2]], dtype=np.float32)
    for name, expected in (("argmax", [1, 0]), ("argmin", [3, 2])):
        got, mx_got = values_both(lambda nd_, a: getattr(nd_, name)(a, axis=1), [t])
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(mx_got, expected)


# ------------------------------------------------------------------ clip, where

def test_clip_matches_mxnet():
    x = rand(31, 5, 6, scale=2.0)
    x[np.abs(np.abs(x) - 1.0) < 1e-3] = 0.5          # keep away from the kinks
    y, (g,) = assert_matches_mxnet(lambda nd_, a: nd_.clip(a, -1.0, 1.0), [x])
    assert y.min() >= -1.0 and y.max() <= 1.0
    assert np.all(g[np.abs(x) > 1.0] == 0) and np.all(g[np.abs(x) < 1.0] != 0)
    assert_matches_mxnet(lambda nd_, a: a.clip(-0.3, 2.0), [x])


def test_where_matches_mxnet():
    cond = (np.random.RandomState(32).rand(4, 5) > 0.5).astype(np.float32)
    x, y = rand(33, 4, 5), rand(34, 4, 5)
    out, (gx, gy) = assert_matches_mxnet(lambda nd_, c, a, b: nd_.where(c, a, b), [cond, x, y], diff=[1, 2])
    np.testing.assert_array_equal(out, np.where(cond != 0, x, y))
    assert np.all(gx[cond == 0] == 0) and np.all(gy[cond != 0] == 0)


# ------------------------------------------------------------------ FullyConnected, shapes

FC_CASES = {
    "bias": ((5, 4), (3, 4), True, {}),
    "no_bias": ((5, 4), (3, 4), False, {}),
    "no_bias_flatten_3d": ((2, 3, 4), (6, 12), False, {}),
    "no_bias_flatten_false_3d": ((2, 3, 4), (6, 4), False, {"flatten": False}),
    "flatten_3d": ((2, 3, 4), (6, 12), True, {}),
    "flatten_false_3d": ((2, 3, 4), (6, 4), True, {"flatten": False}),
    "flatten_false_2d": ((5, 4), (2, 4), True, {"flatten": False}),
}


@pytest.mark.parametrize("case", sorted(FC_CASES))
def test_fully_connected_matches_mxnet(case):
    data_shape, weight_shape, with_bias, kwargs = FC_CASES[case]
    num_hidden = weight_shape[0]
    inputs = [rand(41, *data_shape), rand(42, *weight_shape, scale=0.5)]
    if with_bias:
        inputs.append(rand(43, num_hidden))

        def fn(nd_, x, w, b):
            return nd_.FullyConnected(x, w, b, num_hidden=num_hidden, **kwargs)
    else:
        def fn(nd_, x, w):
            return nd_.FullyConnected(data=x, weight=w, num_hidden=num_hidden, no_bias=True, **kwargs)
    y, _ = assert_matches_mxnet(fn, inputs)
    x2 = inputs[0].reshape(data_shape[0], -1) if kwargs.get("flatten", True) else inputs[0]
    expected = x2 @ inputs[1].T + (inputs[2] if with_bias else 0)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_fully_connected_no_bias_in_ad_without_num_hidden():
    x, w = rand(44, 3, 4), rand(45, 2, 4)
    got = nd.FullyConnected(nd.array(x), nd.array(w), no_bias=True).asnumpy()
    np.testing.assert_allclose(got, x @ w.T, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(6,), (2, 3, 4), (2, 1, 3, 2)])
@pytest.mark.parametrize("form", ["nd.flatten", "nd.Flatten", "NDArray.flatten"])
def test_flatten_matches_mxnet(shape, form):
    fns = {"nd.flatten": lambda nd_, a: nd_.flatten(a), "nd.Flatten": lambda nd_, a: nd_.Flatten(a),
           "NDArray.flatten": lambda nd_, a: a.flatten()}
    x = rand(51, *shape)
    y, _ = assert_matches_mxnet(lambda nd_, a: fns[form](nd_, a) * 2, [x])
    assert y.shape == (shape[0], int(np.prod(shape[1:])))      # (N,) gives (N, 1)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_concat_matches_mxnet(dim):
    base = [3, 4]
    shapes = []
    for k, n in enumerate((2, 1, 3)):
        s = list(base)
        s[dim] = n
        shapes.append(tuple(s))
    inputs = [rand(60 + k, *s) for k, s in enumerate(shapes)]
    y, _ = assert_matches_mxnet(lambda nd_, a, b, c: nd_.concat(a, b, c, dim=dim), inputs)
    np.testing.assert_array_equal(y, np.concatenate(inputs, axis=dim))
    assert_matches_mxnet(lambda nd_, a, b, c: nd_.concat(*[a, b, c], dim=dim) * 3, inputs)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack_matches_mxnet(axis):
    inputs = [rand(70 + k, 3, 4) for k in range(3)]
    y, _ = assert_matches_mxnet(lambda nd_, a, b, c: nd_.stack(a, b, c, axis=axis), inputs)
    np.testing.assert_array_equal(y, np.stack(inputs, axis=axis))


@pytest.mark.parametrize("axis,begin,end", [(0, 1, 3), (1, 0, 2), (1, 2, None), (-1, -3, -1), (2, 1, 5),
                                            (-3, -2, None), (1, 0, 4)])
def test_slice_axis_matches_mxnet(axis, begin, end):
    x = rand(80, 3, 4, 5)
    y, _ = assert_matches_mxnet(lambda nd_, a: nd_.slice_axis(a, axis=axis, begin=begin, end=end), [x])
    key = [slice(None)] * 3
    key[axis] = slice(begin, end)
    np.testing.assert_array_equal(y, x[tuple(key)])


@pytest.mark.parametrize("kwargs", [dict(axis=3, begin=0, end=1), dict(axis=-4, begin=0, end=1),
                                    dict(axis=1, begin=0, end=5), dict(axis=1, begin=2, end=2),
                                    dict(axis=1, begin=3, end=1), dict(axis=1, begin=-5, end=None),
                                    dict(axis=1, begin=4, end=None)])
def test_slice_axis_refuses_what_mxnet_refuses(kwargs):
    x = rand(81, 3, 4, 5)
    with pytest.raises(mx.base.MXNetError):
        mx.nd.slice_axis(mx.nd.array(x), **kwargs).asnumpy()
    with pytest.raises(ValueError) as info:
        nd.slice_axis(nd.array(x), **kwargs)
    assert isinstance(info.value, ad.ADError)
    assert "(3, 4, 5)" in str(info.value)


# ------------------------------------------------------------------ Dropout

def test_dropout_is_the_identity_in_prediction_mode():
    x = rand(90, 50, 40)
    y = nd.Dropout(nd.array(x), p=0.5)                  # outside record: prediction mode
    np.testing.assert_array_equal(y.asnumpy(), x)
    a = nd.array(x)
    a.attach_grad()
    head = rand(91, 50, 40)
    with autograd.record():
        with autograd.predict_mode():
            y = nd.Dropout(a, p=0.5)
    y.backward(nd.array(head))
    np.testing.assert_array_equal(y.asnumpy(), x)
    np.testing.assert_array_equal(a.grad.asnumpy(), head)
    with autograd.record(train_mode=False):
        y = nd.Dropout(a, p=0.5)
    np.testing.assert_array_equal(y.asnumpy(), x)
    # MXNet agrees
    np.testing.assert_array_equal(mx.nd.Dropout(mx.nd.array(x), p=0.5).asnumpy(), x)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.75])
def test_dropout_in_training_mode(p):
    x = rand(92, 100, 200, low=1.0, scale=1.0)          # no zeros of its own
    a = nd.array(x)
    a.attach_grad()
    head = rand(93, 100, 200)
    with autograd.record():
        y = nd.Dropout(a, p=p)
    y.backward(nd.array(head))
    y = y.asnumpy()
    kept = y != 0
    assert abs((~kept).mean() - p) < 0.02, "dropped fraction %.4f for p=%s" % ((~kept).mean(), p)
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p), rtol=1e-6)
    grad = a.grad.asnumpy()
    np.testing.assert_allclose(grad, np.where(kept, head / (1 - p), 0), rtol=1e-6, atol=1e-7)
    # MXNet's dropout in the same situation: the same fraction and scale, up to sampling
    with mx.autograd.record():
        m = mx.nd.Dropout(mx.nd.array(x), p=p).asnumpy()
    assert abs((m == 0).mean() - (~kept).mean()) < 0.03
    np.testing.assert_allclose(m[m != 0], x[m != 0] / (1 - p), rtol=1e-6)


def test_dropout_always_drops_even_outside_record():
    x = np.ones((100, 100), dtype=np.float32)
    y = nd.Dropout(nd.array(x), p=0.4, mode="always").asnumpy()
    assert abs((y == 0).mean() - 0.4) < 0.03
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.6], rtol=1e-6)
    with autograd.record():
        with autograd.predict_mode():
            y = nd.Dropout(nd.array(x), p=0.4, mode="always").asnumpy()
    assert abs((y == 0).mean() - 0.4) < 0.03
    assert not autograd.is_training()       # the 'always' scope restored the flag
    m = mx.nd.Dropout(mx.nd.array(x), p=0.4, mode="always").asnumpy()
    assert abs((m == 0).mean() - 0.4) < 0.03


def test_dropout_mask_follows_the_seed():
    x = nd.ones((30, 30))
    nd.random.seed(123)
    first = nd.Dropout(x, p=0.5, mode="always").asnumpy()
    nd.random.seed(123)
    again = nd.Dropout(x, p=0.5, mode="always").asnumpy()
    other = nd.Dropout(x, p=0.5, mode="always").asnumpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_dropout_p_zero_keeps_everything():
    x = rand(94, 10, 10)
    with autograd.record():
        y = nd.Dropout(nd.array(x), p=0.0)
    np.testing.assert_array_equal(y.asnumpy(), x)


# ------------------------------------------------------------------ BatchNorm

def bn_inputs(shape, seed):
    c = shape[1]
    return [rand(seed, *shape, scale=2.0) + np.float32(0.5), rand(seed + 1, c, low=0.5), rand(seed + 2, c),
            rand(seed + 3, c), rand(seed + 4, c, low=0.5)]


def run_batchnorm(lib, inputs, steps=1, record=True, train_mode=True, predict_scope=False, head_seed=0,
                  **kwargs):
    """BatchNorm in `lib` for `steps` steps (the moving statistics carry over); returns the last
    output, the gradients of data, gamma and beta (None outside record) and the moving stats."""
    nd_, autograd_ = LIBS[lib]
    x, gamma, beta, mm, mv = [nd_.array(v) for v in inputs]
    for v in (x, gamma, beta):
        v.attach_grad()
    for step in range(steps):
        # MXNet's fix_gamma overwrites gamma with ones: start each step from the same gamma
        gamma[:] = inputs[1]
        if record:
            with autograd_.record(train_mode=train_mode):
                if predict_scope:
                    with autograd_.predict_mode():
                        y = nd_.BatchNorm(x, gamma, beta, mm, mv, **kwargs)
                else:
                    y = nd_.BatchNorm(x, gamma, beta, mm, mv, **kwargs)
            head = np.random.RandomState(head_seed + step).uniform(-1, 1, size=y.shape).astype(np.float32)
            y.backward(nd_.array(head))
            grads = [v.grad.asnumpy() for v in (x, gamma, beta)]
        else:
            y = nd_.BatchNorm(x, gamma, beta, mm, mv, **kwargs)
            grads = None
    return y.asnumpy(), grads, mm.asnumpy(), mv.asnumpy()


def bn_reference(x, gamma, beta, mean, var, eps, fix_gamma):
    shape = [1] * x.ndim
    shape[1] = -1
    g = np.ones_like(gamma) if fix_gamma else gamma
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * g.reshape(shape) + beta.reshape(shape)


BN_TRAIN_CASES = {
    "2d_fix_gamma": ((8, 3), dict(fix_gamma=True)),
    "2d_free_gamma": ((8, 3), dict(fix_gamma=False)),
    "4d_fix_gamma": ((4, 3, 2, 3), dict(fix_gamma=True)),
    "4d_free_gamma": ((4, 3, 2, 3), dict(fix_gamma=False)),
    "4d_momentum_eps": ((4, 2, 3, 2), dict(fix_gamma=False, momentum=0.8, eps=1e-5)),
    "4d_axis1_explicit": ((3, 4, 2, 2), dict(fix_gamma=False, axis=1, momentum=0.9, eps=1e-3)),
}


@pytest.mark.parametrize("case", sorted(BN_TRAIN_CASES))
def test_batchnorm_training_matches_mxnet(case):
    shape, kwargs = BN_TRAIN_CASES[case]
    inputs = bn_inputs(shape, seed=100 + len(case))
    ad_y, ad_g, ad_mm, ad_mv = run_batchnorm("ad", inputs, steps=2, **kwargs)
    mx_y, mx_g, mx_mm, mx_mv = run_batchnorm("mx", inputs, steps=2, **kwargs)
    assert_close(ad_y, mx_y, "output", rtol=1e-5, atol=1e-5)
    assert_close(ad_mm, mx_mm, "moving_mean", rtol=1e-6, atol=1e-6)
    assert_close(ad_mv, mx_mv, "moving_var", rtol=1e-6, atol=1e-6)
    for name, g, m in zip(("data", "gamma", "beta"), ad_g, mx_g):
        assert_close(g, m, "gradient of " + name, rtol=1e-4, atol=1e-5)
    # and the formula: batch statistics (biased variance), moving stats updated twice
    x, gamma, beta, mm, mv = inputs
    axes = tuple(i for i in range(x.ndim) if i != 1)
    mom, eps = kwargs.get("momentum", 0.9), kwargs.get("eps", 1e-3)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    np.testing.assert_allclose(ad_y, bn_reference(x, gamma, beta, mean, var, eps, kwargs["fix_gamma"]),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ad_mm, (mm * mom + mean * (1 - mom)) * mom + mean * (1 - mom), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ad_mv, (mv * mom + var * (1 - mom)) * mom + var * (1 - mom), rtol=1e-5, atol=1e-6)
    if kwargs["fix_gamma"]:
        np.testing.assert_array_equal(ad_g[1], 0)       # gamma is not used


@pytest.mark.parametrize("shape", [(6, 3), (3, 3, 2, 2)])
@pytest.mark.parametrize("fix_gamma", [True, False])
def test_batchnorm_prediction_mode_uses_moving_stats(shape, fix_gamma):
    inputs = bn_inputs(shape, seed=200)
    x, gamma, beta, mm, mv = inputs
    expected = bn_reference(x, gamma, beta, mm, mv, 1e-3, fix_gamma)
    mx_y, _, mx_mm, mx_mv = run_batchnorm("mx", inputs, record=False, fix_gamma=fix_gamma)
    np.testing.assert_allclose(mx_y, expected, rtol=1e-5, atol=1e-5)
    head = np.random.RandomState(0).uniform(-1, 1, size=shape).astype(np.float32)
    bshape = [1] * len(shape)
    bshape[1] = -1
    scale = (np.ones_like(gamma) if fix_gamma else gamma) / np.sqrt(mv + np.float32(1e-3))
    for how in ("outside record", "record(train_mode=False)", "predict_mode inside record"):
        ad_y, ad_g, ad_mm, ad_mv = run_batchnorm(
            "ad", inputs, record=how != "outside record", train_mode=False if "train_mode" in how else True,
            predict_scope="predict_mode" in how, fix_gamma=fix_gamma)
        assert_close(ad_y, mx_y, "output (%s)" % how, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(ad_mm, mm, err_msg="moving_mean changed (%s)" % how)
        np.testing.assert_array_equal(ad_mv, mv, err_msg="moving_var changed (%s)" % how)
        if ad_g is not None:
            # the gradient of the function computed (MXNet 1.9.1 gives the batch-statistics one)
            np.testing.assert_allclose(ad_g[0], head * scale.reshape(bshape), rtol=1e-5, atol=1e-6)
            axes = tuple(i for i in range(len(shape)) if i != 1)
            xhat = (x - mm.reshape(bshape)) / np.sqrt(mv.reshape(bshape) + np.float32(1e-3))
            np.testing.assert_allclose(ad_g[1], 0 if fix_gamma else (head * xhat).sum(axis=axes), rtol=1e-4,
                                       atol=1e-5)
            np.testing.assert_allclose(ad_g[2], head.sum(axis=axes), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(mx_mm, mm)
    np.testing.assert_array_equal(mx_mv, mv)


@pytest.mark.parametrize("shape", [(6, 3), (3, 3, 2, 2)])
@pytest.mark.parametrize("fix_gamma", [True, False])
def test_batchnorm_use_global_stats_matches_mxnet(shape, fix_gamma):
    inputs = bn_inputs(shape, seed=300)
    ad_y, ad_g, ad_mm, ad_mv = run_batchnorm("ad", inputs, fix_gamma=fix_gamma, use_global_stats=True)
    mx_y, mx_g, mx_mm, mx_mv = run_batchnorm("mx", inputs, fix_gamma=fix_gamma, use_global_stats=True)
    assert_close(ad_y, mx_y, "output", rtol=1e-5, atol=1e-5)
    for name, g, m in zip(("data", "gamma", "beta"), ad_g, mx_g):
        assert_close(g, m, "gradient of " + name, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(ad_mm, inputs[3])
    np.testing.assert_array_equal(ad_mv, inputs[4])
    np.testing.assert_allclose(ad_y, bn_reference(*inputs, 1e-3, fix_gamma), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ optimizer updates

UPDATE_CONFIGS = [dict(), dict(wd=0.01), dict(rescale_grad=0.3), dict(clip_gradient=1.0),
                  dict(wd=0.05, rescale_grad=1 / 32.0, clip_gradient=0.05)]


def config_id(cfg):
    return "-".join("%s=%g" % kv for kv in sorted(cfg.items())) or "plain"


def run_updates(lib, kind, cfg, in_place, steps=4, shape=(7, 5)):
    """`steps` updates of a random weight by random gradients; returns weight, states and, for
    updates without out=, the weights returned."""
    nd_ = LIBS[lib][0]
    w = nd_.array(rand(500, *shape))
    mom, var = nd_.array(rand(501, *shape, scale=0.1)), nd_.array(rand(502, *shape, low=0.0, scale=0.1))
    returned = []
    for step in range(steps):
        g = nd_.array(rand(510 + step, *shape, scale=3.0))
        out = {"out": w} if in_place else {}
        if kind == "sgd":
            r = nd_.sgd_update(w, g, lr=0.1, **cfg, **out)
        elif kind == "sgd_mom":
            r = nd_.sgd_mom_update(w, g, mom, lr=0.1, momentum=0.9, **cfg, **out)
        else:
            r = nd_.adam_update(w, g, mom, var, lr=0.01, beta1=0.9, beta2=0.99, epsilon=1e-6, **cfg, **out)
        if in_place:
            assert r is w
        returned.append(r.asnumpy())
    return w.asnumpy(), mom.asnumpy(), var.asnumpy(), returned


@pytest.mark.parametrize("kind", ["sgd", "sgd_mom", "adam"])
@pytest.mark.parametrize("cfg", UPDATE_CONFIGS, ids=config_id)
def test_updates_in_place_equal_mxnet_bit_for_bit(kind, cfg):
    ad_w, ad_m, ad_v, ad_r = run_updates("ad", kind, cfg, in_place=True)
    mx_w, mx_m, mx_v, mx_r = run_updates("mx", kind, cfg, in_place=True)
    initial = rand(500, 7, 5)
    assert not np.array_equal(ad_w, initial)
    np.testing.assert_array_equal(ad_w, mx_w, err_msg="weight differs from MXNet")
    np.testing.assert_array_equal(ad_m, mx_m, err_msg="mom/mean differs from MXNet")
    np.testing.assert_array_equal(ad_v, mx_v, err_msg="var differs from MXNet")
    for a, m in zip(ad_r, mx_r):
        np.testing.assert_array_equal(a, m)


@pytest.mark.parametrize("kind", ["sgd", "sgd_mom", "adam"])
@pytest.mark.parametrize("cfg", [UPDATE_CONFIGS[i] for i in (0, 1, 4)], ids=config_id)
def test_updates_without_out_return_a_new_array_as_mxnet(kind, cfg):
    # MXNet: without out= the weight is unchanged, the result is a new array; the states
    # (mom, mean, var) are still updated in place.
    ad_w, ad_m, ad_v, ad_r = run_updates("ad", kind, cfg, in_place=False)
    mx_w, mx_m, mx_v, mx_r = run_updates("mx", kind, cfg, in_place=False)
    np.testing.assert_array_equal(ad_w, rand(500, 7, 5))
    np.testing.assert_array_equal(mx_w, rand(500, 7, 5))
    np.testing.assert_array_equal(ad_m, mx_m)
    np.testing.assert_array_equal(ad_v, mx_v)
    for a, m in zip(ad_r, mx_r):
        np.testing.assert_array_equal(a, m)
    assert not np.array_equal(ad_r[0], ad_w)


@pytest.mark.parametrize("kind", ["sgd", "sgd_mom"])
def test_sgd_rescale_grad_rounds_as_mxnet(kind):
    # Without clipping MXNet computes (lr * rescale_grad) * grad in float32; with lr=0.1,
    # rescale_grad=0.3, grad=7 that is -0.21000000834465027, where lr * (rescale_grad * grad)
    # gives -0.21000002324581146 (one ulp away).
    results = []
    for nd_ in (nd, mx.nd):
        w, g, mom = nd_.zeros(1), nd_.array([7.0]), nd_.zeros(1)
        if kind == "sgd":
            nd_.sgd_update(w, g, lr=0.1, rescale_grad=0.3, out=w)
        else:
            nd_.sgd_mom_update(w, g, mom, lr=0.1, momentum=0.9, rescale_grad=0.3, out=w)
        results.append(float(w.asnumpy()[0]))
    assert results[1] == float(-(np.float32(0.1) * np.float32(0.3)) * np.float32(7.0))
    assert results[0] == results[1], "ad %r, MXNet %r" % tuple(results)


def test_update_writes_into_another_out_array_as_mxnet():
    for nd_ in (nd, mx.nd):
        w = nd_.array([1.0, 2.0])
        o = nd_.zeros(2)
        r = nd_.sgd_update(w, nd_.array([1.0, -1.0]), lr=0.5, out=o)
        assert r is o
        np.testing.assert_array_equal(o.asnumpy(), [0.5, 2.5])
        np.testing.assert_array_equal(w.asnumpy(), [1.0, 2.0])


def test_sgd_update_formula():
    w0, g0 = rand(520, 20), rand(521, 20, scale=4.0)
    w = nd.array(w0)
    nd.sgd_update(w, nd.array(g0), lr=0.1, wd=0.01, rescale_grad=0.5, clip_gradient=1.0, out=w)
    expected = (1 - 0.1 * 0.01) * w0 - 0.1 * np.clip(0.5 * g0, -1.0, 1.0)
    np.testing.assert_allclose(w.asnumpy(), expected, rtol=1e-6, atol=1e-7)


def test_update_of_a_graph_array_inside_record_is_refused():
    w = nd.array([1.0, 2.0])
    w.attach_grad()
    with autograd.record():
        loss = (w * w).sum()
        with pytest.raises(RuntimeError):
            nd.sgd_update(w, nd.ones(2), lr=0.1, out=w)
    loss.backward()
    np.testing.assert_array_equal(w.asnumpy(), [1.0, 2.0])


# ------------------------------------------------------------------ a training loop

def train_mlp(lib, loss_kind, steps=20):
    nd_, autograd_ = LIBS[lib]
    rs = np.random.RandomState(600)
    X = rs.randn(32, 6).astype(np.float32)
    labels = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.float32) + (X[:, 3] > 1).astype(np.float32)
    params = [rs.randn(16, 6) * 0.4, np.zeros(16), rs.randn(3, 16) * 0.4, np.zeros(3)]
    w1, b1, w2, b2 = [nd_.array(p.astype(np.float32)) for p in params]
    x, y = nd_.array(X), nd_.array(labels)
    for p in (w1, b1, w2, b2):
        p.attach_grad()
    losses = []
    for _ in range(steps):
        with autograd_.record():
            h = nd_.relu(nd_.FullyConnected(x, w1, b1, num_hidden=16))
            out = nd_.FullyConnected(h, w2, b2, num_hidden=3)
            if loss_kind == "sce":
                loss = nd_.softmax_cross_entropy(out, y) / 32
            else:
                loss = -nd_.pick(nd_.log_softmax(out), y).mean()
        loss.backward()
        for p in (w1, b1, w2, b2):
            nd_.sgd_update(p, p.grad, lr=0.5, wd=1e-4, out=p)
        losses.append(float(loss.asnumpy().ravel()[0]))
    return np.array(losses), [p.asnumpy() for p in (w1, b1, w2, b2)]


@pytest.mark.parametrize("loss_kind", ["sce", "log_softmax_pick"])
def test_training_loop_matches_mxnet(loss_kind):
    ad_losses, ad_params = train_mlp("ad", loss_kind)
    mx_losses, mx_params = train_mlp("mx", loss_kind)
    np.testing.assert_allclose(ad_losses, mx_losses, rtol=1e-4, atol=1e-6)
    assert ad_losses[-1] < 0.8 * ad_losses[0]           # it learned something
    for a, m in zip(ad_params, mx_params):
        np.testing.assert_allclose(a, m, rtol=1e-3, atol=1e-4)


# ------------------------------------------------------------------ errors

def test_pick_out_of_range_is_an_index_error():
    x = nd.array(rand(700, 2, 3))
    for bad in ([0, 3], [0, -1]):
        with pytest.raises(IndexError) as info:
            nd.pick(x, nd.array(bad), axis=-1)
        assert isinstance(info.value, ad.ADError)
        assert "out of range" in str(info.value)
    with pytest.raises(IndexError):
        nd.pick(x, nd.array([0, 1, 2]), axis=0)        # axis 0 has size 2


def test_softmax_cross_entropy_out_of_range_label_is_an_index_error():
    x = nd.array(rand(701, 2, 3))
    for bad in ([0, 3], [-1, 0]):
        with pytest.raises(IndexError) as info:
            nd.softmax_cross_entropy(x, nd.array(bad))
        assert isinstance(info.value, ad.ADError)
        assert "label" in str(info.value)


def test_fully_connected_wrong_num_hidden_is_a_value_error_naming_the_shape():
    x, w, b = nd.ones((2, 3)), nd.ones((4, 3)), nd.ones(4)
    with pytest.raises(ValueError, match=r"num_hidden is 5.*\(4, 3\)") as info:
        nd.FullyConnected(x, w, b, num_hidden=5)
    assert isinstance(info.value, ad.ADError)


@pytest.mark.parametrize("data_shape,weight_shape,bias_shape,pattern", [
    ((2, 3), (4, 5), (4,), r"\(2, 3\).*\(4, 5\)"),
    ((2, 3, 5), (4, 5), (4,), r"\(2, 3, 5\).*\(4, 5\)"),              # flatten: 15 features
    ((2, 3, 5), (4, 15), (4,), None),                                  # flatten=False below
    ((2, 3), (4, 3), (5,), r"\(4, 3\).*\(5,\)"),
])
def test_fully_connected_wrong_shapes_are_value_errors_naming_the_shapes(data_shape, weight_shape, bias_shape,
                                                                         pattern):
    x, w, b = nd.ones(data_shape), nd.ones(weight_shape), nd.ones(bias_shape)
    kwargs = {"flatten": False} if pattern is None else {}
    with pytest.raises(ValueError) as info:
        nd.FullyConnected(x, w, b, num_hidden=weight_shape[0], **kwargs)
    assert isinstance(info.value, ad.ADError)
    if pattern is None:
        pattern = r"\(2, 3, 5\).*\(4, 15\)|\(4, 15\).*\(2, 3, 5\)"
    assert re.search(pattern, str(info.value)), str(info.value)


@pytest.mark.parametrize("shapes,dim", [([(2, 3), (2, 4)], 0), ([(2, 3), (3, 3), (2, 3)], 1),
                                        ([(2, 3), (2, 3, 1)], 1), ([(2, 3), (2, 3)], 2)])
def test_concat_of_mismatched_shapes_is_a_value_error(shapes, dim):
    with pytest.raises(ValueError) as info:
        nd.concat(*[nd.ones(s) for s in shapes], dim=dim)
    assert isinstance(info.value, ad.ADError)


def test_stack_of_mismatched_shapes_is_a_value_error():
    with pytest.raises(ValueError, match=r"\(2, 4\).*\(2, 3\)|\(2, 3\).*\(2, 4\)"):
        nd.stack(nd.ones((2, 3)), nd.ones((2, 4)))


@pytest.mark.parametrize("p", [1.0, 1.5, -0.1])
def test_dropout_p_out_of_range_is_a_value_error(p):
    with pytest.raises(ValueError) as info:
        nd.Dropout(nd.ones((3, 3)), p=p, mode="always")
    assert isinstance(info.value, ad.ADError)
    with autograd.record():
        with pytest.raises(ValueError):
            nd.Dropout(nd.ones((3, 3)), p=p)


def test_dropout_unsupported_arguments_are_value_errors():
    with pytest.raises(ValueError, match="axes"):
        nd.Dropout(nd.ones((3, 3)), p=0.5, axes=(0,))
    with pytest.raises(ValueError, match="mode"):
        nd.Dropout(nd.ones((3, 3)), p=0.5, mode="sometimes")


def test_softmax_bad_axis_is_a_value_error():
    with pytest.raises(ValueError, match="axis 2"):
        nd.softmax(nd.ones((2, 3)), axis=2)


def test_nn_functions_reject_non_arrays():
    with pytest.raises(TypeError):
        nd.softmax([1.0, 2.0])
    with pytest.raises(TypeError):
        nd.FullyConnected(nd.ones((2, 3)), [[1.0, 2.0, 3.0]], num_hidden=1, no_bias=True)


# ------------------------------------------------------------------ in-place modification

def test_backward_after_an_in_place_change_of_a_saved_input_raises():
    # MXNet silently differentiates with the new w (x.grad would be w + 1); ad refuses.
    x, w = nd.array([1.0, 2.0, 3.0]), nd.array([4.0, 5.0, 6.0])
    x.attach_grad()
    w.attach_grad()
    with autograd.record():
        y = x * w
    w += 1
    with pytest.raises(ad.ADError, match="modified in place") as info:
        y.backward()
    assert isinstance(info.value, RuntimeError)


def test_sgd_update_out_w_between_record_and_backward_is_detected():
    x, w = nd.array([1.0, 2.0, 3.0]), nd.array([4.0, 5.0, 6.0])
    x.attach_grad()
    w.attach_grad()
    with autograd.record():
        y = (x * w).sum()
    nd.sgd_update(w, nd.ones(3), lr=0.1, out=w)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()
