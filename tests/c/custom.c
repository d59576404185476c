/*
 * Custom differentiable functions from C: a sigmoid written as callbacks matches the
 * library's to second order; a function of two inputs and two outputs; errors from forward
 * and backward reach the caller with their status and message; the user data is destroyed
 * exactly once, after the handle and the last graph; several threads apply and differentiate
 * one function at once; contexts are refused outside their callback.
 */
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "handles.h"

/* The user data: counts the calls and the destructions. */
typedef struct {
    int forwards, backwards, destroyed;
    int fail_in;  /* 0 never, 1 forward, 2 backward */
    int shared;   /* used from several threads at once: no counting of calls */
} counts;

static void destroy(void *user_data) { ((counts *)user_data)->destroyed++; }

/* y = 1 / (1 + e^-x), saving y. */
static ad_status sigmoid_forward(void *user_data, ad_function_context *ctx, const ad_array *const *in, size_t n_in,
                                 ad_array **out, size_t n_out) {
    counts *c = user_data;
    ad_array *neg = NULL, *e = NULL, *d = NULL;
    ad_status s;
    if (!c->shared) c->forwards++;
    if (n_in != 1 || n_out != 1) return AD_ERR_INVALID_ARGUMENT;
    if (c->fail_in == 1) {
        ad_function_set_error(ctx, "the forward refuses");
        return AD_ERR_SHAPE;
    }
    if ((s = ad_neg(in[0], &neg)) || (s = ad_exp(neg, &e)) || (s = ad_add_scalar(e, 1.0, &d)) ||
        (s = ad_rdiv_scalar(d, 1.0, &out[0])) || (s = ad_function_save(ctx, (const ad_array *const *)out, 1))) {
    }
    ad_array_free(neg);
    ad_array_free(e);
    ad_array_free(d);
    return s;
}

/* dx = g · y · (1 - y), with the library's ops: differentiable again. */
static ad_status sigmoid_backward(void *user_data, ad_function_context *ctx, const ad_array *const *grads, size_t n_out,
                                  ad_array **in_grads, size_t n_in) {
    counts *c = user_data;
    ad_array *y = NULL, *one_minus = NULL, *slope = NULL;
    size_t saved = 0;
    bool needed = false;
    ad_status s;
    if (!c->shared) c->backwards++;
    if (n_out != 1 || n_in != 1) return AD_ERR_INVALID_ARGUMENT;
    if (c->fail_in == 2) return ad_array_reshape(grads[0], (const int64_t[]){-7}, 1, &y); /* a library error */
    if ((s = ad_function_saved_count(ctx, &saved)) || saved != 1) return s ? s : AD_ERR_INVALID_ARGUMENT;
    if ((s = ad_function_needs_grad(ctx, 0, &needed)) || !needed) return s ? s : AD_ERR_INVALID_ARGUMENT;
    if ((s = ad_function_saved(ctx, 0, &y)) || (s = ad_rsub_scalar(y, 1.0, &one_minus)) ||
        (s = ad_mul(y, one_minus, &slope)) || (s = ad_mul(grads[0], slope, &in_grads[0]))) {
    }
    ad_array_free(y);
    ad_array_free(one_minus);
    ad_array_free(slope);
    return s;
}

static const ad_function_callbacks sigmoid_callbacks = {AD_FUNCTION_CALLBACKS_VERSION, sigmoid_forward,
                                                        sigmoid_backward, destroy};

/* f(x) or the library's sigmoid, then Σ w·f and its gradient with create_graph, then the
 * backward of Σ of that gradient: the second derivatives. */
static void second_derivatives(ad_function *f, ad_array *x, ad_array *w) {
    ad_array *y = NULL, *yw = NULL, *l = NULL, *g = NULL, *s = NULL;
    const ad_array *heads[1], *vars[1] = {x};
    OK(ad_record_begin(true));
    if (f) {
        const ad_array *in[1] = {x};
        OK(ad_function_apply(f, in, 1, &y, 1));
    } else {
        OK(ad_sigmoid(x, &y));
    }
    OK(ad_mul(y, w, &yw));
    OK(ad_sum(yw, NULL, 0, false, &l));
    heads[0] = l;
    OK(ad_grad(heads, NULL, 1, vars, 1, true, true, true, &g));
    OK(ad_sum(g, NULL, 0, false, &s));
    OK(ad_record_end());
    OK(ad_backward(s, NULL, false));
    ad_array_free(y), ad_array_free(yw), ad_array_free(l), ad_array_free(g), ad_array_free(s);
}

static void test_sigmoid_matches_the_library_to_second_order(void) {
    counts c = {0, 0, 0, 0, 0};
    ad_function *f = NULL;
    ad_array *x = ARRAY(AD_FLOAT64, S4, -1.5, -0.2, 0.3, 2.0);
    ad_array *w = ARRAY(AD_FLOAT64, S4, 1, 2, 3, 4);
    OK(ad_function_new("sigmoid", &sigmoid_callbacks, &c, &f));
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    second_derivatives(NULL, x, w);
    ad_array *want = grad_of(x);
    double expected[4];
    OK(ad_array_read(want, AD_FLOAT64, expected, 4));
    second_derivatives(f, x, w);
    VALUES_ARE(grad_of(x), 1e-12, expected[0], expected[1], expected[2], expected[3]);
    CHECK(c.forwards == 1 && c.backwards == 2); /* the second backward goes back through y, saved */
    OK(ad_function_free(f));
    CHECK(c.destroyed == 1); /* the graph was released by backward, the handle just now */
    FAILS(ad_function_free(f), AD_ERR_INVALID_HANDLE);
    free_all();
    CHECK(c.destroyed == 1);
}

static void test_the_graph_keeps_the_function_after_its_handle_is_freed(void) {
    counts c = {0, 0, 0, 0, 0};
    ad_function *f = NULL;
    ad_array *x = ARRAY(AD_FLOAT32, S2, 0, 1), *y = NULL;
    const ad_array *in[1] = {x};
    OK(ad_function_new("sigmoid", &sigmoid_callbacks, &c, &f));
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    OK(ad_function_apply(f, in, 1, &y, 1));
    OK(ad_record_end());
    OK(ad_function_free(f));
    CHECK(c.destroyed == 0); /* y's graph holds it */
    OK(ad_backward(y, NULL, true));
    VALUES_ARE(grad_of(x), 1e-6, 0.25, 0.19661193);
    OK(ad_array_free(y));
    CHECK(c.destroyed == 1); /* the last graph went with y */
    free_all();
}

static void test_errors_reach_the_caller(void) {
    counts c = {0, 0, 0, 1, 0};
    ad_function *f = NULL;
    ad_array *x = ARRAY(AD_FLOAT32, S2, 0, 1), *y = NULL;
    const ad_array *in[1] = {x};
    OK(ad_function_new("sigmoid", &sigmoid_callbacks, &c, &f));
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    FAILS(ad_function_apply(f, in, 1, &y, 1), AD_ERR_SHAPE);
    MESSAGE_HAS("custom function `sigmoid`: forward failed");
    MESSAGE_HAS("the forward refuses");
    CHECK(y == NULL);
    c.fail_in = 2;
    OK(ad_function_apply(f, in, 1, &y, 1));
    OK(ad_record_end());
    FAILS(ad_backward(y, NULL, false), AD_ERR_SHAPE);
    MESSAGE_HAS("backward failed");
    MESSAGE_HAS("ad_array_reshape"); /* the library's own message, from inside the callback */
    OK(ad_array_free(y));
    OK(ad_function_free(f));
    CHECK(c.destroyed == 1);
    free_all();
}

/* (sin a, a · b): two outputs of two inputs. */
static ad_status two_forward(void *user_data, ad_function_context *ctx, const ad_array *const *in, size_t n_in,
                             ad_array **out, size_t n_out) {
    ad_status s;
    (void)user_data;
    if (n_in != 2 || n_out != 2) return AD_ERR_INVALID_ARGUMENT;
    if ((s = ad_function_save(ctx, in, 2))) return s;
    if ((s = ad_sin(in[0], &out[0]))) return s;
    return ad_mul(in[0], in[1], &out[1]);
}

static ad_status two_backward(void *user_data, ad_function_context *ctx, const ad_array *const *g, size_t n_out,
                              ad_array **in_grads, size_t n_in) {
    ad_array *a = NULL, *b = NULL, *cos_a = NULL, *t1 = NULL, *t2 = NULL;
    ad_status s;
    (void)user_data, (void)n_out, (void)n_in;
    if (!(s = ad_function_saved(ctx, 0, &a)) && !(s = ad_function_saved(ctx, 1, &b)) && !(s = ad_cos(a, &cos_a)) &&
        !(s = ad_mul(g[0], cos_a, &t1)) && !(s = ad_mul(g[1], b, &t2)) && !(s = ad_add(t1, t2, &in_grads[0]))) {
        s = ad_mul(g[1], a, &in_grads[1]);
    }
    ad_array_free(a), ad_array_free(b), ad_array_free(cos_a), ad_array_free(t1), ad_array_free(t2);
    return s;
}

static void test_two_inputs_and_two_outputs(void) {
    static const ad_function_callbacks callbacks = {AD_FUNCTION_CALLBACKS_VERSION, two_forward, two_backward, NULL};
    ad_function *f = NULL;
    ad_array *a = ARRAY(AD_FLOAT64, S2, 0.5, 2.0), *b = ARRAY(AD_FLOAT64, S2, 3, 4);
    ad_array *out[2] = {NULL, NULL}, *s0 = NULL, *s1 = NULL, *l = NULL;
    const ad_array *in[2] = {a, b};
    OK(ad_function_new("two", &callbacks, NULL, &f));
    OK(ad_array_attach_grad(a, AD_GRAD_WRITE));
    OK(ad_array_attach_grad(b, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    OK(ad_function_apply(f, in, 2, out, 2));
    OK(ad_sum(out[0], NULL, 0, false, &s0));
    OK(ad_sum(out[1], NULL, 0, false, &s1));
    OK(ad_add(s0, s1, &l));
    OK(ad_record_end());
    VALUES_ARE(out[1], 1e-12, 1.5, 8);
    OK(ad_backward(l, NULL, false));
    VALUES_ARE(grad_of(a), 1e-12, cos(0.5) + 3, cos(2.0) + 4);
    VALUES_ARE(grad_of(b), 1e-12, 0.5, 2);
    ad_array_free(out[0]), ad_array_free(out[1]), ad_array_free(s0), ad_array_free(s1), ad_array_free(l);
    OK(ad_function_free(f));
    free_all();
}

static void test_contexts_only_inside_their_callback(void) {
    static const ad_function_callbacks old = {AD_FUNCTION_CALLBACKS_VERSION + 1, sigmoid_forward, NULL, NULL};
    ad_function_context *stale = (ad_function_context *)(uintptr_t)1;
    size_t n = 0;
    ad_function *f = NULL;
    FAILS(ad_function_saved_count(stale, &n), AD_ERR_INVALID_HANDLE);
    MESSAGE_HAS("not the context of a callback running on this thread");
    FAILS(ad_function_new("old", &old, NULL, &f), AD_ERR_INVALID_ARGUMENT);
    MESSAGE_HAS("AD_FUNCTION_CALLBACKS_VERSION");
    CHECK(f == NULL);
}

/* Each thread applies the shared function and differentiates, many times. */
static ad_function *shared;

static void *worker(void *arg) {
    long failures = 0;
    (void)arg;
    for (int i = 0; i < 200; i++) {
        ad_array *x = NULL, *y = NULL, *g = NULL;
        const size_t shape[1] = {3};
        const double v[3] = {-1, 0, 1};
        double got[3];
        const ad_array *in[1];
        failures += ad_array_create(v, shape, 1, AD_FLOAT64, &x) != AD_OK;
        failures += ad_array_attach_grad(x, AD_GRAD_WRITE) != AD_OK;
        in[0] = x;
        failures += ad_record_begin(true) != AD_OK;
        failures += ad_function_apply(shared, in, 1, &y, 1) != AD_OK;
        failures += ad_record_end() != AD_OK;
        failures += ad_backward(y, NULL, false) != AD_OK;
        failures += ad_array_grad(x, &g) != AD_OK;
        failures += ad_array_read(g, AD_FLOAT64, got, 3) != AD_OK;
        failures += fabs(got[1] - 0.25) > 1e-12;
        ad_array_free(x), ad_array_free(y), ad_array_free(g);
    }
    return (void *)failures;
}

static void test_several_threads_at_once(void) {
    counts c = {0, 0, 0, 0, 1};
    pthread_t threads[4];
    OK(ad_function_new("sigmoid", &sigmoid_callbacks, &c, &shared));
    for (int t = 0; t < 4; t++) CHECK(pthread_create(&threads[t], NULL, worker, NULL) == 0);
    for (int t = 0; t < 4; t++) {
        void *failures = NULL;
        CHECK(pthread_join(threads[t], &failures) == 0);
        CHECK(failures == NULL);
    }
    OK(ad_function_free(shared));
    CHECK(c.destroyed == 1);
}

int main(void) {
    test_sigmoid_matches_the_library_to_second_order();
    test_the_graph_keeps_the_function_after_its_handle_is_freed();
    test_errors_reach_the_caller();
    test_two_inputs_and_two_outputs();
    test_contexts_only_inside_their_callback();
    test_several_threads_at_once();
    return CHECK_RESULT();
}
