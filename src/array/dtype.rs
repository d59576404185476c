//! Element types. The engine is generic over `Element`; an array holds one of its instances.

use super::storage::Buffer;

/// The element type of an array. The discriminants are the C API's `ad_dtype` values, which
/// follow MXNet's dtype codes (float32 0, float64 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32 = 0,
    F64 = 1,
}

impl DType {
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    pub fn from_code(code: u32) -> Option<DType> {
        match code {
            0 => Some(DType::F32),
            1 => Some(DType::F64),
            _ => None,
        }
    }

    pub fn size_of(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
        }
    }
}

/// A float type an array can hold: f32 or f64. Kernels are written once, generic over it.
pub trait Element:
    ndarray::NdFloat + num_traits::FromPrimitive + super::print::PrintFloat + Default + Send + Sync + 'static
{
    const DTYPE: DType;
    /// Wraps a vector of this type into the dtype-tagged buffer.
    fn wrap(v: Vec<Self>) -> Buffer;
    /// `v` rounded to this type (how a scalar argument meets an array, as in MXNet).
    fn of(v: f64) -> Self;
    fn as_f64(self) -> f64;
    /// The elements of `b` if it holds this type.
    fn slice_of(b: &Buffer) -> Option<&[Self]>;
    fn slice_of_mut(b: &mut Buffer) -> Option<&mut [Self]>;
    /// The vector inside `b`, if it holds this type in the library's own memory.
    fn vec_from(b: Buffer) -> std::result::Result<Vec<Self>, Buffer>;
    /// Appends exp / log / sigmoid / tanh of each element to `out` (vectorised for f32, where
    /// the per-element libm call would dominate).
    fn extend_exp(v: &[Self], out: &mut Vec<Self>) {
        out.extend(v.iter().map(|x| x.exp()));
    }
    fn extend_log(v: &[Self], out: &mut Vec<Self>) {
        out.extend(v.iter().map(|x| x.ln()));
    }
    fn extend_sigmoid(v: &[Self], out: &mut Vec<Self>) {
        out.extend(v.iter().map(|&x| Self::one() / (Self::one() + (-x).exp())));
    }
    fn extend_tanh(v: &[Self], out: &mut Vec<Self>) {
        out.extend(v.iter().map(|x| x.tanh()));
    }
}

impl Element for f32 {
    const DTYPE: DType = DType::F32;
    fn extend_exp(v: &[f32], out: &mut Vec<f32>) {
        crate::cpu::vmath::exp(v, out)
    }
    fn extend_log(v: &[f32], out: &mut Vec<f32>) {
        crate::cpu::vmath::log(v, out)
    }
    fn extend_sigmoid(v: &[f32], out: &mut Vec<f32>) {
        crate::cpu::vmath::sigmoid(v, out)
    }
    fn extend_tanh(v: &[f32], out: &mut Vec<f32>) {
        crate::cpu::vmath::tanh(v, out)
    }
    fn wrap(v: Vec<f32>) -> Buffer {
        Buffer::F32(v.into())
    }
    fn of(v: f64) -> f32 {
        v as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
    fn vec_from(b: Buffer) -> std::result::Result<Vec<f32>, Buffer> {
        match b {
            Buffer::F32(v) => v.into_vec().map_err(Buffer::F32),
            other => Err(other),
        }
    }
    fn slice_of(b: &Buffer) -> Option<&[f32]> {
        match b {
            Buffer::F32(v) => Some(v),
            _ => None,
        }
    }
    fn slice_of_mut(b: &mut Buffer) -> Option<&mut [f32]> {
        match b {
            Buffer::F32(v) => Some(v),
            _ => None,
        }
    }
}

impl Element for f64 {
    const DTYPE: DType = DType::F64;
    fn wrap(v: Vec<f64>) -> Buffer {
        Buffer::F64(v.into())
    }
    fn of(v: f64) -> f64 {
        v
    }
    fn as_f64(self) -> f64 {
        self
    }
    fn vec_from(b: Buffer) -> std::result::Result<Vec<f64>, Buffer> {
        match b {
            Buffer::F64(v) => v.into_vec().map_err(Buffer::F64),
            other => Err(other),
        }
    }
    fn slice_of(b: &Buffer) -> Option<&[f64]> {
        match b {
            Buffer::F64(v) => Some(v),
            _ => None,
        }
    }
    fn slice_of_mut(b: &mut Buffer) -> Option<&mut [f64]> {
        match b {
            Buffer::F64(v) => Some(v),
            _ => None,
        }
    }
}
