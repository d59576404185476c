//! Forward values of the table's element-wise ops where MXNet's definition is not the C
//! library's: its rounding functions, and values at the edges of the domains.

mod common;

use ad::ops;
use common::arr;

fn values(op: fn(&ad::NdArray) -> ad::Result<ad::NdArray>, x: &[f64]) -> Vec<f64> {
    op(&arr(x, &[x.len()])).unwrap().to_f64_vec()
}

#[test]
fn rounding_as_mxnet_rounds() {
    let x = [0.5, 1.5, 2.5, -0.5, -1.5, 1.7, -1.7, 2.1];
    // round: halves away from zero; rint: halves down (MXNet's, not the C library's rint).
    assert_eq!(values(ops::round, &x), [1.0, 2.0, 3.0, -1.0, -2.0, 2.0, -2.0, 2.0]);
    assert_eq!(values(ops::rint, &x), [0.0, 1.0, 2.0, -1.0, -2.0, 2.0, -2.0, 2.0]);
    assert_eq!(values(ops::fix, &x), [0.0, 1.0, 2.0, -0.0, -1.0, 1.0, -1.0, 2.0]);
    assert_eq!(values(ops::floor, &x), [0.0, 1.0, 2.0, -1.0, -2.0, 1.0, -2.0, 2.0]);
    assert_eq!(values(ops::ceil, &x), [1.0, 2.0, 3.0, -0.0, -1.0, 2.0, -1.0, 3.0]);
}

#[test]
fn edges_of_the_domains_give_nan_or_infinity() {
    let nan_or = |v: f64, want: f64| if want.is_nan() { v.is_nan() } else { v == want };
    let cases: &[(fn(&ad::NdArray) -> ad::Result<ad::NdArray>, f64, f64)] = &[
        (ops::arcsin, 2.0, f64::NAN),
        (ops::arccosh, 0.5, f64::NAN),
        (ops::arctanh, 1.0, f64::INFINITY),
        (ops::log2, 0.0, f64::NEG_INFINITY),
        (ops::log1p, -1.0, f64::NEG_INFINITY),
        (ops::rsqrt, 0.0, f64::INFINITY),
        (ops::reciprocal, -0.0, f64::NEG_INFINITY),
        (ops::gamma, 0.0, f64::INFINITY),
        (ops::gammaln, -2.0, f64::INFINITY),
        (ops::sign, f64::NAN, f64::NAN),
        (ops::isnan, f64::NAN, 1.0),
        (ops::isinf, f64::NEG_INFINITY, 1.0),
        (ops::isfinite, f64::INFINITY, 0.0),
    ];
    for &(op, x, want) in cases {
        let got = values(op, &[x])[0];
        assert!(nan_or(got, want), "at {x}: {got}, want {want}");
    }
}
