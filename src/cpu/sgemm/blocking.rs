//! The sizes of the blocks the product is cut into, chosen at run time from the caches of the
//! CPU it runs on (read once), or given by `AD_GEMM_BLOCKING=mc,kc,nc` to measure others.

use std::sync::OnceLock;

use crate::cpu::caches::{caches, Caches};

/// Rows of A (`mc`), depth (`kc`) and columns of B (`nc`) packed at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocking {
    pub mc: usize,
    pub kc: usize,
    pub nc: usize,
}

/// The largest sizes taken from the environment: they bound the packing buffers (at most
/// 2048·2048 + 2048·8192 floats, 80 MiB) whatever is asked.
const MAX_MC: usize = 2048;
const MAX_KC: usize = 2048;
const MAX_NC: usize = 8192;

impl Blocking {
    /// The blocking for a microkernel of MR×NR tiles: the environment's if it names one,
    /// else from the caches.
    pub fn for_tile(mr: usize, nr: usize) -> Blocking {
        match from_env() {
            Some(b) => Blocking { mc: b.mc.next_multiple_of(mr), kc: b.kc, nc: b.nc.next_multiple_of(nr) },
            None => from_caches(caches(), mr, nr),
        }
    }
}

/// The blocking that keeps each packed operand in the cache it is reused from (BLIS's
/// analysis): the microkernel streams an MR×KC sliver of A past a KC×NR sliver of B, which
/// is reused for every sliver of A and so must stay in L1; the MC×KC block of A is reused for
/// every sliver of B and stays in L2; the KC×NC panel of B is reused for every block of A
/// and stays in L3.
fn from_caches(c: Caches, mr: usize, nr: usize) -> Blocking {
    const F32: usize = 4;
    // The sliver of B in three quarters of L1 (6 of 8 ways), the rest for the A sliver
    // streaming through: 384 for 16-wide slivers in 32 KiB. A deeper block also makes fewer
    // passes over C, whose tiles are read and written once per block. Whole groups of 8.
    let kc = (c.l1 * 3 / 4 / (nr * F32)).clamp(64, 1024) / 8 * 8;
    // The block of A in a quarter of L2, leaving the rest to the B slivers and C tiles that
    // pass through: 84 rows at KC 384 in 512 KiB. (Measured on 1024³ products with 6×16
    // tiles, AVX2: 2–3% faster than KC 256 with A in half of L2, MC 252.)
    let mc = (c.l2 / 4 / (kc * F32)).clamp(mr, MAX_MC) / mr * mr;
    // The panel of B in a quarter of L3: the cache is shared with the other cores (and
    // each thread packs its own panel); 4096 columns at most bounds the buffer (4 MiB).
    let nc = (c.l3 / 4 / (kc * F32)).clamp(nr, 4096) / nr * nr;
    Blocking { mc, kc, nc }
}

/// `AD_GEMM_BLOCKING`, read once. A malformed value is ignored (an environment variable
/// cannot fail a call); sizes are clamped to bound the buffers.
fn from_env() -> Option<Blocking> {
    static ENV: OnceLock<Option<Blocking>> = OnceLock::new();
    *ENV.get_or_init(|| std::env::var("AD_GEMM_BLOCKING").ok().and_then(|v| parse(&v)))
}

/// `mc,kc,nc`, three positive integers.
fn parse(text: &str) -> Option<Blocking> {
    let sizes: Vec<usize> = text.split(',').map(|s| s.trim().parse().ok().filter(|&x| x > 0)).collect::<Option<_>>()?;
    match sizes[..] {
        [mc, kc, nc] => Some(Blocking { mc: mc.min(MAX_MC), kc: kc.min(MAX_KC), nc: nc.min(MAX_NC) }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::caches::FALLBACK;

    #[test]
    fn settings_parse_and_bad_ones_are_none() {
        assert_eq!(parse(" 72, 256,4080 "), Some(Blocking { mc: 72, kc: 256, nc: 4080 }));
        assert_eq!(parse("1,1,100000"), Some(Blocking { mc: 1, kc: 1, nc: MAX_NC }));
        for bad in ["", "72,256", "72,256,4080,1", "0,256,4080", "a,b,c", "-1,2,3", "72;256;4080"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_blocking_fits_the_caches() {
        let b = from_caches(FALLBACK, 6, 16);
        assert_eq!(b.kc, 384);
        assert_eq!(b.mc % 6, 0);
        assert!(b.mc * b.kc * 4 <= FALLBACK.l2 / 4 && b.mc >= 6);
        assert!(b.nc.is_multiple_of(16) && b.nc * b.kc * 4 <= FALLBACK.l3 / 4);
        // Tiny or huge caches still give usable, bounded blocks.
        for c in [Caches { l1: 1, l2: 1, l3: 1 }, Caches { l1: 1 << 30, l2: 1 << 34, l3: 1 << 40 }] {
            let b = from_caches(c, 4, 8);
            assert!((64..=1024).contains(&b.kc) && (4..=MAX_MC).contains(&b.mc) && (8..=4096).contains(&b.nc), "{b:?}");
        }
    }
}
