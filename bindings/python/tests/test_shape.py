"""The creation and shape functions and indexing, on their own: indexing against NumPy (values,
gradients, assignment) in both modes, what is a view and what a copy, the errors, and the
cases where ad differs from MXNet 1.9.1 on purpose (README, "Differences from MXNet"), each
against NumPy or the documented result. test_shape_mxnet.py compares the rest with MXNet."""
import random
import warnings

import numpy as np
import pytest

import ad
from ad import _indexing, autograd, nd
from test_abi import header_enums


def np_equal(a, expected, dtype=np.float32):
    got = a.asnumpy()
    expected = np.asarray(expected, dtype=dtype)
    assert got.dtype == expected.dtype and got.shape == expected.shape and np.array_equal(got, expected), \
        "got %r, expected %r" % (got, expected)


def grad_of(x, f, head=None):
    """The output of `f(x)` recorded and x's gradient after backward with `head`."""
    x = nd.array(x, dtype="float64")
    x.attach_grad()
    with autograd.record():
        y = f(x)
    y.backward(None if head is None else nd.array(head, dtype="float64"))
    return y.asnumpy(), x.grad.asnumpy()


# ------------------------------------------------------------------ indexing against NumPy
def random_key(r, shape):
    """Any key NumPy takes: integers, slices, None, `...`, lists, NumPy arrays and NDArrays of
    positions (negative too), boolean lists, in any combination."""
    key, i = [], 0
    while i < len(shape) and r.random() < 0.85:
        d, c = shape[i], r.random()
        if c < 0.12:
            key.append(None)
            continue
        if c < 0.3:
            key.append(r.randint(-d, d - 1))
        elif c < 0.55:
            key.append(slice(r.choice([None, r.randint(-d - 2, d + 2)]), r.choice([None, r.randint(-d - 2, d + 2)]),
                             r.choice([None, 1, 2, -1, -2])))
        elif c < 0.65:
            key.append([r.random() < 0.5 for _ in range(d)])
        else:
            positions = [r.randint(-d, d - 1) for _ in range(r.randint(0, 3))]
            key.append(r.choice([positions, np.array(positions, dtype=np.int64), ("nd", positions)]))
        i += 1
    if r.random() < 0.15:
        key.insert(r.randint(0, len(key)), Ellipsis)
    return tuple(key)


def as_numpy(key):
    return tuple(np.array(k[1], dtype=np.int64) if isinstance(k, tuple) else k for k in key)


def as_ad(key):
    return tuple(nd.array(k[1]) if isinstance(k, tuple) else k for k in key)


@pytest.mark.parametrize("reference", [False, True])
def test_indexing_matches_numpy_on_random_keys(reference):
    r = random.Random(21)
    checked = 0
    with ad.reference_mode(reference):
        while checked < 1500:
            shape = tuple(r.randint(1, 4) for _ in range(r.randint(0, 3)))
            x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) - 3.5
            key = random_key(r, shape)
            try:
                want = x[as_numpy(key)]
            except IndexError:
                with pytest.raises(IndexError):
                    nd.array(x, dtype="float64")[as_ad(key)]
                continue
            checked += 1
            want = want if want.ndim else want.reshape(1)    # MXNet's nd: an element has shape (1,)
            head = np.arange(want.size, dtype=np.float64).reshape(want.shape) + 1
            expected = np.zeros_like(x)
            np.add.at(expected, as_numpy(key), head.reshape(x[as_numpy(key)].shape))
            y, g = grad_of(x, lambda a: a[as_ad(key)], head)
            assert y.shape == want.shape and np.array_equal(y, want), (shape, key)
            assert np.array_equal(g, expected), (shape, key, g, expected)


@pytest.mark.parametrize("reference", [False, True])
def test_assignment_matches_numpy_on_random_keys(reference):
    r = random.Random(22)
    with ad.reference_mode(reference):
        for _ in range(1000):
            shape = tuple(r.randint(1, 4) for _ in range(r.randint(1, 3)))
            x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
            key = random_key(r, shape)
            try:
                target = x[as_numpy(key)].shape
            except IndexError:
                continue
            # a value of the selection's shape (or one broadcast to it: a number, a row)
            kind = r.random()
            if kind < 0.3:
                value = 100.0
            elif kind < 0.6 and target:
                value = np.arange(target[-1], dtype=np.float32) + 100
            else:
                value = np.arange(int(np.prod(target)), dtype=np.float32).reshape(target) + 100
            flat = np.arange(x.size).reshape(shape)[as_numpy(key)]
            if np.unique(flat).size != flat.size and np.ndim(value) > 0:
                continue    # which of two values for one element NumPy keeps is not specified
            want = x.copy()
            want[as_numpy(key)] = value
            a = nd.array(x)
            a[as_ad(key)] = value if np.ndim(value) == 0 else nd.array(value)
            np_equal(a, want)


def test_masks_zero_d_positions_and_empty_lists():
    x = nd.arange(6).reshape(3, 2)
    np_equal(x[[True, False, True]], [[0, 1], [4, 5]])          # a mask, as NumPy (MXNet reads 1, 0, 1)
    np_equal(x[np.array([[True, False], [False, True], [True, True]])], [0, 3, 4, 5])
    np_equal(x[nd.array(2)], [4, 5])                             # a 0-d NDArray is an integer
    assert x[[]].shape == (0, 2)                                 # MXNet refuses an empty list
    x[[True, False, True]] = 9
    np_equal(x, [[9, 9], [2, 3], [9, 9]])
    with pytest.raises(IndexError, match="boolean index"):
        x[[True, False]]


def test_a_new_axis_after_an_advanced_index_goes_where_numpy_puts_it():
    # MXNet 1.9.1 puts it first: (1, 2, 3) for x[[0, 1], None]; NumPy (2, 1, 3)
    x = nd.arange(12).reshape(4, 3)
    assert x[[0, 1], None].shape == (2, 1, 3)
    assert x[[0, 1], None, [0, 2]].shape == (2, 1)
    assert x[None, [0, 1]].shape == (1, 2, 3)
    # and the gradient lands where the values came from (MXNet's is misplaced)
    y, g = grad_of(np.arange(12.0).reshape(4, 3), lambda a: a[1:, None, [0, 2]], np.arange(1, 7).reshape(3, 1, 2))
    np.testing.assert_array_equal(g, [[0, 0, 0], [1, 0, 2], [3, 0, 4], [5, 0, 6]])


def test_gradients_through_negative_and_repeated_positions():
    # MXNet 1.9.1 writes these outside the array; ad adds them where they belong
    y, g = grad_of(np.arange(8.0).reshape(2, 2, 2), lambda a: a[-1, [0, -2, 1], -2], [1, 2, 4])
    np.testing.assert_array_equal(g.ravel(), [0, 0, 0, 0, 3, 0, 4, 0])
    y, g = grad_of(np.arange(4.0), lambda a: a[nd.array([0, -4, 3, -1])], [1, 2, 4, 8])
    np.testing.assert_array_equal(g, [3, 0, 0, 12])


def test_assignment_through_negative_and_out_of_range_positions():
    # MXNet 1.9.1 crashes on the first and skips the second silently
    x = nd.arange(6).reshape(3, 2)
    x[[0, -1]] = 7
    np_equal(x, [[7, 7], [2, 3], [7, 7]])
    before = x.asnumpy()
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 3"):
        x[[0, 5]] = 3
    np_equal(x, before)
    with pytest.raises(IndexError, match="out of bounds"):
        x[nd.array([1, 2]), [0, 2]] = 1


def test_indexing_errors():
    x = nd.arange(24).reshape(2, 3, 4)
    for key, error, pattern in (((0, 0, 0, 0), IndexError, r"too many indices \(4\)"),
                                ((Ellipsis, 0, Ellipsis), IndexError, "single ellipsis"),
                                ([0, 2], IndexError, "index 2 is out of bounds for axis 0 with size 2"),
                                ((slice(None), [-4]), IndexError, "index -4 is out of bounds for axis 1 with size 3"),
                                (([0, 1], [0, 1, 2]), IndexError, "could not be broadcast"),
                                (nd.array([np.nan]), IndexError, "not a position"),
                                (np.array([1e300]), IndexError, "not a position"),
                                (True, TypeError, "boolean"),
                                ("a", TypeError, "got 'a'"),
                                ([[0, 1], [0]], TypeError, "rectangular"),
                                (np.array(["a"]), TypeError, "dtype")):
        with pytest.raises(error, match=pattern):
            x[key]
    with pytest.raises(IndexError):
        x[[0, 2]] = 1
    with pytest.raises(ValueError, match="broadcast"):
        x[[0, 1]] = nd.ones(5)


def test_views_and_copies():
    x = nd.arange(6).reshape(2, 3)
    views = [x[None], x[:, None][0], x[1, None], x.reshape((0, -1)), x.squeeze(inplace=True),
             x.expand_dims(1, inplace=True)]
    copies = [x[[0, 1]], x[:, [0, 1]], nd.squeeze(x), nd.expand_dims(x, 0), nd.reshape(x, (3, 2)), nd.flip(x, 0),
              nd.tile(x, 1), nd.repeat(x, 1, 0), nd.swapaxes(x, 0, 0), nd.moveaxis(x, 0, 0),
              nd.broadcast_like(x, x), nd.reshape_like(x, x), nd.slice(x, (0,), (1,)), nd.split(x, 2, 0)[0],
              nd.take(x, nd.array([0, 1])), nd.concatenate([x])]
    x[:] = 100
    assert all(v.asnumpy().min() == 100 for v in views)
    assert all(c.asnumpy().max() < 100 for c in copies)


def test_setitem_with_new_axes_broadcasts_the_value_to_them():
    x = nd.zeros((3, 2))
    x[:, None] = nd.arange(2).reshape(1, 1, 2)
    np_equal(x, [[0, 1]] * 3)
    x[None, 1] = nd.array([[[5, 6]]])
    np_equal(x, [[0, 1], [5, 6], [0, 1]])
    x[None] = 2
    np_equal(x, [[2, 2]] * 3)


# ------------------------------------------------------------------ where ad differs from MXNet
def test_take_and_pick_report_positions_out_of_range_unless_asked_to_clip():
    x = nd.arange(6).reshape(3, 2)
    with pytest.raises(IndexError, match="out of range for an axis of length 3"):
        nd.take(x, nd.array([3]))
    with pytest.raises(IndexError, match="out of range"):
        x.take(nd.array([-1]))
    np_equal(nd.take(x, nd.array([3, -1]), mode="clip"), [[4, 5], [0, 1]])
    with pytest.raises(IndexError, match="out of range"):
        nd.pick(x, nd.array([0, 2, 1]))
    np_equal(nd.pick(x, nd.array([0, 2, 1]), mode="clip"), [0, 3, 5])
    np_equal(x.pick(nd.array([0, 2, 1]), mode="wrap"), [0, 2, 5])
    with pytest.raises(ValueError, match="mode must be"):
        nd.take(x, nd.array([0]), mode="nearest")
    for bad in (np.nan, np.inf):
        with pytest.raises(IndexError):
            nd.take(x, nd.array([bad]), mode="wrap")


def test_head_gradients_of_another_size_are_refused():
    # MXNet 1.9.1 reads what it finds: the first elements of a larger one, past a smaller one
    x = nd.arange(4).reshape(4, 1)
    x.attach_grad()
    with autograd.record():
        y = x * 2
    for bad in (nd.ones(5), nd.ones(3)):
        with pytest.raises(ValueError, match="elements"):
            y.backward(bad, retain_graph=True)
    y.backward(nd.ones(4))
    np_equal(x.grad, [[2]] * 4)


def test_concatenate_is_differentiable():
    # MXNet 1.9.1's writes its result in place, which a record scope refuses
    y, g = grad_of(np.arange(6.0).reshape(3, 2), lambda a: nd.concatenate([a, a * 2], axis=1), np.ones((3, 4)))
    np.testing.assert_array_equal(g, np.full((3, 2), 3.0))


def test_slice_clips_bounds_below_the_axis_as_python():
    # MXNet 1.9.1 fails ("could not construct a sub-memory") on a begin below -length
    x = nd.arange(8).reshape(2, 4)
    np_equal(nd.slice(x, begin=(-3,), end=(4,)), np.arange(8).reshape(2, 4))
    np_equal(nd.slice(x, begin=(None, -9), end=(None, 2)), [[0, 1], [4, 5]])
    # and an empty begin takes everything, with its gradient (MXNet's backward fails)
    y, g = grad_of(np.arange(6.0).reshape(2, 3), lambda a: nd.slice(a, begin=(), end=()))
    np.testing.assert_array_equal(g, np.ones((2, 3)))


def test_flip_takes_negative_axes():
    np_equal(nd.flip(nd.arange(6).reshape(3, 2), axis=-1), [[1, 0], [3, 2], [5, 4]])


def test_zero_size_results_follow_numpy():
    np_equal(nd.repeat(nd.arange(6).reshape(3, 2), 0, axis=0), np.zeros((0, 2)))    # MXNet: (0,)
    assert nd.eye(0).shape == (0, 0)
    assert nd.linspace(0, 1, 0).shape == (0,)
    assert nd.tile(nd.ones((2, 3)), (0, 2)).shape == (0, 6)
    assert nd.slice(nd.ones((2, 3)), (1,), (1,)).shape == (0, 3)
    assert nd.split(nd.zeros((2, 0)), 1).shape == (2, 0)
    with pytest.raises(ValueError, match="parts"):
        nd.split(nd.zeros((2, 0)), 3)


def test_the_reshape_function_refuses_a_size_mismatch():
    # MXNet 1.9.1's nd.reshape makes garbage, or corrupts its heap and aborts
    with pytest.raises(ValueError, match=r"cannot reshape an array of shape \(2, 3\)"):
        nd.reshape(nd.ones((2, 3)), (3, 3))
    with pytest.raises(ValueError, match="-1 cannot be inferred"):
        nd.zeros((2, 0)).reshape((-1, 0))


def test_zeros_like_honours_dtype():
    # MXNet 1.9.1 ignores it silently
    assert nd.zeros_like(nd.ones(2), dtype="float64").dtype == np.float64
    assert nd.ones(2).ones_like(dtype="float64").dtype == np.float64
    np_equal(nd.full_like(nd.ones(2), 7), [7, 7])
    np_equal(nd.ones((2, 1), dtype="float64").full_like(0.5), [[0.5], [0.5]], np.float64)


def test_broadcast_like_needs_both_lists_of_axes():
    # MXNet 1.9.1 ignores lhs_axes given alone
    with pytest.raises(ValueError, match="as many axes"):
        nd.broadcast_like(nd.ones((1, 3)), nd.ones((5, 6, 7)), lhs_axes=(0,))
    with pytest.raises(ValueError, match="twice"):
        nd.broadcast_like(nd.ones((1, 3)), nd.ones((5, 6, 7)), lhs_axes=(0, 0), rhs_axes=(2, 1))


# ------------------------------------------------------------------ the package's forms
def test_unsupported_arguments_are_refused_by_name():
    x = nd.ones((2, 3))
    for call, name in ((lambda: nd.reshape(x, (3, 2), target_shape=(3, 2)), "target_shape"),
                       (lambda: nd.reshape(x, (3, 2), keep_highest=True), "keep_highest"),
                       (lambda: x.reshape((3, 2), foo=1), "foo"),
                       (lambda: nd.squeeze(x, name="s"), "name"),
                       (lambda: nd.take(x, nd.zeros(1), name="t"), "name"),
                       (lambda: nd.eye(2, foo=1), "foo"),
                       (lambda: nd.linspace(0, 1, 3, infer_range=True), "infer_range"),
                       (lambda: nd.zeros_like(x, name="z"), "name"),
                       (lambda: nd.split(x, 2, name="s"), "name"),
                       (lambda: nd.tile(x, (2,), name="t"), "name")):
        with pytest.raises(TypeError, match=name):
            call()


def test_split_returns_a_list_or_one_array_and_writes_out():
    x = nd.arange(12).reshape(3, 4)
    parts = nd.split(x, 2)
    assert isinstance(parts, list) and [p.shape for p in parts] == [(3, 2), (3, 2)]
    assert isinstance(nd.split(x, 1), nd.NDArray)
    outs = [nd.zeros((3, 2)), nd.zeros((3, 2))]
    assert nd.split(x, 2, out=outs)[1] is outs[1]
    np_equal(outs[1], [[2, 3], [6, 7], [10, 11]])
    with pytest.raises(ValueError, match="out"):
        nd.split(x, 2, out=[nd.zeros((3, 2))])
    with pytest.raises(ValueError, match="parts"):
        nd.split(x, 5)


def test_methods_tolist_matmul_wait_to_read_copyto():
    x = nd.arange(6).reshape(2, 3)
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert nd.array(2.5).tolist() == 2.5
    np_equal(x @ x.T, [[5, 14], [14, 50]])
    np_equal(np.ones((1, 2), dtype=np.float32) @ x, [[3, 5, 7]])
    assert x.wait_to_read() is None
    with pytest.raises(ValueError, match="shape"):
        x.copyto(nd.zeros((3, 2)))
    z = nd.zeros((2, 3), dtype="float64")
    assert x.copyto(z) is z
    np_equal(z, x.asnumpy(), np.float64)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert x.copyto(x) is False
    assert w and issubclass(w[0].category, RuntimeWarning)
    assert x.as_in_context(ad.cpu()) is x and x.as_in_context(context=ad.cpu()) is x   # MXNet's name
    with pytest.raises(ValueError):
        x.as_in_context(ad.gpu())


def test_the_index_modes_agree_with_the_header():
    enums = header_enums()
    assert (_indexing.INDEX_RAISE, _indexing.INDEX_CLIP, _indexing.INDEX_WRAP) == \
        (enums["AD_INDEX_RAISE"], enums["AD_INDEX_CLIP"], enums["AD_INDEX_WRAP"])


def test_the_fast_path_of_indexing_agrees_with_the_general_one():
    # x[idx] and x[:, idx] take along the axis; in the reference mode they gather element by
    # element: the same values and gradients
    x = np.random.RandomState(3).uniform(-1, 1, size=(5, 4, 3))
    results = []
    for reference in (False, True):
        with ad.reference_mode(reference):
            results.append([grad_of(x, lambda a: a[[4, 0, -1, 0]] * 2), grad_of(x, lambda a: a[:, nd.array([1, 1, 3])]),
                            grad_of(x, lambda a: a[..., [2, -3]])])
    for (y0, g0), (y1, g1) in zip(*results):
        np.testing.assert_array_equal(y0, y1)
        np.testing.assert_array_equal(g0, g1)
