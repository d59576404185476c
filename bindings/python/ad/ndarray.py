"""NDArray: a handle on an array of the ad library, with MXNet's `nd.NDArray` behaviour.

The handle lives in the C base class `ad._ext.ArrayBase`, which frees it with the object and
implements the per-op path (arithmetic and comparisons with arrays and Python numbers, `shape`,
`dtype`, `grad`, `asscalar`, argument-less `sum`/`mean`/`norm`, `backward()`); every other
form of those calls runs the Python code registered at the end of this module. The methods of
the op table (ad/_ops.py) are made there too."""
import ctypes
import numbers
import operator
import warnings

import numpy as np

from . import _ext, _indexing, _lib, _ops
from ._helpers import CODE_TYPE, SCALAR_TYPES, dtype_code, grad_req_code, is_scalar
from ._lib import check, int64s, lib, sizes
from .context import Context, check_ctx, cpu
from .errors import ADValueError, raise_for_status


def _call_new(fn, *args):
    """Calls a C function whose last argument is an `ad_array **out`; wraps the result."""
    out = ctypes.c_void_p()
    check(fn(*args, ctypes.byref(out)))
    return NDArray(out)


class NDArray(_ext.ArrayBase):
    """An n-dimensional array on the CPU, with MXNet's `nd.NDArray` behaviour. Its elements
    are float32 or float64, computed on and differentiable, or uint8, int8, int32, int64 or
    bool: made, converted (`astype`), printed, saved and moved by the shape and indexing ops,
    and refused with a ValueError by the ops that compute (convert with `astype('float32')`). Arithmetic broadcasts as in NumPy, and inside
    `autograd.record()` the operations on arrays marked with `attach_grad` are recorded for
    `backward`.

    Arrays are made by the functions of `ad.nd` (`nd.array`, `nd.zeros`, ...).
    `NDArray(handle)` takes ownership of a library handle (an int or a ctypes.c_void_p) and
    frees it with the object.

    `shape`, `dtype`, `grad`, `asscalar`, the arithmetic and comparison operators, `sum`,
    `mean`, `norm` and `backward` come from the C base class `ad._ext.ArrayBase`."""

    # weak references are supported by the base class
    __slots__ = ()
    # Take precedence over numpy in mixed expressions (np.float32(2) * x).
    __array_priority__ = 1000.0

    # ---------------------------------------------------------------- properties
    @property
    def handle(self):
        """The library's handle, as a ctypes.c_void_p (`_handle` is the same as an int)."""
        return ctypes.c_void_p(self._handle)

    @property
    def ndim(self):
        """The number of dimensions (axes), ``len(self.shape)``."""
        return len(self.shape)

    @property
    def size(self):
        """The number of elements, the product of the dimensions."""
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def context(self):
        """The device the array is on: always ``cpu(0)`` in ad."""
        return cpu()

    ctx = context

    @property
    def stype(self):
        """The storage type: always ``'default'`` (dense); ad has no sparse arrays."""
        return "default"

    @property
    def T(self):
        """The array with its axes reversed, ``self.transpose()``: a copy, as in MXNet. For
        fewer than 2 axes MXNet returns the array itself; ad returns a new array with the
        same values."""
        return self.transpose()

    # ---------------------------------------------------------------- data
    def asnumpy(self):
        """A copy of the array as a ``numpy.ndarray`` of the same shape and dtype.

        Returns
        -------
        numpy.ndarray
            The values, copied.
        """
        a = np.empty(self.shape, dtype=self.dtype)
        check(lib.ad_array_read(self._handle, dtype_code(a.dtype), a.ctypes.data_as(ctypes.c_void_p), a.size))
        return a

    def __array__(self, dtype=None):
        a = self.asnumpy()
        return a if dtype is None else a.astype(dtype, copy=False)

    def __float__(self):
        return float(self.asscalar())

    def __int__(self):
        return int(self.asscalar())

    def __bool__(self):
        size = self.size
        if size == 0:
            return False
        if size == 1:
            return bool(self.asscalar())
        raise ADValueError("The truth value of an NDArray with multiple elements is ambiguous.")

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d NDArray")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        n = ctypes.c_size_t()
        check(lib.ad_array_to_string(self._handle, None, 0, ctypes.byref(n)))
        buf = ctypes.create_string_buffer(n.value + 1)
        check(lib.ad_array_to_string(self._handle, buf, n.value + 1, None))
        return buf.value.decode()

    __str__ = __repr__

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape, **kwargs):
        """The array with a new shape, sharing its data (a view: writes through either are
        seen by both), as MXNet's ``NDArray.reshape``.

        Parameters
        ----------
        *shape : int or tuple of int
            The new shape, as one tuple (``x.reshape((2, 3))``) or as separate ints
            (``x.reshape(2, 3)``), with MXNet's special codes. Read from the left, a size
            d > 0 is an axis of length d; 0 copies the next axis of this array; -1 is inferred
            from the element count (at most one); -2 copies all the remaining axes; -3 merges
            the next two axes into one; -4 followed by two sizes (one may be -1) splits the
            next axis into two. The result must hold as many elements as the array.
        **kwargs
            ``shape=``, the shape as a keyword, and ``reverse=`` (default False): read the
            codes and the array's axes from the right, as MXNet's `reverse`.

        Returns
        -------
        NDArray
            A view of the data with the new shape.
        """
        if "shape" in kwargs:
            shape = kwargs.pop("shape")
        reverse = bool(kwargs.pop("reverse", False))
        if kwargs:
            raise TypeError("reshape got unexpected keyword arguments %s" % sorted(kwargs))
        if isinstance(shape, numbers.Integral):
            shape = (shape,)
        elif len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return _call_new(lib.ad_array_reshape_codes, self._handle, int64s(shape), len(shape), reverse)

    def transpose(self, *axes, **kwargs):
        """The array with its axes permuted (a copy), as ``nd.transpose``.

        Parameters
        ----------
        *axes : int or tuple of int, optional
            The new order of the axes (negative counts from the end), as one tuple or as
            separate ints. None, or no axes at all, reverses them.
        **kwargs
            Only ``axes=``, the axes as a keyword.

        Returns
        -------
        NDArray
            The permuted array.
        """
        if "axes" in kwargs:
            axes = kwargs.pop("axes")
        if kwargs:
            raise TypeError("transpose got unexpected keyword arguments %s" % sorted(kwargs))
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0] or ()
        return _call_new(lib.ad_array_transpose, self._handle, int64s(axes, "axes"), len(axes))

    def broadcast_to(self, shape):
        """The array repeated along its length-1 axes to `shape`, as NumPy broadcasts.

        Parameters
        ----------
        shape : int or tuple of int
            The shape of the result. Unlike MXNet, ad also adds missing leading axes (from
            (3,) to (2, 3)), as NumPy does, and a 0 is a size of 0 where MXNet reads it as
            "keep this axis's size".

        Returns
        -------
        NDArray
            A new array of the given shape, not sharing data with this one.
        """
        shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        return _call_new(lib.ad_array_broadcast_to, self._handle, sizes(shape), len(shape))

    def flatten(self):
        """The array as a matrix: the first axis kept and the others flattened into the second
        ((N,) gives (N, 1), as in MXNet).

        MXNet's `inplace` argument is not supported: the result always shares the data (as
        MXNet's ``inplace=True``), where MXNet copies by default.

        Returns
        -------
        NDArray
            A view of shape (d1, d2 * ... * dk).
        """
        return _call_new(lib.ad_flatten, self._handle)

    # Fluent forms of the nd functions, as MXNet's NDArray has them.
    def sort(self, axis=-1, is_ascend=True):
        """The array sorted along `axis`, as ``nd.sort`` with this array as `data`.

        Parameters
        ----------
        axis : int or None, optional
            The axis to sort along (default -1); None sorts the flattened array.
        is_ascend : bool, optional
            Ascending (the default) or descending order.

        Returns
        -------
        NDArray
            The sorted array.
        """
        from .nd import sort
        return sort(self, axis, is_ascend)

    def argsort(self, axis=-1, is_ascend=True, dtype="float32"):
        """The positions that sort the array, as ``nd.argsort`` with this array as `data`.

        Parameters
        ----------
        axis : int or None, optional
            The axis to sort along (default -1); None sorts the flattened array.
        is_ascend : bool, optional
            Ascending (the default) or descending order.
        dtype : str or numpy.dtype, optional
            The dtype of the positions: float32 (the default), float64 or an integer dtype.

        Returns
        -------
        NDArray
            The positions.
        """
        from .nd import argsort
        return argsort(self, axis, is_ascend, dtype)

    def topk(self, axis=-1, k=1, ret_typ="indices", is_ascend=False, dtype="float32"):
        """The `k` largest elements, as ``nd.topk`` with this array as `data`.

        Parameters
        ----------
        axis : int or None, optional
            The axis to search along (default -1); None searches the flattened array.
        k : int, optional
            How many (default 1); k < 1 takes them all.
        ret_typ : str, optional
            'indices' (the default), 'value', 'mask' or 'both'.
        is_ascend : bool, optional
            Take the smallest instead (default False).
        dtype : str or numpy.dtype, optional
            The dtype of the positions: float32 (the default), float64 or an integer dtype.

        Returns
        -------
        NDArray or list of NDArray
            The values, positions or mask, or [values, positions] for 'both'.
        """
        from .nd import topk
        return topk(self, axis, k, ret_typ, is_ascend, dtype)

    def argmax(self, axis=None, keepdims=False):
        """The positions of the largest elements, as ``nd.argmax`` with this array as `data`.

        Parameters
        ----------
        axis : int or None, optional
            The axis along which to search; None (the default) searches the flattened array.
        keepdims : bool, optional
            Keep the searched axis in the result, with size 1 (default False).

        Returns
        -------
        NDArray
            The positions, as floats of this array's dtype.
        """
        from .nd import argmax
        return argmax(self, axis, keepdims)

    def argmin(self, axis=None, keepdims=False):
        """The positions of the smallest elements, as ``nd.argmin`` with this array as `data`.

        Parameters
        ----------
        axis : int or None, optional
            The axis along which to search; None (the default) searches the flattened array.
        keepdims : bool, optional
            Keep the searched axis in the result, with size 1 (default False).

        Returns
        -------
        NDArray
            The positions, as floats of this array's dtype.
        """
        from .nd import argmin
        return argmin(self, axis, keepdims)

    def clip(self, a_min, a_max):
        """The elements limited to [a_min, a_max], as ``nd.clip`` with this array as `data`.

        Parameters
        ----------
        a_min : float
            The lower limit.
        a_max : float
            The upper limit.

        Returns
        -------
        NDArray
            The clipped array.
        """
        from .nd import clip
        return clip(self, a_min, a_max)

    def softmax(self, axis=-1):
        """The softmax along `axis`, as ``nd.softmax`` with this array as `data`.

        Parameters
        ----------
        axis : int, optional
            The axis along which to normalise (default -1, the last).

        Returns
        -------
        NDArray
            An array of this shape whose slices along `axis` sum to 1.
        """
        from .nd import softmax
        return softmax(self, axis)

    def log_softmax(self, axis=-1):
        """The logarithm of the softmax along `axis`, as ``nd.log_softmax`` with this array as
        `data`.

        Parameters
        ----------
        axis : int, optional
            The axis along which to normalise (default -1, the last).

        Returns
        -------
        NDArray
            An array of this shape.
        """
        from .nd import log_softmax
        return log_softmax(self, axis)

    def one_hot(self, depth, on_value=1.0, off_value=0.0, dtype="float32"):
        """One-hot rows for the class indices this array holds, as ``nd.one_hot`` with this
        array as `indices`.

        Parameters
        ----------
        depth : int
            The number of classes, the length of each row.
        on_value : float, optional
            The value at the index (default 1).
        off_value : float, optional
            The value elsewhere (default 0).
        dtype : str or numpy.dtype, optional
            The result's dtype: float32 (the default), float64, an integer dtype or bool.

        Returns
        -------
        NDArray
            An array of shape ``self.shape + (depth,)``.
        """
        from .nd import one_hot
        return one_hot(self, depth, on_value, off_value, dtype)

    def astype(self, dtype, copy=True):
        """The array converted to `dtype`; gradients flow back through the conversion.

        Parameters
        ----------
        dtype : str or numpy.dtype
            float32, float64, uint8, int8, int32, int64 or bool, converted as numpy (and
            MXNet on x86) converts: a float to an integer truncates toward zero, NaN and
            values out of range become int32's or int64's minimum (uint8 and int8: the low
            byte of int32's), and bool is ``x != 0``. Only a float result is differentiable.
        copy : bool, optional
            With the default True a new array is always made; with False, the array itself is
            returned when it already has `dtype`.

        Returns
        -------
        NDArray
            The converted array, or this one (``copy=False`` and the same dtype).
        """
        code = dtype_code(dtype)
        if code == dtype_code(self.dtype):
            return self.copy() if copy else self
        return _call_new(lib.ad_array_astype, self._handle, code)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule lending this array's memory, read-only, to another library's
        ``from_dlpack`` (``numpy.from_dlpack(x)``, ``torch.from_dlpack(x)``).

        Parameters
        ----------
        stream : None
            Arrays are on the CPU, which has no streams: only None.
        max_version : tuple of int or None
            The newest DLPack version the consumer reads: (1, x) or later gives a DLPack 1.1
            tensor marked read-only, None or older the legacy form (which cannot say
            read-only: the consumer must not write).
        dl_device : None or (1, 0)
            Only the CPU, DLPack's (1, 0).
        copy : bool or None
            True: lend a copy. False or None: lend this array's memory.

        Returns
        -------
        PyCapsule
            ``"dltensor_versioned"`` or ``"dltensor"``.
        """
        if stream is not None:
            raise BufferError("__dlpack__: stream must be None for CPU arrays, not %r" % (stream,))
        if dl_device is not None and tuple(dl_device) != (1, 0):
            raise BufferError("__dlpack__: dl_device %r is not the CPU, (1, 0)" % (dl_device,))
        if copy not in (None, True, False):
            raise TypeError("__dlpack__: copy must be True, False or None, not %r" % (copy,))
        versioned = max_version is not None and tuple(max_version)[0] >= 1
        return _ext.to_dlpack(self.copy() if copy else self, versioned, False)

    def __dlpack_device__(self):
        """Where the array's memory is, as DLPack's (device type, device id): (1, 0), the CPU.

        Returns
        -------
        tuple of int
            (1, 0).
        """
        return (1, 0)

    def to_dlpack_for_read(self):
        """A legacy DLPack capsule lending this array's memory to a consumer that only reads it
        (as `nd.to_dlpack_for_read`).

        Returns
        -------
        PyCapsule
            ``"dltensor"``.
        """
        return _ext.to_dlpack(self, False, False)

    def to_dlpack_for_write(self):
        """A legacy DLPack capsule lending this array's memory to a consumer that may write it
        (as `nd.to_dlpack_for_write`): an in-place write for autograd's checks.

        Returns
        -------
        PyCapsule
            ``"dltensor"``.
        """
        return _ext.to_dlpack(self, False, True)

    def borrow(self, writable=False):
        """A loan of this array's memory, without a copy, as a Python buffer: numpy reads it in
        place (``np.asarray(loan)``, ``np.frombuffer(loan, loan.dtype)``), and mpi4py can reduce
        a gradient in place (``comm.Iallreduce(MPI.IN_PLACE, x.grad.borrow(writable=True))``).
        Not in MXNet 1.9.1.

        The buffer holds the elements row-major and contiguous, of this array's shape and dtype.
        A view made by indexing (``x[1:3]``) lends the part of the memory it shares with its
        array; a selection that is not contiguous (``x[:, 1]``) is already a copy, and its
        loan lends that copy.

        The loan keeps the memory alive until it is released (``loan.release()``, the end of
        a ``with`` block, or the loan's garbage collection), also after this array and its
        handle are gone. While buffers taken from it are in use (a memoryview, a numpy array
        over it, an unfinished MPI request), ``release`` raises BufferError.

        Without `writable` the buffer is read-only; it still sees every later change of the
        array (``x += 1``). A writable loan is an in-place change of the array, for autograd's
        checks as ``x[:] = ...`` is: an op recorded before or during the loan that saved this
        array cannot be differentiated afterwards (backward raises RuntimeError).

        A loan taken once on a gradient (``x.grad.borrow()``) sees the gradient of each later
        backward, which writes into the same memory (until `attach_grad` gives the array a
        new gradient buffer).

        The loan takes no lock: do not read or write the memory through it while another
        thread runs an in-place call on the same array or on one sharing its memory
        (``x += 1``, ``x[:] = ...``, an optimizer's update, a backward writing its gradient).

        Parameters
        ----------
        writable : bool, optional
            Whether the buffer may be written (default False).

        Returns
        -------
        Loan
            The loan (``ad._ext.Loan``): a buffer with `shape`, `dtype`, `writable` and
            `released`, and `release()`; a context manager that releases it at exit.
        """
        return _ext.borrow(self, writable)

    def copy(self):
        """A copy of the array in new memory; gradients flow through it.

        Returns
        -------
        NDArray
            The copy.
        """
        return _call_new(lib.ad_array_copy, self._handle)

    def copyto(self, other):
        """Copies the values into `other`, as MXNet's ``NDArray.copyto``.

        Parameters
        ----------
        other : NDArray or Context
            The array to write into, in place: it must have this shape (a value of another
            shape raises ValueError, as in MXNet), and the values are converted to its dtype.
            Or a context, for which a new array is made (ad has the CPU only).

        Returns
        -------
        NDArray or bool
            `other` when it is an array, else the new copy. Copying an array into itself
            changes nothing and returns False with a RuntimeWarning, as in MXNet.
        """
        if isinstance(other, NDArray):
            if other is self:
                warnings.warn("You are attempting to copy an array to itself", RuntimeWarning)
                return False
            if other.shape != self.shape:
                raise ADValueError("copyto: the target has shape %s, this array %s; they must be the same"
                                   % (other.shape, self.shape))
            other[...] = self
            return other
        if not isinstance(other, Context):
            raise TypeError("copyto takes an NDArray or a Context; got %s" % type(other).__name__)
        check_ctx(other)
        return self.copy()

    def as_in_context(self, context):
        """The array on the device `context`: this array itself, since ad computes on the CPU
        only (another device raises ValueError), as MXNet returns the array itself for its own
        context.

        Parameters
        ----------
        context : Context
            The target device.

        Returns
        -------
        NDArray
            This array.
        """
        check_ctx(context)
        return self

    def detach(self):
        """The array without its recorded history: the result shares the data, but gradients
        do not flow through it.

        Returns
        -------
        NDArray
            A new handle on the same data.
        """
        return _call_new(lib.ad_array_detach, self._handle)

    # ---------------------------------------------------------------- autograd
    def attach_grad(self, grad_req="write", stype=None):
        """Marks the array as a variable, with a new zero gradient buffer (its `.grad`), so
        that `backward` computes the gradient with respect to it.

        Parameters
        ----------
        grad_req : {'write', 'add', 'null'}, optional
            How backward writes the gradient: 'write' (the default) overwrites it each time,
            'add' adds into it, 'null' computes none.
        stype : str, optional
            The gradient's storage type; only None or 'default' (dense) are supported.
        """
        if stype not in (None, "default"):
            raise ADValueError("attach_grad: ad's gradients are dense; got stype=%r" % (stype,))
        check(lib.ad_array_attach_grad(self._handle, grad_req_code(grad_req)))

    def retain_grad(self):
        """Asks backward to fill this recorded intermediate's `.grad` while gradients flow on
        through it to the variables (not in MXNet 1.9.1). A no-op on a variable; raises
        RuntimeError for an array with no recorded history."""
        check(lib.ad_array_retain_grad(self._handle))

    def register_grad_ready_hook(self, hook):
        """Calls `hook(variable)` during each `backward` (not `autograd.grad`, which writes no
        `.grad`) as soon as this variable's gradient is final and written into its `.grad`,
        on the thread that runs backward, in the order gradients become final (the last
        layer's parameters first): to start reducing a gradient across processes while
        backward computes the others, as PyTorch's DDP and Horovod do. Not in MXNet 1.9.1.

        A variable has one hook: this replaces any it had. An exception raised in the hook
        stops backward, which raises it again; gradients whose hooks already ran stay
        written. The library keeps the hook as long as the variable lives (in its handles
        and in recorded graphs): a hook that refers to the variable itself keeps both alive
        until the hook is removed; use the array it is called with instead.

        Parameters
        ----------
        hook : callable or None
            Called with the variable (an NDArray whose `.grad` is final); None removes the
            hook. Raises RuntimeError (AD_ERR_AUTOGRAD) when the array has no `attach_grad`.
        """
        from ._hooks import set_hook
        set_hook(self._handle, hook)

    # ---------------------------------------------------------------- indexing
    def __getitem__(self, key):
        """``x[key]``, by NumPy's rules as MXNet has them (see ad/_indexing.py). Basic
        indexing (integers, slices with steps, ``...``, None for a new axis, 0-d NDArrays as
        integers) gives a view sharing the data where the selection is contiguous in memory
        (``x[1]``, ``x[1:3]``, ``x[2, 0:2]``, ``x[None]``), a copy elsewhere; an element comes
        back with shape (1,), as in MXNet. Advanced indexing (lists, NumPy arrays and NDArrays
        of positions, negative counting from the end; lists and arrays of booleans as masks)
        gives a copy. Gradients flow through both. A position out of range raises
        IndexError."""
        return _indexing.getitem(self, key)

    def __setitem__(self, key, value):
        """``x[key] = value``: writes `value` (an NDArray, a number or array-like, broadcast to
        the selection and converted to this dtype) into the elements `key` selects, basic or
        advanced, in place; everything sharing the data sees the change. Where an advanced
        index names a position twice, the value written last stays. Raises RuntimeError inside
        a record scope when the array is in the recorded graph."""
        _indexing.setitem(self, key, value)

    # ---------------------------------------------------------------- arithmetic
    def _binary(self, other, fn, scalar_fn):
        if isinstance(other, NDArray):
            return _call_new(fn, self._handle, other._handle)
        if is_scalar(other):
            return _call_new(scalar_fn, self._handle, float(other))
        if isinstance(other, (np.ndarray, list, tuple)):
            return self._binary(array(other, dtype=self.dtype), fn, scalar_fn)
        return NotImplemented

    def _rscalar(self, other, scalar_fn):
        if is_scalar(other):
            return _call_new(scalar_fn, self._handle, float(other))
        return NotImplemented

    # MXNet's Python 2 names
    __div__ = _ext.ArrayBase.__truediv__
    __rdiv__ = _ext.ArrayBase.__rtruediv__
    __idiv__ = _ext.ArrayBase.__itruediv__

    def __pos__(self):
        return self

    def _compare(self, other, code, fn, scalar_fn):
        if isinstance(other, NDArray):
            return _call_new(fn, self._handle, other._handle, code)
        if is_scalar(other):
            return _call_new(scalar_fn, self._handle, float(other), code)
        if isinstance(other, (np.ndarray, list, tuple)):
            return self._compare(array(other, dtype=self.dtype), code, fn, scalar_fn)
        return NotImplemented


def array(source, ctx=None, dtype=None):
    """An array holding a copy of `source`.

    Parameters
    ----------
    source : array_like
        Nested lists or tuples of numbers, a numpy array, anything with `__array__`, a number,
        or an NDArray.
    ctx : Context, optional
        The device; only the CPU (None, the default, or ``cpu()``).
    dtype : str or numpy.dtype, optional
        float32, float64, float16, uint8, int8, int32, int64 or bool. By default an NDArray keeps its
        own dtype and anything else becomes float32 (also float64, integer and bool input),
        as in MXNet. Values are converted as numpy's ``astype`` converts them.

    Returns
    -------
    NDArray
        A new array of the source's shape. A number gives a 0-d array (shape ``()``), as in
        MXNet 1.9.1.
    """
    check_ctx(ctx)
    if isinstance(source, NDArray):
        return source.astype(source.dtype if dtype is None else dtype)
    code = dtype_code(dtype)
    # A value beyond float32's range becomes an infinity, as in MXNet, without NumPy 2's
    # RuntimeWarning on the host's stderr.
    # NaN or an out-of-range value converted to an integer type is numpy's RuntimeWarning,
    # also kept off stderr.
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.array(source, dtype=CODE_TYPE[code], order="C")
    return _call_new(lib.ad_array_create, a.ctypes.data_as(ctypes.c_void_p), sizes(a.shape), a.ndim, code)


# ---------------------------------------------------------------- the op table's forms
def _reduce(h, fn, axis, keepdims, exclude=False):
    """The reduction `fn` of the array with handle `h` over `axis` (an int, a tuple, or None
    for all axes); with `exclude`, over every axis but those (as MXNet: None or an empty
    tuple still reduces over all axes)."""
    if axis is None:
        return _call_new(fn, h, None, 0, bool(keepdims))
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)  # MXNet: an empty tuple, like None, reduces over all axes
    else:
        axes = (axis,)
    if exclude and axes:
        ndim = ctypes.c_size_t()
        check(lib.ad_array_ndim(h, ctypes.byref(ndim)))
        for a in axes:
            if not -ndim.value <= operator.index(a) < ndim.value:
                raise ADValueError("axis %d is out of range for an array of %d dimensions" % (a, ndim.value))
        kept = {operator.index(a) % ndim.value for a in axes}
        axes = tuple(i for i in range(ndim.value) if i not in kept)
        if not axes:
            # Every axis excluded: nothing is reduced (MXNet returns the values as they are).
            return _call_new(lib.ad_array_copy, h)
    return _call_new(fn, h, int64s(axes, "axis"), len(axes), bool(keepdims))


def _check_ord(ord, fn):
    """The library function of the norm of order `ord`: `fn` (L2) for 2, L1 for 1; MXNet has
    no others."""
    if isinstance(ord, bool) or ord not in (1, 2):
        raise ADValueError("norm supports ord=1 and ord=2 only; got ord=%r" % (ord,))
    return lib.ad_norm1 if ord == 1 else fn


def _reducer(op):
    """The method `x.<op.name>(...)` of a reduction."""
    fn = getattr(lib, op.c)
    if op.kind == _ops.NORM:
        def method(self, ord=2, axis=None, keepdims=False):
            return _reduce(self._handle, _check_ord(ord, fn), axis, keepdims)
    else:
        def method(self, axis=None, keepdims=False, exclude=False, *, axes=None):
            if axes is not None:
                if axis is not None:
                    raise TypeError("%s() takes `axis` or `axes`, not both" % op.name)
                axis = axes
            return _reduce(self._handle, fn, axis, keepdims, exclude)
    method.__name__ = op.name
    method.__qualname__ = "NDArray." + op.name
    return method


def _unary_method(op):
    fn = getattr(lib, op.c)

    def method(self):
        return _call_new(fn, self._handle)
    return method


def _backward(self, out_grad=None, retain_graph=False, train_mode=True):
    from .autograd import backward
    backward([self], None if out_grad is None else [out_grad], retain_graph, train_mode)


def _fast_paths():
    """The slots of the C extension's fast paths (see `register` in ad/_ext.c): for each op of
    the table that has one, its library functions and the Python code for the forms the C code
    leaves to Python (numpy scalars and arrays, lists, bools, axis arguments)."""
    slots = {"backward": (_backward,)}
    for op in _ops.OPS:
        if op.slot is None:
            continue
        if op.kind == _ops.BINARY:
            fn, scalar_fn, rscalar_fn = (getattr(lib, name) for name in (op.c, op.scalar, op.rscalar))
            slots[op.slot] = (_lib.address(op.c), _lib.address(op.scalar), _lib.address(op.rscalar),
                              lambda self, other, fn=fn, s=scalar_fn: self._binary(other, fn, s),
                              lambda self, other, s=rscalar_fn: self._rscalar(other, s))
        elif op.kind == _ops.UNARY:
            slots[op.slot] = (_lib.address(op.c),)
        elif op.kind == _ops.COMPARE:
            fn, scalar_fn = getattr(lib, op.c), getattr(lib, op.scalar)
            slots[op.slot] = (_lib.address(op.c), _lib.address(op.scalar),
                              lambda self, other, code, fn=fn, s=scalar_fn: self._compare(other, code, fn, s))
        else:
            slots[op.slot] = (_lib.address(op.c), _reducer(op))
    return slots


def _make_methods():
    """The NDArray methods of the op table."""
    for op in _ops.OPS:
        for name in op.methods:
            method = _unary_method(op) if op.kind == _ops.UNARY else _reducer(op)
            method.__name__ = name
            method.__qualname__ = "NDArray." + name
            method.__doc__ = _ops.method_doc(op)
            setattr(NDArray, name, method)


_make_methods()
_ext.register(NDArray, raise_for_status, SCALAR_TYPES, _fast_paths())
