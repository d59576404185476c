/*
 * The creation and shape ops through the C API: values and shapes on the cases MXNet 1.9.1
 * was run on, error statuses and messages, results that are new arrays (writes into the
 * input do not show) or views where documented, the outs of ad_split written only on
 * success, ad_array_put's in-place writes, and gradients through take, split and the head
 * gradient read as the head's shape; the exponential, gamma, Poisson and randint draws and
 * the shuffle.
 */
#include <stdint.h>

#include "handles.h"

#define OUT_SENTINEL ((ad_array *)(uintptr_t)0x5e5e5e50)

/* (rows, cols) holding 0, 1, 2, ... */
static ad_array *range2(size_t rows, size_t cols, uint32_t dtype) {
    const int64_t shape[] = {(int64_t)rows, (int64_t)cols};
    ad_array *flat, *m;
    MAKE(flat, ad_array_arange(0, (double)(rows * cols), 1, dtype, &flat));
    MAKE(m, ad_array_reshape(flat, shape, 2, &m));
    return m;
}

/* Adds 100 to every element of `a` in place. */
static void bump(ad_array *a) {
    ad_array *h;
    MAKE(h, ad_array_full(S1, 1, 100, AD_FLOAT64, &h));
    OK(ad_array_update(a, h, AD_UPDATE_ADD));
}

static void creation(void) {
    ad_array *a = range2(3, 2, AD_FLOAT32), *z, *l, *e;
    MAKE(z, ad_full_like(a, 7, AD_FLOAT64, &z));
    SHAPE_IS(z, 3, 2);
    VALUES_ARE(z, 0, 7, 7, 7, 7, 7, 7);
    FAILS(ad_full_like(a, 7, 9, &z), AD_ERR_DTYPE);
    MESSAGE_HAS("ad_full_like");

    MAKE(l, ad_array_linspace(0, 1, 5, true, AD_FLOAT32, &l));
    VALUES_ARE(l, 1e-7, 0, 0.25, 0.5, 0.75, 1);
    MAKE(l, ad_array_linspace(0, 1, 5, false, AD_FLOAT64, &l));
    VALUES_ARE(l, 1e-15, 0, 0.2, 0.4, 0.6, 0.8);
    FAILS(ad_array_linspace(0, INFINITY, 3, true, AD_FLOAT32, &l), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("finite");

    MAKE(e, ad_array_eye(3, 4, 1, AD_FLOAT32, &e));
    SHAPE_IS(e, 3, 4);
    VALUES_ARE(e, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);
    MAKE(e, ad_array_eye(2, 0, -1, AD_FLOAT64, &e));
    VALUES_ARE(e, 0, 0, 0, 1, 0);
    FAILS(ad_array_eye(SIZE_MAX, 0, 0, AD_FLOAT32, &e), AD_ERR_ALLOC);
    free_all();
}

static void shapes(void) {
    ad_array *x = ARRAY(AD_FLOAT32, ((const size_t[]){1, 2, 1, 3}), 0, 1, 2, 3, 4, 5), *s, *d, *f, *t, *r;
    MAKE(s, ad_squeeze(x, NULL, 0, &s));
    SHAPE_IS(s, 2, 3);
    const int64_t two[] = {2}, one[] = {1};
    MAKE(s, ad_squeeze(x, two, 1, &s));
    SHAPE_IS(s, 1, 2, 3);
    FAILS(ad_squeeze(x, one, 1, &s), AD_ERR_SHAPE);
    MESSAGE_HAS("length 2");
    bump(x);
    VALUES_ARE(s, 0, 0, 1, 2, 3, 4, 5); /* a new array, as MXNet's */

    ad_array *m = range2(2, 3, AD_FLOAT64);
    MAKE(d, ad_expand_dims(m, -1, &d));
    SHAPE_IS(d, 2, 3, 1);
    FAILS(ad_expand_dims(m, 3, &d), AD_ERR_SHAPE);
    MESSAGE_HAS("out of range");

    const int64_t axis0[] = {0}, both[] = {0, 1};
    MAKE(f, ad_flip(m, axis0, 1, &f));
    VALUES_ARE(f, 0, 3, 4, 5, 0, 1, 2);
    MAKE(f, ad_flip(m, both, 2, &f));
    VALUES_ARE(f, 0, 5, 4, 3, 2, 1, 0);

    const size_t reps[] = {2, 1, 2};
    MAKE(t, ad_tile(m, reps, 3, &t));
    SHAPE_IS(t, 2, 2, 6);
    const size_t huge[] = {SIZE_MAX, 2};
    FAILS(ad_tile(m, huge, 2, &t), AD_ERR_SHAPE);
    MESSAGE_HAS("tile");

    const int64_t ax1 = 1;
    MAKE(r, ad_repeat(m, 2, &ax1, &r));
    SHAPE_IS(r, 2, 6);
    VALUES_ARE(r, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5);
    MAKE(r, ad_repeat(m, 2, NULL, &r));
    SHAPE_IS(r, 12);

    ad_array *c = range2(6, 4, AD_FLOAT32), *w, *b, *v;
    MAKE(w, ad_swapaxes(c, 0, -1, &w));
    SHAPE_IS(w, 4, 6);
    const int64_t src[] = {0}, dst[] = {1}, dst2[] = {1, 0};
    MAKE(w, ad_moveaxis(c, src, 1, dst, 1, &w));
    SHAPE_IS(w, 4, 6);
    FAILS(ad_moveaxis(c, src, 1, dst2, 2, &w), AD_ERR_INVALID_ARGUMENT);

    ad_array *row = ARRAY(AD_FLOAT32, S13, 1, 2, 3), *big = range2(5, 3, AD_FLOAT32);
    MAKE(b, ad_broadcast_like(row, big, NULL, 0, NULL, 0, &b));
    SHAPE_IS(b, 5, 3);
    const int64_t l0[] = {0}, r1[] = {1};
    MAKE(b, ad_broadcast_like(row, big, l0, 1, r1, 1, &b));
    SHAPE_IS(b, 3, 3);
    FAILS(ad_broadcast_like(big, row, NULL, 0, NULL, 0, &b), AD_ERR_SHAPE);
    MESSAGE_HAS("(5, 3)");

    /* reshape_like: (6, 4) with its first axis replaced by (2, 3)'s axes */
    ad_array *like = range2(2, 3, AD_FLOAT32);
    const int64_t zero = 0, end1 = 1;
    MAKE(v, ad_reshape_like(c, like, &zero, &end1, NULL, NULL, &v));
    SHAPE_IS(v, 2, 3, 4);
    FAILS(ad_reshape_like(c, like, NULL, NULL, NULL, NULL, &v), AD_ERR_SHAPE);
    MESSAGE_HAS("size 24");

    /* MXNet's codes; a view, as ad_array_reshape */
    const int64_t codes[] = {-4, 2, -1, 0};
    MAKE(v, ad_array_reshape_codes(c, codes, 4, false, &v));
    SHAPE_IS(v, 2, 3, 4);
    bump(c);
    VALUES_ARE(v, 0, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117,
               118, 119, 120, 121, 122, 123);
    const int64_t bad[] = {-1, -1};
    FAILS(ad_array_reshape_codes(c, bad, 2, false, &v), AD_ERR_SHAPE);
    MESSAGE_HAS("more than one -1");
    free_all();
}

static void split(void) {
    ad_array *m = range2(4, 3, AD_FLOAT32);
    ad_array *outs[3] = {OUT_SENTINEL, OUT_SENTINEL, OUT_SENTINEL};
    OK(ad_split(m, 2, 0, false, outs));
    track(outs[0]);
    track(outs[1]);
    CHECK(outs[2] == OUT_SENTINEL);
    SHAPE_IS(outs[1], 2, 3);
    VALUES_ARE(outs[1], 0, 6, 7, 8, 9, 10, 11);
    bump(m);
    VALUES_ARE(outs[0], 0, 0, 1, 2, 3, 4, 5); /* new arrays, also where a view would do */
    ad_array *cols[3] = {OUT_SENTINEL, OUT_SENTINEL, OUT_SENTINEL};
    OK(ad_split(m, 3, 1, true, cols));
    for (int i = 0; i < 3; i++) track(cols[i]);
    SHAPE_IS(cols[2], 4);
    ad_array *none[2] = {OUT_SENTINEL, OUT_SENTINEL};
    FAILS(ad_split(m, 2, 1, false, none), AD_ERR_SHAPE);
    MESSAGE_HAS("2 parts");
    CHECK(none[0] == OUT_SENTINEL && none[1] == OUT_SENTINEL);
    FAILS(ad_split(m, 0, 1, false, none), AD_ERR_INVALID_ARGUMENT);
    free_all();
}

static void take_put_pick(void) {
    ad_array *a = range2(3, 2, AD_FLOAT32), *t;
    ad_array *inside = ARRAY(AD_FLOAT32, S2, 2, 0), *odd = ARRAY(AD_FLOAT64, S5, -1, 5, 1.7, 2.5, -0.5);
    MAKE(t, ad_take(a, inside, 0, AD_INDEX_RAISE, &t));
    VALUES_ARE(t, 0, 4, 5, 0, 1);
    MAKE(t, ad_take(a, odd, 0, AD_INDEX_CLIP, &t));
    SHAPE_IS(t, 5, 2);
    VALUES_ARE(t, 0, 0, 1, 4, 5, 2, 3, 4, 5, 0, 1);
    MAKE(t, ad_take(a, odd, 1, AD_INDEX_WRAP, &t));
    SHAPE_IS(t, 3, 5);
    VALUES_ARE(t, 0, 1, 1, 1, 0, 0, 3, 3, 3, 2, 2, 5, 5, 5, 4, 4);
    FAILS(ad_take(a, odd, 0, AD_INDEX_RAISE, &t), AD_ERR_INDEX);
    MESSAGE_HAS("out of range for an axis of length 3");
    FAILS(ad_take(a, odd, 0, 3, &t), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_index_mode");

    /* the gradient adds repeated positions */
    ad_array *x = ARRAY(AD_FLOAT64, S32, 0, 1, 2, 3, 4, 5), *at = ARRAY(AD_FLOAT64, S5, 0, 2, 0, -1, 9);
    ad_array *y, *g, *hg = ARRAY(AD_FLOAT64, ((const size_t[]){10}), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_take(x, at, 0, AD_INDEX_CLIP, &y));
    OK(ad_record_end());
    OK(ad_backward(y, hg, false)); /* a (10,) head gradient for the (5, 2) head */
    MAKE(g, ad_array_grad(x, &g));
    VALUES_ARE(g, 0, 10, 13, 0, 0, 10, 12);

    /* put: flat positions, in place, the last write to a position staying */
    ad_array *pos = ARRAY(AD_FLOAT64, S22, 0, 1, 4, 5), *val = ARRAY(AD_FLOAT32, S2, 7, 8);
    OK(ad_array_put(a, pos, val));
    VALUES_ARE(a, 0, 7, 8, 2, 3, 7, 8);
    ad_array *twice = ARRAY(AD_FLOAT64, S2, 3, 3), *pair = ARRAY(AD_FLOAT64, S2, -1, -2);
    OK(ad_array_put(a, twice, pair));
    VALUES_ARE(a, 0, 7, 8, 2, -2, 7, 8);
    ad_array *outside = ARRAY(AD_FLOAT64, S2, 0, 6);
    FAILS(ad_array_put(a, outside, pair), AD_ERR_INDEX);
    MESSAGE_HAS("ad_array_put");
    VALUES_ARE(a, 0, 7, 8, 2, -2, 7, 8);
    ad_array *three = ARRAY(AD_FLOAT64, S3, 1, 2, 3);
    FAILS(ad_array_put(a, pos, three), AD_ERR_SHAPE);

    /* pick with a mode */
    ad_array *p, *b = range2(3, 2, AD_FLOAT32), *ix = ARRAY(AD_FLOAT32, S3, 5, -1, 2.7);
    MAKE(p, ad_pick_mode(b, ix, 1, false, AD_INDEX_CLIP, &p));
    VALUES_ARE(p, 0, 1, 2, 5);
    MAKE(p, ad_pick_mode(b, ix, 1, false, AD_INDEX_WRAP, &p));
    VALUES_ARE(p, 0, 1, 3, 4);
    FAILS(ad_pick_mode(b, ix, 1, false, AD_INDEX_RAISE, &p), AD_ERR_INDEX);
    FAILS(ad_pick_mode(b, ix, 1, false, 7, &p), AD_ERR_INVALID_ARGUMENT);
    free_all();
}

/* The exponential, gamma, Poisson and randint draws and the shuffle: a seed repeats them,
   Poisson and randint draws are whole numbers, a shuffle reorders whole rows and leaves its input alone. */
static void random_draws(void) {
    ad_array *d[2][3];
    double v[2][3][6];
    for (int round = 0; round < 2; round++) {
        OK(ad_random_seed(77));
        MAKE(d[round][0], ad_random_exponential(2, S23, 2, AD_FLOAT32, &d[round][0]));
        MAKE(d[round][1], ad_random_gamma(0.5, 3, S23, 2, AD_FLOAT64, &d[round][1]));
        MAKE(d[round][2], ad_random_poisson(20, S23, 2, AD_FLOAT64, &d[round][2]));
        for (int i = 0; i < 3; i++) {
            SHAPE_IS(d[round][i], 2, 3);
            OK(ad_array_read(d[round][i], AD_FLOAT64, v[round][i], 6));
        }
    }
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 6; j++) {
            CHECK(v[0][i][j] == v[1][i][j] && v[0][i][j] >= 0);
            if (i == 2) CHECK(v[0][i][j] == (double)(long long)v[0][i][j]);
        }
    }

    ad_array *r6;
    double ints[6];
    MAKE(r6, ad_random_randint(-2, 3, S23, 2, AD_FLOAT64, &r6));
    OK(ad_array_read(r6, AD_FLOAT64, ints, 6));
    for (int j = 0; j < 6; j++) CHECK(ints[j] >= -2 && ints[j] < 3 && ints[j] == (double)(long long)ints[j]);

    ad_array *a = range2(4, 2, AD_FLOAT32), *s;
    MAKE(s, ad_random_shuffle(a, &s));
    SHAPE_IS(s, 4, 2);
    VALUES_ARE(a, 0, 0, 1, 2, 3, 4, 5, 6, 7);
    double r[8], seen = 0;
    OK(ad_array_read(s, AD_FLOAT64, r, 8));
    for (int i = 0; i < 4; i++) {
        CHECK((long long)r[2 * i] % 2 == 0 && r[2 * i + 1] == r[2 * i] + 1);
        seen += r[2 * i];
    }
    CHECK(seen == 0 + 2 + 4 + 6);
    free_all();
}

/* Draws with array parameters: shape P + shape, each block with its position's parameters,
   repeated by a seed. */
static void sample_draws(void) {
    const double locs[2] = {-1000, 1000}, scales[2] = {1, 0};
    ad_array *loc, *scale, *d[2];
    MAKE(loc, ad_array_create(locs, S2, 1, AD_FLOAT64, &loc));
    MAKE(scale, ad_array_create(scales, S2, 1, AD_FLOAT64, &scale));
    double v[2][6];
    for (int round = 0; round < 2; round++) {
        OK(ad_random_seed(78));
        MAKE(d[round], ad_sample_normal(loc, scale, S3, 1, AD_FLOAT32, &d[round]));
        SHAPE_IS(d[round], 2, 3);
        OK(ad_array_read(d[round], AD_FLOAT64, v[round], 6));
    }
    for (int j = 0; j < 6; j++) CHECK(v[0][j] == v[1][j]);
    for (int j = 0; j < 3; j++) CHECK(v[0][j] > -1010 && v[0][j] < -990 && v[0][3 + j] == 1000);
    uint32_t dtype;
    OK(ad_array_dtype(d[0], &dtype));
    CHECK(dtype == AD_FLOAT32);

    ad_array *high, *u, *e, *g, *p, *p0;
    const double highs[2] = {1, 1000};
    MAKE(high, ad_array_create(highs, S2, 1, AD_FLOAT64, &high));
    MAKE(u, ad_sample_uniform(loc, high, S23, 2, AD_FLOAT64, &u));
    SHAPE_IS(u, 2, 2, 3);
    double uv[12];
    OK(ad_array_read(u, AD_FLOAT64, uv, 12));
    for (int j = 0; j < 6; j++) CHECK(uv[j] >= -1000 && uv[j] < 1 && uv[6 + j] == 1000);
    const double positive[2] = {0.5, 2};
    ad_array *pos;
    MAKE(pos, ad_array_create(positive, S2, 1, AD_FLOAT64, &pos));
    MAKE(e, ad_sample_exponential(pos, NULL, 0, AD_FLOAT32, &e));
    SHAPE_IS(e, 2);
    MAKE(g, ad_sample_gamma(pos, pos, S23, 2, AD_FLOAT32, &g));
    SHAPE_IS(g, 2, 2, 3);
    double gv[12];
    OK(ad_array_read(g, AD_FLOAT64, gv, 12));
    for (int j = 0; j < 12; j++) CHECK(gv[j] >= 0);
    MAKE(p, ad_sample_poisson(scale, S3, 1, AD_FLOAT64, &p));
    SHAPE_IS(p, 2, 3);
    double pv[6];
    OK(ad_array_read(p, AD_FLOAT64, pv, 6));
    for (int j = 0; j < 6; j++) CHECK(pv[j] >= 0 && pv[j] == (double)(long long)pv[j] && (j < 3 || pv[j] == 0));
    MAKE(p0, ad_sample_poisson(scale, NULL, 0, AD_FLOAT64, &p0));
    SHAPE_IS(p0, 2);

    /* multinomial: rows [0, 1, 0] and [0.5, 0, 0.5]; the draws and their log-probabilities */
    const double rows[6] = {0, 1, 0, 0.5, 0, 0.5};
    ad_array *probs, *draws, *log_prob, *one;
    MAKE(probs, ad_array_create(rows, S23, 2, AD_FLOAT64, &probs));
    MAKE(draws, ad_sample_multinomial(probs, S3, 1, AD_FLOAT32, &draws, &log_prob));
    track(log_prob);
    SHAPE_IS(draws, 2, 3);
    SHAPE_IS(log_prob, 2, 3);
    double dv[6], lv[6];
    OK(ad_array_read(draws, AD_FLOAT64, dv, 6));
    OK(ad_array_read(log_prob, AD_FLOAT64, lv, 6));
    for (int j = 0; j < 3; j++) {
        CHECK(dv[j] == 1 && lv[j] == 0);
        CHECK((dv[3 + j] == 0 || dv[3 + j] == 2) && fabs(lv[3 + j] - log(0.5)) < 1e-15);
    }
    MAKE(one, ad_sample_multinomial(probs, NULL, 0, AD_FLOAT64, &one, NULL));
    SHAPE_IS(one, 2);
    /* int32 as MXNet's default: the indices read exactly */
    ad_array *ints;
    MAKE(ints, ad_sample_multinomial(probs, S3, 1, AD_INT32, &ints, NULL));
    uint32_t ints_dtype;
    OK(ad_array_dtype(ints, &ints_dtype));
    CHECK(ints_dtype == AD_INT32);
    int32_t iv[6];
    OK(ad_array_read(ints, AD_INT32, iv, 6));
    for (int j = 0; j < 3; j++) CHECK(iv[j] == 1 && (iv[3 + j] == 0 || iv[3 + j] == 2));
    free_all();
}

int main(void) {
    random_draws();
    sample_draws();
    creation();
    shapes();
    split();
    take_put_pick();
    return CHECK_RESULT();
}
