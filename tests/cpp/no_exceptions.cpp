// The AD_NO_EXCEPTIONS build of the C++ API, compiled with -fno-exceptions: a failure is
// kept as this thread's pending error, the failed call and everything computed from it give
// Arrays without a handle, and the first failure stays the pending one.
#define AD_NO_EXCEPTIONS
#define AD_TRACK_HANDLES
#include <string>

#include "check.hpp"

static bool mentions(const char* needle) { return std::string(ad::last_error()).find(needle) != std::string::npos; }

int main() {
    // Code that does not fail runs as in the other build.
    ad::Array x = ad::arange(4).reshape(4, 1);
    x.attach_grad();
    ad::Array y;
    {
        ad::Record record;
        y = 2 * ad::dot(x.T(), x);
    }
    y.backward();
    VALUES_ARE(x.grad(), 0, 0, 4, 8, 12);
    CHECK(ad::last_status() == AD_OK);

    // A failure: an Array without a handle, the status and message pending.
    ad::Array bad = ad::arange(3) + ad::arange(4);
    CHECK(!bad.valid());
    CHECK(ad::last_status() == AD_ERR_SHAPE && mentions("ad_add"));

    // What is computed from it fails too; the first failure stays pending.
    ad::Array worse = ad::exp(bad * 2) + x;
    CHECK(!worse.valid());
    CHECK(ad::last_status() == AD_ERR_SHAPE && mentions("ad_add"));
    CHECK(bad.size() == 0 && bad.shape().empty() && bad.to_vector<float>().empty() && bad.scalar() == 0);
    CHECK(bad.str().empty());
    bad.backward(ad::Array());
    CHECK(ad::last_status() == AD_ERR_SHAPE);

    ad::clear_error();
    CHECK(ad::last_status() == AD_OK && std::string(ad::last_error()).empty());

    // Errors the wrapper finds itself.
    ad::Array wrong({1, 2, 3}, {2, 2});
    CHECK(!wrong.valid() && ad::last_status() == AD_ERR_SHAPE && mentions("3 values"));
    ad::clear_error();
    y.backward(ad::Array());
    CHECK(ad::last_status() == AD_ERR_NULL_ARGUMENT && mentions("`head_grad`"));
    ad::clear_error();
    CHECK(!x(ad::slice(0, 1, 0)).valid() && ad::last_status() == AD_ERR_INVALID_ARGUMENT);

    // The status-returning form.
    ad::Status s = ad::status_of([&] { y = ad::zeros({2}) * ad::ones({2}); });
    CHECK(s == AD_OK && y.valid());
    s = ad::status_of([&] { y = ad::dot(ad::zeros({2, 3}), ad::zeros({2, 3})); });
    CHECK(s == AD_ERR_SHAPE && !y.valid() && mentions("ad_dot"));
    ad::clear_error();

    // In-place calls report the same way.
    ad::Array w({1, 2});
    w += ad::Array({1, 2, 3});
    CHECK(ad::last_status() == AD_ERR_SHAPE);
    VALUES_ARE(w, 0, 1, 2);
    ad::clear_error();

    // Calls returning something other than an Array give an empty one.
    CHECK(ad::split(ad::arange(6), 4, 0).empty() && ad::last_status() == AD_ERR_SHAPE && mentions("ad_split"));
    ad::clear_error();
    CHECK(ad::split(ad::arange(6), 100, 0).empty() && ad::last_status() == AD_ERR_SHAPE);
    ad::clear_error();
    CHECK(ad::split(ad::arange(6), 3, 0).size() == 3 && ad::last_status() == AD_OK);
    ad::Checkpoint none = ad::load("no such file.npz");
    CHECK(none.empty() && !none.has_names() && ad::last_status() == AD_ERR_IO && mentions("no such file.npz"));
    ad::clear_error();
    ad::save("", {x});
    CHECK(ad::last_status() == AD_ERR_INVALID_ARGUMENT);
    ad::clear_error();

    // Scopes open and close as before.
    {
        ad::Record record;
        CHECK(ad::is_recording());
    }
    CHECK(!ad::is_recording());

    x.reset();
    y.reset();
    w.reset();
    CHECK(ad::live_handles() == 0);
    return check::result();
}
