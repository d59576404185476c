/*
 * Exhaustion and hostile shapes, one case per run (`limits CASE`): the harness runs each
 * case in a process of its own, with a time limit, so that an abort, a crash or a hang is a
 * failed case rather than a dead test runner. A case prints its failed checks on stdout and
 * exits non-zero; the library itself must print nothing, so the harness also checks that
 * stderr stays empty.
 *
 * Cases: alloc (failed allocations are AD_ERR_ALLOC), address_space (the same under a
 * limited address space), empty (ops on empty arrays cost their output), hostile (absurd
 * dimensions, bounds and axes are shape and index errors), axes (AD_MAX_NDIM), memory (the
 * cache of freed buffers returns its memory).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ad.h"

static int failures = 0;

#define EXPECT(cond, ...)                                      \
    do {                                                       \
        if (!(cond)) {                                         \
            failures++;                                        \
            printf("%s:%d: %s: ", __FILE__, __LINE__, #cond);  \
            printf(__VA_ARGS__);                               \
            printf(" (last error: %s)\n", ad_last_error());    \
        }                                                      \
    } while (0)

/* Whether the last error message holds `needle` (any message holds ""). */
static int message_has(const char *needle) {
    return strstr(ad_last_error(), needle) != NULL;
}

/* `call` returns `status`; on failure with a message that holds `needle`. */
#define STATUS(call, status, needle)                                                          \
    do {                                                                                      \
        ad_status got_ = (call);                                                              \
        EXPECT(got_ == (status), "%s returned %s, expected %s", #call,                        \
               ad_status_name((uint32_t)got_), ad_status_name((uint32_t)(status)));           \
        if (got_ != AD_OK && (status) != AD_OK) {                                             \
            EXPECT(ad_last_error()[0] != '\0', "%s left no message", #call);                  \
            EXPECT(message_has(needle), "message lacks \"%s\"", (needle));                      \
        }                                                                                     \
    } while (0)

/* `call`, which writes a handle to `*out`, returns `status`, writing `*out` only on success.
   A handle made is freed at once unless `keep`. */
static ad_array *made;
#define MAKES(call, status, needle)                                                    \
    do {                                                                               \
        made = (ad_array *)(uintptr_t)0x5e5e5e50;                                      \
        STATUS(call, status, needle);                                                  \
        if ((status) == AD_OK) {                                                       \
            EXPECT(made != (ad_array *)(uintptr_t)0x5e5e5e50, "%s wrote no handle", #call); \
        } else {                                                                       \
            EXPECT(made == (ad_array *)(uintptr_t)0x5e5e5e50, "%s wrote a handle on failure", #call); \
        }                                                                              \
    } while (0)

#define DROP() \
    do { if (made != (ad_array *)(uintptr_t)0x5e5e5e50) ad_array_free(made); } while (0)

static const size_t BIG = (size_t)1 << 40;
static const size_t HALF = (size_t)1 << 63;

static ad_array *zeros(const size_t *shape, size_t ndim) {
    ad_array *a = NULL;
    STATUS(ad_array_zeros(shape, ndim, AD_FLOAT32, &a), AD_OK, "");
    return a;
}

static void expect_shape(const ad_array *a, const size_t *shape, size_t ndim) {
    size_t got[AD_MAX_NDIM], n = 0;
    STATUS(ad_array_ndim(a, &n), AD_OK, "");
    STATUS(ad_array_shape(a, got, AD_MAX_NDIM), AD_OK, "");
    EXPECT(n == ndim && memcmp(got, shape, ndim * sizeof(size_t)) == 0, "unexpected shape");
}

/* ---- item 4: a failed allocation is AD_ERR_ALLOC ---- */

static void case_alloc(void) {
    /* (0, 2^40) summed over axis 0: 2^40 zeros, 4 TiB, cannot be had */
    const size_t shape[] = {0, BIG};
    ad_array *x = zeros(shape, 2);
    const int64_t axis0[] = {0};
    MAKES(ad_sum(x, axis0, 1, false, &made), AD_ERR_ALLOC, "allocate");
    MAKES(ad_mean(x, axis0, 1, false, &made), AD_ERR_ALLOC, "allocate");
    MAKES(ad_norm(x, axis0, 1, true, &made), AD_ERR_ALLOC, "allocate");
    /* over the other axis the result is empty, and made at once */
    const int64_t axis1[] = {1};
    const size_t none[] = {0};
    MAKES(ad_sum(x, axis1, 1, false, &made), AD_OK, "");
    expect_shape(made, none, 1);
    DROP();
    /* one-hot rows and a broadcast of 2^40 elements */
    ad_array *one = NULL;
    const size_t s1[] = {1};
    STATUS(ad_array_ones(s1, 1, AD_FLOAT32, &one), AD_OK, "");
    MAKES(ad_one_hot(one, BIG, 1, 0, AD_FLOAT32, &made), AD_ERR_ALLOC, "allocate");
    const size_t big[] = {BIG};
    MAKES(ad_array_broadcast_to(one, big, 1, &made), AD_ERR_ALLOC, "allocate");
    ad_array_free(one);
    ad_array_free(x);
}

/* Address space in use now, in bytes (VmSize). */
static size_t address_space(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (!f || fscanf(f, "%lu", &pages) != 1) {
        printf("cannot read /proc/self/statm\n");
        exit(2);
    }
    fclose(f);
    return pages * 4096;
}

static void limit_address_space(size_t more) {
    struct rlimit r = {address_space() + more, RLIM_INFINITY};
    if (setrlimit(RLIMIT_AS, &r) != 0) {
        printf("setrlimit failed\n");
        exit(2);
    }
}

static void case_address_space(void) {
    /* One thread: the pool's threads would take address space of their own. */
    STATUS(ad_set_num_threads(1), AD_OK, "");
    const size_t n = (size_t)8 << 20; /* 8 Mi float32: 32 MiB */
    const size_t shape[] = {n};
    ad_array *x = NULL;
    STATUS(ad_array_full(shape, 1, 2.0, AD_FLOAT32, &x), AD_OK, "");
    float *buffer = malloc(n * sizeof(float));
    if (!buffer) exit(2);
    /* Room for a third of x more: no op below can make a copy of it. */
    limit_address_space(n * sizeof(float) / 3);

    /* reading writes straight into the caller's buffer */
    STATUS(ad_array_read(x, AD_FLOAT32, buffer, n), AD_OK, "");
    EXPECT(buffer[0] == 2.0f && buffer[n - 1] == 2.0f, "read gave %g", buffer[0]);
    /* the arg-extrema need no copy either */
    MAKES(ad_argmax(x, NULL, false, &made), AD_OK, "");
    DROP();
    const int64_t axis = 0;
    MAKES(ad_argmin(x, &axis, true, &made), AD_OK, "");
    DROP();
    /* these need a new array of x's size, or more: an error, not an abort */
    MAKES(ad_exp(x, &made), AD_ERR_ALLOC, "allocate");
    MAKES(ad_array_astype(x, AD_FLOAT64, &made), AD_ERR_ALLOC, "allocate");
    MAKES(ad_where(x, x, x, &made), AD_ERR_ALLOC, "allocate");
    MAKES(ad_array_copy(x, &made), AD_ERR_ALLOC, "allocate");
    const int64_t all[] = {0};
    MAKES(ad_sum(x, all, 1, false, &made), AD_OK, "");
    DROP();
    ad_array *x2 = NULL;
    STATUS(ad_array_reshape(x, (const int64_t[]){4, -1}, 2, &x2), AD_OK, "");
    MAKES(ad_array_transpose(x2, NULL, 0, &made), AD_ERR_ALLOC, "allocate");
    const int64_t col[] = {0};
    MAKES(ad_softmax(x2, col[0], &made), AD_ERR_ALLOC, "allocate");
    MAKES(ad_concat((const ad_array *const[]){x2, x2}, 2, 0, &made), AD_ERR_ALLOC, "allocate");
    const ad_index odd[] = {{0, 4, 1}, {1, (int64_t)n / 4, 2}};
    MAKES(ad_array_slice(x2, odd, 2, &made), AD_ERR_ALLOC, "allocate");
    /* a tile whose result cannot exist is refused as such, before any intermediate is made
       (one of 2^31 x 2^31 x 4 elements used to fill gigabytes first) */
    ad_array *one = NULL;
    STATUS(ad_array_full((const size_t[]){1}, 1, 1.0, AD_FLOAT32, &one), AD_OK, "");
    MAKES(ad_tile(one, (const size_t[]){(size_t)1 << 31, (size_t)1 << 31, 4}, 3, &made), AD_ERR_ALLOC, "overflows");
    ad_array_free(one);
    size_t length = 0;
    STATUS(ad_array_to_string(x, NULL, 0, &length), AD_OK, "");
    EXPECT(length > 0 && length < 200, "a summarised text of %zu bytes", length);
    ad_array_free(x2);
    ad_array_free(x);
    free(buffer);
}

/* ---- item 5: an op on an empty array costs no more than its output ---- */

static void case_empty(void) {
    const size_t shape[] = {BIG, 0};
    ad_array *x = zeros(shape, 2);
    STATUS(ad_array_attach_grad(x, AD_GRAD_WRITE), AD_OK, "");
    const int64_t axis0[] = {0};
    const size_t empty0[] = {0};
    const size_t flipped[] = {0, BIG};
    ad_status (*reduce[])(const ad_array *, const int64_t *, size_t, bool, ad_array **) = {
        ad_sum, ad_mean, ad_norm, ad_prod, ad_nansum, ad_nanprod, ad_norm1};
    for (size_t i = 0; i < sizeof reduce / sizeof reduce[0]; i++) {
        MAKES(reduce[i](x, axis0, 1, false, &made), AD_OK, "");
        expect_shape(made, empty0, 1);
        DROP();
    }
    MAKES(ad_max(x, axis0, 1, false, &made), AD_OK, "");
    expect_shape(made, empty0, 1);
    DROP();
    const int64_t axis1[] = {1};
    MAKES(ad_max(x, axis1, 1, false, &made), AD_ERR_SHAPE, "zero-size");
    MAKES(ad_softmax(x, 0, &made), AD_OK, "");
    expect_shape(made, shape, 2);
    DROP();
    MAKES(ad_log_softmax(x, 0, &made), AD_OK, "");
    DROP();
    MAKES(ad_array_transpose(x, NULL, 0, &made), AD_OK, "");
    expect_shape(made, flipped, 2);
    DROP();
    /* running sums and sorts along either axis, and of the flattened array */
    const int64_t second = 1;
    for (int i = 0; i < 3; i++) {
        const int64_t *along = i == 0 ? axis0 : i == 1 ? &second : NULL;
        MAKES(ad_cumsum(x, along, &made), AD_OK, "");
        DROP();
        MAKES(ad_sort(x, along, true, &made), AD_OK, "");
        DROP();
        MAKES(ad_argsort(x, along, false, AD_FLOAT32, &made), AD_OK, "");
        DROP();
        for (uint32_t ret = 0; ret < 3; ret++) {
            MAKES(ad_topk(x, along, 0, ret, false, AD_FLOAT64, &made), AD_OK, "");
            DROP();
        }
    }
    const int64_t first = 0;
    MAKES(ad_argmax(x, &first, false, &made), AD_OK, "");
    expect_shape(made, empty0, 1);
    DROP();
    const size_t twice[] = {2 * BIG, 0};
    MAKES(ad_concat((const ad_array *const[]){x, x}, 2, 0, &made), AD_OK, "");
    expect_shape(made, twice, 2);
    DROP();
    MAKES(ad_stack((const ad_array *const[]){x, x}, 2, 2, &made), AD_OK, "");
    DROP();
    MAKES(ad_one_hot(x, 5, 1, 0, AD_FLOAT32, &made), AD_OK, "");
    DROP();
    MAKES(ad_mul(x, x, &made), AD_OK, "");
    DROP();
    MAKES(ad_array_astype(x, AD_FLOAT64, &made), AD_OK, "");
    DROP();
    ad_array *row = NULL;
    const size_t one_by_zero[] = {1, 0};
    STATUS(ad_array_zeros(one_by_zero, 2, AD_FLOAT32, &row), AD_OK, "");
    MAKES(ad_array_broadcast_to(row, shape, 2, &made), AD_OK, "");
    DROP();
    MAKES(ad_where(row, x, x, &made), AD_OK, "");
    DROP();
    ad_array_free(row);
    /* pick along an axis between a huge one and an empty one */
    const size_t cube[] = {BIG, 3, 0};
    ad_array *c = zeros(cube, 3);
    MAKES(ad_pick(c, x, 1, false, &made), AD_OK, "");
    DROP();
    MAKES(ad_argmin(c, (const int64_t[]){1}, true, &made), AD_OK, "");
    DROP();
    MAKES(ad_sum(c, (const int64_t[]){0, 2}, 2, true, &made), AD_OK, "");
    DROP();
    /* BIG products of (0, 3) by (3, 0) matrices */
    MAKES(ad_batch_dot(c, c, true, false, &made), AD_OK, "");
    expect_shape(made, (const size_t[]){BIG, 0, 0}, 3);
    DROP();
    ad_array_free(c);
    /* and backward through them */
    ad_array *y = NULL, *z = NULL, *g = NULL;
    STATUS(ad_record_begin(true), AD_OK, "");
    STATUS(ad_softmax(x, 0, &y), AD_OK, "");
    STATUS(ad_sum(y, axis0, 1, false, &z), AD_OK, "");
    STATUS(ad_record_end(), AD_OK, "");
    STATUS(ad_backward(z, NULL, false), AD_OK, "");
    STATUS(ad_array_grad(x, &g), AD_OK, "");
    expect_shape(g, shape, 2);
    ad_array_free(g);
    ad_array_free(z);
    ad_array_free(y);
    ad_array_free(x);
}

/* ---- item 6: absurd dimensions, bounds and axes are errors that say so ---- */

static void case_hostile(void) {
    /* an empty shape whose other dimensions cannot be held */
    const size_t huge[] = {0, HALF};
    MAKES(ad_array_zeros(huge, 2, AD_FLOAT32, &made), AD_ERR_SHAPE, "(0, 9223372036854775808)");
    const size_t huge2[] = {HALF, HALF, 0};
    MAKES(ad_array_ones(huge2, 3, AD_FLOAT64, &made), AD_ERR_SHAPE, "no elements");
    const size_t huge3[] = {0, (size_t)1 << 62, 8};
    MAKES(ad_array_create(NULL, huge3, 3, AD_FLOAT32, &made), AD_ERR_SHAPE, "no elements");
    MAKES(ad_random_uniform(0, 1, huge, 2, AD_FLOAT32, &made), AD_ERR_SHAPE, "no elements");

    /* the largest empty arrays there are: every op gives a result or an error, never an
       internal one */
    const size_t wide[] = {0, (size_t)1 << 59};
    ad_array *x = zeros(wide, 2);
    STATUS(ad_array_attach_grad(x, AD_GRAD_WRITE), AD_OK, "");
    const int64_t axis0[] = {0}, axis1[] = {1};
    MAKES(ad_array_transpose(x, NULL, 0, &made), AD_OK, "");
    DROP();
    MAKES(ad_max(x, axis1, 1, false, &made), AD_OK, "");
    DROP();
    MAKES(ad_min(x, axis0, 1, false, &made), AD_ERR_SHAPE, "zero-size");
    MAKES(ad_max(x, NULL, 0, false, &made), AD_ERR_SHAPE, "zero-size");
    MAKES(ad_sum(x, axis1, 1, true, &made), AD_OK, "");
    DROP();
    MAKES(ad_sum(x, NULL, 0, false, &made), AD_OK, "");
    DROP();
    MAKES(ad_mean(x, axis0, 1, false, &made), AD_ERR_ALLOC, "allocate");
    MAKES(ad_norm(x, NULL, 0, false, &made), AD_OK, "");
    DROP();
    MAKES(ad_softmax(x, 1, &made), AD_OK, "");
    DROP();
    MAKES(ad_log_softmax(x, -1, &made), AD_OK, "");
    DROP();
    MAKES(ad_softmax(x, 0, &made), AD_ERR_SHAPE, "zero-size");
    MAKES(ad_array_reshape(x, (const int64_t[]){(int64_t)1 << 59, 0}, 2, &made), AD_OK, "");
    DROP();
    MAKES(ad_array_reshape(x, (const int64_t[]){0, -1}, 2, &made), AD_ERR_SHAPE, "reshape");
    MAKES(ad_array_reshape(x, (const int64_t[]){INT64_MAX, 0, 4}, 3, &made), AD_ERR_SHAPE, "");
    MAKES(ad_array_broadcast_to(x, (const size_t[]){HALF, 0, (size_t)1 << 59}, 3, &made), AD_ERR_SHAPE, "");
    MAKES(ad_one_hot(x, HALF, 1, 0, AD_FLOAT32, &made), AD_ERR_SHAPE, "no elements");
    /* two of them joined: (0, 2^60) is more than an array can hold */
    MAKES(ad_concat((const ad_array *const[]){x, x}, 2, 1, &made), AD_ERR_SHAPE, "concat");
    MAKES(ad_concat((const ad_array *const[]){x, x}, 2, 0, &made), AD_OK, "");
    DROP();
    /* lengths that add up past 2^64 */
    const size_t widest[] = {0, ((size_t)1 << 60) - 1};
    ad_array *w = zeros(widest, 2);
    const ad_array *many[17];
    for (size_t i = 0; i < 17; i++) many[i] = w;
    MAKES(ad_concat(many, 17, 1, &made), AD_ERR_SHAPE, "concat");
    MAKES(ad_stack(many, 17, 2, &made), AD_ERR_SHAPE, "no elements");
    ad_array_free(w);
    /* axes at the ends of int64 */
    MAKES(ad_sum(x, (const int64_t[]){INT64_MIN}, 1, false, &made), AD_ERR_SHAPE, "axis");
    MAKES(ad_argmax(x, (const int64_t[]){INT64_MAX}, false, &made), AD_ERR_SHAPE, "axis");
    MAKES(ad_softmax(x, INT64_MIN, &made), AD_ERR_SHAPE, "axis");
    MAKES(ad_array_transpose(x, (const int64_t[]){INT64_MIN, 0}, 2, &made), AD_ERR_SHAPE, "axis");
    /* backward through the ops above */
    ad_array *y = NULL, *z = NULL, *g = NULL;
    STATUS(ad_record_begin(true), AD_OK, "");
    STATUS(ad_log_softmax(x, 1, &y), AD_OK, "");
    STATUS(ad_norm(y, axis1, 1, false, &z), AD_OK, "");
    STATUS(ad_record_end(), AD_OK, "");
    STATUS(ad_backward(z, NULL, false), AD_OK, "");
    STATUS(ad_array_grad(x, &g), AD_OK, "");
    expect_shape(g, wide, 2);
    ad_array_free(g);
    ad_array_free(z);
    ad_array_free(y);
    ad_array_free(x);

    /* slice bounds at the ends of int64 */
    ad_array *v = NULL;
    STATUS(ad_array_arange(0, 4, 1, AD_FLOAT32, &v), AD_OK, "");
    const ad_index wrap[] = {{1, INT64_MIN, 2}};
    MAKES(ad_array_slice(v, wrap, 1, &made), AD_ERR_INDEX, "1:-9223372036854775808:2");
    const ad_index down[] = {{INT64_MAX, INT64_MIN, -1}};
    MAKES(ad_array_slice(v, down, 1, &made), AD_ERR_INDEX, "out of bounds");
    const ad_index far[] = {{INT64_MIN, INT64_MAX, INT64_MAX}};
    MAKES(ad_array_slice(v, far, 1, &made), AD_ERR_INDEX, "out of bounds");
    const ad_index at[] = {{INT64_MIN, 0, 0}};
    MAKES(ad_array_slice(v, at, 1, &made), AD_ERR_INDEX, "out of bounds");
    STATUS(ad_array_write_slice(v, wrap, 1, v), AD_ERR_INDEX, "out of bounds");
    /* steps as long as int64 goes: one position each */
    const size_t one[] = {1};
    const ad_index first[] = {{0, 4, INT64_MAX}};
    MAKES(ad_array_slice(v, first, 1, &made), AD_OK, "");
    expect_shape(made, one, 1);
    DROP();
    const ad_index last[] = {{3, -1, INT64_MIN}};
    MAKES(ad_array_slice(v, last, 1, &made), AD_OK, "");
    expect_shape(made, one, 1);
    double value = 0;
    STATUS(ad_array_asscalar(made, &value), AD_OK, "");
    EXPECT(value == 3, "x[3::-2^63] is %g", value);
    DROP();
    ad_array_free(v);
}

/* ---- item 7: at most AD_MAX_NDIM axes, wherever an array is made ---- */

static void case_axes(void) {
    static size_t ones[12000];
    static int64_t ones64[12000];
    for (size_t i = 0; i < 12000; i++) {
        ones[i] = 1;
        ones64[i] = 1;
    }
    char limit[32];
    snprintf(limit, sizeof limit, "%d", AD_MAX_NDIM);
    MAKES(ad_array_zeros(ones, 12000, AD_FLOAT32, &made), AD_ERR_SHAPE, limit);
    MAKES(ad_array_zeros(ones, AD_MAX_NDIM + 1, AD_FLOAT32, &made), AD_ERR_SHAPE, limit);
    const float one = 1;
    MAKES(ad_array_create(&one, ones, AD_MAX_NDIM + 1, AD_FLOAT32, &made), AD_ERR_SHAPE, limit);
    MAKES(ad_random_normal(0, 1, ones, 12000, AD_FLOAT64, &made), AD_ERR_SHAPE, limit);
    ad_array *deep = NULL;
    STATUS(ad_array_create(&one, ones, AD_MAX_NDIM, AD_FLOAT32, &deep), AD_OK, "");
    /* the deepest array prints */
    size_t length = 0;
    STATUS(ad_array_to_string(deep, NULL, 0, &length), AD_OK, "");
    char *text = malloc(length + 1);
    STATUS(ad_array_to_string(deep, text, length + 1, NULL), AD_OK, "");
    EXPECT(strncmp(text, "\n[[[[", 5) == 0 && strstr(text, "1.") != NULL, "text %.40s", text);
    free(text);
    /* and nothing makes a deeper one */
    MAKES(ad_array_reshape(deep, ones64, AD_MAX_NDIM + 1, &made), AD_ERR_SHAPE, limit);
    MAKES(ad_array_reshape(deep, ones64, 12000, &made), AD_ERR_SHAPE, limit);
    MAKES(ad_array_broadcast_to(deep, ones, AD_MAX_NDIM + 1, &made), AD_ERR_SHAPE, limit);
    MAKES(ad_stack((const ad_array *const[]){deep, deep}, 2, 0, &made), AD_ERR_SHAPE, limit);
    MAKES(ad_one_hot(deep, 3, 1, 0, AD_FLOAT32, &made), AD_ERR_SHAPE, limit);
    MAKES(ad_array_transpose(deep, NULL, 0, &made), AD_OK, "");
    DROP();
    MAKES(ad_sum(deep, NULL, 0, true, &made), AD_OK, "");
    DROP();
    ad_array *flat = NULL;
    STATUS(ad_array_arange(0, 2, 1, AD_FLOAT32, &flat), AD_OK, "");
    MAKES(ad_add(deep, flat, &made), AD_OK, "");
    DROP();
    ad_array_free(flat);
    ad_array_free(deep);
}

/* ---- item 9: freed memory goes back to the system ---- */

static size_t resident(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, pages = 0;
    if (!f || fscanf(f, "%lu %lu", &size, &pages) != 2) {
        printf("cannot read /proc/self/statm\n");
        exit(2);
    }
    fclose(f);
    return pages * 4096;
}

#define MIB ((size_t)1 << 20)

#define KIB ((size_t)1 << 10)

/* Makes `count` arrays of `kib` KiB each, then frees them all. */
static void make_and_free(size_t count, size_t kib) {
    ad_array *held[64];
    const size_t shape[] = {kib * KIB / 4};
    for (size_t i = 0; i < count; i++) STATUS(ad_array_ones(shape, 1, AD_FLOAT32, &held[i]), AD_OK, "");
    for (size_t i = 0; i < count; i++) STATUS(ad_array_free(held[i]), AD_OK, "");
}

static void case_memory(void) {
    STATUS(ad_set_num_threads(1), AD_OK, "");
    make_and_free(1, 1024);
    size_t released = 0;
    STATUS(ad_release_cached_memory(&released), AD_OK, "");
    STATUS(ad_release_cached_memory(NULL), AD_OK, "");
    const size_t base = resident();

    /* 320 MiB of arrays, all freed: the cache holds them, until asked to let go */
    make_and_free(40, 8192);
    EXPECT(resident() > base + 200 * MIB, "the cache kept %zu MiB", (resident() - base) / MIB);
    STATUS(ad_release_cached_memory(&released), AD_OK, "");
    EXPECT(released == 320 * MIB, "released %zu bytes", released);
    EXPECT(resident() < base + 32 * MIB, "%zu MiB stayed after the release", (resident() - base) / MIB);
    STATUS(ad_release_cached_memory(&released), AD_OK, "");
    EXPECT(released == 0, "released %zu bytes twice", released);

    /* freed again, then the program goes on with (the smallest cached) arrays of another
       size: the buffers it no longer uses go back without being asked */
    make_and_free(40, 8192);
    for (int i = 0; i < 3000; i++) make_and_free(2, 64);
    EXPECT(resident() < base + 32 * MIB, "%zu MiB stayed cached while unused", (resident() - base) / MIB);
    STATUS(ad_release_cached_memory(&released), AD_OK, "");
    EXPECT(released == 2 * 64 * KIB, "the 64 KiB buffers in use stayed cached; released %zu bytes", released);
}

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        void (*run)(void);
    } cases[] = {{"alloc", case_alloc}, {"address_space", case_address_space}, {"empty", case_empty},
                 {"hostile", case_hostile}, {"axes", case_axes}, {"memory", case_memory}};
    for (size_t i = 0; argc == 2 && i < sizeof cases / sizeof cases[0]; i++) {
        if (strcmp(argv[1], cases[i].name) == 0) {
            cases[i].run();
            printf("%s: %d failed\n", argv[1], failures);
            return failures ? 1 : 0;
        }
    }
    printf("usage: %s alloc|address_space|empty|hostile|axes|memory\n", argv[0]);
    return 2;
}
