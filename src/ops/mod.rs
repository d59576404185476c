//! The differentiable array ops. Each op computes its forward value with a kernel and
//! records, beside it, its vector-Jacobian product written with these same ops.

mod arrange;
mod binary;
pub mod custom;
mod elementwise;
pub mod fuse;
mod gemm;
mod index;
mod integer;
pub mod kernel;
mod linalg;
mod nn;
pub mod optim;
mod random;
mod reduce;
mod shape;
mod sort;
mod special;
mod unary;

pub use arrange::{broadcast_like, expand_dims, eye, flip, full_like, linspace, moveaxis, pick_mode, put, repeat, reshape_codes, reshape_like, split, squeeze, swapaxes, take, tile, IndexMode};
pub use binary::{add, compare, compare_scalar, div, maximum, minimum, mul, pow, sub};
pub use kernel::Cmp;
pub use elementwise::{
    arccos, arccosh, arcsin, arcsinh, arctan, arctanh, cbrt, ceil, cos, cosh, degrees, erf, expm1, fix, floor, gamma, gammaln,
    isfinite, isinf, isnan, log10, log1p, log2, polygamma, radians, rcbrt, reciprocal, rint, round, rsqrt, sign, sin, sinh,
    tan, trunc,
};
pub use linalg::{batch_dot, dot};
pub use nn::{
    argmax, argmin, batch_norm, clip, concat, dropout, flatten, fully_connected, log_softmax, one_hot, pick, softmax,
    softmax_cross_entropy, stack, where_,
};
pub use crate::array::InPlace;
pub use index::{astype, slice, update, write_slice, AxisIndex};
pub use random::sample_multinomial;
pub use reduce::{broadcast_to, cumsum, max, mean, min, nanprod, nansum, norm, norm1, prod, sum, sum_to};
pub use shape::{copy, reshape, reshape_to, transpose};
pub use sort::{argsort, sort, topk, TopK};
pub use unary::{
    abs, add_scalar, div_scalar, exp, log, maximum_scalar, minimum_scalar, mul_scalar, neg, pow_scalar, rdiv_scalar,
    relu, rpow_scalar, rsub_scalar, sigmoid, sqrt, square, sub_scalar, tanh,
};
