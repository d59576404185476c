/*
 * The spirals MLP of examples/mlp.c, trained data-parallel over MPI: every process (rank)
 * holds the same weights, computes the gradient of its shard of each batch, and the ranks
 * average their gradients in place in ad's gradient buffers before each update, so that all
 * of them take the same step and end with the same weights, bit for bit.
 *
 * Each gradient is reduced with MPI_Iallreduce as soon as backward has finished it (a
 * gradient-ready hook), while backward goes on with the layers below; the update waits for
 * the last reduction. Nothing of ad's own goes over the wire: the buffers are plain floats.
 *
 *   cargo build --release
 *   mpicc examples/mlp_mpi.c -Iinclude -Ltarget/release -lad -lm -Wl,-rpath,"$PWD/target/release" -o target/mlp_mpi
 *   AD_NUM_THREADS=1 mpirun -np 2 target/mlp_mpi [options]
 *
 * Options:
 *   --epochs N         full-batch steps (default 1500)
 *   --hidden N         width of the two hidden layers (default 32)
 *   --reduce MODE      hooks: reduce each gradient from its hook, during backward (default);
 *                      after: reduce them all after backward returns, one MPI_Allreduce each
 *   --save PREFIX      each rank saves its final weights to PREFIX-rankR.npz
 *   --timing           rank 0 prints the median step, backward and wait times and the bytes
 *                      this process wrote to the system per step (sockets: TCP transport only)
 *   --bad-label RANK   gives that rank a label outside the classes: shows how an error on one
 *                      rank ends the whole job (MPI_Abort) instead of leaving the others waiting
 *
 * The batch (400 points) is split into equal interleaved shards, so the number of ranks must
 * divide 400. The mean of the ranks' shard-mean gradients is the full batch's mean gradient:
 * one process and several train the same model, up to the order of float32 additions.
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define POINTS_PER_CLASS 200
#define N (2 * POINTS_PER_CLASS)
#define PARAMS 6

static int rank, ranks;

/* A failed call ends the whole job: the other ranks may be waiting in a collective for this
   one, and MPI_Abort is what tells mpirun to stop them. */
static void check(ad_status status, const char *what) {
    if (status != AD_OK) {
        fprintf(stderr, "rank %d: %s failed (%s): %s\n", rank, what, ad_status_name(status), ad_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
}
#define CHECK(call) check((call), #call)

static void check_mpi(int code, const char *what) {
    if (code != MPI_SUCCESS) {
        char text[MPI_MAX_ERROR_STRING];
        int length = 0;
        MPI_Error_string(code, text, &length);
        fprintf(stderr, "rank %d: %s failed: %s\n", rank, what, text);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
}
#define CHECK_MPI(call) check_mpi((call), #call)

/* The spirals of examples/mlp.c, the same points on every rank. */
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

/* A parameter: its value, Adam's moments, and its gradient buffer lent by ad for the whole
   run (backward writes each new gradient into the same memory, and MPI reduces it there). */
typedef struct {
    ad_array *value, *mean, *var, *grad;
    ad_borrow *grad_loan;
    float *grad_data;
    int count;
    MPI_Request request;
} param;

static param params[PARAMS];

/* Rank 0 draws the weights (the draws of examples/mlp.c); the others receive them. */
static void make_param(param *p, const size_t *shape, size_t ndim, double scale) {
    if (rank == 0) {
        CHECK(ad_random_normal(0, scale, shape, ndim, AD_FLOAT32, &p->value));
    } else {
        CHECK(ad_array_zeros(shape, ndim, AD_FLOAT32, &p->value));
    }
    size_t count = 1;
    for (size_t i = 0; i < ndim; i++) count *= shape[i];
    p->count = (int)count;
    ad_borrow *loan;
    void *data;
    CHECK(ad_array_borrow(p->value, true, &data, &loan));
    CHECK_MPI(MPI_Bcast(data, p->count, MPI_FLOAT, 0, MPI_COMM_WORLD));
    CHECK(ad_borrow_release(loan));

    CHECK(ad_array_attach_grad(p->value, AD_GRAD_WRITE));
    CHECK(ad_array_grad(p->value, &p->grad));
    CHECK(ad_array_borrow(p->grad, true, (void **)&p->grad_data, &p->grad_loan));
    CHECK(ad_array_zeros(shape, ndim, AD_FLOAT32, &p->mean));
    CHECK(ad_array_zeros(shape, ndim, AD_FLOAT32, &p->var));
    p->request = MPI_REQUEST_NULL;
}

static void free_param(param *p) {
    CHECK(ad_borrow_release(p->grad_loan));
    CHECK(ad_array_free(p->grad));
    CHECK(ad_array_free(p->value));
    CHECK(ad_array_free(p->mean));
    CHECK(ad_array_free(p->var));
}

/* Called by backward, on this thread, as soon as a parameter's gradient is final: start
   summing it over the ranks, in place. Every rank runs the same program, so the hooks fire
   in the same order everywhere, which is the order MPI matches collectives in. */
static ad_status on_grad_ready(void *user_data, const ad_array *variable) {
    param *p = user_data;
    (void)variable;
    int code = MPI_Iallreduce(MPI_IN_PLACE, p->grad_data, p->count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &p->request);
    if (code != MPI_SUCCESS) {
        ad_grad_hook_set_error("MPI_Iallreduce of a gradient failed");
        return AD_ERR_INVALID_ARGUMENT;
    }
    /* MPI moves a non-blocking reduction along only inside MPI calls: test the ones in
       flight, so that they progress while backward computes the next gradients. */
    for (int i = 0; i < PARAMS; i++) {
        int done;
        if (params[i].request != MPI_REQUEST_NULL) MPI_Test(&params[i].request, &done, MPI_STATUS_IGNORE);
    }
    return AD_OK;
}

/* Logits of tanh(tanh(x W1ᵀ + b1) W2ᵀ + b2) W3ᵀ + b3. */
static ad_array *forward(const ad_array *x) {
    ad_array *h = NULL, *a = NULL;
    const ad_array *in = x;
    for (int layer = 0; layer < 2; layer++) {
        CHECK(ad_fully_connected(in, params[2 * layer].value, params[2 * layer + 1].value, true, &h));
        if (a) CHECK(ad_array_free(a));
        CHECK(ad_tanh(h, &a));
        CHECK(ad_array_free(h));
        in = a;
    }
    ad_array *logits;
    CHECK(ad_fully_connected(a, params[4].value, params[5].value, true, &logits));
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

static void save_weights(const char *prefix) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s-rank%d.npz", prefix, rank) >= (int)sizeof path) {
        fprintf(stderr, "rank %d: --save prefix too long\n", rank);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    const ad_array *arrays[PARAMS];
    const char *names[PARAMS] = {"w1", "b1", "w2", "b2", "w3", "b3"};
    for (int i = 0; i < PARAMS; i++) arrays[i] = params[i].value;
    CHECK(ad_save(path, arrays, names, PARAMS));
}

/* Bytes this process has handed to write() and send() so far (Linux), -1 elsewhere. */
static long long bytes_written(void) {
    long long bytes = -1;
    FILE *f = fopen("/proc/self/io", "r");
    if (!f) return -1;
    char line[128];
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "wchar: %lld", &bytes) == 1) break;
    }
    fclose(f);
    return bytes;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, int count) {
    qsort(values, (size_t)count, sizeof *values, compare_doubles);
    return count % 2 ? values[count / 2] : 0.5 * (values[count / 2 - 1] + values[count / 2]);
}

static void usage(const char *message) {
    if (rank == 0) fprintf(stderr, "mlp_mpi: %s\n", message);
    MPI_Finalize();
    exit(2);
}

int main(int argc, char **argv) {
    CHECK_MPI(MPI_Init(&argc, &argv));
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    /* Errors come back as codes, so that check_mpi can say which call failed. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);

    int epochs = 1500, hidden = 32, hooks = 1, timing = 0, bad_label_rank = -1;
    const char *save_prefix = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--timing")) {
            timing = 1;
            continue;
        }
        if (!value) usage("each option but --timing takes a value");
        i++;
        if (!strcmp(arg, "--epochs")) epochs = atoi(value);
        else if (!strcmp(arg, "--hidden")) hidden = atoi(value);
        else if (!strcmp(arg, "--save")) save_prefix = value;
        else if (!strcmp(arg, "--bad-label")) bad_label_rank = atoi(value);
        else if (!strcmp(arg, "--reduce") && !strcmp(value, "hooks")) hooks = 1;
        else if (!strcmp(arg, "--reduce") && !strcmp(value, "after")) hooks = 0;
        else usage("unknown option or value (see the comment at the top of examples/mlp_mpi.c)");
    }
    if (epochs < 1 || hidden < 1) usage("--epochs and --hidden must be at least 1");
    if (N % ranks != 0) usage("the number of ranks must divide 400, the batch size");

    /* Every rank makes the whole data set and keeps its shard: rows rank, rank + ranks, ... */
    static float xs[2 * N], ys[N];
    make_spirals(xs, ys);
    int shard_rows = N / ranks;
    float *shard_x = malloc(sizeof(float) * 2 * (size_t)shard_rows), *shard_y = malloc(sizeof(float) * (size_t)shard_rows);
    if (!shard_x || !shard_y) usage("out of memory");
    for (int i = 0; i < shard_rows; i++) {
        int row = rank + i * ranks;
        shard_x[2 * i] = xs[2 * row];
        shard_x[2 * i + 1] = xs[2 * row + 1];
        shard_y[i] = ys[row];
    }
    if (rank == bad_label_rank) shard_y[0] = 7; /* there are two classes: 0 and 1 */

    ad_array *x, *labels, *all_x, *all_labels;
    const size_t shard_shape[] = {(size_t)shard_rows, 2}, shard_label_shape[] = {(size_t)shard_rows};
    const size_t all_shape[] = {N, 2}, all_label_shape[] = {N};
    CHECK(ad_array_create(shard_x, shard_shape, 2, AD_FLOAT32, &x));
    CHECK(ad_array_create(shard_y, shard_label_shape, 1, AD_FLOAT32, &labels));
    CHECK(ad_array_create(xs, all_shape, 2, AD_FLOAT32, &all_x));
    CHECK(ad_array_create(ys, all_label_shape, 1, AD_FLOAT32, &all_labels));
    free(shard_x);
    free(shard_y);

    CHECK(ad_random_seed(1));
    const size_t h = (size_t)hidden;
    const size_t w1[] = {h, 2}, w2[] = {h, h}, w3[] = {2, h}, b12[] = {h}, b3[] = {2};
    make_param(&params[0], w1, 2, 1.0);
    make_param(&params[1], b12, 1, 0.1);
    make_param(&params[2], w2, 2, 1.0 / sqrt(hidden));
    make_param(&params[3], b12, 1, 0.1);
    make_param(&params[4], w3, 2, 1.0 / sqrt(hidden));
    make_param(&params[5], b3, 1, 0.1);
    if (hooks) {
        for (int i = 0; i < PARAMS; i++) CHECK(ad_array_set_grad_hook(params[i].value, on_grad_ready, &params[i], NULL));
    }

    double *step_s = malloc(sizeof(double) * (size_t)epochs), *backward_s = malloc(sizeof(double) * (size_t)epochs);
    double *wait_s = malloc(sizeof(double) * (size_t)epochs);
    if (!step_s || !backward_s || !wait_s) usage("out of memory");
    long long bytes_before = bytes_written();
    double acc = 0;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        double start = MPI_Wtime();
        ad_array *logits, *loss;
        CHECK(ad_record_begin(true));
        logits = forward(x);
        CHECK(ad_softmax_cross_entropy(logits, labels, false, &loss));
        CHECK(ad_record_end());
        double backward_start = MPI_Wtime();
        CHECK(ad_backward(loss, NULL, false));
        double wait_start = MPI_Wtime();
        for (int i = 0; i < PARAMS; i++) {
            if (hooks) {
                CHECK_MPI(MPI_Wait(&params[i].request, MPI_STATUS_IGNORE));
            } else {
                /* The order backward would have finished them in: the last layer first. */
                param *p = &params[PARAMS - 1 - i];
                CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, p->grad_data, p->count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD));
            }
        }
        double wait_end = MPI_Wtime();
        /* The gradients now hold the sum over the ranks: rescale_grad makes it the mean. */
        for (int i = 0; i < PARAMS; i++) {
            CHECK(ad_adam_update(params[i].value, params[i].grad, params[i].mean, params[i].var, 0.01, 0.9, 0.999,
                                 1e-8, 0, 1.0 / ranks, -1, (uint64_t)epoch));
        }
        step_s[epoch - 1] = MPI_Wtime() - start;
        backward_s[epoch - 1] = wait_start - backward_start;
        wait_s[epoch - 1] = wait_end - wait_start;
        if (epoch == 1 || epoch % 100 == 0 || epoch == epochs) {
            double shard_loss, loss_value;
            CHECK(ad_array_asscalar(loss, &shard_loss));
            CHECK_MPI(MPI_Allreduce(&shard_loss, &loss_value, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
            ad_array *all_logits = forward(all_x);
            acc = accuracy(all_logits, all_labels);
            CHECK(ad_array_free(all_logits));
            if (rank == 0) printf("epoch %4d  loss %.4f  accuracy %.3f\n", epoch, loss_value / ranks, acc);
        }
        CHECK(ad_array_free(loss));
        CHECK(ad_array_free(logits));
    }
    long long bytes_after = bytes_written();
    if (rank == 0) printf("final training accuracy %.3f on %d ranks\n", acc, ranks);
    if (timing && rank == 0) {
        long long gradient_bytes = 0;
        for (int i = 0; i < PARAMS; i++) gradient_bytes += 4LL * params[i].count;
        printf("median step %.1f us  backward %.1f us  waiting for the reduction %.1f us  (%s)\n",
               1e6 * median(step_s, epochs), 1e6 * median(backward_s, epochs), 1e6 * median(wait_s, epochs),
               hooks ? "reduced from the hooks" : "reduced after backward");
        if (bytes_before >= 0)
            printf("bytes written per step %.0f  gradient %lld bytes\n",
                   (double)(bytes_after - bytes_before) / epochs, gradient_bytes);
    }
    free(step_s);
    free(backward_s);
    free(wait_s);

    if (save_prefix) save_weights(save_prefix);
    for (int i = 0; i < PARAMS; i++) free_param(&params[i]);
    CHECK(ad_array_free(x));
    CHECK(ad_array_free(labels));
    CHECK(ad_array_free(all_x));
    CHECK(ad_array_free(all_labels));
    MPI_Finalize();
    return 0;
}
