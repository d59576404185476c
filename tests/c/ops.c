/*
 * Every op's forward value on a known case, through the C API: creation, shape ops,
 * element-wise arithmetic (with broadcasting), scalar forms, unary functions, comparisons,
 * dot, reductions, reading back, printing, and a few gradients. Values follow MXNet 1.9.1's
 * `nd` (NumPy broadcasting; a full reduction or a 1-d·1-d dot has shape (1,)).
 */
#include <stdint.h>

#include "handles.h"


/* The array's dtype is `expected`. */
static int dtype_is(const ad_array *a, uint32_t expected) {
    uint32_t d = 99;
    return ad_array_dtype(a, &d) == AD_OK && d == expected;
}

/* Tolerance for values computed in `dtype`. */
static double tol_of(uint32_t dtype) { return dtype == AD_FLOAT32 ? 1e-5 : 1e-12; }

static const char *dtype_name(uint32_t dtype) { return dtype == AD_FLOAT32 ? "float32" : "float64"; }

/* Shapes used throughout. */

/* (2, 3, 4) holding 0..23. */
static ad_array *arange_234(uint32_t dtype) {
    const int64_t shape[] = {2, 3, 4};
    ad_array *flat, *b;
    MAKE(flat, ad_array_arange(0, 24, 1, dtype, &flat));
    MAKE(b, ad_array_reshape(flat, shape, 3, &b));
    return b;
}

/* ------------------------------------------------------------------------------------- */

static void test_version_and_status_names(void) {
    const char *v = ad_version();
    CHECK(v != NULL && v[0] != '\0');
    CHECK(v != NULL && strchr(v, '.') != NULL);
    CHECK(strcmp(ad_status_name(AD_OK), "AD_OK") == 0);
    CHECK(strcmp(ad_status_name(AD_ERR_SHAPE), "AD_ERR_SHAPE") == 0);
    CHECK(strcmp(ad_status_name(AD_ERR_PANIC), "AD_ERR_PANIC") == 0);
    CHECK(strcmp(ad_status_name(1000), "AD_UNKNOWN_STATUS") == 0);
}

static void test_create_and_read(void) {
    const float f[] = {1.5f, -2.0f, 0.1f, 4.0f, 5.0f, 6.25f};
    const double d[] = {1.5, -2.0, 0.1, 4.0, 5.0, 6.25};
    ad_array *a, *b, *s, *e;
    size_t size = 0, ndim = 0;

    /* float32 from a float buffer, read back exactly as float32 and as float64 */
    MAKE(a, ad_array_create(f, S23, 2, AD_FLOAT32, &a));
    SHAPE_IS(a, 2, 3);
    OK(ad_array_size(a, &size));
    CHECK(size == 6);
    CHECK(dtype_is(a, AD_FLOAT32));
    float rf[6] = {0};
    OK(ad_array_read(a, AD_FLOAT32, rf, 6));
    CHECK(memcmp(rf, f, sizeof f) == 0);
    double rd[6] = {0};
    OK(ad_array_read(a, AD_FLOAT64, rd, 6));
    CHECK(rd[2] == (double)0.1f); /* converted from the float32 value, not re-rounded */
    VALUES_ARE(a, 0, 1.5, -2, (double)0.1f, 4, 5, 6.25);

    /* float64 from a double buffer, read back exactly, and as float32 (rounded) */
    MAKE(b, ad_array_create(d, S32, 2, AD_FLOAT64, &b));
    SHAPE_IS(b, 3, 2);
    CHECK(dtype_is(b, AD_FLOAT64));
    OK(ad_array_read(b, AD_FLOAT64, rd, 6));
    CHECK(memcmp(rd, d, sizeof d) == 0);
    OK(ad_array_read(b, AD_FLOAT32, rf, 6));
    CHECK(rf[2] == 0.1f && rf[5] == 6.25f);

    /* a 0-d array: ndim 0, one element */
    const double seven = 7;
    MAKE(s, ad_array_create(&seven, NULL, 0, AD_FLOAT64, &s));
    OK(ad_array_ndim(s, &ndim));
    CHECK(ndim == 0);
    OK(ad_array_size(s, &size));
    CHECK(size == 1);
    OK(ad_array_shape(s, NULL, 0));
    VALUES_ARE(s, 0, 7);

    /* an empty array: data may be NULL, and reading 0 values into NULL is fine */
    const size_t empty_shape[] = {0, 3};
    MAKE(e, ad_array_create(NULL, empty_shape, 2, AD_FLOAT32, &e));
    SHAPE_IS(e, 0, 3);
    OK(ad_array_size(e, &size));
    CHECK(size == 0);
    OK(ad_array_read(e, AD_FLOAT32, NULL, 0));
    free_all();
}

static void test_zeros_ones_full(void) {
    for (uint32_t dtype = AD_FLOAT32; dtype <= AD_FLOAT64; dtype++) {
        ad_array *z, *o, *f, *t;
        MAKE(z, ad_array_zeros(S23, 2, dtype, &z));
        SHAPE_IS(z, 2, 3);
        CHECK(dtype_is(z, dtype));
        VALUES_ARE(z, 0, 0, 0, 0, 0, 0, 0);
        MAKE(o, ad_array_ones(S32, 2, dtype, &o));
        SHAPE_IS(o, 3, 2);
        CHECK(dtype_is(o, dtype));
        VALUES_ARE(o, 0, 1, 1, 1, 1, 1, 1);
        MAKE(f, ad_array_full(S4, 1, -2.5, dtype, &f));
        SHAPE_IS(f, 4);
        CHECK(dtype_is(f, dtype));
        VALUES_ARE(f, 0, -2.5, -2.5, -2.5, -2.5);
        /* the value is rounded to the dtype */
        MAKE(t, ad_array_full(S1, 1, 0.1, dtype, &t));
        double v = 0;
        OK(ad_array_asscalar(t, &v));
        CHECK(v == (dtype == AD_FLOAT32 ? (double)0.1f : 0.1));
    }
    free_all();
}

static void test_arange(void) {
    ad_array *a;
    size_t size = 99;

    /* integer step: nd.arange(4) */
    MAKE(a, ad_array_arange(0, 4, 1, AD_FLOAT32, &a));
    SHAPE_IS(a, 4);
    CHECK(dtype_is(a, AD_FLOAT32));
    VALUES_ARE(a, 0, 0, 1, 2, 3);

    MAKE(a, ad_array_arange(2, 11, 3, AD_FLOAT64, &a));
    SHAPE_IS(a, 3);
    VALUES_ARE(a, 0, 2, 5, 8);

    /* fractional steps */
    MAKE(a, ad_array_arange(0, 1, 0.25, AD_FLOAT32, &a));
    SHAPE_IS(a, 4);
    VALUES_ARE(a, 0, 0, 0.25, 0.5, 0.75);

    MAKE(a, ad_array_arange(0, 1, 0.1, AD_FLOAT64, &a));
    SHAPE_IS(a, 10);
    VALUES_ARE(a, 1e-12, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9);

    MAKE(a, ad_array_arange(-1, 1, 0.3, AD_FLOAT64, &a));
    SHAPE_IS(a, 7);
    VALUES_ARE(a, 1e-12, -1, -0.7, -0.4, -0.1, 0.2, 0.5, 0.8);

    /* negative step */
    MAKE(a, ad_array_arange(5, 0, -1.5, AD_FLOAT32, &a));
    SHAPE_IS(a, 4);
    VALUES_ARE(a, 0, 5, 3.5, 2, 0.5);

    MAKE(a, ad_array_arange(3, -1, -1, AD_FLOAT64, &a));
    SHAPE_IS(a, 4);
    VALUES_ARE(a, 0, 3, 2, 1, 0);

    /* empty ranges: shape (0,) */
    MAKE(a, ad_array_arange(3, 3, 1, AD_FLOAT32, &a));
    SHAPE_IS(a, 0);
    OK(ad_array_size(a, &size));
    CHECK(size == 0);
    MAKE(a, ad_array_arange(0, 5, -1, AD_FLOAT32, &a));
    SHAPE_IS(a, 0);
    free_all();
}

/* Reads `n` values of `a` as double into a new buffer (the caller frees it). */
static double *read_all(const ad_array *a, size_t n) {
    double *v = calloc(n, sizeof(double));
    if (!v) exit(2);
    OK(ad_array_read(a, AD_FLOAT64, v, n));
    return v;
}

static void test_random(void) {
    enum { N = 10000 };
    const size_t shape[] = {N};
    ad_array *a, *b, *c, *u, *n32, *z;

    /* reproducible: the same seed gives the same draws, another seed other draws */
    OK(ad_random_seed(42));
    MAKE(a, ad_random_normal(0, 1, shape, 1, AD_FLOAT64, &a));
    OK(ad_random_seed(42));
    MAKE(b, ad_random_normal(0, 1, shape, 1, AD_FLOAT64, &b));
    OK(ad_random_seed(43));
    MAKE(c, ad_random_normal(0, 1, shape, 1, AD_FLOAT64, &c));
    SHAPE_IS(a, N);
    CHECK(dtype_is(a, AD_FLOAT64));
    double *va = read_all(a, N), *vb = read_all(b, N), *vc = read_all(c, N);
    CHECK(memcmp(va, vb, N * sizeof(double)) == 0);
    CHECK(memcmp(va, vc, N * sizeof(double)) != 0);
    free(va);
    free(vb);
    free(vc);

    /* normal(5, 2): sample mean and standard deviation near 5 and 2 */
    OK(ad_random_seed(7));
    MAKE(a, ad_random_normal(5, 2, shape, 1, AD_FLOAT64, &a));
    double *v = read_all(a, N), mean = 0, var = 0;
    for (size_t i = 0; i < N; i++) mean += v[i];
    mean /= N;
    for (size_t i = 0; i < N; i++) var += (v[i] - mean) * (v[i] - mean);
    var /= N - 1;
    CHECK(fabs(mean - 5) < 0.1);
    CHECK(fabs(sqrt(var) - 2) < 0.1);
    free(v);

    /* uniform(-1, 3): every draw in [-1, 3), mean near 1, both halves hit */
    MAKE(u, ad_random_uniform(-1, 3, shape, 1, AD_FLOAT64, &u));
    v = read_all(u, N);
    int in_range = 1, low_half = 0, high_half = 0;
    mean = 0;
    for (size_t i = 0; i < N; i++) {
        in_range &= v[i] >= -1 && v[i] < 3;
        low_half += v[i] < 1;
        high_half += v[i] >= 1;
        mean += v[i];
    }
    mean /= N;
    CHECK(in_range);
    CHECK(low_half > N / 3 && high_half > N / 3);
    CHECK(fabs(mean - 1) < 0.1);
    free(v);

    /* uniform is reproducible too, and float32 draws have the asked shape */
    OK(ad_random_seed(99));
    MAKE(a, ad_random_uniform(0, 1, S23, 2, AD_FLOAT32, &a));
    OK(ad_random_seed(99));
    MAKE(b, ad_random_uniform(0, 1, S23, 2, AD_FLOAT32, &b));
    SHAPE_IS(a, 2, 3);
    CHECK(dtype_is(a, AD_FLOAT32));
    float fa[6], fb[6];
    OK(ad_array_read(a, AD_FLOAT32, fa, 6));
    OK(ad_array_read(b, AD_FLOAT32, fb, 6));
    CHECK(memcmp(fa, fb, sizeof fa) == 0);
    for (int i = 0; i < 6; i++) CHECK(fa[i] >= 0 && fa[i] < 1);

    MAKE(n32, ad_random_normal(0, 1, S32, 2, AD_FLOAT32, &n32));
    SHAPE_IS(n32, 3, 2);
    CHECK(dtype_is(n32, AD_FLOAT32));

    /* scale 0: every draw is loc */
    MAKE(z, ad_random_normal(1.5, 0, S4, 1, AD_FLOAT64, &z));
    VALUES_ARE(z, 0, 1.5, 1.5, 1.5, 1.5);
    free_all();
}

static void test_reshape(void) {
    ad_array *a, *r;
    const int64_t to23[] = {2, 3}, to3m[] = {3, -1}, tom[] = {-1}, to2m3[] = {2, -1, 3}, tom1[] = {-1, 1};
    MAKE(a, ad_array_arange(0, 6, 1, AD_FLOAT32, &a));

    MAKE(r, ad_array_reshape(a, to23, 2, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, 0, 0, 1, 2, 3, 4, 5);

    MAKE(r, ad_array_reshape(a, to3m, 2, &r));
    SHAPE_IS(r, 3, 2);
    VALUES_ARE(r, 0, 0, 1, 2, 3, 4, 5);

    ad_array *flat, *column;
    MAKE(flat, ad_array_reshape(r, tom, 1, &flat));
    SHAPE_IS(flat, 6);
    VALUES_ARE(flat, 0, 0, 1, 2, 3, 4, 5);

    MAKE(column, ad_array_reshape(flat, tom1, 2, &column));
    SHAPE_IS(column, 6, 1);

    ad_array *b = arange_234(AD_FLOAT64);
    MAKE(r, ad_array_reshape(b, to2m3, 3, &r));
    SHAPE_IS(r, 2, 4, 3);
    CHECK(dtype_is(r, AD_FLOAT64));
    MAKE(r, ad_array_reshape(b, tom, 1, &r));
    SHAPE_IS(r, 24);
    free_all();
}

static void test_transpose(void) {
    ad_array *a, *t;
    const int64_t swap[] = {1, 0}, same[] = {0, 1}, p102[] = {1, 0, 2}, pneg[] = {-1, 0, 1};

    a = ARRAY(AD_FLOAT32, S23, 1, 2, 3, 4, 5, 6);
    MAKE(t, ad_array_transpose(a, NULL, 0, &t));
    SHAPE_IS(t, 3, 2);
    VALUES_ARE(t, 0, 1, 4, 2, 5, 3, 6);
    MAKE(t, ad_array_transpose(a, swap, 2, &t));
    SHAPE_IS(t, 3, 2);
    VALUES_ARE(t, 0, 1, 4, 2, 5, 3, 6);
    MAKE(t, ad_array_transpose(a, same, 2, &t));
    SHAPE_IS(t, 2, 3);
    VALUES_ARE(t, 0, 1, 2, 3, 4, 5, 6);

    /* a 1-d array is its own transpose */
    a = ARRAY(AD_FLOAT32, S3, 1, 2, 3);
    MAKE(t, ad_array_transpose(a, NULL, 0, &t));
    SHAPE_IS(t, 3);
    VALUES_ARE(t, 0, 1, 2, 3);

    /* 3-d: reversed, an explicit permutation, and negative axes */
    ad_array *b = arange_234(AD_FLOAT64);
    MAKE(t, ad_array_transpose(b, NULL, 0, &t));
    SHAPE_IS(t, 4, 3, 2);
    VALUES_ARE(t, 0, 0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23);
    MAKE(t, ad_array_transpose(b, p102, 3, &t));
    SHAPE_IS(t, 3, 2, 4);
    VALUES_ARE(t, 0, 0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23);
    MAKE(t, ad_array_transpose(b, pneg, 3, &t));
    SHAPE_IS(t, 4, 2, 3);
    VALUES_ARE(t, 0, 0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23);
    CHECK(dtype_is(t, AD_FLOAT64));
    free_all();
}

static void test_broadcast_to(void) {
    ad_array *a, *r;
    const size_t to34[] = {3, 4}, to23[] = {2, 3}, to22[] = {2, 2}, to223[] = {2, 2, 3};

    a = ARRAY(AD_FLOAT32, S31, 1, 2, 3);
    MAKE(r, ad_array_broadcast_to(a, to34, 2, &r));
    SHAPE_IS(r, 3, 4);
    VALUES_ARE(r, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);

    a = ARRAY(AD_FLOAT64, S3, 1, 2, 3);
    MAKE(r, ad_array_broadcast_to(a, to23, 2, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, AD_FLOAT64));
    VALUES_ARE(r, 0, 1, 2, 3, 1, 2, 3);

    a = ARRAY(AD_FLOAT32, S1, 7);
    MAKE(r, ad_array_broadcast_to(a, to22, 2, &r));
    SHAPE_IS(r, 2, 2);
    VALUES_ARE(r, 0, 7, 7, 7, 7);

    a = ARRAY(AD_FLOAT32, S213, 1, 2, 3, 4, 5, 6);
    MAKE(r, ad_array_broadcast_to(a, to223, 3, &r));
    SHAPE_IS(r, 2, 2, 3);
    VALUES_ARE(r, 0, 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6);

    /* to its own shape */
    a = ARRAY(AD_FLOAT32, S23, 1, 2, 3, 4, 5, 6);
    MAKE(r, ad_array_broadcast_to(a, to23, 2, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, 0, 1, 2, 3, 4, 5, 6);
    free_all();
}

static void test_copy_and_detach(void) {
    ad_array *x, *c, *d, *y, *g, *gd, *gc;

    x = ARRAY(AD_FLOAT32, S23, 1, 2, 3, 4, 5, 6);
    MAKE(c, ad_array_copy(x, &c));
    SHAPE_IS(c, 2, 3);
    CHECK(dtype_is(c, AD_FLOAT32));
    VALUES_ARE(c, 0, 1, 2, 3, 4, 5, 6);
    MAKE(d, ad_array_detach(x, &d));
    SHAPE_IS(d, 2, 3);
    VALUES_ARE(d, 0, 1, 2, 3, 4, 5, 6);

    /* detach shares data, copy does not: a gradient buffer that a later backward rewrites
       shows the new values through a detached handle but not through a copy */
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_mul_scalar(x, 2, &y));
    OK(ad_record_end());
    OK(ad_backward(y, NULL, false));
    MAKE(g, ad_array_grad(x, &g));
    MAKE(gd, ad_array_detach(g, &gd));
    MAKE(gc, ad_array_copy(g, &gc));
    VALUES_ARE(gd, 0, 2, 2, 2, 2, 2, 2);
    OK(ad_record_begin(true));
    MAKE(y, ad_mul_scalar(x, 5, &y));
    OK(ad_record_end());
    OK(ad_backward(y, NULL, false));
    VALUES_ARE(g, 0, 5, 5, 5, 5, 5, 5);
    VALUES_ARE(gd, 0, 5, 5, 5, 5, 5, 5);
    VALUES_ARE(gc, 0, 2, 2, 2, 2, 2, 2);
    free_all();
}

/* A shared handle is the array itself: its data, its place in the graph, its gradient; it
   outlives the handle it was made from. */
static void test_share(void) {
    ad_array *x, *s, *y, *two;
    ad_array *x_alone = NULL;

    OK(ad_array_create((const float[]){1, 2, 3, 4, 5, 6}, S23, 2, AD_FLOAT32, &x_alone));
    x = x_alone;
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    MAKE(s, ad_array_share(x, &s));
    SHAPE_IS(s, 2, 3);
    VALUES_ARE(s, 0, 1, 2, 3, 4, 5, 6);
    /* an op on the shared handle is recorded as an op on x */
    OK(ad_record_begin(true));
    MAKE(y, ad_mul_scalar(s, 3, &y));
    OK(ad_record_end());
    OK(ad_backward(y, NULL, false));
    VALUES_ARE(grad_of(x), 0, 3, 3, 3, 3, 3, 3);
    VALUES_ARE(grad_of(s), 0, 3, 3, 3, 3, 3, 3);
    /* a write through one handle shows through the other */
    two = ARRAY(AD_FLOAT32, S1, 2);
    OK(ad_array_update(s, two, AD_UPDATE_MUL));
    VALUES_ARE(x, 0, 2, 4, 6, 8, 10, 12);
    /* freeing the first handle leaves the shared one whole */
    OK(ad_array_free(x_alone));
    VALUES_ARE(s, 0, 2, 4, 6, 8, 10, 12);
    VALUES_ARE(grad_of(s), 0, 3, 3, 3, 3, 3, 3);
    free_all();
}

/* add sub mul div pow maximum minimum on operands of equal shape. */
static void test_binary_equal_shapes(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *a, *b, *r;
    a = ARRAY(dtype, S23, 1, 2, 3, 4, 5, 6);
    b = ARRAY(dtype, S23, 2, 2, 2, 0.5, -1, 4);

    MAKE(r, ad_add(a, b, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, 3, 4, 5, 4.5, 4, 10);
    MAKE(r, ad_sub(a, b, &r));
    VALUES_ARE(r, tol, -1, 0, 1, 3.5, 6, 2);
    MAKE(r, ad_mul(a, b, &r));
    VALUES_ARE(r, tol, 2, 4, 6, 2, -5, 24);
    MAKE(r, ad_div(a, b, &r));
    VALUES_ARE(r, tol, 0.5, 1, 1.5, 8, -5, 1.5);
    MAKE(r, ad_pow(a, b, &r));
    VALUES_ARE(r, tol, 1, 4, 9, 2, 0.2, 1296);
    MAKE(r, ad_maximum(a, b, &r));
    VALUES_ARE(r, tol, 2, 2, 3, 4, 5, 6);
    MAKE(r, ad_minimum(a, b, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, 1, 2, 2, 0.5, -1, 4);
    free_all();
}

static void test_binary_broadcasting(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *col, *row, *row2, *m, *one, *vec, *vec2, *r;

    /* (3, 1) with (1, 4) -> (3, 4) */
    col = ARRAY(dtype, S31, 1, 2, 3);
    row = ARRAY(dtype, S14, 0, 1, 2, 3);
    row2 = ARRAY(dtype, S14, 1, 2, 4, 8);
    MAKE(r, ad_add(col, row, &r));
    SHAPE_IS(r, 3, 4);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6);
    MAKE(r, ad_sub(col, row, &r));
    SHAPE_IS(r, 3, 4);
    VALUES_ARE(r, tol, 1, 0, -1, -2, 2, 1, 0, -1, 3, 2, 1, 0);
    MAKE(r, ad_sub(row, col, &r));
    SHAPE_IS(r, 3, 4);
    VALUES_ARE(r, tol, -1, 0, 1, 2, -2, -1, 0, 1, -3, -2, -1, 0);
    MAKE(r, ad_mul(col, row, &r));
    VALUES_ARE(r, tol, 0, 1, 2, 3, 0, 2, 4, 6, 0, 3, 6, 9);
    MAKE(r, ad_div(col, row2, &r));
    VALUES_ARE(r, tol, 1, 0.5, 0.25, 0.125, 2, 1, 0.5, 0.25, 3, 1.5, 0.75, 0.375);
    MAKE(r, ad_div(row2, col, &r));
    VALUES_ARE(r, tol, 1, 2, 4, 8, 0.5, 1, 2, 4, 1.0 / 3, 2.0 / 3, 4.0 / 3, 8.0 / 3);
    MAKE(r, ad_pow(col, row, &r));
    VALUES_ARE(r, tol, 1, 1, 1, 1, 1, 2, 4, 8, 1, 3, 9, 27);
    MAKE(r, ad_maximum(col, row, &r));
    VALUES_ARE(r, tol, 1, 1, 2, 3, 2, 2, 2, 3, 3, 3, 3, 3);
    MAKE(r, ad_minimum(col, row, &r));
    SHAPE_IS(r, 3, 4);
    VALUES_ARE(r, tol, 0, 1, 1, 1, 0, 1, 2, 2, 0, 1, 2, 3);

    /* (2, 3) with (1,) -> (2, 3), both ways round */
    m = ARRAY(dtype, S23, 1, 2, 3, 4, 5, 6);
    one = ARRAY(dtype, S1, 2);
    MAKE(r, ad_add(m, one, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, tol, 3, 4, 5, 6, 7, 8);
    MAKE(r, ad_sub(m, one, &r));
    VALUES_ARE(r, tol, -1, 0, 1, 2, 3, 4);
    MAKE(r, ad_sub(one, m, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, tol, 1, 0, -1, -2, -3, -4);
    MAKE(r, ad_mul(m, one, &r));
    VALUES_ARE(r, tol, 2, 4, 6, 8, 10, 12);
    MAKE(r, ad_div(m, one, &r));
    VALUES_ARE(r, tol, 0.5, 1, 1.5, 2, 2.5, 3);
    MAKE(r, ad_div(one, m, &r));
    VALUES_ARE(r, tol, 2, 1, 2.0 / 3, 0.5, 0.4, 1.0 / 3);
    MAKE(r, ad_pow(m, one, &r));
    VALUES_ARE(r, tol, 1, 4, 9, 16, 25, 36);
    MAKE(r, ad_pow(one, m, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, tol, 2, 4, 8, 16, 32, 64);
    MAKE(r, ad_maximum(m, one, &r));
    VALUES_ARE(r, tol, 2, 2, 3, 4, 5, 6);
    MAKE(r, ad_minimum(one, m, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, tol, 1, 2, 2, 2, 2, 2);

    /* (2, 3) with (3,) -> (2, 3) */
    vec = ARRAY(dtype, S3, 1, 2, 3);
    vec2 = ARRAY(dtype, S3, 3, 0, 5);
    MAKE(r, ad_add(m, vec, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, tol, 2, 4, 6, 5, 7, 9);
    MAKE(r, ad_sub(vec, m, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, tol, 0, 0, 0, -3, -3, -3);
    MAKE(r, ad_mul(m, vec, &r));
    VALUES_ARE(r, tol, 1, 4, 9, 4, 10, 18);
    MAKE(r, ad_div(m, vec, &r));
    VALUES_ARE(r, tol, 1, 1, 1, 4, 2.5, 2);
    MAKE(r, ad_pow(m, vec, &r));
    VALUES_ARE(r, tol, 1, 4, 27, 4, 25, 216);
    MAKE(r, ad_maximum(m, vec2, &r));
    VALUES_ARE(r, tol, 3, 2, 5, 4, 5, 6);
    MAKE(r, ad_minimum(vec2, m, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, tol, 1, 0, 3, 3, 0, 5);

    /* both operands broadcast, with a missing leading axis: (2, 1, 3) with (2, 1) -> (2, 2, 3) */
    ad_array *a3 = ARRAY(dtype, S213, 0, 1, 2, 3, 4, 5);
    ad_array *c2 = ARRAY(dtype, S21, 0, 10);
    MAKE(r, ad_add(a3, c2, &r));
    SHAPE_IS(r, 2, 2, 3);
    VALUES_ARE(r, tol, 0, 1, 2, 10, 11, 12, 3, 4, 5, 13, 14, 15);
    MAKE(r, ad_sub(c2, a3, &r));
    SHAPE_IS(r, 2, 2, 3);
    VALUES_ARE(r, tol, 0, -1, -2, 10, 9, 8, -3, -4, -5, 7, 6, 5);
    free_all();
}

static void test_scalar_ops(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *a, *neg, *r;
    a = ARRAY(dtype, S23, 1, 2, 3, 4, 5, 6);

    MAKE(r, ad_add_scalar(a, 1.5, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5);
    MAKE(r, ad_sub_scalar(a, 1.5, &r));
    VALUES_ARE(r, tol, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5);
    MAKE(r, ad_rsub_scalar(a, 10, &r));
    VALUES_ARE(r, tol, 9, 8, 7, 6, 5, 4);
    MAKE(r, ad_mul_scalar(a, -2, &r));
    VALUES_ARE(r, tol, -2, -4, -6, -8, -10, -12);
    MAKE(r, ad_div_scalar(a, 4, &r));
    VALUES_ARE(r, tol, 0.25, 0.5, 0.75, 1, 1.25, 1.5);
    MAKE(r, ad_rdiv_scalar(a, 6, &r));
    VALUES_ARE(r, tol, 6, 3, 2, 1.5, 1.2, 1);
    MAKE(r, ad_pow_scalar(a, 2, &r));
    VALUES_ARE(r, tol, 1, 4, 9, 16, 25, 36);
    MAKE(r, ad_pow_scalar(a, 3, &r));
    VALUES_ARE(r, tol * 100, 1, 8, 27, 64, 125, 216);
    MAKE(r, ad_pow_scalar(a, 0.5, &r));
    VALUES_ARE(r, tol, 1, 1.4142135623730951, 1.7320508075688772, 2, 2.2360679774997898, 2.4494897427831779);
    MAKE(r, ad_pow_scalar(a, -1, &r));
    VALUES_ARE(r, tol, 1, 0.5, 1.0 / 3, 0.25, 0.2, 1.0 / 6);
    MAKE(r, ad_pow_scalar(a, 1, &r));
    VALUES_ARE(r, tol, 1, 2, 3, 4, 5, 6);
    MAKE(r, ad_pow_scalar(a, 0, &r));
    VALUES_ARE(r, tol, 1, 1, 1, 1, 1, 1);
    MAKE(r, ad_rpow_scalar(a, 2, &r));
    VALUES_ARE(r, tol, 2, 4, 8, 16, 32, 64);
    MAKE(r, ad_rpow_scalar(a, 0.5, &r));
    VALUES_ARE(r, tol, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625);
    MAKE(r, ad_maximum_scalar(a, 3.5, &r));
    VALUES_ARE(r, tol, 3.5, 3.5, 3.5, 4, 5, 6);
    MAKE(r, ad_minimum_scalar(a, 3.5, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, 1, 2, 3, 3.5, 3.5, 3.5);

    /* negative bases */
    neg = ARRAY(dtype, S3, -2, -1, 0);
    MAKE(r, ad_pow_scalar(neg, 2, &r));
    VALUES_ARE(r, tol, 4, 1, 0);
    MAKE(r, ad_pow_scalar(neg, 3, &r));
    VALUES_ARE(r, tol, -8, -1, 0);
    MAKE(r, ad_pow_scalar(neg, 0.5, &r));
    VALUES_ARE(r, tol, NAN, NAN, 0);
    MAKE(r, ad_rsub_scalar(neg, 0, &r));
    VALUES_ARE(r, tol, 2, 1, 0);
    MAKE(r, ad_maximum_scalar(neg, -1.5, &r));
    VALUES_ARE(r, tol, -1.5, -1, 0);
    free_all();
}

static void test_unary(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *x, *p, *r;
    x = ARRAY(dtype, S23, -2, -0.5, 0, 0.5, 1, 3);
    p = ARRAY(dtype, S4, 0.25, 1, 4, 9);

    MAKE(r, ad_neg(x, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, 0, 2, 0.5, 0, -0.5, -1, -3);
    MAKE(r, ad_exp(x, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, tol * 4, 0.13533528323661267, 0.60653065971263342, 1, 1.6487212707001282, 2.7182818284590451,
               20.085536923187668);
    MAKE(r, ad_log(p, &r));
    SHAPE_IS(r, 4);
    VALUES_ARE(r, tol, -1.3862943611198906, 0, 1.3862943611198906, 2.1972245773362191);
    MAKE(r, ad_sqrt(p, &r));
    VALUES_ARE(r, tol, 0.5, 1, 2, 3);
    MAKE(r, ad_abs(x, &r));
    VALUES_ARE(r, 0, 2, 0.5, 0, 0.5, 1, 3);
    MAKE(r, ad_square(x, &r));
    VALUES_ARE(r, 0, 4, 0.25, 0, 0.25, 1, 9);
    MAKE(r, ad_relu(x, &r));
    VALUES_ARE(r, 0, 0, 0, 0, 0.5, 1, 3);
    MAKE(r, ad_sigmoid(x, &r));
    VALUES_ARE(r, tol, 0.11920292202211755, 0.37754066879814541, 0.5, 0.62245933120185459, 0.7310585786300049,
               0.95257412682243336);
    MAKE(r, ad_tanh(x, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, -0.9640275800758169, -0.46211715726000974, 0, 0.46211715726000974, 0.76159415595576485,
               0.99505475368673046);

    /* outside the domains: log(0) = -inf, log(-1) and sqrt(-1) are NaN */
    ad_array *edge = ARRAY(dtype, S2, 0, -1);
    double v[2] = {0, 0};
    MAKE(r, ad_log(edge, &r));
    OK(ad_array_read(r, AD_FLOAT64, v, 2));
    CHECK(isinf(v[0]) && v[0] < 0);
    CHECK(isnan(v[1]));
    MAKE(r, ad_sqrt(edge, &r));
    VALUES_ARE(r, 0, 0, NAN);
    free_all();
}

static void test_nan_propagation(void) {
    ad_array *a, *b, *r;
    a = ARRAY(AD_FLOAT32, S3, NAN, 1, 2);
    b = ARRAY(AD_FLOAT32, S3, 0, NAN, 1);
    MAKE(r, ad_maximum(a, b, &r));
    VALUES_ARE(r, 0, NAN, NAN, 2);
    MAKE(r, ad_minimum(a, b, &r));
    VALUES_ARE(r, 0, NAN, NAN, 1);
    MAKE(r, ad_maximum(b, a, &r));
    VALUES_ARE(r, 0, NAN, NAN, 2);
    MAKE(r, ad_minimum(b, a, &r));
    VALUES_ARE(r, 0, NAN, NAN, 1);
    MAKE(r, ad_maximum_scalar(a, 5, &r));
    VALUES_ARE(r, 0, NAN, 5, 5);
    MAKE(r, ad_minimum_scalar(a, -5, &r));
    VALUES_ARE(r, 0, NAN, -5, -5);
    MAKE(r, ad_maximum_scalar(b, NAN, &r));
    VALUES_ARE(r, 0, NAN, NAN, NAN);
    MAKE(r, ad_minimum_scalar(b, NAN, &r));
    VALUES_ARE(r, 0, NAN, NAN, NAN);

    ad_array *c = ARRAY(AD_FLOAT64, S4, NAN, -1, 0, 2);
    MAKE(r, ad_relu(c, &r));
    VALUES_ARE(r, 0, NAN, 0, 0, 2);
    free_all();
}

static void test_compare(uint32_t dtype) {
    ad_array *a, *b, *col, *row, *n, *r;
    a = ARRAY(dtype, S23, 1, 2, 3, 4, 5, 6);
    b = ARRAY(dtype, S3, 2, 2, 6);

    /* array with array, (2, 3) against (3,) */
    MAKE(r, ad_compare(a, b, AD_CMP_EQ, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, 0, 0, 1, 0, 0, 0, 1);
    MAKE(r, ad_compare(a, b, AD_CMP_NE, &r));
    VALUES_ARE(r, 0, 1, 0, 1, 1, 1, 0);
    MAKE(r, ad_compare(a, b, AD_CMP_LT, &r));
    VALUES_ARE(r, 0, 1, 0, 1, 0, 0, 0);
    MAKE(r, ad_compare(a, b, AD_CMP_LE, &r));
    VALUES_ARE(r, 0, 1, 1, 1, 0, 0, 1);
    MAKE(r, ad_compare(a, b, AD_CMP_GT, &r));
    VALUES_ARE(r, 0, 0, 0, 0, 1, 1, 0);
    MAKE(r, ad_compare(a, b, AD_CMP_GE, &r));
    VALUES_ARE(r, 0, 0, 1, 0, 1, 1, 1);
    /* the other way round: (3,) against (2, 3) */
    MAKE(r, ad_compare(b, a, AD_CMP_LT, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, 0, 0, 0, 0, 1, 1, 0);

    /* (3, 1) against (1, 4) -> (3, 4) */
    col = ARRAY(dtype, S31, 1, 2, 3);
    row = ARRAY(dtype, S14, 0, 1, 2, 3);
    MAKE(r, ad_compare(col, row, AD_CMP_GE, &r));
    SHAPE_IS(r, 3, 4);
    VALUES_ARE(r, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1);

    /* array with scalar */
    MAKE(r, ad_compare_scalar(a, 3, AD_CMP_EQ, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, 0, 0, 0, 1, 0, 0, 0);
    MAKE(r, ad_compare_scalar(a, 3, AD_CMP_NE, &r));
    VALUES_ARE(r, 0, 1, 1, 0, 1, 1, 1);
    MAKE(r, ad_compare_scalar(a, 3, AD_CMP_LT, &r));
    VALUES_ARE(r, 0, 1, 1, 0, 0, 0, 0);
    MAKE(r, ad_compare_scalar(a, 3, AD_CMP_LE, &r));
    VALUES_ARE(r, 0, 1, 1, 1, 0, 0, 0);
    MAKE(r, ad_compare_scalar(a, 3, AD_CMP_GT, &r));
    VALUES_ARE(r, 0, 0, 0, 0, 1, 1, 1);
    MAKE(r, ad_compare_scalar(a, 3, AD_CMP_GE, &r));
    VALUES_ARE(r, 0, 0, 0, 1, 1, 1, 1);
    MAKE(r, ad_compare_scalar(a, 2.5, AD_CMP_GT, &r));
    VALUES_ARE(r, 0, 0, 0, 1, 1, 1, 1);

    /* NaN is unequal to everything, itself included */
    n = ARRAY(dtype, S2, NAN, 1);
    MAKE(r, ad_compare(n, n, AD_CMP_EQ, &r));
    VALUES_ARE(r, 0, 0, 1);
    MAKE(r, ad_compare(n, n, AD_CMP_NE, &r));
    VALUES_ARE(r, 0, 1, 0);
    MAKE(r, ad_compare_scalar(n, 1, AD_CMP_GE, &r));
    VALUES_ARE(r, 0, 0, 1);
    free_all();
}

static void test_dot(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *u, *v, *w, *v2, *A, *B, *C, *r;
    u = ARRAY(dtype, S3, 1, 2, 3);
    v = ARRAY(dtype, S3, 4, 5, 6);
    w = ARRAY(dtype, S3, 1, 0, -1);
    v2 = ARRAY(dtype, S2, 1, 2);
    A = ARRAY(dtype, S23, 1, 2, 3, 4, 5, 6);
    B = ARRAY(dtype, S32, 1, 2, 3, 4, 5, 6);
    C = ARRAY(dtype, S23, 1, 0, 2, 0, 1, -1);

    /* 1-d · 1-d: shape (1,) */
    MAKE(r, ad_dot(u, v, false, false, &r));
    SHAPE_IS(r, 1);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, 32);
    /* 1-d · 2-d: a row vector times a matrix */
    MAKE(r, ad_dot(v2, A, false, false, &r));
    SHAPE_IS(r, 3);
    VALUES_ARE(r, tol, 9, 12, 15);
    /* 2-d · 1-d: a matrix times a column vector */
    MAKE(r, ad_dot(A, w, false, false, &r));
    SHAPE_IS(r, 2);
    VALUES_ARE(r, tol, -2, -2);
    /* 1-d · 2-d transposed (the flag on the 1-d operand changes nothing) */
    MAKE(r, ad_dot(u, A, true, true, &r));
    SHAPE_IS(r, 2);
    VALUES_ARE(r, tol, 14, 32);

    /* 2-d · 2-d with each transpose combination */
    MAKE(r, ad_dot(A, B, false, false, &r));
    SHAPE_IS(r, 2, 2);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, 22, 28, 49, 64);
    MAKE(r, ad_dot(A, C, true, false, &r));
    SHAPE_IS(r, 3, 3);
    VALUES_ARE(r, tol, 1, 4, -2, 2, 5, -1, 3, 6, 0);
    MAKE(r, ad_dot(A, C, false, true, &r));
    SHAPE_IS(r, 2, 2);
    VALUES_ARE(r, tol, 7, -1, 16, -1);
    MAKE(r, ad_dot(A, B, true, true, &r));
    SHAPE_IS(r, 3, 3);
    VALUES_ARE(r, tol, 9, 19, 29, 12, 26, 40, 15, 33, 51);
    free_all();
}

static void test_reductions(uint32_t dtype) {
    const double tol = tol_of(dtype);
    const int64_t ax0[] = {0}, ax1[] = {1}, axm1[] = {-1}, ax01[] = {0, 1}, ax20[] = {2, 0}, axm3m1[] = {-3, -1},
                  ax12[] = {1, 2}, ax012[] = {0, 1, 2}, axm2[] = {-2};
    ad_array *a, *b, *r;
    a = ARRAY(dtype, S23, 1, 2, 3, 4, 5, 6);

    /* over all axes: shape (1,) */
    MAKE(r, ad_sum(a, NULL, 0, false, &r));
    SHAPE_IS(r, 1);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, 21);
    MAKE(r, ad_mean(a, NULL, 0, false, &r));
    SHAPE_IS(r, 1);
    VALUES_ARE(r, tol, 3.5);
    MAKE(r, ad_norm(a, NULL, 0, false, &r));
    SHAPE_IS(r, 1);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, 9.5393920141694561);
    /* every axis named explicitly is the same */
    MAKE(r, ad_sum(a, ax01, 2, false, &r));
    SHAPE_IS(r, 1);
    VALUES_ARE(r, tol, 21);
    /* keepdims over all axes: (1, 1) */
    MAKE(r, ad_sum(a, NULL, 0, true, &r));
    SHAPE_IS(r, 1, 1);
    VALUES_ARE(r, tol, 21);
    MAKE(r, ad_mean(a, NULL, 0, true, &r));
    SHAPE_IS(r, 1, 1);
    VALUES_ARE(r, tol, 3.5);
    MAKE(r, ad_norm(a, NULL, 0, true, &r));
    SHAPE_IS(r, 1, 1);
    VALUES_ARE(r, tol, 9.5393920141694561);

    /* over one axis */
    MAKE(r, ad_sum(a, ax0, 1, false, &r));
    SHAPE_IS(r, 3);
    VALUES_ARE(r, tol, 5, 7, 9);
    MAKE(r, ad_sum(a, ax1, 1, false, &r));
    SHAPE_IS(r, 2);
    VALUES_ARE(r, tol, 6, 15);
    MAKE(r, ad_sum(a, axm1, 1, false, &r));
    SHAPE_IS(r, 2);
    VALUES_ARE(r, tol, 6, 15);
    MAKE(r, ad_sum(a, axm2, 1, true, &r));
    SHAPE_IS(r, 1, 3);
    VALUES_ARE(r, tol, 5, 7, 9);
    MAKE(r, ad_mean(a, ax1, 1, false, &r));
    SHAPE_IS(r, 2);
    VALUES_ARE(r, tol, 2, 5);
    MAKE(r, ad_mean(a, ax0, 1, true, &r));
    SHAPE_IS(r, 1, 3);
    VALUES_ARE(r, tol, 2.5, 3.5, 4.5);
    MAKE(r, ad_norm(a, ax0, 1, false, &r));
    SHAPE_IS(r, 3);
    VALUES_ARE(r, tol, 4.1231056256176606, 5.3851648071345037, 6.7082039324993694);
    MAKE(r, ad_norm(a, axm1, 1, true, &r));
    SHAPE_IS(r, 2, 1);
    VALUES_ARE(r, tol, 3.7416573867739413, 8.7749643873921226);

    /* 3-d, over two axes (in any order, negative or not) */
    b = arange_234(dtype);
    MAKE(r, ad_sum(b, ax01, 2, false, &r));
    SHAPE_IS(r, 4);
    VALUES_ARE(r, tol, 60, 66, 72, 78);
    MAKE(r, ad_sum(b, axm3m1, 2, false, &r));
    SHAPE_IS(r, 3);
    VALUES_ARE(r, tol, 60, 92, 124);
    MAKE(r, ad_sum(b, ax20, 2, true, &r));
    SHAPE_IS(r, 1, 3, 1);
    VALUES_ARE(r, tol, 60, 92, 124);
    MAKE(r, ad_mean(b, ax20, 2, false, &r));
    SHAPE_IS(r, 3);
    VALUES_ARE(r, tol, 7.5, 11.5, 15.5);
    MAKE(r, ad_norm(b, ax12, 2, false, &r));
    SHAPE_IS(r, 2);
    VALUES_ARE(r, tol, 22.494443758403985, 61.789966823101629);
    MAKE(r, ad_sum(b, axm1, 1, false, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, tol, 6, 22, 38, 54, 70, 86);
    MAKE(r, ad_sum(b, ax012, 3, false, &r));
    SHAPE_IS(r, 1);
    VALUES_ARE(r, tol, 276);
    MAKE(r, ad_mean(b, NULL, 0, true, &r));
    SHAPE_IS(r, 1, 1, 1);
    VALUES_ARE(r, tol, 11.5);
    free_all();
}

static void test_asscalar(void) {
    ad_array *a, *r, *s11;
    double v = 0;
    a = ARRAY(AD_FLOAT32, S23, 1, 2, 3, 4, 5, 6.5);
    MAKE(r, ad_sum(a, NULL, 0, false, &r));
    OK(ad_array_asscalar(r, &v));
    CHECK(v == 21.5);
    s11 = ARRAY(AD_FLOAT64, S11, -0.125);
    OK(ad_array_asscalar(s11, &v));
    CHECK(v == -0.125);
    const double d = 3.25;
    MAKE(r, ad_array_create(&d, NULL, 0, AD_FLOAT64, &r));
    OK(ad_array_asscalar(r, &v));
    CHECK(v == 3.25);
    free_all();
}

/* Element-wise results of 65,536 elements or more are computed when first needed; waiting
   for one, or for all, computes them then, and the values are those of the operations. */
static void test_waiting_for_pending_results(void) {
    enum { N = 100000 };
    ad_array *x, *y, *z, *w;
    MAKE(x, ad_array_arange(0, N, 1, AD_FLOAT32, &x));
    MAKE(y, ad_mul_scalar(x, 0.5, &y));
    MAKE(z, ad_exp(y, &z));
    MAKE(w, ad_add(y, x, &w));
    OK(ad_array_wait_to_read(z));
    OK(ad_wait_all());
    OK(ad_wait_all());
    float *zv = malloc(N * sizeof(float)), *wv = malloc(N * sizeof(float));
    CHECK(zv != NULL && wv != NULL);
    if (zv != NULL && wv != NULL) {
        OK(ad_array_read(z, AD_FLOAT32, zv, N));
        OK(ad_array_read(w, AD_FLOAT32, wv, N));
        int wrong = 0;
        for (int i = 0; i < N; i++) {
            double want = exp(0.5 * i);
            wrong += i < 160 && fabs(zv[i] - want) > 3e-7 * want;
            wrong += wv[i] != 1.5f * (float)i;
        }
        CHECK(wrong == 0);
    }
    free(zv);
    free(wv);
    free_all();
}

/* An in-place update by a pending value (w -= 0.5 * g on 65,536 elements or more) runs the
   value's chain straight into w; the value, still pending, reads as of its operation after
   its input is changed. */
static void test_update_by_a_pending_value(void) {
    enum { N = 100000 };
    ad_array *w, *g, *step;
    MAKE(w, ad_array_arange(0, N, 1, AD_FLOAT32, &w));
    MAKE(g, ad_array_arange(0, 2 * N, 2, AD_FLOAT32, &g));
    MAKE(step, ad_mul_scalar(g, 0.5, &step));
    OK(ad_array_update(w, step, AD_UPDATE_SUB));
    OK(ad_array_update(g, g, AD_UPDATE_ADD));
    float *wv = malloc(N * sizeof(float)), *sv = malloc(N * sizeof(float));
    CHECK(wv != NULL && sv != NULL);
    if (wv != NULL && sv != NULL) {
        OK(ad_array_read(w, AD_FLOAT32, wv, N));
        OK(ad_array_read(step, AD_FLOAT32, sv, N));
        int wrong = 0;
        for (int i = 0; i < N; i++) {
            wrong += wv[i] != 0.0f;
            wrong += sv[i] != (float)i;
        }
        CHECK(wrong == 0);
    }
    free(wv);
    free(sv);
    free_all();
}

static void test_recording_flags(void) {
    bool prev = true;
    CHECK(!ad_is_recording() && !ad_is_training());
    OK(ad_record_begin(false));
    CHECK(ad_is_recording() && !ad_is_training());
    OK(ad_pause_begin(true));
    CHECK(!ad_is_recording() && ad_is_training());
    OK(ad_predict_mode_begin());
    CHECK(!ad_is_recording() && !ad_is_training());
    OK(ad_predict_mode_end());
    OK(ad_pause_end());
    OK(ad_train_mode_begin());
    CHECK(ad_is_recording() && ad_is_training());
    OK(ad_train_mode_end());
    OK(ad_record_end());
    CHECK(!ad_is_recording() && !ad_is_training());

    OK(ad_set_recording(true, &prev));
    CHECK(prev == false && ad_is_recording());
    OK(ad_set_recording(false, &prev));
    CHECK(prev == true && !ad_is_recording());
    OK(ad_set_training(true, NULL));
    CHECK(ad_is_training());
    OK(ad_set_training(false, &prev));
    CHECK(prev == true && !ad_is_training());
}

static void test_dtype_queries(void) {
    ad_array *f, *d, *r;
    f = ARRAY(AD_FLOAT32, S2, 1, 2);
    d = ARRAY(AD_FLOAT64, S2, 1, 2);
    CHECK(dtype_is(f, AD_FLOAT32));
    CHECK(dtype_is(d, AD_FLOAT64));
    /* results keep their operands' dtype */
    MAKE(r, ad_add(d, d, &r));
    CHECK(dtype_is(r, AD_FLOAT64));
    MAKE(r, ad_sum(f, NULL, 0, false, &r));
    CHECK(dtype_is(r, AD_FLOAT32));
    MAKE(r, ad_compare_scalar(d, 1, AD_CMP_GT, &r));
    CHECK(dtype_is(r, AD_FLOAT64));
    MAKE(r, ad_array_arange(0, 3, 1, AD_FLOAT64, &r));
    CHECK(dtype_is(r, AD_FLOAT64));
    MAKE(r, ad_array_transpose(d, NULL, 0, &r));
    CHECK(dtype_is(r, AD_FLOAT64));
    free_all();
}

static void test_printing(void) {
    ad_array *a;
    a = ARRAY(AD_FLOAT32, S23, 1, 2, 3, 4, 5, 6);
    TEXT_IS(a, "\n[[1. 2. 3.]\n [4. 5. 6.]]\n<NDArray 2x3 @cpu(0)>");

    a = ARRAY(AD_FLOAT32, S3, -1.5, 0.25, 3);
    TEXT_IS(a, "\n[-1.5   0.25  3.  ]\n<NDArray 3 @cpu(0)>");

    a = ARRAY(AD_FLOAT64, S3, 1.0 / 3, 2.0 / 3, -2);
    TEXT_IS(a, "\n[ 0.33333333  0.66666667 -2.        ]\n<NDArray 3 @cpu(0)>");
    a = ARRAY(AD_FLOAT32, S3, 1.0 / 3, 2.0 / 3, -2);
    TEXT_IS(a, "\n[ 0.33333334  0.6666667  -2.        ]\n<NDArray 3 @cpu(0)>");

    a = ARRAY(AD_FLOAT64, S3, 0.1, 100.5, -7);
    TEXT_IS(a, "\n[ 1.000e-01  1.005e+02 -7.000e+00]\n<NDArray 3 @cpu(0)>");

    a = ARRAY(AD_FLOAT32, S3, NAN, 1.5, -INFINITY);
    TEXT_IS(a, "\n[ nan  1.5 -inf]\n<NDArray 3 @cpu(0)>");

    a = arange_234(AD_FLOAT32);
    TEXT_IS(a,
            "\n[[[ 0.  1.  2.  3.]\n  [ 4.  5.  6.  7.]\n  [ 8.  9. 10. 11.]]\n\n"
            " [[12. 13. 14. 15.]\n  [16. 17. 18. 19.]\n  [20. 21. 22. 23.]]]\n<NDArray 2x3x4 @cpu(0)>");

    /* float64 2-d in scientific notation (max / min > 1000) */
    a = ARRAY(AD_FLOAT64, S22, 0.5, -1, 2, 1e-3);
    TEXT_IS(a, "\n[[ 5.e-01 -1.e+00]\n [ 2.e+00  1.e-03]]\n<NDArray 2x2 @cpu(0)>");

    /* a long row wraps at NumPy's 75 columns */
    ad_array *wrap;
    MAKE(wrap, ad_array_arange(0, 30, 1.5, AD_FLOAT64, &wrap));
    TEXT_IS(wrap,
            "\n[ 0.   1.5  3.   4.5  6.   7.5  9.  10.5 12.  13.5 15.  16.5 18.  19.5\n"
            " 21.  22.5 24.  25.5 27.  28.5]\n<NDArray 20 @cpu(0)>");

    /* more than 1000 elements are summarised */
    ad_array *longer;
    MAKE(longer, ad_array_arange(0, 1200, 1, AD_FLOAT32, &longer));
    TEXT_IS(longer, "\n[0.000e+00 1.000e+00 2.000e+00 ... 1.197e+03 1.198e+03 1.199e+03]\n<NDArray 1200 @cpu(0)>");

    /* an empty array */
    const size_t empty_shape[] = {0, 3};
    ad_array *empty;
    MAKE(empty, ad_array_zeros(empty_shape, 2, AD_FLOAT32, &empty));
    TEXT_IS(empty, "\n[]\n<NDArray 0x3 @cpu(0)>");

    /* the length query: buffer NULL, capacity 0 */
    size_t len = 0;
    a = ARRAY(AD_FLOAT32, S2, 0.5, 1);
    OK(ad_array_to_string(a, NULL, 0, &len));
    CHECK(len == strlen("\n[0.5 1. ]\n<NDArray 2 @cpu(0)>"));
    char buf[64];
    size_t len2 = 0;
    OK(ad_array_to_string(a, buf, sizeof buf, &len2));
    CHECK(len2 == len);
    CHECK(strcmp(buf, "\n[0.5 1. ]\n<NDArray 2 @cpu(0)>") == 0);
    /* exactly length + 1 bytes is enough */
    OK(ad_array_to_string(a, buf, len + 1, NULL));
    CHECK(strlen(buf) == len);
    free_all();
}

/* ---- gradients through the C API ---- */

static void test_grad_mul_broadcast(void) {
    ad_array *x, *y, *z;
    x = ARRAY(AD_FLOAT32, S31, 1, 2, 3);
    y = ARRAY(AD_FLOAT32, S14, 1, 2, 3, 4);
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_array_attach_grad(y, AD_GRAD_WRITE));
    VALUES_ARE(grad_of(x), 0, 0, 0, 0);
    OK(ad_record_begin(true));
    MAKE(z, ad_mul(x, y, &z));
    OK(ad_record_end());
    SHAPE_IS(z, 3, 4);
    OK(ad_backward(z, NULL, false));
    ad_array *gx = grad_of(x), *gy = grad_of(y);
    SHAPE_IS(gx, 3, 1);
    SHAPE_IS(gy, 1, 4);
    CHECK(dtype_is(gx, AD_FLOAT32));
    VALUES_ARE(gx, 0, 10, 10, 10);
    VALUES_ARE(gy, 0, 6, 6, 6, 6);
    free_all();
}

/* A bias broadcast over rows, then summed: each bias element's gradient counts the rows. The
 * same in the reference mode, which the switch turns on and off again. */
static void test_grad_broadcast_then_sum_in_both_modes(void) {
    CHECK(!ad_reference_mode());
    for (int reference = 0; reference <= 1; reference++) {
        ad_array *a, *b, *s, *y;
        ad_set_reference_mode(reference);
        CHECK(ad_reference_mode() == (bool)reference);
        a = ARRAY(AD_FLOAT32, S23, 1, 1, 1, 1, 1, 1);
        b = ARRAY(AD_FLOAT32, S3, 1, 1, 1);
        OK(ad_array_attach_grad(a, AD_GRAD_WRITE));
        OK(ad_array_attach_grad(b, AD_GRAD_WRITE));
        OK(ad_record_begin(true));
        MAKE(s, ad_add(a, b, &s));
        MAKE(y, ad_sum(s, NULL, 0, false, &y));
        OK(ad_record_end());
        OK(ad_backward(y, NULL, false));
        VALUES_ARE(grad_of(b), 0, 2, 2, 2);
        VALUES_ARE(grad_of(a), 0, 1, 1, 1, 1, 1, 1);
        free_all();
    }
    ad_set_reference_mode(false);
    CHECK(!ad_reference_mode());
}

static void test_grad_dot(void) {
    ad_array *A, *B, *C, *c, *c2, *v, *u, *uv;
    A = ARRAY(AD_FLOAT64, S23, 1, 2, 3, 4, 5, 6);
    B = ARRAY(AD_FLOAT64, S32, 1, 2, 3, 4, 5, 6);
    C = ARRAY(AD_FLOAT64, S23, 1, 0, 2, 0, 1, -1);
    OK(ad_array_attach_grad(A, AD_GRAD_WRITE));
    OK(ad_array_attach_grad(B, AD_GRAD_WRITE));
    OK(ad_array_attach_grad(C, AD_GRAD_WRITE));

    /* C = A·B, head ones: dA = 1·Bᵀ, dB = Aᵀ·1 */
    OK(ad_record_begin(true));
    MAKE(c, ad_dot(A, B, false, false, &c));
    OK(ad_record_end());
    OK(ad_backward(c, NULL, false));
    VALUES_ARE(grad_of(A), 1e-12, 3, 7, 11, 3, 7, 11);
    VALUES_ARE(grad_of(B), 1e-12, 5, 5, 7, 7, 9, 9);

    /* A·Cᵀ: dA = 1·C, dC = 1ᵀ·A */
    OK(ad_record_begin(true));
    MAKE(c2, ad_dot(A, C, false, true, &c2));
    OK(ad_record_end());
    OK(ad_backward(c2, NULL, false));
    ad_array *gA = grad_of(A), *gC = grad_of(C);
    SHAPE_IS(gA, 2, 3);
    SHAPE_IS(gC, 2, 3);
    VALUES_ARE(gA, 1e-12, 1, 1, 1, 1, 1, 1);
    VALUES_ARE(gC, 1e-12, 5, 7, 9, 5, 7, 9);

    /* Aᵀ·Bᵀ */
    ad_array *c3;
    OK(ad_record_begin(true));
    MAKE(c3, ad_dot(A, B, true, true, &c3));
    OK(ad_record_end());
    SHAPE_IS(c3, 3, 3);
    OK(ad_backward(c3, NULL, false));
    VALUES_ARE(grad_of(A), 1e-12, 9, 9, 9, 12, 12, 12);
    VALUES_ARE(grad_of(B), 1e-12, 6, 15, 6, 15, 6, 15);

    /* 1-d · 1-d: d(u·v)/du = v */
    u = ARRAY(AD_FLOAT64, S3, 1, 2, 3);
    v = ARRAY(AD_FLOAT64, S3, 4, 5, 6);
    OK(ad_array_attach_grad(u, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(uv, ad_dot(u, v, false, false, &uv));
    OK(ad_record_end());
    OK(ad_backward(uv, NULL, false));
    ad_array *gu = grad_of(u);
    SHAPE_IS(gu, 3);
    VALUES_ARE(gu, 1e-12, 4, 5, 6);
    free_all();
}

static void test_grad_shape_ops(void) {
    const int64_t cycle[] = {1, 2, 0}; /* (2, 3, 4) -> (3, 4, 2); its inverse is (2, 0, 1) */
    const size_t to23[] = {2, 3};
    ad_array *x, *t, *h, *v, *b, *x2, *y, *g;

    /* transpose by a 3-cycle: the gradient is the head gradient permuted back */
    x = arange_234(AD_FLOAT32);
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(t, ad_array_transpose(x, cycle, 3, &t));
    OK(ad_record_end());
    SHAPE_IS(t, 3, 4, 2);
    MAKE(h, ad_array_arange(0, 24, 1, AD_FLOAT32, &h));
    const int64_t to342[] = {3, 4, 2};
    ad_array *h3;
    MAKE(h3, ad_array_reshape(h, to342, 3, &h3));
    OK(ad_backward(t, h3, false));
    g = grad_of(x);
    SHAPE_IS(g, 2, 3, 4);
    VALUES_ARE(g, 0, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23);

    /* broadcast_to sums the gradient back over the repeated axis */
    v = ARRAY(AD_FLOAT64, S3, 1, 2, 3);
    OK(ad_array_attach_grad(v, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(b, ad_array_broadcast_to(v, to23, 2, &b));
    OK(ad_record_end());
    OK(ad_backward(b, NULL, false));
    VALUES_ARE(grad_of(v), 0, 2, 2, 2);

    /* maximum and minimum on ties: the gradient goes to the first operand */
    ad_array *p = ARRAY(AD_FLOAT32, S3, 1, 5, 3), *q = ARRAY(AD_FLOAT32, S3, 1, 2, 4), *mx, *mn;
    OK(ad_array_attach_grad(p, AD_GRAD_WRITE));
    OK(ad_array_attach_grad(q, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(mx, ad_maximum(p, q, &mx));
    OK(ad_record_end());
    OK(ad_backward(mx, NULL, false));
    VALUES_ARE(grad_of(p), 0, 1, 1, 0);
    VALUES_ARE(grad_of(q), 0, 0, 0, 1);
    OK(ad_record_begin(true));
    MAKE(mn, ad_minimum(p, q, &mn));
    OK(ad_record_end());
    OK(ad_backward(mn, NULL, false));
    VALUES_ARE(grad_of(p), 0, 1, 0, 1);
    VALUES_ARE(grad_of(q), 0, 0, 1, 0);

    /* freeing the handles of a variable and of the head does not break the graph */
    x2 = NULL;
    OK(ad_array_full(S3, 1, 2, AD_FLOAT32, &x2));
    OK(ad_array_attach_grad(x2, AD_GRAD_WRITE));
    ad_array *gx2 = grad_of(x2);
    ad_array *ys = NULL;
    y = NULL;
    OK(ad_record_begin(true));
    OK(ad_pow_scalar(x2, 3, &y));
    MAKE(ys, ad_sum(y, NULL, 0, false, &ys));
    OK(ad_record_end());
    OK(ad_array_free(x2));
    OK(ad_array_free(y));
    OK(ad_backward(ys, NULL, false));
    VALUES_ARE(gx2, 1e-5, 12, 12, 12);
    free_all();
}

static void test_grad_reductions(void) {
    const int64_t ax1[] = {1};
    ad_array *x, *s, *hg, *m, *n;
    x = ARRAY(AD_FLOAT32, S23, 1, 2, 3, 4, 5, 6);
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));

    /* sum over axis 1, seeded with a head gradient (1, 2) */
    OK(ad_record_begin(true));
    MAKE(s, ad_sum(x, ax1, 1, false, &s));
    OK(ad_record_end());
    SHAPE_IS(s, 2);
    hg = ARRAY(AD_FLOAT32, S2, 1, 2);
    OK(ad_backward(s, hg, false));
    VALUES_ARE(grad_of(x), 0, 1, 1, 1, 2, 2, 2);

    /* mean over all: 1/6 each */
    OK(ad_record_begin(true));
    MAKE(m, ad_mean(x, NULL, 0, false, &m));
    OK(ad_record_end());
    OK(ad_backward(m, NULL, false));
    VALUES_ARE(grad_of(x), 1e-6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6);

    /* norm over all: x / |x| */
    OK(ad_record_begin(true));
    MAKE(n, ad_norm(x, NULL, 0, false, &n));
    OK(ad_record_end());
    OK(ad_backward(n, NULL, false));
    VALUES_ARE(grad_of(x), 1e-6, 0.10482848367219183, 0.20965696734438366, 0.31448545101657549, 0.41931393468876732,
               0.52414241836095921, 0.62897090203315098);

    /* the norm of zeros has the 0 subgradient, not NaN */
    ad_array *z = NULL, *nz;
    OK(ad_array_zeros(S3, 1, AD_FLOAT64, &z));
    track(z);
    OK(ad_array_attach_grad(z, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(nz, ad_norm(z, NULL, 0, false, &nz));
    OK(ad_record_end());
    VALUES_ARE(nz, 0, 0);
    OK(ad_backward(nz, NULL, false));
    VALUES_ARE(grad_of(z), 0, 0, 0, 0);
    free_all();
}

static void test_grad_add_req_and_retain(void) {
    ad_array *x, *y, *z, *h1, *h2;
    x = ARRAY(AD_FLOAT64, S2, 1, 2);
    OK(ad_array_attach_grad(x, AD_GRAD_ADD));
    /* grad_req add: two backward passes accumulate 2x each */
    for (int i = 0; i < 2; i++) {
        OK(ad_record_begin(true));
        MAKE(y, ad_square(x, &y));
        OK(ad_record_end());
        OK(ad_backward(y, NULL, false));
    }
    VALUES_ARE(grad_of(x), 0, 4, 8);

    /* retain_grad on an intermediate: y = 3x, z = y * y; dz/dy = 2y */
    ad_array *w = ARRAY(AD_FLOAT64, S2, 1, 2);
    OK(ad_array_attach_grad(w, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_mul_scalar(w, 3, &y));
    MAKE(z, ad_mul(y, y, &z));
    OK(ad_record_end());
    OK(ad_array_retain_grad(y));
    OK(ad_backward(z, NULL, false));
    VALUES_ARE(grad_of(y), 0, 6, 12);
    VALUES_ARE(grad_of(w), 0, 18, 36);

    /* two heads at once: d(sum w + sum 2w)/dw = 3 */
    OK(ad_record_begin(true));
    MAKE(h1, ad_mul_scalar(w, 1, &h1));
    MAKE(h2, ad_mul_scalar(w, 2, &h2));
    OK(ad_record_end());
    const ad_array *heads[] = {h1, h2};
    OK(ad_backward_ex(heads, NULL, 2, false, true));
    VALUES_ARE(grad_of(w), 0, 3, 3);
    free_all();
}

static void test_grad_second_derivative(void) {
    ad_array *x, *y, *g = NULL;
    x = ARRAY(AD_FLOAT64, S3, 1, 2, 3);
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_pow_scalar(x, 3, &y));
    OK(ad_record_end());

    /* dy/dx = 3x², recorded (create_graph), without touching x's gradient */
    const ad_array *heads[] = {y}, *vars[] = {x};
    OK(ad_grad(heads, NULL, 1, vars, 1, true, true, true, &g));
    track(g);
    SHAPE_IS(g, 3);
    VALUES_ARE(g, 1e-12, 3, 12, 27);
    VALUES_ARE(grad_of(x), 0, 0, 0, 0);

    /* d²y/dx² = 6x */
    OK(ad_backward(g, NULL, false));
    VALUES_ARE(grad_of(x), 1e-12, 6, 12, 18);

    /* a head that is the variable itself: the gradient is ones */
    ad_array *gself = NULL;
    const ad_array *self[] = {x};
    OK(ad_grad(self, NULL, 1, self, 1, false, false, true, &gself));
    track(gself);
    SHAPE_IS(gself, 3);
    VALUES_ARE(gself, 0, 1, 1, 1);

    /* exp: every derivative is exp */
    ad_array *t = ARRAY(AD_FLOAT64, S2, 0, 1), *e, *ge = NULL;
    OK(ad_array_attach_grad(t, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(e, ad_exp(t, &e));
    OK(ad_record_end());
    const ad_array *eh[] = {e}, *ev[] = {t};
    /* create_graph's result goes back through exp's saved output, so the graph is retained */
    OK(ad_grad(eh, NULL, 1, ev, 1, true, true, true, &ge));
    track(ge);
    VALUES_ARE(ge, 1e-12, 1, 2.7182818284590451);
    OK(ad_backward(ge, NULL, false));
    VALUES_ARE(grad_of(t), 1e-12, 1, 2.7182818284590451);
    free_all();
}

int main(void) {
    /* nothing has failed yet on this thread */
    CHECK(strcmp(ad_last_error(), "") == 0);

    test_version_and_status_names();
    test_create_and_read();
    test_zeros_ones_full();
    test_arange();
    test_random();
    test_reshape();
    test_transpose();
    test_broadcast_to();
    test_copy_and_detach();
    test_share();
    for (uint32_t dtype = AD_FLOAT32; dtype <= AD_FLOAT64; dtype++) {
        int before = check_failures;
        test_binary_equal_shapes(dtype);
        test_binary_broadcasting(dtype);
        test_scalar_ops(dtype);
        test_unary(dtype);
        test_compare(dtype);
        test_dot(dtype);
        test_reductions(dtype);
        if (check_failures != before) fprintf(stderr, "  (the failures above are for %s)\n", dtype_name(dtype));
    }
    test_nan_propagation();
    test_asscalar();
    test_waiting_for_pending_results();
    test_update_by_a_pending_value();
    test_dtype_queries();
    test_recording_flags();
    test_printing();
    test_grad_mul_broadcast();
    test_grad_broadcast_then_sum_in_both_modes();
    test_grad_dot();
    test_grad_shape_ops();
    test_grad_reductions();
    test_grad_add_req_and_retain();
    test_grad_second_derivative();

    /* every topic succeeded without a failing call, so the message is still empty */
    CHECK(strcmp(ad_last_error(), "") == 0);
    return CHECK_RESULT();
}
