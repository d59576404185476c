"""Helpers the test modules share (fixtures are in conftest.py)."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

# The repository: the tests read its examples, fixtures and C header.
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
HEADER = os.path.join(ROOT, "include", "ad.h")


def import_mxnet(who):
    """MXNet 1.9.1, the reference of the comparison tests, imported for `who` (the tests that
    need it); the calling module is skipped when it cannot be imported or is another version."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        import mxnet
    except Exception as exc:   # ImportError, or OSError for a broken libmxnet.so
        pytest.skip("MXNet 1.9.1 cannot be imported (%s: %s); %s need it" % (type(exc).__name__, exc, who),
                    allow_module_level=True)
    if mxnet.__version__ != "1.9.1":
        pytest.skip("%s compare with MXNet 1.9.1; found MXNet %s" % (who, mxnet.__version__),
                    allow_module_level=True)
    return mxnet


def libraries(mx):
    """Each library's `nd` and `autograd`, by name, for code that runs in both."""
    import ad
    return {"ad": (ad.nd, ad.autograd), "mx": (mx.nd, mx.autograd)}


def in_both(libs, f):
    """`f(nd, autograd)` in ad and in MXNet (`libs` from `libraries`), each result made
    comparable: arrays as (shape, dtype name, values), lists element by element, exceptions
    (MXNetError, or ad's ValueError, IndexError, TypeError ...) as the word 'error'."""
    out = []
    for lib in ("ad", "mx"):
        try:
            out.append(comparable(f(*libs[lib])))
        except Exception:
            out.append("error")
    return out


def comparable(r):
    """An NDArray as (shape, dtype name, values); lists and tuples element by element."""
    if hasattr(r, "asnumpy"):
        a = r.asnumpy()
        return (tuple(a.shape), np.dtype(a.dtype).name, a.tolist())
    if isinstance(r, (list, tuple)):
        return [comparable(x) for x in r]
    return r


def m23():
    """[[0, 1, 2], [3, 4, 5]] as float32."""
    from ad import nd
    return nd.arange(6).reshape(2, 3)


def rss():
    """This process's resident set size in bytes, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run_python(code, timeout=120, env=None, args=(), cwd=None, quiet=True):
    """Runs `code` in a child interpreter (with `args` as its sys.argv[1:], the variables of
    `env` added to the environment, in the directory `cwd`) and returns what it printed. The
    child must exit with status 0 within `timeout` seconds (a crash, an abort, a hang or a
    deadlock fails the test instead of the run) and, when `quiet`, print nothing on stderr."""
    try:
        proc = subprocess.run([sys.executable, "-c", code] + [str(a) for a in args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, env=dict(os.environ, **(env or {})),
                              cwd=cwd)
    except subprocess.TimeoutExpired:
        pytest.fail("still running after %d s, killed: a hang or a deadlock" % timeout)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 0, "rc=%d\n%s\n%s" % (proc.returncode, out[-3000:], err[-3000:])
    if quiet:
        assert err == "", "something printed on stderr:\n%s" % err
    return out
