"""MXNet's other fused optimizer updates (signsgd, signum, rmsprop, rmspropalex, ftrl,
nag_mom, and LAMB's two phases) against real MXNet 1.9.1: several steps on seeded random float32 weights, gradients
and states, with weight decay, rescale_grad and clip_gradient on and off, must give the same
weights and states bit for bit.

Deliberate difference from MXNet, pinned here rather than compared:
- nag_mom_update with wd != 0 and `out` not the weight: MXNet's kernel reads the weight again
  after writing `out`, so its momentum differs between out=weight (the new weight) and
  another `out` (the old one). ad always computes the out=weight result, the one MXNet's NAG
  optimizer gets.
"""
import numpy as np
import pytest

from ad import nd
from support import import_mxnet, libraries

mx = import_mxnet("the optimizer comparison tests")
LIBS = libraries(mx)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:mxnet")

SHAPE = (7, 5)
CONFIGS = [dict(), dict(wd=0.01), dict(rescale_grad=0.3), dict(clip_gradient=1.0), dict(clip_gradient=0.0),
           dict(wd=0.05, rescale_grad=1 / 32.0, clip_gradient=0.05)]

# name -> (number of states, the update's own arguments, extra argument sets to try)
KINDS = {
    "signsgd": (0, dict(lr=0.01), [dict()]),
    "signum": (1, dict(lr=0.01, momentum=0.9), [dict(), dict(wd_lh=0.1)]),
    "rmsprop": (1, dict(lr=0.01, gamma1=0.9, epsilon=1e-6), [dict(), dict(clip_weights=0.5)]),
    "rmspropalex": (3, dict(lr=0.01, gamma1=0.9, gamma2=0.8, epsilon=1e-6), [dict(), dict(clip_weights=0.5)]),
    "ftrl": (2, dict(lr=0.1, lamda1=0.02, beta=0.5), [dict()]),
    "nag_mom": (1, dict(lr=0.1, momentum=0.9), [dict()]),
}


def rand(seed, *shape, scale=1.0, low=None):
    rs = np.random.RandomState(seed)
    if low is not None:
        return (low + scale * rs.rand(*shape)).astype(np.float32)
    return (scale * rs.randn(*shape)).astype(np.float32)


def initial_states(kind):
    """Seeded states: non-negative where the update takes a square root of them."""
    if kind in ("rmsprop", "ftrl"):
        nonneg = {"rmsprop": [0], "ftrl": [1]}[kind]
    elif kind == "rmspropalex":
        return [rand(801, *SHAPE, low=0.5, scale=0.5), rand(802, *SHAPE, scale=0.1), rand(803, *SHAPE, scale=0.01)]
    else:
        nonneg = []
    count = KINDS[kind][0]
    return [rand(801 + i, *SHAPE, low=0.0, scale=0.1) if i in nonneg else rand(801 + i, *SHAPE, scale=0.1)
            for i in range(count)]


def run(lib, kind, cfg, out_mode, steps=4):
    """`steps` updates; returns the weight, the states and the arrays each call returned."""
    nd_ = LIBS[lib][0]
    w = nd_.array(rand(800, *SHAPE))
    states = [nd_.array(s) for s in initial_states(kind)]
    update = getattr(nd_, kind + "_update")
    returned = []
    for step in range(steps):
        g = nd_.array(rand(810 + step, *SHAPE, scale=3.0))
        if out_mode == "weight":
            r = update(w, g, *states, out=w, **cfg)
            assert r is w
        elif out_mode == "other":
            o = nd_.zeros(SHAPE)
            r = update(w, g, *states, out=o, **cfg)
            assert r is o
            w = r
        else:
            r = update(w, g, *states, **cfg)
        returned.append(r.asnumpy())
    return w.asnumpy(), [s.asnumpy() for s in states], returned


def cases():
    for kind, (_, own, extras) in KINDS.items():
        for extra in extras:
            for cfg in CONFIGS:
                c = dict(own, **extra, **cfg)
                yield pytest.param(kind, c, id=kind + "-" + ("-".join("%s=%g" % kv for kv in sorted(dict(extra, **cfg).items())) or "plain"))


@pytest.mark.parametrize("kind,cfg", list(cases()))
def test_update_in_place_equals_mxnet_bit_for_bit(kind, cfg):
    ad_w, ad_s, ad_r = run("ad", kind, cfg, "weight")
    mx_w, mx_s, mx_r = run("mx", kind, cfg, "weight")
    if cfg.get("clip_gradient") != 0.0 or kind in ("signsgd", "ftrl"):
        # (a gradient clipped to 0 leaves the weight of most updates alone, in both libraries)
        assert not np.array_equal(ad_w, rand(800, *SHAPE))
    np.testing.assert_array_equal(ad_w, mx_w, err_msg="weight differs from MXNet")
    for i, (a, m) in enumerate(zip(ad_s, mx_s)):
        np.testing.assert_array_equal(a, m, err_msg="state %d differs from MXNet" % i)
        # bit for bit: also the sign of zeros
        assert np.array_equal(a.view(np.uint32), m.view(np.uint32)), "state %d: bits differ" % i
    assert np.array_equal(ad_w.view(np.uint32), mx_w.view(np.uint32)), "weight: bits differ"
    for a, m in zip(ad_r, mx_r):
        np.testing.assert_array_equal(a, m)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("out_mode", ["none", "other"])
def test_update_into_a_new_or_another_array_equals_mxnet(kind, out_mode):
    # Without out= the weight stays and the new weight is a new array; the states are still
    # updated in place. (nag_mom without weight decay: see the module's docstring.)
    own = KINDS[kind][1]
    cfg = dict(own, **(dict(rescale_grad=0.5, clip_gradient=1.0) if kind == "nag_mom" else dict(wd=0.05, clip_gradient=1.0)))
    ad_w, ad_s, ad_r = run("ad", kind, cfg, out_mode)
    mx_w, mx_s, mx_r = run("mx", kind, cfg, out_mode)
    if out_mode == "none":
        np.testing.assert_array_equal(ad_w, rand(800, *SHAPE))
    np.testing.assert_array_equal(ad_w, mx_w)
    for a, m in zip(ad_s, mx_s):
        np.testing.assert_array_equal(a, m)
    for a, m in zip(ad_r, mx_r):
        np.testing.assert_array_equal(a, m)


def test_nag_mom_out_of_place_momentum_reads_the_new_weight_unlike_mxnet():
    cfg = dict(lr=0.1, momentum=0.9, wd=0.5)
    results = {}
    for lib in ("ad", "mx"):
        nd_ = LIBS[lib][0]
        for mode in ("weight", "none"):
            w, m, g = nd_.array(rand(820, 6)), nd_.array(rand(821, 6)), nd_.array(rand(822, 6))
            r = nd_.nag_mom_update(w, g, m, out=w if mode == "weight" else None, **cfg)
            results[lib, mode] = (r.asnumpy(), m.asnumpy())
    for lib in ("ad", "mx"):                       # the new weights agree everywhere
        np.testing.assert_array_equal(results[lib, "none"][0], results["mx", "weight"][0])
    np.testing.assert_array_equal(results["ad", "none"][1], results["mx", "weight"][1])
    np.testing.assert_array_equal(results["ad", "weight"][1], results["mx", "weight"][1])
    assert not np.array_equal(results["mx", "none"][1], results["mx", "weight"][1])   # MXNet's quirk


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_defaults_equal_mxnets(kind):
    # Only lr given: every other argument at its default in both libraries.
    ad_w, ad_s, _ = run("ad", kind, dict(lr=0.05), "weight", steps=2)
    mx_w, mx_s, _ = run("mx", kind, dict(lr=0.05), "weight", steps=2)
    np.testing.assert_array_equal(ad_w, mx_w)
    for a, m in zip(ad_s, mx_s):
        np.testing.assert_array_equal(a, m)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_mismatched_state_shape_is_a_value_error_naming_both_shapes(kind):
    count = KINDS[kind][0]
    w, g = nd.ones((2, 3)), nd.ones((2, 3))
    states = [nd.zeros((2, 3)) for _ in range(count)]
    if states:
        states[-1] = nd.zeros((3, 2))
    else:
        g = nd.ones((3, 2))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        getattr(nd, kind + "_update")(w, g, *states, lr=0.1, out=w)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_unknown_keywords_are_type_errors_naming_them(kind):
    count = KINDS[kind][0]
    w = nd.ones(3)
    for bad in ("name", "lazy_update", "no_such_argument"):
        with pytest.raises(TypeError, match=bad):
            getattr(nd, kind + "_update")(w, nd.ones(3), *[nd.zeros(3) for _ in range(count)], lr=0.1,
                                         **{bad: None})


def run_lamb(lib, cfg, bounds, steps=4, in_place=True):
    """LAMB as MXNet's optimizer runs it: phase 1, the norms, phase 2. The norms are computed
    in numpy from the arrays (bit-identical in both libraries while the updates are), so that
    the comparison is of the updates and not of two norm implementations."""
    nd_ = LIBS[lib][0]
    w = nd_.array(rand(830, *SHAPE))
    mean, var = nd_.array(rand(831, *SHAPE, scale=0.1)), nd_.array(rand(832, *SHAPE, low=0.0, scale=0.1))
    directions = []
    for t in range(1, steps + 1):
        grad = nd_.array(rand(840 + t, *SHAPE, scale=3.0))
        g = nd_.lamb_update_phase1(w, grad, mean, var, t=t, **cfg)
        directions.append(g.asnumpy())
        r1 = nd_.array([np.linalg.norm(w.asnumpy())])
        r2 = nd_.array([np.linalg.norm(g.asnumpy())])
        r = nd_.lamb_update_phase2(w, g, r1, r2, lr=0.01, out=w if in_place else None, **bounds)
        w = r
    return w.asnumpy(), mean.asnumpy(), var.asnumpy(), directions


LAMB_CONFIGS = [dict(wd=0.0), dict(wd=0.01), dict(wd=0.0, rescale_grad=0.3), dict(wd=0.0, clip_gradient=1.0),
                dict(wd=0.05, rescale_grad=1 / 32.0, clip_gradient=0.05), dict(wd=0.01, bias_correction=False),
                dict(wd=0.01, beta1=0.8, beta2=0.99, epsilon=1e-4), dict(wd=0.01, beta1=0.3, beta2=0.6, epsilon=1e-7)]


@pytest.mark.parametrize("cfg", LAMB_CONFIGS, ids=lambda c: "-".join("%s=%g" % kv for kv in sorted(c.items())))
@pytest.mark.parametrize("bounds", [dict(), dict(lower_bound=10.0), dict(upper_bound=1.0),
                                    dict(lower_bound=0.5, upper_bound=2.0)], ids=lambda b: str(sorted(b)))
def test_lamb_equals_mxnet_bit_for_bit(cfg, bounds):
    ad_w, ad_m, ad_v, ad_d = run_lamb("ad", cfg, bounds)
    mx_w, mx_m, mx_v, mx_d = run_lamb("mx", cfg, bounds)
    assert not np.array_equal(ad_w, rand(830, *SHAPE))
    for what, a, m in (("weight", ad_w, mx_w), ("mean", ad_m, mx_m), ("var", ad_v, mx_v)):
        assert np.array_equal(a.view(np.uint32), m.view(np.uint32)), "%s differs from MXNet" % what
    for a, m in zip(ad_d, mx_d):
        assert np.array_equal(a.view(np.uint32), m.view(np.uint32)), "the direction g differs from MXNet"


def test_lamb_phase2_without_out_and_phase1_into_out_as_mxnet():
    ad_w, _, _, _ = run_lamb("ad", dict(wd=0.01), dict(), steps=2, in_place=False)
    mx_w, _, _, _ = run_lamb("mx", dict(wd=0.01), dict(), steps=2, in_place=False)
    np.testing.assert_array_equal(ad_w, mx_w)
    for nd_ in (nd, mx.nd):
        w, o = nd_.ones(3), nd_.zeros(3)
        r = nd_.lamb_update_phase1(w, nd_.ones(3), nd_.zeros(3), nd_.zeros(3), t=1, wd=0.5, out=o)
        assert r is o
        np.testing.assert_allclose(o.asnumpy(), [1.5, 1.5, 1.5], rtol=1e-5)


def test_lamb_phase1_needs_t_and_wd():
    w = nd.ones(3)
    for missing in ("t", "wd"):
        kwargs = dict(t=1, wd=0.0)
        del kwargs[missing]
        with pytest.raises(TypeError, match=missing):
            nd.lamb_update_phase1(w, w, nd.zeros(3), nd.zeros(3), **kwargs)
    with pytest.raises(TypeError, match="lazy_update"):
        nd.lamb_update_phase1(w, w, nd.zeros(3), nd.zeros(3), t=1, wd=0.0, lazy_update=True)
    with pytest.raises(ValueError, match=r"r2.*\(2,\)"):
        nd.lamb_update_phase2(w, w, nd.ones(1), nd.ones(2), lr=0.1)
