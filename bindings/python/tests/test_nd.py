"""NDArray and the `nd` namespace, feature by feature, with MXNet 1.9.1's behaviour as the
expected values (the strings and shapes below are what MXNet prints and returns)."""
import math
import threading

import numpy as np
import pytest

import ad
from ad import autograd, nd
from support import m23


def np_equal(x, expected, dtype=np.float32):
    """x is an NDArray holding exactly `expected` (as `dtype`)."""
    assert isinstance(x, nd.NDArray)
    expected = np.asarray(expected, dtype=dtype)
    assert x.shape == expected.shape
    assert x.dtype == dtype
    np.testing.assert_array_equal(x.asnumpy(), expected)


# ------------------------------------------------------------------ package

def test_version_and_namespaces():
    import importlib
    pkg = importlib.import_module("ad")
    assert isinstance(pkg.__version__, str)
    parts = pkg.__version__.split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)
    assert pkg.nd is nd and pkg.autograd is autograd
    assert pkg.nd.random.normal is nd.random.normal
    assert issubclass(pkg.ADError, Exception)


def test_waitall_leaves_writes_visible_and_the_recording_going():
    # MXNet scripts call waitall before reading results. Writes made on another thread before
    # the call are all visible after it; inside a record scope it neither ends the scope nor
    # drops what was recorded.
    w = nd.zeros(1000)
    written = threading.Event()

    def writer():
        for _ in range(50):
            w.__iadd__(1)          # in place, as `w += 1`
        written.set()

    threading.Thread(target=writer).start()
    assert written.wait(60)
    assert nd.waitall() is None
    np_equal(w, [50] * 1000)

    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = x * x
        assert nd.waitall() is None
        assert autograd.is_recording()
        z = (y * 2).sum()
    z.backward()
    np_equal(x.grad, [0, 4, 8])
    with pytest.raises(TypeError):
        nd.waitall(x)


def test_waiting_on_fused_results_computes_them_with_the_values_of_the_ops():
    # Element-wise results of 65,536 elements or more are computed when first needed;
    # wait_to_read and waitall compute them at the call (the engine's tests check that
    # nothing is left pending), and the values are those of the operations.
    x = nd.arange(200000)
    y = x * 0.5
    z = (y + 1).exp()
    w = y * 3
    assert y.wait_to_read() is None
    assert nd.waitall() is None
    np_equal(w, np.arange(200000, dtype=np.float32) * 0.5 * 3)
    assert abs(z[10].asscalar() - np.exp(6.0)) < 1e-6 * np.exp(6.0)


# ------------------------------------------------------------------ arithmetic

@pytest.mark.parametrize("op, expected", [
    (lambda x: x + 2, [2, 3, 4, 5]),
    (lambda x: 2 + x, [2, 3, 4, 5]),
    (lambda x: x - 2, [-2, -1, 0, 1]),
    (lambda x: 2 - x, [2, 1, 0, -1]),
    (lambda x: x * 3, [0, 3, 6, 9]),
    (lambda x: 3 * x, [0, 3, 6, 9]),
    (lambda x: x / 2, [0, 0.5, 1, 1.5]),
    (lambda x: 6 / (x + 1), [6, 3, 2, 1.5]),
    (lambda x: x ** 2, [0, 1, 4, 9]),
    (lambda x: 2 ** x, [1, 2, 4, 8]),
    (lambda x: -x, [-0.0, -1, -2, -3]),
    (lambda x: x + x, [0, 2, 4, 6]),
    (lambda x: x - x * 2, [0, -1, -2, -3]),
    (lambda x: x * x, [0, 1, 4, 9]),
    (lambda x: x / (x + 1), [0, 0.5, 2 / 3, 0.75]),
    (lambda x: (x + 1) ** (x - 1), [1, 1, 3, 16]),
    (lambda x: np.float32(2) * x, [0, 2, 4, 6]),
    (lambda x: x + np.float64(0.5), [0.5, 1.5, 2.5, 3.5]),
    (lambda x: np.int64(1) - x, [1, 0, -1, -2]),
])
def test_arithmetic(op, expected):
    np_equal(op(nd.arange(4)), expected)


def test_negative_zero_prints_as_mxnet():
    assert repr(-nd.arange(3)) == "\n[-0. -1. -2.]\n<NDArray 3 @cpu(0)>"


def test_broadcasting():
    a = nd.arange(3)                      # (3,)
    b = nd.array([[10], [20]])            # (2, 1)
    np_equal(a + b, [[10, 11, 12], [20, 21, 22]])
    np_equal(b - a, [[10, 9, 8], [20, 19, 18]])
    np_equal(a * b, [[0, 10, 20], [0, 20, 40]])
    np_equal(a / b, [[0, 0.1, 0.2], [0, 0.05, 0.1]])
    np_equal(b ** nd.ones((1, 1, 3)), [[[10, 10, 10], [20, 20, 20]]])
    np_equal(nd.ones((2, 1, 4)) + nd.ones((3, 1)), np.full((2, 3, 4), 2))


def test_broadcasting_mismatch_is_a_value_error_naming_shapes():
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 2\)"):
        nd.arange(3) + nd.arange(6).reshape(3, 2)


def test_arithmetic_with_numpy_array_and_list_operands():
    np_equal(nd.arange(3) + np.array([1, 1, 1]), [1, 2, 3])
    np_equal(nd.arange(3) * [2, 2, 2], [0, 2, 4])


def test_float64_arithmetic_stays_float64():
    x = nd.array([1, 2], dtype="float64")
    for y in (x + 1, 1 - x, x * x, x / 3, x ** 0.5, 2 ** x, -x, x == 1):
        assert y.dtype == np.float64
    np.testing.assert_array_equal((x / 3).asnumpy(), np.array([1, 2], dtype=np.float64) / 3)


def test_mixed_dtypes_are_refused():
    with pytest.raises(ValueError, match="float64.*float32|float32.*float64"):
        nd.array([1, 2], dtype="float64") + nd.array([1, 2])


def test_unsupported_operators_raise_type_error():
    with pytest.raises(TypeError):
        nd.arange(3) + "a"
    with pytest.raises(TypeError):
        nd.arange(3) @ "a"


# ------------------------------------------------------------------ comparisons

@pytest.mark.parametrize("op, expected", [
    (lambda x, y: x == y, [1, 0, 0, 1]),
    (lambda x, y: x != y, [0, 1, 1, 0]),
    (lambda x, y: x < y, [0, 1, 0, 0]),
    (lambda x, y: x <= y, [1, 1, 0, 1]),
    (lambda x, y: x > y, [0, 0, 1, 0]),
    (lambda x, y: x >= y, [1, 0, 1, 1]),
])
def test_comparisons_array_array(op, expected):
    x = nd.array([1, 2, 3, 4])
    y = nd.array([1, 3, 2, 4])
    np_equal(op(x, y), expected)


@pytest.mark.parametrize("op, expected", [
    (lambda x: x == 2, [0, 0, 1, 0]),
    (lambda x: x != 2, [1, 1, 0, 1]),
    (lambda x: x < 2, [1, 1, 0, 0]),
    (lambda x: x <= 2, [1, 1, 1, 0]),
    (lambda x: x > 2, [0, 0, 0, 1]),
    (lambda x: x >= 2, [0, 0, 1, 1]),
    # reflected: the scalar on the left
    (lambda x: 2 == x, [0, 0, 1, 0]),
    (lambda x: 2 != x, [1, 1, 0, 1]),
    (lambda x: 2 < x, [0, 0, 0, 1]),
    (lambda x: 2 <= x, [0, 0, 1, 1]),
    (lambda x: 2 > x, [1, 1, 0, 0]),
    (lambda x: 2 >= x, [1, 1, 1, 0]),
    (lambda x: 1.5 < x, [0, 0, 1, 1]),
])
def test_comparisons_with_scalars(op, expected):
    np_equal(op(nd.arange(4)), expected)


def test_comparison_broadcasts_and_keeps_dtype():
    r = nd.arange(3) < nd.array([[1], [2]])
    np_equal(r, [[1, 0, 0], [1, 1, 0]])
    r64 = nd.arange(3, dtype="float64") > 0
    assert r64.dtype == np.float64
    assert repr(r) == "\n[[1. 0. 0.]\n [1. 1. 0.]]\n<NDArray 2x3 @cpu(0)>"


def test_comparison_with_nan():
    x = nd.array([float("nan"), 1])
    np_equal(x == x, [0, 1])
    np_equal(x != x, [1, 0])


# ------------------------------------------------------------------ in place

def test_inplace_ops_change_the_data_seen_by_a_reshape_view():
    x = nd.arange(4)
    view = x.reshape(2, 2)
    x += 1
    np_equal(view, [[1, 2], [3, 4]])
    x *= 2
    np_equal(view, [[2, 4], [6, 8]])
    x -= 1
    np_equal(view, [[1, 3], [5, 7]])
    x /= 2
    np_equal(view, [[0.5, 1.5], [2.5, 3.5]])
    np_equal(x, [0.5, 1.5, 2.5, 3.5])


def test_inplace_returns_the_same_object():
    x = nd.arange(3)
    before = id(x)
    x += nd.ones(3)
    x -= nd.ones(3)
    x *= nd.ones(3) * 2
    x /= nd.ones(3) * 2
    assert id(x) == before
    np_equal(x, [0, 1, 2])


def test_inplace_broadcasts_into_the_target():
    x = nd.zeros((2, 3))
    x += nd.arange(3)
    np_equal(x, [[0, 1, 2], [0, 1, 2]])


def test_inplace_seen_through_the_grad_handle():
    w = nd.arange(3)
    w.attach_grad()
    g = w.grad                      # a handle sharing the gradient's data
    w.grad[:] = 5
    np_equal(g, [5, 5, 5])
    g2 = w.grad
    g2 += 1
    np_equal(w.grad, [6, 6, 6])
    np_equal(g, [6, 6, 6])


def test_sgd_step_updates_w_in_place():
    w = nd.array([1.0, 2.0, 3.0])
    w.attach_grad()
    alias = w.reshape(3, 1)
    with autograd.record():
        loss = (w * w).sum()
    loss.backward()
    np_equal(w.grad, [2, 4, 6])
    w -= 0.25 * w.grad
    np_equal(w, [0.5, 1.0, 1.5])
    np_equal(alias, [[0.5], [1.0], [1.5]])
    # w is still the variable: a new step differentiates the updated values
    with autograd.record():
        loss = (w * w).sum()
    loss.backward()
    np_equal(w.grad, [1, 2, 3])


def test_inplace_on_a_recorded_array_inside_record_is_refused():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = x * 2
        with pytest.raises(RuntimeError, match="record"):
            y += 1
    np_equal(y, [0, 2, 4])


# ------------------------------------------------------------------ properties

def test_properties():
    x = m23()
    assert x.shape == (2, 3)
    assert x.size == 6
    assert x.ndim == 2
    assert x.dtype is np.float32
    assert nd.zeros(2, dtype="float64").dtype is np.float64
    assert nd.zeros(2, dtype=np.float64).dtype is np.float64
    assert str(x.context) == "cpu(0)"
    assert x.context == ad.cpu()
    assert x.ctx == ad.cpu(0)
    assert nd.zeros((0, 3)).size == 0
    assert nd.array(5).shape == () and nd.array(5).ndim == 0 and nd.array(5).size == 1


def test_context_prints_cpu0():
    assert repr(nd.ones(1).context) == "cpu(0)"
    assert str(ad.cpu()) == "cpu(0)"


def test_T():
    x = m23()
    np_equal(x.T, [[0, 3], [1, 4], [2, 5]])
    assert nd.arange(24).reshape(2, 3, 4).T.shape == (4, 3, 2)
    np_equal(x.T.T, x.asnumpy())
    np_equal(nd.arange(3).T, [0, 1, 2])


# ------------------------------------------------------------------ shape functions

def test_reshape_forms():
    x = nd.arange(6)
    np_equal(x.reshape((2, 3)), [[0, 1, 2], [3, 4, 5]])
    np_equal(x.reshape(2, 3), [[0, 1, 2], [3, 4, 5]])
    np_equal(x.reshape([3, 2]), [[0, 1], [2, 3], [4, 5]])
    np_equal(x.reshape(shape=(3, 2)), [[0, 1], [2, 3], [4, 5]])
    assert x.reshape(-1, 2).shape == (3, 2)
    assert x.reshape((3, -1)).shape == (3, 2)
    assert m23().reshape(-1).shape == (6,)
    assert x.reshape(6).shape == (6,)
    assert x.reshape(1, 1, 6).shape == (1, 1, 6)
    np_equal(nd.reshape(x, (2, 3)), [[0, 1, 2], [3, 4, 5]])
    np_equal(nd.reshape(x, shape=(3, 2)), [[0, 1], [2, 3], [4, 5]])


def test_reshape_shares_data():
    x = nd.arange(4)
    y = x.reshape(2, 2)
    y += 10
    np_equal(x, [10, 11, 12, 13])


@pytest.mark.parametrize("shape", [(4, -1), (4,), (7,), (2, 2), (-1, -1), (0, 6)])
def test_reshape_size_mismatch(shape):
    with pytest.raises(ValueError, match=r"shape \(6,\)") as info:
        nd.arange(6).reshape(shape)
    assert isinstance(info.value, ad.ADError)


def test_transpose():
    x = nd.arange(24).reshape(2, 3, 4)
    t = x.transpose((2, 0, 1))
    assert t.shape == (4, 2, 3)
    np.testing.assert_array_equal(t.asnumpy(), np.arange(24, dtype=np.float32).reshape(2, 3, 4).transpose(2, 0, 1))
    assert x.transpose(axes=(1, 0, 2)).shape == (3, 2, 4)
    assert x.transpose(1, 2, 0).shape == (3, 4, 2)
    assert x.transpose((-1, 0, 1)).shape == (4, 2, 3)
    assert x.transpose().shape == (4, 3, 2)
    assert nd.transpose(x).shape == (4, 3, 2)
    assert nd.transpose(x, axes=(0, 2, 1)).shape == (2, 4, 3)
    np_equal(nd.transpose(m23()), [[0, 3], [1, 4], [2, 5]])


@pytest.mark.parametrize("axes", [(0, 1), (0, 0, 1), (0, 1, 3), (0, 1, 2, 3)])
def test_transpose_bad_axes(axes):
    with pytest.raises(ValueError) as info:
        nd.arange(24).reshape(2, 3, 4).transpose(axes)
    assert isinstance(info.value, ad.ADError)


def test_broadcast_to():
    np_equal(nd.arange(3).broadcast_to((2, 3)), [[0, 1, 2], [0, 1, 2]])
    np_equal(nd.broadcast_to(nd.array([[1], [2]]), (2, 2)), [[1, 1], [2, 2]])
    with pytest.raises(ValueError):
        nd.arange(3).broadcast_to((2, 4))


# ------------------------------------------------------------------ reductions

@pytest.mark.parametrize("name, fn", [
    ("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min),
])
@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, (0, 2), (1,), (0, 1, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(name, fn, axis, keepdims):
    data = np.array([[[3, -1, 4, 1], [5, 9, -2, 6], [5, 3, 5, 8]],
                     [[9, 7, -9, 3], [2, 3, 8, 4], [6, -2, 6, 4]]], dtype=np.float32)
    x = nd.array(data)
    got = getattr(x, name)(axis=axis, keepdims=keepdims)
    expected = fn(data, axis=axis, keepdims=keepdims)
    if expected.ndim == 0:
        expected = expected.reshape(1)        # MXNet: a full reduction has shape (1,)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.asnumpy(), expected, rtol=1e-6)
    # the nd.* function form gives the same
    np.testing.assert_array_equal(getattr(nd, name)(x, axis=axis, keepdims=keepdims).asnumpy(), got.asnumpy())


def test_full_reductions_have_shape_1():
    x = m23()
    for r in (x.sum(), x.mean(), x.max(), x.min(), x.norm(), nd.sum(x), nd.norm(x)):
        assert r.shape == (1,)
    assert repr(x.sum()) == "\n[15.]\n<NDArray 1 @cpu(0)>"
    assert repr(x.mean(axis=1)) == "\n[1. 4.]\n<NDArray 2 @cpu(0)>"


def test_empty_axis_tuple_reduces_everything_as_mxnet():
    x = m23()
    np_equal(x.sum(axis=()), [15])
    np_equal(x.max(axis=()), [5])
    np_equal(x.mean(axis=()), [2.5])


@pytest.mark.parametrize("axis", [2, -3, (0, 0), (0, 5)])
def test_reduction_bad_axis(axis):
    with pytest.raises(ValueError, match="axis") as info:
        m23().sum(axis=axis)
    assert isinstance(info.value, ad.ADError)


def test_norm():
    x = nd.array([[3, 4], [6, 8]])
    np.testing.assert_allclose(x.norm().asnumpy(), [math.sqrt(125)], rtol=1e-6)
    np_equal(x.norm(axis=1), [5, 10])
    np_equal(x.norm(axis=1, keepdims=True), [[5], [10]])
    np_equal(nd.norm(x, axis=0), [math.sqrt(45), math.sqrt(80)])
    np_equal(nd.zeros(3).norm(), [0])
    np_equal(x.norm(ord=1, axis=1), [7, 14])
    np_equal(nd.norm(x, 1), [21])
    for ord in (0, 3, 2.5, True):
        with pytest.raises(ValueError, match="ord"):
            x.norm(ord=ord)


# ------------------------------------------------------------------ data out

def test_asnumpy_is_a_copy():
    x = nd.arange(3)
    a = x.asnumpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    a[0] = 100
    np_equal(x, [0, 1, 2])
    assert nd.arange(3, dtype="float64").asnumpy().dtype == np.float64


def test_np_asarray():
    a = np.asarray(m23())
    assert a.shape == (2, 3) and a.dtype == np.float32
    np.testing.assert_array_equal(a, np.arange(6).reshape(2, 3))
    assert np.asarray(nd.ones(2), dtype=np.float64).dtype == np.float64


def test_asscalar():
    s = nd.array([2.5]).asscalar()
    assert type(s) is np.float32 and s == 2.5
    s64 = nd.array([[2.5]], dtype="float64").asscalar()
    assert type(s64) is np.float64 and s64 == 2.5
    assert nd.array(7).asscalar() == 7
    with pytest.raises(ValueError, match=r"\(3,\)") as info:
        nd.arange(3).asscalar()
    assert isinstance(info.value, ad.ADError)
    with pytest.raises(ValueError):
        nd.zeros((0,)).asscalar()


def test_float_int_and_bool():
    assert float(nd.array([2.5])) == 2.5 and type(float(nd.array([2.5]))) is float
    assert int(nd.array([2.7])) == 2
    with pytest.raises(ValueError):
        float(nd.arange(2))
    assert bool(nd.array([1])) is True
    assert bool(nd.array([0])) is False
    assert bool(nd.array([[0.5]])) is True
    assert bool(nd.zeros((0,))) is False
    with pytest.raises(ValueError, match="ambiguous"):
        bool(nd.arange(2))
    with pytest.raises(ValueError, match="ambiguous"):
        if nd.ones((2, 2)):
            pass


def test_astype():
    x = nd.array([1.5, 2.5])
    y = x.astype("float64")
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y.asnumpy(), [1.5, 2.5])
    z = y.astype(np.float32)
    assert z.dtype == np.float32
    c = x.astype(np.float32)                 # same dtype: a copy by default
    c += 1
    np_equal(x, [1.5, 2.5])
    assert x.astype(np.float32, copy=False) is x
    assert x.astype("int32").dtype == np.int32
    with pytest.raises(ValueError, match="int16"):
        x.astype("int16")


def test_copy_is_independent():
    x = nd.arange(3)
    y = x.copy()
    y += 1
    y[0] = 9
    np_equal(x, [0, 1, 2])
    np_equal(y, [9, 2, 3])
    z = nd.zeros(3)
    assert x.copyto(z) is z
    np_equal(z, [0, 1, 2])


def test_detach_shares_data_but_not_history():
    x = nd.arange(3)
    x.attach_grad()
    d = x.detach()
    d += 1                                   # shares x's data
    np_equal(x, [1, 2, 3])
    with autograd.record():
        y = (x * x.detach()).sum()
    y.backward()
    np_equal(x.grad, [1, 2, 3])              # the detached factor is a constant


def test_len_and_iteration():
    x = m23()
    assert len(x) == 2
    rows = list(x)
    assert len(rows) == 2
    np_equal(rows[0], [0, 1, 2])
    np_equal(rows[1], [3, 4, 5])
    items = [e for e in nd.arange(3)]
    assert [e.shape for e in items] == [(1,)] * 3
    assert [float(e) for e in items] == [0, 1, 2]
    with pytest.raises(TypeError):
        len(nd.array(3))


# ------------------------------------------------------------------ indexing

def test_getitem_integer_1d_gives_shape_1():
    x = nd.arange(6)
    np_equal(x[2], [2])
    np_equal(x[-1], [5])
    assert repr(x[2]) == "\n[2.]\n<NDArray 1 @cpu(0)>"


def test_getitem_forms():
    x = m23()
    np_equal(x[1], [3, 4, 5])
    np_equal(x[-2], [0, 1, 2])
    np_equal(x[1, 2], [5])
    np_equal(x[-1, -1], [5])
    np_equal(x[0:1], [[0, 1, 2]])
    np_equal(x[:, 1], [1, 4])
    np_equal(x[:, -1], [2, 5])
    np_equal(x[..., 0], [0, 3])
    np_equal(x[1, ...], [3, 4, 5])
    np_equal(x[...], x.asnumpy())
    np_equal(x[:, ::2], [[0, 2], [3, 5]])
    np_equal(x[::-1], [[3, 4, 5], [0, 1, 2]])
    np_equal(x[:, ::-1], [[2, 1, 0], [5, 4, 3]])
    np_equal(nd.arange(6)[::-1], [5, 4, 3, 2, 1, 0])
    np_equal(nd.arange(6)[1:5:2], [1, 3])
    np_equal(nd.arange(6)[-2:], [4, 5])
    np_equal(nd.arange(6)[4:1:-1], [4, 3, 2])
    np_equal(nd.arange(6)[10:20], np.zeros(0))
    np_equal(x[np.int64(1)], [3, 4, 5])
    np_equal(nd.arange(24).reshape(2, 3, 4)[..., 1, 2], [6, 18])
    np_equal(nd.arange(24).reshape(2, 3, 4)[1, ..., 2], [14, 18, 22])


def test_first_axis_slice_is_a_view():
    x = nd.arange(6)
    v = x[2:4]
    v += 100
    np_equal(x, [0, 1, 102, 103, 4, 5])


@pytest.mark.parametrize("key, changed", [
    (1, 3), (slice(1, 3), 6), ((slice(1, 3), slice(None)), 6), ((1, Ellipsis), 3), (Ellipsis, 12),
    (slice(None), 12), ((slice(None), slice(None)), 12), ((), 12), (-1, 3),
    # copies, as in MXNet
    ((slice(None), 1), 0), ((Ellipsis, 0), 0), (slice(None, None, -1), 0), (slice(None, None, 2), 0),
])
def test_which_indexing_results_are_views(key, changed):
    x = nd.arange(12).reshape(4, 3)
    v = x[key]
    v[:] = 99
    assert int((x.asnumpy() == 99).sum()) == changed


@pytest.mark.parametrize("key", [6, -7, (0, 3), (2, 0), (slice(None), 5), (0, -4)])
def test_getitem_out_of_range(key):
    x = nd.arange(6) if not isinstance(key, tuple) else m23()
    with pytest.raises(IndexError, match="out of bounds") as info:
        x[key]
    assert isinstance(info.value, ad.ADError)


def test_getitem_too_many_indices_and_bad_types():
    with pytest.raises(IndexError, match="too many indices"):
        m23()[0, 0, 0]
    with pytest.raises(TypeError):
        m23()["a"]
    with pytest.raises(TypeError):
        m23()[1.5]


def test_getitem_inside_record_is_differentiable():
    x = m23()
    x.attach_grad()
    with autograd.record():
        y = x[1] * 2 + x[:, 0].sum() + x[0, 2] * 5 + x[::-1][0, 1] * 7
    y.backward()
    # each (1,)-shaped term is broadcast against the (3,)-shaped x[1]: it counts three times
    np_equal(x.grad, [[3, 0, 15], [5, 23, 2]])


def test_getitem_gradient_with_negative_step():
    x = nd.arange(6)
    x.attach_grad()
    with autograd.record():
        y = x[::-1] * nd.arange(6)
    y.backward()
    np_equal(x.grad, [5, 4, 3, 2, 1, 0])


def test_setitem():
    x = nd.zeros((3, 4))
    x[1:3] = nd.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    x[0] = 9
    x[:, 1] = 7
    np_equal(x, [[9, 7, 9, 9], [1, 7, 3, 4], [5, 7, 7, 8]])
    x[...] = 2
    np_equal(x, np.full((3, 4), 2))
    x[1, 2] = 5
    x[-1] = nd.arange(4)
    x[0, :] = [1, 1, 1, 1]
    x[:] = x + 1
    np_equal(x, [[2, 2, 2, 2], [3, 3, 6, 3], [1, 2, 3, 4]])
    x[:] = np.ones((3, 4))
    np_equal(x, np.ones((3, 4)))
    x[:, ::-1] = nd.arange(4)
    np_equal(x, [[3, 2, 1, 0]] * 3)


def test_setitem_converts_dtype_and_is_seen_by_views():
    x = nd.zeros((2, 3), dtype="float64")
    v = x.reshape(6)
    x[0] = nd.array([7, 8, 9])
    assert x.dtype == np.float64
    np.testing.assert_array_equal(v.asnumpy(), [7, 8, 9, 0, 0, 0])


def test_setitem_errors():
    x = nd.zeros((2, 3))
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)|\(3,\).*\(2,\)"):
        x[0] = nd.array([1, 2])
    with pytest.raises(IndexError):
        x[5] = 1
    np_equal(x, np.zeros((2, 3)))


def test_setitem_inside_record():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        with pytest.raises(RuntimeError):
            x[0] = 5
    np_equal(x, [0, 1, 2])
    plain = nd.zeros(3)
    with autograd.record():
        plain[1] = 4                         # not in the graph: allowed
    np_equal(plain, [0, 4, 0])


# ------------------------------------------------------------------ printing

@pytest.mark.parametrize("make, text", [
    (lambda: nd.arange(4).reshape((4, 1)), "\n[[0.]\n [1.]\n [2.]\n [3.]]\n<NDArray 4x1 @cpu(0)>"),
    (lambda: nd.arange(3), "\n[0. 1. 2.]\n<NDArray 3 @cpu(0)>"),
    (lambda: nd.array([[1.5, -2.25], [1e6, 3]]),
     "\n[[ 1.50e+00 -2.25e+00]\n [ 1.00e+06  3.00e+00]]\n<NDArray 2x2 @cpu(0)>"),
    (lambda: nd.array([1e-5, 3]), "\n[1.e-05 3.e+00]\n<NDArray 2 @cpu(0)>"),
    (lambda: nd.array([[1, 2], [3, 4], [5, 6], [7, 8]]).reshape(2, 2, 2),
     "\n[[[1. 2.]\n  [3. 4.]]\n\n [[5. 6.]\n  [7. 8.]]]\n<NDArray 2x2x2 @cpu(0)>"),
    (lambda: nd.array([[0.1, 0.2], [1 / 3, 2]]),
     "\n[[0.1        0.2       ]\n [0.33333334 2.        ]]\n<NDArray 2x2 @cpu(0)>"),
    (lambda: nd.array([[0.1, 0.2], [1 / 3, 2]], dtype="float64"),
     "\n[[0.1        0.2       ]\n [0.33333333 2.        ]]\n<NDArray 2x2 @cpu(0)>"),
    (lambda: nd.array([float("nan"), float("inf"), -float("inf")]), "\n[ nan  inf -inf]\n<NDArray 3 @cpu(0)>"),
    (lambda: nd.arange(2000),
     "\n[0.000e+00 1.000e+00 2.000e+00 ... 1.997e+03 1.998e+03 1.999e+03]\n<NDArray 2000 @cpu(0)>"),
    (lambda: nd.arange(3).reshape(3, 1, 1), "\n[[[0.]]\n\n [[1.]]\n\n [[2.]]]\n<NDArray 3x1x1 @cpu(0)>"),
    (lambda: nd.exp(nd.array([0, 1])), "\n[1.        2.7182817]\n<NDArray 2 @cpu(0)>"),
    (lambda: nd.zeros((0,)), "\n[]\n<NDArray 0 @cpu(0)>"),
    (lambda: nd.array(5), "\n5.0\n<NDArray  @cpu(0)>"),
    (lambda: nd.array([[28]]), "\n[[28.]]\n<NDArray 1x1 @cpu(0)>"),
])
def test_print_and_repr(make, text, capsys):
    x = make()
    assert repr(x) == text
    assert str(x) == text
    print(x)
    assert capsys.readouterr().out == text + "\n"


def test_print_of_a_list_of_arrays():
    assert repr([nd.ones(1)]) == "[\n[1.]\n<NDArray 1 @cpu(0)>]"


# ------------------------------------------------------------------ creation

def test_array_float32_rule():
    for src in ([1, 2], [1.5, 2.5], np.array([1, 2], dtype=np.float64), np.array([1, 2], dtype=np.int32),
                np.array([True, False]), (1, 2)):
        assert nd.array(src).dtype is np.float32
    np_equal(nd.array(np.array([1, 2], dtype=np.int64)), [1, 2])
    assert nd.array([1, 2], dtype="float64").dtype is np.float64
    assert nd.array(np.array([1.0, 2.0]), dtype=np.float64).dtype is np.float64
    big = nd.array(np.array([1 / 3], dtype=np.float64))
    assert big.asnumpy()[0] == np.float32(1 / 3)


def test_array_from_nested_lists_and_ndarray():
    np_equal(nd.array([[1, 2, 3], [4, 5, 6]]), [[1, 2, 3], [4, 5, 6]])
    a = np.arange(6, dtype=np.float32).reshape(2, 3).T      # not C-contiguous
    np_equal(nd.array(a), a)
    x64 = nd.array([1, 2], dtype="float64")
    assert nd.array(x64).dtype is np.float64                # an NDArray keeps its dtype
    c = nd.array(x64)
    c += 1
    np.testing.assert_array_equal(x64.asnumpy(), [1, 2])    # and is copied
    assert nd.array(x64, dtype="float32").dtype is np.float32


def test_array_from_scalar_is_0d():
    s = nd.array(2.5)
    assert s.shape == () and s.asscalar() == 2.5


def test_array_bad_input():
    with pytest.raises(ValueError):
        nd.array([[1, 2], [3]])
    with pytest.raises(ValueError, match="int16"):
        nd.array([1, 2], dtype="int16")


def test_arange():
    np_equal(nd.arange(4), [0, 1, 2, 3])
    np_equal(nd.arange(2, 5), [2, 3, 4])
    np_equal(nd.arange(2, 10, 3), [2, 5, 8])
    np_equal(nd.arange(5, 0, -1.5), [5, 3.5, 2, 0.5])
    np_equal(nd.arange(0, 2, 0.5), [0, 0.5, 1, 1.5])
    np_equal(nd.arange(start=1, stop=3), [1, 2])
    np_equal(nd.arange(3, repeat=2), [0, 0, 1, 1, 2, 2])
    assert nd.arange(3, dtype="float64").dtype is np.float64
    assert nd.arange(3, dtype=np.float64).dtype is np.float64
    np_equal(nd.arange(3, 3), np.zeros(0))
    with pytest.raises(ValueError, match="step"):
        nd.arange(0, 3, 0)


def test_zeros_ones_full_like():
    np_equal(nd.zeros((2, 3)), np.zeros((2, 3)))
    np_equal(nd.zeros(3), [0, 0, 0])
    np_equal(nd.ones((2,)), [1, 1])
    np_equal(nd.ones(2, dtype="float64"), [1, 1], dtype=np.float64)
    np_equal(nd.full((2, 2), 7), [[7, 7], [7, 7]])
    np_equal(nd.full(3, 0.5, dtype=np.float64), [0.5, 0.5, 0.5], dtype=np.float64)
    x = nd.arange(6, dtype="float64").reshape(3, 2)
    np_equal(nd.zeros_like(x), np.zeros((3, 2)), dtype=np.float64)
    np_equal(nd.ones_like(x), np.ones((3, 2)), dtype=np.float64)
    np_equal(nd.zeros_like(m23()), np.zeros((2, 3)))
    np_equal(nd.ones(np.int64(2)), [1, 1])
    np_equal(nd.empty((2,)) * 0, [0, 0])


def test_random_shapes_and_ranges():
    assert nd.random.normal(shape=3).shape == (3,)
    assert nd.random.normal(0, 1, shape=(2, 3)).shape == (2, 3)
    assert nd.random.normal(shape=np.int64(4)).shape == (4,)
    assert nd.random.uniform(shape=(4, 1)).shape == (4, 1)
    assert nd.random.normal().shape == (1,)
    u = nd.random.uniform(-2, -1, shape=1000).asnumpy()
    assert u.min() >= -2 and u.max() < -1
    n = nd.random.normal(10, 0.5, shape=(100, 100)).asnumpy()
    assert abs(n.mean() - 10) < 0.05 and abs(n.std() - 0.5) < 0.05
    assert nd.random.normal(shape=2, dtype="float64").dtype is np.float64
    with pytest.raises(ValueError, match="scale"):
        nd.random.normal(0, -1, shape=2)
    with pytest.raises(ValueError, match="low"):
        nd.random.uniform(2, 1, shape=2)


def test_random_seed_reproducible():
    nd.random.seed(42)
    a = nd.random.normal(shape=(3, 4)).asnumpy()
    b = nd.random.uniform(shape=5).asnumpy()
    nd.random.seed(42)
    np.testing.assert_array_equal(nd.random.normal(shape=(3, 4)).asnumpy(), a)
    np.testing.assert_array_equal(nd.random.uniform(shape=5).asnumpy(), b)
    nd.random.seed(43)
    assert not np.array_equal(nd.random.normal(shape=(3, 4)).asnumpy(), a)


def test_ctx_keyword():
    for make in (lambda c: nd.zeros(2, ctx=c), lambda c: nd.ones(2, ctx=c), lambda c: nd.array([1], ctx=c),
                 lambda c: nd.arange(3, ctx=c), lambda c: nd.full(2, 1, ctx=c),
                 lambda c: nd.random.normal(shape=2, ctx=c), lambda c: nd.random.uniform(shape=2, ctx=c)):
        assert make(ad.cpu()).context == ad.cpu()
        assert make(ad.cpu(0)).shape in ((2,), (1,), (3,))
        with pytest.raises(ValueError, match="gpu") as info:
            make(ad.gpu())
        assert isinstance(info.value, ad.ADError)
        with pytest.raises(ValueError):
            make(ad.gpu(1))
    assert nd.zeros(2, ctx="cpu(0)").shape == (2,)
    assert nd.zeros(2, ctx="cpu").shape == (2,)
    with pytest.raises(ValueError, match=r"gpu\(1\)"):
        nd.zeros(2, ctx="gpu(1)")
    assert nd.ones(2).as_in_context(ad.cpu()).shape == (2,)
    with pytest.raises(ValueError):
        nd.ones(2).as_in_context(ad.gpu())


# ------------------------------------------------------------------ nd functions

def test_dot():
    a = m23()
    b = nd.arange(6).reshape(3, 2)
    np_equal(nd.dot(a, b), [[10, 13], [28, 40]])
    np_equal(nd.dot(a, a, transpose_b=True), [[5, 14], [14, 50]])
    np_equal(nd.dot(a, a, transpose_a=True), [[9, 12, 15], [12, 17, 22], [15, 22, 29]])
    np_equal(nd.dot(b, a, transpose_a=True, transpose_b=True), [[10, 28], [13, 40]])
    np_equal(nd.dot(nd.arange(3), nd.arange(3)), [5])
    np_equal(nd.dot(nd.arange(3), b), [10, 13])
    np_equal(nd.dot(b, nd.arange(2)), [1, 3, 5])
    np_equal(nd.dot(nd.arange(4).reshape((4, 1)).T, nd.arange(4).reshape((4, 1))), [[14]])


def test_dot_shape_errors_name_shapes():
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(3, 1\)|\(3, 2\).*\(3,\)") as info:
        nd.dot(nd.ones((3, 2)), nd.ones(3))
    assert isinstance(info.value, ad.ADError)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 3\)"):
        nd.dot(m23(), m23())


@pytest.mark.parametrize("name, ref", [
    ("exp", np.exp), ("log", np.log), ("sqrt", np.sqrt), ("abs", np.abs), ("square", np.square),
    ("relu", lambda a: np.maximum(a, 0)), ("sigmoid", lambda a: 1 / (1 + np.exp(-a))), ("tanh", np.tanh),
    ("negative", np.negative),
])
def test_unary_functions(name, ref):
    data = np.array([[0.5, 1.0, 2.0], [3.0, 0.25, 4.5]], dtype=np.float32)
    signed = data * np.array([1, -1, 1], dtype=np.float32)
    src = data if name in ("log", "sqrt") else signed
    got = getattr(nd, name)(nd.array(src))
    assert got.shape == (2, 3) and got.dtype is np.float32
    np.testing.assert_allclose(got.asnumpy(), ref(src.astype(np.float64)), rtol=1e-6, atol=1e-7)
    got64 = getattr(nd, name)(nd.array(src, dtype="float64"))
    assert got64.dtype is np.float64
    np.testing.assert_allclose(got64.asnumpy(), ref(src.astype(np.float64)), rtol=1e-12)


def test_unary_edge_values():
    np_equal(nd.sqrt(nd.array([-1])), [float("nan")])
    np_equal(nd.log(nd.array([0, -1])), [-float("inf"), float("nan")])
    np_equal(nd.relu(nd.array([-1, 0, 2])), [0, 0, 2])
    np_equal(nd.sigmoid(nd.array([0])), [0.5])
    np_equal(nd.abs(nd.array([-1.5, 0, 2])), [1.5, 0, 2])
    np_equal(abs(nd.array([-1.5, 0, 2])), [1.5, 0, 2])
    np_equal(+nd.array([-1]), [-1])


def test_unary_out_keyword():
    out = nd.zeros(3)
    r = nd.square(nd.arange(3), out=out)
    assert r is out
    np_equal(out, [0, 1, 4])


def test_maximum_minimum():
    x = nd.arange(4)
    np_equal(nd.maximum(x, 2), [2, 2, 2, 3])
    np_equal(nd.maximum(2, x), [2, 2, 2, 3])
    np_equal(nd.minimum(x, 2), [0, 1, 2, 2])
    np_equal(nd.minimum(2, x), [0, 1, 2, 2])
    np_equal(nd.maximum(x, x[::-1]), [3, 2, 2, 3])
    np_equal(nd.minimum(nd.arange(3), nd.array([[1], [2]])), [[0, 1, 1], [0, 1, 2]])
    np_equal(nd.maximum(nd.array([float("nan"), 1]), 0), [float("nan"), 1])
    assert nd.maximum(3, 2) == 3 and nd.minimum(3, 2) == 2       # two numbers: a number, as MXNet


def test_arithmetic_functions():
    x = nd.arange(3)
    np_equal(nd.add(x, 1), [1, 2, 3])
    np_equal(nd.subtract(1, x), [1, 0, -1])
    np_equal(nd.multiply(x, x), [0, 1, 4])
    np_equal(nd.divide(x, 2), [0, 0.5, 1])
    np_equal(nd.power(2, x), [1, 2, 4])
    assert nd.add(2, 3) == 5
    with pytest.raises(TypeError):
        nd.add("a", x)


def test_sum_mean_norm_functions():
    x = m23()
    np_equal(nd.sum(x), [15])
    np_equal(nd.sum(x, axis=1), [3, 12])
    np_equal(nd.mean(x, axis=0, keepdims=True), [[1.5, 2.5, 3.5]])
    np_equal(nd.max(x, axis=1), [2, 5])
    np_equal(nd.min(x), [0])
    np.testing.assert_allclose(nd.norm(x).asnumpy(), [math.sqrt(55)], rtol=1e-6)
    np_equal(nd.norm(x, axis=1, keepdims=True), [[math.sqrt(5)], [math.sqrt(50)]])


def test_nd_functions_reject_non_arrays():
    for f in (nd.exp, nd.log, nd.relu, nd.sigmoid):
        with pytest.raises(TypeError):
            f([1, 2])
    with pytest.raises(TypeError):
        nd.dot([1], nd.ones(1))
