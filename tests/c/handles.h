/*
 * Handle bookkeeping for the C tests: every handle a topic makes is tracked and freed when
 * the topic ends, so valgrind sees no leak whichever checks fail.
 */
#ifndef AD_TEST_HANDLES_H
#define AD_TEST_HANDLES_H

#include "check.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* ---- bookkeeping: every handle a topic makes is freed when the topic ends ---- */

static ad_array *live[512];
static size_t nlive = 0;

static void track(ad_array *a) {
    if (!a) return;
    if (nlive < COUNT(live)) {
        live[nlive++] = a;
    } else {
        fprintf(stderr, "too many live handles in one topic\n");
        exit(2);
    }
}

static void free_all(void) {
    while (nlive > 0) OK(ad_array_free(live[--nlive]));
}

/* `call` must succeed and writes a new handle to `var`, which the topic's free_all frees. */
#define MAKE(var, call) \
    do {                \
        (var) = NULL;   \
        OK(call);       \
        track(var);     \
    } while (0)

#endif
