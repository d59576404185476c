/*
 * ad: reverse-mode automatic differentiation over n-dimensional arrays.
 *
 * Conventions:
 * - Every fallible function returns ad_status; AD_OK is 0. On failure, ad_last_error()
 *   returns this thread's message, naming the argument and shapes at fault.
 * - Results go to out-parameters, written only on success.
 * - An ad_array* is an opaque handle. Every handle a function returns through `out` is the
 *   caller's and is freed with ad_array_free exactly once; freeing or using a freed handle is
 *   detected and reported with AD_ERR_INVALID_HANDLE. Input handles are borrowed for the
 *   call only. Freeing a handle never breaks a recorded graph that still needs its data.
 * - Recording and training state is per thread, as in MXNet.
 * - The functions that return a value instead of ad_status cannot fail. Should one hit a bug
 *   inside the library, it returns the fallback its comment names and ad_last_error() says
 *   what happened.
 *
 * This file is generated from the Rust sources by cbindgen; do not edit it by hand.
 */

#ifndef AD_H
#define AD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

// The most axes an array may have (NumPy's limit). A shape with more is refused with
// `AD_ERR_SHAPE` wherever an array would be made: creation, reshape, broadcast, and every
// op's result.
#define AD_MAX_NDIM 64

// The result of every fallible function. `AD_OK` is 0; on any other value
// `ad_last_error()` says what was wrong.
typedef enum {
  AD_OK = 0,
  // A required pointer argument was NULL.
  AD_ERR_NULL_ARGUMENT = 1,
  // A handle was already freed, or was never made by this library.
  AD_ERR_INVALID_HANDLE = 2,
  // A shape does not fit the operation (mismatched operands, bad reshape, bad axis).
  AD_ERR_SHAPE = 3,
  // The operands' dtypes differ, or a dtype code is unknown.
  AD_ERR_DTYPE = 4,
  // An argument's value is out of its domain.
  AD_ERR_INVALID_ARGUMENT = 5,
  // An index is out of range.
  AD_ERR_INDEX = 6,
  // The autograd state does not allow the call (no recorded history, a released graph,
  // unbalanced scopes).
  AD_ERR_AUTOGRAD = 7,
  // Memory could not be allocated, or an element count overflows.
  AD_ERR_ALLOC = 8,
  // The caller's buffer is too small for the result.
  AD_ERR_BUFFER_TOO_SMALL = 9,
  // A bug inside the library was caught at the boundary; the process can continue.
  AD_ERR_PANIC = 10,
  // The operating system refused a file operation: a file that cannot be opened, read,
  // written or replaced.
  AD_ERR_IO = 11,
  // A file is not in the format it should be: truncated, corrupt or inconsistent.
  AD_ERR_FORMAT = 12,
} ad_status;

// Element types, as MXNet numbers them. Functions take these as `uint32_t`.
typedef enum {
  AD_FLOAT32 = 0,
  AD_FLOAT64 = 1,
} ad_dtype;

// How backward writes a variable's gradient. Functions take these as `uint32_t`.
typedef enum {
  // The variable is not differentiated.
  AD_GRAD_NULL = 0,
  // Each backward overwrites the gradient (the default).
  AD_GRAD_WRITE = 1,
  // Each backward adds into the gradient.
  AD_GRAD_ADD = 3,
} ad_grad_req;

// Comparison operators for `ad_compare` and `ad_compare_scalar`, taken as `uint32_t`.
typedef enum {
  AD_CMP_EQ = 0,
  AD_CMP_NE = 1,
  AD_CMP_LT = 2,
  AD_CMP_LE = 3,
  AD_CMP_GT = 4,
  AD_CMP_GE = 5,
} ad_cmp;

// In-place arithmetic for `ad_array_update`, taken as `uint32_t`.
typedef enum {
  // `array += src`
  AD_UPDATE_ADD = 0,
  // `array -= src`
  AD_UPDATE_SUB = 1,
  // `array *= src`
  AD_UPDATE_MUL = 2,
  // `array /= src`
  AD_UPDATE_DIV = 3,
} ad_update_op;

// An array, as C sees it: an opaque handle made by the library and freed with
// `ad_array_free`. Never dereferenced: the pointer's value encodes a table slot.
typedef struct ad_array ad_array;

// How one axis is indexed, for `ad_array_slice` and `ad_array_write_slice`: positions
// `start, start + step, ...` before `stop` — a slice normalised as Python's
// `slice.indices(len)` gives it (for a negative step `stop` may be -1) — or, when `step` is
// 0, the single position `start` (negative counts from the end), which drops the axis.
typedef struct {
  int64_t start;
  int64_t stop;
  int64_t step;
} ad_index;

// What `ad_load` returns: `count` arrays, with their names when the file holds named arrays.
// The struct, its lists and its names belong to the library until `ad_checkpoint_free`;
// read them, never free them.
typedef struct {
  // How many arrays the file held.
  size_t count;
  // `count` array handles, then a NULL. They belong to the checkpoint: `ad_checkpoint_free`
  // frees them. To keep one, copy its handle and set its entry to NULL; it is then the
  // caller's, freed with `ad_array_free`.
  ad_array **arrays;
  // NULL when the file held a list of arrays (MXNet's `nd.save(fname, [a, b])`); else
  // `count` NUL-terminated UTF-8 names, in the file's order, then a NULL.
  const char *const *names;
} ad_checkpoint;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// The library's version, `"MAJOR.MINOR.PATCH"`. Static; never freed. Fallback: `""`.
const char *ad_version(void);

// This thread's message for its most recent failed call, or "" if none failed yet.
// A successful call leaves it unchanged. The pointer stays valid until the next failing call
// on this thread; the library owns it. Fallback: `""`.
const char *ad_last_error(void);

// The name of a status code (`"AD_ERR_SHAPE"`), or `"AD_UNKNOWN_STATUS"`. Static; never freed.
// Fallback: `"AD_UNKNOWN_STATUS"`.
const char *ad_status_name(uint32_t status);

// Sets how many threads large operations (matrix products, element-wise ops and reductions
// on large arrays) may use, for the whole process; 1 keeps all work on the calling thread.
// The default is `AD_NUM_THREADS`, else `OMP_NUM_THREADS`, else the machine's parallelism.
// The calling thread does a share of each such operation; the other threads spin for 200 µs
// after each share before they sleep, so that back-to-back operations do not wait for them
// to wake. An operation started while another thread's is using them runs on its own thread.
// `AD_ERR_INVALID_ARGUMENT` outside 1..=1024.
ad_status ad_set_num_threads(size_t threads);

// How many threads large operations may use. Fallback: 1.
size_t ad_num_threads(void);

// Switches the reference mode on or off for the whole process. In the reference mode every
// fast path of the library is off and each operation runs its plain, slow, obviously
// correct form: gradients expanded to full shape and summed into new arrays, the C
// library's math functions, matrix products as a triple loop, every loop on the calling
// thread. Results agree with the default mode up to rounding; a difference beyond that is a
// bug in a fast path. The default is off unless the environment sets `AD_REFERENCE_MODE=1`.
void ad_set_reference_mode(bool on);

// Whether the reference mode is on. Fallback: false.
bool ad_reference_mode(void);

// Returns to the system the memory the library keeps for reuse, and writes the number of
// bytes released to `*released` unless it is NULL. Freed arrays of 64 KiB and more leave
// their memory in a cache (at most 512 MiB) for the next array of the same size, so that a
// loop making the same arrays step after step does not fault in fresh pages each time; a
// cached buffer is released on its own when a whole interval of large allocations (at
// least 1024) passes without reusing it. Call this when the program is done with large arrays for
// a while: after freeing them all, its memory use falls back to what live arrays hold. Live
// arrays are not touched. Never fails.
ad_status ad_release_cached_memory(size_t *released);

// Creates an array of `shape` (`ndim` sizes) and `dtype`, copying its elements from `data`,
// which holds them row-major as `dtype` values (`float` or `double`). `data` may be NULL
// only when the shape has no elements. On success `*out` is a new handle the caller frees
// with `ad_array_free`; `data` is only read during the call.
ad_status ad_array_create(const void *data,
                          const size_t *shape,
                          size_t ndim,
                          uint32_t dtype,
                          ad_array **out);

// Creates an array of `shape` filled with `value` (rounded to `dtype`). The caller frees
// `*out` with `ad_array_free`.
ad_status ad_array_full(const size_t *shape,
                        size_t ndim,
                        double value,
                        uint32_t dtype,
                        ad_array **out);

// Creates an array of zeros. The caller frees `*out` with `ad_array_free`.
ad_status ad_array_zeros(const size_t *shape, size_t ndim, uint32_t dtype, ad_array **out);

// Creates an array of ones. The caller frees `*out` with `ad_array_free`.
ad_status ad_array_ones(const size_t *shape, size_t ndim, uint32_t dtype, ad_array **out);

// Creates the 1-d array `start, start + step, ...` up to but excluding `stop` (NumPy's
// arange; `ad_array_arange(0, 4, 1, AD_FLOAT32, &x)` is MXNet's `nd.arange(4)`). `step`
// must be non-zero. The caller frees `*out` with `ad_array_free`.
ad_status ad_array_arange(double start, double stop, double step, uint32_t dtype, ad_array **out);

// Reseeds the process-wide random generator: the same seed gives the same draws.
ad_status ad_random_seed(uint64_t seed);

// Creates an array of draws from the normal distribution N(`loc`, `scale`²), `scale` >= 0.
// The caller frees `*out` with `ad_array_free`.
ad_status ad_random_normal(double loc,
                           double scale,
                           const size_t *shape,
                           size_t ndim,
                           uint32_t dtype,
                           ad_array **out);

// Creates an array of draws from the uniform distribution on [`low`, `high`).
// The caller frees `*out` with `ad_array_free`.
ad_status ad_random_uniform(double low,
                            double high,
                            const size_t *shape,
                            size_t ndim,
                            uint32_t dtype,
                            ad_array **out);

// Frees the handle `array`. NULL is a no-op. Freeing a handle twice, or one the library did
// not make, returns `AD_ERR_INVALID_HANDLE` and changes nothing. The data lives on while a
// recorded graph or another handle (a reshape, a gradient) still uses it.
ad_status ad_array_free(ad_array *array);

// Writes the number of dimensions of `array` to `*out`.
ad_status ad_array_ndim(const ad_array *array, size_t *out);

// Writes the number of elements of `array` to `*out`.
ad_status ad_array_size(const ad_array *array, size_t *out);

// Writes the dtype of `array` (an `ad_dtype` value) to `*out`.
ad_status ad_array_dtype(const ad_array *array, uint32_t *out);

// Copies the shape of `array` into `shape`, which has room for `capacity` sizes; fails with
// `AD_ERR_BUFFER_TOO_SMALL` when `capacity` is below the array's ndim (`ad_array_ndim`).
ad_status ad_array_shape(const ad_array *array, size_t *shape, size_t capacity);

// Copies the elements of `array`, row-major, into `buffer`: `count` values of `dtype`
// (converted from the array's dtype if they differ). `count` must equal the array's size.
ad_status ad_array_read(const ad_array *array, uint32_t dtype, void *buffer, size_t count);

// Writes the value of a one-element array to `*out` (MXNet's `asscalar`); any other size is
// `AD_ERR_SHAPE`.
ad_status ad_array_asscalar(const ad_array *array, double *out);

// Writes MXNet's text for `array` (what Python's `print(x)` shows: a blank line, the values
// as NumPy prints them, and a `<NDArray 4x1 @cpu(0)>` footer) into `buffer` with a
// terminating NUL. `*length` (if `length` is not NULL) receives the text's length without
// the NUL — also when the call fails for a short buffer, so that a caller can pass
// `buffer = NULL, capacity = 0` to learn the size. Fails with `AD_ERR_BUFFER_TOO_SMALL` when
// `capacity` is below length + 1, writing nothing into `buffer`.
ad_status ad_array_to_string(const ad_array *array, char *buffer, size_t capacity, size_t *length);

// `array` with a new shape of `ndim` sizes, sharing its data; one size may be -1 and is
// inferred. Recorded when recording. The caller frees `*out` with `ad_array_free`.
ad_status ad_array_reshape(const ad_array *array,
                           const int64_t *shape,
                           size_t ndim,
                           ad_array **out);

// `array` with its axes permuted: `axes` (`naxes` entries, negative counting from the end)
// gives the new order; `naxes` = 0 reverses them (MXNet's `.T`). Recorded when recording.
// The caller frees `*out` with `ad_array_free`.
ad_status ad_array_transpose(const ad_array *array,
                             const int64_t *axes,
                             size_t naxes,
                             ad_array **out);

// `array` repeated along its length-1 and missing leading axes to `shape` (NumPy's
// broadcasting). Recorded when recording. The caller frees `*out` with `ad_array_free`.
ad_status ad_array_broadcast_to(const ad_array *array,
                                const size_t *shape,
                                size_t ndim,
                                ad_array **out);

// A copy of `array` in new memory; gradients flow through it. The caller frees `*out`.
ad_status ad_array_copy(const ad_array *array, ad_array **out);

// `array`'s data (shared, not copied) without its autograd history: gradients do not flow
// through the result. The caller frees `*out` with `ad_array_free`.
ad_status ad_array_detach(const ad_array *array, ad_array **out);

// The elements of `array` that `index` (`n` entries, one per leading axis; later axes are
// taken whole) selects: MXNet's and NumPy's basic indexing (`x[1:3]`, `x[:, 2]`, `x[::-1]`).
// A position out of range is `AD_ERR_INDEX`. Recorded when recording. A selection that is
// contiguous in memory (single positions on leading axes, then at most one step-1 range,
// then whole axes: `x[1]`, `x[1:3]`, `x[2, 0:2]`) is a view that shares `array`'s data
// (writes through either are seen by both, as in MXNet); any other selection copies. The
// caller frees `*out` with `ad_array_free`.
ad_status ad_array_slice(const ad_array *array, const ad_index *index, size_t n, ad_array **out);

// Writes `src` into the elements of `array` that `index` selects (`n` entries, as in
// `ad_array_slice`; `n` = 0 writes the whole array): `x[index] = src` in place. `src` is
// broadcast to the selected shape (leading length-1 axes beyond it are dropped, so a (1,)
// value fills one element) and converted to `array`'s dtype. Everything sharing
// `array`'s data sees the change. Inside a record scope, writing into an array that is in
// the graph is `AD_ERR_AUTOGRAD`. Both handles stay the caller's.
ad_status ad_array_write_slice(ad_array *array,
                               const ad_index *index,
                               size_t n,
                               const ad_array *src);

// `array op= src` in place (`op` an `ad_update_op` value): `x += y`, `w -= g`. `src` is
// broadcast to `array`'s shape and converted to its dtype; everything sharing `array`'s data
// sees the change. One pass over the data where `ad_sub` and `ad_array_write_slice` would
// make a new array and copy it. Inside a record scope, updating an array that is in the
// graph is `AD_ERR_AUTOGRAD`; a `src` that does not broadcast to `array`'s shape is
// `AD_ERR_SHAPE`, and nothing is written. Both handles stay the caller's.
ad_status ad_array_update(ad_array *array, const ad_array *src, uint32_t op);

// `array`'s elements converted to `dtype`; gradients flow back converted. The caller frees
// `*out` with `ad_array_free`.
ad_status ad_array_astype(const ad_array *array, uint32_t dtype, ad_array **out);

// Frees `n` handles (NULL entries are skipped): `ad_array_free` for each, in one call, for
// bindings that release arrays in batches. Every valid handle is freed even when another is
// not; the status is that of the first failure.
ad_status ad_array_free_many(ad_array *const *arrays, size_t n);

// Opens a record scope on this thread (MXNet's `autograd.record(train_mode)`): ops whose
// inputs are in the graph are recorded, and training mode is `train_mode`. Scopes nest;
// close each with `ad_record_end`.
ad_status ad_record_begin(bool train_mode);

// Closes the innermost scope, which must be a record scope, restoring the flags it found.
// `AD_ERR_AUTOGRAD` when no record scope is innermost.
ad_status ad_record_end(void);

// Opens a pause scope (MXNet's `autograd.pause(train_mode)`): nothing is recorded, and
// training mode is `train_mode`. Close it with `ad_pause_end`.
ad_status ad_pause_begin(bool train_mode);

// Closes the innermost scope, which must be a pause scope.
ad_status ad_pause_end(void);

// Opens a scope in training mode, recording unchanged (MXNet's `autograd.train_mode()`).
ad_status ad_train_mode_begin(void);

// Closes the innermost scope, which must be a train-mode scope.
ad_status ad_train_mode_end(void);

// Opens a scope in prediction mode, recording unchanged (MXNet's `autograd.predict_mode()`).
ad_status ad_predict_mode_begin(void);

// Closes the innermost scope, which must be a predict-mode scope.
ad_status ad_predict_mode_end(void);

// Whether this thread is recording. Fallback: false.
bool ad_is_recording(void);

// Whether this thread is in training mode (false outside any scope, true inside
// `ad_record_begin(true)`, false inside `ad_record_begin(false)`). Fallback: false.
bool ad_is_training(void);

// Sets this thread's recording flag outside the scope discipline; the previous value goes to
// `*previous` unless it is NULL.
ad_status ad_set_recording(bool recording, bool *previous);

// Sets this thread's training flag; the previous value goes to `*previous` unless NULL.
ad_status ad_set_training(bool training, bool *previous);

// Marks `array` as a variable with a new zero gradient of its shape (MXNet's
// `attach_grad`); `grad_req` is an `ad_grad_req`. If `array` was computed in a record scope
// it becomes a leaf for what is recorded after this call, while `ad_backward` on `array`
// itself still follows its history. Changes `array` in place; no new handle.
ad_status ad_array_attach_grad(ad_array *array, uint32_t grad_req);

// `ad_array_attach_grad` with the caller's `gradient` array as the gradient buffer (MXNet's
// `mark_variables`): backward writes into `gradient`'s data, which must have `array`'s
// shape and dtype. Both handles stay the caller's.
ad_status ad_array_attach_grad_with(ad_array *array, const ad_array *gradient, uint32_t grad_req);

// Asks backward to fill a gradient for the recorded intermediate `array` while gradients
// keep flowing through it to the variables; read it with `ad_array_grad`. A no-op on a
// variable. `AD_ERR_AUTOGRAD` for an array with no recorded history.
ad_status ad_array_retain_grad(ad_array *array);

// Writes to `*out` a new handle on `array`'s gradient, sharing its data (later backward
// calls update what it shows), or NULL when `array` has no gradient (no `attach_grad` or
// `retain_grad`, or grad_req null). The caller frees a non-NULL `*out` with `ad_array_free`.
ad_status ad_array_grad(const ad_array *array, ad_array **out);

// Backpropagates from `head`, seeded with `head_grad` (NULL: ones of the head's shape, so a
// non-scalar head counts as its sum), into the gradients of the variables it depends on,
// each by its grad_req. Unless `retain_graph`, the graph's saved values are released and a
// second backward through it fails with `AD_ERR_AUTOGRAD`; so does one that another thread
// starts through the graph while this one runs. Runs in training mode.
ad_status ad_backward(const ad_array *head, const ad_array *head_grad, bool retain_graph);

// `ad_backward` for `n` heads at once (their gradients are summed). `head_grads` is NULL
// (all ones) or `n` entries, each a handle or NULL (ones). `train_mode` is the training
// flag while the backward pass runs.
ad_status ad_backward_ex(const ad_array *const *heads,
                         const ad_array *const *head_grads,
                         size_t n,
                         bool retain_graph,
                         bool train_mode);

// The gradients of the `n_heads` heads with respect to the `n_variables` variables (each
// marked with `attach_grad`), returned as new arrays in `out_grads[0..n_variables]`,
// without touching any variable's own gradient (MXNet's `autograd.grad`). With
// `create_graph` the results are recorded, so they can be differentiated again (second
// derivatives). The caller frees each `out_grads[i]` with `ad_array_free`.
ad_status ad_grad(const ad_array *const *heads,
                  const ad_array *const *head_grads,
                  size_t n_heads,
                  const ad_array *const *variables,
                  size_t n_variables,
                  bool retain_graph,
                  bool create_graph,
                  bool train_mode,
                  ad_array **out_grads);

// Sine.
ad_status ad_sin(const ad_array *a, ad_array **out);

// Cosine.
ad_status ad_cos(const ad_array *a, ad_array **out);

// Tangent; its derivative is 1 + tan².
ad_status ad_tan(const ad_array *a, ad_array **out);

// Inverse sine.
ad_status ad_arcsin(const ad_array *a, ad_array **out);

// Inverse cosine.
ad_status ad_arccos(const ad_array *a, ad_array **out);

// Inverse tangent.
ad_status ad_arctan(const ad_array *a, ad_array **out);

// Hyperbolic sine.
ad_status ad_sinh(const ad_array *a, ad_array **out);

// Hyperbolic cosine.
ad_status ad_cosh(const ad_array *a, ad_array **out);

// Inverse hyperbolic sine.
ad_status ad_arcsinh(const ad_array *a, ad_array **out);

// Inverse hyperbolic cosine.
ad_status ad_arccosh(const ad_array *a, ad_array **out);

// Inverse hyperbolic tangent.
ad_status ad_arctanh(const ad_array *a, ad_array **out);

// Logarithm to base 2.
ad_status ad_log2(const ad_array *a, ad_array **out);

// Logarithm to base 10.
ad_status ad_log10(const ad_array *a, ad_array **out);

// ln(1 + x), accurate for small x.
ad_status ad_log1p(const ad_array *a, ad_array **out);

// eˣ - 1, accurate for small x.
ad_status ad_expm1(const ad_array *a, ad_array **out);

// Cube root; its derivative is 1 / (3 ∛x²).
ad_status ad_cbrt(const ad_array *a, ad_array **out);

// 1 / ∛x; its derivative is -y / (3x).
ad_status ad_rcbrt(const ad_array *a, ad_array **out);

// 1 / √x; its derivative is -y³ / 2.
ad_status ad_rsqrt(const ad_array *a, ad_array **out);

// 1 / x; its derivative is -y².
ad_status ad_reciprocal(const ad_array *a, ad_array **out);

// Degrees to radians.
ad_status ad_radians(const ad_array *a, ad_array **out);

// Radians to degrees.
ad_status ad_degrees(const ad_array *a, ad_array **out);

// The error function.
ad_status ad_erf(const ad_array *a, ad_array **out);

// The gamma function; its derivative is Γ(x) ψ(x).
ad_status ad_gamma(const ad_array *a, ad_array **out);

// ln |Γ(x)|; its derivative is ψ(x).
ad_status ad_gammaln(const ad_array *a, ad_array **out);

// -1, 0 or 1 by the sign of the element; NaN stays NaN (zero gradient).
ad_status ad_sign(const ad_array *a, ad_array **out);

// The largest whole number not above x (zero gradient).
ad_status ad_floor(const ad_array *a, ad_array **out);

// The smallest whole number not below x (zero gradient).
ad_status ad_ceil(const ad_array *a, ad_array **out);

// The nearest whole number, halves away from zero (zero gradient).
ad_status ad_round(const ad_array *a, ad_array **out);

// The nearest whole number, halves to even (zero gradient).
ad_status ad_rint(const ad_array *a, ad_array **out);

// x without its fraction, towards zero (zero gradient).
ad_status ad_trunc(const ad_array *a, ad_array **out);

// x rounded towards zero, as `trunc` (MXNet's name; zero gradient).
ad_status ad_fix(const ad_array *a, ad_array **out);

// 1 where the element is NaN, else 0 (zero gradient).
ad_status ad_isnan(const ad_array *a, ad_array **out);

// 1 where the element is infinite, else 0 (zero gradient).
ad_status ad_isinf(const ad_array *a, ad_array **out);

// 1 where the element is finite, else 0 (zero gradient).
ad_status ad_isfinite(const ad_array *a, ad_array **out);

// Saves `count` arrays to the file `path`, in NumPy's formats, so that `numpy.load` opens
// it: a path ending in `.npy` gets one array as `numpy.save` writes it (`count` must be 1
// and `names` NULL); any other path an `.npz` archive of `.npy` entries, as `numpy.savez`
// writes it. `names` NULL saves a list (entries `arr_0`, `arr_1`, ..., MXNet's
// `nd.save(fname, [a, b])`); else `names` holds `count` distinct NUL-terminated UTF-8
// names (MXNet's `nd.save(fname, {"w": w})`), and `ad_load` gives the names back. Arrays
// are saved with their dtype; `arrays` may be NULL when `count` is 0. The file is written
// beside `path` under a temporary name and renamed over `path` once complete, so a failure
// leaves an existing file as it was: `AD_ERR_IO` when the system refuses (the message says
// why), `AD_ERR_INVALID_ARGUMENT` for names that cannot be saved. Each array is read whole
// at one instant, as an operation reads it. All arguments stay the caller's.
ad_status ad_save(const char *path,
                  const ad_array *const *arrays,
                  const char *const *names,
                  size_t count);

// Loads the arrays of the file `path`: a `.npy` (one array) or an `.npz` (stored or
// compressed, as `numpy.savez` and `numpy.savez_compressed` write them), whatever its name.
// On success `*out` is a new checkpoint, freed with `ad_checkpoint_free`: `count` arrays,
// with `names` NULL when the file holds a list (ad's lists, and `numpy.savez` of positional
// arrays only) and the names otherwise, as MXNet's `nd.load` returns a list or a dict.
// float32 and float64 arrays are read, in either byte order and in C or Fortran order;
// another element type is `AD_ERR_DTYPE`, naming it. The file is checked before it is
// trusted: a file that cannot be opened or read is `AD_ERR_IO`; a truncated or corrupt
// one (bad magic, header, sizes, offsets, zip records, CRC) `AD_ERR_FORMAT`; the message
// names the file and what is wrong. Nothing is allocated from a size the file declares
// before that size is checked against the file's own.
ad_status ad_load(const char *path, ad_checkpoint **out);

// Frees a checkpoint from `ad_load`: its lists, its names, and the array handles still in
// its `arrays` (entries the caller set to NULL are skipped). NULL is a no-op. A pointer that
// `ad_load` did not return is `AD_ERR_INVALID_HANDLE` and nothing is freed; so is one freed
// already, as long as fewer than 4,096 other checkpoints were freed since (a freed
// checkpoint's address is not given to a new one before then). An entry that is no longer a live handle (the caller freed it, or wrote
// something else there) is reported with `AD_ERR_INVALID_HANDLE` too, after everything else
// was freed.
ad_status ad_checkpoint_free(ad_checkpoint *checkpoint);

// Softmax along `axis` (negative counts from the end), computed stably from `a - max(a)`.
ad_status ad_softmax(const ad_array *a, int64_t axis, ad_array **out);

// Log-softmax along `axis`, stable for large logits.
ad_status ad_log_softmax(const ad_array *a, int64_t axis, ad_array **out);

// Softmax cross-entropy of `logits` (N, C) against `labels` (N,) holding class indices in
// 0..C: the mean over rows of `-log softmax(logits)[label]`, or the sum when `sum` is true.
// Shape (1,). A label out of range or not a whole number is `AD_ERR_INDEX`.
ad_status ad_softmax_cross_entropy(const ad_array *logits,
                                   const ad_array *labels,
                                   bool sum,
                                   ad_array **out);

// MXNet's `pick`: the elements of `a` at the positions `index` holds along `axis`; `index`
// has `a`'s shape without that axis (or with it as 1). A position out of range is
// `AD_ERR_INDEX` (MXNet clips it silently). The result keeps `axis` as 1 with `keepdims`.
ad_status ad_pick(const ad_array *a,
                  const ad_array *index,
                  int64_t axis,
                  bool keepdims,
                  ad_array **out);

// One-hot rows of length `depth` for the class indices in `indices`: shape
// `indices.shape + (depth,)`, `on_value` at the index and `off_value` elsewhere (a row of
// `off_value` for an index outside 0..depth, as MXNet). Not differentiable.
ad_status ad_one_hot(const ad_array *indices,
                     size_t depth,
                     double on_value,
                     double off_value,
                     uint32_t dtype,
                     ad_array **out);

// Positions of the maxima along `*axis`, or over the flattened array when `axis` is NULL
// (shape (1,), or all ones with `keepdims`), as floats of `a`'s dtype; the first occurrence
// wins. Not differentiable.
ad_status ad_argmax(const ad_array *a, const int64_t *axis, bool keepdims, ad_array **out);

// Positions of the minima; as `ad_argmax`.
ad_status ad_argmin(const ad_array *a, const int64_t *axis, bool keepdims, ad_array **out);

// `a` limited to [`a_min`, `a_max`]; the gradient passes where `a_min <= a <= a_max`.
ad_status ad_clip(const ad_array *a, double a_min, double a_max, ad_array **out);

// Elements of `a` where `condition` is non-zero and of `b` elsewhere, the three broadcast
// together. Gradients flow to `a` and `b`, not to `condition`.
ad_status ad_where(const ad_array *condition, const ad_array *a, const ad_array *b, ad_array **out);

// A copy of `a` as a matrix: its first axis kept and the rest flattened (a new array, as
// MXNet's Flatten; `ad_array_reshape` gives a view).
ad_status ad_flatten(const ad_array *a, ad_array **out);

// MXNet's FullyConnected: `x · weightᵀ + bias`, `weight` (num_hidden, k), `bias`
// (num_hidden,) or NULL. With `flatten`, `x` is first flattened to (N, k); otherwise the
// product is over its last axis. The transpose is a stride swap, not a copy.
ad_status ad_fully_connected(const ad_array *x,
                             const ad_array *weight,
                             const ad_array *bias,
                             bool flatten,
                             ad_array **out);

// The `n` arrays joined along `axis`; their shapes must agree on every other axis.
ad_status ad_concat(const ad_array *const *arrays, size_t n, int64_t axis, ad_array **out);

// The `n` arrays, all of one shape, stacked along a new axis `axis`.
ad_status ad_stack(const ad_array *const *arrays, size_t n, int64_t axis, ad_array **out);

// Dropout: in training mode (see `ad_is_training`) each element is zeroed with probability
// `p` and the others scaled by 1/(1-p), drawn from the seeded generator; in prediction mode
// the result is `a` itself. `p` must be in [0, 1).
ad_status ad_dropout(const ad_array *a, double p, ad_array **out);

// Batch normalisation of `x` over every axis but `axis` (MXNet's BatchNorm). In training
// mode without `use_global_stats` it uses the batch mean and biased variance and updates
// `running_mean` and `running_var` in place (`r = r·momentum + batch·(1 - momentum)`); in
// prediction mode it uses them. With `fix_gamma` the scale is 1 and `gamma` is unused.
// `gamma`, `beta` and the running statistics have shape (x.shape[axis],).
ad_status ad_batch_norm(const ad_array *x,
                        const ad_array *gamma,
                        const ad_array *beta,
                        ad_array *running_mean,
                        ad_array *running_var,
                        double momentum,
                        double eps,
                        int64_t axis,
                        bool fix_gamma,
                        bool use_global_stats,
                        ad_array **out);

// MXNet's `sgd_update`, in place: `weight = (1 - lr·wd)·weight - lr·clip(rescale_grad·grad)`
// (`clip_gradient` < 0: no clipping). Not allowed inside a record scope on an array in the
// graph.
ad_status ad_sgd_update(ad_array *weight,
                        const ad_array *grad,
                        double lr,
                        double wd,
                        double rescale_grad,
                        double clip_gradient);

// MXNet's `sgd_mom_update`, in place: `mom = momentum·mom - lr·wd·weight -
// lr·clip(rescale_grad·grad)`, then `weight += mom`.
ad_status ad_sgd_mom_update(ad_array *weight,
                            const ad_array *grad,
                            ad_array *mom,
                            double lr,
                            double momentum,
                            double wd,
                            double rescale_grad,
                            double clip_gradient);

// MXNet's `adam_update`, in place: `g = clip(rescale_grad·grad + wd·weight)`,
// `mean = β1·mean + (1-β1)·g`, `var = β2·var + (1-β2)·g²`,
// `weight -= lr_t·mean / (sqrt(var) + epsilon)`. With `t` = 0, `lr_t = lr` (exactly
// `nd.adam_update`); with step count `t` ≥ 1, `lr_t = lr·sqrt(1-β2ᵗ)/(1-β1ᵗ)`, the bias
// correction of MXNet's Adam optimizer.
ad_status ad_adam_update(ad_array *weight,
                         const ad_array *grad,
                         ad_array *mean,
                         ad_array *var,
                         double lr,
                         double beta1,
                         double beta2,
                         double epsilon,
                         double wd,
                         double rescale_grad,
                         double clip_gradient,
                         uint64_t t);

// `a + b`, element-wise with NumPy broadcasting.
ad_status ad_add(const ad_array *a, const ad_array *b, ad_array **out);

// `a - b`, element-wise with NumPy broadcasting.
ad_status ad_sub(const ad_array *a, const ad_array *b, ad_array **out);

// `a * b`, element-wise with NumPy broadcasting.
ad_status ad_mul(const ad_array *a, const ad_array *b, ad_array **out);

// `a / b`, element-wise with NumPy broadcasting.
ad_status ad_div(const ad_array *a, const ad_array *b, ad_array **out);

// `a ** b`, element-wise with NumPy broadcasting.
ad_status ad_pow(const ad_array *a, const ad_array *b, ad_array **out);

// Element-wise maximum with NumPy broadcasting; NaN propagates; on ties the gradient goes to `a`.
ad_status ad_maximum(const ad_array *a, const ad_array *b, ad_array **out);

// Element-wise minimum with NumPy broadcasting; NaN propagates; on ties the gradient goes to `a`.
ad_status ad_minimum(const ad_array *a, const ad_array *b, ad_array **out);

// `a + s`.
ad_status ad_add_scalar(const ad_array *a, double s, ad_array **out);

// `a - s`.
ad_status ad_sub_scalar(const ad_array *a, double s, ad_array **out);

// `s - a`.
ad_status ad_rsub_scalar(const ad_array *a, double s, ad_array **out);

// `a * s` (and `s * a`).
ad_status ad_mul_scalar(const ad_array *a, double s, ad_array **out);

// `a / s`.
ad_status ad_div_scalar(const ad_array *a, double s, ad_array **out);

// `s / a`.
ad_status ad_rdiv_scalar(const ad_array *a, double s, ad_array **out);

// `a ** s`.
ad_status ad_pow_scalar(const ad_array *a, double s, ad_array **out);

// `s ** a`.
ad_status ad_rpow_scalar(const ad_array *a, double s, ad_array **out);

// Element-wise `max(a, s)`.
ad_status ad_maximum_scalar(const ad_array *a, double s, ad_array **out);

// Element-wise `min(a, s)`.
ad_status ad_minimum_scalar(const ad_array *a, double s, ad_array **out);

// `-a`.
ad_status ad_neg(const ad_array *a, ad_array **out);

// `e ** a`.
ad_status ad_exp(const ad_array *a, ad_array **out);

// Natural logarithm.
ad_status ad_log(const ad_array *a, ad_array **out);

// Square root.
ad_status ad_sqrt(const ad_array *a, ad_array **out);

// Absolute value (gradient: the sign, 0 at 0).
ad_status ad_abs(const ad_array *a, ad_array **out);

// `a * a`.
ad_status ad_square(const ad_array *a, ad_array **out);

// `max(a, 0)` (gradient 0 at 0).
ad_status ad_relu(const ad_array *a, ad_array **out);

// `1 / (1 + e ** -a)`.
ad_status ad_sigmoid(const ad_array *a, ad_array **out);

// Hyperbolic tangent.
ad_status ad_tanh(const ad_array *a, ad_array **out);

// 1 where `a <op> b` holds and 0 elsewhere (`op` an `ad_cmp` value), in the operands' dtype,
// with NumPy broadcasting. Never recorded: no gradient flows through a comparison.
ad_status ad_compare(const ad_array *a, const ad_array *b, uint32_t op, ad_array **out);

// 1 where `a <op> s` holds and 0 elsewhere (`op` an `ad_cmp` value), in `a`'s dtype.
// For `s <op> a`, swap the operator (`s < a` is `a > s`). Never recorded.
ad_status ad_compare_scalar(const ad_array *a, double s, uint32_t op, ad_array **out);

// MXNet's `nd.dot`: the matrix product of 1-d and 2-d arrays, `a` transposed when
// `transpose_a` and `b` when `transpose_b` (without copying either). A 1-d `a` is a row
// vector, a 1-d `b` a column vector; two 1-d arrays give shape (1,).
ad_status ad_dot(const ad_array *a,
                 const ad_array *b,
                 bool transpose_a,
                 bool transpose_b,
                 ad_array **out);

// Sum over the `naxes` axes in `axes` (negative counting from the end); `naxes` = 0 sums
// over all. Without `keepdims` the axes are removed, and a sum over all axes has shape (1,)
// as in MXNet.
ad_status ad_sum(const ad_array *a,
                 const int64_t *axes,
                 size_t naxes,
                 bool keepdims,
                 ad_array **out);

// Mean over the given axes (all when `naxes` = 0); shapes as `ad_sum`.
ad_status ad_mean(const ad_array *a,
                  const int64_t *axes,
                  size_t naxes,
                  bool keepdims,
                  ad_array **out);

// L2 norm over the given axes (all when `naxes` = 0); shapes as `ad_sum`. Its gradient
// `a / norm` is taken as 0 where the norm is 0.
ad_status ad_norm(const ad_array *a,
                  const int64_t *axes,
                  size_t naxes,
                  bool keepdims,
                  ad_array **out);

// Maximum over the given axes (all when `naxes` = 0); shapes as `ad_sum`. NaN propagates;
// the gradient goes to every element equal to the maximum. A zero-size axis is `AD_ERR_SHAPE`.
ad_status ad_max(const ad_array *a,
                 const int64_t *axes,
                 size_t naxes,
                 bool keepdims,
                 ad_array **out);

// Minimum over the given axes (all when `naxes` = 0); as `ad_max`.
ad_status ad_min(const ad_array *a,
                 const int64_t *axes,
                 size_t naxes,
                 bool keepdims,
                 ad_array **out);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* AD_H */
