//! Making, reading, printing, reshaping and freeing arrays.

use std::ffi::{c_char, c_void};

use super::boundary::FfiError;
use super::engine::{self, fmt_shape, ops, random_seed, Bool, DType, NdArray};
use super::handles::{self, ad_array};
use super::ad_status;

/// Creates an array of `shape` (`ndim` sizes) and `dtype`, copying its elements from `data`,
/// which holds them row-major as `dtype` values (`float`, `double`, `uint16_t` holding float16
/// bit patterns, `uint8_t`, `int32_t`, `int8_t`, `int64_t`, or one byte per bool: 0 is false,
/// any other byte true). `data` may be NULL
/// only when the shape has no elements. On success `*out` is a new handle the caller frees
/// with `ad_array_free`; `data` is only read during the call.
#[no_mangle]
pub unsafe extern "C" fn ad_array_create(
    data: *const c_void,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, {
        let shape = arg!(shape shape, ndim)?;
        let n: usize = shape.iter().product();
        match arg!(dtype dtype)? {
            DType::F32 => NdArray::from_slice(arg!(slice data as f32, n)?, &shape),
            DType::F64 => NdArray::from_slice(arg!(slice data as f64, n)?, &shape),
            // IEEE binary16 bit patterns (uint16_t), taken as they are.
            DType::F16 => NdArray::from_slice(arg!(slice data as engine::f16, n)?, &shape),
            DType::U8 => NdArray::from_slice(arg!(slice data as u8, n)?, &shape),
            DType::I32 => NdArray::from_slice(arg!(slice data as i32, n)?, &shape),
            DType::I8 => NdArray::from_slice(arg!(slice data as i8, n)?, &shape),
            DType::I64 => NdArray::from_slice(arg!(slice data as i64, n)?, &shape),
            // Bytes, each made 0 or 1.
            DType::Bool => {
                let bytes = arg!(slice data as u8, n)?;
                let mut v = engine::try_vec(n)?;
                v.extend(bytes.iter().map(|&b| Bool((b != 0) as u8)));
                NdArray::from_slice(&v, &shape)
            }
        }
    })
}

/// Creates an array of `shape` filled with `value` (rounded to `dtype`). The caller frees
/// `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_full(
    shape: *const usize,
    ndim: usize,
    value: f64,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, NdArray::full(&arg!(shape shape, ndim)?, value, arg!(dtype dtype)?))
}

/// Creates an array of zeros. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_zeros(shape: *const usize, ndim: usize, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, NdArray::zeros(&arg!(shape shape, ndim)?, arg!(dtype dtype)?))
}

/// Creates an array of ones. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_ones(shape: *const usize, ndim: usize, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, NdArray::ones(&arg!(shape shape, ndim)?, arg!(dtype dtype)?))
}

/// Creates the 1-d array `start, start + step, ...` up to but excluding `stop` (NumPy's
/// arange; `ad_array_arange(0, 4, 1, AD_FLOAT32, &x)` is MXNet's `nd.arange(4)`). `step`
/// must be non-zero. For an integer or bool `dtype`, as MXNet: the count is that of the float
/// range, and value i is `start + i * step` with `start` and `step` first converted to
/// `dtype` (truncated). The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_arange(start: f64, stop: f64, step: f64, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, NdArray::arange(start, stop, step, arg!(dtype dtype)?))
}

/// Reseeds the process-wide random generator that every `ad_random_*` function (and the
/// dropout mask) draws from: the same seed gives the same draws, whatever the thread count.
#[no_mangle]
pub extern "C" fn ad_random_seed(seed: u64) -> ad_status {
    ffi_boundary!({
        random_seed(seed);
        Ok(())
    })
}

/// Creates an array of draws from the normal distribution N(`loc`, `scale`²), `scale` >= 0.
/// The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_random_normal(
    loc: f64,
    scale: f64,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, NdArray::random_normal(loc, scale, &arg!(shape shape, ndim)?, arg!(dtype dtype)?))
}

/// Creates an array of draws from the uniform distribution on [`low`, `high`).
/// The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_random_uniform(
    low: f64,
    high: f64,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, NdArray::random_uniform(low, high, &arg!(shape shape, ndim)?, arg!(dtype dtype)?))
}

/// Creates an array of draws from the exponential distribution with mean `scale` (MXNet's
/// `scale`, the inverse of the rate), by inversion. `scale` must be finite and > 0, or the
/// call fails with `AD_ERR_INVALID_ARGUMENT`. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_random_exponential(
    scale: f64,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, NdArray::random_exponential(scale, &arg!(shape shape, ndim)?, arg!(dtype dtype)?))
}

/// Creates an array of draws from the gamma distribution with shape `alpha` and scale `beta`
/// (mean `alpha`·`beta`), by Marsaglia and Tsang's method. `alpha` and `beta` must be finite
/// and > 0, or the call fails with `AD_ERR_INVALID_ARGUMENT`. The caller frees `*out` with
/// `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_random_gamma(
    alpha: f64,
    beta: f64,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, NdArray::random_gamma(alpha, beta, &arg!(shape shape, ndim)?, arg!(dtype dtype)?))
}

/// Creates an array of draws from the Poisson distribution with mean `lam`: whole numbers,
/// held as `dtype` floats (as MXNet's). Inversion below 10, Hörmann's PTRS up to 1e10, the
/// rounded normal approximation above. `lam` must be finite and >= 0 (0 gives zeros), or the
/// call fails with `AD_ERR_INVALID_ARGUMENT`. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_random_poisson(
    lam: f64,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, NdArray::random_poisson(lam, &arg!(shape shape, ndim)?, arg!(dtype dtype)?))
}

/// Creates an array of whole numbers drawn uniformly from [`low`, `high`) (MXNet's
/// `randint`), of `dtype`: `AD_INT32` or `AD_INT64` (MXNet's), or `AD_FLOAT32` or `AD_FLOAT64`
/// (whole numbers held as floats); another dtype is `AD_ERR_DTYPE`. `low` must be below
/// `high`, and both within the dtype's range (for the floats, the range where every whole
/// number is exact: ±2^24 for `AD_FLOAT32`, ±2^53 for `AD_FLOAT64`), or the call fails with
/// `AD_ERR_INVALID_ARGUMENT`. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_random_randint(
    low: i64,
    high: i64,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, NdArray::random_randint(low, high, &arg!(shape shape, ndim)?, arg!(dtype dtype)?))
}

/// A copy of `data` with its items along the first axis (its rows, for a matrix) in a
/// uniformly random order, each item's elements unchanged (MXNet's `shuffle`); a 0-d array
/// is copied. The result has no autograd history: a shuffle is not differentiable. The
/// caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_random_shuffle(data: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, arg!(handle data)?.random_shuffle())
}

/// Draws from the normal distribution N(`loc`, `scale`²) with a parameter pair per element
/// (MXNet's `_sample_normal`, what `nd.random.normal` calls with arrays of parameters):
/// `loc` and `scale` must have one shape P (they are not broadcast) and one dtype
/// (`AD_ERR_SHAPE`, `AD_ERR_DTYPE`, naming both); the result has shape P + `shape` (`ndim`
/// sizes; `ndim` 0 gives P) and dtype `dtype`, whatever the parameters' dtype, and its block
/// at each position of P is drawn with the parameters there. Every `loc` must be finite and
/// every `scale` finite and not negative, or the call fails with `AD_ERR_INVALID_ARGUMENT`
/// naming the position. The draws come from the generator `ad_random_seed` seeds, the blocks in
/// row-major order, the same on any thread count. They have no autograd history: no
/// gradient flows to `loc` or `scale` (MXNet's is 0). `loc` and `scale` are only read. The
/// caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_sample_normal(
    loc: *const ad_array,
    scale: *const ad_array,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, {
        let (loc, scale, shape, dtype) = (arg!(handle loc)?, arg!(handle scale)?, arg!(shape shape, ndim)?, arg!(dtype dtype)?);
        NdArray::sample_normal(&loc, &scale, &shape, dtype)
    })
}

/// Draws from the uniform distribution on [`low`, `high`) per element of `low` and `high`
/// (MXNet's `_sample_uniform`), as `ad_sample_normal`: one shape P and one dtype, a result of
/// shape P + `shape`. Each `low` must be finite and at most its `high` (`low` == `high` gives
/// `low`), or the call fails with `AD_ERR_INVALID_ARGUMENT` naming the position. No
/// autograd history. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_sample_uniform(
    low: *const ad_array,
    high: *const ad_array,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, {
        let (low, high, shape, dtype) = (arg!(handle low)?, arg!(handle high)?, arg!(shape shape, ndim)?, arg!(dtype dtype)?);
        NdArray::sample_uniform(&low, &high, &shape, dtype)
    })
}

/// Draws from the exponential distribution with mean `scale` per element of `scale` (what
/// `nd.random.exponential` calls with an array; MXNet's `_sample_exponential` takes the rate,
/// 1 / `scale`), as `ad_sample_normal`: a result of shape `scale`'s shape + `shape`. Each
/// `scale` must be finite and > 0, or the call fails with `AD_ERR_INVALID_ARGUMENT` naming
/// the position. No autograd history. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_sample_exponential(
    scale: *const ad_array,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, {
        let (scale, shape, dtype) = (arg!(handle scale)?, arg!(shape shape, ndim)?, arg!(dtype dtype)?);
        NdArray::sample_exponential(&scale, &shape, dtype)
    })
}

/// Draws from the gamma distribution with shape `alpha` and scale `beta` per element (MXNet's
/// `_sample_gamma`), as `ad_sample_normal`: one shape P and one dtype, a result of shape P +
/// `shape`. Each `alpha` and `beta` must be finite and > 0, or the call fails with
/// `AD_ERR_INVALID_ARGUMENT` naming the position. No autograd history. The caller frees
/// `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_sample_gamma(
    alpha: *const ad_array,
    beta: *const ad_array,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, {
        let (alpha, beta, shape, dtype) = (arg!(handle alpha)?, arg!(handle beta)?, arg!(shape shape, ndim)?, arg!(dtype dtype)?);
        NdArray::sample_gamma(&alpha, &beta, &shape, dtype)
    })
}

/// Draws from the Poisson distribution with mean `lam` per element of `lam` (MXNet's
/// `_sample_poisson`): whole numbers held as `dtype` floats, as `ad_sample_normal`, a result
/// of shape `lam`'s shape + `shape`. Each `lam` must be finite and >= 0, or the call fails
/// with `AD_ERR_INVALID_ARGUMENT` naming the position. No autograd history. The caller
/// frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_sample_poisson(
    lam: *const ad_array,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
) -> ad_status {
    new_array!(out, {
        let (lam, shape, dtype) = (arg!(handle lam)?, arg!(shape shape, ndim)?, arg!(dtype dtype)?);
        NdArray::sample_poisson(&lam, &shape, dtype)
    })
}

/// Draws category indices from rows of probabilities (MXNet's `nd.random.multinomial`): the
/// last axis of `data` holds a row's k probabilities, and the result `*out` has shape
/// `data`'s shape without its last axis + `shape` (`ndim` sizes; `ndim` 0 gives one draw per
/// row), each block drawn from its row: whole numbers in [0, k) of `dtype` (`AD_INT32`,
/// MXNet's default, or `AD_UINT8`, as MXNet's; or held as floats in `AD_FLOAT32` or
/// `AD_FLOAT64`; another dtype is `AD_ERR_DTYPE`, and `AD_ERR_INVALID_ARGUMENT` when `dtype`
/// cannot hold k - 1). `data` is float32 or float64. A category of probability 0 is
/// never drawn. Every probability must be finite and not negative, and each row must sum to
/// 1 within (k + 16) roundings of `data`'s dtype, or the call fails with
/// `AD_ERR_INVALID_ARGUMENT` naming the row (MXNet draws out of range from a row that sums
/// below 1); a 0-d `data` or an empty last axis fails with `AD_ERR_SHAPE`. `log_prob` may be
/// NULL; otherwise `*log_prob` receives the log-probability of each draw, of `*out`'s shape
/// in `data`'s dtype, differentiable with respect to `data` (the gradient is 1/p at each
/// drawn category, summed over its draws, as in MXNet); `*out` has no autograd history. The
/// draws come from the generator `ad_random_seed` seeds, the same on any thread count.
/// `data` is only read. The caller frees `*out` (and `*log_prob`) with `ad_array_free`; on
/// failure neither is written.
#[no_mangle]
pub unsafe extern "C" fn ad_sample_multinomial(
    data: *const ad_array,
    shape: *const usize,
    ndim: usize,
    dtype: u32,
    out: *mut *mut ad_array,
    log_prob: *mut *mut ad_array,
) -> ad_status {
    ffi_boundary!({
        let out = arg!(out out)?;
        let log_prob = arg!(out? log_prob);
        let (data, shape, dtype) = (arg!(handle data)?, arg!(shape shape, ndim)?, arg!(dtype dtype)?);
        let (samples, prob) = ops::sample_multinomial(&data, &shape, dtype, log_prob.is_some())?;
        match (log_prob, prob) {
            (Some(log_prob), Some(prob)) => {
                // Both handles or neither.
                let h = handles::insert(samples)?;
                match handles::insert(prob) {
                    Ok(p) => {
                        out.set(h);
                        log_prob.set(p);
                        Ok(())
                    }
                    Err(e) => {
                        let _ = handles::remove(h, "out");
                        Err(e)
                    }
                }
            }
            _ => out.put(samples),
        }
    })
}

/// Frees the handle `array`. NULL is a no-op. Freeing a handle twice, or one the library did
/// not make, returns `AD_ERR_INVALID_HANDLE` and changes nothing. The data lives on while a
/// recorded graph or another handle (a reshape, a gradient) still uses it.
#[no_mangle]
pub extern "C" fn ad_array_free(array: *mut ad_array) -> ad_status {
    ffi_boundary!({ free_handle!(array) })
}

/// Writes the number of dimensions of `array` to `*out`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_ndim(array: *const ad_array, out: *mut usize) -> ad_status {
    query!(out, arg!(handle array)?.ndim())
}

/// Writes the number of elements of `array` to `*out`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_size(array: *const ad_array, out: *mut usize) -> ad_status {
    query!(out, arg!(handle array)?.size())
}

/// Writes the dtype of `array` (an `ad_dtype` value) to `*out`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_dtype(array: *const ad_array, out: *mut u32) -> ad_status {
    query!(out, arg!(handle array)?.dtype() as u32)
}

/// Copies the shape of `array` into `shape`, which has room for `capacity` sizes; fails with
/// `AD_ERR_BUFFER_TOO_SMALL` when `capacity` is below the array's ndim (`ad_array_ndim`).
#[no_mangle]
pub unsafe extern "C" fn ad_array_shape(array: *const ad_array, shape: *mut usize, capacity: usize) -> ad_status {
    ffi_boundary!({
        let a = arg!(handle array)?;
        if capacity < a.ndim() {
            return Err(FfiError::new(
                ad_status::AD_ERR_BUFFER_TOO_SMALL,
                format!("argument `capacity` is {}, but the shape {} has {} dimensions", capacity, fmt_shape(a.shape()), a.ndim()),
            ));
        }
        // NULL is fine for a 0-d array's empty shape.
        if a.ndim() > 0 {
            arg!(out_slice shape, capacity)?.write_at(0, a.shape());
        }
        Ok(())
    })
}

/// Copies the elements of `array`, row-major, into `buffer`: `count` values of `dtype`
/// (converted from the array's dtype if they differ, as `ad_array_astype` converts; a bool is
/// one byte, 0 or 1). `count` must equal the array's size.
#[no_mangle]
pub unsafe extern "C" fn ad_array_read(array: *const ad_array, dtype: u32, buffer: *mut c_void, count: usize) -> ad_status {
    ffi_boundary!({
        let a = arg!(handle array)?;
        let dtype = arg!(dtype dtype)?;
        if count != a.size() {
            return Err(FfiError::new(
                ad_status::AD_ERR_SHAPE,
                format!("argument `count` is {}, but the array of shape {} has {} elements", count, fmt_shape(a.shape()), a.size()),
            ));
        }
        if count == 0 {
            return Ok(());
        }
        // Straight into the caller's buffer: a copy in between would need the array's size
        // in memory again.
        match dtype {
            DType::F32 => a.copy_to(arg!(out_slice buffer as f32, count)?.as_mut_slice()),
            DType::F64 => a.copy_to(arg!(out_slice buffer as f64, count)?.as_mut_slice()),
            DType::F16 => a.copy_to(arg!(out_slice buffer as engine::f16, count)?.as_mut_slice()),
            DType::U8 => a.copy_to(arg!(out_slice buffer as u8, count)?.as_mut_slice()),
            DType::I32 => a.copy_to(arg!(out_slice buffer as i32, count)?.as_mut_slice()),
            DType::I8 => a.copy_to(arg!(out_slice buffer as i8, count)?.as_mut_slice()),
            DType::I64 => a.copy_to(arg!(out_slice buffer as i64, count)?.as_mut_slice()),
            // `Bool` is one byte, always written 0 or 1.
            DType::Bool => a.copy_to(arg!(out_slice buffer as Bool, count)?.as_mut_slice()),
        }
        Ok(())
    })
}

/// Computes `array`'s values now if they are pending, and returns when they are computed:
/// MXNet's `wait_to_read` (see `ad_wait_all` on pending values). Reading the array computes
/// them too; this lets a program choose when. `array` is borrowed.
#[no_mangle]
pub unsafe extern "C" fn ad_array_wait_to_read(array: *const ad_array) -> ad_status {
    ffi_boundary!({
        arg!(handle array)?.wait_to_read();
        Ok(())
    })
}

/// Writes the value of a one-element array to `*out` (MXNet's `asscalar`); any other size is
/// `AD_ERR_SHAPE`. An int64 beyond 2^53 comes out rounded to a double; `ad_array_read` into an
/// `AD_INT64` buffer reads it exactly.
#[no_mangle]
pub unsafe extern "C" fn ad_array_asscalar(array: *const ad_array, out: *mut f64) -> ad_status {
    query!(out, arg!(handle array)?.asscalar()?)
}

/// Writes MXNet's text for `array` (what Python's `print(x)` shows: a blank line, the values
/// as NumPy prints them, and a `<NDArray 4x1 @cpu(0)>` footer) into `buffer` with a
/// terminating NUL. `*length` (if `length` is not NULL) receives the text's length without
/// the NUL — also when the call fails for a short buffer, so that a caller can pass
/// `buffer = NULL, capacity = 0` to learn the size. Fails with `AD_ERR_BUFFER_TOO_SMALL` when
/// `capacity` is below length + 1, writing nothing into `buffer`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_to_string(
    array: *const ad_array,
    buffer: *mut c_char,
    capacity: usize,
    length: *mut usize,
) -> ad_status {
    ffi_boundary!({
        let text = arg!(handle array)?.try_repr()?;
        let length = arg!(out? length);
        let size_query = buffer.is_null() && capacity == 0;
        if !size_query {
            if capacity < text.len() + 1 {
                if let Some(length) = length {
                    length.set(text.len());
                }
                return Err(FfiError::new(
                    ad_status::AD_ERR_BUFFER_TOO_SMALL,
                    format!("argument `capacity` is {}, but the text needs {} bytes with its NUL", capacity, text.len() + 1),
                ));
            }
            // Any other failure leaves `*length` alone, as every out-parameter.
            let mut buffer = arg!(out_slice buffer as u8, capacity)?;
            buffer.write_at(0, text.as_bytes());
            buffer.write_at(text.len(), &[0]);
        }
        if let Some(length) = length {
            length.set(text.len());
        }
        Ok(())
    })
}

/// `array` with a new shape of `ndim` sizes, sharing its data; one size may be -1 and is
/// inferred. Recorded when recording. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_reshape(array: *const ad_array, shape: *const i64, ndim: usize, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::reshape(&arg!(handle array)?, arg!(slice shape, ndim)?))
}

/// `array` with its axes permuted: `axes` (`naxes` entries, negative counting from the end)
/// gives the new order; `naxes` = 0 reverses them (MXNet's `.T`). Recorded when recording.
/// The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_transpose(array: *const ad_array, axes: *const i64, naxes: usize, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::transpose(&arg!(handle array)?, arg!(axes axes, naxes)?))
}

/// `array` repeated along its length-1 and missing leading axes to `shape` (NumPy's
/// broadcasting). Recorded when recording. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_broadcast_to(array: *const ad_array, shape: *const usize, ndim: usize, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::broadcast_to(&arg!(handle array)?, &arg!(shape shape, ndim)?))
}

/// A copy of `array` in new memory; gradients flow through it. The caller frees `*out`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_copy(array: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    unary!(ops::copy, array, out)
}

/// `array`'s data (shared, not copied) without its autograd history: gradients do not flow
/// through the result. The caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_detach(array: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, arg!(handle array).map(|a| a.detach()))
}

/// A second handle on `array`: the same data and the same place in the graph (an op on it
/// is an op on `array`, its gradient is `array`'s), as a copy of a C++ shared pointer is.
/// For a host that keeps an array it was lent, such as a custom function's callback. The
/// caller frees `*out` with `ad_array_free`; `array`'s handle stays valid on its own.
#[no_mangle]
pub unsafe extern "C" fn ad_array_share(array: *const ad_array, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, arg!(handle array))
}

/// How one axis is indexed, for `ad_array_slice` and `ad_array_write_slice`: positions
/// `start, start + step, ...` before `stop` — a slice normalised as Python's
/// `slice.indices(len)` gives it (for a negative step `stop` may be -1) — or, when `step` is
/// 0, the single position `start` (negative counts from the end), which drops the axis.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ad_index {
    pub start: i64,
    pub stop: i64,
    pub step: i64,
}

/// The elements of `array` that `index` (`n` entries, one per leading axis; later axes are
/// taken whole) selects: MXNet's and NumPy's basic indexing (`x[1:3]`, `x[:, 2]`, `x[::-1]`).
/// A position out of range is `AD_ERR_INDEX`. Recorded when recording. A selection that is
/// contiguous in memory (single positions on leading axes, then at most one step-1 range,
/// then whole axes: `x[1]`, `x[1:3]`, `x[2, 0:2]`) is a view that shares `array`'s data
/// (writes through either are seen by both, as in MXNet); any other selection copies. The
/// caller frees `*out` with `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_slice(array: *const ad_array, index: *const ad_index, n: usize, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, ops::slice(&arg!(handle array)?, &arg!(index index, n)?))
}

/// Writes `src` into the elements of `array` that `index` selects (`n` entries, as in
/// `ad_array_slice`; `n` = 0 writes the whole array): `x[index] = src` in place. `src` is
/// broadcast to the selected shape (leading length-1 axes beyond it are dropped, so a (1,)
/// value fills one element) and converted to `array`'s dtype. Everything sharing
/// `array`'s data sees the change. Inside a record scope, writing into an array that is in
/// the graph is `AD_ERR_AUTOGRAD`. Both handles stay the caller's.
#[no_mangle]
pub unsafe extern "C" fn ad_array_write_slice(array: *mut ad_array, index: *const ad_index, n: usize, src: *const ad_array) -> ad_status {
    ffi_boundary!({
        let (dst, src) = (arg!(handle array)?, arg!(handle src)?);
        Ok(ops::write_slice(&dst, &arg!(index index, n)?, &src)?)
    })
}

/// `array op= src` in place (`op` an `ad_update_op` value): `x += y`, `w -= g`. `src` is
/// broadcast to `array`'s shape and converted to its dtype (into a float16 array, each element
/// is computed in float32 and rounded back); everything sharing `array`'s data sees the
/// change. One pass over the data where `ad_sub` and `ad_array_write_slice` would
/// make a new array and copy it. Inside a record scope, updating an array that is in the
/// graph is `AD_ERR_AUTOGRAD`; a `src` that does not broadcast to `array`'s shape is
/// `AD_ERR_SHAPE`, and nothing is written. Both handles stay the caller's.
#[no_mangle]
pub unsafe extern "C" fn ad_array_update(array: *mut ad_array, src: *const ad_array, op: u32) -> ad_status {
    ffi_boundary!({
        let op = arg!(in_place op)?;
        Ok(ops::update(&arg!(handle array)?, &arg!(handle src)?, op)?)
    })
}

/// `array`'s elements converted to `dtype`, by NumPy's rules as MXNet 1.9.1 applies them on
/// x86: a float to an integer truncates toward zero, and NaN, an infinity or a value out of
/// range gives the type's minimum for int32 and int64 (for uint8 and int8, the low byte of
/// that int32 conversion); integers to narrower integers keep the low bits; anything to bool
/// is `x != 0` (NaN is true); bool is 0 or 1; to float16, the nearest float16 (ties to even,
/// beyond 65504 infinite), as NumPy converts. Gradients flow back converted between the float
/// types (to a float16 array in float32, which backward writes in float16); an integer or bool
/// result is not differentiable. The caller frees `*out` with
/// `ad_array_free`.
#[no_mangle]
pub unsafe extern "C" fn ad_array_astype(array: *const ad_array, dtype: u32, out: *mut *mut ad_array) -> ad_status {
    new_array!(out, {
        let dtype = arg!(dtype dtype)?;
        ops::astype(&arg!(handle array)?, dtype)
    })
}

/// Frees `n` handles (NULL entries are skipped): `ad_array_free` for each, in one call, for
/// bindings that release arrays in batches. Every valid handle is freed even when another is
/// not; the status is that of the first failure.
#[no_mangle]
pub unsafe extern "C" fn ad_array_free_many(arrays: *const *mut ad_array, n: usize) -> ad_status {
    ffi_boundary!({ free_handle!(arrays, n) })
}
