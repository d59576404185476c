"""Exceptions. Every failure raises ADError carrying the library's message; where MXNet (or
Python) would raise a built-in type, the exception is also an instance of it: a bad shape
or value is a ValueError, an index out of range an IndexError, an autograd state error a
RuntimeError (as MXNet's MXNetError), a failed allocation a MemoryError, a file that cannot
be opened, read or written an OSError, and a file whose contents are corrupt a ValueError.

An exception raised in Python code the library called back (a custom Function's forward or
backward) is raised again, itself, by the call that failed because of it."""
import threading

# ad_status values (include/ad.h; tests/header.rs checks that they agree)
AD_OK = 0
AD_ERR_NULL_ARGUMENT = 1
AD_ERR_INVALID_HANDLE = 2
AD_ERR_SHAPE = 3
AD_ERR_DTYPE = 4
AD_ERR_INVALID_ARGUMENT = 5
AD_ERR_INDEX = 6
AD_ERR_AUTOGRAD = 7
AD_ERR_ALLOC = 8
AD_ERR_BUFFER_TOO_SMALL = 9
AD_ERR_PANIC = 10
AD_ERR_IO = 11
AD_ERR_FORMAT = 12


class ADError(Exception):
    """An error reported by the ad library; `status` is its ad_status code."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class ADValueError(ADError, ValueError):
    """A shape, dtype or argument value the operation cannot take."""


class ADIndexError(ADError, IndexError):
    """An index out of range."""


class ADRuntimeError(ADError, RuntimeError):
    """The autograd state does not allow the call."""


class ADMemoryError(ADError, MemoryError):
    """Memory could not be allocated, or an element count overflows."""


class ADIOError(ADError, OSError):
    """A file that the system would not open, read or write."""


class ADFormatError(ADError, ValueError):
    """A file that is not in the format it should be: truncated, corrupt or inconsistent."""


_CLASSES = {
    AD_ERR_SHAPE: ADValueError,
    AD_ERR_DTYPE: ADValueError,
    AD_ERR_INVALID_ARGUMENT: ADValueError,
    AD_ERR_INDEX: ADIndexError,
    AD_ERR_AUTOGRAD: ADRuntimeError,
    AD_ERR_ALLOC: ADMemoryError,
    AD_ERR_IO: ADIOError,
    AD_ERR_FORMAT: ADFormatError,
}


# The exception a Python callback raised on this thread, and the message it gave the library.
_pending = threading.local()


def set_pending_exception(exc, message):
    """Keeps the exception a callback caught, for the failing call to raise again."""
    _pending.exception, _pending.message = exc, message


def raise_for_status(status, message):
    exc, pending_message = getattr(_pending, "exception", None), getattr(_pending, "message", None)
    _pending.exception = _pending.message = None
    # the library's message ends with the callback's own when the failure is the callback's
    if exc is not None and message.endswith(pending_message):
        raise exc
    raise _CLASSES.get(status, ADError)(message, status)
