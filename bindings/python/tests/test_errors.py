"""Failures: each raises ad.ADError carrying the library's message (which names the function,
the argument and the shapes at fault), and is also the built-in type MXNet or Python raises
for it. Garbage input never crashes the process."""
import ctypes
import json
import textwrap
import threading

import numpy as np
import pytest

import ad
from ad import _lib, autograd, nd
from ad.errors import (AD_ERR_ALLOC, AD_ERR_AUTOGRAD, AD_ERR_DTYPE, AD_ERR_INDEX, AD_ERR_INVALID_ARGUMENT,
                       AD_ERR_INVALID_HANDLE, AD_ERR_NULL_ARGUMENT, AD_ERR_SHAPE)
from ad.ndarray import NDArray
from support import m23, run_python


def recorded():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = x * x
    return x, y


# (what to call, built-in type, ad_status, regex the message must match)
CASES = {
    "add_shapes": (lambda: m23() + nd.ones(4), ValueError, AD_ERR_SHAPE,
                   r"^ad_add: .*\(2, 3\).*\(4,\)"),
    "sub_shapes": (lambda: nd.ones((3, 2)) - nd.ones((2, 3)), ValueError, AD_ERR_SHAPE,
                   r"^ad_sub: .*\(3, 2\).*\(2, 3\)"),
    "mul_shapes": (lambda: nd.ones(2) * nd.ones(3), ValueError, AD_ERR_SHAPE, r"^ad_mul: .*\(2,\).*\(3,\)"),
    "div_shapes": (lambda: nd.ones(2) / nd.ones(3), ValueError, AD_ERR_SHAPE, r"^ad_div: .*\(2,\).*\(3,\)"),
    "pow_shapes": (lambda: nd.ones(2) ** nd.ones(3), ValueError, AD_ERR_SHAPE, r"^ad_pow: .*\(2,\).*\(3,\)"),
    "maximum_shapes": (lambda: nd.maximum(nd.ones(2), nd.ones(3)), ValueError, AD_ERR_SHAPE,
                       r"^ad_maximum: .*\(2,\).*\(3,\)"),
    "minimum_shapes": (lambda: nd.minimum(nd.ones(2), nd.ones(3)), ValueError, AD_ERR_SHAPE,
                       r"^ad_minimum: .*\(2,\).*\(3,\)"),
    "compare_shapes": (lambda: nd.ones(2) < nd.ones(3), ValueError, AD_ERR_SHAPE, r"^ad_compare: .*\(2,\).*\(3,\)"),
    "dtype_mismatch": (lambda: nd.ones(2) + nd.ones(2, dtype="float64"), ValueError, AD_ERR_DTYPE,
                       r"^ad_add: .*float32.*float64"),
    "dot_shapes": (lambda: nd.dot(m23(), m23()), ValueError, AD_ERR_SHAPE, r"^ad_dot: .*\(2, 3\).*\(2, 3\)"),
    "dot_ndim": (lambda: nd.dot(nd.ones((1, 2, 3)), nd.ones(2)), ValueError, AD_ERR_SHAPE,
                 r"^ad_dot: .*\(1, 2, 3\).*aligned"),
    "batch_dot": (lambda: nd.batch_dot(nd.ones((2, 2, 3)), nd.ones((3, 3, 2))), ValueError, AD_ERR_SHAPE,
                  r"^ad_batch_dot: .*\(2, 2, 3\).*\(3, 3, 2\)"),
    "reshape": (lambda: m23().reshape(4, 2), ValueError, AD_ERR_SHAPE, r"^ad_array_reshape_codes: .*\(2, 3\).*[(\[]4, 2[)\]]"),
    "reshape_two_unknowns": (lambda: m23().reshape(-1, -1), ValueError, AD_ERR_SHAPE, r"^ad_array_reshape_codes: .*-1"),
    "transpose_repeat": (lambda: m23().transpose((0, 0)), ValueError, AD_ERR_SHAPE,
                         r"^ad_array_transpose: .*\[0, 0\]"),
    "transpose_count": (lambda: m23().transpose((0, 1, 2)), ValueError, AD_ERR_SHAPE, r"^ad_array_transpose: "),
    "broadcast_to": (lambda: m23().broadcast_to((4, 3)), ValueError, AD_ERR_SHAPE,
                     r"^ad_array_broadcast_to: .*\(2, 3\).*\(4, 3\)"),
    "sum_axis": (lambda: m23().sum(axis=5), ValueError, AD_ERR_SHAPE, r"^ad_sum: axis 5 .*2 dimensions"),
    "mean_axis": (lambda: m23().mean(axis=-3), ValueError, AD_ERR_SHAPE, r"^ad_mean: axis -3"),
    "norm_twice": (lambda: m23().norm(axis=(0, 0)), ValueError, AD_ERR_SHAPE, r"^ad_norm: axis 0 is given twice"),
    "max_empty": (lambda: nd.zeros((0, 3)).max(), ValueError, AD_ERR_SHAPE, r"^ad_max: .*\(0, 3\)"),
    "min_empty_axis": (lambda: nd.zeros((0, 3)).min(axis=0), ValueError, AD_ERR_SHAPE, r"^ad_min: .*\(0, 3\)"),
    "asscalar": (lambda: m23().asscalar(), ValueError, AD_ERR_SHAPE, r"^ad_array_asscalar: .*\(2, 3\)"),
    "index_row": (lambda: m23()[2], IndexError, AD_ERR_INDEX, r"^ad_array_slice: index 2 .*axis 0 with size 2"),
    "index_negative": (lambda: m23()[-3], IndexError, AD_ERR_INDEX, r"^ad_array_slice: index -3 .*axis 0"),
    "index_column": (lambda: m23()[:, 3], IndexError, AD_ERR_INDEX, r"^ad_array_slice: index 3 .*axis 1 with size 3"),
    "setitem_index": (lambda: m23().__setitem__(7, 1.0), IndexError, AD_ERR_INDEX, r"^ad_array_write_slice: index 7"),
    "setitem_shape": (lambda: m23().__setitem__(0, nd.ones(2)), ValueError, AD_ERR_SHAPE,
                      r"^ad_array_write_slice: .*\(2,\).*\(3,\)"),
    "arange_step": (lambda: nd.arange(0, 3, 0), ValueError, AD_ERR_INVALID_ARGUMENT, r"^ad_array_arange: .*step 0"),
    "arange_nan": (lambda: nd.arange(0, float("nan")), ValueError, AD_ERR_INVALID_ARGUMENT,
                   r"^ad_array_arange: .*NaN"),
    "normal_scale": (lambda: nd.random.normal(0, -1, shape=2), ValueError, AD_ERR_INVALID_ARGUMENT,
                     r"^ad_random_normal: .*scale -1"),
    "normal_nan": (lambda: nd.random.normal(float("nan"), 1, shape=2), ValueError, AD_ERR_INVALID_ARGUMENT,
                   r"^ad_random_normal: .*loc NaN"),
    "uniform_order": (lambda: nd.random.uniform(1, 0, shape=2), ValueError, AD_ERR_INVALID_ARGUMENT,
                      r"^ad_random_uniform: .*low 1, high 0"),
    "huge_shape": (lambda: nd.zeros((2 ** 62, 2 ** 62)), MemoryError, AD_ERR_ALLOC,
                   r"^ad_array_zeros: argument `shape`: .*\(4611686018427387904, 4611686018427387904\) overflows"),
    "huge_alloc": (lambda: nd.ones((2 ** 50,)), MemoryError, AD_ERR_ALLOC, r"^ad_array_ones: .*allocate"),
    "huge_random": (lambda: nd.random.normal(shape=(2 ** 33, 2 ** 33)), MemoryError, AD_ERR_ALLOC,
                    r"^ad_random_normal: argument `shape`"),
    "backward_twice": (lambda: [y.backward() for y in [recorded()[1]] * 2], RuntimeError, AD_ERR_AUTOGRAD,
                       r"^ad_backward_ex: .*retain_graph"),
    "backward_no_history": (lambda: nd.ones(2).backward(), RuntimeError, AD_ERR_AUTOGRAD,
                            r"^ad_backward_ex: head 0 \(shape \(2,\)\) has no recorded history"),
    "head_grad_shape": (lambda: recorded()[1].backward(nd.ones(4)), ValueError, AD_ERR_SHAPE,
                        r"^ad_backward_ex: .*\(4,\).*\(3,\)|^ad_backward_ex: .*\(3,\).*\(4,\)"),
    "mark_variables_shape": (lambda: autograd.mark_variables([nd.ones(2)], [nd.ones(3)]), ValueError, AD_ERR_SHAPE,
                             r"^ad_array_attach_grad_with: .*\(3,\).*\(2,\)|^ad_array_attach_grad_with: .*\(2,\).*\(3,\)"),
    "retain_grad_leaf": (lambda: nd.ones(2).retain_grad(), RuntimeError, AD_ERR_AUTOGRAD,
                         r"^ad_array_retain_grad: "),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_library_errors(name):
    call, builtin, status, pattern = CASES[name]
    with pytest.raises(ad.ADError, match=pattern) as info:
        call()
    assert isinstance(info.value, builtin)
    assert info.value.status == status
    assert str(info.value) == info.value.args[0]


def test_write_into_graph_inside_record():
    x, y = recorded()
    with autograd.record():
        z = x * 2
        with pytest.raises(ad.ADError, match=r"^ad_array_write_slice: .*\(3,\).*record scope") as info:
            z[0] = 1
        with pytest.raises(ad.ADError, match=r"^ad_array_write_slice: .*recorded value") as info2:
            nd.zeros(3)[:] = z
    assert isinstance(info.value, RuntimeError) and isinstance(info2.value, RuntimeError)
    assert info.value.status == AD_ERR_AUTOGRAD


@pytest.mark.parametrize("call, pattern", [
    (lambda: nd.zeros((-1, 3)), r"argument `shape`: \(-1, 3\) has a size -1"),
    (lambda: nd.ones((2, -3)), r"argument `shape`: \(2, -3\)"),
    (lambda: nd.full((2 ** 64, 1), 1), r"argument `shape`: .*18446744073709551616"),
    (lambda: nd.random.uniform(shape=(-2,)), r"argument `shape`"),
    (lambda: nd.arange(6).reshape(2 ** 64 + 6), r"argument `shape`: .*does not fit in 64 bits"),
    (lambda: m23().sum(axis=2 ** 63), r"argument `axis`"),
    (lambda: m23().transpose((0, 2 ** 70)), r"argument `axes`"),
    (lambda: nd.zeros(2, dtype="int16"), r"dtype 'int16'"),
    (lambda: nd.array([1], dtype=np.uint16), r"uint16"),
    (lambda: nd.zeros(2).astype("uint16"), r"uint16"),
    (lambda: nd.zeros(2, dtype="int32") / 2, r"ad_div_scalar: argument `a` holds int32 elements.*astype"),
    (lambda: nd.zeros(2, dtype="bool").attach_grad(), r"bool are not differentiable"),
    (lambda: nd.zeros(2, ctx=ad.gpu()), r"gpu\(0\)"),
    (lambda: nd.array([1], ctx=ad.gpu(1)), r"gpu\(1\)"),
    (lambda: nd.zeros(2).attach_grad("sometimes"), r"grad_req.*sometimes"),
    (lambda: nd.zeros(2).norm(ord=3), r"ord=3"),
    (lambda: bool(nd.zeros(2)), r"ambiguous"),
    (lambda: autograd.mark_variables([nd.ones(1)], [nd.ones(1), nd.ones(1)]), r"1 variables but 2 gradients"),
])
def test_python_side_value_errors_are_ad_errors(call, pattern):
    # ctypes would silently wrap a negative or too large size, so the binding refuses them.
    with pytest.raises(ad.ADError, match=pattern) as info:
        call()
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("call, pattern", [
    (lambda: m23()[0, 0, 0], r"too many indices \(3\) for an array of shape \(2, 3\)"),
    (lambda: nd.arange(4)[2 ** 64 + 1], r"18446744073709551617"),
    (lambda: nd.arange(4)[-2 ** 70], r"out of bounds"),
])
def test_python_side_index_errors_are_ad_errors(call, pattern):
    with pytest.raises(ad.ADError, match=pattern) as info:
        call()
    assert isinstance(info.value, IndexError)


def test_wrapped_integers_never_select_an_element():
    # 2**64 + 1 wraps to 1 in a size_t; it must not quietly read element 1.
    x = nd.arange(4)
    with pytest.raises(IndexError):
        x[2 ** 64 + 1]
    with pytest.raises(ValueError):
        x.reshape(2 ** 64 + 4)


@pytest.mark.parametrize("call, keyword", [
    (lambda: nd.softmax(nd.ones(2), use_length=True), "use_length"),
    (lambda: nd.norm(m23(), axis=0, exclude=True), "exclude"),   # MXNet's norm has none either
    (lambda: nd.FullyConnected(nd.ones((1, 2)), nd.ones((3, 2)), name="fc"), "name"),
    (lambda: nd.concat(nd.ones(2), nd.ones(2), dim=0, num_args=2), "num_args"),
    (lambda: nd.stack(nd.ones(2), num_args=1), "num_args"),
    (lambda: nd.Dropout(nd.ones(2), cudnn_off=True), "cudnn_off"),
    (lambda: nd.BatchNorm(nd.ones((2, 3)), nd.ones(3), nd.zeros(3), nd.zeros(3), nd.ones(3), output_mean_var=True),
     "output_mean_var"),
    (lambda: nd.random.normal(shape=2, foo=1), "foo"),
    (lambda: nd.random.uniform(shape=2, seed=1), "seed"),
    (lambda: m23().transpose(reverse=True), "reverse"),
])
def test_unsupported_keywords_are_refused_by_name(call, keyword):
    # MXNet's arguments that ad does not implement raise instead of being ignored
    with pytest.raises(TypeError, match="'%s'" % keyword):
        call()


def test_unsupported_values_are_refused():
    x = m23()
    for call, pattern in ((lambda: x.attach_grad(stype="row_sparse"), "stype='row_sparse'"),
                          (lambda: nd.pick(x, nd.zeros(2), mode="raise"), "mode must be 'clip' or 'wrap'"),
                          (lambda: nd.random.seed(1, ctx=ad.gpu()), r"gpu\(0\)"),
                          (lambda: autograd.mark_variables([x, x], [x, x], ["write"]), "2 variables but 1 grad_reqs")):
        with pytest.raises(ValueError, match=pattern):
            call()
    with pytest.raises(TypeError, match="takes `axis` or `axes`, not both"):
        x.max(0, axes=1)
    with pytest.raises(TypeError, match="copyto takes an NDArray or a Context"):
        x.copyto(5)
    assert x.copyto(ad.cpu()).asnumpy().tolist() == [[0, 1, 2], [3, 4, 5]]
    nd.random.seed(1, ctx=ad.cpu())
    y = nd.zeros(1)
    assert nd.add(1, 2, out=y) is y and y.asscalar() == 3    # two numbers: `out` is written too


def test_type_errors_for_wrong_types():
    for call in (lambda: nd.zeros(("a",)), lambda: nd.zeros((2.5,)), lambda: m23().reshape("ab"),
                 lambda: m23()["a"], lambda: nd.exp(3), lambda: m23() + "a",
                 lambda: autograd.backward([3]), lambda: nd.add(None, m23()), lambda: nd.zeros_like((2, 3)),
                 lambda: nd.ones_like(3), lambda: nd.transpose([[1]]), lambda: nd.reshape((1, 2), (2,)),
                 lambda: nd.broadcast_to(2, (3,))):
        with pytest.raises(TypeError):
            call()


def test_invalid_and_freed_handles():
    x = nd.ones(2)
    raw = ctypes.c_void_p(x.handle.value)
    assert _lib.lib.ad_array_free(raw) == 0
    x._handle = None                          # the handle is gone; keep __del__ from freeing it again
    with pytest.raises(ad.ADError, match=r"^ad_array_ndim: argument `array` .* is not a live array handle") as info:
        NDArray(raw).shape
    assert info.value.status == AD_ERR_INVALID_HANDLE
    assert _lib.lib.ad_array_free(raw) == AD_ERR_INVALID_HANDLE      # double free is detected
    with pytest.raises(ad.ADError, match="not a live array handle"):
        NDArray(ctypes.c_void_p(0x12345678)).asnumpy()
    with pytest.raises(ad.ADError, match="not a live array handle"):
        nd.ones(2) + NDArray(ctypes.c_void_p(0xDEAD0000))


def test_null_arguments():
    with pytest.raises(ad.ADError, match=r"^ad_array_ndim: argument `out` is NULL") as info:
        _lib.check(_lib.lib.ad_array_ndim(nd.ones(1).handle, None))
    assert info.value.status == AD_ERR_NULL_ARGUMENT
    out = ctypes.c_void_p()
    with pytest.raises(ad.ADError, match=r"argument `data` is NULL"):
        _lib.check(_lib.lib.ad_array_create(None, _lib.sizes((3,)), 1, 0, ctypes.byref(out)))
    assert out.value is None                  # out-parameters are written only on success


def test_unbalanced_scope_ends():
    for end in (_lib.lib.ad_record_end, _lib.lib.ad_pause_end, _lib.lib.ad_train_mode_end,
                _lib.lib.ad_predict_mode_end):
        with pytest.raises(ad.ADError, match="scope") as info:
            _lib.check(end())
        assert isinstance(info.value, RuntimeError)
    with autograd.record():
        with pytest.raises(RuntimeError, match="pause_end"):
            _lib.check(_lib.lib.ad_pause_end())
        assert autograd.is_recording()        # the record scope is still open
    assert not autograd.is_recording()


def test_error_messages_are_per_thread():
    failures = []

    def worker(n):
        for _ in range(200):
            try:
                nd.ones(n) + nd.ones(n + 1)
            except ad.ADError as e:
                if "(%d,) (%d,)" % (n, n + 1) not in str(e):
                    failures.append(str(e))
            else:
                failures.append("no error")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2, 8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_failed_call_leaves_arrays_usable():
    x = m23()
    with pytest.raises(ValueError):
        x.reshape(5)
    with pytest.raises(IndexError):
        x[9] = 1
    np.testing.assert_array_equal(x.asnumpy(), np.arange(6).reshape(2, 3))
    x += 1
    assert x.sum().asscalar() == 21


FUZZ = textwrap.dedent(r'''
    import json, random, sys
    import numpy as np
    import ad
    from ad import autograd, nd

    random.seed(int(sys.argv[1]))

    def pool():
        # a few good values among the garbage, so calls get past argument conversion into the library
        return [None, "x", b"\x00", 1.5, -1, 0, 1, 2, 3, 2 ** 62, -2 ** 63, 2 ** 64, 2 ** 100,
                float("nan"), float("inf"), -float("inf"), 1e308, -0.0, True, np.float64("nan"), np.int64(-5),
                (2 ** 62, 2 ** 62), (2 ** 31, 2 ** 31, 4), (-1, 3), (0,), (), (2, -3), (2, 3), (3, 2), (6,), (1, 2, 3),
                (2 ** 64, 1), (1, 2 ** 63), (0, 0), (0, -1), [1, [2]], [[1, 2], [3, 4]], object(), {},
                "float16", "float64", np.dtype("int8"), ad.gpu(), ad.cpu(3), ad.cpu(), slice(None), Ellipsis,
                nd.arange(6).reshape(2, 3), nd.ones(3, dtype="float64"), nd.zeros((0, 3)), nd.array(5),
                nd.ones((2, 1)), nd.ones(1), np.ones((2, 3)), [nd.ones(2)], (slice(None), 5), (0, 0, 0)]

    funcs = {
        "array": (nd.array, 1, 2), "arange": (nd.arange, 1, 3), "zeros": (nd.zeros, 1, 2),
        "ones": (nd.ones, 1, 2), "full": (nd.full, 2, 3), "zeros_like": (nd.zeros_like, 1, 1),
        "ones_like": (nd.ones_like, 1, 1), "dot": (nd.dot, 2, 4), "maximum": (nd.maximum, 2, 2),
        "minimum": (nd.minimum, 2, 2), "add": (nd.add, 2, 2), "power": (nd.power, 2, 2),
        "divide": (nd.divide, 2, 2), "sum": (nd.sum, 1, 3), "mean": (nd.mean, 1, 3), "max": (nd.max, 1, 3),
        "norm": (nd.norm, 1, 4), "transpose": (nd.transpose, 1, 2), "reshape": (nd.reshape, 2, 2),
        "broadcast_to": (nd.broadcast_to, 2, 2), "normal": (nd.random.normal, 0, 3),
        "uniform": (nd.random.uniform, 0, 3), "seed": (nd.random.seed, 1, 1),
        "exponential": (nd.random.exponential, 0, 3), "gamma": (nd.random.gamma, 0, 4),
        "poisson": (nd.random.poisson, 0, 3), "randn": (nd.random.randn, 0, 3),
        "shuffle": (nd.random.shuffle, 1, 2), "random_normal": (nd.random_normal, 0, 4),
        "backward": (autograd.backward, 1, 4), "grad": (autograd.grad, 2, 5),
        "mark_variables": (autograd.mark_variables, 2, 3), "set_recording": (autograd.set_recording, 1, 1),
        "set_training": (autograd.set_training, 1, 1),
        "full_like": (nd.full_like, 2, 3), "linspace": (nd.linspace, 3, 5), "eye": (nd.eye, 1, 4),
        "squeeze": (nd.squeeze, 1, 2), "expand_dims": (nd.expand_dims, 2, 2), "split": (nd.split, 2, 4),
        "slice": (nd.slice, 3, 4), "take": (nd.take, 2, 4), "pick": (nd.pick, 2, 5),
        "broadcast_like": (nd.broadcast_like, 2, 4), "moveaxis": (nd.moveaxis, 3, 3), "swapaxes": (nd.swapaxes, 1, 3),
        "flip": (nd.flip, 2, 2), "tile": (nd.tile, 2, 2), "repeat": (nd.repeat, 2, 3),
        "concatenate": (nd.concatenate, 1, 3), "reshape_like": (nd.reshape_like, 2, 6),
    }
    for name in ("exp", "log", "sqrt", "abs", "square", "relu", "sigmoid", "tanh", "negative"):
        funcs[name] = (getattr(nd, name), 1, 1)
    methods = {
        "reshape": (0, 3), "transpose": (0, 3), "broadcast_to": (1, 1), "astype": (1, 1), "sum": (0, 2),
        "mean": (0, 2), "max": (0, 2), "min": (0, 2), "norm": (0, 3), "attach_grad": (0, 1),
        "backward": (0, 2), "__getitem__": (1, 1), "__setitem__": (2, 2), "__add__": (1, 1),
        "__rsub__": (1, 1), "__mul__": (1, 1), "__truediv__": (1, 1), "__rtruediv__": (1, 1),
        "__pow__": (1, 1), "__rpow__": (1, 1), "__eq__": (1, 1), "__lt__": (1, 1), "__ge__": (1, 1),
        "__iadd__": (1, 1), "__isub__": (1, 1), "__imul__": (1, 1), "__itruediv__": (1, 1),
        "copyto": (1, 1), "as_in_context": (1, 1), "retain_grad": (0, 0), "asscalar": (0, 0),
        "asnumpy": (0, 0), "__float__": (0, 0), "__bool__": (0, 0), "__len__": (0, 0), "detach": (0, 0),
        "copy": (0, 0), "__repr__": (0, 0), "__neg__": (0, 0),
        "squeeze": (0, 2), "expand_dims": (1, 2), "split": (1, 3), "take": (1, 3), "flip": (1, 1), "tile": (1, 1),
        "repeat": (1, 2), "reshape_like": (1, 5), "broadcast_like": (1, 1), "swapaxes": (0, 2), "full_like": (1, 2),
        "tolist": (0, 0), "__matmul__": (1, 1), "zeros_like": (0, 1),
    }
    KEYWORDS = ["shape", "axis", "dtype", "ctx", "keepdims", "out", "transpose_a", "head_grads", "loc",
                "scale", "retain_graph", "create_graph", "train_mode", "grad_req"]

    succeeded = ad_errors = 0
    unexpected = {}
    for trial in range(int(sys.argv[2])):
        values = pool()
        x = random.choice([nd.arange(6).reshape(2, 3), nd.ones((3, 1), dtype="float64"), nd.zeros(0), nd.array(2)])
        if random.random() < 0.4:
            x.attach_grad(random.choice(["write", "add", "null"]))
        if random.random() < 0.5:
            name = random.choice(sorted(funcs))
            fn, lo, hi = funcs[name]
        else:
            name = random.choice(sorted(methods))
            lo, hi = methods[name]
            fn = getattr(x, name)
        args = [random.choice(values) for _ in range(random.randint(lo, hi))]
        if args and (random.random() < 0.5 or name == "power") and not isinstance(fn, type(x.copy)):
            args[0] = x         # nd.power of two huge Python ints is Python's own (endless) pow
        kwargs = {}
        if random.random() < 0.25:
            kwargs[random.choice(KEYWORDS)] = random.choice(values)
        try:
            if random.random() < 0.3:
                with autograd.record():
                    y = x * 2
                    result = fn(*args, **kwargs)
                if random.random() < 0.5:
                    y.backward(random.choice(values + [None]))
            else:
                result = fn(*args, **kwargs)
            if isinstance(result, nd.NDArray):
                repr(result)
                result.asnumpy()
            succeeded += 1
        except ad.ADError:
            ad_errors += 1
        except (TypeError, ValueError, IndexError, ArithmeticError):
            pass    # refused by the binding's checks or by Python's own
        except Exception as e:
            unexpected.setdefault(type(e).__name__, "%s%r: %r" % (name, tuple(args), e))
        autograd.set_recording(False)
        autograd.set_training(False)
    # the library still works after all that
    a = nd.arange(4)
    a.attach_grad()
    with autograd.record():
        b = (a * a).sum()
    b.backward()
    assert a.grad.asnumpy().tolist() == [0, 2, 4, 6]
    print(json.dumps({"succeeded": succeeded, "ad_errors": ad_errors, "unexpected": unexpected}))
''')


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fuzz_garbage_arguments_never_crash(tmp_path, seed):
    # A crash (segfault, abort, Rust panic escaping the boundary) is a non-zero or negative
    # return code, and the library prints nothing.
    tally = json.loads(run_python(FUZZ, timeout=300, args=(seed, 3000), cwd=str(tmp_path)).splitlines()[-1])
    # Garbage is refused with the exceptions the binding documents (ADError and the built-in
    # TypeError, ValueError, IndexError, ArithmeticError), never with another kind (an
    # AttributeError from a missing check, a ctypes.ArgumentError, a SystemError from the C code).
    assert tally["unexpected"] == {}
    assert tally["ad_errors"] > 150, "the fuzz should reach the library's own checks often"
    assert tally["succeeded"] > 300, "the fuzz should also make valid calls"
