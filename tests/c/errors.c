/*
 * Every error path of the C boundary: each failing call returns its status, leaves a message
 * naming the argument or shapes at fault, writes nothing through its out-parameters, and
 * leaves the process able to go on.
 */
#include <stdint.h>

#include "check.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* What an out-parameter holds before a call that must not write it. */
#define SENTINEL ((ad_array *)(uintptr_t)0x5e5e5e50)

/* The out-parameter of the calls below. */
static ad_array *result = NULL;

/* `call`, which writes a handle to `result`, fails with `status` and leaves `result` alone.
   (Should it succeed after all, the new handle is freed so that only the check fails.) */
#define FAILS_NO_OUT(call, status)                                  \
    do {                                                            \
        result = SENTINEL;                                          \
        FAILS(call, status);                                        \
        CHECK(result == SENTINEL);                                  \
        if (result != SENTINEL && result != NULL) ad_array_free(result); \
    } while (0)

/* Says which case of a loop failed, when one did. */
#define IN_CASE(before, name)                                                   \
    do {                                                                        \
        if (check_failures != (before)) fprintf(stderr, "  (in %s)\n", (name)); \
    } while (0)


/* A new array of `shape` (0, 1, 2, ... as `dtype`); the caller frees it. */
static ad_array *make(const size_t *shape, size_t ndim, uint32_t dtype) {
    size_t n = 1;
    for (size_t i = 0; i < ndim; i++) n *= shape[i];
    ad_array *flat = NULL, *a = NULL;
    OK(ad_array_arange(0, (double)n, 1, dtype, &flat));
    int64_t to[8];
    for (size_t i = 0; i < ndim; i++) to[i] = (int64_t)shape[i];
    OK(ad_array_reshape(flat, to, ndim, &a));
    OK(ad_array_free(flat));
    return a;
}

/* ---- the op tables: every op of each signature, by name ---- */

typedef ad_status (*binary_fn)(const ad_array *, const ad_array *, ad_array **);
typedef ad_status (*scalar_fn)(const ad_array *, double, ad_array **);
typedef ad_status (*unary_fn)(const ad_array *, ad_array **);
typedef ad_status (*reduce_fn)(const ad_array *, const int64_t *, size_t, bool, ad_array **);

static const struct {
    const char *name;
    binary_fn fn;
} binary_ops[] = {
    {"ad_add", ad_add}, {"ad_sub", ad_sub}, {"ad_mul", ad_mul}, {"ad_div", ad_div},
    {"ad_pow", ad_pow}, {"ad_maximum", ad_maximum}, {"ad_minimum", ad_minimum},
};

static const struct {
    const char *name;
    scalar_fn fn;
} scalar_ops[] = {
    {"ad_add_scalar", ad_add_scalar}, {"ad_sub_scalar", ad_sub_scalar},
    {"ad_rsub_scalar", ad_rsub_scalar}, {"ad_mul_scalar", ad_mul_scalar},
    {"ad_div_scalar", ad_div_scalar}, {"ad_rdiv_scalar", ad_rdiv_scalar},
    {"ad_pow_scalar", ad_pow_scalar}, {"ad_rpow_scalar", ad_rpow_scalar},
    {"ad_maximum_scalar", ad_maximum_scalar}, {"ad_minimum_scalar", ad_minimum_scalar},
};

static const struct {
    const char *name;
    unary_fn fn;
} unary_ops[] = {
    {"ad_neg", ad_neg}, {"ad_exp", ad_exp}, {"ad_log", ad_log}, {"ad_sqrt", ad_sqrt},
    {"ad_abs", ad_abs}, {"ad_square", ad_square}, {"ad_relu", ad_relu},
    {"ad_sigmoid", ad_sigmoid}, {"ad_tanh", ad_tanh}, {"ad_array_copy", ad_array_copy},
    {"ad_array_detach", ad_array_detach}, {"ad_array_share", ad_array_share},
};

static const struct {
    const char *name;
    reduce_fn fn;
} reduce_ops[] = {
    {"ad_sum", ad_sum}, {"ad_mean", ad_mean}, {"ad_norm", ad_norm},
    {"ad_max", ad_max}, {"ad_min", ad_min},
};

/* ------------------------------------------------------------------------------------- */

/* The NULL checks below read the messages closely for the common calls; that every pointer
   parameter of every function refuses NULL (or takes it, where ad.h says so) is checked by a
   program that tests/c_api.rs generates from the header. */
static void test_null_out(void) {
    ad_array *a = make(S23, 2, AD_FLOAT32), *b = make(S23, 2, AD_FLOAT32);
    const float data[6] = {0};
    const int64_t to[] = {3, 2};

    /* every function that makes a handle, with `out` NULL */
    FAILS(ad_array_create(data, S23, 2, AD_FLOAT32, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("ad_array_create");
    MESSAGE_HAS("`out`");
    FAILS(ad_array_full(S23, 2, 1, AD_FLOAT32, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    FAILS(ad_array_zeros(S23, 2, AD_FLOAT32, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    FAILS(ad_array_ones(S23, 2, AD_FLOAT32, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    FAILS(ad_array_arange(0, 4, 1, AD_FLOAT32, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    FAILS(ad_random_normal(0, 1, S23, 2, AD_FLOAT32, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    FAILS(ad_random_uniform(0, 1, S23, 2, AD_FLOAT32, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    FAILS(ad_array_reshape(a, to, 2, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    FAILS(ad_array_transpose(a, NULL, 0, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    FAILS(ad_array_broadcast_to(a, S23, 2, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    FAILS(ad_array_grad(a, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    FAILS(ad_compare(a, b, AD_CMP_EQ, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    FAILS(ad_compare_scalar(a, 1, AD_CMP_EQ, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    FAILS(ad_dot(a, b, false, true, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("ad_dot");
    MESSAGE_HAS("`out`");
    for (size_t i = 0; i < COUNT(binary_ops); i++) {
        int before = check_failures;
        FAILS(binary_ops[i].fn(a, b, NULL), AD_ERR_NULL_ARGUMENT);
        MESSAGE_HAS(binary_ops[i].name);
        MESSAGE_HAS("`out`");
        IN_CASE(before, binary_ops[i].name);
    }
    for (size_t i = 0; i < COUNT(scalar_ops); i++) {
        int before = check_failures;
        FAILS(scalar_ops[i].fn(a, 2, NULL), AD_ERR_NULL_ARGUMENT);
        MESSAGE_HAS(scalar_ops[i].name);
        MESSAGE_HAS("`out`");
        IN_CASE(before, scalar_ops[i].name);
    }
    for (size_t i = 0; i < COUNT(unary_ops); i++) {
        int before = check_failures;
        FAILS(unary_ops[i].fn(a, NULL), AD_ERR_NULL_ARGUMENT);
        MESSAGE_HAS(unary_ops[i].name);
        MESSAGE_HAS("`out`");
        IN_CASE(before, unary_ops[i].name);
    }
    for (size_t i = 0; i < COUNT(reduce_ops); i++) {
        int before = check_failures;
        FAILS(reduce_ops[i].fn(a, NULL, 0, false, NULL), AD_ERR_NULL_ARGUMENT);
        MESSAGE_HAS(reduce_ops[i].name);
        MESSAGE_HAS("`out`");
        IN_CASE(before, reduce_ops[i].name);
    }

    /* the queries' out-parameters */
    double d = 0;
    FAILS(ad_array_ndim(a, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("ad_array_ndim");
    MESSAGE_HAS("`out`");
    FAILS(ad_array_size(a, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    FAILS(ad_array_dtype(a, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    ad_array *s = make(S1, 1, AD_FLOAT64);
    FAILS(ad_array_asscalar(s, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out`");
    OK(ad_array_asscalar(s, &d)); /* the same array works with an out-parameter */

    OK(ad_array_free(s));
    OK(ad_array_free(a));
    OK(ad_array_free(b));
}

static void test_null_shape_and_data(void) {
    ad_array *a = make(S23, 2, AD_FLOAT32);
    const float data[6] = {0};
    const int64_t axes[] = {0};

    /* a shape pointer NULL with ndim > 0 */
    FAILS_NO_OUT(ad_array_create(data, NULL, 2, AD_FLOAT32, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`shape`");
    FAILS_NO_OUT(ad_array_full(NULL, 2, 1, AD_FLOAT32, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`shape`");
    FAILS_NO_OUT(ad_array_zeros(NULL, 1, AD_FLOAT64, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("ad_array_zeros");
    MESSAGE_HAS("`shape`");
    FAILS_NO_OUT(ad_array_ones(NULL, 3, AD_FLOAT32, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`shape`");
    FAILS_NO_OUT(ad_random_normal(0, 1, NULL, 2, AD_FLOAT32, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`shape`");
    FAILS_NO_OUT(ad_random_uniform(0, 1, NULL, 2, AD_FLOAT32, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`shape`");
    FAILS_NO_OUT(ad_array_broadcast_to(a, NULL, 2, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`shape`");
    FAILS_NO_OUT(ad_array_reshape(a, NULL, 2, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("ad_array_reshape");
    MESSAGE_HAS("`shape`");

    /* an axes pointer NULL with naxes > 0 */
    FAILS_NO_OUT(ad_array_transpose(a, NULL, 2, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`axes`");
    for (size_t i = 0; i < COUNT(reduce_ops); i++) {
        int before = check_failures;
        FAILS_NO_OUT(reduce_ops[i].fn(a, NULL, 1, false, &result), AD_ERR_NULL_ARGUMENT);
        MESSAGE_HAS(reduce_ops[i].name);
        MESSAGE_HAS("`axes`");
        IN_CASE(before, reduce_ops[i].name);
    }
    /* ... which the same calls accept with naxes = 0, or with the axes given */
    OK(ad_sum(a, NULL, 0, false, &result));
    OK(ad_array_free(result));
    OK(ad_sum(a, axes, 1, false, &result));
    OK(ad_array_free(result));

    /* data NULL for a shape with elements (NULL is fine only for an empty shape) */
    FAILS_NO_OUT(ad_array_create(NULL, S23, 2, AD_FLOAT32, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("ad_array_create");
    MESSAGE_HAS("`data`");
    FAILS_NO_OUT(ad_array_create(NULL, NULL, 0, AD_FLOAT64, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`data`");

    /* the caller's buffers */
    float buf[6] = {-1, -1, -1, -1, -1, -1};
    FAILS(ad_array_read(a, AD_FLOAT32, NULL, 6), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("ad_array_read");
    MESSAGE_HAS("`buffer`");
    FAILS(ad_array_shape(a, NULL, 2), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("ad_array_shape");
    MESSAGE_HAS("`shape`");
    size_t len = 0;
    FAILS(ad_array_to_string(a, NULL, 1000, &len), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("ad_array_to_string");
    MESSAGE_HAS("`buffer`");
    OK(ad_array_read(a, AD_FLOAT32, buf, 6)); /* and with a buffer it works */
    CHECK(buf[5] == 5);

    OK(ad_array_free(a));
}

static void test_null_handles(void) {
    ad_array *a = make(S23, 2, AD_FLOAT32);
    const int64_t to[] = {6};
    size_t n = 99;
    uint32_t dt = 99;
    double d = -1;

    /* handle arguments: the first operand, the second, and each single-array call */
    for (size_t i = 0; i < COUNT(binary_ops); i++) {
        int before = check_failures;
        FAILS_NO_OUT(binary_ops[i].fn(NULL, a, &result), AD_ERR_NULL_ARGUMENT);
        MESSAGE_HAS(binary_ops[i].name);
        MESSAGE_HAS("`a`");
        FAILS_NO_OUT(binary_ops[i].fn(a, NULL, &result), AD_ERR_NULL_ARGUMENT);
        MESSAGE_HAS("`b`");
        IN_CASE(before, binary_ops[i].name);
    }
    for (size_t i = 0; i < COUNT(scalar_ops); i++) {
        int before = check_failures;
        FAILS_NO_OUT(scalar_ops[i].fn(NULL, 1, &result), AD_ERR_NULL_ARGUMENT);
        MESSAGE_HAS("`a`");
        IN_CASE(before, scalar_ops[i].name);
    }
    for (size_t i = 0; i < COUNT(unary_ops); i++) {
        int before = check_failures;
        FAILS_NO_OUT(unary_ops[i].fn(NULL, &result), AD_ERR_NULL_ARGUMENT);
        MESSAGE_HAS(unary_ops[i].name);
        IN_CASE(before, unary_ops[i].name);
    }
    for (size_t i = 0; i < COUNT(reduce_ops); i++) {
        int before = check_failures;
        FAILS_NO_OUT(reduce_ops[i].fn(NULL, NULL, 0, true, &result), AD_ERR_NULL_ARGUMENT);
        MESSAGE_HAS("`a`");
        IN_CASE(before, reduce_ops[i].name);
    }
    FAILS_NO_OUT(ad_compare(NULL, a, AD_CMP_LT, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`a`");
    FAILS_NO_OUT(ad_compare(a, NULL, AD_CMP_LT, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`b`");
    FAILS_NO_OUT(ad_compare_scalar(NULL, 0, AD_CMP_LT, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`a`");
    FAILS_NO_OUT(ad_dot(NULL, a, false, false, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`a`");
    FAILS_NO_OUT(ad_dot(a, NULL, false, false, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`b`");
    FAILS_NO_OUT(ad_array_reshape(NULL, to, 1, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");
    FAILS_NO_OUT(ad_array_transpose(NULL, NULL, 0, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");
    FAILS_NO_OUT(ad_array_broadcast_to(NULL, S23, 2, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");
    FAILS_NO_OUT(ad_array_grad(NULL, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");

    /* the queries, with their out-parameters left alone */
    FAILS(ad_array_ndim(NULL, &n), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");
    FAILS(ad_array_size(NULL, &n), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");
    CHECK(n == 99);
    FAILS(ad_array_dtype(NULL, &dt), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");
    CHECK(dt == 99);
    FAILS(ad_array_asscalar(NULL, &d), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");
    CHECK(d == -1);
    size_t shape[4] = {7, 7, 7, 7};
    FAILS(ad_array_shape(NULL, shape, 4), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");
    CHECK(shape[0] == 7);
    float buf[6];
    FAILS(ad_array_read(NULL, AD_FLOAT32, buf, 6), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");
    char text[64] = "untouched";
    size_t len = 12345;
    FAILS(ad_array_to_string(NULL, text, sizeof text, &len), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");
    CHECK(strcmp(text, "untouched") == 0);
    CHECK(len == 12345);

    /* autograd calls */
    FAILS(ad_array_attach_grad(NULL, AD_GRAD_WRITE), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");
    FAILS(ad_array_attach_grad_with(NULL, a, AD_GRAD_WRITE), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");
    FAILS(ad_array_attach_grad_with(a, NULL, AD_GRAD_WRITE), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`gradient`");
    FAILS(ad_array_retain_grad(NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`array`");
    FAILS(ad_backward(NULL, NULL, false), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("ad_backward");
    MESSAGE_HAS("`head`");

    /* freeing NULL is a no-op */
    OK(ad_array_free(NULL));
    OK(ad_array_free(a));
}

static void test_null_lists(void) {
    ad_array *x = make(S3, 1, AD_FLOAT32), *y = NULL;
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    OK(ad_mul_scalar(x, 2, &y));
    OK(ad_record_end());
    const ad_array *heads[] = {y}, *vars[] = {x};
    const ad_array *null_heads[] = {NULL}, *null_vars[] = {NULL};
    ad_array *grads[2] = {SENTINEL, SENTINEL};

    /* heads, variables and out_grads lists NULL with a non-zero count */
    FAILS(ad_backward_ex(NULL, NULL, 1, true, true), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("ad_backward_ex");
    MESSAGE_HAS("`heads`");
    FAILS(ad_grad(NULL, NULL, 1, vars, 1, true, false, true, grads), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("ad_grad");
    MESSAGE_HAS("`heads`");
    FAILS(ad_grad(heads, NULL, 1, NULL, 1, true, false, true, grads), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`variables`");
    FAILS(ad_grad(heads, NULL, 1, vars, 1, true, false, true, NULL), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`out_grads`");

    /* a NULL entry in a list names its index */
    FAILS(ad_backward_ex(null_heads, NULL, 1, true, true), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`heads[0]`");
    FAILS(ad_grad(null_heads, NULL, 1, vars, 1, true, false, true, grads), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`heads[0]`");
    FAILS(ad_grad(heads, NULL, 1, null_vars, 1, true, false, true, grads), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`variables[0]`");
    CHECK(grads[0] == SENTINEL && grads[1] == SENTINEL);

    /* the graph is still there: the same calls with their lists succeed */
    OK(ad_grad(heads, NULL, 1, vars, 1, true, false, true, grads));
    CHECK(grads[1] == SENTINEL);
    OK(ad_array_free(grads[0]));
    OK(ad_backward_ex(heads, NULL, 1, false, true));

    OK(ad_array_free(y));
    OK(ad_array_free(x));
}

static void test_invalid_handles(void) {
    ad_array *a = make(S23, 2, AD_FLOAT32), *b = make(S23, 2, AD_FLOAT32), *c = NULL;
    ad_array *made_up = (ad_array *)(uintptr_t)0x12345;
    size_t n = 99;

    /* a freed handle used as an input */
    OK(ad_array_free(b));
    FAILS_NO_OUT(ad_add(a, b, &result), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("ad_add");
    MESSAGE_HAS("`b`");
    MESSAGE_HAS("freed");
    FAILS_NO_OUT(ad_exp(b, &result), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("`a`");
    FAILS(ad_array_size(b, &n), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("`array`");
    CHECK(n == 99);
    FAILS(ad_array_attach_grad(b, AD_GRAD_WRITE), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("`array`");
    FAILS(ad_backward(b, NULL, false), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("`head`");
    FAILS(ad_backward(a, b, false), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("`head_grad`");
    const ad_array *stale[] = {b};
    FAILS(ad_backward_ex(stale, NULL, 1, false, true), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("`heads[0]`");

    /* freed twice: an error that changes nothing */
    FAILS(ad_array_free(b), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("ad_array_free");
    MESSAGE_HAS("`array`");

    /* a freed handle stays invalid when its slot is used again */
    OK(ad_array_zeros(S3, 1, AD_FLOAT64, &c));
    FAILS(ad_array_size(b, &n), AD_ERR_INVALID_HANDLE);
    FAILS(ad_array_free(b), AD_ERR_INVALID_HANDLE);
    OK(ad_array_size(c, &n)); /* and the new handle is not disturbed */
    CHECK(n == 3);

    /* a handle the library never made */
    FAILS_NO_OUT(ad_neg(made_up, &result), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("`a`");
    FAILS(ad_array_ndim(made_up, &n), AD_ERR_INVALID_HANDLE);
    FAILS(ad_array_free(made_up), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("never made");
    FAILS_NO_OUT(ad_mul(a, made_up, &result), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("`b`");

    /* the live handles still work */
    OK(ad_add(a, a, &result));
    OK(ad_array_free(result));
    OK(ad_array_free(c));
    OK(ad_array_free(a));
}

static void test_shape_errors(void) {
    ad_array *m = make(S23, 2, AD_FLOAT32), *v4 = make(S4, 1, AD_FLOAT32), *m33 = make(S33, 2, AD_FLOAT32);
    ad_array *v3 = make(S3, 1, AD_FLOAT32), *t = make(S234, 3, AD_FLOAT32);

    /* element-wise operands that do not broadcast: both shapes in the message */
    for (size_t i = 0; i < COUNT(binary_ops); i++) {
        int before = check_failures;
        FAILS_NO_OUT(binary_ops[i].fn(m, v4, &result), AD_ERR_SHAPE);
        MESSAGE_HAS(binary_ops[i].name);
        MESSAGE_HAS("(2, 3)");
        MESSAGE_HAS("(4,)");
        IN_CASE(before, binary_ops[i].name);
    }
    FAILS_NO_OUT(ad_add(m, m33, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("(2, 3)");
    MESSAGE_HAS("(3, 3)");
    FAILS_NO_OUT(ad_compare(v4, m, AD_CMP_EQ, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("(4,)");
    MESSAGE_HAS("(2, 3)");

    /* broadcast_to a shape the array does not broadcast to */
    FAILS_NO_OUT(ad_array_broadcast_to(m, S33, 2, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("(2, 3)");
    MESSAGE_HAS("(3, 3)");
    FAILS_NO_OUT(ad_array_broadcast_to(m, S3, 1, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("(2, 3)");
    MESSAGE_HAS("(3,)");

    /* dot: inner sizes that differ, for each kind of operand, and a 3-d operand */
    FAILS_NO_OUT(ad_dot(m, m, false, false, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("ad_dot");
    MESSAGE_HAS("(2, 3)");
    MESSAGE_HAS("aligned");
    FAILS_NO_OUT(ad_dot(m, m33, true, false, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("(3, 3)");
    FAILS_NO_OUT(ad_dot(m, v4, false, false, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("(2, 3)");
    MESSAGE_HAS("(4,)");
    FAILS_NO_OUT(ad_dot(v4, m, false, false, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("(4,)");
    MESSAGE_HAS("(2, 3)");
    FAILS_NO_OUT(ad_dot(v3, v4, false, false, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("(3,)");
    MESSAGE_HAS("(4,)");
    FAILS_NO_OUT(ad_dot(t, m33, false, false, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("(2, 3, 4)");
    FAILS_NO_OUT(ad_dot(v3, t, false, false, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("(2, 3, 4)");

    /* reshape: a size that does not match, two -1s, a negative size */
    const int64_t to4[] = {4}, to_2m[] = {-1, -1}, to_neg[] = {3, -2}, to_4m[] = {4, -1};
    FAILS_NO_OUT(ad_array_reshape(m, to4, 1, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("ad_array_reshape");
    MESSAGE_HAS("(2, 3)");
    FAILS_NO_OUT(ad_array_reshape(m, to_4m, 2, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("(2, 3)");
    FAILS_NO_OUT(ad_array_reshape(m, to_2m, 2, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("-1");
    FAILS_NO_OUT(ad_array_reshape(m, to_neg, 2, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("-2");

    /* transpose: too few axes, an axis out of range, a repeated axis */
    const int64_t one_axis[] = {0}, out_of_range[] = {0, 2}, repeated[] = {1, 1}, repeated_neg[] = {0, -2};
    FAILS_NO_OUT(ad_array_transpose(m, one_axis, 1, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("ad_array_transpose");
    MESSAGE_HAS("(2, 3)");
    FAILS_NO_OUT(ad_array_transpose(m, out_of_range, 2, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("axis 2");
    FAILS_NO_OUT(ad_array_transpose(m, repeated, 2, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("repeat");
    FAILS_NO_OUT(ad_array_transpose(m, repeated_neg, 2, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("repeat");

    /* reductions: an axis out of range (either side) and a repeated axis */
    const int64_t ax2[] = {2}, axm3[] = {-3}, ax00[] = {0, 0}, ax1m1[] = {1, -1};
    for (size_t i = 0; i < COUNT(reduce_ops); i++) {
        int before = check_failures;
        FAILS_NO_OUT(reduce_ops[i].fn(m, ax2, 1, false, &result), AD_ERR_SHAPE);
        MESSAGE_HAS(reduce_ops[i].name);
        MESSAGE_HAS("axis 2");
        MESSAGE_HAS("out of range");
        FAILS_NO_OUT(reduce_ops[i].fn(m, axm3, 1, true, &result), AD_ERR_SHAPE);
        MESSAGE_HAS("axis -3");
        FAILS_NO_OUT(reduce_ops[i].fn(m, ax00, 2, false, &result), AD_ERR_SHAPE);
        MESSAGE_HAS("twice");
        FAILS_NO_OUT(reduce_ops[i].fn(m, ax1m1, 2, false, &result), AD_ERR_SHAPE);
        MESSAGE_HAS("twice");
        IN_CASE(before, reduce_ops[i].name);
    }

    OK(ad_array_free(m));
    OK(ad_array_free(v4));
    OK(ad_array_free(m33));
    OK(ad_array_free(v3));
    OK(ad_array_free(t));
}

static void test_dtype_errors(void) {
    ad_array *f = make(S3, 1, AD_FLOAT32), *d = make(S3, 1, AD_FLOAT64);
    const float data[3] = {1, 2, 3};
    float buf[3] = {-1, -1, -1};

    /* an unknown dtype code */
    FAILS_NO_OUT(ad_array_create(data, S3, 1, 8, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("ad_array_create");
    MESSAGE_HAS("`dtype`");
    MESSAGE_HAS("8");
    FAILS_NO_OUT(ad_array_zeros(S3, 1, 8, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("`dtype`");
    FAILS_NO_OUT(ad_array_ones(S3, 1, 8, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("`dtype`");
    FAILS_NO_OUT(ad_array_full(S3, 1, 1, 100, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("`dtype`");
    FAILS_NO_OUT(ad_array_arange(0, 3, 1, 8, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("`dtype`");
    FAILS_NO_OUT(ad_random_normal(0, 1, S3, 1, 3, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("`dtype`");
    FAILS_NO_OUT(ad_random_uniform(0, 1, S3, 1, UINT32_MAX, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("`dtype`");
    FAILS_NO_OUT(ad_random_exponential(1, S3, 1, 2, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("`dtype`");
    FAILS_NO_OUT(ad_random_gamma(1, 1, S3, 1, 2, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("`dtype`");
    FAILS_NO_OUT(ad_random_poisson(1, S3, 1, 2, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("`dtype`");
    FAILS_NO_OUT(ad_random_randint(0, 5, S3, 1, 8, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("`dtype`");
    FAILS(ad_array_read(f, 9, buf, 3), AD_ERR_DTYPE);
    MESSAGE_HAS("ad_array_read");
    MESSAGE_HAS("`dtype`");
    CHECK(buf[0] == -1);

    /* float32 with float64 operands */
    for (size_t i = 0; i < COUNT(binary_ops); i++) {
        int before = check_failures;
        FAILS_NO_OUT(binary_ops[i].fn(f, d, &result), AD_ERR_DTYPE);
        MESSAGE_HAS(binary_ops[i].name);
        MESSAGE_HAS("float32");
        MESSAGE_HAS("float64");
        IN_CASE(before, binary_ops[i].name);
    }
    FAILS_NO_OUT(ad_compare(d, f, AD_CMP_NE, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("float32");
    MESSAGE_HAS("float64");
    FAILS_NO_OUT(ad_dot(f, d, false, false, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("ad_dot");
    MESSAGE_HAS("float32");
    MESSAGE_HAS("float64");

    /* a gradient buffer of the other dtype */
    ad_array *g64 = make(S3, 1, AD_FLOAT64);
    FAILS(ad_array_attach_grad_with(f, g64, AD_GRAD_WRITE), AD_ERR_DTYPE);
    MESSAGE_HAS("ad_array_attach_grad_with");
    MESSAGE_HAS("float32");
    MESSAGE_HAS("float64");
    OK(ad_array_free(g64));

    OK(ad_array_free(f));
    OK(ad_array_free(d));
}

static void test_invalid_arguments(void) {
    ad_array *a = make(S3, 1, AD_FLOAT32), *g = make(S3, 1, AD_FLOAT32);

    /* unknown grad_req codes (2 lies between the valid 1 and 3) */
    FAILS(ad_array_attach_grad(a, 2), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_array_attach_grad");
    MESSAGE_HAS("`grad_req`");
    FAILS(ad_array_attach_grad(a, 4), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("`grad_req`");
    FAILS(ad_array_attach_grad_with(a, g, 2), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("`grad_req`");
    /* ... and the array was not made a variable */
    OK(ad_array_grad(a, &result));
    CHECK(result == NULL);

    /* unknown ad_cmp codes */
    FAILS_NO_OUT(ad_compare(a, a, 6, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_compare");
    MESSAGE_HAS("`op`");
    FAILS_NO_OUT(ad_compare_scalar(a, 0, 6, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_compare_scalar");
    MESSAGE_HAS("`op`");
    FAILS_NO_OUT(ad_compare_scalar(a, 0, UINT32_MAX, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("`op`");

    /* arange: a zero step, non-finite bounds */
    FAILS_NO_OUT(ad_array_arange(0, 4, 0, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_array_arange");
    MESSAGE_HAS("step");
    FAILS_NO_OUT(ad_array_arange(0, INFINITY, 1, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("stop");
    FAILS_NO_OUT(ad_array_arange(NAN, 4, 1, AD_FLOAT64, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("start");

    /* random: a negative or NaN scale, low above high */
    FAILS_NO_OUT(ad_random_normal(0, -1, S3, 1, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_random_normal");
    MESSAGE_HAS("scale");
    FAILS_NO_OUT(ad_random_normal(0, NAN, S3, 1, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("scale");
    FAILS_NO_OUT(ad_random_uniform(1, 0, S3, 1, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_random_uniform");
    MESSAGE_HAS("low");
    /* a scale, alpha or beta not above 0 or not finite, a negative or NaN lam: named, with
       the value */
    FAILS_NO_OUT(ad_random_exponential(0, S3, 1, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_random_exponential");
    MESSAGE_HAS("scale 0");
    FAILS_NO_OUT(ad_random_exponential(INFINITY, S3, 1, AD_FLOAT64, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("scale inf");
    FAILS_NO_OUT(ad_random_gamma(-2, 1, S3, 1, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_random_gamma");
    MESSAGE_HAS("alpha -2");
    FAILS_NO_OUT(ad_random_gamma(1, NAN, S3, 1, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("beta NaN");
    FAILS_NO_OUT(ad_random_poisson(-0.5, S3, 1, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_random_poisson");
    MESSAGE_HAS("lam -0.5");
    FAILS_NO_OUT(ad_random_poisson(NAN, S3, 1, AD_FLOAT64, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("lam NaN");
    FAILS_NO_OUT(ad_random_randint(2, 2, S3, 1, AD_FLOAT64, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_random_randint");
    MESSAGE_HAS("low 2, high 2");
    FAILS_NO_OUT(ad_random_randint(0, (INT64_C(1) << 24) + 1, S3, 1, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("float32");

    /* backward with no heads */
    FAILS(ad_backward_ex(NULL, NULL, 0, false, true), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("head");

    OK(ad_array_free(a));
    OK(ad_array_free(g));
}

static void test_read_and_buffer_sizes(void) {
    ad_array *m = make(S23, 2, AD_FLOAT32), *pair = make(S2, 1, AD_FLOAT64);
    double d = -1;

    /* asscalar needs exactly one element */
    FAILS(ad_array_asscalar(pair, &d), AD_ERR_SHAPE);
    MESSAGE_HAS("ad_array_asscalar");
    MESSAGE_HAS("(2,)");
    CHECK(d == -1);
    ad_array *empty = NULL;
    const size_t no_elements[] = {0};
    OK(ad_array_zeros(no_elements, 1, AD_FLOAT32, &empty));
    FAILS(ad_array_asscalar(empty, &d), AD_ERR_SHAPE);
    MESSAGE_HAS("(0,)");
    CHECK(d == -1);
    OK(ad_array_free(empty));

    /* read: a count other than the array's size, more or fewer; the buffer is not touched */
    float buf[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    FAILS(ad_array_read(m, AD_FLOAT32, buf, 8), AD_ERR_SHAPE);
    MESSAGE_HAS("ad_array_read");
    MESSAGE_HAS("`count`");
    MESSAGE_HAS("8");
    MESSAGE_HAS("(2, 3)");
    FAILS(ad_array_read(m, AD_FLOAT32, buf, 5), AD_ERR_SHAPE);
    MESSAGE_HAS("5");
    FAILS(ad_array_read(m, AD_FLOAT64, buf, 0), AD_ERR_SHAPE);
    CHECK(buf[0] == -1 && buf[4] == -1 && buf[7] == -1);

    /* shape: a capacity below the ndim; the message gives the ndim needed */
    size_t shape[3] = {7, 7, 7};
    FAILS(ad_array_shape(m, shape, 1), AD_ERR_BUFFER_TOO_SMALL);
    MESSAGE_HAS("ad_array_shape");
    MESSAGE_HAS("`capacity`");
    MESSAGE_HAS("2 dimensions");
    FAILS(ad_array_shape(m, shape, 0), AD_ERR_BUFFER_TOO_SMALL);
    CHECK(shape[0] == 7 && shape[1] == 7);
    OK(ad_array_shape(m, shape, 2));
    CHECK(shape[0] == 2 && shape[1] == 3 && shape[2] == 7);

    /* to_string: too small a buffer; the length is still reported and the buffer untouched */
    size_t len = 0;
    OK(ad_array_to_string(m, NULL, 0, &len));
    CHECK(len == strlen("\n[[0. 1. 2.]\n [3. 4. 5.]]\n<NDArray 2x3 @cpu(0)>"));
    char text[128];
    memset(text, 'X', sizeof text);
    size_t reported = 0;
    FAILS(ad_array_to_string(m, text, 8, &reported), AD_ERR_BUFFER_TOO_SMALL);
    MESSAGE_HAS("ad_array_to_string");
    MESSAGE_HAS("`capacity`");
    CHECK(reported == len);
    reported = 0;
    FAILS(ad_array_to_string(m, text, len, &reported), AD_ERR_BUFFER_TOO_SMALL); /* no room for the NUL */
    CHECK(reported == len);
    FAILS(ad_array_to_string(m, text, 1, NULL), AD_ERR_BUFFER_TOO_SMALL);
    size_t untouched = 0;
    for (size_t i = 0; i < sizeof text; i++) untouched += text[i] == 'X';
    CHECK(untouched == sizeof text);
    char needed[16];
    snprintf(needed, sizeof needed, "%zu", len + 1);
    FAILS(ad_array_to_string(m, text, 8, NULL), AD_ERR_BUFFER_TOO_SMALL);
    MESSAGE_HAS(needed);

    OK(ad_array_free(m));
    OK(ad_array_free(pair));
}

static void test_allocation_errors(void) {
    ad_array *small = make(S1, 1, AD_FLOAT32);

    /* an element count that overflows size_t */
    const size_t overflow[] = {SIZE_MAX, 2};
    FAILS_NO_OUT(ad_array_zeros(overflow, 2, AD_FLOAT32, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("ad_array_zeros");
    MESSAGE_HAS("`shape`");
    MESSAGE_HAS("overflows");
    FAILS_NO_OUT(ad_array_ones(overflow, 2, AD_FLOAT64, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("overflows");
    FAILS_NO_OUT(ad_array_full(overflow, 2, 3, AD_FLOAT32, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("overflows");
    FAILS_NO_OUT(ad_array_create(NULL, overflow, 2, AD_FLOAT32, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("overflows");
    FAILS_NO_OUT(ad_random_normal(0, 1, overflow, 2, AD_FLOAT32, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("overflows");
    FAILS_NO_OUT(ad_random_uniform(0, 1, overflow, 2, AD_FLOAT32, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("overflows");
    FAILS_NO_OUT(ad_random_gamma(1, 1, overflow, 2, AD_FLOAT32, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("overflows");
    FAILS_NO_OUT(ad_array_broadcast_to(small, overflow, 2, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("overflows");

    /* a count that fits size_t but not in any address space (2^61 elements) */
    const size_t too_many[] = {(size_t)1 << 31, (size_t)1 << 30};
    FAILS_NO_OUT(ad_array_zeros(too_many, 2, AD_FLOAT32, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("(2147483648, 1073741824)");

    /* a count that could be addressed, but whose memory cannot be had: 2^56 float32s */
    const size_t huge[] = {(size_t)1 << 28, (size_t)1 << 28};
    FAILS_NO_OUT(ad_array_zeros(huge, 2, AD_FLOAT32, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("ad_array_zeros");
    MESSAGE_HAS("allocate");
    FAILS_NO_OUT(ad_array_full(huge, 2, 1.5, AD_FLOAT64, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("allocate");
    FAILS_NO_OUT(ad_random_uniform(0, 1, huge, 2, AD_FLOAT32, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("allocate");
    FAILS_NO_OUT(ad_random_poisson(1, huge, 2, AD_FLOAT32, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("allocate");
    FAILS_NO_OUT(ad_array_broadcast_to(small, huge, 2, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("allocate");
    FAILS_NO_OUT(ad_array_arange(0, 1e17, 1, AD_FLOAT64, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("ad_array_arange");
    FAILS_NO_OUT(ad_array_arange(0, 1e300, 1, AD_FLOAT32, &result), AD_ERR_ALLOC);
    MESSAGE_HAS("ad_array_arange");

    /* and a small allocation right after works */
    OK(ad_array_zeros(S3, 1, AD_FLOAT32, &result));
    OK(ad_array_free(result));
    OK(ad_array_free(small));
}

static void test_autograd_errors(void) {
    ad_array *c = make(S3, 1, AD_FLOAT32), *x = make(S3, 1, AD_FLOAT32), *y = NULL, *z = NULL;
    ad_array *grads[1] = {SENTINEL};

    /* backward from an array with no recorded history */
    FAILS(ad_backward(c, NULL, false), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("ad_backward");
    MESSAGE_HAS("history");
    OK(ad_record_begin(true));
    OK(ad_mul_scalar(c, 2, &y)); /* a constant's result is not recorded either */
    OK(ad_record_end());
    FAILS(ad_backward(y, NULL, false), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("history");
    OK(ad_array_free(y));

    /* retain_grad on a constant */
    FAILS(ad_array_retain_grad(c), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("ad_array_retain_grad");
    MESSAGE_HAS("history");

    /* backward twice without retain_graph */
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    OK(ad_square(x, &y));
    OK(ad_record_end());
    OK(ad_backward(y, NULL, false));
    FAILS(ad_backward(y, NULL, false), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("retain_graph");
    const ad_array *released[] = {y}, *vars[] = {x};
    FAILS(ad_grad(released, NULL, 1, vars, 1, false, false, true, grads), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("ad_grad");
    MESSAGE_HAS("retain_graph");
    CHECK(grads[0] == SENTINEL);
    OK(ad_array_free(y));

    /* with retain_graph, twice is fine */
    OK(ad_record_begin(true));
    OK(ad_square(x, &y));
    OK(ad_record_end());
    OK(ad_backward(y, NULL, true));
    OK(ad_backward(y, NULL, false));

    /* a head gradient of the wrong shape (and of the wrong dtype) */
    OK(ad_record_begin(true));
    OK(ad_mul_scalar(x, 3, &z));
    OK(ad_record_end());
    ad_array *hg4 = make(S4, 1, AD_FLOAT32), *hg64 = make(S3, 1, AD_FLOAT64);
    FAILS(ad_backward(z, hg4, true), AD_ERR_SHAPE);
    MESSAGE_HAS("ad_backward");
    MESSAGE_HAS("(4,)");
    MESSAGE_HAS("(3,)");
    const ad_array *heads[] = {z}, *bad_grads[] = {hg4};
    FAILS(ad_backward_ex(heads, bad_grads, 1, true, true), AD_ERR_SHAPE);
    MESSAGE_HAS("(4,)");
    FAILS(ad_grad(heads, bad_grads, 1, vars, 1, true, false, true, grads), AD_ERR_SHAPE);
    MESSAGE_HAS("(4,)");
    CHECK(grads[0] == SENTINEL);
    FAILS(ad_backward(z, hg64, true), AD_ERR_DTYPE);
    MESSAGE_HAS("float64");
    /* the graph survived the failed calls */
    OK(ad_backward(z, NULL, false));
    OK(ad_array_grad(x, &result));
    VALUES_ARE(result, 0, 3, 3, 3);
    OK(ad_array_free(result));
    OK(ad_array_free(hg4));
    OK(ad_array_free(hg64));
    OK(ad_array_free(z));

    /* a gradient buffer of the wrong shape */
    ad_array *g4 = make(S4, 1, AD_FLOAT32);
    FAILS(ad_array_attach_grad_with(c, g4, AD_GRAD_WRITE), AD_ERR_SHAPE);
    MESSAGE_HAS("(4,)");
    MESSAGE_HAS("(3,)");
    OK(ad_array_free(g4));

    /* ad_grad for a variable without attach_grad */
    OK(ad_record_begin(true));
    OK(ad_mul(x, c, &z));
    OK(ad_record_end());
    const ad_array *zh[] = {z}, *not_var[] = {c}, *two_vars[] = {x, c};
    FAILS(ad_grad(zh, NULL, 1, not_var, 1, true, false, true, grads), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("ad_grad");
    MESSAGE_HAS("attach_grad");
    CHECK(grads[0] == SENTINEL);
    ad_array *two[2] = {SENTINEL, SENTINEL};
    FAILS(ad_grad(zh, NULL, 1, two_vars, 2, true, false, true, two), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("variable 1");
    CHECK(two[0] == SENTINEL && two[1] == SENTINEL);
    OK(ad_array_free(z));

    /* nothing to differentiate: the only variable has grad_req null */
    ad_array *w = make(S3, 1, AD_FLOAT32);
    OK(ad_array_attach_grad(w, AD_GRAD_NULL));
    OK(ad_record_begin(true));
    OK(ad_exp(w, &z));
    OK(ad_record_end());
    FAILS(ad_backward(z, NULL, false), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("require");
    OK(ad_array_free(z));
    OK(ad_array_free(w));

    OK(ad_array_free(c));
    OK(ad_array_free(x));
}

static void test_scope_errors(void) {
    /* closing a scope that is not open */
    FAILS(ad_record_end(), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("ad_record_end");
    MESSAGE_HAS("no open scope");
    FAILS(ad_pause_end(), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("ad_pause_end");
    FAILS(ad_train_mode_end(), AD_ERR_AUTOGRAD);
    FAILS(ad_predict_mode_end(), AD_ERR_AUTOGRAD);
    CHECK(!ad_is_recording());
    CHECK(!ad_is_training());

    /* closing the wrong kind of scope: the innermost one stays open */
    OK(ad_record_begin(true));
    FAILS(ad_pause_end(), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("ad_pause_end");
    MESSAGE_HAS("record");
    FAILS(ad_train_mode_end(), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("record");
    CHECK(ad_is_recording());
    CHECK(ad_is_training());
    OK(ad_pause_begin(false));
    FAILS(ad_record_end(), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("ad_record_end");
    MESSAGE_HAS("pause");
    CHECK(!ad_is_recording());
    OK(ad_pause_end());
    OK(ad_record_end());
    CHECK(!ad_is_recording());
    CHECK(!ad_is_training());

    OK(ad_predict_mode_begin());
    FAILS(ad_train_mode_end(), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("predict_mode");
    OK(ad_predict_mode_end());
}

static void test_message_lifetime(void) {
    ad_array *a = make(S3, 1, AD_FLOAT32);
    FAILS(ad_array_reshape(a, NULL, 1, &result), AD_ERR_NULL_ARGUMENT);
    char kept[256];
    snprintf(kept, sizeof kept, "%s", ad_last_error());
    /* a successful call leaves the message as it was */
    OK(ad_neg(a, &result));
    OK(ad_array_free(result));
    CHECK(strcmp(ad_last_error(), kept) == 0);
    /* the next failure replaces it */
    FAILS(ad_array_free((ad_array *)(uintptr_t)0x12345), AD_ERR_INVALID_HANDLE);
    CHECK(strcmp(ad_last_error(), kept) != 0);
    OK(ad_array_free(a));
}

/* After all of the above, the library still works: a small computation with a gradient. */
static void test_still_works(void) {
    ad_array *x = make(S3, 1, AD_FLOAT64), *y = NULL, *g = NULL;
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    OK(ad_square(x, &y));
    OK(ad_record_end());
    OK(ad_backward(y, NULL, false));
    OK(ad_array_grad(x, &g));
    VALUES_ARE(g, 0, 0, 2, 4);
    TEXT_IS(g, "\n[0. 2. 4.]\n<NDArray 3 @cpu(0)>");
    OK(ad_array_free(g));
    OK(ad_array_free(y));
    OK(ad_array_free(x));
}

/* The draws with array parameters: mismatched shapes and dtypes, a bad parameter named with
   its position, NULL handles; nothing is written to `result` on failure. */
static void test_sample_errors(void) {
    ad_array *m = make(S23, 2, AD_FLOAT32), *v3 = make(S3, 1, AD_FLOAT32), *d3 = make(S3, 1, AD_FLOAT64);
    ad_array *ones = NULL, *neg = NULL;
    OK(ad_array_ones(S3, 1, AD_FLOAT32, &ones));
    OK(ad_array_full(S3, 1, -1, AD_FLOAT32, &neg));
    FAILS_NO_OUT(ad_sample_normal(m, v3, S2, 1, AD_FLOAT32, &result), AD_ERR_SHAPE);
    MESSAGE_HAS("ad_sample_normal");
    MESSAGE_HAS("loc has shape (2, 3) and scale shape (3,)");
    FAILS_NO_OUT(ad_sample_uniform(v3, d3, S2, 1, AD_FLOAT32, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("low is float32 and high float64");
    FAILS_NO_OUT(ad_sample_gamma(v3, v3, S2, 1, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("alpha and beta at [0] (of shape (3,))");
    MESSAGE_HAS("alpha 0");
    FAILS_NO_OUT(ad_sample_normal(v3, neg, S2, 1, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("scale -1");
    FAILS_NO_OUT(ad_sample_uniform(ones, v3, S2, 1, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("low 1, high 0");
    FAILS_NO_OUT(ad_sample_exponential(v3, S2, 1, AD_FLOAT32, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_sample_exponential");
    MESSAGE_HAS("scale 0");
    FAILS_NO_OUT(ad_sample_poisson(neg, S2, 1, AD_FLOAT64, &result), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_sample_poisson");
    MESSAGE_HAS("lam -1");
    FAILS_NO_OUT(ad_sample_poisson(ones, S2, 1, 9, &result), AD_ERR_DTYPE);
    FAILS_NO_OUT(ad_sample_normal(ones, ones, S2, 1, AD_INT32, &result), AD_ERR_DTYPE);
    MESSAGE_HAS("float `dtype`");
    FAILS_NO_OUT(ad_sample_normal(NULL, ones, S2, 1, AD_FLOAT32, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`loc`");
    FAILS_NO_OUT(ad_sample_poisson(ones, NULL, 1, AD_FLOAT32, &result), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`shape`");
    const size_t huge[2] = {SIZE_MAX / 2, 4};
    FAILS_NO_OUT(ad_sample_exponential(ones, huge, 2, AD_FLOAT32, &result), AD_ERR_ALLOC);
    /* multinomial: a row not summing to 1, a negative probability, 0-d data; neither out
       written */
    ad_array *lp = SENTINEL;
    FAILS_NO_OUT(ad_sample_multinomial(ones, S2, 1, AD_FLOAT32, &result, &lp), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_sample_multinomial");
    MESSAGE_HAS("sums to 3");
    CHECK(lp == SENTINEL);
    FAILS_NO_OUT(ad_sample_multinomial(neg, S2, 1, AD_FLOAT32, &result, NULL), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("probability -1 at [0]");
    ad_array *scalar = NULL;
    OK(ad_array_ones(NULL, 0, AD_FLOAT32, &scalar));
    FAILS_NO_OUT(ad_sample_multinomial(scalar, S2, 1, AD_FLOAT32, &result, &lp), AD_ERR_SHAPE);
    MESSAGE_HAS("0-d");
    FAILS_NO_OUT(ad_sample_multinomial(scalar, S2, 1, 9, &result, &lp), AD_ERR_DTYPE);   /* no dtype */
    CHECK(lp == SENTINEL);
    FAILS_NO_OUT(ad_sample_multinomial(m, S2, 1, AD_INT8, &result, &lp), AD_ERR_DTYPE);
    MESSAGE_HAS("int32 or uint8");
    CHECK(lp == SENTINEL);
    OK(ad_array_free(scalar));
    OK(ad_array_free(m));
    OK(ad_array_free(v3));
    OK(ad_array_free(d3));
    OK(ad_array_free(ones));
    OK(ad_array_free(neg));
}

int main(void) {
    test_null_out();
    test_null_shape_and_data();
    test_null_handles();
    test_null_lists();
    test_invalid_handles();
    test_shape_errors();
    test_dtype_errors();
    test_invalid_arguments();
    test_sample_errors();
    test_read_and_buffer_sizes();
    test_allocation_errors();
    test_autograd_errors();
    test_scope_errors();
    test_message_lifetime();
    test_still_works();
    return CHECK_RESULT();
}
