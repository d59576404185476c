"""The package's view of the C ABI agrees with include/ad.h: every function it declares for
ctypes (ad._lib.SIGNATURES, the op table's included) has the header's parameter and return
types, every library function its code calls is declared, and its copies of the header's
enums have the header's values."""
import ctypes
import os
import re

import pytest

import ad
from ad import _helpers, _lib, _ops, errors
from support import HEADER

# C types, as the parser below spells them (no `const`, no spaces), and their ctypes types.
CTYPES = {
    "void": None,
    "bool": ctypes.c_bool,
    "double": ctypes.c_double,
    "uint32_t": ctypes.c_uint32,
    "uint64_t": ctypes.c_uint64,
    "int64_t": ctypes.c_int64,
    "size_t": ctypes.c_size_t,
    "ad_status": ctypes.c_uint32,       # an enum of small values, passed as a 32-bit int
    "char*": ctypes.c_char_p,
    "void*": ctypes.c_void_p,
    "ad_array*": ctypes.c_void_p,       # handles are opaque pointers
    "ad_array**": ctypes.POINTER(ctypes.c_void_p),
    "ad_index*": ctypes.POINTER(_lib.Index),
    "ad_function*": ctypes.c_void_p,
    "ad_function**": ctypes.POINTER(ctypes.c_void_p),
    "ad_function_context*": ctypes.c_void_p,
    "ad_function_callbacks*": ctypes.POINTER(_lib.FunctionCallbacks),
    "ad_borrow*": ctypes.c_void_p,
    "ad_borrow**": ctypes.POINTER(ctypes.c_void_p),
    "DLManagedTensorVersioned*": ctypes.c_void_p,
    "DLManagedTensorVersioned**": ctypes.POINTER(ctypes.c_void_p),
    "DLManagedTensor*": ctypes.c_void_p,
    "DLManagedTensor**": ctypes.POINTER(ctypes.c_void_p),
    "void**": ctypes.POINTER(ctypes.c_void_p),
    "ad_release_fn": ctypes.c_void_p,
    "ad_grad_hook": _lib.GRAD_HOOK,
    "ad_destroy_fn": _lib.DESTROY,
    "bool*": ctypes.POINTER(ctypes.c_bool),
    "double*": ctypes.POINTER(ctypes.c_double),
    "uint32_t*": ctypes.POINTER(ctypes.c_uint32),
    "int64_t*": ctypes.POINTER(ctypes.c_int64),
    "size_t*": ctypes.POINTER(ctypes.c_size_t),
    "char**": ctypes.POINTER(ctypes.c_char_p),
    "ad_checkpoint*": ctypes.POINTER(_lib.Checkpoint),
    "ad_checkpoint**": ctypes.POINTER(ctypes.POINTER(_lib.Checkpoint)),
}


def _header():
    with open(HEADER) as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"^\s*#[^\n]*", "", text, flags=re.M)


def _c_type(text):
    """A declaration's type without qualifiers or spaces: `const ad_array *const *` is
    `ad_array**`."""
    return re.sub(r"\bconst\b|\s+", "", text)


def header_prototypes():
    """{name: (return type, [parameter types])} for every function ad.h declares."""
    found = {}
    for m in re.finditer(r"([A-Za-z_][\w\s*]*?)\b(ad_\w+)\s*\(([^()]*)\)\s*;", _header()):
        ret, name, params = m.groups()
        types = []
        for param in params.split(","):
            param = param.strip()
            if param and param != "void":
                # the last word is the parameter's name
                types.append(_c_type(re.match(r"(.*?)\w+$", param, re.S).group(1)))
        found[name] = (_c_type(ret), types)
    return found


def header_enums():
    """{constant: value} for every enum ad.h defines."""
    found = {}
    for body in re.findall(r"typedef\s+enum\s*\{(.*?)\}", _header(), re.S):
        for name, value in re.findall(r"(\w+)\s*=\s*(-?\d+)", body):
            found[name] = int(value)
    return found


def _name(t):
    return "void" if t is None else t.__name__


def test_the_parser_reads_the_header():
    protos = header_prototypes()
    assert protos["ad_array_create"] == ("ad_status", ["void*", "size_t*", "size_t", "uint32_t", "ad_array**"])
    assert protos["ad_backward_ex"][1][:2] == ["ad_array**", "ad_array**"]
    assert protos["ad_version"] == ("char*", [])
    assert len(protos) > 100
    unknown = sorted({t for ret, params in protos.values() for t in [ret] + params} - set(CTYPES))
    assert unknown == [], "types of ad.h this test cannot map to ctypes: %s" % unknown


def test_every_declared_function_matches_its_prototype_in_the_header():
    protos = header_prototypes()
    mismatches = []
    for name, (restype, argtypes) in sorted(_lib.SIGNATURES.items()):
        if name not in protos:
            mismatches.append("%s: declared in ad/_lib.py, absent from ad.h" % name)
            continue
        c_ret, c_params = protos[name]
        if CTYPES[c_ret] is not restype:
            mismatches.append("%s: returns %s in ad.h, %s in ad/_lib.py" % (name, c_ret, _name(restype)))
        if len(c_params) != len(argtypes):
            mismatches.append("%s: %d parameters in ad.h, %d in ad/_lib.py" % (name, len(c_params), len(argtypes)))
            continue
        for i, (c, py) in enumerate(zip(c_params, argtypes)):
            if CTYPES[c] is not py:
                mismatches.append("%s: parameter %d is %s in ad.h, %s in ad/_lib.py" % (name, i + 1, c, _name(py)))
    assert not mismatches, "ad/_lib.py disagrees with include/ad.h:\n" + "\n".join(mismatches)


def test_the_loaded_functions_carry_the_declared_types():
    for name, (restype, argtypes) in _lib.SIGNATURES.items():
        f = getattr(_lib.lib, name)
        assert f.restype is restype and tuple(f.argtypes) == tuple(argtypes), name


def test_every_op_of_the_table_is_declared_from_its_kind():
    for op in _ops.OPS:
        for name in (op.c, op.scalar, op.rscalar):
            if name is not None:
                assert name in _lib.SIGNATURES, "%s (op %s) is not declared" % (name, op.name)


def test_every_element_wise_op_of_the_header_is_in_the_table():
    # ad_f(const ad_array *a, ad_array **out): the ops of one array (ad_array_* are the array
    # functions, written out in ad/ndarray.py).
    unary = [name for name, (ret, params) in header_prototypes().items()
             if ret == "ad_status" and params == ["ad_array*", "ad_array**"] and not name.startswith("ad_array_")]
    in_table = {op.c for op in _ops.OPS}
    # flatten has arguments of its own in ad/nd (MXNet's Flatten), outside the table; the
    # shuffle is nd.random.shuffle (ad/nd/random.py), a draw rather than an op.
    missing = sorted(set(unary) - in_table - {"ad_flatten", "ad_random_shuffle"})
    assert len(unary) > 40 and not missing, "ops of ad.h without a line in ad/_ops.py: %s" % missing


def test_the_package_calls_only_declared_functions():
    # An undeclared function would be called with ctypes' defaults (int arguments, an int
    # result): wrong for pointers and doubles.
    root = os.path.dirname(ad.__file__)
    undeclared = set()
    for folder, _, files in os.walk(root):
        for f in files:
            if f.endswith(".py"):
                with open(os.path.join(folder, f)) as source:
                    undeclared |= set(re.findall(r"\blib\.(ad_\w+)", source.read())) - set(_lib.SIGNATURES)
    assert undeclared == set()


def test_the_package_copies_of_the_header_enums_agree():
    enums = header_enums()
    statuses = {name: value for name, value in enums.items() if name.startswith("AD_ERR_")}
    ours = {name: getattr(errors, name) for name in dir(errors) if name.startswith("AD_ERR_")}
    assert ours == statuses
    assert (_helpers.FLOAT32, _helpers.FLOAT64) == (enums["AD_FLOAT32"], enums["AD_FLOAT64"])
    assert _helpers.GRAD_REQ == {"null": enums["AD_GRAD_NULL"], "write": enums["AD_GRAD_WRITE"],
                                 "add": enums["AD_GRAD_ADD"]}


def test_a_mismatch_is_reported_by_function_name(monkeypatch):
    # the check above, against a declaration made wrong on purpose
    name = "ad_clip"
    monkeypatch.setitem(_lib.SIGNATURES, name, (ctypes.c_uint32, [ctypes.c_void_p, ctypes.c_uint32,
                                                                   ctypes.c_double, _lib.HP]))
    with pytest.raises(AssertionError, match=r"ad_clip: parameter 2 is double in ad.h, c_uint"):
        test_every_declared_function_matches_its_prototype_in_the_header()
