//! float16 arrays: stored as IEEE binary16, converted, printed and moved as float16, and
//! computed on (through the C API) in float32 with float16 results, as MXNet 1.9.1 computes
//! float16 on the CPU. The expected values and texts are MXNet 1.9.1's.

mod common;

use std::ffi::c_void;
use std::ptr;

use ad::array::dtype::f16;
use ad::ffi::{self, ad_array, ad_status};
use ad::ops::{self, AxisIndex, IndexMode, InPlace};
use ad::{DType, NdArray};

fn to(a: &NdArray, dtype: DType) -> NdArray {
    ops::astype(a, dtype).unwrap()
}

fn half(v: &[f64], shape: &[usize]) -> NdArray {
    to(&NdArray::from_slice(v, shape).unwrap(), DType::F16)
}

fn bits(a: &NdArray) -> Vec<u16> {
    a.to_vec::<f16>().iter().map(|h| h.to_bits()).collect()
}

#[test]
fn dtype_code_and_size() {
    assert_eq!(DType::from_code(2), Some(DType::F16));
    assert_eq!((DType::F16.name(), DType::F16.size_of()), ("float16", 2));
    assert!(!DType::F16.is_float() && DType::F16.is_floating());
}

#[test]
fn astype_rounds_to_nearest_even_as_numpy() {
    // (float64 value, the float16 bits NumPy's and MXNet's astype give)
    let cases = [
        (0.1, 0x2e66u16),
        (1.0 / 3.0, 0x3555),
        (2049.0, 0x6800),
        (65519.99, 0x7bff),
        (65520.0, 0x7c00),
        (1e-8, 0x0000),
        (2.98e-8, 0x0000),
        (5.96e-8, 0x0001),
        (-0.0, 0x8000),
    ];
    let x = NdArray::from_slice(&cases.map(|c| c.0), &[cases.len()]).unwrap();
    assert_eq!(bits(&to(&x, DType::F16)), cases.map(|c| c.1));
    // From float16 to every dtype (MXNet 1.9.1).
    let h = half(&[1.7, -1.7, 300.0, f64::NAN, 65504.0, 0.4995117], &[6]);
    assert_eq!(to(&h, DType::I32).to_vec::<i32>(), [1, -1, 300, i32::MIN, 65504, 0]);
    assert_eq!(to(&h, DType::U8).to_vec::<u8>(), [1, 255, 44, 0, 224, 0]);
    assert_eq!(to(&h, DType::I8).to_vec::<i8>(), [1, -1, 44, 0, -32, 0]);
    assert_eq!(to(&h, DType::I64).to_vec::<i64>(), [1, -1, 300, i64::MIN, 65504, 0]);
    assert_eq!(to(&h, DType::Bool).to_f64_vec(), [1.0; 6]);
    let f = to(&h, DType::F32).to_vec::<f32>();
    assert_eq!([f[0], f[1], f[2], f[4], f[5]], [1.7001953125, -1.7001953125, 300.0, 65504.0, 0.49951171875]);
    assert!(f[3].is_nan());
    assert_eq!(to(&h, DType::F64).to_f64_vec()[5], 0.49951171875);
    // From integers: exact below 2048, nearest even above, infinite beyond 65504.
    let i = NdArray::from_slice(&[2047i64, 2049, 2051, 65519, 65520, -1 << 40], &[6]).unwrap();
    assert_eq!(to(&i, DType::F16).to_f64_vec(), [2047.0, 2048.0, 2052.0, 65504.0, f64::INFINITY, f64::NEG_INFINITY]);
    let b = to(&NdArray::from_slice(&[0.0f32, 2.0], &[2]).unwrap(), DType::Bool);
    assert_eq!(to(&b, DType::F16).to_f64_vec(), [0.0, 1.0]);
}

#[test]
fn creation() {
    assert_eq!(NdArray::zeros(&[2], DType::F16).unwrap().dtype(), DType::F16);
    assert_eq!(NdArray::ones(&[2], DType::F16).unwrap().to_f64_vec(), [1.0, 1.0]);
    assert_eq!(NdArray::full(&[2], 0.1, DType::F16).unwrap().to_f64_vec(), [0.0999755859375; 2]);
    let raw = NdArray::from_slice(&[f16::from_bits(0x3c00), f16::from_bits(0x7c00)], &[2]).unwrap();
    assert_eq!(raw.to_f64_vec(), [1.0, f64::INFINITY]);
}

#[test]
fn printed_as_mxnet_prints_them() {
    let cases: &[(&[f64], &[usize], &str)] = &[
        (&[1.5, 2.25, 65504.0, 1e-7], &[4], "\n[1.50e+00 2.25e+00 6.55e+04 1.19e-07]\n<NDArray 4 @cpu(0)>"),
        (&[0.1, 0.2, 0.3], &[3], "\n[0.1 0.2 0.3]\n<NDArray 3 @cpu(0)>"),
        (&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3], "\n[[1. 2. 3.]\n [4. 5. 6.]]\n<NDArray 2x3 @cpu(0)>"),
        (&[-1.0009765625, 3.14159, 100.5, 0.0], &[2, 2], "\n[[ -1.001   3.14 ]\n [100.5     0.   ]]\n<NDArray 2x2 @cpu(0)>"),
        (&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.0], &[4], "\n[ nan  inf -inf   1.]\n<NDArray 4 @cpu(0)>"),
        (&[0.0001, 1000.0], &[2], "\n[1.e-04 1.e+03]\n<NDArray 2 @cpu(0)>"),
        (&[2049.0, 4097.0, 65519.0, 65520.0, -70000.0], &[5], "\n[ 2048.  4096. 65504.    inf   -inf]\n<NDArray 5 @cpu(0)>"),
        (&[6e-8, 3e-8, 1e-5], &[3], "\n[6.e-08 6.e-08 1.e-05]\n<NDArray 3 @cpu(0)>"),
        (&[3.14159], &[1], "\n[3.14]\n<NDArray 1 @cpu(0)>"),
    ];
    for (v, shape, want) in cases {
        assert_eq!(half(v, shape).repr(), *want, "{:?}", v);
    }
}

#[test]
fn element_moving_ops_keep_float16() {
    let x = half(&(0..12).map(|i| i as f64 * 0.1).collect::<Vec<_>>(), &[4, 3]);
    let same = |what: &str, op: &dyn Fn(&NdArray) -> ad::Result<NdArray>| {
        let want = to(&op(&to(&x, DType::F64)).unwrap(), DType::F16);
        let got = op(&x).unwrap_or_else(|e| panic!("{}: {}", what, e.message));
        assert_eq!(got.dtype(), DType::F16, "{}", what);
        assert_eq!((got.shape(), bits(&got)), (want.shape(), bits(&want)), "{}", what);
    };
    same("copy", &|a| ops::copy(a));
    same("reshape", &|a| ops::reshape(a, &[3, -1]));
    same("transpose", &|a| ops::transpose(a, &[]));
    same("slice", &|a| ops::slice(a, &[AxisIndex::Range { start: 3, stop: -1, step: -2 }]));
    same("broadcast_to", &|a| ops::broadcast_to(&ops::reshape(a, &[1, 4, 3])?, &[2, 4, 3]));
    same("flip", &|a| ops::flip(a, &[0]));
    same("tile", &|a| ops::tile(a, &[2, 1]));
    same("repeat", &|a| ops::repeat(a, 2, Some(1)));
    same("concat", &|a| ops::concat(&[a.clone(), a.clone()], 0));
    same("stack", &|a| ops::stack(&[a.clone(), a.clone()], 1));
    same("take", &|a| ops::take(a, &NdArray::from_slice(&[3i32, 0], &[2])?, 0, IndexMode::Raise));
    same("split", &|a| ops::split(a, 2, 0, false).map(|p| p[1].clone()));
    // Writes in place: float16 values, and + - * / computed in float32 and rounded.
    let y = half(&[1.0, 2.0, 3.0], &[3]);
    ops::update(&y, &half(&[0.1, 0.1, 0.1], &[3]), InPlace::Add).unwrap();
    assert_eq!(bits(&y), bits(&half(&[1.0999755859375 + 0.0, 2.099609375, 3.099609375], &[3])));
    ops::write_slice(&y, &[AxisIndex::At(0)], &NdArray::from_slice(&[0.5f32], &[]).unwrap()).unwrap();
    assert_eq!(y.to_f64_vec()[0], 0.5);
    ops::update(&y, &half(&[3.0, 3.0, 3.0], &[3]), InPlace::Div).unwrap();
    assert_eq!(bits(&y)[0], f16::from_f32(0.5 / 3.0).to_bits());
}

#[test]
fn checkpoints_keep_float16() {
    let dir = std::env::temp_dir().join(format!("ad-f16-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("h.npy");
    let v: Vec<f16> = [0.1, -2.5, 65504.0, f64::INFINITY].iter().map(|&x| f16::from_f64(x)).collect();
    let x = ad::Array::from_slice(&v, &[2, 2]).unwrap();
    ad::io::save(&path, &[x.clone()], None).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("'descr': '<f2'"));
    let back = ad::io::load(&path).unwrap().arrays.remove(0);
    assert_eq!((back.dtype(), back.to_vec::<f16>()), (DType::F16, v.clone()));
    // An .npz of several dtypes, float16 among them.
    let z = dir.join("h.npz");
    let names = ["h".to_string(), "f".to_string()];
    let f = ad::Array::from_slice(&[1.0f32], &[1]).unwrap();
    ad::io::save(&z, &[x, f], Some(&names)).unwrap();
    let back = ad::io::load(&z).unwrap();
    assert_eq!((back.arrays[0].dtype(), back.arrays[0].to_vec::<f16>(), back.arrays[1].dtype()), (DType::F16, v, DType::F32));
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- through the C API: the compute rule ---------------------------------------------------

fn ok(status: ad_status) {
    assert_eq!(status, ad_status::AD_OK, "{}", unsafe { std::ffi::CStr::from_ptr(ffi::ad_last_error()) }.to_string_lossy());
}

fn create(v: &[f64], shape: &[usize], dtype: u32) -> *mut ad_array {
    let h: Vec<u16> = v.iter().map(|&x| f16::from_f64(x).to_bits()).collect();
    let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    let data = if dtype == 2 { h.as_ptr() as *const c_void } else { f.as_ptr() as *const c_void };
    let mut out = ptr::null_mut();
    ok(unsafe { ffi::ad_array_create(data, shape.as_ptr(), shape.len(), dtype, &mut out) });
    out
}

fn dtype_of(a: *const ad_array) -> u32 {
    let mut d = 99;
    ok(unsafe { ffi::ad_array_dtype(a, &mut d) });
    d
}

fn read_f32(a: *const ad_array) -> Vec<f32> {
    let mut n = 0;
    ok(unsafe { ffi::ad_array_size(a, &mut n) });
    let mut v = vec![0f32; n];
    ok(unsafe { ffi::ad_array_read(a, 0, v.as_mut_ptr() as *mut c_void, n) });
    v
}

fn read_bits(a: *const ad_array) -> Vec<u16> {
    let mut n = 0;
    ok(unsafe { ffi::ad_array_size(a, &mut n) });
    let mut v = vec![0u16; n];
    ok(unsafe { ffi::ad_array_read(a, 2, v.as_mut_ptr() as *mut c_void, n) });
    v
}

fn free(a: *mut ad_array) {
    ok(ffi::ad_array_free(a));
}

#[test]
fn ops_compute_in_float32_and_give_float16() {
    let x = create(&[0.5, -1.25, 2.0, 3.0], &[4], 2);
    let unary = |f: unsafe extern "C" fn(*const ad_array, *mut *mut ad_array) -> ad_status| {
        let mut out = ptr::null_mut();
        ok(unsafe { f(x, &mut out) });
        assert_eq!(dtype_of(out), 2);
        let b = read_bits(out);
        free(out);
        b
    };
    // MXNet 1.9.1's bits.
    assert_eq!(unary(ffi::ad_exp), [0x3e98, 0x3496, 0x4764, 0x4d05]);
    assert_eq!(unary(ffi::ad_sigmoid), [0x38fb, 0x3320, 0x3b0c, 0x3b9f]);
    let mut out = ptr::null_mut();
    ok(unsafe { ffi::ad_sum(x, ptr::null(), 0, false, &mut out) });
    assert_eq!((dtype_of(out), read_bits(out)), (2, vec![0x4440]));
    free(out);
    // softmax: MXNet 1.9.1 accumulates in float16 on the CPU and lands within an ulp of the
    // float32 computation rounded, which this is.
    ok(unsafe { ffi::ad_softmax(x, -1, &mut out) });
    let want: Vec<u16> = [0.0560302734375f64, 0.009735107421875, 0.251220703125, 0.6826171875].iter().map(|&v| f16::from_f64(v).to_bits()).collect();
    let got = read_bits(out);
    assert!(got.iter().zip(&want).all(|(&g, &w)| (g as i32 - w as i32).abs() <= 1), "{:?} {:?}", got, want);
    free(out);
    // Comparisons give float16 0 and 1, as MXNet's.
    ok(unsafe { ffi::ad_compare_scalar(x, 1.0, 4, &mut out) });
    assert_eq!((dtype_of(out), read_f32(out)), (2, vec![0.0, 0.0, 1.0, 1.0]));
    free(out);
    // float16 with float32: computed in float32, float16 result.
    let y = create(&[1.0, 1.0, 1.0, 1.0], &[4], 0);
    ok(unsafe { ffi::ad_add(x, y, &mut out) });
    assert_eq!((dtype_of(out), read_f32(out)), (2, vec![1.5, -0.25, 3.0, 4.0]));
    free(out);
    // Ops that write their arguments refuse float16 there, leaving them untouched.
    let g = create(&[1.0; 4], &[4], 2);
    assert_eq!(ffi::ad_sgd_update(x, g, 0.1, 0.0, 1.0, -1.0), ad_status::AD_ERR_DTYPE);
    let message = unsafe { std::ffi::CStr::from_ptr(ffi::ad_last_error()) }.to_string_lossy().into_owned();
    assert!(message.contains("float16") && message.contains("weight") && message.contains("astype"), "{}", message);
    assert_eq!(read_f32(x), [0.5, -1.25, 2.0, 3.0]);
    // argsort gives its indices the dtype asked for (float32 here), not float16.
    ok(unsafe { ffi::ad_argsort(x, ptr::null(), true, 0, &mut out) });
    assert_eq!((dtype_of(out), read_f32(out)), (0, vec![1.0, 0.0, 2.0, 3.0]));
    free(out);
    let k = [0i64];
    assert_eq!(unsafe { ffi::ad_topk(x, k.as_ptr(), 1, 0, true, 0, &mut out) }, ad_status::AD_ERR_DTYPE);
    for a in [x, y, g] {
        free(a);
    }
}

/// y = sum(exp(x) * x) for a float16 variable: the gradient is float16, MXNet's bits, and a
/// finite difference in float64 agrees within float16's precision.
#[test]
fn float16_variables_get_float16_gradients() {
    let v = [0.5, -1.25, 2.0, 3.0];
    let x = create(&v, &[4], 2);
    ok(ffi::ad_array_attach_grad(x, 1));
    ok(ffi::ad_record_begin(true));
    let (mut e, mut p, mut y) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    ok(unsafe { ffi::ad_exp(x, &mut e) });
    ok(unsafe { ffi::ad_mul(e, x, &mut p) });
    ok(unsafe { ffi::ad_sum(p, ptr::null(), 0, false, &mut y) });
    ok(ffi::ad_record_end());
    assert_eq!(dtype_of(y), 2);
    ok(ffi::ad_backward(y, ptr::null(), false));
    let mut g = ptr::null_mut();
    ok(unsafe { ffi::ad_array_grad(x, &mut g) });
    assert_eq!(dtype_of(g), 2);
    // MXNet 1.9.1 rounds each part of the gradient to float16 and adds in float16; this adds
    // in float32 and rounds once. Where the parts cancel (x = -1.25: 0.287 - 0.358) the two
    // differ in the last bits, so the comparison allows float16's precision of the parts.
    let mxnet = [2.47265625f32, -0.07177734375, 22.171875, 80.3125];
    let got = read_f32(g);
    assert!(got.iter().zip(mxnet).all(|(&g, m)| (g - m).abs() <= 1e-3 * m.abs().max(1.0)), "{:?}", got);
    // Central differences of f(x) = sum(x exp(x)) in float64 at the float16 values.
    let f = |x: &[f64]| x.iter().map(|v| v * v.exp()).sum::<f64>();
    let xs: Vec<f64> = v.iter().map(|&a| f16::from_f64(a).to_f64()).collect();
    let got = read_f32(g);
    for i in 0..4 {
        let (mut up, mut down) = (xs.clone(), xs.clone());
        up[i] += 1e-6;
        down[i] -= 1e-6;
        let fd = (f(&up) - f(&down)) / 2e-6;
        // float16 keeps 11 significant bits: a relative error of 2^-10 or so.
        assert!((got[i] as f64 - fd).abs() <= 2e-3 * fd.abs().max(1.0), "{}: {} vs {}", i, got[i], fd);
    }
    for a in [e, p, y, g] {
        free(a);
    }
    // Through element-moving ops on the float16 variable too.
    ok(ffi::ad_record_begin(true));
    let (mut r, mut c, mut s) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    let shape = [-1i64];
    ok(unsafe { ffi::ad_array_reshape(x, shape.as_ptr(), 1, &mut r) });
    let parts = [r as *const ad_array, x as *const ad_array];
    ok(unsafe { ffi::ad_concat(parts.as_ptr(), 2, 0, &mut c) });
    assert_eq!(dtype_of(c), 2);
    ok(unsafe { ffi::ad_sum(c, ptr::null(), 0, false, &mut s) });
    ok(ffi::ad_record_end());
    ok(ffi::ad_backward(s, ptr::null(), false));
    ok(unsafe { ffi::ad_array_grad(x, &mut g) });
    assert_eq!((dtype_of(g), read_f32(g)), (2, vec![2.0; 4]));
    for a in [r, c, s, g] {
        free(a);
    }
    free(x);
}

/// batch_norm's running statistics are written in place: float16 ones are refused, not updated
/// in a float32 copy; the draws with float16 parameters give the dtype their `dtype` asks for.
#[test]
fn in_place_arguments_refuse_float16_and_given_dtypes_are_kept() {
    let x = create(&[1.0, 2.0, 3.0, 4.0], &[2, 2], 0);
    let (gamma, beta) = (create(&[1.0, 1.0], &[2], 0), create(&[0.0, 0.0], &[2], 0));
    let (mean, var) = (create(&[0.0, 0.0], &[2], 2), create(&[1.0, 1.0], &[2], 2));
    let mut out = ptr::null_mut();
    let s = unsafe { ffi::ad_batch_norm(x, gamma, beta, mean, var, 0.9, 1e-5, 1, false, false, &mut out) };
    assert_eq!(s, ad_status::AD_ERR_DTYPE);
    let message = unsafe { std::ffi::CStr::from_ptr(ffi::ad_last_error()) }.to_string_lossy().into_owned();
    assert!(message.contains("`running_mean`") && message.contains("float16"), "{}", message);
    assert!(out.is_null());
    assert_eq!(read_f32(mean), [0.0, 0.0]);
    // A float16 x with float32 running statistics: computed in float32, float16 result.
    let (m32, v32) = (create(&[0.0, 0.0], &[2], 0), create(&[1.0, 1.0], &[2], 0));
    let h = create(&[1.0, 2.0, 3.0, 4.0], &[2, 2], 2);
    ok(ffi::ad_train_mode_begin());
    let s = unsafe { ffi::ad_batch_norm(h, gamma, beta, m32, v32, 0.9, 1e-5, 1, false, false, &mut out) };
    ok(ffi::ad_train_mode_end());
    ok(s);
    assert_eq!(dtype_of(out), 2);
    free(out);
    assert_ne!(read_f32(m32), [0.0, 0.0], "the running mean was updated");
    // Draws with float16 parameters: float32 draws when float32 is asked for.
    let (loc, scale) = (create(&[0.0, 10.0], &[2], 2), create(&[1.0, 1.0], &[2], 2));
    let shape = [3usize];
    ok(unsafe { ffi::ad_sample_normal(loc, scale, shape.as_ptr(), 1, 0, &mut out) });
    assert_eq!(dtype_of(out), 0);
    free(out);
    for a in [x, gamma, beta, mean, var, m32, v32, h, loc, scale] {
        free(a);
    }
}

/// autograd.grad gives a float16 variable's gradient in float16 too.
#[test]
fn grad_gives_float16_gradients() {
    let x = create(&[1.0, 2.0], &[2], 2);
    ok(ffi::ad_array_attach_grad(x, 1));
    ok(ffi::ad_record_begin(true));
    let mut y = ptr::null_mut();
    ok(unsafe { ffi::ad_mul(x, x, &mut y) });
    ok(ffi::ad_record_end());
    let heads = [y as *const ad_array];
    let vars = [x as *const ad_array];
    let mut grads = [ptr::null_mut(); 1];
    ok(unsafe { ffi::ad_grad(heads.as_ptr(), ptr::null(), 1, vars.as_ptr(), 1, false, false, true, grads.as_mut_ptr()) });
    assert_eq!((dtype_of(grads[0]), read_f32(grads[0])), (2, vec![2.0, 4.0]));
    for a in [grads[0], y, x] {
        free(a);
    }
}
