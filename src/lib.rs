//! `ad`: reverse-mode automatic differentiation over n-dimensional arrays, with MXNet's
//! imperative `autograd` + `nd` behaviour, behind a C ABI.
//!
//! Layers, each using only those below it: `ffi` (the C ABI) → `autograd` (the tape) and
//! `ops` (forward kernels and their vector-Jacobian products) → `array` (storage, dtype,
//! shape, printing).

pub mod array;
pub mod autograd;
pub mod error;
pub mod ffi;
pub mod cpu;
pub mod ops;
pub mod reference;
pub mod tape;

pub use array::{Array, DType};
pub use tape::NdArray;
pub use autograd::GradReq;
pub use error::{Error, ErrorKind, Result};
