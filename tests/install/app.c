/* A C program outside the source tree, built against an installed ad with pkg-config only. */
#include <stdio.h>
#include <string.h>

#include <ad.h>

int main(void) {
    const float data[] = {1, 2, 3};
    const size_t shape[] = {3};
    ad_array *x = NULL, *y = NULL, *g = NULL;
    double dx[3];

    if (ad_array_create(data, shape, 1, AD_FLOAT32, &x) != AD_OK || ad_array_attach_grad(x, AD_GRAD_WRITE) != AD_OK ||
        ad_record_begin(true) != AD_OK || ad_mul(x, x, &y) != AD_OK || ad_record_end() != AD_OK ||
        ad_backward(y, NULL, false) != AD_OK || ad_array_grad(x, &g) != AD_OK ||
        ad_array_read(g, AD_FLOAT64, dx, 3) != AD_OK) {
        fprintf(stderr, "%s\n", ad_last_error());
        return 1;
    }
    printf("ad %s: d(x*x)/dx = %g %g %g\n", ad_version(), dx[0], dx[1], dx[2]);
    ad_array_free(g);
    ad_array_free(y);
    ad_array_free(x);
    return dx[0] == 2 && dx[1] == 4 && dx[2] == 6 ? 0 : 1;
}
