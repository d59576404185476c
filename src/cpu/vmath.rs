//! Vectorised float32 exp, log, sigmoid and tanh. `f32::exp` is a libm call per element;
//! these are branch-free polynomials (Cephes' expf, logf and tanhf; within 1 to 3 ulp) that the
//! compiler turns into SIMD loops, compiled for AVX-512 or AVX2+FMA and chosen at run time
//! by the CPU's level (`cpu::level`).

use std::mem::MaybeUninit;

#[allow(unused_imports)] // without x86-64 only the portable level is matched by name
use crate::cpu::level::Level;
use crate::cpu::loops::{extend_chunked, PARALLEL_MIN_COSTLY};

const LOG2E: f32 = std::f32::consts::LOG2_E;
// ln 2 split in two (Cody–Waite), so that n·ln2 is subtracted without rounding error.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// 2^k for an integer k in [-126, 127], built from its exponent bits.
#[inline(always)]
fn pow2i(k: i32) -> f32 {
    f32::from_bits(((k + 127) as u32) << 23)
}

/// floor(y) for |y| < 2^22, where `f32::floor` is a libm call per element on x86-64 without
/// SSE4.1 (the portable level), which keeps the loop from being vectorised: adding and
/// subtracting 1.5·2^23 rounds to the nearest integer, one less where that rounded up. The
/// same value as `floor`, NaN included (of -0 it gives +0, which `exp1` never passes).
#[inline(always)]
fn floor_small(y: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0;
    let r = (y + ROUND) - ROUND;
    if r > y { r - 1.0 } else { r }
}

/// `a * b + c`, fused where the CPU has FMA (Rust never fuses on its own: the two roundings
/// are part of the language), which halves the dependent steps of a polynomial.
#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// exp(r) = 1 + r + r²·p(r) on |r| ≤ ln2/2: p's coefficients, highest first (Cephes' expf;
/// its 5.0000001201e-1 is 0.5 in f32).
const EXP_POLY: [f32; 6] = [1.987_569_1e-4, 1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 0.5];

#[inline(always)]
fn exp1<const FMA: bool>(x: f32) -> f32 {
    // Past these bounds the result is 0 or inf anyway; clamping keeps n in range.
    let xc = x.clamp(-104.0, 89.0);
    // FMA's levels round with one instruction (AVX); the portable level cannot.
    let near = madd::<FMA>(xc, LOG2E, 0.5);
    let n = if FMA { near.floor() } else { floor_small(near) };
    let r = madd::<FMA>(-n, LN2_LO, madd::<FMA>(-n, LN2_HI, xc));
    let p = EXP_POLY[1..].iter().fold(EXP_POLY[0], |p, &c| madd::<FMA>(p, r, c));
    let y = madd::<FMA>(p * r, r, r + 1.0);
    // Scale by 2^n in two steps, so that subnormal results and overflow to inf come out right.
    // n is an integer in [-151, 129]: adding 1.5·2^23 puts it in the low mantissa bits. (`as
    // i32` must saturate and map NaN to 0, which the compiler does one lane at a time.)
    let n = (n + 12_582_912.0).to_bits() as i32 - 0x4B40_0000;
    let n1 = n / 2;
    let v = y * pow2i(n1) * pow2i(n - n1);
    if x.is_nan() { x } else { v }
}

#[inline(always)]
fn log1<const FMA: bool>(x: f32) -> f32 {
    // x = m·2^e with m in [0.5, 1), read from the bits; a subnormal x is first scaled by 2^23
    // into the normal range.
    let subnormal = x < f32::MIN_POSITIVE;
    let xs = if subnormal { x * 8_388_608.0 } else { x };
    let bits = xs.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 126 - if subnormal { 23 } else { 0 };
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    // Shifted to [√½, √2) around 1, so that the polynomial's argument t = m - 1 is small.
    let below = m < std::f32::consts::FRAC_1_SQRT_2;
    if below {
        e -= 1;
    }
    let t = if below { m + m - 1.0 } else { m - 1.0 };
    let z = t * t;
    let mut p = 7.037_683_6e-2f32;
    p = madd::<FMA>(p, t, -1.151_461e-1);
    p = madd::<FMA>(p, t, 1.167_699_9e-1);
    p = madd::<FMA>(p, t, -1.242_014_1e-1);
    p = madd::<FMA>(p, t, 1.424_932_3e-1);
    p = madd::<FMA>(p, t, -1.666_805_8e-1);
    p = madd::<FMA>(p, t, 2.000_071_5e-1);
    p = madd::<FMA>(p, t, -2.499_999_4e-1);
    p = madd::<FMA>(p, t, 3.333_333e-1);
    let ef = e as f32;
    // log(x) = t - t²/2 + t³·p(t) + e·ln 2, with ln 2 in two parts as in exp.
    let y = madd::<FMA>(ef, LN2_LO, p * t * z);
    let y = madd::<FMA>(-0.5, z, y);
    let v = madd::<FMA>(ef, LN2_HI, t + y);
    if x.is_nan() || x < 0.0 {
        f32::NAN
    } else if x == 0.0 {
        f32::NEG_INFINITY
    } else if x == f32::INFINITY {
        x
    } else {
        v
    }
}

#[inline(always)]
fn sigmoid1<const FMA: bool>(x: f32) -> f32 {
    1.0 / (1.0 + exp1::<FMA>(-x))
}

#[inline(always)]
fn tanh1<const FMA: bool>(x: f32) -> f32 {
    let a = x.abs();
    // Near 0 a polynomial keeps the relative error small; further out 1 - 2/(e^{2|x|} + 1).
    let z = x * x;
    let mut p = -5.704_988_7e-3f32;
    p = madd::<FMA>(p, z, 2.063_909e-2);
    p = madd::<FMA>(p, z, -5.373_971_6e-2);
    p = madd::<FMA>(p, z, 1.333_144_2e-1);
    p = madd::<FMA>(p, z, -3.333_328e-1);
    let small = madd::<FMA>(p * z, a, a);
    let large = 1.0 - 2.0 / (exp1::<FMA>(2.0 * a) + 1.0);
    // Computed for |x| and given x's sign: tanh(-0) is -0.
    (if a < 0.625 { small } else { large }).copysign(x)
}

macro_rules! dispatched {
    ($name:ident, $into:ident, $avx512:ident, $avx2:ident, $one:ident, $plain:expr) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $avx2(src: &[f32], out: &mut [MaybeUninit<f32>]) {
            for (o, &x) in out.iter_mut().zip(src) {
                o.write($one::<true>(x));
            }
        }

        dispatched!($name, $into, $avx512, written $avx2, $one, $plain);
    };
    // The AVX2 loop written out by hand (`$avx2`, same values as `$one::<true>`).
    ($name:ident, $into:ident, $avx512:ident, written $avx2:ident, $one:ident, $plain:expr) => {
        /// The loop compiled for AVX-512: sixteen lanes. Even where the CPU runs 512-bit
        /// operations as two halves (Zen 4), half the instructions make exp and tanh about a
        /// third faster than with AVX2.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx2,fma")]
        unsafe fn $avx512(src: &[f32], out: &mut [MaybeUninit<f32>]) {
            for (o, &x) in out.iter_mut().zip(src) {
                o.write($one::<true>(x));
            }
        }

        /// Appends the function's value of each element of `src` to `out`, split over the
        /// threads when `src` is large.
        pub fn $name(src: &[f32], out: &mut Vec<f32>) {
            extend_chunked(out, src, PARALLEL_MIN_COSTLY, $into)
        }

        /// Writes the function's value of each element of `src` to `out` (of `src`'s length)
        /// on the calling thread; in the reference mode, the C library's value.
        pub fn $into(src: &[f32], out: &mut [MaybeUninit<f32>]) {
            if crate::reference::enabled() {
                for (o, &x) in out.iter_mut().zip(src) {
                    o.write($plain(x));
                }
                return;
            }
            match crate::cpu::level::level() {
                // SAFETY: level() is at most what the CPU has, and each function was compiled
                // for the features of its level.
                #[cfg(target_arch = "x86_64")]
                Level::Avx512 => unsafe { $avx512(src, out) },
                #[cfg(target_arch = "x86_64")]
                Level::Avx2 => unsafe { $avx2(src, out) },
                _ => {
                    for (o, &x) in out.iter_mut().zip(src) {
                        o.write($one::<false>(x));
                    }
                }
            }
        }
    };
}

dispatched!(exp, exp_into, exp_avx512, written exp_avx2, exp1, f32::exp);

/// `exp1::<true>` of each element, the same bits, 32 at a time. Where every lane's |x| is at
/// most 86, 2^n is in the normal range and so is the result: scaling by adding n to the
/// exponent bits is then exact, as the two multiplications of `exp1` are, and the clamp and
/// the NaN test have nothing to do. The compiler cannot see that; this loop tests it once per
/// four vectors and interleaves their polynomials, whose chains are long: about 1.6 times the
/// speed of the compiled `exp1` here. Other groups (large |x|, NaN, infinities) go through `exp1`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn exp_avx2(src: &[f32], out: &mut [MaybeUninit<f32>]) {
    use std::arch::x86_64::*;
    const V: usize = 4;
    let n = src.len().min(out.len());
    let (src, dst) = (src.as_ptr(), out.as_mut_ptr().cast::<f32>());
    let c = |v: f32| _mm256_set1_ps(v);
    let mut i = 0;
    while i + 8 * V <= n {
        let x: [__m256; V] = std::array::from_fn(|v| _mm256_loadu_ps(src.add(i + 8 * v)));
        let inside = x.map(|x| _mm256_cmp_ps::<_CMP_LE_OQ>(_mm256_andnot_ps(c(-0.0), x), c(86.0)));
        let all = inside.into_iter().reduce(|a, b| _mm256_and_ps(a, b)).expect("V > 0");
        if _mm256_movemask_ps(all) != 0xff {
            for j in i..i + 8 * V {
                *dst.add(j) = exp1::<true>(*src.add(j));
            }
            i += 8 * V;
            continue;
        }
        // The steps of exp1, in its order and roundings.
        let k = x.map(|x| _mm256_floor_ps(_mm256_fmadd_ps(x, c(LOG2E), c(0.5))));
        let r: [__m256; V] = std::array::from_fn(|v| _mm256_fnmadd_ps(k[v], c(LN2_LO), _mm256_fnmadd_ps(k[v], c(LN2_HI), x[v])));
        let mut p = [c(EXP_POLY[0]); V];
        for &coef in &EXP_POLY[1..] {
            for v in 0..V {
                p[v] = _mm256_fmadd_ps(p[v], r[v], c(coef));
            }
        }
        for v in 0..V {
            let y = _mm256_fmadd_ps(_mm256_mul_ps(p[v], r[v]), r[v], _mm256_add_ps(r[v], c(1.0)));
            let scaled = _mm256_add_epi32(_mm256_castps_si256(y), _mm256_slli_epi32::<23>(_mm256_cvtps_epi32(k[v])));
            _mm256_storeu_ps(dst.add(i + 8 * v), _mm256_castsi256_ps(scaled));
        }
        i += 8 * V;
    }
    for j in i..n {
        *dst.add(j) = exp1::<true>(*src.add(j));
    }
}

dispatched!(log, log_into, log_avx512, log_avx2, log1, f32::ln);
dispatched!(sigmoid, sigmoid_into, sigmoid_avx512, sigmoid_avx2, sigmoid1, |x: f32| 1.0 / (1.0 + (-x).exp()));
dispatched!(tanh, tanh_into, tanh_avx512, tanh_avx2, tanh1, f32::tanh);

#[cfg(test)]
mod tests {
    /// Distance in units in the last place between `got` and the f64 reference.
    fn ulps(got: f32, want: f64) -> f64 {
        let w = want as f32;
        if got == w || (got.is_nan() && want.is_nan()) {
            return 0.0;
        }
        let spacing = (f32::from_bits(w.abs().to_bits() + 1) - w.abs()) as f64;
        ((got as f64 - want) / spacing).abs()
    }

    fn check(name: &str, f: fn(&[f32], &mut Vec<f32>), reference: fn(f64) -> f64, lo: f32, hi: f32, bound: f64) {
        check_with(name, &f, reference, lo, hi, bound)
    }

    fn check_with(name: &str, f: &dyn Fn(&[f32], &mut Vec<f32>), reference: fn(f64) -> f64, lo: f32, hi: f32, bound: f64) {
        let n = 2_000_001;
        let xs: Vec<f32> = (0..n).map(|i| lo + (hi - lo) * (i as f32 / (n - 1) as f32)).collect();
        let mut out = Vec::new();
        f(&xs, &mut out);
        let (worst, at) = xs.iter().zip(&out).map(|(&x, &y)| (ulps(y, reference(x as f64)), x)).fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a });
        assert!(worst <= bound, "{name}: {worst} ulp at x = {at}");
    }

    #[test]
    fn exp_is_within_two_ulps() {
        check("exp", super::exp, f64::exp, -87.0, 88.7, 2.0);
        check("exp near 0", super::exp, f64::exp, -1e-3, 1e-3, 2.0);
    }

    /// Log over the whole positive range, subnormals included, sampled evenly in the
    /// exponent, and densely around 1 where the result goes to 0.
    fn log_checks(f: &dyn Fn(&[f32], &mut Vec<f32>), bound: f64) {
        let n = 2_000_001;
        let spread: Vec<f32> = (0..n).map(|i| (2f64.powf(-149.0 + 277.0 * i as f64 / (n - 1) as f64)) as f32).collect();
        let near_one: Vec<f32> = (0..n).map(|i| 0.5 + 1.5 * (i as f32 / (n - 1) as f32)).collect();
        for (what, xs) in [("log", spread), ("log near 1", near_one)] {
            let mut out = Vec::new();
            f(&xs, &mut out);
            let (worst, at) = xs.iter().zip(&out).map(|(&x, &y)| (ulps(y, (x as f64).ln()), x)).fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a });
            assert!(worst <= bound, "{what}: {worst} ulp at x = {at}");
        }
    }

    #[test]
    fn log_is_within_one_ulp() {
        log_checks(&super::log, 1.0);
    }

    #[test]
    fn sigmoid_is_within_three_ulps() {
        check("sigmoid", super::sigmoid, |x| 1.0 / (1.0 + (-x).exp()), -80.0, 80.0, 3.0);
    }

    #[test]
    fn tanh_is_within_three_ulps() {
        check("tanh", super::tanh, f64::tanh, -10.0, 10.0, 3.0);
        check("tanh near 0", super::tanh, f64::tanh, -1e-3, 1e-3, 3.0);
    }

    /// The portable forms (no FMA), which CPUs without AVX2 and FMA run.
    fn portable(f: fn(f32) -> f32) -> impl Fn(&[f32], &mut Vec<f32>) {
        move |src, out| crate::cpu::loops::extend_map(out, src, f)
    }

    /// The AVX2 forms, which CPUs with AVX2 and FMA but not AVX-512 run. A CPU without AVX2
    /// cannot run them; it runs the portable forms, tested below.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_forms_are_within_the_same_bounds() {
        if !(std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")) {
            return;
        }
        fn avx2(f: unsafe fn(&[f32], &mut [std::mem::MaybeUninit<f32>])) -> impl Fn(&[f32], &mut Vec<f32>) {
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            move |src, out| super::extend_chunked(out, src, usize::MAX, |s, o| unsafe { f(s, o) })
        }
        check_with("exp", &avx2(super::exp_avx2), f64::exp, -87.0, 88.7, 2.0);
        log_checks(&avx2(super::log_avx2), 1.0);
        check_with("sigmoid", &avx2(super::sigmoid_avx2), |x| 1.0 / (1.0 + (-x).exp()), -80.0, 80.0, 3.0);
        check_with("tanh", &avx2(super::tanh_avx2), f64::tanh, -10.0, 10.0, 3.0);
        check_with("tanh near 0", &avx2(super::tanh_avx2), f64::tanh, -1e-3, 1e-3, 3.0);
    }

    /// The hand-written AVX2 exp gives exp1's bits, in its fast vectors and the lanes it
    /// hands back to exp1 (|x| past 86, NaN, infinities, subnormal results), whatever the
    /// vector's other lanes.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_exp_is_exp1_bit_for_bit() {
        if !(std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")) {
            return;
        }
        let mut xs: Vec<f32> = (0..4_000_001).map(|i| -110.0 + 220.0 * (i as f32 / 4_000_000.0)).collect();
        let edges = [86.0f32, -86.0, 85.99999, -85.99999, 86.00001, -86.00001, 88.72, 89.0, -87.3, -103.9, -104.0, 1e-30, -1e-30, 0.0, -0.0];
        xs.extend(edges.iter().flat_map(|&e| [e, 0.5, -0.5, e, 1.0, e, -2.0, 3.0]));
        xs.extend([f32::NAN, f32::INFINITY, f32::NEG_INFINITY, f32::MAX, f32::MIN, f32::MIN_POSITIVE, 1.0, 2.0, 7.0]);
        let mut state = 0x2545_f491_u32;
        xs.extend((0..1_000_000).map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            f32::from_bits(state)
        }));
        let mut out = vec![std::mem::MaybeUninit::new(0.0f32); xs.len()];
        // SAFETY: the CPU has AVX2 and FMA (checked above).
        unsafe { super::exp_avx2(&xs, &mut out) };
        for (&x, o) in xs.iter().zip(&out) {
            // SAFETY: exp_avx2 wrote every element.
            let got = unsafe { o.assume_init() };
            let want = super::exp1::<true>(x);
            assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()), "exp({x:e}) = {got:e}, exp1 gives {want:e}");
        }
    }

    #[test]
    fn floor_small_is_floor() {
        let edges = [0.0f32, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, 2.5, -2.5, 0.49999997, -0.49999997, 1e-30, -1e-30, 4_194_303.5, -4_194_303.5];
        let sweep = (0..200_001).map(|i| -151.0 + 280.0 * (i as f32 / 200_000.0));
        for y in edges.into_iter().chain(sweep) {
            assert_eq!(super::floor_small(y).to_bits(), y.floor().to_bits(), "floor({y:e})");
        }
        assert!(super::floor_small(f32::NAN).is_nan());
    }

    #[test]
    fn portable_forms_are_within_the_same_bounds() {
        check_with("exp", &portable(super::exp1::<false>), f64::exp, -87.0, 88.7, 2.0);
        log_checks(&portable(super::log1::<false>), 1.0);
        check_with("sigmoid", &portable(super::sigmoid1::<false>), |x| 1.0 / (1.0 + (-x).exp()), -80.0, 80.0, 3.0);
        check_with("tanh", &portable(super::tanh1::<false>), f64::tanh, -10.0, 10.0, 3.0);
        check_with("tanh near 0", &portable(super::tanh1::<false>), f64::tanh, -1e-3, 1e-3, 3.0);
    }

    #[test]
    fn special_values() {
        let xs = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 89.0, -104.0, -90.0, 0.0, -0.0];
        let mut e = Vec::new();
        super::exp(&xs, &mut e);
        assert!(e[0].is_nan());
        assert_eq!(&e[1..5], &[f32::INFINITY, 0.0, f32::INFINITY, 0.0]);
        assert!((e[5] as f64 / (-90f64).exp() - 1.0).abs() < 1e-3, "subnormal exp(-90) = {}", e[5]);
        assert_eq!(&e[6..], &[1.0, 1.0]);
        let mut t = Vec::new();
        super::tanh(&xs, &mut t);
        assert!(t[0].is_nan());
        assert_eq!(&t[1..3], &[1.0, -1.0]);
        assert_eq!(t[7].to_bits(), (-0.0f32).to_bits());
        let mut l = Vec::new();
        super::log(&[f32::NAN, f32::INFINITY, -1.0, 0.0, -0.0, 1.0, f32::MIN_POSITIVE / 8.0, f32::NEG_INFINITY], &mut l);
        assert!(l[0].is_nan() && l[2].is_nan() && l[7].is_nan());
        assert_eq!(&l[1..2], &[f32::INFINITY]);
        assert_eq!(&l[3..6], &[f32::NEG_INFINITY, f32::NEG_INFINITY, 0.0]);
        assert_eq!(l[6], ((f32::MIN_POSITIVE / 8.0) as f64).ln() as f32);
        let mut s = Vec::new();
        super::sigmoid(&xs, &mut s);
        assert_eq!(&s[1..3], &[1.0, 0.0]);
    }
}
