//! Per-thread recording and training flags, and the scopes that set and restore them
//! (MXNet's `record`, `pause`, `train_mode`, `predict_mode`).

use std::cell::{Cell, RefCell};

use crate::error::{bail, Result};

/// What a scope sets on entry; its end restores what was there before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    /// Recording on; training as given.
    Record,
    /// Recording off; training as given.
    Pause,
    /// Training on; recording unchanged.
    TrainMode,
    /// Training off; recording unchanged.
    PredictMode,
}

impl ScopeKind {
    fn name(self) -> &'static str {
        match self {
            ScopeKind::Record => "record",
            ScopeKind::Pause => "pause",
            ScopeKind::TrainMode => "train_mode",
            ScopeKind::PredictMode => "predict_mode",
        }
    }
}

/// An open scope: its kind and the flags to restore when it ends.
struct Frame {
    kind: ScopeKind,
    recording: bool,
    training: bool,
}

thread_local! {
    static RECORDING: Cell<bool> = const { Cell::new(false) };
    static TRAINING: Cell<bool> = const { Cell::new(false) };
    static SCOPES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

pub fn is_recording() -> bool {
    RECORDING.with(|r| r.get())
}

pub fn is_training() -> bool {
    TRAINING.with(|t| t.get())
}

/// Sets this thread's recording flag; returns the previous value.
pub fn set_recording(on: bool) -> bool {
    RECORDING.with(|r| r.replace(on))
}

/// Sets this thread's training flag; returns the previous value.
pub fn set_training(on: bool) -> bool {
    TRAINING.with(|t| t.replace(on))
}

/// Enters a scope. `train_mode` is used by `Record` and `Pause` and ignored by the others.
pub fn scope_begin(kind: ScopeKind, train_mode: bool) {
    SCOPES.with(|s| s.borrow_mut().push(Frame { kind, recording: is_recording(), training: is_training() }));
    match kind {
        ScopeKind::Record => {
            set_recording(true);
            set_training(train_mode);
        }
        ScopeKind::Pause => {
            set_recording(false);
            set_training(train_mode);
        }
        ScopeKind::TrainMode => {
            set_training(true);
        }
        ScopeKind::PredictMode => {
            set_training(false);
        }
    }
}

/// Leaves the innermost scope, which must be of `kind`, and restores the flags it saved.
pub fn scope_end(kind: ScopeKind) -> Result<()> {
    SCOPES.with(|s| {
        let mut scopes = s.borrow_mut();
        match scopes.last() {
            None => bail!(Autograd, "{}_end called with no open scope on this thread", kind.name()),
            Some(top) if top.kind != kind => bail!(
                Autograd,
                "{}_end called while the innermost open scope on this thread is {}",
                kind.name(),
                top.kind.name()
            ),
            Some(_) => {}
        }
        let saved = scopes.pop().expect("checked above");
        set_recording(saved.recording);
        set_training(saved.training);
        Ok(())
    })
}

/// Sets both flags for its lifetime and restores them when dropped, also on early return.
pub(crate) struct FlagsGuard {
    recording: bool,
    training: bool,
}

impl FlagsGuard {
    pub(crate) fn set(recording: bool, training: bool) -> FlagsGuard {
        FlagsGuard { recording: set_recording(recording), training: set_training(training) }
    }
}

impl Drop for FlagsGuard {
    fn drop(&mut self) {
        set_recording(self.recording);
        set_training(self.training);
    }
}
