//! What `include/ad.h` declares, read from its text: its functions with their parameters, and
//! the values of its enums. Tests derive their lists from this, so that a new function or
//! status cannot be left out of them.
#![allow(dead_code)] // each test binary uses its own part

use std::path::Path;

pub fn text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/ad.h");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {}", path.display(), e))
}

/// One parameter: its C type with each token apart (`const ad_array * const *`), and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub ty: String,
    pub name: String,
}

impl Param {
    pub fn is_pointer(&self) -> bool {
        self.ty.contains('*')
    }
}

#[derive(Clone, Debug)]
pub struct Function {
    pub returns: String,
    pub name: String,
    pub params: Vec<Param>,
}

/// The header's text without its comments.
fn code(header: &str) -> String {
    let mut out = String::new();
    let mut rest = header;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..].find("*/").map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out.lines().map(|l| l.find("//").map_or(l, |i| &l[..i])).collect::<Vec<_>>().join("\n")
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The functions, in the header's order.
pub fn functions() -> Vec<Function> {
    let code = code(&text());
    // The last extern "C" block: the first is DLPack's, in the types ad.h declares for it.
    let body = code.rsplit("extern \"C\" {").next().filter(|_| code.contains("extern \"C\" {")).expect("the header has an extern \"C\" block");
    let body = &body[..body.find("#ifdef __cplusplus").expect("the extern \"C\" block ends")];
    body.split(';')
        .map(squeeze)
        .filter(|d| !d.is_empty())
        .map(|decl| {
            let open = decl.find('(').unwrap_or_else(|| panic!("not a prototype: {}", decl));
            let (head, params) = (&decl[..open], decl[open + 1..].trim_end_matches(')'));
            let split = head.rfind([' ', '*']).expect("a return type and a name");
            let params = match params.trim() {
                "void" | "" => Vec::new(),
                list => list
                    .split(',')
                    .map(|p| {
                        let p = p.trim();
                        let at = p.rfind([' ', '*']).expect("a type and a name");
                        Param { ty: squeeze(&p[..=at].replace('*', " * ")), name: p[at + 1..].to_string() }
                    })
                    .collect(),
            };
            Function { returns: squeeze(&head[..=split]), name: head[split + 1..].to_string(), params }
        })
        .collect()
}

/// The variants of `typedef enum { ... } name;` with their values, in order.
pub fn enum_values(name: &str) -> Vec<(String, i64)> {
    let code = code(&text());
    let end = code.find(&format!("}} {};", name)).unwrap_or_else(|| panic!("the header has no enum {}", name));
    let start = code[..end].rfind("typedef enum {").expect("the enum's start") + "typedef enum {".len();
    code[start..end]
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            let (variant, value) = v.split_once('=').unwrap_or_else(|| panic!("{}: {} has no value", name, v));
            (variant.trim().to_string(), value.trim().parse().expect("an integer value"))
        })
        .collect()
}
