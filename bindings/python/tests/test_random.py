"""nd.random's exponential, gamma, poisson, randn, randint and shuffle, and nd's older names
of the random operators (random_normal, normal, random_uniform, uniform, random_exponential,
random_gamma, random_poisson, random_randint, shuffle): MXNet's argument names
and defaults, reproducibility with a seed, the distributions' moments on 100,000 draws of a
fixed seed (within 4 standard errors), and refusals."""
import numpy as np
import pytest

import ad
from ad import autograd, nd
from support import run_python

N = 100_000


def assert_moments(v, mean, var, mu4):
    """The sample mean and variance of `v` within 4 standard errors of `mean` and `var`
    (`mu4`: the central fourth moment, for the variance's standard error)."""
    v = np.asarray(v, dtype=np.float64)
    n = v.size
    assert abs(v.mean() - mean) < 4 * np.sqrt(var / n), (v.mean(), mean)
    assert abs(v.var(ddof=1) - var) < 4 * np.sqrt((mu4 - var * var) / n), (v.var(ddof=1), var)


@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_exponential_moments(scale):
    nd.random.seed(21)
    x = nd.random.exponential(scale, shape=N, dtype="float64")
    assert x.shape == (N,) and x.dtype == np.float64
    v = x.asnumpy()
    assert (v >= 0).all()
    assert_moments(v, scale, scale ** 2, 9 * scale ** 4)


@pytest.mark.parametrize("alpha, beta", [(0.4, 1.0), (1.0, 2.0), (7.5, 0.5)])
def test_gamma_moments(alpha, beta):
    nd.random.seed(22)
    v = nd.random.gamma(alpha, beta, shape=(N,), dtype="float64").asnumpy()
    assert (v >= 0).all()
    assert_moments(v, alpha * beta, alpha * beta ** 2, (3 * alpha ** 2 + 6 * alpha) * beta ** 4)


@pytest.mark.parametrize("lam", [0.7, 6.0, 25.0, 5000.0])
def test_poisson_moments_and_whole_numbers(lam):
    nd.random.seed(23)
    x = nd.random.poisson(lam, shape=(100, N // 100))
    assert x.shape == (100, N // 100) and x.dtype == np.float32    # floats, as MXNet's
    v = x.asnumpy()
    assert (v >= 0).all() and (v == np.round(v)).all()
    assert_moments(v, lam, lam, lam * (1 + 3 * lam))


def test_randn_takes_the_shape_positionally():
    nd.random.seed(24)
    x = nd.random.randn(2, 3)
    assert x.shape == (2, 3) and x.dtype == np.float32
    nd.random.seed(24)
    np.testing.assert_array_equal(nd.random.normal(0, 1, shape=(2, 3)).asnumpy(), x.asnumpy())
    nd.random.seed(24)
    y = nd.random.randn(2, 3, loc=5, scale=2, dtype="float64")
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.asnumpy(), 5 + 2 * x.asnumpy().astype(np.float64), rtol=1e-6)
    assert nd.random.randn((4, 2)).shape == (4, 2)
    assert nd.random.randn(5).shape == (5,)
    v = nd.random.randn(N, loc=-1, scale=3, dtype="float64").asnumpy()
    assert_moments(v, -1, 9, 3 * 81)
    # no shape: MXNet's shape inference fails; out= gives one
    with pytest.raises(ValueError, match="shape"):
        nd.random.randn()
    out = nd.zeros((3, 2))
    assert nd.random.randn(out=out) is out
    assert len(set(out.asnumpy().ravel())) == 6, "one draw per element"


def test_the_seed_reproduces_every_draw():
    def draws():
        return [f().asnumpy() for f in (
            lambda: nd.random.exponential(2, shape=50), lambda: nd.random.gamma(0.5, 3, shape=50),
            lambda: nd.random.poisson(40, shape=50), lambda: nd.random.randn(50),
            lambda: nd.random.shuffle(nd.arange(20).reshape(10, 2)), lambda: nd.normal(shape=5),
            lambda: nd.random_uniform(shape=5))]
    nd.random.seed(99)
    first = draws()
    nd.random.seed(99)
    for a, b in zip(first, draws()):
        np.testing.assert_array_equal(a, b)
    nd.random.seed(100)
    assert not all(np.array_equal(a, b) for a, b in zip(first, draws()))


def test_defaults_shape_and_out():
    # MXNet's defaults: scale 1, alpha 1, beta 1, lam 1; shape (1,) without shape or out
    for f in (nd.random.exponential, nd.random.gamma, nd.random.poisson):
        x = f()
        assert x.shape == (1,) and x.dtype == np.float32
    nd.random.seed(5)
    assert_moments(nd.random.poisson(shape=N).asnumpy(), 1, 1, 4)
    nd.random.seed(5)
    assert_moments(nd.random.gamma(shape=N).asnumpy(), 1, 1, 9)
    # out= without a shape: one draw per element of out, in out's dtype
    out = nd.zeros((4, 5), dtype="float64")
    assert nd.random.exponential(3, out=out) is out
    assert out.dtype == np.float64 and len(set(out.asnumpy().ravel())) == 20
    assert nd.random.gamma(2, 2, shape=(4, 5), out=out) is out
    assert nd.random.normal(out=out) is out and len(set(out.asnumpy().ravel())) == 20


def test_refusals_name_the_argument():
    for call, needle in [(lambda: nd.random.exponential(0), "scale 0"),
                         (lambda: nd.random.exponential(-2), "scale -2"),
                         (lambda: nd.random.exponential(float("inf")), "scale inf"),
                         (lambda: nd.random.gamma(0, 1), "alpha 0"),
                         (lambda: nd.random.gamma(1, -1), "beta -1"),
                         (lambda: nd.random.gamma(float("nan")), "alpha NaN"),
                         (lambda: nd.random.poisson(-1), "lam -1"),
                         (lambda: nd.random.randn(2, scale=-1), "scale -1")]:
        with pytest.raises(ValueError, match=needle) as info:
            call()
        assert isinstance(info.value, ad.ADError)
    # a number beside an NDArray (MXNet asserts all of one kind), or neither, refused by name
    for call, name in [(lambda: nd.random.normal(nd.ones(2), 1), "scale must be an NDArray"),
                       (lambda: nd.random.gamma(1, nd.ones(2)), "alpha must be an NDArray"),
                       (lambda: nd.random.poisson("3"), "lam"),
                       (lambda: nd.random.uniform([0, 1], [1, 2]), "low"),
                       (lambda: nd.random.randn(2, loc=nd.ones(1)), "scale must be an NDArray")]:
        with pytest.raises(TypeError, match=name):
            call()
    # every keyword but MXNet's, by name
    for call, name in [(lambda: nd.random.exponential(1, size=3), "size"),
                       (lambda: nd.random.gamma(1, 1, scale=2), "scale"),
                       (lambda: nd.random.poisson(1, lam2=3), "lam2"),
                       (lambda: nd.random.randn(2, shape=3), "shape"),
                       (lambda: nd.random.shuffle(nd.ones(2), axis=1), "axis"),
                       (lambda: nd.random_normal(1, mean=3), "mean"),
                       (lambda: nd.uniform(shape=2, size=3), "size")]:
        with pytest.raises(TypeError, match=name):
            call()
    with pytest.raises(ValueError, match="gpu"):
        nd.random.poisson(ctx=ad.gpu())
    with pytest.raises(ValueError, match="float16"):
        nd.random.gamma(shape=2, dtype="float16")
    with pytest.raises(TypeError, match="data"):
        nd.random.shuffle(np.ones(3))
    for bad_out in (3.0, (2, 2), np.zeros(2)):
        with pytest.raises(TypeError, match="out"):
            nd.random.exponential(out=bad_out)


def test_shuffle_reorders_whole_rows_and_leaves_the_input():
    data = nd.arange(12).reshape(4, 3)
    nd.random.seed(7)
    seen = set()
    for _ in range(200):
        s = nd.random.shuffle(data)
        assert s.shape == (4, 3) and s.dtype == np.float32
        v = s.asnumpy()
        np.testing.assert_array_equal(v - v[:, :1], np.tile([0, 1, 2], (4, 1)))
        assert sorted(v[:, 0]) == [0, 3, 6, 9]
        seen.add(tuple(v[:, 0]))
    np.testing.assert_array_equal(data.asnumpy(), np.arange(12).reshape(4, 3))
    assert len(seen) == 24, "every order of 4 rows comes up in 200 shuffles"
    one_d = nd.array([1, 2, 3, 4, 5], dtype="float64")
    s = nd.random.shuffle(one_d)
    assert s.dtype == np.float64 and sorted(s.asnumpy()) == [1, 2, 3, 4, 5]
    out = nd.zeros(5, dtype="float64")
    assert nd.random.shuffle(one_d, out=out) is out and sorted(out.asnumpy()) == [1, 2, 3, 4, 5]
    assert nd.random.shuffle(nd.zeros((0, 2))).shape == (0, 2)


def test_shuffle_is_not_differentiable():
    x = nd.array([1.0, 2.0, 3.0])
    x.attach_grad()
    with autograd.record():
        y = (nd.random.shuffle(x) * 2).sum() + x.sum()
    y.backward()
    # only the x.sum() term reaches x: the shuffle has no history
    np.testing.assert_array_equal(x.grad.asnumpy(), [1, 1, 1])


def test_older_names_take_mxnets_operator_arguments():
    assert nd.normal is nd.random_normal and nd.uniform is nd.random_uniform
    nd.random.seed(8)
    a = nd.random_normal(2, 0.5, (3, 4), "cpu(0)", "float64")     # loc, scale, shape, ctx, dtype
    nd.random.seed(8)
    b = nd.random.normal(2, 0.5, shape=(3, 4), dtype="float64")
    assert a.shape == (3, 4) and a.dtype == np.float64
    np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    nd.random.seed(9)
    u = nd.uniform(low=-1, high=1, shape=N, ctx=ad.cpu(), name="u").asnumpy()
    assert ((u >= -1) & (u < 1)).all()
    assert_moments(u.astype(np.float64), 0, 1 / 3, 1 / 5)
    assert nd.random_uniform(shape=2).dtype == np.float32
    # no shape: MXNet 1.9.1's shape inference fails; out= gives one
    with pytest.raises(ValueError, match="shape"):
        nd.random_normal()
    with pytest.raises(ValueError, match="shape"):
        nd.uniform(0, 1)
    out = nd.zeros((2, 2))
    assert nd.normal(out=out) is out and len(set(out.asnumpy().ravel())) == 4


def test_randint_makes_int32_by_default_and_holds_whole_numbers_as_floats():
    nd.random.seed(31)
    x = nd.random.randint(-5, 5, shape=N, dtype="float32")
    assert x.shape == (N,) and x.dtype == np.float32
    v = x.asnumpy().astype(np.float64)
    assert set(np.unique(v)) == set(range(-5, 5))
    assert_moments(v, -0.5, 99 / 12, 99 * 293 / 240)
    assert nd.random.randint(0, 3, dtype="float64").shape == (1,)
    out = nd.zeros((2, 3), dtype="float64")
    assert nd.random.randint(np.int64(7), 9, out=out) is out        # out's dtype, out's shape
    assert set(out.asnumpy().ravel()) <= {7, 8}
    nd.random.seed(32)
    a = nd.random.randint(0, 100, shape=(3, 3), dtype="float64").asnumpy()
    nd.random.seed(32)
    np.testing.assert_array_equal(nd.random.randint(0, 100, shape=(3, 3), dtype="float64").asnumpy(), a)
    # MXNet's default dtype is int32
    for dtype, want in ((None, np.int32), ("int32", np.int32), ("int64", np.int64), (np.int32, np.int32)):
        r = nd.random.randint(-5, 5, shape=1000, dtype=dtype)
        assert r.dtype == want and set(np.unique(r.asnumpy())) == set(range(-5, 5))
    assert nd.random_randint(0, 3, shape=2).dtype == np.int32
    assert nd.random.randint(-2 ** 63, 2 ** 63 - 1, shape=4, dtype="int64").dtype == np.int64
    with pytest.raises(ValueError, match="int32"):
        nd.random.randint(0, 2 ** 31 + 1, shape=2)
    with pytest.raises(ValueError, match="uint8"):
        nd.random.randint(0, 5, shape=2, dtype="uint8")
    with pytest.raises(ValueError, match="low 3, high 3"):
        nd.random.randint(3, 3, dtype="float32")
    with pytest.raises(ValueError, match="float32"):
        nd.random.randint(0, 2 ** 25, dtype="float32")
    with pytest.raises(ValueError, match="64 bits"):
        nd.random.randint(0, 2 ** 70, dtype="float64")
    for low, high, name in [(0.5, 3, "low"), (0, "3", "high"), (True, 3, "low")]:
        with pytest.raises(TypeError, match=name):
            nd.random.randint(low, high, dtype="float64")
    with pytest.raises(TypeError, match="size"):
        nd.random.randint(0, 3, size=2, dtype="float64")


def test_garbage_arguments_are_refused_with_the_documented_exceptions():
    garbage = [None, "x", 1.5, -1, 0, 3, 2 ** 64, float("nan"), float("inf"), True, np.int64(-5),
               (2 ** 62, 2 ** 62), (2 ** 31, 2 ** 31, 4), (-1, 3), (), (2, 3), [[1, 2]], object(),
               "float16", "float64", "int32", ad.gpu(), nd.arange(6).reshape(2, 3), nd.zeros((0, 3)), nd.array(5)]
    fns = [nd.random.exponential, nd.random.gamma, nd.random.poisson, nd.random.randn, nd.random.randint,
           nd.random.shuffle, nd.random_normal, nd.uniform, nd.random_exponential, nd.random_gamma,
           nd.random_poisson, nd.random_randint, nd.shuffle]
    documented = (ad.ADError, TypeError, ValueError, NotImplementedError, IndexError, ArithmeticError)
    for fn in fns:
        for i in range(3):
            for value in garbage:
                args = [2, 3, (2, 2)]
                args[i] = value
                try:
                    fn(*args[:i + 1])
                except documented:
                    pass
            for key in ("out", "dtype", "ctx", "shape", "loc"):
                for value in garbage:
                    try:
                        fn(*args[:2], **{key: value})
                    except documented:
                        pass


def test_the_other_older_names():
    # random_exponential takes the rate lam (nd.random.exponential the mean, scale)
    nd.random.seed(41)
    a = nd.random_exponential(4, (2, 3), None, "float64")        # lam, shape, ctx, dtype
    nd.random.seed(41)
    np.testing.assert_array_equal(a.asnumpy(), nd.random.exponential(0.25, shape=(2, 3), dtype="float64").asnumpy())
    nd.random.seed(42)
    assert_moments(nd.random_exponential(lam=2, shape=N, dtype="float64").asnumpy(), 0.5, 0.25, 9 / 16)
    for bad in (0, -1, 1e-320, float("nan")):
        with pytest.raises(ValueError, match="lam"):
            nd.random_exponential(bad, shape=2)
    nd.random.seed(43)
    g = nd.random_gamma(2, 3, shape=(4,), ctx="cpu(0)", name="g")
    nd.random.seed(43)
    np.testing.assert_array_equal(g.asnumpy(), nd.random.gamma(2, 3, shape=4).asnumpy())
    nd.random.seed(44)
    assert_moments(nd.random_poisson(3, shape=N).asnumpy(), 3, 3, 3 * 10)
    r = nd.random_randint(-2, 2, shape=50, dtype="float64").asnumpy()
    assert set(r) <= {-2, -1, 0, 1}
    assert nd.random_randint(0, 5, shape=2).dtype == np.int32
    for f in (nd.random_exponential, nd.random_gamma, nd.random_poisson):
        with pytest.raises(ValueError, match="shape"):
            f()
    with pytest.raises(ValueError, match="shape"):
        nd.random_randint(0, 5, dtype="float32")
    x = nd.arange(8).reshape(4, 2)
    nd.random.seed(45)
    s = nd.shuffle(x, name="s")
    nd.random.seed(45)
    np.testing.assert_array_equal(s.asnumpy(), nd.random.shuffle(x).asnumpy())
    with pytest.raises(TypeError, match="axis"):
        nd.shuffle(x, axis=0)


# ---- NDArray parameters (MXNet's _sample_* operators) ----

def test_array_parameters_draw_each_block_with_its_own_parameters():
    nd.random.seed(71)
    n = 40_000
    loc, scale = nd.array([[-3, 0], [50, 2]], dtype="float64"), nd.array([[0.5, 1], [4, 0]], dtype="float64")
    x = nd.random.normal(loc, scale, shape=n)
    assert x.shape == (2, 2, n) and x.dtype == np.float32       # MXNet's default, whatever the parameters
    v = x.asnumpy().astype(np.float64).reshape(4, n)
    for block, m, s in zip(v, [-3, 0, 50, 2], [0.5, 1, 4, 0]):
        if s == 0:
            assert (block == m).all()
        else:
            assert_moments(block, m, s * s, 3 * s ** 4)
    low, high = nd.array([0, -10]), nd.array([1, 10])
    u = nd.random.uniform(low, high, shape=(n,), dtype="float64").asnumpy()
    for block, a, b in zip(u, [0, -10], [1, 10]):
        assert ((block >= a) & (block < b)).all()
        assert_moments(block, (a + b) / 2, (b - a) ** 2 / 12, (b - a) ** 4 / 80)
    for block, t in zip(nd.random.exponential(nd.array([0.5, 4]), shape=n, dtype="float64").asnumpy(), [0.5, 4]):
        assert_moments(block, t, t * t, 9 * t ** 4)
    g = nd.random.gamma(nd.array([0.5, 3]), nd.array([2, 0.5]), shape=n, dtype="float64").asnumpy()
    for block, a, b in zip(g, [0.5, 3], [2, 0.5]):
        assert_moments(block, a * b, a * b * b, (3 * a * a + 6 * a) * b ** 4)
    p = nd.random.poisson(nd.array([[2.5], [40]]), shape=n).asnumpy().astype(np.float64)
    assert p.shape == (2, 1, n) and (p == np.round(p)).all()
    for block, lam in zip(p.reshape(2, n), [2.5, 40]):
        assert_moments(block, lam, lam, lam * (1 + 3 * lam))
    r = nd.random.randn(n, loc=nd.array([1, -1]), scale=nd.array([2, 3]), dtype="float64").asnumpy()
    for block, m, s in zip(r, [1, -1], [2, 3]):
        assert_moments(block, m, s * s, 3 * s ** 4)


def test_array_parameters_shapes_dtypes_and_out():
    loc, scale = nd.zeros((2, 3)), nd.ones((2, 3))
    assert nd.random.normal(loc, scale).shape == (2, 3)                 # no shape: P
    assert nd.random.normal(loc, scale, shape=(4, 5)).shape == (2, 3, 4, 5)
    assert nd.random.normal(loc, scale, shape=()).shape == (2, 3)
    assert nd.random.normal(loc, scale, shape=0).shape == (2, 3, 0)     # MXNet refuses a 0 size
    assert nd.random.normal(loc, scale, dtype="float64").dtype == np.float64
    assert nd.random.exponential(nd.ones(2, dtype="float64")).dtype == np.float32
    out = nd.zeros((2, 3, 4), dtype="float64")
    assert nd.random.gamma(scale, scale, shape=4, out=out) is out and out.dtype == np.float64
    assert len(set(out.asnumpy().ravel())) == 24
    with pytest.raises(ValueError, match=r"out has shape \(2, 3, 4\), but the draws have shape \(2, 3\)"):
        nd.random.gamma(scale, scale, out=out)                         # MXNet: shape inconsistent
    with pytest.raises(ValueError, match=r"loc has shape \(2, 3\) and scale shape \(3,\)"):
        nd.random.normal(loc, nd.ones(3))                                # not broadcast (MXNet neither)
    with pytest.raises(ValueError, match="low is float32 and high float64"):
        nd.random.uniform(loc, nd.ones((2, 3), dtype="float64"))
    with pytest.raises(ValueError, match="float16"):
        nd.random.normal(loc, scale, dtype="float16")
    with pytest.raises(ValueError, match="gpu"):
        nd.random.normal(loc, scale, ctx=ad.gpu())
    # 0-d and empty parameters (MXNet cannot make them) work as any others
    assert nd.random.poisson(nd.array(3.0), shape=2).shape == (2,)
    assert nd.random.poisson(nd.zeros((0, 2)), shape=3).shape == (0, 2, 3)
    # the older names take numbers only, as MXNet's do
    for f in (nd.random_normal, nd.normal, nd.random_uniform, nd.uniform, nd.random_gamma):
        with pytest.raises(TypeError, match="older names take numbers only"):
            f(loc, scale, shape=2)
    for f in (nd.random_exponential, nd.random_poisson):
        with pytest.raises(TypeError, match="older names take numbers only"):
            f(scale, shape=2)


def test_bad_array_parameters_are_refused_with_their_position():
    ok = nd.ones((2, 2))
    bad = nd.array([[1, 1], [1, -1]])
    nan = nd.array([[1, float("nan")], [1, 1]])
    for call, needle in [(lambda: nd.random.normal(ok, bad), r"at \[1, 1\].*scale -1"),
                         (lambda: nd.random.normal(nan, ok), r"at \[0, 1\].*loc NaN"),
                         (lambda: nd.random.uniform(ok * 2, ok), "low 2, high 1"),
                         (lambda: nd.random.exponential(bad), "scale -1"),
                         (lambda: nd.random.exponential(ok * 0), r"at \[0, 0\].*scale 0"),
                         (lambda: nd.random.gamma(nan, ok), "alpha NaN"),
                         (lambda: nd.random.gamma(ok, bad), "beta -1"),
                         (lambda: nd.random.poisson(bad), "lam -1"),
                         (lambda: nd.random.poisson(nan), "lam NaN")]:
        # MXNet draws from these anyway (negative deviations, NaN or INT_MIN counts) or hangs
        with pytest.raises(ValueError, match=needle) as info:
            call()
        assert isinstance(info.value, ad.ADError)


def test_array_parameter_draws_have_no_gradient():
    loc, scale = nd.array([0.0, 1.0]), nd.array([1.0, 2.0])
    loc.attach_grad()
    scale.attach_grad()
    with autograd.record():
        y = (nd.random.normal(loc, scale, shape=3) * 2).sum() + (loc * scale).sum()
    y.backward()
    # only the (loc * scale) term reaches them, as in MXNet (its samplers' gradient is 0)
    np.testing.assert_array_equal(loc.grad.asnumpy(), [1, 2])
    np.testing.assert_array_equal(scale.grad.asnumpy(), [0, 1])
    with autograd.record():
        z = nd.random.uniform(loc, scale + 1, shape=2)
    with pytest.raises(ad.ADError, match="no recorded history"):
        z.backward()


def test_array_parameter_draws_are_reproducible_on_1_and_2_threads():
    script = """
import numpy as np
from ad import nd
nd.random.seed(5)
p = nd.array([[0.5, 2.0], [7.0, 30.0]])
xs = [nd.random.normal(p, p, shape=50), nd.random.uniform(p, p * 2, shape=50), nd.random.exponential(p, shape=50),
      nd.random.gamma(p, p, shape=50), nd.random.poisson(p, shape=50)]
print(np.concatenate([x.asnumpy().ravel() for x in xs]).tobytes().hex())
"""
    one = run_python(script, env={"AD_NUM_THREADS": "1"})
    assert run_python(script, env={"AD_NUM_THREADS": "2"}) == one
    assert run_python(script.replace("seed(5)", "seed(6)"), env={"AD_NUM_THREADS": "2"}) != one


# ---- multinomial ----

def test_multinomial_frequencies_shapes_and_log_probabilities():
    nd.random.seed(91)
    rows = np.array([[0.1, 0.2, 0.0, 0.7], [0.25, 0.25, 0.25, 0.25]])
    s = nd.random.multinomial(nd.array(rows), shape=N // 2, dtype="float32")
    assert s.shape == (2, N // 2) and s.dtype == np.float32
    for row, draws in zip(rows, s.asnumpy()):
        for c, p in enumerate(row):
            freq = (draws == c).mean()
            assert abs(freq - p) < 4.5 * np.sqrt(p * (1 - p) / draws.size) + 1e-12, (c, p, freq)
    p = nd.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]], dtype="float64")
    assert nd.random.multinomial(p, dtype="float64").shape == (2,)
    assert nd.random.multinomial(nd.array([0.5, 0.5]), dtype="float32").shape == ()
    assert nd.random.multinomial(p, shape=(2, 3), dtype="float32").shape == (2, 2, 3)
    assert nd.random.multinomial(p, dtype=None).dtype == np.float64        # as MXNet 1.9.1
    assert nd.random.multinomial(p).dtype == np.int32                      # MXNet's default
    for dtype in ("int32", "uint8"):
        ints = nd.random.multinomial(nd.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), shape=4, dtype=dtype)
        assert ints.dtype == np.dtype(dtype)
        assert ints.asnumpy().tolist() == [[2, 2, 2, 2], [1, 1, 1, 1]]
    draws, log_prob = nd.random.multinomial(p, shape=5, get_prob=True, dtype="float32")
    assert log_prob.shape == (2, 5) and log_prob.dtype == np.float64
    want = np.log(p.asnumpy()[np.arange(2)[:, None], draws.asnumpy().astype(int)])
    np.testing.assert_array_equal(log_prob.asnumpy(), want)
    outs = [nd.zeros((2, 5)), nd.zeros((2, 5), dtype="float64")]
    assert nd.random.multinomial(p, shape=5, get_prob=True, dtype="float32", out=outs) == outs
    out = nd.zeros(2)
    assert nd.random.multinomial(p, out=out, dtype="float32") is out


def test_multinomial_log_probability_gradient_is_one_over_p_at_each_draw():
    p = nd.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], dtype="float64")
    p.attach_grad()
    head = np.arange(1, 9, dtype=np.float64).reshape(2, 4)
    with autograd.record():
        draws, log_prob = nd.random.multinomial(p, shape=4, get_prob=True, dtype="float64")
    log_prob.backward(nd.array(head, dtype="float64"))
    want = np.zeros((2, 3))
    for i in range(2):
        for j in range(4):
            c = int(draws.asnumpy()[i, j])
            want[i, c] += head[i, j] / p.asnumpy()[i, c]
    np.testing.assert_allclose(p.grad.asnumpy(), want, rtol=1e-14)
    # through a softmax, as a policy's score function
    x = nd.array([[0.3, -1.0, 2.0]], dtype="float64")
    x.attach_grad()
    nd.random.seed(4)
    with autograd.record():
        _, lp = nd.random.multinomial(nd.softmax(x), shape=3, get_prob=True, dtype="float64")
        loss = lp.sum()
    loss.backward()
    assert np.isfinite(x.grad.asnumpy()).all() and abs(x.grad.asnumpy().sum()) < 1e-12


def test_multinomial_refusals():
    p = nd.array([[0.5, 0.5]])
    for call, exc, needle in [
            (lambda: nd.random.multinomial(p, dtype="int8"), ValueError, "int8"),
            (lambda: nd.random.multinomial(p, dtype="int64"), ValueError, "int64"),
            (lambda: nd.random.multinomial(p, dtype="bool"), ValueError, "bool"),
            (lambda: nd.random.multinomial(nd.array([[1, 0]], dtype="int32")), ValueError, "int32"),
            (lambda: nd.random.multinomial(nd.ones((1, 300)) / 300, dtype="uint8"), ValueError, "uint8"),
            (lambda: nd.random.multinomial(p, dtype="float16"), ValueError, "float16"),
            (lambda: nd.random.multinomial(nd.array([[0.1, 0.1]]), dtype="float32"), ValueError, "sums to 0.2"),
            (lambda: nd.random.multinomial(nd.array([[1.0, 1.0]]), dtype="float32"), ValueError, "sums to 2"),
            (lambda: nd.random.multinomial(nd.array([-0.5, 1.5]), dtype="float32"), ValueError, "probability -0.5"),
            (lambda: nd.random.multinomial(nd.array([float("nan"), 1]), dtype="float32"), ValueError, "NaN"),
            (lambda: nd.random.multinomial(nd.array(1.0), dtype="float32"), ValueError, "0-d"),
            (lambda: nd.random.multinomial(nd.zeros((2, 0)), dtype="float32"), ValueError, "no categories"),
            (lambda: nd.random.multinomial([0.5, 0.5], dtype="float32"), TypeError, "data"),
            (lambda: nd.random.multinomial(p, get_prob=1, dtype="float32"), TypeError, "get_prob"),
            (lambda: nd.random.multinomial(p, ctx=ad.cpu(), dtype="float32"), TypeError, "ctx"),
            (lambda: nd.random.multinomial(p, out=nd.zeros((1, 3)), dtype="float32"), ValueError, "out has shape"),
            (lambda: nd.random.multinomial(p, get_prob=True, out=nd.zeros(1), dtype="float32"), TypeError, "list of 2"),
            (lambda: nd.random.multinomial(p, get_prob=True, out=[nd.zeros(1), 3], dtype="float32"), TypeError, "out"),
    ]:
        with pytest.raises(exc, match=needle):
            call()


def test_multinomial_is_reproducible_on_1_and_2_threads():
    script = """
import numpy as np
from ad import nd
nd.random.seed(5)
p = nd.softmax(nd.arange(12).reshape(3, 4) / 5)
s, lp = nd.random.multinomial(p, shape=100, get_prob=True, dtype="float32")
print(np.concatenate([s.asnumpy().ravel(), lp.asnumpy().ravel()]).tobytes().hex())
"""
    one = run_python(script, env={"AD_NUM_THREADS": "1"})
    assert run_python(script, env={"AD_NUM_THREADS": "2"}) == one
