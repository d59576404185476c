//! The bottom layer: what runs the loops. The fork-join pool (`threads`), loops split over it
//! (`loops`), the vectorised float32 math (`vmath`), and which vector instructions the
//! kernels use (`level`). Nothing here knows arrays or graphs.

pub mod level;
pub mod loops;
pub mod threads;
pub mod vmath;
