#!/usr/bin/env bash
# Runs every test of the project on a fresh machine (Debian). Installs what the tests need:
# valgrind for the memcheck runs of the C and C++ harness; cmake and pkg-config for the
# install test; OpenMPI for the data-parallel examples; and two Python virtual environments
# with the package: target/pyenv on this interpreter (numpy, pytest, scikit-learn, matplotlib,
# mpi4py) and target/pyenv-mxnet on Python 3.11 or older (MXNet 1.9.1 needs numpy < 1.24)
# for the tests that compare with MXNet.
set -euo pipefail
cd "$(dirname "$0")/.."

# Installs Debian packages, saying why.
apt_install() {
    local why=$1
    shift
    echo "installing $* ($why)"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

if ! command -v valgrind >/dev/null 2>&1; then
    apt_install "the C and C++ harness runs under memcheck" valgrind
fi
if ! command -v mpicc >/dev/null 2>&1 || ! command -v mpirun >/dev/null 2>&1; then
    apt_install "the data-parallel examples run under mpirun" openmpi-bin libopenmpi-dev
fi

# Rust engine, C and C++ harness (also under valgrind), header staleness; the engine's tests
# again on one thread, since large ops split across threads. Benchmarks are built, not run.
AD_NUM_THREADS=2 cargo test --all-targets
AD_NUM_THREADS=1 cargo test --test gradcheck --test autograd_semantics --test threads --test tutorial
# The math and the gradients again at each lower level of vector instructions (AD_CPU is a
# ceiling: on a CPU without the level, its best runs), so that every kernel this machine can
# run is tested, not only its best.
for level in avx2 portable; do
    AD_CPU=$level cargo test --test elementwise --test gradcheck --test cpu_levels --test fusion
    AD_CPU=$level cargo test --test gradfuzz -- --programs 1000
    AD_CPU=$level AD_FUSE_MIN=1 cargo test --test gradfuzz -- --programs 500
done
# Every element-wise op deferred and fused, from one element on (by default only arrays of
# 65,536 elements or more are), so that the fuzzer and the semantics tests go through fusion,
# with every fused result written around the caches (by default only those past a quarter of
# the last-level cache are).
AD_FUSE_MIN=1 AD_STREAM_MIN=0 cargo test --test gradfuzz -- --programs 2000
AD_FUSE_MIN=1 AD_STREAM_MIN=0 cargo test --test fusion
AD_FUSE_MIN=1 AD_STREAM_MIN=0 cargo test --test autograd_semantics --test gradient_regressions --test gradcheck --test concurrency \
    --test tutorial --test elementwise --test custom --test optim --test checkpoints

# The C and C++ library installed into a temporary prefix, and programs built against it.
./tests/install/run.sh

# Python package: installed as a user would, then its tests run from outside the source tree.
# A venv needs ensurepip, and the C extension Python's headers: Debian packages them apart.
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    apt_install "Python virtual environments" python3-venv
fi
if ! python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
    apt_install "the package's C extension" python3-dev
fi
tests=bindings/python/tests
# The modules that compare with MXNet: those that import it.
mapfile -t mxnet_tests < <(grep -l "import_mxnet(" "$tests"/test_*.py)
skip_mxnet=()
for t in "${mxnet_tests[@]}"; do
    skip_mxnet+=(--ignore="../$t")
done

# Everything else, on this interpreter and the current numpy.
venv=target/pyenv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q --upgrade numpy pytest scikit-learn matplotlib mpi4py
"$venv/bin/pip" install -q --force-reinstall --no-deps ./bindings/python
(cd target && "pyenv/bin/python" -m pytest -q "../$tests" "${skip_mxnet[@]}")
(cd target && AD_FUSE_MIN=1 AD_STREAM_MIN=0 "pyenv/bin/python" -m pytest -q "../$tests" "${skip_mxnet[@]}")

# The comparisons with MXNet 1.9.1, on an interpreter that numpy < 1.24 supports.
mxnet_python=""
for python in python3 python3.11 python3.10 python3.9 python3.8; do
    if command -v "$python" >/dev/null 2>&1 &&
        "$python" -c 'import sys; sys.exit(not (3, 8) <= sys.version_info[:2] <= (3, 11))'; then
        mxnet_python=$python
        break
    fi
done
if [ -z "$mxnet_python" ]; then
    echo "NOT RUN: ${mxnet_tests[*]}: MXNet 1.9.1 needs numpy < 1.24, which needs Python 3.8 to 3.11, and none is installed"
    exit 0
fi
venv=target/pyenv-mxnet
if [ ! -x "$venv/bin/python" ]; then
    "$mxnet_python" -m venv "$venv"
fi
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "numpy<1.24" pytest "mxnet==1.9.1" scipy
"$venv/bin/pip" install -q --force-reinstall --no-deps ./bindings/python
(cd target && "pyenv-mxnet/bin/python" -m pytest -q "${mxnet_tests[@]/#/../}")
