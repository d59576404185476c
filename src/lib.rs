//! `ad`: reverse-mode automatic differentiation over n-dimensional arrays, with MXNet's
//! imperative `autograd` + `nd` behaviour, behind a C ABI.
//!
//! The modules form layers; each uses only those below it (`tests/layers.rs` checks):
//!
//! ```text
//! ffi        the C ABI: handles, the panic boundary, pointers turned into values
//! autograd   backward and grad: the walk over the tape; the autograd API
//! ops        each op's kernel, and its forward beside its vector-Jacobian product;
//!            element-wise chains on large arrays deferred and fused into one loop
//! tape       NdArray (values + place in the graph), nodes, recording, scopes
//! io         (beside tape) checkpoints: arrays in NumPy's .npy and .npz files
//! array      Array (values: a view on shared storage), dtypes, shapes, printing
//! cpu        the thread pool, loops split over it, vectorised math
//! error, reference
//! ```

pub mod array;
pub mod autograd;
pub mod cpu;
pub mod error;
pub mod ffi;
pub mod io;
pub mod ops;
pub mod reference;
pub mod tape;

pub use array::{Array, DType};
pub use tape::NdArray;
pub use autograd::GradReq;
pub use error::{Error, ErrorKind, Result};
