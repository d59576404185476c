/*
 * The checkpoint loader through the C API: seeded random mutations of real files (NumPy's,
 * from FIXTURES, and ad's own, saved here), each written to a file and loaded with ad_load.
 * After each load it checks what ad.h promises:
 *
 * - the status is AD_OK, or one of the statuses of a bad file (AD_ERR_FORMAT, AD_ERR_DTYPE,
 *   AD_ERR_SHAPE, AD_ERR_ALLOC), never AD_ERR_PANIC;
 * - a failure leaves `*out` alone and a message that starts with "ad_load: " and names the
 *   file;
 * - a loaded checkpoint has `count` live handles and names, each list ending with NULL, and
 *   ad_checkpoint_free frees it.
 *
 * Usage: fuzz_load SEED SECONDS MAX_FILES DIR FIXTURES (MAX_FILES 0: no limit). The test
 * harness (tests/c_api.rs) builds it with AddressSanitizer and UndefinedBehaviorSanitizer
 * and runs it for a few seconds, and runs a few hundred files under valgrind, whose memcheck
 * sees the library's side. The same mutations, in process and far faster, are
 * tests/checkpoint_fuzz.rs.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ad.h"

#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "allocator_may_return_null=1";
}
#endif

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

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

static unsigned long failures = 0, files = 0;

#define FAIL(...)                                            \
    do {                                                     \
        failures++;                                          \
        if (failures <= 50) {                                \
            printf("file %lu: ", files);                     \
            printf(__VA_ARGS__);                             \
            printf(" [last error: %s]\n", ad_last_error());  \
        }                                                    \
    } while (0)

typedef struct {
    unsigned char *bytes;
    size_t len;
} blob;

static blob seeds[64];
static size_t nseeds = 0;

static void add_seed(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f || nseeds == COUNT(seeds)) {
        if (f) fclose(f);
        return;
    }
    blob b = {NULL, 0};
    size_t cap = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (b.len == cap) {
            cap = cap ? 2 * cap : 4096;
            unsigned char *grown = realloc(b.bytes, cap);
            if (!grown) break;
            b.bytes = grown;
        }
        b.bytes[b.len++] = (unsigned char)c;
    }
    fclose(f);
    seeds[nseeds++] = b;
}

static int ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* Overwrites `width` bytes at `at` (where they fit) with `value`, little-endian. */
static void put(blob *b, size_t at, size_t width, uint64_t value) {
    for (size_t i = 0; i < width && at + i < b->len; i++) b->bytes[at + i] = (unsigned char)(value >> (8 * i));
}

/* One mutation of `b` (whose buffer has room for 64 more bytes). */
static void mutate(blob *b) {
    static const uint64_t odd[] = {0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFFull, 0x100000000ull, UINT64_MAX};
    if (b->len == 0) {
        b->bytes[b->len++] = (unsigned char)below(256);
        return;
    }
    size_t at = below(b->len);
    switch (below(8)) {
    case 0:
        b->bytes[at] ^= (unsigned char)(1u << below(8));
        break;
    case 1:
        b->bytes[at] = (unsigned char)odd[below(4)];
        break;
    case 2:
    case 3: {
        /* a field of a zip record, half of the time */
        size_t starts[256], n = 0;
        for (size_t i = 0; i + 3 < b->len && n < COUNT(starts); i++) {
            if (b->bytes[i] == 'P' && b->bytes[i + 1] == 'K' && b->bytes[i + 2] < 8 && b->bytes[i + 3] < 8) starts[n++] = i;
        }
        if (n && below(2)) at = starts[below(n)] + 4 + below(44);
        uint64_t v = below(3) ? odd[below(COUNT(odd))] : below(2) ? (uint64_t)b->len + below(64) - 32 : next_u64();
        put(b, at, (size_t[]){2, 4, 8}[below(3)], v);
        break;
    }
    case 4:
        b->len = at;
        break;
    case 5: {
        size_t n = 1 + below(16);
        memmove(b->bytes + at + n, b->bytes + at, b->len - at);
        for (size_t i = 0; i < n; i++) b->bytes[at + i] = (unsigned char)below(256);
        b->len += n;
        break;
    }
    case 6: {
        size_t n = 1 + below(32);
        if (n > b->len - at) n = b->len - at;
        memmove(b->bytes + at, b->bytes + at + n, b->len - at - n);
        b->len -= n;
        break;
    }
    default: {
        /* another seed's tail after this one's head */
        blob *other = &seeds[below(nseeds)];
        size_t from = below(other->len + 1), n = other->len - from;
        if (n > 64 + (b->len - at)) n = 64 + (b->len - at);
        memcpy(b->bytes + at, other->bytes + from, n);
        b->len = at + n;
    }
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Checks a loaded checkpoint, reads its arrays, and frees it. */
static void check_loaded(ad_checkpoint *ck) {
    if (ck == NULL || ck->arrays == NULL || ck->arrays[ck->count] != NULL || (ck->names && ck->names[ck->count] != NULL)) {
        FAIL("a checkpoint that is not NULL-terminated");
        return;
    }
    for (size_t i = 0; i < ck->count; i++) {
        size_t ndim = 0, size = 0;
        if (ck->names && strlen(ck->names[i]) > 65535) FAIL("a name longer than a zip's");
        if (ad_array_ndim(ck->arrays[i], &ndim) != AD_OK || ndim > AD_MAX_NDIM || ad_array_size(ck->arrays[i], &size) != AD_OK) {
            FAIL("array %zu of a checkpoint is not a live handle of at most %d axes", i, AD_MAX_NDIM);
            continue;
        }
        /* Read the values (memcheck sees every byte the loader wrote). */
        if (size <= (1u << 20)) {
            double *v = malloc((size ? size : 1) * sizeof(double));
            if (v && ad_array_read(ck->arrays[i], AD_FLOAT64, v, size) != AD_OK) FAIL("a loaded array cannot be read");
            free(v);
        }
    }
    if (ad_checkpoint_free(ck) != AD_OK) FAIL("freeing a loaded checkpoint failed");
}

int main(int argc, char **argv) {
    if (argc < 6) {
        printf("usage: fuzz_load SEED SECONDS MAX_FILES DIR FIXTURES\n");
        return 2;
    }
    unsigned long long seed = strtoull(argv[1], NULL, 10);
    double seconds = strtod(argv[2], NULL);
    unsigned long max_files = strtoul(argv[3], NULL, 10);
    const char *dir = argv[4], *fixtures = argv[5];
    char path[4096], name[4096];
    rng = seed;

    DIR *d = opendir(fixtures);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (ends_with(e->d_name, ".npy") || ends_with(e->d_name, ".npz")) {
            snprintf(path, sizeof path, "%s/%s", fixtures, e->d_name);
            add_seed(path);
        }
    }
    if (d) closedir(d);
    /* ad's own files: a list, named arrays, a .npy */
    ad_array *a = NULL, *b = NULL;
    ad_array_arange(0, 6, 1, AD_FLOAT32, &a);
    ad_array_full((const size_t[]){2, 2}, 2, 0.25, AD_FLOAT64, &b);
    const ad_array *both[] = {a, b};
    const char *names[] = {"weight", "bias"};
    const char *own[] = {"own_list.npz", "own_dict.npz", "own.npy"};
    for (size_t i = 0; i < COUNT(own); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, own[i]);
        if (ad_save(path, both, i == 1 ? names : NULL, i == 2 ? 1 : 2) != AD_OK) FAIL("saving a seed failed");
        add_seed(path);
    }
    ad_array_free(a);
    ad_array_free(b);
    if (nseeds < 10) {
        printf("fuzz_load: only %zu seed files (is %s the fixtures folder?)\n", nseeds, fixtures);
        return 1;
    }

    unsigned long statuses[AD_ERR_FORMAT + 1] = {0}, mutations = 0;
    snprintf(name, sizeof name, "%s/case.npz", dir);
    double start = now();
    while (!(max_files && files >= max_files) && now() - start < seconds) {
        blob *s = &seeds[below(nseeds)];
        /* room for what the mutations add: at most 4 times 64 bytes */
        blob b = {malloc(s->len + 4 * 64 + 1), s->len};
        memcpy(b.bytes, s->bytes, s->len);
        for (size_t k = 1 + below(4); k > 0; k--, mutations++) mutate(&b);
        FILE *f = fopen(name, "wb");
        if (!f || fwrite(b.bytes, 1, b.len, f) != b.len) {
            printf("fuzz_load: cannot write %s\n", name);
            return 1;
        }
        fclose(f);
        free(b.bytes);
        files++;

        ad_checkpoint *ck = (ad_checkpoint *)(uintptr_t)0x5e5e5e50;
        ad_status st = ad_load(name, &ck);
        if ((unsigned)st > AD_ERR_FORMAT) {
            FAIL("status %u is not an ad_status", (unsigned)st);
            continue;
        }
        statuses[st]++;
        if (st == AD_OK) {
            check_loaded(ck);
            continue;
        }
        if (st != AD_ERR_FORMAT && st != AD_ERR_DTYPE && st != AD_ERR_SHAPE && st != AD_ERR_ALLOC) FAIL("a bad file gave %s", ad_status_name((uint32_t)st));
        if (ck != (ad_checkpoint *)(uintptr_t)0x5e5e5e50) FAIL("wrote its out-parameter on failure");
        const char *m = ad_last_error();
        if (strncmp(m, "ad_load: ", 9) != 0 || strstr(m, name) == NULL) FAIL("a message that does not name the file: %s", m);
    }
    double elapsed = now() - start;
    remove(name);
    for (size_t i = 0; i < COUNT(own); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, own[i]);
        remove(path);
    }
    for (size_t i = 0; i < nseeds; i++) free(seeds[i].bytes);

    printf("fuzz_load: seed %llu, %zu seed files, %lu files (%lu mutations) in %.1f s, %lu failed checks\n", seed, nseeds, files,
           mutations, elapsed, failures);
    printf("statuses:");
    for (unsigned i = 0; i <= AD_ERR_FORMAT; i++) {
        if (statuses[i]) printf(" %s %lu", ad_status_name(i), statuses[i]);
    }
    printf("\n");
    return failures ? 1 : 0;
}
