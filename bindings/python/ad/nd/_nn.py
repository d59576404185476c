"""The neural-network functions of MXNet's `nd`, with MXNet's names, parameters and
defaults, and its fused optimizer updates (`out=weight` updates in place)."""
import ctypes

from .. import autograd
from .._indexing import INDEX_CLIP, INDEX_WRAP
from .._helpers import dtype_code, handle, handles, into
from .._lib import check, lib
from ..errors import ADValueError
from ..ndarray import _call_new

__all__ = [
    "softmax", "log_softmax", "softmax_cross_entropy", "pick", "one_hot", "argmax", "argmin", "cumsum", "sort", "argsort", "topk",
    "clip", "where", "FullyConnected", "flatten", "Flatten", "concat", "stack", "slice_axis",
    "Dropout", "BatchNorm", "sgd_update", "sgd_mom_update", "adam_update", "signsgd_update", "signum_update",
    "rmsprop_update", "rmspropalex_update", "ftrl_update", "nag_mom_update", "lamb_update_phase1",
    "lamb_update_phase2",
]

_OUT = """out : NDArray, optional
        An array to write the result into, in place; it is returned instead of a new array."""

# The arguments the three optimizer updates share, as MXNet describes them.
_UPDATE_ARGS = """wd : float, optional
        Weight decay (default 0): a penalty on large weights, proportional to the square of
        their magnitude.
    rescale_grad : float, optional
        A factor the gradient is multiplied by first (default 1).
    clip_gradient : float, optional
        Clip the rescaled gradient to [-clip_gradient, clip_gradient]; a value <= 0 (the
        default -1) turns clipping off.
    lazy_update : bool, optional
        MXNet's lazy update applies to row-sparse gradients only; ad's arrays are dense, so it
        changes nothing, as in MXNet for dense arrays.
    out : NDArray, optional
        The array to write the new weight into: usually `weight` itself, for an update in
        place. None (the default) leaves `weight` alone and returns the new weight as a new
        array."""

# The same, for the updates that have no `lazy_update` in MXNet.
_UPDATE_ARGS_DENSE = _UPDATE_ARGS.replace("""    lazy_update : bool, optional
        MXNet's lazy update applies to row-sparse gradients only; ad's arrays are dense, so it
        changes nothing, as in MXNet for dense arrays.
""", "")


def _scaled(data, temperature):
    """`data / temperature`, or `data` for None or 1."""
    if temperature is not None and temperature != 1.0:
        return data / float(temperature)
    return data


def _in_dtype(data, dtype):
    """`data` in `dtype` (MXNet's softmax `dtype`: the dtype of the result, computed in it)."""
    if dtype is None:
        return data
    return data.astype(dtype)


def softmax(data, axis=-1, temperature=None, dtype=None, out=None):
    data = _scaled(_in_dtype(data, dtype), temperature)   # held here: the call borrows its handle
    return into(out, _call_new(lib.ad_softmax, handle(data, "data"), int(axis)))


softmax.__doc__ = """The softmax along `axis`: e ** (x / t) divided by its sum along the axis, so that
    each slice along `axis` holds values in (0, 1) summing to 1. Computed stably, from
    ``x - max(x)``.

    Parameters
    ----------
    data : NDArray
        The input array.
    axis : int, optional
        The axis along which to normalise (default -1, the last).
    temperature : float, optional
        The temperature t the input is divided by first; None (the default) is 1.
    dtype : str or numpy.dtype, optional
        The dtype of the result, which is computed in it; None (the default) keeps the input's.
    %s

    Returns
    -------
    NDArray
        An array of the input's shape. MXNet's `length` and `use_length` arguments are not
        supported.
    """ % _OUT


def log_softmax(data, axis=-1, temperature=None, dtype=None, out=None):
    data = _scaled(_in_dtype(data, dtype), temperature)   # held here: the call borrows its handle
    return into(out, _call_new(lib.ad_log_softmax, handle(data, "data"), int(axis)))


log_softmax.__doc__ = """The logarithm of the softmax along `axis`, computed stably for large inputs.

    Parameters
    ----------
    data : NDArray
        The input array.
    axis : int, optional
        The axis along which to normalise (default -1, the last).
    temperature : float, optional
        The temperature the input is divided by first; None (the default) is 1.
    dtype : str or numpy.dtype, optional
        The dtype of the result, which is computed in it; None (the default) keeps the input's.
    %s

    Returns
    -------
    NDArray
        An array of the input's shape. MXNet's `use_length` argument is not supported.
    """ % _OUT


def softmax_cross_entropy(data, label, out=None):
    return into(out, _call_new(lib.ad_softmax_cross_entropy, handle(data, "data"), handle(label, "label"), True))


softmax_cross_entropy.__doc__ = """The cross-entropy between the softmax of each row of `data` and the class its label
    names, summed over the rows: ``-sum(log(softmax(data)[i, label[i]]))``.

    Parameters
    ----------
    data : NDArray
        The logits, shape (N, C).
    label : NDArray
        The class of each row, shape (N,), as whole numbers in 0..C-1. A label out of range
        raises IndexError (MXNet clips it).
    %s

    Returns
    -------
    NDArray
        The total, shape (1,).
    """ % _OUT


def pick(data, index, axis=-1, mode=None, keepdims=False, out=None):
    if mode not in (None, "clip", "wrap"):
        raise ADValueError("pick: mode must be 'clip' or 'wrap'; got %r" % (mode,))
    hd, hi = handle(data, "data"), handle(index, "index")
    if mode is None:
        return into(out, _call_new(lib.ad_pick, hd, hi, int(axis), bool(keepdims)))
    code = INDEX_CLIP if mode == "clip" else INDEX_WRAP
    return into(out, _call_new(lib.ad_pick_mode, hd, hi, int(axis), bool(keepdims), code))


pick.__doc__ = """The elements of `data` at the positions `index` holds along `axis`: for 2-d data and
    axis 1, ``out[i] = data[i, index[i]]``.

    Parameters
    ----------
    data : NDArray
        The input array.
    index : NDArray
        The positions, as whole numbers; the shape of `data` without `axis` (or with it as 1).
    axis : int, optional
        The axis to pick along (default -1, the last; negative counts from the end). MXNet's
        None (positions in the flattened array) is not supported.
    mode : {None, 'clip', 'wrap'}, optional
        What a position out of range does: None (the default) raises IndexError; 'clip'
        clamps it to the nearer end of the axis and 'wrap' wraps it around (-1 is the last),
        each position first truncated towards zero, as in MXNet. MXNet's default is 'clip',
        which hides such positions; ad reports them unless 'clip' is asked for.
    keepdims : bool, optional
        Keep `axis` in the result, with size 1 (default False).
    %s

    Returns
    -------
    NDArray
        The picked elements.
    """ % _OUT


def one_hot(indices, depth, on_value=1.0, off_value=0.0, dtype="float32", out=None):
    return into(out, _call_new(lib.ad_one_hot, handle(indices, "indices"), int(depth), float(on_value),
                               float(off_value), dtype_code(dtype)))


one_hot.__doc__ = """One-hot rows for class indices: for each index, a row of length `depth` holding
    `on_value` at the index and `off_value` elsewhere (all `off_value` for an index outside
    0..depth-1, as in MXNet). Not differentiable.

    Parameters
    ----------
    indices : NDArray
        The class indices.
    depth : int
        The length of each row, the number of classes.
    on_value : float, optional
        The value at each index (default 1).
    off_value : float, optional
        The value elsewhere (default 0).
    dtype : str or numpy.dtype, optional
        float32 (the default), float64, an integer dtype or bool; `on_value` and `off_value`
        are converted to it as `astype` converts.
    %s

    Returns
    -------
    NDArray
        An array of shape ``indices.shape + (depth,)``.
    """ % _OUT


def _arg(fn, data, axis, keepdims):
    axis_arg = None if axis is None else (ctypes.c_int64 * 1)(int(axis))
    return _call_new(fn, handle(data, "data"), axis_arg, bool(keepdims))


_ARG_DOC = """The positions of the %s elements along `axis` (the first one on ties), as floats
    of the input's dtype, as in MXNet. Not differentiable.

    Parameters
    ----------
    data : NDArray
        The input array.
    axis : int or None, optional
        The axis to search along (negative counts from the end); None (the default) searches
        the flattened array and gives shape (1,).
    keepdims : bool, optional
        Keep the searched axis (all axes for None) in the result, with size 1 (default False).
    %s

    Returns
    -------
    NDArray
        The positions.
    """


def argmax(data, axis=None, keepdims=False, out=None):
    return into(out, _arg(lib.ad_argmax, data, axis, keepdims))


def argmin(data, axis=None, keepdims=False, out=None):
    return into(out, _arg(lib.ad_argmin, data, axis, keepdims))


argmax.__doc__ = _ARG_DOC % ("largest", _OUT)
argmin.__doc__ = _ARG_DOC % ("smallest", _OUT)


def cumsum(a, axis=None, dtype=None, out=None):
    h = handle(a, "a")
    if dtype is not None:
        a = a.astype(dtype, copy=False)  # the sums accumulate in `dtype`, as NumPy's
        h = a._handle
    axis_arg = None if axis is None else (ctypes.c_int64 * 1)(int(axis))
    return into(out, _call_new(lib.ad_cumsum, h, axis_arg))


cumsum.__doc__ = """The running sums along `axis`, as NumPy's and MXNet's `cumsum`; differentiable
    (the gradient is the running sum of the output's gradient from the end).

    Parameters
    ----------
    a : NDArray
        The input array.
    axis : int or None, optional
        The axis to sum along (negative counts from the end, which MXNet 1.9.1 refuses); None
        (the default) sums along the flattened array, giving shape (size,).
    dtype : str or numpy.dtype, optional
        The dtype of the result and of the sums, float32 or float64; None (the default)
        keeps the input's.
    %s

    Returns
    -------
    NDArray
        The running sums, of the input's shape (of shape (size,) for axis None).
    """ % _OUT


def _axis(axis):
    return None if axis is None else (ctypes.c_int64 * 1)(int(axis))


def sort(data, axis=-1, is_ascend=True, out=None):
    return into(out, _call_new(lib.ad_sort, handle(data, "data"), _axis(axis), bool(is_ascend)))


def argsort(data, axis=-1, is_ascend=True, dtype="float32", out=None):
    return into(out, _call_new(lib.ad_argsort, handle(data, "data"), _axis(axis), bool(is_ascend), dtype_code(dtype)))


_TOPK_RET = {"value": 0, "indices": 1, "mask": 2}


def topk(data, axis=-1, k=1, ret_typ="indices", is_ascend=False, dtype="float32", out=None):
    h = handle(data, "data")
    if ret_typ not in ("value", "indices", "mask", "both"):
        raise ADValueError("ret_typ must be 'value', 'indices', 'mask' or 'both'; got %r" % (ret_typ,))
    args = (_axis(axis), int(k))
    if ret_typ == "both":
        if out is not None:
            raise NotImplementedError("topk: `out` with ret_typ='both' is not supported")
        return [_call_new(lib.ad_topk, h, *args, _TOPK_RET[name], bool(is_ascend), dtype_code(dtype))
                for name in ("value", "indices")]
    return into(out, _call_new(lib.ad_topk, h, *args, _TOPK_RET[ret_typ], bool(is_ascend), dtype_code(dtype)))


sort.__doc__ = """The array sorted along `axis`, as MXNet's `sort`: equal elements keep their
    order, NaN counts as the largest. Differentiable: the gradient goes back to where each
    value came from.

    Parameters
    ----------
    data : NDArray
        The input array.
    axis : int or None, optional
        The axis to sort along (default -1, the last; negative counts from the end); None
        sorts the flattened array.
    is_ascend : bool, optional
        Ascending (the default) or descending order.
    %s

    Returns
    -------
    NDArray
        The sorted array, of the input's shape (of shape (size,) for axis None).
    """ % _OUT

argsort.__doc__ = """The positions that sort the array along `axis`, in the order of ``nd.sort``, as
    MXNet's `argsort`. Not differentiable.

    Parameters
    ----------
    data : NDArray
        The input array.
    axis : int or None, optional
        The axis to sort along (default -1, the last); None sorts the flattened array.
    is_ascend : bool, optional
        Ascending (the default) or descending order.
    dtype : str or numpy.dtype, optional
        The dtype of the positions: float32 (the default, as MXNet), float64, or an integer
        dtype (int32, int64, ...).
    %s

    Returns
    -------
    NDArray
        The positions, of the input's shape (of shape (size,) for axis None).
    """ % _OUT

topk.__doc__ = """The `k` largest elements along `axis` (the smallest with `is_ascend`), in the
    order of ``nd.sort``, as MXNet's `topk`.

    Parameters
    ----------
    data : NDArray
        The input array.
    axis : int or None, optional
        The axis to search along (default -1, the last); None searches the flattened array.
    k : int, optional
        How many elements (default 1); k < 1 takes them all. More than the axis's length
        raises ValueError.
    ret_typ : str, optional
        'indices' (the default): their positions along the axis; 'value': their values
        (differentiable, the gradient going back to where they came from); 'mask': an array
        of the input's shape with 1 at their places and 0 elsewhere; 'both': the list
        [values, positions].
    is_ascend : bool, optional
        Take the smallest instead of the largest (default False).
    dtype : str or numpy.dtype, optional
        The dtype of the positions: float32 (the default, as MXNet), float64, or an integer
        dtype (int32, int64, ...).
    %s

    Returns
    -------
    NDArray or list of NDArray
        The values, positions or mask; the input's shape with `axis` k long (the mask: the
        input's shape).
    """ % _OUT


def clip(data, a_min, a_max, out=None):
    return into(out, _call_new(lib.ad_clip, handle(data, "data"), float(a_min), float(a_max)))


clip.__doc__ = """The elements limited to the interval [a_min, a_max]: ``max(min(x, a_max), a_min)``.
    The gradient passes where ``a_min <= x <= a_max`` and is 0 elsewhere.

    Parameters
    ----------
    data : NDArray
        The input array.
    a_min : float
        The lower limit.
    a_max : float
        The upper limit.
    %s

    Returns
    -------
    NDArray
        The clipped array.
    """ % _OUT


def where(condition, x, y, out=None):
    return into(out, _call_new(lib.ad_where, handle(condition, "condition"), handle(x, "x"), handle(y, "y")))


where.__doc__ = """The elements of `x` where `condition` is non-zero and those of `y` elsewhere.
    Gradients flow to `x` and `y`, not to `condition`.

    Parameters
    ----------
    condition : NDArray
        The condition; any non-zero value counts as true.
    x : NDArray
        The values where the condition holds.
    y : NDArray
        The values where it does not.
    %s

    Returns
    -------
    NDArray
        The selected values. The three arrays broadcast together as in NumPy; MXNet instead
        requires `x` and `y` of one shape, and a condition of that shape or a 1-d condition
        choosing whole rows.
    """ % _OUT


def FullyConnected(data, weight, bias=None, num_hidden=None, no_bias=False, flatten=True, out=None):
    weight_handle = handle(weight, "weight")
    if num_hidden is not None and (weight.ndim < 1 or weight.shape[0] != int(num_hidden)):
        raise ADValueError("FullyConnected: num_hidden is %d but weight has shape %s" % (num_hidden, weight.shape))
    bias_handle = None if (no_bias or bias is None) else handle(bias, "bias")
    return into(out, _call_new(lib.ad_fully_connected, handle(data, "data"), weight_handle, bias_handle, bool(flatten)))


FullyConnected.__doc__ = """A dense layer: ``data · weightᵀ + bias``.

    With `flatten`, data of shape (N, x1, ..., xn) is used as (N, x1 * ... * xn), weight has
    shape (num_hidden, x1 * ... * xn), and the result (N, num_hidden). Without it, the
    product is over the last axis: data (x1, ..., xn, k), weight (num_hidden, k), result
    (x1, ..., xn, num_hidden).

    Parameters
    ----------
    data : NDArray
        The input.
    weight : NDArray
        The weight matrix, shape (num_hidden, k).
    bias : NDArray, optional
        The bias, shape (num_hidden,). MXNet requires it unless `no_bias`; ad also takes None
        for no bias.
    num_hidden : int, optional
        The number of outputs; checked against ``weight.shape[0]`` when given (MXNet
        requires it).
    no_bias : bool, optional
        Leave the bias out (default False).
    flatten : bool, optional
        Flatten all axes of `data` but the first (default True).
    %s

    Returns
    -------
    NDArray
        The layer's output.
    """ % _OUT


def flatten(data, out=None):
    return into(out, _call_new(lib.ad_flatten, handle(data, "data")))


flatten.__doc__ = """The array as a matrix: shape (d1, d2, ..., dk) becomes (d1, d2 * ... * dk), and (N,)
    becomes (N, 1), as in MXNet (unlike numpy's flatten).

    Parameters
    ----------
    data : NDArray
        The input array.
    %s

    Returns
    -------
    NDArray
        The flattened array, sharing the data of `data`.
    """ % _OUT

Flatten = flatten


def _arrays(data):
    """The arrays of `concat(*data)` or `concat([...])`."""
    return list(data[0]) if len(data) == 1 and isinstance(data[0], (list, tuple)) else list(data)


def concat(*data, dim=1, out=None):
    arrays = _arrays(data)
    return into(out, _call_new(lib.ad_concat, handles(arrays, "data"), len(arrays), int(dim)))


concat.__doc__ = """The arrays joined along the axis `dim`; their shapes must agree on every other axis.

    Parameters
    ----------
    *data : NDArray
        The arrays, as separate arguments or as one list.
    dim : int, optional
        The axis to join along (default 1; negative counts from the end).
    %s

    Returns
    -------
    NDArray
        The joined array, whose size along `dim` is the sum of the inputs'. MXNet's
        `num_args` argument is not supported: the arrays given are all joined.
    """ % _OUT


def stack(*data, axis=0, out=None):
    arrays = _arrays(data)
    return into(out, _call_new(lib.ad_stack, handles(arrays, "data"), len(arrays), int(axis)))


stack.__doc__ = """The arrays, all of one shape, stacked along a new axis.

    Parameters
    ----------
    *data : NDArray
        The arrays, as separate arguments or as one list.
    axis : int, optional
        The position of the new axis in the result (default 0).
    %s

    Returns
    -------
    NDArray
        An array with one more axis than the inputs. MXNet's `num_args` argument is not
        supported: the arrays given are all stacked.
    """ % _OUT


def slice_axis(data, axis, begin, end, out=None):
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


slice_axis.__doc__ = """`data` restricted to the positions [begin, end) along `axis`.

    Parameters
    ----------
    data : NDArray
        The input array.
    axis : int
        The axis to slice (negative counts from the end).
    begin : int
        The first position (negative counts from the end).
    end : int or None
        The position after the last (negative counts from the end); None slices to the end.
    %s

    Returns
    -------
    NDArray
        The slice. As in MXNet, an axis out of range, or a range that is empty or reaches past
        the axis, raises ValueError.
    """ % _OUT


def Dropout(data, p=0.5, mode="training", axes=(), out=None):
    if mode not in ("training", "always"):
        raise ADValueError("Dropout: mode must be 'training' or 'always'; got %r" % (mode,))
    if axes:
        raise ADValueError("Dropout: axes=%r (a mask shared along axes) is not supported" % (axes,))
    if mode == "always":
        with autograd.train_mode():
            return into(out, _call_new(lib.ad_dropout, handle(data, "data"), float(p)))
    return into(out, _call_new(lib.ad_dropout, handle(data, "data"), float(p)))


Dropout.__doc__ = """Dropout: in training mode each element is zeroed with probability `p` and the others
    are scaled by 1 / (1 - p), keeping the expected sum; in prediction mode the input passes
    unchanged. The mask is drawn from the generator `nd.random.seed` seeds.

    Parameters
    ----------
    data : NDArray
        The input array.
    p : float, optional
        The probability of zeroing an element (default 0.5), in [0, 1): p = 1 raises
        ValueError (MXNet gives NaN).
    mode : {'training', 'always'}, optional
        Drop in training mode only ('training', the default) or also in prediction mode
        ('always').
    axes : tuple of int, optional
        MXNet's axes along which one mask is shared (variational dropout); only the default,
        none, is supported.
    %s

    Returns
    -------
    NDArray
        The result, of the input's shape. MXNet's `cudnn_off` argument is not supported.
    """ % _OUT


def BatchNorm(data, gamma, beta, moving_mean, moving_var, eps=1e-3, momentum=0.9, fix_gamma=True,
              use_global_stats=False, axis=1, out=None):
    return into(out, _call_new(lib.ad_batch_norm, handle(data, "data"), handle(gamma, "gamma"), handle(beta, "beta"),
                               handle(moving_mean, "moving_mean"), handle(moving_var, "moving_var"), float(momentum),
                               float(eps), int(axis), bool(fix_gamma), bool(use_global_stats)))


BatchNorm.__doc__ = """Batch normalisation over every axis but `axis`: each channel (a position along
    `axis`) is normalised by a mean and variance and then scaled by `gamma` and shifted by
    `beta`. In training mode without `use_global_stats` the statistics are the batch's (its
    mean and biased variance), and `moving_mean` and `moving_var` are updated in place:
    ``moving = moving * momentum + batch * (1 - momentum)``. In prediction mode, or with
    `use_global_stats`, the moving statistics are used.

    Parameters
    ----------
    data : NDArray
        The input batch.
    gamma : NDArray
        The scale of each channel, shape (data.shape[axis],).
    beta : NDArray
        The shift of each channel, of the same shape.
    moving_mean : NDArray
        The running mean of each channel, of the same shape; updated in training.
    moving_var : NDArray
        The running variance of each channel, of the same shape; updated in training.
    eps : float, optional
        Added to the variance before its square root (default 1e-3).
    momentum : float, optional
        The weight of the old value in the running statistics' update (default 0.9).
    fix_gamma : bool, optional
        Use a scale of 1 instead of `gamma` (default True). MXNet also overwrites `gamma`
        with ones; ad leaves it alone.
    use_global_stats : bool, optional
        Normalise with the moving statistics in training mode too (default False).
    axis : int, optional
        The channel axis (default 1; -1 is the last).
    %s

    Returns
    -------
    NDArray
        The normalised batch, of the input's shape. MXNet's `output_mean_var`, `cudnn_off`
        and calibration arguments are not supported.
    """ % _OUT


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


sgd_update.__doc__ = """One step of stochastic gradient descent, MXNet's fused update:
    ``weight = (1 - lr * wd) * weight - lr * clip(rescale_grad * grad)``.

    Parameters
    ----------
    weight : NDArray
        The weight.
    grad : NDArray
        Its gradient.
    lr : float
        The learning rate.
    %s

    Returns
    -------
    NDArray
        The new weight: `out`, or a new array.
    """ % _UPDATE_ARGS


def sgd_mom_update(weight, grad, mom, lr, momentum=0.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0,
                   lazy_update=True, out=None):
    w = _target(weight, out)
    check(lib.ad_sgd_mom_update(handle(w, "weight"), handle(grad, "grad"), handle(mom, "mom"), float(lr),
                                float(momentum), float(wd), float(rescale_grad), float(clip_gradient)))
    return w


sgd_mom_update.__doc__ = """One step of gradient descent with momentum, MXNet's fused update:
    ``mom = momentum * mom - lr * wd * weight - lr * clip(rescale_grad * grad)``, then
    ``weight += mom``. `mom` is updated in place.

    Parameters
    ----------
    weight : NDArray
        The weight.
    grad : NDArray
        Its gradient.
    mom : NDArray
        The momentum (velocity), of the weight's shape; updated in place.
    lr : float
        The learning rate.
    momentum : float, optional
        The decay rate of the momentum (default 0).
    %s

    Returns
    -------
    NDArray
        The new weight: `out`, or a new array.
    """ % _UPDATE_ARGS


def adam_update(weight, grad, mean, var, lr, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0.0, rescale_grad=1.0,
                clip_gradient=-1.0, lazy_update=True, out=None):
    w = _target(weight, out)
    check(lib.ad_adam_update(handle(w, "weight"), handle(grad, "grad"), handle(mean, "mean"), handle(var, "var"),
                             float(lr), float(beta1), float(beta2), float(epsilon), float(wd), float(rescale_grad),
                             float(clip_gradient), 0))
    return w


adam_update.__doc__ = """One step of Adam, MXNet's fused update: with
    ``g = clip(rescale_grad * grad + wd * weight)``, ``mean = beta1 * mean + (1 - beta1) * g``,
    ``var = beta2 * var + (1 - beta2) * g ** 2`` and
    ``weight -= lr * mean / (sqrt(var) + epsilon)``. `mean` and `var` are updated in place.
    As in MXNet's `adam_update`, there is no bias correction (MXNet's Adam optimizer folds it
    into `lr`).

    Parameters
    ----------
    weight : NDArray
        The weight.
    grad : NDArray
        Its gradient.
    mean : NDArray
        The moving mean of the gradient (first moment), of the weight's shape; updated in
        place.
    var : NDArray
        The moving mean of its square (second moment), of the weight's shape; updated in place.
    lr : float
        The learning rate.
    beta1 : float, optional
        The decay rate of `mean` (default 0.9).
    beta2 : float, optional
        The decay rate of `var` (default 0.999).
    epsilon : float, optional
        Added to ``sqrt(var)`` for numerical stability (default 1e-8).
    %s

    Returns
    -------
    NDArray
        The new weight: `out`, or a new array.
    """ % _UPDATE_ARGS


def signsgd_update(weight, grad, lr, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0, out=None):
    w = _target(weight, out)
    check(lib.ad_signsgd_update(handle(w, "weight"), handle(grad, "grad"), float(lr), float(wd),
                                float(rescale_grad), float(clip_gradient)))
    return w


signsgd_update.__doc__ = """One step of SignSGD, MXNet's fused update:
    ``weight = (1 - lr * wd) * weight - lr * sign(grad)``. As in MXNet, `rescale_grad` and
    `clip_gradient` are accepted and change nothing: only the gradient's sign counts.

    Parameters
    ----------
    weight : NDArray
        The weight.
    grad : NDArray
        Its gradient.
    lr : float
        The learning rate.
    %s

    Returns
    -------
    NDArray
        The new weight: `out`, or a new array.
    """ % _UPDATE_ARGS_DENSE


def signum_update(weight, grad, mom, lr, momentum=0.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0, wd_lh=0.0,
                  out=None):
    w = _target(weight, out)
    check(lib.ad_signum_update(handle(w, "weight"), handle(grad, "grad"), handle(mom, "mom"), float(lr),
                               float(momentum), float(wd), float(rescale_grad), float(clip_gradient), float(wd_lh)))
    return w


signum_update.__doc__ = """One step of Signum (SignSGD with momentum), MXNet's fused update:
    ``mom = momentum * mom - (1 - momentum) * wd * weight - (1 - momentum) * clip(rescale_grad * grad)``,
    then ``weight = (1 - lr * wd_lh) * weight + lr * sign(mom)``. `mom` is updated in place.

    Parameters
    ----------
    weight : NDArray
        The weight.
    grad : NDArray
        Its gradient.
    mom : NDArray
        The momentum, of the weight's shape; updated in place.
    lr : float
        The learning rate.
    momentum : float, optional
        The decay rate of the momentum (default 0).
    %s

    Returns
    -------
    NDArray
        The new weight: `out`, or a new array.
    """ % _UPDATE_ARGS_DENSE.replace("""
    out : NDArray""", """
    wd_lh : float, optional
        Decoupled weight decay (Loshchilov and Hutter), applied to the weight directly and not
        through the momentum (default 0).
    out : NDArray""")


def rmsprop_update(weight, grad, n, lr, gamma1=0.95, epsilon=1e-8, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0,
                   clip_weights=-1.0, out=None):
    w = _target(weight, out)
    check(lib.ad_rmsprop_update(handle(w, "weight"), handle(grad, "grad"), handle(n, "n"), float(lr), float(gamma1),
                                float(epsilon), float(wd), float(rescale_grad), float(clip_gradient),
                                float(clip_weights)))
    return w


rmsprop_update.__doc__ = """One step of RMSProp (Tieleman and Hinton), MXNet's fused update: with
    ``g = clip(rescale_grad * grad + wd * weight)``, ``n = (1 - gamma1) * g ** 2 + gamma1 * n``
    and ``weight = weight - lr * g / sqrt(n + epsilon)``, clipped to
    [-clip_weights, clip_weights] when `clip_weights` >= 0. `n` is updated in place.

    Parameters
    ----------
    weight : NDArray
        The weight.
    grad : NDArray
        Its gradient.
    n : NDArray
        The moving mean of the squared gradient, of the weight's shape; updated in place.
    lr : float
        The learning rate.
    gamma1 : float, optional
        The decay rate of `n` (default 0.95).
    epsilon : float, optional
        Added to `n` under the square root, for numerical stability (default 1e-8).
    %s
    clip_weights : float, optional
        Clip the new weight to [-clip_weights, clip_weights]; a negative value (the default
        -1) turns clipping off.

    Returns
    -------
    NDArray
        The new weight: `out`, or a new array.
    """ % _UPDATE_ARGS_DENSE


def rmspropalex_update(weight, grad, n, g, delta, lr, gamma1=0.95, gamma2=0.9, epsilon=1e-8, wd=0.0,
                       rescale_grad=1.0, clip_gradient=-1.0, clip_weights=-1.0, out=None):
    w = _target(weight, out)
    check(lib.ad_rmspropalex_update(handle(w, "weight"), handle(grad, "grad"), handle(n, "n"), handle(g, "g"),
                                    handle(delta, "delta"), float(lr), float(gamma1), float(gamma2), float(epsilon),
                                    float(wd), float(rescale_grad), float(clip_gradient), float(clip_weights)))
    return w


rmspropalex_update.__doc__ = """One step of centred RMSProp (Graves), MXNet's fused update: with
    ``r = clip(rescale_grad * grad + wd * weight)``, ``n = (1 - gamma1) * r ** 2 + gamma1 * n``,
    ``g = (1 - gamma1) * r + gamma1 * g``,
    ``delta = gamma2 * delta - lr * r / sqrt(n - g ** 2 + epsilon)`` and
    ``weight = weight + delta``, clipped to [-clip_weights, clip_weights] when `clip_weights`
    >= 0. `n`, `g` and `delta` are updated in place.

    Parameters
    ----------
    weight : NDArray
        The weight.
    grad : NDArray
        Its gradient.
    n : NDArray
        The moving mean of the squared gradient; updated in place.
    g : NDArray
        The moving mean of the gradient; updated in place.
    delta : NDArray
        The moving step (momentum); updated in place.
    lr : float
        The learning rate.
    gamma1 : float, optional
        The decay rate of `n` and `g` (default 0.95).
    gamma2 : float, optional
        The decay rate of `delta` (default 0.9).
    epsilon : float, optional
        Added under the square root, for numerical stability (default 1e-8).
    %s
    clip_weights : float, optional
        Clip the new weight to [-clip_weights, clip_weights]; a negative value (the default
        -1) turns clipping off.

    Returns
    -------
    NDArray
        The new weight: `out`, or a new array.
    """ % _UPDATE_ARGS_DENSE


def ftrl_update(weight, grad, z, n, lr, lamda1=0.01, beta=1.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0,
                out=None):
    w = _target(weight, out)
    check(lib.ad_ftrl_update(handle(w, "weight"), handle(grad, "grad"), handle(z, "z"), handle(n, "n"), float(lr),
                             float(lamda1), float(beta), float(wd), float(rescale_grad), float(clip_gradient)))
    return w


ftrl_update.__doc__ = """One step of FTRL-Proximal, MXNet's fused update: with
    ``r = clip(rescale_grad * grad)``,
    ``z += r - (sqrt(n + r ** 2) - sqrt(n)) * weight / lr`` and ``n += r ** 2``, the new
    weight is ``(sign(z) * lamda1 - z) / ((beta + sqrt(n)) / lr + wd)`` where
    ``|z| > lamda1``, and 0 elsewhere. `z` and `n` are updated in place.

    Parameters
    ----------
    weight : NDArray
        The weight.
    grad : NDArray
        Its gradient.
    z : NDArray
        The accumulated adjusted gradient; updated in place.
    n : NDArray
        The accumulated squared gradient; updated in place.
    lr : float
        The learning rate.
    lamda1 : float, optional
        The L1 regularisation coefficient (default 0.01; MXNet's spelling).
    beta : float, optional
        The per-coordinate learning-rate parameter (default 1).
    %s

    Returns
    -------
    NDArray
        The new weight: `out`, or a new array.
    """ % _UPDATE_ARGS_DENSE


def nag_mom_update(weight, grad, mom, lr, momentum=0.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0, out=None):
    w = _target(weight, out)
    check(lib.ad_nag_mom_update(handle(w, "weight"), handle(grad, "grad"), handle(mom, "mom"), float(lr),
                                float(momentum), float(wd), float(rescale_grad), float(clip_gradient)))
    return w


nag_mom_update.__doc__ = """One step of Nesterov accelerated gradient, MXNet's fused update: with
    ``d = clip(rescale_grad * grad) + wd * weight``, ``mom = momentum * mom``,
    ``weight = weight - mom + (momentum + 1) * (mom - lr * d)``, then
    ``mom -= lr * (clip(rescale_grad * grad) + wd * weight)`` with the new weight. `mom` is
    updated in place.

    The momentum's weight-decay term reads the *new* weight: that is what MXNet 1.9.1 computes
    with ``out=weight`` (its kernel writes the weight before it reads it again), the call its
    NAG optimizer makes. ad computes that whatever `out` is; MXNet, writing into another array,
    reads the old weight there, so with ``wd != 0`` and ``out`` not `weight` the new `mom`
    differs from MXNet's (the new weight does not).

    Parameters
    ----------
    weight : NDArray
        The weight.
    grad : NDArray
        Its gradient.
    mom : NDArray
        The momentum, of the weight's shape; updated in place.
    lr : float
        The learning rate.
    momentum : float, optional
        The decay rate of the momentum (default 0).
    %s

    Returns
    -------
    NDArray
        The new weight: `out`, or a new array.
    """ % _UPDATE_ARGS_DENSE


def lamb_update_phase1(weight, grad, mean, var, beta1=0.9, beta2=0.999, epsilon=1e-6, t=None, bias_correction=True,
                       wd=None, rescale_grad=1.0, clip_gradient=-1.0, out=None):
    if t is None or wd is None:
        raise TypeError("lamb_update_phase1: %s is required (MXNet's has no default)" % ("t" if t is None else "wd"))
    if int(t) < 0:
        raise ValueError("lamb_update_phase1: t must be a step count (>= 0); got %r" % (t,))
    return into(out, _call_new(lib.ad_lamb_update_phase1, handle(weight, "weight"), handle(grad, "grad"),
                               handle(mean, "mean"), handle(var, "var"), float(beta1), float(beta2), float(epsilon),
                               int(t), bool(bias_correction), float(wd), float(rescale_grad), float(clip_gradient)))


lamb_update_phase1.__doc__ = """The first half of a LAMB step, MXNet's fused update: with
    ``r = clip(rescale_grad * grad)``, ``mean = beta1 * mean + (1 - beta1) * r`` and
    ``var = beta2 * var + (1 - beta2) * r ** 2`` (both updated in place), the direction
    ``g = mean_hat / (sqrt(var_hat) + epsilon) + wd * weight``, where
    ``mean_hat = mean / (1 - beta1 ** t)`` and ``var_hat = var / (1 - beta2 ** t)`` with bias
    correction (`mean` and `var` without). The weight is not changed: `lamb_update_phase2`
    takes `g` and the norms of the weight and of `g`.

    Parameters
    ----------
    weight : NDArray
        The weight (read only).
    grad : NDArray
        Its gradient.
    mean : NDArray
        The moving mean of the gradient, of the weight's shape; updated in place.
    var : NDArray
        The moving mean of its square, of the weight's shape; updated in place.
    beta1 : float, optional
        The decay rate of `mean` (default 0.9).
    beta2 : float, optional
        The decay rate of `var` (default 0.999).
    epsilon : float, optional
        Added to ``sqrt(var_hat)`` for numerical stability (default 1e-6).
    t : int
        The step count, from 1 (required, as in MXNet).
    bias_correction : bool, optional
        Divide the moments by ``1 - beta ** t`` (default True).
    wd : float
        Weight decay (required, as in MXNet), added to the direction as ``wd * weight``.
    rescale_grad : float, optional
        A factor the gradient is multiplied by first (default 1).
    clip_gradient : float, optional
        Clip the rescaled gradient to [-clip_gradient, clip_gradient]; a negative value (the
        default -1) turns clipping off.
    out : NDArray, optional
        An array to write the direction into; it is returned instead of a new array.

    Returns
    -------
    NDArray
        The direction `g`, of the weight's shape.
    """


def lamb_update_phase2(weight, g, r1, r2, lr, lower_bound=-1.0, upper_bound=-1.0, out=None):
    w = _target(weight, out)
    check(lib.ad_lamb_update_phase2(handle(w, "weight"), handle(g, "g"), handle(r1, "r1"), handle(r2, "r2"),
                                    float(lr), float(lower_bound), float(upper_bound)))
    return w


lamb_update_phase2.__doc__ = """The second half of a LAMB step, MXNet's fused update:
    ``weight = weight - lr * (r1 / r2) * g``, with `r1` first raised to `lower_bound` and
    lowered to `upper_bound` (each when >= 0); when `r1` or `r2` is 0,
    ``weight = weight - lr * g``.

    Parameters
    ----------
    weight : NDArray
        The weight.
    g : NDArray
        The direction `lamb_update_phase1` returned.
    r1 : NDArray
        The weight's L2 norm, one element (``weight.norm()``).
    r2 : NDArray
        The direction's L2 norm, one element (``g.norm()``).
    lr : float
        The learning rate.
    lower_bound : float, optional
        The least `r1` counts as; a negative value (the default -1) sets none.
    upper_bound : float, optional
        The most `r1` counts as; a negative value (the default -1) sets none.
    out : NDArray, optional
        The array to write the new weight into: usually `weight` itself, for an update in
        place. None (the default) leaves `weight` alone and returns the new weight as a new
        array.

    Returns
    -------
    NDArray
        The new weight: `out`, or a new array.
    """
