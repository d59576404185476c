/*
 * A minimal check harness for the C tests: each failed check prints where and why and is
 * counted; main() returns CHECK_RESULT(), non-zero when any check failed.
 */
#ifndef AD_TEST_CHECK_H
#define AD_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad.h"

/* Shapes by their dimensions: S23 is (2, 3). Compound literals, so that COUNT gives the
 * number of axes and a program that uses some of them leaves no unused variable. */
#define S1 ((const size_t[]){1})
#define S2 ((const size_t[]){2})
#define S3 ((const size_t[]){3})
#define S4 ((const size_t[]){4})
#define S5 ((const size_t[]){5})
#define S11 ((const size_t[]){1, 1})
#define S12 ((const size_t[]){1, 2})
#define S13 ((const size_t[]){1, 3})
#define S14 ((const size_t[]){1, 4})
#define S21 ((const size_t[]){2, 1})
#define S22 ((const size_t[]){2, 2})
#define S23 ((const size_t[]){2, 3})
#define S24 ((const size_t[]){2, 4})
#define S26 ((const size_t[]){2, 6})
#define S31 ((const size_t[]){3, 1})
#define S32 ((const size_t[]){3, 2})
#define S33 ((const size_t[]){3, 3})
#define S34 ((const size_t[]){3, 4})
#define S36 ((const size_t[]){3, 6})
#define S42 ((const size_t[]){4, 2})
#define S213 ((const size_t[]){2, 1, 3})
#define S223 ((const size_t[]){2, 2, 3})
#define S224 ((const size_t[]){2, 2, 4})
#define S234 ((const size_t[]){2, 3, 4})

static int check_count = 0;
static int check_failures = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        check_count++;                                                               \
        if (!(cond)) {                                                               \
            check_failures++;                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

/* The call must succeed. */
#define OK(call)                                                                          \
    do {                                                                                  \
        ad_status ok_status_ = (call);                                                    \
        check_count++;                                                                    \
        if (ok_status_ != AD_OK) {                                                        \
            check_failures++;                                                             \
            fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #call,     \
                    ad_status_name((uint32_t)ok_status_), ad_last_error());               \
        }                                                                                 \
    } while (0)

/* The call must fail with `expected` and leave a non-empty message. */
#define FAILS(call, expected)                                                            \
    do {                                                                                 \
        ad_status fails_status_ = (call);                                                \
        check_count++;                                                                   \
        if (fails_status_ != (expected)) {                                               \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", __FILE__,       \
                    __LINE__, #call, ad_status_name((uint32_t)fails_status_),            \
                    ad_status_name((uint32_t)(expected)), ad_last_error());              \
        } else if (ad_last_error()[0] == '\0') {                                         \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: %s left no message\n", __FILE__, __LINE__, #call);   \
        }                                                                                \
    } while (0)

/* The last error message must contain `needle`. */
#define MESSAGE_HAS(needle)                                                              \
    do {                                                                                 \
        check_count++;                                                                   \
        if (!strstr(ad_last_error(), (needle))) {                                        \
            check_failures++;                                                            \
            fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,  \
                    ad_last_error(), (needle));                                          \
        }                                                                                \
    } while (0)

/* The array's text (as Python's print shows it, without the final newline); caller frees. */
static char *array_text(const ad_array *a) {
    size_t len = 0;
    if (ad_array_to_string(a, NULL, 0, &len) != AD_OK) return NULL;
    char *text = malloc(len + 1);
    if (text && ad_array_to_string(a, text, len + 1, NULL) != AD_OK) {
        free(text);
        return NULL;
    }
    return text;
}

/* The array's text must be `expected` exactly. */
#define TEXT_IS(array, expected)                                                          \
    do {                                                                                  \
        char *text_ = array_text(array);                                                  \
        check_count++;                                                                    \
        if (!text_ || strcmp(text_, (expected)) != 0) {                                   \
            check_failures++;                                                             \
            fprintf(stderr, "%s:%d: text of %s is\n%s\nexpected\n%s\n", __FILE__,        \
                    __LINE__, #array, text_ ? text_ : "(none)", (expected));              \
        }                                                                                 \
        free(text_);                                                                      \
    } while (0)

/* The array's elements (read as double) must equal `expected[0..n]` within `tol`. */
static int values_near(const ad_array *a, const double *expected, size_t n, double tol) {
    size_t size = 0;
    if (ad_array_size(a, &size) != AD_OK || size != n) return 0;
    double *v = malloc((n ? n : 1) * sizeof(double));
    if (!v) return 0;
    int ok = ad_array_read(a, AD_FLOAT64, v, n) == AD_OK;
    for (size_t i = 0; ok && i < n; i++) {
        ok = fabs(v[i] - expected[i]) <= tol || (isnan(v[i]) && isnan(expected[i]));
    }
    free(v);
    return ok;
}

#define VALUES_ARE(array, tol, ...)                                                       \
    do {                                                                                  \
        const double values_[] = {__VA_ARGS__};                                           \
        check_count++;                                                                    \
        if (!values_near((array), values_, sizeof values_ / sizeof values_[0], (tol))) {  \
            check_failures++;                                                             \
            fprintf(stderr, "%s:%d: values of %s differ from {%s}\n", __FILE__, __LINE__, \
                    #array, #__VA_ARGS__);                                                \
            char *text_ = array_text(array);                                              \
            if (text_) fprintf(stderr, "  actual:%s\n", text_);                          \
            free(text_);                                                                  \
        }                                                                                 \
    } while (0)

/* Prints the summary line and gives main()'s exit status. */
#define CHECK_RESULT()                                                                    \
    (printf("%d passed, %d failed\n", check_count - check_failures, check_failures),      \
     check_failures ? 1 : 0)

#endif
