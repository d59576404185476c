"""Differentiable functions written in Python: autograd.Function (MXNet's API) and the
decorator autograd.function. Each is checked against the built-in op it imitates, to first and
second order; errors raised in forward and backward reach the caller as themselves; the
library lets go of a function exactly once; functions run from several threads at once."""
import gc
import threading
import weakref

import numpy as np
import pytest

import ad
from ad import _function, autograd, nd
from ad.errors import ADError, ADRuntimeError, ADValueError


class Sigmoid(autograd.Function):
    """MXNet's documented example."""

    def forward(self, x):
        y = 1 / (1 + nd.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        y, = self.saved_tensors
        return dy * y * (1 - y)


@autograd.function
def mul_add(a, b):
    return a * b, a + b


@mul_add.backward
def mul_add(a, b, prod, total, dprod, dtotal):
    return dprod * b + dtotal, dprod * a + dtotal


def variable(values, dtype="float64"):
    x = nd.array(values, dtype=dtype)
    x.attach_grad()
    return x


def grads_of(f, values, dtype="float64", order=1):
    """The gradient of sum(f(x)) at `values` (order 1), or of sum(d/dx sum(f(x))) (order 2)."""
    x = variable(values, dtype)
    with autograd.record():
        y = f(x)
        if order == 2:
            g, = autograd.grad(y, x, create_graph=True)
            y = g
    y.backward()
    return y.asnumpy(), x.grad.asnumpy()


VALUES = [[0.5, -1.0, 2.0], [3.0, -0.25, 0.0]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("order", [1, 2])
def test_a_function_equal_to_a_builtin_op_has_its_gradients(dtype, order):
    value, grad = grads_of(lambda x: Sigmoid()(x), VALUES, dtype, order)
    ref_value, ref_grad = grads_of(nd.sigmoid, VALUES, dtype, order)
    tol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(value, ref_value, rtol=tol, atol=tol)
    np.testing.assert_allclose(grad, ref_grad, rtol=tol, atol=tol)
    assert grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize("order", [1, 2])
def test_the_decorator_form_with_two_inputs_and_two_outputs(order):
    av, bv = [[1.0, 2.0], [-3.0, 0.5]], [[4.0, -1.0], [2.0, 2.0]]

    def run(f):
        a, b = variable(av), variable(bv)
        with autograd.record():
            p, s = f(a, b)
            out = (p * s).sum()
            if order == 2:
                ga, gb = autograd.grad(out, [a, b], create_graph=True)
                out = (ga * gb).sum()
        out.backward()
        return out.asscalar(), a.grad.asnumpy(), b.grad.asnumpy()

    custom = run(mul_add)
    builtin = run(lambda a, b: (a * b, a + b))
    assert custom[0] == pytest.approx(builtin[0], rel=1e-14)
    np.testing.assert_allclose(custom[1], builtin[1], rtol=1e-14)
    np.testing.assert_allclose(custom[2], builtin[2], rtol=1e-14)


def test_the_call_returns_what_forward_returned_a_single_array_a_tuple_or_a_list():
    x = variable([1.0, 2.0])

    class Pair(autograd.Function):
        def __init__(self, kind):
            super().__init__()
            self.kind = kind

        def forward(self, x):
            return self.kind([x * 2, x * 3])

        def backward(self, d2, d3):
            return d2 * 2 + d3 * 3

    for kind in (tuple, list):
        with autograd.record():
            out = Pair(kind)(x)
        assert type(out) is kind and len(out) == 2
        autograd.backward(list(out))
        np.testing.assert_array_equal(x.grad.asnumpy(), [5.0, 5.0])


def test_none_is_a_zero_gradient_and_numpy_may_do_the_work():
    class FirstOnly(autograd.Function):
        def forward(self, a, b):
            self.save_for_backward(a)
            return nd.array(np.sin(a.asnumpy()) + 0 * b.asnumpy(), dtype=a.dtype)

        def backward(self, dy):
            a, = self.saved_tensors
            return np.cos(a.asnumpy()) * dy.asnumpy(), None

    a, b = variable([0.0, 1.0]), variable([2.0, 3.0])
    with autograd.record():
        y = FirstOnly()(a, b)
    y.backward()
    np.testing.assert_allclose(a.grad.asnumpy(), np.cos([0.0, 1.0]), rtol=1e-15)
    np.testing.assert_array_equal(b.grad.asnumpy(), [0.0, 0.0])


def test_saved_values_that_are_not_arrays_come_back_as_they_were():
    class Scale(autograd.Function):
        def forward(self, x):
            self.save_for_backward(2.5, x.shape, x)
            return x * 2.5

        def backward(self, dy):
            k, shape, x = self.saved_tensors
            assert (k, shape) == (2.5, (3,)) and isinstance(x, nd.NDArray)
            return dy * k

    x = variable([1.0, 2.0, 3.0])
    with autograd.record():
        y = Scale()(x)
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [2.5] * 3)


def test_outside_record_the_function_is_forward_only_as_in_mxnet():
    f = Sigmoid()
    x = nd.array([0.0])
    y = f(x)
    assert y.asscalar() == 0.5
    assert f.saved_tensors[0] is y


def test_forward_runs_with_recording_off_and_the_training_flag_as_it_was():
    seen = []

    class Probe(autograd.Function):
        def forward(self, x):
            seen.append((autograd.is_recording(), autograd.is_training()))
            return x + 1

        def backward(self, dy):
            return dy

    x = variable([1.0])
    with autograd.record(train_mode=True):
        Probe()(x)
        assert autograd.is_recording()
    with autograd.record(train_mode=False):
        Probe()(x)
    assert seen == [(False, True), (False, False)]


def test_an_instance_is_called_once_as_in_mxnet():
    f = Sigmoid()
    f(nd.array([1.0]))
    with pytest.raises(ADRuntimeError, match="called only once"):
        f(nd.array([1.0]))


def test_inputs_must_be_arrays():
    with pytest.raises(TypeError, match="input 0 must be an NDArray; got list"):
        Sigmoid()([1.0, 2.0])
    with pytest.raises(ADValueError, match="at least one input"):
        Sigmoid()()


class Oops(Exception):
    pass


def test_an_exception_in_forward_reaches_the_caller_as_itself():
    class Bad(autograd.Function):
        def forward(self, x):
            raise Oops("forward failed on purpose")

    with autograd.record(), pytest.raises(Oops, match="on purpose"):
        Bad()(variable([1.0]))
    assert not autograd.is_recording()


@pytest.mark.parametrize("how", ["backward", "grad", "method"])
def test_an_exception_in_backward_reaches_the_caller_of_backward_as_itself(how):
    class Bad(autograd.Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            raise Oops("backward failed on purpose")

    x = variable([1.0, 2.0])
    with autograd.record():
        y = Bad()(x).sum()
    with pytest.raises(Oops, match="backward failed on purpose") as info:
        if how == "backward":
            autograd.backward(y)
        elif how == "grad":
            autograd.grad(y, x)
        else:
            y.backward()
    # the traceback leads to the line that raised it
    assert "raise Oops" in "".join(__import__("traceback").format_tb(info.tb))
    # the next failure is the library's own again
    with pytest.raises(ADRuntimeError, match="has no recorded history"):
        nd.ones((1,)).backward()


def test_an_exception_that_is_not_an_error_does_not_cross_the_library():
    class Stop(BaseException):
        pass

    class Bad(autograd.Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            raise Stop()

    x = variable([1.0])
    with autograd.record():
        y = Bad()(x)
    with pytest.raises(Stop):
        y.backward()


def test_wrong_gradients_are_refused_with_what_was_wrong():
    class Count(autograd.Function):
        def forward(self, a, b):
            return a + b

        def backward(self, dy):
            return dy

    class Shape(autograd.Function):
        def forward(self, x):
            return x.sum()

        def backward(self, dy):
            return dy

    class Kind(autograd.Function):
        def forward(self, x):
            return x * 1

        def backward(self, dy):
            return "one"

    a, b = variable([1.0, 2.0]), variable([3.0, 4.0])
    with autograd.record():
        y = Count()(a, b)
    with pytest.raises(ADValueError, match="Count.backward returned 1 gradients for the 2 inputs"):
        y.backward()
    with autograd.record():
        y = Shape()(a)
    with pytest.raises(ADValueError, match=r"custom function `Shape`: backward gave a gradient of shape \(1,\) float64 for input 0 of shape \(2,\)"):
        y.backward()
    with autograd.record():
        y = Kind()(a)
    with pytest.raises(TypeError, match="gradient 0 of Kind.backward must be an NDArray"):
        y.backward()


def test_a_saved_input_written_in_place_before_backward_is_detected():
    x = variable([0.5, 1.0])
    with autograd.record():
        y = Sigmoid()(x * 1)
        z = y * 1
    y[:] = 0          # y is what Sigmoid saved
    with pytest.raises(ADRuntimeError, match="modified in place after it was recorded"):
        z.backward()


def live_functions():
    gc.collect()
    return len(_function._live)


def test_the_library_lets_go_of_a_function_once_with_its_last_graph():
    before = live_functions()
    f = Sigmoid()
    ref = weakref.ref(f)
    x = variable([1.0, 2.0])
    with autograd.record():
        y = f(x)
    del f
    assert ref() is not None and live_functions() == before + 1   # the graph holds it
    y.backward()
    del y
    assert live_functions() == before and ref() is None
    # not recorded (no input in the graph): let go at once
    with autograd.record():
        Sigmoid()(nd.array([1.0]))
    assert live_functions() == before


def test_a_failed_apply_lets_go_too():
    before = live_functions()

    class DTypes(autograd.Function):
        def forward(self, x):
            return x, x.astype("float32")

        def backward(self, a, b):
            return a

    with autograd.record(), pytest.raises(ADValueError, match="custom function `DTypes`: output 1 is float32 but output 0 is float64"):
        DTypes()(variable([1.0]))
    assert live_functions() == before


def test_functions_run_from_several_threads_at_once():
    errors, results = [], {}

    def work(k):
        try:
            for i in range(30):
                x = variable(np.linspace(-1, 1, 7) * (k + 1))
                with autograd.record():
                    y = (Sigmoid()(x) * mul_add(x, x)[0]).sum()
                y.backward()
                results[k, i] = x.grad.asnumpy()
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert errors == []
    for (k, i), g in results.items():
        xv = np.linspace(-1, 1, 7) * (k + 1)
        s = 1 / (1 + np.exp(-xv))
        np.testing.assert_allclose(g, s * (1 - s) * xv * xv + s * 2 * xv, rtol=1e-12)


def test_a_function_applied_inside_another_functions_backward():
    class Outer(autograd.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, dy):
            x, = self.saved_tensors
            with autograd.record():
                inner = Sigmoid()(x)     # recorded only when the backward builds a graph
            return dy * 2 * x + 0 * inner

    value, grad = grads_of(lambda x: Outer()(x), [[1.0, -2.0]], order=2)
    np.testing.assert_allclose(grad, [[2.0, 2.0]], rtol=1e-14)


def test_the_exported_names():
    assert autograd.Function is _function.Function and autograd.function is _function.function
    assert "Function" in autograd.__all__ and "function" in autograd.__all__
    with pytest.raises(ADRuntimeError, match="has no backward"):
        autograd.function(lambda x: x)(nd.ones((1,)))
    assert isinstance(ADError("m"), Exception) and ad.autograd.Function.__doc__
