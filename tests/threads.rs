//! Large ops split over threads give the same results as on one thread.

use ad::ops::{self, threads};
use ad::{DType, NdArray};

#[test]
fn threaded_matrix_products_match_the_single_threaded_ones() {
    ad::array::random::seed(3);
    let a = NdArray::random_uniform(-1.0, 1.0, &[300, 517], DType::F32).unwrap();
    let b = NdArray::random_uniform(-1.0, 1.0, &[517, 203], DType::F32).unwrap();
    let bt = ops::transpose(&b, &[]).unwrap();
    let product = |ta: bool| {
        if ta {
            ops::dot(&ops::transpose(&a, &[]).unwrap(), &bt, true, true).unwrap().to_vec::<f32>()
        } else {
            ops::dot(&a, &b, false, false).unwrap().to_vec::<f32>()
        }
    };
    threads::set_num_threads(1).unwrap();
    let (one, one_t) = (product(false), product(true));
    for n in [2, 3, 7] {
        threads::set_num_threads(n).unwrap();
        assert_eq!(product(false), one, "{n} threads");
        assert_eq!(product(true), one_t, "{n} threads, transposed operands");
    }
    assert!(threads::set_num_threads(0).is_err());
}
