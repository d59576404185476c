/*
 * Helpers shared by the C tests: handle bookkeeping (every handle a topic makes is tracked
 * and freed when the topic ends, so valgrind sees no leak whichever checks fail), arrays from
 * literal values, and shape checks.
 */
#ifndef AD_TEST_HANDLES_H
#define AD_TEST_HANDLES_H

#include <stdint.h>

#include "check.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* ---- bookkeeping: every handle a topic makes is freed when the topic ends ---- */

static ad_array *live[512];
static size_t nlive = 0;

static inline void track(ad_array *a) {
    if (!a) return;
    if (nlive < COUNT(live)) {
        live[nlive++] = a;
    } else {
        fprintf(stderr, "too many live handles in one topic\n");
        exit(2);
    }
}

static inline void free_all(void) {
    while (nlive > 0) OK(ad_array_free(live[--nlive]));
}

/* `call` must succeed and writes a new handle to `var`, which the topic's free_all frees. */
#define MAKE(var, call) \
    do {                \
        (var) = NULL;   \
        OK(call);       \
        track(var);     \
    } while (0)

/* An array of `dtype` and `shape` holding the given values (written as doubles). */
static inline ad_array *make_array(uint32_t dtype, const size_t *shape, size_t ndim, const double *values, size_t n) {
    ad_array *a = NULL;
    if (dtype == AD_FLOAT32) {
        float *buf = malloc((n ? n : 1) * sizeof(float));
        if (!buf) exit(2);
        for (size_t i = 0; i < n; i++) buf[i] = (float)values[i];
        OK(ad_array_create(buf, shape, ndim, dtype, &a));
        free(buf);
    } else {
        OK(ad_array_create(values, shape, ndim, dtype, &a));
    }
    track(a);
    return a;
}

/* A new handle on the gradient of `a`, freed by free_all. */
static inline ad_array *grad_of(const ad_array *a) {
    ad_array *g = NULL;
    OK(ad_array_grad(a, &g));
    track(g);
    return g;
}

#define ARRAY(dtype, shape, ...)                                                  \
    make_array((dtype), (shape), COUNT(shape), (const double[]){__VA_ARGS__}, \
               COUNT(((const double[]){__VA_ARGS__})))

/* The array's ndim and shape equal `expected`. */
static inline int shape_is(const ad_array *a, const size_t *expected, size_t n) {
    size_t ndim = 999, shape[8];
    if (ad_array_ndim(a, &ndim) != AD_OK || ndim != n || n > COUNT(shape)) return 0;
    if (ad_array_shape(a, shape, COUNT(shape)) != AD_OK) return 0;
    for (size_t i = 0; i < n; i++) {
        if (shape[i] != expected[i]) return 0;
    }
    return 1;
}

static inline void print_shape(const ad_array *a) {
    size_t ndim = 0, shape[8];
    if (!a || ad_array_ndim(a, &ndim) != AD_OK || ndim > COUNT(shape) || ad_array_shape(a, shape, COUNT(shape)) != AD_OK) {
        fprintf(stderr, "  actual shape: (unreadable)\n");
        return;
    }
    fprintf(stderr, "  actual shape: (");
    for (size_t i = 0; i < ndim; i++) fprintf(stderr, "%s%zu", i ? ", " : "", shape[i]);
    fprintf(stderr, ")\n");
}

#define SHAPE_IS(array, ...)                                                                 \
    do {                                                                                     \
        const size_t shape_[] = {__VA_ARGS__};                                               \
        check_count++;                                                                       \
        if (!shape_is((array), shape_, COUNT(shape_))) {                                     \
            check_failures++;                                                                \
            fprintf(stderr, "%s:%d: shape of %s is not (%s)\n", __FILE__, __LINE__, #array, \
                    #__VA_ARGS__);                                                           \
            print_shape(array);                                                              \
        }                                                                                    \
    } while (0)

#endif
