"""The level of vector instructions ad's kernels use: each level the machine has gives the
same math, a ceiling never raises the level, and bad ceilings are refused."""
import math

import numpy as np
import pytest

import ad
from ad import nd


@pytest.fixture
def best():
    ad.set_cpu_level(None)
    level = ad.cpu_level()
    yield level
    ad.set_cpu_level(None)


def levels_up_to(best):
    order = ["portable", "avx2", "avx512"]
    return order[:order.index(best) + 1]


def test_each_level_computes_the_same_math(best):
    x = np.linspace(-20, 20, 400_001, dtype=np.float32)
    want = {"exp": np.exp(x.astype(np.float64)), "tanh": np.tanh(x.astype(np.float64)),
            "sigmoid": 1 / (1 + np.exp(-x.astype(np.float64)))}
    for level in levels_up_to(best):
        assert ad.set_cpu_level(level) == level
        for name, reference in want.items():
            got = getattr(nd, name)(nd.array(x)).asnumpy().astype(np.float64)
            np.testing.assert_allclose(got, reference, rtol=4e-7, atol=1e-30, err_msg="%s at %s" % (name, level))
        a = np.random.RandomState(0).rand(33, 20).astype(np.float32)
        b = np.random.RandomState(1).rand(20, 8).astype(np.float32)
        np.testing.assert_allclose(nd.dot(nd.array(a), nd.array(b)).asnumpy(), a.astype(np.float64) @ b, rtol=1e-5)


def test_a_ceiling_never_raises_the_level(best):
    assert ad.set_cpu_level("avx512") == best
    assert ad.set_cpu_level("portable") == "portable"
    assert ad.set_cpu_level(None) == best


def test_bad_ceilings_are_refused_and_change_nothing(best):
    ad.set_cpu_level("portable")
    with pytest.raises(ad.ADError, match="sse"):
        ad.set_cpu_level("sse")
    with pytest.raises(TypeError, match="ceiling"):
        ad.set_cpu_level(2)
    assert ad.cpu_level() == "portable"
    assert math.isclose(nd.exp(nd.array([1.0])).asscalar(), math.e, rel_tol=1e-6)
