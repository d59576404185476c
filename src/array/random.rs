//! The seedable generator behind the `random_*` arrays (normal, uniform, exponential, gamma,
//! Poisson, shuffle): xoshiro256** seeded through splitmix64, one per process (as MXNet's
//! `nd.random.seed` is global), so the same seed gives the same numbers. Every draw takes the
//! generator's lock and runs on one thread, so the numbers do not depend on the thread count.

use std::sync::Mutex;

pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn seeded(seed: u64) -> Rng {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng { s: [next(), next(), next(), next()] }
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal by Box–Muller (one draw per call; the pair's second half is dropped so
    /// that a draw depends only on the generator state, not on an earlier call's leftovers).
    pub fn next_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // in (0, 1]: ln is finite
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Uniform in (0, 1]: a logarithm of it is finite.
    fn next_open_f64(&mut self) -> f64 {
        1.0 - self.next_f64()
    }

    /// Uniform on the integers 0..n (n > 0), unbiased: Lemire's multiply-and-reject.
    pub fn next_below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let threshold = n.wrapping_neg() % n; // 2^64 mod n
        loop {
            let m = self.next_u64() as u128 * n as u128;
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Exponential with mean 1, by inversion.
    pub fn next_exponential(&mut self) -> f64 {
        -self.next_open_f64().ln()
    }

    /// Gamma with shape `alpha` > 0 and scale 1: Marsaglia and Tsang's method (2000), with
    /// `alpha` < 1 boosted as Gamma(alpha + 1) · U^(1/alpha).
    pub fn next_gamma(&mut self, alpha: f64) -> f64 {
        if alpha < 1.0 {
            let boost = self.next_open_f64().powf(1.0 / alpha);
            return self.next_gamma(alpha + 1.0) * boost;
        }
        let d = alpha - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.next_normal();
            let t = 1.0 + c * x;
            if t <= 0.0 {
                continue;
            }
            let v = t * t * t;
            let u = self.next_open_f64();
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
                return d * v;
            }
        }
    }

    /// Poisson with mean `lam` >= 0 (finite), as a whole number: inversion (a sequential
    /// search from 0) below 10; Hörmann's PTRS, transformed rejection with squeeze (1993), up
    /// to 1e10; above, where PTRS's acceptance test (a difference of terms near lam·ln lam)
    /// is lost to double rounding, the normal approximation rounded to a whole number, whose
    /// skewness 1/√lam is below 1e-5 there.
    pub fn next_poisson(&mut self, lam: f64) -> f64 {
        if lam < 10.0 {
            let u = self.next_f64();
            let (mut k, mut p) = (0.0, (-lam).exp());
            let mut cdf = p;
            // p reaches 0 long before k is large: the search ends even if rounding leaves the
            // summed cdf below u.
            while u >= cdf && p > 0.0 {
                k += 1.0;
                p *= lam / k;
                cdf += p;
            }
            return k;
        }
        if lam > 1e10 {
            return (lam + lam.sqrt() * self.next_normal()).round().max(0.0);
        }
        let slam = lam.sqrt();
        let loglam = lam.ln();
        let b = 0.931 + 2.53 * slam;
        let a = -0.059 + 0.02483 * b;
        let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
        let vr = 0.9277 - 3.6224 / (b - 2.0);
        loop {
            let u = self.next_f64() - 0.5;
            let v = self.next_open_f64();
            let us = 0.5 - u.abs();
            let k = ((2.0 * a / us + b) * u + lam + 0.43).floor();
            if us >= 0.07 && v <= vr {
                return k;
            }
            if k < 0.0 || (us < 0.013 && v > us) {
                continue;
            }
            if v.ln() + inv_alpha.ln() - (a / (us * us) + b).ln() <= -lam + k * loglam - ln_gamma(k + 1.0) {
                return k;
            }
        }
    }
}

/// ln Γ(x) for x >= 1: Stirling's series at x + n >= 7, stepped back down n times.
fn ln_gamma(x: f64) -> f64 {
    const COEF: [f64; 10] = [
        8.333333333333333e-02,
        -2.777777777777778e-03,
        7.936507936507937e-04,
        -5.952380952380952e-04,
        8.417508417508418e-04,
        -1.917526917526918e-03,
        6.410256410256410e-03,
        -2.955065359477124e-02,
        1.796443723688307e-01,
        -1.392432216905900e+00,
    ];
    if x == 1.0 || x == 2.0 {
        return 0.0;
    }
    let n = if x < 7.0 { (7.0 - x).floor() } else { 0.0 };
    let x0 = x + n;
    let inv2 = 1.0 / (x0 * x0);
    let series = COEF.iter().rev().fold(0.0, |acc, &c| acc * inv2 + c) / x0;
    let mut g = series + 0.5 * (2.0 * std::f64::consts::PI).ln() + (x0 - 0.5) * x0.ln() - x0;
    let mut y = x0;
    for _ in 0..n as usize {
        y -= 1.0;
        g -= y.ln();
    }
    g
}

static GLOBAL: Mutex<Option<Rng>> = Mutex::new(None);

/// Reseeds the process-wide generator.
pub fn seed(seed: u64) {
    *GLOBAL.lock().unwrap_or_else(|e| e.into_inner()) = Some(Rng::seeded(seed));
}

/// Runs `f` with the process-wide generator (seeded with 0 until `seed` is called).
pub fn with_rng<R>(f: impl FnOnce(&mut Rng) -> R) -> R {
    let mut guard = GLOBAL.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(|| Rng::seeded(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_log_factorials() {
        let mut log_fact = 0.0f64;
        for k in 1..200u32 {
            log_fact += (k as f64).ln();
            let got = ln_gamma(k as f64 + 1.0);
            assert!((got - log_fact).abs() <= 1e-12 * log_fact.max(1.0), "ln Γ({}) = {}, want {}", k + 1, got, log_fact);
        }
        // Γ(1.5) = √π / 2
        assert!((ln_gamma(1.5) - (std::f64::consts::PI.sqrt() / 2.0).ln()).abs() < 1e-14);
    }

    #[test]
    fn next_below_stays_below_and_reaches_every_value() {
        let mut rng = Rng::seeded(5);
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            seen[rng.next_below(7) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800 && c < 1200), "{:?}", seen);
        assert_eq!(rng.next_below(1), 0);
    }
}
