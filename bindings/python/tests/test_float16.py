"""float16 NDArrays: made from numpy float16 arrays and by name, read back as numpy float16,
printed and converted as MXNet 1.9.1 does, computed on in float32 with float16 results, and
differentiated with float16 gradients."""
import numpy as np
import pytest

import ad
from ad import autograd, nd


def test_made_and_read_as_float16():
    h = np.array([0.1, -2.5, 65504, np.inf], dtype=np.float16)
    a = nd.array(h, dtype="float16")
    assert a.dtype == np.float16
    back = a.asnumpy()
    assert back.dtype == np.float16 and back.view(np.uint16).tolist() == h.view(np.uint16).tolist()
    # A numpy float16 array becomes float32 by default, as in MXNet.
    assert nd.array(h).dtype == np.float32
    assert nd.zeros((2,), dtype="float16").dtype == np.float16
    assert nd.ones((2,), dtype=np.float16).asnumpy().tolist() == [1.0, 1.0]
    s = a[0].asscalar()
    assert type(s) is np.float16 and s == np.float16(0.1)
    assert a.astype("float32").asnumpy().tolist() == h.astype(np.float32).tolist()


def test_astype_rounds_as_numpy():
    v = np.array([0.1, 1 / 3, 2049, 65519.99, 65520, 1e-8, 5.96e-8, -0.0, np.nan])
    got = nd.array(v, dtype="float64").astype("float16").asnumpy()
    with np.errstate(over="ignore"):
        want = v.astype(np.float16)
    assert got.view(np.uint16).tolist() == want.view(np.uint16).tolist()


def test_printed_as_numpy_prints_float16():
    for v in ([1.5, 2.25, 65504, 1e-7], [0.1, 0.2, 0.3], [[-1.0009765625, 3.14159], [100.5, 0.0]]):
        a = nd.array(v, dtype="float16")
        assert repr(a).split("\n")[1:-1] == str(np.array(v, dtype=np.float16)).split("\n")


def test_ops_compute_in_float32_and_give_float16():
    x = nd.array([0.5, -1.25, 2.0, 3.0], dtype="float16")
    for f, ref in [(nd.exp, np.exp), (nd.sigmoid, lambda v: 1 / (1 + np.exp(-v))), (nd.sqrt, np.sqrt)]:
        y = f(x)
        assert y.dtype == np.float16
        with np.errstate(invalid="ignore"):
            want = ref(x.asnumpy().astype(np.float32)).astype(np.float16)
        np.testing.assert_array_equal(y.asnumpy(), want)
    assert (x + 1).dtype == np.float16 and (x * x).sum().dtype == np.float16
    assert (x > 1).dtype == np.float16
    assert nd.softmax(x).dtype == np.float16
    # Ops that write their arrays in place refuse float16 (a float32 copy would take the write).
    with pytest.raises(ad.ADError, match="float16"):
        nd.sgd_update(x, x, lr=0.1, out=x)


def test_float16_variable_gets_a_float16_gradient():
    x = nd.array([0.5, -1.25, 2.0, 3.0], dtype="float16")
    x.attach_grad()
    with autograd.record():
        y = (nd.exp(x) * x).sum()
    y.backward()
    assert x.grad.dtype == np.float16
    v = x.asnumpy().astype(np.float64)
    np.testing.assert_allclose(x.grad.asnumpy().astype(np.float64), np.exp(v) * (1 + v), rtol=2e-3, atol=1e-3)
