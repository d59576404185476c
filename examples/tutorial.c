/*
 * The MXNet autograd tutorial, cell by cell, through ad's C API.
 * It prints what the tutorial's Python prints with MXNet.
 *
 *   cargo build --release
 *   cc examples/tutorial.c -Iinclude -Ltarget/release -lad -Wl,-rpath,target/release -o tutorial
 *   ./tutorial
 */
#include <stdio.h>
#include <stdlib.h>

#include "ad.h"

/* Every call returns a status; on failure, say why and stop. */
static void check(ad_status status, const char *what) {
    if (status != AD_OK) {
        fprintf(stderr, "%s failed (%s): %s\n", what, ad_status_name(status), ad_last_error());
        exit(1);
    }
}
#define CHECK(call) check((call), #call)

/* Python's print(x): MXNet's text for the array, then a newline. */
static void print_array(const ad_array *a) {
    size_t len = 0;
    CHECK(ad_array_to_string(a, NULL, 0, &len));
    char *text = malloc(len + 1);
    if (!text) exit(1);
    CHECK(ad_array_to_string(a, text, len + 1, NULL));
    printf("%s\n", text);
    free(text);
}

/* Python's print(bool). */
static void print_bool(int b) { printf("%s\n", b ? "True" : "False"); }

/* The gradient of a variable as a new handle. */
static ad_array *grad_of(const ad_array *a) {
    ad_array *g = NULL;
    CHECK(ad_array_grad(a, &g));
    return g;
}

/* 1.8: a function whose graph depends on its input through C control flow. */
static ad_array *f(const ad_array *a) {
    ad_array *b, *c, *next, *n;
    double value;
    CHECK(ad_mul_scalar(a, 2, &b));
    for (;;) {
        CHECK(ad_norm(b, NULL, 0, false, &n));
        CHECK(ad_array_asscalar(n, &value));
        CHECK(ad_array_free(n));
        if (value >= 1000) break;
        CHECK(ad_mul_scalar(b, 2, &next));
        CHECK(ad_array_free(b));
        b = next;
    }
    CHECK(ad_sum(b, NULL, 0, false, &n));
    CHECK(ad_array_asscalar(n, &value));
    CHECK(ad_array_free(n));
    if (value > 0) {
        c = b;
    } else {
        CHECK(ad_mul_scalar(b, 100, &c));
        CHECK(ad_array_free(b));
    }
    return c;
}

int main(void) {
    ad_array *x, *xt, *t, *y, *z, *g, *g2, *d, *a, *q;
    size_t shape[8];
    double value;

    /* 1.1 create a variable: x = nd.arange(4).reshape((4, 1)) */
    const int64_t col[] = {4, 1};
    CHECK(ad_array_arange(0, 4, 1, AD_FLOAT32, &t));
    CHECK(ad_array_reshape(t, col, 2, &x));
    CHECK(ad_array_free(t));
    print_array(x);

    /* 1.2 attach a gradient buffer to x; it starts at zero */
    CHECK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    g = grad_of(x);
    print_array(g);
    CHECK(ad_array_free(g));

    /* 1.3 forward, recorded: y = 2 * dot(x.T, x) */
    CHECK(ad_record_begin(true));
    CHECK(ad_array_transpose(x, NULL, 0, &xt));
    CHECK(ad_dot(xt, x, false, false, &t));
    CHECK(ad_mul_scalar(t, 2, &y));
    CHECK(ad_record_end());
    CHECK(ad_array_free(xt));
    CHECK(ad_array_free(t));
    print_array(y);

    /* 1.4 backward */
    CHECK(ad_backward(y, NULL, false));
    CHECK(ad_array_free(y));

    /* 1.5 the gradient is 4x: (x.grad - 4 * x).norm().asscalar() == 0 */
    g = grad_of(x);
    CHECK(ad_mul_scalar(x, 4, &t));
    CHECK(ad_sub(g, t, &d));
    CHECK(ad_norm(d, NULL, 0, false, &q));
    CHECK(ad_array_asscalar(q, &value));
    print_bool(value == 0);
    CHECK(ad_array_free(t));
    CHECK(ad_array_free(d));
    CHECK(ad_array_free(q));
    print_array(g);
    CHECK(ad_array_free(g));

    /* 1.6 backward on a non-scalar head acts on its sum: y = 2 * x * x */
    CHECK(ad_record_begin(true));
    CHECK(ad_mul_scalar(x, 2, &t));
    CHECK(ad_mul(t, x, &y));
    CHECK(ad_record_end());
    CHECK(ad_array_free(t));
    CHECK(ad_array_shape(y, shape, 8));
    printf("(%zu, %zu)\n", shape[0], shape[1]);
    CHECK(ad_backward(y, NULL, false));
    CHECK(ad_array_free(y));
    g = grad_of(x);
    print_array(g);
    CHECK(ad_array_free(g));

    /* 1.7 training mode is on inside a record scope only */
    print_bool(ad_is_training());
    CHECK(ad_record_begin(true));
    print_bool(ad_is_training());
    CHECK(ad_record_end());

    /* 1.9 differentiate f, whose graph depends on a random input */
    const size_t one[] = {1};
    CHECK(ad_random_normal(0, 1, one, 1, AD_FLOAT32, &a));
    CHECK(ad_array_attach_grad(a, AD_GRAD_WRITE));
    CHECK(ad_record_begin(true));
    d = f(a);
    CHECK(ad_record_end());
    CHECK(ad_backward(d, NULL, false));

    /* 1.10 f is linear in a on each piece, so its gradient is d / a */
    g = grad_of(a);
    CHECK(ad_div(d, a, &t));
    CHECK(ad_compare(g, t, AD_CMP_EQ, &q));
    print_array(q);
    CHECK(ad_array_free(g));
    CHECK(ad_array_free(t));
    CHECK(ad_array_free(q));
    CHECK(ad_array_free(d));
    CHECK(ad_array_free(a));

    /* 1.11 head gradients and the chain rule: y = x * 2, then z = y * x with y a variable */
    CHECK(ad_record_begin(true));
    CHECK(ad_mul_scalar(x, 2, &y));
    CHECK(ad_record_end());
    CHECK(ad_array_attach_grad(y, AD_GRAD_WRITE));
    CHECK(ad_record_begin(true));
    CHECK(ad_mul(y, x, &z));
    CHECK(ad_record_end());
    CHECK(ad_backward(z, NULL, false));  /* y.grad = dz/dy = x */
    g = grad_of(y);
    CHECK(ad_backward(y, g, false));     /* x.grad = dz/dy * dy/dx = 2x */
    CHECK(ad_array_free(g));
    g2 = grad_of(x);
    CHECK(ad_mul_scalar(x, 2, &t));
    CHECK(ad_compare(g2, t, AD_CMP_EQ, &q));
    print_array(q);
    CHECK(ad_array_free(g2));
    CHECK(ad_array_free(t));
    CHECK(ad_array_free(q));
    CHECK(ad_array_free(z));
    CHECK(ad_array_free(y));
    CHECK(ad_array_free(x));
    return 0;
}
