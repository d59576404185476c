"""DLPack: arrays exchanged with NumPy, PyTorch, JAX and any other library that speaks DLPack,
without a copy. MXNet's names (`to_dlpack_for_read`, `to_dlpack_for_write`, `from_dlpack`
taking a capsule) and the Python array API's protocol (`from_dlpack` taking any object with
`__dlpack__`, and `NDArray.__dlpack__` for other libraries' `from_dlpack`)."""
from .. import _ext
from ..ndarray import NDArray

__all__ = ["from_dlpack", "to_dlpack_for_read", "to_dlpack_for_write"]


def to_dlpack_for_read(data):
    """A DLPack capsule (the legacy ``"dltensor"`` form MXNet returns) lending `data`'s memory
    to a consumer that only reads it.

    Parameters
    ----------
    data : NDArray
        The array to lend.

    Returns
    -------
    PyCapsule
        The capsule, for another library's ``from_dlpack``. The memory stays valid until the
        consumer lets go of it, whatever happens to `data` meanwhile.
    """
    return _export(data, "data", writable=False)


def to_dlpack_for_write(data):
    """A DLPack capsule (legacy ``"dltensor"``) lending `data`'s memory to a consumer that may
    write it. The loan counts as an in-place write: an operation that saved `data` for
    backward cannot be differentiated once it is made.

    Parameters
    ----------
    data : NDArray
        The array to lend.

    Returns
    -------
    PyCapsule
        The capsule, for another library's ``from_dlpack``.
    """
    return _export(data, "data", writable=True)


def _export(data, name, writable, versioned=False):
    if not isinstance(data, NDArray):
        raise TypeError("%s must be an NDArray, not %s" % (name, type(data).__name__))
    return _ext.to_dlpack(data, versioned, writable)


def from_dlpack(dlpack, device=None, copy=None):
    """An NDArray over the memory of another library's array, without a copy where it can be
    shared.

    The memory is shared when the tensor is on the CPU, holds float32, float64, float16, uint8,
    int8, int32, int64 or bool elements laid out compact and row-major, is aligned and writable, and no other array uses it; otherwise
    the array is a copy. A tensor ad exported writable comes back as the same elements.

    Parameters
    ----------
    dlpack : object with ``__dlpack__``, or PyCapsule
        A NumPy array, a torch tensor, ... or a DLPack capsule (``"dltensor"`` or
        ``"dltensor_versioned"``), which this call takes.
    device : None or (1, 0)
        The device to put the array on: only the CPU, DLPack's ``(1, 0)``.
    copy : bool or None
        True: always a copy. False: never a copy (BufferError where the memory cannot be
        shared). None: shared where possible.

    Returns
    -------
    NDArray
        The array: writes through it are seen by the producer's array when shared.
    """
    if device is not None and tuple(device) != (1, 0):
        raise BufferError("from_dlpack: device %r is not the CPU, (1, 0), the only device of ad" % (device,))
    if copy not in (None, True, False):
        raise TypeError("from_dlpack: copy must be True, False or None, not %r" % (copy,))
    capsule = dlpack
    if hasattr(dlpack, "__dlpack__"):
        try:
            capsule = dlpack.__dlpack__(max_version=(1, 1))
        except TypeError:
            capsule = dlpack.__dlpack__()  # a producer older than DLPack 1.0's keywords
    array, copied = _ext.from_dlpack(capsule)
    if copy and not copied:
        return array.copy()
    if copy is False and copied:
        raise BufferError("from_dlpack: copy=False, but the tensor's memory cannot be shared (it is read-only, "
                          "strided, misaligned, or used by another array)")
    return array
