"""Data-parallel training with mpi4py: examples/mlp_mpi.py under `mpirun -np 2`. The README's
test command installs OpenMPI and mpi4py when they are missing."""
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from support import ROOT

EXAMPLE = os.path.join(ROOT, "examples", "mlp_mpi.py")


def mpirun(ranks, *args, timeout=300):
    assert shutil.which("mpirun"), "OpenMPI is not installed: the README's test command installs it"
    # As root (containers, CI) OpenMPI must be told that is intended; shared memory without
    # cross-memory attach, which containers often forbid.
    env = dict(os.environ, AD_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none")
    command = ["mpirun", "-np", str(ranks), "--oversubscribe", sys.executable, EXAMPLE] + [str(a) for a in args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def weights(prefix, rank):
    with np.load("%s-rank%d.npz" % (prefix, rank)) as f:
        assert sorted(f.files) == ["b1", "b2", "w1", "w2"]
        return {k: f[k] for k in f.files}


def losses(stdout):
    return [float(m.group(1)) for m in re.finditer(r"loss ([\d.]+)", stdout)]


def test_mpi4py_is_installed():
    import mpi4py  # noqa: F401 - the README's test command installs it


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two epochs on two ranks (hooks, and reducing after backward) and on one process."""
    out = tmp_path_factory.mktemp("mpi")
    results = {}
    for name, ranks, extra in [("hooks", 2, []), ("after", 2, ["--reduce", "after"]), ("one", 1, [])]:
        prefix = str(out / name)
        result = mpirun(ranks, "--epochs", 2, "--save", prefix, *extra)
        assert result.returncode == 0, result.stdout + result.stderr
        results[name] = (prefix, result.stdout)
    return results


def test_two_ranks_end_with_the_same_weights_bit_for_bit(runs):
    prefix, stdout = runs["hooks"]
    rank0, rank1 = weights(prefix, 0), weights(prefix, 1)
    for name in rank0:
        assert rank0[name].tobytes() == rank1[name].tobytes(), name
    after = weights(runs["after"][0], 0)
    for name in rank0:
        assert rank0[name].tobytes() == after[name].tobytes(), "hooks and after backward differ in " + name
    loss = losses(stdout)
    assert len(loss) == 2 and loss[1] < loss[0], stdout


def test_two_ranks_train_what_one_process_trains(runs):
    two, one = weights(runs["hooks"][0], 0), weights(runs["one"][0], 0)
    for name in two:
        np.testing.assert_allclose(two[name], one[name], rtol=1e-4, atol=1e-5, err_msg=name)
    # The weights moved: equality above is not that of two untrained models.
    with np.load(os.path.join(runs["one"][0] + "-rank0.npz")) as f:
        assert np.abs(f["b1"]).max() > 0


def test_an_error_on_one_rank_ends_the_job():
    result = mpirun(2, "--epochs", 2, "--bad-label", 1, timeout=120)
    assert result.returncode != 0, result.stdout
    assert "rank 1: " in result.stderr and "label" in result.stderr, result.stderr
