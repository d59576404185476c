//! The committed C header must be what cbindgen makes of the current sources.
//! `AD_BLESS_HEADER=1 cargo test --test header` rewrites it. What copies the header's
//! contents elsewhere must agree with it.

use std::path::Path;

mod c_header;

#[test]
fn committed_header_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("the header is UTF-8");
    let path = root.join("include/ad.h");
    if std::env::var_os("AD_BLESS_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("include/ad.h is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/ad.h is stale: regenerate it with `AD_BLESS_HEADER=1 cargo test --test header`"
    );
}

/// The Python package's status table (`NAME = value` lines of `errors.py`) holds exactly the
/// header's `ad_status` values: a status added, renumbered or renamed in the library fails
/// here until the table follows.
#[test]
fn python_status_table_matches_the_header() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bindings/python/ad/errors.py");
    let text = std::fs::read_to_string(&path).expect("errors.py is readable");
    let mut python: Vec<(String, i64)> = text
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .filter(|(name, _)| name.starts_with("AD_"))
        .map(|(name, value)| (name.to_string(), value.trim().parse().unwrap_or_else(|_| panic!("errors.py: {} = {}", name, value))))
        .collect();
    let mut header = c_header::enum_values("ad_status");
    assert!(header.len() > 10, "only {:?} in ad.h's ad_status", header);
    python.sort();
    header.sort();
    assert_eq!(python, header, "bindings/python/ad/errors.py's status table differs from ad_status in include/ad.h");
}
