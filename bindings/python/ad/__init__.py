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


def cpu_level():
    """The vector instructions ad's own kernels use (``ad_cpu_level``): ``'avx512'``,
    ``'avx2'`` or ``'portable'``; the best the CPU has unless a lower ceiling was set with
    `set_cpu_level` or the environment variable ``AD_CPU``. Not in MXNet."""
    return _lib.lib.ad_cpu_level().decode()


def set_cpu_level(ceiling=None):
    """Sets a ceiling on the vector instructions ad's own kernels use, for the whole process
    (``ad_set_cpu_level``): ``'avx2'`` or ``'portable'`` run a lower level's paths on a CPU
    that has a higher one; ``'avx512'`` or None the best the CPU has. Returns the level now in
    use (at most the CPU's). Not in MXNet.

    Parameters
    ----------
    ceiling : {'avx512', 'avx2', 'portable'} or None
        The highest level to use.
    """
    if ceiling is not None and not isinstance(ceiling, str):
        raise TypeError("set_cpu_level: ceiling must be a str or None, got %s" % type(ceiling).__name__)
    _lib.check(_lib.lib.ad_set_cpu_level(None if ceiling is None else ceiling.encode()))
    return cpu_level()


__all__ = ["nd", "autograd", "gluon", "random", "cpu", "gpu", "Context", "ADError", "release_cached_memory", "__version__",
           "set_reference_mode", "is_reference_mode", "reference_mode", "cpu_level", "set_cpu_level"]
