//! Special functions the C library does not have: the polygamma functions ψ⁽ⁿ⁾, the
//! derivatives of ln Γ (digamma is ψ⁽⁰⁾). They make gamma and gammaln differentiable to any
//! order: the derivative of ψ⁽ⁿ⁾ is ψ⁽ⁿ⁺¹⁾.

use std::f64::consts::PI;

/// B₂, B₄, ..., B₁₄ (Bernoulli numbers) for the asymptotic series.
const BERNOULLI: [f64; 7] = [1.0 / 6.0, -1.0 / 30.0, 1.0 / 42.0, -1.0 / 30.0, 5.0 / 66.0, -691.0 / 2730.0, 7.0 / 6.0];

/// ψ⁽ⁿ⁾(x); NaN at the poles (0, -1, -2, ...) and for NaN.
pub fn polygamma(n: u32, x: f64) -> f64 {
    if x.is_nan() || (x <= 0.0 && x == x.floor()) {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return if n == 0 { f64::INFINITY } else { 0.0 };
    }
    if n == 0 {
        return digamma(x);
    }
    // ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x + 1) + (-1)ⁿ⁺¹ n! / xⁿ⁺¹: step up to where the asymptotic series is
    // accurate (also from negative x, between the poles).
    let sign = if n % 2 == 1 { 1.0 } else { -1.0 };
    let n_fact = factorial(n);
    let far = 15.0 + n as f64;
    let (mut x, mut near) = (x, 0.0);
    while x < far {
        near += 1.0 / x.powi(n as i32 + 1);
        x += 1.0;
    }
    // (-1)ⁿ⁺¹ [(n-1)!/xⁿ + n!/(2xⁿ⁺¹) + Σ B₂ₖ (2k+n-1)! / ((2k)! x²ᵏ⁺ⁿ)]
    let mut series = factorial(n - 1) / x.powi(n as i32) + n_fact / (2.0 * x.powi(n as i32 + 1));
    for (k, b) in (1..).zip(BERNOULLI) {
        series += b * factorial(2 * k + n - 1) / (factorial(2 * k) * x.powi((2 * k + n) as i32));
    }
    sign * (n_fact * near + series)
}

/// ψ(x) = d/dx ln Γ(x), for x not a pole.
fn digamma(x: f64) -> f64 {
    if x < 0.0 {
        // Reflection: ψ(x) = ψ(1 - x) - π / tan(πx).
        return digamma(1.0 - x) - PI / (PI * x).tan();
    }
    // ψ(x) = ψ(x + 1) - 1/x, up to where ln x - 1/(2x) - Σ B₂ₖ/(2k x²ᵏ) is accurate.
    let (mut x, mut near) = (x, 0.0);
    while x < 10.0 {
        near -= 1.0 / x;
        x += 1.0;
    }
    let mut series = x.ln() - 0.5 / x;
    for (k, b) in (1..).zip(BERNOULLI) {
        series -= b / (2.0 * f64::from(k) * x.powi(2 * k));
    }
    near + series
}

fn factorial(n: u32) -> f64 {
    (1..=n).map(f64::from).product()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn digamma_at_known_points() {
        const EULER: f64 = 0.577_215_664_901_532_9;
        assert!(close(polygamma(0, 1.0), -EULER));
        assert!(close(polygamma(0, 0.5), -EULER - 2.0 * 2f64.ln()));
        assert!(close(polygamma(0, 10.0), 2.251_752_589_066_721));
        // ψ(x + 1) = ψ(x) + 1/x, also below 0.
        for x in [-2.5, -0.3, 0.1, 3.7] {
            assert!(close(polygamma(0, x + 1.0), polygamma(0, x) + 1.0 / x), "{x}");
        }
        assert!(polygamma(0, 0.0).is_nan() && polygamma(0, -3.0).is_nan());
    }

    #[test]
    fn polygamma_at_known_points() {
        // ψ⁽¹⁾(1) = π²/6, ψ⁽²⁾(1) = -2ζ(3), ψ⁽³⁾(1) = π⁴/15, ψ⁽¹⁾(1/2) = π²/2.
        assert!(close(polygamma(1, 1.0), PI * PI / 6.0));
        assert!(close(polygamma(2, 1.0), -2.0 * 1.202_056_903_159_594_3));
        assert!(close(polygamma(3, 1.0), PI.powi(4) / 15.0));
        assert!(close(polygamma(1, 0.5), PI * PI / 2.0));
        // The recurrence ψ⁽ⁿ⁾(x + 1) = ψ⁽ⁿ⁾(x) + (-1)ⁿ n!/xⁿ⁺¹, between the poles too.
        for n in 1..5 {
            for x in [-1.5, 0.25, 2.0, 30.0] {
                let step = if n % 2 == 0 { 1.0 } else { -1.0 } * factorial(n) / f64::powi(x, n as i32 + 1);
                assert!((polygamma(n, x + 1.0) - (polygamma(n, x) + step)).abs() <= 1e-10 * polygamma(n, x).abs().max(1.0), "{n} {x}");
            }
        }
    }

    #[test]
    fn each_is_the_derivative_of_the_one_before() {
        for n in 0..4 {
            for x in [0.7, 1.3, 4.2] {
                let h = 1e-5;
                let numeric = (polygamma(n, x + h) - polygamma(n, x - h)) / (2.0 * h);
                assert!((numeric - polygamma(n + 1, x)).abs() <= 1e-6 * polygamma(n + 1, x).abs().max(1.0), "{n} {x}");
            }
        }
    }
}
