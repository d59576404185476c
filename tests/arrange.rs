//! The creation and shape ops of `src/ops/arrange.rs`: their values (against what MXNet 1.9.1
//! gives), their errors, that they return new arrays where MXNet does, `put`'s in-place
//! writes, and head gradients of the head's size read as its shape. The gradients are
//! checked by finite differences in tests/gradcheck.rs and by the gradient fuzzer.

mod common;

use ad::autograd;
use ad::ops::{self, IndexMode};
use ad::{DType, ErrorKind, NdArray};
use common::{arr, backward, grad, record, var};

fn vals(a: &NdArray) -> Vec<f64> {
    a.to_f64_vec()
}

fn range(shape: &[usize]) -> NdArray {
    let n: usize = shape.iter().product();
    arr(&(0..n).map(|i| i as f64).collect::<Vec<_>>(), shape)
}

fn err_kind<T: std::fmt::Debug>(r: ad::Result<T>, kind: ErrorKind, says: &str) {
    let e = r.expect_err("the call should fail");
    assert_eq!(e.kind, kind, "{}", e.message);
    assert!(e.message.contains(says), "{:?} does not say {:?}", e.message, says);
}

/// Whether `b` shares `a`'s data: a write into `a` shows in `b`.
fn shares(a: &NdArray, b: &NdArray) -> bool {
    let before = vals(b);
    ops::update(a, &NdArray::full(&[1], 0.5, a.dtype()).unwrap(), ops::InPlace::Add).unwrap();
    let after = vals(b);
    ops::update(a, &NdArray::full(&[1], 0.5, a.dtype()).unwrap(), ops::InPlace::Sub).unwrap();
    before != after
}

#[test]
fn full_like_is_recorded_with_a_zero_gradient() {
    let x = var(&[1.0, 2.0, 3.0], &[3]);
    let z = ops::full_like(&x, 7.0, DType::F32).unwrap();
    assert_eq!((z.shape(), z.dtype(), vals(&z)), (&[3][..], DType::F32, vec![7.0; 3]));
    let y = record(|| ops::add(&ops::full_like(&x, 0.0, DType::F64).unwrap(), &ops::mul_scalar(&x, 2.0).unwrap()).unwrap());
    backward(&[y], &[]).unwrap();
    assert_eq!(grad(&x), vec![2.0; 3]);
    // As MXNet: a backward from ones_like(x) itself gives zeros.
    let o = record(|| ops::full_like(&x, 1.0, DType::F64).unwrap());
    backward(&[o], &[]).unwrap();
    assert_eq!(grad(&x), vec![0.0; 3]);
}

#[test]
fn linspace_rounds_as_mxnet() {
    // nd.linspace(0.1, 0.9, 7) in MXNet 1.9.1, float32
    let got = ops::linspace(0.1, 0.9, 7, true, DType::F32).unwrap().to_vec::<f32>();
    let mxnet: [f32; 7] = [0.1, 0.233_333_33, 0.366_666_67, 0.5, 0.633_333_3, 0.766_666_65, 0.9];
    assert_eq!(got, mxnet);
    assert_eq!(vals(&ops::linspace(0.0, 1.0, 5, false, DType::F64).unwrap()), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8]);
    assert_eq!(vals(&ops::linspace(2.0, 3.0, 1, true, DType::F64).unwrap()), vec![2.0]);
    assert_eq!(ops::linspace(2.0, 3.0, 0, true, DType::F64).unwrap().shape(), &[0]);
    err_kind(ops::linspace(f64::NAN, 1.0, 3, true, DType::F32), ErrorKind::InvalidArgument, "finite");
    err_kind(ops::linspace(0.0, 1.0, usize::MAX, true, DType::F32), ErrorKind::Alloc, "");
}

#[test]
fn eye_places_the_diagonal() {
    assert_eq!(vals(&ops::eye(2, 0, 0, DType::F32).unwrap()), vec![1.0, 0.0, 0.0, 1.0]);
    let e = ops::eye(3, 4, 1, DType::F64).unwrap();
    assert_eq!(e.shape(), &[3, 4]);
    assert_eq!(vals(&e), vec![0., 1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1.]);
    assert_eq!(vals(&ops::eye(3, 4, -2, DType::F64).unwrap()), vec![0., 0., 0., 0., 0., 0., 0., 0., 1., 0., 0., 0.]);
    assert_eq!(vals(&ops::eye(2, 2, i64::MAX, DType::F64).unwrap()), vec![0.0; 4]);
    assert_eq!(vals(&ops::eye(2, 2, i64::MIN, DType::F64).unwrap()), vec![0.0; 4]);
    assert_eq!(ops::eye(0, 0, 0, DType::F32).unwrap().shape(), &[0, 0]);
    err_kind(ops::eye(1 << 40, 0, 0, DType::F32), ErrorKind::Alloc, "");
}

#[test]
fn squeeze_and_expand_dims_copy_as_mxnet() {
    let x = range(&[1, 2, 1, 3]);
    assert_eq!(ops::squeeze(&x, &[]).unwrap().shape(), &[2, 3]);
    assert_eq!(ops::squeeze(&x, &[2]).unwrap().shape(), &[1, 2, 3]);
    assert_eq!(ops::squeeze(&x, &[0, -2]).unwrap().shape(), &[2, 3]);
    assert_eq!(ops::squeeze(&range(&[1, 1]), &[]).unwrap().shape(), &[1]);
    err_kind(ops::squeeze(&x, &[1]), ErrorKind::Shape, "length 2");
    err_kind(ops::squeeze(&x, &[4]), ErrorKind::Shape, "out of range");
    err_kind(ops::squeeze(&x, &[0, 0]), ErrorKind::Shape, "twice");
    assert!(!shares(&x, &ops::squeeze(&x, &[]).unwrap()));
    let y = range(&[2, 3]);
    assert_eq!(ops::expand_dims(&y, 1).unwrap().shape(), &[2, 1, 3]);
    assert_eq!(ops::expand_dims(&y, 2).unwrap().shape(), &[2, 3, 1]);
    assert_eq!(ops::expand_dims(&y, -3).unwrap().shape(), &[1, 2, 3]);
    err_kind(ops::expand_dims(&y, 3), ErrorKind::Shape, "out of range");
    err_kind(ops::expand_dims(&y, -4), ErrorKind::Shape, "out of range");
    assert!(!shares(&y, &ops::expand_dims(&y, 0).unwrap()));
    // 0-d arrays, which MXNet cannot make: a new axis, and squeezing to (1,).
    let s = arr(&[4.0], &[]);
    assert_eq!(ops::expand_dims(&s, 0).unwrap().shape(), &[1]);
    assert_eq!(ops::squeeze(&s, &[]).unwrap().shape(), &[1]);
}

#[test]
fn split_cuts_into_new_arrays() {
    let x = range(&[2, 3, 4]);
    let parts = ops::split(&x, 3, 1, false).unwrap();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[1].shape(), &[2, 1, 4]);
    assert_eq!(vals(&parts[1]), vec![4., 5., 6., 7., 16., 17., 18., 19.]);
    let rows = ops::split(&x, 2, 0, true).unwrap();
    assert_eq!(rows[1].shape(), &[3, 4]);
    assert_eq!(vals(&rows[1])[0], 12.0);
    // Cut along the first axis the parts are contiguous; they are copies all the same.
    assert!(!shares(&x, &rows[0]));
    err_kind(ops::split(&x, 2, 1, false), ErrorKind::Shape, "2 parts");
    err_kind(ops::split(&x, 2, 2, true), ErrorKind::Shape, "squeeze_axis");
    err_kind(ops::split(&x, 0, 1, false), ErrorKind::InvalidArgument, "num_outputs");
    err_kind(ops::split(&range(&[4]), 2, 1, false), ErrorKind::Shape, "out of range");
    // An empty axis is one empty part.
    let empty = NdArray::zeros(&[2, 0], DType::F32).unwrap();
    assert_eq!(ops::split(&empty, 1, 1, false).unwrap()[0].shape(), &[2, 0]);
    err_kind(ops::split(&empty, 1 << 40, 1, false), ErrorKind::Shape, "parts");
}

#[test]
fn flip_tile_repeat_values() {
    let a = range(&[3, 2]);
    assert_eq!(vals(&ops::flip(&a, &[0]).unwrap()), vec![4., 5., 2., 3., 0., 1.]);
    assert_eq!(vals(&ops::flip(&a, &[0, 1]).unwrap()), vec![5., 4., 3., 2., 1., 0.]);
    assert_eq!(vals(&ops::flip(&a, &[-1]).unwrap()), vec![1., 0., 3., 2., 5., 4.]);
    assert_eq!(vals(&ops::flip(&a, &[0, 0]).unwrap()), vals(&a));
    assert!(!shares(&a, &ops::flip(&a, &[]).unwrap()));
    assert!(!shares(&a, &ops::flip(&range(&[1, 6]), &[0]).unwrap()));
    err_kind(ops::flip(&a, &[2]), ErrorKind::Shape, "out of range");
    assert_eq!(vals(&ops::tile(&a, &[2, 1]).unwrap()), vec![0., 1., 2., 3., 4., 5., 0., 1., 2., 3., 4., 5.]);
    assert_eq!(vals(&ops::tile(&a, &[2]).unwrap()), vec![0., 1., 0., 1., 2., 3., 2., 3., 4., 5., 4., 5.]);
    assert_eq!(ops::tile(&a, &[2, 1, 2]).unwrap().shape(), &[2, 3, 4]);
    assert_eq!(ops::tile(&a, &[0, 2]).unwrap().shape(), &[0, 4]);
    assert!(!shares(&a, &ops::tile(&a, &[]).unwrap()));
    err_kind(ops::tile(&a, &[usize::MAX, 2]), ErrorKind::Shape, "tile");
    // A result whose size overflows is refused (tests/c/limits.c: before any axis is tiled).
    err_kind(ops::tile(&a, &[1 << 31, 1 << 31, 4]), ErrorKind::Alloc, "overflows");
    assert_eq!(vals(&ops::repeat(&a, 2, None).unwrap()), vec![0., 0., 1., 1., 2., 2., 3., 3., 4., 4., 5., 5.]);
    assert_eq!(vals(&ops::repeat(&a, 2, Some(1)).unwrap()), vec![0., 0., 1., 1., 2., 2., 3., 3., 4., 4., 5., 5.]);
    assert_eq!(vals(&ops::repeat(&a, 2, Some(-2)).unwrap()), vec![0., 1., 0., 1., 2., 3., 2., 3., 4., 5., 4., 5.]);
    assert_eq!(ops::repeat(&a, 0, Some(0)).unwrap().shape(), &[0, 2]);
    assert!(!shares(&a, &ops::repeat(&a, 1, Some(0)).unwrap()));
    err_kind(ops::repeat(&a, 2, Some(2)), ErrorKind::Shape, "out of range");
    err_kind(ops::repeat(&a, usize::MAX, Some(0)), ErrorKind::Shape, "repeat");
}

#[test]
fn swapaxes_and_moveaxis_permute() {
    let x = range(&[2, 3, 4]);
    assert_eq!(ops::swapaxes(&x, 0, 2).unwrap().shape(), &[4, 3, 2]);
    assert_eq!(ops::swapaxes(&x, -1, 0).unwrap().shape(), &[4, 3, 2]);
    assert!(!shares(&x, &ops::swapaxes(&x, 1, 1).unwrap()));
    err_kind(ops::swapaxes(&x, 3, 0), ErrorKind::Shape, "out of range");
    assert_eq!(ops::moveaxis(&x, &[0], &[2]).unwrap().shape(), &[3, 4, 2]);
    assert_eq!(ops::moveaxis(&x, &[0, 1], &[2, 0]).unwrap().shape(), &[3, 4, 2]);
    assert_eq!(ops::moveaxis(&x, &[0, 1], &[-1, -2]).unwrap().shape(), &[4, 3, 2]);
    let m = ops::moveaxis(&x, &[0], &[-1]).unwrap();
    assert_eq!(&vals(&m)[..4], &[0., 12., 1., 13.]);
    err_kind(ops::moveaxis(&x, &[0, 0], &[1, 2]), ErrorKind::Shape, "twice");
    err_kind(ops::moveaxis(&x, &[3], &[0]), ErrorKind::Shape, "out of range");
    err_kind(ops::moveaxis(&x, &[0, 1], &[1]), ErrorKind::InvalidArgument, "as many");
}

#[test]
fn broadcast_like_follows_mxnet() {
    let like = range(&[5, 6, 7]);
    let a = arr(&[1.0, 2.0, 3.0], &[1, 3]);
    assert_eq!(ops::broadcast_like(&a, &range(&[2, 3]), &[], &[]).unwrap().shape(), &[2, 3]);
    assert_eq!(ops::broadcast_like(&a, &like, &[0], &[2]).unwrap().shape(), &[7, 3]);
    assert_eq!(ops::broadcast_like(&a, &like, &[-2], &[-1]).unwrap().shape(), &[7, 3]);
    assert!(!shares(&a, &ops::broadcast_like(&a, &a, &[], &[]).unwrap()));
    err_kind(ops::broadcast_like(&arr(&[1.0, 2.0, 3.0], &[3]), &range(&[2, 3]), &[], &[]), ErrorKind::Shape, "(3,)");
    err_kind(ops::broadcast_like(&range(&[2, 3]), &range(&[4, 3]), &[], &[]), ErrorKind::Shape, "(4, 3)");
    err_kind(ops::broadcast_like(&a, &like, &[0], &[2, 1]), ErrorKind::InvalidArgument, "as many");
    err_kind(ops::broadcast_like(&a, &like, &[0], &[]), ErrorKind::InvalidArgument, "as many");
    err_kind(ops::broadcast_like(&range(&[2, 3]), &like, &[0], &[2]), ErrorKind::Shape, "length 2");
    err_kind(ops::broadcast_like(&a, &like, &[2], &[2]), ErrorKind::Shape, "out of range");
    err_kind(ops::broadcast_like(&a, &like, &[0, 0], &[2, 1]), ErrorKind::Shape, "twice");
}

#[test]
fn reshape_like_with_ranges() {
    let ones = |s: &[usize]| NdArray::ones(s, DType::F32).unwrap();
    let r = |l: &[usize], rs: &[usize], b: [Option<i64>; 4]| ops::reshape_like(&ones(l), &ones(rs), b[0], b[1], b[2], b[3]);
    assert_eq!(r(&[3, 2], &[2, 3], [None; 4]).unwrap().shape(), &[2, 3]);
    assert_eq!(r(&[30, 7], &[15, 2, 4], [Some(0), Some(1), Some(0), Some(2)]).unwrap().shape(), &[15, 2, 7]);
    assert_eq!(r(&[30, 12], &[4, 2, 2, 3], [Some(-1), None, Some(1), None]).unwrap().shape(), &[30, 2, 2, 3]);
    assert_eq!(r(&[2, 3, 4], &[6], [None, Some(2), None, None]).unwrap().shape(), &[6, 4]);
    err_kind(r(&[3, 2], &[2, 4], [None; 4]), ErrorKind::Shape, "size 6");
    err_kind(r(&[2, 3, 4], &[6], [Some(2), Some(1), None, None]), ErrorKind::Shape, "lhs_begin");
    err_kind(r(&[2, 3, 4], &[6], [Some(5), None, None, None]), ErrorKind::Shape, "lhs_begin");
    err_kind(r(&[2, 3, 4], &[6], [Some(i64::MIN), Some(i64::MAX), None, None]), ErrorKind::Shape, "lhs_begin");
    let x = range(&[3, 2]);
    assert!(!shares(&x, &ops::reshape_like(&x, &range(&[6]), None, None, None, None).unwrap()));
}

#[test]
fn reshape_codes_as_mxnet_infers_them() {
    let x = range(&[2, 3, 4]);
    let shape = |codes: &[i64], reverse: bool| ops::reshape_codes(&x, codes, reverse).map(|y| y.shape().to_vec());
    assert_eq!(shape(&[0, -1], false).unwrap(), [2, 12]);
    assert_eq!(shape(&[-2], false).unwrap(), [2, 3, 4]);
    assert_eq!(shape(&[2, -2], false).unwrap(), [2, 3, 4]);
    assert_eq!(shape(&[-2, 1], false).unwrap(), [2, 3, 4, 1]);
    assert_eq!(shape(&[-3, 4], false).unwrap(), [6, 4]);
    assert_eq!(shape(&[-3, -1], false).unwrap(), [6, 4]);
    assert_eq!(shape(&[2, -3], false).unwrap(), [2, 12]);
    assert_eq!(shape(&[-4, 1, 2, -2], false).unwrap(), [1, 2, 3, 4]);
    assert_eq!(shape(&[-4, -1, 2, -2], false).unwrap(), [1, 2, 3, 4]);
    assert_eq!(shape(&[0, -4, -1, 3, 0], false).unwrap(), [2, 1, 3, 4]);
    assert_eq!(ops::reshape_codes(&NdArray::ones(&[10, 5, 4], DType::F32).unwrap(), &[-1, 0], true).unwrap().shape(), &[50, 4]);
    assert_eq!(ops::reshape_codes(&NdArray::ones(&[2, 3, 4, 5], DType::F32).unwrap(), &[-3, -3], false).unwrap().shape(), &[6, 20]);
    assert_eq!(ops::reshape_codes(&NdArray::ones(&[2, 3], DType::F32).unwrap(), &[-1, 0], false).unwrap().shape(), &[2, 3]);
    // The errors MXNet gives, with the shape and the codes named.
    for (codes, says) in [
        (&[-4, 3, 3, -2][..], "cannot split an axis of length 2"),
        (&[-1, -1], "more than one -1"),
        (&[-5, 4], "-5"),
        (&[5, 5], "(5, 5)"),
        (&[-4, -1, -1, 3, 4], "(-1, -1)"),
        (&[-2, -4, 2, 2], "splits input axis 3"),
        (&[2, 3, 4, 0], "copies input axis 3"),
        (&[-3, -3], "merges input axes 2 and 3"),
        (&[-4, 2], "followed by the two lengths"),
    ] {
        let e = ops::reshape_codes(&x, codes, false).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Shape, "{}", e.message);
        assert!(e.message.contains(says) && e.message.contains("(2, 3, 4)"), "{codes:?}: {}", e.message);
    }
    // MXNet divides by zero here; an empty known part is refused.
    err_kind(ops::reshape_codes(&NdArray::zeros(&[2, 0], DType::F32).unwrap(), &[-1, 0], false), ErrorKind::Shape, "-1 cannot be inferred");
    assert_eq!(ops::reshape_codes(&NdArray::zeros(&[0, 3], DType::F32).unwrap(), &[-1, 3], false).unwrap().shape(), &[0, 3]);
    // A view, as MXNet's NDArray.reshape.
    assert!(shares(&x, &ops::reshape_codes(&x, &[0, -1], false).unwrap()));
}

#[test]
fn take_gathers_in_each_mode() {
    let a = range(&[3, 2]);
    let idx = |v: &[f64]| arr(v, &[v.len()]);
    let take = |i: &NdArray, axis: i64, mode| ops::take(&a, i, axis, mode).map(|y| (y.shape().to_vec(), vals(&y)));
    assert_eq!(take(&idx(&[0.0, 2.0]), 0, IndexMode::Raise).unwrap(), (vec![2, 2], vec![0., 1., 4., 5.]));
    assert_eq!(take(&arr(&[0., 1., 2., 0.], &[2, 2]), 0, IndexMode::Raise).unwrap().0, vec![2, 2, 2]);
    assert_eq!(take(&idx(&[1.0, 0.0, 1.0]), 1, IndexMode::Raise).unwrap(), (vec![3, 3], vec![1., 0., 1., 3., 2., 3., 5., 4., 5.]));
    // MXNet 1.9.1's clip and wrap, fractions truncated towards zero.
    let odd = idx(&[-1.0, 5.0, 1.7, 2.5, -0.5]);
    assert_eq!(take(&odd, 0, IndexMode::Clip).unwrap().1, vec![0., 1., 4., 5., 2., 3., 4., 5., 0., 1.]);
    let wrap = idx(&[-1.0, 5.0, 1.7, -4.0, 7.0, -0.5, 2.5]);
    assert_eq!(take(&wrap, 0, IndexMode::Wrap).unwrap().1, vec![4., 5., 4., 5., 2., 3., 4., 5., 2., 3., 0., 1., 4., 5.]);
    assert_eq!(take(&idx(&[1.7]), 0, IndexMode::Raise).unwrap().1, vec![2., 3.]);
    err_kind(take(&idx(&[3.0]), 0, IndexMode::Raise), ErrorKind::Index, "3 at position 0 is out of range for an axis of length 3");
    err_kind(take(&idx(&[-1.0]), 0, IndexMode::Raise), ErrorKind::Index, "out of range");
    err_kind(take(&idx(&[f64::NAN]), 0, IndexMode::Clip), ErrorKind::Index, "NaN");
    err_kind(take(&idx(&[f64::INFINITY]), 0, IndexMode::Wrap), ErrorKind::Index, "inf");
    assert_eq!(take(&idx(&[f64::INFINITY, f64::NEG_INFINITY, 1e300]), 0, IndexMode::Clip).unwrap().1, vec![4., 5., 0., 1., 4., 5.]);
    assert_eq!(take(&idx(&[1e300]), 0, IndexMode::Wrap).unwrap().1.len(), 2);
    err_kind(take(&idx(&[0.0]), 2, IndexMode::Raise), ErrorKind::Shape, "out of range");
    err_kind(ops::take(&NdArray::zeros(&[0], DType::F32).unwrap(), &idx(&[0.0]), 0, IndexMode::Clip), ErrorKind::Index, "length 0");
    // A 0-d index drops the axis (MXNet cannot make one).
    assert_eq!(take(&arr(&[2.0], &[]), 0, IndexMode::Raise).unwrap(), (vec![2], vec![4., 5.]));
    // Indices of the other dtype.
    let i32s = NdArray::from_slice(&[2.0f32], &[1]).unwrap();
    assert_eq!(take(&i32s, 0, IndexMode::Raise).unwrap().1, vec![4., 5.]);
}

#[test]
fn take_gradient_adds_repeated_positions() {
    let x = var(&[0., 1., 2., 3., 4., 5.], &[3, 2]);
    let positions = arr(&[0., 2., 0., -1., 9.], &[5]);
    let y = record(|| ops::take(&x, &positions, 0, IndexMode::Clip).unwrap());
    backward(&[y], &[Some(range(&[5, 2]))]).unwrap();
    // MXNet 1.9.1: [[10, 13], [0, 0], [10, 12]]
    assert_eq!(grad(&x), vec![10., 13., 0., 0., 10., 12.]);
    // The positions are saved: writing them in place before backward is caught.
    let y = record(|| ops::take(&x, &positions, 0, IndexMode::Clip).unwrap());
    ops::write_slice(&positions, &[], &arr(&[1.0], &[1])).unwrap();
    err_kind(backward(&[y], &[]), ErrorKind::Autograd, "");
}

#[test]
fn put_writes_in_place_at_flat_positions() {
    let a = range(&[3, 2]);
    let view = ops::reshape(&a, &[-1]).unwrap();
    ops::put(&a, &arr(&[0., 1., 4., 5.], &[2, 2]), &arr(&[7., 8.], &[2])).unwrap();
    assert_eq!(vals(&a), vec![7., 8., 2., 3., 7., 8.]);
    assert_eq!(vals(&view), vals(&a), "a write through put is seen by views");
    // The last write to a repeated position stays; values convert to the array's dtype.
    ops::put(&a, &arr(&[0., 0.], &[2]), &NdArray::from_slice(&[1.5f32, 2.5], &[2]).unwrap()).unwrap();
    assert_eq!(vals(&a)[0], 2.5);
    // Leading length-1 axes of the value are dropped, as NumPy does.
    ops::put(&a, &arr(&[1.], &[1]), &arr(&[9.], &[1, 1, 1])).unwrap();
    assert_eq!(vals(&a)[1], 9.0);
    let before = vals(&a);
    err_kind(ops::put(&a, &arr(&[0., 6.], &[2]), &arr(&[1.], &[1])), ErrorKind::Index, "6 at position 1");
    err_kind(ops::put(&a, &arr(&[0., 1.], &[2]), &arr(&[1., 2., 3.], &[3])), ErrorKind::Shape, "(3,)");
    assert_eq!(vals(&a), before, "a refused put writes nothing");
    // Into a view (a row of a matrix), at positions of that view.
    let row = ops::slice(&a, &[ops::AxisIndex::At(1)]).unwrap();
    ops::put(&row, &arr(&[1.], &[1]), &arr(&[-1.], &[1])).unwrap();
    assert_eq!(vals(&a)[3], -1.0);
    // A value that is the array itself.
    let b = range(&[4]);
    ops::put(&b, &arr(&[3., 2., 1., 0.], &[4]), &b).unwrap();
    assert_eq!(vals(&b), vec![3., 2., 1., 0.]);
    // Inside a record scope, an array in the graph is not written.
    let x = var(&[1., 2.], &[2]);
    err_kind(record(|| ops::put(&x, &arr(&[0.], &[1]), &arr(&[5.], &[1]))), ErrorKind::Autograd, "record scope");
}

#[test]
fn pick_clips_or_wraps_as_asked() {
    let a = range(&[3, 2]);
    let pick = |v: &[f64], axis: i64, mode| ops::pick_mode(&a, &arr(v, &[v.len()]), axis, false, mode).map(|y| vals(&y));
    // MXNet 1.9.1's values.
    assert_eq!(pick(&[5., -1., 0.7], 1, IndexMode::Clip).unwrap(), vec![1., 2., 4.]);
    assert_eq!(pick(&[5., -1.], 0, IndexMode::Clip).unwrap(), vec![4., 1.]);
    assert_eq!(pick(&[5., -1., 2.7], 1, IndexMode::Wrap).unwrap(), vec![1., 3., 4.]);
    assert_eq!(pick(&[-3., -4., -5.], 1, IndexMode::Wrap).unwrap(), vec![1., 2., 5.]);
    // The default stays the range error, also for fractions.
    err_kind(pick(&[5., 0., 0.], 1, IndexMode::Raise), ErrorKind::Index, "out of range");
    err_kind(pick(&[0.5, 0., 0.], 1, IndexMode::Raise), ErrorKind::Index, "whole number");
    err_kind(pick(&[f64::NAN, 0., 0.], 1, IndexMode::Clip), ErrorKind::Index, "NaN");
    err_kind(pick(&[0., 0.], 1, IndexMode::Clip), ErrorKind::Shape, "does not match");
    let x = var(&[0., 1., 2., 3., 4., 5.], &[3, 2]);
    let y = record(|| ops::pick_mode(&x, &arr(&[5., -1., 3.], &[3]), 1, false, IndexMode::Wrap).unwrap());
    backward(&[y], &[Some(arr(&[1., 2., 3.], &[3]))]).unwrap();
    assert_eq!(grad(&x), vec![0., 1., 0., 2., 0., 3.]);
}

#[test]
fn a_head_gradient_of_the_heads_size_is_read_as_its_shape() {
    // The d2l autograd chapter: a (4,) head gradient for a (4, 1) head.
    let x = var(&[0., 1., 2., 3.], &[4, 1]);
    let y = record(|| ops::mul_scalar(&x, 2.0).unwrap());
    backward(&[y.clone()], &[Some(arr(&[0., 1., 2., 3.], &[4]))]).unwrap();
    assert_eq!(grad(&x), vec![0., 2., 4., 6.]);
    let y = record(|| ops::mul_scalar(&x, 2.0).unwrap());
    let g = autograd::grad(&[y.clone()], &[x.clone()], &[Some(arr(&[1., 1., 1., 1.], &[2, 2]))], true, false, true).unwrap();
    assert_eq!(g[0].shape(), &[4, 1]);
    assert_eq!(vals(&g[0]), vec![2.0; 4]);
    // Of another size it is refused, naming both.
    let e = backward(&[y.clone()], &[Some(arr(&[1.; 5], &[5]))]).expect_err("refused");
    assert!(e.kind == ErrorKind::Shape && e.message.contains("(5,)") && e.message.contains("(4, 1)"), "{}", e.message);
    // Read as its shape with create_graph too: the second derivative goes through it.
    let z = record(|| ops::square(&x).unwrap());
    let dz = record(|| autograd::grad(&[z], &[x.clone()], &[Some(arr(&[1., 1., 1., 1.], &[4]))], true, true, true).unwrap());
    backward(&dz, &[Some(arr(&[1.; 4], &[1, 4]))]).unwrap();
    assert_eq!(grad(&x), vec![2.0; 4]);
}

#[test]
fn results_agree_in_the_reference_mode() {
    common::in_both_modes(|mode| {
        let x = var(&(0..24).map(|i| i as f64 * 0.5 - 3.0).collect::<Vec<_>>(), &[2, 3, 4]);
        let idx = arr(&[2., 0., 3.], &[3]);
        let y = record(|| {
            let t = ops::take(&ops::tile(&ops::flip(&x, &[1]).unwrap(), &[1, 2, 1]).unwrap(), &idx, 2, IndexMode::Raise).unwrap();
            let s = ops::split(&ops::repeat(&t, 2, Some(0)).unwrap(), 2, 0, false).unwrap();
            ops::mul(&ops::moveaxis(&s[1], &[0], &[-1]).unwrap(), &ops::moveaxis(&s[0], &[0], &[-1]).unwrap()).unwrap()
        });
        backward(&[y], &[]).unwrap();
        let g = grad(&x);
        // The loss is 2·Σ t[1] ⊙ t[0]; x[0, 2, 0] (element 8) is in t[0] once per tile, each
        // time beside x[1, 2, 0] (element 20, value 7): its gradient is 2 · 2 · 7.
        assert!(g.iter().all(|v| v.is_finite()), "{mode}: {g:?}");
        assert_eq!(g[8], 28.0, "{mode}: {g:?}");
    });
}
