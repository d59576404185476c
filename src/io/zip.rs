//! The zip container of `.npz` files: reading an archive's directory and its entries (stored,
//! or deflated with `miniz_oxide`), and writing stored entries.
//!
//! Reading follows the central directory, as Python's `zipfile` (and so `numpy.load`) does,
//! and checks what it relies on: the end records where they must be, every offset and size
//! inside the file, the directory's records inside the directory, the local headers in
//! agreement with it, no two entries sharing bytes, a deflated entry no larger than deflate
//! can make of its compressed bytes, and each entry's CRC-32. Zip64 records and fields are
//! read where the 16- and 32-bit fields say so. Archives on several disks, encrypted entries
//! and methods other than stored and deflate are refused by name.
//!
//! Writing makes what `numpy.savez` makes: one stored entry per array, named `<key>.npy`;
//! zip64 fields only where a size or offset needs them.

use std::io::{Seek, SeekFrom, Write};

use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use super::crc32::Crc32;
use super::npy::Input;
use super::source::{malformed, Source};
use crate::error::{Error, Result};

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
const END64: u32 = 0x0606_4b50;
const END64_LOCATOR: u32 = 0x0706_4b50;

const LOCAL_HEADER_LEN: u64 = 30;
const CENTRAL_HEADER_LEN: usize = 46;
const END_LEN: u64 = 22;
const END64_LEN: u64 = 56;
const LOCATOR_LEN: u64 = 20;
const ZIP64_EXTRA: u16 = 0x0001;

const STORED: u16 = 0;
const DEFLATED: u16 = 8;

/// Flag bits: encrypted (0), sizes in a data descriptor after the data (3), strong
/// encryption (6), UTF-8 names (11), masked local header (13).
const FLAG_ENCRYPTED: u16 = 1;
const FLAG_DESCRIPTOR: u16 = 1 << 3;
const FLAG_STRONG_ENCRYPTION: u16 = 1 << 6;
const FLAG_UTF8: u16 = 1 << 11;
const FLAG_MASKED: u16 = 1 << 13;

/// Deflate's best case: a 258-byte match in two bits, 1032 bytes out per byte in. A
/// deflated entry declaring more than this of its compressed size (plus a little for tiny
/// streams) cannot be genuine.
const MAX_DEFLATE_RATIO: u64 = 1032;

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// One entry of the central directory, its fields resolved (zip64 included).
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// The name, decoded (UTF-8 when flagged, else code page 437, as `zipfile` does).
    pub(crate) name: String,
    raw_name: Vec<u8>,
    flags: u16,
    pub(crate) method: u16,
    crc: u32,
    pub(crate) compressed: u64,
    pub(crate) uncompressed: u64,
    offset: u64,
    /// Where the entry's data starts (after its local header), once that header is read.
    data: u64,
}

/// An archive's directory: its entries in the directory's order, and its comment.
pub(crate) struct Archive {
    pub(crate) entries: Vec<Entry>,
    pub(crate) comment: Vec<u8>,
}

/// Reads and checks the directory of the zip archive in `src`, and each entry's local
/// header.
pub(crate) fn read_directory(src: &dyn Source) -> Result<Archive> {
    let len = src.len();
    if len < END_LEN {
        return Err(malformed(src, format_args!("{} bytes are too few for a zip archive (its end record alone takes 22)", len)));
    }
    // The end record is in the last 22 + 65,535 bytes (its comment is at most 65,535): the
    // last place where its signature stands and its comment length reaches the end exactly.
    let tail_len = len.min(END_LEN + u16::MAX as u64);
    let mut tail = vec![0u8; tail_len as usize];
    src.read_at(len - tail_len, &mut tail)?;
    let at = (0..=tail.len() - END_LEN as usize)
        .rev()
        .find(|&i| u32_at(&tail, i) == END && u16_at(&tail, i + 20) as usize == tail.len() - i - END_LEN as usize)
        .ok_or_else(|| malformed(src, "not a zip archive: it has no end-of-central-directory record"))?;
    let end = &tail[at..];
    let end_pos = len - tail_len + at as u64;
    let comment = end[END_LEN as usize..].to_vec();
    let (disk, cd_disk) = (u16_at(end, 4), u16_at(end, 6));
    let (mut on_disk, mut count) = (u16_at(end, 8) as u64, u16_at(end, 10) as u64);
    let (mut cd_size, mut cd_offset) = (u32_at(end, 12) as u64, u32_at(end, 16) as u64);
    if disk != 0 || cd_disk != 0 || on_disk != count {
        return Err(malformed(src, "the archive spans several disks, which ad does not read"));
    }
    // Where the directory must end: at the zip64 end record if there is one, else here.
    let mut directory_end = end_pos;
    if end_pos >= LOCATOR_LEN {
        let mut locator = [0u8; LOCATOR_LEN as usize];
        src.read_at(end_pos - LOCATOR_LEN, &mut locator)?;
        if u32_at(&locator, 0) == END64_LOCATOR {
            let (disk, end64_pos, disks) = (u32_at(&locator, 4), u64_at(&locator, 8), u32_at(&locator, 16));
            if disk != 0 || disks > 1 {
                return Err(malformed(src, "the archive spans several disks, which ad does not read"));
            }
            let locator_pos = end_pos - LOCATOR_LEN;
            if end64_pos.checked_add(END64_LEN).is_none_or(|e| e > locator_pos) {
                return Err(malformed(src, format_args!("the zip64 end record's offset {} is not before its locator at {}", end64_pos, locator_pos)));
            }
            let mut end64 = [0u8; END64_LEN as usize];
            src.read_at(end64_pos, &mut end64)?;
            let record = u64_at(&end64, 4);
            if u32_at(&end64, 0) != END64 || record.checked_add(12) != Some(locator_pos - end64_pos) {
                return Err(malformed(src, format_args!("no zip64 end record where its locator points (offset {})", end64_pos)));
            }
            if u32_at(&end64, 16) != 0 || u32_at(&end64, 20) != 0 {
                return Err(malformed(src, "the archive spans several disks, which ad does not read"));
            }
            on_disk = u64_at(&end64, 24);
            count = u64_at(&end64, 32);
            cd_size = u64_at(&end64, 40);
            cd_offset = u64_at(&end64, 48);
            if on_disk != count {
                return Err(malformed(src, "the archive spans several disks, which ad does not read"));
            }
            directory_end = end64_pos;
        }
    }
    if cd_offset.checked_add(cd_size).is_none_or(|e| e > directory_end) {
        return Err(malformed(
            src,
            format_args!("the central directory ({} bytes at offset {}) does not end before the end record at {}", cd_size, cd_offset, directory_end),
        ));
    }
    if count > cd_size / CENTRAL_HEADER_LEN as u64 {
        return Err(malformed(src, format_args!("the archive declares {} entries, but its central directory of {} bytes holds at most {}", count, cd_size, cd_size / CENTRAL_HEADER_LEN as u64)));
    }
    let mut cd = vec![0u8; cd_size as usize];
    src.read_at(cd_offset, &mut cd)?;
    let mut entries = Vec::with_capacity(count as usize);
    let mut at = 0usize;
    for i in 0..count {
        let entry = central_record(src, &cd, &mut at, i)?;
        entries.push(entry);
    }
    if at != cd.len() {
        return Err(malformed(src, format_args!("the central directory has {} bytes after its {} records", cd.len() - at, count)));
    }
    check_local_headers(src, &mut entries, cd_offset)?;
    Ok(Archive { entries, comment })
}

/// Parses the central directory record at `*at` (the `i`-th) and moves `*at` past it.
fn central_record(src: &dyn Source, cd: &[u8], at: &mut usize, i: u64) -> Result<Entry> {
    let start = *at;
    let fixed = cd.get(start..start + CENTRAL_HEADER_LEN).ok_or_else(|| malformed(src, format_args!("central directory record {} is cut off", i)))?;
    if u32_at(fixed, 0) != CENTRAL_HEADER {
        return Err(malformed(src, format_args!("central directory record {} has a bad signature", i)));
    }
    let flags = u16_at(fixed, 8);
    let method = u16_at(fixed, 10);
    let crc = u32_at(fixed, 16);
    let mut compressed = u32_at(fixed, 20) as u64;
    let mut uncompressed = u32_at(fixed, 24) as u64;
    let (name_len, extra_len, comment_len) = (u16_at(fixed, 28) as usize, u16_at(fixed, 30) as usize, u16_at(fixed, 32) as usize);
    let disk = u16_at(fixed, 34);
    let mut offset = u32_at(fixed, 42) as u64;
    let end = start + CENTRAL_HEADER_LEN + name_len + extra_len + comment_len;
    if end > cd.len() {
        return Err(malformed(src, format_args!("central directory record {} runs past the directory", i)));
    }
    let raw_name = cd[start + CENTRAL_HEADER_LEN..start + CENTRAL_HEADER_LEN + name_len].to_vec();
    let name = decode_name(&raw_name, flags).ok_or_else(|| malformed(src, format_args!("entry {}'s name is flagged UTF-8 but is not", i)))?;
    let extra = &cd[start + CENTRAL_HEADER_LEN + name_len..start + CENTRAL_HEADER_LEN + name_len + extra_len];
    // The zip64 field holds, in this order, each of these whose 32-bit field is all ones.
    let wants = [uncompressed == 0xFFFF_FFFF, compressed == 0xFFFF_FFFF, offset == 0xFFFF_FFFF];
    if wants.iter().any(|&w| w) || disk == 0xFFFF {
        let field = zip64_field(extra).map_err(|m| malformed(src, format_args!("entry '{}': {}", name, m)))?;
        let Some(field) = field else {
            return Err(malformed(src, format_args!("entry '{}' has a size or offset marked as zip64 but no zip64 field", name)));
        };
        let mut values = field.chunks_exact(8).map(|c| u64_at(c, 0));
        for (want, slot) in wants.iter().zip([&mut uncompressed, &mut compressed, &mut offset]) {
            if *want {
                *slot = values.next().ok_or_else(|| malformed(src, format_args!("entry '{}': its zip64 field is too short", name)))?;
            }
        }
    } else {
        zip64_field(extra).map_err(|m| malformed(src, format_args!("entry '{}': {}", name, m)))?;
    }
    if disk != 0 && disk != 0xFFFF {
        return Err(malformed(src, "the archive spans several disks, which ad does not read"));
    }
    if flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED) != 0 {
        return Err(malformed(src, format_args!("entry '{}' is encrypted, which ad does not read", name)));
    }
    *at = end;
    Ok(Entry { name, raw_name, flags, method, crc, compressed, uncompressed, offset, data: 0 })
}

/// The zip64 extended information field among an entry's extra fields, if any; an error
/// when the extra fields do not parse.
fn zip64_field(extra: &[u8]) -> std::result::Result<Option<&[u8]>, String> {
    let mut at = 0;
    let mut found = None;
    while at < extra.len() {
        if extra.len() - at < 4 {
            return Err("its extra fields are cut off".to_string());
        }
        let (id, size) = (u16_at(extra, at), u16_at(extra, at + 2) as usize);
        let body = extra.get(at + 4..at + 4 + size).ok_or("an extra field runs past the others")?;
        if id == ZIP64_EXTRA && found.replace(body).is_some() {
            return Err("it has two zip64 fields".to_string());
        }
        at += 4 + size;
    }
    Ok(found)
}

/// Reads each entry's local header: its signature, its name and method as in the directory,
/// its CRC and sizes too unless they follow the data; where the data starts. Entries must lie
/// before the directory, one after the other, sharing no byte.
fn check_local_headers(src: &dyn Source, entries: &mut [Entry], cd_offset: u64) -> Result<()> {
    for e in entries.iter_mut() {
        let bad = |what: std::fmt::Arguments| malformed(src, format_args!("entry '{}': {}", e.name, what));
        if e.offset.checked_add(LOCAL_HEADER_LEN).is_none_or(|end| end > cd_offset) {
            return Err(bad(format_args!("its local header at offset {} is not before the central directory at {}", e.offset, cd_offset)));
        }
        let mut fixed = [0u8; LOCAL_HEADER_LEN as usize];
        src.read_at(e.offset, &mut fixed)?;
        if u32_at(&fixed, 0) != LOCAL_HEADER {
            return Err(bad(format_args!("no local header at offset {}", e.offset)));
        }
        let (flags, method, crc) = (u16_at(&fixed, 6), u16_at(&fixed, 8), u32_at(&fixed, 14));
        let (compressed, uncompressed) = (u32_at(&fixed, 18) as u64, u32_at(&fixed, 22) as u64);
        let (name_len, extra_len) = (u16_at(&fixed, 26) as u64, u16_at(&fixed, 28) as u64);
        let data = e.offset + LOCAL_HEADER_LEN + name_len + extra_len;
        if data > cd_offset {
            return Err(bad(format_args!("its local header runs into the central directory")));
        }
        let mut variable = vec![0u8; (name_len + extra_len) as usize];
        src.read_at(e.offset + LOCAL_HEADER_LEN, &mut variable)?;
        if variable[..name_len as usize] != e.raw_name[..] {
            return Err(bad(format_args!("its local header names it '{}'", String::from_utf8_lossy(&variable[..name_len as usize]))));
        }
        if method != e.method || (flags ^ e.flags) & (FLAG_ENCRYPTED | FLAG_DESCRIPTOR) != 0 {
            return Err(bad(format_args!("its local header's method or flags differ from the central directory's")));
        }
        if flags & FLAG_DESCRIPTOR == 0 {
            let extra = &variable[name_len as usize..];
            let field = zip64_field(extra).map_err(|m| bad(format_args!("{}", m)))?;
            // A local zip64 field holds both sizes, uncompressed first.
            let (mut local_u, mut local_c) = (uncompressed, compressed);
            if uncompressed == 0xFFFF_FFFF || compressed == 0xFFFF_FFFF {
                let f = field.filter(|f| f.len() >= 16).ok_or_else(|| bad(format_args!("its local header marks zip64 sizes but has no zip64 field for them")))?;
                (local_u, local_c) = (u64_at(f, 0), u64_at(f, 8));
            }
            if crc != e.crc || local_u != e.uncompressed || local_c != e.compressed {
                return Err(bad(format_args!(
                    "its local header (CRC {:08x}, {} bytes from {}) disagrees with the central directory (CRC {:08x}, {} bytes from {})",
                    crc, local_u, local_c, e.crc, e.uncompressed, e.compressed
                )));
            }
        }
        if data.checked_add(e.compressed).is_none_or(|end| end > cd_offset) {
            return Err(bad(format_args!("its {} bytes at offset {} run past the central directory at {}", e.compressed, data, cd_offset)));
        }
        e.data = data;
    }
    // No two entries share bytes (overlapping entries make a small file inflate many times).
    let mut spans: Vec<(u64, u64, &str)> = entries.iter().map(|e| (e.offset, e.data + e.compressed, e.name.as_str())).collect();
    spans.sort_unstable();
    for pair in spans.windows(2) {
        if pair[0].1 > pair[1].0 {
            return Err(malformed(src, format_args!("entries '{}' and '{}' overlap", pair[0].2, pair[1].2)));
        }
    }
    Ok(())
}

/// A name as `zipfile` decodes it: UTF-8 when flagged, else code page 437.
fn decode_name(raw: &[u8], flags: u16) -> Option<String> {
    if flags & FLAG_UTF8 != 0 {
        return String::from_utf8(raw.to_vec()).ok();
    }
    Some(raw.iter().map(|&b| if b < 0x80 { b as char } else { CP437_HIGH[(b - 0x80) as usize] }).collect())
}

/// Code page 437's characters 0x80 to 0xFF.
const CP437_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', 'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü',
    '¢', '£', '¥', '₧', 'ƒ', 'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', '░', '▒', '▓', '│', '┤', '╡',
    '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', '╨',
    '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', 'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ',
    '∞', 'φ', 'ε', '∩', '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{a0}',
];

// ---------------------------------------------------------------- an entry's bytes

/// An entry's bytes, in order, with their CRC: `finish` checks that the entry held exactly
/// what was read and that the CRC matches.
pub(crate) trait EntryInput: Input {
    fn finish(&mut self) -> Result<()>;
}

/// The bytes of `entry` of the archive in `src`, read as its method says.
pub(crate) fn entry_input<'a>(src: &'a dyn Source, entry: &'a Entry) -> Result<Box<dyn EntryInput + 'a>> {
    match entry.method {
        STORED => {
            if entry.compressed != entry.uncompressed {
                return Err(malformed(src, format_args!("entry '{}' is stored, yet its sizes differ ({} and {} bytes)", entry.name, entry.compressed, entry.uncompressed)));
            }
            Ok(Box::new(Stored { src, entry, at: entry.data, crc: Crc32::new() }))
        }
        DEFLATED => {
            if entry.uncompressed > entry.compressed.saturating_mul(MAX_DEFLATE_RATIO).saturating_add(1024) {
                return Err(malformed(
                    src,
                    format_args!(
                        "entry '{}' declares {} bytes from {} compressed ones, more than deflate can produce",
                        entry.name, entry.uncompressed, entry.compressed
                    ),
                ));
            }
            Ok(Box::new(Deflated {
                src,
                entry,
                state: InflateState::new_boxed(DataFormat::Raw),
                next_in: entry.data,
                input: vec![0u8; (entry.compressed.min(1 << 16)) as usize],
                in_at: 0,
                in_len: 0,
                produced: 0,
                ended: false,
                crc: Crc32::new(),
            }))
        }
        m => Err(malformed(src, format_args!("entry '{}' is compressed with method {} ({}); ad reads stored and deflated entries", entry.name, m, method_name(m)))),
    }
}

fn method_name(method: u16) -> &'static str {
    match method {
        9 => "deflate64",
        12 => "bzip2",
        14 => "LZMA",
        93 => "Zstandard",
        95 => "xz",
        _ => "unknown",
    }
}

fn crc_mismatch(src: &dyn Source, entry: &Entry, crc: u32) -> Error {
    malformed(src, format_args!("entry '{}' is corrupt: its CRC-32 is {:08x}, the directory says {:08x}", entry.name, crc, entry.crc))
}

struct Stored<'a> {
    src: &'a dyn Source,
    entry: &'a Entry,
    at: u64,
    crc: Crc32,
}

impl Input for Stored<'_> {
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        let end = self.entry.data + self.entry.compressed;
        if self.at + buf.len() as u64 > end {
            return Err(malformed(self.src, format_args!("entry '{}' ends before its array does", self.entry.name)));
        }
        self.src.read_at(self.at, buf)?;
        self.crc.update(buf);
        self.at += buf.len() as u64;
        Ok(())
    }
}

impl EntryInput for Stored<'_> {
    fn finish(&mut self) -> Result<()> {
        let end = self.entry.data + self.entry.compressed;
        if self.at != end {
            return Err(malformed(self.src, format_args!("entry '{}' has {} bytes after its array", self.entry.name, end - self.at)));
        }
        let crc = self.crc.value();
        if crc != self.entry.crc {
            return Err(crc_mismatch(self.src, self.entry, crc));
        }
        Ok(())
    }
}

struct Deflated<'a> {
    src: &'a dyn Source,
    entry: &'a Entry,
    state: Box<InflateState>,
    /// The file offset of the next compressed bytes to read.
    next_in: u64,
    input: Vec<u8>,
    in_at: usize,
    in_len: usize,
    /// Bytes inflated so far.
    produced: u64,
    ended: bool,
    crc: Crc32,
}

impl Deflated<'_> {
    fn corrupt(&self, what: impl std::fmt::Display) -> Error {
        malformed(self.src, format_args!("entry '{}' is corrupt: {}", self.entry.name, what))
    }

    /// Inflates into `out` (at least one byte unless the stream ended); the count written.
    fn inflate_some(&mut self, out: &mut [u8]) -> Result<usize> {
        loop {
            if self.ended {
                return Ok(0);
            }
            let compressed_end = self.entry.data + self.entry.compressed;
            if self.in_at == self.in_len && self.next_in < compressed_end {
                let n = (compressed_end - self.next_in).min(self.input.len() as u64) as usize;
                self.src.read_at(self.next_in, &mut self.input[..n])?;
                self.next_in += n as u64;
                self.in_at = 0;
                self.in_len = n;
            }
            let more_input = self.next_in < compressed_end;
            let r = inflate(&mut self.state, &self.input[self.in_at..self.in_len], out, MZFlush::None);
            self.in_at += r.bytes_consumed;
            match r.status {
                Ok(MZStatus::StreamEnd) => self.ended = true,
                Ok(_) => {}
                Err(MZError::Buf) if self.in_at == self.in_len && !more_input => {
                    return Err(self.corrupt("its deflate stream ends before its data does"));
                }
                Err(MZError::Buf) => {}
                Err(e) => return Err(self.corrupt(format_args!("its deflate stream is invalid ({:?})", e))),
            }
            if r.bytes_written > 0 {
                return Ok(r.bytes_written);
            }
            if r.bytes_consumed == 0 && !self.ended && self.in_at < self.in_len {
                // Input there, room for output, and no progress: the stream is stuck.
                return Err(self.corrupt("its deflate stream makes no progress"));
            }
            if self.in_at == self.in_len && !more_input && !self.ended {
                return Err(self.corrupt("its deflate stream ends before its data does"));
            }
        }
    }
}

impl Input for Deflated<'_> {
    fn read_exact(&mut self, mut buf: &mut [u8]) -> Result<()> {
        if self.produced + buf.len() as u64 > self.entry.uncompressed {
            return Err(malformed(self.src, format_args!("entry '{}' ends before its array does", self.entry.name)));
        }
        while !buf.is_empty() {
            let n = self.inflate_some(buf)?;
            if n == 0 {
                return Err(self.corrupt(format_args!("it inflates to {} bytes, not the {} its directory declares", self.produced, self.entry.uncompressed)));
            }
            self.crc.update(&buf[..n]);
            self.produced += n as u64;
            buf = &mut buf[n..];
        }
        Ok(())
    }
}

impl EntryInput for Deflated<'_> {
    fn finish(&mut self) -> Result<()> {
        if self.produced != self.entry.uncompressed {
            return Err(malformed(self.src, format_args!("entry '{}' has {} bytes after its array", self.entry.name, self.entry.uncompressed - self.produced)));
        }
        // The stream must end here: more output is more than the directory declares.
        let mut probe = [0u8; 1];
        if self.inflate_some(&mut probe)? > 0 {
            return Err(self.corrupt(format_args!("it inflates to more than the {} bytes its directory declares", self.entry.uncompressed)));
        }
        let unread = (self.in_len - self.in_at) as u64 + (self.entry.data + self.entry.compressed - self.next_in);
        if unread > 0 {
            return Err(self.corrupt(format_args!("{} compressed bytes follow the end of its deflate stream", unread)));
        }
        let crc = self.crc.value();
        if crc != self.entry.crc {
            return Err(crc_mismatch(self.src, self.entry, crc));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- writing

/// A 16-bit field's largest value, and a 32-bit one's: at and past these the value goes in a
/// zip64 field.
const MAX16: u64 = 0xFFFF;
const MAX32: u64 = 0xFFFF_FFFF;

/// The date of every entry: 1980-01-01 00:00, the first a zip can hold. A checkpoint's bytes
/// then depend on its arrays alone.
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;

/// `-rw-r--r--`, a regular file, in the upper half of the external attributes (Unix).
const EXTERNAL_ATTRIBUTES: u32 = 0o100644 << 16;

struct Record {
    name: Vec<u8>,
    utf8: bool,
    crc: u32,
    size: u64,
    offset: u64,
}

/// Writes a zip archive of stored entries to `out`, which must be at its start.
pub(crate) struct ZipWriter<W: Write + Seek> {
    out: W,
    pos: u64,
    records: Vec<Record>,
    /// Every zip64 field and record, needed or not (for tests of the zip64 paths without
    /// writing 4 GiB).
    force_zip64: bool,
}

/// Counts and checksums what passes through.
struct Counting<'a, W: Write> {
    out: &'a mut W,
    count: u64,
    crc: Crc32,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.count += n as u64;
        self.crc.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write + Seek> ZipWriter<W> {
    pub(crate) fn new(out: W, force_zip64: bool) -> ZipWriter<W> {
        ZipWriter { out, pos: 0, records: Vec::new(), force_zip64 }
    }

    /// Adds a stored entry `name` of `size` bytes, which `write` writes. The CRC goes into
    /// the local header afterwards, so that the data is read once (and under one lock).
    pub(crate) fn add(&mut self, name: &str, size: u64, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> std::io::Result<()> {
        let offset = self.pos;
        let zip64 = self.force_zip64 || size >= MAX32;
        let utf8 = !name.is_ascii();
        let mut header = Vec::with_capacity(LOCAL_HEADER_LEN as usize + name.len() + 20);
        header.extend_from_slice(&LOCAL_HEADER.to_le_bytes());
        header.extend_from_slice(&(if zip64 { 45u16 } else { 20 }).to_le_bytes());
        header.extend_from_slice(&(if utf8 { FLAG_UTF8 } else { 0 }).to_le_bytes());
        header.extend_from_slice(&STORED.to_le_bytes());
        header.extend_from_slice(&DOS_TIME.to_le_bytes());
        header.extend_from_slice(&DOS_DATE.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes()); // the CRC, written after the data
        let size32 = if zip64 { MAX32 as u32 } else { size as u32 };
        header.extend_from_slice(&size32.to_le_bytes());
        header.extend_from_slice(&size32.to_le_bytes());
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        header.extend_from_slice(&(if zip64 { 20u16 } else { 0 }).to_le_bytes());
        header.extend_from_slice(name.as_bytes());
        if zip64 {
            header.extend_from_slice(&ZIP64_EXTRA.to_le_bytes());
            header.extend_from_slice(&16u16.to_le_bytes());
            header.extend_from_slice(&size.to_le_bytes());
            header.extend_from_slice(&size.to_le_bytes());
        }
        self.out.write_all(&header)?;
        let mut counting = Counting { out: &mut self.out, count: 0, crc: Crc32::new() };
        write(&mut counting)?;
        let (count, crc) = (counting.count, counting.crc.value());
        if count != size {
            return Err(std::io::Error::other(format!("entry '{}': {} bytes written where {} were announced", name, count, size)));
        }
        let end = offset + header.len() as u64 + size;
        self.out.seek(SeekFrom::Start(offset + 14))?;
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.seek(SeekFrom::Start(end))?;
        self.pos = end;
        self.records.push(Record { name: name.as_bytes().to_vec(), utf8, crc, size, offset });
        Ok(())
    }

    /// Writes the central directory and the end records, with `comment`; returns the output.
    pub(crate) fn finish(mut self, comment: &[u8]) -> std::io::Result<W> {
        let cd_offset = self.pos;
        let mut cd = Vec::new();
        for r in &self.records {
            let big_size = self.force_zip64 || r.size >= MAX32;
            let big_offset = self.force_zip64 || r.offset >= MAX32;
            let mut extra = Vec::new();
            if big_size {
                extra.extend_from_slice(&r.size.to_le_bytes());
                extra.extend_from_slice(&r.size.to_le_bytes());
            }
            if big_offset {
                extra.extend_from_slice(&r.offset.to_le_bytes());
            }
            let version: u16 = if extra.is_empty() { 20 } else { 45 };
            cd.extend_from_slice(&CENTRAL_HEADER.to_le_bytes());
            cd.extend_from_slice(&((3 << 8) | version).to_le_bytes()); // made by: Unix
            cd.extend_from_slice(&version.to_le_bytes());
            cd.extend_from_slice(&(if r.utf8 { FLAG_UTF8 } else { 0 }).to_le_bytes());
            cd.extend_from_slice(&STORED.to_le_bytes());
            cd.extend_from_slice(&DOS_TIME.to_le_bytes());
            cd.extend_from_slice(&DOS_DATE.to_le_bytes());
            cd.extend_from_slice(&r.crc.to_le_bytes());
            let size32 = if big_size { MAX32 as u32 } else { r.size as u32 };
            cd.extend_from_slice(&size32.to_le_bytes());
            cd.extend_from_slice(&size32.to_le_bytes());
            cd.extend_from_slice(&(r.name.len() as u16).to_le_bytes());
            cd.extend_from_slice(&(if extra.is_empty() { 0 } else { extra.len() as u16 + 4 }).to_le_bytes());
            cd.extend_from_slice(&0u16.to_le_bytes()); // comment
            cd.extend_from_slice(&0u16.to_le_bytes()); // disk
            cd.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
            cd.extend_from_slice(&EXTERNAL_ATTRIBUTES.to_le_bytes());
            cd.extend_from_slice(&(if big_offset { MAX32 as u32 } else { r.offset as u32 }).to_le_bytes());
            cd.extend_from_slice(&r.name);
            if !extra.is_empty() {
                cd.extend_from_slice(&ZIP64_EXTRA.to_le_bytes());
                cd.extend_from_slice(&(extra.len() as u16).to_le_bytes());
                cd.extend_from_slice(&extra);
            }
        }
        self.out.write_all(&cd)?;
        let count = self.records.len() as u64;
        let cd_size = cd.len() as u64;
        let end64_pos = cd_offset + cd_size;
        if self.force_zip64 || count >= MAX16 || cd_size >= MAX32 || cd_offset >= MAX32 {
            let mut end64 = Vec::with_capacity((END64_LEN + LOCATOR_LEN) as usize);
            end64.extend_from_slice(&END64.to_le_bytes());
            end64.extend_from_slice(&(END64_LEN - 12).to_le_bytes());
            end64.extend_from_slice(&((3u16 << 8) | 45).to_le_bytes());
            end64.extend_from_slice(&45u16.to_le_bytes());
            end64.extend_from_slice(&0u32.to_le_bytes());
            end64.extend_from_slice(&0u32.to_le_bytes());
            end64.extend_from_slice(&count.to_le_bytes());
            end64.extend_from_slice(&count.to_le_bytes());
            end64.extend_from_slice(&cd_size.to_le_bytes());
            end64.extend_from_slice(&cd_offset.to_le_bytes());
            end64.extend_from_slice(&END64_LOCATOR.to_le_bytes());
            end64.extend_from_slice(&0u32.to_le_bytes());
            end64.extend_from_slice(&end64_pos.to_le_bytes());
            end64.extend_from_slice(&1u32.to_le_bytes());
            self.out.write_all(&end64)?;
        }
        let force = self.force_zip64;
        let clamp16 = |v: u64| if force || v >= MAX16 { MAX16 as u16 } else { v as u16 };
        let clamp32 = |v: u64| if force || v >= MAX32 { MAX32 as u32 } else { v as u32 };
        let mut end = Vec::with_capacity(END_LEN as usize + comment.len());
        end.extend_from_slice(&END.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        end.extend_from_slice(&clamp16(count).to_le_bytes());
        end.extend_from_slice(&clamp16(count).to_le_bytes());
        end.extend_from_slice(&clamp32(cd_size).to_le_bytes());
        end.extend_from_slice(&clamp32(cd_offset).to_le_bytes());
        end.extend_from_slice(&(comment.len() as u16).to_le_bytes());
        end.extend_from_slice(comment);
        self.out.write_all(&end)?;
        Ok(self.out)
    }
}
