//! The panic boundary. Every export's body runs inside `ffi_boundary!`, which catches panics
//! (none crosses into C), turns an error into its `ad_status` and this thread's
//! `ad_last_error()` message, and names the export in that message without the name being
//! spelled anywhere: it is read from the type name of an item the macro declares inside the
//! export (`ad::ffi::ops::ad_exp::Here` → `ad_exp`), and only when a call fails.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use super::ad_status;
use super::engine::{threads, Error, ErrorKind};

/// Runs an export's body inside the panic boundary.
///
/// - `ffi_boundary!({ body })`, for an export returning `ad_status`: `body` is an
///   `FfiResult<()>`; `Ok` is `AD_OK`, an error its status (and `ad_last_error`), a panic
///   `AD_ERR_PANIC`.
/// - `ffi_boundary!(panic => fallback, { body })`, for an export returning a value: `body`
///   is that value; a panic returns `fallback` (and sets `ad_last_error`).
macro_rules! ffi_boundary {
    ($body:block) => {
        $crate::ffi::boundary::run(export_name!(), || $body)
    };
    (panic => $fallback:expr, $body:block) => {
        $crate::ffi::boundary::run_value(export_name!(), || $fallback, || $body)
    };
}

/// The name of the export this expands in, as a function that computes it from the type name
/// of an item declared here. It expands outside the body's closure, so that no `{{closure}}`
/// segment comes between (and those are skipped anyway).
macro_rules! export_name {
    () => {{
        struct Here;
        fn name() -> &'static str {
            $crate::ffi::boundary::enclosing_function(::std::any::type_name::<Here>())
        }
        name
    }};
}

/// `ad::ffi::ops::ad_exp::Here` → `ad_exp`: the last path segment before the item's own that
/// names a function, not a closure.
pub(crate) fn enclosing_function(item_path: &'static str) -> &'static str {
    item_path.rsplit("::").skip(1).find(|s| !s.starts_with('{')).unwrap_or(item_path)
}

/// An error on its way to C: a status and the message for `ad_last_error`.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub(crate) status: ad_status,
    pub(crate) message: String,
}

impl FfiError {
    pub(crate) fn new(status: ad_status, message: impl Into<String>) -> FfiError {
        FfiError { status, message: message.into() }
    }
}

impl From<Error> for FfiError {
    fn from(e: Error) -> FfiError {
        let status = match e.kind {
            ErrorKind::Shape => ad_status::AD_ERR_SHAPE,
            ErrorKind::DType => ad_status::AD_ERR_DTYPE,
            ErrorKind::InvalidArgument => ad_status::AD_ERR_INVALID_ARGUMENT,
            ErrorKind::Index => ad_status::AD_ERR_INDEX,
            ErrorKind::Autograd => ad_status::AD_ERR_AUTOGRAD,
            ErrorKind::Alloc => ad_status::AD_ERR_ALLOC,
            ErrorKind::Io => ad_status::AD_ERR_IO,
            ErrorKind::Format => ad_status::AD_ERR_FORMAT,
        };
        FfiError { status, message: e.message }
    }
}

pub(crate) type FfiResult<T> = Result<T, FfiError>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    /// The name of the export running on this thread (the innermost, when a callback calls
    /// the library again), for the dtype rule of its array arguments (`args::handle`); `None`
    /// outside every export's boundary. With it, whether that export converted a float16
    /// operand to float32 (its float32 results then go back to float16). One cell for these
    /// facts: each call sets and restores it, and the per-op path pays for every thread-local
    /// access.
    static EXPORT: Cell<(Option<fn() -> &'static str>, bool)> = const { Cell::new((None, false)) };
}

/// The name of the export running on this thread, if any.
pub(crate) fn current_export() -> Option<&'static str> {
    EXPORT.with(|e| e.get().0).map(|name| name())
}

/// How many exports, on all threads, are running with a converted float16 operand: while
/// none is, storing a result needs no look at this thread's cell (a thread-local access in a
/// shared library costs a call; a relaxed load, one instruction).
static CONVERTING: AtomicUsize = AtomicUsize::new(0);

/// Notes that the running export computes on a float16 operand converted to float32.
pub(crate) fn converted_float16() {
    EXPORT.with(|e| {
        let (name, converted) = e.get();
        if !converted {
            CONVERTING.fetch_add(1, Ordering::Relaxed);
            e.set((name, true));
        }
    });
}

/// Whether the running export converted a float16 operand to float32.
#[inline]
pub(crate) fn converts_float16() -> bool {
    CONVERTING.load(Ordering::Relaxed) != 0 && this_export_converts()
}

/// Out of line: inlined, the compiler computes the thread-local's address (a call in a
/// shared library) before the count is even read.
#[cold]
#[inline(never)]
fn this_export_converts() -> bool {
    EXPORT.with(|e| e.get().1)
}

/// `array`, or its float16 conversion if it is a float32 result of an export that converted a
/// float16 operand (recorded, so that gradients flow back through it): float16 operands give
/// float16 results, computed in float32, as MXNet's CPU kernels compute float16.
#[cold]
pub(crate) fn float16_result(array: super::engine::NdArray) -> FfiResult<super::engine::NdArray> {
    use super::engine::{ops, DType};
    if array.dtype() == DType::F32 && converts_float16() {
        return Ok(ops::astype(&array, DType::F16)?);
    }
    Ok(array)
}

/// The body of an export that returns `ad_status`. (Not forced inline: in W1, forcing it made
/// a plain op slower and a recorded one faster, a few ns each.)
pub(crate) fn run(name: fn() -> &'static str, body: impl FnOnce() -> FfiResult<()>) -> ad_status {
    match guarded(name, body) {
        Ok(Ok(())) => ad_status::AD_OK,
        Ok(Err(e)) => failed(name(), e),
        Err(panic) => panicked(name(), panic),
    }
}

/// The body of an export that returns a value instead of a status: a panic returns
/// `fallback()` and leaves its message in `ad_last_error`.
pub(crate) fn run_value<T>(name: fn() -> &'static str, fallback: impl FnOnce() -> T, body: impl FnOnce() -> T) -> T {
    match guarded(name, body) {
        Ok(value) => value,
        Err(panic) => {
            panicked(name(), panic);
            fallback()
        }
    }
}

fn guarded<R>(name: fn() -> &'static str, body: impl FnOnce() -> R) -> std::thread::Result<R> {
    install_quiet_panic_hook();
    let outer = EXPORT.with(|e| e.replace((Some(name), false)));
    let result = catch_unwind(AssertUnwindSafe(body));
    if EXPORT.with(|e| e.replace(outer)).1 {
        CONVERTING.fetch_sub(1, Ordering::Relaxed);
    }
    result
}

/// An error's status, its message (prefixed with the export's name) kept for `ad_last_error`.
#[cold]
#[inline(never)]
fn failed(name: &str, e: FfiError) -> ad_status {
    // Engine messages may already name the op ("dot: ..."): name it once, as here.
    let op = name.strip_prefix("ad_").unwrap_or(name);
    let message = e.message.strip_prefix(op).and_then(|m| m.strip_prefix(": ")).unwrap_or(&e.message);
    set_last_error(format!("{}: {}", name, message));
    e.status
}

#[cold]
#[inline(never)]
fn panicked(name: &str, panic: Box<dyn Any + Send>) -> ad_status {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    set_last_error(format!("{}: internal error (please report): {}", name, what));
    ad_status::AD_ERR_PANIC
}

fn set_last_error(message: String) {
    // Interior NULs cannot appear in a C string; they never come from our messages, but a
    // message must never be lost to one.
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    // `try_with`: during this thread's exit the slot may be gone; the message is then lost,
    // but nothing panics outside the boundary.
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = c);
}

/// This thread's last message as text (for a callback's failure that left no message of its
/// own).
pub(crate) fn last_error_text() -> String {
    LAST_ERROR.try_with(|e| e.borrow().to_string_lossy().into_owned()).unwrap_or_default()
}

/// This thread's last message, for `ad_last_error`; `""` during the thread's exit.
pub(crate) fn last_error() -> *const c_char {
    LAST_ERROR.try_with(|e| e.borrow().as_ptr()).unwrap_or(c"".as_ptr())
}

/// The library prints nothing on the host's stderr, which Rust's default panic hook would do
/// for a panic even when the boundary catches it. This hook, installed at the first call,
/// stays silent for panics inside the boundary and on the library's own worker threads (the
/// message reaches the caller through `ad_last_error`), and hands any other panic to the
/// hook that was there before: a Rust program using the crate keeps its own reports.
fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let ours = EXPORT.with(|e| e.get().0.is_some())
                || std::thread::current().name().is_some_and(|n| n.starts_with(threads::WORKER_NAME));
            if !ours {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_is_named_from_the_item_inside_it() {
        assert_eq!(enclosing_function("ad::ffi::ops::ad_exp::Here"), "ad_exp");
        assert_eq!(enclosing_function("ad::ffi::ops::ad_exp::{{closure}}::Here"), "ad_exp");
        fn ad_example() -> &'static str {
            export_name!()()
        }
        assert_eq!(ad_example(), "ad_example");
    }

    const CHILD: &str = "AD_TEST_PANIC_HOOK_CHILD";

    fn ad_test_panics() -> ad_status {
        ffi_boundary!({ panic!("boom inside") })
    }

    fn ad_test_panics_for_a_value() -> u32 {
        ffi_boundary!(panic => 7, { panic!("boom for a value") })
    }

    /// Run in a child process (this test binary again, with `CHILD` set), so that what the
    /// panics print reaches a real stderr that the parent reads.
    #[test]
    fn panics_inside_the_library_print_nothing_and_others_still_do() {
        if std::env::var_os(CHILD).is_some() {
            let last = || unsafe { std::ffi::CStr::from_ptr(last_error()) }.to_string_lossy().into_owned();
            assert_eq!(ad_test_panics(), ad_status::AD_ERR_PANIC);
            assert!(last().starts_with("ad_test_panics: internal error") && last().contains("boom inside"), "{}", last());
            assert_eq!(ad_test_panics_for_a_value(), 7);
            assert!(last().starts_with("ad_test_panics_for_a_value: ") && last().contains("boom for a value"), "{}", last());
            let worker = std::thread::Builder::new()
                .name(format!("{}test", threads::WORKER_NAME))
                .spawn(|| panic!("boom on a worker"))
                .unwrap();
            assert!(worker.join().is_err());
            assert!(std::panic::catch_unwind(|| panic!("boom outside")).is_err());
            eprintln!("child done");
            return;
        }
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "ffi::boundary::tests::panics_inside_the_library_print_nothing_and_others_still_do", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "the child failed:\n{}\n{}", String::from_utf8_lossy(&output.stdout), stderr);
        assert!(stderr.contains("child done"), "{}", stderr);
        assert!(
            !stderr.contains("boom inside") && !stderr.contains("boom for a value") && !stderr.contains("boom on a worker"),
            "a library panic was printed:\n{}",
            stderr
        );
        assert!(stderr.contains("boom outside"), "a panic outside the library went unreported:\n{}", stderr);
    }
}
