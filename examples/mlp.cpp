// Trains a small multilayer perceptron on two interleaved spirals (2 classes, not linearly
// separable), full batch, with Adam, and prints progress: examples/mlp.c in C++.
//
//   cargo build --release
//   c++ -std=c++17 examples/mlp.cpp -Iinclude -Ltarget/release -lad -Wl,-rpath,target/release -o mlp
//   ./mlp [epochs]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "ad.hpp"

constexpr std::size_t kPointsPerClass = 200, kPoints = 2 * kPointsPerClass, kHidden = 32;

// Two spirals: class c's points wind 1.75 turns out from the centre, the second class
// rotated by half a turn, with a little noise from a fixed-seed generator.
static void make_spirals(std::vector<float>& x, std::vector<float>& labels) {
    const double pi = std::acos(-1.0);
    unsigned long long state = 42;
    auto noise = [&] {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return (static_cast<double>(state >> 11) / 9007199254740992.0 - 0.5) * 0.04;
    };
    for (int c = 0; c < 2; c++) {
        for (std::size_t i = 0; i < kPointsPerClass; i++) {
            const double t = static_cast<double>(i) / kPointsPerClass, angle = 3.5 * pi * t + c * pi;
            const double nx = noise(), ny = noise();
            x.push_back(static_cast<float>(t * std::cos(angle) + nx));
            x.push_back(static_cast<float>(t * std::sin(angle) + ny));
            labels.push_back(static_cast<float>(c));
        }
    }
}

// A parameter: its value, marked for gradients, and Adam's two moment estimates.
struct Param {
    Param(const ad::Shape& shape, double scale)
        : value(ad::random::normal(0, scale, shape)), mean(ad::zeros(shape)), var(ad::zeros(shape)) {
        value.attach_grad();
    }
    ad::Array value, mean, var;
};

// Logits of the network tanh(tanh(x W1ᵀ + b1) W2ᵀ + b2) W3ᵀ + b3.
static ad::Array forward(const ad::Array& x, const std::vector<Param>& p) {
    ad::Array h = ad::tanh(ad::fully_connected(x, p[0].value, p[1].value));
    h = ad::tanh(ad::fully_connected(h, p[2].value, p[3].value));
    return ad::fully_connected(h, p[4].value, p[5].value);
}

int main(int argc, char** argv) try {
    const int epochs = argc > 1 ? std::atoi(argv[1]) : 1500;
    std::vector<float> xs, ys;
    make_spirals(xs, ys);
    const ad::Array x(xs, {kPoints, 2}), labels(ys, {kPoints});

    ad::random::seed(1);
    const double scale = 1 / std::sqrt(static_cast<double>(kHidden));
    // Each layer's weight and bias: shape, and the scale of the initial draws.
    const std::pair<ad::Shape, double> init[] = {
        {{kHidden, 2}, 1.0},         {{kHidden}, 0.1},
        {{kHidden, kHidden}, scale}, {{kHidden}, 0.1},
        {{2, kHidden}, scale},       {{2}, 0.1},
    };
    std::vector<Param> p;
    for (const auto& [shape, s] : init) p.emplace_back(shape, s);

    double accuracy = 0;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        ad::Array logits, loss;
        {
            ad::Record record;
            logits = forward(x, p);
            loss = ad::softmax_cross_entropy(logits, labels);
        }
        loss.backward();
        for (Param& q : p) {
            ad::adam_update(q.value, q.value.grad(), q.mean, q.var, 0.01, 0.9, 0.999, 1e-8, 0, 1, -1, epoch);
        }
        if (epoch == 1 || epoch % 100 == 0 || epoch == epochs) {
            accuracy = ad::mean(ad::argmax(logits, 1) == labels).scalar();
            std::printf("epoch %4d  loss %.4f  accuracy %.3f\n", epoch, loss.scalar(), accuracy);
        }
    }
    std::printf("final training accuracy %.3f\n", accuracy);
    return 0;
} catch (const ad::Error& e) {
    std::fprintf(stderr, "%s: %s\n", e.status_name(), e.what());
    return 1;
}
