/*
 * ad.hpp: the C++ API of ad, header-only, over the C ABI of ad.h (C++17).
 *
 *   #include <ad.hpp>
 *
 *   ad::Array x = ad::arange(4).reshape(4, 1);
 *   x.attach_grad();
 *   ad::Array y;
 *   {
 *       ad::Record record;                  // recorded until the end of the block
 *       y = 2 * ad::dot(x.T(), x);
 *   }
 *   y.backward();
 *   std::cout << x.grad() << '\n';          // MXNet's text, as Python's print(x.grad)
 *
 * Conventions:
 * - ad::Array owns one handle of the C API and frees it when destroyed. Moving is cheap and
 *   leaves the source without a handle (valid() is false). Copying makes a new handle on
 *   the same array (ad_array_share): the copy shares the data (an in-place update through
 *   one is seen through the other) and the place in the autograd graph (a copy of a
 *   variable has the variable's gradient). attach_grad
 *   marks the handle it is called on; copies made before it keep what they had. copy() is a
 *   copy of the data in new memory; detach() shares the data without the history.
 * - A failed call throws ad::Error (a std::runtime_error) with the status and the library's
 *   message. With AD_NO_EXCEPTIONS defined before the include (for code compiled without
 *   exceptions) nothing throws: the first failure is kept as this thread's pending error
 *   (ad::last_status(), ad::last_error(), ad::clear_error()), the failed call returns an
 *   Array without a handle (or a zero or empty value), and every later operation on such an
 *   Array fails too, leaving the first error pending. ad::status_of(f) runs `f` and returns
 *   the status of its first failure in both builds.
 * - Element-wise ops broadcast as NumPy does; scalars are doubles rounded to the array's
 *   dtype. Comparisons return arrays of 0 and 1, as in MXNet: `a == b` is not a bool.
 * - Recording and training are per-thread scopes, opened and closed by the guards Record,
 *   Pause, TrainMode and PredictMode (closed by their destructors, also on an exception).
 * - Everything declared noexcept cannot fail.
 */
#ifndef AD_HPP
#define AD_HPP

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ad.h"

#ifdef AD_TRACK_HANDLES
#include <atomic>
#endif

namespace ad {

/* ---------------------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------------------- */

using Status = ad_status;

/* A shape: the length of each axis. */
using Shape = std::vector<std::size_t>;

/* MXNet's dtypes (ad_dtype). The integer and bool ones are made, read, printed, converted
 * (astype), saved and moved by the shape and indexing ops; the ops that compute refuse them.
 * float16 is stored as IEEE binary16 and computed on in float32, with float16 results: make it
 * from floats with a dtype (Array(values, shape, ad::float16)) or astype, and read it as float
 * (to_vector<float>()). */
enum class Dtype : std::uint32_t {
    Float32 = AD_FLOAT32,
    Float64 = AD_FLOAT64,
    Float16 = AD_FLOAT16,
    UInt8 = AD_UINT8,
    Int32 = AD_INT32,
    Int8 = AD_INT8,
    Int64 = AD_INT64,
    Bool = AD_BOOL,
};
inline constexpr Dtype float32 = Dtype::Float32;
inline constexpr Dtype float64 = Dtype::Float64;
inline constexpr Dtype float16 = Dtype::Float16;
inline constexpr Dtype uint8 = Dtype::UInt8;
inline constexpr Dtype int32 = Dtype::Int32;
inline constexpr Dtype int8 = Dtype::Int8;
inline constexpr Dtype int64 = Dtype::Int64;
inline constexpr Dtype bool_ = Dtype::Bool;

/* How backward writes a variable's gradient (ad_grad_req). */
enum class GradReq : std::uint32_t { Null = AD_GRAD_NULL, Write = AD_GRAD_WRITE, Add = AD_GRAD_ADD };

/* What take and pick do with a position outside the axis (ad_index_mode): Raise fails with
 * AD_ERR_INDEX; Clip clips it to the nearer end; Wrap wraps it around (-1 is the last). */
enum class IndexMode : std::uint32_t { Raise = AD_INDEX_RAISE, Clip = AD_INDEX_CLIP, Wrap = AD_INDEX_WRAP };

/* A failed call: the status and the library's message (what()). */
class Error : public std::runtime_error {
public:
    Error(Status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    Status status() const noexcept { return status_; }
    /* "AD_ERR_SHAPE" and the like. */
    const char* status_name() const noexcept { return ad_status_name(static_cast<std::uint32_t>(status_)); }

private:
    Status status_;
};

class Array;

namespace detail {

/* This thread's pending failure in the AD_NO_EXCEPTIONS build, and the one status_of()
 * caught last in the other. */
inline thread_local Status last_status = AD_OK;
inline thread_local std::string last_message;

#ifdef AD_TRACK_HANDLES
/* Handles owned by live Arrays, for tests that nothing leaks (see live_handles()). */
inline std::atomic<long> live_handles{0};
#endif

/* Reports a failure: throws, or keeps the first one as this thread's pending error.
 * Returns false in the AD_NO_EXCEPTIONS build. */
inline bool fail(Status status, const std::string& message) {
#ifdef AD_NO_EXCEPTIONS
    if (last_status == AD_OK) {
        last_status = status;
        last_message = message;
    }
    return false;
#else
    throw Error(status, message);
#endif
}

#ifndef AD_NO_EXCEPTIONS
/* An exception a custom function's callback threw on this thread (not an ad::Error), and the
 * message it gave the library: the call that failed because of it throws it again. */
inline thread_local std::exception_ptr callback_exception;
inline thread_local std::string callback_message;
#endif

/* True when the C call succeeded; otherwise reports it with the library's message. */
inline bool check(Status status) {
    if (status == AD_OK) return true;
#ifndef AD_NO_EXCEPTIONS
    if (callback_exception) {
        std::exception_ptr e = std::exchange(callback_exception, nullptr);
        const std::string message = ad_last_error(), tail = std::exchange(callback_message, std::string());
        if (message.size() >= tail.size() && message.compare(message.size() - tail.size(), tail.size(), tail) == 0) {
            std::rethrow_exception(e);
        }
    }
#endif
    return fail(status, ad_last_error());
}

/* The default dtype of an array made from values of type T: float64 from doubles, float32
 * from anything else (as MXNet's nd.array makes float32 of integers). */
template <class T>
constexpr Dtype dtype_of() noexcept {
    return std::is_same_v<T, double> ? Dtype::Float64 : Dtype::Float32;
}

/* The C element type that holds T's values exactly, as the C API reads and writes them: float,
 * double, the integer of T's size and signedness, or one byte per bool. */
template <class T>
using Exact = std::conditional_t<
    std::is_same_v<T, bool>, unsigned char,
    std::conditional_t<
        std::is_floating_point_v<T>, std::conditional_t<std::is_same_v<T, float>, float, double>,
        std::conditional_t<std::is_unsigned_v<T> && sizeof(T) == 1, std::uint8_t,
                           std::conditional_t<std::is_signed_v<T> && sizeof(T) == 1, std::int8_t,
                                              std::conditional_t<std::is_signed_v<T> && sizeof(T) <= 4, std::int32_t,
                                                                 std::conditional_t<sizeof(T) <= 4, std::int64_t,
                                                                                    std::conditional_t<std::is_signed_v<T>, std::int64_t, double>>>>>>>;

/* The dtype of Exact<T>. */
template <class T>
constexpr Dtype exact_dtype() noexcept {
    using X = Exact<T>;
    if constexpr (std::is_same_v<T, bool>) return Dtype::Bool;
    else if constexpr (std::is_same_v<X, float>) return Dtype::Float32;
    else if constexpr (std::is_same_v<X, double>) return Dtype::Float64;
    else if constexpr (std::is_same_v<X, std::uint8_t>) return Dtype::UInt8;
    else if constexpr (std::is_same_v<X, std::int8_t>) return Dtype::Int8;
    else if constexpr (std::is_same_v<X, std::int32_t>) return Dtype::Int32;
    else return Dtype::Int64;
}

inline std::uint32_t code(Dtype d) noexcept { return static_cast<std::uint32_t>(d); }

}  // namespace detail

/* The status of this thread's pending failure, AD_OK when there is none (AD_NO_EXCEPTIONS),
 * or of the last failure that status_of() caught. */
inline Status last_status() noexcept { return detail::last_status; }

/* The message that goes with last_status(), "" when none. */
inline const char* last_error() noexcept { return detail::last_message.c_str(); }

/* Forgets the pending failure. */
inline void clear_error() noexcept {
    detail::last_status = AD_OK;
    detail::last_message.clear();
}

/* Runs `f` and returns the status of its first failure, or AD_OK; the message is then
 * last_error(). The status-returning form of any piece of code, in both builds. */
template <class F>
Status status_of(F&& f) {
    clear_error();
#ifdef AD_NO_EXCEPTIONS
    std::forward<F>(f)();
#else
    try {
        std::forward<F>(f)();
    } catch (const Error& e) {
        detail::last_status = e.status();
        detail::last_message = e.what();
    }
#endif
    return detail::last_status;
}

#ifdef AD_TRACK_HANDLES
/* How many handles live Arrays own (only with AD_TRACK_HANDLES defined before the include). */
inline long live_handles() noexcept { return detail::live_handles.load(); }
#endif

/* ---------------------------------------------------------------------------------------
 * Indexing
 * ------------------------------------------------------------------------------------- */

/* An open end of a slice: slice(none, none, -1) is Python's [::-1]. */
inline constexpr std::nullopt_t none = std::nullopt;

/* A Python slice start:stop:step of one axis; an open end is none. */
struct Slice {
    std::optional<std::int64_t> start;
    std::optional<std::int64_t> stop;
    std::int64_t step = 1;
};

inline Slice slice(std::optional<std::int64_t> start, std::optional<std::int64_t> stop, std::int64_t step = 1) {
    return Slice{start, stop, step};
}

/* The whole axis, Python's `:`. */
inline const Slice all{};

/* One entry of an index: a position (negative counts from the end; drops the axis) or a
 * slice (keeps it). */
class Index {
public:
    template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
    Index(I position) noexcept : position_(static_cast<std::int64_t>(position)), is_position_(true) {}
    Index(const Slice& s) noexcept : slice_(s) {}

    /* This entry as the C API takes it for an axis of `length` elements: a slice is
     * normalised as Python's slice.indices(length) does. */
    ad_index resolve(std::size_t length) const noexcept {
        if (is_position_) return ad_index{position_, 0, 0};
        const std::int64_t len = length > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())
                                     ? std::numeric_limits<std::int64_t>::max()
                                     : static_cast<std::int64_t>(length);
        const std::int64_t step = slice_.step;
        const std::int64_t lower = step < 0 ? -1 : 0;
        const std::int64_t upper = step < 0 ? len - 1 : len;
        auto bound = [&](const std::optional<std::int64_t>& v, std::int64_t fallback) {
            if (!v) return fallback;
            std::int64_t x = *v;
            if (x < 0) {
                x += len;  // cannot overflow: len >= 0
                return x < lower ? lower : x;
            }
            return x > upper ? upper : x;
        };
        return ad_index{bound(slice_.start, step < 0 ? upper : lower), bound(slice_.stop, step < 0 ? lower : upper),
                        step};
    }

    bool is_position() const noexcept { return is_position_; }
    std::int64_t step() const noexcept { return is_position_ ? 0 : slice_.step; }

private:
    Slice slice_{};
    std::int64_t position_ = 0;
    bool is_position_ = false;
};

/* Axes of a reduction: one axis, a list, or none given (all axes). */
class Axes {
public:
    Axes() = default;
    Axes(std::int64_t axis) : axes_{axis} {}
    Axes(std::initializer_list<std::int64_t> axes) : axes_(axes) {}
    Axes(std::vector<std::int64_t> axes) : axes_(std::move(axes)) {}
    const std::int64_t* data() const noexcept { return axes_.data(); }
    std::size_t size() const noexcept { return axes_.size(); }

private:
    std::vector<std::int64_t> axes_;
};

/* ---------------------------------------------------------------------------------------
 * Array
 * ------------------------------------------------------------------------------------- */

template <class E>
class Borrowed;

class Array {
public:
    /* An Array without a handle; assign one to it. */
    Array() noexcept = default;

    /* Takes ownership of a handle made by the C API (NULL gives an Array without one). */
    explicit Array(ad_array* handle) noexcept : handle_(handle) {
#ifdef AD_TRACK_HANDLES
        if (handle_) ++detail::live_handles;
#endif
    }

    /* A 1-d array of the values. */
    Array(std::initializer_list<double> values, Dtype dtype = Dtype::Float32)
        : Array(values.begin(), values.size(), Shape{values.size()}, dtype) {}

    /* An array of `shape` holding the values row-major; their count must be the shape's. */
    Array(std::initializer_list<double> values, const Shape& shape, Dtype dtype = Dtype::Float32)
        : Array(values.begin(), values.size(), shape, dtype) {}

    /* As above from a vector; the dtype follows the element type (double: float64, any
     * other: float32, as MXNet's nd.array) unless given: an integer dtype holds integers
     * exactly, and values of another type are converted as astype converts them. */
    template <class E, std::enable_if_t<std::is_arithmetic_v<E>, int> = 0>
    Array(const std::vector<E>& values, const Shape& shape, Dtype dtype = detail::dtype_of<E>())
        : Array(values.data(), values.size(), shape, dtype) {}

    /* An array of `shape` copied from `data`, which holds as many values as the shape. */
    template <class E, std::enable_if_t<std::is_arithmetic_v<E>, int> = 0>
    Array(const E* data, const Shape& shape, Dtype dtype = detail::dtype_of<E>())
        : Array(data, element_count(shape).value_or(0), shape, dtype) {}

    Array(const Array& other) : Array() {
        if (other.handle_) *this = other.share();
    }
    Array(Array&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }
    Array& operator=(const Array& other) {
        if (this != &other) {
            Array copy(other);
            swap(copy);
        }
        return *this;
    }
    Array& operator=(Array&& other) noexcept {
        Array moved(std::move(other));
        swap(moved);
        return *this;
    }
    ~Array() { reset(); }

    void swap(Array& other) noexcept { std::swap(handle_, other.handle_); }

    /* Frees the handle now; the Array is left without one. */
    void reset() noexcept {
        if (handle_) {
            ad_array_free(handle_);
#ifdef AD_TRACK_HANDLES
            --detail::live_handles;
#endif
            handle_ = nullptr;
        }
    }

    /* The handle, still owned by this Array, for calls into the C API. */
    ad_array* get() const noexcept { return handle_; }

    /* The handle, now the caller's to free with ad_array_free. */
    ad_array* release() noexcept {
#ifdef AD_TRACK_HANDLES
        if (handle_) --detail::live_handles;
#endif
        ad_array* h = handle_;
        handle_ = nullptr;
        return h;
    }

    /* Whether this Array holds a handle: false when default-made, moved from, or the result
     * of a failed call in the AD_NO_EXCEPTIONS build. (No operator bool: `a == b` is an
     * array.) */
    bool valid() const noexcept { return handle_ != nullptr; }

    /* -- what the array is ------------------------------------------------------------- */

    std::size_t ndim() const {
        std::size_t n = 0;
        detail::check(ad_array_ndim(handle_, &n));
        return n;
    }

    std::size_t size() const {
        std::size_t n = 0;
        detail::check(ad_array_size(handle_, &n));
        return n;
    }

    Shape shape() const {
        Shape s(ndim());
        std::size_t unused = 0;  // the C API wants a buffer even for no axes
        if (!detail::check(ad_array_shape(handle_, s.empty() ? &unused : s.data(), s.size()))) return Shape{};
        return s;
    }

    Dtype dtype() const {
        std::uint32_t d = AD_FLOAT32;
        detail::check(ad_array_dtype(handle_, &d));
        return static_cast<Dtype>(d);
    }

    /* The elements, row-major, converted to E as astype converts them (to_vector<int32_t>()
     * of a float array truncates; of an int64 array, keeps the low bits). */
    template <class E>
    std::vector<E> to_vector() const {
        static_assert(std::is_arithmetic_v<E>, "to_vector reads numbers");
        using Read = detail::Exact<E>;
        std::vector<Read> values(size());
        Read unused = 0;
        if (!detail::check(ad_array_read(handle_, detail::code(detail::exact_dtype<E>()),
                                         values.empty() ? &unused : values.data(), values.size()))) {
            return {};
        }
        if constexpr (std::is_same_v<E, Read>) {
            return values;
        } else {
            return std::vector<E>(values.begin(), values.end());
        }
    }

    /* Computes the values now if they are pending (fused element-wise work; see ad.h):
       MXNet's wait_to_read. */
    void wait_to_read() const { detail::check(ad_array_wait_to_read(handle_)); }

    /* The value of a one-element array (MXNet's asscalar). */
    template <class E = double>
    E scalar() const {
        double v = 0;
        if (!detail::check(ad_array_asscalar(handle_, &v))) return E{};
        if constexpr (std::is_floating_point_v<E>) {
            return static_cast<E>(v);
        } else {
            // Integers exactly, converted as astype converts (a double may not hold an int64).
            const std::vector<E> one = to_vector<E>();
            return one.empty() ? E{} : one[0];
        }
    }

    /* MXNet's text for the array, what Python's print(x) shows (without its final newline). */
    std::string str() const {
        std::size_t length = 0;
        if (!detail::check(ad_array_to_string(handle_, nullptr, 0, &length))) return {};
        std::string text(length + 1, '\0');
        if (!detail::check(ad_array_to_string(handle_, &text[0], text.size(), nullptr))) return {};
        text.resize(length);
        return text;
    }

    /* -- new arrays from this one ------------------------------------------------------ */

    /* The same data with a new shape (one length may be -1): x.reshape({4, 1}), x.reshape(4, 1). */
    Array reshape(const std::vector<std::int64_t>& shape) const {
        return make([&](ad_array** out) { return ad_array_reshape(handle_, shape.data(), shape.size(), out); });
    }
    template <class... I, std::enable_if_t<(sizeof...(I) > 0) && (std::is_integral_v<I> && ...), int> = 0>
    Array reshape(I... lengths) const {
        return reshape(std::vector<std::int64_t>{static_cast<std::int64_t>(lengths)...});
    }

    /* The axes in the order `axes` gives; none given reverses them. */
    Array transpose(const std::vector<std::int64_t>& axes = {}) const {
        return make([&](ad_array** out) { return ad_array_transpose(handle_, axes.data(), axes.size(), out); });
    }
    /* MXNet's x.T. */
    Array T() const { return transpose(); }

    Array broadcast_to(const Shape& shape) const {
        return make([&](ad_array** out) { return ad_array_broadcast_to(handle_, shape.data(), shape.size(), out); });
    }

    /* The same data with a shape given by MXNet's reshape codes (ad_array_reshape_codes),
     * read from the left, or from the right with `reverse`: d > 0 is an axis of length d, 0
     * the next axis of this array, -1 a length inferred from the size (at most one), -2 all
     * the remaining axes, -3 the next two axes merged, -4 d1 d2 the next axis split in two:
     * x.reshape_codes({-4, 2, -1, 0}) of a (6, 4) array is (2, 3, 4). A view, as reshape()
     * is; reshape() reads 0 as a length of 0, this reads it as "keep". Throws AD_ERR_SHAPE
     * for codes that do not fit the shape. */
    Array reshape_codes(const std::vector<std::int64_t>& codes, bool reverse = false) const {
        return make(
            [&](ad_array** out) { return ad_array_reshape_codes(handle_, codes.data(), codes.size(), reverse, out); });
    }

    /* -- shape ops, as MXNet's methods: the free functions ad::squeeze(x, ...) and so on,
     * with this array first; each returns a new array ------------------------------------ */

    inline Array squeeze(const Axes& axis = {}) const;
    inline Array expand_dims(std::int64_t axis) const;
    inline std::vector<Array> split(std::size_t num_outputs, std::int64_t axis = 1, bool squeeze_axis = false) const;
    inline Array flip(const Axes& axis) const;
    inline Array tile(const std::vector<std::size_t>& reps) const;
    inline Array repeat(std::size_t repeats, std::optional<std::int64_t> axis = std::nullopt) const;
    inline Array swapaxes(std::int64_t dim1 = 0, std::int64_t dim2 = 0) const;
    inline Array broadcast_like(const Array& like, const Axes& lhs_axes = {}, const Axes& rhs_axes = {}) const;
    inline Array reshape_like(const Array& rhs, std::optional<std::int64_t> lhs_begin = std::nullopt,
                              std::optional<std::int64_t> lhs_end = std::nullopt,
                              std::optional<std::int64_t> rhs_begin = std::nullopt,
                              std::optional<std::int64_t> rhs_end = std::nullopt) const;
    inline Array take(const Array& indices, std::int64_t axis = 0, IndexMode mode = IndexMode::Raise) const;

    /* Writes `src` into this array in place at the row-major positions `indices` holds
     * (ad_array_put, NumPy's put: x[[0, 2]] = v), src broadcast to indices' shape and
     * converted to this array's dtype; where a position repeats, the last write stays.
     * Everything sharing the data sees it. Throws AD_ERR_INDEX for a position not below
     * size() (nothing is written), AD_ERR_SHAPE for a src that does not broadcast,
     * AD_ERR_AUTOGRAD for an array in the graph inside a Record scope. */
    void put(const Array& indices, const Array& src) {
        detail::check(ad_array_put(handle_, indices.handle_, src.handle_));
    }
    /* As above with `value` at every position. */
    void put(const Array& indices, double value) {
        Array src = filled_like(value);
        if (src.valid()) put(indices, src);
    }

    /* A copy of the data in new memory; gradients flow through it. */
    Array copy() const {
        return make([&](ad_array** out) { return ad_array_copy(handle_, out); });
    }

    /* The same data without the autograd history. */
    Array detach() const {
        return make([&](ad_array** out) { return ad_array_detach(handle_, out); });
    }

    Array astype(Dtype dtype) const {
        return make([&](ad_array** out) { return ad_array_astype(handle_, detail::code(dtype), out); });
    }

    /* Basic indexing, Python's x[1:3, 2]: x(ad::slice(1, 3), 2). A selection contiguous in
     * memory is a view sharing the data (see ad_array_slice); any other is a copy. The result
     * is an Array: assigning to it rebinds it; x.set(index, value) writes into x. */
    template <class... I>
    Array operator()(const I&... index) const {
        return slice(std::vector<Index>{Index(index)...});
    }
    /* x[i]: the sub-array at position i of the first axis. */
    Array operator[](std::int64_t position) const { return slice({Index(position)}); }

    Array slice(const std::vector<Index>& index) const {
        std::vector<ad_index> c;
        if (!resolve(index, c)) return Array();
        return make([&](ad_array** out) { return ad_array_slice(handle_, c.data(), c.size(), out); });
    }

    /* x[index] = src, in place (src broadcast to the selection); an empty index writes the
     * whole array. */
    void set(const std::vector<Index>& index, const Array& src) {
        std::vector<ad_index> c;
        if (resolve(index, c)) detail::check(ad_array_write_slice(handle_, c.data(), c.size(), src.handle_));
    }
    void set(const std::vector<Index>& index, double value) {
        Array src = filled_like(value);
        if (src.valid()) set(index, src);
    }

    /* -- in-place arithmetic (ad_array_update): everything sharing the data sees it ------ */

    Array& operator+=(const Array& src) { return update(src, AD_UPDATE_ADD); }
    Array& operator-=(const Array& src) { return update(src, AD_UPDATE_SUB); }
    Array& operator*=(const Array& src) { return update(src, AD_UPDATE_MUL); }
    Array& operator/=(const Array& src) { return update(src, AD_UPDATE_DIV); }
    Array& operator+=(double s) { return update(filled_like(s), AD_UPDATE_ADD); }
    Array& operator-=(double s) { return update(filled_like(s), AD_UPDATE_SUB); }
    Array& operator*=(double s) { return update(filled_like(s), AD_UPDATE_MUL); }
    Array& operator/=(double s) { return update(filled_like(s), AD_UPDATE_DIV); }

    /* -- autograd ---------------------------------------------------------------------- */

    /* Marks this array as a variable with a zero gradient (MXNet's attach_grad). */
    void attach_grad(GradReq req = GradReq::Write) {
        detail::check(ad_array_attach_grad(handle_, static_cast<std::uint32_t>(req)));
    }
    /* As above, with `gradient` as the gradient buffer (MXNet's mark_variables). */
    void attach_grad(const Array& gradient, GradReq req = GradReq::Write) {
        detail::check(ad_array_attach_grad_with(handle_, gradient.handle_, static_cast<std::uint32_t>(req)));
    }
    /* Asks backward to fill this recorded intermediate's gradient too. */
    void retain_grad() { detail::check(ad_array_retain_grad(handle_)); }
    /* Calls `hook(variable)` during each backward (not ad::grad) as soon as this variable's
     * gradient is final and written into grad(), on the thread that runs backward, in the
     * order gradients become final (the last layer's parameters first): to start reducing a
     * gradient (variable.grad().borrow<float>()) while backward goes on. Replaces any hook;
     * an empty function removes it. An exception the hook throws stops backward, which throws
     * it again; gradients whose hooks already ran stay written (ad_array_set_grad_hook). */
    inline void on_grad_ready(std::function<void(const Array&)> hook);

    /* The gradient, sharing its data (later backward calls change what it shows); an Array
     * without a handle when there is none (MXNet's None). */
    Array grad() const {
        ad_array* g = nullptr;
        detail::check(ad_array_grad(handle_, &g));
        return Array(g);
    }

    /* -- the elements in place, without a copy (ad_array_borrow) ------------------------ */

    /* Reads the elements where they are until the loan is destroyed; E is the array's
     * element type (float for float32, double for float64). A gradient (x.grad()) is read
     * this way too: each backward writes into the same memory. */
    template <class E>
    Borrowed<const E> borrow() const;
    /* As borrow(), writable: counts as an in-place write, so an op that saved this array
     * cannot be differentiated during the loan or after. */
    template <class E>
    Borrowed<E> borrow_mut();

    /* Backpropagates from this array, seeded with ones (a non-scalar head counts as its sum). */
    void backward(bool retain_graph = false) const { detail::check(ad_backward(handle_, nullptr, retain_graph)); }
    /* Backpropagates seeded with `head_grad`. */
    void backward(const Array& head_grad, bool retain_graph = false) const {
        if (require(head_grad, "ad::Array::backward: `head_grad`")) {
            detail::check(ad_backward(handle_, head_grad.handle_, retain_graph));
        }
    }

    /* -- reductions, as MXNet's methods (the free functions take the same arguments) ---- */

    inline Array sum(const Axes& axes = {}, bool keepdims = false) const;
    inline Array mean(const Axes& axes = {}, bool keepdims = false) const;
    inline Array norm(const Axes& axes = {}, bool keepdims = false) const;
    inline Array max(const Axes& axes = {}, bool keepdims = false) const;
    inline Array min(const Axes& axes = {}, bool keepdims = false) const;
    inline Array prod(const Axes& axes = {}, bool keepdims = false) const;
    inline Array nansum(const Axes& axes = {}, bool keepdims = false) const;
    inline Array nanprod(const Axes& axes = {}, bool keepdims = false) const;
    inline Array norm1(const Axes& axes = {}, bool keepdims = false) const;

    /* Calls `c_call(ad_array** out)` and wraps the handle it makes; a failed call gives an
     * Array without a handle (AD_NO_EXCEPTIONS) or throws. */
    template <class F>
    static Array make(F&& c_call) {
        ad_array* out = nullptr;
        Status status = std::forward<F>(c_call)(&out);
        Array result(status == AD_OK ? out : nullptr);
        detail::check(status);
        return result;
    }

    /* Fails (AD_ERR_NULL_ARGUMENT) for an Array without a handle where the C API would read
     * NULL as "none given" instead of refusing it. */
    static bool require(const Array& a, const char* what) {
        return a.valid() || detail::fail(AD_ERR_NULL_ARGUMENT, std::string(what) + " is an ad::Array without a handle");
    }

private:
    template <class E>
    Array(const E* data, std::size_t count, const Shape& shape, Dtype dtype) : Array() {
        const std::optional<std::size_t> expected = element_count(shape);
        if (expected && *expected != count) {
            detail::fail(AD_ERR_SHAPE, "ad::Array: " + std::to_string(count) + " values for a shape of " +
                                           std::to_string(*expected) + " elements");
            return;
        }
        // The values as the C API reads them, in the type that holds them exactly; then, for
        // another dtype, converted by the library as astype converts (defined for NaN and
        // values out of range, where a C++ cast is not).
        using X = detail::Exact<E>;
        std::vector<X> exact;
        const void* src = data;
        if (!std::is_same_v<E, X>) {
            exact.assign(data, data + count);
            src = exact.data();
        }
        const Dtype held = detail::exact_dtype<E>();
        *this = make([&](ad_array** out) {
            return ad_array_create(count ? src : nullptr, shape.data(), shape.size(), detail::code(held), out);
        });
        if (held != dtype && valid()) *this = astype(dtype);
    }

    /* The number of elements of `shape`, or none when it overflows (the C API reports that). */
    static std::optional<std::size_t> element_count(const Shape& shape) noexcept {
        std::size_t n = 1;
        bool overflow = false;
        for (std::size_t len : shape) {
            if (len == 0) return 0;
            if (n > std::numeric_limits<std::size_t>::max() / len) overflow = true;
            n *= len;
        }
        if (overflow) return std::nullopt;
        return n;
    }

    /* A new handle on this array: the same data and place in the graph. */
    Array share() const {
        return make([&](ad_array** out) { return ad_array_share(handle_, out); });
    }

    /* A 0-d array of this array's dtype holding `value`, for scalar updates: it broadcasts
     * to any shape. */
    Array filled_like(double value) const {
        const Dtype d = dtype();
        return make([&](ad_array** out) { return ad_array_full(nullptr, 0, value, detail::code(d), out); });
    }

    Array& update(const Array& src, ad_update_op op) {
        detail::check(ad_array_update(handle_, src.handle_, static_cast<std::uint32_t>(op)));
        return *this;
    }

    bool resolve(const std::vector<Index>& index, std::vector<ad_index>& out) const {
        if (!require(*this, "ad::Array: the indexed array")) return false;
        const Shape s = shape();
        out.reserve(index.size());
        for (std::size_t i = 0; i < index.size(); i++) {
            if (!index[i].is_position() && index[i].step() == 0) {
                return detail::fail(AD_ERR_INVALID_ARGUMENT, "ad::Array index: a slice's step cannot be zero");
            }
            // An entry past the last axis is passed as it is, for the C API to refuse.
            out.push_back(i < s.size() ? index[i].resolve(s[i]) : index[i].resolve(0));
        }
        return true;
    }

    ad_array* handle_ = nullptr;
};

inline void swap(Array& a, Array& b) noexcept { a.swap(b); }

/* Prints exactly what the C API's ad_array_to_string gives (MXNet's format): with a '\n'
 * after it, what Python's print(x) prints. */
inline std::ostream& operator<<(std::ostream& os, const Array& a) { return os << a.str(); }

inline std::string to_string(const Array& a) { return a.str(); }

/* A list of arrays borrowed for one call: ad::concat({a, b}), ad::backward({y, z}), or a
 * std::vector<Array>. It holds the arrays' handles, so it must not outlive them: use it as
 * a parameter only. */
class ArrayList {
public:
    /* One entry of a braced list; unlike std::reference_wrapper it takes temporaries, which
     * live as long as the call's full expression. */
    struct Ref {
        Ref(const Array& a) noexcept : array(&a) {}
        const Array* array;
    };

    ArrayList() = default;
    ArrayList(std::initializer_list<Ref> arrays) {
        handles_.reserve(arrays.size());
        for (const Ref& r : arrays) add(*r.array);
    }
    ArrayList(const std::vector<Array>& arrays) {
        handles_.reserve(arrays.size());
        for (const Array& a : arrays) add(a);
    }
    ArrayList(const Array& a) { add(a); }

    const ad_array* const* data() const noexcept { return handles_.data(); }
    std::size_t size() const noexcept { return handles_.size(); }
    bool empty() const noexcept { return handles_.empty(); }

    /* Fails for an entry without a handle, which the C API would take as "ones" in a list of
     * head gradients. */
    bool require(const char* what) const {
        for (std::size_t i = 0; i < handles_.size(); i++) {
            if (!handles_[i]) {
                return detail::fail(AD_ERR_NULL_ARGUMENT, std::string(what) + "[" + std::to_string(i) +
                                                              "] is an ad::Array without a handle");
            }
        }
        return true;
    }

private:
    void add(const Array& a) { handles_.push_back(a.get()); }
    std::vector<const ad_array*> handles_;
};

/* ---------------------------------------------------------------------------------------
 * Making arrays
 * ------------------------------------------------------------------------------------- */

inline Array zeros(const Shape& shape, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) { return ad_array_zeros(shape.data(), shape.size(), detail::code(dtype), out); });
}

inline Array ones(const Shape& shape, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) { return ad_array_ones(shape.data(), shape.size(), detail::code(dtype), out); });
}

inline Array full(const Shape& shape, double value, Dtype dtype = Dtype::Float32) {
    return Array::make(
        [&](ad_array** out) { return ad_array_full(shape.data(), shape.size(), value, detail::code(dtype), out); });
}

/* start, start + step, ... before stop (NumPy's arange). */
inline Array arange(double start, double stop, double step = 1, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) { return ad_array_arange(start, stop, step, detail::code(dtype), out); });
}
/* 0, 1, ... before stop: MXNet's nd.arange(4). */
inline Array arange(double stop) { return arange(0, stop); }

/* An array of `a`'s shape with every element `value`, of `a`'s dtype unless `dtype` is given
 * (ad_full_like, MXNet's full_like); recorded with a zero gradient. Throws
 * AD_ERR_NULL_ARGUMENT for an Array without a handle. */
inline Array full_like(const Array& a, double value, std::optional<Dtype> dtype = std::nullopt) {
    // Without a handle the C call is left to refuse it, naming itself.
    const Dtype d = dtype ? *dtype : a.valid() ? a.dtype() : Dtype::Float32;
    return Array::make([&](ad_array** out) { return ad_full_like(a.get(), value, detail::code(d), out); });
}
/* Zeros of `a`'s shape (MXNet's zeros_like); throws as full_like. */
inline Array zeros_like(const Array& a, std::optional<Dtype> dtype = std::nullopt) { return full_like(a, 0, dtype); }
/* Ones of `a`'s shape (MXNet's ones_like); throws as full_like. */
inline Array ones_like(const Array& a, std::optional<Dtype> dtype = std::nullopt) { return full_like(a, 1, dtype); }

/* The 1-d array of `num` evenly spaced values from `start` to `stop`, `stop` included when
 * `endpoint` (ad_array_linspace, MXNet's linspace). Throws AD_ERR_INVALID_ARGUMENT when
 * start or stop is not finite. */
inline Array linspace(double start, double stop, std::size_t num, bool endpoint = true, Dtype dtype = Dtype::Float32) {
    return Array::make(
        [&](ad_array** out) { return ad_array_linspace(start, stop, num, endpoint, detail::code(dtype), out); });
}

/* The (N, M) matrix with ones on diagonal k (0 the main one, positive above it, negative
 * below) and zeros elsewhere; M = 0 makes it (N, N) (ad_array_eye, MXNet's eye). Throws
 * AD_ERR_ALLOC when it is too large. */
inline Array eye(std::size_t N, std::size_t M = 0, std::int64_t k = 0, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) { return ad_array_eye(N, M, k, detail::code(dtype), out); });
}

namespace random {

/* Reseeds the process-wide generator: the same seed gives the same draws. */
inline void seed(std::uint64_t s) { detail::check(ad_random_seed(s)); }

/* Draws from N(loc, scale²) (MXNet's nd.random.normal). */
inline Array normal(double loc = 0, double scale = 1, const Shape& shape = {1}, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) {
        return ad_random_normal(loc, scale, shape.data(), shape.size(), detail::code(dtype), out);
    });
}

/* Draws from U[low, high). */
inline Array uniform(double low = 0, double high = 1, const Shape& shape = {1}, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) {
        return ad_random_uniform(low, high, shape.data(), shape.size(), detail::code(dtype), out);
    });
}

/* Draws from the exponential distribution with mean `scale` (MXNet's nd.random.exponential);
 * throws AD_ERR_INVALID_ARGUMENT unless scale is finite and > 0. */
inline Array exponential(double scale = 1, const Shape& shape = {1}, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) {
        return ad_random_exponential(scale, shape.data(), shape.size(), detail::code(dtype), out);
    });
}

/* Draws from the gamma distribution with shape `alpha` and scale `beta` (MXNet's
 * nd.random.gamma); throws AD_ERR_INVALID_ARGUMENT unless both are finite and > 0. */
inline Array gamma(double alpha = 1, double beta = 1, const Shape& shape = {1}, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) {
        return ad_random_gamma(alpha, beta, shape.data(), shape.size(), detail::code(dtype), out);
    });
}

/* Draws from the Poisson distribution with mean `lam`, whole numbers as floats (MXNet's
 * nd.random.poisson); throws AD_ERR_INVALID_ARGUMENT unless lam is finite and >= 0. */
inline Array poisson(double lam = 1, const Shape& shape = {1}, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) {
        return ad_random_poisson(lam, shape.data(), shape.size(), detail::code(dtype), out);
    });
}

/* Whole numbers drawn uniformly from [low, high) (MXNet's nd.random.randint), int32 by default
 * as MXNet's, or int64, or held as float32 or float64; throws AD_ERR_INVALID_ARGUMENT unless
 * low < high, both within the dtype's range (for the floats, ±2^24 or ±2^53, where every whole
 * number is exact), and AD_ERR_DTYPE for another dtype. */
inline Array randint(std::int64_t low, std::int64_t high, const Shape& shape = {1}, Dtype dtype = Dtype::Int32) {
    return Array::make([&](ad_array** out) {
        return ad_random_randint(low, high, shape.data(), shape.size(), detail::code(dtype), out);
    });
}

/* Array parameters (MXNet's nd.random.normal(loc=NDArray, scale=NDArray, shape)): `loc` and
 * `scale` of one shape P and one dtype; the result has shape P + `shape`, each block drawn
 * with its position's parameters. No autograd history (no gradient reaches the parameters);
 * throws AD_ERR_SHAPE or AD_ERR_DTYPE for mismatched parameters, AD_ERR_INVALID_ARGUMENT
 * for a bad one (as the scalar form). */
inline Array normal(const Array& loc, const Array& scale, const Shape& shape = {}, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) {
        return ad_sample_normal(loc.get(), scale.get(), shape.data(), shape.size(), detail::code(dtype), out);
    });
}

/* U[low, high) per element of `low` and `high`, as the array form of normal. */
inline Array uniform(const Array& low, const Array& high, const Shape& shape = {}, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) {
        return ad_sample_uniform(low.get(), high.get(), shape.data(), shape.size(), detail::code(dtype), out);
    });
}

/* The exponential distribution with mean `scale` per element, as the array form of normal. */
inline Array exponential(const Array& scale, const Shape& shape = {}, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) {
        return ad_sample_exponential(scale.get(), shape.data(), shape.size(), detail::code(dtype), out);
    });
}

/* The gamma distribution per element of `alpha` and `beta`, as the array form of normal. */
inline Array gamma(const Array& alpha, const Array& beta, const Shape& shape = {}, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) {
        return ad_sample_gamma(alpha.get(), beta.get(), shape.data(), shape.size(), detail::code(dtype), out);
    });
}

/* The Poisson distribution per element of `lam`, as the array form of normal. */
inline Array poisson(const Array& lam, const Shape& shape = {}, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) {
        return ad_sample_poisson(lam.get(), shape.data(), shape.size(), detail::code(dtype), out);
    });
}

/* Category indices drawn from the rows of probabilities along data's last axis (MXNet's
 * nd.random.multinomial): shape data's shape without its last axis + `shape`, int32 as
 * MXNet's (or uint8, or held as float32 or float64); no autograd history. Throws
 * AD_ERR_INVALID_ARGUMENT for a row that is not a distribution. */
inline Array multinomial(const Array& data, const Shape& shape = {}, Dtype dtype = Dtype::Int32) {
    return Array::make([&](ad_array** out) {
        return ad_sample_multinomial(data.get(), shape.data(), shape.size(), detail::code(dtype), out, nullptr);
    });
}

/* multinomial with get_prob: the draws and the log-probability of each (in data's dtype),
 * which is differentiable with respect to data. */
inline std::pair<Array, Array> multinomial_with_log_prob(const Array& data, const Shape& shape = {},
                                                         Dtype dtype = Dtype::Int32) {
    ad_array* log_prob = nullptr;
    Array draws = Array::make([&](ad_array** out) {
        return ad_sample_multinomial(data.get(), shape.data(), shape.size(), detail::code(dtype), out, &log_prob);
    });
    return {std::move(draws), Array(log_prob)};
}

/* A copy of `data` with its items along the first axis in a random order (MXNet's
 * nd.random.shuffle); not differentiable: the result has no autograd history. */
inline Array shuffle(const Array& data) {
    return Array::make([&](ad_array** out) { return ad_random_shuffle(data.get(), out); });
}

}  // namespace random

/* ---------------------------------------------------------------------------------------
 * Ops
 *
 * The ops of ad.h of one shape each, listed once and wrapped alike; tests/c_api.rs checks
 * that every function of ad.h is in a list or called by name here.
 * ------------------------------------------------------------------------------------- */

/* ad_NAME(a, out): ad::NAME(a). */
#define AD_HPP_UNARY_OPS(X)                                                                                     \
    X(neg) X(exp) X(log) X(sqrt) X(abs) X(square) X(relu) X(sigmoid) X(tanh) X(sin) X(cos) X(tan) X(arcsin)    \
    X(arccos) X(arctan) X(sinh) X(cosh) X(arcsinh) X(arccosh) X(arctanh) X(log2) X(log10) X(log1p) X(expm1)      \
    X(cbrt) X(rcbrt) X(rsqrt) X(reciprocal) X(radians) X(degrees) X(erf) X(gamma) X(gammaln) X(sign) X(floor)   \
    X(ceil) X(round) X(rint) X(trunc) X(fix) X(isnan) X(isinf) X(isfinite) X(flatten)

/* ad_NAME(a, b, out): ad::NAME(a, b), broadcasting. */
#define AD_HPP_BINARY_OPS(X) X(add) X(sub) X(mul) X(div) X(pow) X(maximum) X(minimum)

/* ad_NAME(a, axes, naxes, keepdims, out): ad::NAME(a, axes = all, keepdims = false). */
#define AD_HPP_REDUCE_OPS(X) X(sum) X(mean) X(norm) X(max) X(min) X(prod) X(nansum) X(nanprod) X(norm1)

namespace detail {

using UnaryFn = ad_status (*)(const ad_array*, ad_array**);
using BinaryFn = ad_status (*)(const ad_array*, const ad_array*, ad_array**);
using ScalarFn = ad_status (*)(const ad_array*, double, ad_array**);
using ReduceFn = ad_status (*)(const ad_array*, const std::int64_t*, std::size_t, bool, ad_array**);

inline Array unary(UnaryFn f, const Array& a) {
    return Array::make([&](ad_array** out) { return f(a.get(), out); });
}
inline Array binary(BinaryFn f, const Array& a, const Array& b) {
    return Array::make([&](ad_array** out) { return f(a.get(), b.get(), out); });
}
inline Array scalar(ScalarFn f, const Array& a, double s) {
    return Array::make([&](ad_array** out) { return f(a.get(), s, out); });
}
inline Array reduce(ReduceFn f, const Array& a, const Axes& axes, bool keepdims) {
    return Array::make([&](ad_array** out) { return f(a.get(), axes.data(), axes.size(), keepdims, out); });
}

}  // namespace detail

#define AD_HPP_UNARY(name) \
    inline Array name(const Array& a) { return detail::unary(&ad_##name, a); }
AD_HPP_UNARY_OPS(AD_HPP_UNARY)
#undef AD_HPP_UNARY

#define AD_HPP_BINARY(name) \
    inline Array name(const Array& a, const Array& b) { return detail::binary(&ad_##name, a, b); }
AD_HPP_BINARY_OPS(AD_HPP_BINARY)
#undef AD_HPP_BINARY

#define AD_HPP_REDUCE(name)                                                                       \
    inline Array name(const Array& a, const Axes& axes = {}, bool keepdims = false) {             \
        return detail::reduce(&ad_##name, a, axes, keepdims);                                     \
    }                                                                                             \
    inline Array Array::name(const Axes& axes, bool keepdims) const { return ad::name(*this, axes, keepdims); }
AD_HPP_REDUCE_OPS(AD_HPP_REDUCE)
#undef AD_HPP_REDUCE

/* Array and scalar, on either side. */
inline Array add(const Array& a, double s) { return detail::scalar(&ad_add_scalar, a, s); }
inline Array add(double s, const Array& a) { return detail::scalar(&ad_add_scalar, a, s); }
inline Array sub(const Array& a, double s) { return detail::scalar(&ad_sub_scalar, a, s); }
inline Array sub(double s, const Array& a) { return detail::scalar(&ad_rsub_scalar, a, s); }
inline Array mul(const Array& a, double s) { return detail::scalar(&ad_mul_scalar, a, s); }
inline Array mul(double s, const Array& a) { return detail::scalar(&ad_mul_scalar, a, s); }
inline Array div(const Array& a, double s) { return detail::scalar(&ad_div_scalar, a, s); }
inline Array div(double s, const Array& a) { return detail::scalar(&ad_rdiv_scalar, a, s); }
inline Array pow(const Array& a, double s) { return detail::scalar(&ad_pow_scalar, a, s); }
inline Array pow(double s, const Array& a) { return detail::scalar(&ad_rpow_scalar, a, s); }
inline Array maximum(const Array& a, double s) { return detail::scalar(&ad_maximum_scalar, a, s); }
inline Array maximum(double s, const Array& a) { return detail::scalar(&ad_maximum_scalar, a, s); }
inline Array minimum(const Array& a, double s) { return detail::scalar(&ad_minimum_scalar, a, s); }
inline Array minimum(double s, const Array& a) { return detail::scalar(&ad_minimum_scalar, a, s); }

inline Array operator+(const Array& a, const Array& b) { return add(a, b); }
inline Array operator-(const Array& a, const Array& b) { return sub(a, b); }
inline Array operator*(const Array& a, const Array& b) { return mul(a, b); }
inline Array operator/(const Array& a, const Array& b) { return div(a, b); }
inline Array operator+(const Array& a, double s) { return add(a, s); }
inline Array operator-(const Array& a, double s) { return sub(a, s); }
inline Array operator*(const Array& a, double s) { return mul(a, s); }
inline Array operator/(const Array& a, double s) { return div(a, s); }
inline Array operator+(double s, const Array& a) { return add(s, a); }
inline Array operator-(double s, const Array& a) { return sub(s, a); }
inline Array operator*(double s, const Array& a) { return mul(s, a); }
inline Array operator/(double s, const Array& a) { return div(s, a); }
inline Array operator-(const Array& a) { return neg(a); }

/* Comparisons: 1 where the relation holds, 0 elsewhere, in the operands' dtype; never
 * recorded. */
enum class Cmp : std::uint32_t {
    Eq = AD_CMP_EQ, Ne = AD_CMP_NE, Lt = AD_CMP_LT, Le = AD_CMP_LE, Gt = AD_CMP_GT, Ge = AD_CMP_GE
};

inline Array compare(const Array& a, const Array& b, Cmp op) {
    return Array::make(
        [&](ad_array** out) { return ad_compare(a.get(), b.get(), static_cast<std::uint32_t>(op), out); });
}
inline Array compare(const Array& a, double s, Cmp op) {
    return Array::make(
        [&](ad_array** out) { return ad_compare_scalar(a.get(), s, static_cast<std::uint32_t>(op), out); });
}

/* `op` with its operands swapped: s < a is a > s. */
constexpr Cmp swapped(Cmp op) noexcept {
    return op == Cmp::Lt ? Cmp::Gt : op == Cmp::Gt ? Cmp::Lt : op == Cmp::Le ? Cmp::Ge : op == Cmp::Ge ? Cmp::Le : op;
}

#define AD_HPP_COMPARISON(symbol, op)                                                                           \
    inline Array operator symbol(const Array& a, const Array& b) { return compare(a, b, Cmp::op); }           \
    inline Array operator symbol(const Array& a, double s) { return compare(a, s, Cmp::op); }                 \
    inline Array operator symbol(double s, const Array& a) { return compare(a, s, swapped(Cmp::op)); }
AD_HPP_COMPARISON(==, Eq)
AD_HPP_COMPARISON(!=, Ne)
AD_HPP_COMPARISON(<, Lt)
AD_HPP_COMPARISON(<=, Le)
AD_HPP_COMPARISON(>, Gt)
AD_HPP_COMPARISON(>=, Ge)
#undef AD_HPP_COMPARISON

/* MXNet's nd.dot: the matrix product of 1-d and 2-d arrays; for N-d arrays the sum product
 * over a's last axis and b's first. */
inline Array dot(const Array& a, const Array& b, bool transpose_a = false, bool transpose_b = false) {
    return Array::make([&](ad_array** out) { return ad_dot(a.get(), b.get(), transpose_a, transpose_b, out); });
}

/* MXNet's nd.batch_dot: (..., m, k) · (..., k, n) matrix by matrix over the leading axes. */
inline Array batch_dot(const Array& a, const Array& b, bool transpose_a = false, bool transpose_b = false) {
    return Array::make([&](ad_array** out) { return ad_batch_dot(a.get(), b.get(), transpose_a, transpose_b, out); });
}

inline Array softmax(const Array& a, std::int64_t axis = -1) {
    return Array::make([&](ad_array** out) { return ad_softmax(a.get(), axis, out); });
}

inline Array log_softmax(const Array& a, std::int64_t axis = -1) {
    return Array::make([&](ad_array** out) { return ad_log_softmax(a.get(), axis, out); });
}

/* The mean over rows of -log softmax(logits)[label] (the sum with `sum`); shape (1,). */
inline Array softmax_cross_entropy(const Array& logits, const Array& labels, bool sum = false) {
    return Array::make([&](ad_array** out) { return ad_softmax_cross_entropy(logits.get(), labels.get(), sum, out); });
}

inline Array pick(const Array& a, const Array& index, std::int64_t axis = -1, bool keepdims = false) {
    return Array::make([&](ad_array** out) { return ad_pick(a.get(), index.get(), axis, keepdims, out); });
}
/* pick with MXNet's `mode`, in MXNet's order (data, index, axis, mode, keepdims)
 * (ad_pick_mode): Raise is pick above; with Clip and Wrap each position is truncated towards
 * zero, then clipped to the axis or wrapped around it. Throws AD_ERR_INDEX for a position
 * out of range with Raise, AD_ERR_SHAPE for an index of the wrong shape or a bad axis. */
inline Array pick(const Array& a, const Array& index, std::int64_t axis, IndexMode mode, bool keepdims = false) {
    return Array::make([&](ad_array** out) {
        return ad_pick_mode(a.get(), index.get(), axis, keepdims, static_cast<std::uint32_t>(mode), out);
    });
}

inline Array one_hot(const Array& indices, std::size_t depth, double on_value = 1, double off_value = 0,
                     Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) {
        return ad_one_hot(indices.get(), depth, on_value, off_value, detail::code(dtype), out);
    });
}

/* Running sums along `axis`, or along the flattened array when none is given (NumPy's cumsum). */
inline Array cumsum(const Array& a, std::optional<std::int64_t> axis = std::nullopt) {
    return Array::make([&](ad_array** out) { return ad_cumsum(a.get(), axis ? &*axis : nullptr, out); });
}

/* `a` sorted along `axis` (the flattened array when none is given); differentiable. */
inline Array sort(const Array& a, std::optional<std::int64_t> axis = -1, bool is_ascend = true) {
    return Array::make([&](ad_array** out) { return ad_sort(a.get(), axis ? &*axis : nullptr, is_ascend, out); });
}

/* The positions that sort `a` along `axis`, as floats of `dtype`. */
inline Array argsort(const Array& a, std::optional<std::int64_t> axis = -1, bool is_ascend = true,
                     Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) {
        return ad_argsort(a.get(), axis ? &*axis : nullptr, is_ascend, detail::code(dtype), out);
    });
}

/* MXNet's topk: the k largest (smallest with is_ascend) along `axis`, as values, positions
 * (floats of `dtype`) or a mask, as `ret_typ` says (an ad_topk_ret). */
inline Array topk(const Array& a, std::optional<std::int64_t> axis = -1, std::int64_t k = 1,
                  ad_topk_ret ret_typ = AD_TOPK_INDICES, bool is_ascend = false, Dtype dtype = Dtype::Float32) {
    return Array::make([&](ad_array** out) {
        return ad_topk(a.get(), axis ? &*axis : nullptr, k, static_cast<std::uint32_t>(ret_typ), is_ascend,
                       detail::code(dtype), out);
    });
}

/* Positions of the maxima along `axis`, or over the flattened array when none is given. */
inline Array argmax(const Array& a, std::optional<std::int64_t> axis = std::nullopt, bool keepdims = false) {
    return Array::make([&](ad_array** out) { return ad_argmax(a.get(), axis ? &*axis : nullptr, keepdims, out); });
}

inline Array argmin(const Array& a, std::optional<std::int64_t> axis = std::nullopt, bool keepdims = false) {
    return Array::make([&](ad_array** out) { return ad_argmin(a.get(), axis ? &*axis : nullptr, keepdims, out); });
}

inline Array clip(const Array& a, double a_min, double a_max) {
    return Array::make([&](ad_array** out) { return ad_clip(a.get(), a_min, a_max, out); });
}

/* Elements of `a` where `condition` is non-zero, of `b` elsewhere. */
inline Array where(const Array& condition, const Array& a, const Array& b) {
    return Array::make([&](ad_array** out) { return ad_where(condition.get(), a.get(), b.get(), out); });
}

/* MXNet's FullyConnected: x · weightᵀ + bias. */
inline Array fully_connected(const Array& x, const Array& weight, const Array& bias, bool flatten = true) {
    if (!Array::require(bias, "ad::fully_connected: `bias`")) return Array();
    return Array::make(
        [&](ad_array** out) { return ad_fully_connected(x.get(), weight.get(), bias.get(), flatten, out); });
}
/* Without a bias. */
inline Array fully_connected(const Array& x, const Array& weight, bool flatten = true) {
    return Array::make([&](ad_array** out) { return ad_fully_connected(x.get(), weight.get(), nullptr, flatten, out); });
}

inline Array concat(const ArrayList& arrays, std::int64_t axis = 1) {
    if (!arrays.require("ad::concat: `arrays`")) return Array();
    return Array::make([&](ad_array** out) { return ad_concat(arrays.data(), arrays.size(), axis, out); });
}

inline Array stack(const ArrayList& arrays, std::int64_t axis = 0) {
    if (!arrays.require("ad::stack: `arrays`")) return Array();
    return Array::make([&](ad_array** out) { return ad_stack(arrays.data(), arrays.size(), axis, out); });
}

/* -- shape ops in MXNet's terms: each returns a new array, never a view, but reshape_codes
 * (a view, as Array::reshape is); negative axes count from the end ----------------------- */

/* `a` without the axes of length 1 that `axis` names, or without every axis of length 1 when
 * none is named (ad_squeeze, MXNet's squeeze with axis=None; an empty list names none too,
 * where MXNet's axis=() removes nothing); with no axis left the result has shape (1,).
 * Throws AD_ERR_SHAPE for an axis out of range, of another length, or named twice. */
inline Array squeeze(const Array& a, const Axes& axis = {}) {
    return Array::make([&](ad_array** out) { return ad_squeeze(a.get(), axis.data(), axis.size(), out); });
}

/* `a` with a new axis of length 1 at `axis`, from -(ndim + 1) to ndim (ad_expand_dims).
 * Throws AD_ERR_SHAPE for an axis out of that range. */
inline Array expand_dims(const Array& a, std::int64_t axis) {
    return Array::make([&](ad_array** out) { return ad_expand_dims(a.get(), axis, out); });
}

/* `a` cut along `axis` into `num_outputs` parts of equal length, each a new array (ad_split,
 * MXNet's split); with `squeeze_axis` the parts lose the cut axis, whose length must then be
 * num_outputs. Throws AD_ERR_SHAPE for an axis out of range or a length that num_outputs
 * does not divide (an axis of length 0 makes one part), AD_ERR_INVALID_ARGUMENT for
 * num_outputs = 0; the vector is empty when it fails (AD_NO_EXCEPTIONS). */
inline std::vector<Array> split(const Array& a, std::size_t num_outputs, std::int64_t axis = 1,
                                bool squeeze_axis = false) {
    std::vector<Array> result;
    // Room for every result before the call, so that no allocation can fail once the
    // handles exist. The C call refuses an Array without a handle, writing nothing.
    std::size_t room = a.valid() ? num_outputs : 0;
    if (room > 1) {
        // No axis is cut into more parts than it has elements: refused before room is made
        // for that many handles.
        std::size_t longest = 0;
        for (std::size_t length : a.shape()) longest = length > longest ? length : longest;
        if (num_outputs > longest) {
            detail::fail(AD_ERR_SHAPE, "ad::split: no axis of the array has " + std::to_string(num_outputs) +
                                           " elements or more, to cut into " + std::to_string(num_outputs) +
                                           " parts of equal length");
            return result;
        }
    }
    std::vector<ad_array*> out(room == 0 ? 1 : room, nullptr);
    result.reserve(room);
    const Status status = ad_split(a.get(), num_outputs, axis, squeeze_axis, out.data());
    if (status == AD_OK) {
        for (std::size_t i = 0; i < num_outputs; i++) result.emplace_back(out[i]);
    }
    detail::check(status);
    return result;
}

/* `a` with its elements in reverse order along each axis of `axis` (ad_flip, MXNet's flip
 * and reverse; an axis named twice is reversed twice). Throws AD_ERR_SHAPE for an axis out of
 * range. */
inline Array flip(const Array& a, const Axes& axis) {
    return Array::make([&](ad_array** out) { return ad_flip(a.get(), axis.data(), axis.size(), out); });
}

/* `a` repeated reps[i] times along axis i, the shorter of its shape and `reps` padded with
 * leading 1s (ad_tile, MXNet's tile). Throws AD_ERR_SHAPE when the result would have too
 * many axes or elements. */
inline Array tile(const Array& a, const std::vector<std::size_t>& reps) {
    return Array::make([&](ad_array** out) { return ad_tile(a.get(), reps.data(), reps.size(), out); });
}

/* Each element of `a` repeated `repeats` times along `axis`, or along the flattened array
 * when none is given (ad_repeat, MXNet's repeat). Throws AD_ERR_SHAPE for an axis out of
 * range or a result of too many elements. */
inline Array repeat(const Array& a, std::size_t repeats, std::optional<std::int64_t> axis = std::nullopt) {
    return Array::make([&](ad_array** out) { return ad_repeat(a.get(), repeats, axis ? &*axis : nullptr, out); });
}

/* `a` with axes dim1 and dim2 exchanged (ad_swapaxes, MXNet's swapaxes). Throws
 * AD_ERR_SHAPE for an axis out of range. */
inline Array swapaxes(const Array& a, std::int64_t dim1 = 0, std::int64_t dim2 = 0) {
    return Array::make([&](ad_array** out) { return ad_swapaxes(a.get(), dim1, dim2, out); });
}

/* `a` with the axes `source` moved to the positions `destination`, the others kept in their
 * order (ad_moveaxis, MXNet's moveaxis): ad::moveaxis(x, 0, -1), ad::moveaxis(x, {0, 1},
 * {2, 0}). Throws AD_ERR_SHAPE for an axis out of range or named twice,
 * AD_ERR_INVALID_ARGUMENT for lists of different lengths. */
inline Array moveaxis(const Array& a, const Axes& source, const Axes& destination) {
    return Array::make([&](ad_array** out) {
        return ad_moveaxis(a.get(), source.data(), source.size(), destination.data(), destination.size(), out);
    });
}

/* `a` broadcast to the shape of `like` (ad_broadcast_like, MXNet's broadcast_like); with
 * axes, axis lhs_axes[i] of `a` (of length 1) takes the length of axis rhs_axes[i] of
 * `like`. Throws AD_ERR_SHAPE for shapes or axes that do not fit,
 * AD_ERR_INVALID_ARGUMENT for lists of different lengths. */
inline Array broadcast_like(const Array& a, const Array& like, const Axes& lhs_axes = {}, const Axes& rhs_axes = {}) {
    return Array::make([&](ad_array** out) {
        return ad_broadcast_like(a.get(), like.get(), lhs_axes.data(), lhs_axes.size(), rhs_axes.data(),
                                 rhs_axes.size(), out);
    });
}

/* `lhs` reshaped like `rhs` (ad_reshape_like, MXNet's reshape_like): to rhs's shape, or, with
 * any bound given, with the axes lhs_begin..lhs_end (exclusive) of lhs replaced by the axes
 * rhs_begin..rhs_end of rhs (a begin not given is 0, an end not given the number of axes).
 * Throws AD_ERR_SHAPE for an empty or out-of-range range, or a shape of another size. */
inline Array reshape_like(const Array& lhs, const Array& rhs, std::optional<std::int64_t> lhs_begin = std::nullopt,
                          std::optional<std::int64_t> lhs_end = std::nullopt,
                          std::optional<std::int64_t> rhs_begin = std::nullopt,
                          std::optional<std::int64_t> rhs_end = std::nullopt) {
    const auto at = [](const std::optional<std::int64_t>& v) { return v ? &*v : nullptr; };
    return Array::make([&](ad_array** out) {
        return ad_reshape_like(lhs.get(), rhs.get(), at(lhs_begin), at(lhs_end), at(rhs_begin), at(rhs_end), out);
    });
}

/* MXNet's reshape codes (see Array::reshape_codes), as a free function: a view on `a`'s
 * data. Throws AD_ERR_SHAPE for codes that do not fit the shape. */
inline Array reshape_codes(const Array& a, const std::vector<std::int64_t>& codes, bool reverse = false) {
    return a.reshape_codes(codes, reverse);
}

/* The slices of `a` along `axis` at the positions `indices` holds (ad_take, MXNet's take):
 * a's shape with `axis` replaced by indices' shape; a fraction is truncated towards zero.
 * `mode` says what a position outside the axis does; the default, Raise, reports it where
 * MXNet's default clips it. The gradient adds each slice's back at its position. Throws
 * AD_ERR_INDEX for a position outside the axis with Raise (and NaN with any mode),
 * AD_ERR_SHAPE for an axis out of range. */
inline Array take(const Array& a, const Array& indices, std::int64_t axis = 0, IndexMode mode = IndexMode::Raise) {
    return Array::make([&](ad_array** out) {
        return ad_take(a.get(), indices.get(), axis, static_cast<std::uint32_t>(mode), out);
    });
}

/* np.put(a, indices, src): a.put(indices, src), in place; throws as Array::put. */
inline void put(Array& a, const Array& indices, const Array& src) { a.put(indices, src); }
inline void put(Array& a, const Array& indices, double value) { a.put(indices, value); }

inline Array Array::squeeze(const Axes& axis) const { return ad::squeeze(*this, axis); }
inline Array Array::expand_dims(std::int64_t axis) const { return ad::expand_dims(*this, axis); }
inline std::vector<Array> Array::split(std::size_t num_outputs, std::int64_t axis, bool squeeze_axis) const {
    return ad::split(*this, num_outputs, axis, squeeze_axis);
}
inline Array Array::flip(const Axes& axis) const { return ad::flip(*this, axis); }
inline Array Array::tile(const std::vector<std::size_t>& reps) const { return ad::tile(*this, reps); }
inline Array Array::repeat(std::size_t repeats, std::optional<std::int64_t> axis) const {
    return ad::repeat(*this, repeats, axis);
}
inline Array Array::swapaxes(std::int64_t dim1, std::int64_t dim2) const { return ad::swapaxes(*this, dim1, dim2); }
inline Array Array::broadcast_like(const Array& like, const Axes& lhs_axes, const Axes& rhs_axes) const {
    return ad::broadcast_like(*this, like, lhs_axes, rhs_axes);
}
inline Array Array::reshape_like(const Array& rhs, std::optional<std::int64_t> lhs_begin,
                                 std::optional<std::int64_t> lhs_end, std::optional<std::int64_t> rhs_begin,
                                 std::optional<std::int64_t> rhs_end) const {
    return ad::reshape_like(*this, rhs, lhs_begin, lhs_end, rhs_begin, rhs_end);
}
inline Array Array::take(const Array& indices, std::int64_t axis, IndexMode mode) const {
    return ad::take(*this, indices, axis, mode);
}

/* Zeroes elements with probability p in training mode; `a` itself in prediction mode. */
inline Array dropout(const Array& a, double p = 0.5) {
    return Array::make([&](ad_array** out) { return ad_dropout(a.get(), p, out); });
}

/* MXNet's BatchNorm; updates running_mean and running_var in place in training mode. */
inline Array batch_norm(const Array& x, const Array& gamma, const Array& beta, Array& running_mean,
                        Array& running_var, double momentum = 0.9, double eps = 1e-3, std::int64_t axis = 1,
                        bool fix_gamma = true, bool use_global_stats = false) {
    return Array::make([&](ad_array** out) {
        return ad_batch_norm(x.get(), gamma.get(), beta.get(), running_mean.get(), running_var.get(), momentum, eps,
                             axis, fix_gamma, use_global_stats, out);
    });
}

/* -- optimizer updates, in place (MXNet's fused updates) --------------------------------- */

inline void sgd_update(Array& weight, const Array& grad, double lr, double wd = 0, double rescale_grad = 1,
                       double clip_gradient = -1) {
    detail::check(ad_sgd_update(weight.get(), grad.get(), lr, wd, rescale_grad, clip_gradient));
}

inline void sgd_mom_update(Array& weight, const Array& grad, Array& mom, double lr, double momentum = 0,
                           double wd = 0, double rescale_grad = 1, double clip_gradient = -1) {
    detail::check(ad_sgd_mom_update(weight.get(), grad.get(), mom.get(), lr, momentum, wd, rescale_grad, clip_gradient));
}

/* With step count t >= 1 the learning rate is bias-corrected (MXNet's Adam optimizer);
 * t = 0 is exactly nd.adam_update. */
inline void adam_update(Array& weight, const Array& grad, Array& mean, Array& var, double lr, double beta1 = 0.9,
                        double beta2 = 0.999, double epsilon = 1e-8, double wd = 0, double rescale_grad = 1,
                        double clip_gradient = -1, std::uint64_t t = 0) {
    detail::check(ad_adam_update(weight.get(), grad.get(), mean.get(), var.get(), lr, beta1, beta2, epsilon, wd,
                                 rescale_grad, clip_gradient, t));
}

/* rescale_grad and clip_gradient have no effect, as in MXNet (only the gradient's sign counts). */
inline void signsgd_update(Array& weight, const Array& grad, double lr, double wd = 0, double rescale_grad = 1,
                           double clip_gradient = -1) {
    detail::check(ad_signsgd_update(weight.get(), grad.get(), lr, wd, rescale_grad, clip_gradient));
}

inline void signum_update(Array& weight, const Array& grad, Array& mom, double lr, double momentum = 0,
                          double wd = 0, double rescale_grad = 1, double clip_gradient = -1, double wd_lh = 0) {
    detail::check(ad_signum_update(weight.get(), grad.get(), mom.get(), lr, momentum, wd, rescale_grad, clip_gradient,
                                   wd_lh));
}

inline void rmsprop_update(Array& weight, const Array& grad, Array& n, double lr, double gamma1 = 0.95,
                           double epsilon = 1e-8, double wd = 0, double rescale_grad = 1, double clip_gradient = -1,
                           double clip_weights = -1) {
    detail::check(ad_rmsprop_update(weight.get(), grad.get(), n.get(), lr, gamma1, epsilon, wd, rescale_grad,
                                    clip_gradient, clip_weights));
}

inline void rmspropalex_update(Array& weight, const Array& grad, Array& n, Array& g, Array& delta, double lr,
                               double gamma1 = 0.95, double gamma2 = 0.9, double epsilon = 1e-8, double wd = 0,
                               double rescale_grad = 1, double clip_gradient = -1, double clip_weights = -1) {
    detail::check(ad_rmspropalex_update(weight.get(), grad.get(), n.get(), g.get(), delta.get(), lr, gamma1, gamma2,
                                        epsilon, wd, rescale_grad, clip_gradient, clip_weights));
}

inline void ftrl_update(Array& weight, const Array& grad, Array& z, Array& n, double lr, double lamda1 = 0.01,
                        double beta = 1, double wd = 0, double rescale_grad = 1, double clip_gradient = -1) {
    detail::check(ad_ftrl_update(weight.get(), grad.get(), z.get(), n.get(), lr, lamda1, beta, wd, rescale_grad,
                                 clip_gradient));
}

/* The momentum's weight-decay term reads the new weight, as MXNet's update with out=weight. */
inline void nag_mom_update(Array& weight, const Array& grad, Array& mom, double lr, double momentum = 0,
                           double wd = 0, double rescale_grad = 1, double clip_gradient = -1) {
    detail::check(ad_nag_mom_update(weight.get(), grad.get(), mom.get(), lr, momentum, wd, rescale_grad, clip_gradient));
}

/* LAMB, first half: updates mean and var, returns the direction g (MXNet's t and wd have no
 * defaults). */
inline Array lamb_update_phase1(const Array& weight, const Array& grad, Array& mean, Array& var, std::uint64_t t,
                                double wd, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-6,
                                bool bias_correction = true, double rescale_grad = 1, double clip_gradient = -1) {
    return Array::make([&](ad_array** out) {
        return ad_lamb_update_phase1(weight.get(), grad.get(), mean.get(), var.get(), beta1, beta2, epsilon, t,
                                     bias_correction, wd, rescale_grad, clip_gradient, out);
    });
}

/* LAMB, second half, in place: r1 and r2 are one-element arrays (the norms of weight and g). */
inline void lamb_update_phase2(Array& weight, const Array& g, const Array& r1, const Array& r2, double lr,
                               double lower_bound = -1, double upper_bound = -1) {
    detail::check(ad_lamb_update_phase2(weight.get(), g.get(), r1.get(), r2.get(), lr, lower_bound, upper_bound));
}

/* ---------------------------------------------------------------------------------------
 * Autograd
 * ------------------------------------------------------------------------------------- */

/* Backpropagates from several heads at once (their gradients summed); `head_grads` is empty
 * (ones) or one per head. */
inline void backward(const ArrayList& heads, const ArrayList& head_grads = {}, bool retain_graph = false,
                     bool train_mode = true) {
    if (!heads.require("ad::backward: `heads`") || !head_grads.require("ad::backward: `head_grads`")) return;
    if (!head_grads.empty() && head_grads.size() != heads.size()) {
        detail::fail(AD_ERR_INVALID_ARGUMENT, "ad::backward: " + std::to_string(heads.size()) + " heads but " +
                                                  std::to_string(head_grads.size()) + " head gradients");
        return;
    }
    detail::check(ad_backward_ex(heads.data(), head_grads.empty() ? nullptr : head_grads.data(), heads.size(),
                                 retain_graph, train_mode));
}

/* The gradients of `heads` with respect to `variables` as new arrays, leaving the variables'
 * own gradients alone (MXNet's autograd.grad). With `create_graph` they are recorded, for
 * higher derivatives; the graph is then kept unless `retain_graph` says otherwise. */
inline std::vector<Array> grad(const ArrayList& heads, const ArrayList& variables, bool create_graph = false,
                               const ArrayList& head_grads = {}, std::optional<bool> retain_graph = std::nullopt,
                               bool train_mode = true) {
    std::vector<Array> result;
    if (!heads.require("ad::grad: `heads`") || !variables.require("ad::grad: `variables`") ||
        !head_grads.require("ad::grad: `head_grads`")) {
        return result;
    }
    if (!head_grads.empty() && head_grads.size() != heads.size()) {
        detail::fail(AD_ERR_INVALID_ARGUMENT, "ad::grad: " + std::to_string(heads.size()) + " heads but " +
                                                  std::to_string(head_grads.size()) + " head gradients");
        return result;
    }
    // Room for every result before the call, so that no allocation can fail once the
    // handles exist.
    std::vector<ad_array*> out(variables.size(), nullptr);
    result.reserve(variables.size());
    const Status status =
        ad_grad(heads.data(), head_grads.empty() ? nullptr : head_grads.data(), heads.size(), variables.data(),
                variables.size(), retain_graph.value_or(create_graph), create_graph, train_mode, out.data());
    if (status == AD_OK) {
        for (ad_array* h : out) result.emplace_back(h);
    }
    detail::check(status);
    return result;
}

inline bool is_recording() noexcept { return ad_is_recording(); }
inline bool is_training() noexcept { return ad_is_training(); }

/* Sets this thread's flags outside the scopes; returns the previous value. */
inline bool set_recording(bool recording) {
    bool previous = false;
    detail::check(ad_set_recording(recording, &previous));
    return previous;
}
inline bool set_training(bool training) {
    bool previous = false;
    detail::check(ad_set_training(training, &previous));
    return previous;
}

namespace detail {

/* A scope of the C API, opened by `begin` and closed by the destructor: scopes nest, and
 * an exception leaving one closes it on the way. */
template <ad_status (*End)(void)>
class Scope {
public:
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    ~Scope() {
        // Only a scope that opened closes one, so that a failed open cannot close the
        // caller's. Closing cannot fail for a scope that is innermost, as RAII keeps it.
        if (open_) End();
    }

protected:
    explicit Scope(ad_status status) : open_(check(status)) {}

private:
    bool open_;
};

}  // namespace detail

/* Records the ops on arrays in the graph until destroyed (MXNet's autograd.record). */
class Record : detail::Scope<&ad_record_end> {
public:
    explicit Record(bool train_mode = true) : Scope(ad_record_begin(train_mode)) {}
};

/* Records nothing until destroyed (MXNet's autograd.pause). */
class Pause : detail::Scope<&ad_pause_end> {
public:
    explicit Pause(bool train_mode = false) : Scope(ad_pause_begin(train_mode)) {}
};

/* Training mode until destroyed, recording unchanged (MXNet's autograd.train_mode). */
class TrainMode : detail::Scope<&ad_train_mode_end> {
public:
    TrainMode() : Scope(ad_train_mode_begin()) {}
};

/* Prediction mode until destroyed, recording unchanged (MXNet's autograd.predict_mode). */
class PredictMode : detail::Scope<&ad_predict_mode_end> {
public:
    PredictMode() : Scope(ad_predict_mode_begin()) {}
};

/* ---------------------------------------------------------------------------------------
 * Memory shared with the caller, without a copy
 * ------------------------------------------------------------------------------------- */

/* A loan of an array's elements (ad_array_borrow), ended when destroyed: data()[0..size())
 * are the elements, row-major, in the array's own memory, valid for the loan's life even
 * after every Array on them is gone. Move-only. */
template <class E>
class Borrowed {
public:
    Borrowed() noexcept = default;
    Borrowed(Borrowed&& other) noexcept
        : loan_(std::exchange(other.loan_, nullptr)), data_(std::exchange(other.data_, nullptr)),
          size_(std::exchange(other.size_, 0)) {}
    Borrowed& operator=(Borrowed&& other) noexcept {
        if (this != &other) {
            release();
            loan_ = std::exchange(other.loan_, nullptr);
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }
    Borrowed(const Borrowed&) = delete;
    Borrowed& operator=(const Borrowed&) = delete;
    ~Borrowed() { release(); }

    E* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    E& operator[](std::size_t i) const noexcept { return data_[i]; }
    E* begin() const noexcept { return data_; }
    E* end() const noexcept { return data_ + size_; }
    /* Whether this holds a loan (false when moved from, or after a failed borrow in the
     * AD_NO_EXCEPTIONS build). */
    bool valid() const noexcept { return loan_ != nullptr; }

    /* Ends the loan now. */
    void release() noexcept {
        if (loan_) ad_borrow_release(loan_);
        loan_ = nullptr;
        data_ = nullptr;
        size_ = 0;
    }

private:
    friend class Array;
    static Borrowed make(const Array& a, bool writable) {
        static_assert(std::is_same_v<std::remove_const_t<E>, float> || std::is_same_v<std::remove_const_t<E>, double>,
                      "arrays hold float (float32) or double (float64)");
        Borrowed b;
        if (!Array::require(a, "ad::Array::borrow: the array")) return b;
        const Dtype want = detail::dtype_of<std::remove_const_t<E>>(), have = a.dtype();
        if (want != have) {
            detail::fail(AD_ERR_DTYPE, std::string("ad::Array::borrow: the array holds ") +
                                           (have == Dtype::Float64 ? "float64 (double)" : "float32 (float)") +
                                           " elements, not " + (want == Dtype::Float64 ? "double" : "float"));
            return b;
        }
        const std::size_t n = a.size();
        void* data = nullptr;
        if (detail::check(ad_array_borrow(a.get(), writable, &data, &b.loan_))) {
            b.data_ = static_cast<E*>(data);
            b.size_ = n;
        }
        return b;
    }

    ad_borrow* loan_ = nullptr;
    E* data_ = nullptr;
    std::size_t size_ = 0;
};

template <class E>
Borrowed<const E> Array::borrow() const {
    return Borrowed<const E>::make(*this, false);
}

template <class E>
Borrowed<E> Array::borrow_mut() {
    return Borrowed<E>::make(*this, true);
}

namespace detail {
inline void call_release(void* release) {
    auto* f = static_cast<std::function<void()>*>(release);
    (*f)();
    delete f;
}
}  // namespace detail

/* An array of `shape` over the caller's memory at `data`, without a copy (ad_array_wrap):
 * the library reads and writes it in place (gradients too, as attach_grad's buffer) and
 * runs `release` once when the last array on it is gone, on whichever thread that is.
 * Without `release` the memory must outlive every array on it. E is float (float32) or
 * double (float64); `data` may be null only for a shape without elements. */
template <class E>
Array wrap(E* data, const Shape& shape, std::function<void()> release = {}) {
    static_assert(std::is_same_v<E, float> || std::is_same_v<E, double>, "arrays hold float or double");
    auto* owned = release ? new std::function<void()>(std::move(release)) : nullptr;
    ad_array* out = nullptr;
    const Status status = ad_array_wrap(data, shape.data(), shape.size(), detail::code(detail::dtype_of<E>()),
                                        owned ? &detail::call_release : nullptr, owned, &out);
    if (status != AD_OK) delete owned;  // not taken: never called
    Array result(status == AD_OK ? out : nullptr);
    detail::check(status);
    return result;
}

/* -- DLPack: arrays exchanged with other libraries without a copy ----------------------- */

/* Exports `a` as a DLPack 1.1 tensor lending its memory (ad_array_to_dlpack); the consumer
 * takes it and calls its deleter once. Read-only (DLPack's flag) unless `writable`, which
 * counts as an in-place write. Null if it failed (with AD_NO_EXCEPTIONS). */
inline DLManagedTensorVersioned* to_dlpack(const Array& a, bool writable = false) {
    DLManagedTensorVersioned* out = nullptr;
    detail::check(ad_array_to_dlpack(a.get(), writable, &out));
    return out;
}

/* As to_dlpack, in DLPack's legacy unversioned form (ad_array_to_dlpack_legacy). */
inline DLManagedTensor* to_dlpack_legacy(const Array& a, bool writable = false) {
    DLManagedTensor* out = nullptr;
    detail::check(ad_array_to_dlpack_legacy(a.get(), writable, &out));
    return out;
}

/* Takes `tensor` (ad_array_from_dlpack): the array shares its memory where it can, or is a
 * copy (`*copied` says which, when given). If it throws, the caller still owns the tensor. */
inline Array from_dlpack(DLManagedTensorVersioned* tensor, bool* copied = nullptr) {
    return Array::make([&](ad_array** out) { return ad_array_from_dlpack(tensor, copied, out); });
}

/* As from_dlpack, for a legacy unversioned tensor (ad_array_from_dlpack_legacy). */
inline Array from_dlpack(DLManagedTensor* tensor, bool* copied = nullptr) {
    return Array::make([&](ad_array** out) { return ad_array_from_dlpack_legacy(tensor, copied, out); });
}

/* ---------------------------------------------------------------------------------------
 * Custom functions: a forward and a backward written in C++, recorded as one op
 * ------------------------------------------------------------------------------------- */

/* What a custom function's callback reaches its call through; valid during the callback. */
class FunctionContext {
public:
    explicit FunctionContext(ad_function_context* ctx) noexcept : ctx_(ctx) {}

    /* In forward: keeps arrays for backward. Inputs and outputs keep their place in the
     * graph, so a backward using them is differentiable again; any other array is a
     * constant to second derivatives. */
    void save(const ArrayList& arrays) { detail::check(ad_function_save(ctx_, arrays.data(), arrays.size())); }
    std::size_t saved_count() const {
        std::size_t n = 0;
        detail::check(ad_function_saved_count(ctx_, &n));
        return n;
    }
    /* The i-th array forward saved. */
    Array saved(std::size_t i) const {
        return Array::make([&](ad_array** out) { return ad_function_saved(ctx_, i, out); });
    }
    /* In backward: whether input i's gradient is wanted. */
    bool needs_grad(std::size_t i) const {
        bool needed = false;
        detail::check(ad_function_needs_grad(ctx_, i, &needed));
        return needed;
    }
    ad_function_context* get() const noexcept { return ctx_; }

private:
    ad_function_context* ctx_;
};

/* forward(ctx, inputs) -> outputs; backward(ctx, output gradients) -> input gradients (an
 * Array without a handle for none). */
using FunctionBody = std::function<std::vector<Array>(FunctionContext&, const std::vector<Array>&)>;

namespace detail {

struct FunctionBodies {
    FunctionBody forward, backward;
};

/* Runs one body for the library: the lent handles as Arrays of their own, the results
 * handed over. What it throws (or, without exceptions, leaves pending) becomes the
 * callback's failure, with its message; an exception other than ad::Error is thrown again
 * by the call that failed because of it. */
inline ad_status run_body(const FunctionBody& body, ad_function_context* ctx, const ad_array* const* arrays,
                          std::size_t n, ad_array** results, std::size_t n_results, const char* which) noexcept {
    const auto fail_with = [&](Status status, const std::string& message) {
        ad_function_set_error(ctx, message.c_str());
        return status;
    };
#ifndef AD_NO_EXCEPTIONS
    try {
#endif
        std::vector<Array> in;
        in.reserve(n);
        for (std::size_t i = 0; i < n; i++) in.push_back(Array::make([&](ad_array** out) { return ad_array_share(arrays[i], out); }));
        FunctionContext context(ctx);
        std::vector<Array> out = body(context, in);
#ifdef AD_NO_EXCEPTIONS
        if (last_status != AD_OK) return fail_with(last_status, last_message);
#endif
        if (out.size() != n_results) {
            return fail_with(AD_ERR_INVALID_ARGUMENT, std::string(which) + " returned " + std::to_string(out.size()) +
                                                          " arrays where " + std::to_string(n_results) + " are wanted");
        }
        for (std::size_t i = 0; i < n_results; i++) results[i] = out[i].release();
        return AD_OK;
#ifndef AD_NO_EXCEPTIONS
    } catch (const Error& e) {
        return fail_with(e.status(), e.what());
    } catch (...) {
        std::string message = "an exception of unknown type";
        try {
            throw;
        } catch (const std::exception& e) {
            message = e.what();
        } catch (...) {
        }
        callback_exception = std::current_exception();
        callback_message = message;
        return fail_with(AD_ERR_INVALID_ARGUMENT, message);
    }
#endif
}

inline ad_status function_forward(void* bodies, ad_function_context* ctx, const ad_array* const* arrays,
                                  std::size_t n, ad_array** results, std::size_t n_results) {
    return run_body(static_cast<FunctionBodies*>(bodies)->forward, ctx, arrays, n, results, n_results, "forward");
}

inline ad_status function_backward(void* bodies, ad_function_context* ctx, const ad_array* const* arrays,
                                   std::size_t n, ad_array** results, std::size_t n_results) {
    return run_body(static_cast<FunctionBodies*>(bodies)->backward, ctx, arrays, n, results, n_results, "backward");
}

inline void function_destroy(void* bodies) { delete static_cast<FunctionBodies*>(bodies); }

}  // namespace detail

/* A differentiable function whose forward and backward are C++ callables (lambdas), with
 * `n_outputs` outputs:
 *
 *   ad::Function square("square",
 *       [](ad::FunctionContext& ctx, const std::vector<ad::Array>& x) {
 *           ctx.save(x[0]);
 *           return std::vector<ad::Array>{x[0] * x[0]};
 *       },
 *       [](ad::FunctionContext& ctx, const std::vector<ad::Array>& dy) {
 *           return std::vector<ad::Array>{2 * ctx.saved(0) * dy[0]};
 *       });
 *   ad::Array y = square(x);
 *
 * Recorded as one op inside a Record scope; backward runs `backward` on the thread that
 * calls backward, recording when it creates a graph (so a backward written with ad's ops
 * gives second derivatives). The callables may be called from several threads at once and
 * live until the last graph that recorded the function is gone. An exception they throw
 * fails the call that ran them, which throws it again (an ad::Error with the library's
 * message naming the function). Move-only. */
class Function {
public:
    Function(const std::string& name, FunctionBody forward, FunctionBody backward, std::size_t n_outputs = 1)
        : n_outputs_(n_outputs) {
        auto* bodies = new detail::FunctionBodies{std::move(forward), std::move(backward)};
        const ad_function_callbacks callbacks{AD_FUNCTION_CALLBACKS_VERSION, &detail::function_forward,
                                              &detail::function_backward, &detail::function_destroy};
        const Status status = ad_function_new(name.c_str(), &callbacks, bodies, &function_);
        if (status != AD_OK) {
            delete bodies;  // not taken
            function_ = nullptr;
        }
        detail::check(status);
    }
    Function(Function&& other) noexcept
        : function_(std::exchange(other.function_, nullptr)), n_outputs_(other.n_outputs_) {}
    Function& operator=(Function&& other) noexcept {
        if (this != &other) {
            if (function_) ad_function_free(function_);
            function_ = std::exchange(other.function_, nullptr);
            n_outputs_ = other.n_outputs_;
        }
        return *this;
    }
    Function(const Function&) = delete;
    Function& operator=(const Function&) = delete;
    ~Function() {
        if (function_) ad_function_free(function_);
    }

    /* The outputs for `inputs`. */
    std::vector<Array> apply(const ArrayList& inputs) const {
        std::vector<Array> result;
        if (!inputs.require("ad::Function: `inputs`")) return result;
        std::vector<ad_array*> out(n_outputs_, nullptr);
        result.reserve(n_outputs_);
        const Status status = ad_function_apply(function_, inputs.data(), inputs.size(), out.data(), out.size());
        if (status == AD_OK) {
            for (ad_array* h : out) result.emplace_back(h);
        }
        detail::check(status);
        return result;
    }

    /* The output of a function of one output. */
    Array operator()(const ArrayList& inputs) const {
        if (n_outputs_ != 1) {
            detail::fail(AD_ERR_INVALID_ARGUMENT, "ad::Function: " + std::to_string(n_outputs_) +
                                                      " outputs; apply() returns them all");
            return Array();
        }
        std::vector<Array> out = apply(inputs);
        return out.empty() ? Array() : std::move(out[0]);
    }

    ad_function* get() const noexcept { return function_; }

private:
    ad_function* function_ = nullptr;
    std::size_t n_outputs_;
};

namespace detail {

using GradReadyHook = std::function<void(const Array&)>;

/* Runs a gradient-ready hook for the library, as run_body runs a function's body: what it
 * throws (or leaves pending) fails the backward, which throws an exception other than
 * ad::Error again. */
inline ad_status grad_hook_call(void* hook, const ad_array* variable) noexcept {
    const auto fail_with = [](Status status, const std::string& message) {
        ad_grad_hook_set_error(message.c_str());
        return status;
    };
#ifndef AD_NO_EXCEPTIONS
    try {
#endif
        Array v = Array::make([&](ad_array** out) { return ad_array_share(variable, out); });
        (*static_cast<GradReadyHook*>(hook))(v);
#ifdef AD_NO_EXCEPTIONS
        if (last_status != AD_OK) return fail_with(last_status, last_message);
#endif
        return AD_OK;
#ifndef AD_NO_EXCEPTIONS
    } catch (const Error& e) {
        return fail_with(e.status(), e.what());
    } catch (...) {
        std::string message = "an exception of unknown type";
        try {
            throw;
        } catch (const std::exception& e) {
            message = e.what();
        } catch (...) {
        }
        callback_exception = std::current_exception();
        callback_message = message;
        return fail_with(AD_ERR_INVALID_ARGUMENT, message);
    }
#endif
}

inline void grad_hook_destroy(void* hook) { delete static_cast<GradReadyHook*>(hook); }

}  // namespace detail

inline void Array::on_grad_ready(std::function<void(const Array&)> hook) {
    if (!hook) {
        detail::check(ad_array_set_grad_hook(handle_, nullptr, nullptr, nullptr));
        return;
    }
    auto* h = new detail::GradReadyHook(std::move(hook));
    const Status status = ad_array_set_grad_hook(handle_, &detail::grad_hook_call, h, &detail::grad_hook_destroy);
    if (status != AD_OK) delete h;  // not taken
    detail::check(status);
}

/* ---------------------------------------------------------------------------------------
 * Checkpoints: arrays saved to NumPy's .npy and .npz files and loaded back (MXNet's nd.save
 * and nd.load)
 * ------------------------------------------------------------------------------------- */

class Checkpoint;
inline Checkpoint load(const std::string& path);

/* The arrays of a file that ad::load read, in the file's order, with their names when the
 * file holds named arrays (where MXNet's nd.load returns a dict; a list otherwise). Its
 * Arrays own their handles, as any Array does: load() took each out of the C API's
 * ad_checkpoint and freed that. Copying a Checkpoint copies the Arrays, which share the data. */
class Checkpoint {
public:
    /* No arrays. */
    Checkpoint() noexcept = default;

    std::size_t size() const noexcept { return arrays_.size(); }
    bool empty() const noexcept { return arrays_.empty(); }
    /* Whether the file held named arrays rather than a list. */
    bool has_names() const noexcept { return named_; }

    /* The i-th array; i must be below size(), as for std::vector's []. */
    Array& operator[](std::size_t i) noexcept { return arrays_[i]; }
    const Array& operator[](std::size_t i) const noexcept { return arrays_[i]; }

    /* The i-th array's name (i below size()); "" when the file held a list. */
    const std::string& name(std::size_t i) const noexcept { return named_ ? names_[i] : no_name_; }

    /* The array named `name`, or null when there is none (always for a list). */
    Array* find(std::string_view name) noexcept {
        for (std::size_t i = 0; i < names_.size(); i++) {
            if (names_[i] == name) return &arrays_[i];
        }
        return nullptr;
    }
    const Array* find(std::string_view name) const noexcept { return const_cast<Checkpoint*>(this)->find(name); }

    /* The arrays, and their names in the same order (no names for a list). */
    const std::vector<Array>& arrays() const noexcept { return arrays_; }
    const std::vector<std::string>& names() const noexcept { return names_; }

    std::vector<Array>::iterator begin() noexcept { return arrays_.begin(); }
    std::vector<Array>::iterator end() noexcept { return arrays_.end(); }
    std::vector<Array>::const_iterator begin() const noexcept { return arrays_.begin(); }
    std::vector<Array>::const_iterator end() const noexcept { return arrays_.end(); }

private:
    friend Checkpoint load(const std::string& path);

    std::vector<Array> arrays_;
    std::vector<std::string> names_;
    bool named_ = false;
    inline static const std::string no_name_;
};

namespace detail {

/* Fails (AD_ERR_INVALID_ARGUMENT) for text holding a NUL character, which the C API would
 * read cut short there. */
inline bool c_text(const std::string& text, const std::string& what) {
    return text.find('\0') == std::string::npos || fail(AD_ERR_INVALID_ARGUMENT, what + " holds a NUL character");
}

/* ad_save of the arrays of `named`, pairs of a name (a std::string) and an Array, in its
 * order. */
template <class Named>
void save_named(const std::string& path, const Named& named) {
    if (!c_text(path, "ad::save: `path`")) return;
    std::vector<const ad_array*> arrays;
    std::vector<const char*> names;
    arrays.reserve(named.size());
    names.reserve(named.size());
    for (const auto& entry : named) {
        const std::string& name = entry.first;
        const Array& array = entry.second;
        if (!c_text(name, "ad::save: name " + std::to_string(names.size())) ||
            !Array::require(array, ("ad::save: the array named \"" + name + "\"").c_str())) {
            return;
        }
        arrays.push_back(array.get());
        names.push_back(name.c_str());
    }
    const char* const no_names = nullptr;  // no names is still a list of names: not NULL
    check(ad_save(path.c_str(), arrays.data(), names.empty() ? &no_names : names.data(), names.size()));
}

}  // namespace detail

/* Saves `arrays` as a list to the file `path` (ad_save), in NumPy's formats: an .npz archive
 * (entries arr_0, arr_1, ..., numpy.savez's) or, for a path ending in .npy, one array as
 * numpy.save writes it. An existing file is replaced only once the new one is complete.
 * ad::save(path, {w, b}); ad::load gives back a list. Throws AD_ERR_IO when the system
 * refuses the file, AD_ERR_NULL_ARGUMENT for an Array without a handle,
 * AD_ERR_INVALID_ARGUMENT for an empty path, one holding a NUL, or several arrays to a .npy. */
inline void save(const std::string& path, const ArrayList& arrays) {
    if (!detail::c_text(path, "ad::save: `path`") || !arrays.require("ad::save: `arrays`")) return;
    detail::check(ad_save(path.c_str(), arrays.data(), nullptr, arrays.size()));
}

/* Saves named arrays in the order given (MXNet's nd.save(fname, {"w": w})), as entries of
 * those names: ad::save(path, {{"w", w}, {"b", b}}); ad::load gives the names back in this
 * order. Throws as above, and AD_ERR_INVALID_ARGUMENT for a name given twice or holding a
 * NUL, or for a .npy path. */
inline void save(const std::string& path, const std::vector<std::pair<std::string, Array>>& named) {
    detail::save_named(path, named);
}

/* As above from a map, in the map's order (sorted by name for std::map's default). */
template <class Compare, class Allocator>
void save(const std::string& path, const std::map<std::string, Array, Compare, Allocator>& named) {
    detail::save_named(path, named);
}

/* Saves what ad::load read: named arrays as named, a list as a list. Throws as above. */
inline void save(const std::string& path, const Checkpoint& checkpoint) {
    if (!checkpoint.has_names()) return save(path, checkpoint.arrays());
    std::vector<std::pair<std::reference_wrapper<const std::string>, std::reference_wrapper<const Array>>> named;
    named.reserve(checkpoint.size());
    for (std::size_t i = 0; i < checkpoint.size(); i++) named.emplace_back(checkpoint.name(i), checkpoint[i]);
    detail::save_named(path, named);
}

/* Loads the arrays of the file `path` (ad_load): a file of ad::save, or NumPy's .npy and .npz
 * files (numpy.save, numpy.savez, numpy.savez_compressed), whatever its name; float32 and
 * float64 elements in either byte order. Returns them with their names, if the file holds
 * names. Throws AD_ERR_IO when the file cannot be opened or read, AD_ERR_FORMAT for a
 * truncated or corrupt one, AD_ERR_DTYPE for elements of another type,
 * AD_ERR_INVALID_ARGUMENT for an empty path or one holding a NUL; the Checkpoint is empty when
 * it fails (AD_NO_EXCEPTIONS). */
inline Checkpoint load(const std::string& path) {
    Checkpoint result;
    if (!detail::c_text(path, "ad::load: `path`")) return result;
    ad_checkpoint* loaded = nullptr;
    if (!detail::check(ad_load(path.c_str(), &loaded))) return result;
    // Frees the C checkpoint, with what it still holds, should copying the names throw.
    struct Free {
        ad_checkpoint* checkpoint;
        ~Free() {
            if (checkpoint) ad_checkpoint_free(checkpoint);
        }
    } guard{loaded};
    // Each handle becomes an Array's and its entry NULL, ad_load's way of keeping one; with
    // the room made first, nothing can fail between the two.
    result.arrays_.reserve(loaded->count);
    for (std::size_t i = 0; i < loaded->count; i++) {
        result.arrays_.emplace_back(loaded->arrays[i]);
        loaded->arrays[i] = nullptr;
    }
    if (loaded->names) {
        result.named_ = true;
        result.names_.reserve(loaded->count);
        for (std::size_t i = 0; i < loaded->count; i++) result.names_.emplace_back(loaded->names[i]);
    }
    guard.checkpoint = nullptr;
    if (!detail::check(ad_checkpoint_free(loaded))) return Checkpoint();
    return result;
}

/* ---------------------------------------------------------------------------------------
 * The library
 * ------------------------------------------------------------------------------------- */

/* "MAJOR.MINOR.PATCH". */
inline const char* version() noexcept { return ad_version(); }

inline const char* status_name(Status status) noexcept { return ad_status_name(static_cast<std::uint32_t>(status)); }

/* Threads that large operations may use, for the whole process (1..1024). */
inline void set_num_threads(std::size_t threads) { detail::check(ad_set_num_threads(threads)); }
inline std::size_t num_threads() noexcept { return ad_num_threads(); }

/* Every fast path off (see ad.h); results agree up to rounding. */
inline void set_reference_mode(bool on) noexcept { ad_set_reference_mode(on); }
inline bool reference_mode() noexcept { return ad_reference_mode(); }

/* The vector instructions ad's own kernels use: "avx512", "avx2" or "portable" (see ad.h). */
inline const char* cpu_level() noexcept { return ad_cpu_level(); }
/* A ceiling on that level, for the whole process: "avx2" or "portable" run a lower level's
   paths; "avx512" or nullptr the best the CPU has. An unknown name fails. */
inline void set_cpu_level(const char* ceiling) { detail::check(ad_set_cpu_level(ceiling)); }

/* Computes every array's pending values now (MXNet's waitall; see ad.h). */
inline void wait_all() noexcept { ad_wait_all(); }

/* Returns the cached memory of freed arrays to the system; the bytes released. */
inline std::size_t release_cached_memory() noexcept {
    std::size_t released = 0;
    return ad_release_cached_memory(&released) == AD_OK ? released : 0;
}

}  // namespace ad

#undef AD_HPP_UNARY_OPS
#undef AD_HPP_BINARY_OPS
#undef AD_HPP_REDUCE_OPS

#endif /* AD_HPP */
