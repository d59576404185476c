//! Checkpoints: arrays saved to NumPy's `.npy` and `.npz` files and loaded back.

use std::collections::{HashMap, VecDeque};
use std::ffi::{c_char, CString};
use std::sync::{LazyLock, Mutex, MutexGuard};

use super::boundary::{FfiError, FfiResult};
use super::engine::{io, Array, NdArray};
use super::handles::{self, ad_array};
use super::ad_status;

/// What `ad_load` returns: `count` arrays, with their names when the file holds named arrays.
/// The struct, its lists and its names belong to the library until `ad_checkpoint_free`;
/// read them, never free them.
#[repr(C)]
pub struct ad_checkpoint {
    /// How many arrays the file held.
    pub count: usize,
    /// `count` array handles, then a NULL. They belong to the checkpoint: `ad_checkpoint_free`
    /// frees them. To keep one, copy its handle and set its entry to NULL; it is then the
    /// caller's, freed with `ad_array_free`.
    pub arrays: *mut *mut ad_array,
    /// NULL when the file held a list of arrays (MXNet's `nd.save(fname, [a, b])`); else
    /// `count` NUL-terminated UTF-8 names, in the file's order, then a NULL.
    pub names: *const *const c_char,
}

/// A loaded checkpoint and the memory its pointers point into.
struct Loaded {
    /// What C sees; its address is the checkpoint's.
    header: Box<ad_checkpoint>,
    /// `header.arrays` points here (the caller may write into it).
    arrays: Vec<*mut ad_array>,
    /// `header.names` points here, when there are names; each entry into `_names`.
    name_list: Vec<*const c_char>,
    _names: Vec<CString>,
}

// SAFETY: the raw pointers point into the vectors that the same `Loaded` owns, whose heap
// buffers do not move with it; the library reads them only in `ad_checkpoint_free`, under the
// registry's lock.
unsafe impl Send for Loaded {}

/// A freed checkpoint's header, kept allocated for a while (see `Registry`).
struct Freed(#[allow(dead_code)] Box<ad_checkpoint>);

// SAFETY: a freed header's pointers are NULL; nothing reads it.
unsafe impl Send for Freed {}

/// How many freed headers are kept before their memory goes back to the allocator.
const QUARANTINE: usize = 4096;

/// The checkpoints handed out and not yet freed, by address: freeing one twice, or a pointer
/// that is not one, is detected instead of freeing what is not ours. A freed checkpoint's
/// header (24 bytes) stays allocated until `QUARANTINE` more are freed, so that a new
/// checkpoint cannot take its address meanwhile and a second free of the old pointer is
/// still told apart from a free of the new one.
#[derive(Default)]
struct Registry {
    live: HashMap<usize, Loaded>,
    freed: VecDeque<Freed>,
}

fn registry() -> MutexGuard<'static, Registry> {
    static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Default::default);
    // A panic while it was held cannot leave it half-changed: each change is one call.
    REGISTRY.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Saves `count` arrays to the file `path`, in NumPy's formats, so that `numpy.load` opens
/// it: a path ending in `.npy` gets one array as `numpy.save` writes it (`count` must be 1
/// and `names` NULL); any other path an `.npz` archive of `.npy` entries, as `numpy.savez`
/// writes it. `names` NULL saves a list (entries `arr_0`, `arr_1`, ..., MXNet's
/// `nd.save(fname, [a, b])`); else `names` holds `count` distinct NUL-terminated UTF-8
/// names (MXNet's `nd.save(fname, {"w": w})`), and `ad_load` gives the names back. Arrays
/// are saved with their dtype; `arrays` may be NULL when `count` is 0. The file is written
/// beside `path` under a temporary name and renamed over `path` once complete, so a failure
/// leaves an existing file as it was: `AD_ERR_IO` when the system refuses (the message says
/// why), `AD_ERR_INVALID_ARGUMENT` for names that cannot be saved. Each array is read whole
/// at one instant, as an operation reads it. All arguments stay the caller's.
#[no_mangle]
pub unsafe extern "C" fn ad_save(path: *const c_char, arrays: *const *const ad_array, names: *const *const c_char, count: usize) -> ad_status {
    ffi_boundary!({
        let path = arg!(path path)?;
        let arrays: Vec<Array> = arg!(handles arrays, count)?.iter().map(|a| Array::clone(a)).collect();
        let names = arg!(strings? names, count)?;
        Ok(io::save(&path, &arrays, names.as_deref())?)
    })
}

/// Loads the arrays of the file `path`: a `.npy` (one array) or an `.npz` (stored or
/// compressed, as `numpy.savez` and `numpy.savez_compressed` write them), whatever its name.
/// On success `*out` is a new checkpoint, freed with `ad_checkpoint_free`: `count` arrays,
/// with `names` NULL when the file holds a list (ad's lists, and `numpy.savez` of positional
/// arrays only) and the names otherwise, as MXNet's `nd.load` returns a list or a dict.
/// float32, float64, uint8 (`|u1`), int8, int32 (`<i4`), int64 (`<i8`) and bool (`|b1`) arrays
/// are read, in either byte order and in C or Fortran order;
/// another element type is `AD_ERR_DTYPE`, naming it. The file is checked before it is
/// trusted: a file that cannot be opened or read is `AD_ERR_IO`; a truncated or corrupt
/// one (bad magic, header, sizes, offsets, zip records, CRC) `AD_ERR_FORMAT`; the message
/// names the file and what is wrong. Nothing is allocated from a size the file declares
/// before that size is checked against the file's own.
#[no_mangle]
pub unsafe extern "C" fn ad_load(path: *const c_char, out: *mut *mut ad_checkpoint) -> ad_status {
    ffi_boundary!({
        let out = arg!(out out)?;
        let path = arg!(path path)?;
        let checkpoint = io::load(&path)?;
        out.set(register(checkpoint)?);
        Ok(())
    })
}

/// Frees a checkpoint from `ad_load`: its lists, its names, and the array handles still in
/// its `arrays` (entries the caller set to NULL are skipped). NULL is a no-op. A pointer that
/// `ad_load` did not return is `AD_ERR_INVALID_HANDLE` and nothing is freed; so is one freed
/// already, as long as fewer than 4,096 other checkpoints were freed since (a freed
/// checkpoint's address is not given to a new one before then). Each entry is freed as an
/// array handle: one that is not a live handle (the caller freed it, or wrote something else
/// there) is reported with `AD_ERR_INVALID_HANDLE` too, after everything else was freed, and
/// a live handle the caller wrote there is freed like the ones `ad_load` wrote.
#[no_mangle]
pub extern "C" fn ad_checkpoint_free(checkpoint: *mut ad_checkpoint) -> ad_status {
    ffi_boundary!({
        if checkpoint.is_null() {
            return Ok(());
        }
        let arrays = {
            let mut registry = registry();
            let Loaded { mut header, arrays, .. } = registry.live.remove(&(checkpoint as usize)).ok_or_else(|| {
                FfiError::new(ad_status::AD_ERR_INVALID_HANDLE, "argument `checkpoint` was not returned by ad_load, or was freed already")
            })?;
            // What a read after this free finds: no arrays, no names.
            *header = ad_checkpoint { count: 0, arrays: std::ptr::null_mut(), names: std::ptr::null() };
            registry.freed.push_back(Freed(header));
            if registry.freed.len() > QUARANTINE {
                registry.freed.pop_front();
            }
            arrays
        };
        // The list ends with its NULL; entries the caller set to NULL are skipped.
        let mut first_error = None;
        for (i, &h) in arrays.iter().enumerate().filter(|(_, h)| !h.is_null()) {
            if let Err(e) = handles::remove(h, &format!("checkpoint->arrays[{}]", i)) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    })
}

/// Makes handles of the checkpoint's arrays and registers it; its address for C.
fn register(checkpoint: io::Checkpoint) -> FfiResult<*mut ad_checkpoint> {
    let count = checkpoint.arrays.len();
    // The names first: nothing is left to undo should one be unfit for C.
    let names: Option<Vec<CString>> = match checkpoint.names {
        None => None,
        Some(names) => Some(
            names
                .into_iter()
                .map(|n| CString::new(n).map_err(|_| FfiError::new(ad_status::AD_ERR_FORMAT, "a name in the file holds a NUL byte")))
                .collect::<FfiResult<_>>()?,
        ),
    };
    let mut arrays = Vec::with_capacity(count + 1);
    for a in checkpoint.arrays {
        match handles::insert(NdArray::from(a)) {
            Ok(h) => arrays.push(h),
            Err(e) => {
                for h in arrays {
                    let _ = handles::remove(h, "");
                }
                return Err(e);
            }
        }
    }
    arrays.push(std::ptr::null_mut());
    let has_names = names.is_some();
    let names = names.unwrap_or_default();
    // The CStrings' buffers stay where they are when the vector moves into the box.
    let mut name_list: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
    name_list.push(std::ptr::null());
    let mut loaded = Loaded {
        header: Box::new(ad_checkpoint { count, arrays: std::ptr::null_mut(), names: std::ptr::null() }),
        arrays,
        name_list,
        _names: names,
    };
    loaded.header.arrays = loaded.arrays.as_mut_ptr();
    if has_names {
        loaded.header.names = loaded.name_list.as_ptr();
    }
    let address = &mut *loaded.header as *mut ad_checkpoint;
    registry().live.insert(address as usize, loaded);
    Ok(address)
}
