"""Gradients that were once wrong, each pinned by a test named after the bug, in the default
and the reference mode and in both dtypes."""
import numpy as np
import pytest

import ad
from ad import autograd, nd

MODES = [pytest.param(False, id="default"), pytest.param(True, id="reference")]
DTYPES = ["float32", "float64"]


@pytest.fixture(params=MODES)
def mode(request):
    with ad.reference_mode(request.param):
        yield request.param


def var(values, dtype):
    x = nd.array(values, dtype=dtype)
    x.attach_grad()
    return x


@pytest.mark.parametrize("dtype", DTYPES)
def test_broadcast_bias_then_sum_counts_each_repeated_row(mode, dtype):
    a, b = var(np.ones((2, 4)), dtype), var(np.ones(4), dtype)
    with autograd.record():
        y = (a + b).sum()
    y.backward()
    assert b.grad.asnumpy().tolist() == [2, 2, 2, 2]
    assert a.grad.asnumpy().tolist() == [[1] * 4] * 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_broadcast_bias_then_mean_counts_each_repeated_row(mode, dtype):
    a, b = var(np.ones((2, 4)), dtype), var(np.ones(4), dtype)
    with autograd.record():
        y = (a + b).mean()
    y.backward()
    assert b.grad.asnumpy().tolist() == [0.25] * 4


@pytest.mark.parametrize("dtype", DTYPES)
def test_subtracting_a_broadcast_sum_then_summing_counts_every_element(mode, dtype):
    a, s = var(np.full((2, 4), 0.5), dtype), var([[1, 2], [3, 4]], dtype)
    with autograd.record():
        y = (a - s.sum()).sum()
    y.backward()
    assert s.grad.asnumpy().tolist() == [[-8, -8], [-8, -8]]


@pytest.mark.parametrize("dtype", DTYPES)
def test_mean_of_a_column_minus_a_1x1_gives_the_1x1_minus_one(mode, dtype):
    x1, y = var([[1], [2], [3]], dtype), var([[0.5]], dtype)
    with autograd.record():
        m = (x1 - y).mean()
    m.backward()
    assert np.allclose(y.grad.asnumpy(), [[-1]])
    assert np.allclose(x1.grad.asnumpy(), np.full((3, 1), 1 / 3))


@pytest.mark.parametrize("dtype", DTYPES)
def test_scalar_broadcast_into_a_partial_sum_counts_the_summed_axis(mode, dtype):
    x0v = np.arange(32).reshape(4, 4, 2) * 0.1
    w = np.arange(12).reshape(4, 3) * 0.25 - 1
    h = 1 - np.arange(12).reshape(4, 3) * 0.125
    x0, x1 = var(x0v, dtype), var([0.7], dtype)
    with autograd.record():
        v = x0 - x1.reshape((1, 1))
        out = nd.dot(v.sum(axis=2), nd.array(w, dtype=dtype))
    out.backward(nd.array(h, dtype=dtype))
    # dL/dv[i, j, k] = (H·Wᵀ)[i, j] for both values of k; x1 is subtracted from all of them.
    want = -2 * (h @ w.T).sum()
    assert np.allclose(x1.grad.asnumpy(), [want], rtol=1e-5)


def test_where_refuses_backward_after_its_condition_changed_in_place(mode):
    cond = nd.array([1, 0, 1])
    x, y = var([1, 2, 3], "float32"), var([4, 5, 6], "float32")
    with autograd.record():
        out = nd.where(cond, x, y).sum()
    cond += nd.array([0, 1, 0])
    with pytest.raises(ad.ADError, match="modified in place"):
        out.backward()


def test_pick_second_derivative_refuses_an_index_changed_in_place(mode):
    x = var(np.arange(1, 7).reshape(2, 3), "float64")
    idx = nd.array([0, 2], dtype="float64")
    with autograd.record():
        loss = (nd.pick(x, idx, axis=1) ** 2).sum()
        g = autograd.grad(loss, [x], create_graph=True)[0]
        s = g.sum()
    idx += nd.array([1, -1], dtype="float64")
    with pytest.raises(ad.ADError, match="modified in place"):
        s.backward()
