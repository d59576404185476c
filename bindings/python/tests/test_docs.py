"""Every public function and method of ad.nd, ad.nd.random, ad.autograd, ad.NDArray and
ad.gluon.data (its classes too) has a
docstring in MXNet's numpydoc layout: a summary, a Parameters section naming each of its
parameters, and a Returns section unless it returns nothing."""
import inspect
import re

import pytest

import ad
from ad import _ops, autograd, nd
from ad.ndarray import NDArray, _reducer

# The ones that return None, as their MXNet counterparts.
RETURN_NOTHING = {"nd.waitall", "nd.save", "nd.random.seed", "autograd.backward", "autograd.mark_variables",
                  "NDArray.attach_grad", "NDArray.retain_grad",
                  "NDArray.register_grad_ready_hook", "NDArray.backward", "NDArray.wait_to_read"}


def public_callables():
    """(qualified name, object) of every public function and method."""
    found = []
    for prefix, module in (("nd", nd), ("nd.random", nd.random), ("autograd", autograd)):
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj) and not inspect.isclass(obj):
                found.append(("%s.%s" % (prefix, name), obj))
    for name in dir(NDArray):
        if not name.startswith("_") and callable(getattr(NDArray, name)):
            found.append(("NDArray." + name, getattr(NDArray, name)))
    # gluon.data: its functions, its classes (their docstrings describe the constructor's
    # parameters) and their public methods.
    for name in ad.gluon.data.__all__:
        obj = getattr(ad.gluon.data, name)
        found.append(("gluon.data." + name, obj))
        if inspect.isclass(obj):
            for method in dir(obj):
                if not method.startswith("_") and callable(getattr(obj, method)):
                    found.append(("gluon.data.%s.%s" % (name, method), getattr(obj, method)))
    return found


def public_attributes():
    """(qualified name, docstring) of every public property of NDArray."""
    return [("NDArray." + name, inspect.getattr_static(NDArray, name).__doc__)
            for name in dir(NDArray) if not name.startswith("_") and not callable(getattr(NDArray, name))]


def section(doc, title):
    """The body of a numpydoc section (`Title` underlined with dashes), or None."""
    m = re.search(r"^%s\n-{%d}\n(.*?)(?=^\S[^\n]*\n-{3,}\n|\Z)" % (title, len(title)), doc, re.S | re.M)
    return m and m.group(1)


def test_the_namespaces_list_their_functions():
    assert set(nd.random.__all__) == {"seed", "normal", "uniform", "randn", "exponential", "gamma", "poisson",
                                      "randint", "shuffle", "multinomial"}
    names = dict(public_callables())
    for expected in ("nd.exp", "nd.add", "nd.sum", "nd.softmax", "nd.random.normal", "autograd.grad",
                     "NDArray.exp", "NDArray.sum", "NDArray.asscalar", "NDArray.backward", "NDArray.max"):
        assert expected in names
    assert {"NDArray.shape", "NDArray.dtype", "NDArray.grad", "NDArray.T"} <= dict(public_attributes()).keys()


@pytest.mark.parametrize("name, obj", public_callables(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_function_has_an_mxnet_style_docstring(name, obj):
    doc = inspect.getdoc(obj)
    assert doc and doc.strip(), "%s has no docstring" % name
    params = [p for p in inspect.signature(obj).parameters.values() if p.name != "self"]
    if params:
        body = section(doc, "Parameters")
        assert body is not None, "%s: no Parameters section" % name
        for p in params:
            star = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "")
            assert re.search(r"^%s%s( : \S|$)" % (re.escape(star), p.name), body, re.M), \
                "%s: parameter %s%s is not described" % (name, star, p.name)
    if name not in RETURN_NOTHING and not inspect.isclass(obj):
        assert section(doc, "Returns"), "%s: no Returns section" % name


@pytest.mark.parametrize("name, doc", public_attributes(), ids=lambda v: v if isinstance(v, str) and "." in v else "")
def test_every_public_property_has_a_docstring(name, doc):
    assert doc and doc.strip(), "%s has no docstring" % name


def test_the_c_methods_of_the_reductions_carry_the_tables_docstrings_and_signatures():
    for op in _ops.OPS:
        if op.slot in ("sum", "mean", "norm"):
            method = getattr(NDArray, op.slot)
            assert method.__doc__ == _ops.method_doc(op), op.name
            # the signature the C code advertises is that of the Python code it hands over to
            c_sig = inspect.signature(method)
            py_sig = inspect.signature(_reducer(op))
            assert [(p.name, p.default, p.kind == p.KEYWORD_ONLY) for p in c_sig.parameters.values()][1:] == \
                [(p.name, p.default, p.kind == p.KEYWORD_ONLY) for p in py_sig.parameters.values()][1:]


def test_a_missing_parameter_is_reported():
    def f(data, axis=None):
        """Something.

        Parameters
        ----------
        data : NDArray
            The input.

        Returns
        -------
        NDArray
        """
    with pytest.raises(AssertionError, match="parameter axis is not described"):
        test_every_public_function_has_an_mxnet_style_docstring("f", f)
    with pytest.raises(AssertionError, match="no docstring"):
        test_every_public_function_has_an_mxnet_style_docstring("g", lambda: None)


def test_the_package_has_a_docstring():
    for module in (ad, nd, nd.random, autograd, ad.gluon, ad.gluon.data):
        assert inspect.getdoc(module)
