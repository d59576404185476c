//! The bottom layer: what runs the loops. The fork-join pool (`threads`), loops split over it
//! (`loops`), the vectorised float32 math (`vmath`), the float32 matrix product's kernels
//! (`sgemm`), which vector instructions the kernels use (`level`), the caches' sizes
//! (`caches`) and stores that go around them (`stream`). Nothing here knows arrays or graphs.

pub(crate) mod caches;
pub mod level;
pub mod loops;
pub mod sgemm;
pub(crate) mod stream;
pub mod threads;
pub mod vmath;
