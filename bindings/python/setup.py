"""The C extension ad._ext (ad/_ext.c), the per-op path of the binding. The Rust library it
calls, ad/_libad*.so, is built by setuptools-rust as pyproject.toml configures; the extension
does not link against it but looks its functions up at import (ad/_lib.py loads it first).
ad/_ext.c includes the library's C header from the repository's include/."""
import sys

from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "ad._ext",
    sources=["ad/_ext.c"],
    include_dirs=["../../include"],
    depends=["../../include/ad.h"],
    libraries=["dl"] if sys.platform.startswith("linux") else [],
    # a function pointer whose type disagrees with ad.h is an error, not a warning
    extra_compile_args=["-Werror=incompatible-pointer-types"],
)])
