"""The training example runs as a user would run it, and learns."""
import os
import re
import subprocess
import sys

from support import ROOT


def test_mlp_on_digits_learns_and_plots(tmp_path):
    png = tmp_path / "curves.png"
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "mlp.py"), "--epochs", "30", "--plot", str(png)],
        capture_output=True, text=True, timeout=300, cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    rows = [re.search(r"loss ([\d.]+)\s+train accuracy ([\d.]+)\s+test accuracy ([\d.]+)", line)
            for line in result.stdout.splitlines()]
    rows = [tuple(float(g) for g in m.groups()) for m in rows if m]
    assert len(rows) == 30, result.stdout
    assert rows[-1][0] < rows[0][0] / 5, "the loss did not fall:\n" + result.stdout
    assert rows[-1][2] >= 0.95, "test accuracy below 95%:\n" + result.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
