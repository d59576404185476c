//! The C harness: compiles the C programs under `tests/c` and `examples` against
//! `include/ad.h` and the shared library that `cargo test` built, runs them, and checks
//! their results; then runs them again under valgrind's memcheck.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where cargo put `libad.so` for this test run: the test binary's own directory.
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    exe.parent().expect("the test binary is in a directory").to_path_buf()
}

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
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let lib = lib_dir();
    let mut cmd = compiler(cpp);
    cmd.args(if cpp { ["-std=c++11"] } else { ["-std=c99"] })
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-g"])
        .arg(format!("-I{}", root().join("include").display()))
        .arg(format!("-I{}", root().join("tests/c").display()));
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

fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        what,
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The C test programs, each a `main` over check.h's macros.
const C_TESTS: &[&str] = &["tests/c/tutorial.c", "tests/c/ops.c", "tests/c/errors.c", "tests/c/nn.c"];

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

#[test]
fn example_tutorial_prints_mxnet_output() {
    let program = build("example_tutorial", &["examples/tutorial.c"], false);
    let output = run(&program);
    assert_success("examples/tutorial.c", &output);
    let expected = std::fs::read_to_string(root().join("tests/fixtures/tutorial-expected-output.txt")).unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
}

/// The spiral MLP trained from C for a few hundred epochs: the loss falls and the training
/// accuracy passes 97%.
#[test]
fn example_mlp_trains_on_spirals() {
    let program = build("example_mlp", &["examples/mlp.c"], false);
    let output = Command::new(&program).arg("300").output().expect("the example runs");
    assert_success("examples/mlp.c", &output);
    let text = String::from_utf8_lossy(&output.stdout);
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

#[test]
fn header_compiles_and_links_as_cpp() {
    let program = build("header_cpp", &["tests/c/header.cpp"], true);
    assert_success("tests/c/header.cpp", &run(&program));
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
    let runs: Vec<(&str, &[&str])> =
        C_TESTS.iter().map(|s| (*s, &[][..])).chain([("examples/tutorial.c", &[][..]), ("examples/mlp.c", &["3"][..])]).collect();
    for (source, args) in runs {
        let name = Path::new(source).file_stem().unwrap().to_str().unwrap();
        let program = build(&format!("valgrind_{}", name), &[source], false);
        let output = Command::new("valgrind")
            .args([
                "--tool=memcheck",
                "--error-exitcode=99",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
                "--show-leak-kinds=definite",
            ])
            .arg(&program)
            .args(args)
            .output()
            .expect("valgrind runs");
        assert_success(&format!("{} under valgrind", source), &output);
    }
}
