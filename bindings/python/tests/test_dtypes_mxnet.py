"""Differential tests of integer and bool arrays against MXNet 1.9.1: the text `print` shows,
`astype` between every pair of dtypes (NaN, infinities and values out of range included), the
dtypes and values of what the creation, shape and indexing functions make of them, and
`randint`'s default dtype. The arithmetic and comparisons that MXNet also computes on integer
arrays are refused by ad (README, "Differences from MXNet"), which test_dtypes.py pins.
"""
import random

import numpy as np
import pytest

from support import import_mxnet, in_both, libraries

mx = import_mxnet("the differential tests")
LIBS = libraries(mx)
INTS = ["uint8", "int8", "int32", "int64"]
ALL = ["float32", "float64"] + INTS + ["bool"]


def both(f):
    return in_both(LIBS, f)


def same(f):
    a, m = both(f)
    assert repr(a) == repr(m), "ad %r\nmx %r" % (a, m)    # repr: NaN equals NaN
    assert a != "error", "both failed"
    return a


def draw_ints(rng, dtype, shape):
    info = np.iinfo(dtype)
    # small numbers mostly (the common case), the type's extremes sometimes
    v = rng.integers(-20, 300, size=shape) if rng.random() < 0.7 else rng.integers(info.min, info.max, size=shape,
                                                                                   endpoint=True)
    return v.astype(dtype)


@pytest.mark.parametrize("seed", range(40))
def test_printing_matches_mxnet(seed):
    rng = np.random.default_rng(seed)
    dtype = ALL[2 + seed % 5]
    ndim = 1 + seed % 3
    shape = tuple(int(d) for d in rng.integers(1, 6, size=ndim))
    if seed % 10 == 9:
        shape = (1201,) if ndim == 1 else (40, 31)    # summarised with '...'
    v = (rng.integers(0, 2, size=shape).astype(bool) if dtype == "bool" else draw_ints(rng, dtype, shape))
    texts = [repr(nd.array(v, dtype=dtype)) for nd, _ in LIBS.values()]
    assert texts[0] == texts[1], "ad:%s\nmx:%s" % tuple(texts)


@pytest.mark.parametrize("src", ALL)
@pytest.mark.parametrize("dst", ALL)
def test_astype_matches_mxnet(src, dst):
    if src.startswith("float"):
        v = np.array([0, 1.7, -1.7, 2.5, -0.5, np.nan, np.inf, -np.inf, 300, -129, 255.9, 3e9, -3e9, 1e20, 7e4],
                     dtype=src)
    elif src == "bool":
        v = np.array([True, False, True])
    else:
        info = np.iinfo(src)
        v = np.array([0, 1, -1, 127, 128, 255, 256, 300, info.min, info.max]).astype(src)
    same(lambda nd, ag: nd.array(v, dtype=src).astype(dst))


@pytest.mark.parametrize("dtype", INTS + ["bool"])
def test_creation_and_shape_functions_match_mxnet(dtype):
    rng = np.random.default_rng(7)
    v = (rng.integers(0, 2, size=(2, 3, 4)).astype(bool) if dtype == "bool"
         else draw_ints(rng, dtype, (2, 3, 4)))
    x = lambda nd: nd.array(v, dtype=dtype)   # noqa: E731
    cases = {
        "zeros": lambda nd, ag: nd.zeros((2, 3), dtype=dtype),
        "ones": lambda nd, ag: nd.ones((3,), dtype=dtype),
        "full": lambda nd, ag: nd.full((2,), 3.7, dtype=dtype),
        "reshape": lambda nd, ag: x(nd).reshape((4, 6)),
        "T": lambda nd, ag: x(nd).T,
        "slice": lambda nd, ag: x(nd)[1, 1:],
        "transpose": lambda nd, ag: x(nd).transpose((2, 0, 1)),
        "concat": lambda nd, ag: nd.concat(x(nd), x(nd), dim=1),
        "stack": lambda nd, ag: nd.stack(x(nd), x(nd), axis=2),
        "expand_dims": lambda nd, ag: x(nd).expand_dims(1),
        "flip": lambda nd, ag: nd.flip(x(nd), axis=2),
        "tile": lambda nd, ag: nd.tile(x(nd), (1, 2, 1)),
        "repeat": lambda nd, ag: nd.repeat(x(nd), 2, axis=1),
        "split": lambda nd, ag: nd.split(x(nd), 2, axis=2),
        "swapaxes": lambda nd, ag: nd.swapaxes(x(nd), 0, 1),
        "broadcast_to": lambda nd, ag: nd.broadcast_to(x(nd)[:, :1], (2, 5, 4)),
        "flatten": lambda nd, ag: x(nd).flatten(),
        "take": lambda nd, ag: nd.take(x(nd), nd.array([2, 0], dtype="int32"), axis=1),
        "arange": lambda nd, ag: nd.arange(0, 5, 1.5, dtype=dtype),
        "eye": lambda nd, ag: nd.eye(3, dtype=dtype),
    }
    # MXNet 1.9.1 has no bool arange or eye, and refuses bool arrays in these (ad moves them:
    # test_dtypes.py)
    mxnet_refuses = {"arange", "eye", "T", "transpose", "concat", "flip", "split", "swapaxes"} if dtype == "bool" else set()
    for name, f in cases.items():
        if name in mxnet_refuses:
            a, m = both(f)
            assert m == "error" and a != "error", (name, a, m)
        else:
            same(f)


def test_integer_positions_and_one_hot_match_mxnet():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    for dtype in ("int32", "int64"):
        same(lambda nd, ag: nd.pick(nd.array(x), nd.array([3, 0, 1], dtype=dtype), axis=1))
        same(lambda nd, ag: nd.one_hot(nd.array([3, 0, 1], dtype=dtype), 4, dtype=dtype))
        same(lambda nd, ag: nd.take(nd.array(x), nd.array([[2, 0]], dtype=dtype)))
        same(lambda nd, ag: nd.array([[3, 1, 2], [0, 5, 4]]).argsort(dtype=dtype))
        same(lambda nd, ag: nd.array([[3, 1, 2], [0, 5, 4]]).topk(k=2, dtype=dtype))


def test_randint_default_dtype_matches_mxnet():
    a, m = both(lambda nd, ag: nd.random.randint(0, 5, shape=(3,)).dtype)
    assert a == m == np.int32
    a, m = both(lambda nd, ag: nd.random.randint(0, 5, shape=(3,), dtype="int64").dtype)
    assert a == m == np.int64


def test_random_programs_of_element_moves():
    """Chains of element-moving ops on random integer arrays give MXNet's arrays."""
    rng = random.Random(11)
    for _ in range(60):
        dtype = rng.choice(INTS)
        v = draw_ints(np.random.default_rng(rng.randrange(1 << 30)), dtype, (3, 4))
        steps = [rng.choice(["T", "flip", "tile", "slice", "concat", "reshape", "expand"]) for _ in range(3)]

        def program(nd, ag, v=v, dtype=dtype, steps=steps):
            x = nd.array(v, dtype=dtype)
            for s in steps:
                if s == "T":
                    x = x.T
                elif s == "flip":
                    x = nd.flip(x, axis=0)
                elif s == "tile":
                    x = nd.tile(x, (2,) + (1,) * (x.ndim - 1))
                elif s == "slice" and x.shape[0] > 1:   # MXNet cannot make an empty array
                    x = x[1:]
                elif s == "concat":
                    x = nd.concat(x, x, dim=x.ndim - 1)
                elif s == "reshape":
                    x = x.reshape((-1,))
                else:
                    x = x.expand_dims(0)
            return x

        same(program)


@pytest.mark.parametrize("dtype", INTS)
def test_integer_arithmetic_matches_mxnet(dtype):
    """+ - * and the comparisons (arrays, with broadcasting, and numbers) and sum, in the
    array's type as MXNet computes them: wrapping around, a number converted to the type first."""
    rng = np.random.default_rng(5)
    scalars = [0, 1, -1, 1.9, -1.9, 2.5, 300, -300, 1e10]
    for _ in range(12):
        v, w = draw_ints(rng, dtype, (3, 4)), draw_ints(rng, dtype, (1, 4))
        x = lambda nd: nd.array(v, dtype=dtype)   # noqa: E731
        y = lambda nd: nd.array(w, dtype=dtype)   # noqa: E731
        for f in (lambda a, b: a + b, lambda a, b: a - b, lambda a, b: b - a, lambda a, b: a * b,
                  lambda a, b: a == b, lambda a, b: a != b, lambda a, b: a < b, lambda a, b: a <= b,
                  lambda a, b: a > b, lambda a, b: a >= b):
            same(lambda nd, ag: f(x(nd), y(nd)))
            for s in scalars:
                same(lambda nd, ag: f(x(nd), s))
        same(lambda nd, ag: x(nd).sum())
        same(lambda nd, ag: x(nd).sum(axis=0))
        same(lambda nd, ag: nd.sum(x(nd), axis=1, keepdims=True))
        same(lambda nd, ag: (x(nd) == y(nd)).sum())
