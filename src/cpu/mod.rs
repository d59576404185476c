//! The bottom layer: what runs the loops. The fork-join pool (`threads`), loops split over it
//! (`loops`), and the vectorised float32 math (`vmath`). Nothing here knows arrays or graphs.

pub mod loops;
pub mod threads;
pub mod vmath;
