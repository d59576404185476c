// Failures in the C++ API: ad::Error with the status and the library's message; no handle
// leaks when an operation throws halfway through an expression (counted with
// AD_TRACK_HANDLES); scopes closed by an exception; ad::status_of.
#define AD_TRACK_HANDLES
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "check.hpp"

// Runs `f`, which must throw ad::Error with `status` and a message holding `needle`.
template <class F>
static void throws(const char* file, int line, F&& f, ad::Status status, const std::string& needle) {
    try {
        f();
        check::report(false, file, line, std::string("no exception, expected ") + ad::status_name(status));
    } catch (const ad::Error& e) {
        check::report(e.status() == status && std::string(e.what()).find(needle) != std::string::npos, file, line,
                      std::string("threw ") + e.status_name() + " \"" + e.what() + "\", expected " +
                          ad::status_name(status) + " with \"" + needle + "\"");
    }
}
#define THROWS(status, needle, ...) throws(__FILE__, __LINE__, [&] { __VA_ARGS__; }, (status), (needle))

static void errors_carry_the_status_and_message() {
    ad::Array a({1, 2}), b({1, 2, 3});
    THROWS(AD_ERR_SHAPE, "ad_add", (void)(a + b));
    THROWS(AD_ERR_DTYPE, "ad_exp: argument `a` holds int32 elements", (void)ad::exp(ad::zeros({2}, ad::int32)));
    THROWS(AD_ERR_DTYPE, "uint8", (void)ad::random::randint(0, 3, {1}, ad::uint8));
    THROWS(AD_ERR_SHAPE, "ad_dot", (void)ad::dot(ad::zeros({2, 3}), ad::zeros({2, 3})));
    THROWS(AD_ERR_INVALID_ARGUMENT, "scale -1", (void)ad::random::exponential(-1));
    THROWS(AD_ERR_INVALID_ARGUMENT, "alpha 0", (void)ad::random::gamma(0, 1));
    THROWS(AD_ERR_INVALID_ARGUMENT, "lam -3", (void)ad::random::poisson(-3));
    THROWS(AD_ERR_INVALID_ARGUMENT, "low 4, high 1", (void)ad::random::randint(4, 1));
    THROWS(AD_ERR_SHAPE, "loc has shape (2,) and scale shape (3,)", (void)ad::random::normal(ad::Array({0, 0}), ad::Array({1, 1, 1})));
    THROWS(AD_ERR_INVALID_ARGUMENT, "scale -1", (void)ad::random::normal(ad::Array({0, 0}), ad::Array({1, -1})));
    THROWS(AD_ERR_DTYPE, "ad_sample_gamma", (void)ad::random::gamma(ad::Array({1}), ad::Array({1}, ad::float64)));
    THROWS(AD_ERR_INVALID_ARGUMENT, "sums to 0.5", (void)ad::random::multinomial(ad::Array({0.25, 0.25})));
    THROWS(AD_ERR_SHAPE, "ad_sample_multinomial", (void)ad::random::multinomial_with_log_prob(ad::Array({1.0}, ad::Shape{})));
    try {
        (void)(a * b);
        CHECK(false);
    } catch (const std::runtime_error& e) {  // ad::Error is a std::runtime_error
        CHECK(std::string(e.what()).find("ad_mul") != std::string::npos);
    }
    THROWS(AD_ERR_SHAPE, "5 values for a shape of 4 elements", ad::Array({1, 2, 3, 4, 5}, {2, 2}));
    THROWS(AD_ERR_SHAPE, "ad_array_reshape", (void)a.reshape(3));
    THROWS(AD_ERR_SHAPE, "ad_array_asscalar", (void)ad::Array({1, 2}).scalar());
    THROWS(AD_ERR_INDEX, "", (void)ad::arange(6).reshape(2, 3)(2));
    THROWS(AD_ERR_INDEX, "", (void)ad::arange(6).reshape(2, 3)(0, 0, 0));
    THROWS(AD_ERR_INVALID_ARGUMENT, "step cannot be zero", (void)a(ad::slice(0, 2, 0)));
    THROWS(AD_ERR_INVALID_ARGUMENT, "ad_set_num_threads", ad::set_num_threads(0));
    THROWS(AD_ERR_INVALID_ARGUMENT, "", (void)ad::arange(0, 1, 0));
    THROWS(AD_ERR_INDEX, "", (void)ad::pick(ad::zeros({2, 3}), ad::Array({0, 5}), 1));

    // An Array without a handle is refused, never read as "none given".
    ad::Array moved = std::move(a);
    THROWS(AD_ERR_NULL_ARGUMENT, "ad_exp", (void)ad::exp(a));
    THROWS(AD_ERR_NULL_ARGUMENT, "ad_array_ndim", (void)a.shape());
    THROWS(AD_ERR_NULL_ARGUMENT, "ad::Array without a handle", (void)a[0]);
    ad::Array x({1, 2});
    x.attach_grad();
    ad::Array y;
    {
        ad::Record record;
        y = x * x;
    }
    THROWS(AD_ERR_NULL_ARGUMENT, "`head_grad`", y.backward(ad::Array(), true));
    THROWS(AD_ERR_NULL_ARGUMENT, "`head_grads`[0]", ad::backward({y}, {ad::Array()}, true));
    THROWS(AD_ERR_NULL_ARGUMENT, "`bias`", (void)ad::fully_connected(ad::zeros({1, 2}), ad::zeros({3, 2}), ad::Array()));
    THROWS(AD_ERR_NULL_ARGUMENT, "`arrays`[1]", (void)ad::concat({x, ad::Array()}));
    THROWS(AD_ERR_INVALID_ARGUMENT, "1 heads but 2 head gradients", ad::backward({y}, {x, x}, true));
    THROWS(AD_ERR_INVALID_ARGUMENT, "1 heads but 2 head gradients", (void)ad::grad({y}, {x}, false, {x, x}));

    // Autograd misuse.
    y.backward();
    THROWS(AD_ERR_AUTOGRAD, "", y.backward());  // the graph was released
    {
        ad::Record record;
        y = x * 2;
        THROWS(AD_ERR_AUTOGRAD, "ad_array_update", x += 1);  // x is in the graph
    }
    THROWS(AD_ERR_AUTOGRAD, "", ad::zeros({2}).backward());  // no history
}

// Every Array made on the way is freed when an operation throws in the middle of an
// expression, a list, a scope or a loop.
static void nothing_leaks_when_an_operation_throws() {
    const long before = ad::live_handles();
    {
        ad::Array a({1, 2, 3}), b({4, 5, 6}), bad = ad::zeros({2, 2});
        const long with_inputs = ad::live_handles();
        CHECK(with_inputs == before + 3);
        THROWS(AD_ERR_SHAPE, "", ad::Array y = ad::exp(a) * 2 + (b - a) * ad::dot(bad, a) - a);
        CHECK(ad::live_handles() == with_inputs);
        THROWS(AD_ERR_SHAPE, "", ad::Array y = ad::sum(ad::softmax(a * b) + ad::concat({a, b, bad}, 0)));
        CHECK(ad::live_handles() == with_inputs);
        THROWS(AD_ERR_SHAPE, "", std::vector<ad::Array> v{a + 1, b + 2, a + bad, b + 3});
        CHECK(ad::live_handles() == with_inputs);

        a.attach_grad();
        THROWS(AD_ERR_SHAPE, "", {
            ad::Record record;
            ad::Array h = a * a;
            ad::Array loss = (h + bad).sum();
            loss.backward();
        });
        CHECK(ad::live_handles() == with_inputs);
        CHECK(!ad::is_recording() && !ad::is_training());

        ad::Array y;
        {
            ad::Record record;
            y = a * b;
        }
        // ad::grad fails after its arguments are made: none of them leaks.
        THROWS(AD_ERR_SHAPE, "", (void)ad::grad({y}, {a}, false, {ad::ones({7})}));
        CHECK(ad::live_handles() == with_inputs + 1);
        std::vector<ad::Array> g = ad::grad({y}, {a});
        VALUES_ARE(g[0], 0, 4, 5, 6);
        CHECK(ad::live_handles() == with_inputs + 2);
    }
    CHECK(ad::live_handles() == before);
}

// Scopes nest and an exception closes each it leaves.
static void scopes_close_on_exceptions() {
    try {
        ad::Record record;
        {
            ad::PredictMode predict;
            ad::Pause pause(true);
            CHECK(!ad::is_recording() && ad::is_training());
            (void)(ad::zeros({2}) + ad::zeros({3}));
        }
    } catch (const ad::Error&) {
    }
    CHECK(!ad::is_recording() && !ad::is_training());
    try {
        ad::TrainMode train;
        throw std::logic_error("not from ad");
    } catch (const std::logic_error&) {
    }
    CHECK(!ad::is_training());
}

static void status_of_is_the_status_returning_form() {
    ad::Array y;
    ad::Status s = ad::status_of([&] { y = ad::arange(3) * 2; });
    CHECK(s == AD_OK && std::string(ad::last_error()).empty());
    VALUES_ARE(y, 0, 0, 2, 4);
    s = ad::status_of([&] { y = ad::arange(3) + ad::arange(4); });
    CHECK(s == AD_ERR_SHAPE && ad::last_status() == AD_ERR_SHAPE);
    CHECK(std::string(ad::last_error()).find("ad_add") != std::string::npos);
    VALUES_ARE(y, 0, 0, 2, 4);  // unchanged
    ad::clear_error();
    CHECK(ad::last_status() == AD_OK);
}

int main() {
    errors_carry_the_status_and_message();
    nothing_leaks_when_an_operation_throws();
    scopes_close_on_exceptions();
    status_of_is_the_status_returning_form();
    CHECK(ad::live_handles() == 0);
    return check::result();
}
