//! Checkpoints at the engine's level (`ad::io`): round trips, NumPy's own files (the fixtures
//! under tests/fixtures/checkpoints, written by its generate.py), and hand-made hostile files,
//! each refused with the error of its kind and a message naming the file and the fault.
//! The C API's side is in tests/c/checkpoints.c, the mutation fuzzer in tests/checkpoint_fuzz.rs,
//! and NumPy and MXNet themselves in bindings/python/tests/test_checkpoints.py.

use std::path::{Path, PathBuf};

use ad::io::{self, Checkpoint, Layout};
use ad::{Array, DType, ErrorKind};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/checkpoints")
}

/// A fresh directory for this test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("checkpoints").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// arange(n) in `shape` and `dtype`, as the fixtures hold.
fn arange(shape: &[usize], dtype: DType) -> Array {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|i| i as f64).collect();
    match dtype {
        DType::F32 => Array::from_slice(&v.iter().map(|&x| x as f32).collect::<Vec<_>>(), shape).unwrap(),
        DType::F64 => Array::from_slice(&v, shape).unwrap(),
        // Whole numbers (wrapping in the narrow types), or alternating bools.
        other => {
            let ints: Vec<i64> = (0..n as i64).collect();
            let a = Array::from_slice(&ints, shape).unwrap();
            (*ad::ops::astype(&a.into(), other).unwrap()).clone()
        }
    }
}

/// The elements' bits, so that NaN payloads and -0 compare too.
fn bits(a: &Array) -> Vec<u64> {
    match a.dtype() {
        DType::F32 => a.to_vec::<f32>().iter().map(|x| x.to_bits() as u64).collect(),
        DType::F64 => a.to_vec::<f64>().iter().map(|x| x.to_bits()).collect(),
        DType::F16 => a.to_vec::<ad::array::dtype::f16>().iter().map(|x| x.to_bits() as u64).collect(),
        // Integers and bools converted exactly.
        _ => a.to_vec::<i64>().iter().map(|&x| x as u64).collect(),
    }
}

fn same(a: &Array, b: &Array) {
    assert_eq!((a.dtype(), a.shape()), (b.dtype(), b.shape()));
    assert_eq!(bits(a), bits(b));
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn error_of(result: ad::Result<Checkpoint>) -> ad::Error {
    match result {
        Ok(c) => panic!("loaded {} arrays where an error was due", c.arrays.len()),
        Err(e) => e,
    }
}

#[test]
fn numpys_files_load_as_numpy_wrote_them() {
    let expected = std::fs::read_to_string(fixtures().join("expected.txt")).unwrap();
    let mut cases = 0;
    for block in expected.split("file ").skip(1) {
        let mut lines = block.lines();
        let name = lines.next().unwrap();
        let path = fixtures().join(name);
        let first = lines.next().unwrap();
        let result = io::load(&path);
        cases += 1;
        if let Some(rest) = first.strip_prefix("error ") {
            let e = error_of(result);
            let mut words = rest.split(' ');
            let kind = match words.next().unwrap() {
                "AD_ERR_FORMAT" => ErrorKind::Format,
                "AD_ERR_DTYPE" => ErrorKind::DType,
                other => panic!("{}: unknown status {}", name, other),
            };
            assert_eq!(e.kind, kind, "{}: {}", name, e.message);
            assert!(e.message.contains(name), "{}: the message does not name the file: {}", name, e.message);
            for w in words {
                assert!(e.message.contains(w), "{}: the message lacks '{}': {}", name, w, e.message);
            }
            continue;
        }
        let c = result.unwrap_or_else(|e| panic!("{}: {}", name, e.message));
        let arrays: Vec<&str> = lines.collect();
        assert_eq!(c.arrays.len(), arrays.len(), "{}", name);
        assert_eq!(c.names.is_some(), first == "dict", "{}: {:?}", name, c.names);
        for (i, line) in arrays.iter().enumerate() {
            // name dtype shape fill; the name may be empty, so the fields are split from the end.
            let fields: Vec<&str> = line.rsplitn(4, ' ').collect();
            let (fill, shape, dtype, key) = (fields[0], fields[1], fields[2], fields[3]);
            let shape: Vec<usize> = shape.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
            let dtype = DType::all().into_iter().find(|d| d.name() == dtype).unwrap_or_else(|| panic!("{}: dtype {}", name, dtype));
            if let Some(names) = &c.names {
                assert_eq!(names[i], key, "{}", name);
            }
            let expected = if fill == "zeros" { Array::zeros(&shape, dtype).unwrap() } else { arange(&shape, dtype) };
            same(&c.arrays[i], &expected);
        }
    }
    assert!(cases > 25, "only {} fixtures", cases);
}

#[test]
fn round_trips_keep_values_shapes_dtypes_and_names() {
    let dir = scratch("round_trips");
    let special = Array::from_slice(&[f32::NAN, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::MIN_POSITIVE / 2.0, 1.5], &[2, 3]).unwrap();
    let nan_payload = Array::from_slice(&[f64::from_bits(0x7ff8_0000_dead_beef), f64::MAX, -1e-310], &[3]).unwrap();
    let arrays = vec![
        arange(&[2, 3], DType::F32),
        arange(&[4], DType::F64),
        arange(&[], DType::F64),
        arange(&[0, 3], DType::F32),
        arange(&[3, 0, 2], DType::F64),
        arange(&[1; 64], DType::F32),
        arange(&[[1; 63].as_slice(), &[3]].concat(), DType::F64),
        special,
        nan_payload,
        arange(&[2, 3], DType::I32),
        arange(&[300], DType::U8),
        arange(&[2, 2], DType::I8),
        arange(&[5], DType::I64),
        Array::from_slice(&[i64::MIN, i64::MAX, -1], &[3]).unwrap(),
        arange(&[3, 1], DType::Bool),
        arange(&[0], DType::Bool),
    ];
    for layout in ["list.npz", "dict.params", "no_extension"] {
        let path = dir.join(layout);
        let given = if layout == "list.npz" { None } else { Some(names(&["a", "b", "c", "d", "e", "f", "g", "h", "é/ü", "i32", "u8", "i8", "i64", "i64 extremes", "bool", "no bools"])) };
        io::save(&path, &arrays, given.as_deref()).unwrap();
        let c = io::load(&path).unwrap();
        assert_eq!(c.names, given);
        assert_eq!(c.arrays.len(), arrays.len());
        for (a, b) in arrays.iter().zip(&c.arrays) {
            same(a, b);
        }
    }
    for (i, a) in arrays.iter().enumerate() {
        let path = dir.join(format!("one_{}.npy", i));
        io::save(&path, std::slice::from_ref(a), None).unwrap();
        let c = io::load(&path).unwrap();
        assert!(c.names.is_none() && c.arrays.len() == 1);
        same(a, &c.arrays[0]);
    }
    // Empty lists and empty dicts come back as such.
    for given in [None, Some(vec![])] {
        let path = dir.join("empty.npz");
        io::save(&path, &[], given.as_deref()).unwrap();
        assert_eq!(io::load(&path).unwrap().names, given);
    }
    // A view (a slice sharing storage) saves its own elements only.
    let base = ad::NdArray::from(arange(&[4, 3], DType::F32));
    let row = ad::ops::slice(&base, &[ad::ops::AxisIndex::At(2)]).unwrap();
    let path = dir.join("view.npy");
    io::save(&path, &[Array::clone(&row)], None).unwrap();
    assert_eq!(io::load(&path).unwrap().arrays[0].to_vec::<f32>(), vec![6.0, 7.0, 8.0]);
}

#[test]
fn a_dict_named_like_a_list_stays_a_dict() {
    // numpy.savez names positional arrays arr_0, arr_1: ad's comment tells its dicts apart.
    let dir = scratch("dict_like_list");
    let path = dir.join("d.npz");
    io::save(&path, &[arange(&[1], DType::F32)], Some(&names(&["arr_0"]))).unwrap();
    assert_eq!(io::load(&path).unwrap().names, Some(names(&["arr_0"])));
}

#[test]
fn saved_files_are_numpys_formats_byte_for_byte() {
    // The fixture numpy.save wrote, and ad's .npy of the same array, are the same bytes.
    let ours = io::save_to_bytes(Layout::Npy, &[arange(&[3, 4], DType::F32)], None, false).unwrap();
    assert_eq!(ours, std::fs::read(fixtures().join("save_f32.npy")).unwrap());
    let ours = io::save_to_bytes(Layout::Npy, &[arange(&[0, 3], DType::F32)], None, false).unwrap();
    assert_eq!(ours, std::fs::read(fixtures().join("save_empty.npy")).unwrap());
    // An .npz entry holds what numpy.save writes.
    let npz = io::save_to_bytes(Layout::Npz, &[arange(&[3, 4], DType::F32)], Some(&names(&["w"])), false).unwrap();
    let npy = std::fs::read(fixtures().join("save_f32.npy")).unwrap();
    assert!(npz.windows(npy.len()).any(|w| w == npy.as_slice()));
    assert!(npz.ends_with(b"ad checkpoint: dict"));
}

#[test]
fn forced_zip64_records_read_back() {
    let arrays = [arange(&[2, 3], DType::F32), arange(&[5], DType::F64)];
    for given in [None, Some(names(&["x", "y"]))] {
        let bytes = io::save_to_bytes(Layout::Npz, &arrays, given.as_deref(), true).unwrap();
        let c = io::load_bytes(&bytes, "zip64.npz").unwrap();
        assert_eq!(c.names, given);
        same(&c.arrays[1], &arrays[1]);
    }
}

#[test]
fn what_a_file_cannot_hold_is_refused_before_the_file_is_touched() {
    let dir = scratch("refused");
    let a = arange(&[2], DType::F32);
    let keep = dir.join("keep.npy");
    std::fs::write(&keep, b"precious").unwrap();
    let cases: Vec<(Vec<Array>, Option<Vec<String>>, &str)> = vec![
        (vec![a.clone(), a.clone()], None, "one array"),
        (vec![a.clone()], Some(names(&["w"])), "without a name"),
        (vec![], None, "one array"),
    ];
    for (arrays, given, needle) in cases {
        let e = io::save(&keep, &arrays, given.as_deref()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert!(e.message.contains("keep.npy") && e.message.contains(needle), "{}", e.message);
    }
    let npz = dir.join("k.npz");
    let e = io::save(&npz, &[a.clone(), a.clone()], Some(&names(&["w", "w"]))).unwrap_err();
    assert!(e.kind == ErrorKind::InvalidArgument && e.message.contains("'w' is given twice"), "{}", e.message);
    let e = io::save(&npz, &[a.clone()], Some(&names(&["w", "v"]))).unwrap_err();
    assert!(e.message.contains("2 names for 1 arrays"), "{}", e.message);
    let e = io::save(&npz, &[a.clone()], Some(&names(&["a\0b"]))).unwrap_err();
    assert!(e.kind == ErrorKind::InvalidArgument && e.message.contains("NUL"), "{}", e.message);
    let long = "n".repeat(70_000);
    let e = io::save(&npz, &[a.clone()], Some(&[long])).unwrap_err();
    assert!(e.message.contains("longer than a zip entry's name"), "{}", e.message);
    // Nothing was written, nothing was left behind.
    assert_eq!(std::fs::read(&keep).unwrap(), b"precious");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("keep.npy")]);
}

#[test]
fn saving_replaces_a_file_whole_and_follows_links() {
    let dir = scratch("replace");
    let path = dir.join("model.npz");
    io::save(&path, &[arange(&[100], DType::F64)], None).unwrap();
    io::save(&path, &[arange(&[2], DType::F32)], None).unwrap();
    same(&io::load(&path).unwrap().arrays[0], &arange(&[2], DType::F32));
    #[cfg(unix)]
    {
        let link = dir.join("latest.npz");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        io::save(&link, &[arange(&[3], DType::F32)], None).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        same(&io::load(&path).unwrap().arrays[0], &arange(&[3], DType::F32));
    }
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.contains("tmp")).collect();
    assert!(left.is_empty(), "temporary files left: {:?}", left);
}

#[test]
fn files_that_cannot_be_opened_or_written_are_io_errors() {
    let dir = scratch("io_errors");
    let missing = dir.join("missing.npz");
    let e = error_of(io::load(&missing));
    assert!(e.kind == ErrorKind::Io && e.message.contains("missing.npz") && e.message.contains("cannot open"), "{}", e.message);
    let e = error_of(io::load(&dir));
    assert!(e.kind == ErrorKind::Io && e.message.contains("not a regular file"), "{}", e.message);
    let e = io::save(&dir, &[arange(&[1], DType::F32)], None).unwrap_err();
    assert!(e.kind == ErrorKind::Io && e.message.contains("not a regular file"), "{}", e.message);
    let e = io::save(&dir.join("no/such/dir/x.npz"), &[arange(&[1], DType::F32)], None).unwrap_err();
    assert!(e.kind == ErrorKind::Io && e.message.contains("x.npz"), "{}", e.message);
    #[cfg(target_os = "linux")]
    {
        // A device is not opened: /dev/zero would never end.
        let e = error_of(io::load(Path::new("/dev/zero")));
        assert!(e.kind == ErrorKind::Io && e.message.contains("not a regular file"), "{}", e.message);
    }
}

/// The error of loading `bytes`, which must be of `kind` and hold each of `needles`.
fn refused(bytes: &[u8], kind: ErrorKind, needles: &[&str]) {
    let e = error_of(io::load_bytes(bytes, "case.npz"));
    assert_eq!(e.kind, kind, "{}", e.message);
    assert!(e.message.starts_with("case.npz: "), "the message does not name the file: {}", e.message);
    for n in needles {
        assert!(e.message.contains(n), "the message lacks '{}': {}", n, e.message);
    }
}

fn npy_with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend_from_slice(&(header.len() as u16).to_le_bytes());
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(data);
    v
}

#[test]
fn hostile_npy_files_are_refused_clearly() {
    refused(b"", ErrorKind::Format, &["empty"]);
    refused(b"hello world", ErrorKind::Format, &["not a .npy or .npz"]);
    refused(&[0x12, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], ErrorKind::Format, &["MXNet"]);
    refused(b"\x93NUMPY\x09\x00\x10\x00", ErrorKind::Format, &["version 9.0"]);
    refused(b"\x93NUMPY\x01\x00\xff\xff{}", ErrorKind::Format, &["header's length is 65535"]);
    refused(b"\x93NUMPY\x02\x00\xff\xff\xff\x7f{}", ErrorKind::Format, &["header's length"]);
    // Shapes whose bytes are not in the file: refused before anything is allocated for them.
    let huge = "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }";
    refused(&npy_with_header(huge, &[0; 16]), ErrorKind::Format, &["(1099511627776, 1099511627776)", "16 bytes of data"]);
    let overflow = "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296, 4294967296, 4294967296), }";
    refused(&npy_with_header(overflow, &[]), ErrorKind::Format, &["more bytes than a file can hold"]);
    let short = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
    refused(&npy_with_header(short, &[0; 23]), ErrorKind::Format, &["(24 bytes)", "23 bytes"]);
    refused(&npy_with_header(short, &[0; 25]), ErrorKind::Format, &["25 bytes"]);
    let empty_huge = "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 9223372036854775807), }";
    refused(&npy_with_header(empty_huge, &[]), ErrorKind::Shape, &["no elements"]);
    let axes = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", vec!["1"; 65].join(","));
    refused(&npy_with_header(&axes, &[0; 4]), ErrorKind::Shape, &["65 axes"]);
    refused(&npy_with_header("{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }", &[0; 2]), ErrorKind::DType, &["int16 ('<i2')"]);
    refused(&npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", &[0; 4]), ErrorKind::Format, &["'extra'"]);
    refused(&npy_with_header(&"(".repeat(1000), &[]), ErrorKind::Format, &["levels"]);
    // Every truncation of a real file is an error, never a short array.
    let file = std::fs::read(fixtures().join("fortran.npy")).unwrap();
    for n in 0..file.len() {
        assert!(io::load_bytes(&file[..n], "cut.npy").is_err(), "cut at {}", n);
    }
}

/// Offsets into an archive that `save_to_bytes` wrote: entries' local headers, the central
/// directory, the end record.
struct Layout64 {
    bytes: Vec<u8>,
    central: usize,
    end: usize,
}

fn archive(arrays: &[Array], given: Option<&[String]>) -> Layout64 {
    let bytes = io::save_to_bytes(Layout::Npz, arrays, given, false).unwrap();
    let end = bytes.len() - 22 - given.map_or(19, |_| 19);
    assert_eq!(&bytes[end..end + 4], b"PK\x05\x06");
    let central = u32::from_le_bytes(bytes[end + 16..end + 20].try_into().unwrap()) as usize;
    Layout64 { bytes, central, end }
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn hostile_zip_archives_are_refused_clearly() {
    let two = [arange(&[2, 3], DType::F32), arange(&[4], DType::F64)];
    let base = archive(&two, None);
    let (cd, end) = (base.central, base.end);
    assert!(io::load_bytes(&base.bytes, "case.npz").is_ok());
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = base.bytes.clone();
        f(&mut b);
        b
    };
    // The data's CRC, and the directory's.
    // arr_0's local header is 39 bytes, its .npy header 128: its elements start at 167.
    refused(&with(&|b| b[170] ^= 1), ErrorKind::Format, &["arr_0.npy", "CRC-32"]);
    refused(&with(&|b| b[cd + 16] ^= 1), ErrorKind::Format, &["arr_0.npy", "disagrees"]);
    // Sizes: the directory says more or less than the entry holds.
    refused(&with(&|b| put32(b, cd + 20, 10_000)), ErrorKind::Format, &["arr_0.npy"]);
    refused(&with(&|b| put32(b, cd + 24, 1 << 30)), ErrorKind::Format, &["arr_0.npy"]);
    refused(&with(&|b| put32(b, cd + 20, u32::MAX)), ErrorKind::Format, &["zip64"]);
    // Offsets past the file, or into the directory.
    refused(&with(&|b| put32(b, cd + 42, 0x7fff_ffff)), ErrorKind::Format, &["offset 2147483647"]);
    refused(&with(&|b| put32(b, end + 16, 3)), ErrorKind::Format, &["signature"]);
    refused(&with(&|b| put32(b, end + 16, u32::MAX - 5)), ErrorKind::Format, &["central directory"]);
    refused(&with(&|b| put32(b, end + 12, 1 << 31)), ErrorKind::Format, &["central directory"]);
    // Counts beyond what the directory can hold.
    refused(&with(&|b| put16(b, end + 8, 60_000)), ErrorKind::Format, &["several disks"]);
    refused(&with(&|b| (put16(b, end + 8, 60_000), put16(b, end + 10, 60_000)).1), ErrorKind::Format, &["holds at most"]);
    refused(&with(&|b| (put16(b, end + 8, 1), put16(b, end + 10, 1)).1), ErrorKind::Format, &["after its 1 records"]);
    // Zip64 markers with no zip64 records behind them.
    refused(&with(&|b| (put16(b, end + 8, 0xffff), put16(b, end + 10, 0xffff)).1), ErrorKind::Format, &[]);
    // Two entries on the same bytes (the overlapping-files bomb).
    refused(&with(&|b| { let first = u32::from_le_bytes(b[cd + 42..cd + 46].try_into().unwrap()); let second = cd + 46 + 9; put32(b, second + 42, first); }), ErrorKind::Format, &[]);
    // Not a zip at all past its first bytes; an end record's comment running past the end.
    refused(&with(&|b| b.truncate(40)), ErrorKind::Format, &["end-of-central-directory"]);
    refused(&with(&|b| put16(b, end + 20, 5)), ErrorKind::Format, &["end-of-central-directory"]);
    // Methods and flags ad does not read.
    refused(&with(&|b| { put16(b, cd + 10, 12); put16(b, 8, 12); }), ErrorKind::Format, &["method 12 (bzip2)"]);
    refused(&with(&|b| { put16(b, cd + 8, 1); put16(b, 6, 1); }), ErrorKind::Format, &["encrypted"]);
    // A local header that names another entry.
    refused(&with(&|b| b[30] = b'x'), ErrorKind::Format, &["local header names it"]);
    // Every truncation is an error.
    for n in 0..base.bytes.len() {
        assert!(io::load_bytes(&base.bytes[..n], "cut.npz").is_err(), "cut at {}", n);
    }
}

#[test]
fn hostile_deflate_streams_are_refused_clearly() {
    let file = std::fs::read(fixtures().join("savez_compressed.npz")).unwrap();
    assert!(io::load_bytes(&file, "case.npz").is_ok());
    // Find the directory: the end record is the last 22 bytes (no comment).
    let end = file.len() - 22;
    let cd = u32::from_le_bytes(file[end + 16..end + 20].try_into().unwrap()) as usize;
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = file.clone();
        f(&mut b);
        b
    };
    // numpy's local headers carry zip64 sizes; these mutate the central directory's and the
    // local header's together where needed.
    // w.npy's local header is first; its zip64 field's uncompressed size is at byte 39.
    let both = |size: u64| move |b: &mut Vec<u8>| {
        put32(b, cd + 24, size as u32);
        b[39..47].copy_from_slice(&size.to_le_bytes());
    };
    refused(&with(&both(0x7fff_fff0)), ErrorKind::Format, &["w.npy", "more than deflate can produce"]);
    refused(&with(&both(2000)), ErrorKind::Format, &["w.npy", "(2400 bytes), but 1872 bytes of data"]);
    refused(&with(&both(3000)), ErrorKind::Format, &["w.npy", "(2400 bytes), but 2872 bytes of data"]);
    refused(&with(&|b| b[100] ^= 0x55), ErrorKind::Format, &["w.npy"]);
    for n in 0..file.len() {
        assert!(io::load_bytes(&file[..n], "cut.npz").is_err(), "cut at {}", n);
    }
    // A bomb: a tiny stream that inflates to 1000 times its size, declared as such, loads;
    // declaring more than deflate can make is refused before inflating anything.
    let zeros = std::fs::read(fixtures().join("savez_compressed.npz")).unwrap();
    let c = io::load_bytes(&zeros, "z.npz").unwrap();
    assert_eq!(c.arrays[1].shape(), &[256, 256]);
}

/// The zip64 records ad writes where sizes pass 4 GiB (forced here on small arrays) are read
/// by Python's zipfile, which numpy.load uses, with each entry's CRC checked.
#[test]
fn forced_zip64_archives_open_in_pythons_zipfile() {
    let dir = scratch("zip64_python");
    let arrays = [arange(&[2, 3], DType::F32), arange(&[5], DType::F64)];
    let path = dir.join("zip64.npz");
    std::fs::write(&path, io::save_to_bytes(Layout::Npz, &arrays, Some(&names(&["x", "é"])), true).unwrap()).unwrap();
    let check = "import sys, zipfile\n\
                 z = zipfile.ZipFile(sys.argv[1])\n\
                 assert z.testzip() is None\n\
                 print(' '.join('%s:%d' % (i.filename, i.file_size) for i in z.infolist()), z.comment.decode())\n";
    let out = std::process::Command::new("python3").arg("-c").arg(check).arg(&path).output().expect("python3 runs (the test command needs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "x.npy:152 é.npy:168 ad checkpoint: dict");
}

/// Threads saving to one path and loading it at once: each load sees one whole checkpoint,
/// never a mix or a half-written file (a save is a rename of a complete file).
#[test]
fn concurrent_saves_and_loads_see_whole_checkpoints() {
    let dir = scratch("concurrent");
    let path = dir.join("shared.npz");
    io::save(&path, &[Array::full(&[1000], 0.0, DType::F32).unwrap()], None).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let path = &path;
            s.spawn(move || {
                for i in 0..25u32 {
                    if (i + t) % 2 == 0 {
                        let v = (t * 100 + i) as f64;
                        io::save(path, &[Array::full(&[1000], v, DType::F32).unwrap()], None).unwrap();
                    } else {
                        let c = io::load(path).unwrap();
                        let values = c.arrays[0].to_vec::<f32>();
                        assert!(values.len() == 1000 && values.iter().all(|&x| x == values[0]), "a mixed checkpoint");
                    }
                }
            });
        }
    });
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("shared.npz")]);
}
