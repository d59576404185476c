//! CRC-32 (IEEE 802.3, the checksum of zip entries), sixteen bytes a step ("slicing by 16"):
//! a checkpoint's every byte passes through it, and a byte a step would take a second per
//! 400 MB. A few lines do not justify a dependency.

/// `TABLES[0]` is the byte-at-a-time table; `TABLES[k][b]` is the CRC of byte `b` followed
/// by `k` zero bytes, so that sixteen table lookups advance the CRC by sixteen bytes.
const fn tables() -> [[u32; 256]; 16] {
    let mut t = [[0u32; 256]; 16];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 16 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

static TABLES: [[u32; 256]; 16] = tables();

/// A running CRC-32: `update` with the bytes in order, `value` at the end.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Crc32(u32);

impl Crc32 {
    pub(crate) fn new() -> Crc32 {
        Crc32(0xFFFF_FFFF)
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        let t = &TABLES;
        let mut c = self.0;
        let mut chunks = bytes.chunks_exact(16);
        for b in &mut chunks {
            let w = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
            let (a, b1, b2, b3) = (c ^ w(0), w(4), w(8), w(12));
            let at = |k: usize, x: u32, shift: u32| t[k][((x >> shift) & 0xFF) as usize];
            c = at(15, a, 0) ^ at(14, a, 8) ^ at(13, a, 16) ^ at(12, a, 24)
                ^ at(11, b1, 0) ^ at(10, b1, 8) ^ at(9, b1, 16) ^ at(8, b1, 24)
                ^ at(7, b2, 0) ^ at(6, b2, 8) ^ at(5, b2, 16) ^ at(4, b2, 24)
                ^ at(3, b3, 0) ^ at(2, b3, 8) ^ at(1, b3, 16) ^ at(0, b3, 24);
        }
        for &b in chunks.remainder() {
            c = t[0][((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
        }
        self.0 = c;
    }

    pub(crate) fn value(self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

#[cfg(test)]
mod tests {
    use super::Crc32;

    fn crc(bytes: &[u8]) -> u32 {
        let mut c = Crc32::new();
        c.update(bytes);
        c.value()
    }

    /// The check values of the standard (and of zlib's crc32).
    #[test]
    fn known_answers() {
        assert_eq!(crc(b""), 0);
        assert_eq!(crc(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc(b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
        let mut split = Crc32::new();
        split.update(b"12345");
        split.update(b"6789");
        assert_eq!(split.value(), 0xCBF4_3926);
    }

    /// Sixteen bytes a step gives what one byte a step gives, at every length and split.
    #[test]
    fn slicing_agrees_with_the_plain_loop() {
        let bytes: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in 0..bytes.len() {
            let mut plain = 0xFFFF_FFFFu32;
            for &b in &bytes[..len] {
                plain = super::TABLES[0][((plain ^ b as u32) & 0xFF) as usize] ^ (plain >> 8);
            }
            let mut sliced = Crc32::new();
            let (a, b) = bytes[..len].split_at(len / 3);
            sliced.update(a);
            sliced.update(b);
            assert_eq!(sliced.value(), plain ^ 0xFFFF_FFFF, "length {}", len);
        }
    }
}
