"""Long training loops keep the process's memory flat: every handle the binding makes is
freed, and the library releases each step's graph."""
import time

from ad import autograd, nd
from support import rss

SLACK = 5 * 1024 * 1024     # bytes


def run_flat(step, warmup, steps):
    for _ in range(warmup):
        step()
    before = rss()
    start = time.time()
    for _ in range(steps):
        step()
    elapsed = time.time() - start
    grown = rss() - before
    assert grown < SLACK, "RSS grew by %.1f MB over %d steps" % (grown / 2 ** 20, steps)
    return elapsed


def test_100k_linear_regression_steps_keep_rss_flat():
    nd.random.seed(0)
    X = nd.random.normal(shape=(8, 3))
    Y = nd.dot(X, nd.array([[2], [-3.4], [1]])) + 4.2
    w = nd.random.normal(scale=0.01, shape=(3, 1))
    b = nd.zeros(1)
    w.attach_grad()
    b.attach_grad()

    def step():
        with autograd.record():
            loss = ((nd.dot(X, w) + b - Y) ** 2).mean()
        loss.backward()
        w[:] = w - 0.05 * w.grad
        b[:] = b - 0.05 * b.grad

    elapsed = run_flat(step, 2000, 100000)
    assert elapsed < 60
    # and it learned: the loop really ran the model
    assert abs(b.asscalar() - 4.2) < 1e-3
    assert abs(w[1].asscalar() + 3.4) < 1e-3


def test_mlp_loop_with_every_kind_of_handle_keeps_rss_flat():
    nd.random.seed(1)
    X = nd.random.uniform(-1, 1, shape=(16, 4))
    Y = nd.random.uniform(-1, 1, shape=(16, 1))
    W1 = nd.random.normal(scale=0.1, shape=(4, 8))
    W2 = nd.random.normal(scale=0.1, shape=(8, 1))
    params = [W1, W2]
    for p in params:
        p.attach_grad()

    def step():
        with autograd.record():
            h = nd.relu(nd.dot(X, W1))
            h.retain_grad()
            out = nd.tanh(nd.dot(h, W2))
            loss = nd.square(out - Y).sum(axis=0).mean() + 1e-4 * W1.norm() + out[0].sum() * 0
        loss.backward()
        for p in params:
            p -= 0.01 * p.grad
        repr(loss)
        loss.asscalar()
        h.grad.asnumpy()
        (out > 0).sum()
        for row in out[:2]:
            float(row)
        with autograd.record():
            g = autograd.grad((W1 * W1).sum(), [W1], create_graph=True)[0]
            s = g.sum()
        s.backward()

    run_flat(step, 500, 15000)


def test_arrays_freed_when_unreferenced():
    def step():
        a = nd.ones((64, 64))
        b = a.reshape(4096).copy()
        c = b[10:20] + a[0, :10]
        del a, b, c

    run_flat(step, 2000, 50000)
