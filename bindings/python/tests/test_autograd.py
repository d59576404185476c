"""The `autograd` namespace and NDArray's gradient methods, with MXNet 1.9.1's semantics."""
import numpy as np
import pytest

import ad
from ad import autograd, nd


def values(x):
    return x.asnumpy().tolist()


def state():
    return autograd.is_recording(), autograd.is_training()


# ------------------------------------------------------------------ scopes and flags

def test_initial_state():
    assert state() == (False, False)


def test_scopes_nest_and_restore():
    seen = []
    with autograd.record():
        seen.append(state())
        with autograd.pause():
            seen.append(state())
            with autograd.train_mode():
                seen.append(state())
            seen.append(state())
        with autograd.predict_mode():
            seen.append(state())
            with autograd.record():
                seen.append(state())
            seen.append(state())
        seen.append(state())
    seen.append(state())
    with autograd.record(train_mode=False):
        seen.append(state())
        with autograd.pause(train_mode=True):
            seen.append(state())
        seen.append(state())
    with autograd.train_mode():
        seen.append(state())
        with autograd.predict_mode():
            seen.append(state())
    assert seen == [
        (True, True), (False, False), (False, True), (False, False), (True, False), (True, True),
        (True, False), (True, True), (False, False),
        (True, False), (False, True), (True, False),
        (False, True), (False, False),
    ]
    assert state() == (False, False)


@pytest.mark.parametrize("scope", [
    lambda: autograd.record(), lambda: autograd.record(False), lambda: autograd.pause(),
    lambda: autograd.pause(True), lambda: autograd.train_mode(), lambda: autograd.predict_mode(),
])
def test_scopes_restore_when_the_body_raises(scope):
    with autograd.record():
        before = state()
        with pytest.raises(KeyError):
            with scope():
                with autograd.pause():
                    raise KeyError("inner")
        assert state() == before
    assert state() == (False, False)


def test_nothing_is_recorded_in_pause():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = x * 2
        with autograd.pause():
            z = x * 3                        # a constant for the graph
        w = (y + z).sum()
    w.backward()
    assert values(x.grad) == [2, 2, 2]
    with pytest.raises(RuntimeError):
        z.backward()


def test_set_recording_and_set_training_return_previous():
    assert autograd.set_recording(True) is False
    assert autograd.is_recording()
    assert autograd.set_recording(True) is True
    assert autograd.set_recording(False) is True
    assert not autograd.is_recording()
    assert autograd.set_training(True) is False
    assert autograd.is_training()
    assert autograd.set_training(False) is True
    assert autograd.set_training(False) is False
    assert state() == (False, False)


def test_set_recording_records():
    x = nd.arange(3)
    x.attach_grad()
    autograd.set_recording(True)
    y = (x * x).sum()
    autograd.set_recording(False)
    y.backward()
    assert values(x.grad) == [0, 2, 4]


def test_training_flag_inside_record_scopes():
    assert not autograd.is_training()
    with autograd.record():
        assert autograd.is_training() and autograd.is_recording()
    with autograd.record(train_mode=False):
        assert not autograd.is_training() and autograd.is_recording()


# ------------------------------------------------------------------ backward

def test_backward_scalar_head():
    x = nd.array([1, 2, 3])
    x.attach_grad()
    with autograd.record():
        y = (x * x * x).sum()
    y.backward()
    assert values(x.grad) == [3, 12, 27]


def test_backward_non_scalar_head_is_its_sum():
    x = nd.arange(4).reshape((4, 1))
    x.attach_grad()
    with autograd.record():
        y = 2 * x * x
    assert y.shape == (4, 1)
    y.backward()
    assert values(x.grad) == [[0], [4], [8], [12]]


def test_backward_with_head_gradient():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = x * x
    y.backward(nd.array([1, 2, 3]))
    assert values(x.grad) == [0, 4, 12]
    with autograd.record():
        y = x * x
    autograd.backward(y, nd.array([3, 2, 1]))
    assert values(x.grad) == [0, 4, 4]


def test_backward_head_gradient_shape_must_match():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = x * x
    with pytest.raises(ValueError, match=r"\(2,\)") as info:
        y.backward(nd.ones(2))
    assert isinstance(info.value, ad.ADError)


def test_backward_several_heads():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        a = x * 2
        b = x * x
    autograd.backward([a, b])
    assert values(x.grad) == [2, 4, 6]
    with autograd.record():
        a = x * 2
        b = x * x
    autograd.backward([a, b], [nd.ones(3) * 10, None])
    assert values(x.grad) == [20, 22, 24]
    with autograd.record():
        a = x * 2
        b = x * x
    autograd.backward([a, b], [None, nd.ones(3) * 10])
    assert values(x.grad) == [2, 22, 42]
    with autograd.record():
        a = x * 2
        b = x * x
    autograd.backward((a, b), (None, None))
    assert values(x.grad) == [2, 4, 6]


def test_backward_head_grads_count_must_match():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        a = x * 2
    with pytest.raises(ValueError, match="2 head gradients given for 1 heads"):
        autograd.backward([a], [None, None])


def test_retain_graph():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = (x * x).sum()
    y.backward(retain_graph=True)
    assert values(x.grad) == [0, 2, 4]
    y.backward(retain_graph=True)
    assert values(x.grad) == [0, 2, 4]         # 'write' overwrites
    y.backward()
    with pytest.raises(ad.ADError, match="retain_graph") as info:
        y.backward()
    assert isinstance(info.value, RuntimeError)


def test_backward_without_history_raises_runtime_error():
    x = nd.arange(3)
    with pytest.raises(RuntimeError, match="history") as info:
        x.backward()
    assert isinstance(info.value, ad.ADError)
    with autograd.record():
        y = x * 2                            # nothing attached: not recorded
    with pytest.raises(RuntimeError):
        y.backward()


def test_modifying_a_saved_input_before_backward_is_detected():
    # MXNet 1.9.1 silently differentiates with the new values (x.grad == 20 here); ad refuses.
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = x * x
    x[:] = 10
    with pytest.raises(RuntimeError, match="modified in place") as info:
        y.backward()
    assert isinstance(info.value, ad.ADError)


def test_updating_variables_between_steps_is_fine():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    for expected in ([2, 4], [1, 2], [0.5, 1]):
        with autograd.record():
            y = (x * x).sum()
        y.backward()
        assert values(x.grad) == expected
        x[:] = x - 0.25 * x.grad


def test_backward_train_mode_flag():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record(train_mode=False):
        y = x * 2
    y.backward(train_mode=False)
    assert values(x.grad) == [2, 2, 2]
    with autograd.record():
        y = x * 3
    autograd.backward([y], train_mode=False)
    assert values(x.grad) == [3, 3, 3]
    assert state() == (False, False)


# ------------------------------------------------------------------ grad_req

def test_grad_req_add_accumulates():
    x = nd.arange(3)
    x.attach_grad(grad_req="add")
    for _ in range(3):
        with autograd.record():
            y = (x * x).sum()
        y.backward()
    assert values(x.grad) == [0, 6, 12]
    x.grad[:] = 0
    with autograd.record():
        y = (x * x).sum()
    y.backward()
    assert values(x.grad) == [0, 2, 4]


def test_grad_req_write_overwrites():
    x = nd.arange(3)
    x.attach_grad()
    for _ in range(3):
        with autograd.record():
            y = (x * x).sum()
        y.backward()
    assert values(x.grad) == [0, 2, 4]


def test_grad_req_null():
    x = nd.arange(3)
    x.attach_grad(grad_req="null")
    z = nd.arange(3)
    z.attach_grad()
    with autograd.record():
        y = (x * z).sum()
    y.backward()
    assert values(z.grad) == [0, 1, 2]
    # a 'null' variable has no gradient buffer: .grad is None, as in MXNet 1.9.1 (ad.h's
    # ad_array_grad)
    assert x.grad is None


def test_grad_req_null_only_variable():
    x = nd.arange(3)
    x.attach_grad(grad_req="null")
    with autograd.record():
        y = (x * x).sum()
    with pytest.raises(RuntimeError):
        y.backward()


def test_bad_grad_req():
    with pytest.raises(ValueError, match="grad_req") as info:
        nd.ones(2).attach_grad(grad_req="sometimes")
    assert isinstance(info.value, ad.ADError)


def test_grad_is_none_without_attach_grad():
    assert nd.ones(2).grad is None


def test_attach_grad_resets_gradient_to_zero():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = (x * x).sum()
    y.backward()
    x.attach_grad()
    assert values(x.grad) == [0, 0, 0]


# ------------------------------------------------------------------ autograd.grad

def test_grad_returns_a_list_and_leaves_dot_grad_alone():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = x ** 3
    g = autograd.grad(y, [x])
    assert isinstance(g, list) and len(g) == 1
    assert values(g[0]) == [0, 3, 12]
    assert values(x.grad) == [0, 0, 0]


def test_grad_with_a_single_variable_returns_a_list_as_mxnet_191():
    # MXNet 1.9.1's autograd.grad wraps a single variable in a list before its
    # `isinstance(variables, NDArray)` check, so it always returns a list.
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = x ** 2
    g = autograd.grad(y, x)
    assert isinstance(g, list) and len(g) == 1
    assert values(g[0]) == [0, 2, 4]


def test_grad_several_variables_and_head_grads():
    a = nd.array([1, 2])
    b = nd.array([3, 4])
    a.attach_grad()
    b.attach_grad()
    with autograd.record():
        y = a * b
    ga, gb = autograd.grad([y], [a, b], head_grads=[nd.array([10, 100])])
    assert values(ga) == [30, 400]
    assert values(gb) == [10, 200]


def test_grad_create_graph_second_derivative():
    x = nd.array([1, 2, 3])
    x.attach_grad()
    with autograd.record():
        y = x ** 3
        dy = autograd.grad(y, [x], create_graph=True)[0]
    assert values(dy) == [3, 12, 27]           # 3x²
    dy.backward()
    assert values(x.grad) == [6, 12, 18]       # d²/dx² x³ = 6x


def test_grad_retain_graph_defaults_to_create_graph():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = (x * x).sum()
    autograd.grad(y, [x], retain_graph=True)
    autograd.grad(y, [x])                       # retain_graph=None -> create_graph=False
    with pytest.raises(RuntimeError, match="retain_graph"):
        autograd.grad(y, [x])


def test_grad_rejects_non_arrays():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = x * 2
    with pytest.raises(TypeError):
        autograd.grad(y, [1])
    with pytest.raises(TypeError):
        autograd.backward([y, 3])


# ------------------------------------------------------------------ mark_variables

def test_mark_variables():
    x = nd.arange(3)
    g = nd.zeros(3)
    autograd.mark_variables([x], [g])
    with autograd.record():
        y = (x * x).sum()
    y.backward()
    assert values(g) == [0, 2, 4]
    assert values(x.grad) == [0, 2, 4]


def test_mark_variables_grad_reqs_and_single_arrays():
    x = nd.arange(3)
    g = nd.ones(3)
    autograd.mark_variables(x, g, grad_reqs="add")
    with autograd.record():
        y = (x * 2).sum()
    y.backward()
    assert values(g) == [3, 3, 3]
    a, b = nd.ones(2), nd.ones(2)
    ga, gb = nd.zeros(2), nd.zeros(2)
    autograd.mark_variables([a, b], [ga, gb], grad_reqs=["write", "null"])
    with autograd.record():
        y = a * b * 5
    y.backward()
    assert values(ga) == [5, 5]
    assert values(gb) == [0, 0]


def test_mark_variables_errors():
    with pytest.raises(ValueError, match="2 variables but 1 gradients"):
        autograd.mark_variables([nd.ones(2), nd.ones(2)], [nd.ones(2)])
    with pytest.raises(ValueError, match=r"\(3,\)") as info:
        autograd.mark_variables([nd.ones(2)], [nd.ones(3)])
    assert isinstance(info.value, ad.ADError)
    with pytest.raises(ValueError, match="grad_req"):
        autograd.mark_variables([nd.ones(2)], [nd.ones(2)], grad_reqs="maybe")


# ------------------------------------------------------------------ intermediates

def test_tutorial_head_gradient_chain_rule():
    # The tutorial's 1.11: backward into an intermediate, then on from it with its gradient.
    x = nd.arange(4).reshape((4, 1))
    x.attach_grad()
    with autograd.record():
        y = x * 2
    y.attach_grad()
    with autograd.record():
        z = y * x
    z.backward()
    assert values(y.grad) == values(x)        # dz/dy = x
    y.backward(y.grad)
    assert values(x.grad) == values(2 * x)    # dz/dy * dy/dx


def test_attach_grad_on_intermediate_chain_rule():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = 3 * x
    y.attach_grad()
    with autograd.record():
        z = y * x
    z.backward()
    assert values(y.grad) == [0, 1, 2]        # dz/dy = x
    assert values(x.grad) == [0, 3, 6]        # y is a leaf for z: dz/dx = y (not through y)
    y.backward(7 * nd.ones(3))
    # MXNet 1.9.1 prints [0, 3, 6] here (its attach_grad on an intermediate cuts y's own
    # history); ad still differentiates y = 3x: 7 * 3.
    assert values(x.grad) == [21, 21, 21]


def test_retain_grad_on_intermediates():
    x = nd.array([1, 2])
    x.attach_grad()
    with autograd.record():
        y = x * 3
        y.retain_grad()
        z = y * y
        z.retain_grad()
        w = z.sum()
    w.backward()
    assert values(z.grad) == [1, 1]
    assert values(y.grad) == [6, 12]           # 2y
    assert values(x.grad) == [18, 36]          # gradients flow on through y
    x.retain_grad()                            # a no-op on a variable
    assert values(x.grad) == [18, 36]


def test_retain_grad_without_history_raises():
    with pytest.raises(RuntimeError) as info:
        nd.ones(2).retain_grad()
    assert isinstance(info.value, ad.ADError)


def test_detach_stops_gradients():
    x = nd.arange(3)
    x.attach_grad()
    with autograd.record():
        y = x * 2
        z = (y.detach() * x).sum()
    z.backward()
    assert values(x.grad) == [0, 2, 4]
    with autograd.record():
        d = (x * 2).detach()
    with pytest.raises(RuntimeError):
        d.backward()


def test_copy_and_astype_pass_gradients():
    x = nd.array([1, 2])
    x.attach_grad()
    with autograd.record():
        y = (x.copy() * x.astype("float64").astype("float32")).sum()
    y.backward()
    assert values(x.grad) == [2, 4]


# ------------------------------------------------------------------ control flow

def f(a):
    b = a * 2
    while b.norm().asscalar() < 1000:
        b = b * 2
    if b.sum().asscalar() > 0:
        c = b
    else:
        c = 100 * b
    return c


@pytest.mark.parametrize("start", [0.3, -0.7, 2.0, -1e-3, 999.0])
def test_gradient_through_python_control_flow(start):
    a = nd.array([start])
    a.attach_grad()
    with autograd.record():
        d = f(a)
    d.backward()
    assert (a.grad == d / a).asscalar() == 1
    # the same control flow in plain Python: f(a) = scale * a
    b, scale = 2 * abs(start), 2
    while b < 1000:
        b, scale = b * 2, scale * 2
    if start <= 0:
        scale *= 100
    assert a.grad.asscalar() == scale


def test_loop_accumulated_loss():
    w = nd.array([0.5])
    w.attach_grad()
    with autograd.record():
        loss = nd.zeros(1)
        for i in range(1, 4):
            loss = loss + (w * i - 1) ** 2
    loss.backward()
    # d/dw sum_i (w i - 1)^2 = sum_i 2 i (w i - 1) = 2(-0.5) + 4(0) + 6(0.5) = 2
    assert values(w.grad) == [2]


def test_every_op_is_differentiable():
    x = nd.array([[0.5, 1.5], [2.0, 0.25]])
    x.attach_grad()
    ops = [
        lambda v: nd.exp(v), lambda v: nd.log(v), lambda v: nd.sqrt(v), lambda v: nd.abs(v - 1),
        lambda v: nd.square(v), lambda v: nd.relu(v - 1), lambda v: nd.sigmoid(v), lambda v: nd.tanh(v),
        lambda v: nd.maximum(v, 1), lambda v: nd.minimum(1, v), lambda v: v ** 3, lambda v: 2 ** v,
        lambda v: 1 / v, lambda v: 3 - v, lambda v: v.sum(axis=0), lambda v: v.mean(axis=1, keepdims=True),
        lambda v: v.max(axis=1), lambda v: v.min(), lambda v: v.norm(), lambda v: nd.dot(v, v),
        lambda v: nd.dot(v, v, transpose_a=True), lambda v: v.T, lambda v: v.reshape(4),
        lambda v: v[1], lambda v: v[:, 0], lambda v: v.broadcast_to((3, 2, 2)),
    ]
    eps = 1e-3
    base = x.asnumpy().astype(np.float64)
    for op in ops:
        with autograd.record():
            y = op(x).sum()
        y.backward()
        numeric = np.zeros_like(base)
        for idx in np.ndindex(*base.shape):
            hi, lo = base.copy(), base.copy()
            hi[idx] += eps
            lo[idx] -= eps
            f_hi = op(nd.array(hi, dtype="float64")).sum().asscalar()
            f_lo = op(nd.array(lo, dtype="float64")).sum().asscalar()
            numeric[idx] = (f_hi - f_lo) / (2 * eps)
        np.testing.assert_allclose(x.grad.asnumpy(), numeric, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_norm_gradient_at_zero_is_zero_as_documented(dtype):
    # include/ad.h, ad_norm: "Its gradient a / norm is taken as 0 where the norm is 0".
    # (MXNet gives NaN here; ad documents the subgradient.) Fails for float32 while the
    # library's guard value f64::MIN_POSITIVE underflows to 0 in float32: reported.
    x = nd.array([[0, 0], [3, 4]], dtype=dtype)
    x.attach_grad()
    with autograd.record():
        y = x.norm(axis=1)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [[0, 0], [0.6, 0.8]], rtol=1e-6)
    z = nd.zeros(3, dtype=dtype)
    z.attach_grad()
    with autograd.record():
        n = z.norm()
    n.backward()
    assert values(z.grad) == [0, 0, 0]


def test_recording_state_is_per_thread():
    import threading
    seen = []
    with autograd.record():
        t = threading.Thread(target=lambda: seen.append(state()))
        t.start()
        t.join()
        assert state() == (True, True)
    assert seen == [(False, False)]
