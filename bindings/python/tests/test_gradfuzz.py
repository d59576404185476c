"""The gradient fuzzer, through the Python package: the engine's fuzzer (tests/gradfuzz in the
repository) writes its random programs as Python, and each runs here through `ad`'s Python API
(operators, methods and `backward` through the C extension's per-op path). Each program's
gradients are checked three ways, as the engine's are: float64 against central finite
differences, float32 against float64, and the default mode against the reference mode (which
also turns off the C extension's shortcuts).

AD_GRADFUZZ_PROGRAMS and AD_GRADFUZZ_SEED set the campaign (default 3000 programs, seed 11); a
long one: `AD_GRADFUZZ_PROGRAMS=20000 AD_GRADFUZZ_SEED=5 python -m pytest test_gradfuzz.py`.
"""
import json
import math
import os
import subprocess
import tempfile
import warnings

import numpy as np
import pytest

import ad
from ad import autograd, nd
from support import ROOT

PROGRAMS = int(os.environ.get("AD_GRADFUZZ_PROGRAMS", "3000"))
SEED = int(os.environ.get("AD_GRADFUZZ_SEED", "11"))

# The engine's fuzzer's tolerances (tests/gradfuzz/main.rs).
F32_TOL = (3e-3, 1e-5)
SAME_F64_TOL = (1e-9, 1e-12)
SAME_F32_TOL = (5e-4, 1e-6)


@pytest.fixture(scope="module")
def programs():
    """The campaign's programs, from the engine's fuzzer (built by cargo)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "programs.jsonl")
        cmd = ["cargo", "test", "-q", "--test", "gradfuzz", "--", "--emit", path,
               "--programs", str(PROGRAMS), "--seed", str(SEED)]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, "the program generator failed:\n%s%s" % (done.stdout, done.stderr)
        with open(path) as f:
            first, *rest = [json.loads(line) for line in f]
        # the first line: the definitions the programs use (the custom function mul_tanh)
        scope = {"nd": nd, "autograd": autograd}
        exec(compile(first["prelude"], "<gradfuzz prelude>", "exec"), scope)
        for p in rest:
            p["scope"] = scope
        return rest


def compile_program(p):
    """The program's body as a function of its inputs, returning its heads and the categories
    its multinomial ops drew (one array each)."""
    names = [i["name"] for i in p["inputs"]]
    lines = ["def program(nd, autograd, dtype, %s):" % ", ".join(names)]
    lines += ["    " + line for line in p["body"]]
    lines.append("    return [%s], [%s]" % (", ".join(p["heads"]), ", ".join(p["draws"])))
    scope = dict(p["scope"])
    exec(compile("\n".join(lines), "<gradfuzz %d/%d>" % (p["seed"], p["number"]), "exec"), scope)
    return scope["program"]


def drawn(draws):
    """The categories drawn, as one list to compare."""
    return [c for d in draws for c in d.asnumpy().ravel().tolist()]


def make_inputs(p, dtype, values=None, req=None):
    arrays = []
    for k, i in enumerate(p["inputs"]):
        v = i["values"] if values is None else values[k]
        a = nd.array(v, dtype=dtype).reshape(tuple(i["shape"]))
        if i["variable"] and req is not None:
            a.attach_grad(req)
        arrays.append(a)
    return arrays


def variables(p, arrays):
    return [a for a, i in zip(arrays, p["inputs"]) if i["variable"]]


def head_grads(p, dtype):
    return [None if g is None else nd.array(g, dtype=dtype).reshape(tuple(s))
            for g, s in zip(p["head_grads"], p["head_shapes"])]


def differentiate(p, fn, dtype, values=None, backward=None):
    """The heads' values, the variables' gradients, differentiated as the program says, and the
    categories drawn."""
    backward = backward or p["backward"]
    arrays = make_inputs(p, dtype, values, "add" if backward == "add_twice" else "write")
    xs = variables(p, arrays)
    hg = head_grads(p, dtype)
    with autograd.record():
        heads, draws = fn(nd, autograd, dtype, *arrays)
        if backward == "second":
            g = autograd.grad(heads, xs, head_grads=hg, create_graph=True)
            m = None
            for gi, d, x in zip(g, p["directions"], xs):
                term = (gi * nd.array(d, dtype=dtype).reshape(x.shape)).sum()
                m = term if m is None else m + term
    if backward == "plain":
        if len(heads) == 1:
            # The C extension's own backward, with and without a head gradient.
            heads[0].backward() if hg[0] is None else heads[0].backward(hg[0])
        else:
            autograd.backward(heads, head_grads=hg)
        grads = [x.grad.asnumpy() for x in xs]
    elif backward in ("add_twice", "retain_twice"):
        autograd.backward(heads, head_grads=hg, retain_graph=True)
        autograd.backward(heads, head_grads=hg)
        grads = [x.grad.asnumpy() for x in xs]
        if backward == "add_twice":
            grads = [g / 2 for g in grads]
    elif backward == "grad":
        grads = [g.asnumpy() for g in autograd.grad(heads, xs, head_grads=hg)]
    else:
        m.backward()
        grads = [x.grad.asnumpy() for x in xs]
    return ([h.asnumpy().astype(np.float64).ravel() for h in heads],
            [g.astype(np.float64).ravel() for g in grads], drawn(draws))


def objective(p, fn, values):
    """Σ heads ⊙ head gradients, float64, without recording (training mode, as recorded), and
    the categories drawn."""
    with autograd.train_mode():
        heads, draws = fn(nd, autograd, "float64", *make_inputs(p, "float64", values))
    terms = []
    for h, g in zip(heads, p["head_grads"]):
        v = h.asnumpy().ravel()
        terms.extend(v if g is None else v * np.array(g))
    return math.fsum(terms), drawn(draws)


def finite_differences(p, fn, draws):
    """Central differences, and where each crossed a jump: a perturbed evaluation that drew
    other categories than `draws` (the unperturbed ones) measures the jump of a
    log-probability from one category's to another's, not a slope."""
    values = [list(i["values"]) for i in p["inputs"]]
    var_index = [k for k, i in enumerate(p["inputs"]) if i["variable"]]
    if p["backward"] == "second":
        eps = 1e-5

        def moved(sign):
            v = [list(x) for x in values]
            for k, d in zip(var_index, p["directions"]):
                v[k] = [x + sign * eps * di for x, di in zip(v[k], d)]
            return v
        _, plus, plus_draws = differentiate(p, fn, "float64", moved(1.0), "plain")
        _, minus, minus_draws = differentiate(p, fn, "float64", moved(-1.0), "plain")
        # every element moved at once: one crossing spoils them all
        crossed = plus_draws != draws or minus_draws != draws
        return ([(a - b) / (2 * eps) for a, b in zip(plus, minus)],
                [np.full(a.shape, crossed) for a in plus])
    out, jumped = [], []
    for k in var_index:
        g, crossed = [], []
        for j, x in enumerate(values[k]):
            h = 1e-6 * max(1.0, abs(x))
            values[k][j] = x + h
            up, up_draws = objective(p, fn, values)
            values[k][j] = x - h
            down, down_draws = objective(p, fn, values)
            values[k][j] = x
            g.append((up - down) / (2 * h))
            crossed.append(up_draws != draws or down_draws != draws)
        out.append(np.array(g))
        jumped.append(np.array(crossed, dtype=bool))
    return out, jumped


def compare(what, got, want, tol, scale):
    rtol, atol = tol
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, "%s: array %d has %d elements, expected %d" % (what, i, g.size, w.size)
        bound = rtol * max(1.0, float(np.abs(w).max(initial=0.0))) + atol * scale
        bad = ~(np.abs(g - w) <= bound)
        if bad.any():
            j = int(np.argmax(bad))
            raise AssertionError("%s: array %d, element %d: %r against %r (tolerance %.3e)\n  got  %r\n  want %r"
                                 % (what, i, j, g[j], w[j], bound, g.tolist(), w.tolist()))


def run_modes(p, fn, dtype, values=None):
    results = []
    for reference in (False, True):
        with ad.reference_mode(reference):
            results.append(differentiate(p, fn, dtype, values))
    return results


def check(p):
    """Checks a program; returns how many finite differences were left out because they
    crossed a multinomial op's jump."""
    fn = compile_program(p)
    (h64, g64, d64), (rh64, rg64, rd64) = run_modes(p, fn, "float64")
    (h32, g32, d32), (rh32, rg32, rd32) = run_modes(p, fn, "float32")
    # The same seed draws the same categories in every mode and dtype: the generator keeps
    # each draw clear of its row's category boundaries by far more than float32's rounding.
    for what, d in (("float64 in the reference mode", rd64), ("float32", d32), ("float32 in the reference mode", rd32)):
        assert d == d64, "multinomial draws: %s draws %r, float64 %r" % (what, d, d64)
    fd, jumped = finite_differences(p, fn, d64)
    scale = sum(float(np.abs(h if g is None else h * np.array(g)).sum()) for h, g in zip(h64, p["head_grads"]))
    longest = max(int(np.prod(s)) for s in [i["shape"] for i in p["inputs"]] + p["head_shapes"])
    noise = np.finfo(np.float64).eps * max(longest, 64) * scale / 1e-6
    # a difference across a jump is left out (and counted); the rest are compared
    compare("float64 gradient against finite differences", [g[~j] for g, j in zip(g64, jumped)],
            [f[~j] for f, j in zip(fd, jumped)], (1e-5, 1.0), noise)
    compare("float32 gradient against float64", g32, g64, F32_TOL, scale)
    compare("float32 heads against float64", h32, h64, F32_TOL, 0.0)
    compare("float64 gradient, default against reference mode", g64, rg64, SAME_F64_TOL, scale)
    compare("float64 heads, default against reference mode", h64, rh64, SAME_F64_TOL, 0.0)
    compare("float32 gradient, default against reference mode", g32, rg32, SAME_F32_TOL, scale)
    compare("float32 heads, default against reference mode", h32, rh32, SAME_F32_TOL, 0.0)
    return int(sum(j.sum() for j in jumped))


def test_the_campaign_covers_every_kind_of_program(programs):
    assert len(programs) >= PROGRAMS * 0.95, "large programs are left to the engine's fuzzer; few are"
    kinds = {p["backward"] for p in programs}
    assert kinds == {"plain", "add_twice", "retain_twice", "grad", "second"}, kinds
    text = "\n".join(line for p in programs for line in p["body"])
    for form in ("nd.dot(", "nd.sum(", ".sum()", ".mean()", ".norm()", "nd.max(", "nd.norm(", "nd.softmax(", "nd.log_softmax(", "nd.pick(",
                 "nd.one_hot(", "nd.FullyConnected(", "nd.BatchNorm(", "nd.Dropout(", "nd.where(", "nd.clip(",
                 "nd.concat(", "nd.stack(", "nd.broadcast_to(", "nd.transpose(", ".reshape(", "nd.flatten(", ".copy()",
                 ".astype(", " ** ", " / ", "[", "nd.take(", "nd.split(", "nd.flip(", "nd.tile(", "nd.repeat(",
                 "nd.slice(", "nd.moveaxis(", "nd.swapaxes(", "nd.broadcast_like(", "nd.reshape_like(",
                 "nd.squeeze(", "nd.expand_dims(", "nd.concatenate(", "nd.eye(", "nd.linspace(", "nd.zeros_like(",
                 "nd.prod(", ".prod()", "nd.nansum(", "nd.nanprod(", "ord=1", "nd.cumsum(", "nd.batch_dot(", "nd.sort(", "nd.topk(",
                 "mode='wrap'", "[None", "], [", "mul_tanh(",
                 "nd.random.multinomial("):
        assert form in text, "no program uses %s" % form


def test_gradients_of_random_programs(programs):
    failures = []
    jumps, jumped_programs = 0, 0
    for p in programs:
        try:
            n = check(p)
            jumps += n
            jumped_programs += n > 0
        except Exception as exc:   # an error is as much a failure as a wrong gradient
            failures.append("program %d of seed %d: %s: %s\nas Python:\n%s"
                            % (p["number"], p["seed"], type(exc).__name__, exc, p["script"]))
        finally:
            ad.set_reference_mode(False)
    summary = "finite differences across a multinomial jump, left out: %d in %d programs" % (jumps, jumped_programs)
    print("gradfuzz: " + summary)
    if jumps:
        warnings.warn(summary)   # shown in pytest's summary, not only with -s
    assert not failures, "%d of %d programs fail; the first:\n%s" % (len(failures), len(programs), failures[0])
