// The C++ API (include/ad.hpp): making and reading arrays, copies and views, operators,
// indexing, every kind of op, optimizer updates, autograd and its scopes.
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "check.hpp"

static void making_and_reading() {
    ad::Array a{1, 2, 3};
    SHAPE_IS(a, 3);
    CHECK(a.ndim() == 1 && a.size() == 3 && a.dtype() == ad::float32);
    VALUES_ARE(a, 0, 1, 2, 3);

    ad::Array m({1, 2, 3, 4, 5, 6}, {2, 3});
    SHAPE_IS(m, 2, 3);
    CHECK(m.to_vector<float>() == (std::vector<float>{1, 2, 3, 4, 5, 6}));
    CHECK(m.to_vector<int>() == (std::vector<int>{1, 2, 3, 4, 5, 6}));

    // The dtype follows a vector's element type unless given.
    ad::Array d(std::vector<double>{0.1, 0.2}, {2});
    CHECK(d.dtype() == ad::float64);
    CHECK(d.to_vector<double>() == (std::vector<double>{0.1, 0.2}));
    CHECK(ad::Array(std::vector<int>{1, 2}, {1, 2}).dtype() == ad::float32);
    CHECK(ad::Array(std::vector<float>{1, 2}, {2}, ad::float64).dtype() == ad::float64);
    const float raw[] = {5, 6, 7, 8};
    ad::Array p(raw, {2, 2});
    VALUES_ARE(p, 0, 5, 6, 7, 8);
    CHECK(ad::Array({1.5}, {1}).scalar() == 1.5);
    CHECK(ad::Array({2.5}, {1, 1}).scalar<float>() == 2.5f);

    VALUES_ARE(ad::zeros({2, 2}), 0, 0, 0, 0, 0);
    VALUES_ARE(ad::ones({3}, ad::float64), 0, 1, 1, 1);
    CHECK(ad::ones({3}, ad::float64).dtype() == ad::float64);
    VALUES_ARE(ad::full({2}, 7), 0, 7, 7);
    VALUES_ARE(ad::arange(4), 0, 0, 1, 2, 3);
    VALUES_ARE(ad::arange(1, 2, 0.25), 0, 1, 1.25, 1.5, 1.75);
    SHAPE_IS(ad::zeros({2, 0, 3}), 2, 0, 3);
    CHECK(ad::zeros({2, 0}).to_vector<double>().empty());

    ad::random::seed(3);
    std::vector<double> first = ad::random::normal(0, 1, {4}).to_vector<double>();
    ad::random::seed(3);
    CHECK(ad::random::normal(0, 1, {4}).to_vector<double>() == first);
    SHAPE_IS(ad::random::normal(), 1);
    for (double u : ad::random::uniform(2, 3, {100}).to_vector<double>()) CHECK(u >= 2 && u < 3);
    ad::random::seed(4);
    std::vector<double> g = ad::random::gamma(0.5, 2, {50}, ad::float64).to_vector<double>();
    ad::random::seed(4);
    CHECK(ad::random::gamma(0.5, 2, {50}, ad::float64).to_vector<double>() == g);
    for (double e : ad::random::exponential(3, {100}).to_vector<double>()) CHECK(e >= 0);
    for (double k : ad::random::poisson(7, {100}).to_vector<double>()) CHECK(k >= 0 && k == static_cast<long long>(k));
    SHAPE_IS(ad::random::poisson(), 1);
    for (double k : ad::random::randint(-3, 3, {100}, ad::float64).to_vector<double>()) {
        CHECK(k >= -3 && k < 3 && k == static_cast<long long>(k));
    }
    // Array parameters: shape P + shape, each block with its own parameters.
    ad::Array loc({0, 100}), scale({1, 0});
    ad::Array drawn = ad::random::normal(loc, scale, {3}, ad::float64);
    SHAPE_IS(drawn, 2, 3);
    CHECK(drawn.dtype() == ad::float64);
    std::vector<double> dv = drawn.to_vector<double>();
    CHECK(dv[3] == 100 && dv[4] == 100 && dv[5] == 100 && dv[0] != dv[1]);
    SHAPE_IS(ad::random::normal(loc, scale), 2);
    for (double u : ad::random::uniform(ad::Array({0, 5}), ad::Array({1, 6}), {50}).to_vector<double>()) CHECK(u >= 0 && u < 6);
    SHAPE_IS(ad::random::exponential(ad::Array({1, 2, 3}, {3, 1}), {4}), 3, 1, 4);
    SHAPE_IS(ad::random::gamma(ad::Array({1, 2}), ad::Array({3, 4}), {2, 2}), 2, 2, 2);
    for (double k : ad::random::poisson(ad::Array({0, 0}), {5}).to_vector<double>()) CHECK(k == 0);

    ad::Array probs({0.0, 1.0, 0.0, 0.5, 0.0, 0.5}, {2, 3});
    ad::Array picks = ad::random::multinomial(probs, {4});
    SHAPE_IS(picks, 2, 4);
    CHECK(picks.dtype() == ad::int32);
    std::vector<std::int32_t> pv = picks.to_vector<std::int32_t>();
    for (int i = 0; i < 4; i++) CHECK(pv[i] == 1 && (pv[4 + i] == 0 || pv[4 + i] == 2));
    SHAPE_IS(ad::random::multinomial(probs), 2);
    auto [draws, log_prob] = ad::random::multinomial_with_log_prob(probs, {3}, ad::float64);
    SHAPE_IS(draws, 2, 3);
    CHECK(draws.dtype() == ad::float64 && log_prob.dtype() == ad::float32);
    std::vector<double> lp = log_prob.to_vector<double>();
    for (int i = 0; i < 3; i++) CHECK(lp[i] == 0 && std::abs(lp[3 + i] - std::log(0.5)) < 1e-6);

    ad::Array rows = ad::arange(6).reshape(3, 2), mixed = ad::random::shuffle(rows);
    SHAPE_IS(mixed, 3, 2);
    VALUES_ARE(rows, 0, 0, 1, 2, 3, 4, 5);
    double first_column = 0;
    std::vector<double> shuffled = mixed.to_vector<double>();
    for (int i = 0; i < 3; i++) {
        CHECK(shuffled[2 * i + 1] == shuffled[2 * i] + 1);
        first_column += shuffled[2 * i];
    }
    CHECK(first_column == 0 + 2 + 4);

    CHECK(ad::Array({1, 2}).astype(ad::float64).dtype() == ad::float64);
}

// Integer and bool arrays: made exactly from their C types, read back into any, converted,
// printed as MXNet prints them, moved by the shape ops and refused by the ops that compute.
static void integer_and_bool_arrays() {
    ad::Array i(std::vector<std::int32_t>{-2, 0, 7}, {3}, ad::int32);
    CHECK(i.dtype() == ad::int32);
    CHECK(i.to_vector<std::int32_t>() == (std::vector<std::int32_t>{-2, 0, 7}));
    CHECK(i.to_vector<double>() == (std::vector<double>{-2, 0, 7}));
    CHECK(i.to_vector<std::uint8_t>() == (std::vector<std::uint8_t>{254, 0, 7}));
    CHECK(i.str() == "\n[-2  0  7]\n<NDArray 3 @cpu(0)>");
    const std::int64_t big = (std::int64_t{1} << 62) + 1;   // not a double
    ad::Array l(std::vector<std::int64_t>{big, -1}, {2}, ad::int64);
    CHECK(l.to_vector<std::int64_t>() == (std::vector<std::int64_t>{big, -1}));
    CHECK(l[0].scalar<std::int64_t>() == big);
    // float16: made from floats (rounded), read as float, computed on with float16 results
    ad::Array h(std::vector<float>{0.1f, 2.5f, 70000.0f}, {3}, ad::float16);
    CHECK(h.dtype() == ad::float16);
    CHECK(h.to_vector<float>() == (std::vector<float>{0.0999755859375f, 2.5f, INFINITY}));
    CHECK(h.str() == "\n[0.1 2.5 inf]\n<NDArray 3 @cpu(0)>");
    CHECK((h * 2).dtype() == ad::float16 && (h * 2).to_vector<double>()[1] == 5.0);
    CHECK(h.astype(ad::float32).dtype() == ad::float32);
    ad::Array b = ad::Array({0.0, 2.5, -1.0}).astype(ad::bool_);
    CHECK(b.dtype() == ad::bool_ && b.str() == "\n[False  True  True]\n<NDArray 3 @cpu(0)>");
    CHECK(b.to_vector<bool>() == (std::vector<bool>{false, true, true}));
    // float to int truncates toward zero; NaN and out of range give int32's minimum
    ad::Array f({1.9, -1.9, NAN, 3e9});
    CHECK(f.astype(ad::int32).to_vector<std::int32_t>() == (std::vector<std::int32_t>{1, -1, INT32_MIN, INT32_MIN}));
    CHECK(ad::Array(std::vector<double>{1.9, 300}, {2}, ad::uint8).to_vector<int>() == (std::vector<int>{1, 44}));
    CHECK(ad::zeros({2}, ad::int8).str() == "\n[0 0]\n<NDArray 2 @cpu(0)>");
    CHECK(ad::arange(0, 4, 1, ad::int64).reshape(2, 2).T().to_vector<int>() == (std::vector<int>{0, 2, 1, 3}));
    CHECK(ad::random::randint(0, 5).dtype() == ad::int32);
    CHECK((i + i * 2 - 1).to_vector<int>() == (std::vector<int>{-7, -1, 20}));   // in int32, as MXNet
    CHECK((i > 0).dtype() == ad::int32);
    CHECK(ad::status_of([&] { (void)(i / i); }) == AD_ERR_DTYPE);
    CHECK(ad::status_of([&] { (void)(b + b); }) == AD_ERR_DTYPE);
    CHECK(ad::status_of([&] { i.attach_grad(); }) == AD_ERR_DTYPE);
}

static void printing() {
    ad::Array x = ad::arange(4).reshape(4, 1);
    TEXT_IS(x, "\n[[0.]\n [1.]\n [2.]\n [3.]]\n<NDArray 4x1 @cpu(0)>");
    std::ostringstream os;
    os << x << '\n';
    CHECK(os.str() == x.str() + "\n");
    CHECK(ad::to_string(x) == x.str());
}

static void copies_moves_and_views() {
    ad::Array a{1, 2, 3};
    ad::Array b = a;  // a new handle on the same data
    CHECK(a.valid() && b.valid() && a.get() != b.get());
    b += 1;
    VALUES_ARE(a, 0, 2, 3, 4);

    ad::Array c = std::move(a);
    CHECK(!a.valid() && c.valid());
    VALUES_ARE(c, 0, 2, 3, 4);
    a = c;
    VALUES_ARE(a, 0, 2, 3, 4);
    const ad::Array& same = a;
    a = same;
    VALUES_ARE(a, 0, 2, 3, 4);

    ad::Array deep = c.copy();  // new memory
    deep += 10;
    VALUES_ARE(c, 0, 2, 3, 4);
    VALUES_ARE(deep, 0, 12, 13, 14);

    ad::Array r = c.reshape({3, 1});  // reshape is a view
    r *= 2;
    VALUES_ARE(c, 0, 4, 6, 8);

    ad::Array released = ad::Array({9});
    ad_array* h = released.release();
    CHECK(!released.valid());
    ad::Array adopted(h);
    VALUES_ARE(adopted, 0, 9);
    adopted.reset();
    CHECK(!adopted.valid());

    ad::Array s1{1}, s2{2};
    swap(s1, s2);
    VALUES_ARE(s1, 0, 2);
}

static void operators() {
    ad::Array a{1, 2, 3}, b{4, 5, 6};
    VALUES_ARE(a + b, 0, 5, 7, 9);
    VALUES_ARE(b - a, 0, 3, 3, 3);
    VALUES_ARE(a * b, 0, 4, 10, 18);
    VALUES_ARE(b / a, 0, 4, 2.5, 2);
    VALUES_ARE(a + 1, 0, 2, 3, 4);
    VALUES_ARE(1 + a, 0, 2, 3, 4);
    VALUES_ARE(a - 1, 0, 0, 1, 2);
    VALUES_ARE(1 - a, 0, 0, -1, -2);
    VALUES_ARE(a * 2, 0, 2, 4, 6);
    VALUES_ARE(2 * a, 0, 2, 4, 6);
    VALUES_ARE(a / 2, 0, 0.5, 1, 1.5);
    VALUES_ARE(6 / a, 0, 6, 3, 2);
    VALUES_ARE(-a, 0, -1, -2, -3);
    VALUES_ARE(a + ad::Array({10, 20}, {2, 1}), 0, 11, 12, 13, 21, 22, 23);  // broadcasting

    VALUES_ARE(a == 2, 0, 0, 1, 0);
    VALUES_ARE(a != 2, 0, 1, 0, 1);
    VALUES_ARE(a < 2, 0, 1, 0, 0);
    VALUES_ARE(2 < a, 0, 0, 0, 1);
    VALUES_ARE(1.5 >= a, 0, 1, 0, 0);
    VALUES_ARE(2 <= a, 0, 0, 1, 1);
    VALUES_ARE(a > ad::Array({3, 1, 3}), 0, 0, 1, 0);
    VALUES_ARE(a >= ad::Array({3, 2, 1}), 0, 0, 1, 1);
    VALUES_ARE(a <= ad::Array({3, 2, 1}), 0, 1, 1, 0);
    VALUES_ARE(a == ad::Array({1, 0, 3}), 0, 1, 0, 1);
    VALUES_ARE(a != ad::Array({1, 0, 3}), 0, 0, 1, 0);
    VALUES_ARE(ad::compare(a, 2, ad::Cmp::Gt), 0, 0, 0, 1);

    ad::Array c{1, 2, 3};
    c += a;
    VALUES_ARE(c, 0, 2, 4, 6);
    c -= 1;
    VALUES_ARE(c, 0, 1, 3, 5);
    c *= ad::Array({2}, {1});
    VALUES_ARE(c, 0, 2, 6, 10);
    c /= 2;
    VALUES_ARE(c, 0, 1, 3, 5);
    c -= a;
    VALUES_ARE(c, 0, 0, 1, 2);
    c += 0.5;
    c *= 2;
    c /= b;
    VALUES_ARE(c, 1e-6, 0.25, 0.6, 5.0 / 6);
}

static void indexing() {
    ad::Array x = ad::arange(6).reshape(2, 3);
    VALUES_ARE(x[1], 0, 3, 4, 5);
    SHAPE_IS(x[1], 3);
    VALUES_ARE(x[-1], 0, 3, 4, 5);
    VALUES_ARE(x(ad::all, 1), 0, 1, 4);
    SHAPE_IS(x(ad::all, 1), 2);
    VALUES_ARE(x(ad::slice(ad::none, ad::none, -1)), 0, 3, 4, 5, 0, 1, 2);
    VALUES_ARE(x(1, ad::slice(0, 2)), 0, 3, 4);
    VALUES_ARE(x(ad::all, ad::slice(ad::none, ad::none, 2)), 0, 0, 2, 3, 5);
    VALUES_ARE(x(ad::slice(-5, 100)), 0, 0, 1, 2, 3, 4, 5);  // clamped as Python clamps
    VALUES_ARE(x(ad::all, ad::slice(-1, ad::none, -1)), 0, 2, 1, 0, 5, 4, 3);
    CHECK(x(ad::all, ad::slice(1, 1)).size() == 0);
    SHAPE_IS(x(ad::all, ad::slice(1, 1)), 2, 0);
    VALUES_ARE(x.slice({0, 2}), 0, 2);
    std::size_t row = 1;
    VALUES_ARE(x(row, -1), 0, 5);

    ad::Array view = x[1];  // contiguous: shares x's data
    view += 100;
    VALUES_ARE(x, 0, 0, 1, 2, 103, 104, 105);

    x.set({0, ad::slice(1, 3)}, 9);
    VALUES_ARE(x, 0, 0, 9, 9, 103, 104, 105);
    x.set({}, ad::Array({7, 8, 9}));
    VALUES_ARE(x, 0, 7, 8, 9, 7, 8, 9);
    x.set({ad::all, 0}, ad::Array({1, 2}));
    VALUES_ARE(x, 0, 1, 8, 9, 2, 8, 9);
}

static void ops() {
    ad::Array x = ad::arange(6).reshape(2, 3);
    VALUES_ARE(ad::exp(ad::zeros({2})), 0, 1, 1);
    VALUES_ARE(ad::sqrt(ad::Array({4, 9})), 1e-6, 2, 3);
    VALUES_ARE(ad::abs(ad::Array({-1, 2})), 0, 1, 2);
    VALUES_ARE(ad::relu(ad::Array({-1, 2})), 0, 0, 2);
    VALUES_ARE(ad::floor(ad::Array({-1.5, 2.5})), 0, -2, 2);
    VALUES_ARE(ad::isnan(ad::Array({1, NAN})), 0, 0, 1);
    VALUES_ARE(ad::log(ad::ones({1})), 0, 0);
    VALUES_ARE(ad::pow(ad::Array({2, 3}), 2), 1e-6, 4, 9);
    VALUES_ARE(ad::pow(2, ad::Array({2, 3})), 1e-6, 4, 8);
    VALUES_ARE(ad::pow(ad::Array({2, 3}), ad::Array({3, 2})), 1e-6, 8, 9);
    VALUES_ARE(ad::maximum(ad::Array({1, 3}), 2.5), 0, 2.5, 3);
    VALUES_ARE(ad::minimum(2.5, ad::Array({1, 3})), 0, 1, 2.5);
    VALUES_ARE(ad::maximum(ad::Array({1, 3}), ad::Array({2, 2})), 0, 2, 3);
    VALUES_ARE(ad::add(1, ad::Array({1})), 0, 2);
    VALUES_ARE(ad::sub(ad::Array({1}), ad::Array({3})), 0, -2);

    VALUES_ARE(x.sum(), 0, 15);
    SHAPE_IS(x.sum(), 1);
    VALUES_ARE(ad::sum(x, 0), 0, 3, 5, 7);
    SHAPE_IS(x.sum(1, true), 2, 1);
    VALUES_ARE(x.mean({0, 1}), 1e-6, 2.5);
    VALUES_ARE(x.max(1), 0, 2, 5);
    VALUES_ARE(ad::min(x), 0, 0);
    VALUES_ARE(x.norm(), 1e-5, 7.4161985);

    VALUES_ARE(ad::dot(x, x, false, true), 0, 5, 14, 14, 50);
    SHAPE_IS(ad::dot(x, x, true, false), 3, 3);
    VALUES_ARE(ad::softmax(ad::Array({1, 2, 3})), 1e-6, 0.09003057, 0.24472847, 0.66524096);
    VALUES_ARE(ad::log_softmax(ad::zeros({3})), 1e-6, -1.0986123, -1.0986123, -1.0986123);
    VALUES_ARE(ad::softmax_cross_entropy(ad::zeros({2, 3}), ad::Array({0, 2})), 1e-6, 1.0986123);
    VALUES_ARE(ad::softmax_cross_entropy(ad::zeros({2, 3}), ad::Array({0, 2}), true), 1e-5, 2.1972246);
    VALUES_ARE(ad::argmax(x, 1), 0, 2, 2);
    VALUES_ARE(ad::argmax(x), 0, 5);
    VALUES_ARE(ad::argmin(x, 0), 0, 0, 0, 0);
    VALUES_ARE(ad::pick(x, ad::Array({0, 2}), 1), 0, 0, 5);
    SHAPE_IS(ad::pick(x, ad::Array({0, 2}), 1, true), 2, 1);
    VALUES_ARE(ad::one_hot(ad::Array({0, 2}), 3), 0, 1, 0, 0, 0, 0, 1);
    VALUES_ARE(ad::clip(x, 1, 4), 0, 1, 1, 2, 3, 4, 4);
    VALUES_ARE(ad::where(x > 2, x, -x), 0, 0, -1, -2, 3, 4, 5);
    SHAPE_IS(ad::flatten(ad::arange(8).reshape(2, 2, 2)), 2, 4);
    SHAPE_IS(x.T(), 3, 2);
    SHAPE_IS(ad::zeros({2, 3, 4}).transpose({1, 0, 2}), 3, 2, 4);
    SHAPE_IS(ad::Array({1, 2}).broadcast_to({3, 2}), 3, 2);
    SHAPE_IS(ad::arange(6).reshape(std::vector<std::int64_t>{3, -1}), 3, 2);

    ad::Array in({1, 2}, {1, 2}), w = ad::arange(6).reshape(3, 2);
    VALUES_ARE(ad::fully_connected(in, w), 0, 2, 8, 14);
    VALUES_ARE(ad::fully_connected(in, w, ad::ones({3})), 0, 3, 9, 15);
    ad::Array col({1, 2}, {2, 1});
    SHAPE_IS(ad::concat({col, x}), 2, 4);
    SHAPE_IS(ad::concat({col, col}, 0), 4, 1);
    SHAPE_IS(ad::stack({col, col * 2}), 2, 2, 1);
    std::vector<ad::Array> parts{col, col};
    SHAPE_IS(ad::stack(parts, 1), 2, 2, 1);

    // Dropout is the identity in prediction mode, and zeroes or scales in training mode.
    VALUES_ARE(ad::dropout(ad::ones({3})), 0, 1, 1, 1);
    {
        ad::TrainMode train;
        for (double v : ad::dropout(ad::ones({50}), 0.5).to_vector<double>()) CHECK(v == 0 || v == 2);
    }

    ad::Array bx({1, 2, 3, 4}, {2, 2}), mean = ad::zeros({2}), var = ad::ones({2});
    {
        ad::Record record;  // training mode: batch statistics, running ones updated
        VALUES_ARE(ad::batch_norm(bx, ad::ones({2}), ad::zeros({2}), mean, var), 1e-4, -0.9995, -0.9995, 0.9995, 0.9995);
    }
    VALUES_ARE(mean, 1e-6, 0.2, 0.3);
    VALUES_ARE(var, 1e-6, 1, 1);
    VALUES_ARE(ad::batch_norm(bx, ad::ones({2}), ad::zeros({2}), mean, var, 0.9, 1e-3, 1, true, true), 1e-5, 0.79960, 1.69915,
               2.79860, 3.69815);
}

static void optimizer_updates() {
    ad::Array w{1, 2}, g{0.5, 1};
    ad::sgd_update(w, g, 0.1);
    VALUES_ARE(w, 1e-6, 0.95, 1.9);

    ad::Array w2{1, 2}, mom = ad::zeros({2});
    ad::sgd_mom_update(w2, g, mom, 0.1, 0.9);
    VALUES_ARE(mom, 1e-6, -0.05, -0.1);
    VALUES_ARE(w2, 1e-6, 0.95, 1.9);

    ad::Array w3{1, 2}, m = ad::zeros({2}), v = ad::zeros({2});
    ad::adam_update(w3, g, m, v, 0.01);
    VALUES_ARE(w3, 1e-5, 0.968377, 1.968377);

    /* the other updates, with arguments that tell their order apart */
    ad::Array w4{1, 2};
    ad::signsgd_update(w4, g, 0.1, 0.5);
    VALUES_ARE(w4, 1e-6, 0.85, 1.8);

    ad::Array w5{1, 2}, mom5 = ad::zeros({2});
    ad::signum_update(w5, g, mom5, 0.1, 0.5, 0, 1, -1, 0.5);
    VALUES_ARE(mom5, 1e-6, -0.25, -0.5);
    VALUES_ARE(w5, 1e-6, 0.85, 1.8);

    ad::Array w6{1, 2}, n6 = ad::zeros({2});
    ad::rmsprop_update(w6, g, n6, 0.1, 0.5, 0, 0, 1, -1, 1.85);
    VALUES_ARE(n6, 1e-6, 0.125, 0.5);
    VALUES_ARE(w6, 1e-5, 0.858579, 1.85);

    ad::Array w7{1, 2}, n7 = ad::zeros({2}), g7 = ad::zeros({2}), d7 = ad::zeros({2});
    ad::rmspropalex_update(w7, g, n7, g7, d7, 0.1, 0.5, 0.9, 0);
    VALUES_ARE(g7, 1e-6, 0.25, 0.5);
    VALUES_ARE(d7, 1e-6, -0.2, -0.2);
    VALUES_ARE(w7, 1e-6, 0.8, 1.8);

    ad::Array w8{1, 2}, z8 = ad::zeros({2}), n8 = ad::zeros({2});
    ad::ftrl_update(w8, g, z8, n8, 0.1, 0.01, 1);
    VALUES_ARE(z8, 1e-5, -4.5, -19);
    VALUES_ARE(w8, 1e-5, 0.299333, 0.9495);

    ad::Array w9{1, 2}, mom9 = ad::zeros({2});
    ad::nag_mom_update(w9, g, mom9, 0.1, 0.9);
    VALUES_ARE(w9, 1e-6, 0.905, 1.81);
    VALUES_ARE(mom9, 1e-6, -0.05, -0.1);

    ad::Array w10{1, 2}, m10 = ad::zeros({2}), v10 = ad::zeros({2});
    ad::Array d10 = ad::lamb_update_phase1(w10, g, m10, v10, 1, 0);
    VALUES_ARE(d10, 1e-5, 1, 1);
    VALUES_ARE(w10, 0, 1, 2);
    ad::lamb_update_phase2(w10, d10, ad::Array{2}, ad::Array{4}, 0.1);
    VALUES_ARE(w10, 1e-5, 0.95, 1.95);
}

static void autograd() {
    ad::Array x{1, 2, 3};
    CHECK(!x.grad().valid());  // MXNet's None
    x.attach_grad();
    VALUES_ARE(x.grad(), 0, 0, 0, 0);
    ad::Array grad_view = x.grad();  // shares the gradient: later backward calls show
    ad::Array y;
    {
        ad::Record record;
        y = x * x;
    }
    y.backward();
    VALUES_ARE(grad_view, 0, 2, 4, 6);

    // A head gradient.
    {
        ad::Record record;
        y = x * 2;
    }
    y.backward(ad::Array({1, 10, 100}));
    VALUES_ARE(x.grad(), 0, 2, 20, 200);

    // Several heads at once.
    ad::Array y1, y2;
    {
        ad::Record record;
        y1 = x * 2;
        y2 = x * x;
    }
    ad::backward({y1, y2});
    VALUES_ARE(x.grad(), 0, 4, 6, 8);
    {
        ad::Record record;
        y1 = x * 2;
        y2 = x * x;
    }
    ad::backward({y1, y2}, {ad::Array({1, 1, 1}), ad::Array({0, 1, 2})});
    VALUES_ARE(x.grad(), 0, 2, 6, 14);

    // retain_graph keeps the graph for a second backward.
    {
        ad::Record record;
        y = x * 3;
    }
    y.backward(true);
    y.backward();
    VALUES_ARE(x.grad(), 0, 3, 3, 3);

    // ad::grad returns new arrays; with create_graph they differentiate again.
    {
        ad::Record record;
        y = x * x * x;
    }
    std::vector<ad::Array> dy = ad::grad({y}, {x}, true);
    CHECK(dy.size() == 1);
    VALUES_ARE(dy[0], 1e-5, 3, 12, 27);
    dy[0].backward();
    VALUES_ARE(x.grad(), 1e-5, 6, 12, 18);
    {
        ad::Record record;
        y = x * x;
    }
    VALUES_ARE(ad::grad(y, x, false, ad::Array({1, 0, 1}))[0], 0, 2, 0, 6);

    // GradReq::Add accumulates.
    ad::Array acc{1, 1};
    acc.attach_grad(ad::GradReq::Add);
    for (int i = 0; i < 2; i++) {
        {
            ad::Record record;
            y = acc * 5;
        }
        y.backward();
    }
    VALUES_ARE(acc.grad(), 0, 10, 10);

    // The caller's buffer as the gradient (mark_variables).
    ad::Array buffer = ad::zeros({3}), z{1, 2, 3};
    z.attach_grad(buffer);
    {
        ad::Record record;
        y = z * 3;
    }
    y.backward();
    VALUES_ARE(buffer, 0, 3, 3, 3);

    // An intermediate's gradient, kept while gradients flow through it.
    ad::Array h;
    {
        ad::Record record;
        h = x * 2;
        h.retain_grad();
        y = h * h;
    }
    y.backward();
    VALUES_ARE(h.grad(), 0, 4, 8, 12);
    VALUES_ARE(x.grad(), 0, 8, 16, 24);

    // A copy of a variable is the variable: its gradient lands in x's.
    ad::Array alias = x;
    {
        ad::Record record;
        y = alias * alias;
    }
    y.backward();
    VALUES_ARE(x.grad(), 0, 2, 4, 6);

    // detach() cuts the history.
    {
        ad::Record record;
        y = x.detach() * x;
    }
    y.backward();
    VALUES_ARE(x.grad(), 0, 1, 2, 3);
}

static void scopes() {
    CHECK(!ad::is_recording() && !ad::is_training());
    {
        ad::Record record;
        CHECK(ad::is_recording() && ad::is_training());
        {
            ad::Pause pause;
            CHECK(!ad::is_recording() && !ad::is_training());
            {
                ad::TrainMode train;
                CHECK(!ad::is_recording() && ad::is_training());
            }
            CHECK(!ad::is_recording() && !ad::is_training());
        }
        {
            ad::PredictMode predict;
            CHECK(ad::is_recording() && !ad::is_training());
        }
        {
            ad::Pause pause(true);
            CHECK(!ad::is_recording() && ad::is_training());
        }
        CHECK(ad::is_recording() && ad::is_training());
    }
    {
        ad::Record record(false);
        CHECK(ad::is_recording() && !ad::is_training());
    }
    CHECK(!ad::is_recording() && !ad::is_training());
    CHECK(ad::set_recording(true) == false);
    CHECK(ad::is_recording());
    CHECK(ad::set_recording(false) == true);
    CHECK(ad::set_training(true) == false);
    CHECK(ad::set_training(false) == true);
}

static void library() {
    CHECK(std::string(ad::version()).size() >= 5);
    CHECK(std::string(ad::status_name(AD_ERR_SHAPE)) == "AD_ERR_SHAPE");
    const std::size_t threads = ad::num_threads();
    ad::set_num_threads(1);
    CHECK(ad::num_threads() == 1);
    ad::set_num_threads(threads);
    const bool reference = ad::reference_mode();
    ad::set_reference_mode(!reference);
    CHECK(ad::reference_mode() == !reference);
    ad::set_reference_mode(reference);
    const std::string best = ad::cpu_level();
    ad::set_cpu_level("portable");
    CHECK(std::string(ad::cpu_level()) == "portable");
    VALUES_ARE(ad::exp(ad::Array({0.0, 1.0})), 1e-6, 1.0, 2.718281828);
    bool refused = false;
    try {
        ad::set_cpu_level("sse");
    } catch (const ad::Error& e) {
        refused = e.status() == AD_ERR_INVALID_ARGUMENT && std::string(e.what()).find("sse") != std::string::npos;
    }
    CHECK(refused);
    CHECK(std::string(ad::cpu_level()) == "portable");
    ad::set_cpu_level(nullptr);
    CHECK(std::string(ad::cpu_level()) == best);
    { ad::Array big = ad::zeros({1 << 16}); }
    (void)ad::release_cached_memory();
    // Large element-wise results are computed when first needed; waiting computes them now.
    ad::Array x = ad::arange(1 << 17), y = x * 2.0, z = y + 1.0;
    y.wait_to_read();
    ad::wait_all();
    const std::vector<float> zs = z.to_vector<float>();
    CHECK(zs.size() == (1u << 17) && zs[0] == 1.0f && zs[1000] == 2001.0f && zs.back() == 2.0f * ((1 << 17) - 1) + 1.0f);
}

int main() {
    making_and_reading();
    integer_and_bool_arrays();
    printing();
    copies_moves_and_views();
    operators();
    indexing();
    ops();
    optimizer_updates();
    autograd();
    scopes();
    library();
    return check::result();
}
