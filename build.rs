// Tells the C harness (tests/c_api.rs) which target triple to hand the `cc` crate.
fn main() {
    println!("cargo:rustc-env=AD_TEST_TARGET={}", std::env::var("TARGET").unwrap());
    println!("cargo:rerun-if-changed=build.rs");
}
