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
#ifndef DLPACK_DLPACK_H_
#define DLPACK_DLPACK_H_
#define DLPACK_MAJOR_VERSION 1
#define DLPACK_MINOR_VERSION 1
#ifdef __cplusplus
extern "C" {
#endif
typedef struct {
  uint32_t major;
  uint32_t minor;
} DLPackVersion;
#ifdef __cplusplus
typedef enum : int32_t {
#else
typedef enum {
#endif
  kDLCPU = 1,
  kDLCUDA = 2,
  kDLCUDAHost = 3,
  kDLOpenCL = 4,
  kDLVulkan = 7,
  kDLMetal = 8,
  kDLVPI = 9,
  kDLROCM = 10,
  kDLROCMHost = 11,
  kDLExtDev = 12,
  kDLCUDAManaged = 13,
  kDLOneAPI = 14,
  kDLWebGPU = 15,
  kDLHexagon = 16,
  kDLMAIA = 17,
  kDLTrn = 18,
} DLDeviceType;
typedef struct {
  DLDeviceType device_type;
  int32_t device_id;
} DLDevice;
typedef enum {
  kDLInt = 0U,
  kDLUInt = 1U,
  kDLFloat = 2U,
  kDLOpaqueHandle = 3U,
  kDLBfloat = 4U,
  kDLComplex = 5U,
  kDLBool = 6U,
  kDLFloat8_e3m4 = 7U,
  kDLFloat8_e4m3 = 8U,
  kDLFloat8_e4m3b11fnuz = 9U,
  kDLFloat8_e4m3fn = 10U,
  kDLFloat8_e4m3fnuz = 11U,
  kDLFloat8_e5m2 = 12U,
  kDLFloat8_e5m2fnuz = 13U,
  kDLFloat8_e8m0fnu = 14U,
  kDLFloat6_e2m3fn = 15U,
  kDLFloat6_e3m2fn = 16U,
  kDLFloat4_e2m1fn = 17U,
} DLDataTypeCode;
typedef struct {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
} DLDataType;
typedef struct {
  void *data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t *shape;
  int64_t *strides;
  uint64_t byte_offset;
} DLTensor;
typedef struct DLManagedTensor {
  DLTensor dl_tensor;
  void *manager_ctx;
  void (*deleter)(struct DLManagedTensor *self);
} DLManagedTensor;
#define DLPACK_FLAG_BITMASK_READ_ONLY (1UL << 0UL)
#define DLPACK_FLAG_BITMASK_IS_COPIED (1UL << 1UL)
#define DLPACK_FLAG_BITMASK_IS_SUBBYTE_TYPE_PADDED (1UL << 2UL)
struct DLManagedTensorVersioned {
  DLPackVersion version;
  void *manager_ctx;
  void (*deleter)(struct DLManagedTensorVersioned *self);
  uint64_t flags;
  DLTensor dl_tensor;
};
#ifdef __cplusplus
}
#endif
#endif
typedef struct DLManagedTensorVersioned DLManagedTensorVersioned;


// The most axes an array may have (NumPy's limit). A shape with more is refused with
// `AD_ERR_SHAPE` wherever an array would be made: creation, reshape, broadcast, and every
// op's result.
#define AD_MAX_NDIM 64

// The version of `ad_function_callbacks` this library reads.
#define AD_FUNCTION_CALLBACKS_VERSION 1

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

// Element types, as MXNet numbers them. Functions take these as `uint32_t`. Only float32 and
// float64 are computed on and differentiated in their own type; arrays of the others are made,
// read, printed, converted (`ad_array_astype`), saved, lent, and moved by the ops that only
// move elements (reshape, transpose, slicing, concat, take, ...).
//
// A float16 array given to an op that computes is converted to float32 (recorded, so that
// gradients flow back to it), the op computes in float32, and its float32 results come back
// in float16, as MXNet's CPU kernels compute float16 (an op given float16 and float32 arrays
// also gives float16). A float16 array can have a gradient (`ad_array_attach_grad`), which
// backward computes in float32 and writes in float16. The functions that write an array
// argument in place (the optimizer updates, `ad_batch_norm`'s running statistics), `ad_topk`
// and `ad_sample_multinomial` refuse float16 arrays there; `ad_argsort` and the `ad_sample_*`
// draws compute on float16 arguments in float32 and give their results the dtype of their
// `dtype` parameter.
//
// The integer ones also take MXNet's arithmetic on them: `ad_add`, `ad_sub`, `ad_mul`, their
// `_scalar` forms, `ad_compare`, `ad_compare_scalar`, `ad_sum` and `ad_array_update` but
// division, computed in the array's type and wrapping around (a number is converted to the
// type first, as `ad_array_astype` converts; a comparison gives 0 and 1 in the type). Every
// other op refuses them, and bool arrays in arithmetic, with `AD_ERR_DTYPE`.
typedef enum {
  AD_FLOAT32 = 0,
  AD_FLOAT64 = 1,
  // IEEE binary16, stored as its bit pattern: `uint16_t` in C (`_Float16` where the compiler
  // has it has the same bits).
  AD_FLOAT16 = 2,
  // `uint8_t`.
  AD_UINT8 = 3,
  // `int32_t`.
  AD_INT32 = 4,
  // `int8_t`.
  AD_INT8 = 5,
  // `int64_t`.
  AD_INT64 = 6,
  // One byte per element: 0 is false; the library writes 0 and 1 and reads any other byte as
  // true.
  AD_BOOL = 7,
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

// What `ad_take` and `ad_pick_mode` do with a position outside its axis. Functions take
// these as `uint32_t`.
typedef enum {
  // The call fails with `AD_ERR_INDEX`.
  AD_INDEX_RAISE = 0,
  // The position is clipped to the nearer end of the axis.
  AD_INDEX_CLIP = 1,
  // The position wraps around: it is taken modulo the axis's length (-1 is the last).
  AD_INDEX_WRAP = 2,
} ad_index_mode;

// What `ad_topk` returns, taken as `uint32_t`.
typedef enum {
  // The values.
  AD_TOPK_VALUE = 0,
  // Their positions along the axis.
  AD_TOPK_INDICES = 1,
  // 1 at their places in the input's shape, 0 elsewhere.
  AD_TOPK_MASK = 2,
} ad_topk_ret;

// An array, as C sees it: an opaque handle made by the library and freed with
// `ad_array_free`. Never dereferenced: the pointer's value encodes a table slot.
typedef struct ad_array ad_array;

// A loan of an array's elements to the host, made by `ad_array_borrow` and ended with
// `ad_borrow_release`.
typedef struct ad_borrow ad_borrow;

// A custom function, made by `ad_function_new` and freed with `ad_function_free`.
typedef struct ad_function ad_function;

// What a callback reaches its call through: valid on the callback's thread, until it returns.
typedef struct ad_function_context ad_function_context;

// How one axis is indexed, for `ad_array_slice` and `ad_array_write_slice`: positions
// `start, start + step, ...` before `stop` — a slice normalised as Python's
// `slice.indices(len)` gives it (for a negative step `stop` may be -1) — or, when `step` is
// 0, the single position `start` (negative counts from the end), which drops the axis.
typedef struct {
  int64_t start;
  int64_t stop;
  int64_t step;
} ad_index;

// A callback's signature: `forward(user_data, ctx, inputs, n_inputs, outputs, n_outputs)`,
// and `backward(user_data, ctx, output_grads, n_outputs, input_grads, n_inputs)`.
typedef ad_status (*ad_function_callback)(void *user_data,
                                          ad_function_context *ctx,
                                          const ad_array *const *arrays,
                                          size_t n_arrays,
                                          ad_array **results,
                                          size_t n_results);

// What a custom function does, filled by the caller of `ad_function_new`.
//
// `forward` gets the inputs (handles it borrows: the library frees them when it returns) and
// writes `n_outputs` new handles to `outputs`, each owned by the library from then on; it
// may save arrays for backward with `ad_function_save`. It runs without recording.
//
// `backward` gets the gradient of each output (borrowed, of the output's shape) and writes,
// for each input, a new handle with the input's gradient (of the input's shape and dtype), or
// NULL for none (a zero gradient; `ad_function_needs_grad` says which are wanted). It reads
// what forward saved with `ad_function_saved`. It runs on the thread that calls backward,
// recording when that backward creates a graph: a backward written with the library's ops
// is then differentiable again.
//
// Either reports failure by returning a status other than `AD_OK`, with a message set by
// `ad_function_set_error` (or left by the library function that failed in it); the status
// and the message reach the caller of `ad_function_apply` or of backward. Results a failing
// callback wrote are freed. A callback must not unwind (throw) into the library.
//
// `destroy(user_data)`, if not NULL, runs once, when the function's handle is freed and the
// last graph that recorded it is released, on whichever thread that happens.
typedef struct {
  // `AD_FUNCTION_CALLBACKS_VERSION`.
  uint32_t version;
  ad_function_callback forward;
  ad_function_callback backward;
  void (*destroy)(void *user_data);
} ad_function_callbacks;

// A gradient-ready hook: `hook(user_data, variable)`, called by `ad_backward` once the
// gradient of `variable` is final (see `ad_array_set_grad_hook`). `variable` is a handle the
// library lends for the call and frees after it. Returns `AD_OK`, or a failing status that
// stops backward (with a message set by `ad_grad_hook_set_error`).
typedef ad_status (*ad_grad_hook)(void *user_data, const ad_array *variable);

// What frees the user data of a gradient hook (see `ad_array_set_grad_hook`).
typedef void (*ad_destroy_fn)(void *user_data);

// What gives the host's memory back (see `ad_array_wrap`).
typedef void (*ad_release_fn)(void *context);

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

// The vector instructions the library's own kernels use (the vectorised exp, log, sigmoid
// and tanh, the float32 matrix products): `"avx512"`, `"avx2"` (with FMA) or `"portable"`.
// The best the CPU has unless a lower ceiling was set by `ad_set_cpu_level` or by the
// environment variable `AD_CPU` (read at the first use; an unknown name there sets none).
// Float32 products at `"avx512"` and float64 products at every level run on matrixmultiply,
// which picks its kernel from what the CPU has.
// Static; never freed. Fallback: `"portable"`.
const char *ad_cpu_level(void);

// Sets a ceiling on the vector instructions the library's kernels use, for the whole
// process, from the next operation on: `"avx2"` or `"portable"` to run and measure a lower
// level's paths on a CPU that has a higher one, `"avx512"` or NULL for the best the CPU has.
// A ceiling above the CPU's level gives the CPU's level (`ad_cpu_level` says what runs). An
// unknown name is `AD_ERR_INVALID_ARGUMENT`, and changes nothing.
ad_status ad_set_cpu_level(const char *ceiling);

// Computes now every array's pending values, and returns when they are computed: MXNet's
// `waitall`. Element-wise operations on arrays of 65,536 elements or more are fused: their
// result is computed, with the chain of operations before it, when a value is first needed
// (read, printed, passed to an operation that is not element-wise). The values are the same
// either way; call this before stopping a clock, or to release what pending work holds (the
// arrays it reads). Arrays made pending by other threads meanwhile may be left. Never fails.
ad_status ad_wait_all(void);

// Returns to the system the memory the library keeps for reuse, and writes the number of
// bytes released to `*released` unless it is NULL. Freed arrays of 64 KiB and more leave
// their memory in a cache (at most 512 MiB) for the next array of the same size, so that a
// loop making the same arrays step after step does not fault in fresh pages each time; a
// cached buffer is released on its own when a whole interval of large allocations (at
// least 1024) passes without reusing it. Call this when the program is done with large arrays for
// a while: after freeing them all, its memory use falls back to what live arrays hold. Live
// arrays are not touched. Never fails.
ad_status ad_release_cached_memory(size_t *released);

// An array of `array`'s shape with every element `value` (rounded to `dtype`), MXNet's
// `zeros_like`, `ones_like` and `full_like`. Recorded with a zero gradient: a backward through
// it gives zeros. `AD_ERR_DTYPE` for an unknown dtype.
ad_status ad_full_like(const ad_array *array, double value, uint32_t dtype, ad_array **out);

// Creates the 1-d array of `num` evenly spaced values from `start` to `stop`, `stop`
// included when `endpoint` (MXNet's `linspace`): value i is `start + i * step`, computed in
// double and rounded to `dtype`, with `step = (stop - start) / (num - 1)`, or `/ num`
// without `endpoint`. `start` and `stop` must be finite (`AD_ERR_INVALID_ARGUMENT`).
ad_status ad_array_linspace(double start,
                            double stop,
                            size_t num,
                            bool endpoint,
                            uint32_t dtype,
                            ad_array **out);

// Creates the (n, m) matrix with ones on diagonal `k` (0 the main diagonal, positive above
// it, negative below) and zeros elsewhere (MXNet's `eye`); `m` = 0 makes it (n, n).
ad_status ad_array_eye(size_t n, size_t m, int64_t k, uint32_t dtype, ad_array **out);

// `a` without its axes of length 1 that `axes` names (`naxes` entries, negative counting
// from the end); `naxes` = 0 removes every axis of length 1. With no axis left the result
// has shape (1,), as in MXNet. An axis of another length, or named twice, is `AD_ERR_SHAPE`.
ad_status ad_squeeze(const ad_array *a, const int64_t *axes, size_t naxes, ad_array **out);

// `a` with a new axis of length 1 at position `axis`, from -(ndim + 1) to ndim.
ad_status ad_expand_dims(const ad_array *a, int64_t axis, ad_array **out);

// `a` cut along `axis` into `num_outputs` parts of equal length (MXNet's `split`), written
// to `outs[0..num_outputs]`, each a new handle the caller frees. With `squeeze_axis` the
// parts lose the cut axis, whose length must then be `num_outputs`. A length that
// `num_outputs` does not divide is `AD_ERR_SHAPE` (an axis of length 0 makes one part);
// `num_outputs` = 0 is `AD_ERR_INVALID_ARGUMENT`. On failure nothing is written to `outs`.
ad_status ad_split(const ad_array *a,
                   size_t num_outputs,
                   int64_t axis,
                   bool squeeze_axis,
                   ad_array **outs);

// `a` with its elements in reverse order along each of the `naxes` axes in `axes` (MXNet's
// `flip` and `reverse`; negative axes count from the end, and an axis named twice is
// reversed twice).
ad_status ad_flip(const ad_array *a, const int64_t *axes, size_t naxes, ad_array **out);

// `a` repeated `reps[i]` times along axis i (NumPy's and MXNet's `tile`; `nreps` entries):
// the shorter of `a`'s shape and `reps` is padded with leading 1s.
ad_status ad_tile(const ad_array *a, const size_t *reps, size_t nreps, ad_array **out);

// Each element of `a` repeated `repeats` times along `*axis` (MXNet's `repeat`), or along
// the flattened array when `axis` is NULL.
ad_status ad_repeat(const ad_array *a, size_t repeats, const int64_t *axis, ad_array **out);

// `a` with axes `dim1` and `dim2` exchanged.
ad_status ad_swapaxes(const ad_array *a, int64_t dim1, int64_t dim2, ad_array **out);

// `a` with the axes `source` (`nsource` entries) moved to the positions `destination`
// (`ndestination` entries, as many) and the other axes in their order (MXNet's `moveaxis`).
// An axis out of range or named twice is `AD_ERR_SHAPE`; lists of different lengths are
// `AD_ERR_INVALID_ARGUMENT`.
ad_status ad_moveaxis(const ad_array *a,
                      const int64_t *source,
                      size_t nsource,
                      const int64_t *destination,
                      size_t ndestination,
                      ad_array **out);

// `a` broadcast to the shape of `like` (MXNet's `broadcast_like`). With no axes (`nlhs` =
// `nrhs` = 0) the two must have as many axes, each of `a`'s of length 1 or `like`'s; else
// axis `lhs_axes[i]` of `a`, which must have length 1, takes the length of axis `rhs_axes[i]`
// of `like` (`nlhs` = `nrhs` entries).
ad_status ad_broadcast_like(const ad_array *a,
                            const ad_array *like,
                            const int64_t *lhs_axes,
                            size_t nlhs,
                            const int64_t *rhs_axes,
                            size_t nrhs,
                            ad_array **out);

// `lhs` reshaped like `rhs` (MXNet's `reshape_like`): to `rhs`'s shape when all four bounds
// are NULL; otherwise the axes `*lhs_begin` to `*lhs_end` (exclusive) of `lhs` are replaced by
// the axes `*rhs_begin` to `*rhs_end` of `rhs`, a NULL begin meaning 0 and a NULL end the
// number of axes, negative values counting from the end. A range that is empty or out of
// bounds, or a shape of another element count, is `AD_ERR_SHAPE`.
ad_status ad_reshape_like(const ad_array *lhs,
                          const ad_array *rhs,
                          const int64_t *lhs_begin,
                          const int64_t *lhs_end,
                          const int64_t *rhs_begin,
                          const int64_t *rhs_end,
                          ad_array **out);

// `array` with a new shape given by MXNet's reshape codes (`ndim` entries), sharing its data
// as `ad_array_reshape` does. Read from the left (from the right with `reverse`), a size
// d > 0 is an axis of length d; 0 copies the next axis of `array`; -1 is inferred from the
// element count (at most one); -2 copies all the remaining axes; -3 merges the next two
// axes into one; -4 followed by two codes d1, d2 (one may be -1) splits the next axis into
// two. A code that does not fit the shape is `AD_ERR_SHAPE`.
ad_status ad_array_reshape_codes(const ad_array *array,
                                 const int64_t *shape,
                                 size_t ndim,
                                 bool reverse,
                                 ad_array **out);

// MXNet's `take`: the slices of `a` along `axis` at the positions `indices` holds (whole
// numbers of either float dtype; a fraction is truncated towards zero, as MXNet does).
// The result has `a`'s shape with `axis` replaced by `indices`'s shape. A position outside
// the axis is handled by `mode`, an `ad_index_mode`; NaN is always `AD_ERR_INDEX`, and so is
// an infinity but with `AD_INDEX_CLIP`. The gradient flows to `a`, each slice's gradient
// added back at its position.
ad_status ad_take(const ad_array *a,
                  const ad_array *indices,
                  int64_t axis,
                  uint32_t mode,
                  ad_array **out);

// Writes `src` into `array` in place at the row-major positions `indices` holds (NumPy's
// `put`; assignment through arrays of positions, `x[[0, 2]] = v`): `src` is broadcast to
// `indices`'s shape and converted to `array`'s dtype; where a position repeats, the value
// written last stays. A position that is not below `array`'s size is `AD_ERR_INDEX`, and
// nothing is written. Everything sharing `array`'s data sees the change. Inside a record
// scope, writing into an array that is in the graph is `AD_ERR_AUTOGRAD`. The handles stay
// the caller's.
ad_status ad_array_put(ad_array *array, const ad_array *indices, const ad_array *src);

// `ad_pick` with MXNet's `mode` for positions outside the axis (an `ad_index_mode`):
// `AD_INDEX_RAISE` is `ad_pick` itself; with `AD_INDEX_CLIP` and `AD_INDEX_WRAP` each
// position is truncated towards zero, as MXNet does, then clipped to the axis or wrapped
// around it.
ad_status ad_pick_mode(const ad_array *a,
                       const ad_array *index,
                       int64_t axis,
                       bool keepdims,
                       uint32_t mode,
                       ad_array **out);

// Creates an array of `shape` (`ndim` sizes) and `dtype`, copying its elements from `data`,
// which holds them row-major as `dtype` values (`float`, `double`, `uint16_t` holding float16
// bit patterns, `uint8_t`, `int32_t`, `int8_t`, `int64_t`, or one byte per bool: 0 is false,
// any other byte true). `data` may be NULL
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
// must be non-zero. For an integer or bool `dtype`, as MXNet: the count is that of the float
// range, and value i is `start + i * step` with `start` and `step` first converted to
// `dtype` (truncated). The caller frees `*out` with `ad_array_free`.
ad_status ad_array_arange(double start, double stop, double step, uint32_t dtype, ad_array **out);

// Reseeds the process-wide random generator that every `ad_random_*` function (and the
// dropout mask) draws from: the same seed gives the same draws, whatever the thread count.
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

// Creates an array of draws from the exponential distribution with mean `scale` (MXNet's
// `scale`, the inverse of the rate), by inversion. `scale` must be finite and > 0, or the
// call fails with `AD_ERR_INVALID_ARGUMENT`. The caller frees `*out` with `ad_array_free`.
ad_status ad_random_exponential(double scale,
                                const size_t *shape,
                                size_t ndim,
                                uint32_t dtype,
                                ad_array **out);

// Creates an array of draws from the gamma distribution with shape `alpha` and scale `beta`
// (mean `alpha`·`beta`), by Marsaglia and Tsang's method. `alpha` and `beta` must be finite
// and > 0, or the call fails with `AD_ERR_INVALID_ARGUMENT`. The caller frees `*out` with
// `ad_array_free`.
ad_status ad_random_gamma(double alpha,
                          double beta,
                          const size_t *shape,
                          size_t ndim,
                          uint32_t dtype,
                          ad_array **out);

// Creates an array of draws from the Poisson distribution with mean `lam`: whole numbers,
// held as `dtype` floats (as MXNet's). Inversion below 10, Hörmann's PTRS up to 1e10, the
// rounded normal approximation above. `lam` must be finite and >= 0 (0 gives zeros), or the
// call fails with `AD_ERR_INVALID_ARGUMENT`. The caller frees `*out` with `ad_array_free`.
ad_status ad_random_poisson(double lam,
                            const size_t *shape,
                            size_t ndim,
                            uint32_t dtype,
                            ad_array **out);

// Creates an array of whole numbers drawn uniformly from [`low`, `high`) (MXNet's
// `randint`), of `dtype`: `AD_INT32` or `AD_INT64` (MXNet's), or `AD_FLOAT32` or `AD_FLOAT64`
// (whole numbers held as floats); another dtype is `AD_ERR_DTYPE`. `low` must be below
// `high`, and both within the dtype's range (for the floats, the range where every whole
// number is exact: ±2^24 for `AD_FLOAT32`, ±2^53 for `AD_FLOAT64`), or the call fails with
// `AD_ERR_INVALID_ARGUMENT`. The caller frees `*out` with `ad_array_free`.
ad_status ad_random_randint(int64_t low,
                            int64_t high,
                            const size_t *shape,
                            size_t ndim,
                            uint32_t dtype,
                            ad_array **out);

// A copy of `data` with its items along the first axis (its rows, for a matrix) in a
// uniformly random order, each item's elements unchanged (MXNet's `shuffle`); a 0-d array
// is copied. The result has no autograd history: a shuffle is not differentiable. The
// caller frees `*out` with `ad_array_free`.
ad_status ad_random_shuffle(const ad_array *data, ad_array **out);

// Draws from the normal distribution N(`loc`, `scale`²) with a parameter pair per element
// (MXNet's `_sample_normal`, what `nd.random.normal` calls with arrays of parameters):
// `loc` and `scale` must have one shape P (they are not broadcast) and one dtype
// (`AD_ERR_SHAPE`, `AD_ERR_DTYPE`, naming both); the result has shape P + `shape` (`ndim`
// sizes; `ndim` 0 gives P) and dtype `dtype`, whatever the parameters' dtype, and its block
// at each position of P is drawn with the parameters there. Every `loc` must be finite and
// every `scale` finite and not negative, or the call fails with `AD_ERR_INVALID_ARGUMENT`
// naming the position. The draws come from the generator `ad_random_seed` seeds, the blocks in
// row-major order, the same on any thread count. They have no autograd history: no
// gradient flows to `loc` or `scale` (MXNet's is 0). `loc` and `scale` are only read. The
// caller frees `*out` with `ad_array_free`.
ad_status ad_sample_normal(const ad_array *loc,
                           const ad_array *scale,
                           const size_t *shape,
                           size_t ndim,
                           uint32_t dtype,
                           ad_array **out);

// Draws from the uniform distribution on [`low`, `high`) per element of `low` and `high`
// (MXNet's `_sample_uniform`), as `ad_sample_normal`: one shape P and one dtype, a result of
// shape P + `shape`. Each `low` must be finite and at most its `high` (`low` == `high` gives
// `low`), or the call fails with `AD_ERR_INVALID_ARGUMENT` naming the position. No
// autograd history. The caller frees `*out` with `ad_array_free`.
ad_status ad_sample_uniform(const ad_array *low,
                            const ad_array *high,
                            const size_t *shape,
                            size_t ndim,
                            uint32_t dtype,
                            ad_array **out);

// Draws from the exponential distribution with mean `scale` per element of `scale` (what
// `nd.random.exponential` calls with an array; MXNet's `_sample_exponential` takes the rate,
// 1 / `scale`), as `ad_sample_normal`: a result of shape `scale`'s shape + `shape`. Each
// `scale` must be finite and > 0, or the call fails with `AD_ERR_INVALID_ARGUMENT` naming
// the position. No autograd history. The caller frees `*out` with `ad_array_free`.
ad_status ad_sample_exponential(const ad_array *scale,
                                const size_t *shape,
                                size_t ndim,
                                uint32_t dtype,
                                ad_array **out);

// Draws from the gamma distribution with shape `alpha` and scale `beta` per element (MXNet's
// `_sample_gamma`), as `ad_sample_normal`: one shape P and one dtype, a result of shape P +
// `shape`. Each `alpha` and `beta` must be finite and > 0, or the call fails with
// `AD_ERR_INVALID_ARGUMENT` naming the position. No autograd history. The caller frees
// `*out` with `ad_array_free`.
ad_status ad_sample_gamma(const ad_array *alpha,
                          const ad_array *beta,
                          const size_t *shape,
                          size_t ndim,
                          uint32_t dtype,
                          ad_array **out);

// Draws from the Poisson distribution with mean `lam` per element of `lam` (MXNet's
// `_sample_poisson`): whole numbers held as `dtype` floats, as `ad_sample_normal`, a result
// of shape `lam`'s shape + `shape`. Each `lam` must be finite and >= 0, or the call fails
// with `AD_ERR_INVALID_ARGUMENT` naming the position. No autograd history. The caller
// frees `*out` with `ad_array_free`.
ad_status ad_sample_poisson(const ad_array *lam,
                            const size_t *shape,
                            size_t ndim,
                            uint32_t dtype,
                            ad_array **out);

// Draws category indices from rows of probabilities (MXNet's `nd.random.multinomial`): the
// last axis of `data` holds a row's k probabilities, and the result `*out` has shape
// `data`'s shape without its last axis + `shape` (`ndim` sizes; `ndim` 0 gives one draw per
// row), each block drawn from its row: whole numbers in [0, k) of `dtype` (`AD_INT32`,
// MXNet's default, or `AD_UINT8`, as MXNet's; or held as floats in `AD_FLOAT32` or
// `AD_FLOAT64`; another dtype is `AD_ERR_DTYPE`, and `AD_ERR_INVALID_ARGUMENT` when `dtype`
// cannot hold k - 1). `data` is float32 or float64. A category of probability 0 is
// never drawn. Every probability must be finite and not negative, and each row must sum to
// 1 within (k + 16) roundings of `data`'s dtype, or the call fails with
// `AD_ERR_INVALID_ARGUMENT` naming the row (MXNet draws out of range from a row that sums
// below 1); a 0-d `data` or an empty last axis fails with `AD_ERR_SHAPE`. `log_prob` may be
// NULL; otherwise `*log_prob` receives the log-probability of each draw, of `*out`'s shape
// in `data`'s dtype, differentiable with respect to `data` (the gradient is 1/p at each
// drawn category, summed over its draws, as in MXNet); `*out` has no autograd history. The
// draws come from the generator `ad_random_seed` seeds, the same on any thread count.
// `data` is only read. The caller frees `*out` (and `*log_prob`) with `ad_array_free`; on
// failure neither is written.
ad_status ad_sample_multinomial(const ad_array *data,
                                const size_t *shape,
                                size_t ndim,
                                uint32_t dtype,
                                ad_array **out,
                                ad_array **log_prob);

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
// (converted from the array's dtype if they differ, as `ad_array_astype` converts; a bool is
// one byte, 0 or 1). `count` must equal the array's size.
ad_status ad_array_read(const ad_array *array, uint32_t dtype, void *buffer, size_t count);

// Computes `array`'s values now if they are pending, and returns when they are computed:
// MXNet's `wait_to_read` (see `ad_wait_all` on pending values). Reading the array computes
// them too; this lets a program choose when. `array` is borrowed.
ad_status ad_array_wait_to_read(const ad_array *array);

// Writes the value of a one-element array to `*out` (MXNet's `asscalar`); any other size is
// `AD_ERR_SHAPE`. An int64 beyond 2^53 comes out rounded to a double; `ad_array_read` into an
// `AD_INT64` buffer reads it exactly.
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

// A second handle on `array`: the same data and the same place in the graph (an op on it
// is an op on `array`, its gradient is `array`'s), as a copy of a C++ shared pointer is.
// For a host that keeps an array it was lent, such as a custom function's callback. The
// caller frees `*out` with `ad_array_free`; `array`'s handle stays valid on its own.
ad_status ad_array_share(const ad_array *array, ad_array **out);

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
// broadcast to `array`'s shape and converted to its dtype (into a float16 array, each element
// is computed in float32 and rounded back); everything sharing `array`'s data sees the
// change. One pass over the data where `ad_sub` and `ad_array_write_slice` would
// make a new array and copy it. Inside a record scope, updating an array that is in the
// graph is `AD_ERR_AUTOGRAD`; a `src` that does not broadcast to `array`'s shape is
// `AD_ERR_SHAPE`, and nothing is written. Both handles stay the caller's.
ad_status ad_array_update(ad_array *array, const ad_array *src, uint32_t op);

// `array`'s elements converted to `dtype`, by NumPy's rules as MXNet 1.9.1 applies them on
// x86: a float to an integer truncates toward zero, and NaN, an infinity or a value out of
// range gives the type's minimum for int32 and int64 (for uint8 and int8, the low byte of
// that int32 conversion); integers to narrower integers keep the low bits; anything to bool
// is `x != 0` (NaN is true); bool is 0 or 1; to float16, the nearest float16 (ties to even,
// beyond 65504 infinite), as NumPy converts. Gradients flow back converted between the float
// types (to a float16 array in float32, which backward writes in float16); an integer or bool
// result is not differentiable. The caller frees `*out` with
// `ad_array_free`.
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
// non-scalar head counts as its sum; an array of the head's size but another shape is read
// as the head's shape, as MXNet does), into the gradients of the variables it depends on,
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

// Makes a custom function named `name` (for messages) from `callbacks` (read during the call;
// the struct may be freed after) and `user_data`, and writes its handle to `*out`, which the
// caller frees with `ad_function_free`. On success the library owns `user_data` and calls
// `destroy` on it once (see `ad_function_callbacks`); on failure it does not take it.
// `AD_ERR_INVALID_ARGUMENT` if `version` is not one this library reads or `forward` is NULL.
ad_status ad_function_new(const char *name,
                          const ad_function_callbacks *callbacks,
                          void *user_data,
                          ad_function **out);

// Frees the handle of a custom function. Graphs that recorded it keep it until they are
// released; `destroy` runs after the last. NULL is a no-op; a freed handle
// `AD_ERR_INVALID_HANDLE`.
ad_status ad_function_free(ad_function *function);

// Applies `function` to `n_inputs` arrays and writes its `n_outputs` results to `outputs`,
// each a new handle the caller frees. Inside a record scope, with an input in the graph,
// it is recorded: backward calls the function's `backward`. The outputs must share one
// dtype. Fails with the status and message of a failing `forward`.
ad_status ad_function_apply(const ad_function *function,
                            const ad_array *const *inputs,
                            size_t n_inputs,
                            ad_array **outputs,
                            size_t n_outputs);

// In a `forward` callback: saves `n` arrays for backward (with their versions: one written
// in place before backward makes backward fail, as for the library's own ops). Saving an
// input or an output keeps its place in the graph, so a backward that uses it is
// differentiable again; any other array forward made is a constant to second derivatives
// (for those, compute it again in backward from a saved input). `AD_ERR_AUTOGRAD` outside a
// forward callback.
ad_status ad_function_save(ad_function_context *ctx, const ad_array *const *arrays, size_t n);

// In a callback: how many arrays forward saved so far (in backward: all of them).
ad_status ad_function_saved_count(ad_function_context *ctx, size_t *count);

// In a callback: a new handle (the caller frees it) on the `i`th array forward saved.
// `AD_ERR_INDEX` if there is none.
ad_status ad_function_saved(ad_function_context *ctx, size_t i, ad_array **out);

// In a `backward` callback: whether input `i`'s gradient is wanted (the others may be left
// NULL). `AD_ERR_AUTOGRAD` outside a backward callback, `AD_ERR_INDEX` past the inputs.
ad_status ad_function_needs_grad(ad_function_context *ctx, size_t i, bool *needed);

// In a callback that is about to return a failing status: the message the caller will see
// (copied).
ad_status ad_function_set_error(ad_function_context *ctx, const char *message);

// Exports `array` as a DLPack 1.1 tensor without a copy, and writes it to `*out`. The
// consumer calls its `deleter` once when done. The tensor lends the array's memory as
// `ad_array_borrow` does: with `writable`, the consumer may write it, which counts as an
// in-place write (an op that saved the array cannot be differentiated while the tensor
// lives, or after); without, the tensor carries DLPack's read-only flag.
ad_status ad_array_to_dlpack(const ad_array *array, bool writable, DLManagedTensorVersioned **out);

// As `ad_array_to_dlpack`, in DLPack's legacy unversioned form (for consumers older than
// DLPack 1.0), which cannot say read-only: without `writable` the consumer must only read.
ad_status ad_array_to_dlpack_legacy(const ad_array *array, bool writable, DLManagedTensor **out);

// Makes an array from a DLPack 1.x tensor and writes it to `*out` (a new handle the caller
// frees), taking the tensor: the array shares its memory, and the library calls its
// deleter once, when the last array on it is gone. A tensor marked read-only, strided
// other than compact row-major, misaligned for its elements, or over memory an array
// already uses (see `ad_array_wrap`) is copied instead, and its deleter called before this
// returns; a tensor this library exported writable and the consumer left as it was comes
// back as the exported elements, with no autograd history (not copied); `*copied` (if not NULL) says which. The tensor must
// be on the CPU and hold elements of an `ad_dtype` (DLPack's float16, float32, float64, uint8,
// int8, int32, int64 or bool). On failure nothing is taken: the caller still owns the tensor.
ad_status ad_array_from_dlpack(DLManagedTensorVersioned *tensor,
                               bool *copied,
                               ad_array **out);

// As `ad_array_from_dlpack`, for a legacy (unversioned) tensor, which is never read-only.
ad_status ad_array_from_dlpack_legacy(DLManagedTensor *tensor, bool *copied, ad_array **out);

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

// Sets the gradient-ready hook of `variable` (an array marked with `ad_array_attach_grad`,
// grad_req not null; otherwise `AD_ERR_AUTOGRAD`), replacing any it had; a NULL `hook`
// removes it. On success the library owns `user_data`: `destroy(user_data)`, if not NULL,
// runs once, when the hook is replaced or removed or the variable is gone (its last array and
// graph freed), on whichever thread that happens. On failure `user_data` stays the caller's
// and `destroy` is not called (nor when `hook` is NULL).
//
// During `ad_backward` and `ad_backward_ex` (not `ad_grad`, which writes no gradient
// buffer), as soon as the gradient of a hooked variable is final (after the last operation
// of the pass that contributes to it), it is written into the variable's gradient buffer
// by its grad_req, and the hook is called with a handle of the variable, lent for the call
// (the library frees it after). The hook may read the gradient (`ad_array_grad`, then
// `ad_array_borrow`: to start an MPI_Iallreduce, say, while backward goes on) and call any
// function of the library except a backward through the same graph. Hooks run on the
// thread that calls backward, in the order their gradients become final (a reverse
// topological order: the last layer's parameters first); those of variables the pass
// reaches but sends no gradient to run at the end. Variables without a hook are written
// after the whole pass, as before.
//
// A hook that returns a status other than `AD_OK` stops backward, whose caller gets that
// status (the C boundary's own statuses, such as `AD_ERR_NULL_ARGUMENT`, become
// `AD_ERR_INVALID_ARGUMENT`, as for custom functions) and the message the hook set with
// `ad_grad_hook_set_error` (or, if it set none, the one `ad_last_error` held when it
// returned). The gradients of variables whose hooks already ran stay written; the others are
// not written. A hook must not unwind (throw) into the library.
ad_status ad_array_set_grad_hook(ad_array *variable,
                                 ad_grad_hook hook,
                                 void *user_data,
                                 ad_destroy_fn destroy);

// In a gradient hook that is about to return a failing status: the message the caller of
// backward will see (copied). `AD_ERR_AUTOGRAD` outside a hook.
ad_status ad_grad_hook_set_error(const char *message);

// Lends the host `array`'s elements without a copy: writes to `*data` the address of the
// first of them (`ad_array_size` elements of its dtype, row-major, contiguous) and to `*out`
// the loan, which the caller ends with `ad_borrow_release`.
//
// The address and the memory stay valid until the loan ends, also when `array`'s handle is
// freed first. The loan takes no lock: the library writes an array's memory only in the
// in-place calls on arrays that share it (`ad_array_update`, `ad_array_write_slice`, the
// optimizer updates) and in backward, into gradient buffers; the loan sees what they write,
// and the host must not make such calls on another thread while it uses the memory.
//
// A gradient is read the same way: borrow the handle `ad_array_grad` gives. Each backward
// writes the new gradient into the same memory, so the loan sees it when backward returns.
//
// With `writable` the host may also write the elements. That counts as an in-place change:
// an op recorded before or during the loan that saved this array cannot be differentiated
// (`AD_ERR_AUTOGRAD`, saying why), during the loan and after, as for any in-place write.
ad_status ad_array_borrow(const ad_array *array, bool writable, void **data, ad_borrow **out);

// Ends a loan made by `ad_array_borrow`: the host no longer reads or writes its memory.
// NULL is a no-op; a loan already ended `AD_ERR_INVALID_HANDLE`.
ad_status ad_borrow_release(ad_borrow *borrow);

// Makes an array over the host's memory, without a copy: `data` holds the shape's elements
// row-major as `dtype` values (of the C types `ad_array_create` lists), aligned for them;
// it may be NULL only when the shape has no elements. `*out` is a new handle the caller
// frees with `ad_array_free`.
//
// On success the library reads and writes that memory as the array's (and its views')
// until the last array on it is gone, then calls `release(context)` once, on whichever
// thread that happens; the host does not free the memory before. With `release` NULL the
// memory must outlive every array on it. Between the library's calls the host may read and
// write the memory itself; to write after an op saved the array for backward, it writes
// through a writable `ad_array_borrow`, which the version check then sees.
//
// One block of memory is one array's: memory that overlaps memory an array already uses
// (wrapped, lent by `ad_array_borrow` or a DLPack export, or imported from DLPack) is
// refused with `AD_ERR_INVALID_ARGUMENT`. Share an array over it through its views
// (`ad_array_reshape`, `ad_array_slice`) instead: the library's locks guard each array's
// memory, and two arrays over one block would escape them. On failure nothing is taken and
// `release` is not called.
ad_status ad_array_wrap(void *data,
                        const size_t *shape,
                        size_t ndim,
                        uint32_t dtype,
                        ad_release_fn release,
                        void *context,
                        ad_array **out);

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
// float32, float64, uint8 (`|u1`), int8, int32 (`<i4`), int64 (`<i8`) and bool (`|b1`) arrays
// are read, in either byte order and in C or Fortran order;
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
// checkpoint's address is not given to a new one before then). Each entry is freed as an
// array handle: one that is not a live handle (the caller freed it, or wrote something else
// there) is reported with `AD_ERR_INVALID_HANDLE` too, after everything else was freed, and
// a live handle the caller wrote there is freed like the ones `ad_load` wrote.
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

// MXNet's `signsgd_update`, in place: `weight = (1 - lr·wd)·weight - lr·sign(grad)`.
// As in MXNet, `rescale_grad` and `clip_gradient` are accepted and have no effect (only the
// gradient's sign counts). `weight` is written; `grad` is read. Errors: `AD_ERR_SHAPE` or
// `AD_ERR_DTYPE` when `grad` differs from `weight` (the message names both shapes).
ad_status ad_signsgd_update(ad_array *weight,
                            const ad_array *grad,
                            double lr,
                            double wd,
                            double rescale_grad,
                            double clip_gradient);

// MXNet's `signum_update`, in place: `mom = momentum·mom - (1-momentum)·wd·weight -
// (1-momentum)·clip(rescale_grad·grad)`, then `weight = (1 - lr·wd_lh)·weight + lr·sign(mom)`.
// `weight` and `mom` are written; `grad` is read. Errors: `AD_ERR_SHAPE` or `AD_ERR_DTYPE`
// when `grad` or `mom` differs from `weight` (the message names both shapes);
// `AD_ERR_INVALID_ARGUMENT` when `mom` shares memory with `weight`.
ad_status ad_signum_update(ad_array *weight,
                           const ad_array *grad,
                           ad_array *mom,
                           double lr,
                           double momentum,
                           double wd,
                           double rescale_grad,
                           double clip_gradient,
                           double wd_lh);

// MXNet's `rmsprop_update` (Tieleman and Hinton), in place: `g = clip(rescale_grad·grad +
// wd·weight)`, `n = (1-gamma1)·g² + gamma1·n`, `weight = weight - lr·g/sqrt(n + epsilon)`,
// then clipped to `[-clip_weights, clip_weights]` when `clip_weights` ≥ 0. `weight` and `n`
// are written; `grad` is read. Errors: `AD_ERR_SHAPE` or `AD_ERR_DTYPE` when `grad` or `n`
// differs from `weight` (the message names both shapes); `AD_ERR_INVALID_ARGUMENT` when `n`
// shares memory with `weight`.
ad_status ad_rmsprop_update(ad_array *weight,
                            const ad_array *grad,
                            ad_array *n,
                            double lr,
                            double gamma1,
                            double epsilon,
                            double wd,
                            double rescale_grad,
                            double clip_gradient,
                            double clip_weights);

// MXNet's `rmspropalex_update` (Graves' centered RMSProp), in place: with
// `r = clip(rescale_grad·grad + wd·weight)`, `n = (1-gamma1)·r² + gamma1·n`,
// `g = (1-gamma1)·r + gamma1·g`, `delta = gamma2·delta - lr·r/sqrt(n - g² + epsilon)` and
// `weight = weight + delta`, clipped to `[-clip_weights, clip_weights]` when `clip_weights`
// ≥ 0. `weight`, `n`, `g` and `delta` are written; `grad` is read. Errors: `AD_ERR_SHAPE` or
// `AD_ERR_DTYPE` when an array differs from `weight` (the message names both shapes);
// `AD_ERR_INVALID_ARGUMENT` when two written arrays share memory.
ad_status ad_rmspropalex_update(ad_array *weight,
                                const ad_array *grad,
                                ad_array *n,
                                ad_array *g,
                                ad_array *delta,
                                double lr,
                                double gamma1,
                                double gamma2,
                                double epsilon,
                                double wd,
                                double rescale_grad,
                                double clip_gradient,
                                double clip_weights);

// MXNet's `ftrl_update` (FTRL-Proximal), in place: with `r = clip(rescale_grad·grad)`,
// `z += r - (sqrt(n + r²) - sqrt(n))·weight/lr`, `n += r²`, and
// `weight = (sign(z)·lamda1 - z) / ((beta + sqrt(n))/lr + wd)` where `|z| > lamda1`, else 0.
// `weight`, `z` and `n` are written; `grad` is read. Errors: `AD_ERR_SHAPE` or
// `AD_ERR_DTYPE` when an array differs from `weight` (the message names both shapes);
// `AD_ERR_INVALID_ARGUMENT` when two written arrays share memory.
ad_status ad_ftrl_update(ad_array *weight,
                         const ad_array *grad,
                         ad_array *z,
                         ad_array *n,
                         double lr,
                         double lamda1,
                         double beta,
                         double wd,
                         double rescale_grad,
                         double clip_gradient);

// MXNet's `nag_mom_update` (Nesterov momentum), in place: with `d = clip(rescale_grad·grad)
// + wd·weight`, `mom = momentum·mom`, `weight = weight - mom + (momentum+1)·(mom - lr·d)`,
// then `mom -= lr·(clip(rescale_grad·grad) + wd·weight)` with the new weight (MXNet's
// result with `out=weight`, which its NAG optimizer uses). `weight` and `mom` are written;
// `grad` is read. Errors: `AD_ERR_SHAPE` or `AD_ERR_DTYPE` when `grad` or `mom` differs from
// `weight` (the message names both shapes); `AD_ERR_INVALID_ARGUMENT` when `mom` shares
// memory with `weight`.
ad_status ad_nag_mom_update(ad_array *weight,
                            const ad_array *grad,
                            ad_array *mom,
                            double lr,
                            double momentum,
                            double wd,
                            double rescale_grad,
                            double clip_gradient);

// MXNet's `lamb_update_phase1`, the first half of a LAMB step: with
// `r = clip(rescale_grad·grad)`, updates `mean = beta1·mean + (1-beta1)·r` and
// `var = beta2·var + (1-beta2)·r²` in place, and makes in `*out` a new array, the direction
// `g = mean_hat/(sqrt(var_hat) + epsilon) + wd·weight`, where `mean_hat = mean/(1-beta1ᵗ)` and
// `var_hat = var/(1-beta2ᵗ)` with `bias_correction` (`mean` and `var` without). `weight` and
// `grad` are read; `mean` and `var` are written; `*out` is the caller's to free. Errors:
// `AD_ERR_SHAPE` or `AD_ERR_DTYPE` when an array differs from `weight` (the message names
// both shapes); `AD_ERR_INVALID_ARGUMENT` when two of `weight`, `mean` and `var` share
// memory. On error `*out` is left alone.
ad_status ad_lamb_update_phase1(const ad_array *weight,
                                const ad_array *grad,
                                ad_array *mean,
                                ad_array *var,
                                double beta1,
                                double beta2,
                                double epsilon,
                                uint64_t t,
                                bool bias_correction,
                                double wd,
                                double rescale_grad,
                                double clip_gradient,
                                ad_array **out);

// MXNet's `lamb_update_phase2`, the second half of a LAMB step, in place:
// `weight -= lr·(r1/r2)·g`, where `r1` (the weight's norm) and `r2` (the direction's) are
// one-element arrays, `r1` first raised to `lower_bound` and lowered to `upper_bound` (each
// when ≥ 0); when `r1` or `r2` is 0, `weight -= lr·g`. `weight` is written; `g`, `r1` and
// `r2` are read. Errors: `AD_ERR_SHAPE` or `AD_ERR_DTYPE` when `g` differs from `weight` (the
// message names both shapes) or `r1` or `r2` is not one element of the weight's dtype.
ad_status ad_lamb_update_phase2(ad_array *weight,
                                const ad_array *g,
                                const ad_array *r1,
                                const ad_array *r2,
                                double lr,
                                double lower_bound,
                                double upper_bound);

// `a` sorted along `*axis` (negative counting from the end), or the flattened array sorted
// when `axis` is NULL (shape (size,)), ascending when `is_ascend`, else descending; equal
// elements keep their order and NaN counts as the largest. The gradient goes back to where
// each value came from. An axis out of range is `AD_ERR_SHAPE`.
ad_status ad_sort(const ad_array *a, const int64_t *axis, bool is_ascend, ad_array **out);

// The positions that sort `a` along `*axis` (of the flattened array when `axis` is NULL), in
// the order of `ad_sort`, as floats of `dtype` (an `ad_dtype`). Not differentiable.
ad_status ad_argsort(const ad_array *a,
                     const int64_t *axis,
                     bool is_ascend,
                     uint32_t dtype,
                     ad_array **out);

// MXNet's `topk`: the `k` largest elements of `a` along `*axis` (the smallest when
// `is_ascend`; of the flattened array when `axis` is NULL; all of them when `k` < 1), in the
// order of `ad_sort`. `ret_typ` (an `ad_topk_ret`) picks the result: their values
// (differentiable, as `ad_sort`'s), their positions as floats of `dtype`, or a mask of `a`'s
// shape (in `a`'s dtype) with 1 at their places. `k` above the axis's length is
// `AD_ERR_SHAPE`; an unknown `ret_typ` or `dtype` is `AD_ERR_INVALID_ARGUMENT` or `AD_ERR_DTYPE`.
ad_status ad_topk(const ad_array *a,
                  const int64_t *axis,
                  int64_t k,
                  uint32_t ret_typ,
                  bool is_ascend,
                  uint32_t dtype,
                  ad_array **out);

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
// vector, a 1-d `b` a column vector; two 1-d arrays give shape (1,). When either has more
// than 2 axes, the sum product over `a`'s last axis and `b`'s first, of shape
// `a.shape[:-1] + b.shape[1:]`; `transpose_a` contracts `a`'s first axis instead (its other
// axes in order), `transpose_b` `b`'s last. Sizes that do not match are `AD_ERR_SHAPE`.
ad_status ad_dot(const ad_array *a,
                 const ad_array *b,
                 bool transpose_a,
                 bool transpose_b,
                 ad_array **out);

// MXNet's `nd.batch_dot`: for `a` and `b` of 3 axes or more with the same leading axes (the
// batch), the matrix product of each pair of matrices on their last two axes, `a`'s
// transposed when `transpose_a` and `b`'s when `transpose_b`: (..., m, k) · (..., k, n) gives
// (..., m, n). Other shapes are `AD_ERR_SHAPE`; operands of different dtypes `AD_ERR_DTYPE`.
ad_status ad_batch_dot(const ad_array *a,
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

// Product over the given axes (all when `naxes` = 0; 1 over none); shapes as `ad_sum`. The
// gradient of an element is the product of the others in its group, also where elements
// are 0.
ad_status ad_prod(const ad_array *a,
                  const int64_t *axes,
                  size_t naxes,
                  bool keepdims,
                  ad_array **out);

// Sum over the given axes with NaN counted as 0; shapes as `ad_sum`. The gradient is 0 at
// NaN elements.
ad_status ad_nansum(const ad_array *a,
                    const int64_t *axes,
                    size_t naxes,
                    bool keepdims,
                    ad_array **out);

// Product over the given axes with NaN counted as 1; as `ad_prod`, with gradient 0 at NaN
// elements.
ad_status ad_nanprod(const ad_array *a,
                     const int64_t *axes,
                     size_t naxes,
                     bool keepdims,
                     ad_array **out);

// L1 norm (the sum of absolute values) over the given axes (all when `naxes` = 0); shapes as
// `ad_sum`. The gradient is the sign of each element, 0 at 0.
ad_status ad_norm1(const ad_array *a,
                   const int64_t *axes,
                   size_t naxes,
                   bool keepdims,
                   ad_array **out);

// Running sums along `*axis` (negative counting from the end), or along the flattened array
// when `axis` is NULL (then of shape (size,)), as NumPy's `cumsum`. The result has `a`'s
// shape and dtype. An axis out of range is `AD_ERR_SHAPE`.
ad_status ad_cumsum(const ad_array *a, const int64_t *axis, ad_array **out);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* AD_H */
