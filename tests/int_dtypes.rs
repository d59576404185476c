//! Integer and bool arrays (uint8, int8, int32, int64, bool): made, converted, printed, and
//! moved by every op that only moves elements. Each such op on an integer array must give
//! exactly what it gives on the same values in float64, in the integer's dtype; what refuses
//! integer arrays is checked for every export of ad.h by tests/c_api.rs.

use ad::ops::{self, AxisIndex, IndexMode, InPlace};
use ad::{Array, DType, ErrorKind, NdArray};

const INTS: [DType; 5] = [DType::U8, DType::I8, DType::I32, DType::I64, DType::Bool];

/// 0, 1, 2, ... of `shape` in float64 (for bool, alternating 0 and 1: a bool holds no more).
fn values(shape: &[usize], dtype: DType) -> NdArray {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|i| if dtype == DType::Bool { (i % 3 % 2) as f64 } else { i as f64 }).collect();
    NdArray::from_slice(&v, shape).unwrap()
}

fn to(a: &NdArray, dtype: DType) -> NdArray {
    ops::astype(a, dtype).unwrap()
}

/// `op` on the integer array and on its float64 twin agree, and the result keeps the dtype.
fn same_as_float(what: &str, shape: &[usize], op: impl Fn(&NdArray) -> ad::Result<NdArray>) {
    for dtype in INTS {
        let x = values(shape, dtype);
        let expected = op(&x).unwrap_or_else(|e| panic!("{} in float64: {}", what, e.message));
        let got = op(&to(&x, dtype)).unwrap_or_else(|e| panic!("{} of {}: {}", what, dtype.name(), e.message));
        assert_eq!(got.dtype(), dtype, "{} of {}", what, dtype.name());
        assert_eq!(got.shape(), expected.shape(), "{} of {}", what, dtype.name());
        assert_eq!(got.to_f64_vec(), to(&expected, dtype).to_f64_vec(), "{} of {}", what, dtype.name());
    }
}

#[test]
fn dtype_codes_are_mxnets() {
    let codes: Vec<(u32, &str)> = DType::all().iter().map(|&d| (d as u32, d.name())).collect();
    assert_eq!(codes, [(0, "float32"), (1, "float64"), (2, "float16"), (3, "uint8"), (4, "int32"), (5, "int8"), (6, "int64"), (7, "bool")]);
    assert_eq!(DType::from_code(2), Some(DType::F16));
    assert_eq!(DType::from_code(8), None);
    for d in DType::all() {
        assert_eq!(DType::from_code(d as u32), Some(d));
    }
}

#[test]
fn every_element_moving_op_keeps_integers_and_bools() {
    same_as_float("copy", &[2, 3], ops::copy);
    same_as_float("reshape", &[2, 3], |x| ops::reshape(x, &[3, -1]));
    same_as_float("reshape_codes", &[2, 3, 2], |x| ops::reshape_codes(x, &[-3, 0], false));
    same_as_float("transpose", &[2, 3, 4], |x| ops::transpose(x, &[2, 0, 1]));
    same_as_float("transpose .T", &[2, 3], |x| ops::transpose(x, &[]));
    same_as_float("slice (a view)", &[4, 3], |x| ops::slice(x, &[AxisIndex::Range { start: 1, stop: 3, step: 1 }]));
    same_as_float("slice (gathered)", &[4, 3], |x| {
        ops::slice(x, &[AxisIndex::Range { start: 3, stop: -1, step: -2 }, AxisIndex::At(1)])
    });
    same_as_float("broadcast_to", &[3, 1], |x| ops::broadcast_to(x, &[2, 3, 4]));
    same_as_float("broadcast_like", &[3, 1], |x| ops::broadcast_like(x, &NdArray::zeros(&[3, 5], DType::F32)?, &[], &[]));
    same_as_float("reshape_like", &[2, 3], |x| ops::reshape_like(x, &NdArray::zeros(&[3, 2], DType::F32)?, None, None, None, None));
    same_as_float("squeeze", &[1, 3, 1], |x| ops::squeeze(x, &[]));
    same_as_float("expand_dims", &[2, 3], |x| ops::expand_dims(x, 1));
    same_as_float("split", &[4, 3], |x| ops::split(x, 2, 0, false).map(|parts| parts[1].clone()));
    same_as_float("flip", &[3, 4], |x| ops::flip(x, &[0, -1]));
    same_as_float("tile", &[2, 3], |x| ops::tile(x, &[2, 1, 3]));
    same_as_float("repeat", &[2, 3], |x| ops::repeat(x, 3, Some(1)));
    same_as_float("repeat flat", &[2, 3], |x| ops::repeat(x, 2, None));
    same_as_float("swapaxes", &[2, 3, 4], |x| ops::swapaxes(x, 0, 2));
    same_as_float("moveaxis", &[2, 3, 4], |x| ops::moveaxis(x, &[0], &[2]));
    same_as_float("concat", &[2, 3], |x| ops::concat(&[x.clone(), ops::flip(x, &[1])?, x.clone()], 1));
    same_as_float("stack", &[2, 3], |x| ops::stack(&[x.clone(), ops::flip(x, &[0])?], 1));
    same_as_float("flatten", &[2, 3, 2], ops::flatten);
    same_as_float("take", &[4, 3], |x| ops::take(x, &NdArray::from_slice(&[3i32, 0, 0, 2], &[2, 2])?, 0, IndexMode::Raise));
    same_as_float("take wrap", &[4, 3], |x| ops::take(x, &NdArray::from_slice(&[-1i64, 5], &[2])?, 1, IndexMode::Wrap));
    same_as_float("full_like", &[2, 2], |x| ops::full_like(x, 1.0, x.dtype()));
    same_as_float("random_shuffle", &[6, 2], |x| {
        ad::array::random::seed(11);
        x.random_shuffle()
    });
}

#[test]
fn writes_into_integer_arrays_convert_the_values() {
    for dtype in INTS {
        let x = to(&values(&[3, 2], DType::F64), dtype);
        // A float source is converted to the destination's dtype as astype converts it.
        ops::write_slice(&x, &[AxisIndex::At(1)], &NdArray::from_slice(&[-1.7f64, 2.9], &[2]).unwrap()).unwrap();
        let expected = to(&NdArray::from_slice(&[-1.7f64, 2.9], &[2]).unwrap(), dtype).to_f64_vec();
        assert_eq!(x.to_f64_vec()[2..4], expected[..], "{}", dtype.name());
        ops::put(&x, &NdArray::from_slice(&[5i32], &[1]).unwrap(), &NdArray::from_slice(&[1u8], &[1]).unwrap()).unwrap();
        assert_eq!(x.to_f64_vec()[5], 1.0, "{}", dtype.name());
        // Division in place is refused (and any arithmetic on bools), not done in floats and
        // rounded; + - * are MXNet's, in the type.
        let before = x.to_f64_vec();
        let e = ops::update(&x, &to(&values(&[3, 2], DType::F64), dtype), InPlace::Div).unwrap_err();
        assert_eq!(e.kind, ErrorKind::DType, "{}", e.message);
        assert!(e.message.contains(dtype.name()) && e.message.contains("astype"), "{}", e.message);
        assert_eq!(x.to_f64_vec(), before, "nothing written");
        let added = ops::update(&x, &to(&NdArray::from_slice(&[1.0f64], &[1]).unwrap(), dtype), InPlace::Add);
        if dtype == DType::Bool {
            assert_eq!(added.unwrap_err().kind, ErrorKind::DType);
        } else {
            added.unwrap();
            assert_eq!(x.to_f64_vec()[5], 2.0, "{}", dtype.name());
        }
    }
}

#[test]
fn astype_follows_numpy_and_mxnet_on_x86() {
    let x = NdArray::from_slice(&[1.7f64, -1.7, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 300.0, -1.0, 3e9, -3e9, 1e20], &[10]).unwrap();
    // What MXNet 1.9.1 gives (numpy.astype on x86 gives the same).
    let expected: [(DType, [f64; 10]); 5] = [
        (DType::I32, [1.0, -1.0, -2147483648.0, -2147483648.0, -2147483648.0, 300.0, -1.0, -2147483648.0, -2147483648.0, -2147483648.0]),
        (DType::I64, [1.0, -1.0, -9.223372036854776e18, -9.223372036854776e18, -9.223372036854776e18, 300.0, -1.0, 3e9, -3e9, -9.223372036854776e18]),
        (DType::U8, [1.0, 255.0, 0.0, 0.0, 0.0, 44.0, 255.0, 0.0, 0.0, 0.0]),
        (DType::I8, [1.0, -1.0, 0.0, 0.0, 0.0, 44.0, -1.0, 0.0, 0.0, 0.0]),
        (DType::Bool, [1.0; 10]),
    ];
    for (dtype, want) in expected {
        for from in [DType::F64, DType::F32] {
            let y = to(&to(&x, from), dtype);
            if from == DType::F32 && dtype == DType::I64 {
                // 3e9 in float32 is 3000000000 exactly; 1e20 is out of range either way.
                assert_eq!(y.to_f64_vec()[7], 3e9);
                continue;
            }
            assert_eq!(y.to_f64_vec(), want, "{} from {}", dtype.name(), from.name());
        }
    }
    // Between integers: the low bits, as C and NumPy.
    let big = NdArray::from_slice(&[i64::MAX, 300, -129, 1 << 40], &[4]).unwrap();
    assert_eq!(to(&big, DType::I32).to_vec::<i32>(), [-1, 300, -129, 0]);
    assert_eq!(to(&big, DType::U8).to_vec::<u8>(), [255, 44, 127, 0]);
    assert_eq!(to(&big, DType::I8).to_vec::<i8>(), [-1, 44, 127, 0]);
    // int64 to float64 rounds, and back is exact where it can be.
    assert_eq!(to(&to(&big, DType::F64), DType::I64).to_vec::<i64>()[1..], [300, -129, 1 << 40]);
    // Bools read as 0 and 1 whatever the byte.
    let b = NdArray::from_slice(&[ad::array::Bool(0), ad::array::Bool(2), ad::array::Bool(255)], &[3]).unwrap();
    assert_eq!(to(&b, DType::I32).to_vec::<i32>(), [0, 1, 1]);
    assert_eq!(to(&b, DType::F32).to_vec::<f32>(), [0.0, 1.0, 1.0]);
}

#[test]
fn creation_in_every_dtype() {
    for dtype in INTS {
        assert_eq!(NdArray::zeros(&[2], dtype).unwrap().dtype(), dtype);
        assert_eq!(NdArray::ones(&[2], dtype).unwrap().to_f64_vec(), [1.0, 1.0]);
        assert_eq!(NdArray::full(&[2], -2.7, dtype).unwrap().to_f64_vec(), to(&NdArray::full(&[2], -2.7, DType::F64).unwrap(), dtype).to_f64_vec());
        assert_eq!(ops::eye(2, 3, 1, dtype).unwrap().to_f64_vec(), [0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        let l = ops::linspace(0.0, 3.0, 4, true, dtype).unwrap();
        assert_eq!((l.dtype(), l.to_f64_vec()), (dtype, to(&ops::linspace(0.0, 3.0, 4, true, DType::F64).unwrap(), dtype).to_f64_vec()));
        let h = ops::one_hot(&NdArray::from_slice(&[2u8, 0], &[2]).unwrap(), 3, 1.0, 0.0, dtype).unwrap();
        assert_eq!((h.dtype(), h.to_f64_vec()), (dtype, vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]));
    }
    // arange as MXNet: the count from the float range, start and step truncated first.
    let a = NdArray::arange(0.0, 5.0, 1.5, DType::I32).unwrap();
    assert_eq!(a.to_vec::<i32>(), [0, 1, 2, 3]);
    assert_eq!(NdArray::arange(-2.0, 3.0, 1.0, DType::I64).unwrap().to_vec::<i64>(), [-2, -1, 0, 1, 2]);
    // randint: int32 and int64 (MXNet's dtypes), in range, the bounds checked against the dtype.
    let r = NdArray::random_randint(-3, 4, &[1000], DType::I32).unwrap();
    assert_eq!(r.dtype(), DType::I32);
    assert!(r.to_vec::<i32>().iter().all(|v| (-3..4).contains(v)));
    let r = NdArray::random_randint(i64::MIN, i64::MAX, &[100], DType::I64).unwrap();
    assert!(r.to_vec::<i64>().iter().any(|&v| v < 0) && r.to_vec::<i64>().iter().any(|&v| v > 0));
    let e = NdArray::random_randint(0, (1 << 31) + 1, &[1], DType::I32).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "{}", e.message);
    let e = NdArray::random_randint(0, 2, &[1], DType::U8).unwrap_err();
    assert_eq!(e.kind, ErrorKind::DType, "{}", e.message);
    let e = NdArray::random_normal(0.0, 1.0, &[1], DType::I32).unwrap_err();
    assert_eq!(e.kind, ErrorKind::DType, "{}", e.message);
}

#[test]
fn printed_as_mxnet_prints_them() {
    let p = |a: &NdArray| a.repr();
    assert_eq!(p(&NdArray::from_slice(&[1i32, 2, 3], &[3]).unwrap()), "\n[1 2 3]\n<NDArray 3 @cpu(0)>");
    assert_eq!(p(&NdArray::from_slice(&[1i64, -20, 3, 4], &[2, 2]).unwrap()), "\n[[  1 -20]\n [  3   4]]\n<NDArray 2x2 @cpu(0)>");
    let b = to(&NdArray::from_slice(&[1.0f32, 0.0, 1.0], &[3]).unwrap(), DType::Bool);
    assert_eq!(p(&b), "\n[ True False  True]\n<NDArray 3 @cpu(0)>");
    let long: Vec<i32> = (0..2000).map(|i| i % 7).collect();
    assert_eq!(p(&NdArray::from_slice(&long, &[2000]).unwrap()), "\n[0 1 2 ... 2 3 4]\n<NDArray 2000 @cpu(0)>");
}

#[test]
fn integer_arrays_are_not_differentiable() {
    let mut x = to(&values(&[3], DType::F64), DType::I32);
    let e = ad::autograd::attach_grad(&mut x, ad::GradReq::Write).unwrap_err();
    assert_eq!(e.kind, ErrorKind::DType);
    assert!(e.message.contains("int32") && e.message.contains("astype"), "{}", e.message);
    // A float variable converted to int32 inside a record scope gives a constant.
    let mut v = values(&[3], DType::F32);
    ad::autograd::attach_grad(&mut v, ad::GradReq::Write).unwrap();
    ad::autograd::scope_begin(ad::autograd::ScopeKind::Record, true);
    let i = ops::astype(&v, DType::I32).unwrap();
    let back = ops::astype(&i, DType::F32).unwrap();
    ad::autograd::scope_end(ad::autograd::ScopeKind::Record).unwrap();
    let e = ad::autograd::backward(&[back], &[None], false, true).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Autograd, "a result through int32 has no history: {}", e.message);
    assert_eq!(Array::zeros(&[1], DType::Bool).unwrap().dtype(), DType::Bool);
}

#[test]
fn integer_arithmetic_as_mxnet() {
    // What MXNet 1.9.1 gives: in the array's type, wrapping; a number converted to the type
    // first; comparisons in the operands' type; sums wrapping in the type.
    let u = NdArray::from_slice(&[200u8, 100, 3], &[3]).unwrap();
    let i = NdArray::from_slice(&[i32::MAX, -5, 3], &[3]).unwrap();
    assert_eq!(ops::sum(&u, &[], false).unwrap().to_vec::<u8>(), [47]);
    assert_eq!(ops::sum(&i, &[], false).unwrap().to_vec::<i32>(), [2147483645]);
    assert_eq!(ops::add(&u, &u).unwrap().to_vec::<u8>(), [144, 200, 6]);
    let v = NdArray::from_slice(&[201u8, 0, 4], &[3]).unwrap();
    assert_eq!(ops::sub(&u, &v).unwrap().to_vec::<u8>(), [255, 100, 255]);
    assert_eq!(ops::mul(&i, &i).unwrap().to_vec::<i32>(), [1, 25, 9]);
    assert_eq!(ops::compare_scalar(&i, 3.5, ops::Cmp::Eq).unwrap().to_vec::<i32>(), [0, 0, 1]);
    assert_eq!(ops::compare_scalar(&i, 2.5, ops::Cmp::Lt).unwrap().to_vec::<i32>(), [0, 1, 0]);
    assert_eq!(ops::add_scalar(&i, 1.9).unwrap().to_vec::<i32>(), [i32::MIN, -4, 4]);
    assert_eq!(ops::sub_scalar(&i, -1.9).unwrap().to_vec::<i32>(), [i32::MIN, -4, 4]);
    assert_eq!(ops::rsub_scalar(2.5, &i).unwrap().to_vec::<i32>(), [-2147483645, 7, -1]);
    assert_eq!(ops::add_scalar(&u, -1.0).unwrap().to_vec::<u8>(), [199, 99, 2]);
    assert_eq!(ops::add_scalar(&u, 300.0).unwrap().to_vec::<u8>(), [244, 144, 47]);
    assert_eq!(ops::add_scalar(&i, 1e10).unwrap().to_vec::<i32>(), [-1, 2147483643, -2147483645]);
    assert_eq!(ops::add_scalar(&i, f64::NAN).unwrap().to_vec::<i32>(), [-1, 2147483643, -2147483645]);
    let m = NdArray::from_slice(&[1i32, 2, 3, 4], &[2, 2]).unwrap();
    assert_eq!(ops::sum(&m, &[0], false).unwrap().to_vec::<i32>(), [4, 6]);
    let m8 = to(&m, DType::I8);
    let s = ops::sum(&m8, &[1], true).unwrap();
    assert_eq!((s.dtype(), s.shape(), s.to_vec::<i8>()), (DType::I8, &[2usize, 1][..], vec![3, 7]));
    assert_eq!(ops::sum(&NdArray::from_slice(&[100i8, 100], &[2]).unwrap(), &[], false).unwrap().to_vec::<i8>(), [-56]);
    assert_eq!(ops::compare(&u, &u, ops::Cmp::Eq).unwrap().to_vec::<u8>(), [1, 1, 1]);
    let l = NdArray::from_slice(&[(1i64 << 53) + 1, 0], &[2]).unwrap();
    assert_eq!(ops::sum(&l, &[], false).unwrap().to_vec::<i64>(), [(1 << 53) + 1]);
    // broadcasting, and the counting idiom
    let pred = NdArray::from_slice(&[1i32, 0, 2, 2], &[4]).unwrap();
    let label = NdArray::from_slice(&[1i32, 1, 2, 0], &[4]).unwrap();
    let correct = ops::sum(&ops::compare(&pred, &label, ops::Cmp::Eq).unwrap(), &[], false).unwrap();
    assert_eq!((correct.dtype(), correct.to_vec::<i32>()), (DType::I32, vec![2]));
    let col = NdArray::from_slice(&[10i64, 20], &[2, 1]).unwrap();
    let row = NdArray::from_slice(&[1i64, 2, 3], &[3]).unwrap();
    assert_eq!(ops::add(&col, &row).unwrap().to_vec::<i64>(), [11, 12, 13, 21, 22, 23]);
    // refused: mixed dtypes (as MXNet), bools (as MXNet), what MXNet computes that ad does not
    let e = ops::add(&i, &to(&i, DType::F32)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::DType);
    let b = to(&i, DType::Bool);
    for r in [ops::add(&b, &b), ops::compare(&b, &b, ops::Cmp::Eq), ops::sum(&b, &[], false), ops::add_scalar(&b, 1.0)] {
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::DType, "{}", e.message);
        assert!(e.message.contains("bool") && e.message.contains("astype"), "{}", e.message);
    }
    for r in [ops::div(&i, &i), ops::max(&i, &[], false), ops::mul_scalar(&i, 2.0).and_then(|x| ops::div_scalar(&x, 2.0))] {
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::DType, "{}", e.message);
        assert!(e.message.contains("int32") && e.message.contains("astype"), "{}", e.message);
    }
}
