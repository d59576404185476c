/*
 * W1 from C: the cost of one small op through the C ABI, as a C program pays it. Each timed
 * run makes and frees 2,000 results of `x * 2` on a (4, 1) float32 array; the program prints
 * the median and the fastest run's time per op, without recording and inside a record scope
 * (where `x` has a gradient attached, so every op is recorded).
 *
 *     w1 [runs]      (default 301)
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ad.h"

#define OPS 2000

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nanoseconds per op of each run, sorted. Returns 0, or 1 if an op failed. */
static int time_runs(ad_array *x, double *ns, int runs) {
    for (int r = 0; r < runs; r++) {
        double t = now();
        for (int i = 0; i < OPS; i++) {
            ad_array *y = NULL;
            if (ad_mul_scalar(x, 2.0, &y) != AD_OK) {
                fprintf(stderr, "ad_mul_scalar: %s\n", ad_last_error());
                return 1;
            }
            ad_array_free(y);
        }
        ns[r] = (now() - t) / OPS * 1e9;
    }
    qsort(ns, (size_t)runs, sizeof *ns, by_value);
    return 0;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 301;
    if (runs < 1) runs = 1;
    double *plain = malloc(sizeof(double) * (size_t)runs);
    double *recorded = malloc(sizeof(double) * (size_t)runs);
    size_t shape[2] = {4, 1};
    ad_array *x = NULL;
    if (!plain || !recorded || ad_array_ones(shape, 2, AD_FLOAT32, &x) != AD_OK) return 1;

    int failed = time_runs(x, plain, runs);
    failed |= ad_array_attach_grad(x, AD_GRAD_WRITE) != AD_OK;
    failed |= ad_record_begin(true) != AD_OK;
    failed |= time_runs(x, recorded, runs);
    failed |= ad_record_end() != AD_OK;
    if (!failed) {
        printf("W1 from C, x*2 on (4,1): plain %.0f ns/op (fastest run %.0f), recording %.0f ns/op (fastest run %.0f)\n",
               plain[runs / 2], plain[0], recorded[runs / 2], recorded[0]);
    }
    ad_array_free(x);
    free(plain);
    free(recorded);
    return failed;
}
