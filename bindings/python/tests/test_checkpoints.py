"""Checkpoints: nd.save and nd.load with MXNet's API, in NumPy's formats. Round trips in ad,
ad's files opened by numpy.load, NumPy's files loaded by ad, MXNet 1.9.1's behaviour where
the two agree and where they differ (MXNet writes a binary format of its own), and every
failure as an exception carrying the library's message."""
import contextlib
import io
import os
import pathlib
import re

import numpy as np
import pytest

from ad import nd
from ad.errors import AD_ERR_DTYPE, AD_ERR_FORMAT, AD_ERR_INVALID_ARGUMENT, AD_ERR_IO, ADFormatError, ADIOError
from support import ROOT, import_mxnet


def arrays():
    """float32 and float64, 2-d, 1-d, 0-d, empty, 32 axes (NumPy 1's most), and the values
    that print alike but differ in bits."""
    rng = np.random.RandomState(3)
    special = np.array([np.nan, -0.0, np.inf, -np.inf, 1e-45, 3.4e38], np.float32)
    return [
        rng.standard_normal((3, 4)).astype(np.float32),
        rng.standard_normal(5),
        np.array(2.5),
        np.zeros((0, 3), np.float32),
        np.arange(2.0).reshape((1,) * 31 + (2,)),
        special,
    ]


def same(a, b):
    """Same dtype, shape and bits (so NaN and -0 compare too)."""
    a, b = np.asarray(a), np.asarray(b)
    assert (a.dtype, a.shape) == (b.dtype, b.shape)
    assert a.tobytes() == b.tobytes()


def test_lists_and_dicts_round_trip(tmp_path):
    values = arrays()
    xs = [nd.array(v, dtype=v.dtype) for v in values]
    nd.save(str(tmp_path / "list.npz"), xs)
    loaded = nd.load(str(tmp_path / "list.npz"))
    assert isinstance(loaded, list) and len(loaded) == len(xs)
    for v, y in zip(values, loaded):
        same(v, y.asnumpy())
    named = {"w%d" % i: x for i, x in enumerate(xs)}
    named["poids/é"] = xs[0]
    nd.save(tmp_path / "model.params", named)
    loaded = nd.load(tmp_path / "model.params")
    assert list(loaded) == list(named)
    for k in named:
        same(named[k].asnumpy(), loaded[k].asnumpy())


def test_64_axes_round_trip(tmp_path):
    # NumPy 1 makes at most 32 axes: this one is made and checked in ad.
    shape = (1,) * 63 + (3,)
    x = nd.arange(3).reshape(shape)
    nd.save(str(tmp_path / "deep.npy"), x)
    (y,) = nd.load(str(tmp_path / "deep.npy"))
    assert y.shape == shape and y.reshape((3,)).asnumpy().tolist() == [0, 1, 2]


def test_one_array_is_a_list_of_one_and_npy_files_hold_one(tmp_path):
    x = nd.arange(6).reshape((2, 3))
    nd.save(str(tmp_path / "x"), x)
    (y,) = nd.load(str(tmp_path / "x"))
    same(x.asnumpy(), y.asnumpy())
    nd.save(str(tmp_path / "x.npy"), x)
    assert open(tmp_path / "x.npy", "rb").read(6) == b"\x93NUMPY"
    (y,) = nd.load(str(tmp_path / "x.npy"))
    same(x.asnumpy(), y.asnumpy())


def test_empty_lists_and_dicts_come_back_as_such(tmp_path):
    nd.save(str(tmp_path / "l"), [])
    nd.save(str(tmp_path / "d"), {})
    assert nd.load(str(tmp_path / "l")) == []
    assert nd.load(str(tmp_path / "d")) == {}


def test_loaded_arrays_are_arrays_of_their_own(tmp_path):
    x = nd.ones(3)
    nd.save(str(tmp_path / "c"), {"x": x})
    y = nd.load(str(tmp_path / "c"))["x"]
    y += 1
    assert x.asnumpy().tolist() == [1, 1, 1]
    y.attach_grad()
    from ad import autograd
    with autograd.record():
        z = (y * y).sum()
    z.backward()
    assert y.grad.asnumpy().tolist() == [4, 4, 4]


# ------------------------------------------------------------------ ad -> numpy


def test_ad_checkpoints_open_in_numpy(tmp_path):
    values = arrays()
    xs = [nd.array(v, dtype=v.dtype) for v in values]
    nd.save(str(tmp_path / "list.npz"), xs)
    with np.load(str(tmp_path / "list.npz"), allow_pickle=False) as f:
        assert f.files == ["arr_%d" % i for i in range(len(xs))]
        for i, v in enumerate(values):
            same(v, f["arr_%d" % i])
    nd.save(str(tmp_path / "dict.npz"), {"weight": xs[0], "bias": xs[1]})
    with np.load(str(tmp_path / "dict.npz"), allow_pickle=False) as f:
        assert f.files == ["weight", "bias"]
        same(values[0], f["weight"])
    nd.save(str(tmp_path / "one.npy"), xs[1])
    same(values[1], np.load(str(tmp_path / "one.npy"), allow_pickle=False))


def test_npy_files_are_numpys_bytes(tmp_path):
    v = np.arange(12, dtype=np.float32).reshape(3, 4)
    nd.save(str(tmp_path / "ad.npy"), nd.array(v))
    np.save(str(tmp_path / "np.npy"), v)
    assert open(tmp_path / "ad.npy", "rb").read() == open(tmp_path / "np.npy", "rb").read()


def test_more_entries_than_a_zip_counts_in_16_bits_open_in_numpy(tmp_path):
    # 70,000 entries: the count goes in zip64 end records, which numpy's zipfile reads.
    n = 70000
    xs = [nd.full((1,), i) for i in range(n)]
    nd.save(str(tmp_path / "many.npz"), xs)
    with np.load(str(tmp_path / "many.npz")) as f:
        assert len(f.files) == n
        assert f["arr_69999"].tolist() == [69999.0]
    loaded = nd.load(str(tmp_path / "many.npz"))
    assert len(loaded) == n and loaded[-1].asscalar() == 69999


# ------------------------------------------------------------------ numpy -> ad


def savez(*args, **kwargs):
    return lambda path: np.savez(path, *args, **kwargs)


def savez_compressed(*args, **kwargs):
    return lambda path: np.savez_compressed(path, *args, **kwargs)


A = np.arange(6, dtype=np.float32).reshape(2, 3)
B = np.linspace(-1, 1, 4)

NUMPY_FILES = {
    "savez positional": (savez(A, B), [A, B]),
    "savez named": (savez(w=A, b=B), {"w": A, "b": B}),
    "savez mixed": (savez(A, b=B), {"b": B, "arr_0": A}),
    "savez_compressed": (savez_compressed(w=A, zeros=np.zeros((300, 300), np.float32)),
                         {"w": A, "zeros": np.zeros((300, 300), np.float32)}),
    "savez_compressed positional": (savez_compressed(A, B), [A, B]),
    "save": (lambda p: np.save(p, A), [A]),
    "save fortran": (lambda p: np.save(p, np.asfortranarray(np.arange(24.0).reshape(2, 3, 4))),
                     [np.arange(24.0).reshape(2, 3, 4)]),
    "save big-endian": (lambda p: np.save(p, A.astype(">f8")), [A.astype(np.float64)]),
    "save 0-d": (lambda p: np.save(p, np.float32(7)), [np.array(7, np.float32)]),
    "save empty": (lambda p: np.save(p, np.zeros((2, 0))), [np.zeros((2, 0))]),
    "save 32 axes": (lambda p: np.save(p, np.ones((1,) * 31 + (3,))), [np.ones((1,) * 31 + (3,))]),
}


@pytest.mark.parametrize("case", sorted(NUMPY_FILES))
def test_numpys_files_load_into_ad(tmp_path, case):
    write, expected = NUMPY_FILES[case]
    path = str(tmp_path / ("f.npy" if case.startswith("save ") or case == "save" else "f.npz"))
    write(path)
    loaded = nd.load(path)
    assert type(loaded) is type(expected)
    if isinstance(expected, dict):
        assert list(loaded) == list(expected)
        pairs = [(expected[k], loaded[k]) for k in expected]
    else:
        pairs = list(zip(expected, loaded))
        assert len(loaded) == len(expected)
    for want, got in pairs:
        same(want, got.asnumpy())


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int8", "bool"])
def test_integer_and_bool_arrays_round_trip(tmp_path, dtype):
    path = str(tmp_path / "x.npz")
    x = np.array([0, 1, 2, 255, -1]).astype(dtype)
    np.savez(path, x=x)
    loaded = nd.load(path)["x"]
    assert loaded.dtype == x.dtype and np.array_equal(loaded.asnumpy(), x)
    nd.save(path, {"y": loaded})
    with np.load(path) as f:
        assert f["y"].dtype == x.dtype and np.array_equal(f["y"], x)


@pytest.mark.parametrize("dtype", ["int16", "uint32", "float128", "complex64"])
def test_other_dtypes_are_refused_by_name(tmp_path, dtype):
    path = str(tmp_path / "x.npz")
    np.savez(path, w=np.zeros(2, np.float32), x=np.zeros(2, dtype))
    with pytest.raises(ValueError, match=r"ad_load: .*x\.npz: entry 'x\.npy': its elements are %s" % dtype) as info:
        nd.load(path)
    assert info.value.status == AD_ERR_DTYPE


# ------------------------------------------------------------------ errors


def test_files_that_cannot_be_read_or_written_raise_oserror(tmp_path):
    with pytest.raises(OSError, match=r"ad_load: .*missing\.npz: cannot open it") as info:
        nd.load(str(tmp_path / "missing.npz"))
    assert isinstance(info.value, ADIOError) and info.value.status == AD_ERR_IO
    with pytest.raises(OSError, match="not a regular file"):
        nd.load(str(tmp_path))
    with pytest.raises(OSError, match=r"ad_save: .*x\.npz"):
        nd.save(str(tmp_path / "no" / "such" / "x.npz"), [nd.ones(1)])


def test_corrupt_files_raise_valueerror_naming_the_fault(tmp_path):
    path = tmp_path / "c.npz"
    nd.save(str(path), {"w": nd.arange(100)})
    data = bytearray(path.read_bytes())
    data[200] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"ad_load: .*c\.npz: entry 'w\.npy' is corrupt: its CRC-32") as info:
        nd.load(str(path))
    assert isinstance(info.value, ADFormatError) and info.value.status == AD_ERR_FORMAT
    path.write_bytes(bytes(data[:100]))
    with pytest.raises(ValueError, match="c.npz"):
        nd.load(str(path))
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="the file is empty"):
        nd.load(str(path))


def test_what_mxnet_refuses_ad_refuses_alike(tmp_path):
    path = str(tmp_path / "x")
    with pytest.raises(TypeError, match="save only accept dict str->NDArray or list of NDArray"):
        nd.save(path, {1: nd.ones(1)})
    with pytest.raises(TypeError, match="save only accept dict str->NDArray or list of NDArray"):
        nd.save(path, {"a": np.ones(1)})
    with pytest.raises(TypeError, match="save only accept dict str->NDArray or list of NDArray"):
        nd.save(path, [np.ones(1)])
    with pytest.raises(ValueError, match="data needs to either be a NDArray"):
        nd.save(path, (nd.ones(1),))
    assert not os.path.exists(path)


def test_what_a_file_cannot_hold_is_refused_and_the_file_kept(tmp_path):
    path = tmp_path / "keep.npy"
    path.write_bytes(b"precious")
    with pytest.raises(ValueError, match="a .npy file holds one array") as info:
        nd.save(str(path), [nd.ones(1), nd.ones(2)])
    assert info.value.status == AD_ERR_INVALID_ARGUMENT
    with pytest.raises(ValueError, match="a .npy file holds one array"):
        nd.save(str(path), {"w": nd.ones(1)})
    with pytest.raises(ValueError, match="NUL"):
        nd.save(str(tmp_path / "n.npz"), {"a\0b": nd.ones(1)})
    with pytest.raises(ValueError, match="NUL"):
        nd.save(str(tmp_path / "n\0.npz"), [nd.ones(1)])
    with pytest.raises(TypeError, match="fname"):
        nd.load(3)
    assert path.read_bytes() == b"precious"
    assert sorted(os.listdir(tmp_path)) == ["keep.npy"]


def test_paths_may_be_path_objects_or_bytes(tmp_path):
    nd.save(pathlib.Path(tmp_path) / "p.npz", [nd.ones(2)])
    assert nd.load(os.fsencode(str(tmp_path / "p.npz")))[0].asnumpy().tolist() == [1, 1]


# ------------------------------------------------------------------ MXNet 1.9.1


@pytest.fixture(scope="module")
def mx():
    return import_mxnet("the checkpoint comparisons with MXNet")


@pytest.mark.parametrize("form", ["list", "dict", "one array"])
def test_save_and_load_return_what_mxnet_returns(tmp_path, mx, form):
    values = [np.arange(6, dtype=np.float32).reshape(2, 3), np.array([0.5, -1.5])]
    results = {}
    for lib, module in (("ad", nd), ("mx", mx.nd)):
        xs = [module.array(v, dtype=v.dtype) for v in values]
        data = {"list": xs, "dict": {"weight": xs[0], "bias": xs[1]}, "one array": xs[0]}[form]
        path = str(tmp_path / lib)
        module.save(path, data)
        loaded = module.load(path)
        items = loaded.items() if isinstance(loaded, dict) else enumerate(loaded)
        results[lib] = (type(loaded), [(k, v.asnumpy().dtype, v.asnumpy().tolist()) for k, v in items])
    assert results["ad"] == results["mx"]


def test_mxnet_refuses_what_ad_refuses_with_the_same_exception(mx, tmp_path):
    for bad in ({1: None}, {"a": np.ones(1)}, [np.ones(1)], (None,), 3):
        raised = []
        for module in (nd, mx.nd):
            with pytest.raises((TypeError, ValueError)) as info:
                module.save(str(tmp_path / "x"), bad)
            raised.append((isinstance(info.value, TypeError), str(info.value)))
        assert raised[0] == raised[1], bad


def test_the_formats_differ_and_each_says_so(mx, tmp_path):
    # MXNet writes its own binary format; ad writes NumPy's. Each refuses the other's file,
    # and ad names MXNet's. Weights move between them through numpy.
    mx.nd.save(str(tmp_path / "mx.params"), {"w": mx.nd.ones((2, 2))})
    with pytest.raises(ValueError, match="MXNet's own binary format"):
        nd.load(str(tmp_path / "mx.params"))
    nd.save(str(tmp_path / "ad.params"), {"w": nd.ones((2, 2))})
    with pytest.raises(mx.base.MXNetError):
        mx.nd.load(str(tmp_path / "ad.params"))
    with np.load(str(tmp_path / "ad.params")) as f:
        w = mx.nd.array(f["w"])
    assert w.asnumpy().tolist() == [[1, 1], [1, 1]]


def test_where_ad_differs_from_mxnet(mx, tmp_path):
    # An empty dict: MXNet loads a list, ad the dict that was saved.
    mx.nd.save(str(tmp_path / "mx"), {})
    assert mx.nd.load(str(tmp_path / "mx")) == []
    nd.save(str(tmp_path / "ad"), {})
    assert nd.load(str(tmp_path / "ad")) == {}
    # 0-d arrays: MXNet saves one, then fails to load it back; ad loads it.
    mx.nd.save(str(tmp_path / "mx0"), [mx.nd.array(np.float32(3))])
    with pytest.raises(mx.base.MXNetError):
        mx.nd.load(str(tmp_path / "mx0"))
    nd.save(str(tmp_path / "ad0"), [nd.array(np.float32(3))])
    assert nd.load(str(tmp_path / "ad0"))[0].shape == ()
    # A missing file: MXNet raises MXNetError (a RuntimeError), ad an OSError.
    with pytest.raises(mx.base.MXNetError):
        mx.nd.load(str(tmp_path / "missing"))
    with pytest.raises(OSError):
        nd.load(str(tmp_path / "missing"))


def test_the_readmes_checkpoint_example_prints_what_it_says(tmp_path, monkeypatch):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        section = f.read().split("## Checkpoints", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == "(2, 3) [0. 0. 0.]\n"
    assert "print(f[\"weight\"].shape, f[\"bias\"])    # (2, 3) [0. 0. 0.]" in code


def test_float16_is_saved_and_loaded(tmp_path):
    path = str(tmp_path / "h.npz")
    h = np.array([0.1, -2.5, 65504, np.inf], dtype=np.float16)
    nd.save(path, {"h": nd.array(h, dtype="float16")})
    with np.load(path) as f:
        assert f["h"].dtype == np.float16 and f["h"].tobytes() == h.tobytes()
    back = nd.load(path)["h"]
    assert back.dtype == np.float16 and back.asnumpy().tobytes() == h.tobytes()
