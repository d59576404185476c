// The C++ API's ways of extending ad: custom functions written as lambdas (a sigmoid equal
// to the library's to second order, two outputs, errors and exceptions from the callables,
// their release, several threads), and memory shared without a copy (borrowing, wrapping).
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "check.hpp"

using Arrays = std::vector<ad::Array>;

static ad::Function sigmoid_function(std::shared_ptr<int> token = nullptr) {
    return ad::Function(
        "sigmoid",
        [token](ad::FunctionContext& ctx, const Arrays& x) {
            ad::Array y = 1.0 / (1.0 + ad::exp(-x[0]));
            ctx.save(y);
            return Arrays{y};
        },
        [token](ad::FunctionContext& ctx, const Arrays& dy) {
            ad::Array y = ctx.saved(0);
            CHECK(ctx.saved_count() == 1 && ctx.needs_grad(0));
            return Arrays{dy[0] * y * (1.0 - y)};
        });
}

// The gradient of sum(f(x)) (order 1) or of sum(d/dx sum(f(x))) (order 2) at x.
template <class F>
static std::vector<double> gradient(F f, int order) {
    ad::Array x({0.5, -1.0, 2.0, 3.0}, {2, 2}, ad::float64);
    x.attach_grad();
    ad::Array out;
    {
        ad::Record record;
        out = f(x).sum();
        if (order == 2) out = ad::grad({out}, {x}, true)[0].sum();
    }
    out.backward();
    return x.grad().to_vector<double>();
}

static void lambdas_match_the_builtin_op() {
    ad::Function sigmoid = sigmoid_function();
    for (int order = 1; order <= 2; order++) {
        std::vector<double> custom = gradient([&](const ad::Array& x) { return sigmoid(x); }, order);
        std::vector<double> builtin = gradient([](const ad::Array& x) { return ad::sigmoid(x); }, order);
        CHECK(check::near(custom, builtin, 1e-14));
    }
}

static void two_inputs_two_outputs() {
    ad::Function mul_add(
        "mul_add",
        [](ad::FunctionContext& ctx, const Arrays& in) {
            ctx.save({in[0], in[1]});
            return Arrays{in[0] * in[1], in[0] + in[1]};
        },
        [](ad::FunctionContext& ctx, const Arrays& d) {
            ad::Array a = ctx.saved(0), b = ctx.saved(1);
            // no gradient for b when it is not wanted
            return Arrays{d[0] * b + d[1], ctx.needs_grad(1) ? d[0] * a + d[1] : ad::Array()};
        },
        2);
    ad::Array a({1, 2}), b({3, 4}), c({3, 4});
    a.attach_grad();
    Arrays out;
    {
        ad::Record record;
        out = mul_add.apply({a, b});
    }
    CHECK(out.size() == 2);
    ad::backward({out[0], out[1]});
    VALUES_ARE(a.grad(), 0, 4, 5);
    // a function of two outputs is applied with apply()
    CHECK(ad::status_of([&] { mul_add({a, c}); }) == AD_ERR_INVALID_ARGUMENT);
    CHECK(std::string(ad::last_error()).find("apply()") != std::string::npos);
}

struct Refused : std::runtime_error {
    using std::runtime_error::runtime_error;
};

static void errors_and_exceptions_reach_the_caller() {
    ad::Function throws_in_backward(
        "throws",
        [](ad::FunctionContext&, const Arrays& x) { return Arrays{x[0] * 2.0}; },
        [](ad::FunctionContext&, const Arrays&) -> Arrays { throw Refused("backward refuses on purpose"); });
    ad::Array x({1, 2});
    x.attach_grad();
    ad::Array y;
    {
        ad::Record record;
        y = throws_in_backward(x);
    }
    bool caught = false;
    try {
        y.backward();
    } catch (const Refused& e) {
        caught = std::string(e.what()) == "backward refuses on purpose";
    }
    CHECK(caught);

    // A library error inside a callable: an ad::Error naming the function.
    ad::Function bad_reshape(
        "bad_reshape", [](ad::FunctionContext&, const Arrays& x) { return Arrays{x[0].reshape(7)}; },
        [](ad::FunctionContext&, const Arrays& d) { return d; });
    ad::Status status = ad::status_of([&] { bad_reshape(x); });
    CHECK(status == AD_ERR_SHAPE);
    CHECK(std::string(ad::last_error()).find("custom function `bad_reshape`: forward failed") != std::string::npos);

    // The wrong number of gradients.
    ad::Function too_many(
        "too_many", [](ad::FunctionContext&, const Arrays& x) { return Arrays{x[0] + 1.0}; },
        [](ad::FunctionContext&, const Arrays& d) { return Arrays{d[0], d[0]}; });
    {
        ad::Record record;
        y = too_many(x);
    }
    CHECK(ad::status_of([&] { y.backward(); }) == AD_ERR_INVALID_ARGUMENT);
    CHECK(std::string(ad::last_error()).find("backward returned 2 arrays where 1 are wanted") != std::string::npos);
}

// Gradient-ready hooks: the last layer's weights first, each with its final gradient, read in
// place; an exception in a hook reaches the caller of backward; the hook is released when
// replaced or with its variable.
static void gradient_hooks_run_last_layer_first() {
    ad::Array x({0.5, -1.0, 2.0, 1.5, 0.25, -0.5}, {2, 3}, ad::float64);
    ad::Array w1({0.1, -0.2, 0.3, 0.4, -0.5, 0.6}, {3, 2}, ad::float64), w2({1.0, -1.0}, {2, 1}, ad::float64);
    w1.attach_grad();
    w2.attach_grad();
    std::vector<std::string> order;
    std::vector<double> seen_w2, w1_then;
    auto token = std::make_shared<int>(0);
    std::weak_ptr<int> watch = token;
    w2.on_grad_ready([&, token](const ad::Array& v) {
        order.push_back("w2");
        auto g = v.grad().borrow<double>();
        seen_w2.assign(g.data(), g.data() + g.size());
        w1_then = w1.grad().to_vector<double>();
    });
    token.reset();
    w1.on_grad_ready([&](const ad::Array&) { order.push_back("w1"); });
    ad::Array y;
    {
        ad::Record record;
        y = ad::dot(ad::relu(ad::dot(x, w1)), w2).sum();
    }
    y.backward(true);
    CHECK(order.size() == 2 && order[0] == "w2" && order[1] == "w1");
    CHECK(seen_w2 == w2.grad().to_vector<double>());
    CHECK(w1_then == std::vector<double>(6, 0.0));  // not yet written when w2's hook ran

    w2.on_grad_ready([](const ad::Array&) { throw Refused("the allreduce refuses"); });
    CHECK(watch.expired());  // the replaced hook is released
    bool caught = false;
    try {
        y.backward(true);
    } catch (const Refused& e) {
        caught = std::string(e.what()) == "the allreduce refuses";
    }
    CHECK(caught);
    w2.on_grad_ready(nullptr);
    order.clear();
    y.backward();
    CHECK(order.size() == 1 && order[0] == "w1");
    ad::Array plain({1.0, 2.0});
    CHECK(ad::status_of([&] { plain.on_grad_ready([](const ad::Array&) {}); }) == AD_ERR_AUTOGRAD);
}

static void the_callables_are_released_with_the_last_graph() {
    auto token = std::make_shared<int>(0);
    std::weak_ptr<int> watch = token;
    ad::Array x({1, 2});
    x.attach_grad();
    ad::Array y;
    {
        ad::Function sigmoid = sigmoid_function(token);
        token.reset();
        ad::Record record;
        y = sigmoid(x);
    }
    CHECK(!watch.expired());  // the graph still holds the function
    y.backward();
    y.reset();
    CHECK(watch.expired());
}

static void several_threads_share_one_function() {
    ad::Function sigmoid = sigmoid_function();
    std::vector<std::thread> threads;
    std::vector<int> ok(4, 0);
    for (int t = 0; t < 4; t++) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; i++) {
                ad::Array x({0.1 * t, -0.2, 0.3}, ad::float64);
                x.attach_grad();
                ad::Array y;
                {
                    ad::Record record;
                    y = sigmoid(x).sum();
                }
                y.backward();
                ad::Array s = ad::sigmoid(x);
                ok[t] += check::near(x.grad().to_vector<double>(), (s * (1.0 - s)).to_vector<double>(), 1e-15);
            }
        });
    }
    for (std::thread& t : threads) t.join();
    CHECK(ok == (std::vector<int>{50, 50, 50, 50}));
}

static void borrowing_reads_and_writes_in_place() {
    ad::Array x({1, 2, 3, 4}, {2, 2}, ad::float64);
    {
        ad::Borrowed<const double> r = x.borrow<double>();
        CHECK(r.valid() && r.size() == 4 && r[0] == 1 && r[3] == 4);
        double sum = 0;
        for (double v : r) sum += v;
        CHECK(sum == 10);
        // the same memory through another handle
        CHECK(x.reshape(4).borrow<double>().data() == r.data());
    }
    {
        ad::Borrowed<double> w = x.borrow_mut<double>();
        w[1] = 20;
    }
    VALUES_ARE(x, 0, 1, 20, 3, 4);
    CHECK(ad::status_of([&] { x.borrow<float>(); }) == AD_ERR_DTYPE);

    // A gradient, in place, each backward
    x.attach_grad();
    ad::Borrowed<const double> g = x.grad().borrow<double>();
    for (double k : {2.0, 3.0}) {
        ad::Array y;
        {
            ad::Record record;
            y = (x * k).sum();
        }
        y.backward();
        CHECK(g[0] == k && g[3] == k);
    }
}

static void wrapping_the_callers_memory() {
    int released = 0;
    std::vector<float> memory{1, 2, 3, 4, 5, 6};
    {
        ad::Array m = ad::wrap(memory.data(), {2, 3}, [&released] { released++; });
        VALUES_ARE(m, 0, 1, 2, 3, 4, 5, 6);
        memory[0] = 10;
        VALUES_ARE(m.sum(), 0, 30);
        m *= 2.0;
        CHECK(memory[5] == 12);
        CHECK(released == 0);
    }
    CHECK(released == 1);
    // refused: nothing taken, the release never runs
    CHECK(ad::status_of([&] { ad::wrap<float>(nullptr, {2}, [&released] { released++; }); }) == AD_ERR_NULL_ARGUMENT);
    CHECK(released == 1);
}

static void dlpack_round_trips() {
    ad::Array x({1, 2, 3}, {3}, ad::float32);
    // writable: back as the same elements
    bool copied = true;
    ad::Array back = ad::from_dlpack(ad::to_dlpack(x, true), &copied);
    CHECK(!copied && back.borrow<float>().data() == x.borrow<float>().data());
    back += x;
    VALUES_ARE(x, 0, 2, 4, 6);
    // read-only, legacy: a copy, and the tensor taken either way
    DLManagedTensorVersioned* t = ad::to_dlpack(x);
    CHECK(t->flags & DLPACK_FLAG_BITMASK_READ_ONLY);
    ad::Array snapshot = ad::from_dlpack(t, &copied);
    CHECK(copied);
    ad::Array legacy = ad::from_dlpack(ad::to_dlpack_legacy(x, true), &copied);
    CHECK(!copied);
    legacy *= 0.5;
    VALUES_ARE(x, 0, 1, 2, 3);
    VALUES_ARE(snapshot, 0, 2, 4, 6);
    // refused: the caller keeps the tensor
    t = ad::to_dlpack(x);
    t->dl_tensor.dtype.bits = 8; // a float of 8 bits: no ad dtype
    CHECK(ad::status_of([&] { ad::from_dlpack(t); }) == AD_ERR_DTYPE);
    t->deleter(t);
}

int main() {
    lambdas_match_the_builtin_op();
    two_inputs_two_outputs();
    errors_and_exceptions_reach_the_caller();
    gradient_hooks_run_last_layer_first();
    the_callables_are_released_with_the_last_graph();
    several_threads_share_one_function();
    borrowing_reads_and_writes_in_place();
    wrapping_the_callers_memory();
    dlpack_round_trips();
    return check::result();
}
