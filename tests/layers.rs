//! The engine's modules form layers, each using only those below it (the picture in
//! `src/lib.rs`). This test reads every source file under `src/` and fails on a use of a module
//! from a higher layer, or from another module of the same layer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The layers, bottom first.
const LAYERS: &[&[&str]] = &[&["error", "reference"], &["cpu"], &["array"], &["tape", "io"], &["ops"], &["autograd"], &["ffi"]];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The names `src/lib.rs` re-exports at the crate root, with the module each comes from.
fn root_names(lib: &str) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for line in lib.lines().filter_map(|l| l.trim().strip_prefix("pub use ")) {
        let line = line.trim_end_matches(';');
        let (module, rest) = line.split_once("::").expect("`pub use module::...`");
        let items = rest.trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let item = item.trim().rsplit("::").next().expect("an item").to_string();
            names.insert(item, module.to_string());
        }
    }
    names
}

/// The first segment of each path that starts with `crate::` (or `$crate::`), expanding
/// `crate::{a, b::c}` groups.
fn crate_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            out.extend(group[..end].split(',').map(|p| p.trim().split("::").next().unwrap_or("").to_string()));
        } else {
            let end = after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len());
            out.push(after[..end].to_string());
        }
        rest = after;
    }
    out.retain(|p| !p.is_empty());
    out
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let names = root_names(&std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs"));
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src/");
        let first = relative.components().next().expect("a path").as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" {
            continue;
        }
        let Some(own) = rank(&module) else {
            wrong.push(format!("{}: module `{}` is in no layer of tests/layers.rs", relative.display(), module));
            continue;
        };
        let source = std::fs::read_to_string(file).expect("a readable source file");
        // Comments may name what is above (where a value goes next); code may not use it.
        let text: String = source.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        for path in crate_paths(&text) {
            let used = names.get(&path).cloned().unwrap_or(path.clone());
            match rank(&used) {
                Some(r) if used == module || r < own => {}
                Some(_) => wrong.push(format!("{}: `{}` uses `crate::{}` (layer `{}`), not below it", relative.display(), module, path, used)),
                None => wrong.push(format!("{}: `crate::{}` is neither a module of a layer nor a re-export of lib.rs", relative.display(), path)),
            }
        }
    }
    assert!(wrong.is_empty(), "uses across the layers:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_an_upward_use() {
    assert_eq!(crate_paths("use crate::{ops, reference};\nuse crate::tape::NdArray; $crate::error::Error"), ["ops", "reference", "tape", "error"]);
    let names = root_names("pub use tape::NdArray;\npub use array::{Array, DType};");
    assert_eq!(names.get("DType").map(String::as_str), Some("array"));
    assert!(rank("tape") > rank("array"));
}
