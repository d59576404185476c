"""Exhaustion and hostile shapes from Python. Each case runs in a subprocess with a time limit,
so that a crash, an abort or a hang fails the case instead of the test run, and must leave
stderr empty: the library prints nothing."""
import textwrap

from support import run_python

PRELUDE = r'''
import os
import numpy as np
import ad
from ad import autograd, nd

def raises(kind, fn, needle=""):
    try:
        fn()
    except kind as e:
        assert isinstance(e, ad.ADError), repr(e)
        assert needle in str(e), (needle, str(e))
        return
    raise AssertionError("no %s" % kind.__name__)
'''


def run(code, timeout=120, env=None):
    run_python(PRELUDE + textwrap.dedent(code), timeout, env)


def test_a_result_that_cannot_be_allocated_is_a_memory_error():
    run('''
        x = nd.zeros((0, 2 ** 40))
        for f in (lambda: x.sum(axis=0), lambda: x.mean(axis=0), lambda: x.norm(axis=0)):
            raises(MemoryError, f, "allocate")
        assert x.sum(axis=1).shape == (0,)
        raises(MemoryError, lambda: nd.one_hot(nd.ones(1), 2 ** 40))
        raises(MemoryError, lambda: nd.ones(1).broadcast_to((2 ** 40,)))
    ''')


def test_under_a_limited_address_space_ops_fail_instead_of_aborting():
    # One thread: the pool's threads would take address space of their own.
    run('''
        import resource
        x = nd.full((8 << 20,), 2.0)           # 32 MiB
        with open("/proc/self/statm") as f:
            in_use = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (in_use + (44 << 20), resource.RLIM_INFINITY))
        # room for asnumpy's own array, not for a copy of x besides; kept, it leaves no room
        # for a new array of x's size either
        a = x.asnumpy()
        assert a[0] == 2 and a[-1] == 2
        assert nd.argmax(x, axis=0).asscalar() == 0
        assert nd.argmin(x).asscalar() == 0
        for f in (lambda: nd.exp(x), lambda: x.astype("float64"), lambda: nd.where(x, x, x), lambda: x.copy()):
            raises(MemoryError, f, "allocate")
        assert x.sum().asscalar() == 2 * (8 << 20)
    ''', env={"AD_NUM_THREADS": "1"})


def test_ops_on_empty_arrays_cost_no_more_than_their_output():
    # (2^40, 0) arrays: these walked 2^40 empty lanes, for hours.
    run('''
        x = nd.zeros((2 ** 40, 0))
        x.attach_grad()
        assert x.sum(axis=0).shape == (0,)
        assert x.mean(axis=0).shape == (0,)
        assert x.norm(axis=0).shape == (0,)
        assert x.max(axis=0).shape == (0,)
        assert nd.softmax(x, axis=0).shape == (2 ** 40, 0)
        assert nd.log_softmax(x, axis=0).shape == (2 ** 40, 0)
        assert x.T.shape == (0, 2 ** 40)
        assert nd.concat(x, x, dim=0).shape == (2 ** 41, 0)
        assert nd.argmax(x, axis=0).shape == (0,)
        assert nd.one_hot(x, 5).shape == (2 ** 40, 0, 5)
        with autograd.record():
            y = nd.softmax(x, axis=0).sum(axis=0)
        y.backward()
        assert x.grad.shape == (2 ** 40, 0)
    ''', timeout=60)


def test_hostile_shapes_are_errors_that_say_so():
    run('''
        raises(ValueError, lambda: nd.zeros((0, 2 ** 63)), "(0, 9223372036854775808)")
        raises(ValueError, lambda: nd.ones((2 ** 62, 8, 0)), "no elements")
        x = nd.zeros((0, 2 ** 59))
        x.attach_grad()
        assert x.T.shape == (2 ** 59, 0)
        assert x.max(axis=1).shape == (0,)
        assert x.sum().asscalar() == 0
        assert x.norm().asscalar() == 0
        assert nd.softmax(x, axis=1).shape == (0, 2 ** 59)
        assert nd.log_softmax(x).shape == (0, 2 ** 59)
        raises(ValueError, lambda: x.min(axis=0), "zero-size")
        raises(MemoryError, lambda: x.mean(axis=0), "allocate")
        raises(ValueError, lambda: nd.concat(x, x, dim=1), "concat")
        assert nd.concat(x, x, dim=0).shape == (0, 2 ** 59)
        raises(ValueError, lambda: x.reshape((2 ** 62, 0, 4)))
        with autograd.record():
            y = nd.log_softmax(x, axis=1).norm(axis=1)
        y.backward()
        assert x.grad.shape == (0, 2 ** 59)
        # bounds at the ends of int64
        v = nd.arange(4)
        assert v[1:-2 ** 63:2].shape == (0,)
        assert v[::2 ** 63 - 1].shape == (1,)
        assert v[::-2 ** 63].asscalar() == 3
        raises(IndexError, lambda: v[-2 ** 63])
        raises(ValueError, lambda: v.sum(axis=-2 ** 63), "axis")
    ''')


def test_arrays_have_at_most_64_axes():
    run('''
        raises(ValueError, lambda: nd.zeros((1,) * 65), "64")
        raises(ValueError, lambda: nd.zeros((1,) * 12000), "64")
        deep = nd.ones((1,) * 64)
        assert deep.shape == (1,) * 64
        text = repr(deep)
        assert text.startswith("\\n" + "[" * 64 + "1.") and text.endswith("@cpu(0)>"), text[:80]
        raises(ValueError, lambda: deep.reshape((1,) * 65), "64")
        raises(ValueError, lambda: deep.broadcast_to((1,) * 65), "64")
        raises(ValueError, lambda: nd.stack(deep, deep), "64")
        raises(ValueError, lambda: nd.one_hot(deep, 3), "64")
        assert (deep + nd.ones(2)).shape == (1,) * 63 + (2,)
    ''')


def test_release_cached_memory_gives_freed_memory_back():
    run('''
        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        ad.release_cached_memory()
        base = rss()
        xs = [nd.ones((2 << 20,)) for _ in range(40)]     # 40 arrays of 8 MiB
        del xs
        assert rss() > base + (200 << 20), "the freed arrays' memory is cached for reuse"
        assert ad.release_cached_memory() == 320 << 20
        assert rss() < base + (32 << 20), "%d MiB stayed" % ((rss() - base) >> 20)
        assert ad.release_cached_memory() == 0
    ''', env={"AD_NUM_THREADS": "1"})
