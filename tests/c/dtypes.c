/*
 * Integer, bool and float16 arrays through the C API: made from host data of each type, read back
 * into buffers of each type, converted (ad_array_astype), printed as MXNet 1.9.1 prints them,
 * moved by the shape ops, and refused by the ops that compute.
 */
#include <stdint.h>

#include "check.h"

/* The dtype of `a` must be `expected`. */
#define DTYPE_IS(a, expected)                 \
    do {                                      \
        uint32_t dtype_ = 99;                 \
        OK(ad_array_dtype((a), &dtype_));     \
        CHECK(dtype_ == (uint32_t)(expected)); \
    } while (0)

static void test_create_and_read_each_dtype(void) {
    const uint8_t u8[4] = {0, 1, 200, 255};
    const int8_t i8[4] = {-128, -1, 0, 127};
    const int32_t i32[4] = {INT32_MIN, -1, 0, INT32_MAX};
    const int64_t i64[4] = {INT64_MIN, -1, 0, INT64_MAX};
    const unsigned char bools[4] = {0, 1, 2, 255}; /* any non-zero byte is true */
    ad_array *a;

    OK(ad_array_create(u8, S22, 2, AD_UINT8, &a));
    DTYPE_IS(a, AD_UINT8);
    uint8_t u8_back[4] = {9, 9, 9, 9};
    OK(ad_array_read(a, AD_UINT8, u8_back, 4));
    CHECK(memcmp(u8, u8_back, sizeof u8) == 0);
    TEXT_IS(a, "\n[[  0   1]\n [200 255]]\n<NDArray 2x2 @cpu(0)>");
    OK(ad_array_free(a));

    OK(ad_array_create(i8, S4, 1, AD_INT8, &a));
    int8_t i8_back[4] = {9, 9, 9, 9};
    OK(ad_array_read(a, AD_INT8, i8_back, 4));
    CHECK(memcmp(i8, i8_back, sizeof i8) == 0);
    TEXT_IS(a, "\n[-128   -1    0  127]\n<NDArray 4 @cpu(0)>");
    OK(ad_array_free(a));

    OK(ad_array_create(i32, S4, 1, AD_INT32, &a));
    int32_t i32_back[4] = {9, 9, 9, 9};
    OK(ad_array_read(a, AD_INT32, i32_back, 4));
    CHECK(memcmp(i32, i32_back, sizeof i32) == 0);
    TEXT_IS(a, "\n[-2147483648          -1           0  2147483647]\n<NDArray 4 @cpu(0)>");
    /* read into another dtype: converted as astype converts */
    double d[4];
    OK(ad_array_read(a, AD_FLOAT64, d, 4));
    CHECK(d[0] == -2147483648.0 && d[3] == 2147483647.0);
    int8_t narrow[4];
    OK(ad_array_read(a, AD_INT8, narrow, 4));
    CHECK(narrow[0] == 0 && narrow[1] == -1 && narrow[3] == -1);
    double scalar = 0;
    ad_array *one;
    const ad_index at3[1] = {{3, 0, 0}};
    OK(ad_array_slice(a, at3, 1, &one));
    OK(ad_array_asscalar(one, &scalar));
    CHECK(scalar == 2147483647.0);
    OK(ad_array_free(one));
    OK(ad_array_free(a));

    OK(ad_array_create(i64, S4, 1, AD_INT64, &a));
    int64_t i64_back[4] = {9, 9, 9, 9};
    OK(ad_array_read(a, AD_INT64, i64_back, 4));
    CHECK(memcmp(i64, i64_back, sizeof i64) == 0);
    OK(ad_array_free(a));

    OK(ad_array_create(bools, S4, 1, AD_BOOL, &a));
    unsigned char bools_back[4] = {9, 9, 9, 9};
    OK(ad_array_read(a, AD_BOOL, bools_back, 4));
    CHECK(bools_back[0] == 0 && bools_back[1] == 1 && bools_back[2] == 1 && bools_back[3] == 1);
    TEXT_IS(a, "\n[False  True  True  True]\n<NDArray 4 @cpu(0)>");
    float f[4];
    OK(ad_array_read(a, AD_FLOAT32, f, 4));
    CHECK(f[0] == 0 && f[1] == 1 && f[3] == 1);
    OK(ad_array_free(a));

    /* zeros, ones, full (the value converted), arange, eye */
    OK(ad_array_full(S3, 1, -2.9, AD_INT32, &a));
    TEXT_IS(a, "\n[-2 -2 -2]\n<NDArray 3 @cpu(0)>");
    OK(ad_array_free(a));
    OK(ad_array_zeros(S2, 1, AD_BOOL, &a));
    TEXT_IS(a, "\n[False False]\n<NDArray 2 @cpu(0)>");
    OK(ad_array_free(a));
    OK(ad_array_ones(S2, 1, AD_INT8, &a));
    TEXT_IS(a, "\n[1 1]\n<NDArray 2 @cpu(0)>");
    OK(ad_array_free(a));
    OK(ad_array_arange(0, 5, 1.5, AD_INT32, &a)); /* MXNet: [0 1 2 3] */
    TEXT_IS(a, "\n[0 1 2 3]\n<NDArray 4 @cpu(0)>");
    OK(ad_array_free(a));
    OK(ad_array_eye(2, 0, 0, AD_UINT8, &a));
    TEXT_IS(a, "\n[[1 0]\n [0 1]]\n<NDArray 2x2 @cpu(0)>");
    OK(ad_array_free(a));
    /* randint: int32 and int64 */
    OK(ad_random_randint(-5, 5, S34, 2, AD_INT32, &a));
    DTYPE_IS(a, AD_INT32);
    OK(ad_array_free(a));
    OK(ad_random_randint(-5, 5, S34, 2, AD_INT64, &a));
    DTYPE_IS(a, AD_INT64);
    OK(ad_array_free(a));
    FAILS(ad_random_randint(0, 5, S3, 1, AD_UINT8, &a), AD_ERR_DTYPE);
    MESSAGE_HAS("uint8");
    FAILS(ad_random_normal(0, 1, S3, 1, AD_INT32, &a), AD_ERR_DTYPE);
    MESSAGE_HAS("int32");
    /* 8 is no dtype (MXNet's codes stop at bool, 7) */
    FAILS(ad_array_zeros(S3, 1, 8, &a), AD_ERR_DTYPE);
    MESSAGE_HAS("AD_FLOAT16 = 2");
}

/* float16: IEEE binary16 bit patterns in, converted and printed as MXNet 1.9.1, computed on in
   float32 with float16 results, differentiated with a float16 gradient. */
static void test_float16(void) {
    const uint16_t h[4] = {0x3e00, 0x4080, 0x7bff, 0x0002}; /* 1.5, 2.25, 65504, 1.19e-07 */
    ad_array *a, *b, *g;
    OK(ad_array_create(h, S4, 1, AD_FLOAT16, &a));
    DTYPE_IS(a, AD_FLOAT16);
    uint16_t back[4] = {0};
    OK(ad_array_read(a, AD_FLOAT16, back, 4));
    CHECK(memcmp(h, back, sizeof h) == 0);
    float f[4];
    OK(ad_array_read(a, AD_FLOAT32, f, 4));
    CHECK(f[0] == 1.5f && f[1] == 2.25f && f[2] == 65504.0f && f[3] == 0x1p-23f);
    TEXT_IS(a, "\n[1.50e+00 2.25e+00 6.55e+04 1.19e-07]\n<NDArray 4 @cpu(0)>");
    double scalar;
    ad_array *one;
    const ad_index at2[1] = {{2, 0, 0}};
    OK(ad_array_slice(a, at2, 1, &one));
    OK(ad_array_asscalar(one, &scalar));
    CHECK(scalar == 65504.0);
    OK(ad_array_free(one));
    OK(ad_array_free(a));

    /* astype from float64 rounds to nearest even, as NumPy and MXNet */
    const double d[3] = {0.1, 65519.99, 65520.0};
    OK(ad_array_create(d, S3, 1, AD_FLOAT64, &a));
    OK(ad_array_astype(a, AD_FLOAT16, &b));
    OK(ad_array_read(b, AD_FLOAT16, back, 3));
    CHECK(back[0] == 0x2e66 && back[1] == 0x7bff && back[2] == 0x7c00);
    TEXT_IS(b, "\n[1.00e-01 6.55e+04      inf]\n<NDArray 3 @cpu(0)>");
    OK(ad_array_free(b));
    OK(ad_array_free(a));
    OK(ad_array_full(S3, 1, 0.1, AD_FLOAT16, &a));
    TEXT_IS(a, "\n[0.1 0.1 0.1]\n<NDArray 3 @cpu(0)>");
    OK(ad_array_free(a));

    /* exp of float16: MXNet 1.9.1's bits; a float16 variable gets a float16 gradient */
    const uint16_t x[4] = {0x3800, 0xbd00, 0x4000, 0x4200}; /* 0.5, -1.25, 2, 3 */
    OK(ad_array_create(x, S4, 1, AD_FLOAT16, &a));
    OK(ad_array_attach_grad(a, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    OK(ad_exp(a, &b));
    OK(ad_record_end());
    DTYPE_IS(b, AD_FLOAT16);
    OK(ad_array_read(b, AD_FLOAT16, back, 4));
    CHECK(back[0] == 0x3e98 && back[1] == 0x3496 && back[2] == 0x4764 && back[3] == 0x4d05);
    OK(ad_backward(b, NULL, false));
    OK(ad_array_grad(a, &g));
    DTYPE_IS(g, AD_FLOAT16);
    uint16_t gb[4];
    OK(ad_array_read(g, AD_FLOAT16, gb, 4));
    CHECK(memcmp(gb, back, sizeof gb) == 0); /* d exp(x) = exp(x), rounded alike */
    OK(ad_array_free(g));
    OK(ad_array_free(b));

    /* the optimizer updates write their arrays: float16 is refused there, not updated in a copy */
    OK(ad_array_ones(S4, 1, AD_FLOAT16, &g));
    FAILS(ad_sgd_update(a, g, 0.1, 0, 1, -1), AD_ERR_DTYPE);
    MESSAGE_HAS("float16");
    MESSAGE_HAS("`weight`");
    OK(ad_array_read(a, AD_FLOAT16, back, 4));
    CHECK(memcmp(back, x, sizeof x) == 0);
    OK(ad_array_free(g));
    OK(ad_array_free(a));
}

static void test_astype(void) {
    const double x[10] = {1.7, -1.7, NAN, INFINITY, -INFINITY, 300, -1, 3e9, -3e9, 1e20};
    ad_array *a, *b;
    OK(ad_array_create(x, ((const size_t[]){10}), 1, AD_FLOAT64, &a));
    /* MXNet 1.9.1's results (numpy's on x86) */
    OK(ad_array_astype(a, AD_INT32, &b));
    TEXT_IS(b, "\n[          1          -1 -2147483648 -2147483648 -2147483648         300\n"
               "          -1 -2147483648 -2147483648 -2147483648]\n<NDArray 10 @cpu(0)>");
    OK(ad_array_free(b));
    OK(ad_array_astype(a, AD_UINT8, &b));
    TEXT_IS(b, "\n[  1 255   0   0   0  44 255   0   0   0]\n<NDArray 10 @cpu(0)>");
    OK(ad_array_free(b));
    OK(ad_array_astype(a, AD_INT8, &b));
    TEXT_IS(b, "\n[ 1 -1  0  0  0 44 -1  0  0  0]\n<NDArray 10 @cpu(0)>");
    OK(ad_array_free(b));
    OK(ad_array_astype(a, AD_BOOL, &b));
    TEXT_IS(b, "\n[ True  True  True  True  True  True  True  True  True  True]\n<NDArray 10 @cpu(0)>");
    ad_array *c;
    OK(ad_array_astype(b, AD_FLOAT32, &c));
    VALUES_ARE(c, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    OK(ad_array_free(c));
    OK(ad_array_free(b));
    OK(ad_array_free(a));
}

static void test_shape_ops_and_refusals(void) {
    const int32_t v[6] = {0, 1, 2, 3, 4, 5};
    ad_array *a, *t, *r, *parts[2];
    OK(ad_array_create(v, S23, 2, AD_INT32, &a));
    OK(ad_array_transpose(a, NULL, 0, &t));
    DTYPE_IS(t, AD_INT32);
    TEXT_IS(t, "\n[[0 3]\n [1 4]\n [2 5]]\n<NDArray 3x2 @cpu(0)>");
    const ad_array *both[2] = {a, a};
    OK(ad_concat(both, 2, 1, &r));
    TEXT_IS(r, "\n[[0 1 2 0 1 2]\n [3 4 5 3 4 5]]\n<NDArray 2x6 @cpu(0)>");
    OK(ad_array_free(r));
    OK(ad_flip(a, ((const int64_t[]){1}), 1, &r));
    TEXT_IS(r, "\n[[2 1 0]\n [5 4 3]]\n<NDArray 2x3 @cpu(0)>");
    OK(ad_array_free(r));
    OK(ad_split(a, 2, 0, true, parts));
    TEXT_IS(parts[1], "\n[3 4 5]\n<NDArray 3 @cpu(0)>");
    OK(ad_array_free(parts[0]));
    OK(ad_array_free(parts[1]));

    /* an op that computes refuses, naming itself, the argument and the dtype */
    FAILS(ad_exp(a, &r), AD_ERR_DTYPE);
    MESSAGE_HAS("ad_exp");
    MESSAGE_HAS("`a`");
    MESSAGE_HAS("int32");
    MESSAGE_HAS("ad_array_astype");
    FAILS(ad_div(t, t, &r), AD_ERR_DTYPE);
    MESSAGE_HAS("ad_div");
    MESSAGE_HAS("int32");
    FAILS(ad_mean(a, NULL, 0, false, &r), AD_ERR_DTYPE);
    MESSAGE_HAS("ad_mean");
    /* + - * , comparisons and sum as MXNet computes them on integers: in the type */
    OK(ad_add(t, t, &r));
    DTYPE_IS(r, AD_INT32);
    TEXT_IS(r, "\n[[ 0  6]\n [ 2  8]\n [ 4 10]]\n<NDArray 3x2 @cpu(0)>");
    OK(ad_array_free(r));
    OK(ad_compare_scalar(a, 2.5, AD_CMP_GT, &r)); /* 2.5 is 2 in int32, as in MXNet */
    TEXT_IS(r, "\n[[0 0 0]\n [1 1 1]]\n<NDArray 2x3 @cpu(0)>");
    ad_array *total;
    OK(ad_sum(r, NULL, 0, false, &total));
    DTYPE_IS(total, AD_INT32);
    VALUES_ARE(total, 0, 3);
    OK(ad_array_free(total));
    OK(ad_array_free(r));
    ad_array *bools;
    OK(ad_array_astype(a, AD_BOOL, &bools));
    FAILS(ad_add(bools, bools, &r), AD_ERR_DTYPE);
    MESSAGE_HAS("bool");
    OK(ad_array_free(bools));
    /* not differentiable */
    FAILS(ad_array_attach_grad(a, AD_GRAD_WRITE), AD_ERR_DTYPE);
    MESSAGE_HAS("not differentiable");
    /* in-place division: refused; an assignment converts */
    FAILS(ad_array_update(a, a, AD_UPDATE_DIV), AD_ERR_DTYPE);
    MESSAGE_HAS("int32");
    const float src[3] = {7.9f, -7.9f, 0};
    ad_array *s;
    OK(ad_array_create(src, S3, 1, AD_FLOAT32, &s));
    const ad_index row1[1] = {{1, 0, 0}};
    OK(ad_array_write_slice(a, row1, 1, s));
    TEXT_IS(a, "\n[[ 0  1  2]\n [ 7 -7  0]]\n<NDArray 2x3 @cpu(0)>");
    OK(ad_array_free(s));
    /* an int32 index picks, and an int32 label works in softmax_cross_entropy */
    const float x[6] = {1, 2, 3, 4, 5, 6};
    const int32_t idx[2] = {2, 0};
    ad_array *xs, *ix, *p;
    OK(ad_array_create(x, S23, 2, AD_FLOAT32, &xs));
    OK(ad_array_create(idx, S2, 1, AD_INT32, &ix));
    OK(ad_pick(xs, ix, 1, false, &p));
    VALUES_ARE(p, 0, 3, 4);
    OK(ad_array_free(p));
    OK(ad_softmax_cross_entropy(xs, ix, false, &p));
    OK(ad_array_free(p));
    OK(ad_take(a, ix, 1, AD_INDEX_RAISE, &p));
    DTYPE_IS(p, AD_INT32);
    TEXT_IS(p, "\n[[2 0]\n [0 7]]\n<NDArray 2x2 @cpu(0)>");
    OK(ad_array_free(p));
    OK(ad_array_free(ix));
    OK(ad_array_free(xs));
    OK(ad_array_free(t));
    OK(ad_array_free(a));
}

int main(void) {
    test_create_and_read_each_dtype();
    test_astype();
    test_shape_ops_and_refusals();
    test_float16();
    return CHECK_RESULT();
}
