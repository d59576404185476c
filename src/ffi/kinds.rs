//! The bodies of the export shapes that repeat. Each expands to the whole body of an export
//! that returns `ad_status`: the panic boundary, the arguments' conversion (named after the
//! export's parameters), the call, and its result written to the out-parameter. The
//! export keeps its doc comment and its signature, which cbindgen reads; its body is one line,
//! such as `unary!(ops::exp, a, out)`.
//!
//! Each macro calls its op directly, not through a function pointer: the op's result (a few
//! words of array) is then built in place instead of being passed back through memory by an
//! indirect call.

/// An export that makes one array: checks `out` first (so that nothing is computed for
/// nothing), evaluates `make` (an engine `Result<NdArray>` or an `FfiResult<NdArray>`), and
/// writes the array's new handle to `*out`.
macro_rules! new_array {
    ($out:ident, $make:expr) => {
        ffi_boundary!({
            let out = arg!(out $out)?;
            out.put($make?)
        })
    };
}

/// An export that writes one value to `*out`: checks `out` first, then computes `value`.
macro_rules! query {
    ($out:ident, $value:expr) => {
        ffi_boundary!({
            let out = arg!(out $out)?;
            out.set($value);
            Ok(())
        })
    };
}

/// `op(a)` for one handle `a`: `unary!(ops::exp, a, out)`.
macro_rules! unary {
    ($op:expr, $a:ident, $out:ident) => {
        new_array!($out, $op(&arg!(handle $a)?))
    };
}

/// `op(a, b)` for two handles: `binary!(ops::add, a, b, out)`.
macro_rules! binary {
    ($op:expr, $a:ident, $b:ident, $out:ident) => {
        new_array!($out, $op(&arg!(handle $a)?, &arg!(handle $b)?))
    };
}

/// `op(a, s)` for a handle and a number: `scalar!(ops::add_scalar, a, s, out)`.
macro_rules! scalar {
    ($op:expr, $a:ident, $s:ident, $out:ident) => {
        new_array!($out, $op(&arg!(handle $a)?, $s))
    };
}

/// `op(a, axes, keepdims)`, a reduction over a list of axes: `reduction!(ops::sum, a, axes,
/// naxes, keepdims, out)`.
macro_rules! reduction {
    ($op:expr, $a:ident, $axes:ident, $naxes:ident, $keepdims:ident, $out:ident) => {
        new_array!($out, $op(&arg!(handle $a)?, arg!(axes $axes, $naxes)?, $keepdims))
    };
}
