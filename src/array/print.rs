//! Placeholder printer (replaced by the numpy-exact one).
pub trait PrintFloat: Copy + PartialOrd + std::fmt::Display {}
impl PrintFloat for f32 {}
impl PrintFloat for f64 {}
pub fn format_array<T: PrintFloat>(data: &[T], shape: &[usize]) -> String {
    let _ = shape;
    format!("{:?}", data.iter().map(|v| v.to_string()).collect::<Vec<_>>())
}
