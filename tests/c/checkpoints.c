/*
 * Checkpoints from C: ad_save, ad_load and ad_checkpoint_free. Round trips of lists and named
 * arrays, .npy and .npz, 0-d and empty arrays; NumPy's own files; who owns what (a handle
 * taken out of a checkpoint outlives it); and the errors, each with its status and a message
 * naming the file.
 *
 * Usage: checkpoints DIR FIXTURES, DIR a directory for its files, FIXTURES the folder of
 * NumPy-written files (tests/fixtures/checkpoints).
 */
#include <stdint.h>

#include "check.h"

static const char *dir = ".", *fixtures = ".";

/* `name` in DIR (or in FIXTURES), in one of two buffers: a call can take two paths. */
static const char *at(const char *folder, const char *name) {
    static char buffers[2][4096];
    static int next = 0;
    char *b = buffers[next ^= 1];
    snprintf(b, sizeof buffers[0], "%s/%s", folder, name);
    return b;
}

static ad_array *arange(const size_t *shape, size_t ndim, uint32_t dtype) {
    size_t n = 1;
    for (size_t i = 0; i < ndim; i++) n *= shape[i];
    ad_array *flat = NULL, *out = NULL;
    int64_t dims[AD_MAX_NDIM];
    for (size_t i = 0; i < ndim; i++) dims[i] = (int64_t)shape[i];
    OK(ad_array_arange(0, (double)n, 1, dtype, &flat));
    OK(ad_array_reshape(flat, dims, ndim, &out));
    OK(ad_array_free(flat));
    return out;
}

static int same_shape(const ad_array *a, const size_t *shape, size_t ndim, uint32_t dtype) {
    size_t got[AD_MAX_NDIM], n = 99;
    uint32_t d = 99;
    if (ad_array_ndim(a, &n) != AD_OK || n != ndim || ad_array_dtype(a, &d) != AD_OK || d != dtype) return 0;
    if (ndim > 0 && ad_array_shape(a, got, AD_MAX_NDIM) != AD_OK) return 0;
    for (size_t i = 0; i < ndim; i++) {
        if (got[i] != shape[i]) return 0;
    }
    return 1;
}

static void lists_and_dicts_round_trip(void) {
    ad_array *a = arange(S23, 2, AD_FLOAT32), *b = arange(S4, 1, AD_FLOAT64);
    const ad_array *both[] = {a, b};
    ad_checkpoint *ck = NULL;

    /* A list: names NULL; the lists end with NULL. */
    OK(ad_save(at(dir, "list.npz"), both, NULL, 2));
    OK(ad_load(at(dir, "list.npz"), &ck));
    CHECK(ck && ck->count == 2 && ck->names == NULL && ck->arrays[2] == NULL);
    CHECK(same_shape(ck->arrays[0], S23, 2, AD_FLOAT32) && same_shape(ck->arrays[1], S4, 1, AD_FLOAT64));
    VALUES_ARE(ck->arrays[0], 0, 0, 1, 2, 3, 4, 5);
    VALUES_ARE(ck->arrays[1], 0, 0, 1, 2, 3);
    /* Taking a handle: the entry set to NULL, the array outlives the checkpoint. */
    ad_array *kept = ck->arrays[1];
    ck->arrays[1] = NULL;
    OK(ad_checkpoint_free(ck));
    VALUES_ARE(kept, 0, 0, 1, 2, 3);
    OK(ad_array_free(kept));
    /* A checkpoint's handles are freed with it. */
    OK(ad_load(at(dir, "list.npz"), &ck));
    ad_array *gone = ck->arrays[0];
    OK(ad_checkpoint_free(ck));
    FAILS(ad_array_free(gone), AD_ERR_INVALID_HANDLE);

    /* Named arrays: any file name but .npy, names in the order given. */
    const char *names[] = {"weight", "bias/é"};
    OK(ad_save(at(dir, "model.params"), both, names, 2));
    OK(ad_load(at(dir, "model.params"), &ck));
    CHECK(ck->count == 2 && ck->names != NULL && ck->names[2] == NULL && ck->arrays[2] == NULL);
    CHECK(strcmp(ck->names[0], "weight") == 0 && strcmp(ck->names[1], "bias/é") == 0);
    VALUES_ARE(ck->arrays[1], 0, 0, 1, 2, 3);
    OK(ad_checkpoint_free(ck));

    /* One array in a .npy. */
    OK(ad_save(at(dir, "one.npy"), both, NULL, 1));
    OK(ad_load(at(dir, "one.npy"), &ck));
    CHECK(ck->count == 1 && ck->names == NULL && same_shape(ck->arrays[0], S23, 2, AD_FLOAT32));
    OK(ad_checkpoint_free(ck));

    /* Empty lists and dicts stay what they were: names NULL, or a list holding only NULL. */
    OK(ad_save(at(dir, "empty_list.npz"), NULL, NULL, 0));
    OK(ad_load(at(dir, "empty_list.npz"), &ck));
    CHECK(ck->count == 0 && ck->names == NULL && ck->arrays != NULL && ck->arrays[0] == NULL);
    OK(ad_checkpoint_free(ck));
    OK(ad_save(at(dir, "empty_dict.npz"), NULL, names, 0));
    OK(ad_load(at(dir, "empty_dict.npz"), &ck));
    CHECK(ck->count == 0 && ck->names != NULL && ck->names[0] == NULL);
    OK(ad_checkpoint_free(ck));

    /* 0-d, empty and 64-axis arrays. */
    ad_array *scalar = NULL, *empty = NULL, *deep = NULL;
    size_t ones[AD_MAX_NDIM];
    for (size_t i = 0; i < AD_MAX_NDIM; i++) ones[i] = 1;
    ones[AD_MAX_NDIM - 1] = 2;
    OK(ad_array_full(NULL, 0, 2.5, AD_FLOAT64, &scalar));
    OK(ad_array_zeros((const size_t[]){0, 3}, 2, AD_FLOAT32, &empty));
    OK(ad_array_ones(ones, AD_MAX_NDIM, AD_FLOAT32, &deep));
    const ad_array *odd[] = {scalar, empty, deep};
    OK(ad_save(at(dir, "odd.npz"), odd, NULL, 3));
    OK(ad_load(at(dir, "odd.npz"), &ck));
    CHECK(ck->count == 3 && same_shape(ck->arrays[0], NULL, 0, AD_FLOAT64));
    VALUES_ARE(ck->arrays[0], 0, 2.5);
    CHECK(same_shape(ck->arrays[1], (const size_t[]){0, 3}, 2, AD_FLOAT32));
    CHECK(same_shape(ck->arrays[2], ones, AD_MAX_NDIM, AD_FLOAT32));
    OK(ad_checkpoint_free(ck));

    /* An array in a recorded graph saves its values. */
    OK(ad_array_attach_grad(a, AD_GRAD_WRITE));
    ad_array *y = NULL;
    OK(ad_record_begin(true));
    OK(ad_mul(a, a, &y));
    OK(ad_record_end());
    const ad_array *recorded[] = {y};
    OK(ad_save(at(dir, "recorded.npy"), recorded, NULL, 1));
    OK(ad_load(at(dir, "recorded.npy"), &ck));
    VALUES_ARE(ck->arrays[0], 0, 0, 1, 4, 9, 16, 25);
    OK(ad_checkpoint_free(ck));

    ad_array *all[] = {a, b, scalar, empty, deep, y};
    OK(ad_array_free_many(all, 6));
}

static void numpys_files_load(void) {
    ad_checkpoint *ck = NULL;
    OK(ad_load(at(fixtures, "savez_compressed.npz"), &ck));
    CHECK(ck->count == 3 && ck->names && strcmp(ck->names[0], "w") == 0 && strcmp(ck->names[1], "zeros") == 0);
    CHECK(same_shape(ck->arrays[1], (const size_t[]){256, 256}, 2, AD_FLOAT32));
    VALUES_ARE(ck->arrays[2], 0, 0, 1, 2, 3);
    OK(ad_checkpoint_free(ck));
    OK(ad_load(at(fixtures, "fortran.npy"), &ck));
    CHECK(ck->count == 1 && same_shape(ck->arrays[0], S234, 3, AD_FLOAT64));
    VALUES_ARE(ck->arrays[0], 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23);
    OK(ad_checkpoint_free(ck));
    OK(ad_load(at(fixtures, "savez_list.npz"), &ck));
    CHECK(ck->count == 2 && ck->names == NULL);
    OK(ad_checkpoint_free(ck));
}

static void errors_name_the_file(void) {
    ad_array *a = arange(S2, 1, AD_FLOAT32);
    const ad_array *two[] = {a, a};
    const char *names[] = {"w", "w"};
    ad_checkpoint *ck = (ad_checkpoint *)(uintptr_t)0x5e5e5e50;

    FAILS(ad_save(at(dir, "two.npy"), two, NULL, 2), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("ad_save: ");
    MESSAGE_HAS("two.npy: a .npy file holds one array");
    FAILS(ad_save(at(dir, "named.npy"), two, names, 1), AD_ERR_INVALID_ARGUMENT);
    FAILS(ad_save(at(dir, "dup.npz"), two, names, 2), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("'w' is given twice");
    const char *null_name[] = {"w", NULL};
    FAILS(ad_save(at(dir, "n.npz"), two, null_name, 2), AD_ERR_NULL_ARGUMENT);
    MESSAGE_HAS("`names[1]`");
    const char *latin1[] = {"caf\xe9"};
    FAILS(ad_save(at(dir, "n.npz"), two, latin1, 1), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("`names[0]` is not UTF-8");
    FAILS(ad_save("", two, NULL, 1), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("empty path");
    FAILS(ad_save(at(dir, "no/such/folder/x.npz"), two, NULL, 1), AD_ERR_IO);
    MESSAGE_HAS("x.npz");
    FAILS(ad_save(dir, two, NULL, 1), AD_ERR_IO);
    MESSAGE_HAS("not a regular file");
    ad_array *freed = arange(S2, 1, AD_FLOAT32);
    OK(ad_array_free(freed));
    const ad_array *with_freed[] = {a, freed};
    FAILS(ad_save(at(dir, "f.npz"), with_freed, NULL, 2), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("`arrays[1]`");

    FAILS(ad_load(at(dir, "missing.npz"), &ck), AD_ERR_IO);
    MESSAGE_HAS("ad_load: ");
    MESSAGE_HAS("missing.npz: cannot open it");
    FAILS(ad_load(at(fixtures, "int16.npy"), &ck), AD_ERR_DTYPE);
    MESSAGE_HAS("int16.npy: its elements are int16 ('<i2')");
    FAILS(ad_load(at(fixtures, "expected.txt"), &ck), AD_ERR_FORMAT);
    MESSAGE_HAS("expected.txt: not a .npy or .npz file");
    FAILS(ad_load(at(fixtures, "readme_entry.npz"), &ck), AD_ERR_FORMAT);
    MESSAGE_HAS("README.txt");
    CHECK(ck == (ad_checkpoint *)(uintptr_t)0x5e5e5e50); /* untouched on failure */

    /* Freeing: NULL is nothing; twice, or what ad_load did not return, is refused. */
    OK(ad_checkpoint_free(NULL));
    OK(ad_save(at(dir, "pair.npz"), two, NULL, 2));
    OK(ad_load(at(dir, "pair.npz"), &ck));
    ad_checkpoint *same = ck;
    OK(ad_checkpoint_free(ck));
    FAILS(ad_checkpoint_free(same), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("`checkpoint`");
    /* A new checkpoint does not take a freed one's address: a second free of the old
       pointer is still refused, and the new one is left alone. */
    ad_checkpoint *old[200];
    int reused = 0;
    for (size_t i = 0; i < 200; i++) {
        OK(ad_load(at(dir, "pair.npz"), &old[i]));
        for (size_t j = 0; j < i; j++) reused |= old[j] == old[i];
        OK(ad_checkpoint_free(old[i]));
    }
    CHECK(!reused);
    for (size_t i = 0; i < 200; i++) FAILS(ad_checkpoint_free(old[i]), AD_ERR_INVALID_HANDLE);
    ad_checkpoint fake = {0, NULL, NULL};
    FAILS(ad_checkpoint_free(&fake), AD_ERR_INVALID_HANDLE);
    /* A handle the caller freed but left in the list: reported, the rest still freed. */
    OK(ad_load(at(dir, "pair.npz"), &ck));
    OK(ad_array_free(ck->arrays[0]));
    FAILS(ad_checkpoint_free(ck), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("checkpoint->arrays[0]");
    OK(ad_array_free(a));
}

int main(int argc, char **argv) {
    if (argc > 2) {
        dir = argv[1];
        fixtures = argv[2];
    }
    lists_and_dicts_round_trip();
    numpys_files_load();
    errors_name_the_file();
    return CHECK_RESULT();
}
