"""ad.gluon.data against MXNet 1.9.1's gluon.data: the same batches in order without
shuffling (every last_batch mode, over several passes, for NDArray and numpy inputs), and with
shuffling the properties that do not depend on the order (shapes, how many batches, each
sample once, rows kept with their labels). The orders differ: MXNet shuffles with numpy's
global generator, ad with its own (nd.random.seed)."""
import numpy as np
import pytest

from ad import gluon, nd
from support import import_mxnet

mx = import_mxnet("the data loading comparison tests")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:mxnet")

LIBS = {"ad": (gluon, nd), "mx": (mx.gluon, mx.nd)}


def dataset(lib, kind, n):
    g, nd_ = LIBS[lib]
    X = np.random.RandomState(900).randn(n, 2, 3).astype(np.float32)
    y = np.arange(n, dtype=np.float32)
    if kind == "ndarray":
        return g.data.ArrayDataset(nd_.array(X), nd_.array(y))
    if kind == "numpy":
        return g.data.ArrayDataset(X, y)
    return g.data.ArrayDataset(nd_.array(X))


def passes(lib, kind, n, batch_size, passes=3, **kwargs):
    """Per pass: len(loader) before it, then each batch's fields as numpy arrays."""
    g, _ = LIBS[lib]
    loader = g.data.DataLoader(dataset(lib, kind, n), batch_size, **kwargs)
    out = []
    for _ in range(passes):
        length = len(loader)
        batches = []
        for b in loader:
            fields = b if isinstance(b, (list, tuple)) else [b]
            batches.append([f.asnumpy() for f in fields])
        out.append((length, batches))
    return out


@pytest.mark.parametrize("kind", ["ndarray", "numpy", "single"])
@pytest.mark.parametrize("last_batch", [None, "keep", "discard", "rollover"])
@pytest.mark.parametrize("n, batch_size", [(10, 4), (12, 4), (3, 5), (7, 1)])
def test_unshuffled_batches_equal_mxnets(kind, last_batch, n, batch_size):
    ours = passes("ad", kind, n, batch_size, last_batch=last_batch)
    theirs = passes("mx", kind, n, batch_size, last_batch=last_batch)
    assert [p[0] for p in ours] == [p[0] for p in theirs], "len(loader) differs"
    for (_, a), (_, m) in zip(ours, theirs):
        assert len(a) == len(m)
        for fa, fm in zip(a, m):
            assert len(fa) == len(fm)
            for x, z in zip(fa, fm):
                assert x.shape == z.shape and x.dtype == z.dtype
                np.testing.assert_array_equal(x, z)


@pytest.mark.parametrize("last_batch", ["keep", "discard", "rollover"])
def test_shuffled_batches_have_mxnets_order_independent_properties(last_batch):
    nd.random.seed(7)
    np.random.seed(7)
    n, batch_size = 23, 5
    ours = passes("ad", "ndarray", n, batch_size, passes=4, shuffle=True, last_batch=last_batch)
    theirs = passes("mx", "ndarray", n, batch_size, passes=4, shuffle=True, last_batch=last_batch)
    X = np.random.RandomState(900).randn(n, 2, 3).astype(np.float32)
    for (la, a), (lm, m) in zip(ours, theirs):
        assert la == lm
        assert [[f.shape for f in b] for b in a] == [[f.shape for f in b] for b in m]
        for b in a:
            np.testing.assert_array_equal(b[0], X[b[1].astype(int)])
    # over all passes, as many samples as MXNet; with 'keep' each sample once a pass (which
    # samples 'discard' drops or 'rollover' carries over depends on the order)
    count = lambda run: np.bincount(np.concatenate([b[1] for _, p in run for b in p]).astype(int), minlength=n)
    assert count(ours).sum() == count(theirs).sum()
    if last_batch == "keep":
        np.testing.assert_array_equal(count(ours), count(theirs))
        np.testing.assert_array_equal(count(ours), np.full(n, 4))
    assert np.concatenate([b[1] for b in ours[0][1]]).tolist() != list(range(n if last_batch != "discard" else 20))


def test_mismatched_lengths_are_refused_by_both():
    with pytest.raises(ValueError, match="array 0 has length 4, but array 1 has length 3"):
        gluon.data.ArrayDataset(np.zeros(4), np.zeros(3))
    with pytest.raises(AssertionError, match="same length"):
        mx.gluon.data.ArrayDataset(np.zeros(4), np.zeros(3))


def test_the_signature_is_mxnets():
    import inspect
    ours = inspect.signature(gluon.data.DataLoader.__init__)
    theirs = inspect.signature(mx.gluon.data.DataLoader.__init__)
    assert [(p.name, p.default) for p in ours.parameters.values()] == \
        [(p.name, p.default) for p in theirs.parameters.values()]


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "int32", "uint8", "bool"])
def test_numpy_batches_keep_their_dtype_as_mxnets(dtype):
    got = []
    for lib in ("ad", "mx"):
        g, _ = LIBS[lib]
        labels = (np.arange(6) % 3).astype(dtype)
        batch = next(iter(g.data.DataLoader(g.data.ArrayDataset(np.ones((6, 2)), labels), 4)))
        got.append([(np.dtype(b.dtype).name, b.asnumpy().tolist()) for b in batch])
    assert got[0] == got[1]
