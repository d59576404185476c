"""Differential tests of the random draws with NDArray parameters and of multinomial against
MXNet 1.9.1: the
same calls run in both libraries and the shapes, dtypes and refusals are compared (the numbers
differ: each library has its own generator; test_random.py checks ad's distributions).

Where MXNet 1.9.1 draws from parameters it should refuse (a negative scale or lam, low above
high, NaN: it returns negative deviations, NaN or INT_MIN counts, and gamma with alpha <= 0
hangs), ad refuses them as its number forms do; those cases are pinned in test_random.py.
MXNet cannot make 0-d or empty parameter arrays, nor take a size-0 draw shape; ad can.
"""
import numpy as np
import pytest

from support import import_mxnet, libraries

mx = import_mxnet("the random draws' differential tests")
LIBS = libraries(mx)


def meta(f):
    """`f(nd)` in ad and in MXNet: each result's (shape, dtype name), a list of them, or
    'error'."""
    out = []
    for name in ("ad", "mx"):
        nd = LIBS[name][0]
        try:
            r = f(nd)
            rs = r if isinstance(r, (list, tuple)) else [r]
            out.append([(tuple(x.shape), np.dtype(x.dtype).name) for x in rs])
        except Exception:
            out.append("error")
    return out


CASES = [
    lambda nd: nd.random.normal(nd.array([0, 10]), nd.array([1, 2]), shape=3),
    lambda nd: nd.random.normal(nd.array([0, 10]), nd.array([1, 2])),
    lambda nd: nd.random.normal(nd.array([0, 10]), nd.array([1, 2]), shape=()),
    lambda nd: nd.random.normal(nd.zeros((2, 3)), nd.ones((2, 3)), shape=(4, 2)),
    lambda nd: nd.random.normal(nd.zeros((2, 3), dtype="float64"), nd.ones((2, 3), dtype="float64"), shape=2),
    lambda nd: nd.random.normal(nd.zeros(2, dtype="float64"), nd.ones(2, dtype="float64"), shape=2, dtype="float32"),
    lambda nd: nd.random.normal(nd.zeros(2), nd.ones(2), shape=2, dtype="float64"),
    lambda nd: nd.random.normal(nd.zeros(2), nd.ones(2), shape=3, out=nd.zeros((2, 3))),
    lambda nd: nd.random.normal(nd.zeros(2), nd.ones(2), shape=3, out=nd.zeros((2, 3), dtype="float64")),
    lambda nd: nd.random.normal(nd.zeros(2), nd.zeros(2), shape=2),
    lambda nd: nd.random.uniform(nd.array([0, 5]), nd.array([1, 6]), shape=(3,)),
    lambda nd: nd.random.uniform(nd.array([1, 5]), nd.array([1, 6]), shape=(3,)),
    lambda nd: nd.random.exponential(nd.array([1, 2]), shape=3),
    lambda nd: nd.random.exponential(nd.array([[1], [2]]), shape=(2, 2), dtype="float64"),
    lambda nd: nd.random.gamma(nd.array([1, 2]), nd.array([1, 3]), shape=3),
    lambda nd: nd.random.poisson(nd.array([1, 20]), shape=3),
    lambda nd: nd.random.poisson(nd.array([0, 20]), shape=(2, 2)),
    lambda nd: nd.random.randn(2, loc=nd.array([0, 1]), scale=nd.array([1, 2])),
    lambda nd: nd.random.randn(loc=nd.array([0, 1]), scale=nd.array([1, 2])),
    # refused by both
    lambda nd: nd.random.normal(nd.zeros(2), nd.ones(3), shape=4),
    lambda nd: nd.random.normal(nd.zeros((2, 1)), nd.ones((2, 3)), shape=4),
    lambda nd: nd.random.normal(nd.zeros(2, dtype="float64"), nd.ones(2), shape=2),
    lambda nd: nd.random.normal(nd.zeros(2), 1, shape=4),
    lambda nd: nd.random.normal(0, nd.ones(2), shape=4),
    lambda nd: nd.random.gamma(nd.ones(2), 1, shape=4),
    lambda nd: nd.random.normal([0, 1], [1, 2], shape=2),
    lambda nd: nd.random.normal(nd.zeros(2), nd.ones(2), shape=3, out=nd.zeros((2, 4))),
    lambda nd: nd.random.normal(nd.zeros(2), nd.ones(2), out=nd.zeros((2, 3))),
    lambda nd: nd.random_normal(nd.zeros(2), nd.ones(2), shape=3),
    lambda nd: nd.normal(nd.zeros(2), nd.ones(2), shape=3),
    lambda nd: nd.uniform(nd.zeros(2), nd.ones(2), shape=3),
    lambda nd: nd.random_exponential(nd.ones(2), shape=3),
    lambda nd: nd.random_gamma(nd.ones(2), nd.ones(2), shape=3),
    lambda nd: nd.random_poisson(nd.ones(2), shape=3),
    # multinomial, in its default int32 and in the float dtypes
    lambda nd: nd.random.multinomial(nd.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0]])),
    lambda nd: nd.random.multinomial(nd.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0]]), shape=3, dtype="uint8"),
    lambda nd: nd.random.multinomial(nd.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0]]), dtype="float32"),
    lambda nd: nd.random.multinomial(nd.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0]]), shape=(2, 2), dtype="float64"),
    lambda nd: nd.random.multinomial(nd.array([0.2, 0.8]), shape=3, dtype="float32"),
    lambda nd: nd.random.multinomial(nd.ones((2, 3, 4)) / 4, shape=5, dtype="float32"),
    lambda nd: nd.random.multinomial(nd.array([[0.1, 0.9]]), shape=2, get_prob=True, dtype="float32"),
    lambda nd: nd.random.multinomial(nd.array([[0.1, 0.9]], dtype="float64"), get_prob=True, dtype="float32"),
    lambda nd: nd.random.multinomial(nd.array([[0.1, 0.9]]), shape=(), dtype="float32"),
    lambda nd: nd.random.multinomial(nd.array([[0.1, 0.9]]), dtype=None),
    lambda nd: nd.random.multinomial(nd.array([[0.1, 0.9]]), shape=2, dtype="float32", out=nd.zeros((1, 2))),
    lambda nd: nd.random.multinomial(nd.array([[0.1, 0.9]]), shape=2, get_prob=True, dtype="float32",
                                     out=[nd.zeros((1, 2)), nd.zeros((1, 2))]),
    lambda nd: nd.random.multinomial(nd.array([[0.1, 0.9]]), dtype="int64"),
    lambda nd: nd.random.multinomial([0.5, 0.5], dtype="float32"),
    lambda nd: nd.random.multinomial(nd.array([[0.1, 0.9]]), ctx=mx.cpu(), dtype="float32"),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_array_parameters_shapes_dtypes_and_refusals_match_mxnet(case):
    a, m = meta(CASES[case])
    assert a == m, "ad %r\nmx %r" % (a, m)


def test_no_gradient_reaches_array_parameters_in_either():
    grads = []
    for name in ("ad", "mx"):
        nd, autograd = LIBS[name]
        loc, scale = nd.array([0.0, 1.0]), nd.array([1.0, 2.0])
        loc.attach_grad()
        scale.attach_grad()
        with autograd.record():
            y = (nd.random.normal(loc, scale, shape=3) * 2).sum() + (loc * scale).sum()
            y = y + nd.random.gamma(scale, scale, shape=2).sum() + nd.random.poisson(scale).sum()
        y.backward()
        grads.append([loc.grad.asnumpy().tolist(), scale.grad.asnumpy().tolist()])
    assert grads[0] == grads[1] == [[1, 2], [0, 1]]


def test_multinomial_log_probability_gradients_follow_the_same_rule():
    # The draws differ; in both, the gradient is the head over p at each drawn category.
    for name in ("ad", "mx"):
        nd, autograd = LIBS[name]
        p = nd.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
        p.attach_grad()
        head = np.arange(1, 9, dtype=np.float32).reshape(2, 4)
        with autograd.record():
            draws, log_prob = nd.random.multinomial(p, shape=4, get_prob=True, dtype="float32")
        log_prob.backward(nd.array(head))
        want = np.zeros((2, 3), dtype=np.float32)
        for i in range(2):
            for j in range(4):
                c = int(draws.asnumpy()[i, j])
                want[i, c] += head[i, j] / p.asnumpy()[i, c]
        np.testing.assert_allclose(p.grad.asnumpy(), want, rtol=1e-6, err_msg=name)
