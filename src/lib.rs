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
pub mod ops;
pub mod reference;

pub use array::{DType, NdArray};
pub use autograd::GradReq;
pub use error::{Error, ErrorKind, Result};
