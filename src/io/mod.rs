//! Checkpoints: arrays saved to files and loaded back, in NumPy's formats, so that a
//! checkpoint opens with `numpy.load` and NumPy's files load into ad.
//!
//! - A file whose name ends in `.npy` holds one array in NumPy's `.npy` format, byte for byte
//!   what `numpy.save` writes.
//! - Any other name gets an `.npz`: a zip archive of stored (uncompressed) `.npy` entries, as
//!   `numpy.savez` writes it. A list of arrays is named `arr_0`, `arr_1`, ... (what
//!   `numpy.savez(file, *arrays)` names them); named arrays keep their names. The archive's
//!   comment says which it was (`ad checkpoint: list` or `ad checkpoint: dict`), so that
//!   loading gives back what was saved, as MXNet's `nd.load` does.
//!
//! Loading reads `.npy` files and `.npz` archives, stored or deflated (`numpy.savez_compressed`),
//! whatever their name. An archive without ad's comment is a list when its entries are
//! exactly `arr_0`, `arr_1`, ... in that order (`numpy.savez(file, *arrays)`), else named
//! arrays. Files are hostile until checked: see `npy.rs` and `zip.rs` for what is checked, and
//! each error names the file and what is wrong with it.
//!
//! Saving writes a temporary file beside the target and renames it over the target only when
//! every byte is written and synced, so that a failed save leaves an existing file as it was.

mod crc32;
mod npy;
mod source;
mod zip;

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::array::Array;
use crate::error::{bail, Error, ErrorKind, Result};
use source::{malformed, BytesSource, FileSource, Source};

/// What a checkpoint holds: arrays, and their names when they were saved with names.
#[derive(Debug)]
pub struct Checkpoint {
    pub arrays: Vec<Array>,
    /// `None` for a list of arrays; else one name per array, in the file's order.
    pub names: Option<Vec<String>>,
}

/// The two layouts of a checkpoint file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One array, NumPy's `.npy`.
    Npy,
    /// A zip archive of `.npy` entries, NumPy's `.npz`.
    Npz,
}

impl Layout {
    /// The layout `save` writes to `path`: `.npy` when its name ends so, else `.npz`.
    pub fn of_path(path: &Path) -> Layout {
        if path.as_os_str().as_encoded_bytes().ends_with(b".npy") {
            Layout::Npy
        } else {
            Layout::Npz
        }
    }
}

const LIST_COMMENT: &[u8] = b"ad checkpoint: list";
const DICT_COMMENT: &[u8] = b"ad checkpoint: dict";

/// MXNet's `nd.save` files start with this 64-bit magic number (`kMXAPINDArrayListMagic`).
const MXNET_MAGIC: [u8; 8] = [0x12, 0x01, 0, 0, 0, 0, 0, 0];

/// The entry name of the `i`-th array of a list, as `numpy.savez` names positional arrays.
fn list_name(i: usize) -> String {
    format!("arr_{}", i)
}

/// Saves `arrays` to `path` (names given: a dict; none: a list), as `.npy` or `.npz` by the
/// name (`Layout::of_path`).
pub fn save(path: &Path, arrays: &[Array], names: Option<&[String]>) -> Result<()> {
    let shown = path.display().to_string();
    let layout = Layout::of_path(path);
    check_contents(&shown, layout, arrays, names)?;
    write_atomically(path, &shown, |file| encode(file, layout, arrays, names, false))
}

/// The bytes `save` would write for `arrays` in `layout` (for tests and fuzzing);
/// `force_zip64` writes every zip64 field and record even where no size needs them.
pub fn save_to_bytes(layout: Layout, arrays: &[Array], names: Option<&[String]>, force_zip64: bool) -> Result<Vec<u8>> {
    check_contents("the checkpoint", layout, arrays, names)?;
    let mut out = std::io::Cursor::new(Vec::new());
    encode(&mut out, layout, arrays, names, force_zip64).map_err(|e| Error::new(ErrorKind::Io, format!("the checkpoint: {}", e)))?;
    Ok(out.into_inner())
}

/// Loads the checkpoint in the file `path`.
pub fn load(path: &Path) -> Result<Checkpoint> {
    let shown = path.display().to_string();
    let io = |what: &str, e: std::io::Error| Error::new(ErrorKind::Io, format!("{}: {}: {}", shown, what, e));
    // A FIFO or a device would block or never end: only a regular file is opened.
    let meta = fs::metadata(path).map_err(|e| io("cannot open it", e))?;
    if !meta.is_file() {
        bail!(Io, "{}: not a regular file ({})", shown, if meta.is_dir() { "a directory" } else { "a device, FIFO or socket" });
    }
    let file = File::open(path).map_err(|e| io("cannot open it", e))?;
    let len = file.metadata().map_err(|e| io("cannot read its size", e))?.len();
    read_checkpoint(&FileSource::new(file, len, shown.clone()))
}

/// Loads a checkpoint from bytes in memory; `name` names them in messages.
pub fn load_bytes(bytes: &[u8], name: &str) -> Result<Checkpoint> {
    read_checkpoint(&BytesSource::new(bytes, name))
}

/// Refuses, before any file is touched, what the layout cannot hold or the format cannot say.
fn check_contents(shown: &str, layout: Layout, arrays: &[Array], names: Option<&[String]>) -> Result<()> {
    if let Some(names) = names {
        if names.len() != arrays.len() {
            bail!(InvalidArgument, "{}: {} names for {} arrays", shown, names.len(), arrays.len());
        }
        let mut seen = std::collections::HashSet::new();
        for name in names {
            if !seen.insert(name.as_str()) {
                bail!(InvalidArgument, "{}: the name '{}' is given twice", shown, name);
            }
            // A NUL would end the name in C, and in a loaded checkpoint's names.
            if name.contains('\0') {
                bail!(InvalidArgument, "{}: the name {:?} holds a NUL character", shown, name);
            }
            // Zip names are at most 65,535 bytes, `.npy` included.
            if name.len() > u16::MAX as usize - 4 {
                bail!(InvalidArgument, "{}: a name of {} bytes is longer than a zip entry's name may be (65,531 bytes)", shown, name.len());
            }
        }
    }
    if layout == Layout::Npy && (names.is_some() || arrays.len() != 1) {
        let what = match names {
            Some(_) => format!("{} named arrays", arrays.len()),
            None => format!("a list of {} arrays", arrays.len()),
        };
        bail!(
            InvalidArgument,
            "{}: a .npy file holds one array without a name, not {}; give the file another name to save an .npz archive",
            shown,
            what
        );
    }
    Ok(())
}

/// Writes the checkpoint's bytes to `out`.
fn encode<W: Write + Seek>(out: W, layout: Layout, arrays: &[Array], names: Option<&[String]>, force_zip64: bool) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, out);
    match layout {
        Layout::Npy => npy::write(&mut out, &arrays[0])?,
        Layout::Npz => {
            let mut zip = zip::ZipWriter::new(&mut out, force_zip64);
            for (i, array) in arrays.iter().enumerate() {
                let name = names.map_or_else(|| list_name(i), |n| n[i].clone());
                zip.add(&format!("{}.npy", name), npy::npy_len(array), |w| npy::write(w, array))?;
            }
            zip.finish(if names.is_some() { DICT_COMMENT } else { LIST_COMMENT })?;
        }
    }
    out.flush()
}

/// Tells temporary files of one process apart.
static TEMPORARY: AtomicU64 = AtomicU64::new(0);

/// Writes a new file with `write`, then renames it over `path`: a failure at any point
/// leaves `path` as it was and removes what was written.
fn write_atomically(path: &Path, shown: &str, write: impl FnOnce(&mut File) -> std::io::Result<()>) -> Result<()> {
    let io = |what: &str, e: std::io::Error| Error::new(ErrorKind::Io, format!("{}: {}: {}", shown, what, e));
    // Through a symbolic link to the file it names, which is what is replaced.
    let target: PathBuf = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let existing = fs::metadata(&target).ok();
    if let Some(meta) = &existing {
        if !meta.is_file() {
            bail!(Io, "{}: cannot save over it: it is not a regular file ({})", shown, if meta.is_dir() { "a directory" } else { "a device, FIFO or socket" });
        }
    }
    if target.file_name().is_none() {
        bail!(Io, "{}: not a file name", shown);
    }
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let n = TEMPORARY.fetch_add(1, Ordering::Relaxed);
    let temporary = dir.join(format!(".ad-save-{}-{}.tmp", std::process::id(), n));
    let mut file = OpenOptions::new().write(true).create_new(true).open(&temporary).map_err(|e| io("cannot create a file in its directory", e))?;
    let written = write(&mut file).map_err(|e| io("cannot write it", e)).and_then(|()| file.sync_all().map_err(|e| io("cannot write it", e)));
    drop(file);
    let result = written.and_then(|()| {
        if let Some(meta) = &existing {
            // The new file keeps the old one's permissions; failing that, the default ones.
            let _ = fs::set_permissions(&temporary, meta.permissions());
        }
        fs::rename(&temporary, &target).map_err(|e| io("cannot replace it", e))
    });
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// Reads a .npy or an .npz from `src`, by its first bytes (as `numpy.load` tells them apart).
fn read_checkpoint(src: &dyn Source) -> Result<Checkpoint> {
    let mut start = [0u8; 8];
    let n = src.len().min(8) as usize;
    src.read_at(0, &mut start[..n])?;
    let start = &start[..n];
    if start.starts_with(npy::MAGIC) {
        let mut input = Whole { src, at: 0 };
        let array = npy::read(&mut input, src.len(), src.name(), npy::Allocation::Upfront)?;
        return Ok(Checkpoint { arrays: vec![array], names: None });
    }
    if start.starts_with(b"PK\x03\x04") || start.starts_with(b"PK\x05\x06") {
        return read_npz(src);
    }
    if start == MXNET_MAGIC {
        return Err(malformed(src, "this is MXNet's own binary format (MXNet's nd.save); ad reads NumPy's .npy and .npz: load it with MXNet and save it with numpy.savez"));
    }
    if n == 0 {
        return Err(malformed(src, "the file is empty"));
    }
    Err(malformed(src, format_args!("not a .npy or .npz file: it starts with {:02x?}, neither NumPy's magic \\x93NUMPY nor a zip archive's PK", start)))
}

/// A whole source read in order (a .npy file).
struct Whole<'a> {
    src: &'a dyn Source,
    at: u64,
}

impl npy::Input for Whole<'_> {
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        self.src.read_at(self.at, buf)?;
        self.at += buf.len() as u64;
        Ok(())
    }
}

fn read_npz(src: &dyn Source) -> Result<Checkpoint> {
    let archive = zip::read_directory(src)?;
    let mut names = Vec::with_capacity(archive.entries.len());
    let mut seen = std::collections::HashSet::new();
    for e in &archive.entries {
        let Some(key) = e.name.strip_suffix(".npy") else {
            return Err(malformed(src, format_args!("entry '{}' is not an array: ad reads archives of .npy entries", e.name)));
        };
        if key.contains('\0') {
            return Err(malformed(src, format_args!("entry '{}' has a NUL byte in its name", e.name.escape_debug())));
        }
        if !seen.insert(key) {
            return Err(malformed(src, format_args!("the archive has two entries named '{}'", e.name)));
        }
        names.push(key.to_string());
    }
    let numbered = names.iter().enumerate().all(|(i, n)| *n == list_name(i));
    let list = match archive.comment.as_slice() {
        LIST_COMMENT if !numbered => {
            return Err(malformed(src, "the archive says it holds a list, but its entries are not named arr_0, arr_1, ... in order"));
        }
        LIST_COMMENT => true,
        DICT_COMMENT => false,
        _ => numbered,
    };
    let mut arrays = Vec::with_capacity(archive.entries.len());
    for e in &archive.entries {
        let mut input = zip::entry_input(src, e)?;
        let allocation = if e.method == 0 { npy::Allocation::Upfront } else { npy::Allocation::AsTheyCome };
        let what = format!("{}: entry '{}'", src.name(), e.name);
        arrays.push(npy::read(&mut *input, e.uncompressed, &what, allocation)?);
        input.finish()?;
    }
    Ok(Checkpoint { arrays, names: if list { None } else { Some(names) } })
}
