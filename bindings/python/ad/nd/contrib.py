"""The functions of MXNet's `nd.contrib` that ad has: the element-wise tests for NaN and
infinities (made from the op table, as `nd.isnan` and the others)."""
from . import isfinite, isinf, isnan  # noqa: F401  (re-exported under MXNet's names)

__all__ = ["isnan", "isinf", "isfinite"]
