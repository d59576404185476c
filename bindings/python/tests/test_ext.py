"""The C part of NDArray (ad._ext): each fast path gives what the Python code and numpy give,
results are NDArray objects, every other operand type still takes the Python code, failures
raise the package's exceptions, and arrays are freed when collected."""
import ctypes
import math
import operator
import os
import textwrap
import threading
import weakref

import numpy as np
import pytest

import ad
from ad import _ext, _lib, _ops, autograd, nd
from ad.errors import AD_ERR_AUTOGRAD, AD_ERR_NULL_ARGUMENT, AD_ERR_SHAPE, raise_for_status
from ad._helpers import SCALAR_TYPES
from ad.ndarray import NDArray, _fast_paths
from support import rss, run_python

X = np.array([[0.5, -1.25, 2.0], [3.0, 0.75, -0.5]])
Y = np.array([[1.5, 2.0, -0.25], [0.5, 4.0, 1.0]])
BINARY = [operator.add, operator.sub, operator.mul, operator.truediv]
COMPARE = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]
DTYPES = [np.float32, np.float64]


def arr(values, dtype=np.float32):
    return nd.array(values, dtype=dtype)


def check(got, expected, dtype):
    assert type(got) is NDArray
    assert got.dtype is dtype
    expected = np.asarray(expected, dtype=dtype)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.asnumpy(), expected, rtol=1e-6)


def test_the_extension_is_in_use():
    x = arr(X)
    assert isinstance(x, _ext.ArrayBase)
    # the operators are the base class's C slots, not Python methods
    for name in ("__add__", "__rsub__", "__mul__", "__truediv__", "__pow__", "__neg__", "__lt__", "__isub__"):
        assert getattr(NDArray, name) is getattr(_ext.ArrayBase, name), name
    for name in ("asscalar", "sum", "mean", "norm", "backward"):
        assert type(getattr(NDArray, name)).__name__ == "method_descriptor", name
    assert autograd.record is _ext.record and autograd.pause is _ext.pause


def test_the_fast_paths_run_the_functions_of_the_op_table():
    # register received each slot's library functions from ad/_ops.py: the C code names none
    slots = _fast_paths()
    assert set(slots) == {op.slot for op in _ops.OPS if op.slot} | {"backward"}
    for op in _ops.OPS:
        if op.slot:
            addresses = [a for a in slots[op.slot] if isinstance(a, int)]
            assert addresses == [_lib.address(n) for n in (op.c, op.scalar, op.rscalar) if n], op.name
    x = arr(X)
    check(x * 2, X * 2, np.float32)
    check(2 - x, 2 - X, np.float32)
    check(-x, -X, np.float32)
    check(x < 1, X < 1, np.float32)
    check(x.mean(), [X.astype(np.float32).mean()], np.float32)


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("mul"), r"no tuple for the slot 'mul'"),
    (lambda s: s.update(mod=s["add"]), r"no fast path 'mod'"),
    (lambda s: s.update(neg=s["add"]), r"the slot 'neg' takes \(-array,\)"),
    (lambda s: s.update(neg=(0,)), r"address must be a non-zero int"),
    (lambda s: s.update(sum=(s["sum"][0], "sum")), r"must be callable"),
    (lambda s: s.update(truediv=s["truediv"][:4]), r"an operator's slot takes"),
])
def test_register_refuses_a_table_it_cannot_use_and_keeps_the_one_it_has(change, message):
    slots = _fast_paths()
    change(slots)
    with pytest.raises(TypeError, match=message):
        _ext.register(NDArray, raise_for_status, SCALAR_TYPES, slots)
    x = arr(X)
    check(x * 3 / x - x, 3 - X, np.float32)
    check(-x, -X, np.float32)
    check(x.sum(), [X.astype(np.float32).sum()], np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", BINARY + [operator.pow], ids=lambda op: op.__name__)
def test_array_array_and_number_operands(op, dtype):
    x, y = arr(X, dtype), arr(Y, dtype)
    xp, yp = X.astype(dtype), Y.astype(dtype)
    if op is operator.pow:
        x, xp = arr(np.abs(X), dtype), np.abs(X).astype(dtype)
    check(op(x, y), op(xp, yp), dtype)
    for number in (3, 2.5, -1 if op is not operator.pow else 0.5):
        check(op(x, number), op(xp, dtype(number)), dtype)       # x <op> number
        check(op(number, x), op(dtype(number), xp), dtype)       # reflected: number <op> x


@pytest.mark.parametrize("op", BINARY + [operator.pow], ids=lambda op: op.__name__)
@pytest.mark.parametrize("scalar", [np.float32(2.5), np.float64(-1.5), np.int64(3), True, np.array(2.0)],
                         ids=lambda s: type(s).__name__)
def test_numpy_scalars_and_bools_take_the_python_code_with_the_same_result(op, scalar):
    x = arr(np.abs(X) + 0.5)
    xp = np.abs(X).astype(np.float32) + np.float32(0.5)
    s = np.float32(float(scalar))
    if op is operator.pow and float(scalar) < 0:
        scalar, s = -scalar, -s                 # (negative) ** x is NaN
    for got, expected in ((op(x, scalar), op(xp, s)), (op(scalar, x), op(s, xp))):
        check(got, expected, np.float32)
    # the fast path with the same number as a Python float agrees
    np.testing.assert_array_equal(op(x, float(scalar)).asnumpy(), op(x, scalar).asnumpy())
    np.testing.assert_array_equal(op(float(scalar), x).asnumpy(), op(scalar, x).asnumpy())


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.__name__)
def test_numpy_array_and_list_operands_take_the_python_code(op):
    x = arr(X)
    check(op(x, Y), op(X.astype(np.float32), Y.astype(np.float32)), np.float32)
    check(op(x, Y.tolist()), op(X.astype(np.float32), Y.astype(np.float32)), np.float32)


def test_unsupported_operand_types_raise_type_error():
    x = arr(X)
    for call in (lambda: x + "a", lambda: "a" + x, lambda: x * None, lambda: None - x, lambda: x / object(),
                 lambda: x ** {}, lambda: pow(x, 2, 3), lambda: x < "a", lambda: x @ "a", lambda: x // 2):
        with pytest.raises(TypeError):
            call()
    assert (x == "a") is False and (x != None) is True     # noqa: E711  (identity, as Python's default)


def test_int_too_large_for_a_double_is_an_overflow_error():
    with pytest.raises(OverflowError):
        arr(X) + 10 ** 400
    with pytest.raises(OverflowError):
        10 ** 400 - arr(X)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", COMPARE, ids=lambda op: op.__name__)
def test_comparisons(op, dtype):
    x, y = arr(X, dtype), arr(Y, dtype)
    xp, yp = X.astype(dtype), Y.astype(dtype)
    check(op(x, y), op(xp, yp), dtype)
    check(op(x, 0.5), op(xp, 0.5), dtype)
    check(op(0.5, x), op(0.5, xp), dtype)                       # reflected: Python swaps the operator
    check(op(x, np.float32(0.5)), op(xp, 0.5), dtype)           # Python code
    check(op(np.float64(0.5), x), op(0.5, xp), dtype)
    check(op(x, Y), op(xp, yp), dtype)


def test_negation():
    for dtype in DTYPES:
        check(-arr(X, dtype), -X.astype(dtype), dtype)
    assert (+arr(X)).shape == (2, 3)
    check(abs(arr(X)), np.abs(X), np.float32)


def test_inplace_writes_the_arrays_own_data():
    for op, iop in ((operator.add, operator.iadd), (operator.sub, operator.isub), (operator.mul, operator.imul),
                    (operator.truediv, operator.itruediv)):
        for other, other_np in ((2.0, 2.0), (3, 3), (arr(Y), Y), (np.float32(2), 2.0), (Y, Y)):
            x = arr(X)
            view = x.reshape(6)
            result = iop(x, other)
            assert result is x
            expected = op(X.astype(np.float32), np.asarray(other_np, np.float32))
            np.testing.assert_allclose(x.asnumpy(), expected, rtol=1e-6)
            np.testing.assert_allclose(view.asnumpy(), expected.reshape(6), rtol=1e-6)
    # An array that broadcasts to x's shape, and one of the other dtype.
    x = arr(X)
    view = x.reshape(6)
    x -= arr(X[0])
    x *= nd.array(X[:, :1], dtype="float64")
    expected = (X - X[0]) * X[:, :1]
    np.testing.assert_allclose(x.asnumpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(view.asnumpy(), expected.reshape(6), rtol=1e-6)
    assert x.dtype == np.float32
    x = arr(X)
    x **= 2                       # no in-place power: a new array, as before
    np.testing.assert_allclose(x.asnumpy(), X ** 2, rtol=1e-6)


def test_inplace_failures():
    x = arr(X)
    with pytest.raises(ValueError, match=r"^ad_array_update: .*\(3, 2, 3\)") as info:
        x += nd.ones((3, 2, 3))               # the sum broadcasts to a shape x cannot hold
    assert info.value.status == AD_ERR_SHAPE
    np.testing.assert_array_equal(x.asnumpy(), X.astype(np.float32))   # nothing written
    with pytest.raises(TypeError):
        x -= "a"
    np.testing.assert_array_equal(x.asnumpy(), X.astype(np.float32))
    w = arr(X)
    w.attach_grad()
    with autograd.record():
        y = w * 2
        with pytest.raises(RuntimeError) as info:
            y += 1
    assert info.value.status == AD_ERR_AUTOGRAD


@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions_without_arguments_match_the_python_forms(dtype):
    x, xp = arr(X, dtype), X.astype(dtype)
    check(x.sum(), [xp.sum()], dtype)
    check(x.mean(), [xp.mean()], dtype)
    check(x.norm(), [np.sqrt((xp.astype(np.float64) ** 2).sum())], dtype)
    # the same reductions through the Python code
    for fast, slow in ((x.sum(), x.sum(axis=None)), (x.mean(), x.mean(keepdims=False)), (x.norm(), x.norm(2)),
                       (x.sum(), x.sum(axis=(0, 1))), (x.sum(), nd.sum(x))):
        assert fast.shape == slow.shape
        np.testing.assert_array_equal(fast.asnumpy(), slow.asnumpy())
    check(x.sum(axis=0), xp.sum(axis=0), dtype)
    check(x.sum(axes=1), xp.sum(axis=1), dtype)
    check(x.mean(1, True), xp.mean(axis=1, keepdims=True), dtype)
    check(x.norm(1), [np.abs(xp).sum()], dtype)
    with pytest.raises(ValueError, match="ord=3"):
        x.norm(3)
    with pytest.raises(TypeError):
        x.norm(2, None, False, 4)
    # more arguments than the C code passes on from its stack: the Python code gets them all,
    # and refuses the first keyword it does not have by name
    with pytest.raises(TypeError, match="NDArray.mean.* 'a'"):
        x.mean(0, False, exclude=False, a=1, b=2, c=3, d=4, e=5, f=6)
    with pytest.raises(TypeError, match="`axis` or `axes`, not both"):
        x.sum(0, axes=1)


def test_asscalar_shape_dtype_and_grad():
    for dtype in DTYPES:
        x = arr([2.5], dtype)
        s = x.asscalar()
        assert type(s) is dtype and s == 2.5
        assert x.shape == (1,) and x.shape is x.shape and x.dtype is dtype
        assert x.grad is None
        x.attach_grad()
        g = x.grad
        assert type(g) is NDArray and g.dtype is dtype and g.shape == (1,)
        np.testing.assert_array_equal(g.asnumpy(), [0])
    with pytest.raises(ValueError, match="^ad_array_asscalar: ") as info:
        arr(X).asscalar()
    assert info.value.status == AD_ERR_SHAPE
    assert nd.zeros((2, 0, 3)).shape == (2, 0, 3)
    assert nd.ones(()).shape == ()
    deep = nd.ones((1,) * 20)                 # more axes than the C code keeps on its stack
    assert deep.shape == (1,) * 20
    assert deep.reshape(1).asscalar() == 1


def test_backward_with_defaults_matches_the_python_forms():
    def run(call):
        x = arr(X)
        x.attach_grad()
        with autograd.record():
            y = (x * x).sum()
        call(y)
        return x.grad.asnumpy()

    expected = 2 * X.astype(np.float32)
    for call in (lambda y: y.backward(), lambda y: y.backward(None), lambda y: y.backward(retain_graph=True),
                 lambda y: autograd.backward(y), lambda y: y.backward(nd.ones(1), False, True)):
        np.testing.assert_allclose(run(call), expected, rtol=1e-6)
    with pytest.raises(RuntimeError, match="^ad_backward_ex: ") as info:
        arr(X).backward()                      # no recorded history
    assert info.value.status == AD_ERR_AUTOGRAD


def test_scopes():
    assert not autograd.is_recording()
    with autograd.record() as scope:
        assert isinstance(scope, _ext.Scope)
        assert autograd.is_recording() and autograd.is_training()
        with autograd.pause():
            assert not autograd.is_recording() and not autograd.is_training()
            with autograd.pause(train_mode=True):
                assert autograd.is_training()
        with autograd.predict_mode():
            assert not autograd.is_training() and autograd.is_recording()
    assert not autograd.is_recording()
    with autograd.record(False):
        assert autograd.is_recording() and not autograd.is_training()
        with autograd.train_mode():
            assert autograd.is_training()
    with autograd.record(train_mode=0):
        assert not autograd.is_training()
    scope = autograd.record()
    for _ in range(2):                         # a scope object can be entered again
        with scope:
            assert autograd.is_recording()
    with pytest.raises(KeyError):
        with autograd.record():
            raise KeyError("body")
    assert not autograd.is_recording()         # closed on the way out
    for call in (lambda: autograd.record(1, 2), lambda: autograd.record(mode=True),
                 lambda: autograd.pause(True, train_mode=True), lambda: autograd.train_mode(True)):
        with pytest.raises(TypeError):
            call()


def test_unbalanced_scope_exit_raises():
    scope = autograd.pause()
    with autograd.record():
        with pytest.raises(RuntimeError, match="pause_end") as info:
            scope.__exit__(None, None, None)
        assert info.value.status == AD_ERR_AUTOGRAD


def test_handles():
    x = arr(X)
    assert isinstance(x._handle, int) and x.handle.value == x._handle
    y = NDArray(x.handle)                      # a second owner of the same handle ...
    y._handle = None                           # ... disowned again, so nothing is freed twice
    assert y._handle is None
    with pytest.raises(ad.ADError, match="argument `array` is NULL") as info:
        y.shape
    assert info.value.status == AD_ERR_NULL_ARGUMENT
    with pytest.raises(ad.ADError, match="is NULL"):
        y + 1
    with pytest.raises(ad.ADError, match="is NULL"):
        NDArray(None).asscalar()
    for bad in ("abc", 1.5, [1]):
        with pytest.raises(TypeError, match="handle"):
            NDArray(bad)
        with pytest.raises(TypeError, match="handle"):
            y._handle = bad
    with pytest.raises(AttributeError):
        del x._handle
    with pytest.raises(TypeError):
        NDArray()
    with pytest.raises(AttributeError):
        x.anything = 1                         # no __dict__
    np.testing.assert_array_equal(x.asnumpy(), X.astype(np.float32))


def test_weakrefs_hash_and_subclasses():
    x = arr(X)
    r = weakref.ref(x)
    assert r() is x
    assert {x: 1}[x] == 1 and hash(x) == hash(x)
    del x
    assert r() is None

    class Sub(NDArray):
        __slots__ = ()

    out = ctypes.c_void_p()
    _lib.check(_lib.lib.ad_array_ones(_lib.sizes((3,)), 1, 0, ctypes.byref(out)))
    s = Sub(out)                               # owns the new handle
    assert type(s) is Sub and s.shape == (3,)
    for result in (s + 1, 2 * s, s - s, s < 1, -s, s.sum(), s.norm()):
        assert type(result) is NDArray


def test_operations_from_several_threads():
    failures = []

    def worker(k):
        x = nd.ones((50, 50)) * k
        for _ in range(300):
            y = (x + 1) * 2 - x
            if y.sum().asscalar() != 2500 * (k + 2):
                failures.append(k)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_fast_path_results_are_freed():
    x = nd.ones((256,))                          # 1 KB per result: a leak would be 100s of MB
    w = nd.ones((256,))
    w.attach_grad()

    def step():
        a = x * 2
        b = 3 - a
        c = (a + b) / x ** 2
        d = -c
        e = (d < 0.5) + (d == x)
        d += 1
        f = e.sum() + d.mean() + c.norm()
        f.asscalar()
        f.shape
        with autograd.record():
            g = (w * x).sum()
        g.backward()
        w.grad

    for _ in range(2000):
        step()
    before = rss()
    for _ in range(30000):
        step()
    grown = rss() - before
    assert grown < 5 * 2 ** 20, "RSS grew by %.1f MB" % (grown / 2 ** 20)


def test_arrays_alive_at_exit_are_freed_without_trouble():
    out = run_python(textwrap.dedent("""
        from ad import autograd, nd
        keep = [nd.ones((100, 100)) * i for i in range(50)]
        x = nd.ones(3)
        x.attach_grad()
        with autograd.record():
            y = (x * 2).sum()
        class Node:
            pass
        cycle = Node()
        cycle.me, cycle.data = cycle, x * 3     # freed by the collector at shutdown
        rec = autograd.record()
        rec.__enter__()                         # a scope left open
        z = x * x
        print("ok")
    """), timeout=60)
    assert out.strip() == "ok"


def test_w2_control_flow_through_the_fast_paths():
    def f(a):
        b = a * 2
        while b.norm().asscalar() < 1000:
            b = b * 2
        if b.sum().asscalar() > 0:
            c = b
        else:
            c = 100 * b
        return c

    a = nd.array([0.37], dtype="float32")
    a.attach_grad()
    for _ in range(3):
        with autograd.record():
            d = f(a)
        d.backward()
        assert a.grad.asscalar() == 4096.0
        assert math.isclose(d.asscalar(), 0.37 * 4096, rel_tol=1e-6)
