//! The C harness: compiles the C programs under `tests/c` and `examples` against
//! `include/ad.h` and the shared library that `cargo test` built, runs them, and checks
//! their results; then runs them again under valgrind's memcheck.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

mod c_header;
mod harness;

use harness::{assert_success, lib_dir, root, run_with_limit};

/// The system C (or C++) compiler, found the way the `cc` crate finds it.
fn compiler(cpp: bool) -> Command {
    let target = env!("AD_TEST_TARGET");
    cc::Build::new()
        .cpp(cpp)
        .target(target)
        .host(target)
        .opt_level(0)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .get_compiler()
        .to_command()
}

/// Compiles `sources` into an executable named `name` linked against libad.
fn build(name: &str, sources: &[&str], cpp: bool) -> PathBuf {
    build_with(name, sources, cpp, &[])
}

/// `build` with more compiler flags (sanitizers).
fn build_with(name: &str, sources: &[&str], cpp: bool, flags: &[&str]) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let lib = lib_dir();
    let mut cmd = compiler(cpp);
    cmd.args(if cpp { ["-std=c++17"] } else { ["-std=c99"] })
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-g"])
        .args(flags)
        .arg(format!("-I{}", root().join("include").display()))
        .arg(format!("-I{}", root().join("tests/c").display()))
        .arg(format!("-I{}", fuzzed_op_lists().display()));
    for s in sources {
        cmd.arg(root().join(s));
    }
    cmd.arg("-o")
        .arg(&out)
        .arg(format!("-L{}", lib.display()))
        .arg("-lad")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        // An rpath that outranks LD_LIBRARY_PATH, which cargo points at target/debug too: a
        // libad.so left there by an earlier `cargo build` must not stand in for this one.
        .arg("-Wl,--disable-new-dtags")
        .arg("-lm");
    let result = cmd.output().expect("the C compiler runs");
    assert!(
        result.status.success(),
        "compiling {:?} failed:\n{}",
        sources,
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

fn run(program: &Path) -> Output {
    Command::new(program).output().expect("the test program runs")
}

/// The C test programs, each a `main` over check.h's macros.
const C_TESTS: &[&str] = &[
    "tests/c/tutorial.c",
    "tests/c/ops.c",
    "tests/c/errors.c",
    "tests/c/nn.c",
    "tests/c/custom.c",
    "tests/c/memory.c",
    "tests/c/arrange.c",
    "tests/c/hooks.c",
    "tests/c/dtypes.c",
];

fn c_test(source: &str) {
    let name = Path::new(source).file_stem().unwrap().to_str().unwrap();
    let program = build(&format!("c_test_{}", name), &[source], false);
    assert_success(source, &run(&program));
}

#[test]
fn c_tutorial_cells() {
    c_test("tests/c/tutorial.c");
}

#[test]
fn c_ops_forward_values() {
    c_test("tests/c/ops.c");
}

#[test]
fn c_error_paths() {
    c_test("tests/c/errors.c");
}

#[test]
fn c_nn_ops() {
    c_test("tests/c/nn.c");
}

/// A fresh directory for a C program's files, and the folder of NumPy-written checkpoints:
/// the arguments of tests/c/checkpoints.c and tests/c/fuzz_load.c.
fn checkpoint_args(name: &str) -> [String; 2] {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("checkpoint_dirs").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory for the checkpoints");
    [dir.display().to_string(), root().join("tests/fixtures/checkpoints").display().to_string()]
}

#[test]
fn c_checkpoints() {
    let program = build("c_test_checkpoints", &["tests/c/checkpoints.c"], false);
    assert_success("tests/c/checkpoints.c", &Command::new(&program).args(checkpoint_args("c_checkpoints")).output().expect("it runs"));
}

#[test]
fn c_custom_functions() {
    c_test("tests/c/custom.c");
}

#[test]
fn c_gradient_hooks() {
    c_test("tests/c/hooks.c");
}

#[test]
fn c_shared_memory() {
    c_test("tests/c/memory.c");
}

#[test]
fn c_creation_and_shape_ops() {
    c_test("tests/c/arrange.c");
}

#[test]
fn c_integer_and_bool_arrays() {
    c_test("tests/c/dtypes.c");
}

/// `source` (the tutorial in C or C++) prints what MXNet 1.9.1 prints for its tutorial.
fn tutorial_prints_mxnet_output(name: &str, source: &str, cpp: bool) {
    let program = build(name, &[source], cpp);
    let output = run(&program);
    assert_success(source, &output);
    let expected = std::fs::read_to_string(root().join("tests/fixtures/tutorial-expected-output.txt")).unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
}

#[test]
fn example_tutorial_prints_mxnet_output() {
    tutorial_prints_mxnet_output("example_tutorial", "examples/tutorial.c", false);
}

/// The README's C custom function (section "Your own functions, your own memory") compiles
/// warning-free, runs clean under valgrind and prints the gradient its comment says.
#[test]
fn readme_custom_function_in_c_prints_its_gradient() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme.split("## Your own functions, your own memory").nth(1).expect("the README has the section");
    let code = section.split("```c\n").nth(1).and_then(|c| c.split("```").next()).expect("the section has a C block");
    assert!(code.contains("/* 2 4 6 */"));
    let source = Path::new(env!("CARGO_TARGET_TMPDIR")).join("readme_custom.c");
    std::fs::write(&source, code).unwrap();
    let program = build("readme_custom", &[source.to_str().unwrap()], false);
    let output = run(&program);
    assert_success("the README's custom function", &output);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "2 4 6\n");
    memcheck("the README's custom function", &program, &[]);
}

/// The spiral MLP trained from C for a few hundred epochs: the loss falls and the training
/// accuracy passes 97%.
/// examples/mlp.cpp is the same program in C++: it prints the same, to the bit.
#[test]
fn example_mlp_trains_on_spirals() {
    let program = build("example_mlp", &["examples/mlp.c"], false);
    let output = Command::new(&program).arg("300").output().expect("the example runs");
    assert_success("examples/mlp.c", &output);
    let text = String::from_utf8_lossy(&output.stdout);
    let cpp = build("example_mlp_cpp", &["examples/mlp.cpp"], true);
    let cpp_output = Command::new(&cpp).arg("300").output().expect("the example runs");
    assert_success("examples/mlp.cpp", &cpp_output);
    assert_eq!(String::from_utf8_lossy(&cpp_output.stdout), text, "examples/mlp.cpp and examples/mlp.c differ");
    let losses: Vec<f64> = text
        .lines()
        .filter_map(|l| l.split("loss ").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert!(losses.len() >= 2 && losses.last() < losses.first(), "the loss did not fall:\n{}", text);
    let accuracy: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("final training accuracy "))
        .expect("a final accuracy line")
        .trim()
        .parse()
        .unwrap();
    assert!(accuracy >= 0.97, "training accuracy {} is below 0.97:\n{}", accuracy, text);
}

/// ad.h alone, in the oldest C++ it supports (a later -std wins over the harness's C++17).
#[test]
fn header_compiles_and_links_as_cpp() {
    let program = build_with("header_cpp", &["tests/c/header.cpp"], true, &["-std=c++11"]);
    assert_success("tests/c/header.cpp", &run(&program));
}

/// The C++ test programs of include/ad.hpp, each with its own flags: one is built without
/// exceptions, as engines that use AD_NO_EXCEPTIONS are. Each runs with the arguments of
/// tests/c/checkpoints.c (a fresh directory for its files, the folder of NumPy-written
/// checkpoints); those that write no files ignore them.
const CPP_TESTS: &[(&str, &[&str])] = &[
    ("tests/cpp/api.cpp", &[]),
    ("tests/cpp/errors.cpp", &[]),
    ("tests/cpp/no_exceptions.cpp", &["-fno-exceptions"]),
    ("tests/cpp/extend.cpp", &["-pthread"]),
    ("tests/cpp/shapes.cpp", &[]),
];

fn cpp_test(source: &str) {
    let (_, flags) = CPP_TESTS.iter().find(|(s, _)| *s == source).expect("a C++ test of CPP_TESTS");
    let name = Path::new(source).file_stem().unwrap().to_str().unwrap();
    let program = build_with(&format!("cpp_test_{}", name), &[source], true, flags);
    let args = checkpoint_args(&format!("cpp_test_{}", name));
    assert_success(source, &Command::new(&program).args(args).output().expect("the test program runs"));
}

#[test]
fn cpp_api() {
    cpp_test("tests/cpp/api.cpp");
}

#[test]
fn cpp_custom_functions_and_shared_memory() {
    cpp_test("tests/cpp/extend.cpp");
}

#[test]
fn cpp_errors_throw_and_leak_nothing() {
    cpp_test("tests/cpp/errors.cpp");
}

#[test]
fn cpp_without_exceptions() {
    cpp_test("tests/cpp/no_exceptions.cpp");
}

#[test]
fn cpp_shape_ops_and_checkpoints() {
    cpp_test("tests/cpp/shapes.cpp");
}

#[test]
fn example_tutorial_cpp_prints_mxnet_output() {
    tutorial_prints_mxnet_output("example_tutorial_cpp", "examples/tutorial.cpp", true);
}

/// The functions of ad.h that ad.hpp does not wrap, and why.
const CPP_UNWRAPPED: &[(&str, &str)] = &[("ad_array_free_many", "each ad::Array frees its own handle")];

/// Every function of ad.h has its C++ form: ad.hpp calls it by name, or lists it in one of
/// its op lists (`#define AD_HPP_..._OPS(X) X(exp) ...`, wrapped alike). A function added to
/// the C API fails here until ad.hpp has it.
#[test]
fn cpp_header_wraps_every_function() {
    let hpp = std::fs::read_to_string(root().join("include/ad.hpp")).expect("include/ad.hpp is readable");
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut wrapped = std::collections::HashSet::new();
    // Names called directly: every `ad_...` token.
    for (i, _) in hpp.match_indices("ad_") {
        if hpp[..i].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let end = hpp[i..].find(|c: char| !is_ident(c)).map_or(hpp.len(), |n| i + n);
        wrapped.insert(hpp[i..end].to_string());
    }
    // Names in the op lists: the `X(name)` entries of each `#define AD_HPP_*_OPS(X)`.
    let mut lists = 0;
    for (start, _) in hpp.match_indices("#define AD_HPP_") {
        let mut definition = String::new();
        for line in hpp[start..].lines() {
            definition.push_str(line.trim_end_matches('\\'));
            if !line.ends_with('\\') {
                break;
            }
        }
        if !definition.split_whitespace().nth(1).is_some_and(|name| name.ends_with("_OPS(X)")) {
            continue;
        }
        lists += 1;
        for entry in definition.split("X(").skip(1) {
            let name = entry.split(')').next().unwrap_or_default().trim();
            wrapped.insert(format!("ad_{}", name));
        }
    }
    assert!(lists >= 3, "ad.hpp's op lists were not found ({} read)", lists);
    let functions = exported_functions();
    let missing: Vec<&String> = functions
        .iter()
        .filter(|f| !wrapped.contains(f.as_str()) && !CPP_UNWRAPPED.iter().any(|(name, _)| name == f))
        .collect();
    assert!(
        missing.is_empty(),
        "include/ad.hpp has no C++ form of {:?}: add each to an AD_HPP_*_OPS list (an op of that shape) or wrap it",
        missing
    );
    for (name, _) in CPP_UNWRAPPED {
        assert!(functions.contains(&name.to_string()), "CPP_UNWRAPPED names {}, which ad.h does not declare", name);
    }
}

/// Every C program again under memcheck: no invalid access, no use of uninitialised memory,
/// no definite leak. The README's test command installs valgrind.
#[test]
fn c_programs_are_clean_under_valgrind() {
    let check = Command::new("valgrind").arg("--version").output();
    assert!(
        check.map(|o| o.status.success()).unwrap_or(false),
        "valgrind is not installed: the README's test command installs it (apt-get install valgrind)"
    );
    // (source, arguments): the MLP trains for a few epochs only, memcheck is slow.
    // The fuzzer's calls too (a seed of its own, 20,000 calls): memcheck sees the library's
    // side, which the sanitizer build does not instrument.
    let null_arguments = null_arguments_source();
    let integer_arguments = integer_arguments_source();
    let checkpoints = checkpoint_args("valgrind_checkpoints");
    let checkpoints: Vec<&str> = checkpoints.iter().map(String::as_str).collect();
    let fuzz_load = checkpoint_args("valgrind_fuzz_load");
    let fuzz_load: Vec<&str> = ["101", "600", "300"].into_iter().chain(fuzz_load.iter().map(String::as_str)).collect();
    let runs: Vec<(&str, &[&str])> = C_TESTS
        .iter()
        .map(|s| (*s, &[][..]))
        .chain([
            ("examples/tutorial.c", &[][..]),
            ("examples/mlp.c", &["3"][..]),
            ("tests/c/checkpoints.c", &checkpoints[..]),
            ("tests/c/fuzz_load.c", &fuzz_load[..]),
            ("tests/c/fuzz_calls.c", &["101", "600", "20000"][..]),
            (null_arguments.to_str().expect("a UTF-8 path"), &[][..]),
            (integer_arguments.to_str().expect("a UTF-8 path"), &[][..]),
        ])
        .collect();
    for (source, args) in runs {
        let name = Path::new(source).file_stem().unwrap().to_str().unwrap();
        let program = build(&format!("valgrind_{}", name), &[source], false);
        memcheck(source, &program, args);
    }
}

/// `program` (built from `source`) under memcheck, which must find nothing.
fn memcheck(source: &str, program: &Path, args: &[&str]) {
    let output = Command::new("valgrind")
        .args([
            "--tool=memcheck",
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite",
        ])
        .arg(program)
        .args(args)
        .output()
        .expect("valgrind runs");
    assert_success(&format!("{} under valgrind", source), &output);
}

/// The C++ programs under memcheck, as the C ones. (A handle an ad::Array failed to free
/// would still be reachable from the library's table: errors.cpp counts handles for that.)
#[test]
fn cpp_programs_are_clean_under_valgrind() {
    let check = Command::new("valgrind").arg("--version").output();
    assert!(
        check.map(|o| o.status.success()).unwrap_or(false),
        "valgrind is not installed: the README's test command installs it (apt-get install valgrind)"
    );
    let tests: Vec<(&str, &[&str], [String; 2])> = CPP_TESTS
        .iter()
        .map(|(s, flags)| {
            let name = Path::new(s).file_stem().unwrap().to_str().unwrap();
            (*s, *flags, checkpoint_args(&format!("valgrind_cpp_{}", name)))
        })
        .collect();
    let runs = tests
        .iter()
        .map(|(s, flags, args)| (*s, *flags, args.iter().map(String::as_str).collect::<Vec<_>>()))
        .chain([("examples/tutorial.cpp", &[][..], vec![]), ("examples/mlp.cpp", &[][..], vec!["3"])]);
    for (source, flags, args) in runs {
        let name = Path::new(source).file_stem().unwrap().to_str().unwrap();
        let program = build_with(&format!("valgrind_cpp_{}", name), &[source], true, flags);
        memcheck(source, &program, &args);
    }
}

/// One case of tests/c/limits.c in a process of its own, within a time limit: it must
/// finish, pass its checks, and leave stderr empty (the library prints nothing).
fn limits_case(case: &str) {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    let program = PROGRAM.get_or_init(|| build("c_limits", &["tests/c/limits.c"], false));
    let mut command = Command::new(program);
    command.arg(case);
    let output = run_with_limit(command, Duration::from_secs(60));
    assert_success(&format!("tests/c/limits.c {}", case), &output);
    assert!(
        output.stderr.is_empty(),
        "case {}: something printed on stderr:\n{}",
        case,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A reduction whose result cannot be allocated ((0, 2^40) summed over axis 0), and every op
/// under an address-space limit too small for a copy of its input: AD_ERR_ALLOC, no abort;
/// reading and the arg-extrema make no copy at all.
#[test]
fn limits_failed_allocations_are_errors() {
    limits_case("alloc");
    limits_case("address_space");
}

/// Reductions, softmax, transpose, arg-extrema, pick, concat and backward on (2^40, 0)
/// arrays: done at once (they walked 2^40 empty lanes, for hours).
#[test]
fn limits_ops_on_empty_arrays_cost_their_output() {
    limits_case("empty");
}

/// Empty shapes with absurd dimensions, slice bounds and axes at the ends of int64, lengths
/// that add up past 2^64: shape and index errors that say what was wrong, never an
/// internal error.
#[test]
fn limits_hostile_shapes_are_shape_errors() {
    limits_case("hostile");
}

/// No array has more than AD_MAX_NDIM axes, however it would be made; the deepest prints.
#[test]
fn limits_axes_are_at_most_max_ndim() {
    limits_case("axes");
}

/// The cache of freed buffers gives its memory back on request, and by itself once the
/// program stops reusing them.
#[test]
fn limits_cached_memory_is_returned() {
    limits_case("memory");
}

/// The functions include/ad.h declares.
/// The directory of `fuzz_ops.h`, written once per run: the header's ops of each shape the
/// fuzzer calls alike, as `OP(name),` lists, so that a new op is fuzzed without an edit to the
/// fuzzer.
fn fuzzed_op_lists() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(write_fuzzed_op_lists)
}

fn write_fuzzed_op_lists() -> PathBuf {
    let shapes: [(&str, &[&str]); 4] = [
        ("UNARY_OPS", &["const ad_array *", "ad_array * *"]),
        ("BINARY_OPS", &["const ad_array *", "const ad_array *", "ad_array * *"]),
        ("SCALAR_OPS", &["const ad_array *", "double", "ad_array * *"]),
        ("REDUCE_OPS", &["const ad_array *", "const int64_t *", "size_t", "bool", "ad_array * *"]),
    ];
    let functions = c_header::functions();
    let mut text = String::from("/* The ops of include/ad.h by shape, made by tests/c_api.rs for fuzz_calls.c. */\n");
    for (list, params) in shapes {
        // Ops only: the ad_array_* functions of these shapes are fuzzed by name.
        let ops: Vec<String> = functions
            .iter()
            .filter(|f| f.returns == "ad_status" && !f.name.starts_with("ad_array_"))
            .filter(|f| f.params.iter().map(|p| p.ty.as_str()).eq(params.iter().copied()))
            .map(|f| format!("OP({})", f.name))
            .collect();
        assert!(!ops.is_empty(), "no function of ad.h has the shape of {}", list);
        text.push_str(&format!("#define {} {}\n", list, ops.join(", ")));
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz_calls_generated");
    std::fs::create_dir_all(&dir).expect("a directory for the generated header");
    std::fs::write(dir.join("fuzz_ops.h"), text).expect("fuzz_ops.h is writable");
    dir
}

fn exported_functions() -> Vec<String> {
    c_header::functions().into_iter().map(|f| f.name).collect()
}

/// What AddressSanitizer says when it refuses an allocation (the library asks for terabytes
/// in places and must get an error back, which the fuzzer's build lets ASan give).
fn asan_refusal(line: &str) -> bool {
    line.starts_with("==") && line.contains("WARNING: AddressSanitizer failed to allocate")
}

/// The call-sequence fuzzer (tests/c/fuzz_calls.c), built with AddressSanitizer and
/// UndefinedBehaviorSanitizer: each seed's random calls keep every status invariant, nothing
/// else reaches stderr, and every function of the header is called. Seeds 1, 2 and 3 for
/// 8 s each by default; `AD_FUZZ_SEEDS` (a comma-separated list) and `AD_FUZZ_SECONDS` (per
/// seed) make a campaign of any length (see the README).
#[test]
fn fuzz_calls_keep_the_c_api_invariants() {
    let program = build_with(
        "fuzz_calls_sanitized",
        &["tests/c/fuzz_calls.c"],
        false,
        &["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"],
    );
    let seeds: Vec<u64> = std::env::var("AD_FUZZ_SEEDS")
        .map(|s| s.split(',').map(|x| x.trim().parse().expect("AD_FUZZ_SEEDS holds numbers")).collect())
        .unwrap_or_else(|_| vec![1, 2, 3]);
    let seconds: f64 =
        std::env::var("AD_FUZZ_SECONDS").map(|s| s.parse().expect("AD_FUZZ_SECONDS is a number")).unwrap_or(8.0);
    let exported = exported_functions();
    assert!(exported.len() > 90, "only {} functions found in include/ad.h", exported.len());
    for seed in seeds {
        let mut command = Command::new(&program);
        command.args([seed.to_string(), seconds.to_string()]);
        let output = run_with_limit(command, Duration::from_secs_f64(seconds * 2.0 + 120.0));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let foreign: Vec<&str> = stderr.lines().filter(|l| !asan_refusal(l)).collect();
        assert!(
            output.status.success() && foreign.is_empty(),
            "fuzz_calls seed {} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            seed,
            output.status,
            stdout,
            foreign.join("\n")
        );
        let summary = stdout.lines().next().unwrap_or_default();
        eprintln!("{}", summary);
        let exercised: std::collections::HashSet<&str> =
            stdout.lines().find_map(|l| l.strip_prefix("exercised:")).unwrap_or_default().split_whitespace().collect();
        let missing: Vec<&String> = exported.iter().filter(|f| !exercised.contains(f.as_str())).collect();
        assert!(missing.is_empty(), "seed {}: the fuzzer never called {:?}: add them to tests/c/fuzz_calls.c", seed, missing);
    }
}

/// The checkpoint loader through the C API (tests/c/fuzz_load.c), built with AddressSanitizer
/// and UndefinedBehaviorSanitizer: mutated files, each loaded, checked and freed, with
/// nothing else on stderr. Seed 1 for 5 s by default; `AD_FUZZ_SEEDS` and `AD_FUZZ_SECONDS`
/// make a campaign, as for the call fuzzer.
#[test]
fn fuzz_load_keeps_the_c_api_invariants() {
    let program = build_with(
        "fuzz_load_sanitized",
        &["tests/c/fuzz_load.c"],
        false,
        &["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"],
    );
    let seeds: Vec<u64> = std::env::var("AD_FUZZ_SEEDS")
        .map(|s| s.split(',').map(|x| x.trim().parse().expect("AD_FUZZ_SEEDS holds numbers")).collect())
        .unwrap_or_else(|_| vec![1]);
    let seconds: f64 = std::env::var("AD_FUZZ_SECONDS").map(|s| s.parse().expect("AD_FUZZ_SECONDS is a number")).unwrap_or(5.0);
    for seed in seeds {
        let mut command = Command::new(&program);
        command.args([seed.to_string(), seconds.to_string(), "0".to_string()]).args(checkpoint_args(&format!("fuzz_load_{}", seed)));
        let output = run_with_limit(command, Duration::from_secs_f64(seconds * 2.0 + 120.0));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let foreign: Vec<&str> = stderr.lines().filter(|l| !asan_refusal(l)).collect();
        assert!(
            output.status.success() && foreign.is_empty(),
            "fuzz_load seed {} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            seed,
            output.status,
            stdout,
            foreign.join("\n")
        );
        eprintln!("{}", stdout.trim_end());
    }
}

/// The pointer parameters that a function takes as NULL on purpose, as its comment in ad.h
/// says. Every other pointer parameter of every function, passed as NULL, must be refused.
const NULL_ALLOWED: &[(&str, &str)] = &[
    ("ad_release_cached_memory", "released"),
    ("ad_array_free", "array"),
    ("ad_array_to_string", "length"),
    ("ad_set_recording", "previous"),
    ("ad_set_training", "previous"),
    ("ad_backward", "head_grad"),
    ("ad_backward_ex", "head_grads"),
    ("ad_grad", "head_grads"),
    ("ad_argmax", "axis"),
    ("ad_argmin", "axis"),
    ("ad_cumsum", "axis"),
    ("ad_sort", "axis"),
    ("ad_argsort", "axis"),
    ("ad_topk", "axis"),
    ("ad_fully_connected", "bias"),
    ("ad_function_new", "user_data"),
    ("ad_array_set_grad_hook", "user_data"),
    ("ad_function_free", "function"),
    ("ad_borrow_release", "borrow"),
    ("ad_array_wrap", "context"),
    ("ad_array_from_dlpack", "copied"),
    ("ad_array_from_dlpack_legacy", "copied"),
    ("ad_repeat", "axis"),
    ("ad_reshape_like", "lhs_begin"),
    ("ad_reshape_like", "lhs_end"),
    ("ad_reshape_like", "rhs_begin"),
    ("ad_reshape_like", "rhs_end"),
    ("ad_save", "names"),
    ("ad_checkpoint_free", "checkpoint"),
    ("ad_set_cpu_level", "ceiling"),
    ("ad_sample_multinomial", "log_prob"),
];

/// The C expression that a NULL-argument case passes for a parameter it does not make NULL:
/// a live array, lists of one, buffers the program checks for writes. Counts are 1 (the
/// array `A` has one element), so that a NULL buffer of that count is an error; a capacity
/// is the buffers' size.
fn valid_argument(param: &c_header::Param) -> &'static str {
    match (param.ty.as_str(), param.name.as_str()) {
        ("const ad_array *" | "ad_array *", _) => "A",
        ("ad_array * *", _) => "out_list",
        ("const ad_array * const *", _) => "in_list",
        ("ad_array * const *", _) => "own_list",
        ("const size_t *", _) => "sizes_in",
        ("const int64_t *", _) => "ints_in",
        ("const void *", _) => "floats_in",
        ("const ad_index *", _) => "index_in",
        ("size_t *", _) => "sizes_out",
        ("uint32_t *", _) => "u32_out",
        ("double *", _) => "double_out",
        ("bool *", _) => "bool_out",
        ("void *", _) => "floats_out",
        ("char *", _) => "chars_out",
        ("const char *", "path") => "path_in",
        ("const char *", _) => "\"name\"",
        ("const ad_function_callbacks *", _) => "callbacks_in",
        ("ad_function * *", _) => "function_out",
        ("const ad_function *" | "ad_function *", _) => "F",
        ("ad_function_context *", _) => "CTX",
        ("void * *", _) => "data_out",
        ("ad_borrow * *", _) => "borrow_out",
        ("ad_release_fn" | "ad_grad_hook" | "ad_destroy_fn", _) => "NULL",
        ("DLManagedTensorVersioned * *", _) => "tensor_out",
        ("DLManagedTensor * *", _) => "legacy_out",
        ("DLManagedTensorVersioned *", _) => "&tensor_in",
        ("DLManagedTensor *", _) => "&legacy_in",
        ("const char * const *", _) => "names_in",
        ("ad_checkpoint * *", _) => "&checkpoint_out",
        ("size_t", "capacity") => "BUFFER_SIZE",
        ("size_t", _) => "1",
        ("uint32_t" | "int64_t" | "uint64_t", _) => "0",
        ("double", _) => "0.5",
        ("bool", _) => "false",
        (ty, name) => panic!(
            "the NULL-argument test does not know how to pass `{} {}`: add its type to valid_argument in tests/c_api.rs",
            ty, name
        ),
    }
}

/// A C program, generated from ad.h's prototypes, that calls every function once for each
/// of its pointer parameters with that parameter NULL and the others valid: the call must
/// fail with AD_ERR_NULL_ARGUMENT, naming the function and the parameter, and write nothing
/// through the other out-parameters; or, for the parameters of NULL_ALLOWED, must not fail
/// for the NULL. A new function's parameters are in it without anyone adding them.
fn null_arguments_source() -> PathBuf {
    static SOURCE: OnceLock<PathBuf> = OnceLock::new();
    SOURCE
        .get_or_init(|| {
            let functions = c_header::functions();
            for (f, p) in NULL_ALLOWED {
                assert!(
                    functions.iter().any(|g| g.name == *f && g.params.iter().any(|q| q.name == *p && q.is_pointer())),
                    "NULL_ALLOWED names {}'s `{}`, which ad.h does not declare as a pointer parameter",
                    f,
                    p
                );
            }
            let mut cases = String::new();
            let mut count = 0;
            for f in functions.iter().filter(|f| f.params.iter().any(c_header::Param::is_pointer)) {
                assert_eq!(f.returns, "ad_status", "{} takes a pointer but returns no status", f.name);
                for (i, p) in f.params.iter().enumerate().filter(|(_, p)| p.is_pointer()) {
                    let args: Vec<&str> =
                        f.params.iter().enumerate().map(|(j, q)| if i == j { "NULL" } else { valid_argument(q) }).collect();
                    let allowed = NULL_ALLOWED.contains(&(f.name.as_str(), p.name.as_str()));
                    cases.push_str(&format!(
                        "    reset();\n    expect(\"{f}\", \"{p}\", {allowed}, {f}({args}));\n",
                        f = f.name,
                        p = p.name,
                        allowed = allowed as u8,
                        args = args.join(", ")
                    ));
                    count += 1;
                }
            }
            assert!(count > 150, "only {} pointer parameters found in ad.h", count);
            let program = format!("{}{}{}", NULL_ARGUMENTS_HEAD, cases, NULL_ARGUMENTS_TAIL);
            let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("null_arguments.c");
            std::fs::write(&path, program).expect("the generated test is writable");
            path
        })
        .clone()
}

const NULL_ARGUMENTS_HEAD: &str = r#"/* Generated by tests/c_api.rs from include/ad.h: every pointer parameter, NULL. */
#include <stdint.h>

#include "check.h"

#define BUFFER_SIZE 256
#define SENTINEL ((ad_array *)(uintptr_t)0x5e5e5e50)

static ad_array *A = NULL;
static ad_array *out_list[1];
static const ad_array *in_list[1];
static ad_array *own_list[1];
static const size_t sizes_in[1] = {1};
static const int64_t ints_in[1] = {0};
static const float floats_in[1] = {0};
static const ad_index index_in[1] = {{0, 1, 1}};
static size_t sizes_out[BUFFER_SIZE];
static uint32_t u32_out[1];
static double double_out[1];
static bool bool_out[1];
static float floats_out[BUFFER_SIZE];
static char chars_out[BUFFER_SIZE];
static ad_function *F = NULL;
static ad_function *function_out[1];
#define FUNCTION_SENTINEL ((ad_function *)(uintptr_t)0x5e5e5e50)
static void *data_out[1];
static ad_borrow *borrow_out[1];
#define DATA_SENTINEL ((void *)(uintptr_t)0x5e5e5e50)
#define BORROW_SENTINEL ((ad_borrow *)(uintptr_t)0x5e5e5e50)
/* Tensors to import: one float of static memory, no deleter (an import shares it). */
static int64_t tensor_shape[1] = {1};
static DLManagedTensorVersioned tensor_in = {{1, 1}, NULL, NULL, 0, {floats_out, {kDLCPU, 0}, 1, {kDLFloat, 32, 1}, tensor_shape, NULL, 0}};
static DLManagedTensor legacy_in = {{floats_out, {kDLCPU, 0}, 1, {kDLFloat, 32, 1}, tensor_shape, NULL, 0}, NULL, NULL};
static DLManagedTensorVersioned *tensor_out[1];
static DLManagedTensor *legacy_out[1];
#define TENSOR_SENTINEL ((DLManagedTensorVersioned *)(uintptr_t)0x5e5e5e50)
#define LEGACY_SENTINEL ((DLManagedTensor *)(uintptr_t)0x5e5e5e50)
/* No callback runs while these calls are made: not the context of one. */
#define CTX ((ad_function_context *)(uintptr_t)0x7)

/* A forward (and backward) that passes its first array through. */
static ad_status pass(void *user_data, ad_function_context *ctx, const ad_array *const *arrays, size_t n_arrays,
                      ad_array **results, size_t n_results) {
    (void)user_data, (void)ctx, (void)n_arrays, (void)n_results;
    return ad_array_copy(arrays[0], &results[0]);
}
static const ad_function_callbacks callbacks_in[1] = {{AD_FUNCTION_CALLBACKS_VERSION, pass, pass, NULL}};
/* In a folder that does not exist: a save that is allowed to run writes nothing. */
static const char path_in[] = "no-such-folder/null_arguments.npz";
static const char *const names_in[1] = {"a"};
static ad_checkpoint *checkpoint_out;

/* Every buffer back to its sentinel, the lists to their one entry. */
static void reset(void) {
    out_list[0] = SENTINEL;
    in_list[0] = A;
    own_list[0] = NULL; /* ad_array_free_many skips it: nothing is freed by mistake */
    for (size_t i = 0; i < BUFFER_SIZE; i++) {
        sizes_out[i] = 12345;
        floats_out[i] = -7;
        chars_out[i] = 'x';
    }
    function_out[0] = FUNCTION_SENTINEL;
    data_out[0] = DATA_SENTINEL;
    borrow_out[0] = BORROW_SENTINEL;
    tensor_out[0] = TENSOR_SENTINEL;
    legacy_out[0] = LEGACY_SENTINEL;
    u32_out[0] = 99;
    checkpoint_out = (ad_checkpoint *)SENTINEL;
    double_out[0] = -7;
    bool_out[0] = true;
}

static int untouched(void) {
    int same = out_list[0] == SENTINEL && function_out[0] == FUNCTION_SENTINEL && data_out[0] == DATA_SENTINEL &&
               borrow_out[0] == BORROW_SENTINEL && tensor_out[0] == TENSOR_SENTINEL && legacy_out[0] == LEGACY_SENTINEL &&
               u32_out[0] == 99 && double_out[0] == -7 && bool_out[0] &&
               checkpoint_out == (ad_checkpoint *)SENTINEL;
    for (size_t i = 0; i < BUFFER_SIZE; i++) {
        same = same && sizes_out[i] == 12345 && floats_out[i] == -7 && chars_out[i] == 'x';
    }
    return same;
}

/* `status` is what `fn` returned with `param` NULL. */
static void expect(const char *fn, const char *param, int allowed, ad_status status) {
    int before = check_failures;
    if (allowed) {
        CHECK(status != AD_ERR_NULL_ARGUMENT && status != AD_ERR_PANIC);
    } else {
        char needle[128];
        snprintf(needle, sizeof needle, "`%s`", param);
        CHECK(status == AD_ERR_NULL_ARGUMENT);
        MESSAGE_HAS(fn);
        MESSAGE_HAS(needle);
        CHECK(untouched());
    }
    if (check_failures != before) {
        fprintf(stderr, "  (%s with `%s` NULL: %s, \"%s\")\n", fn, param, ad_status_name((uint32_t)status),
                ad_last_error());
    }
    /* A handle made anyway (allowed, or a failed check) is freed, so memcheck sees no leak. */
    if (out_list[0] != SENTINEL && out_list[0] != NULL) OK(ad_array_free(out_list[0]));
    if (function_out[0] != FUNCTION_SENTINEL && function_out[0] != NULL) OK(ad_function_free(function_out[0]));
    if (borrow_out[0] != BORROW_SENTINEL && borrow_out[0] != NULL) OK(ad_borrow_release(borrow_out[0]));
    if (tensor_out[0] != TENSOR_SENTINEL && tensor_out[0] != NULL) tensor_out[0]->deleter(tensor_out[0]);
    if (legacy_out[0] != LEGACY_SENTINEL && legacy_out[0] != NULL) legacy_out[0]->deleter(legacy_out[0]);
}

int main(void) {
    const size_t shape[1] = {1};
    OK(ad_array_ones(shape, 1, AD_FLOAT32, &A));
    OK(ad_function_new("pass", callbacks_in, NULL, &F));
"#;

const NULL_ARGUMENTS_TAIL: &str = r#"    VALUES_ARE(A, 0, 1); /* no call wrote into the array it was given */
    OK(ad_array_free(A));
    OK(ad_function_free(F));
    CHECK(!ad_is_recording() && !ad_is_training());
    return CHECK_RESULT();
}
"#;

/// Every pointer parameter of every function of ad.h, passed as NULL (the program above).
#[test]
fn c_null_arguments_of_every_function() {
    let source = null_arguments_source();
    let program = build("c_null_arguments", &[source.to_str().expect("a UTF-8 path")], false);
    assert_success("the generated NULL-argument test", &run(&program));
}

/// A C program, generated from ad.h's prototypes, that calls every function with an array
/// parameter once for each of them, with an int32 array there and the arguments of the
/// NULL-argument test elsewhere: a parameter that takes every dtype
/// (`ad::ffi::accepts_any_dtype`) must not fail for it with `AD_ERR_DTYPE` or a panic; any
/// other must refuse it with `AD_ERR_DTYPE`, naming the function, the parameter and int32. A
/// new function is in it without anyone adding it, refused until it says otherwise.
fn integer_arguments_source() -> PathBuf {
    static SOURCE: OnceLock<PathBuf> = OnceLock::new();
    SOURCE
        .get_or_init(|| {
            let functions = c_header::functions();
            let mut cases = String::new();
            let (mut refused, mut taken) = (0, 0);
            let is_array = |p: &c_header::Param| p.ty == "const ad_array *" || p.ty == "const ad_array * const *";
            for f in functions.iter() {
                for (i, p) in f.params.iter().enumerate().filter(|(_, p)| is_array(p)) {
                    let any = ad::ffi::accepts_any_dtype(&f.name, &p.name);
                    // Where the parameter takes every dtype, so do the others that take it: an
                    // op of two arrays refuses a mix of dtypes, as MXNet does.
                    let int_here = |j: usize, q: &c_header::Param| i == j || (any && is_array(q) && ad::ffi::accepts_any_dtype(&f.name, &q.name));
                    let args: Vec<&str> = f
                        .params
                        .iter()
                        .enumerate()
                        .map(|(j, q)| match (int_here(j, q), q.ty.as_str()) {
                            (true, "const ad_array *") => "X",
                            (true, _) => "x_list",
                            (false, _) => valid_argument(q),
                        })
                        .collect();
                    if any { taken += 1 } else { refused += 1 }
                    cases.push_str(&format!(
                        "    reset();\n    expect_dtype(\"{f}\", \"{p}\", {any}, {f}({args}));\n",
                        f = f.name,
                        p = p.name,
                        any = any as u8,
                        args = args.join(", ")
                    ));
                }
            }
            assert!(refused > 100 && taken > 30, "only {} refused and {} taken array parameters in ad.h", refused, taken);
            let program = dtype_arguments_program("int32", "int32_t", "AD_INT32", &cases);
            let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("integer_arguments.c");
            std::fs::write(&path, program).expect("the generated test is writable");
            path
        })
        .clone()
}

/// The program that gives an array of `dtype` (a one-element array of C type `c_type` made
/// with the code `code`, named `X`, and the list `x_list` holding it) to the calls `cases`,
/// each checked by `expect_dtype`: where the function takes that dtype there, it must not fail
/// with `AD_ERR_DTYPE` or a panic; elsewhere it fails with `AD_ERR_DTYPE`, naming the
/// function, the parameter and the dtype, and writes nothing.
fn dtype_arguments_program(dtype: &str, c_type: &str, code: &str, cases: &str) -> String {
    let prelude = NULL_ARGUMENTS_HEAD.split("/* `status` is what").next().expect("the NULL-argument prelude");
    let main = DTYPE_ARGUMENTS_MAIN.replace("{DTYPE}", dtype).replace("{C_TYPE}", c_type).replace("{CODE}", code);
    format!("{}{}{}{}", prelude, main, cases, DTYPE_ARGUMENTS_TAIL)
}

const DTYPE_ARGUMENTS_MAIN: &str = r#"static ad_array *X = NULL;
static const ad_array *x_list[1];

/* `status` is what `fn` returned with a {DTYPE} array as `param`. */
static void expect_dtype(const char *fn, const char *param, int taken, ad_status status) {
    int before = check_failures;
    if (taken) {
        CHECK(status != AD_ERR_DTYPE && status != AD_ERR_PANIC);
    } else {
        char needle[128];
        snprintf(needle, sizeof needle, "`%s", param);
        CHECK(status == AD_ERR_DTYPE);
        MESSAGE_HAS(fn);
        MESSAGE_HAS(needle);
        MESSAGE_HAS("{DTYPE}");
        MESSAGE_HAS("astype");
        CHECK(untouched());
    }
    if (check_failures != before) {
        fprintf(stderr, "  (%s with a {DTYPE} `%s`: %s, \"%s\")\n", fn, param, ad_status_name((uint32_t)status),
                ad_last_error());
    }
    if (out_list[0] != SENTINEL && out_list[0] != NULL) OK(ad_array_free(out_list[0]));
    if (function_out[0] != FUNCTION_SENTINEL && function_out[0] != NULL) OK(ad_function_free(function_out[0]));
    if (borrow_out[0] != BORROW_SENTINEL && borrow_out[0] != NULL) OK(ad_borrow_release(borrow_out[0]));
    if (tensor_out[0] != TENSOR_SENTINEL && tensor_out[0] != NULL) tensor_out[0]->deleter(tensor_out[0]);
    if (legacy_out[0] != LEGACY_SENTINEL && legacy_out[0] != NULL) legacy_out[0]->deleter(legacy_out[0]);
    if (checkpoint_out != (ad_checkpoint *)SENTINEL && checkpoint_out != NULL) OK(ad_checkpoint_free(checkpoint_out));
}

int main(void) {
    const size_t shape[1] = {1};
    const {C_TYPE} zero[1] = {0};
    OK(ad_array_ones(shape, 1, AD_FLOAT32, &A));
    OK(ad_array_create(zero, shape, 1, {CODE}, &X));
    x_list[0] = X;
    OK(ad_function_new("pass", callbacks_in, NULL, &F));
"#;

/// (A is written by the writes that take a source of another dtype, converted.)
const DTYPE_ARGUMENTS_TAIL: &str = r#"    (void)floats_in, (void)tensor_in, (void)legacy_in, (void)array_text, (void)values_near;
    OK(ad_array_free(X));
    OK(ad_array_free(A));
    OK(ad_function_free(F));
    CHECK(!ad_is_recording() && !ad_is_training());
    return CHECK_RESULT();
}
"#;

/// Every array parameter of every function of ad.h, given an int32 array (the program above).
#[test]
fn c_integer_arguments_of_every_function() {
    let source = integer_arguments_source();
    let program = build("c_integer_arguments", &[source.to_str().expect("a UTF-8 path")], false);
    assert_success("the generated integer-argument test", &run(&program));
}

/// The float16 sibling of the program above: every array parameter of every function given a
/// float16 array (`ad::ffi::float16_rule`). Where the function refuses float16 there it fails
/// with `AD_ERR_DTYPE`, naming the function, the parameter and float16, and writes nothing;
/// everywhere else (moved as it is, or computed on in float32) it must not fail with
/// `AD_ERR_DTYPE` or a panic. The parameters of the same rule get float16 arrays together.
fn float16_arguments_source() -> PathBuf {
    use ad::ffi::{float16_rule, Float16};
    static SOURCE: OnceLock<PathBuf> = OnceLock::new();
    SOURCE
        .get_or_init(|| {
            let functions = c_header::functions();
            let mut cases = String::new();
            let (mut refused, mut taken) = (0, 0);
            let is_array = |p: &c_header::Param| p.ty == "const ad_array *" || p.ty == "const ad_array * const *";
            for f in functions.iter() {
                for (i, p) in f.params.iter().enumerate().filter(|(_, p)| is_array(p)) {
                    let rule = float16_rule(&f.name, &p.name);
                    let half_here = |j: usize, q: &c_header::Param| {
                        // (with the array a mutable parameter names: attach_grad_with's)
                        let array_here = is_array(q) || q.ty == "ad_array *";
                        i == j || (rule != Float16::Refused && array_here && float16_rule(&f.name, &q.name) == rule)
                    };
                    let args: Vec<&str> = f
                        .params
                        .iter()
                        .enumerate()
                        .map(|(j, q)| match (half_here(j, q), q.ty.as_str()) {
                            (true, "const ad_array *" | "ad_array *") => "X",
                            (true, _) => "x_list",
                            (false, _) => valid_argument(q),
                        })
                        .collect();
                    let taken_here = rule != Float16::Refused;
                    if taken_here { taken += 1 } else { refused += 1 }
                    cases.push_str(&format!(
                        "    reset();\n    expect_dtype(\"{f}\", \"{p}\", {any}, {f}({args}));\n",
                        f = f.name,
                        p = p.name,
                        any = taken_here as u8,
                        args = args.join(", ")
                    ));
                }
            }
            assert!(refused >= 10 && taken > 150, "only {} refused and {} taken array parameters in ad.h", refused, taken);
            let program = dtype_arguments_program("float16", "uint16_t", "AD_FLOAT16", &cases);
            let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("float16_arguments.c");
            std::fs::write(&path, program).expect("the generated test is writable");
            path
        })
        .clone()
}

/// Every array parameter of every function of ad.h, given a float16 array (the program above).
#[test]
fn c_float16_arguments_of_every_function() {
    let source = float16_arguments_source();
    let program = build("c_float16_arguments", &[source.to_str().expect("a UTF-8 path")], false);
    assert_success("the generated float16-argument test", &run(&program));
}
