"""Gradient-ready hooks (NDArray.register_grad_ready_hook): in a two-layer network they run
from the last layer to the first, each seeing its final gradient while the earlier layers'
are not written yet; an exception raised in a hook reaches the caller of backward as itself;
the library lets go of a hook when it is replaced or removed; threads run backward with hooks
on graphs of their own."""
import gc
import threading

import numpy as np
import pytest

from ad import _hooks, autograd, nd
from ad.errors import ADError


def network():
    x = nd.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], dtype="float64")
    w1 = nd.array(np.linspace(-1, 1, 12).reshape(3, 4), dtype="float64")
    b1 = nd.array([0.05, -0.05, 0.1, 0.2], dtype="float64")
    w2 = nd.array(np.linspace(-2, 2, 8).reshape(4, 2), dtype="float64")
    params = {"w1": w1, "b1": b1, "w2": w2}
    for p in params.values():
        p.attach_grad()

    def loss():
        with autograd.record():
            return nd.dot(nd.relu(nd.dot(x, w1) + b1), w2).sum()
    return params, loss


def test_hooks_run_last_layer_first_with_final_gradients():
    plain, loss = network()
    loss().backward()
    expected = {k: v.grad.asnumpy() for k, v in plain.items()}

    params, loss = network()
    seen, order, w1_then = {}, [], []

    def hook(name):
        def f(v):
            order.append(name)
            seen[name] = v.grad.asnumpy().copy()
            if name == "w2":
                w1_then.append(params["w1"].grad.asnumpy().copy())
        return f
    for k, p in params.items():
        p.register_grad_ready_hook(hook(k))
    loss().backward()
    assert order == ["w2", "b1", "w1"]
    for k in params:
        np.testing.assert_array_equal(seen[k], expected[k])
        np.testing.assert_array_equal(params[k].grad.asnumpy(), expected[k])
    np.testing.assert_array_equal(w1_then[0], np.zeros((3, 4)))


def test_an_exception_in_a_hook_reaches_the_caller_of_backward():
    params, loss = network()

    class Refused(Exception):
        pass

    def refuse(v):
        raise Refused("the allreduce refuses")
    params["b1"].register_grad_ready_hook(refuse)
    called = []
    params["w1"].register_grad_ready_hook(called.append)
    params["w2"].register_grad_ready_hook(lambda v: None)
    with pytest.raises(Refused, match="the allreduce refuses"):
        loss().backward()
    assert called == []
    assert params["w2"].grad.asnumpy().any()  # hooked before the failing hook: written
    assert not params["w1"].grad.asnumpy().any()  # never final: not written
    params["b1"].register_grad_ready_hook(None)
    loss().backward()
    assert len(called) == 1


def test_hooks_need_a_variable_and_are_let_go():
    with pytest.raises(ADError, match="attach_grad"):
        nd.array([1.0, 2.0]).register_grad_ready_hook(lambda v: None)
    with pytest.raises(TypeError):
        x = nd.array([1.0])
        x.attach_grad()
        x.register_grad_ready_hook(3)
    gc.collect()
    before = len(_hooks._live)
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    x.register_grad_ready_hook(lambda v: None)
    x.register_grad_ready_hook(lambda v: None)
    assert len(_hooks._live) == before + 1
    x.register_grad_ready_hook(None)
    assert len(_hooks._live) == before
    x.register_grad_ready_hook(lambda v: None)
    del x
    gc.collect()
    assert len(_hooks._live) == before


def test_threads_run_backward_with_hooks():
    failures = []

    def work():
        try:
            for _ in range(20):
                params, loss = network()
                order = []
                for k, p in params.items():
                    p.register_grad_ready_hook(lambda v, k=k: order.append(k))
                loss().backward()
                assert order == ["w2", "b1", "w1"]
        except BaseException as e:  # noqa: B902
            failures.append(e)
    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
