// A minimal check harness for the C++ tests: each failed check prints where and why and is
// counted; main() returns check::result(), non-zero when any check failed.
#ifndef AD_TEST_CHECK_HPP
#define AD_TEST_CHECK_HPP

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "ad.hpp"

namespace check {

inline int count = 0;
inline int failures = 0;

inline void report(bool ok, const char* file, int line, const std::string& what) {
    count++;
    if (!ok) {
        failures++;
        std::fprintf(stderr, "%s:%d: %s\n", file, line, what.c_str());
    }
}

inline bool near(const std::vector<double>& actual, const std::vector<double>& expected, double tol) {
    if (actual.size() != expected.size()) return false;
    for (std::size_t i = 0; i < actual.size(); i++) {
        bool both_nan = std::isnan(actual[i]) && std::isnan(expected[i]);
        if (!both_nan && !(std::fabs(actual[i] - expected[i]) <= tol)) return false;
    }
    return true;
}

inline std::string show(const std::vector<double>& v) {
    std::string s = "{";
    for (std::size_t i = 0; i < v.size(); i++) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "}";
}

inline int result() {
    std::printf("%d passed, %d failed\n", count - failures, failures);
    return failures ? 1 : 0;
}

}  // namespace check

#define CHECK(...) check::report(static_cast<bool>(__VA_ARGS__), __FILE__, __LINE__, "CHECK failed: " #__VA_ARGS__)

// The array's elements, read as double, equal `...` within `tol`.
#define VALUES_ARE(array, tol, ...)                                                                       \
    do {                                                                                                  \
        const std::vector<double> actual_ = (array).to_vector<double>();                                  \
        const std::vector<double> expected_{__VA_ARGS__};                                                 \
        check::report(check::near(actual_, expected_, (tol)), __FILE__, __LINE__,                         \
                      "values of " #array " are " + check::show(actual_) + ", expected {" #__VA_ARGS__ "}"); \
    } while (0)

#define SHAPE_IS(array, ...)                                                                   \
    check::report((array).shape() == ad::Shape{__VA_ARGS__}, __FILE__, __LINE__,              \
                  "shape of " #array " is not (" #__VA_ARGS__ ")")

#define TEXT_IS(array, expected)                                                               \
    do {                                                                                       \
        const std::string text_ = (array).str();                                               \
        check::report(text_ == (expected), __FILE__, __LINE__,                                 \
                      "text of " #array " is\n" + text_ + "\nexpected\n" + (expected));        \
    } while (0)

#endif
