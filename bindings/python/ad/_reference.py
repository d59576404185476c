"""The reference mode: every fast path of the library and of this package switched off."""
import contextlib

from ._lib import lib


def set_reference_mode(on):
    """Switches the reference mode on or off for the whole process; returns the previous
    setting. In the reference mode every operation runs its plain, slow, obviously correct
    form (gradients expanded and summed into new arrays, the C library's math functions,
    matrix products as a triple loop, no threads, and none of the C extension's shortcuts).
    Results agree with the default mode up to rounding; a difference beyond that is a bug in a
    fast path. The environment variable AD_REFERENCE_MODE=1 sets it for a whole run."""
    before = bool(lib.ad_reference_mode())
    lib.ad_set_reference_mode(bool(on))
    return before


def is_reference_mode():
    """Whether the reference mode is on."""
    return bool(lib.ad_reference_mode())


@contextlib.contextmanager
def reference_mode(on=True):
    """`with ad.reference_mode():` runs the block in the reference mode (or, with on=False,
    out of it) and restores the previous setting after it."""
    before = set_reference_mode(on)
    try:
        yield
    finally:
        set_reference_mode(before)
