// The creation and shape ops and the checkpoints of the C++ API: values on the cases of
// tests/c/arrange.c (MXNet 1.9.1's), the methods against the free functions, an ad::Error
// with the right status for each family, split's vector, put in place, take's gradient;
// save and load round trips of lists and named arrays (in the order given), NumPy's own
// files, and the arrays of a loaded checkpoint outliving it. Handles are counted
// (AD_TRACK_HANDLES): nothing leaks, also when a call throws.
//
// Usage: shapes DIR FIXTURES, DIR a fresh directory for its files, FIXTURES the folder of
// NumPy-written checkpoints (tests/fixtures/checkpoints).
#define AD_TRACK_HANDLES
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "check.hpp"

static std::string dir = ".", fixtures = ".";

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

// (rows, cols) holding 0, 1, 2, ...
static ad::Array range2(std::int64_t rows, std::int64_t cols, ad::Dtype dtype = ad::float32) {
    return ad::arange(0, static_cast<double>(rows * cols), 1, dtype).reshape(rows, cols);
}

static void creation() {
    ad::Array a = range2(3, 2);
    ad::Array z = ad::full_like(a, 7);
    SHAPE_IS(z, 3, 2);
    CHECK(z.dtype() == ad::float32);
    VALUES_ARE(z, 0, 7, 7, 7, 7, 7, 7);
    ad::Array z64 = ad::full_like(a, 0.1, ad::float64);
    CHECK(z64.dtype() == ad::float64);
    VALUES_ARE(z64, 0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1);
    VALUES_ARE(ad::zeros_like(a), 0, 0, 0, 0, 0, 0, 0);
    VALUES_ARE(ad::ones_like(range2(1, 2, ad::float64)), 0, 1, 1);
    CHECK(ad::ones_like(range2(1, 2, ad::float64)).dtype() == ad::float64);
    THROWS(AD_ERR_NULL_ARGUMENT, "ad_full_like", (void)ad::full_like(ad::Array(), 1));

    VALUES_ARE(ad::linspace(0, 1, 5), 1e-7, 0, 0.25, 0.5, 0.75, 1);
    ad::Array l = ad::linspace(0, 1, 5, false, ad::float64);
    CHECK(l.dtype() == ad::float64);
    VALUES_ARE(l, 1e-15, 0, 0.2, 0.4, 0.6, 0.8);
    SHAPE_IS(ad::linspace(2, 3, 0), 0);
    THROWS(AD_ERR_INVALID_ARGUMENT, "finite", (void)ad::linspace(0, INFINITY, 3));

    ad::Array e = ad::eye(3, 4, 1);
    SHAPE_IS(e, 3, 4);
    VALUES_ARE(e, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);
    VALUES_ARE(ad::eye(2, 0, -1, ad::float64), 0, 0, 0, 1, 0);
    SHAPE_IS(ad::eye(2), 2, 2);
    THROWS(AD_ERR_ALLOC, "", (void)ad::eye(SIZE_MAX));
}

static void shapes() {
    ad::Array x({0, 1, 2, 3, 4, 5}, {1, 2, 1, 3});
    SHAPE_IS(ad::squeeze(x), 2, 3);
    SHAPE_IS(x.squeeze(), 2, 3);
    ad::Array s = ad::squeeze(x, 2);
    SHAPE_IS(s, 1, 2, 3);
    SHAPE_IS(x.squeeze({0, -2}), 2, 3);
    SHAPE_IS(ad::squeeze(ad::zeros({1, 1})), 1);  // no axis left: (1,), as in MXNet
    THROWS(AD_ERR_SHAPE, "length 2", (void)ad::squeeze(x, 1));
    THROWS(AD_ERR_SHAPE, "out of range", (void)x.squeeze(4));
    x += 100;
    VALUES_ARE(s, 0, 0, 1, 2, 3, 4, 5);  // a new array, as MXNet's

    ad::Array m = range2(2, 3, ad::float64);
    SHAPE_IS(ad::expand_dims(m, -1), 2, 3, 1);
    SHAPE_IS(m.expand_dims(0), 1, 2, 3);
    THROWS(AD_ERR_SHAPE, "out of range", (void)ad::expand_dims(m, 3));

    VALUES_ARE(ad::flip(m, 0), 0, 3, 4, 5, 0, 1, 2);
    VALUES_ARE(m.flip({0, 1}), 0, 5, 4, 3, 2, 1, 0);
    VALUES_ARE(m.flip({1, 1}), 0, 0, 1, 2, 3, 4, 5);  // reversed twice
    THROWS(AD_ERR_SHAPE, "out of range", (void)ad::flip(m, 2));

    ad::Array t = ad::tile(m, {2, 1, 2});
    SHAPE_IS(t, 2, 2, 6);
    VALUES_ARE(ad::tile(ad::Array({1, 2}), {2}), 0, 1, 2, 1, 2);
    SHAPE_IS(m.tile({3}), 2, 9);
    THROWS(AD_ERR_SHAPE, "tile", (void)ad::tile(m, {SIZE_MAX, 2}));

    ad::Array r = ad::repeat(m, 2, 1);
    SHAPE_IS(r, 2, 6);
    VALUES_ARE(r, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5);
    SHAPE_IS(m.repeat(2), 12);
    VALUES_ARE(ad::repeat(ad::Array({1, 2}), 3), 0, 1, 1, 1, 2, 2, 2);
    THROWS(AD_ERR_SHAPE, "out of range", (void)m.repeat(2, -3));

    ad::Array c = range2(6, 4);
    SHAPE_IS(ad::swapaxes(c, 0, -1), 4, 6);
    VALUES_ARE(ad::swapaxes(range2(2, 2), 0, 1), 0, 0, 2, 1, 3);
    SHAPE_IS(c.swapaxes(), 6, 4);  // MXNet's defaults: axes 0 and 0
    THROWS(AD_ERR_SHAPE, "out of range", (void)c.swapaxes(0, 2));

    ad::Array cube = ad::zeros({2, 3, 4});
    SHAPE_IS(ad::moveaxis(cube, 0, -1), 3, 4, 2);
    SHAPE_IS(ad::moveaxis(cube, {0, 1}, {2, 0}), 3, 4, 2);
    VALUES_ARE(ad::moveaxis(range2(2, 3), 0, 1), 0, 0, 3, 1, 4, 2, 5);
    THROWS(AD_ERR_INVALID_ARGUMENT, "", (void)ad::moveaxis(c, 0, {1, 0}));
    THROWS(AD_ERR_SHAPE, "", (void)ad::moveaxis(cube, {0, 0}, {1, 2}));

    ad::Array row({1, 2, 3}, {1, 3}), big = range2(5, 3);
    ad::Array b = ad::broadcast_like(row, big);
    SHAPE_IS(b, 5, 3);
    VALUES_ARE(b.sum(0), 0, 5, 10, 15);
    SHAPE_IS(row.broadcast_like(big, 0, 1), 3, 3);
    THROWS(AD_ERR_SHAPE, "(5, 3)", (void)big.broadcast_like(row));
    THROWS(AD_ERR_INVALID_ARGUMENT, "", (void)ad::broadcast_like(row, big, {0}, {0, 1}));

    // (6, 4) with its first axis replaced by (2, 3)'s axes.
    ad::Array like = range2(2, 3);
    SHAPE_IS(ad::reshape_like(c, like, 0, 1), 2, 3, 4);
    SHAPE_IS(c.reshape_like(ad::zeros({4, 6})), 4, 6);
    SHAPE_IS(c.reshape_like(ad::zeros({5, 2, 3}), 0, 1, 1, ad::none), 2, 3, 4);
    THROWS(AD_ERR_SHAPE, "size 24", (void)ad::reshape_like(c, like));

    // MXNet's codes: a view, as reshape() is.
    ad::Array v = c.reshape_codes({-4, 2, -1, 0});
    SHAPE_IS(v, 2, 3, 4);
    SHAPE_IS(ad::reshape_codes(c, {0, -1}), 6, 4);
    SHAPE_IS(ad::reshape_codes(ad::zeros({2, 3, 4}), {-1, 0}, true), 6, 4);
    SHAPE_IS(ad::reshape_codes(ad::zeros({2, 3, 4}), {-3, -2}), 6, 4);
    c += 100;
    VALUES_ARE(v[0][0], 0, 100, 101, 102, 103);
    THROWS(AD_ERR_SHAPE, "more than one -1", (void)c.reshape_codes({-1, -1}));
}

static void split() {
    ad::Array m = range2(4, 3);
    std::vector<ad::Array> parts = ad::split(m, 2, 0);
    CHECK(parts.size() == 2);
    SHAPE_IS(parts[1], 2, 3);
    VALUES_ARE(parts[1], 0, 6, 7, 8, 9, 10, 11);
    m += 100;
    VALUES_ARE(parts[0], 0, 0, 1, 2, 3, 4, 5);  // new arrays, also where a view would do
    std::vector<ad::Array> cols = m.split(3, 1, true);
    CHECK(cols.size() == 3);
    SHAPE_IS(cols[2], 4);
    VALUES_ARE(cols[2], 0, 102, 105, 108, 111);
    CHECK(m.split(1).size() == 1);  // MXNet's default axis, 1
    CHECK(ad::split(ad::zeros({0, 2}), 1, 0).size() == 1);

    const long before = ad::live_handles();
    THROWS(AD_ERR_SHAPE, "2 parts", (void)ad::split(m, 2, 1));
    THROWS(AD_ERR_SHAPE, "length num_outputs", (void)ad::split(m, 2, 0, true));
    THROWS(AD_ERR_SHAPE, "out of range", (void)ad::split(m, 2, 2));
    THROWS(AD_ERR_INVALID_ARGUMENT, "num_outputs", (void)ad::split(m, 0));
    // More parts than any axis is long: refused before room is made for them.
    THROWS(AD_ERR_SHAPE, "ad::split", (void)ad::split(m, SIZE_MAX, 0));
    THROWS(AD_ERR_NULL_ARGUMENT, "ad_split", (void)ad::split(ad::Array(), SIZE_MAX));
    CHECK(ad::live_handles() == before);
}

static void take_put_pick() {
    ad::Array a = range2(3, 2);
    ad::Array inside({2, 0}), odd({-1, 5, 1.7, 2.5, -0.5}, ad::float64);
    VALUES_ARE(ad::take(a, inside), 0, 4, 5, 0, 1);
    ad::Array t = a.take(odd, 0, ad::IndexMode::Clip);
    SHAPE_IS(t, 5, 2);
    VALUES_ARE(t, 0, 0, 1, 4, 5, 2, 3, 4, 5, 0, 1);
    t = ad::take(a, odd, 1, ad::IndexMode::Wrap);
    SHAPE_IS(t, 3, 5);
    VALUES_ARE(t, 0, 1, 1, 1, 0, 0, 3, 3, 3, 2, 2, 5, 5, 5, 4, 4);
    THROWS(AD_ERR_INDEX, "out of range for an axis of length 3", (void)ad::take(a, odd));
    THROWS(AD_ERR_INDEX, "", (void)a.take(ad::Array({NAN}), 0, ad::IndexMode::Wrap));
    THROWS(AD_ERR_SHAPE, "out of range", (void)a.take(inside, 2));

    // The gradient adds repeated positions back.
    ad::Array x({0, 1, 2, 3, 4, 5}, {3, 2}, ad::float64), at({0, 2, 0, -1, 9}, ad::float64);
    x.attach_grad();
    ad::Array y;
    {
        ad::Record record;
        y = x.take(at, 0, ad::IndexMode::Clip);
    }
    y.backward(ad::arange(0, 10, 1, ad::float64).reshape(5, 2));
    VALUES_ARE(x.grad(), 0, 10, 13, 0, 0, 10, 12);

    // put: flat positions, in place, the last write to a position staying; seen through
    // every Array sharing the data.
    ad::Array shared = a;
    a.put(ad::Array({0, 1, 4, 5}, {2, 2}, ad::float64), ad::Array({7, 8}));
    VALUES_ARE(shared, 0, 7, 8, 2, 3, 7, 8);
    ad::put(a, ad::Array({3, 3}), ad::Array({-1, -2}));
    VALUES_ARE(a, 0, 7, 8, 2, -2, 7, 8);
    a.put(ad::Array({0, 2}), 0.5);
    VALUES_ARE(a, 0, 0.5, 8, 0.5, -2, 7, 8);
    THROWS(AD_ERR_INDEX, "ad_array_put", a.put(ad::Array({0, 6}), ad::Array({1, 2})));
    VALUES_ARE(a, 0, 0.5, 8, 0.5, -2, 7, 8);  // nothing written
    THROWS(AD_ERR_SHAPE, "", ad::put(a, ad::Array({0, 1}), ad::Array({1, 2, 3})));
    {
        ad::Record record;
        ad::Array h = x * 2;
        THROWS(AD_ERR_AUTOGRAD, "", h.put(ad::Array({0}), 1));  // h is in the graph
    }

    // pick with a mode, in MXNet's order; keepdims after it.
    ad::Array p = range2(3, 2), ix({5, -1, 2.7});
    VALUES_ARE(ad::pick(p, ix, 1, ad::IndexMode::Clip), 0, 1, 2, 5);
    VALUES_ARE(ad::pick(p, ix, 1, ad::IndexMode::Wrap), 0, 1, 3, 4);
    SHAPE_IS(ad::pick(p, ix, -1, ad::IndexMode::Wrap, true), 3, 1);
    VALUES_ARE(ad::pick(p, ad::Array({1, 0, 1}), 1, ad::IndexMode::Raise), 0, 1, 2, 5);
    THROWS(AD_ERR_INDEX, "", (void)ad::pick(p, ix, 1, ad::IndexMode::Raise));
    THROWS(AD_ERR_SHAPE, "", (void)ad::pick(p, ix, 2, ad::IndexMode::Clip));
}

static std::string in_dir(const char* name) { return dir + "/" + name; }

static void checkpoints() {
    const long before = ad::live_handles();
    ad::Array w = range2(2, 3), b = ad::arange(0, 4, 1, ad::float64);

    // A list: no names; dtypes and shapes kept.
    ad::save(in_dir("list.npz"), {w, b});
    ad::Checkpoint list = ad::load(in_dir("list.npz"));
    CHECK(list.size() == 2 && !list.empty() && !list.has_names() && list.names().empty());
    CHECK(list.name(1).empty() && list.find("arr_0") == nullptr);
    SHAPE_IS(list[0], 2, 3);
    CHECK(list[0].dtype() == ad::float32 && list[1].dtype() == ad::float64);
    VALUES_ARE(list[0], 0, 0, 1, 2, 3, 4, 5);
    VALUES_ARE(list[1], 0, 0, 1, 2, 3);
    CHECK(ad::live_handles() == before + 4);

    // Named arrays, in the order given (not sorted).
    ad::save(in_dir("named.npz"), {{"weight", w}, {"bias", b}});
    ad::Checkpoint named = ad::load(in_dir("named.npz"));
    CHECK(named.size() == 2 && named.has_names());
    CHECK(named.names() == (std::vector<std::string>{"weight", "bias"}));
    CHECK(named.name(0) == "weight" && named.name(1) == "bias");
    const ad::Checkpoint& view = named;
    CHECK(view.find("bias") == &view[1] && view.find("missing") == nullptr);
    VALUES_ARE(*named.find("weight"), 0, 0, 1, 2, 3, 4, 5);
    double total = 0;
    for (const ad::Array& a : view) total += a.sum().scalar();
    CHECK(total == 15 + 6);

    // A map: in the map's order.
    std::map<std::string, ad::Array> dict{{"b", b}, {"a", w * 2}};
    ad::save(in_dir("map.npz"), dict);
    ad::Checkpoint from_map = ad::load(in_dir("map.npz"));
    CHECK(from_map.names() == (std::vector<std::string>{"a", "b"}));
    VALUES_ARE(from_map[0], 0, 0, 2, 4, 6, 8, 10);

    // One array as a .npy; a Checkpoint saved back keeps its names, or their absence.
    ad::save(in_dir("one.npy"), w);
    ad::Checkpoint one = ad::load(in_dir("one.npy"));
    CHECK(one.size() == 1 && !one.has_names());
    VALUES_ARE(one[0], 0, 0, 1, 2, 3, 4, 5);
    ad::save(in_dir("again.npz"), named);
    CHECK(ad::load(in_dir("again.npz")).names() == named.names());
    ad::save(in_dir("again_list.npz"), list);
    CHECK(!ad::load(in_dir("again_list.npz")).has_names());
    ad::save(in_dir("empty.npz"), std::vector<ad::Array>{});
    CHECK(ad::load(in_dir("empty.npz")).empty());

    // NumPy's own file: numpy.savez(f, weight=a, bias=b).
    ad::Checkpoint numpy = ad::load(fixtures + "/savez_dict.npz");
    CHECK(numpy.names() == (std::vector<std::string>{"weight", "bias"}));
    CHECK(numpy.find("bias") && numpy.find("bias")->dtype() == ad::float64);
    VALUES_ARE(numpy[0], 0, 0, 1, 2, 3, 4, 5);

    // An array taken out of a checkpoint outlives it, and shares the data with its copy.
    ad::Array kept;
    {
        ad::Checkpoint loaded = ad::load(in_dir("named.npz"));
        kept = loaded[0];
        loaded[0] += 1;
    }
    VALUES_ARE(kept, 0, 1, 2, 3, 4, 5, 6);

    // The errors, each with its status; nothing leaks on the way.
    const long with_arrays = ad::live_handles();
    THROWS(AD_ERR_IO, "missing.npz", (void)ad::load(in_dir("missing.npz")));
    THROWS(AD_ERR_IO, "", ad::save(in_dir("no/such/dir.npz"), {w}));
    THROWS(AD_ERR_FORMAT, "", (void)ad::load(fixtures + "/expected.txt"));
    THROWS(AD_ERR_DTYPE, "int16", (void)ad::load(fixtures + "/int16.npy"));
    CHECK(ad::load(fixtures + "/int32.npy")[0].to_vector<std::int32_t>() == (std::vector<std::int32_t>{0, 1, 2, 3}));
    THROWS(AD_ERR_INVALID_ARGUMENT, "", (void)ad::load(""));
    THROWS(AD_ERR_INVALID_ARGUMENT, "NUL", (void)ad::load(in_dir("list.npz") + std::string(1, '\0') + "x"));
    THROWS(AD_ERR_INVALID_ARGUMENT, "NUL", ad::save(in_dir("nul.npz"), {{std::string("a\0b", 3), w}}));
    THROWS(AD_ERR_INVALID_ARGUMENT, "", ad::save(in_dir("twice.npz"), {{"w", w}, {"w", b}}));
    THROWS(AD_ERR_INVALID_ARGUMENT, "", ad::save(in_dir("two.npy"), {w, b}));
    THROWS(AD_ERR_NULL_ARGUMENT, "`arrays`[1]", ad::save(in_dir("hole.npz"), {w, ad::Array()}));
    THROWS(AD_ERR_NULL_ARGUMENT, "\"hole\"", ad::save(in_dir("hole.npz"), {{"w", w}, {"hole", ad::Array()}}));
    CHECK(ad::live_handles() == with_arrays);
    // A failed save leaves the file there as it was.
    THROWS(AD_ERR_INVALID_ARGUMENT, "", ad::save(in_dir("list.npz"), {{"w", w}, {"w", b}}));
    CHECK(ad::load(in_dir("list.npz")).size() == 2);
}

int main(int argc, char** argv) {
    if (argc >= 3) {
        dir = argv[1];
        fixtures = argv[2];
    }
    creation();
    shapes();
    split();
    take_put_pick();
    checkpoints();
    CHECK(ad::live_handles() == 0);
    return check::result();
}
