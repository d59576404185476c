//! The engine's error type. Every fallible operation returns `Result<T>`; the C boundary turns
//! the kind into an `ad_status` and the message into `ad_last_error()`.

use std::fmt;

/// What went wrong, coarsely: one kind per status code of the C API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A shape is wrong for the operation: mismatched operands, a bad reshape, an axis out of range.
    Shape,
    /// Operands of different dtypes, or a dtype the operation does not support.
    DType,
    /// An argument value is out of its domain (a negative step, an unknown enum value, ...).
    InvalidArgument,
    /// An index is out of range.
    Index,
    /// The autograd state does not allow the call: no recorded history, a released graph,
    /// unbalanced scopes.
    Autograd,
    /// An allocation could not be made, or an element count overflows.
    Alloc,
    /// The operating system refused a file operation (open, read, write, rename).
    Io,
    /// A file's contents are not what its format requires (truncated, corrupt, inconsistent).
    Format,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `return Err(Error::new(kind, format!(...)))` in one line.
macro_rules! bail {
    ($kind:ident, $($fmt:tt)+) => {
        return Err($crate::error::Error::new($crate::error::ErrorKind::$kind, format!($($fmt)+)))
    };
}
pub(crate) use bail;
