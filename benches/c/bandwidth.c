/*
 * The memory floor of this machine for W5-sized arrays (4e6 float32, 16 MB): one core
 * reading an array, reading one and writing another through the cache, the same with
 * non-temporal (streamed) stores, and reading two and writing one. Each figure is the
 * fastest of 30 runs; W5's fused loops move 16 MB + 16 MB in the forward and 32 MB + 16 MB in
 * the backward, so its floor is about the second (or third) figure plus the fourth.
 *
 *     cc -O2 -mavx2 benches/c/bandwidth.c -o bandwidth && taskset -c 0 ./bandwidth
 */
#define _POSIX_C_SOURCE 199309L
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 4000000
#define RUNS 30

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void) {
    float *x = aligned_alloc(64, N * sizeof(float));
    float *y = aligned_alloc(64, N * sizeof(float));
    float *z = aligned_alloc(64, N * sizeof(float));
    if (!x || !y || !z) {
        fprintf(stderr, "cannot allocate 48 MB\n");
        return 1;
    }
    for (size_t i = 0; i < N; i++) {
        x[i] = (float)i * 1e-7f;
        y[i] = z[i] = 0.0f;
    }
    double best[4] = {1e9, 1e9, 1e9, 1e9};
    volatile float sink = 0.0f;
    for (int r = 0; r < RUNS; r++) {
        double t = now();
        __m256 s = _mm256_setzero_ps();
        for (size_t i = 0; i < N; i += 8) s = _mm256_add_ps(s, _mm256_load_ps(x + i));
        sink += _mm256_cvtss_f32(s);
        double d[4];
        d[0] = now() - t;

        t = now();
        for (size_t i = 0; i < N; i += 8) _mm256_store_ps(y + i, _mm256_mul_ps(_mm256_load_ps(x + i), _mm256_set1_ps(2.0f)));
        d[1] = now() - t;

        t = now();
        for (size_t i = 0; i < N; i += 8) _mm256_stream_ps(z + i, _mm256_mul_ps(_mm256_load_ps(x + i), _mm256_set1_ps(2.0f)));
        _mm_sfence();
        d[2] = now() - t;

        t = now();
        for (size_t i = 0; i < N; i += 8) _mm256_store_ps(z + i, _mm256_add_ps(_mm256_load_ps(x + i), _mm256_load_ps(y + i)));
        d[3] = now() - t;
        for (int k = 0; k < 4; k++) best[k] = d[k] < best[k] ? d[k] : best[k];
    }
    const double mb = N * sizeof(float) / 1e6;
    printf("read 16 MB:                      %.2f ms (%.1f GB/s)\n", best[0] * 1e3, mb / best[0] / 1e3);
    printf("read 16 MB, write 16 MB:         %.2f ms\n", best[1] * 1e3);
    printf("read 16 MB, stream 16 MB:        %.2f ms\n", best[2] * 1e3);
    printf("read 2 x 16 MB, write 16 MB:     %.2f ms\n", best[3] * 1e3);
    free(x);
    free(y);
    free(z);
    return sink == 12345.0f;
}
