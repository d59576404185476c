//! The bottom layer: what runs the loops. The fork-join pool (`threads`), loops split over it
//! (`loops`), the vectorised float32 math (`vmath`), the float32 matrix product's kernels
//! (`sgemm`), and which vector instructions the kernels use (`level`). Nothing here knows
//! arrays or graphs.

pub mod level;
pub mod loops;
pub mod sgemm;
pub mod threads;
pub mod vmath;
