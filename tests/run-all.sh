#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs what the tests need (valgrind
# for the memcheck run of the C harness), then the Rust, C and header tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
    echo "installing valgrind (the C harness runs under memcheck)"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq valgrind >/dev/null
fi

cargo test --all-targets
