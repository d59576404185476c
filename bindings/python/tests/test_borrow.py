"""NDArray.borrow: a loan of an array's memory as a Python buffer, without a copy. numpy and
memoryview read it in place, and write it when the loan is writable; the memory outlives the
array while the loan lasts; a loan on a gradient sees each backward's result; a writable loan
is an in-place change for autograd; the loan cannot end while a buffer taken from it is in
use."""
import ctypes
import gc
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ad import _ext, autograd, nd
from ad.errors import ADRuntimeError
from support import rss


def address(x):
    """The address of an NDArray's first element, read through DLPack (not through a loan)."""
    return np.from_dlpack(x).__array_interface__["data"][0]


def test_the_loan_is_the_arrays_memory():
    x = nd.array([[1, 2, 3], [4, 5, 6]])
    loan = x.borrow(writable=True)
    a = np.asarray(loan)
    assert a.ctypes.data == address(x)
    assert a.shape == (2, 3) and a.dtype == np.float32 and a.flags.c_contiguous and a.flags.writeable
    a[1, 2] = 60
    a[0] *= 10
    np.testing.assert_array_equal(x.asnumpy(), [[10, 20, 30], [4, 5, 60]])
    # and the other way: in-place calls on the array are seen through the loan
    x += 1
    np.testing.assert_array_equal(a, [[11, 21, 31], [5, 6, 61]])
    x[0, 0] = -1
    assert a[0, 0] == -1


def test_the_buffer_describes_the_elements():
    x = nd.arange(24, dtype="float64").reshape(2, 3, 4)
    loan = x.borrow()
    assert loan.shape == (2, 3, 4) and loan.dtype == np.float64 and not loan.writable and not loan.released
    assert "float64 (2, 3, 4), read-only" in repr(loan)
    m = memoryview(loan)
    assert m.format == "d" and m.itemsize == 8 and m.ndim == 3
    assert m.shape == (2, 3, 4) and m.strides == (96, 32, 8) and m.nbytes == 24 * 8
    assert m.c_contiguous and not m.f_contiguous
    assert m.tolist() == x.asnumpy().tolist()
    m.release()
    np.testing.assert_array_equal(np.frombuffer(loan, dtype=loan.dtype), np.arange(24))
    f = memoryview(nd.array([1.5, 2.5]).borrow())
    assert f.format == "f" and f.itemsize == 4 and f.tolist() == [1.5, 2.5] and f.f_contiguous


def test_a_read_only_loan_refuses_writes_but_sees_changes():
    x = nd.array([1.0, 2.0, 3.0])
    loan = x.borrow()
    a = np.asarray(loan)
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[0] = 5
    m = memoryview(loan)
    assert m.readonly
    with pytest.raises(TypeError):
        m[0] = 5.0
    x += 1
    np.testing.assert_array_equal(a, [2, 3, 4])
    assert m.tolist() == [2, 3, 4]


class Py_buffer(ctypes.Structure):
    _fields_ = [("buf", ctypes.c_void_p), ("obj", ctypes.py_object), ("len", ctypes.c_ssize_t),
                ("itemsize", ctypes.c_ssize_t), ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
                ("format", ctypes.c_char_p), ("shape", ctypes.POINTER(ctypes.c_ssize_t)),
                ("strides", ctypes.POINTER(ctypes.c_ssize_t)), ("suboffsets", ctypes.c_void_p),
                ("internal", ctypes.c_void_p)]


# The request flags of Python's buffer protocol (Include/pybuffer.h).
PyBUF_SIMPLE, PyBUF_WRITABLE, PyBUF_FORMAT, PyBUF_ND, PyBUF_STRIDES = 0, 0x1, 0x4, 0x8, 0x18
PyBUF_F_CONTIGUOUS = 0x40 | PyBUF_STRIDES


def get_buffer(obj, flags):
    """PyObject_GetBuffer(obj, flags) and PyBuffer_Release, as a C consumer calls them: the
    filled fields that are set, or the exception."""
    view = Py_buffer()
    get = ctypes.pythonapi.PyObject_GetBuffer
    get.argtypes = [ctypes.py_object, ctypes.POINTER(Py_buffer), ctypes.c_int]
    get(obj, ctypes.byref(view), flags)
    try:
        return {"len": view.len, "readonly": view.readonly, "ndim": view.ndim, "format": view.format,
                "shape": view.shape and tuple(view.shape[i] for i in range(view.ndim)),
                "strides": view.strides and tuple(view.strides[i] for i in range(view.ndim)), "buf": view.buf}
    finally:
        ctypes.pythonapi.PyBuffer_Release.argtypes = [ctypes.POINTER(Py_buffer)]
        ctypes.pythonapi.PyBuffer_Release(ctypes.byref(view))


def test_every_form_of_request_is_answered_as_the_protocol_says():
    x = nd.zeros((2, 3))
    loan = x.borrow()
    simple = get_buffer(loan, PyBUF_SIMPLE)
    assert simple["len"] == 24 and simple["format"] is None and not simple["shape"] and simple["readonly"]
    assert simple["buf"] == address(x)
    nd_only = get_buffer(loan, PyBUF_ND | PyBUF_FORMAT)
    assert nd_only["shape"] == (2, 3) and not nd_only["strides"] and nd_only["format"] == b"f"
    with pytest.raises(BufferError, match="read-only"):
        get_buffer(loan, PyBUF_WRITABLE)
    with pytest.raises(BufferError, match="Fortran"):
        get_buffer(loan, PyBUF_F_CONTIGUOUS)
    # one axis longer than 1, or none at all: row-major is column-major too
    for shape in ((3,), (1, 3), (3, 1), (0, 3), ()):
        got = get_buffer(nd.zeros(shape).borrow(), PyBUF_F_CONTIGUOUS)
        assert got["shape"] == shape or shape == () and got["ndim"] == 0
    assert get_buffer(nd.zeros((2, 3)).borrow(writable=True), PyBUF_WRITABLE)["readonly"] == 0
    # failed requests took no buffer: the loan still ends
    loan.release()


def test_the_loan_outlives_the_array():
    x = nd.array([[1.5, 2.5], [3.5, 4.5]], dtype="float64")
    loan = x.borrow()
    del x
    gc.collect()
    # other arrays made meanwhile do not take the lent memory
    junk = [nd.ones((2, 2), dtype="float64") * 7 for _ in range(50)]
    np.testing.assert_array_equal(np.asarray(loan), [[1.5, 2.5], [3.5, 4.5]])
    assert memoryview(loan).tolist() == [[1.5, 2.5], [3.5, 4.5]]
    del junk
    loan.release()


def test_a_loan_on_the_gradient_sees_each_backward():
    w = nd.array([1.0, 2.0, 3.0])
    w.attach_grad()
    loan = w.grad.borrow()   # the handle `grad` gave is freed at once; the loan stays
    g = np.asarray(loan)
    np.testing.assert_array_equal(g, [0, 0, 0])
    with autograd.record():
        y = (w * w).sum()
    y.backward()
    np.testing.assert_array_equal(g, [2, 4, 6])
    with autograd.record():
        y = (w * w * w).sum()
    y.backward()
    np.testing.assert_array_equal(g, [3, 12, 27])
    # and a writable loan on it is what an in-place allreduce writes into
    with w.grad.borrow(writable=True) as sink:
        with memoryview(sink) as m:
            m.cast("B").cast("f")[0] = -1
    np.testing.assert_array_equal(w.grad.asnumpy(), [-1, 12, 27])
    del g
    loan.release()


def test_writing_through_a_writable_loan_is_an_in_place_change_for_autograd():
    p = nd.array([1.0, 2.0])
    p.attach_grad()
    with autograd.record():
        z = (p * p).sum()    # saves p for backward
    with p.borrow(writable=True) as loan:
        with memoryview(loan) as m:
            m[0] = 5.0
    with pytest.raises(ADRuntimeError, match="modified in place"):
        z.backward()
    # a read-only loan changes nothing
    q = nd.array([1.0, 2.0])
    q.attach_grad()
    with autograd.record():
        z = (q * q).sum()
    with q.borrow() as loan:
        assert memoryview(loan).tolist() == [1.0, 2.0]
    z.backward()
    np.testing.assert_array_equal(q.grad.asnumpy(), [2, 4])


def test_release_waits_for_the_buffers_taken_from_it():
    x = nd.array([1.0, 2.0])
    loan = x.borrow(writable=True)
    m = memoryview(loan)
    a = np.asarray(loan)
    with pytest.raises(BufferError, match="2 buffers"):
        loan.release()
    m.release()
    with pytest.raises(BufferError, match="1 buffer"):
        loan.release()
    assert not loan.released
    a[0] = 7                 # still the array's memory
    del a
    gc.collect()
    loan.release()
    assert loan.released
    loan.release()           # a second release does nothing
    assert x.asnumpy()[0] == 7
    with pytest.raises(ValueError, match="released"):
        memoryview(loan)
    with pytest.raises(ValueError, match="released"):
        np.frombuffer(loan, dtype=np.float32)
    # what it described is still there
    assert loan.shape == (2,) and loan.dtype == np.float32 and loan.writable
    assert "released" in repr(loan)


def test_the_loan_is_a_context_manager():
    x = nd.array([1.0, 2.0])
    with x.borrow(writable=True) as loan:
        assert isinstance(loan, _ext.Loan) and not loan.released
        np.asarray(loan)[:] = [3, 4]
    assert loan.released
    np.testing.assert_array_equal(x.asnumpy(), [3, 4])
    with pytest.raises(ValueError, match="released"):
        with loan:
            pass
    # a buffer still in use when the block ends: the exit raises, and the loan goes on
    with pytest.raises(BufferError):
        with x.borrow() as loan:
            m = memoryview(loan)
    assert not loan.released and m.tolist() == [3, 4]
    m.release()
    loan.release()


def test_empty_and_0d_arrays():
    e = nd.zeros((0, 3))
    loan = e.borrow(writable=True)
    a = np.asarray(loan)
    assert a.shape == (0, 3) and a.strides == (12, 4) and a.size == 0
    m = memoryview(loan)
    assert m.shape == (0, 3) and m.nbytes == 0 and m.tolist() == []
    m.release()
    del a
    loan.release()
    assert np.asarray(nd.zeros((2, 0, 3), dtype="float64").borrow()).shape == (2, 0, 3)

    s = nd.array(3.5)
    assert s.shape == ()
    with s.borrow(writable=True) as loan:
        assert loan.shape == ()
        with memoryview(loan) as m:
            assert m.ndim == 0 and m.shape == () and m.tolist() == 3.5
            m[()] = 4.5
    assert s.asscalar() == 4.5


def test_views_lend_the_memory_they_share_and_copies_their_own():
    x = nd.arange(12).reshape(3, 4)
    rows = x[1:3]                 # contiguous: a view of x
    loan = rows.borrow(writable=True)
    a = np.asarray(loan)
    assert a.shape == (2, 4) and a.ctypes.data == address(x) + 4 * 4
    a[0, 0] = -5
    assert x.asnumpy()[1, 0] == -5
    del a
    loan.release()
    # a reshape is a view too
    flat = x.reshape(-1).borrow()
    assert np.asarray(flat).ctypes.data == address(x)
    flat.release()
    # a column is not contiguous in x: indexing already copied it, and the loan lends the copy
    column = x[:, 1]
    with column.borrow(writable=True) as loan:
        with memoryview(loan) as m:
            assert m.shape == (3,) and m.tolist() == [1, 5, 9]
            m[0] = 100
    np.testing.assert_array_equal(column.asnumpy(), [100, 5, 9])
    np.testing.assert_array_equal(x.asnumpy()[:, 1], [1, 5, 9])


def test_borrow_takes_an_ndarray_only():
    with pytest.raises(TypeError):
        _ext.borrow(np.zeros(3, np.float32), False)
    with pytest.raises(TypeError):
        _ext.Loan()


def test_dropped_loans_are_released():
    # each loan holds its array's memory: loans that were never released would keep them all
    def step():
        for _ in range(100):
            loan = nd.zeros((1000,)).borrow(writable=True)
            memoryview(loan).release()
            del loan

    for _ in range(20):
        step()
    before = rss()
    for _ in range(200):        # 20,000 loans of 4 kB
        step()
    assert rss() - before < 20 * 2 ** 20


MPI_SCRIPT = """
import numpy as np
from mpi4py import MPI
from ad import autograd, nd

comm = MPI.COMM_SELF
x = nd.zeros((2,))
loan = x.borrow(writable=True)
request = comm.Irecv(loan, source=0, tag=7)
try:
    loan.release()
    raise AssertionError("the loan ended under a pending receive")
except BufferError:
    pass
comm.Send(np.array([3, 4], np.float32), dest=0, tag=7)
request.Wait()
loan.release()
assert x.asnumpy().tolist() == [3, 4]

w = nd.array([1.0, 2.0])
w.attach_grad()
grad = w.grad.borrow(writable=True)
for k in (1, 2):
    with autograd.record():
        y = (w * k).sum()
    y.backward()
    comm.Iallreduce(MPI.IN_PLACE, grad, op=MPI.SUM).Wait()
    assert np.frombuffer(grad, grad.dtype).tolist() == [k, k], np.frombuffer(grad, grad.dtype)
try:
    comm.Allreduce(MPI.IN_PLACE, w.borrow(), op=MPI.SUM)
    raise AssertionError("MPI wrote a read-only loan")
except BufferError:
    pass
print("ok")
"""


def test_mpi4py_reduces_in_place_through_a_loan():
    # in a process of its own: MPI is initialised once per process and finalised at its exit;
    # the README's test command installs mpi4py
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(MPI_SCRIPT)], capture_output=True, text=True,
                         timeout=120, env=env)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr
