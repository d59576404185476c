/*
 * A seeded random fuzzer of the C API: random sequences of calls to every function of ad.h,
 * with live, freed, NULL and made-up handles, hostile shapes and axes (0, 2^40, 2^63,
 * SIZE_MAX, negative, INT64_MIN), NaN and infinite scalars, unbalanced scopes and changes of
 * the thread count. After every call it checks what the header promises:
 *
 * - the status is an ad_status, never AD_ERR_PANIC (no internal error is reachable);
 * - a failure leaves a message in ad_last_error() that names the function;
 * - an out-parameter is written on success and left alone on failure;
 * - a freed or made-up handle is refused, and so is NULL where a handle is required;
 * - an array never has more than AD_MAX_NDIM axes, and its size is its shape's product;
 * - scopes close exactly when the innermost open scope is of the kind being closed.
 *
 * Usage: fuzz_calls [SEED [SECONDS [MAX_CALLS]]] (defaults 1, 10 and unbounded). It prints
 * the failed checks (the first 50), a summary line, the count of each status, and the list
 * of functions it called (with FUZZ_STATS=1 in the environment, how often each succeeded);
 * it exits non-zero when any check failed. The test harness (tests/c_api.rs) compiles it
 * with AddressSanitizer and UndefinedBehaviorSanitizer and runs a few seeds for a bounded
 * time, and runs it once more under valgrind; see the README for long campaigns. Made-up
 * handles assume a 64-bit target (see `made_up`).
 */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ad.h"

#if defined(__SANITIZE_ADDRESS__)
/* Allocations of terabytes, which the library must refuse with AD_ERR_ALLOC, fail as they do
   without the sanitizer instead of stopping the process. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "allocator_may_return_null=1";
}
#endif

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- random numbers (splitmix64) ---- */

static uint64_t rng;

static uint64_t next_u64(void) {
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t below(size_t n) {
    return n ? (size_t)(next_u64() % n) : 0;
}

static int chance(unsigned percent) {
    return below(100) < percent;
}

/* ---- failures and what was called ---- */

static unsigned long calls = 0, failures = 0;
static const char *current = "";

#define FAIL(...)                                                 \
    do {                                                          \
        failures++;                                               \
        if (failures <= 50) {                                     \
            printf("call %lu, %s: ", calls, current);             \
            printf(__VA_ARGS__);                                  \
            printf(" [last error: %s]\n", ad_last_error());       \
        }                                                         \
    } while (0)

static struct {
    const char *name;
    unsigned long hits, oks;
} seen[256];
static size_t nseen = 0, now_seen = 0;
/* The last ad_status. */
#define LAST_STATUS AD_ERR_FORMAT
static unsigned long statuses[LAST_STATUS + 1];

/* Marks the start of a call to `name`. */
static void enter(const char *name) {
    calls++;
    current = name;
    for (now_seen = 0; now_seen < nseen; now_seen++) {
        if (strcmp(seen[now_seen].name, name) == 0) {
            seen[now_seen].hits++;
            return;
        }
    }
    if (nseen < COUNT(seen)) {
        seen[nseen].name = name;
        seen[nseen++].hits = 1;
    }
}

/* The invariants of every status: a valid code, never an internal error, and on failure a
   message that starts with the function's name. */
static void check_status(ad_status s) {
    if ((unsigned)s > LAST_STATUS) {
        FAIL("status %u is not an ad_status", (unsigned)s);
        return;
    }
    statuses[s]++;
    if (s == AD_OK && now_seen < nseen) seen[now_seen].oks++;
    if (s == AD_ERR_PANIC) FAIL("internal error");
    if (s != AD_OK) {
        const char *m = ad_last_error();
        size_t n = strlen(current);
        if (m == NULL || strncmp(m, current, n) != 0 || m[n] != ':') FAIL("%s without a message of its own", ad_status_name(s));
    }
}

/* ---- handles: live ones, freed ones, made-up ones ---- */

enum kind { LIVE, DEAD, NUL, MADE_UP };

typedef struct {
    ad_array *h;
    enum kind kind;
} handle;

/* Live handles: about MAX_LIVE between actions (an action may make a few more, freed before
   the next one, so that no handle an action holds is freed under it). */
#define MAX_LIVE 48
static ad_array *live[MAX_LIVE + 64];
static size_t nlive = 0;
static ad_array *dead[64];
static size_t ndead = 0, next_dead = 0;

/* The arrays kept for later calls: up to 256 elements, or 1-d ones up to 80,000 (large
   enough for ops to be split over threads). Others are freed as soon as they are made, so
   that sizes cannot grow from one op to the next, and `too_big` keeps broadcasting from
   making arrays that would take gigabytes. */
#define MAX_KEPT_SMALL 256
#define MAX_KEPT_FLAT 80000

/* What an out-parameter holds before a call: a value no call writes. */
#define SENTINEL ((ad_array *)(uintptr_t)0x5e5e5e5e5e5e5e50ull)

/* Values the library cannot have made: the slot index in the low half of a handle is past
   any table, or the generation in the high half is one that no slot reaches in a run. */
static ad_array *made_up(void) {
    switch (below(4)) {
    case 0:
        return (ad_array *)(uintptr_t)0xFFFFFFFFull;
    case 1:
        return (ad_array *)(uintptr_t)(((uint64_t)0xFFFFFFF0u + below(16)) << 32 | (1 + below(64)));
    case 2:
        return (ad_array *)(uintptr_t)((uint64_t)(1 + below(1000)) << 32);
    default:
        return (ad_array *)(uintptr_t)(0x7FFFFF00ull + below(0xFF));
    }
}

static void bury(ad_array *h) {
    dead[next_dead] = h;
    next_dead = (next_dead + 1) % COUNT(dead);
    if (ndead < COUNT(dead)) ndead++;
}

static void forget(ad_array *h) {
    for (size_t i = 0; i < nlive; i++) {
        if (live[i] == h) {
            live[i] = live[--nlive];
            return;
        }
    }
}

static void free_checked(ad_array *h) {
    enter("ad_array_free");
    ad_status s = ad_array_free(h);
    check_status(s);
    if (s != AD_OK) FAIL("freeing a live handle failed");
    forget(h);
    bury(h);
}

static int describe(ad_array *h, size_t *shape, size_t *ndim, uint32_t *dtype, size_t *size);

/* Keeps a handle a call made, or frees it at once when it is large (or too many are live). */
static void adopt(ad_array *h) {
    size_t shape[AD_MAX_NDIM], ndim, size;
    uint32_t dtype;
    live[nlive++] = h;
    if (nlive == COUNT(live) || !describe(h, shape, &ndim, &dtype, &size) ||
        (size > MAX_KEPT_SMALL && (ndim > 1 || size > MAX_KEPT_FLAT))) {
        free_checked(h);
    }
}

/* Between actions: frees random handles down to MAX_LIVE. */
static void trim(void) {
    while (nlive > MAX_LIVE) free_checked(live[below(nlive)]);
}

/* A live handle, if any. */
static handle pick_live(void) {
    handle r = {NULL, NUL};
    if (nlive) {
        r.h = live[below(nlive)];
        r.kind = LIVE;
    }
    return r;
}

/* Mostly a live handle; sometimes a freed one, NULL or a made-up one. */
static handle pick(void) {
    size_t r = below(100);
    handle out = {NULL, NUL};
    if (r < 5 && ndead) {
        out.h = dead[below(ndead)];
        out.kind = DEAD;
    } else if (r < 9) {
        out.h = NULL;
    } else if (r < 12) {
        out.h = made_up();
        out.kind = MADE_UP;
    } else {
        out = pick_live();
    }
    return out;
}

/* Whether `h`, passed where a handle is required (or where NULL is allowed, if `optional`),
   makes the call invalid. */
static int bad(handle h, int optional) {
    return h.kind == DEAD || h.kind == MADE_UP || (h.kind == NUL && !optional);
}

/* The checks of a call that writes one handle to `*out_ptr` (`out_ptr` NULL: the
   out-pointer itself was NULL); `invalid`: some argument makes the call fail for sure. (The
   result is read here, after the call: as an argument beside the call it could be read
   before the call ran.) */
static void check_made(ad_status s, ad_array **out_ptr, int invalid, int null_ok) {
    check_status(s);
    if (s == AD_OK && (invalid || out_ptr == NULL)) FAIL("succeeded with a freed, made-up or NULL handle or out-pointer");
    if (out_ptr == NULL) return;
    ad_array *out = *out_ptr;
    if (s == AD_OK) {
        if (out == SENTINEL) {
            FAIL("succeeded without writing its result");
        } else if (out == NULL) {
            if (!null_ok) FAIL("succeeded with a NULL result");
        } else {
            adopt(out);
        }
    } else if (out != SENTINEL) {
        FAIL("wrote its out-parameter on failure");
        if (out != NULL) adopt(out);
    }
}

/* The shape, ndim, dtype and size of a live handle, checked against each other. */
static int describe(ad_array *h, size_t *shape, size_t *ndim, uint32_t *dtype, size_t *size) {
    const char *was = current;
    enter("ad_array_ndim");
    ad_status s = ad_array_ndim(h, ndim);
    check_status(s);
    if (s != AD_OK) {
        FAIL("ndim of a live handle failed");
        return 0;
    }
    if (*ndim > AD_MAX_NDIM) FAIL("an array has %zu axes", *ndim);
    enter("ad_array_shape");
    check_status(s = ad_array_shape(h, shape, AD_MAX_NDIM));
    enter("ad_array_dtype");
    check_status(ad_array_dtype(h, dtype));
    enter("ad_array_size");
    check_status(ad_array_size(h, size));
    size_t product = 1;
    for (size_t i = 0; s == AD_OK && i < *ndim; i++) product *= shape[i];
    if (s == AD_OK && product != *size && *size != 0) FAIL("size %zu is not the product of the shape", *size);
    current = was;
    return s == AD_OK;
}

/* Whether the arrays broadcast together would have more than 2^22 elements (and more than
   none): an op on them could take gigabytes, and succeed slowly. */
static int too_big(const handle *hs, size_t n) {
    double out[AD_MAX_NDIM];
    for (size_t i = 0; i < AD_MAX_NDIM; i++) out[i] = 1;
    for (size_t k = 0; k < n; k++) {
        size_t shape[AD_MAX_NDIM], ndim, size;
        uint32_t dtype;
        if (hs[k].kind != LIVE || !describe(hs[k].h, shape, &ndim, &dtype, &size)) continue;
        for (size_t i = 0; i < ndim; i++) {
            /* an axis of length 0: no elements, or shapes that do not broadcast */
            if (shape[i] == 0) return 0;
            double *d = &out[AD_MAX_NDIM - ndim + i];
            if ((double)shape[i] > *d) *d = (double)shape[i];
        }
    }
    double total = 1;
    for (size_t i = 0; i < AD_MAX_NDIM; i++) total *= out[i];
    return total > (double)(1 << 22);
}

/* ---- arguments ---- */

static const size_t HUGE[] = {(size_t)1 << 40, (size_t)1 << 59, ((size_t)1 << 60) - 1, (size_t)1 << 60,
                              (size_t)1 << 62, (size_t)1 << 63, SIZE_MAX};

/* A shape into `shape` (room for 1200); its ndim. Mostly small arrays, sometimes empty ones
   with huge dimensions, huge ones, and more axes than allowed. */
static size_t gen_shape(size_t *shape) {
    size_t r = below(100), ndim;
    if (r < 80) {
        ndim = below(5);
        for (size_t i = 0; i < ndim; i++) shape[i] = below(5);
    } else if (r < 90) {
        ndim = 1 + below(3);
        for (size_t i = 0; i < ndim; i++) shape[i] = chance(50) ? HUGE[below(COUNT(HUGE))] : below(4);
        shape[below(ndim)] = 0;
    } else if (r < 95) {
        ndim = 1 + below(2);
        for (size_t i = 0; i < ndim; i++) shape[i] = chance(50) ? HUGE[below(COUNT(HUGE))] : 1 + below(3);
    } else if (r < 98) {
        ndim = AD_MAX_NDIM + below(2);
        for (size_t i = 0; i < ndim; i++) shape[i] = 1;
        shape[below(ndim)] = 1 + below(2);
    } else {
        ndim = 1000 + below(200);
        for (size_t i = 0; i < ndim; i++) shape[i] = 1;
    }
    return ndim;
}

/* The element count of a shape, or SIZE_MAX when it is not small. */
static size_t small_count(const size_t *shape, size_t ndim) {
    size_t n = 1;
    for (size_t i = 0; i < ndim; i++) {
        if (shape[i] == 0) return 0;
    }
    for (size_t i = 0; i < ndim; i++) {
        if (shape[i] > 4096 || (n *= shape[i]) > 4096) return SIZE_MAX;
    }
    return n;
}

static int64_t gen_axis(void) {
    static const int64_t odd[] = {INT64_MIN, INT64_MAX, (int64_t)1 << 40, -((int64_t)1 << 40), AD_MAX_NDIM, -AD_MAX_NDIM - 1};
    return chance(85) ? (int64_t)below(9) - 4 : odd[below(COUNT(odd))];
}

static size_t gen_axes(int64_t *axes) {
    size_t n = below(4);
    for (size_t i = 0; i < n; i++) axes[i] = gen_axis();
    return n;
}

static double gen_scalar(void) {
    static const double odd[] = {NAN, INFINITY, -INFINITY, -0.0, 1e300, -1e300, 5e-324, DBL_MAX, 0.5, 1e-8};
    return chance(70) ? ((double)below(2001) - 1000) / 100 : odd[below(COUNT(odd))];
}

/* Mostly float32 and float64, sometimes float16, an integer or bool one, sometimes no dtype
   at all. */
static uint32_t gen_dtype(void) {
    static const uint32_t odd[] = {8, 9, 0xFFFFFFFFu};
    if (chance(80)) return (uint32_t)below(2);
    if (chance(30)) return AD_FLOAT16;
    return chance(80) ? AD_UINT8 + (uint32_t)below(5) : odd[below(COUNT(odd))];
}

static int dtype_ok(uint32_t d) {
    return d <= AD_BOOL;
}

/* The dtypes of random draws. */
static int float_dtype(uint32_t d) {
    return d <= 1;
}

/* The float16 bits nearest `v` (ties away from zero: any float16 will do here). */
static uint16_t half_bits(double v) {
    uint16_t sign = signbit(v) ? 0x8000 : 0;
    double a = fabs(v);
    if (isnan(v)) return 0x7e00;
    if (a >= 65520.0) return sign | 0x7c00;
    if (a < 0x1p-14) return sign | (uint16_t)lround(a / 0x1p-24); /* subnormal or zero */
    int e;
    double m = frexp(a, &e); /* a = m 2^e, m in [0.5, 1); a carry of the rounding goes into the exponent */
    return sign | (uint16_t)(((e + 14) << 10) + lround((2 * m - 1) * 1024));
}

static size_t dtype_width(uint32_t d) {
    switch (d) {
    case AD_FLOAT16: return 2;
    case AD_FLOAT64:
    case AD_INT64: return 8;
    case AD_UINT8:
    case AD_INT8:
    case AD_BOOL: return 1;
    default: return 4;
    }
}

/* An out-pointer: mostly the given one, sometimes NULL. */
static ad_array **gen_out(ad_array **out) {
    *out = SENTINEL;
    return chance(4) ? NULL : out;
}

/* A new array of `shape` and `dtype`, uniform in [-2, 2) (made through the API, checked). */
static ad_array *make(const size_t *shape, size_t ndim, uint32_t dtype) {
    ad_array *out = SENTINEL;
    const char *was = current;
    enter("ad_random_uniform");
    /* An integer or bool array: float draws converted (whole numbers in [-2, 2]). */
    ad_status s = ad_random_uniform(-2, 2, shape, ndim, float_dtype(dtype) ? dtype : AD_FLOAT32, &out);
    check_status(s);
    if (s == AD_OK && !float_dtype(dtype)) {
        ad_array *drawn = out;
        out = SENTINEL;
        enter("ad_array_astype");
        s = ad_array_astype(drawn, dtype, &out);
        check_status(s);
        enter("ad_array_free");
        check_status(ad_array_free(drawn));
    }
    current = was;
    if (s != AD_OK) return NULL;
    adopt(out);
    /* adopt may have freed it at once (too large) */
    for (size_t i = 0; i < nlive; i++) {
        if (live[i] == out) return out;
    }
    return NULL;
}

/* An array of `h`'s shape and dtype (a new one, or `h` itself), or `h` when it is not live. */
static handle like(handle h) {
    size_t shape[AD_MAX_NDIM], ndim, size;
    uint32_t dtype;
    if (h.kind != LIVE || chance(20) || !describe(h.h, shape, &ndim, &dtype, &size)) return h;
    ad_array *m = make(shape, ndim, dtype);
    if (m) h.h = m;
    return h;
}

/* A new array holding small whole numbers in [-1, hi], of `shape`. */
static ad_array *make_ints(const size_t *shape, size_t ndim, uint32_t dtype, size_t hi) {
    size_t n = small_count(shape, ndim);
    if (n == SIZE_MAX) return NULL;
    /* the values in the dtype's own type, as ad_array_create reads them */
    unsigned char *data = malloc((n ? n : 1) * dtype_width(dtype));
    for (size_t i = 0; data && i < n; i++) {
        double v = chance(95) ? (double)below(hi + 1) : -1;
        switch (dtype) {
        case AD_FLOAT64: ((double *)data)[i] = v; break;
        case AD_FLOAT16: ((uint16_t *)data)[i] = half_bits(v); break;
        case AD_UINT8: ((uint8_t *)data)[i] = (uint8_t)(int)v; break;
        case AD_INT8: ((int8_t *)data)[i] = (int8_t)v; break;
        case AD_INT32: ((int32_t *)data)[i] = (int32_t)v; break;
        case AD_INT64: ((int64_t *)data)[i] = (int64_t)v; break;
        case AD_BOOL: data[i] = v != 0; break;
        default: ((float *)data)[i] = (float)v;
        }
    }
    ad_array *out = SENTINEL;
    const char *was = current;
    enter("ad_array_create");
    ad_status s = data ? ad_array_create(data, shape, ndim, dtype, &out) : AD_ERR_ALLOC;
    if (data) check_status(s);
    current = was;
    free(data);
    if (s != AD_OK) return NULL;
    adopt(out);
    for (size_t i = 0; i < nlive; i++) {
        if (live[i] == out) return out;
    }
    return NULL;
}

/* A small benign array for the pool, now and then a medium one (split over threads). */
static void seed_pool(void) {
    size_t shape[4], ndim = below(4);
    for (size_t i = 0; i < ndim; i++) shape[i] = 1 + below(4);
    if (chance(3)) {
        ndim = 1;
        shape[0] = 70000 + below(1000);
    } else if (chance(5)) {
        /* an empty array with a huge dimension */
        ndim = 2;
        shape[0] = chance(50) ? (size_t)1 << 40 : 0;
        shape[1] = shape[0] ? 0 : (size_t)1 << 40;
    }
    ad_array *a = make(shape, ndim, (uint32_t)below(2));
    if (a && chance(40)) {
        enter("ad_array_attach_grad");
        check_status(ad_array_attach_grad(a, chance(80) ? AD_GRAD_WRITE : AD_GRAD_ADD));
    }
}

/* ---- the fuzzed functions, one action each (some cover a family) ---- */

typedef ad_status (*unary_fn)(const ad_array *, ad_array **);
typedef ad_status (*binary_fn)(const ad_array *, const ad_array *, ad_array **);
typedef ad_status (*scalar_fn)(const ad_array *, double, ad_array **);
typedef ad_status (*reduce_fn)(const ad_array *, const int64_t *, size_t, bool, ad_array **);

/* UNARY_OPS ... REDUCE_OPS: every op of ad.h of each shape, from the header (tests/c_api.rs). */
#include "fuzz_ops.h"

#define OP(f) {#f, f}
static const struct {
    const char *name;
    unary_fn fn;
} unary_ops[] = {UNARY_OPS, OP(ad_array_copy), OP(ad_array_detach), OP(ad_array_share)};
static const struct {
    const char *name;
    binary_fn fn;
} binary_ops[] = {BINARY_OPS};
static const struct {
    const char *name;
    scalar_fn fn;
} scalar_ops[] = {SCALAR_OPS};
static const struct {
    const char *name;
    reduce_fn fn;
} reduce_ops[] = {REDUCE_OPS};

static void fuzz_unary(void) {
    size_t i = below(COUNT(unary_ops));
    handle a = pick();
    ad_array *out, **o = gen_out(&out);
    enter(unary_ops[i].name);
    check_made(unary_ops[i].fn(a.h, o), o, bad(a, 0), 0);
}

static void fuzz_binary(void) {
    size_t i = below(COUNT(binary_ops));
    handle ab[2];
    ab[0] = pick();
    ab[1] = chance(50) ? like(ab[0]) : pick();
    if (too_big(ab, 2)) return;
    handle a = ab[0], b = ab[1];
    ad_array *out, **o = gen_out(&out);
    enter(binary_ops[i].name);
    check_made(binary_ops[i].fn(a.h, b.h, o), o, bad(a, 0) || bad(b, 0), 0);
}

static void fuzz_scalar(void) {
    size_t i = below(COUNT(scalar_ops));
    handle a = pick();
    ad_array *out, **o = gen_out(&out);
    enter(scalar_ops[i].name);
    check_made(scalar_ops[i].fn(a.h, gen_scalar(), o), o, bad(a, 0), 0);
}

static void fuzz_reduce(void) {
    size_t i = below(COUNT(reduce_ops));
    handle a = pick();
    int64_t axes[4];
    size_t n = gen_axes(axes);
    ad_array *out, **o = gen_out(&out);
    int null_axes = n > 0 && chance(3);
    enter(reduce_ops[i].name);
    check_made(reduce_ops[i].fn(a.h, null_axes ? NULL : axes, n, chance(50), o), o, bad(a, 0) || null_axes, 0);
}

static void fuzz_compare(void) {
    handle ab[2];
    ab[0] = pick();
    ab[1] = chance(50) ? like(ab[0]) : pick();
    if (too_big(ab, 2)) return;
    handle a = ab[0], b = ab[1];
    uint32_t op = chance(90) ? (uint32_t)below(6) : 6 + (uint32_t)below(100);
    ad_array *out, **o = gen_out(&out);
    if (chance(50)) {
        enter("ad_compare");
        check_made(ad_compare(a.h, b.h, op, o), o, bad(a, 0) || bad(b, 0) || op > 5, 0);
    } else {
        enter("ad_compare_scalar");
        check_made(ad_compare_scalar(a.h, gen_scalar(), op, o), o, bad(a, 0) || op > 5, 0);
    }
}

static void fuzz_dot(void) {
    handle a = pick(), b = chance(30) ? a : pick();
    ad_array *out, **o = gen_out(&out);
    if (chance(70)) {
        enter("ad_dot");
        check_made(ad_dot(a.h, b.h, chance(50), chance(50), o), o, bad(a, 0) || bad(b, 0), 0);
    } else {
        enter("ad_batch_dot");
        check_made(ad_batch_dot(a.h, b.h, chance(50), chance(50), o), o, bad(a, 0) || bad(b, 0), 0);
    }
}

static void fuzz_create(void) {
    static size_t shape[1200];
    size_t ndim = gen_shape(shape), n = small_count(shape, ndim);
    uint32_t dtype = gen_dtype();
    ad_array *out, **o = gen_out(&out);
    int null_shape = ndim > 0 && chance(3);
    const size_t *sp = null_shape ? NULL : shape;
    double value = gen_scalar();
    switch (below(10)) {
    case 0: {
        /* data of exactly the shape's count (as double, float: enough either way), or NULL */
        double *data = n == SIZE_MAX ? NULL : malloc((n ? n : 1) * sizeof(double));
        for (size_t i = 0; data && i < n; i++) data[i] = gen_scalar();
        int null_data = n > 0 && (data == NULL || chance(3));
        enter("ad_array_create");
        check_made(ad_array_create(null_data ? NULL : data, sp, ndim, dtype, o), o, null_shape || null_data || !dtype_ok(dtype), 0);
        free(data);
        break;
    }
    case 1:
        enter("ad_array_full");
        check_made(ad_array_full(sp, ndim, value, dtype, o), o, null_shape || !dtype_ok(dtype), 0);
        break;
    case 2:
        enter("ad_array_zeros");
        check_made(ad_array_zeros(sp, ndim, dtype, o), o, null_shape || !dtype_ok(dtype), 0);
        break;
    case 3:
        enter("ad_array_ones");
        check_made(ad_array_ones(sp, ndim, dtype, o), o, null_shape || !dtype_ok(dtype), 0);
        break;
    case 4:
        enter("ad_random_normal");
        check_made(ad_random_normal(value, chance(80) ? fabs(gen_scalar()) : gen_scalar(), sp, ndim, dtype, o), o,
                   null_shape || !float_dtype(dtype), 0);
        break;
    case 5:
        /* parameters mostly valid (positive), sometimes zero, negative, NaN or infinite */
        enter("ad_random_exponential");
        check_made(ad_random_exponential(chance(80) ? fabs(value) : value, sp, ndim, dtype, o), o,
                   null_shape || !float_dtype(dtype), 0);
        break;
    case 6: {
        double beta = gen_scalar();
        enter("ad_random_gamma");
        check_made(ad_random_gamma(chance(80) ? fabs(value) : value, chance(80) ? fabs(beta) : beta, sp, ndim, dtype, o),
                   o, null_shape || !float_dtype(dtype), 0);
        break;
    }
    case 7:
        enter("ad_random_poisson");
        check_made(ad_random_poisson(chance(80) ? fabs(value) : value, sp, ndim, dtype, o), o,
                   null_shape || !float_dtype(dtype), 0);
        break;
    case 8: {
        /* bounds mostly small and in order, sometimes equal, reversed or out of range */
        static const int64_t odd[] = {INT64_MIN, INT64_MAX, -(INT64_C(1) << 53), INT64_C(1) << 24, 0};
        int small = chance(90);
        int64_t lo = small ? (int64_t)below(41) - 20 : odd[below(COUNT(odd))];
        int64_t hi = small && chance(90) ? lo + (int64_t)below(30) : odd[below(COUNT(odd))];
        enter("ad_random_randint");
        check_made(ad_random_randint(lo, hi, sp, ndim, dtype, o), o,
                   null_shape || !(float_dtype(dtype) || dtype == AD_INT32 || dtype == AD_INT64), 0);
        break;
    }
    default: {
        double lo = gen_scalar(), hi = chance(80) ? lo + fabs(gen_scalar()) : gen_scalar();
        enter("ad_random_uniform");
        check_made(ad_random_uniform(lo, hi, sp, ndim, dtype, o), o, null_shape || !float_dtype(dtype), 0);
    }
    }
}

/* An array of `h`'s shape and dtype with values in [0.5, 2) (a valid parameter of every
   distribution), or `h` when it is not live. */
static handle positive_like(handle h) {
    size_t shape[AD_MAX_NDIM], ndim, size;
    uint32_t dtype;
    if (h.kind != LIVE || !describe(h.h, shape, &ndim, &dtype, &size)) return h;
    ad_array *m = SENTINEL;
    const char *was = current;
    enter("ad_random_uniform");
    ad_status s = ad_random_uniform(0.5, 2, shape, ndim, dtype, &m);
    check_status(s);
    current = was;
    if (s != AD_OK) return h;
    adopt(m);
    for (size_t i = 0; i < nlive; i++) {
        if (live[i] == m) {
            h.h = m;
            return h;
        }
    }
    return h;
}

/* The draws with array parameters: parameters mostly valid and of one shape, sometimes any
   live, freed or made-up arrays; a draw shape of up to 2 small sizes, sometimes a huge one. */
static void fuzz_sample(void) {
    handle a = pick();
    if (chance(70)) a = positive_like(a);
    handle b = chance(80) ? positive_like(a) : pick();
    handle ab[2] = {a, b};
    if (too_big(ab, 2)) return;
    size_t shape[2] = {below(4), below(4)}, ndim = below(3);
    if (chance(3)) shape[0] = chance(50) ? SIZE_MAX : (size_t)1 << 40;
    int null_shape = ndim > 0 && chance(3);
    const size_t *sp = null_shape ? NULL : shape;
    uint32_t dtype = gen_dtype();
    int invalid = null_shape || !dtype_ok(dtype) || bad(a, 0);
    ad_array *out, **o = gen_out(&out);
    switch (below(6)) {
    case 5: {
        /* rows of probabilities: mostly a softmax over the last axis (valid), sometimes the
           values as they are; the log-probabilities sometimes asked for too */
        handle d = a;
        ad_array *sm = SENTINEL;
        if (a.kind == LIVE && chance(80)) {
            const char *was = current;
            enter("ad_softmax");
            ad_status s = ad_softmax(a.h, -1, &sm);
            check_status(s);
            current = was;
            if (s == AD_OK) {
                adopt(sm);
                for (size_t i = 0; i < nlive; i++) {
                    if (live[i] == sm) d.h = sm;
                }
            }
        }
        ad_array *lp = SENTINEL, **l = chance(50) ? &lp : NULL;
        enter("ad_sample_multinomial");
        ad_status s = ad_sample_multinomial(d.h, sp, ndim, dtype, o, l);
        check_made(s, o, invalid, 0);
        if (s == AD_OK && l != NULL) {
            if (lp == SENTINEL || lp == NULL) FAIL("succeeded without writing log_prob");
            else adopt(lp);
        } else if (lp != SENTINEL) {
            FAIL("wrote log_prob on failure");
        }
        break;
    }
    case 0:
        enter("ad_sample_normal");
        check_made(ad_sample_normal(a.h, b.h, sp, ndim, dtype, o), o, invalid || bad(b, 0), 0);
        break;
    case 1:
        enter("ad_sample_uniform");
        check_made(ad_sample_uniform(a.h, b.h, sp, ndim, dtype, o), o, invalid || bad(b, 0), 0);
        break;
    case 2:
        enter("ad_sample_gamma");
        check_made(ad_sample_gamma(a.h, b.h, sp, ndim, dtype, o), o, invalid || bad(b, 0), 0);
        break;
    case 3:
        enter("ad_sample_exponential");
        check_made(ad_sample_exponential(a.h, sp, ndim, dtype, o), o, invalid, 0);
        break;
    default:
        enter("ad_sample_poisson");
        check_made(ad_sample_poisson(a.h, sp, ndim, dtype, o), o, invalid, 0);
    }
}

static void fuzz_arange(void) {
    /* small ranges, or ones that must fail fast: never a few gigabytes that would succeed */
    static const double odd[][3] = {{0, 1e300, 1}, {0, 1e17, 1}, {0, 1, 1e-300}, {NAN, 1, 1}, {0, INFINITY, 1},
                                    {0, 1, 0},     {5, 0, 1},    {0, 1099511627776.0, 1}, {0, -5, -0.5}, {1, 1, 1}};
    double start, stop, step;
    if (chance(80)) {
        start = (double)below(21) - 10;
        stop = start + (double)below(41) - 20;
        step = (chance(50) ? 1 : -1) * (chance(50) ? 1 : 0.5 + (double)below(3));
    } else {
        size_t i = below(COUNT(odd));
        start = odd[i][0];
        stop = odd[i][1];
        step = odd[i][2];
    }
    uint32_t dtype = gen_dtype();
    ad_array *out, **o = gen_out(&out);
    enter("ad_array_arange");
    check_made(ad_array_arange(start, stop, step, dtype, o), o, !dtype_ok(dtype), 0);
}

static void fuzz_free(void) {
    if (chance(50)) {
        size_t n = below(5);
        ad_array *list[5];
        handle hs[5];
        int invalid = 0;
        for (size_t i = 0; i < n; i++) {
            hs[i] = (i > 0 && chance(10)) ? hs[0] : pick();
            list[i] = hs[i].h;
            invalid |= bad(hs[i], 1);
            for (size_t j = 0; j < i; j++) invalid |= hs[i].kind == LIVE && hs[j].h == hs[i].h;
        }
        int null_list = n > 0 && chance(5);
        enter("ad_array_free_many");
        ad_status s = ad_array_free_many(null_list ? NULL : list, n);
        check_status(s);
        if (s == AD_OK && (invalid || null_list)) FAIL("freed a freed, made-up or repeated handle");
        if (s != AD_OK && !invalid && !null_list) FAIL("failed on live handles");
        /* every live handle of the list is freed, whatever the others were */
        for (size_t i = 0; !null_list && i < n; i++) {
            if (hs[i].kind != LIVE) continue;
            int first = 1;
            for (size_t j = 0; j < i; j++) first &= hs[j].h != hs[i].h;
            if (!first) continue;
            forget(hs[i].h);
            bury(hs[i].h);
            enter("ad_array_size");
            size_t size;
            if (ad_array_size(hs[i].h, &size) != AD_ERR_INVALID_HANDLE) FAIL("a handle given to free_many is still live");
        }
        return;
    }
    handle h = pick();
    enter("ad_array_free");
    ad_status s = ad_array_free(h.h);
    check_status(s);
    if (h.kind == LIVE || h.kind == NUL) {
        if (s != AD_OK) FAIL("freeing a live or NULL handle failed");
        if (h.kind == LIVE) {
            forget(h.h);
            bury(h.h);
        }
    } else if (s != AD_ERR_INVALID_HANDLE) {
        FAIL("freeing a freed or made-up handle gave %s", ad_status_name(s));
    }
}

static void fuzz_query(void) {
    handle h = pick();
    int null_out = chance(5);
    switch (below(6)) {
    case 0: {
        size_t v = 777, *p = null_out ? NULL : &v;
        enter("ad_array_ndim");
        ad_status s = ad_array_ndim(h.h, p);
        check_status(s);
        if (s == AD_OK && (bad(h, 0) || null_out)) FAIL("succeeded on a bad argument");
        if (s != AD_OK && v != 777) FAIL("wrote its out-parameter on failure");
        if (s == AD_OK && v > AD_MAX_NDIM) FAIL("%zu axes", v);
        break;
    }
    case 1: {
        size_t v = 777, *p = null_out ? NULL : &v;
        enter("ad_array_size");
        ad_status s = ad_array_size(h.h, p);
        check_status(s);
        if (s == AD_OK && (bad(h, 0) || null_out)) FAIL("succeeded on a bad argument");
        if (s != AD_OK && v != 777) FAIL("wrote its out-parameter on failure");
        break;
    }
    case 2: {
        uint32_t v = 777, *p = null_out ? NULL : &v;
        enter("ad_array_dtype");
        ad_status s = ad_array_dtype(h.h, p);
        check_status(s);
        if (s == AD_OK && (bad(h, 0) || null_out || !dtype_ok(v))) FAIL("succeeded on a bad argument, or dtype %u", v);
        if (s != AD_OK && v != 777) FAIL("wrote its out-parameter on failure");
        break;
    }
    case 3: {
        double v, sentinel;
        uint64_t bits = 0x7ff4deadbeef1234ull;
        memcpy(&sentinel, &bits, sizeof v);
        v = sentinel;
        enter("ad_array_asscalar");
        ad_status s = ad_array_asscalar(h.h, null_out ? NULL : &v);
        check_status(s);
        if (s == AD_OK && (bad(h, 0) || null_out)) FAIL("succeeded on a bad argument");
        if (s != AD_OK && memcmp(&v, &sentinel, sizeof v) != 0) FAIL("wrote its out-parameter on failure");
        break;
    }
    case 4: {
        /* Computing pending values fails only on a handle that is not an array's. */
        enter("ad_array_wait_to_read");
        ad_status s = ad_array_wait_to_read(h.h);
        check_status(s);
        if ((s == AD_OK) == bad(h, 0)) FAIL("wait_to_read gave %s", ad_status_name(s));
        break;
    }
    default: {
        size_t shape[AD_MAX_NDIM], ndim = 0, size;
        uint32_t dtype;
        if (h.kind == LIVE && describe(h.h, shape, &ndim, &dtype, &size)) {
            /* the shape into a buffer too small, exact, or larger */
            size_t cap = chance(30) ? below(ndim + 1) : ndim + below(3);
            size_t *buf = malloc((cap + 1) * sizeof(size_t));
            for (size_t i = 0; i <= cap; i++) buf[i] = 0xA5A5A5A5u;
            int null_buf = chance(5);
            enter("ad_array_shape");
            ad_status s = ad_array_shape(h.h, null_buf ? NULL : buf, cap);
            check_status(s);
            if (s == AD_OK && (cap < ndim || (null_buf && ndim > 0))) FAIL("succeeded with capacity %zu for %zu axes", cap, ndim);
            if (s != AD_OK && (cap >= ndim && !(null_buf && ndim > 0))) FAIL("failed on a large enough buffer");
            for (size_t i = s == AD_OK ? ndim : 0; i <= cap; i++) {
                if (buf[i] != 0xA5A5A5A5u) FAIL("wrote shape[%zu] beyond the shape or on failure", i);
            }
            free(buf);
        } else {
            size_t buf[4];
            enter("ad_array_shape");
            ad_status s = ad_array_shape(h.h, buf, 4);
            check_status(s);
            if (s == AD_OK && bad(h, 0)) FAIL("succeeded on a bad handle");
        }
    }
    }
}

static void fuzz_read(void) {
    handle h = pick();
    size_t size = 0, shape[AD_MAX_NDIM], ndim;
    uint32_t adtype;
    if (h.kind == LIVE) describe(h.h, shape, &ndim, &adtype, &size);
    size_t count = chance(75) ? size : (size_t)below(5);
    uint32_t dtype = gen_dtype();
    size_t bytes = (count ? count : 1) * 8;
    unsigned char *buf = malloc(bytes), *copy = malloc(bytes);
    memset(buf, 0xAB, bytes);
    memcpy(copy, buf, bytes);
    int null_buf = chance(4);
    enter("ad_array_read");
    ad_status s = ad_array_read(h.h, dtype, null_buf ? NULL : buf, count);
    check_status(s);
    int invalid = bad(h, 0) || !dtype_ok(dtype) || count != size || (null_buf && count > 0);
    if (s == AD_OK && invalid) FAIL("succeeded on a bad argument");
    if (s != AD_OK && h.kind == LIVE && !invalid) FAIL("failed to read %zu elements", count);
    if (s != AD_OK && memcmp(buf, copy, bytes) != 0) FAIL("wrote the buffer on failure");
    free(buf);
    free(copy);
}

static void fuzz_to_string(void) {
    handle h = pick();
    size_t length = 12345, cap;
    if (chance(50)) {
        /* learn the length, then print into a buffer of exactly that much */
        enter("ad_array_to_string");
        ad_status s = ad_array_to_string(h.h, NULL, 0, &length);
        check_status(s);
        if (s == AD_OK && bad(h, 0)) FAIL("succeeded on a bad handle");
        if (s != AD_OK) return;
        cap = length + 1;
    } else {
        cap = below(40);
    }
    char *buf = malloc(cap + 1);
    memset(buf, 'X', cap + 1);
    size_t reported = 777;
    int with_length = chance(70), null_buf = chance(5);
    enter("ad_array_to_string");
    ad_status s = ad_array_to_string(h.h, null_buf ? NULL : buf, cap, with_length ? &reported : NULL);
    check_status(s);
    if (s == AD_OK && bad(h, 0)) FAIL("succeeded on a bad handle");
    if (s == AD_OK && !null_buf) {
        size_t n = strnlen(buf, cap + 1);
        if (n >= cap) FAIL("the text is not terminated within the capacity");
        if (with_length && reported != n) FAIL("reported length %zu, text of %zu", reported, n);
        if (buf[cap] != 'X') FAIL("wrote past the capacity");
    }
    if (s != AD_OK) {
        for (size_t i = 0; i <= cap; i++) {
            if (buf[i] != 'X') {
                FAIL("wrote the buffer on failure");
                break;
            }
        }
        if (with_length && s != AD_ERR_BUFFER_TOO_SMALL && reported != 777) FAIL("wrote the length on failure");
    }
    free(buf);
}

/* A requested shape for a reshape of `h`: its dims shuffled with -1s, or odd values. */
static size_t gen_reshape(handle h, int64_t *to) {
    size_t shape[AD_MAX_NDIM], ndim = 0, size;
    uint32_t dtype;
    if (h.kind == LIVE && chance(70) && describe(h.h, shape, &ndim, &dtype, &size)) {
        size_t n = 0;
        for (size_t i = 0; i < ndim; i++) {
            if (shape[i] != 1 || chance(50)) to[n++] = (int64_t)shape[i];
        }
        for (size_t i = n; i > 1; i--) {
            size_t j = below(i);
            int64_t t = to[i - 1];
            to[i - 1] = to[j];
            to[j] = t;
        }
        if (n > 0 && chance(40)) to[below(n)] = -1;
        if (chance(20) && n < AD_MAX_NDIM + 2) to[n++] = 1;
        return n;
    }
    static const int64_t odd[] = {-1, 0, 1, 2, 3, 4, 6, 8, -2, INT64_MAX, INT64_MIN, (int64_t)1 << 40, (int64_t)1 << 62};
    size_t n = chance(95) ? below(5) : AD_MAX_NDIM + below(2);
    for (size_t i = 0; i < n; i++) to[i] = n > 8 ? 1 : odd[below(COUNT(odd))];
    return n;
}

static void fuzz_reshape_like(void) {
    handle a = pick();
    ad_array *out, **o = gen_out(&out);
    switch (below(3)) {
    case 0: {
        int64_t to[AD_MAX_NDIM + 2];
        size_t n = gen_reshape(a, to);
        int null_to = n > 0 && chance(3);
        enter("ad_array_reshape");
        check_made(ad_array_reshape(a.h, null_to ? NULL : to, n, o), o, bad(a, 0) || null_to, 0);
        break;
    }
    case 1: {
        size_t shape[AD_MAX_NDIM], ndim = 0, size;
        uint32_t dtype;
        int64_t axes[AD_MAX_NDIM + 1];
        size_t n = 0;
        if (a.kind == LIVE && chance(70) && describe(a.h, shape, &ndim, &dtype, &size) && chance(70)) {
            n = ndim;
            for (size_t i = 0; i < n; i++) axes[i] = (int64_t)i - (chance(30) ? (int64_t)n : 0);
            for (size_t i = n; i > 1; i--) {
                size_t j = below(i);
                int64_t t = axes[i - 1];
                axes[i - 1] = axes[j];
                axes[j] = t;
            }
        } else {
            n = gen_axes(axes);
        }
        enter("ad_array_transpose");
        check_made(ad_array_transpose(a.h, axes, n, o), o, bad(a, 0), 0);
        break;
    }
    default: {
        static size_t target[1200];
        size_t shape[AD_MAX_NDIM], ndim = 0, size, n;
        uint32_t dtype;
        if (a.kind == LIVE && chance(70) && describe(a.h, shape, &ndim, &dtype, &size)) {
            n = below(2);
            for (size_t i = 0; i < n; i++) target[i] = 1 + below(3);
            for (size_t i = 0; i < ndim; i++) target[n++] = shape[i] == 1 ? below(4) : shape[i];
        } else {
            n = gen_shape(target);
        }
        int null_shape = n > 0 && chance(3);
        enter("ad_array_broadcast_to");
        check_made(ad_array_broadcast_to(a.h, null_shape ? NULL : target, n, o), o, bad(a, 0) || null_shape, 0);
    }
    }
}

/* Python's slice(start, stop, step).indices(len), for a random slice of an axis. */
static ad_index gen_index_entry(size_t len) {
    static const ad_index odd[] = {{1, INT64_MIN, 2}, {INT64_MAX, INT64_MIN, -1}, {INT64_MIN, INT64_MAX, INT64_MAX},
                                   {0, 1, INT64_MAX}, {INT64_MIN, 0, 0},         {INT64_MAX, 0, 0},
                                   {0, 5, 0},         {-1, 2, 1},                {3, -1, INT64_MIN}};
    int64_t n = (int64_t)(len > 1000 ? 1000 : len);
    ad_index e;
    if (chance(10)) return odd[below(COUNT(odd))];
    if (chance(30)) {
        e.start = (int64_t)below((size_t)(2 * n + 3)) - n - 1;
        e.stop = 0;
        e.step = 0;
        return e;
    }
    int64_t step = chance(70) ? 1 : (chance(50) ? 2 : -1 - (int64_t)below(2));
    int64_t lo = step < 0 ? -1 : 0, hi = step < 0 ? n - 1 : n;
    e.start = lo + (int64_t)below((size_t)(hi - lo + 1));
    e.stop = lo + (int64_t)below((size_t)(hi - lo + 1));
    e.step = step;
    return e;
}

static void fuzz_slice(void) {
    handle a = pick();
    size_t shape[AD_MAX_NDIM], ndim = 0, size;
    uint32_t dtype;
    if (a.kind == LIVE) describe(a.h, shape, &ndim, &dtype, &size);
    size_t n = below(ndim + 2);
    ad_index index[AD_MAX_NDIM + 2];
    for (size_t i = 0; i < n; i++) index[i] = gen_index_entry(i < ndim ? shape[i] : 3);
    int null_index = n > 0 && chance(3);
    if (chance(60)) {
        ad_array *out, **o = gen_out(&out);
        enter("ad_array_slice");
        check_made(ad_array_slice(a.h, null_index ? NULL : index, n, o), o, bad(a, 0) || null_index, 0);
    } else {
        handle src = chance(50) ? pick() : like(pick());
        enter("ad_array_write_slice");
        ad_status s = ad_array_write_slice(a.h, null_index ? NULL : index, n, src.h);
        check_status(s);
        if (s == AD_OK && (bad(a, 0) || bad(src, 0) || null_index)) FAIL("succeeded on a bad argument");
    }
}

static void fuzz_update(void) {
    handle ab[2];
    ab[0] = pick();
    ab[1] = chance(60) ? like(ab[0]) : pick();
    if (too_big(ab, 2)) return;
    handle a = ab[0], b = ab[1];
    uint32_t op = chance(90) ? (uint32_t)below(4) : 4 + (uint32_t)below(10);
    enter("ad_array_update");
    ad_status s = ad_array_update(a.h, b.h, op);
    check_status(s);
    if (s == AD_OK && (bad(a, 0) || bad(b, 0) || op > 3)) FAIL("succeeded on a bad argument");
}

static void fuzz_astype(void) {
    handle a = pick();
    uint32_t dtype = gen_dtype();
    ad_array *out, **o = gen_out(&out);
    enter("ad_array_astype");
    check_made(ad_array_astype(a.h, dtype, o), o, bad(a, 0) || !dtype_ok(dtype), 0);
}

/* ---- scopes and flags: a shadow stack of the scopes opened ---- */

static int scopes[64];
static size_t depth = 0;

static void fuzz_scope(void) {
    static const struct {
        const char *begin, *end;
    } names[] = {{"ad_record_begin", "ad_record_end"},
                 {"ad_pause_begin", "ad_pause_end"},
                 {"ad_train_mode_begin", "ad_train_mode_end"},
                 {"ad_predict_mode_begin", "ad_predict_mode_end"}};
    int kind = (int)below(4);
    int open_one = depth < COUNT(scopes) && (depth == 0 ? chance(60) : chance(45));
    ad_status s;
    if (open_one) {
        enter(names[kind].begin);
        bool train = chance(50);
        switch (kind) {
        case 0: s = ad_record_begin(train); break;
        case 1: s = ad_pause_begin(train); break;
        case 2: s = ad_train_mode_begin(); break;
        default: s = ad_predict_mode_begin();
        }
        check_status(s);
        if (s != AD_OK) FAIL("could not open a scope");
        else scopes[depth++] = kind;
        if (kind == 0 && !ad_is_recording()) FAIL("not recording inside a record scope");
        if (kind == 1 && ad_is_recording()) FAIL("recording inside a pause scope");
        if (kind == 2 && !ad_is_training()) FAIL("not training inside a train-mode scope");
        if (kind == 3 && ad_is_training()) FAIL("training inside a predict-mode scope");
        return;
    }
    /* an end, of the innermost kind or (unbalanced) of another */
    if (depth > 0 && chance(70)) kind = scopes[depth - 1];
    enter(names[kind].end);
    switch (kind) {
    case 0: s = ad_record_end(); break;
    case 1: s = ad_pause_end(); break;
    case 2: s = ad_train_mode_end(); break;
    default: s = ad_predict_mode_end();
    }
    check_status(s);
    int expected = depth > 0 && scopes[depth - 1] == kind;
    if ((s == AD_OK) != expected) FAIL("closing a %s scope gave %s with %zu open", names[kind].begin, ad_status_name(s), depth);
    if (s == AD_OK) depth--;
}

static void fuzz_flags(void) {
    bool on = chance(50), previous;
    unsigned char raw[sizeof(bool)];
    memset(raw, 0x5A, sizeof raw);
    int with_previous = chance(70);
    if (chance(50)) {
        bool was = ad_is_recording();
        enter("ad_set_recording");
        ad_status s = ad_set_recording(on, with_previous ? (bool *)(void *)raw : NULL);
        check_status(s);
        enter("ad_is_recording");
        if (ad_is_recording() != on) FAIL("the recording flag is not what was set");
        if (with_previous) {
            memcpy(&previous, raw, sizeof raw);
            if (raw[0] > 1 || previous != was) FAIL("the previous recording flag is wrong");
        }
    } else {
        bool was = ad_is_training();
        enter("ad_set_training");
        ad_status s = ad_set_training(on, with_previous ? (bool *)(void *)raw : NULL);
        check_status(s);
        enter("ad_is_training");
        if (ad_is_training() != on) FAIL("the training flag is not what was set");
        if (with_previous) {
            memcpy(&previous, raw, sizeof raw);
            if (raw[0] > 1 || previous != was) FAIL("the previous training flag is wrong");
        }
    }
}

/* ---- autograd ---- */

static uint32_t gen_req(void) {
    static const uint32_t odd[] = {2, 4, 99, 0xFFFFFFFFu};
    static const uint32_t good[] = {AD_GRAD_NULL, AD_GRAD_WRITE, AD_GRAD_ADD};
    return chance(90) ? good[below(3)] : odd[below(COUNT(odd))];
}

static int req_ok(uint32_t r) {
    return r == AD_GRAD_NULL || r == AD_GRAD_WRITE || r == AD_GRAD_ADD;
}

/* ---- gradient hooks: a hook that reads its gradient, sometimes fails, calls back ---- */

static unsigned long hooks_set = 0, hooks_destroyed = 0;

static void hook_destroy(void *user_data) {
    (void)user_data;
    hooks_destroyed++;
}

static ad_status grad_hook_body(const ad_array *variable) {
    ad_array *g = NULL;
    size_t size = 0;
    enter("ad_array_grad");
    ad_status s = ad_array_grad(variable, &g);
    check_status(s);
    if (s != AD_OK || g == NULL) {
        FAIL("a hooked variable has no gradient");
        return s;
    }
    enter("ad_array_size");
    check_status(ad_array_size(g, &size));
    ad_array_free(g);
    if (chance(5)) {
        enter("ad_grad_hook_set_error");
        check_status(ad_grad_hook_set_error(chance(90) ? "the hook refuses" : NULL));
        return AD_ERR_IO;
    }
    if (chance(10)) {
        /* Replaces or removes itself while it runs. */
        enter("ad_array_set_grad_hook");
        check_status(ad_array_set_grad_hook((ad_array *)variable, NULL, NULL, NULL));
    }
    return AD_OK;
}

/* As pass_through: the call that ran the hook is named again after it. */
static ad_status grad_hook(void *user_data, const ad_array *variable) {
    const char *outer = current;
    size_t outer_seen = now_seen;
    (void)user_data;
    ad_status s = grad_hook_body(variable);
    current = outer;
    now_seen = outer_seen;
    return s;
}

static void fuzz_hooks(void) {
    handle a = pick();
    ad_grad_hook hook = chance(80) ? grad_hook : NULL;
    int with_destroy = chance(70);
    enter("ad_array_set_grad_hook");
    unsigned long destroyed_before = hooks_destroyed;
    ad_status s = ad_array_set_grad_hook(a.h, hook, NULL, with_destroy ? hook_destroy : NULL);
    check_status(s);
    if (s == AD_OK && bad(a, 0)) FAIL("succeeded on a bad handle");
    if (s != AD_OK && hooks_destroyed != destroyed_before) FAIL("a refused hook's user data was destroyed");
    if (s == AD_OK && hook && with_destroy) hooks_set++;
    if (hooks_destroyed > hooks_set) FAIL("more hooks destroyed than set");
    if (chance(20)) {
        enter("ad_grad_hook_set_error");
        s = ad_grad_hook_set_error("outside a hook");
        check_status(s);
        if (s != AD_ERR_AUTOGRAD) FAIL("ad_grad_hook_set_error outside a hook did not fail with AD_ERR_AUTOGRAD");
    }
}

static void fuzz_variables(void) {
    handle a = pick();
    switch (below(4)) {
    case 0: {
        uint32_t req = gen_req();
        enter("ad_array_attach_grad");
        ad_status s = ad_array_attach_grad(a.h, req);
        check_status(s);
        if (s == AD_OK && (bad(a, 0) || !req_ok(req))) FAIL("succeeded on a bad argument");
        break;
    }
    case 1: {
        handle g = chance(70) ? like(a) : pick();
        uint32_t req = gen_req();
        enter("ad_array_attach_grad_with");
        ad_status s = ad_array_attach_grad_with(a.h, g.h, req);
        check_status(s);
        if (s == AD_OK && (bad(a, 0) || bad(g, 0) || !req_ok(req))) FAIL("succeeded on a bad argument");
        break;
    }
    case 2: {
        enter("ad_array_retain_grad");
        ad_status s = ad_array_retain_grad(a.h);
        check_status(s);
        if (s == AD_OK && bad(a, 0)) FAIL("succeeded on a bad handle");
        break;
    }
    default: {
        ad_array *out, **o = gen_out(&out);
        enter("ad_array_grad");
        check_made(ad_array_grad(a.h, o), o, bad(a, 0), 1);
    }
    }
}

static void fuzz_backward(void) {
    switch (below(3)) {
    case 0: {
        handle head = pick(), hg = chance(50) ? (handle){NULL, NUL} : (chance(70) ? like(head) : pick());
        enter("ad_backward");
        ad_status s = ad_backward(head.h, hg.h, chance(50));
        check_status(s);
        if (s == AD_OK && (bad(head, 0) || bad(hg, 1))) FAIL("succeeded on a bad handle");
        break;
    }
    case 1: {
        size_t n = below(4);
        const ad_array *heads[3], *grads[3];
        int bad_heads = n == 0, bad_grads = 0;
        for (size_t i = 0; i < n; i++) {
            handle h = pick(), g = chance(60) ? (handle){NULL, NUL} : (chance(70) ? like(h) : pick());
            heads[i] = h.h;
            grads[i] = g.h;
            bad_heads |= bad(h, 0);
            bad_grads |= bad(g, 1);
        }
        int null_grads = chance(50), null_heads = n > 0 && chance(3);
        enter("ad_backward_ex");
        ad_status s = ad_backward_ex(null_heads ? NULL : heads, null_grads ? NULL : grads, n, chance(50), chance(50));
        check_status(s);
        if (s == AD_OK && (bad_heads || null_heads || (bad_grads && !null_grads))) FAIL("succeeded on a bad argument");
        break;
    }
    default: {
        size_t nh = below(3), nv = below(4);
        const ad_array *heads[2], *grads[2], *vars[3];
        ad_array *out[4];
        int invalid = nh == 0, bad_grads = 0;
        for (size_t i = 0; i < nh; i++) {
            handle h = pick(), g = chance(60) ? (handle){NULL, NUL} : (chance(70) ? like(h) : pick());
            heads[i] = h.h;
            grads[i] = g.h;
            invalid |= bad(h, 0);
            bad_grads |= bad(g, 1);
        }
        int null_grads = chance(50);
        invalid |= bad_grads && !null_grads;
        for (size_t i = 0; i < nv; i++) {
            handle v = pick();
            vars[i] = v.h;
            invalid |= bad(v, 0);
        }
        for (size_t i = 0; i < 4; i++) out[i] = SENTINEL;
        int null_out = chance(3);
        enter("ad_grad");
        ad_status s = ad_grad(heads, null_grads ? NULL : grads, nh, vars, nv, chance(50), chance(30), chance(50),
                              null_out ? NULL : out);
        check_status(s);
        if (s == AD_OK && (invalid || null_out)) FAIL("succeeded on a bad argument");
        if (out[nv] != SENTINEL) FAIL("wrote past out_grads[n_variables]");
        for (size_t i = 0; i < nv; i++) {
            if (s == AD_OK && !null_out) {
                if (out[i] == SENTINEL || out[i] == NULL) FAIL("out_grads[%zu] not written on success", i);
                else adopt(out[i]);
            } else if (out[i] != SENTINEL) {
                FAIL("out_grads[%zu] written on failure", i);
            }
        }
    }
    }
}

/* ---- neural-network ops ---- */

static void fuzz_nn(void) {
    handle a = pick();
    ad_array *out, **o = gen_out(&out);
    size_t shape[AD_MAX_NDIM], ndim = 0, size;
    uint32_t dtype = 0;
    int known = a.kind == LIVE && describe(a.h, shape, &ndim, &dtype, &size);
    switch (below(9)) {
    case 0:
        enter("ad_softmax");
        check_made(ad_softmax(a.h, gen_axis(), o), o, bad(a, 0), 0);
        break;
    case 1:
        enter("ad_log_softmax");
        check_made(ad_log_softmax(a.h, gen_axis(), o), o, bad(a, 0), 0);
        break;
    case 2: {
        /* logits (N, C) and labels (N,) of whole numbers, some out of range */
        handle labels = pick();
        if (known && ndim == 2 && chance(70)) {
            ad_array *l = make_ints(shape, 1, dtype, shape[1]);
            if (l) labels.h = l, labels.kind = LIVE;
        }
        enter("ad_softmax_cross_entropy");
        check_made(ad_softmax_cross_entropy(a.h, labels.h, chance(50), o), o, bad(a, 0) || bad(labels, 0), 0);
        break;
    }
    case 3: {
        handle index = pick();
        int64_t axis = gen_axis();
        if (known && ndim > 0 && chance(70)) {
            size_t ax = below(ndim), rest[AD_MAX_NDIM], n = 0;
            for (size_t i = 0; i < ndim; i++) {
                if (i != ax) rest[n++] = shape[i];
            }
            ad_array *ix = make_ints(rest, n, dtype, shape[ax]);
            if (ix) index.h = ix, index.kind = LIVE;
            axis = (int64_t)ax;
        }
        enter("ad_pick");
        check_made(ad_pick(a.h, index.h, axis, chance(50), o), o, bad(a, 0) || bad(index, 0), 0);
        break;
    }
    case 4: {
        size_t depth = chance(85) ? below(6) : HUGE[below(COUNT(HUGE))];
        uint32_t dt = gen_dtype();
        enter("ad_one_hot");
        check_made(ad_one_hot(a.h, depth, gen_scalar(), gen_scalar(), dt, o), o, bad(a, 0) || !dtype_ok(dt), 0);
        break;
    }
    case 5: {
        int64_t axis = gen_axis();
        int null_axis = chance(30);
        if (chance(50)) {
            enter("ad_argmax");
            check_made(ad_argmax(a.h, null_axis ? NULL : &axis, chance(50), o), o, bad(a, 0), 0);
        } else {
            enter("ad_argmin");
            check_made(ad_argmin(a.h, null_axis ? NULL : &axis, chance(50), o), o, bad(a, 0), 0);
        }
        if (chance(50)) {
            ad_array *c, **oc = gen_out(&c);
            enter("ad_cumsum");
            check_made(ad_cumsum(a.h, null_axis ? NULL : &axis, oc), oc, bad(a, 0), 0);
        }
        if (chance(50)) {
            ad_array *c, **oc = gen_out(&c);
            enter("ad_sort");
            check_made(ad_sort(a.h, null_axis ? NULL : &axis, chance(50), oc), oc, bad(a, 0), 0);
        }
        if (chance(50)) {
            ad_array *c, **oc = gen_out(&c);
            uint32_t dt = gen_dtype();
            enter("ad_argsort");
            check_made(ad_argsort(a.h, null_axis ? NULL : &axis, chance(50), dt, oc), oc, bad(a, 0) || !dtype_ok(dt), 0);
        }
        if (chance(50)) {
            ad_array *c, **oc = gen_out(&c);
            uint32_t dt = gen_dtype(), ret = chance(90) ? (uint32_t)below(3) : (uint32_t)below(1000);
            int64_t k = chance(80) ? (int64_t)below(5) - 1 : (chance(50) ? INT64_MAX : INT64_MIN);
            enter("ad_topk");
            check_made(ad_topk(a.h, null_axis ? NULL : &axis, k, ret, chance(50), dt, oc), oc,
                       bad(a, 0) || !dtype_ok(dt) || ret > 2, 0);
        }
        break;
    }
    case 6: {
        double lo = gen_scalar(), hi = chance(80) ? lo + fabs(gen_scalar()) : gen_scalar();
        enter("ad_clip");
        check_made(ad_clip(a.h, lo, hi, o), o, bad(a, 0), 0);
        break;
    }
    case 7: {
        handle cab[3];
        cab[0] = chance(60) ? like(a) : pick();
        cab[1] = a;
        cab[2] = chance(60) ? like(a) : pick();
        if (too_big(cab, 3)) return;
        handle c = cab[0], b = cab[2];
        enter("ad_where");
        check_made(ad_where(c.h, a.h, b.h, o), o, bad(a, 0) || bad(c, 0) || bad(b, 0), 0);
        break;
    }
    default: {
        double p = chance(80) ? (double)below(10) / 10 : gen_scalar();
        enter("ad_dropout");
        check_made(ad_dropout(a.h, p, o), o, bad(a, 0), 0);
    }
    }
}

static void fuzz_layers(void) {
    handle x = pick();
    ad_array *out, **o = gen_out(&out);
    size_t shape[AD_MAX_NDIM], ndim = 0, size;
    uint32_t dtype = 0;
    int known = x.kind == LIVE && describe(x.h, shape, &ndim, &dtype, &size);
    switch (below(4)) {
    case 0: {
        /* x · weightᵀ + bias, with a weight that fits x's features half of the time */
        handle w = pick(), b = chance(30) ? (handle){NULL, NUL} : pick();
        int flatten = chance(50);
        if (known && ndim > 0 && chance(60)) {
            size_t k = 1, hidden = 1 + below(4);
            if (flatten) {
                for (size_t i = 1; i < ndim; i++) k *= shape[i];
            } else {
                k = shape[ndim - 1];
            }
            if (k <= 4096) {
                size_t ws[2] = {hidden, k}, bs[1] = {hidden};
                ad_array *m = make(ws, 2, dtype);
                if (m) w.h = m, w.kind = LIVE;
                if (b.kind != NUL) {
                    ad_array *n = make(bs, 1, dtype);
                    if (n) b.h = n, b.kind = LIVE;
                }
            }
        }
        enter("ad_fully_connected");
        check_made(ad_fully_connected(x.h, w.h, b.h, flatten, o), o, bad(x, 0) || bad(w, 0) || bad(b, 1), 0);
        break;
    }
    case 1:
    case 2: {
        size_t n = below(5);
        const ad_array *list[4];
        int invalid = 0;
        for (size_t i = 0; i < n; i++) {
            handle h = chance(50) ? x : (chance(50) ? like(x) : pick());
            list[i] = h.h;
            invalid |= bad(h, 0);
        }
        int null_list = n > 0 && chance(3);
        if (chance(50)) {
            enter("ad_concat");
            check_made(ad_concat(null_list ? NULL : list, n, gen_axis(), o), o, invalid || null_list || n == 0, 0);
        } else {
            enter("ad_stack");
            check_made(ad_stack(null_list ? NULL : list, n, gen_axis(), o), o, invalid || null_list || n == 0, 0);
        }
        break;
    }
    default: {
        /* batch norm, with per-channel arrays of the right shape most of the time */
        int64_t axis = gen_axis();
        handle p[4];
        for (size_t i = 0; i < 4; i++) p[i] = pick();
        if (known && ndim > 0 && chance(70)) {
            size_t ax = below(ndim), c[1] = {shape[ax]};
            axis = (int64_t)ax;
            for (size_t i = 0; i < 4 && c[0] <= 4096; i++) {
                ad_array *m = make(c, 1, dtype);
                if (m) p[i].h = m, p[i].kind = LIVE;
            }
        }
        enter("ad_batch_norm");
        check_made(ad_batch_norm(x.h, p[0].h, p[1].h, p[2].h, p[3].h, chance(80) ? 0.9 : gen_scalar(),
                                 chance(80) ? 1e-5 : gen_scalar(), axis, chance(50), chance(30), o),
                   o, bad(x, 0) || bad(p[0], 0) || bad(p[1], 0) || bad(p[2], 0) || bad(p[3], 0), 0);
    }
    }
}

static void fuzz_optimizer(void) {
    handle w = pick(), g = chance(70) ? like(w) : pick();
    double lr = chance(80) ? 0.1 : gen_scalar(), wd = chance(80) ? 0.0 : gen_scalar();
    double rescale = chance(80) ? 1.0 : gen_scalar(), clip = chance(70) ? -1.0 : gen_scalar();
    ad_status s;
    int invalid = bad(w, 0) || bad(g, 0);
    switch (below(11)) {
    case 0:
        enter("ad_sgd_update");
        s = ad_sgd_update(w.h, g.h, lr, wd, rescale, clip);
        break;
    case 1: {
        handle m = chance(70) ? like(w) : pick();
        invalid |= bad(m, 0);
        enter("ad_sgd_mom_update");
        s = ad_sgd_mom_update(w.h, g.h, m.h, lr, chance(80) ? 0.9 : gen_scalar(), wd, rescale, clip);
        break;
    }
    case 2: {
        handle m = chance(70) ? like(w) : pick(), v = chance(70) ? like(w) : pick();
        invalid |= bad(m, 0) || bad(v, 0);
        enter("ad_adam_update");
        s = ad_adam_update(w.h, g.h, m.h, v.h, lr, chance(80) ? 0.9 : gen_scalar(), chance(80) ? 0.999 : gen_scalar(),
                           chance(80) ? 1e-8 : gen_scalar(), wd, rescale, clip, chance(50) ? 0 : next_u64() % 1000);
        break;
    }
    case 3:
        enter("ad_signsgd_update");
        s = ad_signsgd_update(w.h, g.h, lr, wd, rescale, clip);
        break;
    case 4: {
        handle m = chance(70) ? like(w) : pick();
        invalid |= bad(m, 0);
        enter("ad_signum_update");
        s = ad_signum_update(w.h, g.h, m.h, lr, chance(80) ? 0.9 : gen_scalar(), wd, rescale, clip,
                             chance(80) ? 0.0 : gen_scalar());
        break;
    }
    case 5: {
        handle n = chance(70) ? like(w) : pick();
        invalid |= bad(n, 0);
        enter("ad_rmsprop_update");
        s = ad_rmsprop_update(w.h, g.h, n.h, lr, chance(80) ? 0.95 : gen_scalar(), chance(80) ? 1e-8 : gen_scalar(),
                              wd, rescale, clip, chance(70) ? -1.0 : gen_scalar());
        break;
    }
    case 6: {
        handle n = chance(70) ? like(w) : pick(), m = chance(70) ? like(w) : pick(), d = chance(70) ? like(w) : pick();
        invalid |= bad(n, 0) || bad(m, 0) || bad(d, 0);
        enter("ad_rmspropalex_update");
        s = ad_rmspropalex_update(w.h, g.h, n.h, m.h, d.h, lr, chance(80) ? 0.95 : gen_scalar(),
                                  chance(80) ? 0.9 : gen_scalar(), chance(80) ? 1e-8 : gen_scalar(), wd, rescale, clip,
                                  chance(70) ? -1.0 : gen_scalar());
        break;
    }
    case 7: {
        handle z = chance(70) ? like(w) : pick(), n = chance(70) ? like(w) : pick();
        invalid |= bad(z, 0) || bad(n, 0);
        enter("ad_ftrl_update");
        s = ad_ftrl_update(w.h, g.h, z.h, n.h, lr, chance(80) ? 0.01 : gen_scalar(), chance(80) ? 1.0 : gen_scalar(),
                           wd, rescale, clip);
        break;
    }
    case 8: {
        handle m = chance(70) ? like(w) : pick();
        invalid |= bad(m, 0);
        enter("ad_nag_mom_update");
        s = ad_nag_mom_update(w.h, g.h, m.h, lr, chance(80) ? 0.9 : gen_scalar(), wd, rescale, clip);
        break;
    }
    case 9: {
        handle m = chance(70) ? like(w) : pick(), v = chance(70) ? like(w) : pick();
        ad_array *out, **o = gen_out(&out);
        invalid |= bad(m, 0) || bad(v, 0);
        enter("ad_lamb_update_phase1");
        s = ad_lamb_update_phase1(w.h, g.h, m.h, v.h, chance(80) ? 0.9 : gen_scalar(), chance(80) ? 0.999 : gen_scalar(),
                                  chance(80) ? 1e-6 : gen_scalar(), chance(50) ? 1 + next_u64() % 100 : next_u64(),
                                  chance(50), wd, rescale, clip, o);
        check_made(s, o, invalid, 0);
        return;
    }
    default: {
        size_t one[1] = {1};
        handle r1 = pick(), r2 = pick();
        if (chance(70)) {
            uint32_t dtype = 0;
            size_t shape[AD_MAX_NDIM], ndim = 0, size = 0;
            if (w.kind == LIVE && describe(w.h, shape, &ndim, &dtype, &size)) {
                ad_array *a = make(one, 1, dtype), *b = make(one, 1, dtype);
                if (a) r1.h = a, r1.kind = LIVE;
                if (b) r2.h = b, r2.kind = LIVE;
            }
        }
        invalid |= bad(r1, 0) || bad(r2, 0);
        enter("ad_lamb_update_phase2");
        s = ad_lamb_update_phase2(w.h, g.h, r1.h, r2.h, lr, chance(70) ? -1.0 : gen_scalar(),
                                  chance(70) ? -1.0 : gen_scalar());
    }
    }
    check_status(s);
    if (s == AD_OK && invalid) FAIL("succeeded on a bad handle");
}

/* ---- creation and shape ops ---- */

/* A count: mostly small, sometimes huge (never one that makes a large array and succeeds). */
static size_t gen_count(void) {
    return chance(90) ? below(5) : HUGE[below(COUNT(HUGE))];
}

static void fuzz_arrange(void) {
    handle a = pick();
    ad_array *out, **o = gen_out(&out);
    size_t shape[AD_MAX_NDIM], ndim = 0, size = 0;
    uint32_t dtype = 0;
    int known = a.kind == LIVE && describe(a.h, shape, &ndim, &dtype, &size);
    /* all four entries drawn: a list may be passed with the other's count */
    int64_t axes[4], other[4];
    for (size_t i = 0; i < 4; i++) axes[i] = gen_axis(), other[i] = gen_axis();
    size_t naxes = below(4), nother = below(4);
    switch (below(15)) {
    case 0: {
        uint32_t dt = gen_dtype();
        enter("ad_full_like");
        check_made(ad_full_like(a.h, gen_scalar(), dt, o), o, bad(a, 0) || !dtype_ok(dt), 0);
        break;
    }
    case 1: {
        uint32_t dt = gen_dtype();
        if (chance(50)) {
            enter("ad_array_linspace");
            check_made(ad_array_linspace(gen_scalar(), gen_scalar(), gen_count(), chance(50), dt, o), o, !dtype_ok(dt), 0);
        } else {
            enter("ad_array_eye");
            check_made(ad_array_eye(gen_count(), gen_count(), gen_axis(), dt, o), o, !dtype_ok(dt), 0);
        }
        break;
    }
    case 2: {
        int null_axes = naxes && chance(3);
        enter("ad_squeeze");
        check_made(ad_squeeze(a.h, null_axes ? NULL : axes, naxes, o), o, bad(a, 0) || null_axes, 0);
        break;
    }
    case 3:
        enter("ad_expand_dims");
        check_made(ad_expand_dims(a.h, gen_axis(), o), o, bad(a, 0), 0);
        break;
    case 4: {
        /* at most 8 parts: the buffer holds that many and one more, which must stay */
        ad_array *outs[9];
        size_t n = below(9);
        for (size_t i = 0; i < 9; i++) outs[i] = SENTINEL;
        int null_outs = chance(4);
        enter("ad_split");
        ad_status s = ad_split(a.h, n, gen_axis(), chance(30), null_outs ? NULL : outs);
        check_status(s);
        if (s == AD_OK && (bad(a, 0) || null_outs || n == 0)) FAIL("succeeded on a bad argument");
        if (outs[n] != SENTINEL) FAIL("wrote past outs[num_outputs]");
        for (size_t i = 0; i < n; i++) {
            if (s == AD_OK && !null_outs) {
                if (outs[i] == SENTINEL || outs[i] == NULL) FAIL("outs[%zu] not written on success", i);
                else adopt(outs[i]);
            } else if (outs[i] != SENTINEL) {
                FAIL("outs[%zu] written on failure", i);
            }
        }
        break;
    }
    case 5:
        enter("ad_flip");
        check_made(ad_flip(a.h, axes, naxes, o), o, bad(a, 0), 0);
        break;
    case 6: {
        /* reps of 0 to 2, now and then a huge one; no more than 2^22 elements made */
        size_t reps[5], nreps = below(5), total = known ? size : 1;
        for (size_t i = 0; i < nreps; i++) {
            reps[i] = chance(95) ? below(3) : HUGE[below(COUNT(HUGE))];
            total = reps[i] > 4 ? 0 : total * reps[i];
        }
        if (total > ((size_t)1 << 22)) return;
        int null_reps = nreps && chance(3);
        enter("ad_tile");
        check_made(ad_tile(a.h, null_reps ? NULL : reps, nreps, o), o, bad(a, 0) || null_reps, 0);
        break;
    }
    case 7: {
        size_t repeats = chance(95) ? below(4) : HUGE[below(COUNT(HUGE))];
        int64_t axis = gen_axis();
        if (known && repeats < 4 && size * repeats > ((size_t)1 << 22)) return;
        enter("ad_repeat");
        check_made(ad_repeat(a.h, repeats, chance(30) ? NULL : &axis, o), o, bad(a, 0), 0);
        break;
    }
    case 8:
        enter("ad_swapaxes");
        check_made(ad_swapaxes(a.h, gen_axis(), gen_axis(), o), o, bad(a, 0), 0);
        break;
    case 9:
        enter("ad_moveaxis");
        check_made(ad_moveaxis(a.h, axes, naxes, other, chance(80) ? naxes : nother, o), o, bad(a, 0), 0);
        break;
    case 10: {
        handle like_h = chance(50) ? like(a) : pick();
        if (known && like_h.kind == LIVE) {
            handle both[2] = {a, like_h};
            if (too_big(both, 2)) return;
        }
        enter("ad_broadcast_like");
        check_made(ad_broadcast_like(a.h, like_h.h, axes, naxes, other, chance(80) ? naxes : nother, o), o,
                   bad(a, 0) || bad(like_h, 0), 0);
        break;
    }
    case 11: {
        handle rhs = pick();
        int64_t b[4];
        for (size_t i = 0; i < 4; i++) b[i] = gen_axis();
        enter("ad_reshape_like");
        check_made(ad_reshape_like(a.h, rhs.h, chance(50) ? NULL : &b[0], chance(50) ? NULL : &b[1],
                                   chance(50) ? NULL : &b[2], chance(50) ? NULL : &b[3], o),
                   o, bad(a, 0) || bad(rhs, 0), 0);
        break;
    }
    case 12: {
        static const int64_t codes[] = {0, -1, -2, -3, -4, 1, 2, 3, 4, -5, INT64_MIN, INT64_MAX};
        int64_t c[6];
        size_t n = below(7);
        for (size_t i = 0; i < n; i++) c[i] = chance(90) ? codes[below(9)] : codes[below(COUNT(codes))];
        int null_codes = n && chance(3);
        enter("ad_array_reshape_codes");
        check_made(ad_array_reshape_codes(a.h, null_codes ? NULL : c, n, chance(20), o), o, bad(a, 0) || null_codes, 0);
        break;
    }
    case 13: {
        /* positions mostly inside the axis, some outside, in every mode */
        handle index = pick();
        int64_t axis = gen_axis();
        if (known && ndim > 0 && chance(70)) {
            size_t ax = below(ndim), ishape[2] = {1 + below(3), 1 + below(2)};
            ad_array *ix = make_ints(ishape, 1 + below(2), dtype, shape[ax] + 1);
            if (ix) index.h = ix, index.kind = LIVE;
            axis = (int64_t)ax;
        }
        uint32_t mode = chance(95) ? (uint32_t)below(3) : 3 + (uint32_t)below(5);
        if (chance(50)) {
            enter("ad_take");
            check_made(ad_take(a.h, index.h, axis, mode, o), o, bad(a, 0) || bad(index, 0) || mode > 2, 0);
        } else {
            enter("ad_pick_mode");
            check_made(ad_pick_mode(a.h, index.h, axis, chance(50), mode, o), o, bad(a, 0) || bad(index, 0) || mode > 2, 0);
        }
        break;
    }
    default: {
        /* put: positions in the array, a value that broadcasts to them most of the time */
        handle index = pick(), src = pick();
        if (known && size > 0 && size <= MAX_KEPT_FLAT && chance(70)) {
            size_t ishape[1] = {1 + below(4)};
            ad_array *ix = make_ints(ishape, 1, dtype, size);
            if (ix) index.h = ix, index.kind = LIVE;
            size_t one[1] = {1};
            ad_array *v = make(chance(50) ? one : ishape, 1, (uint32_t)below(2));
            if (v) src.h = v, src.kind = LIVE;
        }
        enter("ad_array_put");
        ad_status s = ad_array_put(a.h, index.h, src.h);
        check_status(s);
        if (s == AD_OK && (bad(a, 0) || bad(index, 0) || bad(src, 0))) FAIL("succeeded on a bad argument");
    }
    }
}

/* ---- custom functions: callbacks that pass their first array through, and use their context ---- */

/* The callbacks call the library with their own context (and some failures of their own);
   the checks after each call still hold inside them. */
static ad_status pass_through_body(ad_function_context *ctx, const ad_array *const *arrays, size_t n,
                                   ad_array **results, size_t n_results) {
    size_t count = 0;
    bool needed = false;
    ad_array *saved = NULL;
    enter("ad_function_saved_count");
    check_status(ad_function_saved_count(ctx, chance(90) ? &count : NULL));
    if (chance(50)) {
        enter("ad_function_save");
        check_status(ad_function_save(ctx, arrays, n));
        enter("ad_function_saved_count");
        check_status(ad_function_saved_count(ctx, &count));
    }
    if (count > 0) {
        enter("ad_function_saved");
        ad_status s = ad_function_saved(ctx, below(count + 1), &saved);
        check_status(s);
        if (s == AD_OK) ad_array_free(saved);
    }
    enter("ad_function_needs_grad");
    check_status(ad_function_needs_grad(ctx, below(n_results + 1), &needed));
    if (chance(5)) {
        enter("ad_function_set_error");
        check_status(ad_function_set_error(ctx, "the callback refuses"));
        return AD_ERR_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < n_results; i++) {
        ad_status s = ad_array_copy(arrays[i < n ? i : 0], &results[i]);
        if (s != AD_OK) return s;
    }
    return AD_OK;
}

/* The callback: its body, then the call that ran it (an op, backward, grad) named again, so
   that the checks of that call's status name it, not the callback's last call. */
static ad_status pass_through(void *user_data, ad_function_context *ctx, const ad_array *const *arrays, size_t n,
                              ad_array **results, size_t n_results) {
    const char *outer = current;
    size_t outer_seen = now_seen;
    (void)user_data;
    ad_status s = pass_through_body(ctx, arrays, n, results, n_results);
    current = outer;
    now_seen = outer_seen;
    return s;
}

static void fuzz_custom(void) {
    static const ad_function_callbacks callbacks = {AD_FUNCTION_CALLBACKS_VERSION, pass_through, pass_through, NULL};
    ad_function *f = NULL;
    enter("ad_function_new");
    check_status(ad_function_new("pass", chance(95) ? &callbacks : NULL, NULL, &f));
    handle a = pick();
    const ad_array *in[1] = {a.h};
    ad_array *outs[2] = {SENTINEL, SENTINEL};
    size_t n_out = 1 + below(2);
    enter("ad_function_apply");
    ad_status s = ad_function_apply(f, in, 1, outs, n_out);
    check_status(s);
    if (s == AD_OK && (bad(a, 0) || f == NULL)) FAIL("applied a custom function to a bad handle");
    for (size_t i = 0; i < n_out; i++) {
        if (s == AD_OK) adopt(outs[i]);
        else if (outs[i] != SENTINEL) FAIL("wrote its outputs on failure");
    }
    /* A context outside its callback, or NULL: refused. */
    size_t count = 0;
    enter("ad_function_saved_count");
    if (ad_function_saved_count(chance(50) ? NULL : (ad_function_context *)(uintptr_t)(1 + below(1000)), &count) == AD_OK)
        FAIL("a context was accepted outside its callback");
    enter("ad_function_free");
    check_status(ad_function_free(f));
}

/* ---- shared memory: loans of arrays' memory, arrays over memory the fuzzer allocated ---- */

static ad_borrow *loans[8];
static void *loan_data[8];
static size_t loan_bytes[8], nloans = 0;
static ad_borrow *ended_loan = NULL;
static unsigned long wrapped = 0, released = 0;
/* Blocks wrapped without a release: freed at the end, when no array is left on them. */
static void *kept_blocks[4096];
static size_t nkept = 0;

static void end_loan(size_t i) {
    enter("ad_borrow_release");
    ad_status s = ad_borrow_release(loans[i]);
    check_status(s);
    if (s != AD_OK) FAIL("ending a live loan failed");
    ended_loan = loans[i];
    loans[i] = loans[--nloans];
    loan_data[i] = loan_data[nloans];
    loan_bytes[i] = loan_bytes[nloans];
}

/* What a wrapped array's release gets: the block to free. */
static void release_block(void *block) {
    released++;
    free(block);
}

/* Exported tensors kept for a while, as consumers keep them; deleted later or imported. */
static DLManagedTensorVersioned *tensors[8];
static DLManagedTensor *legacies[8];
static size_t ntensors = 0, nlegacies = 0;

static void fuzz_dlpack(void) {
    switch (below(4)) {
    case 0: {
        handle a = pick();
        bool writable = chance(30), legacy = chance(30);
        ad_status s;
        void *made = SENTINEL;
        if (legacy) {
            enter("ad_array_to_dlpack_legacy");
            s = ad_array_to_dlpack_legacy(a.h, writable, chance(97) ? (DLManagedTensor **)&made : NULL);
        } else {
            enter("ad_array_to_dlpack");
            s = ad_array_to_dlpack(a.h, writable, chance(97) ? (DLManagedTensorVersioned **)&made : NULL);
        }
        check_status(s);
        if (s == AD_OK && bad(a, 0)) FAIL("exported a bad handle");
        if (s != AD_OK) {
            if (made != SENTINEL) FAIL("wrote its out-parameter on failure");
            return;
        }
        if (legacy) {
            DLManagedTensor *t = made;
            uint8_t code = t->dl_tensor.dtype.code;
            if ((code != kDLFloat && code != kDLInt && code != kDLUInt && code != kDLBool) ||
                t->dl_tensor.device.device_type != kDLCPU)
                FAIL("not a CPU tensor of an ad dtype");
            if (nlegacies < COUNT(legacies)) legacies[nlegacies++] = t;
            else t->deleter(t);
        } else {
            DLManagedTensorVersioned *t = made;
            if (t->version.major != 1 || (t->flags & DLPACK_FLAG_BITMASK_READ_ONLY) == writable) FAIL("wrong version or flags");
            if (ntensors < COUNT(tensors)) tensors[ntensors++] = t;
            else t->deleter(t);
        }
        break;
    }
    case 1: {
        /* A tensor the library made, back as an array (shared or copied), or just deleted. */
        if (ntensors == 0) return;
        size_t i = below(ntensors);
        DLManagedTensorVersioned *t = tensors[i];
        tensors[i] = tensors[--ntensors];
        if (chance(30)) {
            t->deleter(t);
            return;
        }
        ad_array *out = SENTINEL;
        bool copied = false;
        enter("ad_array_from_dlpack");
        ad_status s = ad_array_from_dlpack(t, chance(50) ? &copied : NULL, &out);
        check_status(s);
        if (s != AD_OK) {
            FAIL("importing an exported tensor failed");
            t->deleter(t);
        } else {
            adopt(out);
        }
        break;
    }
    case 2: {
        if (nlegacies == 0) return;
        size_t i = below(nlegacies);
        DLManagedTensor *t = legacies[i];
        legacies[i] = legacies[--nlegacies];
        ad_array *out = SENTINEL;
        enter("ad_array_from_dlpack_legacy");
        ad_status s = ad_array_from_dlpack_legacy(t, NULL, &out);
        check_status(s);
        if (s != AD_OK) {
            FAIL("importing an exported legacy tensor failed");
            t->deleter(t);
        } else {
            adopt(out);
        }
        break;
    }
    default: {
        /* A producer's tensor with random fields (its shape within its memory): shared,
           copied, or refused with its deleter not called. */
        static int64_t shape[3], strides[3];
        static float memory[4 * 4 * 4 + 1];
        int32_t ndim = (int32_t)below(4);
        for (int32_t k = 0; k < ndim; k++) shape[k] = (int64_t)below(5) - (chance(3) ? 2 : 0);
        for (int32_t k = 0; k < ndim; k++) strides[k] = (int64_t)1 << (2 * (ndim - 1 - k));
        if (chance(30) && ndim > 1) strides[0] = 1, strides[ndim - 1] = (int64_t)1 << (2 * (ndim - 1));
        DLManagedTensorVersioned t = {{chance(95) ? 1u : 2u, 1}, NULL, NULL, chance(20) ? DLPACK_FLAG_BITMASK_READ_ONLY : 0,
                                      {memory + (chance(10) ? 1 : 0), {chance(95) ? kDLCPU : kDLCUDA, 0}, ndim,
                                       {chance(95) ? kDLFloat : kDLInt, chance(95) ? 32 : 16, 1}, shape,
                                       chance(50) ? strides : NULL, 0}};
        ad_array *out = SENTINEL;
        enter("ad_array_from_dlpack");
        ad_status s = ad_array_from_dlpack(&t, NULL, &out);
        check_status(s);
        if (s == AD_OK) adopt(out);
        break;
    }
    }
}

static void fuzz_memory(void) {
    switch (below(4)) {
    case 0: {
        handle a = pick();
        bool writable = chance(30);
        void *data = SENTINEL;
        ad_borrow *loan = (ad_borrow *)SENTINEL;
        enter("ad_array_borrow");
        ad_status s = ad_array_borrow(a.h, writable, chance(97) ? &data : NULL, chance(97) ? &loan : NULL);
        check_status(s);
        if (s == AD_OK && bad(a, 0)) FAIL("borrowed a bad handle");
        if (s != AD_OK) {
            if (data != SENTINEL || loan != (ad_borrow *)SENTINEL) FAIL("wrote its out-parameters on failure");
            return;
        }
        size_t shape[AD_MAX_NDIM], ndim, size;
        uint32_t dtype;
        if (!describe(a.h, shape, &ndim, &dtype, &size)) return;
        size_t bytes = size * dtype_width(dtype);
        /* The memory is the array's: read it all, and write it back unchanged when allowed. */
        unsigned char sum = 0;
        for (size_t i = 0; i < bytes; i++) sum += ((unsigned char *)data)[i];
        if (writable && bytes) ((unsigned char *)data)[bytes - 1] = ((unsigned char *)data)[bytes - 1];
        (void)sum;
        if (nloans < COUNT(loans) && chance(70)) {
            loans[nloans] = loan;
            loan_data[nloans] = data;
            loan_bytes[nloans++] = bytes;
        } else {
            enter("ad_borrow_release");
            check_status(ad_borrow_release(loan));
        }
        break;
    }
    case 1: {
        /* An open loan is still readable, whatever was freed since; then it ends. */
        if (nloans == 0) return;
        size_t i = below(nloans);
        unsigned char sum = 0;
        for (size_t k = 0; k < loan_bytes[i]; k++) sum += ((unsigned char *)loan_data[i])[k];
        (void)sum;
        end_loan(i);
        break;
    }
    case 2: {
        /* Ended or made up: refused. */
        ad_borrow *b = chance(50) && ended_loan ? ended_loan : (ad_borrow *)(uintptr_t)(0x10000 * (1 + below(1000)) + 1 + below(60000));
        enter("ad_borrow_release");
        ad_status s = ad_borrow_release(b);
        check_status(s);
        if (s != AD_ERR_INVALID_HANDLE) FAIL("ended a loan that is not live (%s)", ad_status_name(s));
        break;
    }
    default: {
        size_t shape[4], ndim = below(4), n = 1;
        for (size_t i = 0; i < ndim; i++) n *= (shape[i] = below(5));
        uint32_t dtype = chance(90) ? (uint32_t)below(2) : chance(50) ? AD_FLOAT16 + (uint32_t)below(6) : 2 + (uint32_t)below(100);
        size_t width = dtype_width(dtype);
        int misaligned = chance(10) && n > 0 && width > 1; /* one-byte elements are never misaligned */
        unsigned char *block = malloc(n * width + 8);
        if (!block) return;
        for (size_t i = 0; i < n * width + 8; i++) block[i] = (unsigned char)next_u64();
        if (dtype == AD_FLOAT64 || dtype == AD_FLOAT32 || dtype == AD_FLOAT16) {
            /* finite values: the later ops check results against their inputs */
            for (size_t i = 0; i < n; i++) {
                if (dtype == AD_FLOAT64) ((double *)block)[i] = gen_scalar();
                else if (dtype == AD_FLOAT16) ((uint16_t *)block)[i] = half_bits(gen_scalar());
                else ((float *)block)[i] = (float)gen_scalar();
            }
        }
        ad_array *out = SENTINEL;
        void *data = (n == 0 && chance(50)) ? NULL : block + (misaligned ? 1 + below(width - 1) : 0);
        int with_release = chance(90) || nkept == COUNT(kept_blocks);
        enter("ad_array_wrap");
        ad_status s = ad_array_wrap(data, shape, ndim, dtype, with_release ? release_block : NULL, block, &out);
        check_status(s);
        if (s == AD_OK && (misaligned || !dtype_ok(dtype))) FAIL("wrapped misaligned memory or an unknown dtype");
        if (s == AD_OK && out != SENTINEL) {
            if (with_release) wrapped++;
            else kept_blocks[nkept++] = block;
            adopt(out);
        } else {
            free(block);
        }
        break;
    }
    }
}

/* ---- checkpoints ---- */

/* A directory of the run's own (made in main), and the files the actions use in it. */
static char checkpoint_dir[1024];
static const char *const checkpoint_files[] = {"a.npz", "b.npy", "c.params", "garbage.npz", "no-such-folder/d.npz"};

static void checkpoint_path(char *path, size_t size, size_t which) {
    snprintf(path, size, "%s/%s", checkpoint_dir, checkpoint_files[which]);
}

/* Saves a few arrays (some handles bad, names sometimes repeated or NULL), or loads a file
   (one saved before, random bytes, a missing one) and takes some of its arrays. */
static void fuzz_checkpoint(void) {
    char path[1200];
    size_t which = below(COUNT(checkpoint_files));
    int npy = which == 1, missing_folder = which == 4;
    checkpoint_path(path, sizeof path, which);
    if (which == 3 && chance(50)) {
        /* random bytes, sometimes behind a zip's or a .npy's magic */
        static const char *const starts[] = {"", "PK\x03\x04", "PK\x05\x06", "\x93NUMPY\x01\x00"};
        FILE *f = fopen(path, "wb");
        if (f) {
            fputs(starts[below(COUNT(starts))], f);
            for (size_t i = below(300); i > 0; i--) fputc((int)below(256), f);
            fclose(f);
        }
    }
    if (chance(50)) {
        static const char *const pool[] = {"w", "b", "w", "\xc3\xa9", "", "arr_0"};
        handle hs[4];
        const ad_array *arrays[4];
        const char *names[4];
        size_t n = below(4);
        int named = chance(50), invalid = (npy && (n != 1 || named)) || missing_folder;
        for (size_t i = 0; i < n; i++) {
            hs[i] = pick();
            arrays[i] = hs[i].h;
            invalid |= bad(hs[i], 0);
            names[i] = pool[below(COUNT(pool))];
        }
        if (named && n > 0 && chance(5)) names[below(n)] = NULL;
        for (size_t i = 0; named && i < n; i++) {
            invalid |= names[i] == NULL;
            for (size_t j = 0; j < i; j++) invalid |= names[i] && names[j] && strcmp(names[i], names[j]) == 0;
        }
        enter("ad_save");
        ad_status s = ad_save(path, n || chance(50) ? arrays : NULL, named ? names : NULL, n);
        check_status(s);
        if (s == AD_OK && invalid) FAIL("saved what it should have refused");
        return;
    }
    ad_checkpoint *ck = (ad_checkpoint *)SENTINEL;
    int null_out = chance(4);
    enter("ad_load");
    ad_status s = ad_load(path, null_out ? NULL : &ck);
    check_status(s);
    if (null_out) {
        if (s == AD_OK) FAIL("loaded into a NULL out-pointer");
        return;
    }
    if (s != AD_OK) {
        if (ck != (ad_checkpoint *)SENTINEL) FAIL("wrote its out-parameter on failure");
        if (s != AD_ERR_IO && s != AD_ERR_FORMAT && s != AD_ERR_DTYPE && s != AD_ERR_SHAPE && s != AD_ERR_ALLOC)
            FAIL("a load failed with %s", ad_status_name((uint32_t)s));
        return;
    }
    if (ck == NULL || ck == (ad_checkpoint *)SENTINEL || ck->arrays == NULL || ck->arrays[ck->count] != NULL ||
        (ck->names && ck->names[ck->count] != NULL)) {
        FAIL("a checkpoint that is not NULL-terminated");
        return;
    }
    for (size_t i = 0; i < ck->count; i++) {
        if (ck->arrays[i] == NULL || (ck->names && ck->names[i] == NULL)) FAIL("a NULL entry in a checkpoint");
        if (chance(60)) {
            ad_array *h = ck->arrays[i];
            ck->arrays[i] = NULL; /* taken: the caller's now */
            if (h) adopt(h);
        }
    }
    ad_checkpoint *same = ck;
    enter("ad_checkpoint_free");
    s = ad_checkpoint_free(ck);
    check_status(s);
    if (s != AD_OK) FAIL("freeing a checkpoint failed");
    if (chance(20)) {
        enter("ad_checkpoint_free");
        s = ad_checkpoint_free(chance(50) ? same : chance(50) ? NULL : (ad_checkpoint *)(uintptr_t)0x7777000);
        check_status(s);
        if (s != AD_OK && s != AD_ERR_INVALID_HANDLE) FAIL("freeing a freed or made-up checkpoint gave %s", ad_status_name((uint32_t)s));
    }
}

/* ---- the process-wide settings and the functions that return no status ---- */

static void fuzz_process(void) {
    switch (below(7)) {
    case 0: {
        static const size_t counts[] = {1, 2, 3, 4, 0, 1025, SIZE_MAX};
        size_t n = chance(85) ? counts[below(4)] : counts[4 + below(3)];
        enter("ad_set_num_threads");
        ad_status s = ad_set_num_threads(n);
        check_status(s);
        if ((s == AD_OK) != (n >= 1 && n <= 1024)) FAIL("set_num_threads(%zu) gave %s", n, ad_status_name(s));
        enter("ad_num_threads");
        size_t now = ad_num_threads();
        if (s == AD_OK && now != n) FAIL("%zu threads after setting %zu", now, n);
        break;
    }
    case 1: {
        size_t released = 777;
        int with = chance(50);
        enter("ad_release_cached_memory");
        ad_status s = ad_release_cached_memory(with ? &released : NULL);
        check_status(s);
        if (s != AD_OK || (with && released == 777)) FAIL("releasing the cache failed, or said nothing");
        break;
    }
    case 4: {
        /* The reference mode changes how operations run, never whether they are allowed. */
        bool on = chance(50);
        enter("ad_set_reference_mode");
        ad_set_reference_mode(on);
        enter("ad_reference_mode");
        if (ad_reference_mode() != on) FAIL("the reference mode reads %d after setting %d", ad_reference_mode(), on);
        break;
    }
    case 2:
        enter("ad_random_seed");
        check_status(ad_random_seed(next_u64()));
        if (chance(50)) {
            enter("ad_wait_all");
            if (ad_wait_all() != AD_OK) FAIL("wait_all failed");
        }
        break;
    case 3: {
        /* A ceiling on the CPU level changes which kernels run, never what is allowed: the
           level in use is a known name, at most the ceiling; an unknown name changes nothing. */
        static const char *const names[] = {"avx512", "avx2", "portable", NULL, "sse", "", "AVX2"};
        static const char *const levels[] = {"portable", "avx2", "avx512"};
        const char *ceiling = names[below(7)];
        enter("ad_cpu_level");
        const char *before = ad_cpu_level();
        enter("ad_set_cpu_level");
        ad_status s = ad_set_cpu_level(ceiling);
        check_status(s);
        int known = ceiling == NULL;
        for (int i = 0; i < 3; i++) known |= ceiling != NULL && strcmp(ceiling, levels[i]) == 0;
        if ((s == AD_OK) != known) FAIL("set_cpu_level(%s) gave %s", ceiling ? ceiling : "NULL", ad_status_name(s));
        enter("ad_cpu_level");
        const char *now = ad_cpu_level();
        int rank_now = -1, rank_ceiling = 2;
        for (int i = 0; i < 3; i++) {
            if (strcmp(now, levels[i]) == 0) rank_now = i;
            if (ceiling != NULL && strcmp(ceiling, levels[i]) == 0) rank_ceiling = i;
        }
        if (rank_now < 0) FAIL("unknown CPU level %s", now);
        if (s == AD_OK && rank_now > rank_ceiling) FAIL("level %s above the ceiling %s", now, ceiling);
        if (s != AD_OK && strcmp(now, before) != 0) FAIL("a refused ceiling changed the level from %s to %s", before, now);
        break;
    }
    default: {
        enter("ad_version");
        const char *v = ad_version();
        if (v == NULL || v[0] == '\0') FAIL("no version");
        uint32_t code = chance(70) ? (uint32_t)below(LAST_STATUS + 1) : (uint32_t)next_u64();
        enter("ad_status_name");
        const char *name = ad_status_name(code);
        if (name == NULL || strncmp(name, "AD_", 3) != 0) FAIL("status %u has no name", code);
        enter("ad_last_error");
        if (ad_last_error() == NULL) FAIL("NULL last error");
        enter("ad_is_recording");
        (void)ad_is_recording();
        enter("ad_is_training");
        (void)ad_is_training();
    }
    }
}

/* ---- the run ---- */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    unsigned long long seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    double seconds = argc > 2 ? strtod(argv[2], NULL) : 10;
    unsigned long max_calls = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
    rng = seed;
    const char *tmp = getenv("TMPDIR");
    snprintf(checkpoint_dir, sizeof checkpoint_dir, "%s/ad-fuzz-calls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(checkpoint_dir)) {
        printf("fuzz_calls: cannot make a directory for the checkpoints\n");
        return 1;
    }
    enter("ad_random_seed");
    check_status(ad_random_seed(seed));

    static void (*const actions[])(void) = {
        fuzz_unary, fuzz_unary,     fuzz_binary,     fuzz_binary,       fuzz_scalar,   fuzz_reduce,   fuzz_reduce,
        fuzz_compare, fuzz_dot,     fuzz_create,     fuzz_create,       fuzz_arange,   fuzz_sample,   fuzz_free,     fuzz_query,
        fuzz_read,    fuzz_to_string, fuzz_reshape_like, fuzz_reshape_like, fuzz_slice, fuzz_slice,   fuzz_update,
        fuzz_astype,  fuzz_scope,   fuzz_scope,      fuzz_flags,        fuzz_variables, fuzz_variables, fuzz_backward,
        fuzz_backward, fuzz_nn,     fuzz_nn,         fuzz_layers,       fuzz_optimizer, fuzz_process,
        fuzz_custom,  fuzz_hooks,   fuzz_memory,  fuzz_dlpack,  fuzz_arrange, fuzz_arrange,
        fuzz_checkpoint};
    double start = now();
    unsigned long rounds = 0;
    while (!(max_calls && calls >= max_calls)) {
        if ((rounds++ & 63) == 0 && now() - start >= seconds) break;
        trim();
        if (nlive < 8 || chance(8)) seed_pool();
        actions[below(COUNT(actions))]();
    }
    double elapsed = now() - start;

    /* Close what is open, free what is live: all of it must work. */
    while (depth > 0) {
        static const char *ends[] = {"ad_record_end", "ad_pause_end", "ad_train_mode_end", "ad_predict_mode_end"};
        int kind = scopes[--depth];
        enter(ends[kind]);
        ad_status s = kind == 0 ? ad_record_end() : kind == 1 ? ad_pause_end() : kind == 2 ? ad_train_mode_end() : ad_predict_mode_end();
        if (s != AD_OK) FAIL("closing an open scope failed");
    }
    ad_set_recording(false, NULL);
    ad_set_training(false, NULL);
    while (nlive > 0) free_checked(live[nlive - 1]);
    while (nloans > 0) end_loan(nloans - 1);
    while (ntensors > 0) {
        DLManagedTensorVersioned *t = tensors[--ntensors];
        t->deleter(t);
    }
    while (nlegacies > 0) {
        DLManagedTensor *t = legacies[--nlegacies];
        t->deleter(t);
    }
    /* With every array and loan gone, every wrapped block with a release is given back. */
    if (released != wrapped) FAIL("%lu releases for %lu wrapped arrays", released, wrapped);
    while (nkept > 0) free(kept_blocks[--nkept]);
    for (size_t i = 0; i < ndead; i++) {
        size_t size;
        enter("ad_array_size");
        if (ad_array_size(dead[i], &size) != AD_ERR_INVALID_HANDLE) FAIL("a freed handle is accepted");
    }
    /* and the library still computes: d/dx sum(x * x) at 0, 1, 2, 3 */
    ad_array *x = NULL, *y = NULL, *z = NULL, *g = NULL;
    double grad[4] = {0};
    int ok = ad_set_num_threads(2) == AD_OK && ad_array_arange(0, 4, 1, AD_FLOAT64, &x) == AD_OK &&
             ad_array_attach_grad(x, AD_GRAD_WRITE) == AD_OK && ad_record_begin(true) == AD_OK &&
             ad_mul(x, x, &y) == AD_OK && ad_sum(y, NULL, 0, false, &z) == AD_OK && ad_record_end() == AD_OK &&
             ad_backward(z, NULL, false) == AD_OK && ad_array_grad(x, &g) == AD_OK && ad_array_read(g, AD_FLOAT64, grad, 4) == AD_OK;
    current = "the final check";
    if (!ok || grad[0] != 0 || grad[1] != 2 || grad[2] != 4 || grad[3] != 6) FAIL("the library no longer computes");
    ad_array_free(g);
    ad_array_free(z);
    ad_array_free(y);
    ad_array_free(x);
    ad_release_cached_memory(NULL);
    for (size_t i = 0; i < COUNT(checkpoint_files); i++) {
        char path[1200];
        checkpoint_path(path, sizeof path, i);
        unlink(path);
    }
    rmdir(checkpoint_dir);

    printf("fuzz_calls: seed %llu, %lu calls in %.1f s, %lu failed checks\n", seed, calls, elapsed, failures);
    printf("statuses:");
    for (unsigned i = 0; i <= LAST_STATUS; i++) printf(" %s %lu", ad_status_name(i), statuses[i]);
    /* FUZZ_STATS=1: each function's successes out of its calls, to see what the arguments reach */
    for (size_t i = 0; getenv("FUZZ_STATS") && i < nseen; i++) printf("\n  %s %lu/%lu", seen[i].name, seen[i].oks, seen[i].hits);
    printf("\nnever succeeded:");
    for (size_t i = 0; i < nseen; i++) {
        if (seen[i].oks == 0) printf(" %s", seen[i].name);
    }
    printf("\nexercised:");
    for (size_t i = 0; i < nseen; i++) printf(" %s", seen[i].name);
    printf("\n");
    return failures ? 1 : 0;
}
