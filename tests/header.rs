//! The committed C header must be what cbindgen makes of the current sources.
//! `AD_BLESS_HEADER=1 cargo test --test header` rewrites it.

use std::path::Path;

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
