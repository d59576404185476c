//! DLPack: arrays exchanged with other libraries without a copy, as DLPack 1.1 describes
//! (`DLManagedTensorVersioned`), and in the legacy unversioned form (`DLManagedTensor`) for
//! older consumers. The structs are DLPack's ABI, declared in ad.h unless the program
//! included dlpack.h first.
//!
//! Exporting lends the array's memory for the tensor's life (a loan: see `ad_array_borrow`),
//! read-only or writable. Importing takes the tensor: its memory becomes the array's, and
//! its deleter runs when the last array on it is gone; a tensor the library cannot use in
//! place (strided, read-only, misaligned, or over memory an array already uses) is copied,
//! and its deleter runs at once. A tensor the library exported writable comes back as the
//! exported elements themselves.

use std::ffi::c_void;

use super::boundary::{FfiError, FfiResult};
use super::engine::{host_ranges, Array, DType, Loan, NdArray, MAX_NDIM};
use super::handles::ad_array;
use super::ad_status;

/// DLPack's version, `major.minor`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct DLPackVersion {
    pub major: u32,
    pub minor: u32,
}

/// Where a tensor's memory is: `device_type` is DLPack's `DLDeviceType` (1: the CPU).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct DLDevice {
    pub device_type: i32,
    pub device_id: i32,
}

/// An element type: `code` is DLPack's `DLDataTypeCode` (2: float), `bits` its width.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct DLDataType {
    pub code: u8,
    pub bits: u8,
    pub lanes: u16,
}

/// A tensor's memory and layout: `strides` in elements, NULL for compact row-major.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct DLTensor {
    pub data: *mut c_void,
    pub device: DLDevice,
    pub ndim: i32,
    pub dtype: DLDataType,
    pub shape: *mut i64,
    pub strides: *mut i64,
    pub byte_offset: u64,
}

/// The legacy (unversioned) managed tensor.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct DLManagedTensor {
    pub dl_tensor: DLTensor,
    pub manager_ctx: *mut c_void,
    pub deleter: Option<unsafe extern "C" fn(self_: *mut DLManagedTensor)>,
}

/// The managed tensor of DLPack 1.x.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct DLManagedTensorVersioned {
    pub version: DLPackVersion,
    pub manager_ctx: *mut c_void,
    pub deleter: Option<unsafe extern "C" fn(self_: *mut DLManagedTensorVersioned)>,
    pub flags: u64,
    pub dl_tensor: DLTensor,
}

const KDL_CPU: i32 = 1;
const KDL_FLOAT: u8 = 2;
const KDL_INT: u8 = 0;
const KDL_UINT: u8 = 1;
const KDL_BOOL: u8 = 6;

/// DLPack's type code and width of each dtype (one lane).
fn dl_type(dtype: DType) -> (u8, u8) {
    let code = match dtype {
        DType::F32 | DType::F64 | DType::F16 => KDL_FLOAT,
        DType::I8 | DType::I32 | DType::I64 => KDL_INT,
        DType::U8 => KDL_UINT,
        DType::Bool => KDL_BOOL,
    };
    (code, 8 * dtype.size_of() as u8)
}
const FLAG_READ_ONLY: u64 = 1;
const DLPACK_MAJOR: u32 = 1;
const DLPACK_MINOR: u32 = 1;

// ---- export ---------------------------------------------------------------------------

/// What an exported tensor owns: the loan on the array's memory and the shape it points at.
/// The managed tensor is the first field, so the tensor's address is the export's.
#[repr(C)]
struct Export<M> {
    managed: M,
    shape: Vec<i64>,
    loan: Loan,
    /// The exported elements with no autograd history: what importing the tensor back gives.
    array: NdArray,
}

impl<M> Export<M> {
    /// The array a tensor this library exported gives back when imported: the exported
    /// elements themselves (the same storage, so no second storage over one block of memory),
    /// if the export was writable and the consumer left the tensor as it was made.
    fn returned(&self, t: &DLTensor) -> Option<NdArray> {
        let unchanged = t.data == self.loan.data().cast()
            && t.byte_offset == 0
            && t.strides.is_null()
            && t.ndim as usize == self.shape.len()
            && std::ptr::eq(t.shape, self.shape.as_ptr())
            && self.shape.iter().zip(self.array.shape()).all(|(&a, &b)| a == b as i64)
            && (t.dtype.code, t.dtype.bits) == dl_type(self.array.dtype())
            && t.dtype.lanes == 1
            && t.device.device_type == KDL_CPU;
        (self.loan.writable() && unchanged).then(|| self.array.clone())
    }
}

fn tensor_of(array: &NdArray, loan: &Loan, shape: &mut [i64]) -> DLTensor {
    let (code, bits) = dl_type(array.dtype());
    DLTensor {
        data: loan.data().cast(),
        device: DLDevice { device_type: KDL_CPU, device_id: 0 },
        ndim: shape.len() as i32,
        dtype: DLDataType { code, bits, lanes: 1 },
        shape: shape.as_mut_ptr(),
        strides: std::ptr::null_mut(),
        byte_offset: 0,
    }
}

fn shape_i64(array: &NdArray) -> Vec<i64> {
    array.shape().iter().map(|&d| d as i64).collect()
}

unsafe extern "C" fn delete_versioned(tensor: *mut DLManagedTensorVersioned) {
    if !tensor.is_null() {
        // SAFETY: made by ad_array_to_dlpack as a leaked Box<Export<_>> whose first field is
        // the tensor; the consumer calls the deleter once.
        drop(unsafe { Box::from_raw(tensor.cast::<Export<DLManagedTensorVersioned>>()) });
    }
}

unsafe extern "C" fn delete_legacy(tensor: *mut DLManagedTensor) {
    if !tensor.is_null() {
        // SAFETY: as delete_versioned, for ad_array_to_dlpack_legacy's tensors.
        drop(unsafe { Box::from_raw(tensor.cast::<Export<DLManagedTensor>>()) });
    }
}

/// Exports `array` as a DLPack 1.1 tensor without a copy, and writes it to `*out`. The
/// consumer calls its `deleter` once when done. The tensor lends the array's memory as
/// `ad_array_borrow` does: with `writable`, the consumer may write it, which counts as an
/// in-place write (an op that saved the array cannot be differentiated while the tensor
/// lives, or after); without, the tensor carries DLPack's read-only flag.
#[no_mangle]
pub unsafe extern "C" fn ad_array_to_dlpack(array: *const ad_array, writable: bool, out: *mut *mut DLManagedTensorVersioned) -> ad_status {
    ffi_boundary!({
        let out = arg!(out out)?;
        let array = arg!(handle array)?;
        let loan = array.lend(writable);
        let mut export = Box::new(Export {
            managed: DLManagedTensorVersioned {
                version: DLPackVersion { major: DLPACK_MAJOR, minor: DLPACK_MINOR },
                manager_ctx: std::ptr::null_mut(),
                deleter: Some(delete_versioned),
                flags: if writable { 0 } else { FLAG_READ_ONLY },
                dl_tensor: tensor_of(&array, &loan, &mut []),
            },
            shape: shape_i64(&array),
            loan,
            array: array.detach(),
        });
        export.managed.dl_tensor.shape = export.shape.as_mut_ptr();
        export.managed.dl_tensor.ndim = export.shape.len() as i32;
        // The box's contents do not move: their address is the tensor's, and its context.
        let at: *mut Export<_> = &mut *export;
        export.managed.manager_ctx = at.cast();
        out.set(Box::into_raw(export).cast());
        Ok(())
    })
}

/// As `ad_array_to_dlpack`, in DLPack's legacy unversioned form (for consumers older than
/// DLPack 1.0), which cannot say read-only: without `writable` the consumer must only read.
#[no_mangle]
pub unsafe extern "C" fn ad_array_to_dlpack_legacy(array: *const ad_array, writable: bool, out: *mut *mut DLManagedTensor) -> ad_status {
    ffi_boundary!({
        let out = arg!(out out)?;
        let array = arg!(handle array)?;
        let loan = array.lend(writable);
        let mut export = Box::new(Export {
            managed: DLManagedTensor {
                dl_tensor: tensor_of(&array, &loan, &mut []),
                manager_ctx: std::ptr::null_mut(),
                deleter: Some(delete_legacy),
            },
            shape: shape_i64(&array),
            loan,
            array: array.detach(),
        });
        export.managed.dl_tensor.shape = export.shape.as_mut_ptr();
        export.managed.dl_tensor.ndim = export.shape.len() as i32;
        // The box's contents do not move: their address is the tensor's, and its context.
        let at: *mut Export<_> = &mut *export;
        export.managed.manager_ctx = at.cast();
        out.set(Box::into_raw(export).cast());
        Ok(())
    })
}

// ---- import ---------------------------------------------------------------------------

/// A managed tensor's deleter.
type Delete<T> = unsafe extern "C" fn(self_: *mut T);

/// A consumer-side call of a tensor's deleter, made once from whichever thread lets go of it.
struct Deleter<T> {
    delete: Delete<T>,
    tensor: *mut T,
}

// SAFETY: DLPack's contract: a deleter may be called from any thread, once.
unsafe impl<T> Send for Deleter<T> {}
unsafe impl<T> Sync for Deleter<T> {}

impl<T> Deleter<T> {
    fn call(self) {
        // SAFETY: the producer's deleter for its tensor, called once: here.
        unsafe { (self.delete)(self.tensor) }
    }
}

/// DLPack's name of an element type, for messages.
fn type_name(t: DLDataType) -> String {
    let kind = match t.code {
        0 => "int",
        1 => "uint",
        2 => "float",
        4 => "bfloat",
        5 => "complex",
        6 => "bool",
        _ => "type code ",
    };
    let lanes = if t.lanes == 1 { String::new() } else { format!(" x{}", t.lanes) };
    if t.code == 3 || t.code > 6 { format!("type code {} of {} bits{}", t.code, t.bits, lanes) } else { format!("{}{}{}", kind, t.bits, lanes) }
}

/// Makes an array of `t`: sharing its memory, which `delete` then gives back when the last
/// array on it is gone, or a copy when the memory cannot be used in place (read-only,
/// strided, misaligned), `delete` running at once. Whether it copied. On an error nothing
/// is taken and `delete` is not called.
fn import<T: 'static>(t: &DLTensor, read_only: bool, delete: Option<Deleter<T>>) -> FfiResult<(NdArray, bool)> {
    if t.device.device_type != KDL_CPU {
        return Err(FfiError::new(
            ad_status::AD_ERR_INVALID_ARGUMENT,
            format!("the tensor is on DLPack device type {} (device {}), not the CPU (1)", t.device.device_type, t.device.device_id),
        ));
    }
    let known = DType::all().into_iter().find(|&d| t.dtype.lanes == 1 && (t.dtype.code, t.dtype.bits) == dl_type(d));
    let Some(dtype) = known else {
        return Err(FfiError::new(
            ad_status::AD_ERR_DTYPE,
            format!("the tensor holds {} elements; ad arrays hold float32, float64, uint8, int8, int32, int64 or bool", type_name(t.dtype)),
        ));
    };
    if t.ndim < 0 || t.ndim as usize > MAX_NDIM {
        return Err(FfiError::new(ad_status::AD_ERR_SHAPE, format!("the tensor has {} axes; an array has 0 to {}", t.ndim, MAX_NDIM)));
    }
    let ndim = t.ndim as usize;
    let (shape, strides) = (t.shape.cast_const(), t.strides.cast_const());
    // SAFETY: DLPack's contract: `shape` holds `ndim` lengths, `strides` NULL or as many.
    let dims = unsafe { arg!(slice shape, ndim)? };
    if let Some(d) = dims.iter().find(|&&d| d < 0) {
        return Err(FfiError::new(ad_status::AD_ERR_SHAPE, format!("the tensor's shape {:?} has a negative length {}", dims, d)));
    }
    let dims: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    let strides: Option<Vec<i64>> = if strides.is_null() {
        None
    } else {
        // SAFETY: as above.
        Some(unsafe { arg!(slice strides, ndim)? }.to_vec())
    };
    let n = super::engine::checked_size(&dims)?;
    let data = t.data.cast::<u8>().wrapping_add(t.byte_offset as usize);
    if n > 0 && t.data.is_null() {
        return Err(FfiError::new(ad_status::AD_ERR_NULL_ARGUMENT, "the tensor's `data` is NULL"));
    }
    let compact = strides.as_ref().is_none_or(|s| is_row_major(&dims, s));
    let aligned = data as usize % dtype.size_of() == 0;
    let release = delete.map(|d| Box::new(move || d.call()) as Box<dyn FnOnce() + Send + Sync>);
    // Memory an array already uses (lent by an export or a borrow, or under another import)
    // is copied: one block of memory never sits under two storages (see host_ranges).
    let alone = !host_ranges::overlaps(data, n * dtype.size_of());
    if compact && aligned && !read_only && alone {
        // SAFETY: the producer lends the memory until its deleter runs, which the array's
        // storage calls after the last array on it is gone.
        let array = unsafe { Array::from_host(data, &dims, dtype, release) }?;
        return Ok((array.into(), false));
    }
    let row_major = row_major_strides(&dims);
    let strides = strides.unwrap_or(row_major);
    // SAFETY: the producer's memory holds the elements its shape and strides reach.
    let array = unsafe { Array::from_strided(data, &dims, &strides, dtype) }?;
    if let Some(release) = release {
        release();
    }
    Ok((array.into(), true))
}

fn row_major_strides(dims: &[usize]) -> Vec<i64> {
    let mut strides = vec![1i64; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * dims[i + 1].max(1) as i64;
    }
    strides
}

/// Whether `strides` lay `dims` out compact and row-major (an axis of length 1 may have any).
fn is_row_major(dims: &[usize], strides: &[i64]) -> bool {
    dims.iter().zip(strides).zip(row_major_strides(dims)).all(|((&d, &s), want)| d <= 1 || s == want)
}

/// Takes the managed tensor `tensor` (its `dl_tensor` and `deleter` given): one this library
/// exported writable and left as it was comes back as the exported elements (`ours` is this
/// library's deleter for its kind), any other is imported. Whether the array is a copy.
fn take<M: 'static>(tensor: *mut M, t: &DLTensor, read_only: bool, deleter: Option<Delete<M>>, ours: Delete<M>) -> FfiResult<(NdArray, bool)> {
    let delete = deleter.map(|delete| Deleter { delete, tensor });
    if deleter.is_some_and(|d| std::ptr::fn_addr_eq(d, ours)) {
        // SAFETY: a tensor with this library's deleter is the first field of an Export.
        if let Some(array) = unsafe { &*tensor.cast::<Export<M>>() }.returned(t) {
            delete.expect("this library's deleter").call();
            return Ok((array, false));
        }
    }
    import(t, read_only, delete)
}

/// Makes an array from a DLPack 1.x tensor and writes it to `*out` (a new handle the caller
/// frees), taking the tensor: the array shares its memory, and the library calls its
/// deleter once, when the last array on it is gone. A tensor marked read-only, strided
/// other than compact row-major, misaligned for its elements, or over memory an array
/// already uses (see `ad_array_wrap`) is copied instead, and its deleter called before this
/// returns; a tensor this library exported writable and the consumer left as it was comes
/// back as the exported elements, with no autograd history (not copied); `*copied` (if not NULL) says which. The tensor must
/// be on the CPU and hold elements of an `ad_dtype` (DLPack's float16, float32, float64, uint8,
/// int8, int32, int64 or bool). On failure nothing is taken: the caller still owns the tensor.
#[no_mangle]
pub unsafe extern "C" fn ad_array_from_dlpack(tensor: *mut DLManagedTensorVersioned, copied: *mut bool, out: *mut *mut ad_array) -> ad_status {
    ffi_boundary!({
        let out = arg!(out out)?;
        let copied = arg!(out? copied);
        let m = arg!(value tensor)?;
        if m.version.major != DLPACK_MAJOR {
            return Err(FfiError::new(
                ad_status::AD_ERR_INVALID_ARGUMENT,
                format!("the tensor is DLPack {}.{}; this library reads DLPack {}.x", m.version.major, m.version.minor, DLPACK_MAJOR),
            ));
        }
        let read_only = m.flags & FLAG_READ_ONLY != 0;
        let (array, was_copied) = take(tensor, &m.dl_tensor, read_only, m.deleter, delete_versioned)?;
        out.put(array)?;
        if let Some(c) = copied {
            c.set(was_copied);
        }
        Ok(())
    })
}

/// As `ad_array_from_dlpack`, for a legacy (unversioned) tensor, which is never read-only.
#[no_mangle]
pub unsafe extern "C" fn ad_array_from_dlpack_legacy(tensor: *mut DLManagedTensor, copied: *mut bool, out: *mut *mut ad_array) -> ad_status {
    ffi_boundary!({
        let out = arg!(out out)?;
        let copied = arg!(out? copied);
        let m = arg!(value tensor)?;
        let (array, was_copied) = take(tensor, &m.dl_tensor, false, m.deleter, delete_legacy)?;
        out.put(array)?;
        if let Some(c) = copied {
            c.set(was_copied);
        }
        Ok(())
    })
}
