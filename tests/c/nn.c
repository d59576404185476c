/*
 * The neural-network ops and the optimizer updates through the C API: forward values on
 * known cases (computed independently with NumPy or by hand from the documented formulas),
 * shapes, error statuses and messages, training versus prediction mode (dropout, batch
 * normalisation), in-place updates, a few gradients, and the detection of an array that was
 * modified in place after a recorded op saved it.
 */
#include <stdint.h>

#include "handles.h"


/* `call` must fail with `expected`; should it succeed anyway, its result is still freed. */
#define FAILS_OUT(var, call, expected) \
    do {                               \
        (var) = NULL;                  \
        FAILS(call, expected);         \
        track(var);                    \
    } while (0)

static int dtype_is(const ad_array *a, uint32_t expected) {
    uint32_t d = 99;
    return a && ad_array_dtype(a, &d) == AD_OK && d == expected;
}

/* Tolerance for values computed in `dtype`. */
static double tol_of(uint32_t dtype) { return dtype == AD_FLOAT32 ? 1e-5 : 1e-12; }

static const char *dtype_name(uint32_t dtype) { return dtype == AD_FLOAT32 ? "float32" : "float64"; }

/* Reads the `n` values of `a` as doubles into a new buffer (the caller frees it). */
static double *read_all(const ad_array *a, size_t n) {
    double *v = calloc(n ? n : 1, sizeof(double));
    if (!v) exit(2);
    OK(ad_array_read(a, AD_FLOAT64, v, n));
    return v;
}

/* (2, 3, 4) holding 0..23. */
static ad_array *arange_234(uint32_t dtype) {
    const int64_t shape[] = {2, 3, 4};
    ad_array *flat, *b;
    MAKE(flat, ad_array_arange(0, 24, 1, dtype, &flat));
    MAKE(b, ad_array_reshape(flat, shape, 3, &b));
    return b;
}

#define RANGE(start, stop, step) {(start), (stop), (step)}
#define AT(i) {(i), 0, 0}


/* ---- softmax family ---------------------------------------------------------------- */

static void test_softmax(uint32_t dtype) {
    const double tol = tol_of(dtype);
    const int64_t ax1[] = {1}, ax0[] = {0};
    ad_array *x, *r, *s, *a, *a4, *flat;

    x = ARRAY(dtype, S23, 1, 2, 3, 1, -1, 0.5);
    MAKE(r, ad_softmax(x, 1, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, 0.09003057317038043, 0.24472847105479767, 0.6652409557748218, 0.5740969929676946,
               0.07769557914857059, 0.3482074278837349);
    MAKE(s, ad_sum(r, ax1, 1, false, &s));
    VALUES_ARE(s, tol, 1, 1); /* rows sum to 1 */
    MAKE(r, ad_softmax(x, -1, &r));
    VALUES_ARE(r, tol, 0.09003057317038043, 0.24472847105479767, 0.6652409557748218, 0.5740969929676946,
               0.07769557914857059, 0.3482074278837349);
    MAKE(r, ad_softmax(x, 0, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, tol, 0.5, 0.9525741268224334, 0.9241418199787566, 0.5, 0.04742587317756678, 0.07585818002124356);
    MAKE(s, ad_sum(r, ax0, 1, false, &s));
    VALUES_ARE(s, tol, 1, 1, 1);
    MAKE(r, ad_softmax(x, -2, &r));
    VALUES_ARE(r, tol, 0.5, 0.9525741268224334, 0.9241418199787566, 0.5, 0.04742587317756678, 0.07585818002124356);

    MAKE(r, ad_log_softmax(x, 1, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, -2.4076059644443806, -1.4076059644443804, -0.40760596444438035, -0.5549569196419906,
               -2.554956919641991, -1.0549569196419906);
    MAKE(r, ad_log_softmax(x, -1, &r));
    VALUES_ARE(r, tol, -2.4076059644443806, -1.4076059644443804, -0.40760596444438035, -0.5549569196419906,
               -2.554956919641991, -1.0549569196419906);
    MAKE(r, ad_log_softmax(x, 0, &r));
    VALUES_ARE(r, tol, -0.6931471805599453, -0.04858735157374197, -0.07888973429254957, -0.6931471805599453,
               -3.048587351573742, -2.5788897342925496);

    /* 3-d: (2, 3, 4) holding 0..23 / 4, along the middle, the last and the first axis */
    a4 = arange_234(dtype);
    MAKE(a, ad_div_scalar(a4, 4, &a));
    MAKE(r, ad_softmax(a, 1, &r));
    SHAPE_IS(r, 2, 3, 4);
    {
        const double c[3] = {0.09003057317038043, 0.24472847105479767, 0.6652409557748218};
        double e[24];
        for (int i = 0; i < 24; i++) e[i] = c[(i / 4) % 3];
        CHECK(values_near(r, e, 24, tol));
    }
    MAKE(r, ad_softmax(a, -1, &r));
    {
        const double c[4] = {0.16529617667112, 0.21224449212702542, 0.27252732244308187, 0.3499320087587727};
        double e[24];
        for (int i = 0; i < 24; i++) e[i] = c[i % 4];
        CHECK(values_near(r, e, 24, tol));
    }
    MAKE(r, ad_log_softmax(a, 0, &r));
    SHAPE_IS(r, 2, 3, 4);
    {
        double e[24];
        for (int i = 0; i < 24; i++) e[i] = i < 12 ? -3.048587351573742 : -0.04858735157374197;
        CHECK(values_near(r, e, 24, tol));
    }

    /* 1-d */
    flat = ARRAY(dtype, S3, 0, 0, 0);
    MAKE(r, ad_softmax(flat, 0, &r));
    VALUES_ARE(r, tol, 1.0 / 3, 1.0 / 3, 1.0 / 3);

    /* an axis out of range */
    FAILS_OUT(r, ad_softmax(x, 2, &r), AD_ERR_SHAPE);
    FAILS_OUT(r, ad_softmax(x, -3, &r), AD_ERR_SHAPE);
    FAILS_OUT(r, ad_log_softmax(x, 2, &r), AD_ERR_SHAPE);
    free_all();
}

static void test_softmax_stability(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *x, *r;
    x = ARRAY(dtype, S23, 1e4, 1e4 + 1, 1e4 - 2, -1e4, 0, 1e4);
    MAKE(r, ad_softmax(x, 1, &r));
    double *v = read_all(r, 6);
    int finite = 1;
    for (int i = 0; i < 6; i++) finite &= isfinite(v[i]);
    CHECK(finite);
    free(v);
    VALUES_ARE(r, tol, 0.2594964603424192, 0.7053845126982412, 0.03511902695933972, 0, 0, 1);
    MAKE(r, ad_log_softmax(x, 1, &r));
    v = read_all(r, 6);
    finite = 1;
    for (int i = 0; i < 6; i++) finite &= isfinite(v[i]);
    CHECK(finite);
    free(v);
    VALUES_ARE(r, tol * 10, -1.3490122167681862, -0.3490122167681863, -3.349012216768186, -20000, -10000, 0);

    /* along axis 0 too */
    MAKE(r, ad_softmax(x, 0, &r));
    VALUES_ARE(r, tol, 1, 1, 0.11920292202211755, 0, 0, 0.8807970779778823);
    free_all();
}

static void test_softmax_cross_entropy(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *logits, *labels, *r, *bad;
    logits = ARRAY(dtype, S34, 1, 2, 3, 4, 0.5, -1, 2, 0, 3, 3, 0, -2);
    labels = ARRAY(dtype, S3, 0, 3, 1);
    MAKE(r, ad_softmax_cross_entropy(logits, labels, false, &r));
    SHAPE_IS(r, 1);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, 2.1678523178714886);
    MAKE(r, ad_softmax_cross_entropy(logits, labels, true, &r));
    SHAPE_IS(r, 1);
    VALUES_ARE(r, tol, 6.503556953614465);

    /* large logits stay finite: -log softmax([1e4, 1e4 + 1])[0] = log(1 + e) */
    ad_array *big = ARRAY(dtype, S22, 1e4, 1e4 + 1, -1e4, 1e4), *bl = ARRAY(dtype, S2, 0, 1);
    MAKE(r, ad_softmax_cross_entropy(big, bl, true, &r));
    VALUES_ARE(r, tol * 10, 1.3132616875182228);

    /* a label out of range, negative, or not a whole number */
    bad = ARRAY(dtype, S3, 0, 4, 1);
    FAILS_OUT(r, ad_softmax_cross_entropy(logits, bad, false, &r), AD_ERR_INDEX);
    MESSAGE_HAS("4");
    bad = ARRAY(dtype, S3, 0, -1, 1);
    FAILS_OUT(r, ad_softmax_cross_entropy(logits, bad, false, &r), AD_ERR_INDEX);
    bad = ARRAY(dtype, S3, 0, 1.5, 1);
    FAILS_OUT(r, ad_softmax_cross_entropy(logits, bad, true, &r), AD_ERR_INDEX);
    /* labels of the wrong length, logits not 2-d */
    bad = ARRAY(dtype, S2, 0, 1);
    FAILS_OUT(r, ad_softmax_cross_entropy(logits, bad, false, &r), AD_ERR_SHAPE);
    MESSAGE_HAS("(3, 4)");
    MESSAGE_HAS("(2,)");
    FAILS_OUT(r, ad_softmax_cross_entropy(labels, labels, false, &r), AD_ERR_SHAPE);
    free_all();
}

/* ---- pick, one_hot, argmax/argmin ----------------------------------------------------- */

static void test_pick(uint32_t dtype) {
    ad_array *a, *i, *r, *b, *bad;
    a = ARRAY(dtype, S23, 1, 2, 3, 4, 5, 6);

    /* along axis 1 (and -1): one position per row */
    i = ARRAY(dtype, S2, 2, 0);
    MAKE(r, ad_pick(a, i, 1, false, &r));
    SHAPE_IS(r, 2);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, 0, 3, 4);
    MAKE(r, ad_pick(a, i, 1, true, &r));
    SHAPE_IS(r, 2, 1);
    VALUES_ARE(r, 0, 3, 4);
    MAKE(r, ad_pick(a, i, -1, false, &r));
    SHAPE_IS(r, 2);
    VALUES_ARE(r, 0, 3, 4);
    /* an index with the axis kept as 1 */
    i = ARRAY(dtype, S21, 1, 2);
    MAKE(r, ad_pick(a, i, 1, false, &r));
    SHAPE_IS(r, 2);
    VALUES_ARE(r, 0, 2, 6);

    /* along axis 0 (and -2): one position per column */
    i = ARRAY(dtype, S3, 1, 0, 1);
    MAKE(r, ad_pick(a, i, 0, false, &r));
    SHAPE_IS(r, 3);
    VALUES_ARE(r, 0, 4, 2, 6);
    MAKE(r, ad_pick(a, i, 0, true, &r));
    SHAPE_IS(r, 1, 3);
    VALUES_ARE(r, 0, 4, 2, 6);
    MAKE(r, ad_pick(a, i, -2, true, &r));
    SHAPE_IS(r, 1, 3);
    VALUES_ARE(r, 0, 4, 2, 6);

    /* 3-d along the middle axis: index (2, 4) */
    b = arange_234(dtype);
    i = ARRAY(dtype, S24, 0, 2, 1, 2, 1, 1, 0, 2);
    MAKE(r, ad_pick(b, i, 1, false, &r));
    SHAPE_IS(r, 2, 4);
    VALUES_ARE(r, 0, 0, 9, 6, 11, 16, 17, 14, 23);
    MAKE(r, ad_pick(b, i, 1, true, &r));
    SHAPE_IS(r, 2, 1, 4);
    VALUES_ARE(r, 0, 0, 9, 6, 11, 16, 17, 14, 23);

    /* positions out of range (MXNet would clip), negative, fractional; a wrong index shape */
    bad = ARRAY(dtype, S2, 3, 0);
    FAILS_OUT(r, ad_pick(a, bad, 1, false, &r), AD_ERR_INDEX);
    MESSAGE_HAS("3");
    bad = ARRAY(dtype, S3, 2, 0, 1);
    FAILS_OUT(r, ad_pick(a, bad, 0, false, &r), AD_ERR_INDEX);
    bad = ARRAY(dtype, S2, -1, 0);
    FAILS_OUT(r, ad_pick(a, bad, 1, false, &r), AD_ERR_INDEX);
    bad = ARRAY(dtype, S2, 0.5, 0);
    FAILS_OUT(r, ad_pick(a, bad, 1, false, &r), AD_ERR_INDEX);
    bad = ARRAY(dtype, S3, 0, 0, 0);
    FAILS_OUT(r, ad_pick(a, bad, 1, false, &r), AD_ERR_SHAPE);
    MESSAGE_HAS("(3,)");
    FAILS_OUT(r, ad_pick(a, i, 2, false, &r), AD_ERR_SHAPE);
    free_all();
}

static void test_one_hot(void) {
    ad_array *i, *r, *i2;
    i = ARRAY(AD_FLOAT32, S5, 0, 2, 1, 5, -1);
    MAKE(r, ad_one_hot(i, 3, 1, 0, AD_FLOAT32, &r));
    SHAPE_IS(r, 5, 3);
    CHECK(dtype_is(r, AD_FLOAT32));
    /* index 5 (>= depth) and -1 give rows of off_value */
    VALUES_ARE(r, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0);

    /* custom on/off values and the other dtype, from float64 indices */
    i2 = ARRAY(AD_FLOAT64, S22, 1, 0, 3, 2);
    MAKE(r, ad_one_hot(i2, 3, 5, -1, AD_FLOAT64, &r));
    SHAPE_IS(r, 2, 2, 3);
    CHECK(dtype_is(r, AD_FLOAT64));
    VALUES_ARE(r, 0, -1, 5, -1, 5, -1, -1, -1, -1, -1, -1, -1, 5);
    /* the result's dtype is the one asked for, not the indices' */
    MAKE(r, ad_one_hot(i2, 4, 0.5, 0.25, AD_FLOAT32, &r));
    SHAPE_IS(r, 2, 2, 4);
    CHECK(dtype_is(r, AD_FLOAT32));
    VALUES_ARE(r, 0, 0.25, 0.5, 0.25, 0.25, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.25);

    FAILS_OUT(r, ad_one_hot(i, 3, 1, 0, 9, &r), AD_ERR_DTYPE);
    free_all();
}

static void test_argmax_argmin(uint32_t dtype) {
    const int64_t ax0 = 0, ax1 = 1, axm1 = -1, ax2 = 2;
    ad_array *a, *r, *b, *v, *ties, *n;
    a = ARRAY(dtype, S23, 1, 3, 3, 7, 0, 7);

    MAKE(r, ad_argmax(a, &ax1, false, &r));
    SHAPE_IS(r, 2);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, 0, 1, 0); /* first occurrence wins: 3 at 1 and 2, 7 at 0 and 2 */
    MAKE(r, ad_argmax(a, &axm1, false, &r));
    VALUES_ARE(r, 0, 1, 0);
    MAKE(r, ad_argmax(a, &ax1, true, &r));
    SHAPE_IS(r, 2, 1);
    VALUES_ARE(r, 0, 1, 0);
    MAKE(r, ad_argmax(a, &ax0, false, &r));
    SHAPE_IS(r, 3);
    VALUES_ARE(r, 0, 1, 0, 1);
    MAKE(r, ad_argmax(a, &ax0, true, &r));
    SHAPE_IS(r, 1, 3);
    VALUES_ARE(r, 0, 1, 0, 1);
    MAKE(r, ad_argmax(a, NULL, false, &r));
    SHAPE_IS(r, 1);
    VALUES_ARE(r, 0, 3); /* flattened: 7 first at 3 */

    MAKE(r, ad_argmin(a, &ax1, false, &r));
    SHAPE_IS(r, 2);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, 0, 0, 1);
    MAKE(r, ad_argmin(a, &ax0, false, &r));
    VALUES_ARE(r, 0, 0, 1, 0);
    MAKE(r, ad_argmin(a, &ax0, true, &r));
    SHAPE_IS(r, 1, 3);
    MAKE(r, ad_argmin(a, NULL, false, &r));
    SHAPE_IS(r, 1);
    VALUES_ARE(r, 0, 4);

    /* ties throughout: the first */
    ties = ARRAY(dtype, S23, 2, 2, 2, 5, 1, 1);
    MAKE(r, ad_argmax(ties, &ax1, false, &r));
    VALUES_ARE(r, 0, 0, 0);
    MAKE(r, ad_argmin(ties, &ax1, false, &r));
    VALUES_ARE(r, 0, 0, 1);
    MAKE(r, ad_argmin(ties, NULL, false, &r));
    VALUES_ARE(r, 0, 4);

    /* 3-d */
    b = arange_234(dtype);
    MAKE(r, ad_argmax(b, &ax1, false, &r));
    SHAPE_IS(r, 2, 4);
    VALUES_ARE(r, 0, 2, 2, 2, 2, 2, 2, 2, 2);
    MAKE(r, ad_argmax(b, &ax1, true, &r));
    SHAPE_IS(r, 2, 1, 4);
    MAKE(r, ad_argmin(b, &ax2, false, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, 0, 0, 0, 0, 0, 0, 0);
    MAKE(r, ad_argmax(b, NULL, false, &r));
    SHAPE_IS(r, 1);
    VALUES_ARE(r, 0, 23);

    /* 1-d along its only axis: shape (1,) as MXNet */
    v = ARRAY(dtype, S3, 3, 1, 3);
    MAKE(r, ad_argmax(v, &ax0, false, &r));
    SHAPE_IS(r, 1);
    VALUES_ARE(r, 0, 0);
    MAKE(r, ad_argmin(v, &ax0, true, &r));
    SHAPE_IS(r, 1);
    VALUES_ARE(r, 0, 1);

    /* NaN counts as the extreme, as in NumPy */
    n = ARRAY(dtype, S3, 1, NAN, 3);
    MAKE(r, ad_argmax(n, NULL, false, &r));
    VALUES_ARE(r, 0, 1);
    MAKE(r, ad_argmin(n, NULL, false, &r));
    VALUES_ARE(r, 0, 1);

    FAILS_OUT(r, ad_argmax(a, &ax2, false, &r), AD_ERR_SHAPE);
    FAILS_OUT(r, ad_argmin(v, &ax1, false, &r), AD_ERR_SHAPE);
    free_all();
}

/* ---- clip, where, flatten ----------------------------------------------------------- */

static void test_clip(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *x, *r;
    x = ARRAY(dtype, S23, -2, -0.5, 0, 0.5, 1, 3);
    MAKE(r, ad_clip(x, -1, 1, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, 0, -1, -0.5, 0, 0.5, 1, 1);
    MAKE(r, ad_clip(x, 0.25, 2.5, &r));
    VALUES_ARE(r, tol, 0.25, 0.25, 0.25, 0.5, 1, 2.5);
    MAKE(r, ad_clip(x, 0, 0, &r));
    VALUES_ARE(r, 0, 0, 0, 0, 0, 0, 0);
    MAKE(r, ad_clip(x, -10, 10, &r));
    VALUES_ARE(r, 0, -2, -0.5, 0, 0.5, 1, 3);
    FAILS_OUT(r, ad_clip(x, 1, -1, &r), AD_ERR_INVALID_ARGUMENT);
    free_all();
}

static void test_where(uint32_t dtype) {
    ad_array *c, *a, *b, *r, *c3, *one, *cf, *acol, *brow, *bad;
    a = ARRAY(dtype, S23, 1, 2, 3, 4, 5, 6);

    /* condition (2, 1), b (1, 3) */
    c = ARRAY(dtype, S21, 1, 0);
    b = ARRAY(dtype, S13, -1, -2, -3);
    MAKE(r, ad_where(c, a, b, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, 0, 1, 2, 3, -1, -2, -3);

    /* condition (3,) with any non-zero (2, -1) true, b (1,) */
    c3 = ARRAY(dtype, S3, 0, 2, -1);
    one = ARRAY(dtype, S1, 9);
    MAKE(r, ad_where(c3, a, one, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, 0, 9, 2, 3, 9, 5, 6);
    MAKE(r, ad_where(c3, one, a, &r));
    VALUES_ARE(r, 0, 1, 9, 9, 4, 9, 9);

    /* full condition, a (2, 1), b (1, 3): all three broadcast */
    cf = ARRAY(dtype, S23, 1, 0, 1, 0, 1, 0);
    acol = ARRAY(dtype, S21, 10, 20);
    brow = ARRAY(dtype, S13, 1, 2, 3);
    MAKE(r, ad_where(cf, acol, brow, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, 0, 10, 2, 10, 1, 20, 3);
    /* (2, 1) condition with (1, 3) operands broadcast to (2, 3) */
    MAKE(r, ad_where(c, brow, one, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, 0, 1, 2, 3, 9, 9, 9);

    /* shapes that do not broadcast; dtypes that differ */
    bad = ARRAY(dtype, S2, 1, 0);
    FAILS_OUT(r, ad_where(bad, a, b, &r), AD_ERR_SHAPE);
    bad = ARRAY(dtype == AD_FLOAT32 ? AD_FLOAT64 : AD_FLOAT32, S21, 1, 0);
    FAILS_OUT(r, ad_where(bad, a, b, &r), AD_ERR_DTYPE);
    FAILS_OUT(r, ad_where(c, a, bad, &r), AD_ERR_DTYPE);
    free_all();
}

static void test_flatten(uint32_t dtype) {
    ad_array *a, *r, *b, *c, *s;
    a = ARRAY(dtype, S3, 1, 2, 3);
    MAKE(r, ad_flatten(a, &r));
    SHAPE_IS(r, 3, 1);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, 0, 1, 2, 3);

    b = arange_234(dtype);
    MAKE(r, ad_flatten(b, &r));
    SHAPE_IS(r, 2, 12);
    {
        double e[24];
        for (int i = 0; i < 24; i++) e[i] = i;
        CHECK(values_near(r, e, 24, 0));
    }
    c = ARRAY(dtype, S21, 4, 5);
    MAKE(r, ad_flatten(c, &r));
    SHAPE_IS(r, 2, 1);
    VALUES_ARE(r, 0, 4, 5);

    const double seven = 7;
    s = NULL;
    if (dtype == AD_FLOAT64) {
        MAKE(s, ad_array_create(&seven, NULL, 0, dtype, &s));
    } else {
        const float sevenf = 7;
        MAKE(s, ad_array_create(&sevenf, NULL, 0, dtype, &s));
    }
    MAKE(r, ad_flatten(s, &r));
    SHAPE_IS(r, 1, 1);
    VALUES_ARE(r, 0, 7);
    free_all();
}

/* ---- fully_connected, concat, stack ------------------------------------------------- */

static void test_fully_connected(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *x, *w, *b, *r, *x3, *x213, *x26, *w4, *bad, *other;
    x = ARRAY(dtype, S23, 1, 2, 3, 4, 5, 6);
    w = ARRAY(dtype, S23, 1, 0, -1, 0.5, 1, 2);
    b = ARRAY(dtype, S2, 10, 20);

    MAKE(r, ad_fully_connected(x, w, b, true, &r));
    SHAPE_IS(r, 2, 2);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, tol, 8, 28.5, 8, 39);
    MAKE(r, ad_fully_connected(x, w, NULL, true, &r));
    SHAPE_IS(r, 2, 2);
    VALUES_ARE(r, tol, -2, 8.5, -2, 19);
    MAKE(r, ad_fully_connected(x, w, b, false, &r));
    SHAPE_IS(r, 2, 2);
    VALUES_ARE(r, tol, 8, 28.5, 8, 39);

    /* flatten: (2, 1, 3) is flattened to (2, 3) */
    x213 = ARRAY(dtype, S213, 1, 2, 3, 4, 5, 6);
    MAKE(r, ad_fully_connected(x213, w, b, true, &r));
    SHAPE_IS(r, 2, 2);
    VALUES_ARE(r, tol, 8, 28.5, 8, 39);
    /* flatten: (2, 6) with weight (3, 6) */
    x26 = ARRAY(dtype, S26, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5);
    w4 = ARRAY(dtype, S36, 1, -1, 0, 2, 0.5, 1, 0, 0, 1, 1, -1, 2, 3, 0, 0, 0, 0, 1);
    MAKE(r, ad_fully_connected(x26, w4, NULL, true, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, tol, 6, 5.5, 2.5, 16.5, 14.5, 14.5);

    /* without flatten, a 3-d input (2, 2, 3) is multiplied over its last axis: (2, 2, 2) */
    x3 = ARRAY(dtype, S223, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6);
    MAKE(r, ad_fully_connected(x3, w, b, false, &r));
    SHAPE_IS(r, 2, 2, 2);
    VALUES_ARE(r, tol, 8, 7.5, 8, 18, 8, 28.5, 8, 39);
    MAKE(r, ad_fully_connected(x3, w, NULL, false, &r));
    SHAPE_IS(r, 2, 2, 2);
    VALUES_ARE(r, tol, -2, -12.5, -2, -2, -2, 8.5, -2, 19);
    /* with flatten the same input is (2, 6), which weight (2, 3) does not fit */
    FAILS_OUT(r, ad_fully_connected(x3, w, b, true, &r), AD_ERR_SHAPE);
    MESSAGE_HAS("(2, 2, 3)");
    MESSAGE_HAS("(2, 3)");

    /* shape errors name the shapes at fault */
    bad = ARRAY(dtype, S24, 1, 2, 3, 4, 5, 6, 7, 8);
    FAILS_OUT(r, ad_fully_connected(bad, w, b, true, &r), AD_ERR_SHAPE);
    MESSAGE_HAS("(2, 4)");
    MESSAGE_HAS("(2, 3)");
    bad = ARRAY(dtype, S3, 1, 2, 3);
    FAILS_OUT(r, ad_fully_connected(x, w, bad, true, &r), AD_ERR_SHAPE);
    MESSAGE_HAS("(3,)");
    FAILS_OUT(r, ad_fully_connected(x, bad, NULL, true, &r), AD_ERR_SHAPE);
    MESSAGE_HAS("(3,)");
    /* without flatten the last axis must be k: (2, 2, 4) against weight (2, 3) */
    bad = ARRAY(dtype, S224, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    FAILS_OUT(r, ad_fully_connected(bad, w, NULL, false, &r), AD_ERR_SHAPE);
    MESSAGE_HAS("(2, 2, 4)");
    MESSAGE_HAS("(2, 3)");
    /* ... and a 2-d input (2, 6) whose size happens to be a multiple of k = 3 is no exception:
       x · weightᵀ over the last axis does not exist for weight (2, 3) */
    FAILS_OUT(r, ad_fully_connected(x26, w, NULL, false, &r), AD_ERR_SHAPE);
    if (r) {
        fprintf(stderr, "  ad_fully_connected((2, 6), weight (2, 3), flatten=false) succeeded with");
        print_shape(r);
    }
    /* without flatten a 1-d input (3,) is one row: the product over its last axis is (2,) */
    ad_array *x1 = ARRAY(dtype, S3, 1, 2, 3);
    MAKE(r, ad_fully_connected(x1, w, b, false, &r));
    SHAPE_IS(r, 2);
    VALUES_ARE(r, tol, 8, 28.5);
    /* operands of another dtype */
    other = ARRAY(dtype == AD_FLOAT32 ? AD_FLOAT64 : AD_FLOAT32, S23, 1, 0, -1, 0.5, 1, 2);
    FAILS_OUT(r, ad_fully_connected(x, other, NULL, true, &r), AD_ERR_DTYPE);
    free_all();
}

static void test_concat(uint32_t dtype) {
    ad_array *a, *b, *c, *r, *v3, *t, *first, *other;
    a = ARRAY(dtype, S22, 1, 2, 3, 4);
    b = ARRAY(dtype, S21, 5, 6);
    c = ARRAY(dtype, S12, 7, 8);

    const ad_array *ab[] = {a, b}, *ac[] = {a, c}, *cac[] = {c, a, c}, *aa[] = {a};
    MAKE(r, ad_concat(ab, 2, 1, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, 0, 1, 2, 5, 3, 4, 6);
    MAKE(r, ad_concat(ab, 2, -1, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, 0, 1, 2, 5, 3, 4, 6);
    MAKE(r, ad_concat(ac, 2, 0, &r));
    SHAPE_IS(r, 3, 2);
    VALUES_ARE(r, 0, 1, 2, 3, 4, 7, 8);
    MAKE(r, ad_concat(ac, 2, -2, &r));
    SHAPE_IS(r, 3, 2);
    VALUES_ARE(r, 0, 1, 2, 3, 4, 7, 8);
    MAKE(r, ad_concat(cac, 3, 0, &r));
    SHAPE_IS(r, 4, 2);
    VALUES_ARE(r, 0, 7, 8, 1, 2, 3, 4, 7, 8);
    MAKE(r, ad_concat(aa, 1, 1, &r));
    SHAPE_IS(r, 2, 2);
    VALUES_ARE(r, 0, 1, 2, 3, 4);

    /* 3-d along each axis */
    t = arange_234(dtype);
    const ad_array *tt[] = {t, t};
    MAKE(r, ad_concat(tt, 2, 2, &r));
    SHAPE_IS(r, 2, 3, 8);
    VALUES_ARE(r, 0, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7, 8, 9, 10, 11, 8, 9, 10, 11, 12, 13, 14, 15, 12,
               13, 14, 15, 16, 17, 18, 19, 16, 17, 18, 19, 20, 21, 22, 23, 20, 21, 22, 23);
    {
        const ad_index row0[] = {RANGE(0, 2, 1), RANGE(0, 1, 1)};
        MAKE(first, ad_array_slice(t, row0, 2, &first));
        SHAPE_IS(first, 2, 1, 4);
        const ad_array *tf[] = {t, first};
        MAKE(r, ad_concat(tf, 2, 1, &r));
        SHAPE_IS(r, 2, 4, 4);
        VALUES_ARE(r, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                   23, 12, 13, 14, 15);
    }
    MAKE(r, ad_concat(tt, 2, 0, &r));
    SHAPE_IS(r, 4, 3, 4);
    {
        double e[48];
        for (int i = 0; i < 48; i++) e[i] = i % 24;
        CHECK(values_near(r, e, 48, 0));
    }

    /* mismatched shapes name them; mismatched ndim; axis out of range; nothing to join */
    FAILS_OUT(r, ad_concat(ab, 2, 0, &r), AD_ERR_SHAPE);
    MESSAGE_HAS("(2, 1)");
    MESSAGE_HAS("(2, 2)");
    FAILS_OUT(r, ad_concat(ac, 2, 1, &r), AD_ERR_SHAPE);
    MESSAGE_HAS("(1, 2)");
    v3 = ARRAY(dtype, S2, 1, 2);
    const ad_array *av[] = {a, v3};
    FAILS_OUT(r, ad_concat(av, 2, 0, &r), AD_ERR_SHAPE);
    FAILS_OUT(r, ad_concat(ab, 2, 2, &r), AD_ERR_SHAPE);
    FAILS_OUT(r, ad_concat(ab, 0, 0, &r), AD_ERR_INVALID_ARGUMENT);
    FAILS_OUT(r, ad_concat(NULL, 2, 0, &r), AD_ERR_NULL_ARGUMENT);
    /* operands of different dtypes: the header's AD_ERR_DTYPE ("the operands' dtypes differ") */
    other = ARRAY(dtype == AD_FLOAT32 ? AD_FLOAT64 : AD_FLOAT32, S21, 5, 6);
    const ad_array *ao[] = {a, other};
    FAILS_OUT(r, ad_concat(ao, 2, 1, &r), AD_ERR_DTYPE);
    free_all();
}

static void test_stack(uint32_t dtype) {
    ad_array *p, *q, *r, *u, *v, *bad;
    p = ARRAY(dtype, S23, 1, 2, 3, 4, 5, 6);
    q = ARRAY(dtype, S23, 7, 8, 9, 10, 11, 12);
    const ad_array *pq[] = {p, q};

    MAKE(r, ad_stack(pq, 2, 0, &r));
    SHAPE_IS(r, 2, 2, 3);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    MAKE(r, ad_stack(pq, 2, -3, &r));
    SHAPE_IS(r, 2, 2, 3);
    VALUES_ARE(r, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    MAKE(r, ad_stack(pq, 2, 1, &r));
    SHAPE_IS(r, 2, 2, 3);
    VALUES_ARE(r, 0, 1, 2, 3, 7, 8, 9, 4, 5, 6, 10, 11, 12);
    MAKE(r, ad_stack(pq, 2, -2, &r));
    SHAPE_IS(r, 2, 2, 3);
    VALUES_ARE(r, 0, 1, 2, 3, 7, 8, 9, 4, 5, 6, 10, 11, 12);
    MAKE(r, ad_stack(pq, 2, 2, &r));
    SHAPE_IS(r, 2, 3, 2);
    VALUES_ARE(r, 0, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11, 6, 12);
    MAKE(r, ad_stack(pq, 2, -1, &r));
    SHAPE_IS(r, 2, 3, 2);
    VALUES_ARE(r, 0, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11, 6, 12);

    /* 1-d, three arrays */
    u = ARRAY(dtype, S2, 1, 2);
    v = ARRAY(dtype, S2, 3, 4);
    const ad_array *uvu[] = {u, v, u};
    MAKE(r, ad_stack(uvu, 3, 0, &r));
    SHAPE_IS(r, 3, 2);
    VALUES_ARE(r, 0, 1, 2, 3, 4, 1, 2);
    MAKE(r, ad_stack(uvu, 3, 1, &r));
    SHAPE_IS(r, 2, 3);
    VALUES_ARE(r, 0, 1, 3, 1, 2, 4, 2);
    const ad_array *single[] = {u};
    MAKE(r, ad_stack(single, 1, -1, &r));
    SHAPE_IS(r, 2, 1);

    /* a new axis out of range; shapes that differ (named) */
    FAILS_OUT(r, ad_stack(pq, 2, 3, &r), AD_ERR_SHAPE);
    FAILS_OUT(r, ad_stack(pq, 2, -4, &r), AD_ERR_SHAPE);
    bad = ARRAY(dtype, S32, 1, 2, 3, 4, 5, 6);
    const ad_array *pb[] = {p, bad};
    FAILS_OUT(r, ad_stack(pb, 2, 0, &r), AD_ERR_SHAPE);
    MESSAGE_HAS("(3, 2)");
    MESSAGE_HAS("(2, 3)");
    FAILS_OUT(r, ad_stack(pq, 0, 0, &r), AD_ERR_INVALID_ARGUMENT);
    free_all();
}

/* ---- slicing, writing into slices, astype, max/min -------------------------------------- */

static void test_slice(uint32_t dtype) {
    ad_array *a, *r, *v;
    a = arange_234(dtype);
    {
        const ad_index i[] = {AT(1)};
        MAKE(r, ad_array_slice(a, i, 1, &r));
        SHAPE_IS(r, 3, 4);
        CHECK(dtype_is(r, dtype));
        VALUES_ARE(r, 0, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23);
    }
    {
        const ad_index i[] = {AT(-2)};
        MAKE(r, ad_array_slice(a, i, 1, &r));
        SHAPE_IS(r, 3, 4);
        VALUES_ARE(r, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    }
    {
        /* x[0:2, 1:3] */
        const ad_index i[] = {RANGE(0, 2, 1), RANGE(1, 3, 1)};
        MAKE(r, ad_array_slice(a, i, 2, &r));
        SHAPE_IS(r, 2, 2, 4);
        VALUES_ARE(r, 0, 4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23);
    }
    {
        /* x[:, ::2] */
        const ad_index i[] = {RANGE(0, 2, 1), RANGE(0, 3, 2)};
        MAKE(r, ad_array_slice(a, i, 2, &r));
        SHAPE_IS(r, 2, 2, 4);
        VALUES_ARE(r, 0, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23);
    }
    {
        /* x[:, 2] drops the axis */
        const ad_index i[] = {RANGE(0, 2, 1), AT(2)};
        MAKE(r, ad_array_slice(a, i, 2, &r));
        SHAPE_IS(r, 2, 4);
        VALUES_ARE(r, 0, 8, 9, 10, 11, 20, 21, 22, 23);
    }
    {
        /* x[:, :, -1] */
        const ad_index i[] = {RANGE(0, 2, 1), RANGE(0, 3, 1), AT(-1)};
        MAKE(r, ad_array_slice(a, i, 3, &r));
        SHAPE_IS(r, 2, 3);
        VALUES_ARE(r, 0, 3, 7, 11, 15, 19, 23);
    }
    {
        /* x[1, 2, 3]: every axis dropped */
        const ad_index i[] = {AT(1), AT(2), AT(3)};
        MAKE(r, ad_array_slice(a, i, 3, &r));
        VALUES_ARE(r, 0, 23);
    }
    {
        /* x[::-1] (slice(None, None, -1).indices(2) = (1, -1, -1)) and x[:, ::-1, 1:4:2] */
        const ad_index i[] = {RANGE(1, -1, -1)};
        MAKE(r, ad_array_slice(a, i, 1, &r));
        SHAPE_IS(r, 2, 3, 4);
        VALUES_ARE(r, 0, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        const ad_index j[] = {RANGE(0, 2, 1), RANGE(2, -1, -1), RANGE(1, 4, 2)};
        MAKE(r, ad_array_slice(a, j, 3, &r));
        SHAPE_IS(r, 2, 3, 2);
        VALUES_ARE(r, 0, 9, 11, 5, 7, 1, 3, 21, 23, 17, 19, 13, 15);
    }
    MAKE(v, ad_array_arange(0, 5, 1, dtype, &v));
    {
        const ad_index i[] = {RANGE(4, -1, -1)};
        MAKE(r, ad_array_slice(v, i, 1, &r));
        SHAPE_IS(r, 5);
        VALUES_ARE(r, 0, 4, 3, 2, 1, 0);
        const ad_index j[] = {RANGE(3, 0, -2)};
        MAKE(r, ad_array_slice(v, j, 1, &r));
        SHAPE_IS(r, 2);
        VALUES_ARE(r, 0, 3, 1);
        const ad_index k[] = {RANGE(4, 0, -3)};
        MAKE(r, ad_array_slice(v, k, 1, &r));
        VALUES_ARE(r, 0, 4, 1);
        const ad_index l[] = {RANGE(0, 5, 2)};
        MAKE(r, ad_array_slice(v, l, 1, &r));
        VALUES_ARE(r, 0, 0, 2, 4);
        const ad_index m[] = {RANGE(1, 5, 3)};
        MAKE(r, ad_array_slice(v, m, 1, &r));
        VALUES_ARE(r, 0, 1, 4);
        /* an empty range */
        const ad_index e[] = {RANGE(2, 2, 1)};
        MAKE(r, ad_array_slice(v, e, 1, &r));
        SHAPE_IS(r, 0);
        /* no index at all: the whole array */
        MAKE(r, ad_array_slice(v, NULL, 0, &r));
        SHAPE_IS(r, 5);
        VALUES_ARE(r, 0, 0, 1, 2, 3, 4);
    }

    /* out of range: AD_ERR_INDEX, naming the axis and its size */
    {
        const ad_index i[] = {AT(2)};
        FAILS_OUT(r, ad_array_slice(a, i, 1, &r), AD_ERR_INDEX);
        MESSAGE_HAS("size 2");
        const ad_index j[] = {AT(-3)};
        FAILS_OUT(r, ad_array_slice(a, j, 1, &r), AD_ERR_INDEX);
        const ad_index k[] = {RANGE(0, 2, 1), RANGE(0, 4, 1)};
        FAILS_OUT(r, ad_array_slice(a, k, 2, &r), AD_ERR_INDEX);
        MESSAGE_HAS("axis 1");
        MESSAGE_HAS("size 3");
        const ad_index l[] = {RANGE(0, 2, 1), RANGE(3, -1, -1)};
        FAILS_OUT(r, ad_array_slice(a, l, 2, &r), AD_ERR_INDEX);
        const ad_index m[] = {RANGE(0, 2, 1), RANGE(0, 3, 1), AT(4)};
        FAILS_OUT(r, ad_array_slice(a, m, 3, &r), AD_ERR_INDEX);
        const ad_index n[] = {AT(0), AT(0), AT(0), AT(0)};
        FAILS_OUT(r, ad_array_slice(a, n, 4, &r), AD_ERR_INDEX);
        const ad_index o[] = {RANGE(-1, 2, 1)};
        FAILS_OUT(r, ad_array_slice(a, o, 1, &r), AD_ERR_INDEX);
        FAILS_OUT(r, ad_array_slice(a, NULL, 1, &r), AD_ERR_NULL_ARGUMENT);
    }
    free_all();
}

static void test_write_slice(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *x, *row, *nine, *col, *half, *src, *v, *big, *other;
    MAKE(x, ad_array_zeros(S34, 2, dtype, &x));

    /* x[1:3] = [1, 2, 3, 4] (broadcast over the rows) */
    row = ARRAY(dtype, S4, 1, 2, 3, 4);
    const ad_index rows12[] = {RANGE(1, 3, 1)};
    OK(ad_array_write_slice(x, rows12, 1, row));
    VALUES_ARE(x, 0, 0, 0, 0, 0, 1, 2, 3, 4, 1, 2, 3, 4);
    /* x[:, 0] = 9 */
    nine = ARRAY(dtype, S1, 9);
    const ad_index col0[] = {RANGE(0, 3, 1), AT(0)};
    OK(ad_array_write_slice(x, col0, 2, nine));
    VALUES_ARE(x, 0, 9, 0, 0, 0, 9, 2, 3, 4, 9, 2, 3, 4);
    /* x[:, 1::2] = [[-1], [-2], [-3]] */
    col = ARRAY(dtype, S31, -1, -2, -3);
    const ad_index odd[] = {RANGE(0, 3, 1), RANGE(1, 4, 2)};
    OK(ad_array_write_slice(x, odd, 2, col));
    VALUES_ARE(x, 0, 9, -1, 0, -1, 9, -2, 3, -2, 9, -3, 3, -3);
    /* x[-1, ::-1] = [1, 2, 3, 4] */
    const ad_index last_rev[] = {AT(-1), RANGE(3, -1, -1)};
    OK(ad_array_write_slice(x, last_rev, 2, row));
    VALUES_ARE(x, 0, 9, -1, 0, -1, 9, -2, 3, -2, 4, 3, 2, 1);
    /* the whole array (n = 0), from the other dtype: converted */
    half = ARRAY(dtype == AD_FLOAT32 ? AD_FLOAT64 : AD_FLOAT32, S1, 0.1);
    OK(ad_array_write_slice(x, NULL, 0, half));
    CHECK(dtype_is(x, dtype));
    {
        const double f = (double)0.1f; /* 0.1 passed through float32 on one side or the other */
        VALUES_ARE(x, tol, f, f, f, f, f, f, f, f, f, f, f, f);
    }
    /* a full-shape source */
    src = ARRAY(dtype, S34, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    OK(ad_array_write_slice(x, NULL, 0, src));
    VALUES_ARE(x, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);

    /* a source that does not broadcast; an index out of range: nothing is written */
    v = ARRAY(dtype, S3, 7, 7, 7);
    FAILS(ad_array_write_slice(x, rows12, 1, v), AD_ERR_SHAPE);
    MESSAGE_HAS("(3,)");
    big = ARRAY(dtype, S24, 1, 1, 1, 1, 1, 1, 1, 1);
    const ad_index row0[] = {AT(0)};
    FAILS(ad_array_write_slice(x, row0, 1, big), AD_ERR_SHAPE);
    const ad_index row3[] = {AT(3)};
    FAILS(ad_array_write_slice(x, row3, 1, nine), AD_ERR_INDEX);
    VALUES_ARE(x, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);

    /* a single element, x[2, 3], from a 0-d source */
    ad_array *s0;
    if (dtype == AD_FLOAT32) {
        const float m5 = -5;
        MAKE(s0, ad_array_create(&m5, NULL, 0, dtype, &s0));
    } else {
        const double m5 = -5;
        MAKE(s0, ad_array_create(&m5, NULL, 0, dtype, &s0));
    }
    const ad_index elem[] = {AT(2), AT(3)};
    OK(ad_array_write_slice(x, elem, 2, s0));
    VALUES_ARE(x, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -5);

    /* inside a record scope, writing into an array in the graph is refused */
    ad_array *w = ARRAY(dtype, S2, 1, 2), *y;
    OK(ad_array_attach_grad(w, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_mul_scalar(w, 2, &y));
    FAILS(ad_array_write_slice(w, NULL, 0, nine), AD_ERR_AUTOGRAD);
    FAILS(ad_array_write_slice(y, NULL, 0, nine), AD_ERR_AUTOGRAD);
    /* ... and so is writing a recorded value into a plain array */
    MAKE(other, ad_array_zeros(S2, 1, dtype, &other));
    FAILS(ad_array_write_slice(other, NULL, 0, y), AD_ERR_AUTOGRAD);
    OK(ad_record_end());
    VALUES_ARE(w, 0, 1, 2);
    /* outside the scope it is allowed */
    OK(ad_array_write_slice(w, NULL, 0, nine));
    VALUES_ARE(w, 0, 9, 9);
    free_all();
}

static void test_update(uint32_t dtype) {
    ad_array *x, *y, *row, *col, *half, *view, *w, *r, *plain, *bad;
    const uint32_t other = dtype == AD_FLOAT32 ? AD_FLOAT64 : AD_FLOAT32;
    x = ARRAY(dtype, S34, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    y = ARRAY(dtype, S34, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    /* same shape: x += y, x -= y, x *= y, x /= y */
    OK(ad_array_update(x, y, AD_UPDATE_ADD));
    VALUES_ARE(x, 0, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13);
    OK(ad_array_update(x, y, AD_UPDATE_SUB));
    VALUES_ARE(x, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    OK(ad_array_update(x, y, AD_UPDATE_MUL));
    VALUES_ARE(x, 0, 12, 22, 30, 36, 40, 42, 42, 40, 36, 30, 22, 12);
    OK(ad_array_update(x, y, AD_UPDATE_DIV));
    VALUES_ARE(x, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    /* broadcast sources: a row, a column */
    row = ARRAY(dtype, S4, 1, 2, 3, 4);
    OK(ad_array_update(x, row, AD_UPDATE_SUB));
    VALUES_ARE(x, 0, 0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8);
    col = ARRAY(dtype, S31, 1, 2, 3);
    OK(ad_array_update(x, col, AD_UPDATE_ADD));
    VALUES_ARE(x, 0, 1, 1, 1, 1, 6, 6, 6, 6, 11, 11, 11, 11);
    /* the other dtype is converted; the array keeps its own */
    half = ARRAY(other, S1, 0.5);
    OK(ad_array_update(x, half, AD_UPDATE_MUL));
    CHECK(dtype_is(x, dtype));
    VALUES_ARE(x, 0, 0.5, 0.5, 0.5, 0.5, 3, 3, 3, 3, 5.5, 5.5, 5.5, 5.5);
    /* through a view: the array under it changes */
    const ad_index rows12[] = {RANGE(1, 3, 1)};
    MAKE(view, ad_array_slice(x, rows12, 1, &view));
    OK(ad_array_update(view, view, AD_UPDATE_ADD));
    VALUES_ARE(x, 0, 0.5, 0.5, 0.5, 0.5, 6, 6, 6, 6, 11, 11, 11, 11);
    /* a source that does not broadcast, or a bad op: an error, nothing written */
    bad = ARRAY(dtype, S3, 1, 1, 1);
    FAILS(ad_array_update(x, bad, AD_UPDATE_ADD), AD_ERR_SHAPE);
    MESSAGE_HAS("(3, 4)");
    MESSAGE_HAS("(3,)");
    FAILS(ad_array_update(row, x, AD_UPDATE_ADD), AD_ERR_SHAPE);
    VALUES_ARE(row, 0, 1, 2, 3, 4);
    FAILS(ad_array_update(x, y, 4), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_update_op");
    FAILS(ad_array_update(x, NULL, AD_UPDATE_ADD), AD_ERR_NULL_ARGUMENT);
    VALUES_ARE(x, 0, 0.5, 0.5, 0.5, 0.5, 6, 6, 6, 6, 11, 11, 11, 11);
    /* inside a record scope an array in the graph is not updated, nor is a recorded value
       written into a plain one */
    w = ARRAY(dtype, S2, 1, 2);
    OK(ad_array_attach_grad(w, AD_GRAD_WRITE));
    MAKE(plain, ad_array_zeros(S2, 1, dtype, &plain));
    OK(ad_record_begin(true));
    MAKE(r, ad_mul_scalar(w, 2, &r));
    FAILS(ad_array_update(w, plain, AD_UPDATE_SUB), AD_ERR_AUTOGRAD);
    FAILS(ad_array_update(plain, r, AD_UPDATE_ADD), AD_ERR_AUTOGRAD);
    OK(ad_record_end());
    VALUES_ARE(w, 0, 1, 2);
    OK(ad_array_update(w, r, AD_UPDATE_SUB));
    VALUES_ARE(w, 0, -1, -2);
    free_all();
}

static void test_slice_views(uint32_t dtype) {
    ad_array *a, *view, *at, *copy, *hundred, *minus, *seven, *b, *vb;
    a = arange_234(dtype);
    hundred = ARRAY(dtype, S1, 100);
    minus = ARRAY(dtype, S1, -1);
    seven = ARRAY(dtype, S1, 7);

    /* a[1:2] is a view: writing through it changes a */
    const ad_index lead[] = {RANGE(1, 2, 1)};
    MAKE(view, ad_array_slice(a, lead, 1, &view));
    SHAPE_IS(view, 1, 3, 4);
    OK(ad_array_write_slice(view, NULL, 0, hundred));
    {
        double e[24];
        for (int i = 0; i < 24; i++) e[i] = i < 12 ? i : 100;
        CHECK(values_near(a, e, 24, 0));
    }
    /* a[0] is a view too; and writing into a shows through the views */
    const ad_index at0[] = {AT(0)};
    MAKE(at, ad_array_slice(a, at0, 1, &at));
    const ad_index first_row[] = {AT(0)};
    OK(ad_array_write_slice(at, first_row, 1, minus));
    VALUES_ARE(a, 0, -1, -1, -1, -1, 4, 5, 6, 7, 8, 9, 10, 11, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100,
               100);
    const ad_index a10[] = {AT(1), AT(0)};
    OK(ad_array_write_slice(a, a10, 2, seven));
    VALUES_ARE(view, 0, 7, 7, 7, 7, 100, 100, 100, 100, 100, 100, 100, 100);
    const ad_index a02[] = {AT(0), AT(2)};
    OK(ad_array_write_slice(a, a02, 2, seven));
    VALUES_ARE(at, 0, -1, -1, -1, -1, 4, 5, 6, 7, 7, 7, 7, 7);

    /* a[:, 0] indexes a later axis: a copy, so writing into it leaves a alone */
    const ad_index col[] = {RANGE(0, 2, 1), AT(0)};
    MAKE(copy, ad_array_slice(a, col, 2, &copy));
    SHAPE_IS(copy, 2, 4);
    VALUES_ARE(copy, 0, -1, -1, -1, -1, 7, 7, 7, 7);
    OK(ad_array_write_slice(copy, NULL, 0, hundred));
    VALUES_ARE(a, 0, -1, -1, -1, -1, 4, 5, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 100, 100, 100, 100, 100, 100, 100, 100);

    /* freeing the source keeps a view's data alive */
    b = NULL;
    OK(ad_array_arange(1, 7, 1, dtype, &b)); /* freed by hand below, not by free_all */
    const ad_index mid[] = {RANGE(2, 6, 1)};
    MAKE(vb, ad_array_slice(b, mid, 1, &vb));
    OK(ad_array_free(b));
    SHAPE_IS(vb, 4);
    VALUES_ARE(vb, 0, 3, 4, 5, 6);
    OK(ad_array_write_slice(vb, NULL, 0, seven));
    VALUES_ARE(vb, 0, 7, 7, 7, 7);
    free_all();
}

static void test_astype(void) {
    ad_array *f, *d, *r, *g;
    f = ARRAY(AD_FLOAT32, S23, 0.1, 1.5, -2, 3, 1e-3, 65504);
    MAKE(r, ad_array_astype(f, AD_FLOAT64, &r));
    SHAPE_IS(r, 2, 3);
    CHECK(dtype_is(r, AD_FLOAT64));
    VALUES_ARE(r, 0, (double)0.1f, 1.5, -2, 3, (double)1e-3f, 65504);

    d = ARRAY(AD_FLOAT64, S3, 0.1, 1.0 / 3, -1e300);
    MAKE(r, ad_array_astype(d, AD_FLOAT32, &r));
    SHAPE_IS(r, 3);
    CHECK(dtype_is(r, AD_FLOAT32));
    double v[3] = {0, 0, 0};
    OK(ad_array_read(r, AD_FLOAT64, v, 3));
    CHECK(v[0] == (double)0.1f);
    CHECK(v[1] == (double)(float)(1.0 / 3));
    CHECK(isinf(v[2]) && v[2] < 0);

    /* to its own dtype: the same values */
    MAKE(r, ad_array_astype(d, AD_FLOAT64, &r));
    CHECK(dtype_is(r, AD_FLOAT64));
    VALUES_ARE(r, 0, 0.1, 1.0 / 3, -1e300);

    /* gradients flow back converted */
    ad_array *x = ARRAY(AD_FLOAT32, S2, 1, 2), *y, *z;
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_array_astype(x, AD_FLOAT64, &y));
    MAKE(z, ad_mul_scalar(y, 3, &z));
    OK(ad_record_end());
    OK(ad_backward(z, NULL, false));
    g = grad_of(x);
    CHECK(dtype_is(g, AD_FLOAT32));
    VALUES_ARE(g, 0, 3, 3);

    FAILS_OUT(r, ad_array_astype(d, 9, &r), AD_ERR_DTYPE);
    free_all();
}

static void test_max_min(uint32_t dtype) {
    const int64_t ax1[] = {1}, ax02[] = {0, 2}, axm1[] = {-1}, ax0[] = {0}, ax12[] = {1, 2}, axm3m1[] = {-3, -1},
                  bad[] = {3};
    ad_array *b, *r, *e;
    const size_t s234[] = {2, 3, 4};
    b = ARRAY(dtype, s234, 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4);

    MAKE(r, ad_max(b, ax1, 1, false, &r));
    SHAPE_IS(r, 2, 4);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, 0, 5, 9, 5, 8, 9, 7, 9, 4);
    MAKE(r, ad_max(b, ax02, 2, false, &r));
    SHAPE_IS(r, 3);
    VALUES_ARE(r, 0, 9, 9, 8);
    MAKE(r, ad_max(b, axm3m1, 2, false, &r));
    SHAPE_IS(r, 3);
    VALUES_ARE(r, 0, 9, 9, 8);
    MAKE(r, ad_max(b, ax12, 2, true, &r));
    SHAPE_IS(r, 2, 1, 1);
    VALUES_ARE(r, 0, 9, 9);
    MAKE(r, ad_max(b, NULL, 0, false, &r));
    SHAPE_IS(r, 1);
    VALUES_ARE(r, 0, 9);

    MAKE(r, ad_min(b, axm1, 1, true, &r));
    SHAPE_IS(r, 2, 3, 1);
    CHECK(dtype_is(r, dtype));
    VALUES_ARE(r, 0, 1, 2, 3, 3, 2, 2);
    MAKE(r, ad_min(b, ax0, 1, false, &r));
    SHAPE_IS(r, 3, 4);
    VALUES_ARE(r, 0, 3, 1, 4, 1, 2, 3, 2, 4, 5, 2, 5, 4);
    MAKE(r, ad_min(b, NULL, 0, false, &r));
    SHAPE_IS(r, 1);
    VALUES_ARE(r, 0, 1);
    MAKE(r, ad_min(b, NULL, 0, true, &r));
    SHAPE_IS(r, 1, 1, 1);
    VALUES_ARE(r, 0, 1);

    FAILS_OUT(r, ad_max(b, bad, 1, false, &r), AD_ERR_SHAPE);
    FAILS_OUT(r, ad_min(b, bad, 1, false, &r), AD_ERR_SHAPE);
    /* a zero-size axis */
    const size_t s02[] = {0, 2};
    MAKE(e, ad_array_zeros(s02, 2, dtype, &e));
    FAILS_OUT(r, ad_max(e, ax0, 1, false, &r), AD_ERR_SHAPE);
    FAILS_OUT(r, ad_min(e, NULL, 0, false, &r), AD_ERR_SHAPE);
    free_all();
}

/* ---- dropout -------------------------------------------------------------------------- */

static void test_dropout(void) {
    enum { N = 10000 };
    const size_t shape[] = {100, 100};
    const double p = 0.3;
    ad_array *x, *y1, *y2, *y3, *r;
    MAKE(x, ad_array_full(shape, 2, 2, AD_FLOAT32, &x));

    /* training mode: about p of the elements are 0, the others x / (1 - p) */
    OK(ad_random_seed(5));
    OK(ad_record_begin(true));
    MAKE(y1, ad_dropout(x, p, &y1));
    OK(ad_record_end());
    SHAPE_IS(y1, 100, 100);
    CHECK(dtype_is(y1, AD_FLOAT32));
    double *v1 = read_all(y1, N);
    int zeros = 0, scaled = 0;
    for (int i = 0; i < N; i++) {
        zeros += v1[i] == 0;
        scaled += fabs(v1[i] - 2 / (1 - p)) < 1e-5;
    }
    CHECK(zeros + scaled == N);
    CHECK(zeros > 2700 && zeros < 3300); /* 3000 ± 6.5 standard deviations */
    if (zeros <= 2700 || zeros >= 3300) fprintf(stderr, "  dropout zeroed %d of %d\n", zeros, N);

    /* the same seed gives the same mask; another seed another */
    OK(ad_random_seed(5));
    OK(ad_record_begin(true));
    MAKE(y2, ad_dropout(x, p, &y2));
    OK(ad_record_end());
    double *v2 = read_all(y2, N);
    CHECK(memcmp(v1, v2, N * sizeof(double)) == 0);
    OK(ad_random_seed(6));
    OK(ad_train_mode_begin()); /* training mode without recording drops too */
    MAKE(y3, ad_dropout(x, p, &y3));
    OK(ad_train_mode_end());
    double *v3 = read_all(y3, N);
    CHECK(memcmp(v1, v3, N * sizeof(double)) != 0);
    zeros = 0;
    for (int i = 0; i < N; i++) zeros += v3[i] == 0;
    CHECK(zeros > 2700 && zeros < 3300);
    free(v1);
    free(v2);
    free(v3);

    /* another p: 0.75 */
    OK(ad_record_begin(true));
    MAKE(r, ad_dropout(x, 0.75, &r));
    OK(ad_record_end());
    double *v = read_all(r, N);
    zeros = 0;
    scaled = 0;
    for (int i = 0; i < N; i++) {
        zeros += v[i] == 0;
        scaled += fabs(v[i] - 8) < 1e-5;
    }
    free(v);
    CHECK(zeros + scaled == N);
    CHECK(zeros > 7200 && zeros < 7800);

    /* prediction mode (record(false)), outside any scope, predict mode, and p = 0: x itself */
    OK(ad_record_begin(false));
    MAKE(r, ad_dropout(x, p, &r));
    OK(ad_record_end());
    v = read_all(r, N);
    int all_two = 1;
    for (int i = 0; i < N; i++) all_two &= v[i] == 2;
    CHECK(all_two);
    free(v);
    MAKE(r, ad_dropout(x, p, &r));
    v = read_all(r, N);
    all_two = 1;
    for (int i = 0; i < N; i++) all_two &= v[i] == 2;
    CHECK(all_two);
    free(v);
    OK(ad_record_begin(true));
    OK(ad_predict_mode_begin());
    MAKE(r, ad_dropout(x, p, &r));
    OK(ad_predict_mode_end());
    MAKE(y1, ad_dropout(x, 0, &y1));
    OK(ad_record_end());
    v = read_all(r, N);
    all_two = 1;
    for (int i = 0; i < N; i++) all_two &= v[i] == 2;
    CHECK(all_two);
    free(v);
    v = read_all(y1, N);
    all_two = 1;
    for (int i = 0; i < N; i++) all_two &= v[i] == 2;
    CHECK(all_two);
    free(v);

    /* float64 too, and a small shape */
    ad_array *d = ARRAY(AD_FLOAT64, S4, 1, 2, 3, 4);
    OK(ad_record_begin(true));
    MAKE(r, ad_dropout(d, 0.5, &r));
    OK(ad_record_end());
    CHECK(dtype_is(r, AD_FLOAT64));
    double dv[4] = {0};
    OK(ad_array_read(r, AD_FLOAT64, dv, 4));
    for (int i = 0; i < 4; i++) CHECK(dv[i] == 0 || dv[i] == 2 * (i + 1));

    /* p outside [0, 1) */
    FAILS_OUT(r, ad_dropout(x, 1, &r), AD_ERR_INVALID_ARGUMENT);
    FAILS_OUT(r, ad_dropout(x, -0.1, &r), AD_ERR_INVALID_ARGUMENT);
    FAILS_OUT(r, ad_dropout(x, 1.5, &r), AD_ERR_INVALID_ARGUMENT);
    FAILS_OUT(r, ad_dropout(x, NAN, &r), AD_ERR_INVALID_ARGUMENT);
    OK(ad_record_begin(true));
    FAILS_OUT(r, ad_dropout(x, 1, &r), AD_ERR_INVALID_ARGUMENT);
    OK(ad_record_end());

    /* the gradient is the mask: 1 / (1 - p) where kept, 0 where dropped */
    ad_array *w = ARRAY(AD_FLOAT64, S4, 1, 1, 1, 1), *yw, *g;
    OK(ad_array_attach_grad(w, AD_GRAD_WRITE));
    OK(ad_random_seed(11));
    OK(ad_record_begin(true));
    MAKE(yw, ad_dropout(w, 0.5, &yw));
    OK(ad_record_end());
    OK(ad_backward(yw, NULL, false));
    g = grad_of(w);
    double yv[4] = {0}, gv[4] = {0};
    OK(ad_array_read(yw, AD_FLOAT64, yv, 4));
    OK(ad_array_read(g, AD_FLOAT64, gv, 4));
    CHECK(memcmp(yv, gv, sizeof yv) == 0);
    free_all();
}

/* ---- batch normalisation ---------------------------------------------------------------- */

static void test_batch_norm(uint32_t dtype) {
    const double tol = dtype == AD_FLOAT32 ? 1e-4 : 1e-9;
    ad_array *x, *gamma, *beta, *rm, *rv, *y, *bad;
    x = ARRAY(dtype, S42, 1, 10, 2, 20, 3, 30, 4, 60);
    gamma = ARRAY(dtype, S2, 2, -0.5);
    beta = ARRAY(dtype, S2, 1, 3);
    ad_array *zeros2 = ARRAY(dtype, S2, 0, 0);

    /* training (record(true)), fix_gamma: the batch statistics, running ones updated */
    rm = ARRAY(dtype, S2, 0, 0);
    rv = ARRAY(dtype, S2, 1, 1);
    OK(ad_record_begin(true));
    MAKE(y, ad_batch_norm(x, gamma, zeros2, rm, rv, 0.9, 1e-5, 1, true, false, &y));
    OK(ad_record_end());
    SHAPE_IS(y, 4, 2);
    CHECK(dtype_is(y, dtype));
    VALUES_ARE(y, tol, -1.3416354199689269, -1.0690449523776269, -0.447211806656309, -0.5345224761888134,
               0.447211806656309, 0, 1.3416354199689269, 1.6035674285664403);
    VALUES_ARE(rm, tol, 0.25, 3.0);
    VALUES_ARE(rv, tol, 1.025, 35.9); /* biased batch variance: 1.25 and 350 */
    /* a second training step moves them again */
    OK(ad_train_mode_begin());
    MAKE(y, ad_batch_norm(x, gamma, zeros2, rm, rv, 0.9, 1e-5, 1, true, false, &y));
    OK(ad_train_mode_end());
    VALUES_ARE(y, tol, -1.3416354199689269, -1.0690449523776269, -0.447211806656309, -0.5345224761888134,
               0.447211806656309, 0, 1.3416354199689269, 1.6035674285664403);
    VALUES_ARE(rm, tol, 0.25 * 0.9 + 0.25, 3.0 * 0.9 + 3.0);
    VALUES_ARE(rv, tol, 1.025 * 0.9 + 0.125, 35.9 * 0.9 + 35);

    /* training with gamma and beta */
    rm = ARRAY(dtype, S2, 0, 0);
    rv = ARRAY(dtype, S2, 1, 1);
    OK(ad_train_mode_begin());
    MAKE(y, ad_batch_norm(x, gamma, beta, rm, rv, 0.9, 1e-5, -1, false, false, &y));
    OK(ad_train_mode_end());
    VALUES_ARE(y, tol, -1.6832708399378538, 3.5345224761888137, 0.105576386687382, 3.267261238094407,
               1.894423613312618, 3.0, 3.6832708399378538, 2.19821628571678);
    VALUES_ARE(rm, tol, 0.25, 3.0);
    VALUES_ARE(rv, tol, 1.025, 35.9);
    /* with fix_gamma, gamma is unused but beta is added */
    OK(ad_train_mode_begin());
    MAKE(y, ad_batch_norm(x, gamma, beta, rm, rv, 0.9, 1e-5, 1, true, false, &y));
    OK(ad_train_mode_end());
    VALUES_ARE(y, tol, -1.3416354199689269 + 1, -1.0690449523776269 + 3, -0.447211806656309 + 1,
               -0.5345224761888134 + 3, 0.447211806656309 + 1, 3, 1.3416354199689269 + 1, 1.6035674285664403 + 3);

    /* prediction: the running statistics, unchanged; predict mode, record(false), no scope */
    rm = ARRAY(dtype, S2, 2, 25);
    rv = ARRAY(dtype, S2, 4, 100);
    OK(ad_predict_mode_begin());
    MAKE(y, ad_batch_norm(x, gamma, zeros2, rm, rv, 0.9, 1e-5, 1, true, false, &y));
    OK(ad_predict_mode_end());
    VALUES_ARE(y, tol, -0.49999937500117186, -1.4999999250000056, 0.0, -0.4999999750000019, 0.49999937500117186,
               0.4999999750000019, 0.9999987500023437, 3.499999825000013);
    VALUES_ARE(rm, 0, 2, 25);
    VALUES_ARE(rv, 0, 4, 100);
    MAKE(y, ad_batch_norm(x, gamma, beta, rm, rv, 0.9, 1e-5, 1, false, false, &y));
    VALUES_ARE(y, tol, 1.2499976562718729e-06, 3.7499999625000027, 1.0, 3.2499999875000007, 1.9999987500023437,
               2.7500000124999993, 2.9999975000046875, 1.2500000874999935);
    OK(ad_record_begin(false));
    MAKE(y, ad_batch_norm(x, gamma, beta, rm, rv, 0.9, 1e-5, 1, false, false, &y));
    OK(ad_record_end());
    VALUES_ARE(y, tol, 1.2499976562718729e-06, 3.7499999625000027, 1.0, 3.2499999875000007, 1.9999987500023437,
               2.7500000124999993, 2.9999975000046875, 1.2500000874999935);
    VALUES_ARE(rm, 0, 2, 25);
    VALUES_ARE(rv, 0, 4, 100);

    /* use_global_stats: the running statistics even in training, and they stay */
    OK(ad_record_begin(true));
    MAKE(y, ad_batch_norm(x, gamma, zeros2, rm, rv, 0.9, 1e-5, 1, true, true, &y));
    OK(ad_record_end());
    VALUES_ARE(y, tol, -0.49999937500117186, -1.4999999250000056, 0.0, -0.4999999750000019, 0.49999937500117186,
               0.4999999750000019, 0.9999987500023437, 3.499999825000013);
    VALUES_ARE(rm, 0, 2, 25);
    VALUES_ARE(rv, 0, 4, 100);

    /* channels on axis 0: xᵀ (2, 4) gives the transposed result */
    ad_array *xt, *yt;
    MAKE(xt, ad_array_transpose(x, NULL, 0, &xt));
    rm = ARRAY(dtype, S2, 0, 0);
    rv = ARRAY(dtype, S2, 1, 1);
    OK(ad_train_mode_begin());
    MAKE(yt, ad_batch_norm(xt, gamma, zeros2, rm, rv, 0.9, 1e-5, 0, true, false, &yt));
    OK(ad_train_mode_end());
    SHAPE_IS(yt, 2, 4);
    VALUES_ARE(yt, tol, -1.3416354199689269, -0.447211806656309, 0.447211806656309, 1.3416354199689269,
               -1.0690449523776269, -0.5345224761888134, 0, 1.6035674285664403);
    VALUES_ARE(rm, tol, 0.25, 3.0);
    VALUES_ARE(rv, tol, 1.025, 35.9);

    /* a wrong-shaped gamma (named), running statistic, beta; an axis out of range */
    rm = ARRAY(dtype, S2, 0, 0);
    rv = ARRAY(dtype, S2, 1, 1);
    bad = ARRAY(dtype, S3, 1, 1, 1);
    FAILS_OUT(y, ad_batch_norm(x, bad, beta, rm, rv, 0.9, 1e-5, 1, false, false, &y), AD_ERR_SHAPE);
    MESSAGE_HAS("gamma");
    MESSAGE_HAS("(3,)");
    OK(ad_train_mode_begin());
    FAILS_OUT(y, ad_batch_norm(x, bad, beta, rm, rv, 0.9, 1e-5, 1, true, false, &y), AD_ERR_SHAPE);
    FAILS_OUT(y, ad_batch_norm(x, gamma, beta, rm, bad, 0.9, 1e-5, 1, true, false, &y), AD_ERR_SHAPE);
    MESSAGE_HAS("running_var");
    FAILS_OUT(y, ad_batch_norm(x, gamma, bad, rm, rv, 0.9, 1e-5, 1, true, false, &y), AD_ERR_SHAPE);
    MESSAGE_HAS("beta");
    FAILS_OUT(y, ad_batch_norm(x, gamma, beta, rm, rv, 0.9, 1e-5, 2, true, false, &y), AD_ERR_SHAPE);
    OK(ad_train_mode_end());
    /* the failures changed no running statistic */
    VALUES_ARE(rm, 0, 0, 0);
    VALUES_ARE(rv, 0, 1, 1);
    free_all();
}

/* Per-channel statistics of a 4-d NCHW batch normalised in training mode. */
static void test_batch_norm_statistics(uint32_t dtype) {
    enum { N = 4, C = 3, H = 5, W = 6, SIZE = N * C * H * W, PER = N * H * W };
    const size_t shape[] = {N, C, H, W};
    ad_array *x, *gamma, *beta, *rm, *rv, *y;
    OK(ad_random_seed(3));
    MAKE(x, ad_random_normal(3, 2, shape, 4, dtype, &x));
    gamma = ARRAY(dtype, S3, 1, 1, 1);
    beta = ARRAY(dtype, S3, 0, 0, 0);
    rm = ARRAY(dtype, S3, 1, 2, 3);
    rv = ARRAY(dtype, S3, 4, 5, 6);
    OK(ad_record_begin(true));
    MAKE(y, ad_batch_norm(x, gamma, beta, rm, rv, 0.8, 1e-5, 1, true, false, &y));
    OK(ad_record_end());
    SHAPE_IS(y, N, C, H, W);
    double *xv = read_all(x, SIZE), *yv = read_all(y, SIZE), rmv[C], rvv[C];
    OK(ad_array_read(rm, AD_FLOAT64, rmv, C));
    OK(ad_array_read(rv, AD_FLOAT64, rvv, C));
    for (int c = 0; c < C; c++) {
        double xm = 0, xs = 0, ym = 0, ys = 0;
        for (int n = 0; n < N; n++) {
            for (int k = 0; k < H * W; k++) {
                xm += xv[(n * C + c) * H * W + k];
                ym += yv[(n * C + c) * H * W + k];
            }
        }
        xm /= PER;
        ym /= PER;
        for (int n = 0; n < N; n++) {
            for (int k = 0; k < H * W; k++) {
                double dx = xv[(n * C + c) * H * W + k] - xm, dy = yv[(n * C + c) * H * W + k] - ym;
                xs += dx * dx;
                ys += dy * dy;
            }
        }
        xs /= PER; /* biased */
        ys /= PER;
        CHECK(fabs(ym) < 1e-5);
        CHECK(fabs(ys - 1) < 1e-4);
        CHECK(fabs(rmv[c] - ((c + 1) * 0.8 + xm * 0.2)) < 1e-5);
        CHECK(fabs(rvv[c] - ((c + 4) * 0.8 + xs * 0.2)) < 1e-4);
    }
    free(xv);
    free(yv);
    free_all();
}

/* ---- optimizer updates ------------------------------------------------------------------ */

static void test_sgd(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *w, *g, *same;
    g = ARRAY(dtype, S4, 0.5, 4, -6, 0.1);

    /* lr 0.1, wd 0.01, rescale 0.5, clip 1: (1 - 0.001)·w - 0.1·clip(0.5·g) */
    w = ARRAY(dtype, S4, 1, -2, 3, 0.5);
    OK(ad_sgd_update(w, g, 0.1, 0.01, 0.5, 1));
    VALUES_ARE(w, tol, 0.974, -2.098, 3.097, 0.4945);
    CHECK(dtype_is(w, dtype));
    VALUES_ARE(g, 0, 0.5, 4, -6, (dtype == AD_FLOAT32 ? (double)0.1f : 0.1)); /* the gradient is not touched */
    /* no clipping (clip < 0) */
    w = ARRAY(dtype, S4, 1, -2, 3, 0.5);
    OK(ad_sgd_update(w, g, 0.1, 0.01, 0.5, -1));
    VALUES_ARE(w, tol, 0.974, -2.198, 3.297, 0.4945);
    /* plain: w - lr·g */
    w = ARRAY(dtype, S4, 1, -2, 3, 0.5);
    OK(ad_sgd_update(w, g, 0.5, 0, 1, -1));
    VALUES_ARE(w, tol, 0.75, -4, 6, 0.45);
    /* clip 0 clips the gradient to 0: only the decay remains */
    w = ARRAY(dtype, S4, 1, -2, 3, 0.5);
    OK(ad_sgd_update(w, g, 0.1, 0.5, 1, 0));
    VALUES_ARE(w, tol, 0.95, -1.9, 2.85, 0.475);
    /* the gradient may be the weight itself: w - 0.25·w */
    same = ARRAY(dtype, S2, 2, -4);
    OK(ad_sgd_update(same, same, 0.25, 0, 1, -1));
    VALUES_ARE(same, tol, 1.5, -3);
    /* a 2-d weight */
    ad_array *w2 = ARRAY(dtype, S22, 1, 2, 3, 4), *g2 = ARRAY(dtype, S22, 1, 1, 1, 1);
    OK(ad_sgd_update(w2, g2, 1, 0, 2, -1));
    VALUES_ARE(w2, tol, -1, 0, 1, 2);
    free_all();
}

static void test_sgd_mom(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *w, *g, *m;
    w = ARRAY(dtype, S4, 1, -2, 3, 0.5);
    g = ARRAY(dtype, S4, 0.5, 4, -6, 0.1);
    m = ARRAY(dtype, S4, 0, 0, 0, 0);
    /* lr 0.1, momentum 0.9, wd 0.01, rescale 0.5, clip 1; two steps */
    OK(ad_sgd_mom_update(w, g, m, 0.1, 0.9, 0.01, 0.5, 1));
    VALUES_ARE(m, tol, -0.026, -0.098, 0.097, -0.0055);
    VALUES_ARE(w, tol, 0.974, -2.098, 3.097, 0.4945);
    OK(ad_sgd_mom_update(w, g, m, 0.1, 0.9, 0.01, 0.5, 1));
    VALUES_ARE(m, tol, -0.049374, -0.186102, 0.184203, -0.0104445);
    VALUES_ARE(w, tol, 0.924626, -2.284102, 3.281203, 0.4840555);

    /* by hand: w = [1, -2], g = [0.5, -1], lr 0.1, momentum 0.9, wd 0.1, no rescale or clip:
       m1 = -0.01·w - 0.1·g = [-0.06, 0.12], w1 = [0.94, -1.88];
       m2 = 0.9·m1 - 0.01·w1 - 0.1·g = [-0.1134, 0.2268], w2 = [0.8266, -1.6532] */
    ad_array *w2 = ARRAY(dtype, S2, 1, -2), *g2 = ARRAY(dtype, S2, 0.5, -1), *m2 = ARRAY(dtype, S2, 0, 0);
    OK(ad_sgd_mom_update(w2, g2, m2, 0.1, 0.9, 0.1, 1, -1));
    VALUES_ARE(m2, tol, -0.06, 0.12);
    VALUES_ARE(w2, tol, 0.94, -1.88);
    OK(ad_sgd_mom_update(w2, g2, m2, 0.1, 0.9, 0.1, 1, -1));
    VALUES_ARE(m2, tol, -0.1134, 0.2268);
    VALUES_ARE(w2, tol, 0.8266, -1.6532);
    free_all();
}

static void test_adam(uint32_t dtype) {
    const double tol = dtype == AD_FLOAT32 ? 2e-5 : 1e-12;
    ad_array *w, *g, *m, *v;
    g = ARRAY(dtype, S4, 0.5, 4, -6, 0.1);

    /* lr 0.01, β 0.9 / 0.999, ε 1e-8, no wd, rescale or clip; t = 0: lr_t = lr */
    w = ARRAY(dtype, S4, 1, -2, 3, 0.5);
    m = ARRAY(dtype, S4, 0.1, 0, -0.2, 0);
    v = ARRAY(dtype, S4, 0.01, 0, 0.04, 0);
    OK(ad_adam_update(w, g, m, v, 0.01, 0.9, 0.999, 1e-8, 0, 1, -1, 0));
    VALUES_ARE(m, tol, 0.14, 0.4, -0.78, 0.01);
    VALUES_ARE(v, tol, 0.01024, 0.016, 0.07596, 1e-5);
    VALUES_ARE(w, tol, 0.9861650366039507, -2.031622774101684, 3.028301021345111, 0.468377323398);
    /* t = 1 and t = 3: lr_t = lr·sqrt(1 - β2ᵗ) / (1 - β1ᵗ) */
    w = ARRAY(dtype, S4, 1, -2, 3, 0.5);
    m = ARRAY(dtype, S4, 0.1, 0, -0.2, 0);
    v = ARRAY(dtype, S4, 0.01, 0, 0.04, 0);
    OK(ad_adam_update(w, g, m, v, 0.01, 0.9, 0.999, 1e-8, 0, 1, -1, 1));
    VALUES_ARE(w, tol, 0.9956250004323426, -2.009999999209431, 3.008949568755959, 0.4900000316226766);
    VALUES_ARE(m, tol, 0.14, 0.4, -0.78, 0.01);
    w = ARRAY(dtype, S4, 1, -2, 3, 0.5);
    m = ARRAY(dtype, S4, 0.1, 0, -0.2, 0);
    v = ARRAY(dtype, S4, 0.01, 0, 0.04, 0);
    OK(ad_adam_update(w, g, m, v, 0.01, 0.9, 0.999, 1e-8, 0, 1, -1, 3));
    VALUES_ARE(w, tol, 0.9972051907788179, -2.0063881354889586, 3.0057171062300587, 0.4936118842070107);
    VALUES_ARE(v, tol, 0.01024, 0.016, 0.07596, 1e-5);

    /* wd 0.1, rescale 0.5, clip 1, t = 2: g' = clip(0.5·g + 0.1·w) */
    w = ARRAY(dtype, S4, 1, -2, 3, 0.5);
    m = ARRAY(dtype, S4, 0.1, 0, -0.2, 0);
    v = ARRAY(dtype, S4, 0.01, 0, 0.04, 0);
    OK(ad_adam_update(w, g, m, v, 0.01, 0.9, 0.999, 1e-8, 0.1, 0.5, 1, 2));
    VALUES_ARE(m, tol, 0.125, 0.1, -0.28, 0.01);
    VALUES_ARE(v, tol, 0.0101125, 0.001, 0.04096, 1e-5);
    VALUES_ARE(w, tol, 0.997074948623162, -2.0074413658825034, 3.0032555984422444, 0.4925586552959283);

    /* two steps from zero state, t = 1 then 2: lr 0.1, β 0.9 / 0.99, ε 1e-6 */
    w = ARRAY(dtype, S4, 1, -2, 3, 0.5);
    MAKE(m, ad_array_zeros(S4, 1, dtype, &m));
    MAKE(v, ad_array_zeros(S4, 1, dtype, &v));
    OK(ad_adam_update(w, g, m, v, 0.1, 0.9, 0.99, 1e-6, 0, 1, -1, 1));
    VALUES_ARE(w, tol, 0.9000019999600009, -2.099999750000625, 3.099999833333611, 0.4000099990001);
    OK(ad_adam_update(w, g, m, v, 0.1, 0.9, 0.99, 1e-6, 0, 1, -1, 2));
    VALUES_ARE(w, tol, 0.8000034177023106, -2.199999572780638, 3.199999715186883, 0.3000170873096731);
    VALUES_ARE(m, tol, 0.095, 0.76, -1.14, 0.019);
    VALUES_ARE(v, tol, 0.004975, 0.3184, 0.7164, 0.000199);
    free_all();
}

static void test_optimizer_errors(void) {
    ad_array *w, *g, *m, *v, *g3, *m22, *g64, *x, *y, *gx;
    w = ARRAY(AD_FLOAT32, S4, 1, 2, 3, 4);
    g = ARRAY(AD_FLOAT32, S4, 1, 1, 1, 1);
    m = ARRAY(AD_FLOAT32, S4, 0, 0, 0, 0);
    v = ARRAY(AD_FLOAT32, S4, 0, 0, 0, 0);
    g3 = ARRAY(AD_FLOAT32, S3, 1, 1, 1);
    m22 = ARRAY(AD_FLOAT32, S22, 0, 0, 0, 0);

    /* mismatched shapes, named */
    FAILS(ad_sgd_update(w, g3, 0.1, 0, 1, -1), AD_ERR_SHAPE);
    MESSAGE_HAS("(3,)");
    MESSAGE_HAS("(4,)");
    FAILS(ad_sgd_mom_update(w, g3, m, 0.1, 0.9, 0, 1, -1), AD_ERR_SHAPE);
    FAILS(ad_sgd_mom_update(w, g, m22, 0.1, 0.9, 0, 1, -1), AD_ERR_SHAPE);
    MESSAGE_HAS("(2, 2)");
    FAILS(ad_adam_update(w, g3, m, v, 0.1, 0.9, 0.999, 1e-8, 0, 1, -1, 0), AD_ERR_SHAPE);
    FAILS(ad_adam_update(w, g, m, m22, 0.1, 0.9, 0.999, 1e-8, 0, 1, -1, 0), AD_ERR_SHAPE);
    FAILS(ad_adam_update(w, g, m22, v, 0.1, 0.9, 0.999, 1e-8, 0, 1, -1, 1), AD_ERR_SHAPE);
    /* a gradient of another dtype: the header's AD_ERR_DTYPE ("the operands' dtypes differ") */
    g64 = ARRAY(AD_FLOAT64, S4, 1, 1, 1, 1);
    FAILS(ad_sgd_update(w, g64, 0.1, 0, 1, -1), AD_ERR_DTYPE);

    /* the same handle as weight and state, or as two states */
    FAILS(ad_sgd_mom_update(w, g, w, 0.1, 0.9, 0, 1, -1), AD_ERR_INVALID_ARGUMENT);
    FAILS(ad_adam_update(w, g, m, m, 0.1, 0.9, 0.999, 1e-8, 0, 1, -1, 0), AD_ERR_INVALID_ARGUMENT);
    FAILS(ad_adam_update(w, g, w, v, 0.1, 0.9, 0.999, 1e-8, 0, 1, -1, 0), AD_ERR_INVALID_ARGUMENT);
    FAILS(ad_adam_update(w, g, m, w, 0.1, 0.9, 0.999, 1e-8, 0, 1, -1, 0), AD_ERR_INVALID_ARGUMENT);
    /* ... or a handle sharing its data (a reshape) */
    const int64_t flat4[] = {4};
    ad_array *mview;
    MAKE(mview, ad_array_reshape(m, flat4, 1, &mview));
    FAILS(ad_adam_update(w, g, m, mview, 0.1, 0.9, 0.999, 1e-8, 0, 1, -1, 0), AD_ERR_INVALID_ARGUMENT);
    /* betas outside [0, 1) */
    FAILS(ad_adam_update(w, g, m, v, 0.1, 1, 0.999, 1e-8, 0, 1, -1, 0), AD_ERR_INVALID_ARGUMENT);
    FAILS(ad_adam_update(w, g, m, v, 0.1, 0.9, -0.5, 1e-8, 0, 1, -1, 0), AD_ERR_INVALID_ARGUMENT);
    /* nothing was written by the failures */
    VALUES_ARE(w, 0, 1, 2, 3, 4);
    VALUES_ARE(m, 0, 0, 0, 0, 0);
    VALUES_ARE(v, 0, 0, 0, 0, 0);

    /* a variable inside a record scope: refused; outside, or a plain array inside: allowed */
    x = ARRAY(AD_FLOAT32, S2, 1, 2);
    gx = ARRAY(AD_FLOAT32, S2, 1, 1);
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    ad_array *mx = ARRAY(AD_FLOAT32, S2, 0, 0), *vx = ARRAY(AD_FLOAT32, S2, 0, 0);
    OK(ad_record_begin(true));
    FAILS(ad_sgd_update(x, gx, 0.5, 0, 1, -1), AD_ERR_AUTOGRAD);
    FAILS(ad_sgd_mom_update(x, gx, mx, 0.5, 0.9, 0, 1, -1), AD_ERR_AUTOGRAD);
    FAILS(ad_adam_update(x, gx, mx, vx, 0.5, 0.9, 0.999, 1e-8, 0, 1, -1, 1), AD_ERR_AUTOGRAD);
    MAKE(y, ad_mul_scalar(x, 2, &y));
    FAILS(ad_sgd_update(y, gx, 0.5, 0, 1, -1), AD_ERR_AUTOGRAD);
    OK(ad_sgd_update(w, g, 0.5, 0, 1, -1));
    OK(ad_record_end());
    VALUES_ARE(x, 0, 1, 2);
    VALUES_ARE(mx, 0, 0, 0);
    VALUES_ARE(w, 0, 0.5, 1.5, 2.5, 3.5);
    OK(ad_sgd_update(x, gx, 0.5, 0, 1, -1));
    VALUES_ARE(x, 0, 0.5, 1.5);
    free_all();
}

/* ---- gradients ------------------------------------------------------------------------- */

static void test_grad_softmax_cross_entropy(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *logits, *labels, *loss, *g;
    logits = ARRAY(dtype, S34, 1, 2, 3, 4, 0.5, -1, 2, 0, 3, 3, 0, -2);
    labels = ARRAY(dtype, S3, 0, 3, 1);
    OK(ad_array_attach_grad(logits, AD_GRAD_WRITE));

    /* mean: (softmax - one_hot) / N */
    OK(ad_record_begin(true));
    MAKE(loss, ad_softmax_cross_entropy(logits, labels, false, &loss));
    OK(ad_record_end());
    OK(ad_backward(loss, NULL, false));
    g = grad_of(logits);
    SHAPE_IS(g, 3, 4);
    VALUES_ARE(g, tol, -0.32264713223997166, 0.029048106247344187, 0.07896093936330338, 0.21463808662932413,
               0.052814903171659905, 0.01178459780291629, 0.23669997429539144, -0.3012994752699676,
               0.16208571782135897, -0.17124761551197434, 0.008069772714626302, 0.0010921249759890395);

    /* the same from softmax and one_hot through the C API */
    ad_array *sm, *oh, *diff, *expect;
    MAKE(sm, ad_softmax(logits, 1, &sm));
    MAKE(oh, ad_one_hot(labels, 4, 1, 0, dtype, &oh));
    MAKE(diff, ad_sub(sm, oh, &diff));
    MAKE(expect, ad_div_scalar(diff, 3, &expect));
    double *ev = read_all(expect, 12);
    CHECK(values_near(g, ev, 12, tol));
    free(ev);

    /* sum: softmax - one_hot */
    OK(ad_record_begin(true));
    MAKE(loss, ad_softmax_cross_entropy(logits, labels, true, &loss));
    OK(ad_record_end());
    OK(ad_backward(loss, NULL, false));
    ev = read_all(diff, 12);
    CHECK(values_near(grad_of(logits), ev, 12, tol));
    free(ev);
    free_all();
}

static void test_grad_fully_connected(uint32_t dtype) {
    const double tol = tol_of(dtype);
    ad_array *x, *w, *b, *y, *hg;
    x = ARRAY(dtype, S23, 1, 2, 3, 4, 5, 6);
    w = ARRAY(dtype, S23, 1, 0, -1, 0.5, 1, 2);
    b = ARRAY(dtype, S2, 10, 20);
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_array_attach_grad(w, AD_GRAD_WRITE));
    OK(ad_array_attach_grad(b, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_fully_connected(x, w, b, true, &y));
    OK(ad_record_end());
    hg = ARRAY(dtype, S22, 1, 2, -1, 0.5);
    OK(ad_backward(y, hg, false));
    VALUES_ARE(grad_of(w), tol, -3, -3, -3, 4, 6.5, 9); /* gᵀx */
    VALUES_ARE(grad_of(x), tol, 2, 2, 3, -0.75, 0.5, 2); /* g·w */
    VALUES_ARE(grad_of(b), tol, 0, 2.5);                  /* Σ g over rows */

    /* without flatten on a 3-d input: the weight gradient sums over every leading position */
    ad_array *x3 = ARRAY(dtype, S213, 1, 2, 3, 4, 5, 6), *y3, *hg3;
    OK(ad_array_attach_grad(x3, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y3, ad_fully_connected(x3, w, NULL, false, &y3));
    OK(ad_record_end());
    SHAPE_IS(y3, 2, 1, 2);
    const size_t s212[] = {2, 1, 2};
    hg3 = ARRAY(dtype, s212, 1, 2, -1, 0.5);
    OK(ad_backward(y3, hg3, false));
    VALUES_ARE(grad_of(w), tol, -3, -3, -3, 4, 6.5, 9);
    ad_array *gx3 = grad_of(x3);
    SHAPE_IS(gx3, 2, 1, 3);
    VALUES_ARE(gx3, tol, 2, 2, 3, -0.75, 0.5, 2);
    free_all();
}

static void test_grad_concat_stack(uint32_t dtype) {
    ad_array *a, *b, *c, *y, *hg, *s;
    a = ARRAY(dtype, S22, 1, 2, 3, 4);
    b = ARRAY(dtype, S21, 5, 6);
    c = ARRAY(dtype, S12, 7, 8);
    OK(ad_array_attach_grad(a, AD_GRAD_WRITE));
    OK(ad_array_attach_grad(b, AD_GRAD_WRITE));
    OK(ad_array_attach_grad(c, AD_GRAD_WRITE));

    /* along axis 1: each input gets its columns of the head gradient */
    const ad_array *ab[] = {a, b};
    OK(ad_record_begin(true));
    MAKE(y, ad_concat(ab, 2, 1, &y));
    OK(ad_record_end());
    hg = ARRAY(dtype, S23, 1, 2, 3, 4, 5, 6);
    OK(ad_backward(y, hg, false));
    VALUES_ARE(grad_of(a), 0, 1, 2, 4, 5);
    ad_array *gb = grad_of(b);
    SHAPE_IS(gb, 2, 1);
    VALUES_ARE(gb, 0, 3, 6);

    /* along axis 0, with a used twice: its gradients add up */
    const ad_array *cac[] = {c, a, c};
    OK(ad_record_begin(true));
    MAKE(y, ad_concat(cac, 3, 0, &y));
    OK(ad_record_end());
    const size_t s42[] = {4, 2};
    hg = ARRAY(dtype, s42, 1, 2, 3, 4, 5, 6, 7, 8);
    OK(ad_backward(y, hg, false));
    VALUES_ARE(grad_of(a), 0, 3, 4, 5, 6);
    VALUES_ARE(grad_of(c), 0, 8, 10);

    /* stack along the new last axis */
    ad_array *p = ARRAY(dtype, S2, 1, 2), *q = ARRAY(dtype, S2, 3, 4);
    OK(ad_array_attach_grad(p, AD_GRAD_WRITE));
    OK(ad_array_attach_grad(q, AD_GRAD_WRITE));
    const ad_array *pq[] = {p, q};
    OK(ad_record_begin(true));
    MAKE(s, ad_stack(pq, 2, -1, &s));
    OK(ad_record_end());
    hg = ARRAY(dtype, S22, 1, 2, 3, 4);
    OK(ad_backward(s, hg, false));
    VALUES_ARE(grad_of(p), 0, 1, 3);
    VALUES_ARE(grad_of(q), 0, 2, 4);
    free_all();
}

/* pick, where and clip pass gradients where documented. */
static void test_grad_selection(void) {
    ad_array *a, *i, *y, *c, *u, *v, *x;
    a = ARRAY(AD_FLOAT64, S23, 1, 2, 3, 4, 5, 6);
    i = ARRAY(AD_FLOAT64, S2, 2, 0);
    OK(ad_array_attach_grad(a, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_pick(a, i, 1, false, &y));
    OK(ad_record_end());
    OK(ad_backward(y, NULL, false));
    VALUES_ARE(grad_of(a), 0, 0, 0, 1, 1, 0, 0);

    c = ARRAY(AD_FLOAT64, S21, 1, 0);
    u = ARRAY(AD_FLOAT64, S23, 1, 2, 3, 4, 5, 6);
    v = ARRAY(AD_FLOAT64, S13, -1, -2, -3);
    OK(ad_array_attach_grad(u, AD_GRAD_WRITE));
    OK(ad_array_attach_grad(v, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_where(c, u, v, &y));
    OK(ad_record_end());
    OK(ad_backward(y, NULL, false));
    VALUES_ARE(grad_of(u), 0, 1, 1, 1, 0, 0, 0);
    VALUES_ARE(grad_of(v), 0, 1, 1, 1);

    x = ARRAY(AD_FLOAT64, S23, -2, -1, 0, 0.5, 1, 3);
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_clip(x, -1, 1, &y));
    OK(ad_record_end());
    OK(ad_backward(y, NULL, false));
    VALUES_ARE(grad_of(x), 0, 0, 1, 1, 1, 1, 0); /* passes where -1 <= x <= 1 */
    free_all();
}

/* ---- in-place modification after recording ------------------------------------------------ */

static void test_inplace_detection(void) {
    ad_array *x, *w, *y, *nine, *g, *row, *big;
    x = ARRAY(AD_FLOAT32, S3, 1, 2, 3);
    w = ARRAY(AD_FLOAT32, S3, 4, 5, 6);
    nine = ARRAY(AD_FLOAT32, S1, 9);
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));

    /* mul saved w; writing into w afterwards makes its gradient wrong: refused */
    OK(ad_record_begin(true));
    MAKE(y, ad_mul(x, w, &y));
    OK(ad_record_end());
    const ad_index first[] = {RANGE(0, 1, 1)};
    OK(ad_array_write_slice(w, first, 1, nine));
    FAILS(ad_backward(y, NULL, false), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("modified in place");
    MESSAGE_HAS("`mul`");
    /* nothing was written into x's gradient */
    VALUES_ARE(grad_of(x), 0, 0, 0, 0);

    /* the same without the modification works: the gradient is w */
    OK(ad_record_begin(true));
    MAKE(y, ad_mul(x, w, &y));
    OK(ad_record_end());
    OK(ad_backward(y, NULL, false));
    VALUES_ARE(grad_of(x), 0, 9, 5, 6);

    /* a write through a view that shares w's data is seen as well */
    ad_array *w2 = ARRAY(AD_FLOAT32, S23, 1, 2, 3, 4, 5, 6), *x2 = ARRAY(AD_FLOAT32, S23, 1, 1, 1, 1, 1, 1);
    OK(ad_array_attach_grad(x2, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_mul(x2, w2, &y));
    OK(ad_record_end());
    MAKE(row, ad_array_slice(w2, first, 1, &row));
    OK(ad_array_write_slice(row, NULL, 0, nine));
    VALUES_ARE(w2, 0, 9, 9, 9, 4, 5, 6);
    FAILS(ad_backward(y, NULL, false), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("modified in place");
    MESSAGE_HAS("`mul`");

    /* an optimizer update of a saved input is an in-place write too */
    ad_array *x3 = ARRAY(AD_FLOAT64, S2, 1, 2), *w3 = ARRAY(AD_FLOAT64, S2, 3, 4), *g3 = ARRAY(AD_FLOAT64, S2, 1, 1);
    OK(ad_array_attach_grad(x3, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_mul(x3, w3, &y));
    MAKE(big, ad_sum(y, NULL, 0, false, &big));
    OK(ad_record_end());
    OK(ad_sgd_update(w3, g3, 1, 0, 1, -1));
    FAILS(ad_backward(big, NULL, false), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("modified in place");
    MESSAGE_HAS("`mul`");

    /* modifying x, the variable itself, after recording */
    OK(ad_record_begin(true));
    MAKE(y, ad_mul(x, w, &y));
    OK(ad_record_end());
    OK(ad_array_write_slice(x, NULL, 0, nine));
    FAILS(ad_backward(y, NULL, false), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("`mul`");
    g = grad_of(x);
    VALUES_ARE(g, 0, 9, 5, 6); /* unchanged from the last successful backward */
    free_all();
}

int main(void) {
    CHECK(strcmp(ad_last_error(), "") == 0);

    for (uint32_t dtype = AD_FLOAT32; dtype <= AD_FLOAT64; dtype++) {
        int before = check_failures;
        test_softmax(dtype);
        test_softmax_stability(dtype);
        test_softmax_cross_entropy(dtype);
        test_pick(dtype);
        test_argmax_argmin(dtype);
        test_clip(dtype);
        test_where(dtype);
        test_flatten(dtype);
        test_fully_connected(dtype);
        test_concat(dtype);
        test_stack(dtype);
        test_slice(dtype);
        test_write_slice(dtype);
        test_update(dtype);
        test_slice_views(dtype);
        test_max_min(dtype);
        test_batch_norm(dtype);
        test_batch_norm_statistics(dtype);
        test_sgd(dtype);
        test_sgd_mom(dtype);
        test_adam(dtype);
        test_grad_softmax_cross_entropy(dtype);
        test_grad_fully_connected(dtype);
        test_grad_concat_stack(dtype);
        if (check_failures != before) fprintf(stderr, "  (the failures above are for %s)\n", dtype_name(dtype));
    }
    test_one_hot();
    test_astype();
    test_dropout();
    test_optimizer_errors();
    test_grad_selection();
    test_inplace_detection();

    /* every scope opened was closed */
    CHECK(!ad_is_recording() && !ad_is_training());
    return CHECK_RESULT();
}
