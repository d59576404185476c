"""DLPack: NDArrays and NumPy arrays (and torch tensors, where torch is installed) share
memory both ways without a copy; what cannot be shared is copied, as `copy` asks; capsules
are taken once; loans end when the consumer lets go."""
import contextlib
import gc
import io
import os
import re
import weakref

import numpy as np
import pytest

from ad import autograd, nd
from ad.errors import ADRuntimeError


def address(x):
    """The address of an NDArray's first element, read through a NumPy view of it."""
    return np.from_dlpack(x).__array_interface__["data"][0]


def test_numpy_memory_is_shared_both_ways_and_kept_alive():
    b = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = nd.from_dlpack(b)
    assert x.shape == (2, 3) and x.dtype == np.float32
    assert address(x) == b.__array_interface__["data"][0]
    b[0, 0] = 100
    assert x.asnumpy()[0, 0] == 100
    x *= 2
    assert b[0, 0] == 200 and b[1, 2] == 10
    # the NDArray holds the NumPy array until it is gone
    alive = weakref.ref(b)
    del b
    gc.collect()
    assert alive() is not None
    assert x.sum().asscalar() == 200 + 2 * (1 + 2 + 3 + 4 + 5)
    del x
    gc.collect()
    assert alive() is None


def test_numpy_reads_an_ndarray_in_place_read_only():
    x = nd.array([[1, 2], [3, 4]], dtype="float64")
    a = np.from_dlpack(x)
    assert a.dtype == np.float64 and not a.flags.writeable
    x += 1
    np.testing.assert_array_equal(a, [[2, 3], [4, 5]])
    # the loan outlives the NDArray
    del x
    gc.collect()
    np.testing.assert_array_equal(a, [[2, 3], [4, 5]])


def test_the_protocol_arguments_are_honoured_or_refused():
    x = nd.array([1.0, 2.0])
    assert x.__dlpack_device__() == (1, 0)
    assert '"dltensor_versioned"' in repr(x.__dlpack__(max_version=(1, 0)))
    assert '"dltensor"' in repr(x.__dlpack__())
    assert '"dltensor"' in repr(x.__dlpack__(max_version=(0, 8)))
    with pytest.raises(BufferError, match="stream"):
        x.__dlpack__(stream=1)
    with pytest.raises(BufferError, match="not the CPU"):
        x.__dlpack__(dl_device=(2, 0))
    with pytest.raises(TypeError, match="copy"):
        x.__dlpack__(copy="yes")
    # copy=True lends a copy: later writes to x are not seen
    c = nd.from_dlpack(x.__dlpack__(max_version=(1, 0), copy=True))
    x += 10
    np.testing.assert_array_equal(c.asnumpy(), [1, 2])
    with pytest.raises(BufferError, match="not the CPU"):
        nd.from_dlpack(np.zeros(2), device=(2, 0))


def test_what_cannot_be_shared_is_copied_unless_copy_is_false():
    b = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = nd.from_dlpack(b.T)
    np.testing.assert_array_equal(t.asnumpy(), b.T)
    b[0, 0] = 7
    assert t.asnumpy()[0, 0] == 0
    with pytest.raises(BufferError, match="cannot be shared"):
        nd.from_dlpack(b.T, copy=False)
    # copy=True copies what could be shared
    c = nd.from_dlpack(b, copy=True)
    b[1, 1] = -1
    assert c.asnumpy()[1, 1] == 4
    # memory an array already uses is copied: one block is one array's
    shared = nd.from_dlpack(b)
    second = nd.from_dlpack(b)
    b[0, 1] = 42
    assert shared.asnumpy()[0, 1] == 42 and second.asnumpy()[0, 1] == 1
    with pytest.raises(BufferError):
        nd.from_dlpack(b, copy=False)


def test_integer_and_bool_elements_are_shared_and_others_refused():
    for dtype in (np.float16, np.int64, np.int32, np.uint8, np.int8, np.bool_):
        a = np.arange(3).astype(dtype)
        x = nd.from_dlpack(a)
        assert x.dtype == dtype and np.array_equal(x.asnumpy(), a)
        back = np.from_dlpack(x)
        assert back.dtype == dtype and np.array_equal(back, a)
    with pytest.raises(ValueError, match="int16 elements"):
        nd.from_dlpack(np.arange(3, dtype=np.int16))
    with pytest.raises(TypeError, match="DLPack capsule"):
        nd.from_dlpack([1.0, 2.0])


def test_mxnet_capsules_round_trip_and_are_taken_once():
    x = nd.array([1.0, 2.0, 3.0])
    back = nd.from_dlpack(x.to_dlpack_for_write())
    back += 1
    np.testing.assert_array_equal(x.asnumpy(), [2, 3, 4])
    assert address(back) == address(x)
    # for read: the legacy form cannot say read-only, so an import shares it as well
    capsule = nd.to_dlpack_for_read(x)
    y = nd.from_dlpack(capsule)
    np.testing.assert_array_equal(y.asnumpy(), [2, 3, 4])
    with pytest.raises(ValueError, match="already taken"):
        nd.from_dlpack(capsule)
    with pytest.raises(TypeError, match="NDArray"):
        nd.to_dlpack_for_read(np.zeros(2))
    # a capsule never taken gives its loan back when it dies
    for _ in range(3):
        nd.to_dlpack_for_write(x)
    gc.collect()
    x += 1
    np.testing.assert_array_equal(x.asnumpy(), [3, 4, 5])


def test_a_writable_export_is_an_in_place_write_for_autograd():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with autograd.record():
        y = (x * x).sum()
    capsule = x.to_dlpack_for_write()
    with pytest.raises(ADRuntimeError, match="lent to the host for writing"):
        y.backward()
    del capsule
    # read-only exports are not writes
    with autograd.record():
        y = (x * x).sum()
    view = np.from_dlpack(x)
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [2, 4])
    del view


def test_torch_tensors_are_shared_both_ways():
    torch = pytest.importorskip("torch")
    t = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    x = nd.from_dlpack(t)
    t[0, 0] = 50
    assert x.asnumpy()[0, 0] == 50
    x *= 2
    assert t[1, 2].item() == 10
    u = torch.from_dlpack(nd.array([1.0, 2.0]))
    assert u.tolist() == [1.0, 2.0]


def test_the_readmes_example_prints_what_it_says():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        section = f.read().split("## Your own functions, your own memory", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    printed = out.getvalue()
    assert printed == "[ 0.25 -1.  ] [ 3. 12.]\n"
    assert "# " + printed.strip() in code
