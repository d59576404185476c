"""Integer and bool arrays from Python: made with `dtype=`, read back by `asnumpy` and
`asscalar`, converted by `astype`, printed, moved by the shape and indexing functions, saved,
lent, and refused with a message by what computes (tests/test_dtypes_mxnet.py compares them
with MXNet 1.9.1)."""
import numpy as np
import pytest

import ad
from ad import autograd, nd

INTS = ["uint8", "int8", "int32", "int64", "bool"]


def values(dtype, shape=(2, 3)):
    """0, 1, 2, ... (0 and 1 alternating for bool) as a numpy array of `dtype`."""
    n = int(np.prod(shape))
    v = np.arange(n) % 2 if dtype == "bool" else np.arange(n)
    return v.reshape(shape).astype(dtype)


@pytest.mark.parametrize("dtype", INTS)
def test_made_read_and_converted(dtype):
    v = values(dtype)
    x = nd.array(v, dtype=dtype)
    assert x.dtype == np.dtype(dtype).type and x.shape == (2, 3)
    a = x.asnumpy()
    assert a.dtype == np.dtype(dtype) and np.array_equal(a, v)
    assert np.array_equal(np.asarray(x), v)
    assert type(x[1, 2].asscalar()) is np.dtype(dtype).type
    assert x.astype("float64").dtype == np.float64 and np.array_equal(x.astype("float64").asnumpy(), v)
    assert x.astype(dtype, copy=False) is x
    for make in (nd.zeros, nd.ones):
        z = make((2,), dtype=dtype)
        assert z.dtype == np.dtype(dtype).type and np.array_equal(z.asnumpy(), make((2,)).asnumpy().astype(dtype))
    assert nd.full((2,), 1, dtype=dtype).dtype == np.dtype(dtype).type
    assert nd.zeros_like(x).dtype == x.dtype and nd.ones_like(x, dtype="float32").dtype == np.float32


def test_int64_keeps_every_bit():
    big = np.array([2 ** 62 + 1, -2 ** 63, 2 ** 63 - 1], dtype=np.int64)
    x = nd.array(big, dtype="int64")
    assert np.array_equal(x.asnumpy(), big)
    assert x[0].asscalar() == 2 ** 62 + 1


def test_astype_as_numpy_on_x86():
    v = np.array([1.7, -1.7, np.nan, np.inf, 300, -1, 3e9], dtype=np.float64)
    x = nd.array(v, dtype="float64")
    assert x.astype("int32").asnumpy().tolist() == [1, -1, -2 ** 31, -2 ** 31, 300, -1, -2 ** 31]
    assert x.astype("uint8").asnumpy().tolist() == [1, 255, 0, 0, 44, 255, 0]
    assert x.astype("bool").asnumpy().tolist() == [True] * 7


def test_printed_as_numpy_prints_them():
    assert repr(nd.array([1, 2, 3], dtype="int32")) == "\n[1 2 3]\n<NDArray 3 @cpu(0)>"
    assert str(nd.array([[255, 0]], dtype="uint8")) == "\n[[255   0]]\n<NDArray 1x2 @cpu(0)>"
    assert str(nd.array([1, 0], dtype="bool")) == "\n[ True False]\n<NDArray 2 @cpu(0)>"
    assert str(nd.array(5, dtype="int64")) == "\n5\n<NDArray  @cpu(0)>"


@pytest.mark.parametrize("dtype", INTS)
def test_shape_and_indexing_functions_move_them(dtype):
    v = values(dtype, (2, 3, 2))
    x = nd.array(v, dtype=dtype)
    cases = [
        (lambda a: a.reshape((3, 4)), lambda a: a.reshape(3, 4)),
        (lambda a: a.T, lambda a: a.T),
        (lambda a: a.transpose((1, 0, 2)), lambda a: a.transpose(1, 0, 2)),
        (lambda a: a[1], lambda a: a[1]),
        (lambda a: a[:, ::-1], lambda a: a[:, ::-1]),
        (lambda a: a[[1, 0]], lambda a: a[[1, 0]]),
        (lambda a: a.expand_dims(0), lambda a: a[None]),
        (lambda a: a[:, :1].squeeze(axis=1), lambda a: a[:, :1].squeeze(axis=1)),
        (lambda a: nd.flip(a, axis=1), lambda a: np.flip(a, axis=1)),
        (lambda a: nd.tile(a, (2, 1, 1)), lambda a: np.tile(a, (2, 1, 1))),
        (lambda a: nd.repeat(a, 2, axis=0), lambda a: np.repeat(a, 2, axis=0)),
        (lambda a: nd.concat(a, a, dim=2), lambda a: np.concatenate([a, a], axis=2)),
        (lambda a: nd.stack(a, a, axis=0), lambda a: np.stack([a, a])),
        (lambda a: nd.split(a, 2, axis=0)[1], lambda a: a[1:]),
        (lambda a: nd.broadcast_to(a[:, :1], (2, 3, 2)), lambda a: np.broadcast_to(a[:, :1], (2, 3, 2))),
        (lambda a: nd.swapaxes(a, 0, 2), lambda a: np.swapaxes(a, 0, 2)),
        (lambda a: nd.take(a, nd.array([2, 0], dtype="int32"), axis=1), lambda a: np.take(a, [2, 0], axis=1)),
        (lambda a: a.flatten(), lambda a: a.reshape(2, -1)),
        (lambda a: a.copy(), lambda a: a),
    ]
    for ours, theirs in cases:
        got, want = ours(x), theirs(v)
        assert got.dtype == np.dtype(dtype).type
        assert np.array_equal(got.asnumpy(), want)


def test_writes_convert_to_the_arrays_dtype():
    x = nd.zeros((2, 3), dtype="int32")
    x[1] = nd.array([1.9, -1.9, 7])
    x[0, 1] = 5
    assert x.asnumpy().tolist() == [[0, 5, 0], [1, -1, 7]]
    x += 1
    assert x.asnumpy().tolist() == [[1, 6, 1], [2, 0, 8]]
    with pytest.raises(ValueError, match="int32"):
        x /= 2


def test_integer_indices_and_labels():
    x = nd.array([[1, 2, 3], [4, 5, 6]])
    i = nd.array([2, 0], dtype="int32")
    assert nd.pick(x, i).asnumpy().tolist() == [3, 4]
    assert nd.one_hot(i, 3, dtype="int32").asnumpy().tolist() == [[0, 0, 1], [1, 0, 0]]
    assert x[nd.array([1], dtype="int64")].asnumpy().tolist() == [[4, 5, 6]]
    assert nd.softmax_cross_entropy(x, i).shape == (1,)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32", "int64"])
def test_integer_arithmetic_is_in_the_type(dtype):
    v = values(dtype, (2, 3))
    x = nd.array(v, dtype=dtype)
    with np.errstate(over="ignore"):
        for ours, theirs in [(x + x, v + v), (x - 1, v - np.array(1, dtype)), (x * x, v * v), (3 - x, np.array(3, dtype) - v),
                             (x * 2.7, v * np.array(2, dtype)), (x == 2, (v == 2).astype(dtype)),
                             (x >= x[0:1], (v >= v[0:1]).astype(dtype)), (x.sum(), np.array([v.sum(dtype=dtype)])),
                             (x.sum(axis=0), v.sum(axis=0, dtype=dtype)), (nd.sum(x, axis=1, keepdims=True), v.sum(axis=1, keepdims=True, dtype=dtype))]:
            assert ours.dtype == np.dtype(dtype).type
            assert np.array_equal(ours.asnumpy(), theirs)


def test_counting_correct_predictions():
    pred = nd.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]).argmax(axis=1)     # float32, as MXNet's
    label = nd.array([1, 1, 1], dtype="int32")
    assert (pred == label.astype("float32")).sum().asscalar() == 2
    assert (pred.astype("int32") == label).sum().asscalar() == 2
    with pytest.raises(ValueError, match="dtypes"):
        pred == label                   # MXNet refuses the mix too


def test_what_computes_refuses_them_by_name():
    x = nd.array([1, 2], dtype="int32")
    for call in (lambda: x / x, lambda: x / 2, lambda: nd.exp(x), lambda: -x, lambda: x.max(),
                 lambda: nd.dot(x, x), lambda: nd.relu(x), lambda: x.mean(), lambda: x ** 2):
        with pytest.raises(ValueError, match=r"int32.*astype"):
            call()
    b = nd.array([1, 0], dtype="bool")
    for call in (lambda: b + b, lambda: b == b, lambda: b.sum()):
        with pytest.raises(ValueError, match=r"bool.*astype"):
            call()
    with pytest.raises(ValueError, match="not differentiable"):
        x.attach_grad()
    # what is asked in float works, as in MXNet
    assert (x.astype("float32") * 2).asnumpy().tolist() == [2, 4]


def test_not_in_the_graph():
    w = nd.array([1.5, 2.5])
    w.attach_grad()
    with autograd.record():
        y = w.astype("int32").astype("float32") * w
    y.backward()
    assert w.grad.asnumpy().tolist() == [1, 2]     # through the product only


def test_checkpoints_and_dlpack(tmp_path):
    path = str(tmp_path / "ints.npz")
    arrays = {d: nd.array(values(d), dtype=d) for d in INTS}
    nd.save(path, arrays)
    with np.load(path) as f:
        for d in INTS:
            assert f[d].dtype == np.dtype(d) and np.array_equal(f[d], values(d))
    for d, a in nd.load(path).items():
        assert a.dtype == np.dtype(d).type and np.array_equal(a.asnumpy(), values(d))
        assert np.array_equal(np.from_dlpack(a), values(d))
        with a.borrow() as loan:
            assert np.asarray(loan).dtype == np.dtype(d)


def test_random_randint_is_int32_by_default():
    nd.random.seed(3)
    r = nd.random.randint(0, 10, shape=(50,))
    assert r.dtype == np.int32 and set(r.asnumpy().tolist()) <= set(range(10))
    assert nd.random.randint(0, 10, shape=(2,), dtype="int64").dtype == np.int64
    with pytest.raises(ValueError, match="bool"):
        nd.random.uniform(shape=(2,), dtype="bool")


def test_unknown_dtypes_are_refused():
    for dtype in ("int16", "uint32", "complex64"):
        with pytest.raises(ad.ADError, match=dtype):
            nd.zeros(2, dtype=dtype)
