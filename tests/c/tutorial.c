/*
 * The seed tutorial, cell by cell, checking values, shapes, flags and the exact printed
 * text MXNet 1.9.1 gives for each.
 */
#include "check.h"

static ad_array *grad_of(const ad_array *a) {
    ad_array *g = NULL;
    OK(ad_array_grad(a, &g));
    CHECK(g != NULL);
    return g;
}

int main(void) {
    ad_array *x, *t, *xt, *y, *z, *g, *d, *q;
    double value;
    size_t shape[4], ndim;

    /* 1.1 x = nd.arange(4).reshape((4, 1)) */
    const int64_t col[] = {4, 1};
    OK(ad_array_arange(0, 4, 1, AD_FLOAT32, &t));
    OK(ad_array_reshape(t, col, 2, &x));
    OK(ad_array_free(t));
    OK(ad_array_shape(x, shape, 4));
    OK(ad_array_ndim(x, &ndim));
    CHECK(ndim == 2 && shape[0] == 4 && shape[1] == 1);
    VALUES_ARE(x, 0, 0, 1, 2, 3);
    TEXT_IS(x, "\n[[0.]\n [1.]\n [2.]\n [3.]]\n<NDArray 4x1 @cpu(0)>");

    /* 1.2 x.attach_grad(): a zero gradient of x's shape */
    CHECK(!ad_is_recording() && !ad_is_training());
    OK(ad_array_attach_grad(x, AD_GRAD_WRITE));
    g = grad_of(x);
    TEXT_IS(g, "\n[[0.]\n [0.]\n [0.]\n [0.]]\n<NDArray 4x1 @cpu(0)>");

    /* 1.3 with record: y = 2 * dot(x.T, x) */
    OK(ad_record_begin(true));
    CHECK(ad_is_recording() && ad_is_training());
    OK(ad_array_transpose(x, NULL, 0, &xt));
    OK(ad_dot(xt, x, false, false, &t));
    OK(ad_mul_scalar(t, 2, &y));
    OK(ad_record_end());
    CHECK(!ad_is_recording() && !ad_is_training());
    OK(ad_array_free(xt));
    OK(ad_array_free(t));
    TEXT_IS(y, "\n[[28.]]\n<NDArray 1x1 @cpu(0)>");

    /* 1.4 y.backward(); the earlier gradient handle shares x's gradient and sees it change */
    OK(ad_backward(y, NULL, false));
    OK(ad_array_free(y));
    VALUES_ARE(g, 0, 0, 4, 8, 12);

    /* 1.5 (x.grad - 4 * x).norm().asscalar() == 0 */
    OK(ad_mul_scalar(x, 4, &t));
    OK(ad_sub(g, t, &d));
    OK(ad_norm(d, NULL, 0, false, &q));
    OK(ad_array_shape(q, shape, 4));
    OK(ad_array_ndim(q, &ndim));
    CHECK(ndim == 1 && shape[0] == 1);
    OK(ad_array_asscalar(q, &value));
    CHECK(value == 0);
    OK(ad_array_free(t));
    OK(ad_array_free(d));
    OK(ad_array_free(q));
    TEXT_IS(g, "\n[[ 0.]\n [ 4.]\n [ 8.]\n [12.]]\n<NDArray 4x1 @cpu(0)>");
    OK(ad_array_free(g));

    /* 1.6 y = 2 * x * x; y.backward() on a non-scalar head is y.sum().backward() */
    OK(ad_record_begin(true));
    OK(ad_mul_scalar(x, 2, &t));
    OK(ad_mul(t, x, &y));
    OK(ad_record_end());
    OK(ad_array_free(t));
    OK(ad_array_shape(y, shape, 4));
    CHECK(shape[0] == 4 && shape[1] == 1);
    OK(ad_backward(y, NULL, false));
    OK(ad_array_free(y));
    g = grad_of(x);
    TEXT_IS(g, "\n[[ 0.]\n [ 4.]\n [ 8.]\n [12.]]\n<NDArray 4x1 @cpu(0)>");
    OK(ad_array_free(g));

    /* 1.7 training mode inside record only; record(train_mode=false) predicts */
    CHECK(!ad_is_training());
    OK(ad_record_begin(true));
    CHECK(ad_is_training());
    OK(ad_record_end());
    OK(ad_record_begin(false));
    CHECK(ad_is_recording() && !ad_is_training());
    OK(ad_record_end());

    /* 1.8-1.10 control flow: for a > 0, f(a) = 2^k a, so a.grad == d / a */
    {
        const float start = 0.37f;
        const size_t one[] = {1};
        ad_array *a, *b, *next, *n;
        OK(ad_array_create(&start, one, 1, AD_FLOAT32, &a));
        OK(ad_array_attach_grad(a, AD_GRAD_WRITE));
        OK(ad_record_begin(true));
        OK(ad_mul_scalar(a, 2, &b));
        for (;;) {
            OK(ad_norm(b, NULL, 0, false, &n));
            OK(ad_array_asscalar(n, &value));
            OK(ad_array_free(n));
            if (value >= 1000) break;
            OK(ad_mul_scalar(b, 2, &next));
            OK(ad_array_free(b));
            b = next;
        }
        OK(ad_record_end());
        OK(ad_backward(b, NULL, false));
        g = grad_of(a);
        VALUES_ARE(g, 0, 4096);
        OK(ad_div(b, a, &t));
        OK(ad_compare(g, t, AD_CMP_EQ, &q));
        TEXT_IS(q, "\n[1.]\n<NDArray 1 @cpu(0)>");
        OK(ad_array_free(q));
        OK(ad_array_free(t));
        OK(ad_array_free(g));
        OK(ad_array_free(b));
        OK(ad_array_free(a));
    }

    /* 1.11 y = x * 2 recorded; y.attach_grad(); z = y * x recorded; z.backward();
       y.backward(y.grad): x.grad == 2 * x */
    OK(ad_record_begin(true));
    OK(ad_mul_scalar(x, 2, &y));
    OK(ad_record_end());
    OK(ad_array_attach_grad(y, AD_GRAD_WRITE));
    OK(ad_record_begin(true));
    OK(ad_mul(y, x, &z));
    OK(ad_record_end());
    OK(ad_backward(z, NULL, false));
    g = grad_of(y);
    VALUES_ARE(g, 0, 0, 1, 2, 3);          /* dz/dy = x: z stopped at y */
    {
        ad_array *gx = grad_of(x);
        VALUES_ARE(gx, 0, 0, 2, 4, 6);     /* dz/dx = y */
        OK(ad_array_free(gx));
    }
    OK(ad_backward(y, g, false));          /* MXNet 1.9.1 silently drops this one */
    OK(ad_array_free(g));
    g = grad_of(x);
    VALUES_ARE(g, 0, 0, 2, 4, 6);
    OK(ad_mul_scalar(x, 2, &t));
    OK(ad_compare(g, t, AD_CMP_EQ, &q));
    TEXT_IS(q, "\n[[1.]\n [1.]\n [1.]\n [1.]]\n<NDArray 4x1 @cpu(0)>");
    OK(ad_array_free(q));
    OK(ad_array_free(t));
    OK(ad_array_free(g));
    OK(ad_array_free(z));

    /* The chain rule through an attached intermediate with a head gradient of 7:
       y = 3x, y.attach_grad(), y.backward(7) gives x.grad = 21 */
    OK(ad_array_free(y));
    OK(ad_record_begin(true));
    OK(ad_mul_scalar(x, 3, &y));
    OK(ad_record_end());
    OK(ad_array_attach_grad(y, AD_GRAD_WRITE));
    {
        const size_t s41[] = {4, 1};
        ad_array *seven;
        OK(ad_array_full(s41, 2, 7, AD_FLOAT32, &seven));
        OK(ad_backward(y, seven, false));
        OK(ad_array_free(seven));
    }
    g = grad_of(x);
    VALUES_ARE(g, 0, 21, 21, 21, 21);
    OK(ad_array_free(g));
    OK(ad_array_free(y));
    OK(ad_array_free(x));
    return CHECK_RESULT();
}
