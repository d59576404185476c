//! Helpers shared by the engine's integration tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::sync::{Mutex, MutexGuard};

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
    }
}

/// An array of `dtype` with a grad_req write gradient buffer.
pub fn var(vals: &[f64], shape: &[usize], dtype: DType) -> NdArray {
    let mut x = typed(vals, shape, dtype);
    autograd::attach_grad(&mut x, GradReq::Write).unwrap();
    x
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
