//! The checkpoint loader's fuzzer: seeded random mutations of real files (NumPy's, under
//! tests/fixtures/checkpoints, and ad's own: lists, dicts, .npy, zip64), each loaded from
//! memory. Every case must end in a checkpoint or in an error of the file's kinds (format,
//! dtype, shape, allocation) whose message names the file; none may panic, take more than
//! two seconds, or allocate more than the file's bytes can justify (an allocator that
//! records the largest request checks this: a stored array is at most the file's size, an
//! inflated one at most twice what deflate can make of it).
//!
//! `cargo test --test checkpoint_fuzz` runs seed 1 for 100,000 mutated files (at most 60 s).
//! A campaign of any length (a failing case prints its seed and number, and is saved):
//!
//! ```sh
//! AD_LOAD_FUZZ_SEED=7 AD_LOAD_FUZZ_CASES=5000000 AD_LOAD_FUZZ_SECONDS=3600 cargo test --release --test checkpoint_fuzz -- --nocapture
//! ```
//!
//! The C side of the same files (the boundary, under AddressSanitizer and valgrind) is
//! tests/c/fuzz_load.c.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use ad::io::{self, Layout as FileLayout};
use ad::{Array, DType, ErrorKind};

/// The system allocator, recording the largest single request of each thread since its
/// last reset (per thread: the tests of this file run side by side).
struct Recording;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn record(size: usize) {
    // `try_with`: during a thread's exit the slot may be gone.
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

/// The largest request since the last call, on this thread.
fn take_largest() -> usize {
    LARGEST.with(|l| l.replace(0))
}

unsafe impl GlobalAlloc for Recording {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Recording = Recording;

/// splitmix64: small, seeded, the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().map(|v| v.parse().unwrap_or_else(|_| panic!("{} is not a number", name))).unwrap_or(default)
}

/// The files mutated: every fixture, and what ad writes.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/checkpoints");
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "npy" || e == "npz"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    seeds.sort();
    let f32s = |shape: &[usize]| {
        let n: usize = shape.iter().product();
        Array::from_slice(&(0..n).map(|i| i as f32 * 0.5).collect::<Vec<_>>(), shape).unwrap()
    };
    let f64s = |shape: &[usize]| Array::from_slice(&(0..shape.iter().product::<usize>()).map(|i| i as f64).collect::<Vec<_>>(), shape).unwrap();
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let arrays = [f32s(&[2, 3]), f64s(&[4]), f64s(&[]), f32s(&[0, 2]), f32s(&[1; 64])];
    for (name, layout, given, force) in [
        ("ad_list.npz", FileLayout::Npz, None, false),
        ("ad_dict.npz", FileLayout::Npz, Some(names(&["w", "b", "s", "e", "deep"])), false),
        ("ad_zip64.npz", FileLayout::Npz, Some(names(&["w", "b", "s", "e", "deep"])), true),
        ("ad_list_zip64.npz", FileLayout::Npz, None, true),
    ] {
        seeds.push((name.to_string(), io::save_to_bytes(layout, &arrays, given.as_deref(), force).unwrap()));
    }
    seeds.push(("ad.npy".to_string(), io::save_to_bytes(FileLayout::Npy, &[f64s(&[3, 2])], None, false).unwrap()));
    seeds
}

/// Values that make sizes, offsets and counts interesting.
fn interesting(rng: &mut Rng, len: usize) -> u64 {
    let values = [0, 1, 2, 0x7F, 0x80, 0xFF, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x1_0000_0000, 1 << 40, 1 << 62, u64::MAX, i64::MAX as u64];
    match rng.below(4) {
        0 => len as u64,
        1 => (len as u64).wrapping_add(rng.below(64) as u64).wrapping_sub(32),
        2 => rng.next(),
        _ => values[rng.below(values.len())],
    }
}

/// Where the records of a zip start: mutations aim at their fields half of the time.
fn record_starts(b: &[u8]) -> Vec<usize> {
    let signatures: [&[u8]; 5] = [b"PK\x01\x02", b"PK\x03\x04", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07"];
    (0..b.len().saturating_sub(3)).filter(|&i| signatures.iter().any(|s| &b[i..i + 4] == *s)).collect()
}

/// One mutation of `b`; its name, for the figures.
fn mutate(rng: &mut Rng, b: &mut Vec<u8>, seeds: &[(String, Vec<u8>)]) -> &'static str {
    if b.is_empty() {
        b.push(rng.below(256) as u8);
        return "insert";
    }
    let at = rng.below(b.len());
    match rng.below(11) {
        0 => {
            b[at] ^= 1 << rng.below(8);
            "bit flip"
        }
        1 => {
            b[at] = [0, 1, 0x7F, 0x80, 0xFF, b'0', b'9', b'(', b',', b' '][rng.below(10)];
            "byte"
        }
        2 | 3 => {
            // A 16-, 32- or 64-bit field, anywhere or in a zip record.
            let starts = record_starts(b);
            let at = if !starts.is_empty() && rng.chance(60) { starts[rng.below(starts.len())] + 4 + rng.below(44) } else { at };
            let width = [2, 4, 8][rng.below(3)];
            let value = interesting(rng, b.len()).to_le_bytes();
            for i in 0..width {
                if at + i < b.len() {
                    b[at + i] = value[i];
                }
            }
            "field"
        }
        4 => {
            b.truncate(at);
            "truncate"
        }
        5 => {
            let n = 1 + rng.below(16);
            let bytes: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
            b.splice(at..at, bytes);
            "insert"
        }
        6 => {
            let end = (at + 1 + rng.below(32)).min(b.len());
            b.drain(at..end);
            "delete"
        }
        7 => {
            let end = (at + 1 + rng.below(64)).min(b.len());
            let chunk = b[at..end].to_vec();
            let to = rng.below(b.len());
            b.splice(to..to, chunk);
            "duplicate"
        }
        8 => {
            // The .npy header's text: shapes, dtypes, order.
            let edits: [(&str, &str); 10] = [
                ("'shape': (", "'shape': (18446744073709551615, "),
                ("'shape': (", "'shape': (4611686018427387904, 4, "),
                ("'shape': (", "'shape': (-1, "),
                ("'shape': (", "'shape': (0, 9223372036854775807, "),
                ("'shape': (", "'shape': ((((((((((((((((((((("),
                ("'<f4'", "'<i8'"),
                ("'<f8'", "'>f8'"),
                ("'<f4'", "'|O'"),
                ("False", "True "),
                ("'descr'", "'dexcr'"),
            ];
            let (from, to) = edits[rng.below(edits.len())];
            match b.windows(from.len()).position(|w| w == from.as_bytes()) {
                Some(i) => {
                    b.splice(i..i + from.len(), to.bytes());
                    "header"
                }
                _ => {
                    b[at] = b[at].wrapping_add(1);
                    "byte"
                }
            }
        }
        _ => {
            // Another seed's tail after this one's head.
            let other = &seeds[rng.below(seeds.len())].1;
            let from = rng.below(other.len().max(1));
            b.truncate(at);
            b.extend_from_slice(&other[from.min(other.len())..]);
            "splice"
        }
    }
}

/// The most an honest loader may allocate at once for a file of `len` bytes: its own size
/// for stored data, twice deflate's best ratio for inflated data, and room for the parser's
/// fixed buffers.
fn allocation_bound(len: usize) -> usize {
    (1 << 20) + 2 * 1032 * len + 2 * 1024
}

#[test]
fn mutated_checkpoints_are_loaded_or_refused_never_more() {
    let seed: u64 = env("AD_LOAD_FUZZ_SEED", 1);
    let cases: u64 = env("AD_LOAD_FUZZ_CASES", 100_000);
    let seconds: f64 = env("AD_LOAD_FUZZ_SECONDS", 60.0);
    let seeds = seeds();
    let mut rng = Rng(seed);
    let start = Instant::now();
    let (mut done, mut loaded, mut mutations) = (0u64, 0u64, 0u64);
    let mut refused: BTreeMap<String, u64> = BTreeMap::new();
    let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut largest, mut slowest) = (0usize, Duration::ZERO);
    while done < cases && start.elapsed().as_secs_f64() < seconds {
        let (seed_name, original) = &seeds[rng.below(seeds.len())];
        let mut bytes = original.clone();
        for _ in 0..1 + rng.below(4) {
            *kinds.entry(mutate(&mut rng, &mut bytes, &seeds)).or_default() += 1;
            mutations += 1;
        }
        let fail = |why: String| -> ! {
            let saved = Path::new(env!("CARGO_TARGET_TMPDIR")).join("checkpoint_fuzz_failure.bin");
            std::fs::write(&saved, &bytes).unwrap();
            panic!("seed {} case {} (from {}, saved in {}): {}", seed, done, seed_name, saved.display(), why)
        };
        take_largest();
        let t = Instant::now();
        let result = std::panic::catch_unwind(|| io::load_bytes(&bytes, "fuzz.npz"));
        let took = t.elapsed();
        let biggest = take_largest();
        match result {
            Err(_) => fail("the loader panicked".to_string()),
            Ok(Ok(c)) => {
                loaded += 1;
                if c.names.as_ref().is_some_and(|n| n.len() != c.arrays.len()) {
                    fail(format!("{} names for {} arrays", c.names.unwrap().len(), c.arrays.len()));
                }
                for a in &c.arrays {
                    let n: usize = a.shape().iter().product();
                    if a.size() != n || a.ndim() > 64 || !DType::all().contains(&a.dtype()) {
                        fail(format!("a loaded array of shape {:?} and size {}", a.shape(), a.size()));
                    }
                }
            }
            Ok(Err(e)) => {
                if !matches!(e.kind, ErrorKind::Format | ErrorKind::DType | ErrorKind::Shape | ErrorKind::Alloc) {
                    fail(format!("an error of kind {:?}: {}", e.kind, e.message));
                }
                if !e.message.starts_with("fuzz.npz: ") || e.message.len() < "fuzz.npz: ".len() + 8 {
                    fail(format!("a message that does not name the file and the fault: {:?}", e.message));
                }
                *refused.entry(format!("{:?}", e.kind)).or_default() += 1;
            }
        }
        if took > Duration::from_secs(2) {
            fail(format!("a load took {:?}", took));
        }
        if biggest > allocation_bound(bytes.len()) {
            fail(format!("an allocation of {} bytes for a file of {}", biggest, bytes.len()));
        }
        largest = largest.max(biggest);
        slowest = slowest.max(took);
        done += 1;
    }
    eprintln!(
        "checkpoint loader fuzz: seed {}, {} seed files, {} mutated files ({} mutations: {:?}) in {:.1} s: {} loaded, refused {:?}, 0 panics, slowest load {:?}, largest allocation {} bytes",
        seed,
        seeds.len(),
        done,
        mutations,
        kinds,
        start.elapsed().as_secs_f64(),
        loaded,
        refused,
        slowest,
        largest
    );
    assert!(done >= cases.min(1000), "only {} cases ran in {} s", done, seconds);
    assert!(loaded > 0 && refused.len() >= 2, "the mutations reach too little: {} loaded, {:?}", loaded, refused);
}

/// A deflated entry that declares 4 MB, within deflate's ratio of its 4,000 compressed bytes,
/// but whose stream ends after 4 KB: refused, having allocated for what the stream made,
/// not for what it declared.
#[test]
fn a_short_stream_gets_memory_for_what_it_makes_only() {
    let n = 1_000_000usize;
    // Written by hand: an array of that size made here would leave its buffer in the
    // library's cache, where the loader would find it without allocating.
    let text = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}", n);
    let mut header = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
    header.extend_from_slice(format!("{:<117}\n", text).as_bytes());
    assert_eq!(header.len(), 128);
    let mut made = header.clone();
    made.extend(std::iter::repeat_n(0u8, 4000));
    let mut compressed = miniz_oxide::deflate::compress_to_vec(&made, 6);
    compressed.resize(4000, 0x55); // bytes after the stream's end, to pass the ratio check
    let declared = (header.len() + 4 * n) as u32;
    let crc = 0u32;
    let name = b"w.npy";
    let mut zip = Vec::new();
    let mut local = Vec::new();
    local.extend_from_slice(b"PK\x03\x04");
    local.extend_from_slice(&[20, 0, 0, 0, 8, 0, 0, 0, 0x21, 0]);
    local.extend_from_slice(&crc.to_le_bytes());
    local.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
    local.extend_from_slice(&declared.to_le_bytes());
    local.extend_from_slice(&(name.len() as u16).to_le_bytes());
    local.extend_from_slice(&[0, 0]);
    local.extend_from_slice(name);
    zip.extend_from_slice(&local);
    zip.extend_from_slice(&compressed);
    let cd_offset = zip.len() as u32;
    let mut central = Vec::new();
    central.extend_from_slice(b"PK\x01\x02");
    central.extend_from_slice(&[20, 3, 20, 0, 0, 0, 8, 0, 0, 0, 0x21, 0]);
    central.extend_from_slice(&crc.to_le_bytes());
    central.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
    central.extend_from_slice(&declared.to_le_bytes());
    central.extend_from_slice(&(name.len() as u16).to_le_bytes());
    central.extend_from_slice(&[0; 12]);
    central.extend_from_slice(&0u32.to_le_bytes());
    central.extend_from_slice(name);
    zip.extend_from_slice(&central);
    zip.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
    zip.extend_from_slice(&(central.len() as u32).to_le_bytes());
    zip.extend_from_slice(&cd_offset.to_le_bytes());
    zip.extend_from_slice(&[0, 0]);
    take_largest();
    let e = io::load_bytes(&zip, "short.npz").unwrap_err();
    let largest = take_largest();
    assert!(e.kind == ErrorKind::Format && e.message.contains("inflates to 4128 bytes, not the 4000128"), "{}", e.message);
    assert!(largest < 200_000, "{} bytes allocated at once for a stream that made 4128", largest);
}
