/*
 * Trains a small multilayer perceptron from C on two interleaved spirals (2 classes, not
 * linearly separable), full batch, with Adam, and prints progress.
 *
 *   cargo build --release
 *   cc examples/mlp.c -Iinclude -Ltarget/release -lad -lm -Wl,-rpath,target/release -o mlp
 *   ./mlp [epochs]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ad.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define POINTS_PER_CLASS 200
#define N (2 * POINTS_PER_CLASS)
#define HIDDEN 32

static void check(ad_status status, const char *what) {
    if (status != AD_OK) {
        fprintf(stderr, "%s failed (%s): %s\n", what, ad_status_name(status), ad_last_error());
        exit(1);
    }
}
#define CHECK(call) check((call), #call)

/* Two spirals: class c's points wind 1.75 turns out from the centre, the second class
   rotated by half a turn, with a little noise from a fixed-seed generator. */
static void make_spirals(float *x, float *labels) {
    unsigned long long state = 42;
    for (int c = 0; c < 2; c++) {
        for (int i = 0; i < POINTS_PER_CLASS; i++) {
            double t = (double)i / POINTS_PER_CLASS;
            double angle = 3.5 * M_PI * t + c * M_PI;
            double noise[2];
            for (int k = 0; k < 2; k++) {
                state = state * 6364136223846793005ULL + 1442695040888963407ULL;
                noise[k] = ((double)(state >> 11) / 9007199254740992.0 - 0.5) * 0.04;
            }
            int row = c * POINTS_PER_CLASS + i;
            x[2 * row] = (float)(t * cos(angle) + noise[0]);
            x[2 * row + 1] = (float)(t * sin(angle) + noise[1]);
            labels[row] = (float)c;
        }
    }
}

/* A parameter: its value, marked for gradients, and Adam's two moment estimates. */
typedef struct {
    ad_array *value, *mean, *var;
} param;

static param make_param(const size_t *shape, size_t ndim, double scale) {
    param p;
    CHECK(ad_random_normal(0, scale, shape, ndim, AD_FLOAT32, &p.value));
    CHECK(ad_array_attach_grad(p.value, AD_GRAD_WRITE));
    CHECK(ad_array_zeros(shape, ndim, AD_FLOAT32, &p.mean));
    CHECK(ad_array_zeros(shape, ndim, AD_FLOAT32, &p.var));
    return p;
}

static void free_param(param *p) {
    CHECK(ad_array_free(p->value));
    CHECK(ad_array_free(p->mean));
    CHECK(ad_array_free(p->var));
}

/* Logits of the network tanh(tanh(x W1ᵀ + b1) W2ᵀ + b2) W3ᵀ + b3. */
static ad_array *forward(const ad_array *x, param *p) {
    ad_array *h = NULL, *a = NULL;
    const ad_array *in = x;
    for (int layer = 0; layer < 2; layer++) {
        CHECK(ad_fully_connected(in, p[2 * layer].value, p[2 * layer + 1].value, true, &h));
        if (a) CHECK(ad_array_free(a));
        CHECK(ad_tanh(h, &a));
        CHECK(ad_array_free(h));
        in = a;
    }
    ad_array *logits;
    CHECK(ad_fully_connected(a, p[4].value, p[5].value, true, &logits));
    CHECK(ad_array_free(a));
    return logits;
}

/* The fraction of rows whose largest logit is the label's. */
static double accuracy(const ad_array *logits, const ad_array *labels) {
    ad_array *pred, *hit, *mean;
    double acc;
    const int64_t axis = 1;
    CHECK(ad_argmax(logits, &axis, false, &pred));
    CHECK(ad_compare(pred, labels, AD_CMP_EQ, &hit));
    CHECK(ad_mean(hit, NULL, 0, false, &mean));
    CHECK(ad_array_asscalar(mean, &acc));
    CHECK(ad_array_free(pred));
    CHECK(ad_array_free(hit));
    CHECK(ad_array_free(mean));
    return acc;
}

int main(int argc, char **argv) {
    int epochs = argc > 1 ? atoi(argv[1]) : 1500;
    static float xs[2 * N], ys[N];
    make_spirals(xs, ys);

    ad_array *x, *labels;
    const size_t xshape[] = {N, 2}, yshape[] = {N};
    CHECK(ad_array_create(xs, xshape, 2, AD_FLOAT32, &x));
    CHECK(ad_array_create(ys, yshape, 1, AD_FLOAT32, &labels));

    CHECK(ad_random_seed(1));
    const size_t w1[] = {HIDDEN, 2}, w2[] = {HIDDEN, HIDDEN}, w3[] = {2, HIDDEN};
    const size_t b12[] = {HIDDEN}, b3[] = {2};
    param p[6] = {
        make_param(w1, 2, 1.0), make_param(b12, 1, 0.1),
        make_param(w2, 2, 1.0 / sqrt(HIDDEN)), make_param(b12, 1, 0.1),
        make_param(w3, 2, 1.0 / sqrt(HIDDEN)), make_param(b3, 1, 0.1),
    };

    double loss_value = 0, acc = 0;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        ad_array *logits, *loss, *grad;
        CHECK(ad_record_begin(true));
        logits = forward(x, p);
        CHECK(ad_softmax_cross_entropy(logits, labels, false, &loss));
        CHECK(ad_record_end());
        CHECK(ad_backward(loss, NULL, false));
        for (int i = 0; i < 6; i++) {
            CHECK(ad_array_grad(p[i].value, &grad));
            CHECK(ad_adam_update(p[i].value, grad, p[i].mean, p[i].var, 0.01, 0.9, 0.999, 1e-8, 0, 1, -1, (uint64_t)epoch));
            CHECK(ad_array_free(grad));
        }
        CHECK(ad_array_asscalar(loss, &loss_value));
        if (epoch == 1 || epoch % 100 == 0 || epoch == epochs) {
            acc = accuracy(logits, labels);
            printf("epoch %4d  loss %.4f  accuracy %.3f\n", epoch, loss_value, acc);
        }
        CHECK(ad_array_free(loss));
        CHECK(ad_array_free(logits));
    }
    printf("final training accuracy %.3f\n", acc);

    for (int i = 0; i < 6; i++) free_param(&p[i]);
    CHECK(ad_array_free(x));
    CHECK(ad_array_free(labels));
    return 0;
}
