//! Element types. The engine is generic over `Element`; an array holds one of its instances.

use std::mem::MaybeUninit;
use super::storage::Buffer;

/// The element type of an array. The discriminants are the C API's `ad_dtype` values, which
/// are MXNet's dtype codes (mshadow's `kFloat32` 0, `kFloat64` 1, `kUint8` 3, `kInt32` 4,
/// `kInt8` 5, `kInt64` 6, `kBool` 7, `kFloat16` 2). Only float32 and float64 are differentiable
/// and computed on; float16 is a storage type (IEEE binary16), and the others are stored,
/// moved, compared and converted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32 = 0,
    F64 = 1,
    F16 = 2,
    U8 = 3,
    I32 = 4,
    I8 = 5,
    I64 = 6,
    Bool = 7,
}

impl DType {
    /// Every dtype, in code order.
    pub fn all() -> [DType; 8] {
        [DType::F32, DType::F64, DType::F16, DType::U8, DType::I32, DType::I8, DType::I64, DType::Bool]
    }

    /// NumPy's (and MXNet's) name.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::F16 => "float16",
            DType::U8 => "uint8",
            DType::I32 => "int32",
            DType::I8 => "int8",
            DType::I64 => "int64",
            DType::Bool => "bool",
        }
    }

    pub fn from_code(code: u32) -> Option<DType> {
        DType::all().into_iter().find(|d| *d as u32 == code)
    }

    pub fn size_of(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::F16 => 2,
            DType::U8 | DType::I8 | DType::Bool => 1,
        }
    }

    /// Whether arrays of this dtype are computed on and differentiated (float32, float64).
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// Whether elements are floating point (float16 too): how they convert, print and lend.
    pub fn is_floating(self) -> bool {
        matches!(self, DType::F32 | DType::F64 | DType::F16)
    }
}

/// A bool element: one byte, false when 0 and true otherwise (any byte the host writes through
/// a loan reads as a bool); the library writes only 0 and 1.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bool(pub u8);

impl Bool {
    pub fn get(self) -> bool {
        self.0 != 0
    }
}

/// A type an array's elements can have, float or not: what ops that only move elements
/// (copies, views, gathers, concatenation) and conversions need.
pub trait Scalar: Copy + Default + Send + Sync + std::fmt::Debug + 'static {
    const DTYPE: DType;
    /// Wraps a vector of this type into the dtype-tagged buffer.
    fn wrap(v: Vec<Self>) -> Buffer;
    /// The elements of `b` if it holds this type.
    fn slice_of(b: &Buffer) -> Option<&[Self]>;
    fn slice_of_mut(b: &mut Buffer) -> Option<&mut [Self]>;
    /// The vector inside `b`, if it holds this type in the library's own memory.
    fn vec_from(b: Buffer) -> std::result::Result<Vec<Self>, Buffer>;
    /// The value as f64 (exact but for int64 beyond 2^53, which rounds).
    fn value_f64(self) -> f64;
    /// The value as i64: whole-number types exactly, floats truncated as `cast_f64` does.
    fn value_i64(self) -> i64;
    /// NumPy's cast from float64 (what `astype` does): floats round to nearest; integers
    /// truncate toward zero, and NaN, infinities and values out of range become what x86's
    /// conversion gives, as NumPy and MXNet do there (int32/int64: their minimum; uint8/int8:
    /// the low byte of the int32 conversion); bool is `x != 0` (NaN is true).
    fn cast_f64(v: f64) -> Self;
    /// NumPy's cast from a whole number: integers wrap (keep the low bits), floats round to
    /// nearest, bool is `v != 0`.
    fn cast_i64(v: i64) -> Self;
}

/// The integer types' arithmetic as MXNet 1.9.1 does it on integer arrays: in the type,
/// wrapping around.
pub trait Integer: Scalar + PartialOrd {
    fn plus(self, o: Self) -> Self;
    fn minus(self, o: Self) -> Self;
    fn times(self, o: Self) -> Self;
    /// 1 or 0.
    fn truth(b: bool) -> Self;
}

macro_rules! integer {
    ($t:ty) => {
        impl Integer for $t {
            fn plus(self, o: $t) -> $t {
                self.wrapping_add(o)
            }
            fn minus(self, o: $t) -> $t {
                self.wrapping_sub(o)
            }
            fn times(self, o: $t) -> $t {
                self.wrapping_mul(o)
            }
            fn truth(b: bool) -> $t {
                b as $t
            }
        }
    };
}
integer!(u8);
integer!(i8);
integer!(i32);
integer!(i64);

/// The element conversion of `astype` and of reading into a buffer of another dtype.
#[inline]
pub fn convert<S: Scalar, D: Scalar>(x: S) -> D {
    if S::DTYPE.is_floating() {
        D::cast_f64(x.value_f64())
    } else {
        D::cast_i64(x.value_i64())
    }
}

/// x86's float-to-int32 conversion (`cvttsd2si`): truncation toward zero, and i32::MIN for
/// NaN and values out of range.
#[inline]
fn x86_i32(v: f64) -> i32 {
    if v.is_nan() || v <= -2147483649.0 || v >= 2147483648.0 {
        i32::MIN
    } else {
        v as i32
    }
}

macro_rules! scalar_common {
    ($t:ty, $variant:ident) => {
        const DTYPE: DType = DType::$variant;
        fn wrap(v: Vec<$t>) -> Buffer {
            Buffer::$variant(v.into())
        }
        fn slice_of(b: &Buffer) -> Option<&[$t]> {
            match b {
                Buffer::$variant(v) => Some(v),
                _ => None,
            }
        }
        fn slice_of_mut(b: &mut Buffer) -> Option<&mut [$t]> {
            match b {
                Buffer::$variant(v) => Some(v),
                _ => None,
            }
        }
        fn vec_from(b: Buffer) -> std::result::Result<Vec<$t>, Buffer> {
            match b {
                Buffer::$variant(v) => v.into_vec().map_err(Buffer::$variant),
                other => Err(other),
            }
        }
    };
}

impl Scalar for f32 {
    scalar_common!(f32, F32);
    fn value_f64(self) -> f64 {
        self as f64
    }
    fn value_i64(self) -> i64 {
        i64::cast_f64(self as f64)
    }
    fn cast_f64(v: f64) -> f32 {
        v as f32
    }
    fn cast_i64(v: i64) -> f32 {
        v as f32
    }
}

impl Scalar for f64 {
    scalar_common!(f64, F64);
    fn value_f64(self) -> f64 {
        self
    }
    fn value_i64(self) -> i64 {
        i64::cast_f64(self)
    }
    fn cast_f64(v: f64) -> f64 {
        v
    }
    fn cast_i64(v: i64) -> f64 {
        v as f64
    }
}

/// IEEE binary16. Its conversions round to nearest even, directly from float64 as NumPy's do.
pub use half::f16;

impl Scalar for f16 {
    scalar_common!(f16, F16);
    fn value_f64(self) -> f64 {
        self.to_f64()
    }
    fn value_i64(self) -> i64 {
        i64::cast_f64(self.to_f64())
    }
    fn cast_f64(v: f64) -> f16 {
        f16::from_f64(v)
    }
    fn cast_i64(v: i64) -> f16 {
        // Exact in f64 up to 2^53; beyond that float16 is infinite whichever way it rounds.
        f16::from_f64(v as f64)
    }
}

impl Scalar for i32 {
    scalar_common!(i32, I32);
    fn value_f64(self) -> f64 {
        self as f64
    }
    fn value_i64(self) -> i64 {
        self as i64
    }
    fn cast_f64(v: f64) -> i32 {
        x86_i32(v)
    }
    fn cast_i64(v: i64) -> i32 {
        v as i32
    }
}

impl Scalar for i64 {
    scalar_common!(i64, I64);
    fn value_f64(self) -> f64 {
        self as f64
    }
    fn value_i64(self) -> i64 {
        self
    }
    fn cast_f64(v: f64) -> i64 {
        // 2^63 is the first value out of range; NaN and out of range give x86's i64::MIN.
        if v.is_nan() || v < -9223372036854775808.0 || v >= 9223372036854775808.0 {
            i64::MIN
        } else {
            v as i64
        }
    }
    fn cast_i64(v: i64) -> i64 {
        v
    }
}

impl Scalar for u8 {
    scalar_common!(u8, U8);
    fn value_f64(self) -> f64 {
        self as f64
    }
    fn value_i64(self) -> i64 {
        self as i64
    }
    fn cast_f64(v: f64) -> u8 {
        x86_i32(v) as u8
    }
    fn cast_i64(v: i64) -> u8 {
        v as u8
    }
}

impl Scalar for i8 {
    scalar_common!(i8, I8);
    fn value_f64(self) -> f64 {
        self as f64
    }
    fn value_i64(self) -> i64 {
        self as i64
    }
    fn cast_f64(v: f64) -> i8 {
        x86_i32(v) as i8
    }
    fn cast_i64(v: i64) -> i8 {
        v as i8
    }
}

impl Scalar for Bool {
    scalar_common!(Bool, Bool);
    fn value_f64(self) -> f64 {
        self.get() as u8 as f64
    }
    fn value_i64(self) -> i64 {
        self.get() as i64
    }
    fn cast_f64(v: f64) -> Bool {
        Bool((v != 0.0) as u8)
    }
    fn cast_i64(v: i64) -> Bool {
        Bool((v != 0) as u8)
    }
}

/// A float type an array can hold: f32 or f64. Kernels are written once, generic over it.
pub trait Element:
    Scalar + ndarray::NdFloat + num_traits::FromPrimitive + super::print::PrintFloat + Default + Send + Sync + 'static
{
    /// `v` rounded to this type (how a scalar argument meets an array, as in MXNet).
    fn of(v: f64) -> Self;
    fn as_f64(self) -> f64;
    /// Writes exp / log / sigmoid / tanh of each element of `v` to `out` (of `v`'s length),
    /// on the calling thread (vectorised for f32, where the per-element libm call would
    /// dominate).
    fn exp_into(v: &[Self], out: &mut [MaybeUninit<Self>]) {
        each_into(v, out, |x| x.exp())
    }
    fn log_into(v: &[Self], out: &mut [MaybeUninit<Self>]) {
        each_into(v, out, |x| x.ln())
    }
    fn sigmoid_into(v: &[Self], out: &mut [MaybeUninit<Self>]) {
        each_into(v, out, |x| Self::one() / (Self::one() + (-x).exp()))
    }
    fn tanh_into(v: &[Self], out: &mut [MaybeUninit<Self>]) {
        each_into(v, out, |x| x.tanh())
    }
}

/// `out[i] = f(v[i])`.
#[inline(always)]
fn each_into<T: Copy>(v: &[T], out: &mut [MaybeUninit<T>], f: impl Fn(T) -> T) {
    for (o, &x) in out.iter_mut().zip(v) {
        o.write(f(x));
    }
}

impl Element for f32 {
    fn exp_into(v: &[f32], out: &mut [MaybeUninit<f32>]) {
        crate::cpu::vmath::exp_into(v, out)
    }
    fn log_into(v: &[f32], out: &mut [MaybeUninit<f32>]) {
        crate::cpu::vmath::log_into(v, out)
    }
    fn sigmoid_into(v: &[f32], out: &mut [MaybeUninit<f32>]) {
        crate::cpu::vmath::sigmoid_into(v, out)
    }
    fn tanh_into(v: &[f32], out: &mut [MaybeUninit<f32>]) {
        crate::cpu::vmath::tanh_into(v, out)
    }
    fn of(v: f64) -> f32 {
        v as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Element for f64 {
    fn of(v: f64) -> f64 {
        v
    }
    fn as_f64(self) -> f64 {
        self
    }
}
