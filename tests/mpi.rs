//! Data-parallel training over MPI: `examples/mlp_mpi.c` built with the system's `mpicc`
//! against the library cargo built, and run under `mpirun -np 2`. The README's test command
//! installs OpenMPI (Debian's openmpi-bin and libopenmpi-dev) when it is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use ad::io;

mod harness;

use harness::{assert_success, lib_dir, root, run_with_limit};

fn installed(program: &str) -> bool {
    Command::new(program).arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
}

/// The example, compiled once per test binary run by whichever test gets there first.
fn example() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            assert!(
                installed("mpicc") && installed("mpirun"),
                "OpenMPI is not installed: the README's test command installs it \
                 (apt-get install openmpi-bin libopenmpi-dev)"
            );
            let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mlp_mpi");
            let lib = lib_dir();
            let result = Command::new("mpicc")
                .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2"])
                .arg(format!("-I{}", root().join("include").display()))
                .arg(root().join("examples/mlp_mpi.c"))
                .arg("-o")
                .arg(&out)
                .arg(format!("-L{}", lib.display()))
                .args(["-lad", "-lm"])
                .arg(format!("-Wl,-rpath,{}", lib.display()))
                // An rpath that outranks LD_LIBRARY_PATH (see tests/c_api.rs).
                .arg("-Wl,--disable-new-dtags")
                .output()
                .expect("mpicc runs");
            assert!(result.status.success(), "mpicc failed:\n{}", String::from_utf8_lossy(&result.stderr));
            out
        })
        .clone()
}

/// `mpirun -np RANKS example ARGS`, killed after `limit`: a job that hangs fails the test.
fn mpirun(ranks: usize, args: &[&str], limit: Duration) -> Output {
    let mut command = Command::new("mpirun");
    command
        .args(["-np", &ranks.to_string(), "--oversubscribe"])
        .arg(example())
        .args(args)
        .env("AD_NUM_THREADS", "1")
        // OpenMPI refuses to start as root (containers, CI) unless told that is intended.
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        // Shared memory without cross-memory attach, which containers often forbid.
        .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
    run_with_limit(command, limit)
}

/// The six weights a rank saved, by name, as float32 values.
fn weights(prefix: &Path, rank: usize) -> Vec<(String, Vec<f32>)> {
    let path = PathBuf::from(format!("{}-rank{}.npz", prefix.display(), rank));
    let checkpoint = io::load(&path).unwrap_or_else(|e| panic!("{} cannot be loaded: {}", path.display(), e));
    let names = checkpoint.names.expect("the example saves named weights");
    assert_eq!(names, ["w1", "b1", "w2", "b2", "w3", "b3"]);
    names.into_iter().zip(checkpoint.arrays.iter().map(|a| a.to_vec::<f32>())).collect()
}

fn bits(weights: &[(String, Vec<f32>)]) -> Vec<Vec<u32>> {
    weights.iter().map(|(_, w)| w.iter().map(|v| v.to_bits()).collect()).collect()
}

/// The loss the example printed for each epoch it reported.
fn losses(output: &Output) -> Vec<f64> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split("loss ").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap().parse().unwrap())
        .collect()
}

/// Two ranks, each on half of every batch, end with the same weights to the bit, whether the
/// gradients are reduced from backward's hooks or after it; and they train the model that
/// one process trains on the whole batch, up to the order of float32 additions.
#[test]
fn two_ranks_agree_bit_for_bit_and_with_one_process() {
    let dir = tempfile_dir("agree");
    let epochs = "60";
    let limit = Duration::from_secs(120);
    let two = dir.join("two");
    let run = mpirun(2, &["--epochs", epochs, "--save", two.to_str().unwrap()], limit);
    assert_success("mpirun -np 2 (hooks)", &run);
    let loss = losses(&run);
    assert!(loss.len() >= 2 && loss[loss.len() - 1] < 0.9 * loss[0], "the loss did not fall: {:?}", loss);

    let after = dir.join("after");
    let run = mpirun(2, &["--epochs", epochs, "--reduce", "after", "--save", after.to_str().unwrap()], limit);
    assert_success("mpirun -np 2 (after backward)", &run);
    let one = dir.join("one");
    let run = mpirun(1, &["--epochs", epochs, "--save", one.to_str().unwrap()], limit);
    assert_success("mpirun -np 1", &run);

    let rank0 = weights(&two, 0);
    assert_eq!(bits(&rank0), bits(&weights(&two, 1)), "the two ranks' weights differ");
    assert_eq!(bits(&rank0), bits(&weights(&after, 0)), "reducing from the hooks and after backward differ");
    for ((name, got), (_, want)) in rank0.iter().zip(weights(&one, 0)) {
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                "{name}[{i}]: two ranks {g}, one process {w}"
            );
        }
    }
}

/// A bad label on one rank: that rank reports the library's error and aborts the job, and
/// mpirun stops the other rank, which was waiting for it in a reduction.
#[test]
fn an_error_on_one_rank_ends_the_job() {
    let output = mpirun(2, &["--epochs", "20", "--bad-label", "1"], Duration::from_secs(60));
    assert!(!output.status.success(), "the job succeeded with a bad label on rank 1");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("rank 1: ad_softmax_cross_entropy") && stderr.contains("AD_ERR_INDEX") && stderr.contains("label 7"),
        "the error does not say which rank failed and why:\n{}",
        stderr
    );
}

/// A fresh directory under cargo's temporary directory for one test.
fn tempfile_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("mpi_{}", name));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the test's directory can be made");
    dir
}
