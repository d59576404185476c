//! Helpers shared by the engine's integration tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ad::autograd::{self, GradReq, ScopeKind};
use ad::{DType, NdArray};

/// A float64 array.
pub fn arr(vals: &[f64], shape: &[usize]) -> NdArray {
    NdArray::from_slice(vals, shape).unwrap()
}

/// An array of `dtype` holding `vals`.
pub fn typed(vals: &[f64], shape: &[usize], dtype: DType) -> NdArray {
    match dtype {
        DType::F64 => arr(vals, shape),
        DType::F32 => NdArray::from_slice(&vals.iter().map(|&v| v as f32).collect::<Vec<_>>(), shape).unwrap(),
        other => ad::ops::astype(&arr(vals, shape), other).unwrap(),
    }
}

/// An array of `dtype` with a grad_req write gradient buffer.
pub fn var_typed(vals: &[f64], shape: &[usize], dtype: DType) -> NdArray {
    let mut x = typed(vals, shape, dtype);
    autograd::attach_grad(&mut x, GradReq::Write).unwrap();
    x
}

/// A float64 array with a gradient buffer of the given request.
pub fn var_req(vals: &[f64], shape: &[usize], req: GradReq) -> NdArray {
    let mut x = arr(vals, shape);
    autograd::attach_grad(&mut x, req).unwrap();
    x
}

/// A float64 array with a grad_req write gradient buffer.
pub fn var(vals: &[f64], shape: &[usize]) -> NdArray {
    var_req(vals, shape, GradReq::Write)
}

/// `backward` with default options: retain_graph false, train_mode true.
pub fn backward(heads: &[NdArray], head_grads: &[Option<NdArray>]) -> ad::Result<()> {
    autograd::backward(heads, head_grads, false, true)
}

/// Runs `f` inside `record(train_mode = true)`.
pub fn record<R>(f: impl FnOnce() -> R) -> R {
    autograd::scope_begin(ScopeKind::Record, true);
    let r = f();
    autograd::scope_end(ScopeKind::Record).unwrap();
    r
}

/// The values of `x`'s gradient buffer.
pub fn grad(x: &NdArray) -> Vec<f64> {
    autograd::grad_of(x).expect("the array has a gradient buffer").to_f64_vec()
}

/// `got` equals `want` to 1e-12 relative (to max(1, |want|)), element by element.
pub fn assert_close(got: &[f64], want: &[f64]) {
    assert!(close(got, want, 1e-12), "got {got:?}, want {want:?}");
}

/// Whether `got` is within `tol` of `want` (relative to max(1, |want|)) element by element.
pub fn close(got: &[f64], want: &[f64], tol: f64) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() <= tol * w.abs().max(1.0))
}

/// The reference mode is process-wide: tests that switch it hold this lock.
static MODE: Mutex<()> = Mutex::new(());

/// Runs `f` once in the default mode and once in the reference mode, with the mode's name.
pub fn in_both_modes(mut f: impl FnMut(&str)) {
    let _lock: MutexGuard<'_, ()> = MODE.lock().unwrap_or_else(|e| e.into_inner());
    for (on, name) in [(false, "default mode"), (true, "reference mode")] {
        let before = ad::reference::set(on);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(name)));
        ad::reference::set(before);
        if let Err(p) = r {
            std::panic::resume_unwind(p);
        }
    }
}

/// Set in a child process that runs one test's body.
const CHILD: &str = "AD_TEST_CHILD";

/// Runs `body` in a child process (this test binary again, running only test `name`), and
/// fails if the child fails, crashes (a stack overflow, an abort) or is still running at
/// `deadline` (then it is killed: a deadlock).
pub fn in_child_process(name: &str, deadline: Duration, body: impl FnOnce()) {
    if std::env::var_os(CHILD).is_some() {
        // A failed assertion on any thread ends the child at once (its other threads could be
        // waiting for the failed one, and would look like a deadlock).
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            report(info);
            std::process::exit(101);
        }));
        body();
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child process");
    // Drained as it comes, so that a full pipe never stalls the child.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("piped")));
    let err = drain(Box::new(child.stderr.take().expect("piped")));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for the child") {
            break Some(s);
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = format!("{}{}", out.join().unwrap_or_default(), err.join().unwrap_or_default());
    match status {
        None => panic!("{name}: still running after {deadline:?}, killed: a deadlock.\nits output:\n{output}"),
        Some(s) if !s.success() => panic!("{name}: the child process failed ({s}).\nits output:\n{output}"),
        Some(_) => print!("{output}"),
    }
}
