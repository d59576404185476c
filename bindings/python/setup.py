"""The C extension ad._ext (ad/_ext.c), the per-op path of the binding. The Rust library it
calls, ad/_libad*.so, is built by setuptools-rust as pyproject.toml configures; the extension
does not link against it but looks its functions up at import (ad/_lib.py loads it first).
ad/_ext.c includes the library's C header from the repository's include/."""
import os
import sys

from setuptools import Extension, setup
from setuptools_rust import build_rust

HERE = os.path.dirname(os.path.abspath(__file__))

# cargo builds the library for the wheel in target/python: with its own flags (a cdylib
# only) in target/release it and `cargo build --release` would rebuild each other.
os.environ.setdefault("CARGO_TARGET_DIR", os.path.join(HERE, "..", "..", "target", "python"))


class build_rust_with_progress(build_rust):
    """Shows cargo's progress on the terminal. pip keeps a build's output to itself unless
    run with -v, and a first build of the library takes minutes: cargo writes to the
    terminal instead, when there is one."""

    def run(self):
        try:
            tty = os.open("/dev/tty", os.O_WRONLY | os.O_NOCTTY) if not sys.stderr.isatty() else None
        except OSError:  # no terminal: CI, or output already on it
            tty = None
        if tty is None:
            return super().run()
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(tty, 2)
        try:
            return super().run()
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            os.close(tty)


setup(
    cmdclass={"build_rust": build_rust_with_progress},
    ext_modules=[Extension(
        "ad._ext",
        sources=["ad/_ext.c"],
        include_dirs=["../../include"],
        depends=["../../include/ad.h"],
        libraries=["dl"] if sys.platform.startswith("linux") else [],
        # a function pointer whose type disagrees with ad.h is an error, not a warning
        extra_compile_args=["-Werror=incompatible-pointer-types"],
    )],
)
