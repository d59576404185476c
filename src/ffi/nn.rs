//! Neural-network ops and optimizer updates. As everywhere, each op's result is a new handle
//! in `*out` that the caller frees with `ad_array_free`; inputs are borrowed for the call.

use super::ad_status;
use super::engine::{ops, optim};
use super::handles::ad_array;

/// Softmax along `axis` (negative counts from the end), computed stably from `a - max(a)`.
#[no_mangle]
pub unsafe extern "C" fn ad_softmax(a: *const ad_array, axis: i64, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::softmax(&arg!(handle a)?, axis))
}

/// Log-softmax along `axis`, stable for large logits.
#[no_mangle]
pub unsafe extern "C" fn ad_log_softmax(a: *const ad_array, axis: i64, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::log_softmax(&arg!(handle a)?, axis))
}

/// Softmax cross-entropy of `logits` (N, C) against `labels` (N,) holding class indices in
/// 0..C: the mean over rows of `-log softmax(logits)[label]`, or the sum when `sum` is true.
/// Shape (1,). A label out of range or not a whole number is `AD_ERR_INDEX`.
#[no_mangle]
pub unsafe extern "C" fn ad_softmax_cross_entropy(logits: *const ad_array, labels: *const ad_array, sum: bool, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::softmax_cross_entropy(&arg!(handle logits)?, &arg!(handle labels)?, sum))
}

/// MXNet's `pick`: the elements of `a` at the positions `index` holds along `axis`; `index`
/// has `a`'s shape without that axis (or with it as 1). A position out of range is
/// `AD_ERR_INDEX` (MXNet clips it silently). The result keeps `axis` as 1 with `keepdims`.
#[no_mangle]
pub unsafe extern "C" fn ad_pick(a: *const ad_array, index: *const ad_array, axis: i64, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::pick(&arg!(handle a)?, &arg!(handle index)?, axis, keepdims))
}

/// One-hot rows of length `depth` for the class indices in `indices`: shape
/// `indices.shape + (depth,)`, `on_value` at the index and `off_value` elsewhere (a row of
/// `off_value` for an index outside 0..depth, as MXNet). Not differentiable.
#[no_mangle]
pub unsafe extern "C" fn ad_one_hot(indices: *const ad_array, depth: usize, on_value: f64, off_value: f64, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, {
        let dtype = arg!(dtype dtype)?;
        ops::one_hot(&arg!(handle indices)?, depth, on_value, off_value, dtype)
    })
}

/// Positions of the maxima along `*axis`, or over the flattened array when `axis` is NULL
/// (shape (1,), or all ones with `keepdims`), as floats of `a`'s dtype; the first occurrence
/// wins. Not differentiable.
#[no_mangle]
pub unsafe extern "C" fn ad_argmax(a: *const ad_array, axis: *const i64, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::argmax(&arg!(handle a)?, arg!(value? axis), keepdims))
}

/// Positions of the minima; as `ad_argmax`.
#[no_mangle]
pub unsafe extern "C" fn ad_argmin(a: *const ad_array, axis: *const i64, keepdims: bool, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::argmin(&arg!(handle a)?, arg!(value? axis), keepdims))
}

/// `a` limited to [`a_min`, `a_max`]; the gradient passes where `a_min <= a <= a_max`.
#[no_mangle]
pub unsafe extern "C" fn ad_clip(a: *const ad_array, a_min: f64, a_max: f64, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::clip(&arg!(handle a)?, a_min, a_max))
}

/// Elements of `a` where `condition` is non-zero and of `b` elsewhere, the three broadcast
/// together. Gradients flow to `a` and `b`, not to `condition`.
#[no_mangle]
pub unsafe extern "C" fn ad_where(condition: *const ad_array, a: *const ad_array, b: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::where_(&arg!(handle condition)?, &arg!(handle a)?, &arg!(handle b)?))
}

/// A copy of `a` as a matrix: its first axis kept and the rest flattened (a new array, as
/// MXNet's Flatten; `ad_array_reshape` gives a view).
#[no_mangle]
pub unsafe extern "C" fn ad_flatten(a: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::flatten, a, out)
}

/// MXNet's FullyConnected: `x · weightᵀ + bias`, `weight` (num_hidden, k), `bias`
/// (num_hidden,) or NULL. With `flatten`, `x` is first flattened to (N, k); otherwise the
/// product is over its last axis. The transpose is a stride swap, not a copy.
#[no_mangle]
pub unsafe extern "C" fn ad_fully_connected(x: *const ad_array, weight: *const ad_array, bias: *const ad_array, flatten: bool, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, {
        let bias = arg!(handle? bias)?;
        ops::fully_connected(&arg!(handle x)?, &arg!(handle weight)?, bias.as_ref(), flatten)
    })
}

/// The `n` arrays joined along `axis`; their shapes must agree on every other axis.
#[no_mangle]
pub unsafe extern "C" fn ad_concat(arrays: *const *const ad_array, n: usize, axis: i64, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::concat(&arg!(handles arrays, n)?, axis))
}

/// The `n` arrays, all of one shape, stacked along a new axis `axis`.
#[no_mangle]
pub unsafe extern "C" fn ad_stack(arrays: *const *const ad_array, n: usize, axis: i64, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::stack(&arg!(handles arrays, n)?, axis))
}

/// Dropout: in training mode (see `ad_is_training`) each element is zeroed with probability
/// `p` and the others scaled by 1/(1-p), drawn from the seeded generator; in prediction mode
/// the result is `a` itself. `p` must be in [0, 1).
#[no_mangle]
pub unsafe extern "C" fn ad_dropout(a: *const ad_array, p: f64, out: *mut *mut ad_array) -> ad_status {
    scalar!(ops::dropout, a, p, out)
}

/// Batch normalisation of `x` over every axis but `axis` (MXNet's BatchNorm). In training
/// mode without `use_global_stats` it uses the batch mean and biased variance and updates
/// `running_mean` and `running_var` in place (`r = r·momentum + batch·(1 - momentum)`); in
/// prediction mode it uses them. With `fix_gamma` the scale is 1 and `gamma` is unused.
/// `gamma`, `beta` and the running statistics have shape (x.shape[axis],).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ad_batch_norm(
    x: *const ad_array,
    gamma: *const ad_array,
    beta: *const ad_array,
    running_mean: *mut ad_array,
    running_var: *mut ad_array,
    momentum: f64,
    eps: f64,
    axis: i64,
    fix_gamma: bool,
    use_global_stats: bool,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(
        out,
        ops::batch_norm(
            &arg!(handle x)?,
            &arg!(handle gamma)?,
            &arg!(handle beta)?,
            &arg!(handle running_mean)?,
            &arg!(handle running_var)?,
            momentum,
            eps,
            axis,
            fix_gamma,
            use_global_stats,
        )
    )
}

fn hyper(lr: f64, wd: f64, rescale_grad: f64, clip_gradient: f64) -> optim::OptimizerParams {
    optim::OptimizerParams { lr, wd, rescale_grad, clip_gradient }
}

/// MXNet's `sgd_update`, in place: `weight = (1 - lr·wd)·weight - lr·clip(rescale_grad·grad)`
/// (`clip_gradient` < 0: no clipping). Not allowed inside a record scope on an array in the
/// graph.
#[no_mangle]
pub extern "C" fn ad_sgd_update(weight: *mut ad_array, grad: *const ad_array, lr: f64, wd: f64, rescale_grad: f64, clip_gradient: f64) -> ad_status {
    ffi_boundary!({ Ok(optim::sgd_update(&arg!(handle weight)?, &arg!(handle grad)?, hyper(lr, wd, rescale_grad, clip_gradient))?) })
}

/// MXNet's `sgd_mom_update`, in place: `mom = momentum·mom - lr·wd·weight -
/// lr·clip(rescale_grad·grad)`, then `weight += mom`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn ad_sgd_mom_update(
    weight: *mut ad_array,
    grad: *const ad_array,
    mom: *mut ad_array,
    lr: f64,
    momentum: f64,
    wd: f64,
    rescale_grad: f64,
    clip_gradient: f64,
) -> ad_status {
    ffi_boundary!({
        let (w, g, m) = (arg!(handle weight)?, arg!(handle grad)?, arg!(handle mom)?);
        Ok(optim::sgd_mom_update(&w, &g, &m, momentum, hyper(lr, wd, rescale_grad, clip_gradient))?)
    })
}

/// MXNet's `adam_update`, in place: `g = clip(rescale_grad·grad + wd·weight)`,
/// `mean = β1·mean + (1-β1)·g`, `var = β2·var + (1-β2)·g²`,
/// `weight -= lr_t·mean / (sqrt(var) + epsilon)`. With `t` = 0, `lr_t = lr` (exactly
/// `nd.adam_update`); with step count `t` ≥ 1, `lr_t = lr·sqrt(1-β2ᵗ)/(1-β1ᵗ)`, the bias
/// correction of MXNet's Adam optimizer.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn ad_adam_update(
    weight: *mut ad_array,
    grad: *const ad_array,
    mean: *mut ad_array,
    var: *mut ad_array,
    lr: f64,
    beta1: f64,
    beta2: f64,
    epsilon: f64,
    wd: f64,
    rescale_grad: f64,
    clip_gradient: f64,
    t: u64,
) -> ad_status {
    ffi_boundary!({
        let (w, g) = (arg!(handle weight)?, arg!(handle grad)?);
        let (m, v) = (arg!(handle mean)?, arg!(handle var)?);
        Ok(optim::adam_update(&w, &g, &m, &v, beta1, beta2, epsilon, t, hyper(lr, wd, rescale_grad, clip_gradient))?)
    })
}

/// MXNet's `signsgd_update`, in place: `weight = (1 - lr·wd)·weight - lr·sign(grad)`.
/// As in MXNet, `rescale_grad` and `clip_gradient` are accepted and have no effect (only the
/// gradient's sign counts). `weight` is written; `grad` is read. Errors: `AD_ERR_SHAPE` or
/// `AD_ERR_DTYPE` when `grad` differs from `weight` (the message names both shapes).
#[no_mangle]
pub extern "C" fn ad_signsgd_update(weight: *mut ad_array, grad: *const ad_array, lr: f64, wd: f64, rescale_grad: f64, clip_gradient: f64) -> ad_status {
    ffi_boundary!({ Ok(optim::signsgd_update(&arg!(handle weight)?, &arg!(handle grad)?, hyper(lr, wd, rescale_grad, clip_gradient))?) })
}

/// MXNet's `signum_update`, in place: `mom = momentum·mom - (1-momentum)·wd·weight -
/// (1-momentum)·clip(rescale_grad·grad)`, then `weight = (1 - lr·wd_lh)·weight + lr·sign(mom)`.
/// `weight` and `mom` are written; `grad` is read. Errors: `AD_ERR_SHAPE` or `AD_ERR_DTYPE`
/// when `grad` or `mom` differs from `weight` (the message names both shapes);
/// `AD_ERR_INVALID_ARGUMENT` when `mom` shares memory with `weight`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn ad_signum_update(
    weight: *mut ad_array,
    grad: *const ad_array,
    mom: *mut ad_array,
    lr: f64,
    momentum: f64,
    wd: f64,
    rescale_grad: f64,
    clip_gradient: f64,
    wd_lh: f64,
) -> ad_status {
    ffi_boundary!({
        let (w, g, m) = (arg!(handle weight)?, arg!(handle grad)?, arg!(handle mom)?);
        Ok(optim::signum_update(&w, &g, &m, momentum, wd_lh, hyper(lr, wd, rescale_grad, clip_gradient))?)
    })
}

/// MXNet's `rmsprop_update` (Tieleman and Hinton), in place: `g = clip(rescale_grad·grad +
/// wd·weight)`, `n = (1-gamma1)·g² + gamma1·n`, `weight = weight - lr·g/sqrt(n + epsilon)`,
/// then clipped to `[-clip_weights, clip_weights]` when `clip_weights` ≥ 0. `weight` and `n`
/// are written; `grad` is read. Errors: `AD_ERR_SHAPE` or `AD_ERR_DTYPE` when `grad` or `n`
/// differs from `weight` (the message names both shapes); `AD_ERR_INVALID_ARGUMENT` when `n`
/// shares memory with `weight`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn ad_rmsprop_update(
    weight: *mut ad_array,
    grad: *const ad_array,
    n: *mut ad_array,
    lr: f64,
    gamma1: f64,
    epsilon: f64,
    wd: f64,
    rescale_grad: f64,
    clip_gradient: f64,
    clip_weights: f64,
) -> ad_status {
    ffi_boundary!({
        let (w, g, n) = (arg!(handle weight)?, arg!(handle grad)?, arg!(handle n)?);
        Ok(optim::rmsprop_update(&w, &g, &n, gamma1, epsilon, clip_weights, hyper(lr, wd, rescale_grad, clip_gradient))?)
    })
}

/// MXNet's `rmspropalex_update` (Graves' centered RMSProp), in place: with
/// `r = clip(rescale_grad·grad + wd·weight)`, `n = (1-gamma1)·r² + gamma1·n`,
/// `g = (1-gamma1)·r + gamma1·g`, `delta = gamma2·delta - lr·r/sqrt(n - g² + epsilon)` and
/// `weight = weight + delta`, clipped to `[-clip_weights, clip_weights]` when `clip_weights`
/// ≥ 0. `weight`, `n`, `g` and `delta` are written; `grad` is read. Errors: `AD_ERR_SHAPE` or
/// `AD_ERR_DTYPE` when an array differs from `weight` (the message names both shapes);
/// `AD_ERR_INVALID_ARGUMENT` when two written arrays share memory.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn ad_rmspropalex_update(
    weight: *mut ad_array,
    grad: *const ad_array,
    n: *mut ad_array,
    g: *mut ad_array,
    delta: *mut ad_array,
    lr: f64,
    gamma1: f64,
    gamma2: f64,
    epsilon: f64,
    wd: f64,
    rescale_grad: f64,
    clip_gradient: f64,
    clip_weights: f64,
) -> ad_status {
    ffi_boundary!({
        let (w, gr) = (arg!(handle weight)?, arg!(handle grad)?);
        let (n, g, d) = (arg!(handle n)?, arg!(handle g)?, arg!(handle delta)?);
        Ok(optim::rmspropalex_update(&w, &gr, &n, &g, &d, gamma1, gamma2, epsilon, clip_weights, hyper(lr, wd, rescale_grad, clip_gradient))?)
    })
}

/// MXNet's `ftrl_update` (FTRL-Proximal), in place: with `r = clip(rescale_grad·grad)`,
/// `z += r - (sqrt(n + r²) - sqrt(n))·weight/lr`, `n += r²`, and
/// `weight = (sign(z)·lamda1 - z) / ((beta + sqrt(n))/lr + wd)` where `|z| > lamda1`, else 0.
/// `weight`, `z` and `n` are written; `grad` is read. Errors: `AD_ERR_SHAPE` or
/// `AD_ERR_DTYPE` when an array differs from `weight` (the message names both shapes);
/// `AD_ERR_INVALID_ARGUMENT` when two written arrays share memory.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn ad_ftrl_update(
    weight: *mut ad_array,
    grad: *const ad_array,
    z: *mut ad_array,
    n: *mut ad_array,
    lr: f64,
    lamda1: f64,
    beta: f64,
    wd: f64,
    rescale_grad: f64,
    clip_gradient: f64,
) -> ad_status {
    ffi_boundary!({
        let (w, g) = (arg!(handle weight)?, arg!(handle grad)?);
        let (z, n) = (arg!(handle z)?, arg!(handle n)?);
        Ok(optim::ftrl_update(&w, &g, &z, &n, lamda1, beta, hyper(lr, wd, rescale_grad, clip_gradient))?)
    })
}

/// MXNet's `nag_mom_update` (Nesterov momentum), in place: with `d = clip(rescale_grad·grad)
/// + wd·weight`, `mom = momentum·mom`, `weight = weight - mom + (momentum+1)·(mom - lr·d)`,
/// then `mom -= lr·(clip(rescale_grad·grad) + wd·weight)` with the new weight (MXNet's
/// result with `out=weight`, which its NAG optimizer uses). `weight` and `mom` are written;
/// `grad` is read. Errors: `AD_ERR_SHAPE` or `AD_ERR_DTYPE` when `grad` or `mom` differs from
/// `weight` (the message names both shapes); `AD_ERR_INVALID_ARGUMENT` when `mom` shares
/// memory with `weight`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn ad_nag_mom_update(
    weight: *mut ad_array,
    grad: *const ad_array,
    mom: *mut ad_array,
    lr: f64,
    momentum: f64,
    wd: f64,
    rescale_grad: f64,
    clip_gradient: f64,
) -> ad_status {
    ffi_boundary!({
        let (w, g, m) = (arg!(handle weight)?, arg!(handle grad)?, arg!(handle mom)?);
        Ok(optim::nag_mom_update(&w, &g, &m, momentum, hyper(lr, wd, rescale_grad, clip_gradient))?)
    })
}

/// MXNet's `lamb_update_phase1`, the first half of a LAMB step: with
/// `r = clip(rescale_grad·grad)`, updates `mean = beta1·mean + (1-beta1)·r` and
/// `var = beta2·var + (1-beta2)·r²` in place, and makes in `*out` a new array, the direction
/// `g = mean_hat/(sqrt(var_hat) + epsilon) + wd·weight`, where `mean_hat = mean/(1-beta1ᵗ)` and
/// `var_hat = var/(1-beta2ᵗ)` with `bias_correction` (`mean` and `var` without). `weight` and
/// `grad` are read; `mean` and `var` are written; `*out` is the caller's to free. Errors:
/// `AD_ERR_SHAPE` or `AD_ERR_DTYPE` when an array differs from `weight` (the message names
/// both shapes); `AD_ERR_INVALID_ARGUMENT` when two of `weight`, `mean` and `var` share
/// memory. On error `*out` is left alone.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn ad_lamb_update_phase1(
    weight: *const ad_array,
    grad: *const ad_array,
    mean: *mut ad_array,
    var: *mut ad_array,
    beta1: f64,
    beta2: f64,
    epsilon: f64,
    t: u64,
    bias_correction: bool,
    wd: f64,
    rescale_grad: f64,
    clip_gradient: f64,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(
        out,
        optim::lamb_update_phase1(
            &arg!(handle weight)?,
            &arg!(handle grad)?,
            &arg!(handle mean)?,
            &arg!(handle var)?,
            beta1,
            beta2,
            epsilon,
            t,
            bias_correction,
            hyper(0.0, wd, rescale_grad, clip_gradient),
        )
    )
}

/// MXNet's `lamb_update_phase2`, the second half of a LAMB step, in place:
/// `weight -= lr·(r1/r2)·g`, where `r1` (the weight's norm) and `r2` (the direction's) are
/// one-element arrays, `r1` first raised to `lower_bound` and lowered to `upper_bound` (each
/// when ≥ 0); when `r1` or `r2` is 0, `weight -= lr·g`. `weight` is written; `g`, `r1` and
/// `r2` are read. Errors: `AD_ERR_SHAPE` or `AD_ERR_DTYPE` when `g` differs from `weight` (the
/// message names both shapes) or `r1` or `r2` is not one element of the weight's dtype.
#[no_mangle]
pub extern "C" fn ad_lamb_update_phase2(
    weight: *mut ad_array,
    g: *const ad_array,
    r1: *const ad_array,
    r2: *const ad_array,
    lr: f64,
    lower_bound: f64,
    upper_bound: f64,
) -> ad_status {
    ffi_boundary!({
        let (w, g) = (arg!(handle weight)?, arg!(handle g)?);
        let (r1, r2) = (arg!(handle r1)?, arg!(handle r2)?);
        Ok(optim::lamb_update_phase2(&w, &g, &r1, &r2, lr, lower_bound, upper_bound)?)
    })
}

/// `a` sorted along `*axis` (negative counting from the end), or the flattened array sorted
/// when `axis` is NULL (shape (size,)), ascending when `is_ascend`, else descending; equal
/// elements keep their order and NaN counts as the largest. The gradient goes back to where
/// each value came from. An axis out of range is `AD_ERR_SHAPE`.
#[no_mangle]
pub unsafe extern "C" fn ad_sort(a: *const ad_array, axis: *const i64, is_ascend: bool, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::sort(&arg!(handle a)?, arg!(value? axis), is_ascend))
}

/// The positions that sort `a` along `*axis` (of the flattened array when `axis` is NULL), in
/// the order of `ad_sort`, as floats of `dtype` (an `ad_dtype`). Not differentiable.
#[no_mangle]
pub unsafe extern "C" fn ad_argsort(a: *const ad_array, axis: *const i64, is_ascend: bool, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, {
        let dtype = arg!(dtype dtype)?;
        ops::argsort(&arg!(handle a)?, arg!(value? axis), is_ascend, dtype)
    })
}

/// MXNet's `topk`: the `k` largest elements of `a` along `*axis` (the smallest when
/// `is_ascend`; of the flattened array when `axis` is NULL; all of them when `k` < 1), in the
/// order of `ad_sort`. `ret_typ` (an `ad_topk_ret`) picks the result: their values
/// (differentiable, as `ad_sort`'s), their positions as floats of `dtype`, or a mask of `a`'s
/// shape (in `a`'s dtype) with 1 at their places. `k` above the axis's length is
/// `AD_ERR_SHAPE`; an unknown `ret_typ` or `dtype` is `AD_ERR_INVALID_ARGUMENT` or `AD_ERR_DTYPE`.
#[no_mangle]
pub unsafe extern "C" fn ad_topk(a: *const ad_array, axis: *const i64, k: i64, ret_typ: u32, is_ascend: bool, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, {
        let ret = arg!(topk ret_typ)?;
        let dtype = arg!(dtype dtype)?;
        ops::topk(&arg!(handle a)?, arg!(value? axis), k, ret, is_ascend, dtype)
    })
}
