"""Differential tests of float16 arrays against MXNet 1.9.1: printing, astype from and to every
dtype, and the dtypes and values of a few ops (MXNet computes float16 on the CPU in float32 or
with float16 accumulation: values agree within float16's precision)."""
import numpy as np
import pytest

from support import import_mxnet, in_both, libraries

mx = import_mxnet("the differential tests")
LIBS = libraries(mx)
ALL = ["float32", "float64", "float16", "uint8", "int8", "int32", "int64", "bool"]


@pytest.mark.parametrize("seed", range(30))
def test_printing_matches_mxnet(seed):
    rng = np.random.default_rng(seed)
    ndim = 1 + seed % 3
    shape = tuple(int(d) for d in rng.integers(1, 6, size=ndim))
    if seed % 10 == 9:
        shape = (1201,) if ndim == 1 else (40, 31)    # summarised with '...'
    scale = 10.0 ** rng.integers(-9, 6)
    v = rng.standard_normal(shape) * scale
    if seed % 4 == 3:
        v = np.round(v)
    if seed % 7 == 6:
        v.flat[0] = np.inf
        v.flat[-1] = np.nan
    texts = [repr(nd.array(v, dtype="float16")) for nd, _ in LIBS.values()]
    assert texts[0] == texts[1], "ad:%s\nmx:%s" % tuple(texts)


@pytest.mark.parametrize("other", ALL)
def test_astype_matches_mxnet(other):
    v = np.array([0, 1.7, -1.7, 2.5, -0.5, np.nan, np.inf, -np.inf, 300, -129, 255.9, 3e9, 1e20, 7e4, 65519, 0.1])
    if other == "bool":
        v = np.array([True, False, True])
    elif other not in ("float32", "float64", "float16"):
        info = np.iinfo(other)
        v = np.array([0, 1, -1, 127, 128, 255, 256, 300, 2049, info.min, info.max]).astype(other)
    for src, dst in ((other, "float16"), ("float16", other)):
        with np.errstate(over="ignore", invalid="ignore"):
            a, m = (nd.array(v, dtype=src).astype(dst) for nd, _ in LIBS.values())
            av, mv = a.asnumpy(), m.asnumpy()
        assert (a.dtype, av.shape) == (m.dtype, mv.shape)
        assert av.tobytes() == mv.tobytes(), "%s -> %s: ad %r mx %r" % (src, dst, av, mv)


OPS = [
    ("exp", lambda nd, x: nd.exp(x)),
    ("log", lambda nd, x: nd.log(nd.abs(x) + 0.5)),
    ("sigmoid", lambda nd, x: nd.sigmoid(x)),
    ("tanh", lambda nd, x: nd.tanh(x)),
    ("relu", lambda nd, x: nd.relu(x)),
    ("sum", lambda nd, x: nd.sum(x, axis=1)),
    ("mean", lambda nd, x: nd.mean(x)),
    ("softmax", lambda nd, x: nd.softmax(x)),
    ("add", lambda nd, x: x + x * 2),
    ("compare", lambda nd, x: x > 0.5),
    ("argmax", lambda nd, x: nd.argmax(x, axis=1)),
    ("square", lambda nd, x: nd.square(x)),
]


@pytest.mark.parametrize("name,f", OPS, ids=[n for n, _ in OPS])
def test_ops_match_mxnet(name, f):
    v = np.random.default_rng(3).standard_normal((3, 4))
    a, m = (f(nd, nd.array(v, dtype="float16")) for nd, _ in LIBS.values())
    assert a.dtype == m.dtype == np.float16, (a.dtype, m.dtype)
    av, mv = a.asnumpy().astype(np.float64), m.asnumpy().astype(np.float64)
    np.testing.assert_allclose(av, mv, rtol=2e-3, atol=2e-3)


def test_gradient_matches_mxnet():
    v = np.array([0.5, -1.25, 2.0, 3.0])
    grads = []
    for nd, autograd in LIBS.values():
        x = nd.array(v, dtype="float16")
        x.attach_grad()
        with autograd.record():
            y = (nd.exp(x) * x).sum()
        y.backward()
        grads.append(x.grad)
    assert grads[0].dtype == grads[1].dtype == np.float16
    np.testing.assert_allclose(grads[0].asnumpy().astype(np.float64), grads[1].asnumpy().astype(np.float64),
                               rtol=5e-3, atol=1e-3)
