// The generated header must compile as C++ (extern "C" guards) and link.
#include "ad.h"

#include <cstdio>
#include <cstring>

int main() {
    ad_array *x = nullptr;
    const size_t shape[] = {2, 2};
    if (ad_array_ones(shape, 2, AD_FLOAT32, &x) != AD_OK) return 1;
    size_t n = 0;
    if (ad_array_size(x, &n) != AD_OK || n != 4) return 1;
    if (ad_array_free(x) != AD_OK) return 1;
    if (std::strlen(ad_version()) == 0) return 1;
    std::printf("1 passed, 0 failed\n");
    return 0;
}
