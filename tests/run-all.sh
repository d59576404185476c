#!/usr/bin/env bash
# Runs every test of the project on a fresh machine. Installs what the tests need: valgrind
# for the memcheck run of the C harness, and a Python virtual environment (target/pyenv) with
# the package, numpy, pytest and MXNet 1.9.1 for the differential tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
    echo "installing valgrind (the C harness runs under memcheck)"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq valgrind >/dev/null
fi

# Rust engine, C harness (also under valgrind), header staleness; the engine's tests again on
# one thread, since large ops split across threads.
AD_NUM_THREADS=2 cargo test --all-targets
AD_NUM_THREADS=1 cargo test --test gradcheck --test autograd_semantics --test threads --test tutorial

# Python package: installed as a user would, then its tests run from outside the source tree.
venv=target/pyenv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "numpy<1.24" pytest "mxnet==1.9.1" "scikit-learn<1.4" "matplotlib<3.9"
"$venv/bin/pip" install -q --force-reinstall --no-deps ./bindings/python
(cd target && "pyenv/bin/python" -m pytest -q ../bindings/python/tests)
