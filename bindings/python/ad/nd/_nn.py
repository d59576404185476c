"""The neural-network functions of MXNet's `nd`, with MXNet's names, parameters and
defaults, and its fused optimizer updates (`out=weight` updates in place)."""
import ctypes

from .. import autograd
from .._helpers import dtype_code, handle, handles, into
from .._lib import check, lib
from ..errors import ADValueError
from ..ndarray import _call_new

__all__ = [
    "softmax", "log_softmax", "softmax_cross_entropy", "pick", "one_hot", "argmax", "argmin",
    "clip", "where", "FullyConnected", "flatten", "Flatten", "concat", "stack", "slice_axis",
    "Dropout", "BatchNorm", "sgd_update", "sgd_mom_update", "adam_update",
]


def _scaled(data, temperature):
    """`data / temperature`, or `data` for None or 1."""
    if temperature is not None and temperature != 1.0:
        return data / float(temperature)
    return data


def softmax(data, axis=-1, temperature=None, out=None):
    data = _scaled(data, temperature)   # held here: the call borrows its handle
    return into(out, _call_new(lib.ad_softmax, handle(data, "data"), int(axis)))


def log_softmax(data, axis=-1, temperature=None, out=None):
    data = _scaled(data, temperature)   # held here: the call borrows its handle
    return into(out, _call_new(lib.ad_log_softmax, handle(data, "data"), int(axis)))


def softmax_cross_entropy(data, label, out=None):
    """MXNet's softmax_cross_entropy: the summed cross-entropy of logits (N, C) against class
    labels (N,), shape (1,)."""
    return into(out, _call_new(lib.ad_softmax_cross_entropy, handle(data, "data"), handle(label, "label"), True))


def pick(data, index, axis=-1, mode="clip", keepdims=False, out=None):
    """Elements of `data` at the positions `index` gives along `axis`. A position out of range
    raises IndexError (MXNet's 'clip' mode would silently clamp it)."""
    if mode not in ("clip", "wrap"):
        raise ADValueError("pick: mode must be 'clip' or 'wrap'; got %r" % (mode,))
    return into(out, _call_new(lib.ad_pick, handle(data, "data"), handle(index, "index"), int(axis), bool(keepdims)))


def one_hot(indices, depth, on_value=1.0, off_value=0.0, dtype="float32", out=None):
    return into(out, _call_new(lib.ad_one_hot, handle(indices, "indices"), int(depth), float(on_value),
                               float(off_value), dtype_code(dtype)))


def _arg(fn, data, axis, keepdims):
    axis_arg = None if axis is None else (ctypes.c_int64 * 1)(int(axis))
    return _call_new(fn, handle(data, "data"), axis_arg, bool(keepdims))


def argmax(data, axis=None, keepdims=False, out=None):
    return into(out, _arg(lib.ad_argmax, data, axis, keepdims))


def argmin(data, axis=None, keepdims=False, out=None):
    return into(out, _arg(lib.ad_argmin, data, axis, keepdims))


def clip(data, a_min, a_max, out=None):
    return into(out, _call_new(lib.ad_clip, handle(data, "data"), float(a_min), float(a_max)))


def where(condition, x, y, out=None):
    return into(out, _call_new(lib.ad_where, handle(condition, "condition"), handle(x, "x"), handle(y, "y")))


def FullyConnected(data, weight, bias=None, num_hidden=None, no_bias=False, flatten=True, out=None):
    """y = data · weightᵀ + bias, weight of shape (num_hidden, k)."""
    weight_handle = handle(weight, "weight")
    if num_hidden is not None and (weight.ndim < 1 or weight.shape[0] != int(num_hidden)):
        raise ADValueError("FullyConnected: num_hidden is %d but weight has shape %s" % (num_hidden, weight.shape))
    bias_handle = None if (no_bias or bias is None) else handle(bias, "bias")
    return into(out, _call_new(lib.ad_fully_connected, handle(data, "data"), weight_handle, bias_handle, bool(flatten)))


def flatten(data, out=None):
    return into(out, _call_new(lib.ad_flatten, handle(data, "data")))


Flatten = flatten


def _arrays(data):
    """The arrays of `concat(*data)` or `concat([...])`."""
    return list(data[0]) if len(data) == 1 and isinstance(data[0], (list, tuple)) else list(data)


def concat(*data, dim=1, out=None):
    arrays = _arrays(data)
    return into(out, _call_new(lib.ad_concat, handles(arrays, "data"), len(arrays), int(dim)))


def stack(*data, axis=0, out=None):
    arrays = _arrays(data)
    return into(out, _call_new(lib.ad_stack, handles(arrays, "data"), len(arrays), int(axis)))


def slice_axis(data, axis, begin, end, out=None):
    """`data` restricted to [begin, end) along `axis` (end None: to the end; negative values
    count from the end). As MXNet, an axis out of range, or a range that is empty or reaches
    past the axis, is refused."""
    shape = data.shape
    if not -len(shape) <= int(axis) < len(shape):
        raise ADValueError("slice_axis: axis %d is out of range for an array of shape %s" % (axis, shape))
    axis = int(axis) % len(shape)
    size = shape[axis]
    b = int(begin) + size if int(begin) < 0 else int(begin)
    e = size if end is None else (int(end) + size if int(end) < 0 else int(end))
    if not 0 <= b < e <= size:
        raise ADValueError("slice_axis: begin %s, end %s is not a non-empty range of axis %d of shape %s"
                           % (begin, end, axis, shape))
    key = (slice(None),) * axis + (slice(b, e),)
    return into(out, data[key])


def Dropout(data, p=0.5, mode="training", axes=(), out=None):
    """Zeroes each element with probability p and scales the rest by 1/(1-p) in training mode
    (always, with mode='always'); the identity in prediction mode. MXNet's `axes` (one mask
    shared along those axes) is not supported."""
    if mode not in ("training", "always"):
        raise ADValueError("Dropout: mode must be 'training' or 'always'; got %r" % (mode,))
    if axes:
        raise ADValueError("Dropout: axes=%r (a mask shared along axes) is not supported" % (axes,))
    if mode == "always":
        with autograd.train_mode():
            return into(out, _call_new(lib.ad_dropout, handle(data, "data"), float(p)))
    return into(out, _call_new(lib.ad_dropout, handle(data, "data"), float(p)))


def BatchNorm(data, gamma, beta, moving_mean, moving_var, eps=1e-3, momentum=0.9, fix_gamma=True,
              use_global_stats=False, axis=1, out=None):
    """Batch normalisation over every axis but `axis`: batch statistics in training mode
    (updating moving_mean and moving_var in place), the moving statistics in prediction mode."""
    return into(out, _call_new(lib.ad_batch_norm, handle(data, "data"), handle(gamma, "gamma"), handle(beta, "beta"),
                               handle(moving_mean, "moving_mean"), handle(moving_var, "moving_var"), float(momentum),
                               float(eps), int(axis), bool(fix_gamma), bool(use_global_stats)))


def _target(weight, out):
    """The array an update writes: `out` (usually the weight itself), or a copy of the weight."""
    if out is None:
        return weight.copy()
    if out is not weight:
        out[:] = weight
    return out


def sgd_update(weight, grad, lr, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0, lazy_update=True, out=None):
    w = _target(weight, out)
    check(lib.ad_sgd_update(handle(w, "weight"), handle(grad, "grad"), float(lr), float(wd), float(rescale_grad),
                            float(clip_gradient)))
    return w


def sgd_mom_update(weight, grad, mom, lr, momentum=0.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0,
                   lazy_update=True, out=None):
    """Updates `mom` in place, and the weight (or `out`)."""
    w = _target(weight, out)
    check(lib.ad_sgd_mom_update(handle(w, "weight"), handle(grad, "grad"), handle(mom, "mom"), float(lr),
                                float(momentum), float(wd), float(rescale_grad), float(clip_gradient)))
    return w


def adam_update(weight, grad, mean, var, lr, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0.0, rescale_grad=1.0,
                clip_gradient=-1.0, lazy_update=True, out=None):
    """Updates `mean` and `var` in place, and the weight (or `out`), as MXNet's adam_update
    (no bias correction: MXNet's optimizer folds it into lr)."""
    w = _target(weight, out)
    check(lib.ad_adam_update(handle(w, "weight"), handle(grad, "grad"), handle(mean, "mean"), handle(var, "var"),
                             float(lr), float(beta1), float(beta2), float(epsilon), float(wd), float(rescale_grad),
                             float(clip_gradient), 0))
    return w
