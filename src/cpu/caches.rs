//! The sizes of the CPU's data caches, read from the system once: the product's blocking and
//! the choice of streaming stores follow them.

use std::sync::OnceLock;

/// Data cache sizes in bytes, per level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Caches {
    pub l1: usize,
    pub l2: usize,
    pub l3: usize,
}

/// What a machine of the last decade has at least, when the system does not say.
pub(crate) const FALLBACK: Caches = Caches { l1: 32 << 10, l2: 512 << 10, l3: 8 << 20 };

/// The data caches of the first CPU, read once.
pub(crate) fn caches() -> Caches {
    static CACHES: OnceLock<Caches> = OnceLock::new();
    *CACHES.get_or_init(read_caches)
}

/// The data (or unified) cache sizes Linux lists under sysfs; a level it does not list keeps
/// the fallback's size.
fn read_caches() -> Caches {
    let mut c = FALLBACK;
    let dir = std::path::Path::new("/sys/devices/system/cpu/cpu0/cache");
    for index in 0..8 {
        let read = |name: &str| std::fs::read_to_string(dir.join(format!("index{index}")).join(name)).ok();
        let (Some(level), Some(kind), Some(size)) = (read("level"), read("type"), read("size")) else {
            continue;
        };
        let (Some(size), "Data" | "Unified") = (parse_size(&size), kind.trim()) else {
            continue;
        };
        match level.trim() {
            "1" => c.l1 = size,
            "2" => c.l2 = size,
            "3" => c.l3 = size,
            _ => {}
        }
    }
    c
}

/// A size as sysfs writes it: "32K", "1M", "512".
fn parse_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().last()? {
        (i, 'K') => (&text[..i], 1 << 10),
        (i, 'M') => (&text[..i], 1 << 20),
        (i, 'G') => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    digits.parse::<usize>().ok()?.checked_mul(unit).filter(|&s| s > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_bad_ones_are_none() {
        assert_eq!(parse_size("32K\n"), Some(32 << 10));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("K"), None);
        assert_eq!(parse_size("0K"), None);
    }
}
