/*
 * ad._ext: the per-op path of the Python binding, in C.
 *
 * Through ctypes a small op costs about 2 us, most of it argument conversion and Python-level
 * wrapper code; the library itself needs about 0.3 us. This module holds the array handle in
 * a C base type (`ArrayBase`, which `ad.ndarray.NDArray` subclasses) and implements the hot
 * paths on it: arithmetic and comparisons with arrays and Python numbers, `asscalar`,
 * `shape`, `dtype`, `grad`, `sum()`/`mean()`/`norm()` without arguments, `backward()` with
 * its defaults, and the autograd scopes. Every other form (numpy operands, axis arguments,
 * ...) calls the Python code registered with `register`, so behaviour does not depend on
 * which path runs. It also lends arrays' memory to other libraries without a copy: as DLPack
 * capsules, and as Python buffers (`Loan`, made by `borrow`).
 *
 * The library is not linked at build time: its functions are looked up with dlsym in the
 * copy that ad._lib has already loaded, so the extension and ctypes share one library (and
 * one set of handles). The ops' functions are not named here: `register` receives them from
 * the package's op table (ad/_ops.py), each in the slot of the operator or method it serves.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>

#include "ad.h"

#if PY_VERSION_HEX < 0x03090000
#define PyObject_Vectorcall _PyObject_Vectorcall
#endif

/* ------------------------------------------------------------------ library functions */

/* Every library function the module looks up by name: return type, name, parameter types. */
#define AD_FUNCTIONS(X)                                                                    \
    X(const char *, ad_last_error, (void))                                                 \
    X(bool, ad_reference_mode, (void))                                                     \
    X(ad_status, ad_array_free, (ad_array *))                                              \
    X(ad_status, ad_array_ndim, (const ad_array *, size_t *))                              \
    X(ad_status, ad_array_shape, (const ad_array *, size_t *, size_t))                     \
    X(ad_status, ad_array_dtype, (const ad_array *, uint32_t *))                           \
    X(ad_status, ad_array_asscalar, (const ad_array *, double *))                          \
    X(ad_status, ad_array_read, (const ad_array *, uint32_t, void *, size_t))              \
    X(ad_status, ad_array_grad, (const ad_array *, ad_array **))                           \
    X(ad_status, ad_array_write_slice, (ad_array *, const ad_index *, size_t, const ad_array *)) \
    X(ad_status, ad_array_update, (ad_array *, const ad_array *, uint32_t))                \
    X(ad_status, ad_backward_ex,                                                           \
      (const ad_array *const *, const ad_array *const *, size_t, bool, bool))              \
    X(ad_status, ad_record_begin, (bool))                                                  \
    X(ad_status, ad_record_end, (void))                                                    \
    X(ad_status, ad_pause_begin, (bool))                                                   \
    X(ad_status, ad_pause_end, (void))                                                     \
    X(ad_status, ad_train_mode_begin, (void))                                              \
    X(ad_status, ad_train_mode_end, (void))                                                \
    X(ad_status, ad_predict_mode_begin, (void))                                            \
    X(ad_status, ad_predict_mode_end, (void))                                              \
    X(ad_status, ad_array_to_dlpack, (const ad_array *, bool, DLManagedTensorVersioned **)) \
    X(ad_status, ad_array_to_dlpack_legacy, (const ad_array *, bool, DLManagedTensor **))  \
    X(ad_status, ad_array_from_dlpack, (DLManagedTensorVersioned *, bool *, ad_array **))  \
    X(ad_status, ad_array_from_dlpack_legacy, (DLManagedTensor *, bool *, ad_array **))    \
    X(ad_status, ad_array_borrow, (const ad_array *, bool, void **, ad_borrow **))         \
    X(ad_status, ad_borrow_release, (ad_borrow *))

/* The prototypes of the op table's kinds (ad/_ops.py), as the fast paths call them. */
typedef ad_status (*unary_fn)(const ad_array *, ad_array **);
typedef ad_status (*binary_fn)(const ad_array *, const ad_array *, ad_array **);
typedef ad_status (*scalar_fn)(const ad_array *, double, ad_array **);
typedef ad_status (*compare_fn)(const ad_array *, const ad_array *, uint32_t, ad_array **);
typedef ad_status (*compare_scalar_fn)(const ad_array *, double, uint32_t, ad_array **);
typedef ad_status (*reduce_fn)(const ad_array *, const int64_t *, size_t, bool, ad_array **);

#define DECLARE(ret, name, params) static ret(*p_##name) params;
AD_FUNCTIONS(DECLARE)

/* Looks the functions up in the library at `path`. The unevaluated assignment checks each
   pointer's type against the prototype in ad.h without referencing the symbol. */
static int resolve(const char *path)
{
    void *lib = NULL;
#ifdef RTLD_NOLOAD
    lib = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
#endif
    if (lib == NULL)
        lib = dlopen(path, RTLD_NOW);
    if (lib == NULL) {
        PyErr_Format(PyExc_ImportError, "ad._ext: cannot open the library %s: %s", path, dlerror());
        return -1;
    }
#define RESOLVE(ret, name, params)                                                          \
    (void)sizeof(p_##name = name);                                                         \
    *(void **)(&p_##name) = dlsym(lib, #name);                                             \
    if (p_##name == NULL) {                                                                \
        PyErr_Format(PyExc_ImportError, "ad._ext: the library %s has no symbol %s", path, #name); \
        return -1;                                                                         \
    }
    AD_FUNCTIONS(RESOLVE)
    {
        /* Each kind's prototype checked the same way against one function of that kind; the
           package's tests check every op's prototype in ad.h against its kind. */
        unary_fn u;
        binary_fn b;
        scalar_fn s;
        compare_fn c;
        compare_scalar_fn cs;
        reduce_fn r;
        (void)sizeof(u = ad_neg);
        (void)sizeof(b = ad_add);
        (void)sizeof(s = ad_add_scalar);
        (void)sizeof(c = ad_compare);
        (void)sizeof(cs = ad_compare_scalar);
        (void)sizeof(r = ad_sum);
    }
    /* The library stays loaded for the life of the process (ad._lib holds it too). */
    return 0;
}

/* ------------------------------------------------------------------ registered Python objects */

/* The fast paths' slots, filled by `register` from the op table: the binary operators
   (array <op> array, array <op> number, number <op> array), negation, the comparisons and the
   reductions; each with the Python code for the forms the fast path leaves to it. */
enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_POW, N_OPS };
static const char *const op_names[N_OPS] = {"add", "sub", "mul", "truediv", "pow"};
static binary_fn op_binary[N_OPS];
static scalar_fn op_scalar[N_OPS], op_rscalar[N_OPS];
static unary_fn neg_fn;
static compare_fn compare_arrays;
static compare_scalar_fn compare_number;

enum { M_SUM, M_MEAN, M_NORM, M_BACKWARD, N_METHODS };
static const char *const method_names[N_METHODS] = {"sum", "mean", "norm", "backward"};
static reduce_fn method_reduce[M_BACKWARD];   /* the reductions' library functions */

static PyTypeObject ArrayType;
static PyTypeObject *result_type = &ArrayType;   /* NDArray once registered */
static PyObject *raise_for_status;               /* ad.errors.raise_for_status */
static PyObject *np_scalar[AD_BOOL + 1];         /* numpy's scalar type of each ad_dtype code */
static PyObject *slow_op[N_OPS], *slow_rop[N_OPS], *slow_compare, *slow_method[N_METHODS];

/* Raises the exception for a failed call (ad.errors.raise_for_status with this thread's
   message from the library). Call it right after the failed call. Returns NULL. */
static PyObject *raise_status(ad_status status)
{
    const char *message = p_ad_last_error();
    PyObject *text, *r;
    if (raise_for_status == NULL)
        return PyErr_Format(PyExc_RuntimeError, "ad._ext is not registered; %s", message);
    text = PyUnicode_DecodeUTF8(message, (Py_ssize_t)strlen(message), "replace");
    if (text == NULL)
        return NULL;
    r = PyObject_CallFunction(raise_for_status, "iO", (int)status, text);
    Py_DECREF(text);
    Py_XDECREF(r);
    if (!PyErr_Occurred())
        PyErr_Format(PyExc_SystemError, "raise_for_status returned for status %d", (int)status);
    return NULL;
}

/* Raises for a fast path used before `register` gave it its library function. */
static PyObject *not_registered(void)
{
    return PyErr_Format(PyExc_RuntimeError, "ad._ext is not registered (import ad first)");
}

/* ------------------------------------------------------------------ ArrayBase */

typedef struct {
    PyObject_HEAD
    ad_array *handle;   /* owned: freed with the object; NULL when none */
    int dtype;          /* ad_dtype of the handle, or -1 until asked */
    PyObject *shape;    /* tuple, cached on first use (a handle's shape never changes) */
    PyObject *weakrefs;
} ArrayObject;

#define IS_ARRAY(o) PyObject_TypeCheck((o), &ArrayType)
#define HANDLE(o) (((ArrayObject *)(o))->handle)

/* A new NDArray owning `handle` (freed here if the object cannot be made). */
static PyObject *wrap(ad_array *handle, int dtype)
{
    ArrayObject *o = (ArrayObject *)result_type->tp_alloc(result_type, 0);
    if (o == NULL) {
        p_ad_array_free(handle);
        return NULL;
    }
    o->handle = handle;
    o->dtype = dtype;
    return (PyObject *)o;
}

/* The result of a call that makes one array: the new NDArray, or the exception. */
static PyObject *result(ad_status status, ad_array *out, int dtype)
{
    return status ? raise_status(status) : wrap(out, dtype);
}

/* `status = call` with the GIL released, as ctypes calls the library: an op on a large array
   does not hold up the process's other Python threads. The operands stay alive: the caller
   holds references to their objects. The module takes no lock of its own; the few calls made
   with the GIL held (shape, dtype, asscalar, grad, free, scopes) may wait for an array that
   another thread's op is writing, but the library never waits for the GIL, so that op ends. */
#define UNLOCKED(status, call)                       \
    do {                                             \
        PyThreadState *state_ = PyEval_SaveThread(); \
        (status) = (call);                           \
        PyEval_RestoreThread(state_);                \
    } while (0)

static int dtype_of(ArrayObject *self)
{
    if (self->dtype < 0) {
        uint32_t code;
        ad_status status = p_ad_array_dtype(self->handle, &code);
        if (status) {
            raise_status(status);
            return -1;
        }
        if (code > AD_BOOL || np_scalar[code] == NULL) {
            PyErr_Format(PyExc_ValueError, "unknown dtype code %u", (unsigned)code);
            return -1;
        }
        self->dtype = (int)code;
    }
    return self->dtype;
}

/* Sets the handle from None, an int or a ctypes.c_void_p. The object takes ownership; a
   handle it held before is not freed (`x._handle = None` disowns). */
static int set_handle(ArrayObject *self, PyObject *value)
{
    void *handle = NULL;
    PyObject *inner = NULL;
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "an NDArray's handle cannot be deleted");
        return -1;
    }
    if (!PyLong_Check(value) && value != Py_None) {
        /* a ctypes.c_void_p: its value is an int or None */
        inner = PyObject_GetAttrString(value, "value");
        if (inner == NULL || !(PyLong_Check(inner) || inner == Py_None)) {
            Py_XDECREF(inner);
            PyErr_Format(PyExc_TypeError, "an NDArray handle is an int, a ctypes.c_void_p or None; got %s",
                         Py_TYPE(value)->tp_name);
            return -1;
        }
        value = inner;
    }
    if (value != Py_None) {
        handle = PyLong_AsVoidPtr(value);
        if (handle == NULL && PyErr_Occurred()) {
            Py_XDECREF(inner);
            return -1;
        }
    }
    Py_XDECREF(inner);
    self->handle = (ad_array *)handle;
    self->dtype = -1;
    Py_CLEAR(self->shape);
    return 0;
}

static PyObject *array_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    ArrayObject *self = (ArrayObject *)type->tp_alloc(type, 0);
    if (self != NULL)
        self->dtype = -1;
    return (PyObject *)self;
}

static int array_init(ArrayObject *self, PyObject *args, PyObject *kwds)
{
    static char *keywords[] = {"handle", NULL};
    PyObject *handle;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:NDArray", keywords, &handle))
        return -1;
    return set_handle(self, handle);
}

static void array_dealloc(ArrayObject *self)
{
    if (self->weakrefs != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    if (self->handle != NULL)
        p_ad_array_free(self->handle);   /* fails only for a handle that was never valid */
    Py_CLEAR(self->shape);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static Py_hash_t array_hash(PyObject *self)
{
    /* identity, as object.__hash__ */
    size_t p = (size_t)self;
    Py_hash_t h = (Py_hash_t)((p >> 4) | (p << (8 * sizeof(size_t) - 4)));
    return h == -1 ? -2 : h;
}

/* ---------------------------------------------------------------- numbers */

/* 1 and *value for a Python int or float (exactly those types), 0 for anything else, -1 on
   error (an int too large for a double). */
static int as_number(PyObject *o, double *value)
{
    if (PyFloat_CheckExact(o)) {
        *value = PyFloat_AS_DOUBLE(o);
        return 1;
    }
    if (PyLong_CheckExact(o)) {
        *value = PyLong_AsDouble(o);
        return (*value == -1.0 && PyErr_Occurred()) ? -1 : 1;
    }
    return 0;
}

/* `a <op> b` where a or b is an array: Python calls the slot for both `x + y` and the
   reflected `2 + x`. Operands other than arrays, ints and floats go to the Python code. */
static PyObject *binary(PyObject *a, PyObject *b, int op)
{
    ad_array *out = NULL;
    ad_status status;
    double s;
    int k;
    if (op_binary[op] == NULL)
        return not_registered();
    /* The reference mode runs the Python code of every form (no fast path of this module). */
    if (p_ad_reference_mode()) {
        if (IS_ARRAY(a))
            return PyObject_CallFunctionObjArgs(slow_op[op], a, b, NULL);
        if (IS_ARRAY(b))
            return PyObject_CallFunctionObjArgs(slow_rop[op], b, a, NULL);
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (IS_ARRAY(a)) {
        ArrayObject *x = (ArrayObject *)a;
        if (IS_ARRAY(b)) {
            UNLOCKED(status, op_binary[op](x->handle, HANDLE(b), &out));
            return result(status, out, x->dtype);
        }
        if ((k = as_number(b, &s)) > 0) {
            UNLOCKED(status, op_scalar[op](x->handle, s, &out));
            return result(status, out, x->dtype);
        }
        if (k < 0)
            return NULL;
        return PyObject_CallFunctionObjArgs(slow_op[op], a, b, NULL);
    }
    if (!IS_ARRAY(b))
        Py_RETURN_NOTIMPLEMENTED;
    if ((k = as_number(a, &s)) > 0) {
        UNLOCKED(status, op_rscalar[op](HANDLE(b), s, &out));
        return result(status, out, ((ArrayObject *)b)->dtype);
    }
    if (k < 0)
        return NULL;
    return PyObject_CallFunctionObjArgs(slow_rop[op], b, a, NULL);
}

/* In place, as in MXNet: the result is written into the array's own data, so views and
   gradient handles sharing it see the change (`w -= lr * w.grad`). */
static PyObject *inplace(PyObject *a, PyObject *b, int op)
{
    PyObject *r;
    ad_status status;
    if (!IS_ARRAY(a))
        Py_RETURN_NOTIMPLEMENTED;
    if (IS_ARRAY(b) && !p_ad_reference_mode()) {
        /* One pass, in place: no result array to make and copy back. */
        static const uint32_t update_op[] = {
            [OP_ADD] = AD_UPDATE_ADD, [OP_SUB] = AD_UPDATE_SUB, [OP_MUL] = AD_UPDATE_MUL, [OP_DIV] = AD_UPDATE_DIV};
        UNLOCKED(status, p_ad_array_update(HANDLE(a), HANDLE(b), update_op[op]));
        if (status)
            return raise_status(status);
        Py_INCREF(a);
        return a;
    }
    r = binary(a, b, op);
    if (r == NULL || r == Py_NotImplemented)
        return r;
    if (!IS_ARRAY(r)) {
        PyErr_Format(PyExc_TypeError, "in-place %s: the result is a %s, not an NDArray", op_names[op],
                     Py_TYPE(r)->tp_name);
        Py_DECREF(r);
        return NULL;
    }
    UNLOCKED(status, p_ad_array_write_slice(HANDLE(a), NULL, 0, HANDLE(r)));
    if (status) {
        raise_status(status);
        Py_DECREF(r);
        return NULL;
    }
    Py_DECREF(r);
    Py_INCREF(a);
    return a;
}

#define NUMBER_SLOTS(name, OP)                                                              \
    static PyObject *nb_##name(PyObject *a, PyObject *b) { return binary(a, b, OP); }       \
    static PyObject *nb_inplace_##name(PyObject *a, PyObject *b) { return inplace(a, b, OP); }
NUMBER_SLOTS(add, OP_ADD)
NUMBER_SLOTS(sub, OP_SUB)
NUMBER_SLOTS(mul, OP_MUL)
NUMBER_SLOTS(div, OP_DIV)

static PyObject *nb_pow(PyObject *a, PyObject *b, PyObject *mod)
{
    if (mod != Py_None)
        Py_RETURN_NOTIMPLEMENTED;
    return binary(a, b, OP_POW);
}

static PyObject *nb_neg(PyObject *a)
{
    ad_array *out = NULL;
    ad_status status;
    if (neg_fn == NULL)
        return not_registered();
    UNLOCKED(status, neg_fn(HANDLE(a), &out));
    return result(status, out, ((ArrayObject *)a)->dtype);
}

static PyNumberMethods array_as_number = {
    .nb_add = nb_add,
    .nb_subtract = nb_sub,
    .nb_multiply = nb_mul,
    .nb_true_divide = nb_div,
    .nb_power = nb_pow,
    .nb_negative = nb_neg,
    .nb_inplace_add = nb_inplace_add,
    .nb_inplace_subtract = nb_inplace_sub,
    .nb_inplace_multiply = nb_inplace_mul,
    .nb_inplace_true_divide = nb_inplace_div,
};

static PyObject *array_richcompare(PyObject *a, PyObject *b, int op)
{
    /* Python's Py_LT..Py_GE to ad_cmp */
    static const uint32_t codes[6] = {AD_CMP_LT, AD_CMP_LE, AD_CMP_EQ, AD_CMP_NE, AD_CMP_GT, AD_CMP_GE};
    ad_array *out = NULL;
    ad_status status;
    double s;
    int k = 0;
    if (!IS_ARRAY(a) || op < 0 || op > 5)
        Py_RETURN_NOTIMPLEMENTED;
    if (compare_arrays == NULL)
        return not_registered();
    if (IS_ARRAY(b) && !p_ad_reference_mode()) {
        UNLOCKED(status, compare_arrays(HANDLE(a), HANDLE(b), codes[op], &out));
        return result(status, out, ((ArrayObject *)a)->dtype);
    }
    if (!p_ad_reference_mode() && (k = as_number(b, &s)) > 0) {
        UNLOCKED(status, compare_number(HANDLE(a), s, codes[op], &out));
        return result(status, out, ((ArrayObject *)a)->dtype);
    }
    if (k < 0)
        return NULL;
    {
        PyObject *code = PyLong_FromUnsignedLong(codes[op]), *r;
        if (code == NULL)
            return NULL;
        r = PyObject_CallFunctionObjArgs(slow_compare, a, b, code, NULL);
        Py_DECREF(code);
        return r;
    }
}

/* ---------------------------------------------------------------- methods */

/* Calls the registered Python method with self and the arguments as given. */
static PyObject *call_slow(int method, PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    PyObject *small[8], **stack = small, *r;
    Py_ssize_t n = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    if (slow_method[method] == NULL)
        return not_registered();
    if (n + 1 > (Py_ssize_t)(sizeof(small) / sizeof(small[0]))) {
        stack = PyMem_New(PyObject *, n + 1);
        if (stack == NULL)
            return PyErr_NoMemory();
    }
    stack[0] = self;
    if (n > 0)
        memcpy(stack + 1, args, (size_t)n * sizeof(PyObject *));
    r = PyObject_Vectorcall(slow_method[method], stack, (size_t)nargs + 1, kwnames);
    if (stack != small)
        PyMem_Free(stack);
    return r;
}

/* A reduction over all axes for the call without arguments; the Python method otherwise. */
static PyObject *reduce(int method, PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                        PyObject *kwnames)
{
    ad_array *out = NULL;
    ad_status status;
    if (nargs != 0 || kwnames != NULL || p_ad_reference_mode() || method_reduce[method] == NULL)
        return call_slow(method, self, args, nargs, kwnames);
    UNLOCKED(status, method_reduce[method](HANDLE(self), NULL, 0, false, &out));
    return result(status, out, ((ArrayObject *)self)->dtype);
}

static PyObject *array_sum(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return reduce(M_SUM, self, args, nargs, kwnames);
}

static PyObject *array_mean(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return reduce(M_MEAN, self, args, nargs, kwnames);
}

static PyObject *array_norm(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return reduce(M_NORM, self, args, nargs, kwnames);
}

static PyObject *array_backward(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    const ad_array *heads[1];
    ad_status status;
    if (nargs != 0 || kwnames != NULL || p_ad_reference_mode())
        return call_slow(M_BACKWARD, self, args, nargs, kwnames);
    heads[0] = HANDLE(self);
    UNLOCKED(status, p_ad_backward_ex(heads, NULL, 1, false, true));
    if (status)
        return raise_status(status);
    Py_RETURN_NONE;
}

static PyObject *array_asscalar(ArrayObject *self, PyObject *unused)
{
    double value;
    int dtype;
    PyObject *f, *r;
    ad_status status = p_ad_array_asscalar(self->handle, &value);
    if (status)
        return raise_status(status);
    if ((dtype = dtype_of(self)) < 0)
        return NULL;
    if (dtype == AD_FLOAT32 || dtype == AD_FLOAT64 || dtype == AD_FLOAT16) {
        f = PyFloat_FromDouble(value);
    } else {
        /* integers exactly (an int64 beyond 2^53 does not pass through a double) */
        int64_t whole;
        if ((status = p_ad_array_read(self->handle, AD_INT64, &whole, 1)))
            return raise_status(status);
        f = PyLong_FromLongLong((long long)whole);
    }
    if (f == NULL)
        return NULL;
    if (np_scalar[dtype] == NULL) {
        Py_DECREF(f);
        return PyErr_Format(PyExc_RuntimeError, "ad._ext is not registered");
    }
    r = PyObject_Vectorcall(np_scalar[dtype], &f, 1, NULL);
    Py_DECREF(f);
    return r;
}

/* The docstrings of sum, mean and norm are those ad/_ops.py writes for the op table's
   reductions (a test compares them). */
static PyMethodDef array_methods[] = {
    {"asscalar", (PyCFunction)array_asscalar, METH_NOARGS,
    "asscalar($self, /)\n"
    "--\n"
    "\n"
    "The value of a one-element array, as a numpy scalar of its dtype.\n"
    "\n"
    "MXNet takes shape (1,) only; ad takes any shape of one element (such as () or (1, 1)).\n"
    "Any other size raises ValueError.\n"
    "\n"
    "Returns\n"
    "-------\n"
    "numpy scalar\n"
    "    The value.\n"},
    {"sum", (PyCFunction)(void (*)(void))array_sum, METH_FASTCALL | METH_KEYWORDS,
    "sum($self, /, axis=None, keepdims=False, exclude=False, *, axes=None)\n"
    "--\n"
    "\n"
    "The sum of the elements over the given axes.\n"
    "\n"
    "The fluent form of ``nd.sum``, with this array as `data`.\n"
    "\n"
    "Parameters\n"
    "----------\n"
    "axis : int, tuple of int or None, optional\n"
    "    The axis or axes to reduce (negative counts from the end). None, the default, or an\n"
    "    empty tuple reduces over all axes.\n"
    "keepdims : bool, optional\n"
    "    Keep each reduced axis in the result, with size 1 (default False).\n"
    "exclude : bool, optional\n"
    "    Reduce over every axis except those of `axis` (default False).\n"
    "axes : int, tuple of int or None, optional\n"
    "    Another name for `axis`; give one or the other.\n"
    "\n"
    "Returns\n"
    "-------\n"
    "NDArray\n"
    "    The reduced array, in the input's dtype. A reduction over all axes without `keepdims`\n"
    "    has shape (1,), as in MXNet.\n"},
    {"mean", (PyCFunction)(void (*)(void))array_mean, METH_FASTCALL | METH_KEYWORDS,
    "mean($self, /, axis=None, keepdims=False, exclude=False, *, axes=None)\n"
    "--\n"
    "\n"
    "The mean of the elements over the given axes.\n"
    "\n"
    "The fluent form of ``nd.mean``, with this array as `data`.\n"
    "\n"
    "Parameters\n"
    "----------\n"
    "axis : int, tuple of int or None, optional\n"
    "    The axis or axes to reduce (negative counts from the end). None, the default, or an\n"
    "    empty tuple reduces over all axes.\n"
    "keepdims : bool, optional\n"
    "    Keep each reduced axis in the result, with size 1 (default False).\n"
    "exclude : bool, optional\n"
    "    Reduce over every axis except those of `axis` (default False).\n"
    "axes : int, tuple of int or None, optional\n"
    "    Another name for `axis`; give one or the other.\n"
    "\n"
    "Returns\n"
    "-------\n"
    "NDArray\n"
    "    The reduced array, in the input's dtype. A reduction over all axes without `keepdims`\n"
    "    has shape (1,), as in MXNet.\n"},
    {"norm", (PyCFunction)(void (*)(void))array_norm, METH_FASTCALL | METH_KEYWORDS,
    "norm($self, /, ord=2, axis=None, keepdims=False)\n"
    "--\n"
    "\n"
    "The L2 norm (square root of the sum of squares; with ord=1 the L1 norm, the sum of\n"
    "absolute values) over the given axes; the L2 norm's gradient is taken as 0 where the\n"
    "norm is 0 (MXNet gives NaN there), the L1 norm's is the sign (0 at 0).\n"
    "\n"
    "The fluent form of ``nd.norm``, with this array as `data`.\n"
    "\n"
    "Parameters\n"
    "----------\n"
    "ord : int, optional\n"
    "    The order of the norm: 2 (the default) or 1, as MXNet.\n"
    "axis : int, tuple of int or None, optional\n"
    "    The axis or axes to reduce (negative counts from the end). None, the default, or an\n"
    "    empty tuple reduces over all axes.\n"
    "keepdims : bool, optional\n"
    "    Keep each reduced axis in the result, with size 1 (default False).\n"
    "\n"
    "Returns\n"
    "-------\n"
    "NDArray\n"
    "    The reduced array, in the input's dtype. A reduction over all axes without `keepdims`\n"
    "    has shape (1,), as in MXNet.\n"
    "\n"
    "MXNet's `out_dtype` argument is not supported: the result has the input's dtype.\n"},
    {"backward", (PyCFunction)(void (*)(void))array_backward, METH_FASTCALL | METH_KEYWORDS,
    "backward($self, /, out_grad=None, retain_graph=False, train_mode=True)\n"
    "--\n"
    "\n"
    "Computes the gradient of this array with respect to the variables it depends on (the\n"
    "arrays marked with `attach_grad`), into their gradient buffers, each as its grad_req says.\n"
    "\n"
    "Parameters\n"
    "----------\n"
    "out_grad : NDArray, optional\n"
    "    The gradient with respect to this array, of its shape. None, the default, seeds backward\n"
    "    with ones, so that an array of several elements counts as its sum.\n"
    "retain_graph : bool, optional\n"
    "    Keep the recorded graph so that backward can run through it again (default False: its\n"
    "    saved values are released, and a second backward raises RuntimeError).\n"
    "train_mode : bool, optional\n"
    "    Whether backward runs in training mode (default True).\n"},
    {NULL}
};

/* ---------------------------------------------------------------- attributes */

static PyObject *get_handle(ArrayObject *self, void *closure)
{
    if (self->handle == NULL)
        Py_RETURN_NONE;
    return PyLong_FromVoidPtr(self->handle);
}

static int put_handle(ArrayObject *self, PyObject *value, void *closure)
{
    return set_handle(self, value);
}

static PyObject *get_shape(ArrayObject *self, void *closure)
{
    if (self->shape == NULL) {
        size_t ndim, small[16], *dims = small, i;
        PyObject *shape;
        ad_status status = p_ad_array_ndim(self->handle, &ndim);
        if (status)
            return raise_status(status);
        if (ndim > sizeof(small) / sizeof(small[0]) && (dims = PyMem_New(size_t, ndim)) == NULL)
            return PyErr_NoMemory();
        status = p_ad_array_shape(self->handle, dims, ndim);
        if (status) {
            raise_status(status);
            shape = NULL;
        } else if ((shape = PyTuple_New((Py_ssize_t)ndim)) != NULL) {
            for (i = 0; i < ndim; i++) {
                PyObject *d = PyLong_FromSize_t(dims[i]);
                if (d == NULL) {
                    Py_CLEAR(shape);
                    break;
                }
                PyTuple_SET_ITEM(shape, (Py_ssize_t)i, d);
            }
        }
        if (dims != small)
            PyMem_Free(dims);
        if (shape == NULL)
            return NULL;
        self->shape = shape;
    }
    Py_INCREF(self->shape);
    return self->shape;
}

static PyObject *get_dtype(ArrayObject *self, void *closure)
{
    int dtype = dtype_of(self);
    if (dtype < 0)
        return NULL;
    if (np_scalar[dtype] == NULL)
        return PyErr_Format(PyExc_RuntimeError, "ad._ext is not registered");
    Py_INCREF(np_scalar[dtype]);
    return np_scalar[dtype];
}

static PyObject *get_grad(ArrayObject *self, void *closure)
{
    ad_array *out = NULL;
    ad_status status = p_ad_array_grad(self->handle, &out);
    if (status)
        return raise_status(status);
    if (out == NULL)
        Py_RETURN_NONE;
    return wrap(out, self->dtype);
}

static PyGetSetDef array_getset[] = {
    {"_handle", (getter)get_handle, (setter)put_handle,
     "The library's handle as an int (None when there is none); the object frees it. "
     "Setting it hands the object a new handle and frees nothing.", NULL},
    {"shape", (getter)get_shape, NULL, "The array's dimensions, a tuple of ints.", NULL},
    {"dtype", (getter)get_dtype, NULL, "The type of the elements: a numpy scalar type (numpy.float32, numpy.float16, numpy.int32, ...).", NULL},
    {"grad", (getter)get_grad, NULL,
     "The gradient buffer `attach_grad` gave the array (a handle sharing its data, so that later "
     "backward passes update what it shows), or None when it has none.", NULL},
    {NULL}
};

static PyTypeObject ArrayType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ad._ext.ArrayBase",
    .tp_doc = "The C part of NDArray: an array handle of the ad library, its arithmetic and hot methods.",
    .tp_basicsize = sizeof(ArrayObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_new = array_new,
    .tp_init = (initproc)array_init,
    .tp_dealloc = (destructor)array_dealloc,
    .tp_hash = array_hash,
    .tp_richcompare = array_richcompare,
    .tp_weaklistoffset = offsetof(ArrayObject, weakrefs),
    .tp_as_number = &array_as_number,
    .tp_methods = array_methods,
    .tp_getset = array_getset,
};

/* ---------------------------------------------------------------- autograd scopes */

enum { SCOPE_RECORD, SCOPE_PAUSE, SCOPE_TRAIN, SCOPE_PREDICT };

typedef struct {
    PyObject_HEAD
    int kind;
    bool train_mode;
} ScopeObject;

static PyObject *scope_enter(ScopeObject *self, PyObject *unused)
{
    ad_status status;
    switch (self->kind) {
    case SCOPE_RECORD: status = p_ad_record_begin(self->train_mode); break;
    case SCOPE_PAUSE: status = p_ad_pause_begin(self->train_mode); break;
    case SCOPE_TRAIN: status = p_ad_train_mode_begin(); break;
    default: status = p_ad_predict_mode_begin(); break;
    }
    if (status)
        return raise_status(status);
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *scope_exit(ScopeObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    ad_status status;
    switch (self->kind) {
    case SCOPE_RECORD: status = p_ad_record_end(); break;
    case SCOPE_PAUSE: status = p_ad_pause_end(); break;
    case SCOPE_TRAIN: status = p_ad_train_mode_end(); break;
    default: status = p_ad_predict_mode_end(); break;
    }
    if (status)
        return raise_status(status);
    Py_RETURN_FALSE;
}

static PyMethodDef scope_methods[] = {
    {"__enter__", (PyCFunction)scope_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))scope_exit, METH_FASTCALL, NULL},
    {NULL}
};

static PyTypeObject ScopeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ad._ext.Scope",
    .tp_doc = "A `with` scope over a begin/end pair of the library's autograd state.",
    .tp_basicsize = sizeof(ScopeObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = scope_methods,
};

/* A scope of `kind`; `train_mode` from the one optional argument (positional or keyword). */
static PyObject *make_scope(int kind, int train_mode, const char *name, PyObject *const *args,
                            Py_ssize_t nargs, PyObject *kwnames)
{
    ScopeObject *scope;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs + nkw > 1) {
        return PyErr_Format(PyExc_TypeError, "%s() takes at most 1 argument (%zd given)", name, nargs + nkw);
    }
    if (nkw == 1 && !PyUnicode_Check(PyTuple_GET_ITEM(kwnames, 0))) {
        return PyErr_Format(PyExc_TypeError, "%s(): keywords must be strings", name);
    }
    if (nkw == 1 && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "train_mode") != 0) {
        return PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", name,
                            PyTuple_GET_ITEM(kwnames, 0));
    }
    if (nargs + nkw == 1 && (train_mode = PyObject_IsTrue(args[0])) < 0)
        return NULL;
    scope = PyObject_New(ScopeObject, &ScopeType);
    if (scope == NULL)
        return NULL;
    scope->kind = kind;
    scope->train_mode = train_mode != 0;
    return (PyObject *)scope;
}

static PyObject *ext_record(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return make_scope(SCOPE_RECORD, 1, "record", args, nargs, kwnames);
}

static PyObject *ext_pause(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return make_scope(SCOPE_PAUSE, 0, "pause", args, nargs, kwnames);
}

static PyObject *ext_train_mode(PyObject *m, PyObject *unused)
{
    return make_scope(SCOPE_TRAIN, 1, "train_mode", NULL, 0, NULL);
}

static PyObject *ext_predict_mode(PyObject *m, PyObject *unused)
{
    return make_scope(SCOPE_PREDICT, 0, "predict_mode", NULL, 0, NULL);
}

/* ---------------------------------------------------------------- module */

static void set_global(PyObject **slot, PyObject *value)
{
    Py_XINCREF(value);
    Py_XSETREF(*slot, value);
}

/* For PyArg_ParseTuple's O&: a library function's address (an int, ad._lib.address). */
static int take_function(PyObject *o, void *slot)
{
    void *p = PyLong_Check(o) ? PyLong_AsVoidPtr(o) : NULL;
    if (p == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "register: a library function's address must be a non-zero int; got %R", o);
        return 0;
    }
    *(void **)slot = p;
    return 1;
}

/* For PyArg_ParseTuple's O&: the Python code of a form (borrowed). */
static int take_callable(PyObject *o, void *slot)
{
    if (!PyCallable_Check(o)) {
        PyErr_Format(PyExc_TypeError, "register: the Python code of a form must be callable; got %R", o);
        return 0;
    }
    *(PyObject **)slot = o;
    return 1;
}

/* The entry of `slots` for the slot `name`, a tuple; NULL with an exception if missing. */
static PyObject *slot_entry(PyObject *slots, const char *name)
{
    PyObject *entry = PyDict_GetItemString(slots, name);
    if (entry == NULL || !PyTuple_Check(entry)) {
        PyErr_Format(PyExc_TypeError, "register: no tuple for the slot '%s'", name);
        return NULL;
    }
    return entry;
}

#define N_SLOTS (N_OPS + 2 + N_METHODS)

static int is_slot_name(PyObject *key)
{
    int i;
    if (!PyUnicode_Check(key))
        return 0;
    for (i = 0; i < N_OPS; i++) {
        if (PyUnicode_CompareWithASCIIString(key, op_names[i]) == 0)
            return 1;
    }
    for (i = 0; i < N_METHODS; i++) {
        if (PyUnicode_CompareWithASCIIString(key, method_names[i]) == 0)
            return 1;
    }
    return PyUnicode_CompareWithASCIIString(key, "neg") == 0 || PyUnicode_CompareWithASCIIString(key, "compare") == 0;
}

/* register(ndarray_type, raise_for_status, float32, float64, slots): the class results are
   made as, the error function, numpy's scalar types, and for each slot of the fast paths the
   library functions of its op (from the op table) and the Python code of every other form:
     add, sub, mul, truediv, pow: (array op array, array op number, number op array,
                                   x <op> other, other <op> x)
     neg: (-array,)
     compare: (array cmp array, array cmp number, x.compare(other, code))
     sum, mean, norm: (the reduction, the method)
     backward: (the method,)
   Nothing changes unless every slot is given and valid. */
static PyObject *ext_register(PyObject *m, PyObject *args)
{
    PyObject *type, *raiser, *scalars, *slots, *entry, *key;
    binary_fn binary_[N_OPS];
    scalar_fn scalar_[N_OPS], rscalar_[N_OPS];
    unary_fn neg_;
    compare_fn compare_;
    compare_scalar_fn compare_scalar_;
    reduce_fn reduce_[M_BACKWARD];
    PyObject *slow_[N_OPS], *rslow_[N_OPS], *slow_compare_, *slow_method_[N_METHODS];
    Py_ssize_t pos = 0;
    int i;
    if (!PyArg_ParseTuple(args, "O!OO!O!:register", &PyType_Type, &type, &raiser, &PyTuple_Type, &scalars,
                          &PyDict_Type, &slots))
        return NULL;
    if (PyTuple_GET_SIZE(scalars) != AD_BOOL + 1)
        return PyErr_Format(PyExc_TypeError, "register: the scalar types are a tuple of %d, one per ad_dtype code "
                            "(None for a code that is not a dtype)", AD_BOOL + 1);
    if (!PyType_IsSubtype((PyTypeObject *)type, &ArrayType))
        return PyErr_Format(PyExc_TypeError, "register: %s is not a subclass of ArrayBase",
                            ((PyTypeObject *)type)->tp_name);
    for (i = 0; i < N_OPS; i++) {
        if ((entry = slot_entry(slots, op_names[i])) == NULL ||
            !PyArg_ParseTuple(entry, "O&O&O&O&O&;register: an operator's slot takes (array op array, "
                              "array op number, number op array, x <op> other, other <op> x)",
                              take_function, &binary_[i], take_function, &scalar_[i], take_function,
                              &rscalar_[i], take_callable, &slow_[i], take_callable, &rslow_[i]))
            return NULL;
    }
    if ((entry = slot_entry(slots, "neg")) == NULL ||
        !PyArg_ParseTuple(entry, "O&;register: the slot 'neg' takes (-array,)", take_function, &neg_))
        return NULL;
    if ((entry = slot_entry(slots, "compare")) == NULL ||
        !PyArg_ParseTuple(entry, "O&O&O&;register: the slot 'compare' takes (array cmp array, array cmp "
                          "number, x.compare(other, code))", take_function, &compare_, take_function,
                          &compare_scalar_, take_callable, &slow_compare_))
        return NULL;
    for (i = 0; i < M_BACKWARD; i++) {
        if ((entry = slot_entry(slots, method_names[i])) == NULL ||
            !PyArg_ParseTuple(entry, "O&O&;register: a reduction's slot takes (the reduction, the method)",
                              take_function, &reduce_[i], take_callable, &slow_method_[i]))
            return NULL;
    }
    if ((entry = slot_entry(slots, "backward")) == NULL ||
        !PyArg_ParseTuple(entry, "O&;register: the slot 'backward' takes (the method,)", take_callable,
                          &slow_method_[M_BACKWARD]))
        return NULL;
    /* every slot was found: anything more names a fast path this module does not have */
    if (PyDict_Size(slots) != N_SLOTS) {
        while (PyDict_Next(slots, &pos, &key, &entry)) {
            if (!is_slot_name(key))
                return PyErr_Format(PyExc_TypeError, "register: ad._ext has no fast path %R", key);
        }
    }

    for (i = 0; i < N_OPS; i++) {
        op_binary[i] = binary_[i];
        op_scalar[i] = scalar_[i];
        op_rscalar[i] = rscalar_[i];
        set_global(&slow_op[i], slow_[i]);
        set_global(&slow_rop[i], rslow_[i]);
    }
    neg_fn = neg_;
    compare_arrays = compare_;
    compare_number = compare_scalar_;
    set_global(&slow_compare, slow_compare_);
    for (i = 0; i < M_BACKWARD; i++)
        method_reduce[i] = reduce_[i];
    for (i = 0; i < N_METHODS; i++)
        set_global(&slow_method[i], slow_method_[i]);
    set_global(&raise_for_status, raiser);
    for (i = 0; i <= AD_BOOL; i++) {
        PyObject *t = PyTuple_GET_ITEM(scalars, i);
        if (t == Py_None)
            Py_CLEAR(np_scalar[i]);
        else
            set_global(&np_scalar[i], t);
    }
    Py_INCREF(type);
    if (result_type != &ArrayType)
        Py_DECREF(result_type);
    result_type = (PyTypeObject *)type;
    Py_RETURN_NONE;
}


/* ------------------------------------------------------------------ DLPack capsules */

/* The capsule names of DLPack's Python protocol: a consumer renames a capsule it took to the
   "used_" name, and a capsule still under its first name when it dies was never taken, so its
   destructor gives the tensor back. */
static const char versioned_name[] = "dltensor_versioned", legacy_name[] = "dltensor";
static const char used_versioned_name[] = "used_dltensor_versioned", used_legacy_name[] = "used_dltensor";

static void drop_versioned(PyObject *capsule)
{
    if (PyCapsule_IsValid(capsule, versioned_name)) {
        DLManagedTensorVersioned *t = PyCapsule_GetPointer(capsule, versioned_name);
        if (t->deleter)
            t->deleter(t);
    }
}

static void drop_legacy(PyObject *capsule)
{
    if (PyCapsule_IsValid(capsule, legacy_name)) {
        DLManagedTensor *t = PyCapsule_GetPointer(capsule, legacy_name);
        if (t->deleter)
            t->deleter(t);
    }
}

static PyObject *ext_to_dlpack(PyObject *module, PyObject *args)
{
    PyObject *array, *capsule;
    int versioned, writable;
    ad_status status;
    (void)module;
    if (!PyArg_ParseTuple(args, "O!pp:to_dlpack", &ArrayType, &array, &versioned, &writable))
        return NULL;
    if (versioned) {
        DLManagedTensorVersioned *t = NULL;
        if ((status = p_ad_array_to_dlpack(HANDLE(array), writable, &t)) != AD_OK)
            return raise_status(status);
        if ((capsule = PyCapsule_New(t, versioned_name, drop_versioned)) == NULL)
            t->deleter(t);
    } else {
        DLManagedTensor *t = NULL;
        if ((status = p_ad_array_to_dlpack_legacy(HANDLE(array), writable, &t)) != AD_OK)
            return raise_status(status);
        if ((capsule = PyCapsule_New(t, legacy_name, drop_legacy)) == NULL)
            t->deleter(t);
    }
    return capsule;
}

static PyObject *ext_from_dlpack(PyObject *module, PyObject *capsule)
{
    ad_array *out = NULL;
    bool copied = false;
    ad_status status;
    PyObject *array;
    const char *used;
    (void)module;
    if (PyCapsule_IsValid(capsule, versioned_name)) {
        status = p_ad_array_from_dlpack(PyCapsule_GetPointer(capsule, versioned_name), &copied, &out);
        used = used_versioned_name;
    } else if (PyCapsule_IsValid(capsule, legacy_name)) {
        status = p_ad_array_from_dlpack_legacy(PyCapsule_GetPointer(capsule, legacy_name), &copied, &out);
        used = used_legacy_name;
    } else {
        const char *name = PyCapsule_CheckExact(capsule) ? PyCapsule_GetName(capsule) : NULL;
        PyErr_Clear();
        if (name && (strcmp(name, used_versioned_name) == 0 || strcmp(name, used_legacy_name) == 0))
            return PyErr_Format(PyExc_ValueError, "from_dlpack: the DLPack capsule was already taken (named \"%s\")", name);
        return PyErr_Format(PyExc_TypeError, "from_dlpack: expected a DLPack capsule (\"dltensor\" or "
                            "\"dltensor_versioned\") or an object with __dlpack__, got %.100s",
                            Py_TYPE(capsule)->tp_name);
    }
    if (status != AD_OK)
        return raise_status(status);
    /* taken: the producer's destructor must not give the tensor back too */
    if (PyCapsule_SetName(capsule, used) != 0) {
        p_ad_array_free(out);
        return NULL;
    }
    if ((array = wrap(out, -1)) == NULL)
        return NULL;
    return Py_BuildValue("(NO)", array, copied ? Py_True : Py_False);
}


/* ------------------------------------------------------------------ loans (buffer protocol) */

/* A loan of an array's elements (ad_array_borrow), lent on through Python's buffer protocol:
   memoryview, numpy.asarray and mpi4py read (and, if writable, write) the memory in place.
   The elements are row-major and contiguous, so one shape and its C strides describe every
   form of request. The loan ends with release() or with the object; while buffers taken from
   it are alive it cannot end, since their holders may still use the memory. */
typedef struct {
    PyObject_HEAD
    ad_borrow *borrow;     /* NULL once released */
    void *data;            /* the first element */
    Py_ssize_t ndim;
    Py_ssize_t *shape;     /* ndim sizes, then ndim strides in bytes (one block; NULL for 0-d) */
    Py_ssize_t *strides;
    Py_ssize_t len;        /* in bytes */
    Py_ssize_t exports;    /* buffers taken and not yet given back */
    int dtype;
    bool writable;
} LoanObject;

static PyTypeObject LoanType;

static const char *const loan_format[] = {[AD_FLOAT32] = "f", [AD_FLOAT64] = "d", [AD_FLOAT16] = "e",
                                          [AD_UINT8] = "B", [AD_INT32] = "i", [AD_INT8] = "b", [AD_INT64] = "q",
                                          [AD_BOOL] = "?"};
static const Py_ssize_t loan_itemsize[] = {[AD_FLOAT32] = sizeof(float), [AD_FLOAT64] = sizeof(double),
                                           [AD_FLOAT16] = 2, [AD_UINT8] = 1, [AD_INT32] = 4, [AD_INT8] = 1,
                                           [AD_INT64] = 8, [AD_BOOL] = 1};
static const char *const loan_dtype_name[] = {[AD_FLOAT32] = "float32", [AD_FLOAT64] = "float64",
                                              [AD_FLOAT16] = "float16", [AD_UINT8] = "uint8", [AD_INT32] = "int32",
                                              [AD_INT8] = "int8", [AD_INT64] = "int64", [AD_BOOL] = "bool"};

/* Ends the loan, unless it has ended already. */
static PyObject *loan_release(LoanObject *self, PyObject *unused)
{
    ad_status status;
    if (self->borrow == NULL)
        Py_RETURN_NONE;
    if (self->exports > 0)
        return PyErr_Format(PyExc_BufferError, "cannot release the loan: %zd buffer%s taken from it %s still in use "
                            "(release them first)", self->exports, self->exports == 1 ? "" : "s",
                            self->exports == 1 ? "is" : "are");
    status = p_ad_borrow_release(self->borrow);
    self->borrow = NULL;
    self->data = NULL;
    if (status)
        return raise_status(status);
    Py_RETURN_NONE;
}

static void loan_dealloc(LoanObject *self)
{
    /* every buffer taken holds a reference, so none is left here */
    if (self->borrow != NULL)
        p_ad_borrow_release(self->borrow);   /* fails only for a loan that has ended, not this one */
    PyMem_Free(self->shape);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int loan_getbuffer(LoanObject *self, Py_buffer *view, int flags)
{
    Py_ssize_t i, big = 0;
    view->obj = NULL;
    if (self->borrow == NULL) {
        PyErr_SetString(PyExc_ValueError, "the loan was released: its memory can no longer be used");
        return -1;
    }
    if ((flags & PyBUF_WRITABLE) == PyBUF_WRITABLE && !self->writable) {
        PyErr_SetString(PyExc_BufferError, "the loan is read-only: borrow(writable=True) lends memory that may be written");
        return -1;
    }
    /* C-contiguous always; Fortran-contiguous too when at most one axis is longer than 1 */
    for (i = 0; i < self->ndim; i++)
        big += self->shape[i] > 1;
    if ((flags & PyBUF_F_CONTIGUOUS) == PyBUF_F_CONTIGUOUS && big > 1 && self->len > 0) {
        PyErr_SetString(PyExc_BufferError, "the loan's elements are row-major (C-contiguous), not Fortran-contiguous");
        return -1;
    }
    view->buf = self->data;
    view->len = self->len;
    view->readonly = !self->writable;
    view->itemsize = loan_itemsize[self->dtype];
    view->format = (flags & PyBUF_FORMAT) ? (char *)loan_format[self->dtype] : NULL;
    /* without PyBUF_ND the consumer takes the memory as one run of bytes */
    if ((flags & PyBUF_ND) == PyBUF_ND) {
        view->ndim = (int)self->ndim;
        view->shape = self->shape;
        view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? self->strides : NULL;
    } else {
        view->ndim = 1;
        view->shape = NULL;
        view->strides = NULL;
    }
    view->suboffsets = NULL;
    view->internal = NULL;
    view->obj = (PyObject *)self;
    Py_INCREF(self);
    self->exports++;
    return 0;
}

static void loan_releasebuffer(LoanObject *self, Py_buffer *view)
{
    self->exports--;
}

static PyBufferProcs loan_as_buffer = {
    .bf_getbuffer = (getbufferproc)loan_getbuffer,
    .bf_releasebuffer = (releasebufferproc)loan_releasebuffer,
};

static PyObject *loan_enter(LoanObject *self, PyObject *unused)
{
    if (self->borrow == NULL)
        return PyErr_Format(PyExc_ValueError, "the loan was released: its memory can no longer be used");
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *loan_exit(LoanObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *r = loan_release(self, NULL);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static PyObject *loan_get_shape(LoanObject *self, void *closure);

static PyObject *loan_repr(LoanObject *self)
{
    PyObject *shape = loan_get_shape(self, NULL), *r;
    if (shape == NULL)
        return NULL;
    r = PyUnicode_FromFormat("<Loan %s %R, %s>", loan_dtype_name[self->dtype], shape,
                             self->borrow == NULL ? "released" : self->writable ? "writable" : "read-only");
    Py_DECREF(shape);
    return r;
}

static PyMethodDef loan_methods[] = {
    {"release", (PyCFunction)loan_release, METH_NOARGS,
     "release($self, /)\n"
     "--\n"
     "\n"
     "Ends the loan: the memory is no longer lent (a loan already ended is left as it is).\n"
     "Raises BufferError while buffers taken from the loan (memoryviews, numpy arrays over it,\n"
     "an MPI request) are still in use, as memoryview.release does.\n"},
    {"__enter__", (PyCFunction)loan_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))loan_exit, METH_FASTCALL, NULL},
    {NULL}
};

static PyObject *loan_get_writable(LoanObject *self, void *closure)
{
    return PyBool_FromLong(self->writable);
}

static PyObject *loan_get_released(LoanObject *self, void *closure)
{
    return PyBool_FromLong(self->borrow == NULL);
}

static PyObject *loan_get_shape(LoanObject *self, void *closure)
{
    PyObject *shape = PyTuple_New(self->ndim);
    Py_ssize_t i;
    for (i = 0; shape != NULL && i < self->ndim; i++) {
        PyObject *d = PyLong_FromSsize_t(self->shape[i]);
        if (d == NULL)
            Py_CLEAR(shape);
        else
            PyTuple_SET_ITEM(shape, i, d);
    }
    return shape;
}

static PyObject *loan_get_dtype(LoanObject *self, void *closure)
{
    if (np_scalar[self->dtype] == NULL)
        return PyErr_Format(PyExc_RuntimeError, "ad._ext is not registered");
    Py_INCREF(np_scalar[self->dtype]);
    return np_scalar[self->dtype];
}

static PyGetSetDef loan_getset[] = {
    {"writable", (getter)loan_get_writable, NULL, "Whether the memory may be written through the loan.", NULL},
    {"shape", (getter)loan_get_shape, NULL, "The lent array's dimensions, a tuple of ints.", NULL},
    {"dtype", (getter)loan_get_dtype, NULL, "The type of the elements: a numpy scalar type (numpy.float32, numpy.float16, numpy.int32, ...).", NULL},
    {"released", (getter)loan_get_released, NULL, "Whether the loan has ended.", NULL},
    {NULL}
};

static PyTypeObject LoanType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ad._ext.Loan",
    .tp_doc = "A loan of an NDArray's memory, made by NDArray.borrow: a buffer (memoryview, numpy.asarray, "
              "mpi4py) over the array's elements, without a copy, until release().",
    .tp_basicsize = sizeof(LoanObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)loan_dealloc,
    .tp_repr = (reprfunc)loan_repr,
    .tp_as_buffer = &loan_as_buffer,
    .tp_methods = loan_methods,
    .tp_getset = loan_getset,
};

static PyObject *ext_borrow(PyObject *module, PyObject *args)
{
    PyObject *array;
    int writable, dtype;
    size_t ndim, i, *dims = NULL;
    Py_ssize_t stride;
    LoanObject *loan;
    ad_status status;
    (void)module;
    if (!PyArg_ParseTuple(args, "O!p:borrow", &ArrayType, &array, &writable))
        return NULL;
    if ((dtype = dtype_of((ArrayObject *)array)) < 0)
        return NULL;
    if ((status = p_ad_array_ndim(HANDLE(array), &ndim)) != AD_OK)
        return raise_status(status);
    if (ndim > (size_t)PY_SSIZE_T_MAX / (2 * sizeof(Py_ssize_t)))
        return PyErr_NoMemory();
    if ((loan = PyObject_New(LoanObject, &LoanType)) == NULL)
        return NULL;
    loan->borrow = NULL;
    loan->data = NULL;
    loan->ndim = (Py_ssize_t)ndim;
    loan->shape = loan->strides = NULL;
    loan->exports = 0;
    loan->dtype = dtype;
    loan->writable = writable != 0;
    if (ndim > 0) {
        /* sizes as size_t first: ad.h's ad_array_shape writes them so */
        if ((loan->shape = PyMem_New(Py_ssize_t, 2 * ndim)) == NULL || (dims = PyMem_New(size_t, ndim)) == NULL) {
            PyErr_NoMemory();
            goto fail;
        }
        loan->strides = loan->shape + ndim;
        if ((status = p_ad_array_shape(HANDLE(array), dims, ndim)) != AD_OK) {
            raise_status(status);
            goto fail;
        }
    }
    /* C strides, from the last axis; an empty array's may not fit (its sizes are not
       bounded by any memory), and a buffer's must */
    stride = loan_itemsize[dtype];
    for (i = ndim; i-- > 0;) {
        if (dims[i] > (size_t)PY_SSIZE_T_MAX) {
            PyErr_Format(PyExc_OverflowError, "borrow: axis %zu's size %zu does not fit a buffer's Py_ssize_t", i, dims[i]);
            goto fail;
        }
        loan->shape[i] = (Py_ssize_t)dims[i];
        loan->strides[i] = stride;
        if (dims[i] > 0 && stride > PY_SSIZE_T_MAX / (Py_ssize_t)dims[i]) {
            PyErr_Format(PyExc_OverflowError, "borrow: the array's shape is too large for a buffer's strides");
            goto fail;
        }
        stride *= (Py_ssize_t)dims[i];
    }
    loan->len = stride;
    PyMem_Free(dims);
    dims = NULL;
    if ((status = p_ad_array_borrow(HANDLE(array), loan->writable, &loan->data, &loan->borrow)) != AD_OK) {
        raise_status(status);
        goto fail;
    }
    return (PyObject *)loan;
fail:
    PyMem_Free(dims);
    Py_DECREF(loan);
    return NULL;
}

static PyMethodDef module_methods[] = {
    {"to_dlpack", ext_to_dlpack, METH_VARARGS,
     "to_dlpack(array, versioned, writable): a DLPack capsule (\"dltensor_versioned\" or the legacy "
     "\"dltensor\") lending the array's memory, read-only unless `writable`."},
    {"from_dlpack", ext_from_dlpack, METH_O,
     "from_dlpack(capsule): (the array, whether it is a copy), taking the capsule's tensor."},
    {"borrow", ext_borrow, METH_VARARGS,
     "borrow(array, writable): a Loan of the array's elements, a buffer over its memory (read-only "
     "unless `writable`) until the loan is released."},
    {"register", ext_register, METH_VARARGS,
     "register(ndarray_type, raise_for_status, float32, float64, slots): set up the module with "
     "the library functions of the op table and the Python code of every other form."},
    {"record", (PyCFunction)(void (*)(void))ext_record, METH_FASTCALL | METH_KEYWORDS,
     "record($module, /, train_mode=True)\n"
     "--\n"
     "\n"
     "A scope for `with` in which operations are recorded for `backward`: those on arrays marked\n"
     "with `attach_grad` and on the results that depend on them. Scopes nest, and each restores\n"
     "the flags it found when it ends, also when its body raises.\n"
     "\n"
     "Parameters\n"
     "----------\n"
     "train_mode : bool, optional\n"
     "    Whether the body runs in training mode (default True), which Dropout and BatchNorm look\n"
     "    at; run backward in the same mode as the forward pass.\n"
     "\n"
     "Returns\n"
     "-------\n"
     "Scope\n"
     "    The scope, for a `with` statement.\n"},
    {"pause", (PyCFunction)(void (*)(void))ext_pause, METH_FASTCALL | METH_KEYWORDS,
     "pause($module, /, train_mode=False)\n"
     "--\n"
     "\n"
     "A scope for `with` in which nothing is recorded, inside a record scope (for updates,\n"
     "metrics, tests). Scopes nest, and each restores the flags it found when it ends.\n"
     "\n"
     "Parameters\n"
     "----------\n"
     "train_mode : bool, optional\n"
     "    Whether the body runs in training mode (default False).\n"
     "\n"
     "Returns\n"
     "-------\n"
     "Scope\n"
     "    The scope, for a `with` statement.\n"},
    {"train_mode", ext_train_mode, METH_NOARGS,
     "train_mode($module, /)\n"
     "--\n"
     "\n"
     "A scope for `with` in which operations run in training mode (Dropout drops, BatchNorm uses\n"
     "the batch's statistics), with recording left as it is.\n"
     "\n"
     "Returns\n"
     "-------\n"
     "Scope\n"
     "    The scope, for a `with` statement.\n"},
    {"predict_mode", ext_predict_mode, METH_NOARGS,
     "predict_mode($module, /)\n"
     "--\n"
     "\n"
     "A scope for `with` in which operations run in prediction mode (Dropout passes its input\n"
     "through, BatchNorm uses the moving statistics), with recording left as it is.\n"
     "\n"
     "Returns\n"
     "-------\n"
     "Scope\n"
     "    The scope, for a `with` statement.\n"},
    {NULL}
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "ad._ext",
    .m_doc = "The per-op path of ad's Python binding, in C.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__ext(void)
{
    PyObject *lib_module, *path, *m;
    const char *path_utf8;
    int failed;

    /* The library that ad._lib loaded through ctypes. */
    lib_module = PyImport_ImportModule("ad._lib");
    if (lib_module == NULL)
        return NULL;
    path = PyObject_GetAttrString(lib_module, "path");
    Py_DECREF(lib_module);
    if (path == NULL)
        return NULL;
    path_utf8 = PyUnicode_AsUTF8(path);
    failed = path_utf8 == NULL || resolve(path_utf8) < 0;
    Py_DECREF(path);
    if (failed)
        return NULL;

    if (PyType_Ready(&ArrayType) < 0 || PyType_Ready(&ScopeType) < 0 || PyType_Ready(&LoanType) < 0)
        return NULL;
    m = PyModule_Create(&module_def);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ArrayType);
    if (PyModule_AddObject(m, "ArrayBase", (PyObject *)&ArrayType) < 0) {
        Py_DECREF(&ArrayType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&ScopeType);
    if (PyModule_AddObject(m, "Scope", (PyObject *)&ScopeType) < 0) {
        Py_DECREF(&ScopeType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&LoanType);
    if (PyModule_AddObject(m, "Loan", (PyObject *)&LoanType) < 0) {
        Py_DECREF(&LoanType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
