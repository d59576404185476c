"""MXNet 1.9.1's autograd tutorial, with only its import line changed, prints exactly what it
prints under MXNet."""
import os
import subprocess
import sys

from support import ROOT

SCRIPT = os.path.join(ROOT, "examples", "tutorial.py")
EXPECTED = os.path.join(ROOT, "tests", "fixtures", "tutorial-expected-output.txt")


def test_tutorial_script_only_changes_the_import():
    with open(SCRIPT) as f:
        lines = f.read().splitlines()
    assert "from ad import autograd, nd" in lines
    assert not any("mxnet" in line for line in lines if not line.startswith("#"))


def test_tutorial_output_is_byte_identical():
    # Run from a neutral directory so the installed package is imported, not the source tree.
    proc = subprocess.run([sys.executable, SCRIPT], cwd=os.path.dirname(ROOT) or "/",
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    with open(EXPECTED, "rb") as f:
        expected = f.read()
    assert proc.stdout == expected
