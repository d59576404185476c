// A C++ program outside the source tree, built against an installed ad with CMake's
// find_package(ad) only.
#include <iostream>

#include <ad.hpp>

int main() try {
    ad::Array x = ad::arange(4).reshape(4, 1);
    x.attach_grad();
    ad::Array y;
    {
        ad::Record record;
        y = 2 * ad::dot(x.T(), x);
    }
    y.backward();
    std::cout << "ad " << ad::version() << ": x.grad =" << x.grad() << '\n';
    return x.grad().to_vector<float>() == std::vector<float>{0, 4, 8, 12} ? 0 : 1;
} catch (const ad::Error& e) {
    std::cerr << e.what() << '\n';
    return 1;
}
