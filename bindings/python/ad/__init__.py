"""ad: reverse-mode automatic differentiation over n-dimensional arrays, with MXNet's
imperative `autograd` and `nd` API. An MXNet script runs with `from ad import autograd, nd`."""
from . import _lib
from .context import Context, cpu, gpu
from .errors import ADError
from ._reference import is_reference_mode, reference_mode, set_reference_mode
from . import nd, autograd  # noqa: E402

__version__ = _lib.lib.ad_version().decode()

__all__ = ["nd", "autograd", "cpu", "gpu", "Context", "ADError", "__version__",
           "set_reference_mode", "is_reference_mode", "reference_mode"]
