"""ad.gluon.data: ArrayDataset and DataLoader as Dive into Deep Learning's from-scratch
chapters use them (``for X, y in DataLoader(ArrayDataset(X, y), batch_size, shuffle=True)``):
batch shapes and types, the last_batch modes, seeded shuffling, and the arguments refused.
The comparisons with MXNet 1.9.1 are in test_data_mxnet.py."""
import numpy as np
import pytest

import ad
from ad import gluon, nd
from ad.gluon import data as gdata


def features(n=10, d=3, dtype=np.float32):
    return np.arange(n * d, dtype=dtype).reshape(n, d)


def labels_of(loader):
    return [b[1].asnumpy().tolist() for b in loader]


def test_the_book_loop_gives_ndarray_batches_of_the_right_shapes():
    X, y = nd.array(features(10, 3)), nd.arange(10)
    loader = gluon.data.DataLoader(gluon.data.ArrayDataset(X, y), 4, shuffle=True)
    assert len(loader) == 3
    shapes = []
    seen = []
    for Xb, yb in loader:
        assert isinstance(Xb, ad.nd.NDArray) and isinstance(yb, ad.nd.NDArray)
        assert Xb.dtype == np.float32 and yb.dtype == np.float32
        shapes.append((Xb.shape, yb.shape))
        # each row stays with its label
        np.testing.assert_array_equal(Xb.asnumpy(), features(10, 3)[yb.asnumpy().astype(int)])
        seen += yb.asnumpy().tolist()
    assert shapes == [((4, 3), (4,)), ((4, 3), (4,)), ((2, 3), (2,))]
    assert sorted(seen) == list(range(10))


def test_numpy_inputs_become_ndarrays_of_their_dtype():
    Xb, yb = next(iter(gdata.DataLoader(gdata.ArrayDataset(features(6, 2, np.float64), np.arange(6)), 4)))
    assert isinstance(Xb, ad.nd.NDArray) and Xb.dtype == np.float64 and Xb.shape == (4, 2)
    assert isinstance(yb, ad.nd.NDArray) and yb.dtype == np.int64
    np.testing.assert_array_equal(yb.asnumpy(), [0, 1, 2, 3])
    for dtype in ("int32", "uint8", "float16", "bool", "float32"):
        _, yb = next(iter(gdata.DataLoader(gdata.ArrayDataset(features(6, 2), np.arange(6).astype(dtype)), 4)))
        assert yb.dtype == np.dtype(dtype)
    with pytest.raises(TypeError, match="int16"):
        next(iter(gdata.DataLoader(gdata.ArrayDataset(features(6, 2), np.arange(6).astype(np.int16)), 4)))
    # a single array: batches are arrays, not lists
    batches = list(gdata.DataLoader(gdata.ArrayDataset(features(5, 2)), 2))
    assert [b.shape for b in batches] == [(2, 2), (2, 2), (1, 2)]
    # lists, and datasets that are not ArrayDatasets, go sample by sample
    batches = list(gdata.DataLoader(gdata.ArrayDataset([0, 1, 2], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), 2))
    np.testing.assert_array_equal(batches[0][1].asnumpy(), [[1, 2], [3, 4]])
    batches = list(gdata.DataLoader(gdata.SimpleDataset(nd.array(features(3, 2))), 2))
    np.testing.assert_array_equal(batches[1].asnumpy(), features(3, 2)[2:])


@pytest.mark.parametrize("last_batch, expected", [
    ("keep", [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]),
    (None, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]),
    ("discard", [[0, 1, 2, 3], [4, 5, 6, 7]]),
])
def test_last_batch_keep_and_discard(last_batch, expected):
    loader = gdata.DataLoader(gdata.ArrayDataset(features(), np.arange(10)), 4, last_batch=last_batch)
    assert labels_of(loader) == expected
    assert labels_of(loader) == expected          # every pass the same
    assert len(loader) == len(expected)


def test_last_batch_rollover_carries_the_rest_into_the_next_pass():
    loader = gdata.DataLoader(gdata.ArrayDataset(features(), np.arange(10)), 4, last_batch="rollover")
    assert len(loader) == 2
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(loader) == 3                        # 2 left over + 10
    assert labels_of(loader) == [[8, 9, 0, 1], [2, 3, 4, 5], [6, 7, 8, 9]]
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_shuffle_is_reproducible_after_seeding_and_new_each_pass():
    ds = gdata.ArrayDataset(nd.array(features(50, 2)), np.arange(50))
    loader = gdata.DataLoader(ds, 8, shuffle=True)
    nd.random.seed(42)
    first, second = labels_of(loader), labels_of(loader)
    ad.random.seed(42)
    assert labels_of(loader) == first and labels_of(loader) == second
    assert first != second
    flat = sum(first, [])
    assert sorted(flat) == list(range(50)) and flat != list(range(50))
    nd.random.seed(43)
    assert labels_of(loader) != first
    # a fresh loader after the same seed: the same order
    nd.random.seed(42)
    assert labels_of(gdata.DataLoader(ds, 8, shuffle=True)) == first


def test_samplers_and_batchify_fn_are_honoured():
    ds = gdata.ArrayDataset(features(6, 1), np.arange(6))
    loader = gdata.DataLoader(ds, 2, sampler=[5, 4, 3, 2, 1, 0])
    assert labels_of(loader) == [[5, 4], [3, 2], [1, 0]]
    loader = gdata.DataLoader(ds, batch_sampler=[[0, 2], [4], [1, 3, 5]])
    assert labels_of(loader) == [[0, 2], [4], [1, 3, 5]]
    loader = gdata.DataLoader(ds, 4, batchify_fn=lambda samples: [int(s[1]) for s in samples])
    assert list(loader) == [[0, 1, 2, 3], [4, 5]]
    sampler = gdata.BatchSampler(gdata.SequentialSampler(5, start=2), 2, "keep")
    assert list(sampler) == [[2, 3], [4, 5], [6]] and len(sampler) == 3


def test_worker_arguments_load_in_process_with_the_same_batches():
    ds = gdata.ArrayDataset(features(), np.arange(10))
    plain = labels_of(gdata.DataLoader(ds, 3))
    loader = gdata.DataLoader(ds, 3, num_workers=4, pin_memory=True, pin_device_id=1, prefetch=8,
                              thread_pool=True, timeout=5, auto_reload=True)
    assert labels_of(loader) == plain


def test_mismatched_lengths_are_refused_naming_them():
    with pytest.raises(ValueError, match=r"same length; array 0 has length 10, but array 1 has length 9"):
        gdata.ArrayDataset(features(), np.arange(9))
    with pytest.raises(ValueError, match="at least one"):
        gdata.ArrayDataset()


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(), "batch_size must be specified"),
    (dict(batch_size=2, shuffle=True, sampler=[0, 1]), "shuffle must not be specified"),
    (dict(batch_size=2, batch_sampler=[[0]]), "must not be specified if batch_sampler"),
    (dict(batch_sampler=[[0]], last_batch="keep"), "must not be specified if batch_sampler"),
    (dict(batch_size=2, last_batch="drop"), "last_batch must be one of"),
    (dict(batch_size=0), "batch_size must be a positive integer"),
    (dict(batch_size=2, timeout=0), "timeout must be positive"),
])
def test_bad_arguments_are_value_errors(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        gdata.DataLoader(gdata.ArrayDataset(features()), **kwargs)


def test_unknown_keywords_are_type_errors_naming_them():
    with pytest.raises(TypeError, match="no_such_argument"):
        gdata.DataLoader(gdata.ArrayDataset(features()), 2, no_such_argument=1)


def test_transform_first_maps_the_data_and_keeps_the_label():
    ds = gdata.ArrayDataset(features(4, 2), np.arange(4)).transform_first(lambda x: x * 2)
    Xb, yb = next(iter(gdata.DataLoader(ds, 4)))
    np.testing.assert_array_equal(Xb.asnumpy(), features(4, 2) * 2)
    np.testing.assert_array_equal(yb.asnumpy(), np.arange(4))
    eager = gdata.SimpleDataset([1.0, 2.0]).transform(lambda x: x + 1, lazy=False)
    assert [eager[0], eager[1]] == [2.0, 3.0]


@pytest.mark.parametrize("fields", [
    lambda: (nd.array(features(7, 3)), nd.arange(7)),
    lambda: (features(7, 3, np.float64), np.arange(7)),
    lambda: (nd.array(features(7, 3)).reshape((7, 3, 1)),),
    lambda: ([[float(i), 2.0 * i] for i in range(7)], list(range(7))),
])
def test_an_array_datasets_batches_gathered_at_once_equal_those_stacked_sample_by_sample(fields):
    # An ArrayDataset with the default batchify_fn gathers each field with one take; any other
    # batchify_fn goes sample by sample, as MXNet does.
    ds = gdata.ArrayDataset(*fields())
    fast = list(gdata.DataLoader(ds, 3, sampler=[6, 0, 3, 3, 1, 5, 2]))
    slow = list(gdata.DataLoader(ds, 3, sampler=[6, 0, 3, 3, 1, 5, 2],
                                 batchify_fn=lambda samples: gdata.default_batchify_fn(samples)))
    assert len(fast) == len(slow) == 3
    for a, b in zip(fast, slow):
        a, b = (a, b) if isinstance(a, list) else ([a], [b])
        for x, y in zip(a, b):
            assert x.dtype == y.dtype and x.shape == y.shape
            np.testing.assert_array_equal(x.asnumpy(), y.asnumpy())
