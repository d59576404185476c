//! Which vector instructions the library's own kernels use (the vectorised math, the float32
//! matrix products, the narrow matrix kernel): the best level the CPU has, found when first
//! asked, or a lower one named by `AD_CPU` (`avx512`, `avx2`, `portable`) or set with
//! `set_ceiling`, so that every path can be tested and measured on a machine that has a
//! higher one. A ceiling above what the CPU has gives what the CPU has; `level()` says what
//! runs.
//!
//! Float32 products at AVX-512 run on matrixmultiply's kernel; below it on ours
//! (`cpu::sgemm::Kernel::at` says which, by name). Float64 products run on matrixmultiply at
//! every level: it picks its kernel from the CPU, and no ceiling reaches it.

use std::sync::atomic::{AtomicU8, Ordering};

/// A level of vector instructions, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Plain Rust, whatever the compiler makes of it for the build's target.
    Portable = 1,
    /// AVX2 with FMA (x86-64): eight float32 lanes.
    Avx2 = 2,
    /// AVX-512F (x86-64): sixteen float32 lanes.
    Avx512 = 3,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Portable => "portable",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        }
    }

    /// The level named `name` (as `AD_CPU` names it), if any.
    pub fn from_name(name: &str) -> Option<Level> {
        [Level::Portable, Level::Avx2, Level::Avx512].into_iter().find(|l| l.name() == name.trim())
    }

    fn from_u8(v: u8) -> Option<Level> {
        [Level::Portable, Level::Avx2, Level::Avx512].into_iter().find(|&l| l as u8 == v)
    }
}

/// The best level this CPU runs.
pub fn detected() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Level::Avx512;
            }
            return Level::Avx2;
        }
    }
    Level::Portable
}

/// The level in use, 0 until first asked.
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// The level the kernels use now: the CPU's best, or the ceiling if lower.
#[inline]
pub fn level() -> Level {
    match Level::from_u8(LEVEL.load(Ordering::Relaxed)) {
        Some(level) => level,
        None => {
            // An unknown AD_CPU value sets no ceiling (an environment variable cannot fail a
            // call); `level()` tells what runs.
            let ceiling = std::env::var("AD_CPU").ok().and_then(|v| Level::from_name(&v));
            set_ceiling(ceiling)
        }
    }
}

/// Sets (or with `None` lifts) the ceiling on the level, from now on; returns the level in use.
/// Ops already running finish at the level they started with.
pub fn set_ceiling(ceiling: Option<Level>) -> Level {
    let level = match ceiling {
        Some(c) => c.min(detected()),
        None => detected(),
    };
    LEVEL.store(level as u8, Ordering::Relaxed);
    level
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_none() {
        for l in [Level::Portable, Level::Avx2, Level::Avx512] {
            assert_eq!(Level::from_name(l.name()), Some(l));
        }
        assert_eq!(Level::from_name(" avx2\n"), Some(Level::Avx2));
        assert_eq!(Level::from_name("sse"), None);
        assert_eq!(Level::from_name("AVX2"), None);
    }

    #[test]
    fn a_ceiling_lowers_the_level_and_never_raises_it() {
        let best = detected();
        for c in [Level::Portable, Level::Avx2, Level::Avx512] {
            assert_eq!(set_ceiling(Some(c)), c.min(best));
            assert_eq!(level(), c.min(best));
        }
        assert_eq!(set_ceiling(None), best);
        assert_eq!(level(), best);
    }
}
