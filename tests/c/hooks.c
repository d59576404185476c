/*
 * Gradient-ready hooks: in a two-layer network the hooks run from the last layer to the first,
 * each as soon as its variable's gradient is final (the first layer's buffers are still
 * unwritten when the last layer's hook runs), and each sees the gradient a backward without
 * hooks writes; a hook reads its gradient through a loan; a failing hook's status and message
 * reach the caller of backward; destroy runs once when a hook is replaced, removed, or its
 * variable is gone; two threads run backward with hooks on graphs of their own.
 */
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "handles.h"

enum { W1, B1, W2, NVARS };
static const size_t sizes[NVARS] = {12, 4, 8};

/* What the hooks of one backward saw. */
typedef struct {
    int order[8];
    int calls;
    double seen[NVARS][12];     /* each variable's gradient, read through a loan in its hook */
    double w1_at_w2_hook[12];   /* W1's gradient buffer when W2's hook ran */
    ad_array *w1;               /* to read it */
    int fail_at;                /* the variable whose hook fails, or -1 */
    long failures;              /* library calls that failed inside hooks */
} record;

/* The user data of one hook: which variable, and where to record. */
typedef struct {
    int var;
    record *rec;
    int *destroyed;
} hook_data;

static void destroy(void *user_data) { (*((hook_data *)user_data)->destroyed)++; }

/* Reads `variable`'s gradient through ad_array_grad and ad_array_borrow. */
static long read_grad(const ad_array *variable, double *out, size_t n) {
    ad_array *g = NULL;
    ad_borrow *loan = NULL;
    void *data = NULL;
    size_t size = 0;
    long failures = 0;
    failures += ad_array_grad(variable, &g) != AD_OK || g == NULL;
    if (g == NULL) return failures + 1;
    failures += ad_array_size(g, &size) != AD_OK || size != n;
    failures += ad_array_borrow(g, false, &data, &loan) != AD_OK;
    if (data && size == n) {
        for (size_t i = 0; i < n; i++) out[i] = ((const double *)data)[i];
    }
    failures += ad_borrow_release(loan) != AD_OK;
    failures += ad_array_free(g) != AD_OK;
    return failures;
}

static ad_status hook(void *user_data, const ad_array *variable) {
    hook_data *d = user_data;
    record *r = d->rec;
    if (r->calls < 8) r->order[r->calls] = d->var;
    r->calls++;
    if (d->var == r->fail_at) {
        ad_grad_hook_set_error("the allreduce of this gradient refused");
        return AD_ERR_IO;
    }
    r->failures += read_grad(variable, r->seen[d->var], sizes[d->var]);
    if (d->var == W2 && r->w1) r->failures += read_grad(r->w1, r->w1_at_w2_hook, sizes[W1]);
    return AD_OK;
}

/* A hook that fails with a library error of its own and sets no message. */
static ad_status failing_library_call(void *user_data, const ad_array *variable) {
    ad_array *out = NULL;
    (void)user_data;
    return ad_array_reshape(variable, (const int64_t[]){-7}, 1, &out);
}

/* The network: y = sum(relu(x · W1 + b1) · W2), x (2, 3), W1 (3, 4), b1 (4), W2 (4, 2). */
typedef struct {
    ad_array *vars[NVARS];
    ad_array *y;
} net;

static net make_net(void) {
    net n;
    ad_array *x = ARRAY(AD_FLOAT64, S23, 0.5, -1, 2, 1.5, 0.25, -0.5);
    ad_array *h1 = NULL, *h2 = NULL, *h3 = NULL, *h4 = NULL;
    n.vars[W1] = ARRAY(AD_FLOAT64, S34, 0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8, 0.9, 1.0, -1.1, 1.2);
    n.vars[B1] = ARRAY(AD_FLOAT64, S4, 0.05, -0.05, 0.1, 0.2);
    n.vars[W2] = ARRAY(AD_FLOAT64, S42, 1, -1, 0.5, 2, -0.25, 0.75, 1.5, -2);
    for (int v = 0; v < NVARS; v++) OK(ad_array_attach_grad(n.vars[v], AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    MAKE(h1, ad_dot(x, n.vars[W1], false, false, &h1));
    MAKE(h2, ad_add(h1, n.vars[B1], &h2));
    MAKE(h3, ad_relu(h2, &h3));
    MAKE(h4, ad_dot(h3, n.vars[W2], false, false, &h4));
    MAKE(n.y, ad_sum(h4, NULL, 0, false, &n.y));
    OK(ad_record_end());
    return n;
}

static void grads_of(net *n, double out[NVARS][12]) {
    for (int v = 0; v < NVARS; v++) {
        ad_array *g = grad_of(n->vars[v]);
        OK(ad_array_read(g, AD_FLOAT64, out[v], sizes[v]));
    }
}

static void test_hooks_run_last_layer_first_with_final_gradients(void) {
    double expected[NVARS][12], after[NVARS][12];
    record r = {{0}, 0, {{0}}, {0}, NULL, -1, 0};
    int destroyed = 0;
    hook_data data[NVARS];
    net plain = make_net(), hooked;
    OK(ad_backward(plain.y, NULL, false));
    grads_of(&plain, expected);

    hooked = make_net();
    r.w1 = hooked.vars[W1];
    for (int v = 0; v < NVARS; v++) {
        data[v] = (hook_data){v, &r, &destroyed};
        OK(ad_array_set_grad_hook(hooked.vars[v], hook, &data[v], destroy));
    }
    OK(ad_backward(hooked.y, NULL, false));
    CHECK(r.failures == 0);
    CHECK(r.calls == 3);
    /* The sweep finishes W2 (the last dot), then b1 (the add), then W1 (the first dot). */
    CHECK(r.order[0] == W2 && r.order[1] == B1 && r.order[2] == W1);
    grads_of(&hooked, after);
    for (int v = 0; v < NVARS; v++) {
        for (size_t i = 0; i < sizes[v]; i++) {
            CHECK(r.seen[v][i] == expected[v][i]);
            CHECK(after[v][i] == expected[v][i]);
        }
    }
    /* Early: when W2's hook ran, W1's gradient was not written yet. */
    for (size_t i = 0; i < sizes[W1]; i++) CHECK(r.w1_at_w2_hook[i] == 0.0);
    CHECK(destroyed == 0);
    free_all();
    CHECK(destroyed == NVARS);
}

static void test_a_failing_hook_stops_backward(void) {
    double got[NVARS][12];
    record r = {{0}, 0, {{0}}, {0}, NULL, B1, 0};
    int destroyed = 0;
    hook_data data[NVARS];
    net n = make_net();
    for (int v = 0; v < NVARS; v++) {
        data[v] = (hook_data){v, &r, &destroyed};
        OK(ad_array_set_grad_hook(n.vars[v], hook, &data[v], destroy));
    }
    FAILS(ad_backward(n.y, NULL, true), AD_ERR_IO);
    MESSAGE_HAS("the allreduce of this gradient refused");
    MESSAGE_HAS("ad_backward");
    CHECK(r.calls == 2);
    grads_of(&n, got);
    /* W2's hook ran: its gradient stays written; W1's was never reached. */
    CHECK(got[W2][0] != 0.0);
    for (size_t i = 0; i < sizes[W1]; i++) CHECK(got[W1][i] == 0.0);

    /* A hook failing in a library call, with no message of its own: that call's message. */
    OK(ad_array_set_grad_hook(n.vars[W2], failing_library_call, NULL, NULL));
    FAILS(ad_backward(n.y, NULL, true), AD_ERR_SHAPE);
    MESSAGE_HAS("gradient hook");
    MESSAGE_HAS("ad_array_reshape");
    CHECK(destroyed == 1);
    free_all();
    CHECK(destroyed == NVARS);
}

static void test_destroy_runs_once(void) {
    int destroyed = 0;
    record r = {{0}, 0, {{0}}, {0}, NULL, -1, 0};
    hook_data a = {B1, &r, &destroyed}, b = {B1, &r, &destroyed}, c = {B1, &r, &destroyed};
    ad_array *x = NULL, *plain = ARRAY(AD_FLOAT64, S3, 1, 2, 3);
    ad_array *y = NULL;
    OK(ad_array_create((const double[]){1, 2, 3, 4}, S4, 1, AD_FLOAT64, &x)); /* freed below */
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_array_set_grad_hook(x, hook, &a, destroy));
    OK(ad_array_set_grad_hook(x, hook, &b, destroy)); /* replaces a */
    CHECK(destroyed == 1);
    OK(ad_array_set_grad_hook(x, NULL, NULL, NULL)); /* removes b */
    CHECK(destroyed == 2);
    OK(ad_array_set_grad_hook(x, NULL, NULL, NULL));
    CHECK(destroyed == 2);
    /* Refused: not a variable. The user data stays the caller's. */
    FAILS(ad_array_set_grad_hook(plain, hook, &c, destroy), AD_ERR_AUTOGRAD);
    MESSAGE_HAS("attach_grad");
    CHECK(destroyed == 2);
    FAILS(ad_grad_hook_set_error("nobody listens"), AD_ERR_AUTOGRAD);
    /* The graph keeps the variable (and its hook) after the handle is freed. */
    OK(ad_array_set_grad_hook(x, hook, &c, destroy));
    OK(ad_record_begin(true));
    MAKE(y, ad_mul_scalar(x, 2.0, &y));
    OK(ad_record_end());
    OK(ad_array_free(x));
    CHECK(destroyed == 2);
    OK(ad_backward(y, NULL, false));
    CHECK(r.calls == 1);
    CHECK(r.failures == 0);
    CHECK(r.seen[B1][0] == 2.0 && r.seen[B1][3] == 2.0);
    free_all();
    CHECK(destroyed == 3);
}

static void test_a_variable_head_is_hooked_at_the_end(void) {
    int destroyed = 0;
    record r = {{0}, 0, {{0}}, {0}, NULL, -1, 0};
    hook_data d = {B1, &r, &destroyed};
    ad_array *x = ARRAY(AD_FLOAT64, S4, 1, 2, 3, 4);
    OK(ad_array_attach_grad(x, AD_GRAD_ADD));
    OK(ad_array_set_grad_hook(x, hook, &d, destroy));
    OK(ad_backward(x, NULL, false));
    OK(ad_backward(x, NULL, false));
    CHECK(r.calls == 2);
    CHECK(r.seen[B1][0] == 2.0 && r.seen[B1][3] == 2.0); /* grad_req add: 1 + 1 */
    VALUES_ARE(grad_of(x), 0, 2, 2, 2, 2);
    free_all();
    CHECK(destroyed == 1);
}

/* Each thread builds its own network and runs backward with hooks, many times. */
static void *worker(void *arg) {
    long failures = 0;
    (void)arg;
    for (int i = 0; i < 50; i++) {
        record r = {{0}, 0, {{0}}, {0}, NULL, -1, 0};
        int destroyed = 0;
        hook_data data[NVARS];
        ad_array *vars[NVARS], *x = NULL, *h1 = NULL, *h2 = NULL, *h3 = NULL, *h4 = NULL, *y = NULL;
        const double xv[6] = {0.5, -1, 2, 1.5, 0.25, -0.5}, w1[12] = {0}, b1[4] = {1, 1, 1, 1}, w2[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        const double *vals[NVARS] = {w1, b1, w2};
        const size_t shapes[NVARS][2] = {{3, 4}, {4, 0}, {4, 2}};
        const size_t ndims[NVARS] = {2, 1, 2};
        failures += ad_array_create(xv, (const size_t[]){2, 3}, 2, AD_FLOAT64, &x) != AD_OK;
        for (int v = 0; v < NVARS; v++) {
            data[v] = (hook_data){v, &r, &destroyed};
            failures += ad_array_create(vals[v], shapes[v], ndims[v], AD_FLOAT64, &vars[v]) != AD_OK;
            failures += ad_array_attach_grad(vars[v], AD_GRAD_WRITE) != AD_OK;
            failures += ad_array_set_grad_hook(vars[v], hook, &data[v], destroy) != AD_OK;
        }
        failures += ad_record_begin(true) != AD_OK;
        failures += ad_dot(x, vars[W1], false, false, &h1) != AD_OK;
        failures += ad_add(h1, vars[B1], &h2) != AD_OK;
        failures += ad_relu(h2, &h3) != AD_OK;
        failures += ad_dot(h3, vars[W2], false, false, &h4) != AD_OK;
        failures += ad_sum(h4, NULL, 0, false, &y) != AD_OK;
        failures += ad_record_end() != AD_OK;
        failures += ad_backward(y, NULL, false) != AD_OK;
        failures += r.failures + (r.calls != 3) + (r.order[0] != W2) + (r.order[1] != B1) + (r.order[2] != W1);
        /* dy/dW2[k][j] = sum over rows of relu(h2)[.][k] = 2 (both rows are 1). */
        failures += r.seen[W2][0] != 2.0 || r.seen[W2][7] != 2.0;
        ad_array_free(x), ad_array_free(h1), ad_array_free(h2), ad_array_free(h3), ad_array_free(h4), ad_array_free(y);
        for (int v = 0; v < NVARS; v++) ad_array_free(vars[v]);
        failures += destroyed != NVARS;
    }
    return (void *)failures;
}

static void test_two_threads_with_hooks(void) {
    pthread_t threads[2];
    for (int t = 0; t < 2; t++) CHECK(pthread_create(&threads[t], NULL, worker, NULL) == 0);
    for (int t = 0; t < 2; t++) {
        void *failures = NULL;
        CHECK(pthread_join(threads[t], &failures) == 0);
        CHECK(failures == NULL);
    }
}

int main(void) {
    (void)array_text;
    test_hooks_run_last_layer_first_with_final_gradients();
    test_a_failing_hook_stops_backward();
    test_destroy_runs_once();
    test_a_variable_head_is_hooked_at_the_end();
    test_two_threads_with_hooks();
    return CHECK_RESULT();
}
