// The MXNet autograd tutorial, cell by cell, through ad's C++ API (include/ad.hpp).
// It prints what the tutorial's Python prints with MXNet.
//
//   cargo build --release
//   c++ -std=c++17 examples/tutorial.cpp -Iinclude -Ltarget/release -lad -Wl,-rpath,target/release -o tutorial
//   ./tutorial
//
// Installed (see the README), `c++ -std=c++17 tutorial.cpp $(pkg-config --cflags --libs ad)`.
#include <iostream>

#include "ad.hpp"

// Python's print(bool).
static const char* py(bool b) { return b ? "True" : "False"; }

// 1.8: a function whose graph depends on its input through C++ control flow.
static ad::Array f(const ad::Array& a) {
    ad::Array b = a * 2;
    while (b.norm().scalar() < 1000) b = b * 2;
    if (b.sum().scalar() > 0) return b;
    return 100 * b;
}

int main() try {
    // 1.1 create a variable
    ad::Array x = ad::arange(4).reshape(4, 1);
    std::cout << x << '\n';

    // 1.2 attach a gradient buffer to x; it starts at zero
    x.attach_grad();
    std::cout << x.grad() << '\n';

    // 1.3 forward, recorded
    ad::Array y;
    {
        ad::Record record;
        y = 2 * ad::dot(x.T(), x);
    }
    std::cout << y << '\n';

    // 1.4 backward
    y.backward();

    // 1.5 the gradient is 4x
    std::cout << py((x.grad() - 4 * x).norm().scalar() == 0) << '\n';
    std::cout << x.grad() << '\n';

    // 1.6 backward on a non-scalar head acts on its sum
    {
        ad::Record record;
        y = 2 * x * x;
    }
    const ad::Shape shape = y.shape();
    std::cout << '(' << shape[0] << ", " << shape[1] << ")\n";
    y.backward();
    std::cout << x.grad() << '\n';

    // 1.7 training mode is on inside a record scope only
    std::cout << py(ad::is_training()) << '\n';
    {
        ad::Record record;
        std::cout << py(ad::is_training()) << '\n';
    }

    // 1.9 differentiate f, whose graph depends on a random input
    ad::Array a = ad::random::normal(0, 1, {1});
    a.attach_grad();
    ad::Array d;
    {
        ad::Record record;
        d = f(a);
    }
    d.backward();

    // 1.10 f is linear in a on each piece, so its gradient is d / a
    std::cout << (a.grad() == d / a) << '\n';

    // 1.11 head gradients and the chain rule
    {
        ad::Record record;
        y = x * 2;
    }
    y.attach_grad();
    ad::Array z;
    {
        ad::Record record;
        z = y * x;
    }
    z.backward();             // y.grad = dz/dy = x
    y.backward(y.grad());     // x.grad = dz/dy * dy/dx = 2x
    std::cout << (x.grad() == 2 * x) << '\n';
    return 0;
} catch (const ad::Error& e) {
    std::cerr << e.status_name() << ": " << e.what() << '\n';
    return 1;
}
