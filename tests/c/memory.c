/*
 * Memory shared with the host without a copy. Borrowing: the address is the array's own
 * (the same for every loan and view, offset for a slice), it outlives the handle, a writable
 * loan counts as an in-place write for the version check, and a borrowed gradient sees each
 * backward's values at the same address. Wrapping: an array over the host's memory reads
 * and writes it in place, takes gradients into it, and gives it back through the release
 * callback exactly once, after the last array on it; a refused wrap takes nothing. DLPack:
 * exports lend the array's memory (read-only, or as a writable loan), imports share the
 * producer's memory or copy what cannot be shared, and a refused import takes nothing.
 */
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "handles.h"

static void *borrow(ad_array *a, bool writable, ad_borrow **loan) {
    void *data = NULL;
    OK(ad_array_borrow(a, writable, &data, loan));
    return data;
}

static void test_borrow_gives_the_arrays_own_memory(void) {
    ad_array *x = ARRAY(AD_FLOAT64, S23, 1, 2, 3, 4, 5, 6), *r, *row, *d;
    ad_borrow *l1 = NULL, *l2 = NULL, *l3 = NULL, *l4 = NULL;
    double *p1 = borrow(x, false, &l1), *p2 = borrow(x, false, &l2);
    CHECK(p1 == p2 && p1 != NULL);
    CHECK(p1[0] == 1 && p1[5] == 6);
    /* a view shares the address; a slice of rows starts further in */
    MAKE(r, ad_array_reshape(x, (const int64_t[]){3, 2}, 2, &r));
    CHECK((double *)borrow(r, false, &l3) == p1);
    MAKE(row, ad_array_slice(x, (const ad_index[]){{1, 2, 1}}, 1, &row));
    CHECK((double *)borrow(row, false, &l4) == p1 + 3);
    /* a copy does not */
    MAKE(d, ad_array_copy(x, &d));
    ad_borrow *l5 = NULL;
    CHECK((double *)borrow(d, false, &l5) != p1);
    OK(ad_borrow_release(l5));
    OK(ad_borrow_release(l4));
    OK(ad_borrow_release(l3));
    OK(ad_borrow_release(l2));
    /* the loan outlives every handle on the array */
    free_all();
    CHECK(p1[0] == 1 && p1[4] == 5);
    OK(ad_borrow_release(l1));
    /* released twice: refused, not followed */
    CHECK(ad_borrow_release(l1) == AD_ERR_INVALID_HANDLE);
    CHECK(strstr(ad_last_error(), "not a live borrow") != NULL);
    OK(ad_borrow_release(NULL));
}

static void test_a_writable_loan_is_an_in_place_write(void) {
    ad_array *x = ARRAY(AD_FLOAT32, S3, 1, 2, 3), *y, *z, *sum;
    ad_borrow *loan = NULL;
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));

    /* a read loan changes nothing: backward runs */
    OK(ad_record_begin(true));
    MAKE(y, ad_mul(x, x, &y));
    MAKE(sum, ad_sum(y, NULL, 0, false, &sum));
    OK(ad_record_end());
    float *p = borrow(x, false, &loan);
    OK(ad_backward(sum, NULL, false));
    OK(ad_borrow_release(loan));
    VALUES_ARE(grad_of(x), 0, 2, 4, 6);

    /* written through a writable loan, the values the product saved are gone: refused
       while the loan lasts, and after */
    OK(ad_record_begin(true));
    MAKE(z, ad_mul(x, x, &z));
    MAKE(sum, ad_sum(z, NULL, 0, false, &sum));
    OK(ad_record_end());
    p = borrow(x, true, &loan);
    p[0] = 10;
    VALUES_ARE(x, 0, 10, 2, 3);
    CHECK(ad_backward(sum, NULL, true) == AD_ERR_AUTOGRAD);
    CHECK(strstr(ad_last_error(), "lent to the host for writing") != NULL);
    OK(ad_borrow_release(loan));
    CHECK(ad_backward(sum, NULL, false) == AD_ERR_AUTOGRAD);
    CHECK(strstr(ad_last_error(), "modified in place") != NULL);

    /* recorded during a writable loan: refused too, the host may write it at any time */
    p = borrow(x, true, &loan);
    OK(ad_record_begin(true));
    MAKE(z, ad_mul(x, x, &z));
    MAKE(sum, ad_sum(z, NULL, 0, false, &sum));
    OK(ad_record_end());
    CHECK(ad_backward(sum, NULL, true) == AD_ERR_AUTOGRAD);
    OK(ad_borrow_release(loan));
    free_all();
}

static void test_a_borrowed_gradient_sees_each_backward_in_place(void) {
    ad_array *x = ARRAY(AD_FLOAT64, S23, 1, 2, 3, 4, 5, 6), *y, *g;
    ad_borrow *loan = NULL;
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    g = grad_of(x);
    double *p = borrow(g, false, &loan);
    for (int k = 1; k <= 3; k++) {
        OK(ad_record_begin(true));
        MAKE(y, ad_mul_scalar(x, k, &y));
        OK(ad_record_end());
        OK(ad_backward(y, NULL, false));
        for (int i = 0; i < 6; i++) CHECK(p[i] == k);
        ad_borrow *again = NULL;
        CHECK(borrow(grad_of(x), false, &again) == p);
        OK(ad_borrow_release(again));
    }
    /* the host scales the gradient in place (as an allreduce would write it), and the
       handle sees it */
    OK(ad_borrow_release(loan));
    p = borrow(g, true, &loan);
    for (int i = 0; i < 6; i++) p[i] *= 0.5;
    OK(ad_borrow_release(loan));
    VALUES_ARE(grad_of(x), 0, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5);
    free_all();
}

/* ---- wrapping the host's memory ---- */

typedef struct {
    int released;
    void *memory;
} host_memory;

static void give_back(void *context) {
    host_memory *m = context;
    m->released++;
    free(m->memory);
    m->memory = NULL;
}

static void test_wrap_reads_and_writes_the_hosts_memory(void) {
    host_memory m = {0, malloc(6 * sizeof(float))};
    float *data = m.memory;
    for (int i = 0; i < 6; i++) data[i] = (float)i;
    ad_array *x = NULL, *y, *view;
    ad_borrow *loan = NULL;
    OK(ad_array_wrap(data, S23, 2, AD_FLOAT32, give_back, &m, &x));
    VALUES_ARE(x, 0, 0, 1, 2, 3, 4, 5);
    CHECK(borrow(x, false, &loan) == (void *)data);
    OK(ad_borrow_release(loan));
    /* the host writes its memory between calls; the next op reads the new values */
    data[0] = 100;
    MAKE(y, ad_add_scalar(x, 1, &y));
    VALUES_ARE(y, 0, 101, 2, 3, 4, 5, 6);
    /* the library writes in place into it */
    OK(ad_array_update(x, ARRAY(AD_FLOAT32, S1, 2), AD_UPDATE_MUL));
    CHECK(data[1] == 2 && data[5] == 10);
    /* a view keeps the memory after the wrapped handle is freed; the release runs once, after
       the last */
    MAKE(view, ad_array_reshape(x, (const int64_t[]){6}, 1, &view));
    OK(ad_array_free(x));
    CHECK(m.released == 0);
    VALUES_ARE(view, 0, 200, 2, 4, 6, 8, 10);
    free_all();
    CHECK(m.released == 1 && m.memory == NULL);
}

static void test_gradients_land_in_the_hosts_memory(void) {
    double weights[3] = {1, 2, 3}, grads[3] = {-1, -1, -1};
    ad_array *w = NULL, *g = NULL, *y, *sum;
    OK(ad_array_wrap(weights, S3, 1, AD_FLOAT64, NULL, NULL, &w));
    OK(ad_array_wrap(grads, S3, 1, AD_FLOAT64, NULL, NULL, &g));
    track(w);
    track(g);
    OK(ad_array_attach_grad_with(w, g, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_mul(w, w, &y));
    MAKE(sum, ad_sum(y, NULL, 0, false, &sum));
    OK(ad_record_end());
    OK(ad_backward(sum, NULL, false));
    CHECK(grads[0] == 2 && grads[1] == 4 && grads[2] == 6);
    /* an optimizer step writes the host's weights */
    OK(ad_sgd_update(w, g, 0.5, 0, 1, -1));
    CHECK(weights[0] == 0 && weights[1] == 0 && weights[2] == 0);
    free_all();
}

static void test_a_refused_wrap_takes_nothing(void) {
    host_memory m = {0, malloc(16)};
    ad_array *x = NULL;
    char *bytes = m.memory;
    /* misaligned for double */
    CHECK(ad_array_wrap(bytes + 1, S1, 1, AD_FLOAT64, give_back, &m, &x) == AD_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ad_last_error(), "not aligned for float64") != NULL);
    /* no memory for elements */
    CHECK(ad_array_wrap(NULL, S1, 1, AD_FLOAT32, give_back, &m, &x) == AD_ERR_NULL_ARGUMENT);
    CHECK(strstr(ad_last_error(), "`data`") != NULL);
    /* an unknown dtype, a shape too large */
    CHECK(ad_array_wrap(bytes, S1, 1, 8, give_back, &m, &x) == AD_ERR_DTYPE);
    CHECK(ad_array_wrap(bytes, (const size_t[]){SIZE_MAX / 2, 4}, 2, AD_FLOAT32, give_back, &m, &x) != AD_OK);
    CHECK(x == NULL && m.released == 0);
    /* bool memory: any byte, 0 false and the others true */
    {
        static unsigned char flags[3] = {0, 2, 255};
        ad_array *f = NULL;
        OK(ad_array_wrap(flags, S3, 1, AD_BOOL, NULL, NULL, &f));
        VALUES_ARE(f, 0, 0, 1, 1);
        TEXT_IS(f, "\n[False  True  True]\n<NDArray 3 @cpu(0)>");
        OK(ad_array_free(f));
    }
    /* an empty array needs no memory */
    OK(ad_array_wrap(NULL, (const size_t[]){0, 3}, 2, AD_FLOAT32, give_back, &m, &x));
    OK(ad_array_free(x));
    CHECK(m.released == 1);
}

/* The last array on wrapped memory may go on another thread: the release runs there, once. */
static void *free_on_a_thread(void *arg) {
    return (void *)(uintptr_t)ad_array_free(arg);
}

static void test_the_release_runs_on_the_thread_that_frees_last(void) {
    host_memory m = {0, malloc(4 * sizeof(float))};
    ad_array *x = NULL;
    pthread_t t;
    void *status = NULL;
    OK(ad_array_wrap(m.memory, S4, 1, AD_FLOAT32, give_back, &m, &x));
    CHECK(pthread_create(&t, NULL, free_on_a_thread, x) == 0);
    CHECK(pthread_join(t, &status) == 0 && status == (void *)(uintptr_t)AD_OK);
    CHECK(m.released == 1);
}

/* ---- DLPack ---- */

static void test_dlpack_export_lends_the_arrays_memory(void) {
    ad_array *x = ARRAY(AD_FLOAT32, S23, 1, 2, 3, 4, 5, 6), *y, *sum;
    ad_borrow *loan = NULL;
    DLManagedTensorVersioned *t = NULL;
    float *p = borrow(x, false, &loan);
    OK(ad_borrow_release(loan));

    OK(ad_array_to_dlpack(x, false, &t));
    CHECK(t->version.major == 1 && t->version.minor == 1);
    CHECK(t->flags & DLPACK_FLAG_BITMASK_READ_ONLY);
    CHECK(t->dl_tensor.data == (void *)p && t->dl_tensor.byte_offset == 0 && t->dl_tensor.strides == NULL);
    CHECK(t->dl_tensor.device.device_type == kDLCPU && t->dl_tensor.device.device_id == 0);
    CHECK(t->dl_tensor.dtype.code == kDLFloat && t->dl_tensor.dtype.bits == 32 && t->dl_tensor.dtype.lanes == 1);
    CHECK(t->dl_tensor.ndim == 2 && t->dl_tensor.shape[0] == 2 && t->dl_tensor.shape[1] == 3);
    /* the tensor outlives the array */
    free_all();
    CHECK(((float *)t->dl_tensor.data)[5] == 6);
    t->deleter(t);

    /* a writable export is a writable loan: the product that saved x cannot run backward */
    x = ARRAY(AD_FLOAT64, S3, 1, 2, 3);
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(y, ad_mul(x, x, &y));
    MAKE(sum, ad_sum(y, NULL, 0, false, &sum));
    OK(ad_record_end());
    OK(ad_array_to_dlpack(x, true, &t));
    CHECK(t->flags == 0);
    ((double *)t->dl_tensor.data)[0] = 7;
    VALUES_ARE(x, 0, 7, 2, 3);
    CHECK(ad_backward(sum, NULL, false) == AD_ERR_AUTOGRAD);
    t->deleter(t);

    /* the legacy form, from a row of a matrix: the address of that row */
    DLManagedTensor *legacy = NULL;
    ad_array *m = ARRAY(AD_FLOAT64, S23, 1, 2, 3, 4, 5, 6), *row;
    MAKE(row, ad_array_slice(m, (const ad_index[]){{1, 0, 0}}, 1, &row));
    OK(ad_array_to_dlpack_legacy(row, false, &legacy));
    CHECK(legacy->dl_tensor.ndim == 1 && legacy->dl_tensor.shape[0] == 3);
    CHECK(((double *)legacy->dl_tensor.data)[0] == 4 && legacy->dl_tensor.dtype.bits == 64);
    legacy->deleter(legacy);
    free_all();
}

/* A producer's tensor over malloc'd memory, counting its deleter's calls. */
typedef struct {
    DLManagedTensorVersioned managed;
    int64_t shape[2], strides[2];
    int *deleted;
} produced;

static void delete_produced(DLManagedTensorVersioned *self) {
    produced *p = self->manager_ctx;
    (*p->deleted)++;
    free(p->managed.dl_tensor.data);
    free(p);
}

static DLManagedTensorVersioned *produce(int64_t rows, int64_t cols, int *deleted) {
    produced *p = calloc(1, sizeof *p);
    double *data = malloc((size_t)(rows * cols) * sizeof(double));
    if (!p || !data) exit(2);
    for (int64_t i = 0; i < rows * cols; i++) data[i] = (double)i;
    p->shape[0] = rows;
    p->shape[1] = cols;
    p->deleted = deleted;
    p->managed.version = (DLPackVersion){1, 1};
    p->managed.manager_ctx = p;
    p->managed.deleter = delete_produced;
    p->managed.dl_tensor = (DLTensor){data, {kDLCPU, 0}, 2, {kDLFloat, 64, 1}, p->shape, NULL, 0};
    return &p->managed;
}

static void test_dlpack_import_shares_or_copies(void) {
    int deleted = 0;
    bool copied = true;
    ad_array *x = NULL, *y;
    ad_borrow *loan = NULL;

    /* compact: shared, the deleter runs after the last array on it */
    DLManagedTensorVersioned *t = produce(2, 3, &deleted);
    void *data = t->dl_tensor.data;
    OK(ad_array_from_dlpack(t, &copied, &x));
    CHECK(!copied);
    CHECK(borrow(x, false, &loan) == data);
    OK(ad_borrow_release(loan));
    SHAPE_IS(x, 2, 3);
    VALUES_ARE(x, 0, 0, 1, 2, 3, 4, 5);
    OK(ad_array_reshape(x, (const int64_t[]){6}, 1, &y));
    OK(ad_array_free(x));
    CHECK(deleted == 0);
    OK(ad_array_free(y));
    CHECK(deleted == 1);

    /* strided (the transpose of a 3x2 matrix): a copy, the deleter run at once */
    t = produce(3, 2, &deleted);
    produced *p = t->manager_ctx;
    p->shape[0] = 2, p->shape[1] = 3, p->strides[0] = 1, p->strides[1] = 2;
    t->dl_tensor.strides = p->strides;
    OK(ad_array_from_dlpack(t, &copied, &x));
    track(x);
    CHECK(copied && deleted == 2);
    VALUES_ARE(x, 0, 0, 2, 4, 1, 3, 5);

    /* read-only: a copy too */
    t = produce(1, 2, &deleted);
    t->flags = DLPACK_FLAG_BITMASK_READ_ONLY;
    OK(ad_array_from_dlpack(t, NULL, &x));
    track(x);
    CHECK(deleted == 3);
    VALUES_ARE(x, 0, 0, 1);
    free_all();

    /* refused: not taken, the deleter not run */
    t = produce(1, 2, &deleted);
    t->dl_tensor.device.device_type = kDLCUDA;
    CHECK(ad_array_from_dlpack(t, &copied, &x) == AD_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ad_last_error(), "not the CPU") != NULL);
    t->dl_tensor.device.device_type = kDLCPU;
    t->dl_tensor.dtype = (DLDataType){kDLInt, 16, 1};
    CHECK(ad_array_from_dlpack(t, &copied, &x) == AD_ERR_DTYPE);
    CHECK(strstr(ad_last_error(), "int16 elements") != NULL);
    t->dl_tensor.dtype = (DLDataType){kDLFloat, 64, 1};
    t->version.major = 2;
    CHECK(ad_array_from_dlpack(t, &copied, &x) == AD_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ad_last_error(), "DLPack 2.") != NULL);
    CHECK(deleted == 3);
    t->deleter(t);
    CHECK(deleted == 4);
}

static void test_dlpack_round_trip(void) {
    ad_array *x = ARRAY(AD_FLOAT32, S23, 1, 2, 3, 4, 5, 6), *back = NULL;
    ad_borrow *l1 = NULL, *l2 = NULL;
    bool copied = true;
    DLManagedTensorVersioned *t = NULL;
    DLManagedTensor *legacy = NULL;
    /* writable: the array comes back over the same memory */
    OK(ad_array_to_dlpack(x, true, &t));
    OK(ad_array_from_dlpack(t, &copied, &back));
    track(back);
    CHECK(!copied && borrow(back, false, &l1) == borrow(x, false, &l2));
    OK(ad_borrow_release(l1));
    OK(ad_borrow_release(l2));
    /* read-only: a copy */
    OK(ad_array_to_dlpack(x, false, &t));
    OK(ad_array_from_dlpack(t, &copied, &back));
    track(back);
    CHECK(copied);
    VALUES_ARE(back, 0, 1, 2, 3, 4, 5, 6);
    /* legacy: shared */
    OK(ad_array_to_dlpack_legacy(x, true, &legacy));
    OK(ad_array_from_dlpack_legacy(legacy, &copied, &back));
    track(back);
    CHECK(!copied);
    free_all();
}

/* One block of memory is under one array's storage, whose lock guards it: wrapping memory an
   array already uses is refused, importing it copies, and a tensor exported writable comes
   back as the exported elements themselves. */
static void test_one_block_of_memory_is_one_arrays(void) {
    host_memory m = {0, malloc(6 * sizeof(float))};
    float *data = m.memory;
    for (int i = 0; i < 6; i++) data[i] = (float)i;
    ad_array *x = NULL, *y = NULL, *z = NULL;
    OK(ad_array_wrap(data, S23, 2, AD_FLOAT32, give_back, &m, &x));
    CHECK(ad_array_wrap(data + 3, (const size_t[]){3}, 1, AD_FLOAT32, NULL, NULL, &y) == AD_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ad_last_error(), "overlaps") != NULL && y == NULL);
    /* ranges that only touch do not overlap */
    float next[2] = {7, 8};
    OK(ad_array_wrap(next, (const size_t[]){2}, 1, AD_FLOAT32, NULL, NULL, &y));
    track(y);

    /* a second tensor over the wrapped memory is copied: an update of one by the other reads
       a snapshot, never the memory it writes */
    int64_t shape[2] = {2, 3};
    DLManagedTensorVersioned t = {{1, 1}, NULL, NULL, 0, {data, {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, shape, NULL, 0}};
    bool copied = false;
    OK(ad_array_from_dlpack(&t, &copied, &z));
    track(z);
    CHECK(copied);
    OK(ad_array_update(x, z, AD_UPDATE_ADD));
    VALUES_ARE(x, 0, 0, 2, 4, 6, 8, 10);
    VALUES_ARE(z, 0, 0, 1, 2, 3, 4, 5);

    /* memory lent by a borrow is not wrapped either */
    ad_borrow *loan = NULL;
    ad_array *owned = ARRAY(AD_FLOAT64, S1, 1.5);
    double *lent = borrow(owned, true, &loan);
    CHECK(ad_array_wrap(lent, (const size_t[]){1}, 1, AD_FLOAT64, NULL, NULL, &z) == AD_ERR_INVALID_ARGUMENT);
    OK(ad_borrow_release(loan));

    /* once the wrapped array is gone, its memory may be wrapped again */
    OK(ad_array_free(x));
    CHECK(m.released == 1);
    float again[6] = {0};
    OK(ad_array_wrap(again, S23, 2, AD_FLOAT32, NULL, NULL, &x));
    track(x);

    /* exported writable and imported back: the same elements, updated by themselves */
    DLManagedTensorVersioned *e = NULL;
    ad_array *back = NULL;
    OK(ad_array_to_dlpack(owned, true, &e));
    OK(ad_array_from_dlpack(e, &copied, &back));
    track(back);
    CHECK(!copied);
    OK(ad_array_update(owned, back, AD_UPDATE_ADD));
    VALUES_ARE(back, 0, 3.0);
    free_all();
}

int main(void) {
    test_borrow_gives_the_arrays_own_memory();
    test_a_writable_loan_is_an_in_place_write();
    test_a_borrowed_gradient_sees_each_backward_in_place();
    test_wrap_reads_and_writes_the_hosts_memory();
    test_gradients_land_in_the_hosts_memory();
    test_a_refused_wrap_takes_nothing();
    test_the_release_runs_on_the_thread_that_frees_last();
    test_dlpack_export_lends_the_arrays_memory();
    test_dlpack_import_shares_or_copies();
    test_dlpack_round_trip();
    test_one_block_of_memory_is_one_arrays();
    return CHECK_RESULT();
}
