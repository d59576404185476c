"""Devices. ad computes on the CPU; `ctx=` keywords accept only `cpu()` (or None), as MXNet
scripts pass them."""
from .errors import ADValueError


class Context:
    """A device, as MXNet's `Context`: its type ('cpu' or 'gpu') and number. ad computes on
    the CPU only; a GPU context can be named but arrays cannot be made on it."""

    def __init__(self, device_type="cpu", device_id=0):
        self.device_type = device_type
        self.device_id = device_id

    def __repr__(self):
        return "%s(%d)" % (self.device_type, self.device_id)

    __str__ = __repr__

    def __eq__(self, other):
        return isinstance(other, Context) and (self.device_type, self.device_id) == (other.device_type, other.device_id)

    def __hash__(self):
        return hash((self.device_type, self.device_id))


def cpu(device_id=0):
    """The CPU context, where ad's arrays live; `device_id` is kept for MXNet scripts (MXNet
    ignores it for the CPU as well)."""
    return Context("cpu", device_id)


def gpu(device_id=0):
    """A GPU context, for scripts that name one; creating arrays on it raises ValueError."""
    return Context("gpu", device_id)


def check_ctx(ctx):
    if ctx is None:
        return
    if isinstance(ctx, str):   # "cpu", "cpu(0)", "gpu(1)"
        name, _, device_id = ctx.replace(")", "").partition("(")
        ctx = Context(name, int(device_id) if device_id.strip().isdigit() else 0)
    if not isinstance(ctx, Context) or ctx.device_type != "cpu":
        raise ADValueError("ad computes on the CPU only; got context %r (use ad.cpu())" % (ctx,))
