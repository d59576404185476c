"""ad: reverse-mode automatic differentiation over n-dimensional arrays, with MXNet's
imperative `autograd` and `nd` API. An MXNet script runs with `from ad import autograd, nd`."""
from . import _lib
from .context import Context, cpu, gpu
from .errors import ADError
from ._reference import is_reference_mode, reference_mode, set_reference_mode
from . import nd, autograd  # noqa: E402
from . import gluon  # noqa: E402
from .nd import random  # noqa: E402  (mx.random: seed, normal, uniform)

__version__ = _lib.lib.ad_version().decode()


def release_cached_memory():
    """Returns to the system the memory of freed large arrays that the library keeps for reuse
    (``ad_release_cached_memory``); the number of bytes released. Worth calling when a program
    is done with large arrays for a while; buffers the program stops reusing are also released
    on their own as it goes on allocating."""
    released = _lib.size()
    _lib.check(_lib.lib.ad_release_cached_memory(_lib.ctypes.byref(released)))
    return released.value


__all__ = ["nd", "autograd", "gluon", "random", "cpu", "gpu", "Context", "ADError", "release_cached_memory", "__version__",
           "set_reference_mode", "is_reference_mode", "reference_mode"]
